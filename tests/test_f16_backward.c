/* The training passes with fp16 storage (clconv_dtype F16, fp32
 * accumulation): pooling's backward pass in every mode, conv2d's
 * backward-weights and backward-bias. Inputs are drawn and rounded to
 * halves; the references run in F32 (pooling: PyTorch's float order) or
 * double (conv2d) on the widened halves. Where the F32 pass is bit for bit
 * with its reference (max, and avg / adaptive avg on CPU devices; small
 * integers in conv2d) the F16 result must be that float rounded once to
 * the nearest half, bit for bit; elsewhere within the F32 bound plus one
 * half ulp (include/clconv.h, "Data types"). Also: a max-pool gradient
 * routed exactly, sums that only fp32 accumulation gets right (a half
 * accumulator rounds them away or overflows), overflow to inf, byte-exact
 * guard bands around odd element counts, determinism, a too-small buffer's
 * message in halves, and what stays refused. */
#include "conv_tester.h"
#include "pool_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_max(clconv_pool_mode m)
{
    return m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
}

/* ref rounded once to the nearest half and widened: what an fp16 store of
 * the same float gives. */
static float as_half(float ref)
{
    return clconv_half_to_float(clconv_float_to_half(ref));
}

/* got == as_half(ref) bit for bit (NaN meeting NaN; with any_zero_sign, a
 * zero of either sign meeting a zero); -1 or the first bad index, described
 * in msg. */
static long compare_rounded(const float *got, const float *ref, size_t n, bool any_zero_sign,
                            char *msg, size_t size)
{
    for (size_t j = 0; j < n; j++) {
        const float want = as_half(ref[j]);
        if (isnan(want) && isnan(got[j]))
            continue;
        if (any_zero_sign && want == 0.0f && got[j] == 0.0f)
            continue;
        if (memcmp(&got[j], &want, sizeof want) != 0) {
            snprintf(msg, size, "element %zu: %a, expected %a (float %a rounded once)", j,
                     (double)got[j], (double)want, (double)ref[j]);
            return (long)j;
        }
    }
    msg[0] = '\0';
    return -1;
}

/* ---- pooling backward --------------------------------------------------- */

/* One pooling-backward case with fp16 storage: x and dy drawn (data as
 * tu_fill_data) and rounded to halves, the indices of the reference forward,
 * the reference gradient in F32 (PyTorch's float order) on the halves.
 * Max modes (with indices or, from_x, recomputing them from x) and, on CPU
 * devices, avg and adaptive avg: the device sums the same floats in the
 * same order, so dx is the reference rounded once, bit for bit. Lp (and
 * avg elsewhere) within test_pool2d_backward's F32 bound plus one half ulp.
 * Returns whether the reference had a nonzero element. */
