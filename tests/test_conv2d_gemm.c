/* conv2d with CLCONV_ALGO_GEMM (im2col / 1x1 through CLBlast SGEMM; the
 * seeds' worked examples run in test_conv2d across every algorithm): its
 * plans' workspace and kernels, a randomized sweep against the CPU reference, 1x1
 * GEMMs straight on the caller's buffers, workspace chunking, the wait list
 * and completion event, an out-of-order queue and bad workspaces. */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs p with the GEMM algorithm through the shared tester (guarded
 * buffers, the workspace too) in ctx; returns the output (caller frees). */
static float *gemm_conv_in(clconv_context *ctx, const clconv_conv2d_params *p,
                           const clconv_shape *in, const float *x, const float *w, const float *b,
                           clconv_plan_info *info, const char *what)
{
    const clconv_plan_options opt = {.algorithm = CLCONV_ALGO_GEMM};
    return tu_conv2d_run(ctx, p, in, x, w, b, &opt, info, what);
}

static float *gemm_conv(const clconv_conv2d_params *p, const clconv_shape *in, const float *x,
                        const float *w, const float *b, clconv_plan_info *info, const char *what)
{
    return gemm_conv_in(tu_ctx(), p, in, x, w, b, info, what);
}

/* The seeds' worked examples run through every algorithm, GEMM included, in
 * test_conv2d (tu_conv2d_golden); here what is GEMM's own: its plans. */
START_TEST(seed_corr2d_3x3)
{
    /* corr2d(X=[[0,1,2],[3,4,5],[6,7,8]], K=[[0,1],[2,3]]) = [[19,25],[37,43]] */
    float x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, w[4] = {0, 1, 2, 3}, want[4] = {19, 25, 37, 43};
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 2, 2);
    clconv_shape in = {1, 1, 3, 3};
    float *y = gemm_conv(&p, &in, x, w, NULL, NULL, "corr2d");
    tu_expect_values(y, want, 4, "corr2d");
    free(y);
    clconv_plan *plan;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    /* im2col: one [1*2*2, 2*2] column matrix. */
    ck_assert_uint_eq(info.workspace_bytes, 4 * 4 * sizeof(float));
    ck_assert_str_eq(info.kernel_name, "conv2d_im2col");
    ck_assert_str_eq(clconv_algorithm_name(info.algorithm), "gemm");
    ck_assert(info.flops == 2.0 * 4 * 4);
    ck_assert(info.bytes == (9 + 4 + 4) * 4.0);
    clconv_plan_destroy(plan);
}
END_TEST

START_TEST(seed_1x1_is_matmul)
{
    tu_rng r = tu_rng_make(37);
    float x[27], w[6], want[18];
    tu_fill(&r, x, 27, true);
    tu_fill(&r, w, 6, true);
    /* Y[o, p] = sum_c K[o, c] X[c, p]: the fully connected layer over channels. */
    for (int o = 0; o < 2; o++)
        for (int px = 0; px < 9; px++) {
            float s = 0;
            for (int c = 0; c < 3; c++)
                s += w[o * 3 + c] * x[c * 9 + px];
            want[o * 9 + px] = s;
        }
    clconv_conv2d_params p = clconv_conv2d_default_params(3, 2, 1, 1);
    clconv_shape in = {1, 3, 3, 3};
    float *y = gemm_conv(&p, &in, x, w, NULL, NULL, "1x1");
    tu_expect_values(y, want, 18, "1x1");
    free(y);
    /* No copy, no workspace: the GEMM runs on the caller's buffers. */
    clconv_plan *plan;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.workspace_bytes, 0);
    clconv_plan_destroy(plan);
}
END_TEST


/* ---- randomized sweep --------------------------------------------------- */

typedef struct sweep_case {
    clconv_conv2d_params p;
    clconv_shape in;
    size_t ws_limit; /* CLCONV_WORKSPACE_LIMIT for the plan, 0 = unset */
    bool integers;
} sweep_case;

