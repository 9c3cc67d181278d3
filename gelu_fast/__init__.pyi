# Type stubs for gelu_fast.  The nine functions are numpy.ufunc objects made in
# the compiled _ufuncs module; their call signatures are NumPy's own.
from typing import TypedDict

import numpy as np

from gelu_fast import functional as functional

__version__: str
__all__ = [
    "gelu", "gelu_tanh", "gelu_sigmoid",
    "gelu_grad", "gelu_tanh_grad", "gelu_sigmoid_grad",
    "gelu_backward", "gelu_tanh_backward", "gelu_sigmoid_backward",
    "bias_gelu",
    "bias_gelu_tanh",
    "bias_gelu_sigmoid",
    "bias_gelu_backward",
    "bias_gelu_tanh_backward",
    "bias_gelu_sigmoid_backward",
    "geglu",
    "geglu_tanh",
    "geglu_sigmoid",
    "geglu_backward",
    "geglu_tanh_backward",
    "geglu_sigmoid_backward",
    "functional", "set_num_threads", "get_num_threads", "info",
]

# f(x): one input, one output
gelu: np.ufunc
gelu_tanh: np.ufunc
gelu_sigmoid: np.ufunc
gelu_grad: np.ufunc
gelu_tanh_grad: np.ufunc
gelu_sigmoid_grad: np.ufunc
# grad_out * f'(x): two inputs, one output
gelu_backward: np.ufunc
gelu_tanh_backward: np.ufunc
gelu_sigmoid_backward: np.ufunc
# fused: bias_* (x, bias) and bias_*_backward (grad_out, x, bias), one output;
# geglu* (a, b), one output; geglu*_backward (grad_out, a, b), two outputs
bias_gelu: np.ufunc
bias_gelu_tanh: np.ufunc
bias_gelu_sigmoid: np.ufunc
bias_gelu_backward: np.ufunc
bias_gelu_tanh_backward: np.ufunc
bias_gelu_sigmoid_backward: np.ufunc
geglu: np.ufunc
geglu_tanh: np.ufunc
geglu_sigmoid: np.ufunc
geglu_backward: np.ufunc
geglu_tanh_backward: np.ufunc
geglu_sigmoid_backward: np.ufunc

class InfoDict(TypedDict):
    """What info() returns.  A name for type checkers only: the module itself
    has no InfoDict, so import it under ``if typing.TYPE_CHECKING:``."""

    version: str
    openmp: bool
    isa: str
    isa_available: list[str]
    simd: str
    fast_path: str | None
    parallel_threshold: int
    stream_threshold: int | None
    num_threads: int

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def info() -> InfoDict: ...
