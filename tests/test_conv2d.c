/* conv2d: the seeds' worked examples through every algorithm, a randomized
 * sweep over every parameter against the CPU reference, edge shapes, bad
 * input (the context, device choice and program cache: test_context). */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const clconv_algorithm ALGOS[] = {CLCONV_ALGO_DIRECT_TILED, CLCONV_ALGO_DIRECT_REGISTER,
                                         CLCONV_ALGO_DIRECT_VECTOR, CLCONV_ALGO_DIRECT_DEPTHWISE,
                                         CLCONV_ALGO_DIRECT_POINTWISE};

/* Whether the library says algorithm a covers the layer (direct-depthwise:
 * one input channel per group; direct-pointwise: 4 pixels in its grid). */
static bool algo_applies(clconv_algorithm a, const clconv_conv2d_params *p, const clconv_shape *in)
{
    return clconv_conv2d_algorithm_supported(tu_ctx(), p, in, a) == CLCONV_SUCCESS;
}
#define N_ALGOS (sizeof ALGOS / sizeof ALGOS[0])
/* The random sweep draws from the first four; direct-pointwise has its own. */
#define N_SWEEP_ALGOS 4

START_TEST(seed_corr2d_3x3)
{
    /* corr2d(X=[[0,1,2],[3,4,5],[6,7,8]], K=[[0,1],[2,3]]) = [[19,25],[37,43]] */
    float x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, w[4] = {0, 1, 2, 3}, want[4] = {19, 25, 37, 43};
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 2, 2);
    clconv_shape in = {1, 1, 3, 3};
    tu_conv2d_golden(&p, &in, x, w, NULL, want, 4);
}
END_TEST

START_TEST(seed_edge_6x8)
{
    /* X = ones(6, 8) with columns 2..5 zero; K = [[1, -1]] finds the two edges. */
    float x[48], want[42];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++)
            x[i * 8 + j] = (j >= 2 && j < 6) ? 0.0f : 1.0f;
    const float row[7] = {0, 1, 0, 0, 0, -1, 0};
    for (int i = 0; i < 6; i++)
        memcpy(want + i * 7, row, sizeof row);
    float w[2] = {1, -1};
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 2);
    clconv_shape in = {1, 1, 6, 8};
    tu_conv2d_golden(&p, &in, x, w, NULL, want, 42);

    /* The same through the 1-D interface, row by row as a batch of 6. */
    clconv_conv1d_params q = {.in_channels = 1, .out_channels = 1, .kernel = 2, .stride = 1,
                              .dilation = 1, .groups = 1};
    float y[42];
    ck_assert_int_eq(clconv_conv1d_host(tu_ctx(), &q, 6, 8, NULL, x, w, NULL, y), CLCONV_SUCCESS);
    tu_expect_values(y, want, 42, "conv1d");
    ck_assert_int_eq(clconv_ref_conv1d(&q, 6, 8, x, w, NULL, y), CLCONV_SUCCESS);
    tu_expect_values(y, want, 42, "ref conv1d");
    int64_t len;
    ck_assert_int_eq(clconv_conv1d_output_length(&q, 8, &len), CLCONV_SUCCESS);
    ck_assert_int_eq(len, 7);
}
END_TEST

START_TEST(seed_laplacian_5x5)
{
    float x[25] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0};
    float w[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
    float want[9] = {-2, -1, -2, -1, 0, -2, -1, -2, 2};
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 3, 3);
    clconv_shape in = {1, 1, 5, 5};
    tu_conv2d_golden(&p, &in, x, w, NULL, want, 9);
}
END_TEST

START_TEST(seed_ones_8x8_pad1)
{
    float x[64], w[9], want[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1;
    for (int i = 0; i < 9; i++)
        w[i] = 1;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            int edges = (i == 0 || i == 7) + (j == 0 || j == 7);
            want[i * 8 + j] = edges == 2 ? 4 : edges == 1 ? 6 : 9;
        }
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    clconv_shape in = {1, 1, 8, 8};
    tu_conv2d_golden(&p, &in, x, w, NULL, want, 64);

    /* Bias and ReLU on the same: 2 channels, bias -5 clips the corners of channel 0. */
    float w2[18], b[2] = {-5, 0.5f}, want2[128];
    for (int i = 0; i < 18; i++)
        w2[i] = 1;
    for (int i = 0; i < 64; i++) {
        want2[i] = want[i] - 5 < 0 ? 0 : want[i] - 5;
        want2[64 + i] = want[i] + 0.5f;
    }
    p.out_channels = 2;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    tu_conv2d_golden(&p, &in, x, w2, b, want2, 128);
}
END_TEST

START_TEST(seed_multi_in_out)
{
    float x[18] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    float k[8] = {0, 1, 2, 3, 1, 2, 3, 4};
    clconv_shape in = {1, 2, 3, 3};
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 1, 2, 2);
    float want1[4] = {56, 72, 104, 120};
    tu_conv2d_golden(&p, &in, x, k, NULL, want1, 4);

    /* K, K+1, K+2 stacked as three output channels. */
    float w3[24];
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 8; i++)
            w3[o * 8 + i] = k[i] + (float)o;
    float want3[12] = {56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224};
    p.out_channels = 3;
    tu_conv2d_golden(&p, &in, x, w3, NULL, want3, 12);

    /* With a bias and a fused ReLU that clips channel 0 only. */
    float b[3] = {-100, 0.5f, -200};
    float want_b[12] = {0, 0, 4, 20, 76.5f, 100.5f, 148.5f, 172.5f, 0, 0, 0, 24};
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    tu_conv2d_golden(&p, &in, x, w3, b, want_b, 12);
}
END_TEST

