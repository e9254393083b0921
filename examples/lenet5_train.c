/* lenet5_train — training steps of a LeNet-5 on the OpenCL device, each step
 * repeated by the CPU reference path and compared.
 *
 * Data: a synthetic set of 4 classes of 28x28 images made in the program
 * (splitmix64, seed 2026 unless --seed): 0 two horizontal bars, 1 two vertical
 * bars, 2 a diagonal stroke, 3 a square outline, each at a random place and
 * size, plus uniform noise in [-0.2, 0.2]. 2 x --batch training images (half
 * a batch of each class per batch, shuffled); step s trains on batch s % 2.
 *
 * The network (LeNet-5 with its average-pooling "subsampling" first and a
 * max pool second, so both pooling gradients take part):
 *
 *   forward                                    backward
 *   conv1  1->6 5x5 pad 2 + bias + ReLU         relu_backward, conv2d_backward_weights / _bias
 *   pool1  avg 2x2                              pool2d_backward (avg)
 *   conv2  6->16 5x5 + bias + ReLU              relu_backward, conv2d_backward_data / _weights / _bias
 *   pool2  max 2x2, indices kept                pool2d_backward (max, through the indices)
 *   fc1    400->120 + ReLU                      CLBlastSgemm x2 + column sums, relu_backward
 *   fc2    120->84 + ReLU                       CLBlastSgemm x2 + column sums, relu_backward
 *   fc3    84->4 (logits)                       CLBlastSgemm x2 + column sums
 *   loss   softmax cross-entropy, batch mean    one kernel: loss per image and dlogits
 *   update plain SGD, w -= lr * dw              one kernel per parameter tensor
 *
 * Convolutions and pooling run through clconv plans, the fully connected
 * layers as CLBlastSgemm on the clconv queue (row-major: y = x W^T,
 * dW = dy^T x, dx = dy W), plus four small kernels of this file (bias + ReLU,
 * softmax cross-entropy, column sums, SGD). Everything stays on the device;
 * each clconv and kernel command waits on the previous command's event, and
 * a barrier on it precedes each CLBlast call (which takes no wait list). The
 * host reads back the per-image losses after each step, and for the check the
 * weights before and after it.
 *
 * The check: the reference path (clconv_ref_conv2d, clconv_ref_pool2d, the
 * clconv_ref_*_backward functions, double-precision loops for the fully
 * connected layers, the loss and the update) repeats every step from the
 * device's weights before it, and the step passes when the losses agree
 * within 1e-4 * max(1, loss) and every updated parameter tensor is within
 * 1e-3 * (its largest update) + 1e-6 * max(1, its largest weight) of the
 * reference's. At the end (with 20 steps or more) the loss must have fallen:
 * the mean loss of the last two steps below half that of the first two.
 *
 * Exit status: 0 success, 1 an error, 2 no device, 3 a step out of tolerance
 * or a loss that did not fall, 64 a usage error.
 */
#include "clconv.h"

#include <clblast_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_NAME "lenet5_train"
#include "example_checks.h"

enum { IMG = 28, NCLASS = 4, MAX_BATCH = 256, MAX_STEPS = 10000 };

static const char *KERNEL_SOURCE =
    "__kernel void bias_act(__global float *y, __global const float *b, int n_out, int relu)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    float v = y[i] + b[i % (size_t)n_out];\n"
    "    y[i] = relu ? fmax(v, 0.0f) : v;\n"
    "}\n"
    "/* Per image r: p = softmax(z), loss[r] = -log p[label], dz = (p - onehot) / batch. */\n"
    "__kernel void softmax_xent(__global const float *z, __global const int *label,\n"
    "                           __global float *loss, __global float *dz, int n, float inv_batch)\n"
    "{\n"
    "    size_t r = get_global_id(0);\n"
    "    __global const float *zr = z + r * (size_t)n;\n"
    "    float m = zr[0];\n"
    "    for (int j = 1; j < n; j++) m = fmax(m, zr[j]);\n"
    "    float s = 0.0f;\n"
    "    for (int j = 0; j < n; j++) s += exp(zr[j] - m);\n"
    "    loss[r] = log(s) - (zr[label[r]] - m);\n"
    "    for (int j = 0; j < n; j++)\n"
    "        dz[r * (size_t)n + j] = (exp(zr[j] - m) / s - (j == label[r] ? 1.0f : 0.0f)) * inv_batch;\n"
    "}\n"
    "/* db[j] = sum over rows of dz[r][j], rows in order (the bias gradient). */\n"
    "__kernel void col_sum(__global const float *dz, __global float *db, int rows, int cols)\n"
    "{\n"
    "    size_t j = get_global_id(0);\n"
    "    float s = 0.0f;\n"
    "    for (int r = 0; r < rows; r++) s += dz[(size_t)r * cols + j];\n"
    "    db[j] = s;\n"
    "}\n"
    "__kernel void sgd(__global float *w, __global const float *g, float lr)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    w[i] -= lr * g[i];\n"
    "}\n";

