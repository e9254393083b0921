/* Put in front of every clconv kernel file (host/program.c). OpenCL C 1.2,
 * no extensions. What more than one kernel file needs is written here once:
 * index arithmetic, the vector types of the VEC-lane kernels, the epilogue.
 * Pooling's own helpers are in pool_common.cl (pooling programs only). */

/* Integer ceiling division for non-negative operands. */
#define CLCONV_DIV_UP(a, b) (((a) + (b) - 1) / (b))

/* Vector types for the kernels built with -DVEC=4, 8 or 16 (lanes of
 * channels, columns or pixels): floatV is floatVEC, vloadV vloadVEC, ... */
#define VCAT2(a, b) a##b
#define VCAT(a, b) VCAT2(a, b)
#ifdef VEC
#define floatV VCAT(float, VEC)
#define intV VCAT(int, VEC)
#define longV VCAT(long, VEC)
#define vloadV VCAT(vload, VEC)
#define vstoreV VCAT(vstore, VEC)
#define convert_floatV VCAT(convert_float, VEC)
#define convert_longV VCAT(convert_long, VEC)
#endif

/* The storage type of the tensors (include/clconv.h's clconv_dtype), written
 * once here for every kernel: -DCLCONV_F16 makes x, w, bias, y and the
 * epilogue's z / pre IEEE halves, read with vload_half and written with
 * vstore_half_rte (core OpenCL 1.2: no cl_khr_fp16 needed; a `half *` is
 * only ever dereferenced through them). Branch-free conversions of our own
 * (ushort bits, selects) were tried in their place and measured slower on
 * PoCL in every suite but one (clconv-bench --dtype f16, two rounds:
 * ResNet-50 0.41x of F32 against 0.58x with the builtins). Arithmetic stays float: every load
 * widens exactly, every store rounds once to nearest even. Local-memory
 * tiles, accumulators, workspaces and plan-owned buffers (packed weights,
 * padded copies, transformed filters) stay float. Without it store_t is
 * float and the macros are plain accesses (the F32 kernels are unchanged).
 *   store_t                  the element type of a tensor pointer
 *   CLCONV_LD(p, i)          p[i] as a float
 *   CLCONV_ST(v, i, p)       p[i] = v (a float)
 *   CLCONV_LDV(i, p)         VEC elements p[i * VEC ..] as a floatV (vloadV)
 *   CLCONV_STV(v, i, p)      VEC elements from a floatV (vstoreV)
 *   CLCONV_LDN(N, i, p)      N elements p[i * N ..] as a floatN, N a literal
 *                            width (2, 4, 8, 16) where VEC is not the one
 *   CLCONV_STN(v, N, i, p)   N elements from a floatN */
#ifdef CLCONV_F16
/* Branch-free conversions on the halves' bits (ushort), for kernels that
 * cannot use the builtins: PoCL's vload_half8 / 16 crashed the pooling
 * vector kernels (a segmentation fault inside pool2d_window_vec, in
 * test_f16_pool) where the same loads as ushort vectors run clean under
 * Oclgrind too. Exact both ways: a half widens exactly (subnormals as
 * m * 2^-24, inf and NaN keep their payload); a float rounds to nearest even
 * (F. Giesen's float_to_half_fast3_rtne: normal results round on the bits,
 * subnormal ones by one float addition of 0.5, whose ulp is the half
 * subnormal's; 65520 and up to inf, NaN to a quiet NaN, the sign kept).
 * Elsewhere the builtins measured faster (ResNet-50 in F16 0.58x of F32
 * with them, 0.41x with these). */
#define CLCONV_HALF_FNS(N)                                                         \
    inline float##N clconv_h2f##N(ushort##N h16)                                   \
    {                                                                              \
        const uint##N h = convert_uint##N(h16), m = h & 0x7fffu;                   \
        const uint##N sub = as_uint##N(convert_float##N(m) * 0x1p-24f);            \
        uint##N bits = select((m << 13) + 0x38000000u, (m << 13) | 0x7f800000u,    \
                              m >= 0x7c00u);                                       \
        bits = select(bits, sub, m < 0x400u);                                      \
        return as_float##N(bits | ((h & 0x8000u) << 16));                          \
    }                                                                              \
    inline ushort##N clconv_f2h##N(float##N f)                                     \
    {                                                                              \
        const uint##N u = as_uint##N(f), a = u & 0x7fffffffu;                      \
        const uint##N nan_inf = select((uint##N)(0x7c00u), (uint##N)(0x7e00u),     \
                                       a > 0x7f800000u);                           \
        const uint##N sub = as_uint##N(as_float##N(a) + 0.5f) - 0x3f000000u;       \
        const uint##N norm = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;           \
        uint##N r = select(norm, sub, a < 0x38800000u);                            \
        r = select(r, nan_inf, a >= 0x47800000u);                                  \
        return convert_ushort##N(r | ((u >> 16) & 0x8000u));                       \
    }
