"""The type stubs (gelu_fast/__init__.pyi, functional.pyi) and py.typed.

A small user script that touches every public name must pass ``mypy --strict``
against the gelu_fast this interpreter imports (the installed wheel, or the
checkout behind an editable install), with the stubs found; a second script of
deliberate misuses must be reported line by line, so a stub that let anything
through (Any everywhere, a module __getattr__) fails here.  The stubs must also
name what the module has: every name of ``__all__``, and InfoDict's keys and
value types against what ``info()`` returns.
"""
import ast
import inspect
import os
import re
import site
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import gelu_fast as gf
from gelu_fast import _ufuncs
from gelu_fast import functional as F

PKG = Path(gf.__file__).resolve().parent

# Calls every public name; run by mypy --strict and by Python.
GOOD = """\
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

import gelu_fast as gf
from gelu_fast import functional as F

if TYPE_CHECKING:
    from gelu_fast import InfoDict

x: npt.NDArray[np.float32] = np.linspace(-3.0, 3.0, 7, dtype=np.float32)
g = np.full_like(x, 1.5)
out = np.empty_like(x)

for f in (gf.gelu, gf.gelu_tanh, gf.gelu_sigmoid,
          gf.gelu_grad, gf.gelu_tanh_grad, gf.gelu_sigmoid_grad):
    assert f.nin == 1
    f(x, out=out)
for f in (gf.gelu_backward, gf.gelu_tanh_backward, gf.gelu_sigmoid_backward):
    nin: int = f.nin
    assert nin == 2
    f(g, x, out=out)
y = gf.gelu(x)
assert y.shape == x.shape

t = F.gelu(x, approximate="tanh")
s = F.gelu(x, "sigmoid")
e = F.gelu(x)
b = F.gelu_backward(g, x, approximate="tanh")
kept: npt.NDArray[np.float32] = F.gelu(x, out=out)
kept = F.gelu_backward(g, x, "none", out)
assert kept is out

info = gf.info()
simd: str = info["simd"]
fast: str | None = info["fast_path"]
stream: int | None = info["stream_threshold"]
threshold: int = info["parallel_threshold"]
openmp: bool = info["openmp"]
version: str = info["version"]


def threads(d: InfoDict) -> int:
    return d["num_threads"]


gf.set_num_threads(2)
n: int = gf.get_num_threads()
assert n == threads(gf.info())
gf.set_num_threads(0)
names: list[str] = gf.__all__
v: str = gf.__version__
assert v == version
print("ok", simd, fast, stream, threshold, openmp, len(names))
"""

# Each line marked `# E: code` must draw that mypy error, and no other line any.
BAD = """\
import numpy as np
import numpy.typing as npt

import gelu_fast as gf
from gelu_fast import functional as F

x: npt.NDArray[np.float64] = np.zeros(3)
F.gelu(x, approximate="bogus")  # E: call-overload
F.gelu_backward(x, x, "erf")  # E: call-overload
gf.set_num_threads("2")  # E: arg-type
threads: str = gf.get_num_threads()  # E: assignment
gf.info()["simdx"]  # E: typeddict-item
fast: int = gf.info()["fast_path"]  # E: assignment
kept: str = F.gelu(x, out=x)  # E: assignment
gf.gelu_cubic(x)  # E: attr-defined
gf.functional.relu(x)  # E: attr-defined
"""

STUB_NOT_FOUND = re.compile(r"import-untyped|import-not-found|missing library stubs|"
                            r"Cannot find implementation|py\.typed")


