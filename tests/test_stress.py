"""Stress: many Python threads at once, memory over many calls, and a loop
count beyond 2**31 (in the C loop always; through the ufunc on a real array
with GELU_FAST_HUGE_TEST=1)."""
import ctypes
import gc
import os
import sys
import threading
import time

import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _ufuncs

from conftest import ALL, assert_within_documented_bound, awkward_values, bit_equal, call


def test_eight_threads_calling_every_ufunc():
    """8 Python threads, OpenMP on, shared read-only inputs, for 3 seconds:
    every result checked against the single-threaded one."""
    rng = np.random.default_rng(0)
    small = (rng.standard_normal(3000) * 5).astype(np.float32)
    large = (rng.standard_normal(200_000) * 5).astype(np.float32)
    xs = [small, large, large.astype(np.float64)[:20_000], large.astype(np.float16)]
    expected = {(name, i): call(name, x) for name in ALL for i, x in enumerate(xs)}
    for x in xs:
        x.flags.writeable = False
    stop = time.monotonic() + 3.0
    failures, counts = [], []

    def worker(seed):
        r = np.random.default_rng(seed)
        n = 0
        while time.monotonic() < stop:
            name = ALL[r.integers(len(ALL))]
            i = int(r.integers(len(xs)))
            got = call(name, xs[i])
            if got.tobytes() != expected[(name, i)].tobytes():
                failures.append((name, i))
            n += 1
        counts.append(n)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert not failures, failures[:5]
    assert len(counts) == 8 and min(counts) > 0


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_flat_over_100k_calls():
    x_small = np.linspace(-5, 5, 16, dtype=np.float32)
    x_large = np.linspace(-5, 5, 100_000, dtype=np.float32)
    out = np.empty_like(x_large)
    bad = np.array([1 + 1j])
    read_only = np.zeros(16, np.float32)
    read_only.flags.writeable = False
    # calls that raise at different stages: type resolution, out= checks, broadcasting
    raising = [lambda: gf.gelu(bad), lambda: gf.gelu(x_small, out=read_only),
               lambda: gf.gelu(x_small, out=out), lambda: gf.gelu_backward(x_small, x_small[:3])]

    def burst(n):
        for k in range(n):
            gf.gelu(x_small)
            gf.gelu_backward(x_small, x_small)
            if k % 100 == 0:
                gf.gelu_tanh(x_large, out=out)
            if k % 10 == 0:
                for call_that_raises in raising:
                    try:
                        call_that_raises()
                    except (TypeError, ValueError):
                        pass

    for call_that_raises in raising:
        with pytest.raises((TypeError, ValueError)):
            call_that_raises()
    burst(5_000)  # warm up caches and allocator pools
    gc.collect()
    before = _rss_bytes()
    burst(100_000)
    gc.collect()
    growth = _rss_bytes() - before
    assert growth < 4 << 20, f"resident memory grew by {growth} bytes"


def test_reference_counts_unchanged():
    x = np.linspace(-1, 1, 10)
    out = np.empty_like(x)
    before = sys.getrefcount(x), sys.getrefcount(out)
    for _ in range(1000):
        gf.gelu(x, out=out)
        gf.gelu_sigmoid_backward(x, x, out=out)
    assert (sys.getrefcount(x), sys.getrefcount(out)) == before


@pytest.mark.slow
def test_loop_count_beyond_2_to_the_31():
    """The C loop itself at n = 2**31 + 7 (no 32-bit index anywhere): the input
    has stride 0, the output stride 1 byte, so each float32 store overlaps the
    previous one and only the last lands whole, at byte n - 1.  A count cut to
    32 bits would put the last store elsewhere."""
    lib = ctypes.CDLL(_ufuncs.__file__)
    loop = lib.gf_gelu_sigmoid_f32
    loop.restype = None
    loop.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_ssize_t),
                     ctypes.POINTER(ctypes.c_ssize_t), ctypes.c_void_p]
    n = 2**31 + 7
    x = np.array([1.25], dtype=np.float32)
    out = np.zeros(n + 3, dtype=np.uint8)
    args = (ctypes.c_void_p * 2)(x.ctypes.data, out.ctypes.data)
    dims = (ctypes.c_ssize_t * 1)(n)
    steps = (ctypes.c_ssize_t * 2)(0, 1)
    gf.set_num_threads(1)  # overlapping stores from two threads would race
    try:
        loop(args, dims, steps, None)
    finally:
        gf.set_num_threads(0)
    last = out[n - 1:n + 3].view(np.float32)[0]
    assert last == gf.gelu_sigmoid(x)[0]
    assert out[:n - 1].any()  # the earlier stores happened too


def _available_memory_bytes():
    with open("/proc/meminfo") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["MemAvailable"].split()[0]) * 1024


HUGE_N = 2**31 + 17


@pytest.mark.skipif(os.environ.get("GELU_FAST_HUGE_TEST") != "1",
                    reason="opt-in: GELU_FAST_HUGE_TEST=1 runs gelu on 2**31 + 17 float16 elements "
                           "(9 GB of memory, a minute or two)")
def test_more_than_2_to_the_31_elements_through_the_ufunc():
    """A real float16 array of 2**31 + 17 elements through the public ufunc,
    twice: out= on the default thread count (OpenMP splits a count > 2**31),
    then in place on one thread (a single loop call runs the whole count).
    The two must agree bit for bit everywhere, and the results must be the
    correctly rounded reference at the start, the end, across the 2**31
    boundary and at random places."""
    if not sys.platform.startswith("linux") or _available_memory_bytes() < 10 << 30:
        pytest.skip("needs Linux and 10 GB of available memory")
    period = 65_521  # prime, so the values shift against every power-of-two boundary
    rng = np.random.default_rng(31)
    pattern = np.concatenate([awkward_values(np.float16),
                              rng.uniform(-20, 8, period).astype(np.float16)])[:period]
    x = np.resize(pattern, HUGE_N)  # x[i] = pattern[i % period]
    y = np.empty_like(x)
    assert gf.gelu(x, out=y) is y
    gf.set_num_threads(1)
    try:
        gf.gelu(x, out=x)
    finally:
        gf.set_num_threads(0)
    block = 1 << 26  # compare in blocks: no 2-GB temporary
    for start in range(0, HUGE_N, block):
        assert bit_equal(x[start:start + block], y[start:start + block]), start
    boundary = 2**31
    where = np.concatenate([np.arange(0, 4096), np.arange(boundary - 4096, boundary + 17),
                            np.arange(HUGE_N - 4096, HUGE_N), rng.integers(0, HUGE_N, 1_000_000)])
    assert_within_documented_bound("gelu", y[where], pattern[where % period])
