/* The loop layer of the gelu_fast ufuncs: the entry points NumPy calls, the
 * split of a call across threads (OpenMP, contiguous chunks), the copies an
 * overlapping out= needs, strided data through blocks, the restoration of the
 * caller's floating-point exception flags, and the pipeline that runs a dense
 * run through the tiers of its storage type (gf_tier.h) and then the general
 * kernels of gelu_kernels.h, whose contiguous loops are compiled once per x86
 * instruction-set level, the level in use picked at import. */
#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gelu_fast.h"
#include "gf_testing.h"
#include "gf_tier.h"
#include "gelu_kernels.h"
#include "gf_pieces.h"  /* the tiers' saturation bounds, for gf_get_saturation */

#ifdef _OPENMP
#include <omp.h>
#endif

/* Instruction-set levels.  GCC and Clang compile each contiguous loop three
 * times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline;
 * the loop of the level in use (gf_set_isa: the best the CPU has, unless the
 * user asks for another) runs.  The levels, not single features: the kernels'
 * fma() is one instruction only where FMA is enabled, which "avx2" alone does
 * not do.  Explicit fma() and -ffp-contract=off keep all versions
 * bit-identical.  GF_NO_DISPATCH compiles the baseline alone. */
#if defined(__x86_64__) && !defined(GF_NO_DISPATCH) \
    && ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && __GNUC__ >= 12))
#define GF_LEVELS 1
#if defined(__clang__)
/* Clang takes arch= as a CPU name; with features, "avx512f" implies FMA and
 * AVX2, and "fma" gives 256-bit AVX + FMA */
#define GF_TARGET_AVX512 __attribute__((target("avx512f")))
#define GF_TARGET_AVX2 __attribute__((target("fma")))
#else
#define GF_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define GF_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#endif
#endif

static int gf_isa = GF_ISA_BASELINE;  /* the level in use */

/* GF_LEVELED(NAME, (parameters), (arguments), body): the function NAME,
 * running `body` compiled for the level in use. */
#if defined(GF_LEVELS)
#define GF_LEVELED(NAME, PARAMS, ARGS, ...)                     \
    GF_TARGET_AVX512 static void NAME##_avx512 PARAMS __VA_ARGS__ \
    GF_TARGET_AVX2 static void NAME##_avx2 PARAMS __VA_ARGS__     \
    static void NAME##_baseline PARAMS __VA_ARGS__                \
    static void NAME PARAMS                                       \
    {                                                             \
        if (gf_isa == GF_ISA_AVX512) NAME##_avx512 ARGS;          \
        else if (gf_isa == GF_ISA_AVX2) NAME##_avx2 ARGS;         \
        else NAME##_baseline ARGS;                                \
    }
#else
#define GF_LEVELED(NAME, PARAMS, ARGS, ...) static void NAME PARAMS __VA_ARGS__
#endif

/* ---- tiers ------------------------------------------------------------ */

/* Every tier of the build (gf_functions.h, from the spec's TIERS), in the
 * order the loops run them, and those that run: the tiers of the level in
 * use that this CPU can run, unless the tests turned them off. */
#define GF_DECLARE_TIER_f32(NAME) extern const gf_tier_f32 NAME;
#define GF_DECLARE_TIER_f16(NAME) extern const gf_tier_f16 NAME;
GF_TIERS_f32(GF_DECLARE_TIER_f32)
GF_TIERS_f16(GF_DECLARE_TIER_f16)
#define GF_TIER_ENTRY(NAME) &NAME,
static const gf_tier_f32 *const gf_all_tiers_f32[] = {GF_TIERS_f32(GF_TIER_ENTRY) NULL};
static const gf_tier_f16 *const gf_all_tiers_f16[] = {GF_TIERS_f16(GF_TIER_ENTRY) NULL};
#define GF_MAX_TIERS (sizeof gf_all_tiers_f32 / sizeof gf_all_tiers_f32[0])
static const gf_tier_f32 *gf_tiers_f32[GF_MAX_TIERS];
static const gf_tier_f16 *gf_tiers_f16[sizeof gf_all_tiers_f16 / sizeof gf_all_tiers_f16[0]];
static int gf_tier_count_f32 = 0, gf_tier_count_f16 = 0;

#define GF_TIER_RUNS(t, level) ((t)->supported != NULL && (t)->isa == (level) && (t)->supported())

/* Whether some tier of the build runs at `level` on this CPU. */
static int gf_level_has_tier(int level)
{
    for (int k = 0; gf_all_tiers_f32[k]; k++)
        if (GF_TIER_RUNS(gf_all_tiers_f32[k], level)) return 1;
    for (int k = 0; gf_all_tiers_f16[k]; k++)
        if (GF_TIER_RUNS(gf_all_tiers_f16[k], level)) return 1;
    return 0;
}

/* Turns the tiers of the level in use on or off; returns whether any runs. */
int gf_set_fast_path(int on)
{
    gf_tier_count_f32 = gf_tier_count_f16 = 0;
    for (int k = 0; on && gf_all_tiers_f32[k]; k++)
        if (GF_TIER_RUNS(gf_all_tiers_f32[k], gf_isa)) gf_tiers_f32[gf_tier_count_f32++] = gf_all_tiers_f32[k];
    for (int k = 0; on && gf_all_tiers_f16[k]; k++)
        if (GF_TIER_RUNS(gf_all_tiers_f16[k], gf_isa)) gf_tiers_f16[gf_tier_count_f16++] = gf_all_tiers_f16[k];
    return gf_tier_count_f32 + gf_tier_count_f16 > 0;
}

int gf_tier_count(int bits)
{
    return bits == 32 ? gf_tier_count_f32 : bits == 16 ? gf_tier_count_f16 : 0;
}

const char *gf_tier_name(int bits, int k)
{
    if (k < 0 || k >= gf_tier_count(bits)) return NULL;
    return bits == 32 ? gf_tiers_f32[k]->name : gf_tiers_f16[k]->name;
}

int gf_get_tier_range(int bits, int k, float *x_low, float *x_high, float *grad_out_end)
{
    if (k < 0 || k >= gf_tier_count(bits)) return 0;
    if (bits == 32) {
        *x_low = gf_tiers_f32[k]->x_low, *x_high = gf_tiers_f32[k]->x_high;
        *grad_out_end = gf_tiers_f32[k]->grad_out_end;
    } else {
        *x_low = gf_tiers_f16[k]->x_low, *x_high = gf_tiers_f16[k]->x_high;
        *grad_out_end = gf_tiers_f16[k]->grad_out_end;
    }
    return 1;
}

