/* The epilogue beyond bias and activation (include/clconv.h "The
 * epilogue"): the residual y = act(alpha * conv + beta * z + bias), in place
 * (z = y) or not, and the pre-activation as a second output, on every
 * convolution algorithm, every activation, the 1-D operators and the host
 * calls; its gradient (clconv_activation_backward_scaled_run) against
 * central differences; and the bad input. The sweeps of test_conv2d,
 * test_conv2d_gemm, test_conv2d_winograd and test_conv_transpose2d draw the
 * residual and the second output too (tu_random_epilogue). */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ACT 14

/* The reference's evaluation in double (host/activation.c, not public). */
double clconv_activation_eval(clconv_activation activation, const float params[2], double v);

/* Parameters of activation a that read both parameters (hardtanh's bounds
 * off their defaults, leaky_relu / elu slopes not 1). */
static void act_params(clconv_activation a, float p[2])
{
    clconv_activation_default_params(a, p);
    if (a == CLCONV_ACTIVATION_HARDTANH) {
        p[0] = -0.75f;
        p[1] = 2.5f;
    } else if (a == CLCONV_ACTIVATION_LEAKY_RELU || a == CLCONV_ACTIVATION_ELU) {
        p[0] = 0.3f;
    }
}

static const float SCALES[][2] = {{1.0f, 1.0f}, {0.5f, 2.0f}, {-1.0f, 0.25f}, {1.5f, -0.75f}};

/* One residual case: the layer (conv2d or transposed) on random data
 * against the reference, y and pre. */
static void residual_case(const clconv_conv2d_params *cp, const clconv_conv_transpose2d_params *tp,
                          const clconv_shape *in, clconv_algorithm algo, bool in_place,
                          tu_rng *r, const char *what)
{
    clconv_shape ws, os;
    int64_t k;
    if (tp) {
        ws = clconv_conv_transpose2d_weight_shape(tp);
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(tp, in, &os), CLCONV_SUCCESS);
        k = in->c / tp->groups * tp->kernel_h * tp->kernel_w;
    } else {
        ws = clconv_conv2d_weight_shape(cp);
        ck_assert_int_eq(clconv_conv2d_output_shape(cp, in, &os), CLCONV_SUCCESS);
        k = ws.c * ws.h * ws.w;
    }
    const size_t nx = clconv_shape_elements(*in), nw = clconv_shape_elements(ws);
    const size_t ny = clconv_shape_elements(os);
    const int64_t oc = tp ? tp->out_channels : cp->out_channels;
    const int pre_out = tp ? tp->pre_activation_output : cp->pre_activation_output;
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)oc), *z = tu_alloc(ny);
    float *ref = tu_alloc(ny), *ref_pre = tu_alloc(ny), *pre = pre_out ? tu_alloc(ny) : NULL;
    tu_fill(r, x, nx, false);
    tu_fill(r, w, nw, false);
    tu_fill(r, b, (size_t)oc, false);
    tu_fill(r, z, ny, false);
    const tu_conv_epilogue epi = {.z = z, .in_place = in_place, .pre = pre};
    const clconv_plan_options opt = {.algorithm = algo};
    float *y, *scale;
    if (tp) {
        ck_assert_int_eq(clconv_ref_conv_transpose2d_epilogue(tp, in, x, w, b, z, ref, ref_pre),
                         CLCONV_SUCCESS);
        y = tu_conv_transpose2d_run_epilogue(tu_ctx(), tp, in, x, w, b, &epi, &opt, NULL, what);
        scale = tu_conv_transpose2d_abs_scale_epilogue(tp, in, x, w, b, z);
    } else {
        ck_assert_int_eq(clconv_ref_conv2d_epilogue(cp, in, x, w, b, z, ref, ref_pre),
                         CLCONV_SUCCESS);
        y = tu_conv2d_run_epilogue(tu_ctx(), cp, in, x, w, b, &epi, &opt, NULL, what);
        scale = tu_conv2d_abs_scale_epilogue(cp, in, x, w, b, z);
    }
    for (size_t j = 0; j < ny; j++) /* a bounded activation can exceed the sum's scale */
        if (fabsf(ref[j]) > scale[j])
            scale[j] = fabsf(ref[j]);
    const double rtol = 4.0 * sqrt((double)(k + 2)) * FLT_EPSILON;
    char msg[256];
    long bad = tu_compare(y, ref, scale, ny, 1e-7, rtol, msg, sizeof msg);
    ck_assert_msg(bad < 0, "%s%s: y: %s", what, in_place ? " (in place)" : "", msg);
    if (pre) {
        bad = tu_compare(pre, ref_pre, scale, ny, 1e-7, rtol, msg, sizeof msg);
        ck_assert_msg(bad < 0, "%s: pre: %s", what, msg);
    }
    free(x);
    free(w);
    free(b);
    free(z);
    free(ref);
    free(ref_pre);
    free(pre);
    free(y);
    free(scale);
}

