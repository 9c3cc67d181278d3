/* Public interface of the C side: NumPy-ufunc-compatible inner loops (same
 * signature as PyUFuncGenericFunction, with ptrdiff_t for npy_intp) and the
 * threading controls.  No Python headers. */
#ifndef GELU_FAST_H
#define GELU_FAST_H

#include <stddef.h>
#include <stdint.h>

typedef void gf_loop(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data);

/* One loop per function and storage type, for every function of the list
 * (gf_functions.h, written by the build from gelu_fast/_spec.py). */
#include "gf_functions.h"
#define GF_DECLARE_LOOPS(NAME, NIN, MODE, TABLES) \
    gf_loop gf_##NAME##_f16, gf_##NAME##_f32, gf_##NAME##_f64;
GF_FUNCTIONS(GF_DECLARE_LOOPS)
#undef GF_DECLARE_LOOPS

/* Function i of the list (0 <= i < GF_FUNCTION_COUNT): its name, and its
 * loops for float16, float32 and float64, in the order NumPy registers them. */
const char *gf_function_name(int i);
gf_loop *const *gf_function_loops(int i);

/* n >= 1 fixes the thread count; n == 0 returns to the OpenMP default, read at
 * each call (OMP_NUM_THREADS, threadpoolctl). */
void gf_set_num_threads(int n);
int gf_get_num_threads(void);
int gf_openmp_enabled(void);
const char *gf_simd_level(void);
/* Turns the AVX-512 float32 fast path on (where the CPU has it) or off;
 * returns whether it is on. */
int gf_set_fast_path(int on);
void gf_round_to_half(const double *in, uint16_t *out, ptrdiff_t n);
void gf_widen_half(const uint16_t *in, double *out, ptrdiff_t n);
/* Smallest element count the cheapest loop splits across threads (costlier
 * kernels split sooner); setting 0 restores the measured default. */
extern ptrdiff_t gf_parallel_threshold;
void gf_set_parallel_threshold(ptrdiff_t n);
/* Smallest call (elements, all threads together) whose float32 results the
 * AVX-512 fast path stores with non-temporal stores, past the caches; setting
 * 0 restores the measured default. */
extern ptrdiff_t gf_stream_threshold;
void gf_set_stream_threshold(ptrdiff_t n);

#endif
