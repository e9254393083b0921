/* transposed-gemm: per image and group, CLBlast SGEMM
 * cols[Cout/g*kh*kw, H*W] = W_g^T x X_g into the caller's workspace, then a
 * deterministic gather col2im kernel that adds bias and activation; images
 * in chunks of what the workspace holds. CLBlast takes no wait list: on
 * out-of-order queues barriers order the steps. */
#include "ct.h"

#include <clblast_c.h>
#include <stdio.h>

static void ct_col2im_sizes(const clconv_plan *plan, const ct_data *d, int64_t images,
                            size_t global[3], size_t local[3])
{
    const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
    const clconv_shape *out = &plan->info.output;
    size_t phase_w = (size_t)((out->w + p->stride_w - 1) / p->stride_w);
    size_t phase_h = (size_t)((out->h + p->stride_h - 1) / p->stride_h);
    local[0] = (size_t)d->wg_w;
    local[1] = local[2] = 1;
    global[0] = clconv_round_up(phase_w, (size_t)d->wg_w);
    global[1] = phase_h;
    global[2] = (size_t)images * (size_t)out->c * (size_t)(p->stride_h * p->stride_w);
}

static clconv_status ct_plan_gemm(clconv_plan *plan, ct_data *d,
                                  const clconv_conv_transpose2d_params *p,
                                  const clconv_shape *in, const clconv_shape *out)
{
    clconv_context *ctx = plan->ctx;
    int64_t cout_g = p->out_channels / p->groups, cin_g = p->in_channels / p->groups;
    d->m = (size_t)(cout_g * p->kernel_h * p->kernel_w);
    d->k = (size_t)cin_g;
    d->hw = (size_t)(in->h * in->w);
    size_t per_image = 0; /* bytes of the columns of one image, all groups */
    if (!clconv_mul_size(d->m, d->hw, &per_image) ||
        !clconv_mul_size(per_image, (size_t)p->groups, &per_image) ||
        !clconv_mul_size(per_image, sizeof(float), &per_image) ||
        per_image / sizeof(float) > CLCONV_MAX_DEVICE_ELEMENTS ||
        per_image > (size_t)ctx->max_alloc)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "transposed-gemm: the columns of one image (%zu x %zu floats per "
                           "group, %lld groups) exceed the device's largest buffer of %llu "
                           "bytes; use transposed-gather",
                           d->m, d->hw, (long long)p->groups,
                           (unsigned long long)ctx->max_alloc);
    size_t cap = CT_WORKSPACE_CAP < (size_t)ctx->max_alloc ? CT_WORKSPACE_CAP
                                                           : (size_t)ctx->max_alloc;
    const size_t lim = ctx->workspace_limit;
    if (lim != SIZE_MAX) {
        if (lim < per_image)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "transposed-gemm: the columns of one image need %zu bytes of "
                               "workspace, CLCONV_WORKSPACE_LIMIT = %zu; use transposed-gather",
                               per_image, lim);
        if (lim < cap)
            cap = (size_t)lim;
    }
    int64_t chunk = (int64_t)(cap / per_image);
    if (chunk < 1)
        chunk = 1;
    if (chunk > in->n)
        chunk = in->n;
    d->chunk = chunk;
    plan->info.workspace_bytes = per_image * (size_t)chunk;
    /* one SGEMM per image and group, one col2im per chunk */
    plan->info.kernels_per_run =
        (unsigned)(in->n * p->groups + (in->n + chunk - 1) / chunk);

    /* col2im: a 1-D row of work-items along the phase columns. */
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    d->wg_w = clconv_context_is_cpu_family(ctx) ? 8 : 64;
    while (d->wg_w > 8 && d->wg_w / 2 >= phase_w)
        d->wg_w /= 2;
    d->wg_h = d->bw = d->boc = 1;
    const char *name = "conv_transpose2d_col2im";
    clconv_status st;
    size_t limit = 0; /* the compiled kernel's, once known */
    for (int attempt = 0;; attempt++) {
        int wg[3] = {d->wg_w, 1, 1};
        if ((st = clconv_fit_work_group(ctx, limit, wg, (const int[3]){0, 1, 2}, NULL)))
            return st;
        d->wg_w = wg[0];
        if ((st = clconv_ct_build(plan, p, name, d->wg_w, 1, 1, 1, NULL)))
            return st;
        if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
            return st;
        if ((size_t)d->wg_w <= limit)
            break;
        if (attempt > 8 || d->wg_w == 1)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "%s: the compiled kernel allows %zu work-items per group", name,
                               limit);
    }
    double z = (double)chunk * (double)out->c * (double)p->stride_h * (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2, expected <= %d", z, INT32_MAX);
    plan->work_dim = 3;
    ct_col2im_sizes(plan, d, chunk, plan->global_size, plan->local_size);


    cl_int args[] = {(cl_int)in->h, (cl_int)in->w, (cl_int)out->c, (cl_int)out->h,
                     (cl_int)out->w, (cl_int)p->groups, (cl_int)p->pad_top, (cl_int)p->pad_left};
    /* Argument 11 is the chunk's first image (set per run), then the epilogue. */
    clconv_status ast = clconv_plan_set_ints(plan, plan->kernel, 3, args, sizeof args / sizeof args[0]);
    return ast ? ast
               : clconv_set_epilogue_args(plan, plan->kernel, 12, plan->info.kernel_name);
}

