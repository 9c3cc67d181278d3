/* The AVX-512 tiers (gf_tier.h says what a tier is), in the order the loop
 * layer runs them:
 * - tier_f32_avx512: float32 data in float32 arithmetic, |x| < 3.4375
 *   ("the float32 tier", described further down);
 * - tier_f32_in_f64_avx512: the float32 lanes it leaves, in double
 *   arithmetic on [-4.25, 3.75) ("the double pieces", described here);
 * - tier_f16_avx512: float16 data, on the same double pieces.
 * What they leave goes to the general kernels of gelu_kernels.h.
 *
 * Formula: every kernel is a factor F(x) (src_c/fit_pieces.py lists
 * them) times x (forward), times 1 (derivative) or times grad_out (backward).
 *
 * Algorithm: on [-4.25, 3.75), where standard-normal data almost always lies,
 * F is a degree-8 polynomial in u = 2x - k on the piece k = round(2x),
 * k = -8..7, evaluated in double by Horner with fma.  The coefficients of one
 * degree for all 16 pieces fill two registers; vpermt2pd picks each lane's
 * coefficient by k (the low bits of 2x + 1.5*2^52), so there are no gathers
 * and no table loads inside the loop.  The product with x or grad_out is in
 * double too, and the one rounding that matters is the conversion to float.
 *
 * Error bound: the fits are within 2^-29.4 of F relative to
 * |first term| + |second term| (the scale of every kernel's bound; for the
 * forward factors, F itself), and double Horner adds ~2^-50, so a result is
 * within 0.5 + 2^24 * 2^-29.4 < 0.53 ULP of that scale.  The
 * bounds of gelu_kernels.h (1 ULP forward, 2 ULP of the scale for the
 * derivatives) hold; tests/test_exhaustive_float32.py checks every float32
 * input, tests/test_accuracy.py every float16 one (still correctly rounded).
 *
 * Outside the pieces, where the result saturates (below GF_PIECES_LOW_*: a
 * signed zero; above GF_PIECES_HIGH_*: x, 1 or grad_out; src_c/fit_pieces.py
 * sets both with a factor-2 margin) and for nan (passed through), the tiers
 * answer themselves, with the values the general kernels give.  The rest,
 * the gaps (and, for backward, lanes whose grad_out is inf or nan), they
 * leave for the next tier.  The choice is per element (by the
 * element's own value, not its neighbours'), so a result does not depend on
 * layout, alignment or thread split.  Within the pieces the tiers and the
 * general kernels may round differently, so float32 results on an AVX-512
 * machine may differ from an AVX2 machine's by an ULP, both within the bounds.
 *
 * Special values: x = +-0 is on the centre piece, whose constant term is
 * exactly 1/2, so the forward results are +-0 and the derivatives 1/2. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "gelu_fast.h"
#include "gf_tier.h"

/* GCC 12 and Clang 14 on: the target attribute with these intrinsics */
#if defined(__x86_64__) && !defined(GF_NO_FAST_PATH) \
    && ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && __GNUC__ >= 12))

#include <immintrin.h>
#include "gf_math.h"
#define GF_TIER_F64_TABLES
#include "gf_tier_tables.h"

#define GF_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))

static int tier_avx512_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
           && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}


/* the range on the bits of x: [0, 3.75) as unsigned, and [-4.25, -0] as an
 * offset from the sign bit (so subnormals and nans compare as integers) */
#define GF_PIECES_POS_END 0x40700000u  /* 3.75f */
#define GF_PIECES_NEG_END 0x40880000u  /* 4.25f without its sign */

GF_AVX512 GF_INLINE __mmask16 pieces_f64_in_range(__m512i bits)
{
    __mmask16 pos = _mm512_cmplt_epu32_mask(bits, _mm512_set1_epi32((int)GF_PIECES_POS_END));
    __m512i neg = _mm512_sub_epi32(bits, _mm512_set1_epi32((int)0x80000000u));
    return pos | _mm512_cmple_epu32_mask(neg, _mm512_set1_epi32((int)GF_PIECES_NEG_END));
}

/* The lanes whose result the tiers give without the polynomial:
 * x >= high (+inf included) and x <= -low (-inf included), from the bits;
 * nan is the exponent field all ones and a nonzero fraction. */
typedef struct { __mmask16 high, low, nan; } tier_saturated;

GF_AVX512 GF_INLINE tier_saturated tier_saturation(__m512i bits, uint32_t low, uint32_t high)
{
    tier_saturated s;
    __mmask16 at_least_high = _mm512_cmpge_epu32_mask(bits, _mm512_set1_epi32((int)high));
    s.high = _mm512_mask_cmple_epu32_mask(at_least_high, bits, _mm512_set1_epi32(0x7f800000));
    __mmask16 at_least_low = _mm512_cmpge_epu32_mask(bits, _mm512_set1_epi32((int)(0x80000000u | low)));
    s.low = _mm512_mask_cmple_epu32_mask(at_least_low, bits, _mm512_set1_epi32((int)0xff800000u));
    __m512i magnitude = _mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff));
    s.nan = _mm512_cmpgt_epu32_mask(magnitude, _mm512_set1_epi32(0x7f800000));
    return s;
}

/* grad_out finite: its exponent field not all ones */
GF_AVX512 GF_INLINE __mmask16 tier_finite(__m512i bits)
{
    __m512i exponent = _mm512_and_si512(bits, _mm512_set1_epi32(0x7f800000));
    return _mm512_cmpneq_epi32_mask(exponent, _mm512_set1_epi32(0x7f800000));
}

/* F at 8 doubles; lanes outside the range get a meaningless finite value or
 * nan, never a fault (the permutes read only the index's low 4 bits) */