/* Every conv2d and conv_transpose2d algorithm x every activation, with a
 * residual (alpha, beta off 1 most of the time), in place for odd
 * activations; the activations other than ReLU also write the
 * pre-activation. Two program families per algorithm (residual with none /
 * ReLU; residual + ACT_ANY + second output). */
START_TEST(residual_every_algorithm)
{
    tu_rng r = tu_rng_make(20261207);
    /* conv2d: (algorithm, layer) with every store path: 3x3 stride 1 (the
     * direct kernels, Winograd, im2col GEMM, pointwise's wide rows), 1x1
     * (GEMM on the caller's buffers: in place through CLBlast's beta;
     * pointwise's full vectors) and depthwise. */
    clconv_conv2d_params k3 = clconv_conv2d_default_params(5, 8, 3, 3);
    k3.pad_top = k3.pad_bottom = k3.pad_left = k3.pad_right = 1;
    const clconv_shape in3 = {2, 5, 9, 11};
    clconv_conv2d_params k1 = clconv_conv2d_default_params(6, 12, 1, 1);
    const clconv_shape in1 = {2, 6, 7, 9};
    clconv_conv2d_params dw = clconv_conv2d_default_params(6, 6, 3, 3);
    dw.groups = 6;
    dw.pad_top = dw.pad_bottom = dw.pad_left = dw.pad_right = 1;
    const clconv_shape indw = {2, 6, 8, 13};
    struct {
        clconv_algorithm algo;
        clconv_conv2d_params *p;
        const clconv_shape *in;
    } convs[] = {
        {CLCONV_ALGO_DIRECT_TILED, &k3, &in3},    {CLCONV_ALGO_DIRECT_REGISTER, &k3, &in3},
        {CLCONV_ALGO_DIRECT_VECTOR, &k3, &in3},   {CLCONV_ALGO_DIRECT_POINTWISE, &k3, &in3},
        {CLCONV_ALGO_DIRECT_POINTWISE, &k1, &in1}, {CLCONV_ALGO_WINOGRAD, &k3, &in3},
        {CLCONV_ALGO_GEMM, &k3, &in3},            {CLCONV_ALGO_GEMM, &k1, &in1},
        {CLCONV_ALGO_DIRECT_DEPTHWISE, &dw, &indw},
    };
    clconv_conv_transpose2d_params ct = clconv_conv_transpose2d_default_params(6, 5, 3, 3);
    ct.stride_h = ct.stride_w = 2;
    ct.pad_top = ct.pad_left = 1;
    ct.output_padding_h = ct.output_padding_w = 1;
    const clconv_shape inct = {2, 6, 5, 6};
    const clconv_algorithm ct_algos[] = {CLCONV_ALGO_TRANSPOSED_GATHER,
                                         CLCONV_ALGO_TRANSPOSED_VECTOR,
                                         CLCONV_ALGO_TRANSPOSED_COLUMNS,
                                         CLCONV_ALGO_TRANSPOSED_GEMM};
    const size_t nconv = sizeof convs / sizeof convs[0];
    for (size_t i = 0; i < nconv + 4; i++) {
        for (int a = 0; a < N_ACT; a++) {
            const clconv_activation act = (clconv_activation)a;
            const float *s = SCALES[(size_t)a % 4];
            const int pre = act != CLCONV_ACTIVATION_NONE && act != CLCONV_ACTIVATION_RELU;
            char what[128];
            /* the same epilogue on either operator's params */
#define SET_EPILOGUE(p)                                                                       \
    do {                                                                                      \
        (p).has_bias = a % 3 != 0;                                                            \
        (p).activation = act;                                                                 \
        act_params(act, (p).activation_params);                                               \
        (p).has_residual = 1;                                                                 \
        (p).alpha = s[0];                                                                     \
        (p).beta = s[1];                                                                      \
        (p).pre_activation_output = pre;                                                      \
    } while (0)
            if (i < nconv) {
                clconv_conv2d_params p = *convs[i].p;
                SET_EPILOGUE(p);
                snprintf(what, sizeof what, "conv2d %s %lldx%lld, %s, alpha %g beta %g",
                         clconv_algorithm_name(convs[i].algo), (long long)p.kernel_h,
                         (long long)p.kernel_w, clconv_activation_name(act), (double)s[0],
                         (double)s[1]);
                residual_case(&p, NULL, convs[i].in, convs[i].algo, a % 2 == 1, &r, what);
            } else {
                clconv_conv_transpose2d_params p = ct;
                SET_EPILOGUE(p);
                snprintf(what, sizeof what, "conv_transpose2d %s, %s, alpha %g beta %g",
                         clconv_algorithm_name(ct_algos[i - nconv]), clconv_activation_name(act),
                         (double)s[0], (double)s[1]);
                residual_case(NULL, &p, &inct, ct_algos[i - nconv], a % 2 == 1, &r, what);
            }
#undef SET_EPILOGUE
        }
    }
}
END_TEST

