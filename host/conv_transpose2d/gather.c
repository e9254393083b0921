/* transposed-gather: one kernel; each work-group computes one stride phase
 * (oh % stride_h, ow % stride_w) of a block of output rows, columns and
 * channels, so every work-item of it uses the same kernel taps; each output
 * sums exactly the inputs that reach it, in a fixed order (no atomics)
 * (kernels/conv_transpose2d.cl, conv_transpose2d_gather). */
#include "ct.h"

static clconv_status ct_plan_gather(clconv_plan *plan, ct_data *d,
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
    const char *name = "conv_transpose2d_gather";
    size_t limit = 0; /* the compiled kernel's, once known */
    for (int attempt = 0;; attempt++) {
        int wg[3] = {d->wg_w, d->wg_h, 1};
        if ((st = clconv_fit_work_group(ctx, limit, wg, (const int[3]){1, 0, 2},
                                        opts && (opts->wg_w || opts->wg_h) ? "options.wg_w/wg_h"
                                                                           : NULL)))
            return st;
        d->wg_w = wg[0], d->wg_h = wg[1];
        if ((st = clconv_ct_build(plan, p, name, d->wg_w, d->wg_h, d->bw, d->boc, NULL)))
            return st;
        size_t items = (size_t)d->wg_w * d->wg_h;
        if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
            return st;
        if (items <= limit)
            break;
        if (attempt > 8 || items == 1)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "%s: the compiled kernel allows %zu work-items per group, the "
                               "smallest tile needs %zu", name, limit, items);
    }
    int64_t tile_j = (int64_t)d->wg_w * d->bw;
    d->oc_blocks = (int)((cout_g + d->boc - 1) / d->boc);
    double z = (double)in->n * (double)p->groups * d->oc_blocks * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-groups along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    plan->work_dim = 3;
    plan->local_size[0] = (size_t)d->wg_w;
    plan->local_size[1] = (size_t)d->wg_h;
    plan->local_size[2] = 1;
    plan->global_size[0] = (size_t)((phase_w + tile_j - 1) / tile_j) * (size_t)d->wg_w;
    plan->global_size[1] = clconv_round_up((size_t)phase_h, (size_t)d->wg_h);
    plan->global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    cl_int args[] = {(cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w,
                     (cl_int)p->groups, (cl_int)p->pad_top, (cl_int)p->pad_left,
                     (cl_int)d->oc_blocks};
    return clconv_ct_set_args(plan, args, sizeof args / sizeof args[0]);
}

static clconv_status gather_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    ct_data *d;
    clconv_status st = clconv_ct_state(plan, &d);
    if (st)
        return st;
    return ct_plan_gather(plan, d, &plan->params.conv_transpose2d, &plan->info.input,
                          &plan->info.output, opts);
}

const clconv_algo clconv_ct_gather = {
    .op = CLCONV_OP_CONV_TRANSPOSE2D, .id = CLCONV_ALGO_TRANSPOSED_GATHER, .f16 = true,
    .plan = gather_plan,
    .run = clconv_run_one_kernel, .destroy = clconv_ct_destroy};
