/* The registry: every algorithm of every operator on the algorithm
 * interface (host/algo.h), and building / undoing a plan with one of them.
 * Adding an algorithm: write its file under host/<operator>/ with one
 * `const clconv_algo`, declare it in algo.h, list it here (and, for AUTO,
 * give it a rule in select.c). */
#include "algo.h"

#include <stdio.h>
#include <string.h>

static const clconv_algo *const registry[] = {
    &clconv_conv2d_direct_tiled,   &clconv_conv2d_direct_register,
    &clconv_conv2d_direct_vector,  &clconv_conv2d_direct_depthwise,
    &clconv_conv2d_direct_pointwise, &clconv_conv2d_direct_batch,
    &clconv_conv2d_direct_depthwise_channels, &clconv_conv2d_gemm,
    &clconv_conv2d_winograd,
    &clconv_ct_gather,             &clconv_ct_vector,
    &clconv_ct_columns,            &clconv_ct_gemm,
    &clconv_conv2d_backward_weights,
    &clconv_pool2d_pool,           &clconv_pool2d_backward_pool,
    &clconv_conv2d_backward_bias,  &clconv_relu_backward,
    &clconv_activation_elementwise,
};

#define REGISTRY_SIZE (sizeof registry / sizeof registry[0])

const clconv_algo *clconv_algo_lookup(clconv_op op, clconv_algorithm id)
{
    for (size_t i = 0; i < REGISTRY_SIZE; i++)
        if (registry[i]->op == op && registry[i]->id == id)
            return registry[i];
    return NULL;
}

const char *clconv_algo_names(clconv_op op)
{
    /* Per thread: messages copy it at once. */
    static _Thread_local char names[256];
    size_t n = (size_t)snprintf(names, sizeof names, "auto");
    for (size_t i = 0; i < REGISTRY_SIZE && n < sizeof names; i++)
        if (registry[i]->op == op && registry[i]->id != CLCONV_ALGO_AUTO)
            n += (size_t)snprintf(names + n, sizeof names - n, ", %s",
                                  clconv_algorithm_name(registry[i]->id));
    return names;
}

void clconv_plan_reset(clconv_plan *plan)
{
    if (plan->algo && plan->algo->destroy)
        plan->algo->destroy(plan);
    plan->algo = NULL;
    plan->state = NULL;
    if (plan->kernel)
        clReleaseKernel(plan->kernel);
    plan->kernel = NULL;
    plan->epi_kernel = NULL;
    plan->epi_first = 0;
    plan->ordered = false;
    plan->work_dim = 0;
    plan->info.algorithm = CLCONV_ALGO_AUTO;
    plan->info.workspace_bytes = plan->info.plan_device_bytes = 0;
    plan->info.local_mem_bytes = 0;
    memset(plan->local_size, 0, sizeof plan->local_size);
    memset(plan->global_size, 0, sizeof plan->global_size);
    plan->info.build_options[0] = '\0';
    plan->info.kernel_name[0] = '\0';
    plan->info.kernels_per_run = 0;
}

clconv_status clconv_algo_dtype_ok(const clconv_plan *plan, const clconv_algo *algo)
{
    if (plan->dtype == CLCONV_DTYPE_F32 || (plan->dtype == CLCONV_DTYPE_F16 && algo->f16))
        return CLCONV_SUCCESS;
    return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                       "dtype = %s: algorithm %s takes f32 tensors only (%s)",
                       clconv_dtype_name(plan->dtype), clconv_algorithm_name(algo->id),
                       algo->f16_refusal ? algo->f16_refusal
                                         : "fp16 storage is not offered for it");
}

clconv_status clconv_plan_build_with(clconv_plan *plan, const clconv_algo *algo,
                                     const clconv_plan_options *opts)
{
    clconv_status st = clconv_algo_dtype_ok(plan, algo);
    if (st)
        return st;
    st = algo->applies ? algo->applies(plan) : CLCONV_SUCCESS;
    if (st)
        return st;
    plan->algo = algo;
    plan->info.algorithm = algo->id;
    plan->info.kernels_per_run = 0;
    st = algo->plan(plan, opts);
    if (st)
        clconv_plan_reset(plan);
    else if (plan->info.kernels_per_run == 0)
        plan->info.kernels_per_run = 1; /* one kernel, unless the algorithm said more */
    return st;
}

clconv_status clconv_plan_build_single(clconv_plan *plan, const clconv_plan_options *opts,
                                       const char *what)
{
    const clconv_algo *one = NULL;
    for (size_t i = 0; i < REGISTRY_SIZE && !one; i++)
        if (registry[i]->op == plan->op)
            one = registry[i];
    const clconv_algorithm asked = opts ? opts->algorithm : CLCONV_ALGO_AUTO;
    if (!one || (asked != CLCONV_ALGO_AUTO && asked != one->id))
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected auto%s%s for %s",
                           clconv_algorithm_name(asked),
                           one && one->id != CLCONV_ALGO_AUTO ? " or " : "",
                           one && one->id != CLCONV_ALGO_AUTO ? clconv_algorithm_name(one->id) : "",
                           what);
    return clconv_plan_build_with(plan, one, opts);
}