static bool check_pool_case(const clconv_pool2d_params *p, const clconv_shape *in, int data,
                            bool from_x, const clconv_plan_options *opt, tu_rng *r,
                            const char *what)
{
    clconv_pool2d_params p32 = *p;
    p32.dtype = CLCONV_DTYPE_F32;
    clconv_shape os;
    ck_assert_int_eq(clconv_pool2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    const size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(os);
    const bool lp = p->mode == CLCONV_POOL_LP, maxm = is_max(p->mode);
    float *x = tu_alloc(nx), *dy = tu_alloc(ny), *ref = tu_alloc(nx);
    tu_fill_data(r, x, nx, data);
    if (lp) /* positive data: fractional powers, and a mean far from 0 */
        for (size_t j = 0; j < nx; j++)
            x[j] = fabsf(x[j]) + (data == 0 ? 0.0f : 0.125f);
    tu_fill_data(r, dy, ny, maxm || lp ? (data == 2 ? 1 : data) : data);
    tu_round_to_half(x, nx);
    tu_round_to_half(dy, ny);
    int64_t *idx = NULL;
    if (maxm) {
        idx = calloc(ny ? ny : 1, sizeof *idx);
        float *y = tu_alloc(ny);
        ck_assert_ptr_nonnull(idx);
        ck_assert_int_eq(clconv_ref_pool2d(&p32, in, x, y, idx), CLCONV_SUCCESS);
        free(y);
    }
    ck_assert_int_eq(clconv_ref_pool2d_backward(&p32, in, dy, idx, lp ? x : NULL, ref),
                     CLCONV_SUCCESS);
    float *got = tu_pool2d_backward_run(tu_ctx(), p, in, dy, from_x ? NULL : idx,
                                        lp || from_x ? x : NULL, opt, what);
    char msg[256];
    long bad;
    if (lp) {
        const double k = (double)(p->kernel_h * p->kernel_w);
        bad = tu_compare_f16(got, ref, NULL, nx, 1e-6, 64.0 * k * FLT_EPSILON, msg, sizeof msg);
    } else if (maxm || tu_device_is_cpu()) {
        bad = compare_rounded(got, ref, nx, false, msg, sizeof msg);
    } else {
        /* OpenCL lets a device round float division to 2.5 ulp: the F32
         * sweep's bound, scaled by the sum of |share|. */
        float *ady = tu_alloc(ny), *scale = tu_alloc(nx);
        for (size_t j = 0; j < ny; j++)
            ady[j] = fabsf(dy[j]);
        clconv_pool2d_params ap = p32;
        ap.divisor_override = ap.divisor_override < 0 ? -ap.divisor_override : ap.divisor_override;
        ck_assert_int_eq(clconv_ref_pool2d_backward(&ap, in, ady, NULL, NULL, scale),
                         CLCONV_SUCCESS);
        bad = tu_compare_f16(got, ref, scale, nx, 0, 8.0 * FLT_EPSILON, msg, sizeof msg);
        free(ady);
        free(scale);
    }
    if (bad >= 0)
        ck_abort_msg("%s%s: %s", what, from_x ? " (argmax from x)" : "", msg);
    bool nonzero = false;
    for (size_t j = 0; j < nx && !nonzero; j++)
        nonzero = ref[j] != 0.0f;
    free(x);
    free(dy);
    free(ref);
    free(idx);
    free(got);
    return nonzero;
}

/* Every mode, seeded: max (dilation, padding, ceil_mode; indices given or
 * recomputed from x), avg (count_include_pad, ceil_mode, divisor_override),
 * lp, adaptive avg / max; small integers, floats, floats with NaN / +-inf.
 * One program per mode: at most 5 new ones. */
START_TEST(pool_backward_sweep)
{
    const uint64_t seed = 20261208;
    tu_rng r = tu_rng_make(seed);
    static const clconv_pool_mode modes[] = {
        CLCONV_POOL_MAX, CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_AVG, CLCONV_POOL_AVG,
        CLCONV_POOL_LP, CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    clconv_cache_stats before, after;
    ck_assert_int_eq(clconv_context_cache_stats(tu_ctx(), &before), CLCONV_SUCCESS);
    const int cases = 200;
    int nonzero = 0, per_mode[6] = {0}, no_pad_count = 0, overridden = 0, from_x_cases = 0;
    for (int i = 0; i < cases; i++) {
        clconv_shape in;
        clconv_pool2d_params p =
            tu_pool2d_random(&r, modes, (int)(sizeof modes / sizeof modes[0]), false, &in);
        p.dtype = CLCONV_DTYPE_F16;
        clconv_plan_options opt = {0};
        if (tu_int(&r, 0, 9) == 0)
            opt.wg_w = 16;
        int data = tu_int(&r, 0, 5) == 0 ? 2 : tu_int(&r, 0, 1);
        if (p.mode == CLCONV_POOL_LP && data == 2)
            data = 1;
        const bool from_x = is_max(p.mode) && tu_int(&r, 0, 2) == 0;
        char layer[256], what[400];
        tu_pool2d_describe(&p, &in, layer, sizeof layer);
        snprintf(what, sizeof what, "pool sweep seed %llu case %d: %s data=%d",
                 (unsigned long long)seed, i, layer, data);
        nonzero += check_pool_case(&p, &in, data, from_x, &opt, &r, what);
        per_mode[p.mode]++;
        no_pad_count += p.mode == CLCONV_POOL_AVG && !p.count_include_pad;
        overridden += p.mode == CLCONV_POOL_AVG && p.divisor_override != 0;
        from_x_cases += from_x;
    }
    ck_assert_int_ge(nonzero, cases * 9 / 10); /* all-zero gradients compare nothing */
    for (int m = CLCONV_POOL_MAX; m <= CLCONV_POOL_ADAPTIVE_MAX; m++)
        ck_assert_msg(per_mode[m] >= 10, "mode %d: %d cases", m, per_mode[m]);
    ck_assert_int_gt(no_pad_count, 3);
    ck_assert_int_gt(overridden, 3);
    ck_assert_int_gt(from_x_cases, 5);
    ck_assert_int_eq(clconv_context_cache_stats(tu_ctx(), &after), CLCONV_SUCCESS);
    const uint64_t programs =
        after.compiled + after.disk_hits - before.compiled - before.disk_hits;
    ck_assert_msg(programs <= 5, "the sweep built %llu programs, expected <= 5 (one per mode)",
                  (unsigned long long)programs);
}
END_TEST

/* Max pooling's gradient is routed, not computed: with non-overlapping
 * windows each dy half lands unchanged on its window's argmax (subnormal,
 * 65504 and -0 included) and every other cell is +0, with indices and from
 * x alike. Three overlapping windows that share one argmax add their dy in
 * float and round once: 1 + 2^-11 + 2^-11 = 1 + 2^-10 (a half accumulator
 * ties each step back to 1); 40000 + 40000 - 32000 = 48000 (a half
 * accumulator overflows to inf at 80000); 40000 + 40000 + 1 is inf. */
START_TEST(max_routing_exact)
{
    const clconv_shape in = {2, 3, 6, 8};
    const size_t nx = clconv_shape_elements(in), ny = nx / 4;
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.dtype = CLCONV_DTYPE_F16;
    clconv_pool2d_params p32 = p;
    p32.dtype = CLCONV_DTYPE_F32;
    tu_rng r = tu_rng_make(77);
    float *x = tu_alloc(nx), *dy = tu_alloc(ny), *y = tu_alloc(ny);
    tu_fill(&r, x, nx, false);
    tu_fill(&r, dy, ny, false);
    dy[0] = 0x1p-24f;   /* the smallest subnormal half */
    dy[1] = 65504.0f;   /* the largest half */
    dy[2] = -0.0f;      /* the float sum starts at +0: +0 + -0 stores +0, as the F32 pass */
    dy[3] = -65504.0f;
    tu_round_to_half(x, nx);
    tu_round_to_half(dy, ny);
    int64_t idx[2 * 3 * 3 * 4];
    ck_assert_int_eq(clconv_ref_pool2d(&p32, &in, x, y, idx), CLCONV_SUCCESS);
    for (int pass = 0; pass < 2; pass++) {
        float *dx = tu_pool2d_backward_run(tu_ctx(), &p, &in, dy, pass ? NULL : idx,
                                           pass ? x : NULL, NULL, "max routing");
        for (size_t o = 0; o < ny; o++) {
            const size_t plane = o / 12;
            const size_t cell = plane * 48 + (size_t)idx[o];
            const float want = dy[o] == 0.0f ? 0.0f : dy[o];
            ck_assert_msg(memcmp(&dx[cell], &want, 4) == 0, "pass %d output %zu: dx %a, dy %a",
                          pass, o, (double)dx[cell], (double)dy[o]);
            dx[cell] = 0.0f;
        }
        for (size_t j = 0; j < nx; j++)
            ck_assert_msg(memcmp(&dx[j], &(float){0.0f}, 4) == 0, "pass %d cell %zu: %a", pass,
                          j, (double)dx[j]);
        free(dx);
    }
    free(x);
    free(dy);
    free(y);

    /* Three 1x3 windows of stride 1 over [0, 0, 5, 0, 0]: all pick cell 2. */
    const clconv_shape row = {1, 1, 1, 5};
    clconv_pool2d_params q = clconv_pool2d_default_params(CLCONV_POOL_MAX, 1, 3);
    q.stride_h = q.stride_w = 1;
    q.dtype = CLCONV_DTYPE_F16;
    const float xr[5] = {0, 0, 5, 0, 0};
    const int64_t ir[3] = {2, 2, 2};
    const float sums[3][3] = {{1.0f, 0x1p-11f, 0x1p-11f},
                              {40000.0f, 40000.0f, -32000.0f},
                              {40000.0f, 40000.0f, 1.0f}};
    const float want[3] = {1.0f + 0x1p-10f, 48000.0f, INFINITY};
    for (int s = 0; s < 3; s++) {
        float *dx = tu_pool2d_backward_run(tu_ctx(), &q, &row, sums[s], ir, NULL, NULL,
                                           "max overlapping windows");
        ck_assert_msg(dx[2] == want[s], "sum %d: dx %a, expected %a", s, (double)dx[2],
                      (double)want[s]);
        ck_assert(dx[0] == 0.0f && dx[1] == 0.0f && dx[3] == 0.0f && dx[4] == 0.0f);
        free(dx);
        /* recomputing the argmax from x routes the same way */
        dx = tu_pool2d_backward_run(tu_ctx(), &q, &row, sums[s], NULL, xr, NULL,
                                    "max overlapping windows from x");
        ck_assert_msg(dx[2] == want[s], "sum %d from x: dx %a", s, (double)dx[2]);
        free(dx);
    }
}
END_TEST

/* Avg: a cell covered by four 2x2 windows of stride 1 gets four dy / 4 in
 * float; lp and adaptive avg through the same store. The float sum of
 * 4 * (60000 / 4) stays 60000 (finite), and a divisor_override of 1 with
 * dy = 40000 everywhere sums 160000 in float: inf once stored. */
START_TEST(avg_overflow)
{
    const clconv_shape in = {1, 1, 3, 3};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    p.stride_h = p.stride_w = 1;
    p.dtype = CLCONV_DTYPE_F16;
    const float dy[4] = {60000.0f, 60000.0f, 60000.0f, 60000.0f};
    float *dx = tu_pool2d_backward_run(tu_ctx(), &p, &in, dy, NULL, NULL, NULL, "avg 60000");
    ck_assert_msg(dx[4] == 60000.0f, "centre %a", (double)dx[4]);
    ck_assert_msg(dx[0] == 15000.0f && dx[1] == 30000.0f, "%a %a", (double)dx[0], (double)dx[1]);
    free(dx);
    p.divisor_override = 1;
    const float big[4] = {40000.0f, 40000.0f, 40000.0f, 40000.0f};
    dx = tu_pool2d_backward_run(tu_ctx(), &p, &in, big, NULL, NULL, NULL, "avg divisor 1");
    ck_assert_msg(isinf(dx[4]) && dx[4] > 0, "centre %a", (double)dx[4]);
    ck_assert_msg(dx[0] == 40000.0f && isinf(dx[1]), "%a %a", (double)dx[0], (double)dx[1]);
    free(dx);
}
END_TEST

/* ---- conv2d backward-weights and backward-bias ------------------------- */

/* The sweep's geometries (kernel, stride, dilation): few, so that it builds
 * few programs (each geometry is a -D set of the weights kernel). */
static const int GEOS[][6] = {
    {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {2, 3, 1, 2, 2, 1}, {1, 1, 1, 1, 1, 1}, {5, 2, 2, 1, 1, 2},
};
#define N_GEOS ((int)(sizeof GEOS / sizeof GEOS[0]))

static clconv_conv2d_params random_conv(tu_rng *r, clconv_shape *in)
{
    for (;;) {
        int64_t groups = tu_int(r, 0, 3) == 0 ? tu_int(r, 2, 3) : 1;
        int64_t cin_g = tu_int(r, 1, 4), cout_g = tu_int(r, 1, 6);
        if (tu_int(r, 0, 6) == 0) { /* depthwise, channel multiplier 1 or 2 */
            groups = tu_int(r, 2, 6);
            cin_g = 1;
            cout_g = tu_int(r, 1, 2);
        }
        const int *g = GEOS[tu_int(r, 0, N_GEOS - 1)];
        clconv_conv2d_params p =
            clconv_conv2d_default_params(cin_g * groups, cout_g * groups, g[0], g[1]);
        p.stride_h = g[2];
        p.stride_w = g[3];
        p.dilation_h = g[4];
        p.dilation_w = g[5];
        p.groups = groups;
        p.pad_top = tu_int(r, 0, 2);
        p.pad_bottom = tu_int(r, 0, 2);
        p.pad_left = tu_int(r, 0, 2);
        p.pad_right = tu_int(r, 0, 2);
        p.dtype = CLCONV_DTYPE_F16;
        *in = (clconv_shape){tu_int(r, 1, 3), p.in_channels, tu_int(r, 1, 14), tu_int(r, 1, 17)};
        if (clconv_conv2d_validate(&p, in) == CLCONV_SUCCESS)
            return p;
    }
}

typedef enum { WEIGHTS, BIAS } pass_t;

/* One backward-weights or -bias case: x and dy drawn (small integers or
 * floats in [-1, 1]) and rounded to halves; the double reference on them.
 * Integers: every partial sum is exact in float, so the result is the
 * reference rounded once, bit for bit. Floats: within test_conv2d_backward's
 * F32 bound, 1e-7 + 4 sqrt(k + 1) eps * (the reference on |x|, |dy|), k the
 * reduction length n * oh * ow, plus one half ulp of the result. */
static void check_conv_case(pass_t pass, const clconv_conv2d_params *p, const clconv_shape *in,
                            bool integers, const clconv_plan_options *opt, tu_rng *r,
                            const char *what, clconv_plan_info *info)
{
    clconv_conv2d_params p32 = *p;
    p32.dtype = CLCONV_DTYPE_F32;
    clconv_shape os;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    const size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(os);
    const size_t nout = pass == WEIGHTS ? clconv_shape_elements(clconv_conv2d_weight_shape(p))
                                        : (size_t)p->out_channels;
    float *x = tu_alloc(nx), *dy = tu_alloc(ny), *ax = tu_alloc(nx), *ady = tu_alloc(ny);
    float *ref = tu_alloc(nout), *scale = tu_alloc(nout);
    tu_fill(r, x, nx, integers);
    tu_fill(r, dy, ny, integers);
    tu_round_to_half(x, nx);
    tu_round_to_half(dy, ny);
    for (size_t j = 0; j < nx; j++)
        ax[j] = fabsf(x[j]);
    for (size_t j = 0; j < ny; j++)
        ady[j] = fabsf(dy[j]);
    float *got;
    if (pass == WEIGHTS) {
        ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p32, in, x, dy, ref), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p32, in, ax, ady, scale),
                         CLCONV_SUCCESS);
        got = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_WEIGHTS, p, in, x, dy, opt, info, what);
    } else {
        ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p32, in, dy, ref), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p32, in, ady, scale), CLCONV_SUCCESS);
        got = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_BIAS, p, in, dy, NULL, opt, info, what);
    }
    const double k = (double)(ny / (size_t)os.c);
    char msg[256];
    /* Integer data: exact, but for the sign of an exactly-zero sum, which
     * rusticl's compiler gives as -0 where the reference's +0-started sum
     * is +0 (folding 0 + x into x); the gradient's value is the same. */
    const long bad = integers ? compare_rounded(got, ref, nout, true, msg, sizeof msg)
                              : tu_compare_f16(got, ref, scale, nout, 1e-7,
                                               4.0 * sqrt(k + 1) * FLT_EPSILON, msg, sizeof msg);
    if (bad >= 0)
        ck_abort_msg("%s%s: %s", what, integers ? " (integers)" : "", msg);
    free(x);
    free(dy);
    free(ax);
    free(ady);
    free(ref);
    free(scale);
    free(got);
}

