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
    suite_add_tcase(s, ref);
    TCase *dev = tcase_create("device");
    tcase_set_timeout(dev, 900);
    tcase_add_test(dev, device_matches_reference);
    suite_add_tcase(s, dev);
    return s;
}

int main(void)
{
    return tu_run_suite(activation_suite());
}
