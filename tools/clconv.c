/* clconv: runs one operator on NumPy .npy files, with PyTorch's functional
 * API's flag names and defaults.
 *
 *   clconv conv2d --input x.npy --weight w.npy [--bias b.npy] [--stride 2[,1]]
 *                 [--padding P|PH,PW|T,B,L,R|same|valid] [--dilation 1] [--groups 1]
 *                 [--relu | --activation NAME[:P[,Q]]]
 *                 [--residual z.npy [--alpha A] [--beta B]] [--pre pre.npy]
 *                 --output y.npy [--device SEL] [--dtype f32|f16] [--verify]
 *                 [--time [--runs N]]
 *
 * --residual adds the epilogue's residual, y = act(alpha * conv + beta * z +
 * bias) with z of y's shape, --pre writes the activation's input too; both
 * run through clconv_conv_run, and --verify compares with the *_epilogue
 * reference.
 *
 * --dtype f16 runs the layer on half-precision storage (device buffers of
 * halves, fp32 arithmetic; the *_host calls take floats only): inputs may be
 * '<f4' (rounded to the nearest half) or '<f2' .npy files, the output (and
 * --pre) is written as '<f2', and --verify compares with the reference on the
 * halves widened to float, within the F16 bound (the F32 bound plus one half
 * ulp of the result). Without --dtype (f32) '<f2' inputs are widened exactly
 * and the output is '<f4'.
 *
 * Exit codes: 0 success, 1 error, 2 no OpenCL platform/device, 3 --verify
 * found a mismatch, 64 usage error. */
#include "npy.h"
#include "toolkit.h"

#include <stdlib.h>
#include <string.h>

static const char *PROG = "clconv";

typedef struct cli {
    const char *input, *weight, *bias, *output, *indices, *device, *algo;
    const char *residual, *pre;     /* the epilogue's z (input) and pre-activation (output) */
    const char *scale_flag;         /* the first of --alpha / --beta given, or NULL */
    bool verify, time, quiet, find;
    int64_t runs, warmup;
} cli;

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: clconv OPERATOR --input X.npy [operator flags] --output Y.npy [options]\n"
            "       clconv OPERATOR --help\n\n"
            "Runs one layer on an OpenCL device. Tensors are .npy files (float32, C order,\n"
            "NCHW, or CHW for one image; float16 too: see --dtype); flags and defaults\n"
            "follow torch.nn.functional.\n\n"
            "operators:\n");
    for (int i = 0; i < tk_num_ops; i++)
        fprintf(f, "  %-18s %s%s\n", tk_ops[i].name, tk_ops[i].summary,
                tk_ops[i].available ? "" : " (not yet available)");
    fprintf(f, "\nExit codes: 0 ok, 1 error, 2 no OpenCL device, 3 --verify mismatch, 64 usage.\n");
}

static void usage_op(FILE *f, const tk_op *op)
{
    fprintf(f, "usage: clconv %s --input X.npy%s [flags] --output Y.npy [options]\n\n%s.\n",
            op->name, op->has_weight ? " --weight W.npy" : "", op->summary);
    if (!op->available) {
        fprintf(f, "\n%s is not yet available in this build of libclconv.\n", op->name);
        return;
    }
    char algos[256];
    tk_op_algorithms(op, algos, sizeof algos);
    fprintf(f,
            "\ntensors:\n"
            "  --input X.npy         input [N, C, H, W] or [C, H, W], float32 or float16\n"
            "                        (required)\n"
            "  --output Y.npy        where to write the result, float32 ('<f4'), or float16\n"
            "                        ('<f2') with --dtype f16 (required)\n"
            "\n%s flags:\n%s"
            "\noptions:\n"
            "  --device SEL          device: \"P:D\" indices or part of a device/platform name\n"
            "                        (default: $CLCONV_DEVICE, else the first GPU, else the\n"
            "                        first device; list them with clconv-query)\n"
            "  --algo NAME           auto (default), or one of: %s\n"
            "  --dtype f32|f16       storage of every tensor (default f32). f16: buffers of\n"
            "                        halves with fp32 arithmetic; '<f4' inputs are rounded to\n"
            "                        half, the output is written as '<f2'; algorithms without\n"
            "                        F16 kernels fail with the library's UNSUPPORTED message\n"
            "%s"
            "  --verify              also run the CPU reference and print the max absolute and\n"
            "                        relative error; exit 3 when out of tolerance\n"
            "  --time                print the device time (median of --runs runs after\n"
            "                        warm-up runs for at least 0.1 s, from OpenCL event\n"
            "                        profiling: a marker before the run to the end of its\n"
            "                        last command)\n"
            "  --runs N              timed runs for --time (default 5)\n"
            "  --quiet               print nothing but errors\n"
            "  --help                this text\n",
            op->name, op->flags_help, algos,
            !strcmp(op->name, "conv2d")
                ? "  --find                time every algorithm and tile candidate once, use the\n"
                  "                        fastest (recorded in the tuning database)\n"
                : "");
}

