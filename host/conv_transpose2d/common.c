/* The conv_transpose2d algorithms' shared state, tile and kernel build. */
#include "ct.h"

#include <stdio.h>
#include <stdlib.h>

clconv_status clconv_ct_state(clconv_plan *plan, ct_data **out)
{
    ct_data *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(plan->ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = d;
    *out = d;
    return CLCONV_SUCCESS;
}

void clconv_ct_destroy(clconv_plan *plan)
{
    ct_data *d = plan->state;
    if (d) {
        clconv_packer_release(&d->packer);
    }
    free(plan->state);
    plan->state = NULL;
}

clconv_status clconv_ct_tile(clconv_context *ctx, const clconv_plan_options *o, ct_data *d,
                             int64_t phase_w, int64_t phase_h, int64_t cout_g)
{
    bool cpu = clconv_context_is_cpu_family(ctx);
    d->wg_w = cpu ? 8 : 16;
    d->wg_h = cpu ? 1 : 4;
    d->bw = 2;
    d->boc = cpu ? 8 : 4;
    /* Shrink a tile that would be mostly idle, in coarse steps: every distinct
     * tile is another program to compile (and to cache). */
    if (phase_w <= d->wg_w)
        d->bw = 1;
    while (d->wg_w > 4 && d->wg_w / 2 >= phase_w)
        d->wg_w /= 2;
    while (d->wg_h > 1 && d->wg_h / 2 >= phase_h)
        d->wg_h /= 2;
    if (cout_g == 1)
        d->boc = 1; /* depthwise-like: a channel block would be all padding */
    else if (cout_g <= 4 && d->boc > 4)
        d->boc = 4;
    /* Wide outputs: reuse each weight over more columns; narrow ones with
     * many channels: reuse each input over more channels. */
    if (phase_w >= 4 * d->wg_w)
        d->bw = 4;
    else if (d->bw == 1 && cout_g >= 16 && d->boc == 8)
        d->boc = 16;
    if (!o)
        return CLCONV_SUCCESS;
    struct {
        const char *name;
        int v, max;
        int *dst;
    } f[] = {
        {"options.wg_w", o->wg_w, 1024, &d->wg_w},
        {"options.wg_h", o->wg_h, 1024, &d->wg_h},
        {"options.block_w", o->block_w, 16, &d->bw},
        {"options.block_oc", o->block_oc, 16, &d->boc},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v == 0)
            continue;
        if (f[i].v < 0 || f[i].v > f[i].max)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "%s = %d, expected 0 (default) or 1..%d", f[i].name, f[i].v,
                               f[i].max);
        *f[i].dst = f[i].v;
    }
    if (o->wg_oc < 0 || o->wg_oc > 1)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "options.wg_oc = %d, expected 0 or 1 for conv_transpose2d (its "
                           "work-groups have no channel lane; use block_oc)", o->wg_oc);
    if (o->ci_chunk < 0 || o->ci_chunk > 1)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "options.ci_chunk = %d, expected 0 or 1 for conv_transpose2d (no "
                           "local-memory staging)", o->ci_chunk);
    return CLCONV_SUCCESS;
}


clconv_status clconv_ct_build(clconv_plan *plan, const clconv_conv_transpose2d_params *p,
                              const char *name, int wg_w, int wg_h, int bw, int boc,
                              const char *extra)
{
    snprintf(plan->info.build_options, sizeof plan->info.build_options,
             "-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld -DWG_W=%d -DWG_H=%d "
             "-DBW=%d -DBOC=%d%s%s%s",
             (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
             (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w, wg_w,
             wg_h, bw, boc, clconv_epilogue_build_options(plan, 1), extra ? " " : "",
             extra ? extra : "");
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s", name);
    if (plan->kernel) {
        clReleaseKernel(plan->kernel);
        plan->kernel = NULL;
    }
    return clconv_get_kernel(plan->ctx, "conv_transpose2d", name, plan->info.build_options,
                             &plan->kernel);
}

clconv_status clconv_ct_set_args(clconv_plan *plan, const cl_int *args, size_t n)
{
    clconv_status st = clconv_plan_set_ints(plan, plan->kernel, 4, args, n);
    return st ? st
              : clconv_set_epilogue_args(plan, plan->kernel, 4 + (cl_uint)n,
                                         plan->info.kernel_name);
}

clconv_status clconv_ct_set_lane_args(clconv_plan *plan)
{
    const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    cl_int args[] = {(cl_int)in->n, (cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups,
                     (cl_int)p->pad_top, (cl_int)p->pad_left};
    return clconv_ct_set_args(plan, args, sizeof args / sizeof args[0]);
}
