/* conv2d plans: algorithm and tile choice, kernel specialization, dispatch. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Tile shape of the direct kernels (see kernels/conv2d.cl). */
typedef struct tile_cfg {
    int wg_w, wg_h, wg_oc, bw, boc, ci_chunk;
} tile_cfg;

/* Local memory a tiled work-group uses, in bytes. */
static size_t tiled_local_bytes(const clconv_conv2d_params *p, const tile_cfg *t)
{
    size_t in_th = (size_t)(t->wg_h - 1) * p->stride_h + (size_t)(p->kernel_h - 1) * p->dilation_h + 1;
    size_t in_tw = (size_t)(t->wg_w * t->bw - 1) * p->stride_w +
                   (size_t)(p->kernel_w - 1) * p->dilation_w + 1;
    size_t in = (size_t)t->ci_chunk * in_th * in_tw;
    size_t wt = (size_t)t->wg_oc * t->boc * t->ci_chunk * p->kernel_h * p->kernel_w;
    return (in + wt) * sizeof(float);
}

/* Built-in defaults where the tuning database has no entry, per device
 * kind. Work-groups are whole warps (32, NVIDIA), wavefronts (64, AMD) or
 * SIMD-16 threads (Intel); CPUs want one row per work-item loop. Only the
 * PoCL CPU row has been measured; the GPU rows follow the vendors' guides
 * and wait for a tuning run on real hardware (find mode records the winners). */
