"""Instruction-set levels: GELU_FAST_ISA picks one at import, info() reports
it, and every level this CPU has computes every function within its bounds,
with the general kernels of every level bit-identical to each other (the
kernels' fma() calls and -ffp-contract=off make them so)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _ufuncs

from conftest import ALL, assert_within_documented_bound, awkward_values, bit_equal, call

LEVELS = gf.info()["isa_available"]


@pytest.fixture(autouse=True)
def restore_level():
    before = gf.info()["isa"]
    yield
    _ufuncs._set_isa(before)


def _info_under(value):
    env = dict(os.environ, GELU_FAST_ISA=value)
    code = "import json, gelu_fast as gf; i = gf.info(); print(json.dumps([i['isa'], i['isa_available']]))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_levels_reported():
    info = gf.info()
    assert info["isa_available"][0] == "baseline"
    assert set(info["isa_available"]) <= {"baseline", "avx2", "avx512"}
    assert info["isa"] in info["isa_available"]
    if info["isa"] == "baseline":  # no tiers at the baseline
        assert info["fast_path"] is None


@pytest.mark.parametrize("value", ["auto", ""] + LEVELS)
def test_environment_picks_the_level(value):
    r = _info_under(value)
    assert r.returncode == 0, r.stderr
    isa, available = eval(r.stdout)  # noqa: S307  (our own JSON list)
    assert available == LEVELS
    assert isa == (value if value not in ("auto", "") else LEVELS[-1])


@pytest.mark.parametrize("value", ["sse9", "AVX-512", "neon"])
def test_environment_refuses_what_cannot_run(value):
    if value in LEVELS:
        pytest.skip("every level runs here")
    r = _info_under(value)
    assert r.returncode != 0
    assert "GELU_FAST_ISA" in r.stderr and repr(value.lower()) in r.stderr
    assert "Traceback" in r.stderr  # an ImportError, not a crash


def test_set_isa_refuses_unknown():
    with pytest.raises(ValueError):
        _ufuncs._set_isa("avx1024")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ALL)
def test_every_level_within_bounds(name, dtype):
    x = awkward_values(dtype)
    g = np.resize(awkward_values(dtype)[::-1], x.size)
    for level in LEVELS:
        _ufuncs._set_isa(level)
        y = call(name, x, g if getattr(gf, name).nin == 2 else None)
        assert_within_documented_bound(name, y, x, g if getattr(gf, name).nin == 2 else None)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_general_kernels_identical_at_every_level(dtype):
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2**63, 200_000, dtype=np.uint64)
    raw = {np.float64: bits.view(np.float64), np.float32: bits.astype(np.uint32).view(np.float32),
           np.float16: bits.astype(np.uint16).view(np.float16)}[dtype]
    x = np.concatenate([raw, awkward_values(dtype), (rng.standard_normal(100_000) * 5).astype(dtype)])
    g = np.resize((rng.standard_normal(1000) * 3).astype(dtype), x.size)
    results = {}
    for level in LEVELS:
        _ufuncs._set_isa(level)
        _ufuncs._set_fast_path(False)  # the general kernels alone at avx512 too
        results[level] = [call(name, x, g if getattr(gf, name).nin == 2 else None) for name in ALL]
    for level in LEVELS[1:]:
        for name, a, b in zip(ALL, results[LEVELS[0]], results[level]):
            assert bit_equal(a, b), (name, level)
