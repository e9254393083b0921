/* conv2d by Winograd F(2x2,3x3) for 3x3 stride-1 layers (kernels/conv2d_winograd.cl).
 *
 * A run enqueues: the filter transform into a plan-owned buffer U (after the
 * caller's wait list), then per chunk of images the input transform into the
 * workspace (V), the 16 batched GEMMs (M, also in the workspace) and the
 * output transform with bias and ReLU into y. Each step waits on the event of
 * the one before it, and a chunk's input transform on the previous chunk's
 * output transform (it reuses the workspace), so out-of-order queues work. */
#include "../algo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Input channels per filter-transform work-item. */
#define WINO_FILTER_CI 16
/* Work-group sizes (fixed: PoCL compiles a kernel again for each local size). */
#define WINO_LOCAL_FILTER 4
#define WINO_LOCAL_GEMM 4 /* tile blocks x channel blocks of a GEMM work-group */
#define WINO_LOCAL_RUNS 4
/* Upper bound of the workspace; larger batches run in chunks of images. */
#define WINO_WORKSPACE_CAP ((size_t)256 << 20)

typedef struct wino_data {
    cl_mem u;                      /* transformed filters [g][ocb][16][cin_g][VEC] */
    cl_kernel filter, input, output; /* plan->kernel is wino_gemm */
    int vec, ob, ocbs, tw, t, tp;  /* ocbs: channel blocks, a multiple of ob */
    int64_t chunk;                 /* images per chunk */
    size_t m_off;                  /* floats from the workspace start to M */
} wino_data;

static void wino_destroy(clconv_plan *plan)
{
    wino_data *d = plan->state;
    if (!d)
        return;
    if (d->u)
        clReleaseMemObject(d->u);
    if (d->filter)
        clReleaseKernel(d->filter);
    if (d->input)
        clReleaseKernel(d->input);
    if (d->output)
        clReleaseKernel(d->output);
    free(d);
    plan->state = NULL;
}

static clconv_status make_kernel(clconv_context *ctx, cl_program prog, const char *name,
                                 cl_kernel *out)
{
    cl_int err;
    *out = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        char what[96];
        snprintf(what, sizeof what, "clCreateKernel(%s)", name);
        return clconv_fail_cl(ctx, err, what);
    }
    return CLCONV_SUCCESS;
}

static clconv_status set_ints(clconv_context *ctx, cl_kernel k, cl_uint first, const cl_int *v,
                              size_t n, const char *what)
{
    clconv_status st;
    for (size_t i = 0; i < n; i++)
        if ((st = clconv_set_arg(ctx, k, first + (cl_uint)i, sizeof(cl_int), &v[i], what)))
            return st;
    return CLCONV_SUCCESS;
}

static size_t round_up(size_t a, size_t b)
{
    return (a + b - 1) / b * b;
}

static clconv_status winograd_applies(const clconv_plan *plan)
{
    const clconv_conv2d_params *p = &plan->params.conv2d;
    if (p->kernel_h != 3 || p->kernel_w != 3 || p->stride_h != 1 || p->stride_w != 1)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "winograd: F(2x2,3x3) needs a 3x3 kernel and stride 1 (any "
                           "dilation); got kernel %lldx%lld, stride %lldx%lld; use "
                           "direct-vector or auto",
                           (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                           (long long)p->stride_w);
    return CLCONV_SUCCESS;
}