static void describe(const sweep_case *c, char *buf, size_t n)
{
    const clconv_conv2d_params *p = &c->p;
    snprintf(buf, n,
             "in=%lldx%lldx%lldx%lld out_c=%lld k=%lldx%lld s=%lldx%lld pad=%lld,%lld,%lld,%lld "
             "d=%lldx%lld g=%lld bias=%d act=%s(%g,%g) res=%d(%g,%g) ws_limit=%zu ints=%d",
             (long long)c->in.n, (long long)c->in.c, (long long)c->in.h, (long long)c->in.w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups,
             p->has_bias, clconv_activation_name(p->activation), (double)p->activation_params[0],
             (double)p->activation_params[1], p->has_residual, (double)p->alpha,
             (double)p->beta, c->ws_limit, (int)c->integers);
}

/* Bytes of the im2col columns of one image and group. */
static size_t unit_bytes(const clconv_conv2d_params *p, const clconv_shape *in)
{
    clconv_shape os;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    return (size_t)(p->in_channels / p->groups * p->kernel_h * p->kernel_w) *
           (size_t)(os.h * os.w) * sizeof(float);
}

static bool is_direct_1x1(const clconv_conv2d_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0;
}

/* Geometry drawn freely: the im2col kernel takes it at run time, so the
 * sweep compiles one program however many shapes it draws. */
static sweep_case random_case(tu_rng *r)
{
    sweep_case c;
    memset(&c, 0, sizeof c);
    for (;;) {
        int64_t groups = tu_int(r, 0, 4) == 0 ? tu_int(r, 2, 4) : 1;
        int64_t cin_g = tu_int(r, 1, 6), cout_g = tu_int(r, 1, 9);
        if (tu_int(r, 0, 9) == 0) { /* depthwise */
            groups = tu_int(r, 2, 8);
            cin_g = 1;
            cout_g = tu_int(r, 1, 2);
        }
        int64_t kh = tu_int(r, 1, 5), kw = tu_int(r, 1, 5);
        c.p = clconv_conv2d_default_params(cin_g * groups, cout_g * groups, kh, kw);
        c.p.groups = groups;
        c.p.stride_h = tu_int(r, 0, 2) == 0 ? tu_int(r, 2, 3) : 1;
        c.p.stride_w = tu_int(r, 0, 2) == 0 ? tu_int(r, 2, 3) : 1;
        c.p.dilation_h = tu_int(r, 0, 3) == 0 ? tu_int(r, 2, 3) : 1;
        c.p.dilation_w = tu_int(r, 0, 3) == 0 ? tu_int(r, 2, 3) : 1;
        c.p.pad_top = tu_int(r, 0, 2);
        c.p.pad_bottom = tu_int(r, 0, 2);
        c.p.pad_left = tu_int(r, 0, 3);
        c.p.pad_right = tu_int(r, 0, 2);
        if (tu_int(r, 0, 4) == 0) { /* a 1x1 convolution: GEMM on the caller's buffers */
            c.p.kernel_h = c.p.kernel_w = 1;
            c.p.stride_h = c.p.stride_w = 1;
            c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = 0;
        }
        c.p.has_bias = tu_int(r, 0, 1);
        const int any = tu_int(r, 0, 1);
        tu_random_activation(r, &c.p.activation, c.p.activation_params, any);
        /* the residual (through CLBlast's alpha / beta and the bias kernel: no
         * new program) with the activation family */
        tu_random_epilogue(r, any, &c.p.has_residual, &c.p.alpha, &c.p.beta,
                           &c.p.pre_activation_output);
        c.in = (clconv_shape){tu_int(r, 1, 3), c.p.in_channels, tu_int(r, 1, 19),
                              tu_int(r, 1, 37)};
        if (clconv_conv2d_validate(&c.p, &c.in) == CLCONV_SUCCESS)
            break;
    }
    /* A third of the im2col cases get a workspace of 1..3 units, so they run
     * in several chunks (the last one short). */
    if (!is_direct_1x1(&c.p) && tu_int(r, 0, 2) == 0)
        c.ws_limit = unit_bytes(&c.p, &c.in) * (size_t)tu_int(r, 1, 3) + (size_t)tu_int(r, 0, 3);
    c.integers = tu_int(r, 0, 1);
    return c;
}

