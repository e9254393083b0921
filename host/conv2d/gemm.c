/* conv2d through CLBlast: 1x1 convolution as GEMM, im2col + SGEMM otherwise.
 *
 * A unit is one (image, group) pair, u = n * groups + g. Per unit
 *   Y_u [cout_g, OH*OW] = W_g [cout_g, K] x B_u [K, OH*OW],  K = cin_g * kh * kw,
 * where B_u is the unit's input itself for a 1x1 convolution with stride 1
 * and no padding (no copy: offsets into the caller's x), and otherwise the
 * unit's im2col matrix, built in the caller's workspace by
 * kernels/conv2d_gemm.cl. The workspace holds the columns of `chunk` units;
 * the units are processed chunk by chunk.
 *
 * The GEMMs go to CLBlastSgemmStridedBatched (CLBlastSgemm for a single
 * one): with groups = 1 one call per chunk (the weights' stride 0), with
 * groups > 1 one call per image (the groups of one image are equally spaced
 * in w, x / the columns and y) or one per group (the images of one group
 * are), whichever makes fewer calls. Not CLBlastSgemmBatched: it writes its
 * offset arrays to the device with blocking writes, which stall the host
 * behind the caller's wait list (and deadlock on a user event).
 * Bias and ReLU are an epilogue kernel over y after the last GEMM. */
#include "../algo.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest workspace the algorithm asks for by itself (as transposed-gemm). */
#define CG_WORKSPACE_CAP ((size_t)256 << 20)
/* Most GEMMs per CLBlast call (bounds CLBlast's own padded temporaries,
 * batch_count copies of each operand that needs padding). */
#define CG_BATCH_MAX ((size_t)1024)
/* The kernels' fixed work-group widths (kernels/conv2d_gemm.cl). */
#define CG_IM2COL_WG ((size_t)8)
#define CG_EPILOGUE_WG ((size_t)64)

typedef struct cg_data {
    bool direct;                  /* 1x1 / stride 1 / no padding: GEMM straight on x */
    bool epilogue;                /* bias or ReLU: the epilogue kernel runs */
    size_t m, n, k;               /* cout_g, OH*OW, cin_g*kh*kw */
    size_t units;                 /* images * groups */
    size_t groups;
    size_t chunk;                 /* units per workspace fill (all of them when direct) */
    cl_kernel epi;                /* conv2d_gemm_epilogue, or NULL */
    /* The residual (include/clconv.h "The epilogue"): CLBlast's alpha is the
     * epilogue's alpha; its beta is the epilogue's beta for a run in place
     * (z = y: C holds z when the GEMM starts), else 0 and the epilogue
     * kernel adds beta * z. gemm_beta is set per run (plan locked). */
    float gemm_alpha, gemm_beta;
    /* Plan time: cg_strided counts its calls instead of making them
     * (info.kernels_per_run). */
    bool counting;
    size_t calls;
    size_t im2col_global[3];      /* for a full chunk; dim 2 scales with the units */
} cg_data;

static void cg_destroy(clconv_plan *plan)
{
    cg_data *d = plan->state;
    if (d) {
        if (d->epi)
            clReleaseKernel(d->epi);
        free(d);
    }
    plan->state = NULL;
}

/* The plan's workspace cap: min(256 MiB, the device's largest buffer, the
 * context's workspace limit). */
static size_t cg_workspace_cap(const clconv_context *ctx)
{
    size_t cap = CG_WORKSPACE_CAP < (size_t)ctx->max_alloc ? CG_WORKSPACE_CAP
                                                           : (size_t)ctx->max_alloc;
    return ctx->workspace_limit < cap ? ctx->workspace_limit : cap;
}

static clconv_status cg_set_args(clconv_context *ctx, cl_kernel k, cl_uint first,
                                 const cl_int *v, size_t n, const char *what)
{
    clconv_status st = CLCONV_SUCCESS;
    for (size_t i = 0; i < n && !st; i++)
        st = clconv_set_arg(ctx, k, first + (cl_uint)i, sizeof(cl_int), &v[i], what);
    return st;
}

