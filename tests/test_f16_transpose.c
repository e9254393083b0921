/* fp16 storage (clconv_dtype F16) for the transposed convolutions
 * (conv_transpose2d's gather, vector and columns algorithms, conv_transpose1d),
 * conv2d's data gradient (a conv_transpose2d plan) and Winograd conv2d: seeded
 * sweeps against the double reference on the half inputs within the F32
 * bound plus one half ulp (include/clconv.h), byte-exact guard bands around
 * outputs of odd element counts, AUTO's choices, and the refusals that stay
 * (CLBlast's transposed-gemm, the _host calls). */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The conv_transpose2d algorithms that take fp16 storage. */
static const clconv_algorithm CT_F16_ALGOS[] = {
    CLCONV_ALGO_TRANSPOSED_GATHER, CLCONV_ALGO_TRANSPOSED_VECTOR, CLCONV_ALGO_TRANSPOSED_COLUMNS};
#define N_CT_F16_ALGOS (sizeof CT_F16_ALGOS / sizeof CT_F16_ALGOS[0])

static bool takes_f16(clconv_algorithm a)
{
    for (size_t i = 0; i < N_CT_F16_ALGOS; i++)
        if (CT_F16_ALGOS[i] == a)
            return true;
    return false;
}

/* Geometries (kh, kw, sh, sw, dh, dw): few, each a program per algorithm
 * and epilogue family, so the sweep's compile time stays bounded. */
static const int CT_GEOS[][6] = {
    {3, 3, 2, 2, 1, 1}, {2, 3, 1, 2, 2, 1}, {4, 4, 2, 2, 1, 1},
};
#define N_CT_GEOS (sizeof CT_GEOS / sizeof CT_GEOS[0])

/* One random conv_transpose2d layer of geometry gi: channels, groups,
 * padding, output_padding (below max(stride, dilation)), batch, bias, an
 * activation (the others on geometry 1), the residual and the second output
 * on geometry 1 (both: each algorithm meets z and pre as halves). */
static clconv_conv_transpose2d_params ct_case(tu_rng *r, int gi, clconv_shape *in)
{
    for (;;) {
        const int *geo = CT_GEOS[gi];
        const int64_t groups = tu_int(r, 0, 2) == 0 ? 2 : 1;
        const int64_t cin_g = tu_int(r, 1, 5), cout_g = tu_int(r, 1, 10);
        clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(
            cin_g * groups, cout_g * groups, geo[0], geo[1]);
        p.dtype = CLCONV_DTYPE_F16;
        p.groups = groups;
        p.stride_h = geo[2];
        p.stride_w = geo[3];
        p.dilation_h = geo[4];
        p.dilation_w = geo[5];
        p.pad_top = tu_int(r, 0, 1);
        p.pad_bottom = tu_int(r, 0, 1);
        p.pad_left = tu_int(r, 0, 1);
        p.pad_right = tu_int(r, 0, 1);
        const int64_t oph = p.stride_h > p.dilation_h ? p.stride_h : p.dilation_h;
        const int64_t opw = p.stride_w > p.dilation_w ? p.stride_w : p.dilation_w;
        p.output_padding_h = tu_int(r, 0, (int)oph - 1);
        p.output_padding_w = tu_int(r, 0, (int)opw - 1);
        p.has_bias = tu_int(r, 0, 1);
        tu_random_activation(r, &p.activation, p.activation_params, gi == 1);
        tu_random_epilogue(r, gi == 1 ? 3 : 0, &p.has_residual, &p.alpha, &p.beta,
                           &p.pre_activation_output);
        *in = (clconv_shape){tu_int(r, 1, 2), p.in_channels, tu_int(r, 1, 9), tu_int(r, 1, 17)};
        if (clconv_conv_transpose2d_validate(&p, in) == CLCONV_SUCCESS)
            return p;
    }
}

/* The conv_transpose2d sweep with fp16 storage: every algorithm that takes
 * it, inputs rounded to halves, the reference in double on them, the
 * device's halves within the F32 bound plus one half ulp
 * (tu_conv_transpose2d_check with p.dtype = F16), guard bands byte by
 * byte. */
