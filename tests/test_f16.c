/* fp16 storage (clconv_dtype F16): the conversion helpers against IEEE's
 * rules (every half, the float edge cases, nearest-even against brute
 * force), the API's checks (bad dtype, the _host calls' refusal, the
 * algorithms without fp16), and the converted algorithms' sweeps against the
 * double reference on the half inputs. */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Every half: widened exactly (checked against ldexp of its fields), and
 * back to the same bits; NaN stays a NaN of the same sign (quiet). */
START_TEST(half_round_trip_exhaustive)
{
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = clconv_half_to_float((uint16_t)h);
        const int e = (int)((h >> 10) & 0x1f), m = (int)(h & 0x3ff);
        const double sign = (h & 0x8000) ? -1.0 : 1.0;
        if (e == 31) {
            if (m == 0)
                ck_assert_msg(isinf(f) && !!signbit(f) == ((h & 0x8000) != 0), "half %#x", h);
            else
                ck_assert_msg(isnan(f) && !!signbit(f) == ((h & 0x8000) != 0), "half %#x", h);
        } else {
            const double want = e ? sign * ldexp(1024 + m, e - 25) : sign * ldexp(m, -24);
            ck_assert_msg((double)f == want && !!signbit(f) == ((h & 0x8000) != 0),
                          "half %#x: %.9g, expected %.9g", h, (double)f, want);
        }
        const uint16_t back = clconv_float_to_half(f);
        if (e == 31 && m != 0)
            ck_assert_msg((back & 0x7c00) == 0x7c00 && (back & 0x3ff) != 0 &&
                              (back & 0x200) && (back & 0x8000) == (h & 0x8000),
                          "NaN %#x came back as %#x", h, back);
        else
            ck_assert_msg(back == h, "half %#x -> %.9g -> %#x", h, (double)f, back);
    }
    /* The array forms agree. */
    uint16_t hs[5] = {0x0001, 0x3c00, 0x7bff, 0xfc00, 0x8000}, back[5];
    float fs[5];
    clconv_halves_to_floats(hs, fs, 5);
    clconv_floats_to_halves(fs, back, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(back[i], hs[i]);
        ck_assert(bits_of(fs[i]) == bits_of(clconv_half_to_float(hs[i])));
    }
}
END_TEST

