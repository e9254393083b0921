/* Threads: 4 threads on one context, each making plans (threads 0/2 and 1/3
 * the same shapes, so the program cache is hit concurrently) for conv2d
 * (direct and CLBlast GEMM), pool2d and conv_transpose2d, running each many
 * times on fresh data checked against the CPU reference; all threads also
 * run one plan they share, and make failing calls whose messages must stay
 * their own. Then 4 threads with a context each. Then the backward
 * operators (conv2d backward-data gather and gemm, backward-weights with its
 * split workspace, backward-bias, ReLU backward, pool2d backward max and
 * avg) from 4 threads on one context, shared plans and plans of their own.
 * Exact mode (small integers), so every result must match bit for bit. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define RUNS 25

typedef struct {
    clconv_context *ctx;     /* NULL: the thread makes its own */
    clconv_plan *shared;     /* a conv2d plan run by every thread (may be NULL) */
    int id;
    int ok;
    char msg[1024];
} job;

static const clconv_shape shared_in = {2, 8, 9, 11};

static clconv_conv2d_params shared_params(void)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(8, 8, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    return p;
}

#define FAIL(j, ...)                                        \
    do {                                                    \
        snprintf((j)->msg, sizeof (j)->msg, __VA_ARGS__);   \
        (j)->ok = 0;                                        \
        goto out;                                           \
    } while (0)

static cl_mem make_buf(clconv_context *ctx, size_t floats, const float *data)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(ctx),
                              CL_MEM_READ_WRITE | (data ? CL_MEM_COPY_HOST_PTR : 0),
                              (floats ? floats : 1) * sizeof(float), (void *)data, &err);
    return err == CL_SUCCESS ? m : NULL;
}

