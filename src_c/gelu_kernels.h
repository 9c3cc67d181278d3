/* Scalar definitions of every GELU kernel, one per function and precision.
 *
 * Two precisions:
 *   *_f32  serve float32 and float16.  They take the input as a float (exact
 *          for both), compute in double and return a double within ~1e-10
 *          relative, which the loop rounds once to the storage type.  Float32
 *          ULPs are 6e-8 relative, so results are within 0.5007 ULP.
 *          Branch-free, libm-free: the loops vectorize.  Where the CPU has
 *          AVX-512, float32 and float16 arrays take the tiers of
 *          tier_avx512.c on [-4.25, 3.75) and these kernels elsewhere.
 *   *_f64  serve float64.  Vectorized double arithmetic with fma, and
 *          double-double steps where errors are not damped (the argument of
 *          exp, the leading terms, the last sums and quotients); each has its
 *          analysis.  Libm-free, table lookups as gathers.
 *
 * Notation: Phi = normal CDF, phi = normal density, Q(t) = 1 - Phi(t),
 * sigma(v) = 1/(1+exp(-v)).  Bounds are in ULP of the storage type against the
 * formula evaluated exactly; tests/test_accuracy.py enforces each one.
 * Derivative bounds are measured against |first term| + |second term|, because
 * the derivatives cross zero where relative error is meaningless.
 *
 * Special values (all nine functions):
 *   x      | forward | derivative | backward(g, x)
 *   +0/-0  | +0/-0   | 0.5        | 0.5 g
 *   +inf   | +inf    | 1          | g
 *   -inf   | -0      | 0 (-0)     | g * 0
 *   nan    | nan     | nan        | nan       (the input nan itself, payload kept)
 * The loops restore the caller's floating-point exception flags, so no input
 * raises a NumPy floating-point warning (underflow to subnormal is the expected
 * outcome in the tails, not an error). */
#ifndef GELU_KERNELS_H
#define GELU_KERNELS_H

#include <float.h>
#include "gf_math.h"

#define GF_INV_SQRT_2PI 0x1.9884533d43651p-2   /* 1/sqrt(2 pi) */
#define GF_HALF_LOG2E   (0.5 * GF_LOG2E)       /* exp(-t^2/2) = 2^(-t^2 * this) */
#define GF_TANH_K       0x1.9884533d43651p-1   /* sqrt(2/pi) */
#define GF_TANH_A       0.044715
#define GF_SIGMOID_A    1.702

/* ------------------------------------------------------------------------
 * gelu(x) = x * Phi(x)            exact GELU
 * gelu'(x) = Phi(x) + x * phi(x)
 * ---------------------------------------------------------------------- */

/* float32/float16.  t = |x| clamped to [2^-60, 20] by gf_tail_argument (beyond
 * 20, x*Q(t) < 1e-86 rounds to -0 and 1 - Q(t) rounds to 1); Q(t) =
 * exp(-t^2/2) R(t) from gf_normal_tail; Phi = Q for x < 0, 1 - Q otherwise, so
 * the negative tail never cancels.  Bound: <= 1 ULP for every float32 input
 * (measured: 0.5007), float16 correctly rounded.  Clamping x to -20 maps -inf
 * to -0. */
GF_INLINE double gelu_f32(float xf)
{
    double x = xf, t = gf_tail_argument(xf);
    double q = gf_normal_tail(t, gf_exp2(t * t * -GF_HALF_LOG2E));
    double one_minus_q = 1.0 - q;
    double phi_cdf = x < 0.0 ? q : one_minus_q;
    double xc = gf_max(-20.0, x);
    return xc * phi_cdf;
}

/* float32/float16 derivative.  The clamp at |x| = 20 is set by the backward
 * kernels, not by the derivative's own rounding: grad_out * f'(x) is
 * representable in float32 while |f'(x)| > 2^-149 / FLT_MAX ~ 4e-84, and
 * |f'(-20)| ~ 1e-86.  Bound: <= 2 ULP of Phi + |x phi| (measured <= 0.5). */
