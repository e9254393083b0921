/* The command-line tools, run as a user runs them: clconv-query (text, --json,
 * --bench, exit codes), clconv (round trips of every available operator
 * through .npy files against the CPU reference; every malformed .npy class
 * refused with its message; usage errors) and clconv-bench (the quick suite's
 * JSON, a shapes file as CSV). Output is parsed, not grepped, where it is
 * machine-readable: a small strict JSON parser lives below. */
#include "json.h"
#include "npy.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLCONV_TOOLS_DIR
#error "CLCONV_TOOLS_DIR must name the directory of the built tools"
#endif

static char g_dir[512]; /* scratch directory for this run */

START_TEST(json_parser_is_strict)
{
    const char *good[] = {"{}", "[]", "{\"a\": [1, -2.5e3, true, false, null, \"x\\n\\u00e9\"]}",
                          " 0 "};
    const char *bad[] = {"{", "{\"a\" 1}", "[1,]", "{'a': 1}", "[01]", "[1.]", "\"a\tb\"",
                         "[nan]", "{\"a\": 1} x", "[\"\\x\"]"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        jp p = {good[i], ""};
        jval *v = jparse_value(&p, 0);
        ck_assert_msg(v != NULL, "rejected %s: %s", good[i], p.err);
        jfree(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        jp p = {bad[i], ""};
        jval *v = jparse_value(&p, 0);
        if (v) {
            jws(&p);
            ck_assert_msg(*p.s != '\0', "accepted invalid JSON %s", bad[i]);
        }
        jfree(v);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Running the tools                                                        */
/* ------------------------------------------------------------------------ */

typedef struct cmd_result {
    int rc;
    char *out, *err;
} cmd_result;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    if (len)
        *len = got;
    return buf;
}

/* Runs "TOOLS_DIR/<tool> <args>" through the shell (env may prefix
 * assignments) and captures stdout, stderr and the exit status. */
static cmd_result run_tool(const char *env, const char *tool, const char *args)
{
    char cmd[4096], out[600], err[600];
    snprintf(out, sizeof out, "%s/stdout", g_dir);
    snprintf(err, sizeof err, "%s/stderr", g_dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s/%s' %s >'%s' 2>'%s'", g_dir, env ? env : "",
             CLCONV_TOOLS_DIR, tool, args, out, err);
    int st = system(cmd);
    cmd_result r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    r.out = slurp(out, NULL);
    r.err = slurp(err, NULL);
    return r;
}

static void cmd_free(cmd_result *r)
{
    free(r->out);
    free(r->err);
}

#define EXPECT_RC(r, want)                                                                  \
    ck_assert_msg((r).rc == (want), "exit %d, expected %d\nstdout:\n%.3000s\nstderr:\n%.3000s", \
                  (r).rc, (want), (r).out, (r).err)

/* ------------------------------------------------------------------------ */
/* .npy files written byte by byte (independent of tools/npy.c)             */
/* ------------------------------------------------------------------------ */

static void path_in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", g_dir, name);
}

/* Writes a .npy with an arbitrary header dict and version; data_bytes of
 * payload from data (may differ from what the header says). */
static void write_npy_raw(const char *name, int major, const char *dict, const void *data,
                          size_t data_bytes)
{
    char path[600];
    path_in_dir(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
    unsigned char head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0};
    head[8] = (unsigned char)(hlen & 255);
    head[9] = (unsigned char)(hlen >> 8);
    fwrite(head, 1, major == 1 ? 10 : 12, f);
    fwrite(dict, 1, dl, f);
    for (size_t i = dl; i + 1 < hlen; i++)
        fputc(' ', f);
    fputc('\n', f);
    if (data_bytes)
        fwrite(data, 1, data_bytes, f);
    fclose(f);
}

static void write_npy_f32(const char *name, const int64_t *shape, int nd, const float *data,
                          int major)
{
    char dict[256], sh[128] = "";
    size_t n = 1, used = 0;
    for (int i = 0; i < nd; i++) {
        used += (size_t)snprintf(sh + used, sizeof sh - used, "%lld, ", (long long)shape[i]);
        n *= (size_t)shape[i];
    }
    if (nd > 1)
        sh[used - 2] = '\0'; /* "(2, 3)"; 1-D keeps "(5, )" which numpy also reads */
    snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", sh);
    write_npy_raw(name, major, dict, data, n * sizeof(float));
}

/* A float16 ('<f2') .npy of the given half bits, little-endian byte by byte
 * (independent of tools/npy.c and of the host's byte order). */
static void write_npy_f16(const char *name, const int64_t *shape, int nd, const uint16_t *h)
{
    char dict[256], sh[128] = "";
    size_t n = 1, used = 0;
    for (int i = 0; i < nd; i++) {
        used += (size_t)snprintf(sh + used, sizeof sh - used, "%lld, ", (long long)shape[i]);
        n *= (size_t)shape[i];
    }
    if (nd > 1)
        sh[used - 2] = '\0';
    snprintf(dict, sizeof dict, "{'descr': '<f2', 'fortran_order': False, 'shape': (%s), }", sh);
    unsigned char *bytes = malloc(2 * n + 1);
    ck_assert_ptr_nonnull(bytes);
    for (size_t i = 0; i < n; i++) {
        bytes[2 * i] = (unsigned char)(h[i] & 255);
        bytes[2 * i + 1] = (unsigned char)(h[i] >> 8);
    }
    write_npy_raw(name, 1, dict, bytes, 2 * n);
    free(bytes);
}

/* The same from floats (each rounded to the nearest half). */
static void write_npy_f16_floats(const char *name, const int64_t *shape, int nd, const float *x)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)shape[i];
    uint16_t *h = malloc(2 * n + 2);
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < n; i++)
        h[i] = clconv_float_to_half(x[i]);
    write_npy_f16(name, shape, nd, h);
    free(h);
}

/* Reads a float32 / int64 .npy written by the tool: checks the magic, the
 * descr, and returns the data after the header. */
static void *read_npy(const char *name, const char *descr, const char *shape_text, size_t *count,
                      size_t elem)
{
    char path[600];
    path_in_dir(path, sizeof path, name);
    size_t len = 0;
    char *buf = slurp(path, &len);
    ck_assert_msg(len > 10 && !memcmp(buf, "\x93NUMPY\x01\x00", 8), "%s: not a v1.0 .npy", name);
    size_t hlen = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
    ck_assert_msg((10 + hlen) % 64 == 0, "%s: header not padded to 64 bytes", name);
    ck_assert_msg(buf[10 + hlen - 1] == '\n', "%s: header does not end in a newline", name);
    char want[128];
    snprintf(want, sizeof want, "'descr': '%s'", descr);
    ck_assert_msg(strstr(buf + 10, want), "%s: expected %s in %.*s", name, want, (int)hlen,
                  buf + 10);
    ck_assert_msg(strstr(buf + 10, "'fortran_order': False"), "%s: fortran_order", name);
    snprintf(want, sizeof want, "'shape': %s", shape_text);
    ck_assert_msg(strstr(buf + 10, want), "%s: expected %s in %.*s", name, want, (int)hlen,
                  buf + 10);
    *count = (len - 10 - hlen) / elem;
    void *data = malloc(len - 10 - hlen + 1);
    memcpy(data, buf + 10 + hlen, len - 10 - hlen);
    free(buf);
    return data;
}

/* ------------------------------------------------------------------------ */
/* clconv-query                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(query_json_is_valid_and_complete)
{
    cmd_result r = run_tool(NULL, "clconv-query", "--json");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    jval *plats = jreq(doc, "platforms", J_ARR);
    ck_assert_int_ge(plats->n, 1);
    jval *def = jreq(doc, "default_device", J_STR);
    int defaults = 0, devices = 0;
    for (int p = 0; p < plats->n; p++) {
        jval *pl = plats->items[p];
        jreq(pl, "name", J_STR);
        jreq(pl, "version", J_STR);
        jval *devs = jreq(pl, "devices", J_ARR);
        for (int d = 0; d < devs->n; d++) {
            jval *dv = devs->items[d];
            devices++;
            static const char *strs[] = {"id", "type", "name", "vendor", "version",
                                         "driver_version", "opencl_c_version"};
            for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
                jreq(dv, strs[i], J_STR);
            static const char *nums[] = {"compute_units", "global_mem_bytes", "local_mem_bytes",
                                         "constant_mem_bytes", "max_alloc_bytes",
                                         "max_work_group_size"};
            for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
                ck_assert_msg(jreq(dv, nums[i], J_NUM)->num > 0, "%s is 0", nums[i]);
            jreq(dv, "max_clock_mhz", J_NUM); /* some VMs report 0 */
            ck_assert_int_ge(jreq(dv, "max_work_item_sizes", J_ARR)->n, 1);
            jval *pref = jreq(dv, "preferred_vector_width", J_OBJ);
            jreq(pref, "float", J_NUM);
            jreq(jreq(dv, "native_vector_width", J_OBJ), "float", J_NUM);
            bool khr_fp16 = jreq(dv, "fp16", J_BOOL)->b;
            jval *f16 = jreq(dv, "clconv_fp16", J_OBJ);
            ck_assert_str_eq(jreq(f16, "runs_as", J_STR)->str, "storage (fp32 arithmetic)");
            ck_assert_int_eq(jreq(f16, "cl_khr_fp16", J_BOOL)->b, khr_fp16);
            ck_assert_msg(!jreq(f16, "half_arithmetic", J_BOOL)->b, "half arithmetic claimed");
            jreq(dv, "fp64", J_BOOL);
            jval *sg = jreq(dv, "subgroups", J_OBJ);
            jreq(sg, "cl_khr_subgroups", J_BOOL);
            jreq(sg, "cl_intel_subgroups", J_BOOL);
            jreq(dv, "image_support", J_BOOL);
            jreq(dv, "extensions", J_ARR);
            jval *cc = jreq(dv, "clconv", J_OBJ);
            bool usable = jreq(cc, "usable", J_BOOL)->b;
            if (jreq(cc, "default", J_BOOL)->b) {
                defaults++;
                ck_assert_str_eq(jreq(dv, "id", J_STR)->str, def->str);
                ck_assert_msg(usable, "the default device is not usable");
                jval *plan = jreq(cc, "plan", J_OBJ);
                const char *algo = jreq(plan, "algorithm", J_STR)->str;
                ck_assert_msg(strcmp(algo, "auto") && strcmp(algo, "unknown"), "algo %s", algo);
                ck_assert_int_eq(jreq(plan, "local_size", J_ARR)->n, 3);
                ck_assert_msg(strstr(jreq(plan, "build_options", J_STR)->str, "-D"),
                              "build options without -D");
                /* The same device the library picks. */
                clconv_context *ctx = tu_ctx();
                ck_assert_str_eq(jreq(dv, "name", J_STR)->str, clconv_context_device_name(ctx));
            }
        }
    }
    ck_assert_int_ge(devices, 1);
    ck_assert_int_eq(defaults, 1);
    jfree(doc);
    cmd_free(&r);
}
END_TEST

