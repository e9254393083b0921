/* lenet5 — LeNet-5 inference end to end on the OpenCL device, every layer
 * checked against a host reference path.
 *
 *   input  [N, 1, 28, 28]   synthetic digits (strokes drawn on a 28x28 canvas)
 *   conv1  [N, 6, 28, 28]   5x5, padding 2, bias, ReLU fused   clconv_conv2d_run
 *   pool1  [N, 6, 14, 14]   max 2x2, stride 2                  clconv_pool2d_run
 *   conv2  [N, 16, 10, 10]  5x5, bias, ReLU fused              clconv_conv2d_run
 *   pool2  [N, 16, 5, 5]    max 2x2, stride 2 (= [N, 400])     clconv_pool2d_run
 *   fc1    [N, 120]         400 -> 120, bias, ReLU             CLBlastSgemm + bias_act kernel
 *   fc2    [N, 84]          120 -> 84, bias, ReLU              CLBlastSgemm + bias_act kernel
 *   fc3    [N, 10]          84 -> 10, bias (logits)            CLBlastSgemm + bias_act kernel
 *   prob   [N, 10]          softmax over the 10 classes        softmax kernel
 *
 * The activations stay in device buffers from the upload of the input to the
 * end; every command goes on the clconv context's in-order queue, each layer
 * behind a barrier that waits for the previous layer's event (so the chain
 * would also hold on an out-of-order queue for the clconv and OpenCL commands;
 * CLBlast takes no wait list and relies on the barrier before it). The pass
 * runs twice, a warm-up and a timed run; each layer's device time is the span
 * from its barrier to its last command in the timed run (OpenCL event
 * profiling). After one clFinish every layer's buffer is read
 * back and compared with the host reference path: clconv_ref_conv2d,
 * clconv_ref_pool2d and plain double-precision loops for the fully connected
 * layers and the softmax.
 *
 * Weights are not trained: they come from a splitmix64 generator (seed 2026
 * unless --seed), drawn in the order conv1, conv2, fc1, fc2, fc3 (weights,
 * then bias, of each), weights uniform in [-sqrt(6/fan_in), +sqrt(6/fan_in)]
 * (He-uniform, which keeps the ReLU activations from fading), biases uniform
 * in [-0.1, 0.1]. The predicted classes are therefore deterministic but say
 * nothing about the digits; the point is that device and host agree.
 */
#include "clconv.h"

#include <clblast_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_NAME "lenet5"
#include "example_checks.h"

enum { IMG = 28, NCLASS = 10, MAX_BATCH = 4096 };

/* The example's own kernels: bias (+ ReLU) after a GEMM, and a row softmax. */
static const char *KERNEL_SOURCE =
    "__kernel void bias_act(__global float *y, __global const float *b, int n_out, int relu)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    float v = y[i] + b[i % (size_t)n_out];\n"
    "    y[i] = relu ? fmax(v, 0.0f) : v;\n"
    "}\n"
    "__kernel void softmax_rows(__global const float *z, __global float *p, int n)\n"
    "{\n"
    "    size_t r = get_global_id(0);\n"
    "    __global const float *zr = z + r * (size_t)n;\n"
    "    float m = zr[0];\n"
    "    for (int j = 1; j < n; j++) m = fmax(m, zr[j]);\n"
    "    float s = 0.0f;\n"
    "    for (int j = 0; j < n; j++) s += exp(zr[j] - m);\n"
    "    for (int j = 0; j < n; j++) p[r * (size_t)n + j] = exp(zr[j] - m) / s;\n"
    "}\n";

/* ---- deterministic data ---------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-bound, bound]. */
static void fill_uniform(uint64_t *s, float *a, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++) {
        double u = (double)(splitmix64(s) >> 11) * 0x1.0p-53; /* [0, 1) */
        a[i] = (float)((2 * u - 1) * bound);
    }
}

/* Digit strokes as polylines on the 28x28 canvas (x, y); a point with x < 0
 * lifts the pen. Ellipses are added in draw_digit. */