/* GEMM + col2im, chunk by chunk of images. Called with the plan locked. */
static clconv_status ct_run_gemm(clconv_plan *plan, const clconv_run_args *a)
{
    cl_mem x = a->x, w = a->w, b = a->b, y = a->y, ws = a->workspace;
    cl_uint num_wait = a->num_wait;
    const cl_event *wait_list = a->wait_list;
    cl_event *done = a->done;
    clconv_context *ctx = plan->ctx;
    const ct_data *d = plan->state;
    const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
    const clconv_shape *in = &plan->info.input;
    clconv_status st;
    /* CLBlast takes no wait list: a barrier holds everything behind the events. */
    if (num_wait > 0 && (st = clconv_enqueue_barrier(ctx, num_wait, wait_list, NULL)))
        return st;
    cl_command_queue q = ctx->queue;
    const size_t groups = (size_t)p->groups;
    const size_t a_group = d->k * d->m;                 /* weights of one group */
    const size_t b_image = (size_t)in->c * d->hw;       /* one input image */
    const size_t c_entry = d->m * d->hw;                /* cols of one (image, group) */
    cl_mem args[3] = {ws, b, y};
    const char *names[3] = {"workspace", "b", "y"};
    for (cl_uint i = 0; i < 3; i++)
        if ((st = clconv_set_arg(ctx, plan->kernel, i, sizeof(cl_mem), args[i] ? &args[i] : NULL,
                                 names[i])))
            return st;
    for (int64_t n0 = 0; n0 < in->n; n0 += d->chunk) {
        int64_t images = in->n - n0 < d->chunk ? in->n - n0 : d->chunk;
        if (n0 > 0 && ctx->out_of_order && (st = clconv_enqueue_barrier(ctx, 0, NULL, NULL)))
            return st; /* the previous col2im still reads the workspace */
        for (int64_t nl = 0; nl < images; nl++) {
            for (size_t g = 0; g < groups; g++) {
                pthread_mutex_lock(&clconv_clblast_lock);
                CLBlastStatusCode cs = CLBlastSgemm(
                    CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, d->m, d->hw,
                    d->k, 1.0f, w, g * a_group, d->m, x,
                    (size_t)(n0 + nl) * b_image + g * d->k * d->hw, d->hw, 0.0f, ws,
                    ((size_t)nl * groups + g) * c_entry, d->hw, &q, NULL);
                pthread_mutex_unlock(&clconv_clblast_lock);
                if (cs != CLBlastSuccess)
                    return clconv_fail(ctx, CLCONV_ERROR_CLBLAST,
                                       "CLBlastSgemm(m=%zu, n=%zu, k=%zu, image %lld, group "
                                       "%zu) returned %d", d->m, d->hw, d->k,
                                       (long long)(n0 + nl), g, (int)cs);
            }
        }
        if (ctx->out_of_order && (st = clconv_enqueue_barrier(ctx, 0, NULL, NULL)))
            return st;
        size_t global[3], local[3];
        ct_col2im_sizes(plan, d, images, global, local);
        cl_int n0i = (cl_int)n0;
        if ((st = clconv_set_arg(ctx, plan->kernel, 11, sizeof n0i, &n0i, "n0")))
            return st;
        bool last = n0 + images >= in->n;
        cl_int err = clEnqueueNDRangeKernel(q, plan->kernel, 3, NULL, global, local, 0, NULL,
                                            last ? done : NULL);
        if (err != CL_SUCCESS) {
            if (done)
                *done = NULL;
            return clconv_fail_cl(ctx, err, "clEnqueueNDRangeKernel(conv_transpose2d_col2im)");
        }
    }
    return CLCONV_SUCCESS;
}

static clconv_status gemm_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    ct_data *d;
    clconv_status st = clconv_ct_state(plan, &d);
    (void)opts;
    if (st)
        return st;
    return ct_plan_gemm(plan, d, &plan->params.conv_transpose2d, &plan->info.input,
                        &plan->info.output);
}

const clconv_algo clconv_ct_gemm = {
    .op = CLCONV_OP_CONV_TRANSPOSE2D, .id = CLCONV_ALGO_TRANSPOSED_GEMM,
    .f16_refusal = CLCONV_CLBLAST_F16_REFUSAL, .plan = gemm_plan, .run = ct_run_gemm,
    .destroy = clconv_ct_destroy};
