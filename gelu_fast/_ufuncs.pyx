# cython: language_level=3
"""Registration table: wraps the C inner loops of src_c/ as NumPy ufuncs.

No numerics live here; see src_c/gelu_kernels.h for the kernels and their error
bounds, and gelu_fast/_docs.py for the docstrings.
"""
cimport numpy as cnp
from numpy cimport (PyUFuncGenericFunction, PyUFunc_FromFuncAndData, PyUFunc_None,
                    PyUFunc_RegisterLoopForType)

from gelu_fast._docs import C_DOCS, document
from gelu_fast._spec import FUNCTIONS, FUSED

ALL = FUNCTIONS + FUSED

cnp.import_array()
cnp.import_ufunc()

cdef extern from "numpy/ndarraytypes.h":
    enum: NPY_HALF, NPY_FLOAT, NPY_DOUBLE

cdef extern from "gelu_fast.h":
    ctypedef void gf_loop(char **, const Py_ssize_t *, const Py_ssize_t *, void *) noexcept nogil
    const char *gf_function_name(int i) nogil
    gf_loop *const *gf_function_loops(int i) nogil
    void gf_run_rows(gf_loop *loop, int nargs, char **args, Py_ssize_t rows, Py_ssize_t cols,
                     const Py_ssize_t *row_steps, const Py_ssize_t *steps) nogil
    void gf_set_num_threads(int n) nogil
    int gf_get_num_threads() nogil
    int gf_openmp_enabled() nogil
    const char *gf_simd_level() nogil
    enum: GF_ISA_BASELINE, GF_ISA_AVX2, GF_ISA_AVX512
    int gf_isa_supported(int level) nogil
    int gf_set_isa(int level) nogil
    int gf_get_isa() nogil
    int gf_tier_count(int bits) nogil
    const char *gf_tier_name(int bits, int k) nogil

cdef extern from "gf_testing.h":
    int gf_set_fast_path(int on) nogil
    void gf_round_to_half(const double *inp, unsigned short *out, Py_ssize_t n) nogil
    void gf_widen_half(const unsigned short *inp, double *out, Py_ssize_t n) nogil
    Py_ssize_t gf_parallel_threshold
    void gf_set_parallel_threshold(Py_ssize_t n) nogil
    Py_ssize_t gf_stream_threshold
    void gf_set_stream_threshold(Py_ssize_t n) nogil
    int gf_get_tier_range(int bits, int k, float *x_low, float *x_high, float *grad_out_end) nogil
    int gf_get_saturation(int i, int bits, float *low, float *high) nogil

# The loops' type lists, float16, float32 and float64 in turn, for every
# argument count a ufunc of the list has (up to 5: 3 inputs, 2 outputs).
cdef char loop_types[6][15]
for _nargs in range(2, 6):
    for _k, _t in enumerate((NPY_HALF, NPY_FLOAT, NPY_DOUBLE)):
        for _j in range(_nargs):
            loop_types[_nargs][_k * _nargs + _j] = _t
cdef void *no_data[3]
no_data[:] = [NULL, NULL, NULL]

# The C side was built from the same function list (gelu_fast/_spec.py) as
# this package: function i of each is the same function.
for _i, _f in enumerate(ALL):
    if gf_function_name(_i) == NULL or gf_function_name(_i).decode() != _f.name:
        raise ImportError(f"gelu_fast: the extension's function {_i} is not {_f.name!r}: "
                          "it was built from another gelu_fast/_spec.py; rebuild it")
if gf_function_name(len(ALL)) != NULL:
    raise ImportError("gelu_fast: the extension has more functions than gelu_fast/_spec.py; rebuild it")

# NumPy keeps pointers to the name and doc strings: these bytes live as long as
# the module.
_keep_alive = []


