"""Torch-style spelling: ``gelu(x, approximate="none"|"tanh"|"sigmoid")``."""
import gelu_fast as _gf

_FORWARD = {"none": "gelu", "tanh": "gelu_tanh", "sigmoid": "gelu_sigmoid"}
_BACKWARD = {k: v + "_backward" for k, v in _FORWARD.items()}


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
