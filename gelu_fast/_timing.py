"""Timing for ``python -m gelu_fast``, shared with the benchmark scripts in
the repository's bench/ folder (bench/_bench.py builds their contenders).

- ``inputs(function, dtype, n)``: standard normal inputs and an output made
  once, pre-touched and cached, so contenders of one group share them and no
  call pays for allocation or page faults that are not its own.
- ``use_threads(n)``: the thread count for gelu_fast and, if it is imported,
  PyTorch, restored afterwards.
- ``median_time`` and ``interleaved_medians``: seconds per call, medians, with
  the contenders' repeats interleaved so that drift in machine load hits all
  alike (speed claims are ratios measured side by side in one run).

NumPy only: peers are imported by whoever builds their contenders.
"""
import contextlib
import functools
import os
import sys
import time

import numpy as np

import gelu_fast as gf


def all_threads():
    """The cores this process may run on (its affinity mask, not the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@functools.lru_cache(maxsize=4)
def inputs(function, dtype, n):
    """(x, grad_out or None, out): standard normal inputs, out pre-touched.

    Cached, so the contenders of one group share their arrays."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype) if function == "gelu_backward" else None
    out = np.zeros_like(x)
    return x, g, out


@contextlib.contextmanager
def use_threads(n):
    """Run gelu_fast, and PyTorch if it is imported, on n threads; restore after.

    gelu_fast returns to its default (OpenMP's, read at each call): it has no
    getter for a count fixed earlier by set_num_threads."""
    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch else None
    gf.set_num_threads(n)
    if torch:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        gf.set_num_threads(0)
        if torch:
            torch.set_num_threads(torch_before)


def median_time(f, repeats, number=1):
    """Seconds per call of f(): the median over `repeats` samples, each timing
    `number` back-to-back calls (so a microsecond call is not lost in the
    timer's own overhead)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            f()
        times.append((time.perf_counter() - t) / number)
    return float(np.median(times))


def interleaved_medians(contenders, rounds=15, repeats=3, sample_seconds=2e-4):
    """Seconds per call of each contender, `contenders` mapping a key to
    (callable, threads).

    Each round runs every contender in turn (`repeats` samples, their median),
    so a change in machine load hits all of them alike; the result is the
    median over `rounds` rounds."""
    number = {}
    for key, (run, threads) in contenders.items():
        with use_threads(threads):
            number[key] = max(1, int(sample_seconds / max(median_time(run, 3), 1e-9)))
    samples = {key: [] for key in contenders}
    for _ in range(rounds):
        for key, (run, threads) in contenders.items():
            with use_threads(threads):
                samples[key].append(median_time(run, repeats, number[key]))
    return {key: float(np.median(s)) for key, s in samples.items()}
