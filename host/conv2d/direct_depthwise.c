/* direct-depthwise (CPU devices, one input channel per group): output
 * columns in SIMD lanes, VEC wide, RH rows per work-item, WG_OC planes per
 * work-group (kernels/conv2d.cl CONV2D_DEPTHWISE). Weights read as given. */
#include "../algo.h"

#include <stdio.h>

clconv_status clconv_depthwise_check(const clconv_plan *plan, const char *algo)
{
    const clconv_conv2d_params *p = &plan->params.conv2d;
    if (p->in_channels != p->groups)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%s: needs one input channel per group (groups = in_channels), got "
                           "groups = %lld, in_channels = %lld",
                           algo, (long long)p->groups, (long long)p->in_channels);
    return CLCONV_SUCCESS;
}

static clconv_status depthwise_applies(const clconv_plan *plan)
{
    return clconv_depthwise_check(plan, "direct-depthwise");
}

static clconv_status depthwise_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    clconv_tile checked = {1, 1, 1, 1, 1, 1};
    clconv_status st = clconv_direct_overrides(ctx, opts, &checked);
    if (st)
        return st;
    int vec = clconv_direct_max_vec(ctx);
    while (vec > 4 && out->w <= vec / 2)
        vec /= 2;
    /* rows per work-item (wg_h option) and channels per work-group (wg_oc).
     * 8 rows: on MobileNet's 3x3 layers 0.98 - 1.16x 4 rows by the best of 3
     * alternating rounds, 0.94 - 1.26x by their medians; its 7x7 dw9 1.04x
     * best, 1.17x median (one block of 8 rows instead of two of 4: half the
     * work-items, 9 input rows read instead of 12). */
    clconv_tile t = {1, opts && opts->wg_h ? opts->wg_h : 8, opts && opts->wg_oc ? opts->wg_oc : 8,
                  1, 1, 1};
    while (t.wg_h > 1 && t.wg_h / 2 >= out->h)
        t.wg_h /= 2;
    int64_t planes = in->n * p->out_channels;
    while (t.wg_oc > 1 && t.wg_oc / 2 >= planes)
        t.wg_oc /= 2;
    if ((size_t)t.wg_oc > ctx->max_wg_size)
        t.wg_oc = (int)ctx->max_wg_size;
    char extra[48];
    snprintf(extra, sizeof extra, "-DVEC=%d -DRH=%d", vec, t.wg_h);
    if ((st = clconv_direct_build(plan, &t, "conv2d_depthwise", extra)))
        return st;
    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE;
    plan->local_size[0] = 1;
    plan->local_size[1] = 1;
    plan->local_size[2] = (size_t)t.wg_oc;
    plan->global_size[0] = (size_t)((out->w + vec - 1) / vec);
    plan->global_size[1] = (size_t)((out->h + t.wg_h - 1) / t.wg_h);
    plan->global_size[2] = (size_t)((planes + t.wg_oc - 1) / t.wg_oc) * (size_t)t.wg_oc;
    return clconv_direct_set_args(plan, in->h, in->w, planes);
}

const clconv_algo clconv_conv2d_direct_depthwise = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_DEPTHWISE, .f16 = true, .applies = depthwise_applies, .plan = depthwise_plan,
    .run = clconv_run_one_kernel};
