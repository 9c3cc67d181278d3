"""`python -m gelu_fast` as a user runs it, with and without the `check`
extra, and set_num_threads' argument checking."""
import json
import subprocess
import sys

import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import __main__ as cli

# Makes the peers' and the check extra's modules unimportable, then runs the
# package as `python -m gelu_fast` would: what a bare `pip install gelu_fast`
# sees.
BLOCKED = ("scipy", "mpmath", "torch", "onnxruntime", "onnx", "jax")
WITHOUT_EXTRAS = f"""
import runpy, sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None
sys.meta_path.insert(0, Blocker())
sys.argv = ["gelu_fast"] + sys.argv[1:]
runpy.run_module("gelu_fast", run_name="__main__", alter_sys=True)
"""


def run(*args, code=None, cwd=None):
    command = [sys.executable] + (["-c", code] if code else ["-m", "gelu_fast"]) + list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag):
    p = run(flag)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: python -m gelu_fast")
    for command in ("info", "check", "bench"):
        assert command in p.stdout
    assert p.stderr == ""


def test_unknown_command():
    p = run("nonsense")
    assert p.returncode == 2
    assert "unknown command 'nonsense'" in p.stderr
    assert "usage: python -m gelu_fast" in p.stderr
    assert p.stdout == ""
    assert "Traceback" not in p.stderr


def test_too_many_arguments():
    p = run("info", "check")
    assert p.returncode == 2
    assert "usage: python -m gelu_fast" in p.stderr


def test_info_is_json_then_verdict():
    p = run("info")
    assert p.returncode == 0, p.stderr
    *body, last = p.stdout.rstrip("\n").split("\n")
    info = json.loads("\n".join(body))
    assert isinstance(info, dict)
    assert info["version"] == gf.__version__
    assert last == "verdict: no accuracy checked (run `python -m gelu_fast check`)"


def test_check_default(tmp_path):
    p = run(cwd=tmp_path)  # no command: check
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    last = p.stdout.rstrip("\n").split("\n")[-1]
    assert last.startswith("verdict: every bound"), last
    assert "ns/element" in p.stdout


def test_check_without_scipy_or_mpmath(tmp_path):
    p = run(code=WITHOUT_EXTRAS, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert p.stderr == ""
    out = p.stdout
    hints = [line for line in out.splitlines() if 'pip install "gelu_fast[check]"' in line]
    assert len(hints) == 1, hints
    assert "scipy and mpmath not installed" in hints[0]
    assert "special values" in out and "gelu float32 [1]" in out and "gelu float64 [2]" in out
    assert "gelu_fast.gelu, 1 thread" in out and "NumPy formula" in out
    assert "SciPy x*ndtr(x)" not in out
    last = out.rstrip("\n").split("\n")[-1]
    assert last.startswith("verdict: every bound checked held ("), last
    assert "not run" in last


def test_info_without_scipy_or_mpmath():
    p = run("info", code=WITHOUT_EXTRAS)
    assert p.returncode == 0, p.stderr
    assert p.stdout.rstrip("\n").split("\n")[-1].startswith("verdict: no accuracy checked")


def test_failed_bound_gives_verdict_and_exit_1(monkeypatch, capsys):
    exact = gf.gelu

    def off_by_a_few_ulp(x, *args, **kwargs):
        y = exact(x, *args, **kwargs)
        return y * y.dtype.type(1 + 2**-20) if y.dtype == np.float32 else y

    monkeypatch.setattr(gf, "gelu", off_by_a_few_ulp)
    monkeypatch.setattr(cli, "accuracy_reference", lambda checks: None)
    monkeypatch.setattr(cli, "speed", lambda: None)
    assert cli.main(["check"]) == 1
    last = capsys.readouterr().out.rstrip("\n").split("\n")[-1]
    assert last.startswith("verdict: bounds NOT held: gelu float32 core [-3,3] "), last
    assert "ULP > 1" in last


def test_threads_note():
    note = cli.threads_note(0.25, 7.5, 2)
    assert "2 threads were slower than 1 here (7.500 vs 0.250 ns/element)" in note
    assert "busy" in note
    assert cli.threads_note(0.25, 0.15, 2) is None


def test_decimal_reference_against_mpmath():
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        for x in [-38.0, -26.0, -14.5, -6.0, -4.25, -4.2, -3.0, -1.0, -1e-20, 0.5, 2.0, 8.0]:
            want = mp.mpf(x) * mp.ncdf(mp.mpf(x))
            got = mp.mpf(str(cli.gelu_decimal(x)))
            assert abs(got - want) <= abs(want) * mp.mpf("1e-40"), x
    assert cli.gelu_decimal(0.0) == 0


# ---- set_num_threads ---------------------------------------------------------

@pytest.fixture
def default_threads():
    yield
    gf.set_num_threads(0)


@pytest.mark.parametrize("n", [1, 2, np.int64(2), np.int32(1), np.uint8(3), 0],
                         ids=lambda n: f"{type(n).__name__}({n})")
def test_set_num_threads_accepts_integers(n, default_threads):
    gf.set_num_threads(n)
    if n == 0:
        assert gf.get_num_threads() >= 1
    else:
        assert gf.get_num_threads() == (int(n) if gf.info()["openmp"] else 1)


@pytest.mark.parametrize("n", ["2", 1.9, 2.0, np.float64(2.0), True, False, np.True_, None, [2]],
                         ids=repr)
def test_set_num_threads_rejects_non_integers(n, default_threads):
    before = gf.get_num_threads()
    with pytest.raises(TypeError, match="set_num_threads: n must be an int"):
        gf.set_num_threads(n)
    assert gf.get_num_threads() == before


@pytest.mark.parametrize("n", [-1, np.int64(-4), 2**31, 10**30], ids=repr)
def test_set_num_threads_rejects_out_of_range(n, default_threads):
    with pytest.raises(ValueError, match="set_num_threads: n must be"):
        gf.set_num_threads(n)