START_TEST(float_to_half_edges)
{
    static const struct {
        float f;
        uint16_t h;
    } cases[] = {
        {65504.0f, 0x7bff},                     /* the largest half */
        {65519.0f, 0x7bff},                     /* below the midpoint to 65536: down */
        {65520.0f, 0x7c00},                     /* the midpoint: ties to even = inf */
        {1e10f, 0x7c00},       {-1e10f, 0xfc00},
        {INFINITY, 0x7c00},    {-INFINITY, 0xfc00},
        {0x1p-24f, 0x0001},                     /* the smallest subnormal */
        {0x1p-25f, 0x0000},                     /* a tie between 0 and 2^-24: even = 0 */
        {-0x1p-25f, 0x8000},
        {0x1.000002p-25f, 0x0001},              /* just above the tie */
        {0x3p-25f, 0x0002},                     /* 1.5 * 2^-24: tie, to even (2) */
        {0x5p-25f, 0x0002},                     /* 2.5 * 2^-24: tie, to even (2) */
        {0x1p-14f, 0x0400},                     /* the smallest normal */
        {0x3ffp-24f, 0x03ff},                   /* the largest subnormal */
        {0x7ffp-25f, 0x0400},                   /* rounds up into the normals */
        {1.0f + 0x1p-11f, 0x3c00},              /* tie between 1 and 1 + 2^-10: even = 1 */
        {1.0f + 0x3p-11f, 0x3c02},              /* tie, to even (1 + 2^-9) */
        {1.0f + 0x1.2p-11f, 0x3c01},           /* above the tie */
        {0.0f, 0x0000},        {-0.0f, 0x8000},
        {1e-30f, 0x0000},      {-1e-30f, 0x8000},
        {1.0f, 0x3c00},        {-2.0f, 0xc000},
        {0.1f, 0x2e66},        {3.14159265f, 0x4248},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(clconv_float_to_half(cases[i].f) == cases[i].h, "%a: %#x, expected %#x",
                      (double)cases[i].f, clconv_float_to_half(cases[i].f), cases[i].h);
    /* NaN: quiet, sign kept, a signalling float NaN too. */
    const uint16_t qn = clconv_float_to_half(NAN), nn = clconv_float_to_half(-NAN);
    const uint16_t sn = clconv_float_to_half(float_of(0x7f800001u));
    ck_assert(qn >= 0x7e00 && qn <= 0x7fff);
    ck_assert(nn >= 0xfe00);
    ck_assert(sn >= 0x7e00 && sn <= 0x7fff);
    ck_assert(isnan(clconv_half_to_float(sn)));
}
END_TEST

/* Nearest even against brute force: for floats spread over every exponent
 * (every 4099th bit pattern), the half is a neighbour of the value with the
 * smallest distance, ties to the even one, beyond 65520 inf. */
START_TEST(float_to_half_nearest)
{
    for (uint64_t u = 0; u < 0x100000000ull; u += 4099) {
        const float f = float_of((uint32_t)u);
        if (isnan(f))
            continue;
        const uint16_t h = clconv_float_to_half(f);
        const double a = fabs((double)f);
        if (a >= 65520.0) {
            ck_assert_msg((h & 0x7fff) == 0x7c00, "%a -> %#x, expected inf", (double)f, h);
            continue;
        }
        ck_assert_msg((h & 0x8000) == ((u >> 16) & 0x8000), "%a: the sign", (double)f);
        const uint16_t m = h & 0x7fff;
        ck_assert_msg(m < 0x7c00, "%a -> %#x: not finite", (double)f, h);
        const double d = fabs(a - (double)clconv_half_to_float(m));
        const double up = m < 0x7bff ? fabs(a - (double)clconv_half_to_float(m + 1)) : INFINITY;
        const double down = m > 0 ? fabs(a - (double)clconv_half_to_float(m - 1)) : INFINITY;
        ck_assert_msg(d <= up && d <= down, "%a -> %#x is not the nearest half", (double)f, h);
        if (d == up || d == down)
            ck_assert_msg((m & 1) == 0, "%a -> %#x: a tie not rounded to even", (double)f, h);
    }
}
END_TEST

START_TEST(dtype_api)
{
    ck_assert_str_eq(clconv_dtype_name(CLCONV_DTYPE_F32), "f32");
    ck_assert_str_eq(clconv_dtype_name(CLCONV_DTYPE_F16), "f16");
    ck_assert_str_eq(clconv_dtype_name((clconv_dtype)7), "unknown");
    ck_assert_uint_eq(clconv_dtype_size(CLCONV_DTYPE_F16), 2);
    ck_assert_uint_eq(clconv_dtype_size(CLCONV_DTYPE_F32), 4);
    /* zero-initialised parameters are f32 */
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    ck_assert_int_eq(p.dtype, CLCONV_DTYPE_F32);
    clconv_shape in = {1, 2, 5, 5};
    /* a dtype outside the enum, in every operator, names it */
    p.dtype = (clconv_dtype)2;
    ck_assert_int_eq(clconv_conv2d_validate(&p, &in), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(NULL), "dtype = 2"), "%s", clconv_last_error(NULL));
    clconv_conv1d_params q = {.in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 1,
                              .dilation = 1, .groups = 1, .dtype = (clconv_dtype)-1};
    int64_t len;
    ck_assert_int_eq(clconv_conv1d_output_length(&q, 8, &len), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(NULL), "dtype = -1"), "%s", clconv_last_error(NULL));
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(2, 3, 3, 3);
    t.dtype = (clconv_dtype)5;
    ck_assert_int_eq(clconv_conv_transpose2d_validate(&t, &in), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(NULL), "dtype = 5"), "%s", clconv_last_error(NULL));
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    pp.dtype = (clconv_dtype)3;
    ck_assert_int_eq(clconv_pool2d_validate(&pp, &in), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(NULL), "dtype = 3"), "%s", clconv_last_error(NULL));

    /* The host-array calls take floats only: F16 refused, saying why. */
    p.dtype = CLCONV_DTYPE_F16;
    float x[50] = {0}, w[54] = {0}, y[27];
    ck_assert_int_eq(clconv_conv2d_host(tu_ctx(), &p, &in, NULL, x, w, NULL, y),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(NULL), "f16"), "%s", clconv_last_error(NULL));
    t.dtype = CLCONV_DTYPE_F16;
    float yt[2 * 3 * 7 * 7];
    ck_assert_int_eq(clconv_conv_transpose2d_host(tu_ctx(), &t, &in, NULL, x, w, NULL, yt),
                     CLCONV_ERROR_INVALID_VALUE);
    pp.dtype = CLCONV_DTYPE_F16;
    ck_assert_int_eq(clconv_pool2d_host(tu_ctx(), &pp, &in, NULL, x, y, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    /* the backward passes' host calls take floats too (their F16 plans are
     * tests/test_f16_backward.c's) */
    float dw[54], dx[50];
    ck_assert_int_eq(clconv_conv2d_backward_weights_host(tu_ctx(), &p, &in, NULL, x, y, dw),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "clconv_conv2d_backward_weights_host"),
                  "%s", clconv_last_error(tu_ctx()));
    ck_assert_int_eq(clconv_conv2d_backward_bias_host(tu_ctx(), &p, &in, NULL, y, dw),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_backward_data_host(tu_ctx(), &p, &in, NULL, y, w, dx),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_pool2d_backward_host(tu_ctx(), &pp, &in, NULL, y, NULL, x, dx),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "clconv_pool2d_backward_host"), "%s",
                  clconv_last_error(tu_ctx()));
    /* CLBlast's algorithms read and write float */
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(tu_ctx(), &p, &in, CLCONV_ALGO_GEMM),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "f16"), "%s", clconv_last_error(tu_ctx()));
    clconv_plan *plan = NULL;
    clconv_plan_options opt = {.algorithm = CLCONV_ALGO_GEMM};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &opt, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_null(plan);
    ck_assert_int_eq(
        clconv_conv_transpose2d_algorithm_supported(tu_ctx(), &t, &in, CLCONV_ALGO_TRANSPOSED_GEMM),
        CLCONV_ERROR_UNSUPPORTED);
}
END_TEST


