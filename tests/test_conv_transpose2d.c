/* conv_transpose2d / conv_transpose1d: the seeds' examples, the adjoint
 * identity with conv2d, a randomized sweep of both device algorithms against
 * the (scatter-form) CPU reference, edge shapes, run-to-run determinism and
 * bad input. */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GEMM stays at index 1 (bad_buffers checks its workspace there). */
static const clconv_algorithm ALGOS[] = {CLCONV_ALGO_TRANSPOSED_GATHER,
                                         CLCONV_ALGO_TRANSPOSED_GEMM,
                                         CLCONV_ALGO_TRANSPOSED_VECTOR,
                                         CLCONV_ALGO_TRANSPOSED_COLUMNS};
#define NALGOS (sizeof ALGOS / sizeof ALGOS[0])

/* Runs p on the device through the shared tester (guarded buffers,
 * workspace included); returns the output (caller frees). AUTO must pick the
 * gather or, on CPU devices, a vector variant; only GEMM has a workspace. */
static float *device_ct(const clconv_conv_transpose2d_params *p, const clconv_shape *in,
                        const float *x, const float *w, const float *b,
                        const clconv_plan_options *opt, clconv_plan_info *info_out)
{
    clconv_plan_info info;
    float *y = tu_conv_transpose2d_run(tu_ctx(), p, in, x, w, b, opt, &info,
                                       opt ? clconv_algorithm_name(opt->algorithm) : "auto");
    if (!opt || !opt->algorithm)
        ck_assert(info.algorithm == CLCONV_ALGO_TRANSPOSED_GATHER ||
                  info.algorithm == CLCONV_ALGO_TRANSPOSED_VECTOR ||
                  info.algorithm == CLCONV_ALGO_TRANSPOSED_COLUMNS);
    if (info.algorithm != CLCONV_ALGO_TRANSPOSED_GEMM)
        ck_assert_uint_eq(info.workspace_bytes, 0);
    else
        ck_assert_uint_gt(info.workspace_bytes, 0);
    if (info_out)
        *info_out = info;
    return y;
}


/* Checks the shape, the reference, both device algorithms and the host call
 * against exact expected values. */
static void golden(const clconv_conv_transpose2d_params *p, const clconv_shape *in,
                   const float *x, const float *w, const float *b, const float *want,
                   clconv_shape want_shape)
{
    clconv_shape os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(p, in, &os), CLCONV_SUCCESS);
    ck_assert_int_eq(os.n, want_shape.n);
    ck_assert_int_eq(os.c, want_shape.c);
    ck_assert_int_eq(os.h, want_shape.h);
    ck_assert_int_eq(os.w, want_shape.w);
    size_t n = clconv_shape_elements(os);
    float *ref = tu_alloc(n);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(p, in, x, w, b, ref), CLCONV_SUCCESS);
    if (want)
        tu_expect_values(ref, want, n, "reference");
    else
        want = ref;
    for (size_t a = 0; a < NALGOS; a++) {
        clconv_plan_options o = {.algorithm = ALGOS[a]};
        clconv_plan_info info;
        float *y = device_ct(p, in, x, w, b, &o, &info);
        ck_assert_int_eq(info.output.h, want_shape.h);
        ck_assert_int_eq(info.output.w, want_shape.w);
        tu_expect_values(y, want, n, clconv_algorithm_name(ALGOS[a]));
        free(y);
    }
    float *y = tu_alloc(n);
    ck_assert_int_eq(clconv_conv_transpose2d_host(tu_ctx(), p, in, NULL, x, w, b, y),
                     CLCONV_SUCCESS);
    tu_expect_values(y, want, n, "clconv_conv_transpose2d_host");
    free(y);
    free(ref);
}

START_TEST(seed_3x3_stride2)
{
    /* x = w = [[1,2,3],[4,5,6],[7,8,9]], kernel 3, padding 1, stride 2 -> 5x5;
     * values computed independently (Python, gather definition). */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float want5[25] = {5,  14, 10, 24,  15, 16, 40, 26, 60, 36, 20, 44, 25,
                             54, 30, 46, 100, 56, 120, 66, 35, 74, 40, 84, 45};
    const float want6[36] = {5,  14,  10, 24,  15, 18, 16, 40,  26, 60,  36, 45,
                             20, 44,  25, 54,  30, 36, 46, 100, 56, 120, 66, 81,
                             35, 74,  40, 84,  45, 54, 56, 119, 64, 135, 72, 81};
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(1, 1, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    clconv_shape in = {1, 1, 3, 3};
    golden(&p, &in, x, w, NULL, want5, (clconv_shape){1, 1, 5, 5});
    p.output_padding_h = p.output_padding_w = 1;
    golden(&p, &in, x, w, NULL, want6, (clconv_shape){1, 1, 6, 6});
    /* With bias and ReLU: -60 clips everything below 60. */
    float bias[1] = {-60};
    float want_r[36];
    for (int i = 0; i < 36; i++)
        want_r[i] = want6[i] - 60 > 0 ? want6[i] - 60 : 0;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    golden(&p, &in, x, w, bias, want_r, (clconv_shape){1, 1, 6, 6});
}
END_TEST

START_TEST(seed_32x32_to_64x64)
{
    /* The usual 2x upsampling layer: kernel 3, stride 2, padding 1,
     * output_padding 1 doubles 32x32 to 64x64. */
    tu_rng r = tu_rng_make(64);
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(3, 4, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.output_padding_h = p.output_padding_w = 1;
    p.has_bias = 1;
    clconv_shape in = {2, 3, 32, 32};
    size_t nx = clconv_shape_elements(in), nw = 3 * 4 * 9;
    float *x = tu_alloc(nx), *w = tu_alloc(nw), b[4];
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, 4, true);
    golden(&p, &in, x, w, b, NULL, (clconv_shape){2, 4, 64, 64});
    /* Not vacuous: the reference output is not all zero. */
    float *ref = tu_alloc(2 * 4 * 64 * 64);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w, b, ref), CLCONV_SUCCESS);
    int nonzero = 0;
    for (int i = 0; i < 2 * 4 * 64 * 64; i++)
        nonzero += ref[i] != 0;
    ck_assert_int_gt(nonzero, 2 * 4 * 64 * 64 / 2);
    free(ref);
    free(x);
    free(w);
}
END_TEST