GF_AVX512 GF_INLINE __m512d pieces_f64_eval(__m512d x, const __m512d *lo, const __m512d *hi)
{
    const __m512d shifter = _mm512_set1_pd(0x1.8p52);
    /* adds, not fma: the multiply pipes are the loop's bottleneck */
    __m512d x2 = _mm512_add_pd(x, x);
    __m512d m = _mm512_add_pd(x2, shifter);  /* rounds 2x to k */
    __m512i k_bits = _mm512_castpd_si512(m);
    __m512d u = _mm512_sub_pd(x2, _mm512_sub_pd(m, shifter));  /* 2x - k, exact */
    __m512d p = _mm512_permutex2var_pd(lo[0], k_bits, hi[0]);
    for (int j = 1; j < GF_PIECES_ROWS; j++)
        p = _mm512_fmadd_pd(p, u, _mm512_permutex2var_pd(lo[j], k_bits, hi[j]));
    return p;
}

GF_AVX512 GF_INLINE __m512d pieces_f64_low_half(__m512 v)
{
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}

GF_AVX512 GF_INLINE __m512d pieces_f64_high_half(__m512 v)
{
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

GF_AVX512 GF_INLINE __m512 pieces_f64_to_float(__m512d low, __m512d high)
{
    __m512d joined = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm512_cvtpd_ps(low))),
                                        _mm256_castps_pd(_mm512_cvtpd_ps(high)), 1);
    return _mm512_castpd_ps(joined);
}

GF_AVX512 GF_INLINE void pieces_f64_load(const double (*table)[16], __m512d *lo, __m512d *hi)
{
    for (int j = 0; j < GF_PIECES_ROWS; j++) {
        lo[j] = _mm512_loadu_pd(table[j]);
        hi[j] = _mm512_loadu_pd(table[j] + 8);
    }
}