static clconv_status winograd_build(clconv_plan *plan, const clconv_conv2d_params *p,
                                    const clconv_shape *in, const clconv_shape *out)
{
    clconv_context *ctx = plan->ctx;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (vec > 4 && cout_g <= vec / 2)
        vec /= 2;
    int64_t ocbs = (cout_g + vec - 1) / vec;
    /* Channel blocks (ob) x tiles (bt) per GEMM work-item, each broadcast V
     * value feeding ob FMAs: 2 x 12 (24 of AVX-512's 32 registers) where a
     * group has 8 or more blocks, VGG-16's conv2_1 - conv5_x 1.08 - 1.33x
     * faster than 1 x 16 (alternating rounds, best of 3); with 4 blocks
     * (64 channels: conv1_2, ResNet-50 layer1) 1 x 16 stayed ahead (0.93x),
     * and 1 wastes no padding block. The tile count is padded to bt / 2,
     * the last item may hold that many. */
    const int ob = ocbs >= 8 ? 2 : 1, bt = ob == 2 ? 12 : 16;
    ocbs = (ocbs + ob - 1) / ob * ob;
    /* Tiles per phase (kernels/conv2d_winograd.cl wino_first): with dilation
     * d an axis splits into d phases of ceil(out / d) outputs, each tiled in
     * pairs; d = 1 is the plain 2x2 tiling. */
    const int64_t tph = ((out->h + p->dilation_h - 1) / p->dilation_h + 1) / 2;
    const int64_t tpw = ((out->w + p->dilation_w - 1) / p->dilation_w + 1) / 2;
    int64_t th = p->dilation_h * tph, tw = p->dilation_w * tpw, t = th * tw;
    int64_t tp = (int64_t)round_up((size_t)t, (size_t)bt / 2);
    /* Per image: V is 16 x C x TP floats, M is 16 x groups*ocbs*VEC x TP. */
    double per_image = 16.0 * (double)tp * (double)(in->c + p->groups * ocbs * vec) * 4.0;
    /* As the GEMM algorithms: the workspace holds as many images as fit in
     * min(256 MiB, the device's largest allocation, CLCONV_WORKSPACE_LIMIT
     * bytes when set), at least one; one image may exceed the 256 MiB
     * default but not the other two, nor 2^31 floats (int offsets). */
    size_t hard = (size_t)ctx->max_alloc;
    if (hard > (size_t)CLCONV_MAX_DEVICE_ELEMENTS * sizeof(float))
        hard = (size_t)CLCONV_MAX_DEVICE_ELEMENTS * sizeof(float);
    if (ctx->workspace_limit < hard)
        hard = ctx->workspace_limit;
    if (per_image > (double)hard)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "winograd: the transformed tiles of one image need %.0f bytes of "
                           "workspace, more than the %zu allowed (the device's largest "
                           "allocation, 2^31 floats, CLCONV_WORKSPACE_LIMIT); use a direct "
                           "algorithm", per_image, hard);
    size_t cap = WINO_WORKSPACE_CAP < hard ? WINO_WORKSPACE_CAP : hard;
    int64_t chunk = (int64_t)((double)cap / per_image);
    if (chunk < 1)
        chunk = 1;
    if (chunk > in->n)
        chunk = in->n;
    size_t u_floats = (size_t)(p->groups * ocbs * vec) * 16 * (size_t)cin_g;
    if (u_floats > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "winograd: transformed filters of %zu floats exceed the kernels' "
                           "32-bit indexing", u_floats);

    wino_data *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = d;
    d->vec = vec;
    d->ob = ob;
    d->ocbs = (int)ocbs;
    d->tw = (int)tw;
    d->t = (int)t;
    d->tp = (int)tp;
    d->chunk = chunk;
    d->m_off = (size_t)chunk * 16 * (size_t)tp * (size_t)in->c;

    snprintf(plan->info.build_options, sizeof plan->info.build_options,
             "-DVEC=%d -DBT=%d -DOB=%d -DFILTER_CI=%d%s", vec, bt, ob, WINO_FILTER_CI,
             clconv_epilogue_build_options(plan, 1));
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "wino_gemm");
    clconv_status st;
    cl_program prog;
    if ((st = clconv_get_program(ctx, "conv2d_winograd", plan->info.build_options, &prog)))
        return st;
    if ((st = make_kernel(ctx, prog, "wino_gemm", &plan->kernel)) ||
        (st = make_kernel(ctx, prog, "wino_filter", &d->filter)) ||
        (st = make_kernel(ctx, prog, "wino_input", &d->input)) ||
        (st = make_kernel(ctx, prog, "wino_output", &d->output)))
        return st;
    if ((st = clconv_buffer_create(ctx, u_floats * sizeof(float), NULL, &d->u,
                                   "winograd filters")))
        return st;
    plan->ordered = true; /* every run transforms the filters into d->u */

    /* Arguments that never change; buffers and the chunk's first image are set per run. */
    cl_int fargs[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups, d->ocbs};
    cl_int iargs[] = {(cl_int)in->c, (cl_int)in->h, (cl_int)in->w, (cl_int)p->groups,
                      (cl_int)p->pad_top, (cl_int)p->pad_left, d->tw, d->t, d->tp};
    /* the dilation and the tiles per phase: after n0 (input), after the
     * epilogue (output) */
    cl_int dargs[] = {(cl_int)p->dilation_h, (cl_int)p->dilation_w, (cl_int)tph, (cl_int)tpw};
    /* The GEMM's order: channel blocks fastest (each block of V reused by
     * all of them) where a group has 8 or more blocks and U_e, one transform
     * element's filters, is at most 256 KiB (cin_g x cout_g <= 64K): VGG-16
     * conv2_2 - conv3_2 1.11 - 1.18x; with 4 blocks (conv1_2, 64 channels)
     * 0.88x, with larger U_e (conv4_2, conv5_x) 0.98x. */
    const bool ocb_fast = ocbs / ob >= 8 && cin_g * cout_g <= 65536;
    cl_int gargs[] = {(cl_int)d->m_off, (cl_int)cin_g, d->ocbs, (cl_int)p->groups, d->tp,
                      ocb_fast ? 1 : 0};
    cl_int oargs[] = {(cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups,
                      d->ocbs, d->tw, d->t, d->tp};
    cl_int m_off = (cl_int)d->m_off;
    if ((st = clconv_set_arg(ctx, d->filter, 1, sizeof(cl_mem), &d->u, "wino_filter")) ||
        (st = set_ints(ctx, d->filter, 2, fargs, 4, "wino_filter")) ||
        (st = set_ints(ctx, d->input, 2, iargs, 9, "wino_input")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &d->u, "wino_gemm")) ||
        (st = set_ints(ctx, plan->kernel, 2, gargs, 6, "wino_gemm")) ||
        (st = set_ints(ctx, d->output, 1, &m_off, 1, "wino_output")) ||
        (st = set_ints(ctx, d->output, 4, oargs, 8, "wino_output")) ||
        (st = clconv_set_epilogue_args(plan, d->output, 13, "wino_output")) ||
        (st = set_ints(ctx, d->input, 12, dargs, 4, "wino_input")) ||
        (st = set_ints(ctx, d->output, 13 + CLCONV_EPILOGUE_NARGS, dargs, 4, "wino_output")))
        return st;

    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_WINOGRAD;
    plan->global_size[ocb_fast ? 1 : 0] =
        round_up(((size_t)tp + bt - 1) / bt, WINO_LOCAL_GEMM);
    plan->global_size[ocb_fast ? 0 : 1] = round_up((size_t)(ocbs / ob), WINO_LOCAL_GEMM);
    plan->global_size[2] = (size_t)(16 * chunk * p->groups);
    plan->local_size[0] = WINO_LOCAL_GEMM;
    plan->local_size[1] = WINO_LOCAL_GEMM;
    plan->local_size[2] = 1;
    plan->info.workspace_bytes = (size_t)chunk * (size_t)per_image;
    plan->info.plan_device_bytes = u_floats * sizeof(float);
    /* the filter transform, then per chunk the input transform, GEMM, output */
    plan->info.kernels_per_run =
        (unsigned)(1 + 3 * ((plan->info.input.n + chunk - 1) / chunk));
    return CLCONV_SUCCESS;
}