START_TEST(query_text_marks_default)
{
    cmd_result r = run_tool(NULL, "clconv-query", "");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "<- clconv default"), "no default marker:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "max work-group size"), "no work-group size:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "build options"), "no plan:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "clconv fp16                  storage (fp32 arithmetic); "
                         "cl_khr_fp16 ") && strstr(r.out, "half arithmetic is not implemented"),
                  "no fp16 line:\n%s", r.out);
    cmd_free(&r);
}
END_TEST

START_TEST(query_bench_measures)
{
    cmd_result r = run_tool(NULL, "clconv-query", "--json --bench --no-plan --device 0:0");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    jval *dev = jreq(doc, "platforms", J_ARR)->items[0];
    dev = jreq(dev, "devices", J_ARR)->items[0];
    jval *bench = jreq(dev, "bench", J_OBJ);
    jval *g = jreq(bench, "gflops", J_OBJ);
    static const char *w[] = {"float", "float2", "float4", "float8", "float16"};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(jreq(g, w[i], J_NUM)->num > 0.1, "%s GFLOP/s", w[i]);
    ck_assert_msg(jreq(bench, "bandwidth_gbs", J_NUM)->num > 0.1, "bandwidth");
    ck_assert_msg(strstr(r.err, "bench"), "no progress on stderr: %s", r.err);
    jfree(doc);
    cmd_free(&r);
}
END_TEST

START_TEST(query_exit_codes)
{
    cmd_result r = run_tool(NULL, "clconv-query", "--frobnicate");
    EXPECT_RC(r, 64);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-query", "--device 97:0");
    EXPECT_RC(r, 2);
    cmd_free(&r);
    /* An ICD loader that finds no driver. */
    r = run_tool("OCL_ICD_VENDORS=/nonexistent-clconv-test OPENCL_VENDOR_PATH=/nonexistent",
                 "clconv-query", "");
    EXPECT_RC(r, 2);
    ck_assert_msg(strstr(r.err, "no OpenCL platform") && strstr(r.err, "pocl-opencl-icd"),
                  "no hint: %s", r.err);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-query", "--help");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    /* A CLCONV_DEVICE that matches nothing: devices listed, no default, the reason given. */
    r = run_tool("CLCONV_DEVICE=no-such-device-anywhere", "clconv-query", "--json --no-plan");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    jreq(doc, "default_device", J_NULL);
    ck_assert_msg(strstr(jreq(doc, "default_device_error", J_STR)->str, "no-such-device"),
                  "%s", r.out);
    jfree(doc);
    cmd_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* clconv: conv2d round trips                                               */
/* ------------------------------------------------------------------------ */

static void expect_refused(const char *args, int rc, const char *needle);

typedef struct conv_case {
    int64_t n, c, h, w, k, kh, kw;
    const char *flags;        /* the CLI flags */
    clconv_conv2d_params p;   /* what they mean (in/out/kernel filled from the shapes) */
    bool same, unbatched;
} conv_case;

static void conv_roundtrip(conv_case cc, int seed)
{
    tu_rng rng = tu_rng_make((uint64_t)seed);
    clconv_conv2d_params p = cc.p;
    p.in_channels = cc.c;
    p.out_channels = cc.k;
    p.kernel_h = cc.kh;
    p.kernel_w = cc.kw;
    if (cc.same)
        ck_assert_int_eq(clconv_conv2d_set_same_padding(&p), CLCONV_SUCCESS);
    clconv_shape in = {cc.n, cc.c, cc.h, cc.w}, out;
    ck_assert_int_eq(clconv_conv2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    clconv_shape ws = clconv_conv2d_weight_shape(&p);
    size_t nw = clconv_shape_elements(ws);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)cc.k), *ref = tu_alloc(ny);
    tu_fill(&rng, x, nx, false);
    tu_fill(&rng, w, nw, false);
    tu_fill(&rng, b, (size_t)cc.k, false);
    int64_t xs[4] = {cc.n, cc.c, cc.h, cc.w}, wsh[4] = {ws.n, ws.c, ws.h, ws.w}, bs[1] = {cc.k};
    if (cc.unbatched)
        write_npy_f32("x.npy", xs + 1, 3, x, 1);
    else
        write_npy_f32("x.npy", xs, 4, x, 1);
    write_npy_f32("w.npy", wsh, 4, w, 2); /* a version 2.0 file too */
    write_npy_f32("b.npy", bs, 1, b, 1);
    char args[512];
    snprintf(args, sizeof args, "conv2d --input x.npy --weight w.npy %s %s --output y.npy "
             "--verify --time --runs 3", p.has_bias ? "--bias b.npy" : "", cc.flags);
    cmd_result r = run_tool(NULL, "clconv", args);
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "verify: max abs error") && strstr(r.out, "OK"), "%s", r.out);
    double ms = -1;
    const char *t = strstr(r.out, "time: median ");
    ck_assert_msg(t && sscanf(t, "time: median %lf ms", &ms) == 1 && ms > 0, "%s", r.out);
    char shape[96];
    if (cc.unbatched)
        snprintf(shape, sizeof shape, "(%lld, %lld, %lld)", (long long)out.c, (long long)out.h,
                 (long long)out.w);
    else
        snprintf(shape, sizeof shape, "(%lld, %lld, %lld, %lld)", (long long)out.n,
                 (long long)out.c, (long long)out.h, (long long)out.w);
    size_t got_n = 0;
    float *y = read_npy("y.npy", "<f4", shape, &got_n, sizeof(float));
    ck_assert_uint_eq(got_n, ny);
    ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, p.has_bias ? b : NULL, ref),
                     CLCONV_SUCCESS);
    char msg[256];
    long bad = tu_compare(y, ref, NULL, ny, 1e-4, 1e-4, msg, sizeof msg);
    ck_assert_msg(bad < 0, "%s: %s", args, msg);
    free(x);
    free(w);
    free(b);
    free(ref);
    free(y);
    cmd_free(&r);
}

START_TEST(cli_conv2d_roundtrips)
{
    clconv_conv2d_params d = clconv_conv2d_default_params(1, 1, 1, 1);
    conv_case cases[8];
    for (int i = 0; i < 8; i++)
        cases[i].p = d;
    /* 1: plain 3x3 with bias */
    cases[0] = (conv_case){2, 3, 9, 11, 4, 3, 3, "", d, false, false};
    cases[0].p.has_bias = 1;
    /* 2: strides (2,1), padding (1,0), relu */
    cases[1] = (conv_case){1, 4, 10, 9, 5, 3, 2, "--stride 2,1 --padding 1,0 --relu", d, false,
                           false};
    cases[1].p.stride_h = 2;
    cases[1].p.pad_top = cases[1].p.pad_bottom = 1;
    cases[1].p.activation = CLCONV_ACTIVATION_RELU;
    cases[1].p.has_bias = 1;
    /* 3: padding='same' with an even kernel and dilation 2 */
    cases[2] = (conv_case){1, 2, 8, 8, 3, 2, 4, "--padding same --dilation=2", d, true, false};
    cases[2].p.dilation_h = cases[2].p.dilation_w = 2;
    /* 4: groups 2 */
    cases[3] = (conv_case){2, 4, 7, 7, 6, 3, 3, "--groups 2 --padding 1", d, false, false};
    cases[3].p.groups = 2;
    cases[3].p.pad_top = cases[3].p.pad_bottom = cases[3].p.pad_left = cases[3].p.pad_right = 1;
    cases[3].p.has_bias = 1;
    /* 5: depthwise, stride 2 */
    cases[4] = (conv_case){1, 8, 12, 12, 8, 3, 3, "--groups 8 --stride 2 --padding 1", d, false,
                           false};
    cases[4].p.groups = 8;
    cases[4].p.stride_h = cases[4].p.stride_w = 2;
    cases[4].p.pad_top = cases[4].p.pad_bottom = cases[4].p.pad_left = cases[4].p.pad_right = 1;
    /* 6: unbatched [C, H, W] input, 1x1 */
    cases[5] = (conv_case){1, 5, 6, 7, 3, 1, 1, "--padding valid", d, false, true};
    /* 7: a fused activation with its parameter, asymmetric padding per side */
    cases[6] = (conv_case){1, 3, 8, 9, 4, 3, 3, "--activation leaky_relu:0.2 --padding 1,0,2,1", d,
                           false, false};
    cases[6].p.activation = CLCONV_ACTIVATION_LEAKY_RELU;
    cases[6].p.activation_params[0] = 0.2f;
    cases[6].p.pad_top = 1;
    cases[6].p.pad_left = 2;
    cases[6].p.pad_right = 1;
    cases[6].p.has_bias = 1;
    /* 8: gelu (PyTorch's default form) */
    cases[7] = (conv_case){1, 2, 6, 6, 3, 3, 3, "--activation=gelu --padding 1", d, false, false};
    cases[7].p.activation = CLCONV_ACTIVATION_GELU;
    cases[7].p.pad_top = cases[7].p.pad_bottom = cases[7].p.pad_left = cases[7].p.pad_right = 1;
    for (int i = 0; i < 8; i++)
        conv_roundtrip(cases[i], 100 + i);
    /* bad activations: unknown name, bad parameter, stray text */
    expect_refused("conv2d --input x.npy --weight w.npy --activation softsign --output y.npy", 64,
                   "--activation: bad value 'softsign'");
    expect_refused("conv2d --input x.npy --weight w.npy --activation hardtanh:2,1 --output y.npy",
                   64, "--activation: bad value");
    expect_refused("conv2d --input x.npy --weight w.npy --activation elu:1x --output y.npy", 64,
                   "--activation: bad value");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* clconv: pooling and transposed convolution round trips                   */
/* ------------------------------------------------------------------------ */

static void expect_refused(const char *args, int rc, const char *needle);
#define expect_refused_fwd expect_refused

typedef struct pool_case {
    const char *op, *flags;
    clconv_pool2d_params p;
    bool indices;
} pool_case;

static void pool_roundtrip(pool_case pc, int seed)
{
    tu_rng rng = tu_rng_make((uint64_t)seed);
    clconv_shape in = {2, 3, 11, 10}, out;
    ck_assert_int_eq(clconv_pool2d_output_shape(&pc.p, &in, &out), CLCONV_SUCCESS);
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    float *x = tu_alloc(nx), *ref = tu_alloc(ny);
    int64_t *ref_idx = calloc(ny, sizeof *ref_idx);
    tu_fill(&rng, x, nx, true); /* small integers: ties exercise the argmax rule */
    int64_t xs[4] = {in.n, in.c, in.h, in.w};
    write_npy_f32("px.npy", xs, 4, x, 1);
    char args[512];
    snprintf(args, sizeof args, "%s --input px.npy %s --output py.npy %s --verify", pc.op,
             pc.flags, pc.indices ? "--indices pi.npy" : "");
    cmd_result r = run_tool(NULL, "clconv", args);
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "verify: max abs error"), "%s", r.out);
    char shape[96];
    snprintf(shape, sizeof shape, "(%lld, %lld, %lld, %lld)", (long long)out.n,
             (long long)out.c, (long long)out.h, (long long)out.w);
    size_t got = 0;
    float *y = read_npy("py.npy", "<f4", shape, &got, sizeof(float));
    ck_assert_uint_eq(got, ny);
    ck_assert_int_eq(clconv_ref_pool2d(&pc.p, &in, x, ref, pc.indices ? ref_idx : NULL),
                     CLCONV_SUCCESS);
    char msg[256];
    ck_assert_msg(tu_compare(y, ref, NULL, ny, 1e-5, 1e-5, msg, sizeof msg) < 0, "%s: %s", args,
                  msg);
    if (pc.indices) {
        int64_t *idx = read_npy("pi.npy", "<i8", shape, &got, sizeof(int64_t));
        ck_assert_uint_eq(got, ny);
        for (size_t i = 0; i < ny; i++)
            ck_assert_msg(idx[i] == ref_idx[i], "%s: index %zu: %lld, expected %lld", args, i,
                          (long long)idx[i], (long long)ref_idx[i]);
        free(idx);
    }
    free(x);
    free(ref);
    free(ref_idx);
    free(y);
    cmd_free(&r);
}

