/* The fused activations (clconv_activation): the CPU reference against
 * PyTorch's values and against independent formulas in double, and the
 * device's float evaluation (kernels/common.cl) through every conv2d and
 * conv_transpose2d algorithm that covers a 1x1 layer, on signed zeros,
 * denormals, infinities, NaN and a dense sweep. */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ACT 14

/* Distance in units in the last place between two finite floats. */
static double ulps(float a, float b)
{
    if (a == b)
        return 0;
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0)
        ia = INT32_MIN - ia;
    if (ib < 0)
        ib = INT32_MIN - ib;
    return fabs((double)ia - (double)ib);
}

/* Same class (NaN, +inf, -inf) and, when finite, within max_ulps or abs_tol. */
static bool close_to(float got, float want, double max_ulps, double abs_tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    return ulps(got, want) <= max_ulps || fabs((double)got - (double)want) <= abs_tol;
}

/* PyTorch 1.13's values (float32, default parameters) on x =
 * -inf, inf, nan, -0, 0, 1e-45, -1e-45, -3, 3, -20, 20, -100, 100; the sign of
 * a zero is not compared. */
START_TEST(reference_matches_pytorch)
{
    const float x[13] = {-INFINITY, INFINITY, NAN, -0.0f, 0.0f, 1e-45f, -1e-45f,
                         -3.0f,     3.0f,     -20.0f, 20.0f, -100.0f, 100.0f};
    const float n = NAN, inf = INFINITY;
    const struct {
        clconv_activation a;
        float y[13];
    } t[] = {
        {CLCONV_ACTIVATION_SILU, {n, inf, n, 0, 0, 0, 0, -0.14227761328220367f, 2.857722520828247f,
                                  -4.1223074731533416e-08f, 20, 0, 100}},
        {CLCONV_ACTIVATION_MISH, {n, inf, n, 0, 0, 1.401298464324817e-45f,
                                  -1.401298464324817e-45f, -0.14564746618270874f,
                                  2.98653507232666f, -4.1223074731533416e-08f, 20,
                                  -3.783505853677006e-42f, 100}},
        {CLCONV_ACTIVATION_GELU, {n, inf, n, 0, 0, 0, 0, -0.004049867391586304f,
                                  2.995950222015381f, 0, 20, 0, 100}},
        {CLCONV_ACTIVATION_GELU_TANH, {n, inf, n, 0, 0, 0, 0, -0.0036374330520629883f,
                                       2.9963626861572266f, 0, 20, 0, 100}},
        {CLCONV_ACTIVATION_HARDSWISH, {0, inf, n, 0, 0, 0, 0, 0, 3, 0, 20, 0, 100}},
        {CLCONV_ACTIVATION_HARDSIGMOID, {0, 1, n, 0.5f, 0.5f, 0.5f, 0.5f, 0, 1, 0, 1, 0, 1}},
        {CLCONV_ACTIVATION_ELU, {-1, inf, n, 0, 0, 1.401298464324817e-45f, 0,
                                 -0.9502129554748535f, 3, -1, 20, -1, 100}},
        {CLCONV_ACTIVATION_SIGMOID, {0, 1, n, 0.5f, 0.5f, 0.5f, 0.5f, 0.04742587357759476f,
                                     0.9525741338729858f, 2.06115369216775e-09f, 1, 0, 1}},
        {CLCONV_ACTIVATION_TANH, {-1, 1, n, 0, 0, 1.401298464324817e-45f,
                                  -1.401298464324817e-45f, -0.9950547814369202f,
                                  0.9950547814369202f, -1, 1, -1, 1}},
        {CLCONV_ACTIVATION_LEAKY_RELU, {-inf, inf, n, 0, 0, 1.401298464324817e-45f, 0,
                                        -0.029999999329447746f, 3, -0.19999998807907104f, 20,
                                        -1, 100}},
        {CLCONV_ACTIVATION_RELU6, {0, 6, n, 0, 0, 1.401298464324817e-45f, 0, 0, 3, 0, 6, 0, 6}},
        {CLCONV_ACTIVATION_HARDTANH, {-1, 1, n, 0, 0, 1.401298464324817e-45f,
                                      -1.401298464324817e-45f, -1, 1, -1, 1, -1, 1}},
        {CLCONV_ACTIVATION_RELU, {0, inf, n, 0, 0, 1.401298464324817e-45f, 0, 0, 3, 0, 20, 0,
                                  100}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        float p[2], y[13];
        clconv_activation_default_params(t[i].a, p);
        ck_assert_int_eq(clconv_ref_activation(t[i].a, p, 13, x, y), CLCONV_SUCCESS);
        for (int j = 0; j < 13; j++) {
            /* PyTorch computes in float: where it cancels (gelu's 1 + erf in
             * the negative tail) or underflows to 0, the reference (double,
             * rounded once) is the more accurate: there 2e-7 of the
             * argument's scale, absolute. */
            const double tol = isfinite(x[j]) ? 2e-7 * fmax(1.0, fabs((double)x[j])) : 0.0;
            ck_assert_msg(close_to(y[j], t[i].y[j], 2, tol) ||
                              (y[j] == 0.0f && t[i].y[j] == 0.0f),
                          "%s(%g) = %.9g, PyTorch %.9g", clconv_activation_name(t[i].a),
                          (double)x[j], (double)y[j], (double)t[i].y[j]);
        }
    }
}
END_TEST

/* Each reference against a second, independent formula evaluated in double
 * (within 2 ulp where the formulas are smooth): a dense sweep of [-24, 24],
 * the denormals and the large values. */
static double other_formula(clconv_activation a, double v, double p0, double p1)
{
    const double sig = 0.5 * (1.0 + tanh(v / 2)); /* sigmoid through tanh */
    switch (a) {
    case CLCONV_ACTIVATION_NONE:
        return v;
    case CLCONV_ACTIVATION_RELU:
        return fmax(v, 0.0);
    case CLCONV_ACTIVATION_RELU6:
        return fmin(fmax(v, 0.0), 6.0);
    case CLCONV_ACTIVATION_HARDTANH:
        return fmin(fmax(v, p0), p1);
    case CLCONV_ACTIVATION_LEAKY_RELU:
        return fmax(v, 0.0) + p0 * fmin(v, 0.0);
    case CLCONV_ACTIVATION_ELU:
        return v > 0 ? v : p0 * (exp(v) - 1.0);
    case CLCONV_ACTIVATION_SIGMOID:
        return sig;
    case CLCONV_ACTIVATION_TANH:
        return fabs(v) > 20 ? copysign(1.0, v) : (1.0 - exp(-2 * v)) / (1.0 + exp(-2 * v));
    case CLCONV_ACTIVATION_SILU:
        return v * sig;
    case CLCONV_ACTIVATION_HARDSIGMOID:
        return fmin(fmax(v + 3.0, 0.0), 6.0) / 6.0;
    case CLCONV_ACTIVATION_HARDSWISH:
        return v * fmin(fmax(v + 3.0, 0.0), 6.0) / 6.0;
    case CLCONV_ACTIVATION_GELU:
        return v * 0.5 * erfc(-v / sqrt(2.0));
    case CLCONV_ACTIVATION_GELU_TANH: {
        const double u = 0.79788456080286535588 * (v + 0.044715 * v * v * v); /* sqrt(2/pi) */
        return v / (1.0 + exp(-2.0 * u)); /* 0.5 (1 + tanh u) = sigmoid(2u) */
    }
    case CLCONV_ACTIVATION_MISH: {
        const double e = exp(v), sp = v > 30 ? v : log(1.0 + e);
        return v * tanh(sp);
    }
    }
    return v;
}

START_TEST(reference_against_formulas)
{
    enum { N = 4096 + 16 };
    float x[N], y[N];
    for (int i = 0; i < 4096; i++)
        x[i] = -24.0f + 48.0f * (float)i / 4095.0f;
    const float extra[16] = {1e-45f, -1e-45f, 1e-40f, -1e-40f, FLT_MIN, -FLT_MIN, 1e-20f, -1e-20f,
                             1e-7f,  -1e-7f,  50.0f,  -50.0f,  1e10f,   -1e10f,   0.5f,   -0.5f};
    memcpy(x + 4096, extra, sizeof extra);
    for (int a = 0; a < N_ACT; a++) {
        const clconv_activation act = (clconv_activation)a;
        float p[2];
        clconv_activation_default_params(act, p);
        ck_assert_int_eq(clconv_ref_activation(act, p, N, x, y), CLCONV_SUCCESS);
        for (int i = 0; i < N; i++) {
            const double want = other_formula(act, x[i], p[0], p[1]);
            /* Where the function is far below its argument's scale (gelu, silu,
             * mish deep in the negative tail, tanh and sigmoid near their
             * limits), the second formula cancels in double: there an absolute
             * tolerance of 1e-13 of the argument's scale applies. */
            const double tail = 1e-13 * fmax(fabs((double)x[i]), 1.0);
            ck_assert_msg(close_to(y[i], (float)want, 2, tail),
                          "%s(%.9g): reference %.9g, other formula %.17g (%g ulp)",
                          clconv_activation_name(act), (double)x[i], (double)y[i], want,
                          ulps(y[i], (float)want));
        }
    }
}
END_TEST

/* The device: a 1x1 convolution of one channel with weight 1 has y =
 * act(x) exactly up to the activation, for every algorithm that covers it;
 * and the same through conv_transpose2d. Within 8 ulp of the reference or
 * 1e-6 absolute (the float built-ins' error; OpenCL allows erf 16 ulp),
 * NaN and infinities exact. */
static void device_sweep(float *x, size_t n)
{
    static const clconv_algorithm conv_algos[] = {
        CLCONV_ALGO_DIRECT_TILED, CLCONV_ALGO_DIRECT_REGISTER, CLCONV_ALGO_DIRECT_VECTOR,
        CLCONV_ALGO_DIRECT_POINTWISE, CLCONV_ALGO_DIRECT_DEPTHWISE, CLCONV_ALGO_GEMM};
    static const clconv_algorithm ct_algos[] = {
        CLCONV_ALGO_TRANSPOSED_GATHER, CLCONV_ALGO_TRANSPOSED_VECTOR,
        CLCONV_ALGO_TRANSPOSED_COLUMNS, CLCONV_ALGO_TRANSPOSED_GEMM};
    const float one = 1.0f;
    float *ref = tu_alloc(n);
    const clconv_shape in = {1, 1, 1, (int64_t)n};
    for (int a = 0; a < N_ACT; a++) {
        const clconv_activation act = (clconv_activation)a;
        clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 1);
        p.activation = act;
        clconv_activation_default_params(act, p.activation_params);
        if (act == CLCONV_ACTIVATION_HARDTANH) { /* not the defaults: the bounds are read */
            p.activation_params[0] = -0.75f;
            p.activation_params[1] = 2.5f;
        }
        ck_assert_int_eq(clconv_ref_activation(act, p.activation_params, n, x, ref),
                         CLCONV_SUCCESS);
        for (size_t k = 0; k < sizeof conv_algos / sizeof conv_algos[0]; k++) {
            if (clconv_conv2d_algorithm_supported(tu_ctx(), &p, &in, conv_algos[k]))
                continue;
            char what[96];
            snprintf(what, sizeof what, "conv2d %s, %s", clconv_algorithm_name(conv_algos[k]),
                     clconv_activation_name(act));
            const clconv_plan_options o = {.algorithm = conv_algos[k]};
            float *y = tu_conv2d_run(tu_ctx(), &p, &in, x, &one, NULL, &o, NULL, what);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(close_to(y[i], ref[i], 8, 1e-6), "%s(%.9g): device %.9g, reference "
                              "%.9g", what, (double)x[i], (double)y[i], (double)ref[i]);
            free(y);
        }
        clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(1, 1, 1, 1);
        t.activation = act;
        memcpy(t.activation_params, p.activation_params, sizeof t.activation_params);
        for (size_t k = 0; k < sizeof ct_algos / sizeof ct_algos[0]; k++) {
            char what[96];
            snprintf(what, sizeof what, "conv_transpose2d %s, %s",
                     clconv_algorithm_name(ct_algos[k]), clconv_activation_name(act));
            const clconv_plan_options o = {.algorithm = ct_algos[k]};
            float *y = tu_conv_transpose2d_run(tu_ctx(), &t, &in, x, &one, NULL, &o, NULL, what);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(close_to(y[i], ref[i], 8, 1e-6), "%s(%.9g): device %.9g, reference "
                              "%.9g", what, (double)x[i], (double)y[i], (double)ref[i]);
            free(y);
        }
    }
    free(ref);
}