GF_AVX512 GF_INLINE __mmask16 tier_live(ptrdiff_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* Blocks of 16 elements go through a tier in chunks of GF_PIECES_CHUNK
 * blocks (GF_STAGE_TAKE elements).  The lanes a tier leaves are packed, as
 * they are met, into its stage (vcompressps), and their blocks' other
 * results are held there; when the stage may not take another chunk, and at
 * the end, the next tiers compute the packed lanes in one go, and each held
 * block is completed (vexpandps) and stored whole.  So the hot loop has no
 * calls and keeps the coefficients in registers, inputs in the gaps cost what
 * the general kernels cost, however they are scattered, and a rare gap
 * (standard-normal data has one in ~1700 float32 inputs) costs neither a
 * call per chunk nor, where the output is streamed, a partial store: a line
 * that a masked store writes is first read from memory, and at 10M elements
 * that read cost 20%. */
#define GF_PIECES_CHUNK (GF_STAGE_TAKE / 16)
#define GF_PIECES_HELD GF_STAGE_BLOCKS

/* Store the 16 results y at out (its `live` lanes); stream: non-temporal
 * (out 64-byte aligned), where the block is whole */
GF_AVX512 GF_INLINE void tier_store(float *out, __m512 y, __mmask16 live, int stream)
{
    if (stream && live == (__mmask16)0xffff) _mm512_stream_ps(out, y);
    else _mm512_mask_storeu_ps(out, live, y);
}

GF_AVX512 GF_INLINE void tier_hold(gf_stage_f32 *stage, ptrdiff_t at, __mmask16 lanes, __mmask16 live,
                                        __m512 y, __m512 x, __m512 g, int with_g)
{
    _mm512_store_ps(stage->held[stage->blocks], y);
    stage->at[stage->blocks] = at;
    stage->live[stage->blocks] = live;
    stage->lanes[stage->blocks++] = lanes;
    /* register compress + full store: the memory form is microcoded on Zen 4 */
    _mm512_storeu_ps(stage->x + stage->count, _mm512_maskz_compress_ps(lanes, x));
    if (with_g) _mm512_storeu_ps(stage->g + stage->count, _mm512_maskz_compress_ps(lanes, g));
    stage->count += __builtin_popcount(lanes);
}

/* The held blocks, their gaps' results (stage->y) expanded into them, stored
 * at out + their offsets; the buffer emptied */
GF_AVX512 GF_INLINE void tier_unpack(gf_stage_f32 *stage, float *out, int stream)
{
    ptrdiff_t packed = 0;
    for (ptrdiff_t j = 0; j < stage->blocks; j++) {
        __mmask16 lanes = stage->lanes[j];
        __m512 y = _mm512_mask_expand_ps(_mm512_load_ps(stage->held[j]), lanes, _mm512_loadu_ps(stage->y + packed));
        tier_store(out + stage->at[j], y, stage->live[j], stream);
        packed += __builtin_popcount(lanes);
    }
    stage->count = stage->blocks = 0;
}

/* Whether a tier's take, after a chunk ending at `end` of `total`, stops
 * for its stage to be emptied: when the stage may not have room for another
 * chunk, or at the end with something held */
GF_INLINE int tier_stop(const gf_stage_f32 *stage, ptrdiff_t end, ptrdiff_t total)
{
    return stage->blocks > GF_PIECES_HELD - GF_PIECES_CHUNK || (end == total && stage->blocks);
}

/* A block whose live lanes are not all on the tier (`fast`, with `y`
 * their results), at out + at: the saturated lanes and nan take their
 * results directly; the block is stored (stream: as tier_store), or,
 * where some lanes are left (the gaps), held with them packed for later.
 * `ok`: the live lanes whose grad_out the tier may use. */
GF_AVX512 GF_INLINE void tier_settle(gf_stage_f32 *stage, float *out, ptrdiff_t at, __m512 y,
                                          __m512i x_bits, __m512 factor, __mmask16 fast, __mmask16 ok,
                                          __mmask16 live, int mode, uint32_t low, uint32_t high, int stream)
{
    const int backward = mode == GF_BACKWARD;
    tier_saturated sat = tier_saturation(x_bits, low, high);
    __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_set1_ps(-0.0f), x = _mm512_castsi512_ps(x_bits);
    y = _mm512_mask_mov_ps(y, sat.high, mode == GF_DERIVATIVE ? one : factor);
    y = _mm512_mask_mov_ps(y, sat.low, backward ? _mm512_mul_ps(factor, zero) : zero);
    y = _mm512_mask_mov_ps(y, sat.nan, x);
    fast |= (sat.high | sat.low | sat.nan) & ok;
    __mmask16 gap = live & (__mmask16)~fast;
    if (gap) tier_hold(stage, at, gap, live, y, x, factor, backward);
    else tier_store(out + at, y, live, stream);
}

/* The polynomial and its factor (x, 1 or g) for the 16 floats at xs, as two
 * halves of 8 doubles, each loaded on its own (no shuffle to split them) */
GF_AVX512 GF_INLINE void pieces_f64_block(const float *xs, __mmask16 live, __m512 factor, int mode,
                                         const __m512d *lo, const __m512d *hi,
                                         __m512d *y0, __m512d *y1)
{
    __m512d x0 = _mm512_cvtps_pd(_mm256_maskz_loadu_ps((__mmask8)live, xs));
    __m512d x1 = _mm512_cvtps_pd(_mm256_maskz_loadu_ps((__mmask8)(live >> 8), xs + 8));
    *y0 = pieces_f64_eval(x0, lo, hi);
    *y1 = pieces_f64_eval(x1, lo, hi);
    if (mode == GF_FORWARD) {
        *y0 = _mm512_mul_pd(*y0, x0);
        *y1 = _mm512_mul_pd(*y1, x1);
    } else if (mode == GF_BACKWARD) {
        *y0 = _mm512_mul_pd(*y0, pieces_f64_low_half(factor));
        *y1 = _mm512_mul_pd(*y1, pieces_f64_high_half(factor));
    }
}

/* One chunk of the loop below: the blocks from `start` to `end`, their fast
 * lanes stored, their gap lanes packed.  Returns how many blocks were not
 * wholly in the pieces.  skip_outside: test before the polynomial whether any
 * lane needs it, which saves it on data mostly outside the pieces but costs
 * 10% on data inside (a branch ahead of the arithmetic), so the loop picks
 * this per chunk from the chunk before. */
GF_AVX512 GF_INLINE ptrdiff_t pieces_f64_chunk(const float *g, ptrdiff_t g_step, int32_t g_scalar_bits,
                                              const float *xs, float *out, ptrdiff_t start, ptrdiff_t end,
                                              const __m512d *lo, const __m512d *hi, int mode,
                                              uint32_t low, uint32_t high, gf_stage_f32 *stage,
                                              int skip_outside)
{
    const int backward = mode == GF_BACKWARD;
    ptrdiff_t mixed = 0;
    for (ptrdiff_t i = start; i < end; i += 16) {
        __mmask16 live = tier_live(end - i);
        __m512i x_bits = _mm512_maskz_loadu_epi32(live, xs + i);
        __m512 x = _mm512_castsi512_ps(x_bits), factor = x;
        __mmask16 ok = live;
        if (backward) {
            __m512i g_bits = g_step ? _mm512_maskz_loadu_epi32(live, g + i)
                                    : _mm512_set1_epi32(g_scalar_bits);
            factor = _mm512_castsi512_ps(g_bits);
            ok &= tier_finite(g_bits);
        }
        __mmask16 fast = pieces_f64_in_range(x_bits) & ok;
        __m512d y0 = _mm512_setzero_pd(), y1 = _mm512_setzero_pd();
        if (!skip_outside || fast)
            pieces_f64_block(xs + i, live, factor, mode, lo, hi, &y0, &y1);
        if (__builtin_expect(fast == live, 1)) {
            /* each half stored on its own: no shuffle to join them */
            _mm256_mask_storeu_ps(out + i, (__mmask8)live, _mm512_cvtpd_ps(y0));
            _mm256_mask_storeu_ps(out + i + 8, (__mmask8)(live >> 8), _mm512_cvtpd_ps(y1));
            continue;
        }
        mixed++;
        tier_settle(stage, out, i, pieces_f64_to_float(y0, y1), x_bits, factor, fast, ok, live, mode,
                         low, high, 0);
    }
    return mixed;
}

/* tier_f32_in_f64_avx512's take (gf_tier.h) for one mode: out[i] = x F(x)
 * (forward), F(x) (derivative) or g F(x) (backward) on the double pieces.
 * It leaves the gaps and, for backward, the lanes whose grad_out is inf or
 * nan. */
GF_AVX512 GF_INLINE ptrdiff_t pieces_f64_take(int f, const gf_run_f32 *run, ptrdiff_t start, gf_stage_f32 *stage,
                                             int mode)
{
    __m512d lo[GF_PIECES_ROWS], hi[GF_PIECES_ROWS];
    pieces_f64_load(pieces_f64_tables[f], lo, hi);
    const uint32_t low = tier_functions[f].low_f32, high = tier_functions[f].high;
    int32_t g_scalar_bits = 0;
    if (mode == GF_BACKWARD) memcpy(&g_scalar_bits, run->g, sizeof g_scalar_bits);
    /* it runs on what the float32 tier left, packed: rare tails, or data
     * mostly outside the pieces, so it starts testing before the polynomial */
    if (start == 0) stage->skip_outside = 1;
    for (ptrdiff_t chunk = start; chunk < run->n; chunk += GF_STAGE_TAKE) {
        ptrdiff_t end = run->n - chunk < GF_STAGE_TAKE ? run->n : chunk + GF_STAGE_TAKE;
        ptrdiff_t mixed = stage->skip_outside
            ? pieces_f64_chunk(run->g, run->g_step, g_scalar_bits, run->x, run->out, chunk, end, lo, hi, mode,
                              low, high, stage, 1)
            : pieces_f64_chunk(run->g, run->g_step, g_scalar_bits, run->x, run->out, chunk, end, lo, hi, mode,
                              low, high, stage, 0);
        stage->skip_outside = 2 * mixed > GF_PIECES_CHUNK;
        if (tier_stop(stage, end, run->n)) return end;
    }
    return run->n;
}

GF_AVX512 static ptrdiff_t tier_f32_in_f64_avx512_take(int f, const gf_run_f32 *run, ptrdiff_t start,
                                                       gf_stage_f32 *stage)
{
    switch (tier_functions[f].mode) {
    case GF_FORWARD: return pieces_f64_take(f, run, start, stage, GF_FORWARD);
    case GF_DERIVATIVE: return pieces_f64_take(f, run, start, stage, GF_DERIVATIVE);
    default: return pieces_f64_take(f, run, start, stage, GF_BACKWARD);
    }
}

/* Both float32 tiers' give_back (gf_tier.h) */
GF_AVX512 static void tier_avx512_give_back(gf_stage_f32 *stage, const gf_run_f32 *run)
{
    tier_unpack(stage, run->out, run->stream);
    if (run->stream) _mm_sfence();  /* the streamed lines reach memory before other threads read them */
}

/* ---- the float32 tier ------------------------------------------------ *
 *
 * float32 data first meets a cheaper evaluation of the same factors, in
 * float32 at 16 lanes (the double path above does 8), which answers almost
 * all standard-normal data and hands what it does not cover to the double
 * path.
 *
 * Algorithm: every factor has F(x) = 1 - F(-x), so F is evaluated at
 * x' = -|x| and mirrored where x >= 0.  28 pieces of width 1/8 on
 * (-3.4375, 0] (src_c/fit_pieces.py, float_table): k = round(8x'), read as
 * the piece's column k mod 32 off the low bits of x' + 1.5 2^20, and
 * v = x' - k/8 (exact, vreduceps; the table's coefficients are for v, |v| <=
 * 1/16); one vpermt2ps per coefficient (columns 1..4 unused).
 * Derivative and backward: F(x') = c0 + c1 v + v^2 q(v) is carried as a
 * float pair s + l: c0 is a float pair, c1 v is split exactly by an fma and
 * added to c0 by Fast2Sum, and only l (c0's low part, the two rounding
 * errors, v^2 q(v) by float Horner) is rounded in float32.  The mirror 1 - s
 * is another Fast2Sum (|s| <= 1).  The result: s + l rounded (derivative);
 * g s split exactly by an fma and g s + g l = rh - ((rh - g s) - g l)
 * (backward, where a zero result keeps the sign of g s).
 * Forward: the table holds the product, x' F(x') = x' h + d(v), with h the
 * factor at the piece's centre rounded to 8 bits (so that the mirror 1 - h
 * is exact) and d a polynomial fitted relative to |x' F(x')|, stored as -d;
 * h is the low half of the top coefficient's bits (one permute fetches
 * both, a shift takes h out: permutes are this loop's bottleneck on Zen 4,
 * where each one removed saves ~4%).
 * Then x F(x) = x h + d(v) for x < 0 and x (1 - h) + d(v) for x >= 0 (where
 * x' = -x and F(x) = 1 - F(x')): one fmsub, x h - (-d), with x h exact inside
 * it, after a float Horner -d.  At x = +-0, -d is +0, so the fmsub gives x's
 * signed zero (gelu(-0) = -0) with no sign fix-up.  This is the cheaper form
 * (26 vector instructions per 16 elements in the loop, load and store
 * included, 6 of them permutes, against 40 for the pair): the forward
 * factors have no zero to resolve, so their results can afford d's one
 * rounding in float32.
 *
 * Error bound: the fits are within 2^-28.6 .. 2^-29.8 of the scale
 * (coefficients rounded to float), ~0.05 ULP at most.  Pair form: v^2 q(v)
 * is at most ~1/30 of F on every piece, so the float32 roundings in l cost
 * ~0.02 ULP; Fast2Sum is exact where |c0| >= |c1 v|, and near the
 * derivatives' zero (where it may not be) its error is within a float32
 * rounding of the scale.  Forward form: |d| is at most ~1/4 of the result
 * where x < 0 (F changes by up to e^(lambda/16) over a piece,
 * lambda = F'/F <= 4 on the range) and a few per cent of it where x >= 0;
 * d's rounding costs up to 2^-24 |d|, so up to ~0.25 ULP beyond the final
 * rounding.  Measured over every float32 input
 * (tests/test_exhaustive_float32.py): see the README's accuracy table.
 *
 * Range and special values: a lane is on this tier when |x| < 3.4375 and,
 * for backward, |grad_out| < 2^120 (so g s cannot overflow, where the error
 * term would be inf - inf).  x = +-0 is on the centre piece (F(0) = 1/2
 * exactly).  Other lanes: saturated and nan as on the double path
 * (tier_settle), the rest packed and sent through the double path. */

GF_AVX512 GF_INLINE void pieces_f32_load(const float (*table)[32], __m512 *lo, __m512 *hi)
{
    for (int j = 0; j < GF_FLOAT_PIECES_ROWS; j++) {
        lo[j] = _mm512_loadu_ps(table[j]);
        hi[j] = _mm512_loadu_ps(table[j] + 16);
    }
}

/* The reduction shared by both evaluations: x' = -|x| (`mirrored`), the
 * piece's column and v; returns the lanes in range, |x| < 3.4375 (nan and inf
 * are not), and sets `positive` (x >= +0).  Lanes out of range get
 * meaningless columns and v, never a fault (the permutes read only the low 5
 * bits of the column). */
GF_AVX512 GF_INLINE __mmask16 pieces_f32_reduce(__m512i x_bits, __m512i *mirrored, __m512i *column,
                                                     __m512 *v, __mmask16 *positive)
{
    *mirrored = _mm512_or_si512(x_bits, _mm512_set1_epi32((int)0x80000000u));
    *positive = _mm512_cmpge_epi32_mask(x_bits, _mm512_setzero_si512());
    __m512 t = _mm512_castsi512_ps(*mirrored);
    *column = _mm512_castps_si512(_mm512_add_ps(t, _mm512_set1_ps(0x1.8p20f)));  /* its ulp is 1/8 */
    *v = _mm512_reduce_ps(t, 0x38);  /* t - round(8t)/8, ties to even as the add above */
    return _mm512_cmplt_epu32_mask(*mirrored, _mm512_set1_epi32((int)GF_FLOAT_END));
}

#define GF_FLOAT_COEF(j) _mm512_permutex2var_ps(lo[j], column, hi[j])

/* F(x) as s + l (derivative and backward) */
GF_AVX512 GF_INLINE __mmask16 pieces_f32_pair(__m512i x_bits, const __m512 *lo, const __m512 *hi,
                                                   __m512 *s, __m512 *l)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512i mirrored, column;
    __m512 v;
    __mmask16 positive, in_range = pieces_f32_reduce(x_bits, &mirrored, &column, &v, &positive);
    __m512 q = GF_FLOAT_COEF(GF_FLOAT_PIECES_ROWS - 1);
    for (int j = GF_FLOAT_PIECES_ROWS - 2; j >= 3; j--) q = _mm512_fmadd_ps(q, v, GF_FLOAT_COEF(j));
    __m512 c0 = GF_FLOAT_COEF(0), c1 = GF_FLOAT_COEF(2);
    __m512 p1 = _mm512_mul_ps(c1, v), p1_err = _mm512_fmsub_ps(c1, v, p1);
    __m512 s0 = _mm512_add_ps(c0, p1);
    __m512 s0_err = _mm512_sub_ps(p1, _mm512_sub_ps(s0, c0));
    __m512 l0 = _mm512_fmadd_ps(_mm512_mul_ps(v, v), q, _mm512_add_ps(_mm512_add_ps(GF_FLOAT_COEF(1), p1_err), s0_err));
    *s = _mm512_mask_sub_ps(s0, positive, one, s0);
    __m512 s_err = _mm512_sub_ps(_mm512_sub_ps(one, *s), s0);
    *l = _mm512_mask_sub_ps(l0, positive, s_err, l0);
    return in_range;
}