START_TEST(cli_pool_roundtrips)
{
    pool_case c1 = {"max_pool2d", "--kernel-size 3 --stride 2 --padding 1 --ceil-mode",
                    clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3), true};
    c1.p.stride_h = c1.p.stride_w = 2;
    c1.p.pad_top = c1.p.pad_bottom = c1.p.pad_left = c1.p.pad_right = 1;
    c1.p.ceil_mode = 1;
    pool_case c2 = {"max_pool2d", "--kernel-size 2,3 --dilation 2,1",
                    clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 3), false};
    c2.p.dilation_h = 2;
    pool_case c3 = {"avg_pool2d", "--kernel-size 3 --stride 1 --padding 1 --no-count-include-pad",
                    clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3), false};
    c3.p.stride_h = c3.p.stride_w = 1;
    c3.p.pad_top = c3.p.pad_bottom = c3.p.pad_left = c3.p.pad_right = 1;
    c3.p.count_include_pad = 0;
    pool_case c4 = {"avg_pool2d", "--kernel-size 2 --ceil-mode --divisor-override 3",
                    clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2), false};
    c4.p.ceil_mode = 1;
    c4.p.divisor_override = 3;
    pool_roundtrip(c1, 1);
    pool_roundtrip(c2, 2);
    pool_roundtrip(c3, 3);
    pool_roundtrip(c4, 4);
    /* Indices are max_pool2d's alone. */
    expect_refused_fwd("avg_pool2d --input px.npy --kernel-size 2 --indices i.npy --output o.npy",
                       64, "unknown option");
}
END_TEST

static void convt_roundtrip(const char *flags, clconv_conv_transpose2d_params p, int seed)
{
    tu_rng rng = tu_rng_make((uint64_t)seed);
    clconv_shape in = {2, p.in_channels, 5, 6}, out;
    ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
    clconv_shape ws = clconv_conv_transpose2d_weight_shape(&p);
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    size_t nw = clconv_shape_elements(ws);
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)p.out_channels);
    float *ref = tu_alloc(ny);
    tu_fill(&rng, x, nx, false);
    tu_fill(&rng, w, nw, false);
    tu_fill(&rng, b, (size_t)p.out_channels, false);
    int64_t xs[4] = {in.n, in.c, in.h, in.w}, wsh[4] = {ws.n, ws.c, ws.h, ws.w};
    int64_t bs[1] = {p.out_channels};
    write_npy_f32("tx.npy", xs, 4, x, 1);
    write_npy_f32("tw.npy", wsh, 4, w, 1);
    write_npy_f32("tb.npy", bs, 1, b, 1);
    char args[512];
    snprintf(args, sizeof args, "conv_transpose2d --input tx.npy --weight tw.npy %s %s "
             "--output ty.npy --verify", p.has_bias ? "--bias tb.npy" : "", flags);
    cmd_result r = run_tool(NULL, "clconv", args);
    EXPECT_RC(r, 0);
    char shape[96];
    snprintf(shape, sizeof shape, "(%lld, %lld, %lld, %lld)", (long long)out.n,
             (long long)out.c, (long long)out.h, (long long)out.w);
    size_t got = 0;
    float *y = read_npy("ty.npy", "<f4", shape, &got, sizeof(float));
    ck_assert_uint_eq(got, ny);
    ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &in, x, w, p.has_bias ? b : NULL, ref),
                     CLCONV_SUCCESS);
    char msg[256];
    ck_assert_msg(tu_compare(y, ref, NULL, ny, 1e-4, 1e-4, msg, sizeof msg) < 0, "%s: %s", args,
                  msg);
    free(x);
    free(w);
    free(b);
    free(ref);
    free(y);
    cmd_free(&r);
}

START_TEST(cli_conv_transpose2d_roundtrips)
{
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.output_padding_h = p.output_padding_w = 1;
    p.groups = 2;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    convt_roundtrip("--stride 2 --padding 1 --output-padding 1 --groups 2 --relu", p, 7);
    clconv_conv_transpose2d_params q = clconv_conv_transpose2d_default_params(3, 2, 4, 2);
    q.stride_h = 3;
    q.dilation_w = 2;
    convt_roundtrip("--stride 3,1 --dilation 1,2 --algo transposed-gemm", q, 8);
    /* The weight's first dimension is the input channels. */
    expect_refused_fwd("conv_transpose2d --input tx.npy --weight tx.npy --output o.npy", 1,
                       "expected weight.shape[0] = 3");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* clconv: the epilogue (--residual, --alpha, --beta, --pre)                */
/* ------------------------------------------------------------------------ */

/* Golden numbers for the epilogue, from the definitions written out here
 * (not from the library's reference): F.conv2d (groups 1, stride 1,
 * symmetric zero padding) or F.conv_transpose2d (groups 1, no output
 * padding) accumulated in double, then s = alpha * conv + beta * z + bias,
 * y = act(s) with act relu, silu or none. */
typedef enum { G_NONE, G_RELU, G_SILU } golden_act;

static double golden_act_eval(golden_act a, double s)
{
    return a == G_RELU ? (s > 0 ? s : 0) : a == G_SILU ? s / (1 + exp(-s)) : s;
}

static void golden_conv(bool transposed, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                        int64_t kh, int64_t kw, int64_t stride, int64_t pad, const float *x,
                        const float *wt, const float *b, const float *z, double alpha,
                        double beta, golden_act act, int64_t oh, int64_t ow, double *y,
                        double *pre)
{
    size_t ny = (size_t)(n * k * oh * ow);
    double *acc = calloc(ny, sizeof *acc);
    ck_assert_ptr_nonnull(acc);
    for (int64_t in = 0; in < n; in++)
        for (int64_t ic = 0; ic < c; ic++)
            for (int64_t oc = 0; oc < k; oc++)
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        /* conv2d: w[oc, ic], y[oh][ow] += x[oh*s - p + i][ow*s - p + j];
                         * transposed: w[ic, oc], y[ih*s - p + i][iw*s - p + j] += x[ih][iw]. */
                        double wv = transposed ? wt[((ic * k + oc) * kh + i) * kw + j]
                                               : wt[((oc * c + ic) * kh + i) * kw + j];
                        int64_t rows = transposed ? h : oh, cols = transposed ? w : ow;
                        for (int64_t r = 0; r < rows; r++)
                            for (int64_t q = 0; q < cols; q++) {
                                int64_t ar = r * stride - pad + i, aq = q * stride - pad + j;
                                int64_t lim_r = transposed ? oh : h, lim_q = transposed ? ow : w;
                                if (ar < 0 || ar >= lim_r || aq < 0 || aq >= lim_q)
                                    continue;
                                if (transposed)
                                    acc[((in * k + oc) * oh + ar) * ow + aq] +=
                                        wv * x[((in * c + ic) * h + r) * w + q];
                                else
                                    acc[((in * k + oc) * oh + r) * ow + q] +=
                                        wv * x[((in * c + ic) * h + ar) * w + aq];
                            }
                    }
    for (size_t i = 0; i < ny; i++) {
        int64_t oc = (int64_t)(i / (size_t)(oh * ow)) % k;
        double sv = alpha * acc[i] + (z ? beta * z[i] : 0) + (b ? b[oc] : 0);
        if (pre)
            pre[i] = sv;
        y[i] = golden_act_eval(act, sv);
    }
    free(acc);
}

/* Compares a float .npy the tool wrote against golden doubles. */
static void expect_npy_golden(const char *file, const char *shape, const double *golden,
                              size_t n, double tol, const char *what)
{
    size_t got = 0;
    float *y = read_npy(file, "<f4", shape, &got, sizeof(float));
    ck_assert_uint_eq(got, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(y[i] - golden[i]) <= tol * (1 + fabs(golden[i])),
                      "%s: %s[%zu] = %.9g, golden %.9g", what, file, i, (double)y[i],
                      golden[i]);
    free(y);
}

