"""The kernels' own float16 conversions (src_c/gf_math.h): widening exact,
narrowing rounded once to nearest-even, exactly as NumPy's float64 -> float16."""
import numpy as np

from gelu_fast import _ufuncs

ALL_HALF_BITS = np.arange(2**16, dtype=np.uint16)


def test_widening_is_exact_for_every_half():
    widened = _ufuncs._widen_half(ALL_HALF_BITS)
    expected = ALL_HALF_BITS.view(np.float16).astype(np.float64)
    assert np.array_equal(widened, expected, equal_nan=True)
    assert np.array_equal(np.signbit(widened), np.signbit(expected))


def test_narrowing_matches_numpy():
    rng = np.random.default_rng(0)
    halves = ALL_HALF_BITS.view(np.float16).astype(np.float64)
    halves = halves[np.isfinite(halves)]
    with np.errstate(over="ignore"):  # spacing at 65504 is inf in float16
        spacing = np.spacing(np.abs(halves).astype(np.float16)).astype(np.float64)
    spacing[~np.isfinite(spacing)] = 32.0
    values = np.concatenate([
        halves, halves + spacing / 2, halves - spacing / 2,  # exact ties
        np.nextafter(halves + spacing / 2, np.inf), np.nextafter(halves + spacing / 2, -np.inf),
        rng.standard_normal(1_000_000) * 10.0 ** rng.integers(-9, 6, 1_000_000),
        [65504.0, 65519.99, 65520.0, 65536.0, 1e300, np.inf, -np.inf, np.nan, -np.nan,
         0.0, -0.0, 5e-324, 2.0**-25, 2.0**-25 * 1.0000001, 2.0**-24, 2.0**-14, 2.0**-14 * (1 - 2**-12)],
    ])
    with np.errstate(over="ignore"):
        expected = values.astype(np.float16).view(np.uint16)
    got = _ufuncs._round_to_half(values)
    nan = np.isnan(values)
    assert np.array_equal(got[~nan], expected[~nan]), values[~nan][got[~nan] != expected[~nan]][:5]
    assert np.isnan(got[nan].view(np.float16)).all()
