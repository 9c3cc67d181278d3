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