static void describe_conv(const clconv_conv2d_params *p, const clconv_shape *in, char *buf,
                          size_t n)
{
    snprintf(buf, n,
             "in=%lldx%lldx%lldx%lld out_c=%lld k=%lldx%lld s=%lldx%lld pad=%lld,%lld,%lld,%lld "
             "d=%lldx%lld groups=%lld",
             (long long)in->n, (long long)in->c, (long long)in->h, (long long)in->w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups);
}

/* Seeded sweeps of backward-weights (block_oc pinned to 4, so the programs
 * are one per geometry and reduction kind: the split one writes float
 * partial sums, the other dw's halves) and backward-bias. */
START_TEST(conv_backward_sweep)
{
    const uint64_t seed = 20261209;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    ck_assert_int_eq(clconv_context_cache_stats(tu_ctx(), &before), CLCONV_SUCCESS);
    int split = 0, direct = 0;
    for (int i = 0; i < 100; i++) {
        clconv_shape in;
        clconv_conv2d_params p = random_conv(&r, &in);
        const pass_t pass = i % 4 == 3 ? BIAS : WEIGHTS;
        const bool integers = tu_int(&r, 0, 2) == 0;
        clconv_plan_options opt = {.block_oc = 4};
        char layer[256], what[400];
        describe_conv(&p, &in, layer, sizeof layer);
        snprintf(what, sizeof what, "%s sweep seed %llu case %d: %s",
                 pass == WEIGHTS ? "backward-weights" : "backward-bias", (unsigned long long)seed,
                 i, layer);
        clconv_plan_info info;
        check_conv_case(pass, &p, &in, integers, pass == WEIGHTS ? &opt : NULL, &r, what, &info);
        ck_assert_msg(strncmp(info.build_options, "-DCLCONV_F16 ", 13) == 0, "%s: options %s",
                      what, info.build_options);
        if (pass == WEIGHTS) {
            const bool has_split = strstr(info.build_options, "-DBW_SPLIT") != NULL;
            ck_assert_msg(has_split == (info.workspace_bytes > 0), "%s: %s, workspace %zu", what,
                          info.build_options, info.workspace_bytes);
            split += has_split;
            direct += !has_split;
        }
    }
    ck_assert_int_gt(split, 5);
    ck_assert_int_gt(direct, 5);
    ck_assert_int_eq(clconv_context_cache_stats(tu_ctx(), &after), CLCONV_SUCCESS);
    const uint64_t programs =
        after.compiled + after.disk_hits - before.compiled - before.disk_hits;
    ck_assert_msg(programs <= 2 * N_GEOS + 1, "the sweep built %llu programs",
                  (unsigned long long)programs);
}
END_TEST

