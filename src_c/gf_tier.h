/* What the loop layer (gelu_loops.c) and the tiers (one file per instruction
 * set, tier_<isa>.c) share.  No intrinsics here.
 *
 * A tier is a vector evaluation of every function on part of its domain.  The
 * loop layer runs the tiers of a storage type in sequence, in the order of the
 * spec (gelu_fast/_spec.py, TIERS): the first tier takes a run of elements,
 * computes those it covers and leaves the others, packed, in its stage; the
 * next tier (at the end, the general kernel of gelu_kernels.h) computes the
 * lanes left there; the first tier then puts their results in place.  Which
 * tier computes an element depends on that element's value alone, never on
 * its neighbours, the layout or the thread split. */
#ifndef GF_TIER_H
#define GF_TIER_H

#include <stddef.h>
#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define GF_ALIGN64 __declspec(align(64))
#else
#define GF_ALIGN64 __attribute__((aligned(64)))
#endif

/* What a function's factor F(x) multiplies: x (forward), nothing (the
 * derivatives) or grad_out (backward); the MODE of gf_functions.h. */
enum { GF_FORWARD, GF_DERIVATIVE, GF_BACKWARD };
/* a tier's `modes`: those of the functions it takes, 1 << mode each */
#define GF_ALL_MODES ((1u << GF_FORWARD) | (1u << GF_DERIVATIVE) | (1u << GF_BACKWARD))

/* A run of float32 elements: out[i] = f(g[i * g_step], x[i]) for 0 <= i < n,
 * g only for backward functions (g_step 1, or 0 for one broadcast grad_out).
 * stream: store whole output lines with non-temporal stores (out is then
 * 64-byte aligned). */
typedef struct {
    const float *g;
    ptrdiff_t g_step;
    const float *x;
    float *out;
    ptrdiff_t n;
    int stream;
} gf_run_f32;

/* A tier's stage for float32 data: the lanes it left (x, g: packed in the
 * order met; y: their results, filled by the next tiers) and the blocks of 16
 * they came from, held with their other results until then, so that every
 * block is stored whole (a partial store to a streamed line reads the line
 * from memory first).  A tier takes at most GF_STAGE_TAKE elements between
 * two checks that the stage has room, so room for GF_STAGE_TAKE / 16 blocks
 * is kept. */
#define GF_STAGE_TAKE 2048
#define GF_STAGE_BLOCKS (2 * GF_STAGE_TAKE / 16)
#define GF_STAGE_LANES (16 * GF_STAGE_BLOCKS + 16)
typedef struct {
    ptrdiff_t count;                                  /* lanes left */
    ptrdiff_t blocks;                                 /* blocks held */
    int skip_outside;                                 /* the tier's own choice, kept between takes */
    GF_ALIGN64 float held[GF_STAGE_BLOCKS][16];       /* each block's results, but for its left lanes */
    ptrdiff_t at[GF_STAGE_BLOCKS];                    /* its offset in the run */
    uint16_t lanes[GF_STAGE_BLOCKS];                  /* its left lanes */
    uint16_t live[GF_STAGE_BLOCKS];                   /* and the lanes it stores */
    float x[GF_STAGE_LANES], g[GF_STAGE_LANES], y[GF_STAGE_LANES];
} gf_stage_f32;

/* A tier for float32 data.  take: from element `start` of the run, for
 * function i of the list, computes and stores what the tier covers and leaves
 * the rest in the stage, until the stage may not have room for another
 * GF_STAGE_TAKE elements or the run ends; returns where it stopped (start = 0
 * begins a run, with an empty stage).  give_back: the left lanes' results
 * (stage->y) into their blocks, stored at run->out, and the stage emptied;
 * in a streamed run, ends with a store fence.  The loop layer calls it after
 * every take of a streamed run, and of others where blocks are held. */
typedef struct {
    const char *name;
    int isa;                    /* the level it runs at (GF_ISA_*) */
    int (*supported)(void);     /* whether this CPU can run it; NULL: not in this build */
    ptrdiff_t (*take)(int i, const gf_run_f32 *run, ptrdiff_t start, gf_stage_f32 *stage);
    void (*give_back)(gf_stage_f32 *stage, const gf_run_f32 *run);
    /* the x it covers: x_low <= x < x_high, or |x| < x_high where x_low is
     * -x_high; for backward, where also |grad_out| < grad_out_end */
    float x_low, x_high, grad_out_end;
    unsigned modes;             /* the functions it takes (the others skip it) */
} gf_tier_f32;

/* float16 data: the same, without held blocks (the tier stores each block at
 * once, but for the lanes it leaves, whose results the loop layer stores at
 * their offsets, stage->at). */
typedef struct {
    const uint16_t *g;
    ptrdiff_t g_step;
    const uint16_t *x;
    uint16_t *out;
    ptrdiff_t n;
} gf_run_f16;

#define GF_STAGE16_LANES 1024
typedef struct {
    ptrdiff_t count;
    uint16_t x[GF_STAGE16_LANES], g[GF_STAGE16_LANES], y[GF_STAGE16_LANES];
    ptrdiff_t at[GF_STAGE16_LANES];
} gf_stage_f16;

typedef struct {
    const char *name;
    int isa;
    int (*supported)(void);
    ptrdiff_t (*take)(int i, const gf_run_f16 *run, ptrdiff_t start, gf_stage_f16 *stage);
    float x_low, x_high, grad_out_end;
    unsigned modes;
} gf_tier_f16;

#endif
