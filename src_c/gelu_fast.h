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
#define GF_DECLARE_LOOPS(NAME, ...) \
    gf_loop gf_##NAME##_f16, gf_##NAME##_f32, gf_##NAME##_f64, gf_##NAME##_bf16;
GF_FUNCTIONS(GF_DECLARE_LOOPS)
GF_FUSED(GF_DECLARE_LOOPS)
#undef GF_DECLARE_LOOPS

/* Ufunc i (0 <= i < GF_FUNCTION_COUNT + GF_FUSED_COUNT: the functions of the
 * list, then the fused ones): its name, and its loops for float16, float32,
 * float64 and bfloat16 (its elements the upper halves of float32's), in the
 * order NumPy registers them; NULL for another i. */
const char *gf_function_name(int i);
gf_loop *const *gf_function_loops(int i);

/* `loop` over `rows` rows of `cols` elements, the rows split across threads:
 * row r of argument k (inputs, then outputs) starts at args[k] + r *
 * row_steps[k], its elements steps[k] bytes apart.  No two arguments may
 * overlap, except an output that is an input itself. */
void gf_run_rows(gf_loop *loop, int nargs, char **args, ptrdiff_t rows, ptrdiff_t cols,
                 const ptrdiff_t *row_steps, const ptrdiff_t *steps);

/* n >= 1 fixes the thread count; n == 0 returns to the OpenMP default, read at
 * each call (OMP_NUM_THREADS, threadpoolctl). */
void gf_set_num_threads(int n);
int gf_get_num_threads(void);
int gf_openmp_enabled(void);
/* Instruction-set levels: the loops compiled for each, and the level's vector
 * tiers (gelu_fast/_spec.py, TIERS).  gf_set_isa uses `level` from then on (returns 0, and
 * changes nothing, where this build or CPU cannot run it); the module sets the
 * best at import, or the one GELU_FAST_ISA names.  Not for a time when a loop
 * runs. */
enum { GF_ISA_BASELINE, GF_ISA_AVX2, GF_ISA_AVX512 };
int gf_isa_supported(int level);
int gf_set_isa(int level);
int gf_get_isa(void);
/* The level's loops in words, e.g. "x86-64-v3 (avx2, fma)". */
const char *gf_simd_level(void);
/* The vector tiers the loops run before the general kernels, for float32
 * (bits 32) or float16 (16) data: how many, and the name of the k-th (NULL
 * for another k or bits). */
int gf_tier_count(int bits);
const char *gf_tier_name(int bits, int k);

#endif