/* Runs a conv2d plan RUNS times on fresh data; 1 when every result matched. */
static int run_conv2d(job *j, clconv_plan *plan, const clconv_conv2d_params *p,
                      const clconv_shape *in, tu_rng *r, const char *what)
{
    clconv_context *ctx = j->ctx;
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    clconv_shape ws = clconv_conv2d_weight_shape(p);
    size_t nx = clconv_shape_elements(*in), nw = clconv_shape_elements(ws);
    size_t ny = clconv_shape_elements(info.output), nb = (size_t)p->out_channels;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(nb * 4);
    float *y = malloc(ny * 4), *ref = malloc(ny * 4);
    cl_mem bx = make_buf(ctx, nx, NULL), bw = make_buf(ctx, nw, NULL), bb = make_buf(ctx, nb, NULL);
    cl_mem by = make_buf(ctx, ny, NULL);
    cl_mem bws = info.workspace_bytes ? make_buf(ctx, info.workspace_bytes / 4 + 1, NULL) : NULL;
    cl_command_queue q = clconv_context_queue(ctx);
    int ok = x && w && b && y && ref && bx && bw && bb && by && (bws || !info.workspace_bytes);
    if (!ok)
        snprintf(j->msg, sizeof j->msg, "thread %d %s: allocation failed", j->id, what);
    for (int it = 0; ok && it < RUNS; it++) {
        tu_fill(r, x, nx, true);
        tu_fill(r, w, nw, true);
        tu_fill(r, b, nb, true);
        cl_int err = clEnqueueWriteBuffer(q, bx, CL_FALSE, 0, nx * 4, x, 0, NULL, NULL);
        err |= clEnqueueWriteBuffer(q, bw, CL_FALSE, 0, nw * 4, w, 0, NULL, NULL);
        err |= clEnqueueWriteBuffer(q, bb, CL_TRUE, 0, nb * 4, b, 0, NULL, NULL);
        cl_event done = NULL;
        clconv_status st = err ? CLCONV_ERROR_OPENCL
                               : clconv_conv2d_run(plan, bx, bw, p->has_bias ? bb : NULL, by,
                                                   bws, 0, NULL, &done);
        if (st) {
            snprintf(j->msg, sizeof j->msg, "thread %d %s run %d: %s (err %d)", j->id, what, it,
                     clconv_last_error(NULL), (int)err);
            ok = 0;
            break;
        }
        err = clEnqueueReadBuffer(q, by, CL_TRUE, 0, ny * 4, y, 1, &done, NULL);
        clReleaseEvent(done);
        clconv_ref_conv2d(p, in, x, w, p->has_bias ? b : NULL, ref);
        char cmp[256];
        if (err != CL_SUCCESS || tu_compare(y, ref, NULL, ny, 0, 0, cmp, sizeof cmp) >= 0) {
            snprintf(j->msg, sizeof j->msg, "thread %d %s run %d: %s (read %d)", j->id, what, it,
                     cmp, (int)err);
            ok = 0;
        }
    }
    cl_mem all[] = {bx, bw, bb, by, bws};
    for (int i = 0; i < 5; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    free(x);
    free(w);
    free(b);
    free(y);
    free(ref);
    if (!ok)
        j->ok = 0;
    return ok;
}

static void *worker(void *arg)
{
    job *j = arg;
    int own = j->ctx == NULL;
    j->ok = 1;
    if (own && clconv_context_create(&j->ctx) != CLCONV_SUCCESS) {
        snprintf(j->msg, sizeof j->msg, "thread %d: context: %s", j->id, clconv_last_error(NULL));
        j->ok = 0;
        return NULL;
    }
    clconv_context *ctx = j->ctx;
    tu_rng r = tu_rng_make(100 + (uint64_t)j->id);
    clconv_plan *plan = NULL;
    float *x = NULL, *y = NULL, *ref = NULL, *w = NULL, *b = NULL;

    /* A failing call: this thread's message is its own. */
    char want[64];
    clconv_conv2d_params bad = clconv_conv2d_default_params(4, 4, 3, 3);
    bad.stride_h = -100 - j->id;
    clconv_shape bad_in = {1, 4, 8, 8};
    if (clconv_conv2d_plan_create(ctx, &bad, &bad_in, NULL, &plan) != CLCONV_ERROR_INVALID_VALUE)
        FAIL(j, "thread %d: a negative stride was accepted", j->id);
    snprintf(want, sizeof want, "stride_h = %d", -100 - j->id);
    if (!strstr(clconv_last_error(NULL), want))
        FAIL(j, "thread %d: own message lost: '%s'", j->id, clconv_last_error(NULL));
    if (!strstr(clconv_last_error(ctx), "stride_h = -10")) /* some thread's */
        FAIL(j, "thread %d: context message: '%s'", j->id, clconv_last_error(ctx));

    /* conv2d direct, two shapes shared by thread pairs */
    clconv_conv2d_params p = clconv_conv2d_default_params(6, j->id % 2 ? 12 : 8, 3, 3);
    p.stride_h = p.stride_w = j->id % 2 ? 2 : 1;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    clconv_shape in = {2, 6, 10, 9};
    if (clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan))
        FAIL(j, "thread %d: conv2d plan: %s", j->id, clconv_last_error(NULL));
    if (!run_conv2d(j, plan, &p, &in, &r, "conv2d"))
        goto out;
    clconv_plan_destroy(plan);
    plan = NULL;

    /* conv2d through CLBlast, the same shape in every thread */
    clconv_conv2d_params g = clconv_conv2d_default_params(8, 4, 1, 1);
    clconv_shape gin = {2, 8, 6, 5};
    clconv_plan_options go = {0};
    go.algorithm = CLCONV_ALGO_GEMM;
    if (clconv_conv2d_plan_create(ctx, &g, &gin, &go, &plan))
        FAIL(j, "thread %d: gemm plan: %s", j->id, clconv_last_error(NULL));
    if (!run_conv2d(j, plan, &g, &gin, &r, "conv2d gemm"))
        goto out;
    clconv_plan_destroy(plan);
    plan = NULL;

    /* the plan every thread runs */
    if (j->shared) {
        clconv_conv2d_params sp = shared_params();
        if (!run_conv2d(j, j->shared, &sp, &shared_in, &r, "shared plan"))
            goto out;
    }

    /* pool2d and conv_transpose2d through the *_host calls (plan per call) */
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    pp.stride_h = pp.stride_w = 2;
    pp.pad_top = pp.pad_bottom = pp.pad_left = pp.pad_right = 1;
    clconv_shape pin = {2, 3, 9, 8}, pout;
    clconv_pool2d_output_shape(&pp, &pin, &pout);
    size_t npx = clconv_shape_elements(pin), npy = clconv_shape_elements(pout);
    clconv_conv_transpose2d_params tp = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    tp.stride_h = tp.stride_w = 2;
    tp.pad_top = tp.pad_bottom = tp.pad_left = tp.pad_right = 1;
    tp.has_bias = 1;
    clconv_shape tin = {1, 4, 5, 6}, tout;
    clconv_conv_transpose2d_output_shape(&tp, &tin, &tout);
    size_t ntx = clconv_shape_elements(tin), nty = clconv_shape_elements(tout);
    size_t ntw = clconv_shape_elements(clconv_conv_transpose2d_weight_shape(&tp));
    x = malloc(4 * (npx > ntx ? npx : ntx));
    y = malloc(4 * (npy > nty ? npy : nty));
    ref = malloc(4 * (npy > nty ? npy : nty));
    w = malloc(4 * ntw);
    b = malloc(4 * 6);
    if (!x || !y || !ref || !w || !b)
        FAIL(j, "thread %d: out of memory", j->id);
    for (int it = 0; it < RUNS; it++) {
        char cmp[256];
        tu_fill(&r, x, npx, true);
        if (clconv_pool2d_host(ctx, &pp, &pin, NULL, x, y, NULL))
            FAIL(j, "thread %d pool2d run %d: %s", j->id, it, clconv_last_error(NULL));
        clconv_ref_pool2d(&pp, &pin, x, ref, NULL);
        if (tu_compare(y, ref, NULL, npy, 0, 0, cmp, sizeof cmp) >= 0)
            FAIL(j, "thread %d pool2d run %d: %s", j->id, it, cmp);
        tu_fill(&r, x, ntx, true);
        tu_fill(&r, w, ntw, true);
        tu_fill(&r, b, 6, true);
        if (clconv_conv_transpose2d_host(ctx, &tp, &tin, NULL, x, w, b, y))
            FAIL(j, "thread %d conv_transpose2d run %d: %s", j->id, it, clconv_last_error(NULL));
        clconv_ref_conv_transpose2d(&tp, &tin, x, w, b, ref);
        if (tu_compare(y, ref, NULL, nty, 0, 0, cmp, sizeof cmp) >= 0)
            FAIL(j, "thread %d conv_transpose2d run %d: %s", j->id, it, cmp);
    }
out:
    free(x);
    free(y);
    free(ref);
    free(w);
    free(b);
    clconv_plan_destroy(plan);
    if (own) {
        clconv_context_destroy(j->ctx);
        j->ctx = NULL;
    }
    return NULL;
}

