/* Runs of one plan on an out-of-order queue (issue 13).
 *
 * A framework hands clconv its own out-of-order queue and runs one plan twice
 * on different tensors with no wait list: as far as it can know, the two runs
 * are independent, and clconv.h promises that runs enqueue only behind the
 * caller's wait list. Some algorithms write a buffer the plan owns on every
 * run (direct-vector's and transposed-vector's packed weights,
 * direct-pointwise's padded copy of x, Winograd's transformed filters) and
 * read it in a second kernel; unless the plan orders its own runs, the
 * second run's first kernel overwrites that buffer while the first run still
 * reads it, and the first result is silently wrong.
 *
 * For every algorithm of every operator (conv2d, conv1d, conv_transpose2d /
 * 1d, the conv2d backward passes, ReLU backward, pooling forward and
 * backward), each on a layer big enough for the runs to overlap: two runs
 * with different inputs and weights, no wait list, both waited for, each
 * result compared with the CPU reference; several rounds. Then the same from
 * two threads sharing one plan, each running on its own tensors. Every run
 * gets its own output and workspace (those are the caller's buffers).
 * Small-integer data: every algorithm is exact on it, so any mix-up shows. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 3
#define THREAD_ROUNDS 4

typedef enum {
    K_CONV2D,
    K_CONV1D,
    K_CT2D,
    K_CT1D,
    K_BWD_DATA,
    K_BWD_WEIGHTS,
    K_BWD_BIAS,
    K_RELU_BWD,
    K_POOL,
    K_POOL_BWD
} kind;

typedef struct {
    const char *name;
    kind k;
    clconv_algorithm algo; /* AUTO: the library's choice */
    clconv_conv2d_params conv;  /* conv2d, conv1d (as 2-D), backward passes */
    clconv_conv_transpose2d_params ct;
    clconv_conv1d_params c1;
    clconv_conv_transpose1d_params t1;
    clconv_pool2d_params pool;
    clconv_shape in;       /* the forward input (conv1d / ct1d: h = 1) */
    clconv_algorithm want; /* the algorithm the plan must have chosen (AUTO: any) */
} seq_case;

/* One run's tensors: inputs (up to 3, floats or int64 indices), one output
 * (plus indices for max pooling), and the sizes. */
typedef struct {
    int nin;
    size_t in_bytes[3];
    bool in_is_index[3];
    size_t out_floats;
    size_t idx_out;  /* int64 indices written by max pooling (0: none) */
} seq_sizes;

static clconv_conv2d_params conv(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t pad,
                                 int64_t groups)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(cin, cout, k, k);
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.groups = groups;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    return p;
}

static clconv_conv_transpose2d_params ctp(int64_t cin, int64_t cout, int64_t k, int64_t stride,
                                          int64_t pad)
{
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(cin, cout, k, k);
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.has_bias = 1;
    return p;
}

static clconv_shape out_shape(const seq_case *c)
{
    clconv_shape o = {0, 0, 0, 0};
    switch (c->k) {
    case K_CONV2D:
    case K_CONV1D:
    case K_BWD_DATA:
    case K_BWD_WEIGHTS:
    case K_BWD_BIAS:
    case K_RELU_BWD:
        ck_assert_int_eq(clconv_conv2d_output_shape(&c->conv, &c->in, &o), CLCONV_SUCCESS);
        break;
    case K_CT2D:
    case K_CT1D:
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&c->ct, &c->in, &o), CLCONV_SUCCESS);
        break;
    case K_POOL:
    case K_POOL_BWD:
        ck_assert_int_eq(clconv_pool2d_output_shape(&c->pool, &c->in, &o), CLCONV_SUCCESS);
        break;
    }
    return o;
}

static bool max_pool(const seq_case *c)
{
    return c->pool.mode == CLCONV_POOL_MAX || c->pool.mode == CLCONV_POOL_ADAPTIVE_MAX;
}

