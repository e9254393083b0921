/* clconv-bench: times clconv on whole suites of real layers (or a shapes file,
 * or one layer given on the command line), next to the CLBlast baselines on
 * the same device and queue in the same run, verifying every result against
 * the CPU reference.
 *
 * Per layer: the median device time of --runs runs after --warmup runs (OpenCL
 * event profiling), GFLOP/s (GB/s for pooling) from the plan's flop / byte
 * counts, the algorithm the plan chose; for conv2d the baselines
 * im2col (a kernel of this tool) + CLBlastSgemm / CLBlastSgemmBatched, and
 * CLBlastSconvgemm where it applies (groups 1, symmetric padding), with the
 * speed-up over the faster of them. For pooling the baseline is the device's
 * memory bandwidth, measured next to each layer as a STREAM-style copy far
 * larger than the caches, and the row reports the fraction of it the pooling
 * reaches (over 100% where the layer's data stays in a cache).
 *
 * Convolutions with an epilogue beyond the bias (an activation, a residual
 * z of y's shape: y = act(alpha * conv + beta * z + bias)) are also timed
 * unfused: the same convolution with its bias only, on the algorithm the
 * fused plan chose, then the epilogue as separate passes (the residual add a
 * kernel of this tool, the activation clconv_activation_run, in place); the
 * row reports unfused / fused time, the gain of fusing.
 *
 * Exit codes: 0 all verified; 1 error; 2 no OpenCL device; 3 a clconv result
 * failed verification; 64 usage error. */
#include "toolkit.h"

#include <clblast_c.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *PROG = "clconv-bench";

/* ------------------------------------------------------------------------ */
/* Built-in suites: tools/suites/NAME.shapes, embedded at build time        */
/* ------------------------------------------------------------------------ */

/* Generated from tools/suites/ (cmake/embed_kernels.cmake). */
typedef struct {
    const char *name;
    const unsigned char *data;
    size_t size;
} embedded_suite;
extern const embedded_suite clconv_embedded_suites[];
extern const size_t clconv_embedded_suites_count;

/* The order --help lists them in (any other file is listed after these). */
static const char *const SUITE_ORDER[] = {
    "quick",   "lenet",     "resnet50",   "vgg16",     "mobilenet", "dcgan",  "pooling",
    "epilogue", "grouped", "depthwise", "dilated", "strided1x1", "conv1d"};

static const char *suite_text(const char *name)
{
    for (size_t i = 0; i < clconv_embedded_suites_count; i++)
        if (!strcmp(clconv_embedded_suites[i].name, name))
            return (const char *)clconv_embedded_suites[i].data;
    return NULL;
}

/* A suite file's "#: key value" line (about, batch), or "" when absent. */
static void suite_meta(const char *text, const char *key, char *out, size_t size)
{
    out[0] = '\0';
    size_t klen = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "#: ", 3) == 0 && strncmp(l + 3, key, klen) == 0 && l[3 + klen] == ' ') {
            const char *v = l + 4 + klen, *e = strchr(v, '\n');
            size_t n = e ? (size_t)(e - v) : strlen(v);
            snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
            return;
        }
    }
}

static void list_one(FILE *f, const char *name)
{
    char about[160];
    suite_meta(suite_text(name), "about", about, sizeof about);
    fprintf(f, "  %-13s %s\n", name, about);
}

/* Every suite: SUITE_ORDER first, then the others in file-name order. */
static void list_suites(FILE *f)
{
    const size_t nordered = sizeof SUITE_ORDER / sizeof *SUITE_ORDER;
    for (size_t k = 0; k < nordered; k++)
        if (suite_text(SUITE_ORDER[k]))
            list_one(f, SUITE_ORDER[k]);
    for (size_t i = 0; i < clconv_embedded_suites_count; i++) {
        bool ordered = false;
        for (size_t k = 0; k < nordered; k++)
            ordered |= !strcmp(SUITE_ORDER[k], clconv_embedded_suites[i].name);
        if (!ordered)
            list_one(f, clconv_embedded_suites[i].name);
    }
    fprintf(f, "  %-13s %s\n", "NAME-bN", "any suite at batch N (resnet50-b8: ResNet-50 at batch 8)");
}

/* Finds suite name, or NAME-bN (that suite at batch N); its text and batch. */
static const char *find_suite(const char *name, int64_t *batch)
{
    char meta[32];
    const char *text = suite_text(name);
    if (text) {
        suite_meta(text, "batch", meta, sizeof meta);
        *batch = meta[0] ? atoll(meta) : 1;
        return text;
    }
    const char *dash = strrchr(name, '-');
    char *end = NULL;
    if (!dash || dash[1] != 'b' || !dash[2])
        return NULL;
    long long n = strtoll(dash + 2, &end, 10);
    if (*end || n < 1 || n > (1 << 20))
        return NULL;
    char base[64];
    snprintf(base, sizeof base, "%.*s", (int)(dash - name), name);
    text = suite_text(base);
    *batch = n;
    return text;
}

/* ------------------------------------------------------------------------ */
/* Options and results                                                      */
/* ------------------------------------------------------------------------ */

typedef struct opts {
    int runs, warmup;
    const char *device;
    bool algo_set;
    clconv_plan_options plan_opts;
    bool json, csv, baseline, verify, quiet, find, prepare;
    bool unfused;         /* time the epilogue layers unfused too */
    uint64_t seed;
    unsigned directions;  /* DIR_* bits: which passes of the conv2d layers to time */
    bool dtype_set;       /* --dtype: every layer's storage type (else each layer's dtype=) */
    clconv_dtype dtype;
} opts;

/* --direction: the forward pass, conv2d's input gradient, its weight gradient. */
enum { DIR_FWD = 1, DIR_BWD_DATA = 2, DIR_BWD_WEIGHTS = 4 };

/* Baseline 0 is the GEMM route (conv2d: im2col + SGEMM; conv_transpose2d:
 * SGEMM + CLBlast col2im), 1 is CLBlast's convgemm (conv2d only). */
enum { BL_IM2COL_GEMM, BL_CONVGEMM, BL_COUNT };
static const char *const BL_NAMES[BL_COUNT] = {"im2col+sgemm", "convgemm"};

static const char *bl_name(const tk_op *op, int k)
{
    if (k == BL_IM2COL_GEMM &&
        (!strcmp(op->name, "conv_transpose2d") || op == &tk_conv2d_backward_data_op))
        return "sgemm+col2im";
    return BL_NAMES[k];
}

typedef struct baseline {
    bool ran;
    bool na;          /* does not apply to this operator (not reported) */
    char skip[200];   /* why it did not run ("" when it ran) */
    double median_s;
    double gbs;       /* the copy baseline: its own bytes / median_s */
    tk_error err;
    bool verified;
} baseline;

typedef struct row {
    tk_layer L;
    char spec[256];
    bool skipped;
    char skip[160];
    bool failed;      /* an error (not a mismatch) */
    tk_result res;
    baseline bl[BL_COUNT];
    double speedup;   /* best baseline / clconv; 0 = none */
    baseline copy;    /* bandwidth-bound operators: the same-bytes copy */
    double bw_fraction; /* copy time / clconv time; 0 = none */
    bool epilogue;    /* a conv layer with an activation or a residual */
    char unfused_form[96]; /* what the unfused run enqueues, "conv+bias, add, relu" */
    baseline unfused; /* the same layer unfused (when epilogue and not --no-unfused) */
    double fusion_gain; /* unfused time / fused time; 0 = none */
} row;

/* ------------------------------------------------------------------------ */
/* Baselines                                                                */
/* ------------------------------------------------------------------------ */

static const char *BASE_SRC =
    "__kernel void im2col(__global const float *x, __global float *col, int C, int H, int W,\n"
    "    int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW) {\n"
    "  int p = get_global_id(0), row = get_global_id(1), n = get_global_id(2);\n"
    "  int c = row / (KH * KW), r = row % (KH * KW), kh = r / KW, kw = r % KW;\n"
    "  int oh = p / OW, ow = p % OW;\n"
    "  int ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;\n"
    "  float v = 0.0f;\n"
    "  if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = x[((size_t)(n * C + c) * H + ih) * W + iw];\n"
    "  col[((size_t)n * C * KH * KW + row) * (size_t)(OH * OW) + p] = v;\n"
    "}\n"
    "__kernel void bias_act(__global float *y, __global const float *b, int K, int P,\n"
    "    int has_bias, int relu) {\n"
    "  size_t i = get_global_id(0);\n"
    "  float v = y[i];\n"
    "  if (has_bias) v += b[(i / P) % K];\n"
    "  if (relu) v = fmax(v, 0.0f);\n"
    "  y[i] = v;\n"
    "}\n"
    "__kernel void copy4(__global const float4 *a, __global float4 *b, int n4) {\n"
    "  int i = get_global_id(0);\n"
    "  if (i < n4) b[i] = a[i];\n"
    "}\n"
    /* The unfused residual: y = alpha * y + beta * z (+ bias when the conv
     * could not add it: alpha != 1), in the fused epilogue's float order. */
    "__kernel void residual_add(__global float *y, __global const float *z,\n"
    "    __global const float *b, int K, int P, float alpha, float beta, int has_bias) {\n"
    "  size_t i = get_global_id(0);\n"
    "  float v = alpha * y[i];\n"
    "  v += beta * z[i];\n"
    "  if (has_bias) v += b[(i / P) % K];\n"
    "  y[i] = v;\n"
    "}\n";

typedef struct basectx {
    clconv_context *ctx;
    cl_program prog;
    cl_kernel im2col, bias_act, copy4, residual_add;
    char error[256];
} basectx;

static bool base_init(basectx *bc, clconv_context *ctx)
{
    memset(bc, 0, sizeof *bc);
    bc->ctx = ctx;
    cl_int err;
    cl_device_id dev = clconv_context_device(ctx);
    bc->prog = clCreateProgramWithSource(clconv_context_cl_context(ctx), 1, &BASE_SRC, NULL,
                                         &err);
    if (err != CL_SUCCESS) {
        snprintf(bc->error, sizeof bc->error, "clCreateProgramWithSource: %d", err);
        return false;
    }
    if ((err = clBuildProgram(bc->prog, 1, &dev, "", NULL, NULL)) != CL_SUCCESS) {
        snprintf(bc->error, sizeof bc->error, "clBuildProgram (im2col): %d", err);
        return false;
    }
    bc->im2col = clCreateKernel(bc->prog, "im2col", &err);
    if (err == CL_SUCCESS)
        bc->bias_act = clCreateKernel(bc->prog, "bias_act", &err);
    if (err == CL_SUCCESS)
        bc->copy4 = clCreateKernel(bc->prog, "copy4", &err);
    if (err == CL_SUCCESS)
        bc->residual_add = clCreateKernel(bc->prog, "residual_add", &err);
    if (err != CL_SUCCESS) {
        snprintf(bc->error, sizeof bc->error, "clCreateKernel: %d", err);
        return false;
    }
    return true;
}

