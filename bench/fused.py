"""The fused ufuncs and bfloat16 against what they replace, side by side in
one process (interleaved rounds, medians; one thread unless stated): a
(512, 3072) float32 FFN activation with a (3072,) bias, GeGLU on two such
halves, and gelu on 1M bfloat16 values against float32.  Prints ratios;
never fails.

    python bench/fused.py [--rounds 9] [--bias-scale 1.0]
"""
import argparse

import numpy as np

import gelu_fast as gf
from gelu_fast import functional as F
from gelu_fast._timing import interleaved_medians

import _bench


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--bias-scale", type=float, default=1.0, help="the bias's standard deviation")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 3072)).astype(np.float32)
    b = (args.bias_scale * rng.standard_normal(3072)).astype(np.float32)
    s, y, t = x + b, np.empty_like(x), np.empty_like(x)
    a2 = rng.standard_normal(x.shape).astype(np.float32)
    cat = np.concatenate([x, a2], axis=1)
    runs = {
        "gelu on the sums": (lambda: gf.gelu(s, out=y), 1),
        "bias_gelu (functional)": (lambda: F.bias_gelu(x, b, out=y), 1),
        "bias_gelu (functional), 2 threads": (lambda: F.bias_gelu(x, b, out=y), 2),
        "gelu(x + b), unfused": (lambda: (np.add(x, b, out=t), gf.gelu(t, out=y)), 1),
        "geglu (ufunc)": (lambda: gf.geglu(x, a2, out=y), 1),
        "geglu (functional, halves of one array)": (lambda: F.geglu(cat, out=y), 1),
        "gelu(a) * b, unfused": (lambda: gf.gelu(x) * a2, 1),
    }
    ml_dtypes = None
    try:
        import ml_dtypes
    except ImportError:
        pass
    m = 1 << 20
    xf = rng.standard_normal(m).astype(np.float32)
    yf = np.empty_like(xf)
    runs["gelu float32, 1M"] = (lambda: gf.gelu(xf, out=yf), 1)
    if ml_dtypes is not None:
        xb = xf.astype(ml_dtypes.bfloat16)
        yb = np.empty_like(xb)
        runs["gelu bfloat16, 1M"] = (lambda: gf.gelu(xb, out=yb), 1)
    t_ = interleaved_medians(runs, rounds=args.rounds, sample_seconds=5e-3)
    print(_bench.describe_machine(_bench.machine()))
    print(f"bias std {args.bias_scale:g}; medians of {args.rounds} interleaved rounds\n")
    for k, v in t_.items():
        print(f"  {k:42s} {v * 1e3:8.3f} ms")
    r = lambda p, q: t_[p] / t_[q]  # noqa: E731
    print()
    print(f"  bias_gelu / gelu on the sums          {r('bias_gelu (functional)', 'gelu on the sums'):.3f}  (goal <= 1.15)")
    print(f"  bias_gelu / unfused                   {r('bias_gelu (functional)', 'gelu(x + b), unfused'):.3f}  (goal <= 0.6)")
    print(f"  bias_gelu, 2 threads over 1           "
          f"{r('bias_gelu (functional)', 'bias_gelu (functional), 2 threads'):.3f}  (goal >= 1.7)")
    print(f"  geglu / unfused                       {r('geglu (ufunc)', 'gelu(a) * b, unfused'):.3f}  (goal <= 0.6)")
    if ml_dtypes is not None:
        print(f"  bfloat16 / float32 per element        {r('gelu bfloat16, 1M', 'gelu float32, 1M'):.3f}  (goal <= 1.3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