START_TEST(conv_transpose2d_sweep)
{
    const uint64_t seed = 1717;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    const int per_algo = 4; /* 12 programs: the compiles are the test's time */
    for (size_t ai = 0; ai < N_CT_F16_ALGOS; ai++)
        for (int i = 0; i < per_algo; i++) {
            const clconv_algorithm a = CT_F16_ALGOS[ai];
            clconv_shape in;
            clconv_conv_transpose2d_params p = ct_case(&r, i % (int)N_CT_GEOS, &in);
            clconv_plan_options opt = {.algorithm = a};
            const bool integers = i % 2 == 0;
            char what[400];
            snprintf(what, sizeof what,
                     "f16 transposed sweep seed %llu %s case %d: in=%lldx%lldx%lldx%lld "
                     "out_c=%lld k=%lldx%lld s=%lldx%lld d=%lldx%lld pad=%lld,%lld,%lld,%lld "
                     "op=%lld,%lld g=%lld bias=%d act=%s res=%d(%g,%g) pre=%d ints=%d",
                     (unsigned long long)seed, clconv_algorithm_name(a), i, (long long)in.n,
                     (long long)in.c, (long long)in.h, (long long)in.w,
                     (long long)p.out_channels, (long long)p.kernel_h, (long long)p.kernel_w,
                     (long long)p.stride_h, (long long)p.stride_w, (long long)p.dilation_h,
                     (long long)p.dilation_w, (long long)p.pad_top, (long long)p.pad_bottom,
                     (long long)p.pad_left, (long long)p.pad_right, (long long)p.output_padding_h,
                     (long long)p.output_padding_w, (long long)p.groups, p.has_bias,
                     clconv_activation_name(p.activation), p.has_residual, (double)p.alpha,
                     (double)p.beta, p.pre_activation_output, (int)integers);
            clconv_plan_info info;
            tu_conv_transpose2d_check(tu_ctx(), &p, &in, &opt, &r, integers, &info, what);
            ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16"), "%s: options %s", what,
                          info.build_options);
        }
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    fprintf(stderr, "f16 conv_transpose2d sweep: %d cases, %llu programs\n",
            (int)(per_algo * N_CT_F16_ALGOS), (unsigned long long)programs);
}
END_TEST

/* ---- plans run on halves in guarded buffers -------------------------------- */

