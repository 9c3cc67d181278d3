"""No slow paths: time per element on awkward inputs relative to the core
range [-3, 3], for every forward kernel and dtype (one thread, interleaved
repeats, medians).  A ratio near 1 means no input class hits a slow path
(PyTorch once had a 150x cliff below -14 from an underflow handler).

    python bench/slow_paths.py
"""
import numpy as np

import gelu_fast as gf
from gelu_fast._timing import median_time

N = 200_000


def inputs(dtype):
    rng = np.random.default_rng(0)
    tiny = np.finfo(dtype).smallest_subnormal
    sub = rng.integers(1, 1000, N) * tiny
    specials = rng.choice(np.array([np.nan, np.inf, -np.inf], dtype=dtype), N)
    return {
        "core [-3,3]": rng.uniform(-3, 3, N),
        "deep tail [-40,-14]": rng.uniform(-40, -14, N),
        "subnormal inputs": sub * rng.choice([-1, 1], N),
        "nan/inf mix": np.where(rng.random(N) < 0.5, specials, rng.uniform(-3, 3, N)),
        "huge |x| > 1e30": rng.choice([-1, 1], N) * 10.0 ** rng.uniform(30, 37, N),
    }


def main():
    gf.set_num_threads(1)
    print("| function | dtype | " + " | ".join(inputs(np.float32)) + " |")
    print("|---|---|" + "---|" * len(inputs(np.float32)))
    for name in ("gelu", "gelu_tanh", "gelu_sigmoid", "gelu_grad"):
        f = getattr(gf, name)
        for dtype in (np.float16, np.float32, np.float64):
            with np.errstate(all="ignore"):
                cases = {k: v.astype(dtype) for k, v in inputs(dtype).items()}
            out = np.empty(N, dtype=dtype)
            samples = {k: [] for k in cases}
            for _ in range(5):  # interleaved
                for k, x in cases.items():
                    samples[k].append(median_time(lambda: f(x, out=out), 3))
            t = {k: np.median(v) / N * 1e9 for k, v in samples.items()}
            core = t["core [-3,3]"]
            cells = [f"{core:.2f} ns"] + [f"{t[k] / core:.2f}x" for k in list(cases)[1:]]
            print(f"| {name} | {np.dtype(dtype).name} | " + " | ".join(cells) + " |")
    gf.set_num_threads(0)


if __name__ == "__main__":
    main()
