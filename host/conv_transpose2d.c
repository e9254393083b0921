/* conv_transpose2d plans: validation and output shape, the gather kernel, the
 * CPU vector variants (channels or columns in SIMD lanes) and the CLBlast
 * GEMM + col2im algorithm, dispatch, and the 1-D variant. */
#include "internal.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters, validation, shapes --------------------------------------- */

/* One axis: (in-1)*stride - 2*pad + dil*(k-1) + output_padding + 1. */
static int64_t ct_axis_out(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t op, int64_t d)
{
    return (in - 1) * s - 2 * pad + d * (k - 1) + op + 1;
}

clconv_status clconv_conv_transpose2d_check(clconv_context *ctx,
                                            const clconv_conv_transpose2d_params *p,
                                            const clconv_shape *in, clconv_shape *out)
{
    if (!p)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_status st;
    struct {
        const char *name;
        int64_t v, lo;
    } r[] = {
        {"in_channels", p->in_channels, 1},
        {"out_channels", p->out_channels, 1},
        {"kernel_h", p->kernel_h, 1},
        {"kernel_w", p->kernel_w, 1},
        {"stride_h", p->stride_h, 1},
        {"stride_w", p->stride_w, 1},
        {"pad_h", p->pad_h, 0},
        {"pad_w", p->pad_w, 0},
        {"output_padding_h", p->output_padding_h, 0},
        {"output_padding_w", p->output_padding_w, 0},
        {"dilation_h", p->dilation_h, 1},
        {"dilation_w", p->dilation_w, 1},
        {"groups", p->groups, 1},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if ((st = clconv_check_range(ctx, r[i].name, r[i].v, r[i].lo)))
            return st;
    if (p->activation != CLCONV_ACTIVATION_NONE && p->activation != CLCONV_ACTIVATION_RELU)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "activation = %d, expected CLCONV_ACTIVATION_NONE (0) or _RELU (1)",
                           (int)p->activation);
    /* PyTorch: "output padding must be smaller than either stride or dilation". */
    const struct {
        const char *name, *axis;
        int64_t op, s, d;
    } o[2] = {{"output_padding_h", "h", p->output_padding_h, p->stride_h, p->dilation_h},
              {"output_padding_w", "w", p->output_padding_w, p->stride_w, p->dilation_w}};
    for (int i = 0; i < 2; i++) {
        int64_t lim = o[i].s > o[i].d ? o[i].s : o[i].d;
        if (o[i].op >= lim)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "%s = %lld, expected < max(stride_%s, dilation_%s) = %lld "
                               "(output padding must be smaller than either stride or dilation)",
                               o[i].name, (long long)o[i].op, o[i].axis, o[i].axis,
                               (long long)lim);
    }
    /* The input after the parameters: conv1d's input channels are its in_channels. */
    if ((st = clconv_validate_shape(ctx, in, "input")))
        return st;
    if ((st = clconv_check_groups(ctx, p->in_channels, p->out_channels, p->groups, in)))
        return st;
    if (in->h > CLCONV_MAX_DIM || in->w > CLCONV_MAX_DIM)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "input %lldx%lld, expected each side <= %lld", (long long)in->h,
                           (long long)in->w, (long long)CLCONV_MAX_DIM);
    int64_t oh = ct_axis_out(in->h, p->kernel_h, p->stride_h, p->pad_h, p->output_padding_h,
                             p->dilation_h);
    int64_t ow = ct_axis_out(in->w, p->kernel_w, p->stride_w, p->pad_w, p->output_padding_w,
                             p->dilation_w);
    if (oh <= 0 || ow <= 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "no output: input %lldx%lld gives a %lldx%lld output "
                           "((H-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1); "
                           "padding (%lld, %lld) is too large",
                           (long long)in->h, (long long)in->w, (long long)oh, (long long)ow,
                           (long long)p->pad_h, (long long)p->pad_w);
    clconv_shape os = {in->n, p->out_channels, oh, ow};
    clconv_shape wshape = clconv_conv_transpose2d_weight_shape(p);
    size_t bytes;
    if ((st = clconv_tensor_bytes(ctx, "output", &os, sizeof(float), &bytes)) ||
        (st = clconv_tensor_bytes(ctx, "weight", &wshape, sizeof(float), &bytes)))
        return st;
    if (out)
        *out = os;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv_transpose2d_validate(const clconv_conv_transpose2d_params *params,
                                               const clconv_shape *input)
{
    return clconv_conv_transpose2d_check(NULL, params, input, NULL);
}

clconv_status clconv_conv_transpose2d_output_shape(const clconv_conv_transpose2d_params *params,
                                                   const clconv_shape *input,
                                                   clconv_shape *output)
{
    if (!output)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "output: NULL, expected a pointer");
    return clconv_conv_transpose2d_check(NULL, params, input, output);
}

clconv_shape clconv_conv_transpose2d_weight_shape(const clconv_conv_transpose2d_params *p)
{
    clconv_shape s = {0, 0, 0, 0};
    if (p && p->groups > 0) {
        s.n = p->in_channels;
        s.c = p->out_channels / p->groups;
        s.h = p->kernel_h;
        s.w = p->kernel_w;
    }
    return s;
}