/* ---- the converted algorithms with fp16 storage ---------------------------- */

/* The conv2d algorithms that take fp16 storage swept here (Winograd's
 * sweep: test_f16_transpose; CLBlast's gemm refuses it: dtype_api). */
static const clconv_algorithm F16_ALGOS[] = {
    CLCONV_ALGO_DIRECT_TILED, CLCONV_ALGO_DIRECT_REGISTER, CLCONV_ALGO_DIRECT_VECTOR,
    CLCONV_ALGO_DIRECT_DEPTHWISE, CLCONV_ALGO_DIRECT_POINTWISE,
    CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS};
#define N_F16_ALGOS (sizeof F16_ALGOS / sizeof F16_ALGOS[0])

/* Geometries (kh, kw, sh, sw, dh, dw): a small palette, every one a program
 * per algorithm, so the sweep stays near 30 programs (per_algo cases each). */
static const int GEOS[][6] = {
    {3, 3, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {2, 3, 1, 2, 2, 1},
};
#define N_GEOS (sizeof GEOS / sizeof GEOS[0])

static bool f16_supported(clconv_algorithm a, const clconv_conv2d_params *p,
                          const clconv_shape *in)
{
    return clconv_conv2d_algorithm_supported(tu_ctx(), p, in, a) == CLCONV_SUCCESS;
}

/* One random layer for algorithm a with geometry gi: channels, groups,
 * padding, batch, bias, an activation (the others on odd geometries), the
 * residual / second output on geometry 1 and 3. */
static clconv_conv2d_params f16_case(tu_rng *r, clconv_algorithm a, int gi, clconv_shape *in)
{
    for (;;) {
        const int *geo = GEOS[gi];
        const bool depthwise =
            a == CLCONV_ALGO_DIRECT_DEPTHWISE || a == CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS;
        int64_t groups = depthwise ? tu_int(r, 2, 6) : tu_int(r, 0, 3) == 0 ? 2 : 1;
        int64_t cin_g = depthwise ? 1 : tu_int(r, 1, 5), cout_g = tu_int(r, 1, depthwise ? 2 : 9);
        clconv_conv2d_params p =
            clconv_conv2d_default_params(cin_g * groups, cout_g * groups, geo[0], geo[1]);
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
        p.has_bias = tu_int(r, 0, 1);
        tu_random_activation(r, &p.activation, p.activation_params, gi % 2 == 1);
        tu_random_epilogue(r, gi % 2 == 1 ? 1 + tu_int(r, 0, 2) : 0, &p.has_residual, &p.alpha,
                           &p.beta, &p.pre_activation_output);
        *in = (clconv_shape){tu_int(r, 1, 2), p.in_channels, tu_int(r, 1, 13), tu_int(r, 1, 23)};
        if (clconv_conv2d_validate(&p, in) == CLCONV_SUCCESS && f16_supported(a, &p, in))
            return p;
    }
}

/* The conv2d sweep with fp16 storage: inputs drawn and rounded to halves,
 * the reference in double on them, the device's halves within the F32 bound
 * plus one half ulp (tu_conv2d_check with p.dtype = F16). */
START_TEST(conv2d_sweep)
{
    const uint64_t seed = 1617;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    const int per_algo = 6;
    for (size_t ai = 0; ai < N_F16_ALGOS; ai++)
        for (int i = 0; i < per_algo; i++) {
            const clconv_algorithm a = F16_ALGOS[ai];
            clconv_shape in;
            clconv_conv2d_params p = f16_case(&r, a, i % (int)N_GEOS, &in);
            clconv_plan_options opt = {.algorithm = a};
            const bool integers = i % 3 == 0;
            char what[400];
            snprintf(what, sizeof what,
                     "f16 sweep seed %llu %s case %d: in=%lldx%lldx%lldx%lld out_c=%lld "
                     "k=%lldx%lld s=%lldx%lld d=%lldx%lld pad=%lld,%lld,%lld,%lld g=%lld bias=%d "
                     "act=%s res=%d(%g,%g) pre=%d ints=%d",
                     (unsigned long long)seed, clconv_algorithm_name(a), i, (long long)in.n,
                     (long long)in.c, (long long)in.h, (long long)in.w,
                     (long long)p.out_channels, (long long)p.kernel_h, (long long)p.kernel_w,
                     (long long)p.stride_h, (long long)p.stride_w, (long long)p.dilation_h,
                     (long long)p.dilation_w, (long long)p.pad_top, (long long)p.pad_bottom,
                     (long long)p.pad_left, (long long)p.pad_right, (long long)p.groups,
                     p.has_bias, clconv_activation_name(p.activation), p.has_residual,
                     (double)p.alpha, (double)p.beta, p.pre_activation_output, (int)integers);
            clconv_plan_info info;
            tu_conv2d_check(tu_ctx(), &p, &in, &opt, &r, integers, &info, what);
            ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16"), "%s: options %s", what,
                          info.build_options);
        }
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    fprintf(stderr, "f16 conv2d sweep: %d cases, %llu programs\n",
            (int)(per_algo * N_F16_ALGOS), (unsigned long long)programs);
}
END_TEST