START_TEST(seed_1x1_is_matmul)
{
    tu_rng r = tu_rng_make(37);
    float x[27], w[6], want[18];
    tu_fill(&r, x, 27, true);
    tu_fill(&r, w, 6, true);
    /* Y[o, p] = sum_c K[o, c] X[c, p]: the fully connected layer over channels. */
    for (int o = 0; o < 2; o++)
        for (int px = 0; px < 9; px++) {
            float s = 0;
            for (int c = 0; c < 3; c++)
                s += w[o * 3 + c] * x[c * 9 + px];
            want[o * 9 + px] = s;
        }
    clconv_conv2d_params p = clconv_conv2d_default_params(3, 2, 1, 1);
    clconv_shape in = {1, 3, 3, 3};
    tu_conv2d_golden(&p, &in, x, w, NULL, want, 18);
}
END_TEST

START_TEST(seed_shape_table)
{
    struct {
        int64_t h, w, kh, kw, ph, pw, sh, sw, oh, ow;
    } t[] = {
        {8, 8, 3, 3, 1, 1, 1, 1, 8, 8}, {8, 8, 5, 3, 2, 1, 1, 1, 8, 8},
        {8, 8, 3, 3, 1, 1, 2, 2, 4, 4}, {8, 8, 3, 5, 0, 1, 3, 4, 2, 2},
        {10, 10, 3, 3, 0, 0, 1, 1, 8, 8},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, t[i].kh, t[i].kw);
        p.pad_top = p.pad_bottom = t[i].ph;
        p.pad_left = p.pad_right = t[i].pw;
        p.stride_h = t[i].sh;
        p.stride_w = t[i].sw;
        clconv_shape in = {1, 1, t[i].h, t[i].w}, out;
        ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
        ck_assert_int_eq(out.h, t[i].oh);
        ck_assert_int_eq(out.w, t[i].ow);
        /* Ones convolved with ones count the in-image taps of each window. */
        size_t nx = (size_t)(t[i].h * t[i].w), nw = (size_t)(t[i].kh * t[i].kw);
        float *x = tu_alloc(nx), *w = tu_alloc(nw), *ref = tu_alloc(64);
        for (size_t j = 0; j < nx; j++)
            x[j] = 1;
        for (size_t j = 0; j < nw; j++)
            w[j] = 1;
        ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, NULL, ref), CLCONV_SUCCESS);
        if (t[i].ph == 0 && t[i].pw == 0)
            ck_assert_float_eq(ref[0], (float)nw);
        else
            ck_assert_float_lt(ref[0], (float)nw); /* the corner window hangs into padding */
        tu_conv2d_golden(&p, &in, x, w, NULL, ref, (size_t)(out.h * out.w));
        free(x);
        free(w);
        free(ref);
    }
}
END_TEST

START_TEST(same_padding_helper)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 4, 3);
    p.dilation_w = 2;
    ck_assert_int_eq(clconv_conv2d_set_same_padding(&p), CLCONV_SUCCESS);
    /* PyTorch: total = d*(k-1); the smaller half goes first. */
    ck_assert_int_eq(p.pad_top, 1);
    ck_assert_int_eq(p.pad_bottom, 2);
    ck_assert_int_eq(p.pad_left, 2);
    ck_assert_int_eq(p.pad_right, 2);
    clconv_shape in = {2, 1, 7, 9}, out;
    ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
    ck_assert_int_eq(out.h, 7);
    ck_assert_int_eq(out.w, 9);
    p.stride_w = 2;
    ck_assert_int_eq(clconv_conv2d_set_same_padding(&p), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "stride"));
}
END_TEST

/* ---- randomized sweep --------------------------------------------------- */

typedef struct sweep_case {
    clconv_conv2d_params p;
    clconv_shape in;
    clconv_plan_options opt;
    bool integers;
} sweep_case;

/* Kernel size, stride and dilation from a palette row (kh, kw, sh, sw, dh, dw). */
static void set_geometry(clconv_conv2d_params *p, const int *g)
{
    p->kernel_h = g[0];
    p->kernel_w = g[1];
    p->stride_h = g[2];
    p->stride_w = g[3];
    p->dilation_h = g[4];
    p->dilation_w = g[5];
}

/* Kernel geometries (kh, kw, sh, sw, dh, dw) the sweep draws from. Every
 * distinct geometry is a separate compiled program, and PoCL needs most of a
 * second per program, so the sweep varies shapes, channels, groups, padding,
 * bias and activation freely but geometries and tiles from these palettes. */