clconv_conv_transpose2d_params clconv_conv_transpose2d_default_params(int64_t in_channels,
                                                                      int64_t out_channels,
                                                                      int64_t kernel_h,
                                                                      int64_t kernel_w)
{
    clconv_conv_transpose2d_params p;
    memset(&p, 0, sizeof p);
    p.in_channels = in_channels;
    p.out_channels = out_channels;
    p.kernel_h = kernel_h;
    p.kernel_w = kernel_w;
    p.stride_h = p.stride_w = 1;
    p.dilation_h = p.dilation_w = 1;
    p.groups = 1;
    return p;
}

/* ---- plans ---------------------------------------------------------------- */

/* Operator data of a plan. */
typedef struct ct_data {
    int wg_w, wg_h, bw, boc;      /* gather tile */
    int oc_blocks;
    /* GEMM algorithm */
    size_t m, hw, k;              /* cols = [m, hw] = W_g^T [m, k] x X_g [k, hw] */
    int64_t chunk;                /* images per col2im launch (workspace holds their columns) */
    bool out_of_order;            /* the queue needs barriers between dependent steps */
    /* vector algorithm */
    int vec, rh;                  /* channel lanes, phase rows per work-item (bw: columns) */
    cl_mem packed;                /* weights as [g][channel block][ci][kh][kw][VEC] */
    cl_kernel pack;               /* conv_transpose2d_pack */
    size_t pack_global;
} ct_data;

static void ct_destroy(clconv_plan *plan)
{
    ct_data *d = plan->op_data;
    if (d) {
        if (d->packed)
            clReleaseMemObject(d->packed);
        if (d->pack)
            clReleaseKernel(d->pack);
    }
    free(plan->op_data);
    plan->op_data = NULL;
}

/* Largest workspace the GEMM algorithm asks for by itself. */
#define CT_WORKSPACE_CAP ((size_t)256 << 20)

static clconv_status ct_tile(clconv_context *ctx, const clconv_plan_options *o, ct_data *d,
                             int64_t phase_w, int64_t phase_h, int64_t cout_g)
{
    bool cpu = clconv_context_is_cpu_family(ctx);
    d->wg_w = cpu ? 8 : 16;
    d->wg_h = cpu ? 1 : 4;
    d->bw = 2;
    d->boc = cpu ? 8 : 4;
    /* Shrink a tile that would be mostly idle, in coarse steps: every distinct
     * tile is another program to compile (and to cache). */
    if (phase_w <= d->wg_w)
        d->bw = 1;
    while (d->wg_w > 4 && d->wg_w / 2 >= phase_w)
        d->wg_w /= 2;
    while (d->wg_h > 1 && d->wg_h / 2 >= phase_h)
        d->wg_h /= 2;
    if (cout_g == 1)
        d->boc = 1; /* depthwise-like: a channel block would be all padding */
    else if (cout_g <= 4 && d->boc > 4)
        d->boc = 4;
    /* Wide outputs: reuse each weight over more columns; narrow ones with
     * many channels: reuse each input over more channels. */
    if (phase_w >= 4 * d->wg_w)
        d->bw = 4;
    else if (d->bw == 1 && cout_g >= 16 && d->boc == 8)
        d->boc = 16;
    if (!o)
        return CLCONV_SUCCESS;
    struct {
        const char *name;
        int v, max;
        int *dst;
    } f[] = {
        {"options.wg_w", o->wg_w, 1024, &d->wg_w},
        {"options.wg_h", o->wg_h, 1024, &d->wg_h},
        {"options.block_w", o->block_w, 16, &d->bw},
        {"options.block_oc", o->block_oc, 16, &d->boc},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v == 0)
            continue;
        if (f[i].v < 0 || f[i].v > f[i].max)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "%s = %d, expected 0 (default) or 1..%d", f[i].name, f[i].v,
                               f[i].max);
        *f[i].dst = f[i].v;
    }
    if (o->wg_oc < 0 || o->wg_oc > 1)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "options.wg_oc = %d, expected 0 or 1 for conv_transpose2d (its "
                           "work-groups have no channel lane; use block_oc)", o->wg_oc);
    if (o->ci_chunk < 0 || o->ci_chunk > 1)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "options.ci_chunk = %d, expected 0 or 1 for conv_transpose2d (no "
                           "local-memory staging)", o->ci_chunk);
    return CLCONV_SUCCESS;
}

/* extra: more -D options (the vector variants'), or NULL. The vector
 * variants take bias and ReLU as runtime arguments: with extra set,
 * HAS_BIAS and RELU are 0 so the epilogue does not split their programs. */