/* A tensor of n floats as halves in a guarded buffer. */
static tu_guarded guarded_halves(const float *a, size_t n)
{
    uint16_t *h = malloc((n ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    clconv_floats_to_halves(a, h, n);
    tu_guarded g = tu_guarded_create(tu_ctx(), n * 2, h);
    free(h);
    return g;
}

/* Runs plan (conv_transpose1d: a = x, with bias b; conv2d backward-data:
 * a = dy, b unused) on the halves of a, w and b in guarded buffers; the
 * output (ny halves) starts as half NaNs, so an element not written shows.
 * Checks every guard band byte by byte and returns the output widened. */
static float *run_halves(clconv_plan *plan, bool backward_data, const float *a, size_t na,
                         const float *w, size_t nw, const float *b, size_t nb, size_t ny,
                         const char *what)
{
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    ck_assert_uint_eq(clconv_shape_elements(info.output), ny);
    tu_guarded ga = guarded_halves(a, na), gw = guarded_halves(w, nw), gb = {0}, gws = {0};
    if (b)
        gb = guarded_halves(b, nb);
    if (info.workspace_bytes)
        gws = tu_guarded_create(tu_ctx(), info.workspace_bytes, NULL);
    uint16_t *nans = malloc((ny ? ny : 1) * sizeof *nans);
    ck_assert_ptr_nonnull(nans);
    for (size_t i = 0; i < ny; i++)
        nans[i] = 0x7e00;
    tu_guarded gy = tu_guarded_create(tu_ctx(), ny * 2, nans);
    cl_event done = NULL;
    clconv_status st =
        backward_data ? clconv_conv2d_backward_data_run(plan, ga.buf, gw.buf, gy.buf, gws.buf, 0,
                                                        NULL, &done)
                      : clconv_conv_transpose2d_run(plan, ga.buf, gw.buf, b ? gb.buf : NULL,
                                                    gy.buf, gws.buf, 0, NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: run: %s", what, clconv_last_error(tu_ctx()));
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_msg(tu_guarded_read(tu_ctx(), &gy, nans), "%s: %s wrote outside its output (%s)",
                  what, info.kernel_name, info.build_options);
    ck_assert_msg(tu_guarded_read(tu_ctx(), &ga, NULL) && tu_guarded_read(tu_ctx(), &gw, NULL),
                  "%s: input guard bands changed", what);
    if (info.workspace_bytes)
        ck_assert_msg(tu_guarded_read(tu_ctx(), &gws, NULL), "%s: wrote outside the workspace",
                      what);
    float *y = tu_alloc(ny);
    clconv_halves_to_floats(nans, y, ny);
    free(nans);
    tu_guarded_release(&ga);
    tu_guarded_release(&gw);
    tu_guarded_release(&gb);
    tu_guarded_release(&gws);
    tu_guarded_release(&gy);
    return y;
}

/* Random halves (floats in [-1, 1] rounded), n of them. */
static float *random_halves(tu_rng *r, size_t n)
{
    float *a = tu_alloc(n);
    tu_fill(r, a, n, false);
    tu_round_to_half(a, n);
    return a;
}

static float *abs_copy(const float *a, size_t n)
{
    float *c = tu_alloc(n);
    for (size_t i = 0; i < n; i++)
        c[i] = fabsf(a[i]);
    return c;
}

/* The F32 bound plus one half ulp (tu_compare_f16) for a reduction of
 * length k; scale per output. */
static void expect_within(const float *y, const float *ref, const float *scale, size_t n, int64_t k,
                          const char *what)
{
    char msg[256];
    const double rtol = 4.0 * sqrt((double)(k + 2)) * FLT_EPSILON;
    if (tu_compare_f16(y, ref, scale, n, 1e-7, rtol, msg, sizeof msg) >= 0)
        ck_abort_msg("%s: %s", what, msg);
}

/* conv_transpose1d with fp16 storage through its own plan call, on each
 * algorithm that takes it and AUTO. */
START_TEST(conv_transpose1d_f16)
{
    tu_rng r = tu_rng_make(1718);
    const clconv_algorithm algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_TRANSPOSED_GATHER,
                                      CLCONV_ALGO_TRANSPOSED_VECTOR,
                                      CLCONV_ALGO_TRANSPOSED_COLUMNS};
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
        clconv_conv_transpose1d_params q = {.in_channels = 4, .out_channels = 6, .kernel = 3,
                                            .stride = 2, .pad_left = 1, .pad_right = 0,
                                            .output_padding = 1, .dilation = 1, .groups = 2,
                                            .has_bias = 1, .dtype = CLCONV_DTYPE_F16};
        const int64_t n = 2, len = 9; /* AUTO (columns) shares a program */
        int64_t olen;
        ck_assert_int_eq(clconv_conv_transpose1d_output_length(&q, len, &olen), CLCONV_SUCCESS);
        const size_t nx = (size_t)(n * q.in_channels * len);
        const size_t nw = (size_t)(q.in_channels * (q.out_channels / q.groups) * q.kernel);
        const size_t nb = (size_t)q.out_channels, ny = (size_t)(n * q.out_channels * olen);
        float *x = random_halves(&r, nx), *w = random_halves(&r, nw), *b = random_halves(&r, nb);
        clconv_plan_options opt = {.algorithm = algos[i]};
        clconv_plan *plan = NULL;
        ck_assert_int_eq(clconv_conv_transpose1d_plan_create(tu_ctx(), &q, n, len, &opt, &plan),
                         CLCONV_SUCCESS);
        clconv_plan_info info;
        ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
        ck_assert_msg(takes_f16(info.algorithm), "conv_transpose1d %s: planned %s",
                      clconv_algorithm_name(algos[i]), clconv_algorithm_name(info.algorithm));
        char what[96];
        snprintf(what, sizeof what, "conv_transpose1d f16 %s (length %lld)",
                 clconv_algorithm_name(info.algorithm), (long long)len);
        float *y = run_halves(plan, false, x, nx, w, nw, b, nb, ny, what);
        clconv_plan_destroy(plan);
        clconv_conv_transpose1d_params rq = q;
        rq.dtype = CLCONV_DTYPE_F32;
        float *ref = tu_alloc(ny), *scale = tu_alloc(ny);
        float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ab = abs_copy(b, nb);
        ck_assert_int_eq(clconv_ref_conv_transpose1d(&rq, n, len, x, w, b, ref), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_ref_conv_transpose1d(&rq, n, len, ax, aw, ab, scale),
                         CLCONV_SUCCESS);
        expect_within(y, ref, scale, ny, q.in_channels / q.groups * q.kernel, what);
        free(x), free(w), free(b), free(y), free(ref), free(scale), free(ax), free(aw), free(ab);
    }
}
END_TEST

/* conv2d backward-data with fp16 storage (a conv_transpose2d plan on dy and
 * the forward weights): random layers on AUTO and each algorithm that takes
 * it, against the reference on the halves; outputs of odd sizes included. */
START_TEST(conv2d_backward_data_f16)
{
    tu_rng r = tu_rng_make(1719);
    static const int64_t layers[][9] = {
        /* cin, cout, k, stride, pad, dilation, groups, h, w */
        {3, 4, 3, 1, 1, 1, 1, 5, 7}, {4, 6, 3, 2, 1, 1, 2, 9, 7},
        {2, 9, 2, 2, 0, 1, 1, 7, 5}, {6, 3, 3, 1, 0, 2, 3, 9, 9}};
    const clconv_algorithm algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_TRANSPOSED_GATHER,
                                      CLCONV_ALGO_TRANSPOSED_VECTOR,
                                      CLCONV_ALGO_TRANSPOSED_COLUMNS};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const int64_t *L = layers[i];
        clconv_conv2d_params p = clconv_conv2d_default_params(L[0], L[1], L[2], L[2]);
        p.stride_h = p.stride_w = L[3];
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = L[4];
        p.dilation_h = p.dilation_w = L[5];
        p.groups = L[6];
        p.dtype = CLCONV_DTYPE_F16;
        const clconv_shape in = {i % 2 ? 2 : 1, L[0], L[7], L[8]};
        clconv_shape os;
        ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
        const size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(os);
        const size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(&p));
        float *dy = random_halves(&r, ny), *w = random_halves(&r, nw);
        clconv_plan_options opt = {.algorithm = algos[i % 4]};
        clconv_plan *plan = NULL;
        ck_assert_msg(clconv_conv2d_backward_data_plan_create(tu_ctx(), &p, &in, &opt, &plan) ==
                          CLCONV_SUCCESS,
                      "backward-data f16 layer %zu: %s", i, clconv_last_error(tu_ctx()));
        clconv_plan_info info;
        ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
        ck_assert_msg(takes_f16(info.algorithm), "layer %zu: planned %s", i,
                      clconv_algorithm_name(info.algorithm));
        ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16"), "options %s",
                      info.build_options);
        char what[96];
        snprintf(what, sizeof what, "backward-data f16 layer %zu (%s, dx of %zu halves)", i,
                 clconv_algorithm_name(info.algorithm), nx);
        float *dx = run_halves(plan, true, dy, ny, w, nw, NULL, 0, nx, what);
        clconv_plan_destroy(plan);
        clconv_conv2d_params rp = p;
        rp.dtype = CLCONV_DTYPE_F32;
        float *ref = tu_alloc(nx), *scale = tu_alloc(nx);
        float *ady = abs_copy(dy, ny), *aw = abs_copy(w, nw);
        ck_assert_int_eq(clconv_ref_conv2d_backward_data(&rp, &in, dy, w, ref), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_ref_conv2d_backward_data(&rp, &in, ady, aw, scale),
                         CLCONV_SUCCESS);
        expect_within(dx, ref, scale, nx, p.out_channels / p.groups * p.kernel_h * p.kernel_w,
                      what);
        free(dy), free(w), free(dx), free(ref), free(scale), free(ady), free(aw);
    }
}
END_TEST

