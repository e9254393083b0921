/* What every operator's plan shares: allocation, info, buffer checks,
 * enqueueing, destruction, and the small buffer helpers of the *_host calls. */
#include "algo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pthread_mutex_t clconv_clblast_lock = PTHREAD_MUTEX_INITIALIZER;

const char *clconv_algorithm_name(clconv_algorithm algo)
{
    switch (algo) {
    case CLCONV_ALGO_AUTO: return "auto";
    case CLCONV_ALGO_DIRECT_TILED: return "direct-tiled";
    case CLCONV_ALGO_DIRECT_REGISTER: return "direct-register";
    case CLCONV_ALGO_GEMM: return "gemm";
    case CLCONV_ALGO_POOL: return "pool";
    case CLCONV_ALGO_TRANSPOSED_GATHER: return "transposed-gather";
    case CLCONV_ALGO_TRANSPOSED_GEMM: return "transposed-gemm";
    case CLCONV_ALGO_DIRECT_VECTOR: return "direct-vector";
    case CLCONV_ALGO_WINOGRAD: return "winograd";
    case CLCONV_ALGO_DIRECT_DEPTHWISE: return "direct-depthwise";
    case CLCONV_ALGO_TRANSPOSED_VECTOR: return "transposed-vector";
    case CLCONV_ALGO_TRANSPOSED_COLUMNS: return "transposed-columns";
    case CLCONV_ALGO_DIRECT_POINTWISE: return "direct-pointwise";
    case CLCONV_ALGO_DIRECT_BATCH: return "direct-batch";
    case CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS: return "direct-depthwise-channels";
    }
    return "unknown";
}

clconv_status clconv_plan_alloc(clconv_context *ctx, clconv_op op, clconv_plan **out)
{
    clconv_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating a plan");
    if (pthread_mutex_init(&plan->lock, NULL) != 0) {
        free(plan);
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "initialising a mutex");
    }
    plan->ctx = ctx;
    plan->op = op;
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_plan_alloc_weighted(clconv_context *ctx, clconv_op op, clconv_dtype dtype,
                                         const clconv_shape *input, const clconv_shape *output,
                                         size_t weights, int64_t bias, double macs,
                                         clconv_plan **out)
{
    clconv_status st = clconv_plan_alloc(ctx, op, out);
    if (st)
        return st;
    clconv_plan *plan = *out;
    const size_t es = clconv_dtype_size(dtype);
    plan->dtype = dtype;
    plan->info.input = *input;
    plan->info.output = *output;
    plan->x_bytes = clconv_shape_elements_checked(input) * es;
    plan->w_bytes = weights * es;
    plan->b_bytes = (size_t)bias * es;
    plan->y_bytes = clconv_shape_elements_checked(output) * es;
    plan->info.flops = 2.0 * macs;
    plan->info.bytes = (double)(plan->x_bytes + plan->w_bytes + plan->b_bytes + plan->y_bytes);
    return CLCONV_SUCCESS;
}

void clconv_plan_destroy(clconv_plan *plan)
{
    if (!plan)
        return;
    if (plan->algo && plan->algo->destroy)
        plan->algo->destroy(plan);
    if (plan->kernel)
        clReleaseKernel(plan->kernel);
    if (plan->last_run)
        clReleaseEvent(plan->last_run);
    if (plan->prepared_w)
        clReleaseMemObject(plan->prepared_w);
    if (plan->prepare_event)
        clReleaseEvent(plan->prepare_event);
    pthread_mutex_destroy(&plan->lock);
    free(plan);
}

clconv_status clconv_plan_get_info(const clconv_plan *plan, clconv_plan_info *info)
{
    if (!plan || !info)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a pointer",
                           plan ? "info" : "plan");
    *info = plan->info;
    memcpy(info->global_size, plan->global_size, sizeof info->global_size);
    memcpy(info->local_size, plan->local_size, sizeof info->local_size);
    return CLCONV_SUCCESS;
}

/* The check of clconv_check_buffer, the message counting elements of
 * elem_size bytes called elems ("floats", "halves"). */
