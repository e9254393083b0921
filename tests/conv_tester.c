/* The conv2d tester (conv_tester.h). */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
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

static int has_residual(const layer *l)
{
    return l->transposed ? l->ct->has_residual : l->conv->has_residual;
}

static int pre_output(const layer *l)
{
    return l->transposed ? l->ct->pre_activation_output : l->conv->pre_activation_output;
}

/* A plan without a residual or second output runs through its operator's
 * own call, one with them through clconv_conv_run. */
static clconv_status run(const layer *l, clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                         cl_mem y, cl_mem ws, cl_mem z, cl_mem pre, cl_event *done)
{
    if (has_residual(l) || pre_output(l)) {
        const clconv_conv_buffers bufs = {.x = x, .w = w, .b = b, .y = y, .workspace = ws,
                                          .z = z, .pre = pre};
        return clconv_conv_run(plan, &bufs, 0, NULL, done);
    }
    return l->transposed ? clconv_conv_transpose2d_run(plan, x, w, b, y, ws, 0, NULL, done)
                         : clconv_conv2d_run(plan, x, w, b, y, ws, 0, NULL, done);
}

static clconv_dtype dtype_of(const layer *l)
{
    return l->transposed ? l->ct->dtype : l->conv->dtype;
}

/* The tensor as the plan stores it: a (floats) itself, or for fp16 a new
 * array of its halves in *tmp (the caller frees it). */
static const void *stored(const float *a, size_t n, bool f16, uint16_t **tmp)
{
    *tmp = NULL;
    if (!f16 || !a)
        return a;
    *tmp = malloc((n ? n : 1) * sizeof(uint16_t));
    ck_assert_ptr_nonnull(*tmp);
    clconv_floats_to_halves(a, *tmp, n);
    return *tmp;
}

/* tu_guarded_read of a tensor of n elements into the floats dst (may be
 * NULL), widening fp16 storage. */
static bool read_stored(clconv_context *ctx, tu_guarded *g, float *dst, size_t n, bool f16)
{
    if (!f16 || !dst)
        return tu_guarded_read(ctx, g, dst);
    uint16_t *h = malloc((n ? n : 1) * sizeof(uint16_t));
    ck_assert_ptr_nonnull(h);
    bool ok = tu_guarded_read(ctx, g, h);
    clconv_halves_to_floats(h, dst, n);
    free(h);
    return ok;
}

static float *run_guarded(clconv_context *ctx, const layer *l, const clconv_shape *in,
                          const float *x, const float *w, const float *b,
                          const tu_conv_epilogue *epi, const clconv_plan_options *opt,
                          clconv_plan_info *info_out, const char *what)
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
    /* fp16 storage: 2-byte elements, the buffers sized to the byte */
    const bool f16 = dtype_of(l) == CLCONV_DTYPE_F16;
    const size_t es = f16 ? 2 : 4;
    uint16_t *hx, *hw, *hb, *hz;
    const void *sx = stored(x, nx, f16, &hx), *sw = stored(w, nw, f16, &hw);
    const void *sb = stored(has_bias ? b : NULL, (size_t)oc, f16, &hb);
    const void *sz = stored(epi ? epi->z : NULL, ny, f16, &hz);
    tu_guarded gx = tu_guarded_create(ctx, nx * es, sx);
    tu_guarded gw = tu_guarded_create(ctx, nw * es, sw);
    tu_guarded gb = {0}, gws = {0};
    if (has_bias)
        gb = tu_guarded_create(ctx, (size_t)oc * es, sb);
    if (info.workspace_bytes)
        gws = tu_guarded_create(ctx, info.workspace_bytes, NULL);
    /* The residual: in place, y starts as z; else z in its own buffer. */
    const bool res = has_residual(l), in_place = res && epi && epi->in_place;
    ck_assert_msg(!res || (epi && epi->z), "%s: a residual layer without z", what);
    tu_guarded gy = tu_guarded_create(ctx, ny * es, in_place ? sz : NULL);
    tu_guarded gz = {0}, gpre = {0};
    if (res && !in_place)
        gz = tu_guarded_create(ctx, ny * es, sz);
    if (pre_output(l))
        gpre = tu_guarded_create(ctx, ny * es, NULL);
    free(hx);
    free(hw);
    free(hb);
    free(hz);
    cl_event done = NULL;
    st = run(l, plan, gx.buf, gw.buf, has_bias ? gb.buf : NULL, gy.buf,
             info.workspace_bytes ? gws.buf : NULL, !res ? NULL : in_place ? gy.buf : gz.buf,
             pre_output(l) ? gpre.buf : NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: run: %s", what, clconv_last_error(ctx));
    ck_assert_ptr_nonnull(done);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    float *y = tu_alloc(ny);
    ck_assert_msg(read_stored(ctx, &gy, y, ny, f16), "%s: %s wrote outside the output buffer (%s)",
                  what, info.kernel_name, info.build_options);
    ck_assert_msg(tu_guarded_read(ctx, &gx, NULL) && tu_guarded_read(ctx, &gw, NULL),
                  "%s: input guard bands changed", what);
    if (res && !in_place)
        ck_assert_msg(tu_guarded_read(ctx, &gz, NULL), "%s: z or its guard bands changed", what);
    if (pre_output(l))
        ck_assert_msg(read_stored(ctx, &gpre, epi ? epi->pre : NULL, ny, f16),
                      "%s: %s wrote outside the pre-activation buffer", what, info.kernel_name);
    if (info.workspace_bytes)
        ck_assert_msg(tu_guarded_read(ctx, &gws, NULL),
                      "%s: %s wrote outside the workspace (%zu bytes)", what,
                      clconv_algorithm_name(info.algorithm), info.workspace_bytes);
    tu_guarded_release(&gx);
    tu_guarded_release(&gw);
    tu_guarded_release(&gb);
    tu_guarded_release(&gws);
    tu_guarded_release(&gy);
    tu_guarded_release(&gz);
    tu_guarded_release(&gpre);
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
    return run_guarded(ctx, &l, in, x, w, b, NULL, opt, info, what);
}

