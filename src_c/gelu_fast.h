/* Public interface of the C side: NumPy-ufunc-compatible inner loops (same
 * signature as PyUFuncGenericFunction, with ptrdiff_t for npy_intp) and the
 * threading controls.  No Python headers. */
#ifndef GELU_FAST_H
#define GELU_FAST_H

#include <stddef.h>
#include <stdint.h>

typedef void gf_loop(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data);

#define GF_DECLARE_LOOPS(name) \
    gf_loop gf_##name##_f16, gf_##name##_f32, gf_##name##_f64;
GF_DECLARE_LOOPS(gelu)
GF_DECLARE_LOOPS(gelu_tanh)
GF_DECLARE_LOOPS(gelu_sigmoid)
GF_DECLARE_LOOPS(gelu_grad)
GF_DECLARE_LOOPS(gelu_tanh_grad)
GF_DECLARE_LOOPS(gelu_sigmoid_grad)
GF_DECLARE_LOOPS(gelu_backward)
GF_DECLARE_LOOPS(gelu_tanh_backward)
GF_DECLARE_LOOPS(gelu_sigmoid_backward)

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