START_TEST(asymmetric_padding_crops)
{
    /* Padding removes pad_top rows from the top of the full transposed
     * output, pad_bottom from its bottom, likewise left / right (ONNX
     * ConvTranspose's pads): every algorithm against the unpadded reference,
     * cropped. Integer data: exact. */
    tu_rng r = tu_rng_make(404);
    const int64_t pads[][4] = {{1, 0, 0, 2}, {0, 2, 1, 0}, {2, 1, 3, 0}, {0, 0, 0, 1}};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
        clconv_conv_transpose2d_params full = clconv_conv_transpose2d_default_params(4, 6, 3, 4);
        full.stride_h = 2;
        full.stride_w = 3;
        full.dilation_w = i % 2 ? 2 : 1;
        full.groups = 2;
        full.has_bias = 1;
        full.output_padding_h = (int64_t)(i % 2);
        clconv_shape in = {2, 4, 5, 4}, fs, os;
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&full, &in, &fs), CLCONV_SUCCESS);
        clconv_conv_transpose2d_params p = full;
        p.pad_top = pads[i][0];
        p.pad_bottom = pads[i][1];
        p.pad_left = pads[i][2];
        p.pad_right = pads[i][3];
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
        ck_assert_int_eq(os.h, fs.h - p.pad_top - p.pad_bottom);
        ck_assert_int_eq(os.w, fs.w - p.pad_left - p.pad_right);
        size_t nx = clconv_shape_elements(in), nw = 4 * 3 * 3 * 4;
        float *x = tu_alloc(nx), *w = tu_alloc(nw), b[6];
        tu_fill(&r, x, nx, true);
        tu_fill(&r, w, nw, true);
        tu_fill(&r, b, 6, true);
        float *ref = tu_alloc(clconv_shape_elements(fs)), *want = tu_alloc(clconv_shape_elements(os));
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&full, &in, x, w, b, ref), CLCONV_SUCCESS);
        for (int64_t pl = 0; pl < os.n * os.c; pl++)
            for (int64_t h = 0; h < os.h; h++)
                for (int64_t c = 0; c < os.w; c++)
                    want[(pl * os.h + h) * os.w + c] =
                        ref[(pl * fs.h + h + p.pad_top) * fs.w + c + p.pad_left];
        golden(&p, &in, x, w, b, want, os);
        free(x);
        free(w);
        free(ref);
        free(want);
    }
    /* conv_transpose1d: pad_left / pad_right the same way. */
    clconv_conv_transpose1d_params q = {.in_channels = 2, .out_channels = 2, .kernel = 3,
                                        .stride = 2, .pad_left = 2, .pad_right = 0,
                                        .output_padding = 1, .dilation = 1, .groups = 1};
    int64_t len;
    ck_assert_int_eq(clconv_conv_transpose1d_output_length(&q, 6, &len), CLCONV_SUCCESS);
    ck_assert_int_eq(len, (6 - 1) * 2 - 2 - 0 + 2 + 1 + 1);
}
END_TEST

START_TEST(shape_formula)
{
    struct {
        int64_t h, k, s, p, op, d, out;
    } t[] = {
        {3, 3, 2, 1, 0, 1, 5},  {3, 3, 2, 1, 1, 1, 6},   {32, 3, 2, 1, 1, 1, 64},
        {4, 4, 2, 1, 0, 1, 8},  {1, 1, 1, 0, 0, 1, 1},   {1, 3, 5, 0, 4, 1, 7},
        {5, 3, 1, 0, 0, 2, 9},  {7, 2, 3, 2, 2, 1, 18},  {2, 3, 1, 2, 1, 3, 5},
        {10, 5, 1, 2, 0, 1, 10}, {3, 1, 4, 0, 3, 1, 12},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(2, 3, t[i].k, 1);
        p.stride_h = t[i].s;
        p.pad_top = p.pad_bottom = t[i].p;
        p.output_padding_h = t[i].op;
        p.dilation_h = t[i].d;
        clconv_shape in = {5, 2, t[i].h, 7}, out;
        ck_assert_msg(clconv_conv_transpose2d_output_shape(&p, &in, &out) == CLCONV_SUCCESS,
                      "row %zu: %s", i, clconv_last_error(NULL));
        ck_assert_int_eq(out.n, 5);
        ck_assert_int_eq(out.c, 3);
        ck_assert_int_eq(out.h, t[i].out);
        ck_assert_int_eq(out.w, 7);
        ck_assert_int_eq(clconv_conv_transpose2d_validate(&p, &in), CLCONV_SUCCESS);
    }
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(6, 4, 3, 2);
    p.groups = 2;
    clconv_shape ws = clconv_conv_transpose2d_weight_shape(&p);
    ck_assert_int_eq(ws.n, 6);
    ck_assert_int_eq(ws.c, 2);
    ck_assert_int_eq(ws.h, 3);
    ck_assert_int_eq(ws.w, 2);
}
END_TEST

START_TEST(conv_transpose1d_matches_2d)
{
    tu_rng r = tu_rng_make(11);
    clconv_conv_transpose1d_params q = {.in_channels = 4, .out_channels = 6, .kernel = 3,
                                        .stride = 3, .pad_left = 1, .pad_right = 1, .output_padding = 2,
                                        .dilation = 2, .groups = 2, .has_bias = 1};
    int64_t len;
    ck_assert_int_eq(clconv_conv_transpose1d_output_length(&q, 9, &len), CLCONV_SUCCESS);
    ck_assert_int_eq(len, (9 - 1) * 3 - 2 + 2 * 2 + 2 + 1);
    float x[3 * 4 * 9], w[4 * 3 * 3], b[6];
    tu_fill(&r, x, 3 * 4 * 9, true);
    tu_fill(&r, w, 36, true);
    tu_fill(&r, b, 6, true);
    size_t ny = (size_t)(3 * 6 * len);
    float *ref = tu_alloc(ny), *y = tu_alloc(ny), *ref2 = tu_alloc(ny);
    ck_assert_int_eq(clconv_ref_conv_transpose1d(&q, 3, 9, x, w, b, ref), CLCONV_SUCCESS);
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(&q);
    clconv_shape in = {3, 4, 1, 9};
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w, b, ref2), CLCONV_SUCCESS);
    tu_expect_values(ref2, ref, ny, "1-D reference as 2-D");
    for (size_t a = 0; a < NALGOS; a++) {
        clconv_plan_options o = {.algorithm = ALGOS[a]};
        ck_assert_int_eq(clconv_conv_transpose1d_host(tu_ctx(), &q, 3, 9, &o, x, w, b, y),
                         CLCONV_SUCCESS);
        tu_expect_values(y, ref, ny, clconv_algorithm_name(ALGOS[a]));
    }
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv_transpose1d_plan_create(tu_ctx(), &q, 3, 9, NULL, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    ck_assert_int_eq(info.output.h, 1);
    ck_assert_int_eq(info.output.w, len);
    clconv_plan_destroy(plan);
    q.output_padding = 3; /* max(stride 3, dilation 2) = 3 */
    ck_assert_int_eq(clconv_conv_transpose1d_output_length(&q, 9, &len),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "output_padding_w = 3"));
    ck_assert_int_eq(clconv_conv_transpose1d_output_length(NULL, 9, &len),
                     CLCONV_ERROR_INVALID_VALUE);
    free(ref);
    free(ref2);
    free(y);
}
END_TEST

/* ---- random cases ------------------------------------------------------- */

/* A small palette of (kernel, stride, dilation) geometries: these are -D
 * constants, so each distinct one is a compile on PoCL; sizes, padding,
 * output padding, channels, groups and batch vary freely (runtime arguments). */