float *tu_conv2d_run_epilogue(clconv_context *ctx, const clconv_conv2d_params *p,
                              const clconv_shape *in, const float *x, const float *w,
                              const float *b, const tu_conv_epilogue *epi,
                              const clconv_plan_options *opt, clconv_plan_info *info,
                              const char *what)
{
    const layer l = {.conv = p};
    return run_guarded(ctx, &l, in, x, w, b, epi, opt, info, what);
}

float *tu_conv_transpose2d_run_epilogue(clconv_context *ctx,
                                        const clconv_conv_transpose2d_params *p,
                                        const clconv_shape *in, const float *x, const float *w,
                                        const float *b, const tu_conv_epilogue *epi,
                                        const clconv_plan_options *opt, clconv_plan_info *info,
                                        const char *what)
{
    const layer l = {.transposed = true, .ct = p};
    return run_guarded(ctx, &l, in, x, w, b, epi, opt, info, what);
}

float *tu_conv_transpose2d_run(clconv_context *ctx, const clconv_conv_transpose2d_params *p,
                               const clconv_shape *in, const float *x, const float *w,
                               const float *b, const clconv_plan_options *opt,
                               clconv_plan_info *info, const char *what)
{
    const layer l = {.transposed = true, .ct = p};
    return run_guarded(ctx, &l, in, x, w, b, NULL, opt, info, what);
}

/* The reference of layer l on x, w, b (and z) into y (and pre, may be NULL). */
static void reference(const layer *l, const clconv_shape *in, const float *x, const float *w,
                      const float *b, const float *z, float *y, float *pre)
{
    clconv_status st =
        l->transposed ? clconv_ref_conv_transpose2d_epilogue(l->ct, in, x, w, b, z, y, pre)
                      : clconv_ref_conv2d_epilogue(l->conv, in, x, w, b, z, y, pre);
    ck_assert_msg(st == CLCONV_SUCCESS, "reference: %s", clconv_last_error(NULL));
}

/* The bound's scale into scale (ny floats): the layer without its activation
 * on |x|, |w| and, with a bias, |b|; with a residual |alpha| sum |x*w| +
 * |beta| |z| + |b| (z: ny floats, NULL without a residual). */
