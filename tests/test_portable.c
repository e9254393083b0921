/* A curated set of small layers through every algorithm clconv has (every
 * name clconv_algorithm_name knows), forward, backward and pooling in every
 * mode, each held against the CPU reference. Small enough to run under
 * Oclgrind, which simulates every work-item (scripts/oclgrind.sh runs this
 * suite there with GPU-like work-group and local-memory limits and the GPU
 * kernel family forced); in the ordinary suite it is a quick cross-check of
 * every route on the default device. Integer data: the sums are exact, so
 * any difference is a bug, not rounding. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cl_mem upload(const float *a, size_t n)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE,
                              (n ? n : 1) * sizeof(float), NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    if (a && n)
        ck_assert_int_eq(clEnqueueWriteBuffer(clconv_context_queue(tu_ctx()), m, CL_TRUE, 0,
                                              n * sizeof(float), a, 0, NULL, NULL),
                         CL_SUCCESS);
    return m;
}

static void download(cl_mem m, float *a, size_t n)
{
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(tu_ctx()), m, CL_TRUE, 0,
                                         n * sizeof(float), a, 0, NULL, NULL),
                     CL_SUCCESS);
}

static void expect_close(const char *what, const float *got, const float *ref, size_t n)
{
    char msg[256];
    long bad = tu_compare(got, ref, NULL, n, 1e-4, 1e-4, msg, sizeof msg);
    ck_assert_msg(bad < 0, "%s: %s", what, msg);
}

static void expect_ok(clconv_status st, const char *what)
{
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: %s: %s", what, clconv_status_string(st),
                  clconv_last_error(tu_ctx()));
}

typedef struct conv_case {
    const char *name;
    clconv_algorithm algo;
    int64_t cin, cout, k, stride, pad, dil, groups;
    clconv_shape in;
} conv_case;

/* Each algorithm on a layer it serves: winograd needs 3x3 stride 1,
 * direct-depthwise a depthwise layer, direct-pointwise 1x1 (or a padded 3x3
 * through its shifted 1x1s). Odd sizes leave partial tiles at every edge. */
static const conv_case CONV[] = {
    {"auto 3x3", CLCONV_ALGO_AUTO, 6, 10, 3, 1, 1, 1, 1, {2, 6, 7, 9}},
    {"direct-tiled 3x3 s2", CLCONV_ALGO_DIRECT_TILED, 5, 12, 3, 2, 1, 1, 1, {1, 5, 9, 11}},
    {"direct-tiled 5x5 grouped", CLCONV_ALGO_DIRECT_TILED, 8, 8, 5, 1, 2, 1, 2, {1, 8, 7, 6}},
    {"direct-register 3x3 dil2", CLCONV_ALGO_DIRECT_REGISTER, 4, 9, 3, 1, 2, 2, 1, {1, 4, 8, 7}},
    {"direct-vector 3x3", CLCONV_ALGO_DIRECT_VECTOR, 6, 16, 3, 1, 1, 1, 1, {1, 6, 6, 10}},
    {"direct-depthwise 3x3", CLCONV_ALGO_DIRECT_DEPTHWISE, 8, 8, 3, 1, 1, 1, 8, {1, 8, 6, 9}},
    {"direct-pointwise 1x1", CLCONV_ALGO_DIRECT_POINTWISE, 8, 12, 1, 1, 0, 1, 1, {1, 8, 5, 7}},
    {"direct-pointwise 3x3 p1", CLCONV_ALGO_DIRECT_POINTWISE, 4, 8, 3, 1, 1, 1, 1, {1, 4, 6, 5}},
    /* padded 1x1, stride 1: the copy without wide rows or phases (its gather
     * kernel was once compiled out: CL_INVALID_KERNEL_NAME) */
    {"direct-pointwise 1x1 p1", CLCONV_ALGO_DIRECT_POINTWISE, 6, 8, 1, 1, 1, 1, 1, {1, 6, 5, 7}},
    {"winograd 3x3", CLCONV_ALGO_WINOGRAD, 6, 8, 3, 1, 1, 1, 1, {1, 6, 7, 9}},
    /* dilation 2: the output in phases, columns gathered per tile */
    {"winograd 3x3 d2", CLCONV_ALGO_WINOGRAD, 6, 8, 3, 1, 2, 2, 1, {1, 6, 9, 19}},
    /* images in lanes: 5 images leave lanes of the copy empty */
    {"direct-batch 5x5 p2", CLCONV_ALGO_DIRECT_BATCH, 2, 6, 5, 1, 2, 1, 1, {5, 2, 7, 6}},
    {"direct-batch 3x3 s2 grouped", CLCONV_ALGO_DIRECT_BATCH, 4, 8, 3, 2, 1, 1, 2, {3, 4, 9, 8}},
    /* channels in lanes: 20 channels leave the last lane block ragged; a
     * multiplier of 2 with stride 2; rows past one transpose block */
    {"direct-depthwise-channels 5x5 p2", CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS, 20, 20, 5, 1, 2,
     1, 20, {1, 20, 7, 9}},
    {"direct-depthwise-channels 3x3 s2 x2", CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS, 6, 12, 3, 2, 1,
     1, 6, {2, 6, 9, 37}},
    {"gemm 3x3", CLCONV_ALGO_GEMM, 4, 6, 3, 1, 1, 1, 1, {1, 4, 6, 6}},
    {"gemm 1x1", CLCONV_ALGO_GEMM, 8, 4, 1, 1, 0, 1, 1, {2, 8, 4, 5}},
};