static const int GEOMETRIES[][6] = {
    {1, 1, 1, 1, 1, 1}, {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {5, 3, 1, 1, 1, 1},
    {1, 2, 1, 1, 1, 1}, {2, 2, 1, 1, 1, 1}, {3, 3, 1, 1, 2, 2}, {5, 5, 1, 1, 1, 1},
    {3, 1, 2, 1, 1, 1}, {1, 5, 1, 2, 1, 3}, {4, 4, 3, 3, 1, 1}, {2, 3, 1, 3, 3, 1},
    {7, 7, 2, 2, 1, 1}, {3, 5, 3, 2, 2, 1}, {1, 3, 1, 1, 1, 1}, {5, 2, 2, 3, 1, 2},
};
/* Tile shapes (wg_w, wg_h, wg_oc, block_w, block_oc, ci_chunk): the GPU
 * default, and odd tiles that never divide the output or the channel count.
 * The shape-fitted defaults are covered by the golden and edge-shape tests;
 * pinning the tile here keeps the sweep's distinct programs near 100. */
static const int TILES[][6] = {{16, 4, 4, 2, 4, 8}, {3, 2, 3, 3, 5, 3}, {5, 1, 2, 2, 3, 2}};

static sweep_case random_case(tu_rng *r, int i)
{
    sweep_case c;
    memset(&c, 0, sizeof c);
    c.opt.algorithm = ALGOS[i % N_SWEEP_ALGOS];
    for (;;) {
        int64_t groups = tu_int(r, 0, 5) == 0 ? tu_int(r, 2, 4) : 1;
        int64_t cin_g = tu_int(r, 1, 6), cout_g = tu_int(r, 1, 9);
        if (tu_int(r, 0, 9) == 0 || c.opt.algorithm == CLCONV_ALGO_DIRECT_DEPTHWISE) {
            groups = tu_int(r, 2, 8);
            cin_g = 1;
            cout_g = tu_int(r, 1, 2);
        }
        const int gi = tu_int(r, 0, (int)(sizeof GEOMETRIES / sizeof GEOMETRIES[0]) - 1);
        const int *geo = GEOMETRIES[gi];
        c.p = clconv_conv2d_default_params(cin_g * groups, cout_g * groups, geo[0], geo[1]);
        c.p.groups = groups;
        set_geometry(&c.p, geo);
        c.p.pad_top = tu_int(r, 0, 2);
        c.p.pad_bottom = tu_int(r, 0, 2);
        c.p.pad_left = tu_int(r, 0, 2);
        c.p.pad_right = tu_int(r, 0, 2);
        c.p.has_bias = tu_int(r, 0, 1);
        /* the other activations on odd geometries: no more programs */
        tu_random_activation(r, &c.p.activation, c.p.activation_params, gi % 2 == 1);
        /* the residual / second output too, one family per odd geometry */
        tu_random_epilogue(r, gi % 2 == 1 ? 1 + (gi / 2) % 3 : 0, &c.p.has_residual, &c.p.alpha,
                           &c.p.beta, &c.p.pre_activation_output);
        c.in = (clconv_shape){tu_int(r, 1, 3), c.p.in_channels, tu_int(r, 1, 19), tu_int(r, 1, 37)};
        if (clconv_conv2d_validate(&c.p, &c.in) == CLCONV_SUCCESS)
            break;
    }
    {
        const int *t = TILES[tu_int(r, 0, 2)];
        c.opt.wg_w = t[0];
        c.opt.wg_h = t[1];
        c.opt.wg_oc = t[2];
        c.opt.block_w = t[3];
        c.opt.block_oc = t[4];
        c.opt.ci_chunk = t[5];
        /* The vector kernel's register block is long rows: the edge path matters. */
        if (c.opt.algorithm == CLCONV_ALGO_DIRECT_VECTOR)
            c.opt.block_w = t == TILES[0] ? 16 : t == TILES[1] ? 7 : 3;
    }
    c.integers = tu_int(r, 0, 1);
    return c;
}

static void describe(const sweep_case *c, char *buf, size_t n)
{
    const clconv_conv2d_params *p = &c->p;
    snprintf(buf, n,
             "in=%lldx%lldx%lldx%lld out_c=%lld k=%lldx%lld s=%lldx%lld pad=%lld,%lld,%lld,%lld "
             "d=%lldx%lld g=%lld bias=%d act=%s(%g,%g) res=%d(%g,%g) pre=%d algo=%s "
             "tile=%d,%d,%d,%d,%d,%d ints=%d",
             (long long)c->in.n, (long long)c->in.c, (long long)c->in.h, (long long)c->in.w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups,
             p->has_bias, clconv_activation_name(p->activation), (double)p->activation_params[0],
             (double)p->activation_params[1], p->has_residual, (double)p->alpha,
             (double)p->beta, p->pre_activation_output, clconv_algorithm_name(c->opt.algorithm),
             c->opt.wg_w, c->opt.wg_h, c->opt.wg_oc, c->opt.block_w, c->opt.block_oc,
             c->opt.ci_chunk, (int)c->integers);
}

/* Checks one case against the reference through the shared tester
 * (tu_conv2d_check: exact on integer data, else a bound scaled by
 * sum |x*w| + |b| and the square root of the reduction length). */
static void check_case(const sweep_case *c, tu_rng *r, uint64_t seed, int i)
{
    char layer[400], what[512];
    describe(c, layer, sizeof layer);
    snprintf(what, sizeof what, "sweep seed %llu case %d: %s", (unsigned long long)seed, i, layer);
    tu_conv2d_check(tu_ctx(), &c->p, &c->in, &c->opt, r, c->integers, NULL, what);
}

START_TEST(random_sweep)
{
    const uint64_t seed = 20261125;
    tu_rng r = tu_rng_make(seed);
    const int cases = 280; /* 70 per algorithm; the CI budget (docs/testing.md) */
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    for (int i = 0; i < cases; i++) {
        sweep_case c = random_case(&r, i);
        check_case(&c, &r, seed, i);
    }
    clconv_context_cache_stats(tu_ctx(), &after);
    /* Guards the suite's run time on CI, where every program is compiled cold.
     * A PoCL budget: how many programs the sweep builds follows AUTO's
     * choices, which differ on other drivers (rusticl built 247), so it is
     * asserted on PoCL only and reported elsewhere. */
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    fprintf(stderr, "conv2d sweep: %d cases, %llu programs\n", cases, (unsigned long long)programs);
    if (tu_device_is_pocl())
        ck_assert_msg(programs <= 240, "the sweep built %llu programs; keep it near 200",
                      (unsigned long long)programs);
}
END_TEST

/* direct-pointwise on maps whose pixel count is rarely a multiple of its
 * vectors (the clamped last vector, blocks past the map), ragged channel
 * blocks, groups, batches, bias and ReLU; six 1x1 cases (some strided) and
 * six with larger kernels, padding, strides and dilation (the phase copy and
 * its wide rows). The output maps come from a palette (the vector
 * width and block follow from the pixel count, and each combination is a
 * program) and so do the register-block overrides. */
START_TEST(pointwise_sweep)
{
    static const int maps[][2] = {{2, 2}, {7, 7}, {6, 6}, {3, 19}, {13, 17}, {1, 5}};
    static const int blocks[][2] = {{0, 0}, {3, 5}}; /* block_w, block_oc */
    const uint64_t seed = 611;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    /* kh, kw, sh, sw, dh, dw, pad */
    static const int kxk[][7] = {{3, 3, 1, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1, 1}, {7, 7, 2, 2, 1, 1, 3},
                                 {3, 5, 2, 3, 2, 1, 2}, {1, 3, 1, 1, 1, 2, 0}, {2, 2, 3, 1, 1, 1, 1}};
    const int cases = 12;
    for (int i = 0; i < cases; i++) {
        sweep_case c;
        memset(&c, 0, sizeof c);
        int64_t groups = tu_int(&r, 0, 3) == 0 ? tu_int(&r, 2, 3) : 1;
        int64_t cin_g = tu_int(&r, 1, 40), cout_g = tu_int(&r, 1, 21);
        c.p = clconv_conv2d_default_params(cin_g * groups, cout_g * groups, 1, 1);
        c.p.groups = groups;
        c.p.has_bias = tu_int(&r, 0, 1);
        tu_random_activation(&r, &c.p.activation, c.p.activation_params, (i / 2) % 2 == 1);
        const int *m = maps[(i / 2) % 6]; /* the 1x1 cases (even i): every map */
        if ((i / 2) % 3 == 1) { /* 2x2 or 3x1, inputs a little past the last kept pixel */
            c.p.stride_h = i == 2 ? 2 : 3;
            c.p.stride_w = i == 2 ? 2 : 1;
        }
        c.in = (clconv_shape){tu_int(&r, 1, 3), c.p.in_channels,
                              (m[0] - 1) * c.p.stride_h + 1 + tu_int(&r, 0, (int)c.p.stride_h - 1),
                              (m[1] - 1) * c.p.stride_w + 1 + tu_int(&r, 0, (int)c.p.stride_w - 1)};
        if (i % 2) { /* the kernel reaches around: any input at least the window */
            const int *k = kxk[i / 2];
            set_geometry(&c.p, k);
            c.p.pad_top = c.p.pad_left = k[6];
            c.p.pad_bottom = c.p.pad_right = tu_int(&r, 0, k[6]);
            c.in.h = tu_int(&r, (k[0] - 1) * k[4] + 1, 15);
            c.in.w = tu_int(&r, (k[1] - 1) * k[5] + 1, 15);
        }
        c.opt.algorithm = CLCONV_ALGO_DIRECT_POINTWISE;
        c.opt.block_w = blocks[(i / 6) % 2][0];
        c.opt.block_oc = blocks[(i / 6) % 2][1];
        c.integers = (i / 2) % 2 == 0;
        check_case(&c, &r, seed, i);
    }
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    ck_assert_msg(programs <= 12, "the pointwise sweep built %llu programs",
                  (unsigned long long)programs);
}
END_TEST

/* direct-batch (images in SIMD lanes) on batches on both sides of its lane
 * blocks (1, 3, 15, 16, 17, 33 images: the copy's empty lanes and the stores
 * that stop at the batch), rows that its column blocks do not divide, ragged
 * channel blocks, groups, padding on every side, strides and dilation, bias,
 * every activation and the residual / second output. The geometries come
 * from a palette (each one, with its blocks and lane count, is a program). */
START_TEST(batch_sweep)
{
    static const int batches[] = {1, 3, 15, 16, 17, 33};
    /* kh, kw, sh, sw, dh, dw */
    static const int geo[][6] = {{5, 5, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {1, 1, 1, 1, 1, 1},
                                 {3, 2, 1, 2, 2, 1}};
    static const int blocks[][2] = {{0, 0}, {3, 5}}; /* block_w, block_oc */
    const uint64_t seed = 1207;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    const int cases = 12;
    for (int i = 0; i < cases; i++) {
        sweep_case c;
        memset(&c, 0, sizeof c);
        const int *k = geo[i % 4];
        int64_t groups = i % 3 == 2 ? tu_int(&r, 2, 3) : 1;
        int64_t cin_g = tu_int(&r, 1, 7), cout_g = tu_int(&r, 1, 18);
        c.p = clconv_conv2d_default_params(cin_g * groups, cout_g * groups, k[0], k[1]);
        c.p.groups = groups;
        set_geometry(&c.p, k);
        c.p.pad_top = tu_int(&r, 0, 2);
        c.p.pad_bottom = tu_int(&r, 0, 2);
        c.p.pad_left = tu_int(&r, 0, 2);
        c.p.pad_right = tu_int(&r, 0, 2);
        c.p.has_bias = tu_int(&r, 0, 1);
        /* the other activations and the residual on the odd geometries */
        tu_random_activation(&r, &c.p.activation, c.p.activation_params, i % 2 == 1);
        tu_random_epilogue(&r, i % 2 == 1 ? 1 + (i / 2) % 3 : 0, &c.p.has_residual, &c.p.alpha,
                           &c.p.beta, &c.p.pre_activation_output);
        c.in = (clconv_shape){batches[i % 6], c.p.in_channels,
                              tu_int(&r, (k[0] - 1) * k[4] + 1, 14),
                              tu_int(&r, (k[1] - 1) * k[5] + 1, 14)};
        c.opt.algorithm = CLCONV_ALGO_DIRECT_BATCH;
        c.opt.block_w = blocks[(i / 4) % 2][0];
        c.opt.block_oc = blocks[(i / 4) % 2][1];
        c.integers = i % 3 == 0;
        check_case(&c, &r, seed, i);
    }
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    ck_assert_msg(programs <= 24, "the batch sweep built %llu programs",
                  (unsigned long long)programs);
}
END_TEST

/* AUTO takes direct-pointwise for 1x1 layers on CPUs only; the copies it
 * makes for padded or strided layers; explicit requests it cannot serve say
 * why. */
START_TEST(pointwise_choice_and_limits)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(64, 32, 1, 1);
    clconv_shape in = {1, 64, 7, 7};
    clconv_plan *plan = NULL;
    clconv_plan_info info;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    if (tu_device_is_cpu()) {
        ck_assert_int_eq(info.algorithm, CLCONV_ALGO_DIRECT_POINTWISE);
        ck_assert_str_eq(info.kernel_name, "conv2d_pointwise");
        ck_assert_uint_eq(info.workspace_bytes, 0);
        ck_assert_uint_eq(info.plan_device_bytes, 0); /* no repacked weights */
    } else {
        ck_assert_int_ne(info.algorithm, CLCONV_ALGO_DIRECT_POINTWISE);
    }
    clconv_plan_destroy(plan);

    clconv_plan_options o = {.algorithm = CLCONV_ALGO_DIRECT_POINTWISE};
    clconv_conv2d_params q = clconv_conv2d_default_params(64, 32, 3, 3);
    q.pad_top = q.pad_bottom = q.pad_left = q.pad_right = 1; /* 9x9 padded copy, 7x9 grid */
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &q, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.plan_device_bytes, (64 * 9 * 9 + 9) * sizeof(float));
    clconv_plan_destroy(plan);
    plan = NULL;
    clconv_shape tiny = {1, 64, 1, 3};
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &tiny, &o, &plan), CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "at least 4 output pixels, got 1x3"));
    q = p;
    q.stride_h = q.stride_w = 2; /* 7x7 -> 4x4 through the subsampled copy */
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &q, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_uint_eq(info.plan_device_bytes, (64 * 16 + 4) * sizeof(float));
    ck_assert_uint_eq(info.workspace_bytes, 0);
    clconv_plan_destroy(plan);
    plan = NULL;
    o.block_w = 9;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, &o, &plan), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "options.block_w = 9"));
    o.block_w = 0;
    o.block_oc = -1;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, &o, &plan), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "options.block_oc = -1"));
    ck_assert_ptr_null(plan);
}
END_TEST

