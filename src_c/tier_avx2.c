/* The AVX2 tier (gf_tier.h says what a tier is), for the avx2 level
 * (x86-64-v3: AVX2 and FMA):
 * - tier_f32_avx2: float32 data in float32 arithmetic, |x| < 3.4375 (and, for
 *   backward, |grad_out| < 2^120);
 * - tier_f16_avx2: float16 data of the forward functions, the same way
 *   (below, at its code).
 * What it leaves goes to the general kernels of gelu_kernels.h.
 *
 * Formula, algorithm and error bound: those of the float32 tier of
 * tier_avx512.c, on 8 lanes: the same tables (gf_tier_tables.h), the same
 * reduction (v = x' - round(8x')/8, here by a rounding and an exact fma
 * rather than vreduceps) and the same operations in the same order, so each
 * result is bit for bit tier_f32_avx512's, and the exhaustive float32 sweep
 * bounds both.  At 8 lanes a permute reads only 8 entries (four vpermps and
 * three blends per coefficient over the 32 columns: 7 cycles an element on
 * Zen 3 by llvm-mca, where vpermps is slow), so the coefficients are fetched
 * another way: the tables are laid out by piece, 8 floats each (the 7
 * coefficients and a pad), and each lane's piece is read as two 16-byte rows
 * into the halves of a register, then 4x4 transposes in-lane give the 8
 * coefficient vectors (16 row loads and 16 in-lane shuffles per 8 lanes, for
 * every coefficient at once): 2.1-2.7 cycles an element (by mode) on Zen 3
 * and on Skylake and Alder Lake cores by llvm-mca, 3.1-4.1 on Haswell.
 *
 * Saturated lanes and nan take their results here, as in tier_avx512.c
 * (tier_settle there); the other lanes outside the range (the gaps: |x| in
 * [3.4375, the saturation bound), and backward lanes with a large, inf or nan
 * grad_out) are left for the general kernels, packed into the stage in
 * blocks of 16 as there.  Standard-normal data has one such lane in ~1700.
 *
 * Special values: x = +-0 is on the centre piece (F(0) = 1/2 exactly), so
 * gelu(-0) = -0 and the derivatives give 1/2; nan comes out as itself. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "gelu_fast.h"
#include "gf_tier.h"

/* GCC 12 and Clang 14 on, as for the levels in gelu_loops.c */
#if defined(__x86_64__) && !defined(GF_NO_FAST_PATH) \
    && ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && __GNUC__ >= 12))

#include <immintrin.h>
#include "gf_math.h"
#include "gf_tier_tables.h"

#if defined(__clang__)
#define GF_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define GF_AVX2 __attribute__((target("arch=x86-64-v3")))
#endif

/* pieces_f32_tables by piece: avx2_pieces[f][column][j] = row j's entry */
static GF_ALIGN64 float avx2_pieces[GF_FUNCTION_COUNT][32][8];
static int avx2_pieces_ready = 0;

/* Whether the CPU has AVX2 and FMA; the first time it has, the tables are
 * laid out by piece (the module asks at import, before any loop runs). */
static int tier_avx2_supported(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    if (!avx2_pieces_ready) {
        for (int f = 0; f < GF_FUNCTION_COUNT; f++)
            for (int c = 0; c < 32; c++)
                for (int j = 0; j < 8; j++) avx2_pieces[f][c][j] = j < GF_FLOAT_PIECES_ROWS ? pieces_f32_tables[f][j][c] : 0.0f;
        avx2_pieces_ready = 1;
    }
    return 1;
}

/* The loops over a block's two halves and over the 4 rows of a transpose
 * are unrolled: as loops, their vectors would live in arrays on the stack */
#if defined(__clang__)
#define GF_UNROLL _Pragma("clang loop unroll(full)")
#else
#define GF_UNROLL _Pragma("GCC unroll 8")
#endif

/* 8 lanes of int bits as a float vector and back */
#define GF_I2F(v) _mm256_castsi256_ps(v)
#define GF_F2I(v) _mm256_castps_si256(v)

/* Lanes where a < b as signed 32-bit integers, all bits set */
GF_AVX2 GF_INLINE __m256i avx2_lt(__m256i a, __m256i b) { return _mm256_cmpgt_epi32(b, a); }

/* The 16-lane mask of a block's two halves (from their sign bits) */
GF_AVX2 GF_INLINE unsigned avx2_mask(__m256i lo, __m256i hi)
{
    return (unsigned)_mm256_movemask_ps(GF_I2F(lo)) | (unsigned)_mm256_movemask_ps(GF_I2F(hi)) << 8;
}