static seq_sizes sizes_of(const seq_case *c)
{
    seq_sizes s;
    memset(&s, 0, sizeof s);
    size_t nx = clconv_shape_elements(c->in), ny = clconv_shape_elements(out_shape(c));
    size_t nw = 0;
    if (c->k == K_CT2D || c->k == K_CT1D)
        nw = clconv_shape_elements(clconv_conv_transpose2d_weight_shape(&c->ct));
    else if (c->k != K_POOL && c->k != K_POOL_BWD)
        nw = clconv_shape_elements(clconv_conv2d_weight_shape(&c->conv));
    switch (c->k) {
    case K_CONV2D:
    case K_CONV1D:
    case K_CT2D:
    case K_CT1D: /* x, w, b -> y */
        s.nin = 3;
        s.in_bytes[0] = nx * 4;
        s.in_bytes[1] = nw * 4;
        s.in_bytes[2] = (size_t)(c->k == K_CT2D || c->k == K_CT1D ? c->ct.out_channels
                                                                   : c->conv.out_channels) * 4;
        s.out_floats = ny;
        break;
    case K_BWD_DATA: /* dy, w -> dx */
        s.nin = 2;
        s.in_bytes[0] = ny * 4;
        s.in_bytes[1] = nw * 4;
        s.out_floats = nx;
        break;
    case K_BWD_WEIGHTS: /* x, dy -> dw */
        s.nin = 2;
        s.in_bytes[0] = nx * 4;
        s.in_bytes[1] = ny * 4;
        s.out_floats = nw;
        break;
    case K_BWD_BIAS: /* dy -> db */
        s.nin = 1;
        s.in_bytes[0] = ny * 4;
        s.out_floats = (size_t)c->conv.out_channels;
        break;
    case K_RELU_BWD: /* y, dy -> dx, all of the forward output's shape */
        s.nin = 2;
        s.in_bytes[0] = s.in_bytes[1] = ny * 4;
        s.out_floats = ny;
        break;
    case K_POOL: /* x -> y (+ indices) */
        s.nin = 1;
        s.in_bytes[0] = nx * 4;
        s.out_floats = ny;
        s.idx_out = max_pool(c) ? ny : 0;
        break;
    case K_POOL_BWD: /* dy, indices (max) -> dx */
        s.nin = max_pool(c) ? 2 : 1;
        s.in_bytes[0] = ny * 4;
        s.in_bytes[1] = max_pool(c) ? ny * 8 : 0;
        s.in_is_index[1] = max_pool(c);
        s.out_floats = nx;
        break;
    }
    return s;
}

static clconv_status make_plan(clconv_context *ctx, const seq_case *c, clconv_plan **plan)
{
    clconv_plan_options o;
    memset(&o, 0, sizeof o);
    o.algorithm = c->algo;
    switch (c->k) {
    case K_CONV2D: return clconv_conv2d_plan_create(ctx, &c->conv, &c->in, &o, plan);
    case K_CONV1D: return clconv_conv1d_plan_create(ctx, &c->c1, c->in.n, c->in.w, &o, plan);
    case K_CT2D: return clconv_conv_transpose2d_plan_create(ctx, &c->ct, &c->in, &o, plan);
    case K_CT1D:
        return clconv_conv_transpose1d_plan_create(ctx, &c->t1, c->in.n, c->in.w, &o, plan);
    case K_BWD_DATA:
        return clconv_conv2d_backward_data_plan_create(ctx, &c->conv, &c->in, &o, plan);
    case K_BWD_WEIGHTS:
        return clconv_conv2d_backward_weights_plan_create(ctx, &c->conv, &c->in, &o, plan);
    case K_BWD_BIAS:
        return clconv_conv2d_backward_bias_plan_create(ctx, &c->conv, &c->in, &o, plan);
    case K_RELU_BWD: {
        clconv_shape o2 = out_shape(c);
        return clconv_relu_backward_plan_create(ctx, &o2, plan);
    }
    case K_POOL: return clconv_pool2d_plan_create(ctx, &c->pool, &c->in, &o, plan);
    case K_POOL_BWD: return clconv_pool2d_backward_plan_create(ctx, &c->pool, &c->in, &o, plan);
    }
    return CLCONV_ERROR_INVALID_VALUE;
}