/* ---- deterministic data ------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) /* [0, 1) */
{
    return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

static int randint(uint64_t *s, int lo, int hi) /* [lo, hi] */
{
    return lo + (int)(uniform(s) * (hi - lo + 1));
}

static void fill_uniform(uint64_t *s, float *a, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)((2 * uniform(s) - 1) * bound);
}

/* One image of class c: the pattern at 1 on a 0 background, plus noise. */
static void draw(float *img, int c, uint64_t *s)
{
    memset(img, 0, IMG * IMG * sizeof *img);
    int a = randint(s, 3, 11), b = randint(s, 15, 23), t = randint(s, 2, 3);
    int d = randint(s, -6, 6), x0 = randint(s, 3, 10), y0 = randint(s, 3, 10);
    int side = randint(s, 8, 14);
    for (int y = 0; y < IMG; y++)
        for (int x = 0; x < IMG; x++) {
            int on = 0;
            if (c == 0)
                on = (y >= a && y < a + t) || (y >= b && y < b + t);
            else if (c == 1)
                on = (x >= a && x < a + t) || (x >= b && x < b + t);
            else if (c == 2)
                on = abs(x - y - d) <= 1 && x >= 3 && x < IMG - 3;
            else
                on = x >= x0 && x <= x0 + side && y >= y0 && y <= y0 + side &&
                     (x < x0 + 2 || x > x0 + side - 2 || y < y0 + 2 || y > y0 + side - 2);
            img[y * IMG + x] = (float)on + (float)(0.4 * uniform(s) - 0.2);
        }
}

/* ---- the network's tensors ----------------------------------------------------- */

/* Parameters (and their gradients): weights then bias of conv1, conv2, fc1, fc2, fc3. */
enum { P_W1, P_B1, P_W2, P_B2, P_W3, P_B3, P_W4, P_B4, P_W5, P_B5, NPARAMS };
static const char *const PARAM_NAMES[NPARAMS] = {"conv1.w", "conv1.b", "conv2.w", "conv2.b",
                                                 "fc1.w",   "fc1.b",   "fc2.w",   "fc2.b",
                                                 "fc3.w",   "fc3.b"};
/* Activations and their gradients. */
enum { A_C1, A_P1, A_C2, A_P2, A_F1, A_F2, A_F3, NACTS };
static const int FC_IN[3] = {400, 120, 84}, FC_OUT[3] = {120, 84, NCLASS};

/* The reference path's fully connected pieces, in double. */
static void ref_fc(const float *x, const float *w, const float *b, float *y, int n, int in,
                   int out, int relu)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int k = 0; k < in; k++)
                s += (double)w[(size_t)o * in + k] * x[(size_t)i * in + k];
            y[(size_t)i * out + o] = (float)(relu && s < 0 ? 0 : s);
        }
}

/* dw = dy^T x, db = column sums of dy, dx = dy w (dx may be NULL). */
static void ref_fc_backward(const float *x, const float *w, const float *dy, float *dw,
                            float *db, float *dx, int n, int in, int out)
{
    for (int o = 0; o < out; o++) {
        double sb = 0;
        for (int i = 0; i < n; i++)
            sb += dy[(size_t)i * out + o];
        db[o] = (float)sb;
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += (double)dy[(size_t)i * out + o] * x[(size_t)i * in + k];
            dw[(size_t)o * in + k] = (float)s;
        }
    }
    if (dx)
        for (int i = 0; i < n; i++)
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int o = 0; o < out; o++)
                    s += (double)dy[(size_t)i * out + o] * w[(size_t)o * in + k];
                dx[(size_t)i * in + k] = (float)s;
            }
}

/* Mean cross-entropy of softmax(z) against labels; dz = (p - onehot) / n. */
static double ref_xent(const float *z, const int *label, float *dz, int n, int c)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        const float *zr = z + (size_t)i * c;
        double m = zr[0], s = 0;
        for (int j = 1; j < c; j++)
            m = fmax(m, zr[j]);
        for (int j = 0; j < c; j++)
            s += exp(zr[j] - m);
        total += log(s) - (zr[label[i]] - m);
        for (int j = 0; j < c; j++)
            dz[(size_t)i * c + j] = (float)((exp(zr[j] - m) / s - (j == label[i])) / n);
    }
    return total / n;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lenet5_train [--steps N] [--batch N] [--lr X] [--seed S] [--device SEL] "
               "[--help]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\n"
           "Trains a LeNet-5 (conv 1->6 5x5 pad 2 + ReLU, avg pool 2x2, conv 6->16 5x5 + ReLU,\n"
           "max pool 2x2, fully connected 400->120->84->4) with softmax cross-entropy and plain\n"
           "SGD on the OpenCL device, on a synthetic set of 4 classes of 28x28 patterns (bars\n"
           "across, bars down, a diagonal, a square outline; noise added). Forward and backward\n"
           "passes run through clconv plans and CLBlastSgemm; the CPU reference path repeats\n"
           "every step from the same weights and the two must agree.\n"
           "\n"
           "  --steps N     SGD steps, 1..%d (default 40)\n"
           "  --batch N     images per step, 2..%d, even (default 32); 2 batches in the set\n"
           "  --lr X        learning rate (default 0.05)\n"
           "  --seed S      data and weight seed (default 2026): splitmix64, weights uniform\n"
           "                in +-sqrt(6/fan_in), biases 0\n"
           "  --device SEL  OpenCL device: 'P:D' indices or part of its name\n"
           "\n"
           "A step passes when |loss - reference| <= 1e-4 * max(1, loss) and every updated\n"
           "parameter tensor is within 1e-3 * max |update| + 1e-6 * max(1, max |w|) of the\n"
           "reference's. Exit status: 0 every step passes and (20 steps or more) the loss\n"
           "fell below half its start, 1 an error, 2 no OpenCL device, 3 a step out of\n"
           "tolerance or a loss that did not fall, 64 a usage error.\n",
           MAX_STEPS, MAX_BATCH);
}

