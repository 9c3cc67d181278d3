"""The functions of gelu_fast, one entry each: the single list of them.

Everything that must name the functions reads this table: the build writes the
C list (``src_c/gf_functions.h``: declarations, loop instantiation, the loop
table the module registers) from it, the package registers each ufunc and its
docstring from it, and the tests take their parameters and bounds from it.
Adding a function means an entry here plus its scalar kernels ``NAME_f32`` and
``NAME_f64`` in ``src_c/gelu_kernels.h`` (and, for the AVX-512 tiers, its
tables in ``src_c/gf_pieces.h``).  The second table, TIERS, lists the vector
tiers the loops run before the general kernels: adding an instruction set
means its file ``src_c/tier_<isa>.c`` plus its rows here.

This module imports nothing, so that setup.py can load it before the
extension exists.
"""


class Function:
    """One ufunc.

    name: the ufunc's name.  kind: "forward" (f), "derivative" (f') or
    "backward" (grad_out * f', two inputs).  forward: the forward function it
    belongs to.  bound_f32, bound_f64: the documented error bound in ULP
    (derivatives: of the sum of their two terms' magnitudes; backward: times
    |grad_out|); float16 results are correctly rounded.  measured_f32: the
    maximum over all 2**32 float32 inputs with the AVX-512 fast path
    (tests/test_exhaustive_float32.py), None where not swept.  The remaining
    fields are docstring text (gelu_fast/_docs.py).
    """

    def __init__(self, name, kind, forward, bound_f32, bound_f64, measured_f32=None, *,
                 title, formula="", general="", f64="", example):
        assert kind in ("forward", "derivative", "backward"), kind
        self.name, self.kind, self.forward = name, kind, forward
        self.bound_f32, self.bound_f64, self.measured_f32 = bound_f32, bound_f64, measured_f32
        self.title, self.formula, self.general, self.f64 = title, formula, general, f64
        self.example = example

    @property
    def nin(self):
        return 2 if self.kind == "backward" else 1

    @property
    def inputs(self):
        return ("grad_out", "x") if self.kind == "backward" else ("x",)

    nout = 1
    outputs = ("out",)

    @property
    def derivative(self):
        """The derivative of its forward function."""
        return self.forward + "_grad"

    @property
    def tables(self):
        """Whose factor it evaluates: its own, or (backward) its derivative's."""
        return self.derivative if self.kind == "backward" else self.name

    def __repr__(self):
        return f"Function({self.name!r}, {self.kind!r})"


FUNCTIONS = (
    Function(
        "gelu", "forward", "gelu", 1, 2, 0.7474,
        title="Exact GELU, x * Phi(x).",
        formula="Phi is the standard normal CDF.  The negative tail keeps full relative\n"
                "accuracy down to underflow (x ~ -14.36 in float32, -38.58 in float64).",
        general="Phi from the upper normal tail exp(-x**2/2) R(|x|), R a rational fit, "
                "so x < 0 never cancels",
        f64="the tail from per-quarter-unit polynomials of exp(x**2/2) Q(|x|)",
        example="array([-0.15865525,  0.        ,  0.84134475])"),
    Function(
        "gelu_tanh", "forward", "gelu_tanh", 2, 2, 0.9208,
        title="Tanh-approximated GELU.",
        formula="0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), computed as\n"
                "x * sigmoid(2u) so the negative tail does not cancel; the decimal\n"
                "constants are taken as exact.",
        general="x / (1 + exp(-2u))",
        f64="2u carried to ~2**-100 relative before the exponential",
        example="array([-0.15880801,  0.        ,  0.84119199])"),
    Function(
        "gelu_sigmoid", "forward", "gelu_sigmoid", 2, 2, 0.6224,
        title="Sigmoid-approximated GELU, x * sigmoid(1.702 * x).",
        formula="Computed as x / (1 + exp(-1.702 x)), with 1.702 taken as exact.",
        general="x / (1 + exp(-1.702 x))",
        f64="1.702 x carried as a double-double before the exponential",
        example="array([-0.15420423,  0.        ,  0.84579577])"),
    Function(
        "gelu_grad", "derivative", "gelu", 2, 2, 0.5226,
        title="Derivative of the exact GELU, Phi(x) + x * phi(x).",
        formula="phi is the standard normal density.  The derivative crosses zero near\n"
                "x = -0.7518, so its error is measured against |Phi(x)| + |x phi(x)|.",
        general="Phi as for gelu, plus x phi(x) by one fma",
        f64="as for gelu, with R(|x|) - |x|/sqrt(2 pi) as a double-double",
        example="array([-0.08331547,  0.5       ,  1.08331547])"),
    Function(
        "gelu_tanh_grad", "derivative", "gelu_tanh", 2, 2, 0.5311,
        title="Derivative of the tanh-approximated GELU.",
        formula="s + x * s * (1 - s) * w'(x), with w = 2 sqrt(2/pi) (x + 0.044715 x**3)\n"
                "and s = sigmoid(w); error measured against |s| + |x s (1 - s) w'|.",
        general="s and 1 - s from one exp(-w)",
        f64="w and x w' as double-doubles",
        example="array([-0.08296408,  0.5       ,  1.08296408])"),
    Function(
        "gelu_sigmoid_grad", "derivative", "gelu_sigmoid", 2, 2, 0.5180,
        title="Derivative of the sigmoid-approximated GELU.",
        formula="s + 1.702 * x * s * (1 - s), with s = sigmoid(1.702 x); error measured\n"
                "against |s| + |1.702 x s (1 - s)|.",
        general="s and 1 - s from one exp(-1.702 x)",
        f64="1.702 x as a double-double",
        example="array([-0.06777961,  0.5       ,  1.06777961])"),
    Function(
        "gelu_backward", "backward", "gelu", 2, 2,
        title="exact",
        example="array([-0.16663094,  1.        ,  2.16663094])"),
    Function(
        "gelu_tanh_backward", "backward", "gelu_tanh", 2, 2,
        title="tanh-approximated",
        example="array([-0.16592817,  1.        ,  2.16592817])"),
    Function(
        "gelu_sigmoid_backward", "backward", "gelu_sigmoid", 2, 2,
        title="sigmoid-approximated",
        example="array([-0.13555921,  1.        ,  2.13555921])"),
)