static void abs_scale(const layer *l, const clconv_shape *in, size_t nx, size_t nw, size_t nb,
                      size_t ny, const float *x, const float *w, const float *b, const float *z,
                      float *scale)
{
    clconv_conv2d_params ap;
    clconv_conv_transpose2d_params at;
    layer al = *l;
    if (l->transposed) {
        at = *l->ct;
        at.activation = CLCONV_ACTIVATION_NONE;
        at.alpha = fabsf(at.alpha);
        at.beta = fabsf(at.beta);
        al.ct = &at;
    } else {
        ap = *l->conv;
        ap.activation = CLCONV_ACTIVATION_NONE;
        ap.alpha = fabsf(ap.alpha);
        ap.beta = fabsf(ap.beta);
        al.conv = &ap;
    }
    float *ax = tu_alloc(nx), *aw = tu_alloc(nw), *ab = tu_alloc(nb);
    float *az = z ? tu_alloc(ny) : NULL;
    for (size_t j = 0; j < nx; j++)
        ax[j] = fabsf(x[j]);
    for (size_t j = 0; j < nw; j++)
        aw[j] = fabsf(w[j]);
    for (size_t j = 0; j < nb; j++)
        ab[j] = b ? fabsf(b[j]) : 0.0f;
    for (size_t j = 0; z && j < ny; j++)
        az[j] = fabsf(z[j]);
    reference(&al, in, ax, aw, ab, az, scale, NULL);
    free(ax);
    free(aw);
    free(ab);
    free(az);
}

float *tu_conv2d_abs_scale(const clconv_conv2d_params *p, const clconv_shape *in, const float *x,
                           const float *w, const float *b)
{
    const layer l = {.conv = p};
    clconv_shape os;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    float *scale = tu_alloc(clconv_shape_elements(os));
    ck_assert_msg(!p->has_residual, "tu_conv2d_abs_scale: a residual layer");
    abs_scale(&l, in, clconv_shape_elements(*in),
              clconv_shape_elements(clconv_conv2d_weight_shape(p)), (size_t)p->out_channels,
              clconv_shape_elements(os), x, w, b, NULL, scale);
    return scale;
}

float *tu_conv_transpose2d_abs_scale_epilogue(const clconv_conv_transpose2d_params *p,
                                              const clconv_shape *in, const float *x,
                                              const float *w, const float *b, const float *z)
{
    const layer l = {.transposed = true, .ct = p};
    clconv_shape os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    float *scale = tu_alloc(clconv_shape_elements(os));
    abs_scale(&l, in, clconv_shape_elements(*in),
              clconv_shape_elements(clconv_conv_transpose2d_weight_shape(p)),
              (size_t)p->out_channels, clconv_shape_elements(os), x, w, b,
              p->has_residual ? z : NULL, scale);
    return scale;
}

float *tu_conv2d_abs_scale_epilogue(const clconv_conv2d_params *p, const clconv_shape *in,
                                    const float *x, const float *w, const float *b,
                                    const float *z)
{
    const layer l = {.conv = p};
    clconv_shape os;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    float *scale = tu_alloc(clconv_shape_elements(os));
    abs_scale(&l, in, clconv_shape_elements(*in),
              clconv_shape_elements(clconv_conv2d_weight_shape(p)), (size_t)p->out_channels,
              clconv_shape_elements(os), x, w, b, p->has_residual ? z : NULL, scale);
    return scale;
}

float *tu_conv_transpose2d_abs_scale(const clconv_conv_transpose2d_params *p,
                                     const clconv_shape *in, const float *x, const float *w,
                                     const float *b)
{
    const layer l = {.transposed = true, .ct = p};
    clconv_shape os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    float *scale = tu_alloc(clconv_shape_elements(os));
    ck_assert_msg(!p->has_residual, "tu_conv_transpose2d_abs_scale: a residual layer");
    abs_scale(&l, in, clconv_shape_elements(*in),
              clconv_shape_elements(clconv_conv_transpose2d_weight_shape(p)),
              (size_t)p->out_channels, clconv_shape_elements(os), x, w, b, NULL, scale);
    return scale;
}