static void base_free(basectx *bc)
{
    if (bc->im2col)
        clReleaseKernel(bc->im2col);
    if (bc->bias_act)
        clReleaseKernel(bc->bias_act);
    if (bc->copy4)
        clReleaseKernel(bc->copy4);
    if (bc->residual_add)
        clReleaseKernel(bc->residual_add);
    if (bc->prog)
        clReleaseProgram(bc->prog);
}

/* The geometry the baselines need (C = in, K = out channels). */
typedef struct geom {
    int64_t N, C, H, W, K, KH, KW, SH, SW, PT, PB, PL, PR, DH, DW, G, OH, OW;
    bool bias, relu, transposed;
    int dir;          /* 0 forward, 1 conv2d backward-data, 2 conv2d backward-weights */
} geom;

static void geom_of(const tk_layer *L, clconv_shape out, geom *g)
{
    g->N = L->input.n; g->C = L->input.c; g->H = L->input.h; g->W = L->input.w;
    g->K = L->out_channels; g->KH = L->kernel_h; g->KW = L->kernel_w;
    g->SH = L->stride_h; g->SW = L->stride_w; g->DH = L->dilation_h; g->DW = L->dilation_w;
    g->G = L->groups; g->OH = out.h; g->OW = out.w;
    if (L->pad_same) {
        int64_t th = L->dilation_h * (L->kernel_h - 1), tw = L->dilation_w * (L->kernel_w - 1);
        g->PT = th / 2; g->PB = th - th / 2; g->PL = tw / 2; g->PR = tw - tw / 2;
    } else {
        g->PT = L->pad_top;
        g->PB = L->pad_bottom;
        g->PL = L->pad_left;
        g->PR = L->pad_right;
    }
    g->bias = L->bias;
    g->relu = L->relu || L->activation == CLCONV_ACTIVATION_RELU;
    g->transposed = !strcmp(L->op->name, "conv_transpose2d");
    g->dir = L->op == &tk_conv2d_backward_data_op      ? 1
             : L->op == &tk_conv2d_backward_weights_op ? 2
                                                       : 0;
    if (g->dir) {
        /* out is dx or dw here: the forward output size from the formula. */
        g->bias = g->relu = false;
        g->OH = (g->H + g->PT + g->PB - g->DH * (g->KH - 1) - 1) / g->SH + 1;
        g->OW = (g->W + g->PL + g->PR - g->DW * (g->KW - 1) - 1) / g->SW + 1;
    }
    if (g->dir == 1) {
        /* backward-data is conv_transpose2d from dy [N, K, OH, OW] to dx [N, C, H, W]
         * with the same weights: the transposed route's geometry, swapped. */
        int64_t C = g->C, H = g->H, W = g->W;
        g->C = g->K; g->H = g->OH; g->W = g->OW;
        g->K = C; g->OH = H; g->OW = W;
        g->transposed = true;
    }
}

#define BL_CL(call, what)                                                                     \
    do {                                                                                      \
        cl_int e_ = (call);                                                                   \
        if (e_ != CL_SUCCESS) {                                                               \
            snprintf(b->skip, sizeof b->skip, "%s failed: %d", what, e_);                     \
            goto done;                                                                        \
        }                                                                                     \
    } while (0)
#define BL_BLAS(call, what)                                                                   \
    do {                                                                                      \
        CLBlastStatusCode s_ = (call);                                                        \
        if (s_ != CLBlastSuccess) {                                                           \
            snprintf(b->skip, sizeof b->skip, "%s: CLBlast status %d", what, (int)s_);        \
            goto done;                                                                        \
        }                                                                                     \
    } while (0)

/* Enqueues one run of baseline `which`; the last command's event in *last. */
static bool base_enqueue(basectx *bc, int which, const geom *g, cl_mem x, cl_mem w, cl_mem bias,
                         cl_mem y, cl_mem col, const size_t *offs, const float *coef,
                         baseline *b, cl_event *last)
{
    cl_command_queue q = clconv_context_queue(bc->ctx);
    cl_event ev = NULL;
    size_t P = (size_t)(g->OH * g->OW);
    size_t CRS = (size_t)(g->C * g->KH * g->KW);
    if (g->transposed) {
        /* cols[n,g] (M x HW) = W_g^T (M x Cin/G) * X[n,g] (Cin/G x HW), M = Cout/G*KH*KW;
         * then col2im per image and group, which accumulates into y: zero it first. */
        float zero = 0.0f;
        BL_CL(clEnqueueFillBuffer(q, y, &zero, sizeof zero, 0, (size_t)(g->N * g->K) * P * 4, 0,
                                  NULL, NULL),
              "clEnqueueFillBuffer");
        size_t HW = (size_t)(g->H * g->W), M = (size_t)(g->K / g->G * g->KH * g->KW);
        size_t k = (size_t)(g->C / g->G), batch = (size_t)(g->N * g->G);
        if (batch == 1) {
            BL_BLAS(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo,
                                 M, HW, k, 1.0f, w, 0, M, x, 0, HW, 0.0f, col, 0, HW, &q, NULL),
                    "CLBlastSgemm");
        } else {
            const size_t *ao = offs, *bo = offs + batch, *co = offs + 2 * batch;
            const float *alphas = coef, *betas = coef + batch;
            BL_BLAS(CLBlastSgemmBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                        CLBlastTransposeNo, M, HW, k, alphas, w, ao, M, x, bo, HW,
                                        betas, col, co, HW, batch, &q, NULL),
                    "CLBlastSgemmBatched");
        }
        for (size_t i = 0; i < batch; i++) {
            size_t n = i / (size_t)g->G, gi = i % (size_t)g->G;
            size_t yo = (n * (size_t)g->K + gi * (size_t)(g->K / g->G)) * P;
            if (ev)
                clReleaseEvent(ev);
            ev = NULL;
            BL_BLAS(CLBlastScol2im(CLBlastKernelModeCrossCorrelation, (size_t)(g->K / g->G),
                                   (size_t)g->OH, (size_t)g->OW, (size_t)g->KH, (size_t)g->KW,
                                   (size_t)g->PT, (size_t)g->PL, (size_t)g->SH, (size_t)g->SW,
                                   (size_t)g->DH, (size_t)g->DW, col, i * M * HW, y, yo, &q,
                                   &ev),
                    "CLBlastScol2im");
        }
    } else if (which == BL_IM2COL_GEMM) {
        cl_int a[13] = {(cl_int)g->C,  (cl_int)g->H,  (cl_int)g->W,  (cl_int)g->KH, (cl_int)g->KW,
                        (cl_int)g->SH, (cl_int)g->SW, (cl_int)g->PT, (cl_int)g->PL, (cl_int)g->DH,
                        (cl_int)g->DW, (cl_int)g->OH, (cl_int)g->OW};
        BL_CL(clSetKernelArg(bc->im2col, 0, sizeof x, &x), "clSetKernelArg");
        BL_CL(clSetKernelArg(bc->im2col, 1, sizeof col, &col), "clSetKernelArg");
        for (int i = 0; i < 13; i++)
            BL_CL(clSetKernelArg(bc->im2col, (cl_uint)(2 + i), sizeof(cl_int), &a[i]),
                  "clSetKernelArg");
        size_t gs[3] = {P, CRS, (size_t)g->N};
        BL_CL(clEnqueueNDRangeKernel(q, bc->im2col, 3, NULL, gs, NULL, 0, NULL, NULL),
              "clEnqueueNDRangeKernel(im2col)");
        size_t m = (size_t)(g->K / g->G), k = CRS / (size_t)g->G, batch = (size_t)(g->N * g->G);
        if (g->dir == 2) {
            /* dW_g [m x k] = sum over n of dY[n, g] [m x P] x col[n, g]^T [P x k]: one GEMM
             * per image and group, accumulating (beta 1) from the second image on. */
            for (size_t n = 0; n < (size_t)g->N; n++)
                for (size_t gi = 0; gi < (size_t)g->G; gi++) {
                    bool last_gemm = n + 1 == (size_t)g->N && gi + 1 == (size_t)g->G;
                    BL_BLAS(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                         CLBlastTransposeYes, m, k, P, 1.0f, w,
                                         (n * (size_t)g->K + gi * m) * P, P, col,
                                         (n * CRS + gi * k) * P, P, n ? 1.0f : 0.0f, y,
                                         gi * m * k, k, &q, last_gemm ? &ev : NULL),
                            "CLBlastSgemm");
                }
        } else if (batch == 1) {
            BL_BLAS(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m,
                                 P, k, 1.0f, w, 0, k, col, 0, P, 0.0f, y, 0, P, &q, &ev),
                    "CLBlastSgemm");
        } else {
            const size_t *ao = offs, *bo = offs + batch, *co = offs + 2 * batch;
            const float *alphas = coef, *betas = coef + batch;
            BL_BLAS(CLBlastSgemmBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                        CLBlastTransposeNo, m, P, k, alphas, w, ao, k, col, bo, P,
                                        betas, y, co, P, batch, &q, &ev),
                    "CLBlastSgemmBatched");
        }
    } else {
        BL_BLAS(CLBlastSconvgemm(CLBlastKernelModeCrossCorrelation, (size_t)g->C, (size_t)g->H,
                                 (size_t)g->W, (size_t)g->KH, (size_t)g->KW, (size_t)g->PT,
                                 (size_t)g->PL, (size_t)g->SH, (size_t)g->SW, (size_t)g->DH,
                                 (size_t)g->DW, (size_t)g->K, (size_t)g->N, x, 0, w, 0, y, 0, &q,
                                 &ev),
                "CLBlastSconvgemm");
    }
    if (g->bias || g->relu) {
        cl_int K = (cl_int)g->K, Pi = (cl_int)P, hb = g->bias, re = g->relu;
        cl_mem bb = bias ? bias : y;
        BL_CL(clSetKernelArg(bc->bias_act, 0, sizeof y, &y), "clSetKernelArg");
        BL_CL(clSetKernelArg(bc->bias_act, 1, sizeof bb, &bb), "clSetKernelArg");
        BL_CL(clSetKernelArg(bc->bias_act, 2, sizeof K, &K), "clSetKernelArg");
        BL_CL(clSetKernelArg(bc->bias_act, 3, sizeof Pi, &Pi), "clSetKernelArg");
        BL_CL(clSetKernelArg(bc->bias_act, 4, sizeof hb, &hb), "clSetKernelArg");
        BL_CL(clSetKernelArg(bc->bias_act, 5, sizeof re, &re), "clSetKernelArg");
        size_t n = (size_t)g->N * (size_t)g->K * P;
        if (ev)
            clReleaseEvent(ev);
        ev = NULL;
        BL_CL(clEnqueueNDRangeKernel(q, bc->bias_act, 1, NULL, &n, NULL, 0, NULL, &ev),
              "clEnqueueNDRangeKernel(bias_act)");
    }
    *last = ev;
    return true;
