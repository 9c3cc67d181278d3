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

static void gf_run_chunk(const gf_call *call, char **args, const ptrdiff_t *steps, ptrdiff_t n);

/* Runs the call over the whole range, split into contiguous chunks across
 * threads when it is long enough, and leaves the caller's floating-point
 * exception flags as they were.  The last of the nargs arguments is the
 * output; each holds elements of `size` bytes. */
static void gf_dispatch(const gf_call *call, int nargs, char **args, ptrdiff_t n, const ptrdiff_t *steps,
                        int weight, ptrdiff_t size)
{
    gf_fp_flags flags = gf_save_fp_flags();
    int nt = gf_threads_for(n, weight);
    /* inputs the output overlaps, copied (a broadcast scalar: its one
     * element, here; the others by the threads, each its own chunk) */
    char *copies[2] = {NULL, NULL};
    int gather[2] = {0, 0}, any_gather = 0;
    char *run_args[3];
    ptrdiff_t run_steps[3];
    const int nin = nargs - 1;
    for (int i = 0; i < nargs; i++) run_args[i] = args[i], run_steps[i] = steps[i];
    for (int i = 0; i < nin && nt > 0; i++) {
        if (!gf_output_clobbers(args[i], steps[i], args[nin], steps[nin], n, size)) continue;
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
        gf_run_chunk(call, args, steps, n);
    } else if (nt == 1) {
        for (int i = 0; i < nin; i++)
            if (gather[i]) gf_gather(copies[i], args[i], steps[i], size, 0, n);
        gf_run_chunk(call, run_args, run_steps, n);
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
            char *chunk_args[3];
            for (int i = 0; i < nargs; i++) chunk_args[i] = run_args[i] + lo * run_steps[i];
            if (hi > lo) gf_run_chunk(call, chunk_args, run_steps, hi - lo);
        }
#endif
    }
    for (int i = 0; i < nin; i++) free(copies[i]);
    gf_restore_fp_flags(flags);
}


/* ---- storage types ---------------------------------------------------- */

/* f16 and f32 load as float (exact), the f32 kernels' argument type */
#define GF_LOAD_f16(v) ((float)gf_half_to_double(v))
#define GF_STORE_f16(v) gf_double_to_half(v)
#define GF_LOAD_f32(v) (v)
#define GF_STORE_f32(v) ((float)(v))
#define GF_LOAD_f64(v) (v)
#define GF_STORE_f64(v) (v)
typedef uint16_t gf_f16;
typedef float gf_f32;
typedef double gf_f64;

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

/* NAME_SFX_general for a unary function (GF_GENERAL_1) or a backward one
 * (GF_GENERAL_2): NAME is the function (its scalar definitions are NAME_f32
 * and NAME_f64), SFX the storage type, PREC the kernel precision (f32
 * kernels serve f16 too).  Each loop is compiled at every level. */
#define GF_GENERAL_1(NAME, SFX, PREC)                                                             \
    GF_LEVELED(NAME##_##SFX##_contig,                                                             \
               (const gf_##SFX *restrict x, gf_##SFX *restrict out, ptrdiff_t n), (x, out, n), {  \
        for (ptrdiff_t i = 0; i < n; i++)                                                         \
            out[i] = GF_STORE_##SFX(gf_unary_nan_through(GF_LOAD_##SFX(x[i]), NAME##_##PREC(GF_LOAD_##SFX(x[i])))); \
    })                                                                                            \
    GF_LEVELED(NAME##_##SFX##_inplace, (gf_##SFX *io, ptrdiff_t n), (io, n), {                    \
        for (ptrdiff_t i = 0; i < n; i++)                                                         \
            io[i] = GF_STORE_##SFX(gf_unary_nan_through(GF_LOAD_##SFX(io[i]), NAME##_##PREC(GF_LOAD_##SFX(io[i])))); \
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
            out[i] = GF_STORE_##SFX(gf_binary_nan_through(GF_LOAD_##SFX(g[i]), GF_LOAD_##SFX(x[i]), \
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
            out[i] = GF_STORE_##SFX(gf_unary_nan_through(GF_LOAD_##SFX(x[i]),                     \
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
    int mode;        /* GF_FORWARD, GF_DERIVATIVE or GF_BACKWARD */
    int nin;         /* 1, or 2 (grad_out, x) */
    ptrdiff_t size;  /* bytes per element */
    int stream;      /* the call has at least gf_stream_threshold elements */
    union { gf_general_f16 *f16; gf_general_f32 *f32; gf_general_f64 *f64; } general;
    /* a dense run of the storage type: g_step 1 or 0, as for the general kernels */
    void (*dense)(const gf_call *call, const char *g, ptrdiff_t g_step, const char *x, char *out, ptrdiff_t n);
};

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

/* ---- the loops NumPy calls --------------------------------------------- */

#define GF_ROW(NAME, NIN, MODE, TABLES) GF_ROW_##NAME,
enum { GF_FUNCTIONS(GF_ROW) };
#undef GF_ROW

/* gf_NAME_SFX: WEIGHT is the kernel's cost relative to the cheapest (for the
 * thread split) */
#define GF_ENTRY(NAME, NIN, MODE, SFX, WEIGHT)                                                    \
    void gf_##NAME##_##SFX(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data) \
    {                                                                                             \
        (void)data;                                                                               \
        gf_call call = {GF_ROW_##NAME, MODE, NIN, sizeof(gf_##SFX), dimensions[0] >= gf_stream_threshold, \
                        {.SFX = NAME##_##SFX##_general}, gf_dense_##SFX};                         \
        gf_dispatch(&call, NIN + 1, args, dimensions[0], steps, WEIGHT, sizeof(gf_##SFX));        \
    }

/* Every function of the list, for each storage type.  Costs relative to the
 * float32 kernel: float16 adds its conversions, float64 does double-double
 * work in half the lanes. */
#define GF_INSTANTIATE(NAME, NIN, MODE, TABLES)                         \
    GF_GENERAL_##NIN(NAME, f16, f32) GF_ENTRY(NAME, NIN, MODE, f16, 4)  \
    GF_GENERAL_##NIN(NAME, f32, f32) GF_ENTRY(NAME, NIN, MODE, f32, 1)  \
    GF_GENERAL_##NIN(NAME, f64, f64) GF_ENTRY(NAME, NIN, MODE, f64, 4)
GF_FUNCTIONS(GF_INSTANTIATE)

#define GF_LOOP_ROW(NAME, NIN, MODE, TABLES) {gf_##NAME##_f16, gf_##NAME##_f32, gf_##NAME##_f64},
static gf_loop *const gf_loop_table[GF_FUNCTION_COUNT][3] = {GF_FUNCTIONS(GF_LOOP_ROW)};
#define GF_NAME_ROW(NAME, NIN, MODE, TABLES) #NAME,
static const char *const gf_function_names[GF_FUNCTION_COUNT] = {GF_FUNCTIONS(GF_NAME_ROW)};

const char *gf_function_name(int i)
{
    return i >= 0 && i < GF_FUNCTION_COUNT ? gf_function_names[i] : NULL;
}

gf_loop *const *gf_function_loops(int i)
{
    return i >= 0 && i < GF_FUNCTION_COUNT ? gf_loop_table[i] : NULL;
}
