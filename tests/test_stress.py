"""Stress: many Python threads at once, memory over many calls, and a loop
count beyond 2**31."""
import ctypes
import gc
import sys
import threading
import time

import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _ufuncs

from conftest import ALL, call


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

    def burst(n):
        for k in range(n):
            gf.gelu(x_small)
            gf.gelu_backward(x_small, x_small)
            if k % 100 == 0:
                gf.gelu_tanh(x_large, out=out)
            if k % 10 == 0:
                try:
                    gf.gelu(bad)
                except TypeError:
                    pass

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
