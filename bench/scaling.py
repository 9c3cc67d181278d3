"""Measure how the kernels scale with OpenMP threads (the two-thread speed-up and beyond).

For each size and thread count, times float32 gelu (and float32 gelu_grad,
float64 gelu) per call, interleaved across thread counts in rounds, and prints
a Markdown table of ns per element (medians) with the speedup over one thread;
PyTorch's F.gelu at the same thread counts too, when it is installed.

    python bench/scaling.py                       # all usable cores
    python bench/scaling.py --threads 1 2 4 8 16 --sizes 1e5 1e6 1e7 1e8
"""
import argparse
import timeit

import numpy as np

import gelu_fast as gf

from _bench import all_threads, describe_machine, machine


def per_call(f, repeat):
    timer = timeit.Timer(f)
    number = max(1, int(2e-3 / max(min(timer.repeat(2, 1)), 1e-7)))
    return float(np.median(timer.repeat(repeat, number))) / number


def contenders(n):
    rng = np.random.default_rng(0)
    x32 = rng.standard_normal(n).astype(np.float32)
    x64 = x32.astype(np.float64)
    out32, out64 = np.zeros_like(x32), np.zeros_like(x64)
    runs = {
        "gelu f32": (lambda: gf.gelu(x32, out=out32), None),
        "gelu_grad f32": (lambda: gf.gelu_grad(x32, out=out32), None),
        "gelu f64": (lambda: gf.gelu(x64, out=out64), None),
        "copyto f32": (lambda: np.copyto(out32, x32), None),
    }
    try:
        import torch
        t32 = torch.from_numpy(x32)
        t_out = torch.empty_like(t32)
        runs["PyTorch gelu f32"] = (lambda: torch.ops.aten.gelu.out(t32, out=t_out), torch)
    except ImportError:
        pass
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = all_threads()
    default_threads = sorted({t for t in (1, 2, 4, 8, 12, 16, 24, 32, cores) if t <= cores})
    parser.add_argument("--threads", type=int, nargs="+", default=default_threads)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e5, 1e6, 1e7, 1e8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(describe_machine(machine()))
    print()
    for n in (int(s) for s in args.sizes):
        runs = contenders(n)
        times = {(name, t): [] for name in runs for t in args.threads}
        for _ in range(args.rounds):  # interleaved: a change in load hits every thread count
            for t in args.threads:
                gf.set_num_threads(t)
                for name, (run, torch) in runs.items():
                    if torch is not None:
                        torch.set_num_threads(t)
                    times[name, t].append(per_call(run, args.repeat))
        gf.set_num_threads(0)
        print(f"n = {n:,}: ns per element (speedup over 1 thread)")
        print("| " + " | ".join(["threads"] + list(runs)) + " |")
        print("|" + "---|" * (len(runs) + 1))
        for t in args.threads:
            cells = []
            for name in runs:
                ns = float(np.median(times[name, t])) * 1e9 / n
                one = float(np.median(times[name, args.threads[0]])) * 1e9 / n
                cells.append(f"{ns:.3f} ({one / ns:.2f}x)")
            print(f"| {t} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
