#!/usr/bin/env bash
# Build the source distribution and a wheel from a clean clone of this
# repository (the wheel from the sdist, as `python -m build` does), check what
# the sdist ships, install each alone in a fresh virtual environment and run a
# smoke test from outside the source tree.
#   bash tests/run_dist_check.sh
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$src" "$work/clone"

python3 -m venv "$work/build-env"
"$work/build-env/bin/python" -m pip install --quiet --upgrade pip build
(cd "$work/clone" && "$work/build-env/bin/python" -m build --outdir "$work/dist" . > "$work/build.log" 2>&1) \
    || { tail -40 "$work/build.log"; exit 1; }
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
echo "sdist: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB), wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

# the sdist: every file a build reads, nothing generated or built
listing=$(tar tzf "$sdist" | sed 's|^[^/]*/||')
for need in setup.py pyproject.toml README.md LICENSE gelu_fast/_ufuncs.pyx gelu_fast/__init__.py \
            gelu_fast/_spec.py $(git -C "$work/clone" ls-files "src_c/*.c" "src_c/*.h"); do
    grep -qxF "$need" <<<"$listing" || { echo "sdist lacks $need"; exit 1; }
done
if grep -E '(^gelu_fast/_ufuncs\.c$|^src_c/gf_functions\.h$|\.so$|\.o$|\.pyd$)' <<<"$listing"; then
    echo "sdist ships generated or built files (above)"; exit 1
fi

# the wheel: the extension, the stubs and the licence, no C source
wheel_listing=$("$work/build-env/bin/python" -m zipfile -l "$wheel" | awk '{print $1}')
for need in gelu_fast/__init__.pyi gelu_fast/functional.pyi gelu_fast/py.typed; do
    grep -qxF "$need" <<<"$wheel_listing" || { echo "wheel lacks $need"; exit 1; }
done
grep -q 'dist-info/licenses/LICENSE$' <<<"$wheel_listing" || { echo "wheel lacks the licence"; exit 1; }
if grep -E '\.(c|pyx|h)$' <<<"$wheel_listing"; then echo "wheel ships sources (above)"; exit 1; fi
# only what users import: the benchmark harness and the tests' oracle stay in bench/ and tests/
if grep -E '_(bench|reference)\.py$' <<<"$wheel_listing"; then echo "wheel ships bench or test modules (above)"; exit 1; fi

smoke() {  # $1: what to install
    local env="$work/env-$2"
    python3 -m venv "$env"
    "$env/bin/python" -m pip install --quiet --upgrade pip
    "$env/bin/python" -m pip install --quiet "$1"
    (cd "$work" && "$env/bin/python" - <<'PY'
import math, os
import numpy as np
import gelu_fast as gf
from gelu_fast import _ufuncs
assert "site-packages" in gf.__file__, gf.__file__
x = np.linspace(-8, 8, 4097)
ref = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
for dtype, rtol in ((np.float64, 1e-13), (np.float32, 2e-7)):
    y = gf.gelu(x.astype(dtype)).astype(np.float64)
    assert np.allclose(y, ref, rtol=rtol, atol=1e-40), dtype
big = np.random.default_rng(0).standard_normal(1_000_001).astype(np.float32)
want = gf.gelu(big[1:].copy())
gf.gelu(big[1:], out=big[:-1])  # out= lagging its input, on every thread
assert np.array_equal(big[:-1], want)
size = os.path.getsize(_ufuncs.__file__)
assert size < 2_500_000, f"extension not stripped? {size} bytes"
print(f"smoke test passed: {gf.info()['simd']}, {gf.get_num_threads()} threads, extension {size} bytes")
PY
    )
    # python -m gelu_fast with nothing but NumPy beside it: the checks that need no SciPy, then the verdict
    (cd "$work" && "$env/bin/python" -m gelu_fast > "$work/cli-$2.txt" 2>&1) || { tail -20 "$work/cli-$2.txt"; exit 1; }
    tail -1 "$work/cli-$2.txt" | grep -q '^verdict: every bound checked held' || { tail -20 "$work/cli-$2.txt"; exit 1; }
    tail -1 "$work/cli-$2.txt"
}
echo "from the wheel:" && smoke "$wheel" wheel
echo "from the sdist:" && smoke "$sdist" sdist
