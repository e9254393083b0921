/* 2-D pooling: parameter validation and output shapes (shared with the CPU
 * reference), plans (the algorithm is pool.c's), run dispatch through
 * plan->algo and the host-memory convenience call. */
#include "../algo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Guards the products below against int64 overflow from absurd values. */
#define POOL_MAX_DIM ((int64_t)1 << 30)

static const char *mode_name(clconv_pool_mode m)
{
    switch (m) {
    case CLCONV_POOL_MAX: return "max";
    case CLCONV_POOL_AVG: return "avg";
    case CLCONV_POOL_LP: return "lp";
    case CLCONV_POOL_ADAPTIVE_AVG: return "adaptive-avg";
    case CLCONV_POOL_ADAPTIVE_MAX: return "adaptive-max";
    }
    return "unknown";
}

const char *clconv_pool_mode_name(clconv_pool_mode m)
{
    return mode_name(m);
}

bool clconv_pool_mode_is_adaptive(clconv_pool_mode m)
{
    return m == CLCONV_POOL_ADAPTIVE_AVG || m == CLCONV_POOL_ADAPTIVE_MAX;
}

static bool has_indices(clconv_pool_mode m)
{
    return m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
}

static clconv_status range(clconv_context *ctx, const char *name, int64_t v, int64_t lo,
                           const char *hint)
{
    if (v < lo || v > POOL_MAX_DIM)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s = %lld, expected %lld..%lld%s",
                           name, (long long)v, (long long)lo, (long long)POOL_MAX_DIM, hint);
    return CLCONV_SUCCESS;
}

/* PyTorch's pooling_output_shape_pad_lr (pad_l = begin, pad_r = end). */
static int64_t pool_out(int64_t in, int64_t k, int64_t pad_begin, int64_t pad_end, int64_t stride,
                        int64_t dil, bool ceil)
{
    int64_t num = in + pad_begin + pad_end - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0);
    int64_t q = num / stride;
    if (num % stride != 0 && num < 0)
        q--; /* floor division, as div_rtn */
    int64_t out = q + 1;
    if (ceil && (out - 1) * stride >= in + pad_begin)
        out--;
    return out;
}

clconv_status clconv_pool2d_check(clconv_context *ctx, const clconv_pool2d_params *p,
                                  const clconv_shape *in, clconv_shape *out)
{
    if (!p)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_status st = clconv_validate_shape(ctx, in, "input");
    if (st)
        return st;
    if (in->h > POOL_MAX_DIM || in->w > POOL_MAX_DIM)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE, "input: %lld x %lld, expected each "
                           "spatial size <= %lld", (long long)in->h, (long long)in->w,
                           (long long)POOL_MAX_DIM);
    const clconv_pool_mode m = p->mode;
    if (m < CLCONV_POOL_MAX || m > CLCONV_POOL_ADAPTIVE_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "mode = %d, expected CLCONV_POOL_MAX (1), _AVG (2), _LP (3), "
                           "_ADAPTIVE_AVG (4) or _ADAPTIVE_MAX (5)", (int)m);
    if (m != CLCONV_POOL_AVG && p->divisor_override != 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "divisor_override = %lld with mode = %s, expected 0: only avg "
                           "pooling takes a divisor", (long long)p->divisor_override,
                           mode_name(m));
    if ((st = clconv_dtype_check(ctx, p->dtype)))
        return st;
    int64_t oh, ow;
    if (clconv_pool_mode_is_adaptive(m)) {
        if ((st = range(ctx, "output_h", p->output_h, 1, "")) ||
            (st = range(ctx, "output_w", p->output_w, 1, "")))
            return st;
        oh = p->output_h;
        ow = p->output_w;
    } else {
        const char *stride_hint = " (PyTorch's stride=None is stride = kernel)";
        if ((st = range(ctx, "kernel_h", p->kernel_h, 1, "")) ||
            (st = range(ctx, "kernel_w", p->kernel_w, 1, "")) ||
            (st = range(ctx, "stride_h", p->stride_h, 1, stride_hint)) ||
            (st = range(ctx, "stride_w", p->stride_w, 1, stride_hint)) ||
            (st = range(ctx, "pad_top", p->pad_top, 0, "")) ||
            (st = range(ctx, "pad_bottom", p->pad_bottom, 0, "")) ||
            (st = range(ctx, "pad_left", p->pad_left, 0, "")) ||
            (st = range(ctx, "pad_right", p->pad_right, 0, "")) ||
            (st = range(ctx, "dilation_h", p->dilation_h, 1, "")) ||
            (st = range(ctx, "dilation_w", p->dilation_w, 1, "")))
            return st;
        const struct {
            const char *name, *kname;
            int64_t pad, k;
        } sides[4] = {{"pad_top", "kernel_h", p->pad_top, p->kernel_h},
                      {"pad_bottom", "kernel_h", p->pad_bottom, p->kernel_h},
                      {"pad_left", "kernel_w", p->pad_left, p->kernel_w},
                      {"pad_right", "kernel_w", p->pad_right, p->kernel_w}};
        for (int i = 0; i < 4; i++)
            if (sides[i].pad > sides[i].k / 2)
                return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                                   "%s = %lld, expected <= %s / 2 = %lld (PyTorch: pad should "
                                   "be at most half of kernel size)", sides[i].name,
                                   (long long)sides[i].pad, sides[i].kname,
                                   (long long)(sides[i].k / 2));
        if (m != CLCONV_POOL_MAX && (p->dilation_h != 1 || p->dilation_w != 1))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "dilation_%s = %lld with mode = %s, expected 1: only max "
                               "pooling has a dilation", p->dilation_h != 1 ? "h" : "w",
                               (long long)(p->dilation_h != 1 ? p->dilation_h : p->dilation_w),
                               mode_name(m));
        if (m == CLCONV_POOL_LP)
            for (int i = 0; i < 4; i++)
                if (sides[i].pad != 0)
                    return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                                       "%s = %lld with mode = lp, expected 0: lp_pool2d has no "
                                       "padding", sides[i].name, (long long)sides[i].pad);
        if (m == CLCONV_POOL_LP && (!isfinite(p->norm_type) || p->norm_type == 0.0))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "norm_type = %g, expected a finite, nonzero power p",
                               p->norm_type);
        oh = pool_out(in->h, p->kernel_h, p->pad_top, p->pad_bottom, p->stride_h, p->dilation_h,
                      p->ceil_mode);
        ow = pool_out(in->w, p->kernel_w, p->pad_left, p->pad_right, p->stride_w, p->dilation_w,
                      p->ceil_mode);
        if (oh < 1 || ow < 1)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                               "no output: input %lldx%lld with kernel %lldx%lld, stride "
                               "%lldx%lld, padding (top %lld, bottom %lld, left %lld, right "
                               "%lld), dilation %lldx%lld gives output %lldx%lld, expected at "
                               "least 1x1 (output size is too small)",
                               (long long)in->h, (long long)in->w, (long long)p->kernel_h,
                               (long long)p->kernel_w, (long long)p->stride_h,
                               (long long)p->stride_w, (long long)p->pad_top,
                               (long long)p->pad_bottom, (long long)p->pad_left,
                               (long long)p->pad_right,
                               (long long)p->dilation_h, (long long)p->dilation_w,
                               (long long)oh, (long long)ow);
    }
    clconv_shape o = {in->n, in->c, oh, ow};
    size_t bytes; /* indices are int64: 8 bytes per output element */
    if ((st = clconv_tensor_bytes(ctx, "output", &o, sizeof(int64_t), &bytes)))
        return st;
    if (out)
        *out = o;
    return CLCONV_SUCCESS;
}