int main(int argc, char **argv)
{
    long steps = 40, batch = 32;
    double lr = 0.05;
    uint64_t seed = 2026;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return 0;
        } else if ((!strcmp(a, "--steps") || !strcmp(a, "--batch") || !strcmp(a, "--lr") ||
                    !strcmp(a, "--seed") || !strcmp(a, "--device")) &&
                   i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--device")) {
                device = v;
            } else if (!strcmp(a, "--steps")) {
                if (example_long(a, v, 1, MAX_STEPS, &steps))
                    return EXIT_USAGE;
            } else if (!strcmp(a, "--batch")) {
                batch = strtol(v, &end, 10);
                if (*end || end == v || batch < 2 || batch > MAX_BATCH || batch % 2) {
                    fprintf(stderr, "lenet5_train: --batch must be an even number 2..%d, not "
                                    "'%s'\n", MAX_BATCH, v);
                    return EXIT_USAGE;
                }
            } else if (!strcmp(a, "--lr")) {
                lr = strtod(v, &end);
                if (*end || end == v || !(lr > 0 && lr < 100)) {
                    fprintf(stderr, "lenet5_train: --lr must be a number in (0, 100), not "
                                    "'%s'\n", v);
                    return EXIT_USAGE;
                }
            } else if (example_seed(v, &seed)) {
                return EXIT_USAGE;
            }
        } else {
            example_bad_argument(a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    const int N = (int)batch, NSET = 2 * N;

    /* Layers and shapes. */
    clconv_conv2d_params c1 = clconv_conv2d_default_params(1, 6, 5, 5);
    c1.pad_top = c1.pad_bottom = c1.pad_left = c1.pad_right = 2;
    c1.has_bias = 1;
    c1.activation = CLCONV_ACTIVATION_RELU;
    clconv_conv2d_params c2 = clconv_conv2d_default_params(6, 16, 5, 5);
    c2.has_bias = 1;
    c2.activation = CLCONV_ACTIVATION_RELU;
    clconv_pool2d_params ap = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    clconv_pool2d_params mp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_shape s_in = {N, 1, IMG, IMG}, s[NACTS];
    if (clconv_conv2d_output_shape(&c1, &s_in, &s[A_C1]) ||
        clconv_pool2d_output_shape(&ap, &s[A_C1], &s[A_P1]) ||
        clconv_conv2d_output_shape(&c2, &s[A_P1], &s[A_C2]) ||
        clconv_pool2d_output_shape(&mp, &s[A_C2], &s[A_P2]))
        return report("shapes: %s", clconv_last_error(NULL));
    if (s[A_P2].c * s[A_P2].h * s[A_P2].w != FC_IN[0])
        return report("pool2 gives %lld features, fc1 expects %d",
                      (long long)(s[A_P2].c * s[A_P2].h * s[A_P2].w), FC_IN[0]);
    for (int f = 0; f < 3; f++)
        s[A_F1 + f] = (clconv_shape){N, FC_OUT[f], 1, 1};
    size_t n_act[NACTS];
    for (int a = 0; a < NACTS; a++)
        n_act[a] = clconv_shape_elements(s[a]);
    const size_t n_par[NPARAMS] = {6 * 25, 6, 16 * 6 * 25, 16, 120 * 400, 120,
                                   84 * 120, 84, NCLASS * 84, NCLASS};
    const double fan_in[5] = {25, 150, 400, 120, 84};
    const size_t n_in = clconv_shape_elements(s_in), n_img = IMG * IMG;

    int rc = EXIT_ERROR;
    clconv_context *ctx = NULL;
    enum { PL_C1, PL_P1, PL_C2, PL_P2, PL_R1, PL_W1, PL_B1, PL_PB1, PL_R2, PL_D2, PL_W2, PL_B2,
           PL_PB2, PL_RF1, PL_RF2, NPLANS };
    clconv_plan *plan[NPLANS] = {NULL};
    cl_program prog = NULL;
    cl_kernel k_bias = NULL, k_xent = NULL, k_colsum = NULL, k_sgd = NULL;
    cl_mem d_x[2] = {NULL}, d_lab[2] = {NULL}, d_act[NACTS] = {NULL}, d_grad[NACTS] = {NULL};
    cl_mem d_par[NPARAMS] = {NULL}, d_g[NPARAMS] = {NULL}, d_idx = NULL, d_ws = NULL,
           d_loss = NULL, d_dp1 = NULL;
    cl_event prev = NULL;
    float *h_x = NULL, *h_par[NPARAMS] = {NULL}, *h_dev[NPARAMS] = {NULL}, *h_loss = NULL;
    float *r_act[NACTS] = {NULL}, *r_grad[NACTS] = {NULL}, *r_g[NPARAMS] = {NULL};
    float *r_dp1 = NULL;
    int64_t *r_idx = NULL;
    int *h_lab = NULL;
    double *loss_dev = NULL;

    /* The data set: NSET images, N / 2 per class in each batch, shuffled. */
    uint64_t rng = seed;
    h_x = malloc((size_t)NSET * n_img * sizeof *h_x);
    h_lab = malloc((size_t)NSET * sizeof *h_lab);
    h_loss = malloc((size_t)N * sizeof *h_loss);
    loss_dev = calloc((size_t)steps, sizeof *loss_dev);
    if (!h_x || !h_lab || !h_loss || !loss_dev) {
        rc = report("out of memory");
        goto cleanup;
    }
    for (int i = 0; i < NSET; i++)
        h_lab[i] = i % NCLASS;
    for (int b = 0; b < 2; b++)
        for (int i = N - 1; i > 0; i--) {
            int j = randint(&rng, 0, i), t = h_lab[b * N + i];
            h_lab[b * N + i] = h_lab[b * N + j];
            h_lab[b * N + j] = t;
        }
    for (int i = 0; i < NSET; i++)
        draw(h_x + (size_t)i * n_img, h_lab[i], &rng);
    for (int p = 0; p < NPARAMS; p++) {
        if (!(h_par[p] = calloc(n_par[p], sizeof(float))) ||
            !(h_dev[p] = malloc(n_par[p] * sizeof(float))) ||
            !(r_g[p] = malloc(n_par[p] * sizeof(float)))) {
            rc = report("out of memory");
            goto cleanup;
        }
        if (p % 2 == 0)
            fill_uniform(&rng, h_par[p], n_par[p], sqrt(6.0 / fan_in[p / 2]));
    }
    for (int a = 0; a < NACTS; a++)
        if (!(r_act[a] = malloc(n_act[a] * sizeof(float))) ||
            !(r_grad[a] = malloc(n_act[a] * sizeof(float)))) {
            rc = report("out of memory");
            goto cleanup;
        }
    if (!(r_idx = malloc(n_act[A_P2] * sizeof *r_idx)) ||
        !(r_dp1 = malloc(n_act[A_P1] * sizeof *r_dp1))) {
        rc = report("out of memory");
        goto cleanup;
    }

    /* Device, plans, buffers, kernels. */
    clconv_status st = clconv_context_create_for(device, &ctx);
    if (st) {
        fprintf(stderr, "lenet5_train: %s: %s\n", clconv_status_string(st),
                clconv_last_error(NULL));
        rc = st == CLCONV_ERROR_NO_DEVICE ? EXIT_NO_DEVICE : EXIT_ERROR;
        goto cleanup;
    }
    cl_context clctx = clconv_context_cl_context(ctx);
    cl_command_queue q = clconv_context_queue(ctx);
    cl_device_id dev = clconv_context_device(ctx);
    printf("LeNet-5 training, batch %d of a %d-image synthetic set (4 classes), lr %g, on %s "
           "(seed %llu)\n", N, NSET, lr, clconv_context_device_name(ctx),
           (unsigned long long)seed);

    CV_CHECK(clconv_conv2d_plan_create(ctx, &c1, &s_in, NULL, &plan[PL_C1]));
    CV_CHECK(clconv_pool2d_plan_create(ctx, &ap, &s[A_C1], NULL, &plan[PL_P1]));
    CV_CHECK(clconv_conv2d_plan_create(ctx, &c2, &s[A_P1], NULL, &plan[PL_C2]));
    CV_CHECK(clconv_pool2d_plan_create(ctx, &mp, &s[A_C2], NULL, &plan[PL_P2]));
    CV_CHECK(clconv_relu_backward_plan_create(ctx, &s[A_C1], &plan[PL_R1]));
    CV_CHECK(clconv_conv2d_backward_weights_plan_create(ctx, &c1, &s_in, NULL, &plan[PL_W1]));
    CV_CHECK(clconv_conv2d_backward_bias_plan_create(ctx, &c1, &s_in, NULL, &plan[PL_B1]));
    CV_CHECK(clconv_pool2d_backward_plan_create(ctx, &ap, &s[A_C1], NULL, &plan[PL_PB1]));
    CV_CHECK(clconv_relu_backward_plan_create(ctx, &s[A_C2], &plan[PL_R2]));
    CV_CHECK(clconv_conv2d_backward_data_plan_create(ctx, &c2, &s[A_P1], NULL, &plan[PL_D2]));
    CV_CHECK(clconv_conv2d_backward_weights_plan_create(ctx, &c2, &s[A_P1], NULL, &plan[PL_W2]));
    CV_CHECK(clconv_conv2d_backward_bias_plan_create(ctx, &c2, &s[A_P1], NULL, &plan[PL_B2]));
    CV_CHECK(clconv_pool2d_backward_plan_create(ctx, &mp, &s[A_C2], NULL, &plan[PL_PB2]));
    CV_CHECK(clconv_relu_backward_plan_create(ctx, &s[A_F1], &plan[PL_RF1]));
    CV_CHECK(clconv_relu_backward_plan_create(ctx, &s[A_F2], &plan[PL_RF2]));
    size_t ws_bytes = 0;
    for (int i = 0; i < NPLANS; i++) {
        clconv_plan_info info;
        CV_CHECK(clconv_plan_get_info(plan[i], &info));
        if (info.workspace_bytes > ws_bytes)
            ws_bytes = info.workspace_bytes;
    }

    cl_int err;
    for (int b = 0; b < 2; b++) {
        d_x[b] = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                n_in * sizeof(float), h_x + (size_t)b * n_in, &err);
        CL_CHECK(err);
        d_lab[b] = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                  (size_t)N * sizeof(int), h_lab + b * N, &err);
        CL_CHECK(err);
    }
    for (int p = 0; p < NPARAMS; p++) {
        d_par[p] = clCreateBuffer(clctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                  n_par[p] * sizeof(float), h_par[p], &err);
        CL_CHECK(err);
        d_g[p] = clCreateBuffer(clctx, CL_MEM_READ_WRITE, n_par[p] * sizeof(float), NULL, &err);
        CL_CHECK(err);
    }
    for (int a = 0; a < NACTS; a++) {
        d_act[a] = clCreateBuffer(clctx, CL_MEM_READ_WRITE, n_act[a] * sizeof(float), NULL, &err);
        CL_CHECK(err);
        d_grad[a] = clCreateBuffer(clctx, CL_MEM_READ_WRITE, n_act[a] * sizeof(float), NULL, &err);
        CL_CHECK(err);
    }
    d_dp1 = clCreateBuffer(clctx, CL_MEM_READ_WRITE, n_act[A_P1] * sizeof(float), NULL, &err);
    CL_CHECK(err);
    d_idx = clCreateBuffer(clctx, CL_MEM_READ_WRITE, n_act[A_P2] * sizeof(cl_long), NULL, &err);
    CL_CHECK(err);
    d_loss = clCreateBuffer(clctx, CL_MEM_READ_WRITE, (size_t)N * sizeof(float), NULL, &err);
    CL_CHECK(err);
    if (ws_bytes) {
        d_ws = clCreateBuffer(clctx, CL_MEM_READ_WRITE, ws_bytes, NULL, &err);
        CL_CHECK(err);
    }
    prog = clCreateProgramWithSource(clctx, 1, &KERNEL_SOURCE, NULL, &err);
    CL_CHECK(err);
    err = clBuildProgram(prog, 1, &dev, "", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[4096] = "";
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        rc = report("clBuildProgram failed with OpenCL error %d:\n%s", err, log);
        goto cleanup;
    }
    k_bias = clCreateKernel(prog, "bias_act", &err);
    CL_CHECK(err);
    k_xent = clCreateKernel(prog, "softmax_xent", &err);
    CL_CHECK(err);
    k_colsum = clCreateKernel(prog, "col_sum", &err);
    CL_CHECK(err);
    k_sgd = clCreateKernel(prog, "sgd", &err);
    CL_CHECK(err);