static tile_cfg default_cfg(const clconv_context *ctx, clconv_algorithm algo)
{
    static const struct {
        const char *vendor; /* substring of CL_DEVICE_VENDOR, "" = any */
        cl_device_type type;
        tile_cfg tiled, reg;
    } table[] = {
        {"", CL_DEVICE_TYPE_CPU, {16, 4, 1, 2, 8, 4}, {16, 1, 1, 1, 8, 1}},
        {"NVIDIA", CL_DEVICE_TYPE_GPU, {16, 4, 4, 2, 4, 8}, {32, 4, 1, 2, 8, 1}},
        {"Advanced Micro Devices", CL_DEVICE_TYPE_GPU, {16, 4, 4, 2, 4, 8}, {64, 2, 1, 2, 8, 1}},
        {"AMD", CL_DEVICE_TYPE_GPU, {16, 4, 4, 2, 4, 8}, {64, 2, 1, 2, 8, 1}},
        {"Intel", CL_DEVICE_TYPE_GPU, {8, 4, 4, 2, 4, 8}, {16, 4, 1, 2, 8, 1}},
        {"", CL_DEVICE_TYPE_ALL, {16, 4, 4, 2, 4, 8}, {16, 4, 1, 2, 8, 1}},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if ((clconv_context_family_type(ctx) & table[i].type) && strstr(ctx->vendor, table[i].vendor))
            return algo == CLCONV_ALGO_DIRECT_REGISTER ? table[i].reg : table[i].tiled;
    return algo == CLCONV_ALGO_DIRECT_REGISTER ? table[5].reg : table[5].tiled;
}

/* Shrinks a tile that would be mostly idle on a small output. */
static void fit_to_shape(tile_cfg *t, int64_t oh, int64_t ow, int64_t cout_g, int64_t cin_g)
{
    while (t->bw > 1 && (int64_t)t->wg_w * t->bw / 2 >= ow)
        t->bw /= 2;
    while (t->wg_w > 1 && (int64_t)t->wg_w * t->bw / 2 >= ow)
        t->wg_w /= 2;
    while (t->wg_h > 1 && t->wg_h / 2 >= oh)
        t->wg_h /= 2;
    while (t->boc > 1 && (int64_t)t->wg_oc * t->boc / 2 >= cout_g)
        t->boc /= 2;
    while (t->wg_oc > 1 && (int64_t)t->wg_oc * t->boc / 2 >= cout_g)
        t->wg_oc /= 2;
    if (t->ci_chunk > cin_g)
        t->ci_chunk = (int)cin_g;
}

/* Shrinks a tiled configuration until it fits the local-memory budget;
 * false when even the smallest tile does not fit. */
static bool fit_local(const clconv_conv2d_params *p, tile_cfg *t, size_t budget)
{
    while (tiled_local_bytes(p, t) > budget) {
        if (t->ci_chunk > 1)
            t->ci_chunk /= 2;
        else if (t->wg_h > 1)
            t->wg_h /= 2;
        else if (t->bw > 1)
            t->bw /= 2;
        else if (t->wg_w > 1)
            t->wg_w /= 2;
        else if (t->boc > 1)
            t->boc /= 2;
        else if (t->wg_oc > 1)
            t->wg_oc /= 2;
        else
            return false;
    }
    return true;
}

static clconv_status apply_overrides(clconv_context *ctx, const clconv_plan_options *o, tile_cfg *t)
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

static size_t local_budget(const clconv_context *ctx)
{
    /* Stay well inside the device's local memory (PoCL reports its L2 size,
     * and a full work-group's worth leaves no room for the driver's own use). */
    size_t lm = (size_t)ctx->local_mem_size;
    size_t cap = 32 * 1024;
    return (lm < cap ? lm : cap) - 256;
}

/* Compiles kernels/conv2d.cl for one variant (its kernel name) with the
 * geometry and tile as -D constants; extra adds variant-specific ones. */
static clconv_status build_kernel(clconv_plan *plan, const clconv_conv2d_params *p,
                                  const tile_cfg *t, const char *name, const char *extra)
{
    clconv_context *ctx = plan->ctx;
    int n = snprintf(plan->info.build_options, sizeof plan->info.build_options,
                     "-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld -DWG_W=%d "
                     "-DWG_H=%d -DWG_OC=%d -DBW=%d -DBOC=%d -DCI_CHUNK=%d",
                     (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                     (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w,
                     t->wg_w, t->wg_h, t->wg_oc, t->bw, t->boc, t->ci_chunk);
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

/* Arguments 4.. of every direct kernel: the input planes it reads (in_h x
 * in_w: x's own, or the pointwise variant's phase planes), the output shape,
 * groups, the top/left padding and the bias / ReLU flags; the depthwise
 * variant appends its plane count (extra >= 0). */
static clconv_status set_direct_args(clconv_plan *plan, const clconv_conv2d_params *p,
                                     const clconv_shape *in, int64_t in_h, int64_t in_w,
                                     const clconv_shape *out, int64_t extra)
{
    cl_int args[] = {(cl_int)in->c, (cl_int)in_h, (cl_int)in_w, (cl_int)out->c,
                     (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups, (cl_int)p->pad_top,
                     (cl_int)p->pad_left, p->has_bias ? 1 : 0,
                     p->activation == CLCONV_ACTIVATION_RELU ? 1 : 0, (cl_int)extra};
    size_t n = sizeof args / sizeof args[0] - (extra < 0 ? 1 : 0);
    return clconv_plan_set_ints(plan, plan->kernel, 4, args, n);
}


/* The kernel's own limit may be below the device's (registers, local memory). */
static clconv_status kernel_wg_limit(clconv_plan *plan, size_t *limit)
{
    cl_int err = clGetKernelWorkGroupInfo(plan->kernel, plan->ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                          sizeof *limit, limit, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(plan->ctx, err, "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
    return CLCONV_SUCCESS;
}

/* ---- the vector variant (CPU devices) ------------------------------------ */

typedef struct vector_data {
    cl_mem packed;        /* weights as [g][channel block][ci][kh][kw][VEC] */
    cl_kernel pack;       /* conv2d_pack_weights */
    size_t pack_global[2]; /* (ceil(L / PACK_J), groups * channel blocks) */
} vector_data;

static void vector_destroy(clconv_plan *plan)
{
    vector_data *d = plan->op_data;
    if (!d)
        return;
    if (d->packed)
        clReleaseMemObject(d->packed);
    if (d->pack)
        clReleaseKernel(d->pack);
    free(d);
    plan->op_data = NULL;
}

/* Output columns per work-item: a divisor of the row width between 8 and 16
 * when there is one (no ragged edge block), else 16 (or the whole row). */
static int vector_block_w(int64_t ow)
{
    if (ow <= 16)
        return (int)ow;
    for (int bw = 16; bw >= 8; bw--)
        if (ow % bw == 0)
            return bw;
    return 16;
}

static clconv_status vector_plan_build(clconv_plan *plan, const clconv_conv2d_params *p,
                                       const clconv_shape *in, const clconv_shape *out,
                                       const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (vec > 4 && cout_g <= vec / 2)
        vec /= 2;
    tile_cfg t = {1, 4, 1, vector_block_w(out->w), 1, 1};
    tile_cfg checked = t; /* every override is validated, even those unused here */
    clconv_status st = apply_overrides(ctx, opts, &checked);
    if (st)
        return st;
    while (t.wg_h > 1 && t.wg_h / 2 >= out->h)
        t.wg_h /= 2;
    if (opts) {
        if (opts->block_w < 0 || opts->block_w > 16)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..16", opts->block_w);
        if (opts->wg_h < 0 || opts->wg_h > 64)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.wg_h = %d, expected 0 (default) or 1..64", opts->wg_h);
        if (opts->block_w)
            t.bw = opts->block_w;
        if (opts->wg_h)
            t.wg_h = opts->wg_h;
    }
    if ((size_t)t.wg_h > ctx->max_wg_size)
        t.wg_h = (int)ctx->max_wg_size;
    /* Rows per work-item: keep about 16 accumulators (RH x BW) per item. */
    int rh = t.bw >= 16 ? 1 : 16 / t.bw;
    if (rh > 4)
        rh = 4;
    while (rh > 1 && rh / 2 >= out->h)
        rh /= 2;
    char extra[48];
    snprintf(extra, sizeof extra, "-DVEC=%d -DRH=%d", vec, rh);
    if ((st = build_kernel(plan, p, &t, "conv2d_vector", extra)))
        return st;
    vector_data *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->op_data = d;
    plan->destroy_op = vector_destroy;
    int64_t ocbs = (cout_g + vec - 1) / vec;
    size_t packed = (size_t)(p->groups * ocbs * cin_g * p->kernel_h * p->kernel_w) * (size_t)vec;
    if (packed > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-vector: packed weights of %zu floats exceed the kernels' "
                           "32-bit indexing", packed);
    if ((st = clconv_buffer_create(ctx, packed * sizeof(float), NULL, &d->packed, "packed weights")))
        return st;
    plan->ordered = true; /* every run repacks into d->packed */
    cl_program prog;
    if ((st = clconv_get_program(ctx, "conv2d", plan->info.build_options, &prog)))
        return st;
    cl_int err;
    d->pack = clCreateKernel(prog, "conv2d_pack_weights", &err);
    if (err != CL_SUCCESS) {
        d->pack = NULL;
        return clconv_fail_cl(ctx, err, "clCreateKernel(conv2d_pack_weights)");
    }
    /* PACK_J in kernels/conv2d.cl: weights of a row one pack work-item moves */
    d->pack_global[0] = (size_t)((cin_g * p->kernel_h * p->kernel_w + 15) / 16);
    d->pack_global[1] = (size_t)(p->groups * ocbs);
    cl_int pack_args[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups};
    if ((st = clconv_set_arg(ctx, d->pack, 1, sizeof(cl_mem), &d->packed, "conv2d_pack_weights")))
        return st;
    for (cl_uint i = 0; i < 3; i++)
        if ((st = clconv_set_arg(ctx, d->pack, 2 + i, sizeof(cl_int), &pack_args[i],
                                 "conv2d_pack_weights")))
            return st;
    if ((st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &d->packed, "conv2d_vector")))
        return st;

    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_VECTOR;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = (size_t)t.wg_h;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = (size_t)((out->w + t.bw - 1) / t.bw);
    size_t row_items = (size_t)((out->h + rh - 1) / rh);
    plan->info.global_size[1] = (row_items + (size_t)t.wg_h - 1) / (size_t)t.wg_h * (size_t)t.wg_h;
    plan->info.global_size[2] = (size_t)(in->n * p->groups * ocbs);
    plan->info.plan_device_bytes = packed * sizeof(float);
    return set_direct_args(plan, p, in, in->h, in->w, out, -1);
}

/* Repacks the weights, then runs the convolution after it. Called with the
 * plan lock held. The packed buffer is the plan's: runs are ordered
 * (clconv_run_begin / _end). */
static clconv_status vector_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                cl_uint num_wait, const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    vector_data *d = plan->op_data;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((st = clconv_set_arg(ctx, d->pack, 0, sizeof(cl_mem), &w, "conv2d_pack_weights")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &x, plan->info.kernel_name)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), b ? &b : NULL, plan->info.kernel_name)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &y, plan->info.kernel_name))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL, ran = NULL;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->pack, 2, NULL, d->pack_global, NULL,
                                        waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv2d_pack_weights)"),
                              NULL, done);
    /* The event makes the order explicit on out-of-order queues too. */
    st = clconv_plan_enqueue(plan, 1, &packed,
                             done || clconv_run_wants_event(plan) ? &ran : NULL);
    clReleaseEvent(packed);
    return clconv_run_end(plan, st, ran, done);
}

