"""Every one of the 2**32 float32 inputs, against the float64 reference.

Marked slow (minutes): the default `pytest` run skips it, `.ci/run` runs it
with `pytest -m slow`.  The inputs are enumerated as bit patterns in chunks of
2**20; non-finite inputs are covered by test_accuracy's special-value tests.
"""
import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _reference as ref

CHUNK = 1 << 20  # keeps temporaries small enough to be reused, not re-mapped


def max_ulp_over_all_float32(name):
    f = getattr(gf, name)
    reference = ref.FORWARD_F64.get(name)
    grad_reference = ref.GRAD_F64.get(name)
    worst, worst_x = 0.0, None
    out = np.empty(CHUNK, dtype=np.float32)
    for start in range(0, 1 << 32, CHUNK):
        x = np.arange(start, start + CHUNK, dtype=np.uint64).astype(np.uint32).view(np.float32)
        x = x[np.isfinite(x)]
        if x.size == 0:  # a chunk of nan patterns
            continue
        y = f(x, out=out[:x.size])
        if reference is not None:
            err = ref.ulp_error(y, reference(x), np.float32)
        else:
            value, scale = grad_reference(x)
            err = ref.ulp_error(y, value, np.float32, scale)
        i = int(np.argmax(err))
        if err[i] > worst:
            worst, worst_x = float(err[i]), float(x[i])
    return worst, worst_x


@pytest.mark.slow
@pytest.mark.parametrize("name,bound", [
    ("gelu", 1.0), ("gelu_grad", 2.0),
    ("gelu_tanh", 2.0), ("gelu_tanh_grad", 2.0),
    ("gelu_sigmoid", 2.0), ("gelu_sigmoid_grad", 2.0),
])
def test_every_float32_input(name, bound):
    worst, worst_x = max_ulp_over_all_float32(name)
    print(f"\n{name}: max {worst:.4f} ULP over all finite float32 inputs (at x={worst_x!r})")
    assert worst <= bound, (worst, worst_x)