done:
    if (ev)
        clReleaseEvent(ev);
    return false;
}

/* Enqueues one run of a baseline; its last command's event in *last. False,
 * with b->skip saying why, on an error. */
typedef bool (*enqueue_fn)(basectx *bc, void *arg, baseline *b, cl_event *last);

/* Times a baseline the way tk_exec times clconv: warmup runs (extended by
 * tk_warmup_runs), then o->runs runs, each from a marker enqueued before it
 * to the end of its last command; their median in b->median_s. False (b->skip
 * says why) on an error. */
static bool time_baseline(basectx *bc, const opts *o, int warmup, enqueue_fn enqueue, void *arg,
                          baseline *b)
{
    cl_command_queue q = clconv_context_queue(bc->ctx);
    double *times = calloc((size_t)o->runs, sizeof *times);
    bool ok = false;
    if (!times) {
        snprintf(b->skip, sizeof b->skip, "out of memory");
        return false;
    }
    double warm_start = 0, timed_start = 0;
    int runs = o->runs;
    for (int i = 0, warm = warmup; i < warm + runs; i++) {
        warm = tk_warmup_runs(i, warm, &warm_start);
        if (i == warm)
            timed_start = tk_now();
        else if (i > warm && tk_now() - timed_start > TK_MAX_TIMING_S) {
            runs = i - warm; /* the wall-clock cap: keep the runs made */
            break;
        }
        double w0 = tk_now();
        cl_event m0 = NULL, last = NULL;
        BL_CL(clEnqueueMarkerWithWaitList(q, 0, NULL, &m0), "clEnqueueMarkerWithWaitList");
        bool enqueued = enqueue(bc, arg, b, &last);
        cl_int err = enqueued ? clFinish(q) : CL_SUCCESS;
        double t = enqueued && err == CL_SUCCESS ? tk_event_span(m0, last) : -1;
        t = t < 0 ? t : tk_span_or_wall(t, tk_now() - w0);
        clReleaseEvent(m0);
        if (last)
            clReleaseEvent(last);
        if (!enqueued)
            goto done;
        BL_CL(err, "clFinish");
        if (t < 0) {
            snprintf(b->skip, sizeof b->skip, "clGetEventProfilingInfo failed");
            goto done;
        }
        if (i >= warm)
            times[i - warm] = t;
    }
    b->median_s = tk_median(times, runs);
    ok = true;
done:
    free(times);
    return ok;
}

/* The copy baseline's run: one copy4 launch over global work-items. */
typedef struct copy_run {
    size_t global, local;
} copy_run;

static bool copy_enqueue(basectx *bc, void *arg, baseline *b, cl_event *last)
{
    const copy_run *c = arg;
    BL_CL(clEnqueueNDRangeKernel(clconv_context_queue(bc->ctx), bc->copy4, 1, NULL, &c->global,
                                 &c->local, 0, NULL, last),
          "clEnqueueNDRangeKernel(copy4)");
    return true;
done:
    return false;
}

/* The bandwidth baseline of a pooling layer: the device's memory bandwidth,
 * as a float4 copy kernel between two buffers of max(128 MiB, 2x the
 * device's global-memory cache, the layer's bytes / 2) each (so neither fits
 * in a cache, as STREAM asks), capped like clconv-query's by the device's
 * allocation limits; timed like clconv's runs (marker to end, median). */
static void run_copy_baseline(basectx *bc, double bytes, const opts *o, baseline *b)
{
    memset(b, 0, sizeof *b);
    if (!bc->copy4) {
        snprintf(b->skip, sizeof b->skip, "%.150s", bc->error[0] ? bc->error : "no copy kernel");
        return;
    }
    cl_command_queue q = clconv_context_queue(bc->ctx);
    cl_device_id dev = clconv_context_device(bc->ctx);
    cl_ulong cache = 0, max_alloc = 0, mem = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof cache, &cache, NULL))
        cache = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL))
        max_alloc = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL))
        mem = 0;
    double side = bytes / 2;
    if (side < 128.0 * (1 << 20))
        side = 128.0 * (1 << 20);
    if (side < 2.0 * (double)cache)
        side = 2.0 * (double)cache;
    if (max_alloc && side > (double)max_alloc)
        side = (double)max_alloc;
    if (mem && side > (double)mem / 4)
        side = (double)mem / 4;
    size_t n4 = (size_t)(side / 16);
    if (n4 == 0 || n4 > (size_t)INT32_MAX) {
        snprintf(b->skip, sizeof b->skip, "no copy size fits the device's limits");
        return;
    }
    cl_mem a = NULL, c = NULL;
    if (!(a = tk_buffer(bc->ctx, n4 * 16, NULL)) || !(c = tk_buffer(bc->ctx, n4 * 16, NULL))) {
        snprintf(b->skip, sizeof b->skip, "clCreateBuffer failed");
        goto done;
    }
    float zero = 0.0f;
    BL_CL(clEnqueueFillBuffer(q, a, &zero, sizeof zero, 0, n4 * 16, 0, NULL, NULL),
          "clEnqueueFillBuffer");
    cl_int n4i = (cl_int)n4;
    BL_CL(clSetKernelArg(bc->copy4, 0, sizeof a, &a), "clSetKernelArg");
    BL_CL(clSetKernelArg(bc->copy4, 1, sizeof c, &c), "clSetKernelArg");
    BL_CL(clSetKernelArg(bc->copy4, 2, sizeof n4i, &n4i), "clSetKernelArg");
    copy_run run = {.local = 64, .global = (n4 + 63) / 64 * 64};
    if (time_baseline(bc, o, o->warmup + 1 /* +1: first touch */, copy_enqueue, &run, b)) {
        b->gbs = 2.0 * (double)n4 * 16 / b->median_s * 1e-9;
        b->ran = true;
    }
done:
    if (a)
        clReleaseMemObject(a);
    if (c)
        clReleaseMemObject(c);
}

/* A CLBlast baseline's run: base_enqueue with the layer's buffers. */
typedef struct blas_run {
    int which;
    const geom *g;
    cl_mem x, w, bias, y, col;
    const size_t *offs;
    const float *coef;
} blas_run;

static bool blas_enqueue(basectx *bc, void *arg, baseline *b, cl_event *last)
{
    const blas_run *r = arg;
    return base_enqueue(bc, r->which, r->g, r->x, r->w, r->bias, r->y, r->col, r->offs, r->coef,
                        b, last);
}