/* Winograd F(2x2,3x3) with fp16 storage: 3x3 stride-1 layers (channels,
 * groups, padding, batch, bias, activation, the epilogue's residual and
 * second output), against the reference on the halves; outputs of odd
 * element counts among them (the guard bands are checked to the byte). */
START_TEST(winograd_sweep)
{
    const uint64_t seed = 1720;
    tu_rng r = tu_rng_make(seed);
    for (int i = 0; i < 4; i++) {
        const int64_t groups = i == 2 ? 2 : 1;
        clconv_conv2d_params p = clconv_conv2d_default_params(
            tu_int(&r, 1, 6) * groups, tu_int(&r, 1, 9) * groups, 3, 3);
        p.dtype = CLCONV_DTYPE_F16;
        p.groups = groups;
        p.pad_top = p.pad_bottom = tu_int(&r, 0, 1);
        p.pad_left = p.pad_right = tu_int(&r, 0, 1);
        p.has_bias = tu_int(&r, 0, 1);
        /* the epilogue families as in test_f16: tied to odd cases */
        tu_random_activation(&r, &p.activation, p.activation_params, i % 2 == 1);
        tu_random_epilogue(&r, i % 2 == 1 ? 1 + tu_int(&r, 0, 2) : 0, &p.has_residual, &p.alpha,
                           &p.beta, &p.pre_activation_output);
        /* odd heights and widths: odd output element counts, partial tiles */
        clconv_shape in = {tu_int(&r, 1, 2), p.in_channels, 3 + 2 * tu_int(&r, 0, 5),
                           3 + 2 * tu_int(&r, 0, 10)};
        if (i == 0) /* wide rows: the full 16-column stores of wino_output */
            in.w = 37;
        clconv_plan_options opt = {.algorithm = CLCONV_ALGO_WINOGRAD};
        const bool integers = i == 0;
        char what[300];
        snprintf(what, sizeof what,
                 "f16 winograd seed %llu case %d: in=%lldx%lldx%lldx%lld out_c=%lld "
                 "pad=%lld,%lld g=%lld bias=%d act=%s res=%d(%g,%g) pre=%d ints=%d",
                 (unsigned long long)seed, i, (long long)in.n, (long long)in.c, (long long)in.h,
                 (long long)in.w, (long long)p.out_channels, (long long)p.pad_top,
                 (long long)p.pad_left, (long long)p.groups, p.has_bias,
                 clconv_activation_name(p.activation), p.has_residual, (double)p.alpha,
                 (double)p.beta, p.pre_activation_output, (int)integers);
        clconv_plan_info info;
        tu_conv2d_check(tu_ctx(), &p, &in, &opt, &r, integers, &info, what);
        ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16"), "%s: options %s", what,
                      info.build_options);
    }
}
END_TEST

