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
    /* Phase rows per work-item: about 16 accumulators (RH x BW) per item. */
    d->rh = d->bw >= 16 ? 1 : 16 / d->bw;
    if (d->rh > 4)
        d->rh = 4;
    size_t row_items = (size_t)((phase_h + d->rh - 1) / d->rh);
    if (!opts || !opts->wg_h)
        while (d->wg_h > 1 && (size_t)d->wg_h / 2 >= row_items)
            d->wg_h /= 2;
    if ((size_t)d->wg_h > ctx->max_wg_size || (size_t)d->wg_h > ctx->max_item_sizes[1])
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "work-group 1x%d exceeds the device limits (%zu items, %zu rows)",
                           d->wg_h, ctx->max_wg_size, ctx->max_item_sizes[1]);
    int64_t ocbs = (cout_g + d->vec - 1) / d->vec;
    size_t packed = 0;
    if (!clconv_mul_size((size_t)(p->groups * ocbs * cin_g), (size_t)(p->kernel_h * p->kernel_w),
                         &packed) ||
        !clconv_mul_size(packed, (size_t)d->vec, &packed) || packed > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "transposed-vector: packed weights (%lld channel blocks of %d) exceed "
                           "the kernels' 32-bit indexing; use transposed-gather",
                           (long long)(p->groups * ocbs), d->vec);
    double z = (double)in->n * (double)p->groups * (double)ocbs * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    char extra[96];
    snprintf(extra, sizeof extra, "-DCT_VECTOR -DVEC=%d -DRH=%d -DSTEP_H=%lld -DSTEP_W=%lld",
             d->vec, d->rh, (long long)(p->stride_h / clconv_gcd(p->stride_h, p->dilation_h)),
             (long long)(p->stride_w / clconv_gcd(p->stride_w, p->dilation_w)));
    /* The gather-only constants are fixed so they never split the program cache. */
    if ((st = clconv_ct_build(plan, p, "conv_transpose2d_vector", 1, 1, d->bw, 1, extra)))
        return st;
    size_t limit;
    if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    while ((size_t)d->wg_h > limit && d->wg_h > 1)
        d->wg_h /= 2;
    if ((st = clconv_buffer_create(ctx, packed * sizeof(float), NULL, &d->packed,
                                   "packed weights")))
        return st;
    cl_program prog;
    if ((st = clconv_get_program(ctx, "conv_transpose2d", plan->info.build_options, &prog)))
        return st;
    cl_int err;
    d->pack = clCreateKernel(prog, "conv_transpose2d_pack", &err);
    if (err != CL_SUCCESS) {
        d->pack = NULL;
        return clconv_fail_cl(ctx, err, "clCreateKernel(conv_transpose2d_pack)");
    }
    d->pack_global = packed;
    cl_int pack_args[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups};
    if ((st = clconv_set_arg(ctx, d->pack, 1, sizeof(cl_mem), &d->packed,
                             "conv_transpose2d_pack")))
        return st;
    for (cl_uint i = 0; i < 3; i++)
        if ((st = clconv_set_arg(ctx, d->pack, 2 + i, sizeof(cl_int), &pack_args[i],
                                 "conv_transpose2d_pack")))
            return st;
    if ((st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &d->packed,
                             "conv_transpose2d_vector")))
        return st;
    plan->ordered = true; /* every run repacks into d->packed */
    plan->work_dim = 3;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = (size_t)d->wg_h;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = (size_t)((phase_w + d->bw - 1) / d->bw);
    plan->info.global_size[1] = clconv_round_up(row_items, (size_t)d->wg_h);
    plan->info.global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    plan->info.plan_device_bytes = packed * sizeof(float);
    cl_int args[] = {(cl_int)in->n, (cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups,
                     (cl_int)p->pad_h, (cl_int)p->pad_w, p->has_bias ? 1 : 0,
                     p->activation == CLCONV_ACTIVATION_RELU ? 1 : 0};
    return clconv_plan_set_ints(plan, plan->kernel, 4, args, sizeof args / sizeof args[0]);
}

/* Repacks the weights, then runs the vector kernel after it. Called with the
 * plan locked. The packed weights are the plan's: runs are ordered
 * (clconv_run_begin / _end). */
static clconv_status ct_run_vector(clconv_plan *plan, const clconv_run_args *a)
{
    clconv_context *ctx = plan->ctx;
    ct_data *d = plan->state;
    cl_mem x = a->x, w = a->w, b = a->b, y = a->y;
    cl_uint num_wait = a->num_wait;
    const cl_event *wait_list = a->wait_list;
    cl_event *done = a->done;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((w && (st = clconv_set_arg(ctx, d->pack, 0, sizeof(cl_mem), &w, "conv_transpose2d_pack"))) ||
        (st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &x,
                             "conv_transpose2d_vector")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), b ? &b : NULL,
                             "conv_transpose2d_vector")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &y,
                             "conv_transpose2d_vector"))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL, ran = NULL;
    if (!w) { /* the prepared weights are packed already */
        st = clconv_plan_enqueue(plan, waits.n, waits.n ? waits.list : NULL,
                                 done || clconv_run_wants_event(plan) ? &ran : NULL);
        clconv_run_waits_free(&waits);
        return clconv_run_end(plan, st, ran, done);
    }
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->pack, 1, NULL, &d->pack_global, NULL,
                                        waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv_transpose2d_pack)"),
                              NULL, done);
    /* The event orders the two on out-of-order queues too. */
    st = clconv_plan_enqueue(plan, 1, &packed,
                             done || clconv_run_wants_event(plan) ? &ran : NULL);
    clReleaseEvent(packed);
    return clconv_run_end(plan, st, ran, done);
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

/* Packs constant weights once (ordered like a run: the next run waits for
 * it on an out-of-order queue). */
static clconv_status pack_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                  const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    ct_data *d = plan->state;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((st = clconv_set_arg(ctx, d->pack, 0, sizeof(cl_mem), &w, "conv_transpose2d_pack"))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->pack, 1, NULL, &d->pack_global, NULL,
                                        waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv_transpose2d_pack)"),
                              NULL, done);
    return clconv_run_end(plan, CLCONV_SUCCESS, packed, done);
}

const clconv_algo clconv_ct_vector = {
    .op = CLCONV_OP_CONV_TRANSPOSE2D, .id = CLCONV_ALGO_TRANSPOSED_VECTOR, .plan = vector_plan,
    .run = ct_run_vector, .destroy = clconv_ct_destroy, .prepare = pack_prepare};
