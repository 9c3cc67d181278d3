#!/usr/bin/env bash
# Build the extension with AddressSanitizer + UndefinedBehaviorSanitizer in a
# scratch copy of the tree and run the test suite against it (GCC or Clang).
# Any finding aborts the run with a non-zero exit.
#   bash tests/run_sanitizers.sh            (needs the test requirements installed)
set -euo pipefail
# the build requirements (pip installs them only in its isolated build env)
python -m pip install --quiet "Cython>=3" "setuptools>=77" "numpy>=2" wheel
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$work")
cd "$work"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1"
# GF_NO_DISPATCH: ASan's interceptors and ifunc resolvers do not mix well.
GELU_FAST_DEBUG=1 GELU_FAST_EXTRA_CFLAGS="$flags -DGF_NO_DISPATCH" GELU_FAST_EXTRA_LDFLAGS="-fsanitize=address,undefined" \
    python setup.py -q build_ext --inplace
cc="${CC:-gcc}"
runtime="$($cc -print-file-name=libasan.so) $($cc -print-file-name=libubsan.so)"
# detect_leaks=0: CPython itself "leaks" interned objects at exit.
# The multi-process Dask test is skipped: its workers would need the preload too.
# The examples' tests are left to the plain run: they load scikit-learn and
# the tokenizers library, whose own code has no business under this preload.
# The resident-memory test is skipped: ASan's quarantine keeps freed memory
# resident by design (8 MB over its 100 000 calls), so RSS says nothing here.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 LD_PRELOAD="$runtime" \
    python -c "import gelu_fast._ufuncs as u, sys; assert u.__file__.startswith('$work'), u.__file__"
# The out= overlap tests at a tenth of their length: the same shifts and splits.
GELU_FAST_OVERLAP_N=100000 ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 LD_PRELOAD="$runtime" \
    python -m pytest -q -p no:cacheprovider ${GELU_FAST_SANITIZE_TESTS:-tests} -k "not distributed and not memory_flat" \
    --ignore=tests/test_minilm.py --ignore=tests/test_paper_mnist.py
