"""Independent references for the tests (the "slow twin" of every kernel).

Two levels:
- ``*_f64`` functions: NumPy/SciPy in float64, vectorized.  Their error (< 1e-13
  relative) is far below a float32 or float16 ULP, so they judge those dtypes.
  They share no code with src_c/: Phi comes from SciPy's ``ndtr``, the sigmoid
  from SciPy's ``expit``.
- ``*_mp`` functions: mpmath at 40 significant digits, one point at a time, to
  judge float64.

Derivatives return ``(value, scale)`` where scale = |first term| + |second
term|; their error is measured in ULP of the scale (the derivatives cross zero).

``ulp_error`` implements the measure of docs/accuracy.md: |y - r| / ulp(r), where ulp is the
spacing of the result dtype at |r| floored at its smallest subnormal.
"""
import mpmath as mp
import numpy as np
from scipy.special import expit, ndtr

TANH_K = np.sqrt(2.0 / np.pi)
TANH_A = 0.044715
SIGMOID_A = 1.702
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def gelu_f64(x):
    x = _f64(x)
    with np.errstate(invalid="ignore"):
        y = x * ndtr(x)
    return np.where(x == -np.inf, -0.0, y)


def gelu_grad_f64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, -40, 40)  # x * phi(x) at +-inf is 0, not inf * 0
        cdf, xpdf = ndtr(x), xc * np.exp(-0.5 * xc * xc) * _INV_SQRT_2PI
    return cdf + xpdf, np.abs(cdf) + np.abs(xpdf)


def _tanh_w(x):
    return 2.0 * TANH_K * (x + TANH_A * x**3)


def gelu_tanh_f64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        y = x * expit(_tanh_w(x))
    return np.where(x == -np.inf, -0.0, y)


def gelu_tanh_grad_f64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, -40, 40)
        w = _tanh_w(xc)
        s, one_minus_s = expit(w), expit(-w)
        second = xc * s * one_minus_s * 2.0 * TANH_K * (1.0 + 3.0 * TANH_A * xc * xc)
    return s + second, np.abs(s) + np.abs(second)


def gelu_sigmoid_f64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        y = x * expit(SIGMOID_A * x)
    return np.where(x == -np.inf, -0.0, y)


def gelu_sigmoid_grad_f64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, -800, 800)
        s, one_minus_s = expit(SIGMOID_A * xc), expit(-SIGMOID_A * xc)
        second = SIGMOID_A * xc * s * one_minus_s
    return s + second, np.abs(s) + np.abs(second)


FORWARD_F64 = {"gelu": gelu_f64, "gelu_tanh": gelu_tanh_f64, "gelu_sigmoid": gelu_sigmoid_f64}
GRAD_F64 = {"gelu_grad": gelu_grad_f64, "gelu_tanh_grad": gelu_tanh_grad_f64,
            "gelu_sigmoid_grad": gelu_sigmoid_grad_f64}


# ---- mpmath, for float64 ---------------------------------------------------

mp.mp.dps = 40
_MP_K = mp.sqrt(2 / mp.pi)
_MP_A = mp.mpf("0.044715")
_MP_SIG = mp.mpf("1.702")


def _sigma(v):
    return 1 / (1 + mp.exp(-v))


def gelu_mp(x):
    x = mp.mpf(x)
    return x * mp.ncdf(x)


def gelu_grad_mp(x):
    x = mp.mpf(x)
    cdf, xpdf = mp.ncdf(x), x * mp.npdf(x)
    return cdf + xpdf, abs(cdf) + abs(xpdf)


def gelu_tanh_mp(x):
    x = mp.mpf(x)
    return x * _sigma(2 * _MP_K * (x + _MP_A * x**3))


def gelu_tanh_grad_mp(x):
    x = mp.mpf(x)
    s = _sigma(2 * _MP_K * (x + _MP_A * x**3))
    second = x * s * (1 - s) * 2 * _MP_K * (1 + 3 * _MP_A * x * x)
    return s + second, abs(s) + abs(second)


def gelu_sigmoid_mp(x):
    x = mp.mpf(x)
    return x * _sigma(_MP_SIG * x)


def gelu_sigmoid_grad_mp(x):
    x = mp.mpf(x)
    s = _sigma(_MP_SIG * x)
    second = _MP_SIG * x * s * (1 - s)
    return s + second, abs(s) + abs(second)