/* Runs and times one baseline; fills *b. ref may be NULL (no verification). */
static void run_baseline(basectx *bc, int which, const tk_layer *L, clconv_shape out,
                         const float *x, const float *w, const float *bias, const float *ref,
                         const opts *o, baseline *b)
{
    geom g;
    geom_of(L, out, &g);
    memset(b, 0, sizeof *b);
    if ((g.transposed || g.dir) && which == BL_CONVGEMM) {
        b->na = true;
        snprintf(b->skip, sizeof b->skip, "conv2d only");
        return;
    }
    if (L->dtype != CLCONV_DTYPE_F32) {
        snprintf(b->skip, sizeof b->skip, "dtype %s (the CLBlast baselines run float32 only)",
                 clconv_dtype_name(L->dtype));
        return;
    }
    if (L->residual) {
        snprintf(b->skip, sizeof b->skip, "residual (the baselines fuse bias and ReLU only)");
        return;
    }
    if (L->activation != CLCONV_ACTIVATION_NONE && L->activation != CLCONV_ACTIVATION_RELU) {
        snprintf(b->skip, sizeof b->skip, "activation %s (the baselines fuse bias and ReLU only)",
                 clconv_activation_name(L->activation));
        return;
    }
    if ((g.transposed || which == BL_CONVGEMM) && (g.PT != g.PB || g.PL != g.PR)) {
        /* CLBlast's col2im and convgemm take one padding per axis. */
        snprintf(b->skip, sizeof b->skip, "asymmetric padding");
        return;
    }
    if (g.transposed) {
        /* col2im derives the column grid from the output size: it must give
         * back the input size (output_padding >= stride breaks that). */
        int64_t ch = (g.OH + 2 * g.PT - (g.DH * (g.KH - 1) + 1)) / g.SH + 1;
        int64_t cw = (g.OW + 2 * g.PL - (g.DW * (g.KW - 1) + 1)) / g.SW + 1;
        if (ch != g.H || cw != g.W || L->out_pad_h >= g.SH || L->out_pad_w >= g.SW) {
            snprintf(b->skip, sizeof b->skip, "output_padding not expressible through col2im");
            return;
        }
    }
    if (which == BL_CONVGEMM && g.G != 1) {
        snprintf(b->skip, sizeof b->skip, "groups > 1");
        return;
    }
    if (!bc->im2col) {
        snprintf(b->skip, sizeof b->skip, "%.150s", bc->error);
        return;
    }
    clconv_context *ctx = bc->ctx;
    cl_command_queue q = clconv_context_queue(ctx);
    size_t nx = (size_t)(g.N * g.C * g.H * g.W), ny = clconv_shape_elements(out);
    size_t nw = (size_t)(g.K * (g.C / g.G) * g.KH * g.KW);
    if (g.dir == 2)
        nw = (size_t)(g.N * g.K * g.OH * g.OW); /* the w operand is dy */
    size_t P = (size_t)(g.OH * g.OW), CRS = (size_t)(g.C * g.KH * g.KW);
    size_t col_bytes = which == BL_IM2COL_GEMM ? (size_t)g.N * CRS * P * 4 : 4;
    if (g.transposed) {
        nw = (size_t)(g.C * (g.K / g.G) * g.KH * g.KW);
        col_bytes = (size_t)g.N * (size_t)(g.K * g.KH * g.KW) * (size_t)(g.H * g.W) * 4;
    }
    cl_ulong max_alloc = 0;
    cl_mem bx = NULL, bw = NULL, bb = NULL, by = NULL, bcol = NULL;
    size_t *offs = NULL;
    float *coef = NULL;
    float *y = NULL;
    if (clGetDeviceInfo(clconv_context_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                        sizeof max_alloc, &max_alloc, NULL) != CL_SUCCESS)
        max_alloc = 0;
    if (col_bytes > max_alloc) {
        snprintf(b->skip, sizeof b->skip, "im2col buffer of %zu MiB exceeds the device's max "
                 "allocation", col_bytes >> 20);
        return;
    }
    size_t batch = (size_t)(g.N * g.G);
    /* For SgemmBatched: the a, b and c offsets, and the alphas and betas. */
    offs = calloc(batch * 3, sizeof *offs);
    coef = calloc(batch * 2, sizeof *coef);
    y = malloc(ny * sizeof *y);
    if (!offs || !coef || !y) {
        snprintf(b->skip, sizeof b->skip, "out of memory");
        goto done;
    }
    {
        size_t m = (size_t)(g.K / g.G), k = CRS / (size_t)g.G;
        size_t HW = (size_t)(g.H * g.W), M = m * (size_t)(g.KH * g.KW), ci = (size_t)(g.C / g.G);
        float *alphas = coef, *betas = coef + batch;
        for (size_t n = 0; n < (size_t)g.N; n++)
            for (size_t gi = 0; gi < (size_t)g.G; gi++) {
                size_t i = n * (size_t)g.G + gi;
                if (g.transposed) {
                    offs[i] = gi * ci * M;                         /* W_g */
                    offs[batch + i] = (n * (size_t)g.C + gi * ci) * HW; /* X[n,g] */
                    offs[2 * batch + i] = i * M * HW;              /* cols[n,g] */
                } else {
                    offs[i] = gi * m * k;
                    offs[batch + i] = n * CRS * P + gi * k * P;
                    offs[2 * batch + i] = n * (size_t)g.K * P + gi * m * P;
                }
                alphas[i] = 1.0f;
                betas[i] = 0.0f;
            }
    }
    if (!(bx = tk_buffer(ctx, nx * 4, x)) || !(bw = tk_buffer(ctx, nw * 4, w)) ||
        !(by = tk_buffer(ctx, ny * 4, NULL)) || !(bcol = tk_buffer(ctx, col_bytes, NULL)) ||
        (g.bias && !(bb = tk_buffer(ctx, (size_t)g.K * 4, bias)))) {
        snprintf(b->skip, sizeof b->skip, "clCreateBuffer failed");
        goto done;
    }
    blas_run run = {which, &g, bx, bw, bb, by, bcol, offs, coef};
    if (!time_baseline(bc, o, o->warmup, blas_enqueue, &run, b))
        goto done;
    BL_CL(clEnqueueReadBuffer(q, by, CL_TRUE, 0, ny * 4, y, 0, NULL, NULL), "clEnqueueReadBuffer");
    b->ran = true;
    if (ref) {
        b->err = tk_compare(y, ref, ny);
        b->verified = true;
    }
done:
    {
        cl_mem all[] = {bx, bw, bb, by, bcol};
        for (size_t i = 0; i < 5; i++)
            if (all[i])
                clReleaseMemObject(all[i]);
    }
    free(offs);
    free(coef);
    free(y);
}

/* ------------------------------------------------------------------------ */
/* The unfused epilogue                                                     */
/* ------------------------------------------------------------------------ */

/* One unfused run: the convolution (bias only), the residual add, the
 * activation, each waiting for the one before. */
typedef struct unfused_run {
    const tk_op *op;
    clconv_plan *conv, *act; /* act NULL: no activation */
    tk_bufs bufs;            /* the convolution's (w NULL once prepared) */
    bool add;                /* the residual pass */
    size_t ny;
} unfused_run;

static const char *lib_error(const clconv_context *ctx)
{
    const char *m = clconv_last_error(ctx);
    return m && *m ? m : clconv_last_error(NULL);
}

static bool unfused_enqueue(basectx *bc, void *arg, baseline *b, cl_event *last)
{
    const unfused_run *u = arg;
    cl_event ev = NULL, next = NULL;
    clconv_status st = u->op->run(u->conv, &u->bufs, &ev);
    if (st) {
        snprintf(b->skip, sizeof b->skip, "the convolution: %.150s", lib_error(bc->ctx));
        return false;
    }
    if (u->add) {
        cl_int e = clEnqueueNDRangeKernel(clconv_context_queue(bc->ctx), bc->residual_add, 1,
                                          NULL, &u->ny, NULL, 1, &ev, &next);
        clReleaseEvent(ev);
        ev = next;
        if (e != CL_SUCCESS) {
            snprintf(b->skip, sizeof b->skip, "clEnqueueNDRangeKernel(residual_add) failed: %d",
                     e);
            return false;
        }
    }
    if (u->act) {
        next = NULL;
        st = clconv_activation_run(u->act, u->bufs.y, u->bufs.y, 1, &ev, &next);
        clReleaseEvent(ev);
        ev = next;
        if (st) {
            snprintf(b->skip, sizeof b->skip, "the activation: %.150s", lib_error(bc->ctx));
            return false;
        }
    }
    *last = ev;
    return true;
}

/* Times the layer of r unfused into r->unfused (r->unfused_form says what
 * runs): the same convolution with its bias only, on the algorithm the
 * fused plan chose, then the residual y = alpha * y + beta * z (this tool's
 * kernel; it adds the bias too when alpha != 1, since alpha * (conv + b) is
 * not the epilogue's alpha * conv + b) and the activation as an elementwise
 * plan, in place. ref (may be NULL) is the fused layer's reference. */
static void run_unfused(basectx *bc, const opts *o, row *r, const float *x, const float *w,
                        const float *bias, const float *z, const float *ref, clconv_shape out)
{
    const tk_layer *L = &r->L;
    const tk_op *op = L->op;
    baseline *b = &r->unfused;
    clconv_context *ctx = bc->ctx;
    cl_command_queue q = clconv_context_queue(ctx);
    memset(b, 0, sizeof *b);
    clconv_activation act;
    float ap[2];
    tk_layer_activation(L, &act, ap);
    bool add_bias = L->residual && L->alpha != 1.0f && L->bias;
    tk_layer U = *L;
    U.relu = false;
    U.activation = CLCONV_ACTIVATION_NONE;
    U.residual = U.pre = false;
    U.alpha = U.beta = 1.0f;
    U.bias = L->bias && !add_bias;
    snprintf(r->unfused_form, sizeof r->unfused_form, "conv%s%s%s%s", U.bias ? "+bias" : "",
             L->residual ? (add_bias ? ", add+bias" : ", add") : "",
             act != CLCONV_ACTIVATION_NONE ? ", " : "",
             act != CLCONV_ACTIVATION_NONE ? clconv_activation_name(act) : "");
    if (L->residual && !bc->residual_add) {
        snprintf(b->skip, sizeof b->skip, "no residual kernel: %.150s", bc->error);
        return;
    }
    clconv_plan *conv = NULL, *aplan = NULL;
    clconv_plan_options po = {0};
    po.algorithm = r->res.info.algorithm;
    clconv_status st = op->plan(ctx, &U, &po, &conv);
    if (st) {
        snprintf(b->skip, sizeof b->skip, "the convolution's plan: %.150s", lib_error(ctx));
        return;
    }
    clconv_plan_info info;
    clconv_plan_get_info(conv, &info);
    if (act != CLCONV_ACTIVATION_NONE &&
        (st = clconv_activation_plan_create(ctx, act, ap, &out, &aplan))) {
        snprintf(b->skip, sizeof b->skip, "the activation's plan: %.150s", lib_error(ctx));
        clconv_plan_destroy(conv);
        return;
    }
    size_t nx = clconv_shape_elements(L->input), ny = clconv_shape_elements(out);
    size_t nw = clconv_shape_elements(r->res.weight);
    unfused_run run = {.op = op, .conv = conv, .act = aplan, .add = L->residual, .ny = ny};
    tk_bufs *bf = &run.bufs;
    cl_mem wbuf = NULL, bbuf = NULL, zbuf = NULL;
    float *y = NULL;
    if (!(bf->x = tk_buffer(ctx, nx * 4, x)) || !(wbuf = tk_buffer(ctx, nw * 4, w)) ||
        !(bf->y = tk_buffer(ctx, ny * 4, NULL)) ||
        (L->bias && !(bbuf = tk_buffer(ctx, (size_t)L->out_channels * 4, bias))) ||
        (info.workspace_bytes && !(bf->workspace = tk_buffer(ctx, info.workspace_bytes, NULL))) ||
        (L->residual && !(zbuf = tk_buffer(ctx, ny * 4, z)))) {
        snprintf(b->skip, sizeof b->skip, "clCreateBuffer failed");
        goto done;
    }
    bf->b = U.bias ? bbuf : NULL; /* else the add kernel adds it */
    bf->w = wbuf;
    if (o->prepare && op->prepare) {
        cl_event pev = NULL;
        if ((st = op->prepare(conv, wbuf, &pev))) {
            snprintf(b->skip, sizeof b->skip, "preparing the weights: %.150s", lib_error(ctx));
            goto done;
        }
        cl_int perr = clWaitForEvents(1, &pev);
        clReleaseEvent(pev);
        BL_CL(perr, "waiting for the weights' preparation");
        bf->w = NULL;
    }
    if (L->residual) {
        cl_int K = (cl_int)out.c, P = (cl_int)(out.h * out.w), hb = add_bias;
        cl_mem bb = bbuf ? bbuf : bf->y;
        cl_kernel k = bc->residual_add;
        BL_CL(clSetKernelArg(k, 0, sizeof bf->y, &bf->y), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 1, sizeof zbuf, &zbuf), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 2, sizeof bb, &bb), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 3, sizeof K, &K), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 4, sizeof P, &P), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 5, sizeof L->alpha, &L->alpha), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 6, sizeof L->beta, &L->beta), "clSetKernelArg");
        BL_CL(clSetKernelArg(k, 7, sizeof hb, &hb), "clSetKernelArg");
    }
    if (!time_baseline(bc, o, o->warmup, unfused_enqueue, &run, b))
        goto done;
    if (!(y = malloc(ny * 4))) {
        snprintf(b->skip, sizeof b->skip, "out of memory");
        goto done;
    }
    BL_CL(clEnqueueReadBuffer(q, bf->y, CL_TRUE, 0, ny * 4, y, 0, NULL, NULL),
          "clEnqueueReadBuffer");
    b->ran = true;
    if (ref) {
        b->err = tk_compare(y, ref, ny);
        b->verified = true;
    }