GF_INLINE double gelu_grad_f32(float xf)
{
    double x = xf, t = gf_tail_argument(xf);
    double gauss = gf_exp2(t * t * -GF_HALF_LOG2E);
    double q = gf_normal_tail(t, gauss);
    double one_minus_q = 1.0 - q;
    double phi_cdf = x < 0.0 ? q : one_minus_q;
    /* x phi(x) with x replaced by the clamped t carrying x's sign */
    double r = fma(copysign(t, x), gauss * GF_INV_SQRT_2PI, phi_cdf);
    /* f'(0) = 1/2 exactly, not the fits' 1/2 + 1e-11: grad_out * f'(0) can be
     * a tie in float16, which must round to even */
    return x == 0.0 ? 0.5 : r;
}

/* ---- float64, vectorized -----------------------------------------------
 * With t = |x|, Q(t) = exp(-t^2/2) R(t): the exponential from gf_gauss_f64 as
 * 2^k (1 + r + q)(1 + rl), R from gf_tail_ratio_f64 as a double-double.  Each
 * kernel forms its own double-double A from R (x Phi needs t R, the derivative
 * R - t/sqrt(2 pi)), and A (1 + r + q)(1 + rl) = a_hi + a_rest, where a_rest,
 * at most 0.41 of the sum, is the only rounding that matters.  Errors stay
 * near 0.5 ULP (final rounding) + 0.2 (a_rest) + 0.1 (R).
 *   x < 0:  the result is 2^k (a_hi + a_rest), scaled by powers of two so
 *           that only the last product rounds (into the subnormal range).
 *   x >= 0: the result involves 1 - 2^k (a_hi + a_rest), formed as a
 *           double-double (Fast2Sum), so Q's error enters scaled by Q/(1-Q).
 * t is capped (nan included, which keeps the table index valid) and floored
 * at 2^-300 (keeping subnormals off the slow path) on the bits, as integers: a
 * float select there becomes a branch in GCC and stops vectorization. */
#define GF_F64_TINY 0x1p-300
typedef struct { double kd, r, q, rl, ratio_hi, ratio_lo; } gf_tail_f64;

/* Comparisons of x on its bits, as integers: x may be subnormal, and a
 * floating-point compare with a subnormal operand takes a microcode assist. */
GF_INLINE int gf_is_tiny_f64(double x)
{
    return (gf_bits(x) & 0x7fffffffffffffffull) < gf_bits(GF_F64_TINY);
}
GF_INLINE int gf_above_f64(double x, double cap)  /* x > cap >= 0, nan included */
{
    return (int64_t)gf_bits(x) > (int64_t)gf_bits(cap);
}

GF_INLINE double gf_capped_abs_f64(double x, double cap)
{
    uint64_t b = gf_bits(x) & 0x7fffffffffffffffull, c = gf_bits(cap), f = gf_bits(GF_F64_TINY);
    b = b < c ? b : c;
    return gf_from_bits(b > f ? b : f);
}

GF_INLINE gf_tail_f64 gf_tail_parts_f64(double t)
{
    gf_tail_f64 n;
    n.kd = gf_gauss_f64(t, &n.r, &n.q, &n.rl);
    n.ratio_hi = gf_tail_ratio_f64(t, &n.ratio_lo);
    return n;
}

/* (a_hi + a_lo)(1 + r + q)(1 + rl) - a_hi */
GF_INLINE double gf_gauss_times_rest(double a_hi, double a_lo, gf_tail_f64 n)
{
    double a_rl = a_hi * n.rl;
    double small = fma(a_lo, n.r + n.q, a_lo) + fma(a_rl, n.r + n.q, a_rl);
    return fma(a_hi, n.r, fma(a_hi, n.q, small));
}

