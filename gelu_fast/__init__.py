"""gelu_fast: GELU and its gradients as NumPy ufuncs, accurate to 1 ULP.

Every function is a real ``numpy.ufunc`` over C kernels (``src_c/``), so
``out=``, ``where=``, broadcasting, casting and ``__array_ufunc__`` dispatch
(Dask, xarray, pandas) come from NumPy.
"""
from gelu_fast._ufuncs import UFUNCS as _UFUNCS, build_info as _build_info
from gelu_fast._ufuncs import get_num_threads as _get_num_threads
from gelu_fast._ufuncs import set_num_threads as _set_num_threads
from gelu_fast._spec import NAMES as _NAMES

__version__ = "0.1.0"

# one module attribute per ufunc, named as in the function list (_spec.py)
globals().update(_UFUNCS)

from gelu_fast import functional  # noqa: E402  (needs the ufuncs above)


def set_num_threads(n):
    """Fix the number of OpenMP threads the kernels use.

    ``n`` is a non-negative integer: a Python ``int`` or a NumPy integer
    (anything ``operator.index`` accepts).  ``bool`` is refused (``True`` is
    an int to Python, but here almost surely a mistake), and so are floats
    (even ``2.0``) and strings such as ``"2"``: TypeError.
    A negative ``n``, or one above 2**31 - 1, raises ValueError.

    ``n >= 1`` takes precedence over ``OMP_NUM_THREADS`` and threadpoolctl,
    for every Python thread.  ``set_num_threads(0)`` returns to the OpenMP
    default, which is read at each call.  Arrays shorter than
    ``info()["parallel_threshold"]`` always run on the calling thread.
    """
    import operator

    int_max = 2**31 - 1  # the C int the count is kept in
    if isinstance(n, bool):
        raise TypeError(f"set_num_threads: n must be an int, not bool ({n!r})")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(
            f"set_num_threads: n must be an int, got {type(n).__name__} {n!r}") from None
    if n < 0:
        raise ValueError(f"set_num_threads: n must be >= 0, got {n}")
    if n > int_max:
        raise ValueError(f"set_num_threads: n must be at most {int_max}, got {n}")
    _set_num_threads(n)


def get_num_threads():
    """Number of threads a large call would use now."""
    return _get_num_threads()


def info():
    """Build and runtime facts: version, OpenMP, thread count, the
    instruction-set level in use (``isa``: "baseline", "avx2" or "avx512"; the
    best of ``isa_available`` unless the environment variable GELU_FAST_ISA,
    read at import, names another), the loops' SIMD level in words, the
    fast path in use (``"avx512 pieces (float32, float16)"`` where the CPU has
    AVX-512F, VL, BW and DQ, else None), the size from which a call splits
    across threads (``parallel_threshold``) and, with the fast path, from which
    its float32 results bypass the caches (``stream_threshold``)."""
    d = {"version": __version__}
    d.update(_build_info())
    d["num_threads"] = get_num_threads()
    return d


__all__ = [*_NAMES, "functional", "set_num_threads", "get_num_threads", "info"]