START_TEST(device_matches_reference)
{
    enum { N = 2048 };
    float *x = tu_alloc(N);
    for (int i = 0; i < N - 32; i++)
        x[i] = -16.0f + 32.0f * (float)i / (float)(N - 33);
    const float extra[32] = {-INFINITY, INFINITY, NAN,    -0.0f,  0.0f,   1e-45f, -1e-45f,
                             1e-40f,    -1e-40f,  -3.0f,  3.0f,   -20.0f, 20.0f,  -100.0f,
                             100.0f,    1e10f,    -1e10f, 6.0f,   -6.0f,  2.5f,   -0.75f,
                             88.0f,     -88.0f,   89.0f,  -104.0f, 1e-7f, -1e-7f, 0.5f,
                             -0.5f,     FLT_MAX,  -FLT_MAX, 7.0f};
    memcpy(x + N - 32, extra, sizeof extra);
    device_sweep(x, N);
    free(x);
}
END_TEST

/* ---- gradients ------------------------------------------------------------ */

/* The kinks of each activation (central differences straddling one are
 * skipped). */
static bool near_kink(clconv_activation a, const float p[2], double x, double h)
{
    const double k[] = {0.0, 6.0, p[0], p[1], -3.0, 3.0};
    int n = 0;
    if (a == CLCONV_ACTIVATION_RELU || a == CLCONV_ACTIVATION_LEAKY_RELU ||
        a == CLCONV_ACTIVATION_ELU)
        n = 1;
    else if (a == CLCONV_ACTIVATION_RELU6)
        n = 2;
    for (int i = 0; i < n; i++)
        if (fabs(x - k[i]) < 4 * h)
            return true;
    if (a == CLCONV_ACTIVATION_HARDTANH)
        return fabs(x - k[2]) < 4 * h || fabs(x - k[3]) < 4 * h;
    if (a == CLCONV_ACTIVATION_HARDSIGMOID || a == CLCONV_ACTIVATION_HARDSWISH)
        return fabs(x - k[4]) < 4 * h || fabs(x - k[5]) < 4 * h;
    return false;
}