START_TEST(comparator_catches_errors)
{
    float ref[3] = {1, 2, NAN}, got[3] = {1, 2, NAN}, scale[3] = {1, 2, 1};
    char msg[128];
    ck_assert_int_eq(tu_compare(got, ref, scale, 3, 0, 1e-6, msg, sizeof msg), -1);
    got[1] = 2.001f;
    ck_assert_int_eq(tu_compare(got, ref, scale, 3, 0, 1e-6, msg, sizeof msg), 1);
    got[1] = 2;
    got[2] = 0;
    ck_assert_int_eq(tu_compare(got, ref, scale, 3, 0, 1e-6, msg, sizeof msg), 2);
}
END_TEST

START_TEST(edge_shapes)
{
    struct {
        int64_t n, c, h, w, oc, kh, kw, s, pad, d, g;
    } e[] = {
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1},     /* 1x1 image, 1x1 kernel */
        {2, 3, 1, 1, 5, 3, 3, 1, 1, 1, 1},     /* 1x1 image, 3x3 kernel, padding 1 */
        {1, 2, 2, 3, 3, 5, 7, 1, 3, 1, 1},     /* kernel larger than the input, padded */
        {3, 5, 17, 33, 19, 3, 3, 1, 1, 1, 1},  /* nothing a multiple of a tile */
        {1, 8, 9, 9, 8, 3, 3, 2, 1, 1, 8},     /* depthwise, stride 2 */
        {1, 6, 40, 70, 4, 3, 3, 1, 2, 2, 2},   /* wide image, dilation, groups */
        {4, 1, 5, 200, 2, 1, 9, 1, 4, 1, 1},   /* long rows */
        {1, 3, 1, 100, 37, 1, 3, 3, 0, 1, 1},  /* H = 1, many channels */
        {1, 33, 6, 6, 65, 1, 1, 1, 0, 1, 1},   /* 1x1 conv, odd channel counts */
        {1, 2, 31, 3, 1, 11, 3, 1, 5, 3, 1},   /* tall dilated kernel */
    };
    tu_rng r = tu_rng_make(7);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        for (size_t a = 0; a < N_ALGOS; a++) {
            sweep_case c;
            memset(&c, 0, sizeof c);
            c.p = clconv_conv2d_default_params(e[i].c, e[i].oc, e[i].kh, e[i].kw);
            c.p.stride_h = c.p.stride_w = e[i].s;
            c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = e[i].pad;
            c.p.dilation_h = c.p.dilation_w = e[i].d;
            c.p.groups = e[i].g;
            c.p.has_bias = 1;
            c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
            c.opt.algorithm = ALGOS[a];
            c.integers = true;
            if (!algo_applies(c.opt.algorithm, &c.p, &c.in))
                continue;
            check_case(&c, &r, 7, (int)i);
        }
    }
}
END_TEST

