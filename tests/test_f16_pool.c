/* Pooling's forward pass with fp16 storage (clconv_dtype F16): a seeded
 * sweep over every mode against the reference run on the widened halves
 * (max values and indices exact, averages and lp within the F32 sweep's
 * bound plus one half ulp), NaN / +-inf / ties in windows, sums that only
 * fp32 accumulation keeps finite, the programs' build options, and the
 * backward host call's refusal. */
#include "pool_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_indices(clconv_pool_mode m)
{
    return m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
}

static size_t out_elems(const clconv_pool2d_params *p, const clconv_shape *in)
{
    clconv_shape os;
    ck_assert_int_eq(clconv_pool2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    return clconv_shape_elements(os);
}

/* The reference on x (halves widened): F32 params, the same layer. */
static void reference(const clconv_pool2d_params *p, const clconv_shape *in, const float *x,
                      float *ref, int64_t *ref_idx)
{
    clconv_pool2d_params rp = *p;
    rp.dtype = CLCONV_DTYPE_F32;
    ck_assert_int_eq(clconv_ref_pool2d(&rp, in, x, ref, ref_idx), CLCONV_SUCCESS);
}

/* Runs p (dtype F16) on x through opt and checks it against the reference:
 * max modes bit for bit (NaN meeting NaN), indices equal; the others within
 * the F32 sweep's bound (test_pool2d) plus one half ulp of the result
 * (tu_compare_f16). Returns whether any reference output is nonzero. */
static bool check_f16(const clconv_pool2d_params *p, const clconv_shape *in, const float *x,
                      const clconv_plan_options *opt, const char *what)
{
    const size_t nx = clconv_shape_elements(*in), ny = out_elems(p, in);
    const bool maxm = has_indices(p->mode);
    float *ref = tu_alloc(ny);
    int64_t *ref_idx = maxm ? calloc(ny ? ny : 1, sizeof(int64_t)) : NULL;
    reference(p, in, x, ref, ref_idx);
    int64_t *idx = NULL;
    clconv_plan_info info;
    float *y = tu_pool2d_run(tu_ctx(), p, in, x, opt, maxm ? &idx : NULL, &info, what);
    ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16") != NULL, "%s: options %s", what,
                  info.build_options);
    /* the F32 plan's kernel: F16 takes the same choice (the vector kernels
     * on CPU devices, the scalar ones elsewhere) */
    {
        clconv_pool2d_params p32 = *p;
        p32.dtype = CLCONV_DTYPE_F32;
        clconv_plan *plan32 = NULL;
        clconv_plan_info i32;
        ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &p32, in, opt, &plan32),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_plan_get_info(plan32, &i32), CLCONV_SUCCESS);
        ck_assert_msg(strcmp(info.kernel_name, i32.kernel_name) == 0,
                      "%s: kernel %s, the F32 plan's is %s", what, info.kernel_name,
                      i32.kernel_name);
        clconv_plan_destroy(plan32);
    }
    char msg[256];
    long bad;
    if (maxm) {
        bad = tu_compare(y, ref, NULL, ny, 0, 0, msg, sizeof msg);
        for (size_t j = 0; j < ny && bad < 0; j++)
            if (idx[j] != ref_idx[j]) {
                snprintf(msg, sizeof msg, "index %zu = %lld, expected %lld", j,
                         (long long)idx[j], (long long)ref_idx[j]);
                bad = (long)j;
            }
        if (bad < 0) { /* without indices: the same values */
            float *y2 = tu_pool2d_run(tu_ctx(), p, in, x, opt, NULL, NULL, what);
            bad = tu_compare(y2, ref, NULL, ny, 0, 0, msg, sizeof msg);
            free(y2);
        }
    } else {
        /* The bound's scale: the same pooling of |x|. */
        float *ax = tu_alloc(nx), *scale = tu_alloc(ny);
        for (size_t j = 0; j < nx; j++)
            ax[j] = fabsf(x[j]);
        clconv_pool2d_params ap = *p;
        ap.divisor_override = p->divisor_override < 0 ? -p->divisor_override : p->divisor_override;
        reference(&ap, in, ax, scale, NULL);
        double k = (double)(p->kernel_h * p->kernel_w);
        if (p->mode == CLCONV_POOL_ADAPTIVE_AVG)
            k = (double)((in->h / p->output_h + 2) * (in->w / p->output_w + 2));
        double rtol = 4.0 * sqrt(k) * FLT_EPSILON, atol = 1e-7;
        if (p->mode == CLCONV_POOL_LP) {
            rtol = 16.0 * k * FLT_EPSILON;
            atol = 1e-6;
        }
        bad = tu_compare_f16(y, ref, p->mode == CLCONV_POOL_LP ? NULL : scale, ny, atol, rtol,
                             msg, sizeof msg);
        free(ax);
        free(scale);
    }
    if (bad >= 0)
        ck_abort_msg("%s: %s (%s %s)", what, msg, info.kernel_name, info.build_options);
    bool nonzero = false;
    for (size_t j = 0; j < ny && !nonzero; j++)
        nonzero = ref[j] != 0.0f;
    free(ref);
    free(ref_idx);
    free(idx);
    free(y);
    return nonzero;
}

