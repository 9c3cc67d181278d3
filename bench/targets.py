"""gelu_fast against PyTorch, ONNX Runtime, SciPy and np.copyto: the speed
ratios, measured side by side in one process, each against its goal.

Every contender a comparison needs is built once (inputs and outputs
pre-allocated and pre-touched, bench/_bench.py), then timed in interleaved
rounds (medians of medians), so a change in machine load hits numerator and
denominator alike: the two-thread speed-ups (gelu_fast on 1 thread against 2)
and the comparison with np.copyto at 10M in groups of their own, all the others
in one group.  A sample is ~2 ms of back-to-back calls (one call where a call
takes longer), so a 1M-element call runs with its arrays in cache, as a loop
of calls does, whatever the 10M contenders before it in the round evicted;
10M calls stream from memory either way.  Prints each comparison with its
measured ratio and PASS or MISS against its goal, and under the two-thread
speed-up at 10M the time two threads take on inputs that need no arithmetic
(memory's pace, which bounds that speed-up); never fails (exit status 0).
Float32 and one thread unless stated.  Comparisons whose peer is not installed
print "n/a", as do the two-thread ones on a one-core machine.

The comparisons are those of the level the CPU runs natively; --avx2 then
prints the goals at the AVX2 level as well, from a second process started with
gelu_fast and PyTorch held to AVX2 (GELU_FAST_ISA=avx2, ATEN_CPU_CAPABILITY=avx2,
ONEDNN_MAX_CPU_ISA=AVX2, read at import).  Its header says whether that level
was forced on an AVX-512 CPU or is the CPU's own, names the CPU, and gives the
level gelu_fast and PyTorch ran at; ONNX Runtime cannot be held to AVX2 (it
picks its kernels from CPUID).  --avx2-only prints that section alone, in this
process.

    python bench/targets.py [--rounds 15] [--avx2 | --avx2-only]
"""
import argparse
import os
import subprocess
import sys

import numpy as np

import gelu_fast as gf

import _bench

M = 1_000_000


def _key(impl, function="gelu", n=M, threads=1, dtype="float32"):
    return (impl, function, dtype, n, threads)


# The comparisons timed in groups of their own (see measure)
SCALING = ("2 threads over 1, 1M", "2 threads over 1, 10M")
FLOOR = "exact 10M vs np.copyto"


def comparisons(all_threads):
    """(name, description, numerator key, denominator, "<=" or ">=", goal), at
    the CPU's native level.

    The measured value is t(numerator) / t(denominator), or t(numerator) in
    microseconds where the denominator is None; a tuple of keys as the
    denominator stands for the fastest of them.  Speed-ups put the slower
    contender on top and read ">=".
    """
    ts = [
        ("exact 1M vs PyTorch", "gelu_fast time / PyTorch F.gelu time",
         _key("gelu_fast"), _key("torch"), "<=", 1.0),
        (FLOOR, "gelu_fast time / np.copyto(out, x) time",
         _key("gelu_fast", n=10 * M), _key("floor", n=10 * M), "<=", 1.15),
        (f"exact 10M, {all_threads} threads, vs PyTorch", "gelu_fast time / PyTorch time, both on all threads",
         _key("gelu_fast", n=10 * M, threads=all_threads), _key("torch", n=10 * M, threads=all_threads),
         "<=", 1.0),
        ("tanh 1M vs PyTorch", "gelu_fast time / PyTorch time",
         _key("gelu_fast", "gelu_tanh"), _key("torch", "gelu_tanh"), "<=", 0.5),
        ("exact backward 1M vs PyTorch", "gelu_fast time / PyTorch aten.gelu_backward time",
         _key("gelu_fast", "gelu_backward"), _key("torch", "gelu_backward"), "<=", 1.0),
        ("exact 3072, one call", "gelu_fast microseconds per call", _key("gelu_fast", n=3072), None, "<=", 1.5),
        ("exact 1000 vs PyTorch", "gelu_fast time / PyTorch time per call",
         _key("gelu_fast", n=1000), _key("torch", n=1000), "<=", 0.2),
        ("exact 3072 vs PyTorch", "gelu_fast time / PyTorch time per call",
         _key("gelu_fast", n=3072), _key("torch", n=3072), "<=", 0.2),
        ("exact float64 1M vs PyTorch", "gelu_fast time / PyTorch time",
         _key("gelu_fast", dtype="float64"), _key("torch", dtype="float64"), "<=", 0.5),
        ("exact 1M vs SciPy", "speed-up over SciPy x*ndtr(x)", _key("scipy"), _key("gelu_fast"), ">=", 40.0),
    ]
    return ts + _scaling(all_threads, SCALING)