CLCONV_HALF_FNS()
CLCONV_HALF_FNS(2)
CLCONV_HALF_FNS(4)
CLCONV_HALF_FNS(8)
CLCONV_HALF_FNS(16)
#define store_t half
#define CLCONV_LD(p, i) vload_half((size_t)(i), (p))
#define CLCONV_ST(v, i, p) vstore_half_rte((v), (size_t)(i), (p))
#define CLCONV_LDN(N, i, p) vload_half##N((size_t)(i), (p))
#define CLCONV_STN(v, N, i, p) vstore_half##N##_rte((v), (size_t)(i), (p))
#else
#define store_t float
#define CLCONV_LD(p, i) ((p)[i])
#define CLCONV_ST(v, i, p) ((p)[i] = (v))
#define CLCONV_LDN(N, i, p) vload##N((i), (p))
#define CLCONV_STN(v, N, i, p) vstore##N((v), (i), (p))
#endif
#ifdef VEC
#ifdef CLCONV_F16
#define CLCONV_LDV(i, p) VCAT(vload_half, VEC)((size_t)(i), (p))
#define CLCONV_STV(v, i, p) VCAT(VCAT(vstore_half, VEC), _rte)((v), (size_t)(i), (p))
#else
#define CLCONV_LDV(i, p) vloadV((i), (p))
#define CLCONV_STV(v, i, p) vstoreV((v), (i), (p))
#endif
#endif

#ifdef VEC
/* CLCONV_ST_LANES(v, count, p, stride): stores lane l of the floatV v at
 * p[l * stride] for l < count, each as a vector component (for kernels
 * whose lanes are images or channels, outputs an image or a plane apart).
 * Through a private array and a loop, PoCL compiled direct-batch's stores
 * into a 64-bit-index scatter (vpmullq) behind a store forwarding stall:
 * 44% of LeNet c3's time. In direct-vector and transposed-vector (channels
 * in lanes) the same change measured 0.73 - 1.16x, so they keep the loop. */
