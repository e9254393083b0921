/* Activations (clconv_activation): names, PyTorch's default parameters,
 * validation, and the reference evaluation in double the CPU references use.
 * The device's are kernels/common.cl's clconv_activate (float, OpenCL's
 * built-in exp / tanh / erf); both follow torch.nn.functional's formulas
 * (include/clconv.h lists them). */
#include "algo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {"none",     "relu",        "relu6",     "hardtanh",
                                    "leaky_relu", "elu",       "sigmoid",   "tanh",
                                    "silu",     "hardsigmoid", "hardswish", "gelu",
                                    "gelu_tanh", "mish"};
#define NAMES ((int)(sizeof names / sizeof names[0]))

const char *clconv_activation_name(clconv_activation a)
{
    return (int)a >= 0 && (int)a < NAMES ? names[a] : "?";
}

clconv_status clconv_activation_from_name(const char *name, clconv_activation *out)
{
    if (!name || !out)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a pointer",
                           !name ? "name" : "activation");
    for (int i = 0; i < NAMES; i++)
        if (!strcmp(name, names[i])) {
            *out = (clconv_activation)i;
            return CLCONV_SUCCESS;
        }
    if (!strcmp(name, "clamp")) {
        *out = CLCONV_ACTIVATION_HARDTANH;
        return CLCONV_SUCCESS;
    }
    if (!strcmp(name, "swish")) {
        *out = CLCONV_ACTIVATION_SILU;
        return CLCONV_SUCCESS;
    }
    return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                       "activation '%s' unknown, expected none, relu, relu6, hardtanh (clamp), "
                       "leaky_relu, elu, sigmoid, tanh, silu (swish), hardsigmoid, hardswish, "
                       "gelu, gelu_tanh or mish", name);
}

void clconv_activation_default_params(clconv_activation a, float params[2])
{
    if (!params)
        return;
    params[0] = params[1] = 0.0f;
    if (a == CLCONV_ACTIVATION_HARDTANH) {
        params[0] = -1.0f;
        params[1] = 1.0f;
    } else if (a == CLCONV_ACTIVATION_LEAKY_RELU) {
        params[0] = 0.01f;
    } else if (a == CLCONV_ACTIVATION_ELU) {
        params[0] = 1.0f;
    }
}

clconv_status clconv_activation_check(clconv_context *ctx, clconv_activation a,
                                      const float params[2])
{
    if ((int)a < 0 || (int)a >= NAMES)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "activation = %d, expected a clconv_activation (0 none .. 13 mish)",
                           (int)a);
    const float p0 = params ? params[0] : 0.0f, p1 = params ? params[1] : 0.0f;
    if ((a == CLCONV_ACTIVATION_LEAKY_RELU || a == CLCONV_ACTIVATION_ELU) && !isfinite(p0))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "activation_params[0] = %g with activation = %s, expected a finite "
                           "%s", (double)p0, names[a],
                           a == CLCONV_ACTIVATION_ELU ? "alpha" : "negative_slope");
    if (a == CLCONV_ACTIVATION_HARDTANH) {
        if (isnan(p0) || isnan(p1))
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "activation_params = (%g, %g) with activation = hardtanh, "
                               "expected min_val and max_val that are not NaN", (double)p0,
                               (double)p1);
        if (p0 > p1)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "activation_params = (%g, %g) with activation = hardtanh, "
                               "expected min_val <= max_val", (double)p0, (double)p1);
    }
    return CLCONV_SUCCESS;
}

clconv_status clconv_residual_check(clconv_context *ctx, int has_residual, float alpha,
                                    float beta)
{
    if (!has_residual)
        return CLCONV_SUCCESS;
    if (!isfinite(alpha) || !isfinite(beta))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "%s = %g with has_residual: expected a finite scale",
                           isfinite(alpha) ? "beta" : "alpha", isfinite(alpha) ? beta : alpha);
    if (alpha == 0.0f && beta == 0.0f)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "alpha = beta = 0 with has_residual: y would not depend on the "
                           "convolution or z (a zero-initialised struct?); expected the scales, "
                           "e.g. alpha = beta = 1 as clconv_*_default_params set them");
    return CLCONV_SUCCESS;
}

clconv_status clconv_activation_validate(clconv_activation a, const float params[2])
{
    return clconv_activation_check(NULL, a, params);
}

const char *clconv_activation_build_option(clconv_activation a)
{
    return a == CLCONV_ACTIVATION_NONE || a == CLCONV_ACTIVATION_RELU ? "" : " -DCLCONV_ACT_ANY";
}

