/* blocks — two network blocks end to end on the OpenCL device, batch norm
 * folded into the convolutions, the residual add fused into the last one:
 *
 *   MobileNet v2 inverted residual (stride 1, 32 channels, expansion 6):
 *     expand     [N, 192, 28, 28]  1x1 32->192 + BN + ReLU6
 *     depthwise  [N, 192, 28, 28]  3x3 pad 1, groups 192 + BN + ReLU6
 *     project    [N, 32, 28, 28]   1x1 192->32 + BN, + x   y = conv + x + b (no activation)
 *   ResNet basic block (64 channels):
 *     conv1      [N, 64, 28, 28]   3x3 pad 1 + BN + ReLU
 *     conv2      [N, 64, 28, 28]   3x3 pad 1 + BN, + x, ReLU   y = relu(conv + x + b)
 *
 * Batch norm (eval mode, eps 1e-5) is folded into each convolution's weights
 * and bias with clconv_conv2d_fold_batchnorm (the convolutions themselves have
 * no bias, as in torchvision). The last layer of each block is one plan with
 * has_residual: the residual z is the block input x. MobileNet's project
 * layer reads z from x's own buffer; ResNet's conv2 runs in place: x is first
 * copied into the output buffer (clEnqueueCopyBuffer), then the run has
 * z = y = that buffer.
 *
 * Every plan gets its constant weights once (clconv_conv2d_prepare) and runs
 * with w = NULL. A block's layers are chained on the device: each run waits
 * for the previous layer's event (and its prepare, and the copy), nothing
 * comes back to the host until one clFinish after both blocks. Then every
 * layer's output is read back and checked:
 *   - per layer, against clconv_ref_conv2d_epilogue run on the device's own
 *     input to that layer (so errors do not compound), with the tests' bound
 *     |dev - ref| <= 1e-7 + C sqrt(K) FLT_EPSILON * scale per element, scale
 *     = sum |x*w| + |z| + |b| (the layer without activation on absolute
 *     values), K the reduction length + 1 (+ 1 with the residual), C = 16
 *     for Winograd (its transforms round more), 4 for the other algorithms;
 *   - the fused residual layer, also against the unfused composition on the
 *     CPU: clconv_ref_conv2d without residual and activation (conv + bias),
 *     then + z, then clconv_ref_activation (same bound);
 *   - the block end to end, against the whole block run on the CPU from the
 *     same input: max |dev - ref| <= 1e-3 * (1 + max |ref|).
 *
 * Data: splitmix64 (seed 2026 unless --seed), drawn per block in the order
 * input, then per layer weights, gamma, beta, running mean, running var:
 * inputs uniform in [-1, 1], weights uniform in +-sqrt(6/fan_in), gamma in
 * [0.25, 2.5], beta and mean in [-0.2, 0.2], var in [0.5, 1.5].
 */
#include "clconv.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_NAME "blocks"
#include "example_checks.h"

enum { MAX_BATCH = 64, MAX_LAYERS = 3, NBLOCKS = 2 };

static const double BN_EPS = 1e-5;
static const double ATOL = 1e-7, BLOCK_TOL = 1e-3;

/* ---- deterministic data ---------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static void fill_uniform(uint64_t *s, float *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) {
        double u = (double)(splitmix64(s) >> 11) * 0x1.0p-53; /* [0, 1) */
        a[i] = (float)(lo + (hi - lo) * u);
    }
}

/* ---- the blocks ------------------------------------------------------------------ */

typedef struct layer {
    const char *name;
    clconv_conv2d_params p; /* folded: has_bias, the activation, the residual */
    clconv_shape in, out;
    size_t n_w, n_out;
    float *w, *b; /* folded weights and bias */
    clconv_plan *plan;
    clconv_plan_info info;
    cl_mem d_w, d_b, d_y; /* d_y: the layer's output on the device */
    cl_event ev_prep, ev_run;
    float *dev, *ref; /* the device's output read back; the reference's */
} layer;