/* Enqueues one run with no wait list. */
static clconv_status run_plan(const seq_case *c, clconv_plan *plan, cl_mem *in, cl_mem out,
                              cl_mem idx, cl_mem ws, cl_event *done)
{
    switch (c->k) {
    case K_CONV2D:
    case K_CONV1D: return clconv_conv2d_run(plan, in[0], in[1], in[2], out, ws, 0, NULL, done);
    case K_CT2D:
    case K_CT1D:
        return clconv_conv_transpose2d_run(plan, in[0], in[1], in[2], out, ws, 0, NULL, done);
    case K_BWD_DATA:
        return clconv_conv2d_backward_data_run(plan, in[0], in[1], out, ws, 0, NULL, done);
    case K_BWD_WEIGHTS:
        return clconv_conv2d_backward_weights_run(plan, in[0], in[1], out, ws, 0, NULL, done);
    case K_BWD_BIAS: return clconv_conv2d_backward_bias_run(plan, in[0], out, 0, NULL, done);
    case K_RELU_BWD: return clconv_relu_backward_run(plan, in[0], in[1], out, 0, NULL, done);
    case K_POOL: return clconv_pool2d_run(plan, in[0], out, idx, 0, NULL, done);
    case K_POOL_BWD:
        return clconv_pool2d_backward_run(plan, in[0], max_pool(c) ? in[1] : NULL, NULL, out, 0,
                                          NULL, done);
    }
    return CLCONV_ERROR_INVALID_VALUE;
}

/* The reference result of one run on host inputs (indices: max pooling's). */
static void reference(const seq_case *c, void *const *in, float *out, int64_t *idx)
{
    const float *a = in[0], *b = in[1], *bias = in[2];
    clconv_status st = CLCONV_ERROR_INVALID_VALUE;
    switch (c->k) {
    case K_CONV2D: st = clconv_ref_conv2d(&c->conv, &c->in, a, b, bias, out); break;
    case K_CONV1D: st = clconv_ref_conv1d(&c->c1, c->in.n, c->in.w, a, b, bias, out); break;
    case K_CT2D: st = clconv_ref_conv_transpose2d(&c->ct, &c->in, a, b, bias, out); break;
    case K_CT1D:
        st = clconv_ref_conv_transpose1d(&c->t1, c->in.n, c->in.w, a, b, bias, out);
        break;
    case K_BWD_DATA: st = clconv_ref_conv2d_backward_data(&c->conv, &c->in, a, b, out); break;
    case K_BWD_WEIGHTS:
        st = clconv_ref_conv2d_backward_weights(&c->conv, &c->in, a, b, out);
        break;
    case K_BWD_BIAS: st = clconv_ref_conv2d_backward_bias(&c->conv, &c->in, a, out); break;
    case K_RELU_BWD:
        st = clconv_ref_relu_backward(clconv_shape_elements(out_shape(c)), a, b, out);
        break;
    case K_POOL: st = clconv_ref_pool2d(&c->pool, &c->in, a, out, idx); break;
    case K_POOL_BWD:
        st = clconv_ref_pool2d_backward(&c->pool, &c->in, a, max_pool(c) ? in[1] : NULL, NULL,
                                        out);
        break;
    }
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: reference: %s", c->name, clconv_last_error(NULL));
}

/* Host data of one run: small integers; max pooling backward gets valid
 * indices (a forward's argmax of random data). */
static void fill_inputs(const seq_case *c, const seq_sizes *s, tu_rng *r, void **in)
{
    for (int i = 0; i < s->nin; i++) {
        if (s->in_is_index[i]) {
            size_t nx = clconv_shape_elements(c->in);
            float *x = tu_alloc(nx), *y = tu_alloc(s->in_bytes[0] / 4);
            tu_fill(r, x, nx, false);
            ck_assert_int_eq(clconv_ref_pool2d(&c->pool, &c->in, x, y, in[i]), CLCONV_SUCCESS);
            free(x);
            free(y);
        } else {
            tu_fill(r, in[i], s->in_bytes[i] / 4, true);
        }
    }
}

