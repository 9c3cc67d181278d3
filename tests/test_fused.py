"""The fused ufuncs: each is bit-identical to the composition of NumPy's
ufuncs and ours that the spec names, for every dtype, layout and thread
count; functional's row-parallel path gives the same bits; and bfloat16
gives the same bits (tests/test_bfloat16.py covers bfloat16)."""
import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _spec
from gelu_fast import functional as F

DTYPES = [np.float16, np.float32, np.float64]


def _composed(f, *args):
    if f.op == "bias":
        return getattr(gf, f.first)(np.add(args[0], args[1]))
    if f.op == "bias_backward":
        return getattr(gf, f.first)(args[0], np.add(args[1], args[2]))
    if f.op == "gate":
        return np.multiply(getattr(gf, f.first)(args[0]), args[1])
    g, a, b = args
    return getattr(gf, f.second)(np.multiply(g, b), a), np.multiply(g, getattr(gf, f.first)(a))


def _inputs(f, dtype, shape=(37, 300), scale=3.0):
    rng = np.random.default_rng(len(f.name))
    arrays = [(scale * rng.standard_normal(shape)).astype(dtype) for _ in range(f.nin)]
    arrays[0].flat[:6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, -30.0]
    return arrays


def _equal(got, want):
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            _equal(a, b)
        return
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("f", _spec.FUSED, ids=lambda f: f.name)
@pytest.mark.parametrize("threads", [1, 2])
def test_fused_is_the_composition(f, dtype, threads):
    gf.set_num_threads(threads)
    try:
        args = _inputs(f, dtype)
        _equal(getattr(gf, f.name)(*args), _composed(f, *args))
        # a broadcast last input (a bias or gate row), strided and reversed views
        row = [*args[:-1], args[-1][0]]
        _equal(getattr(gf, f.name)(*row), _composed(f, *row))
        views = [a[::-1, ::2] for a in args]
        _equal(getattr(gf, f.name)(*views), _composed(f, *views))
        # the functional form's rows across threads
        if f.op == "bias":
            _equal(getattr(F, "bias_gelu")(*row, approximate=_form(f)), _composed(f, *row))
        if f.op == "bias_backward":
            _equal(F.bias_gelu_backward(*row, approximate=_form(f)), _composed(f, *row))
    finally:
        gf.set_num_threads(0)


def _form(f):
    return {"gelu": "none", "gelu_tanh": "tanh", "gelu_sigmoid": "sigmoid"}[f.form]


@pytest.mark.parametrize("f", _spec.FUSED, ids=lambda f: f.name)
def test_fused_in_place(f):
    args = _inputs(f, np.float32)
    want = _composed(f, *args)
    for k in range(f.nin):
        copies = [a.copy() for a in args]
        out = copies[k] if f.nout == 1 else (copies[k], np.empty_like(copies[k]))
        got = getattr(gf, f.name)(*copies, out=out)
        _equal(got, want)


@pytest.mark.parametrize("approximate", ["none", "tanh", "sigmoid"])
def test_functional_geglu_halves(approximate):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 2 * 700)).astype(np.float32)
    g = rng.standard_normal((64, 700)).astype(np.float32)
    a, b = x[:, :700], x[:, 700:]
    name = {"none": "geglu", "tanh": "geglu_tanh", "sigmoid": "geglu_sigmoid"}[approximate]
    _equal(F.geglu(x, approximate=approximate), getattr(gf, name)(a, b))
    ga, gb = getattr(gf, name + "_backward")(g, a, b)
    _equal(F.geglu_backward(g, x, approximate=approximate), np.concatenate([ga, gb], axis=1))
    with pytest.raises(ValueError):
        F.geglu(x[:, :-1])