START_TEST(cli_conv2d_residual)
{
    /* 1. A ResNet-style block end: 3x3, padding 1, bias, residual, relu;
     * small integers everywhere, so every sum is exact in float. */
    enum { N = 2, C = 3, H = 5, W = 6, K = 4 };
    tu_rng rng = tu_rng_make(61);
    float x[N * C * H * W], w[K * C * 3 * 3], b[K], z[N * K * H * W];
    double gy[N * K * H * W], gpre[N * K * H * W];
    tu_fill(&rng, x, sizeof x / sizeof *x, true);
    tu_fill(&rng, w, sizeof w / sizeof *w, true);
    tu_fill(&rng, b, K, true);
    tu_fill(&rng, z, sizeof z / sizeof *z, true);
    int64_t xs[4] = {N, C, H, W}, wsh[4] = {K, C, 3, 3}, bs[1] = {K}, zs[4] = {N, K, H, W};
    write_npy_f32("rx.npy", xs, 4, x, 1);
    write_npy_f32("rw.npy", wsh, 4, w, 1);
    write_npy_f32("rb.npy", bs, 1, b, 1);
    write_npy_f32("rz.npy", zs, 4, z, 1);
    const char *shape = "(2, 4, 5, 6)";
    size_t ny = sizeof gy / sizeof *gy;
    golden_conv(false, N, C, H, W, K, 3, 3, 1, 1, x, w, b, z, 1, 1, G_RELU, H, W, gy, NULL);
    cmd_result r = run_tool(NULL, "clconv", "conv2d --input rx.npy --weight rw.npy --bias rb.npy "
                            "--padding 1 --relu --residual rz.npy --output ry.npy --verify");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "residual rz.npy (alpha 1, beta 1)") &&
                      strstr(r.out, "vs the CPU reference: OK"), "%s", r.out);
    cmd_free(&r);
    expect_npy_golden("ry.npy", shape, gy, ny, 0, "residual, relu");
    /* The residual matters: without it the output differs somewhere. */
    double plain[N * K * H * W];
    golden_conv(false, N, C, H, W, K, 3, 3, 1, 1, x, w, b, NULL, 1, 1, G_RELU, H, W, plain, NULL);
    ck_assert_msg(memcmp(plain, gy, sizeof gy) != 0, "z changes nothing: a useless test");

    /* 2. In-range scales, SiLU and the pre-activation: alpha 0.5, beta -1.25 on
     * float data; --verify compares y and pre with the *_epilogue reference. */
    tu_fill(&rng, x, sizeof x / sizeof *x, false);
    tu_fill(&rng, w, sizeof w / sizeof *w, false);
    tu_fill(&rng, z, sizeof z / sizeof *z, false);
    write_npy_f32("rx.npy", xs, 4, x, 1);
    write_npy_f32("rw.npy", wsh, 4, w, 1);
    write_npy_f32("rz.npy", zs, 4, z, 1);
    golden_conv(false, N, C, H, W, K, 3, 3, 1, 1, x, w, b, z, 0.5, -1.25, G_SILU, H, W, gy, gpre);
    r = run_tool(NULL, "clconv", "conv2d --input rx.npy --weight rw.npy --bias rb.npy "
                 "--padding 1 --activation silu --residual rz.npy --alpha 0.5 --beta=-1.25 "
                 "--pre rpre.npy --output ry.npy --verify --time --runs 2");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "(alpha 0.5, beta -1.25)") &&
                      strstr(r.out, "verify: pre-activation: max abs error") &&
                      strstr(r.out, "wrote ry.npy and the pre-activation rpre.npy"),
                  "%s", r.out);
    cmd_free(&r);
    expect_npy_golden("ry.npy", shape, gy, ny, 1e-5, "alpha 0.5, beta -1.25, silu");
    expect_npy_golden("rpre.npy", shape, gpre, ny, 1e-5, "the pre-activation");

    /* 3. Numbers by hand: x = [1, 2], w = [3], b = [0.5], z = [10, -20] (1x1,
     * one channel, two pixels); alpha 2, beta 0.5: s = 2*3 + 5 + 0.5 = 11.5 and
     * 2*6 - 10 + 0.5 = 2.5; with beta -0.5 the second is 12 + 10 + 0.5. */
    float hx[2] = {1, 2}, hw[1] = {3}, hb[1] = {0.5f}, hz[2] = {10, -20};
    int64_t hxs[3] = {1, 1, 2}, hws[4] = {1, 1, 1, 1}, hbs[1] = {1};
    write_npy_f32("hx.npy", hxs, 3, hx, 1); /* unbatched [C, H, W]: z and y are too */
    write_npy_f32("hw.npy", hws, 4, hw, 1);
    write_npy_f32("hb.npy", hbs, 1, hb, 1);
    write_npy_f32("hz.npy", hxs, 3, hz, 1);
    r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --bias hb.npy "
                 "--residual hz.npy --alpha 2 --beta 0.5 --relu --pre hpre.npy --output hy.npy");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    expect_npy_golden("hy.npy", "(1, 1, 2)", (const double[]){11.5, 2.5}, 2, 0, "by hand");
    expect_npy_golden("hpre.npy", "(1, 1, 2)", (const double[]){11.5, 2.5}, 2, 0, "by hand");
    r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --bias hb.npy "
                 "--residual hz.npy --alpha 2 --beta -0.5 --activation relu --pre hpre.npy "
                 "--output hy.npy --verify");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    /* s = 6 - 5 + 0.5 = 1.5 and 12 + 10 + 0.5 = 22.5 */
    expect_npy_golden("hy.npy", "(1, 1, 2)", (const double[]){1.5, 22.5}, 2, 0, "by hand");
    /* Default scales, relu clipping: s = 3 + 10 + 0.5, 6 - 20 + 0.5 = -13.5 */
    r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --bias hb.npy "
                 "--residual hz.npy --relu --pre hpre.npy --output hy.npy");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    expect_npy_golden("hy.npy", "(1, 1, 2)", (const double[]){13.5, 0}, 2, 0, "by hand");
    expect_npy_golden("hpre.npy", "(1, 1, 2)", (const double[]){13.5, -13.5}, 2, 0, "by hand");
    /* --pre without a residual: the pre-activation is conv + bias. */
    r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --bias hb.npy --relu "
                 "--pre hpre.npy --output hy.npy --verify");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    expect_npy_golden("hpre.npy", "(1, 1, 2)", (const double[]){3.5, 6.5}, 2, 0, "by hand");

    /* 4. Refusals: z of another shape names both shapes; --alpha / --beta
     * without --residual are usage errors; pooling has no residual. */
    int64_t zbad[4] = {N, K, H, W - 1};
    write_npy_f32("rzbad.npy", zbad, 4, z, 1);
    expect_refused("conv2d --input rx.npy --weight rw.npy --padding 1 --residual rzbad.npy "
                   "--output ry.npy", 1,
                   "residual shape (2, 4, 5, 5) does not match the output shape (2, 4, 5, 6)");
    /* An unbatched z for a batched y: the ranks differ. */
    expect_refused("conv2d --input rx.npy --weight rw.npy --padding 1 --residual hz.npy "
                   "--output ry.npy", 1,
                   "residual shape (1, 1, 2) does not match the output shape (2, 4, 5, 6)");
    expect_refused("conv2d --input rx.npy --weight rw.npy --alpha 2 --output ry.npy", 64,
                   "--alpha scales the residual: it needs --residual");
    expect_refused("conv2d --input rx.npy --weight rw.npy --beta 0.5 --pre p.npy --output ry.npy",
                   64, "--beta scales the residual: it needs --residual");
    expect_refused("conv2d --input rx.npy --weight rw.npy --padding 1 --residual rz.npy "
                   "--alpha inf --output ry.npy", 64, "--alpha: bad value 'inf'");
    expect_refused("max_pool2d --input rx.npy --kernel-size 2 --residual rz.npy --output o.npy",
                   64, "unknown option '--residual'");
    r = run_tool(NULL, "clconv", "conv2d --help");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "--residual Z.npy") && strstr(r.out, "--pre PRE.npy"), "%s",
                  r.out);
    cmd_free(&r);
}
END_TEST

START_TEST(cli_conv_transpose2d_residual)
{
    /* stride 2, padding 1, kernel 3: [1, 3, 4, 5] -> [1, 2, 7, 9]; golden from
     * the scatter definition above; alpha 1.5, beta 0.75, bias, no activation. */
    enum { C = 3, H = 4, W = 5, K = 2, OH = 7, OW = 9 };
    tu_rng rng = tu_rng_make(62);
    float x[C * H * W], w[C * K * 3 * 3], b[K], z[K * OH * OW];
    double gy[K * OH * OW], gpre[K * OH * OW];
    tu_fill(&rng, x, sizeof x / sizeof *x, false);
    tu_fill(&rng, w, sizeof w / sizeof *w, false);
    tu_fill(&rng, b, K, false);
    tu_fill(&rng, z, sizeof z / sizeof *z, false);
    int64_t xs[4] = {1, C, H, W}, wsh[4] = {C, K, 3, 3}, bs[1] = {K}, zs[4] = {1, K, OH, OW};
    write_npy_f32("ctx.npy", xs, 4, x, 1);
    write_npy_f32("ctw.npy", wsh, 4, w, 1);
    write_npy_f32("ctb.npy", bs, 1, b, 1);
    write_npy_f32("ctz.npy", zs, 4, z, 1);
    golden_conv(true, 1, C, H, W, K, 3, 3, 2, 1, x, w, b, z, 1.5, 0.75, G_NONE, OH, OW, gy, gpre);
    cmd_result r = run_tool(NULL, "clconv", "conv_transpose2d --input ctx.npy --weight ctw.npy "
                            "--bias ctb.npy --stride 2 --padding 1 --residual ctz.npy --alpha 1.5 "
                            "--beta 0.75 --pre ctpre.npy --output cty.npy --verify");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "verify: pre-activation") && strstr(r.out, "OK"), "%s", r.out);
    cmd_free(&r);
    expect_npy_golden("cty.npy", "(1, 2, 7, 9)", gy, sizeof gy / sizeof *gy, 1e-5,
                      "conv_transpose2d residual");
    expect_npy_golden("ctpre.npy", "(1, 2, 7, 9)", gpre, sizeof gy / sizeof *gy, 1e-5,
                      "conv_transpose2d pre");
    int64_t zbad[4] = {1, K, OH - 1, OW};
    write_npy_f32("ctzbad.npy", zbad, 4, z, 1);
    expect_refused("conv_transpose2d --input ctx.npy --weight ctw.npy --stride 2 --padding 1 "
                   "--residual ctzbad.npy --output cty.npy", 1,
                   "residual shape (1, 2, 6, 9) does not match the output shape (1, 2, 7, 9)");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* clconv: malformed input refused with its message                         */
/* ------------------------------------------------------------------------ */

static void expect_refused(const char *args, int rc, const char *needle)
{
    cmd_result r = run_tool(NULL, "clconv", args);
    EXPECT_RC(r, rc);
    ck_assert_msg(strstr(r.err, needle), "'%s': stderr lacks '%s':\n%s", args, needle, r.err);
    cmd_free(&r);
}

