"""The AVX-512 tiers of the float32 and float16 loops (src_c/tier_avx512.c:
float32 pieces for float32 data, then double pieces, and double pieces for
float16 data): per-element choice of tier, the saturated ranges, the packing
of left lanes, signed zeros, and the bounds on both sides of every boundary.
Skipped where the CPU lacks AVX-512F, VL, BW or DQ (there the general kernels
run everywhere, which the other tests cover)."""
import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import _ufuncs

from conftest import ALL, around, assert_within_documented_bound, bit_equal, call, general_kernels




# the ranges as the C code has them (nan where these tiers do not run)
_ufuncs._set_fast_path(True)
TIERS = {t["name"]: t for tiers in _ufuncs._tiers().values() for t in tiers}
pytestmark = pytest.mark.skipif("tier_f32_avx512" not in TIERS, reason="no AVX-512F, VL, BW and DQ on this CPU")
_NONE = {"x": (np.nan, np.nan), "grad_out_end": np.nan}
SATURATION = _ufuncs._saturation()
# below LOW the result is a signed zero, above HIGH it is x (forward), 1
# (derivative) or grad_out (backward); LOW per storage type
LOW = {dtype: {name: low for (name, d), (low, _) in SATURATION.items() if d == np.dtype(dtype).name}
       for dtype in (np.float32, np.float16)}
HIGH = {name: high for (name, _), (_, high) in SATURATION.items()}
PIECES = TIERS.get("tier_f32_in_f64_avx512", _NONE)["x"]  # the double pieces, [low, high)
assert PIECES == TIERS.get("tier_f16_avx512", _NONE)["x"] or np.isnan(PIECES[0])
FLOAT_PIECES = TIERS.get("tier_f32_avx512", _NONE)["x"]  # the float32 tier, |x| < its end, float32 data only
FLOAT_GRAD_OUT_END = TIERS.get("tier_f32_avx512", _NONE)["grad_out_end"]  # and |grad_out| below this


@pytest.fixture(autouse=True)
def fast_path_back_on():
    yield
    _ufuncs._set_fast_path(True)




def boundary_values(name):
    """Every boundary of the fast path, the piece joints, and the specials."""
    v = []
    for b in (*PIECES, LOW[np.float32][name], LOW[np.float16][name], HIGH[name]):
        v += around(b)
    v += around(FLOAT_PIECES[0]) + around(FLOAT_PIECES[1])
    for k in range(-17, 16):  # joints between pieces at odd multiples of 1/4
        v += around(k / 4, 2)
    for k in range(-55, 56, 2):  # the float32 tier's joints, odd multiples of 1/16
        v += around(k / 16, 2)
    v += [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-38, -1e-38, 3e38, -3e38]
    return np.array(v, dtype=np.float32)


def mixed_values(name, dtype, n=20_000, seed=0):
    """Pieces, saturated ranges, gaps and specials shuffled together, so
    blocks of 16 mix every class"""
    rng = np.random.default_rng(seed)
    parts = [rng.standard_normal(n),
             rng.uniform(LOW[dtype][name] - 5, PIECES[0], n // 4),
             rng.uniform(PIECES[1], HIGH[name] + 5, n // 4),
             rng.choice([np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, -0.0], n // 8),
             boundary_values(name)]
    with np.errstate(over="ignore"):
        x = np.concatenate(parts).astype(np.float32).astype(dtype)
    return x[rng.permutation(x.size)]


def grad_out_for(x, seed=1):
    rng = np.random.default_rng(seed)
    exponents = (-40, 38) if x.dtype == np.float32 else (-8, 5)
    with np.errstate(over="ignore"):
        g = (rng.standard_normal(x.size) * 10.0 ** rng.integers(*exponents, x.size)).astype(x.dtype)
    special = rng.random(x.size) < 0.02
    g[special] = rng.choice(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0], dtype=x.dtype),
                            special.sum())
    return g


DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])


