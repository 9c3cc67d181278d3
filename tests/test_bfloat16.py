"""bfloat16 (ml_dtypes' dtype): every ufunc has loops for it, bfloat16 in and
out, each result correctly rounded from the exact value: all 65 536 inputs of
the unary functions, and a dense grid of pairs for the binary ones.  The
reference is SciPy in float64, rounded once by tests/_reference.py, with mpmath
deciding the values float64 leaves on a midpoint."""
import mpmath as mp
import numpy as np
import pytest

import gelu_fast as gf
import _reference as ref

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)
ALL = np.arange(2**16, dtype=np.uint16).view(BF16)
FORWARD = ["gelu", "gelu_tanh", "gelu_sigmoid"]
GRAD = ["gelu_grad", "gelu_tanh_grad", "gelu_sigmoid_grad"]


def _same_bits(got, want_bits, signed_zero=True):
    """Indices where the bits differ (any nan matches a nan; with
    signed_zero=False, -0 matches +0, as for the derivatives, whose zero sign
    the float64 reference cannot know where they underflow)."""
    got_bits = got.view(np.uint16)
    nan = (want_bits & 0x7FFF) > 0x7F80
    same = (got_bits == want_bits) | (nan & ((got_bits & 0x7FFF) > 0x7F80))
    if not signed_zero:
        same |= ((got_bits & 0x7FFF) == 0) & ((want_bits & 0x7FFF) == 0)
    return np.flatnonzero(~same)


@pytest.mark.parametrize("name", FORWARD + GRAD)
def test_every_input_correctly_rounded(name):
    y = getattr(gf, name)(ALL)
    assert y.dtype == BF16
    with np.errstate(invalid="ignore"):  # the nan patterns
        x = ALL.astype(np.float64)
    if name in FORWARD:
        values, mp_func = ref.FORWARD_F64[name](x), ref.FORWARD_MP[name]
    else:
        values, mp_func = ref.GRAD_F64[name](x)[0], (lambda v, f=ref.GRAD_MP[name]: f(v)[0])
    finite = np.isfinite(x)
    xf = x[finite]
    want = ref.round_to_bfloat16(values[finite], lambda i: mp_func(xf[i]))
    bad = _same_bits(y[finite], want, signed_zero=name in FORWARD)
    assert bad.size == 0, (bad.size, x[finite][bad[:5]], y[finite][bad[:5]])
    # inf and nan inputs: the limits, and nan for nan
    assert np.array_equal(getattr(gf, name)(np.array([np.inf, -np.inf], BF16)).astype(np.float64),
                          [np.inf, -0.0] if name in FORWARD else [1.0, 0.0])
    assert np.isnan(getattr(gf, name)(np.array([np.nan], BF16)).astype(np.float64)).all()


def _grad_grid():
    """Every finite bfloat16 x against 48 grad_out values spread over the
    exponent range, both signs (3.1 million pairs)."""
    x = ALL[np.isfinite(ALL.astype(np.float32))]
    g = np.geomspace(2.0**-130, 2.0**120, 24)
    g = np.concatenate([g, -g * 1.37]).astype(BF16)
    return g[:, None], x[None, :]


@pytest.mark.parametrize("name", ["gelu_backward", "gelu_tanh_backward", "gelu_sigmoid_backward"])
def test_backward_pairs_correctly_rounded(name):
    g, x = _grad_grid()
    y = getattr(gf, name)(g, x)
    assert y.dtype == BF16
    value, _ = ref.GRAD_F64[name.replace("backward", "grad")](x.astype(np.float64))
    with np.errstate(over="ignore"):
        exact = g.astype(np.float64) * value
    gg, xx = np.broadcast_arrays(g.astype(np.float64), x.astype(np.float64))
    grad_mp = ref.GRAD_MP[name.replace("backward", "grad")]
    want = ref.round_to_bfloat16(exact, lambda i: mp.mpf(gg.flat[i]) * grad_mp(xx.flat[i])[0])
    bad = _same_bits(y, want, signed_zero=False)
    assert bad.size == 0, (bad.size, np.broadcast_to(x, y.shape).flat[bad[:5]])


@pytest.mark.parametrize("f", gf._spec.FUSED, ids=lambda f: f.name)
def test_fused_equal_their_compositions(f):
    """In bfloat16 as in the other dtypes a fused ufunc rounds where its
    composition does: the sum x + bias (or product) to bfloat16, then the
    function, correctly rounded each."""
    rng = np.random.default_rng(5)
    args = [(3 * rng.standard_normal((64, 257))).astype(BF16) for _ in range(f.nin)]
    args[0].flat[:5] = [np.inf, -np.inf, np.nan, 0.0, -30.0]
    got = getattr(gf, f.name)(*args)
    if f.op == "bias":
        want = getattr(gf, f.first)(np.add(*args))
    elif f.op == "bias_backward":
        want = getattr(gf, f.first)(args[0], np.add(args[1], args[2]))
    elif f.op == "gate":
        want = np.multiply(getattr(gf, f.first)(args[0]), args[1])
    else:
        g, a, b = args
        want = (getattr(gf, f.second)(np.multiply(g, b), a), np.multiply(g, getattr(gf, f.first)(a)))
    for a, b in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert a.dtype == BF16 == b.dtype
        assert len(_same_bits(a, b.view(np.uint16))) == 0


def test_sum_rounds_once():
    """The bias sum itself is correctly rounded: against float64 (exact for a
    sum of two bfloat16 values) rounded once."""
    x, b = np.meshgrid(ALL[::97], ALL[::101])
    ok = np.isfinite(x.astype(np.float32)) & np.isfinite(b.astype(np.float32))
    x, b = x[ok], b[ok]
    got = gf.bias_gelu(x, b)
    with np.errstate(all="ignore"):
        s = x.astype(np.float64) + b.astype(np.float64)
    s_bf = ref.round_to_bfloat16(s).view(BF16)
    assert len(_same_bits(got, gf.gelu(s_bf).view(np.uint16))) == 0


def test_threads_and_strides_give_the_same_bits():
    x = np.tile(ALL, 40)[::-3]
    try:
        gf.set_num_threads(1)
        one = gf.gelu(x)
        gf.set_num_threads(2)
        two = gf.gelu(x)
    finally:
        gf.set_num_threads(0)
    assert np.array_equal(one.view(np.uint16), two.view(np.uint16))
    assert np.array_equal(gf.gelu(np.ascontiguousarray(x)).view(np.uint16), one.view(np.uint16))


@pytest.mark.parametrize("name", FORWARD + GRAD)
def test_in_place_and_views(name):
    f = getattr(gf, name)
    want = f(ALL)
    y = ALL.copy()
    assert f(y, out=y) is y
    assert np.array_equal(y.view(np.uint16), want.view(np.uint16))
    # a strided, reversed view and an output shifted by one element
    assert np.array_equal(f(ALL[::-2]).view(np.uint16), want[::-2].view(np.uint16))
    buf = np.concatenate([ALL, ALL[:1]])
    got = f(buf[1:], out=buf[:-1])
    assert np.array_equal(got.view(np.uint16), np.roll(want, -1).view(np.uint16))