START_TEST(cli_refuses_malformed_npy)
{
    float data[2 * 3 * 4 * 4];
    for (size_t i = 0; i < sizeof data / sizeof *data; i++)
        data[i] = (float)i * 0.01f;
    int64_t xs[4] = {2, 3, 4, 4}, ws[4] = {2, 3, 3, 3};
    write_npy_f32("good_x.npy", xs, 4, data, 1);
    write_npy_f32("good_w.npy", ws, 4, data, 1);
    const char *ok = "--weight good_w.npy --output y.npy";
    char args[512];
    struct {
        const char *file, *needle;
    } cases[] = {
        {"bad_magic.npy", "bad magic"},
        {"short.npy", "truncated"},
        {"trunc_header.npy", "truncated"},
        {"trunc_data.npy", "truncated"},
        {"f64.npy", "'<f8' (float64) is not supported"},
        {"i32.npy", "'<i4' (int32) is not supported"},
        {"big.npy", "big-endian"},
        {"fortran.npy", "fortran_order is True"},
        {"v9.npy", "version 9.0 is not supported"},
        {"extra.npy", "extra bytes"},
        {"noshape.npy", "missing 'shape'"},
        {"garbage_header.npy", "malformed .npy header"},
        {"structured.npy", "structured dtypes"},
        {"missing.npy", "cannot open"},
    };
    /* Write each malformed file. */
    {
        char path[600];
        path_in_dir(path, sizeof path, "bad_magic.npy");
        FILE *f = fopen(path, "wb");
        fputs("PK\x03\x04 this is a zip file, not npy", f);
        fclose(f);
        path_in_dir(path, sizeof path, "short.npy");
        f = fopen(path, "wb");
        fwrite("\x93NUMPY\x01", 1, 7, f);
        fclose(f);
        path_in_dir(path, sizeof path, "trunc_header.npy");
        f = fopen(path, "wb");
        fwrite("\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'", 1, 25, f);
        fclose(f);
    }
    const char *d4 = "'fortran_order': False, 'shape': (2, 3, 4, 4), }";
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '<f4', %s", d4);
    write_npy_raw("trunc_data.npy", 1, dict, data, 100);
    write_npy_raw("extra.npy", 1, dict, data, sizeof data);
    {
        char path[600];
        path_in_dir(path, sizeof path, "extra.npy");
        FILE *f = fopen(path, "ab");
        fputs("junk", f);
        fclose(f);
    }
    snprintf(dict, sizeof dict, "{'descr': '<f8', %s", d4);
    write_npy_raw("f64.npy", 1, dict, data, sizeof data);
    snprintf(dict, sizeof dict, "{'descr': '<i4', %s", d4);
    write_npy_raw("i32.npy", 1, dict, data, sizeof data);
    snprintf(dict, sizeof dict, "{'descr': '>f4', %s", d4);
    write_npy_raw("big.npy", 1, dict, data, sizeof data);
    write_npy_raw("fortran.npy", 1,
                  "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4, 4), }", data,
                  sizeof data);
    snprintf(dict, sizeof dict, "{'descr': '<f4', %s", d4);
    write_npy_raw("v9.npy", 1, dict, data, sizeof data);
    {
        char path[600];
        path_in_dir(path, sizeof path, "v9.npy");
        FILE *f = fopen(path, "r+b");
        fseek(f, 6, SEEK_SET);
        fputc(9, f);
        fclose(f);
    }
    write_npy_raw("noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }", data, 4);
    write_npy_raw("garbage_header.npy", 1, "not a dict at all", data, 4);
    write_npy_raw("structured.npy", 1,
                  "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data, 4);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(args, sizeof args, "conv2d --input %s %s", cases[i].file, ok);
        expect_refused(args, 1, cases[i].needle);
        /* The same file as the weights. */
        snprintf(args, sizeof args, "conv2d --input good_x.npy --weight %s --output y.npy",
                 cases[i].file);
        expect_refused(args, 1, cases[i].needle);
    }
    /* Versions 2.0 and 3.0 with double-quoted keys in another order are fine. */
    write_npy_raw("v2.npy", 2,
                  "{\"shape\": (2, 3, 4, 4), \"fortran_order\": False, \"descr\": \"<f4\"}", data,
                  sizeof data);
    write_npy_raw("v3.npy", 3, dict, data, sizeof data);
    for (const char *const *f = (const char *const[]){"v2.npy", "v3.npy", NULL}; *f; f++) {
        snprintf(args, sizeof args, "conv2d --input %s %s --quiet", *f, ok);
        cmd_result r = run_tool(NULL, "clconv", args);
        EXPECT_RC(r, 0);
        cmd_free(&r);
    }
}
END_TEST

START_TEST(cli_refuses_mismatched_shapes)
{
    float data[256] = {0};
    int64_t xs[4] = {1, 3, 5, 5}, w_bad[4] = {2, 4, 3, 3}, w_ok[4] = {2, 3, 3, 3};
    int64_t b_bad[1] = {3}, x3[2] = {3, 25}, w_grp[4] = {4, 2, 3, 3};
    write_npy_f32("sx.npy", xs, 4, data, 1);
    write_npy_f32("sw_bad.npy", w_bad, 4, data, 1);
    write_npy_f32("sw_ok.npy", w_ok, 4, data, 1);
    write_npy_f32("sb_bad.npy", b_bad, 1, data, 1);
    write_npy_f32("sx2d.npy", x3, 2, data, 1);
    write_npy_f32("sw_grp.npy", w_grp, 4, data, 1);
    expect_refused("conv2d --input sx.npy --weight sw_bad.npy --output y.npy", 1,
                   "expected weight.shape[1] = 3");
    expect_refused("conv2d --input sx.npy --weight sw_ok.npy --bias sb_bad.npy --output y.npy",
                   1, "expected (2,)");
    expect_refused("conv2d --input sx2d.npy --weight sw_ok.npy --output y.npy", 1,
                   "expected 4 dimensions");
    /* groups that do not divide the channels: in_channels 3 with weight [4, 2]. */
    expect_refused("conv2d --input sx.npy --weight sw_grp.npy --groups 2 --output y.npy", 1,
                   "does not fit");
    /* A kernel larger than the padded input leaves no output. */
    int64_t w_big[4] = {1, 3, 7, 7};
    write_npy_f32("sw_big.npy", w_big, 4, data, 1);
    expect_refused("conv2d --input sx.npy --weight sw_big.npy --output y.npy", 1, "conv2d");
    /* Usage errors: 64. */
    expect_refused("conv2d --input sx.npy --output y.npy", 64, "--weight is required");
    expect_refused("conv2d --input sx.npy --weight sw_ok.npy --output y.npy --stride 0", 64,
                   "--stride");
    expect_refused("conv2d --input sx.npy --weight sw_ok.npy --output y.npy --kernel-size 3", 64,
                   "unknown option");
    expect_refused("conv2d --input sx.npy --weight sw_ok.npy --output y.npy --padding sometimes",
                   64, "--padding");
    expect_refused("frobnicate2d --input sx.npy", 64, "unknown operator");
    expect_refused("conv2d --input sx.npy --weight sw_ok.npy --output y.npy --device 97:3", 2,
                   "97:3");
    expect_refused("conv2d --input sx.npy --weight sw_ok.npy --output y.npy --padding same "
                   "--stride 2", 1, "stride");
    cmd_result r = run_tool(NULL, "clconv", "conv2d --help");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "--dilation") && strstr(r.out, "--groups"), "%s", r.out);
    cmd_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* clconv-bench                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(bench_quick_suite_json)
{
    cmd_result r = run_tool(NULL, "clconv-bench", "--suite quick --json --runs 3 --warmup 1");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    ck_assert_str_eq(jreq(doc, "tool", J_STR)->str, "clconv-bench");
    jval *layers = jreq(doc, "layers", J_ARR);
    ck_assert_int_ge(layers->n, 3);
    int ran = 0, with_baseline = 0, with_copy = 0;
    for (int i = 0; i < layers->n; i++) {
        jval *l = layers->items[i];
        const char *status = jreq(l, "status", J_STR)->str;
        const char *name = jreq(l, "name", J_STR)->str;
        ck_assert_msg(!strcmp(status, "ok") || !strcmp(status, "skipped"), "%s: %s", name,
                      status);
        if (strcmp(status, "ok"))
            continue;
        ran++;
        ck_assert_msg(jreq(l, "verified", J_BOOL)->b, "%s not verified", name);
        ck_assert_msg(jreq(l, "max_abs_error", J_NUM)->num < 1e-3, "%s error", name);
        ck_assert_msg(jreq(l, "time_ms", J_NUM)->num > 0, "%s time", name);
        ck_assert_msg(jreq(l, "flops", J_NUM)->num > 0, "%s flops", name);
        jreq(l, "algorithm", J_STR);
        jval *bl = jreq(l, "baselines", J_ARR);
        const char *op = jreq(l, "op", J_STR)->str;
        bool conv = !strcmp(op, "conv2d"), convt = !strcmp(op, "conv_transpose2d");
        if (conv || convt) {
            ck_assert_int_ge(bl->n, 1);
            jval *b0 = bl->items[0];
            ck_assert_str_eq(jreq(b0, "name", J_STR)->str, conv ? "im2col+sgemm" : "sgemm+col2im");
            ck_assert_msg(jreq(b0, "time_ms", J_NUM)->num > 0, "%s baseline time", name);
            ck_assert_msg(jreq(b0, "ok", J_BOOL)->b, "%s: CLBlast result off", name);
            ck_assert_msg(jreq(l, "speedup", J_NUM)->num > 0, "%s speedup", name);
            with_baseline++;
        } else if (strstr(op, "pool")) {
            /* Pooling: the device bandwidth measured next to the layer, and
             * the fraction of it reached (the same GB/s over the copy's). */
            jval *copy = jreq(l, "copy_baseline", J_OBJ);
            double copy_gbs = jreq(copy, "gbs", J_NUM)->num;
            ck_assert_msg(copy_gbs > 0.1, "%s: copy %g GB/s", name, copy_gbs);
            double frac = jreq(l, "bandwidth_fraction", J_NUM)->num;
            double gbs = jreq(l, "gbs", J_NUM)->num;
            ck_assert_msg(fabs(frac - gbs / copy_gbs) <= 1e-3 * frac, "%s: fraction %g, %g / %g",
                          name, frac, gbs, copy_gbs);
            with_copy++;
        }
    }
    ck_assert_int_eq(ran, layers->n); /* every operator of the quick suite is available */
    ck_assert_int_ge(with_baseline, 4);
    ck_assert_int_eq(with_copy, 2);
    jval *sum = jreq(doc, "summary", J_OBJ);
    ck_assert_int_eq((int)jreq(sum, "failures", J_NUM)->num, 0);
    ck_assert_msg(jreq(sum, "geomean_speedup", J_NUM)->num > 0, "geomean");
    jfree(doc);
    cmd_free(&r);
}
END_TEST

/* --direction: conv2d layers as backward-data / backward-weights rows, each
 * verified against the reference and timed next to its CLBlast route. */
START_TEST(bench_backward_directions)
{
    cmd_result r = run_tool(NULL, "clconv-bench", "--suite quick --direction bwd-data,bwd-weights "
                            "--json --runs 1 --warmup 0");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    jval *layers = jreq(doc, "layers", J_ARR);
    int dgrad = 0, wgrad = 0;
    for (int i = 0; i < layers->n; i++) {
        jval *l = layers->items[i];
        const char *name = jreq(l, "name", J_STR)->str, *op = jreq(l, "op", J_STR)->str;
        ck_assert_msg(strcmp(op, "conv2d"), "%s: a forward conv2d row without fwd", name);
        bool d = !strcmp(op, "conv2d_backward_data"), w = !strcmp(op, "conv2d_backward_weights");
        if (!d && !w)
            continue; /* the other operators keep their forward rows */
        ck_assert_str_eq(jreq(l, "status", J_STR)->str, "ok");
        ck_assert_msg(strstr(name, d ? "/dgrad" : "/wgrad"), "%s", name);
        ck_assert_msg(jreq(l, "verified", J_BOOL)->b, "%s not verified", name);
        ck_assert_msg(jreq(l, "max_abs_error", J_NUM)->num < 1e-3, "%s error", name);
        jval *b0 = jreq(l, "baselines", J_ARR)->items[0];
        ck_assert_str_eq(jreq(b0, "name", J_STR)->str, d ? "sgemm+col2im" : "im2col+sgemm");
        ck_assert_msg(jreq(b0, "ok", J_BOOL)->b, "%s: CLBlast result off", name);
        dgrad += d;
        wgrad += w;
    }
    ck_assert_int_eq(dgrad, 3);
    ck_assert_int_eq(wgrad, 3);
    jfree(doc);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-bench", "--suite quick --direction sideways");
    EXPECT_RC(r, 64);
    ck_assert_msg(strstr(r.err, "--direction sideways"), "%s", r.err);
    cmd_free(&r);
}
END_TEST