static void run_threads(clconv_context *ctx, clconv_plan *shared)
{
    pthread_t t[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){ctx, shared, i, 0, ""};
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(jobs[i].ok, "%s", jobs[i].msg);
}

START_TEST(test_threads_share_a_context)
{
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    clconv_conv2d_params sp = shared_params();
    clconv_plan *shared;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &sp, &shared_in, NULL, &shared),
                     CLCONV_SUCCESS);
    run_threads(ctx, shared);
    clconv_cache_stats s;
    ck_assert_int_eq(clconv_context_cache_stats(ctx, &s), CLCONV_SUCCESS);
    /* 4 threads x (2 conv2d + RUNS x (pool + transposed)) plans, a handful of
     * distinct programs: almost all of them memory hits. */
    ck_assert_msg(s.memory_hits >= THREADS * 2 * RUNS - 8, "memory hits %llu, disk hits %llu, compiled %llu", (unsigned long long)s.memory_hits, (unsigned long long)s.disk_hits, (unsigned long long)s.compiled);
    clconv_plan_destroy(shared);
    clconv_context_destroy(ctx);
}
END_TEST

/* Own contexts on an empty disk cache: the 4 contexts compile the same
 * programs and write the same cache files at the same time; a fifth context
 * afterwards must load every one of them (whole files, no compile). */
