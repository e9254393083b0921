/* A small, quick pass over the host code for memory checkers
 * (scripts/valgrind.sh runs it under valgrind memcheck): the CPU references
 * of every operator, validation failures, the .npy reader and writer, and one
 * small device run per operator checked against its reference; the same for
 * the backward operators (conv2d backward-data / weights / bias, ReLU
 * backward, pooling backward of every mode on the CPU). Also an
 * ordinary ctest test. Exact heap sizes everywhere, so that any read or write
 * past an array is an error under memcheck. */
#include "testutil.h"

#include "npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static float *filled(size_t n, uint64_t seed)
{
    float *a = tu_alloc(n);
    tu_rng r = tu_rng_make(seed);
    tu_fill(&r, a, n, true);
    return a;
}

static void assert_close(const float *got, const float *ref, size_t n, const char *what)
{
    char msg[256];
    long bad = tu_compare(got, ref, NULL, n, 1e-5, 1e-5, msg, sizeof msg);
    ck_assert_msg(bad < 0, "%s: %s", what, msg);
}

START_TEST(references)
{
    /* The notes' 3x3 cross-correlation: [[0..8]] * [[0,1],[2,3]] = [[19,25],[37,43]]. */
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 2, 2);
    clconv_shape in = {1, 1, 3, 3};
    float x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, w[4] = {0, 1, 2, 3}, y[4];
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, NULL, y), CLCONV_SUCCESS);
    ck_assert_float_eq(y[0], 19.0f);
    ck_assert_float_eq(y[3], 43.0f);
    /* conv1d */
    clconv_conv1d_params q = {.in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 2,
                              .pad_left = 1, .pad_right = 1, .dilation = 1, .groups = 1,
                              .has_bias = 1, .activation = CLCONV_ACTIVATION_RELU};
    int64_t len;
    ck_assert_int_eq(clconv_conv1d_output_length(&q, 7, &len), CLCONV_SUCCESS);
    ck_assert_int_eq(len, 4);
    float *x1 = filled(2 * 2 * 7, 1), *w1 = filled(3 * 2 * 3, 2), *b1 = filled(3, 3);
    float *y1 = tu_alloc(2 * 3 * 4);
    ck_assert_int_eq(clconv_ref_conv1d(&q, 2, 7, x1, w1, b1, y1), CLCONV_SUCCESS);
    for (int i = 0; i < 2 * 3 * 4; i++)
        ck_assert(y1[i] >= 0.0f);
    /* conv_transpose2d / 1d */
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    t.stride_h = t.stride_w = 2;
    t.pad_top = t.pad_bottom = t.pad_left = t.pad_right = 1;
    t.output_padding_h = 1;
    t.groups = 2;
    t.has_bias = 1;
    clconv_shape tin = {2, 4, 3, 4}, tout;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&t, &tin, &tout), CLCONV_SUCCESS);
    ck_assert_int_eq(tout.h, 6);
    ck_assert_int_eq(tout.w, 7);
    float *xt = filled(2 * 4 * 12, 4), *wt = filled(4 * 3 * 9, 5), *bt = filled(6, 6);
    float *yt = tu_alloc(2 * 6 * 42);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&t, &tin, xt, wt, bt, yt), CLCONV_SUCCESS);
    clconv_conv_transpose1d_params t1 = {.in_channels = 2, .out_channels = 2, .kernel = 3,
                                         .stride = 2, .dilation = 1, .groups = 1};
    float *yt1 = tu_alloc(2 * 9);
    ck_assert_int_eq(clconv_ref_conv_transpose1d(&t1, 1, 4, xt, wt, NULL, yt1), CLCONV_SUCCESS);
    /* pooling, every mode, indices for the max modes */
    const clconv_pool_mode modes[] = {CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_LP,
                                      CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    clconv_shape pin = {2, 3, 7, 6};
    float *xp = filled(2 * 3 * 42, 7);
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        clconv_pool2d_params pp = clconv_pool2d_default_params(modes[m], 3, 2);
        if (modes[m] == CLCONV_POOL_MAX || modes[m] == CLCONV_POOL_AVG) {
            pp.stride_h = pp.stride_w = 2;
            pp.pad_top = pp.pad_bottom = 1;
            pp.ceil_mode = 1;
        }
        clconv_shape pout;
        ck_assert_int_eq(clconv_pool2d_output_shape(&pp, &pin, &pout), CLCONV_SUCCESS);
        size_t ny = clconv_shape_elements(pout);
        float *yp = tu_alloc(ny);
        bool has_idx = modes[m] == CLCONV_POOL_MAX || modes[m] == CLCONV_POOL_ADAPTIVE_MAX;
        int64_t *idx = has_idx ? malloc(ny * sizeof *idx) : NULL;
        ck_assert_int_eq(clconv_ref_pool2d(&pp, &pin, xp, yp, idx), CLCONV_SUCCESS);
        for (size_t i = 0; idx && i < ny; i++)
            ck_assert(idx[i] >= 0 && idx[i] < 42);
        free(yp);
        free(idx);
    }
    free(x1);
    free(w1);
    free(b1);
    free(y1);
    free(xt);
    free(wt);
    free(bt);
    free(yt);
    free(yt1);
    free(xp);
}
END_TEST