static clconv_status ct_build(clconv_plan *plan, const clconv_conv_transpose2d_params *p,
                              const char *name, int wg_w, int wg_h, int bw, int boc,
                              const char *extra)
{
    snprintf(plan->info.build_options, sizeof plan->info.build_options,
             "-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld -DHAS_BIAS=%d "
             "-DRELU=%d -DWG_W=%d -DWG_H=%d -DBW=%d -DBOC=%d%s%s",
             (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
             (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w,
             !extra && p->has_bias ? 1 : 0,
             !extra && p->activation == CLCONV_ACTIVATION_RELU ? 1 : 0, wg_w, wg_h, bw, boc,
             extra ? " " : "", extra ? extra : "");
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s", name);
    if (plan->kernel) {
        clReleaseKernel(plan->kernel);
        plan->kernel = NULL;
    }
    return clconv_get_kernel(plan->ctx, "conv_transpose2d", name, plan->info.build_options,
                             &plan->kernel);
}

static size_t round_up(size_t a, size_t b)
{
    return (a + b - 1) / b * b;
}

static clconv_status ct_plan_gather(clconv_plan *plan, ct_data *d,
                                    const clconv_conv_transpose2d_params *p,
                                    const clconv_shape *in, const clconv_shape *out,
                                    const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cout_g = p->out_channels / p->groups;
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    int64_t phase_h = (out->h + p->stride_h - 1) / p->stride_h;
    clconv_status st = ct_tile(ctx, opts, d, phase_w, phase_h, cout_g);
    if (st)
        return st;
    const char *name = "conv_transpose2d_gather";
    size_t limit = 0; /* the compiled kernel's, once known */
    for (int attempt = 0;; attempt++) {
        int wg[3] = {d->wg_w, d->wg_h, 1};
        if ((st = clconv_fit_work_group(ctx, limit, wg, (const int[3]){1, 0, 2},
                                        opts && (opts->wg_w || opts->wg_h) ? "options.wg_w/wg_h"
                                                                           : NULL)))
            return st;
        d->wg_w = wg[0], d->wg_h = wg[1];
        if ((st = ct_build(plan, p, name, d->wg_w, d->wg_h, d->bw, d->boc, NULL)))
            return st;
        size_t items = (size_t)d->wg_w * d->wg_h;
        if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
            return st;
        if (items <= limit)
            break;
        if (attempt > 8 || items == 1)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "%s: the compiled kernel allows %zu work-items per group, the "
                               "smallest tile needs %zu", name, limit, items);
    }
    int64_t tile_j = (int64_t)d->wg_w * d->bw;
    d->oc_blocks = (int)((cout_g + d->boc - 1) / d->boc);
    double z = (double)in->n * (double)p->groups * d->oc_blocks * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-groups along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    plan->work_dim = 3;
    plan->info.local_size[0] = (size_t)d->wg_w;
    plan->info.local_size[1] = (size_t)d->wg_h;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = (size_t)((phase_w + tile_j - 1) / tile_j) * (size_t)d->wg_w;
    plan->info.global_size[1] = round_up((size_t)phase_h, (size_t)d->wg_h);
    plan->info.global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    cl_int args[] = {(cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w,
                     (cl_int)p->groups, (cl_int)p->pad_h, (cl_int)p->pad_w,
                     (cl_int)d->oc_blocks};
    return clconv_plan_set_ints(plan, plan->kernel, 4, args, sizeof args / sizeof args[0]);
}

static int64_t ct_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Phase columns per work-item: a divisor of the phase width between 8 and 16
 * when there is one (no ragged edge block), else 16 (or the whole width). */
static int ct_vector_block_w(int64_t phase_w)
{
    if (phase_w <= 16)
        return (int)phase_w;
    for (int bw = 16; bw >= 8; bw--)
        if (phase_w % bw == 0)
            return bw;
    return 16;
}

/* The vector variant (kernels/conv_transpose2d.cl, CT_VECTOR): tile choice,
 * the packed-weight buffer and its repack kernel, launch sizes, arguments. */
static clconv_status ct_plan_vector(clconv_plan *plan, ct_data *d,
                                    const clconv_conv_transpose2d_params *p,
                                    const clconv_shape *in, const clconv_shape *out,
                                    const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    int64_t phase_h = (out->h + p->stride_h - 1) / p->stride_h;
    /* Every gather override is validated the same way, even those unused here
     * (wg_w: one work-item per column block). */
    clconv_status st = ct_tile(ctx, opts, d, phase_w, phase_h, cout_g);
    if (st)
        return st;
    d->vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (d->vec > 4 && cout_g <= d->vec / 2)
        d->vec /= 2;
    d->bw = ct_vector_block_w(phase_w);
    d->wg_w = 1;
    d->wg_h = 4;
    if (opts) {
        if (opts->block_oc != 0 && opts->block_oc != 4 && opts->block_oc != 8 &&
            opts->block_oc != 16)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_oc = %d, expected 0 (default), 4, 8 or 16 for "
                               "transposed-vector (channels per SIMD vector)", opts->block_oc);
        if (opts->block_oc)
            d->vec = opts->block_oc;
        if (opts->block_w)
            d->bw = opts->block_w;
        if (opts->wg_h)
            d->wg_h = opts->wg_h;
    }
    /* Phase rows per work-item: about 16 accumulators (RH x BW) per item. */
    d->rh = d->bw >= 16 ? 1 : 16 / d->bw;
    if (d->rh > 4)
        d->rh = 4;
    size_t row_items = (size_t)((phase_h + d->rh - 1) / d->rh);
    if (!opts || !opts->wg_h)
        while (d->wg_h > 1 && (size_t)d->wg_h / 2 >= row_items)
            d->wg_h /= 2;
    int wg[3] = {1, d->wg_h, 1};
    if ((st = clconv_fit_work_group(ctx, 0, wg, (const int[3]){1, 0, 2},
                                    opts && opts->wg_h ? "options.wg_h" : NULL)))
        return st;
    d->wg_h = wg[1];
    int64_t ocbs = (cout_g + d->vec - 1) / d->vec;
    size_t packed = 0;
    if (!clconv_mul_size((size_t)(p->groups * ocbs * cin_g), (size_t)(p->kernel_h * p->kernel_w),
                         &packed) ||
        !clconv_mul_size(packed, (size_t)d->vec, &packed) || packed > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "transposed-vector: packed weights (%lld channel blocks of %d) exceed "
                           "the kernels' 32-bit indexing; use transposed-gather",
                           (long long)(p->groups * ocbs), d->vec);
    double z = (double)in->n * (double)p->groups * (double)ocbs * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    char extra[96];
    snprintf(extra, sizeof extra, "-DCT_VECTOR -DVEC=%d -DRH=%d -DSTEP_H=%lld -DSTEP_W=%lld",
             d->vec, d->rh, (long long)(p->stride_h / ct_gcd(p->stride_h, p->dilation_h)),
             (long long)(p->stride_w / ct_gcd(p->stride_w, p->dilation_w)));
    /* The gather-only constants are fixed so they never split the program cache. */
    if ((st = ct_build(plan, p, "conv_transpose2d_vector", 1, 1, d->bw, 1, extra)))
        return st;
    size_t limit;
    if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    while ((size_t)d->wg_h > limit && d->wg_h > 1)
        d->wg_h /= 2;
    if ((st = clconv_buffer_create(ctx, packed * sizeof(float), NULL, &d->packed,
                                   "packed weights")))
        return st;
    cl_program prog;
    if ((st = clconv_get_program(ctx, "conv_transpose2d", plan->info.build_options, &prog)))
        return st;
    cl_int err;
    d->pack = clCreateKernel(prog, "conv_transpose2d_pack", &err);
    if (err != CL_SUCCESS) {
        d->pack = NULL;
        return clconv_fail_cl(ctx, err, "clCreateKernel(conv_transpose2d_pack)");
    }
    d->pack_global = packed;
    cl_int pack_args[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups};
    if ((st = clconv_set_arg(ctx, d->pack, 1, sizeof(cl_mem), &d->packed,
                             "conv_transpose2d_pack")))
        return st;
    for (cl_uint i = 0; i < 3; i++)
        if ((st = clconv_set_arg(ctx, d->pack, 2 + i, sizeof(cl_int), &pack_args[i],
                                 "conv_transpose2d_pack")))
            return st;
    if ((st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &d->packed,
                             "conv_transpose2d_vector")))
        return st;
    plan->ordered = true; /* every run repacks into d->packed */
    plan->work_dim = 3;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = (size_t)d->wg_h;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = (size_t)((phase_w + d->bw - 1) / d->bw);
    plan->info.global_size[1] = round_up(row_items, (size_t)d->wg_h);
    plan->info.global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    plan->info.plan_device_bytes = packed * sizeof(float);
    cl_int args[] = {(cl_int)in->n, (cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups,
                     (cl_int)p->pad_h, (cl_int)p->pad_w, p->has_bias ? 1 : 0,
                     p->activation == CLCONV_ACTIVATION_RELU ? 1 : 0};
    return clconv_plan_set_ints(plan, plan->kernel, 4, args, sizeof args / sizeof args[0]);
}

/* The columns variant (kernels/conv_transpose2d.cl, CT_COLUMNS): output
 * columns in SIMD lanes for layers with few output channels per group. */
static clconv_status ct_plan_columns(clconv_plan *plan, ct_data *d,
                                     const clconv_conv_transpose2d_params *p,
                                     const clconv_shape *in, const clconv_shape *out,
                                     const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    int64_t cout_g = p->out_channels / p->groups;
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    int64_t phase_h = (out->h + p->stride_h - 1) / p->stride_h;
    clconv_status st = ct_tile(ctx, opts, d, phase_w, phase_h, cout_g);
    if (st)
        return st;
    d->vec = ctx->preferred_float_width >= 16 ? 16 : ctx->preferred_float_width >= 8 ? 8 : 4;
    while (d->vec > 4 && d->vec / 2 >= phase_w)
        d->vec /= 2;
    d->boc = cout_g < 4 ? (int)cout_g : 4;
    d->rh = 4;
    d->wg_w = 1;
    d->wg_h = 4;
    if (opts) {
        if (opts->block_w > 4)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..4 for "
                               "transposed-columns (vectors of columns per work-item)",
                               opts->block_w);
        if (opts->block_oc)
            d->boc = opts->block_oc;
    }
    /* Vectors per row: about 16 accumulators (BOC x RH x BV) per item. */
    d->bw = 16 / (d->boc * d->rh) > 1 ? 16 / (d->boc * d->rh) : 1;
    if (d->bw > 4)
        d->bw = 4;
    while (d->bw > 1 && (int64_t)(d->bw / 2) * d->vec >= phase_w)
        d->bw /= 2;
    if (opts && opts->block_w)
        d->bw = opts->block_w;
    size_t row_items = (size_t)((phase_h + d->rh - 1) / d->rh);
    if (opts && opts->wg_h)
        d->wg_h = opts->wg_h;
    else
        while (d->wg_h > 1 && (size_t)d->wg_h / 2 >= row_items)
            d->wg_h /= 2;
    int wg[3] = {1, d->wg_h, 1};
    if ((st = clconv_fit_work_group(ctx, 0, wg, (const int[3]){1, 0, 2},
                                    opts && opts->wg_h ? "options.wg_h" : NULL)))
        return st;
    d->wg_h = wg[1];
    int64_t ocbs = (cout_g + d->boc - 1) / d->boc;
    double z = (double)in->n * (double)p->groups * (double)ocbs * (double)p->stride_h *
               (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2 (images x groups x channel blocks "
                           "x stride phases), expected <= %d", z, INT32_MAX);
    char extra[112];
    snprintf(extra, sizeof extra,
             "-DCT_VECTOR -DCT_COLUMNS -DVEC=%d -DRH=%d -DBV=%d -DSTEP_H=%lld -DSTEP_W=%lld",
             d->vec, d->rh, d->bw, (long long)(p->stride_h / ct_gcd(p->stride_h, p->dilation_h)),
             (long long)(p->stride_w / ct_gcd(p->stride_w, p->dilation_w)));
    if ((st = ct_build(plan, p, "conv_transpose2d_columns", 1, 1, 1, d->boc, extra)))
        return st;
    size_t limit;
    if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    while ((size_t)d->wg_h > limit && d->wg_h > 1)
        d->wg_h /= 2;
    plan->work_dim = 3;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = (size_t)d->wg_h;
    plan->info.local_size[2] = 1;
    int64_t cols = (int64_t)d->vec * d->bw;
    plan->info.global_size[0] = (size_t)((phase_w + cols - 1) / cols);
    plan->info.global_size[1] = round_up(row_items, (size_t)d->wg_h);
    plan->info.global_size[2] = (size_t)z;
    plan->info.workspace_bytes = 0;
    cl_int args[] = {(cl_int)in->n, (cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups,
                     (cl_int)p->pad_h, (cl_int)p->pad_w, p->has_bias ? 1 : 0,
                     p->activation == CLCONV_ACTIVATION_RELU ? 1 : 0};
    return clconv_plan_set_ints(plan, plan->kernel, 4, args, sizeof args / sizeof args[0]);
}

/* The col2im launch size for `images` images. */
static void ct_col2im_sizes(const clconv_plan *plan, const ct_data *d, int64_t images,
                            size_t global[3], size_t local[3])
{
    const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
    const clconv_shape *out = &plan->info.output;
    size_t phase_w = (size_t)((out->w + p->stride_w - 1) / p->stride_w);
    size_t phase_h = (size_t)((out->h + p->stride_h - 1) / p->stride_h);
    local[0] = (size_t)d->wg_w;
    local[1] = local[2] = 1;
    global[0] = round_up(phase_w, (size_t)d->wg_w);
    global[1] = phase_h;
    global[2] = (size_t)images * (size_t)out->c * (size_t)(p->stride_h * p->stride_w);
}

static clconv_status ct_plan_gemm(clconv_plan *plan, ct_data *d,
                                  const clconv_conv_transpose2d_params *p,
                                  const clconv_shape *in, const clconv_shape *out)
{
    clconv_context *ctx = plan->ctx;
    int64_t cout_g = p->out_channels / p->groups, cin_g = p->in_channels / p->groups;
    d->m = (size_t)(cout_g * p->kernel_h * p->kernel_w);
    d->k = (size_t)cin_g;
    d->hw = (size_t)(in->h * in->w);
    size_t per_image = 0; /* bytes of the columns of one image, all groups */
    if (!clconv_mul_size(d->m, d->hw, &per_image) ||
        !clconv_mul_size(per_image, (size_t)p->groups, &per_image) ||
        !clconv_mul_size(per_image, sizeof(float), &per_image) ||
        per_image / sizeof(float) > CLCONV_MAX_DEVICE_ELEMENTS ||
        per_image > (size_t)ctx->max_alloc)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "transposed-gemm: the columns of one image (%zu x %zu floats per "
                           "group, %lld groups) exceed the device's largest buffer of %llu "
                           "bytes; use transposed-gather",
                           d->m, d->hw, (long long)p->groups,
                           (unsigned long long)ctx->max_alloc);
    size_t cap = CT_WORKSPACE_CAP < (size_t)ctx->max_alloc ? CT_WORKSPACE_CAP
                                                           : (size_t)ctx->max_alloc;
    size_t lim;
    clconv_status lst = clconv_workspace_env_limit(ctx, &lim);
    if (lst)
        return lst;
    if (lim != SIZE_MAX) {
        if (lim < per_image)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "transposed-gemm: the columns of one image need %zu bytes of "
                               "workspace, CLCONV_WORKSPACE_LIMIT = %zu; use transposed-gather",
                               per_image, lim);
        if (lim < cap)
            cap = (size_t)lim;
    }
    int64_t chunk = (int64_t)(cap / per_image);
    if (chunk < 1)
        chunk = 1;
    if (chunk > in->n)
        chunk = in->n;
    d->chunk = chunk;
    plan->info.workspace_bytes = per_image * (size_t)chunk;

    /* col2im: a 1-D row of work-items along the phase columns. */
    int64_t phase_w = (out->w + p->stride_w - 1) / p->stride_w;
    d->wg_w = clconv_context_is_cpu_family(ctx) ? 8 : 64;
    while (d->wg_w > 8 && d->wg_w / 2 >= phase_w)
        d->wg_w /= 2;
    d->wg_h = d->bw = d->boc = 1;
    const char *name = "conv_transpose2d_col2im";
    clconv_status st;
    size_t limit = 0; /* the compiled kernel's, once known */
    for (int attempt = 0;; attempt++) {
        int wg[3] = {d->wg_w, 1, 1};
        if ((st = clconv_fit_work_group(ctx, limit, wg, (const int[3]){0, 1, 2}, NULL)))
            return st;
        d->wg_w = wg[0];
        if ((st = ct_build(plan, p, name, d->wg_w, 1, 1, 1, NULL)))
            return st;
        if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
            return st;
        if ((size_t)d->wg_w <= limit)
            break;
        if (attempt > 8 || d->wg_w == 1)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "%s: the compiled kernel allows %zu work-items per group", name,
                               limit);
    }
    double z = (double)chunk * (double)out->c * (double)p->stride_h * (double)p->stride_w;
    if (z > (double)INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "%.0f work-items along dimension 2, expected <= %d", z, INT32_MAX);
    plan->work_dim = 3;
    ct_col2im_sizes(plan, d, chunk, plan->info.global_size, plan->info.local_size);

    d->out_of_order = ctx->out_of_order;

    cl_int args[] = {(cl_int)in->h, (cl_int)in->w, (cl_int)out->c, (cl_int)out->h,
                     (cl_int)out->w, (cl_int)p->groups, (cl_int)p->pad_h, (cl_int)p->pad_w};
    return clconv_plan_set_ints(plan, plan->kernel, 3, args, sizeof args / sizeof args[0]);
}