static const int GEOM[][6] = {
    /* kh kw sh sw dh dw */
    {3, 3, 2, 2, 1, 1}, {4, 4, 2, 2, 1, 1}, {3, 3, 1, 1, 1, 1}, {2, 3, 2, 3, 1, 1},
    {3, 2, 3, 1, 2, 1}, {5, 1, 1, 2, 1, 3}, {1, 1, 3, 2, 1, 1}, {3, 3, 2, 2, 2, 2},
    {2, 2, 1, 3, 3, 1}, {1, 4, 4, 1, 1, 2},
};
#define NGEOM ((int)(sizeof GEOM / sizeof GEOM[0]))

typedef struct ct_case {
    clconv_conv_transpose2d_params p;
    clconv_shape in;
    clconv_plan_options opt;
    bool integers;
} ct_case;

static clconv_conv_transpose2d_params random_params(tu_rng *r, clconv_shape *in, bool epilogue)
{
    clconv_conv_transpose2d_params p;
    for (;;) {
        int64_t groups = tu_int(r, 0, 4) == 0 ? tu_int(r, 2, 3) : 1;
        int64_t cin_g = tu_int(r, 1, 5), cout_g = tu_int(r, 1, 7);
        if (tu_int(r, 0, 7) == 0)
            cin_g = tu_int(r, 9, 20); /* several channel blocks of the gather */
        if (tu_int(r, 0, 9) == 0) { /* depthwise */
            groups = tu_int(r, 2, 6);
            cin_g = 1;
            cout_g = tu_int(r, 1, 2);
        }
        const int gi = tu_int(r, 0, NGEOM - 1);
        const int *gm = GEOM[gi];
        p = clconv_conv_transpose2d_default_params(cin_g * groups, cout_g * groups, gm[0], gm[1]);
        p.groups = groups;
        p.stride_h = gm[2];
        p.stride_w = gm[3];
        p.dilation_h = gm[4];
        p.dilation_w = gm[5];
        int64_t mh = p.stride_h > p.dilation_h ? p.stride_h : p.dilation_h;
        int64_t mw = p.stride_w > p.dilation_w ? p.stride_w : p.dilation_w;
        p.output_padding_h = tu_int(r, 0, (int)mh - 1);
        p.output_padding_w = tu_int(r, 0, (int)mw - 1);
        /* each side on its own: asymmetric padding crops the sides differently */
        p.pad_top = tu_int(r, 0, (int)(p.dilation_h * (p.kernel_h - 1)) + 1);
        p.pad_bottom = tu_int(r, 0, (int)(p.dilation_h * (p.kernel_h - 1)) + 1);
        p.pad_left = tu_int(r, 0, (int)(p.dilation_w * (p.kernel_w - 1)) + 1);
        p.pad_right = tu_int(r, 0, (int)(p.dilation_w * (p.kernel_w - 1)) + 1);
        if (epilogue) {
            /* bias or not, and any activation (runtime arguments: no new programs) */
            p.has_bias = tu_int(r, 0, 1);
            tu_random_activation(r, &p.activation, p.activation_params, gi % 2 == 1);
            tu_random_epilogue(r, gi % 2 == 1 ? 1 + (gi / 2) % 3 : 0, &p.has_residual,
                               &p.alpha, &p.beta, &p.pre_activation_output);
        }
        *in = (clconv_shape){tu_int(r, 1, 3), p.in_channels, tu_int(r, 1, 9), tu_int(r, 1, 13)};
        if (clconv_conv_transpose2d_validate(&p, in) == CLCONV_SUCCESS)
            return p;
    }
}

static void describe(const ct_case *c, char *buf, size_t n)
{
    const clconv_conv_transpose2d_params *p = &c->p;
    snprintf(buf, n,
             "in=%lldx%lldx%lldx%lld out_c=%lld k=%lldx%lld s=%lldx%lld pad=%lld,%lld,%lld,%lld "
             "outpad=%lld,%lld d=%lldx%lld g=%lld bias=%d act=%s(%g,%g) res=%d(%g,%g) pre=%d "
             "algo=%s tile=%d,%d,%d,%d "
             "ints=%d",
             (long long)c->in.n, (long long)c->in.c, (long long)c->in.h, (long long)c->in.w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->output_padding_h,
             (long long)p->output_padding_w, (long long)p->dilation_h, (long long)p->dilation_w,
             (long long)p->groups, p->has_bias, clconv_activation_name(p->activation),
             (double)p->activation_params[0], (double)p->activation_params[1], p->has_residual,
             (double)p->alpha, (double)p->beta, p->pre_activation_output,
             clconv_algorithm_name(c->opt.algorithm), c->opt.wg_w, c->opt.wg_h, c->opt.block_w,
             c->opt.block_oc, (int)c->integers);
}

/* Tiles drawn from a fixed pair (each distinct tile is a build): a regular one
 * and an odd one that never divides the output. */
static void set_tile(clconv_plan_options *o, int which)
{
    static const int tiles[2][4] = {{8, 1, 2, 4}, {3, 2, 3, 5}};
    o->wg_w = tiles[which][0];
    o->wg_h = tiles[which][1];
    o->block_w = tiles[which][2];
    o->block_oc = tiles[which][3];
}

/* The vector variants' tiles, likewise from fixed pairs: 4 channel lanes x 3
 * columns (ragged on most shapes), and 8 lanes x 5 columns in 2-row work-groups. */
static void set_vector_tile(clconv_plan_options *o, int which)
{
    o->block_oc = which ? 8 : 4;
    o->block_w = which ? 5 : 3;
    o->wg_h = which ? 2 : 0;
}

/* 2 channels x 2 vectors of columns per item, and 3 x 1 in 3-row work-groups. */
static void set_columns_tile(clconv_plan_options *o, int which)
{
    o->block_oc = which ? 3 : 2;
    o->block_w = which ? 1 : 2;
    o->wg_h = which ? 3 : 0;
}

/* Device vs reference through the shared tester (tu_conv_transpose2d_check:
 * exact for integer data, else a bound scaled by sum |x*w| + |b| and the
 * square root of the reduction length). */
static void check_case(const ct_case *c, tu_rng *r, uint64_t seed, int i)
{
    char layer[400], what[512];
    describe(c, layer, sizeof layer);
    snprintf(what, sizeof what, "sweep seed %llu case %d: %s", (unsigned long long)seed, i, layer);
    tu_conv_transpose2d_check(tu_ctx(), &c->p, &c->in, &c->opt, r, c->integers, NULL, what);
}

