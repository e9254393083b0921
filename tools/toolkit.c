/* The tools' shared code: the operator table, layer specs, timing, errors,
 * JSON strings. See toolkit.h. */
#include "toolkit.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------ */
/* conv2d                                                                   */
/* ------------------------------------------------------------------------ */

static void conv_defaults(tk_layer *L)
{
    L->stride_h = L->stride_w = 1;
    L->dilation_h = L->dilation_w = 1;
    L->groups = 1;
    L->alpha = L->beta = 1.0f;
}

/* The fused activation of a conv layer: activation=NAME wins over relu=1. */
void tk_layer_activation(const tk_layer *L, clconv_activation *act, float params[2])
{
    *act = L->activation != CLCONV_ACTIVATION_NONE ? L->activation
           : L->relu                                ? CLCONV_ACTIVATION_RELU
                                                    : CLCONV_ACTIVATION_NONE;
    params[0] = L->act_params[0];
    params[1] = L->act_params[1];
}

static clconv_status conv2d_params(const tk_layer *L, clconv_conv2d_params *p)
{
    *p = clconv_conv2d_default_params(L->input.c, L->out_channels, L->kernel_h, L->kernel_w);
    p->stride_h = L->stride_h;
    p->stride_w = L->stride_w;
    p->dilation_h = L->dilation_h;
    p->dilation_w = L->dilation_w;
    p->groups = L->groups;
    p->dtype = L->dtype;
    p->has_bias = L->bias;
    tk_layer_activation(L, &p->activation, p->activation_params);
    p->has_residual = L->residual;
    p->alpha = L->alpha;
    p->beta = L->beta;
    p->pre_activation_output = L->pre;
    if (L->pad_same)
        return clconv_conv2d_set_same_padding(p);
    p->pad_top = L->pad_top;
    p->pad_bottom = L->pad_bottom;
    p->pad_left = L->pad_left;
    p->pad_right = L->pad_right;
    return CLCONV_SUCCESS;
}

static clconv_status conv2d_shapes(const tk_layer *L, clconv_shape *wshape, clconv_shape *out)
{
    clconv_conv2d_params p;
    clconv_status st = conv2d_params(L, &p);
    if (st)
        return st;
    if ((st = clconv_conv2d_output_shape(&p, &L->input, out)))
        return st;
    *wshape = clconv_conv2d_weight_shape(&p);
    return CLCONV_SUCCESS;
}

static clconv_status conv2d_plan(clconv_context *ctx, const tk_layer *L,
                                 const clconv_plan_options *o, clconv_plan **out)
{
    clconv_conv2d_params p;
    clconv_status st = conv2d_params(L, &p);
    if (st)
        return st;
    return clconv_conv2d_plan_create(ctx, &p, &L->input, o, out);
}

/* The run of a plan with a residual or a second output: clconv_conv_run. */
static clconv_status conv_epilogue_run(clconv_plan *plan, const tk_bufs *b, cl_event *done)
{
    const clconv_conv_buffers cb = {.x = b->x, .w = b->w, .b = b->b, .y = b->y,
                                    .workspace = b->workspace, .z = b->z, .pre = b->pre};
    return clconv_conv_run(plan, &cb, 0, NULL, done);
}

static clconv_status conv2d_run(clconv_plan *plan, const tk_bufs *b, cl_event *done)
{
    if (b->z || b->pre)
        return conv_epilogue_run(plan, b, done);
    return clconv_conv2d_run(plan, b->x, b->w, b->b, b->y, b->workspace, 0, NULL, done);
}

static clconv_status conv2d_prepare(clconv_plan *plan, cl_mem w, cl_event *done)
{
    return clconv_conv2d_prepare(plan, w, 0, NULL, done);
}

static clconv_status conv2d_reference(const tk_layer *L, const float *x, const float *w,
                                      const float *b, const float *z, float *y, float *pre,
                                      int64_t *indices)
{
    (void)indices;
    clconv_conv2d_params p;
    clconv_status st = conv2d_params(L, &p);
    if (st)
        return st;
    return clconv_ref_conv2d_epilogue(&p, &L->input, x, w, L->bias ? b : NULL,
                                      L->residual ? z : NULL, y, L->pre ? pre : NULL);
}

/* ------------------------------------------------------------------------ */
/* conv_transpose2d                                                         */
/* ------------------------------------------------------------------------ */

static char tk_msg[256];

static clconv_status tool_fail(clconv_status st, const char *msg)
{
    snprintf(tk_msg, sizeof tk_msg, "%s", msg);
    return st;
}

static clconv_status convt_params(const tk_layer *L, clconv_conv_transpose2d_params *p)
{
    if (L->pad_same)
        return tool_fail(CLCONV_ERROR_INVALID_VALUE,
                         "conv_transpose2d: padding 'same' is not defined (PyTorch neither); "
                         "give the padding as numbers");
    *p = clconv_conv_transpose2d_default_params(L->input.c, L->out_channels, L->kernel_h,
                                                L->kernel_w);
    p->stride_h = L->stride_h;
    p->stride_w = L->stride_w;
    p->pad_top = L->pad_top;
    p->pad_bottom = L->pad_bottom;
    p->pad_left = L->pad_left;
    p->pad_right = L->pad_right;
    p->output_padding_h = L->out_pad_h;
    p->output_padding_w = L->out_pad_w;
    p->dilation_h = L->dilation_h;
    p->dilation_w = L->dilation_w;
    p->groups = L->groups;
    p->dtype = L->dtype;
    p->has_bias = L->bias;
    tk_layer_activation(L, &p->activation, p->activation_params);
    p->has_residual = L->residual;
    p->alpha = L->alpha;
    p->beta = L->beta;
    p->pre_activation_output = L->pre;
    return CLCONV_SUCCESS;
}

static clconv_status convt_shapes(const tk_layer *L, clconv_shape *wshape, clconv_shape *out)
{
    clconv_conv_transpose2d_params p;
    clconv_status st = convt_params(L, &p);
    if (st)
        return st;
    if ((st = clconv_conv_transpose2d_output_shape(&p, &L->input, out)))
        return st;
    *wshape = clconv_conv_transpose2d_weight_shape(&p);
    return CLCONV_SUCCESS;
}

