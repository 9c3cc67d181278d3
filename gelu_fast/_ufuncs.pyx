# cython: language_level=3
"""Registration table: wraps the C inner loops of src_c/ as NumPy ufuncs.

No numerics live here; see src_c/gelu_kernels.h for the kernels and their error
bounds, and gelu_fast/_docs.py for the docstrings.
"""
cimport numpy as cnp
from numpy cimport PyUFuncGenericFunction, PyUFunc_FromFuncAndData, PyUFunc_None

from gelu_fast._docs import C_DOCS, document

cnp.import_array()
cnp.import_ufunc()

cdef extern from "numpy/ndarraytypes.h":
    enum: NPY_HALF, NPY_FLOAT, NPY_DOUBLE

cdef extern from "gelu_fast.h":
    ctypedef void gf_loop(char **, const Py_ssize_t *, const Py_ssize_t *, void *) noexcept nogil
    gf_loop gf_gelu_f16, gf_gelu_f32, gf_gelu_f64
    gf_loop gf_gelu_tanh_f16, gf_gelu_tanh_f32, gf_gelu_tanh_f64
    gf_loop gf_gelu_sigmoid_f16, gf_gelu_sigmoid_f32, gf_gelu_sigmoid_f64
    gf_loop gf_gelu_grad_f16, gf_gelu_grad_f32, gf_gelu_grad_f64
    gf_loop gf_gelu_tanh_grad_f16, gf_gelu_tanh_grad_f32, gf_gelu_tanh_grad_f64
    gf_loop gf_gelu_sigmoid_grad_f16, gf_gelu_sigmoid_grad_f32, gf_gelu_sigmoid_grad_f64
    gf_loop gf_gelu_backward_f16, gf_gelu_backward_f32, gf_gelu_backward_f64
    gf_loop gf_gelu_tanh_backward_f16, gf_gelu_tanh_backward_f32, gf_gelu_tanh_backward_f64
    gf_loop gf_gelu_sigmoid_backward_f16, gf_gelu_sigmoid_backward_f32, gf_gelu_sigmoid_backward_f64
    void gf_set_num_threads(int n) nogil
    int gf_get_num_threads() nogil
    int gf_openmp_enabled() nogil
    const char *gf_simd_level() nogil
    int gf_set_fast_path(int on) nogil
    void gf_round_to_half(const double *inp, unsigned short *out, Py_ssize_t n) nogil
    void gf_widen_half(const unsigned short *inp, double *out, Py_ssize_t n) nogil
    Py_ssize_t gf_parallel_threshold
    void gf_set_parallel_threshold(Py_ssize_t n) nogil
    Py_ssize_t gf_stream_threshold
    void gf_set_stream_threshold(Py_ssize_t n) nogil

# Loops in the order NumPy should try them: float16, float32, float64.
cdef PyUFuncGenericFunction loops[9][3]
loops[0][:] = [<PyUFuncGenericFunction>gf_gelu_f16, <PyUFuncGenericFunction>gf_gelu_f32, <PyUFuncGenericFunction>gf_gelu_f64]
loops[1][:] = [<PyUFuncGenericFunction>gf_gelu_tanh_f16, <PyUFuncGenericFunction>gf_gelu_tanh_f32, <PyUFuncGenericFunction>gf_gelu_tanh_f64]
loops[2][:] = [<PyUFuncGenericFunction>gf_gelu_sigmoid_f16, <PyUFuncGenericFunction>gf_gelu_sigmoid_f32, <PyUFuncGenericFunction>gf_gelu_sigmoid_f64]
loops[3][:] = [<PyUFuncGenericFunction>gf_gelu_grad_f16, <PyUFuncGenericFunction>gf_gelu_grad_f32, <PyUFuncGenericFunction>gf_gelu_grad_f64]
loops[4][:] = [<PyUFuncGenericFunction>gf_gelu_tanh_grad_f16, <PyUFuncGenericFunction>gf_gelu_tanh_grad_f32, <PyUFuncGenericFunction>gf_gelu_tanh_grad_f64]
loops[5][:] = [<PyUFuncGenericFunction>gf_gelu_sigmoid_grad_f16, <PyUFuncGenericFunction>gf_gelu_sigmoid_grad_f32, <PyUFuncGenericFunction>gf_gelu_sigmoid_grad_f64]
loops[6][:] = [<PyUFuncGenericFunction>gf_gelu_backward_f16, <PyUFuncGenericFunction>gf_gelu_backward_f32, <PyUFuncGenericFunction>gf_gelu_backward_f64]
loops[7][:] = [<PyUFuncGenericFunction>gf_gelu_tanh_backward_f16, <PyUFuncGenericFunction>gf_gelu_tanh_backward_f32, <PyUFuncGenericFunction>gf_gelu_tanh_backward_f64]
loops[8][:] = [<PyUFuncGenericFunction>gf_gelu_sigmoid_backward_f16, <PyUFuncGenericFunction>gf_gelu_sigmoid_backward_f32, <PyUFuncGenericFunction>gf_gelu_sigmoid_backward_f64]

cdef char unary_types[6]
unary_types[:] = [NPY_HALF, NPY_HALF, NPY_FLOAT, NPY_FLOAT, NPY_DOUBLE, NPY_DOUBLE]
cdef char binary_types[9]
binary_types[:] = [NPY_HALF, NPY_HALF, NPY_HALF, NPY_FLOAT, NPY_FLOAT, NPY_FLOAT,
                   NPY_DOUBLE, NPY_DOUBLE, NPY_DOUBLE]
cdef void *no_data[3]
no_data[:] = [NULL, NULL, NULL]

# (name, loop row, number of inputs)
_TABLE = (
    ("gelu", 0, 1), ("gelu_tanh", 1, 1), ("gelu_sigmoid", 2, 1),
    ("gelu_grad", 3, 1), ("gelu_tanh_grad", 4, 1), ("gelu_sigmoid_grad", 5, 1),
    ("gelu_backward", 6, 2), ("gelu_tanh_backward", 7, 2), ("gelu_sigmoid_backward", 8, 2),
)

# NumPy keeps pointers to the name and doc strings: these bytes live as long as
# the module.
_keep_alive = []


cdef object _make_ufunc(str name, int row, int nin):
    cdef bytes name_b = name.encode()
    cdef bytes doc_b = C_DOCS[name].encode()
    cdef char *types = &unary_types[0] if nin == 1 else &binary_types[0]
    _keep_alive.extend((name_b, doc_b))
    ufunc = PyUFunc_FromFuncAndData(loops[row], no_data, types, 3, nin, 1, PyUFunc_None,
                                    name_b, doc_b, 0)
    # the full docstring, its first line naming the inputs (grad_out, x)
    document(ufunc)
    return ufunc


_fast_path = bool(gf_set_fast_path(1))

UFUNCS = {name: _make_ufunc(name, row, nin) for name, row, nin in _TABLE}


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
    """Turn the AVX-512 float32 fast path on or off (for the tests, which check
    both paths); returns whether it is on.  Not thread-safe: call it only while
    no ufunc is running."""
    global _fast_path
    _fast_path = bool(gf_set_fast_path(on))
    return _fast_path


def build_info():
    return {
        "openmp": bool(gf_openmp_enabled()),
        "simd": gf_simd_level().decode(),
        "fast_path": "avx512 pieces (float32, float16)" if _fast_path else None,
        "parallel_threshold": gf_parallel_threshold,
        "stream_threshold": gf_stream_threshold if _fast_path else None,
    }