START_TEST(random_sweep)
{
    const uint64_t seed = 20261126;
    tu_rng r = tu_rng_make(seed);
    const int cases = 240;
    for (int i = 0; i < cases; i++) {
        ct_case c;
        memset(&c, 0, sizeof c);
        c.p = random_params(&r, &c.in, true);
        /* Every third case through CLBlast: its kernels compile once per process.
         * Eight cases each through the vector variants, always with one of
         * their two fixed tiles (their default tiles follow the output width,
         * one more program per width; edge_shapes covers those). */
        c.opt.algorithm = i % 3 == 2    ? CLCONV_ALGO_TRANSPOSED_GEMM
                          : i % 20 == 1 ? CLCONV_ALGO_TRANSPOSED_VECTOR
                          : i % 20 == 7 ? CLCONV_ALGO_TRANSPOSED_COLUMNS
                                        : CLCONV_ALGO_TRANSPOSED_GATHER;
        int tile = tu_int(&r, 0, 9);
        if (c.opt.algorithm == CLCONV_ALGO_TRANSPOSED_GATHER && tile > 0)
            set_tile(&c.opt, tile <= 7 ? 0 : 1);
        else if (c.opt.algorithm == CLCONV_ALGO_TRANSPOSED_VECTOR)
            set_vector_tile(&c.opt, tile <= 6 ? 0 : 1);
        else if (c.opt.algorithm == CLCONV_ALGO_TRANSPOSED_COLUMNS)
            set_columns_tile(&c.opt, tile <= 6 ? 0 : 1);
        /* else the plan's own tile, fitted to the shape */
        c.integers = tu_int(&r, 0, 1);
        check_case(&c, &r, seed, i);
    }
}
END_TEST

/* <conv2d(u), v> == <u, conv_transpose2d(v)>: conv_transpose2d with weights
 * [in_t, out_t/g, kh, kw] is the adjoint of conv2d with in_channels = out_t,
 * out_channels = in_t and the same weight memory, stride, padding, dilation
 * and groups, when output_padding < stride makes the shapes meet. */
static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

START_TEST(adjoint_of_conv2d)
{
    const uint64_t seed = 777;
    tu_rng r = tu_rng_make(seed);
    const int cases = 60;
    for (int i = 0; i < cases; i++) {
        clconv_shape vin; /* v: the transposed conv's input, conv2d's output shape */
        clconv_conv_transpose2d_params t = random_params(&r, &vin, false);
        if (t.output_padding_h >= t.stride_h)
            t.output_padding_h = t.stride_h - 1;
        if (t.output_padding_w >= t.stride_w)
            t.output_padding_w = t.stride_w - 1;
        clconv_shape uin; /* u: conv2d's input, the transposed conv's output shape */
        if (clconv_conv_transpose2d_output_shape(&t, &vin, &uin) != CLCONV_SUCCESS) {
            i--;
            continue;
        }
        clconv_conv2d_params c = clconv_conv2d_default_params(t.out_channels, t.in_channels,
                                                              t.kernel_h, t.kernel_w);
        c.stride_h = t.stride_h;
        c.stride_w = t.stride_w;
        c.pad_top = t.pad_top; /* the same map, asymmetric padding too */
        c.pad_bottom = t.pad_bottom;
        c.pad_left = t.pad_left;
        c.pad_right = t.pad_right;
        c.dilation_h = t.dilation_h;
        c.dilation_w = t.dilation_w;
        c.groups = t.groups;
        clconv_shape cout;
        ck_assert_int_eq(clconv_conv2d_output_shape(&c, &uin, &cout), CLCONV_SUCCESS);
        ck_assert_msg(cout.c == vin.c && cout.h == vin.h && cout.w == vin.w,
                      "case %d: conv2d maps %lldx%lld to %lldx%lld, expected %lldx%lld", i,
                      (long long)uin.h, (long long)uin.w, (long long)cout.h, (long long)cout.w,
                      (long long)vin.h, (long long)vin.w);
        size_t nu = clconv_shape_elements(uin), nv = clconv_shape_elements(vin);
        size_t nw = clconv_shape_elements(clconv_conv_transpose2d_weight_shape(&t));
        float *u = tu_alloc(nu), *v = tu_alloc(nv), *w = tu_alloc(nw);
        float *cu = tu_alloc(nv), *tv = tu_alloc(nu), *ref_tv = tu_alloc(nu);
        tu_fill(&r, u, nu, false);
        tu_fill(&r, v, nv, false);
        tu_fill(&r, w, nw, false);
        ck_assert_int_eq(clconv_ref_conv2d(&c, &uin, u, w, NULL, cu), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&t, &vin, v, w, NULL, ref_tv),
                         CLCONV_SUCCESS);
        clconv_plan_options o = {.algorithm = ALGOS[i % 4 == 3]};
        if (o.algorithm == CLCONV_ALGO_TRANSPOSED_GATHER)
            set_tile(&o, 0);
        float *dev_tv = device_ct(&t, &vin, v, w, NULL, &o, NULL);
        memcpy(tv, dev_tv, nu * sizeof(float));
        free(dev_tv);
        double lhs = dot(cu, v, nv), rhs_dev = dot(u, tv, nu), rhs_ref = dot(u, ref_tv, nu);
        /* Bound: the sum of |products| in the full double-sum. */
        double total = 0;
        {
            float *av = tu_alloc(nv), *aw = tu_alloc(nw), *atv = tu_alloc(nu);
            for (size_t j = 0; j < nv; j++) av[j] = fabsf(v[j]);
            for (size_t j = 0; j < nw; j++) aw[j] = fabsf(w[j]);
            ck_assert_int_eq(clconv_ref_conv_transpose2d(&t, &vin, av, aw, NULL, atv),
                             CLCONV_SUCCESS);
            for (size_t j = 0; j < nu; j++)
                total += fabs((double)u[j]) * atv[j];
            free(av);
            free(aw);
            free(atv);
        }
        if (total == 0) {
            /* every output cropped away from every input: nothing to compare, draw again */
            i--;
            free(u);
            free(v);
            free(w);
            free(cu);
            free(tv);
            free(ref_tv);
            continue;
        }
        double tol = 1e-5 * total + 1e-6;
        ck_assert_msg(fabs(lhs - rhs_ref) <= tol && fabs(lhs - rhs_dev) <= tol,
                      "adjoint seed %llu case %d (%s): <conv2d(u), v> = %.9g, <u, ct_ref(v)> = "
                      "%.9g, <u, ct_dev(v)> = %.9g, tol %.3g",
                      (unsigned long long)seed, i, clconv_algorithm_name(o.algorithm), lhs,
                      rhs_ref, rhs_dev, tol);
        free(u);
        free(v);
        free(w);
        free(cu);
        free(tv);
        free(ref_tv);
    }
}
END_TEST