/* x F(x) (forward): x h + d(v) for x < 0, x (1 - h) + d(v) for x >= 0, in
 * one fma: x h exact inside it, d by float Horner.  The result takes x's
 * sign, so gelu(-0) = -0. */
GF_AVX512 GF_INLINE __mmask16 pieces_f32_forward(__m512i x_bits, const __m512 *lo, const __m512 *hi,
                                                      __m512 *y)
{
    __m512i mirrored, column;
    __m512 v;
    __mmask16 positive, in_range = pieces_f32_reduce(x_bits, &mirrored, &column, &v, &positive);
    __m512 top = GF_FLOAT_COEF(GF_FLOAT_PIECES_ROWS - 1), minus_d = top;
    for (int j = GF_FLOAT_PIECES_ROWS - 2; j >= 1; j--) minus_d = _mm512_fmadd_ps(minus_d, v, GF_FLOAT_COEF(j));
    /* h is the low half of the top coefficient's bits: a shift, not a permute */
    __m512 h = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(top), 16));
    h = _mm512_mask_sub_ps(h, positive, _mm512_set1_ps(1.0f), h);
    /* at x = +-0, -d = +0 (v = +0, and its two last coefficients are +0), so
     * x h - (+0) is x's signed zero */
    *y = _mm512_fmsub_ps(_mm512_castsi512_ps(x_bits), h, minus_d);
    return in_range;
}
#undef GF_FLOAT_COEF