FORWARD_MP = {"gelu": gelu_mp, "gelu_tanh": gelu_tanh_mp, "gelu_sigmoid": gelu_sigmoid_mp}
GRAD_MP = {"gelu_grad": gelu_grad_mp, "gelu_tanh_grad": gelu_tanh_grad_mp,
           "gelu_sigmoid_grad": gelu_sigmoid_grad_mp}


def ulp_error(y, ref, dtype, scale=None):
    """ULP error of results `y` (of `dtype`) against float64 or mpmath-derived
    references `ref` (float64 arrays; for float64 results pass the exact error
    numerator instead, see ``ulp_error_mp``).  `scale` sets the ULP magnitude
    (defaults to |ref|)."""
    dtype = np.dtype(dtype)
    ref = np.asarray(ref, dtype=np.float64)
    scale = np.abs(ref) if scale is None else np.asarray(scale, dtype=np.float64)
    spacing = _binade_spacing(scale, np.finfo(dtype))
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        err = np.abs(y - ref) / spacing
    return np.where(y == ref, 0.0, err)


def ulp_error_mp(y, ref, scale=None):
    """ULP error of one float64 result `y` against an mpmath value."""
    scale = abs(ref) if scale is None else scale
    spacing = float(_binade_spacing(np.float64(abs(scale)), np.finfo(np.float64)))
    return float(abs(mp.mpf(y) - ref) / spacing)


def _binade_spacing(scale, finfo):
    """The ULP of |scale| in the format `finfo`, continued past its largest
    binade (np.spacing of the largest finite value is inf, which would excuse
    any error there), and never below the smallest subnormal; inf for an
    infinite scale."""
    scale = np.abs(np.asarray(scale, dtype=np.float64))
    exponent = np.frexp(scale)[1].astype(np.float64)  # scale = m 2^exponent, m in [0.5, 1)
    spacing = np.exp2(exponent - 1 - finfo.nmant)
    spacing = np.where(scale == 0, 0.0, np.where(np.isfinite(scale), spacing, np.inf))
    return np.maximum(spacing, float(finfo.smallest_subnormal))


# ---- summaries, for bench/accuracy_peers.py --------------------------------

# The regions of docs/accuracy.md (float32).
REGIONS = {"core [-3,3]": (-3.0, 3.0), "tail [-13,-3]": (-13.0, -3.0),
           "tail [-19,-13]": (-19.0, -13.0), "positive (3,inf)": (3.0, np.inf)}


def float32_grid(per_region=1_000_000, seed=0):
    """Random float32 inputs spread over REGIONS (uniform within each)."""
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(lo, min(hi, 1e4), per_region).astype(np.float32)
             for lo, hi in REGIONS.values()]
    return np.concatenate(parts)


def max_ulp_by_region(y, x, reference_values, dtype=np.float32, scale=None):
    """{region: max ULP error} for results y at inputs x."""
    err = ulp_error(y, reference_values, dtype, scale)
    return {name: float(np.nanmax(err[(x >= lo) & (x <= hi)]))
            for name, (lo, hi) in REGIONS.items() if ((x >= lo) & (x <= hi)).any()}


# ---- bfloat16 ----------------------------------------------------------------

def round_to_bfloat16(values, exact_at=None):
    """float64 `values` rounded once to bfloat16 (nearest, ties to even), as bits.

    A float64 reference can land exactly on a bfloat16 midpoint although the
    true value does not: gelu(x) = x/2 + x^2/sqrt(2 pi) + ... for a tiny x
    loses its second term in float64.  Where `exact_at` is given, each value
    on a midpoint is decided by exact_at(i), the mpmath value at flat index i,
    computed at 400 bits."""
    v = np.asarray(values, dtype=np.float64)
    exponent = np.frexp(v)[1].astype(np.float64)  # |v| = m 2^exponent, m in [0.5, 1)
    quantum = np.exp2(np.maximum(exponent - 8, -133.0))
    with np.errstate(all="ignore"):
        scaled = v / quantum
        r = np.rint(scaled)
        ties = np.flatnonzero(np.abs(scaled - np.trunc(scaled)) == 0.5)
        if exact_at is not None:
            with mp.workprec(400):
                for i in ties:
                    exact = exact_at(i) / mp.mpf(quantum.flat[i])
                    if exact != scaled.flat[i]:
                        r.flat[i] = float(mp.nint(exact))
        bits = np.copysign(r * quantum, v).astype(np.float32).view(np.uint32) >> 16
    return bits.astype(np.uint16)
