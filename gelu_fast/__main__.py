"""python -m gelu_fast [info|check|bench]

Prints info(), then measures on this machine:
  check (the default): accuracy of every float32 kernel against SciPy-based
      float64 references and of float64 gelu against mpmath, and the speed of
      float32 gelu against SciPy's x * ndtr(x) (1M elements, one thread and
      all threads, interleaved repeats, medians).  Needs scipy and mpmath:
      pip install "gelu_fast[check]".
  bench: a quick speed table (about 15 s), float32 exact gelu in ns per
      element at a few sizes, against SciPy, the NumPy formula, PyTorch (when
      installed) and np.copyto, the memory floor.  The full suite is
      `pytest bench --benchmark-only` in the repository.
  info: info() only.
"""
import json
import sys

import numpy as np

import gelu_fast as gf
from gelu_fast import _bench


def accuracy():
    from gelu_fast import _reference as ref
    x = ref.float32_grid(per_region=250_000)
    print("\naccuracy, float32, max ULP against the float64 reference (bound in brackets)")
    for name, f in ref.FORWARD_F64.items():
        bound = 1.0 if name == "gelu" else 2.0
        regions = ref.max_ulp_by_region(getattr(gf, name)(x), x, f(x))
        print(f"  {name:18s} [{bound:g}] " + "  ".join(f"{k}: {v:.3f}" for k, v in regions.items()))
    for name, f in ref.GRAD_F64.items():
        value, scale = f(x)
        regions = ref.max_ulp_by_region(getattr(gf, name)(x), x, value, scale=scale)
        print(f"  {name:18s} [2] " + "  ".join(f"{k}: {v:.3f}" for k, v in regions.items()))
    xs = np.concatenate([np.linspace(-38, 8, 600), -np.logspace(-20, 1.5, 200)])
    err = max(ref.ulp_error_mp(y, ref.gelu_mp(v)) for y, v in zip(gf.gelu(xs), xs))
    print(f"  gelu float64 against mpmath, 800 points in [-38, 8]: max {err:.3f} ULP [2]")
    from scipy.special import ndtr
    tail = np.array([-6.0, -10.0, -14.0], dtype=np.float32)
    print(f"  gelu({tail.tolist()}) = {gf.gelu(tail).tolist()}  (scipy: "
          f"{(tail.astype(np.float64) * ndtr(tail)).astype(np.float32).tolist()})")


def speed(n=1_000_000, rounds=15):
    threads = _bench.all_threads()
    contenders = {
        "scipy x*ndtr(x)": (_bench.build("scipy", "gelu", "float32", n, 1), 1),
        "gelu_fast.gelu, 1 thread": (_bench.build("gelu_fast", "gelu", "float32", n, 1), 1),
        f"gelu_fast.gelu, {threads} threads": (_bench.build("gelu_fast", "gelu", "float32", n, threads),
                                               threads),
    }
    # samples of ~2 ms of back-to-back calls, as bench/targets.py takes them:
    # a 1M call then runs with its arrays in cache, whatever SciPy evicted
    seconds = _bench.interleaved_medians(contenders, rounds, sample_seconds=2e-3)
    base = seconds["scipy x*ndtr(x)"]
    print(f"\nspeed, float32 gelu, {n:,} elements, medians of {rounds} interleaved rounds")
    for name, t in seconds.items():
        print(f"  {name:28s} {t / n * 1e9:7.3f} ns/element   {base / t:6.1f}x scipy")


def bench(rounds=7):
    """The quick table: rows (elements, threads), columns implementations."""
    impls = [i for i in ("gelu_fast", "scipy", "numpy", "torch", "floor") if _bench.available(i)]
    threads = _bench.all_threads()
    rows = [(1_000, 1), (100_000, 1), (1_000_000, 1)] + ([(1_000_000, threads)] if threads > 1 else [])
    contenders = {(impl, n, t): (_bench.build(impl, "gelu", "float32", n, t), t)
                  for n, t in rows for impl in impls}
    seconds = _bench.interleaved_medians(contenders, rounds)
    ratios = [i for i in ("scipy", "torch") if i in impls]
    print(f"\nfloat32 exact gelu, ns per element, medians of {rounds} interleaved rounds")
    print(f"{'elements':>10} {'threads':>7} " + " ".join(f"{_bench.LABELS[i]:>13}" for i in impls)
          + "".join(f"{'vs ' + _bench.LABELS[i]:>12}" for i in ratios))
    for n, t in rows:
        ns = {i: seconds[(i, n, t)] / n * 1e9 for i in impls}
        print(f"{n:>10,} {t:>7} " + " ".join(f"{ns[i]:>13.3g}" for i in impls)
              + "".join(f"{ns[i] / ns['gelu_fast']:>11.2f}x" for i in ratios))
    print("(NumPy formula: the tanh approximation, NumPy has no erf; memory floor: np.copyto(out, x);"
          " vs X: X's time / gelu_fast's)")


def main(argv):
    what = argv[0] if argv else "check"
    if what not in ("info", "check", "bench"):
        print(__doc__)
        return 2
    print(json.dumps(gf.info(), indent=2))
    if what == "check":
        accuracy()
        speed()
    elif what == "bench":
        bench()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