cdef object _make_ufunc(str name, int row, int nin, int nout):
    # NumPy keeps the loops' address: the C table is static
    cdef PyUFuncGenericFunction *loops = <PyUFuncGenericFunction *>gf_function_loops(row)
    cdef bytes name_b = name.encode()
    cdef bytes doc_b = C_DOCS[name].encode()
    _keep_alive.extend((name_b, doc_b))
    ufunc = PyUFunc_FromFuncAndData(loops, no_data, &loop_types[nin + nout][0], 3, nin, nout,
                                    PyUFunc_None, name_b, doc_b, 0)
    # the full docstring, its first line naming the inputs (grad_out, x)
    document(ufunc)
    return ufunc


def _bfloat16():
    """ml_dtypes' bfloat16 dtype where ml_dtypes is installed, else None."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    if ml_dtypes is None:  # blocked in sys.modules
        return None
    import numpy as np
    return np.dtype(ml_dtypes.bfloat16)


cdef _add_bfloat16_loops(dict ufuncs, bf16):
    """Register each ufunc's bfloat16 loop for the dtype's number (a user
    dtype's, given out at ml_dtypes' import)."""
    cdef int types[5]
    cdef int typenum = bf16.num
    for row, f in enumerate(ALL):
        for j in range(f.nin + f.nout):
            types[j] = typenum
        PyUFunc_RegisterLoopForType(ufuncs[f.name], typenum,
                                    <PyUFuncGenericFunction>gf_function_loops(row)[3], types, NULL)


# The instruction-set levels, lowest first, and the one in use: the best
# this CPU and build can run, or the one GELU_FAST_ISA names.
ISA_LEVELS = {"baseline": GF_ISA_BASELINE, "avx2": GF_ISA_AVX2, "avx512": GF_ISA_AVX512}
ISA_CHOICES = ("auto", *ISA_LEVELS, "neon")


def isa_available():
    return [name for name, level in ISA_LEVELS.items() if gf_isa_supported(level)]


def _isa_from_environment():
    import os
    wanted = os.environ.get("GELU_FAST_ISA", "auto").strip().lower() or "auto"
    if wanted not in ISA_CHOICES:
        raise ImportError(f"gelu_fast: GELU_FAST_ISA={wanted!r} is not one of "
                          f"{', '.join(ISA_CHOICES)}")
    available = isa_available()
    if wanted == "auto":
        return available[-1]
    if wanted not in available:
        raise ImportError(f"gelu_fast: GELU_FAST_ISA={wanted!r} cannot run here: this CPU and "
                          f"build offer {', '.join(available)} (or unset it, or use 'auto')")
    return wanted


def _set_isa(str name):
    """Use the instruction-set level `name` (for the tests, which run every
    level the CPU has; GELU_FAST_ISA sets it for a process).  Not thread-safe:
    call it only while no ufunc is running."""
    global _fast_path
    if name not in ISA_LEVELS or not gf_set_isa(ISA_LEVELS[name]):
        raise ValueError(f"instruction-set level {name!r} is not among {isa_available()}")
    _fast_path = bool(gf_set_fast_path(1))


def isa():
    return next(name for name, level in ISA_LEVELS.items() if level == gf_get_isa())


_fast_path = False
_set_isa(_isa_from_environment())

UFUNCS = {f.name: _make_ufunc(f.name, row, f.nin, f.nout) for row, f in enumerate(ALL)}
BFLOAT16 = _bfloat16()
if BFLOAT16 is not None:
    _add_bfloat16_loops(UFUNCS, BFLOAT16)

_ROWS = {f.name: row for row, f in enumerate(ALL)}


def _run_rows(str name, tuple arrays):
    """Run ufunc `name` over 2-D arrays of one shape and one dtype (its
    inputs, then its outputs: any strides, stride 0 included), the rows split
    across the threads (gf_run_rows).  The caller checks that no output
    overlaps an input, unless it is that input itself."""
    import numpy as np
    cdef int nargs = len(arrays)
    cdef char *args[5]
    cdef Py_ssize_t row_steps[5]
    cdef Py_ssize_t steps[5]
    cdef Py_ssize_t rows, cols
    dtype = arrays[0].dtype
    kind = {np.dtype(np.float16): 0, np.dtype(np.float32): 1, np.dtype(np.float64): 2}.get(dtype)
    if kind is None and dtype == BFLOAT16:
        kind = 3
    f = ALL[_ROWS[name]]
    if kind is None or nargs != f.nin + f.nout or any(a.dtype != dtype for a in arrays):
        raise TypeError(f"_run_rows: {name} takes {f.nin + f.nout} arrays of one dtype")
    rows, cols = arrays[0].shape
    for k, a in enumerate(arrays):
        if a.shape != (rows, cols):
            raise ValueError("_run_rows: the arrays' shapes differ")
        args[k] = <char *><size_t>a.__array_interface__["data"][0]
        row_steps[k], steps[k] = a.strides
    cdef gf_loop *loop = gf_function_loops(_ROWS[name])[kind]
    with nogil:
        gf_run_rows(loop, nargs, args, rows, cols, row_steps, steps)


def set_num_threads(int n):
    gf_set_num_threads(n)


def get_num_threads():
    return gf_get_num_threads()


def _set_parallel_threshold(Py_ssize_t n):
    """For bench/threshold.py: 0 restores the built-in value."""
    gf_set_parallel_threshold(n)


def _set_stream_threshold(Py_ssize_t n):
    """For bench/stream.py and the tests: 0 restores the built-in value.  Not
    thread-safe: call it only while no ufunc is running."""
    gf_set_stream_threshold(n)


def _round_to_half(const double[::1] values):
    """The kernels' double -> float16 rounding, for tests (returns uint16 bits)."""
    import numpy as np
    out = np.empty(values.shape[0], dtype=np.uint16)
    cdef unsigned short[::1] o = out
    if values.shape[0]:
        gf_round_to_half(&values[0], &o[0], values.shape[0])
    return out