/* The reference's evaluation in double (host/activation.c, not in the public
 * header): the function the central differences are taken of. */
double clconv_activation_eval(clconv_activation activation, const float params[2], double v);

/* The reference gradient (from y or x, as clconv_activation_backward_source
 * says) against central differences of the activation in double. */
START_TEST(gradient_reference_against_differences)
{
    const float custom[][2] = {{0.2f, 0}, {-0.3f, 0}, {0.7f, 0}, {-0.5f, 0}, {-2.0f, 1.5f}};
    for (int a = 0; a < N_ACT + 5; a++) {
        clconv_activation act;
        float p[2];
        if (a < N_ACT) {
            act = (clconv_activation)a;
            clconv_activation_default_params(act, p);
        } else { /* leaky_relu and elu with either sign, hardtanh with other bounds */
            act = a < N_ACT + 2 ? CLCONV_ACTIVATION_LEAKY_RELU
                  : a < N_ACT + 4 ? CLCONV_ACTIVATION_ELU
                                  : CLCONV_ACTIVATION_HARDTANH;
            p[0] = custom[a - N_ACT][0];
            p[1] = custom[a - N_ACT][1];
        }
        const bool from_y =
            clconv_activation_backward_source(act, p) == CLCONV_ACTIVATION_GRAD_FROM_OUTPUT;
        for (int i = 0; i <= 1600; i++) {
            const float x = -8.0f + (float)i / 100.0f;
            const double h = 1e-4 * fmax(1.0, fabs((double)x));
            if (near_kink(act, p, x, h))
                continue;
            const double fd = (clconv_activation_eval(act, p, x + h) -
                               clconv_activation_eval(act, p, x - h)) / (2 * h);
            float y, v = x, dx;
            const float one = 1.0f;
            ck_assert_int_eq(clconv_ref_activation(act, p, 1, &x, &y), CLCONV_SUCCESS);
            if (from_y)
                v = y;
            ck_assert_int_eq(clconv_ref_activation_backward(act, p, 1, &v, &one, &dx),
                             CLCONV_SUCCESS);
            ck_assert_msg(fabs((double)dx - fd) <= 2e-4 * fmax(1.0, fabs(fd)),
                          "%s(%g, %g)'(%g) from %s: %.9g, central difference %.9g",
                          clconv_activation_name(act), (double)p[0], (double)p[1], (double)x,
                          from_y ? "y" : "x", (double)dx, fd);
        }
    }
}
END_TEST