static clconv_status enqueue(clconv_context *ctx, cl_kernel k, cl_uint dim, const size_t *global,
                             const size_t *local, cl_uint nw, const cl_event *wl, cl_event *ev,
                             const char *name)
{
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, k, dim, NULL, global, local, nw, wl, ev);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
        return clconv_fail_cl(ctx, err, what);
    }
    return CLCONV_SUCCESS;
}

/* The filter transform of w into d->u, after the given events. */
static clconv_status filter_enqueue(clconv_plan *plan, cl_mem w, cl_uint nw, const cl_event *wl,
                                    cl_event *ev)
{
    clconv_context *ctx = plan->ctx;
    wino_data *d = plan->state;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    int64_t cin_g = p->in_channels / p->groups;
    clconv_status st = clconv_set_arg(ctx, d->filter, 0, sizeof(cl_mem), &w, "wino_filter");
    if (st)
        return st;
    size_t fglobal[2] = {round_up((size_t)(p->groups * d->ocbs), WINO_LOCAL_FILTER),
                         ((size_t)cin_g + WINO_FILTER_CI - 1) / WINO_FILTER_CI};
    /* Fixed local sizes: PoCL specializes a kernel per local size, so letting
     * it choose would compile again for every shape. */
    size_t flocal[2] = {WINO_LOCAL_FILTER, 1};
    return enqueue(ctx, d->filter, 2, fglobal, flocal, nw, nw ? wl : NULL, ev, "wino_filter");
}

