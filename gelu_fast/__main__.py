"""usage: python -m gelu_fast [info|check|bench|-h|--help]

Prints info() (as JSON), then measures on this machine:
  check (the default): accuracy and speed.
      Always (NumPy and Python's standard library only): special values
      (+-inf, nan, +-0) in float16, float32 and float64; float32 gelu within
      1 ULP of x/2 erfc(-x/sqrt(2)) computed with math.erfc in float64; float64
      gelu within 2 ULP of the same formula in 50-digit decimal arithmetic.
      With SciPy and mpmath (pip install "gelu_fast[check]"): every float32
      kernel against SciPy-based float64 references (gelu within 1 ULP, the
      others within 2) and float64 gelu against mpmath (within 2 ULP).
      Speed: float32 gelu against NumPy's own formula (the tanh
      approximation, NumPy has no erf) and, when installed, SciPy's
      x * ndtr(x); 1M elements, one thread and all threads, interleaved
      repeats, medians.  A few seconds in all.
  bench: a quick speed table (about 15 s), float32 exact gelu in ns per
      element at a few sizes, against SciPy (when installed), the NumPy
      formula, PyTorch (when installed) and np.copyto, the memory floor.
      The full suite is `pytest bench --benchmark-only` in the repository.
  info: info() only.
  -h, --help: this text.

The last line is the verdict: whether every accuracy bound checked held
(`check`), or that none was checked (`info`, `bench`).  Exit status: 0, or 1
when a bound did not hold, 2 for a command line this does not understand.
"""
import decimal
import importlib
import json
import math
import sys

import numpy as np

import gelu_fast as gf
from gelu_fast import _timing

COMMANDS = ("info", "check", "bench")
USAGE = (__doc__ or "usage: python -m gelu_fast [info|check|bench|-h|--help]\n").strip()
HINT = 'pip install "gelu_fast[check]"'


class Checks:
    """The accuracy bounds checked, and those that did not hold."""

    def __init__(self):
        self.count = 0
        self.failed = []
        self.not_run = None  # what was left out, in words

    def bound(self, label, ulp, limit):
        self.count += 1
        if not ulp <= limit:  # nan fails too
            self.failed.append(f"{label} {ulp:.3g} ULP > {limit:g}")

    def exact(self, label, problems):
        self.count += 1
        if problems:
            self.failed.append(f"{label}: " + ", ".join(problems))

    def regions(self, name, regions, limit):
        """One check per region of {region: max ULP}; the line's text."""
        for region, ulp in regions.items():
            self.bound(f"{name} {region}", ulp, limit)
        return "  ".join(f"{k}: {v:.3f}" for k, v in regions.items())


def verdict(checks):
    if checks is None:
        return "verdict: no accuracy checked (run `python -m gelu_fast check`)"
    if checks.failed:
        return "verdict: bounds NOT held: " + "; ".join(checks.failed)
    if checks.not_run:
        return f"verdict: every bound checked held ({checks.count} checks; {checks.not_run})"
    return f"verdict: every bound held ({checks.count} checks)"


# ---- accuracy with NumPy and the standard library only ---------------------

# The regions of docs/accuracy.md (float32), as in tests/_reference.py.
REGIONS = {"core [-3,3]": (-3.0, 3.0), "tail [-13,-3]": (-13.0, -3.0),
           "tail [-19,-13]": (-19.0, -13.0), "positive (3,inf)": (3.0, np.inf)}


def _grid(per_region, seed):
    """Random float32 inputs, uniform within each of REGIONS (up to 1e4)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(lo, min(hi, 1e4), per_region).astype(np.float32)
                           for lo, hi in REGIONS.values()])


def _ulp(r, finfo):
    """The spacing of the format `finfo` at |r| (float64 array), never below
    its smallest subnormal: the ULP of docs/accuracy.md."""
    r = np.abs(np.asarray(r, dtype=np.float64))
    spacing = np.exp2(np.frexp(r)[1].astype(np.float64) - 1 - finfo.nmant)
    return np.maximum(np.where(r == 0, 0.0, spacing), float(finfo.smallest_subnormal))


def _max_ulp_by_region(y, x, r, scale=None):
    """{region: max ULP error} of the float32 results y at inputs x against
    the float64 references r, in float32 ULP of `scale` (|r| by default)."""
    with np.errstate(invalid="ignore"):
        err = np.abs(y.astype(np.float64) - r) / _ulp(r if scale is None else scale, np.finfo(np.float32))
    err = np.where(y == r, 0.0, err)
    return {k: float(np.max(err[(x >= lo) & (x <= hi)])) for k, (lo, hi) in REGIONS.items()}


def _erfc_decimal(z):
    """erfc(z) for a Decimal z, to about the context's precision."""
    if z < 0:
        return 2 - _erfc_decimal(-z)
    root_pi = _PI.sqrt()
    if z < 3:
        # erf(z) = 2/sqrt(pi) exp(-z^2) sum_n (2z^2)^n z / (1*3*...*(2n+1)):
        # positive terms, so only 1 - erf loses digits (5 at most, below 3)
        two_z2, term, total, n = 2 * z * z, z, z, 0
        eps = decimal.Decimal(10) ** -decimal.getcontext().prec
        while term > total * eps:
            n += 1
            term = term * two_z2 / (2 * n + 1)
            total += term
        return 1 - 2 / root_pi * (-z * z).exp() * total
    # erfc(z) = exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...)))),
    # by the modified Lentz method
    tiny = decimal.Decimal(10) ** (-2 * decimal.getcontext().prec)
    eps = decimal.Decimal(10) ** (2 - decimal.getcontext().prec)
    f, c, d, n = z, z, decimal.Decimal(0), 0
    while True:
        n += 1
        a = decimal.Decimal(n) / 2
        d = z + a * d
        c = z + a / c
        d = 1 / (d if d != 0 else tiny)
        c = c if c != 0 else tiny
        f *= c * d
        if abs(c * d - 1) < eps:
            return (-z * z).exp() / root_pi / f