clconv_status clconv_pool2d_validate(const clconv_pool2d_params *params, const clconv_shape *input)
{
    return clconv_pool2d_check(NULL, params, input, NULL);
}

clconv_status clconv_pool2d_output_shape(const clconv_pool2d_params *params,
                                         const clconv_shape *input, clconv_shape *output)
{
    if (!output)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "output: NULL, expected a pointer");
    return clconv_pool2d_check(NULL, params, input, output);
}

clconv_pool2d_params clconv_pool2d_default_params(clconv_pool_mode mode, int64_t kernel_h,
                                                  int64_t kernel_w)
{
    clconv_pool2d_params p;
    memset(&p, 0, sizeof p);
    p.mode = mode;
    if (clconv_pool_mode_is_adaptive(mode)) {
        p.output_h = kernel_h;
        p.output_w = kernel_w;
    } else {
        p.kernel_h = kernel_h;
        p.kernel_w = kernel_w;
        p.stride_h = kernel_h;
        p.stride_w = kernel_w;
    }
    p.dilation_h = p.dilation_w = 1;
    p.count_include_pad = 1;
    p.norm_type = 2.0;
    return p;
}

clconv_pool2d_params clconv_pool2d_global_params(clconv_pool_mode mode)
{
    bool max = mode == CLCONV_POOL_MAX || mode == CLCONV_POOL_ADAPTIVE_MAX;
    return clconv_pool2d_default_params(max ? CLCONV_POOL_ADAPTIVE_MAX : CLCONV_POOL_ADAPTIVE_AVG,
                                        1, 1);
}

/* ---- plans ---------------------------------------------------------------- */

