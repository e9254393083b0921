/* learn_edge_kernel — the study notes' "learning a kernel from data"
 * experiment, trained on the OpenCL device.
 *
 * The notes' edge image X = ones(6, 8) with X[:, 2:6] = 0 and its edges
 * Y = corr2d(X, [[1, -1]]) (6x7: 1 where the image falls from 1 to 0, -1
 * where it rises). A 1x2 convolution with bias starts from random values
 * (torch.randn: standard normal; here Box-Muller on splitmix64, seed 2026
 * unless --seed) and learns K from (X, Y) as in the notes:
 *
 *   for i in range(steps):
 *       Y_hat = F.conv2d(X, weight, bias)        clconv_conv2d_run
 *       L = ((Y_hat - Y) ** 2).sum()             host (42 values)
 *       dL/dY_hat = 2 (Y_hat - Y)                host, uploaded as dy
 *       weight.grad, bias.grad                   clconv_conv2d_backward_weights_run,
 *                                                clconv_conv2d_backward_bias_run
 *       weight -= lr * weight.grad; bias -= lr * bias.grad     (float32, lr 0.01)
 *       every 5 steps: print 'Step {i+1}, loss {L:.3f}' (past step 50
 *       every 25 steps; below 5e-4 the loss is printed as %.2e)
 *
 * Every step's forward output and gradients are checked against the CPU
 * reference (clconv_ref_conv2d, clconv_ref_conv2d_backward_weights / _bias)
 * on the same values. At the end the program checks that the loss never rose
 * while it was above 1e-9 (below that float rounding of the 42 outputs
 * dominates) and that the kernel is within
 * --tol (default 1e-3) of [1, -1] and the bias within --tol of 0. Plain
 * gradient descent on this quadratic loss contracts the error by at least
 * 1 - 0.01 * (smallest Hessian eigenvalue) per step: about 2e-3 after 50
 * steps, 3e-6 after 100 and float rounding (~1e-7) from about 150 on, so
 * 200 steps (the default) meet 1e-3 by a wide margin; the notes' 20 steps
 * stop at a loss near 0.05-0.2 with the kernel within ~0.1.
 *
 * Exit status: 0 success, 1 an error, 2 no device, 3 a check failed, 64 a
 * usage error.
 */
#include "clconv.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_NAME "learn_edge_kernel"
#include "example_checks.h"


