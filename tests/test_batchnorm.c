/* Batch-norm folding (clconv_conv2d_fold_batchnorm,
 * clconv_conv_transpose2d_fold_batchnorm): the folded convolution against the
 * convolution followed by BatchNorm2d (eval) evaluated in double, on the CPU
 * reference and on the device, for plain, grouped, depthwise and transposed
 * layers, with and without a bias and affine parameters, in place; bad input. */
#include "conv_tester.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bn {
    float *gamma, *beta, *mean, *var;
} bn;

static bn bn_make(tu_rng *r, int64_t oc)
{
    bn s = {tu_alloc((size_t)oc), tu_alloc((size_t)oc), tu_alloc((size_t)oc),
            tu_alloc((size_t)oc)};
    tu_fill(r, s.gamma, (size_t)oc, false);
    tu_fill(r, s.beta, (size_t)oc, false);
    tu_fill(r, s.mean, (size_t)oc, false);
    tu_fill(r, s.var, (size_t)oc, false);
    for (int64_t c = 0; c < oc; c++) {
        s.var[c] = 0.05f + fabsf(s.var[c]) * 3.0f; /* running variances: positive */
        s.gamma[c] *= 2.0f;
    }
    return s;
}

static void bn_free(bn *s)
{
    free(s->gamma);
    free(s->beta);
    free(s->mean);
    free(s->var);
}

/* y = BN(conv) in double from the float conv output y0 (its scale s0: sum
 * |x w| + |b|), against got: |got - want| <= 1e-5 of the terms' size. */
static void expect_bn(const float *got, const float *y0, const float *s0, const bn *s,
                      bool affine, double eps, int64_t oc, int64_t plane, size_t n,
                      const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const int64_t c = (int64_t)(i / (size_t)plane) % oc;
        const double g = affine ? s->gamma[c] : 1.0, be = affine ? s->beta[c] : 0.0;
        const double k = g / sqrt((double)s->var[c] + eps);
        const double want = ((double)y0[i] - s->mean[c]) * k + be;
        const double size = fabs(k) * ((double)s0[i] + fabs((double)s->mean[c])) + fabs(be);
        ck_assert_msg(fabs((double)got[i] - want) <= 1e-5 * size + 1e-30,
                      "%s: y[%zu] = %.9g, conv then batch norm %.9g", what, i, (double)got[i],
                      want);
    }
}

START_TEST(conv2d_folded)
{
    tu_rng r = tu_rng_make(2024);
    const struct {
        int64_t cin, cout, k, groups, stride;
        bool bias, affine, in_place;
    } cases[] = {
        {3, 8, 3, 1, 1, true, true, false},  {4, 6, 1, 2, 1, false, true, false},
        {5, 5, 3, 5, 2, true, false, false}, {6, 4, 5, 1, 1, true, true, true},
        {8, 8, 3, 8, 1, false, false, true},
    };
    const double eps = 1e-5;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        clconv_conv2d_params p = clconv_conv2d_default_params(cases[t].cin, cases[t].cout,
                                                              cases[t].k, cases[t].k);
        p.groups = cases[t].groups;
        p.stride_h = p.stride_w = cases[t].stride;
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = cases[t].k / 2;
        p.has_bias = cases[t].bias;
        clconv_shape in = {2, p.in_channels, 9, 11}, out;
        ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
        const size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
        const size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(&p));
        const int64_t oc = p.out_channels;
        float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)oc);
        tu_fill(&r, x, nx, false);
        tu_fill(&r, w, nw, false);
        tu_fill(&r, b, (size_t)oc, false);
        bn s = bn_make(&r, oc);
        float *y0 = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, p.has_bias ? b : NULL, y0),
                         CLCONV_SUCCESS);
        float *s0 = tu_conv2d_abs_scale(&p, &in, x, w, p.has_bias ? b : NULL);
        float *wf = cases[t].in_place ? w : tu_alloc(nw);
        float *bf = cases[t].in_place ? b : tu_alloc((size_t)oc);
        const bool affine = cases[t].affine;
        ck_assert_int_eq(clconv_conv2d_fold_batchnorm(&p, w, p.has_bias ? b : NULL,
                                                      affine ? s.gamma : NULL,
                                                      affine ? s.beta : NULL, s.mean, s.var, eps,
                                                      wf, bf),
                         CLCONV_SUCCESS);
        clconv_conv2d_params f = p;
        f.has_bias = 1; /* the folded layer always has one */
        char what[96];
        snprintf(what, sizeof what, "case %zu reference", t);
        float *yr = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_conv2d(&f, &in, x, wf, bf, yr), CLCONV_SUCCESS);
        expect_bn(yr, y0, s0, &s, affine, eps, oc, out.h * out.w, ny, what);
        snprintf(what, sizeof what, "case %zu device", t);
        float *yd = tu_conv2d_run(tu_ctx(), &f, &in, x, wf, bf, NULL, NULL, what);
        expect_bn(yd, y0, s0, &s, affine, eps, oc, out.h * out.w, ny, what);
        free(yd);
        free(yr);
        if (!cases[t].in_place) {
            free(wf);
            free(bf);
        }
        free(x);
        free(w);
        free(b);
        free(y0);
        free(s0);
        bn_free(&s);
    }
}
END_TEST