/* The kernel's value on the tier in `y` (f: grad_out for backward); returns
 * the lanes in range */
GF_AVX512 GF_INLINE __mmask16 pieces_f32_value(__m512i x_bits, __m512 f, const __m512 *lo, const __m512 *hi,
                                                    int mode, __m512 *y)
{
    if (mode == GF_FORWARD) return pieces_f32_forward(x_bits, lo, hi, y);
    __m512 s, l;
    __mmask16 in_range = pieces_f32_pair(x_bits, lo, hi, &s, &l);
    if (mode == GF_DERIVATIVE) {
        *y = _mm512_add_ps(s, l);
    } else {
        __m512 rh = _mm512_mul_ps(f, s);
        __m512 e = _mm512_fnmadd_ps(f, s, rh);  /* rh - g s, exact */
        *y = _mm512_sub_ps(rh, _mm512_fnmadd_ps(f, l, e));
    }
    return in_range;
}

/* The bits of x and of the factor's grad_out (backward only) for the block
 * of 16 at i, its `live` lanes */
GF_AVX512 GF_INLINE __m512i pieces_f32_x(const float *xs, ptrdiff_t i, __mmask16 live)
{
    return live == (__mmask16)0xffff ? _mm512_loadu_si512(xs + i) : _mm512_maskz_loadu_epi32(live, xs + i);
}
GF_AVX512 GF_INLINE __m512i pieces_f32_g(const float *g, ptrdiff_t g_step, int32_t g_scalar_bits,
                                              ptrdiff_t i, __mmask16 live, int mode)
{
    if (mode != GF_BACKWARD) return _mm512_setzero_si512();
    return g_step ? pieces_f32_x(g, i, live) : _mm512_set1_epi32(g_scalar_bits);
}