/* y 2^k, correctly rounded, for an integer-valued k in [-1600, 0], without
 * floating-point arithmetic that produces a subnormal or underflows: on x86
 * each such instruction takes a microcode assist (measured: 2x the kernel's
 * time), and the tails end in subnormals and zeros.  Where the result is
 * normal, two powers of two scale y exactly; below, the result is built as an
 * integer count of 2^-1074: m = |y| 2^(k+1074) is rounded to an integer by
 * the 2^52 shifter (nearest, ties to even, as IEEE rounds a subnormal), whose
 * low bits are the subnormal's bit pattern (2^52 itself reads as the smallest
 * normal).  Both paths are computed with their exponents clamped so that the
 * unused one stays harmless; y = 0, inf and nan come through the arithmetic. */
GF_INLINE double gf_ldexp_f64(double y, double kd)
{
    uint64_t y_bits = gf_bits(y), sign = y_bits & 0x8000000000000000ull;
    /* the biased exponent of y as an exact double */
    double e_y = gf_from_bits(0x4330000000000000ull | ((y_bits >> 52) & 0x7ff)) - 0x1p52;
    double kn = gf_max(1.0 - e_y, kd);  /* normal: the result stays >= 2^-1022 */
    double k1 = floor(0.5 * kn);
    double normal = y * gf_pow2i(k1) * gf_pow2i(kn - k1);
    /* subnormal or zero: m = |y| 2^j, j = k + 1074, kept where m >= 2^-60
     * (below, m rounds to 0 either way) */
    double j = gf_max((1023.0 - e_y) - 60.0, kd + 1074.0);
    double j1 = floor(0.5 * j);
    double m = fabs(y) * gf_pow2i(j1) * gf_pow2i(j - j1);
    double sub = gf_from_bits(sign | (gf_bits(m + 0x1p52) - gf_bits(0x1p52)));
    return e_y + kd >= 1.0 ? normal : sub;
}

/* g (a_hi + a_rest) 2^k for an integer-valued k in [-2400, 0].  2^k1, a
 * third of it, applies before g: a_hi 2^k1 is exact and small enough that a g
 * near DBL_MAX does not overflow on the way to a result in range; then one
 * rounding (g times the sum) and gf_ldexp_f64's.  An infinite g gives an
 * infinity signed like the product, not inf - inf. */
GF_INLINE double gf_scaled_product_f64(double g, double a_hi, double a_rest, double kd)
{
    double k1 = floor(kd * (1.0 / 3.0));
    /* an a_rest below 2^-60 a_hi changes nothing, and scaled it could
     * underflow (in lanes whose result is discarded, typically) */
    a_rest = fabs(a_rest) < 0x1p-60 * fabs(a_hi) ? 0.0 : a_rest;
    double s1 = gf_pow2i(k1), b_hi = a_hi * s1, b_rest = a_rest * s1;
    double gb = fabs(g) <= DBL_MAX ? fma(g, b_hi, g * b_rest) : g * (b_hi + b_rest);
    return gf_ldexp_f64(gb, kd - k1);
}

/* g (hi + lo), the last step on the positive side, with the same care for an
 * infinite g */
GF_INLINE double gf_times_f64(double g, double hi, double lo)
{
    return fabs(g) <= DBL_MAX ? fma(g, hi, g * lo) : g * (hi + lo);
}

/* 1 - 2^k (a_hi + a_rest) as hi + *lo; |2^k a| <= 1/2.  Below 2^-900 the
 * product is irrelevant next to 1, and the cap keeps it normal (subnormals
 * are a slow path). */
GF_INLINE double gf_one_minus_f64(double a_hi, double a_rest, double kd, double *lo)
{
    double scale = gf_pow2i(gf_max(-900.0, kd));
    double q_hi = a_hi * scale, q_lo = a_rest * scale;
    double hi = gf_fast_two_sum(1.0, -q_hi, lo);
    *lo -= q_lo;
    return hi;
}

