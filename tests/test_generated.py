"""src_c/check_generated.sh, the check that the committed coefficient tables are
what the fitting scripts print, can fail.

Rerunning the scripts takes over a minute (.ci/run does it), so these tests run
only the comparison (--regenerated): the committed headers stand in for a fresh
run, which .ci/run checks they equal, and a copy with one hex digit of one
coefficient altered stands in for a stale committed table."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "src_c" / "check_generated.sh"
HEADERS = ("gf_coefficients.h", "gf_pieces.h")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or not SCRIPT.exists(),
                                reason="needs bash and the source tree")


def check(*args):
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def committed(tmp_path):
    folder = tmp_path / "committed"
    folder.mkdir()
    for name in HEADERS:
        shutil.copy(ROOT / "src_c" / name, folder / name)
    return folder


def test_identical_passes(committed):
    p = check("--committed", committed, "--regenerated", ROOT / "src_c")
    assert p.returncode == 0, p.stdout + p.stderr
    assert [line.split(":")[0] for line in p.stdout.splitlines()] == [str(committed / h) for h in HEADERS]
    assert all(", identical" in line for line in p.stdout.splitlines())


def alter_one_digit(path):
    """Change the last hex digit of the first coefficient in the file."""
    text = path.read_text()
    m = re.search(r"0x1\.[0-9a-f]*([0-9a-f])p", text)
    assert m, path
    digit = m.group(1)
    other = "0" if digit != "0" else "1"
    path.write_text(text[:m.start(1)] + other + text[m.end(1):])
    return m.group(0), m.group(0)[:-2] + other + "p"


@pytest.mark.parametrize("header", HEADERS)
def test_one_altered_digit_fails(committed, header):
    before, after = alter_one_digit(committed / header)
    p = check("--committed", committed, "--regenerated", ROOT / "src_c")
    assert p.returncode == 1, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert f"{committed / header}: given in {ROOT / 'src_c'}, DIFFERENT" in p.stdout
    # the diff names the altered coefficient, as committed and as regenerated
    assert any(line.startswith("-") and after in line for line in lines), p.stdout
    assert any(line.startswith("+") and before in line for line in lines), p.stdout
    # the other table is still reported, and as identical
    other = [h for h in HEADERS if h != header][0]
    assert f"{committed / other}: given in {ROOT / 'src_c'}, identical" in p.stdout


def test_missing_table_fails(committed):
    (committed / HEADERS[1]).unlink()
    p = check("--committed", committed, "--regenerated", ROOT / "src_c")
    assert p.returncode == 1
    assert f"{committed / HEADERS[1]}: missing" in p.stdout


def test_unknown_argument():
    p = check("--no-such-option")
    assert p.returncode == 2
    assert "unknown argument" in p.stderr