/* The event chain: each command waits for the previous one (W), and NEXT
 * makes its completion the new "previous". */
#define W (prev ? 1u : 0u), (prev ? &prev : NULL)
#define NEXT(ev)                                                                              \
    do {                                                                                      \
        if (prev)                                                                             \
            clReleaseEvent(prev);                                                             \
        prev = (ev);                                                                          \
    } while (0)
#define KERNEL(k, gsz)                                                                        \
    do {                                                                                      \
        size_t g_ = (gsz);                                                                    \
        cl_event ev_ = NULL;                                                                  \
        CL_CHECK(clEnqueueNDRangeKernel(q, (k), 1, NULL, &g_, NULL, W, &ev_));                \
        NEXT(ev_);                                                                            \
    } while (0)
#define CLCONV(call)                                                                          \
    do {                                                                                      \
        cl_event e_ = NULL;                                                                   \
        CV_CHECK(call);                                                                       \
        NEXT(e_);                                                                             \
    } while (0)
/* CLBlast takes no wait list: a barrier on the previous event goes first. */
#define GEMM(ta, tb, m, n, k, A, lda, B, ldb, C, ldc)                                         \
    do {                                                                                      \
        cl_event ev_ = NULL;                                                                  \
        if (prev)                                                                             \
            CL_CHECK(clEnqueueBarrierWithWaitList(q, 1, &prev, NULL));                        \
        BLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, (size_t)(m), (size_t)(n),    \
                                 (size_t)(k), 1.0f, A, 0, (size_t)(lda), B, 0, (size_t)(ldb), \
                                 0.0f, C, 0, (size_t)(ldc), &q, &ev_));                       \
        NEXT(ev_);                                                                             \
    } while (0)