static cl_mem buffer(clconv_context *ctx, size_t bytes)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE,
                              bytes ? bytes : 4, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    return m;
}

/* One run's buffers and host data. */
typedef struct {
    void *host[3];
    cl_mem in[3], out, idx, ws;
    float *got, *ref;
    int64_t *got_idx, *ref_idx;
    cl_event done;
} run_slot;

static void slot_make(clconv_context *ctx, const seq_sizes *s, size_t ws_bytes, run_slot *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < s->nin; i++) {
        r->host[i] = calloc(1, s->in_bytes[i] ? s->in_bytes[i] : 4);
        ck_assert_ptr_nonnull(r->host[i]);
        r->in[i] = buffer(ctx, s->in_bytes[i]);
    }
    r->out = buffer(ctx, s->out_floats * 4);
    r->got = tu_alloc(s->out_floats);
    r->ref = tu_alloc(s->out_floats);
    if (s->idx_out) {
        r->idx = buffer(ctx, s->idx_out * 8);
        r->got_idx = calloc(s->idx_out, 8);
        r->ref_idx = calloc(s->idx_out, 8);
        ck_assert(r->got_idx && r->ref_idx);
    }
    if (ws_bytes)
        r->ws = buffer(ctx, ws_bytes);
}

static void slot_free(run_slot *r)
{
    for (int i = 0; i < 3; i++) {
        free(r->host[i]);
        if (r->in[i])
            clReleaseMemObject(r->in[i]);
    }
    cl_mem m[3] = {r->out, r->idx, r->ws};
    for (int i = 0; i < 3; i++)
        if (m[i])
            clReleaseMemObject(m[i]);
    free(r->got);
    free(r->ref);
    free(r->got_idx);
    free(r->ref_idx);
}

/* New data for a run: host arrays, the reference, blocking uploads, and the
 * output set to NaN so that a run that never wrote it fails too. */
static void slot_prepare(clconv_context *ctx, const seq_case *c, const seq_sizes *s, tu_rng *rng,
                         run_slot *r)
{
    cl_command_queue q = clconv_context_queue(ctx);
    fill_inputs(c, s, rng, r->host);
    reference(c, r->host, r->ref, r->ref_idx);
    for (int i = 0; i < s->nin; i++)
        ck_assert_int_eq(clEnqueueWriteBuffer(q, r->in[i], CL_TRUE, 0, s->in_bytes[i],
                                              r->host[i], 0, NULL, NULL), CL_SUCCESS);
    for (size_t i = 0; i < s->out_floats; i++)
        r->got[i] = NAN;
    ck_assert_int_eq(clEnqueueWriteBuffer(q, r->out, CL_TRUE, 0, s->out_floats * 4, r->got, 0,
                                          NULL, NULL), CL_SUCCESS);
}

/* Reads a finished run back and compares it with its reference; 0 when it
 * matched, else writes what differed to msg. */
static int slot_check(clconv_context *ctx, const seq_case *c, const seq_sizes *s, run_slot *r,
                      const char *what, char *msg, size_t msg_size)
{
    cl_command_queue q = clconv_context_queue(ctx);
    ck_assert_int_eq(clEnqueueReadBuffer(q, r->out, CL_TRUE, 0, s->out_floats * 4, r->got, 0,
                                         NULL, NULL), CL_SUCCESS);
    char cmp[512];
    long bad = tu_compare(r->got, r->ref, NULL, s->out_floats, 1e-3, 1e-5, cmp, sizeof cmp);
    if (bad >= 0) {
        snprintf(msg, msg_size, "%s, %s: %s", c->name, what, cmp);
        return 1;
    }
    if (s->idx_out) {
        ck_assert_int_eq(clEnqueueReadBuffer(q, r->idx, CL_TRUE, 0, s->idx_out * 8, r->got_idx,
                                             0, NULL, NULL), CL_SUCCESS);
        for (size_t i = 0; i < s->idx_out; i++)
            if (r->got_idx[i] != r->ref_idx[i]) {
                snprintf(msg, msg_size, "%s, %s: index %zu is %lld, expected %lld", c->name, what,
                         i, (long long)r->got_idx[i], (long long)r->ref_idx[i]);
                return 1;
            }
    }
    return 0;
}

