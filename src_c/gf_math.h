/* Building blocks shared by the GELU kernels: a vectorizable double exp, the
 * scaled normal tail used by the float32/float16 kernels, and IEEE half
 * conversions.  Plain C99; no Python or NumPy headers.
 *
 * Floating-point contraction policy: the whole extension is compiled with
 * -ffp-contract=off, so the compiler never fuses a*b+c on its own.  Fused
 * multiply-adds are written out, as fma(), where the source wants them (the
 * polynomials, the last step of some kernels).  Every kernel is then a fixed
 * sequence of correctly rounded IEEE operations, and every version of a loop
 * (x86-64-v4, x86-64-v3, the baseline, aarch64) gives bit-identical results.
 * The cost: on an x86-64 CPU without FMA (before ~2013), the baseline loop
 * calls libm's fma() per operation and runs unvectorized, several times
 * slower; every CPU with AVX2 runs the x86-64-v3 or v4 loop, where fma() is
 * one instruction. */
#ifndef GF_MATH_H
#define GF_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gf_coefficients.h"

/* Kernels must inline into each ISA clone of each loop: an out-of-line call
 * would run baseline code and stop vectorization. */
#if defined(__GNUC__)
#define GF_INLINE static inline __attribute__((always_inline))
#else
#define GF_INLINE static inline
#endif