/* Every mode, seeded: max (dilation, padding, ceil_mode; with and without
 * indices), avg (count_include_pad, ceil_mode, divisor_override), lp,
 * adaptive avg / max, global windows; small integers, floats, and floats
 * with NaN / +-inf sprinkled; default blocking and block_w = 3. */
START_TEST(pool_sweep)
{
    const uint64_t seed = 20261207;
    tu_rng r = tu_rng_make(seed);
    static const clconv_pool_mode modes[] = {
        CLCONV_POOL_MAX, CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_AVG, CLCONV_POOL_LP,
        CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    const int cases = 240;
    int nonzero = 0, per_mode[6] = {0};
    for (int i = 0; i < cases; i++) {
        clconv_shape in;
        clconv_pool2d_params p =
            tu_pool2d_random(&r, modes, (int)(sizeof modes / sizeof modes[0]), true, &in);
        p.dtype = CLCONV_DTYPE_F16;
        clconv_plan_options opt = {0};
        if (tu_int(&r, 0, 3) == 0)
            opt.block_w = 3;
        /* A global window now and then (resnet's global average pool). */
        if (p.mode == CLCONV_POOL_AVG && tu_int(&r, 0, 5) == 0) {
            p = clconv_pool2d_default_params(CLCONV_POOL_AVG, in.h, in.w);
            p.dtype = CLCONV_DTYPE_F16;
        }
        const int data = tu_int(&r, 0, 4) == 0 ? 2 : tu_int(&r, 0, 1);
        const size_t nx = clconv_shape_elements(in);
        float *x = tu_alloc(nx);
        tu_fill_data(&r, x, nx, data);
        if (p.mode == CLCONV_POOL_LP && p.norm_type != floor(p.norm_type))
            for (size_t j = 0; j < nx; j++)
                x[j] = fabsf(x[j]); /* pow of a negative base: NaN everywhere */
        tu_round_to_half(x, nx);
        char layer[256], what[400];
        tu_pool2d_describe(&p, &in, layer, sizeof layer);
        snprintf(what, sizeof what, "seed %llu case %d: %s block_w=%d data=%d",
                 (unsigned long long)seed, i, layer, opt.block_w, data);
        nonzero += check_f16(&p, &in, x, &opt, what);
        per_mode[p.mode]++;
        free(x);
    }
    ck_assert_int_ge(nonzero, cases * 9 / 10);
    for (int m = CLCONV_POOL_MAX; m <= CLCONV_POOL_ADAPTIVE_MAX; m++)
        ck_assert_msg(per_mode[m] >= 10, "mode %d drew %d cases", m, per_mode[m]);
}
END_TEST

/* NaN, +-inf and ties in windows, written out: PyTorch's rules (the last NaN
 * wins, ties keep the first maximum, an all -inf window gives -inf at its
 * first tap), NaN / inf through the averages; and sums past 65504, which
 * fp32 accumulation keeps finite (an average of halves is at most their
 * largest). */
START_TEST(specials)
{
    const clconv_shape in = {1, 2, 4, 6};
    const float nan = NAN, inf = INFINITY;
    const float x[48] = {
        /* plane 0 */
        1, nan, 2, 2, -inf, -inf,
        nan, 3, 2, 1, -inf, -inf,
        inf, 0.5f, -1, -2, 7, 7,
        4, -inf, -3, -1, 7, 6,
        /* plane 1: the largest halves */
        65504, 65504, 65504, 65504, -65504, -65504,
        65504, 65504, 65504, 65504, -65504, -65504,
        0.25f, 0.125f, 6.1035156e-05f, 5.9604645e-08f, 1, 2,
        -0.25f, 0.375f, 3, 4, 5, 6};
    const clconv_pool_mode modes[] = {CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_LP,
                                      CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    int nans = 0, infs = 0;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        for (int ks = 2; ks <= 3; ks++) {
            clconv_pool2d_params p = clconv_pool2d_default_params(modes[m], ks, ks);
            p.dtype = CLCONV_DTYPE_F16;
            if (modes[m] == CLCONV_POOL_ADAPTIVE_AVG || modes[m] == CLCONV_POOL_ADAPTIVE_MAX) {
                p.output_h = ks;
                p.output_w = ks + 1;
            }
            if (modes[m] == CLCONV_POOL_LP)
                p.norm_type = 1.0; /* sums: 65504 * 4 stays finite in fp32 */
            char layer[256], what[300];
            tu_pool2d_describe(&p, &in, layer, sizeof layer);
            snprintf(what, sizeof what, "specials: %s", layer);
            check_f16(&p, &in, x, NULL, what);
            const size_t ny = out_elems(&p, &in);
            float *ref = tu_alloc(ny);
            reference(&p, &in, x, ref, NULL);
            for (size_t j = 0; j < ny; j++) {
                nans += isnan(ref[j]) ? 1 : 0;
                infs += isinf(ref[j]) ? 1 : 0;
            }
            free(ref);
        }
    /* the comparisons above met NaN and inf */
    ck_assert_int_gt(nans, 5);
    ck_assert_int_gt(infs, 5);

    /* Written out: max 2x2 over plane 0 and plane 1. */
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.dtype = CLCONV_DTYPE_F16;
    int64_t *idx = NULL;
    float *y = tu_pool2d_run(tu_ctx(), &p, &in, x, NULL, &idx, NULL, "specials max 2x2");
    ck_assert(isnan(y[0]));
    ck_assert_int_eq(idx[0], 6); /* the last NaN of the window (row-major) */
    ck_assert(y[1] == 2.0f);
    ck_assert_int_eq(idx[1], 2); /* ties keep the first */
    ck_assert(y[2] == -inf);
    ck_assert_int_eq(idx[2], 4); /* all -inf: the first tap */
    ck_assert(y[3] == inf);
    ck_assert_int_eq(idx[3], 12);
    ck_assert(y[5] == 7.0f);
    ck_assert_int_eq(idx[5], 16);
    ck_assert(y[6] == 65504.0f && y[8] == -65504.0f);
    free(y);
    free(idx);
    /* avg 2x2 of four 65504: 65504 (a half sum would overflow to inf) */
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    p.dtype = CLCONV_DTYPE_F16;
    y = tu_pool2d_run(tu_ctx(), &p, &in, x, NULL, NULL, NULL, "specials avg 2x2");
    ck_assert(isnan(y[0]));
    ck_assert(y[6] == 65504.0f && y[7] == 65504.0f && y[8] == -65504.0f);
    free(y);
}
END_TEST

/* F16 and F32 plans of one layer build different programs (the dtype option
 * is in the build options, hence the cache key), and the F16 plan's sizes
 * count halves; the F32 plan still takes the CPU vector kernels where it
 * did. */
START_TEST(options_and_sizes)
{
    const clconv_shape in = {2, 3, 16, 16};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 2;
    clconv_plan *p32 = NULL, *p16 = NULL;
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &p, &in, NULL, &p32), CLCONV_SUCCESS);
    p.dtype = CLCONV_DTYPE_F16;
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &p, &in, NULL, &p16), CLCONV_SUCCESS);
    clconv_plan_info i32, i16;
    ck_assert_int_eq(clconv_plan_get_info(p32, &i32), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_plan_get_info(p16, &i16), CLCONV_SUCCESS);
    ck_assert_msg(strstr(i32.build_options, "CLCONV_F16") == NULL, "%s", i32.build_options);
    ck_assert_msg(strstr(i16.build_options, "-DCLCONV_F16") != NULL, "%s", i16.build_options);
    ck_assert_str_ne(i32.build_options, i16.build_options);
    ck_assert_str_eq(i16.kernel_name, i32.kernel_name);
    if (tu_device_is_cpu())
        ck_assert_str_eq(i16.kernel_name, "pool2d_window_vec");
    const size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(i16.output);
    ck_assert(i16.bytes == (double)((nx + ny) * 2));
    ck_assert(i32.bytes == (double)((nx + ny) * 4));
    /* a y of ny halves is enough; one byte less is not */
    cl_int err;
    cl_context cc = clconv_context_cl_context(tu_ctx());
    cl_mem bx = clCreateBuffer(cc, CL_MEM_READ_WRITE, nx * 2, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_mem by = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 2, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_mem bs = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 2 - 1, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_event done = NULL;
    ck_assert_int_eq(clconv_pool2d_run(p16, bx, by, NULL, 0, NULL, &done), CLCONV_SUCCESS);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_int_ne(clconv_pool2d_run(p16, bx, bs, NULL, 0, NULL, NULL), CLCONV_SUCCESS);
    clReleaseMemObject(bx);
    clReleaseMemObject(by);
    clReleaseMemObject(bs);
    clconv_plan_destroy(p32);
    clconv_plan_destroy(p16);
}
END_TEST