/* ---- the pointwise variant (pixel-lane GEMM, CPU devices) ---------------- */

/* Plans that read a copy of x (padded, strided or larger kernels). */
typedef struct pointwise_data {
    cl_mem copy;          /* [N * C][phases][Hq][Wq], then Wq floats of slack */
    cl_kernel gather;     /* conv2d_gather_phases */
    size_t global[2];     /* (Hq, N * C * phases) */
} pointwise_data;

static void pointwise_destroy(clconv_plan *plan)
{
    pointwise_data *d = plan->op_data;
    if (!d)
        return;
    if (d->copy)
        clReleaseMemObject(d->copy);
    if (d->gather)
        clReleaseKernel(d->gather);
    free(d);
    plan->op_data = NULL;
}

/* Copies x, then runs the convolution on the copy. Called with the plan
 * lock held. The copy is the plan's: runs are ordered (clconv_run_begin / _end). */
static clconv_status pointwise_copy_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                        cl_mem y, cl_uint num_wait, const cl_event *wait_list,
                                        cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    pointwise_data *d = plan->op_data;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((st = clconv_set_arg(ctx, d->gather, 0, sizeof(cl_mem), &x, "conv2d_gather_phases")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &d->copy, "conv2d_pointwise")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &w, "conv2d_pointwise")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), b ? &b : NULL,
                             "conv2d_pointwise")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &y, "conv2d_pointwise"))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event copied = NULL, ran = NULL;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->gather, 2, NULL, d->global, NULL,
                                        waits.n, waits.list, &copied);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv2d_gather_phases)"),
                              NULL, done);
    /* The event makes the order explicit on out-of-order queues too. */
    st = clconv_plan_enqueue(plan, 1, &copied,
                             done || clconv_run_wants_event(plan) ? &ran : NULL);
    clReleaseEvent(copied);
    return clconv_run_end(plan, st, ran, done);
}

/* Pixel lanes, pixel vectors and channels per work-item for a map of P
 * pixels: the widest vector (up to the device's) whose vectors cover the map
 * with at most 1/6 surplus lanes (a 7x7 map takes 7 x 8 lanes rather than
 * 4 x 16); then 4..8 vectors per work-item, the count whose blocks cover the
 * map with the fewest vectors (ties: 7, 6, 5, 4, 8 in that order), and as
 * many channels as keep the accumulators within 24 of AVX-512's 32 vector
 * registers. Measured on PoCL (AMD EPYC, 2 threads): 7 vectors x 3
 * channels ran ResNet-50's 1x1 layers at 180-200 GFLOP/s, 3 x 8 at half
 * that: the weights, broadcast from memory, are the scarce reuse. */
static void pointwise_shape(int64_t pixels, int maxvec, int *vec, int *npv, int *boc)
{
    int v = maxvec;
    while (v > 4 && (pixels < v || ((pixels + v - 1) / v * v - pixels) * 6 > pixels))
        v /= 2;
    int64_t nvec = (pixels + v - 1) / v;
    static const int order[] = {7, 6, 5, 4, 8};
    int best = nvec < 4 ? (int)nvec : 7;
    int64_t best_cost = (nvec + best - 1) / best * best;
    for (size_t i = 1; i < sizeof order / sizeof order[0] && nvec >= 4; i++) {
        int64_t cost = (nvec + order[i] - 1) / order[i] * order[i];
        if (cost < best_cost) {
            best = order[i];
            best_cost = cost;
        }
    }
    *vec = v;
    *npv = best;
    *boc = 24 / best < 8 ? 24 / best : 8;
}