/* The elementwise plans on the device against the references: forward, and
 * backward from the tensor each activation asks for, on the dense sweep and
 * the special values; in place; dy scaled so the gradient is not all 1s. */
START_TEST(elementwise_plans_match_reference)
{
    enum { N = 2048 };
    clconv_context *ctx = tu_ctx();
    float *x = tu_alloc(N), *dy = tu_alloc(N), *y = tu_alloc(N), *v = tu_alloc(N);
    float *ref = tu_alloc(N), *got = tu_alloc(N);
    /* M elements: the plan's kernel does 8 per work-item, so a tail of 3 */
    const int M = N - 5;
    for (int i = 0; i < M - 16; i++)
        x[i] = -10.0f + 20.0f * (float)i / (float)(M - 17);
    const float extra[16] = {-INFINITY, INFINITY, NAN,  -0.0f, 0.0f,   1e-40f, -3.0f, 3.0f,
                             6.0f,      -6.0f,    88.0f, -88.0f, 1e10f, -1e10f, 0.5f,  -0.5f};
    memcpy(x + M - 16, extra, sizeof extra);
    tu_rng r = tu_rng_make(77);
    tu_fill(&r, dy, N, false);
    dy[M - 3] = NAN; /* a NaN gradient passes where PyTorch's would */
    const clconv_shape shape = {1, 1, 3, M / 3};
    for (int a = 0; a < N_ACT; a++) {
        const clconv_activation act = (clconv_activation)a;
        float p[2];
        clconv_activation_default_params(act, p);
        clconv_plan *plan;
        ck_assert_int_eq(clconv_activation_plan_create(ctx, act, p, &shape, &plan), CLCONV_SUCCESS);
        cl_int err;
        cl_mem bx = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE |
                                   CL_MEM_COPY_HOST_PTR, N * 4, x, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_mem by = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE, N * 4, NULL,
                                   &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_mem bd = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE |
                                   CL_MEM_COPY_HOST_PTR, N * 4, dy, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_command_queue q = clconv_context_queue(ctx);
        /* forward */
        ck_assert_int_eq(clconv_activation_run(plan, bx, by, 0, NULL, NULL), CLCONV_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, by, CL_TRUE, 0, N * 4, got, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clconv_ref_activation(act, p, N, x, y), CLCONV_SUCCESS);
        for (int i = 0; i < M; i++)
            ck_assert_msg(close_to(got[i], y[i], 8, 1e-6), "%s(%.9g): device %.9g, reference %.9g",
                          clconv_activation_name(act), (double)x[i], (double)got[i],
                          (double)y[i]);
        /* backward from y or x, in place into dy's buffer */
        const bool from_y =
            clconv_activation_backward_source(act, p) == CLCONV_ACTIVATION_GRAD_FROM_OUTPUT;
        memcpy(v, from_y ? y : x, N * 4);
        cl_mem bv = from_y ? by : bx;
        ck_assert_int_eq(clconv_activation_backward_run(plan, bv, bd, bd, 0, NULL, NULL),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, bd, CL_TRUE, 0, N * 4, got, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clconv_ref_activation_backward(act, p, N, v, dy, ref), CLCONV_SUCCESS);
        for (int i = 0; i < M; i++)
            ck_assert_msg(close_to(got[i], ref[i], 16,
                                   2e-6 * fmax(1.0, fabs((double)dy[i])) *
                                       fmax(1.0, isfinite(x[i]) ? fabs((double)x[i]) : 1.0)),
                          "%s' at %.9g (from %s): device %.9g, reference %.9g",
                          clconv_activation_name(act), (double)x[i], from_y ? "y" : "x",
                          (double)got[i], (double)ref[i]);
        clReleaseMemObject(bx);
        clReleaseMemObject(by);
        clReleaseMemObject(bd);
        clconv_plan_destroy(plan);
    }
    /* bad input */
    clconv_plan *plan = (clconv_plan *)1;
    const float bad[2] = {1.0f, -1.0f};
    ck_assert_int_eq(clconv_activation_plan_create(ctx, CLCONV_ACTIVATION_HARDTANH, bad, &shape,
                                                   &plan), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(clconv_last_error(ctx), "min_val <= max_val"), "%s",
                  clconv_last_error(ctx));
    const clconv_shape zero = {0, 1, 1, 1};
    ck_assert_int_eq(clconv_activation_plan_create(ctx, CLCONV_ACTIVATION_SILU, NULL, &zero,
                                                   &plan), CLCONV_ERROR_INVALID_SHAPE);
    ck_assert_int_eq(clconv_activation_plan_create(ctx, CLCONV_ACTIVATION_SILU, NULL, &shape,
                                                   &plan), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_activation_run(plan, NULL, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_relu_backward_run(plan, NULL, NULL, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    ck_assert_int_eq(clconv_ref_activation_backward(CLCONV_ACTIVATION_SILU, NULL, 4, NULL, x, y),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_plan_destroy(plan);
    free(x);
    free(dy);
    free(y);
    free(v);
    free(ref);
    free(got);
}
END_TEST

/* A planted error is caught: the comparison is not vacuous. */
START_TEST(comparison_catches_errors)
{
    ck_assert(!close_to(1.0f, nextafterf(nextafterf(1.0f, 2.0f), 2.0f) + 1e-5f, 8, 1e-6));
    ck_assert(!close_to(NAN, 0.0f, 8, 1e-6));
    ck_assert(!close_to(INFINITY, FLT_MAX, 8, 1e-6));
    ck_assert(close_to(NAN, NAN, 0, 0));
    ck_assert(ulps(1.0f, nextafterf(1.0f, 2.0f)) == 1);
    ck_assert(ulps(-0.0f, 0.0f) <= 1);
}
END_TEST

static Suite *activation_suite(void)
{
    Suite *s = suite_create("activation");
    TCase *ref = tcase_create("reference");
    tcase_add_test(ref, reference_matches_pytorch);
    tcase_add_test(ref, reference_against_formulas);
    tcase_add_test(ref, comparison_catches_errors);
    tcase_add_test(ref, gradient_reference_against_differences);
    suite_add_tcase(s, ref);
    TCase *dev = tcase_create("device");
    tcase_set_timeout(dev, 900);
    tcase_add_test(dev, device_matches_reference);
    tcase_add_test(dev, elementwise_plans_match_reference);
    suite_add_tcase(s, dev);
    return s;
}

int main(void)
{
    return tu_run_suite(activation_suite());
}