/* Whether runs of op take weights that clconv_plan_prepare can hold. */
static bool takes_weights(clconv_op op)
{
    return op == CLCONV_OP_CONV2D || op == CLCONV_OP_CONV_TRANSPOSE2D ||
           op == CLCONV_OP_CONV2D_BACKWARD_DATA;
}

clconv_status clconv_plan_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                  const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    if (done)
        *done = NULL;
    clconv_status st;
    if ((st = clconv_check_wait_list(ctx, num_wait, wait_list)) ||
        (st = clconv_check_buffer(ctx, w, plan->w_bytes, "w")))
        return st;
    pthread_mutex_lock(&plan->lock);
    if (plan->algo->prepare) {
        st = plan->algo->prepare(plan, w, num_wait, wait_list, done);
        plan->prepared = st == CLCONV_SUCCESS;
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    /* A fresh buffer each time: runs already enqueued keep reading the old
     * copy (OpenCL frees it once they are done), so re-preparing never races
     * with them. */
    cl_mem copy = NULL;
    cl_event ev = NULL;
    if (!(st = clconv_buffer_create(ctx, plan->w_bytes, NULL, &copy, "prepared weights"))) {
        cl_int err = clEnqueueCopyBuffer(ctx->queue, w, copy, 0, 0, plan->w_bytes, num_wait,
                                         wait_list, &ev);
        if (err != CL_SUCCESS) {
            ev = NULL;
            st = clconv_fail_cl(ctx, err, "clEnqueueCopyBuffer(prepared weights)");
        }
    }
    cl_int rerr = !st && done ? clRetainEvent(ev) : CL_SUCCESS;
    if (!st && rerr != CL_SUCCESS)
        st = clconv_fail_cl(ctx, rerr, "clRetainEvent");
    if (st) {
        if (ev)
            clReleaseEvent(ev);
        if (copy)
            clReleaseMemObject(copy);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    if (plan->prepared_w)
        clReleaseMemObject(plan->prepared_w);
    if (plan->prepare_event)
        clReleaseEvent(plan->prepare_event);
    plan->prepared_w = copy;
    plan->prepare_event = ev;
    plan->prepared = true;
    if (done)
        *done = ev;
    pthread_mutex_unlock(&plan->lock);
    return CLCONV_SUCCESS;
}

clconv_status clconv_plan_dispatch(clconv_plan *plan, const clconv_run_args *a)
{
    clconv_status st = clconv_check_wait_list(plan->ctx, a->num_wait, a->wait_list);
    if (st)
        return st;
    pthread_mutex_lock(&plan->lock);
    if (!takes_weights(plan->op)) {
        st = plan->algo->run(plan, a);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    if (!a->w && !plan->prepared) { /* another thread's run replaced them meanwhile */
        pthread_mutex_unlock(&plan->lock);
        return clconv_fail(plan->ctx, CLCONV_ERROR_INVALID_VALUE,
                           "w: NULL, but the plan's prepared weights were replaced by a run "
                           "with weights of its own; prepare again");
    }
    if (a->w)
        plan->prepared = false; /* the run's weights replace the prepared ones */
    if ((st = clconv_set_epilogue_buffers(plan, a->z, a->pre))) {
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    if (a->w || plan->algo->prepare) {
        st = plan->algo->run(plan, a);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    /* The copy of clconv_plan_prepare; on an out-of-order queue after it. */
    clconv_run_waits waits;
    st = clconv_waits_with(plan->ctx, a->num_wait, a->wait_list,
                           plan->ctx->out_of_order ? plan->prepare_event : NULL, &waits);
    if (!st) {
        clconv_run_args b = *a;
        b.w = plan->prepared_w;
        b.wait_list = waits.n ? waits.list : NULL;
        b.num_wait = waits.n;
        st = plan->algo->run(plan, &b);
        clconv_run_waits_free(&waits);
    }
    pthread_mutex_unlock(&plan->lock);
    return st;
}

clconv_status clconv_algo_supported(const clconv_plan *plan, clconv_algorithm algorithm)
{
    if (algorithm == CLCONV_ALGO_AUTO)
        return CLCONV_SUCCESS;
    /* Backward-data plans run the transposed-convolution algorithms. */
    clconv_op op = plan->op == CLCONV_OP_CONV2D_BACKWARD_DATA ? CLCONV_OP_CONV_TRANSPOSE2D
                                                              : plan->op;
    const clconv_algo *a = clconv_algo_lookup(op, algorithm);
    if (!a)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED, "%s is not an algorithm of this "
                           "operator; expected %s", clconv_algorithm_name(algorithm),
                           clconv_algo_names(op));
    clconv_status st = clconv_algo_dtype_ok(plan, a);
    if (st)
        return st;
    return a->applies ? a->applies(plan) : CLCONV_SUCCESS;
}