static clconv_status check_buffer_elems(clconv_context *ctx, cl_mem buf, size_t need,
                                        size_t elem_size, const char *elems, const char *name)
{
    if (!buf)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a cl_mem of at "
                           "least %zu bytes", name, need);
    size_t have = 0;
    cl_int err = clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof have, &have, NULL);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clGetMemObjectInfo(%s)", name);
        return clconv_fail_cl(ctx, err, what);
    }
    if (have < need)
        return clconv_fail(ctx, CLCONV_ERROR_BUFFER_TOO_SMALL,
                           "%s: %zu bytes, expected at least %zu bytes (%zu %s)", name, have,
                           need, need / elem_size, elems);
    return CLCONV_SUCCESS;
}

clconv_status clconv_check_buffer(clconv_context *ctx, cl_mem buf, size_t need, const char *name)
{
    return check_buffer_elems(ctx, buf, need, sizeof(float), "floats", name);
}

clconv_status clconv_check_plan_buffer(clconv_plan *plan, cl_mem buf, size_t need,
                                       const char *name)
{
    const bool half = plan->dtype == CLCONV_DTYPE_F16;
    return check_buffer_elems(plan->ctx, buf, need, half ? 2 : sizeof(float),
                              half ? "halves" : "floats", name);
}

clconv_status clconv_check_device_tensor(clconv_context *ctx, const char *name, size_t elements,
                                         size_t elem_size)
{
    if (elements > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%s: %zu elements, expected at most %zu: the device kernels index "
                           "tensors with 32-bit ints", name, elements,
                           (size_t)CLCONV_MAX_DEVICE_ELEMENTS);
    size_t bytes = elements * elem_size; /* < 2^31 * elem_size: no overflow */
    if ((cl_ulong)bytes > ctx->max_alloc)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%s: %zu bytes (%zu elements), more than the device's largest buffer "
                           "(CL_DEVICE_MAX_MEM_ALLOC_SIZE = %llu bytes)", name, bytes, elements,
                           (unsigned long long)ctx->max_alloc);
    return CLCONV_SUCCESS;
}

clconv_status clconv_check_weighted_buffers(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                            cl_mem y, const char *what)
{
    clconv_context *ctx = plan->ctx;
    clconv_status st;
    if (!w && !plan->prepared)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "w: NULL, expected a cl_mem of at least %zu bytes (NULL only after "
                           "the plan's weights were prepared)", plan->w_bytes);
    if ((st = clconv_check_plan_buffer(plan, x, plan->x_bytes, "x")) ||
        (w && (st = clconv_check_plan_buffer(plan, w, plan->w_bytes, "w"))) ||
        (st = clconv_check_plan_buffer(plan, y, plan->y_bytes, "y")))
        return st;
    if (plan->b_bytes > 0) {
        if ((st = clconv_check_plan_buffer(plan, b, plan->b_bytes, "b")))
            return st;
    } else if (b) {
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "b: a buffer was given but the plan has has_bias = 0");
    }
    if (y == x || y == w || (b && y == b))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "y: must not be the same buffer as x, w or b (no in-place %s)", what);
    return CLCONV_SUCCESS;
}

