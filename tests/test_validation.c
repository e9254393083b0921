/* Bad input, operator by operator: every class of bad argument gets the
 * exact status and a message that names the parameter. Device-free parts
 * (validate, output shapes, references) and plan / run argument checks on the
 * test device; nothing here enqueues a kernel. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG ((int64_t)1 << 20)
#define HUGE_DIM ((int64_t)1 << 30)

/* The last message (of ctx, or of the thread when ctx is NULL) contains needle. */
static void expect(clconv_status got, clconv_status want, const clconv_context *ctx,
                   const char *needle, const char *what)
{
    const char *msg = clconv_last_error(ctx);
    ck_assert_msg(got == want, "%s: expected %s, got %s ('%s')", what,
                  clconv_status_string(want), clconv_status_string(got), msg);
    ck_assert_msg(strstr(msg, needle) != NULL, "%s: message '%s' does not name '%s'", what, msg,
                  needle);
}

static cl_ulong max_alloc(void)
{
    cl_ulong v = 0;
    cl_int err = clGetDeviceInfo(clconv_context_device(tu_ctx()), CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                                 sizeof v, &v, NULL);
    ck_assert_int_eq(err, CL_SUCCESS);
    return v;
}

/* A side length whose square-ish shape {1, 1, rows, 1024} holds just more
 * floats than the device's largest allocation; 0 when that count exceeds the
 * kernels' int range (then the 32-bit check answers first). */
static int64_t rows_above_max_alloc(void)
{
    cl_ulong floats = max_alloc() / 4 + 1;
    if (floats + 1024 > (cl_ulong)INT32_MAX)
        return 0;
    return (int64_t)((floats + 1023) / 1024);
}

static cl_mem buffer(size_t bytes)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(tu_ctx()), CL_MEM_READ_WRITE, bytes, NULL,
                              &err);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer(%zu): %d", bytes, err);
    return m;
}

/* ---- conv2d / conv1d: parameters -------------------------------------------- */

typedef struct conv2d_case {
    const char *what;
    clconv_conv2d_params p;
    clconv_shape in;
    clconv_status want;
    const char *needle;
} conv2d_case;

static clconv_conv2d_params c2(int64_t in, int64_t out, int64_t kh, int64_t kw)
{
    return clconv_conv2d_default_params(in, out, kh, kw);
}

static void run_conv2d_case(const conv2d_case *c, bool device)
{
    clconv_shape out;
    char what[160];
    snprintf(what, sizeof what, "conv2d %s: validate", c->what);
    expect(clconv_conv2d_validate(&c->p, &c->in), c->want, NULL, c->needle, what);
    snprintf(what, sizeof what, "conv2d %s: output_shape", c->what);
    expect(clconv_conv2d_output_shape(&c->p, &c->in, &out), c->want, NULL, c->needle, what);
    float a[4] = {0, 0, 0, 0};
    snprintf(what, sizeof what, "conv2d %s: ref", c->what);
    expect(clconv_ref_conv2d(&c->p, &c->in, a, a, a, a), c->want, NULL, c->needle, what);
    if (!device)
        return;
    clconv_plan *plan = (clconv_plan *)&out; /* must be reset to NULL */
    snprintf(what, sizeof what, "conv2d %s: plan_create", c->what);
    expect(clconv_conv2d_plan_create(tu_ctx(), &c->p, &c->in, NULL, &plan), c->want, tu_ctx(),
           c->needle, what);
    ck_assert_ptr_null(plan);
    snprintf(what, sizeof what, "conv2d %s: host", c->what);
    expect(clconv_conv2d_host(tu_ctx(), &c->p, &c->in, NULL, a, a, a, a), c->want, tu_ctx(),
           c->needle, what);
}

static conv2d_case conv2d_with(const char *what, clconv_conv2d_params p, clconv_shape in,
                               clconv_status want, const char *needle)
{
    conv2d_case c = {what, p, in, want, needle};
    return c;
}

