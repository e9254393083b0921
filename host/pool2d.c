/* 2-D pooling: parameter validation and output shapes (shared with the CPU
 * reference), plans, dispatch and the host-memory convenience call.
 *
 * Device layout (see kernels/pool2d.cl): a 1-D NDRange; work-item k owns
 * output column col = k % ncols of output row k / ncols (rows are the
 * n*c*out_h rows of the output) and computes the BW outputs
 * col, col + ncols, ... of that row, ncols = ceil(out_w / BW). Consecutive
 * work-items therefore read consecutive windows (coalesced), and a tiny
 * output (global pooling) still gives one work-item per plane. */
#include "internal.h"

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

static bool is_adaptive(clconv_pool_mode m)
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

/* PyTorch's pooling_output_shape_pad_lr with pad_l = pad_r = pad. */
static int64_t pool_out(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil)
{
    int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0);
    int64_t q = num / stride;
    if (num % stride != 0 && num < 0)
        q--; /* floor division, as div_rtn */
    int64_t out = q + 1;
    if (ceil && (out - 1) * stride >= in + pad)
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
    int64_t oh, ow;
    if (is_adaptive(m)) {
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
            (st = range(ctx, "pad_h", p->pad_h, 0, "")) ||
            (st = range(ctx, "pad_w", p->pad_w, 0, "")) ||
            (st = range(ctx, "dilation_h", p->dilation_h, 1, "")) ||
            (st = range(ctx, "dilation_w", p->dilation_w, 1, "")))
            return st;
        if (p->pad_h > p->kernel_h / 2)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "pad_h = %lld, expected <= kernel_h / 2 = %lld (PyTorch: pad "
                               "should be at most half of kernel size)", (long long)p->pad_h,
                               (long long)(p->kernel_h / 2));
        if (p->pad_w > p->kernel_w / 2)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "pad_w = %lld, expected <= kernel_w / 2 = %lld (PyTorch: pad "
                               "should be at most half of kernel size)", (long long)p->pad_w,
                               (long long)(p->kernel_w / 2));
        if (m != CLCONV_POOL_MAX && (p->dilation_h != 1 || p->dilation_w != 1))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "dilation_%s = %lld with mode = %s, expected 1: only max "
                               "pooling has a dilation", p->dilation_h != 1 ? "h" : "w",
                               (long long)(p->dilation_h != 1 ? p->dilation_h : p->dilation_w),
                               mode_name(m));
        if (m == CLCONV_POOL_LP && (p->pad_h != 0 || p->pad_w != 0))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "pad_%s = %lld with mode = lp, expected 0: lp_pool2d has no "
                               "padding", p->pad_h != 0 ? "h" : "w",
                               (long long)(p->pad_h != 0 ? p->pad_h : p->pad_w));
        if (m == CLCONV_POOL_LP && (!isfinite(p->norm_type) || p->norm_type == 0.0))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "norm_type = %g, expected a finite, nonzero power p",
                               p->norm_type);
        oh = pool_out(in->h, p->kernel_h, p->pad_h, p->stride_h, p->dilation_h, p->ceil_mode);
        ow = pool_out(in->w, p->kernel_w, p->pad_w, p->stride_w, p->dilation_w, p->ceil_mode);
        if (oh < 1 || ow < 1)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                               "no output: input %lldx%lld with kernel %lldx%lld, stride "
                               "%lldx%lld, padding %lldx%lld, dilation %lldx%lld gives output "
                               "%lldx%lld, expected at least 1x1 (output size is too small)",
                               (long long)in->h, (long long)in->w, (long long)p->kernel_h,
                               (long long)p->kernel_w, (long long)p->stride_h,
                               (long long)p->stride_w, (long long)p->pad_h, (long long)p->pad_w,
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
    if (is_adaptive(mode)) {
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

/* Mode numbers as kernels/pool2d.cl knows them. */
static int kernel_mode(clconv_pool_mode m)
{
    return (int)m; /* 1 max, 2 avg, 3 lp, 4 adaptive avg, 5 adaptive max */
}

/* The windows common enough to deserve a kernel with constant bounds. The
 * palette is deliberately small: each entry is one more compiled program. */
static bool fixed_window(const clconv_pool2d_params *p)
{
    if (p->mode != CLCONV_POOL_MAX && p->mode != CLCONV_POOL_AVG)
        return false;
    return p->kernel_h == p->kernel_w && (p->kernel_h == 2 || p->kernel_h == 3) &&
           p->stride_h == p->stride_w && (p->stride_h == 1 || p->stride_h == 2) &&
           p->dilation_h == 1 && p->dilation_w == 1;
}

/* Largest power of two <= v (v >= 1). */
static size_t pow2_floor(size_t v)
{
    size_t r = 1;
    while (r * 2 <= v)
        r *= 2;
    return r;
}

clconv_status clconv_pool2d_check_reach(clconv_context *ctx, const clconv_pool2d_params *p,
                                        const clconv_shape *in)
{
    int64_t reach_h = in->h + 2 * p->pad_h + p->stride_h + p->dilation_h * (p->kernel_h - 1) + 1;
    int64_t reach_w = in->w + 2 * p->pad_w + p->stride_w + p->dilation_w * (p->kernel_w - 1) + 1;
    if (reach_h > INT32_MAX || reach_w > INT32_MAX || p->kernel_h * p->kernel_w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "window coordinates up to %lld x %lld exceed the kernels' 32-bit "
                           "range", (long long)reach_h, (long long)reach_w);
    return CLCONV_SUCCESS;
}

clconv_status clconv_pool2d_set_window_args(clconv_plan *plan, const clconv_pool2d_params *p,
                                            cl_uint first)
{
    int lp_kind = 0; /* how x^p and y^(1/p) are computed, as PyTorch's pow special cases */
    if (p->norm_type == 1.0)
        lp_kind = 1;
    else if (p->norm_type == 2.0)
        lp_kind = 2;
    else if (p->norm_type == 3.0)
        lp_kind = 3;
    cl_int wa[] = {(cl_int)p->kernel_h, (cl_int)p->kernel_w, (cl_int)p->stride_h,
                   (cl_int)p->stride_w, (cl_int)p->pad_h, (cl_int)p->pad_w,
                   (cl_int)p->dilation_h, (cl_int)p->dilation_w,
                   p->count_include_pad ? 1 : 0, lp_kind};
    clconv_status st = clconv_plan_set_ints(plan, plan->kernel, first, wa, 10);
    /* As PyTorch: the int64 divisor and the double powers become floats. */
    cl_float fa[] = {(cl_float)p->divisor_override, (cl_float)p->norm_type,
                     (cl_float)(1.0 / p->norm_type)};
    for (cl_uint i = 0; i < 3 && !st; i++)
        st = clconv_set_arg(plan->ctx, plan->kernel, first + 10 + i, sizeof(cl_float), &fa[i],
                            plan->info.kernel_name);
    return st;
}

clconv_status clconv_pool2d_fit_wg(clconv_plan *plan, const clconv_plan_options *opts, size_t *wg)
{
    clconv_context *ctx = plan->ctx;
    size_t limit;
    clconv_status st = clconv_plan_wg_limit(plan, plan->kernel, &limit);
    if (st)
        return st;
    const size_t cap = limit < ctx->max_item_sizes[0] ? limit : ctx->max_item_sizes[0];
    if (*wg > cap) {
        if (opts && opts->wg_w != 0)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "options.wg_w = %d exceeds the kernel's limit of %zu work-items",
                               opts->wg_w, cap);
        *wg = pow2_floor(cap);
    }
    return CLCONV_SUCCESS;
}

