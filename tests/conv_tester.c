/* The conv2d tester (conv_tester.h). */
#include "conv_tester.h"

#include <stdio.h>
#include <stdlib.h>

/* What differs between the two operators: making the plan, its weight
 * count, and the run. */
typedef struct {
    bool transposed;
    const clconv_conv2d_params *conv;
    const clconv_conv_transpose2d_params *ct;
} layer;

static clconv_status make_plan(clconv_context *ctx, const layer *l, const clconv_shape *in,
                               const clconv_plan_options *opt, clconv_plan **plan)
{
    return l->transposed ? clconv_conv_transpose2d_plan_create(ctx, l->ct, in, opt, plan)
                         : clconv_conv2d_plan_create(ctx, l->conv, in, opt, plan);
}

static clconv_status run(const layer *l, clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                         cl_mem y, cl_mem ws, cl_event *done)
{
    return l->transposed ? clconv_conv_transpose2d_run(plan, x, w, b, y, ws, 0, NULL, done)
                         : clconv_conv2d_run(plan, x, w, b, y, ws, 0, NULL, done);
}

static float *run_guarded(clconv_context *ctx, const layer *l, const clconv_shape *in,
                          const float *x, const float *w, const float *b,
                          const clconv_plan_options *opt, clconv_plan_info *info_out,
                          const char *what)
{
    clconv_plan *plan = NULL;
    clconv_status st = make_plan(ctx, l, in, opt, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: plan: %s: %s", what, clconv_status_string(st),
                  clconv_last_error(ctx));
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    if (opt && opt->algorithm != CLCONV_ALGO_AUTO)
        ck_assert_msg(info.algorithm == opt->algorithm, "%s: the plan chose %s, not %s", what,
                      clconv_algorithm_name(info.algorithm),
                      clconv_algorithm_name(opt->algorithm));
    const int has_bias = l->transposed ? l->ct->has_bias : l->conv->has_bias;
    const int64_t oc = l->transposed ? l->ct->out_channels : l->conv->out_channels;
    clconv_shape ws = l->transposed ? clconv_conv_transpose2d_weight_shape(l->ct)
                                    : clconv_conv2d_weight_shape(l->conv);
    size_t nx = clconv_shape_elements(*in), nw = clconv_shape_elements(ws);
    size_t ny = clconv_shape_elements(info.output);
    tu_guarded gx = tu_guarded_create(ctx, nx * 4, x);
    tu_guarded gw = tu_guarded_create(ctx, nw * 4, w);
    tu_guarded gb = {0}, gws = {0};
    if (has_bias)
        gb = tu_guarded_create(ctx, (size_t)oc * 4, b);
    if (info.workspace_bytes)
        gws = tu_guarded_create(ctx, info.workspace_bytes, NULL);
    tu_guarded gy = tu_guarded_create(ctx, ny * 4, NULL);
    cl_event done = NULL;
    st = run(l, plan, gx.buf, gw.buf, has_bias ? gb.buf : NULL, gy.buf,
             info.workspace_bytes ? gws.buf : NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: run: %s", what, clconv_last_error(ctx));
    ck_assert_ptr_nonnull(done);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    float *y = tu_alloc(ny);
    ck_assert_msg(tu_guarded_read(ctx, &gy, y), "%s: %s wrote outside the output buffer (%s)",
                  what, info.kernel_name, info.build_options);
    ck_assert_msg(tu_guarded_read(ctx, &gx, NULL) && tu_guarded_read(ctx, &gw, NULL),
                  "%s: input guard bands changed", what);
    if (info.workspace_bytes)
        ck_assert_msg(tu_guarded_read(ctx, &gws, NULL),
                      "%s: %s wrote outside the workspace (%zu bytes)", what,
                      clconv_algorithm_name(info.algorithm), info.workspace_bytes);
    tu_guarded_release(&gx);
    tu_guarded_release(&gw);
    tu_guarded_release(&gb);
    tu_guarded_release(&gws);
    tu_guarded_release(&gy);
    clconv_plan_destroy(plan);
    if (info_out)
        *info_out = info;
    return y;
}

float *tu_conv2d_run(clconv_context *ctx, const clconv_conv2d_params *p, const clconv_shape *in,
                     const float *x, const float *w, const float *b,
                     const clconv_plan_options *opt, clconv_plan_info *info, const char *what)
{
    const layer l = {.conv = p};
    return run_guarded(ctx, &l, in, x, w, b, opt, info, what);
}

float *tu_conv_transpose2d_run(clconv_context *ctx, const clconv_conv_transpose2d_params *p,
                               const clconv_shape *in, const float *x, const float *w,
                               const float *b, const clconv_plan_options *opt,
                               clconv_plan_info *info, const char *what)
{
    const layer l = {.transposed = true, .ct = p};
    return run_guarded(ctx, &l, in, x, w, b, opt, info, what);
}

void tu_expect_values(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: element %zu = %g, expected %g", what, i, got[i],
                      want[i]);
}

void tu_conv2d_golden(const clconv_conv2d_params *p, const clconv_shape *in, const float *x,
                      const float *w, const float *b, const float *want, size_t nwant)
{
    static const clconv_algorithm all[] = {
        CLCONV_ALGO_AUTO,           CLCONV_ALGO_DIRECT_TILED,     CLCONV_ALGO_DIRECT_REGISTER,
        CLCONV_ALGO_DIRECT_VECTOR,  CLCONV_ALGO_DIRECT_DEPTHWISE, CLCONV_ALGO_DIRECT_POINTWISE,
        CLCONV_ALGO_WINOGRAD,       CLCONV_ALGO_GEMM};
    clconv_context *ctx = tu_ctx();
    clconv_shape os;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    ck_assert_uint_eq(clconv_shape_elements(os), nwant);
    float *ref = tu_alloc(nwant);
    ck_assert_int_eq(clconv_ref_conv2d(p, in, x, w, b, ref), CLCONV_SUCCESS);
    tu_expect_values(ref, want, nwant, "reference");
    int ran = 0;
    for (size_t a = 0; a < sizeof all / sizeof all[0]; a++) {
        if (clconv_conv2d_algorithm_supported(ctx, p, in, all[a]) != CLCONV_SUCCESS)
            continue;
        if (all[a] == CLCONV_ALGO_DIRECT_POINTWISE && (p->kernel_h != 1 || p->kernel_w != 1))
            continue;
        clconv_plan_options o = {.algorithm = all[a]};
        char what[64];
        snprintf(what, sizeof what, "golden, %s", clconv_algorithm_name(all[a]));
        float *y = tu_conv2d_run(ctx, p, in, x, w, b, &o, NULL, what);
        tu_expect_values(y, want, nwant, what);
        free(y);
        ran++;
    }
    ck_assert_int_ge(ran, 5); /* AUTO, tiled, register, vector, gemm at least */
    float *y = tu_alloc(nwant);
    ck_assert_int_eq(clconv_conv2d_host(ctx, p, in, NULL, x, w, b, y), CLCONV_SUCCESS);
    tu_expect_values(y, want, nwant, "clconv_conv2d_host");
    free(y);
    free(ref);
}