/* f(x) for |x| < 2^-300, where all three forward GELUs are x/2 + c x^2 with
 * c > 0: x/2, correctly rounded (a tie goes up for x > 0, toward 0 for
 * x < 0, the side c x^2 pushes it to), without subnormal arithmetic: where
 * x/2 is subnormal it is computed on the bits (the pattern of |x| < 2^-1021
 * counts units of 2^-1074). */
GF_INLINE double gf_half_tiny_f64(double x)
{
    uint64_t b = gf_bits(x), sign = b & 0x8000000000000000ull, a = b ^ sign;
    const uint64_t edge = 0x0020000000000000ull;  /* 2^-1021 */
    uint64_t halved = (a + ((b >> 63) ^ 1)) >> 1;
    double fp_half = 0.5 * gf_from_bits(a > edge ? a : edge);
    return gf_from_bits(sign | (a < edge ? halved : gf_bits(fp_half)));
}

/* gelu, float64: x < 0: -2^k t R (1+e); x >= 0: x (1 - Q).  t capped at 40:
 * x Phi(x) rounds to -0 below -40 (so -inf and huge negatives give -0) and to
 * x above 40; below 2^-300 it is x/2 (gf_half_tiny_f64).  Bound: <= 2 ULP against mpmath (measured 0.83,
 * bench/accuracy_report.py). */
GF_INLINE double gelu_f64(double x)
{
    double t = gf_capped_abs_f64(x, 40.0);
    gf_tail_f64 n = gf_tail_parts_f64(t);
    double xs = copysign(t, x);  /* x, floored: no subnormal arithmetic */
    double m = xs < 0.0 ? t : 1.0;
    double a_hi = m * n.ratio_hi;
    double a_lo = fma(m, n.ratio_hi, -a_hi) + m * n.ratio_lo;
    double a_rest = gf_gauss_times_rest(a_hi, a_lo, n);
    double neg = gf_scaled_product_f64(-1.0, a_hi, a_rest, n.kd);
    double phi_lo, phi_hi = gf_one_minus_f64(a_hi, a_rest, n.kd, &phi_lo);
    double pos = fma(xs, phi_hi, xs * phi_lo);
    double result = xs < 0.0 ? neg : pos;
    result = gf_is_tiny_f64(x) ? gf_half_tiny_f64(x) : result;
    return gf_above_f64(x, 40.0) ? x : result;
}

/* g * gelu'(x), float64.  gelu'(x) = Phi(x) + x phi(x) = E D for x < 0 and
 * 1 - E D for x >= 0, with E = exp(-t^2/2), D = R(t) - t/sqrt(2 pi) (a
 * double-double: D crosses zero at t = 0.7518, where the bound, relative to
 * Phi + |x phi|, allows it).  g multiplies before the scaling by 2^k, so a
 * grad_out near DBL_MAX brings derivatives of 1e-630 back into range exactly:
 * t is capped at 55 (|gelu'(-55)| DBL_MAX < 1e-340; and -inf gives g * -0).
 * Bound: <= 2 ULP of |g| (Phi + |x phi|) against mpmath. */
#define GF_INV_SQRT_2PI_LO -0x1.cbc0d30ebfd15p-56  /* 1/sqrt(2 pi) - GF_INV_SQRT_2PI */
GF_INLINE double gelu_backward_f64(double g, double x)
{
    double t = gf_capped_abs_f64(x, 55.0);
    gf_tail_f64 n = gf_tail_parts_f64(t);
    double tc_hi = t * GF_INV_SQRT_2PI;
    double tc_lo = fma(t, GF_INV_SQRT_2PI, -tc_hi) + t * GF_INV_SQRT_2PI_LO;
    /* D = ratio - t c: TwoSum on the leading parts */
    double d_lo, d_hi = gf_two_sum(n.ratio_hi, -tc_hi, &d_lo);
    d_lo += n.ratio_lo - tc_lo;
    double a_rest = gf_gauss_times_rest(d_hi, d_lo, n);
    double neg = gf_scaled_product_f64(g, d_hi, a_rest, n.kd);
    double phi_lo, phi_hi = gf_one_minus_f64(d_hi, a_rest, n.kd, &phi_lo);
    double pos = gf_times_f64(g, phi_hi, phi_lo);
    double result = copysign(t, x) < 0.0 ? neg : pos;
    return gf_above_f64(x, 55.0) ? g : result;
}

