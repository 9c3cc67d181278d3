/* Hooks for the tests and benchmarks (gelu_fast/_ufuncs.pyx wraps them as
 * private functions): switches and thresholds a user has no need to touch,
 * the float16 conversions on their own, and the fast path's ranges, so that
 * the tests take them from the code rather than restate them. */
#ifndef GF_TESTING_H
#define GF_TESTING_H

#include <stddef.h>
#include <stdint.h>

/* Turns the AVX-512 float32 fast path on (where the CPU has it) or off;
 * returns whether it is on.  The module turns it on at import. */
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

/* The fast path's ranges: the float32 tier takes float32 lanes with
 * |x| < float_tier_end and, for the backward functions, |grad_out| <
 * float_tier_grad_out_end; the double pieces take [pieces_low, pieces_high).
 * Returns 0 (and leaves *r) in a build without the fast path. */
typedef struct {
    float float_tier_end, float_tier_grad_out_end, pieces_low, pieces_high;
} gf_fast_path_ranges;
int gf_get_fast_path_ranges(gf_fast_path_ranges *r);
/* Where function i's results saturate on the fast path, for float32 (bits 32)
 * or float16 (16) data: x <= *low gives a signed zero, x >= *high gives x, 1
 * or grad_out.  Returns 0 without the fast path or for another i or bits. */
int gf_get_saturation(int i, int bits, float *low, float *high);

#endif