clconv_status clconv_set_arg(clconv_context *ctx, cl_kernel k, cl_uint idx, size_t size,
                             const void *value, const char *what)
{
    cl_int err = clSetKernelArg(k, idx, size, value);
    if (err != CL_SUCCESS) {
        char buf[128];
        snprintf(buf, sizeof buf, "clSetKernelArg(%s, arg %u)", what, idx);
        return clconv_fail_cl(ctx, err, buf);
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_check_wait_list(clconv_context *ctx, cl_uint num_wait,
                                     const cl_event *wait_list)
{
    if ((num_wait > 0) != (wait_list != NULL))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "num_wait = %u with wait_list %s: both must be given or neither",
                           num_wait, wait_list ? "set" : "NULL");
    return CLCONV_SUCCESS;
}

clconv_status clconv_plan_enqueue(clconv_plan *plan, cl_uint num_wait, const cl_event *wait_list,
                                  cl_event *done)
{
    clconv_status st = clconv_check_wait_list(plan->ctx, num_wait, wait_list);
    if (st)
        return st;
    cl_int err = clEnqueueNDRangeKernel(plan->ctx->queue, plan->kernel, plan->work_dim, NULL,
                                        plan->global_size, plan->local_size, num_wait,
                                        wait_list, done);
    if (err != CL_SUCCESS) {
        if (done)
            *done = NULL;
        char what[128];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", plan->info.kernel_name);
        return clconv_fail_cl(plan->ctx, err, what);
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_plan_wg_limit(clconv_plan *plan, cl_kernel k, size_t *limit)
{
    cl_int err = clGetKernelWorkGroupInfo(k, plan->ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                          sizeof *limit, limit, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(plan->ctx, err,
                              "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
    return CLCONV_SUCCESS;
}

/* Halves the first dimension of `order` still above 1 until wg fits cap items. */
static void shrink_to(int wg[3], const int order[3], size_t cap)
{
    while ((size_t)wg[0] * (size_t)wg[1] * (size_t)wg[2] > cap) {
        int k = 0;
        while (k < 3 && wg[order[k]] <= 1)
            k++;
        if (k == 3) /* 1x1x1: a limit of 0 is not conformant */
            return;
        wg[order[k]] /= 2;
    }
}

clconv_status clconv_fit_work_group(clconv_context *ctx, size_t kernel_limit, int wg[3],
                                    const int order[3], const char *requested)
{
    const int asked[3] = {wg[0], wg[1], wg[2]};
    for (int i = 0; i < 3; i++)
        while (wg[i] > 1 && (size_t)wg[i] > ctx->max_item_sizes[i])
            wg[i] /= 2;
    shrink_to(wg, order, ctx->max_wg_size);
    /* The device's limits are documented and queryable: an explicit request
     * beyond them is an error. The compiled kernel's limit is not known
     * before compiling (registers, local memory; rusticl's llvmpipe allows 32
     * items for direct-tiled), so a request is fitted to it silently. */
    if (requested && (wg[0] != asked[0] || wg[1] != asked[1] || wg[2] != asked[2]))
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%s: work-group %dx%dx%d exceeds the device limits (%zu items per "
                           "group, %zux%zux%zu per dimension); %dx%dx%d would fit", requested,
                           asked[0], asked[1], asked[2], ctx->max_wg_size,
                           ctx->max_item_sizes[0], ctx->max_item_sizes[1],
                           ctx->max_item_sizes[2], wg[0], wg[1], wg[2]);
    if (kernel_limit)
        shrink_to(wg, order, kernel_limit);
    return CLCONV_SUCCESS;
}

clconv_status clconv_plan_set_ints(clconv_plan *plan, cl_kernel k, cl_uint first, const cl_int *v,
                                   size_t n)
{
    clconv_status st = CLCONV_SUCCESS;
    for (size_t i = 0; i < n && !st; i++)
        st = clconv_set_arg(plan->ctx, k, first + (cl_uint)i, sizeof(cl_int), &v[i],
                            plan->info.kernel_name);
    return st;
}

/* ---- ordering a plan's runs -------------------------------------------------
 * A plan that owns a buffer written on every run (plan->ordered) orders its
 * runs on an out-of-order queue: each run's first command also waits for the
 * previous run's last command. In-order queues already run everything in
 * order; there the plan keeps no event and adds nothing. Plans without such
 * a buffer stay free to overlap. */

clconv_status clconv_waits_with(clconv_context *ctx, cl_uint num_wait, const cl_event *wait_list,
                               cl_event extra, clconv_run_waits *w)
{
    w->list = wait_list;
    w->n = num_wait;
    w->heap = NULL;
    clconv_status st = clconv_check_wait_list(ctx, num_wait, wait_list);
    if (st || !extra)
        return st;
    w->heap = malloc(((size_t)num_wait + 1) * sizeof *w->heap);
    if (!w->heap)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating a wait list");
    for (cl_uint i = 0; i < num_wait; i++)
        w->heap[i] = wait_list[i];
    w->heap[num_wait] = extra;
    w->list = w->heap;
    w->n = num_wait + 1;
    return CLCONV_SUCCESS;
}

clconv_status clconv_run_begin(clconv_plan *plan, cl_uint num_wait, const cl_event *wait_list,
                               clconv_run_waits *w)
{
    return clconv_waits_with(plan->ctx, num_wait, wait_list, plan->last_run, w);
}

void clconv_run_waits_free(clconv_run_waits *w)
{
    free(w->heap);
    w->heap = NULL;
}

bool clconv_run_wants_event(const clconv_plan *plan)
{
    return plan->ordered && plan->ctx->out_of_order;
}

clconv_status clconv_run_end(clconv_plan *plan, clconv_status st, cl_event last, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    const bool keep = clconv_run_wants_event(plan);
    if (st) {
        if (last)
            clReleaseEvent(last);
        if (done)
            *done = NULL;
        if (keep) {
            /* Commands of this run may still write the plan's buffer: the next
             * run waits for everything enqueued so far. */
            cl_event mark = NULL;
            if (clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &mark) != CL_SUCCESS) {
                mark = NULL;
                clFinish(ctx->queue);
            }
            if (plan->last_run)
                clReleaseEvent(plan->last_run);
            plan->last_run = mark;
        }
        return st;
    }
    if (keep && last) {
        cl_int err = done ? clRetainEvent(last) : CL_SUCCESS;
        if (err != CL_SUCCESS) {
            /* Without a second reference the caller cannot have the event;
             * the plan keeps it (a run without its event is still ordered). */
            if (plan->last_run)
                clReleaseEvent(plan->last_run);
            plan->last_run = last;
            *done = NULL;
            return clconv_fail_cl(ctx, err, "clRetainEvent");
        }
        if (plan->last_run)
            clReleaseEvent(plan->last_run);
        plan->last_run = last;
    } else if (!done && last) {
        clReleaseEvent(last);
    }
    if (done)
        *done = last;
    return CLCONV_SUCCESS;
}

clconv_epilogue clconv_plan_epilogue(const clconv_plan *plan)
{
    clconv_epilogue e = {0};
    if (plan->op == CLCONV_OP_CONV2D) {
        const clconv_conv2d_params *p = &plan->params.conv2d;
        e = (clconv_epilogue){p->has_bias != 0, p->activation,
                              {p->activation_params[0], p->activation_params[1]},
                              p->has_residual != 0, p->alpha, p->beta,
                              p->pre_activation_output != 0};
    } else if (plan->op == CLCONV_OP_CONV_TRANSPOSE2D ||
               plan->op == CLCONV_OP_CONV2D_BACKWARD_DATA) {
        const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
        e = (clconv_epilogue){p->has_bias != 0, p->activation,
                              {p->activation_params[0], p->activation_params[1]},
                              p->has_residual != 0, p->alpha, p->beta,
                              p->pre_activation_output != 0};
    }
    if (!e.has_residual) {
        e.alpha = 1.0f;
        e.beta = 0.0f;
    }
    return e;
}

const char *clconv_epilogue_build_options(const clconv_plan *plan, int with_residual)
{
    /* The storage type's option (-DCLCONV_F16) comes first: every program
     * of an fp16 plan is built through here, so its cache keys differ. */
    static const char *const table[16] = {
        "",
        " -DCLCONV_ACT_ANY",
        " -DCLCONV_RESIDUAL",
        " -DCLCONV_ACT_ANY -DCLCONV_RESIDUAL",
        " -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_ACT_ANY -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_RESIDUAL -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_ACT_ANY -DCLCONV_RESIDUAL -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_F16",
        " -DCLCONV_F16 -DCLCONV_ACT_ANY",
        " -DCLCONV_F16 -DCLCONV_RESIDUAL",
        " -DCLCONV_F16 -DCLCONV_ACT_ANY -DCLCONV_RESIDUAL",
        " -DCLCONV_F16 -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_F16 -DCLCONV_ACT_ANY -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_F16 -DCLCONV_RESIDUAL -DCLCONV_PRE_OUTPUT",
        " -DCLCONV_F16 -DCLCONV_ACT_ANY -DCLCONV_RESIDUAL -DCLCONV_PRE_OUTPUT",
    };
    const clconv_epilogue e = clconv_plan_epilogue(plan);
    const int i = (clconv_activation_build_option(e.activation)[0] ? 1 : 0) |
                  (with_residual && e.has_residual ? 2 : 0) | (e.pre_output ? 4 : 0) |
                  (plan->dtype == CLCONV_DTYPE_F16 ? 8 : 0);
    return table[i];
}

clconv_status clconv_set_epilogue_args(clconv_plan *plan, cl_kernel k, cl_uint first,
                                       const char *kname)
{
    const clconv_epilogue e = clconv_plan_epilogue(plan);
    const cl_int ints[2] = {e.has_bias ? 1 : 0, (cl_int)e.activation};
    const cl_float floats[4] = {e.activation_params[0], e.activation_params[1], e.alpha, e.beta};
    clconv_status st = CLCONV_SUCCESS;
    for (cl_uint i = 0; i < 2 && !st; i++)
        st = clconv_set_arg(plan->ctx, k, first + i, sizeof(cl_int), &ints[i], kname);
    for (cl_uint i = 0; i < 4 && !st; i++)
        st = clconv_set_arg(plan->ctx, k, first + 2 + i, sizeof(cl_float), &floats[i], kname);
    for (cl_uint i = 0; i < 2 && !st; i++)
        st = clconv_set_arg(plan->ctx, k, first + 6 + i, sizeof(cl_mem), NULL, kname);
    if (!st) {
        plan->epi_kernel = k;
        plan->epi_first = first;
    }
    return st;
}

clconv_status clconv_set_epilogue_buffers(clconv_plan *plan, cl_mem z, cl_mem pre)
{
    const clconv_epilogue e = clconv_plan_epilogue(plan);
    if (!plan->epi_kernel || (!e.has_residual && !e.pre_output))
        return CLCONV_SUCCESS;
    clconv_status st = clconv_set_arg(plan->ctx, plan->epi_kernel, plan->epi_first + 6,
                                      sizeof(cl_mem), z ? &z : NULL, "z");
    if (!st)
        st = clconv_set_arg(plan->ctx, plan->epi_kernel, plan->epi_first + 7, sizeof(cl_mem),
                            pre ? &pre : NULL, "pre");
    return st;
}

clconv_status clconv_check_epilogue_buffers(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                            cl_mem y, cl_mem workspace, cl_mem z, cl_mem pre)
{
    clconv_context *ctx = plan->ctx;
    const clconv_epilogue e = clconv_plan_epilogue(plan);
    clconv_status st;
    if (!e.has_residual && z)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "z: given, but the plan has no residual (has_residual = 0); expected "
                           "NULL");
    if (!e.pre_output && pre)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "pre: given, but the plan writes no pre-activation "
                           "(pre_activation_output = 0); expected NULL");
    if (e.has_residual) {
        if (!z)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "z: NULL, but the plan has a residual (has_residual = 1): "
                               "expected a buffer of y's size (it may be y itself)");
        if ((st = clconv_check_plan_buffer(plan, z, plan->y_bytes, "z")))
            return st;
        if (z == x || (w && z == w) || (b && z == b) || (workspace && z == workspace) ||
            (pre && z == pre))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "z: the same buffer as %s; expected its own buffer or y (in place)",
                               z == x ? "x" : (w && z == w) ? "w" : (b && z == b) ? "b"
                               : (pre && z == pre)            ? "pre"
                                                              : "the workspace");
    }
    if (e.pre_output) {
        if (!pre)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "pre: NULL, but the plan writes the pre-activation "
                               "(pre_activation_output = 1): expected a buffer of y's size");
        if ((st = clconv_check_plan_buffer(plan, pre, plan->y_bytes, "pre")))
            return st;
        if (pre == x || (w && pre == w) || (b && pre == b) || pre == y ||
            (workspace && pre == workspace))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "pre: the same buffer as %s; expected a buffer of its own",
                               pre == x ? "x" : (w && pre == w) ? "w" : (b && pre == b) ? "b"
                               : pre == y                           ? "y"
                                                                    : "the workspace");
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_enqueue_barrier(clconv_context *ctx, cl_uint n, const cl_event *ev,
                                     cl_event *out)
{
    cl_int err = clEnqueueBarrierWithWaitList(ctx->queue, n, n ? ev : NULL, out);
    if (err != CL_SUCCESS) {
        if (out)
            *out = NULL;
        return clconv_fail_cl(ctx, err, "clEnqueueBarrierWithWaitList");
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_plan_enqueue_buffers(clconv_plan *plan, cl_uint n, const cl_mem *bufs,
                                          const char *const *names, cl_uint num_wait,
                                          const cl_event *wait_list, cl_event *done)
{
    clconv_status st = CLCONV_SUCCESS;
    for (cl_uint i = 0; i < n && !st; i++)
        st = clconv_set_arg(plan->ctx, plan->kernel, i, sizeof(cl_mem), bufs[i] ? &bufs[i] : NULL,
                            names[i]);
    if (!st)
        st = clconv_plan_enqueue(plan, num_wait, wait_list, done);
    return st;
}

clconv_status clconv_buffer_create(clconv_context *ctx, size_t bytes, const void *src, cl_mem *out,
                                   const char *what)
{
    cl_int err;
    if (bytes == 0)
        bytes = 4;
    cl_mem_flags flags = CL_MEM_READ_WRITE | (src ? CL_MEM_COPY_HOST_PTR : 0);
    *out = clCreateBuffer(ctx->cl_ctx, flags, bytes, (void *)src, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        char buf[128];
        snprintf(buf, sizeof buf, "clCreateBuffer(%s, %zu bytes)", what, bytes);
        return clconv_fail_cl(ctx, err, buf);
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_buffer_read(clconv_context *ctx, cl_mem buf, size_t bytes, void *dst,
                                 cl_event ev)
{
    cl_int err = clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, dst, ev ? 1 : 0,
                                     ev ? &ev : NULL, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(ctx, err, "clEnqueueReadBuffer");
    return CLCONV_SUCCESS;
}


clconv_status clconv_host_check_arrays(clconv_context *ctx, const float *x, const float *w,
                                       const float *b, const float *y, int has_bias)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!x || !w || !y)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : !w ? "w" : "y");
    if (has_bias && !b)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "b: NULL but params.has_bias = 1, expected out_channels floats");
    return CLCONV_SUCCESS;
}