/* info.kernels_per_run: the residual, an activation and the second output
 * add no command to a plan with a bias, on any algorithm; and the counts
 * themselves for a few plans. */
START_TEST(fusion_adds_no_kernel)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params k3 = clconv_conv2d_default_params(5, 8, 3, 3);
    k3.pad_top = k3.pad_bottom = k3.pad_left = k3.pad_right = 1;
    k3.has_bias = 1;
    const clconv_shape in3 = {2, 5, 9, 11};
    clconv_conv2d_params k1 = clconv_conv2d_default_params(6, 12, 1, 1);
    k1.has_bias = 1;
    const clconv_shape in1 = {2, 6, 7, 9};
    struct {
        clconv_algorithm algo;
        const clconv_conv2d_params *p;
        const clconv_shape *in;
        unsigned want; /* commands of a run with weights */
    } cases[] = {
        {CLCONV_ALGO_DIRECT_TILED, &k3, &in3, 1},     {CLCONV_ALGO_DIRECT_REGISTER, &k3, &in3, 1},
        {CLCONV_ALGO_DIRECT_VECTOR, &k3, &in3, 2},    {CLCONV_ALGO_DIRECT_POINTWISE, &k3, &in3, 2},
        {CLCONV_ALGO_DIRECT_POINTWISE, &k1, &in1, 1}, {CLCONV_ALGO_WINOGRAD, &k3, &in3, 4},
        {CLCONV_ALGO_GEMM, &k1, &in1, 2},             {CLCONV_ALGO_GEMM, &k3, &in3, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clconv_conv2d_params fused = *cases[i].p;
        fused.activation = CLCONV_ACTIVATION_SILU;
        fused.has_residual = 1;
        fused.pre_activation_output = 1;
        const clconv_plan_options o = {.algorithm = cases[i].algo};
        clconv_plan *a, *b;
        ck_assert_int_eq(clconv_conv2d_plan_create(ctx, cases[i].p, cases[i].in, &o, &a),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &fused, cases[i].in, &o, &b),
                         CLCONV_SUCCESS);
        clconv_plan_info ia, ib;
        clconv_plan_get_info(a, &ia);
        clconv_plan_get_info(b, &ib);
        ck_assert_msg(ia.kernels_per_run == cases[i].want && ib.kernels_per_run == ia.kernels_per_run,
                      "%s %lldx%lld: %u commands with bias, %u fused, expected %u",
                      clconv_algorithm_name(cases[i].algo), (long long)cases[i].p->kernel_h,
                      (long long)cases[i].p->kernel_w, ia.kernels_per_run, ib.kernels_per_run,
                      cases[i].want);
        clconv_plan_destroy(a);
        clconv_plan_destroy(b);
    }
    /* transposed: gather 1, vector 2 (repack), columns 1, gemm one SGEMM per
     * image and group plus the col2im (one chunk) */
    clconv_conv_transpose2d_params ct = clconv_conv_transpose2d_default_params(6, 5, 3, 3);
    ct.stride_h = ct.stride_w = 2;
    ct.has_bias = 1;
    const clconv_shape inct = {2, 6, 5, 6};
    const clconv_algorithm ct_algos[] = {CLCONV_ALGO_TRANSPOSED_GATHER,
                                         CLCONV_ALGO_TRANSPOSED_VECTOR,
                                         CLCONV_ALGO_TRANSPOSED_COLUMNS,
                                         CLCONV_ALGO_TRANSPOSED_GEMM};
    const unsigned ct_want[] = {1, 2, 1, 3};
    for (size_t i = 0; i < 4; i++) {
        clconv_conv_transpose2d_params fused = ct;
        fused.activation = CLCONV_ACTIVATION_GELU;
        fused.has_residual = 1;
        fused.pre_activation_output = 1;
        const clconv_plan_options o = {.algorithm = ct_algos[i]};
        clconv_plan *a, *b;
        ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &ct, &inct, &o, &a),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &fused, &inct, &o, &b),
                         CLCONV_SUCCESS);
        clconv_plan_info ia, ib;
        clconv_plan_get_info(a, &ia);
        clconv_plan_get_info(b, &ib);
        ck_assert_msg(ia.kernels_per_run == ct_want[i] && ib.kernels_per_run == ia.kernels_per_run,
                      "%s: %u commands with bias, %u fused, expected %u",
                      clconv_algorithm_name(ct_algos[i]), ia.kernels_per_run,
                      ib.kernels_per_run, ct_want[i]);
        clconv_plan_destroy(a);
        clconv_plan_destroy(b);
    }
}
END_TEST

