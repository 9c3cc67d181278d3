"""Torch-style spelling: ``gelu(x, approximate="none"|"tanh"|"sigmoid")``,
and the fused layers of a transformer's feed-forward block: ``bias_gelu`` and
``geglu`` with their backward passes, whose rows run across the threads."""
import numpy as np

import gelu_fast as _gf
from gelu_fast._ufuncs import BFLOAT16 as _BFLOAT16, _run_rows

_FORWARD = {"none": "gelu", "tanh": "gelu_tanh", "sigmoid": "gelu_sigmoid"}
_BACKWARD = {k: v + "_backward" for k, v in _FORWARD.items()}
_BIAS = {k: "bias_" + v for k, v in _FORWARD.items()}
_BIAS_BACKWARD = {k: "bias_" + v for k, v in _BACKWARD.items()}
_GATE = {k: "geglu" + v[len("gelu"):] for k, v in _FORWARD.items()}
_GATE_BACKWARD = {k: v + "_backward" for k, v in _GATE.items()}

# the dtypes the loops take as they are
_LOOP_DTYPES = {np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)} | (
    {_BFLOAT16} if _BFLOAT16 is not None else set())


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
    if not _plain(x, grad_out) or (out is not None and not isinstance(out, np.ndarray)):
        grad_a, grad_b = ufunc(grad_out, a, b)
        return np.concatenate([grad_a, grad_b], axis=axis)
    if out is None:
        out = np.empty(np.shape(x), dtype=ufunc.resolve_dtypes(
            (np.asarray(grad_out).dtype, a.dtype, b.dtype, None, None))[-1])
    grad_a, grad_b = _halves(out, axis)
    _by_rows(ufunc, (grad_out, a, b), (grad_a, grad_b))
    return out


def _plain(*values):
    """Whether the values are NumPy arrays or scalars (not Dask, xarray or
    pandas objects, which dispatch through the ufunc themselves)."""
    return all(type(v) is np.ndarray or np.isscalar(v) or isinstance(v, (list, tuple)) for v in values)


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


def _rows(a, shape):
    """`a` broadcast to `shape` and viewed as (rows, shape[-1]), or None where
    that needs a copy."""
    try:
        return np.reshape(np.broadcast_to(a, shape), (-1, shape[-1]), copy=False)
    except (ValueError, TypeError):  # a copy needed, or a NumPy without copy=
        return None


def _by_rows(ufunc, inputs, out):
    """ufunc(*inputs, out=out), run by gf_run_rows where NumPy would call the
    loop row by row: the rows split across the threads, the same results."""
    nout = ufunc.nout
    outs = (out,) if nout == 1 and out is not None else out
    if not _plain(*inputs) or (outs is not None and not all(type(o) is np.ndarray for o in outs)):
        return ufunc(*inputs, out=out)
    arrays = [np.asarray(v) for v in inputs]
    dtype = arrays[0].dtype
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    if (len(shape) < 2 or 0 in shape or dtype not in _LOOP_DTYPES or any(a.dtype != dtype for a in arrays)
            or (outs is not None and any(o.shape != shape or o.dtype != dtype or not o.flags.writeable
                                         for o in outs))):
        return ufunc(*inputs, out=out)
    if outs is None:
        outs = tuple(np.empty(shape, dtype) for _ in range(nout))
    elif any(np.may_share_memory(o, a) and not _same_elements(o, a) for o in outs for a in arrays) or (
            nout == 2 and np.may_share_memory(*outs)):
        return ufunc(*inputs, out=out)
    views = [_rows(a, shape) for a in (*arrays, *outs)]
    if any(v is None for v in views):
        return ufunc(*inputs, out=out)
    _run_rows(ufunc.__name__, tuple(views))
    return outs[0] if nout == 1 else outs


def _same_elements(o, a):
    """Whether a (broadcast to o's shape) is o itself: an in-place call."""
    return (a.shape == o.shape and a.strides == o.strides
            and a.__array_interface__["data"][0] == o.__array_interface__["data"][0])