static clconv_status pointwise_plan_build(clconv_plan *plan, const clconv_conv2d_params *p,
                                          const clconv_shape *in, const clconv_shape *out,
                                          const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    bool direct = p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                  !p->pad_top && !p->pad_bottom && !p->pad_left && !p->pad_right;
    /* the copy's phase planes and the wide grid (see kernels/conv2d.cl) */
    int64_t sh = p->stride_h, sw = p->stride_w;
    int64_t reach_h = (p->kernel_h - 1) * p->dilation_h, reach_w = (p->kernel_w - 1) * p->dilation_w;
    int64_t nph = (sh < reach_h + 1 ? sh : reach_h + 1) * (sw < reach_w + 1 ? sw : reach_w + 1);
    int64_t hq = direct ? in->h : out->h + reach_h / sh, wq = direct ? in->w : out->w + reach_w / sw;
    int64_t pixels = out->h * wq;
    if (pixels < 4)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-pointwise: needs at least 4 output pixels, got %lldx%lld",
                           (long long)out->h, (long long)out->w);
    size_t copy = direct ? 0 : (size_t)(in->n * in->c * nph * hq * wq + wq);
    if (copy > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-pointwise: the padded copy of x, %zu floats, exceeds the "
                           "kernels' 32-bit indexing", copy);
    int64_t cout_g = p->out_channels / p->groups;
    tile_cfg checked = {1, 1, 1, 1, 1, 1}; /* every override is validated */
    clconv_status st = apply_overrides(ctx, opts, &checked);
    if (st)
        return st;
    int maxvec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    int vec, npv, boc;
    pointwise_shape(pixels, maxvec, &vec, &npv, &boc);
    if (opts && opts->block_w) {
        if (opts->block_w > 8)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..8 pixel "
                               "vectors for direct-pointwise", opts->block_w);
        npv = opts->block_w;
    }
    if (opts && opts->block_oc)
        boc = opts->block_oc;
    while (boc > 1 && boc / 2 >= cout_g)
        boc /= 2;
    char extra[64];
    snprintf(extra, sizeof extra, "-DVEC=%d -DNPV=%d -DWIDE=%d", vec, npv,
             wq > out->w ? 1 : 0);
    tile_cfg t = {1, 1, 1, 1, boc, 1};
    if ((st = build_kernel(plan, p, &t, "conv2d_pointwise", extra)))
        return st;
    int64_t ocbs = (cout_g + boc - 1) / boc;
    int64_t per_item = (int64_t)npv * vec;
    if (!direct) {
        pointwise_data *d = calloc(1, sizeof *d);
        if (!d)
            return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
        plan->op_data = d;
        plan->destroy_op = pointwise_destroy;
        if ((st = clconv_buffer_create(ctx, copy * sizeof(float), NULL, &d->copy,
                                       "padded copy of x")))
            return st;
        plan->ordered = true; /* every run rewrites d->copy */
        cl_program prog;
        if ((st = clconv_get_program(ctx, "conv2d", plan->info.build_options, &prog)))
            return st;
        cl_int err;
        d->gather = clCreateKernel(prog, "conv2d_gather_phases", &err);
        if (err != CL_SUCCESS) {
            d->gather = NULL;
            return clconv_fail_cl(ctx, err, "clCreateKernel(conv2d_gather_phases)");
        }
        d->global[0] = (size_t)hq;
        d->global[1] = (size_t)(in->n * in->c * nph);
        cl_int gargs[] = {(cl_int)in->h, (cl_int)in->w, (cl_int)hq, (cl_int)wq,
                          (cl_int)(in->n * in->c), (cl_int)p->pad_top, (cl_int)p->pad_left};
        if ((st = clconv_set_arg(ctx, d->gather, 1, sizeof(cl_mem), &d->copy,
                                 "conv2d_gather_phases")))
            return st;
        for (cl_uint i = 0; i < sizeof gargs / sizeof gargs[0]; i++)
            if ((st = clconv_set_arg(ctx, d->gather, 2 + i, sizeof(cl_int), &gargs[i],
                                     "conv2d_gather_phases")))
                return st;
        plan->info.plan_device_bytes = copy * sizeof(float);
    }
    plan->work_dim = 2;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_POINTWISE;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = 1;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = (size_t)((pixels + per_item - 1) / per_item);
    plan->info.global_size[1] = (size_t)(in->n * p->groups * ocbs);
    plan->info.global_size[2] = 1;
    /* H, W: the phase planes the kernel reads (x's own when direct) */
    return set_direct_args(plan, p, in, hq, wq, out, -1);
}

/* ---- the depthwise variant (CPU devices) --------------------------------- */

static clconv_status depthwise_plan_build(clconv_plan *plan, const clconv_conv2d_params *p,
                                          const clconv_shape *in, const clconv_shape *out,
                                          const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    if (p->in_channels != p->groups)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-depthwise: needs one input channel per group (groups = "
                           "in_channels), got groups = %lld, in_channels = %lld",
                           (long long)p->groups, (long long)p->in_channels);
    tile_cfg checked = {1, 1, 1, 1, 1, 1};
    clconv_status st = apply_overrides(ctx, opts, &checked);
    if (st)
        return st;
    int vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (vec > 4 && out->w <= vec / 2)
        vec /= 2;
    /* rows per work-item (wg_h option) and channels per work-group (wg_oc) */
    tile_cfg t = {1, opts && opts->wg_h ? opts->wg_h : 4, opts && opts->wg_oc ? opts->wg_oc : 8,
                  1, 1, 1};
    while (t.wg_h > 1 && t.wg_h / 2 >= out->h)
        t.wg_h /= 2;
    int64_t planes = in->n * p->out_channels;
    while (t.wg_oc > 1 && t.wg_oc / 2 >= planes)
        t.wg_oc /= 2;
    if ((size_t)t.wg_oc > ctx->max_wg_size)
        t.wg_oc = (int)ctx->max_wg_size;
    char extra[48];
    snprintf(extra, sizeof extra, "-DVEC=%d -DRH=%d", vec, t.wg_h);
    if ((st = build_kernel(plan, p, &t, "conv2d_depthwise", extra)))
        return st;
    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = 1;
    plan->info.local_size[2] = (size_t)t.wg_oc;
    plan->info.global_size[0] = (size_t)((out->w + vec - 1) / vec);
    plan->info.global_size[1] = (size_t)((out->h + t.wg_h - 1) / t.wg_h);
    plan->info.global_size[2] = (size_t)((planes + t.wg_oc - 1) / t.wg_oc) * (size_t)t.wg_oc;
    return set_direct_args(plan, p, in, in->h, in->w, out, planes);
}