static clconv_conv2d_params conv_params(const conv_case *c)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(c->cin, c->cout, c->k, c->k);
    p.stride_h = p.stride_w = c->stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = c->pad;
    p.dilation_h = p.dilation_w = c->dil;
    p.groups = c->groups;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    return p;
}

START_TEST(conv2d_every_algorithm)
{
    const conv_case *c = &CONV[_i];
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(1000 + (uint64_t)_i);
    clconv_conv2d_params p = conv_params(c);
    clconv_shape out;
    expect_ok(clconv_conv2d_output_shape(&p, &c->in, &out), c->name);
    size_t nx = clconv_shape_elements(c->in), ny = clconv_shape_elements(out);
    size_t nw = (size_t)(c->cout * (c->cin / c->groups) * c->k * c->k);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)c->cout);
    float *y = tu_alloc(ny), *ref = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, (size_t)c->cout, true);
    expect_ok(clconv_ref_conv2d(&p, &c->in, x, w, b, ref), "reference");
    clconv_plan_options o = {.algorithm = c->algo};
    clconv_plan *plan;
    expect_ok(clconv_conv2d_plan_create(ctx, &p, &c->in, &o, &plan), c->name);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    if (c->algo != CLCONV_ALGO_AUTO)
        ck_assert_msg(info.algorithm == c->algo, "%s: planned %s", c->name,
                      clconv_algorithm_name(info.algorithm));
    cl_mem bx = upload(x, nx), bw = upload(w, nw), bb = upload(b, (size_t)c->cout);
    cl_mem by = upload(NULL, ny);
    cl_mem ws = info.workspace_bytes ? upload(NULL, info.workspace_bytes / sizeof(float) + 1)
                                     : NULL;
    cl_event done;
    expect_ok(clconv_conv2d_run(plan, bx, bw, bb, by, ws, 0, NULL, &done), c->name);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    download(by, y, ny);
    char what[128];
    snprintf(what, sizeof what, "%s (%s, %s)", c->name, clconv_algorithm_name(info.algorithm),
             info.kernel_name);
    expect_close(what, y, ref, ny);
    if (ws)
        clReleaseMemObject(ws);
    clReleaseMemObject(bx);
    clReleaseMemObject(bw);
    clReleaseMemObject(bb);
    clReleaseMemObject(by);
    clconv_plan_destroy(plan);
    free(x), free(w), free(b), free(y), free(ref);
}
END_TEST

/* The epilogue's residual and second output on one plan: y = leaky_relu(
 * 0.5 conv + 2 z + b) (exact on integer data), pre written too; z is y (in
 * place) for even cases. Under Oclgrind this is the race check of the in-place
 * residual: every output's z must be read by the work-item that writes it. */
/* The epilogue those cases set, on either operator's params. */
#define SET_PORTABLE_EPILOGUE(p)                                                              \
    do {                                                                                      \
        (p).activation = CLCONV_ACTIVATION_LEAKY_RELU;                                        \
        (p).activation_params[0] = 0.25f;                                                     \
        (p).has_residual = 1;                                                                 \
        (p).alpha = 0.5f;                                                                     \
        (p).beta = 2.0f;                                                                      \
        (p).pre_activation_output = 1;                                                        \
    } while (0)

