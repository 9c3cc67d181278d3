/* Inner loops for the gelu_fast ufuncs, generated from the scalar kernels in
 * gelu_kernels.h: a contiguous loop (and its in-place twin) that the compiler
 * vectorizes, compiled once per x86 ISA level and picked at load time, a strided
 * loop for everything else, OpenMP splitting of long runs into contiguous
 * chunks, and restoration of the caller's floating-point exception flags. */
#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gelu_fast.h"
#include "gf_testing.h"
#include "gelu_kernels.h"

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

/* The AVX-512 float32 fast path needs only the target attribute and a CPU
 * check, not the ifunc dispatch, so it stays on in GF_NO_DISPATCH builds
 * (the sanitizer run tests it); GF_NO_FAST_PATH leaves it out. */
#if defined(__x86_64__) && !defined(GF_NO_FAST_PATH) \
    && ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && __GNUC__ >= 12))
#include "gf_pieces_avx512.h"
#define GF_HAVE_PIECES 1
int gf_pieces_enabled = 0;
__thread int gf_stream_outputs = 0;
#endif

static int gf_cpu_has_fast_path(void)
{
#if defined(GF_HAVE_PIECES)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
           && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

/* Turns the AVX-512 fast path on (at the avx512 level, where the CPU has
 * AVX-512F, VL, BW and DQ) or off. */
int gf_set_fast_path(int on)
{
#if defined(GF_HAVE_PIECES)
    gf_pieces_enabled = on && gf_isa == GF_ISA_AVX512 && gf_cpu_has_fast_path();
    return gf_pieces_enabled;
#else
    (void)on;
    return 0;
#endif
}

int gf_isa_supported(int level)
{
    switch (level) {
    case GF_ISA_BASELINE:
        return 1;
#if defined(GF_LEVELS)
    case GF_ISA_AVX2:
        __builtin_cpu_init();
#if defined(__clang__)
        return __builtin_cpu_supports("fma");
#else
        return __builtin_cpu_supports("x86-64-v3");
#endif
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
        return gf_cpu_has_fast_path();
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

int gf_get_fast_path_ranges(gf_fast_path_ranges *r)
{
#if defined(GF_HAVE_PIECES)
    r->float_tier_end = -gf_float_of_bits(GF_FLOAT_END);
    r->float_tier_grad_out_end = gf_float_of_bits(GF_FLOAT_G_END);
    r->pieces_low = -gf_float_of_bits(GF_PIECES_NEG_END);
    r->pieces_high = gf_float_of_bits(GF_PIECES_POS_END);
    return 1;
#else
    (void)r;
    return 0;
#endif
}

int gf_get_saturation(int i, int bits, float *low, float *high)
{
#if defined(GF_HAVE_PIECES)
#define GF_SATURATION_ROW(NAME, NIN, MODE, TABLES) \
    {GF_PIECES_LOW_f16_##NAME, GF_PIECES_LOW_f32_##NAME, GF_PIECES_HIGH_##NAME},
    static const uint32_t bounds[GF_FUNCTION_COUNT][3] = {GF_FUNCTIONS(GF_SATURATION_ROW)};
#undef GF_SATURATION_ROW
    if (i < 0 || i >= GF_FUNCTION_COUNT || (bits != 16 && bits != 32)) return 0;
    *low = -gf_float_of_bits(bounds[i][bits == 32]);
    *high = gf_float_of_bits(bounds[i][2]);
    return 1;
#else
    (void)i, (void)bits, (void)low, (void)high;
    return 0;
#endif
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

/* A loop over n elements of args[0..nargs-1], with NumPy's steps. */
typedef void gf_run(char **args, const ptrdiff_t *steps, ptrdiff_t n);

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

/* Copies elements [lo, hi) of n at src (step bytes apart) to dst + lo * size,
 * packed. */
static void gf_gather(char *dst, const char *src, ptrdiff_t step, ptrdiff_t size,
                      ptrdiff_t lo, ptrdiff_t hi)
{
    if (step == size) {
        memcpy(dst + lo * size, src + lo * size, (size_t)((hi - lo) * size));
        return;
    }
    for (ptrdiff_t i = lo; i < hi; i++) memcpy(dst + i * size, src + i * step, (size_t)size);
}

/* Runs `run` over the whole range, split into contiguous chunks across
 * threads when it is long enough, and leaves the caller's floating-point
 * exception flags as they were.  The last of the nargs arguments is the
 * output; each holds elements of `size` bytes. */
static void gf_dispatch(gf_run *run, int nargs, char **args, ptrdiff_t n, const ptrdiff_t *steps,
                        int weight, ptrdiff_t size)
{
    gf_fp_flags flags = gf_save_fp_flags();
    int nt = gf_threads_for(n, weight);
#if defined(GF_HAVE_PIECES)
    int stream = n >= gf_stream_threshold;  /* the whole call's size decides */
#define GF_SET_STREAM() (gf_stream_outputs = stream)
#else
#define GF_SET_STREAM() ((void)0)
#endif
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
        GF_SET_STREAM();
        run(args, steps, n);
    } else if (nt == 1) {
        GF_SET_STREAM();
        for (int i = 0; i < nin; i++)
            if (gather[i]) gf_gather(copies[i], args[i], steps[i], size, 0, n);
        run(run_args, run_steps, n);
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
        {
            GF_SET_STREAM();
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
            if (hi > lo) run(chunk_args, run_steps, hi - lo);
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

/* ---- loop generators -------------------------------------------------- */

/* The float32 and float16 loops' AVX-512 fast path (gf_pieces_avx512.h).
 * MODE: what each function's factor multiplies (x, nothing, or grad_out);
 * TABLES: whose factor it is (the backward kernels use their derivative's);
 * both from the function list.  float64 keeps the general kernels. */
#define GF_CAT(a, b) GF_CAT_(a, b)
#define GF_CAT_(a, b) a##b
/* NAME_SFX_pieces: the fast path for storage type SFX, driven by
 * gf_float_pieces_f32 (float32) or gf_pieces_f16, with the general contiguous
 * loop for the gaps.  The
 * GF_USE_ macros take NAME_SFX and return from the caller when it ran. */
#if defined(GF_HAVE_PIECES)
/* float32 goes through the float32 tier first (gf_float_pieces_f32), with
 * NAME_f32_rest (the double path) for what it leaves; float16 goes straight
 * to the double path, whose rounding to odd keeps it correctly rounded. */
#define GF_PIECES_REST(NAME, TABLE, MODE, UNARY, BINARY)                                      \
    GF_AVX512 __attribute__((noinline)) static void NAME##_f32_rest(const float *g, const float *x, \
                                                                   float *y, ptrdiff_t n)    \
    {                                                                                        \
        static const double table[GF_PIECES_ROWS][16] = GF_CAT(GF_PIECES_, TABLE);           \
        gf_pieces_f32(g, 1, x, y, n, table, MODE, GF_PIECES_LOW_f32_##NAME, GF_PIECES_HIGH_##NAME, UNARY, BINARY); \
    }
#define GF_PIECES_UNARY_f32(NAME, MODE, TABLES)                                              \
    GF_PIECES_REST(NAME, TABLES, MODE, NAME##_f32_contig, NULL)                              \
    GF_AVX512 static void NAME##_f32_pieces(const float *in, float *out, ptrdiff_t n)        \
    {                                                                                        \
        static const float table[GF_FLOAT_PIECES_ROWS][32] = GF_CAT(GF_FLOAT_PIECES_, TABLES); \
        gf_float_pieces_f32(NULL, 0, in, out, n, table, MODE,                                \
                            GF_PIECES_LOW_f32_##NAME, GF_PIECES_HIGH_##NAME, NAME##_f32_rest); \
    }
#define GF_PIECES_BINARY_f32(NAME, MODE, TABLES)                                             \
    GF_PIECES_REST(NAME, TABLES, MODE, NULL, NAME##_f32_contig)                              \
    GF_AVX512 static void NAME##_f32_pieces(const float *g, ptrdiff_t g_step, const float *x, float *out, \
                                            ptrdiff_t n)                                     \
    {                                                                                        \
        static const float table[GF_FLOAT_PIECES_ROWS][32] = GF_CAT(GF_FLOAT_PIECES_, TABLES); \
        gf_float_pieces_f32(g, g_step, x, out, n, table, MODE, GF_PIECES_LOW_f32_##NAME,      \
                            GF_PIECES_HIGH_##NAME, NAME##_f32_rest);                 \
    }
#define GF_PIECES_UNARY_f16(NAME, MODE, TABLES)                                              \
    GF_AVX512 static void NAME##_f16_pieces(const gf_f16 *in, gf_f16 *out, ptrdiff_t n)      \
    {                                                                                        \
        static const double table[GF_PIECES_ROWS][16] = GF_CAT(GF_PIECES_, TABLES);          \
        gf_pieces_f16(NULL, 0, in, out, n, table, MODE, GF_PIECES_LOW_f16_##NAME,             \
                      GF_PIECES_HIGH_##NAME, NAME##_f16_contig, NULL);                       \
    }
#define GF_PIECES_BINARY_f16(NAME, MODE, TABLES)                                             \
    GF_AVX512 static void NAME##_f16_pieces(const gf_f16 *g, ptrdiff_t g_step, const gf_f16 *x, \
                                            gf_f16 *out, ptrdiff_t n)                        \
    {                                                                                        \
        static const double table[GF_PIECES_ROWS][16] = GF_CAT(GF_PIECES_, TABLES);          \
        gf_pieces_f16(g, g_step, x, out, n, table, MODE, GF_PIECES_LOW_f16_##NAME,            \
                      GF_PIECES_HIGH_##NAME, NULL, NAME##_f16_contig);                       \
    }
#define GF_USE_PIECES_UNARY(NAME_SFX, in, out, n) \
    if (gf_pieces_enabled) { NAME_SFX##_pieces(in, out, n); return; }
#define GF_USE_PIECES_BINARY(NAME_SFX, a, a_step, b, out, n) \
    if (gf_pieces_enabled) { NAME_SFX##_pieces(a, a_step, b, out, n); return; }
#define GF_USE_PIECES_UNARY_f16 GF_USE_PIECES_UNARY
#define GF_USE_PIECES_UNARY_f32 GF_USE_PIECES_UNARY
#define GF_USE_PIECES_BINARY_f16 GF_USE_PIECES_BINARY
#define GF_USE_PIECES_BINARY_f32 GF_USE_PIECES_BINARY
#else
#define GF_PIECES_UNARY_f16(NAME, MODE, TABLES)
#define GF_PIECES_UNARY_f32(NAME, MODE, TABLES)
#define GF_PIECES_BINARY_f16(NAME, MODE, TABLES)
#define GF_PIECES_BINARY_f32(NAME, MODE, TABLES)
#define GF_USE_PIECES_UNARY_f16(NAME_SFX, in, out, n)
#define GF_USE_PIECES_UNARY_f32(NAME_SFX, in, out, n)
#define GF_USE_PIECES_BINARY_f16(NAME_SFX, a, a_step, b, out, n)
#define GF_USE_PIECES_BINARY_f32(NAME_SFX, a, a_step, b, out, n)
#endif
#define GF_PIECES_UNARY_f64(NAME, MODE, TABLES)
#define GF_PIECES_BINARY_f64(NAME, MODE, TABLES)
#define GF_USE_PIECES_UNARY_f64(NAME_SFX, in, out, n)
#define GF_USE_PIECES_BINARY_f64(NAME_SFX, a, a_step, b, out, n)

/* Strided data goes through the contiguous (vectorized) loop in blocks of this
 * many elements, copied in and out: the same code computes every layout. */
#define GF_BLOCK 256

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
#define GF_UNARY_ELEMENT(NAME, PREC, SFX, v) \
    gf_unary_nan_through(GF_LOAD_##SFX(v), NAME##_##PREC(GF_LOAD_##SFX(v)))
#define GF_BINARY_ELEMENT(NAME, PREC, SFX, g, x) \
    gf_binary_nan_through(GF_LOAD_##SFX(g), GF_LOAD_##SFX(x), NAME##_##PREC(GF_LOAD_##SFX(g), GF_LOAD_##SFX(x)))

/* NAME is the function (its scalar definitions are NAME_f32 and NAME_f64),
 * SFX the storage type, PREC the kernel precision (f32 kernels serve f16 too),
 * WEIGHT its cost relative to the cheapest kernel (for the thread split). */
#define GF_UNARY(NAME, MODE, TABLES, SFX, PREC, WEIGHT)                                                 \
    GF_LEVELED(NAME##_##SFX##_contig,                                                        \
               (const gf_##SFX *restrict in, gf_##SFX *restrict out, ptrdiff_t n), (in, out, n), \
    {                                                                                        \
        for (ptrdiff_t i = 0; i < n; i++) out[i] = GF_STORE_##SFX(GF_UNARY_ELEMENT(NAME, PREC, SFX, in[i])); \
    })                                                                                       \
    GF_LEVELED(NAME##_##SFX##_inplace, (gf_##SFX *io, ptrdiff_t n), (io, n),                 \
    {                                                                                        \
        for (ptrdiff_t i = 0; i < n; i++) io[i] = GF_STORE_##SFX(GF_UNARY_ELEMENT(NAME, PREC, SFX, io[i])); \
    })                                                                                       \
    GF_PIECES_UNARY_##SFX(NAME, MODE, TABLES)                                                \
    /* contiguous, in place or not */                                                        \
    static void NAME##_##SFX##_dense(const gf_##SFX *in, gf_##SFX *out, ptrdiff_t n)         \
    {                                                                                        \
        GF_USE_PIECES_UNARY_##SFX(NAME##_##SFX, in, out, n)                                          \
        if (in == out) NAME##_##SFX##_inplace(out, n);                                       \
        else NAME##_##SFX##_contig(in, out, n);                                              \
    }                                                                                        \
    static void NAME##_##SFX##_run(char **args, const ptrdiff_t *steps, ptrdiff_t n)         \
    {                                                                                        \
        const char *in = args[0];                                                            \
        char *out = args[1];                                                                 \
        const ptrdiff_t is = steps[0], os = steps[1], size = sizeof(gf_##SFX);               \
        if (is == size && os == size) {                                                      \
            NAME##_##SFX##_dense((const gf_##SFX *)in, (gf_##SFX *)out, n);                  \
            return;                                                                          \
        }                                                                                    \
        /* strided: gathered into blocks for the vectorized loop, then scattered */          \
        gf_##SFX xb[GF_BLOCK], yb[GF_BLOCK];                                                 \
        for (ptrdiff_t i = 0; i < n; i += GF_BLOCK) {                                        \
            ptrdiff_t m = n - i < GF_BLOCK ? n - i : GF_BLOCK;                               \
            for (ptrdiff_t k = 0; k < m; k++) memcpy(&xb[k], in + (i + k) * is, size);       \
            NAME##_##SFX##_dense(xb, yb, m);                                                 \
            for (ptrdiff_t k = 0; k < m; k++) memcpy(out + (i + k) * os, &yb[k], size);      \
        }                                                                                    \
    }                                                                                        \
    void gf_##NAME##_##SFX(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data) \
    {                                                                                        \
        (void)data;                                                                          \
        gf_dispatch(NAME##_##SFX##_run, 2, args, dimensions[0], steps, WEIGHT, sizeof(gf_##SFX)); \
    }

#define GF_BINARY(NAME, MODE, TABLES, SFX, PREC, WEIGHT)                                                 \
    GF_LEVELED(NAME##_##SFX##_contig,                                                        \
               (const gf_##SFX *a, const gf_##SFX *b, gf_##SFX *out, ptrdiff_t n), (a, b, out, n), \
    {                                                                                        \
        for (ptrdiff_t i = 0; i < n; i++)                                                    \
            out[i] = GF_STORE_##SFX(GF_BINARY_ELEMENT(NAME, PREC, SFX, a[i], b[i]));         \
    })                                                                                       \
    /* a scalar grad_out broadcast over x: vectorized too (its nan test hoisted,             \
     * since a loop-invariant select defeats the vectorizer) */                             \
    GF_LEVELED(NAME##_##SFX##_scalar_a,                                                      \
               (gf_##SFX a, const gf_##SFX *b, gf_##SFX *out, ptrdiff_t n), (a, b, out, n),  \
    {                                                                                        \
        if (GF_LOAD_##SFX(a) != GF_LOAD_##SFX(a)) {                                          \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = a;                                    \
            return;                                                                          \
        }                                                                                    \
        for (ptrdiff_t i = 0; i < n; i++)                                                    \
            out[i] = GF_STORE_##SFX(gf_unary_nan_through(GF_LOAD_##SFX(b[i]),                \
                NAME##_##PREC(GF_LOAD_##SFX(a), GF_LOAD_##SFX(b[i]))));                      \
    })                                                                                       \
    GF_PIECES_BINARY_##SFX(NAME, MODE, TABLES)                                               \
    static void NAME##_##SFX##_dense(const gf_##SFX *a, const gf_##SFX *b, gf_##SFX *out,    \
                                     ptrdiff_t n)                                            \
    {                                                                                        \
        GF_USE_PIECES_BINARY_##SFX(NAME##_##SFX, a, 1, b, out, n)                                    \
        NAME##_##SFX##_contig(a, b, out, n);                                                 \
    }                                                                                        \
    static void NAME##_##SFX##_run(char **args, const ptrdiff_t *steps, ptrdiff_t n)         \
    {                                                                                        \
        const char *a = args[0], *b = args[1];                                               \
        char *out = args[2];                                                                 \
        const ptrdiff_t as = steps[0], bs = steps[1], os = steps[2], size = sizeof(gf_##SFX);\
        if (as == size && bs == size && os == size) {                                        \
            NAME##_##SFX##_dense((const gf_##SFX *)a, (const gf_##SFX *)b, (gf_##SFX *)out, n); \
            return;                                                                          \
        }                                                                                    \
        if (as == 0 && bs == size && os == size) {                                           \
            gf_##SFX va;                                                                     \
            memcpy(&va, a, sizeof va);                                                       \
            GF_USE_PIECES_BINARY_##SFX(NAME##_##SFX, &va, 0, (const gf_##SFX *)b, (gf_##SFX *)out, n) \
            NAME##_##SFX##_scalar_a(va, (const gf_##SFX *)b, (gf_##SFX *)out, n);            \
            return;                                                                          \
        }                                                                                    \
        gf_##SFX ab[GF_BLOCK], bb[GF_BLOCK], yb[GF_BLOCK];                                   \
        for (ptrdiff_t i = 0; i < n; i += GF_BLOCK) {                                        \
            ptrdiff_t m = n - i < GF_BLOCK ? n - i : GF_BLOCK;                               \
            for (ptrdiff_t k = 0; k < m; k++) {                                              \
                memcpy(&ab[k], a + (i + k) * as, size);                                      \
                memcpy(&bb[k], b + (i + k) * bs, size);                                      \
            }                                                                                \
            NAME##_##SFX##_dense(ab, bb, yb, m);                                             \
            for (ptrdiff_t k = 0; k < m; k++) memcpy(out + (i + k) * os, &yb[k], size);      \
        }                                                                                    \
    }                                                                                        \
    void gf_##NAME##_##SFX(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data) \
    {                                                                                        \
        (void)data;                                                                          \
        gf_dispatch(NAME##_##SFX##_run, 3, args, dimensions[0], steps, WEIGHT, sizeof(gf_##SFX)); \
    }

/* Costs relative to the float32 kernel (for the thread split): float16 adds
 * its conversions, float64 does double-double work in half the lanes. */
#define GF_ALL_DTYPES(GEN, NAME, MODE, TABLES) \
    GEN(NAME, MODE, TABLES, f16, f32, 4)       \
    GEN(NAME, MODE, TABLES, f32, f32, 1)       \
    GEN(NAME, MODE, TABLES, f64, f64, 4)

/* every function of the list: GF_UNARY or GF_BINARY by its number of inputs */
#define GF_LOOPS_1 GF_UNARY
#define GF_LOOPS_2 GF_BINARY
#define GF_INSTANTIATE(NAME, NIN, MODE, TABLES) GF_ALL_DTYPES(GF_LOOPS_##NIN, NAME, MODE, TABLES)
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
