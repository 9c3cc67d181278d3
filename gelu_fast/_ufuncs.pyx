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


cdef int _loop_kind(int num):
    """The loop table's column for a dtype's number (float16, float32,
    float64, bfloat16), or -1."""
    if num == NPY_HALF:
        return 0
    if num == NPY_FLOAT:
        return 1
    if num == NPY_DOUBLE:
        return 2
    if BFLOAT16 is not None and num == BFLOAT16.num:
        return 3
    return -1


cdef inline Py_ssize_t _stride_in(cnp.ndarray a, int nd, int d, const Py_ssize_t *shape):
    """a's stride along dimension d of `shape` (a's dimensions aligned to its
    end), 0 where a is broadcast there; -1 where a cannot broadcast."""
    cdef int off = nd - cnp.PyArray_NDIM(a)
    if d < off:
        return 0
    cdef Py_ssize_t size = cnp.PyArray_DIMS(a)[d - off]
    if size == shape[d]:
        return cnp.PyArray_STRIDES(a)[d - off] if size != 1 else 0
    return 0 if size == 1 else -1


cdef bint _rows_of(cnp.ndarray a, int nd, const Py_ssize_t *shape, Py_ssize_t *row_step,
                   Py_ssize_t *step):
    """a, broadcast to `shape` (nd >= 2 dimensions), as rows of shape[nd - 1]
    elements: the step between rows and within one.  False where a does not
    broadcast to shape, or its leading dimensions do not fold into one (each
    stride the next non-unit dimension's stride times that one's size)."""
    cdef int d
    cdef Py_ssize_t stride, inner = 0, inner_size = 0
    cdef bint seen = False
    if cnp.PyArray_NDIM(a) > nd:
        return False
    for d in range(nd):
        if _stride_in(a, nd, d, shape) == -1 and shape[d] != 1:
            return False
    step[0] = _stride_in(a, nd, nd - 1, shape)
    row_step[0] = 0
    for d in range(nd - 2, -1, -1):
        if shape[d] == 1:
            continue
        stride = _stride_in(a, nd, d, shape)
        if not seen:
            row_step[0] = stride
        elif stride != inner * inner_size:
            return False
        inner, inner_size, seen = stride, shape[d], True
    return True


def _by_rows(str name, tuple inputs, object out):
    """ufunc `name` over plain arrays of one dtype, the rows of their
    broadcast shape split across the threads (gf_run_rows), the results
    NumPy's loop gives row by row; None (nothing done) where that does not
    apply: the caller then calls the ufunc.  `out`: None, or a tuple of the
    outputs (exact ndarrays of the broadcast shape)."""
    cdef int row = _ROWS[name]
    f = ALL[row]
    cdef int nin = f.nin, nout = f.nout, nargs = nin + nout, k, o, nd = 0, kind
    cdef char *args[5]
    cdef Py_ssize_t row_steps[5]
    cdef Py_ssize_t steps[5]
    cdef Py_ssize_t shape[32]
    cdef Py_ssize_t rows = 1, cols, size
    cdef cnp.ndarray a
    if len(inputs) != nin:
        return None
    for v in inputs:
        if type(v) is not cnp.ndarray:
            return None
    cdef cnp.ndarray first = <cnp.ndarray>inputs[0]
    cdef int typenum = cnp.PyArray_TYPE(first)
    kind = _loop_kind(typenum)
    if kind < 0:
        return None
    for v in inputs:
        a = <cnp.ndarray>v
        if cnp.PyArray_TYPE(a) != typenum or not cnp.PyArray_ISNOTSWAPPED(a):
            return None
        if cnp.PyArray_NDIM(a) > nd:
            nd = cnp.PyArray_NDIM(a)
    if nd < 2 or nd > 32:
        return None
    for k in range(nd):
        shape[k] = 1
    for v in inputs:
        a = <cnp.ndarray>v
        for k in range(cnp.PyArray_NDIM(a)):
            size = cnp.PyArray_DIMS(a)[k]
            o = nd - cnp.PyArray_NDIM(a) + k
            if shape[o] == 1:
                shape[o] = size
            elif size != 1 and size != shape[o]:
                return None  # not broadcastable: the ufunc says so
    for k in range(nd):
        if shape[k] == 0:
            return None
        if k < nd - 1:
            rows *= shape[k]
    cols = shape[nd - 1]
    if out is None:
        out = tuple(_empty_like_shape(first, nd, shape) for _ in range(nout))
    else:
        for v in out:
            if type(v) is not cnp.ndarray:
                return None
            a = <cnp.ndarray>v
            if (cnp.PyArray_NDIM(a) != nd or not cnp.PyArray_ISWRITEABLE(a)
                    or cnp.PyArray_TYPE(a) != typenum or not cnp.PyArray_ISNOTSWAPPED(a)):
                return None
            for k in range(nd):
                if cnp.PyArray_DIMS(a)[k] != shape[k]:
                    return None
        import numpy as np
        for v in out:
            for w in inputs:
                if np.may_share_memory(v, w) and not _same_elements(<cnp.ndarray>v, <cnp.ndarray>w):
                    return None
        if nout == 2 and np.may_share_memory(out[0], out[1]):
            return None
    for k in range(nargs):
        a = <cnp.ndarray>(inputs[k] if k < nin else out[k - nin])
        if not _rows_of(a, nd, shape, &row_steps[k], &steps[k]):
            return None
        args[k] = <char *>cnp.PyArray_DATA(a)
    cdef gf_loop *loop = gf_function_loops(row)[kind]
    with nogil:
        gf_run_rows(loop, nargs, args, rows, cols, row_steps, steps)
    return out


cdef object _empty_like_shape(cnp.ndarray like, int nd, Py_ssize_t *shape):
    """A new C-ordered array of `shape`, of like's dtype (bfloat16 too)."""
    return cnp.PyArray_EMPTY(nd, <cnp.npy_intp *>shape, cnp.PyArray_TYPE(like), 0)


cdef bint _same_elements(cnp.ndarray o, cnp.ndarray a):
    """Whether a is o itself (same data, shape and strides): an in-place call."""
    cdef int k
    if cnp.PyArray_DATA(o) != cnp.PyArray_DATA(a) or cnp.PyArray_NDIM(o) != cnp.PyArray_NDIM(a):
        return False
    for k in range(cnp.PyArray_NDIM(o)):
        if cnp.PyArray_DIMS(o)[k] != cnp.PyArray_DIMS(a)[k] or cnp.PyArray_STRIDES(o)[k] != cnp.PyArray_STRIDES(a)[k]:
            return False
    return True


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