GF_INLINE double gelu_grad_f64(double x) { return gelu_backward_f64(1.0, x); }

/* ---- float64 logistic kernels (tanh and sigmoid GELU) -------------------
 * Both are x sigma(w) with w = w(x) of x's sign.  With F = exp(-|w|) =
 * 2^k (1 + e) from gf_exp_dd (1 + e as a double-double) and den = 1 + F:
 *   x >= 0:  x sigma(w) = x / den,        x < 0:  x sigma(w) = 2^k x (1+e) / den
 *   f'(x) = s + x w' s (1 - s), s (1 - s) = F / den^2:
 *   x >= 0:  f' = (den + x w' F) / den^2,  x < 0:  f' = 2^k (1+e) (den + x w') / den^2
 * so no exponential overflows and the negative side carries its scale 2^k to
 * the last product.  Quotients are corrected by their exact remainder (fma). */

/* x with |x| in [2^-300, cap]; a nan becomes +-cap (the result is replaced by
 * the nan later), which keeps exp's argument in range; the floor keeps
 * subnormals out of the arithmetic (callers replace the result below it) */
GF_INLINE double gf_capped_signed_f64(double x, double cap)
{
    return copysign(gf_capped_abs_f64(x, cap), x);
}

typedef struct { double kd, u_hi, u_lo, f_hi, f_lo, den_hi, den_lo; } gf_logistic_f64;

GF_INLINE gf_logistic_f64 gf_logistic_parts_f64(double x, double w, double w_lo)
{
    gf_logistic_f64 L;
    double r, q, rl, lo;
    /* F = exp(-|w|) = 2^k u: 1 + r exact, then q and the rl term, normalized */
    L.kd = gf_exp_dd(x < 0.0 ? w : -w, x < 0.0 ? w_lo : -w_lo, &r, &q, &rl);
    double u = gf_fast_two_sum(1.0, r, &lo);
    L.u_hi = gf_fast_two_sum(u, lo + fma(rl, 1.0 + (r + q), q), &L.u_lo);
    /* F itself, for den; below 2^-900 it is irrelevant next to 1 (and the cap
     * keeps these products normal: subnormals are a slow path).  F <= 1 */
    double scale = gf_pow2i(gf_max(-900.0, L.kd));
    L.f_hi = L.u_hi * scale;
    L.f_lo = L.u_lo * scale;
    double d = gf_fast_two_sum(1.0, L.f_hi, &lo);
    L.den_hi = gf_fast_two_sum(d, lo + L.f_lo, &L.den_lo);
    return L;
}

/* (n_hi + n_lo) / (d_hi + d_lo) for normalized double-doubles, as v_hi +
 * *v_lo: the quotient corrected by its exact remainder (fma) */
GF_INLINE double gf_div_dd(double n_hi, double n_lo, double d_hi, double d_lo, double *v_lo)
{
    double v = n_hi / d_hi;
    *v_lo = ((fma(-v, d_hi, n_hi) + n_lo) - v * d_lo) / d_hi;
    return v;
}