/* Checks one case against the reference through the shared tester
 * (tu_conv2d_check), GEMM pinned, under the case's workspace limit; then
 * the workspace: none for a direct 1x1, whole units within the limit. */
static uint64_t check_case(const sweep_case *c, tu_rng *r, uint64_t seed, int i)
{
    char layer[400], what[512];
    describe(c, layer, sizeof layer);
    snprintf(what, sizeof what, "sweep seed %llu case %d: %s", (unsigned long long)seed, i, layer);
    char lim[32];
    if (c->ws_limit) { /* a context reads the variable when it is made */
        snprintf(lim, sizeof lim, "%zu", c->ws_limit);
        setenv("CLCONV_WORKSPACE_LIMIT", lim, 1);
        ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    }
    const clconv_plan_options opt = {.algorithm = CLCONV_ALGO_GEMM};
    clconv_plan_info info;
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    tu_conv2d_check(tu_ctx(), &c->p, &c->in, &opt, r, c->integers, &info, what);
    clconv_context_cache_stats(tu_ctx(), &after);
    if (c->ws_limit) {
        unsetenv("CLCONV_WORKSPACE_LIMIT");
        ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    }
    if (is_direct_1x1(&c->p))
        ck_assert_msg(info.workspace_bytes == 0, "%s: 1x1 needs workspace %zu", what,
                      info.workspace_bytes);
    else if (c->ws_limit)
        ck_assert_msg(info.workspace_bytes <= c->ws_limit &&
                          info.workspace_bytes % unit_bytes(&c->p, &c->in) == 0,
                      "%s: workspace %zu", what, info.workspace_bytes);
    return after.compiled - before.compiled; /* programs this case compiled */
}

START_TEST(random_sweep)
{
    const uint64_t seed = 20261126;
    tu_rng r = tu_rng_make(seed);
    const int cases = 160;
    uint64_t programs = 0;
    for (int i = 0; i < cases; i++) {
        sweep_case c = random_case(&r);
        programs += check_case(&c, &r, seed, i);
    }
    /* Geometry is a run-time argument: one program at most per activation
     * family (ReLU or none / the others), whatever the shapes (counted case
     * by case: a case with a workspace limit runs in a context of its own,
     * which finds the program in the disk cache). */
    ck_assert_msg(programs <= 2, "the sweep compiled %llu programs, expected at most 2",
                  (unsigned long long)programs);
}
END_TEST

/* 1x1 convolutions straight on the caller's buffers: batches (one batched
 * GEMM), groups (per-group weight offsets), both, bias and ReLU. */
START_TEST(one_by_one_batches_and_groups)
{
    struct {
        int64_t n, c, h, w, oc, g;
        int bias, relu;
    } e[] = {
        {4, 8, 5, 7, 6, 1, 0, 0},   {3, 6, 4, 4, 9, 3, 1, 0},   {5, 4, 3, 9, 4, 2, 1, 1},
        {2, 8, 1, 1, 8, 8, 0, 1},   {1, 33, 6, 6, 65, 1, 1, 0}, {7, 12, 2, 3, 6, 6, 1, 1},
        {2, 64, 14, 14, 32, 1, 0, 0},
    };
    tu_rng r = tu_rng_make(11);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        for (int ints = 0; ints < 2; ints++) {
            sweep_case c;
            memset(&c, 0, sizeof c);
            c.p = clconv_conv2d_default_params(e[i].c, e[i].oc, 1, 1);
            c.p.groups = e[i].g;
            c.p.has_bias = e[i].bias;
            c.p.activation = e[i].relu ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_NONE;
            c.p.dilation_h = c.p.dilation_w = 1 + ints; /* irrelevant for 1x1 */
            c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
            c.integers = ints == 0;
            check_case(&c, &r, 11, (int)i);
        }
    }
    /* A 1x1 kernel with a stride or padding is not a plain GEMM: im2col. */
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 3, 1, 1);
    p.stride_w = 2;
    clconv_shape in = {2, 4, 5, 6};
    clconv_plan *plan;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.workspace_bytes, 2 * 4 * 5 * 3 * sizeof(float));
    clconv_plan_destroy(plan);
    sweep_case c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.in = in;
    c.integers = true;
    check_case(&c, &r, 11, 100);
    c.p.stride_w = 1;
    c.p.pad_left = 1;
    check_case(&c, &r, 11, 101);
}
END_TEST