START_TEST(edge_shapes)
{
    tu_rng r = tu_rng_make(5);
    struct {
        int64_t n, c, h, w, oc, kh, kw, sh, sw, ph, pw, oph, opw, dh, dw, g;
    } e[] = {
        /* 1x1 input */
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
        {2, 3, 1, 1, 5, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1},
        /* stride larger than the kernel: gaps of bias-only outputs */
        {1, 2, 4, 5, 3, 2, 1, 5, 4, 0, 0, 4, 3, 1, 1, 1},
        /* output_padding at its maximum, by stride and (with stride 1) by dilation */
        {1, 2, 3, 3, 2, 3, 3, 3, 3, 1, 1, 2, 2, 1, 1, 1},
        {1, 2, 3, 4, 2, 3, 2, 1, 1, 0, 0, 2, 1, 3, 2, 1},
        /* padding that crops all but one row */
        {1, 1, 3, 3, 1, 3, 3, 1, 1, 2, 0, 0, 0, 1, 1, 1},
        /* the plan's wide tile (4 columns per item) and its deep one (16 channels) */
        {1, 2, 4, 40, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {2, 3, 3, 3, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        /* depthwise, wide */
        {1, 4, 2, 70, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4},
        /* three channel vectors of 16 (the last ragged), phase rows > 4, kernel
         * larger than the input with padding */
        {2, 5, 9, 6, 40, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 1},
        {1, 3, 2, 2, 6, 5, 5, 1, 1, 2, 2, 0, 0, 1, 1, 1},
        /* DCGAN's first layer in small: a 1x1 input to a 4x4 output */
        {3, 10, 1, 1, 24, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        ct_case c;
        memset(&c, 0, sizeof c);
        c.p = clconv_conv_transpose2d_default_params(e[i].c, e[i].oc, e[i].kh, e[i].kw);
        c.p.stride_h = e[i].sh;
        c.p.stride_w = e[i].sw;
        c.p.pad_top = c.p.pad_bottom = e[i].ph;
        c.p.pad_left = c.p.pad_right = e[i].pw;
        c.p.output_padding_h = e[i].oph;
        c.p.output_padding_w = e[i].opw;
        c.p.dilation_h = e[i].dh;
        c.p.dilation_w = e[i].dw;
        c.p.groups = e[i].g;
        c.p.has_bias = 1;
        c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
        c.integers = true;
        /* The gather, GEMM, and auto: on CPU devices the vector variant for
         * 8 or more channels per group, else the columns one, each with its
         * default tile (one program per shape, not two). */
        for (size_t a = 0; a < 3; a++) {
            c.opt.algorithm = a < 2 ? ALGOS[a] : CLCONV_ALGO_AUTO;
            check_case(&c, &r, 5, (int)i);
        }
    }
    /* One more output padding than allowed is refused. */
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(1, 1, 3, 3);
    p.stride_h = 3;
    p.output_padding_h = 3;
    clconv_shape in = {1, 1, 3, 3};
    ck_assert_int_eq(clconv_conv_transpose2d_validate(&p, &in), CLCONV_ERROR_INVALID_VALUE);
}
END_TEST

/* NaN and inf reach exactly the outputs their input reaches (out-of-range
 * reads are selected away, never multiplied by zero), and pass through ReLU. */
START_TEST(nan_and_inf_propagate)
{
    tu_rng r = tu_rng_make(21);
    ct_case c;
    memset(&c, 0, sizeof c);
    c.p = clconv_conv_transpose2d_default_params(2, 3, 3, 3);
    c.p.stride_h = c.p.stride_w = 2;
    c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = 1;
    c.p.has_bias = 1;
    c.p.activation = CLCONV_ACTIVATION_RELU;
    c.in = (clconv_shape){1, 2, 5, 6};
    clconv_shape os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&c.p, &c.in, &os), CLCONV_SUCCESS);
    size_t nx = 60, nw = 2 * 3 * 9, ny = clconv_shape_elements(os);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), b[3] = {1, -2, 0}, *ref = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    for (size_t i = 0; i < nw; i++)
        w[i] = (float)tu_int(&r, 1, 3); /* no zero weights: inf*0 would hide the check */
    x[0] = NAN;              /* a corner: out-of-range neighbours read it clamped */
    x[6 * 5 - 1] = INFINITY; /* the last column of channel 0 */
    x[30 + 13] = -INFINITY;
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&c.p, &c.in, x, w, b, ref), CLCONV_SUCCESS);
    int nan = 0, finite = 0;
    for (size_t i = 0; i < ny; i++) {
        nan += isnan(ref[i]) != 0;
        finite += isfinite(ref[i]) != 0;
    }
    ck_assert_int_gt(nan, 0);
    ck_assert_int_gt(finite, (int)ny / 2);
    for (size_t a = 0; a < NALGOS; a++) {
        c.opt.algorithm = ALGOS[a];
        float *y = device_ct(&c.p, &c.in, x, w, b, &c.opt, NULL);
        char msg[256];
        ck_assert_msg(tu_compare(y, ref, NULL, ny, 0.0, 0.0, msg, sizeof msg) < 0, "%s: %s",
                      clconv_algorithm_name(ALGOS[a]), msg);
        free(y);
    }
    /* The vector variants skip the pairs that do not reach an output instead
     * of multiplying them by 0: an infinite weight also reaches exactly the
     * outputs its tap reaches (the gather and col2im would spread NaN). */
    tu_fill(&r, x, nx, true);
    for (size_t i = 0; i < nx; i++)
        x[i] = x[i] == 0 ? 1 : x[i];
    w[4] = INFINITY;       /* channel 0 -> 0, the centre tap */
    w[2 * 9 + 0] = -INFINITY; /* channel 0 -> 2, the corner tap */
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&c.p, &c.in, x, w, b, ref), CLCONV_SUCCESS);
    finite = 0;
    for (size_t i = 0; i < ny; i++)
        finite += isfinite(ref[i]) != 0;
    ck_assert_int_gt(finite, (int)ny / 2);
    for (size_t a = 2; a < NALGOS; a++) {
        c.opt.algorithm = ALGOS[a];
        float *y = device_ct(&c.p, &c.in, x, w, b, &c.opt, NULL);
        char msg[256];
        ck_assert_msg(tu_compare(y, ref, NULL, ny, 0.0, 0.0, msg, sizeof msg) < 0,
                      "%s, infinite weights: %s", clconv_algorithm_name(ALGOS[a]), msg);
        free(y);
    }
    free(x);
    free(w);
    free(ref);
}
END_TEST