/* The block of 16 at out + i (its `live` lanes), from its inputs' bits:
 * stored, or held with its gaps packed.  Returns 1 when some live lane was
 * not on the tier. */
GF_AVX512 GF_INLINE int pieces_f32_block(__m512i g_bits, __m512i x_bits, float *out, ptrdiff_t i,
                                              __mmask16 live, const __m512 *lo, const __m512 *hi, int mode,
                                              uint32_t low, uint32_t high, gf_stage_f32 *stage,
                                              int skip_outside, int stream)
{
    const int full = live == (__mmask16)0xffff;  /* constant where inlined */
    __m512 x = _mm512_castsi512_ps(x_bits), factor = x;
    __mmask16 ok = live;
    if (mode == GF_BACKWARD) {
        factor = _mm512_castsi512_ps(g_bits);
        ok &= _mm512_cmplt_epu32_mask(_mm512_and_si512(g_bits, _mm512_set1_epi32(0x7fffffff)),
                                      _mm512_set1_epi32((int)GF_FLOAT_G_END));
    }
    __m512 y = _mm512_setzero_ps();
    __mmask16 fast;
    if (skip_outside) {
        /* the range test first (eval's), the polynomial only if needed */
        __m512i mirrored = _mm512_or_si512(x_bits, _mm512_set1_epi32((int)0x80000000u));
        fast = _mm512_cmplt_epu32_mask(mirrored, _mm512_set1_epi32((int)GF_FLOAT_END)) & ok;
        if (fast) pieces_f32_value(x_bits, factor, lo, hi, mode, &y);
    } else {
        fast = pieces_f32_value(x_bits, factor, lo, hi, mode, &y) & ok;
    }
    if (__builtin_expect(fast == live, 1)) {
        if (full && stream) _mm512_stream_ps(out + i, y);
        else if (full) _mm512_storeu_ps(out + i, y);
        else _mm512_mask_storeu_ps(out + i, live, y);
        return 0;
    }
    tier_settle(stage, out, i, y, x_bits, factor, fast, ok, live, mode, low, high, stream);
    return 1;
}

/* One chunk: as pieces_f64_chunk, on the float32 tier; whole blocks in one
 * loop (no masks), the partial one after it.  stream: store whole fast blocks
 * with non-temporal stores (out + start 64-byte aligned).
 *
 * The whole blocks' inputs are loaded GF_PIECES_LOAD_AHEAD blocks before
 * they are used.  A load that comes after a store to the same address bits
 * 0-11 waits for that store's data (4K aliasing, on Zen 4 as on Intel
 * cores), so where out lies just above xs or g modulo 4 KiB, as arrays may
 * fall by chance, block i + 1's load waited for block i's results and the
 * blocks ran one after another: 1.05-1.45x the time at 1M elements, up to
 * 2.8x at 10M, for out - xs in (0, 192] bytes mod 4096 (measured, one load
 * ahead as before).  Issued before block i's store, a load is not held
 * back; the window that remains starts above 64 GF_PIECES_LOAD_AHEAD bytes,
 * where the store has long had its data.  Four ahead: flat within noise for
 * out - xs from -64 to 512 bytes; two still left 5-13% at 192-224. */
#define GF_PIECES_LOAD_AHEAD 4
GF_AVX512 GF_INLINE ptrdiff_t pieces_f32_chunk(const float *g, ptrdiff_t g_step, int32_t g_scalar_bits,
                                                    const float *xs, float *out, ptrdiff_t start, ptrdiff_t end,
                                                    const __m512 *lo, const __m512 *hi, int mode,
                                                    uint32_t low, uint32_t high, gf_stage_f32 *stage,
                                                    int skip_outside, int stream)
{
    ptrdiff_t mixed = 0, i = start;
    if (end - i >= 16) {
        /* loads for blocks past the last whole one read the chunk's last
         * 16 elements instead, never used */
        __m512i x_ahead[GF_PIECES_LOAD_AHEAD], g_ahead[GF_PIECES_LOAD_AHEAD];
        for (int k = 0; k < GF_PIECES_LOAD_AHEAD; k++) {
            ptrdiff_t j = end - i >= 16 * (k + 1) ? i + 16 * k : end - 16;
            x_ahead[k] = pieces_f32_x(xs, j, 0xffff);
            g_ahead[k] = pieces_f32_g(g, g_step, g_scalar_bits, j, 0xffff, mode);
        }
        for (; end - i >= 16; i += 16) {
            /* streamed calls read from memory: fetch 8 KiB ahead of the
             * hardware prefetcher (2-3% at 10M elements, bench/stream.py) */
            if (stream) _mm_prefetch((const char *)(xs + i + 2048), _MM_HINT_T0);
            __m512i x_bits = x_ahead[0], g_bits = g_ahead[0];
            for (int k = 0; k + 1 < GF_PIECES_LOAD_AHEAD; k++)
                x_ahead[k] = x_ahead[k + 1], g_ahead[k] = g_ahead[k + 1];
            ptrdiff_t j = end - i >= 16 * (GF_PIECES_LOAD_AHEAD + 1) ? i + 16 * GF_PIECES_LOAD_AHEAD : end - 16;
            x_ahead[GF_PIECES_LOAD_AHEAD - 1] = pieces_f32_x(xs, j, 0xffff);
            g_ahead[GF_PIECES_LOAD_AHEAD - 1] = pieces_f32_g(g, g_step, g_scalar_bits, j, 0xffff, mode);
            mixed += pieces_f32_block(g_bits, x_bits, out, i, 0xffff, lo, hi, mode, low, high, stage,
                                           skip_outside, stream);
        }
    }
    if (i < end) {
        __mmask16 live = tier_live(end - i);
        mixed += pieces_f32_block(pieces_f32_g(g, g_step, g_scalar_bits, i, live, mode),
                                       pieces_f32_x(xs, i, live), out, i, live, lo, hi, mode, low, high,
                                       stage, skip_outside, 0);
    }
    return mixed;
}