static void epilogue_case(clconv_plan *plan, const float *x, size_t nx, const float *w,
                          size_t nw, const float *b, size_t nb, const float *z, const float *ref,
                          const float *ref_pre, size_t ny, bool in_place, const char *what)
{
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    cl_mem bx = upload(x, nx), bw = upload(w, nw), bb = upload(b, nb);
    cl_mem by = upload(in_place ? z : NULL, ny), bz = in_place ? by : upload(z, ny);
    cl_mem bp = upload(NULL, ny);
    cl_mem ws = info.workspace_bytes ? upload(NULL, info.workspace_bytes / sizeof(float) + 1)
                                     : NULL;
    const clconv_conv_buffers io = {.x = bx, .w = bw, .b = bb, .y = by, .workspace = ws,
                                    .z = bz, .pre = bp};
    cl_event done;
    expect_ok(clconv_conv_run(plan, &io, 0, NULL, &done), what);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    float *y = tu_alloc(ny), *pre = tu_alloc(ny);
    download(by, y, ny);
    download(bp, pre, ny);
    char name[160];
    snprintf(name, sizeof name, "%s (%s, %s%s)", what, clconv_algorithm_name(info.algorithm),
             info.kernel_name, in_place ? ", in place" : "");
    expect_close(name, y, ref, ny);
    snprintf(name, sizeof name, "%s: pre (%s)", what, clconv_algorithm_name(info.algorithm));
    expect_close(name, pre, ref_pre, ny);
    if (ws)
        clReleaseMemObject(ws);
    if (!in_place)
        clReleaseMemObject(bz);
    clReleaseMemObject(bx);
    clReleaseMemObject(bw);
    clReleaseMemObject(bb);
    clReleaseMemObject(by);
    clReleaseMemObject(bp);
    free(y);
    free(pre);
}

START_TEST(conv2d_epilogue_every_algorithm)
{
    const conv_case *c = &CONV[_i];
    tu_rng r = tu_rng_make(3000 + (uint64_t)_i);
    clconv_conv2d_params p = conv_params(c);
    SET_PORTABLE_EPILOGUE(p);
    clconv_shape out;
    expect_ok(clconv_conv2d_output_shape(&p, &c->in, &out), c->name);
    size_t nx = clconv_shape_elements(c->in), ny = clconv_shape_elements(out);
    size_t nw = (size_t)(c->cout * (c->cin / c->groups) * c->k * c->k);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)c->cout);
    float *z = tu_alloc(ny), *ref = tu_alloc(ny), *ref_pre = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, (size_t)c->cout, true);
    tu_fill(&r, z, ny, true);
    expect_ok(clconv_ref_conv2d_epilogue(&p, &c->in, x, w, b, z, ref, ref_pre), "reference");
    clconv_plan_options o = {.algorithm = c->algo};
    clconv_plan *plan;
    expect_ok(clconv_conv2d_plan_create(tu_ctx(), &p, &c->in, &o, &plan), c->name);
    epilogue_case(plan, x, nx, w, nw, b, (size_t)c->cout, z, ref, ref_pre, ny, _i % 2 == 0,
                  c->name);
    clconv_plan_destroy(plan);
    free(x), free(w), free(b), free(z), free(ref), free(ref_pre);
}
END_TEST

/* conv_transpose2d through each transposed algorithm (transposed-columns
 * serves fewer than 8 output channels per group; transposed-vector's 40
 * channels make 3, 5 or 10 channel blocks, two per work-item, the last pair
 * with a zero block when the count is odd). */
static const struct {
    clconv_algorithm algo;
    int64_t cin, cout, groups;
} T[] = {
    {CLCONV_ALGO_AUTO, 6, 8, 1},
    {CLCONV_ALGO_TRANSPOSED_GATHER, 6, 10, 2},
    {CLCONV_ALGO_TRANSPOSED_VECTOR, 4, 40, 1},
    {CLCONV_ALGO_TRANSPOSED_COLUMNS, 6, 3, 1},
    {CLCONV_ALGO_TRANSPOSED_GEMM, 4, 6, 1},
};