static clconv_status conv2d_plan_build(clconv_plan *plan, const clconv_conv2d_params *p,
                                       const clconv_shape *in, const clconv_shape *out,
                                       const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    clconv_algorithm algo = opts ? opts->algorithm : CLCONV_ALGO_AUTO;
    bool cpu = clconv_context_is_cpu_family(ctx);
    /* CPUs: output channels in SIMD lanes where there are enough of them per
     * group; depthwise and other thin groups keep one channel block per item. */
    /* Winograd F(2x2,3x3) measured 1.2-5x faster than direct-vector on PoCL for
     * 3x3 stride-1 layers with deep channels and enough 2x2 tiles; below that
     * its per-run filter transform dominates. It needs a workspace (reported in
     * the plan info). */
    int64_t tiles = in->n * ((out->h + 1) / 2) * ((out->w + 1) / 2);
    if (algo == CLCONV_ALGO_AUTO && cpu && p->kernel_h == 3 && p->kernel_w == 3 &&
        p->stride_h == 1 && p->stride_w == 1 && p->dilation_h == 1 && p->dilation_w == 1 &&
        cin_g >= 16 && cout_g >= 16 && tiles >= 32) {
        clconv_status wst = clconv_conv2d_winograd_plan(plan, p, in, out);
        if (wst == CLCONV_SUCCESS)
            return wst;
        /* e.g. an image whose tiles exceed the workspace bound: undo, go direct */
        if (plan->destroy_op)
            plan->destroy_op(plan);
        plan->destroy_op = NULL;
        if (plan->kernel)
            clReleaseKernel(plan->kernel);
        plan->kernel = NULL;
        plan->info.workspace_bytes = plan->info.plan_device_bytes = 0;
        plan->ordered = false;
    }
    /* CPUs: pixels in SIMD lanes, no weight repacking. Measured on PoCL
     * against direct-vector: 2.5-5x on ResNet-50's 1x1 layers, 1.4-2.3x on its
     * conv1 and 3x3 stride-2 / 7x7-map layers, 1.5x on VGG's conv1_1 and 5x5
     * layers; slower where the wide grid drops over a quarter of its columns
     * or a single input channel leaves little to reduce (LeNet). */
    int64_t wq = out->w + (p->kernel_w - 1) * p->dilation_w / p->stride_w;
    if (algo == CLCONV_ALGO_AUTO && cpu && cout_g >= 4 && out->h * wq >= 4 &&
        (cin_g >= 2 || (p->kernel_h == 1 && p->kernel_w == 1)) && (wq - out->w) * 4 <= wq) {
        clconv_status pst = pointwise_plan_build(plan, p, in, out, opts);
        if (pst == CLCONV_SUCCESS)
            return pst;
        /* e.g. a padded copy past 32-bit indexing: undo, go direct-vector */
        if (plan->destroy_op)
            plan->destroy_op(plan);
        plan->destroy_op = NULL;
        if (plan->kernel)
            clReleaseKernel(plan->kernel);
        plan->kernel = NULL;
        plan->info.workspace_bytes = plan->info.plan_device_bytes = 0;
        plan->ordered = false;
    }
    if (algo == CLCONV_ALGO_AUTO)
        algo = !cpu                         ? CLCONV_ALGO_DIRECT_TILED
               : cout_g >= 4                ? CLCONV_ALGO_DIRECT_VECTOR
               : cin_g == 1 && out->w >= 4  ? CLCONV_ALGO_DIRECT_DEPTHWISE
                                            : CLCONV_ALGO_DIRECT_REGISTER;
    if (algo == CLCONV_ALGO_GEMM)
        return clconv_conv2d_gemm_plan(plan, p, in, out);
    if (algo == CLCONV_ALGO_WINOGRAD)
        return clconv_conv2d_winograd_plan(plan, p, in, out);
    if (algo == CLCONV_ALGO_DIRECT_VECTOR)
        return vector_plan_build(plan, p, in, out, opts);
    if (algo == CLCONV_ALGO_DIRECT_DEPTHWISE)
        return depthwise_plan_build(plan, p, in, out, opts);
    if (algo == CLCONV_ALGO_DIRECT_POINTWISE)
        return pointwise_plan_build(plan, p, in, out, opts);
    if (algo != CLCONV_ALGO_DIRECT_TILED && algo != CLCONV_ALGO_DIRECT_REGISTER)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected auto, direct-tiled, "
                           "direct-register, direct-vector, direct-depthwise, direct-pointwise, gemm "
                           "or winograd "
                           "for conv2d",
                           clconv_algorithm_name(algo));

    tile_cfg t = default_cfg(ctx, algo);
    fit_to_shape(&t, out->h, out->w, cout_g, cin_g);
    clconv_status st = apply_overrides(ctx, opts, &t);
    if (st)
        return st;
    if (algo == CLCONV_ALGO_DIRECT_TILED && !fit_local(p, &t, local_budget(ctx))) {
        if (opts && opts->algorithm == CLCONV_ALGO_DIRECT_TILED)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "direct-tiled: a 1x1 output tile with its halo needs %zu bytes of "
                               "local memory, the budget is %zu; use direct-register",
                               tiled_local_bytes(p, &t), local_budget(ctx));
        algo = CLCONV_ALGO_DIRECT_REGISTER;
        t = default_cfg(ctx, algo);
        fit_to_shape(&t, out->h, out->w, cout_g, cin_g);
    }
    if (algo == CLCONV_ALGO_DIRECT_REGISTER)
        t.ci_chunk = 1; /* unused there; keep the build options canonical */

    const char *name = algo == CLCONV_ALGO_DIRECT_TILED ? "conv2d_tiled" : "conv2d_register";
    size_t limit = 0; /* the compiled kernel's, once known */
    for (int attempt = 0;; attempt++) {
        int wg[3] = {t.wg_w, t.wg_h, t.wg_oc};
        if ((st = clconv_fit_work_group(ctx, limit, wg, (const int[3]){2, 1, 0},
                                        opts && (opts->wg_w || opts->wg_h || opts->wg_oc)
                                            ? "options.wg_w/wg_h/wg_oc" : NULL)))
            return st;
        t.wg_w = wg[0], t.wg_h = wg[1], t.wg_oc = wg[2];
        if ((st = build_kernel(plan, p, &t, name, NULL)))
            return st;
        if ((st = kernel_wg_limit(plan, &limit)))
            return st;
        size_t items = (size_t)t.wg_w * t.wg_h * t.wg_oc;
        if (items <= limit)
            break;
        if (attempt > 8 || items == 1)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "%s: the compiled kernel allows %zu work-items per group, the "
                               "smallest tile needs %zu", name, limit, items);
    }

    int64_t tile_ow = (int64_t)t.wg_w * t.bw, tile_oc = (int64_t)t.wg_oc * t.boc;
    int64_t oc_blocks = (cout_g + tile_oc - 1) / tile_oc;
    plan->work_dim = 3;
    plan->info.algorithm = algo;
    plan->info.local_size[0] = (size_t)t.wg_w;
    plan->info.local_size[1] = (size_t)t.wg_h;
    plan->info.local_size[2] = (size_t)t.wg_oc;
    plan->info.global_size[0] = (size_t)((out->w + tile_ow - 1) / tile_ow) * t.wg_w;
    plan->info.global_size[1] = (size_t)((out->h + t.wg_h - 1) / t.wg_h) * t.wg_h;
    plan->info.global_size[2] = (size_t)(in->n * p->groups * oc_blocks) * t.wg_oc;
    plan->info.local_mem_bytes = algo == CLCONV_ALGO_DIRECT_TILED ? tiled_local_bytes(p, &t) : 0;

    return set_direct_args(plan, p, in, in->h, in->w, out, -1);
}

