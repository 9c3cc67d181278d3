/* The tiers' per-function data, for the tier files (tier_<isa>.c): each
 * function's tables from gf_pieces.h (the backward functions evaluate their
 * derivative's), what its factor multiplies and where its results saturate,
 * from the list of the functions (gf_functions.h); and the float32 tier's
 * range.  Static: each tier file has its own copy.  The double pieces'
 * tables only where GF_TIER_F64_TABLES is defined. */
#ifndef GF_TIER_TABLES_H
#define GF_TIER_TABLES_H

#include <stdint.h>
#include "gelu_fast.h"
#include "gf_pieces.h"
#include "gf_tier.h"

#define GF_CAT(a, b) GF_CAT_(a, b)
#define GF_CAT_(a, b) a##b

/* as the bits of |x|: x <= -low_* gives a signed zero, x >= high gives x, 1
 * or grad_out */
#define GF_SATURATION_ROW(NAME, NIN, MODE, TABLES) \
    {MODE, GF_PIECES_LOW_f16_##NAME, GF_PIECES_LOW_f32_##NAME, GF_PIECES_HIGH_##NAME},
static const struct { int mode; uint32_t low_f16, low_f32, high; } tier_functions[GF_FUNCTION_COUNT] = {
    GF_FUNCTIONS(GF_SATURATION_ROW)};
#undef GF_SATURATION_ROW

/* the float32 tier (src_c/tier_avx512.c describes it): columns of 32 pieces */
#define GF_F32_TABLE_ROW(NAME, NIN, MODE, TABLES) GF_CAT(GF_FLOAT_PIECES_, TABLES),
static const float pieces_f32_tables[GF_FUNCTION_COUNT][GF_FLOAT_PIECES_ROWS][32] = {
    GF_FUNCTIONS(GF_F32_TABLE_ROW)};
#undef GF_F32_TABLE_ROW
/* its range: |x| < 3.4375 and, for backward, |grad_out| < 2^120 */
#define GF_FLOAT_END 0xc05c0000u   /* -3.4375f: the range as the bits of x' = -|x| */
#define GF_FLOAT_G_END 0x7b800000u /* 2^120 */

#if defined(GF_TIER_F64_TABLES)
#define GF_PIECES_ROWS (GF_PIECES_DEG + 1)
#define GF_F64_TABLE_ROW(NAME, NIN, MODE, TABLES) GF_CAT(GF_PIECES_, TABLES),
static const double pieces_f64_tables[GF_FUNCTION_COUNT][GF_PIECES_ROWS][16] = {GF_FUNCTIONS(GF_F64_TABLE_ROW)};
#undef GF_F64_TABLE_ROW
#endif

#endif
