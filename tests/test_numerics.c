/* NaN and inf against the CPU reference for every operator and algorithm:
 * non-finite values injected into x, w and b at corners, tile edges and next
 * to the padding; the output buffer starts as NaN (a result must never depend
 * on what y held) inside guard bands that must stay untouched. Exact mode
 * (small integers), so finite outputs match bit for bit (Winograd: within
 * rounding). Rules (include/clconv.h):
 *   - conv2d / conv_transpose2d: IEEE arithmetic on the definition; a padded
 *     tap is a zero of the padded input, so 0 * inf = NaN there too;
 *     ReLU keeps NaN and maps -inf to 0;
 *   - Winograd F(2x2,3x3) mixes the 4x4 input window of each 2x2 output tile:
 *     where the reference is non-finite the result is non-finite; where the
 *     tile's window (and the channel's weights and bias) are finite the result
 *     is the reference's; other outputs of a tainted tile may be NaN;
 *   - pooling: PyTorch's rules (max: NaN wins; avg/lp: NaN propagates);
 *   - backward passes (non-finite values also in dy): backward-data sums
 *     dy * w over the pairs reaching an input cell (padding reaches none);
 *     backward-weights sums dy * xpad over every tap, a padded tap adding
 *     dy * 0 (NaN for inf/NaN dy, as the forward's 0 * w); backward-bias
 *     sums dy; ReLU backward is threshold_backward (y <= 0 ? 0 : dy, so a
 *     NaN y passes dy); pooling backward: max sends dy to the argmax cell
 *     (indices or recomputed from x, NaN wins), avg/adaptive avg spread dy
 *     (NaN too) to every covered cell, lp as autograd. */
#include "conv_tester.h"
#include "pool_tester.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char t;     /* 'x', 'w' or 'b' */
    long index; /* negative: from the end */
    float v;
} inject;

#define MAXI 6
typedef struct {
    const char *name;
    inject in[MAXI];
} special_case;

static void apply(const special_case *c, char t, float *a, size_t n)
{
    for (int i = 0; i < MAXI && c->in[i].t; i++)
        if (c->in[i].t == t) {
            long k = c->in[i].index < 0 ? (long)n + c->in[i].index : c->in[i].index;
            if (k >= 0 && (size_t)k < n)
                a[k] = c->in[i].v;
        }
}

/* The host arrays of a three-input case (x, w, and b or dy; tags "xwb" or
 * "xwd"): small integers from seed, filled in that order, with c's special
 * values, and ref of ny floats. The device runs go through the shared
 * testers (conv_tester.h, pool_tester.h): guarded buffers, the output
 * starting as NaN or junk. Serves conv2d, conv_transpose2d and conv2d
 * backward. */
typedef struct io3 {
    float *a[3], *ref;
    size_t n[3];
} io3;

static io3 io3_make(const special_case *c, const char *tags, uint64_t seed, size_t n0, size_t n1,
                    size_t n2, size_t ny)
{
    io3 io = {.n = {n0, n1, n2}};
    for (int i = 0; i < 3; i++)
        io.a[i] = tu_alloc(io.n[i]);
    io.ref = tu_alloc(ny);
    tu_rng r = tu_rng_make(seed);
    for (int i = 0; i < 3; i++)
        tu_fill(&r, io.a[i], io.n[i], true);
    for (int i = 0; i < 3; i++)
        apply(c, tags[i], io.a[i], io.n[i]);
    return io;
}

static void io3_free(io3 *io)
{
    for (int i = 0; i < 3; i++)
        free(io->a[i]);
    free(io->ref);
}

/* ---- conv2d --------------------------------------------------------------- */

/* True when the Winograd tile of output (n, oc, oh, ow) reads a non-finite
 * input, weight or bias. */
static bool wino_tainted(const clconv_conv2d_params *p, const clconv_shape *in, const float *x,
                         const float *w, const float *b, int64_t n, int64_t oc, int64_t oh,
                         int64_t ow)
{
    int64_t cin_g = p->in_channels / p->groups, g = oc / (p->out_channels / p->groups);
    if (p->has_bias && !isfinite(b[oc]))
        return true;
    for (int64_t k = 0; k < cin_g * 9; k++)
        if (!isfinite(w[oc * cin_g * 9 + k]))
            return true;
    int64_t r0 = (oh / 2) * 2 - p->pad_top, c0 = (ow / 2) * 2 - p->pad_left;
    for (int64_t ci = 0; ci < cin_g; ci++)
        for (int64_t r = r0; r < r0 + 4; r++)
            for (int64_t c = c0; c < c0 + 4; c++)
                if (r >= 0 && r < in->h && c >= 0 && c < in->w &&
                    !isfinite(x[((n * in->c + g * cin_g + ci) * in->h + r) * in->w + c]))
                    return true;
    return false;
}