/* ---- the cases ------------------------------------------------------------ */

#define NCASES 32
static seq_case cases[NCASES];
static int ncases;

static void add(seq_case c)
{
    if (ncases == NCASES) { /* built from main, outside any test */
        fprintf(stderr, "test_sequencing: more than %d cases\n", NCASES);
        exit(1);
    }
    cases[ncases++] = c;
}

static void build_cases(void)
{
    if (ncases)
        return;
    const clconv_shape img = {2, 32, 28, 28};
    /* conv2d: every algorithm, on a 32 -> 32 3x3 layer (long enough for the
     * runs to overlap), pointwise with and without its copy of x. */
    add((seq_case){.name = "conv2d direct-tiled", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_TILED, .conv = conv(32, 32, 3, 1, 1, 1),
                   .in = img, .want = CLCONV_ALGO_DIRECT_TILED});
    add((seq_case){.name = "conv2d direct-register", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_REGISTER, .conv = conv(32, 32, 3, 1, 1, 1),
                   .in = img, .want = CLCONV_ALGO_DIRECT_REGISTER});
    add((seq_case){.name = "conv2d direct-vector", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_VECTOR, .conv = conv(32, 32, 3, 1, 1, 1),
                   .in = img, .want = CLCONV_ALGO_DIRECT_VECTOR});
    add((seq_case){.name = "conv2d direct-pointwise 3x3 stride 2 (copy of x)", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_POINTWISE, .conv = conv(32, 32, 3, 2, 1, 1),
                   .in = {2, 32, 56, 56}, .want = CLCONV_ALGO_DIRECT_POINTWISE});
    add((seq_case){.name = "conv2d direct-pointwise 1x1", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_POINTWISE, .conv = conv(64, 64, 1, 1, 0, 1),
                   .in = {2, 64, 28, 28}, .want = CLCONV_ALGO_DIRECT_POINTWISE});
    add((seq_case){.name = "conv2d direct-batch (copy of x, images interleaved)", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_BATCH, .conv = conv(6, 16, 5, 1, 0, 1),
                   .in = {16, 6, 14, 14}, .want = CLCONV_ALGO_DIRECT_BATCH});
    add((seq_case){.name = "conv2d direct-depthwise", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_DEPTHWISE, .conv = conv(32, 32, 3, 1, 1, 32),
                   .in = {2, 32, 56, 56}, .want = CLCONV_ALGO_DIRECT_DEPTHWISE});
    add((seq_case){.name = "conv2d direct-depthwise-channels", .k = K_CONV2D,
                   .algo = CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS, .conv = conv(40, 40, 5, 1, 2, 40),
                   .in = {2, 40, 28, 28}, .want = CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS});
    add((seq_case){.name = "conv2d winograd", .k = K_CONV2D, .algo = CLCONV_ALGO_WINOGRAD,
                   .conv = conv(32, 32, 3, 1, 1, 1), .in = img, .want = CLCONV_ALGO_WINOGRAD});
    add((seq_case){.name = "conv2d gemm", .k = K_CONV2D, .algo = CLCONV_ALGO_GEMM,
                   .conv = conv(32, 32, 3, 1, 1, 1), .in = img, .want = CLCONV_ALGO_GEMM});
    add((seq_case){.name = "conv2d auto", .k = K_CONV2D, .algo = CLCONV_ALGO_AUTO,
                   .conv = conv(32, 48, 3, 1, 1, 1), .in = img});

    /* conv1d: the vector kernel and the pointwise copy. */
    clconv_conv1d_params c1 = {.in_channels = 32, .out_channels = 32, .kernel = 5, .stride = 1,
                               .pad_left = 2, .pad_right = 2, .dilation = 1, .groups = 1,
                               .has_bias = 1};
    seq_case s1 = {.name = "conv1d direct-vector", .k = K_CONV1D,
                   .algo = CLCONV_ALGO_DIRECT_VECTOR, .c1 = c1, .conv = clconv_conv1d_as_conv2d(&c1),
                   .in = {4, 32, 1, 2048}, .want = CLCONV_ALGO_DIRECT_VECTOR};
    add(s1);
    c1.stride = 2;
    s1.name = "conv1d direct-pointwise stride 2 (copy of x)";
    s1.algo = s1.want = CLCONV_ALGO_DIRECT_POINTWISE;
    s1.c1 = c1;
    s1.conv = clconv_conv1d_as_conv2d(&c1);
    add(s1);

    /* conv_transpose2d / 1d: every algorithm. */
    const clconv_shape ct_in = {2, 32, 14, 14};
    add((seq_case){.name = "conv_transpose2d transposed-gather", .k = K_CT2D,
                   .algo = CLCONV_ALGO_TRANSPOSED_GATHER, .ct = ctp(32, 32, 4, 2, 1),
                   .in = ct_in, .want = CLCONV_ALGO_TRANSPOSED_GATHER});
    add((seq_case){.name = "conv_transpose2d transposed-vector", .k = K_CT2D,
                   .algo = CLCONV_ALGO_TRANSPOSED_VECTOR, .ct = ctp(32, 32, 4, 2, 1),
                   .in = ct_in, .want = CLCONV_ALGO_TRANSPOSED_VECTOR});
    add((seq_case){.name = "conv_transpose2d transposed-columns", .k = K_CT2D,
                   .algo = CLCONV_ALGO_TRANSPOSED_COLUMNS, .ct = ctp(32, 4, 4, 2, 1),
                   .in = ct_in, .want = CLCONV_ALGO_TRANSPOSED_COLUMNS});
    add((seq_case){.name = "conv_transpose2d transposed-gemm", .k = K_CT2D,
                   .algo = CLCONV_ALGO_TRANSPOSED_GEMM, .ct = ctp(32, 32, 4, 2, 1),
                   .in = ct_in, .want = CLCONV_ALGO_TRANSPOSED_GEMM});
    clconv_conv_transpose1d_params t1 = {.in_channels = 32, .out_channels = 32, .kernel = 4,
                                         .stride = 2, .pad_left = 1, .pad_right = 1, .dilation = 1, .groups = 1,
                                         .has_bias = 1};
    add((seq_case){.name = "conv_transpose1d auto", .k = K_CT1D, .algo = CLCONV_ALGO_AUTO,
                   .t1 = t1, .ct = clconv_conv_transpose1d_as_conv_transpose2d(&t1),
                   .in = {4, 32, 1, 512}});

    /* conv2d backward: data through the transposed plans, weights with its
     * split workspace (two kernels), bias; ReLU backward. */
    seq_case bd = {.name = "backward-data auto", .k = K_BWD_DATA, .algo = CLCONV_ALGO_AUTO,
                   .conv = conv(32, 32, 3, 1, 1, 1), .in = img};
    add(bd);
    bd.name = "backward-data transposed-vector";
    bd.algo = bd.want = CLCONV_ALGO_TRANSPOSED_VECTOR;
    bd.conv = conv(32, 32, 3, 2, 1, 1);
    add(bd);
    bd.name = "backward-data transposed-gemm";
    bd.algo = bd.want = CLCONV_ALGO_TRANSPOSED_GEMM;
    add(bd);
    add((seq_case){.name = "backward-weights (split)", .k = K_BWD_WEIGHTS,
                   .algo = CLCONV_ALGO_AUTO, .conv = conv(16, 16, 3, 1, 1, 1),
                   .in = {4, 16, 28, 28}});
    add((seq_case){.name = "backward-bias", .k = K_BWD_BIAS, .algo = CLCONV_ALGO_AUTO,
                   .conv = conv(32, 32, 3, 1, 1, 1), .in = img});
    add((seq_case){.name = "relu backward", .k = K_RELU_BWD, .algo = CLCONV_ALGO_AUTO,
                   .conv = conv(32, 32, 3, 1, 1, 1), .in = img});

    /* Pooling, forward (max with indices, avg) and backward. */
    clconv_pool2d_params mp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    mp.stride_h = mp.stride_w = 2;
    mp.pad_top = mp.pad_bottom = mp.pad_left = mp.pad_right = 1;
    clconv_pool2d_params ap = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    ap.stride_h = ap.stride_w = 1;
    ap.pad_top = ap.pad_bottom = ap.pad_left = ap.pad_right = 1;
    const clconv_shape pin = {2, 32, 56, 56};
    add((seq_case){.name = "max_pool2d (indices)", .k = K_POOL, .pool = mp, .in = pin});
    add((seq_case){.name = "avg_pool2d", .k = K_POOL, .pool = ap, .in = pin});
    add((seq_case){.name = "max_pool2d backward", .k = K_POOL_BWD, .pool = mp, .in = pin});
    add((seq_case){.name = "avg_pool2d backward", .k = K_POOL_BWD, .pool = ap, .in = pin});
}