/* Two runs of the same plan on the same data give the same bytes. */
START_TEST(deterministic)
{
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(99);
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(16, 8, 4, 4);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    clconv_shape in = {2, 16, 12, 12}, os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
    size_t nx = clconv_shape_elements(in), nw = 16 * 8 * 16, ny = clconv_shape_elements(os);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), b[8];
    tu_fill(&r, x, nx, false);
    tu_fill(&r, w, nw, false);
    tu_fill(&r, b, 8, false);
    for (size_t a = 0; a < NALGOS; a++) {
        clconv_plan_options o = {.algorithm = ALGOS[a]};
        clconv_plan *plan;
        ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &p, &in, &o, &plan),
                         CLCONV_SUCCESS);
        clconv_plan_info info;
        clconv_plan_get_info(plan, &info);
        cl_int err;
        cl_context cc = clconv_context_cl_context(ctx);
        cl_mem bx = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nx * 4, x, &err);
        cl_mem bw = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nw * 4, w, &err);
        cl_mem bb = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, 32, b, &err);
        cl_mem by = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 4, NULL, &err);
        cl_mem bws = info.workspace_bytes
                         ? clCreateBuffer(cc, CL_MEM_READ_WRITE, info.workspace_bytes, NULL, &err)
                         : NULL;
        float *y1 = tu_alloc(ny), *y2 = tu_alloc(ny);
        for (int run = 0; run < 2; run++) {
            /* Poison the output between runs so a skipped write cannot pass. */
            float poison = NAN;
            clEnqueueFillBuffer(clconv_context_queue(ctx), by, &poison, 4, 0, ny * 4, 0, NULL,
                                NULL);
            ck_assert_int_eq(clconv_conv_transpose2d_run(plan, bx, bw, bb, by, bws, 0, NULL, NULL),
                             CLCONV_SUCCESS);
            ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), by, CL_TRUE, 0,
                                                 ny * 4, run ? y2 : y1, 0, NULL, NULL),
                             CL_SUCCESS);
        }
        ck_assert_msg(memcmp(y1, y2, ny * 4) == 0, "%s: two runs differ",
                      clconv_algorithm_name(ALGOS[a]));
        float *ref = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w, b, ref), CLCONV_SUCCESS);
        char msg[256];
        ck_assert_msg(tu_compare(y1, ref, NULL, ny, 1e-4, 1e-4, msg, sizeof msg) < 0, "%s", msg);
        free(ref);
        free(y1);
        free(y2);
        cl_mem all[] = {bx, bw, bb, by, bws};
        for (int i = 0; i < 5; i++)
            if (all[i])
                clReleaseMemObject(all[i]);
        clconv_plan_destroy(plan);
    }
    free(x);
    free(w);
}
END_TEST

/* GEMM with several images and groups: every (image, group) GEMM writes its
 * own slice of the columns, and col2im reads the right one. */
START_TEST(gemm_batches_and_groups)
{
    ct_case c;
    memset(&c, 0, sizeof c);
    c.p = clconv_conv_transpose2d_default_params(6, 9, 3, 3);
    c.p.groups = 3;
    c.p.stride_h = 2;
    c.p.stride_w = 2;
    c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = 1;
    c.p.output_padding_h = 1;
    c.p.has_bias = 1;
    c.p.activation = CLCONV_ACTIVATION_RELU;
    c.in = (clconv_shape){4, 6, 7, 5};
    c.opt.algorithm = CLCONV_ALGO_TRANSPOSED_GEMM;
    tu_rng r = tu_rng_make(8);
    check_case(&c, &r, 8, 0);
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &c.p, &c.in, &c.opt, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    /* columns [Cout/g*kh*kw, H*W] per group and image, all 4 images at once */
    ck_assert_uint_eq(info.workspace_bytes, (size_t)4 * 3 * (3 * 9) * (7 * 5) * 4);
    ck_assert_str_eq(info.kernel_name, "conv_transpose2d_col2im");
    clconv_plan_destroy(plan);

    /* A workspace limit of one image and a half: images go one chunk at a time. */
    size_t per_image = (size_t)3 * (3 * 9) * (7 * 5) * 4;
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", per_image + per_image / 2);
    setenv("CLCONV_WORKSPACE_LIMIT", lim, 1);
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS); /* read when a context is made */
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &c.p, &c.in, &c.opt, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.workspace_bytes, per_image);
    clconv_plan_destroy(plan);
    check_case(&c, &r, 8, 1);
    snprintf(lim, sizeof lim, "%zu", per_image - 4);
    setenv("CLCONV_WORKSPACE_LIMIT", lim, 1);
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &c.p, &c.in, &c.opt, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "CLCONV_WORKSPACE_LIMIT"));
    setenv("CLCONV_WORKSPACE_LIMIT", "12x", 1);
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "CLCONV_WORKSPACE_LIMIT = '12x'"));
    unsetenv("CLCONV_WORKSPACE_LIMIT");
    ck_assert_int_eq(tu_ctx_renew(), CLCONV_SUCCESS);
    /* The gather ignores the limit: it needs no workspace. */
    c.opt.algorithm = CLCONV_ALGO_TRANSPOSED_GATHER;
    check_case(&c, &r, 8, 2);
}
END_TEST

/* On a caller's out-of-order queue the steps of the GEMM algorithm (GEMMs,
 * col2im, the next chunk's GEMMs over the same workspace) are still ordered. */
START_TEST(out_of_order_queue)
{
    clconv_context *base = tu_ctx();
    cl_context cc = clconv_context_cl_context(base);
    cl_int err;
    cl_command_queue q = clCreateCommandQueue(cc, clconv_context_device(base),
                                              CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err == CL_INVALID_QUEUE_PROPERTIES) {
        /* Out-of-order execution is optional in OpenCL 1.2: nothing to check. */
        return;
    }
    ck_assert_int_eq(err, CL_SUCCESS);
    clconv_context *ctx;
    clconv_context_options co = {.workspace_limit = 2 * 3 * 9 * 30 * 4}; /* an image a chunk */
    ck_assert_int_eq(clconv_context_create_from_queue_with_options(cc, q, &co, &ctx),
                     CLCONV_SUCCESS);
    clReleaseCommandQueue(q); /* the context holds its own reference */
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.groups = 2;
    p.has_bias = 1;
    clconv_shape in = {3, 4, 6, 5}, os;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
    size_t nx = clconv_shape_elements(in), nw = 4 * 3 * 9, ny = clconv_shape_elements(os);
    tu_rng r = tu_rng_make(31);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), b[6], *ref = tu_alloc(ny), *y = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, 6, true);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w, b, ref), CLCONV_SUCCESS);
    for (size_t a = 0; a < NALGOS; a++) {
        clconv_plan_options o = {.algorithm = ALGOS[a]};
        memset(y, 0, ny * sizeof(float));
        clconv_status st = clconv_conv_transpose2d_host(ctx, &p, &in, &o, x, w, b, y);
        ck_assert_msg(st == CLCONV_SUCCESS, "%s", clconv_last_error(ctx));
        tu_expect_values(y, ref, ny, clconv_algorithm_name(ALGOS[a]));
    }
    /* The vector variant repacks the weights into a buffer of its plan on each
     * run: two runs with different weights, enqueued back to back with no
     * events between them, must not overwrite the packed weights of the first
     * before it has finished. */
    {
        clconv_plan_options o = {.algorithm = CLCONV_ALGO_TRANSPOSED_VECTOR};
        clconv_plan *plan;
        ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &p, &in, &o, &plan),
                         CLCONV_SUCCESS);
        float *w2 = tu_alloc(nw), *ref2 = tu_alloc(ny), *y2 = tu_alloc(ny);
        tu_fill(&r, w2, nw, true);
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w2, b, ref2), CLCONV_SUCCESS);
        cl_mem bx = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nx * 4, x, &err);
        cl_mem bw1 = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nw * 4, w, &err);
        cl_mem bw2 = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nw * 4, w2, &err);
        cl_mem bb = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, 6 * 4, b, &err);
        cl_mem by1 = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 4, NULL, &err);
        cl_mem by2 = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 4, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        cl_event d1 = NULL, d2 = NULL;
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, bx, bw1, bb, by1, NULL, 0, NULL, &d1),
                         CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, bx, bw2, bb, by2, NULL, 0, NULL, &d2),
                         CLCONV_SUCCESS);
        cl_command_queue cq = clconv_context_queue(ctx);
        ck_assert_int_eq(clEnqueueReadBuffer(cq, by1, CL_TRUE, 0, ny * 4, y, 1, &d1, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(cq, by2, CL_TRUE, 0, ny * 4, y2, 1, &d2, NULL),
                         CL_SUCCESS);
        tu_expect_values(y, ref, ny, "transposed-vector, first of two runs");
        tu_expect_values(y2, ref2, ny, "transposed-vector, second of two runs");
        clReleaseEvent(d1);
        clReleaseEvent(d2);
        cl_mem all[] = {bx, bw1, bw2, bb, by1, by2};
        for (int i = 0; i < 6; i++)
            clReleaseMemObject(all[i]);
        clconv_plan_destroy(plan);
        free(w2);
        free(ref2);
        free(y2);
    }
    clconv_context_destroy(ctx);
    free(x);
    free(w);
    free(ref);
    free(y);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