/* The vector mask of lanes 0..7 of `bits` (a 16-lane mask's half) */
GF_AVX2 GF_INLINE __m256i avx2_lanes(unsigned bits)
{
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256i b = _mm256_set1_epi32((int)(bits & 0xff));
    return _mm256_cmpeq_epi32(_mm256_and_si256(b, lane), lane);
}

/* The 8 entries of each lane's piece (its column): c[j] holds row j's.
 * Two 16-byte halves of each lane's piece go into a register's halves
 * (lanes i and i + 4), and a 4x4 transpose within each half makes rows of
 * them. */
GF_AVX2 GF_INLINE void avx2_coefs(const float (*pieces)[8], __m256i column, __m256 *c)
{
    /* through memory: one store and 8 loads cost less than extracting the
     * lanes into registers (vpextrd), which the compiler would otherwise do */
    GF_ALIGN64 int32_t k_store[8];  /* each lane's piece as its offset in floats */
    _mm256_store_si256((__m256i *)k_store, _mm256_slli_epi32(_mm256_and_si256(column, _mm256_set1_epi32(31)), 3));
    const volatile int32_t *k = k_store;
    const float *base = pieces[0];
    GF_UNROLL
    for (int half = 0; half < 2; half++) {
        __m256 r[4];
        GF_UNROLL
        for (int i = 0; i < 4; i++)
            r[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(base + k[i] + 4 * half)),
                                        _mm_loadu_ps(base + k[i + 4] + 4 * half), 1);
        __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
        __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        c[4 * half + 0] = _mm256_shuffle_ps(t0, t2, 0x44);
        c[4 * half + 1] = _mm256_shuffle_ps(t0, t2, 0xee);
        c[4 * half + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
        c[4 * half + 3] = _mm256_shuffle_ps(t1, t3, 0xee);
    }
}

/* The reduction (pieces_f32_reduce of tier_avx512.c): x' = -|x|, its column
 * and v; `positive`: x >= +0; returns the lanes in range. */
typedef struct { __m256i column; __m256 v, positive; } avx2_reduced;

GF_AVX2 GF_INLINE __m256i avx2_reduce(__m256i x_bits, avx2_reduced *r)
{
    __m256i mirrored = _mm256_or_si256(x_bits, _mm256_set1_epi32((int)0x80000000u));
    r->positive = GF_I2F(_mm256_cmpgt_epi32(x_bits, _mm256_set1_epi32(-1)));
    __m256 t = GF_I2F(mirrored);
    r->column = GF_F2I(_mm256_add_ps(t, _mm256_set1_ps(0x1.8p20f)));  /* its ulp is 1/8 */
    /* t - round(8t)/8, ties to even as the add above; exact */
    __m256 k = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(8.0f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r->v = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.125f), t);
    /* both sides have the sign bit set: a signed compare orders them */
    return avx2_lt(mirrored, _mm256_set1_epi32((int)GF_FLOAT_END));
}

#define GF_COEF(j) c[j]

/* x F(x) (forward), as pieces_f32_forward */
GF_AVX2 GF_INLINE __m256i avx2_forward(__m256i x_bits, const float (*table)[8], __m256 *y)
{
    avx2_reduced r;
    __m256i in_range = avx2_reduce(x_bits, &r);
    __m256 c[8];
    avx2_coefs(table, r.column, c);
    __m256 top = GF_COEF(GF_FLOAT_PIECES_ROWS - 1), minus_d = top;
    for (int j = GF_FLOAT_PIECES_ROWS - 2; j >= 1; j--) minus_d = _mm256_fmadd_ps(minus_d, r.v, GF_COEF(j));
    __m256 h = GF_I2F(_mm256_slli_epi32(GF_F2I(top), 16));
    h = _mm256_blendv_ps(h, _mm256_sub_ps(_mm256_set1_ps(1.0f), h), r.positive);
    *y = _mm256_fmsub_ps(GF_I2F(x_bits), h, minus_d);
    return in_range;
}