static void conv2d_case(clconv_algorithm algo, const clconv_conv2d_params *p,
                        const clconv_shape *in, const special_case *c)
{
    clconv_plan_options o = {0};
    o.algorithm = algo;
    clconv_shape os, ws = clconv_conv2d_weight_shape(p);
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &os), 0);
    size_t nx = clconv_shape_elements(*in), nw = clconv_shape_elements(ws);
    size_t ny = clconv_shape_elements(os), nb = (size_t)p->out_channels;
    io3 io = io3_make(c, "xwb", 42, nx, nw, nb, ny);
    const float *x = io.a[0], *w = io.a[1], *b = io.a[2], *ref = io.ref;
    ck_assert_int_eq(clconv_ref_conv2d(p, in, x, w, p->has_bias ? b : NULL, io.ref), 0);
    const char *an = clconv_algorithm_name(algo);
    char name[160];
    snprintf(name, sizeof name, "%s, %s", an, c->name);
    clconv_plan_info info;
    float *y = tu_conv2d_run(tu_ctx(), p, in, x, w, p->has_bias ? b : NULL, &o, &info, name);
    char msg[256];
    if (info.algorithm != CLCONV_ALGO_WINOGRAD) {
        long bad = tu_compare(y, ref, NULL, ny, 0, 0, msg, sizeof msg);
        ck_assert_msg(bad < 0, "%s, %s (k %lldx%lld stride %lld pad %lld): %s", an, c->name,
                      (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                      (long long)p->pad_top, msg);
    } else {
        clconv_shape out = info.output;
        for (int64_t n = 0; n < out.n; n++)
            for (int64_t oc = 0; oc < out.c; oc++)
                for (int64_t oh = 0; oh < out.h; oh++)
                    for (int64_t ow = 0; ow < out.w; ow++) {
                        size_t i = (size_t)(((n * out.c + oc) * out.h + oh) * out.w + ow);
                        bool t = wino_tainted(p, in, x, w, b, n, oc, oh, ow);
                        if (!isfinite(ref[i]))
                            ck_assert_msg(!isfinite(y[i]),
                                          "winograd, %s: output %zu is %g, the reference %g",
                                          c->name, i, y[i], ref[i]);
                        else if (!t || isfinite(y[i]))
                            ck_assert_msg(fabsf(y[i] - ref[i]) <= 1e-3f + 1e-5f * fabsf(ref[i]),
                                          "winograd, %s: output %zu (tile %s) is %g, the "
                                          "reference %g", c->name, i, t ? "tainted" : "clean",
                                          y[i], ref[i]);
                    }
    }
    free(y);
    io3_free(&io);
}

/* In an 11x13 image with padding 1: the corners, a Winograd tile edge (row
 * 3/4, column 7/8), the last row and column, and the padding border. */
static const special_case conv_cases[] = {
    {"no special values", {{0}}},
    {"NaN in x at the corners", {{'x', 0, NAN}, {'x', -1, NAN}, {'x', 12, NAN}}},
    {"NaN in x at a tile edge", {{'x', 3 * 13 + 7, NAN}, {'x', 11 * 13 + 4 * 13 + 8, NAN}}},
    {"inf and -inf in x", {{'x', 5, INFINITY}, {'x', 10 * 13 + 12, -INFINITY},
                           {'x', 2 * 143 + 6 * 13, INFINITY}}},
    {"+inf and -inf meeting in x", {{'x', 4 * 13 + 4, INFINITY}, {'x', 4 * 13 + 5, -INFINITY}}},
    {"NaN in w", {{'w', 0, NAN}}},
    {"inf in w (meets the padding)", {{'w', -1, INFINITY}}},
    {"-inf in w at the centre tap", {{'w', 4, -INFINITY}}},
    {"NaN and inf in b", {{'b', 0, NAN}, {'b', -1, INFINITY}}},
};
#define N_CONV_CASES (int)(sizeof conv_cases / sizeof conv_cases[0])

