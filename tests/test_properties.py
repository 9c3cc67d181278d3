"""Property-based: random dtypes, shapes, strides, out= and where= for every
ufunc; each result must equal the ufunc on a contiguous copy, bit for bit, and
the input must be untouched.  A quick profile by default; set
GELU_FAST_HYPOTHESIS_EXAMPLES for a long run."""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from conftest import ALL, bit_equal, call  # noqa: E402

EXAMPLES = int(os.environ.get("GELU_FAST_HYPOTHESIS_EXAMPLES", "60"))
DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8])


@st.composite
def strided_arrays(draw):
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7))
    elements = None
    if np.dtype(dtype).kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=np.dtype(dtype).itemsize * 8)
    base = draw(hnp.arrays(dtype, tuple(s * 2 + 1 for s in shape), elements=elements))
    index = tuple(slice(None, None, draw(st.sampled_from([1, 2, -1, -2]))) for _ in shape)
    view = base[index]
    view = np.asarray(view[tuple(slice(0, s) for s in shape)])
    if view.ndim >= 2 and draw(st.booleans()):
        view = view.T
    return view


@settings(max_examples=EXAMPLES, deadline=None)
@given(x=strided_arrays(), name=st.sampled_from(ALL), data=st.data())
def test_any_layout_matches_contiguous(x, name, data):
    before = x.copy()
    contiguous = x.copy(order="C")  # (ascontiguousarray would make 0-d into 1-d)
    expected = call(name, contiguous)
    assert bit_equal(call(name, x), expected)
    assert bit_equal(x, before)
    mode = data.draw(st.sampled_from(["fresh", "where", "inplace"]))
    if mode == "fresh":
        out = np.empty(x.shape, dtype=expected.dtype)
        call(name, x, out=out)
        assert bit_equal(out, expected)
    elif mode == "where":
        mask = data.draw(hnp.arrays(np.bool_, x.shape))
        out = np.zeros(x.shape, dtype=expected.dtype)
        call(name, x, out=out, where=mask)
        assert bit_equal(out[mask], expected[mask])
        assert (out[~mask] == 0).all()
    elif x.dtype == expected.dtype and x.size:
        y = x.copy()
        call(name, y, out=y)
        assert bit_equal(y, expected)