static clconv_status winograd_enqueue(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                      cl_mem workspace, cl_uint num_wait,
                                      const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    wino_data *d = plan->state;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    clconv_status st;
    if ((st = clconv_check_wait_list(ctx, num_wait, wait_list)) ||
        (st = clconv_check_buffer(ctx, workspace, plan->info.workspace_bytes, "workspace")))
        return st;
    if (workspace == x || workspace == w || workspace == y || (b && workspace == b))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "workspace: must not be the same buffer as x, w, b or y");
    /* The transformed filters d->u are the plan's: the filter transform also
     * waits for the previous run (clconv_run_begin). */
    clconv_run_waits fwaits;
    if ((st = clconv_run_begin(plan, num_wait, wait_list, &fwaits)))
        return st;
    if ((st = clconv_set_arg(ctx, d->input, 0, sizeof(cl_mem), &x, "wino_input")) ||
        (st = clconv_set_arg(ctx, d->input, 1, sizeof(cl_mem), &workspace, "wino_input")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &workspace, "wino_gemm")) ||
        (st = clconv_set_arg(ctx, d->output, 0, sizeof(cl_mem), &workspace, "wino_output")) ||
        (st = clconv_set_arg(ctx, d->output, 2, sizeof(cl_mem), b ? &b : NULL, "wino_output")) ||
        (st = clconv_set_arg(ctx, d->output, 3, sizeof(cl_mem), &y, "wino_output"))) {
        clconv_run_waits_free(&fwaits);
        return st;
    }

    cl_event filt = NULL, prev = NULL, ev_in = NULL, ev_gemm = NULL;
    /* Without w the prepared filters are in d->u already, and the first input
     * transform waits for what the filter transform would have. */
    if (w) {
        st = filter_enqueue(plan, w, fwaits.n, fwaits.list, &filt);
        clconv_run_waits_free(&fwaits);
        if (st)
            return clconv_run_end(plan, st, NULL, done);
    }
    const clconv_shape *in = &plan->info.input;
    for (int64_t n0 = 0; n0 < in->n; n0 += d->chunk) {
        int64_t nb = in->n - n0 < d->chunk ? in->n - n0 : d->chunk;
        cl_int n0i = (cl_int)n0;
        if ((st = clconv_set_arg(ctx, d->input, 11, sizeof(cl_int), &n0i, "wino_input")) ||
            (st = clconv_set_arg(ctx, d->output, 12, sizeof(cl_int), &n0i, "wino_output")))
            break;
        /* The input transform waits for the caller's list (first chunk) or for
         * the previous chunk's output transform (workspace reuse). */
        size_t runs = (size_t)(d->t / d->tw) * (((size_t)d->tw + 7) / 8);
        size_t iglobal[3] = {round_up(runs, WINO_LOCAL_RUNS), (size_t)in->c, (size_t)nb};
        size_t ilocal[3] = {WINO_LOCAL_RUNS, 1, 1};
        st = prev ? enqueue(ctx, d->input, 3, iglobal, ilocal, 1, &prev, &ev_in, "wino_input")
             : w  ? enqueue(ctx, d->input, 3, iglobal, ilocal, num_wait, wait_list, &ev_in,
                            "wino_input")
                  : enqueue(ctx, d->input, 3, iglobal, ilocal, fwaits.n,
                            fwaits.n ? fwaits.list : NULL, &ev_in, "wino_input");
        if (st)
            break;
        cl_event gwait[2] = {ev_in, filt};
        size_t gglobal[3] = {plan->global_size[0], plan->global_size[1],
                             (size_t)(16 * nb * p->groups)};
        if ((st = enqueue(ctx, plan->kernel, 3, gglobal, plan->local_size, filt ? 2 : 1,
                          gwait, &ev_gemm, "wino_gemm")))
            break;
        clReleaseEvent(ev_in);
        ev_in = NULL;
        size_t oglobal[2] = {round_up(runs, WINO_LOCAL_RUNS),
                             (size_t)(nb * p->groups * d->ocbs)};
        size_t olocal[2] = {WINO_LOCAL_RUNS, 1};
        cl_event out_ev = NULL;
        st = enqueue(ctx, d->output, 2, oglobal, olocal, 1, &ev_gemm, &out_ev, "wino_output");
        clReleaseEvent(ev_gemm);
        ev_gemm = NULL;
        if (st)
            break;
        if (prev)
            clReleaseEvent(prev);
        prev = out_ev;
    }
    clconv_run_waits_free(&fwaits);
    if (ev_in)
        clReleaseEvent(ev_in);
    if (filt)
        clReleaseEvent(filt);
    return clconv_run_end(plan, st, prev, done);
}

/* Transforms constant filters into d->u once (ordered like a run). */
static clconv_status winograd_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                      const cl_event *wait_list, cl_event *done)
{
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    cl_event filt = NULL;
    st = filter_enqueue(plan, w, waits.n, waits.list, &filt);
    clconv_run_waits_free(&waits);
    return clconv_run_end(plan, st, filt, done);
}

static clconv_status winograd_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    (void)opts; /* no tile options */
    return winograd_build(plan, &plan->params.conv2d, &plan->info.input, &plan->info.output);
}

static clconv_status winograd_run(clconv_plan *plan, const clconv_run_args *a)
{
    return winograd_enqueue(plan, a->x, a->w, a->b, a->y, a->workspace, a->num_wait, a->wait_list,
                      a->done);
}

const clconv_algo clconv_conv2d_winograd = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_WINOGRAD, .f16 = true,
    .applies = winograd_applies, .plan = winograd_plan,
    .run = winograd_run, .destroy = wino_destroy, .prepare = winograd_prepare};
