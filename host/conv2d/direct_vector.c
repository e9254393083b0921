/* direct-vector (CPU devices): each work-item computes VEC output channels
 * as one SIMD vector for a block of BW output columns and RH rows
 * (kernels/conv2d.cl CONV2D_VECTOR). The weights are repacked per run into a
 * buffer of the plan ([g][channel block][ci][kh][kw][VEC], conv2d_pack_weights),
 * so runs of a plan are ordered (clconv_run_begin / _end). */
#include "../algo.h"

#include <stdio.h>
#include <stdlib.h>

/* plan->state: the packed weights and their repack kernel
 * (conv2d_pack_weights: [g][channel block][ci][kh][kw][VEC]), a
 * clconv_packer (clconv_packer_state_destroy). */

/* Output columns per work-item: a divisor of the row width between 8 and 16
 * when there is one (no ragged edge block), else 16 (or the whole row). */
static int vector_block_w(int64_t ow)
{
    if (ow <= 16)
        return (int)ow;
    for (int bw = 16; bw >= 8; bw--)
        if (ow % bw == 0)
            return bw;
    return 16;
}

static clconv_status vector_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int vec = clconv_direct_max_vec(ctx);
    while (vec > 4 && cout_g <= vec / 2)
        vec /= 2;
    clconv_tile t = {1, 4, 1, vector_block_w(out->w), 1, 1};
    clconv_tile checked = t; /* every override is validated, even those unused here */
    clconv_status st = clconv_direct_overrides(ctx, opts, &checked);
    if (st)
        return st;
    while (t.wg_h > 1 && t.wg_h / 2 >= out->h)
        t.wg_h /= 2;
    if (opts) {
        if (opts->block_w < 0 || opts->block_w > 16)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..16", opts->block_w);
        if (opts->wg_h < 0 || opts->wg_h > 64)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.wg_h = %d, expected 0 (default) or 1..64", opts->wg_h);
        if (opts->block_w)
            t.bw = opts->block_w;
        if (opts->wg_h)
            t.wg_h = opts->wg_h;
    }
    if ((size_t)t.wg_h > ctx->max_wg_size)
        t.wg_h = (int)ctx->max_wg_size;
    /* Rows per work-item: keep about 16 accumulators (RH x BW) per item. */
    int rh = t.bw >= 16 ? 1 : 16 / t.bw;
    if (rh > 4)
        rh = 4;
    while (rh > 1 && rh / 2 >= out->h)
        rh /= 2;
    char extra[48];
    snprintf(extra, sizeof extra, "-DVEC=%d -DRH=%d", vec, rh);
    if ((st = clconv_direct_build(plan, &t, "conv2d_vector", extra)))
        return st;
    clconv_packer *pk = calloc(1, sizeof *pk);
    if (!pk)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = pk;
    int64_t ocbs = (cout_g + vec - 1) / vec;
    size_t packed = (size_t)(p->groups * ocbs * cin_g * p->kernel_h * p->kernel_w) * (size_t)vec;
    if (packed > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-vector: packed weights of %zu floats exceed the kernels' "
                           "32-bit indexing", packed);
    /* PACK_J in kernels/conv2d.cl: weights of a row one pack work-item moves */
    const size_t pack_global[2] = {(size_t)((cin_g * p->kernel_h * p->kernel_w + 15) / 16),
                                   (size_t)(p->groups * ocbs)};
    const cl_int pack_args[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups};
    if ((st = clconv_packer_init(plan, pk, "conv2d", "conv2d_pack_weights", packed, 2,
                                 pack_global, pack_args, 3)))
        return st;

    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_VECTOR;
    plan->local_size[0] = 1;
    plan->local_size[1] = (size_t)t.wg_h;
    plan->local_size[2] = 1;
    plan->global_size[0] = (size_t)((out->w + t.bw - 1) / t.bw);
    size_t row_items = (size_t)((out->h + rh - 1) / rh);
    plan->global_size[1] = (row_items + (size_t)t.wg_h - 1) / (size_t)t.wg_h * (size_t)t.wg_h;
    plan->global_size[2] = (size_t)(in->n * p->groups * ocbs);
    return clconv_direct_set_args(plan, in->h, in->w, -1);
}

static clconv_status vector_run(clconv_plan *plan, const clconv_run_args *a)
{
    return clconv_packed_run(plan, plan->state, a);
}

static clconv_status vector_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *done)
{
    return clconv_packed_prepare(plan, plan->state, w, num_wait, wait_list, done);
}

const clconv_algo clconv_conv2d_direct_vector = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_VECTOR, .f16 = true, .plan = vector_plan,
    .run = vector_run, .destroy = clconv_packer_state_destroy, .prepare = vector_prepare};
