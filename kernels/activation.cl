/* Elementwise activation gradients. */

/* ReLU backward as PyTorch's threshold_backward(dy, y, 0):
 * dx = y <= 0 ? 0 : dy, so a NaN in y passes dy and a NaN in dy where
 * y <= 0 gives 0. y is the ReLU's output (or its input: the sign is the same).
 * dx may be the same buffer as dy or y (each item reads before it writes). */
__kernel void relu_backward(__global const float *y, __global const float *dy,
                            __global float *dx, const ulong count)
{
    const size_t i = get_global_id(0);
    if (i < count) {
        const float yv = y[i], g = dy[i];
        dx[i] = yv <= 0.0f ? 0.0f : g;
    }
}

/* ---- any activation, elementwise (the activation plans) ---------------------
 * act, a, c: clconv_activation's code and parameters (common.cl's
 * clconv_activate; the program is built with -DCLCONV_ACT_ANY for the
 * activations other than ReLU). count: elements. */

/* dL/dv = dy * act'(v), v the activation's output where its gradient can be
 * told from it (relu, relu6, hardtanh, sigmoid, tanh, leaky_relu with a
 * slope >= 0, elu with alpha > 0), else its input (the others): the forms
 * of PyTorch's backward kernels (threshold_backward, hardtanh_backward,
 * leaky_relu_backward, elu_backward(is_result), sigmoid_backward,
 * tanh_backward, silu_backward, hardsigmoid_backward, hardswish_backward,
 * gelu_backward, mish_backward). dx may be dy or v (in place). */
inline float clconv_activation_grad(float v, float g, int act, float a, float c)
{
    switch (act) {
    case 0:
        return g;
    case 1: /* from y */
        return v <= 0.0f ? 0.0f : g;
    case 2: /* relu6, from y */
        return v <= 0.0f || v >= 6.0f ? 0.0f : g;
    case 3: /* hardtanh, from y */
        return v <= a || v >= c ? 0.0f : g;
    case 4: /* leaky_relu: from y when a >= 0 (same sign as x), else from x */
        return v > 0.0f ? g : g * a;
    case 5: /* elu: from y when a > 0 (y + a = a exp(x) for x <= 0), else from x */
        return a > 0.0f ? (v <= 0.0f ? g * (v + a) : g) : (v <= 0.0f ? g * a * exp(v) : g);
    case 6: /* sigmoid, from y */
        return g * (1.0f - v) * v;
    case 7: /* tanh, from y */
        return g * (1.0f - v * v);
    /* 1 - sigmoid(z) is sigmoid(-z) and 1 - tanh(w)^2 is 1 / cosh(w)^2,
     * computed as such: the subtractions cancel where the gradient's tail
     * term matters. */
    case 8: { /* silu, from x */
        const float s = 1.0f / (1.0f + exp(-v)), sm = 1.0f / (1.0f + exp(v));
        return g * s * (1.0f + v * sm);
    }
    case 9: /* hardsigmoid, from x */
        return v > -3.0f && v < 3.0f ? g / 6.0f : 0.0f;
    case 10: /* hardswish, from x */
        return v < -3.0f ? 0.0f : v <= 3.0f ? g * (v / 3.0f + 0.5f) : g;
    case 11: { /* gelu, from x: cdf + x pdf */
        const float cdf = 0.5f * erfc(-v * M_SQRT1_2_F);
        const float pdf = exp(-0.5f * v * v) * 0.3989422804014327f;
        return g * (cdf + v * pdf);
    }
    case 12: { /* gelu_tanh, from x: s = (1 + tanh u) / 2 = sigmoid(2u) */
        const float u2 = 1.5957691216057308f * (v + 0.044715f * v * v * v);
        const float s = 1.0f / (1.0f + exp(-u2)), sm = 1.0f / (1.0f + exp(u2));
        const float du = 0.7978845608028654f * (1.0f + 0.134145f * v * v);
        return g * (s + v * 2.0f * s * sm * du);
    }
    case 13: { /* mish, from x: tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2) */
        const float sp = log1p(exp(v)), t = tanh(sp), ch = cosh(sp);
        const float s = 1.0f / (1.0f + exp(-v));
        return g * (t + v * s / (ch * ch));
    }
    default:
        return g;
    }
}

/* One kernel for both directions (backward and scale are per-run
 * arguments): forward out = act(v) (dy unused, may be NULL), backward
 * out = (scale * dy) * act'(v) (scale 1 for the plain gradient: exact).
 * Each work-item does VEC (-D, the host's 8) consecutive elements, the
 * forward as one vector (the vector built-ins: erfc and exp element by
 * element cost GELU 20x); out may be v or dy (in place: each item reads its
 * elements before it writes them). With -DCLCONV_F16 the tensors are halves
 * (common.cl's store_t), the arithmetic float, each result rounded once. */
#ifdef VEC /* the activation plans' program (relu_backward's has no VEC) */
__kernel void activation_elementwise(__global const store_t *v, __global const store_t *dy,
                                     __global store_t *out, const int backward, const int act,
                                     const float a, const float c, const ulong count,
                                     const float scale)
{
    const size_t i0 = get_global_id(0) * VEC;
    if (i0 >= count)
        return;
    if (!backward && i0 + VEC <= count) {
        CLCONV_STV(clconv_activate_v(CLCONV_LDV(0, v + i0), act, a, c), 0, out + i0);
        return;
    }
    for (size_t i = i0; i < i0 + VEC && i < count; i++)
        CLCONV_ST(backward ? clconv_activation_grad(CLCONV_LD(v, i), scale * CLCONV_LD(dy, i), act,
                                                    a, c)
                           : clconv_activate(CLCONV_LD(v, i), act, a, c),
                  i, out);
}
#endif