@DTYPES
@pytest.mark.parametrize("name", ALL)
def test_within_documented_bounds_across_every_boundary(name, dtype):
    x = mixed_values(name, dtype)
    g = grad_out_for(x) if name.endswith("_backward") else None
    assert_within_documented_bound(name, call(name, x, g), x, g)


@DTYPES
@pytest.mark.parametrize("name", ALL)
def test_outside_the_pieces_results_are_the_general_kernels(name, dtype):
    """saturated lanes give exactly what the general kernels give, and gap
    lanes are computed by them"""
    x = mixed_values(name, dtype)
    g = grad_out_for(x) if name.endswith("_backward") else None
    outside = ~((x >= PIECES[0]) & (x < PIECES[1]))
    if dtype == np.float32:
        outside &= ~((x > FLOAT_PIECES[0]) & (x < FLOAT_PIECES[1]))
    if dtype == np.float16:  # rounding the double result once: the general kernels' value
        outside[:] = True
    fast, general = call(name, x, g), general_kernels(name, x, g)
    assert bit_equal(fast[outside], general[outside])


@DTYPES
@pytest.mark.parametrize("name", ALL)
def test_result_depends_only_on_the_element(name, dtype):
    """the path is chosen per element: shuffling, shifting and cutting the
    array (so each element meets other neighbours and block positions) leaves
    every result bit-identical"""
    x = mixed_values(name, dtype, n=5000)
    g = grad_out_for(x) if name.endswith("_backward") else None
    y = call(name, x, g)
    rng = np.random.default_rng(2)
    order = rng.permutation(x.size)
    assert bit_equal(call(name, x[order], None if g is None else g[order]), y[order])
    for start in (1, 7, 15, 17):
        for stop in (x.size - 3, x.size):
            part = slice(start, stop)
            assert bit_equal(call(name, x[part], None if g is None else g[part]), y[part])


@DTYPES
@pytest.mark.parametrize("name", ALL)
def test_in_place(name, dtype):
    x = mixed_values(name, dtype, n=3000)
    if name.endswith("_backward"):
        g = grad_out_for(x)
        expected = call(name, x, g)
        xc, gc = x.copy(), g.copy()
        getattr(gf, name)(gc, xc, out=xc)
        assert bit_equal(xc, expected)
        xc, gc = x.copy(), g.copy()
        getattr(gf, name)(gc, xc, out=gc)
        assert bit_equal(gc, expected)
    else:
        expected = call(name, x)
        xc = x.copy()
        getattr(gf, name)(xc, out=xc)
        assert bit_equal(xc, expected)


@DTYPES
@pytest.mark.parametrize("name", [n for n in ALL if n.endswith("_backward")])
@pytest.mark.parametrize("g", [1.5, -3e-41, 0.0, -0.0, 3e38, np.inf, -np.inf, np.nan])
def test_broadcast_grad_out_equals_full_grad_out(name, g, dtype):
    x = mixed_values(name, dtype, n=2000)
    with np.errstate(over="ignore"):
        g = dtype(g)
    assert bit_equal(getattr(gf, name)(g, x), getattr(gf, name)(np.full_like(x, g), x))


