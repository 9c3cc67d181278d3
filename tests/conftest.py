import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _spec as spec

import _reference as ref  # tests/_reference.py, the oracle

# the functions, from the one list of them
FORWARD = spec.names("forward")
GRAD = spec.names("derivative")
BACKWARD = spec.names("backward")
UNARY = FORWARD + GRAD
ALL = spec.names()
FLOATS = [np.float16, np.float32, np.float64]


def default_grad_out(x):
    """The grad_out `call` gives a binary ufunc: 1.5, of x's dtype if float."""
    dtype = np.asarray(x).dtype
    return np.asarray(1.5, dtype=dtype if dtype.kind == "f" else np.float64)


def call(name, x, grad_out=None, **kw):
    """Call ufunc `name` on x (unary) or on (grad_out, x) (binary; grad_out
    defaults to default_grad_out(x))."""
    f = getattr(gf, name)
    if f.nin == 2:
        return f(default_grad_out(x) if grad_out is None else grad_out, x, **kw)
    return f(x, **kw)


def general_kernels(name, x, grad_out=None):
    """call(), with the vector tiers turned off: the general kernels'
    results, at the level in use."""
    from gelu_fast import _ufuncs
    _ufuncs._set_fast_path(False)
    try:
        return call(name, x, grad_out)
    finally:
        _ufuncs._set_fast_path(True)


def around(v, count=3):
    """float32 values next to v on both sides, v included"""
    v = np.float32(v)
    out, up, down = [v], v, v
    for _ in range(count):
        up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(-np.inf))
        out += [up, down]
    return out


def bit_equal(a, b):
    """Same dtype, shape and bits, nans included (the loops pass a nan input
    through unchanged, so even nan payloads must agree)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def awkward_values(dtype, rng=None):
    """Values that stress a kernel: specials, tiny, huge, the tails, random."""
    rng = rng or np.random.default_rng(0)
    fi = np.finfo(dtype)
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.7518, 3.0, -3.0,
         5.6, -5.6, 10.0, -10.0, -13.2, -14.4, -15.0, -20.0, -38.5, -40.0, 40.0,
         float(fi.max), -float(fi.max), float(fi.tiny), -float(fi.tiny),
         float(fi.smallest_subnormal), -float(fi.smallest_subnormal)]
    with np.errstate(over="ignore"):
        out = np.concatenate([np.array(v), rng.standard_normal(200) * 4,
                              rng.uniform(-20, 8, 200)]).astype(dtype)
    return out


@pytest.fixture(params=ALL)
def ufunc_name(request):
    return request.param


@pytest.fixture(params=FLOATS, ids=lambda d: np.dtype(d).name)
def float_dtype(request):
    return request.param


def bound(name, dtype):
    """The bound the docstrings state (ULP), for float32 and float64 results;
    float16 results are correctly rounded."""
    f = spec.BY_NAME[name]
    return float({np.float32: f.bound_f32, np.float64: f.bound_f64}[np.dtype(dtype).type])


def _reference_f64(name, x, grad_out):
    """(value, scale) of ufunc `name` at float64 x, from the float64 references;
    scale is what the ULP is measured in (|value| for the forward functions)."""
    base = name.replace("_backward", "_grad")
    if base in ref.FORWARD_F64:
        value = ref.FORWARD_F64[base](x)
        return value, np.abs(value)
    value, scale = ref.GRAD_F64[base](x)
    if grad_out is not None:
        with np.errstate(all="ignore"):
            value, scale = grad_out * value, np.abs(grad_out) * scale
    return value, scale


def _reference_mp(name, x, grad_out):
    """(value, scale) of ufunc `name` at one float x, from mpmath."""
    base = name.replace("_backward", "_grad")
    if base in ref.FORWARD_MP:
        value = ref.FORWARD_MP[base](x)
        return value, abs(value)
    value, scale = ref.GRAD_MP[base](x)
    if grad_out is not None:
        value, scale = value * grad_out, scale * abs(grad_out)
    return value, scale


def assert_within_documented_bound(name, y, x, grad_out=None, mp_points=8):
    """Results y of ufunc `name` at x (and grad_out, for the backward ufuncs)
    against the independent references of tests/_reference.py, within the
    bounds the docstrings state: float16 correctly rounded, float32 within
    bound() ULP of the float64 reference, float64 within bound() ULP of mpmath
    at `mp_points` of its elements (mpmath is slow).  An infinite grad_out is
    not judged.

    Inputs are cast to y's dtype first, as the ufunc's loop sees them (integer
    inputs included)."""
    y = np.asarray(y)
    dtype = y.dtype
    x = np.broadcast_to(np.asarray(x).astype(dtype), y.shape).ravel()
    g = None
    if name.endswith("_backward"):
        g = np.broadcast_to(np.asarray(grad_out).astype(dtype), y.shape).ravel()
    y = y.ravel()
    x64 = x.astype(np.float64)
    g64 = None if g is None else g.astype(np.float64)
    value, scale = _reference_f64(name, x64, g64)
    with np.errstate(over="ignore"):
        rounded = value.astype(dtype)
    same = (y == rounded) | (np.isnan(y) & np.isnan(rounded))
    if dtype == np.float16:
        ok = same
        if name in ref.FORWARD_F64:  # the sign of zero is part of a forward result
            ok &= (y != 0) | (np.signbit(y) == np.signbit(rounded))
    elif dtype == np.float32:
        ok = same | (ref.ulp_error(y, value, dtype, scale) <= bound(name, dtype))
    else:
        # Non-finite inputs and |x| > 1e150 (where mpmath's erfc fails) have
        # exact results (nan, +-inf, +-0, x, grad_out, ...) that the float64
        # reference gives exactly; the others are sampled against mpmath.
        by_mpmath = np.isfinite(x) & (np.abs(x) < 1e150) & (True if g is None else np.isfinite(g))
        ok = same | by_mpmath
        candidates = np.flatnonzero(by_mpmath)
        for i in candidates[np.linspace(0, candidates.size - 1, min(mp_points, candidates.size)).astype(int)]:
            mp_value, mp_scale = _reference_mp(name, x[i], None if g is None else g[i])
            if np.isfinite(float(mp_value)):
                ok[i] = ref.ulp_error_mp(y[i], mp_value, mp_scale) <= bound(name, dtype)
            else:  # beyond the float64 range: it must overflow
                ok[i] = y[i] == float(mp_value)
    if g is not None:
        # grad_out = +-inf times a derivative that underflows in float64 (the
        # deep tail) is +-inf, but nan by the float64 reference: not judged.
        ok |= np.isinf(g)
    bad = np.flatnonzero(~ok)
    assert not bad.size, (name, dtype.name, "x", x[bad][:5], "grad_out", None if g is None else g[bad][:5],
                          "got", y[bad][:5], "reference", value[bad][:5])
