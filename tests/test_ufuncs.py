"""The ufuncs behave as NumPy ufuncs: dtypes and casting, out=, where=,
broadcasting, strides, errors.  (Accuracy is test_accuracy.py's job; here results
are compared with the same ufunc on a contiguous copy, bit for bit, or with the
float64 reference.)"""
import pickle

import numpy as np
import pytest

import gelu_fast as gf

import _reference as ref
from conftest import BACKWARD, awkward_values, bit_equal, call


def test_every_ufunc_is_a_real_ufunc(ufunc_name):
    f = getattr(gf, ufunc_name)
    assert isinstance(f, np.ufunc)
    assert f.__name__ == ufunc_name
    assert f.nin == (2 if ufunc_name in BACKWARD else 1) and f.nout == 1
    assert f.types[:3] == ["e" * f.nin + "->e", "f" * f.nin + "->f", "d" * f.nin + "->d"]
    assert "ULP" in f.__doc__


def test_pickles_by_name(ufunc_name):
    f = getattr(gf, ufunc_name)
    assert pickle.loads(pickle.dumps(f)) is f


@pytest.mark.parametrize("dtype,result", [
    (np.bool_, np.float16), (np.int8, np.float16), (np.uint8, np.float16),
    (np.int16, np.float32), (np.uint16, np.float32),
    (np.int32, np.float64), (np.int64, np.float64), (np.uint64, np.float64),
    (np.float16, np.float16), (np.float32, np.float32), (np.float64, np.float64),
])
def test_dtype_resolution_follows_numpy(dtype, result):
    x = np.arange(-3, 4).astype(dtype) if np.dtype(dtype).kind != "u" else np.arange(4).astype(dtype)
    y = gf.gelu(x)
    assert y.dtype == result == np.sin(x).dtype
    np.testing.assert_array_equal(y, gf.gelu(x.astype(result)))


def test_python_scalars_and_lists():
    assert isinstance(gf.gelu(1.0), np.float64)
    assert gf.gelu(0.0) == 0.0
    np.testing.assert_allclose(gf.gelu([-1.0, 1.0]), ref.gelu_f64([-1.0, 1.0]), rtol=1e-15)
    assert gf.gelu(np.float32(2)).dtype == np.float32


def test_long_double_input_raises_clear_error():
    # No float128 loop: NumPy refuses to cast it down under same_kind casting.
    x = np.ones(3, dtype=np.longdouble)
    if np.dtype(np.longdouble) == np.dtype(np.float64):
        pytest.skip("long double is double here")
    with pytest.raises(TypeError, match="gelu"):
        gf.gelu(x)


@pytest.mark.parametrize("n", list(range(0, 34)) + [63, 64, 65, 1000])
def test_all_lengths_match_the_reference(n, float_dtype):
    """Lengths 0..33 exercise every vector tail of the contiguous loop."""
    x = np.linspace(-6, 4, n).astype(float_dtype)
    for name in ("gelu", "gelu_tanh_grad"):
        y = call(name, x)
        z = np.array([call(name, x[i:i + 1])[0] for i in range(n)], dtype=float_dtype)
        assert bit_equal(y, z)


@pytest.mark.parametrize("step", [-4, -3, -2, -1, 1, 2, 3, 4])
def test_strided_bit_identical_to_contiguous(ufunc_name, float_dtype, step):
    x = awkward_values(float_dtype)
    xs = x[::step]
    expected = call(ufunc_name, np.ascontiguousarray(xs))
    assert bit_equal(call(ufunc_name, xs), expected)
    # strided output as well
    out = np.zeros(xs.size * 2, dtype=float_dtype)[::2]
    call(ufunc_name, xs, out=out)
    assert bit_equal(out, expected)


