import numpy as np
import pytest

import gelu_fast as gf

FORWARD = ["gelu", "gelu_tanh", "gelu_sigmoid"]
GRAD = ["gelu_grad", "gelu_tanh_grad", "gelu_sigmoid_grad"]
BACKWARD = ["gelu_backward", "gelu_tanh_backward", "gelu_sigmoid_backward"]
UNARY = FORWARD + GRAD
ALL = UNARY + BACKWARD
FLOATS = [np.float16, np.float32, np.float64]


def call(name, x, **kw):
    """Call ufunc `name` on x (unary) or on (grad_out=1.5, x) (binary)."""
    f = getattr(gf, name)
    if f.nin == 2:
        dtype = np.asarray(x).dtype
        grad_out = np.asarray(1.5, dtype=dtype if dtype.kind == "f" else np.float64)
        return f(grad_out, x, **kw)
    return f(x, **kw)


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
