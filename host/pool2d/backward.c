/* Gradients of 2-D pooling with respect to the input: the algorithm "pool"
 * of CLCONV_OP_POOL2D_BACKWARD on the interface (host/algo.h), plans,
 * dispatch and the host-memory convenience call (the kernels are
 * kernels/pool2d_backward.cl, the reference host/reference/pool2d_backward.c).
 *
 * Device layout: a 1-D NDRange of one work-item per input cell (n*c*H*W);
 * each sums the shares of the windows that cover its cell in row-major
 * order, a gather with no atomics, so runs are deterministic. Parameters,
 * shapes and their messages are the forward's (clconv_pool2d_check). */
#include "../algo.h"

#include <stdio.h>
#include <string.h>

static bool is_max(clconv_pool_mode m)
{
    return m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
}

clconv_status clconv_pool2d_backward_check_arrays(clconv_context *ctx, clconv_pool_mode m,
                                                  bool dy, bool indices, bool x, bool dx,
                                                  const char *kind)
{
    if (!dy || !dx)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a %s of %s",
                           !dy ? "dy" : "dx", !strcmp(kind, "buffer") ? "cl_mem" : "host array",
                           !dy ? "the output's gradient" : "the input's size");
    if (indices && !is_max(m))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "indices: %s was given but mode = %s has no indices (max and "
                           "adaptive-max only), expected NULL",
                           !strcmp(kind, "buffer") ? "a buffer" : "an array",
                           clconv_pool_mode_name(m));
    if (m == CLCONV_POOL_LP && !x)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "x: NULL with mode = lp, expected the forward input (the lp gradient "
                           "depends on it)");
    if (is_max(m) && !indices && !x)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "indices and x: both NULL with mode = %s, expected the forward's "
                           "indices (or its input x, to recompute them)",
                           clconv_pool_mode_name(m));
    return CLCONV_SUCCESS;
}

static clconv_status backward_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    const clconv_pool2d_params *p = &plan->params.pool2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    clconv_context *ctx = plan->ctx;
    clconv_status st;
    const bool adaptive = clconv_pool_mode_is_adaptive(p->mode);

    size_t wg;
    if ((st = clconv_pool2d_requested_wg(ctx, opts, &wg)))
        return st;
    if (!adaptive && (st = clconv_pool2d_check_reach(ctx, p, in)))
        return st;
    const char *name = adaptive ? "pool2d_backward_adaptive" : "pool2d_backward_window";
    /* The storage type's option first, as in every F16 program: F16 and F32
     * programs never share a cache entry. */
    snprintf(plan->info.build_options, sizeof plan->info.build_options, "%s-DMODE=%d",
             plan->dtype == CLCONV_DTYPE_F16 ? "-DCLCONV_F16 " : "", (int)p->mode);
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s", name);
    if ((st = clconv_get_kernel(ctx, "pool2d_backward", name, plan->info.build_options,
                                &plan->kernel)))
        return st;

    if ((st = clconv_pool2d_fit_wg(plan, opts, &wg)))
        return st;
    const int64_t items = in->n * in->c * in->h * in->w;
    plan->work_dim = 1;
    plan->local_size[0] = wg;
    plan->local_size[1] = plan->local_size[2] = 1;
    plan->global_size[0] = (size_t)((items + (int64_t)wg - 1) / (int64_t)wg) * wg;
    plan->global_size[1] = plan->global_size[2] = 1;
    plan->info.local_mem_bytes = 0;

    /* Arguments 0..3 (dy, indices, x, dx) are set per run. */
    cl_uint a = 4;
    cl_int ia[] = {(cl_int)in->h, (cl_int)in->w, (cl_int)out->h, (cl_int)out->w, (cl_int)items};
    for (size_t i = 0; i < sizeof ia / sizeof ia[0]; i++)
        if ((st = clconv_set_arg(ctx, plan->kernel, a++, sizeof(cl_int), &ia[i], name)))
            return st;
    if (adaptive)
        return CLCONV_SUCCESS;
    /* The forward's window arguments from a on, then the gradient's powers
     * as floats. */
    if ((st = clconv_pool2d_set_window_args(plan, p, a)))
        return st;
    a += CLCONV_POOL_WINDOW_ARGS;
    cl_float fa[] = {(cl_float)(1.0 / p->norm_type - 1.0), (cl_float)(p->norm_type - 1.0)};
    for (size_t i = 0; i < sizeof fa / sizeof fa[0]; i++)
        if ((st = clconv_set_arg(ctx, plan->kernel, a++, sizeof(cl_float), &fa[i], name)))
            return st;
    return CLCONV_SUCCESS;
}

/* a->x is dy, a->aux the indices, a->w the forward's input x (NULL where
 * the mode does not read it), a->y is dx. */
static clconv_status backward_run(clconv_plan *plan, const clconv_run_args *a)
{
    const cl_mem args[4] = {a->x, a->aux, a->w, a->y};
    const char *const names[4] = {"dy", "indices", "x", "dx"};
    return clconv_plan_enqueue_buffers(plan, 4, args, names, a->num_wait, a->wait_list, a->done);
}