def test_transposed_and_nd_and_0d(ufunc_name, float_dtype):
    x = awkward_values(float_dtype)[:420].reshape(20, 21)
    expected = call(ufunc_name, np.ascontiguousarray(x.T))
    assert bit_equal(call(ufunc_name, x.T), expected)
    x4 = x.reshape(2, 5, 6, 7)[:, ::2, ::-1, 1:]
    assert bit_equal(call(ufunc_name, x4), call(ufunc_name, x4.copy()))
    zero_d = np.array(x[0, 3])
    assert call(ufunc_name, zero_d).shape == ()
    assert bit_equal(call(ufunc_name, zero_d), call(ufunc_name, x[0, 3:4])[0])
    for empty in (np.empty(0, float_dtype), np.empty((3, 0), float_dtype)):
        assert call(ufunc_name, empty).shape == empty.shape


def test_out_and_in_place(ufunc_name, float_dtype):
    x = awkward_values(float_dtype)
    expected = call(ufunc_name, x)
    out = np.empty_like(x)
    r = call(ufunc_name, x, out=out)
    assert r is out and bit_equal(out, expected)
    y = x.copy()
    r = call(ufunc_name, y, out=y)
    assert r is y and bit_equal(y, expected)
    r = call(ufunc_name, y[:1], out=(y[1:2],))
    assert r.base is y


def test_overlapping_out_is_buffered_by_numpy(float_dtype):
    x = np.linspace(-3, 3, 101).astype(float_dtype)
    expected = gf.gelu(x[:-1])
    y = x.copy()
    gf.gelu(y[:-1], out=y[1:])
    assert bit_equal(y[1:], expected)


def test_where(ufunc_name, float_dtype):
    x = awkward_values(float_dtype)
    mask = np.arange(x.size) % 3 == 0
    out = np.full_like(x, 7)
    call(ufunc_name, x, out=out, where=mask)
    assert bit_equal(out[mask], call(ufunc_name, x[mask]))
    assert (out[~mask] == 7).all()


def test_inputs_never_modified(ufunc_name, float_dtype):
    x = awkward_values(float_dtype)
    before = x.copy()
    call(ufunc_name, x)
    call(ufunc_name, x[::-2])
    assert bit_equal(x, before)


def _read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


X = np.linspace(-2, 2, 10)
# (case, positional inputs, keyword arguments, expected exception, message pattern)
# A backward ufunc gets grad_out = np.ones(1) in front of a single input; two
# inputs are passed as they are (to a unary ufunc the second is its out=).
BAD_INPUTS = [
    ("complex", (np.array([1 + 2j]),), {}, TypeError, "not supported"),
    ("object", (np.array([1.0], dtype=object),), {}, TypeError, "not supported"),
    ("string", (np.array(["a"]),), {}, TypeError, "not supported"),
    ("datetime", (np.array(["2020-01-01"], dtype="datetime64[D]"),), {}, TypeError, "not supported"),
    ("timedelta", (np.array([1], dtype="timedelta64[s]"),), {}, TypeError, "not supported"),
    ("python string", ("not a number",), {}, TypeError, None),
    ("None", (None,), {}, TypeError, None),
    ("dict", ({"a": 1},), {}, TypeError, None),
    ("ragged list", ([[1.0], [1.0, 2.0]],), {}, ValueError, "inhomogeneous"),
    ("mismatched broadcast shapes", (np.ones(5), np.ones(3)), {}, ValueError, "broadcast"),
    ("read-only out", (X,), {"out": _read_only(np.zeros(10))}, ValueError, "read-only"),
    ("wrong-shape out", (X,), {"out": np.zeros(3)}, ValueError, "shape"),
    ("integer out", (X,), {"out": np.zeros(10, dtype=np.int64)}, TypeError, "cast"),
    ("out tuple too long", (X,), {"out": (np.zeros(10), np.zeros(10))}, ValueError, "out"),
    ("where of wrong shape", (X,), {"out": np.zeros(10), "where": np.ones(3, bool)}, ValueError, "broadcast"),
    ("unknown keyword", (X,), {"approximate": "tanh"}, TypeError, "approximate"),
]


