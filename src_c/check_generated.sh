#!/usr/bin/env bash
# Rerun the fitting scripts and check that the committed coefficient tables are
# exactly what they print today:
#
#   src_c/fit_coefficients.py  ->  src_c/gf_coefficients.h   (about 20 s on 2 cores)
#   src_c/fit_pieces.py        ->  src_c/gf_pieces.h         (about 50 s on 2 cores)
#
# (Up to twice that when the cores are shared.)  Each script writes its table
# into a temporary folder, which is compared byte for byte with the committed
# file (diff -u).  One line per table; on any difference the diff is printed,
# with the versions that produced it, and the exit status is 1.  Needs numpy
# and mpmath (the test extra installs both).
#
# Reproducible where: both tables came out identical with numpy 2.0.2 and
# 2.4.6, mpmath 1.3.0 and 1.4.1 (its Python and gmpy2 backends) and NumPy's
# SIMD dispatch on or off.  But the float32 tier of gf_pieces.h
# (GF_FLOAT_PIECES_*) is fitted with numpy.linalg.lstsq, whose last bits
# depend on the BLAS: the committed table is what OpenBLAS's AVX-512 kernels
# (SkylakeX, Cooperlake) give; with its Haswell kernels (AVX2 CPUs, AMD Zen 1-3
# among them), Sandybridge or older ones, 14 or 15 of the tier's 42 rows come
# out different in their last bits (OPENBLAS_CORETYPE=Haswell shows it on an
# AVX-512 machine).  Where the BLAS runs other kernels, this check compares
# gf_pieces.h without the float32 tier's tables, and says so.
#
#   bash src_c/check_generated.sh [--committed DIR] [--regenerated DIR]
#
#   --committed DIR    compare against the headers in DIR instead of src_c/
#   --regenerated DIR  take the fresh headers from DIR instead of running the
#                      scripts: this checks the comparison alone, in no time
#                      (tests/test_generated.py uses it)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python}"

committed="$root/src_c"
regenerated=""
while [ $# -gt 0 ]; do
    case "$1" in
        --committed) committed="${2:?--committed needs a folder}"; shift 2 ;;
        --regenerated) regenerated="${2:?--regenerated needs a folder}"; shift 2 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "check_generated.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

# script that prints the table, and the table's file name
tables=(
    "fit_coefficients.py gf_coefficients.h"
    "fit_pieces.py gf_pieces.h"
)

if [ -z "$regenerated" ]; then
    "$python" -c "import numpy, mpmath" || {
        echo "check_generated.sh: the fitting scripts need numpy and mpmath (pip install -e \".[test]\")" >&2
        exit 2
    }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# the committed file's name as printed: relative to the repository when it is in it
label() {
    case "$1" in
        "$root"/*) echo "${1#"$root"/}" ;;
        *) echo "$1" ;;
    esac
}

# the BLAS kernels the fits run on: the float32 tier's tables reproduce only on
# OpenBLAS's AVX-512 ones
blas_kernels=""
if [ -z "$regenerated" ]; then
    blas_kernels=$("$python" - <<'PY' 2>/dev/null || true
import numpy  # noqa: F401  (loads the BLAS)
import threadpoolctl
print(next((lib.get("architecture") or "") for lib in threadpoolctl.threadpool_info()
           if lib.get("user_api") == "blas"))
PY
)
fi
case "$blas_kernels" in
    SkylakeX|Cooperlake|SapphireRapids|"") float_tier=compared ;;
    *) float_tier=skipped ;;
esac

status=0
for entry in "${tables[@]}"; do
    read -r script header <<<"$entry"
    old="$committed/$header"
    name="$(label "$old")"
    if [ -n "$regenerated" ]; then
        new="$regenerated/$header"
        how="given in $regenerated"
    else
        new="$work/$header"
        start=$SECONDS
        # run from the repository root, as the scripts' docstrings say
        if ! (cd "$root" && "$python" "src_c/$script" >"$new"); then
            echo "$name: src_c/$script failed after $((SECONDS - start)) s"
            status=1
            continue
        fi
        how="regenerated"
        took=" ($((SECONDS - start)) s)"
    fi
    if [ "$header" = gf_pieces.h ] && [ "$float_tier" = skipped ] && [ -f "$old" ] && [ -f "$new" ]; then
        # everything but the float32 tier's tables (#define GF_FLOAT_PIECES_<name> { ... })
        for f in old new; do
            sed '/^#define GF_FLOAT_PIECES_[a-z_]* {/,/^}/d' "${!f}" >"$work/$f.$header"
        done
        old="$work/old.$header" new="$work/new.$header"
        echo "$name: the float32 tier's tables not compared: they reproduce on OpenBLAS's AVX-512" \
             "kernels, and this BLAS runs its $blas_kernels kernels"
    fi
    if [ ! -f "$old" ] || [ ! -f "$new" ]; then
        echo "$name: missing $([ -f "$old" ] && echo "$new" || echo "$old")"
        status=1
    elif diff -u --label "$name (committed)" --label "$name ($how)" "$old" "$new" >"$work/diff"; then
        echo "$name: $how, identical${took:-}"
    else
        echo "$name: $how, DIFFERENT${took:-}; the committed file is not what src_c/$script prints:"
        cat "$work/diff"
        status=1
    fi
done
if [ "$status" -ne 0 ] && [ -z "$regenerated" ]; then
    "$python" - <<'PY' || true
import platform, mpmath, numpy
print(f"(python {platform.python_version()}, numpy {numpy.__version__}, "
      f"mpmath {mpmath.__version__} ({mpmath.libmp.BACKEND} backend)", end="")
try:
    import threadpoolctl
    for lib in threadpoolctl.threadpool_info():
        if lib.get("user_api") == "blas":
            print(f", {lib['internal_api']} {lib['version']} ({lib.get('architecture')} kernels)", end="")
except ImportError:
    pass
print("; the float32 tier of gf_pieces.h depends on the BLAS kernels: see the comment at the top of src_c/check_generated.sh)")
PY
fi
exit "$status"