/* T's layer i: 3x3, stride 2, padding 1, output padding 1 in h, a bias. */
static clconv_conv_transpose2d_params ct_params(int i)
{
    clconv_conv_transpose2d_params p =
        clconv_conv_transpose2d_default_params(T[i].cin, T[i].cout, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.output_padding_h = 1;
    p.groups = T[i].groups;
    p.has_bias = 1;
    return p;
}

START_TEST(conv_transpose2d_epilogue_every_algorithm)
{
    tu_rng r = tu_rng_make(4000 + (uint64_t)_i);
    clconv_conv_transpose2d_params p = ct_params(_i);
    SET_PORTABLE_EPILOGUE(p);
    clconv_shape in = {1, T[_i].cin, 5, 6}, out;
    expect_ok(clconv_conv_transpose2d_output_shape(&p, &in, &out), "output shape");
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    size_t nw = (size_t)(T[_i].cin * (T[_i].cout / T[_i].groups) * 9);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)T[_i].cout);
    float *z = tu_alloc(ny), *ref = tu_alloc(ny), *ref_pre = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, (size_t)T[_i].cout, true);
    tu_fill(&r, z, ny, true);
    expect_ok(clconv_ref_conv_transpose2d_epilogue(&p, &in, x, w, b, z, ref, ref_pre),
              "reference");
    clconv_plan_options o = {.algorithm = T[_i].algo};
    clconv_plan *plan;
    expect_ok(clconv_conv_transpose2d_plan_create(tu_ctx(), &p, &in, &o, &plan),
              clconv_algorithm_name(T[_i].algo));
    epilogue_case(plan, x, nx, w, nw, b, (size_t)T[_i].cout, z, ref, ref_pre, ny, _i % 2 == 0,
                  "conv_transpose2d");
    clconv_plan_destroy(plan);
    free(x), free(w), free(b), free(z), free(ref), free(ref_pre);
}
END_TEST

START_TEST(conv_transpose2d_every_algorithm)
{
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(2000 + (uint64_t)_i);
    clconv_conv_transpose2d_params p = ct_params(_i);
    clconv_shape in = {1, T[_i].cin, 5, 6}, out;
    expect_ok(clconv_conv_transpose2d_output_shape(&p, &in, &out), "output shape");
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    size_t nw = (size_t)(T[_i].cin * (T[_i].cout / T[_i].groups) * 9);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)T[_i].cout);
    float *y = tu_alloc(ny), *ref = tu_alloc(ny);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, (size_t)T[_i].cout, true);
    expect_ok(clconv_ref_conv_transpose2d(&p, &in, x, w, b, ref), "reference");
    clconv_plan_options o = {.algorithm = T[_i].algo};
    expect_ok(clconv_conv_transpose2d_host(ctx, &p, &in, &o, x, w, b, y),
              clconv_algorithm_name(T[_i].algo));
    expect_close(clconv_algorithm_name(T[_i].algo), y, ref, ny);
    free(x), free(w), free(b), free(y), free(ref);
}
END_TEST

/* The training passes of a strided, padded, grouped layer: data through
 * each transposed algorithm, weights, bias and the ReLU mask. */
START_TEST(conv2d_backward_every_pass)
{
    static const clconv_algorithm DATA[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_TRANSPOSED_GATHER,
                                            CLCONV_ALGO_TRANSPOSED_VECTOR,
                                            CLCONV_ALGO_TRANSPOSED_GEMM};
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(3000);
    clconv_conv2d_params p = clconv_conv2d_default_params(6, 8, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.groups = 2;
    p.has_bias = 1;
    clconv_shape in = {2, 6, 7, 8}, out;
    expect_ok(clconv_conv2d_output_shape(&p, &in, &out), "output shape");
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out), nw = 8 * 3 * 9;
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *dy = tu_alloc(ny), *y = tu_alloc(ny);
    float *got = tu_alloc(nx > nw ? nx : nw), *ref = tu_alloc(nx > nw ? nx : nw);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, dy, ny, true);
    tu_fill(&r, y, ny, true);
    /* one pass per iteration (scripts/oclgrind.sh runs each in a fresh process) */
    if (_i < 4) {
        clconv_plan_options o = {.algorithm = DATA[_i]};
        expect_ok(clconv_ref_conv2d_backward_data(&p, &in, dy, w, ref), "reference data");
        expect_ok(clconv_conv2d_backward_data_host(ctx, &p, &in, &o, dy, w, got),
                  clconv_algorithm_name(DATA[_i]));
        expect_close(clconv_algorithm_name(DATA[_i]), got, ref, nx);
    } else if (_i == 4) {
        expect_ok(clconv_ref_conv2d_backward_weights(&p, &in, x, dy, ref), "reference weights");
        expect_ok(clconv_conv2d_backward_weights_host(ctx, &p, &in, NULL, x, dy, got), "weights");
        expect_close("backward weights", got, ref, nw);
    } else if (_i == 5) {
        expect_ok(clconv_ref_conv2d_backward_bias(&p, &in, dy, ref), "reference bias");
        expect_ok(clconv_conv2d_backward_bias_host(ctx, &p, &in, NULL, dy, got), "bias");
        expect_close("backward bias", got, ref, 8);
    } else {
        expect_ok(clconv_ref_relu_backward(ny, y, dy, ref), "reference relu");
        expect_ok(clconv_relu_backward_host(ctx, &out, y, dy, got), "relu backward");
        expect_close("relu backward", got, ref, ny);
    }
    free(x), free(w), free(dy), free(y), free(got), free(ref);
}
END_TEST

