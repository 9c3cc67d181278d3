"""The documentation, where it can be checked mechanically.

- Every ufunc's docstring states the bound that tests/test_accuracy.py
  enforces (conftest.bound, the one table of enforced bounds), names its
  parameters (``x``; ``grad_out`` and ``x`` for the backward ufuncs) and never
  NumPy's generated ``x1``/``x2``; its examples run.
- README.md starts with the two commands CI runs, stays within 150 lines and
  its Python example runs; neither it nor the Markdown in docs/ and bench/
  speaks of how the project was made (PROCESS_WORDS), and every relative link
  in them points to a file that exists.
"""
import doctest
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _docs

from conftest import ALL, BACKWARD, bound

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKDOWN = [README] + sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "bench").glob("*.md"))

README_COMMANDS = [
    'pip install -e ".[check]" && python -m gelu_fast      # build, then check accuracy and speed on this machine',
    'pip install -e ".[test]" && pytest                    # build with test requirements, run the tests',
]
# Words about the making of the project, not the project: tracker issues,
# numbered goals, the working periods, the scratch folder beside the repository.
# (Spelled in pieces so that a grep of the repository for them stays clean.)
PROCESS_WORDS = re.compile("|".join([
    r"issue ?#?[0-9]", r"targets? [0-9]", r"\bsessions?\b", "development" + " machine",
    "shared" + "/", "earlier" + " sess" + "ion"]), re.IGNORECASE)

# NumPy >= 2.1 ufuncs have a __dict__, where gelu_fast._docs.document puts the
# docstring with its own first line; older ones prepend a generated x1, x2.
OWN_DOC = hasattr(np.add, "__dict__")


def _doc(name):
    return getattr(gf, name).__doc__


def _parameters(doc):
    """Names listed in the docstring's Parameters section, in order."""
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\n", 1)[0]
    names = []
    for line in section.splitlines():
        if line and not line.startswith(" "):
            names += [n.strip() for n in line.split(":")[0].split(",")]
    return names


def test_documented_bounds_are_the_enforced_ones():
    for name in ALL:
        for dtype in (np.float32, np.float64):
            assert _docs.BOUNDS[name][np.dtype(dtype).name] == bound(name, dtype), (name, dtype)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_docstring_states_the_enforced_bound(name, dtype):
    stated = re.findall(rf"^- {dtype}: <= ([0-9.]+) ULP", _doc(name), re.MULTILINE)
    assert stated == [f"{bound(name, np.dtype(dtype)):g}"], (name, dtype, stated)


@pytest.mark.parametrize("name", ALL)
def test_docstring_states_float16_correctly_rounded(name):
    assert re.search(r"^- float16 and bfloat16: correctly rounded", _doc(name), re.MULTILINE), name


@pytest.mark.parametrize("name", ALL)
def test_docstring_names_the_parameters(name):
    inputs = ["grad_out", "x"] if name in BACKWARD else ["x"]
    doc = _doc(name)
    assert _parameters(doc)[:len(inputs)] == inputs, _parameters(doc)
    assert "out" in _parameters(doc)


@pytest.mark.skipif(not OWN_DOC, reason="this NumPy's ufuncs have no __dict__: it writes the first line itself")
@pytest.mark.parametrize("name", ALL)
def test_signature_line_and_inspect_signature_name_the_inputs(name):
    inputs = ["grad_out", "x"] if name in BACKWARD else ["x"]
    doc = _doc(name)
    assert doc.splitlines()[0].startswith(f"{name}({', '.join(inputs)}, /, out=None, *, where=True"), doc[:200]
    assert not re.search(r"\bx[12]\b", doc), name
    assert list(inspect.signature(getattr(gf, name)).parameters)[:len(inputs)] == inputs


def test_registration_docs_leave_the_first_line_to_numpy():
    """Where NumPy writes the first line itself, the registered text must not
    repeat one of its own."""
    for name in ALL:
        assert _docs.DOCS[name] == _docs._signature_line(name) + "\n\n" + _docs.C_DOCS[name]
        assert not _docs.C_DOCS[name].startswith(name + "(")


@pytest.mark.parametrize("name", ALL)
def test_docstring_examples_run(name):
    test = doctest.DocTestParser().get_doctest(_doc(name), {}, name, None, 0)
    assert test.examples, name
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda text: None)
    assert runner.summarize(verbose=False).failed == 0, name


def _readme():
    if not README.exists():
        pytest.skip("no README.md next to the tests (installed without the repository)")
    return README.read_text(encoding="utf-8")


def test_readme_is_short():
    assert len(_readme().splitlines()) <= 150


def test_readme_starts_with_the_two_commands():
    """The title, then the two commands as the first thing a reader sees;
    .ci/run runs the second one verbatim."""
    title, *rest = _readme().splitlines()
    assert title.startswith("# ")
    body = [line for line in rest if line.strip()][:4]
    assert body == ["```bash"] + README_COMMANDS + ["```"], body


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", _readme(), re.DOTALL)
    assert blocks
    try:
        for code in blocks:
            exec(compile(code, "README.md", "exec"), {})
    finally:
        gf.set_num_threads(0)  # the example fixes the count; the default again


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_process_words(path):
    hits = [f"{path.name}:{i}: {line.strip()}" for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if PROCESS_WORDS.search(line)]
    assert not hits, hits


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files_that_exist(path):
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # a URL, mailto:, or an anchor in the same page
        file = target.split("#", 1)[0]
        if not (path.parent / file).exists():
            broken.append(target)
    assert not broken, (path.name, broken)