static clconv_status convt_plan(clconv_context *ctx, const tk_layer *L,
                                const clconv_plan_options *o, clconv_plan **out)
{
    clconv_conv_transpose2d_params p;
    clconv_status st = convt_params(L, &p);
    if (st)
        return st;
    return clconv_conv_transpose2d_plan_create(ctx, &p, &L->input, o, out);
}

static clconv_status convt_run(clconv_plan *plan, const tk_bufs *b, cl_event *done)
{
    if (b->z || b->pre)
        return conv_epilogue_run(plan, b, done);
    return clconv_conv_transpose2d_run(plan, b->x, b->w, b->b, b->y, b->workspace, 0, NULL, done);
}

static clconv_status convt_prepare(clconv_plan *plan, cl_mem w, cl_event *done)
{
    return clconv_conv_transpose2d_prepare(plan, w, 0, NULL, done);
}

static clconv_status convt_reference(const tk_layer *L, const float *x, const float *w,
                                     const float *b, const float *z, float *y, float *pre,
                                     int64_t *indices)
{
    (void)indices;
    clconv_conv_transpose2d_params p;
    clconv_status st = convt_params(L, &p);
    if (st)
        return st;
    return clconv_ref_conv_transpose2d_epilogue(&p, &L->input, x, w, L->bias ? b : NULL,
                                                L->residual ? z : NULL, y, L->pre ? pre : NULL);
}

/* ------------------------------------------------------------------------ */
/* max_pool2d, avg_pool2d                                                   */
/* ------------------------------------------------------------------------ */

static void pool_defaults(tk_layer *L)
{
    L->stride_h = L->stride_w = 0; /* = kernel_size */
    L->dilation_h = L->dilation_w = 1;
    L->groups = 1;
    L->count_include_pad = true;
}

static clconv_status pool_params(const tk_layer *L, clconv_pool2d_params *p)
{
    if (L->pad_same)
        return tool_fail(CLCONV_ERROR_INVALID_VALUE,
                         "pooling: padding 'same' is not defined (PyTorch neither); give the "
                         "padding as numbers");
    bool max = !strcmp(L->op->name, "max_pool2d");
    *p = clconv_pool2d_default_params(max ? CLCONV_POOL_MAX : CLCONV_POOL_AVG, L->kernel_h,
                                      L->kernel_w);
    p->stride_h = L->stride_h > 0 ? L->stride_h : L->kernel_h;
    p->stride_w = L->stride_w > 0 ? L->stride_w : L->kernel_w;
    p->pad_top = L->pad_top;
    p->pad_bottom = L->pad_bottom;
    p->pad_left = L->pad_left;
    p->pad_right = L->pad_right;
    p->dilation_h = L->dilation_h;
    p->dilation_w = L->dilation_w;
    p->ceil_mode = L->ceil_mode;
    p->count_include_pad = L->count_include_pad;
    p->divisor_override = L->divisor_override;
    p->dtype = L->dtype;
    return CLCONV_SUCCESS;
}

static clconv_status pool_shapes(const tk_layer *L, clconv_shape *wshape, clconv_shape *out)
{
    clconv_pool2d_params p;
    clconv_status st = pool_params(L, &p);
    if (st)
        return st;
    *wshape = (clconv_shape){0, 0, 0, 0};
    return clconv_pool2d_output_shape(&p, &L->input, out);
}

static clconv_status pool_plan(clconv_context *ctx, const tk_layer *L,
                               const clconv_plan_options *o, clconv_plan **out)
{
    clconv_pool2d_params p;
    clconv_status st = pool_params(L, &p);
    if (st)
        return st;
    return clconv_pool2d_plan_create(ctx, &p, &L->input, o, out);
}

static clconv_status pool_run(clconv_plan *plan, const tk_bufs *b, cl_event *done)
{
    return clconv_pool2d_run(plan, b->x, b->y, b->indices, 0, NULL, done);
}