static const clconv_algorithm conv_algos[] = {
    CLCONV_ALGO_DIRECT_TILED, CLCONV_ALGO_DIRECT_REGISTER, CLCONV_ALGO_DIRECT_VECTOR,
    CLCONV_ALGO_WINOGRAD, CLCONV_ALGO_GEMM,
};
#define N_CONV_ALGOS (int)(sizeof conv_algos / sizeof conv_algos[0])

START_TEST(test_conv2d_special_values)
{
    clconv_algorithm algo = conv_algos[_i];
    clconv_shape in = {2, 4, 11, 13};
    for (int relu = 0; relu < 2; relu++) {
        clconv_conv2d_params p = clconv_conv2d_default_params(4, 8, 3, 3);
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
        p.has_bias = 1;
        p.activation = relu ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_NONE;
        for (int c = 0; c < N_CONV_CASES; c++)
            conv2d_case(algo, &p, &in, &conv_cases[c]);
    }
    if (algo == CLCONV_ALGO_WINOGRAD)
        return;
    /* stride 2, asymmetric padding 2/0 (no Winograd) */
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 8, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_left = 2;
    p.has_bias = 1;
    for (int c = 0; c < N_CONV_CASES; c++)
        conv2d_case(algo, &p, &in, &conv_cases[c]);
    /* 1x1 (GEMM straight on the tensors) */
    p = clconv_conv2d_default_params(4, 8, 1, 1);
    p.has_bias = 1;
    for (int c = 0; c < N_CONV_CASES; c++)
        conv2d_case(algo, &p, &in, &conv_cases[c]);
}
END_TEST

START_TEST(test_conv2d_depthwise_special_values)
{
    clconv_shape in = {2, 4, 11, 13};
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 4, 3, 3);
    p.groups = 4;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    for (int c = 0; c < N_CONV_CASES; c++) {
        conv2d_case(CLCONV_ALGO_DIRECT_DEPTHWISE, &p, &in, &conv_cases[c]);
        /* channels in lanes: padding taps from the gathered zeros (0 * inf) */
        conv2d_case(CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS, &p, &in, &conv_cases[c]);
    }
}
END_TEST

/* ---- conv_transpose2d ----------------------------------------------------- */

static void conv_t_case(clconv_algorithm algo, const clconv_conv_transpose2d_params *p,
                        const clconv_shape *in, const special_case *c)
{
    clconv_plan_options o = {0};
    o.algorithm = algo;
    clconv_shape os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(p, in, &os), 0);
    size_t nx = clconv_shape_elements(*in);
    size_t nw = clconv_shape_elements(clconv_conv_transpose2d_weight_shape(p));
    size_t ny = clconv_shape_elements(os), nb = (size_t)p->out_channels;
    io3 io = io3_make(c, "xwb", 43, nx, nw, nb, ny);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(p, in, io.a[0], io.a[1], io.a[2], io.ref), 0);
    char name[160];
    snprintf(name, sizeof name, "%s, %s", clconv_algorithm_name(algo), c->name);
    float *y = tu_conv_transpose2d_run(tu_ctx(), p, in, io.a[0], io.a[1], io.a[2], &o, NULL, name);
    char msg[256];
    ck_assert_msg(tu_compare(y, io.ref, NULL, ny, 0, 0, msg, sizeof msg) < 0, "%s: %s", name, msg);
    free(y);
    io3_free(&io);
}

START_TEST(test_conv_transpose2d_special_values)
{
    clconv_algorithm algo = _i ? CLCONV_ALGO_TRANSPOSED_GEMM : CLCONV_ALGO_TRANSPOSED_GATHER;
    clconv_shape in = {2, 4, 11, 13};
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.output_padding_h = 1;
    p.has_bias = 1;
    for (int relu = 0; relu < 2; relu++) {
        p.activation = relu ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_NONE;
        for (int c = 0; c < N_CONV_CASES; c++)
            conv_t_case(algo, &p, &in, &conv_cases[c]);
    }
    /* stride 1, padding 1: edge columns where a tap has no input (a NaN or
     * inf weight must not reach them through 0 * w) */
    p = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    for (int c = 0; c < N_CONV_CASES; c++)
        conv_t_case(algo, &p, &in, &conv_cases[c]);
}
END_TEST