START_TEST(conv_transpose2d_folded)
{
    tu_rng r = tu_rng_make(2025);
    const int64_t groups_list[] = {1, 2, 3};
    const double eps = 1e-3;
    for (size_t t = 0; t < 3; t++) {
        const int64_t groups = groups_list[t];
        clconv_conv_transpose2d_params p =
            clconv_conv_transpose2d_default_params(2 * groups, 3 * groups, 3, 3);
        p.groups = groups;
        p.stride_h = p.stride_w = 2;
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
        p.has_bias = t != 1;
        clconv_shape in = {2, p.in_channels, 5, 4}, out;
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
        const size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
        const size_t nw = clconv_shape_elements(clconv_conv_transpose2d_weight_shape(&p));
        const int64_t oc = p.out_channels;
        float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)oc);
        tu_fill(&r, x, nx, false);
        tu_fill(&r, w, nw, false);
        tu_fill(&r, b, (size_t)oc, false);
        bn s = bn_make(&r, oc);
        float *y0 = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w, p.has_bias ? b : NULL, y0),
                         CLCONV_SUCCESS);
        float *s0 = tu_conv_transpose2d_abs_scale(&p, &in, x, w, p.has_bias ? b : NULL);
        float *wf = tu_alloc(nw), *bf = tu_alloc((size_t)oc);
        ck_assert_int_eq(clconv_conv_transpose2d_fold_batchnorm(&p, w, p.has_bias ? b : NULL,
                                                                s.gamma, s.beta, s.mean, s.var,
                                                                eps, wf, bf),
                         CLCONV_SUCCESS);
        clconv_conv_transpose2d_params f = p;
        f.has_bias = 1;
        char what[96];
        snprintf(what, sizeof what, "groups %lld reference", (long long)groups);
        float *yr = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&f, &in, x, wf, bf, yr), CLCONV_SUCCESS);
        expect_bn(yr, y0, s0, &s, true, eps, oc, out.h * out.w, ny, what);
        snprintf(what, sizeof what, "groups %lld device", (long long)groups);
        float *yd = tu_conv_transpose2d_run(tu_ctx(), &f, &in, x, wf, bf, NULL, NULL, what);
        expect_bn(yd, y0, s0, &s, true, eps, oc, out.h * out.w, ny, what);
        free(yd);
        free(yr);
        free(wf);
        free(bf);
        free(x);
        free(w);
        free(b);
        free(y0);
        free(s0);
        bn_free(&s);
    }
}
END_TEST