def avx2_comparisons(all_threads):
    """The comparisons at the AVX2 level (gelu_fast and PyTorch both held to
    it), in the form of comparisons()."""
    ts = [
        ("exact 1M vs PyTorch", "gelu_fast time / PyTorch F.gelu time",
         _key("gelu_fast"), _key("torch"), "<=", 0.5),
        ("tanh 1M vs PyTorch, ONNX Runtime", "gelu_fast time / the faster one's time",
         _key("gelu_fast", "gelu_tanh"), (_key("torch", "gelu_tanh"), _key("onnxruntime", "gelu_tanh")),
         "<=", 0.5),
        ("sigmoid 1M vs exact", "gelu_fast gelu_sigmoid time / gelu_fast gelu time",
         _key("gelu_fast", "gelu_sigmoid"), _key("gelu_fast"), "<=", 1.0),
        ("exact backward 1M vs PyTorch", "gelu_fast time / PyTorch aten.gelu_backward time",
         _key("gelu_fast", "gelu_backward"), _key("torch", "gelu_backward"), "<=", 0.5),
        ("exact float64 1M vs PyTorch", "gelu_fast time / PyTorch time",
         _key("gelu_fast", dtype="float64"), _key("torch", dtype="float64"), "<=", 0.5),
        (FLOOR, "gelu_fast time / np.copyto(out, x) time",
         _key("gelu_fast", n=10 * M), _key("floor", n=10 * M), "<=", 1.2),
        ("exact 3072 vs PyTorch", "gelu_fast time / PyTorch time per call",
         _key("gelu_fast", n=3072), _key("torch", n=3072), "<=", 0.15),
        ("exact float16 1M vs float32", "gelu_fast time per element, float16 / float32",
         _key("gelu_fast", dtype="float16"), _key("gelu_fast"), "<=", 1.3),
    ]
    return ts + _scaling(all_threads, SCALING[:1])


def _scaling(all_threads, names):
    """The two-thread speed-ups named (SCALING), or an n/a line on one core."""
    if all_threads < 2:
        return [(SCALING[0], "speed-up of 2 threads over 1: only one usable core", None, None, ">=", 1.8)]
    sizes = {SCALING[0]: M, SCALING[1]: 10 * M}
    return [(name, "speed-up of 2 threads over 1",
             _key("gelu_fast", n=sizes[name]), _key("gelu_fast", n=sizes[name], threads=2), ">=", 1.8)
            for name in names]


def _denominators(t):
    """The denominator keys of comparison t, as a tuple (empty for none)."""
    d = t[3]
    return () if d is None else d if isinstance(d, tuple) and isinstance(d[0], tuple) else (d,)


def _memory_bound(n, threads):
    """gelu_fast.gelu on inputs in [10, 11), where gelu(x) = x in float32: the
    call takes the same path through the library as standard-normal data but
    does no arithmetic, so on two threads it shows what memory allows."""
    x = np.random.default_rng(1).uniform(10, 11, n).astype(np.float32)
    out = np.zeros_like(x)
    with _bench.use_threads(threads):
        gf.gelu(x, out=out)
    return lambda: gf.gelu(x, out=out)


def _contenders(ts):
    keys = {k for t in ts for k in (t[2], *_denominators(t)) if k is not None}
    contenders = {}
    for key in sorted(keys):
        impl, function, dtype, n, threads = key
        if _bench.available(impl):
            run = _bench.build(impl, function, dtype, n, threads)
            if run is not None:  # None: no such function or dtype there
                contenders[key] = (run, threads)
    return contenders


# What the two-thread speed-up at 10M is printed beside: two threads on inputs
# that need no arithmetic (_memory_bound)
MEMORY_PACE = ("memory", 10 * M, 2)


def measure(ts, rounds):
    """{comparison name: {key: seconds per call}}, each group of comparisons
    timed in interleaved rounds of its own."""
    # The two-thread speed-ups compare gelu_fast with itself, so they get a
    # group of their own: the question is what a second thread buys over a run of large calls,
    # where the OpenMP team stays awake.  Between other contenders, each
    # 2-thread sample would also pay for waking the team (~50 us here).
    scaling = [t for t in ts if t[0] in SCALING and t[2] is not None]
    # gelu_fast against np.copyto at 10M in a pair of its own too: the copy
    # is bound by memory bandwidth, so among the others it pays for the dirty lines that the
    # contender before it left in the caches (0.28 ns/element there against
    # 0.245 in the pair), where gelu_fast, bound by arithmetic, hides them;
    # that flattered the ratio by ~15%.  In the pair each call follows the
    # other, and neither leaves dirty lines (both stream their output).
    floor = [t for t in ts if t[0] == FLOOR]
    groups = [scaling, floor, [t for t in ts if t not in scaling and t not in floor]]
    seconds = {}
    for group in groups:
        contenders = _contenders(group)
        if any(t[0] == SCALING[1] for t in group):
            # Next to the two-thread speed-up at 10M, what two threads take where
            # memory alone sets the pace: the same call on inputs that need no arithmetic.
            contenders[MEMORY_PACE] = (_memory_bound(10 * M, 2), 2)
        measured = _bench.interleaved_medians(contenders, rounds=rounds, sample_seconds=2e-3)
        seconds.update({t[0]: measured for t in group})
    return seconds