/* The backward pass takes fp16 storage too (tests/test_f16_backward.c sweeps
 * it); its host-array call takes floats only: refused, saying so. */
START_TEST(backward_host_refuses_f16)
{
    const clconv_shape in = {1, 2, 8, 8};
    const clconv_pool_mode modes[] = {CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_LP,
                                      CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    float x[128] = {0}, dy[128] = {0}, dx[128];
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        clconv_pool2d_params p = clconv_pool2d_default_params(modes[m], 2, 2);
        if (modes[m] == CLCONV_POOL_ADAPTIVE_AVG || modes[m] == CLCONV_POOL_ADAPTIVE_MAX)
            p.output_h = p.output_w = 3;
        p.dtype = CLCONV_DTYPE_F16;
        ck_assert_int_eq(clconv_pool2d_backward_host(tu_ctx(), &p, &in, NULL, dy, NULL, x, dx),
                         CLCONV_ERROR_INVALID_VALUE);
        const char *e = clconv_last_error(tu_ctx());
        ck_assert_msg(strstr(e, "f16") && strstr(e, "clconv_pool2d_backward_host"), "%s", e);
        /* the plan takes it */
        clconv_plan *plan = NULL;
        ck_assert_int_eq(clconv_pool2d_backward_plan_create(tu_ctx(), &p, &in, NULL, &plan),
                         CLCONV_SUCCESS);
        clconv_plan_destroy(plan);
    }
}
END_TEST

static Suite *f16_pool_suite(void)
{
    Suite *s = suite_create("f16_pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, pool_sweep);
    tcase_add_test(tc, specials);
    tcase_add_test(tc, options_and_sizes);
    tcase_add_test(tc, backward_host_refuses_f16);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(f16_pool_suite());
}