/* ---- find mode ----------------------------------------------------------- */

/* Best of three runs after a warm-up, in milliseconds of wall time from
 * enqueue to completion (covers multi-command plans such as GEMM). */
static clconv_status time_plan(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                               cl_mem ws, double *ms)
{
    clconv_context *ctx = plan->ctx;
    *ms = 1e300;
    for (int i = 0; i < 4; i++) {
        cl_int err = clFinish(ctx->queue);
        if (err != CL_SUCCESS)
            return clconv_fail_cl(ctx, err, "clFinish (find mode)");
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cl_event done = NULL;
        clconv_status st = clconv_conv2d_run(plan, x, w, b, y, ws, 0, NULL, &done);
        if (st)
            return st;
        err = clWaitForEvents(1, &done);
        clReleaseEvent(done);
        if (err != CL_SUCCESS)
            return clconv_fail_cl(ctx, err, "clWaitForEvents (find mode)");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double t = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
        if (i > 0 && t < *ms)
            *ms = t;
    }
    return CLCONV_SUCCESS;
}

/* Find mode's candidates. CPU devices: the CPU kernels' variants (the
 * work-group kernels run there too, an order of magnitude slower). Other
 * devices: the tiled and register kernels over work-group shapes (16x16,
 * 16x8, 32x4, 8x8 columns x rows, 1 - 4 output-channel planes) and register
 * blocks (1 - 4 columns x 1 - 4 channels per item), as CLBlast's and
 * MIOpen's tuners search, plus the device defaults, GEMM and Winograd. */
static const clconv_plan_options FIND_CPU[] = {
    {.algorithm = CLCONV_ALGO_DIRECT_VECTOR},
    {.algorithm = CLCONV_ALGO_DIRECT_VECTOR, .block_w = 8},
    {.algorithm = CLCONV_ALGO_DIRECT_VECTOR, .block_w = 16, .wg_h = 1},
    {.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE},
    {.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE, .wg_h = 1},
    {.algorithm = CLCONV_ALGO_DIRECT_POINTWISE},
    {.algorithm = CLCONV_ALGO_DIRECT_POINTWISE, .block_w = 4},
    {.algorithm = CLCONV_ALGO_DIRECT_REGISTER},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED},
    {.algorithm = CLCONV_ALGO_GEMM},
    {.algorithm = CLCONV_ALGO_WINOGRAD},
};
static const clconv_plan_options FIND_GPU[] = {
    {.algorithm = CLCONV_ALGO_DIRECT_TILED},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 16, .block_w = 1},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 16, .block_w = 2},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 8, .block_w = 2, .block_oc = 2},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 8, .block_w = 4, .block_oc = 4},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 32, .wg_h = 4, .block_w = 2, .block_oc = 2},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 8, .wg_h = 8, .wg_oc = 4, .block_w = 2,
     .block_oc = 2},
    {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 8, .wg_h = 8, .block_w = 4, .block_oc = 4,
     .ci_chunk = 8},
    {.algorithm = CLCONV_ALGO_DIRECT_REGISTER},
    {.algorithm = CLCONV_ALGO_DIRECT_REGISTER, .wg_w = 16, .wg_h = 16, .block_w = 2},
    {.algorithm = CLCONV_ALGO_DIRECT_REGISTER, .wg_w = 16, .wg_h = 8, .block_w = 4, .block_oc = 4},
    {.algorithm = CLCONV_ALGO_DIRECT_REGISTER, .wg_w = 32, .wg_h = 4, .block_w = 1, .block_oc = 4},
    {.algorithm = CLCONV_ALGO_GEMM},
    {.algorithm = CLCONV_ALGO_WINOGRAD},
};

#define FIND_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define FIND_MAX (FIND_COUNT(FIND_CPU) + FIND_COUNT(FIND_GPU))

