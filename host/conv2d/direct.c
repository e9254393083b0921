/* What the direct conv2d kernels share (kernels/conv2d.cl): tile overrides,
 * the kernel build with the geometry as -D constants, the scalar arguments
 * and the one-kernel run. */
#include "../algo.h"

#include <stdio.h>
#include <string.h>

clconv_status clconv_direct_overrides(clconv_context *ctx, const clconv_plan_options *o,
                                      clconv_tile *t)
{
    if (!o)
        return CLCONV_SUCCESS;
    struct {
        const char *name;
        int v, max;
        int *dst;
    } f[] = {
        {"options.wg_w", o->wg_w, 1024, &t->wg_w},   {"options.wg_h", o->wg_h, 1024, &t->wg_h},
        {"options.wg_oc", o->wg_oc, 1024, &t->wg_oc}, {"options.block_w", o->block_w, 16, &t->bw},
        {"options.block_oc", o->block_oc, 16, &t->boc},
        {"options.ci_chunk", o->ci_chunk, 256, &t->ci_chunk},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v == 0)
            continue;
        if (f[i].v < 0 || f[i].v > f[i].max)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s = %d, expected 0 (default) "
                               "or 1..%d", f[i].name, f[i].v, f[i].max);
        *f[i].dst = f[i].v;
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_direct_build(clconv_plan *plan, const clconv_tile *t, const char *name,
                                  const char *extra)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    int n = snprintf(plan->info.build_options, sizeof plan->info.build_options,
                     "-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld -DWG_W=%d "
                     "-DWG_H=%d -DWG_OC=%d -DBW=%d -DBOC=%d -DCI_CHUNK=%d%s",
                     (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                     (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w,
                     t->wg_w, t->wg_h, t->wg_oc, t->bw, t->boc, t->ci_chunk,
                     clconv_epilogue_build_options(plan, 1));
    char variant[64]; /* conv2d_tiled -> CONV2D_TILED */
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof variant; i++)
        variant[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    variant[i] = '\0';
    if (n > 0 && (size_t)n < sizeof plan->info.build_options)
        snprintf(plan->info.build_options + n, sizeof plan->info.build_options - (size_t)n,
                 " -D%s%s%s", variant, extra ? " " : "", extra ? extra : "");
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s", name);
    if (plan->kernel) {
        clReleaseKernel(plan->kernel);
        plan->kernel = NULL;
    }
    return clconv_get_kernel(ctx, "conv2d", name, plan->info.build_options, &plan->kernel);
}

clconv_status clconv_direct_set_args(clconv_plan *plan, int64_t in_h, int64_t in_w, int64_t extra)
{
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    cl_int args[] = {(cl_int)in->c, (cl_int)in_h, (cl_int)in_w, (cl_int)out->c,
                     (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups, (cl_int)p->pad_top,
                     (cl_int)p->pad_left};
    const cl_uint n = (cl_uint)(sizeof args / sizeof args[0]), epi = 4 + n;
    clconv_status st = clconv_plan_set_ints(plan, plan->kernel, 4, args, n);
    if (!st)
        st = clconv_set_epilogue_args(plan, plan->kernel, epi, plan->info.kernel_name);
    if (!st && extra >= 0) {
        cl_int e = (cl_int)extra;
        st = clconv_plan_set_ints(plan, plan->kernel, epi + CLCONV_EPILOGUE_NARGS, &e, 1);
    }
    return st;
}

clconv_status clconv_run_one_kernel(clconv_plan *plan, const clconv_run_args *a)
{
    const cl_mem args[4] = {a->x, a->w, a->b, a->y};
    const char *const names[4] = {"x", "w", "b", "y"};
    return clconv_plan_enqueue_buffers(plan, 4, args, names, a->num_wait, a->wait_list, a->done);
}

clconv_status clconv_lane_block_overrides(clconv_context *ctx, const clconv_plan_options *opts,
                                          const char *what, int *bw, int *boc)
{
    if (opts && opts->block_w) {
        if (opts->block_w > 8)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..8 %s",
                               opts->block_w, what);
        *bw = opts->block_w;
    }
    if (opts && opts->block_oc)
        *boc = opts->block_oc;
    return CLCONV_SUCCESS;
}

int clconv_direct_max_vec(const clconv_context *ctx)
{
    return ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
}
