"""The function list (gelu_fast/_spec.py) is what the package and its build
were made from: every entry a ufunc of its arity, the C list the build wrote
the same table, every function documented in the README."""
import os

import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _spec as spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("f", spec.FUNCTIONS, ids=lambda f: f.name)
def test_every_entry_is_a_ufunc_of_its_arity(f):
    u = getattr(gf, f.name)
    assert isinstance(u, np.ufunc) and u.__name__ == f.name
    assert (u.nin, u.nout) == (f.nin, 1)
    assert u.types == [c * f.nin + "->" + c for c in "efd"]
    assert f.name in gf.__all__
    assert f.forward in spec.names("forward")
    if f.kind != "forward":
        assert f.derivative in spec.names("derivative")


def test_no_other_ufuncs_are_exported():
    exported = {n for n in gf.__all__ if isinstance(getattr(gf, n), np.ufunc)}
    assert exported == set(spec.NAMES)


def test_the_c_list_is_written_from_the_table():
    path = os.path.join(ROOT, "src_c", "gf_functions.h")
    if not os.path.exists(path):
        pytest.skip("not a built source tree")
    with open(path) as f:
        assert f.read() == spec.c_header()


def test_the_readme_names_every_function():
    path = os.path.join(ROOT, "README.md")
    if not os.path.exists(path):
        pytest.skip("no README beside the tests")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    missing = [name for name in spec.NAMES if f"`{name}" not in text and f" {name}`" not in text]
    assert not missing


def test_every_tier_has_its_source_and_a_level():
    from gelu_fast import _ufuncs
    for t in spec.TIERS:
        assert t.isa in _ufuncs.ISA_LEVELS
        assert os.path.exists(os.path.join(ROOT, "src_c", t.source)) or not os.path.exists(os.path.join(ROOT, "src_c"))
    assert len({t.name for t in spec.TIERS}) == len(spec.TIERS)


def test_each_level_runs_the_tiers_the_table_lists_for_it_in_order():
    """At every level this CPU offers, the loops run exactly the table's
    tiers for that level (a level the CPU offers runs all of its tiers), in
    the table's order; turned off, none."""
    from gelu_fast import _ufuncs
    before = _ufuncs.isa()
    try:
        for level in _ufuncs.isa_available():
            _ufuncs._set_isa(level)
            running = {dtype: [t["name"] for t in tiers] for dtype, tiers in _ufuncs._tiers().items()}
            for dtype in ("float32", "float16"):
                listed = [t.name for t in spec.TIERS if t.dtype == dtype and t.isa == level]
                assert running[dtype] == listed, (level, dtype)
            assert (gf.info()["fast_path"] is None) == (not any(running.values()))
            _ufuncs._set_fast_path(False)
            assert not any(_ufuncs._tiers().values()) and gf.info()["fast_path"] is None
            _ufuncs._set_fast_path(True)
    finally:
        _ufuncs._set_isa(before)