class Fused:
    """One fused ufunc: a forward function of FUNCTIONS (``form``) composed
    with the elementwise step next to it in a network layer, in one pass.

    op "bias": form(x + bias); "bias_backward": grad_out * form'(x + bias);
    "gate" (GeGLU): form(a) * b; "gate_backward": the pair (grad_a, grad_b) =
    (form_backward(grad_out * b, a), grad_out * form(a)).  Each step is
    NumPy's own arithmetic in the working dtype, so each result is
    bit-identical to the composition of NumPy's ufuncs and ours that
    ``composition`` spells.  ``first`` and ``second`` are the functions the C
    loop composes (gelu_loops.c, GF_FUSED).
    """

    _SHAPES = {  # op: (inputs, outputs)
        "bias": (("x", "bias"), ("out",)),
        "bias_backward": (("grad_out", "x", "bias"), ("out",)),
        "gate": (("a", "b"), ("out",)),
        "gate_backward": (("grad_out", "a", "b"), ("grad_a", "grad_b")),
    }

    def __init__(self, op, form, example=""):
        assert op in self._SHAPES and form in ("gelu", "gelu_tanh", "gelu_sigmoid"), (op, form)
        self.op, self.form = op, form
        suffix = form[len("gelu"):]
        self.name = {"bias": f"bias_{form}", "bias_backward": f"bias_{form}_backward",
                     "gate": f"geglu{suffix}", "gate_backward": f"geglu{suffix}_backward"}[op]
        self.kind = "fused"
        self.inputs, self.outputs = self._SHAPES[op]
        self.example = example  # the docstring example's output (gelu_fast/_docs.py)
        backward = form + "_backward"
        self.first, self.second = {"bias": (form, form), "bias_backward": (backward, backward),
                                   "gate": (form, form), "gate_backward": (form, backward)}[op]
        self.composition = {
            "bias": f"{form}(np.add(x, bias))",
            "bias_backward": f"{backward}(grad_out, np.add(x, bias))",
            "gate": f"np.multiply({form}(a), b)",
            "gate_backward": f"({backward}(np.multiply(grad_out, b), a), np.multiply(grad_out, {form}(a)))",
        }[op]

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def __repr__(self):
        return f"Fused({self.op!r}, {self.form!r})"


_FUSED_EXAMPLES = {
    'bias_gelu': 'array([-0.15426877,  0.34573123,  1.3997892 ])',
    'bias_gelu_tanh': 'array([-0.15428599,  0.34571401,  1.39957158])',
    'bias_gelu_sigmoid': 'array([-0.14961156,  0.35038844,  1.3916622 ])',
    'bias_gelu_backward': 'array([0.26500975, 1.73499025, 2.25493838])',
    'bias_gelu_tanh_backward': 'array([0.26526019, 1.73473981, 2.25542159])',
    'bias_gelu_sigmoid_backward': 'array([0.24155618, 1.75844382, 2.19769613])',
    'geglu': 'array([-0.31731051,  0.        ,  1.68268949])',
    'geglu_tanh': 'array([-0.31761602,  0.        ,  1.68238398])',
    'geglu_sigmoid': 'array([-0.30840847,  0.        ,  1.69159153])',
    'geglu_backward': '(array([-0.16663094,  1.        ,  2.16663094]), array([-0.15865525,  0.        ,  0.84134475]))',
    'geglu_tanh_backward': '(array([-0.16592817,  1.        ,  2.16592817]), array([-0.15880801,  0.        ,  0.84119199]))',
    'geglu_sigmoid_backward': '(array([-0.13555921,  1.        ,  2.13555921]), array([-0.15420423,  0.        ,  0.84579577]))',
}