#define ARG(k, i, v) CL_CHECK(clSetKernelArg((k), (i), sizeof(v), &(v)))

    printf("%5s %12s %12s %10s  %s\n", "step", "loss", "reference", "|diff|",
           "worst parameter: error / bound");
    const CLBlastTranspose NT = CLBlastTransposeNo, TR = CLBlastTransposeYes;
    int failed = 0;
    for (long step = 0; step < steps; step++) {
        const int b = (int)(step % 2);
        /* The weights before the step, for the reference. */
        for (int p = 0; p < NPARAMS; p++)
            CL_CHECK(clEnqueueReadBuffer(q, d_par[p], CL_TRUE, 0, n_par[p] * sizeof(float),
                                         h_par[p], 0, NULL, NULL));

        /* ---- device: forward ---- */
        CLCONV(clconv_conv2d_run(plan[PL_C1], d_x[b], d_par[P_W1], d_par[P_B1], d_act[A_C1],
                                 d_ws, W, &e_));
        CLCONV(clconv_pool2d_run(plan[PL_P1], d_act[A_C1], d_act[A_P1], NULL, W, &e_));
        CLCONV(clconv_conv2d_run(plan[PL_C2], d_act[A_P1], d_par[P_W2], d_par[P_B2],
                                 d_act[A_C2], d_ws, W, &e_));
        CLCONV(clconv_pool2d_run(plan[PL_P2], d_act[A_C2], d_act[A_P2], d_idx, W, &e_));
        for (int f = 0; f < 3; f++) {
            cl_mem x = d_act[A_P2 + f], y = d_act[A_F1 + f];
            GEMM(NT, TR, N, FC_OUT[f], FC_IN[f], x, FC_IN[f], d_par[P_W3 + 2 * f], FC_IN[f], y,
                 FC_OUT[f]);
            cl_int n_out = FC_OUT[f], relu = f < 2;
            ARG(k_bias, 0, y);
            ARG(k_bias, 1, d_par[P_B3 + 2 * f]);
            ARG(k_bias, 2, n_out);
            ARG(k_bias, 3, relu);
            KERNEL(k_bias, (size_t)N * FC_OUT[f]);
        }
        /* ---- loss and its gradient ---- */
        cl_int nc = NCLASS;
        cl_float inv = 1.0f / (float)N;
        ARG(k_xent, 0, d_act[A_F3]);
        ARG(k_xent, 1, d_lab[b]);
        ARG(k_xent, 2, d_loss);
        ARG(k_xent, 3, d_grad[A_F3]);
        ARG(k_xent, 4, nc);
        ARG(k_xent, 5, inv);
        KERNEL(k_xent, (size_t)N);
        /* ---- device: backward ---- */
        for (int f = 2; f >= 0; f--) {
            cl_mem x = d_act[A_P2 + f], dy = d_grad[A_F1 + f];
            GEMM(TR, NT, FC_OUT[f], FC_IN[f], N, dy, FC_OUT[f], x, FC_IN[f], d_g[P_W3 + 2 * f],
                 FC_IN[f]);
            cl_int rows = N, cols = FC_OUT[f];
            ARG(k_colsum, 0, dy);
            ARG(k_colsum, 1, d_g[P_B3 + 2 * f]);
            ARG(k_colsum, 2, rows);
            ARG(k_colsum, 3, cols);
            KERNEL(k_colsum, (size_t)FC_OUT[f]);
            GEMM(NT, NT, N, FC_IN[f], FC_OUT[f], dy, FC_OUT[f], d_par[P_W3 + 2 * f], FC_IN[f],
                 d_grad[A_P2 + f], FC_IN[f]);
            if (f > 0) /* through fc(f-1)'s ReLU, in place */
                CLCONV(clconv_relu_backward_run(plan[f == 2 ? PL_RF2 : PL_RF1], x,
                                                d_grad[A_P2 + f], d_grad[A_P2 + f], W, &e_));
        }
        CLCONV(clconv_pool2d_backward_run(plan[PL_PB2], d_grad[A_P2], d_idx, NULL, d_grad[A_C2],
                                          W, &e_));
        CLCONV(clconv_relu_backward_run(plan[PL_R2], d_act[A_C2], d_grad[A_C2], d_grad[A_C2], W,
                                        &e_));
        CLCONV(clconv_conv2d_backward_weights_run(plan[PL_W2], d_act[A_P1], d_grad[A_C2],
                                                  d_g[P_W2], d_ws, W, &e_));
        CLCONV(clconv_conv2d_backward_bias_run(plan[PL_B2], d_grad[A_C2], d_g[P_B2], W, &e_));
        CLCONV(clconv_conv2d_backward_data_run(plan[PL_D2], d_grad[A_C2], d_par[P_W2], d_dp1,
                                               d_ws, W, &e_));
        CLCONV(clconv_pool2d_backward_run(plan[PL_PB1], d_dp1, NULL, NULL, d_grad[A_C1], W,
                                          &e_));
        CLCONV(clconv_relu_backward_run(plan[PL_R1], d_act[A_C1], d_grad[A_C1], d_grad[A_C1], W,
                                        &e_));
        CLCONV(clconv_conv2d_backward_weights_run(plan[PL_W1], d_x[b], d_grad[A_C1], d_g[P_W1],
                                                  d_ws, W, &e_));
        CLCONV(clconv_conv2d_backward_bias_run(plan[PL_B1], d_grad[A_C1], d_g[P_B1], W, &e_));
        /* ---- SGD ---- */
        cl_float flr = (cl_float)lr;
        for (int p = 0; p < NPARAMS; p++) {
            ARG(k_sgd, 0, d_par[p]);
            ARG(k_sgd, 1, d_g[p]);
            ARG(k_sgd, 2, flr);
            KERNEL(k_sgd, n_par[p]);
        }
        CL_CHECK(clEnqueueReadBuffer(q, d_loss, CL_TRUE, 0, (size_t)N * sizeof(float), h_loss, 1,
                                     &prev, NULL));
        for (int p = 0; p < NPARAMS; p++)
            CL_CHECK(clEnqueueReadBuffer(q, d_par[p], CL_TRUE, 0, n_par[p] * sizeof(float),
                                         h_dev[p], 0, NULL, NULL));
        double ld = 0;
        for (int i = 0; i < N; i++)
            ld += h_loss[i];
        ld /= N;
        loss_dev[step] = ld;

        /* ---- the reference path, from the same weights ---- */
        const float *xb = h_x + (size_t)b * n_in;
        const int *lb = h_lab + b * N;
        REF_CHECK(clconv_ref_conv2d(&c1, &s_in, xb, h_par[P_W1], h_par[P_B1], r_act[A_C1]));
        REF_CHECK(clconv_ref_pool2d(&ap, &s[A_C1], r_act[A_C1], r_act[A_P1], NULL));
        REF_CHECK(clconv_ref_conv2d(&c2, &s[A_P1], r_act[A_P1], h_par[P_W2], h_par[P_B2],
                                    r_act[A_C2]));
        REF_CHECK(clconv_ref_pool2d(&mp, &s[A_C2], r_act[A_C2], r_act[A_P2], r_idx));
        for (int f = 0; f < 3; f++)
            ref_fc(r_act[A_P2 + f], h_par[P_W3 + 2 * f], h_par[P_B3 + 2 * f], r_act[A_F1 + f],
                   N, FC_IN[f], FC_OUT[f], f < 2);
        const double lr_ref = ref_xent(r_act[A_F3], lb, r_grad[A_F3], N, NCLASS);
        for (int f = 2; f >= 0; f--) {
            ref_fc_backward(r_act[A_P2 + f], h_par[P_W3 + 2 * f], r_grad[A_F1 + f],
                            r_g[P_W3 + 2 * f], r_g[P_B3 + 2 * f], r_grad[A_P2 + f], N, FC_IN[f],
                            FC_OUT[f]);
            if (f > 0)
                REF_CHECK(clconv_ref_relu_backward(n_act[A_P2 + f], r_act[A_P2 + f],
                                                   r_grad[A_P2 + f], r_grad[A_P2 + f]));
        }
        REF_CHECK(clconv_ref_pool2d_backward(&mp, &s[A_C2], r_grad[A_P2], r_idx, NULL,
                                             r_grad[A_C2]));
        REF_CHECK(clconv_ref_relu_backward(n_act[A_C2], r_act[A_C2], r_grad[A_C2], r_grad[A_C2]));
        REF_CHECK(clconv_ref_conv2d_backward_weights(&c2, &s[A_P1], r_act[A_P1], r_grad[A_C2],
                                                     r_g[P_W2]));
        REF_CHECK(clconv_ref_conv2d_backward_bias(&c2, &s[A_P1], r_grad[A_C2], r_g[P_B2]));
        REF_CHECK(clconv_ref_conv2d_backward_data(&c2, &s[A_P1], r_grad[A_C2], h_par[P_W2],
                                                  r_dp1));
        REF_CHECK(clconv_ref_pool2d_backward(&ap, &s[A_C1], r_dp1, NULL, NULL, r_grad[A_C1]));
        REF_CHECK(clconv_ref_relu_backward(n_act[A_C1], r_act[A_C1], r_grad[A_C1], r_grad[A_C1]));
        REF_CHECK(clconv_ref_conv2d_backward_weights(&c1, &s_in, xb, r_grad[A_C1], r_g[P_W1]));
        REF_CHECK(clconv_ref_conv2d_backward_bias(&c1, &s_in, r_grad[A_C1], r_g[P_B1]));

        /* ---- compare: the loss, and each parameter after the update ---- */
        int ok = fabs(ld - lr_ref) <= 1e-4 * fmax(1.0, fabs(lr_ref));
        double worst = -1, worst_err = 0, worst_bound = 0;
        int worst_p = 0;
        for (int p = 0; p < NPARAMS; p++) {
            double err_max = 0, upd = 0, wmax = 1;
            for (size_t i = 0; i < n_par[p]; i++) {
                double w_ref = (double)h_par[p][i] - lr * (double)r_g[p][i];
                double e = fabs((double)h_dev[p][i] - w_ref);
                err_max = e > err_max || e != e ? e : err_max;
                upd = fmax(upd, fabs(lr * (double)r_g[p][i]));
                wmax = fmax(wmax, fabs(w_ref));
            }
            double bound = 1e-3 * upd + 1e-6 * wmax;
            double ratio = err_max / bound;
            if (!(ratio <= 1))
                ok = 0;
            if (ratio > worst || ratio != ratio) {
                worst = ratio;
                worst_err = err_max;
                worst_bound = bound;
                worst_p = p;
            }
        }
        failed += !ok;
        printf("%5ld %12.6f %12.6f %10.2e  %-8s %.2e / %.2e%s\n", step + 1, ld, lr_ref,
               fabs(ld - lr_ref), PARAM_NAMES[worst_p], worst_err, worst_bound,
               ok ? "" : "  > tolerance!");
    }
    CL_CHECK(clFinish(q));

    /* The loss must have fallen: the last two steps (one of each batch)
     * against the first two. */
    double first = steps >= 2 ? (loss_dev[0] + loss_dev[1]) / 2 : loss_dev[0];
    double last = steps >= 2 ? (loss_dev[steps - 1] + loss_dev[steps - 2]) / 2 : loss_dev[0];
    const int judged = steps >= 20, fell = last < 0.5 * first;
    printf("loss %.4f -> %.4f (mean of the first and of the last two steps): %s; every step "
           "within tolerance: %s\n", first, last,
           !judged ? "not judged (fewer than 20 steps)" : fell ? "fell below half"
                                                           : "did NOT fall below half",
           failed ? "NO" : "yes");
    rc = failed || (judged && !fell) ? EXIT_MISMATCH : 0;

