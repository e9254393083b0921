/* direct-batch (CPU devices): images in SIMD lanes (kernels/conv2d.cl
 * CONV2D_BATCH). For big batches of small maps with few channels (LeNet),
 * where the other CPU kernels' lanes (output channels, pixels of a row) are
 * mostly empty or dropped. Each run copies x into a plan buffer with VEC
 * images interleaved per pixel and the padding made real
 * (conv2d_batch_pack), so runs are ordered (clconv_run_begin / _end); a
 * work-item then owns BOC channels x NPX columns of one row for VEC images. */
#include "../algo.h"

#include <stdio.h>
#include <stdlib.h>

/* Image lanes: the widest vector (up to the device's) that the batch fills
 * at least half. */
static int batch_vec(const clconv_context *ctx, int64_t n)
{
    int v = clconv_direct_max_vec(ctx);
    while (v > 4 && n * 2 <= v)
        v /= 2;
    return v;
}

/* Channels x columns per work-item: at most 24 accumulators (AVX-512 has
 * 32 vector registers), the pair that computes the fewest dropped outputs,
 * ties to more channels (one weight broadcast feeds NPX FMAs). */
static void batch_block(int64_t cout_g, int64_t ow, int *boc, int *npx)
{
    int64_t best = -1;
    for (int c = cout_g < 8 ? (int)cout_g : 8; c >= 1; c--)
        for (int x = 24 / c < 8 ? 24 / c : 8; x >= 1; x--) {
            if (x > ow)
                continue;
            int64_t work = (cout_g + c - 1) / c * c * ((ow + x - 1) / x * x);
            /* loads per FMA ((c + x) / (c x)) count as much as dropped lanes */
            int64_t cost = work * (c * x + c + x) / (c * x);
            if (best < 0 || cost < best) {
                best = cost;
                *boc = c;
                *npx = x;
            }
        }
}

/* The copy's rows and columns: those the taps of the output reach. */
static void batch_extent(const clconv_plan *plan, int64_t *hp, int64_t *wp)
{
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *out = &plan->info.output;
    *hp = (out->h - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    *wp = (out->w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
}

static size_t batch_copy_floats(const clconv_plan *plan, int vec)
{
    const clconv_shape *in = &plan->info.input;
    int64_t hp, wp;
    batch_extent(plan, &hp, &wp);
    int64_t nb = (in->n + vec - 1) / vec;
    return (size_t)(nb * in->c * hp * wp * vec);
}

static clconv_status batch_applies(const clconv_plan *plan)
{
    size_t copy = batch_copy_floats(plan, batch_vec(plan->ctx, plan->info.input.n));
    if (copy > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-batch: the interleaved copy of x, %zu floats, exceeds the "
                           "kernels' 32-bit indexing", copy);
    return CLCONV_SUCCESS;
}

static clconv_status batch_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    int64_t cout_g = p->out_channels / p->groups;
    clconv_tile checked = {1, 1, 1, 1, 1, 1}; /* every override is validated */
    clconv_status st = clconv_direct_overrides(ctx, opts, &checked);
    if (st)
        return st;
    const int vec = batch_vec(ctx, in->n);
    int boc = 1, npx = 1;
    batch_block(cout_g, out->w, &boc, &npx);
    if ((st = clconv_lane_block_overrides(ctx, opts, "columns for direct-batch", &npx, &boc)))
        return st;
    char extra[32];
    snprintf(extra, sizeof extra, "-DVEC=%d -DNPX=%d", vec, npx);
    clconv_tile t = {1, 1, 1, 1, boc, 1};
    if ((st = clconv_direct_build(plan, &t, "conv2d_batch", extra)))
        return st;
    int64_t hp, wp;
    batch_extent(plan, &hp, &wp);
    const int64_t nb = (in->n + vec - 1) / vec;
    clconv_packer *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = d;
    const size_t global[2] = {(size_t)hp, (size_t)(nb * in->c)};
    const cl_int pargs[] = {(cl_int)in->n, (cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                            (cl_int)hp, (cl_int)wp, (cl_int)p->pad_top, (cl_int)p->pad_left};
    if ((st = clconv_copier_init(plan, d, "conv2d", "conv2d_batch_pack",
                                 batch_copy_floats(plan, vec), 2, global, pargs,
                                 sizeof pargs / sizeof pargs[0])))
        return st;
    const cl_int args[] = {(cl_int)in->n, (cl_int)in->c,      (cl_int)hp,    (cl_int)wp,
                           (cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups};
    const cl_uint nargs = (cl_uint)(sizeof args / sizeof args[0]);
    if ((st = clconv_plan_set_ints(plan, plan->kernel, 4, args, nargs)) ||
        (st = clconv_set_epilogue_args(plan, plan->kernel, 4 + nargs, plan->info.kernel_name)))
        return st;
    int64_t ocbs = (cout_g + boc - 1) / boc;
    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_BATCH;
    plan->global_size[0] = (size_t)((out->w + npx - 1) / npx);
    /* Work-groups of up to LOCAL_ITEMS items: PoCL's CPU devices schedule
     * work-groups, and one item of a small layer (LeNet's) is too little
     * work to pay for its own. */
    const int64_t local_items = 8;
    plan->local_size[0] = plan->global_size[0] <= (size_t)local_items ? plan->global_size[0] : 1;
    plan->local_size[1] = 1;
    for (int64_t r = local_items / (int64_t)plan->local_size[0]; r > 1; r--)
        if (out->h % r == 0) {
            plan->local_size[1] = (size_t)r;
            break;
        }
    plan->local_size[2] = 1;
    plan->global_size[1] = (size_t)out->h;
    plan->global_size[2] = (size_t)(nb * p->groups * ocbs);
    return CLCONV_SUCCESS;
}

static clconv_status batch_run(clconv_plan *plan, const clconv_run_args *a)
{
    return clconv_packed_run(plan, plan->state, a);
}

const clconv_algo clconv_conv2d_direct_batch = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_BATCH, .f16 = true,
    .applies = batch_applies, .plan = batch_plan, .run = batch_run, .destroy = clconv_packer_state_destroy};
