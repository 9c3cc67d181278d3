"""Torch-style spelling: ``gelu(x, approximate="none"|"tanh"|"sigmoid")``,
and the fused layers of a transformer's feed-forward block: ``bias_gelu`` and
``geglu`` with their backward passes, whose rows run across the threads."""
import numpy as np

import gelu_fast as _gf
from gelu_fast._ufuncs import _by_rows as _by_rows_in_c

_FORWARD = {"none": "gelu", "tanh": "gelu_tanh", "sigmoid": "gelu_sigmoid"}
_BACKWARD = {k: v + "_backward" for k, v in _FORWARD.items()}
_BIAS = {k: "bias_" + v for k, v in _FORWARD.items()}
_BIAS_BACKWARD = {k: "bias_" + v for k, v in _BACKWARD.items()}
_GATE = {k: "geglu" + v[len("gelu"):] for k, v in _FORWARD.items()}
_GATE_BACKWARD = {k: v + "_backward" for k, v in _GATE.items()}

def _pick(approximate, table):
    try:
        return getattr(_gf, table[approximate])
    except (KeyError, TypeError):
        raise ValueError(
            f"approximate must be one of {sorted(table)}, got {approximate!r}") from None


def gelu(x, approximate="none", out=None):
    """GELU of `x`; ``approximate`` picks the exact form, "tanh" or "sigmoid"."""
    return _pick(approximate, _FORWARD)(x, out=out)


def gelu_backward(grad_out, x, approximate="none", out=None):
    """``grad_out * gelu'(x)`` for the chosen form (broadcasting)."""
    return _pick(approximate, _BACKWARD)(grad_out, x, out=out)


def bias_gelu(x, bias, approximate="none", out=None):
    """``gelu(x + bias)`` for the chosen form, as the ufunc ``bias_gelu``
    (``bias_gelu_tanh``, ``bias_gelu_sigmoid``) computes it, bit for bit, with
    the rows of a 2-D or higher ``x`` split across the threads."""
    return _by_rows(_pick(approximate, _BIAS), (x, bias), out)


def bias_gelu_backward(grad_out, x, bias, approximate="none", out=None):
    """``grad_out * gelu'(x + bias)``, the gradient with respect to ``x``
    (and to the bias, summed over its broadcast axes), as the ufunc
    ``bias_gelu_backward`` computes it, the rows split across the threads."""
    return _by_rows(_pick(approximate, _BIAS_BACKWARD), (grad_out, x, bias), out)


def geglu(x, axis=-1, approximate="none", out=None):
    """GeGLU of a projection ``x`` that holds both halves along ``axis``:
    ``gelu(a) * b`` with ``a, b`` its first and second half (views, no copy),
    as the ufunc ``geglu`` computes it; the result is half as long along
    ``axis``.  An odd length is a ValueError."""
    a, b = _halves(x, axis)
    return _by_rows(_pick(approximate, _GATE), (a, b), out)


def geglu_backward(grad_out, x, axis=-1, approximate="none", out=None):
    """The gradient of ``geglu(x, axis)`` with respect to ``x``: grad_a and
    grad_b of the ufunc ``geglu_backward`` side by side along ``axis``, in an
    array shaped as ``x`` (``out``, if given)."""
    a, b = _halves(x, axis)
    ufunc = _pick(approximate, _GATE_BACKWARD)
    if type(x) is not np.ndarray or (out is not None and not isinstance(out, np.ndarray)):
        grad_a, grad_b = ufunc(grad_out, a, b)
        return np.concatenate([grad_a, grad_b], axis=axis)
    if out is None:
        out = np.empty(np.shape(x), dtype=ufunc.resolve_dtypes(
            (np.asarray(grad_out).dtype, a.dtype, b.dtype, None, None))[-1])
    grad_a, grad_b = _halves(out, axis)
    _by_rows(ufunc, (grad_out, a, b), (grad_a, grad_b))
    return out


def _halves(x, axis):
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    ndim = len(x.shape)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    axis %= ndim
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"geglu: x has {n} elements along axis {axis}, not an even number")
    before = (slice(None),) * axis
    return x[before + (slice(0, n // 2),)], x[before + (slice(n // 2, n),)]


def _by_rows(ufunc, inputs, out):
    """ufunc(*inputs, out=out), run by gf_run_rows where NumPy would call the
    loop row by row (plain arrays of one dtype): the rows split across the
    threads, the same results."""
    outs = (out,) if ufunc.nout == 1 and out is not None else out
    if outs is None or type(outs) is tuple:
        done = _by_rows_in_c(ufunc.__name__, tuple(inputs), outs)
        if done is not None:
            return done[0] if ufunc.nout == 1 else done
    return ufunc(*inputs, out=out)
