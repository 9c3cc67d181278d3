#!/usr/bin/env bash
# Rerun the fitting scripts and check that the committed coefficient tables are
# exactly what they print today:
#
#   src_c/fit_coefficients.py  ->  src_c/gf_coefficients.h   (about 20 s on 2 cores)
#   src_c/fit_pieces.py        ->  src_c/gf_pieces.h         (about 50 s on 2 cores)
#
# Each script writes its table into a temporary folder, which is compared byte
# for byte with the committed file (diff -u).  One line per table; on any
# difference the diff is printed and the exit status is 1.  Needs numpy and
# mpmath (the test extra installs both).
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
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
exit "$status"
