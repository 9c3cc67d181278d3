"""The AVX2 tier of the float32 loops (src_c/tier_avx2.c, the avx2 level):
the bounds across its boundaries, its results bit for bit the AVX-512 float32
tier's in its range (where this CPU has both), the general kernels' outside
it, and the tier chosen per element whatever the layout, placement, threads or
streaming.  Skipped where the CPU lacks AVX2 and FMA."""
import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _ufuncs

from conftest import ALL, around, assert_within_documented_bound, bit_equal, call, general_kernels


def _level_tiers(level, dtype="float32"):
    if level not in _ufuncs.isa_available():
        return {}
    before = _ufuncs.isa()
    try:
        _ufuncs._set_isa(level)
        return {t["name"]: t for t in _ufuncs._tiers()[dtype]}
    finally:
        _ufuncs._set_isa(before)


TIER = _level_tiers("avx2").get("tier_f32_avx2")
pytestmark = pytest.mark.skipif(TIER is None, reason="no AVX2 and FMA on this CPU")
END = TIER["x"][1] if TIER else np.nan  # |x| < END
G_END = TIER["grad_out_end"] if TIER else np.nan
SATURATION = _ufuncs._saturation()


@pytest.fixture(autouse=True)
def at_avx2():
    before = _ufuncs.isa()
    _ufuncs._set_isa("avx2")
    yield
    _ufuncs._set_isa(before)
    _ufuncs._set_stream_threshold(0)
    gf.set_num_threads(0)