START_TEST(edge_shapes)
{
    struct {
        int64_t n, c, h, w, oc, kh, kw, s, pad, d, g;
    } e[] = {
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1},     /* 1x1 image, 1x1 kernel */
        {2, 3, 1, 1, 5, 3, 3, 1, 1, 1, 1},     /* 1x1 image, 3x3 kernel, padding 1 */
        {1, 2, 2, 3, 3, 5, 7, 1, 3, 1, 1},     /* kernel larger than the input, padded */
        {3, 5, 17, 33, 19, 3, 3, 1, 1, 1, 1},  /* nothing a multiple of anything */
        {1, 8, 9, 9, 8, 3, 3, 2, 1, 1, 8},     /* depthwise, stride 2 */
        {1, 6, 40, 70, 4, 3, 3, 1, 2, 2, 2},   /* wide image, dilation, groups */
        {4, 1, 5, 200, 2, 1, 9, 1, 4, 1, 1},   /* long rows */
        {1, 3, 1, 100, 37, 1, 3, 3, 0, 1, 1},  /* H = 1, many channels */
        {1, 2, 31, 3, 1, 11, 3, 1, 5, 3, 1},   /* tall dilated kernel */
        {2, 3, 30, 30, 16, 7, 7, 2, 3, 1, 1},  /* a ResNet stem in small */
    };
    tu_rng r = tu_rng_make(7);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        sweep_case c;
        memset(&c, 0, sizeof c);
        c.p = clconv_conv2d_default_params(e[i].c, e[i].oc, e[i].kh, e[i].kw);
        c.p.stride_h = c.p.stride_w = e[i].s;
        c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = e[i].pad;
        c.p.dilation_h = c.p.dilation_w = e[i].d;
        c.p.groups = e[i].g;
        c.p.has_bias = 1;
        c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
        c.integers = true;
        check_case(&c, &r, 7, (int)i);
    }
}
END_TEST

START_TEST(relu_lets_nan_through)
{
    /* 1x1 and im2col: a NaN input stays NaN after the fused ReLU, -inf clips to 0. */
    for (int k = 1; k <= 2; k++) {
        clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, k, 1);
        p.activation = CLCONV_ACTIVATION_RELU;
        p.has_bias = 1;
        clconv_shape in = {1, 1, 4, 1};
        float x[4] = {NAN, -INFINITY, 2, -3}, w[2] = {1, 0}, b[1] = {0};
        float *y = gemm_conv(&p, &in, x, w, b, NULL, "relu nan");
        ck_assert_msg(isnan(y[0]), "kernel %d: y[0] = %g, expected NaN", k, y[0]);
        ck_assert_float_eq(y[1], 0.0f);
        ck_assert_float_eq(y[2], 2.0f);
        if (k == 1)
            ck_assert_float_eq(y[3], 0.0f);
        free(y);
    }
}
END_TEST

/* ---- workspace chunking ------------------------------------------------- */

