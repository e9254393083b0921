/* The one place that chooses a conv2d plan's algorithm: an explicit
 * request, the tuning database, find mode, and the built-in AUTO rules per
 * device class and shape. Algorithms are built through their interface
 * (host/algo.h), never through the public API. */
#include "algo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* AUTO's candidates for a layer, in the order to try them (the first that
 * builds wins). Measured on PoCL (AMD EPYC, 2 threads, AVX-512):
 *   - Winograd F(2x2,3x3): 1.2-5x faster than direct-vector for 3x3
 *     stride-1 layers with deep channels and enough 2x2 tiles; below that
 *     its per-run filter transform dominates. Dilated 3x3 layers too (their
 *     output split into dilation phases, each tiled on its own) with 128 or
 *     more input channels per group: DeepLab's and ASPP's 256 / 512-channel
 *     layers 1.6 - 3.3x direct-pointwise; with 64 channels (56x56,
 *     dilation 2) direct-pointwise stayed 1.1 - 1.3x faster. Grouped layers
 *     need 32 input channels per group: with 16 (ResNeXt's 14x14 stage, 64
 *     channels in 4 groups at 56x56) direct-pointwise measured 1.1 - 1.9x
 *     Winograd.
 *   - direct-pointwise (pixels in SIMD lanes, no weight repacking): 2.5-5x
 *     direct-vector on ResNet-50's 1x1 layers, 1.4-2.3x on its conv1 and 3x3
 *     stride-2 / 7x7-map layers, 1.5x on VGG's conv1_1 and 5x5 layers;
 *     slower where the wide grid drops over a quarter of its columns or a
 *     single input channel leaves little to reduce (LeNet).
 *   - direct-batch (images in SIMD lanes) for batches of 8 or more with
 *     kernels larger than 1x1 and 4 or more output channels per group: on
 *     maps of up to 16x16 it beat Winograd where a group has at most 64
 *     input channels (CIFAR-sized 32->64 and 64->128 layers at batch 16:
 *     1.2x and 1.6x) and direct-pointwise everywhere; on larger maps it is
 *     taken where direct-pointwise is not (LeNet's one-channel conv1 at
 *     batch 64: 1.2x direct-vector at 0.8 ms; its 10x10 conv3 1.5x). On
 *     1x1 layers its scalar stores and copy lose (8x on 56x56 maps).
 *   - then output channels in SIMD lanes where a group has enough of them
 *     (direct-vector); for depthwise layers, channels in lanes
 *     (direct-depthwise-channels) where direct-depthwise's row path does not
 *     apply (windows over 3 wide, dilation, strides over 2: 1.1x on
 *     QuartzNet's 1-D 33 / 39 windows, 1.2 - 2.3x on 5x5 and 2.5 - 4.1x on
 *     7x7 layers of 7x7 to 56x56 maps), columns in lanes (direct-depthwise)
 *     for the rest (its 3x3 row path measured 1.3 - 1.8x channels in lanes
 *     on MobileNet's layers), else the register kernel.
 * Other devices: direct-tiled, and direct-register where a tile with its
 * halo does not fit the local memory. */
static int auto_candidates(const clconv_plan *plan, const clconv_algo **out)
{
    const clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *o = &plan->info.output;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int n = 0;
    if (!clconv_context_is_cpu_family(ctx)) {
        out[n++] = &clconv_conv2d_direct_tiled;
        out[n++] = &clconv_conv2d_direct_register;
        return n;
    }
    int64_t tiles = in->n * ((o->h + 1) / 2) * ((o->w + 1) / 2);
    const bool one_by_one = p->kernel_h == 1 && p->kernel_w == 1;
    const bool batch = in->n >= 8 && !one_by_one && cout_g >= 4;
    const bool batch_small_map = batch && o->h * o->w <= 256;
    const bool dilated = p->dilation_h > 1 || p->dilation_w > 1;
    if (p->kernel_h == 3 && p->kernel_w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
        cin_g >= (dilated ? 128 : 16) && cout_g >= 16 && tiles >= 32 &&
        !(batch_small_map && cin_g <= 64) && (p->groups == 1 || cin_g >= 32))
        out[n++] = &clconv_conv2d_winograd;
    if (batch_small_map)
        out[n++] = &clconv_conv2d_direct_batch;
    int64_t wq = o->w + (p->kernel_w - 1) * p->dilation_w / p->stride_w;
    /* The wide grid may drop up to 1/drop_den of its columns: a quarter, or
     * half on dilated layers (direct-vector is no faster there: ASPP's 3x3
     * dilation 6 and 12 on 33x33 maps) */
    const int64_t drop_den = p->dilation_w > 1 ? 2 : 4;
    if (cout_g >= 4 && o->h * wq >= 4 && (cin_g >= 2 || one_by_one) && (wq - o->w) * drop_den <= wq)
        out[n++] = &clconv_conv2d_direct_pointwise;
    else if (batch && !batch_small_map)
        out[n++] = &clconv_conv2d_direct_batch;
    /* direct-depthwise's row path: equal strides of 1 or 2, no dilation,
     * windows up to 3 wide */
    const bool dw_rows = p->stride_h == p->stride_w && p->stride_w <= 2 && p->dilation_h == 1 &&
                         p->dilation_w == 1 && p->kernel_w <= 3;
    if (cout_g < 4 && cin_g == 1 && !dw_rows)
        out[n++] = &clconv_conv2d_direct_depthwise_channels;
    out[n++] = cout_g >= 4                ? &clconv_conv2d_direct_vector
               : cin_g == 1 && o->w >= 4  ? &clconv_conv2d_direct_depthwise
                                          : &clconv_conv2d_direct_register;
    return n;
}

/* Builds the plan with the algorithm options name, or AUTO's candidates in
 * turn (the last one's error when none builds). */
static clconv_status build(clconv_plan *plan, const clconv_plan_options *opts)
{
    if (opts->algorithm != CLCONV_ALGO_AUTO) {
        const clconv_algo *a = clconv_algo_lookup(CLCONV_OP_CONV2D, opts->algorithm);
        if (!a)
            return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                               "options.algorithm = %s, expected %s for conv2d",
                               clconv_algorithm_name(opts->algorithm),
                               clconv_algo_names(CLCONV_OP_CONV2D));
        return clconv_plan_build_with(plan, a, opts);
    }
    const clconv_algo *all[6], *cands[7];
    int na = auto_candidates(plan, all), n = 0;
    /* Only algorithms that take the plan's storage type; for fp16 the
     * register kernel (every layer) backs the list up. */
    for (int i = 0; i < na; i++)
        if (plan->dtype == CLCONV_DTYPE_F32 || all[i]->f16)
            cands[n++] = all[i];
    if (plan->dtype != CLCONV_DTYPE_F32 && (n == 0 || cands[n - 1] != &clconv_conv2d_direct_register))
        cands[n++] = &clconv_conv2d_direct_register;
    clconv_status st = CLCONV_ERROR_UNSUPPORTED;
    for (int i = 0; i < n; i++)
        if ((st = clconv_plan_build_with(plan, cands[i], opts)) == CLCONV_SUCCESS)
            break;
    return st;
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
        const clconv_run_args a = {.x = x, .w = w, .b = b, .y = y, .workspace = ws, .done = &done};
        clconv_status st = clconv_conv2d_enqueue(plan, &a);
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

 * MIOpen's tuners search, plus the device defaults, GEMM and Winograd. */
static const clconv_plan_options FIND_CPU[] = {
    {.algorithm = CLCONV_ALGO_DIRECT_VECTOR},
    {.algorithm = CLCONV_ALGO_DIRECT_VECTOR, .block_w = 8},
    {.algorithm = CLCONV_ALGO_DIRECT_VECTOR, .block_w = 16, .wg_h = 1},
    {.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE},
    {.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE, .wg_h = 1},
    {.algorithm = CLCONV_ALGO_DIRECT_POINTWISE},
    {.algorithm = CLCONV_ALGO_DIRECT_POINTWISE, .block_w = 4},
    {.algorithm = CLCONV_ALGO_DIRECT_BATCH},
    {.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS},
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

/* The candidates: the context's find space (clconv_context_options.find_space
 * or CLCONV_FIND_SPACE, read when the context was made), by default its
 * kernel family's set; returns how many it put in out (at most FIND_MAX). */
static size_t find_candidates(const clconv_context *ctx, const clconv_plan_options **out)
{
    bool cpu = clconv_context_is_cpu_family(ctx);
    clconv_find_space space = ctx->find_space;
    bool want_cpu = space == CLCONV_FIND_SPACE_CPU || space == CLCONV_FIND_SPACE_ALL ||
                    (space == CLCONV_FIND_SPACE_AUTO && cpu);
    bool want_gpu = space == CLCONV_FIND_SPACE_GPU || space == CLCONV_FIND_SPACE_ALL ||
                    (space == CLCONV_FIND_SPACE_AUTO && !cpu);
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
    /* Timed without the residual and the second output: they add the same
     * pass over y to every candidate, and need buffers the runs here lack. */
    clconv_conv2d_params plain = *p;
    plain.has_residual = 0;
    plain.pre_activation_output = 0;
    p = &plain;
    clconv_shape os;
    clconv_status st = clconv_conv2d_check(ctx, p, in, &os);
    if (st)
        return st;
    clconv_shape ws_shape = clconv_conv2d_weight_shape(p);
    const size_t es = clconv_dtype_size(p->dtype);
    size_t sizes[4] = {clconv_shape_elements(*in) * es, clconv_shape_elements(ws_shape) * es,
                       (size_t)p->out_channels * es, clconv_shape_elements(os) * es};
    cl_mem bufs[4] = {NULL, NULL, NULL, NULL}, ws = NULL;
    size_t ws_bytes = 0;
    for (int i = 0; i < 4 && !st; i++) {
        st = clconv_buffer_create(ctx, sizes[i], NULL, &bufs[i], "find-mode scratch");
        /* small normal values: no denormal slow paths (0.01 as a float or a half) */
        const float fill = 0.01f;
        const uint16_t fill_h = clconv_float_to_half(fill);
        cl_int err = st ? CL_SUCCESS
                        : clEnqueueFillBuffer(ctx->queue, bufs[i],
                                              es == 2 ? (const void *)&fill_h : (const void *)&fill,
                                              es, 0, sizes[i], 0, NULL, NULL);
        if (!st && err != CL_SUCCESS)
            st = clconv_fail_cl(ctx, err, "clEnqueueFillBuffer (find mode)");
    }
    *best_ms = 1e300;
    for (size_t c = 0; c < ncand && !st; c++) {
        const clconv_plan_options *cand = cands[c];
        clconv_plan *plan = NULL;
        if (clconv_conv2d_plan_new(ctx, p, in, &plan) != CLCONV_SUCCESS)
            continue;
        if (build(plan, cand) != CLCONV_SUCCESS) {
            clconv_plan_destroy(plan); /* not applicable here (or not built on this device) */
            continue;
        }
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

/* AUTO with no tile overrides consults the tuning database (*from_db when a
 * record answered); find mode fills it. */
static clconv_status resolve_options(clconv_context *ctx, const clconv_conv2d_params *p,
                                     const clconv_shape *in, const clconv_plan_options *given,
                                     clconv_plan_options *eff, bool *from_db)
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
        if (clconv_tune_lookup(ctx, keys, 2, &found)) {
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

clconv_status clconv_conv2d_select(clconv_plan *plan, const clconv_plan_options *options)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    clconv_plan_options eff;
    bool from_db;
    clconv_status st = resolve_options(ctx, p, &plan->info.input, options, &eff, &from_db);
    if (st)
        return st;
    st = build(plan, &eff);
    /* A database record this layer cannot use (edited by hand, written by
     * another clconv version) must not break AUTO: the defaults answer. */
    if (st && from_db && (st == CLCONV_ERROR_UNSUPPORTED || st == CLCONV_ERROR_INVALID_VALUE)) {
        static const clconv_plan_options none = {0};
        eff = options ? *options : none;
        st = build(plan, &eff);
    }
    return st;
}

/* ---- conv_transpose2d (and conv2d backward-data) ------------------------- */

/* AUTO: on CPU devices the vector variant, or the columns one when a group
 * has too few output channels to fill 8 lanes (both beat the gather and
 * CLBlast's SGEMM + col2im on every DCGAN and ResNet-50 backward-data layer
 * measured with PoCL); the gather elsewhere. */
clconv_status clconv_conv_transpose2d_select(clconv_plan *plan,
                                             const clconv_plan_options *options)
{
    const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
    clconv_algorithm id = options ? options->algorithm : CLCONV_ALGO_AUTO;
    if (id == CLCONV_ALGO_AUTO)
        id = !clconv_context_is_cpu_family(plan->ctx)         ? CLCONV_ALGO_TRANSPOSED_GATHER
             : p->out_channels / p->groups < 8              ? CLCONV_ALGO_TRANSPOSED_COLUMNS
                                                            : CLCONV_ALGO_TRANSPOSED_VECTOR;
    const clconv_algo *a = clconv_algo_lookup(CLCONV_OP_CONV_TRANSPOSE2D, id);
    /* AUTO never picks an algorithm without the plan's storage type: the
     * gather kernel takes every layer. */
    if (a && (!options || options->algorithm == CLCONV_ALGO_AUTO) &&
        clconv_algo_dtype_ok(plan, a) != CLCONV_SUCCESS)
        a = clconv_algo_lookup(CLCONV_OP_CONV_TRANSPOSE2D, CLCONV_ALGO_TRANSPOSED_GATHER);
    if (!a)
        return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected %s for conv_transpose2d",
                           clconv_algorithm_name(id),
                           clconv_algo_names(CLCONV_OP_CONV_TRANSPOSE2D));
    return clconv_plan_build_with(plan, a, options);
}