def values(name, n=20_000, seed=0):
    """The tier's range and its edges, the pieces' joints (odd multiples of
    1/16), the gaps and saturated ranges beyond, and the specials, shuffled so
    that blocks of 16 mix them"""
    rng = np.random.default_rng(seed)
    low, high = SATURATION[name, "float32"]
    edges = []
    for b in (-END, END, low, high):
        edges += around(b)
    for k in range(-55, 56, 2):
        edges += around(k / 16, 2)
    parts = [rng.standard_normal(n), rng.uniform(-END, END, n // 2),
             rng.uniform(low - 5, -END, n // 4), rng.uniform(END, high + 5, n // 4),
             rng.choice([np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, -0.0, 1e-45, -1e-45], n // 8),
             np.array(edges, dtype=np.float64)]
    with np.errstate(over="ignore"):
        x = np.concatenate(parts).astype(np.float32)
    return x[rng.permutation(x.size)]


def grad_out_for(x, seed=1):
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        g = (rng.standard_normal(x.size) * 10.0 ** rng.integers(-40, 38, x.size)).astype(np.float32)
    special = rng.random(x.size) < 0.02
    g[special] = rng.choice(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, G_END, -G_END], dtype=np.float32),
                            special.sum())
    return g


def inputs(name, n=20_000, seed=0):
    x = values(name, n, seed)
    return x, (grad_out_for(x, seed + 1) if name.endswith("_backward") else None)


@pytest.mark.parametrize("name", ALL)
def test_within_documented_bounds(name):
    x, g = inputs(name)
    assert_within_documented_bound(name, call(name, x, g), x, g)


@pytest.mark.parametrize("name", ALL)
def test_outside_its_range_the_general_kernels(name):
    x, g = inputs(name)
    taken = np.abs(x) < END
    if g is not None:
        taken &= np.abs(g) < G_END
    assert bit_equal(call(name, x, g)[~taken], general_kernels(name, x, g)[~taken])


@pytest.mark.skipif("tier_f32_avx512" not in _level_tiers("avx512"), reason="no AVX-512 tier here")
@pytest.mark.parametrize("name", ALL)
def test_in_its_range_the_avx512_float32_tier_bit_for_bit(name):
    """The same tables and operations on 8 lanes as tier_f32_avx512 on 16"""
    x, g = inputs(name, n=200_000, seed=3)
    taken = np.abs(x) < END
    if g is not None:
        taken &= np.abs(g) < G_END
    y = call(name, x, g)
    _ufuncs._set_isa("avx512")
    assert bit_equal(y[taken], call(name, x, g)[taken])


@pytest.mark.parametrize("name", ALL)
def test_result_depends_only_on_the_element(name):
    x, g = inputs(name, n=5000)
    y = call(name, x, g)
    order = np.random.default_rng(2).permutation(x.size)
    assert bit_equal(call(name, x[order], None if g is None else g[order]), y[order])
    for start in (1, 7, 15, 17):
        for stop in (x.size - 3, x.size):
            part = slice(start, stop)
            assert bit_equal(call(name, x[part], None if g is None else g[part]), y[part])
    for n in range(1, 41):  # every tail length, alone
        assert bit_equal(call(name, x[:n], None if g is None else g[:n]), y[:n])


@pytest.mark.parametrize("name", ALL)
def test_layouts(name):
    """in place, strided, reversed, a broadcast grad_out"""
    x, g = inputs(name, n=3000)
    y = call(name, x, g)
    xc = x.copy()
    getattr(gf, name)(*((xc,) if g is None else (g, xc)), out=xc)
    assert bit_equal(xc, y)
    wide = np.repeat(x, 3)
    assert bit_equal(call(name, wide[::3], None if g is None else np.repeat(g, 3)[::3]), y)
    assert bit_equal(call(name, x[::-1], None if g is None else g[::-1]), y[::-1])
    if g is not None:
        for s in (np.float32(1.5), np.float32(-3e-41), np.float32(np.inf), np.float32(np.nan)):
            assert bit_equal(getattr(gf, name)(s, x), getattr(gf, name)(np.full_like(x, s), x))


@pytest.mark.parametrize("name", ALL)
def test_streamed_threaded_and_rare_gaps(name):
    """Standard-normal data with gaps placed at chunk edges and in runs that
    fill the stage mid-call: every result as the same elements alone give,
    streamed or not, on one thread and two, at every output offset mod 64 B"""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(300_001).astype(np.float32)
    chunk = 2048
    for at in (0, 15, chunk - 1, chunk, 5 * chunk + 7, x.size - 1):
        x[at] = -4.0
    x[100 * chunk:106 * chunk:16] = 3.9
    g = grad_out_for(x) if name.endswith("_backward") else None
    expected = np.concatenate([call(name, x[i:i + 1000], None if g is None else g[i:i + 1000])
                               for i in range(0, x.size, 1000)])
    buf = np.empty(x.size + 16, np.float32)
    for threads in (1, 2):
        gf.set_num_threads(threads)
        for threshold in (1 << 62, 1):
            _ufuncs._set_stream_threshold(threshold)
            for offset in (0, 3):
                out = buf[offset:offset + x.size]
                getattr(gf, name)(*((x,) if g is None else (g, x)), out=out)
                assert bit_equal(out, expected), (threads, threshold, offset)


F16_TIER = "tier_f16_avx2" in _level_tiers("avx2", "float16")
ALL_HALVES = np.arange(1 << 16, dtype=np.uint16).view(np.float16)


@pytest.mark.parametrize("name", ALL)
def test_float16_every_input_is_the_general_kernels_bit_for_bit(name):
    """All 65,536 float16 inputs: tier_f16_avx2 (forward functions) rounds
    correctly, as the general kernels do; the other functions skip it.  Also
    in place, strided and cut into every tail length."""
    assert F16_TIER
    g = np.float16(-1.5) if name.endswith("_backward") else None
    expected = general_kernels(name, ALL_HALVES, g)
    assert bit_equal(call(name, ALL_HALVES, g), expected)
    xc = ALL_HALVES.copy()
    getattr(gf, name)(*((xc,) if g is None else (g, xc)), out=xc)
    assert bit_equal(xc, expected)
    assert bit_equal(call(name, np.repeat(ALL_HALVES, 2)[::2], g), expected)
    for n in range(1, 20):
        assert bit_equal(call(name, ALL_HALVES[1000:1000 + n], g), expected[1000:1000 + n])


@pytest.mark.parametrize("name", ALL)
def test_float16_left_lanes_over_many_stages(name):
    """Mostly lanes the float16 tier leaves (|x| >= 3.4375), scattered among
    ones it takes: every result where the general kernels put it"""
    assert F16_TIER
    rng = np.random.default_rng(9)
    x = rng.uniform(-9, 9, 50_001).astype(np.float16)
    g = np.float16(0.75) if name.endswith("_backward") else None
    assert bit_equal(call(name, x, g), general_kernels(name, x, g))