clconv_status clconv_conv_transpose2d_plan_create(clconv_context *ctx,
                                                  const clconv_conv_transpose2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_plan_options *options,
                                                  clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_shape oshape;
    clconv_status st = clconv_conv_transpose2d_check(ctx, params, input, &oshape);
    if (st)
        return st;
    return clconv_conv_transpose2d_plan_shaped(ctx, params, input, &oshape, options,
                                               CLCONV_OP_CONV_TRANSPOSE2D, out);
}

/* What AUTO picks: on CPU devices the vector variant, or the columns one when a
 * group has too few output channels to fill 8 lanes (both beat the gather and
 * CLBlast's SGEMM + col2im on every DCGAN and ResNet-50 backward-data layer
 * measured with PoCL); the gather elsewhere. */
static clconv_algorithm ct_auto(const clconv_context *ctx,
                                const clconv_conv_transpose2d_params *p)
{
    if (clconv_context_is_cpu_family(ctx))
        return p->out_channels / p->groups < 8 ? CLCONV_ALGO_TRANSPOSED_COLUMNS
                                               : CLCONV_ALGO_TRANSPOSED_VECTOR;
    return CLCONV_ALGO_TRANSPOSED_GATHER;
}

clconv_status clconv_conv_transpose2d_plan_shaped(clconv_context *ctx,
                                                  const clconv_conv_transpose2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_shape *output,
                                                  const clconv_plan_options *options,
                                                  clconv_op op, clconv_plan **out)
{
    clconv_status st;
    const clconv_shape oshape = *output;
    clconv_algorithm algo = options ? options->algorithm : CLCONV_ALGO_AUTO;
    if (algo == CLCONV_ALGO_AUTO)
        algo = ct_auto(ctx, params);
    if (algo != CLCONV_ALGO_TRANSPOSED_GATHER && algo != CLCONV_ALGO_TRANSPOSED_GEMM &&
        algo != CLCONV_ALGO_TRANSPOSED_VECTOR && algo != CLCONV_ALGO_TRANSPOSED_COLUMNS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected auto, transposed-gather, "
                           "transposed-vector, transposed-columns or transposed-gemm for "
                           "conv_transpose2d",
                           clconv_algorithm_name(algo));
    clconv_shape wshape = clconv_conv_transpose2d_weight_shape(params);
    size_t nx = clconv_shape_elements_checked(input), ny = clconv_shape_elements_checked(&oshape);
    size_t nw = clconv_shape_elements_checked(&wshape);
    if ((st = clconv_check_device_tensor(ctx, "input", nx, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "weight", nw, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, sizeof(float))))
        return st;
    /* The kernels do their index arithmetic in 32-bit ints. */
    const int64_t span_h = params->dilation_h * (params->kernel_h - 1) + params->pad_h +
                           params->stride_h + oshape.h;
    const int64_t span_w = params->dilation_w * (params->kernel_w - 1) + params->pad_w +
                           params->stride_w + oshape.w;
    if (span_h > INT32_MAX || span_w > INT32_MAX ||
        params->kernel_h * params->kernel_w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "kernel %lldx%lld, dilation %lldx%lld, padding %lldx%lld: index "
                           "arithmetic would overflow the kernels' 32-bit ints",
                           (long long)params->kernel_h, (long long)params->kernel_w,
                           (long long)params->dilation_h, (long long)params->dilation_w,
                           (long long)params->pad_h, (long long)params->pad_w);
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, op, &plan)))
        return st;
    ct_data *d = calloc(1, sizeof *d);
    if (!d) {
        clconv_plan_destroy(plan);
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    }
    plan->op_data = d;
    plan->destroy_op = ct_destroy;
    plan->params.conv_transpose2d = *params;
    plan->info.algorithm = algo;
    plan->info.input = *input;
    plan->info.output = oshape;
    plan->x_bytes = nx * sizeof(float);
    plan->w_bytes = nw * sizeof(float);
    plan->b_bytes = params->has_bias ? (size_t)params->out_channels * sizeof(float) : 0;
    plan->y_bytes = ny * sizeof(float);
    /* Every input value meets every weight of its group once (padding aside). */
    plan->info.flops = 2.0 * (double)nx * (double)wshape.c * (double)wshape.h * (double)wshape.w;
    plan->info.bytes = (double)(plan->x_bytes + plan->w_bytes + plan->b_bytes + plan->y_bytes);
    if (algo == CLCONV_ALGO_TRANSPOSED_GATHER)
        st = ct_plan_gather(plan, d, params, input, &oshape, options);
    else if (algo == CLCONV_ALGO_TRANSPOSED_VECTOR)
        st = ct_plan_vector(plan, d, params, input, &oshape, options);
    else if (algo == CLCONV_ALGO_TRANSPOSED_COLUMNS)
        st = ct_plan_columns(plan, d, params, input, &oshape, options);
    else
        st = ct_plan_gemm(plan, d, params, input, &oshape);
    if (st) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