/* F(x) as s + l (derivative and backward), as pieces_f32_pair */
GF_AVX2 GF_INLINE __m256i avx2_pair(__m256i x_bits, const float (*table)[8], __m256 *s, __m256 *l)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    avx2_reduced r;
    __m256i in_range = avx2_reduce(x_bits, &r);
    __m256 c[8];
    avx2_coefs(table, r.column, c);
    __m256 v = r.v;
    __m256 q = GF_COEF(GF_FLOAT_PIECES_ROWS - 1);
    for (int j = GF_FLOAT_PIECES_ROWS - 2; j >= 3; j--) q = _mm256_fmadd_ps(q, v, GF_COEF(j));
    __m256 c0 = GF_COEF(0), c1 = GF_COEF(2);
    __m256 p1 = _mm256_mul_ps(c1, v), p1_err = _mm256_fmsub_ps(c1, v, p1);
    __m256 s0 = _mm256_add_ps(c0, p1);
    __m256 s0_err = _mm256_sub_ps(p1, _mm256_sub_ps(s0, c0));
    __m256 l0 = _mm256_fmadd_ps(_mm256_mul_ps(v, v), q, _mm256_add_ps(_mm256_add_ps(GF_COEF(1), p1_err), s0_err));
    *s = _mm256_blendv_ps(s0, _mm256_sub_ps(one, s0), r.positive);
    __m256 s_err = _mm256_sub_ps(_mm256_sub_ps(one, *s), s0);
    *l = _mm256_blendv_ps(l0, _mm256_sub_ps(s_err, l0), r.positive);
    return in_range;
}
#undef GF_COEF

/* The kernel's value on the tier (f: grad_out for backward); returns the
 * lanes in range */
GF_AVX2 GF_INLINE __m256i avx2_value(__m256i x_bits, __m256 f, const float (*table)[8], int mode, __m256 *y)
{
    if (mode == GF_FORWARD) return avx2_forward(x_bits, table, y);
    __m256 s, l;
    __m256i in_range = avx2_pair(x_bits, table, &s, &l);
    if (mode == GF_DERIVATIVE) {
        *y = _mm256_add_ps(s, l);
    } else {
        __m256 rh = _mm256_mul_ps(f, s);
        __m256 e = _mm256_fnmadd_ps(f, s, rh);  /* rh - g s, exact */
        *y = _mm256_sub_ps(rh, _mm256_fnmadd_ps(f, l, e));
    }
    return in_range;
}

/* The saturated lanes' results (tier_settle of tier_avx512.c) into y, and
 * the lanes they are */
GF_AVX2 GF_INLINE __m256i avx2_saturate(__m256i x_bits, __m256 factor, int mode, uint32_t low, uint32_t high,
                                        __m256 *y)
{
    const __m256i pos_inf = _mm256_set1_epi32(0x7f800000), neg_inf = _mm256_set1_epi32((int)0xff800000u);
    /* high <= x <= +inf; -inf <= x <= -low: each side's bits in one sign, so signed compares order them */
    __m256i at_high = _mm256_andnot_si256(_mm256_or_si256(avx2_lt(x_bits, _mm256_set1_epi32((int)high)),
                                                          _mm256_cmpgt_epi32(x_bits, pos_inf)),
                                          _mm256_set1_epi32(-1));
    __m256i at_low = _mm256_andnot_si256(_mm256_or_si256(avx2_lt(x_bits, _mm256_set1_epi32((int)(0x80000000u | low))),
                                                         _mm256_cmpgt_epi32(x_bits, neg_inf)),
                                         _mm256_set1_epi32(-1));
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x_bits, _mm256_set1_epi32(0x7fffffff)), pos_inf);
    const __m256 zero = _mm256_set1_ps(-0.0f);
    *y = _mm256_blendv_ps(*y, mode == GF_DERIVATIVE ? _mm256_set1_ps(1.0f) : factor, GF_I2F(at_high));
    *y = _mm256_blendv_ps(*y, mode == GF_BACKWARD ? _mm256_mul_ps(factor, zero) : zero, GF_I2F(at_low));
    *y = _mm256_blendv_ps(*y, GF_I2F(x_bits), GF_I2F(nan));
    return _mm256_or_si256(_mm256_or_si256(at_high, at_low), nan);
}

/* A block's 16 results (halves y0, y1) at out, its `live` lanes; stream:
 * whole blocks with non-temporal stores (out 64-byte aligned) */
GF_AVX2 GF_INLINE void avx2_store(float *out, __m256 y0, __m256 y1, unsigned live, int stream)
{
    if (live == 0xffff && stream) {
        _mm256_stream_ps(out, y0);
        _mm256_stream_ps(out + 8, y1);
    } else if (live == 0xffff) {
        _mm256_storeu_ps(out, y0);
        _mm256_storeu_ps(out + 8, y1);
    } else {
        _mm256_maskstore_ps(out, avx2_lanes(live), y0);
        _mm256_maskstore_ps(out + 8, avx2_lanes(live >> 8), y1);
    }
}