clconv_status clconv_pool2d_plan_setup(clconv_context *ctx, clconv_op op,
                                       const clconv_pool2d_params *params,
                                       const clconv_shape *input, clconv_plan **out)
{
    *out = NULL;
    clconv_shape oshape;
    clconv_status st = clconv_pool2d_check(ctx, params, input, &oshape);
    if (st)
        return st;
    size_t nx = clconv_shape_elements_checked(input), ny = clconv_shape_elements_checked(&oshape);
    const size_t es = clconv_dtype_size(params->dtype);
    if ((st = clconv_check_device_tensor(ctx, "input", nx, es)) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, es)))
        return st;
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, op, &plan)))
        return st;
    plan->params.pool2d = *params;
    plan->dtype = params->dtype;
    plan->info.input = *input;
    plan->info.output = oshape;
    plan->x_bytes = nx * es;
    plan->y_bytes = ny * es;
    plan->aux_bytes = has_indices(params->mode) ? ny * sizeof(cl_long) : 0;
    double taps;
    if (clconv_pool_mode_is_adaptive(params->mode)) { /* the windows' lengths summed per axis */
        double th = 0, tw = 0;
        for (int64_t i = 0; i < oshape.h; i++)
            th += (double)(((i + 1) * input->h + oshape.h - 1) / oshape.h - i * input->h / oshape.h);
        for (int64_t i = 0; i < oshape.w; i++)
            tw += (double)(((i + 1) * input->w + oshape.w - 1) / oshape.w - i * input->w / oshape.w);
        taps = (double)(input->n * input->c) * th * tw;
    } else {
        taps = (double)ny * (double)params->kernel_h * (double)params->kernel_w;
    }
    plan->info.flops = taps;
    plan->info.bytes = (double)(plan->x_bytes + plan->y_bytes);
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_pool2d_plan_make(clconv_context *ctx, clconv_op op,
                                      const clconv_pool2d_params *params,
                                      const clconv_shape *input,
                                      const clconv_plan_options *options, const char *what,
                                      clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_plan *plan;
    clconv_status st = clconv_pool2d_plan_setup(ctx, op, params, input, &plan);
    if (st)
        return st;
    if ((st = clconv_plan_build_single(plan, options, what))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_pool2d_plan_create(clconv_context *ctx, const clconv_pool2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out)
{
    return clconv_pool2d_plan_make(ctx, CLCONV_OP_POOL2D, params, input, options, "pool2d", out);
}

clconv_status clconv_pool2d_run(clconv_plan *plan, cl_mem x, cl_mem y, cl_mem indices,
                                cl_uint num_wait, const cl_event *wait_list, cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    clconv_context *ctx = plan->ctx;
    if (plan->op != CLCONV_OP_POOL2D)
        return clconv_fail(ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_pool2d_run: the plan was made for another operator");
    clconv_status st;
    if ((st = clconv_check_plan_buffer(plan, x, plan->x_bytes, "x")) ||
        (st = clconv_check_plan_buffer(plan, y, plan->y_bytes, "y")))
        return st;
    if (indices) {
        if (!has_indices(plan->params.pool2d.mode))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "indices: a buffer was given but mode = %s has no indices "
                               "(max and adaptive-max only), expected NULL",
                               mode_name(plan->params.pool2d.mode));
        size_t have = 0;
        cl_int err = clGetMemObjectInfo(indices, CL_MEM_SIZE, sizeof have, &have, NULL);
        if (err != CL_SUCCESS)
            return clconv_fail_cl(ctx, err, "clGetMemObjectInfo(indices)");
        if (have < plan->aux_bytes)
            return clconv_fail(ctx, CLCONV_ERROR_BUFFER_TOO_SMALL,
                               "indices: %zu bytes, expected at least %zu bytes (%zu int64)",
                               have, plan->aux_bytes, plan->aux_bytes / sizeof(cl_long));
    }
    if (y == x)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "y: must not be the same buffer as x (no in-place pooling)");
    if (indices && (indices == x || indices == y))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "indices: must not be the same buffer as %s",
                           indices == x ? "x" : "y");
    const clconv_run_args a = {.x = x, .y = y, .aux = indices, .num_wait = num_wait,
                               .wait_list = wait_list, .done = done};
    return clconv_plan_dispatch(plan, &a);
}

clconv_status clconv_pool2d_host(clconv_context *ctx, const clconv_pool2d_params *params,
                                 const clconv_shape *input, const clconv_plan_options *options,
                                 const float *x, float *y, int64_t *indices)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!x || !y)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : "y");
    clconv_status st0 = params ? clconv_host_check_dtype(ctx, params->dtype, "clconv_pool2d_host")
                               : CLCONV_SUCCESS;
    if (st0)
        return st0;
    if (params && indices && !has_indices(params->mode))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "indices: an array was given but mode = %s has no indices (max and "
                           "adaptive-max only), expected NULL", mode_name(params->mode));
    clconv_plan *plan;
    clconv_status st = clconv_pool2d_plan_create(ctx, params, input, options, &plan);
    if (st)
        return st;
    cl_mem bx = NULL, by = NULL, bi = NULL;
    cl_event ev = NULL;
    if (!(st = clconv_buffer_create(ctx, plan->x_bytes, x, &bx, "x")) &&
        !(st = clconv_buffer_create(ctx, plan->y_bytes, NULL, &by, "y")) &&
        !(st = indices ? clconv_buffer_create(ctx, plan->aux_bytes, NULL, &bi, "indices")
                       : CLCONV_SUCCESS) &&
        !(st = clconv_pool2d_run(plan, bx, by, bi, 0, NULL, &ev)) &&
        !(st = clconv_buffer_read(ctx, by, plan->y_bytes, y, ev)) && indices) {
        /* cl_long and int64_t are both two's-complement 64-bit integers. */
        st = clconv_buffer_read(ctx, bi, plan->aux_bytes, indices, NULL);
    }
    if (ev)
        clReleaseEvent(ev);
    cl_mem all[] = {bx, by, bi};
    for (int i = 0; i < 3; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    return st;
}