static clconv_status gemm_build(clconv_plan *plan, const clconv_conv2d_params *p,
                                const clconv_shape *in, const clconv_shape *out)
{
    clconv_context *ctx = plan->ctx;
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    /* The im2col kernel computes input coordinates and the matrix row in ints. */
    const int64_t span_h = (out->h - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    const int64_t span_w = (out->w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    const int64_t khw = p->kernel_h * p->kernel_w;
    if (span_h > INT32_MAX || span_w > INT32_MAX || khw > INT32_MAX || cin_g * khw > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "gemm: kernel %lldx%lld, dilation %lldx%lld, stride %lldx%lld: index "
                           "arithmetic would overflow the im2col kernel's 32-bit ints",
                           (long long)p->kernel_h, (long long)p->kernel_w,
                           (long long)p->dilation_h, (long long)p->dilation_w,
                           (long long)p->stride_h, (long long)p->stride_w);
    if (ctx->max_wg_size < CG_EPILOGUE_WG || ctx->max_item_sizes[0] < CG_EPILOGUE_WG)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "gemm: the helper kernels need work-groups of %zu items, the device "
                           "allows %zu", CG_EPILOGUE_WG, ctx->max_wg_size);
    cg_data *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = d;
    plan->info.algorithm = CLCONV_ALGO_GEMM;
    plan->info.workspace_bytes = 0;
    plan->info.local_mem_bytes = 0;
    plan->info.build_options[0] = '\0';
    memset(plan->local_size, 0, sizeof plan->local_size);
    memset(plan->global_size, 0, sizeof plan->global_size);

    d->direct = p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                p->pad_top == 0 && p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0;
    const clconv_epilogue e = clconv_plan_epilogue(plan);
    d->epilogue = e.has_bias || e.activation != CLCONV_ACTIVATION_NONE || e.has_residual ||
                  e.pre_output;
    d->gemm_alpha = e.alpha;
    d->m = (size_t)cout_g;
    d->n = (size_t)(out->h * out->w);
    d->k = (size_t)(cin_g * khw);
    d->groups = (size_t)p->groups;
    d->units = (size_t)in->n * d->groups;
    clconv_status st;

    if (d->direct) {
        d->chunk = d->units;
    } else {
        size_t per_unit = 0; /* bytes of one unit's columns */
        if (!clconv_mul_size(d->k, d->n, &per_unit) ||
            per_unit > CLCONV_MAX_DEVICE_ELEMENTS ||
            !clconv_mul_size(per_unit, sizeof(float), &per_unit) ||
            per_unit > (size_t)ctx->max_alloc)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "gemm: the im2col columns of one image and group (%zu x %zu "
                               "floats) exceed the device's largest buffer of %llu bytes; use a "
                               "direct algorithm", d->k, d->n,
                               (unsigned long long)ctx->max_alloc);
        const size_t cap = cg_workspace_cap(ctx), env_limit = ctx->workspace_limit;
        if (env_limit < per_unit)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "gemm: the im2col columns of one image and group need %zu bytes "
                               "of workspace, CLCONV_WORKSPACE_LIMIT = %zu; use a direct "
                               "algorithm", per_unit, env_limit);
        size_t chunk = cap / per_unit;
        if (chunk < 1)
            chunk = 1; /* one unit above the 256 MiB default still fits a buffer */
        if (chunk > d->units)
            chunk = d->units;
        /* CLBlast's batched kernels take offsets as ints: the workspace holds
         * one unit (< 2^31 floats) or at most 256 MiB. */
        d->chunk = chunk;
        plan->info.workspace_bytes = per_unit * chunk;
    }

    if (!d->direct) {
        snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "conv2d_im2col");
        if ((st = clconv_get_kernel(ctx, "conv2d_gemm", "conv2d_im2col", "", &plan->kernel)))
            return st;
        cl_int args[] = {(cl_int)in->h,         (cl_int)in->w,         (cl_int)out->h,
                         (cl_int)out->w,        (cl_int)p->kernel_h,   (cl_int)p->kernel_w,
                         (cl_int)p->stride_h,   (cl_int)p->stride_w,   (cl_int)p->dilation_h,
                         (cl_int)p->dilation_w, (cl_int)p->pad_top,    (cl_int)p->pad_left,
                         (cl_int)cin_g};
        if ((st = cg_set_args(ctx, plan->kernel, 2, args, sizeof args / sizeof args[0],
                              "conv2d_im2col")))
            return st;
        d->im2col_global[0] = ((size_t)out->w + CG_IM2COL_WG - 1) / CG_IM2COL_WG * CG_IM2COL_WG;
        d->im2col_global[1] = (size_t)out->h;
        d->im2col_global[2] = d->chunk * d->k;
        memcpy(plan->global_size, d->im2col_global, sizeof d->im2col_global);
        plan->local_size[0] = CG_IM2COL_WG;
        plan->local_size[1] = plan->local_size[2] = 1;
    } else {
        snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s",
                 d->units > 1 ? "CLBlastSgemmStridedBatched" : "CLBlastSgemm");
    }
    if (d->epilogue) {
        if ((st = clconv_get_kernel(ctx, "conv2d_gemm", "conv2d_gemm_epilogue",
                                    clconv_epilogue_build_options(plan, 0), &d->epi)))
            return st;
        cl_int args[] = {(cl_int)d->n, (cl_int)out->c};
        if ((st = cg_set_args(ctx, d->epi, 2, args, sizeof args / sizeof args[0],
                              "conv2d_gemm_epilogue")) ||
            (st = clconv_set_epilogue_args(plan, d->epi, 4, "conv2d_gemm_epilogue")))
            return st;
        if (d->direct) {
            plan->global_size[0] =
                (d->n + CG_EPILOGUE_WG - 1) / CG_EPILOGUE_WG * CG_EPILOGUE_WG;
            plan->global_size[1] = (size_t)(out->n * out->c);
            plan->global_size[2] = 1;
            plan->local_size[0] = CG_EPILOGUE_WG;
            plan->local_size[1] = plan->local_size[2] = 1;
        }
    }
    plan->work_dim = 3;

    return CLCONV_SUCCESS;
}