START_TEST(bench_shapes_file_csv_and_errors)
{
    char path[600];
    path_in_dir(path, sizeof path, "layers.txt");
    FILE *f = fopen(path, "w");
    fputs("# two layers\n\n"
          "conv2d n=1 c=4 h=10 w=10 k=8 r=3 s=3 stride=1 pad=1 groups=1 name=a\n"
          "conv2d n=2 c=6 h=9 w=9 k=6 r=3 s=3 stride=2 pad=same groups=3 dilation=1 name=b "
          "# trailing comment\n", f);
    fclose(f);
    cmd_result r = run_tool(NULL, "clconv-bench", "--shapes layers.txt --csv --no-baseline "
                            "--runs 2 --warmup 0");
    EXPECT_RC(r, 1); /* padding='same' with stride 2 is refused by the library */
    cmd_free(&r);
    f = fopen(path, "w");
    fputs("# two layers\n\n"
          "conv2d n=1 c=4 h=10 w=10 k=8 r=3 s=3 stride=1 pad=1 groups=1 name=a\n"
          "conv2d n=2 c=6 h=9 w=9 k=6 r=3 s=3 stride=2 pad=1,0 groups=3 dilation=2 name=b "
          "# trailing comment\n", f);
    fclose(f);
    r = run_tool(NULL, "clconv-bench", "--shapes layers.txt --csv --no-baseline --runs 2 "
                 "--warmup 0");
    EXPECT_RC(r, 0);
    char *save = NULL, *line = strtok_r(r.out, "\n", &save);
    ck_assert_msg(line && !strncmp(line, "name,op,spec,status,", 20), "header: %s", line);
    int rows = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        ck_assert_msg(strstr(line, ",conv2d,") && strstr(line, ",ok,"), "row: %s", line);
        rows++;
    }
    ck_assert_int_eq(rows, 2);
    cmd_free(&r);
    /* A bad line is reported with its file and line number. */
    f = fopen(path, "w");
    fputs("conv2d n=1 c=4 h=10 w=10 k=8 r=3 s=3\nconv2d c=4 h=10 w=10 k=8 r=3 s=3 wings=2\n", f);
    fclose(f);
    r = run_tool(NULL, "clconv-bench", "--shapes layers.txt");
    EXPECT_RC(r, 64);
    ck_assert_msg(strstr(r.err, "layers.txt:2") && strstr(r.err, "wings"), "%s", r.err);
    cmd_free(&r);
    /* One layer from the command line, text output. */
    r = run_tool(NULL, "clconv-bench", "--runs 2 --warmup 0 --no-baseline conv2d --c 3 --h 8 "
                 "--w 8 --k 4 --r 3 --s 3 pad=1");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "summary: 1 layers run"), "%s", r.out);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-bench", "--suite nosuch");
    EXPECT_RC(r, 64);
    cmd_free(&r);
    /* Names with JSON / CSV metacharacters come out escaped. */
    f = fopen(path, "w");
    fputs("conv2d c=2 h=5 w=5 k=2 r=3 s=3 name=we\"ird\\na,me\n", f);
    fclose(f);
    r = run_tool(NULL, "clconv-bench", "--shapes layers.txt --json --no-baseline --runs 1 "
                 "--warmup 0");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    ck_assert_str_eq(jreq(jreq(doc, "layers", J_ARR)->items[0], "name", J_STR)->str,
                     "we\"ird\\na,me");
    jfree(doc);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-bench", "--shapes layers.txt --csv --no-baseline --runs 1 "
                 "--warmup 0");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "\n\"we\"\"ird\\na,me\",conv2d,"), "CSV quoting: %s", r.out);
    cmd_free(&r);
    /* --list prints shapes-file lines that read back to the same layers. */
    r = run_tool(NULL, "clconv-bench", "--suite quick,resnet50,pooling,dcgan --list");
    EXPECT_RC(r, 0);
    int lines = 0;
    for (const char *c = r.out; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 6 + 23 + 5 + 5);
    f = fopen(path, "w");
    fputs(r.out, f);
    fclose(f);
    cmd_result r2 = run_tool(NULL, "clconv-bench", "--shapes layers.txt --list");
    EXPECT_RC(r2, 0);
    ck_assert_str_eq(r2.out, r.out);
    cmd_free(&r2);
    cmd_free(&r);
}
END_TEST

/* Epilogue layers (residual=, alpha=, beta=, activation=): the fused run
 * verified against the *_epilogue reference, the unfused form timed and
 * verified too, unfused / fused time reported; the CLBlast baselines skip
 * the residual with a reason; plain layers carry no unfused fields. */
START_TEST(bench_epilogue_unfused)
{
    char path[600];
    path_in_dir(path, sizeof path, "epi.txt");
    FILE *f = fopen(path, "w");
    fputs("conv2d c=8 h=12 w=12 k=16 r=1 s=1 bias=1 residual=1 activation=relu name=res-relu\n"
          "conv2d c=8 h=12 w=12 k=8 r=3 s=3 pad=1 bias=1 residual=1 alpha=0.5 beta=2 "
          "name=res-scaled\n"
          "conv2d c=8 h=12 w=12 k=8 r=3 s=3 pad=1 groups=8 bias=1 activation=silu name=dw-silu\n"
          "conv_transpose2d c=8 h=6 w=6 k=4 r=4 s=4 stride=2 pad=1 bias=1 residual=1 "
          "activation=leaky_relu:0.2 name=convt-res\n"
          "conv2d c=8 h=12 w=12 k=8 r=3 s=3 pad=1 name=plain\n", f);
    fclose(f);
    cmd_result r = run_tool(NULL, "clconv-bench", "--shapes epi.txt --json --runs 2 --warmup 0");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    jval *layers = jreq(doc, "layers", J_ARR);
    ck_assert_int_eq(layers->n, 5);
    static const struct {
        const char *name, *form, *act;
        bool residual;
        double alpha, beta;
    } want[] = {
        {"res-relu", "conv+bias, add, relu", "relu", true, 1, 1},
        {"res-scaled", "conv, add+bias", "none", true, 0.5, 2}, /* alpha != 1: bias in the add */
        {"dw-silu", "conv+bias, silu", "silu", false, 1, 1},
        {"convt-res", "conv+bias, add, leaky_relu", "leaky_relu", true, 1, 1},
    };
    for (int i = 0; i < layers->n; i++) {
        jval *l = layers->items[i];
        const char *name = jreq(l, "name", J_STR)->str;
        ck_assert_msg(!strcmp(jreq(l, "status", J_STR)->str, "ok"), "%s: %s", name,
                      jreq(l, "status", J_STR)->str);
        ck_assert_msg(jreq(l, "verified", J_BOOL)->b, "%s not verified", name);
        ck_assert_msg(jreq(l, "max_abs_error", J_NUM)->num < 1e-3, "%s error", name);
        if (i == 4) {
            ck_assert_str_eq(name, "plain");
            ck_assert_msg(!jget(l, "unfused") && !jget(l, "fusion_gain"), "plain: unfused");
            ck_assert_msg(jreq(jreq(l, "baselines", J_ARR)->items[0], "ok", J_BOOL)->b, "gemm");
            continue;
        }
        ck_assert_str_eq(name, want[i].name);
        ck_assert_msg(strstr(jreq(l, "spec", J_STR)->str, want[i].residual ? "residual=1" : ""),
                      "%s: spec %s", name, jreq(l, "spec", J_STR)->str);
        jval *ep = jreq(l, "epilogue", J_OBJ);
        ck_assert_str_eq(jreq(ep, "activation", J_STR)->str, want[i].act);
        ck_assert_int_eq(jreq(ep, "residual", J_BOOL)->b, want[i].residual);
        if (want[i].residual) {
            ck_assert_msg(jreq(ep, "alpha", J_NUM)->num == want[i].alpha, "%s alpha", name);
            ck_assert_msg(jreq(ep, "beta", J_NUM)->num == want[i].beta, "%s beta", name);
        }
        jval *u = jreq(l, "unfused", J_OBJ);
        ck_assert_str_eq(jreq(u, "form", J_STR)->str, want[i].form);
        ck_assert_msg(jreq(u, "verified", J_BOOL)->b && jreq(u, "ok", J_BOOL)->b,
                      "%s: the unfused result is off by %g", name,
                      jreq(u, "max_abs_error", J_NUM)->num);
        double fused = jreq(l, "time_ms", J_NUM)->num, unfused = jreq(u, "time_ms", J_NUM)->num;
        double gain = jreq(l, "fusion_gain", J_NUM)->num;
        ck_assert_msg(unfused > 0 && fabs(gain - unfused / fused) <= 1e-4 * gain,
                      "%s: gain %g, unfused %g ms / fused %g ms", name, gain, unfused, fused);
        /* The CLBlast routes fuse bias and ReLU only. */
        jval *bl = jreq(l, "baselines", J_ARR);
        ck_assert_int_ge(bl->n, 1);
        const char *skip = jreq(bl->items[0], "skipped", J_STR)->str;
        ck_assert_msg(strstr(skip, want[i].residual ? "residual" : "activation silu"), "%s: %s",
                      name, skip);
    }
    jval *sum = jreq(doc, "summary", J_OBJ);
    ck_assert_int_eq((int)jreq(sum, "fusion_gains", J_NUM)->num, 4);
    ck_assert_msg(jreq(sum, "geomean_fusion_gain", J_NUM)->num > 0, "geomean fusion gain");
    jfree(doc);
    cmd_free(&r);
    /* --no-unfused: the epilogue stays described, its unfused run is not timed. */
    r = run_tool(NULL, "clconv-bench", "--shapes epi.txt --json --runs 1 --warmup 0 "
                 "--no-baseline --no-unfused");
    EXPECT_RC(r, 0);
    doc = json_parse_or_fail(r.out);
    jval *l0 = jreq(doc, "layers", J_ARR)->items[0];
    ck_assert_str_eq(jreq(jreq(l0, "unfused", J_OBJ), "skipped", J_STR)->str,
                     "not timed (--no-unfused)");
    jreq(l0, "fusion_gain", J_NULL);
    jreq(jreq(doc, "summary", J_OBJ), "geomean_fusion_gain", J_NULL);
    jfree(doc);
    cmd_free(&r);
    /* Text and CSV carry the unfused time and the gain. */
    r = run_tool(NULL, "clconv-bench", "--shapes epi.txt --runs 1 --warmup 0 --no-baseline");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "unfused ms") && strstr(r.out, "fusion gain (unfused / fused "
                                                               "time) geomean"), "%s", r.out);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-bench", "--shapes epi.txt --csv --runs 1 --warmup 0 --no-baseline");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, ",bandwidth_fraction,unfused_ms,fusion_gain\n"), "%s", r.out);
    cmd_free(&r);
    /* alpha= / beta= without residual=1, and a residual on pooling, are refused. */
    f = fopen(path, "w");
    fputs("conv2d c=4 h=8 w=8 k=4 r=3 s=3 beta=2\n", f);
    fclose(f);
    r = run_tool(NULL, "clconv-bench", "--shapes epi.txt");
    EXPECT_RC(r, 64);
    ck_assert_msg(strstr(r.err, "epi.txt:1") && strstr(r.err, "need residual=1"), "%s", r.err);
    cmd_free(&r);
    f = fopen(path, "w");
    fputs("max_pool2d c=4 h=8 w=8 kernel=2 residual=1\n", f);
    fclose(f);
    r = run_tool(NULL, "clconv-bench", "--shapes epi.txt");
    EXPECT_RC(r, 64);
    ck_assert_msg(strstr(r.err, "residual=1 applies to the convolutions only"), "%s", r.err);
    cmd_free(&r);
    /* The built-in suite: its layers read back through --shapes unchanged. */
    r = run_tool(NULL, "clconv-bench", "--suite epilogue --list");
    EXPECT_RC(r, 0);
    int lines = 0, residuals = 0;
    for (const char *c = r.out; *c; c++)
        lines += *c == '\n';
    for (const char *c = r.out; (c = strstr(c, "residual=1")); c++)
        residuals++;
    ck_assert_int_ge(lines, 6);
    ck_assert_int_eq(residuals, 2);
    f = fopen(path, "w");
    fputs(r.out, f);
    fclose(f);
    cmd_result r2 = run_tool(NULL, "clconv-bench", "--shapes epi.txt --list");
    EXPECT_RC(r2, 0);
    ck_assert_str_eq(r2.out, r.out);
    cmd_free(&r2);
    cmd_free(&r);
}
END_TEST