cleanup:
    if (prev)
        clReleaseEvent(prev);
    for (int a = 0; a < NACTS; a++) {
        if (d_act[a])
            clReleaseMemObject(d_act[a]);
        if (d_grad[a])
            clReleaseMemObject(d_grad[a]);
        free(r_act[a]);
        free(r_grad[a]);
    }
    for (int p = 0; p < NPARAMS; p++) {
        if (d_par[p])
            clReleaseMemObject(d_par[p]);
        if (d_g[p])
            clReleaseMemObject(d_g[p]);
        free(h_par[p]);
        free(h_dev[p]);
        free(r_g[p]);
    }
    for (int b = 0; b < 2; b++) {
        if (d_x[b])
            clReleaseMemObject(d_x[b]);
        if (d_lab[b])
            clReleaseMemObject(d_lab[b]);
    }
    cl_mem rest[] = {d_idx, d_ws, d_loss, d_dp1};
    for (int i = 0; i < 4; i++)
        if (rest[i])
            clReleaseMemObject(rest[i]);
    cl_kernel ks[] = {k_bias, k_xent, k_colsum, k_sgd};
    for (int i = 0; i < 4; i++)
        if (ks[i])
            clReleaseKernel(ks[i]);
    if (prog)
        clReleaseProgram(prog);
    for (int i = 0; i < NPLANS; i++)
        clconv_plan_destroy(plan[i]);
    if (ctx) {
        /* CLBlast's cached programs hold the OpenCL context: drop them first. */
        CLBlastStatusCode cs = CLBlastClearCache();
        if (cs != CLBlastSuccess)
            fprintf(stderr, "lenet5_train: warning: CLBlastClearCache returned %d\n", (int)cs);
        clconv_context_destroy(ctx);
    }
    free(h_x);
    free(h_lab);
    free(h_loss);
    free(loss_dev);
    free(r_idx);
    free(r_dp1);
    return rc;
}