#define H 6
#define W 8
#define OW (W - 1)
#define NY (H * OW)

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A standard normal value (Box-Muller). */
static double randn(uint64_t *s)
{
    double u1 = ((double)(splitmix64(s) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(splitmix64(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: learn_edge_kernel [--steps N] [--lr R] [--seed S] [--tol T] "
               "[--device SEL] [--help]\n");
}

static int check(clconv_status st, const clconv_context *ctx, const char *what)
{
    if (st == CLCONV_SUCCESS)
        return 0;
    fprintf(stderr, "learn_edge_kernel: %s: %s: %s\n", what, clconv_status_string(st),
            clconv_last_error(ctx));
    return st == CLCONV_ERROR_NO_DEVICE ? EXIT_NO_DEVICE : EXIT_ERROR;
}

static int check_cl(cl_int err, const char *what)
{
    if (err == CL_SUCCESS)
        return 0;
    fprintf(stderr, "learn_edge_kernel: %s failed: OpenCL error %d\n", what, (int)err);
    return EXIT_ERROR;
}

/* |a - b| <= 1e-5 * (1 + |b|) elementwise, else a message. */
static int agree(const float *a, const float *b, int n, const char *what, int step)
{
    for (int i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(b[i])))) {
            fprintf(stderr, "learn_edge_kernel: step %d: %s[%d] = %.9g on the device, %.9g in "
                            "the reference\n", step, what, i, a[i], b[i]);
            return 0;
        }
    return 1;
}

int main(int argc, char **argv)
{
    long steps = 200;
    double lr = 0.01, tol = 1e-3;
    uint64_t seed = 2026;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            printf("Learns the notes' edge kernel [1, -1] (and bias 0) from X and Y =\n"
                   "corr2d(X, [1, -1]) by gradient descent, forward and gradients on the\n"
                   "device (clconv conv2d and its backward passes).\n"
                   "  --steps N     gradient steps (default 200; the notes run 20)\n"
                   "  --lr R        learning rate (default 0.01, as the notes)\n"
                   "  --seed S      seed of the random start (splitmix64, default 2026)\n"
                   "  --tol T       final tolerance on the kernel and bias (default 1e-3)\n"
                   "  --device SEL  OpenCL device: 'P:D' indices or part of its name\n"
                   "Exit status: 0 success, 1 an error, 2 no device, 3 a check failed,\n"
                   "64 a usage error.\n");
            return 0;
        }
        if (i + 1 >= argc || (strcmp(a, "--steps") && strcmp(a, "--lr") && strcmp(a, "--seed") &&
                              strcmp(a, "--tol") && strcmp(a, "--device"))) {
            fprintf(stderr, "learn_edge_kernel: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        const char *v = argv[++i];
        char *end = NULL;
        if (!strcmp(a, "--device")) {
            device = v;
            continue;
        }
        if (!strcmp(a, "--steps"))
            steps = strtol(v, &end, 10);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, &end, 10);
        else if (!strcmp(a, "--lr"))
            lr = strtod(v, &end);
        else
            tol = strtod(v, &end);
        if (end == v || *end || steps < 1 || steps > 1000000 || !(lr > 0) || !(tol > 0) ||
            v[0] == '-') {
            fprintf(stderr, "learn_edge_kernel: %s must be a positive number, not '%s'\n", a, v);
            return EXIT_USAGE;
        }
    }

    /* The notes' data. */
    float x[H * W], ytarget[NY];
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            x[i * W + j] = (j >= 2 && j < 6) ? 0.0f : 1.0f;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < OW; j++)
            ytarget[i * OW + j] = x[i * W + j] - x[i * W + j + 1];
    uint64_t s = seed;
    float w[2], b[1];
    w[0] = (float)randn(&s);
    w[1] = (float)randn(&s);
    b[0] = (float)randn(&s);
    const float w0[2] = {w[0], w[1]}, b0 = b[0];

    clconv_context *ctx = NULL;
    int rc = check(clconv_context_create_for(device, &ctx), NULL, "context");
    if (rc)
        return rc;
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 2);
    p.has_bias = 1;
    clconv_shape in = {1, 1, H, W};
    clconv_plan *fwd = NULL, *bw = NULL, *bb = NULL;
    cl_mem bx = NULL, bwt = NULL, bbias = NULL, by = NULL, bdy = NULL, bdw = NULL, bdb = NULL,
           bws = NULL;
    clconv_plan_info info;
    cl_int err = CL_SUCCESS;
    cl_context cl = clconv_context_cl_context(ctx);
    cl_command_queue q = clconv_context_queue(ctx);
    if ((rc = check(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &fwd), ctx, "conv2d plan")) ||
        (rc = check(clconv_conv2d_backward_weights_plan_create(ctx, &p, &in, NULL, &bw), ctx,
                    "backward-weights plan")) ||
        (rc = check(clconv_conv2d_backward_bias_plan_create(ctx, &p, &in, NULL, &bb), ctx,
                    "backward-bias plan")) ||
        (rc = check(clconv_plan_get_info(bw, &info), ctx, "plan info")))
        goto out;
    struct {
        cl_mem *m;
        size_t bytes;
        const void *src;
    } bufs[] = {{&bx, sizeof x, x},   {&bwt, sizeof w, NULL}, {&bbias, sizeof b, NULL},
                {&by, NY * 4, NULL},  {&bdy, NY * 4, NULL},   {&bdw, sizeof w, NULL},
                {&bdb, sizeof b, NULL}, {&bws, info.workspace_bytes, NULL}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        if (bufs[i].bytes == 0)
            continue;
        *bufs[i].m = clCreateBuffer(cl, CL_MEM_READ_WRITE | (bufs[i].src ? CL_MEM_COPY_HOST_PTR : 0),
                                    bufs[i].bytes, (void *)bufs[i].src, &err);
        if ((rc = check_cl(err, "clCreateBuffer")))
            goto out;
    }
    printf("learning K from the notes' 6x8 edge image: 1x2 kernel + bias, squared loss, "
           "SGD lr %g, %ld steps, on %s\n", lr, steps, clconv_context_device_name(ctx));
    printf("start (splitmix64 seed %llu): weight [%.4f, %.4f], bias %.4f\n",
           (unsigned long long)seed, w0[0], w0[1], b0);

    double prev = INFINITY, loss = INFINITY;
    int rose = 0;
    for (long step = 1; step <= steps; step++) {
        float yhat[NY], dy[NY], dw[2], db[1], ref[NY], rdw[2], rdb[1];
        cl_event e_fwd = NULL, e_dw = NULL, e_db = NULL, e_up = NULL;
        /* Forward on the device. */
        if ((rc = check_cl(clEnqueueWriteBuffer(q, bwt, CL_TRUE, 0, sizeof w, w, 0, NULL, NULL),
                           "write weight")) ||
            (rc = check_cl(clEnqueueWriteBuffer(q, bbias, CL_TRUE, 0, sizeof b, b, 0, NULL, NULL),
                           "write bias")) ||
            (rc = check(clconv_conv2d_run(fwd, bx, bwt, bbias, by, NULL, 0, NULL, &e_fwd), ctx,
                        "conv2d run")) ||
            (rc = check_cl(clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof yhat, yhat, 1, &e_fwd,
                                               NULL), "read y")))
            goto step_out;
        /* Loss and its gradient on the host (42 values). */
        loss = 0.0;
        for (int i = 0; i < NY; i++) {
            float r = yhat[i] - ytarget[i];
            loss += (double)r * r;
            dy[i] = 2.0f * r;
        }
        /* Gradients on the device, both behind the upload of dy. */
        if ((rc = check_cl(clEnqueueWriteBuffer(q, bdy, CL_FALSE, 0, sizeof dy, dy, 0, NULL,
                                                &e_up), "write dy")) ||
            (rc = check(clconv_conv2d_backward_weights_run(bw, bx, bdy, bdw, bws, 1, &e_up, &e_dw),
                        ctx, "backward-weights run")) ||
            (rc = check(clconv_conv2d_backward_bias_run(bb, bdy, bdb, 1, &e_up, &e_db), ctx,
                        "backward-bias run")) ||
            (rc = check_cl(clEnqueueReadBuffer(q, bdw, CL_TRUE, 0, sizeof dw, dw, 1, &e_dw, NULL),
                           "read dw")) ||
            (rc = check_cl(clEnqueueReadBuffer(q, bdb, CL_TRUE, 0, sizeof db, db, 1, &e_db, NULL),
                           "read db")))
            goto step_out;
        /* The reference on the same values. */
        if ((rc = check(clconv_ref_conv2d(&p, &in, x, w, b, ref), NULL, "reference conv2d")) ||
            (rc = check(clconv_ref_conv2d_backward_weights(&p, &in, x, dy, rdw), NULL,
                        "reference backward-weights")) ||
            (rc = check(clconv_ref_conv2d_backward_bias(&p, &in, dy, rdb), NULL,
                        "reference backward-bias")))
            goto step_out;
        if (!agree(yhat, ref, NY, "y", (int)step) || !agree(dw, rdw, 2, "dw", (int)step) ||
            !agree(db, rdb, 1, "db", (int)step)) {
            rc = EXIT_MISMATCH;
            goto step_out;
        }
        if (loss > prev && prev > 1e-9) {
            fprintf(stderr, "learn_edge_kernel: step %ld: the loss rose from %.9g to %.9g\n",
                    step, prev, loss);
            rose = 1;
        }
        prev = loss;
        w[0] -= (float)lr * dw[0];
        w[1] -= (float)lr * dw[1];
        b[0] -= (float)lr * db[0];
        /* The notes' line every 5 steps; past step 50 every 25. */
        if (step % 5 == 0 && (step <= 50 || step % 25 == 0 || step == steps))
            printf(loss >= 5e-4 ? "Step %ld, loss %.3f\n" : "Step %ld, loss %.2e\n", step, loss);
    step_out:
        if (e_fwd) clReleaseEvent(e_fwd);
        if (e_up) clReleaseEvent(e_up);
        if (e_dw) clReleaseEvent(e_dw);
        if (e_db) clReleaseEvent(e_db);
        if (rc)
            goto out;
    }
    printf("weight: [%.6f, %.6f]  bias: %.6f  (last loss %.3g)\n", w[0], w[1], b[0], loss);
    double err_w = fmax(fabs(w[0] - 1.0), fabs(w[1] + 1.0)), err_b = fabs(b[0]);
    int ok = !rose && err_w <= tol && err_b <= tol;
    printf("loss non-increasing: %s; |weight - [1, -1]| = %.2g, |bias| = %.2g (tolerance %g): "
           "%s\n", rose ? "no" : "yes", err_w, err_b, tol, ok ? "OK" : "FAILED");
    if (!ok)
        rc = EXIT_MISMATCH;
out:;
    cl_mem all[] = {bx, bwt, bbias, by, bdy, bdw, bdb, bws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(fwd);
    clconv_plan_destroy(bw);
    clconv_plan_destroy(bb);
    clconv_context_destroy(ctx);
    return rc;
}