/* A profiling timer that gives zero-length spans (Mesa rusticl 22.3;
 * simulated here with CLCONV_TOOLS_ZERO_TIMER=1): clconv-query --bench once
 * grew its calibration kernel without end (minutes of CPU, this suite hung),
 * clconv-bench printed 0.000 ms without a word. Both must finish, fall back
 * to wall-clock time and say so. `timeout` turns a hang into a failure. */
START_TEST(zero_timer_falls_back_to_wall_clock)
{
    cmd_result r = run_tool("CLCONV_TOOLS_ZERO_TIMER=1 timeout 90", "clconv-query",
                            "--bench --no-plan --device 0:0");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "bench (wall clock"), "no wall-clock note:\n%s", r.out);
    ck_assert_msg(!strstr(r.out, " 0.0,"), "a zero rate:\n%s", r.out);
    cmd_free(&r);
    r = run_tool("CLCONV_TOOLS_ZERO_TIMER=1 timeout 90", "clconv-bench",
                 "--suite quick --runs 2 --warmup 1 --no-verify");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "WALL CLOCK"), "no wall-clock note:\n%s", r.out);
    ck_assert_msg(!strstr(r.out, " 0.000 "), "a zero time:\n%s", r.out);
    cmd_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* float16: npy '<f2', clconv --dtype f16, clconv-bench --dtype f16         */
/* ------------------------------------------------------------------------ */

/* Reads a '<f2' .npy written by a tool: the half bits, decoded little-endian
 * byte by byte. */
static uint16_t *read_npy_f16(const char *name, const char *shape_text, size_t *count)
{
    unsigned char *raw = read_npy(name, "<f2", shape_text, count, 2);
    uint16_t *h = malloc(*count * 2 + 2);
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < *count; i++)
        h[i] = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
    free(raw);
    return h;
}

static bool half_is_nan(uint16_t h)
{
    return (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0;
}

/* tools/npy.c itself: '<f2' written and read back bit for bit (an odd count,
 * +-inf, NaNs with payloads, subnormals, -0), the file's bytes little-endian,
 * the dtype told to the caller; the float32-only reader and other dtypes
 * refused naming the descr. */
START_TEST(npy_f16_roundtrip)
{
    static const uint16_t h[7] = {0x3c00 /* 1 */, 0x7c00 /* inf */, 0xfc00 /* -inf */,
                                  0x7e00 /* NaN */, 0x7d01 /* NaN with a payload */,
                                  0x0001 /* smallest subnormal */, 0x8000 /* -0 */};
    int64_t shape[1] = {7};
    char path[600], err[512];
    path_in_dir(path, sizeof path, "rt16.npy");
    ck_assert_msg(npy_write_f16(path, shape, 1, h, err, sizeof err) == 0, "%s", err);
    size_t n = 0;
    unsigned char *raw = read_npy("rt16.npy", "<f2", "(7,)", &n, 2);
    ck_assert_uint_eq(n, 7);
    ck_assert_msg(raw[0] == 0x00 && raw[1] == 0x3c && raw[2] == 0x00 && raw[3] == 0x7c &&
                      raw[8] == 0x01 && raw[9] == 0x7d,
                  "'<f2' data is not little-endian: %02x %02x %02x %02x", raw[0], raw[1],
                  raw[2], raw[3]);
    free(raw);
    npy_array a;
    ck_assert_msg(npy_read(path, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(a.dtype, NPY_F16);
    ck_assert_ptr_null(a.data);
    ck_assert_ptr_nonnull(a.halves);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_uint_eq(a.count, 7);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(a.halves[i] == h[i], "element %d: 0x%04x, wrote 0x%04x", i, a.halves[i],
                      h[i]);
    npy_free(&a);
    /* A 3x3 (odd) array written by the test, read by npy.c. */
    uint16_t sq[9];
    for (int i = 0; i < 9; i++)
        sq[i] = clconv_float_to_half((float)i - 4.5f);
    int64_t s2[2] = {3, 3};
    write_npy_f16("sq16.npy", s2, 2, sq);
    path_in_dir(path, sizeof path, "sq16.npy");
    ck_assert_msg(npy_read(path, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(a.dtype, NPY_F16);
    ck_assert_int_eq(memcmp(a.halves, sq, sizeof sq), 0);
    npy_free(&a);
    /* '<f4' through npy_read: floats, dtype F32. */
    float f[3] = {1.5f, -2, 0.25f};
    int64_t s3[1] = {3};
    write_npy_f32("f4.npy", s3, 1, f, 1);
    path_in_dir(path, sizeof path, "f4.npy");
    ck_assert_msg(npy_read(path, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(a.dtype, NPY_F32);
    ck_assert_ptr_null(a.halves);
    ck_assert_int_eq(memcmp(a.data, f, sizeof f), 0);
    npy_free(&a);
    /* The float32-only reader refuses '<f2'; npy_read refuses '<f8', '>f2'. */
    path_in_dir(path, sizeof path, "sq16.npy");
    ck_assert_int_eq(npy_read_f32(path, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "'<f2' (float16) is not supported"), "%s", err);
    double d[2] = {1, 2};
    write_npy_raw("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d,
                  sizeof d);
    path_in_dir(path, sizeof path, "f8.npy");
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "'<f8' (float64) is not supported") && strstr(err, "'<f2'"),
                  "%s", err);
    write_npy_raw("be16.npy", 1, "{'descr': '>f2', 'fortran_order': False, 'shape': (1,), }", h,
                  2);
    path_in_dir(path, sizeof path, "be16.npy");
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "big-endian float16 ('>f2')"), "%s", err);
    /* A truncated '<f2' file counts 2-byte elements. */
    write_npy_raw("short16.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }",
                  h, 4);
    path_in_dir(path, sizeof path, "short16.npy");
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "needs 6 bytes of data, the file holds 4"), "%s", err);
}
END_TEST

/* clconv conv2d --dtype f16: '<f2' inputs, '<f2' output equal to golden
 * numbers (small integers: every sum is exact in half), '<f4' inputs rounded
 * to half, the special values through an identity convolution bit for bit,
 * and an algorithm without F16 kernels refused with the library's message. */
START_TEST(cli_conv2d_f16)
{
    enum { N = 1, C = 3, H = 5, W = 6, K = 4 };
    tu_rng rng = tu_rng_make(77);
    float x[N * C * H * W], w[K * C * 3 * 3], b[K];
    double gy[N * K * H * W];
    tu_fill(&rng, x, sizeof x / sizeof *x, true);
    tu_fill(&rng, w, sizeof w / sizeof *w, true);
    tu_fill(&rng, b, K, true);
    int64_t xs[4] = {N, C, H, W}, wsh[4] = {K, C, 3, 3}, bs[1] = {K};
    write_npy_f16_floats("hx.npy", xs, 4, x);
    write_npy_f16_floats("hw.npy", wsh, 4, w);
    write_npy_f16_floats("hb.npy", bs, 1, b);
    size_t ny = sizeof gy / sizeof *gy;
    golden_conv(false, N, C, H, W, K, 3, 3, 1, 1, x, w, b, NULL, 1, 1, G_RELU, H, W, gy, NULL);
    const char *shape = "(1, 4, 5, 6)";

    /* 1. '<f2' in, '<f2' out. */
    cmd_result r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --bias hb.npy "
                            "--padding 1 --relu --dtype f16 --output hy.npy --verify");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "dtype f16 (fp32 arithmetic)") &&
                      strstr(r.out, "vs the CPU reference: OK"), "%s", r.out);
    cmd_free(&r);
    size_t got = 0;
    uint16_t *y = read_npy_f16("hy.npy", shape, &got);
    ck_assert_uint_eq(got, ny);
    for (size_t i = 0; i < ny; i++)
        ck_assert_msg(clconv_half_to_float(y[i]) == gy[i], "hy.npy[%zu] = %g, golden %g", i,
                      (double)clconv_half_to_float(y[i]), gy[i]);
    free(y);

    /* 2. '<f4' inputs with --dtype f16: rounded to half first (x + 2^-12
     * rounds back to x for 1 <= |x| <= 3), so the result is the same. */
    float x4[N * C * H * W];
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        x4[i] = x[i] == 0 ? 0 : x[i] + 0x1p-12f;
    write_npy_f32("fx.npy", xs, 4, x4, 1);
    write_npy_f32("fw.npy", wsh, 4, w, 1);
    r = run_tool(NULL, "clconv", "conv2d --input fx.npy --weight fw.npy --bias hb.npy "
                 "--padding 1 --relu --dtype=f16 --output hy2.npy --verify");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    y = read_npy_f16("hy2.npy", shape, &got);
    ck_assert_uint_eq(got, ny);
    for (size_t i = 0; i < ny; i++)
        ck_assert_msg(clconv_half_to_float(y[i]) == gy[i], "hy2.npy[%zu] = %g, golden %g", i,
                      (double)clconv_half_to_float(y[i]), gy[i]);
    free(y);

    /* 3. '<f2' inputs without --dtype: widened exactly, an f32 run, '<f4' out. */
    r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --bias hb.npy "
                 "--padding 1 --relu --output fy.npy --verify");
    EXPECT_RC(r, 0);
    ck_assert_msg(!strstr(r.out, "dtype f16"), "%s", r.out);
    cmd_free(&r);
    expect_npy_golden("fy.npy", shape, gy, ny, 0, "f2 inputs, f32 run");

    /* 4. Special values bit for bit through a 1x1 identity convolution, an
     * odd element count (1x1x3x3). */
    static const uint16_t sx[9] = {0x7c00 /* inf */, 0xfc00 /* -inf */, 0x7e00 /* NaN */,
                                   0x7bff /* 65504 */, 0x0001 /* 2^-24 */, 0x03ff,
                                   0xc100 /* -2.5 */, 0x3555 /* ~1/3 */, 0x3c00 /* 1 */};
    uint16_t one = 0x3c00;
    int64_t s9[4] = {1, 1, 3, 3}, s1[4] = {1, 1, 1, 1};
    write_npy_f16("sx.npy", s9, 4, sx);
    write_npy_f16("sw.npy", s1, 4, &one);
    r = run_tool(NULL, "clconv", "conv2d --input sx.npy --weight sw.npy --dtype f16 "
                 "--output sy.npy");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    y = read_npy_f16("sy.npy", "(1, 1, 3, 3)", &got);
    ck_assert_uint_eq(got, 9);
    for (int i = 0; i < 9; i++)
        ck_assert_msg(half_is_nan(sx[i]) ? half_is_nan(y[i]) : y[i] == sx[i],
                      "sy.npy[%d] = 0x%04x, x was 0x%04x", i, y[i], sx[i]);
    free(y);

    /* 5. An algorithm without F16 kernels (CLBlast's GEMM): the library's
     * UNSUPPORTED message, exit 1, no output written. */
    r = run_tool(NULL, "clconv", "conv2d --input hx.npy --weight hw.npy --padding 1 "
                 "--dtype f16 --algo gemm --output wy.npy");
    EXPECT_RC(r, 1);
    ck_assert_msg(strstr(r.err, "UNSUPPORTED") || strstr(r.err, "unsupported"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "F16") || strstr(r.err, "f16") || strstr(r.err, "half"), "%s",
                  r.err);
    char path[600];
    path_in_dir(path, sizeof path, "wy.npy");
    ck_assert_msg(access(path, F_OK) != 0, "wy.npy written by a refused run");
    cmd_free(&r);
    /* Pooling takes F16: the 2x2 maxima of the halves, exactly. */
    r = run_tool(NULL, "clconv", "max_pool2d --input hx.npy --kernel-size 2 --dtype f16 "
                 "--output py.npy");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    uint16_t *py = read_npy_f16("py.npy", "(1, 3, 2, 3)", &got);
    ck_assert_uint_eq(got, (size_t)(C * 2 * 3));
    for (int c = 0; c < C; c++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                float m = -INFINITY;
                for (int di = 0; di < 2; di++)
                    for (int dj = 0; dj < 2; dj++)
                        m = fmaxf(m, x[(c * H + 2 * i + di) * W + 2 * j + dj]);
                const float g = clconv_half_to_float(py[(c * 2 + i) * 3 + j]);
                ck_assert_msg(g == m, "py.npy[%d][%d][%d] = %g, max %g", c, i, j, (double)g,
                              (double)m);
            }
    free(py);
    /* The transposed convolution takes F16 ('<f2' out, verified); its
     * CLBlast algorithm refuses it, saying why; and a bad --dtype. */
    int64_t tws[4] = {C, 2, 3, 3};
    write_npy_f16_floats("tw.npy", tws, 4, w);
    r = run_tool(NULL, "clconv", "conv_transpose2d --input hx.npy --weight tw.npy --dtype f16 "
                 "--output ty.npy --verify");
    EXPECT_RC(r, 0);
    cmd_free(&r);
    uint16_t *ty = read_npy_f16("ty.npy", "(1, 2, 7, 8)", &got);
    ck_assert_uint_eq(got, (size_t)(2 * 7 * 8));
    free(ty);
    r = run_tool(NULL, "clconv", "conv_transpose2d --input hx.npy --weight tw.npy --dtype f16 "
                 "--algo transposed-gemm --output ty2.npy");
    EXPECT_RC(r, 1);
    ck_assert_msg(strstr(r.err, "UNSUPPORTED") || strstr(r.err, "unsupported"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "cl_khr_fp16"), "%s", r.err);
    cmd_free(&r);
    expect_refused("conv2d --input hx.npy --weight hw.npy --dtype f64 --output y.npy", 64,
                   "--dtype: bad value 'f64'");
}
END_TEST