/* AUTO with fp16 storage picks an algorithm that takes it, on any layer. */
START_TEST(auto_picks_f16_algorithms)
{
    tu_rng r = tu_rng_make(88);
    static const int64_t layers[][5] = {/* cin, cout, k, groups, hw */
                                        {16, 16, 3, 1, 12}, {8, 16, 1, 1, 9}, {4, 4, 3, 4, 10},
                                        {3, 2, 5, 1, 7}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        clconv_conv2d_params p =
            clconv_conv2d_default_params(layers[i][0], layers[i][1], layers[i][2], layers[i][2]);
        p.groups = layers[i][3];
        p.dtype = CLCONV_DTYPE_F16;
        p.has_bias = 1;
        clconv_shape in = {1, layers[i][0], layers[i][4], layers[i][4]};
        clconv_plan_info info;
        char what[64];
        snprintf(what, sizeof what, "auto layer %zu", i);
        tu_conv2d_check(tu_ctx(), &p, &in, NULL, &r, false, &info, what);
        /* Winograd takes fp16 too (its sweep: test_f16_transpose) */
        bool listed = info.algorithm == CLCONV_ALGO_WINOGRAD;
        for (size_t a = 0; a < N_F16_ALGOS; a++)
            listed |= info.algorithm == F16_ALGOS[a];
        ck_assert_msg(listed, "%s: AUTO chose %s", what, clconv_algorithm_name(info.algorithm));
    }
    /* a too-small buffer's message counts halves */
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 1, 1);
    p.dtype = CLCONV_DTYPE_F16;
    const clconv_shape in = {1, 2, 2, 2};
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, NULL, &plan), CLCONV_SUCCESS);
    cl_int err;
    cl_mem small = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE, 8, NULL,
                                  &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(plan, small, small, NULL, small, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "x: 8 bytes, expected at least 16 bytes "
                                                      "(8 halves)"),
                  "%s", clconv_last_error(tu_ctx()));
    clReleaseMemObject(small);
    clconv_plan_destroy(plan);
}
END_TEST

