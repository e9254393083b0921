/* transposed-columns (CPU devices, few output channels per group): per
 * stride phase, 4, 8 or 16 neighbouring columns of the phase in SIMD lanes,
 * up to 16 channels per work-item; weights read as given
 * (kernels/conv_transpose2d.cl, CT_COLUMNS). */
#include "ct.h"

#include <stdio.h>

static clconv_status ct_plan_columns(clconv_plan *plan, ct_data *d,
                                     const clconv_conv_transpose2d_params *p,
                                     const clconv_shape *in, const clconv_shape *out,
                                     const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cout_g = p->out_channels / p->groups;
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    int64_t phase_h = (out->h + p->stride_h - 1) / p->stride_h;
    clconv_status st = clconv_ct_tile(ctx, opts, d, phase_w, phase_h, cout_g);
    if (st)
        return st;
    d->vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (d->vec > 4 && d->vec / 2 >= phase_w)
        d->vec /= 2;
    d->boc = cout_g < 4 ? (int)cout_g : 4;
    d->rh = 4;
    d->wg_w = 1;
    d->wg_h = 4;
    if (opts) {
        if (opts->block_w > 4)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..4 for "
                               "transposed-columns (vectors of columns per work-item)",
                               opts->block_w);
        if (opts->block_oc)
            d->boc = opts->block_oc;
    }
    /* Vectors per row: about 24 accumulators (BOC x RH x BV) per item (DCGAN
     * g5, 3 channels x 4 rows: 2 vectors of 16 columns ran 1.15x faster
     * than 1, and 1.25x on its 64x64 input). */
    d->bw = 24 / (d->boc * d->rh) > 1 ? 24 / (d->boc * d->rh) : 1;
    if (d->bw > 4)
        d->bw = 4;
    while (d->bw > 1 && (int64_t)(d->bw / 2) * d->vec >= phase_w)
        d->bw /= 2;
    if (opts && opts->block_w)
        d->bw = opts->block_w;
    size_t row_items = (size_t)((phase_h + d->rh - 1) / d->rh);
    if (opts && opts->wg_h)
        d->wg_h = opts->wg_h;
    else
        while (d->wg_h > 1 && (size_t)d->wg_h / 2 >= row_items)
            d->wg_h /= 2;
    int wg[3] = {1, d->wg_h, 1};
    if ((st = clconv_fit_work_group(ctx, 0, wg, (const int[3]){1, 0, 2},
                                    opts && opts->wg_h ? "options.wg_h" : NULL)))
        return st;
    d->wg_h = wg[1];
    int64_t ocbs = (cout_g + d->boc - 1) / d->boc;
    double z = (double)in->n * (double)p->groups * (double)ocbs * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    char extra[112];
    snprintf(extra, sizeof extra,
             "-DCT_VECTOR -DCT_COLUMNS -DVEC=%d -DRH=%d -DBV=%d -DSTEP_H=%lld -DSTEP_W=%lld",
             d->vec, d->rh, d->bw, (long long)(p->stride_h / clconv_gcd(p->stride_h, p->dilation_h)),
             (long long)(p->stride_w / clconv_gcd(p->stride_w, p->dilation_w)));
    if ((st = clconv_ct_build(plan, p, "conv_transpose2d_columns", 1, 1, 1, d->boc, extra)))
        return st;
    size_t limit;
    if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    while ((size_t)d->wg_h > limit && d->wg_h > 1)
        d->wg_h /= 2;
    plan->work_dim = 3;
    plan->local_size[0] = 1;
    plan->local_size[1] = (size_t)d->wg_h;
    plan->local_size[2] = 1;
    int64_t cols = (int64_t)d->vec * d->bw;
    plan->global_size[0] = (size_t)((phase_w + cols - 1) / cols);
    plan->global_size[1] = clconv_round_up(row_items, (size_t)d->wg_h);
    plan->global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    return clconv_ct_set_lane_args(plan);
}


static clconv_status columns_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    ct_data *d;
    clconv_status st = clconv_ct_state(plan, &d);
    if (st)
        return st;
    return ct_plan_columns(plan, d, &plan->params.conv_transpose2d, &plan->info.input,
                           &plan->info.output, opts);
}

const clconv_algo clconv_ct_columns = {
    .op = CLCONV_OP_CONV_TRANSPOSE2D, .id = CLCONV_ALGO_TRANSPOSED_COLUMNS, .f16 = true,
    .plan = columns_plan, .run = clconv_run_one_kernel, .destroy = clconv_ct_destroy};