/* ---- pooling -------------------------------------------------------------- */

static void pool_case(const clconv_pool2d_params *p, const clconv_shape *in, const special_case *c,
                      const char *what)
{
    clconv_shape out;
    ck_assert_int_eq(clconv_pool2d_output_shape(p, in, &out), 0);
    size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(out);
    float *x = tu_alloc(nx), *ref = tu_alloc(ny);
    tu_rng r = tu_rng_make(44);
    tu_fill(&r, x, nx, true);
    apply(c, 'x', x, nx);
    ck_assert_int_eq(clconv_ref_pool2d(p, in, x, ref, NULL), 0);
    char name[160];
    snprintf(name, sizeof name, "%s, %s", what, c->name);
    float *y = tu_pool2d_run(tu_ctx(), p, in, x, NULL, NULL, NULL, name);
    /* avg and lp divide: one rounding apart at most */
    tu_expect_close(y, ref, ny, 1e-6, 1e-6, name);
    free(x);
    free(y);
    free(ref);
}

START_TEST(test_pool2d_special_values)
{
    clconv_shape in = {2, 4, 11, 13};
    struct {
        const char *name;
        clconv_pool2d_params p;
    } modes[6];
    modes[0].name = "max 3x3 s2 pad 1";
    modes[0].p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    modes[0].p.stride_h = modes[0].p.stride_w = 2;
    modes[0].p.pad_top = modes[0].p.pad_bottom = modes[0].p.pad_left = modes[0].p.pad_right = 1;
    modes[1].name = "max 2x2 ceil";
    modes[1].p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    modes[1].p.ceil_mode = 1;
    modes[2].name = "avg 3x3 s1 pad 1";
    modes[2].p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    modes[2].p.stride_h = modes[2].p.stride_w = 1;
    modes[2].p.pad_top = modes[2].p.pad_bottom = modes[2].p.pad_left = modes[2].p.pad_right = 1;
    modes[3].name = "lp 2 2x2";
    modes[3].p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    modes[4].name = "adaptive max 4x5";
    modes[4].p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_MAX, 4, 5);
    modes[5].name = "global avg";
    modes[5].p = clconv_pool2d_global_params(CLCONV_POOL_AVG);
    for (int m = 0; m < 6; m++)
        for (int c = 0; c < N_CONV_CASES; c++) {
            if (conv_cases[c].in[0].t && conv_cases[c].in[0].t != 'x')
                continue; /* no weights in pooling */
            pool_case(&modes[m].p, &in, &conv_cases[c], modes[m].name);
        }
}
END_TEST

/* ---- backward passes ---------------------------------------------------- */

/* Injections into 'x', 'w' and 'd' (dy); dy is 11x13 per channel with
 * padding 1 (6x7 with stride 2): corners, a tile edge, the last element. */
static const special_case bwd_cases[] = {
    {"no special values", {{0}}},
    {"NaN in dy at the corners", {{'d', 0, NAN}, {'d', -1, NAN}, {'d', 12, NAN}}},
    {"inf in dy at a corner (its taps meet the padding)", {{'d', 0, INFINITY}}},
    {"-inf in dy at the last element", {{'d', -1, -INFINITY}}},
    {"NaN in dy at a tile edge", {{'d', 3 * 13 + 7, NAN}}},
    {"+inf and -inf in dy of one channel", {{'d', 20, INFINITY}, {'d', 40, -INFINITY}}},
    {"NaN in w", {{'w', 0, NAN}}},
    {"inf in w", {{'w', -1, INFINITY}}},
    {"NaN in x at the corners", {{'x', 0, NAN}, {'x', -1, NAN}}},
    {"inf and -inf in x", {{'x', 5, INFINITY}, {'x', 10 * 13 + 12, -INFINITY}}},
};
#define N_BWD_CASES (int)(sizeof bwd_cases / sizeof bwd_cases[0])

enum { BD_GATHER, BD_GEMM, BW_WEIGHTS, BB_BIAS };
static const char *bwd_names[] = {"backward-data gather", "backward-data gemm",
                                  "backward-weights", "backward-bias"};

/* One conv2d backward pass with special values against the reference,
 * guarded buffers, outputs starting as NaN. Returns the device result
 * (caller frees) for rule checks. */