/* tier_f32_avx512's take (gf_tier.h) for one mode.  Three copies of the
 * chunk loop: the one that tests first takes `stream` as it comes (its stores
 * are not the bottleneck). */
GF_AVX512 GF_INLINE ptrdiff_t pieces_f32_take(int f, const gf_run_f32 *run, ptrdiff_t start,
                                                   gf_stage_f32 *stage, int mode)
{
    __m512 lo[GF_FLOAT_PIECES_ROWS], hi[GF_FLOAT_PIECES_ROWS];
    pieces_f32_load(pieces_f32_tables[f], lo, hi);
    const uint32_t low = tier_functions[f].low_f32, high = tier_functions[f].high;
    const float *g = run->g, *xs = run->x;
    const ptrdiff_t g_step = run->g_step;
    const int stream = run->stream;
    int32_t g_scalar_bits = 0;
    if (mode == GF_BACKWARD) memcpy(&g_scalar_bits, g, sizeof g_scalar_bits);
    if (start == 0) stage->skip_outside = 0;
    for (ptrdiff_t chunk = start; chunk < run->n; chunk += GF_STAGE_TAKE) {
        ptrdiff_t end = run->n - chunk < GF_STAGE_TAKE ? run->n : chunk + GF_STAGE_TAKE;
        ptrdiff_t mixed =
            stage->skip_outside ? pieces_f32_chunk(g, g_step, g_scalar_bits, xs, run->out, chunk, end, lo, hi,
                                                       mode, low, high, stage, 1, stream)
            : stream ? pieces_f32_chunk(g, g_step, g_scalar_bits, xs, run->out, chunk, end, lo, hi, mode,
                                             low, high, stage, 0, 1)
                     : pieces_f32_chunk(g, g_step, g_scalar_bits, xs, run->out, chunk, end, lo, hi, mode,
                                             low, high, stage, 0, 0);
        stage->skip_outside = 2 * mixed > GF_PIECES_CHUNK;
        if (tier_stop(stage, end, run->n)) return end;
    }
    return run->n;
}

GF_AVX512 static ptrdiff_t tier_f32_avx512_take(int f, const gf_run_f32 *run, ptrdiff_t start, gf_stage_f32 *stage)
{
    switch (tier_functions[f].mode) {
    case GF_FORWARD: return pieces_f32_take(f, run, start, stage, GF_FORWARD);
    case GF_DERIVATIVE: return pieces_f32_take(f, run, start, stage, GF_DERIVATIVE);
    default: return pieces_f32_take(f, run, start, stage, GF_BACKWARD);
    }
}

/* float16 storage, same scheme: the halves are widened exactly (vcvtph2ps),
 * and each result is rounded to float by truncation with the lost bits ORed
 * into the last place (round to odd), then to half (vcvtps2ph, nearest-even):
 * with float's 24 bits at least half's 11 + 2, that is the rounding of the
 * double result itself, done once.  Saturated lanes and nan take their halves
 * directly (the input, 1, grad_out, signed zeros); each block is stored
 * but for its gap lanes, which go to the stage.  For backward, lanes whose g F lies
 * within F's error of a midpoint between two halves count as gaps too (the
 * unary kernels' results are all checked correctly rounded; g's free
 * factor can put a product that close, about one pair in 2^17). */
GF_AVX512 GF_INLINE __m256 pieces_f16_round_to_odd(__m512d y)
{
    __m256 r = _mm512_cvt_roundpd_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask8 inexact = _mm512_cmp_pd_mask(_mm512_cvtps_pd(r), y, _CMP_NEQ_UQ);
    __m256i bits = _mm256_castps_si256(r);
    return _mm256_castsi256_ps(_mm256_mask_or_epi32(bits, inexact, bits, _mm256_set1_epi32(1)));
}

