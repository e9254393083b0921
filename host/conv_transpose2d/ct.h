/* What the conv_transpose2d algorithms share (host/conv_transpose2d/):
 * their plan state, the gather-style tile and the kernel build. Not installed. */
#ifndef CLCONV_CT_H
#define CLCONV_CT_H

#include "../algo.h"

/* Operator data of a plan. */
typedef struct ct_data {
    int wg_w, wg_h, bw, boc;      /* gather tile */
    int oc_blocks;
    /* GEMM algorithm */
    size_t m, hw, k;              /* cols = [m, hw] = W_g^T [m, k] x X_g [k, hw] */
    int64_t chunk;                /* images per col2im launch (workspace holds their columns) */
    /* vector algorithm */
    int vec, rh;                  /* channel lanes, phase rows per work-item (bw: columns) */
    int nb;                       /* channel blocks per work-item */
    clconv_packer packer;         /* weights as [g][channel block][ci][kh][kw][VEC] */
} ct_data;

/* Largest workspace the GEMM algorithm asks for by itself. */
#define CT_WORKSPACE_CAP ((size_t)256 << 20)

/* Allocates the plan's ct_data as plan->state (common.c). */
clconv_status clconv_ct_state(clconv_plan *plan, ct_data **out);

/* Releases plan->state (every algorithm's destroy). */
void clconv_ct_destroy(clconv_plan *plan);

/* Sets the gather / vector / columns kernels' arguments from 4 on: the n
 * ints args, then the epilogue (bias flag, activation, its parameters). */
clconv_status clconv_ct_set_args(clconv_plan *plan, const cl_int *args, size_t n);

/* clconv_ct_set_args with the vector and columns kernels' ints: n, C, H, W,
 * OC, OH, OW, groups, pad_top, pad_left (the plan's shapes and params). */
clconv_status clconv_ct_set_lane_args(clconv_plan *plan);

/* The tile: defaults from the device class and the phase shape, then the
 * caller's overrides (wg_w, wg_h, block_w, block_oc; wg_oc and ci_chunk must
 * be 0 or 1). */
clconv_status clconv_ct_tile(clconv_context *ctx, const clconv_plan_options *o, ct_data *d,
                             int64_t phase_w, int64_t phase_h, int64_t cout_g);

/* Compiles kernels/conv_transpose2d.cl's kernel `name` with the geometry and
 * tile as -D constants into plan->kernel. extra: more -D options (the vector
 * variants'), or NULL. Bias and the activation are runtime arguments of every kernel. */
clconv_status clconv_ct_build(clconv_plan *plan, const clconv_conv_transpose2d_params *p,
                              const char *name, int wg_w, int wg_h, int bw, int boc,
                              const char *extra);

static inline size_t clconv_round_up(size_t a, size_t b)
{
    return (a + b - 1) / b * b;
}

static inline int64_t clconv_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

#endif
