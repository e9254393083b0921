/* direct-pointwise (CPU devices): a register-blocked GEMM with output pixels
 * in SIMD lanes (kernels/conv2d.cl CONV2D_POINTWISE; VEC lanes, NPV pixel
 * vectors and BOC channels per work-item, WIDE when the grid is wider than
 * the output). 1x1 stride-1 unpadded layers read x directly; every other
 * layer runs as shifted 1x1s over a padded, phase-split copy of x that each
 * run writes into a buffer of the plan (conv2d_gather_phases), so those
 * runs are ordered (clconv_run_begin / _end). */
#include "../algo.h"

#include <stdio.h>
#include <stdlib.h>

/* plan->state: NULL when the layer reads x directly, else the copy of x and
 * its kernel (conv2d_gather_phases), a clconv_packer. */

/* Copies x (unless the layer reads it directly), then runs the convolution
 * on the copy (ordered with the plan's other runs: the copy is the plan's). */
static clconv_status pointwise_run(clconv_plan *plan, const clconv_run_args *a)
{
    if (!plan->state) /* 1x1, stride 1, no padding: x itself */
        return clconv_run_one_kernel(plan, a);
    return clconv_packed_run(plan, plan->state, a);
}

/* Pixel lanes, pixel vectors and channels per work-item for a map of P
 * pixels: the widest vector (up to the device's) whose vectors cover the map
 * with at most 1/3 surplus lanes (a 7x7 map takes 4 x 16 lanes: on the
 * AVX-512 Xeon CI runs on, ResNet-50's 7x7 1x1 layers ran 1.6x faster than
 * as 7 x 8, which the rule of 1/6, measured on an AMD EPYC, chose); then
 * 4..8 vectors per work-item (npv) with as many channels (boc) as keep the
 * accumulators within 24 of AVX-512's 32 vector registers: the pair with
 * the least work, counted as the vectors and channels computed (padding
 * included) times the loads per FMA, (xw npv + boc) / (npv boc). In a 1x1
 * layer an x vector comes from L2 (each is used once per work-item) and
 * counts twice a broadcast weight (xw = 2); with more taps the next tap's
 * loads overlap the last's in L1 (xw = 1). Ties: fewer vectors. History: on
 * an AMD EPYC (PoCL, 2 threads) 7 x 3 ran ResNet-50's 1x1 layers at 180 -
 * 200 GFLOP/s, 3 x 8 at half that, and the rule was the fewest padded
 * vectors, 7 first; on the AVX-512 Xeon, once the grid ran channel blocks
 * first (x's strip from L2), 4 x 6 beat 7 x 3 by 1.1 - 1.26x on ResNet-50's
 * 14x14 - 56x56 1x1 layers (each x vector feeding 6 FMAs, not 3), while
 * with xw = 2 for every layer AlexNet's 5x5 and ResNeXt's 3x3 layers ran 5%
 * slower. */
static void pointwise_shape(int64_t pixels, int64_t cout_g, int taps, int maxvec, int *vec,
                            int *npv, int *boc)
{
    const double xw = taps == 1 ? 2.0 : 1.0;
    int v = maxvec;
    while (v > 4 && (pixels < v || ((pixels + v - 1) / v * v - pixels) * 3 > pixels))
        v /= 2;
    int64_t nvec = (pixels + v - 1) / v;
    *vec = v;
    if (nvec < 4) {
        *npv = (int)nvec;
        *boc = 8;
        return;
    }
    double best_cost = 0;
    for (int n = 4; n <= 8; n++) {
        const int c = 24 / n < 8 ? 24 / n : 8;
        const double work = (double)((nvec + n - 1) / n * n) * (double)((cout_g + c - 1) / c * c);
        const double cost = work * (xw * n + c) / (n * c);
        if (n == 4 || cost < best_cost) {
            best_cost = cost;
            *npv = n;
            *boc = c;
        }
    }
}

/* The wide grid and the copy (see kernels/conv2d.cl): direct layers read x
 * itself; the others a phase-split copy of nph planes of hq x wq per input
 * plane, plus wq floats of slack. */
typedef struct pw_geometry {
    bool direct;
    int64_t nph, hq, wq, pixels;
    size_t copy; /* floats (0 when direct) */
} pw_geometry;