/* The block of 16 at out + i (its `live` lanes; x and g: its halves' bits):
 * stored, or held with its gaps packed into the stage.  Returns 1 when some
 * live lane was not in range. */
GF_AVX2 GF_INLINE int avx2_block(const __m256i *g_bits, const __m256i *x_bits, float *out, ptrdiff_t i,
                                 unsigned live, const float (*table)[8], int mode, uint32_t low, uint32_t high,
                                 gf_stage_f32 *stage, int stream)
{
    __m256 y[2], factor[2];
    __m256i fast[2], ok[2];
    GF_UNROLL
    for (int h = 0; h < 2; h++) {
        factor[h] = GF_I2F(x_bits[h]);
        ok[h] = _mm256_set1_epi32(-1);
        if (mode == GF_BACKWARD) {
            factor[h] = GF_I2F(g_bits[h]);
            ok[h] = avx2_lt(_mm256_and_si256(g_bits[h], _mm256_set1_epi32(0x7fffffff)),
                            _mm256_set1_epi32((int)GF_FLOAT_G_END));
        }
        fast[h] = _mm256_and_si256(avx2_value(x_bits[h], factor[h], table, mode, &y[h]), ok[h]);
    }
    unsigned taken = avx2_mask(fast[0], fast[1]) & live;
    if (__builtin_expect(taken == live, 1)) {
        avx2_store(out + i, y[0], y[1], live, stream);
        return 0;
    }
    __m256i sat[2];
    GF_UNROLL
    for (int h = 0; h < 2; h++)
        sat[h] = _mm256_and_si256(avx2_saturate(x_bits[h], factor[h], mode, low, high, &y[h]), ok[h]);
    taken |= avx2_mask(sat[0], sat[1]);
    unsigned gap = live & ~taken;
    if (!gap) {
        avx2_store(out + i, y[0], y[1], live, stream);
        return 1;
    }
    /* held: its results but the gaps, which are packed (no compress on AVX2:
     * one lane at a time, for a rare case) */
    float *held = stage->held[stage->blocks];
    _mm256_storeu_ps(held, y[0]);
    _mm256_storeu_ps(held + 8, y[1]);
    stage->at[stage->blocks] = i;
    stage->live[stage->blocks] = (uint16_t)live;
    stage->lanes[stage->blocks++] = (uint16_t)gap;
    float xs[16], gs[16];
    _mm256_storeu_si256((__m256i *)xs, x_bits[0]);
    _mm256_storeu_si256((__m256i *)(xs + 8), x_bits[1]);
    if (mode == GF_BACKWARD) {
        _mm256_storeu_ps(gs, factor[0]);
        _mm256_storeu_ps(gs + 8, factor[1]);
    }
    for (int k = 0; k < 16; k++) {
        if (!(gap >> k & 1)) continue;
        stage->x[stage->count] = xs[k];
        if (mode == GF_BACKWARD) stage->g[stage->count] = gs[k];
        stage->count++;
    }
    return 1;
}

/* The 16 lanes at p from i, those of `live` (the others 0) */
GF_AVX2 GF_INLINE void avx2_load(const float *p, ptrdiff_t i, unsigned live, __m256i *v)
{
    if (live == 0xffff) {
        v[0] = _mm256_loadu_si256((const __m256i *)(p + i));
        v[1] = _mm256_loadu_si256((const __m256i *)(p + i + 8));
    } else {
        v[0] = _mm256_maskload_epi32((const int *)(p + i), avx2_lanes(live));
        v[1] = _mm256_maskload_epi32((const int *)(p + i + 8), avx2_lanes(live >> 8));
    }
}
GF_AVX2 GF_INLINE void avx2_load_g(const float *g, ptrdiff_t g_step, int32_t g_scalar_bits, ptrdiff_t i,
                                   unsigned live, int mode, __m256i *v)
{
    if (mode != GF_BACKWARD) {
        v[0] = v[1] = _mm256_setzero_si256();
    } else if (g_step) {
        avx2_load(g, i, live, v);
    } else {
        v[0] = v[1] = _mm256_set1_epi32(g_scalar_bits);
    }
}

/* One chunk, [start, end): whole blocks with their inputs loaded one block
 * ahead (against 4K aliasing, as in tier_avx512.c; 16 registers leave no
 * room for more), then the partial one.  Returns how many blocks were not
 * wholly in range. */