typedef struct pt {
    float x, y;
} pt;
static const pt STROKES[10][12] = {
    {{-2, 0}},                                                               /* 0: ellipse */
    {{11, 8}, {14, 5}, {14, 23}, {-1, 0}},                                   /* 1 */
    {{8, 9}, {10, 6}, {14, 5}, {18, 6}, {20, 9}, {19, 12}, {8, 23}, {20, 23}, {-1, 0}}, /* 2 */
    {{8, 6}, {19, 6}, {13, 13}, {18, 15}, {19, 19}, {15, 23}, {8, 22}, {-1, 0}},        /* 3 */
    {{16, 23}, {16, 5}, {7, 17}, {21, 17}, {-1, 0}},                                   /* 4 */
    {{19, 5}, {9, 5}, {8, 13}, {15, 12}, {19, 15}, {19, 20}, {15, 23}, {8, 22}, {-1, 0}}, /* 5 */
    {{18, 5}, {12, 8}, {9, 14}, {9, 19}, {12, 23}, {17, 23}, {19, 19}, {17, 15}, {12, 14},
     {9, 16}, {-1, 0}},                                                      /* 6 */
    {{7, 5}, {21, 5}, {12, 23}, {-1, 0}},                                    /* 7 */
    {{-2, 0}},                                                               /* 8: ellipses */
    {{19, 10}, {17, 23}, {-1, 0}},                                           /* 9 (+ ellipse) */
};

static float seg_dist(float px, float py, pt a, pt b)
{
    float dx = b.x - a.x, dy = b.y - a.y, l2 = dx * dx + dy * dy;
    float t = l2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypotf(px - (a.x + t * dx), py - (a.y + t * dy));
}

static float ellipse_dist(float px, float py, float cx, float cy, float rx, float ry)
{
    /* Distance to the ellipse's outline, approximated through the radial scale. */
    float ux = (px - cx) / rx, uy = (py - cy) / ry, r = hypotf(ux, uy);
    float scale = r > 0 ? hypotf((px - cx), (py - cy)) / r : 0;
    return fabsf(r - 1) * (scale > 0 ? scale : (rx < ry ? rx : ry));
}

