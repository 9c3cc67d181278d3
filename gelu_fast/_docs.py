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

from gelu_fast._spec import BY_NAME, FUNCTIONS, FUSED

# ULP, for float32 and float64 results; float16 and bfloat16 results are
# correctly rounded.
BOUNDS = {f.name: {"float32": f.bound_f32, "float64": f.bound_f64} for f in FUNCTIONS}

_KEYWORDS = "/, out=None, *, where=True, casting='same_kind', order='K', dtype=None, subok=True[, signature]"


def _signature_line(name):
    keywords = _KEYWORDS
    if getattr(BY_NAME[name], "nout", 1) == 2:
        keywords = keywords.replace("out=None", "out=(None, None)")
    return f"{name}({', '.join(BY_NAME[name].inputs)}, {keywords})"


_PARAMETERS_UNARY = """Parameters
----------
x : array_like
    Input values.  float16, float32 and float64 have loops of their own;
    integers are cast as for ``np.sin`` (int8 to float16, int64 to float64);
    ml_dtypes' bfloat16 has loops of its own where ml_dtypes is installed.
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

def _unary_doc(name):
    f = BY_NAME[name]
    forward = f.kind == "forward"
    accuracy = "\n".join([
        "Accuracy, in ULP of the result:" if forward else
        "Accuracy, in ULP of the sum of the two terms' magnitudes:",
        f"- float32: <= {BOUNDS[name]['float32']} ULP on every one of the 2**32 inputs (checked\n"
        f"  exhaustively: at most {f.measured_f32} with the AVX-512 fast path, 0.5007 without).",
        f"- float64: <= {BOUNDS[name]['float64']} ULP against mpmath.",
        "- float16 and bfloat16: correctly rounded, every input.",
    ])
    how = _HOW.format(
        float_tier="one rounding of a small term before the final one" if forward
        else "the factor carried as an error-free float pair",
        saturated="a signed zero or x" if forward else "0 or 1", general=f.general, f64=f.f64)
    return "\n\n".join([
        _signature_line(name), f.title, f.formula, accuracy, _PARAMETERS_UNARY,
        "Notes\n-----\n" + textwrap.fill(how, 76), _SPECIALS_FORWARD if forward else _SPECIALS_GRAD,
        "Examples\n--------\n>>> import numpy as np, gelu_fast as gf\n"
        f">>> gf.{name}(np.array([-1.0, 0.0, 1.0]))\n{f.example}",
    ]) + "\n"


def _backward_doc(name):
    f = BY_NAME[name]
    grad, title = f.derivative, f.title
    accuracy = "\n".join([
        f"Accuracy, in ULP of |grad_out| times the sum of the magnitudes of\n``{grad}``'s two terms:",
        f"- float32: <= {BOUNDS[name]['float32']} ULP.",
        f"- float64: <= {BOUNDS[name]['float64']} ULP against mpmath, down to the deep tail for any\n"
        "  grad_out (grad_out enters before the final scaling).",
        "- float16 and bfloat16: correctly rounded.",
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
        f">>> gf.{name}(2.0, np.array([-1.0, 0.0, 1.0]))\n{f.example}",
    ]) + "\n"


_FORM_TITLE = {"gelu": "exact", "gelu_tanh": "tanh-approximated", "gelu_sigmoid": "sigmoid-approximated"}

_FUSED_TITLE = {
    "bias": "Fused bias and {title} GELU: {form}(x + bias) in one pass.",
    "bias_backward": "Backward pass of the fused bias and {title} GELU: grad_out * {form}_grad(x + bias).",
    "gate": "GeGLU with the {title} GELU: {form}(a) * b in one pass.",
    "gate_backward": "Backward pass of GeGLU with the {title} GELU: the gradients of {form}(a) * b.",
}

_FUSED_WHAT = {
    "bias": """``bias`` broadcasts against ``x`` as for any binary ufunc: a bias of shape
