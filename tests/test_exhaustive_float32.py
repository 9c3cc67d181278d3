"""Every one of the 2**32 float32 inputs, against the float64 reference,
at every instruction-set level this CPU has.

Marked slow (minutes): the default `pytest` run skips it, `.ci/run` runs it
with `pytest -m slow`.  The inputs are enumerated as bit patterns in chunks of
2**20, split across one process per core; non-finite inputs are covered by
test_accuracy's special-value tests.  Each chunk's reference is computed once
and every variant is checked against it: each level as it runs by default
(with its tiers: the AVX-512 ones at avx512, the AVX2 one at avx2) and, over
the inputs the tiers would take from them, the general kernels with the
tiers turned off, at the best level that has tiers.  The baseline level is
left out: without FMA instructions its fma()
calls go to libm's software fma, ~60x slower, which would take this sweep past
an hour on two cores; its general kernels are the same code as the avx2
level's, and tests/test_isa.py checks them bit-identical on sampled inputs.
"""
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import conftest
from conftest import UNARY

CHUNK = 1 << 20  # keeps temporaries small enough to be reused, not re-mapped


def _tier_ranges():
    """Per level, the float32 inputs its tiers take (the hull of their
    ranges) as bit patterns: [+0, high) and [-0, low]; none for a level
    without tiers."""
    from gelu_fast import _ufuncs
    before, ranges = _ufuncs.isa(), {}
    for level in _ufuncs.isa_available():
        _ufuncs._set_isa(level)
        tiers = _ufuncs._tiers()["float32"]
        if tiers:
            low = min(t["x"][0] for t in tiers)
            high = max(t["x"][1] for t in tiers)
            low_bits, high_bits = (int(np.float32(v).view(np.uint32)) for v in (low, high))
            ranges[level] = ((0, high_bits), (0x80000000, low_bits + 1))
    _ufuncs._set_isa(before)
    return ranges


TIER_RANGES = _tier_ranges()


def _in_tier_range(level, start):
    return any(lo < start + CHUNK and start < hi for lo, hi in TIER_RANGES[level])


def variants():
    """(level, tiers on) pairs the sweep checks: every level as it runs, and
    the general kernels over the tiers' range at the best level that has
    tiers (they are the same code at every level)."""
    from gelu_fast import _ufuncs
    levels = [lvl for lvl in _ufuncs.isa_available() if lvl != "baseline"] or ["baseline"]
    out = [(lvl, True) for lvl in levels]
    tiered = [lvl for lvl in levels if lvl in TIER_RANGES]
    if tiered:
        out.append((tiered[-1], False))
    return out


def _max_ulp_over_range(name, first_chunk, stride, checks):
    # Runs in a worker process.  The worker found this module on the path the
    # parent gave it (inherited under fork, passed on under spawn and
    # forkserver), and the oracle, tests/_reference.py, sits next to it.
    import _reference as ref
    import gelu_fast as gf
    from gelu_fast import _ufuncs
    gf.set_num_threads(1)
    f = getattr(gf, name)
    worst = {check: (0.0, None) for check in checks}
    for start in range(first_chunk * CHUNK, 1 << 32, stride * CHUNK):
        x = np.arange(start, start + CHUNK, dtype=np.uint64).astype(np.uint32).view(np.float32)
        x = x[np.isfinite(x)]
        if x.size == 0:  # a chunk of nan patterns
            continue
        if name in ref.FORWARD_F64:
            value, scale = ref.FORWARD_F64[name](x), None
        else:
            value, scale = ref.GRAD_F64[name](x)
        for level, fast_path in checks:
            if not fast_path and not _in_tier_range(level, start):
                continue  # outside the tiers' range the as-run sweep saw the general kernels
            _ufuncs._set_isa(level)
            _ufuncs._set_fast_path(fast_path)
            err = ref.ulp_error(f(x), value, np.float32, scale)
            i = int(np.argmax(err))
            if err[i] > worst[level, fast_path][0]:
                worst[level, fast_path] = float(err[i]), float(x[i])
    return worst


def max_ulp_over_all_float32(name, checks):
    """{(level, fast path): (max ULP, at x)} over every finite float32 input."""
    workers = max(1, min(os.cpu_count() or 1, 8))
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_max_ulp_over_range, [name] * workers, range(workers), [workers] * workers,
                              [checks] * workers))
    return {check: max((p[check] for p in parts), key=lambda w: w[0]) for check in checks}


@pytest.mark.slow
@pytest.mark.parametrize("name", UNARY)
def test_every_float32_input(name):
    bound = conftest.bound(name, np.float32)
    checks = variants()
    worst = max_ulp_over_all_float32(name, checks)
    failed = []
    for (level, fast_path), (err, at) in worst.items():
        what = (f"{level} level, all finite float32 inputs" if fast_path
                else f"{level} level's general kernels, the tiers' range")
        print(f"\n{name}: max {err:.4f} ULP, {what} (at x={at!r})", end="")
        if not err <= bound:
            failed.append((level, fast_path, err, at))
    print()
    assert not failed, failed
