/* Scalar definitions of every GELU kernel, one per function and precision.
 *
 * Two precisions:
 *   *_f32  serve float32 and float16.  They take the input as a float (exact
 *          for both), compute in double and return a double within ~1e-10
 *          relative, which the loop rounds once to the storage type.  Float32
 *          ULPs are 6e-8 relative, so results are within 0.5007 ULP.
 *          Branch-free, libm-free: the loops vectorize.
 *   *_f64  serve float64.  gelu_f64 is vectorized double arithmetic with
 *          double-double steps where errors are not damped (see it).  The
 *          others evaluate in long double (64-bit significand on x86-64,
 *          113-bit on aarch64 Linux) with libm's erfcl/expl and round once:
 *          scalar code, accuracy first.  Where long double is no wider than
 *          double (MSVC), their bounds do not hold; gelu_fast.info() reports
 *          the internal float64 precision.
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
#define GF_INV_SQRT_2PI_L 0.398942280401432677939946059934381868L
#define GF_INV_SQRT2_L    0.707106781186547524400844362104849039L
#define GF_SIGMOID_A_L    1.702L

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
    return fma(copysign(t, x), gauss * GF_INV_SQRT_2PI, phi_cdf);
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

/* g (a_hi + a_rest) 2^k for an integer-valued k in [-2200, 0].  2^k is
 * applied as three normal powers of two, the first before g: a_hi 2^k1 is
 * exact and small enough that a g near DBL_MAX does not overflow on the way
 * to a result that is in range; one rounding (g times the sum) until the
 * result leaves the normal range, then at most two more in the subnormal
 * range.  An infinite g gives an infinity signed like the product, not
 * inf - inf. */
GF_INLINE double gf_scaled_product_f64(double g, double a_hi, double a_rest, double kd)
{
    double k1 = floor(kd * (1.0 / 3.0)), k2 = floor(0.5 * (kd - k1)), k3 = kd - k1 - k2;
    double s1 = gf_pow2i(k1), b_hi = a_hi * s1, b_rest = a_rest * s1;
    double gb = fabs(g) <= DBL_MAX ? fma(g, b_hi, g * b_rest) : g * (b_hi + b_rest);
    return gb * gf_pow2i(k2) * gf_pow2i(k3);
}

/* g (hi + lo), the last step on the positive side, with the same care for an
 * infinite g */
GF_INLINE double gf_times_f64(double g, double hi, double lo)
{
    return fabs(g) <= DBL_MAX ? fma(g, hi, g * lo) : g * (hi + lo);
}

/* 1 - 2^k (a_hi + a_rest) as hi + *lo; |2^k a| <= 1/2.  Below 2^-1000 the
 * product is irrelevant next to 1, and the cap keeps it normal. */
GF_INLINE double gf_one_minus_f64(double a_hi, double a_rest, double kd, double *lo)
{
    double scale = gf_pow2i(gf_max(-1000.0, kd));
    double q_hi = a_hi * scale, q_lo = a_rest * scale;
    double hi = 1.0 - q_hi;
    *lo = ((1.0 - hi) - q_hi) - q_lo;  /* Fast2Sum: exact */
    return hi;
}

/* gelu, float64: x < 0: -2^k t R (1+e); x >= 0: x (1 - Q).  t capped at 40:
 * x Phi(x) rounds to -0 below -40 (so -inf and huge negatives give -0) and to
 * x above 40; below 2^-300 it is x/2 (a subnormal x/2 may round a tie the
 * other way: within 1 ULP).  Bound: <= 2 ULP against mpmath (measured 0.83,
 * bench/accuracy_report.py). */
GF_INLINE double gelu_f64(double x)
{
    double t = gf_capped_abs_f64(x, 40.0);
    gf_tail_f64 n = gf_tail_parts_f64(t);
    double m = x < 0.0 ? t : 1.0;
    double a_hi = m * n.ratio_hi;
    double a_lo = fma(m, n.ratio_hi, -a_hi) + m * n.ratio_lo;
    double a_rest = gf_gauss_times_rest(a_hi, a_lo, n);
    double neg = gf_scaled_product_f64(-1.0, a_hi, a_rest, n.kd);
    double phi_lo, phi_hi = gf_one_minus_f64(a_hi, a_rest, n.kd, &phi_lo);
    double pos = fma(x, phi_hi, x * phi_lo);
    double result = x < 0.0 ? neg : pos;
    result = fabs(x) < GF_F64_TINY ? 0.5 * x : result;  /* 0 keeps its sign */
    return x > 40.0 ? x : result;
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
    /* D = ratio - t c, TwoSum on the leading parts */
    double d_hi = n.ratio_hi - tc_hi, v = d_hi - n.ratio_hi;
    double d_lo = ((n.ratio_hi - (d_hi - v)) + (-tc_hi - v)) + (n.ratio_lo - tc_lo);
    double a_rest = gf_gauss_times_rest(d_hi, d_lo, n);
    double neg = gf_scaled_product_f64(g, d_hi, a_rest, n.kd);
    double phi_lo, phi_hi = gf_one_minus_f64(d_hi, a_rest, n.kd, &phi_lo);
    double pos = gf_times_f64(g, phi_hi, phi_lo);
    double result = x < 0.0 ? neg : pos;
    return x > 55.0 ? g : result;
}

