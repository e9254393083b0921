/* The pooling tester (pool_tester.h). */
#include "pool_tester.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a run must overwrite everywhere. */
#define JUNK 12345.0f

static float *junk_array(size_t n)
{
    float *a = tu_alloc(n);
    for (size_t i = 0; i < n; i++)
        a[i] = JUNK;
    return a;
}

/* The plan's report against the operator's own shape function. */
static void check_info(const clconv_pool2d_params *p, const clconv_shape *in,
                       const clconv_plan_info *info, const char *what)
{
    clconv_shape os;
    ck_assert_msg(clconv_pool2d_output_shape(p, in, &os) == CLCONV_SUCCESS, "%s: shape: %s", what,
                  clconv_last_error(NULL));
    ck_assert_msg(info->algorithm == CLCONV_ALGO_POOL, "%s: algorithm %s, expected pool", what,
                  clconv_algorithm_name(info->algorithm));
    ck_assert_msg(clconv_shape_elements(info->output) == clconv_shape_elements(os),
                  "%s: the plan's output has %zu elements, clconv_pool2d_output_shape %zu", what,
                  clconv_shape_elements(info->output), clconv_shape_elements(os));
    const size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(os);
    const size_t es = clconv_dtype_size(p->dtype);
    ck_assert_msg(info->bytes == (double)((nx + ny) * es), "%s: bytes %g", what, info->bytes);
}

/* Reads g back and fails unless its guard bands and payload are intact. */
static void expect_unchanged(clconv_context *ctx, tu_guarded *g, const void *want, size_t bytes,
                             const char *name, const char *what)
{
    void *back = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(back);
    ck_assert_msg(tu_guarded_read(ctx, g, back), "%s: %s guard bands changed", what, name);
    ck_assert_msg(memcmp(back, want, bytes) == 0, "%s: %s was modified", what, name);
    free(back);
}