/* ---- running -------------------------------------------------------------- */

static clconv_status ct_barrier(clconv_context *ctx, cl_uint n, const cl_event *ev)
{
    cl_int err = clEnqueueBarrierWithWaitList(ctx->queue, n, ev, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(ctx, err, "clEnqueueBarrierWithWaitList");
    return CLCONV_SUCCESS;
}

/* GEMM + col2im, chunk by chunk of images. Called with the plan locked. */
static clconv_status ct_run_gemm(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                 cl_mem ws, cl_uint num_wait, const cl_event *wait_list,
                                 cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    const ct_data *d = plan->op_data;
    const clconv_conv_transpose2d_params *p = &plan->params.conv_transpose2d;
    const clconv_shape *in = &plan->info.input;
    clconv_status st;
    /* CLBlast takes no wait list: a barrier holds everything behind the events. */
    if (num_wait > 0 && (st = ct_barrier(ctx, num_wait, wait_list)))
        return st;
    cl_command_queue q = ctx->queue;
    const size_t groups = (size_t)p->groups;
    const size_t a_group = d->k * d->m;                 /* weights of one group */
    const size_t b_image = (size_t)in->c * d->hw;       /* one input image */
    const size_t c_entry = d->m * d->hw;                /* cols of one (image, group) */
    cl_mem args[3] = {ws, b, y};
    const char *names[3] = {"workspace", "b", "y"};
    for (cl_uint i = 0; i < 3; i++)
        if ((st = clconv_set_arg(ctx, plan->kernel, i, sizeof(cl_mem), args[i] ? &args[i] : NULL,
                                 names[i])))
            return st;
    for (int64_t n0 = 0; n0 < in->n; n0 += d->chunk) {
        int64_t images = in->n - n0 < d->chunk ? in->n - n0 : d->chunk;
        if (n0 > 0 && d->out_of_order && (st = ct_barrier(ctx, 0, NULL)))
            return st; /* the previous col2im still reads the workspace */
        for (int64_t nl = 0; nl < images; nl++) {
            for (size_t g = 0; g < groups; g++) {
                pthread_mutex_lock(&clconv_clblast_lock);
                CLBlastStatusCode cs = CLBlastSgemm(
                    CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, d->m, d->hw,
                    d->k, 1.0f, w, g * a_group, d->m, x,
                    (size_t)(n0 + nl) * b_image + g * d->k * d->hw, d->hw, 0.0f, ws,
                    ((size_t)nl * groups + g) * c_entry, d->hw, &q, NULL);
                pthread_mutex_unlock(&clconv_clblast_lock);
                if (cs != CLBlastSuccess)
                    return clconv_fail(ctx, CLCONV_ERROR_CLBLAST,
                                       "CLBlastSgemm(m=%zu, n=%zu, k=%zu, image %lld, group "
                                       "%zu) returned %d", d->m, d->hw, d->k,
                                       (long long)(n0 + nl), g, (int)cs);
            }
        }
        if (d->out_of_order && (st = ct_barrier(ctx, 0, NULL)))
            return st;
        size_t global[3], local[3];
        ct_col2im_sizes(plan, d, images, global, local);
        cl_int n0i = (cl_int)n0;
        if ((st = clconv_set_arg(ctx, plan->kernel, 11, sizeof n0i, &n0i, "n0")))
            return st;
        bool last = n0 + images >= in->n;
        cl_int err = clEnqueueNDRangeKernel(q, plan->kernel, 3, NULL, global, local, 0, NULL,
                                            last ? done : NULL);
        if (err != CL_SUCCESS) {
            if (done)
                *done = NULL;
            return clconv_fail_cl(ctx, err, "clEnqueueNDRangeKernel(conv_transpose2d_col2im)");
        }
    }
    return CLCONV_SUCCESS;
}

/* Repacks the weights, then runs the vector kernel after it. Called with the
 * plan locked. The packed weights are the plan's: runs are ordered
 * (clconv_run_begin / _end). */
static clconv_status ct_run_vector(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                   cl_uint num_wait, const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    ct_data *d = plan->op_data;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((st = clconv_set_arg(ctx, d->pack, 0, sizeof(cl_mem), &w, "conv_transpose2d_pack")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &x,
                             "conv_transpose2d_vector")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), b ? &b : NULL,
                             "conv_transpose2d_vector")) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &y,
                             "conv_transpose2d_vector"))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL, ran = NULL;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->pack, 1, NULL, &d->pack_global, NULL,
                                        waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv_transpose2d_pack)"),
                              NULL, done);
    /* The event orders the two on out-of-order queues too. */
    st = clconv_plan_enqueue(plan, 1, &packed,
                             done || clconv_run_wants_event(plan) ? &ran : NULL);
    clReleaseEvent(packed);
    return clconv_run_end(plan, st, ran, done);
}