/* A planted error is caught: a wrong eps moves the result past the bound. */
START_TEST(comparison_catches_errors)
{
    const float y0[1] = {1.0f}, s0[1] = {1.0f};
    float gamma[1] = {1}, beta[1] = {0}, mean[1] = {0}, var[1] = {1e-3f};
    bn s = {gamma, beta, mean, var};
    const float got[1] = {(float)(1.0 / sqrt(1e-3 + 1e-5))};
    expect_bn(got, y0, s0, &s, true, 1e-5, 1, 1, 1, "right eps");
    const float off[1] = {(float)(1.0 / sqrt(1e-3 + 2e-5))};
    bool caught = fabs((double)off[0] - (double)got[0]) > 1e-5 * fabs((double)got[0]);
    ck_assert_msg(caught, "an eps off by 1e-5 must move the result past the bound");
}
END_TEST

START_TEST(bad_input)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 2, 1, 1);
    float w[4] = {1, 2, 3, 4}, b[2] = {0, 0}, g[2] = {1, 1}, be[2] = {0, 0}, m[2] = {0, 0};
    float v[2] = {1, -1}, wo[4], bo[2];
    const struct {
        clconv_status st;
        const char *needle;
        const float *w, *mean, *var;
        double eps;
        float *wo, *bo;
    } rows[] = {
        {CLCONV_ERROR_INVALID_VALUE, "var[1] + eps", w, m, v, 1e-5, wo, bo},
        {CLCONV_ERROR_INVALID_VALUE, "w: NULL", NULL, m, v, 1e-5, wo, bo},
        {CLCONV_ERROR_INVALID_VALUE, "mean: NULL", w, NULL, v, 1e-5, wo, bo},
        {CLCONV_ERROR_INVALID_VALUE, "var: NULL", w, m, NULL, 1e-5, wo, bo},
        {CLCONV_ERROR_INVALID_VALUE, "w_out: NULL", w, m, v, 1e-5, NULL, bo},
        {CLCONV_ERROR_INVALID_VALUE, "b_out: NULL", w, m, v, 1e-5, wo, NULL},
        {CLCONV_ERROR_INVALID_VALUE, "eps = -1", w, m, v, -1.0, wo, bo},
        {CLCONV_ERROR_INVALID_VALUE, "eps = nan", w, m, v, NAN, wo, bo},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        clconv_status st = clconv_conv2d_fold_batchnorm(&p, rows[i].w, b, g, be, rows[i].mean,
                                                        rows[i].var, rows[i].eps, rows[i].wo,
                                                        rows[i].bo);
        ck_assert_msg(st == rows[i].st && strstr(clconv_last_error(NULL), rows[i].needle),
                      "row %zu: %s '%s', expected '%s'", i, clconv_status_string(st),
                      clconv_last_error(NULL), rows[i].needle);
    }
    ck_assert_int_eq(clconv_conv2d_fold_batchnorm(NULL, w, b, g, be, m, v, 1e-5, wo, bo),
                     CLCONV_ERROR_INVALID_VALUE);
    p.groups = 3; /* bad params are refused as by clconv_conv2d_validate */
    ck_assert_int_eq(clconv_conv2d_fold_batchnorm(&p, w, b, g, be, m, v, 1e-5, wo, bo),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_conv_transpose2d_params q = clconv_conv_transpose2d_default_params(2, 2, 1, 1);
    v[1] = 1;
    ck_assert_int_eq(clconv_conv_transpose2d_fold_batchnorm(&q, w, NULL, NULL, NULL, m, v, 0.0,
                                                            wo, bo),
                     CLCONV_SUCCESS);
    ck_assert(wo[0] == 1 && wo[3] == 4 && bo[0] == 0);
    ck_assert_int_eq(clconv_conv_transpose2d_fold_batchnorm(&q, w, NULL, NULL, NULL, m, NULL,
                                                            0.0, wo, bo),
                     CLCONV_ERROR_INVALID_VALUE);
}
END_TEST

static Suite *batchnorm_suite(void)
{
    Suite *s = suite_create("batchnorm");
    TCase *tc = tcase_create("fold");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, conv2d_folded);
    tcase_add_test(tc, conv_transpose2d_folded);
    tcase_add_test(tc, comparison_catches_errors);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(batchnorm_suite());
}