/* fp16 storage (CLCONV_DTYPE_F16) through the kernels whose half paths are
 * their own code: the three transposed algorithms (T's layers 1..3), conv2d
 * backward-data through AUTO, Winograd (CONV's layer 9). Integer data keeps
 * every sum and every half exact, so the reference must match. */
static cl_mem upload_halves(const float *a, size_t n)
{
    uint16_t *h = malloc((n ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    clconv_floats_to_halves(a, h, n);
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(tu_ctx()),
                              CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (n ? n : 1) * 2, h, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    free(h);
    return m;
}

static void download_halves(cl_mem m, float *a, size_t n)
{
    uint16_t *h = malloc((n ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(tu_ctx()), m, CL_TRUE, 0, n * 2, h,
                                         0, NULL, NULL),
                     CL_SUCCESS);
    clconv_halves_to_floats(h, a, n);
    free(h);
}

START_TEST(f16_storage_every_route)
{
    tu_rng r = tu_rng_make(5000 + (uint64_t)_i);
    clconv_plan *plan;
    clconv_shape in, out;
    size_t nx, nw, nb, ny;
    float *ref;
    const char *what;
    if (_i < 3) { /* conv_transpose2d: gather, vector, columns */
        clconv_conv_transpose2d_params p = ct_params(_i + 1);
        in = (clconv_shape){1, T[_i + 1].cin, 5, 6};
        expect_ok(clconv_conv_transpose2d_output_shape(&p, &in, &out), "output shape");
        nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
        nw = (size_t)(T[_i + 1].cin * (T[_i + 1].cout / T[_i + 1].groups) * 9);
        nb = (size_t)p.out_channels;
        what = clconv_algorithm_name(T[_i + 1].algo);
        ref = tu_alloc(ny);
        float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc(nb);
        tu_fill(&r, x, nx, true);
        tu_fill(&r, w, nw, true);
        tu_fill(&r, b, nb, true);
        expect_ok(clconv_ref_conv_transpose2d(&p, &in, x, w, b, ref), "reference");
        p.dtype = CLCONV_DTYPE_F16;
        clconv_plan_options o = {.algorithm = T[_i + 1].algo};
        expect_ok(clconv_conv_transpose2d_plan_create(tu_ctx(), &p, &in, &o, &plan), what);
        cl_mem bx = upload_halves(x, nx), bw = upload_halves(w, nw), bb = upload_halves(b, nb);
        cl_mem by = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE,
                                   ny * 2, NULL, NULL);
        cl_event done;
        expect_ok(clconv_conv_transpose2d_run(plan, bx, bw, bb, by, NULL, 0, NULL, &done), what);
        ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
        clReleaseEvent(done);
        float *y = tu_alloc(ny);
        download_halves(by, y, ny);
        expect_close(what, y, ref, ny);
        clReleaseMemObject(bx), clReleaseMemObject(bw), clReleaseMemObject(bb);
        clReleaseMemObject(by);
        free(x), free(w), free(b), free(y);
    } else if (_i == 3) { /* conv2d backward-data, AUTO */
        clconv_conv2d_params p = conv_params(&CONV[1]);
        in = CONV[1].in;
        expect_ok(clconv_conv2d_output_shape(&p, &in, &out), "output shape");
        nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
        nw = clconv_shape_elements(clconv_conv2d_weight_shape(&p));
        what = "backward-data";
        ref = tu_alloc(nx);
        float *dy = tu_alloc(ny), *w = tu_alloc(nw);
        tu_fill(&r, dy, ny, true);
        tu_fill(&r, w, nw, true);
        expect_ok(clconv_ref_conv2d_backward_data(&p, &in, dy, w, ref), "reference");
        p.dtype = CLCONV_DTYPE_F16;
        expect_ok(clconv_conv2d_backward_data_plan_create(tu_ctx(), &p, &in, NULL, &plan), what);
        cl_mem bdy = upload_halves(dy, ny), bw = upload_halves(w, nw);
        cl_mem bdx = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE,
                                    nx * 2, NULL, NULL);
        cl_event done;
        expect_ok(clconv_conv2d_backward_data_run(plan, bdy, bw, bdx, NULL, 0, NULL, &done), what);
        ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
        clReleaseEvent(done);
        float *dx = tu_alloc(nx);
        download_halves(bdx, dx, nx);
        expect_close(what, dx, ref, nx);
        clReleaseMemObject(bdy), clReleaseMemObject(bw), clReleaseMemObject(bdx);
        free(dy), free(w), free(dx);
    } else { /* Winograd */
        clconv_conv2d_params p = conv_params(&CONV[9]);
        ck_assert_int_eq(CONV[9].algo, CLCONV_ALGO_WINOGRAD);
        in = CONV[9].in;
        expect_ok(clconv_conv2d_output_shape(&p, &in, &out), "output shape");
        nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
        nw = clconv_shape_elements(clconv_conv2d_weight_shape(&p));
        nb = (size_t)p.out_channels;
        what = "winograd";
        ref = tu_alloc(ny);
        float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc(nb);
        tu_fill(&r, x, nx, true);
        tu_fill(&r, w, nw, true);
        tu_fill(&r, b, nb, true);
        expect_ok(clconv_ref_conv2d(&p, &in, x, w, b, ref), "reference");
        p.dtype = CLCONV_DTYPE_F16;
        clconv_plan_options o = {.algorithm = CLCONV_ALGO_WINOGRAD};
        expect_ok(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &o, &plan), what);
        clconv_plan_info info;
        clconv_plan_get_info(plan, &info);
        cl_mem bx = upload_halves(x, nx), bw = upload_halves(w, nw), bb = upload_halves(b, nb);
        cl_mem by = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE,
                                   ny * 2, NULL, NULL);
        cl_mem ws = info.workspace_bytes
                        ? upload(NULL, info.workspace_bytes / sizeof(float) + 1)
                        : NULL;
        cl_event done;
        expect_ok(clconv_conv2d_run(plan, bx, bw, bb, by, ws, 0, NULL, &done), what);
        ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
        clReleaseEvent(done);
        float *y = tu_alloc(ny);
        download_halves(by, y, ny);
        expect_close(what, y, ref, ny);
        if (ws)
            clReleaseMemObject(ws);
        clReleaseMemObject(bx), clReleaseMemObject(bw), clReleaseMemObject(bb);
        clReleaseMemObject(by);
        free(x), free(w), free(b), free(y);
    }
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    ck_assert_msg(strstr(info.build_options, "-DCLCONV_F16"), "%s: options %s", what,
                  info.build_options);
    clconv_plan_destroy(plan);
    free(ref);
}
END_TEST