/* A context on the test device with an out-of-order queue, or NULL when the
 * device has none (optional in OpenCL 1.2). */
static clconv_context *ooo_context(void)
{
    clconv_context *base = tu_ctx();
    cl_int err;
    cl_command_queue q = clCreateCommandQueue(clconv_context_cl_context(base),
                                              clconv_context_device(base),
                                              CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err == CL_INVALID_QUEUE_PROPERTIES) {
        fprintf(stderr, "test_sequencing: the device has no out-of-order queues: nothing to "
                        "check\n");
        return NULL;
    }
    ck_assert_int_eq(err, CL_SUCCESS);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create_from_queue(clconv_context_cl_context(base), q, &ctx),
                     CLCONV_SUCCESS);
    clReleaseCommandQueue(q);
    return ctx;
}

static clconv_plan *case_plan(clconv_context *ctx, const seq_case *c, size_t *ws_bytes)
{
    clconv_plan *plan = NULL;
    clconv_status st = make_plan(ctx, c, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s: plan: %s", c->name, clconv_last_error(ctx));
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    if (c->want != CLCONV_ALGO_AUTO)
        ck_assert_msg(info.algorithm == c->want, "%s: the plan chose %s", c->name,
                      clconv_algorithm_name(info.algorithm));
    *ws_bytes = info.workspace_bytes;
    return plan;
}

/* Two runs of one plan, no wait lists, both waited for, ROUNDS times. */
START_TEST(two_runs_one_plan)
{
    build_cases();
    clconv_context *ctx = ooo_context();
    if (!ctx)
        return;
    const seq_case *c = &cases[_i];
    size_t ws_bytes;
    clconv_plan *plan = case_plan(ctx, c, &ws_bytes);
    seq_sizes s = sizes_of(c);
    run_slot r[2];
    slot_make(ctx, &s, ws_bytes, &r[0]);
    slot_make(ctx, &s, ws_bytes, &r[1]);
    tu_rng rng = tu_rng_make(1300 + (uint64_t)_i);
    int failures = 0;
    char msg[1024] = "";
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < 2; k++)
            slot_prepare(ctx, c, &s, &rng, &r[k]);
        for (int k = 0; k < 2; k++) {
            clconv_status st = run_plan(c, plan, r[k].in, r[k].out, r[k].idx, r[k].ws, &r[k].done);
            ck_assert_msg(st == CLCONV_SUCCESS, "%s: run %d: %s", c->name, k,
                          clconv_last_error(ctx));
        }
        cl_event both[2] = {r[0].done, r[1].done};
        ck_assert_int_eq(clWaitForEvents(2, both), CL_SUCCESS);
        for (int k = 0; k < 2; k++) {
            clReleaseEvent(r[k].done);
            char what[64];
            snprintf(what, sizeof what, "round %d, run %d of 2", round, k + 1);
            if (slot_check(ctx, c, &s, &r[k], what, msg, sizeof msg))
                failures++;
        }
    }
    slot_free(&r[0]);
    slot_free(&r[1]);
    clconv_plan_destroy(plan);
    clconv_context_destroy(ctx);
    ck_assert_msg(failures == 0, "%d of %d runs wrong on an out-of-order queue; last: %s",
                  failures, 2 * ROUNDS, msg);
}
END_TEST