static void check(clconv_context *ctx, const layer *l, const clconv_shape *in,
                  const clconv_plan_options *opt, tu_rng *r, bool integers,
                  clconv_plan_info *info, const char *what)
{
    clconv_shape ws, os;
    int64_t oc, k;
    if (l->transposed) {
        ws = clconv_conv_transpose2d_weight_shape(l->ct);
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(l->ct, in, &os), CLCONV_SUCCESS);
        oc = l->ct->out_channels;
        k = in->c / l->ct->groups * l->ct->kernel_h * l->ct->kernel_w;
    } else {
        ws = clconv_conv2d_weight_shape(l->conv);
        ck_assert_int_eq(clconv_conv2d_output_shape(l->conv, in, &os), CLCONV_SUCCESS);
        oc = l->conv->out_channels;
        k = ws.c * ws.h * ws.w;
    }
    const size_t nx = clconv_shape_elements(*in), nw = clconv_shape_elements(ws);
    const size_t ny = clconv_shape_elements(os), nb = (size_t)oc;
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc(nb), *ref = tu_alloc(ny);
    float *scale = tu_alloc(ny);
    tu_fill(r, x, nx, integers);
    tu_fill(r, w, nw, integers);
    tu_fill(r, b, nb, integers);
    /* fp16 storage: the inputs are halves (the reference runs on them) */
    const bool f16 = dtype_of(l) == CLCONV_DTYPE_F16;
    if (f16) {
        tu_round_to_half(x, nx);
        tu_round_to_half(w, nw);
        tu_round_to_half(b, nb);
    }
    /* The epilogue: z drawn like x (and in place or not), the reference's pre. */
    tu_conv_epilogue epi = {0};
    float *z = NULL, *ref_pre = NULL;
    if (has_residual(l)) {
        z = tu_alloc(ny);
        tu_fill(r, z, ny, integers);
        if (f16)
            tu_round_to_half(z, ny);
        epi.z = z;
        epi.in_place = tu_int(r, 0, 1);
    }
    if (pre_output(l)) {
        ref_pre = tu_alloc(ny);
        epi.pre = tu_alloc(ny);
    }
    reference(l, in, x, w, b, z, ref, ref_pre);
    abs_scale(l, in, nx, nw, nb, ny, x, w, b, z, scale);
    /* A bounded activation (sigmoid, hardsigmoid, elu's floor) can be far
     * larger than sum |x*w| + |b|: its own float evaluation scales with it. */
    for (size_t j = 0; j < ny; j++)
        if (fabsf(ref[j]) > scale[j])
            scale[j] = fabsf(ref[j]);
    float *y = run_guarded(ctx, l, in, x, w, b, &epi, opt, info, what);
    /* Integer data is exact through the piecewise-linear activations (and
     * the residual's binary-fraction scales). */
    const clconv_activation act = l->transposed ? l->ct->activation : l->conv->activation;
    const bool exact = integers && tu_activation_exact_on_integers(act);
    const double rtol = exact ? 0.0 : 4.0 * sqrt((double)(k + 2)) * FLT_EPSILON;
    char msg[256];
    /* fp16 storage: the F32 bound plus one half ulp of the result */
    long (*cmp)(const float *, const float *, const float *, size_t, double, double, char *,
                size_t) = f16 ? tu_compare_f16 : tu_compare;
    long bad = cmp(y, ref, scale, ny, exact ? 0.0 : 1e-7, rtol, msg, sizeof msg);
    if (bad >= 0)
        ck_abort_msg("%s%s: %s", what, epi.in_place ? " (z = y, in place)" : "", msg);
    if (ref_pre) {
        bad = cmp(epi.pre, ref_pre, scale, ny, integers ? 0.0 : 1e-7,
                         integers ? 0.0 : rtol, msg, sizeof msg);
        if (bad >= 0)
            ck_abort_msg("%s: the pre-activation output: %s", what, msg);
    }
    free(z);
    free(ref_pre);
    free(epi.pre);
    free(x);
    free(w);
    free(b);
    free(ref);
    free(scale);
    free(y);
}

void tu_conv2d_check(clconv_context *ctx, const clconv_conv2d_params *p, const clconv_shape *in,
                     const clconv_plan_options *opt, tu_rng *r, bool integers,
                     clconv_plan_info *info, const char *what)
{
    const layer l = {.conv = p};
    check(ctx, &l, in, opt, r, integers, info, what);
}

void tu_conv_transpose2d_check(clconv_context *ctx, const clconv_conv_transpose2d_params *p,
                               const clconv_shape *in, const clconv_plan_options *opt, tu_rng *r,
                               bool integers, clconv_plan_info *info, const char *what)
{
    const layer l = {.transposed = true, .ct = p};
    check(ctx, &l, in, opt, r, integers, info, what);
}

const char *tu_backward_pass_name(tu_backward_pass pass)
{
    static const char *const names[] = {"backward-data", "backward-weights", "backward-bias"};
    return (unsigned)pass < 3 ? names[pass] : "backward-?";
}