static pw_geometry pointwise_geometry(const clconv_plan *plan)
{
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    pw_geometry g;
    g.direct = p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
               !p->pad_top && !p->pad_bottom && !p->pad_left && !p->pad_right;
    int64_t sh = p->stride_h, sw = p->stride_w;
    int64_t reach_h = (p->kernel_h - 1) * p->dilation_h, reach_w = (p->kernel_w - 1) * p->dilation_w;
    g.nph = (sh < reach_h + 1 ? sh : reach_h + 1) * (sw < reach_w + 1 ? sw : reach_w + 1);
    g.hq = g.direct ? in->h : out->h + reach_h / sh;
    g.wq = g.direct ? in->w : out->w + reach_w / sw;
    g.pixels = out->h * g.wq;
    g.copy = g.direct ? 0 : (size_t)(in->n * in->c * g.nph * g.hq * g.wq + g.wq);
    return g;
}

static clconv_status pointwise_applies(const clconv_plan *plan)
{
    const clconv_shape *out = &plan->info.output;
    pw_geometry g = pointwise_geometry(plan);
    if (g.pixels < 4)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-pointwise: needs at least 4 output pixels, got %lldx%lld",
                           (long long)out->h, (long long)out->w);
    if (g.copy > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-pointwise: the padded copy of x, %zu floats, exceeds the "
                           "kernels' 32-bit indexing", g.copy);
    return CLCONV_SUCCESS;
}

static clconv_status pointwise_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    const pw_geometry g = pointwise_geometry(plan); /* pointwise_applies passed */
    const bool direct = g.direct;
    const int64_t nph = g.nph, hq = g.hq, wq = g.wq, pixels = g.pixels;
    const size_t copy = g.copy;
    int64_t cout_g = p->out_channels / p->groups;
    clconv_tile checked = {1, 1, 1, 1, 1, 1}; /* every override is validated */
    clconv_status st = clconv_direct_overrides(ctx, opts, &checked);
    if (st)
        return st;
    int maxvec = clconv_direct_max_vec(ctx);
    int vec, npv, boc;
    pointwise_shape(pixels, cout_g, (int)(p->kernel_h * p->kernel_w), maxvec, &vec, &npv, &boc);
    if ((st = clconv_lane_block_overrides(ctx, opts, "pixel vectors for direct-pointwise",
                                          &npv, &boc)))
        return st;
    while (boc > 1 && boc / 2 >= cout_g)
        boc /= 2;
    char extra[80];
    /* PW_COPY: the layer reads the float copy conv2d_gather_phases makes
     * (compiled in only then; a padded 1x1 stride-1 layer has no wide rows
     * and no strides but needs it too), not x as stored */
    snprintf(extra, sizeof extra, "-DVEC=%d -DNPV=%d -DWIDE=%d%s", vec, npv,
             wq > out->w ? 1 : 0, !direct ? " -DPW_COPY" : "");
    clconv_tile t = {1, 1, 1, 1, boc, 1};
    if ((st = clconv_direct_build(plan, &t, "conv2d_pointwise", extra)))
        return st;
    int64_t ocbs = (cout_g + boc - 1) / boc;
    int64_t per_item = (int64_t)npv * vec;
    if (!direct) {
        clconv_packer *d = calloc(1, sizeof *d);
        if (!d)
            return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
        plan->state = d;
        const size_t global[2] = {(size_t)hq, (size_t)(in->n * in->c * nph)};
        const cl_int gargs[] = {(cl_int)in->h, (cl_int)in->w, (cl_int)hq, (cl_int)wq,
                                (cl_int)(in->n * in->c), (cl_int)p->pad_top,
                                (cl_int)p->pad_left};
        if ((st = clconv_copier_init(plan, d, "conv2d", "conv2d_gather_phases", copy, 2, global,
                                     gargs, sizeof gargs / sizeof gargs[0])))
            return st;
    }
    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_POINTWISE;
    plan->local_size[0] = 1;
    plan->local_size[1] = 1;
    plan->local_size[2] = 1;
    /* channel blocks fastest: see the kernel (x's strip stays in L2) */
    plan->global_size[0] = (size_t)ocbs;
    plan->global_size[1] = (size_t)((pixels + per_item - 1) / per_item);
    plan->global_size[2] = (size_t)(in->n * p->groups);
    /* H, W: the phase planes the kernel reads (x's own when direct) */
    return clconv_direct_set_args(plan, hq, wq, -1);
}

const clconv_algo clconv_conv2d_direct_pointwise = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_POINTWISE, .f16 = true, .applies = pointwise_applies, .plan = pointwise_plan,
    .run = pointwise_run, .destroy = clconv_packer_state_destroy};