static float *bwd_conv_case(int op, const clconv_conv2d_params *p, const clconv_shape *in,
                            const special_case *c, size_t *nout)
{
    clconv_plan_options o = {0};
    if (op == BD_GATHER || op == BD_GEMM)
        o.algorithm = op == BD_GEMM ? CLCONV_ALGO_TRANSPOSED_GEMM : CLCONV_ALGO_TRANSPOSED_GATHER;
    clconv_shape out;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &out), 0);
    size_t nx = clconv_shape_elements(*in), nd = clconv_shape_elements(out);
    size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(p));
    size_t nr = op <= BD_GEMM ? nx : op == BW_WEIGHTS ? nw : (size_t)p->out_channels;
    io3 io = io3_make(c, "xwd", 45, nx, nw, nd, nr);
    const float *x = io.a[0], *w = io.a[1], *dy = io.a[2];
    float *ref = io.ref;
    if (op <= BD_GEMM)
        ck_assert_int_eq(clconv_ref_conv2d_backward_data(p, in, dy, w, ref), 0);
    else if (op == BW_WEIGHTS)
        ck_assert_int_eq(clconv_ref_conv2d_backward_weights(p, in, x, dy, ref), 0);
    else
        ck_assert_int_eq(clconv_ref_conv2d_backward_bias(p, in, dy, ref), 0);
    char name[160];
    snprintf(name, sizeof name, "%s, %s", bwd_names[op], c->name);
    float *y = op <= BD_GEMM ? tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_DATA, p, in, dy, w, &o,
                                                      NULL, name)
               : op == BW_WEIGHTS
                   ? tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_WEIGHTS, p, in, x, dy, NULL, NULL,
                                            name)
                   : tu_conv2d_backward_run(tu_ctx(), TU_BACKWARD_BIAS, p, in, dy, NULL, NULL,
                                            NULL, name);
    char msg[256];
    ck_assert_msg(tu_compare(y, ref, NULL, nr, 0, 0, msg, sizeof msg) < 0,
                  "%s, %s (stride %lld pad %lld/%lld): %s", bwd_names[op], c->name,
                  (long long)p->stride_h, (long long)p->pad_top, (long long)p->pad_bottom, msg);
    *nout = nr;
    io3_free(&io);
    return y;
}

START_TEST(test_conv2d_backward_special_values)
{
    int op = _i;
    clconv_shape in = {2, 4, 11, 13};
    for (int cfg = 0; cfg < 2; cfg++) {
        clconv_conv2d_params p = clconv_conv2d_default_params(4, 8, 3, 3);
        if (cfg == 0) {
            p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
        } else { /* stride 2, asymmetric padding 2/0, groups 2 */
            p.stride_h = p.stride_w = 2;
            p.pad_top = p.pad_left = 2;
            p.groups = 2;
        }
        for (int c = 0; c < N_BWD_CASES; c++) {
            size_t n;
            float *y = bwd_conv_case(op, &p, &in, &bwd_cases[c], &n);
            /* The rules, spelled out on top of the reference comparison. */
            if (cfg == 0 && op == BW_WEIGHTS && c == 2) {
                /* inf dy at output (0, 0) of channel 0: its taps kh = 0 or
                 * kw = 0 lie in the padding, dy * 0 = NaN; the others see
                 * inf * x (NaN where x is 0, else +-inf): none finite. */
                for (size_t i = 0; i < 4 * 9; i++) {
                    ck_assert_msg(!isfinite(y[i]), "backward-weights, inf dy: dw[0][%zu] = %g",
                                  i, y[i]);
                    if (i % 9 < 3 || i % 3 == 0)
                        ck_assert_msg(isnan(y[i]), "backward-weights, inf dy at a padded tap: "
                                      "dw[0][%zu] = %g, expected NaN", i, y[i]);
                }
                for (size_t i = 4 * 9; i < n; i++)
                    ck_assert_msg(isfinite(y[i]), "dw[%zu] = %g: another channel", i, y[i]);
            }
            if (cfg == 0 && op <= BD_GEMM && c == 2) {
                /* inf dy at (0, 0): dx gets it only at the 2x2 in-image taps
                 * of that window, of image 0 (every input channel). */
                for (size_t i = 0; i < n; i++) {
                    size_t img = i / (4 * 143), pix = i % 143;
                    bool hit = img == 0 && pix / 13 < 2 && pix % 13 < 2;
                    ck_assert_msg(hit || isfinite(y[i]), "dx[%zu] = %g", i, y[i]);
                }
            }
            if (op == BB_BIAS && c == 5)
                ck_assert_msg(isnan(y[0]), "db[0] = %g: inf + -inf, expected NaN", y[0]);
            free(y);
        }
    }
}
END_TEST