static void expect_invalid(clconv_conv_transpose2d_params p, clconv_shape in, clconv_status want,
                           const char *needle)
{
    clconv_shape out;
    clconv_status st = clconv_conv_transpose2d_output_shape(&p, &in, &out);
    ck_assert_msg(st == want, "expected %s for '%s', got %s (%s)", clconv_status_string(want),
                  needle, clconv_status_string(st), clconv_last_error(NULL));
    ck_assert_msg(strstr(clconv_last_error(NULL), needle) != NULL, "message '%s' lacks '%s'",
                  clconv_last_error(NULL), needle);
    clconv_plan *plan = (clconv_plan *)1;
    st = clconv_conv_transpose2d_plan_create(tu_ctx(), &p, &in, NULL, &plan);
    ck_assert_int_eq(st, want);
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), needle) != NULL, "context message '%s'",
                  clconv_last_error(tu_ctx()));
    float dummy[1] = {0};
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, dummy, dummy, dummy, dummy), want);
}

START_TEST(bad_parameters)
{
    clconv_conv_transpose2d_params ok = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    ok.stride_h = ok.stride_w = 2;
    const clconv_shape in = {1, 4, 5, 5};
    clconv_conv_transpose2d_params p;
    clconv_shape s;
#define BAD(field, value, status, needle) \
    p = ok; s = in; field = value; expect_invalid(p, s, status, needle);
    BAD(p.in_channels, 0, CLCONV_ERROR_INVALID_VALUE, "in_channels = 0")
    BAD(p.out_channels, -2, CLCONV_ERROR_INVALID_VALUE, "out_channels = -2")
    BAD(p.kernel_h, 0, CLCONV_ERROR_INVALID_VALUE, "kernel_h = 0")
    BAD(p.kernel_w, -1, CLCONV_ERROR_INVALID_VALUE, "kernel_w = -1")
    BAD(p.stride_h, 0, CLCONV_ERROR_INVALID_VALUE, "stride_h = 0")
    BAD(p.stride_w, -1, CLCONV_ERROR_INVALID_VALUE, "stride_w = -1")
    BAD(p.dilation_h, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 0")
    BAD(p.dilation_w, -3, CLCONV_ERROR_INVALID_VALUE, "dilation_w = -3")
    BAD(p.pad_top, -1, CLCONV_ERROR_INVALID_VALUE, "pad_top = -1")
    BAD(p.pad_bottom, -1, CLCONV_ERROR_INVALID_VALUE, "pad_bottom = -1")
    BAD(p.pad_left, -1, CLCONV_ERROR_INVALID_VALUE, "pad_left = -1")
    BAD(p.pad_right, -1, CLCONV_ERROR_INVALID_VALUE, "pad_right = -1")
    BAD(p.output_padding_h, -1, CLCONV_ERROR_INVALID_VALUE, "output_padding_h = -1")
    BAD(p.output_padding_h, 2, CLCONV_ERROR_INVALID_VALUE,
        "output_padding_h = 2, expected < max(stride_h, dilation_h) = 2")
    BAD(p.output_padding_w, 5, CLCONV_ERROR_INVALID_VALUE,
        "output_padding_w = 5, expected < max(stride_w, dilation_w) = 2")
    BAD(p.groups, 0, CLCONV_ERROR_INVALID_VALUE, "groups = 0")
    BAD(p.groups, 3, CLCONV_ERROR_INVALID_VALUE, "groups = 3 does not divide in_channels = 4")
    BAD(p.groups, 4, CLCONV_ERROR_INVALID_VALUE, "groups = 4 does not divide out_channels = 6")
    BAD(p.activation, (clconv_activation)14, CLCONV_ERROR_INVALID_VALUE, "activation = 14")
    BAD(p.kernel_h, (int64_t)1 << 40, CLCONV_ERROR_INVALID_VALUE, "kernel_h")
    BAD(s.c, 3, CLCONV_ERROR_INVALID_SHAPE, "input.c = 3")
    BAD(s.n, 0, CLCONV_ERROR_INVALID_SHAPE, "input.n = 0")
    BAD(s.w, -5, CLCONV_ERROR_INVALID_SHAPE, "input.w = -5")
    BAD(p.pad_top, 12, CLCONV_ERROR_INVALID_SHAPE, "no output")
#undef BAD
    /* Output padding below max(stride, dilation) is fine when dilation is the larger. */
    p = ok;
    p.stride_h = 1;
    p.dilation_h = 3;
    p.output_padding_h = 2;
    ck_assert_int_eq(clconv_conv_transpose2d_validate(&p, &in), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(NULL, &in, &s),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&ok, NULL, &s),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&ok, &in, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(NULL, &ok, &in, NULL, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_DIRECT_TILED};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.algorithm = direct-tiled"));
    o = (clconv_plan_options){.block_oc = 99};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_oc = 99"));
    /* Valid, and a small output, but beyond the kernels' 32-bit index arithmetic. */
    p = ok;
    p.stride_h = 1;
    p.dilation_h = (int64_t)1 << 30;
    p.pad_top = p.pad_bottom = (int64_t)1 << 30;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &in, &s), CLCONV_SUCCESS);
    ck_assert_int_eq(s.h, 5);
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &p, &in, NULL, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "32-bit"));
    /* The vector variants' own option ranges. */
    o = (clconv_plan_options){.algorithm = CLCONV_ALGO_TRANSPOSED_VECTOR, .block_oc = 5};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()),
                                 "options.block_oc = 5, expected 0 (default), 4, 8 or 16"));
    o = (clconv_plan_options){.algorithm = CLCONV_ALGO_TRANSPOSED_VECTOR, .wg_w = 2000};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.wg_w = 2000"));
    o = (clconv_plan_options){.algorithm = CLCONV_ALGO_TRANSPOSED_COLUMNS, .block_w = 5};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_w = 5"));
    o = (clconv_plan_options){.algorithm = CLCONV_ALGO_TRANSPOSED_COLUMNS, .block_oc = 17};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_oc = 17"));
    o = (clconv_plan_options){.ci_chunk = 4};
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.ci_chunk = 4"));
}
END_TEST