done:
    {
        cl_mem all[] = {bf->x, wbuf, bf->y, bbuf, bf->workspace, zbuf};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            if (all[i])
                clReleaseMemObject(all[i]);
    }
    clconv_plan_destroy(conv);
    clconv_plan_destroy(aplan);
    free(y);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */
/* ------------------------------------------------------------------------ */

static bool g_tty, g_quiet;
static int g_progress_len;

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
    if (g_quiet)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g_tty) {
        fprintf(stderr, "\r\033[K%s", line);
        g_progress_len = 1;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

static void progress_clear(void)
{
    if (g_tty && g_progress_len) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        g_progress_len = 0;
    }
}

static void run_row(clconv_context *ctx, basectx *bc, const opts *o, row *r, int idx, int total)
{
    const tk_layer *L = &r->L;
    const tk_op *op = L->op;
    const char *label = L->name[0] ? L->name : op->name;
    tk_layer_spec(L, r->spec, sizeof r->spec);
    if (!op->available) {
        r->skipped = true;
        snprintf(r->skip, sizeof r->skip, "%s is not yet available in this build", op->name);
        return;
    }
    clconv_shape wshape, out;
    clconv_status st = op->shapes(L, &wshape, &out);
    if (st) {
        r->failed = true;
        snprintf(r->skip, sizeof r->skip, "%s", tk_last_error());
        return;
    }
    clconv_shape xs = L->input;
    if (op->x_shape && (st = op->x_shape(L, &xs))) {
        r->failed = true;
        snprintf(r->skip, sizeof r->skip, "%s", tk_last_error());
        return;
    }
    size_t nx = clconv_shape_elements(xs), ny = clconv_shape_elements(out);
    size_t nw = op->has_weight ? clconv_shape_elements(wshape) : 0;
    size_t nb = op->has_weight ? (size_t)L->out_channels : 0;
    float *x = malloc(nx * 4), *w = malloc((nw ? nw : 1) * 4), *b = malloc((nb ? nb : 1) * 4);
    float *y = malloc(ny * 4), *ref = o->verify ? malloc(ny * 4) : NULL;
    float *z = L->residual ? malloc(ny * 4) : NULL;
    int64_t *ind = L->indices ? malloc(ny * 8) : NULL, *ref_ind = NULL;
    if (!x || !w || !b || !y || (o->verify && !ref) || (L->indices && !ind) ||
        (L->residual && !z)) {
        r->failed = true;
        snprintf(r->skip, sizeof r->skip, "out of memory");
        goto done;
    }
    tk_fill(x, nx, o->seed + 3 * (uint64_t)idx);
    tk_fill(w, nw, o->seed + 3 * (uint64_t)idx + 1);
    tk_fill(b, nb, o->seed + 3 * (uint64_t)idx + 2);
    if (z) /* a seed no other operand of any row uses */
        tk_fill(z, ny, (o->seed + 3 * (uint64_t)idx) ^ 0x5A5A5A5A5A5Aull);
    progress("[%d/%d] %s: clconv", idx + 1, total, label);
    /* --algo applies to the operators that have that algorithm, --find to conv2d. */
    clconv_plan_options po = {0};
    bool forced = o->algo_set && tk_op_accepts(op, o->plan_opts.algorithm);
    bool find = o->find && !strcmp(op->name, "conv2d") && !forced;
    if (forced)
        po.algorithm = o->plan_opts.algorithm;
    if (L->dtype == CLCONV_DTYPE_F16) {
        /* The device stores halves: the reference must see the same values. */
        tk_round_to_half(x, nx);
        tk_round_to_half(w, nw);
        tk_round_to_half(b, nb);
        if (z)
            tk_round_to_half(z, ny);
        /* An operator or algorithm without F16 kernels refuses the plan with
         * CLCONV_ERROR_UNSUPPORTED: a skip with the library's reason, not a
         * failure. (The plan is cached: tk_exec's plan below is a cache hit.) */
        clconv_plan *probe = NULL;
        st = op->plan(ctx, L, forced ? &po : NULL, &probe);
        if (st == CLCONV_ERROR_UNSUPPORTED) {
            r->skipped = true;
            snprintf(r->skip, sizeof r->skip, "%.150s", lib_error(ctx));
            goto done;
        }
        clconv_plan_destroy(probe); /* other errors: tk_exec reports them */
    }
    po.find = find;
    if (tk_exec(ctx, L, forced || find ? &po : NULL, x, w, b, z, y, NULL, ind, o->warmup,
                o->runs, o->prepare, &r->res, PROG)) {
        r->failed = true;
        snprintf(r->skip, sizeof r->skip, "clconv failed: see the message above");
        goto done;
    }
    if (o->verify) {
        progress("[%d/%d] %s: CPU reference", idx + 1, total, label);
        if (L->indices)
            ref_ind = malloc(ny * 8);
        if ((st = op->reference(L, x, w, b, z, ref, NULL, ref_ind))) {
            r->failed = true;
            snprintf(r->skip, sizeof r->skip, "reference: %s", tk_last_error());
            goto done;
        }
        r->res.err = tk_compare_dtype(y, ref, ny, L->dtype);
        r->res.verified = true;
        if (ind && ref_ind)
            for (size_t i = 0; i < ny; i++)
                if (ind[i] != ref_ind[i]) {
                    r->res.err.ok = false;
                    break;
                }
    }
    r->epilogue = (!strcmp(op->name, "conv2d") || !strcmp(op->name, "conv_transpose2d")) &&
                  tk_layer_has_epilogue(L);
    if (r->epilogue && o->unfused && L->dtype != CLCONV_DTYPE_F32) {
        snprintf(r->unfused.skip, sizeof r->unfused.skip,
                 "dtype %s (the unfused form is timed for f32 only)", clconv_dtype_name(L->dtype));
    } else if (r->epilogue && o->unfused) {
        progress("[%d/%d] %s: unfused", idx + 1, total, label);
        run_unfused(bc, o, r, x, w, b, z, ref, out);
        if (r->unfused.ran && (!r->unfused.verified || r->unfused.err.ok) &&
            r->res.median_s > 0)
            r->fusion_gain = r->unfused.median_s / r->res.median_s;
    }
    if (o->baseline && (!strcmp(op->name, "conv2d") || !strcmp(op->name, "conv_transpose2d") ||
                        op == &tk_conv2d_backward_data_op ||
                        op == &tk_conv2d_backward_weights_op)) {
        double best = 0;
        for (int k = 0; k < BL_COUNT; k++) {
            progress("[%d/%d] %s: CLBlast %s", idx + 1, total, label, bl_name(op, k));
            run_baseline(bc, k, L, out, x, w, b, ref, o, &r->bl[k]);
            baseline *bl = &r->bl[k];
            if (bl->ran && (!bl->verified || bl->err.ok) && (best == 0 || bl->median_s < best))
                best = bl->median_s;
        }
        if (best > 0 && r->res.median_s > 0)
            r->speedup = best / r->res.median_s;
    }
    if (o->baseline && op->bandwidth_bound) {
        progress("[%d/%d] %s: device bandwidth (copy)", idx + 1, total, label);
        run_copy_baseline(bc, r->res.info.bytes, o, &r->copy);
        if (r->copy.ran && r->res.median_s > 0)
            r->bw_fraction = r->res.info.bytes / r->res.median_s * 1e-9 / r->copy.gbs;
    }
done:
    free(x);
    free(w);
    free(b);
    free(y);
    free(ref);
    free(z);
    free(ind);
    free(ref_ind);
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                  */
/* ------------------------------------------------------------------------ */

static double rate_of(const row *r, double seconds)
{
    if (seconds <= 0)
        return 0;
    return (r->L.op->bandwidth_bound ? r->res.info.bytes : r->res.info.flops) / seconds * 1e-9;
}

static void print_text(const row *rows, int n, const opts *o, const char *device)
{
    printf("device: %s\n", device);
    printf("timing: median device time of %d runs after %d warm-up (%s); "
           "GFLOP/s = 2*MACs/time; data seed %llu%s\n", o->runs, o->warmup,
           tk_timing_wall_clock()
               ? "WALL CLOCK, enqueue to completion: the device's profiling timer gave "
                 "zero-length spans"
               : "OpenCL event profiling",
           (unsigned long long)o->seed,
           o->verify ? "; every result checked against the CPU reference" : "");
    bool fusion_cols = false; /* a column pair for the epilogue layers' unfused runs */
    for (int i = 0; i < n; i++)
        fusion_cols |= o->unfused && rows[i].epilogue;
    printf("%-22s %-17s %9s %9s", "layer", "algorithm", "ms", "GFLOP/s");
    if (o->baseline)
        printf(" | %9s %8s | %9s %8s | %7s", "gemm ms", "GFLOP/s", "convgemm", "GFLOP/s",
               "speedup");
    if (fusion_cols)
        printf(" | %10s %7s", "unfused ms", "fusion");
    if (o->verify)
        printf(" | %9s", "max err");
    printf("\n");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        const char *label = r->L.name[0] ? r->L.name : r->L.op->name;
        if (r->skipped || r->failed) {
            printf("%-22s %s: %s\n", label, r->failed ? "FAILED" : "skipped", r->skip);
            continue;
        }
        printf("%-22.22s %-17s %9.3f %8.2f%c", label,
               clconv_algorithm_name(r->res.info.algorithm), r->res.median_s * 1e3,
               rate_of(r, r->res.median_s), r->L.op->bandwidth_bound ? '*' : ' ');
        if (o->baseline && r->copy.ran) {
            /* Pooling: the device bandwidth (copy) in the first baseline
             * column, the fraction of it reached in the speed-up column. */
            printf(" | %9s %8.2f* | %18s | %6.0f%%", "copy", r->copy.gbs, "-",
                   r->bw_fraction * 100);
        } else if (o->baseline) {
            for (int k = 0; k < BL_COUNT; k++) {
                const baseline *b = &r->bl[k];
                if (b->ran)
                    printf(" | %9.3f %8.2f%s", b->median_s * 1e3, rate_of(r, b->median_s),
                           b->verified && !b->err.ok ? "!" : "");
                else
                    printf(" | %18s", "-");
            }
            if (r->speedup > 0)
                printf(" | %6.2fx", r->speedup);
            else
                printf(" | %7s", "-");
        }
        if (fusion_cols && r->unfused.ran)
            printf(" | %10.3f %6.2fx%s", r->unfused.median_s * 1e3,
                   r->unfused.median_s / r->res.median_s,
                   r->unfused.verified && !r->unfused.err.ok ? "!" : "");
        else if (fusion_cols)
            printf(" | %10s %7s", r->epilogue ? "-" : "", "");
        if (o->verify)
            printf(" | %9.2g%s", r->res.err.max_abs, r->res.err.ok ? "" : " MISMATCH");
        printf("\n");
    }
    bool any_bw = false, any_bad_bl = false;
    for (int i = 0; i < n; i++) {
        any_bw |= !rows[i].skipped && !rows[i].failed && rows[i].L.op->bandwidth_bound;
        for (int k = 0; k < BL_COUNT; k++)
            any_bad_bl |= rows[i].bl[k].ran && rows[i].bl[k].verified && !rows[i].bl[k].err.ok;
        any_bad_bl |= rows[i].unfused.ran && rows[i].unfused.verified && !rows[i].unfused.err.ok;
    }
    if (o->baseline)
        printf("gemm: CLBlast baseline, im2col (this tool's kernel) + SGEMM for conv2d, SGEMM + "
               "col2im for conv_transpose2d; convgemm: CLBlastSconvgemm; speedup: the faster "
               "baseline's time / clconv's\n");
    if (fusion_cols)
        printf("ms: clconv with the layer's epilogue fused (activation, residual y = act(alpha * "
               "conv + beta * z + bias)); unfused: the same convolution with its bias only, on the "
               "same algorithm, then the epilogue as separate passes (residual: this tool's add "
               "kernel; activation: clconv_activation_run, in place); fusion: unfused time / "
               "fused time\n");
    if (o->directions != DIR_FWD)
        printf("/dgrad: conv2d backward-data (gemm: SGEMM + col2im); /wgrad: backward-weights "
               "(gemm: im2col + SGEMM dY x col^T per image, accumulated)\n");
    if (any_bw)
        printf("* pooling: GB/s (bytes read + written / time), not GFLOP/s; copy: the device's "
               "memory bandwidth measured next to the layer (a float4 copy between buffers larger "
               "than the caches, bytes read + written); %%: the fraction of it the pooling "
               "reaches\n");
    if (any_bad_bl)
        printf("! CLBlast or unfused result out of tolerance against the reference (left out of "
               "the speed-up / the fusion gain)\n");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < BL_COUNT; k++)
            if (!rows[i].bl[k].ran && !rows[i].bl[k].na && rows[i].bl[k].skip[0] &&
                strcmp(rows[i].bl[k].skip, "groups > 1"))
                printf("note: %s: %s not run: %s\n", rows[i].L.name[0] ? rows[i].L.name : "-",
                       bl_name(rows[i].L.op, k), rows[i].bl[k].skip);
    for (int i = 0; i < n; i++)
        if (fusion_cols && rows[i].epilogue && !rows[i].unfused.ran && rows[i].unfused.skip[0])
            printf("note: %s: unfused not run: %s\n", rows[i].L.name[0] ? rows[i].L.name : "-",
                   rows[i].unfused.skip);
}

