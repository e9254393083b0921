/* direct-tiled and direct-register: one work-item per block of output
 * columns x output channels of a row (kernels/conv2d.cl, CONV2D_TILED and
 * CONV2D_REGISTER). direct-tiled stages an input tile with its halo and the
 * block's weights in local memory (GPUs); direct-register reads global memory
 * straight into registers. Tile constants: WG_W x WG_H x WG_OC work-items
 * per group, BW columns and BOC channels per item, CI_CHUNK input channels
 * per local-memory step (tiled only). */
#include "../algo.h"

#include <stdio.h>
#include <string.h>

/* Local memory a tiled work-group uses, in bytes. */
static size_t tiled_local_bytes(const clconv_conv2d_params *p, const clconv_tile *t)
{
    size_t in_th = (size_t)(t->wg_h - 1) * p->stride_h + (size_t)(p->kernel_h - 1) * p->dilation_h + 1;
    size_t in_tw = (size_t)(t->wg_w * t->bw - 1) * p->stride_w +
                   (size_t)(p->kernel_w - 1) * p->dilation_w + 1;
    size_t in = (size_t)t->ci_chunk * in_th * in_tw;
    size_t wt = (size_t)t->wg_oc * t->boc * t->ci_chunk * p->kernel_h * p->kernel_w;
    return (in + wt) * sizeof(float);
}

/* Built-in defaults where the tuning database has no entry, per device
 * kind. Work-groups are whole warps (32, NVIDIA), wavefronts (64, AMD) or
 * SIMD-16 threads (Intel); CPUs want one row per work-item loop. Only the
 * PoCL CPU row has been measured; the GPU rows follow the vendors' guides
 * and wait for a tuning run on real hardware (find mode records the winners). */
