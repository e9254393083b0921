/* direct-depthwise-channels (CPU devices, one input channel per group):
 * output channels in SIMD lanes (kernels/conv2d.cl CONV2D_DEPTHWISE_CHANNELS).
 * For depthwise layers on small maps and with wide windows (MobileNet v3's
 * and EfficientNet's 5x5, ConvNeXt's 7x7), where direct-depthwise's column
 * lanes are mostly edge blocks gathered lane by lane. No copy and no plan
 * buffer: a work-item gathers each input row it needs once into a private
 * ring and reads the weights as given. */
#include "../algo.h"

#include <stdio.h>

/* The private ring (SPAN rows x XW columns) and the weights (KH * KW), in
 * vectors: beyond this the work-item's private memory outgrows a CPU's L1
 * cache (64 KiB at 16 lanes). */
#define DC_MAX_VECTORS 1024

static int dc_vectors(const clconv_conv2d_params *p, int64_t ncw)
{
    int64_t xw = (ncw - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    xw = (xw + 15) / 16 * 16; /* whole blocks of up to 16 columns */
    const int64_t span = (p->kernel_h - 1) * p->dilation_h + 1;
    const int64_t v = span * xw + p->kernel_h * p->kernel_w;
    return v > DC_MAX_VECTORS ? DC_MAX_VECTORS + 1 : (int)v;
}

static clconv_status dc_applies(const clconv_plan *plan)
{
    const clconv_conv2d_params *p = &plan->params.conv2d;
    clconv_status st = clconv_depthwise_check(plan, "direct-depthwise-channels");
    if (st)
        return st;
    if (dc_vectors(p, 1) > DC_MAX_VECTORS)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-depthwise-channels: a %lldx%lld window with dilation "
                           "%lldx%lld needs more than %d vectors of private rows",
                           (long long)p->kernel_h, (long long)p->kernel_w,
                           (long long)p->dilation_h, (long long)p->dilation_w, DC_MAX_VECTORS);
    return CLCONV_SUCCESS;
}

static clconv_status dc_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    clconv_tile checked = {1, 1, 1, 1, 1, 1};
    clconv_status st = clconv_direct_overrides(ctx, opts, &checked);
    if (st)
        return st;
    if (opts && opts->block_oc)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "options.block_oc = %d, expected 0 for direct-depthwise-channels "
                           "(its lanes are the channels)", opts->block_oc);
    int vec = clconv_direct_max_vec(ctx);
    while (vec > 4 && out->c * 2 <= vec)
        vec /= 2;
    /* Columns per work-item (NCW): up to 32, the row split evenly, fewer
     * where the window's private rows would not fit (each work-item gathers
     * the window's halo columns again); computed NPX at a time (block_w,
     * up to 8, in registers). */
    int64_t cblocks = (out->w + 31) / 32, ncw = (out->w + cblocks - 1) / cblocks;
    while (ncw > 1 && dc_vectors(p, ncw) > DC_MAX_VECTORS)
        ncw = (ncw + 1) / 2;
    int64_t chunks = (ncw + 7) / 8;
    int npx = (int)((ncw + chunks - 1) / chunks);
    int unused = 0;
    if ((st = clconv_lane_block_overrides(ctx, opts, "columns for direct-depthwise-channels",
                                          &npx, &unused)))
        return st;
    if (npx > ncw)
        npx = (int)ncw;
    ncw = (ncw + npx - 1) / npx * npx;
    while (ncw > npx && dc_vectors(p, ncw) > DC_MAX_VECTORS)
        ncw -= npx;
    /* Rows per work-item (options.wg_h): all of them, halved while the
     * layer has fewer than 64 work-items and a block keeps more rows than
     * its window's halo re-reads. */
    const int64_t items = ((out->w + ncw - 1) / ncw) * in->n * ((out->c + vec - 1) / vec);
    int64_t rb = out->h;
    if (opts && opts->wg_h)
        rb = opts->wg_h < out->h ? opts->wg_h : out->h;
    else
        while (rb > 2 * p->kernel_h && items * ((out->h + rb - 1) / rb) < 64)
            rb = (rb + 1) / 2;
    char extra[64];
    snprintf(extra, sizeof extra, "-DVEC=%d -DNCW=%lld -DNPX=%d -DRB=%lld", vec, (long long)ncw,
             npx, (long long)rb);
    clconv_tile t = {1, 1, 1, 1, 1, 1};
    if ((st = clconv_direct_build(plan, &t, "conv2d_depthwise_channels", extra)))
        return st;
    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS;
    plan->local_size[0] = plan->local_size[1] = plan->local_size[2] = 1;
    plan->global_size[0] = (size_t)((out->w + ncw - 1) / ncw);
    plan->global_size[1] = (size_t)((out->h + rb - 1) / rb);
    plan->global_size[2] = (size_t)(in->n * ((out->c + vec - 1) / vec));
    return clconv_direct_set_args(plan, in->h, in->w, in->n);
}

const clconv_algo clconv_conv2d_direct_depthwise_channels = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS, .f16 = true,
    .applies = dc_applies, .plan = dc_plan, .run = clconv_run_one_kernel};