GF_AVX2 GF_INLINE ptrdiff_t avx2_chunk(const gf_run_f32 *run, int32_t g_scalar_bits, ptrdiff_t start,
                                       ptrdiff_t end, const float (*table)[8], int mode, uint32_t low,
                                       uint32_t high, gf_stage_f32 *stage, int stream)
{
    const float *xs = run->x, *g = run->g;
    ptrdiff_t mixed = 0, i = start;
    if (end - i >= 16) {
        __m256i x_next[2], g_next[2];
        avx2_load(xs, i, 0xffff, x_next);
        avx2_load_g(g, run->g_step, g_scalar_bits, i, 0xffff, mode, g_next);
        for (; end - i >= 16; i += 16) {
            if (stream) _mm_prefetch((const char *)(xs + i + 2048), _MM_HINT_T0);
            __m256i x_bits[2] = {x_next[0], x_next[1]}, g_bits[2] = {g_next[0], g_next[1]};
            ptrdiff_t j = end - i >= 32 ? i + 16 : end - 16;  /* past the last whole block: reread, unused */
            avx2_load(xs, j, 0xffff, x_next);
            avx2_load_g(g, run->g_step, g_scalar_bits, j, 0xffff, mode, g_next);
            mixed += avx2_block(g_bits, x_bits, run->out, i, 0xffff, table, mode, low, high, stage, stream);
        }
    }
    if (i < end) {
        unsigned live = end - i >= 16 ? 0xffffu : (1u << (end - i)) - 1u;
        __m256i x_bits[2], g_bits[2];
        avx2_load(xs, i, live, x_bits);
        avx2_load_g(g, run->g_step, g_scalar_bits, i, live, mode, g_bits);
        mixed += avx2_block(g_bits, x_bits, run->out, i, live, table, mode, low, high, stage, 0);
    }
    return mixed;
}

/* tier_f32_avx2's take for one mode: chunks of GF_STAGE_TAKE until the
 * stage may not have room for another (its blocks are 16 lanes, as
 * tier_avx512.c's) */
GF_AVX2 GF_INLINE ptrdiff_t avx2_take(int f, const gf_run_f32 *run, ptrdiff_t start, gf_stage_f32 *stage, int mode)
{
    const float (*table)[8] = avx2_pieces[f];
    const uint32_t low = tier_functions[f].low_f32, high = tier_functions[f].high;
    int32_t g_scalar_bits = 0;
    if (mode == GF_BACKWARD) memcpy(&g_scalar_bits, run->g, sizeof g_scalar_bits);
    for (ptrdiff_t chunk = start; chunk < run->n; chunk += GF_STAGE_TAKE) {
        ptrdiff_t end = run->n - chunk < GF_STAGE_TAKE ? run->n : chunk + GF_STAGE_TAKE;
        if (run->stream) avx2_chunk(run, g_scalar_bits, chunk, end, table, mode, low, high, stage, 1);
        else avx2_chunk(run, g_scalar_bits, chunk, end, table, mode, low, high, stage, 0);
        if (stage->blocks > GF_STAGE_BLOCKS - GF_STAGE_TAKE / 16 || (end == run->n && stage->blocks)) return end;
    }
    return run->n;
}

GF_AVX2 static ptrdiff_t tier_f32_avx2_take(int f, const gf_run_f32 *run, ptrdiff_t start, gf_stage_f32 *stage)
{
    switch (tier_functions[f].mode) {
    case GF_FORWARD: return avx2_take(f, run, start, stage, GF_FORWARD);
    case GF_DERIVATIVE: return avx2_take(f, run, start, stage, GF_DERIVATIVE);
    default: return avx2_take(f, run, start, stage, GF_BACKWARD);
    }
}

/* The held blocks completed with their gaps' results and stored whole (a
 * streamed run: whole blocks with non-temporal stores, then a fence) */
GF_AVX2 static void tier_f32_avx2_give_back(gf_stage_f32 *stage, const gf_run_f32 *run)
{
    ptrdiff_t packed = 0;
    for (ptrdiff_t j = 0; j < stage->blocks; j++) {
        float *held = stage->held[j];
        for (int k = 0; k < 16; k++)
            if (stage->lanes[j] >> k & 1) held[k] = stage->y[packed++];
        avx2_store(run->out + stage->at[j], _mm256_loadu_ps(held), _mm256_loadu_ps(held + 8), stage->live[j],
                   run->stream);
    }
    stage->count = stage->blocks = 0;
    if (run->stream) _mm_sfence();  /* the streamed lines reach memory before other threads read them */
}