/* Written out, 1x1 kernels so that each sum is visible: backward-bias of
 * dy = {40000, 40000, -32000} is 48000 (a half accumulator overflows at
 * 80000), of {40000, 40000} +inf, of {-40000, -40000} -inf; backward-
 * weights of x = 256 and dy = {200, 200, -200} is 51200 (products of 51200,
 * a half accumulator overflows), of x = dy = 256 (65536) +inf. */
START_TEST(conv_overflow)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 1);
    p.dtype = CLCONV_DTYPE_F16;
    const clconv_shape in3 = {1, 1, 1, 3}, in2 = {1, 1, 1, 2}, in1 = {1, 1, 1, 1};
    const float fin[3] = {40000.0f, 40000.0f, -32000.0f}, over[2] = {40000.0f, 40000.0f},
                under[2] = {-40000.0f, -40000.0f};
    float *db = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_BIAS, &p, &in3, fin, NULL, NULL,
                                       NULL, "bias 48000");
    ck_assert_msg(db[0] == 48000.0f, "%a", (double)db[0]);
    free(db);
    db = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_BIAS, &p, &in2, over, NULL, NULL, NULL,
                                "bias +inf");
    ck_assert_msg(isinf(db[0]) && db[0] > 0, "%a", (double)db[0]);
    free(db);
    db = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_BIAS, &p, &in2, under, NULL, NULL, NULL,
                                "bias -inf");
    ck_assert_msg(isinf(db[0]) && db[0] < 0, "%a", (double)db[0]);
    free(db);
    const float x[3] = {256.0f, 256.0f, 256.0f}, dy[3] = {200.0f, 200.0f, -200.0f};
    float *dw = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_WEIGHTS, &p, &in3, x, dy, NULL, NULL,
                                       "weights 51200");
    ck_assert_msg(dw[0] == 51200.0f, "%a", (double)dw[0]);
    free(dw);
    dw = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_WEIGHTS, &p, &in1, x, x, NULL, NULL,
                                "weights 65536");
    ck_assert_msg(isinf(dw[0]) && dw[0] > 0, "%a", (double)dw[0]);
    free(dw);
}
END_TEST