static clconv_status pool_reference(const tk_layer *L, const float *x, const float *w,
                                    const float *b, const float *z, float *y, float *pre,
                                    int64_t *indices)
{
    (void)w;
    (void)b;
    (void)z;
    (void)pre;
    clconv_pool2d_params p;
    clconv_status st = pool_params(L, &p);
    if (st)
        return st;
    return clconv_ref_pool2d(&p, &L->input, x, y, indices);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

/* The epilogue's flags, shared by the convolutions' help texts. */
#define EPILOGUE_FLAGS_HELP                                                                   \
    "  --residual Z.npy      a residual of the output's shape: y = act(alpha * conv +\n"      \
    "                        beta * z + bias), fused in the kernel that writes y\n"           \
    "  --alpha A             the convolution's scale with --residual (default 1)\n"          \
    "  --beta B              the residual's scale with --residual (default 1)\n"             \
    "  --pre PRE.npy         also write the activation's input (conv + bias, with\n"          \
    "                        --residual alpha * conv + beta * z + bias)\n"

const tk_op tk_ops[] = {
    {.name = "conv2d",
     .summary = "2-D convolution, as torch.nn.functional.conv2d",
     .flags_help =
         "  --weight W.npy        weights [out_channels, in_channels/groups, kH, kW] (required)\n"
         "  --bias B.npy          bias [out_channels]\n"
         "  --stride S[,SW]       stride (default 1)\n"
         "  --padding P|PH,PW|T,B,L,R|same|valid  zero padding per side (default 0)\n"
         "  --dilation D[,DW]     dilation (default 1)\n"
         "  --groups G            groups (default 1)\n"
         "  --relu                apply ReLU after the bias\n"
         "  --activation NAME[:P[,Q]]  fused activation after the bias: relu, relu6, hardtanh,\n"
         "                        leaky_relu, elu, sigmoid, tanh, silu, hardsigmoid, hardswish,\n"
         "                        gelu, gelu_tanh, mish (P, Q: its parameters, PyTorch's defaults)\n"
         EPILOGUE_FLAGS_HELP,
     .flags = "weight bias stride padding dilation groups relu activation residual alpha beta "
              "pre",
     .algorithms = "* -pool -transposed-*",
     .available = true,
     .has_weight = true,
     .defaults = conv_defaults,
     .shapes = conv2d_shapes,
     .plan = conv2d_plan,
     .run = conv2d_run,
     .prepare = conv2d_prepare,
     .reference = conv2d_reference},
    {.name = "conv_transpose2d",
     .summary = "transposed 2-D convolution, as torch.nn.functional.conv_transpose2d",
     .flags_help =
         "  --weight W.npy        weights [in_channels, out_channels/groups, kH, kW] (required)\n"
         "  --bias B.npy          bias [out_channels]\n"
         "  --stride S[,SW]       stride (default 1)\n"
         "  --padding P|PH,PW|T,B,L,R  rows/columns removed from each side (default 0)\n"
         "  --output-padding P[,PW]  extra rows/columns at the bottom/right (default 0)\n"
         "  --dilation D[,DW]     dilation (default 1)\n"
         "  --groups G            groups (default 1)\n"
         "  --relu                apply ReLU after the bias\n"
         "  --activation NAME[:P[,Q]]  fused activation after the bias (as conv2d)\n"
         EPILOGUE_FLAGS_HELP,
     .flags = "weight bias stride padding output-padding dilation groups relu activation "
              "residual alpha beta pre",
     .algorithms = "transposed-*",
     .available = true,
     .has_weight = true,
     .defaults = conv_defaults,
     .shapes = convt_shapes,
     .plan = convt_plan,
     .run = convt_run,
     .prepare = convt_prepare,
     .reference = convt_reference},
    {.name = "max_pool2d",
     .summary = "2-D max pooling, as torch.nn.functional.max_pool2d",
     .flags_help =
         "  --kernel-size K[,KW]  window size (required)\n"
         "  --stride S[,SW]       stride (default: the kernel size)\n"
         "  --padding P|PH,PW|T,B,L,R  implicit -inf padding per side, at most kernel/2\n"
         "                        (default 0)\n"
         "  --dilation D[,DW]     dilation (default 1)\n"
         "  --ceil-mode           ceil instead of floor for the output size\n"
         "  --indices I.npy       also write the argmax indices (int64, as return_indices)\n",
     .flags = "kernel-size stride padding dilation ceil-mode indices",
     .algorithms = "pool",
     .available = true,
     .has_indices = true,
     .bandwidth_bound = true,
     .defaults = pool_defaults,
     .shapes = pool_shapes,
     .plan = pool_plan,
     .run = pool_run,
     .reference = pool_reference},
    {.name = "avg_pool2d",
     .summary = "2-D average pooling, as torch.nn.functional.avg_pool2d",
     .flags_help =
         "  --kernel-size K[,KW]  window size (required)\n"
         "  --stride S[,SW]       stride (default: the kernel size)\n"
         "  --padding P|PH,PW|T,B,L,R  implicit zero padding per side, at most kernel/2\n"
         "                        (default 0)\n"
         "  --ceil-mode           ceil instead of floor for the output size\n"
         "  --count-include-pad   count padded cells in the divisor (the default)\n"
         "  --no-count-include-pad  divide by the in-image cells only\n"
         "  --divisor-override D  divide every window by D\n",
     .flags = "kernel-size stride padding ceil-mode count-include-pad no-count-include-pad "
              "divisor-override",
     .algorithms = "pool",
     .available = true,
     .bandwidth_bound = true,
     .defaults = pool_defaults,
     .shapes = pool_shapes,
     .plan = pool_plan,
     .run = pool_run,
     .reference = pool_reference},
};
const int tk_num_ops = (int)(sizeof tk_ops / sizeof tk_ops[0]);

/* ------------------------------------------------------------------------ */
/* conv2d backward passes (clconv-bench --direction)                        */
/* ------------------------------------------------------------------------ */

static clconv_status bwd_params(const tk_layer *L, clconv_conv2d_params *p)
{
    clconv_status st = conv2d_params(L, p);
    p->has_bias = 0;
    p->activation = CLCONV_ACTIVATION_NONE;
    p->has_residual = 0;
    p->alpha = p->beta = 1.0f;
    p->pre_activation_output = 0;
    return st;
}

static clconv_status bwd_dy_shape(const tk_layer *L, clconv_shape *dy)
{
    clconv_shape w;
    return conv2d_shapes(L, &w, dy);
}

static clconv_status bwd_data_shapes(const tk_layer *L, clconv_shape *wshape, clconv_shape *out)
{
    clconv_shape dy;
    clconv_status st = conv2d_shapes(L, wshape, &dy);
    *out = L->input;
    return st;
}

static clconv_status bwd_data_plan(clconv_context *ctx, const tk_layer *L,
                                   const clconv_plan_options *o, clconv_plan **out)
{
    clconv_conv2d_params p;
    clconv_status st = bwd_params(L, &p);
    return st ? st : clconv_conv2d_backward_data_plan_create(ctx, &p, &L->input, o, out);
}

static clconv_status bwd_data_run(clconv_plan *plan, const tk_bufs *b, cl_event *done)
{
    return clconv_conv2d_backward_data_run(plan, b->x, b->w, b->y, b->workspace, 0, NULL, done);
}

static clconv_status bwd_data_reference(const tk_layer *L, const float *x, const float *w,
                                        const float *b, const float *z, float *y, float *pre,
                                        int64_t *indices)
{
    (void)b;
    (void)z;
    (void)pre;
    (void)indices;
    clconv_conv2d_params p;
    clconv_status st = bwd_params(L, &p);
    return st ? st : clconv_ref_conv2d_backward_data(&p, &L->input, x, w, y);
}

static clconv_status bwd_weights_shapes(const tk_layer *L, clconv_shape *dy, clconv_shape *out)
{
    return conv2d_shapes(L, out, dy);
}

static clconv_status bwd_weights_plan(clconv_context *ctx, const tk_layer *L,
                                      const clconv_plan_options *o, clconv_plan **out)
{
    clconv_conv2d_params p;
    clconv_status st = bwd_params(L, &p);
    return st ? st : clconv_conv2d_backward_weights_plan_create(ctx, &p, &L->input, o, out);
}

static clconv_status bwd_weights_run(clconv_plan *plan, const tk_bufs *b, cl_event *done)
{
    return clconv_conv2d_backward_weights_run(plan, b->x, b->w, b->y, b->workspace, 0, NULL,
                                              done);
}

static clconv_status bwd_weights_reference(const tk_layer *L, const float *x, const float *w,
                                           const float *b, const float *z, float *y, float *pre,
                                           int64_t *indices)
{
    (void)b;
    (void)z;
    (void)pre;
    (void)indices;
    clconv_conv2d_params p;
    clconv_status st = bwd_params(L, &p);
    return st ? st : clconv_ref_conv2d_backward_weights(&p, &L->input, x, w, y);
}

const tk_op tk_conv2d_backward_data_op = {
    .name = "conv2d_backward_data",
    .summary = "conv2d's input gradient (torch.nn.grad.conv2d_input)",
    .flags_help = "",
    .flags = "",
    .algorithms = "transposed-*",
    .available = true,
    .has_weight = true,
    .defaults = conv_defaults,
    .shapes = bwd_data_shapes,
    .plan = bwd_data_plan,
    .run = bwd_data_run,
    .reference = bwd_data_reference,
    .x_shape = bwd_dy_shape};

const tk_op tk_conv2d_backward_weights_op = {
    .name = "conv2d_backward_weights",
    .summary = "conv2d's weight gradient (torch.nn.grad.conv2d_weight)",
    .flags_help = "",
    .flags = "",
    .algorithms = "direct-register",
    .available = true,
    .has_weight = true,
    .defaults = conv_defaults,
    .shapes = bwd_weights_shapes,
    .plan = bwd_weights_plan,
    .run = bwd_weights_run,
    .reference = bwd_weights_reference};

const tk_op *tk_find_op(const char *name)
{
    for (int i = 0; i < tk_num_ops; i++)
        if (strcmp(tk_ops[i].name, name) == 0)
            return &tk_ops[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

bool tk_parse_int(const char *s, int64_t min, int64_t *v)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || end == s || x < min || x > (1LL << 40))
        return false;
    *v = x;
    return true;
}

bool tk_parse_pair(const char *s, int64_t min, int64_t *h, int64_t *w)
{
    if (!s || !*s)
        return false;
    const char *comma = strchr(s, ',');
    if (!comma) {
        if (!tk_parse_int(s, min, h))
            return false;
        *w = *h;
        return true;
    }
    char a[32];
    size_t n = (size_t)(comma - s);
    if (n == 0 || n >= sizeof a)
        return false;
    memcpy(a, s, n);
    a[n] = '\0';
    return tk_parse_int(a, min, h) && tk_parse_int(comma + 1, min, w);
}

bool tk_parse_padding(const char *s, int64_t *top, int64_t *bottom, int64_t *left,
                      int64_t *right)
{
    if (!s || !*s)
        return false;
    int64_t v[4];
    int n = 0;
    for (const char *p = s;; n++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char a[32];
        if (n == 4 || len == 0 || len >= sizeof a)
            return false;
        memcpy(a, p, len);
        a[len] = '\0';
        if (!tk_parse_int(a, 0, &v[n]))
            return false;
        if (!comma) {
            n++;
            break;
        }
        p = comma + 1;
    }
    if (n == 3)
        return false;
    if (n == 1)
        v[1] = v[2] = v[3] = v[0];
    else if (n == 2) {
        v[2] = v[3] = v[1];
        v[1] = v[0];
    }
    *top = v[0];
    *bottom = v[1];
    *left = v[2];
    *right = v[3];
    return true;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
        return true;
    }
    return false;
}

