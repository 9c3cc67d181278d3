# Type stubs for gelu_fast.functional.  Results are Any: a ufunc gives a NumPy
# scalar for scalar and 0-d inputs, an ndarray for arrays, and the input's own
# type for Dask, xarray and pandas objects; with out= it returns out.
from typing import Any, Literal, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike

_Approximate = Literal["none", "tanh", "sigmoid"]
_ArrayT = TypeVar("_ArrayT", bound=np.ndarray[Any, Any])

@overload
def gelu(x: ArrayLike, approximate: _Approximate, out: _ArrayT) -> _ArrayT: ...
@overload
def gelu(x: ArrayLike, approximate: _Approximate = "none", *, out: _ArrayT) -> _ArrayT: ...
@overload
def gelu(x: ArrayLike, approximate: _Approximate = "none", out: None = None) -> Any: ...
@overload
def gelu_backward(grad_out: ArrayLike, x: ArrayLike, approximate: _Approximate,
                  out: _ArrayT) -> _ArrayT: ...
@overload
def gelu_backward(grad_out: ArrayLike, x: ArrayLike, approximate: _Approximate = "none", *,
                  out: _ArrayT) -> _ArrayT: ...
@overload
def gelu_backward(grad_out: ArrayLike, x: ArrayLike, approximate: _Approximate = "none",
                  out: None = None) -> Any: ...

def bias_gelu(x: ArrayLike, bias: ArrayLike, approximate: _Approximate = "none",
              out: np.ndarray[Any, Any] | None = None) -> Any: ...
def bias_gelu_backward(grad_out: ArrayLike, x: ArrayLike, bias: ArrayLike,
                       approximate: _Approximate = "none",
                       out: np.ndarray[Any, Any] | None = None) -> Any: ...
def geglu(x: ArrayLike, axis: int = -1, approximate: _Approximate = "none",
          out: np.ndarray[Any, Any] | None = None) -> Any: ...
def geglu_backward(grad_out: ArrayLike, x: ArrayLike, axis: int = -1,
                   approximate: _Approximate = "none",
                   out: np.ndarray[Any, Any] | None = None) -> Any: ...