/* Every pooling mode forward (with indices where it has them) and backward,
 * including global average pooling (its own kernel on CPU devices). */
START_TEST(pool2d_every_mode)
{
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(4000 + (uint64_t)_i);
    clconv_pool2d_params p;
    switch (_i) {
    case 0: p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
            p.stride_h = p.stride_w = 2, p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1; break;
    case 1: p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
            p.dilation_h = 2, p.stride_h = 1, p.ceil_mode = 1; break;
    case 2: p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
            p.stride_h = p.stride_w = 1, p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1, p.count_include_pad = 0; break;
    case 3: p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2); p.ceil_mode = 1; break;
    case 4: p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 3); p.norm_type = 2; break;
    case 5: p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 1, 1);
            p.output_h = 3, p.output_w = 4; break;
    case 6: p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_MAX, 1, 1);
            p.output_h = 2, p.output_w = 3; break;
    default: p = clconv_pool2d_global_params(CLCONV_POOL_AVG); break;
    }
    clconv_shape in = {2, 5, 9, 11}, out;
    expect_ok(clconv_pool2d_output_shape(&p, &in, &out), "output shape");
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    bool idx = p.mode == CLCONV_POOL_MAX || p.mode == CLCONV_POOL_ADAPTIVE_MAX;
    float *x = tu_alloc(nx), *y = tu_alloc(ny), *ref = tu_alloc(ny);
    float *dy = tu_alloc(ny), *dx = tu_alloc(nx), *dref = tu_alloc(nx);
    int64_t *ind = idx ? calloc(ny, sizeof *ind) : NULL, *iref = idx ? calloc(ny, sizeof *ind) : NULL;
    /* positive floats for lp (integers would tie, and fractional powers of
     * negatives are NaN); distinct floats for max so the argmax is unique */
    tu_fill(&r, x, nx, false);
    if (p.mode == CLCONV_POOL_LP)
        for (size_t i = 0; i < nx; i++)
            x[i] = fabsf(x[i]) + 0.25f;
    tu_fill(&r, dy, ny, true);
    char what[64];
    snprintf(what, sizeof what, "pool case %d (mode %d)", _i, (int)p.mode);
    expect_ok(clconv_ref_pool2d(&p, &in, x, ref, iref), "reference");
    expect_ok(clconv_pool2d_host(ctx, &p, &in, NULL, x, y, ind), what);
    expect_close(what, y, ref, ny);
    for (size_t i = 0; idx && i < ny; i++)
        ck_assert_msg(ind[i] == iref[i], "%s: index %zu: %lld, expected %lld", what, i,
                      (long long)ind[i], (long long)iref[i]);
    expect_ok(clconv_ref_pool2d_backward(&p, &in, dy, iref, p.mode == CLCONV_POOL_LP ? x : NULL,
                                         dref), "reference backward");
    expect_ok(clconv_pool2d_backward_host(ctx, &p, &in, NULL, dy, iref,
                                          p.mode == CLCONV_POOL_LP ? x : NULL, dx), what);
    expect_close(what, dx, dref, nx);
    free(x), free(y), free(ref), free(dy), free(dx), free(dref), free(ind), free(iref);
}
END_TEST

