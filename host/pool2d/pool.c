/* Pooling's one device algorithm, "pool" (CLCONV_ALGO_POOL), on the
 * algorithm interface (host/algo.h): which kernel of kernels/pool2d.cl a
 * layer gets, its work-group and NDRange, its arguments; and the window
 * helpers the backward pass (backward.c) shares.
 *
 * Device layout (see kernels/pool2d.cl): a 1-D NDRange; work-item k owns
 * output column col = k % ncols of output row k / ncols (rows are the
 * n*c*out_h rows of the output) and computes the BW outputs
 * col, col + ncols, ... of that row, ncols = ceil(out_w / BW). Consecutive
 * work-items therefore read consecutive windows (coalesced), and a tiny
 * output (global pooling) still gives one work-item per plane. CPU devices
 * take the vector kernels described below. */
#include "../algo.h"

#include <stdio.h>
#include <string.h>

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
    int64_t reach_h = in->h + p->pad_top + p->pad_bottom + p->stride_h +
                      p->dilation_h * (p->kernel_h - 1) + 1;
    int64_t reach_w = in->w + p->pad_left + p->pad_right + p->stride_w +
                      p->dilation_w * (p->kernel_w - 1) + 1;
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
    cl_int wa[] = {(cl_int)p->kernel_h,   (cl_int)p->kernel_w,   (cl_int)p->stride_h,
                   (cl_int)p->stride_w,   (cl_int)p->pad_top,    (cl_int)p->pad_left,
                   (cl_int)p->pad_bottom, (cl_int)p->pad_right,  (cl_int)p->dilation_h,
                   (cl_int)p->dilation_w, p->count_include_pad ? 1 : 0, lp_kind};
    const cl_uint nwa = (cl_uint)(sizeof wa / sizeof wa[0]);
    _Static_assert(sizeof wa / sizeof wa[0] + 3 == CLCONV_POOL_WINDOW_ARGS,
                   "CLCONV_POOL_WINDOW_ARGS counts the ints and the three floats");
    clconv_status st = clconv_plan_set_ints(plan, plan->kernel, first, wa, nwa);
    /* As PyTorch: the int64 divisor and the double powers become floats. */
    cl_float fa[] = {(cl_float)p->divisor_override, (cl_float)p->norm_type,
                     (cl_float)(1.0 / p->norm_type)};
    for (cl_uint i = 0; i < 3 && !st; i++)
        st = clconv_set_arg(plan->ctx, plan->kernel, first + nwa + i, sizeof(cl_float), &fa[i],
                            plan->info.kernel_name);
    return st;
}

clconv_status clconv_pool2d_requested_wg(clconv_context *ctx, const clconv_plan_options *opts,
                                         size_t *wg)
{
    *wg = clconv_context_is_cpu_family(ctx) ? 64 : 256;
    if (opts && opts->wg_w != 0) {
        if (opts->wg_w < 1 || opts->wg_w > 1024)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.wg_w = %d, expected 0 (default) or 1..1024 work-items",
                               opts->wg_w);
        *wg = (size_t)opts->wg_w;
    }
    return CLCONV_SUCCESS;
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

static clconv_status pool_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    const clconv_pool2d_params *p = &plan->params.pool2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    clconv_context *ctx = plan->ctx;
    clconv_status st;
    bool cpu = clconv_context_is_cpu_family(ctx);
    bool adaptive = clconv_pool_mode_is_adaptive(p->mode);

    int bw = adaptive ? 1 : (cpu ? 1 : 2);
    if (opts && opts->block_w != 0) {
        if (opts->block_w < 1 || opts->block_w > 8)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..8 outputs per "
                               "work-item", opts->block_w);
        if (!adaptive)
            bw = opts->block_w;
    }
    size_t wg;
    if ((st = clconv_pool2d_requested_wg(ctx, opts, &wg)))
        return st;

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
    bool plane_avg = cpu && p->mode == CLCONV_POOL_AVG && p->pad_top == 0 &&
                     p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0 &&
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
    /* The storage type's option first (as conv2d's programs): F16 and F32
     * programs never share a cache entry. */
    const char *dt = clconv_dtype_build_option(plan->dtype); /* "" or " -DCLCONV_F16" */
    int lead = snprintf(plan->info.build_options, sizeof plan->info.build_options, "%s%s", dt,
                        *dt ? " " : "");
    char *opts_at = plan->info.build_options + lead;
    const size_t opts_room = sizeof plan->info.build_options - (size_t)lead;
    int n = plane_avg ? snprintf(opts_at, opts_room,
                                 "-DMODE=%d -DBW=1 -DVEC=%d -DVSW=1", kernel_mode(p->mode), vec)
            : vectorize ? snprintf(opts_at, opts_room,
                                 "-DMODE=%d -DBW=1 -DVEC=%d -DVSW=%lld", kernel_mode(p->mode),
                                 vec, (long long)p->stride_w)
                      : snprintf(opts_at, opts_room,
                                 "-DMODE=%d -DBW=%d", kernel_mode(p->mode), bw);
    if (fixed_window(p) && !plane_avg)
        snprintf(opts_at + n, opts_room - (size_t)n,
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
}

/* a->x is x, a->y is y, a->aux the indices (NULL: none). */
static clconv_status pool_run(clconv_plan *plan, const clconv_run_args *a)
{
    const cl_mem args[3] = {a->x, a->y, a->aux};
    const char *const names[3] = {"x", "y", "indices"};
    return clconv_plan_enqueue_buffers(plan, 3, args, names, a->num_wait, a->wait_list, a->done);
}

const clconv_algo clconv_pool2d_pool = {
    .op = CLCONV_OP_POOL2D,
    .id = CLCONV_ALGO_POOL,
    .plan = pool_plan,
    .run = pool_run,
    .f16 = true, /* the forward kernels only: the backward pass (backward.c) is f32 */
};