/* direct-depthwise's row paths (stride 1 or 2, no dilation, windows up to
 * 3 wide: each input row loaded once, the taps shifted or split out of its
 * vectors): rows narrower than a vector, blocks whose next vector feeds no
 * output, blocks whose vectors lie inside the row, asymmetric padding,
 * 1- and 2-wide windows, 1 - 8 rows per work-item, a 1x1 image. Integer
 * data: exact. */
START_TEST(depthwise_row_path)
{
    struct {
        int64_t n, c, h, w, kh, kw, s, pt, pb, pl, pr;
        int rh;
    } e[] = {
        {1, 4, 14, 14, 3, 3, 1, 1, 1, 1, 1, 0}, /* MobileNet's 14x14 and 7x7 */
        {2, 3, 7, 7, 3, 3, 1, 1, 1, 1, 1, 0},
        {1, 2, 9, 40, 3, 3, 1, 1, 1, 1, 1, 4},
        {1, 2, 5, 70, 3, 3, 1, 1, 1, 1, 1, 8},  /* middle blocks fully inside */
        {1, 3, 6, 17, 2, 2, 1, 0, 1, 0, 1, 3},
        {1, 3, 6, 17, 1, 3, 1, 0, 0, 2, 0, 2},
        {1, 3, 11, 9, 3, 1, 1, 2, 0, 0, 0, 1},
        {3, 2, 1, 1, 3, 3, 1, 1, 1, 1, 1, 0},
        {1, 1, 4, 3, 3, 3, 1, 2, 2, 2, 2, 8},
        {2, 2, 3, 200, 3, 3, 1, 1, 1, 1, 1, 0},
        {1, 4, 28, 28, 3, 3, 2, 1, 1, 1, 1, 0}, /* MobileNet's stride-2 layers */
        {2, 3, 14, 14, 3, 3, 2, 1, 1, 1, 1, 0},
        {1, 2, 13, 81, 3, 3, 2, 1, 1, 1, 1, 4}, /* middle blocks fully inside */
        {1, 2, 9, 33, 3, 3, 2, 0, 1, 0, 1, 3},
        {1, 3, 10, 20, 2, 2, 2, 0, 0, 0, 0, 2},
        {1, 3, 7, 19, 1, 3, 2, 0, 0, 2, 1, 1},
        {1, 3, 12, 18, 3, 1, 2, 1, 2, 0, 0, 8},
        {2, 2, 1, 2, 3, 3, 2, 1, 1, 1, 1, 0},
        {1, 2, 4, 300, 3, 3, 2, 1, 1, 1, 1, 0},
    };
    tu_rng r = tu_rng_make(11);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        sweep_case c;
        memset(&c, 0, sizeof c);
        c.p = clconv_conv2d_default_params(e[i].c, e[i].c, e[i].kh, e[i].kw);
        c.p.stride_h = c.p.stride_w = e[i].s;
        c.p.pad_top = e[i].pt;
        c.p.pad_bottom = e[i].pb;
        c.p.pad_left = e[i].pl;
        c.p.pad_right = e[i].pr;
        c.p.groups = e[i].c;
        c.p.has_bias = (int)(i % 2);
        c.p.activation = i % 3 == 0 ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_NONE;
        c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
        c.opt.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE;
        c.opt.wg_h = e[i].rh;
        c.integers = true;
        check_case(&c, &r, 11, (int)i);
    }
}
END_TEST