static bool op_has_flag(const tk_op *op, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = op->flags; (p = strstr(p, flag)); p += n)
        if ((p == op->flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* Parses argv[2..] for op into c and L; returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, const tk_op *op, cli *c, tk_layer *L)
{
    memset(c, 0, sizeof *c);
    c->runs = 5;
    c->warmup = 1;
    memset(L, 0, sizeof *L);
    L->op = op;
    op->defaults(L);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_op(stdout, op);
            return TK_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "%s %s: unexpected argument '%s' (see --help)\n", PROG, op->name, a);
            return TK_EXIT_USAGE;
        }
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof name) {
            fprintf(stderr, "%s %s: unknown option '%s' (see --help)\n", PROG, op->name, a);
            return TK_EXIT_USAGE;
        }
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        /* Flags without a value. */
        static const char *const switches[] = {"verify", "time", "quiet", "find", "relu", "ceil-mode",
                                               "count-include-pad", "no-count-include-pad"};
        bool is_switch = false;
        for (size_t s = 0; s < sizeof switches / sizeof switches[0]; s++)
            if (!strcmp(name, switches[s]))
                is_switch = true;
        if (!is_switch) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                fprintf(stderr, "%s %s: --%s needs a value\n", PROG, op->name, name);
                return TK_EXIT_USAGE;
            }
        } else if (eq) {
            fprintf(stderr, "%s %s: --%s takes no value\n", PROG, op->name, name);
            return TK_EXIT_USAGE;
        }
        char err[256] = "";
        bool ok = true;
        /* --alpha / --beta (layer keys, set below) scale the residual: remember
         * the first for the check that --residual came too. */
        if (!c->scale_flag && (!strcmp(name, "alpha") || !strcmp(name, "beta")))
            c->scale_flag = !strcmp(name, "alpha") ? "--alpha" : "--beta";
        if (!strcmp(name, "input")) c->input = val;
        else if (!strcmp(name, "output")) c->output = val;
        else if (!strcmp(name, "device")) c->device = val;
        else if (!strcmp(name, "algo")) c->algo = val;
        else if (!strcmp(name, "dtype")) ok = tk_parse_dtype(val, &L->dtype);
        else if (!strcmp(name, "verify")) c->verify = true;
        else if (!strcmp(name, "time")) c->time = true;
        else if (!strcmp(name, "quiet")) c->quiet = true;
        else if (!strcmp(name, "find") && !strcmp(op->name, "conv2d")) c->find = true;
        else if (!strcmp(name, "runs")) ok = tk_parse_int(val, 1, &c->runs);
        else if (!strcmp(name, "warmup")) ok = tk_parse_int(val, 0, &c->warmup);
        else if (!op_has_flag(op, name)) {
            fprintf(stderr, "%s %s: unknown option '--%s' (see %s %s --help)\n", PROG, op->name,
                    name, PROG, op->name);
            return TK_EXIT_USAGE;
        } else if (!strcmp(name, "weight")) c->weight = val;
        else if (!strcmp(name, "bias")) c->bias = val;
        else if (!strcmp(name, "residual")) c->residual = val;
        else if (!strcmp(name, "pre")) c->pre = val;
        else if (!strcmp(name, "indices")) c->indices = val;
        else if (!strcmp(name, "relu")) L->relu = true;
        else if (!strcmp(name, "ceil-mode")) L->ceil_mode = true;
        else if (!strcmp(name, "count-include-pad")) L->count_include_pad = true;
        else if (!strcmp(name, "no-count-include-pad")) L->count_include_pad = false;
        else if (!strcmp(name, "padding")) ok = tk_layer_set(L, "pad", val, err, sizeof err);
        else if (!strcmp(name, "output-padding"))
            ok = tk_layer_set(L, "output_padding", val, err, sizeof err);
        else if (!strcmp(name, "kernel-size")) ok = tk_layer_set(L, "kernel", val, err, sizeof err);
        else {
            for (char *q = name; *q; q++)
                if (*q == '-')
                    *q = '_';
            ok = tk_layer_set(L, name, val, err, sizeof err);
        }
        if (!ok) {
            fprintf(stderr, "%s %s: --%s: bad value '%s' (see %s %s --help)\n", PROG, op->name,
                    name, val ? val : "", PROG, op->name);
            return TK_EXIT_USAGE;
        }
    }
    if (!op->available) {
        fprintf(stderr, "%s %s: not yet available in this build of libclconv\n", PROG, op->name);
        return TK_EXIT_FAILURE;
    }
    const char *missing = !c->input ? "--input" : !c->output ? "--output"
                          : op->has_weight && !c->weight ? "--weight" : NULL;
    if (!missing && !op->has_weight && L->kernel_h <= 0)
        missing = "--kernel-size";
    if (missing) {
        fprintf(stderr, "%s %s: %s is required (see %s %s --help)\n", PROG, op->name, missing,
                PROG, op->name);
        return TK_EXIT_USAGE;
    }
    if (c->scale_flag && !c->residual) {
        fprintf(stderr, "%s %s: %s scales the residual: it needs --residual Z.npy (y = act(alpha "
                "* conv + beta * z + bias)); see %s %s --help\n", PROG, op->name, c->scale_flag,
                PROG, op->name);
        return TK_EXIT_USAGE;
    }
    L->residual = c->residual != NULL;
    L->pre = c->pre != NULL;
    return -1;
}

