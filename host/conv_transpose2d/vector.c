/* transposed-vector (CPU devices): per stride phase, each work-item computes
 * 4, 8 or 16 output channels as one SIMD vector for a block of up to 16
 * outputs of the phase (kernels/conv_transpose2d.cl, CT_VECTOR). The weights
 * are repacked per run into a buffer of the plan, so runs are ordered
 * (clconv_run_begin / _end). */
#include "ct.h"

#include <stdio.h>

/* Phase columns per work-item: a divisor of the phase width between 8 and 16
 * when there is one (no ragged edge block), else 16 (or the whole width). */
static int vector_block_w(int64_t phase_w)
{
    if (phase_w <= 16)
        return (int)phase_w;
    for (int bw = 16; bw >= 8; bw--)
        if (phase_w % bw == 0)
            return bw;
    return 16;
}


/* The vector variant (kernels/conv_transpose2d.cl, CT_VECTOR): tile choice,
 * the packed-weight buffer and its repack kernel, launch sizes, arguments. */
static clconv_status ct_plan_vector(clconv_plan *plan, ct_data *d,
                                    const clconv_conv_transpose2d_params *p,
                                    const clconv_shape *in, const clconv_shape *out,
                                    const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    int64_t phase_h = (out->h + p->stride_h - 1) / p->stride_h;
    /* Every gather override is validated the same way, even those unused here
     * (wg_w: one work-item per column block). */
    clconv_status st = clconv_ct_tile(ctx, opts, d, phase_w, phase_h, cout_g);
    if (st)
        return st;
    d->vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (d->vec > 4 && cout_g <= d->vec / 2)
        d->vec /= 2;
    d->bw = vector_block_w(phase_w);
    d->wg_w = 1;
    d->wg_h = 4;
    if (opts) {
        if (opts->block_oc != 0 && opts->block_oc != 4 && opts->block_oc != 8 &&
            opts->block_oc != 16)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_oc = %d, expected 0 (default), 4, 8 or 16 for "
                               "transposed-vector (channels per SIMD vector)", opts->block_oc);
        if (opts->block_oc)
            d->vec = opts->block_oc;
        if (opts->block_w)
            d->bw = opts->block_w;
        if (opts->wg_h)
            d->wg_h = opts->wg_h;
    }
    int64_t ocbs = (cout_g + d->vec - 1) / d->vec;
    /* Channel blocks per work-item (NB, kernels/conv_transpose2d.cl): 2 blocks
     * x 4 x 2 outputs where a group has 2 or more blocks, each broadcast
     * input feeding 2 FMAs; else 1 block x about 16 outputs (RH x BW).
     * Measured on DCGAN g2 - g4 (batch 16) over 1 x 16, 1 x 4 x 4, 2 x 8 x 1,
     * 3 x 8 x 1, 3 x 4 x 2, 2 x 4 x 3 and 4 x 4 x 1: 2 x 4 x 2 and 2 x 4 x 1
     * were fastest on all three (1.3 - 2x 1 x 16); 24 accumulators no
     * faster than 8 or 16 (the edge blocks' bounds tests and the four taps
     * of a phase, not the FMAs, bound these layers). */
    int per_item = 16;
    if (ocbs >= 2) {
        per_item = 8;
        if (!opts || !opts->block_w) /* 4 phase columns, 3 where that divides the phase */
            d->bw = phase_w < 4 ? (int)phase_w : phase_w % 4 && phase_w % 3 == 0 ? 3 : 4;
    }
    /* Phase rows per work-item: RH x BW about per_item, at most 4 rows. */
    d->rh = d->bw >= per_item ? 1 : per_item / d->bw;
    if (d->rh > 4)
        d->rh = 4;
    d->nb = ocbs >= 2 && d->rh * d->bw <= 12 ? 2 : 1;
    size_t row_items = (size_t)((phase_h + d->rh - 1) / d->rh);
    if (!opts || !opts->wg_h)
        while (d->wg_h > 1 && (size_t)d->wg_h / 2 >= row_items)
            d->wg_h /= 2;
    int wg[3] = {1, d->wg_h, 1};
    if ((st = clconv_fit_work_group(ctx, 0, wg, (const int[3]){1, 0, 2},
                                    opts && opts->wg_h ? "options.wg_h" : NULL)))
        return st;
    d->wg_h = wg[1];
    ocbs = (ocbs + d->nb - 1) / d->nb * d->nb; /* packed: a multiple of NB */
    size_t packed = 0;
    if (!clconv_mul_size((size_t)(p->groups * ocbs * cin_g), (size_t)(p->kernel_h * p->kernel_w),
                         &packed) ||
        !clconv_mul_size(packed, (size_t)d->vec, &packed) || packed > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "transposed-vector: packed weights (%lld channel blocks of %d) exceed "
                           "the kernels' 32-bit indexing; use transposed-gather",
                           (long long)(p->groups * ocbs), d->vec);
    double z = (double)in->n * (double)p->groups * (double)(ocbs / d->nb) * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    char extra[112];
    snprintf(extra, sizeof extra, "-DCT_VECTOR -DVEC=%d -DNB=%d -DRH=%d -DSTEP_H=%lld -DSTEP_W=%lld",
             d->vec, d->nb, d->rh, (long long)(p->stride_h / clconv_gcd(p->stride_h, p->dilation_h)),
             (long long)(p->stride_w / clconv_gcd(p->stride_w, p->dilation_w)));
    /* The gather-only constants are fixed so they never split the program cache. */
    if ((st = clconv_ct_build(plan, p, "conv_transpose2d_vector", 1, 1, d->bw, 1, extra)))
        return st;
    size_t limit;
    if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    while ((size_t)d->wg_h > limit && d->wg_h > 1)
        d->wg_h /= 2;
    const size_t pack_global[2] = {(size_t)(p->groups * ocbs * cin_g), 1};
    const cl_int pack_args[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups};
    if ((st = clconv_packer_init(plan, &d->packer, "conv_transpose2d", "conv_transpose2d_pack",
                                 packed, 1, pack_global, pack_args, 3)))
        return st;
    plan->work_dim = 3;
    plan->local_size[0] = 1;
    plan->local_size[1] = (size_t)d->wg_h;
    plan->local_size[2] = 1;
    plan->global_size[0] = (size_t)((phase_w + d->bw - 1) / d->bw);
    plan->global_size[1] = clconv_round_up(row_items, (size_t)d->wg_h);
    plan->global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    return clconv_ct_set_lane_args(plan);
}

static clconv_status ct_run_vector(clconv_plan *plan, const clconv_run_args *a)
{
    ct_data *d = plan->state;
    return clconv_packed_run(plan, &d->packer, a);
}

static clconv_status vector_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *done)
{
    ct_data *d = plan->state;
    return clconv_packed_prepare(plan, &d->packer, w, num_wait, wait_list, done);
}

static clconv_status vector_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    ct_data *d;
    clconv_status st = clconv_ct_state(plan, &d);
    if (st)
        return st;
    return ct_plan_vector(plan, d, &plan->params.conv_transpose2d, &plan->info.input,
                          &plan->info.output, opts);
}

const clconv_algo clconv_ct_vector = {
    .op = CLCONV_OP_CONV_TRANSPOSE2D, .id = CLCONV_ALGO_TRANSPOSED_VECTOR, .f16 = true,
    .plan = vector_plan,
    .run = ct_run_vector, .destroy = clconv_ct_destroy, .prepare = vector_prepare};
