"""Docstrings of the ufuncs, and the error bounds they state.

``BOUNDS`` is each ufunc's bound in ULP for float32 and float64 results
(float16 results are correctly rounded); tests/test_accuracy.py enforces the
bounds and tests/test_docs.py checks that every docstring states them.

NumPy builds a ufunc's ``__doc__`` from a first line generated from its
number of inputs (``x1, x2`` for two) followed by the doc string given at
registration.  ``document`` replaces both with the text here, whose first
line names the backward ufuncs' inputs ``grad_out, x``, and sets a matching
``__signature__`` for ``inspect.signature``; that needs a NumPy whose ufuncs
have a ``__dict__``.  On one without, the registration doc (``C_DOCS``, the
same text without its first line) is what ``help()`` shows, under NumPy's
own first line.
"""
import inspect
import textwrap

FORWARD = ("gelu", "gelu_tanh", "gelu_sigmoid")
GRAD = ("gelu_grad", "gelu_tanh_grad", "gelu_sigmoid_grad")
BACKWARD = ("gelu_backward", "gelu_tanh_backward", "gelu_sigmoid_backward")

# ULP, for float32 and float64 results; float16 results are correctly rounded.
BOUNDS = {name: {"float32": 1 if name == "gelu" else 2, "float64": 2}
          for name in FORWARD + GRAD + BACKWARD}

# float32 maxima over all 2**32 inputs (tests/test_exhaustive_float32.py),
# with the AVX-512 fast path; the general kernels alone stay within 0.5007.
MEASURED_F32 = {"gelu": 0.7474, "gelu_tanh": 0.9208, "gelu_sigmoid": 0.6224,
                "gelu_grad": 0.5226, "gelu_tanh_grad": 0.5311, "gelu_sigmoid_grad": 0.5180}

_KEYWORDS = "/, out=None, *, where=True, casting='same_kind', order='K', dtype=None, subok=True[, signature]"


def _signature_line(name):
    inputs = "grad_out, x" if name in BACKWARD else "x"
    return f"{name}({inputs}, {_KEYWORDS})"


_PARAMETERS_UNARY = """Parameters
----------
x : array_like
    Input values.  float16, float32 and float64 have loops of their own;
    integers are cast as for ``np.sin`` (int8 to float16, int64 to float64).
out : ndarray, optional
    Where to write the result (may be ``x`` itself).
where, casting, order, dtype, subok, signature
    As for every ``numpy.ufunc``.

Returns
-------
ndarray or scalar, of the input's floating dtype."""

_PARAMETERS_BACKWARD = """Parameters
----------
grad_out : array_like
    The gradient flowing back from the layer's output.
x : array_like
    The layer's input; broadcast against ``grad_out``.
out : ndarray, optional
    Where to write the result.
where, casting, order, dtype, subok, signature
    As for every ``numpy.ufunc``.

Returns
-------
ndarray or scalar: ``grad_out * {grad}(x)``, rounded once."""

# filled to 76 columns once its blanks are in
_HOW = ("How it is computed: float32 arrays, on a CPU with AVX-512 "
        "(``gelu_fast.info()[\"fast_path\"]``), take piecewise polynomials in float32 "
        "for |x| < 3.4375 ({float_tier}), piecewise polynomials in double on the "
        "rest of [-4.25, 3.75), and, where the result has saturated, its value ({saturated}) directly. "
        "The inputs left, and all float32 and float16 data on other CPUs, go to the "
        "general kernels, which compute in double ({general}) and round once. "
        "float16 on the fast path takes the double pieces, rounded once as well. "
        "float64: double arithmetic with double-double steps where rounding errors "
        "are not damped ({f64}); no libm calls.")

_SPECIALS_FORWARD = """Special values: f(+0) = +0, f(-0) = -0, f(+inf) = +inf, f(-inf) = -0,
f(nan) = the input nan itself (sign and payload kept).  No input raises a
floating-point warning."""

_SPECIALS_GRAD = """Special values: f'(+-0) = 0.5, f'(+inf) = 1, f'(-inf) = -0, f'(nan) = the
input nan itself.  No input raises a floating-point warning."""