/* direct-depthwise-channels (output channels in SIMD lanes, a private ring
 * of gathered rows): channel counts that leave the last lane block ragged
 * (1 - 40 channels, multipliers 1 - 3: lanes read input channel
 * oc / multiplier), 5x5 / 7x7 / 1-D / dilated / strided windows, rows
 * wider than one column block (up to 70 columns: blocks of whole and partial
 * 16-column transposes, edges inside and outside x), row blocks (wg_h),
 * register blocks (block_w), images 1 - 3, bias, every activation, the
 * residual and the second output, AUTO's pick for wide windows. */
START_TEST(depthwise_channels_sweep)
{
    /* kh, kw, sh, sw, dh, dw */
    static const int geo[][6] = {{5, 5, 1, 1, 1, 1}, {7, 7, 1, 1, 1, 1}, {5, 5, 2, 2, 1, 1},
                                 {3, 3, 1, 1, 2, 2}, {1, 9, 1, 1, 1, 1}, {3, 3, 3, 3, 1, 1},
                                 {4, 2, 1, 2, 1, 3}, {1, 1, 1, 1, 1, 1}};
    const uint64_t seed = 1208;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    const int cases = 16;
    for (int i = 0; i < cases; i++) {
        sweep_case c;
        memset(&c, 0, sizeof c);
        const int *k = geo[i % 8];
        const int64_t ch = tu_int(&r, 1, 40), mult = i % 4 == 3 ? tu_int(&r, 2, 3) : 1;
        c.p = clconv_conv2d_default_params(ch, ch * mult, k[0], k[1]);
        c.p.groups = ch;
        set_geometry(&c.p, k);
        c.p.pad_top = tu_int(&r, 0, 3);
        c.p.pad_bottom = tu_int(&r, 0, 3);
        c.p.pad_left = tu_int(&r, 0, 3);
        c.p.pad_right = tu_int(&r, 0, 3);
        c.p.has_bias = tu_int(&r, 0, 1);
        tu_random_activation(&r, &c.p.activation, c.p.activation_params, i % 2 == 1);
        tu_random_epilogue(&r, i % 2 == 1 ? 1 + (i / 2) % 3 : 0, &c.p.has_residual, &c.p.alpha,
                           &c.p.beta, &c.p.pre_activation_output);
        const int wide = i % 3 == 0 ? 70 : 20;
        c.in = (clconv_shape){tu_int(&r, 1, 3), ch, tu_int(&r, (k[0] - 1) * k[4] + 1, 20),
                              tu_int(&r, (k[1] - 1) * k[5] + 1, wide)};
        /* AUTO for a wide window: the new algorithm is its pick */
        c.opt.algorithm = i == 1 ? CLCONV_ALGO_AUTO : CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS;
        c.opt.block_w = i % 4 == 2 ? tu_int(&r, 1, 8) : 0;
        c.opt.wg_h = i % 5 == 4 ? tu_int(&r, 1, 3) : 0;
        c.integers = i % 3 == 0;
        check_case(&c, &r, seed, i);
        if (i == 1) {
            clconv_plan *plan = NULL;
            ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &c.p, &c.in, &c.opt, &plan),
                             CLCONV_SUCCESS);
            clconv_plan_info info;
            clconv_plan_get_info(plan, &info);
            if (tu_device_is_cpu())
                ck_assert_int_eq(info.algorithm, CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS);
            clconv_plan_destroy(plan);
        }
    }
    /* options it refuses, naming them */
    clconv_conv2d_params p = clconv_conv2d_default_params(8, 8, 5, 5);
    p.groups = 8;
    clconv_shape in = {1, 8, 9, 9};
    clconv_plan *plan = NULL;
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS, .block_oc = 2};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_oc = 2"));
    o.block_oc = 0;
    o.block_w = 9;
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_w = 9"));
    p = clconv_conv2d_default_params(8, 8, 3, 3);
    p.groups = 4;
    o.block_w = 0;
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "one input channel per group"));
    p = clconv_conv2d_default_params(8, 8, 40, 40);
    p.groups = 8;
    p.dilation_h = p.dilation_w = 3;
    in = (clconv_shape){1, 8, 200, 200};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "private rows"));
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    ck_assert_msg(programs <= 20, "the depthwise-channels sweep built %llu programs",
                  (unsigned long long)programs);
}
END_TEST

START_TEST(huge_dilated_kernel_falls_back)
{
    /* A tile with this halo cannot fit in local memory: auto must still work
     * (register variant) and an explicit tiled request must say why it can't. */
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 9, 9);
    p.dilation_h = p.dilation_w = 40;
    clconv_shape in = {1, 1, 330, 330};
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 16,
                             .block_w = 4};
    clconv_plan *plan = NULL;
    clconv_status st = clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan);
    if (st == CLCONV_SUCCESS) {
        clconv_plan_info info;
        clconv_plan_get_info(plan, &info);
        ck_assert_uint_le(info.local_mem_bytes, 32768);
        clconv_plan_destroy(plan);
    } else {
        ck_assert_int_eq(st, CLCONV_ERROR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "local memory"));
    }
    sweep_case c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.in = in;
    c.integers = true;
    tu_rng r = tu_rng_make(3);
    check_case(&c, &r, 3, 0);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