int gf_isa_supported(int level)
{
    switch (level) {
    case GF_ISA_BASELINE:
        return 1;
    case GF_ISA_AVX2:
#if defined(GF_LEVELS)
        __builtin_cpu_init();
#if defined(__clang__)
        return __builtin_cpu_supports("fma");
#else
        return __builtin_cpu_supports("x86-64-v3");
#endif
#else
        /* no loops of its own in this build: the level is its tiers */
        return gf_level_has_tier(GF_ISA_AVX2);
#endif
    case GF_ISA_AVX512:
#if defined(GF_LEVELS)
        __builtin_cpu_init();
#if defined(__clang__)
        if (!__builtin_cpu_supports("avx512f")) return 0;
#else
        if (!__builtin_cpu_supports("x86-64-v4")) return 0;
#endif
#endif
        return gf_level_has_tier(GF_ISA_AVX512);
    default:
        return 0;
    }
}

int gf_set_isa(int level)
{
    if (!gf_isa_supported(level)) return 0;
    gf_isa = level;
    gf_set_fast_path(1);
    return 1;
}

int gf_get_isa(void) { return gf_isa; }

GF_INLINE float gf_float_of_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int gf_get_saturation(int i, int bits, float *low, float *high)
{
#define GF_SATURATION_ROW(NAME, NIN, MODE, TABLES) \
    {GF_PIECES_LOW_f16_##NAME, GF_PIECES_LOW_f32_##NAME, GF_PIECES_HIGH_##NAME},
    static const uint32_t bounds[GF_FUNCTION_COUNT][3] = {GF_FUNCTIONS(GF_SATURATION_ROW)};
#undef GF_SATURATION_ROW
    if (i < 0 || i >= GF_FUNCTION_COUNT || (bits != 16 && bits != 32)) return 0;
    *low = -gf_float_of_bits(bounds[i][bits == 32]);
    *high = gf_float_of_bits(bounds[i][2]);
    return 1;
}

const char *gf_simd_level(void)
{
#if defined(GF_LEVELS) && defined(__clang__)
    if (gf_isa == GF_ISA_AVX512) return "avx512f";
    if (gf_isa == GF_ISA_AVX2) return "avx, fma";
#elif defined(GF_LEVELS)
    if (gf_isa == GF_ISA_AVX512) return "x86-64-v4 (avx512)";
    if (gf_isa == GF_ISA_AVX2) return "x86-64-v3 (avx2, fma)";
#endif
#if defined(__x86_64__) && !defined(GF_NO_DISPATCH)
    return "x86-64 (sse2)";
#elif defined(__aarch64__)
    return "aarch64 (neon, baseline)";
#else
    return "baseline (no dispatch)";
#endif
}

/* The float16 conversions on their own, for tests/test_half.py. */
void gf_round_to_half(const double *in, uint16_t *out, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) out[i] = gf_double_to_half(in[i]);
}

void gf_widen_half(const uint16_t *in, double *out, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) out[i] = gf_half_to_double(in[i]);
}

/* ---- threads ---------------------------------------------------------- */

/* Measured with bench/threshold.py on a 2-core AMD EPYC (Zen 3, AVX2): two
 * threads break even with one at ~1 500 float32 elements, give 1.4x at 2 048,
 * 1.6x at 4 096 and 1.8x from 8 192 on.  Zen 4, AVX-512, with the float32
 * tier's forward form (0.30 ns/element on standard normal data): 0.9x at
 * 4 096, 1.15x at 8 192, 1.46x at 16 384, 1.82x at 65 536; so each thread
 * gets at least 4 096 elements of the cheapest kernel. */
#define GF_DEFAULT_PARALLEL_THRESHOLD (1 << 12)
ptrdiff_t gf_parallel_threshold = GF_DEFAULT_PARALLEL_THRESHOLD;
static int gf_thread_override = 0;

void gf_set_parallel_threshold(ptrdiff_t n)
{
    gf_parallel_threshold = n > 0 ? n : GF_DEFAULT_PARALLEL_THRESHOLD;
}

void gf_set_num_threads(int n) { gf_thread_override = n > 0 ? n : 0; }

/* Outputs this long cannot stay in the caches anyway, and non-temporal stores
 * write them to memory without first reading each line in (a third of the
 * memory traffic of a large call) or evicting what the caches hold.  Measured
 * with bench/stream.py on Zen 4 (32 MiB L3), float32 gelu: streaming costs
 * 1-20% below 8M elements, breaks even at 8M on one thread (4M on two) and
 * gains 5-12% (one thread) and 17% (two) from 16M. */
#define GF_DEFAULT_STREAM_THRESHOLD (1 << 23)
ptrdiff_t gf_stream_threshold = GF_DEFAULT_STREAM_THRESHOLD;

void gf_set_stream_threshold(ptrdiff_t n)
{
    gf_stream_threshold = n > 0 ? n : GF_DEFAULT_STREAM_THRESHOLD;
}

int gf_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int gf_get_num_threads(void)
{
#ifdef _OPENMP
    return gf_thread_override > 0 ? gf_thread_override : omp_get_max_threads();
#else
    return 1;
#endif
}

/* Thread count for n elements whose kernel costs `weight` times the cheapest:
 * each thread gets at least gf_parallel_threshold / weight elements. */
static int gf_threads_for(ptrdiff_t n, int weight)
{
    int nt = gf_get_num_threads();
#ifdef _OPENMP
    /* inside a parallel region (gf_run_rows's, or the caller's own) a call
     * runs on its thread */
    if (omp_in_parallel()) return 1;
#endif
    ptrdiff_t per_thread = gf_parallel_threshold / weight;
    if (per_thread < 1) per_thread = 1;
    if (nt <= 1 || n < 2 * per_thread) return 1;
    if (n / per_thread < nt) nt = (int)(n / per_thread);
    return nt;
}

#ifdef _OPENMP
/* Chunk k of nt over n elements, boundaries on multiples of 64 elements so each
 * thread starts on a fresh cache line when the data is contiguous. */
static void gf_chunk(ptrdiff_t n, int nt, int k, ptrdiff_t *lo, ptrdiff_t *hi)
{
    ptrdiff_t size = ((n + nt - 1) / nt + 63) & ~(ptrdiff_t)63;
    *lo = size * k < n ? size * k : n;
    *hi = size * (k + 1) < n ? size * (k + 1) : n;
}
#endif

/* The caller's floating-point exception flags, saved and restored around a
 * call.  On x86-64 the kernels touch only SSE/AVX state, so MXCSR alone is
 * saved (stmxcsr/ldmxcsr: a few cycles, where fesetexceptflag also rewrites
 * the x87 environment: 60-100 ns a call, measured); elsewhere, <fenv.h>. */
#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>
typedef unsigned int gf_fp_flags;
GF_INLINE gf_fp_flags gf_save_fp_flags(void) { return _mm_getcsr(); }
GF_INLINE void gf_restore_fp_flags(gf_fp_flags csr) { _mm_setcsr(csr); }
#else
typedef fexcept_t gf_fp_flags;
GF_INLINE gf_fp_flags gf_save_fp_flags(void)
{
    fexcept_t flags;
    fegetexceptflag(&flags, FE_ALL_EXCEPT);
    return flags;
}
GF_INLINE void gf_restore_fp_flags(gf_fp_flags flags) { fesetexceptflag(&flags, FE_ALL_EXCEPT); }
#endif