/* The pre-activation alone (no residual) on a direct and a transposed
 * algorithm: pre = conv + bias, y = act(pre). */
START_TEST(pre_activation_without_residual)
{
    tu_rng r = tu_rng_make(8);
    clconv_conv2d_params p = clconv_conv2d_default_params(3, 4, 3, 3);
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_SILU;
    p.pre_activation_output = 1;
    const clconv_shape in = {1, 3, 6, 7};
    for (int i = 0; i < 2; i++) {
        clconv_conv2d_params q = p;
        q.activation = i ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_SILU;
        residual_case(&q, NULL, &in, i ? CLCONV_ALGO_DIRECT_VECTOR : CLCONV_ALGO_DIRECT_REGISTER,
                      false, &r, "conv2d, pre-activation only");
    }
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(3, 4, 2, 2);
    t.stride_h = t.stride_w = 2;
    t.activation = CLCONV_ACTIVATION_GELU;
    t.pre_activation_output = 1;
    residual_case(NULL, &t, &in, CLCONV_ALGO_TRANSPOSED_GATHER, false, &r,
                  "conv_transpose2d, pre-activation only");
}
END_TEST

/* Hand-computed: a 1x1 convolution of one channel, w = 2, b = 0.5,
 * alpha = 0.5, beta = 2, ReLU: s = x + 2 z + 0.5. */