float *tu_pool2d_run(clconv_context *ctx, const clconv_pool2d_params *p, const clconv_shape *in,
                     const float *x, const clconv_plan_options *opt, int64_t **idx,
                     clconv_plan_info *info_out, const char *what)
{
    clconv_plan *plan = NULL;
    clconv_status st = clconv_pool2d_plan_create(ctx, p, in, opt, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: plan: %s: %s", what, clconv_status_string(st),
                  clconv_last_error(ctx));
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    check_info(p, in, &info, what);
    const size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(info.output);
    float *y = junk_array(ny);
    /* fp16 storage: x goes up as halves (x holds halves widened), y comes
     * back as halves, widened here. */
    const bool f16 = p->dtype == CLCONV_DTYPE_F16;
    const size_t es = f16 ? 2 : 4;
    uint16_t *xh = NULL, *yh = NULL;
    if (f16) {
        xh = calloc(nx ? nx : 1, 2);
        yh = calloc(ny ? ny : 1, 2);
        ck_assert(xh && yh);
        clconv_floats_to_halves(x, xh, nx);
        clconv_floats_to_halves(y, yh, ny);
    }
    tu_guarded gx = tu_guarded_create(ctx, nx * es, f16 ? (const void *)xh : x);
    tu_guarded gy = tu_guarded_create(ctx, ny * es, f16 ? (const void *)yh : y);
    tu_guarded gi = {0};
    if (idx)
        gi = tu_guarded_create(ctx, ny * 8, NULL);
    cl_event done = NULL;
    st = clconv_pool2d_run(plan, gx.buf, gy.buf, idx ? gi.buf : NULL, 0, NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: run: %s", what, clconv_last_error(ctx));
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_msg(tu_guarded_read(ctx, &gy, f16 ? (void *)yh : y), "%s: %s wrote outside y (%s)",
                  what, info.kernel_name, info.build_options);
    expect_unchanged(ctx, &gx, f16 ? (const void *)xh : x, nx * es, "x", what);
    if (f16)
        clconv_halves_to_floats(yh, y, ny);
    free(xh);
    free(yh);
    if (idx) {
        *idx = calloc(ny ? ny : 1, sizeof(int64_t));
        ck_assert_ptr_nonnull(*idx);
        ck_assert_msg(tu_guarded_read(ctx, &gi, *idx), "%s: %s wrote outside the indices", what,
                      info.kernel_name);
    }
    tu_guarded_release(&gx);
    tu_guarded_release(&gy);
    tu_guarded_release(&gi);
    clconv_plan_destroy(plan);
    if (info_out)
        *info_out = info;
    return y;
}

float *tu_pool2d_backward_run(clconv_context *ctx, const clconv_pool2d_params *p,
                              const clconv_shape *in, const float *dy, const int64_t *idx,
                              const float *x, const clconv_plan_options *opt, const char *what)
{
    clconv_plan *plan = NULL;
    clconv_status st = clconv_pool2d_backward_plan_create(ctx, p, in, opt, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: plan: %s: %s", what, clconv_status_string(st),
                  clconv_last_error(ctx));
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    check_info(p, in, &info, what);
    const size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(info.output);
    /* fp16 storage: dy and x go up as halves (they hold halves widened), dx
     * comes back as halves, widened here; the indices stay int64. */
    const bool f16 = p->dtype == CLCONV_DTYPE_F16;
    const size_t es = f16 ? 2 : 4;
    float *dx = junk_array(nx);
    uint16_t *dyh = NULL, *xh = NULL, *dxh = NULL;
    if (f16) {
        dyh = calloc(ny ? ny : 1, 2);
        xh = calloc(nx ? nx : 1, 2);
        dxh = calloc(nx ? nx : 1, 2);
        ck_assert(dyh && xh && dxh);
        clconv_floats_to_halves(dy, dyh, ny);
        if (x)
            clconv_floats_to_halves(x, xh, nx);
        clconv_floats_to_halves(dx, dxh, nx);
    }
    const void *dy_up = f16 ? (const void *)dyh : dy, *x_up = f16 ? (const void *)xh : x;
    void *dx_back = f16 ? (void *)dxh : dx;
    tu_guarded gdy = tu_guarded_create(ctx, ny * es, dy_up);
    tu_guarded gi = {0}, gx = {0};
    if (idx)
        gi = tu_guarded_create(ctx, ny * 8, idx);
    if (x)
        gx = tu_guarded_create(ctx, nx * es, x_up);
    tu_guarded gdx = tu_guarded_create(ctx, nx * es, dx_back);
    cl_event done = NULL;
    st = clconv_pool2d_backward_run(plan, gdy.buf, idx ? gi.buf : NULL, x ? gx.buf : NULL,
                                    gdx.buf, 0, NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: run: %s", what, clconv_last_error(ctx));
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_msg(tu_guarded_read(ctx, &gdx, dx_back), "%s: %s wrote outside dx (%s)", what,
                  info.kernel_name, info.build_options);
    expect_unchanged(ctx, &gdy, dy_up, ny * es, "dy", what);
    if (idx)
        expect_unchanged(ctx, &gi, idx, ny * 8, "indices", what);
    if (x)
        expect_unchanged(ctx, &gx, x_up, nx * es, "x", what);
    if (f16)
        clconv_halves_to_floats(dxh, dx, nx);
    free(dyh);
    free(xh);
    free(dxh);
    tu_guarded_release(&gdy);
    tu_guarded_release(&gi);
    tu_guarded_release(&gx);
    tu_guarded_release(&gdx);
    clconv_plan_destroy(plan);
    return dx;
}

void tu_pool2d_describe(const clconv_pool2d_params *p, const clconv_shape *in, char *buf,
                        size_t n)
{
    static const char *const modes[] = {"?", "max", "avg", "lp", "adaptive-avg", "adaptive-max"};
    const char *mode = p->mode >= 1 && p->mode <= 5 ? modes[p->mode] : modes[0];
    snprintf(buf, n,
             "mode=%s in=%lldx%lldx%lldx%lld k=%lldx%lld s=%lldx%lld pad=%lld,%lld,%lld,%lld "
             "d=%lldx%lld ceil=%d cip=%d div=%lld p=%g out=%lldx%lld",
             mode, (long long)in->n, (long long)in->c,
             (long long)in->h, (long long)in->w, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->dilation_h, (long long)p->dilation_w, p->ceil_mode,
             p->count_include_pad, (long long)p->divisor_override, p->norm_type,
             (long long)p->output_h, (long long)p->output_w);
}

void tu_expect_close(const float *got, const float *want, size_t n, double atol, double rtol,
                     const char *what)
{
    char msg[256];
    long bad = tu_compare(got, want, NULL, n, atol, rtol, msg, sizeof msg);
    ck_assert_msg(bad < 0, "%s: %s", what, msg);
}