float *tu_conv2d_backward_run(clconv_context *ctx, tu_backward_pass pass,
                              const clconv_conv2d_params *p, const clconv_shape *in,
                              const float *a, const float *b, const clconv_plan_options *opt,
                              clconv_plan_info *info_out, const char *what)
{
    clconv_shape os;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    const size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(os);
    const size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(p));
    clconv_plan *plan = NULL;
    clconv_status st =
        pass == TU_BACKWARD_DATA ? clconv_conv2d_backward_data_plan_create(ctx, p, in, opt, &plan)
        : pass == TU_BACKWARD_WEIGHTS
            ? clconv_conv2d_backward_weights_plan_create(ctx, p, in, opt, &plan)
            : clconv_conv2d_backward_bias_plan_create(ctx, p, in, opt, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: %s plan: %s: %s", what, tu_backward_pass_name(pass),
                  clconv_status_string(st), clconv_last_error(ctx));
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    const size_t na = pass == TU_BACKWARD_WEIGHTS ? nx : ny;
    const size_t nb = pass == TU_BACKWARD_DATA ? nw : ny;
    const size_t nout = pass == TU_BACKWARD_DATA      ? nx
                        : pass == TU_BACKWARD_WEIGHTS ? nw
                                                      : (size_t)p->out_channels;
    ck_assert_uint_eq(clconv_shape_elements(info.output), nout);
    /* fp16 storage: a and b go up as halves (they hold halves widened), the
     * output comes back as halves, widened here; the workspace is the
     * plan's (float partial sums). */
    const bool f16 = p->dtype == CLCONV_DTYPE_F16;
    const size_t es = f16 ? 2 : 4;
    uint16_t *ah = NULL, *bh = NULL, *outh = NULL;
    float *out = tu_alloc(nout);
    for (size_t i = 0; i < nout; i++)
        out[i] = NAN;
    if (f16) {
        ah = calloc(na ? na : 1, 2);
        bh = calloc(nb ? nb : 1, 2);
        outh = calloc(nout ? nout : 1, 2);
        ck_assert(ah && bh && outh);
        clconv_floats_to_halves(a, ah, na);
        if (pass != TU_BACKWARD_BIAS)
            clconv_floats_to_halves(b, bh, nb);
        clconv_floats_to_halves(out, outh, nout);
    }
    tu_guarded ga = tu_guarded_create(ctx, na * es, f16 ? (const void *)ah : a), gb = {0},
               gws = {0};
    if (pass != TU_BACKWARD_BIAS)
        gb = tu_guarded_create(ctx, nb * es, f16 ? (const void *)bh : b);
    if (info.workspace_bytes)
        gws = tu_guarded_create(ctx, info.workspace_bytes, NULL);
    tu_guarded go = tu_guarded_create(ctx, nout * es, f16 ? (void *)outh : out);
    cl_event done = NULL;
    st = pass == TU_BACKWARD_DATA
             ? clconv_conv2d_backward_data_run(plan, ga.buf, gb.buf, go.buf, gws.buf, 0, NULL,
                                               &done)
         : pass == TU_BACKWARD_WEIGHTS
             ? clconv_conv2d_backward_weights_run(plan, ga.buf, gb.buf, go.buf, gws.buf, 0, NULL,
                                                  &done)
             : clconv_conv2d_backward_bias_run(plan, ga.buf, go.buf, 0, NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: %s run: %s", what, tu_backward_pass_name(pass),
                  clconv_last_error(ctx));
    ck_assert_ptr_nonnull(done);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_msg(tu_guarded_read(ctx, &go, f16 ? (void *)outh : out),
                  "%s: %s wrote outside its output (%s)", what, info.kernel_name,
                  info.build_options);
    ck_assert_msg(tu_guarded_read(ctx, &ga, NULL), "%s: input guard bands changed", what);
    if (pass != TU_BACKWARD_BIAS)
        ck_assert_msg(tu_guarded_read(ctx, &gb, NULL), "%s: input guard bands changed", what);
    if (info.workspace_bytes)
        ck_assert_msg(tu_guarded_read(ctx, &gws, NULL), "%s: wrote outside the workspace", what);
    if (f16)
        clconv_halves_to_floats(outh, out, nout);
    free(ah);
    free(bh);
    free(outh);
    tu_guarded_release(&ga);
    tu_guarded_release(&gb);
    tu_guarded_release(&gws);
    tu_guarded_release(&go);
    clconv_plan_destroy(plan);
    if (info_out)
        *info_out = info;
    return out;
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
        CLCONV_ALGO_DIRECT_BATCH,   CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS,
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