/* PyTorch's threshold_backward: dx = y <= 0 ? 0 : dy. */
START_TEST(test_relu_backward_special_values)
{
    clconv_context *ctx = tu_ctx();
    const float yv[] = {1, 2, NAN, NAN, 0.0f, -0.0f, -1, -1, INFINITY, -INFINITY, 3, 1e-45f};
    const float dv[] = {NAN, INFINITY, 5, NAN, NAN, 7, NAN, -INFINITY, 2, INFINITY, -INFINITY, 4};
    const float want[] = {NAN, INFINITY, 5, NAN, 0, 0, 0, 0, 2, 0, -INFINITY, 4};
    const size_t n = sizeof yv / sizeof yv[0];
    clconv_shape s = {1, 1, 3, 4};
    float ref[12], y[12];
    ck_assert_int_eq(clconv_ref_relu_backward(n, yv, dv, ref), 0);
    char msg[256];
    ck_assert_msg(tu_compare(ref, want, NULL, n, 0, 0, msg, sizeof msg) < 0, "reference: %s", msg);
    clconv_plan *plan;
    ck_assert_int_eq(clconv_relu_backward_plan_create(ctx, &s, &plan), CLCONV_SUCCESS);
    tu_guarded gy = tu_guarded_create(ctx, sizeof yv, yv), gd = tu_guarded_create(ctx, sizeof dv, dv);
    for (size_t i = 0; i < n; i++)
        y[i] = NAN;
    tu_guarded gx = tu_guarded_create(ctx, sizeof y, y);
    cl_event done;
    ck_assert_int_eq(clconv_relu_backward_run(plan, gy.buf, gd.buf, gx.buf, 0, NULL, &done), 0);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert(tu_guarded_read(ctx, &gx, y));
    ck_assert_msg(tu_compare(y, want, NULL, n, 0, 0, msg, sizeof msg) < 0, "device: %s", msg);
    tu_guarded_release(&gy);
    tu_guarded_release(&gd);
    tu_guarded_release(&gx);
    clconv_plan_destroy(plan);
}
END_TEST

/* Pooling backward: max through indices (NaN in x decides the index, NaN in
 * dy goes to that one cell), max recomputing the argmax from x, avg (NaN in
 * dy spreads to every cell its window covers), lp, adaptive. */
static void pool_bwd_case(const clconv_pool2d_params *p, const clconv_shape *in,
                          const special_case *c, int with_idx, const char *what)
{
    clconv_shape out;
    ck_assert_int_eq(clconv_pool2d_output_shape(p, in, &out), 0);
    size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(out);
    float *x = tu_alloc(nx), *dy = tu_alloc(ny), *fy = tu_alloc(ny), *ref = tu_alloc(nx);
    int64_t *idx = malloc(ny * sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    tu_rng r = tu_rng_make(46);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, dy, ny, true);
    if (p->mode == CLCONV_POOL_LP)
        for (size_t i = 0; i < nx; i++)
            x[i] = fabsf(x[i]) + 1; /* a positive base: the gradient is defined */
    apply(c, 'x', x, nx);
    apply(c, 'd', dy, ny);
    bool max = p->mode == CLCONV_POOL_MAX || p->mode == CLCONV_POOL_ADAPTIVE_MAX;
    ck_assert_int_eq(clconv_ref_pool2d(p, in, x, fy, max ? idx : NULL), 0);
    const int64_t *ip = max && with_idx ? idx : NULL;
    const float *xp = max && with_idx ? NULL : x;
    ck_assert_int_eq(clconv_ref_pool2d_backward(p, in, dy, ip, xp, ref), 0);
    char name[160];
    snprintf(name, sizeof name, "%s, %s", what, c->name);
    float *dx = tu_pool2d_backward_run(tu_ctx(), p, in, dy, ip, x, NULL, name);
    tu_expect_close(dx, ref, nx, 1e-6, 1e-6, name);
    /* The rules, spelled out: NaN in dy of window 0 (output 0). */
    if (c->in[0].t == 'd' && c->in[0].index == 0 && isnan(c->in[0].v)) {
        if (max) /* only the argmax cell of window 0 */
            for (size_t i = 0; i < (size_t)(in->h * in->w); i++)
                ck_assert_msg(isnan(dx[i]) == ((int64_t)i == idx[0]) || isnan(x[i]) ||
                                  (int64_t)i == idx[1],
                              "%s: NaN dy of window 0 at dx[%zu] (argmax %lld)", what, i,
                              (long long)idx[0]);
        else if (p->mode == CLCONV_POOL_AVG) /* every in-image cell of window 0 */
            for (int64_t h = 0; h < p->kernel_h - p->pad_top; h++)
                for (int64_t w = 0; w < p->kernel_w - p->pad_left; w++)
                    ck_assert_msg(isnan(dx[h * in->w + w]), "%s: dx[%lld][%lld] = %g, expected NaN",
                                  what, (long long)h, (long long)w, dx[h * in->w + w]);
    }
    free(x);
    free(dy);
    free(fy);
    free(ref);
    free(dx);
    free(idx);
}