FUSED = tuple(Fused(op, form) for op in ("bias", "bias_backward", "gate", "gate_backward")
              for form in ("gelu", "gelu_tanh", "gelu_sigmoid"))
for _f in FUSED:
    _f.example = _FUSED_EXAMPLES[_f.name]

BY_NAME = {f.name: f for f in FUNCTIONS + FUSED}
# every ufunc, in the order of the C loop table: FUNCTIONS, then FUSED
NAMES = tuple(f.name for f in FUNCTIONS + FUSED)


def names(kind=None):
    """The plain functions' names in table order, those of one kind if given
    (the fused ones: FUSED)."""
    return [f.name for f in FUNCTIONS if kind is None or f.kind == kind]




class Tier:
    """One vector tier (src_c/gf_tier.h): its C name (the struct its file
    defines), the storage type it takes, its instruction-set level and its
    source file in src_c/.  For one storage type, the loops run the tiers of
    the level in use in this table's order, then the general kernels."""

    def __init__(self, name, dtype, isa, source):
        assert dtype in ("float16", "float32"), dtype
        self.name, self.dtype, self.isa, self.source = name, dtype, isa, source

    @property
    def sfx(self):
        return {"float16": "f16", "float32": "f32"}[self.dtype]

    def __repr__(self):
        return f"Tier({self.name!r})"


TIERS = (
    Tier("tier_f32_avx512", "float32", "avx512", "tier_avx512.c"),
    Tier("tier_f32_in_f64_avx512", "float32", "avx512", "tier_avx512.c"),
    Tier("tier_f16_avx512", "float16", "avx512", "tier_avx512.c"),
    Tier("tier_f32_avx2", "float32", "avx2", "tier_avx2.c"),
    Tier("tier_f16_avx2", "float16", "avx2", "tier_avx2.c"),
)


def tier_sources():
    """The tiers' C files, each once, in table order."""
    return list(dict.fromkeys("src_c/" + t.source for t in TIERS))


_C_KIND = {"forward": "GF_FORWARD", "derivative": "GF_DERIVATIVE", "backward": "GF_BACKWARD"}


def c_header():
    """The text of src_c/gf_functions.h."""
    rows = "".join(f"    X({f.name}, {f.nin}, {_C_KIND[f.kind]}, {f.tables}) \\\n"
                   for f in FUNCTIONS)
    fused = "".join(f"    X({f.name}, {f.nin}, {f.nout}, GF_OP_{f.op.split('_')[0].upper()}"
                    f"{'_BACKWARD' if f.op == 'gate_backward' else ''}, {f.first}, {f.second}) \\\n"
                    for f in FUSED)
    tiers = "".join(f"#define GF_TIERS_{sfx}(X)" + "".join(f" X({t.name})" for t in TIERS if t.sfx == sfx)
                    + "\n" for sfx in ("f16", "f32"))
    return (
        "/* Written by setup.py from gelu_fast/_spec.py, the list of the functions:\n"
        " * edit that table, not this file.\n"
        " *\n"
        " * GF_FUNCTIONS(X) applies X(NAME, NIN, MODE, TABLES) to each function, in\n"
        " * the table's order (the order of gf_loop_table): NIN its inputs (2 for the\n"
        " * backward functions, grad_out and x), MODE what the fast path's factor\n"
        " * multiplies (gf_tier.h), TABLES the function whose tables (gf_pieces.h)\n"
        " * the tiers evaluate: its own, or its derivative's.  GF_FUSED(X) applies\n"
        " * X(NAME, NIN, NOUT, OP, FIRST, SECOND) to each fused function, which\n"
        " * follow them in the loop table: OP its elementwise step, FIRST and SECOND\n"
        " * the functions of the list it composes.  GF_TIERS_f16(X) and\n"
        " * GF_TIERS_f32(X) apply X(NAME) to the tiers of each storage type, in the\n"
        " * order the loops run them (gelu_fast/_spec.py, TIERS). */\n"
        "#ifndef GF_FUNCTIONS_H\n#define GF_FUNCTIONS_H\n\n"
        f"#define GF_FUNCTION_COUNT {len(FUNCTIONS)}\n"
        f"#define GF_FUSED_COUNT {len(FUSED)}\n\n"
        "#define GF_FUNCTIONS(X) \\\n" + rows + "\n"
        "#define GF_FUSED(X) \\\n" + fused + "\n" + tiers + "\n"
        "#endif\n")


if __name__ == "__main__":
    print(c_header(), end="")