START_TEST(validation_failures)
{
    /* Failing calls store messages (thread and context); none may leak. */
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 6, 3, 3);
    clconv_shape in = {1 << 20, 1 << 20, 1 << 20, 1 << 20}, out;
    p.in_channels = 1 << 20;
    ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &out), CLCONV_ERROR_INVALID_SHAPE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "overflow"));
    p = clconv_conv2d_default_params(4, 6, 3, 3);
    p.groups = 3;
    in = (clconv_shape){1, 4, 8, 8};
    clconv_plan *plan;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, NULL, &plan),
                         CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "groups = 3"));
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    pp.norm_type = NAN;
    ck_assert_int_eq(clconv_pool2d_validate(&pp, &in), CLCONV_ERROR_INVALID_VALUE);
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(4, 4, 3, 3);
    t.output_padding_w = 1;
    ck_assert_int_eq(clconv_conv_transpose2d_validate(&t, &in), CLCONV_ERROR_INVALID_VALUE);
    clconv_context *c = NULL;
    ck_assert_int_eq(clconv_context_create_for("no such device", &c), CLCONV_ERROR_NO_DEVICE);
}
END_TEST

START_TEST(npy_files)
{
    char dir[] = "/tmp/clconv-memcheck-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    const int64_t shape[3] = {2, 3, 5};
    float *data = filled(30, 9);
    ck_assert_int_eq(npy_write_f32(path, shape, 3, data, err, sizeof err), 0);
    npy_array a;
    ck_assert_msg(npy_read_f32(path, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(a.ndim, 3);
    ck_assert_uint_eq(a.count, 30);
    ck_assert_int_eq(memcmp(a.data, data, sizeof(float) * 30), 0);
    npy_free(&a);
    /* a header claiming far more data than the file has is refused before allocating */
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    char head[128];
    ck_assert_uint_eq(fread(head, 1, sizeof head, f), sizeof head);
    char *sh = strstr(head + 10, "(2, 3, 5)");
    ck_assert_ptr_nonnull(sh);
    memcpy(sh, "(9999999", 8); /* (9999999, 5): 50M floats */
    fseek(f, 0, SEEK_SET);
    ck_assert_uint_eq(fwrite(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    ck_assert_int_eq(npy_read_f32(path, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "truncated") != NULL, "%s", err);
    ck_assert_ptr_null(a.data);
    const int64_t ishape[1] = {4};
    const int64_t idx[4] = {0, -1, 7, 1LL << 40};
    snprintf(path, sizeof path, "%s/i.npy", dir);
    ck_assert_int_eq(npy_write_i64(path, ishape, 1, idx, err, sizeof err), 0);
    ck_assert_int_eq(npy_read_f32(path, &a, err, sizeof err), -1); /* int64 is not float32 */
    ck_assert_ptr_nonnull(strstr(err, "int64"));
    ck_assert_int_eq(npy_read_f32("/nonexistent/x.npy", &a, err, sizeof err), -1);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.npy", dir);
    unlink(path);
    rmdir(dir);
    free(data);
}
END_TEST

START_TEST(device_runs)
{
    clconv_context *ctx = tu_ctx();
    /* conv2d */
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 4, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    clconv_shape in = {1, 2, 5, 6};
    float *x = filled(60, 11), *w = filled(72, 12), *b = filled(4, 13);
    float *y = tu_alloc(120), *r = tu_alloc(120);
    ck_assert_int_eq(clconv_conv2d_host(ctx, &p, &in, NULL, x, w, b, y), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, b, r), CLCONV_SUCCESS);
    assert_close(y, r, 120, "conv2d");
    /* conv_transpose2d: 1x2x5x6 -> 1x3x11x13 (stride 2, kernel 3) */
    clconv_conv_transpose2d_params t = clconv_conv_transpose2d_default_params(2, 3, 3, 3);
    t.stride_h = t.stride_w = 2;
    float *yt = tu_alloc(3 * 11 * 13), *rt = tu_alloc(3 * 11 * 13);
    ck_assert_int_eq(clconv_conv_transpose2d_host(ctx, &t, &in, NULL, x, w, NULL, yt),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&t, &in, x, w, NULL, rt), CLCONV_SUCCESS);
    assert_close(yt, rt, 3 * 11 * 13, "conv_transpose2d");
    /* max pooling with indices: 1x2x5x6 -> 1x2x2x3 */
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    int64_t idx[12], ridx[12];
    ck_assert_int_eq(clconv_pool2d_host(ctx, &pp, &in, NULL, x, y, idx), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_pool2d(&pp, &in, x, r, ridx), CLCONV_SUCCESS);
    assert_close(y, r, 12, "max_pool2d");
    ck_assert_int_eq(memcmp(idx, ridx, sizeof idx), 0);
    free(x);
    free(w);
    free(b);
    free(y);
    free(r);
    free(yt);
    free(rt);
}
END_TEST

/* The backward references on exact-size arrays: the notes' 3x3 example
 * (x = [[0..8]], w = [[0,1],[2,3]]) with dy all ones, then every pooling
 * mode's gradient and ReLU backward. */
START_TEST(backward_references)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 2, 2);
    clconv_shape in = {1, 1, 3, 3};
    float *x = tu_alloc(9), *w = tu_alloc(4), *dy = tu_alloc(4), *dx = tu_alloc(9);
    float *dw = tu_alloc(4), *db = tu_alloc(1);
    for (int i = 0; i < 9; i++)
        x[i] = (float)i;
    for (int i = 0; i < 4; i++) {
        w[i] = (float)i;
        dy[i] = 1.0f;
    }
    ck_assert_int_eq(clconv_ref_conv2d_backward_data(&p, &in, dy, w, dx), CLCONV_SUCCESS);
    ck_assert_float_eq(dx[0], 0.0f); /* w[0][0] only */
    ck_assert_float_eq(dx[4], 6.0f); /* every tap */
    ck_assert_float_eq(dx[8], 3.0f); /* w[1][1] only */
    ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p, &in, x, dy, dw), CLCONV_SUCCESS);
    ck_assert_float_eq(dw[0], 8.0f);  /* 0 + 1 + 3 + 4 */
    ck_assert_float_eq(dw[3], 24.0f); /* 4 + 5 + 7 + 8 */
    ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p, &in, dy, db), CLCONV_SUCCESS);
    ck_assert_float_eq(db[0], 4.0f);
    ck_assert_int_eq(clconv_ref_relu_backward(4, w, x, dx), CLCONV_SUCCESS);
    ck_assert_float_eq(dx[0], 0.0f); /* y = 0: no gradient */
    ck_assert_float_eq(dx[1], 1.0f);
    ck_assert_int_eq(clconv_ref_conv2d_backward_data(&p, &in, NULL, w, dx),
                     CLCONV_ERROR_INVALID_VALUE);
    free(x);
    free(w);
    free(dy);
    free(dx);
    free(dw);
    free(db);
    /* pooling, every mode, 1x2x5x6 */
    clconv_shape pin = {1, 2, 5, 6}, pout;
    clconv_pool_mode modes[] = {CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_LP,
                                CLCONV_POOL_ADAPTIVE_MAX, CLCONV_POOL_ADAPTIVE_AVG};
    for (int m = 0; m < 5; m++) {
        clconv_pool2d_params pp = clconv_pool2d_default_params(modes[m], 3, 3);
        if (modes[m] == CLCONV_POOL_MAX || modes[m] == CLCONV_POOL_AVG) {
            pp.stride_h = pp.stride_w = 2;
            pp.pad_top = pp.pad_bottom = pp.pad_left = pp.pad_right = 1;
        }
        ck_assert_int_eq(clconv_pool2d_output_shape(&pp, &pin, &pout), CLCONV_SUCCESS);
        size_t nx = clconv_shape_elements(pin), ny = clconv_shape_elements(pout);
        float *px = filled(nx, 21), *py = tu_alloc(ny), *pdy = filled(ny, 22), *pdx = tu_alloc(nx);
        bool max = modes[m] == CLCONV_POOL_MAX || modes[m] == CLCONV_POOL_ADAPTIVE_MAX;
        int64_t *idx = max ? malloc(ny * sizeof *idx) : NULL;
        ck_assert_int_eq(clconv_ref_pool2d(&pp, &pin, px, py, idx), CLCONV_SUCCESS);
        /* lp needs x; avg ignores it */
        clconv_status want = modes[m] == CLCONV_POOL_LP ? CLCONV_ERROR_INVALID_VALUE
                                                        : CLCONV_SUCCESS;
        ck_assert_int_eq(clconv_ref_pool2d_backward(&pp, &pin, pdy, idx, NULL, pdx), want);
        ck_assert_int_eq(clconv_ref_pool2d_backward(&pp, &pin, pdy, NULL, px, pdx),
                         CLCONV_SUCCESS);
        free(px);
        free(py);
        free(pdy);
        free(pdx);
        free(idx);
    }
}
END_TEST