const clconv_algo clconv_pool2d_backward_pool = {
    .op = CLCONV_OP_POOL2D_BACKWARD,
    .id = CLCONV_ALGO_POOL,
    .plan = backward_plan,
    .run = backward_run,
    .f16 = true, /* dy, x, dx as store_t; sums in float, rounded once at the store */
};

clconv_status clconv_pool2d_backward_plan_create(clconv_context *ctx,
                                                 const clconv_pool2d_params *params,
                                                 const clconv_shape *input,
                                                 const clconv_plan_options *options,
                                                 clconv_plan **out)
{
    /* The forward's plan: x_bytes sizes dx (and x when given), y_bytes dy,
     * aux_bytes the max modes' indices; one operation per (cell, covering
     * window) pair, the forward's taps. */
    return clconv_pool2d_plan_make(ctx, CLCONV_OP_POOL2D_BACKWARD, params, input, options,
                                   "pool2d backward", out);
}

clconv_status clconv_pool2d_backward_run(clconv_plan *plan, cl_mem dy, cl_mem indices, cl_mem x,
                                         cl_mem dx, cl_uint num_wait, const cl_event *wait_list,
                                         cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    clconv_context *ctx = plan->ctx;
    if (plan->op != CLCONV_OP_POOL2D_BACKWARD)
        return clconv_fail(ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_pool2d_backward_run: the plan was made for another operator");
    const clconv_pool_mode m = plan->params.pool2d.mode;
    clconv_status st;
    if ((st = clconv_pool2d_backward_check_arrays(ctx, m, dy != NULL, indices != NULL, x != NULL,
                                                  dx != NULL, "buffer")))
        return st;
    /* x is read only by lp and by the max modes without indices. */
    const bool use_x = m == CLCONV_POOL_LP || (is_max(m) && !indices);
    if (!use_x)
        x = NULL;
    if ((st = clconv_check_plan_buffer(plan, dy, plan->y_bytes, "dy")) ||
        (st = clconv_check_plan_buffer(plan, dx, plan->x_bytes, "dx")) ||
        (x && (st = clconv_check_plan_buffer(plan, x, plan->x_bytes, "x"))))
        return st;
    if (indices) {
        size_t have = 0;
        cl_int err = clGetMemObjectInfo(indices, CL_MEM_SIZE, sizeof have, &have, NULL);
        if (err != CL_SUCCESS)
            return clconv_fail_cl(ctx, err, "clGetMemObjectInfo(indices)");
        if (have < plan->aux_bytes)
            return clconv_fail(ctx, CLCONV_ERROR_BUFFER_TOO_SMALL,
                               "indices: %zu bytes, expected at least %zu bytes (%zu int64)",
                               have, plan->aux_bytes, plan->aux_bytes / sizeof(cl_long));
    }
    if (dx == dy || dx == x || dx == indices)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "dx: must not be the same buffer as %s (no in-place pooling "
                           "backward)", dx == dy ? "dy" : dx == x ? "x" : "indices");
    const clconv_run_args a = {.x = dy, .w = x, .y = dx, .aux = indices, .num_wait = num_wait,
                               .wait_list = wait_list, .done = done};
    return clconv_plan_dispatch(plan, &a);
}

clconv_status clconv_pool2d_backward_host(clconv_context *ctx, const clconv_pool2d_params *params,
                                          const clconv_shape *input,
                                          const clconv_plan_options *options, const float *dy,
                                          const int64_t *indices, const float *x, float *dx)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    /* Host arrays are floats: fp16 storage is for device buffers only. */
    if (params) {
        clconv_status st0 = clconv_host_check_dtype(ctx, params->dtype,
                                                    "clconv_pool2d_backward_host");
        if (st0)
            return st0;
    }
    clconv_plan *plan;
    clconv_status st = clconv_pool2d_backward_plan_create(ctx, params, input, options, &plan);
    if (st)
        return st;
    const clconv_pool_mode m = params->mode;
    if ((st = clconv_pool2d_backward_check_arrays(ctx, m, dy != NULL, indices != NULL, x != NULL,
                                                  dx != NULL, "array"))) {
        clconv_plan_destroy(plan);
        return st;
    }
    const bool use_x = m == CLCONV_POOL_LP || (is_max(m) && !indices);
    cl_mem bdy = NULL, bi = NULL, bx = NULL, bdx = NULL;
    cl_event ev = NULL;
    if (!(st = clconv_buffer_create(ctx, plan->y_bytes, dy, &bdy, "dy")) &&
        !(st = indices ? clconv_buffer_create(ctx, plan->aux_bytes, indices, &bi, "indices")
                       : CLCONV_SUCCESS) &&
        !(st = use_x ? clconv_buffer_create(ctx, plan->x_bytes, x, &bx, "x") : CLCONV_SUCCESS) &&
        !(st = clconv_buffer_create(ctx, plan->x_bytes, NULL, &bdx, "dx")) &&
        !(st = clconv_pool2d_backward_run(plan, bdy, bi, bx, bdx, 0, NULL, &ev)))
        st = clconv_buffer_read(ctx, bdx, plan->x_bytes, dx, ev);
    if (ev)
        clReleaseEvent(ev);
    cl_mem all[] = {bdy, bi, bx, bdx};
    for (int i = 0; i < 4; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    return st;
}