/* One call of a ufunc's loop, as the loop layer carries it down: which
 * function, on which storage type, its general kernel, and whether the call
 * is long enough to stream its output past the caches. */
typedef struct gf_call gf_call;

/* ---- out= overlapping an input --------------------------------------- *
 *
 * NumPy copies an input that an output would overwrite before it is read,
 * except when the output lags the input (the same step, out below x in the
 * order of iteration): then it passes both as they are, trusting the loop to
 * read each element before it writes the ones below it.  A call split across
 * threads cannot keep that promise at the chunk boundaries (one thread writes
 * what the next has not read yet), and a tier that holds results back would
 * have to keep it at every block.  So such a call first copies the inputs the
 * output shares bytes with, each thread its own chunk, and only after every
 * thread has (a barrier) does any thread compute and store: every value read
 * comes from memory no store of the call touches.  Calls whose output is an
 * input itself (in place: each element read and stored by one thread) or
 * shares no byte with it take none of this: a few comparisons. */

/* The lowest byte address and one past the highest of n elements of `size`
 * bytes from p, step bytes apart. */
static void gf_span(const char *p, ptrdiff_t n, ptrdiff_t step, ptrdiff_t size,
                    uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t first = (uintptr_t)p, last = (uintptr_t)(p + (n - 1) * step);
    *lo = first < last ? first : last;
    *hi = (first < last ? last : first) + (uintptr_t)size;
}

/* Whether storing the output can change a value the input has still to give:
 * some byte of it lies in both, and they are not the same elements. */
static int gf_output_clobbers(const char *in, ptrdiff_t is, const char *out, ptrdiff_t os,
                              ptrdiff_t n, ptrdiff_t size)
{
    if (n <= 0 || (in == out && is == os)) return 0;
    uintptr_t in_lo, in_hi, out_lo, out_hi;
    gf_span(in, n, is, size, &in_lo, &in_hi);
    gf_span(out, n, os, size, &out_lo, &out_hi);
    if (in_hi <= out_lo || out_hi <= in_lo) return 0;
    if (is == os && is != 0) {
        /* the same step: interleaved elements (a[0::2] into a[1::2]) share no byte */
        ptrdiff_t step = is < 0 ? -is : is;
        ptrdiff_t apart = (ptrdiff_t)((uintptr_t)out - (uintptr_t)in) % step;
        if (apart < 0) apart += step;
        if (apart >= size && step - apart >= size) return 0;
    }
    return 1;
}

/* n elements of `size` bytes (2, 4 or 8) from src, step bytes apart, packed
 * into dst (gf_pack), or back (gf_unpack): each a memcpy of a constant size,
 * one load and one store. */
#define GF_COPY_BY_SIZE(COPY)         \
    switch (size) {                   \
    case 2: COPY(2); break;           \
    case 4: COPY(4); break;           \
    default: COPY(8); break;          \
    }
static void gf_pack(char *dst, const char *src, ptrdiff_t step, ptrdiff_t size, ptrdiff_t n)
{
#define GF_PACK(BYTES) for (ptrdiff_t i = 0; i < n; i++) memcpy(dst + i * BYTES, src + i * step, BYTES)
    GF_COPY_BY_SIZE(GF_PACK)
#undef GF_PACK
}
static void gf_unpack(char *dst, ptrdiff_t step, const char *src, ptrdiff_t size, ptrdiff_t n)
{
#define GF_UNPACK(BYTES) for (ptrdiff_t i = 0; i < n; i++) memcpy(dst + i * step, src + i * BYTES, BYTES)
    GF_COPY_BY_SIZE(GF_UNPACK)
#undef GF_UNPACK
}

/* Copies elements [lo, hi) of n at src (step bytes apart) to dst + lo * size,
 * packed. */
static void gf_gather(char *dst, const char *src, ptrdiff_t step, ptrdiff_t size,
                      ptrdiff_t lo, ptrdiff_t hi)
{
    if (step == size) memcpy(dst + lo * size, src + lo * size, (size_t)((hi - lo) * size));
    else gf_pack(dst + lo * size, src + lo * step, step, size, hi - lo);
}

/* the most inputs and arguments a ufunc of the list has */
#define GF_MAX_IN 3
#define GF_MAX_ARGS 5

/* ---- storage types ---------------------------------------------------- */

/* f16 and f32 load as float (exact), the f32 kernels' argument type */
#define GF_LOAD_f16(v) ((float)gf_half_to_double(v))
#define GF_STORE_f16(v) gf_double_to_half(v)
#define GF_LOAD_f32(v) (v)
#define GF_STORE_f32(v) ((float)(v))
#define GF_LOAD_f64(v) (v)
#define GF_STORE_f64(v) (v)
#define GF_LOAD_bf16(v) gf_bfloat16_to_float(v)
#define GF_STORE_bf16(v) gf_double_to_bfloat16(v)
typedef uint16_t gf_f16;
typedef float gf_f32;
typedef double gf_f64;
typedef uint16_t gf_bf16;

/* A result r of the function at x, stored.  bfloat16 alone needs more than
 * the rounding of r: near zero every function is x/2 + c x^2 (c > 0) and
 * every derivative 1/2 + 2 c x, so for |x| < 2^-50 the double r can sit on a
 * bfloat16 midpoint (x/2, or grad_out/2, in the subnormal range) while the
 * true value lies off it, on the side of larger magnitude exactly when x > 0.
 * A one-ULP step of r that way decides such a tie and moves no other result
 * across a midpoint: r is then within 2^-50 of an 8-bit value. */
#define GF_FINISH_f16(x, r) GF_STORE_f16(r)
#define GF_FINISH_f32(x, r) GF_STORE_f32(r)
#define GF_FINISH_f64(x, r) GF_STORE_f64(r)
#define GF_FINISH_bf16(x, r) gf_double_to_bfloat16(gf_toward_true_near_zero((x), (r)))
GF_INLINE double gf_toward_true_near_zero(double x, double r)
{
    int near = x != 0.0 && x > -0x1p-50 && x < 0x1p-50 && r != 0.0;
    return near ? gf_from_bits(gf_bits(r) + (x > 0.0 ? 1u : (uint64_t)-1)) : r;
}

/* NumPy's own sum and product in each storage type, for the fused
 * functions: float16 and bfloat16 in float, rounded once (the float sum or
 * product of two of them, correctly rounded to 24 bits, then rounded to 11
 * or 8, is the correctly rounded result: 24 >= 2 * 11 + 2) */