def report(ts, seconds, why=None):
    """Print each comparison of ts with its value, goal and PASS or MISS, or
    n/a with `why` (by default, the peers it needs that are not installed)."""
    width = max(len(t[0]) for t in ts)
    for t in ts:
        name, text, numerator, denominator, op, bound = t
        measured = seconds.get(name, {})
        missing = [k for k in (numerator, *_denominators(t)) if k is not None and k not in measured]
        if numerator is None or missing:
            peers = sorted({_bench.LABELS[k[0]] for k in missing if k[0] in _bench.REQUIRES})
            reason = why or (f"not installed: {', '.join(peers)}" if peers else "")
            print(f"  {name:{width}s}  {text}: n/a (goal {op} {bound:g}{'; ' + reason if reason else ''})")
            continue
        if denominator is None:
            value, which = measured[numerator] * 1e6, ""
        else:
            fastest = min(_denominators(t), key=measured.get)
            value = measured[numerator] / measured[fastest]
            which = f" [faster: {_bench.LABELS[fastest[0]]}]" if isinstance(denominator[0], tuple) else ""
        holds = value <= bound if op == "<=" else value >= bound
        print(f"  {name:{width}s}  {text}: {value:.3g} (goal {op} {bound:g})  {'PASS' if holds else 'MISS'}{which}")
        if name == SCALING[1] and MEMORY_PACE in measured:
            ns = {k: measured[k] / (10 * M) * 1e9 for k in (numerator, denominator, MEMORY_PACE)}
            print(f"          ns/element: 1 thread {ns[numerator]:.3f}, 2 threads {ns[denominator]:.3f}, and "
                  f"{ns[MEMORY_PACE]:.3f} on 2 threads\n          for inputs that need no arithmetic "
                  f"(x in [10, 11), gelu(x) = x), memory's pace; {bound:g}x asks 2 threads for "
                  f"{ns[numerator] / bound:.3f}")


def _levels():
    """The level gelu_fast and PyTorch run at, in words."""
    levels = _bench.isa_in_use()
    torch = levels["torch"] or "not installed"
    return f"gelu_fast isa={levels['gelu_fast']} ({gf.info()['simd']}), PyTorch CPU capability {torch}"


def native_section(rounds, heading):
    ts = comparisons(_bench.all_threads())
    seconds = measure(ts, rounds)
    if heading:
        print(f"== native level: {_levels()}")
    print(_bench.describe_machine(_bench.machine()))
    print(f"medians of {rounds} interleaved rounds, float32, 1 thread unless stated\n")
    report(ts, seconds)


def avx2_section(rounds):
    """The AVX2 comparisons, in this process: gelu_fast held to AVX2 now,
    PyTorch when it is imported (so it must not be yet)."""
    m = _bench.machine()
    cpu = m["cpu"] + (f", family/model {m['cpu_family_model']}" if m.get("cpu_family_model") else "")
    flags = _bench.cpu_flags()
    ts = avx2_comparisons(_bench.all_threads())
    if "avx2" not in flags or "avx2" not in gf.info()["isa_available"]:
        print(f"== AVX2 level: n/a, this CPU or build has no AVX2 level ({cpu}; gelu_fast offers "
              f"{', '.join(gf.info()['isa_available'])})")
        report(ts, {}, why="no AVX2 level")
        return
    where = "AVX2 level forced on an AVX-512 CPU" if "avx512f" in flags else "native AVX2 CPU"
    _bench.limit_to_avx2()
    seconds = measure(ts, rounds)
    print(f"== {where}: {cpu}")
    print(f"   {_levels()} ({', '.join(f'{k}={v}' for k, v in _bench.AVX2_ENVIRONMENT.items())}); "
          "ONNX Runtime picks its own kernels from CPUID")
    print(_bench.describe_machine(_bench.machine()))
    print(f"medians of {rounds} interleaved rounds, float32, 1 thread unless stated\n")
    report(ts, seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--avx2", action="store_true",
                       help="then the AVX2 comparisons too, from a process held to AVX2")
    which.add_argument("--avx2-only", action="store_true",
                       help="only the AVX2 comparisons, in this process (what --avx2 starts)")
    args = parser.parse_args(argv)

    if args.avx2_only:
        avx2_section(args.rounds)
        return 0
    native_section(args.rounds, heading=args.avx2)
    if args.avx2:
        print(flush=True)
        # A process of its own: PyTorch reads its level at import, and
        # gelu_fast's is held there from import on as well.
        env = dict(os.environ)
        if "avx2" in gf.info()["isa_available"]:
            env.update(_bench.AVX2_ENVIRONMENT)
        rc = subprocess.run([sys.executable, os.path.abspath(__file__), "--avx2-only",
                             "--rounds", str(args.rounds)], env=env).returncode
        if rc:
            print(f"== AVX2 level: n/a, its process exited with status {rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