(n,) adds to every row of an (m, n) ``x``.  The bias gradient of the backward
pass is ``bias_{form}_backward(grad_out, x, bias).sum(axis=0)``.""",
    "bias_backward": """The gradient with respect to ``x``; the bias gradient is its sum over the
rows, which NumPy computes.""",
    "gate": """``a`` is the gated half of the projection, ``b`` the linear one
(``gelu_fast.functional.geglu`` takes the two halves of one array).""",
    "gate_backward": """Returns the pair (grad_a, grad_b) = (grad_out * b * {form}_grad(a),
grad_out * {form}(a)), with grad_out * b rounded first, as one ufunc with two
outputs.""",
}

_FUSED_EXAMPLE = {
    "bias": ">>> gf.{name}(np.array([-1.0, 0.0, 1.0]), 0.5)",
    "bias_backward": ">>> gf.{name}(2.0, np.array([-1.0, 0.0, 1.0]), 0.5)",
    "gate": ">>> gf.{name}(np.array([-1.0, 0.0, 1.0]), 2.0)",
    "gate_backward": ">>> gf.{name}(1.0, np.array([-1.0, 0.0, 1.0]), 2.0)",
}

_FUSED_THREADS = """Threads: a call splits across threads as the plain ufuncs do.  Where NumPy
calls the loop once per row (a per-row bias broadcast over a 2-D ``x``, or
rows that are not evenly spaced, such as the halves of one projection), rows
of a few thousand elements are too short to split, so such a call runs on one
thread; ``gelu_fast.functional`` runs the rows of such arrays across the
threads in one call, with the same results."""


def _fused_doc(name):
    f = BY_NAME[name]
    composed = BY_NAME[f.first if f.op != "gate_backward" else f.second]
    accuracy = (
        f"Accuracy: {composed.name}'s at the intermediate as rounded in the working dtype\n"
        f"(<= {composed.bound_f32} ULP in float32, <= {composed.bound_f64} in float64; float16 and "
        "bfloat16\ncorrectly rounded)")
    accuracy += {"bias": ".", "bias_backward": ".",
                 "gate": ", then the product with b, rounded once.",
                 "gate_backward": "; grad_b: the forward result times grad_out, rounded once."}[f.op]
    return "\n\n".join([
        _signature_line(name),
        _FUSED_TITLE[f.op].format(title=_FORM_TITLE[f.form], form=f.form),
        f"Bit-identical to ``{f.composition}`` in the working dtype: the same\n"
        "arithmetic, without the temporaries and extra passes over memory.",
        _FUSED_WHAT[f.op].format(form=f.form),
        accuracy,
        "Parameters\n----------\n" + "\n".join(f"{p} : array_like" for p in f.inputs)
        + "\nout : ndarray" + (" or tuple of two" if f.nout == 2 else "") + ", optional\n"
        "    Where to write the result (may be an input itself).\n"
        "where, casting, order, dtype, subok, signature\n    As for every ``numpy.ufunc``.",
        _FUSED_THREADS,
        "Examples\n--------\n>>> import numpy as np, gelu_fast as gf\n"
        + _FUSED_EXAMPLE[f.op].format(name=name) + f"\n{f.example}",
    ]) + "\n"


# (the examples are float64, so that the printed digits are the same on every CPU)
DOCS = {f.name: (_backward_doc if f.kind == "backward" else _unary_doc)(f.name) for f in FUNCTIONS}
DOCS.update({f.name: _fused_doc(f.name) for f in FUSED})
# What NumPy shows under its own generated first line where document() cannot
# set __doc__: the same text without the signature line.
C_DOCS = {name: doc.split("\n\n", 1)[1] for name, doc in DOCS.items()}


def _signature(ufunc):
    """inspect.Signature of `ufunc` with the inputs renamed as in its doc."""
    sig = inspect.signature(ufunc)
    params = list(sig.parameters.values())
    names = list(BY_NAME[ufunc.__name__].inputs)
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
