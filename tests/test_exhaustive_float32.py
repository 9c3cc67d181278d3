"""Every one of the 2**32 float32 inputs, against the float64 reference.

Marked slow (minutes): the default `pytest` run skips it, `.ci/run` runs it
with `pytest -m slow`.  The inputs are enumerated as bit patterns in chunks of
2**20, split across one process per core; non-finite inputs are covered by
test_accuracy's special-value tests.  Where the AVX-512 fast path runs, the
general kernels are swept again with it turned off, over the inputs the fast
path would otherwise take from them.
"""
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import conftest
from conftest import UNARY

CHUNK = 1 << 20  # keeps temporaries small enough to be reused, not re-mapped


def _fast_range():
    """The fast path's double pieces [low, high) as bit patterns (its float32
    tier lies inside): [+0, high) and [-0, low]."""
    from gelu_fast import _ufuncs
    ranges = _ufuncs._fast_path_ranges()
    if ranges is None:
        return ()
    low, high = (int(np.float32(v).view(np.uint32)) for v in ranges["pieces"])
    return (0, high), (0x80000000, low + 1)


FAST_RANGE = _fast_range()


def _in_fast_range(start):
    return any(lo < start + CHUNK and start < hi for lo, hi in FAST_RANGE)


def _max_ulp_over_range(name, first_chunk, stride, fast_path):
    # Runs in a worker process.  The worker found this module on the path the
    # parent gave it (inherited under fork, passed on under spawn and
    # forkserver), and the oracle, tests/_reference.py, sits next to it.
    import _reference as ref
    import gelu_fast as gf
    from gelu_fast import _ufuncs
    gf.set_num_threads(1)
    _ufuncs._set_fast_path(fast_path)
    f = getattr(gf, name)
    worst, worst_x = 0.0, None
    for start in range(first_chunk * CHUNK, 1 << 32, stride * CHUNK):
        if not fast_path and not _in_fast_range(start):
            continue
        x = np.arange(start, start + CHUNK, dtype=np.uint64).astype(np.uint32).view(np.float32)
        x = x[np.isfinite(x)]
        if x.size == 0:  # a chunk of nan patterns
            continue
        y = f(x)
        if name in ref.FORWARD_F64:
            err = ref.ulp_error(y, ref.FORWARD_F64[name](x), np.float32)
        else:
            value, scale = ref.GRAD_F64[name](x)
            err = ref.ulp_error(y, value, np.float32, scale)
        i = int(np.argmax(err))
        if err[i] > worst:
            worst, worst_x = float(err[i]), float(x[i])
    return worst, worst_x


def max_ulp_over_all_float32(name, fast_path=True):
    workers = max(1, min(os.cpu_count() or 1, 8))
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_max_ulp_over_range, [name] * workers, range(workers), [workers] * workers,
                              [fast_path] * workers))
    return max(parts, key=lambda p: p[0])


def _fast_path_available():
    from gelu_fast import _ufuncs
    on = _ufuncs._fast_path
    available = _ufuncs._set_fast_path(True)
    _ufuncs._set_fast_path(on)
    return available


@pytest.mark.slow
@pytest.mark.parametrize("fast_path", [True, False], ids=["as-built", "general-kernels"])
@pytest.mark.parametrize("name", UNARY)
def test_every_float32_input(name, fast_path):
    bound = conftest.bound(name, np.float32)
    if not fast_path and not _fast_path_available():
        pytest.skip("no AVX-512 fast path on this machine: the as-built sweep covers the general kernels")
    worst, worst_x = max_ulp_over_all_float32(name, fast_path)
    what = "all finite float32 inputs" if fast_path else "the fast path's range, general kernels"
    print(f"\n{name}: max {worst:.4f} ULP over {what} (at x={worst_x!r})")
    assert worst <= bound, (worst, worst_x)