START_TEST(bad_buffers)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(2, 3, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.has_bias = 1;
    clconv_shape in = {2, 2, 4, 4}; /* out 2x3x9x9 */
    cl_int err;
    cl_context cc = clconv_context_cl_context(ctx);
    cl_mem x = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 2 * 16 * 4, NULL, &err);
    cl_mem w = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 3 * 9 * 4, NULL, &err);
    cl_mem b = clCreateBuffer(cc, CL_MEM_READ_WRITE, 3 * 4, NULL, &err);
    cl_mem y = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 3 * 81 * 4, NULL, &err);
    cl_mem small = clCreateBuffer(cc, CL_MEM_READ_WRITE, 8, NULL, &err);
    for (size_t a = 0; a < NALGOS; a++) {
        clconv_plan_options o = {.algorithm = ALGOS[a]};
        clconv_plan *plan;
        ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &p, &in, &o, &plan),
                         CLCONV_SUCCESS);
        clconv_plan_info info;
        clconv_plan_get_info(plan, &info);
        ck_assert_int_eq(info.output.h, 9);
        cl_mem ws = info.workspace_bytes
                        ? clCreateBuffer(cc, CL_MEM_READ_WRITE, info.workspace_bytes, NULL, &err)
                        : NULL;
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, NULL, w, b, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "x: NULL"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, NULL, b, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "w: NULL"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, b, NULL, ws, 0, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "y: NULL"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, NULL, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "b: NULL"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, small, b, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_BUFFER_TOO_SMALL);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "w: 8 bytes, expected at least 216"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, small, w, b, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_BUFFER_TOO_SMALL);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "x: 8 bytes, expected at least 256"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, b, small, ws, 0, NULL, NULL),
                         CLCONV_ERROR_BUFFER_TOO_SMALL);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "y: 8 bytes, expected at least 1944"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, small, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_BUFFER_TOO_SMALL);
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, y, w, b, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "y: must not be the same buffer"));
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, b, y, ws, 1, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        ck_assert_int_eq(clconv_conv_transpose2d_run(NULL, x, w, b, y, ws, 0, NULL, NULL),
                         CLCONV_ERROR_INVALID_VALUE);
        if (a == 1) {
            /* the workspace: missing, too small, aliased */
            char want[96];
            ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, b, y, NULL, 0, NULL, NULL),
                             CLCONV_ERROR_INVALID_VALUE);
            snprintf(want, sizeof want, "workspace: NULL, expected a cl_mem of at least %zu",
                     info.workspace_bytes);
            ck_assert_msg(strstr(clconv_last_error(ctx), want) != NULL, "%s",
                          clconv_last_error(ctx));
            ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, b, y, small, 0, NULL, NULL),
                             CLCONV_ERROR_BUFFER_TOO_SMALL);
            snprintf(want, sizeof want, "workspace: 8 bytes, expected at least %zu",
                     info.workspace_bytes);
            ck_assert_msg(strstr(clconv_last_error(ctx), want) != NULL, "%s",
                          clconv_last_error(ctx));
            /* 2 images x 3 channels x 9 taps x 16 pixels */
            ck_assert_uint_eq(info.workspace_bytes, (size_t)2 * 27 * 16 * 4);
        } else {
            /* The gather needs no workspace; NULL is fine. */
            ck_assert_uint_eq(info.workspace_bytes, 0);
        }
        /* The wait list and the completion event work without any clFinish. */
        cl_event gate = clCreateUserEvent(cc, &err), done = NULL;
        ck_assert_int_eq(err, CL_SUCCESS);
        ck_assert_int_eq(clconv_conv_transpose2d_run(plan, x, w, b, y, ws, 1, &gate, &done),
                         CLCONV_SUCCESS);
        ck_assert_ptr_nonnull(done);
        cl_int status;
        clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
        ck_assert_int_ne(status, CL_COMPLETE);
        clSetUserEventStatus(gate, CL_COMPLETE);
        ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
        clReleaseEvent(done);
        clReleaseEvent(gate);
        if (ws)
            clReleaseMemObject(ws);
        clconv_plan_destroy(plan);
    }
    /* A conv2d plan is refused by the transposed run, and the other way round. */
    clconv_conv2d_params cp = clconv_conv2d_default_params(2, 3, 3, 3);
    clconv_shape cin = {2, 2, 4, 4};
    clconv_plan *cplan, *tplan;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &cp, &cin, NULL, &cplan), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv_transpose2d_run(cplan, x, w, b, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "clconv_conv_transpose2d_run"));
    clconv_plan_destroy(cplan);
    ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &p, &in, NULL, &tplan),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(tplan, x, w, b, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    clconv_plan_destroy(tplan);
    cl_mem all[] = {x, w, b, y, small};
    for (int i = 0; i < 5; i++)
        clReleaseMemObject(all[i]);
    /* Host convenience and reference: NULL arrays. */
    float buf[2000] = {0};
    ck_assert_int_eq(clconv_conv_transpose2d_host(ctx, &p, &in, NULL, buf, buf, NULL, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "b: NULL"));
    ck_assert_int_eq(clconv_conv_transpose2d_host(ctx, &p, &in, NULL, NULL, buf, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv_transpose2d_host(NULL, &p, &in, NULL, buf, buf, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, buf, buf, NULL, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, buf, NULL, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_ref_conv_transpose1d(NULL, 1, 4, buf, buf, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
}
END_TEST

static Suite *conv_transpose2d_suite(void)
{
    Suite *s = suite_create("conv_transpose2d");
    TCase *seeds = tcase_create("seeds");
    tcase_set_timeout(seeds, 300);
    tcase_add_test(seeds, seed_3x3_stride2);
    tcase_add_test(seeds, seed_32x32_to_64x64);
    tcase_add_test(seeds, asymmetric_padding_crops);
    tcase_add_test(seeds, shape_formula);
    tcase_add_test(seeds, conv_transpose1d_matches_2d);
    suite_add_tcase(s, seeds);
    TCase *sweep = tcase_create("sweep");
    tcase_set_timeout(sweep, 900);
    tcase_add_test(sweep, random_sweep);
    tcase_add_test(sweep, adjoint_of_conv2d);
    tcase_add_test(sweep, edge_shapes);
    tcase_add_test(sweep, nan_and_inf_propagate);
    tcase_add_test(sweep, deterministic);
    tcase_add_test(sweep, gemm_batches_and_groups);
    tcase_add_test(sweep, out_of_order_queue);
    suite_add_tcase(s, sweep);
    TCase *bad = tcase_create("bad-input");
    tcase_set_timeout(bad, 300);
    tcase_add_test(bad, bad_parameters);
    tcase_add_test(bad, bad_buffers);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(conv_transpose2d_suite());
}