/* The candidates: the device's set, or CLCONV_FIND_SPACE = cpu, gpu or all;
 * returns how many it put in out (at most FIND_MAX). */
static size_t find_candidates(const clconv_context *ctx, const clconv_plan_options **out)
{
    const char *space = getenv("CLCONV_FIND_SPACE");
    bool cpu = clconv_context_is_cpu_family(ctx);
    bool want_cpu = cpu, want_gpu = !cpu;
    if (space && !strcmp(space, "all"))
        want_cpu = want_gpu = true;
    else if (space && !strcmp(space, "cpu"))
        want_cpu = true, want_gpu = false;
    else if (space && !strcmp(space, "gpu"))
        want_cpu = false, want_gpu = true;
    size_t n = 0;
    for (size_t i = 0; want_cpu && i < FIND_COUNT(FIND_CPU); i++)
        out[n++] = &FIND_CPU[i];
    for (size_t i = 0; want_gpu && i < FIND_COUNT(FIND_GPU); i++)
        out[n++] = &FIND_GPU[i];
    return n;
}

/* Times every applicable candidate on scratch buffers and returns the
 * fastest one's options. Candidates that cannot run this layer (or whose
 * tiles this device refuses) are skipped. */
static clconv_status conv2d_find(clconv_context *ctx, const clconv_conv2d_params *p,
                                 const clconv_shape *in, clconv_plan_options *best, double *best_ms)
{
    const clconv_plan_options *cands[FIND_MAX];
    size_t ncand = find_candidates(ctx, cands);
    clconv_shape os;
    clconv_status st = clconv_conv2d_check(ctx, p, in, &os);
    if (st)
        return st;
    clconv_shape ws_shape = clconv_conv2d_weight_shape(p);
    size_t sizes[4] = {clconv_shape_elements(*in) * 4, clconv_shape_elements(ws_shape) * 4,
                       (size_t)p->out_channels * 4, clconv_shape_elements(os) * 4};
    cl_mem bufs[4] = {NULL, NULL, NULL, NULL}, ws = NULL;
    size_t ws_bytes = 0;
    for (int i = 0; i < 4 && !st; i++) {
        st = clconv_buffer_create(ctx, sizes[i], NULL, &bufs[i], "find-mode scratch");
        const float fill = 0.01f; /* small normal values: no denormal slow paths */
        cl_int err = st ? CL_SUCCESS
                        : clEnqueueFillBuffer(ctx->queue, bufs[i], &fill, sizeof fill, 0, sizes[i],
                                              0, NULL, NULL);
        if (!st && err != CL_SUCCESS)
            st = clconv_fail_cl(ctx, err, "clEnqueueFillBuffer (find mode)");
    }
    *best_ms = 1e300;
    for (size_t c = 0; c < ncand && !st; c++) {
        const clconv_plan_options *cand = cands[c];
        clconv_plan *plan = NULL;
        if (clconv_conv2d_plan_create(ctx, p, in, cand, &plan) != CLCONV_SUCCESS)
            continue; /* not applicable here (or not built on this device) */
        clconv_plan_info info;
        clconv_plan_get_info(plan, &info);
        if (info.workspace_bytes > ws_bytes) {
            if (ws)
                clReleaseMemObject(ws);
            ws = NULL;
            ws_bytes = 0;
            if (clconv_buffer_create(ctx, info.workspace_bytes, NULL, &ws, "find-mode workspace")) {
                clconv_plan_destroy(plan);
                continue;
            }
            ws_bytes = info.workspace_bytes;
        }
        double ms;
        if (time_plan(plan, bufs[0], bufs[1], p->has_bias ? bufs[2] : NULL, bufs[3],
                      info.workspace_bytes ? ws : NULL, &ms) == CLCONV_SUCCESS &&
            ms < *best_ms) {
            *best_ms = ms;
            *best = *cand;
        }
        clconv_plan_destroy(plan);
    }
    for (int i = 0; i < 4; i++)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    if (ws)
        clReleaseMemObject(ws);
    if (!st && *best_ms >= 1e300)
        st = clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED, "find mode: no candidate ran this layer");
    return st;
}

/* AUTO with no tile overrides consults the tuning database; find mode fills it. */
static clconv_status resolve_options(clconv_context *ctx, const clconv_conv2d_params *p,
                                     const clconv_shape *in, const clconv_plan_options *given,
                                     clconv_plan_options *eff, bool use_db, bool *from_db)
{
    static const clconv_plan_options none = {0};
    *eff = given ? *given : none;
    *from_db = false;
    if (eff->algorithm != CLCONV_ALGO_AUTO)
        return CLCONV_SUCCESS;
    bool untouched = !eff->wg_w && !eff->wg_h && !eff->wg_oc && !eff->block_w &&
                     !eff->block_oc && !eff->ci_chunk;
    if (!untouched)
        return CLCONV_SUCCESS;
    char key[512], class_key[512];
    clconv_conv2d_tune_key(p, in, key, sizeof key);
    clconv_conv2d_tune_class_key(p, in, class_key, sizeof class_key);
    if (!eff->find) {
        clconv_plan_options found;
        const char *const keys[2] = {key, class_key};
        if (use_db && clconv_tune_lookup(ctx, keys, 2, &found)) {
            *eff = found;
            *from_db = true;
        }
        return CLCONV_SUCCESS;
    }
    double ms;
    clconv_status st = conv2d_find(ctx, p, in, eff, &ms);
    if (st)
        return st;
    clconv_tune_store(ctx, key, eff, ms);
    clconv_tune_store(ctx, class_key, eff, ms);
    return CLCONV_SUCCESS;
}

