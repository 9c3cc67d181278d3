"""python -m gelu_fast [info|check]

Prints info(), then (default, or `check`) measures on this machine:
accuracy of every float32 kernel against SciPy-based float64 references and of
float64 gelu against mpmath, and the speed of float32 gelu against SciPy's
x * ndtr(x) (one thread, 1M elements, interleaved repeats, medians).
Needs scipy and mpmath: pip install "gelu_fast[check]".
"""
import json
import sys
import time

import numpy as np

import gelu_fast as gf


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


def _median_time(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def speed(n=1_000_000, rounds=15):
    from scipy.special import ndtr
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    out = np.empty_like(x)
    out[:] = 0  # pre-touch
    threads = gf.get_num_threads()
    contenders = {
        "scipy x*ndtr(x)": lambda: np.multiply(x, ndtr(x), out=out),
        "gelu_fast.gelu, 1 thread": lambda: gf.gelu(x, out=out),
        f"gelu_fast.gelu, {threads} threads": lambda: gf.gelu(x, out=out),
    }
    samples = {k: [] for k in contenders}
    try:
        for _ in range(rounds):  # interleaved, so drift in machine load hits all alike
            for name, f in contenders.items():
                gf.set_num_threads(1 if "1 thread" in name else 0)
                samples[name].append(_median_time(f, 3))
    finally:
        gf.set_num_threads(0)
    base = np.median(samples["scipy x*ndtr(x)"])
    print(f"\nspeed, float32 gelu, {n:,} elements, medians of {rounds} interleaved rounds")
    for name, s in samples.items():
        t = float(np.median(s))
        print(f"  {name:28s} {t / n * 1e9:7.3f} ns/element   {base / t:6.1f}x scipy")


def main(argv):
    what = argv[0] if argv else "check"
    if what not in ("info", "check"):
        print(__doc__)
        return 2
    print(json.dumps(gf.info(), indent=2))
    if what == "check":
        accuracy()
        speed()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