def _in_site_packages(path):
    """Whether `path` is a site-packages folder of this interpreter (where mypy
    looks on its own, and refuses MYPYPATH entries)."""
    roots = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    roots += getattr(site, "getsitepackages", list)()
    if site.ENABLE_USER_SITE:
        roots.append(site.getusersitepackages())
    def norm(p):
        return os.path.normcase(str(Path(p).resolve()))
    return any(norm(path) == norm(r) for r in roots if r)


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory):
    """mypy --strict over GOOD and BAD: (output, {file: {line: [codes]}})."""
    pytest.importorskip("mypy", reason="mypy is not installed (it is in the test extra)")
    tmp = tmp_path_factory.mktemp("typing")
    (tmp / "good.py").write_text(GOOD)
    (tmp / "bad.py").write_text(BAD)
    (tmp / "mypy.ini").write_text("[mypy]\n")
    # mypy reads the stubs and never loads the extension, so a sanitizer
    # runtime preloaded for the tests (tests/run_sanitizers.sh) stays out.
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "LD_PRELOAD")}
    if not _in_site_packages(PKG.parent):
        # An editable install reaches the checkout through an import hook,
        # which mypy does not run: point it at the folder that holds the
        # package Python imported.
        env["MYPYPATH"] = str(PKG.parent)
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--config-file", str(tmp / "mypy.ini"), "--cache-dir", str(tmp / "cache"),
         "--show-error-codes", "--no-pretty", "--no-color-output", "good.py", "bad.py"],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    output = r.stdout + r.stderr
    errors = {}
    for m in re.finditer(r"^(\w+)\.py:(\d+): error: .*\[([\w-]+)\]$", output, re.M):
        errors.setdefault(m[1], {}).setdefault(int(m[2]), []).append(m[3])
    return output, errors


def test_mypy_finds_the_stubs(mypy_run):
    output, _ = mypy_run
    assert not STUB_NOT_FOUND.search(output), output


def test_user_script_passes_strict(mypy_run):
    output, errors = mypy_run
    assert "good" not in errors, output
    assert not re.search(r"^good\.py:", output, re.M), output


def test_misuse_is_reported(mypy_run):
    output, errors = mypy_run
    expected = {i: m[1] for i, line in enumerate(BAD.splitlines(), 1)
                if (m := re.search(r"# E: ([\w-]+)$", line))}
    got = errors.get("bad", {})
    assert set(got) == set(expected), output
    for line, code in expected.items():
        assert code in got[line], (line, code, got[line], output)


def test_user_script_runs(tmp_path):
    """The typed script is also plain, working code (the TYPE_CHECKING import
    of InfoDict included)."""
    (tmp_path / "good.py").write_text(GOOD)
    env = dict(os.environ)
    if not _in_site_packages(PKG.parent):  # the same gelu_fast as this process
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PKG.parent), env.get("PYTHONPATH")]))
    r = subprocess.run([sys.executable, "good.py"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok"), r.stdout


def _stub(name):
    return ast.parse((PKG / name).read_text())


def _defined_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):  # re-exported only as "import x as x"
            names.update(a.name for a in node.names if a.asname == a.name)
    return names


def test_stub_files_installed():
    for name in ("py.typed", "__init__.pyi", "functional.pyi"):
        assert (PKG / name).is_file(), PKG / name


def test_stub_names_everything_in_all():
    tree = _stub("__init__.pyi")
    names = _defined_names(tree)
    assert set(gf.__all__) <= names, set(gf.__all__) - names
    assert "__version__" in names
    stub_all = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                    and any(t.id == "__all__" for t in n.targets))
    assert ast.literal_eval(stub_all) == gf.__all__


def test_functional_stub_signatures():
    tree = _stub("functional.pyi")
    public = {n for n, v in vars(F).items() if inspect.isfunction(v) and not n.startswith("_")}
    assert public == {"gelu", "gelu_backward", "bias_gelu", "bias_gelu_backward", "geglu", "geglu_backward"}
    for name in public:
        runtime = list(inspect.signature(getattr(F, name)).parameters)
        overloads = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
        assert overloads, name
        for node in overloads:
            a = node.args
            assert [p.arg for p in a.args + a.kwonlyargs] == runtime, (name, node.lineno)


def _info_dict_fields():
    tree = _stub("__init__.pyi")
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "InfoDict")
    return {n.target.id: ast.unparse(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)}


TYPES = {"str": (str,), "bool": (bool,), "int": (int,), "list[str]": (list,),
         "str | None": (str, type(None)), "int | None": (int, type(None))}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast_path", "no_fast_path"])
def test_info_dict_matches_info(fast_path):
    fields = _info_dict_fields()
    was = _ufuncs._fast_path
    try:
        _ufuncs._set_fast_path(fast_path)
        info = gf.info()
    finally:
        _ufuncs._set_fast_path(was)
    assert set(fields) == set(info)
    for key, annotation in fields.items():
        assert type(info[key]) in TYPES[annotation], (key, annotation, info[key])
        if annotation == "list[str]":
            assert all(type(v) is str for v in info[key]), (key, info[key])