GF_INLINE double gf_x_sigma_f64(double x, double w, double w_lo)
{
    gf_logistic_f64 L = gf_logistic_parts_f64(x, w, w_lo);
    double n_hi = x < 0.0 ? x * L.u_hi : x;
    double n_lo = x < 0.0 ? fma(x, L.u_hi, -n_hi) + x * L.u_lo : 0.0;
    double v_lo, v = gf_div_dd(n_hi, n_lo, L.den_hi, L.den_lo, &v_lo);
    double neg = gf_scaled_product_f64(1.0, v, v_lo, L.kd);
    double pos = v + v_lo;
    return x < 0.0 ? neg : pos;
}

/* p = x w' as the double-double p_hi + p_lo */
GF_INLINE double gf_g_x_sigma_grad_f64(double g, double x, double w, double w_lo,
                                       double p_hi, double p_lo)
{
    gf_logistic_f64 L = gf_logistic_parts_f64(x, w, w_lo);
    /* num = den + p F (x >= 0) or den + p (x < 0), a double-double */
    double pf_hi = p_hi * L.f_hi;
    double pf_lo = fma(p_hi, L.f_hi, -pf_hi) + (p_hi * L.f_lo + p_lo * L.f_hi);
    double t_hi = x < 0.0 ? p_hi : pf_hi, t_lo = x < 0.0 ? p_lo : pf_lo;
    double e, n = gf_two_sum(L.den_hi, t_hi, &e);
    double num_lo, num_hi = gf_two_sum(n, e + (L.den_lo + t_lo), &num_lo);
    /* den^2 */
    double d2 = L.den_hi * L.den_hi;
    double d2_lo = fma(L.den_hi, L.den_hi, -d2) + 2.0 * L.den_hi * L.den_lo;
    double v_lo, v = gf_div_dd(num_hi, num_lo, d2, d2_lo, &v_lo);
    double pos = gf_times_f64(g, v, v_lo);
    double m_hi = v * L.u_hi, m_lo = fma(v, L.u_hi, -m_hi) + (v * L.u_lo + v_lo * L.u_hi);
    double neg = gf_scaled_product_f64(g, m_hi, m_lo, L.kd);
    return x < 0.0 ? neg : pos;
}

/* ------------------------------------------------------------------------
 * gelu_tanh(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *              = x * sigma(w),  w = 2u      (no cancellation for x < 0)
 * gelu_tanh'(x) = s + x s (1 - s) w',  s = sigma(w),  w' = 2 sqrt(2/pi)(1 + 3*0.044715 x^2)
 * ---------------------------------------------------------------------- */

/* float32/float16: below x = -12 the result is under 1e-60 and rounds to -0,
 * so x is clamped there (which maps -inf to -0); w is computed from x clamped to
 * [-12, 12] as well (beyond +12, exp(-w) < 1e-61 is negligible), which keeps
 * exp's argument in range.  NaN propagates through the numerator.  1 - s is
 * computed as e*s.  Bound: <= 2 ULP of the formula (measured <= 0.5). */
GF_INLINE double gelu_tanh_f32(float xf)
{
    double x = xf;
    double xn = gf_max(-12.0, x);
    double xw = gf_clamp(x, -12.0, 12.0);
    double w_log2e = (2.0 * GF_TANH_K * GF_LOG2E) * fma(GF_TANH_A, xw * xw * xw, xw);
    return xn / (1.0 + gf_exp2(-w_log2e));
}

/* Clamped at |x| = 14, where |f'| < 1e-91: small enough for any grad_out (see
 * gelu_grad_f32).  Bound: <= 2 ULP of |s| + |x s (1-s) w'| (measured <= 0.5). */
GF_INLINE double gelu_tanh_grad_f32(float xf)
{
    double x = xf;
    double xc = gf_clamp(x, -14.0, 14.0);
    double x2 = xc * xc;
    double w_log2e = (2.0 * GF_TANH_K * GF_LOG2E) * fma(GF_TANH_A, x2 * xc, xc);
    double e = gf_exp2(-w_log2e);
    double s = 1.0 / (1.0 + e);
    double dw = 2.0 * GF_TANH_K * fma(3.0 * GF_TANH_A, x2, 1.0);
    double r = fma(xc * (s * (e * s)), dw, s);
    return x == 0.0 ? 0.5 : r;  /* exactly (see gelu_grad_f32) */
}