/* A finite float, the whole string. */
static bool parse_finite(const char *v, float *out)
{
    if (!v || !*v)
        return false;
    char *end;
    errno = 0;
    float f = strtof(v, &end);
    if (*end || end == v || !isfinite(f))
        return false;
    *out = f;
    return true;
}

bool tk_layer_set(tk_layer *L, const char *key, const char *v, char *err, size_t en)
{
    bool ok = true;
#define KEY(k) (strcmp(key, k) == 0)
    if (KEY("name")) {
        snprintf(L->name, sizeof L->name, "%s", v);
    } else if (KEY("n")) {
        ok = tk_parse_int(v, 1, &L->input.n);
    } else if (KEY("c")) {
        ok = tk_parse_int(v, 1, &L->input.c);
    } else if (KEY("h")) {
        ok = tk_parse_int(v, 1, &L->input.h);
    } else if (KEY("w")) {
        ok = tk_parse_int(v, 1, &L->input.w);
    } else if (KEY("k")) {
        ok = tk_parse_int(v, 1, &L->out_channels);
    } else if (KEY("r")) {
        ok = tk_parse_int(v, 1, &L->kernel_h);
    } else if (KEY("s")) {
        ok = tk_parse_int(v, 1, &L->kernel_w);
    } else if (KEY("kernel") || KEY("kernel_size")) {
        ok = tk_parse_pair(v, 1, &L->kernel_h, &L->kernel_w);
    } else if (KEY("stride")) {
        ok = tk_parse_pair(v, 1, &L->stride_h, &L->stride_w);
    } else if (KEY("stride_h")) {
        ok = tk_parse_int(v, 1, &L->stride_h);
    } else if (KEY("stride_w")) {
        ok = tk_parse_int(v, 1, &L->stride_w);
    } else if (KEY("pad") || KEY("padding")) {
        L->pad_same = false;
        if (!strcmp(v, "same"))
            L->pad_same = true;
        else if (!strcmp(v, "valid"))
            L->pad_top = L->pad_bottom = L->pad_left = L->pad_right = 0;
        else
            ok = tk_parse_padding(v, &L->pad_top, &L->pad_bottom, &L->pad_left, &L->pad_right);
    } else if (KEY("pad_h")) {
        ok = tk_parse_int(v, 0, &L->pad_top);
        L->pad_bottom = L->pad_top;
    } else if (KEY("pad_w")) {
        ok = tk_parse_int(v, 0, &L->pad_left);
        L->pad_right = L->pad_left;
    } else if (KEY("pad_top")) {
        ok = tk_parse_int(v, 0, &L->pad_top);
    } else if (KEY("pad_bottom")) {
        ok = tk_parse_int(v, 0, &L->pad_bottom);
    } else if (KEY("pad_left")) {
        ok = tk_parse_int(v, 0, &L->pad_left);
    } else if (KEY("pad_right")) {
        ok = tk_parse_int(v, 0, &L->pad_right);
    } else if (KEY("dilation") || KEY("dil")) {
        ok = tk_parse_pair(v, 1, &L->dilation_h, &L->dilation_w);
    } else if (KEY("groups") || KEY("g")) {
        ok = tk_parse_int(v, 1, &L->groups);
    } else if (KEY("output_padding") || KEY("out_pad")) {
        ok = tk_parse_pair(v, 0, &L->out_pad_h, &L->out_pad_w);
    } else if (KEY("bias")) {
        ok = parse_bool(v, &L->bias);
    } else if (KEY("relu")) {
        ok = parse_bool(v, &L->relu);
    } else if (KEY("activation") || KEY("act")) {
        /* NAME, NAME:P or NAME:P,Q (PyTorch's defaults for parameters not given) */
        char name[32];
        const char *colon = strchr(v, ':');
        size_t n = colon ? (size_t)(colon - v) : strlen(v);
        ok = n > 0 && n < sizeof name;
        if (ok) {
            memcpy(name, v, n);
            name[n] = '\0';
            ok = clconv_activation_from_name(name, &L->activation) == CLCONV_SUCCESS;
        }
        if (ok) {
            clconv_activation_default_params(L->activation, L->act_params);
            if (colon) {
                char *end;
                L->act_params[0] = strtof(colon + 1, &end);
                ok = end != colon + 1 && (*end == '\0' || *end == ',');
                if (ok && *end == ',') {
                    const char *q = end + 1;
                    L->act_params[1] = strtof(q, &end);
                    ok = end != q && *end == '\0';
                }
            }
        }
        if (ok)
            ok = clconv_activation_validate(L->activation, L->act_params) == CLCONV_SUCCESS;
    } else if (KEY("residual")) {
        ok = parse_bool(v, &L->residual);
    } else if (KEY("alpha")) {
        ok = parse_finite(v, &L->alpha);
    } else if (KEY("beta")) {
        ok = parse_finite(v, &L->beta);
    } else if (KEY("ceil") || KEY("ceil_mode")) {
        ok = parse_bool(v, &L->ceil_mode);
    } else if (KEY("count_include_pad")) {
        ok = parse_bool(v, &L->count_include_pad);
    } else if (KEY("divisor_override")) {
        ok = tk_parse_int(v, 1, &L->divisor_override);
    } else if (KEY("indices")) {
        ok = parse_bool(v, &L->indices);
    } else if (KEY("dtype")) {
        ok = tk_parse_dtype(v, &L->dtype);
    } else {
        snprintf(err, en, "unknown key '%s' (known: name n c h w k r s kernel stride stride_h "
                 "stride_w pad pad_h pad_w pad_top pad_bottom pad_left pad_right dilation groups "
                 "output_padding bias relu activation residual alpha beta ceil "
                 "count_include_pad divisor_override indices dtype)", key);
        return false;
    }
#undef KEY
    if (!ok)
        snprintf(err, en, "bad value '%s' for '%s'", v, key);
    return ok;
}