/* Reads a '<f4' or '<f2' file into a->data as floats ('<f2' widened
 * exactly); with dtype F16 the floats are then rounded to the nearest half,
 * the values the device stores, so the reference sees exactly those. */
static int load(const char *path, npy_array *a, clconv_dtype dtype)
{
    char err[512];
    if (npy_read(path, a, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return -1;
    }
    if (a->dtype == NPY_F16) {
        a->data = malloc(a->count ? a->count * sizeof(float) : 4);
        if (!a->data) {
            fprintf(stderr, "%s: %s: out of memory\n", PROG, path);
            npy_free(a);
            return -1;
        }
        clconv_halves_to_floats(a->halves, a->data, a->count);
    } else if (dtype == CLCONV_DTYPE_F16) {
        tk_round_to_half(a->data, a->count);
    }
    return 0;
}

/* Writes y as '<f4', or as '<f2' for dtype F16 (y holds widened halves:
 * the conversion back is exact). */
static int save(const char *path, const int64_t *shape, int nd, const float *y, size_t n,
                clconv_dtype dtype, char *err, size_t en)
{
    if (dtype != CLCONV_DTYPE_F16)
        return npy_write_f32(path, shape, nd, y, err, en);
    uint16_t *h = malloc(n ? n * sizeof *h : 2);
    if (!h) {
        snprintf(err, en, "%s: out of memory", path);
        return -1;
    }
    clconv_floats_to_halves(y, h, n);
    int rc = npy_write_f16(path, shape, nd, h, err, en);
    free(h);
    return rc;
}

static int run_op(const tk_op *op, const cli *c, tk_layer *L)
{
    npy_array x = {0}, w = {0}, b = {0}, z = {0};
    float *y = NULL, *ref = NULL, *pre = NULL, *ref_pre = NULL;
    int64_t *idx = NULL, *ref_idx = NULL;
    clconv_context *ctx = NULL;
    int rc = TK_EXIT_FAILURE;
    char sh[128], sh2[128];

    if (load(c->input, &x, L->dtype))
        goto done;
    bool unbatched = x.ndim == 3;
    if (x.ndim != 3 && x.ndim != 4) {
        npy_shape_string(x.shape, x.ndim, sh, sizeof sh);
        fprintf(stderr, "%s: %s: input shape %s: expected 4 dimensions [N, C, H, W] or 3 "
                "[C, H, W]\n", PROG, c->input, sh);
        goto done;
    }
    int o = unbatched ? 0 : 1; /* index of C */
    L->input = (clconv_shape){unbatched ? 1 : x.shape[0], x.shape[o], x.shape[o + 1],
                              x.shape[o + 2]};
    if (clconv_shape_elements(L->input) == 0) {
        npy_shape_string(x.shape, x.ndim, sh, sizeof sh);
        fprintf(stderr, "%s: %s: input shape %s has an empty dimension\n", PROG, c->input, sh);
        goto done;
    }
    if (op->has_weight) {
        if (load(c->weight, &w, L->dtype))
            goto done;
        npy_shape_string(w.shape, w.ndim, sh, sizeof sh);
        if (w.ndim != 4 || w.count == 0) {
            fprintf(stderr, "%s: %s: weight shape %s: expected 4 non-empty dimensions\n", PROG,
                    c->weight, sh);
            goto done;
        }
        /* conv2d: [out, in/groups, kh, kw]; conv_transpose2d: [in, out/groups, kh, kw]. */
        bool transposed = !strcmp(op->name, "conv_transpose2d");
        int64_t in_dim = transposed ? w.shape[0] : w.shape[1] * L->groups;
        if (in_dim != L->input.c || (transposed && w.shape[0] % L->groups)) {
            npy_shape_string(x.shape, x.ndim, sh2, sizeof sh2);
            fprintf(stderr, "%s: weight shape %s does not fit input shape %s with groups=%lld: "
                    "expected weight.shape[%d] = %lld\n", PROG, sh, sh2, (long long)L->groups,
                    transposed ? 0 : 1,
                    (long long)(transposed ? L->input.c : L->input.c / L->groups));
            goto done;
        }
        L->out_channels = transposed ? w.shape[1] * L->groups : w.shape[0];
        L->kernel_h = w.shape[2];
        L->kernel_w = w.shape[3];
        if (c->bias) {
            if (load(c->bias, &b, L->dtype))
                goto done;
            if (b.ndim != 1 || b.shape[0] != L->out_channels) {
                npy_shape_string(b.shape, b.ndim, sh, sizeof sh);
                fprintf(stderr, "%s: %s: bias shape %s: expected (%lld,), one value per output "
                        "channel\n", PROG, c->bias, sh, (long long)L->out_channels);
                goto done;
            }
            L->bias = true;
        }
    }
    if (c->indices)
        L->indices = true;

    clconv_shape wshape, oshape;
    clconv_status st = op->shapes(L, &wshape, &oshape);
    if (st) {
        tk_report(PROG, op->name, st, NULL);
        goto done;
    }
    clconv_plan_options opts = {0};
    if (c->algo && !tk_parse_algorithm(c->algo, &opts.algorithm)) {
        fprintf(stderr, "%s: --algo %s: unknown algorithm\n", PROG, c->algo);
        rc = TK_EXIT_USAGE;
        goto done;
    }
    int64_t oshape4[4] = {oshape.n, oshape.c, oshape.h, oshape.w};
    int nd = unbatched ? 3 : 4;
    const int64_t *os = unbatched ? oshape4 + 1 : oshape4;
    if (c->residual) {
        /* z is read as y is written: the same shape, batched or not as y. */
        if (load(c->residual, &z, L->dtype))
            goto done;
        bool same = z.ndim == nd;
        for (int i = 0; same && i < nd; i++)
            same = z.shape[i] == os[i];
        if (!same) {
            npy_shape_string(z.shape, z.ndim, sh, sizeof sh);
            npy_shape_string(os, nd, sh2, sizeof sh2);
            fprintf(stderr, "%s: %s: residual shape %s does not match the output shape %s: z "
                    "must have y's shape\n", PROG, c->residual, sh, sh2);
            goto done;
        }
    }
    if ((st = clconv_context_create_for(c->device, &ctx))) {
        tk_report(PROG, "device", st, NULL);
        rc = st == CLCONV_ERROR_NO_DEVICE ? TK_EXIT_NO_PLATFORM : TK_EXIT_FAILURE;
        goto done;
    }
    size_t ny = clconv_shape_elements(oshape);
    y = malloc(ny * sizeof *y);
    if (c->indices)
        idx = malloc(ny * sizeof *idx);
    if (c->pre)
        pre = malloc(ny * sizeof *pre);
    if (!y || (c->indices && !idx) || (c->pre && !pre)) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto done;
    }
    tk_result res;
    opts.find = c->find;
    int e = tk_exec(ctx, L, c->algo || c->find ? &opts : NULL, x.data, w.data, b.data, z.data, y,
                    pre, idx, c->time ? (int)c->warmup : 0, c->time ? (int)c->runs : 1, false,
                    &res, PROG);
    if (e) {
        rc = e;
        goto done;
    }
    char err[512];
    if (save(c->output, os, nd, y, ny, L->dtype, err, sizeof err) ||
        (c->indices && npy_write_i64(c->indices, os, nd, idx, err, sizeof err)) ||
        (c->pre && save(c->pre, os, nd, pre, ny, L->dtype, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        goto done;
    }
    if (!c->quiet) {
        tk_shape_str(L->input, sh, sizeof sh);
        tk_shape_str(oshape, sh2, sizeof sh2);
        printf("%s %s -> %s on %s: algorithm %s", op->name, sh, sh2,
               clconv_context_device_name(ctx), clconv_algorithm_name(res.info.algorithm));
        if (L->dtype != CLCONV_DTYPE_F32)
            printf(", dtype %s (fp32 arithmetic)", clconv_dtype_name(L->dtype));
        if (c->residual)
            printf(", residual %s (alpha %g, beta %g)", c->residual, (double)L->alpha,
                   (double)L->beta);
        printf(", wrote %s%s%s\n", c->output, c->pre ? " and the pre-activation " : "",
               c->pre ? c->pre : "");
    }
    if (c->time && !c->quiet) {
        double rate = op->bandwidth_bound ? res.info.bytes / res.median_s * 1e-9
                                          : res.info.flops / res.median_s * 1e-9;
        printf("time: median %.3f ms over %d runs (min %.3f ms), %.2f %s%s\n", res.median_s * 1e3,
               res.runs, res.min_s * 1e3, rate, op->bandwidth_bound ? "GB/s" : "GFLOP/s",
               tk_timing_wall_clock() ? " (wall clock: the device's profiling timer gave "
                                        "zero-length spans)" : "");
    }
    rc = TK_EXIT_OK;
    if (c->verify) {
        ref = malloc(ny * sizeof *ref);
        if (c->indices)
            ref_idx = malloc(ny * sizeof *ref_idx);
        if (c->pre)
            ref_pre = malloc(ny * sizeof *ref_pre);
        if (!ref || (c->indices && !ref_idx) || (c->pre && !ref_pre)) {
            fprintf(stderr, "%s: out of memory\n", PROG);
            rc = TK_EXIT_FAILURE;
            goto done;
        }
        if ((st = op->reference(L, x.data, w.data, b.data, z.data, ref, ref_pre, ref_idx))) {
            tk_report(PROG, "reference", st, NULL);
            rc = TK_EXIT_FAILURE;
            goto done;
        }
        tk_error er = tk_compare_dtype(y, ref, ny, L->dtype);
        tk_error epre = {0, 0, 0, true};
        if (c->pre)
            epre = tk_compare_dtype(pre, ref_pre, ny, L->dtype);
        size_t bad_idx = 0;
        if (c->indices)
            for (size_t i = 0; i < ny; i++)
                bad_idx += idx[i] != ref_idx[i];
        bool ok = er.ok && epre.ok && bad_idx == 0;
        if (!c->quiet || !ok) {
            printf("verify: max abs error %.3g, max rel error %.3g vs the CPU reference: %s\n",
                   er.max_abs, er.max_rel, er.ok ? "OK" : "MISMATCH");
            if (!er.ok)
                printf("verify: worst element %zu: device %.9g, reference %.9g\n", er.worst,
                       (double)y[er.worst], (double)ref[er.worst]);
            if (c->indices)
                printf("verify: indices: %zu of %zu differ: %s\n", bad_idx, ny,
                       bad_idx ? "MISMATCH" : "OK");
            if (c->pre) {
                printf("verify: pre-activation: max abs error %.3g, max rel error %.3g: %s\n",
                       epre.max_abs, epre.max_rel, epre.ok ? "OK" : "MISMATCH");
                if (!epre.ok)
                    printf("verify: pre-activation worst element %zu: device %.9g, reference "
                           "%.9g\n", epre.worst, (double)pre[epre.worst],
                           (double)ref_pre[epre.worst]);
            }
        }
        if (!ok)
            rc = TK_EXIT_MISMATCH;
    }
done:
    npy_free(&x);
    npy_free(&w);
    npy_free(&b);
    npy_free(&z);
    free(y);
    free(pre);
    free(ref_pre);
    free(ref);
    free(idx);
    free(ref_idx);
    clconv_context_destroy(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return TK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage_main(stdout);
        return TK_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("clconv %d.%d.%d\n", CLCONV_VERSION_MAJOR, CLCONV_VERSION_MINOR,
               CLCONV_VERSION_PATCH);
        return TK_EXIT_OK;
    }
    const tk_op *op = tk_find_op(argv[1]);
    if (!op) {
        fprintf(stderr, "%s: unknown operator '%s'\n\n", PROG, argv[1]);
        usage_main(stderr);
        return TK_EXIT_USAGE;
    }
    cli c;
    tk_layer L;
    int rc = parse_args(argc, argv, op, &c, &L);
    if (rc >= 0)
        return rc;
    return run_op(op, &c, &L);
}