/* ---- running -------------------------------------------------------------- */

static clconv_status cg_clblast_fail(clconv_context *ctx, const char *what, CLBlastStatusCode cs,
                                     const cg_data *d, size_t u0, size_t count)
{
    /* CLBlast passes OpenCL errors through with their own (negative) codes. */
    const char *cl_name = (int)cs > -100 ? clconv_cl_error_name((cl_int)cs) : NULL;
    return clconv_fail(ctx, CLCONV_ERROR_CLBLAST,
                       "%s(m=%zu, n=%zu, k=%zu, units %zu..%zu) returned CLBlast status %d%s%s%s",
                       what, d->m, d->n, d->k, u0, u0 + count - 1, (int)cs,
                       cl_name ? " (" : "", cl_name ? cl_name : "", cl_name ? ")" : "");
}

/* One strided batch: units u, u + step, ..., count of them; B_u starts at
 * bbuf + (u - b_base) * k * n. ev (may be NULL) gets the call's event. */
static clconv_status cg_strided(clconv_plan *plan, const cg_data *d, cl_mem w, cl_mem bbuf,
                                size_t b_base, cl_mem y, size_t u, size_t step, size_t count,
                                cl_event *ev)
{
    clconv_context *ctx = plan->ctx;
    cl_command_queue q = ctx->queue;
    const size_t a_group = d->m * d->k, b_unit = d->k * d->n, c_unit = d->m * d->n;
    const size_t a_off = (u % d->groups) * a_group, b_off = (u - b_base) * b_unit;
    const size_t c_off = u * c_unit;
    if (d->counting) {
        ((cg_data *)d)->calls++;
        return CLCONV_SUCCESS;
    }
    CLBlastStatusCode cs;
    if (count == 1) {
        pthread_mutex_lock(&clconv_clblast_lock);
        cs = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, d->m,
                          d->n, d->k, d->gemm_alpha, w, a_off, d->k, bbuf, b_off, d->n,
                          d->gemm_beta, y, c_off,
                          d->n, &q, ev);
        pthread_mutex_unlock(&clconv_clblast_lock);
        if (cs != CLBlastSuccess)
            return cg_clblast_fail(ctx, "CLBlastSgemm", cs, d, u, 1);
        return CLCONV_SUCCESS;
    }
    /* The step is 1 (the groups of one image, or groups = 1) or groups (the
     * images of one group); the weights repeat every `groups` units. */
    const size_t a_stride = step % d->groups == 0 ? 0 : step * a_group;
    pthread_mutex_lock(&clconv_clblast_lock);
    cs = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                                    d->m, d->n, d->k, d->gemm_alpha, w, a_off, d->k, a_stride,
                                    bbuf, b_off, d->n, step * b_unit, d->gemm_beta, y, c_off,
                                    d->n, step * c_unit,
                                    count, &q, ev);
    pthread_mutex_unlock(&clconv_clblast_lock);
    if (cs != CLBlastSuccess)
        return cg_clblast_fail(ctx, "CLBlastSgemmStridedBatched", cs, d, u, count);
    return CLCONV_SUCCESS;
}

/* Queues strided batches, holding the latest one back so that the very last
 * call can be given the caller's event. Calls write disjoint parts of y, so
 * even an out-of-order queue needs no barrier between them. */