START_TEST(residual_golden)
{
    const float x[6] = {1, 2, 3, -4, 0.25f, -1};
    const float z[6] = {-10, 20, 30, 40, -0.5f, 0.75f};
    const float w = 2.0f, b = 0.5f;
    const float want_pre[6] = {-18.5f, 42.5f, 63.5f, 76.5f, -0.25f, 1.0f};
    const float want_y[6] = {0, 42.5f, 63.5f, 76.5f, 0, 1.0f};
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 1);
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    p.has_residual = 1;
    p.alpha = 0.5f;
    p.beta = 2.0f;
    p.pre_activation_output = 1;
    const clconv_shape in = {1, 1, 2, 3};
    float y[6], pre[6];
    ck_assert_int_eq(clconv_ref_conv2d_epilogue(&p, &in, x, &w, &b, z, y, pre), CLCONV_SUCCESS);
    tu_expect_values(y, want_y, 6, "reference y");
    tu_expect_values(pre, want_pre, 6, "reference pre");
    const clconv_algorithm algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_DIRECT_REGISTER,
                                      CLCONV_ALGO_GEMM, CLCONV_ALGO_DIRECT_VECTOR};
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
        const clconv_plan_options o = {.algorithm = algos[i]};
        memset(y, 0, sizeof y);
        memset(pre, 0, sizeof pre);
        ck_assert_int_eq(clconv_conv2d_host_epilogue(tu_ctx(), &p, &in, &o, x, &w, &b, z, y, pre),
                         CLCONV_SUCCESS);
        tu_expect_values(y, want_y, 6, clconv_algorithm_name(algos[i]));
        tu_expect_values(pre, want_pre, 6, clconv_algorithm_name(algos[i]));
        /* in place on the host arrays: z is y */
        float zy[6];
        memcpy(zy, z, sizeof zy);
        ck_assert_int_eq(clconv_conv2d_host_epilogue(tu_ctx(), &p, &in, &o, x, &w, &b, zy, zy,
                                                     pre),
                         CLCONV_SUCCESS);
        tu_expect_values(zy, want_y, 6, "in place");
    }
    /* the same through conv_transpose2d (a 1x1 transposed convolution is the
     * same map) and the 1-D calls */
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(1, 1, 1, 1);
    t.has_bias = 1;
    t.activation = CLCONV_ACTIVATION_RELU;
    t.has_residual = 1;
    t.alpha = 0.5f;
    t.beta = 2.0f;
    ck_assert_int_eq(clconv_conv_transpose2d_host_epilogue(tu_ctx(), &t, &in, NULL, x, &w, &b, z,
                                                           y, NULL),
                     CLCONV_SUCCESS);
    tu_expect_values(y, want_y, 6, "conv_transpose2d");
    clconv_conv1d_params c1 = {.in_channels = 1, .out_channels = 1, .kernel = 1, .stride = 1,
                               .dilation = 1, .groups = 1, .has_bias = 1,
                               .activation = CLCONV_ACTIVATION_RELU, .has_residual = 1,
                               .alpha = 0.5f, .beta = 2.0f, .pre_activation_output = 1};
    ck_assert_int_eq(clconv_conv1d_host_epilogue(tu_ctx(), &c1, 1, 6, NULL, x, &w, &b, z, y, pre),
                     CLCONV_SUCCESS);
    tu_expect_values(y, want_y, 6, "conv1d");
    tu_expect_values(pre, want_pre, 6, "conv1d pre");
    ck_assert_int_eq(clconv_ref_conv1d_epilogue(&c1, 1, 6, x, &w, &b, z, y, NULL),
                     CLCONV_SUCCESS);
    tu_expect_values(y, want_y, 6, "conv1d reference");
    clconv_conv_transpose1d_params t1 = {.in_channels = 1, .out_channels = 1, .kernel = 1,
                                         .stride = 1, .dilation = 1, .groups = 1, .has_bias = 1,
                                         .activation = CLCONV_ACTIVATION_RELU,
                                         .has_residual = 1, .alpha = 0.5f, .beta = 2.0f};
    ck_assert_int_eq(clconv_conv_transpose1d_host_epilogue(tu_ctx(), &t1, 1, 6, NULL, x, &w, &b,
                                                           z, y, NULL),
                     CLCONV_SUCCESS);
    tu_expect_values(y, want_y, 6, "conv_transpose1d");
    ck_assert_int_eq(clconv_ref_conv_transpose1d_epilogue(&t1, 1, 6, x, &w, &b, z, y, NULL),
                     CLCONV_SUCCESS);
    tu_expect_values(y, want_y, 6, "conv_transpose1d reference");
    /* IEEE on the definition: beta = 0 lets an infinite z through as NaN */
    p.beta = 0.0f;
    p.pre_activation_output = 0;
    const float zinf[6] = {INFINITY, 0, 0, 0, 0, 0};
    ck_assert_int_eq(clconv_conv2d_host_epilogue(tu_ctx(), &p, &in, NULL, x, &w, &b, zinf, y,
                                                 NULL),
                     CLCONV_SUCCESS);
    ck_assert_msg(isnan(y[0]) && y[1] == 2.5f, "beta = 0, z = inf: %g %g", (double)y[0],
                  (double)y[1]);
}
END_TEST

/* The epilogue's gradient: g = dy * act'(s) from the tensor the activation
 * asks for, then dL/dconv = alpha g and dL/dz = beta g through
 * clconv_activation_backward_scaled_run, against central differences in
 * double of L = sum dy * act(alpha c + beta z + b) in c and in z. */
static bool near_kink(clconv_activation a, const float p[2], double s, double h)
{
    const double k[] = {0.0, 6.0, -3.0, 3.0, p[0], p[1]};
    int lo = 0, hi = 0;
    switch (a) {
    case CLCONV_ACTIVATION_RELU:
    case CLCONV_ACTIVATION_LEAKY_RELU:
    case CLCONV_ACTIVATION_ELU:
        hi = 1;
        break;
    case CLCONV_ACTIVATION_RELU6:
        hi = 2;
        break;
    case CLCONV_ACTIVATION_HARDSIGMOID:
    case CLCONV_ACTIVATION_HARDSWISH:
        lo = 2;
        hi = 4;
        break;
    case CLCONV_ACTIVATION_HARDTANH:
        lo = 4;
        hi = 6;
        break;
    default:
        break;
    }
    for (int i = lo; i < hi; i++)
        if (fabs(s - k[i]) < 4 * h)
            return true;
    return false;
}