GF_INLINE uint64_t gf_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
GF_INLINE double gf_from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
GF_INLINE uint32_t gf_float_bits(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
GF_INLINE float gf_float_from_bits(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }

/* 2^y for y in [-1022, 1022], relative error below 5e-11; callers clamp.
 * Written without branches or integer conversions so GCC and Clang vectorize it:
 * k = round(y) comes from the 1.5*2^52 shifter, f = y - k is exact and in
 * [-1/2, 1/2], 2^f is a degree-7 polynomial fitted by src_c/fit_coefficients.py
 * (4e-11: ample for results rounded to float32), and 2^k is built in the
 * exponent field.  Kernels call it as exp(a) = 2^(a log2 e) with log2 e folded
 * into their own constants; the folding's rounding (|a| <= 220 here) adds at
 * most 3e-14.  NaN in gives NaN out. */
#define GF_LOG2E 0x1.71547652b82fep0
GF_INLINE double gf_exp2(double y)
{
    static const double c[] = {GF_EXP2_POLY};
    const double shifter = 0x1.8p52;
    double kd = y + shifter;
    uint64_t scale_bits = (gf_bits(kd) + 1023) << 52;
    double f = y - (kd - shifter);
    /* Estrin's scheme: a shallow dependency tree instead of a 7-deep Horner
     * chain, so the out-of-order core overlaps more loop iterations. */
    double f2 = f * f, f4 = f2 * f2;
    double p = fma(f4, fma(f2, fma(f, c[7], c[6]), fma(f, c[5], c[4])),
                   fma(f2, fma(f, c[3], c[2]), fma(f, c[1], c[0])));
    return p * gf_from_bits(scale_bits);
}

/* min and max in the form x86's minpd/maxpd implement: the result is the
 * second operand when the comparison is false, so a NaN in the second operand
 * comes through.  Kernels pass the constant first and clamp their inputs. */
GF_INLINE double gf_min(double a, double b) { return a < b ? a : b; }
GF_INLINE double gf_max(double a, double b) { return a > b ? a : b; }

/* x clamped to [lo, hi]; NaN stays NaN. */
GF_INLINE double gf_clamp(double x, double lo, double hi)
{
    return gf_min(hi, gf_max(lo, x));
}

/* |x| clamped to [2^-60, 20], the argument of gf_normal_tail, for a float32
 * input.  The clamp works on the float's bits, as integers: a floating-point
 * clamp lets the compiler evaluate the tail at the unclamped |x| and select
 * afterwards, and huge or tiny |x| then drive the polynomials into subnormal
 * intermediates, a slow path (2x) on x86.  Below 2^-60 the tail's change,
 * ~1e-19, is far below rounding.  A nan maps to 20: callers let the nan
 * through x itself. */
GF_INLINE double gf_tail_argument(float x)
{
    uint32_t b = gf_float_bits(x) & 0x7fffffffu;
    b = b > 0x21800000u ? b : 0x21800000u;  /* 2^-60 */
    b = b < 0x41a00000u ? b : 0x41a00000u;  /* 20.0f */
    return (double)gf_float_from_bits(b);
}

/* Upper normal tail Q(t) = P(Z > t) = erfc(t/sqrt2)/2 for t in [0, 20], as
 * exp(-t^2/2) * R(t) with R a rational fit (src_c/fit_coefficients.py: degree
 * 6/7, max relative error 2.8e-12 in double).  For a float32 or float16 input t, t*t
 * is exact in double, so no error-free split is needed.  Total relative error of
 * Q below 1e-10.  The caller passes exp(-t^2/2) in, since the derivative needs it
 * too. */
GF_INLINE double gf_normal_tail(double t, double gauss)
{
    static const double n[] = {GF_MILLS_NUM};
    static const double d[] = {GF_MILLS_DEN};
    /* Estrin's scheme, numerator and denominator side by side */
    double t2 = t * t, t4 = t2 * t2;
    double p = fma(t4, fma(t2, n[6], fma(t, n[5], n[4])),
                   fma(t2, fma(t, n[3], n[2]), fma(t, n[1], n[0])));
    double q = fma(t4, fma(t2, fma(t, d[7], d[6]), fma(t, d[5], d[4])),
                   fma(t2, fma(t, d[3], d[2]), fma(t, d[1], d[0])));
    return gauss * (p / q);
}

/* ---- float64 building blocks -------------------------------------------
 * The float64 kernels need about 0.5 ULP more precision than double holds in
 * the few places where errors are not damped: the argument of exp (t^2 is
 * split exactly, hi + lo, with fma), the constant term of the tail polynomial
 * (a double-double), and the last sums (error-free transformations).  The rest
 * is plain double with fma. */

/* hi + lo = a + b exactly, for |a| >= |b| (Fast2Sum) */
GF_INLINE double gf_fast_two_sum(double a, double b, double *lo)
{
    double hi = a + b;
    *lo = (a - hi) + b;
    return hi;
}

/* hi + lo = a + b exactly, any magnitudes (TwoSum) */
GF_INLINE double gf_two_sum(double a, double b, double *lo)
{
    double hi = a + b, v = hi - a;
    *lo = (a - (hi - v)) + (b - v);
    return hi;
}

/* 2^k for an integer-valued double k in [-1022, 1023], built in the exponent
 * field (kd + 1.5*2^52 holds k in its low mantissa bits). */
GF_INLINE double gf_pow2i(double kd)
{
    return gf_from_bits((gf_bits(kd + 0x1.8p52) + 1023) << 52);
}

/* exp(yh + yl) = 2^k (1 + r + q) (1 + rl) for yh in [-1600, 0] and |yl| <
 * 1e-12, an unevaluated sum so that callers multiply it into their own
 * double-doubles without rounding 1 + e first.  Returns k (an integer-valued
 * double in [-2309, 0]); |r| <= ln(2)/2, q = r^2 P(r) <= 0.07, |rl| < 1e-12.
 * k = round(yh / ln 2); r = yh - k ln2_hi is exact under fma (|r| < 0.35
 * needs 52 bits, and yh and k ln2_hi agree in the rest); rl = yl - k ln2_lo.
 * Relative error of r + q against e^r - 1 below 1e-18 before q's rounding. */
#define GF_LN2_HI 0x1.62e42fefa39efp-1
#define GF_LN2_LO 0x1.abc9e3b39803fp-56
GF_INLINE double gf_exp_dd(double yh, double yl, double *r, double *q, double *rl)
{
    static const double c[] = {GF_EXPM1_POLY};
    double kd = (yh * GF_LOG2E + 0x1.8p52) - 0x1.8p52;
    double rr = fma(kd, -GF_LN2_HI, yh);
    /* P(r), degree 10, Estrin */
    double r2 = rr * rr, r4 = r2 * r2, r8 = r4 * r4;
    double p = fma(r8, fma(r2, c[10], fma(rr, c[9], c[8])),
                   fma(r4, fma(r2, fma(rr, c[7], c[6]), fma(rr, c[5], c[4])),
                       fma(r2, fma(rr, c[3], c[2]), fma(rr, c[1], c[0]))));
    *r = rr;
    *q = r2 * p;
    *rl = fma(kd, -GF_LN2_LO, yl);
    return kd;
}

/* exp(-t^2/2) for t in [0, 55], as gf_exp_dd: -t^2/2 = yh + yl exactly
 * (the fma split of t^2). */
GF_INLINE double gf_gauss_f64(double t, double *r, double *q, double *rl)
{
    double h = t * t;
    return gf_exp_dd(-0.5 * h, -0.5 * fma(t, t, -h), r, q, rl);
}

/* R(t) = exp(t^2/2) Q(t) for t in [0, 55] as hi + lo, relative error below
 * 1.2e-17 plus rounding: a degree-10 polynomial per quarter unit of t, centred
 * on the nearest multiple of 1/4 (GF_TAIL_TABLE, fitted by
 * src_c/fit_coefficients.py), its constant term a double-double.  The index
 * is t*4 rounded by the 2^52 shifter, read from the bits as a 64-bit integer
 * (GCC 12 vectorizes a gather with 64-bit indices, not with int ones).
 * Indexes a table: callers keep t in [0, 55], nan excluded. */
GF_INLINE double gf_tail_ratio_f64(double t, double *lo)
{
    static const double tab[GF_TAIL_ROWS * (GF_TAIL_DEG + 2)] = {GF_TAIL_TABLE};
    double shifted = t * GF_TAIL_STEPS_PER_UNIT + 0x1p52;
    int64_t row = (int64_t)(gf_bits(shifted) - gf_bits(0x1p52)) * (GF_TAIL_DEG + 2);
#define c(j) tab[row + (j)]  /* element indices, which GCC turns into gathers */
    /* exact (Sterbenz), |s| <= 1/8 */
    double s = t - (shifted - 0x1p52) * (1.0 / GF_TAIL_STEPS_PER_UNIT);
    double s2 = s * s, s4 = s2 * s2, s8 = s4 * s4;
    /* c(2..11): the coefficients of s^1..s^10 */
    double p = fma(s8, fma(s, c(11), c(10)),
                   fma(s4, fma(s2, fma(s, c(9), c(8)), fma(s, c(7), c(6))),
                       fma(s2, fma(s, c(5), c(4)), fma(s, c(3), c(2)))));
    double hi = gf_fast_two_sum(c(0), fma(s, p, c(1)), lo);  /* |c0| > the rest */
#undef c
    return hi;
}

/* IEEE binary16 <-> double.  Widening is exact.  Narrowing rounds once, to
 * nearest with ties to even, straight from double: float16 results are computed
 * in double and rounded a single time (no double rounding through float32).
 * Both are branch-free integer code (every case computed, then selected), so
 * the float16 loops vectorize too. */
GF_INLINE double gf_half_to_double(uint16_t h)
{
    uint64_t sign = (uint64_t)(h & 0x8000u) << 48, m = h & 0x7fffu;
    /* normal: rebias the exponent (15 -> 1023) and widen the mantissa */
    uint64_t normal = (m << 42) + ((uint64_t)(1023 - 15) << 52);
    /* inf and nan: all-ones exponent, payload kept */
    uint64_t special = (m << 42) | 0x7ff0000000000000ull;
    /* subnormal: m * 2^-24, with m made exact in double by the 2^52 trick */
    uint64_t subnormal = gf_bits((gf_from_bits(0x4330000000000000ull | m) - 0x1p52) * 0x1p-24);
    uint64_t bits = m < 0x400u ? subnormal : (m >= 0x7c00u ? special : normal);
    return gf_from_bits(bits | sign);
}

GF_INLINE uint16_t gf_double_to_half(double x)
{
    uint64_t u = gf_bits(x) & 0x7fffffffffffffffull;
    uint16_t sign = (uint16_t)((gf_bits(x) >> 48) & 0x8000u);
    double a = gf_from_bits(u);
    /* subnormal result: the magic add rounds a*2^24 to an integer, ties to
     * even, and leaves it in the low bits; 1024 lands exactly on the smallest
     * normal's bit pattern */
    uint64_t subnormal = gf_bits(a * 0x1p24 + 0x1p52) - 0x4330000000000000ull;
    /* normal: rebias the exponent, round 52 mantissa bits to 10 (ties to even);
     * a carry out of the mantissa correctly bumps the exponent */
    uint64_t t = u - ((uint64_t)(1023 - 15) << 52);
    t += 0x1ffffffffffull + ((t >> 42) & 1u);
    uint64_t normal = t >> 42;
    uint64_t h = a < 0x1p-14 ? subnormal : normal;
    h = u >= 0x40effe0000000000ull ? 0x7c00u : h;  /* >= 65520, halfway above 65504: inf */
    h = u > 0x7ff0000000000000ull ? 0x7e00u | ((u >> 42) & 0x3ffu) : h;  /* nan, payload kept */
    return (uint16_t)(sign | h);
}

/* bfloat16 (the upper half of a binary32: 8 exponent bits, 7 mantissa
 * bits) <-> float and double.  Widening is exact.  Narrowing rounds once, to
 * nearest with ties to even, straight from double, as gf_double_to_half does:
 * a float32 result in between would round twice. */
GF_INLINE float gf_bfloat16_to_float(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

GF_INLINE uint16_t gf_double_to_bfloat16(double x)
{
    uint64_t u = gf_bits(x) & 0x7fffffffffffffffull;
    uint16_t sign = (uint16_t)((gf_bits(x) >> 48) & 0x8000u);
    double a = gf_from_bits(u);
    /* subnormal result (below 2^-126): the magic add rounds a*2^133 to an
     * integer, ties to even; 128 lands on the smallest normal's pattern */
    uint64_t subnormal = gf_bits(a * 0x1p133 + 0x1p52) - 0x4330000000000000ull;
    /* normal: rebias the exponent (1023 -> 127), round 52 mantissa bits to 7 */
    uint64_t t = u - ((uint64_t)(1023 - 127) << 52);
    t += 0xfffffffffffull + ((t >> 45) & 1u);
    uint64_t normal = t >> 45;
    uint64_t h = a < 0x1p-126 ? subnormal : normal;
    /* at or above halfway between the largest finite value and 2^128: inf */
    h = u >= 0x47eff00000000000ull ? 0x7f80u : h;
    h = u > 0x7ff0000000000000ull ? 0x7fc0u | ((u >> 45) & 0x7fu) : h;  /* nan, payload kept */
    return (uint16_t)(sign | h);
}

#endif