typedef struct block {
    const char *name;
    int nl;
    layer l[MAX_LAYERS];
    int in_place; /* last layer: z = y (x copied into y first), else z = x's buffer */
    clconv_shape in;
    size_t n_in;
    float *x;   /* the block input (also the residual) */
    float *cpu; /* the whole block on the CPU: the last layer's output */
    cl_mem d_x;
    cl_event ev_copy;
} block;

/* Sets up layer l: a k x k convolution (padding k/2, stride 1) with the
 * activation, folded batch norm and, with residual, y = act(conv + z + b).
 * Draws the weights and the batch-norm statistics from rng and folds them. */
static clconv_status make_layer(layer *l, const char *name, const clconv_shape *in,
                                int64_t out_c, int64_t k, int64_t groups, clconv_activation act,
                                int residual, uint64_t *rng)
{
    memset(l, 0, sizeof *l);
    l->name = name;
    l->in = *in;
    l->p = clconv_conv2d_default_params(in->c, out_c, k, k);
    l->p.pad_top = l->p.pad_bottom = l->p.pad_left = l->p.pad_right = k / 2;
    l->p.groups = groups;
    l->p.activation = act;
    l->p.has_residual = residual; /* alpha = beta = 1 from the defaults */
    clconv_status st = clconv_conv2d_output_shape(&l->p, in, &l->out);
    if (st)
        return st;
    l->n_w = clconv_shape_elements(clconv_conv2d_weight_shape(&l->p));
    l->n_out = clconv_shape_elements(l->out);
    const size_t oc = (size_t)out_c;
    float *bn = malloc(4 * oc * sizeof(float)); /* gamma, beta, mean, var */
    l->w = malloc(l->n_w * sizeof(float));
    l->b = malloc(oc * sizeof(float));
    l->dev = malloc(l->n_out * sizeof(float));
    l->ref = malloc(l->n_out * sizeof(float));
    if (!bn || !l->w || !l->b || !l->dev || !l->ref) {
        free(bn);
        return CLCONV_ERROR_OUT_OF_HOST_MEMORY;
    }
    double fan_in = (double)(in->c / groups * k * k);
    fill_uniform(rng, l->w, l->n_w, -sqrt(6 / fan_in), sqrt(6 / fan_in));
    fill_uniform(rng, bn, oc, 0.25, 2.5);
    fill_uniform(rng, bn + oc, oc, -0.2, 0.2);
    fill_uniform(rng, bn + 2 * oc, oc, -0.2, 0.2);
    fill_uniform(rng, bn + 3 * oc, oc, 0.5, 1.5);
    /* The convolution has no bias of its own (b = NULL); the folded one has. */
    st = clconv_conv2d_fold_batchnorm(&l->p, l->w, NULL, bn, bn + oc, bn + 2 * oc, bn + 3 * oc,
                                      BN_EPS, l->w, l->b);
    l->p.has_bias = 1;
    free(bn);
    return st;
}

static void free_layer(layer *l)
{
    if (l->ev_prep)
        clReleaseEvent(l->ev_prep);
    if (l->ev_run)
        clReleaseEvent(l->ev_run);
    if (l->d_w)
        clReleaseMemObject(l->d_w);
    if (l->d_b)
        clReleaseMemObject(l->d_b);
    if (l->d_y)
        clReleaseMemObject(l->d_y);
    clconv_plan_destroy(l->plan);
    free(l->w);
    free(l->b);
    free(l->dev);
    free(l->ref);
}

/* The per-element scale of the tests' bound: the layer without its
 * activation on |x|, |w|, |b| and |z|, i.e. sum |x*w| + |z| + |b| per output
 * (alpha = beta = 1). */