double clconv_activation_eval(clconv_activation act, const float params[2], double v)
{
    const double a = params[0], c = params[1];
    switch (act) {
    case CLCONV_ACTIVATION_NONE:
        return v;
    case CLCONV_ACTIVATION_RELU:
        return v < 0.0 ? 0.0 : v;
    case CLCONV_ACTIVATION_RELU6:
        return v < 0.0 ? 0.0 : v > 6.0 ? 6.0 : v;
    case CLCONV_ACTIVATION_HARDTANH:
        return v < a ? a : v > c ? c : v;
    case CLCONV_ACTIVATION_LEAKY_RELU:
        return v > 0.0 ? v : v * a;
    case CLCONV_ACTIVATION_ELU:
        return v > 0.0 ? v : a * expm1(v);
    case CLCONV_ACTIVATION_SIGMOID:
        return 1.0 / (1.0 + exp(-v));
    case CLCONV_ACTIVATION_TANH:
        return tanh(v);
    case CLCONV_ACTIVATION_SILU:
        return v / (1.0 + exp(-v));
    case CLCONV_ACTIVATION_HARDSIGMOID:
        return v <= -3.0 ? 0.0 : v >= 3.0 ? 1.0 : v / 6.0 + 0.5;
    case CLCONV_ACTIVATION_HARDSWISH:
        return v <= -3.0 ? 0.0 : v >= 3.0 ? v : v * (v + 3.0) / 6.0;
    case CLCONV_ACTIVATION_GELU:
        return 0.5 * v * (1.0 + erf(v * 0.70710678118654752440));
    case CLCONV_ACTIVATION_GELU_TANH:
        return 0.5 * v * (1.0 + tanh(0.79788456080286535588 * (v + 0.044715 * v * v * v)));
    case CLCONV_ACTIVATION_MISH:
        return v * tanh(log1p(exp(v)));
    }
    return v;
}

clconv_status clconv_ref_activation(clconv_activation act, const float params[2], size_t count,
                                    const float *x, float *y)
{
    const float zero[2] = {0.0f, 0.0f};
    if (!params)
        params = zero;
    clconv_status st = clconv_activation_check(NULL, act, params);
    if (st)
        return st;
    if (count && (!x || !y))
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : "y");
    for (size_t i = 0; i < count; i++)
        y[i] = (float)clconv_activation_eval(act, params, (double)x[i]);
    return CLCONV_SUCCESS;
}

/* ---- the elementwise plans (kernels/activation.cl) ------------------------- */

clconv_activation_grad_source clconv_activation_backward_source(clconv_activation a,
                                                                const float params[2])
{
    const float p0 = params ? params[0] : 0.0f;
    switch (a) {
    case CLCONV_ACTIVATION_NONE:
    case CLCONV_ACTIVATION_RELU:
    case CLCONV_ACTIVATION_RELU6:
    case CLCONV_ACTIVATION_HARDTANH:
    case CLCONV_ACTIVATION_SIGMOID:
    case CLCONV_ACTIVATION_TANH:
        return CLCONV_ACTIVATION_GRAD_FROM_OUTPUT;
    case CLCONV_ACTIVATION_LEAKY_RELU:
        return p0 >= 0.0f ? CLCONV_ACTIVATION_GRAD_FROM_OUTPUT : CLCONV_ACTIVATION_GRAD_FROM_INPUT;
    case CLCONV_ACTIVATION_ELU:
        return p0 > 0.0f ? CLCONV_ACTIVATION_GRAD_FROM_OUTPUT : CLCONV_ACTIVATION_GRAD_FROM_INPUT;
    default:
        return CLCONV_ACTIVATION_GRAD_FROM_INPUT;
    }
}

/* The one kernel with the activation's arguments (4..6) and the count (7);
 * the direction (3) and the buffers (0..2) are set per run. */
static clconv_status act_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    (void)opts;
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d; /* activation fields only */
    const char *opt = clconv_activation_build_option(p->activation);
    const char *name = "activation_elementwise";
    /* ACT_VEC consecutive elements per work-item (kernels/activation.cl) */
    enum { ACT_VEC = 8 };
    snprintf(plan->info.build_options, sizeof plan->info.build_options, "-DVEC=%d%s%s", ACT_VEC,
             opt, clconv_dtype_build_option(plan->dtype));
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "%s", name);
    clconv_status st;
    size_t limit = 0;
    if ((st = clconv_get_kernel(ctx, "activation", name, plan->info.build_options,
                                &plan->kernel)) ||
        (st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    const size_t count = clconv_shape_elements_checked(&plan->info.input);
    const size_t items = (count + ACT_VEC - 1) / ACT_VEC;
    const size_t wg = limit < 64 ? limit : 64;
    plan->work_dim = 1;
    plan->local_size[0] = wg;
    plan->local_size[1] = plan->local_size[2] = 1;
    plan->global_size[0] = (items + wg - 1) / wg * wg;
    plan->global_size[1] = plan->global_size[2] = 1;
    const cl_int act = (cl_int)p->activation;
    const cl_float a = p->activation_params[0], c = p->activation_params[1];
    const cl_ulong n = (cl_ulong)count;
    if ((st = clconv_set_arg(ctx, plan->kernel, 4, sizeof act, &act, name)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 5, sizeof a, &a, name)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 6, sizeof c, &c, name)))
        return st;
    return clconv_set_arg(ctx, plan->kernel, 7, sizeof n, &n, name);
}