static void expect_invalid(clconv_conv2d_params p, clconv_shape in, clconv_status want,
                           const char *needle)
{
    clconv_shape out;
    clconv_status st = clconv_conv2d_output_shape(&p, &in, &out);
    ck_assert_msg(st == want, "expected %s for '%s', got %s (%s)", clconv_status_string(want),
                  needle, clconv_status_string(st), clconv_last_error(NULL));
    ck_assert_msg(strstr(clconv_last_error(NULL), needle) != NULL, "message '%s' lacks '%s'",
                  clconv_last_error(NULL), needle);
    clconv_plan *plan = (clconv_plan *)1;
    st = clconv_conv2d_plan_create(tu_ctx(), &p, &in, NULL, &plan);
    ck_assert_int_eq(st, want);
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), needle) != NULL, "context message '%s'",
                  clconv_last_error(tu_ctx()));
    float dummy[1] = {0};
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, dummy, dummy, dummy, dummy), want);
}

/* clconv_conv2d_algorithm_supported: known answers with the reason, and
 * agreement with plan creation over a sweep of small layers. */
START_TEST(algorithm_supported)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 8, 5, 5);
    clconv_shape in = {1, 4, 9, 9};
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &p, &in, CLCONV_ALGO_AUTO),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &p, &in, CLCONV_ALGO_GEMM),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &p, &in, CLCONV_ALGO_WINOGRAD),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "winograd: F(2x2,3x3) needs a 3x3"));
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &p, &in,
                                                       CLCONV_ALGO_DIRECT_DEPTHWISE),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "one input channel per group"));
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &p, &in,
                                                       CLCONV_ALGO_TRANSPOSED_GATHER),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "transposed-gather is not an algorithm"));
    clconv_conv2d_params one = clconv_conv2d_default_params(4, 8, 1, 1);
    clconv_shape dot = {1, 4, 1, 1};
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &one, &dot,
                                                       CLCONV_ALGO_DIRECT_POINTWISE),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "at least 4 output pixels"));
    p.stride_h = 0; /* the parameters are checked first */
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(ctx, &p, &in, CLCONV_ALGO_GEMM),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "stride_h = 0"));
    ck_assert_int_eq(clconv_conv2d_algorithm_supported(NULL, &one, &dot, CLCONV_ALGO_AUTO),
                     CLCONV_ERROR_INVALID_VALUE);
    /* Agreement: "supported" exactly when a plan with that algorithm is not
     * refused as UNSUPPORTED (winograd / depthwise / pointwise on small
     * layers with and without their conditions). */
    tu_rng r = tu_rng_make(77);
    const clconv_algorithm algos[] = {CLCONV_ALGO_WINOGRAD, CLCONV_ALGO_DIRECT_DEPTHWISE,
                                      CLCONV_ALGO_DIRECT_POINTWISE};
    for (int i = 0; i < 24; i++) {
        int64_t g = tu_int(&r, 0, 1) ? 4 : 1, k = tu_int(&r, 0, 1) ? 3 : 1 + 2 * tu_int(&r, 0, 1);
        clconv_conv2d_params q = clconv_conv2d_default_params(4, 8, k, k);
        q.groups = g;
        q.stride_h = q.stride_w = tu_int(&r, 1, 2);
        q.pad_top = q.pad_bottom = q.pad_left = q.pad_right = tu_int(&r, 0, 1);
        clconv_shape qi = {1, 4, tu_int(&r, 1, 7), tu_int(&r, 1, 7)};
        if (clconv_conv2d_validate(&q, &qi) != CLCONV_SUCCESS)
            continue;
        clconv_algorithm a = algos[i % 3];
        clconv_status sup = clconv_conv2d_algorithm_supported(ctx, &q, &qi, a);
        clconv_plan_options o = {.algorithm = a};
        clconv_plan *plan = NULL;
        clconv_status made = clconv_conv2d_plan_create(ctx, &q, &qi, &o, &plan);
        clconv_plan_destroy(plan);
        ck_assert_msg((sup == CLCONV_SUCCESS) == (made != CLCONV_ERROR_UNSUPPORTED),
                      "%s on %lldx%lld k%lld s%lld g%lld: supported %d, plan %d (%s)",
                      clconv_algorithm_name(a), (long long)qi.h, (long long)qi.w, (long long)k,
                      (long long)q.stride_h, (long long)g, sup, made, clconv_last_error(ctx));
    }
}
END_TEST