/* float64: x sigma(w) with w as a double-double (gf_logistic_f64 below):
 * x^2 exact (fma), then w = x (C1 + C3 x^2) carried to ~2^-100 relative, since
 * exp(-|w|) turns an absolute error in w (|w| up to 1600) into a relative one.
 * Capped at |x| = 22 forward (below, x sigma(w) < 1e-340; above, exactly x)
 * and 28 for the derivative (|gelu_tanh'(-28)| DBL_MAX < 1e-340).
 * Bounds: <= 2 ULP of the formula; derivative <= 2 ULP of |g| (|s| + |x s
 * (1-s) w'|), against mpmath with the decimal constants exact. */
#define GF_TANH_C1_HI 0x1.9884533d43651p+0   /* 2 sqrt(2/pi) */
#define GF_TANH_C1_LO -0x1.cbc0d30ebfd15p-54
#define GF_TANH_C3_HI 0x1.2444f2a4d8b4bp-4   /* 2 sqrt(2/pi) 0.044715 */
#define GF_TANH_C3_LO -0x1.6c843a29d1c70p-61
GF_INLINE double gf_tanh_w_f64(double x, double *lo)
{
    double x2 = x * x, x2_lo = fma(x, x, -x2);
    double p = GF_TANH_C3_HI * x2;
    double p_lo = fma(GF_TANH_C3_HI, x2, -p) + fma(GF_TANH_C3_HI, x2_lo, GF_TANH_C3_LO * x2);
    double c_lo, c = gf_two_sum(GF_TANH_C1_HI, p, &c_lo);  /* either may dominate */
    c_lo += p_lo + GF_TANH_C1_LO;
    double w = x * c;
    *lo = fma(x, c, -w) + x * c_lo;
    return w;
}

/* x w' = x (C1 + 3 C3 x^2) = w + 2 C3 x^3, as hi + *lo */
GF_INLINE double gf_tanh_x_dw_f64(double x, double w, double w_lo, double *lo)
{
    double x2 = x * x, x3 = x2 * x;
    double x3_lo = fma(x2, x, -x3) + fma(x, x, -x2) * x;
    double t = 2.0 * GF_TANH_C3_HI * x3;  /* 2 C3 x^3 */
    double t_lo = fma(2.0 * GF_TANH_C3_HI, x3, -t) + 2.0 * (GF_TANH_C3_HI * x3_lo + GF_TANH_C3_LO * x3);
    double e, hi = gf_two_sum(w, t, &e);
    *lo = e + (w_lo + t_lo);
    return hi;
}

GF_INLINE double gelu_tanh_f64(double x)
{
    double xc = gf_capped_signed_f64(x, 22.0), w_lo, w = gf_tanh_w_f64(xc, &w_lo);
    double r = gf_x_sigma_f64(xc, w, w_lo);
    r = gf_is_tiny_f64(x) ? gf_half_tiny_f64(x) : r;
    return gf_above_f64(x, 22.0) ? x : r;
}

GF_INLINE double gelu_tanh_backward_f64(double g, double x)
{
    double xc = gf_capped_signed_f64(x, 28.0), w_lo, w = gf_tanh_w_f64(xc, &w_lo);
    double p_lo, p = gf_tanh_x_dw_f64(xc, w, w_lo, &p_lo);
    double r = gf_g_x_sigma_grad_f64(g, xc, w, w_lo, p, p_lo);
    return gf_above_f64(x, 28.0) ? g : r;
}
GF_INLINE double gelu_tanh_grad_f64(double x) { return gelu_tanh_backward_f64(1.0, x); }