/* Draws digit d shifted by (sx, sy) pixels into img (IMG x IMG, in [0, 1]). */
static void draw_digit(float *img, int d, float sx, float sy)
{
    for (int y = 0; y < IMG; y++) {
        for (int x = 0; x < IMG; x++) {
            float px = (float)x - sx, py = (float)y - sy, dist = 1e9f;
            const pt *s = STROKES[d];
            for (int i = 0; s[i].x >= 0 && s[i + 1].x >= 0; i++)
                dist = fminf(dist, seg_dist(px, py, s[i], s[i + 1]));
            if (d == 0)
                dist = fminf(dist, ellipse_dist(px, py, 14, 14, 6, 9));
            if (d == 8) {
                dist = fminf(dist, ellipse_dist(px, py, 14, 9, 5, 4));
                dist = fminf(dist, ellipse_dist(px, py, 14, 18.5f, 6, 5));
            }
            if (d == 9)
                dist = fminf(dist, ellipse_dist(px, py, 14, 10, 5, 4.5f));
            float v = 1.9f - dist; /* a stroke about 3 px wide with a soft rim */
            img[y * IMG + x] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}

/* The first ten digits of the MNIST test set, then again with shifts. */
static const int DIGIT_ORDER[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};

/* ---- host reference: fully connected layer and softmax ---------------------- */

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

static void ref_softmax(const float *z, float *p, int n, int c)
{
    for (int i = 0; i < n; i++) {
        const float *zr = z + (size_t)i * c;
        double m = zr[0], s = 0;
        for (int j = 1; j < c; j++)
            m = fmax(m, zr[j]);
        for (int j = 0; j < c; j++)
            s += exp(zr[j] - m);
        for (int j = 0; j < c; j++)
            p[(size_t)i * c + j] = (float)(exp(zr[j] - m) / s);
    }
}

/* ---- the network ---------------------------------------------------------------- */

enum { L_CONV1, L_POOL1, L_CONV2, L_POOL2, L_FC1, L_FC2, L_FC3, L_PROB, NLAYERS };
static const char *const LAYER_NAMES[NLAYERS] = {"conv1+relu", "pool1", "conv2+relu", "pool2",
                                                 "fc1+relu",   "fc2+relu", "fc3",   "softmax"};
enum { P_W1, P_B1, P_W2, P_B2, P_W3, P_B3, P_W4, P_B4, P_W5, P_B5, NPARAMS };

static void usage(FILE *f)
{
    fprintf(f, "usage: lenet5 [--batch N] [--seed S] [--device SEL] [--show] [--help]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\n"
           "LeNet-5 inference on the OpenCL device for N synthetic 28x28 digits (default 4):\n"
           "conv 1->6 5x5 pad 2 + ReLU, max pool 2x2, conv 6->16 5x5 + ReLU, max pool 2x2\n"
           "(clconv plans), fully connected 400->120->84->10 with ReLU (CLBlastSgemm on the\n"
           "clconv queue), softmax. Every layer's output is checked against the host reference\n"
           "(clconv_ref_conv2d, clconv_ref_pool2d, double-precision loops); the device time of\n"
           "each layer comes from OpenCL event profiling.\n"
           "\n"
           "  --batch N     images, 1..%d (default 4); the digits are 7 2 1 0 4 1 4 9 5 9\n"
           "                (the first MNIST test labels), repeated with 1-pixel shifts\n"
           "  --seed S      weight generator seed (default 2026): splitmix64, weights uniform in\n"
           "                +-sqrt(6/fan_in), biases uniform in +-0.1 (untrained: the predicted\n"
           "                classes are arbitrary but deterministic)\n"
           "  --device SEL  OpenCL device: 'P:D' indices or part of its name\n"
           "  --show        draw the input digits as text\n"
           "\n"
           "A layer passes when max |device - reference| <= 1e-4 * max(1, max |reference|)\n"
           "(probabilities: 1e-5). Exit status: 0 all layers pass, 1 an error, 2 no OpenCL\n"
           "device, 3 a layer out of tolerance, 64 a usage error.\n",
           MAX_BATCH);
}

int main(int argc, char **argv)
{
    long batch = 4;
    uint64_t seed = 2026;
    const char *device = NULL;
    int show = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return 0;
        } else if (!strcmp(a, "--show")) {
            show = 1;
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
    const int N = (int)batch;

    /* Layer parameters and shapes. */
    clconv_conv2d_params c1 = clconv_conv2d_default_params(1, 6, 5, 5);
    c1.pad_top = c1.pad_bottom = c1.pad_left = c1.pad_right = 2;
    c1.has_bias = 1;
    c1.activation = CLCONV_ACTIVATION_RELU;
    clconv_conv2d_params c2 = clconv_conv2d_default_params(6, 16, 5, 5);
    c2.has_bias = 1;
    c2.activation = CLCONV_ACTIVATION_RELU;
    clconv_pool2d_params mp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_shape s_in = {N, 1, IMG, IMG}, s_c1, s_p1, s_c2, s_p2;
    if (clconv_conv2d_output_shape(&c1, &s_in, &s_c1) ||
        clconv_pool2d_output_shape(&mp, &s_c1, &s_p1) ||
        clconv_conv2d_output_shape(&c2, &s_p1, &s_c2) ||
        clconv_pool2d_output_shape(&mp, &s_c2, &s_p2))
        return report("shapes: %s", clconv_last_error(NULL));
    const int FC_IN[3] = {400, 120, 84}, FC_OUT[3] = {120, 84, NCLASS};
    if (s_p2.c * s_p2.h * s_p2.w != FC_IN[0])
        return report("pool2 gives %lld features, fc1 expects %d",
                      (long long)(s_p2.c * s_p2.h * s_p2.w), FC_IN[0]);

    const size_t n_act[NLAYERS] = {
        clconv_shape_elements(s_c1), clconv_shape_elements(s_p1), clconv_shape_elements(s_c2),
        clconv_shape_elements(s_p2), (size_t)N * 120, (size_t)N * 84, (size_t)N * NCLASS,
        (size_t)N * NCLASS};
    const size_t n_par[NPARAMS] = {6 * 25, 6, 16 * 6 * 25, 16, 120 * 400, 120,
                                   84 * 120, 84, NCLASS * 84, NCLASS};
    const double fan_in[5] = {25, 150, 400, 120, 84};
    const size_t n_in = clconv_shape_elements(s_in);

    int rc = EXIT_ERROR;
    clconv_context *ctx = NULL;
    clconv_plan *plan_c1 = NULL, *plan_c2 = NULL, *plan_p1 = NULL, *plan_p2 = NULL;
    cl_program prog = NULL;
    cl_kernel k_bias = NULL, k_softmax = NULL;
    cl_mem d_in = NULL, d_act[NLAYERS] = {NULL}, d_par[NPARAMS] = {NULL}, d_ws = NULL;
    cl_event ev_start[NLAYERS] = {NULL}, ev_end[NLAYERS] = {NULL}, ev_gemm[3] = {NULL};
    float *h_in = NULL, *h_par[NPARAMS] = {NULL}, *h_dev[NLAYERS] = {NULL},
          *h_ref[NLAYERS] = {NULL};

    /* Host data: input digits and weights. */
    h_in = malloc(n_in * sizeof(float));
    if (!h_in)
        return report("out of memory");
    for (int i = 0; i < N; i++) {
        int rep = i / 10;
        float sx = (float)(rep % 3 - 1), sy = (float)((rep / 3) % 3 - 1);
        draw_digit(h_in + (size_t)i * IMG * IMG, DIGIT_ORDER[i % 10], sx, sy);
    }
    uint64_t rng = seed;
    for (int p = 0; p < NPARAMS; p++) {
        if (!(h_par[p] = malloc(n_par[p] * sizeof(float)))) {
            rc = report("out of memory");
            goto cleanup;
        }
        fill_uniform(&rng, h_par[p], n_par[p], p % 2 ? 0.1 : sqrt(6.0 / fan_in[p / 2]));
    }
    for (int l = 0; l < NLAYERS; l++)
        if (!(h_dev[l] = malloc(n_act[l] * sizeof(float))) ||
            !(h_ref[l] = malloc(n_act[l] * sizeof(float)))) {
            rc = report("out of memory");
            goto cleanup;
        }

    if (show) {
        for (int i = 0; i < N; i++) {
            printf("input %d (digit %d):\n", i, DIGIT_ORDER[i % 10]);
            for (int y = 0; y < IMG; y++) {
                for (int x = 0; x < IMG; x++) {
                    float v = h_in[(size_t)i * IMG * IMG + y * IMG + x];
                    putchar(v > 0.75f ? '#' : v > 0.4f ? '+' : v > 0.1f ? '.' : ' ');
                }
                putchar('\n');
            }
        }
    }

    /* Device, plans, buffers, kernels. */
    clconv_status st = clconv_context_create_for(device, &ctx);
    if (st) {
        fprintf(stderr, "lenet5: %s: %s\n", clconv_status_string(st), clconv_last_error(NULL));
        rc = st == CLCONV_ERROR_NO_DEVICE ? EXIT_NO_DEVICE : EXIT_ERROR;
        goto cleanup;
    }
    cl_context clctx = clconv_context_cl_context(ctx);
    cl_command_queue q = clconv_context_queue(ctx);
    cl_device_id dev = clconv_context_device(ctx);
    printf("LeNet-5, batch %d, on %s (weights: splitmix64 seed %llu)\n", N,
           clconv_context_device_name(ctx), (unsigned long long)seed);

    CV_CHECK(clconv_conv2d_plan_create(ctx, &c1, &s_in, NULL, &plan_c1));
    CV_CHECK(clconv_pool2d_plan_create(ctx, &mp, &s_c1, NULL, &plan_p1));
    CV_CHECK(clconv_conv2d_plan_create(ctx, &c2, &s_p1, NULL, &plan_c2));
    CV_CHECK(clconv_pool2d_plan_create(ctx, &mp, &s_c2, NULL, &plan_p2));
    clconv_plan_info info[4];
    clconv_plan *plans[4] = {plan_c1, plan_p1, plan_c2, plan_p2};
    size_t ws_bytes = 0;
    for (int i = 0; i < 4; i++) {
        CV_CHECK(clconv_plan_get_info(plans[i], &info[i]));
        if (info[i].workspace_bytes > ws_bytes)
            ws_bytes = info[i].workspace_bytes;
    }

    cl_int err;
    d_in = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n_in * sizeof(float),
                          h_in, &err);
    CL_CHECK(err);
    for (int p = 0; p < NPARAMS; p++) {
        d_par[p] = clCreateBuffer(clctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                  n_par[p] * sizeof(float), h_par[p], &err);
        CL_CHECK(err);
    }
    for (int l = 0; l < NLAYERS; l++) {
        d_act[l] = clCreateBuffer(clctx, CL_MEM_READ_WRITE, n_act[l] * sizeof(float), NULL, &err);
        CL_CHECK(err);
    }
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
    k_softmax = clCreateKernel(prog, "softmax_rows", &err);
    CL_CHECK(err);

    /* The forward pass, twice: the first run is a warm-up (CLBlast compiles its
     * GEMM kernel on its first call, and PoCL finishes some kernels on their
     * first launch), the second is timed and checked. Every layer goes behind
     * a barrier on the previous layer's event; nothing returns to the host
     * until the clFinish. */
    for (int pass = 0; pass < 2; pass++) {
        for (int l = 0; l < NLAYERS; l++) {
            if (ev_start[l])
                clReleaseEvent(ev_start[l]);
            if (ev_end[l])
                clReleaseEvent(ev_end[l]);
            ev_start[l] = ev_end[l] = NULL;
            if (l >= L_FC1 && l <= L_FC3 && ev_gemm[l - L_FC1]) {
                clReleaseEvent(ev_gemm[l - L_FC1]);
                ev_gemm[l - L_FC1] = NULL;
            }
        }
        cl_event prev = NULL;
        for (int l = 0; l < NLAYERS; l++) {
            CL_CHECK(clEnqueueBarrierWithWaitList(q, prev ? 1 : 0, prev ? &prev : NULL,
                                                  &ev_start[l]));
            cl_mem src = l == 0 ? d_in : d_act[l - 1], dst = d_act[l];
            switch (l) {
            case L_CONV1:
                CV_CHECK(clconv_conv2d_run(plan_c1, src, d_par[P_W1], d_par[P_B1], dst, d_ws, 1,
                                           &ev_start[l], &ev_end[l]));
                break;
            case L_CONV2:
                CV_CHECK(clconv_conv2d_run(plan_c2, src, d_par[P_W2], d_par[P_B2], dst, d_ws, 1,
                                           &ev_start[l], &ev_end[l]));
                break;
            case L_POOL1:
            case L_POOL2:
                CV_CHECK(clconv_pool2d_run(l == L_POOL1 ? plan_p1 : plan_p2, src, dst, NULL, 1,
                                           &ev_start[l], &ev_end[l]));
                break;
            case L_FC1:
            case L_FC2:
            case L_FC3: {
                /* y[N, out] = x[N, in] * W[out, in]^T, then y += b (and ReLU). */
                int f = l - L_FC1, relu = l != L_FC3;
                size_t in = (size_t)FC_IN[f], out = (size_t)FC_OUT[f];
                BLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                         CLBlastTransposeYes, (size_t)N, out, in, 1.0f, src, 0, in,
                                         d_par[P_W3 + 2 * f], 0, in, 0.0f, dst, 0, out, &q,
                                         &ev_gemm[f]));
                cl_int n_out = (cl_int)out, r = relu;
                CL_CHECK(clSetKernelArg(k_bias, 0, sizeof(cl_mem), &dst));
                CL_CHECK(clSetKernelArg(k_bias, 1, sizeof(cl_mem), &d_par[P_B3 + 2 * f]));
                CL_CHECK(clSetKernelArg(k_bias, 2, sizeof n_out, &n_out));
                CL_CHECK(clSetKernelArg(k_bias, 3, sizeof r, &r));
                size_t gsz = (size_t)N * out;
                CL_CHECK(clEnqueueNDRangeKernel(q, k_bias, 1, NULL, &gsz, NULL, 1, &ev_gemm[f],
                                                &ev_end[l]));
                break;
            }
            case L_PROB: {
                cl_int n = NCLASS;
                CL_CHECK(clSetKernelArg(k_softmax, 0, sizeof(cl_mem), &src));
                CL_CHECK(clSetKernelArg(k_softmax, 1, sizeof(cl_mem), &dst));
                CL_CHECK(clSetKernelArg(k_softmax, 2, sizeof n, &n));
                size_t gsz = (size_t)N;
                CL_CHECK(clEnqueueNDRangeKernel(q, k_softmax, 1, NULL, &gsz, NULL, 1, &ev_start[l],
                                                &ev_end[l]));
                break;
            }
            }
            prev = ev_end[l];
        }
        CL_CHECK(clFinish(q));
    }
    for (int l = 0; l < NLAYERS; l++)
        CL_CHECK(clEnqueueReadBuffer(q, d_act[l], CL_TRUE, 0, n_act[l] * sizeof(float), h_dev[l],
                                     0, NULL, NULL));

    /* The host reference path, layer by layer from the same input. */
    clconv_status rs =
        clconv_ref_conv2d(&c1, &s_in, h_in, h_par[P_W1], h_par[P_B1], h_ref[L_CONV1]);
    if (!rs)
        rs = clconv_ref_pool2d(&mp, &s_c1, h_ref[L_CONV1], h_ref[L_POOL1], NULL);
    if (!rs)
        rs = clconv_ref_conv2d(&c2, &s_p1, h_ref[L_POOL1], h_par[P_W2], h_par[P_B2],
                               h_ref[L_CONV2]);
    if (!rs)
        rs = clconv_ref_pool2d(&mp, &s_c2, h_ref[L_CONV2], h_ref[L_POOL2], NULL);
    if (rs) {
        rc = report("reference: %s", clconv_last_error(NULL));
        goto cleanup;
    }
    for (int f = 0; f < 3; f++)
        ref_fc(h_ref[L_POOL2 + f], h_par[P_W3 + 2 * f], h_par[P_B3 + 2 * f], h_ref[L_FC1 + f], N,
               FC_IN[f], FC_OUT[f], f < 2);
    ref_softmax(h_ref[L_FC3], h_ref[L_PROB], N, NCLASS);

    /* Per layer: shape, how it ran, device time, error against the reference. */
    printf("%-11s %-16s %-26s %9s %10s %10s\n", "layer", "output", "ran as", "device ms",
           "max |ref|", "max error");
    int failed = 0;
    double total_ms = 0;
    for (int l = 0; l < NLAYERS; l++) {
        cl_ulong t0 = 0, t1 = 0;
        CL_CHECK(clGetEventProfilingInfo(ev_start[l], CL_PROFILING_COMMAND_END, sizeof t0, &t0,
                                         NULL));
        CL_CHECK(clGetEventProfilingInfo(ev_end[l], CL_PROFILING_COMMAND_END, sizeof t1, &t1,
                                         NULL));
        double ms = t1 > t0 ? (double)(t1 - t0) * 1e-6 : 0;
        total_ms += ms;
        double max_err = 0, max_ref = 0;
        for (size_t i = 0; i < n_act[l]; i++) {
            double d = fabs((double)h_dev[l][i] - h_ref[l][i]);
            max_err = d > max_err || d != d ? d : max_err; /* keeps a NaN */
            max_ref = fmax(max_ref, fabs((double)h_ref[l][i]));
        }
        double tol = l == L_PROB ? 1e-5 : 1e-4 * fmax(1.0, max_ref);
        int ok = max_err <= tol;
        failed += !ok;
        char shape[32], how[64];
        if (l <= L_POOL2) {
            clconv_shape s = l == L_CONV1 ? s_c1 : l == L_POOL1 ? s_p1 : l == L_CONV2 ? s_c2 : s_p2;
            snprintf(shape, sizeof shape, "%lldx%lldx%lldx%lld", (long long)s.n, (long long)s.c,
                     (long long)s.h, (long long)s.w);
            snprintf(how, sizeof how, "clconv %s", clconv_algorithm_name(info[l].algorithm));
        } else {
            snprintf(shape, sizeof shape, "%dx%d", N, l == L_PROB ? NCLASS : FC_OUT[l - L_FC1]);
            snprintf(how, sizeof how, "%s", l == L_PROB ? "softmax kernel" : "CLBlastSgemm+bias");
        }
        printf("%-11s %-16s %-26s %9.3f %10.4g %10.3g%s\n", LAYER_NAMES[l], shape, how, ms,
               max_ref, max_err, ok ? "" : "  > tolerance!");
    }
    printf("total device time %.3f ms; every layer within tolerance: %s\n", total_ms,
           failed ? "NO" : "yes");

    for (int i = 0; i < N; i++) {
        const float *p = h_dev[L_PROB] + (size_t)i * NCLASS;
        const float *r = h_ref[L_PROB] + (size_t)i * NCLASS;
        int best = 0, rbest = 0;
        for (int j = 1; j < NCLASS; j++) {
            if (p[j] > p[best])
                best = j;
            if (r[j] > r[rbest])
                rbest = j;
        }
        printf("image %d (drawn %d): class %d, p = %.4f (reference: class %d, p = %.4f)\n", i,
               DIGIT_ORDER[i % 10], best, p[best], rbest, r[rbest]);
    }
    rc = failed ? EXIT_MISMATCH : 0;

