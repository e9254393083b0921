/* The storage types (clconv_dtype): names, sizes, the validation every
 * operator shares, and the float <-> half conversions of the public header. */
#include "internal.h"

#include <string.h>

const char *clconv_dtype_name(clconv_dtype dtype)
{
    switch (dtype) {
    case CLCONV_DTYPE_F32:
        return "f32";
    case CLCONV_DTYPE_F16:
        return "f16";
    }
    return "unknown";
}

size_t clconv_dtype_size(clconv_dtype dtype)
{
    return dtype == CLCONV_DTYPE_F32 ? 4 : dtype == CLCONV_DTYPE_F16 ? 2 : 0;
}

clconv_status clconv_dtype_check(clconv_context *ctx, clconv_dtype dtype)
{
    if (dtype != CLCONV_DTYPE_F32 && dtype != CLCONV_DTYPE_F16)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "dtype = %d, expected CLCONV_DTYPE_F32 (0) or CLCONV_DTYPE_F16 (1)",
                           (int)dtype);
    return CLCONV_SUCCESS;
}

clconv_status clconv_host_check_dtype(clconv_context *ctx, clconv_dtype dtype, const char *call)
{
    if (dtype == CLCONV_DTYPE_F32)
        return CLCONV_SUCCESS;
    clconv_status st = clconv_dtype_check(ctx, dtype);
    if (st)
        return st;
    return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                       "dtype = %s: %s takes float arrays only; convert with "
                       "clconv_floats_to_halves and use the device runs (plans on cl_mem "
                       "buffers) for fp16 storage", clconv_dtype_name(dtype), call);
}

const char *clconv_dtype_build_option(clconv_dtype dtype)
{
    return dtype == CLCONV_DTYPE_F16 ? " -DCLCONV_F16" : "";
}

uint16_t clconv_float_to_half(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) /* NaN: quiet, the payload's top bits kept */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) /* 65520 and up (and inf): inf */
        return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) { /* normal half: 2^-14 and up */
        /* Rebias the exponent (127 -> 15) and round the 13 dropped bits to
         * nearest even; a carry into the exponent is the right result. */
        const uint32_t r = a - 0x38000000u;
        const uint32_t keep = r >> 13, rest = r & 0x1fffu;
        uint32_t h = keep + (rest > 0x1000u || (rest == 0x1000u && (keep & 1u)));
        return (uint16_t)(sign | h);
    }
    if (a < 0x33000000u) /* below 2^-25: 0 (2^-25 itself is a tie, handled below) */
        return sign;
    /* Subnormal half: value = m * 2^-24, m = a's significand (with the
     * implicit bit) shifted right by 126 - e - 24 + 23 ... computed as shift. */
    const uint32_t e = a >> 23;                    /* 102 .. 112 */
    const uint32_t m = (a & 0x7fffffu) | 0x800000u; /* 24 bits */
    const uint32_t shift = 126u - e;               /* 14 .. 24: value * 2^24 = m >> shift */
    const uint32_t keep = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    const uint32_t h = keep + (rest > half || (rest == half && (keep & 1u)));
    return (uint16_t)(sign | h);
}

float clconv_half_to_float(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uint32_t u;
    if (e == 0x1f)
        u = sign | 0x7f800000u | (m << 13); /* inf, NaN (payload kept) */
    else if (e != 0)
        u = sign | ((e + 112u) << 23) | (m << 13);
    else if (m == 0)
        u = sign;
    else { /* subnormal: normalise */
        uint32_t ee = 113u, mm = m;
        while (!(mm & 0x400u)) {
            mm <<= 1;
            ee--;
        }
        u = sign | (ee << 23) | ((mm & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void clconv_floats_to_halves(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; src && dst && i < n; i++)
        dst[i] = clconv_float_to_half(src[i]);
}

void clconv_halves_to_floats(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; src && dst && i < n; i++)
        dst[i] = clconv_half_to_float(src[i]);
}