clconv_status clconv_conv_transpose2d_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                          cl_mem y, cl_mem workspace, cl_uint num_wait,
                                          const cl_event *wait_list, cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    clconv_context *ctx = plan->ctx;
    if (plan->op != CLCONV_OP_CONV_TRANSPOSE2D)
        return clconv_fail(ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_conv_transpose2d_run: the plan was made for another operator "
                           "(%s); expected a conv_transpose2d plan",
                           clconv_algorithm_name(plan->info.algorithm));
    return clconv_conv_transpose2d_enqueue(plan, x, w, b, y, workspace, num_wait, wait_list,
                                           done);
}

clconv_status clconv_conv_transpose2d_enqueue(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                              cl_mem y, cl_mem workspace, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    if (done)
        *done = NULL;
    if ((num_wait > 0) != (wait_list != NULL))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "num_wait = %u with wait_list %s: both must be given or neither",
                           num_wait, wait_list ? "set" : "NULL");
    clconv_status st = clconv_check_weighted_buffers(plan, x, w, b, y, "transposed convolution");
    if (st)
        return st;
    if (plan->info.workspace_bytes > 0 &&
        (st = clconv_check_buffer(ctx, workspace, plan->info.workspace_bytes, "workspace")))
        return st;
    if (workspace && plan->info.workspace_bytes > 0 &&
        (workspace == x || workspace == w || workspace == y || (b && workspace == b)))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "workspace: must not be the same buffer as x, w, b or y");
    pthread_mutex_lock(&plan->lock);
    if (plan->info.algorithm == CLCONV_ALGO_TRANSPOSED_GEMM) {
        st = ct_run_gemm(plan, x, w, b, y, workspace, num_wait, wait_list, done);
    } else if (plan->info.algorithm == CLCONV_ALGO_TRANSPOSED_VECTOR) {
        st = ct_run_vector(plan, x, w, b, y, num_wait, wait_list, done);
    } else {
        const cl_mem args[4] = {x, w, b, y};
        const char *const names[4] = {"x", "w", "b", "y"};
        st = clconv_plan_enqueue_buffers(plan, 4, args, names, num_wait, wait_list, done);
    }
    pthread_mutex_unlock(&plan->lock);
    return st;
}