def _widen_half(const unsigned short[::1] bits):
    """The kernels' float16 -> double widening, for tests."""
    import numpy as np
    out = np.empty(bits.shape[0], dtype=np.float64)
    cdef double[::1] o = out
    if bits.shape[0]:
        gf_widen_half(&bits[0], &o[0], bits.shape[0])
    return out


def _set_fast_path(bint on):
    """Turn the vector tiers of the level in use on or off (for the tests,
    which check both paths); returns whether any runs.  Not thread-safe: call
    it only while no ufunc is running."""
    global _fast_path
    _fast_path = bool(gf_set_fast_path(on))
    return _fast_path


def _tiers():
    """The vector tiers that run, per storage type, in the order the loops
    run them: their names and ranges as the C code has them (for the tests):
    each covers x_low <= x < x_high, or |x| < x_high where x_low == -x_high,
    and for the backward functions |grad_out| < grad_out_end."""
    cdef float x_low, x_high, g_end
    out = {}
    for bits, dtype in ((32, "float32"), (16, "float16")):
        out[dtype] = []
        for k in range(gf_tier_count(bits)):
            gf_get_tier_range(bits, k, &x_low, &x_high, &g_end)
            out[dtype].append({"name": gf_tier_name(bits, k).decode(), "x": (x_low, x_high),
                               "grad_out_end": g_end})
    return out


def _saturation():
    """Per function and storage type, where the tiers' results saturate
    (low, high): x <= low gives a signed zero, x >= high gives x, 1 or
    grad_out (for the tests)."""
    cdef float low, high
    saturation = {}
    for i, f in enumerate(FUNCTIONS):
        for bits, dtype in ((32, "float32"), (16, "float16")):
            gf_get_saturation(i, bits, &low, &high)
            saturation[f.name, dtype] = (low, high)
    return saturation


def _fast_path_description():
    tiers = _tiers()
    parts = [f"{dtype}: {', '.join(t['name'] for t in tiers[dtype])}" for dtype in tiers if tiers[dtype]]
    return "; ".join(parts) or None


def build_info():
    return {
        "openmp": bool(gf_openmp_enabled()),
        "isa": isa(),
        "isa_available": isa_available(),
        "simd": gf_simd_level().decode(),
        "fast_path": _fast_path_description(),
        "parallel_threshold": gf_parallel_threshold,
        "stream_threshold": gf_stream_threshold if _fast_path else None,
    }