LAYOUTS = {
    "3-D, bias row": ((4, 9, 130), (130,)),
    "bias (1, C)": ((37, 300), (1, 300)),
    "bias column": ((37, 300), (37, 1)),
    "0-d bias": ((37, 300), ()),
    "bias per element": ((37, 300), (37, 300)),
    "one row": ((1, 300), (300,)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_rows_any_layout(layout, dtype):
    """functional's row path (the C fold of the leading dimensions) gives the
    ufunc's bits for every shape, view and output it takes or declines."""
    xs, bs = LAYOUTS[layout]
    rng = np.random.default_rng(3)
    x = (3 * rng.standard_normal(xs)).astype(dtype)
    b = (3 * rng.standard_normal(bs)).astype(dtype)
    g = rng.standard_normal(xs).astype(dtype)
    try:
        for threads in (1, 2):
            gf.set_num_threads(threads)
            for xv in (x, x[::-1], np.swapaxes(x, 0, -1) if b.ndim == 0 else x):
                want = gf.bias_gelu(xv, b)
                _equal(F.bias_gelu(xv, b), want)
                out = np.full_like(want, np.nan)
                assert F.bias_gelu(xv, b, out=out) is out
                _equal(out, want)
                gv = np.broadcast_to(g, xs) if xv.shape == xs else np.ones_like(xv)
                _equal(F.bias_gelu_backward(gv, xv, b), gf.bias_gelu_backward(gv, xv, b))
            # in place, and an output that overlaps x shifted (the ufunc's copy)
            y = x.copy()
            _equal(F.bias_gelu(y, b, out=y), gf.bias_gelu(x, b))
            flat = np.concatenate([x.ravel(), x.ravel()[:7]])
            shifted_in, shifted_out = flat[7:].reshape(xs), flat[:-7].reshape(xs)
            want = gf.bias_gelu(shifted_in.copy(), b)
            _equal(F.bias_gelu(shifted_in, b, out=shifted_out), want)
    finally:
        gf.set_num_threads(0)


def test_functional_mixed_dtypes_and_scalars_go_through_the_ufunc():
    x = np.linspace(-5, 5, 600, dtype=np.float32).reshape(6, 100)
    _equal(F.bias_gelu(x, 0.5), gf.bias_gelu(x, 0.5))
    _equal(F.bias_gelu(x, np.float64(0.5)), gf.bias_gelu(x, np.float64(0.5)))
    _equal(F.bias_gelu(x, np.ones(100, np.float64)), gf.bias_gelu(x, np.ones(100, np.float64)))
    _equal(F.bias_gelu(x.tolist(), [0.5] * 100), gf.bias_gelu(x.tolist(), [0.5] * 100))
    with pytest.raises(ValueError):
        F.bias_gelu(x, np.ones(99, np.float32))


@pytest.mark.parametrize("f", [f for f in _spec.FUSED if f.op != "gate_backward"], ids=lambda f: f.name)
def test_every_size_and_step_streamed_and_not(f):
    """The same bits as the composition, streamed (a long call) or not, for
    a bias or gate per element, one value and a reversed one, at every size
    around the fused blocks and the tiers' chunks, into a misaligned output."""
    rng = np.random.default_rng(11)
    try:
        for threshold in (0, 1):
            gf._ufuncs._set_stream_threshold(threshold)
            for n in (1, 15, 16, 17, 255, 1023, 1024, 1025, 2047, 2048, 2049, 5003):
                args = [(4 * rng.standard_normal(n)).astype(np.float32) for _ in range(f.nin)]
                args[-2][:3] = [np.nan, np.inf, -np.inf][: min(3, n)]
                for bias in (args[-1], args[-1][:1], args[-1][::-1]):
                    call = [*args[:-1], bias if bias.size > 1 else bias[0]]
                    _equal(getattr(gf, f.name)(*call), _composed(f, *call))
                    off = np.empty(n + 1, np.float32)[1:]  # a misaligned output
                    _equal(getattr(gf, f.name)(*call, out=off), _composed(f, *call))
    finally:
        gf._ufuncs._set_stream_threshold(0)