clconv_status clconv_conv_transpose2d_host(clconv_context *ctx,
                                           const clconv_conv_transpose2d_params *params,
                                           const clconv_shape *input,
                                           const clconv_plan_options *options, const float *x,
                                           const float *w, const float *b, float *y)
{
    clconv_status st = clconv_host_check_arrays(ctx, x, w, b, y, params && params->has_bias);
    if (st)
        return st;
    clconv_plan *plan;
    if ((st = clconv_conv_transpose2d_plan_create(ctx, params, input, options, &plan)))
        return st;
    return clconv_host_run_weighted(plan, clconv_conv_transpose2d_run, x, w, b, y);
}

/* ---- conv_transpose1d: the same kernels with H = 1 ------------------------ */

clconv_conv_transpose2d_params
clconv_conv_transpose1d_as_conv_transpose2d(const clconv_conv_transpose1d_params *q)
{
    clconv_conv_transpose2d_params p;
    memset(&p, 0, sizeof p);
    if (!q)
        return p;
    p.in_channels = q->in_channels;
    p.out_channels = q->out_channels;
    p.kernel_h = 1;
    p.kernel_w = q->kernel;
    p.stride_h = 1;
    p.stride_w = q->stride;
    p.pad_h = 0;
    p.pad_w = q->padding;
    p.output_padding_h = 0;
    p.output_padding_w = q->output_padding;
    p.dilation_h = 1;
    p.dilation_w = q->dilation;
    p.groups = q->groups;
    p.has_bias = q->has_bias;
    p.activation = q->activation;
    return p;
}

clconv_status clconv_conv_transpose1d_output_length(const clconv_conv_transpose1d_params *params,
                                                    int64_t length, int64_t *out_length)
{
    if (!params || !out_length)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a pointer",
                           params ? "out_length" : "params");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {1, params->in_channels, 1, length}, out;
    clconv_status st = clconv_conv_transpose2d_check(NULL, &p, &in, &out);
    if (st)
        return st;
    *out_length = out.w;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv_transpose1d_plan_create(clconv_context *ctx,
                                                  const clconv_conv_transpose1d_params *params,
                                                  int64_t n, int64_t length,
                                                  const clconv_plan_options *options,
                                                  clconv_plan **out)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv_transpose2d_plan_create(ctx, &p, &in, options, out);
}

clconv_status clconv_conv_transpose1d_host(clconv_context *ctx,
                                           const clconv_conv_transpose1d_params *params,
                                           int64_t n, int64_t length,
                                           const clconv_plan_options *options, const float *x,
                                           const float *w, const float *b, float *y)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv_transpose2d_host(ctx, &p, &in, options, x, w, b, y);
}