#define CLCONV_ST_LANE(v, l, count, p, stride)                                     \
    if (l < (count))                                                               \
    CLCONV_ST((v).s##l, (size_t)(l) * (stride), p)
#define CLCONV_ST_LANES4(v, count, p, stride)                                      \
    do {                                                                           \
        CLCONV_ST_LANE(v, 0, count, p, stride);                                    \
        CLCONV_ST_LANE(v, 1, count, p, stride);                                    \
        CLCONV_ST_LANE(v, 2, count, p, stride);                                    \
        CLCONV_ST_LANE(v, 3, count, p, stride);                                    \
    } while (0)
/* 8 and 16 lanes: the low half, then the high half 4 (8) lanes on */
#define CLCONV_ST_LANES8(v, count, p, stride)                                      \
    do {                                                                           \
        CLCONV_ST_LANES4((v).lo, count, p, stride);                                \
        CLCONV_ST_LANES4((v).hi, (count) - 4, (p) + 4 * (size_t)(stride), stride); \
    } while (0)
#define CLCONV_ST_LANES16(v, count, p, stride)                                     \
    do {                                                                           \
        CLCONV_ST_LANES8((v).lo, count, p, stride);                                \
        CLCONV_ST_LANES8((v).hi, (count) - 8, (p) + 8 * (size_t)(stride), stride); \
    } while (0)
#define CLCONV_ST_LANES(v, count, p, stride) VCAT(CLCONV_ST_LANES, VEC)(v, count, p, stride)
#endif

/* The epilogue of every kernel that writes a convolution's output: bias,
 * then the activation (clconv_activation's codes and torch.nn.functional's
 * formulas, include/clconv.h; a and c its two parameters). One policy: the
 * bias flag, the activation and its parameters are runtime arguments, and
 * one -D option, CLCONV_ACT_ANY, compiles the activations other than ReLU in
 * (the host sets it only for a plan that uses one): a program carrying them
 * ran LeNet's conv2d_vector layer 10% slower even with act = ReLU, so NONE /
 * RELU programs leave them out. Comparisons, not fmin / fmax, so NaN passes
 * as PyTorch's clamp-style activations let it (NaN < 0 is false). */
#define CLCONV_EPILOGUE_ARGS \
    const int has_bias, const int act, const float act_a, const float act_b, \
    const float res_alpha, const float res_beta, __global const store_t *res_z, \
    __global store_t *pre_y
/* The same arguments passed on to the helpers below. */
#define CLCONV_EPILOGUE_PASS has_bias, act, act_a, act_b, res_alpha, res_beta, res_z, pre_y

/* The residual and the second output (the host sets them per plan, as
 * CLCONV_ACT_ANY): -DCLCONV_RESIDUAL compiles y = act(res_alpha * conv +
 * res_beta * z + bias) with z (res_z) of y's shape read at y's own index,
 * by the work-item that writes that y, before it writes it, so z may be y
 * itself (in place; y is then not declared restrict: CLCONV_Y_RESTRICT);
 * -DCLCONV_PRE_OUTPUT also stores act's input into pre_y at the same index.
 * Without them both pointers are NULL and never read. */
#if defined(CLCONV_RESIDUAL) || defined(CLCONV_PRE_OUTPUT)
#define CLCONV_EPILOGUE_EXTRA 1
#endif
#ifdef CLCONV_RESIDUAL
#define CLCONV_Y_RESTRICT
#else
#define CLCONV_Y_RESTRICT restrict
#endif

#ifdef CLCONV_ACT_ANY
/* The activations other than ReLU, out of line: inlined, the switch would
 * sit in every unrolled output loop of every kernel (measured: VGG-16's
 * Winograd and pointwise layers 10 - 30% slower on PoCL). */
__attribute__((noinline)) float clconv_activate_other(float v, int act, float a, float c)
{
    switch (act) {
    case 1: /* relu */
        return v < 0.0f ? 0.0f : v;
    case 2: /* relu6 */
        return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    case 3: /* hardtanh(min a, max c) */
        return v < a ? a : v > c ? c : v;
    case 4: /* leaky_relu(slope a) */
        return v > 0.0f ? v : v * a;
    case 5: /* elu(alpha a) */
        return v > 0.0f ? v : a * expm1(v);
    case 6: /* sigmoid */
        return 1.0f / (1.0f + exp(-v));
    case 7:
        return tanh(v);
    case 8: /* silu */
        return v / (1.0f + exp(-v));
    case 9: /* hardsigmoid */
        return v <= -3.0f ? 0.0f : v >= 3.0f ? 1.0f : v / 6.0f + 0.5f;
    case 10: /* hardswish */
        return v <= -3.0f ? 0.0f : v >= 3.0f ? v : v * (v + 3.0f) / 6.0f;
    /* gelu's two forms as erfc and a sigmoid, which saturate exactly (a
     * built-in erf or tanh may stop at 1 - 2^-24, and 1 + erf(v) then leaves
     * 2^-24 * v for a large negative v). */
    case 11: /* gelu: v/2 (1 + erf(v / sqrt 2)) = v/2 erfc(-v / sqrt 2) */
        return 0.5f * v * erfc(-v * M_SQRT1_2_F);
    case 12: /* gelu, tanh approximation: (1 + tanh u) / 2 = 1 / (1 + exp(-2u)) */
        return v / (1.0f + exp(-1.5957691216057308f * (v + 0.044715f * v * v * v)));
    case 13: /* mish */
        return v * tanh(log1p(exp(v)));
    default:
        return v;
    }
}

#endif

/* act(v): ReLU (the common case) inline, the others through the call (in a
 * program built with CLCONV_ACT_ANY; without it act is NONE or RELU). */
inline float clconv_activate(float v, int act, float a, float c)
{
    if (act == 1)
        return v < 0.0f ? 0.0f : v;
#ifdef CLCONV_ACT_ANY
    return act ? clconv_activate_other(v, act, a, c) : v;
#else
    (void)a;
    (void)c;
    return v;
#endif
}

/* The epilogue of the output element at index `at` of y up to the
 * activation: s = acc (+ the residual) (+ bias), stored into pre_y[at] with
 * CLCONV_PRE_OUTPUT; acc is the convolution's sum, bias its channel's bias
 * (read only with has_bias). Returns s. */
inline float clconv_epilogue_sum(float acc, float bias, size_t at, CLCONV_EPILOGUE_ARGS)
{
#ifdef CLCONV_RESIDUAL
    float s = res_alpha * acc + res_beta * CLCONV_LD(res_z, at);
#else
    float s = acc;
    (void)res_alpha;
    (void)res_beta;
    (void)res_z;
    (void)at;
#endif
    if (has_bias)
        s += bias;
#ifdef CLCONV_PRE_OUTPUT
    CLCONV_ST(s, at, pre_y);
#else
    (void)pre_y;
#endif
    (void)act_a;
    (void)act_b;
    return s;
}

/* The whole epilogue of the element at index `at`: the value to store at
 * y[at]. */
inline float clconv_epilogue_at(float acc, float bias, size_t at, CLCONV_EPILOGUE_ARGS)
{
    return clconv_activate(clconv_epilogue_sum(acc, bias, at, CLCONV_EPILOGUE_PASS), act, act_a,
                           act_b);
}

/* The same with the bias read from b[oc] (b may be NULL without a bias). */
inline float clconv_epilogue(float acc, __global const store_t *b, int oc, size_t at,
                             CLCONV_EPILOGUE_ARGS)
{
    return clconv_epilogue_at(acc, has_bias ? CLCONV_LD(b, oc) : 0.0f, at, CLCONV_EPILOGUE_PASS);
}

#ifdef VEC
#ifdef CLCONV_ACT_ANY
/* The same on VEC lanes (select(x, y, m) is m ? y : x per lane), out of
 * line as the scalar one. */
__attribute__((noinline)) floatV clconv_activate_other_v(floatV v, int act, float a, float c)
{
    const floatV zero = (floatV)(0.0f);
    switch (act) {
    case 1:
        return select(v, zero, v < zero);
    case 2: {
        const floatV t = select(v, zero, v < zero);
        return select(t, (floatV)(6.0f), t > (floatV)(6.0f));
    }
    case 3: {
        const floatV t = select(v, (floatV)(a), v < (floatV)(a));
        return select(t, (floatV)(c), t > (floatV)(c));
    }
    case 4:
        return select(v * a, v, v > zero);
    case 5:
        return select(a * expm1(v), v, v > zero);
    case 6:
        return 1.0f / (1.0f + exp(-v));
    case 7:
        return tanh(v);
    case 8:
        return v / (1.0f + exp(-v));
    case 9: {
        const floatV t = select(v / 6.0f + 0.5f, zero, v <= (floatV)(-3.0f));
        return select(t, (floatV)(1.0f), v >= (floatV)(3.0f));
    }
    case 10: {
        const floatV t = select(v * (v + 3.0f) / 6.0f, zero, v <= (floatV)(-3.0f));
        return select(t, v, v >= (floatV)(3.0f));
    }
    case 11:
        return 0.5f * v * erfc(-v * M_SQRT1_2_F);
    case 12:
        return v / (1.0f + exp(-1.5957691216057308f * (v + 0.044715f * v * v * v)));
    case 13:
        return v * tanh(log1p(exp(v)));
    default:
        return v;
    }
}

#endif

inline floatV clconv_activate_v(floatV v, int act, float a, float c)
{
    if (act == 1)
        return select(v, (floatV)(0.0f), v < (floatV)(0.0f));
#ifdef CLCONV_ACT_ANY
    return act ? clconv_activate_other_v(v, act, a, c) : v;
#else
    (void)a;
    (void)c;
    return v;
#endif
}

/* The vector epilogue of VEC consecutive elements of y from index `at`,
 * one bias for every lane (0 without one). */
inline floatV clconv_epilogue_v(floatV acc, float bias, size_t at, CLCONV_EPILOGUE_ARGS)
{
#ifdef CLCONV_RESIDUAL
    floatV s = res_alpha * acc + res_beta * CLCONV_LDV(0, res_z + at) + (floatV)(bias);
#else
    floatV s = acc + (floatV)(bias);
    (void)res_alpha;
    (void)res_beta;
    (void)res_z;
    (void)at;
#endif
#ifdef CLCONV_PRE_OUTPUT
    CLCONV_STV(s, 0, pre_y + at);
#else
    (void)pre_y;
#endif
    return clconv_activate_v(s, act, act_a, act_b);
}
#endif