static clconv_status abs_scale(const layer *l, const float *x, const float *z, float *scale)
{
    const size_t n_x = clconv_shape_elements(l->in), n_b = (size_t)l->p.out_channels;
    float *ax = malloc(n_x * sizeof(float)), *aw = malloc(l->n_w * sizeof(float));
    float *ab = malloc(n_b * sizeof(float)), *az = z ? malloc(l->n_out * sizeof(float)) : NULL;
    clconv_status st = CLCONV_ERROR_OUT_OF_HOST_MEMORY;
    if (ax && aw && ab && (az || !z)) {
        for (size_t i = 0; i < n_x; i++)
            ax[i] = fabsf(x[i]);
        for (size_t i = 0; i < l->n_w; i++)
            aw[i] = fabsf(l->w[i]);
        for (size_t i = 0; i < n_b; i++)
            ab[i] = fabsf(l->b[i]);
        for (size_t i = 0; z && i < l->n_out; i++)
            az[i] = fabsf(z[i]);
        clconv_conv2d_params p = l->p;
        p.activation = CLCONV_ACTIVATION_NONE;
        st = clconv_ref_conv2d_epilogue(&p, &l->in, ax, aw, ab, az, scale, NULL);
    }
    free(ax);
    free(aw);
    free(ab);
    free(az);
    return st;
}

/* Compares a with ref, prints one line of the report and returns 1 when the
 * check fails. The bound per element: with scale, atol + rtol * scale[i]
 * (the tests' bound); without, rtol * (1 + max |ref|). The line shows the
 * largest error, the element with the largest error / bound ratio (its
 * bound and the ratio; the check passes when that is <= 1). A NaN fails. */
static int check_line(const char *what, const char *shape, const char *how, const float *a,
                      const float *ref, size_t n, const float *scale, double atol, double rtol)
{
    double max_err = 0, max_ref = 0, worst = 0, worst_tol = 0;
    for (size_t i = 0; i < n; i++)
        max_ref = fmax(max_ref, fabs((double)ref[i]));
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        double tol = scale ? atol + rtol * scale[i] : rtol * (1 + max_ref);
        double r = d / tol;
        max_err = d > max_err || d != d ? d : max_err; /* keeps a NaN */
        if (r > worst || r != r || i == 0) {
            worst = r;
            worst_tol = tol;
        }
        if (worst != worst)
            break;
    }
    int ok = worst <= 1;
    printf("  %-34s %-12s %-17s %9.4g %10.3g %10.3g %7.2g  %s\n", what, shape, how, max_ref,
           max_err, worst_tol, worst, ok ? "ok" : "FAILED");
    return !ok;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: blocks [--batch N] [--seed S] [--device SEL] [--help]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\n"
           "Two network blocks on the OpenCL device, batch norm folded into the convolutions\n"
           "(clconv_conv2d_fold_batchnorm) and the residual add fused into the last one\n"
           "(has_residual, clconv_conv_run), 28x28 inputs:\n"
           "  MobileNet v2 inverted residual: 1x1 32->192 + BN + ReLU6, depthwise 3x3 + BN +\n"
           "    ReLU6, 1x1 192->32 + BN + x (z read from the input's buffer);\n"
           "  ResNet basic block: 3x3 64->64 + BN + ReLU, 3x3 64->64 + BN + x, ReLU (in place:\n"
           "    x copied into the output buffer, then z = y).\n"
           "The layers of a block are chained on the device by events; afterwards every layer\n"
           "is checked against clconv_ref_conv2d_epilogue on the device's own input to it, the\n"
           "fused residual layer also against conv, + x, activation computed separately, and\n"
           "each block end to end against the block run on the CPU.\n"
           "\n"
           "  --batch N     images, 1..%d (default 2)\n"
           "  --seed S      data seed (default 2026): splitmix64; inputs in [-1, 1], weights\n"
           "                in +-sqrt(6/fan_in), BN gamma in [0.25, 2.5], beta and mean in\n"
           "                [-0.2, 0.2], var in [0.5, 1.5]\n"
           "  --device SEL  OpenCL device: 'P:D' indices or part of its name\n"
           "\n"
           "A layer passes when every |device - reference| <= 1e-7 + C sqrt(K) FLT_EPSILON *\n"
           "scale, the tests' bound: scale = sum |x*w| + |z| + |b| per output, K the reduction\n"
           "length + 1 (+ 1 with the residual), C = 16 for Winograd, else 4. A block end to\n"
           "end passes within %g * (1 + max |reference|). Exit status: 0 every check passes,\n"
           "1 an error, 2 no OpenCL device, 3 a check out of tolerance, 64 a usage error.\n",
           MAX_BATCH, BLOCK_TOL);
}