/* AUTO with fp16 storage: conv_transpose2d plans an algorithm that takes it
 * (never transposed-gemm), on layers each of its rules meets; conv2d's
 * deep 3x3 stride-1 layer gets Winograd on CPU devices, as in f32. */
START_TEST(auto_picks_f16_algorithms)
{
    tu_rng r = tu_rng_make(1721);
    static const int64_t layers[][5] = {/* cin, cout, k, stride, groups */
                                        {8, 16, 4, 2, 1}, {16, 3, 3, 1, 1}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(
            layers[i][0], layers[i][1], layers[i][2], layers[i][2]);
        p.stride_h = p.stride_w = layers[i][3];
        p.groups = layers[i][4];
        p.has_bias = 1;
        p.dtype = CLCONV_DTYPE_F16;
        const clconv_shape in = {1, layers[i][0], 6, 7};
        clconv_plan_info info;
        char what[64];
        snprintf(what, sizeof what, "auto transposed layer %zu", i);
        tu_conv_transpose2d_check(tu_ctx(), &p, &in, NULL, &r, false, &info, what);
        ck_assert_msg(takes_f16(info.algorithm), "%s: AUTO chose %s", what,
                      clconv_algorithm_name(info.algorithm));
    }
    clconv_conv2d_params c = clconv_conv2d_default_params(16, 16, 3, 3);
    c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = 1;
    c.dtype = CLCONV_DTYPE_F16;
    const clconv_shape in = {1, 16, 12, 12};
    clconv_plan_info info;
    tu_conv2d_check(tu_ctx(), &c, &in, NULL, &r, false, &info, "auto conv2d 3x3 f16");
    if (tu_device_is_cpu())
        ck_assert_msg(info.algorithm == CLCONV_ALGO_WINOGRAD, "AUTO chose %s",
                      clconv_algorithm_name(info.algorithm));
}
END_TEST

/* What stays refused with fp16 storage, saying why: CLBlast's transposed-gemm
 * (asked for by name, for conv_transpose2d and backward-data), and the _host
 * calls (float arrays). */