bool tk_parse_layer_spec(const char *line, tk_layer *L, char *err, size_t en)
{
    err[0] = '\0';
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", line);
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *tok = strtok_r(buf, " \t\r\n", &save);
    if (!tok)
        return false; /* blank or comment */
    const tk_op *op = tk_find_op(tok);
    if (!op) {
        snprintf(err, en, "unknown operator '%s' (known:", tok);
        for (int i = 0; i < tk_num_ops; i++) {
            size_t used = strlen(err);
            snprintf(err + used, en - used, " %s", tk_ops[i].name);
        }
        size_t used = strlen(err);
        snprintf(err + used, en - used, ")");
        return false;
    }
    memset(L, 0, sizeof *L);
    L->op = op;
    op->defaults(L);
    L->input.n = 1;
    bool scaled = false; /* alpha= or beta= given */
    while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            snprintf(err, en, "expected key=value, got '%s'", tok);
            return false;
        }
        *eq = '\0';
        if (!tk_layer_set(L, tok, eq + 1, err, en))
            return false;
        scaled |= !strcmp(tok, "alpha") || !strcmp(tok, "beta");
    }
    if (L->residual && !op->has_weight) {
        snprintf(err, en, "%s: residual=1 applies to the convolutions only", op->name);
        return false;
    }
    if (scaled && !L->residual) {
        snprintf(err, en, "%s: alpha= and beta= scale the residual: they need residual=1",
                 op->name);
        return false;
    }
    if (L->input.c <= 0 || L->input.h <= 0 || L->input.w <= 0) {
        snprintf(err, en, "%s: c, h and w are required", op->name);
        return false;
    }
    if (L->kernel_h <= 0 || L->kernel_w <= 0) {
        snprintf(err, en, "%s: the kernel size is required (r= and s=, or kernel=)", op->name);
        return false;
    }
    if (op->has_weight && L->out_channels <= 0) {
        snprintf(err, en, "%s: k (output channels) is required", op->name);
        return false;
    }
    return true;
}

void tk_layer_spec(const tk_layer *L, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s n=%lld c=%lld h=%lld w=%lld", L->op->name,
                     (long long)L->input.n, (long long)L->input.c, (long long)L->input.h,
                     (long long)L->input.w);