static clconv_status pool2d_plan_build(clconv_plan *plan, const clconv_pool2d_params *p,
                                       const clconv_shape *in, const clconv_shape *out,
                                       const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    clconv_status st;
    bool cpu = clconv_context_is_cpu_family(ctx);
    bool adaptive = is_adaptive(p->mode);

    clconv_algorithm algo = opts ? opts->algorithm : CLCONV_ALGO_AUTO;
    if (algo != CLCONV_ALGO_AUTO && algo != CLCONV_ALGO_POOL)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected auto or pool for pool2d",
                           clconv_algorithm_name(algo));
    int bw = adaptive ? 1 : (cpu ? 1 : 2);
    size_t wg = cpu ? 64 : 256;
    if (opts && opts->block_w != 0) {
        if (opts->block_w < 1 || opts->block_w > 8)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..8 outputs per "
                               "work-item", opts->block_w);
        if (!adaptive)
            bw = opts->block_w;
    }
    if (opts && opts->wg_w != 0) {
        if (opts->wg_w < 1 || opts->wg_w > 1024)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.wg_w = %d, expected 0 (default) or 1..1024 work-items",
                               opts->wg_w);
        wg = (size_t)opts->wg_w;
    }

    /* The kernels index with 32-bit ints: keep every window coordinate in range. */
    if (!adaptive && (st = clconv_pool2d_check_reach(ctx, p, in)))
        return st;

    /* CPU devices (PoCL) do not vectorize across work-items: max and avg
     * windows without dilation, column stride 1 or 2, take pool2d_window_vec
     * (VEC outputs of a row in one floatVEC) unless block_w asks for the
     * scalar kernel's blocking or the output rows are too short to fill a
     * vector. */
    int vec = ctx->preferred_float_width >= 8 ? 8 : 4;
    bool vectorize = cpu && (p->mode == CLCONV_POOL_MAX || p->mode == CLCONV_POOL_AVG) &&
                     p->dilation_h == 1 && p->dilation_w == 1 &&
                     (p->stride_w == 1 || p->stride_w == 2) && out->w >= vec / 2 &&
                     !(opts && opts->block_w != 0);
    /* An average over the whole plane (global average pooling): VEC planes
     * per work-item, one per lane (pool2d_plane_avg_vec). */
    bool plane_avg = cpu && p->mode == CLCONV_POOL_AVG && p->pad_h == 0 && p->pad_w == 0 &&
                     p->kernel_h == in->h && p->kernel_w == in->w && p->dilation_h == 1 &&
                     p->dilation_w == 1 && !(opts && opts->block_w != 0);
    if (plane_avg)
        vectorize = false;
    /* Stride-1 average with a fixed window (Inception's 3x3 s1 p1): a
     * work-item walks down a column block of one plane keeping the window's
     * row sums (pool2d_avg_rows_vec), each input row summed once instead of
     * kernel_h times: 2 - 2.3x on 28x28 and 8x8 planes. Planes up to 64x64
     * floats only: on larger ones the column walk strides past what the
     * prefetchers follow and the row kernel wins (112x112: ~15% slower). */
    bool avg_rows = vectorize && p->mode == CLCONV_POOL_AVG && fixed_window(p) &&
                    p->stride_h == 1 && in->h * in->w <= 64 * 64;
    /* Vectors per work-item (the kernel derives it from ncols): a whole
     * output row up to 32 vectors, so the window setup and edge tests are
     * paid once per row rather than per vector (ResNet's 112x112 max-pool
     * 16 -> 21 GB/s, AlexNet's 14 -> 16.5, on the 2-core PoCL machine). */
    int vblocks = 1;
    if (vectorize) {
        bw = vec;
        int64_t row_vectors = (out->w + vec - 1) / vec;
        int64_t parts = (row_vectors + 31) / 32;
        vblocks = avg_rows ? 1 : (int)((row_vectors + parts - 1) / parts);
    }
    const char *name = adaptive    ? "pool2d_adaptive"
                       : plane_avg ? "pool2d_plane_avg_vec"
                       : avg_rows  ? "pool2d_avg_rows_vec"
                       : vectorize ? "pool2d_window_vec"
                                   : "pool2d_window";
    int n = plane_avg ? snprintf(plan->info.build_options, sizeof plan->info.build_options,
                                 "-DMODE=%d -DBW=1 -DVEC=%d -DVSW=1", kernel_mode(p->mode), vec)
            : vectorize ? snprintf(plan->info.build_options, sizeof plan->info.build_options,
                                 "-DMODE=%d -DBW=1 -DVEC=%d -DVSW=%lld", kernel_mode(p->mode),
                                 vec, (long long)p->stride_w)
                      : snprintf(plan->info.build_options, sizeof plan->info.build_options,
                                 "-DMODE=%d -DBW=%d", kernel_mode(p->mode), bw);
    if (fixed_window(p) && !plane_avg)
        snprintf(plan->info.build_options + n, sizeof plan->info.build_options - (size_t)n,
                 " -DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld", (long long)p->kernel_h,
                 (long long)p->kernel_w, (long long)p->stride_h, (long long)p->stride_w);
    /* CPU family on PoCL's CPU device (ctx->builtin_prefetch says why only
     * there): software prefetch PFD floats ahead of each window row (PoCL's
     * prefetch() is empty and the hardware prefetchers alone leave the loads
     * waiting on memory: about 2x on large planes). */
    size_t plain_len = strlen(plan->info.build_options);
    bool pfd = cpu && ctx->builtin_prefetch;
    if (pfd)
        snprintf(plan->info.build_options + plain_len,
                 sizeof plan->info.build_options - plain_len, " -DPFD=512");
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s", name);
    st = clconv_get_kernel(ctx, "pool2d", name, plan->info.build_options, &plan->kernel);
    if (st && pfd) {
        /* The prefetch build is the probe: a driver that rejects it gets the
         * plain kernel, whose own failure (if any) is the one reported. */
        plan->info.build_options[plain_len] = '\0';
        st = clconv_get_kernel(ctx, "pool2d", name, plan->info.build_options, &plan->kernel);
    }
    if (st)
        return st;

    if ((st = clconv_pool2d_fit_wg(plan, opts, &wg)))
        return st;

    int64_t ncols = (out->w + bw - 1) / bw;
    if (vectorize)
        ncols = (ncols + vblocks - 1) / vblocks;
    int64_t rows = out->n * out->c * out->h;
    int64_t items = ncols * rows;
    /* plane_avg: nitems counts planes, VEC per work-item. */
    int64_t work = plane_avg ? (rows + vec - 1) / vec : items;
    plan->info.algorithm = CLCONV_ALGO_POOL;
    plan->info.local_mem_bytes = 0;
    if (vectorize) {
        /* A 3-D NDRange (column block, output row, plane): the work-item
         * finds its row without integer divisions, which cost more than the
         * pooling of a whole row (perf: a 1-D index's four divisions were
         * ~200 cycles per work-item on the EPYC). A work-group spans lh rows
         * of lp planes, about wg work-items; items past OH or the last plane
         * leave at once. nitems (the kernel argument) is the plane count.
         * pool2d_avg_rows_vec walks the rows itself: one along that axis. */
        int64_t planes = out->n * out->c;
        int64_t rows_dim = avg_rows ? 1 : out->h;
        /* The blocks of a row stay in one work-group (one core streams the
         * row); ncols is 1 unless rows are wider than 32 vectors. */
        size_t lc = (size_t)ncols;
        if (lc > ctx->max_item_sizes[0] || lc > wg)
            lc = 1; /* very wide rows: blocks of one row in separate work-groups */
        size_t wg_rows = wg / lc ? wg / lc : 1;
        int64_t chunks = (rows_dim + (int64_t)wg_rows - 1) / (int64_t)wg_rows;
        size_t lh = (size_t)((rows_dim + chunks - 1) / chunks);
        if (lh > ctx->max_item_sizes[1])
            lh = ctx->max_item_sizes[1];
        size_t lp = wg_rows / lh ? wg_rows / lh : 1;
        if ((int64_t)lp > planes)
            lp = (size_t)planes;
        if (lp > ctx->max_item_sizes[2])
            lp = ctx->max_item_sizes[2];
        plan->work_dim = 3;
        plan->local_size[0] = lc;
        plan->local_size[1] = lh;
        plan->local_size[2] = lp;
        plan->global_size[0] = (size_t)((ncols + (int64_t)lc - 1) / (int64_t)lc) * lc;
        plan->global_size[1] = (size_t)((rows_dim + (int64_t)lh - 1) / (int64_t)lh) * lh;
        plan->global_size[2] = (size_t)((planes + (int64_t)lp - 1) / (int64_t)lp) * lp;
        items = planes;
    } else {
        plan->work_dim = 1;
        plan->local_size[0] = wg;
        plan->local_size[1] = plan->local_size[2] = 1;
        plan->global_size[0] = (size_t)((work + (int64_t)wg - 1) / (int64_t)wg) * wg;
        plan->global_size[1] = plan->global_size[2] = 1;
    }

    /* Arguments 0..2 (x, y, indices) are set per run. */
    cl_uint a = 3;
    cl_int ia[] = {(cl_int)in->h, (cl_int)in->w, (cl_int)out->h, (cl_int)out->w,
                   (cl_int)ncols, (cl_int)items};
    for (size_t i = 0; i < sizeof ia / sizeof ia[0]; i++)
        if ((st = clconv_set_arg(ctx, plan->kernel, a++, sizeof(cl_int), &ia[i], name)))
            return st;
    if (adaptive)
        return CLCONV_SUCCESS;
    return clconv_pool2d_set_window_args(plan, p, a);
    return CLCONV_SUCCESS;
}

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
    if ((st = clconv_check_device_tensor(ctx, "input", nx, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, sizeof(float))))
        return st;
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, op, &plan)))
        return st;
    plan->params.pool2d = *params;
    plan->info.input = *input;
    plan->info.output = oshape;
    plan->x_bytes = nx * sizeof(float);
    plan->y_bytes = ny * sizeof(float);
    plan->aux_bytes = has_indices(params->mode) ? ny * sizeof(cl_long) : 0;
    double taps;
    if (is_adaptive(params->mode)) { /* the windows' lengths summed per axis */
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

clconv_status clconv_pool2d_plan_create(clconv_context *ctx, const clconv_pool2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_plan *plan;
    clconv_status st = clconv_pool2d_plan_setup(ctx, CLCONV_OP_POOL2D, params, input, &plan);
    if (st)
        return st;
    if ((st = pool2d_plan_build(plan, params, input, &plan->info.output, options))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
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
    if ((st = clconv_check_buffer(ctx, x, plan->x_bytes, "x")) ||
        (st = clconv_check_buffer(ctx, y, plan->y_bytes, "y")))
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
    const cl_mem args[3] = {x, y, indices};
    const char *const names[3] = {"x", "y", "indices"};
    pthread_mutex_lock(&plan->lock);
    st = clconv_plan_enqueue_buffers(plan, 3, args, names, num_wait, wait_list, done);
    pthread_mutex_unlock(&plan->lock);
    return st;
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