clconv_status clconv_host_check_epilogue(clconv_context *ctx, int has_residual, int pre_output,
                                         const float *z, const float *pre)
{
    if (has_residual && !z)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "z: NULL but params.has_residual = 1, expected y's size of floats");
    if (!has_residual && z)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "z: given but params.has_residual = 0, expected NULL");
    if (pre_output && !pre)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "pre: NULL but params.pre_activation_output = 1, expected y's size of "
                           "floats");
    if (!pre_output && pre)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "pre: given but params.pre_activation_output = 0, expected NULL");
    return CLCONV_SUCCESS;
}

clconv_status clconv_host_run_weighted(clconv_plan *plan, const float *x, const float *w,
                                       const float *b, const float *z, float *y, float *pre)
{
    clconv_context *ctx = plan->ctx;
    clconv_conv_buffers bufs = {0};
    cl_event ev = NULL;
    clconv_status st;
    const bool in_place = z && z == y;
    if (!(st = clconv_buffer_create(ctx, plan->x_bytes, x, &bufs.x, "x")) &&
        !(st = clconv_buffer_create(ctx, plan->w_bytes, w, &bufs.w, "w")) &&
        !(st = plan->b_bytes ? clconv_buffer_create(ctx, plan->b_bytes, b, &bufs.b, "b")
                             : CLCONV_SUCCESS) &&
        !(st = clconv_buffer_create(ctx, plan->y_bytes, in_place ? z : NULL, &bufs.y, "y")) &&
        !(st = z && !in_place ? clconv_buffer_create(ctx, plan->y_bytes, z, &bufs.z, "z")
                              : CLCONV_SUCCESS) &&
        !(st = pre ? clconv_buffer_create(ctx, plan->y_bytes, NULL, &bufs.pre, "pre")
                   : CLCONV_SUCCESS) &&
        !(st = plan->info.workspace_bytes
                   ? clconv_buffer_create(ctx, plan->info.workspace_bytes, NULL, &bufs.workspace,
                                          "workspace")
                   : CLCONV_SUCCESS)) {
        clconv_conv_buffers run = bufs;
        if (in_place)
            run.z = bufs.y;
        if (!(st = clconv_conv_run(plan, &run, 0, NULL, &ev)) &&
            !(st = clconv_buffer_read(ctx, bufs.y, plan->y_bytes, y, ev)) && pre)
            st = clconv_buffer_read(ctx, bufs.pre, plan->y_bytes, pre, NULL);
    }
    if (ev)
        clReleaseEvent(ev);
    cl_mem all[] = {bufs.x, bufs.w, bufs.b, bufs.y, bufs.z, bufs.pre, bufs.workspace};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    return st;
}
