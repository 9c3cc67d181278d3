/* Hooks for the tests and benchmarks (gelu_fast/_ufuncs.pyx wraps them as
 * private functions): switches and thresholds a user has no need to touch,
 * the float16 conversions on their own, and the fast path's ranges, so that
 * the tests take them from the code rather than restate them. */
#ifndef GF_TESTING_H
#define GF_TESTING_H

#include <stddef.h>
#include <stdint.h>

/* Turns the vector tiers of the level in use on (where the CPU runs them)
 * or off; returns whether any runs.  The module turns them on at import. */
int gf_set_fast_path(int on);
void gf_round_to_half(const double *in, uint16_t *out, ptrdiff_t n);
void gf_widen_half(const uint16_t *in, double *out, ptrdiff_t n);
/* Smallest element count the cheapest loop splits across threads (costlier
 * kernels split sooner); setting 0 restores the measured default. */
extern ptrdiff_t gf_parallel_threshold;
void gf_set_parallel_threshold(ptrdiff_t n);
/* Smallest call (elements, all threads together) whose float32 results the
 * tiers store with non-temporal stores, past the caches; setting 0 restores
 * the measured default. */
extern ptrdiff_t gf_stream_threshold;
void gf_set_stream_threshold(ptrdiff_t n);

/* The range of tier k of those that run for float32 (bits 32) or float16
 * (16) data, as gf_tier.h states it; returns 0 for another k or bits. */
int gf_get_tier_range(int bits, int k, float *x_low, float *x_high, float *grad_out_end);
/* Where function i's results saturate in the tiers, for float32 (bits 32)
 * or float16 (16) data: x <= *low gives a signed zero, x >= *high gives x, 1
 * or grad_out.  Returns 0 for another i or bits. */
int gf_get_saturation(int i, int bits, float *low, float *high);

#endif