@pytest.mark.parametrize("name", ALL)
def test_signed_zeros_are_the_general_kernels(name):
    """x = +-0 (forward: x's sign; derivatives: 1/2) and, for backward,
    grad_out = +-0 at every kind of x: the sign of a zero result is the
    general kernels' (the float32 tier's float pair must not lose it)"""
    x = np.concatenate([[0.0, -0.0] * 8, mixed_values(name, np.float32, n=500)]).astype(np.float32)
    g, zero = None, x == 0
    if name.endswith("_backward"):
        g = np.resize(np.array([0.0, -0.0, 1.0, -2.0], dtype=np.float32), x.size)
        zero = g == 0
    assert bit_equal(call(name, x, g)[zero], general_kernels(name, x, g)[zero])


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith("_backward")])
def test_large_grad_out_leaves_the_float32_tier(name):
    """|grad_out| at and beyond 2^120 goes to the double pieces (grad_out F
    may overflow there), below it stays; results within bound or, where
    they overflow, the general kernels' infinities"""
    rng = np.random.default_rng(3)
    x = rng.uniform(FLOAT_PIECES[0], FLOAT_PIECES[1], 4000).astype(np.float32)
    levels = [FLOAT_GRAD_OUT_END / 2, FLOAT_GRAD_OUT_END, 3e38, float(np.finfo(np.float32).max)]
    g = rng.choice(np.array(levels + [-v for v in levels], dtype=np.float32), x.size)
    y = call(name, x, g)
    expected = general_kernels(name, x, g)
    assert bit_equal(np.isinf(y), np.isinf(expected)) and bit_equal(y[np.isinf(y)], expected[np.isinf(y)])
    finite = np.isfinite(y)
    assert_within_documented_bound(name, y[finite], x[finite], g[finite])


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith("_backward")])
def test_float16_backward_near_a_midpoint_is_correctly_rounded(name):
    """g F(x) within F's error (2^-29 |g|) of a midpoint between two halves:
    the double pieces alone could round it either way.  Pairs found by
    sampling (and one met in a test), all correctly rounded."""
    import _reference as ref
    rng = np.random.default_rng(4)
    x = rng.uniform(PIECES[0], PIECES[1], 400_000).astype(np.float16)
    g = (rng.standard_normal(x.size) * 4).astype(np.float16)
    exact = g.astype(np.float64) * ref.GRAD_F64[name.replace("_backward", "_grad")](x.astype(np.float32))[0]
    lower = exact.astype(np.float16)  # either neighbour of exact; the midpoint is half-way to the other
    other = np.nextafter(lower, np.where(lower < exact, np.float16(np.inf), np.float16(-np.inf)))
    midpoint = (lower.astype(np.float64) + other.astype(np.float64)) / 2
    near = np.abs(exact - midpoint) < 2.0**-26 * np.abs(exact)
    x = np.concatenate([x[near], [np.float16(-0.6924)]]).astype(np.float16)
    g = np.concatenate([g[near], [np.float16(0.669)]]).astype(np.float16)
    assert near.sum() >= 3  # the sample does reach such pairs
    assert_within_documented_bound(name, getattr(gf, name)(g, x), x, g)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("offset", [0, 1, 5, 15])
def test_streamed_results_equal_the_stored_ones(name, offset):
    """Calls long enough to stream (forced here down to one element) store
    whole blocks with non-temporal stores after a head up to the output's
    64-byte boundary: at every alignment, on one thread and two, with gaps
    unpacked into streamed chunks and grad_out full or broadcast, the
    results are within bound and bit-identical to the ordinary stores'."""
    x = mixed_values(name, np.float32, n=16_000)
    gs = [None] if not name.endswith("_backward") else [grad_out_for(x), np.float32(-1.75)]
    buffer = np.empty(x.size + 16, dtype=np.float32)
    out = buffer[offset:offset + x.size]
    try:
        for threads in (1, 2):
            gf.set_num_threads(threads)
            for g in gs:
                args = (x,) if g is None else (g, x)
                _ufuncs._set_stream_threshold(1 << 62)
                stored = getattr(gf, name)(*args)
                _ufuncs._set_stream_threshold(1)
                getattr(gf, name)(*args, out=out)
                assert bit_equal(out, stored)
                assert_within_documented_bound(name, out, x, None if g is None else np.broadcast_to(g, x.shape))
    finally:
        _ufuncs._set_stream_threshold(0)
        gf.set_num_threads(0)


