"""Property-based, for every ufunc: random dtypes (float16/32/64, integers),
shapes 0-d to 4-d (empty included), memory layouts (steps -4..4, axes permuted),
grad_out operands, and out= fresh, in place, overlapping the input, or under a
where= mask.  Each result must be bit-identical to the ufunc on contiguous
copies, agree with the independent reference within the documented bound, and
leave the inputs (and out's memory outside the view) untouched.

GELU_FAST_HYPOTHESIS_EXAMPLES sets the examples PER UFUNC: a quick profile by
default, 10 000 in CI (.ci/run).  derandomize=True: the same examples on every
run, so a CI failure reproduces."""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import gelu_fast as gf  # noqa: E402

from conftest import ALL, assert_within_documented_bound, bit_equal, call, default_grad_out  # noqa: E402

EXAMPLES = int(os.environ.get("GELU_FAST_HYPOTHESIS_EXAMPLES", "60"))
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8]
STEPS = [1, 2, 3, 4, -1, -2, -3, -4]
# Small sides keep an example cheap (10 000 per ufunc in CI); 4-d arrays of
# side 5 still span several vector blocks once strided.
MAX_SIDE = 5
SENTINEL = 0xA5  # the byte out's buffer is filled with, to see stray writes


@st.composite
def layouts(draw, shape):
    """A random memory layout for `shape`: (base_shape, view_of), where
    view_of(base) is a view of `shape` into a buffer of base_shape whose axes
    are permuted in memory and stepped by one of STEPS."""
    order = draw(st.permutations(range(len(shape))))
    steps = [draw(st.sampled_from(STEPS)) for _ in shape]
    memory_shape = [shape[axis] for axis in order]
    # +1: an element beyond the view's end, for stray writes to land on
    base_shape = tuple(abs(k) * n + 1 for k, n in zip(steps, memory_shape))
    stepped = tuple(slice(None, None, k) for k in steps) + (Ellipsis,)
    cut = tuple(slice(0, n) for n in memory_shape) + (Ellipsis,)  # (Ellipsis: a 0-d view, not a scalar)

    def view_of(base):
        return base[stepped][cut].transpose(np.argsort(order))
    return base_shape, view_of


@st.composite
def arrays_in_any_layout(draw, shape=None, dtype=None):
    """Hypothesis values placed in a random layout; the dtype (one of DTYPES)
    and the shape are drawn unless given."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)) if dtype is None else dtype)
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=MAX_SIDE))
    elements = None  # integers: hypothesis' default, the whole range
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8)
    values = draw(hnp.arrays(dtype, shape, elements=elements))
    base_shape, view_of = draw(layouts(shape))
    base = np.zeros(base_shape, dtype)
    view = view_of(base)
    view[...] = values
    return view


def out_in_any_layout(data, shape, dtype):
    """An out= operand of `shape` and `dtype` in a random layout, inside a
    buffer filled with SENTINEL bytes; returns (out, outside), where outside()
    gives the buffer's bytes that are not out's, to see that none was written."""
    base_shape, view_of = data.draw(layouts(shape))
    nbytes = int(np.prod(base_shape, dtype=np.int64)) * dtype.itemsize
    base = np.full(nbytes, SENTINEL, np.uint8).view(dtype).reshape(base_shape)
    not_out = np.ones(base_shape, bool)
    view_of(not_out)[...] = False
    return view_of(base), lambda: base[not_out].view(np.uint8)


def overlapping_pair(data, x):
    """(input, out): two views of x's shape and dtype into one buffer, out
    shifted from the input by 1..3 of their steps (ahead or behind), both with
    the same step and axis order; the input holds x's values.  NumPy must see
    the overlap and buffer, or the loop would read what it has just written."""
    n = x.size
    step = data.draw(st.sampled_from(STEPS))
    shift = data.draw(st.sampled_from([1, 2, 3, -1, -2, -3])) * abs(step)
    buffer = np.zeros(abs(step) * n + abs(shift), x.dtype)
    start_in, start_out = max(-shift, 0), max(shift, 0)
    inp = buffer[start_in:start_in + abs(step) * n:abs(step)]
    out = buffer[start_out:start_out + abs(step) * n:abs(step)]
    if step < 0:
        inp, out = inp[::-1], out[::-1]
    transposed = x.ndim >= 2 and data.draw(st.booleans())
    if transposed:
        inp, out = inp.reshape(x.shape[::-1]).T, out.reshape(x.shape[::-1]).T
    else:
        inp, out = inp.reshape(x.shape), out.reshape(x.shape)
    inp[...] = x
    return inp, out


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_any_layout_matches_contiguous_and_reference(name, data):
    x = data.draw(arrays_in_any_layout(), label="x")
    grad_out = None  # for a binary ufunc: call()'s scalar 1.5, or an array in its own layout
    if getattr(gf, name).nin == 2 and data.draw(st.booleans()):
        grad_out = data.draw(arrays_in_any_layout(shape=x.shape), label="grad_out")
    x_before = x.copy()
    g_before = None if grad_out is None else grad_out.copy()
    x_contiguous = x.copy(order="C")  # (ascontiguousarray would make 0-d into 1-d)
    g_contiguous = None if grad_out is None else grad_out.copy(order="C")
    expected = call(name, x_contiguous, grad_out=g_contiguous)
    assert_within_documented_bound(
        name, expected, x_contiguous, default_grad_out(x) if grad_out is None else g_contiguous)

    assert bit_equal(call(name, x, grad_out=grad_out), expected)
    assert bit_equal(x, x_before)
    assert grad_out is None or bit_equal(grad_out, g_before)

    modes = ["fresh", "where"]
    if x.dtype == expected.dtype:  # out may alias the input only without a cast
        modes += ["in place", "overlapping"]
    mode = data.draw(st.sampled_from(modes), label="mode")
    if mode == "fresh":
        out, outside = out_in_any_layout(data, x.shape, expected.dtype)
        assert call(name, x, grad_out=grad_out, out=out) is out
        assert bit_equal(out, expected)
        assert (outside() == SENTINEL).all()
    elif mode == "where":
        mask = data.draw(hnp.arrays(np.bool_, x.shape), label="where")
        out, outside = out_in_any_layout(data, x.shape, expected.dtype)
        untouched = out.copy()
        call(name, x, grad_out=grad_out, out=out, where=mask)
        assert bit_equal(out[mask], expected[mask])
        assert bit_equal(out[~mask], untouched[~mask])
        assert (outside() == SENTINEL).all()
    elif mode == "in place":
        y = data.draw(arrays_in_any_layout(shape=x.shape, dtype=x.dtype), label="in place")
        y[...] = x
        call(name, y, grad_out=grad_out, out=y)
        assert bit_equal(y, expected)
    else:
        inp, out = overlapping_pair(data, x)
        call(name, inp, grad_out=grad_out, out=out)
        assert bit_equal(out, expected)