/* Called with plan->lock held, so the direction stays with this run's enqueue. */
static clconv_status act_run(clconv_plan *plan, const clconv_run_args *a)
{
    const cl_int backward = a->backward ? 1 : 0;
    const cl_float scale = a->backward ? a->scale : 1.0f;
    clconv_status st = clconv_set_arg(plan->ctx, plan->kernel, 3, sizeof backward, &backward,
                                      plan->info.kernel_name);
    if (st || (st = clconv_set_arg(plan->ctx, plan->kernel, 8, sizeof scale, &scale,
                                   plan->info.kernel_name)))
        return st;
    const cl_mem args[3] = {a->x, a->w, a->y};
    const char *const names[3] = {backward ? "v" : "x", "dy", backward ? "dx" : "y"};
    return clconv_plan_enqueue_buffers(plan, 3, args, names, a->num_wait, a->wait_list, a->done);
}

const clconv_algo clconv_activation_elementwise = {
    .op = CLCONV_OP_ACTIVATION,
    .id = CLCONV_ALGO_AUTO,
    .f16 = true, /* store_t tensors, float arithmetic */
    .plan = act_plan,
    .run = act_run,
};

clconv_status clconv_activation_plan_create(clconv_context *ctx, clconv_activation activation,
                                            const float params[2], const clconv_shape *shape,
                                            clconv_plan **out)
{
    return clconv_activation_plan_create_dtype(ctx, activation, params, shape,
                                               CLCONV_DTYPE_F32, out);
}

clconv_status clconv_activation_plan_create_dtype(clconv_context *ctx,
                                                  clconv_activation activation,
                                                  const float params[2],
                                                  const clconv_shape *shape, clconv_dtype dtype,
                                                  clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    const float zero[2] = {0.0f, 0.0f};
    if (!params)
        params = zero;
    clconv_status st;
    if ((st = clconv_activation_check(ctx, activation, params)) ||
        (st = clconv_validate_shape(ctx, shape, "shape")) ||
        (st = clconv_dtype_check(ctx, dtype)))
        return st;
    const size_t count = clconv_shape_elements_checked(shape);
    const size_t es = clconv_dtype_size(dtype);
    if ((st = clconv_check_device_tensor(ctx, "shape", count, es)))
        return st;
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_ACTIVATION, &plan)))
        return st;
    plan->params.conv2d.activation = activation;
    plan->params.conv2d.activation_params[0] = params[0];
    plan->params.conv2d.activation_params[1] = params[1];
    plan->params.conv2d.dtype = dtype;
    plan->dtype = dtype;
    plan->info.input = plan->info.output = *shape;
    plan->x_bytes = plan->y_bytes = count * es;
    plan->info.flops = (double)count;
    plan->info.bytes = 2.0 * (double)plan->x_bytes;
    if ((st = clconv_plan_build_single(plan, NULL, "activation"))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

static clconv_status act_check_run(clconv_plan *plan, const char *fn)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    if (plan->op != CLCONV_OP_ACTIVATION)
        return clconv_fail(plan->ctx, CLCONV_ERROR_WRONG_PLAN,
                           "%s: the plan was made for another operator", fn);
    return CLCONV_SUCCESS;
}

clconv_status clconv_activation_run(clconv_plan *plan, cl_mem x, cl_mem y, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *done)
{
    if (done)
        *done = NULL;
    clconv_status st = act_check_run(plan, "clconv_activation_run");
    if (st || (st = clconv_check_plan_buffer(plan, x, plan->x_bytes, "x")) ||
        (st = clconv_check_plan_buffer(plan, y, plan->y_bytes, "y")))
        return st;
    const clconv_run_args a = {.x = x, .y = y, .num_wait = num_wait, .wait_list = wait_list,
                               .done = done};
    return clconv_plan_dispatch(plan, &a);
}

