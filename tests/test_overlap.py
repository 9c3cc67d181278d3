"""out= overlapping an input: results identical to the call on copies.

NumPy passes an output that lags its input in memory (out = x shifted down by
a few elements) to the loop without copying it, trusting the loop to read each
element before it writes the ones below it; an output that leads its input it
copies first.  A loop split across threads must keep that promise at every
chunk boundary, and every tier at every block it holds back.  So: every ufunc
and dtype, shifts around the tiers' block and chunk sizes and around the
thread split's chunk boundaries, both directions, 1, 2 and 3 threads, arrays
of a million elements whose values meet every tier (standard normal, tails,
saturation, specials), each call repeated so that a race would show.
GELU_FAST_OVERLAP_N sets the length (the sanitizer build, 20x slower, runs a
shorter one).
"""
import functools
import os

import numpy as np
import pytest

import gelu_fast as gf

from conftest import ALL

N = int(os.environ.get("GELU_FAST_OVERLAP_N", 1_000_000))
REPEATS = 3
THREADS = (1, 2, 3)
needs_openmp = pytest.mark.skipif(not gf.info()["openmp"], reason="built without OpenMP")


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    gf.set_num_threads(0)


@functools.lru_cache(maxsize=None)
def _values(dtype, n):
    """Mostly standard normal, with every tenth element from the tails, the
    saturated ranges and the special values, so every tier runs."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(n)
    wide = rng.uniform(-40, 40, n)
    x = np.where(rng.random(n) < 0.1, wide, x)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-310, 1e300])
    x[rng.integers(0, n, 2000)] = rng.choice(specials, 2000)
    with np.errstate(over="ignore"):  # 1e300 becomes inf in float16 and float32
        x = x.astype(dtype)
    x.flags.writeable = False
    return x


def values(dtype, n):
    """n elements of the same values, for every shift (read-only)."""
    return _values(np.dtype(dtype), max(n, 2 * N))[:n]


def thread_chunk(n, threads):
    """The thread split's chunk length for n elements (src_c's gf_chunk)."""
    return (-(-n // threads) + 63) // 64 * 64


def shifts(threads):
    out = {1, 7, 16, 1000, 4096, 4095, 4097, 8192 + 1}
    if threads > 1:
        c = thread_chunk(N, threads)
        out |= {c - 1, c, c + 1}
    return sorted(out)


def bitwise(a):
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def wrong_elements(name, dtype, threads, shift, lagging, grad_out_too):
    """Elements that differ from the same call on copies, over REPEATS calls:
    out is the input shifted down (lagging) or up (leading) by `shift`."""
    u = getattr(gf, name)
    base = values(dtype, N + shift)
    x_at, out_at = (slice(shift, None), slice(None, -shift)) if lagging else \
        (slice(None, -shift), slice(shift, None))
    g_other = values(dtype, N)[::-1].copy()
    gf.set_num_threads(threads)
    if u.nin == 1:
        want = u(base[x_at].copy())
    else:
        want = u(base[x_at].copy() if grad_out_too else g_other, base[x_at].copy())
    bad = 0
    for _ in range(REPEATS):
        buf = base.copy()
        args = [buf[x_at]] if u.nin == 1 else [buf[x_at] if grad_out_too else g_other, buf[x_at]]
        u(*args, out=buf[out_at])
        bad += int(np.count_nonzero(bitwise(buf[out_at]) != bitwise(want)))
    return bad


@needs_openmp
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ALL)
def test_out_overlapping_input(name, dtype, threads):
    failures = []
    for shift in shifts(threads):
        for lagging in (True, False):
            for grad_out_too in ((True, False) if getattr(gf, name).nin == 2 else (True,)):
                bad = wrong_elements(name, dtype, threads, shift, lagging, grad_out_too)
                if bad:
                    failures.append((shift, "lagging" if lagging else "leading",
                                     "grad_out overlaps too" if grad_out_too else "x only", bad))
    assert not failures, failures


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("step", [2, -2, 3, -3])
def test_strided_out_overlapping_input(dtype, step):
    """Strided views: interleaved (no element shared, so no copy needed) and
    shifted by three elements (out lagging x), forwards and backwards."""
    n = 3 * N // 2
    for threads in THREADS if gf.info()["openmp"] else (1,):
        gf.set_num_threads(threads)
        for name in ("gelu", "gelu_backward"):
            u = getattr(gf, name)
            for shift in (1, 3 * abs(step)):
                def view(a, start):
                    a = a if step > 0 else a[::-1]
                    return a[start::abs(step)][:(n - shift) // abs(step)]
                want = u(*[view(values(dtype, n), shift).copy()] * u.nin)
                for _ in range(REPEATS):
                    buf = values(dtype, n).copy()
                    out = view(buf, 0)
                    u(*[view(buf, shift)] * u.nin, out=out)
                    assert np.array_equal(bitwise(out), bitwise(want)), (name, threads, shift)


@needs_openmp
def test_in_place_at_every_thread_count():
    """out= the input itself needs no copy (each element is read and stored by
    one thread): the split call gives the same results."""
    x = values(np.float32, N)
    want = gf.gelu(x)
    for threads in THREADS:
        gf.set_num_threads(threads)
        y = x.copy()
        gf.gelu(y, out=y)
        assert np.array_equal(bitwise(y), bitwise(want))