/* IEEE through fp16 storage: a sum above 65504 stores +-inf, one at 65504
 * stays finite, a NaN input reaches its window's outputs (every algorithm);
 * an output of 3 elements (6 bytes) is written to the byte (the guard
 * bands of tu_conv2d_run are checked byte by byte). */
START_TEST(overflow_nan_and_odd_sizes)
{
    for (size_t ai = 0; ai < N_F16_ALGOS; ai++) {
        const clconv_algorithm a = F16_ALGOS[ai];
        clconv_plan_options opt = {.algorithm = a};
        /* 1x1, 1 -> 1 channel over a 1x1x1x3 input: y = 256 * x (+ b) */
        clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 1);
        p.dtype = CLCONV_DTYPE_F16;
        clconv_shape in = {1, 1, 1, 3};
        if (!f16_supported(a, &p, &in))
            in = (clconv_shape){1, 1, 1, 4}; /* direct-pointwise wants 4 pixels */
        const size_t n = (size_t)in.w;
        float x[4] = {255.875f, -300.0f, NAN, 1.0f}, w[1] = {256.0f};
        /* 255.875 * 256 = 65504: the largest half; -300 * 256 = -76800: -inf */
        float *y = tu_conv2d_run(tu_ctx(), &p, &in, x, w, NULL, &opt, NULL,
                                 clconv_algorithm_name(a));
        ck_assert_msg(y[0] == 65504.0f, "%s: %g", clconv_algorithm_name(a), (double)y[0]);
        ck_assert_msg(isinf(y[1]) && y[1] < 0, "%s: %g", clconv_algorithm_name(a), (double)y[1]);
        ck_assert_msg(isnan(y[2]), "%s: %g", clconv_algorithm_name(a), (double)y[2]);
        if (n == 4)
            ck_assert(y[3] == 256.0f);
        free(y);
        /* subnormal halves in and out: 2^-24 * 3 = 3 * 2^-24; 2^-14 * 0.5 */
        float xs[4] = {0x1p-24f, 0x1p-14f, -0x3p-24f, 0x1p-24f}, ws[1] = {0.5f};
        y = tu_conv2d_run(tu_ctx(), &p, &in, xs, ws, NULL, &opt, NULL, "subnormals");
        ck_assert_msg(y[0] == 0.0f && y[1] == 0x1p-15f && y[2] == -0x2p-24f,
                      "%s: %a %a %a (ties to even)", clconv_algorithm_name(a), (double)y[0],
                      (double)y[1], (double)y[2]);
        free(y);
        /* normal halves, exact float sums halfway between two halves: x + b
         * with b = 2^-11 (half an ulp at 1): 1 stays 1 (even), 1 + 2^-10
         * (odd) goes up to 1 + 2^-9, -(1 + 3 2^-10) (odd) to -(1 + 2^-9) */
        p.has_bias = 1;
        float xt[4] = {1.0f, 1.0f + 0x1p-10f, -1.0f - 0x3p-10f, 1.0f + 0x1p-10f};
        float wt[1] = {1.0f}, bt[1] = {0x1p-11f};
        y = tu_conv2d_run(tu_ctx(), &p, &in, xt, wt, bt, &opt, NULL, "ties");
        ck_assert_msg(y[0] == 1.0f && y[1] == 1.0f + 0x1p-9f && y[2] == -1.0f - 0x2p-10f,
                      "%s: %a %a %a (normal ties to even)", clconv_algorithm_name(a),
                      (double)y[0], (double)y[1], (double)y[2]);
        free(y);
    }
}
END_TEST

static Suite *f16_suite(void)
{
    Suite *s = suite_create("f16");
    TCase *conv = tcase_create("conversions");
    tcase_set_timeout(conv, 300);
    tcase_add_test(conv, half_round_trip_exhaustive);
    tcase_add_test(conv, float_to_half_edges);
    tcase_add_test(conv, float_to_half_nearest);
    suite_add_tcase(s, conv);
    TCase *api = tcase_create("api");
    tcase_add_test(api, dtype_api);
    suite_add_tcase(s, api);
    TCase *sw = tcase_create("sweeps");
    tcase_set_timeout(sw, 900);
    tcase_add_test(sw, conv2d_sweep);
    tcase_add_test(sw, auto_picks_f16_algorithms);
    tcase_add_test(sw, overflow_nan_and_odd_sizes);
    suite_add_tcase(s, sw);
    return s;
}

int main(void)
{
    return tu_run_suite(f16_suite());
}