cleanup:
    for (int l = 0; l < NLAYERS; l++) {
        if (ev_start[l])
            clReleaseEvent(ev_start[l]);
        if (ev_end[l])
            clReleaseEvent(ev_end[l]);
        if (d_act[l])
            clReleaseMemObject(d_act[l]);
        free(h_dev[l]);
        free(h_ref[l]);
    }
    for (int f = 0; f < 3; f++)
        if (ev_gemm[f])
            clReleaseEvent(ev_gemm[f]);
    for (int p = 0; p < NPARAMS; p++) {
        if (d_par[p])
            clReleaseMemObject(d_par[p]);
        free(h_par[p]);
    }
    if (d_in)
        clReleaseMemObject(d_in);
    if (d_ws)
        clReleaseMemObject(d_ws);
    if (k_bias)
        clReleaseKernel(k_bias);
    if (k_softmax)
        clReleaseKernel(k_softmax);
    if (prog)
        clReleaseProgram(prog);
    clconv_plan_destroy(plan_c1);
    clconv_plan_destroy(plan_p1);
    clconv_plan_destroy(plan_c2);
    clconv_plan_destroy(plan_p2);
    if (ctx) {
        /* CLBlast's cached programs hold the OpenCL context: drop them first. */
        CLBlastStatusCode cs = CLBlastClearCache();
        if (cs != CLBlastSuccess)
            fprintf(stderr, "lenet5: warning: CLBlastClearCache returned %d\n", (int)cs);
        clconv_context_destroy(ctx);
    }
    free(h_in);
    return rc;
}
