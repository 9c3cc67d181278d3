"""Measure how the output's placement against the input, modulo 4 KiB, sets
the speed of the float32 kernels (4K aliasing).

x starts a 4 KiB page; out starts `distance` bytes after a page start, so
out - x = distance modulo 4096.  A load that follows a store to the same
address bits 0-11 waits for that store's data, so where out lies just above
x a loop that loads each block after storing the one before runs its blocks
one after another.  The float32 tier loads four blocks ahead
(src_c/tier_avx512.c); this prints each kernel's time at every
distance, interleaved (medians), and its ratio to distance 0 (in place has
distance 0 too).  Arrays fall at any distance that is a multiple of the
allocator's alignment (16 bytes for malloc), so a user meets all of them.

    python bench/placement.py [--sizes 1e6 1e7] [--rounds 9]
"""
import argparse

import numpy as np

import gelu_fast as gf

import _bench

DISTANCES = (0, 16, 32, 48, 64, 80, 96, 128, 160, 192, 224, 256, 320, 512, 2048, -64, -16)
PAGE = 4096


def _placed(n, offset_bytes, values=None):
    """n float32 starting `offset_bytes` after a 4 KiB page start"""
    buffer = np.zeros(n + 2 * PAGE // 4, dtype=np.float32)
    start = (-buffer.ctypes.data % PAGE + offset_bytes % PAGE) // 4
    a = buffer[start:start + n]
    if values is not None:
        a[:] = values
    return a


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--functions", nargs="+", default=["gelu", "gelu_grad", "gelu_backward"])
    args = parser.parse_args(argv)
    print(_bench.describe_machine(_bench.machine()))
    print("float32, 1 thread; ns per element (medians of interleaved rounds), and / distance 0")
    for n in (int(s) for s in args.sizes):
        rng = np.random.default_rng(0)
        x = _placed(n, 0, rng.standard_normal(n))
        g = _placed(n, PAGE // 2, rng.standard_normal(n))  # far from both
        for name in args.functions:
            f = getattr(gf, name)
            inputs = (g, x) if f.nin == 2 else (x,)
            contenders = {}
            for d in DISTANCES:
                out = _placed(n, d)
                contenders[d] = ((lambda out=out: f(*inputs, out=out)), 1)
            t = _bench.interleaved_medians(contenders, rounds=args.rounds, sample_seconds=2e-3)
            row = "  ".join(f"{d}: {t[d] / n * 1e9:.3f} ({t[d] / t[0]:.2f})" for d in DISTANCES)
            print(f"n={n:,} {name}, out - x in bytes mod 4096:\n  {row}")


if __name__ == "__main__":
    raise SystemExit(main())