static clconv_tile default_cfg(const clconv_context *ctx, clconv_algorithm algo)
{
    static const struct {
        const char *vendor; /* substring of CL_DEVICE_VENDOR, "" = any */
        cl_device_type type;
        clconv_tile tiled, reg;
    } table[] = {
        {"", CL_DEVICE_TYPE_CPU, {16, 4, 1, 2, 8, 4}, {16, 1, 1, 1, 8, 1}},
        {"NVIDIA", CL_DEVICE_TYPE_GPU, {16, 4, 4, 2, 4, 8}, {32, 4, 1, 2, 8, 1}},
        {"Advanced Micro Devices", CL_DEVICE_TYPE_GPU, {16, 4, 4, 2, 4, 8}, {64, 2, 1, 2, 8, 1}},
        {"AMD", CL_DEVICE_TYPE_GPU, {16, 4, 4, 2, 4, 8}, {64, 2, 1, 2, 8, 1}},
        {"Intel", CL_DEVICE_TYPE_GPU, {8, 4, 4, 2, 4, 8}, {16, 4, 1, 2, 8, 1}},
        {"", CL_DEVICE_TYPE_ALL, {16, 4, 4, 2, 4, 8}, {16, 4, 1, 2, 8, 1}},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if ((clconv_context_family_type(ctx) & table[i].type) && strstr(ctx->vendor, table[i].vendor))
            return algo == CLCONV_ALGO_DIRECT_REGISTER ? table[i].reg : table[i].tiled;
    return algo == CLCONV_ALGO_DIRECT_REGISTER ? table[5].reg : table[5].tiled;
}

/* Shrinks a tile that would be mostly idle on a small output. */
static void fit_to_shape(clconv_tile *t, int64_t oh, int64_t ow, int64_t cout_g, int64_t cin_g)
{
    while (t->bw > 1 && (int64_t)t->wg_w * t->bw / 2 >= ow)
        t->bw /= 2;
    while (t->wg_w > 1 && (int64_t)t->wg_w * t->bw / 2 >= ow)
        t->wg_w /= 2;
    while (t->wg_h > 1 && t->wg_h / 2 >= oh)
        t->wg_h /= 2;
    while (t->boc > 1 && (int64_t)t->wg_oc * t->boc / 2 >= cout_g)
        t->boc /= 2;
    while (t->wg_oc > 1 && (int64_t)t->wg_oc * t->boc / 2 >= cout_g)
        t->wg_oc /= 2;
    if (t->ci_chunk > cin_g)
        t->ci_chunk = (int)cin_g;
}

/* Shrinks a tiled configuration until it fits the local-memory budget;
 * false when even the smallest tile does not fit. */
static bool fit_local(const clconv_conv2d_params *p, clconv_tile *t, size_t budget)
{
    while (tiled_local_bytes(p, t) > budget) {
        if (t->ci_chunk > 1)
            t->ci_chunk /= 2;
        else if (t->wg_h > 1)
            t->wg_h /= 2;
        else if (t->bw > 1)
            t->bw /= 2;
        else if (t->wg_w > 1)
            t->wg_w /= 2;
        else if (t->boc > 1)
            t->boc /= 2;
        else if (t->wg_oc > 1)
            t->wg_oc /= 2;
        else
            return false;
    }
    return true;
}

static size_t local_budget(const clconv_context *ctx)
{
    /* Stay well inside the device's local memory (PoCL reports its L2 size,
     * and a full work-group's worth leaves no room for the driver's own use). */
    size_t lm = (size_t)ctx->local_mem_size;
    size_t cap = 32 * 1024;
    return (lm < cap ? lm : cap) - 256;
}


/* Builds the tiled (tiled = true) or register kernel with the device's
 * default tile fitted to the shape and the caller's overrides; halves the
 * work-group while the compiled kernel allows fewer items than it has. */
static clconv_status direct_plan(clconv_plan *plan, const clconv_plan_options *opts, bool tiled)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    const clconv_algorithm algo = tiled ? CLCONV_ALGO_DIRECT_TILED : CLCONV_ALGO_DIRECT_REGISTER;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    clconv_tile t = default_cfg(ctx, algo);
    fit_to_shape(&t, out->h, out->w, cout_g, cin_g);
    clconv_status st = clconv_direct_overrides(ctx, opts, &t);
    if (st)
        return st;
    if (tiled && !fit_local(p, &t, local_budget(ctx)))
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-tiled: a 1x1 output tile with its halo needs %zu bytes of "
                           "local memory, the budget is %zu; use direct-register",
                           tiled_local_bytes(p, &t), local_budget(ctx));
    if (!tiled)
        t.ci_chunk = 1; /* unused there; keep the build options canonical */

    const char *name = tiled ? "conv2d_tiled" : "conv2d_register";
    size_t limit = 0; /* the compiled kernel's, once known */
    for (int attempt = 0;; attempt++) {
        int wg[3] = {t.wg_w, t.wg_h, t.wg_oc};
        if ((st = clconv_fit_work_group(ctx, limit, wg, (const int[3]){2, 1, 0},
                                        opts && (opts->wg_w || opts->wg_h || opts->wg_oc)
                                            ? "options.wg_w/wg_h/wg_oc" : NULL)))
            return st;
        t.wg_w = wg[0], t.wg_h = wg[1], t.wg_oc = wg[2];
        if ((st = clconv_direct_build(plan, &t, name, NULL)))
            return st;
        if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
            return st;
        size_t items = (size_t)t.wg_w * t.wg_h * t.wg_oc;
        if (items <= limit)
            break;
        if (attempt > 8 || items == 1)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "%s: the compiled kernel allows %zu work-items per group, the "
                               "smallest tile needs %zu", name, limit, items);
    }

    int64_t tile_ow = (int64_t)t.wg_w * t.bw, tile_oc = (int64_t)t.wg_oc * t.boc;
    int64_t oc_blocks = (cout_g + tile_oc - 1) / tile_oc;
    plan->work_dim = 3;
    plan->info.algorithm = algo;
    plan->local_size[0] = (size_t)t.wg_w;
    plan->local_size[1] = (size_t)t.wg_h;
    plan->local_size[2] = (size_t)t.wg_oc;
    plan->global_size[0] = (size_t)((out->w + tile_ow - 1) / tile_ow) * t.wg_w;
    plan->global_size[1] = (size_t)((out->h + t.wg_h - 1) / t.wg_h) * t.wg_h;
    plan->global_size[2] = (size_t)(in->n * p->groups * oc_blocks) * t.wg_oc;
    plan->info.local_mem_bytes = tiled ? tiled_local_bytes(p, &t) : 0;
    return clconv_direct_set_args(plan, in->h, in->w, -1);
}

static clconv_status tiled_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    return direct_plan(plan, opts, true);
}

static clconv_status register_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    return direct_plan(plan, opts, false);
}

const clconv_algo clconv_conv2d_direct_tiled = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_TILED, .f16 = true, .plan = tiled_plan,
    .run = clconv_run_one_kernel};
const clconv_algo clconv_conv2d_direct_register = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_REGISTER, .f16 = true,
    .plan = register_plan,
    .run = clconv_run_one_kernel};