@pytest.mark.parametrize("case,inputs,kwargs,error,match", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_raises_numpy_style_error(ufunc_name, case, inputs, kwargs, error, match):
    f = getattr(gf, ufunc_name)
    if f.nin == 2 and len(inputs) == 1:
        inputs = (np.ones(1),) + inputs
    before = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in inputs]
    out_before = {k: np.array(v, copy=True) for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    with pytest.raises(error, match=match):
        f(*inputs, **kwargs)
    for a, b in zip(inputs, before):
        if isinstance(a, np.ndarray):
            assert a.tobytes() == b.tobytes()
    for k, v in out_before.items():
        assert kwargs[k].tobytes() == v.tobytes()


def test_backward_needs_two_inputs():
    with pytest.raises(TypeError):
        gf.gelu_backward(1.0)


def test_casting_and_dtype_arguments():
    x = np.linspace(-3, 3, 7)
    y = gf.gelu(x, dtype=np.float32)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, gf.gelu(x.astype(np.float32)))
    out = np.empty(7, dtype=np.float32)
    with pytest.raises(TypeError):
        gf.gelu(x, out=out, casting="safe")
    gf.gelu(x, out=out)  # same_kind allows float64 -> float32 output
    np.testing.assert_array_equal(out, gf.gelu(x).astype(np.float32))


def test_backward_broadcasts():
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    g_row, g_col, g_scalar = np.arange(4.0), np.arange(3.0)[:, None], 2.0
    for g in (g_row, g_col, g_scalar):
        expected = np.broadcast_to(g, x.shape) * gf.gelu_grad(x)
        np.testing.assert_allclose(gf.gelu_backward(g, x), expected, rtol=1e-15)
    with pytest.raises(ValueError, match="broadcast"):
        gf.gelu_backward(np.ones(5), x)
    assert gf.gelu_backward(np.float32(1), x.astype(np.float32)).dtype == np.float32
    assert gf.gelu_backward(np.float32(1), x).dtype == np.float64


def test_backward_is_grad_out_times_grad(float_dtype):
    x = awkward_values(float_dtype)
    x = x[np.isfinite(x)]
    for name in ("gelu", "gelu_tanh", "gelu_sigmoid"):
        b = getattr(gf, name + "_backward")(np.ones_like(x), x)
        assert bit_equal(b, getattr(gf, name + "_grad")(x))


def test_reduce_of_a_unary_ufunc_is_rejected():
    with pytest.raises(ValueError):
        gf.gelu.reduce(np.ones(3))


def test_byteswapped_and_unaligned(float_dtype):
    x = awkward_values(float_dtype)
    swapped = x.astype(x.dtype.newbyteorder())
    assert bit_equal(gf.gelu(swapped), gf.gelu(x))
    raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
    unaligned = raw[1:].view(x.dtype)
    unaligned[:] = x
    assert bit_equal(gf.gelu(unaligned), gf.gelu(x))


def test_nan_inputs_come_out_unchanged(ufunc_name, float_dtype):
    """A nan keeps its sign and payload, like NumPy's own ufuncs."""
    kind = {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}[float_dtype]
    nbits = np.dtype(kind).itemsize * 8
    quiet_bit = {16: 9, 32: 22, 64: 51}[nbits]
    exponent = {16: 0x7c00, 32: 0x7f800000, 64: 0x7ff0000000000000}[nbits]
    payloads = np.array([1 << quiet_bit, (1 << quiet_bit) | 5, (1 << quiet_bit) | 1], dtype=np.uint64)
    bits = (payloads | exponent).astype(kind)
    bits = np.concatenate([bits, bits | kind(1 << (nbits - 1))])  # both signs
    x = np.tile(bits.view(float_dtype), 7)  # long enough for the vector loop
    y = call(ufunc_name, x)
    assert np.array_equal(y.view(kind), x.view(kind))
