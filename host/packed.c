/* Packed weights: a repack kernel and the plan-owned buffer it fills, shared
 * by direct-vector and transposed-vector. Their main kernels take the packed
 * buffer as argument 1 (set once at plan time) and x, b, y as 0, 2, 3. A run
 * packs w, then convolves; with w = NULL (prepared) it only convolves. The
 * buffer is rewritten by runs, so the plan's runs are ordered
 * (clconv_run_begin / _end). */
#include "algo.h"

#include <stdio.h>

clconv_status clconv_packer_init(clconv_plan *plan, clconv_packer *pk, const char *file,
                                 const char *kernel, size_t floats, cl_uint dim,
                                 const size_t global[2], const cl_int *args, size_t nargs)
{
    clconv_context *ctx = plan->ctx;
    clconv_status st;
    if ((st = clconv_buffer_create(ctx, floats * sizeof(float), NULL, &pk->packed,
                                   "packed weights")))
        return st;
    plan->ordered = true; /* every run repacks into pk->packed */
    plan->info.plan_device_bytes = floats * sizeof(float);
    plan->info.kernels_per_run = 2; /* the repack, then the convolution */
    pk->name = kernel;
    pk->dim = dim;
    pk->global[0] = global[0];
    pk->global[1] = dim > 1 ? global[1] : 1;
    if ((st = clconv_get_kernel(ctx, file, kernel, plan->info.build_options, &pk->pack)) ||
        (st = clconv_set_arg(ctx, pk->pack, 1, sizeof(cl_mem), &pk->packed, kernel)) ||
        (st = clconv_plan_set_ints(plan, pk->pack, 2, args, nargs)))
        return st;
    return clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &pk->packed,
                          plan->info.kernel_name);
}

void clconv_packer_release(clconv_packer *pk)
{
    if (pk->packed)
        clReleaseMemObject(pk->packed);
    if (pk->pack)
        clReleaseKernel(pk->pack);
    pk->packed = NULL;
    pk->pack = NULL;
}

/* Enqueues the repack of w after the given events. */
static clconv_status pack(clconv_plan *plan, clconv_packer *pk, cl_mem w, cl_uint n,
                          const cl_event *wl, cl_event *ev)
{
    clconv_status st = clconv_set_arg(plan->ctx, pk->pack, 0, sizeof(cl_mem), &w, pk->name);
    if (st)
        return st;
    cl_int err = clEnqueueNDRangeKernel(plan->ctx->queue, pk->pack, pk->dim, NULL, pk->global,
                                        NULL, n, n ? wl : NULL, ev);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", pk->name);
        return clconv_fail_cl(plan->ctx, err, what);
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_packed_run(clconv_plan *plan, clconv_packer *pk, const clconv_run_args *a)
{
    clconv_context *ctx = plan->ctx;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, a->num_wait, a->wait_list, &waits);
    if (st)
        return st;
    const char *kn = plan->info.kernel_name;
    if ((st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &a->x, kn)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), a->b ? &a->b : NULL, kn)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &a->y, kn))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL, ran = NULL;
    cl_event *want = a->done || clconv_run_wants_event(plan) ? &ran : NULL;
    if (!a->w) { /* prepared: the packed buffer holds them already */
        st = clconv_plan_enqueue(plan, waits.n, waits.n ? waits.list : NULL, want);
        clconv_run_waits_free(&waits);
        return clconv_run_end(plan, st, ran, a->done);
    }
    st = pack(plan, pk, a->w, waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (st)
        return clconv_run_end(plan, st, NULL, a->done);
    /* The event orders the two on out-of-order queues too. */
    st = clconv_plan_enqueue(plan, 1, &packed, want);
    clReleaseEvent(packed);
    return clconv_run_end(plan, st, ran, a->done);
}

clconv_status clconv_packed_prepare(clconv_plan *plan, clconv_packer *pk, cl_mem w,
                                    cl_uint num_wait, const cl_event *wait_list, cl_event *done)
{
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    cl_event packed = NULL;
    st = pack(plan, pk, w, waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    return clconv_run_end(plan, st, packed, done);
}