START_TEST(test_threads_own_contexts)
{
    char tmpl[] = "/tmp/clconv-threads-XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char *old = getenv("CLCONV_CACHE_DIR") ? strdup(getenv("CLCONV_CACHE_DIR")) : NULL;
    setenv("CLCONV_CACHE_DIR", dir, 1); /* before any thread starts */
    run_threads(NULL, NULL);
    job j = {NULL, NULL, 9, 0, ""};
    worker(&j); /* the same work on one more context, after the others */
    ck_assert_msg(j.ok, "%s", j.msg);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    pp.stride_h = pp.stride_w = 2;
    pp.pad_top = pp.pad_bottom = pp.pad_left = pp.pad_right = 1;
    clconv_shape pin = {2, 3, 9, 8};
    clconv_plan *plan;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &pp, &pin, NULL, &plan), CLCONV_SUCCESS);
    clconv_plan_destroy(plan);
    clconv_cache_stats s;
    clconv_context_cache_stats(ctx, &s);
    ck_assert_msg(s.compiled == 0 && s.disk_hits == 1,
                  "the pooling program written by 4 threads at once: compiled %llu, disk hits "
                  "%llu", (unsigned long long)s.compiled, (unsigned long long)s.disk_hits);
    clconv_context_destroy(ctx);
    if (old) {
        setenv("CLCONV_CACHE_DIR", old, 1);
        free(old);
    } else {
        unsetenv("CLCONV_CACHE_DIR");
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- backward operators: plans shared by all threads and plans of their own */

enum { B_DATA, B_DATA_GEMM, B_WEIGHTS, B_BIAS, B_RELU, B_POOL_MAX, B_POOL_AVG, B_COUNT };
static const char *b_names[B_COUNT] = {"backward-data",  "backward-data gemm", "backward-weights",
                                       "backward-bias",  "relu backward",      "pool2d backward max",
                                       "pool2d backward avg"};
#define B_RUNS 8

static const clconv_shape b_in = {2, 6, 17, 18};

static clconv_conv2d_params b_conv(void)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(6, 8, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_left = 1;
    p.pad_bottom = p.pad_right = 2; /* asymmetric */
    p.groups = 2;
    return p;
}

static clconv_pool2d_params b_pool(int op)
{
    clconv_pool2d_params p =
        clconv_pool2d_default_params(op == B_POOL_MAX ? CLCONV_POOL_MAX : CLCONV_POOL_AVG, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.count_include_pad = 0; /* divisors 4, 6 and 9: still exact on small integers x 36 */
    return p;
}

static clconv_status b_plan(clconv_context *ctx, int op, clconv_plan **plan)
{
    clconv_conv2d_params p = b_conv();
    clconv_plan_options o = {0};
    switch (op) {
    case B_DATA:
        return clconv_conv2d_backward_data_plan_create(ctx, &p, &b_in, NULL, plan);
    case B_DATA_GEMM:
        o.algorithm = CLCONV_ALGO_TRANSPOSED_GEMM;
        return clconv_conv2d_backward_data_plan_create(ctx, &p, &b_in, &o, plan);
    case B_WEIGHTS:
        return clconv_conv2d_backward_weights_plan_create(ctx, &p, &b_in, NULL, plan);
    case B_BIAS:
        return clconv_conv2d_backward_bias_plan_create(ctx, &p, &b_in, NULL, plan);
    case B_RELU:
        return clconv_relu_backward_plan_create(ctx, &b_in, plan);
    default: {
        clconv_pool2d_params pp = b_pool(op);
        return clconv_pool2d_backward_plan_create(ctx, &pp, &b_in, NULL, plan);
    }
    }
}

/* Runs plan (operator op) B_RUNS times on fresh small-integer data; the
 * result must equal the reference bit for bit. */
static int b_run(job *j, int op, clconv_plan *plan, tu_rng *r)
{
    clconv_context *ctx = j->ctx;
    clconv_conv2d_params p = b_conv();
    clconv_pool2d_params pp = b_pool(op);
    clconv_shape co, po;
    clconv_conv2d_output_shape(&p, &b_in, &co);
    clconv_pool2d_output_shape(&pp, &b_in, &po);
    size_t nx = clconv_shape_elements(b_in), nco = clconv_shape_elements(co);
    size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(&p)), npo = clconv_shape_elements(po);
    /* a: first input, b: second, out: the result (sizes in floats) */
    size_t na, nb, nout;
    switch (op) {
    case B_DATA: case B_DATA_GEMM: na = nco; nb = nw; nout = nx; break;
    case B_WEIGHTS: na = nx; nb = nco; nout = nw; break;
    case B_BIAS: na = nco; nb = 1; nout = (size_t)p.out_channels; break;
    case B_RELU: na = nx; nb = nx; nout = nx; break;
    default: na = npo; nb = nx; nout = nx; break; /* dy, x */
    }
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    float *a = malloc(na * 4), *b = malloc(nb * 4), *y = malloc(nout * 4), *ref = malloc(nout * 4);
    int64_t *idx = malloc(npo * 8);
    float *fy = malloc(npo * 4);
    cl_mem ba = make_buf(ctx, na, NULL), bb = make_buf(ctx, nb, NULL), bo = make_buf(ctx, nout, NULL);
    cl_mem bi = make_buf(ctx, npo * 2, NULL);
    cl_mem bws = info.workspace_bytes ? make_buf(ctx, info.workspace_bytes / 4 + 1, NULL) : NULL;
    cl_command_queue q = clconv_context_queue(ctx);
    int ok = a && b && y && ref && idx && fy && ba && bb && bo && bi &&
             (bws || !info.workspace_bytes);
    if (!ok)
        snprintf(j->msg, sizeof j->msg, "thread %d %s: allocation failed", j->id, b_names[op]);
    for (int it = 0; ok && it < B_RUNS; it++) {
        tu_fill(r, a, na, true);
        tu_fill(r, b, nb, true);
        if (op == B_POOL_MAX)
            clconv_ref_pool2d(&pp, &b_in, b, fy, idx);
        cl_int err = clEnqueueWriteBuffer(q, ba, CL_FALSE, 0, na * 4, a, 0, NULL, NULL);
        err |= clEnqueueWriteBuffer(q, bb, CL_FALSE, 0, nb * 4, b, 0, NULL, NULL);
        err |= clEnqueueWriteBuffer(q, bi, CL_TRUE, 0, npo * 8, idx, 0, NULL, NULL);
        cl_event done = NULL;
        clconv_status st = CLCONV_ERROR_OPENCL;
        if (!err) {
            switch (op) {
            case B_DATA: case B_DATA_GEMM:
                st = clconv_conv2d_backward_data_run(plan, ba, bb, bo, bws, 0, NULL, &done);
                break;
            case B_WEIGHTS:
                st = clconv_conv2d_backward_weights_run(plan, ba, bb, bo, bws, 0, NULL, &done);
                break;
            case B_BIAS: st = clconv_conv2d_backward_bias_run(plan, ba, bo, 0, NULL, &done); break;
            case B_RELU: st = clconv_relu_backward_run(plan, bb, ba, bo, 0, NULL, &done); break;
            case B_POOL_MAX:
                st = clconv_pool2d_backward_run(plan, ba, bi, NULL, bo, 0, NULL, &done);
                break;
            default: st = clconv_pool2d_backward_run(plan, ba, NULL, NULL, bo, 0, NULL, &done); break;
            }
        }
        if (st) {
            snprintf(j->msg, sizeof j->msg, "thread %d %s run %d: %s (err %d)", j->id,
                     b_names[op], it, clconv_last_error(NULL), (int)err);
            ok = 0;
            break;
        }
        err = clEnqueueReadBuffer(q, bo, CL_TRUE, 0, nout * 4, y, 1, &done, NULL);
        clReleaseEvent(done);
        switch (op) {
        case B_DATA: case B_DATA_GEMM: clconv_ref_conv2d_backward_data(&p, &b_in, a, b, ref); break;
        case B_WEIGHTS: clconv_ref_conv2d_backward_weights(&p, &b_in, a, b, ref); break;
        case B_BIAS: clconv_ref_conv2d_backward_bias(&p, &b_in, a, ref); break;
        case B_RELU: clconv_ref_relu_backward(nx, b, a, ref); break;
        case B_POOL_MAX: clconv_ref_pool2d_backward(&pp, &b_in, a, idx, NULL, ref); break;
        default: clconv_ref_pool2d_backward(&pp, &b_in, a, NULL, NULL, ref); break;
        }
        char cmp[256];
        if (err != CL_SUCCESS || tu_compare(y, ref, NULL, nout, 0, 0, cmp, sizeof cmp) >= 0) {
            snprintf(j->msg, sizeof j->msg, "thread %d %s run %d: %s (read %d)", j->id,
                     b_names[op], it, cmp, (int)err);
            ok = 0;
        }
    }
    cl_mem all[] = {ba, bb, bo, bi, bws};
    for (int i = 0; i < 5; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    free(a);
    free(b);
    free(y);
    free(ref);
    free(idx);
    free(fy);
    if (!ok)
        j->ok = 0;
    return ok;
}

typedef struct {
    job j;
    clconv_plan **shared; /* B_COUNT plans */
} b_job;

/* Odd threads make their own plans (the program cache hit concurrently),
 * even ones run the shared plans, interleaved with the others. */
static void *b_worker(void *arg)
{
    b_job *bj = arg;
    job *j = &bj->j;
    j->ok = 1;
    tu_rng r = tu_rng_make(300 + (uint64_t)j->id);
    for (int op = 0; op < B_COUNT && j->ok; op++) {
        clconv_plan *plan = bj->shared[op];
        int own = j->id % 2;
        if (own && b_plan(j->ctx, op, &plan)) {
            snprintf(j->msg, sizeof j->msg, "thread %d %s plan: %s", j->id, b_names[op],
                     clconv_last_error(NULL));
            j->ok = 0;
            break;
        }
        b_run(j, op, plan, &r);
        if (own)
            clconv_plan_destroy(plan);
    }
    return NULL;
}

START_TEST(test_backward_threads_share_a_context)
{
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    clconv_plan *shared[B_COUNT];
    for (int op = 0; op < B_COUNT; op++)
        ck_assert_msg(b_plan(ctx, op, &shared[op]) == CLCONV_SUCCESS, "%s plan: %s", b_names[op],
                      clconv_last_error(ctx));
    clconv_plan_info info;
    clconv_plan_get_info(shared[B_WEIGHTS], &info);
    ck_assert_msg(info.workspace_bytes > 0, "backward-weights does not split here");
    pthread_t t[THREADS];
    b_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (b_job){{ctx, NULL, i, 0, ""}, shared};
        ck_assert_int_eq(pthread_create(&t[i], NULL, b_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(jobs[i].j.ok, "%s", jobs[i].j.msg);
    for (int op = 0; op < B_COUNT; op++)
        clconv_plan_destroy(shared[op]);
    clconv_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_threads_share_a_context);
    tcase_add_test(tc, test_threads_own_contexts);
    tcase_add_test(tc, test_backward_threads_share_a_context);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