START_TEST(workspace_chunks)
{
    /* 3 images x 2 groups = 6 units of [3*3*3, 5*5] columns each. */
    clconv_conv2d_params p = clconv_conv2d_default_params(6, 4, 3, 3);
    p.groups = 2;
    p.pad_top = 1;
    p.pad_left = 2;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    clconv_shape in = {3, 6, 6, 5};
    const size_t unit = unit_bytes(&p, &in);
    ck_assert_uint_eq(unit, (size_t)27 * (5 * 5) * 4);
    clconv_plan *plan;
    clconv_plan_info info;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    /* Unlimited: all six units at once. */
    unsetenv("CLCONV_WORKSPACE_LIMIT");
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.workspace_bytes, 6 * unit);
    clconv_plan_destroy(plan);
    tu_rng r = tu_rng_make(8);
    size_t limits[] = {unit, unit + 4, 2 * unit, 4 * unit + unit / 2, 5 * unit, 100 * unit};
    size_t want[] = {unit, unit, 2 * unit, 4 * unit, 5 * unit, 6 * unit};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        char lim[32];
        snprintf(lim, sizeof lim, "%zu", limits[i]);
        setenv("CLCONV_WORKSPACE_LIMIT", lim, 1);
        ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
                         CLCONV_SUCCESS);
        clconv_plan_get_info(plan, &info);
        ck_assert_uint_eq(info.workspace_bytes, want[i]);
        clconv_plan_destroy(plan);
        sweep_case c = {.p = p, .in = in, .ws_limit = limits[i], .integers = i % 2 == 0};
        check_case(&c, &r, 8, (int)i);
    }
    /* Less than one unit: refused, naming the variable. */
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", unit - 4);
    setenv("CLCONV_WORKSPACE_LIMIT", lim, 1);
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    plan = (clconv_plan *)1;
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_null(plan);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "CLCONV_WORKSPACE_LIMIT"));
    /* A malformed value: the context is refused, naming the variable. */
    setenv("CLCONV_WORKSPACE_LIMIT", "12x", 1);
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "CLCONV_WORKSPACE_LIMIT = '12x'"));
    /* 1x1 needs no workspace: the limit does not matter. */
    setenv("CLCONV_WORKSPACE_LIMIT", "4", 1);
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    clconv_conv2d_params q = clconv_conv2d_default_params(6, 4, 1, 1);
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &q, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.workspace_bytes, 0);
    clconv_plan_destroy(plan);
    unsetenv("CLCONV_WORKSPACE_LIMIT");
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
}
END_TEST

/* On a caller's out-of-order queue the steps (im2col, GEMMs, the next chunk's
 * im2col over the same workspace, the epilogue) still run in order. */
START_TEST(out_of_order_queue)
{
    clconv_context *base = tu_ctx();
    cl_context cc = clconv_context_cl_context(base);
    cl_int err;
    cl_command_queue q = clCreateCommandQueue(cc, clconv_context_device(base),
                                              CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err == CL_INVALID_QUEUE_PROPERTIES)
        return; /* optional in OpenCL 1.2: nothing to check */
    ck_assert_int_eq(err, CL_SUCCESS);
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 6, 3, 3);
    p.stride_h = 2;
    p.groups = 2;
    p.pad_bottom = 1;
    p.pad_right = 2;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    clconv_shape in = {3, 4, 9, 7}, os;
    ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
    size_t nx = clconv_shape_elements(in), nw = 6 * 2 * 9, ny = clconv_shape_elements(os);
    tu_rng r = tu_rng_make(31);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), b[6], *ref = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, 6, true);
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, b, ref), CLCONV_SUCCESS);
    /* One unit per chunk: the context's workspace limit (an option here). */
    clconv_context_options co = {.workspace_limit = unit_bytes(&p, &in)};
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create_from_queue_with_options(cc, q, &co, &ctx),
                     CLCONV_SUCCESS);
    clReleaseCommandQueue(q);
    float *y = gemm_conv_in(ctx, &p, &in, x, w, b, NULL, "out-of-order im2col");
    tu_expect_values(y, ref, ny, "out-of-order im2col");
    free(y);
    /* 1x1 with batches and groups, and the epilogue. */
    clconv_conv2d_params p1 = clconv_conv2d_default_params(4, 6, 1, 1);
    p1.groups = 2;
    p1.has_bias = 1;
    float *ref1 = tu_alloc(3 * 6 * 9 * 7);
    ck_assert_int_eq(clconv_ref_conv2d(&p1, &in, x, w, b, ref1), CLCONV_SUCCESS);
    y = gemm_conv_in(ctx, &p1, &in, x, w, b, NULL, "out-of-order 1x1");
    tu_expect_values(y, ref1, 3 * 6 * 9 * 7, "out-of-order 1x1");
    free(y);
    free(ref1);
    clconv_context_destroy(ctx);
    free(x);
    free(w);
    free(ref);
}
END_TEST