_PI = decimal.Decimal("3.14159265358979323846264338327950288419716939937510582097494459")


def gelu_decimal(x):
    """GELU of the float x, x/2 erfc(-x/sqrt(2)), as a 50-digit Decimal
    (independent of the kernels and of SciPy and mpmath)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        x = decimal.Decimal(float(x))
        return +(x / 2 * _erfc_decimal(-x / decimal.Decimal(2).sqrt()))


def _ulp_error_decimal(y, r):
    """ULP error of the float64 result y against the Decimal reference r."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        spacing = float(_ulp(float(r), np.finfo(np.float64)))
        return float(abs(decimal.Decimal(float(y)) - r) / decimal.Decimal(spacing))


SPECIALS = [(np.inf, np.inf), (-np.inf, -0.0), (np.nan, np.nan), (0.0, 0.0), (-0.0, -0.0)]


def _same(a, b):
    """Equal, nan to nan, and with the sign of a zero."""
    if np.isnan(b):
        return bool(np.isnan(a))
    return bool(a == b and np.signbit(a) == np.signbit(b))


def accuracy_stdlib(checks, per_region=50_000, points64=300):
    print("\naccuracy, references from NumPy and Python's standard library (bound in brackets)")
    shown = " ".join(f"gelu({x!r})={y!r}" for x, y in SPECIALS)
    wrong = []
    for dtype in (np.float16, np.float32, np.float64):
        x = np.array([x for x, _ in SPECIALS], dtype=dtype)
        problems = [f"gelu({a!r}) = {float(b)!r}, not {want!r}"
                    for a, b, (_, want) in zip(x.tolist(), gf.gelu(x), SPECIALS) if not _same(b, want)]
        checks.exact(f"gelu {np.dtype(dtype).name} special values", problems)
        wrong += [np.dtype(dtype).name] if problems else []
    print(f"  special values, float16 float32 float64: {shown}: "
          + (f"NOT exact in {', '.join(wrong)}" if wrong else "exact"))

    x = _grid(per_region, seed=1)
    r = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x.tolist()])
    by_region = _max_ulp_by_region(gf.gelu(x), x, r)
    # math.erfc in float64 is off by a few float64 ULP, times up to 2z^2 + 1
    # (z = x/sqrt(2)) from rounding its argument: below 1e-5 float32 ULP here
    print(f"  gelu float32 [1], {x.size:,} points, against x/2 erfc(-x/sqrt(2)) by math.erfc "
          f"in float64 (its own error < 1e-5 ULP): " + checks.regions("gelu float32", by_region, 1.0))

    xs = np.concatenate([np.linspace(-38, 8, points64), -np.logspace(-20, 1.5, points64 // 3)])
    err64 = max(_ulp_error_decimal(y, gelu_decimal(v)) for y, v in zip(gf.gelu(xs), xs))
    checks.bound("gelu float64 against 50-digit decimal", err64, 2.0)
    print(f"  gelu float64 [2], {xs.size} points in [-38, 8], against x/2 erfc(-x/sqrt(2)) "
          f"in 50-digit decimal arithmetic: max {err64:.3f} ULP")


# ---- accuracy against SciPy and mpmath (the `check` extra) -----------------

def _importable(module):
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _scipy_references(ndtr, expit):
    """float64 references for the float32 kernels from SciPy's ndtr (Phi) and
    expit (the logistic sigmoid), the formulas of tests/_reference.py:
    {name: f(x) = value} for the forward functions and {name: f(x) = (term 1,
    term 2)} for the derivatives, whose value is term 1 + term 2 and whose
    error is measured in ULP of |term 1| + |term 2| (they cross zero).  For
    finite float64 x up to 1e4."""
    k, a, s = math.sqrt(2 / math.pi), 0.044715, 1.702

    def w(x):  # 0.5(1 + tanh(z)) = expit(2z), z = k(x + a x^3)
        return 2 * k * (x + a * x**3)

    forward = {"gelu": lambda x: x * ndtr(x),
               "gelu_tanh": lambda x: x * expit(w(x)),
               "gelu_sigmoid": lambda x: x * expit(s * x)}
    grads = {"gelu_grad": lambda x: (ndtr(x), x * np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))),
             "gelu_tanh_grad": lambda x: (expit(w(x)),
                                          x * expit(w(x)) * expit(-w(x)) * 2 * k * (1 + 3 * a * x * x)),
             "gelu_sigmoid_grad": lambda x: (expit(s * x), s * x * expit(s * x) * expit(-s * x))}
    return forward, grads


def _ulp_error_mp(y, x, mp):
    """ULP error of the float64 result y = gelu(x) against x Phi(x) by mpmath
    (`mp`, at its working precision)."""
    x = mp.mpf(float(x))
    r = x * mp.ncdf(x)
    return float(abs(mp.mpf(float(y)) - r) / float(_ulp(float(r), np.finfo(np.float64))))


def accuracy_reference(checks):
    try:
        import mpmath
        from scipy.special import expit, ndtr
    except ImportError as e:
        missing = [m for m in ("scipy", "mpmath") if not _importable(m)] or [str(e)]
        also = ", speed against SciPy" if "scipy" in missing else ""
        print(f"\nnot run ({' and '.join(missing)} not installed): every float32 kernel against SciPy, "
              f"float64 gelu against mpmath{also}; for them: {HINT}")
        checks.not_run = "those needing SciPy and mpmath not run"
        return
    forward, grads = _scipy_references(ndtr, expit)
    x = _grid(250_000, seed=0)
    x64 = x.astype(np.float64)
    print("\naccuracy, float32, max ULP against SciPy-based float64 references (bound in brackets)")
    for name, f in forward.items():
        limit = 1.0 if name == "gelu" else 2.0
        regions = _max_ulp_by_region(getattr(gf, name)(x), x, f(x64))
        print(f"  {name:18s} [{limit:g}] " + checks.regions(f"{name} float32", regions, limit))
    for name, f in grads.items():
        first, second = f(x64)
        regions = _max_ulp_by_region(getattr(gf, name)(x), x, first + second,
                                     scale=np.abs(first) + np.abs(second))
        print(f"  {name:18s} [2] " + checks.regions(f"{name} float32", regions, 2.0))
    xs = np.concatenate([np.linspace(-38, 8, 600), -np.logspace(-20, 1.5, 200)])
    with mpmath.workdps(40):
        err = max(_ulp_error_mp(y, v, mpmath) for y, v in zip(gf.gelu(xs), xs))
    checks.bound("gelu float64 against mpmath", err, 2.0)
    print(f"  gelu float64 against mpmath, 800 points in [-38, 8]: max {err:.3f} ULP [2]")
    tail = np.array([-6.0, -10.0, -14.0], dtype=np.float32)
    print(f"  gelu({tail.tolist()}) = {gf.gelu(tail).tolist()}  (scipy: "
          f"{(tail.astype(np.float64) * ndtr(tail)).astype(np.float32).tolist()})")


# ---- speed -----------------------------------------------------------------

def threads_note(one, many, threads):
    """A line when `threads` threads were no faster than one (ns/element)."""
    if many > one:
        return (f"  {threads} threads were slower than 1 here ({many:.3f} vs {one:.3f} ns/element): "
                "the machine is busy or has fewer free cores")
    return None


# The contenders timed here, float32 exact gelu into a pre-touched out=, the
# same formulas as those of the benchmark suite (bench/_bench.py).
LABELS = {"gelu_fast": "gelu_fast", "scipy": "SciPy", "numpy": "NumPy formula", "torch": "PyTorch",
          "floor": "memory floor"}


def _gelu_float32(impl, x, out):
    if impl == "gelu_fast":
        return lambda: gf.gelu(x, out=out)
    if impl == "scipy":
        from scipy.special import ndtr
        return lambda: np.multiply(x, ndtr(x), out=out)
    if impl == "numpy":  # the tanh approximation: NumPy has no erf
        c, k, half, one = (np.float32(v) for v in (np.sqrt(2 / np.pi), 0.044715, 0.5, 1))
        return lambda: np.multiply(half * x, one + np.tanh(c * (x + k * x * x * x)), out=out)
    if impl == "torch":
        import torch
        tx, ty = torch.from_numpy(x), torch.from_numpy(out)
        return lambda: torch.nn.functional.gelu(tx, out=ty)
    return lambda: np.copyto(out, x)  # the memory floor: reads and writes, computes nothing


def contender(impl, n, threads):
    """(a callable running `impl` on n standard normal float32 inputs, threads),
    for _timing.interleaved_medians; the callable has run once already."""
    x, _, out = _timing.inputs("gelu", "float32", n)
    run = _gelu_float32(impl, x, out)
    with _timing.use_threads(threads):
        run()
    return run, threads


def speed(n=1_000_000, rounds=15):
    threads = _timing.all_threads() if gf.info()["openmp"] else 1
    baselines = {"NumPy formula": "numpy"}
    if _importable("scipy"):
        baselines["SciPy x*ndtr(x)"] = "scipy"
    contenders = {label: contender(impl, n, 1) for label, impl in baselines.items()}
    contenders["gelu_fast.gelu, 1 thread"] = contender("gelu_fast", n, 1)
    many = f"gelu_fast.gelu, {threads} threads"
    if threads > 1:
        contenders[many] = contender("gelu_fast", n, threads)
    # samples of ~2 ms of back-to-back calls, as bench/targets.py takes them:
    # a 1M call then runs with its arrays in cache, whatever a baseline evicted
    seconds = _timing.interleaved_medians(contenders, rounds, sample_seconds=2e-3)
    ns = {k: t / n * 1e9 for k, t in seconds.items()}
    print(f"\nspeed, float32 gelu, {n:,} elements, medians of {rounds} interleaved rounds"
          " (speed-up: a baseline's time / gelu_fast's)")
    for name, v in ns.items():
        ratios = "" if name in baselines else "".join(
            f"  {ns[b] / v:6.1f}x {b.split()[0]}" for b in baselines)
        print(f"  {name:28s} {v:7.3f} ns/element{ratios}")
    print("  (NumPy formula: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))), the tanh approximation, "
          "NumPy has no erf)")
    if threads > 1:
        note = threads_note(ns["gelu_fast.gelu, 1 thread"], ns[many], threads)
        if note:
            print(note)
    elif not gf.info()["openmp"]:
        print("  built without OpenMP: one thread only")
    else:
        print("  one core is available to this process: no multi-thread figure")


def bench(rounds=7):
    """The quick table: rows (elements, threads), columns implementations."""
    impls = [i for i in LABELS if i not in ("scipy", "torch") or _importable(i)]
    threads = _timing.all_threads() if gf.info()["openmp"] else 1
    rows = [(1_000, 1), (100_000, 1), (1_000_000, 1)] + ([(1_000_000, threads)] if threads > 1 else [])
    contenders = {(impl, n, t): contender(impl, n, t) for n, t in rows for impl in impls}
    seconds = _timing.interleaved_medians(contenders, rounds)
    ratios = [i for i in ("scipy", "torch") if i in impls]
    print(f"\nfloat32 exact gelu, ns per element, medians of {rounds} interleaved rounds")
    print(f"{'elements':>10} {'threads':>7} " + " ".join(f"{LABELS[i]:>13}" for i in impls)
          + "".join(f"{'vs ' + LABELS[i]:>12}" for i in ratios))
    for n, t in rows:
        ns = {i: seconds[(i, n, t)] / n * 1e9 for i in impls}
        print(f"{n:>10,} {t:>7} " + " ".join(f"{ns[i]:>13.3g}" for i in impls)
              + "".join(f"{ns[i] / ns['gelu_fast']:>11.2f}x" for i in ratios))
    print("(NumPy formula: the tanh approximation, NumPy has no erf; memory floor: np.copyto(out, x);"
          " vs X: X's time / gelu_fast's)")
    if threads > 1:
        note = threads_note(seconds[("gelu_fast", 1_000_000, 1)] / 1e6 * 1e9,
                            seconds[("gelu_fast", 1_000_000, threads)] / 1e6 * 1e9, threads)
        if note:
            print(note.strip())
    if "scipy" not in impls:
        print(f"SciPy not installed: no SciPy column ({HINT})")


def usage(file):
    print(USAGE, file=file)


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        usage(sys.stdout)
        return 0
    if len(argv) > 1:
        print(f"expected one command, got {len(argv)}: {' '.join(argv)}\n", file=sys.stderr)
        usage(sys.stderr)
        return 2
    what = argv[0] if argv else "check"
    if what not in COMMANDS:
        print(f"unknown command '{what}'\n", file=sys.stderr)
        usage(sys.stderr)
        return 2
    print(json.dumps(gf.info(), indent=2))
    checks = None
    if what == "check":
        checks = Checks()
        accuracy_stdlib(checks)
        accuracy_reference(checks)
        speed()
    elif what == "bench":
        bench()
    print(verdict(checks))
    return 1 if checks is not None and checks.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