static void json_double(const char *key, double v, bool comma)
{
    if (isfinite(v))
        printf("\"%s\": %.6g%s", key, v, comma ? ", " : "");
    else
        printf("\"%s\": null%s", key, comma ? ", " : "");
}

static void print_json(const row *rows, int n, const opts *o, const char *device,
                       const char *source, double geomean, int speedups, int failures)
{
    printf("{\n  \"tool\": \"clconv-bench\",\n  \"device\": ");
    tk_json_string(stdout, device);
    printf(",\n  \"source\": ");
    tk_json_string(stdout, source);
    printf(",\n  \"runs\": %d, \"warmup\": %d, \"seed\": %llu, \"verify\": %s, "
           "\"baseline\": %s, \"prepare\": %s,\n", o->runs, o->warmup,
           (unsigned long long)o->seed, o->verify ? "true" : "false",
           o->baseline ? "true" : "false", o->prepare ? "true" : "false");
    printf("  \"layers\": [");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        printf("%s\n    {\"name\": ", i ? "," : "");
        tk_json_string(stdout, r->L.name);
        printf(", \"op\": \"%s\", \"dtype\": \"%s\", \"spec\": ", r->L.op->name,
               clconv_dtype_name(r->L.dtype));
        tk_json_string(stdout, r->spec);
        if (r->skipped || r->failed) {
            printf(", \"status\": \"%s\", \"reason\": ", r->failed ? "failed" : "skipped");
            tk_json_string(stdout, r->skip);
            printf("}");
            continue;
        }
        printf(", \"status\": \"%s\",\n     ",
               r->res.verified && !r->res.err.ok ? "mismatch" : "ok");
        printf("\"algorithm\": \"%s\", \"kernel\": ", clconv_algorithm_name(r->res.info.algorithm));
        tk_json_string(stdout, r->res.info.kernel_name);
        printf(", ");
        json_double("time_ms", r->res.median_s * 1e3, true);
        json_double("min_ms", r->res.min_s * 1e3, true);
        json_double("plan_ms", r->res.plan_s * 1e3, true);
        printf("\"timing\": \"%s\", ", r->res.spans ? "marker-span" : "kernel-event");
        json_double("flops", r->res.info.flops, true);
        json_double("bytes", r->res.info.bytes, true);
        json_double("gflops", r->res.info.flops / r->res.median_s * 1e-9, true);
        json_double("gbs", r->res.info.bytes / r->res.median_s * 1e-9, true);
        printf("\n     \"verified\": %s, ", r->res.verified ? "true" : "false");
        if (r->res.verified) {
            json_double("max_abs_error", r->res.err.max_abs, true);
            json_double("max_rel_error", r->res.err.max_rel, true);
        }
        printf("\"baselines\": [");
        bool first = true;
        for (int k = 0; k < BL_COUNT; k++) {
            const baseline *b = &r->bl[k];
            if ((!b->ran && !b->skip[0]) || b->na)
                continue;
            printf("%s{\"name\": \"%s\", ", first ? "" : ", ", bl_name(r->L.op, k));
            first = false;
            if (!b->ran) {
                printf("\"skipped\": ");
                tk_json_string(stdout, b->skip);
                printf("}");
                continue;
            }
            json_double("time_ms", b->median_s * 1e3, true);
            json_double("gflops", r->res.info.flops / b->median_s * 1e-9, true);
            if (b->verified) {
                json_double("max_abs_error", b->err.max_abs, true);
                printf("\"ok\": %s, ", b->err.ok ? "true" : "false");
            }
            printf("\"verified\": %s}", b->verified ? "true" : "false");
        }
        printf("], ");
        if (r->epilogue) {
            /* The epilogue and its unfused run (the fused one is time_ms). */
            clconv_activation act;
            float ap[2];
            tk_layer_activation(&r->L, &act, ap);
            printf("\n     \"epilogue\": {\"activation\": \"%s\", \"residual\": %s",
                   clconv_activation_name(act), r->L.residual ? "true" : "false");
            if (r->L.residual) {
                printf(", ");
                json_double("alpha", r->L.alpha, true);
                json_double("beta", r->L.beta, false);
            }
            printf("}, \"unfused\": {");
            if (r->unfused.ran) {
                printf("\"form\": ");
                tk_json_string(stdout, r->unfused_form);
                printf(", ");
                json_double("time_ms", r->unfused.median_s * 1e3, true);
                if (r->unfused.verified) {
                    json_double("max_abs_error", r->unfused.err.max_abs, true);
                    printf("\"ok\": %s, ", r->unfused.err.ok ? "true" : "false");
                }
                printf("\"verified\": %s}, ", r->unfused.verified ? "true" : "false");
            } else {
                printf("\"skipped\": ");
                tk_json_string(stdout, r->unfused.skip[0] ? r->unfused.skip
                                                          : "not timed (--no-unfused)");
                printf("}, ");
            }
            if (r->fusion_gain > 0)
                json_double("fusion_gain", r->fusion_gain, true);
            else
                printf("\"fusion_gain\": null, ");
            printf("\n     ");
        }
        if (r->copy.ran) {
            printf("\"copy_baseline\": {");
            json_double("time_ms", r->copy.median_s * 1e3, true);
            json_double("gbs", r->copy.gbs, false);
            printf("}, ");
            json_double("bandwidth_fraction", r->bw_fraction, true);
        } else if (r->copy.skip[0]) {
            printf("\"copy_baseline\": {\"skipped\": ");
            tk_json_string(stdout, r->copy.skip);
            printf("}, ");
        }
        if (r->speedup > 0)
            json_double("speedup", r->speedup, false);
        else
            printf("\"speedup\": null");
        printf("}");
    }
    printf("\n  ],\n  \"summary\": {\"layers\": %d, \"failures\": %d, \"speedups\": %d, ", n,
           failures, speedups);
    if (speedups)
        json_double("geomean_speedup", geomean, true);
    else
        printf("\"geomean_speedup\": null, ");
    int gains = 0;
    double gain_log = 0;
    for (int i = 0; i < n; i++)
        if (rows[i].fusion_gain > 0) {
            gains++;
            gain_log += log(rows[i].fusion_gain);
        }
    printf("\"fusion_gains\": %d, ", gains);
    if (gains)
        json_double("geomean_fusion_gain", exp(gain_log / gains), false);
    else
        printf("\"geomean_fusion_gain\": null");
    printf("}\n}\n");
}