/* One small device run of each backward operator against its reference. */
START_TEST(backward_device_runs)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 4, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    clconv_shape in = {2, 2, 7, 6}, out;
    ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out), nw = 72;
    float *x = filled(nx, 31), *w = filled(nw, 32), *dy = filled(ny, 33);
    float *g = tu_alloc(nx), *r = tu_alloc(nx);
    ck_assert_int_eq(clconv_conv2d_backward_data_host(ctx, &p, &in, NULL, dy, w, g),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv2d_backward_data(&p, &in, dy, w, r), CLCONV_SUCCESS);
    assert_close(g, r, nx, "conv2d backward-data");
    ck_assert_int_eq(clconv_conv2d_backward_weights_host(ctx, &p, &in, NULL, x, dy, g),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p, &in, x, dy, r), CLCONV_SUCCESS);
    assert_close(g, r, nw, "conv2d backward-weights");
    ck_assert_int_eq(clconv_conv2d_backward_bias_host(ctx, &p, &in, NULL, dy, g), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p, &in, dy, r), CLCONV_SUCCESS);
    assert_close(g, r, 4, "conv2d backward-bias");
    float *dr = filled(nx, 34); /* the gradient of a ReLU output of x's shape */
    ck_assert_int_eq(clconv_relu_backward_host(ctx, &in, x, dr, g), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_relu_backward(nx, x, dr, r), CLCONV_SUCCESS);
    assert_close(g, r, nx, "relu backward");
    free(dr);
    /* pooling backward: max through indices, avg */
    clconv_pool2d_params pm = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_pool2d_params pa = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    pa.stride_h = pa.stride_w = 2;
    pa.pad_top = pa.pad_bottom = pa.pad_left = pa.pad_right = 1;
    clconv_shape po;
    ck_assert_int_eq(clconv_pool2d_output_shape(&pm, &in, &po), CLCONV_SUCCESS);
    size_t npo = clconv_shape_elements(po);
    float *py = tu_alloc(npo);
    int64_t *idx = malloc(npo * sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    ck_assert_int_eq(clconv_ref_pool2d(&pm, &in, x, py, idx), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_backward_host(ctx, &pm, &in, NULL, dy, idx, NULL, g),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_pool2d_backward(&pm, &in, dy, idx, NULL, r), CLCONV_SUCCESS);
    assert_close(g, r, nx, "max_pool2d backward");
    ck_assert_int_eq(clconv_pool2d_backward_host(ctx, &pa, &in, NULL, dy, NULL, NULL, g),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_pool2d_backward(&pa, &in, dy, NULL, NULL, r), CLCONV_SUCCESS);
    assert_close(g, r, nx, "avg_pool2d backward");
    free(x);
    free(w);
    free(dy);
    free(g);
    free(r);
    free(py);
    free(idx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memcheck");
    TCase *tc = tcase_create("host");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, references);
    tcase_add_test(tc, validation_failures);
    tcase_add_test(tc, npy_files);
    tcase_add_test(tc, device_runs);
    tcase_add_test(tc, backward_references);
    tcase_add_test(tc, backward_device_runs);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