@pytest.mark.parametrize("name", ALL)
def test_rare_gaps_held_across_chunks(name):
    """Standard-normal data, whose gaps (|x| >= 3.4375) are rare: their
    blocks are held across chunks (128 blocks each) and completed when the
    buffer fills or the call ends.  Gaps placed in a chunk's first and last
    blocks, in the last (partial) block, and in runs long enough to fill the
    buffer mid-call: every gap lane is what it is in an array of gaps alone,
    every lane within bound, streamed or not, on one thread and two."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(300_001).astype(np.float32)
    chunk = 16 * 128
    for at in (0, 15, chunk - 1, chunk, 5 * chunk + 7, x.size - 1):
        x[at] = -4.0
    x[100 * chunk:100 * chunk + 6 * chunk:16] = 3.9  # 6 chunks' worth of held blocks
    gap = np.abs(x) >= FLOAT_PIECES[1]
    assert 100 < gap.sum() < 2000
    g = grad_out_for(x) if name.endswith("_backward") else None
    alone = call(name, x[gap], None if g is None else g[gap])
    try:
        for threads in (1, 2):
            gf.set_num_threads(threads)
            results = []
            for threshold in (1 << 62, 1):
                _ufuncs._set_stream_threshold(threshold)
                results.append(call(name, x, g))
            assert bit_equal(results[0], results[1])
            assert bit_equal(results[0][gap], alone)
            assert_within_documented_bound(name, results[0], x, g)
    finally:
        _ufuncs._set_stream_threshold(0)
        gf.set_num_threads(0)


@pytest.mark.parametrize("name", ALL)
def test_loads_ahead_at_every_length_and_output_placement(name):
    """The float32 tier loads whole blocks' inputs a few blocks before it
    stores (4K aliasing): chunks of 1 to 6 whole blocks and a partial one,
    then the ends of a many-chunk call, with out placed at distances above
    and below x (and grad_out) modulo 4 KiB, in place too: every result is
    bit-identical to the element's own in an ordinary call."""
    x = mixed_values(name, np.float32, n=9000)
    g = grad_out_for(x) if name.endswith("_backward") else None
    expected = call(name, x, g)
    lengths = list(range(1, 100)) + [2047, 2048, 2049, 2048 + 33, 4096 + 47, 6000, x.size]
    page = 4096 // 4

    def at_page_start(a, offset=0):
        buffer = np.empty(a.size + 2 * page, dtype=a.dtype)
        start = (-buffer.ctypes.data % 4096) // a.itemsize + offset % page
        buffer[start:start + a.size] = a
        return buffer[start:start + a.size]

    x, g = at_page_start(x), None if g is None else at_page_start(g, 512)
    for distance in (1, 16, 20, 32, 56, -16, -1):  # out - x, in elements, modulo 4 KiB
        out_all = at_page_start(np.zeros_like(x), distance)
        for n in lengths:
            out = out_all[:n]
            getattr(gf, name)(*((x[:n],) if g is None else (g[:n], x[:n])), out=out)
            assert bit_equal(out, expected[:n]), (distance, n)
    for n in (37, 2049, x.size):
        xc = x[:n].copy()
        getattr(gf, name)(*((xc,) if g is None else (g[:n], xc)), out=xc)
        assert bit_equal(xc, expected[:n]), n


def test_info_reports_the_fast_path():
    assert gf.info()["fast_path"] == "float32: tier_f32_avx512, tier_f32_in_f64_avx512; float16: tier_f16_avx512"
    _ufuncs._set_fast_path(False)
    assert gf.info()["fast_path"] is None


@pytest.mark.parametrize("name", ALL)
def test_float16_left_lanes_fill_the_stage_many_times(name):
    """The float16 tier leaves its gap lanes in a stage of a thousand lanes,
    whose results the loop layer then stores at their places: a call with
    many stages' worth, scattered among lanes the tier takes (blocks wholly
    left, wholly taken and mixed), gives the general kernels' bits, in place
    too, with a broadcast grad_out too."""
    rng = np.random.default_rng(8)
    n = 40_001
    x = rng.standard_normal(n)
    left = rng.random(n) < 0.4
    left[1600:3200] = True
    left[5000:6000] = False
    x[left] = rng.choice([-1, 1], left.sum()) * rng.uniform(4.3, 9.0, left.sum())
    x = x.astype(np.float16)
    backward = name.endswith("_backward")
    for g in ((grad_out_for(x), np.float16(1.5)) if backward else (None,)):
        expected = general_kernels(name, x, g)
        assert bit_equal(call(name, x, g), expected)
        xc = x.copy()
        getattr(gf, name)(*((xc,) if g is None else (g, xc)), out=xc)
        assert bit_equal(xc, expected)