#define ADD(...)                                                                   \
    do {                                                                           \
        if (n >= 0 && (size_t)n < size)                                            \
            n += snprintf(buf + n, size - (size_t)n, __VA_ARGS__);                 \
    } while (0)
    if (L->op->has_weight)
        ADD(" k=%lld", (long long)L->out_channels);
    ADD(" r=%lld s=%lld", (long long)L->kernel_h, (long long)L->kernel_w);
    if (L->stride_h <= 0 || L->stride_w <= 0)
        ; /* the operator's default */
    else if (L->stride_h == L->stride_w)
        ADD(" stride=%lld", (long long)L->stride_h);
    else
        ADD(" stride=%lld,%lld", (long long)L->stride_h, (long long)L->stride_w);
    if (L->pad_same)
        ADD(" pad=same");
    else if (L->pad_top != L->pad_bottom || L->pad_left != L->pad_right)
        ADD(" pad=%lld,%lld,%lld,%lld", (long long)L->pad_top, (long long)L->pad_bottom,
            (long long)L->pad_left, (long long)L->pad_right);
    else if (L->pad_top == L->pad_left)
        ADD(" pad=%lld", (long long)L->pad_top);
    else
        ADD(" pad=%lld,%lld", (long long)L->pad_top, (long long)L->pad_left);
    if (L->dilation_h != 1 || L->dilation_w != 1)
        ADD(" dilation=%lld,%lld", (long long)L->dilation_h, (long long)L->dilation_w);
    if (L->op->has_weight)
        ADD(" groups=%lld", (long long)L->groups);
    if (L->out_pad_h || L->out_pad_w)
        ADD(" output_padding=%lld,%lld", (long long)L->out_pad_h, (long long)L->out_pad_w);
    if (L->bias)
        ADD(" bias=1");
    if (L->activation != CLCONV_ACTIVATION_NONE) {
        float d[2];
        clconv_activation_default_params(L->activation, d);
        if (L->act_params[0] == d[0] && L->act_params[1] == d[1])
            ADD(" activation=%s", clconv_activation_name(L->activation));
        else
            ADD(" activation=%s:%g,%g", clconv_activation_name(L->activation),
                (double)L->act_params[0], (double)L->act_params[1]);
    } else if (L->relu) {
        ADD(" relu=1");
    }
    if (L->residual) {
        ADD(" residual=1");
        if (L->alpha != 1.0f)
            ADD(" alpha=%.9g", (double)L->alpha);
        if (L->beta != 1.0f)
            ADD(" beta=%.9g", (double)L->beta);
    }
    if (L->ceil_mode)
        ADD(" ceil=1");
    if (L->op->bandwidth_bound && !L->op->has_indices && !L->count_include_pad)
        ADD(" count_include_pad=0");
    if (L->divisor_override)
        ADD(" divisor_override=%lld", (long long)L->divisor_override);
    if (L->indices)
        ADD(" indices=1");
    if (L->dtype != CLCONV_DTYPE_F32)
        ADD(" dtype=%s", clconv_dtype_name(L->dtype));
#undef ADD
}

bool tk_parse_dtype(const char *s, clconv_dtype *out)
{
    if (!strcmp(s, "f32") || !strcmp(s, "float32"))
        *out = CLCONV_DTYPE_F32;
    else if (!strcmp(s, "f16") || !strcmp(s, "float16") || !strcmp(s, "half"))
        *out = CLCONV_DTYPE_F16;
    else
        return false;
    return true;
}

void tk_round_to_half(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = clconv_half_to_float(clconv_float_to_half(a[i]));
}

bool tk_parse_algorithm(const char *s, clconv_algorithm *out)
{
    /* Every name the library knows (new algorithms need no change here). */
    for (int a = CLCONV_ALGO_AUTO; a < 64; a++) {
        const char *name = clconv_algorithm_name((clconv_algorithm)a);
        if (strcmp(name, "unknown") != 0 && strcmp(s, name) == 0) {
            *out = (clconv_algorithm)a;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tk_median(double *v, int n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double tk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool g_wall_clock;

double tk_span_or_wall(double span, double wall)
{
    /* A span under a thousandth of a wall time above a millisecond is not a
     * measurement either (a timer that barely ticks). */
    if (span != 0 && !(wall > 1e-3 && span * 1000 < wall) && !g_wall_clock)
        return span;
    g_wall_clock = true;
    return wall > 1e-9 ? wall : 1e-9;
}

bool tk_timing_wall_clock(void) { return g_wall_clock; }

/* CLCONV_TOOLS_ZERO_TIMER=1 makes every profiled span read 0, as Mesa
 * rusticl 22.3's do: test_tools checks the wall-clock fallback and the
 * bounded timing loops on any device with it. */
static bool zero_timer(void)
{
    const char *e = getenv("CLCONV_TOOLS_ZERO_TIMER");
    return e && strcmp(e, "1") == 0;
}

double tk_event_seconds(cl_event ev)
{
    if (zero_timer())
        return 0;
    cl_ulong t0 = 0, t1 = 0;
    if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS)
        return -1;
    return t1 >= t0 ? (double)(t1 - t0) * 1e-9 : 0;
}

int tk_warmup_runs(int i, int warm, double *start)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    if (i == 0)
        *start = now;
    /* Run i would be the first timed one: warm once more if too early. */
    if (warm > 0 && i == warm && warm < TK_MAX_WARMUP && now - *start < TK_MIN_WARMUP_S)
        return warm + 1;
    return warm;
}

double tk_event_span(cl_event from, cl_event to)
{
    cl_ulong t0 = 0, t1 = 0;
    if (clGetEventProfilingInfo(from, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(to, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS)
        return -1;
    if (zero_timer())
        return 0;
    return t1 >= t0 ? (double)(t1 - t0) * 1e-9 : 0;
}

void tk_fill(float *a, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        uint64_t r = s * 0x2545F4914F6CDD1Dull;
        a[i] = (float)((double)(r >> 40) / (double)(1ull << 23) - 1.0);
    }
}

tk_error tk_compare(const float *got, const float *ref, size_t n)
{
    tk_error e = {0, 0, 0, true};
    double maxref = 0;
    bool bad_nan = false;
    for (size_t i = 0; i < n; i++) {
        double r = ref[i], g = got[i];
        if (isnan(g) != isnan(r)) {
            bad_nan = true;
            e.worst = i;
            continue;
        }
        if (isnan(r))
            continue;
        double d = fabs(g - r);
        if (d > e.max_abs || isnan(d)) {
            e.max_abs = d;
            e.worst = i;
        }
        if (fabs(r) > maxref)
            maxref = fabs(r);
    }
    e.max_rel = maxref > 0 ? e.max_abs / maxref : e.max_abs;
    e.ok = !bad_nan && e.max_abs <= 1e-3 * (maxref > 1 ? maxref : 1);
    if (bad_nan)
        e.max_abs = e.max_rel = NAN;
    return e;
}

tk_error tk_compare_dtype(const float *got, const float *ref, size_t n, clconv_dtype dtype)
{
    tk_error e = tk_compare(got, ref, n);
    if (dtype != CLCONV_DTYPE_F16 || e.ok || isnan(e.max_abs))
        return e;
    /* tk_compare's bound, 1e-3 * max(1, max |ref|), plus one half ulp of each
     * result (the rounding of the store). */
    double maxref = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(ref[i]) && fabs((double)ref[i]) > maxref)
            maxref = fabs((double)ref[i]);
    double base = 1e-3 * (maxref > 1 ? maxref : 1);
    e.ok = true;
    for (size_t i = 0; i < n && e.ok; i++) {
        if (isnan(ref[i]))
            continue;
        double ulp = fabs((double)ref[i]) * 0x1p-11;
        if (ulp < 0x1p-25)
            ulp = 0x1p-25;
        if (fabs((double)got[i] - (double)ref[i]) > base + ulp) {
            e.ok = false;
            e.worst = i;
        }
    }
    return e;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

void tk_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f); /* UTF-8 passes through */
        }
    }
    fputc('"', f);
}