/* ---- events and bad input ----------------------------------------------- */

/* The run waits for its wait list and *done completes with the last step,
 * without any clFinish inside: a user event holds the whole run back. */
static void gated_run(const clconv_conv2d_params *p, const clconv_shape *in)
{
    clconv_context *ctx = tu_ctx();
    cl_context cc = clconv_context_cl_context(ctx);
    clconv_plan *plan;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, p, in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    clconv_shape ws = clconv_conv2d_weight_shape(p);
    size_t nx = clconv_shape_elements(*in), nw = clconv_shape_elements(ws);
    size_t ny = clconv_shape_elements(info.output);
    tu_rng r = tu_rng_make(5);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *ref = tu_alloc(ny), *y = tu_alloc(ny);
    float b[16];
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, 16, true);
    ck_assert_int_eq(clconv_ref_conv2d(p, in, x, w, b, ref), CLCONV_SUCCESS);
    cl_int err;
    cl_mem bx = clCreateBuffer(cc, CL_MEM_READ_WRITE, nx * 4, NULL, &err);
    cl_mem bw = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nw * 4, w, &err);
    cl_mem bb = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof b, b, &err);
    cl_mem by = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 4, NULL, &err);
    cl_mem bws = info.workspace_bytes
                     ? clCreateBuffer(cc, CL_MEM_READ_WRITE, info.workspace_bytes, NULL, &err)
                     : NULL;
    ck_assert_int_eq(err, CL_SUCCESS);
    /* The input is written only once the gate opens: a run that did not wait
     * would read garbage. */
    cl_event gate = clCreateUserEvent(cc, &err), written = NULL, done = NULL;
    ck_assert_int_eq(err, CL_SUCCESS);
    ck_assert_int_eq(clEnqueueWriteBuffer(clconv_context_queue(ctx), bx, CL_FALSE, 0, nx * 4, x,
                                          1, &gate, &written),
                     CL_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(plan, bx, bw, p->has_bias ? bb : NULL, by, bws, 1,
                                       &written, &done),
                     CLCONV_SUCCESS);
    ck_assert_ptr_nonnull(done);
    cl_int status;
    clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    ck_assert_int_ne(status, CL_COMPLETE);
    clSetUserEventStatus(gate, CL_COMPLETE);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    ck_assert_int_eq(status, CL_COMPLETE);
    /* Read without waiting for anything but done: the result is complete. */
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), by, CL_TRUE, 0, ny * 4, y, 1,
                                         &done, NULL),
                     CL_SUCCESS);
    tu_expect_values(y, ref, ny, info.kernel_name);
    clReleaseEvent(done);
    clReleaseEvent(written);
    clReleaseEvent(gate);
    cl_mem all[] = {bx, bw, bb, by, bws};
    for (int i = 0; i < 5; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    free(x);
    free(w);
    free(ref);
    free(y);
}

START_TEST(wait_list_and_event)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 6, 3, 3);
    p.groups = 2;
    p.pad_top = p.pad_left = 1;
    clconv_shape in = {2, 4, 7, 6};
    gated_run(&p, &in); /* im2col + GEMM, last step a GEMM */
    p.has_bias = 1;
    gated_run(&p, &in); /* ... then the epilogue */
    clconv_conv2d_params q = clconv_conv2d_default_params(4, 6, 1, 1);
    gated_run(&q, &in); /* 1x1: batched GEMM only */
    q.activation = CLCONV_ACTIVATION_RELU;
    in.n = 1;
    gated_run(&q, &in); /* one GEMM and the epilogue */
}
END_TEST