static const special_case pool_bwd_cases[] = {
    {"no special values", {{0}}},
    {"NaN in dy of window 0", {{'d', 0, NAN}}},
    {"inf and -inf in dy", {{'d', 3, INFINITY}, {'d', 4, -INFINITY}, {'d', -1, INFINITY}}},
    {"NaN in x at the corners", {{'x', 0, NAN}, {'x', -1, NAN}, {'x', 12, NAN}}},
    {"inf and -inf in x", {{'x', 14, INFINITY}, {'x', 15, -INFINITY}, {'x', 2 * 143 + 6 * 13, INFINITY}}},
};

START_TEST(test_pool2d_backward_special_values)
{
    clconv_shape in = {2, 4, 11, 13};
    struct {
        const char *name;
        clconv_pool2d_params p;
        int idx;
    } modes[7];
    modes[0].name = "max 3x3 s2 pad 1, indices";
    modes[0].p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    modes[0].p.stride_h = modes[0].p.stride_w = 2;
    modes[0].p.pad_top = modes[0].p.pad_bottom = modes[0].p.pad_left = modes[0].p.pad_right = 1;
    modes[0].idx = 1;
    modes[1] = modes[0];
    modes[1].name = "max 3x3 s2 pad 1, from x";
    modes[1].idx = 0;
    modes[2].name = "avg 3x3 s2 pad 1";
    modes[2].p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    modes[2].p.stride_h = modes[2].p.stride_w = 2;
    modes[2].p.pad_top = modes[2].p.pad_bottom = modes[2].p.pad_left = modes[2].p.pad_right = 1;
    modes[2].idx = 0;
    modes[3].name = "lp 2 2x2";
    modes[3].p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    modes[3].idx = 0;
    modes[4].name = "adaptive max 4x5, indices";
    modes[4].p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_MAX, 4, 5);
    modes[4].idx = 1;
    modes[5] = modes[4];
    modes[5].name = "adaptive max 4x5, from x";
    modes[5].idx = 0;
    modes[6].name = "adaptive avg 4x5";
    modes[6].p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 4, 5);
    modes[6].idx = 0;
    for (int m = 0; m < 7; m++)
        for (size_t c = 0; c < sizeof pool_bwd_cases / sizeof pool_bwd_cases[0]; c++)
            pool_bwd_case(&modes[m].p, &in, &pool_bwd_cases[c], modes[m].idx, modes[m].name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("numerics");
    TCase *tc = tcase_create("special values");
    tcase_set_timeout(tc, 0);
    tcase_add_loop_test(tc, test_conv2d_special_values, 0, N_CONV_ALGOS);
    tcase_add_test(tc, test_conv2d_depthwise_special_values);
    tcase_add_loop_test(tc, test_conv_transpose2d_special_values, 0, 2);
    tcase_add_test(tc, test_pool2d_special_values);
    tcase_add_loop_test(tc, test_conv2d_backward_special_values, 0, 4);
    tcase_add_test(tc, test_relu_backward_special_values);
    tcase_add_test(tc, test_pool2d_backward_special_values);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