START_TEST(conv2d_bad_parameters)
{
    const clconv_conv2d_params ok = c2(4, 6, 3, 3);
    const clconv_shape in = {2, 4, 8, 8};
    conv2d_case cases[64];
    int n = 0;
    clconv_conv2d_params p;
    clconv_shape s;
#define ROW(field, value, status, needle)                                                      \
    do {                                                                                       \
        p = ok;                                                                                \
        s = in;                                                                                \
        field = value;                                                                         \
        cases[n++] = conv2d_with(#field " = " #value, p, s, status, needle);                   \
    } while (0)
    ROW(p.in_channels, 0, CLCONV_ERROR_INVALID_VALUE, "in_channels = 0");
    ROW(p.in_channels, -4, CLCONV_ERROR_INVALID_VALUE, "in_channels = -4");
    ROW(p.out_channels, 0, CLCONV_ERROR_INVALID_VALUE, "out_channels = 0");
    ROW(p.kernel_h, 0, CLCONV_ERROR_INVALID_VALUE, "kernel_h = 0");
    ROW(p.kernel_w, -1, CLCONV_ERROR_INVALID_VALUE, "kernel_w = -1");
    ROW(p.stride_h, 0, CLCONV_ERROR_INVALID_VALUE, "stride_h = 0");
    ROW(p.stride_w, -2, CLCONV_ERROR_INVALID_VALUE, "stride_w = -2");
    ROW(p.dilation_h, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 0");
    ROW(p.dilation_w, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_w = 0");
    ROW(p.pad_top, -1, CLCONV_ERROR_INVALID_VALUE, "pad_top = -1");
    ROW(p.pad_bottom, -1, CLCONV_ERROR_INVALID_VALUE, "pad_bottom = -1");
    ROW(p.pad_left, -1, CLCONV_ERROR_INVALID_VALUE, "pad_left = -1");
    ROW(p.pad_right, INT64_MIN, CLCONV_ERROR_INVALID_VALUE, "pad_right");
    ROW(p.groups, 0, CLCONV_ERROR_INVALID_VALUE, "groups = 0");
    ROW(p.groups, 3, CLCONV_ERROR_INVALID_VALUE, "groups = 3 does not divide in_channels");
    ROW(p.groups, 4, CLCONV_ERROR_INVALID_VALUE, "groups = 4 does not divide out_channels");
    ROW(p.activation, (clconv_activation)9, CLCONV_ERROR_INVALID_VALUE, "activation = 9");
    /* values beyond 2^30 are refused before any arithmetic on them */
    ROW(p.kernel_h, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "kernel_h");
    ROW(p.stride_w, HUGE_DIM + 1, CLCONV_ERROR_INVALID_VALUE, "stride_w");
    ROW(p.dilation_h, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "dilation_h");
    ROW(p.pad_bottom, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "pad_bottom");
    ROW(p.out_channels, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "out_channels");
    /* input shape */
    ROW(s.n, 0, CLCONV_ERROR_INVALID_SHAPE, "input.n = 0");
    ROW(s.c, -1, CLCONV_ERROR_INVALID_SHAPE, "input.c = -1");
    ROW(s.h, 0, CLCONV_ERROR_INVALID_SHAPE, "input.h = 0");
    ROW(s.w, -7, CLCONV_ERROR_INVALID_SHAPE, "input.w = -7");
    ROW(s.c, 3, CLCONV_ERROR_INVALID_SHAPE, "input.c = 3, expected in_channels = 4");
    ROW(s.h, INT64_MAX, CLCONV_ERROR_INVALID_SHAPE, "input.h");
    ROW(s.n, HUGE_DIM + 1, CLCONV_ERROR_INVALID_SHAPE, "input.n");
    /* no output */
    ROW(p.kernel_h, 9, CLCONV_ERROR_INVALID_SHAPE, "kernel");
    ROW(p.dilation_w, 5, CLCONV_ERROR_INVALID_SHAPE, "kernel");
    /* element counts that overflow size_t */
    p = ok;
    s = (clconv_shape){BIG, BIG, BIG, BIG};
    p.in_channels = BIG;
    cases[n++] = conv2d_with("N=C=H=W=2^20", p, s, CLCONV_ERROR_INVALID_SHAPE, "input");
    p = c2(HUGE_DIM, HUGE_DIM, HUGE_DIM, HUGE_DIM);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = HUGE_DIM / 2;
    s = (clconv_shape){1, HUGE_DIM, 1, 1};
    cases[n++] = conv2d_with("weight 2^120 elements", p, s, CLCONV_ERROR_INVALID_SHAPE, "weight");
    p = c2(1, HUGE_DIM, 1, 1);
    s = (clconv_shape){HUGE_DIM, 1, HUGE_DIM, 1};
    cases[n++] = conv2d_with("output 2^120 elements", p, s, CLCONV_ERROR_INVALID_SHAPE, "output");
    /* elements fit size_t, bytes do not */
    p = c2(1, 1, 1, 1);
    s = (clconv_shape){1 << 2, 1, HUGE_DIM, HUGE_DIM};
    cases[n++] = conv2d_with("input 2^62 floats", p, s, CLCONV_ERROR_INVALID_SHAPE, "input");
#undef ROW
    ck_assert_int_le(n, (int)(sizeof cases / sizeof cases[0]));
    for (int i = 0; i < n; i++)
        run_conv2d_case(&cases[i], true);
}
END_TEST

START_TEST(conv2d_null_pointers)
{
    clconv_conv2d_params p = c2(1, 1, 1, 1);
    p.has_bias = 1;
    clconv_shape in = {1, 1, 2, 2}, out;
    float a[4] = {0};
    expect(clconv_conv2d_validate(NULL, &in), CLCONV_ERROR_INVALID_VALUE, NULL, "params",
           "validate(NULL params)");
    expect(clconv_conv2d_validate(&p, NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "input",
           "validate(NULL input)");
    expect(clconv_conv2d_output_shape(&p, &in, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "output", "output_shape(NULL output)");
    expect(clconv_conv2d_output_shape(NULL, &in, &out), CLCONV_ERROR_INVALID_VALUE, NULL,
           "params", "output_shape(NULL params)");
    expect(clconv_conv2d_set_same_padding(NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "params",
           "set_same_padding(NULL)");
    clconv_conv2d_params q = c2(1, 1, INT64_MAX, 3);
    expect(clconv_conv2d_set_same_padding(&q), CLCONV_ERROR_INVALID_VALUE, NULL, "kernel_h",
           "set_same_padding(kernel_h = INT64_MAX)");
    q = c2(1, 1, 3, 3);
    q.dilation_w = INT64_MAX;
    expect(clconv_conv2d_set_same_padding(&q), CLCONV_ERROR_INVALID_VALUE, NULL, "dilation_w",
           "set_same_padding(dilation_w = INT64_MAX)");
    q = c2(1, 1, 3, 3);
    q.stride_h = 2;
    expect(clconv_conv2d_set_same_padding(&q), CLCONV_ERROR_INVALID_VALUE, NULL, "stride",
           "set_same_padding(stride 2)");
    clconv_shape ws = clconv_conv2d_weight_shape(NULL);
    ck_assert_int_eq(ws.n | ws.c | ws.h | ws.w, 0);
    /* references: every array */
    const char *names[4] = {"x: NULL", "w: NULL", "b: NULL", "y: NULL"};
    for (int i = 0; i < 4; i++) {
        const float *x = i == 0 ? NULL : a, *w = i == 1 ? NULL : a, *b = i == 2 ? NULL : a;
        float *y = i == 3 ? NULL : a;
        expect(clconv_ref_conv2d(&p, &in, x, w, b, y), CLCONV_ERROR_INVALID_VALUE, NULL,
               names[i], "ref_conv2d(NULL array)");
        expect(clconv_conv2d_host(tu_ctx(), &p, &in, NULL, x, w, b, y), CLCONV_ERROR_INVALID_VALUE,
               tu_ctx(), names[i], "conv2d_host(NULL array)");
    }
    expect(clconv_ref_conv2d(NULL, &in, a, a, a, a), CLCONV_ERROR_INVALID_VALUE, NULL, "params",
           "ref_conv2d(NULL params)");
    expect(clconv_ref_conv2d(&p, NULL, a, a, a, a), CLCONV_ERROR_INVALID_VALUE, NULL, "input",
           "ref_conv2d(NULL input)");
    expect(clconv_conv2d_host(NULL, &p, &in, NULL, a, a, a, a), CLCONV_ERROR_INVALID_VALUE, NULL,
           "ctx", "conv2d_host(NULL ctx)");
    clconv_plan *plan;
    expect(clconv_conv2d_plan_create(NULL, &p, &in, NULL, &plan), CLCONV_ERROR_INVALID_VALUE,
           NULL, "ctx", "plan_create(NULL ctx)");
    expect(clconv_conv2d_plan_create(tu_ctx(), &p, &in, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "out", "plan_create(NULL out)");
    expect(clconv_conv2d_plan_create(tu_ctx(), NULL, &in, NULL, &plan),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "params", "plan_create(NULL params)");
    expect(clconv_conv2d_plan_create(tu_ctx(), &p, NULL, NULL, &plan),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "input", "plan_create(NULL input)");
    /* options */
    const struct {
        clconv_plan_options o;
        clconv_status want;
        const char *needle;
    } opts[] = {
        {{.block_w = -1}, CLCONV_ERROR_INVALID_VALUE, "options.block_w = -1"},
        {{.wg_w = 5000}, CLCONV_ERROR_INVALID_VALUE, "options.wg_w = 5000"},
        {{.ci_chunk = -3}, CLCONV_ERROR_INVALID_VALUE, "options.ci_chunk = -3"},
        {{.algorithm = CLCONV_ALGO_POOL}, CLCONV_ERROR_UNSUPPORTED, "options.algorithm = pool"},
        {{.algorithm = (clconv_algorithm)77}, CLCONV_ERROR_UNSUPPORTED, "options.algorithm"},
        {{.algorithm = CLCONV_ALGO_WINOGRAD}, CLCONV_ERROR_UNSUPPORTED, "kernel"},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        plan = (clconv_plan *)&out;
        expect(clconv_conv2d_plan_create(tu_ctx(), &p, &in, &opts[i].o, &plan), opts[i].want,
               tu_ctx(), opts[i].needle, "plan_create(bad options)");
        ck_assert_ptr_null(plan);
    }
}
END_TEST

START_TEST(conv1d_bad_parameters)
{
    clconv_conv1d_params ok = {.in_channels = 2, .out_channels = 4, .kernel = 3, .stride = 1,
                               .dilation = 1, .groups = 1};
    const struct {
        const char *what;
        int64_t *field;
        int64_t value;
        clconv_status want;
        const char *needle;
    } rows[] = {
        {"kernel 0", &ok.kernel, 0, CLCONV_ERROR_INVALID_VALUE, "kernel"},
        {"stride 0", &ok.stride, 0, CLCONV_ERROR_INVALID_VALUE, "stride"},
        {"dilation -1", &ok.dilation, -1, CLCONV_ERROR_INVALID_VALUE, "dilation"},
        {"pad_left -1", &ok.pad_left, -1, CLCONV_ERROR_INVALID_VALUE, "pad_left"},
        {"groups 3", &ok.groups, 3, CLCONV_ERROR_INVALID_VALUE, "groups"},
        {"kernel 9", &ok.kernel, 9, CLCONV_ERROR_INVALID_SHAPE, "kernel"},
        {"in_channels 0", &ok.in_channels, 0, CLCONV_ERROR_INVALID_VALUE, "in_channels"},
    };
    float a[16] = {0};
    int64_t len;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t keep = *rows[i].field;
        *rows[i].field = rows[i].value;
        expect(clconv_conv1d_output_length(&ok, 8, &len), rows[i].want, NULL, rows[i].needle,
               rows[i].what);
        expect(clconv_ref_conv1d(&ok, 1, 8, a, a, a, a), rows[i].want, NULL, rows[i].needle,
               rows[i].what);
        clconv_plan *plan = (clconv_plan *)a;
        expect(clconv_conv1d_plan_create(tu_ctx(), &ok, 1, 8, NULL, &plan), rows[i].want,
               tu_ctx(), rows[i].needle, rows[i].what);
        ck_assert_ptr_null(plan);
        *rows[i].field = keep;
    }
    expect(clconv_conv1d_output_length(&ok, 0, &len), CLCONV_ERROR_INVALID_SHAPE, NULL,
           "input.w = 0", "conv1d length 0");
    expect(clconv_ref_conv1d(&ok, -1, 8, a, a, a, a), CLCONV_ERROR_INVALID_SHAPE, NULL,
           "input.n = -1", "ref_conv1d n = -1");
    expect(clconv_ref_conv1d(&ok, 1, -8, a, a, a, a), CLCONV_ERROR_INVALID_SHAPE, NULL,
           "input.w = -8", "ref_conv1d length = -8");
    expect(clconv_conv1d_output_length(NULL, 8, &len), CLCONV_ERROR_INVALID_VALUE, NULL,
           "params", "conv1d_output_length(NULL params)");
    expect(clconv_conv1d_output_length(&ok, 8, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "out_length", "conv1d_output_length(NULL out_length)");
    expect(clconv_ref_conv1d(NULL, 1, 8, a, a, a, a), CLCONV_ERROR_INVALID_VALUE, NULL,
           "params", "ref_conv1d(NULL params)");
    expect(clconv_ref_conv1d(&ok, 1, 8, a, NULL, a, a), CLCONV_ERROR_INVALID_VALUE, NULL,
           "w: NULL", "ref_conv1d(NULL w)");
    expect(clconv_conv1d_host(tu_ctx(), NULL, 1, 8, NULL, a, a, a, a), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "params", "conv1d_host(NULL params)");
    expect(clconv_conv1d_host(tu_ctx(), &ok, 1, 8, NULL, a, a, a, NULL), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "y: NULL", "conv1d_host(NULL y)");
    clconv_plan *plan;
    expect(clconv_conv1d_plan_create(tu_ctx(), NULL, 1, 8, NULL, &plan),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "params", "conv1d_plan_create(NULL params)");
}
END_TEST

/* ---- device limits: 32-bit indexing and the largest allocation ------------- */

START_TEST(conv2d_device_limits)
{
    clconv_context *ctx = tu_ctx();
    clconv_plan *plan = NULL;
    /* more elements than the kernels' ints address */
    clconv_conv2d_params p = c2(1, 1, 1, 1);
    clconv_shape in = {1, 1, 65536, 32769};
    expect(clconv_conv2d_validate(&p, &in), CLCONV_SUCCESS, NULL, "", "2^31 floats validate");
    expect(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "input: 2147549184 elements", "input above INT32_MAX elements");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "32-bit"));
    /* input coordinates (output * stride) beyond int */
    p.stride_w = BIG;
    in = (clconv_shape){1, 1, 1, 3 * BIG};
    expect(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "stride_w = 1048576", "input coordinates above INT32_MAX");
    ck_assert_ptr_null(plan);
    int64_t rows = rows_above_max_alloc();
    if (rows == 0) {
        fprintf(stderr, "conv2d_device_limits: max allocation %llu bytes holds more than 2^31 "
                "floats; the allocation checks are not reachable on this device\n",
                (unsigned long long)max_alloc());
        return;
    }
    /* input above CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    p = c2(1, 1, 1, 1);
    in = (clconv_shape){1, 1, rows, 1024};
    expect(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "input: ", "input above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    /* weight above it: a rows x 1024 kernel reaching a 1-pixel input through
     * padding (two-dimensional so that no side passes the 2^30 bound) */
    p = c2(1, 1, rows, 1024);
    p.pad_top = p.pad_bottom = rows / 2 + 1;
    p.pad_left = p.pad_right = 513;
    in = (clconv_shape){1, 1, 1, 1};
    expect(clconv_conv2d_validate(&p, &in), CLCONV_SUCCESS, NULL, "", "long kernel validates");
    expect(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "weight: ", "weight above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    /* output above it: a 1-pixel input padded to that width */
    p = c2(1, 1, 1, 1);
    p.pad_bottom = rows - 1;
    p.pad_right = 1023;
    expect(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "output: ", "output above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    ck_assert_ptr_null(plan);
}
END_TEST

/* ---- conv2d: runs ------------------------------------------------------------ */

/* A pooling plan, to be run through the wrong operators. */
static clconv_plan *pool_plan(void)
{
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_shape in = {1, 2, 4, 4};
    clconv_plan *plan = NULL;
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &pp, &in, NULL, &plan), CLCONV_SUCCESS);
    return plan;
}

/* Runs a weighted plan (conv2d or conv_transpose2d) with every bad buffer. */
typedef clconv_status (*run_fn)(clconv_plan *, cl_mem, cl_mem, cl_mem, cl_mem, cl_mem, cl_uint,
                                const cl_event *, cl_event *);

static void weighted_bad_runs(const char *op, run_fn run, clconv_plan *plan, size_t nx,
                              size_t nw, size_t nb, size_t ny)
{
    clconv_context *ctx = tu_ctx();
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    size_t nws = info.workspace_bytes;
    cl_mem x = buffer(nx * 4), w = buffer(nw * 4), b = nb ? buffer(nb * 4) : NULL,
           y = buffer(ny * 4), ws = nws ? buffer(nws) : NULL;
    /* one element short, each */
    cl_mem xs = buffer(nx * 4 - 4), wsm = buffer(nw * 4 - 4), ys = buffer(ny * 4 - 4);
    cl_mem bs = nb ? buffer(nb * 4 - 4 > 0 ? nb * 4 - 4 : 1) : NULL;
    cl_mem wss = nws ? buffer(nws - 4) : NULL;
    cl_mem other = buffer((nx > ny ? nx : ny) * 4 + 4096);
    char what[128];
#define BAD(args, want, needle)                                                                \
    do {                                                                                       \
        snprintf(what, sizeof what, "%s run(%s)", op, #args);                                  \
        expect(run args, want, ctx, needle, what);                                             \
    } while (0)
    BAD((plan, NULL, w, b, y, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "x: NULL");
    BAD((plan, x, NULL, b, y, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "w: NULL");
    BAD((plan, x, w, b, NULL, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "y: NULL");
    BAD((plan, xs, w, b, y, ws, 0, NULL, NULL), CLCONV_ERROR_BUFFER_TOO_SMALL, "x: ");
    BAD((plan, x, wsm, b, y, ws, 0, NULL, NULL), CLCONV_ERROR_BUFFER_TOO_SMALL, "w: ");
    BAD((plan, x, w, b, ys, ws, 0, NULL, NULL), CLCONV_ERROR_BUFFER_TOO_SMALL, "y: ");
    /* in place: one buffer large enough for both roles */
    BAD((plan, other, w, b, other, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
        "y: must not be");
    BAD((plan, x, other, b, other, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
        "y: must not be");
    expect(run(NULL, x, w, b, y, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "plan: NULL", "run(NULL plan)");
    if (nb) {
        BAD((plan, x, w, NULL, y, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "b: NULL");
        BAD((plan, x, w, bs, y, ws, 0, NULL, NULL), CLCONV_ERROR_BUFFER_TOO_SMALL, "b: ");
        BAD((plan, x, w, other, other, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
            "y: must not be");
    } else {
        BAD((plan, x, w, other, y, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "b: ");
    }
    if (nws) {
        BAD((plan, x, w, b, y, NULL, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
            "workspace: NULL");
        BAD((plan, x, w, b, y, wss, 0, NULL, NULL), CLCONV_ERROR_BUFFER_TOO_SMALL,
            "workspace: ");
        BAD((plan, x, w, b, ws, ws, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
            "workspace: must not be");
    }
    cl_event ev = NULL;
    BAD((plan, x, w, b, y, ws, 1, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "num_wait = 1");
    BAD((plan, x, w, b, y, ws, 0, &ev, NULL), CLCONV_ERROR_INVALID_VALUE, "num_wait = 0");
#undef BAD
    cl_mem all[] = {x, w, b, y, ws, xs, wsm, ys, bs, wss, other};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    /* nothing was enqueued: the queue drains at once */
    ck_assert_int_eq(clFinish(clconv_context_queue(ctx)), CL_SUCCESS);
}

START_TEST(conv2d_bad_runs)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = c2(2, 3, 3, 3);
    p.has_bias = 1;
    clconv_shape in = {2, 2, 5, 6}; /* out 2x3x3x4 */
    const clconv_algorithm algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_GEMM};
    for (size_t a = 0; a < 2; a++) {
        clconv_plan_options o = {.algorithm = algos[a]};
        for (int bias = 1; bias >= 0; bias--) {
            p.has_bias = bias;
            clconv_plan *plan;
            ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, &o, &plan), CLCONV_SUCCESS);
            weighted_bad_runs("conv2d", clconv_conv2d_run, plan, 2 * 2 * 30, 3 * 2 * 9,
                              bias ? 3 : 0, 2 * 3 * 12);
            clconv_plan_destroy(plan);
        }
    }
    /* a plan of another operator */
    clconv_plan *pp = pool_plan();
    cl_mem m = buffer(4096);
    expect(clconv_conv2d_run(pp, m, m, NULL, m, NULL, 0, NULL, NULL), CLCONV_ERROR_WRONG_PLAN,
           ctx, "plan", "conv2d_run(pool plan)");
    expect(clconv_plan_get_info(pp, NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "info",
           "plan_get_info(NULL info)");
    clReleaseMemObject(m);
    clconv_plan_destroy(pp);
    clconv_plan_info info;
    expect(clconv_plan_get_info(NULL, &info), CLCONV_ERROR_INVALID_VALUE, NULL, "plan",
           "plan_get_info(NULL plan)");
    clconv_plan_destroy(NULL); /* a no-op */
}
END_TEST

/* ---- conv_transpose2d / 1d ------------------------------------------------------ */

START_TEST(conv_transpose2d_bad_parameters)
{
    clconv_conv_transpose2d_params ok = clconv_conv_transpose2d_default_params(4, 6, 3, 3);
    ok.stride_h = ok.stride_w = 2;
    const clconv_shape in0 = {2, 4, 5, 5};
    struct {
        const char *what;
        clconv_conv_transpose2d_params p;
        clconv_shape in;
        clconv_status want;
        const char *needle;
    } rows[48];
    int n = 0;
#define ROW(field, value, status, ndl)                                                         \
    do {                                                                                       \
        rows[n].p = ok;                                                                        \
        rows[n].in = in0;                                                                      \
        rows[n].what = #field " = " #value;                                                    \
        rows[n].field = value;                                                                 \
        rows[n].want = status;                                                                 \
        rows[n].needle = ndl;                                                                  \
        n++;                                                                                   \
    } while (0)
    ROW(p.in_channels, 0, CLCONV_ERROR_INVALID_VALUE, "in_channels = 0");
    ROW(p.out_channels, -6, CLCONV_ERROR_INVALID_VALUE, "out_channels = -6");
    ROW(p.kernel_h, 0, CLCONV_ERROR_INVALID_VALUE, "kernel_h = 0");
    ROW(p.kernel_w, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "kernel_w");
    ROW(p.stride_h, 0, CLCONV_ERROR_INVALID_VALUE, "stride_h = 0");
    ROW(p.stride_w, -1, CLCONV_ERROR_INVALID_VALUE, "stride_w = -1");
    ROW(p.pad_top, -1, CLCONV_ERROR_INVALID_VALUE, "pad_top = -1");
    ROW(p.pad_bottom, -3, CLCONV_ERROR_INVALID_VALUE, "pad_bottom = -3");
    ROW(p.pad_left, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "pad_left");
    ROW(p.pad_right, INT64_MIN, CLCONV_ERROR_INVALID_VALUE, "pad_right");
    ROW(p.output_padding_h, -1, CLCONV_ERROR_INVALID_VALUE, "output_padding_h = -1");
    ROW(p.output_padding_w, 2, CLCONV_ERROR_INVALID_VALUE, "output_padding_w = 2");
    ROW(p.dilation_h, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 0");
    ROW(p.dilation_w, -2, CLCONV_ERROR_INVALID_VALUE, "dilation_w = -2");
    ROW(p.groups, 0, CLCONV_ERROR_INVALID_VALUE, "groups = 0");
    ROW(p.groups, 3, CLCONV_ERROR_INVALID_VALUE, "groups = 3 does not divide in_channels");
    ROW(p.groups, 4, CLCONV_ERROR_INVALID_VALUE, "groups = 4 does not divide out_channels");
    ROW(p.activation, (clconv_activation)-1, CLCONV_ERROR_INVALID_VALUE, "activation = -1");
    ROW(in.c, 5, CLCONV_ERROR_INVALID_SHAPE, "input.c = 5");
    ROW(in.n, 0, CLCONV_ERROR_INVALID_SHAPE, "input.n = 0");
    ROW(in.w, -1, CLCONV_ERROR_INVALID_SHAPE, "input.w = -1");
    ROW(in.h, HUGE_DIM + 1, CLCONV_ERROR_INVALID_SHAPE, "input.h");
    ROW(p.pad_top, 12, CLCONV_ERROR_INVALID_SHAPE, "padding");
    ROW(p.pad_right, 11, CLCONV_ERROR_INVALID_SHAPE, "padding");
    rows[n].p = ok;
    rows[n].in = (clconv_shape){BIG, BIG, BIG, BIG};
    rows[n].p.in_channels = BIG;
    rows[n].what = "N=C=H=W=2^20";
    rows[n].want = CLCONV_ERROR_INVALID_SHAPE;
    rows[n++].needle = "input";
    rows[n].p = clconv_conv_transpose2d_default_params(HUGE_DIM, HUGE_DIM, HUGE_DIM, HUGE_DIM);
    rows[n].p.pad_top = rows[n].p.pad_bottom = HUGE_DIM / 2 - 1; /* output 2x2 */
    rows[n].p.pad_left = rows[n].p.pad_right = HUGE_DIM / 2 - 1;
    rows[n].in = (clconv_shape){1, HUGE_DIM, 1, 1};
    rows[n].what = "weight 2^120 elements";
    rows[n].want = CLCONV_ERROR_INVALID_SHAPE;
    rows[n++].needle = "weight";
    rows[n].p = clconv_conv_transpose2d_default_params(1, HUGE_DIM, 1, 1);
    rows[n].p.stride_h = rows[n].p.stride_w = HUGE_DIM;
    rows[n].in = (clconv_shape){HUGE_DIM, 1, 2, 2};
    rows[n].what = "output 2^122 elements";
    rows[n].want = CLCONV_ERROR_INVALID_SHAPE;
    rows[n++].needle = "output";
#undef ROW
    float a[4] = {0};
    for (int i = 0; i < n; i++) {
        char what[160];
        clconv_shape out;
        snprintf(what, sizeof what, "conv_transpose2d %s", rows[i].what);
        expect(clconv_conv_transpose2d_validate(&rows[i].p, &rows[i].in), rows[i].want, NULL,
               rows[i].needle, what);
        expect(clconv_conv_transpose2d_output_shape(&rows[i].p, &rows[i].in, &out), rows[i].want,
               NULL, rows[i].needle, what);
        expect(clconv_ref_conv_transpose2d(&rows[i].p, &rows[i].in, a, a, a, a), rows[i].want,
               NULL, rows[i].needle, what);
        clconv_plan *plan = (clconv_plan *)a;
        expect(clconv_conv_transpose2d_plan_create(tu_ctx(), &rows[i].p, &rows[i].in, NULL,
                                                   &plan),
               rows[i].want, tu_ctx(), rows[i].needle, what);
        ck_assert_ptr_null(plan);
        expect(clconv_conv_transpose2d_host(tu_ctx(), &rows[i].p, &rows[i].in, NULL, a, a, a, a),
               rows[i].want, tu_ctx(), rows[i].needle, what);
    }
    /* NULL pointers */
    clconv_shape out;
    clconv_plan *plan;
    expect(clconv_conv_transpose2d_validate(NULL, &in0), CLCONV_ERROR_INVALID_VALUE, NULL,
           "params", "ct validate(NULL params)");
    expect(clconv_conv_transpose2d_validate(&ok, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "input", "ct validate(NULL input)");
    expect(clconv_conv_transpose2d_output_shape(&ok, &in0, NULL), CLCONV_ERROR_INVALID_VALUE,
           NULL, "output", "ct output_shape(NULL output)");
    ok.has_bias = 1;
    const char *names[4] = {"x: NULL", "w: NULL", "b: NULL", "y: NULL"};
    for (int i = 0; i < 4; i++) {
        const float *x = i == 0 ? NULL : a, *w = i == 1 ? NULL : a, *b = i == 2 ? NULL : a;
        float *y = i == 3 ? NULL : a;
        expect(clconv_ref_conv_transpose2d(&ok, &in0, x, w, b, y), CLCONV_ERROR_INVALID_VALUE,
               NULL, names[i], "ref_conv_transpose2d(NULL array)");
        expect(clconv_conv_transpose2d_host(tu_ctx(), &ok, &in0, NULL, x, w, b, y),
               CLCONV_ERROR_INVALID_VALUE, tu_ctx(), names[i], "ct host(NULL array)");
    }
    expect(clconv_conv_transpose2d_host(NULL, &ok, &in0, NULL, a, a, a, a),
           CLCONV_ERROR_INVALID_VALUE, NULL, "ctx", "ct host(NULL ctx)");
    expect(clconv_conv_transpose2d_plan_create(NULL, &ok, &in0, NULL, &plan),
           CLCONV_ERROR_INVALID_VALUE, NULL, "ctx", "ct plan_create(NULL ctx)");
    expect(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in0, NULL, NULL),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "out", "ct plan_create(NULL out)");
    clconv_plan_options o = {.wg_oc = 4};
    expect(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in0, &o, &plan),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "options.wg_oc = 4", "ct options.wg_oc");
    o = (clconv_plan_options){.algorithm = CLCONV_ALGO_DIRECT_VECTOR};
    expect(clconv_conv_transpose2d_plan_create(tu_ctx(), &ok, &in0, &o, &plan),
           CLCONV_ERROR_UNSUPPORTED, tu_ctx(), "options.algorithm", "ct options.algorithm");
    (void)out;
    clconv_shape ws = clconv_conv_transpose2d_weight_shape(NULL);
    ck_assert_int_eq(ws.n | ws.c | ws.h | ws.w, 0);
}
END_TEST

START_TEST(conv_transpose1d_bad_parameters)
{
    clconv_conv_transpose1d_params ok = {.in_channels = 2, .out_channels = 2, .kernel = 3,
                                         .stride = 2, .pad_left = 1, .pad_right = 1, .output_padding = 1,
                                         .dilation = 1, .groups = 1};
    int64_t len;
    float a[16] = {0};
    ck_assert_int_eq(clconv_conv_transpose1d_output_length(&ok, 4, &len), CLCONV_SUCCESS);
    ck_assert_int_eq(len, 8);
    ok.output_padding = 2;
    expect(clconv_conv_transpose1d_output_length(&ok, 4, &len), CLCONV_ERROR_INVALID_VALUE, NULL,
           "output_padding", "ct1d output_padding = stride");
    expect(clconv_ref_conv_transpose1d(&ok, 1, 4, a, a, a, a), CLCONV_ERROR_INVALID_VALUE, NULL,
           "output_padding", "ref ct1d output_padding = stride");
    ok.output_padding = 0;
    ok.pad_left = ok.pad_right = 5;
    expect(clconv_conv_transpose1d_output_length(&ok, 1, &len), CLCONV_ERROR_INVALID_SHAPE, NULL,
           "padding", "ct1d padding too large");
    ok.pad_left = ok.pad_right = 0;
    expect(clconv_conv_transpose1d_output_length(&ok, -3, &len), CLCONV_ERROR_INVALID_SHAPE, NULL,
           "input.w = -3", "ct1d length -3");
    expect(clconv_ref_conv_transpose1d(&ok, 0, 4, a, a, a, a), CLCONV_ERROR_INVALID_SHAPE, NULL,
           "input.n = 0", "ref ct1d n = 0");
    expect(clconv_conv_transpose1d_output_length(NULL, 4, &len), CLCONV_ERROR_INVALID_VALUE, NULL,
           "params", "ct1d length(NULL params)");
    expect(clconv_conv_transpose1d_output_length(&ok, 4, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "out_length", "ct1d length(NULL out)");
    expect(clconv_ref_conv_transpose1d(NULL, 1, 4, a, a, a, a), CLCONV_ERROR_INVALID_VALUE, NULL,
           "params", "ref ct1d(NULL params)");
    expect(clconv_ref_conv_transpose1d(&ok, 1, 4, NULL, a, a, a), CLCONV_ERROR_INVALID_VALUE,
           NULL, "x: NULL", "ref ct1d(NULL x)");
    clconv_plan *plan;
    expect(clconv_conv_transpose1d_plan_create(tu_ctx(), NULL, 1, 4, NULL, &plan),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "params", "ct1d plan(NULL params)");
    expect(clconv_conv_transpose1d_plan_create(tu_ctx(), &ok, 1, 0, NULL, &plan),
           CLCONV_ERROR_INVALID_SHAPE, tu_ctx(), "input.w = 0", "ct1d plan(length 0)");
    expect(clconv_conv_transpose1d_host(tu_ctx(), NULL, 1, 4, NULL, a, a, a, a),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "params", "ct1d host(NULL params)");
    expect(clconv_conv_transpose1d_host(tu_ctx(), &ok, 1, 4, NULL, a, NULL, a, a),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "w: NULL", "ct1d host(NULL w)");
}
END_TEST

START_TEST(conv_transpose2d_device_limits)
{
    clconv_context *ctx = tu_ctx();
    clconv_plan *plan = NULL;
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(1, 1, 1, 1);
    clconv_shape in = {1, 1, 65536, 32769};
    expect(clconv_conv_transpose2d_plan_create(ctx, &p, &in, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "input: 2147549184 elements", "ct input > INT32_MAX");
    /* index arithmetic of a dilated kernel beyond int */
    p = clconv_conv_transpose2d_default_params(1, 1, 3, 1);
    p.dilation_h = HUGE_DIM;
    p.pad_top = p.pad_bottom = HUGE_DIM;
    in = (clconv_shape){1, 1, 4, 4};
    expect(clconv_conv_transpose2d_plan_create(ctx, &p, &in, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "dilation", "ct dilated index overflow");
    int64_t rows = rows_above_max_alloc();
    if (rows == 0)
        return;
    p = clconv_conv_transpose2d_default_params(1, 1, 1, 1);
    in = (clconv_shape){1, 1, rows, 1024};
    expect(clconv_conv_transpose2d_plan_create(ctx, &p, &in, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "input: ", "ct input above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    /* a weight that long, cropped back by the padding */
    p = clconv_conv_transpose2d_default_params(1, 1, rows, 1024);
    p.pad_top = p.pad_bottom = rows / 2 - 1;
    p.pad_left = p.pad_right = 511;
    in = (clconv_shape){1, 1, 1, 1};
    expect(clconv_conv_transpose2d_plan_create(ctx, &p, &in, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "weight: ", "ct weight above max alloc");
    /* an output that wide from a stride */
    p = clconv_conv_transpose2d_default_params(1, 1, 1, 1);
    p.stride_h = rows;
    p.stride_w = 1024;
    in = (clconv_shape){1, 1, 2, 2};
    expect(clconv_conv_transpose2d_plan_create(ctx, &p, &in, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "output: ", "ct output above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    ck_assert_ptr_null(plan);
}
END_TEST

START_TEST(conv_transpose2d_bad_runs)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv_transpose2d_params p = clconv_conv_transpose2d_default_params(2, 4, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.groups = 2;
    clconv_shape in = {2, 2, 3, 4}; /* out 2x4x7x9 */
    const clconv_algorithm algos[] = {CLCONV_ALGO_TRANSPOSED_GATHER, CLCONV_ALGO_TRANSPOSED_GEMM};
    for (size_t a = 0; a < 2; a++) {
        clconv_plan_options o = {.algorithm = algos[a]};
        for (int bias = 1; bias >= 0; bias--) {
            p.has_bias = bias;
            clconv_plan *plan;
            ck_assert_int_eq(clconv_conv_transpose2d_plan_create(ctx, &p, &in, &o, &plan),
                             CLCONV_SUCCESS);
            weighted_bad_runs("conv_transpose2d", clconv_conv_transpose2d_run, plan, 2 * 2 * 12,
                              2 * 2 * 9, bias ? 4 : 0, 2 * 4 * 63);
            clconv_plan_destroy(plan);
        }
    }
    clconv_plan *pp = pool_plan();
    cl_mem m = buffer(4096);
    expect(clconv_conv_transpose2d_run(pp, m, m, NULL, m, NULL, 0, NULL, NULL),
           CLCONV_ERROR_WRONG_PLAN, ctx, "plan", "conv_transpose2d_run(pool plan)");
    clconv_conv2d_params cp = c2(2, 4, 3, 3);
    clconv_plan *conv;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &cp, &in, NULL, &conv), CLCONV_SUCCESS);
    expect(clconv_conv_transpose2d_run(conv, m, m, NULL, m, NULL, 0, NULL, NULL),
           CLCONV_ERROR_WRONG_PLAN, ctx, "plan", "conv_transpose2d_run(conv2d plan)");
    expect(clconv_pool2d_run(conv, m, m, NULL, 0, NULL, NULL), CLCONV_ERROR_WRONG_PLAN, ctx,
           "plan", "pool2d_run(conv2d plan)");
    clconv_plan_destroy(conv);
    clReleaseMemObject(m);
    clconv_plan_destroy(pp);
}
END_TEST

/* ---- pool2d ------------------------------------------------------------------- */

START_TEST(pool2d_bad_parameters)
{
    const clconv_pool2d_params mx = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    clconv_pool2d_params avg = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    clconv_pool2d_params lp = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    clconv_pool2d_params ad = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 2, 2);
    const clconv_shape in0 = {2, 3, 8, 8};
    struct {
        const char *what;
        clconv_pool2d_params p;
        clconv_shape in;
        clconv_status want;
        const char *needle;
    } rows[40];
    int n = 0;
#define ROW(base, field, value, status, ndl)                                                   \
    do {                                                                                       \
        rows[n].p = base;                                                                      \
        rows[n].in = in0;                                                                      \
        rows[n].what = #base ": " #field " = " #value;                                         \
        rows[n].field = value;                                                                 \
        rows[n].want = status;                                                                 \
        rows[n].needle = ndl;                                                                  \
        n++;                                                                                   \
    } while (0)
    ROW(mx, p.mode, (clconv_pool_mode)0, CLCONV_ERROR_INVALID_VALUE, "mode = 0");
    ROW(mx, p.mode, (clconv_pool_mode)6, CLCONV_ERROR_INVALID_VALUE, "mode = 6");
    ROW(mx, p.kernel_h, 0, CLCONV_ERROR_INVALID_VALUE, "kernel_h = 0");
    ROW(mx, p.kernel_w, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "kernel_w");
    ROW(mx, p.stride_h, 0, CLCONV_ERROR_INVALID_VALUE, "stride_h = 0");
    ROW(mx, p.stride_w, -1, CLCONV_ERROR_INVALID_VALUE, "stride_w = -1");
    ROW(mx, p.pad_top, -1, CLCONV_ERROR_INVALID_VALUE, "pad_top = -1");
    ROW(mx, p.pad_bottom, 2, CLCONV_ERROR_INVALID_VALUE, "pad_bottom = 2");
    ROW(mx, p.pad_left, 2, CLCONV_ERROR_INVALID_VALUE, "pad_left = 2");
    ROW(mx, p.pad_right, INT64_MIN, CLCONV_ERROR_INVALID_VALUE, "pad_right");
    ROW(mx, p.dilation_h, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 0");
    ROW(mx, p.dilation_w, INT64_MIN, CLCONV_ERROR_INVALID_VALUE, "dilation_w");
    ROW(mx, p.divisor_override, 3, CLCONV_ERROR_INVALID_VALUE, "divisor_override = 3");
    ROW(mx, p.kernel_h, 9, CLCONV_ERROR_INVALID_SHAPE, "kernel");
    ROW(avg, p.dilation_h, 2, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 2");
    ROW(lp, p.pad_top, 1, CLCONV_ERROR_INVALID_VALUE, "pad_top = 1");
    ROW(lp, p.pad_right, 1, CLCONV_ERROR_INVALID_VALUE, "pad_right = 1");
    ROW(lp, p.norm_type, 0.0, CLCONV_ERROR_INVALID_VALUE, "norm_type");
    ROW(lp, p.norm_type, 1.0 / 0.0, CLCONV_ERROR_INVALID_VALUE, "norm_type");
    ROW(ad, p.output_h, 0, CLCONV_ERROR_INVALID_VALUE, "output_h = 0");
    ROW(ad, p.output_w, -2, CLCONV_ERROR_INVALID_VALUE, "output_w = -2");
    ROW(ad, p.output_w, INT64_MAX, CLCONV_ERROR_INVALID_VALUE, "output_w");
    ROW(mx, in.n, 0, CLCONV_ERROR_INVALID_SHAPE, "input.n = 0");
    ROW(mx, in.c, -3, CLCONV_ERROR_INVALID_SHAPE, "input.c = -3");
    ROW(mx, in.w, INT64_MAX, CLCONV_ERROR_INVALID_SHAPE, "input.w");
    rows[n].p = mx;
    rows[n].in = (clconv_shape){BIG, BIG, BIG, BIG};
    rows[n].what = "N=C=H=W=2^20";
    rows[n].want = CLCONV_ERROR_INVALID_SHAPE;
    rows[n++].needle = "input";
    rows[n].p = ad;
    rows[n].p.output_h = rows[n].p.output_w = HUGE_DIM;
    rows[n].in = (clconv_shape){HUGE_DIM, HUGE_DIM, 1, 1};
    rows[n].what = "adaptive output 2^120 elements";
    rows[n].want = CLCONV_ERROR_INVALID_SHAPE;
    rows[n++].needle = "output";
#undef ROW
    float a[4] = {0};
    for (int i = 0; i < n; i++) {
        char what[160];
        clconv_shape out;
        snprintf(what, sizeof what, "pool2d %s", rows[i].what);
        expect(clconv_pool2d_validate(&rows[i].p, &rows[i].in), rows[i].want, NULL,
               rows[i].needle, what);
        expect(clconv_pool2d_output_shape(&rows[i].p, &rows[i].in, &out), rows[i].want, NULL,
               rows[i].needle, what);
        expect(clconv_ref_pool2d(&rows[i].p, &rows[i].in, a, a, NULL), rows[i].want, NULL,
               rows[i].needle, what);
        clconv_plan *plan = (clconv_plan *)a;
        expect(clconv_pool2d_plan_create(tu_ctx(), &rows[i].p, &rows[i].in, NULL, &plan),
               rows[i].want, tu_ctx(), rows[i].needle, what);
        ck_assert_ptr_null(plan);
        expect(clconv_pool2d_host(tu_ctx(), &rows[i].p, &rows[i].in, NULL, a, a, NULL), rows[i].want,
               tu_ctx(), rows[i].needle, what);
    }
    /* NULL pointers and indices for a mode without them */
    clconv_shape out;
    int64_t idx[64];
    float y[64];
    expect(clconv_pool2d_validate(NULL, &in0), CLCONV_ERROR_INVALID_VALUE, NULL, "params",
           "pool validate(NULL params)");
    expect(clconv_pool2d_validate(&mx, NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "input",
           "pool validate(NULL input)");
    expect(clconv_pool2d_output_shape(&mx, &in0, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "output", "pool output_shape(NULL output)");
    expect(clconv_ref_pool2d(&mx, &in0, NULL, y, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "x: NULL", "ref_pool2d(NULL x)");
    expect(clconv_ref_pool2d(&mx, &in0, a, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "y: NULL", "ref_pool2d(NULL y)");
    const clconv_shape small = {1, 1, 4, 4};
    float x16[16] = {0};
    expect(clconv_ref_pool2d(&avg, &small, x16, y, idx), CLCONV_ERROR_INVALID_VALUE, NULL,
           "indices", "ref_pool2d(avg with indices)");
    expect(clconv_pool2d_host(tu_ctx(), &avg, &small, NULL, x16, y, idx), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "indices", "pool host(avg with indices)");
    expect(clconv_pool2d_host(NULL, &mx, &small, NULL, x16, y, NULL), CLCONV_ERROR_INVALID_VALUE, NULL,
           "ctx", "pool host(NULL ctx)");
    expect(clconv_pool2d_host(tu_ctx(), &mx, &small, NULL, NULL, y, NULL), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "x: NULL", "pool host(NULL x)");
    expect(clconv_pool2d_host(tu_ctx(), &mx, &small, NULL, x16, NULL, NULL), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "y: NULL", "pool host(NULL y)");
    expect(clconv_pool2d_host(tu_ctx(), NULL, &small, NULL, x16, y, NULL), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "params", "pool host(NULL params)");
    clconv_plan *plan;
    expect(clconv_pool2d_plan_create(NULL, &mx, &small, NULL, &plan), CLCONV_ERROR_INVALID_VALUE,
           NULL, "ctx", "pool plan(NULL ctx)");
    expect(clconv_pool2d_plan_create(tu_ctx(), &mx, &small, NULL, NULL),
           CLCONV_ERROR_INVALID_VALUE, tu_ctx(), "out", "pool plan(NULL out)");
    clconv_plan_options o = {.block_w = 9};
    expect(clconv_pool2d_plan_create(tu_ctx(), &mx, &small, &o, &plan), CLCONV_ERROR_INVALID_VALUE,
           tu_ctx(), "options.block_w = 9", "pool options.block_w");
    o = (clconv_plan_options){.algorithm = CLCONV_ALGO_GEMM};
    expect(clconv_pool2d_plan_create(tu_ctx(), &mx, &small, &o, &plan), CLCONV_ERROR_UNSUPPORTED,
           tu_ctx(), "options.algorithm", "pool options.algorithm");
    (void)out;
}
END_TEST

START_TEST(pool2d_device_limits)
{
    clconv_context *ctx = tu_ctx();
    clconv_plan *plan = NULL;
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 1, 1);
    clconv_shape in = {1, 1, 65536, 32769};
    expect(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "input: 2147549184 elements", "pool input > INT32_MAX");
    int64_t rows = rows_above_max_alloc();
    if (rows == 0)
        return;
    in = (clconv_shape){1, 1, rows, 1024};
    expect(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "input: ", "pool input above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    /* adaptive pooling can blow a tiny input up */
    p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_MAX, rows, 1024);
    in = (clconv_shape){1, 1, 2, 2};
    expect(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_UNSUPPORTED, ctx,
           "output: ", "pool output above max alloc");
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
    ck_assert_ptr_null(plan);
}
END_TEST

/* The training passes share the forward passes' tensor limits; max pooling's
 * indices are optional (max backward can take x instead), so they are
 * checked against the plan when a run passes them, not here. */
START_TEST(backward_device_limits)
{
    clconv_context *ctx = tu_ctx();
    clconv_plan *plan = NULL;
    clconv_conv2d_params c = clconv_conv2d_default_params(1, 1, 1, 1);
    clconv_shape big = {1, 1, 65536, 32769};
    expect(clconv_conv2d_backward_data_plan_create(ctx, &c, &big, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "input: 2147549184 elements", "dgrad input > INT32_MAX");
    expect(clconv_conv2d_backward_weights_plan_create(ctx, &c, &big, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "input: 2147549184 elements", "wgrad input > INT32_MAX");
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 1, 1);
    expect(clconv_pool2d_backward_plan_create(ctx, &p, &big, NULL, &plan),
           CLCONV_ERROR_UNSUPPORTED, ctx, "input: 2147549184 elements", "pool bwd input > INT32_MAX");
    ck_assert_ptr_null(plan);
}
END_TEST

START_TEST(pool2d_bad_runs)
{
    clconv_context *ctx = tu_ctx();
    clconv_pool2d_params mx = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_pool2d_params avg = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    clconv_shape in = {1, 2, 4, 4}; /* out 1x2x2x2 */
    clconv_plan *pm, *pa;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &mx, &in, NULL, &pm), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &avg, &in, NULL, &pa), CLCONV_SUCCESS);
    cl_mem x = buffer(32 * 4), y = buffer(8 * 4), idx = buffer(8 * 8);
    cl_mem xs = buffer(31 * 4), ys = buffer(7 * 4), idxs = buffer(7 * 8);
    cl_event ev = NULL;
    const struct {
        const char *what;
        clconv_plan *plan;
        cl_mem x, y, idx;
        cl_uint nw;
        const cl_event *wl;
        clconv_status want;
        const char *needle;
    } rows[] = {
        {"NULL x", pm, NULL, y, NULL, 0, NULL, CLCONV_ERROR_INVALID_VALUE, "x: NULL"},
        {"NULL y", pm, x, NULL, NULL, 0, NULL, CLCONV_ERROR_INVALID_VALUE, "y: NULL"},
        {"NULL plan", NULL, x, y, NULL, 0, NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL"},
        {"x one float short", pm, xs, y, NULL, 0, NULL, CLCONV_ERROR_BUFFER_TOO_SMALL, "x: "},
        {"y one float short", pm, x, ys, NULL, 0, NULL, CLCONV_ERROR_BUFFER_TOO_SMALL, "y: "},
        {"indices one short", pm, x, y, idxs, 0, NULL, CLCONV_ERROR_BUFFER_TOO_SMALL,
         "indices: "},
        {"indices for avg", pa, x, y, idx, 0, NULL, CLCONV_ERROR_INVALID_VALUE, "indices"},
        {"y = x", pm, x, x, NULL, 0, NULL, CLCONV_ERROR_INVALID_VALUE, "y: must not be"},
        {"indices = y", pm, x, y, y, 0, NULL, CLCONV_ERROR_BUFFER_TOO_SMALL, "indices"},
        {"indices = x", pm, x, idx, x, 0, NULL, CLCONV_ERROR_INVALID_VALUE, "indices"},
        {"num_wait without list", pm, x, y, NULL, 2, NULL, CLCONV_ERROR_INVALID_VALUE,
         "num_wait = 2"},
        {"list without num_wait", pm, x, y, NULL, 0, &ev, CLCONV_ERROR_INVALID_VALUE,
         "num_wait = 0"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "pool2d_run(%s)", rows[i].what);
        expect(clconv_pool2d_run(rows[i].plan, rows[i].x, rows[i].y, rows[i].idx, rows[i].nw,
                                 rows[i].wl, NULL),
               rows[i].want, rows[i].plan ? ctx : NULL, rows[i].needle, what);
    }
    clconv_conv2d_params cp = c2(2, 2, 1, 1);
    clconv_plan *conv;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &cp, &in, NULL, &conv), CLCONV_SUCCESS);
    expect(clconv_pool2d_run(conv, x, y, NULL, 0, NULL, NULL), CLCONV_ERROR_WRONG_PLAN, ctx,
           "plan", "pool2d_run(conv2d plan)");
    expect(clconv_conv2d_run(pm, x, x, NULL, y, NULL, 0, NULL, NULL), CLCONV_ERROR_WRONG_PLAN,
           ctx, "plan", "conv2d_run(pool plan)");
    clconv_plan_destroy(conv);
    clconv_plan_destroy(pm);
    clconv_plan_destroy(pa);
    cl_mem all[] = {x, y, idx, xs, ys, idxs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clReleaseMemObject(all[i]);
    ck_assert_int_eq(clFinish(clconv_context_queue(ctx)), CL_SUCCESS);
}
END_TEST

/* ---- context and helpers ----------------------------------------------------------- */

START_TEST(context_bad_arguments)
{
    clconv_context *c = (clconv_context *)1;
    expect(clconv_context_create(NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "out",
           "context_create(NULL)");
    expect(clconv_context_create_for("0:0", NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "out",
           "context_create_for(NULL out)");
    const char *bad[] = {"9:9", "-1:0", "4294967296:0", "0:-1", "no such device xyz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = (clconv_context *)1;
        expect(clconv_context_create_for(bad[i], &c), CLCONV_ERROR_NO_DEVICE, NULL, bad[i],
               "context_create_for(bad selector)");
        ck_assert_ptr_null(c);
    }
    cl_context cc = clconv_context_cl_context(tu_ctx());
    cl_command_queue q = clconv_context_queue(tu_ctx());
    expect(clconv_context_create_from_queue(NULL, q, &c), CLCONV_ERROR_INVALID_VALUE, NULL,
           "cl_ctx", "from_queue(NULL cl_ctx)");
    expect(clconv_context_create_from_queue(cc, NULL, &c), CLCONV_ERROR_INVALID_VALUE, NULL,
           "queue", "from_queue(NULL queue)");
    expect(clconv_context_create_from_queue(cc, q, NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "out",
           "from_queue(NULL out)");
    /* a queue of another cl_context */
    cl_device_id dev = clconv_context_device(tu_ctx());
    cl_int err;
    cl_context other = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    c = (clconv_context *)1;
    expect(clconv_context_create_from_queue(other, q, &c), CLCONV_ERROR_INVALID_VALUE, NULL,
           "queue: belongs to another cl_context", "from_queue(mismatched context)");
    ck_assert_ptr_null(c);
    clReleaseContext(other);
    clconv_cache_stats stats;
    expect(clconv_context_cache_stats(NULL, &stats), CLCONV_ERROR_INVALID_VALUE, NULL, "ctx",
           "cache_stats(NULL ctx)");
    expect(clconv_context_cache_stats(tu_ctx(), NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "out",
           "cache_stats(NULL out)");
    /* accessors on NULL answer neutrally */
    ck_assert_ptr_null(clconv_context_cl_context(NULL));
    ck_assert_ptr_null(clconv_context_queue(NULL));
    ck_assert_ptr_null(clconv_context_device(NULL));
    ck_assert_str_eq(clconv_context_device_name(NULL), "");
    ck_assert_str_eq(clconv_context_cache_dir(NULL), "");
    ck_assert_str_eq(clconv_context_tuning_db(NULL), "");
    ck_assert_ptr_nonnull(clconv_last_error(NULL));
    ck_assert_str_eq(clconv_status_string((clconv_status)-5), "unknown status");
    ck_assert_str_eq(clconv_algorithm_name((clconv_algorithm)99), "unknown");
    clconv_context_destroy(NULL);
    /* shape helper */
    ck_assert_uint_eq(clconv_shape_elements((clconv_shape){BIG, BIG, BIG, BIG}), 0);
    ck_assert_uint_eq(clconv_shape_elements((clconv_shape){2, -3, 4, 5}), 0);
    ck_assert_uint_eq(clconv_shape_elements((clconv_shape){2, 3, 4, 5}), 120);
}
END_TEST

/* The kernel family: the device type's rule, the option, the environment
 * (an explicit option wins), and bad values of either. The test context's
 * device is the one every context here is made on. */
START_TEST(context_device_class)
{
    clconv_context *c = (clconv_context *)1;
    const char *saved = getenv("CLCONV_DEVICE_CLASS");
    char *keep = saved ? strdup(saved) : NULL;
    cl_device_type type = 0;
    ck_assert_int_eq(clGetDeviceInfo(clconv_context_device(tu_ctx()), CL_DEVICE_TYPE, sizeof type,
                                     &type, NULL), CL_SUCCESS);
    clconv_device_class natural = (type & CL_DEVICE_TYPE_GPU) || !(type & CL_DEVICE_TYPE_CPU)
                                      ? CLCONV_DEVICE_CLASS_GPU
                                      : CLCONV_DEVICE_CLASS_CPU;
    char sel[32];
    /* the test context's device by index, so every context below is on it */
    cl_platform_id plat;
    ck_assert_int_eq(clGetDeviceInfo(clconv_context_device(tu_ctx()), CL_DEVICE_PLATFORM,
                                     sizeof plat, &plat, NULL), CL_SUCCESS);
    cl_platform_id plats[16];
    cl_uint np = 0;
    ck_assert_int_eq(clGetPlatformIDs(16, plats, &np), CL_SUCCESS);
    unsigned pi = 0, di = 0;
    for (cl_uint i = 0; i < np && i < 16; i++)
        if (plats[i] == plat)
            pi = i;
    cl_device_id devs[64];
    cl_uint nd = 0;
    ck_assert_int_eq(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 64, devs, &nd), CL_SUCCESS);
    for (cl_uint i = 0; i < nd && i < 64; i++)
        if (devs[i] == clconv_context_device(tu_ctx()))
            di = i;
    snprintf(sel, sizeof sel, "%u:%u", pi, di);

    unsetenv("CLCONV_DEVICE_CLASS");
    clconv_context_options o = {.device = sel, .device_class = CLCONV_DEVICE_CLASS_AUTO};
    ck_assert_int_eq(clconv_context_create_with_options(&o, &c), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_context_device_class(c), natural);
    clconv_context_destroy(c);
    /* each family forced by the option: AUTO's pick for a 3x3 layer follows it */
    clconv_device_class forced[] = {CLCONV_DEVICE_CLASS_CPU, CLCONV_DEVICE_CLASS_GPU};
    for (int i = 0; i < 2; i++) {
        o.device_class = forced[i];
        ck_assert_int_eq(clconv_context_create_with_options(&o, &c), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_context_device_class(c), forced[i]);
        clconv_conv2d_params p = clconv_conv2d_default_params(16, 16, 1, 1);
        clconv_shape in = {1, 16, 8, 8};
        clconv_plan *plan;
        ck_assert_int_eq(clconv_conv2d_plan_create(c, &p, &in, NULL, &plan), CLCONV_SUCCESS);
        clconv_plan_info info;
        clconv_plan_get_info(plan, &info);
        /* 1x1: direct-pointwise is the CPU family's, never the GPU one's AUTO pick */
        if (forced[i] == CLCONV_DEVICE_CLASS_CPU)
            ck_assert_int_eq(info.algorithm, CLCONV_ALGO_DIRECT_POINTWISE);
        else
            ck_assert_int_ne(info.algorithm, CLCONV_ALGO_DIRECT_POINTWISE);
        clconv_plan_destroy(plan);
        clconv_context_destroy(c);
    }
    /* the environment, case-insensitive; an explicit option wins over it */
    setenv("CLCONV_DEVICE_CLASS", "GPU", 1);
    o.device_class = CLCONV_DEVICE_CLASS_AUTO;
    ck_assert_int_eq(clconv_context_create_with_options(&o, &c), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_context_device_class(c), CLCONV_DEVICE_CLASS_GPU);
    clconv_context_destroy(c);
    o.device_class = CLCONV_DEVICE_CLASS_CPU;
    ck_assert_int_eq(clconv_context_create_with_options(&o, &c), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_context_device_class(c), CLCONV_DEVICE_CLASS_CPU);
    clconv_context_destroy(c);
    setenv("CLCONV_DEVICE_CLASS", "cpu", 1);
    ck_assert_int_eq(clconv_context_create_from_queue(clconv_context_cl_context(tu_ctx()),
                                                      clconv_context_queue(tu_ctx()), &c),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_context_device_class(c), CLCONV_DEVICE_CLASS_CPU);
    clconv_context_destroy(c);
    /* bad values say which and what was expected */
    setenv("CLCONV_DEVICE_CLASS", "gpgpu", 1);
    c = (clconv_context *)1;
    expect(clconv_context_create_for(sel, &c), CLCONV_ERROR_INVALID_VALUE, NULL,
           "CLCONV_DEVICE_CLASS = 'gpgpu'", "context_create_for(bad CLCONV_DEVICE_CLASS)");
    ck_assert_ptr_null(c);
    expect(clconv_context_create_from_queue(clconv_context_cl_context(tu_ctx()),
                                            clconv_context_queue(tu_ctx()), &c),
           CLCONV_ERROR_INVALID_VALUE, NULL, "CLCONV_DEVICE_CLASS", "from_queue(bad class)");
    unsetenv("CLCONV_DEVICE_CLASS");
    o.device_class = (clconv_device_class)7;
    expect(clconv_context_create_with_options(&o, &c), CLCONV_ERROR_INVALID_VALUE, NULL,
           "options.device_class = 7", "create_with_options(bad class)");
    expect(clconv_context_create_with_options(&o, NULL), CLCONV_ERROR_INVALID_VALUE, NULL, "out",
           "create_with_options(NULL out)");
    ck_assert_int_eq(clconv_context_device_class(NULL), CLCONV_DEVICE_CLASS_AUTO);
    if (keep)
        setenv("CLCONV_DEVICE_CLASS", keep, 1);
    free(keep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validation");
    TCase *shapes = tcase_create("parameters");
    tcase_set_timeout(shapes, 300);
    tcase_add_test(shapes, conv2d_bad_parameters);
    tcase_add_test(shapes, conv2d_null_pointers);
    tcase_add_test(shapes, conv1d_bad_parameters);
    tcase_add_test(shapes, conv_transpose2d_bad_parameters);
    tcase_add_test(shapes, conv_transpose1d_bad_parameters);
    tcase_add_test(shapes, pool2d_bad_parameters);
    suite_add_tcase(s, shapes);
    TCase *limits = tcase_create("device limits");
    tcase_set_timeout(limits, 300);
    tcase_add_test(limits, conv2d_device_limits);
    tcase_add_test(limits, conv_transpose2d_device_limits);
    tcase_add_test(limits, pool2d_device_limits);
    tcase_add_test(limits, backward_device_limits);
    suite_add_tcase(s, limits);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 300);
    tcase_add_test(runs, conv2d_bad_runs);
    tcase_add_test(runs, conv_transpose2d_bad_runs);
    tcase_add_test(runs, pool2d_bad_runs);
    tcase_add_test(runs, context_bad_arguments);
    tcase_add_test(runs, context_device_class);
    suite_add_tcase(s, runs);
    return tu_run_suite(s);
}