/* ---- one plan from two threads on an out-of-order queue -------------------
 * Each thread runs the shared plan once per round on tensors of its own,
 * both threads enqueueing together (a barrier), no wait lists. The tensors
 * and references are made, and the results checked, on the main thread
 * (Check's assertions belong to it); the threads only run and wait. */

enum { THREADS = 2 };

typedef struct {
    const seq_case *c;
    clconv_plan *plan;
    run_slot *slots;          /* THREAD_ROUNDS of them, this thread's */
    pthread_barrier_t *start; /* the threads enqueue each round's run together */
    clconv_status st;         /* the first failed run's status (0: none) */
    char msg[512];
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = arg;
    for (int round = 0; round < THREAD_ROUNDS; round++) {
        run_slot *r = &j->slots[round];
        pthread_barrier_wait(j->start);
        clconv_status st = run_plan(j->c, j->plan, r->in, r->out, r->idx, r->ws, &r->done);
        if (st) {
            if (!j->st) {
                j->st = st;
                snprintf(j->msg, sizeof j->msg, "%s", clconv_last_error(NULL));
            }
            continue; /* keep meeting the barrier */
        }
        clWaitForEvents(1, &r->done);
        clReleaseEvent(r->done);
    }
    return NULL;
}

START_TEST(threads_share_a_plan)
{
    build_cases();
    clconv_context *ctx = ooo_context();
    if (!ctx)
        return;
    const seq_case *c = &cases[_i];
    size_t ws_bytes;
    clconv_plan *plan = case_plan(ctx, c, &ws_bytes);
    seq_sizes s = sizes_of(c);
    tu_rng rng = tu_rng_make(7100 + (uint64_t)_i);
    run_slot slots[THREADS][THREAD_ROUNDS];
    thread_job jobs[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        for (int k = 0; k < THREAD_ROUNDS; k++) {
            slot_make(ctx, &s, ws_bytes, &slots[t][k]);
            slot_prepare(ctx, c, &s, &rng, &slots[t][k]);
        }
        jobs[t] = (thread_job){.c = c, .plan = plan, .slots = slots[t], .start = &start};
    }
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    int failures = 0;
    char msg[1024] = "";
    for (int t = 0; t < THREADS; t++) {
        ck_assert_msg(jobs[t].st == CLCONV_SUCCESS, "%s: thread %d: run: %s", c->name, t,
                      jobs[t].msg);
        for (int k = 0; k < THREAD_ROUNDS; k++) {
            char what[64];
            snprintf(what, sizeof what, "thread %d, round %d", t, k);
            if (slot_check(ctx, c, &s, &slots[t][k], what, msg, sizeof msg))
                failures++;
            slot_free(&slots[t][k]);
        }
    }
    clconv_plan_destroy(plan);
    clconv_context_destroy(ctx);
    ck_assert_msg(failures == 0, "%d of %d runs wrong from %d threads sharing one plan; last: %s",
                  failures, THREADS * THREAD_ROUNDS, THREADS, msg);
}
END_TEST

/* The thread check for the algorithms with plan-owned buffers. */
static const char *const threaded[] = {
    "conv2d direct-vector", "conv2d direct-pointwise 3x3 stride 2 (copy of x)", "conv2d winograd",
    "conv2d direct-batch (copy of x, images interleaved)",
    "conv_transpose2d transposed-vector", "conv2d gemm", "backward-weights (split)"};

static int case_index(const char *name)
{
    for (int i = 0; i < ncases; i++)
        if (strcmp(cases[i].name, name) == 0)
            return i;
    return -1;
}

int main(void)
{
    build_cases();
    Suite *s = suite_create("sequencing");
    TCase *tc = tcase_create("out_of_order");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, two_runs_one_plan, 0, ncases);
    for (size_t i = 0; i < sizeof threaded / sizeof *threaded; i++) {
        int k = case_index(threaded[i]);
        if (k < 0) {
            fprintf(stderr, "test_sequencing: no case '%s'\n", threaded[i]);
            return 1;
        }
        tcase_add_loop_test(tc, threads_share_a_plan, k, k + 1);
    }
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