#define GF_ADD_f16(a, b) gf_double_to_half((double)(GF_LOAD_f16(a) + GF_LOAD_f16(b)))
#define GF_MUL_f16(a, b) gf_double_to_half((double)(GF_LOAD_f16(a) * GF_LOAD_f16(b)))
#define GF_ADD_bf16(a, b) gf_double_to_bfloat16((double)(GF_LOAD_bf16(a) + GF_LOAD_bf16(b)))
#define GF_MUL_bf16(a, b) gf_double_to_bfloat16((double)(GF_LOAD_bf16(a) * GF_LOAD_bf16(b)))
#define GF_ADD_f32(a, b) ((a) + (b))
#define GF_MUL_f32(a, b) ((a) * (b))
#define GF_ADD_f64(a, b) ((a) + (b))
#define GF_MUL_f64(a, b) ((a) * (b))

/* ---- the general kernels' loops --------------------------------------- */

/* Each element goes through one of these.  A nan input comes out as itself
 * (payload and sign kept, as NumPy's own ufuncs do; a nan grad_out wins over a
 * nan x), rather than as whichever nan the hardware propagates from an
 * operand order the compiler chose: so strided, contiguous and threaded
 * results agree bit for bit, nans included. */
GF_INLINE int gf_is_nan(double x)  /* on the bits: no float compare with a subnormal */
{
    return (gf_bits(x) & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}
GF_INLINE double gf_unary_nan_through(double x, double r) { return gf_is_nan(x) ? x : r; }
GF_INLINE double gf_binary_nan_through(double g, double x, double r)
{
    return gf_is_nan(g) ? g : (gf_is_nan(x) ? x : r);
}

/* A function's general kernel over a dense run of one storage type, in one
 * signature for every function: out[i] = f(g[i * g_step], x[i]), g_step 1
 * or 0 (a broadcast grad_out); unary functions leave g unused. */
typedef void gf_general_f16(const gf_f16 *g, ptrdiff_t g_step, const gf_f16 *x, gf_f16 *out, ptrdiff_t n);
typedef void gf_general_f32(const gf_f32 *g, ptrdiff_t g_step, const gf_f32 *x, gf_f32 *out, ptrdiff_t n);
typedef void gf_general_f64(const gf_f64 *g, ptrdiff_t g_step, const gf_f64 *x, gf_f64 *out, ptrdiff_t n);
typedef gf_general_f16 gf_general_bf16;

/* NAME_SFX_general for a unary function (GF_GENERAL_1) or a backward one
 * (GF_GENERAL_2): NAME is the function (its scalar definitions are NAME_f32
 * and NAME_f64), SFX the storage type, PREC the kernel precision (f32
 * kernels serve f16 too).  Each loop is compiled at every level. */
#define GF_GENERAL_1(NAME, SFX, PREC)                                                             \
    GF_LEVELED(NAME##_##SFX##_contig,                                                             \
               (const gf_##SFX *restrict x, gf_##SFX *restrict out, ptrdiff_t n), (x, out, n), {  \
        for (ptrdiff_t i = 0; i < n; i++)                                                         \
            out[i] = GF_FINISH_##SFX(GF_LOAD_##SFX(x[i]),                                         \
                                     gf_unary_nan_through(GF_LOAD_##SFX(x[i]), NAME##_##PREC(GF_LOAD_##SFX(x[i])))); \
    })                                                                                            \
    GF_LEVELED(NAME##_##SFX##_inplace, (gf_##SFX *io, ptrdiff_t n), (io, n), {                    \
        for (ptrdiff_t i = 0; i < n; i++)                                                         \
            io[i] = GF_FINISH_##SFX(GF_LOAD_##SFX(io[i]),                                         \
                                    gf_unary_nan_through(GF_LOAD_##SFX(io[i]), NAME##_##PREC(GF_LOAD_##SFX(io[i])))); \
    })                                                                                            \
    static void NAME##_##SFX##_general(const gf_##SFX *g, ptrdiff_t g_step, const gf_##SFX *x,    \
                                       gf_##SFX *out, ptrdiff_t n)                                \
    {                                                                                             \
        (void)g, (void)g_step;                                                                    \
        if (x == out) NAME##_##SFX##_inplace(out, n);                                             \
        else NAME##_##SFX##_contig(x, out, n);                                                    \
    }

#define GF_GENERAL_2(NAME, SFX, PREC)                                                             \
    GF_LEVELED(NAME##_##SFX##_contig,                                                             \
               (const gf_##SFX *g, const gf_##SFX *x, gf_##SFX *out, ptrdiff_t n), (g, x, out, n), { \
        for (ptrdiff_t i = 0; i < n; i++)                                                         \
            out[i] = GF_FINISH_##SFX(GF_LOAD_##SFX(x[i]),                                         \
                                     gf_binary_nan_through(GF_LOAD_##SFX(g[i]), GF_LOAD_##SFX(x[i]), \
                                                           NAME##_##PREC(GF_LOAD_##SFX(g[i]), GF_LOAD_##SFX(x[i])))); \
    })                                                                                            \
    /* a broadcast grad_out: vectorized too (its nan test hoisted, since a                        \
     * loop-invariant select defeats the vectorizer) */                                          \
    GF_LEVELED(NAME##_##SFX##_scalar_g,                                                           \
               (gf_##SFX g, const gf_##SFX *x, gf_##SFX *out, ptrdiff_t n), (g, x, out, n), {     \
        if (GF_LOAD_##SFX(g) != GF_LOAD_##SFX(g)) {                                               \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = g;                                         \
            return;                                                                               \
        }                                                                                         \
        for (ptrdiff_t i = 0; i < n; i++)                                                         \
            out[i] = GF_FINISH_##SFX(GF_LOAD_##SFX(x[i]),                                         \
                                     gf_unary_nan_through(GF_LOAD_##SFX(x[i]),                    \
                                                          NAME##_##PREC(GF_LOAD_##SFX(g), GF_LOAD_##SFX(x[i])))); \
    })                                                                                            \
    static void NAME##_##SFX##_general(const gf_##SFX *g, ptrdiff_t g_step, const gf_##SFX *x,    \
                                       gf_##SFX *out, ptrdiff_t n)                                \
    {                                                                                             \
        if (g_step) NAME##_##SFX##_contig(g, x, out, n);                                          \
        else NAME##_##SFX##_scalar_g(*g, x, out, n);                                              \
    }

/* ---- the pipeline ------------------------------------------------------ */

struct gf_call {
    int function;    /* its row in the list */
    int mode;        /* GF_FORWARD, GF_DERIVATIVE or GF_BACKWARD (plain functions) */
    int nin, nout;   /* inputs (the plain functions: x, or grad_out and x) and outputs */
    ptrdiff_t size;  /* bytes per element */
    int stream;      /* the call has at least gf_stream_threshold elements */
    union { gf_general_f16 *f16; gf_general_f32 *f32; gf_general_f64 *f64; gf_general_bf16 *bf16; } general;
    /* a dense run of the storage type: g_step 1 or 0, as for the general kernels */
    void (*dense)(const gf_call *call, const char *g, ptrdiff_t g_step, const char *x, char *out, ptrdiff_t n);
    /* one thread's part of the call, any strides: gf_run_chunk, or a fused
     * function's gf_fused_SFX */
    void (*chunk)(const gf_call *call, char **args, const ptrdiff_t *steps, ptrdiff_t n);
    /* a fused function: its step, and the plain functions it composes (calls
     * on the same storage type) */
    int op;
    const gf_call *first, *second;
    /* bfloat16: the same function's float32 call, for its fast path */
    const gf_call *wide;
};

/* Runs the call over the whole range, split into contiguous chunks across
 * threads when it is long enough, and leaves the caller's floating-point
 * exception flags as they were.  args holds the call's nin inputs, then its
 * nout outputs, each of elements of `size` bytes. */
static void gf_dispatch(const gf_call *call, char **args, ptrdiff_t n, const ptrdiff_t *steps, int weight)
{
    const ptrdiff_t size = call->size;
    const int nin = call->nin, nargs = call->nin + call->nout;
    gf_fp_flags flags = gf_save_fp_flags();
    int nt = gf_threads_for(n, weight);
    /* inputs an output overlaps, copied (a broadcast scalar: its one
     * element, here; the others by the threads, each its own chunk) */
    char *copies[GF_MAX_IN] = {NULL};
    int gather[GF_MAX_IN] = {0}, any_gather = 0;
    char *run_args[GF_MAX_ARGS];
    ptrdiff_t run_steps[GF_MAX_ARGS];
    for (int i = 0; i < nargs; i++) run_args[i] = args[i], run_steps[i] = steps[i];
    for (int i = 0; i < nin && nt > 0; i++) {
        int clobbered = 0;
        for (int o = nin; o < nargs; o++)
            clobbered |= gf_output_clobbers(args[i], steps[i], args[o], steps[o], n, size);
        if (!clobbered) continue;
        copies[i] = malloc((size_t)((steps[i] == 0 ? 1 : n) * size));
        if (copies[i] == NULL) {  /* no memory for a copy: one thread, in NumPy's order */
            nt = 0;
            break;
        }
        run_args[i] = copies[i];
        run_steps[i] = steps[i] == 0 ? 0 : size;
        if (steps[i] == 0) memcpy(copies[i], args[i], (size_t)size);
        else gather[i] = any_gather = 1;
    }
    if (nt == 0) {
        call->chunk(call, args, steps, n);
    } else if (nt == 1) {
        for (int i = 0; i < nin; i++)
            if (gather[i]) gf_gather(copies[i], args[i], steps[i], size, 0, n);
        call->chunk(call, run_args, run_steps, n);
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
        {
            ptrdiff_t lo, hi;
            gf_chunk(n, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
            if (any_gather) {
                for (int i = 0; i < nin; i++)
                    if (gather[i]) gf_gather(copies[i], args[i], steps[i], size, lo, hi);
                /* every input copied before any thread stores */
#pragma omp barrier
            }
            char *chunk_args[GF_MAX_ARGS];
            for (int i = 0; i < nargs; i++) chunk_args[i] = run_args[i] + lo * run_steps[i];
            if (hi > lo) call->chunk(call, chunk_args, run_steps, hi - lo);
        }
#endif
    }
    for (int i = 0; i < nin; i++) free(copies[i]);
    gf_restore_fp_flags(flags);
}


#if defined(_MSC_VER) && !defined(__clang__)
#define GF_NOINLINE __declspec(noinline)
#else
#define GF_NOINLINE __attribute__((noinline))
#endif

/* float32: the tiers from `first` on (gf_tier.h), then the general kernel.
 * A stage lives in the frame of the tier it serves, so a run whose first
 * tier leaves nothing holds one stage on the stack (gf_tier_stage_f32 is not
 * inlined into its caller, whose frame would then hold it for every tier). */
static void gf_pipeline_f32(const gf_call *call, int first, const gf_run_f32 *run);

GF_NOINLINE static void gf_tier_stage_f32(const gf_call *call, int first, const gf_run_f32 *run)
{
    const gf_tier_f32 *tier = gf_tiers_f32[first];
    gf_stage_f32 stage;
    stage.count = stage.blocks = 0;
    for (ptrdiff_t i = 0; i < run->n;) {
        i = tier->take(call->function, run, i, &stage);
        if (stage.count > 0) {
            gf_run_f32 left = {stage.g, 1, stage.x, stage.y, stage.count, 0};
            gf_pipeline_f32(call, first + 1, &left);
        }
        if (stage.blocks > 0 || run->stream) tier->give_back(&stage, run);
    }
}

static void gf_pipeline_f32(const gf_call *call, int first, const gf_run_f32 *run)
{
    while (first < gf_tier_count_f32 && !(gf_tiers_f32[first]->modes >> call->mode & 1)) first++;
    if (first < gf_tier_count_f32) gf_tier_stage_f32(call, first, run);
    else call->general.f32(run->g, run->g_step, run->x, run->out, run->n);
}

/* float16: the same; the loop layer stores the left lanes' results */
static void gf_pipeline_f16(const gf_call *call, int first, const gf_run_f16 *run);

GF_NOINLINE static void gf_tier_stage_f16(const gf_call *call, int first, const gf_run_f16 *run)
{
    const gf_tier_f16 *tier = gf_tiers_f16[first];
    gf_stage_f16 stage;
    for (ptrdiff_t i = 0; i < run->n;) {
        stage.count = 0;
        i = tier->take(call->function, run, i, &stage);
        if (stage.count > 0) {
            gf_run_f16 left = {stage.g, 1, stage.x, stage.y, stage.count};
            gf_pipeline_f16(call, first + 1, &left);
            for (ptrdiff_t k = 0; k < stage.count; k++) run->out[stage.at[k]] = stage.y[k];
        }
    }
}

static void gf_pipeline_f16(const gf_call *call, int first, const gf_run_f16 *run)
{
    while (first < gf_tier_count_f16 && !(gf_tiers_f16[first]->modes >> call->mode & 1)) first++;
    if (first < gf_tier_count_f16) gf_tier_stage_f16(call, first, run);
    else call->general.f16(run->g, run->g_step, run->x, run->out, run->n);
}

static void gf_dense_f16(const gf_call *call, const char *g, ptrdiff_t g_step, const char *x, char *out,
                         ptrdiff_t n)
{
    gf_run_f16 run = {(const gf_f16 *)g, g_step, (const gf_f16 *)x, (gf_f16 *)out, n};
    gf_pipeline_f16(call, 0, &run);
}

static void gf_dense_f32(const gf_call *call, const char *g, ptrdiff_t g_step, const char *x, char *out,
                         ptrdiff_t n)
{
    gf_run_f32 run = {(const gf_f32 *)g, g_step, (const gf_f32 *)x, (gf_f32 *)out, n, 0};
    /* streamed: a whole chunk at least (the strided loops' small blocks go
     * to a buffer read back at once), its elements before out's first
     * 64-byte boundary stored, the rest streamed (the same arithmetic) */
    if (call->stream && gf_tier_count_f32 > 0 && n >= GF_STAGE_TAKE && ((uintptr_t)out & 3) == 0) {
        ptrdiff_t head = (ptrdiff_t)((64 - ((uintptr_t)out & 63)) & 63) / 4;
        gf_run_f32 before = run;
        before.n = head;
        gf_pipeline_f32(call, 0, &before);
        run.x += head, run.out += head, run.n -= head, run.stream = 1;
        if (g_step) run.g += head;
    }
    gf_pipeline_f32(call, 0, &run);
}

static void gf_dense_f64(const gf_call *call, const char *g, ptrdiff_t g_step, const char *x, char *out,
                         ptrdiff_t n)
{
    call->general.f64((const gf_f64 *)g, g_step, (const gf_f64 *)x, (gf_f64 *)out, n);
}

/* bfloat16: the general kernels (double, rounded once) for every function.
 * A forward function whose float32 data the tiers take goes through the
 * float32 pipeline first: a float32 result y lies within 2 ULP of the true
 * value (the forward functions' bound), so where y moved 2 ULP down and 2 up
 * rounds to the same bfloat16, that is the correctly rounded result.  The
 * rest (zeros, nans, results near a rounding boundary) go to the general
 * kernel. */
#define GF_BF16_BLOCK 4096

GF_INLINE uint32_t gf_bfloat16_of_bits(uint32_t u)  /* float bits to bfloat16, ties to even */
{
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* The block's bfloat16 inputs widened (exact) */
GF_LEVELED(gf_widen_bf16, (const gf_bf16 *restrict x, float *restrict w, ptrdiff_t m), (x, w, m), {
    for (ptrdiff_t i = 0; i < m; i++) w[i] = GF_LOAD_bf16(x[i]);
})

/* The float32 results y rounded to bfloat16 (out), and unsure[i] set where
 * that rounding is not known to be the correct one: y zero, inf or nan, or
 * within 2 ULP of the largest finite float or of a rounding boundary (the
 * 16 bits rounded away within 3 of a half, 0x8000: a value 2 ULP down or up
 * could round the other way, a tie included).  Returns how many are unsure. */
GF_LEVELED(gf_narrow_bf16_checked, (const float *restrict y, gf_bf16 *restrict out, unsigned char *restrict unsure,
                                    ptrdiff_t m, ptrdiff_t *count), (y, out, unsure, m, count), {
    ptrdiff_t c = 0;
    for (ptrdiff_t i = 0; i < m; i++) {
        uint32_t u = gf_float_bits(y[i]), a = u & 0x7fffffffu;
        uint32_t r = gf_bfloat16_of_bits(u);
        int sure = a >= 2u && a <= 0x7f7ffffdu && (uint32_t)((u & 0xffffu) - 0x7ffdu) > 6u;
        out[i] = (gf_bf16)r;
        unsure[i] = (unsigned char)!sure;
        c += !sure;
    }
    *count = c;
})

static void gf_dense_bf16(const gf_call *call, const char *g, ptrdiff_t g_step, const char *x, char *out,
                          ptrdiff_t n)
{
    const gf_bf16 *xb = (const gf_bf16 *)x;
    gf_bf16 *ob = (gf_bf16 *)out;
    if (call->mode != GF_FORWARD || call->wide == NULL || gf_tier_count_f32 == 0) {
        call->general.bf16((const gf_bf16 *)g, g_step, xb, ob, n);
        return;
    }
    GF_ALIGN64 float wx[GF_BF16_BLOCK], wy[GF_BF16_BLOCK];
    GF_ALIGN64 gf_bf16 left_x[GF_BF16_BLOCK], left_y[GF_BF16_BLOCK];
    GF_ALIGN64 unsigned char unsure[GF_BF16_BLOCK];
    ptrdiff_t at[GF_BF16_BLOCK];
    for (ptrdiff_t i0 = 0; i0 < n; i0 += GF_BF16_BLOCK) {
        const ptrdiff_t m = n - i0 < GF_BF16_BLOCK ? n - i0 : GF_BF16_BLOCK;
        gf_widen_bf16(xb + i0, wx, m);
        call->wide->dense(call->wide, NULL, 0, (const char *)wx, (char *)wy, m);
        ptrdiff_t left = 0, unsure_count;
        gf_narrow_bf16_checked(wy, ob + i0, unsure, m, &unsure_count);
        /* the unsure lanes' inputs from their widened copies (out may be x) */
        if (unsure_count > 0)
            for (ptrdiff_t i = 0; i < m; i++)
                if (unsure[i]) left_x[left] = (gf_bf16)(gf_float_bits(wx[i]) >> 16), at[left++] = i;
        if (left > 0) {
            call->general.bf16(NULL, 0, left_x, left_y, left);
            for (ptrdiff_t k = 0; k < left; k++) ob[i0 + at[k]] = left_y[k];
        }
    }
}

/* Strided data goes through the dense path in blocks of this many elements,
 * copied in and out: the same code computes every layout. */
#define GF_BLOCK 256

/* One thread's part of a call: n elements of args (grad_out for backward,
 * x, out), NumPy's steps. */
static void gf_run_chunk(const gf_call *call, char **args, const ptrdiff_t *steps, ptrdiff_t n)
{
    const ptrdiff_t size = call->size;
    const int backward = call->nin == 2;
    const char *g = backward ? args[0] : NULL, *x = args[call->nin - 1];
    char *out = args[call->nin];
    const ptrdiff_t gs = backward ? steps[0] : 0, xs = steps[call->nin - 1], os = steps[call->nin];
    if (xs == size && os == size && (gs == size || gs == 0)) {
        call->dense(call, g, gs != 0, x, out, n);
        return;
    }
    GF_ALIGN64 char gb[GF_BLOCK * sizeof(double)], xb[GF_BLOCK * sizeof(double)], yb[GF_BLOCK * sizeof(double)];
    for (ptrdiff_t i = 0; i < n; i += GF_BLOCK) {
        ptrdiff_t m = n - i < GF_BLOCK ? n - i : GF_BLOCK;
        gf_pack(xb, x + i * xs, xs, size, m);
        if (gs) gf_pack(gb, g + i * gs, gs, size, m);
        call->dense(call, gs ? gb : g, gs != 0, xb, yb, m);
        gf_unpack(out + i * os, os, yb, size, m);
    }
}

/* ---- fused functions -------------------------------------------------- *
 *
 * A fused function runs its step and the plain functions it composes
 * (call->first, call->second: calls on the same storage type) a block at a
 * time, any strides: all of a block's inputs are read before any of its
 * results is stored, so an output may be one of the inputs itself.  The steps
 * are NumPy's sum and product in the storage type (GF_ADD_SFX, GF_MUL_SFX),
 * so bias_gelu(x, bias) is gelu(np.add(x, bias)) bit for bit, and the same
 * holds for every fused function and its composition (gelu_fast/_spec.py). */
enum { GF_OP_BIAS = 1, GF_OP_GATE, GF_OP_GATE_BACKWARD };
#define GF_FUSED_BLOCK 1024

/* p itself where its n elements are contiguous, else packed into buffer */
static const char *gf_dense_operand(const char *p, ptrdiff_t step, ptrdiff_t size, char *buffer, ptrdiff_t n)
{
    if (step == size) return p;
    gf_pack(buffer, p, step, size, n);
    return buffer;
}

/* The steps, in SFX: out[i] = x[i] OP y[i], x and y any strides (0 for a
 * broadcast value), out a buffer (gf_SFX_add) or any strides (gf_SFX_mul,
 * whose x is a buffer); the contiguous and broadcast cases have loops the
 * compiler vectorizes at each level. */
#define GF_STEPS(SFX)                                                                                \
    GF_LEVELED(gf_##SFX##_add_dense, (const gf_##SFX *restrict x, const gf_##SFX *restrict y, ptrdiff_t y_step, \
                                      gf_##SFX *restrict out, ptrdiff_t n), (x, y, y_step, out, n), { \
        if (y_step) for (ptrdiff_t i = 0; i < n; i++) out[i] = GF_ADD_##SFX(x[i], y[i]);            \
        else for (ptrdiff_t i = 0; i < n; i++) out[i] = GF_ADD_##SFX(x[i], y[0]);                   \
    })                                                                                               \
    GF_LEVELED(gf_##SFX##_mul_dense, (const gf_##SFX *restrict x, const gf_##SFX *y, ptrdiff_t y_step, \
                                      gf_##SFX *out, ptrdiff_t n), (x, y, y_step, out, n), {         \
        if (y_step) for (ptrdiff_t i = 0; i < n; i++) out[i] = GF_MUL_##SFX(x[i], y[i]);            \
        else for (ptrdiff_t i = 0; i < n; i++) out[i] = GF_MUL_##SFX(x[i], y[0]);                   \
    })                                                                                               \
    static void gf_##SFX##_add(const char *x, ptrdiff_t xs, const char *y, ptrdiff_t ys, gf_##SFX *out, \
                               ptrdiff_t n)                                                          \
    {                                                                                                \
        const ptrdiff_t size = sizeof(gf_##SFX);                                                     \
        if (xs == size && (ys == size || ys == 0)) {                                                 \
            gf_##SFX##_add_dense((const gf_##SFX *)x, (const gf_##SFX *)y, ys != 0, out, n);         \
            return;                                                                                  \
        }                                                                                            \
        for (ptrdiff_t i = 0; i < n; i++)                                                            \
            out[i] = GF_ADD_##SFX(*(const gf_##SFX *)(x + i * xs), *(const gf_##SFX *)(y + i * ys)); \
    }                                                                                                \
    static void gf_##SFX##_mul(const gf_##SFX *x, const char *y, ptrdiff_t ys, char *out, ptrdiff_t os, \
                               ptrdiff_t n)                                                          \
    {                                                                                                \
        const ptrdiff_t size = sizeof(gf_##SFX);                                                     \
        if (os == size && (ys == size || ys == 0)) {                                                 \
            gf_##SFX##_mul_dense(x, (const gf_##SFX *)y, ys != 0, (gf_##SFX *)out, n);               \
            return;                                                                                  \
        }                                                                                            \
        for (ptrdiff_t i = 0; i < n; i++)                                                            \
            *(gf_##SFX *)(out + i * os) = GF_MUL_##SFX(x[i], *(const gf_##SFX *)(y + i * ys));       \
    }

#define GF_FUSED_CHUNK(SFX)                                                                          \
    GF_STEPS(SFX)                                                                                    \
    static void gf_fused_##SFX(const gf_call *call, char **args, const ptrdiff_t *steps, ptrdiff_t n) \
    {                                                                                                \
        const ptrdiff_t size = sizeof(gf_##SFX);                                                     \
        const int nin = call->nin;                                                                   \
        const gf_call *first = call->first, *second = call->second;                                  \
        GF_ALIGN64 gf_##SFX t[GF_FUSED_BLOCK], u[GF_FUSED_BLOCK], y[GF_FUSED_BLOCK], z[GF_FUSED_BLOCK]; \
        for (ptrdiff_t i0 = 0; i0 < n; i0 += GF_FUSED_BLOCK) {                                       \
            const ptrdiff_t m = n - i0 < GF_FUSED_BLOCK ? n - i0 : GF_FUSED_BLOCK;                    \
            const char *in[GF_MAX_IN];                                                               \
            for (int k = 0; k < nin; k++) in[k] = args[k] + i0 * steps[k];                           \
            char *out = args[nin] + i0 * steps[nin];                                                 \
            const ptrdiff_t os = steps[nin];                                                         \
            if (call->op == GF_OP_BIAS) {                                                            \
                /* [grad_out,] x, bias: first([grad_out,] x + bias) */                               \
                const int xk = nin - 2, bk = nin - 1;                                                \
                gf_##SFX##_add(in[xk], steps[xk], in[bk], steps[bk], t, m);                          \
                const char *g = NULL;                                                                \
                ptrdiff_t g_step = 0;                                                                \
                if (nin == 3) {                                                                      \
                    g = steps[0] == 0 ? in[0] : gf_dense_operand(in[0], steps[0], size, (char *)u, m); \
                    g_step = steps[0] != 0;                                                          \
                }                                                                                    \
                char *dst = os == size ? out : (char *)y;                                            \
                first->dense(first, g, g_step, (const char *)t, dst, m);                             \
                if (dst != out) gf_unpack(out, os, (const char *)y, size, m);                        \
            } else if (call->op == GF_OP_GATE) {                                                     \
                /* a, b: first(a) * b */                                                             \
                const char *a = gf_dense_operand(in[0], steps[0], size, (char *)u, m);               \
                first->dense(first, NULL, 0, a, (char *)y, m);                                       \
                gf_##SFX##_mul(y, in[1], steps[1], out, os, m);                                      \
            } else {                                                                                 \
                /* grad_out, a, b: (second(grad_out * b, a), grad_out * first(a)) */                 \
                const char *a = gf_dense_operand(in[1], steps[1], size, (char *)u, m);               \
                first->dense(first, NULL, 0, a, (char *)y, m);                                       \
                const char *g = gf_dense_operand(in[0], steps[0], size, (char *)z, m);               \
                gf_##SFX##_mul((const gf_##SFX *)g, in[2], steps[2], (char *)t, size, m);            \
                gf_##SFX##_mul((const gf_##SFX *)g, (const char *)y, size, (char *)y, size, m);      \
                second->dense(second, (const char *)t, 1, a, (char *)z, m);                          \
                gf_unpack(out, os, (const char *)z, size, m);                                        \
                gf_unpack(args[nin + 1] + i0 * steps[nin + 1], steps[nin + 1], (const char *)y, size, m); \
            }                                                                                        \
        }                                                                                            \
    }
GF_FUSED_CHUNK(f16)
GF_FUSED_CHUNK(f32)
GF_FUSED_CHUNK(f64)
GF_FUSED_CHUNK(bf16)

/* ---- the loops NumPy calls --------------------------------------------- */

#define GF_ROW(NAME, NIN, MODE, TABLES) GF_ROW_##NAME,
#define GF_FUSED_ROW(NAME, NIN, NOUT, OP, FIRST, SECOND) GF_ROW_##NAME,
enum { GF_FUNCTIONS(GF_ROW) GF_FUSED(GF_FUSED_ROW) GF_ROW_COUNT };
#undef GF_ROW
#undef GF_FUSED_ROW

/* gf_call_NAME_SFX, a plain function's call on one storage type (WIDE: its
 * float32 call, for bfloat16) */
#define GF_CALL(NAME, NIN, MODE, SFX, WIDE)                                                       \
    static const gf_call gf_call_##NAME##_##SFX = {                                               \
        GF_ROW_##NAME, MODE, NIN, 1, sizeof(gf_##SFX), 0, {.SFX = NAME##_##SFX##_general},        \
        gf_dense_##SFX, gf_run_chunk, 0, NULL, NULL, WIDE};

/* gf_NAME_SFX, the loop NumPy calls: WEIGHT is the kernel's cost relative to
 * the cheapest (for the thread split) */
#define GF_ENTRY(NAME, SFX, WEIGHT)                                                               \
    void gf_##NAME##_##SFX(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data) \
    {                                                                                             \
        (void)data;                                                                               \
        gf_call call = gf_call_##NAME##_##SFX;                                                    \
        call.stream = dimensions[0] >= gf_stream_threshold;                                       \
        gf_dispatch(&call, args, dimensions[0], steps, WEIGHT);                                   \
    }

/* Every function of the list, for each storage type.  Costs relative to the
 * float32 kernel: float16 and bfloat16 add their conversions, float64 does
 * double-double work in half the lanes.  bfloat16's general kernels are the
 * float64 ones: a float32 result rounded again to bfloat16 could land on the
 * wrong side of a midpoint; a float64 one is within 2^-52 of the true value,
 * and no bfloat16 midpoint lies that close to one except as above. */
#define GF_INSTANTIATE(NAME, NIN, MODE, TABLES)                                                   \
    GF_GENERAL_##NIN(NAME, f16, f32) GF_CALL(NAME, NIN, MODE, f16, NULL) GF_ENTRY(NAME, f16, 4)    \
    GF_GENERAL_##NIN(NAME, f32, f32) GF_CALL(NAME, NIN, MODE, f32, NULL) GF_ENTRY(NAME, f32, 1)    \
    GF_GENERAL_##NIN(NAME, f64, f64) GF_CALL(NAME, NIN, MODE, f64, NULL) GF_ENTRY(NAME, f64, 4)    \
    GF_GENERAL_##NIN(NAME, bf16, f64) GF_CALL(NAME, NIN, MODE, bf16, &gf_call_##NAME##_f32)        \
    GF_ENTRY(NAME, bf16, 4)
GF_FUNCTIONS(GF_INSTANTIATE)

/* the fused functions: a pass of their step on top of the functions' cost */
#define GF_FUSED_CALL(NAME, NIN, NOUT, OP, FIRST, SECOND, SFX)                                    \
    static const gf_call gf_call_##NAME##_##SFX = {                                               \
        GF_ROW_##NAME, 0, NIN, NOUT, sizeof(gf_##SFX), 0, {NULL}, NULL, gf_fused_##SFX, OP,        \
        &gf_call_##FIRST##_##SFX, &gf_call_##SECOND##_##SFX, NULL};
#define GF_FUSED_INSTANTIATE(NAME, NIN, NOUT, OP, FIRST, SECOND)                                  \
    GF_FUSED_CALL(NAME, NIN, NOUT, OP, FIRST, SECOND, f16) GF_ENTRY(NAME, f16, 4)                  \
    GF_FUSED_CALL(NAME, NIN, NOUT, OP, FIRST, SECOND, f32) GF_ENTRY(NAME, f32, 2)                  \
    GF_FUSED_CALL(NAME, NIN, NOUT, OP, FIRST, SECOND, f64) GF_ENTRY(NAME, f64, 4)                  \
    GF_FUSED_CALL(NAME, NIN, NOUT, OP, FIRST, SECOND, bf16) GF_ENTRY(NAME, bf16, 4)
GF_FUSED(GF_FUSED_INSTANTIATE)

#define GF_LOOP_ROW(NAME, ...) {gf_##NAME##_f16, gf_##NAME##_f32, gf_##NAME##_f64, gf_##NAME##_bf16},
static gf_loop *const gf_loop_table[GF_ROW_COUNT][4] = {GF_FUNCTIONS(GF_LOOP_ROW) GF_FUSED(GF_LOOP_ROW)};
#define GF_NAME_ROW(NAME, ...) #NAME,
static const char *const gf_function_names[GF_ROW_COUNT] = {GF_FUNCTIONS(GF_NAME_ROW) GF_FUSED(GF_NAME_ROW)};

const char *gf_function_name(int i)
{
    return i >= 0 && i < GF_ROW_COUNT ? gf_function_names[i] : NULL;
}

gf_loop *const *gf_function_loops(int i)
{
    return i >= 0 && i < GF_ROW_COUNT ? gf_loop_table[i] : NULL;
}

/* A loop over `rows` rows of `cols` elements: row r of argument k starts at
 * args[k] + r * row_steps[k], its elements steps[k] apart.  NumPy's iterator
 * calls a loop once per row when an operand is broadcast along the rows (a
 * bias) or the rows are not evenly spaced (the halves of a GeGLU
 * projection), and rows of a few thousand elements are too short to split;
 * here the rows are split across the threads instead.  The arguments must not
 * overlap, other than an output being an input itself. */
void gf_run_rows(gf_loop *loop, int nargs, char **args, ptrdiff_t rows, ptrdiff_t cols,
                 const ptrdiff_t *row_steps, const ptrdiff_t *steps)
{
    int nt = rows > 1 ? gf_threads_for(rows * cols, 1) : 1;
    if (nargs > GF_MAX_ARGS || rows <= 0 || cols <= 0) return;
    if (nt > rows) nt = (int)rows;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (ptrdiff_t r = 0; r < rows; r++) {
        char *row_args[GF_MAX_ARGS];
        for (int k = 0; k < nargs; k++) row_args[k] = args[k] + r * row_steps[k];
        loop(row_args, &cols, steps, NULL);
    }
}
