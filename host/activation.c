/* Activations (clconv_activation): names, PyTorch's default parameters,
 * validation, and the reference evaluation in double the CPU references use.
 * The device's are kernels/common.cl's clconv_activate (float, OpenCL's
 * built-in exp / tanh / erf); both follow torch.nn.functional's formulas
 * (include/clconv.h lists them). */
#include "internal.h"

#include <math.h>
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