typedef struct cg_pending {
    bool set;
    size_t u, step, count;
} cg_pending;

static clconv_status cg_push(clconv_plan *plan, const cg_data *d, cl_mem w, cl_mem bbuf,
                             size_t b_base, cl_mem y, cg_pending *pend, size_t u, size_t step,
                             size_t count)
{
    for (size_t s = 0; s < count; s += CG_BATCH_MAX) {
        if (pend->set) {
            clconv_status st = cg_strided(plan, d, w, bbuf, b_base, y, pend->u, pend->step,
                                          pend->count, NULL);
            if (st)
                return st;
        }
        pend->set = true;
        pend->u = u + s * step;
        pend->step = step;
        pend->count = count - s < CG_BATCH_MAX ? count - s : CG_BATCH_MAX;
    }
    return CLCONV_SUCCESS;
}

/* The GEMMs of units u0 .. u0+count-1 (see cg_strided for b_base). ev (may
 * be NULL) gets the last call's event. */
static clconv_status cg_gemms(clconv_plan *plan, const cg_data *d, cl_mem w, cl_mem bbuf,
                              size_t b_base, cl_mem y, size_t u0, size_t count, cl_event *ev)
{
    const size_t g = d->groups, end = u0 + count;
    cg_pending pend = {0};
    clconv_status st = CLCONV_SUCCESS;
    if (g == 1) {
        st = cg_push(plan, d, w, bbuf, b_base, y, &pend, u0, 1, count);
    } else {
        /* One call per image touched (consecutive units of that image) or
         * one per group (units g apart), whichever is fewer. */
        const size_t first_image = u0 / g, images = (end - 1) / g - first_image + 1;
        const size_t group_calls = count < g ? count : g;
        if (images <= group_calls) {
            for (size_t i = 0; i < images && !st; i++) {
                size_t first = (first_image + i) * g;
                size_t u = first > u0 ? first : u0, stop = first + g < end ? first + g : end;
                st = cg_push(plan, d, w, bbuf, b_base, y, &pend, u, 1, stop - u);
            }
        } else {
            for (size_t r = 0; r < group_calls && !st; r++)
                st = cg_push(plan, d, w, bbuf, b_base, y, &pend, u0 + r, g,
                             (end - (u0 + r) + g - 1) / g);
        }
    }
    if (st)
        return st;
    return cg_strided(plan, d, w, bbuf, b_base, y, pend.u, pend.step, pend.count, ev);
}

static clconv_status cg_enqueue(clconv_plan *plan, cg_data *d, cl_mem x, cl_mem w, cl_mem b,
                                cl_mem y, cl_mem ws, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    cl_command_queue q = ctx->queue;
    clconv_status st;
    /* The event of the last command: in order, it completes after all the rest;
     * out of order, a final barrier stands for the whole run. */
    cl_event *last_ev = ctx->out_of_order ? NULL : done;
    if (!d->direct) {
        if ((st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &x, "x")) ||
            (st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &ws, "workspace")))
            return st;
    }
    for (size_t u0 = 0; u0 < d->units; u0 += d->chunk) {
        size_t count = d->units - u0 < d->chunk ? d->units - u0 : d->chunk;
        bool last_chunk = u0 + count >= d->units;
        cl_event *gemm_ev = last_chunk && !d->epilogue ? last_ev : NULL;
        if (d->direct) {
            st = cg_gemms(plan, d, w, x, 0, y, u0, count, gemm_ev);
        } else {
            if (u0 > 0 && ctx->out_of_order && (st = clconv_enqueue_barrier(ctx, 0, NULL, NULL)))
                return st; /* the previous chunk's GEMMs still read the workspace */
            cl_int u0i = (cl_int)u0;
            if ((st = clconv_set_arg(ctx, plan->kernel, 15, sizeof u0i, &u0i, "u0")))
                return st;
            size_t global[3] = {d->im2col_global[0], d->im2col_global[1], count * d->k};
            const size_t local[3] = {CG_IM2COL_WG, 1, 1};
            cl_int err = clEnqueueNDRangeKernel(q, plan->kernel, 3, NULL, global, local, 0, NULL,
                                                NULL);
            if (err != CL_SUCCESS)
                return clconv_fail_cl(ctx, err, "clEnqueueNDRangeKernel(conv2d_im2col)");
            if (ctx->out_of_order && (st = clconv_enqueue_barrier(ctx, 0, NULL, NULL)))
                return st;
            st = cg_gemms(plan, d, w, ws, u0, y, u0, count, gemm_ev);
        }
        if (st)
            return st;
    }
    if (d->epilogue) {
        if (ctx->out_of_order && (st = clconv_enqueue_barrier(ctx, 0, NULL, NULL)))
            return st;
        if ((st = clconv_set_arg(ctx, d->epi, 0, sizeof(cl_mem), &y, "y")) ||
            (st = clconv_set_arg(ctx, d->epi, 1, sizeof(cl_mem), b ? &b : NULL, "b")))
            return st;
        const clconv_shape *out = &plan->info.output;
        size_t global[2] = {(d->n + CG_EPILOGUE_WG - 1) / CG_EPILOGUE_WG * CG_EPILOGUE_WG,
                            (size_t)(out->n * out->c)};
        const size_t local[2] = {CG_EPILOGUE_WG, 1};
        cl_int err = clEnqueueNDRangeKernel(q, d->epi, 2, NULL, global, local, 0, NULL, last_ev);
        if (err != CL_SUCCESS)
            return clconv_fail_cl(ctx, err, "clEnqueueNDRangeKernel(conv2d_gemm_epilogue)");
    }
    if (ctx->out_of_order && done)
        return clconv_enqueue_barrier(ctx, 0, NULL, done);
    return CLCONV_SUCCESS;
}