void tk_shape_str(clconv_shape s, char *buf, size_t size)
{
    snprintf(buf, size, "%lldx%lldx%lldx%lld", (long long)s.n, (long long)s.c, (long long)s.h,
             (long long)s.w);
}

cl_mem tk_buffer(clconv_context *ctx, size_t bytes, const void *src)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(ctx),
                              CL_MEM_READ_WRITE | (src ? CL_MEM_COPY_HOST_PTR : 0),
                              bytes ? bytes : 4, (void *)src, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "clCreateBuffer(%zu bytes) failed: %d\n", bytes, err);
        return NULL;
    }
    return m;
}

const char *tk_last_error(void)
{
    static char copy[sizeof tk_msg];
    if (!tk_msg[0])
        return clconv_last_error(NULL);
    snprintf(copy, sizeof copy, "%s", tk_msg);
    tk_msg[0] = '\0';
    return copy;
}

void tk_report(const char *prog, const char *what, clconv_status st, const clconv_context *ctx)
{
    const char *msg = tk_msg[0] ? tk_last_error() : clconv_last_error(ctx);
    if (!*msg)
        msg = clconv_last_error(NULL);
    fprintf(stderr, "%s: %s: %s: %s\n", prog, what, clconv_status_string(st), msg);
}

/* ------------------------------------------------------------------------ */
/* One measured run                                                         */
/* ------------------------------------------------------------------------ */

bool tk_layer_has_epilogue(const tk_layer *L)
{
    if (!L->op->has_weight)
        return false;
    clconv_activation act;
    float params[2];
    tk_layer_activation(L, &act, params);
    return L->residual || act != CLCONV_ACTIVATION_NONE;
}

/* A buffer of n elements of dtype, from float data (NULL: uninitialised). */
static cl_mem tensor_buffer(clconv_context *ctx, size_t n, const float *src, clconv_dtype dtype)
{
    if (dtype != CLCONV_DTYPE_F16 || !src)
        return tk_buffer(ctx, n * (dtype == CLCONV_DTYPE_F16 ? 2 : 4), src);
    uint16_t *h = malloc(n ? n * 2 : 2);
    if (!h) {
        fprintf(stderr, "out of memory for %zu halves\n", n);
        return NULL;
    }
    clconv_floats_to_halves(src, h, n);
    cl_mem m = tk_buffer(ctx, n * 2, h);
    free(h);
    return m;
}