/* Odd element counts (27 dw halves, 3 db halves, 25 dx halves: byte counts
 * that are not multiples of 4) in guarded buffers whose bands the testers
 * check byte by byte, with the default options; backward-weights both with
 * one reduction chunk (the kernel stores dw's halves) and split (the float
 * workspace, reduced into dw); two runs give the same bytes. */
START_TEST(guard_bands_odd)
{
    tu_rng r = tu_rng_make(31);
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 3, 3, 3);
    p.pad_top = p.pad_left = 1;
    p.dtype = CLCONV_DTYPE_F16;
    const clconv_shape shapes[2] = {{1, 1, 5, 7}, {4, 1, 20, 20}};
    for (int s = 0; s < 2; s++) {
        clconv_plan_info info;
        char what[64];
        snprintf(what, sizeof what, "odd dw, shape %d", s);
        check_conv_case(WEIGHTS, &p, &shapes[s], false, NULL, &r, what, &info);
        ck_assert_uint_eq(clconv_shape_elements(info.output), 27);
        ck_assert_msg((info.workspace_bytes > 0) == (s == 1), "shape %d: workspace %zu", s,
                      info.workspace_bytes);
        check_conv_case(BIAS, &p, &shapes[s], false, NULL, &r, "odd db", &info);
        ck_assert_uint_eq(clconv_shape_elements(info.output), 3);
        /* determinism: the same halves on a second run */
        clconv_shape os;
        ck_assert_int_eq(clconv_conv2d_output_shape(&p, &shapes[s], &os), CLCONV_SUCCESS);
        const size_t nx = clconv_shape_elements(shapes[s]), ny = clconv_shape_elements(os);
        float *x = tu_alloc(nx), *dy = tu_alloc(ny);
        tu_fill(&r, x, nx, false);
        tu_fill(&r, dy, ny, false);
        tu_round_to_half(x, nx);
        tu_round_to_half(dy, ny);
        float *a = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_WEIGHTS, &p, &shapes[s], x, dy,
                                          NULL, NULL, "run 1");
        float *b = tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_WEIGHTS, &p, &shapes[s], x, dy,
                                          NULL, NULL, "run 2");
        ck_assert_msg(memcmp(a, b, 27 * sizeof(float)) == 0, "shape %d: two runs differ", s);
        free(a);
        free(b);
        free(x);
        free(dy);
    }
    /* pooling: 25 dx halves, every mode through the guarded tester */
    const clconv_shape in = {1, 1, 5, 5};
    const clconv_pool_mode modes[] = {CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_LP,
                                      CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        clconv_pool2d_params q = clconv_pool2d_default_params(modes[m], 3, 3);
        if (modes[m] == CLCONV_POOL_ADAPTIVE_AVG || modes[m] == CLCONV_POOL_ADAPTIVE_MAX)
            q.output_h = q.output_w = 3;
        else
            q.stride_h = q.stride_w = 2;
        q.dtype = CLCONV_DTYPE_F16;
        char what[64];
        snprintf(what, sizeof what, "odd dx, mode %d", (int)modes[m]);
        check_pool_case(&q, &in, 1, false, NULL, &r, what);
    }
}
END_TEST