_SPECIALS_BACKWARD = """Special values: 0.5 * grad_out at x = +-0 and grad_out at x = +inf.  At
x = -inf the derivative is -0, so the result is a zero of the sign opposite
to grad_out's, and for an infinite grad_out the opposite infinity (the
derivative acts as a negative number too small to represent, not as nan).
A nan in either input comes out as itself (grad_out's first).  No input
raises a floating-point warning."""

# Per function: title, what it computes, the float32 tier's form, its
# saturated values, the general float32 method, the float64 method.
_FUNCTIONS = {
    "gelu": dict(
        title="Exact GELU, x * Phi(x).",
        formula="Phi is the standard normal CDF.  The negative tail keeps full relative\n"
                "accuracy down to underflow (x ~ -14.36 in float32, -38.58 in float64).",
        general="Phi from the upper normal tail exp(-x**2/2) R(|x|), R a rational fit, "
                "so x < 0 never cancels",
        f64="the tail from per-quarter-unit polynomials of exp(x**2/2) Q(|x|)"),
    "gelu_tanh": dict(
        title="Tanh-approximated GELU.",
        formula="0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), computed as\n"
                "x * sigmoid(2u) so the negative tail does not cancel; the decimal\n"
                "constants are taken as exact.",
        general="x / (1 + exp(-2u))",
        f64="2u carried to ~2**-100 relative before the exponential"),
    "gelu_sigmoid": dict(
        title="Sigmoid-approximated GELU, x * sigmoid(1.702 * x).",
        formula="Computed as x / (1 + exp(-1.702 x)), with 1.702 taken as exact.",
        general="x / (1 + exp(-1.702 x))",
        f64="1.702 x carried as a double-double before the exponential"),
    "gelu_grad": dict(
        title="Derivative of the exact GELU, Phi(x) + x * phi(x).",
        formula="phi is the standard normal density.  The derivative crosses zero near\n"
                "x = -0.7518, so its error is measured against |Phi(x)| + |x phi(x)|.",
        general="Phi as for gelu, plus x phi(x) by one fma",
        f64="as for gelu, with R(|x|) - |x|/sqrt(2 pi) as a double-double"),
    "gelu_tanh_grad": dict(
        title="Derivative of the tanh-approximated GELU.",
        formula="s + x * s * (1 - s) * w'(x), with w = 2 sqrt(2/pi) (x + 0.044715 x**3)\n"
                "and s = sigmoid(w); error measured against |s| + |x s (1 - s) w'|.",
        general="s and 1 - s from one exp(-w)",
        f64="w and x w' as double-doubles"),
    "gelu_sigmoid_grad": dict(
        title="Derivative of the sigmoid-approximated GELU.",
        formula="s + 1.702 * x * s * (1 - s), with s = sigmoid(1.702 x); error measured\n"
                "against |s| + |1.702 x s (1 - s)|.",
        general="s and 1 - s from one exp(-1.702 x)",
        f64="1.702 x as a double-double"),
}


def _unary_doc(name):
    f = _FUNCTIONS[name]
    forward = name in FORWARD
    accuracy = "\n".join([
        "Accuracy, in ULP of the result:" if forward else
        "Accuracy, in ULP of the sum of the two terms' magnitudes:",
        f"- float32: <= {BOUNDS[name]['float32']} ULP on every one of the 2**32 inputs (checked\n"
        f"  exhaustively: at most {MEASURED_F32[name]} with the AVX-512 fast path, 0.5007 without).",
        f"- float64: <= {BOUNDS[name]['float64']} ULP against mpmath.",
        "- float16: correctly rounded, every input.",
    ])
    how = _HOW.format(
        float_tier="one rounding of a small term before the final one" if forward
        else "the factor carried as an error-free float pair",
        saturated="a signed zero or x" if forward else "0 or 1", general=f["general"], f64=f["f64"])
    example = _EXAMPLES[name]
    return "\n\n".join([
        _signature_line(name), f["title"], f["formula"], accuracy, _PARAMETERS_UNARY,
        "Notes\n-----\n" + textwrap.fill(how, 76), _SPECIALS_FORWARD if forward else _SPECIALS_GRAD,
        "Examples\n--------\n>>> import numpy as np, gelu_fast as gf\n"
        f">>> gf.{name}(np.array([-1.0, 0.0, 1.0]))\n{example}",
    ]) + "\n"