static void csv_field(const char *s)
{
    bool quote = strpbrk(s, ",\"\n") != NULL;
    if (!quote) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_csv(const row *rows, int n)
{
    printf("name,op,spec,status,algorithm,time_ms,gflops,gbs,max_abs_error,"
           "gemm_baseline_ms,convgemm_ms,speedup,copy_gbs,bandwidth_fraction,unfused_ms,"
           "fusion_gain\n");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        csv_field(r->L.name);
        printf(",%s,", r->L.op->name);
        csv_field(r->spec);
        if (r->skipped || r->failed) {
            printf(",%s,,,,,,,,,,,,\n", r->failed ? "failed" : "skipped");
            continue;
        }
        printf(",%s,%s,%.6g,%.6g,%.6g,", r->res.verified && !r->res.err.ok ? "mismatch" : "ok",
               clconv_algorithm_name(r->res.info.algorithm), r->res.median_s * 1e3,
               r->res.info.flops / r->res.median_s * 1e-9,
               r->res.info.bytes / r->res.median_s * 1e-9);
        if (r->res.verified)
            printf("%.3g", r->res.err.max_abs);
        for (int k = 0; k < BL_COUNT; k++) {
            putchar(',');
            if (r->bl[k].ran)
                printf("%.6g", r->bl[k].median_s * 1e3);
        }
        putchar(',');
        if (r->speedup > 0)
            printf("%.4g", r->speedup);
        putchar(',');
        if (r->copy.ran)
            printf("%.6g,%.4g", r->copy.gbs, r->bw_fraction);
        else
            putchar(',');
        putchar(',');
        if (r->unfused.ran)
            printf("%.6g", r->unfused.median_s * 1e3);
        putchar(',');
        if (r->fusion_gain > 0)
            printf("%.4g", r->fusion_gain);
        putchar('\n');
    }
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clconv-bench [options] --suite NAME[,NAME...]\n"
            "       clconv-bench [options] --shapes FILE\n"
            "       clconv-bench [options] OPERATOR key=value ...   (one layer)\n\n"
            "Times clconv layers on an OpenCL device next to CLBlast on the same device\n"
            "(conv2d: im2col + SGEMM and convgemm; conv_transpose2d: SGEMM + col2im),\n"
            "verifying every result against the CPU reference.\n\n"
            "suites:\n");
    list_suites(f);
    fprintf(f,
            "\nshapes file: one layer per line, '#' starts a comment, e.g.\n"
            "  conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 stride=1 pad=1 groups=1\n"
            "  conv2d n=8 c=32 h=112 w=112 k=32 r=3 s=3 stride=2 pad=1 groups=32 name=dw\n"
            "  max_pool2d n=8 c=64 h=112 w=112 kernel=3 stride=2 pad=1 ceil=0\n"
            "keys: n c h w (input), k (output channels), r s (kernel height, width) or\n"
            "kernel=R[,S], stride=S[,SW], pad=P[,PW]|same, dilation=D[,DW], groups=G,\n"
            "output_padding=P[,PW], bias=0|1, relu=0|1, activation=NAME[:P[,Q]],\n"
            "residual=0|1 (y = act(alpha * conv + beta * z + bias), z of y's shape),\n"
            "alpha=A, beta=B (with residual=1; default 1), ceil=0|1, count_include_pad=0|1,\n"
            "name=LABEL. Defaults: n=1, stride 1 (pooling: the kernel size), pad 0,\n"
            "dilation 1, groups 1.\n\n"
            "options:\n"
            "  --suite NAME       a built-in suite (comma-separated for several)\n"
            "  --shapes FILE      layers from a shapes file ('-' for stdin)\n"
            "  --batch N          override n for every layer\n"
            "  --runs N           timed runs per layer (default 10)\n"
            "  --warmup N         untimed runs first (default 2; the first compiles)\n"
            "  --device SEL       \"P:D\" or part of a device/platform name (as CLCONV_DEVICE)\n"
            "  --algo NAME        force an algorithm on the layers that have it (direct-vector,\n"
            "                     winograd, transposed-gemm, ...; see clconv OPERATOR --help)\n"
            "  --dtype f32|f16    storage of every layer (default: each layer's dtype=, f32);\n"
            "                     f16: buffers of halves, fp32 arithmetic, GB/s counting\n"
            "                     2-byte elements; layers whose algorithm has no F16 kernel\n"
            "                     are skipped with the library's reason, and so are the\n"
            "                     CLBlast baselines and the unfused runs (float32 only)\n"
            "  --prepare          conv2d / conv_transpose2d weights prepared once before the timed\n"
            "                     runs (constant weights, as inference; runs skip repacking)\n"
            "  --find, --tune     conv2d plans time every candidate once and keep the fastest\n"
            "                     (clconv's find mode; the choice is cached in the tuning db)\n"
            "  --json | --csv     machine-readable output on stdout\n"
            "  --no-baseline      skip the baselines (CLBlast; for pooling, the bandwidth copy)\n"
            "  --no-verify        skip the CPU reference check\n"
            "  --no-unfused       skip the unfused runs of the layers with an activation or a\n"
            "                     residual (by default each is also timed as the convolution\n"
            "                     with its bias only, then the epilogue as separate passes,\n"
            "                     and the row shows unfused / fused time)\n"
            "  --seed N           data seed (default 1)\n"
            "  --direction D      which passes of the conv2d layers: fwd (default), bwd-data,\n"
            "                     bwd-weights or all (comma-separated for several); the\n"
            "                     backward rows are named LAYER/dgrad and LAYER/wgrad;\n"
            "                     the other operators keep their forward rows\n"
            "  --quiet            no progress line on stderr\n"
            "  --list             print the layers as shapes-file lines and exit\n\n"
            "Exit codes: 0 ok, 1 error, 2 no OpenCL device, 3 a clconv result failed\n"
            "verification, 64 usage.\n");
}

/* Frees the layer table on the way out with an exit code. */
static int release_rows(row *rows, int code)
{
    free(rows);
    return code;
}

static bool add_row(row **rows, int *n, int *cap, const tk_layer *L)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 32;
        row *r = realloc(*rows, (size_t)nc * sizeof *r);
        if (!r)
            return false;
        *rows = r;
        *cap = nc;
    }
    memset(&(*rows)[*n], 0, sizeof **rows);
    (*rows)[(*n)++].L = *L;
    return true;
}

