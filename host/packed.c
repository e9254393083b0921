/* Staged operands: a staging kernel and the plan-owned buffer it fills.
 * Packed weights (direct-vector, transposed-vector): the main kernel takes
 * the buffer as argument 1 (set once at plan time) and x, b, y as 0, 2, 3; a
 * run packs w, then convolves; with w = NULL (prepared) it only convolves.
 * Copies of x (direct-pointwise, direct-batch): the buffer is argument 0 and
 * w, b, y are 1..3; every run copies x, then convolves. Either buffer is
 * rewritten by runs, so the plan's runs are ordered (clconv_run_begin / _end). */
#include "algo.h"

#include <stdio.h>
#include <stdlib.h>

static clconv_status stage_init(clconv_plan *plan, clconv_packer *pk, bool of_x,
                                const char *file, const char *kernel, size_t floats,
                                cl_uint dim, const size_t global[2], const cl_int *args,
                                size_t nargs)
{
    clconv_context *ctx = plan->ctx;
    clconv_status st;
    pk->of_x = of_x;
    if ((st = clconv_buffer_create(ctx, floats * sizeof(float), NULL, &pk->packed,
                                   of_x ? "copy of x" : "packed weights")))
        return st;
    plan->ordered = true; /* every run rewrites pk->packed */
    plan->info.plan_device_bytes = floats * sizeof(float);
    plan->info.kernels_per_run = 2; /* the staging kernel, then the convolution */
    pk->name = kernel;
    pk->dim = dim;
    pk->global[0] = global[0];
    pk->global[1] = dim > 1 ? global[1] : 1;
    if ((st = clconv_get_kernel(ctx, file, kernel, plan->info.build_options, &pk->pack)) ||
        (st = clconv_set_arg(ctx, pk->pack, 1, sizeof(cl_mem), &pk->packed, kernel)) ||
        (st = clconv_plan_set_ints(plan, pk->pack, 2, args, nargs)))
        return st;
    return clconv_set_arg(ctx, plan->kernel, of_x ? 0 : 1, sizeof(cl_mem), &pk->packed,
                          plan->info.kernel_name);
}

clconv_status clconv_packer_init(clconv_plan *plan, clconv_packer *pk, const char *file,
                                 const char *kernel, size_t floats, cl_uint dim,
                                 const size_t global[2], const cl_int *args, size_t nargs)
{
    return stage_init(plan, pk, false, file, kernel, floats, dim, global, args, nargs);
}

clconv_status clconv_copier_init(clconv_plan *plan, clconv_packer *pk, const char *file,
                                 const char *kernel, size_t floats, cl_uint dim,
                                 const size_t global[2], const cl_int *args, size_t nargs)
{
    return stage_init(plan, pk, true, file, kernel, floats, dim, global, args, nargs);
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

void clconv_packer_state_destroy(clconv_plan *plan)
{
    clconv_packer *pk = plan->state;
    if (!pk)
        return;
    clconv_packer_release(pk);
    free(pk);
    plan->state = NULL;
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
    /* the operand the main kernel reads as it is: x, or w beside a copy of x */
    const cl_uint direct_at = pk->of_x ? 1 : 0;
    const cl_mem direct = pk->of_x ? a->w : a->x, staged = pk->of_x ? a->x : a->w;
    if ((st = clconv_set_arg(ctx, plan->kernel, direct_at, sizeof(cl_mem), &direct, kn)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), a->b ? &a->b : NULL, kn)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &a->y, kn))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL, ran = NULL;
    cl_event *want = a->done || clconv_run_wants_event(plan) ? &ran : NULL;
    if (!staged) { /* prepared weights: the packed buffer holds them already */
        st = clconv_plan_enqueue(plan, waits.n, waits.n ? waits.list : NULL, want);
        clconv_run_waits_free(&waits);
        return clconv_run_end(plan, st, ran, a->done);
    }
    st = pack(plan, pk, staged, waits.n, waits.list, &packed);
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
