/* Prepared weights (clconv_conv2d_prepare, clconv_conv_transpose2d_prepare),
 * through every algorithm of both operators:
 *   - prepare(w1), then runs with w = NULL give conv(x, w1) for new x, also
 *     after w1's buffer was overwritten (the plan holds what prepare saw);
 *   - a run with weights of its own gives conv(x, w2) and replaces the
 *     prepared weights: the next run with w = NULL fails with a message;
 *   - prepare again (w2), runs with w = NULL give conv(x, w2);
 *   - on a caller's out-of-order queue: prepare and the runs after it with no
 *     wait lists, each result against the reference;
 *   - bad input: NULL or short w, a plan of another operator, a run with
 *     w = NULL before any prepare.
 * Small-integer data: every algorithm is exact on it. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    bool transposed;
    clconv_algorithm algo;
    clconv_conv2d_params conv;
    clconv_conv_transpose2d_params ct;
    clconv_shape in;
} prep_case;

static clconv_conv2d_params conv(int64_t cin, int64_t cout, int64_t k, int64_t stride,
                                 int64_t pad, int64_t groups)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(cin, cout, k, k);
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.groups = groups;
    p.has_bias = 1;
    return p;
}

static clconv_conv_transpose2d_params ctp(int64_t cin, int64_t cout)
{
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(cin, cout, 4, 4);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    return p;
}

static const prep_case *get_case(int i)
{
    static prep_case cases[12];
    static int n;
    if (!n) {
        const clconv_shape img = {2, 16, 12, 12};
        cases[n++] = (prep_case){"direct-tiled", false, CLCONV_ALGO_DIRECT_TILED,
                                 conv(16, 16, 3, 1, 1, 1), {0}, img};
        cases[n++] = (prep_case){"direct-register", false, CLCONV_ALGO_DIRECT_REGISTER,
                                 conv(16, 16, 3, 1, 1, 1), {0}, img};
        cases[n++] = (prep_case){"direct-vector", false, CLCONV_ALGO_DIRECT_VECTOR,
                                 conv(16, 16, 3, 1, 1, 1), {0}, img};
        cases[n++] = (prep_case){"direct-pointwise", false, CLCONV_ALGO_DIRECT_POINTWISE,
                                 conv(16, 16, 3, 2, 1, 1), {0}, img};
        cases[n++] = (prep_case){"direct-depthwise", false, CLCONV_ALGO_DIRECT_DEPTHWISE,
                                 conv(16, 16, 3, 1, 1, 16), {0}, img};
        cases[n++] = (prep_case){"winograd", false, CLCONV_ALGO_WINOGRAD,
                                 conv(16, 16, 3, 1, 1, 1), {0}, img};
        cases[n++] = (prep_case){"gemm", false, CLCONV_ALGO_GEMM, conv(16, 16, 3, 1, 1, 1), {0},
                                 img};
        cases[n++] = (prep_case){"conv2d auto", false, CLCONV_ALGO_AUTO,
                                 conv(16, 24, 3, 1, 1, 1), {0}, img};
        const clconv_shape ct_in = {2, 16, 7, 7};
        cases[n++] = (prep_case){"transposed-gather", true, CLCONV_ALGO_TRANSPOSED_GATHER,
                                 {0}, ctp(16, 16), ct_in};
        cases[n++] = (prep_case){"transposed-vector", true, CLCONV_ALGO_TRANSPOSED_VECTOR,
                                 {0}, ctp(16, 16), ct_in};
        cases[n++] = (prep_case){"transposed-columns", true, CLCONV_ALGO_TRANSPOSED_COLUMNS,
                                 {0}, ctp(16, 4), ct_in};
        cases[n++] = (prep_case){"transposed-gemm", true, CLCONV_ALGO_TRANSPOSED_GEMM, {0},
                                 ctp(16, 16), ct_in};
    }
    return &cases[i];
}
#define NCASES 12

typedef struct {
    size_t nx, nw, nb, ny, ws;
} sizes;

static sizes sizes_of(const prep_case *c, clconv_plan *plan)
{
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    sizes s;
    s.nx = clconv_shape_elements(c->in);
    s.nw = clconv_shape_elements(c->transposed ? clconv_conv_transpose2d_weight_shape(&c->ct)
                                               : clconv_conv2d_weight_shape(&c->conv));
    s.nb = (size_t)(c->transposed ? c->ct.out_channels : c->conv.out_channels);
    s.ny = clconv_shape_elements(info.output);
    s.ws = info.workspace_bytes;
    return s;
}

static clconv_plan *make_plan(clconv_context *ctx, const prep_case *c)
{
    clconv_plan_options o;
    memset(&o, 0, sizeof o);
    o.algorithm = c->algo;
    clconv_plan *plan = NULL;
    clconv_status st = c->transposed
                           ? clconv_conv_transpose2d_plan_create(ctx, &c->ct, &c->in, &o, &plan)
                           : clconv_conv2d_plan_create(ctx, &c->conv, &c->in, &o, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: %s", c->name, clconv_last_error(ctx));
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    if (c->algo != CLCONV_ALGO_AUTO)
        ck_assert_int_eq(info.algorithm, c->algo);
    return plan;
}

static void reference(const prep_case *c, const float *x, const float *w, const float *b,
                      float *y)
{
    clconv_status st = c->transposed ? clconv_ref_conv_transpose2d(&c->ct, &c->in, x, w, b, y)
                                     : clconv_ref_conv2d(&c->conv, &c->in, x, w, b, y);
    ck_assert_int_eq(st, CLCONV_SUCCESS);
}

static clconv_status prepare(const prep_case *c, clconv_plan *plan, cl_mem w, cl_event *done)
{
    return c->transposed ? clconv_conv_transpose2d_prepare(plan, w, 0, NULL, done)
                         : clconv_conv2d_prepare(plan, w, 0, NULL, done);
}

static clconv_status run(const prep_case *c, clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                         cl_mem y, cl_mem ws, cl_event *done)
{
    return c->transposed ? clconv_conv_transpose2d_run(plan, x, w, b, y, ws, 0, NULL, done)
                         : clconv_conv2d_run(plan, x, w, b, y, ws, 0, NULL, done);
}

static cl_mem buffer(clconv_context *ctx, size_t bytes, const void *data)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(ctx),
                              CL_MEM_READ_WRITE | (data ? CL_MEM_COPY_HOST_PTR : 0),
                              bytes ? bytes : 4, (void *)data, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    return m;
}

static void write(clconv_context *ctx, cl_mem m, const float *data, size_t n)
{
    ck_assert_int_eq(clEnqueueWriteBuffer(clconv_context_queue(ctx), m, CL_TRUE, 0, n * 4, data,
                                          0, NULL, NULL), CL_SUCCESS);
}

static void expect(clconv_context *ctx, const prep_case *c, cl_mem y, const float *ref, size_t n,
                   const char *what)
{
    float *got = tu_alloc(n);
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), y, CL_TRUE, 0, n * 4, got, 0,
                                         NULL, NULL), CL_SUCCESS);
    char msg[512];
    long bad = tu_compare(got, ref, NULL, n, 1e-3, 1e-5, msg, sizeof msg);
    ck_assert_msg(bad < 0, "%s, %s: %s", c->name, what, msg);
    free(got);
}

/* The whole sequence on one context (in-order or out-of-order queue). */
static void check_sequence(clconv_context *ctx, const prep_case *c, uint64_t seed)
{
    tu_rng r = tu_rng_make(seed);
    clconv_plan *plan = make_plan(ctx, c);
    sizes s = sizes_of(c, plan);
    float *x = tu_alloc(s.nx), *w1 = tu_alloc(s.nw), *w2 = tu_alloc(s.nw), *b = tu_alloc(s.nb);
    float *ref = tu_alloc(s.ny);
    tu_fill(&r, w1, s.nw, true);
    tu_fill(&r, w2, s.nw, true);
    tu_fill(&r, b, s.nb, true);
    cl_mem bx = buffer(ctx, s.nx * 4, NULL), bw = buffer(ctx, s.nw * 4, w1);
    cl_mem bb = buffer(ctx, s.nb * 4, b), by = buffer(ctx, s.ny * 4, NULL);
    cl_mem bws = s.ws ? buffer(ctx, s.ws, NULL) : NULL;
    cl_event ev;

    /* Runs with w = NULL before any prepare: refused, naming w. */
    ck_assert_int_eq(run(c, plan, bx, NULL, bb, by, bws, NULL), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_msg(strstr(clconv_last_error(ctx), "w: NULL") != NULL, "%s: '%s'", c->name,
                  clconv_last_error(ctx));

    ck_assert_int_eq(prepare(c, plan, bw, &ev), CLCONV_SUCCESS);
    ck_assert_ptr_nonnull(ev);
    clReleaseEvent(ev);
    /* Two inputs through the prepared weights; between them w's buffer
     * changes, which the prepared plan must not see. */
    for (int k = 0; k < 2; k++) {
        tu_fill(&r, x, s.nx, true);
        write(ctx, bx, x, s.nx);
        if (k == 1)
            write(ctx, bw, w2, s.nw);
        ck_assert_int_eq(run(c, plan, bx, NULL, bb, by, bws, &ev), CLCONV_SUCCESS);
        ck_assert_int_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
        clReleaseEvent(ev);
        reference(c, x, w1, b, ref);
        expect(ctx, c, by, ref, s.ny, k ? "prepared, w's buffer changed since" : "prepared");
    }
    /* Weights of its own (w2 now in bw): used, and they replace the prepared ones. */
    ck_assert_int_eq(run(c, plan, bx, bw, bb, by, bws, &ev), CLCONV_SUCCESS);
    clWaitForEvents(1, &ev);
    clReleaseEvent(ev);
    reference(c, x, w2, b, ref);
    expect(ctx, c, by, ref, s.ny, "a run with its own weights");
    ck_assert_int_eq(run(c, plan, bx, NULL, bb, by, bws, NULL), CLCONV_ERROR_INVALID_VALUE);
    /* Prepare again, then a run right behind it with no wait list (on an
     * out-of-order queue the plan orders them). */
    ck_assert_int_eq(prepare(c, plan, bw, NULL), CLCONV_SUCCESS);
    tu_fill(&r, x, s.nx, true);
    write(ctx, bx, x, s.nx);
    ck_assert_int_eq(run(c, plan, bx, NULL, bb, by, bws, &ev), CLCONV_SUCCESS);
    clWaitForEvents(1, &ev);
    clReleaseEvent(ev);
    reference(c, x, w2, b, ref);
    expect(ctx, c, by, ref, s.ny, "prepared again");

    cl_mem all[] = {bx, bw, bb, by, bws};
    for (int i = 0; i < 5; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    free(x); free(w1); free(w2); free(b); free(ref);
}

START_TEST(prepared_weights)
{
    check_sequence(tu_ctx(), get_case(_i), 500 + (uint64_t)_i);
}
END_TEST

START_TEST(prepared_weights_out_of_order)
{
    clconv_context *base = tu_ctx();
    cl_int err;
    cl_command_queue q = clCreateCommandQueue(clconv_context_cl_context(base),
                                              clconv_context_device(base),
                                              CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err == CL_INVALID_QUEUE_PROPERTIES)
        return; /* optional in OpenCL 1.2 */
    ck_assert_int_eq(err, CL_SUCCESS);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create_from_queue(clconv_context_cl_context(base), q, &ctx),
                     CLCONV_SUCCESS);
    clReleaseCommandQueue(q);
    check_sequence(ctx, get_case(_i), 900 + (uint64_t)_i);
    clconv_context_destroy(ctx);
}
END_TEST

START_TEST(bad_input)
{
    clconv_context *ctx = tu_ctx();
    const prep_case *c = get_case(2);
    clconv_plan *plan = make_plan(ctx, c);
    sizes s = sizes_of(c, plan);
    cl_mem small = buffer(ctx, s.nw * 4 - 4, NULL);
    ck_assert_int_eq(clconv_conv2d_prepare(plan, NULL, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "w: NULL"));
    ck_assert_int_eq(clconv_conv2d_prepare(plan, small, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "w: "));
    cl_event e = NULL;
    ck_assert_int_eq(clconv_conv2d_prepare(plan, small, 1, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_prepare(NULL, small, 0, NULL, &e), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv_transpose2d_prepare(plan, small, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    clconv_plan *ct = make_plan(ctx, get_case(8));
    ck_assert_int_eq(clconv_conv2d_prepare(ct, small, 0, NULL, NULL), CLCONV_ERROR_WRONG_PLAN);
    clconv_plan_destroy(ct);
    clReleaseMemObject(small);
    clconv_plan_destroy(plan);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prepare");
    TCase *tc = tcase_create("prepare");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, prepared_weights, 0, NCASES);
    tcase_add_loop_test(tc, prepared_weights_out_of_order, 0, NCASES);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