/* ------------------------------------------------------------------------
 * gelu_sigmoid(x) = x * sigma(1.702 x)
 * gelu_sigmoid'(x) = s + 1.702 x s (1 - s),  s = sigma(1.702 x)
 * ---------------------------------------------------------------------- */

/* float32/float16: x clamped to -70 (result < 1e-50 rounds to -0); the exp
 * argument uses x clamped to [-70, 70] (beyond +70, exp(-119) is negligible).
 * Bound: <= 2 ULP of the formula (measured <= 0.5). */
GF_INLINE double gelu_sigmoid_f32(float xf)
{
    double x = xf;
    double xn = gf_max(-70.0, x);
    double xe = gf_clamp(x, -70.0, 70.0);
    return xn / (1.0 + gf_exp2(xe * -(GF_SIGMOID_A * GF_LOG2E)));
}

/* Clamped at |x| = 120, where |f'| < 1e-86: small enough for any grad_out
 * (see gelu_grad_f32).  Bound: <= 2 ULP of |s| + |1.702 x s (1-s)|. */
GF_INLINE double gelu_sigmoid_grad_f32(float xf)
{
    double x = xf;
    double xc = gf_clamp(x, -120.0, 120.0);
    double e = gf_exp2(xc * -(GF_SIGMOID_A * GF_LOG2E));
    double s = 1.0 / (1.0 + e);
    double r = fma(GF_SIGMOID_A * xc, s * (e * s), s);
    return x == 0.0 ? 0.5 : r;  /* exactly (see gelu_grad_f32) */
}

/* float64: x sigma(w), w = 1.702 x as a double-double (1.702 split in two
 * doubles).  Capped at |x| = 450 forward (|w| = 766: below, x sigma(w) <
 * 1e-330) and 900 for the derivative (|gelu_sigmoid'(-900)| DBL_MAX < 1e-340).
 * Bounds as for gelu_tanh. */
#define GF_SIGMOID_A_HI 0x1.b3b645a1cac08p+0   /* 1.702 */
#define GF_SIGMOID_A_LO 0x1.89374bc6a7efap-55
GF_INLINE double gelu_sigmoid_f64(double x)
{
    double xc = gf_capped_signed_f64(x, 450.0), w = GF_SIGMOID_A_HI * xc;
    double w_lo = fma(GF_SIGMOID_A_HI, xc, -w) + GF_SIGMOID_A_LO * xc;
    double r = gf_x_sigma_f64(xc, w, w_lo);
    r = gf_is_tiny_f64(x) ? gf_half_tiny_f64(x) : r;
    return gf_above_f64(x, 450.0) ? x : r;
}

GF_INLINE double gelu_sigmoid_backward_f64(double g, double x)
{
    double xc = gf_capped_signed_f64(x, 900.0), w = GF_SIGMOID_A_HI * xc;
    double w_lo = fma(GF_SIGMOID_A_HI, xc, -w) + GF_SIGMOID_A_LO * xc;
    double r = gf_g_x_sigma_grad_f64(g, xc, w, w_lo, w, w_lo);  /* x w' = w */
    return gf_above_f64(x, 900.0) ? g : r;
}
GF_INLINE double gelu_sigmoid_grad_f64(double x) { return gelu_sigmoid_backward_f64(1.0, x); }

/* Backward kernels, float32/float16: grad_out * f'(x) in double, rounded
 * once.  Bound: <= 2 ULP of |grad_out| (|first term| + |second term|).  Note
 * inf * 0 = nan.  (The float64 ones are defined with their kernels: there
 * grad_out enters before the final scaling.) */
#define GF_BACKWARD_F32(name) \
    GF_INLINE double name##_backward_f32(float g, float x) { return (double)g * name##_grad_f32(x); }
GF_BACKWARD_F32(gelu)
GF_BACKWARD_F32(gelu_tanh)
GF_BACKWARD_F32(gelu_sigmoid)

#endif
