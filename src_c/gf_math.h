/* Building blocks shared by the GELU kernels: a vectorizable double exp, the
 * scaled normal tail used by the float32/float16 kernels, and IEEE half
 * conversions.  Plain C99; no Python or NumPy headers.
 *
 * Floating-point contraction policy: the whole extension is compiled with
 * -ffp-contract=off, so the compiler never fuses a*b+c.  Every kernel is then a
 * fixed sequence of correctly rounded IEEE operations, and the scalar, SSE2,
 * AVX2 and AVX-512 versions of a loop give bit-identical results. */
#ifndef GF_MATH_H
#define GF_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t gf_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double gf_from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

/* exp(a) for a in [-708, 708], relative error below 1e-14; callers clamp.
 * Written without branches or integer conversions so GCC and Clang vectorize it:
 * k = round(a/ln2) comes from the 1.5*2^52 shifter, r = a - k*ln2 (ln2 split in
 * two, the high part with 32 significant bits so k*LN2_HI is exact), e^r by its
 * Taylor series to degree 11 (|r| <= ln2/2, truncation < 7e-15), then 2^k by
 * building the exponent field.  NaN in gives NaN out. */
static inline double gf_exp(double a)
{
    const double shifter = 0x1.8p52;
    const double ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33;
    double kd = a * 0x1.71547652b82fep0 + shifter;
    uint64_t scale_bits = (gf_bits(kd) + 1023) << 52;
    kd -= shifter;
    double r = (a - kd * ln2_hi) - kd * ln2_lo;
    double p = 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * gf_from_bits(scale_bits);
}

/* Clamp keeping NaN: a comparison with NaN is false, so NaN falls through. */
static inline double gf_clamp(double x, double lo, double hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* Upper normal tail Q(t) = P(Z > t) = erfc(t/sqrt2)/2 for t in [0, 15], as
 * exp(-t^2/2) * R(t) with R a rational fit (src_c/fit_mills_ratio.py: degree 7/8,
 * max relative error 1.7e-14 in double).  For a float32 or float16 input t, t*t
 * is exact in double, so no error-free split is needed.  Total relative error of
 * Q below 3e-14.  The caller passes exp(-t^2/2) in, since the derivative needs it
 * too. */
#define GF_MILLS_NUM \
    0x1.fffffffffff73p-2,\
    0x1.43d21aa6eb705p-1,\
    0x1.94ca194ac2bacp-2,\
    0x1.388490479fa73p-3,\
    0x1.3e1f48c6f9afbp-5,\
    0x1.a9def55f451aap-8,\
    0x1.5cd779c3b6800p-11,\
    0x1.11c0bedafe35ap-15
#define GF_MILLS_DEN \
    0x1.0000000000000p+0,\
    0x1.080a2222c53f6p+1,\
    0x1.efbdae212021ep+0,\
    0x1.15b8560e0f42ep+0,\
    0x1.9832a51c03fe5p-2,\
    0x1.9589b24500668p-4,\
    0x1.0c372072c1257p-6,\
    0x1.b5354d14cefc2p-10,\
    0x1.571930baf3fa4p-14

static inline double gf_normal_tail(double t, double gauss)
{
    static const double num[] = {GF_MILLS_NUM};
    static const double den[] = {GF_MILLS_DEN};
    double p = num[7], q = den[8];
    for (int i = 6; i >= 0; i--) p = p * t + num[i];
    for (int i = 7; i >= 0; i--) q = q * t + den[i];
    return gauss * (p / q);
}

/* IEEE binary16 <-> double.  Widening is exact.  Narrowing rounds once, to
 * nearest with ties to even, straight from double: float16 results are computed
 * in double and rounded a single time (no double rounding through float32). */
static inline double gf_half_to_double(uint16_t h)
{
    uint64_t sign = (uint64_t)(h & 0x8000u) << 48;
    unsigned exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
    double magnitude;
    if (exponent == 0)
        magnitude = (double)mantissa * 0x1p-24;
    else if (exponent == 31)
        magnitude = mantissa ? NAN : INFINITY;
    else
        magnitude = gf_from_bits((uint64_t)(exponent + 1008) << 52 | (uint64_t)mantissa << 42);
    return gf_from_bits(gf_bits(magnitude) | sign);
}

static inline uint16_t gf_double_to_half(double x)
{
    uint64_t u = gf_bits(x);
    uint16_t sign = (uint16_t)((u >> 48) & 0x8000u);
    u &= 0x7fffffffffffffffull;
    double a = gf_from_bits(u);
    if (a != a) return sign | 0x7e00u;
    if (a >= 65520.0) return sign | 0x7c00u;  /* halfway above 65504 rounds to inf */
    if (a < 0x1p-14) {
        /* subnormal: the magic add rounds a*2^24 to an integer, ties to even;
         * 1024 lands exactly on the smallest normal's bit pattern */
        double m = (a * 0x1p24 + 0x1p52) - 0x1p52;
        return sign | (uint16_t)m;
    }
    /* rebias the exponent, keep 52 mantissa bits, round to 10 (ties to even);
     * a carry out of the mantissa correctly bumps the exponent */
    uint64_t t = (u - ((uint64_t)(1023 - 15) << 52));
    t += 0x1ffffffffffull + ((t >> 42) & 1u);
    return sign | (uint16_t)(t >> 42);
}

#endif