START_TEST(bad_workspace)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    p.has_bias = 1;
    clconv_shape in = {2, 2, 6, 6}; /* out 2x3x4x4 */
    clconv_plan *plan;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.workspace_bytes, 2 * 18 * 16 * 4);
    cl_int err;
    cl_context cc = clconv_context_cl_context(ctx);
    cl_mem x = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 2 * 36 * 4, NULL, &err);
    cl_mem w = clCreateBuffer(cc, CL_MEM_READ_WRITE, 3 * 2 * 9 * 4, NULL, &err);
    cl_mem b = clCreateBuffer(cc, CL_MEM_READ_WRITE, 3 * 4, NULL, &err);
    cl_mem y = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 3 * 16 * 4, NULL, &err);
    cl_mem ws = clCreateBuffer(cc, CL_MEM_READ_WRITE, info.workspace_bytes, NULL, &err);
    cl_mem small = clCreateBuffer(cc, CL_MEM_READ_WRITE, info.workspace_bytes - 4, NULL, &err);
    cl_event done = (cl_event)1;
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, NULL, 0, NULL, &done),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_null(done);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "workspace: NULL"));
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, small, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "workspace: 2300 bytes, expected at "
                                                         "least 2304"));
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, x, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL); /* x is 576 bytes */
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, ws, 1, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "num_wait"));
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, NULL, y, ws, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, x, ws, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, ws, 0, NULL, &done), CLCONV_SUCCESS);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    clconv_plan_destroy(plan);
    /* A workspace aliasing another argument is refused. */
    cl_mem big = clCreateBuffer(cc, CL_MEM_READ_WRITE, 4096, NULL, &err);
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, &o, &plan), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(plan, big, w, b, y, big, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "workspace"));
    clconv_plan_destroy(plan);
    /* No workspace needed (1x1): NULL is fine, and so is a spare one. */
    clconv_conv2d_params q = clconv_conv2d_default_params(2, 3, 1, 1);
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &q, &in, &o, &plan), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, NULL, big, NULL, 0, NULL, &done),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, NULL, big, ws, 0, NULL, NULL),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clFinish(clconv_context_queue(ctx)), CL_SUCCESS);
    clconv_plan_destroy(plan);
    cl_mem all[] = {x, w, b, y, ws, small, big};
    for (int i = 0; i < 7; i++)
        clReleaseMemObject(all[i]);
}
END_TEST

/* A test that fails while it has CLCONV_WORKSPACE_LIMIT set must not leave
 * it to the next one (the suite runs in one process). */
static void clear_limit(void)
{
    if (getenv("CLCONV_WORKSPACE_LIMIT")) {
        unsetenv("CLCONV_WORKSPACE_LIMIT");
        tu_ctx_renew();
    }
}

static Suite *conv2d_gemm_suite(void)
{
    Suite *s = suite_create("conv2d-gemm");
    TCase *golden_tc = tcase_create("seeds");
    tcase_set_timeout(golden_tc, 300); /* CLBlast compiles its kernels on first use */
    tcase_add_test(golden_tc, seed_corr2d_3x3);
    tcase_add_test(golden_tc, seed_1x1_is_matmul);
    tcase_add_checked_fixture(golden_tc, clear_limit, clear_limit);
    suite_add_tcase(s, golden_tc);
    TCase *sweep = tcase_create("sweep");
    tcase_set_timeout(sweep, 900);
    tcase_add_test(sweep, random_sweep);
    tcase_add_test(sweep, one_by_one_batches_and_groups);
    tcase_add_test(sweep, edge_shapes);
    tcase_add_test(sweep, relu_lets_nan_through);
    tcase_add_test(sweep, workspace_chunks);
    tcase_add_test(sweep, out_of_order_queue);
    tcase_add_checked_fixture(sweep, clear_limit, clear_limit);
    suite_add_tcase(s, sweep);
    TCase *bad = tcase_create("events-and-bad-input");
    tcase_set_timeout(bad, 300);
    tcase_add_test(bad, wait_list_and_event);
    tcase_add_test(bad, bad_workspace);
    tcase_add_checked_fixture(bad, clear_limit, clear_limit);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(conv2d_gemm_suite());
}