static clconv_status gemm_enqueue(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                  cl_mem workspace, cl_uint num_wait,
                                  const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    cg_data *d = plan->state;
    clconv_status st;
    if (done)
        *done = NULL;
    if ((st = clconv_check_wait_list(ctx, num_wait, wait_list)))
        return st;
    if (plan->info.workspace_bytes > 0) {
        if ((st = clconv_check_buffer(ctx, workspace, plan->info.workspace_bytes, "workspace")))
            return st;
        if (workspace == x || workspace == w || workspace == y || (b && workspace == b))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "workspace: must not be the same buffer as x, w, b or y");
    }
    /* CLBlast takes no wait list: a barrier holds everything behind the events. */
    if (num_wait > 0 && (st = clconv_enqueue_barrier(ctx, num_wait, wait_list, NULL)))
        return st;
    st = cg_enqueue(plan, d, x, w, b, y, workspace, done);
    if (st && done && *done) {
        clReleaseEvent(*done);
        *done = NULL;
    }
    return st;
}

/* The commands a run enqueues: per chunk the im2col (unless direct) and
 * the CLBlast calls cg_gemms makes, then the epilogue kernel. */
static unsigned cg_count_commands(clconv_plan *plan, cg_data *d)
{
    size_t commands = d->epilogue ? 1 : 0;
    d->counting = true;
    d->calls = 0;
    for (size_t u0 = 0; u0 < d->units; u0 += d->chunk) {
        size_t count = d->units - u0 < d->chunk ? d->units - u0 : d->chunk;
        commands += d->direct ? 0 : 1;
        (void)cg_gemms(plan, d, NULL, NULL, d->direct ? 0 : u0, NULL, u0, count, NULL);
    }
    d->counting = false;
    return (unsigned)(commands + d->calls);
}

static clconv_status gemm_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    (void)opts; /* no tile options */
    clconv_status st =
        gemm_build(plan, &plan->params.conv2d, &plan->info.input, &plan->info.output);
    if (!st)
        plan->info.kernels_per_run = cg_count_commands(plan, plan->state);
    return st;
}

static clconv_status gemm_run(clconv_plan *plan, const clconv_run_args *a)
{
    cg_data *d = plan->state;
    const clconv_epilogue e = clconv_plan_epilogue(plan);
    const bool in_place = e.has_residual && a->z == a->y;
    d->gemm_beta = in_place ? e.beta : 0.0f;
    if (d->epi && e.has_residual) {
        /* In place, CLBlast's beta has added z before the epilogue kernel. */
        cl_mem z = in_place ? NULL : a->z;
        clconv_status st = clconv_set_arg(plan->ctx, d->epi, 4 + 6, sizeof(cl_mem),
                                          z ? &z : NULL, "z");
        if (st)
            return st;
    }
    return gemm_enqueue(plan, a->x, a->w, a->b, a->y, a->workspace, a->num_wait, a->wait_list,
                      a->done);
}

const clconv_algo clconv_conv2d_gemm = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_GEMM, .f16_refusal = CLCONV_CLBLAST_F16_REFUSAL,
    .plan = gemm_plan, .run = gemm_run, .destroy = cg_destroy};