int main(int argc, char **argv)
{
    long batch = 2;
    uint64_t seed = 2026;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return 0;
        } else if ((!strcmp(a, "--batch") || !strcmp(a, "--seed") || !strcmp(a, "--device")) &&
                   i + 1 < argc) {
            const char *v = argv[++i];
            int bad = 0;
            if (!strcmp(a, "--device"))
                device = v;
            else if (!strcmp(a, "--batch"))
                bad = example_long(a, v, 1, MAX_BATCH, &batch);
            else
                bad = example_seed(v, &seed);
            if (bad)
                return bad;
        } else {
            example_bad_argument(a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    const int64_t N = batch;

    int rc = EXIT_ERROR;
    clconv_context *ctx = NULL;
    cl_mem d_ws = NULL;
    float *tmp[2] = {NULL, NULL};
    block blk[NBLOCKS];
    memset(blk, 0, sizeof blk);

    /* The blocks and their host data. */
    uint64_t rng = seed;
    {
        block *m = &blk[0], *r = &blk[1];
        m->name = "MobileNet v2 inverted residual, 32 -> 192 -> 32 channels";
        m->nl = 3;
        m->in_place = 0;
        m->in = (clconv_shape){N, 32, 28, 28};
        r->name = "ResNet basic block, 64 channels";
        r->nl = 2;
        r->in_place = 1;
        r->in = (clconv_shape){N, 64, 28, 28};
        for (int bi = 0; bi < NBLOCKS; bi++) {
            block *k = &blk[bi];
            k->n_in = clconv_shape_elements(k->in);
            if (!(k->x = malloc(k->n_in * sizeof(float))) ||
                !(k->cpu = malloc(k->n_in * sizeof(float)))) {
                rc = report("out of memory");
                goto cleanup;
            }
            fill_uniform(&rng, k->x, k->n_in, -1, 1);
            clconv_status st = CLCONV_SUCCESS;
            if (bi == 0) {
                const int64_t hid = 32 * 6;
                st = make_layer(&m->l[0], "expand 1x1 +bn +relu6", &m->in, hid, 1, 1,
                                CLCONV_ACTIVATION_RELU6, 0, &rng);
                if (!st)
                    st = make_layer(&m->l[1], "depthwise 3x3 +bn +relu6", &m->l[0].out, hid, 3,
                                    hid, CLCONV_ACTIVATION_RELU6, 0, &rng);
                if (!st)
                    st = make_layer(&m->l[2], "project 1x1 +bn +x", &m->l[1].out, 32, 1, 1,
                                    CLCONV_ACTIVATION_NONE, 1, &rng);
            } else {
                st = make_layer(&r->l[0], "conv1 3x3 +bn +relu", &r->in, 64, 3, 1,
                                CLCONV_ACTIVATION_RELU, 0, &rng);
                if (!st)
                    st = make_layer(&r->l[1], "conv2 3x3 +bn +x +relu (in place)", &r->l[0].out,
                                    64, 3, 1, CLCONV_ACTIVATION_RELU, 1, &rng);
            }
            if (st) {
                rc = report("setting up the %s: %s: %s", k->name, clconv_status_string(st),
                            clconv_last_error(NULL));
                goto cleanup;
            }
            const clconv_shape o = k->l[k->nl - 1].out;
            if (o.n != k->in.n || o.c != k->in.c || o.h != k->in.h || o.w != k->in.w) {
                rc = report("the %s does not keep its input's shape", k->name);
                goto cleanup;
            }
        }
    }

    /* Device, plans, weights. */
    clconv_status st = clconv_context_create_for(device, &ctx);
    if (st) {
        fprintf(stderr, "blocks: %s: %s\n", clconv_status_string(st), clconv_last_error(NULL));
        rc = st == CLCONV_ERROR_NO_DEVICE ? EXIT_NO_DEVICE : EXIT_ERROR;
        goto cleanup;
    }
    cl_context clctx = clconv_context_cl_context(ctx);
    cl_command_queue q = clconv_context_queue(ctx);
    printf("blocks: batch %lld, 28x28, batch norm folded (eps %g), on %s (seed %llu)\n",
           (long long)N, BN_EPS, clconv_context_device_name(ctx), (unsigned long long)seed);

    cl_int err;
    size_t ws_bytes = 0;
    for (int bi = 0; bi < NBLOCKS; bi++) {
        block *k = &blk[bi];
        k->d_x = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                k->n_in * sizeof(float), k->x, &err);
        CL_CHECK(err);
        for (int i = 0; i < k->nl; i++) {
            layer *l = &k->l[i];
            CV_CHECK(clconv_conv2d_plan_create(ctx, &l->p, &l->in, NULL, &l->plan));
            CV_CHECK(clconv_plan_get_info(l->plan, &l->info));
            if (l->info.workspace_bytes > ws_bytes)
                ws_bytes = l->info.workspace_bytes;
            l->d_w = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                    l->n_w * sizeof(float), l->w, &err);
            CL_CHECK(err);
            l->d_b = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                    (size_t)l->p.out_channels * sizeof(float), l->b, &err);
            CL_CHECK(err);
            l->d_y = clCreateBuffer(clctx, CL_MEM_READ_WRITE, l->n_out * sizeof(float), NULL,
                                    &err);
            CL_CHECK(err);
            /* Constant weights: packed / copied into the plan once. */
            CV_CHECK(clconv_conv2d_prepare(l->plan, l->d_w, 0, NULL, &l->ev_prep));
        }
    }
    if (ws_bytes) {
        d_ws = clCreateBuffer(clctx, CL_MEM_READ_WRITE, ws_bytes, NULL, &err);
        CL_CHECK(err);
    }

    /* Both blocks on the device. Within a block each layer waits for its
     * prepare and the previous layer (and the copy of x for an in-place
     * residual); the blocks share only the workspace, so block 2's first
     * layer also waits for block 1's last. */
    cl_event prev = NULL;
    for (int bi = 0; bi < NBLOCKS; bi++) {
        block *k = &blk[bi];
        for (int i = 0; i < k->nl; i++) {
            layer *l = &k->l[i];
            int last = i == k->nl - 1;
            cl_event wait[3];
            cl_uint nw = 0;
            wait[nw++] = l->ev_prep;
            if (prev)
                wait[nw++] = prev;
            clconv_conv_buffers buf = {.x = i ? k->l[i - 1].d_y : k->d_x, .w = NULL,
                                       .b = l->d_b, .y = l->d_y, .workspace = d_ws};
            if (last && l->p.has_residual) {
                if (k->in_place) {
                    CL_CHECK(clEnqueueCopyBuffer(q, k->d_x, l->d_y, 0, 0,
                                                 k->n_in * sizeof(float), 0, NULL, &k->ev_copy));
                    wait[nw++] = k->ev_copy;
                    buf.z = l->d_y;
                } else {
                    buf.z = k->d_x;
                }
            }
            CV_CHECK(clconv_conv_run(l->plan, &buf, nw, wait, &l->ev_run));
            prev = l->ev_run;
        }
    }
    CL_CHECK(clFinish(q));
    for (int bi = 0; bi < NBLOCKS; bi++)
        for (int i = 0; i < blk[bi].nl; i++) {
            layer *l = &blk[bi].l[i];
            CL_CHECK(clEnqueueReadBuffer(q, l->d_y, CL_TRUE, 0, l->n_out * sizeof(float), l->dev,
                                         0, NULL, NULL));
        }

    /* The checks. */
    size_t n_max = 0;
    for (int bi = 0; bi < NBLOCKS; bi++)
        for (int i = 0; i < blk[bi].nl; i++)
            if (blk[bi].l[i].n_out > n_max)
                n_max = blk[bi].l[i].n_out;
    for (int t = 0; t < 2; t++)
        if (!(tmp[t] = malloc(n_max * sizeof(float)))) {
            rc = report("out of memory");
            goto cleanup;
        }
    printf("  %-34s %-12s %-17s %9s %10s %10s %7s\n", "check", "output", "algorithm",
           "max |ref|", "max error", "bound", "ratio");
    int failed = 0;
    for (int bi = 0; bi < NBLOCKS; bi++) {
        block *k = &blk[bi];
        layer *l = NULL;
        double rtol = 0;
        printf("block %d: %s\n", bi + 1, k->name);
        for (int i = 0; i < k->nl; i++) {
            l = &k->l[i];
            /* The reference on the device's own input to this layer, and the
             * tests' bound: 1e-7 + C sqrt(K) FLT_EPSILON * scale with K the
             * reduction length + 1 (+ 1 for the residual), C = 4 for the
             * direct kernels and GEMM, 16 for Winograd's transforms. */
            const float *in = i ? k->l[i - 1].dev : k->x;
            const float *z = l->p.has_residual ? k->x : NULL;
            REF_CHECK(clconv_ref_conv2d_epilogue(&l->p, &l->in, in, l->w, l->b, z, l->ref, NULL));
            REF_CHECK(abs_scale(l, in, z, tmp[0]));
            double kk = (double)(l->in.c / l->p.groups * l->p.kernel_h * l->p.kernel_w) + 1 +
                        (z != NULL);
            rtol = (l->info.algorithm == CLCONV_ALGO_WINOGRAD ? 16.0 : 4.0) * sqrt(kk) *
                   FLT_EPSILON;
            char shape[48];
            snprintf(shape, sizeof shape, "%lldx%lldx%lldx%lld", (long long)l->out.n,
                     (long long)l->out.c, (long long)l->out.h, (long long)l->out.w);
            failed += check_line(l->name, shape, clconv_algorithm_name(l->info.algorithm),
                                 l->dev, l->ref, l->n_out, tmp[0], ATOL, rtol);
        }

        /* The fused residual layer against conv + bias, then + z, then the
         * activation, each step on the CPU (the same bound: the extra
         * rounding of conv + bias is within it). tmp[0] still holds the
         * last layer's scale. */
        clconv_conv2d_params plain = l->p;
        plain.has_residual = 0;
        plain.activation = CLCONV_ACTIVATION_NONE;
        REF_CHECK(clconv_ref_conv2d(&plain, &l->in, k->l[k->nl - 2].dev, l->w, l->b, tmp[1]));
        for (size_t j = 0; j < l->n_out; j++)
            tmp[1][j] = (float)((double)tmp[1][j] + k->x[j]);
        REF_CHECK(clconv_ref_activation(l->p.activation, l->p.activation_params, l->n_out,
                                        tmp[1], tmp[1]));
        char what[64];
        snprintf(what, sizeof what, "%s = conv+b, +x, %s", bi ? "conv2" : "project",
                 clconv_activation_name(l->p.activation));
        failed += check_line(what, "", "unfused ref", l->dev, tmp[1], l->n_out, tmp[0], ATOL,
                             rtol);

        /* The whole block on the CPU from the same input. */
        const float *in = k->x;
        for (int i = 0; i < k->nl; i++) {
            layer *c = &k->l[i];
            float *out = i == k->nl - 1 ? k->cpu : tmp[i % 2];
            REF_CHECK(clconv_ref_conv2d_epilogue(&c->p, &c->in, in, c->w, c->b,
                                                 c->p.has_residual ? k->x : NULL, out, NULL));
            in = out;
        }
        failed += check_line("block end to end", "", "CPU block", l->dev, k->cpu, l->n_out,
                             NULL, 0, BLOCK_TOL);
    }
    printf("every check within its bound: %s\n", failed ? "NO" : "yes");
    rc = failed ? EXIT_MISMATCH : 0;

cleanup:
    for (int bi = 0; bi < NBLOCKS; bi++) {
        block *k = &blk[bi];
        for (int i = 0; i < k->nl; i++)
            free_layer(&k->l[i]);
        if (k->ev_copy)
            clReleaseEvent(k->ev_copy);
        if (k->d_x)
            clReleaseMemObject(k->d_x);
        free(k->x);
        free(k->cpu);
    }
    free(tmp[0]);
    free(tmp[1]);
    if (d_ws)
        clReleaseMemObject(d_ws);
    if (ctx)
        clconv_context_destroy(ctx);
    return rc;
}