int main(int argc, char **argv)
{
    opts o = {.runs = 10, .warmup = 2, .baseline = true, .verify = true, .seed = 1,
              .directions = DIR_FWD, .unfused = true};
    const char *suites_arg = NULL, *shapes = NULL;
    int64_t batch = 0;
    bool list_only = false;
    row *rows = NULL;
    int nrows = 0, cap = 0;
    char err[512];
    char source[256] = "";
    char layer_line[1024] = "";
    size_t layer_used = 0;
    bool have_layer = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t t;
#define NEED_VALUE                                                                       \
    do {                                                                                 \
        if (!v) {                                                                        \
            fprintf(stderr, "%s: %s needs a value\n", PROG, a);                          \
            return TK_EXIT_USAGE;                                                        \
        }                                                                                \
        i++;                                                                             \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return TK_EXIT_OK;
        } else if (!strcmp(a, "--suite")) {
            NEED_VALUE;
            suites_arg = v;
        } else if (!strcmp(a, "--shapes")) {
            NEED_VALUE;
            shapes = v;
        } else if (!strcmp(a, "--runs") || !strcmp(a, "--warmup") || !strcmp(a, "--batch") ||
                   !strcmp(a, "--seed")) {
            NEED_VALUE;
            if (!tk_parse_int(v, !strcmp(a, "--runs") || !strcmp(a, "--batch") ? 1 : 0, &t) ||
                t > 100000) {
                fprintf(stderr, "%s: %s %s: expected a number\n", PROG, a, v);
                return TK_EXIT_USAGE;
            }
            if (!strcmp(a, "--runs")) o.runs = (int)t;
            else if (!strcmp(a, "--warmup")) o.warmup = (int)t;
            else if (!strcmp(a, "--batch")) batch = t;
            else o.seed = (uint64_t)t;
        } else if (!strcmp(a, "--direction")) {
            NEED_VALUE;
            char dl[64];
            snprintf(dl, sizeof dl, "%s", v);
            o.directions = 0;
            char *save = NULL;
            for (char *d = strtok_r(dl, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
                if (!strcmp(d, "fwd")) o.directions |= DIR_FWD;
                else if (!strcmp(d, "bwd-data")) o.directions |= DIR_BWD_DATA;
                else if (!strcmp(d, "bwd-weights")) o.directions |= DIR_BWD_WEIGHTS;
                else if (!strcmp(d, "all")) o.directions |= DIR_FWD | DIR_BWD_DATA | DIR_BWD_WEIGHTS;
                else {
                    fprintf(stderr, "%s: --direction %s: expected fwd, bwd-data, bwd-weights or "
                            "all\n", PROG, v);
                    return TK_EXIT_USAGE;
                }
            }
            if (!o.directions) {
                fprintf(stderr, "%s: --direction needs fwd, bwd-data, bwd-weights or all\n", PROG);
                return TK_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--device")) {
            NEED_VALUE;
            o.device = v;
        } else if (!strcmp(a, "--dtype")) {
            NEED_VALUE;
            if (!tk_parse_dtype(v, &o.dtype)) {
                fprintf(stderr, "%s: --dtype %s: expected f32 or f16\n", PROG, v);
                return TK_EXIT_USAGE;
            }
            o.dtype_set = true;
        } else if (!strcmp(a, "--algo")) {
            NEED_VALUE;
            if (!tk_parse_algorithm(v, &o.plan_opts.algorithm)) {
                fprintf(stderr, "%s: --algo %s: unknown algorithm\n", PROG, v);
                return TK_EXIT_USAGE;
            }
            o.algo_set = true;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else if (!strcmp(a, "--csv")) {
            o.csv = true;
        } else if (!strcmp(a, "--no-baseline")) {
            o.baseline = false;
        } else if (!strcmp(a, "--no-verify")) {
            o.verify = false;
        } else if (!strcmp(a, "--no-unfused")) {
            o.unfused = false;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = true;
        } else if (!strcmp(a, "--list")) {
            list_only = true;
        } else if (!strcmp(a, "--find") || !strcmp(a, "--tune")) {
            o.find = true;
        } else if (!strcmp(a, "--prepare")) {
            o.prepare = true;
        } else if (a[0] == '-' && !have_layer) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", PROG, a);
            return TK_EXIT_USAGE;
        } else {
            /* A layer: OPERATOR key=value ... (also --key=value or --key value). */
            const char *k = a;
            while (k[0] == '-')
                k++;
            if (have_layer && a[0] == '-' && !strchr(k, '=') &&
                (!v || (v[0] == '-' && !isdigit((unsigned char)v[1])))) {
                /* --relu, --bias ... as switches */
                layer_used += (size_t)snprintf(layer_line + layer_used,
                                               sizeof layer_line - layer_used, " %s=1", k);
            } else if (have_layer && a[0] == '-' && !strchr(k, '=') && v) {
                layer_used += (size_t)snprintf(layer_line + layer_used,
                                               sizeof layer_line - layer_used, " %s=%s", k, v);
                i++;
            } else {
                layer_used += (size_t)snprintf(layer_line + layer_used,
                                               sizeof layer_line - layer_used, " %s", k);
            }
            if (layer_used >= sizeof layer_line) {
                fprintf(stderr, "%s: layer description too long\n", PROG);
                return TK_EXIT_USAGE;
            }
            have_layer = true;
        }
#undef NEED_VALUE
    }
    if (o.json && o.csv) {
        fprintf(stderr, "%s: --json and --csv exclude each other\n", PROG);
        return TK_EXIT_USAGE;
    }
    if (!!suites_arg + !!shapes + have_layer != 1) {
        fprintf(stderr, "%s: give exactly one of --suite, --shapes or a layer (see --help)\n",
                PROG);
        return release_rows(rows, TK_EXIT_USAGE);
    }

    /* Collect the layers. */
    tk_layer L;
    if (have_layer) {
        if (!tk_parse_layer_spec(layer_line, &L, err, sizeof err)) {
            fprintf(stderr, "%s: layer: %s\n", PROG, err[0] ? err : "empty");
            return release_rows(rows, TK_EXIT_USAGE);
        }
        if (batch)
            L.input.n = batch;
        if (!add_row(&rows, &nrows, &cap, &L))
            return release_rows(rows, TK_EXIT_FAILURE);
        snprintf(source, sizeof source, "layer");
    } else if (shapes) {
        FILE *f = strcmp(shapes, "-") ? fopen(shapes, "r") : stdin;
        if (!f) {
            fprintf(stderr, "%s: %s: cannot open\n", PROG, shapes);
            return release_rows(rows, TK_EXIT_FAILURE);
        }
        char line[1024];
        int lineno = 0;
        while (fgets(line, sizeof line, f)) {
            lineno++;
            if (!tk_parse_layer_spec(line, &L, err, sizeof err)) {
                if (!err[0])
                    continue;
                fprintf(stderr, "%s: %s:%d: %s\n", PROG, shapes, lineno, err);
                if (f != stdin)
                    fclose(f);
                return release_rows(rows, TK_EXIT_USAGE);
            }
            if (batch)
                L.input.n = batch;
            if (!add_row(&rows, &nrows, &cap, &L))
                return release_rows(rows, TK_EXIT_FAILURE);
        }
        if (f != stdin)
            fclose(f);
        snprintf(source, sizeof source, "shapes:%s", shapes);
    } else {
        char list[256];
        snprintf(list, sizeof list, "%s", suites_arg);
        char *save = NULL;
        for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            int64_t suite_batch = 1;
            const char *text = find_suite(name, &suite_batch);
            if (!text) {
                fprintf(stderr, "%s: unknown suite '%s' (known:", PROG, name);
                for (size_t i = 0; i < clconv_embedded_suites_count; i++)
                    fprintf(stderr, " %s", clconv_embedded_suites[i].name);
                fprintf(stderr, ", and NAME-bN for batch N)\n");
                return release_rows(rows, TK_EXIT_USAGE);
            }
            int lineno = 0;
            for (const char *l = text; *l; lineno++) {
                const char *e = strchr(l, '\n');
                size_t n = e ? (size_t)(e - l) : strlen(l);
                char line[1024];
                snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), l);
                l = e ? e + 1 : l + n;
                if (!tk_parse_layer_spec(line, &L, err, sizeof err)) {
                    if (!err[0])
                        continue; /* a comment or a blank line */
                    fprintf(stderr, "%s: suite %s, line %d: %s\n", PROG, name, lineno + 1, err);
                    return release_rows(rows, TK_EXIT_FAILURE);
                }
                L.input.n = batch ? batch : suite_batch;
                if (!add_row(&rows, &nrows, &cap, &L))
                    return release_rows(rows, TK_EXIT_FAILURE);
            }
        }
        snprintf(source, sizeof source, "suite:%s", suites_arg);
    }
    if (o.dtype_set)
        for (int i = 0; i < nrows; i++)
            rows[i].L.dtype = o.dtype;
    if (nrows == 0) {
        fprintf(stderr, "%s: no layers\n", PROG);
        return release_rows(rows, TK_EXIT_USAGE);
    }
    if (list_only) {
        /* The layers as shapes-file lines: edit them into a file for --shapes. */
        for (int i = 0; i < nrows; i++) {
            char spec[256];
            tk_layer_spec(&rows[i].L, spec, sizeof spec);
            printf("%s%s%s\n", spec, rows[i].L.name[0] ? " name=" : "", rows[i].L.name);
        }
        free(rows);
        return TK_EXIT_OK;
    }

    if (o.directions != DIR_FWD) {
        /* Each conv2d layer becomes a row per selected pass; the other operators
         * have forward rows only. */
        row *ex = NULL;
        int nex = 0, cex = 0;
        for (int i = 0; i < nrows; i++) {
            const tk_layer *B = &rows[i].L;
            bool conv = !strcmp(B->op->name, "conv2d");
            if (((o.directions & DIR_FWD) || !conv) && !add_row(&ex, &nex, &cex, B)) {
                free(ex);
                return release_rows(rows, TK_EXIT_FAILURE);
            }
            for (int d = 0; conv && d < 2; d++) {
                if (!(o.directions & (d ? DIR_BWD_WEIGHTS : DIR_BWD_DATA)))
                    continue;
                tk_layer D = *B;
                D.op = d ? &tk_conv2d_backward_weights_op : &tk_conv2d_backward_data_op;
                D.bias = D.relu = false; /* the backward passes take no epilogue */
                D.activation = CLCONV_ACTIVATION_NONE;
                D.residual = false;
                D.alpha = D.beta = 1.0f;
                snprintf(D.name, sizeof D.name, "%.40s/%s", B->name[0] ? B->name : "conv2d",
                         d ? "wgrad" : "dgrad");
                if (!add_row(&ex, &nex, &cex, &D)) {
                    free(ex);
                    return release_rows(rows, TK_EXIT_FAILURE);
                }
            }
        }
        free(rows);
        rows = ex;
        nrows = nex;
        if (nrows == 0) {
            fprintf(stderr, "%s: no layers for --direction\n", PROG);
            return release_rows(rows, TK_EXIT_USAGE);
        }
    }
    g_quiet = o.quiet;
    g_tty = !o.quiet && isatty(2);
    clconv_context *ctx = NULL;
    clconv_status st = clconv_context_create_for(o.device, &ctx);
    if (st) {
        tk_report(PROG, "device", st, NULL);
        free(rows);
        return st == CLCONV_ERROR_NO_DEVICE ? TK_EXIT_NO_PLATFORM : TK_EXIT_FAILURE;
    }
    char device[384];
    {
        cl_platform_id plat = NULL;
        char pname[128] = "";
        if (clGetDeviceInfo(clconv_context_device(ctx), CL_DEVICE_PLATFORM, sizeof plat, &plat,
                            NULL) == CL_SUCCESS)
            clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof pname, pname, NULL);
        snprintf(device, sizeof device, "%s (%s)", clconv_context_device_name(ctx), pname);
    }
    basectx bc;
    memset(&bc, 0, sizeof bc);
    bc.ctx = ctx;
    bool any_residual = false; /* the unfused residual needs this tool's add kernel */
    for (int i = 0; i < nrows; i++)
        any_residual |= rows[i].L.residual;
    if ((o.baseline || (o.unfused && any_residual)) && !base_init(&bc, ctx) && !o.quiet)
        fprintf(stderr, "%s: baselines unavailable: %s\n", PROG, bc.error);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < nrows; i++)
        run_row(ctx, &bc, &o, &rows[i], i, nrows);
    progress_clear();
    clock_gettime(CLOCK_MONOTONIC, &t1);

    int failures = 0, mismatches = 0, speedups = 0, gains = 0;
    double logsum = 0, gain_log = 0;
    for (int i = 0; i < nrows; i++) {
        if (rows[i].fusion_gain > 0) {
            gain_log += log(rows[i].fusion_gain);
            gains++;
        }
        failures += rows[i].failed;
        mismatches += !rows[i].skipped && !rows[i].failed && rows[i].res.verified &&
                      !rows[i].res.err.ok;
        if (rows[i].speedup > 0) {
            logsum += log(rows[i].speedup);
            speedups++;
        }
    }
    double geomean = speedups ? exp(logsum / speedups) : 0;
    if (tk_timing_wall_clock() && (o.json || o.csv) && !o.quiet)
        fprintf(stderr, "%s: the device's profiling timer gave zero-length spans: the times are "
                        "wall clock, enqueue to completion\n", PROG);
    if (o.json) {
        print_json(rows, nrows, &o, device, source, geomean, speedups, failures + mismatches);
    } else if (o.csv) {
        print_csv(rows, nrows);
    } else {
        print_text(rows, nrows, &o, device);
        int ran = 0, skipped = 0;
        for (int i = 0; i < nrows; i++) {
            ran += !rows[i].skipped && !rows[i].failed;
            skipped += rows[i].skipped;
        }
        printf("summary: %d layers run, %d skipped, %d failed, %d verification mismatches",
               ran, skipped, failures, mismatches);
        if (speedups)
            printf("; geometric-mean speed-up vs the best CLBlast baseline: %.2fx over %d "
                   "layers", geomean, speedups);
        if (gains)
            printf("; fusion gain (unfused / fused time) geomean %.2fx over %d layers",
                   exp(gain_log / gains), gains);
        printf(" (%.1f s)\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec -
                                                                               t0.tv_nsec));
    }
    base_free(&bc);
    clconv_context_destroy(ctx);
    free(rows);
    if (failures)
        return TK_EXIT_FAILURE;
    if (mismatches)
        return TK_EXIT_MISMATCH;
    return TK_EXIT_OK;
}