/* clconv-bench --dtype f16 and dtype=f16 per layer: halves (bytes counted as
 * 2-byte elements), verified; refused layers and the CLBlast baselines
 * skipped with their reasons; JSON's per-layer dtype. */
START_TEST(bench_f16)
{
    char path[600];
    path_in_dir(path, sizeof path, "f16.txt");
    FILE *f = fopen(path, "w");
    fputs("conv2d c=3 h=8 w=8 k=4 r=3 s=3 pad=1 bias=1 name=h16 dtype=f16\n"
          "conv2d c=3 h=8 w=8 k=4 r=3 s=3 pad=1 bias=1 name=f32\n"
          "conv_transpose2d c=3 h=8 w=8 k=4 r=3 s=3 name=ct16 dtype=f16\n", f);
    fclose(f);
    cmd_result r = run_tool(NULL, "clconv-bench", "--shapes f16.txt --json --runs 1 --warmup 0 "
                            "--quiet");
    EXPECT_RC(r, 0);
    jval *doc = json_parse_or_fail(r.out);
    jval *layers = jreq(doc, "layers", J_ARR);
    ck_assert_int_eq(layers->n, 3);
    jval *h16 = layers->items[0], *f32 = layers->items[1], *ct = layers->items[2];
    ck_assert_str_eq(jreq(h16, "dtype", J_STR)->str, "f16");
    ck_assert_str_eq(jreq(f32, "dtype", J_STR)->str, "f32");
    ck_assert_str_eq(jreq(ct, "dtype", J_STR)->str, "f16");
    ck_assert_str_eq(jreq(h16, "status", J_STR)->str, "ok");
    ck_assert_msg(jreq(h16, "verified", J_BOOL)->b, "f16 layer not verified");
    ck_assert_msg(strstr(jreq(h16, "spec", J_STR)->str, "dtype=f16"), "spec lacks dtype");
    /* The same layer's bytes: halves are half the floats' bytes. */
    double b16 = jreq(h16, "bytes", J_NUM)->num, b32 = jreq(f32, "bytes", J_NUM)->num;
    ck_assert_msg(b16 > 0 && fabs(b16 * 2 - b32) < 1e-9 * b32, "bytes f16 %g, f32 %g", b16,
                  b32);
    /* The baselines: skipped for f16 with a reason, run for f32. */
    jval *bls = jreq(h16, "baselines", J_ARR);
    ck_assert_int_ge(bls->n, 1);
    for (int i = 0; i < bls->n; i++)
        ck_assert_msg(strstr(jreq(bls->items[i], "skipped", J_STR)->str, "dtype f16"),
                      "baseline %d not skipped for f16", i);
    ck_assert_str_eq(jreq(ct, "status", J_STR)->str, "ok");
    ck_assert_msg(jreq(ct, "verified", J_BOOL)->b, "f16 transposed layer not verified");
    jfree(doc);
    cmd_free(&r);
    /* --dtype f16 for every layer; --algo transposed-gemm (CLBlast) has no
     * F16 kernel: the transposed layer is skipped (not failed) with the
     * library's reason, the conv layers (which lack that algorithm) run,
     * exit 0. */
    r = run_tool(NULL, "clconv-bench", "--shapes f16.txt --json --runs 1 --warmup 0 --quiet "
                 "--no-baseline --dtype f16 --algo transposed-gemm");
    EXPECT_RC(r, 0);
    doc = json_parse_or_fail(r.out);
    layers = jreq(doc, "layers", J_ARR);
    ck_assert_int_eq(layers->n, 3);
    for (int i = 0; i < layers->n; i++) {
        ck_assert_str_eq(jreq(layers->items[i], "dtype", J_STR)->str, "f16");
        ck_assert_str_eq(jreq(layers->items[i], "status", J_STR)->str, i == 2 ? "skipped" : "ok");
    }
    const char *why = jreq(layers->items[2], "reason", J_STR)->str;
    ck_assert_msg(strstr(why, "f16") && strstr(why, "transposed-gemm"), "reason: %s", why);
    jfree(doc);
    cmd_free(&r);
    /* --list carries dtype=f16, and it reads back. */
    r = run_tool(NULL, "clconv-bench", "--shapes f16.txt --dtype f16 --list");
    EXPECT_RC(r, 0);
    ck_assert_msg(strstr(r.out, "name=f32") || strstr(r.out, "dtype=f16"), "%s", r.out);
    int n16 = 0;
    for (const char *c = r.out; (c = strstr(c, "dtype=f16")); c++)
        n16++;
    ck_assert_int_eq(n16, 3);
    cmd_free(&r);
    r = run_tool(NULL, "clconv-bench", "--shapes f16.txt --dtype f8 --list");
    EXPECT_RC(r, 64);
    cmd_free(&r);
}
END_TEST

static Suite *tools_suite(void)
{
    Suite *s = suite_create("tools");
    TCase *json = tcase_create("json");
    tcase_add_test(json, json_parser_is_strict);
    suite_add_tcase(s, json);
    TCase *query = tcase_create("query");
    tcase_set_timeout(query, 120);
    tcase_add_test(query, query_json_is_valid_and_complete);
    tcase_add_test(query, query_text_marks_default);
    tcase_add_test(query, query_bench_measures);
    tcase_add_test(query, query_exit_codes);
    tcase_add_test(query, zero_timer_falls_back_to_wall_clock);
    suite_add_tcase(s, query);
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 120);
    tcase_add_test(cli, cli_conv2d_roundtrips);
    tcase_add_test(cli, cli_pool_roundtrips);
    tcase_add_test(cli, cli_conv_transpose2d_roundtrips);
    tcase_add_test(cli, cli_conv2d_residual);
    tcase_add_test(cli, cli_conv_transpose2d_residual);
    tcase_add_test(cli, cli_refuses_malformed_npy);
    tcase_add_test(cli, cli_refuses_mismatched_shapes);
    tcase_add_test(cli, npy_f16_roundtrip);
    tcase_add_test(cli, cli_conv2d_f16);
    suite_add_tcase(s, cli);
    TCase *bench = tcase_create("bench");
    tcase_set_timeout(bench, 240);
    tcase_add_test(bench, bench_quick_suite_json);
    tcase_add_test(bench, bench_shapes_file_csv_and_errors);
    tcase_add_test(bench, bench_backward_directions);
    tcase_add_test(bench, bench_epilogue_unfused);
    tcase_add_test(bench, bench_f16);
    suite_add_tcase(s, bench);
    return s;
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/clconv-test-tools-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    int rc = tu_run_suite(tools_suite());
    if (rc == EXIT_SUCCESS) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", g_dir);
    } else {
        fprintf(stderr, "tool outputs kept in %s\n", g_dir);
    }
    return rc;
}
