"""Measure from what size non-temporal stores pay for float32 outputs.

For each size, times gelu (float32, one thread, then all threads) with the fast path's
non-temporal stores forced on and forced off, side by side, with
np.copyto(out, x) (whose large copies stream too) as the memory floor.  The
crossover is where streaming stops costing; src_c/gelu_loops.c's
GF_DEFAULT_STREAM_THRESHOLD is set from it.  Prints ns per element.

    python bench/stream.py
"""
import timeit

import numpy as np

import gelu_fast as gf
from gelu_fast import _ufuncs

NEVER = 1 << 62


def per_call(f, seconds=0.2):
    timer = timeit.Timer(f)
    number = max(1, int(2e-2 / max(min(timer.repeat(3, 1)), 1e-7)))
    repeat = max(5, int(seconds / (number * min(timer.repeat(3, 1)) + 1e-9)))
    return float(np.median(timer.repeat(repeat, number))) / number


def main():
    if not gf.info()["fast_path"]:
        print("no AVX-512 fast path on this machine: nothing to measure")
        return
    try:
        for threads in sorted({1, gf.get_num_threads()}):
            gf.set_num_threads(threads)
            print(f"float32 gelu, {threads} thread(s); ns per element (medians)")
            print(f"{'n':>10} {'stored':>8} {'streamed':>9} {'copyto':>8} {'stored/streamed':>16}")
            sizes()
    finally:
        _ufuncs._set_stream_threshold(0)
        gf.set_num_threads(0)


def sizes():
    for n in [1 << k for k in range(18, 26)]:
        x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
        out = np.empty_like(x)
        out.fill(0)
        times = {}
        for _ in range(3):  # interleaved, so a change in load hits all three
            for name, threshold in (("stored", NEVER), ("streamed", 1)):
                _ufuncs._set_stream_threshold(threshold)
                times.setdefault(name, []).append(per_call(lambda: gf.gelu(x, out=out)))
            times.setdefault("copyto", []).append(per_call(lambda: np.copyto(out, x)))
        t = {k: min(v) * 1e9 / n for k, v in times.items()}
        print(f"{n:>10} {t['stored']:>8.3f} {t['streamed']:>9.3f} {t['copyto']:>8.3f} "
              f"{t['stored'] / t['streamed']:>16.2f}")


if __name__ == "__main__":
    main()