static clconv_status conv2d_plan_create(clconv_context *ctx, const clconv_conv2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out,
                                        bool use_db)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_shape oshape;
    clconv_status st = clconv_conv2d_check(ctx, params, input, &oshape);
    if (st)
        return st;
    clconv_shape wshape = clconv_conv2d_weight_shape(params);
    size_t nx = clconv_shape_elements_checked(input), ny = clconv_shape_elements_checked(&oshape);
    size_t nw = clconv_shape_elements_checked(&wshape);
    if ((st = clconv_check_device_tensor(ctx, "input", nx, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "weight", nw, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, sizeof(float))))
        return st;
    /* The kernels compute input coordinates (output index * stride + tap *
     * dilation) in ints, for whole tiles: up to 2^15 outputs past the edge. */
    const struct {
        const char *axis;
        int64_t o, s, k, d;
    } ax[2] = {{"h", oshape.h, params->stride_h, params->kernel_h, params->dilation_h},
               {"w", oshape.w, params->stride_w, params->kernel_w, params->dilation_w}};
    for (int i = 0; i < 2; i++) {
        int64_t reach = (ax[i].o + ((int64_t)1 << 15)) * ax[i].s + (ax[i].k - 1) * ax[i].d;
        if (reach > INT32_MAX)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "stride_%s = %lld, kernel_%s = %lld, dilation_%s = %lld with %lld "
                               "outputs: input coordinates up to %lld overflow the kernels' "
                               "32-bit ints", ax[i].axis, (long long)ax[i].s, ax[i].axis,
                               (long long)ax[i].k, ax[i].axis, (long long)ax[i].d,
                               (long long)ax[i].o, (long long)reach);
    }
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_CONV2D, &plan)))
        return st;
    plan->params.conv2d = *params;
    plan->info.input = *input;
    plan->info.output = oshape;
    plan->x_bytes = nx * sizeof(float);
    plan->w_bytes = nw * sizeof(float);
    plan->b_bytes = params->has_bias ? (size_t)params->out_channels * sizeof(float) : 0;
    plan->y_bytes = ny * sizeof(float);
    plan->info.flops = 2.0 * (double)ny * (double)wshape.c * (double)wshape.h * (double)wshape.w;
    plan->info.bytes = (double)(plan->x_bytes + plan->w_bytes + plan->b_bytes + plan->y_bytes);
    clconv_plan_options eff;
    bool from_db;
    if ((st = resolve_options(ctx, params, input, options, &eff, use_db, &from_db)) ||
        (st = conv2d_plan_build(plan, params, input, &oshape, &eff))) {
        clconv_plan_destroy(plan);
        /* A database record this layer cannot use (edited by hand, written by
         * another clconv version) must not break AUTO: the defaults answer. */
        if (!from_db || (st != CLCONV_ERROR_UNSUPPORTED && st != CLCONV_ERROR_INVALID_VALUE))
            return st;
        return conv2d_plan_create(ctx, params, input, options, out, false);
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_plan_create(clconv_context *ctx, const clconv_conv2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out)
{
    return conv2d_plan_create(ctx, params, input, options, out, true);
}

clconv_status clconv_conv2d_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                cl_mem workspace, cl_uint num_wait, const cl_event *wait_list,
                                cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    clconv_context *ctx = plan->ctx;
    if (plan->op != CLCONV_OP_CONV2D)
        return clconv_fail(ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_conv2d_run: the plan was made for another operator");
    clconv_status st = clconv_check_weighted_buffers(plan, x, w, b, y, "convolution");
    if (st)
        return st;
    pthread_mutex_lock(&plan->lock);
    if (plan->info.algorithm == CLCONV_ALGO_DIRECT_VECTOR) {
        st = vector_run(plan, x, w, b, y, num_wait, wait_list, done);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    if (plan->info.algorithm == CLCONV_ALGO_DIRECT_POINTWISE && plan->op_data) {
        st = pointwise_copy_run(plan, x, w, b, y, num_wait, wait_list, done);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    if (plan->info.algorithm == CLCONV_ALGO_WINOGRAD) {
        st = clconv_conv2d_winograd_run(plan, x, w, b, y, workspace, num_wait, wait_list, done);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    if (plan->info.algorithm == CLCONV_ALGO_GEMM) {
        st = clconv_conv2d_gemm_run(plan, x, w, b, y, workspace, num_wait, wait_list, done);
        pthread_mutex_unlock(&plan->lock);
        return st;
    }
    cl_mem args[4] = {x, w, b, y};
    const char *names[4] = {"x", "w", "b", "y"};
    for (cl_uint i = 0; i < 4 && !st; i++)
        st = clconv_set_arg(ctx, plan->kernel, i, sizeof(cl_mem), args[i] ? &args[i] : NULL,
                            names[i]);
    if (!st)
        st = clconv_plan_enqueue(plan, num_wait, wait_list, done);
    pthread_mutex_unlock(&plan->lock);
    return st;
}

clconv_status clconv_conv2d_host(clconv_context *ctx, const clconv_conv2d_params *params,
                                 const clconv_shape *input, const float *x, const float *w,
                                 const float *b, float *y)
{
    clconv_status st = clconv_host_check_arrays(ctx, x, w, b, y, params && params->has_bias);
    if (st)
        return st;
    clconv_plan *plan;
    if ((st = clconv_conv2d_plan_create(ctx, params, input, NULL, &plan)))
        return st;
    return clconv_host_run_weighted(plan, clconv_conv2d_run, x, w, b, y);
}

/* ---- conv1d: the same kernels with H = 1 ---------------------------------- */

clconv_status clconv_conv1d_plan_create(clconv_context *ctx, const clconv_conv1d_params *params,
                                        int64_t n, int64_t length,
                                        const clconv_plan_options *options, clconv_plan **out)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv2d_plan_create(ctx, &p, &in, options, out);
}

clconv_status clconv_conv1d_host(clconv_context *ctx, const clconv_conv1d_params *params,
                                 int64_t n, int64_t length, const float *x, const float *w,
                                 const float *b, float *y)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv2d_host(ctx, &p, &in, x, w, b, y);
}