/* Sizes count halves: the plans' byte counts, and a buffer one element
 * short fails with a message in bytes and halves. */
START_TEST(buffer_sizes_in_halves)
{
    cl_int err;
    cl_context cc = clconv_context_cl_context(tu_ctx());
    cl_mem small = clCreateBuffer(cc, CL_MEM_READ_WRITE, 4, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_mem big = clCreateBuffer(cc, CL_MEM_READ_WRITE, 4096, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    const char *e;

    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    p.dtype = CLCONV_DTYPE_F16;
    const clconv_shape in = {1, 2, 5, 5};
    clconv_plan *plan = NULL;
    ck_assert_int_eq(clconv_conv2d_backward_bias_plan_create(tu_ctx(), &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_backward_bias_run(plan, big, small, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    e = clconv_last_error(tu_ctx());
    ck_assert_msg(strstr(e, "db: 4 bytes, expected at least 6 bytes (3 halves)"), "%s", e);
    clconv_plan_destroy(plan);

    ck_assert_int_eq(clconv_conv2d_backward_weights_plan_create(tu_ctx(), &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    ck_assert(info.bytes == (double)((50 + 27 + 54) * 2)); /* x, dy, dw halves */
    ck_assert_int_eq(clconv_conv2d_backward_weights_run(plan, big, small, big, big, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    e = clconv_last_error(tu_ctx());
    ck_assert_msg(strstr(e, "dy: 4 bytes, expected at least 54 bytes (27 halves)"), "%s", e);
    clconv_plan_destroy(plan);

    clconv_pool2d_params q = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    q.dtype = CLCONV_DTYPE_F16;
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(tu_ctx(), &q, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    ck_assert(info.bytes == (double)((50 + 8) * 2));
    ck_assert_int_eq(clconv_pool2d_backward_run(plan, big, NULL, NULL, small, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    e = clconv_last_error(tu_ctx());
    ck_assert_msg(strstr(e, "dx: 4 bytes, expected at least 100 bytes (50 halves)"), "%s", e);
    clconv_plan_destroy(plan);
    /* the forward pooling run counts halves too */
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &q, &in, NULL, &plan), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_run(plan, big, small, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    e = clconv_last_error(tu_ctx());
    ck_assert_msg(strstr(e, "y: 4 bytes, expected at least 16 bytes (8 halves)"), "%s", e);
    clconv_plan_destroy(plan);
    clReleaseMemObject(small);
    clReleaseMemObject(big);
}
END_TEST

/* What stays refused: the *_host calls (float arrays) and, until the
 * transposed-convolution algorithms take fp16 storage, backward-data (a
 * conv_transpose2d plan): each a clean error naming f16, no plan. */
START_TEST(still_refused)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    p.dtype = CLCONV_DTYPE_F16;
    const clconv_shape in = {1, 2, 5, 5};
    float a[64] = {0}, b[64] = {0}, out[64];
    ck_assert_int_eq(clconv_conv2d_backward_weights_host(tu_ctx(), &p, &in, NULL, a, b, out),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "f16"), "%s", clconv_last_error(tu_ctx()));
    ck_assert_int_eq(clconv_conv2d_backward_bias_host(tu_ctx(), &p, &in, NULL, b, out),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "clconv_conv2d_backward_bias_host"), "%s",
                  clconv_last_error(tu_ctx()));
    clconv_plan *plan = (clconv_plan *)&p; /* not NULL: the call must clear it */
    const clconv_status st = clconv_conv2d_backward_data_plan_create(tu_ctx(), &p, &in, NULL,
                                                                     &plan);
    if (st == CLCONV_SUCCESS) { /* the transposed algorithms took fp16 storage */
        clconv_plan_destroy(plan);
    } else {
        ck_assert_int_eq(st, CLCONV_ERROR_UNSUPPORTED);
        ck_assert_ptr_null(plan);
        ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "f16"), "%s",
                      clconv_last_error(tu_ctx()));
    }
    clconv_pool2d_params q = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    q.dtype = CLCONV_DTYPE_F16;
    ck_assert_int_eq(clconv_pool2d_backward_host(tu_ctx(), &q, &in, NULL, b, NULL, a, out),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "clconv_pool2d_backward_host"), "%s",
                  clconv_last_error(tu_ctx()));
}
END_TEST

/* ---- activation plans ----------------------------------------------------- */

/* Runs an F16 activation plan on halves in guarded buffers: forward
 * (dy NULL) out = act(v), or backward out = (scale * dy) * act'(v). */
static float *activation_f16_run(clconv_plan *plan, const float *v, const float *dy, float scale,
                                 size_t n, const char *what)
{
    uint16_t *hv = calloc(n, 2), *hd = calloc(n, 2), *ho = calloc(n, 2);
    clconv_floats_to_halves(v, hv, n);
    if (dy)
        clconv_floats_to_halves(dy, hd, n);
    tu_guarded gv = tu_guarded_create(tu_ctx(), n * 2, hv), gd = tu_guarded_create(tu_ctx(), n * 2, hd);
    tu_guarded go = tu_guarded_create(tu_ctx(), n * 2, NULL);
    clconv_status st = dy ? clconv_activation_backward_scaled_run(plan, scale, gv.buf, gd.buf,
                                                                  go.buf, 0, NULL, NULL)
                          : clconv_activation_run(plan, gv.buf, go.buf, 0, NULL, NULL);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: %s", what, clconv_last_error(tu_ctx()));
    ck_assert_msg(tu_guarded_read(tu_ctx(), &gv, NULL) && tu_guarded_read(tu_ctx(), &gd, NULL) &&
                      tu_guarded_read(tu_ctx(), &go, ho),
                  "%s: a guard band was overwritten", what);
    float *out = tu_alloc(n);
    clconv_halves_to_floats(ho, out, n);
    tu_guarded_release(&gv);
    tu_guarded_release(&gd);
    tu_guarded_release(&go);
    free(hv);
    free(hd);
    free(ho);
    return out;
}

/* Every activation's elementwise plan with fp16 tensors (the gradient of an
 * F16 convolution's fused activation): forward and the scaled backward on
 * 37 halves (four vectors and a tail) against the reference on the widened
 * halves, within the F32 bound plus one half ulp; the buffer-size message
 * counts halves. */
START_TEST(activation_plans_f16)
{
    tu_rng r = tu_rng_make(1307);
    const size_t n = 37;
    const clconv_shape shape = {1, 1, 1, (int64_t)n};
    float *v = tu_alloc(n), *dy = tu_alloc(n), *sdy = tu_alloc(n), *ref = tu_alloc(n);
    for (int a = CLCONV_ACTIVATION_NONE; a <= CLCONV_ACTIVATION_MISH; a++) {
        float params[2] = {0.0f, 0.0f};
        if (a == CLCONV_ACTIVATION_HARDTANH) {
            params[0] = -1.0f;
            params[1] = 1.5f;
        } else if (a == CLCONV_ACTIVATION_LEAKY_RELU) {
            params[0] = 0.125f;
        } else if (a == CLCONV_ACTIVATION_ELU) {
            params[0] = 1.0f;
        }
        for (size_t i = 0; i < n; i++) {
            v[i] = (float)(tu_int(&r, -4000, 4000) / 1000.0);
            dy[i] = (float)(tu_int(&r, -2000, 2000) / 1000.0);
        }
        tu_round_to_half(v, n);
        tu_round_to_half(dy, n);
        const float scale = 0.5f; /* exact on halves: scale * dy is what the kernel sees */
        for (size_t i = 0; i < n; i++)
            sdy[i] = scale * dy[i];
        char what[96], msg[256];
        snprintf(what, sizeof what, "%s f16", clconv_activation_name((clconv_activation)a));
        clconv_plan *plan = NULL;
        ck_assert_int_eq(clconv_activation_plan_create_dtype(tu_ctx(), (clconv_activation)a,
                                                             params, &shape, CLCONV_DTYPE_F16,
                                                             &plan),
                         CLCONV_SUCCESS);
        clconv_plan_info info;
        ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
        ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16") != NULL, "%s",
                      info.build_options);
        float *y = activation_f16_run(plan, v, NULL, 0.0f, n, what);
        ck_assert_int_eq(clconv_ref_activation((clconv_activation)a, params, n, v, ref),
                         CLCONV_SUCCESS);
        ck_assert_msg(tu_compare_f16(y, ref, NULL, n, 1e-6, 64.0 * FLT_EPSILON, msg, sizeof msg) <
                          0,
                      "%s forward: %s", what, msg);
        free(y);
        /* the gradient from whichever tensor it is defined on: v stands for it */
        float *dx = activation_f16_run(plan, v, dy, scale, n, what);
        ck_assert_int_eq(clconv_ref_activation_backward((clconv_activation)a, params, n, v, sdy,
                                                        ref),
                         CLCONV_SUCCESS);
        ck_assert_msg(tu_compare_f16(dx, ref, NULL, n, 1e-6, 64.0 * FLT_EPSILON, msg, sizeof msg) <
                          0,
                      "%s backward: %s", what, msg);
        free(dx);
        if (a == CLCONV_ACTIVATION_RELU) { /* a buffer of 36 halves is one short */
            cl_mem small = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE,
                                          (n - 1) * 2, NULL, NULL);
            ck_assert_ptr_nonnull(small);
            ck_assert_int_eq(clconv_activation_run(plan, small, small, 0, NULL, NULL),
                             CLCONV_ERROR_BUFFER_TOO_SMALL);
            ck_assert_msg(strstr(clconv_last_error(tu_ctx()), "(37 halves)") != NULL, "%s",
                          clconv_last_error(tu_ctx()));
            clReleaseMemObject(small);
        }
        clconv_plan_destroy(plan);
    }
    /* a dtype outside the enum */
    clconv_plan *plan = NULL;
    ck_assert_int_eq(clconv_activation_plan_create_dtype(tu_ctx(), CLCONV_ACTIVATION_RELU, NULL,
                                                         &shape, (clconv_dtype)7, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_null(plan);
    free(v);
    free(dy);
    free(sdy);
    free(ref);
}
END_TEST

static Suite *f16_backward_suite(void)
{
    Suite *s = suite_create("f16_backward");
    TCase *tc = tcase_create("backward");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, pool_backward_sweep);
    tcase_add_test(tc, max_routing_exact);
    tcase_add_test(tc, avg_overflow);
    tcase_add_test(tc, conv_backward_sweep);
    tcase_add_test(tc, conv_overflow);
    tcase_add_test(tc, guard_bands_odd);
    tcase_add_test(tc, buffer_sizes_in_halves);
    tcase_add_test(tc, still_refused);
    tcase_add_test(tc, activation_plans_f16);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(f16_backward_suite());
}