/* 16 doubles (two halves of 8) rounded once to float16 */
GF_AVX512 GF_INLINE __m256i pieces_f16_to_half(__m512d y0, __m512d y1)
{
    __m512 rounded = _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castpd256_pd512(_mm256_castps_pd(pieces_f16_round_to_odd(y0))),
        _mm256_castps_pd(pieces_f16_round_to_odd(y1)), 1));
    return _mm512_cvtps_ph(rounded, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* tier_f16_avx512's take (gf_tier.h) for one mode */
GF_AVX512 GF_INLINE ptrdiff_t pieces_f16_take(int f, const gf_run_f16 *run, ptrdiff_t start,
                                                 gf_stage_f16 *stage, int mode)
{
    const int backward = mode == GF_BACKWARD;
    __m512d lo[GF_PIECES_ROWS], hi[GF_PIECES_ROWS];
    pieces_f64_load(pieces_f64_tables[f], lo, hi);
    const uint32_t low = tier_functions[f].low_f16, high = tier_functions[f].high;
    const uint16_t *g = run->g, *xs = run->x;
    uint16_t *out = run->out;
    const ptrdiff_t g_step = run->g_step, n = run->n;
    short g_scalar = 0;
    if (backward) memcpy(&g_scalar, g, sizeof g_scalar);
    for (ptrdiff_t i = start; i < n; i += 16) {
        __mmask16 live = tier_live(n - i);
        __m256i raw = _mm256_maskz_loadu_epi16(live, xs + i), g_raw = raw;
        __m512 x = _mm512_cvtph_ps(raw), factor = x;
        __m512i x_bits = _mm512_castps_si512(x);
        __mmask16 ok = live;
        if (backward) {
            g_raw = g_step ? _mm256_maskz_loadu_epi16(live, g + i) : _mm256_set1_epi16(g_scalar);
            factor = _mm512_cvtph_ps(g_raw);
            ok &= tier_finite(_mm512_castps_si512(factor));
        }
        __mmask16 fast = pieces_f64_in_range(x_bits) & ok;
        __m512d x0 = pieces_f64_low_half(x), x1 = pieces_f64_high_half(x);
        __m512d y0 = pieces_f64_eval(x0, lo, hi), y1 = pieces_f64_eval(x1, lo, hi);
        if (mode == GF_FORWARD) {
            y0 = _mm512_mul_pd(y0, x0);
            y1 = _mm512_mul_pd(y1, x1);
        } else if (backward) {
            y0 = _mm512_mul_pd(y0, pieces_f64_low_half(factor));
            y1 = _mm512_mul_pd(y1, pieces_f64_high_half(factor));
        }
        __m256i h = pieces_f16_to_half(y0, y1);
        if (backward) {
            /* g F may lie closer to a midpoint between halves than F's error
             * (2^-29 |g| at most: the fits are within 2^-29.4 of a scale
             * below 1.25): where the rounding of y -+ that error differs,
             * the general kernel decides */
            __m512d e0 = _mm512_mul_pd(_mm512_abs_pd(pieces_f64_low_half(factor)), _mm512_set1_pd(0x1p-29));
            __m512d e1 = _mm512_mul_pd(_mm512_abs_pd(pieces_f64_high_half(factor)), _mm512_set1_pd(0x1p-29));
            __m256i below = pieces_f16_to_half(_mm512_sub_pd(y0, e0), _mm512_sub_pd(y1, e1));
            __m256i above = pieces_f16_to_half(_mm512_add_pd(y0, e0), _mm512_add_pd(y1, e1));
            fast &= ~_mm256_cmpneq_epi16_mask(below, above);
        }
        if (__builtin_expect(fast != live, 0)) {
            tier_saturated sat = tier_saturation(x_bits, low, high);
            const __m256i sign = _mm256_set1_epi16((short)0x8000);
            __m256i at_high = mode == GF_DERIVATIVE ? _mm256_set1_epi16(0x3c00) : backward ? g_raw : raw;
            __m256i at_low = backward ? _mm256_xor_si256(_mm256_and_si256(g_raw, sign), sign) : sign;
            h = _mm256_mask_mov_epi16(h, sat.high & ok, at_high);
            h = _mm256_mask_mov_epi16(h, sat.low & ok, at_low);
            h = _mm256_mask_mov_epi16(h, sat.nan & ok, raw);
            __mmask16 gap = live & (__mmask16)~(fast | ((sat.high | sat.low | sat.nan) & ok));
            if (gap) {
                uint16_t gb[16], xb[16];
                _mm256_storeu_si256((__m256i *)xb, raw);
                _mm256_storeu_si256((__m256i *)gb, g_raw);
                for (int k = 0; k < 16; k++) {
                    if (!(gap >> k & 1)) continue;
                    stage->x[stage->count] = xb[k];
                    stage->g[stage->count] = gb[k];
                    stage->at[stage->count++] = i + k;
                }
                _mm256_mask_storeu_epi16(out + i, live & (__mmask16)~gap, h);
                if (stage->count > GF_STAGE16_LANES - 16) return i + 16 < n ? i + 16 : n;
                continue;
            }
        }
        _mm256_mask_storeu_epi16(out + i, live, h);
    }
    return n;
}

GF_AVX512 static ptrdiff_t tier_f16_avx512_take(int f, const gf_run_f16 *run, ptrdiff_t start, gf_stage_f16 *stage)
{
    switch (tier_functions[f].mode) {
    case GF_FORWARD: return pieces_f16_take(f, run, start, stage, GF_FORWARD);
    case GF_DERIVATIVE: return pieces_f16_take(f, run, start, stage, GF_DERIVATIVE);
    default: return pieces_f16_take(f, run, start, stage, GF_BACKWARD);
    }
}

/* The ranges as gf_tier.h states them: GF_FLOAT_END and GF_FLOAT_G_END for
 * the float32 tier, GF_PIECES_NEG_END and GF_PIECES_POS_END for the double
 * pieces, whose backward lanes need a finite grad_out */
const gf_tier_f32 tier_f32_avx512 = {"tier_f32_avx512", GF_ISA_AVX512, tier_avx512_supported,
                                     tier_f32_avx512_take, tier_avx512_give_back, -3.4375f, 3.4375f, 0x1p120f,
                                     GF_ALL_MODES};
const gf_tier_f32 tier_f32_in_f64_avx512 = {"tier_f32_in_f64_avx512", GF_ISA_AVX512, tier_avx512_supported,
                                            tier_f32_in_f64_avx512_take, tier_avx512_give_back, -4.25f, 3.75f,
                                            INFINITY, GF_ALL_MODES};
const gf_tier_f16 tier_f16_avx512 = {"tier_f16_avx512", GF_ISA_AVX512, tier_avx512_supported,
                                     tier_f16_avx512_take, -4.25f, 3.75f, INFINITY, GF_ALL_MODES};

#else /* not in this build: no CPU runs them */

const gf_tier_f32 tier_f32_avx512 = {"tier_f32_avx512", GF_ISA_AVX512, NULL, NULL, NULL, 0, 0, 0, 0};
const gf_tier_f32 tier_f32_in_f64_avx512 = {"tier_f32_in_f64_avx512", GF_ISA_AVX512, NULL, NULL, NULL, 0, 0, 0, 0};
const gf_tier_f16 tier_f16_avx512 = {"tier_f16_avx512", GF_ISA_AVX512, NULL, NULL, 0, 0, 0, 0};

#endif