/* The cases, each a loop range. With an argument "list" prints one line
 * per case ("NAME INDEX"); with "NAME INDEX" runs that case alone, so a
 * checker can give each case a process of its own (scripts/oclgrind.sh: a
 * fresh Oclgrind per case keeps one case's buffers from shadowing the next
 * one's, see there). */
static const struct {
    const char *name;
    int n;
} CASES[] = {
    {"conv2d", (int)(sizeof CONV / sizeof CONV[0])},
    {"conv_transpose2d", (int)(sizeof T / sizeof T[0])},
    {"backward", 7},
    {"pool2d", 8},
    {"conv2d-epilogue", (int)(sizeof CONV / sizeof CONV[0])},
    {"conv_transpose2d-epilogue", (int)(sizeof T / sizeof T[0])},
    {"f16", 5},
};

int main(int argc, char **argv)
{
    const TTest *tests[] = {conv2d_every_algorithm,          conv_transpose2d_every_algorithm,
                            conv2d_backward_every_pass,      pool2d_every_mode,
                            conv2d_epilogue_every_algorithm, conv_transpose2d_epilogue_every_algorithm,
                            f16_storage_every_route};
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++)
            for (int i = 0; i < CASES[c].n; i++)
                printf("%s %d\n", CASES[c].name, i);
        return 0;
    }
    Suite *s = suite_create("portable");
    TCase *tc = tcase_create("curated");
    /* Oclgrind simulates each work-item: minutes, not seconds */
    tcase_set_timeout(tc, 900);
    int matched = 0;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        if (argc == 3) {
            char *end;
            long i = strtol(argv[2], &end, 10);
            if (strcmp(argv[1], CASES[c].name) != 0)
                continue;
            if (*end || i < 0 || i >= CASES[c].n) {
                fprintf(stderr, "test_portable: case %s has indices 0..%d, got '%s'\n",
                        CASES[c].name, CASES[c].n - 1, argv[2]);
                return 64;
            }
            tcase_add_loop_test(tc, tests[c], (int)i, (int)i + 1);
            matched++;
        } else {
            tcase_add_loop_test(tc, tests[c], 0, CASES[c].n);
        }
    }
    if (argc != 1 && !matched) {
        fprintf(stderr, "usage: test_portable [list | NAME INDEX] (NAME: conv2d, "
                        "conv_transpose2d, backward, pool2d, conv2d-epilogue, "
                        "conv_transpose2d-epilogue, f16)\n");
        return 64;
    }
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