/* ---- float16 data ------------------------------------------------------ *
 *
 * tier_f16_avx2 takes float16 data of the forward functions: widened exactly
 * (vcvtph2ps), evaluated as above, rounded to half (vcvtps2ph, nearest-even).
 * The float32 result is within 1 ULP of the exact value (at most 0.93 over
 * every float32 input, tests/test_exhaustive_float32.py; the halves are among
 * them), so where rounding it 2 float32 ULP down and 2 up gives the same half,
 * that half is the correctly rounded one.  Left for the general kernels: the
 * lanes that close to a midpoint between halves, results below 2^-100 in
 * magnitude (zeros included, whose sign the test cannot settle), and x
 * outside |x| < 3.4375 (inf and nan included).  The derivatives are not
 * taken: their error is bounded relative to their scale, not to the result,
 * which near their zero is smaller. */
GF_AVX2 static ptrdiff_t tier_f16_avx2_take(int f, const gf_run_f16 *run, ptrdiff_t start, gf_stage_f16 *stage)
{
    const float (*table)[8] = avx2_pieces[f];
    const ptrdiff_t n = run->n;
    const __m256i two = _mm256_set1_epi32(2);
    for (ptrdiff_t i = start; i < n; i += 8) {
        const ptrdiff_t m = n - i < 8 ? n - i : 8;
        uint16_t part[8] = {0}, results[8];
        const uint16_t *xs = run->x + i;
        if (m < 8) {  /* the tail, through a buffer: no 16-bit masked loads and stores in AVX2 */
            memcpy(part, xs, (size_t)m * sizeof *xs);
            xs = part;
        }
        __m256i x_bits = GF_F2I(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)xs)));
        __m256 y;
        __m256i in_range = avx2_forward(x_bits, table, &y);
        __m256i y_bits = GF_F2I(y);
        __m256i not_tiny = _mm256_cmpgt_epi32(_mm256_and_si256(y_bits, _mm256_set1_epi32(0x7fffffff)),
                                              _mm256_set1_epi32(0x0d7fffff));  /* |y| >= 2^-100 */
        __m128i h = _mm256_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m128i below = _mm256_cvtps_ph(GF_I2F(_mm256_sub_epi32(y_bits, two)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m128i above = _mm256_cvtps_ph(GF_I2F(_mm256_add_epi32(y_bits, two)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m128i settled = _mm_packs_epi16(_mm_cmpeq_epi16(below, above), _mm_setzero_si128());
        unsigned live = (1u << m) - 1u;
        unsigned taken = (unsigned)_mm256_movemask_ps(GF_I2F(_mm256_and_si256(in_range, not_tiny)))
                         & (unsigned)_mm_movemask_epi8(settled) & live;
        unsigned left = live & ~taken;
        for (int k = 0; k < 8; k++) {  /* before the store: in place, out is x */
            if (!(left >> k & 1)) continue;
            stage->x[stage->count] = xs[k];
            stage->g[stage->count] = 0;
            stage->at[stage->count++] = i + k;
        }
        if (m == 8) {
            _mm_storeu_si128((__m128i *)(run->out + i), h);  /* the left lanes' results come later */
        } else {
            _mm_storeu_si128((__m128i *)results, h);
            memcpy(run->out + i, results, (size_t)m * sizeof *results);
        }
        if (stage->count > GF_STAGE16_LANES - 8) return i + m;
    }
    return n;
}

const gf_tier_f32 tier_f32_avx2 = {"tier_f32_avx2", GF_ISA_AVX2, tier_avx2_supported, tier_f32_avx2_take,
                                   tier_f32_avx2_give_back, -3.4375f, 3.4375f, 0x1p120f, GF_ALL_MODES};
const gf_tier_f16 tier_f16_avx2 = {"tier_f16_avx2", GF_ISA_AVX2, tier_avx2_supported, tier_f16_avx2_take,
                                   -3.4375f, 3.4375f, 0, 1u << GF_FORWARD};

#else /* not in this build: no CPU runs it */

const gf_tier_f32 tier_f32_avx2 = {"tier_f32_avx2", GF_ISA_AVX2, NULL, NULL, NULL, 0, 0, 0, 0};
const gf_tier_f16 tier_f16_avx2 = {"tier_f16_avx2", GF_ISA_AVX2, NULL, NULL, 0, 0, 0, 0};

#endif