clconv_status clconv_activation_backward_run(clconv_plan *plan, cl_mem v, cl_mem dy, cl_mem dx,
                                             cl_uint num_wait, const cl_event *wait_list,
                                             cl_event *done)
{
    return clconv_activation_backward_scaled_run(plan, 1.0f, v, dy, dx, num_wait, wait_list,
                                                 done);
}

clconv_status clconv_activation_backward_scaled_run(clconv_plan *plan, float scale, cl_mem v,
                                                    cl_mem dy, cl_mem dx, cl_uint num_wait,
                                                    const cl_event *wait_list, cl_event *done)
{
    if (done)
        *done = NULL;
    clconv_status st = act_check_run(plan, "clconv_activation_backward_run");
    if (!st && !isfinite(scale))
        st = clconv_fail(plan->ctx, CLCONV_ERROR_INVALID_VALUE,
                         "scale = %g, expected a finite float", (double)scale);
    if (st || (st = clconv_check_plan_buffer(plan, v, plan->x_bytes, "v")) ||
        (st = clconv_check_plan_buffer(plan, dy, plan->y_bytes, "dy")) ||
        (st = clconv_check_plan_buffer(plan, dx, plan->x_bytes, "dx")))
        return st;
    const clconv_run_args a = {.x = v, .w = dy, .y = dx, .num_wait = num_wait,
                               .wait_list = wait_list, .done = done, .backward = 1,
                               .scale = scale};
    return clconv_plan_dispatch(plan, &a);
}

/* act'(v) * g in double, as kernels/activation.cl's clconv_activation_grad. */
static double grad_eval(clconv_activation act, const float params[2], double v, double g)
{
    const double a = params[0], c = params[1];
    switch (act) {
    case CLCONV_ACTIVATION_NONE:
        return g;
    case CLCONV_ACTIVATION_RELU:
        return v <= 0.0 ? 0.0 : g;
    case CLCONV_ACTIVATION_RELU6:
        return v <= 0.0 || v >= 6.0 ? 0.0 : g;
    case CLCONV_ACTIVATION_HARDTANH:
        return v <= a || v >= c ? 0.0 : g;
    case CLCONV_ACTIVATION_LEAKY_RELU:
        return v > 0.0 ? g : g * a;
    case CLCONV_ACTIVATION_ELU:
        return a > 0.0 ? (v <= 0.0 ? g * (v + a) : g) : (v <= 0.0 ? g * a * exp(v) : g);
    case CLCONV_ACTIVATION_SIGMOID:
        return g * (1.0 - v) * v;
    case CLCONV_ACTIVATION_TANH:
        return g * (1.0 - v * v);
    case CLCONV_ACTIVATION_SILU: {
        const double s = 1.0 / (1.0 + exp(-v));
        return g * s * (1.0 + v * (1.0 - s));
    }
    case CLCONV_ACTIVATION_HARDSIGMOID:
        return v > -3.0 && v < 3.0 ? g / 6.0 : 0.0;
    case CLCONV_ACTIVATION_HARDSWISH:
        return v < -3.0 ? 0.0 : v <= 3.0 ? g * (v / 3.0 + 0.5) : g;
    case CLCONV_ACTIVATION_GELU: {
        const double cdf = 0.5 * erfc(-v * 0.70710678118654752440);
        const double pdf = exp(-0.5 * v * v) * 0.39894228040143267794;
        return g * (cdf + v * pdf);
    }
    case CLCONV_ACTIVATION_GELU_TANH: {
        const double k = 0.79788456080286535588, u = k * (v + 0.044715 * v * v * v);
        const double t = tanh(u);
        return g * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * k * (1.0 + 0.134145 * v * v));
    }
    case CLCONV_ACTIVATION_MISH: {
        const double t = tanh(log1p(exp(v))), s = 1.0 / (1.0 + exp(-v));
        return g * (t + v * s * (1.0 - t * t));
    }
    }
    return g;
}

clconv_status clconv_ref_activation_backward(clconv_activation act, const float params[2],
                                             size_t count, const float *v, const float *dy,
                                             float *dx)
{
    const float zero[2] = {0.0f, 0.0f};
    if (!params)
        params = zero;
    clconv_status st = clconv_activation_check(NULL, act, params);
    if (st)
        return st;
    if (count && (!v || !dy || !dx))
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !v ? "v" : !dy ? "dy" : "dx");
    for (size_t i = 0; i < count; i++)
        dx[i] = (float)grad_eval(act, params, (double)v[i], (double)dy[i]);
    return CLCONV_SUCCESS;
}