START_TEST(gradient_by_differences)
{
    enum { N = 512 };
    clconv_context *ctx = tu_ctx();
    cl_context clctx = clconv_context_cl_context(ctx);
    cl_command_queue q = clconv_context_queue(ctx);
    tu_rng r = tu_rng_make(31);
    float *c = tu_alloc(N), *z = tu_alloc(N), *dy = tu_alloc(N), *v = tu_alloc(N);
    float *dconv = tu_alloc(N), *dz = tu_alloc(N);
    for (int i = 0; i < N; i++) {
        c[i] = -4.0f + 8.0f * (float)tu_int(&r, 0, 1000) / 1000.0f;
        z[i] = -2.0f + 4.0f * (float)tu_int(&r, 0, 1000) / 1000.0f;
    }
    tu_fill(&r, dy, N, false);
    const float bias = 0.25f;
    const clconv_shape shape = {1, 1, 1, N};
    for (int a = 0; a < N_ACT; a++) {
        const clconv_activation act = (clconv_activation)a;
        float p[2];
        act_params(act, p);
        const float alpha = SCALES[(size_t)a % 4][0], beta = SCALES[(size_t)a % 4][1];
        const bool from_y =
            clconv_activation_backward_source(act, p) == CLCONV_ACTIVATION_GRAD_FROM_OUTPUT;
        /* v: the epilogue's output y or its pre-activation s, as the forward writes them */
        for (int i = 0; i < N; i++) {
            const double s = (double)alpha * c[i] + (double)beta * z[i] + bias;
            v[i] = (float)(from_y ? clconv_activation_eval(act, p, (float)s) : (float)s);
        }
        clconv_plan *plan;
        ck_assert_int_eq(clconv_activation_plan_create(ctx, act, p, &shape, &plan),
                         CLCONV_SUCCESS);
        cl_int err;
        cl_mem bv = clCreateBuffer(clctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, N * 4, v,
                                   &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_mem bd = clCreateBuffer(clctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, N * 4, dy,
                                   &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_mem bc = clCreateBuffer(clctx, CL_MEM_READ_WRITE, N * 4, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_mem bz = clCreateBuffer(clctx, CL_MEM_READ_WRITE, N * 4, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        ck_assert_int_eq(clconv_activation_backward_scaled_run(plan, alpha, bv, bd, bc, 0, NULL,
                                                               NULL),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_activation_backward_scaled_run(plan, beta, bv, bd, bz, 0, NULL,
                                                               NULL),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, bc, CL_TRUE, 0, N * 4, dconv, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, bz, CL_TRUE, 0, N * 4, dz, 0, NULL, NULL),
                         CL_SUCCESS);
        int checked = 0;
        for (int i = 0; i < N; i++) {
            const double h = 1e-4;
            const double s = (double)alpha * c[i] + (double)beta * z[i] + bias;
            if (near_kink(act, p, s, 4 * h))
                continue;
            /* d/dc and d/dz of dy * act(alpha c + beta z + b) */
            const double fc = dy[i] *
                              (clconv_activation_eval(act, p, s + alpha * h) -
                               clconv_activation_eval(act, p, s - alpha * h)) / (2 * h);
            const double fz = dy[i] *
                              (clconv_activation_eval(act, p, s + beta * h) -
                               clconv_activation_eval(act, p, s - beta * h)) / (2 * h);
            const double tol_c = 2e-4 * fmax(1.0, fabs(fc)) + 1e-5 * fabs(dy[i] * alpha);
            const double tol_z = 2e-4 * fmax(1.0, fabs(fz)) + 1e-5 * fabs(dy[i] * beta);
            ck_assert_msg(fabs(dconv[i] - fc) <= tol_c,
                          "%s, alpha %g: dL/dconv at s = %g: device %.9g, central difference "
                          "%.9g", clconv_activation_name(act), (double)alpha, s,
                          (double)dconv[i], fc);
            ck_assert_msg(fabs(dz[i] - fz) <= tol_z,
                          "%s, beta %g: dL/dz at s = %g: device %.9g, central difference %.9g",
                          clconv_activation_name(act), (double)beta, s, (double)dz[i], fz);
            checked++;
        }
        ck_assert_int_gt(checked, N / 2);
        /* scale 1 is the plain gradient, bit for bit */
        float *g1 = tu_alloc(N), *g2 = tu_alloc(N);
        ck_assert_int_eq(clconv_activation_backward_run(plan, bv, bd, bc, 0, NULL, NULL),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, bc, CL_TRUE, 0, N * 4, g1, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clconv_activation_backward_scaled_run(plan, 1.0f, bv, bd, bc, 0, NULL,
                                                               NULL),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, bc, CL_TRUE, 0, N * 4, g2, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_mem_eq(g1, g2, N * 4);
        free(g1);
        free(g2);
        ck_assert_int_eq(clconv_activation_backward_scaled_run(plan, NAN, bv, bd, bc, 0, NULL,
                                                               NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_msg(strstr(clconv_last_error(ctx), "scale"), "%s", clconv_last_error(ctx));
        clReleaseMemObject(bv);
        clReleaseMemObject(bd);
        clReleaseMemObject(bc);
        clReleaseMemObject(bz);
        clconv_plan_destroy(plan);
    }
    free(c);
    free(z);
    free(dy);
    free(v);
    free(dconv);
    free(dz);
}
END_TEST

/* Bad input: a clear status and a message naming the parameter. */
static void expect_error(clconv_status got, clconv_status want, const char *needle,
                         const char *what)
{
    /* calls without a context leave the message in the thread's slot */
    const char *msg = strstr(clconv_last_error(tu_ctx()), needle) ? clconv_last_error(tu_ctx())
                                                                  : clconv_last_error(NULL);
    ck_assert_msg(got == want, "%s: %s, expected %s (%s)", what, clconv_status_string(got),
                  clconv_status_string(want), msg);
    ck_assert_msg(strstr(msg, needle), "%s: message '%s' lacks '%s'", what, msg, needle);
}

START_TEST(bad_input)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    const clconv_shape in = {1, 2, 6, 6};
    p.has_residual = 1;
    p.alpha = p.beta = 0.0f;
    expect_error(clconv_conv2d_validate(&p, &in), CLCONV_ERROR_INVALID_VALUE, "alpha = beta = 0",
                 "zero alpha and beta");
    p.alpha = NAN;
    p.beta = 1.0f;
    expect_error(clconv_conv2d_validate(&p, &in), CLCONV_ERROR_INVALID_VALUE, "alpha", "NaN alpha");
    p.alpha = 1.0f;
    p.beta = INFINITY;
    expect_error(clconv_conv2d_validate(&p, &in), CLCONV_ERROR_INVALID_VALUE, "beta", "inf beta");
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(2, 3, 3, 3);
    t.has_residual = 1;
    t.alpha = t.beta = 0.0f;
    ck_assert_int_eq(clconv_conv_transpose2d_validate(&t, &in), CLCONV_ERROR_INVALID_VALUE);
    /* without has_residual alpha and beta are not read */
    p.has_residual = 0;
    ck_assert_int_eq(clconv_conv2d_validate(&p, &in), CLCONV_SUCCESS);

    /* the runs' buffers */
    p = clconv_conv2d_default_params(2, 3, 3, 3);
    p.has_residual = 1;
    p.pre_activation_output = 1;
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    const size_t ny = clconv_shape_elements(info.output) * 4;
    cl_context clctx = clconv_context_cl_context(ctx);
    cl_int err;
    cl_mem x = clCreateBuffer(clctx, CL_MEM_READ_WRITE, 6 * 6 * 2 * 4, NULL, &err);
    cl_mem w = clCreateBuffer(clctx, CL_MEM_READ_WRITE, 3 * 2 * 9 * 4, NULL, &err);
    cl_mem y = clCreateBuffer(clctx, CL_MEM_READ_WRITE, ny, NULL, &err);
    cl_mem z = clCreateBuffer(clctx, CL_MEM_READ_WRITE, ny, NULL, &err);
    cl_mem pre = clCreateBuffer(clctx, CL_MEM_READ_WRITE, ny, NULL, &err);
    cl_mem small = clCreateBuffer(clctx, CL_MEM_READ_WRITE, ny - 4, NULL, &err);
    cl_mem ws = info.workspace_bytes ? clCreateBuffer(clctx, CL_MEM_READ_WRITE,
                                                      info.workspace_bytes, NULL, &err)
                                     : NULL;
    clconv_conv_buffers good = {.x = x, .w = w, .y = y, .workspace = ws, .z = z, .pre = pre};
    ck_assert_int_eq(clconv_conv_run(plan, &good, 0, NULL, NULL), CLCONV_SUCCESS);
    /* one buffer of the good run replaced at a time */
    const struct {
        bool pre;      /* replace pre (else z) */
        cl_mem with;
        clconv_status want;
        const char *needle, *what;
    } bad[] = {
        {false, NULL, CLCONV_ERROR_INVALID_VALUE, "z: NULL", "missing z"},
        {false, x, CLCONV_ERROR_INVALID_VALUE, "z: the same buffer as x", "z aliasing x"},
        {false, small, CLCONV_ERROR_BUFFER_TOO_SMALL, "z", "z too small"},
        {true, NULL, CLCONV_ERROR_INVALID_VALUE, "pre: NULL", "missing pre"},
        {true, y, CLCONV_ERROR_INVALID_VALUE, "pre: the same buffer as y", "pre aliasing y"},
        {true, z, CLCONV_ERROR_INVALID_VALUE, "the same buffer as pre", "pre aliasing z"},
        {true, small, CLCONV_ERROR_BUFFER_TOO_SMALL, "pre", "pre too small"},
    };
    clconv_conv_buffers m;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = good;
        *(bad[i].pre ? &m.pre : &m.z) = bad[i].with;
        expect_error(clconv_conv_run(plan, &m, 0, NULL, NULL), bad[i].want, bad[i].needle,
                     bad[i].what);
    }
    m = good;
    m.z = y; /* in place is allowed */
    ck_assert_int_eq(clconv_conv_run(plan, &m, 0, NULL, NULL), CLCONV_SUCCESS);
    expect_error(clconv_conv2d_run(plan, x, w, NULL, y, ws, 0, NULL, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "has_residual = 1", "clconv_conv2d_run with a residual");
    expect_error(clconv_conv_run(plan, NULL, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
                 "buffers", "NULL buffers");
    clconv_plan_destroy(plan);
    /* a plan without the epilogue refuses z and pre */
    p = clconv_conv2d_default_params(2, 3, 3, 3);
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    m = good;
    m.pre = NULL;
    expect_error(clconv_conv_run(plan, &m, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
                 "has_residual = 0", "z for a plan without a residual");
    m = good;
    m.z = NULL;
    expect_error(clconv_conv_run(plan, &m, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
                 "pre_activation_output = 0", "pre for a plan without it");
    clconv_plan_destroy(plan);
    /* clconv_conv_run on another operator's plan */
    const clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &pp, &in, NULL, &plan), CLCONV_SUCCESS);
    expect_error(clconv_conv_run(plan, &good, 0, NULL, NULL), CLCONV_ERROR_WRONG_PLAN,
                 "clconv_conv_run", "a pooling plan");
    clconv_plan_destroy(plan);
    /* host calls and references */
    p.has_residual = 1;
    float hx[72] = {0}, hw[54] = {0}, hy[48], hz[48] = {0};
    expect_error(clconv_conv2d_host(ctx, &p, &in, NULL, hx, hw, NULL, hy),
                 CLCONV_ERROR_INVALID_VALUE, "z: NULL", "host call without z");
    expect_error(clconv_conv2d_host_epilogue(ctx, &p, &in, NULL, hx, hw, NULL, NULL, hy, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "z: NULL", "host_epilogue without z");
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, hx, hw, NULL, hy), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(NULL), "clconv_ref_conv2d_epilogue"), "%s",
                  clconv_last_error(NULL));
    ck_assert_int_eq(clconv_ref_conv2d_epilogue(&p, &in, hx, hw, NULL, hz, hy, NULL),
                     CLCONV_SUCCESS);
    p.has_residual = 0;
    expect_error(clconv_conv2d_host_epilogue(ctx, &p, &in, NULL, hx, hw, NULL, hz, hy, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "has_residual = 0", "host z without a residual");
    clReleaseMemObject(x);
    clReleaseMemObject(w);
    clReleaseMemObject(y);
    clReleaseMemObject(z);
    clReleaseMemObject(pre);
    clReleaseMemObject(small);
    if (ws)
        clReleaseMemObject(ws);
}
END_TEST

static Suite *epilogue_suite(void)
{
    Suite *s = suite_create("epilogue");
    TCase *t = tcase_create("epilogue");
    tcase_set_timeout(t, 900);
    tcase_add_test(t, residual_golden);
    tcase_add_test(t, bad_input);
    tcase_add_test(t, fusion_adds_no_kernel);
    tcase_add_test(t, pre_activation_without_residual);
    tcase_add_test(t, gradient_by_differences);
    tcase_add_test(t, residual_every_algorithm);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run_suite(epilogue_suite());
}