START_TEST(bad_parameters)
{
    const clconv_conv2d_params ok = clconv_conv2d_default_params(4, 6, 3, 3);
    const clconv_shape in = {1, 4, 8, 8};
    clconv_conv2d_params p;
    clconv_shape s;
#define BAD(field, value, status, needle) \
    p = ok; s = in; field = value; expect_invalid(p, s, status, needle);
    BAD(p.in_channels, 0, CLCONV_ERROR_INVALID_VALUE, "in_channels = 0")
    BAD(p.out_channels, -2, CLCONV_ERROR_INVALID_VALUE, "out_channels = -2")
    BAD(p.kernel_h, 0, CLCONV_ERROR_INVALID_VALUE, "kernel_h = 0")
    BAD(p.kernel_w, -1, CLCONV_ERROR_INVALID_VALUE, "kernel_w = -1")
    BAD(p.stride_h, 0, CLCONV_ERROR_INVALID_VALUE, "stride_h = 0")
    BAD(p.stride_w, 0, CLCONV_ERROR_INVALID_VALUE, "stride_w = 0")
    BAD(p.dilation_h, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 0")
    BAD(p.dilation_w, -3, CLCONV_ERROR_INVALID_VALUE, "dilation_w = -3")
    BAD(p.pad_top, -1, CLCONV_ERROR_INVALID_VALUE, "pad_top = -1")
    BAD(p.pad_right, -1, CLCONV_ERROR_INVALID_VALUE, "pad_right = -1")
    BAD(p.groups, 0, CLCONV_ERROR_INVALID_VALUE, "groups = 0")
    BAD(p.groups, 3, CLCONV_ERROR_INVALID_VALUE, "does not divide in_channels")
    BAD(p.activation, (clconv_activation)14, CLCONV_ERROR_INVALID_VALUE, "activation = 14")
    BAD(p.kernel_h, (int64_t)1 << 40, CLCONV_ERROR_INVALID_VALUE, "kernel_h")
    BAD(s.c, 3, CLCONV_ERROR_INVALID_SHAPE, "input.c = 3")
    BAD(s.n, 0, CLCONV_ERROR_INVALID_SHAPE, "input.n = 0")
    BAD(s.h, -5, CLCONV_ERROR_INVALID_SHAPE, "input.h = -5")
    BAD(p.kernel_h, 9, CLCONV_ERROR_INVALID_SHAPE, "no output")
    p = ok;
    p.groups = 2;
    p.out_channels = 5;
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "does not divide out_channels");
    p = ok;
    p.dilation_w = 5; /* dilated kernel 11 > 8 */
    expect_invalid(p, in, CLCONV_ERROR_INVALID_SHAPE, "no output");
#undef BAD
    ck_assert_int_eq(clconv_conv2d_output_shape(NULL, &in, &s), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_output_shape(&ok, NULL, &s), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_output_shape(&ok, &in, NULL), CLCONV_ERROR_INVALID_VALUE);
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv2d_plan_create(NULL, &ok, &in, NULL, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &ok, &in, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_POOL};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    o = (clconv_plan_options){.block_oc = 99};
    ck_assert_int_eq(clconv_conv2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_oc = 99"));
    ck_assert_str_eq(clconv_status_string(CLCONV_ERROR_BUFFER_TOO_SMALL), "buffer too small");
    ck_assert_str_eq(clconv_status_string((clconv_status)999), "unknown status");
}
END_TEST

START_TEST(bad_buffers)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(2, 3, 3, 3);
    p.has_bias = 1;
    clconv_shape in = {2, 2, 6, 6}; /* out 2x3x4x4 */
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    cl_int err;
    cl_context cc = clconv_context_cl_context(ctx);
    cl_mem x = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 2 * 36 * 4, NULL, &err);
    cl_mem w = clCreateBuffer(cc, CL_MEM_READ_WRITE, 3 * 2 * 9 * 4, NULL, &err);
    cl_mem b = clCreateBuffer(cc, CL_MEM_READ_WRITE, 3 * 4, NULL, &err);
    cl_mem y = clCreateBuffer(cc, CL_MEM_READ_WRITE, 2 * 3 * 16 * 4, NULL, &err);
    cl_mem small = clCreateBuffer(cc, CL_MEM_READ_WRITE, 8, NULL, &err);
    ck_assert_int_eq(clconv_conv2d_run(plan, NULL, w, b, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "x: NULL"));
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, NULL, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "b: NULL"));
    ck_assert_int_eq(clconv_conv2d_run(plan, x, small, b, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "w: 8 bytes, expected at least 216"));
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, small, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, x, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, NULL, 1, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_run(NULL, x, w, b, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    /* The wait list and the completion event work without any clFinish. */
    cl_event gate = clCreateUserEvent(cc, &err), done = NULL;
    ck_assert_int_eq(err, CL_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(plan, x, w, b, y, NULL, 1, &gate, &done), CLCONV_SUCCESS);
    cl_int status;
    clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    ck_assert_int_ne(status, CL_COMPLETE);
    clSetUserEventStatus(gate, CL_COMPLETE);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    clReleaseEvent(gate);
    clconv_plan_destroy(plan);
    cl_mem all[] = {x, w, b, y, small};
    for (int i = 0; i < 5; i++)
        clReleaseMemObject(all[i]);
    /* Host convenience: NULL arrays. */
    float buf[200] = {0};
    ck_assert_int_eq(clconv_conv2d_host(ctx, &p, &in, NULL, buf, buf, NULL, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_conv2d_host(ctx, &p, &in, NULL, NULL, buf, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, buf, buf, NULL, buf), CLCONV_ERROR_INVALID_VALUE);
}
END_TEST

static Suite *conv2d_suite(void)
{
    Suite *s = suite_create("conv2d");
    TCase *golden_tc = tcase_create("seeds");
    tcase_add_test(golden_tc, seed_corr2d_3x3);
    tcase_add_test(golden_tc, seed_edge_6x8);
    tcase_add_test(golden_tc, seed_laplacian_5x5);
    tcase_add_test(golden_tc, seed_ones_8x8_pad1);
    tcase_add_test(golden_tc, seed_multi_in_out);
    tcase_add_test(golden_tc, seed_1x1_is_matmul);
    tcase_add_test(golden_tc, seed_shape_table);
    tcase_add_test(golden_tc, same_padding_helper);
    suite_add_tcase(s, golden_tc);
    TCase *sweep = tcase_create("sweep");
    tcase_set_timeout(sweep, 900);
    tcase_add_test(sweep, comparator_catches_errors);
    tcase_add_test(sweep, random_sweep);
    tcase_add_test(sweep, edge_shapes);
    tcase_add_test(sweep, depthwise_row_path);
    tcase_add_test(sweep, pointwise_sweep);
    tcase_add_test(sweep, pointwise_choice_and_limits);
    tcase_add_test(sweep, batch_sweep);
    tcase_add_test(sweep, depthwise_channels_sweep);
    tcase_add_test(sweep, huge_dilated_kernel_falls_back);
    suite_add_tcase(s, sweep);
    TCase *bad = tcase_create("bad-input");
    tcase_add_test(bad, bad_parameters);
    tcase_add_test(bad, algorithm_supported);
    tcase_add_test(bad, bad_buffers);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(conv2d_suite());
}