START_TEST(refusals)
{
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(2, 3, 3, 3);
    t.dtype = CLCONV_DTYPE_F16;
    const clconv_shape in = {1, 2, 5, 5};
    ck_assert_int_eq(
        clconv_conv_transpose2d_algorithm_supported(tu_ctx(), &t, &in, CLCONV_ALGO_TRANSPOSED_GEMM),
        CLCONV_ERROR_UNSUPPORTED);
    const char *why = clconv_last_error(tu_ctx());
    ck_assert_msg(strstr(why, "dtype = f16: algorithm transposed-gemm takes f32 tensors only") &&
                      strstr(why, "cl_khr_fp16"),
                  "%s", why);
    clconv_plan_options opt = {.algorithm = CLCONV_ALGO_TRANSPOSED_GEMM};
    clconv_plan *plan = NULL;
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &t, &in, &opt, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "cl_khr_fp16"), "%s",
                  clconv_last_error(tu_ctx()));
    /* the algorithms that take it say so */
    for (size_t i = 0; i < N_CT_F16_ALGOS; i++)
        ck_assert_int_eq(
            clconv_conv_transpose2d_algorithm_supported(tu_ctx(), &t, &in, CT_F16_ALGOS[i]),
            CLCONV_SUCCESS);
    /* backward-data: transposed-gemm by name refused too */
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    p.dtype = CLCONV_DTYPE_F16;
    ck_assert_int_eq(clconv_conv2d_backward_data_plan_create(tu_ctx(), &p, &in, &opt, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "transposed-gemm"), "%s",
                  clconv_last_error(tu_ctx()));
    /* conv2d's CLBlast GEMM gives the same reason */
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(tu_ctx(), &p, &in, CLCONV_ALGO_GEMM),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "cl_khr_fp16"), "%s",
                  clconv_last_error(tu_ctx()));
    /* the host-array calls take floats */
    float x[50] = {0}, w[54] = {0}, y[3 * 7 * 7], dx[50];
    ck_assert_int_eq(clconv_conv_transpose2d_host(tu_ctx(), &t, &in, NULL, x, w, NULL, y),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "f16"), "%s", clconv_last_error(tu_ctx()));
    ck_assert_int_eq(clconv_conv2d_backward_data_host(tu_ctx(), &p, &in, NULL, y, w, dx),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "clconv_conv2d_backward_data_host"), "%s",
                  clconv_last_error(tu_ctx()));
}
END_TEST

/* IEEE through fp16 storage on each transposed algorithm: a sum above 65504
 * stores -inf, one at 65504 stays finite, a NaN input reaches the outputs it
 * touches; an output of 3 elements (6 bytes) written to the byte. */
START_TEST(overflow_nan_and_odd_sizes)
{
    for (size_t ai = 0; ai < N_CT_F16_ALGOS; ai++) {
        const clconv_algorithm a = CT_F16_ALGOS[ai];
        clconv_plan_options opt = {.algorithm = a};
        /* 1x1, 1 -> 1 channel over a 1x1x1x3 input: y = 256 * x */
        clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(1, 1, 1, 1);
        p.dtype = CLCONV_DTYPE_F16;
        const clconv_shape in = {1, 1, 1, 3};
        float x[3] = {255.875f, -300.0f, NAN}, w[1] = {256.0f};
        float *y = tu_conv_transpose2d_run(tu_ctx(), &p, &in, x, w, NULL, &opt, NULL,
                                           clconv_algorithm_name(a));
        ck_assert_msg(y[0] == 65504.0f, "%s: %g", clconv_algorithm_name(a), (double)y[0]);
        ck_assert_msg(isinf(y[1]) && y[1] < 0, "%s: %g", clconv_algorithm_name(a), (double)y[1]);
        ck_assert_msg(isnan(y[2]), "%s: %g", clconv_algorithm_name(a), (double)y[2]);
        free(y);
        /* subnormal halves out, ties to even: 2^-24 * 0.5 = 0, 2^-14 * 0.5, -3 * 2^-24 * 0.5 */
        float xs[3] = {0x1p-24f, 0x1p-14f, -0x3p-24f}, ws[1] = {0.5f};
        y = tu_conv_transpose2d_run(tu_ctx(), &p, &in, xs, ws, NULL, &opt, NULL, "subnormals");
        ck_assert_msg(y[0] == 0.0f && y[1] == 0x1p-15f && y[2] == -0x2p-24f,
                      "%s: %a %a %a (ties to even)", clconv_algorithm_name(a), (double)y[0],
                      (double)y[1], (double)y[2]);
        free(y);
    }
}
END_TEST

static Suite *f16_transpose_suite(void)
{
    Suite *s = suite_create("f16_transpose");
    TCase *sw = tcase_create("sweeps");
    tcase_set_timeout(sw, 900);
    tcase_add_test(sw, conv_transpose2d_sweep);
    tcase_add_test(sw, conv_transpose1d_f16);
    tcase_add_test(sw, conv2d_backward_data_f16);
    tcase_add_test(sw, winograd_sweep);
    tcase_add_test(sw, auto_picks_f16_algorithms);
    tcase_add_test(sw, overflow_nan_and_odd_sizes);
    suite_add_tcase(s, sw);
    TCase *api = tcase_create("api");
    tcase_add_test(api, refusals);
    suite_add_tcase(s, api);
    return s;
}

int main(void)
{
    return tu_run_suite(f16_transpose_suite());
}