/* Reads n elements of dtype into floats (halves widened exactly). */
static cl_int read_tensor(cl_command_queue q, cl_mem m, size_t n, float *dst, clconv_dtype dtype)
{
    if (dtype != CLCONV_DTYPE_F16)
        return clEnqueueReadBuffer(q, m, CL_TRUE, 0, n * 4, dst, 0, NULL, NULL);
    uint16_t *h = malloc(n ? n * 2 : 2);
    if (!h)
        return CL_OUT_OF_HOST_MEMORY;
    cl_int err = clEnqueueReadBuffer(q, m, CL_TRUE, 0, n * 2, h, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        clconv_halves_to_floats(h, dst, n);
    free(h);
    return err;
}

int tk_exec(clconv_context *ctx, const tk_layer *L, const clconv_plan_options *o, const float *x,
            const float *w, const float *b, const float *z, float *y, float *pre,
            int64_t *indices, int warmup, int runs, bool prepare, tk_result *res,
            const char *prog)
{
    memset(res, 0, sizeof *res);
    const tk_op *op = L->op;
    clconv_status st = op->shapes(L, &res->weight, &res->output);
    if (st) {
        tk_report(prog, op->name, st, NULL);
        return TK_EXIT_FAILURE;
    }
    clconv_plan *plan = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((st = op->plan(ctx, L, o, &plan))) {
        tk_report(prog, "making the plan", st, ctx);
        return TK_EXIT_FAILURE;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->plan_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    clconv_plan_get_info(plan, &res->info);
    clconv_shape xs = L->input;
    if (op->x_shape && (st = op->x_shape(L, &xs))) {
        tk_report(prog, op->name, st, NULL);
        clconv_plan_destroy(plan);
        return TK_EXIT_FAILURE;
    }
    size_t nx = clconv_shape_elements(xs), ny = clconv_shape_elements(res->output);
    size_t nw = op->has_weight ? clconv_shape_elements(res->weight) : 0;
    tk_bufs bufs = {0};
    int rc = TK_EXIT_FAILURE;
    double *times = NULL;
    cl_command_queue q = clconv_context_queue(ctx);
    size_t es = L->dtype == CLCONV_DTYPE_F16 ? 2 : 4;
    if (!(bufs.x = tensor_buffer(ctx, nx, x, L->dtype)) ||
        !(bufs.y = tk_buffer(ctx, ny * es, NULL)))
        goto done;
    if (op->has_weight && !(bufs.w = tensor_buffer(ctx, nw, w, L->dtype)))
        goto done;
    if (op->has_weight && L->bias &&
        !(bufs.b = tensor_buffer(ctx, (size_t)L->out_channels, b, L->dtype)))
        goto done;
    if (res->info.workspace_bytes && !(bufs.workspace = tk_buffer(ctx, res->info.workspace_bytes,
                                                                   NULL)))
        goto done;
    if (indices && !(bufs.indices = tk_buffer(ctx, ny * sizeof(int64_t), NULL)))
        goto done;
    if (L->residual && !(bufs.z = tensor_buffer(ctx, ny, z, L->dtype)))
        goto done;
    if (L->pre && !(bufs.pre = tk_buffer(ctx, ny * es, NULL)))
        goto done;
    tk_bufs run_bufs = bufs; /* w = NULL once prepared */
    if (prepare && op->prepare) {
        cl_event pev = NULL;
        if ((st = op->prepare(plan, bufs.w, &pev))) {
            tk_report(prog, "preparing the weights", st, ctx);
            goto done;
        }
        cl_int perr = clWaitForEvents(1, &pev);
        clReleaseEvent(pev);
        if (perr != CL_SUCCESS) {
            fprintf(stderr, "%s: waiting for the weights' preparation failed (%d)\n", prog, perr);
            goto done;
        }
        run_bufs.w = NULL;
    }
    if (runs < 1)
        runs = 1;
    times = calloc((size_t)runs, sizeof *times);
    if (!times)
        goto done;
    /* A run may enqueue several commands (weight packing, CLBlast GEMMs, a
     * transform) and returns the last one's event: time every run from a
     * marker enqueued before it to the end of that event. On an idle in-order
     * queue the marker completes at once; for a single kernel this adds only
     * the launch gap (about a microsecond on PoCL). */
    res->spans = true;
    double warm_start = 0, timed_start = 0;
    for (int i = 0; i < warmup + runs; i++) {
        warmup = tk_warmup_runs(i, warmup, &warm_start);
        if (i == warmup)
            timed_start = tk_now();
        else if (i > warmup && tk_now() - timed_start > TK_MAX_TIMING_S) {
            runs = i - warmup; /* the wall-clock cap: keep the runs made */
            break;
        }
        double w0 = tk_now();
        cl_event ev = NULL, m0 = NULL;
        cl_int err;
        if (res->spans && (err = clEnqueueMarkerWithWaitList(q, 0, NULL, &m0)) != CL_SUCCESS) {
            fprintf(stderr, "%s: clEnqueueMarkerWithWaitList failed (%d)\n", prog, err);
            goto done;
        }
        if ((st = op->run(plan, &run_bufs, &ev))) {
            tk_report(prog, "run", st, ctx);
            if (m0)
                clReleaseEvent(m0);
            goto done;
        }
        err = clWaitForEvents(1, &ev);
        double t = err != CL_SUCCESS ? -1 : m0 ? tk_event_span(m0, ev) : tk_event_seconds(ev);
        t = t < 0 ? t : tk_span_or_wall(t, tk_now() - w0);
        clReleaseEvent(ev);
        if (m0)
            clReleaseEvent(m0);
        if (err != CL_SUCCESS || t < 0) {
            fprintf(stderr, "%s: waiting for / profiling the run failed (%d)\n", prog, err);
            goto done;
        }
        if (i >= warmup)
            times[i - warmup] = t;
    }
    res->runs = runs;
    res->min_s = times[0];
    for (int i = 1; i < runs; i++)
        if (times[i] < res->min_s)
            res->min_s = times[i];
    res->median_s = tk_median(times, runs);
    cl_int err = read_tensor(q, bufs.y, ny, y, L->dtype);
    if (err == CL_SUCCESS && indices)
        err = clEnqueueReadBuffer(q, bufs.indices, CL_TRUE, 0, ny * sizeof(int64_t), indices, 0,
                                  NULL, NULL);
    if (err == CL_SUCCESS && L->pre && pre)
        err = read_tensor(q, bufs.pre, ny, pre, L->dtype);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "%s: clEnqueueReadBuffer failed (%d)\n", prog, err);
        goto done;
    }
    rc = TK_EXIT_OK;
done:
    free(times);
    cl_mem all[] = {bufs.x, bufs.w, bufs.b, bufs.y, bufs.workspace, bufs.indices, bufs.z,
                    bufs.pre};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    return rc;
}

static bool name_matches(const char *name, const char *pat)
{
    size_t n = strlen(pat);
    return n && pat[n - 1] == '*' ? strncmp(name, pat, n - 1) == 0 : strcmp(name, pat) == 0;
}

bool tk_op_accepts(const tk_op *op, clconv_algorithm algo)
{
    if (algo == CLCONV_ALGO_AUTO)
        return true;
    const char *name = clconv_algorithm_name(algo);
    if (!strcmp(name, "unknown"))
        return false;
    char pats[128];
    snprintf(pats, sizeof pats, "%s", op->algorithms ? op->algorithms : "");
    char *save = NULL;
    bool in = false, out = false;
    for (char *p = strtok_r(pats, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
        if (p[0] == '-')
            out |= name_matches(name, p + 1);
        else
            in |= name_matches(name, p);
    }
    return in && !out;
}

void tk_op_algorithms(const tk_op *op, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int a = CLCONV_ALGO_AUTO + 1; a < 64 && used < size; a++) {
        const char *name = clconv_algorithm_name((clconv_algorithm)a);
        if (strcmp(name, "unknown") != 0 && tk_op_accepts(op, (clconv_algorithm)a))
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
    }
}