GF_INLINE double gelu_grad_f64(double x) { return gelu_backward_f64(1.0, x); }

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
    return fma(xc * (s * (e * s)), dw, s);
}

/* exp(-w) for the float64 tanh kernels, w = 2 sqrt(2/pi) (x + 0.044715 x^3),
 * in long double, for x in [-40, 40].  In the tail |w| reaches 745 (forward)
 * and 1455 (backward with grad_out up to DBL_MAX), where each long double
 * rounding of w costs up to 0.4 double ULP of the result; the plain product
 * chain has five (measured: 1.9 ULP).  For |x| > 8, x is split as xh + xl with
 * xh of 10 bits (Veltkamp), so xh^3 (30 bits) times C3_HI (the constant's
 * leading 32 bits) is exact, the remaining terms are at most 1% of w, and w
 * is rounded once, in the final sum (measured: 0.92 ULP, and one expl call). */
#define GF_TANH_C1_L 1.59576912160573071175978423974L    /* 2 sqrt(2/pi) */
#define GF_TANH_C3_L 0.0713548162726002487763387522799L  /* 2 sqrt(2/pi) 0.044715 */
#define GF_TANH_C3_HI 0x1.2444f2a4p-4                    /* its leading 32 bits */
#define GF_TANH_C3_LO 1.231829854097193099080104e-11L    /* the rest */
GF_INLINE long double gf_tanh_exp_neg_w(double x)
{
    if (fabs(x) <= 8.0) {
        long double xl = x;
        return expl(-(GF_TANH_C1_L * xl + GF_TANH_C3_L * (xl * xl * xl)));
    }
    double c = x * 0x1.00000000008p43;  /* 2^43 + 1 */
    long double hi = c - (c - x), lo = (long double)x - hi;
    long double hi3 = hi * hi * hi;
    long double exact = GF_TANH_C3_HI * hi3;
    long double rest = GF_TANH_C3_LO * hi3
                     + GF_TANH_C3_L * (3.0L * hi * hi * lo + 3.0L * hi * lo * lo + lo * lo * lo)
                     + GF_TANH_C1_L * x;
    return expl(-(exact + rest));
}

/* float64: x clamped to -40 (result < 1e-2000); w from x clamped to [-40, 40],
 * which also keeps expl off its slow underflow path.
 * Bound: <= 2 ULP of the formula, decimal constants exact. */
GF_INLINE double gelu_tanh_f64(double x)
{
    long double xn = gf_max(-40.0, x);
    return (double)(xn / (1.0L + gf_tanh_exp_neg_w(gf_clamp(x, -40.0, 40.0))));
}

/* Clamped at |x| = 40 (|f'| < 1e-2000). */
GF_INLINE long double gelu_tanh_grad_f64_ld(double x)
{
    double xd = gf_clamp(x, -40.0, 40.0);
    long double xc = xd, x2 = xc * xc;
    long double e = gf_tanh_exp_neg_w(xd), s = 1.0L / (1.0L + e);
    long double dw = GF_TANH_C1_L + 3.0L * GF_TANH_C3_L * x2;
    return s + xc * (s * (e * s)) * dw;
}
GF_INLINE double gelu_tanh_grad_f64(double x) { return (double)gelu_tanh_grad_f64_ld(x); }

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
    return fma(GF_SIGMOID_A * xc, s * (e * s), s);
}

/* float64: long double keeps 1.702 x exact enough while |1.702 x| reaches 745;
 * x clamped to -500 (result < 1e-360), and to [-500, 500] inside expl.
 * Bound: <= 2 ULP of the formula. */
GF_INLINE double gelu_sigmoid_f64(double x)
{
    long double xn = gf_max(-500.0, x), xe = gf_clamp(x, -500.0, 500.0);
    return (double)(xn / (1.0L + expl(-GF_SIGMOID_A_L * xe)));
}

/* Clamped at |x| = 1000 (|f'| < 1e-730): the backward kernel multiplies by up
 * to DBL_MAX and must still underflow to 0 only where the true product does. */
GF_INLINE long double gelu_sigmoid_grad_f64_ld(double x)
{
    long double xc = gf_clamp(x, -1000.0, 1000.0);
    long double e = expl(-GF_SIGMOID_A_L * xc), s = 1.0L / (1.0L + e);
    return s + GF_SIGMOID_A_L * xc * (s * (e * s));
}
GF_INLINE double gelu_sigmoid_grad_f64(double x) { return (double)gelu_sigmoid_grad_f64_ld(x); }

/* Backward kernels: grad_out * f'(x), rounded once.  f32 versions multiply in
 * double; f64 versions in long double.  Bound: <= 2 ULP of
 * |grad_out| * (|first term| + |second term|).  Note inf * 0 = nan. */
#define GF_BACKWARD_F32(name) \
    GF_INLINE double name##_backward_f32(float g, float x) { return (double)g * name##_grad_f32(x); }
#define GF_BACKWARD_F64(name) \
    GF_INLINE double name##_backward_f64(double g, double x) { return (double)((long double)g * name##_grad_f64_ld(x)); }
GF_BACKWARD_F32(gelu)
GF_BACKWARD_F32(gelu_tanh)
GF_BACKWARD_F32(gelu_sigmoid)
GF_BACKWARD_F64(gelu_tanh)
GF_BACKWARD_F64(gelu_sigmoid)

#endif
