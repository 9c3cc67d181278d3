"""Measure where splitting a call across OpenMP threads starts to pay.

For each size, times gelu (float32, the cheapest kernel) with one thread and
with all threads, the split forced on at every size.  The crossover is where
the parallel time drops below the serial one; src_c/gelu_loops.c's
GF_DEFAULT_PARALLEL_THRESHOLD is set from it.

    python bench/threshold.py
"""
import timeit

import numpy as np

import gelu_fast as gf
from gelu_fast import _ufuncs


def per_call(f, repeat=200):
    timer = timeit.Timer(f)
    number = max(1, int(2e-3 / max(min(timer.repeat(3, 1)), 1e-7)))
    return min(timer.repeat(repeat // 10 + 3, number)) / number


def main():
    nthreads = gf.get_num_threads()
    print(f"threads: {nthreads}; float32 gelu; microseconds per call")
    print(f"{'n':>9} {'1 thread':>10} {f'{nthreads} threads':>10} {'speedup':>8}")
    _ufuncs._set_parallel_threshold(1)
    try:
        for n in [1024 * 2**k for k in range(0, 10)]:
            x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
            out = np.empty_like(x)
            gf.set_num_threads(1)
            t1 = per_call(lambda: gf.gelu(x, out=out))
            gf.set_num_threads(nthreads)
            tn = per_call(lambda: gf.gelu(x, out=out))
            print(f"{n:>9} {t1 * 1e6:>10.2f} {tn * 1e6:>10.2f} {t1 / tn:>8.2f}")
    finally:
        _ufuncs._set_parallel_threshold(0)
        gf.set_num_threads(0)


if __name__ == "__main__":
    main()