def _backward_doc(name):
    grad = name.replace("_backward", "_grad")
    title = {"gelu_backward": "exact", "gelu_tanh_backward": "tanh-approximated",
             "gelu_sigmoid_backward": "sigmoid-approximated"}[name]
    accuracy = "\n".join([
        f"Accuracy, in ULP of |grad_out| times the sum of the magnitudes of\n``{grad}``'s two terms:",
        f"- float32: <= {BOUNDS[name]['float32']} ULP.",
        f"- float64: <= {BOUNDS[name]['float64']} ULP against mpmath, down to the deep tail for any\n"
        "  grad_out (grad_out enters before the final scaling).",
        "- float16: correctly rounded.",
    ])
    how = _HOW.format(float_tier="the factor as an error-free float pair, times grad_out with the "
                                 "product split exactly",
                      saturated="a signed zero or grad_out", general=f"grad_out * {grad}(x)",
                      f64=f"as for {grad}")
    return "\n\n".join([
        _signature_line(name),
        f"Backward pass of the {title} GELU: grad_out * {grad}(x).",
        "``grad_out`` and ``x`` broadcast against each other, as for any binary ufunc.",
        accuracy, _PARAMETERS_BACKWARD.format(grad=grad),
        "Notes\n-----\n" + textwrap.fill(how, 76), _SPECIALS_BACKWARD,
        "Examples\n--------\n>>> import numpy as np, gelu_fast as gf\n"
        f">>> gf.{name}(2.0, np.array([-1.0, 0.0, 1.0]))\n{_EXAMPLES[name]}",
    ]) + "\n"


# float64, so that the printed digits are the same on every CPU
_EXAMPLES = {
    "gelu": "array([-0.15865525,  0.        ,  0.84134475])",
    "gelu_tanh": "array([-0.15880801,  0.        ,  0.84119199])",
    "gelu_sigmoid": "array([-0.15420423,  0.        ,  0.84579577])",
    "gelu_grad": "array([-0.08331547,  0.5       ,  1.08331547])",
    "gelu_tanh_grad": "array([-0.08296408,  0.5       ,  1.08296408])",
    "gelu_sigmoid_grad": "array([-0.06777961,  0.5       ,  1.06777961])",
    "gelu_backward": "array([-0.16663094,  1.        ,  2.16663094])",
    "gelu_tanh_backward": "array([-0.16592817,  1.        ,  2.16592817])",
    "gelu_sigmoid_backward": "array([-0.13555921,  1.        ,  2.13555921])",
}

DOCS = {name: (_backward_doc if name in BACKWARD else _unary_doc)(name)
        for name in FORWARD + GRAD + BACKWARD}
# What NumPy shows under its own generated first line where document() cannot
# set __doc__: the same text without the signature line.
C_DOCS = {name: doc.split("\n\n", 1)[1] for name, doc in DOCS.items()}


def _signature(ufunc):
    """inspect.Signature of `ufunc` with the inputs renamed as in its doc."""
    sig = inspect.signature(ufunc)
    params = list(sig.parameters.values())
    names = ["grad_out", "x"] if ufunc.__name__ in BACKWARD else ["x"]
    renamed = [p.replace(name=n) for p, n in zip(params, names)] + params[len(names):]
    return sig.replace(parameters=renamed)


def document(ufunc):
    """Give `ufunc` the docstring of DOCS, first line included, and an
    inspect signature with the same input names, where NumPy lets a ufunc
    carry its own (NumPy ufuncs with a __dict__); elsewhere leave NumPy's."""
    try:
        ufunc.__doc__ = DOCS[ufunc.__name__]
        ufunc.__signature__ = _signature(ufunc)
    except (AttributeError, TypeError, ValueError):
        pass
