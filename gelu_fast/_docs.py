"""Docstrings of the ufuncs.  Each error bound stated here is enforced by
tests/test_accuracy.py."""

_SPECIALS_FORWARD = """
Special values: f(+0) = +0, f(-0) = -0, f(+inf) = +inf, f(-inf) = -0,
f(nan) = nan (the input nan itself, sign and payload kept).  No input raises
a floating-point warning."""

_SPECIALS_GRAD = """
Special values: f'(0) = 0.5, f'(+inf) = 1, f'(-inf) = 0, f'(nan) = nan (the
input nan itself).  No input raises a floating-point warning."""

_DTYPES = """
Loops: float16, float32, float64 (integers cast as for ``np.sin``).  float16 and
float32 are evaluated in double and rounded once; float64 in long double."""

_FORWARD = """{title}

{formula}
{dtypes}

Accuracy (against the formula evaluated exactly):
{bounds}
{specials}

Parameters
----------
x : array_like
out, where, casting, order, dtype, ... : see ``numpy.ufunc``.

Examples
--------
>>> import numpy as np, gelu_fast as gf
>>> gf.{name}(np.array([-1.0, 0.0, 1.0], dtype=np.float32))
"""

_BACKWARD = """{title}

Computes ``grad_out * {grad}(x)``, broadcasting ``grad_out`` against ``x``;
the result is rounded once.
{dtypes}

Accuracy: <= 2 ULP of |grad_out| * (|first term| + |second term|) of
``{grad}`` (see its docstring), for float32 and float64; float16 correctly
rounded.

Parameters
----------
grad_out, x : array_like
out, where, casting, ... : see ``numpy.ufunc``.
"""

DOCS = {
    "gelu": _FORWARD.format(
        name="gelu", title="Exact GELU, x * Phi(x).",
        formula="Phi is the standard normal CDF, computed from erfc so the negative\n"
                "tail keeps full relative accuracy down to underflow (x ~ -14.4 in\n"
                "float32, x ~ -38.5 in float64).",
        dtypes=_DTYPES,
        bounds="- float32: <= 1 ULP for every one of the 2**32 inputs (checked exhaustively).\n"
               "- float64: <= 2 ULP against mpmath.\n"
               "- float16: correctly rounded for every input.",
        specials=_SPECIALS_FORWARD),
    "gelu_tanh": _FORWARD.format(
        name="gelu_tanh", title="Tanh-approximated GELU.",
        formula="0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), evaluated as\n"
                "x * sigmoid(2u) so the negative tail does not cancel.",
        dtypes=_DTYPES,
        bounds="- float32, float64: <= 2 ULP of this formula (decimal constants exact).\n"
               "- float16: correctly rounded.",
        specials=_SPECIALS_FORWARD),
    "gelu_sigmoid": _FORWARD.format(
        name="gelu_sigmoid", title="Sigmoid-approximated GELU, x * sigmoid(1.702 * x).",
        formula="Evaluated as x / (1 + exp(-1.702 x)).",
        dtypes=_DTYPES,
        bounds="- float32, float64: <= 2 ULP of this formula (1.702 exact).\n"
               "- float16: correctly rounded.",
        specials=_SPECIALS_FORWARD),
    "gelu_grad": _FORWARD.format(
        name="gelu_grad", title="Derivative of the exact GELU, Phi(x) + x * phi(x).",
        formula="phi is the standard normal density.  The derivative has a root near\n"
                "x = -0.7518, so its error is measured against |Phi(x)| + |x * phi(x)|.",
        dtypes=_DTYPES,
        bounds="- float32, float64: <= 2 ULP of |Phi(x)| + |x phi(x)|.\n"
               "- float16: correctly rounded.",
        specials=_SPECIALS_GRAD),
    "gelu_tanh_grad": _FORWARD.format(
        name="gelu_tanh_grad", title="Derivative of the tanh-approximated GELU.",
        formula="s + x * s * (1 - s) * w'(x), with w = 2 sqrt(2/pi) (x + 0.044715 x**3)\n"
                "and s = sigmoid(w).",
        dtypes=_DTYPES,
        bounds="- float32, float64: <= 2 ULP of |s| + |x s (1-s) w'|.\n"
               "- float16: correctly rounded.",
        specials=_SPECIALS_GRAD),
    "gelu_sigmoid_grad": _FORWARD.format(
        name="gelu_sigmoid_grad", title="Derivative of the sigmoid-approximated GELU.",
        formula="s + 1.702 * x * s * (1 - s), with s = sigmoid(1.702 x).",
        dtypes=_DTYPES,
        bounds="- float32, float64: <= 2 ULP of |s| + |1.702 x s (1-s)|.\n"
               "- float16: correctly rounded.",
        specials=_SPECIALS_GRAD),
    "gelu_backward": _BACKWARD.format(
        title="Backward pass of the exact GELU.", grad="gelu_grad", dtypes=_DTYPES),
    "gelu_tanh_backward": _BACKWARD.format(
        title="Backward pass of the tanh-approximated GELU.", grad="gelu_tanh_grad",
        dtypes=_DTYPES),
    "gelu_sigmoid_backward": _BACKWARD.format(
        title="Backward pass of the sigmoid-approximated GELU.", grad="gelu_sigmoid_grad",
        dtypes=_DTYPES),
}
