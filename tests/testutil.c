#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clconv_context *g_ctx;

clconv_context *tu_ctx(void)
{
    if (!g_ctx) {
        clconv_status st = clconv_context_create(&g_ctx);
        ck_assert_msg(st == CLCONV_SUCCESS, "no OpenCL device for the tests: %s (%s)",
                      clconv_status_string(st), clconv_last_error(NULL));
    }
    return g_ctx;
}

clconv_context *tu_ctx_with_limit(size_t workspace_limit)
{
    clconv_context *base = tu_ctx(), *ctx = NULL;
    clconv_context_options o = {.workspace_limit = workspace_limit};
    clconv_status st = clconv_context_create_from_queue_with_options(
        clconv_context_cl_context(base), clconv_context_queue(base), &o, &ctx);
    ck_assert_msg(st == CLCONV_SUCCESS, "a context with a workspace limit: %s",
                  clconv_last_error(NULL));
    return ctx;
}

clconv_status tu_ctx_renew(void)
{
    clconv_context_destroy(g_ctx);
    g_ctx = NULL;
    return clconv_context_create(&g_ctx);
}

tu_rng tu_rng_make(uint64_t seed)
{
    tu_rng r = {seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL};
    if (!r.s)
        r.s = 1;
    return r;
}

uint64_t tu_next(tu_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

int tu_int(tu_rng *r, int lo, int hi)
{
    return lo + (int)(tu_next(r) % (uint64_t)(hi - lo + 1));
}

float tu_float(tu_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)((tu_next(r) >> 40) / (double)(1ULL << 24));
}

void tu_fill(tu_rng *r, float *a, size_t n, bool integers)
{
    for (size_t i = 0; i < n; i++)
        a[i] = integers ? (float)tu_int(r, -3, 3) : tu_float(r, -1.0f, 1.0f);
}

float *tu_alloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    ck_assert_msg(p != NULL, "out of host memory (%zu floats)", n);
    return p;
}

long tu_compare(const float *got, const float *ref, const float *scale, size_t n, double atol,
                double rtol, char *msg, size_t msg_size)
{
    for (size_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        bool ok;
        if (isnan(r) || isnan(g))
            ok = isnan(r) && isnan(g);
        else if (isinf(r) || isinf(g))
            ok = g == r;
        else
            ok = fabs(g - r) <= atol + rtol * (scale ? (double)scale[i] : fabs(r));
        if (!ok) {
            snprintf(msg, msg_size, "element %zu: got %.9g, expected %.9g (|diff| %.3g, bound %.3g)",
                     i, g, r, fabs(g - r), atol + rtol * (scale ? (double)scale[i] : fabs(r)));
            return (long)i;
        }
    }
    if (msg_size)
        msg[0] = '\0';
    return -1;
}

void tu_round_to_half(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = clconv_half_to_float(clconv_float_to_half(a[i]));
}

long tu_compare_f16(const float *got, const float *ref, const float *scale, size_t n,
                    double atol, double rtol, char *msg, size_t msg_size)
{
    for (size_t i = 0; i < n; i++) {
        const double g = got[i], r = ref[i];
        const double rh = clconv_half_to_float(clconv_float_to_half(ref[i]));
        const double bound = atol + rtol * (scale ? (double)scale[i] : fabs(r)) +
                             fmax(fabs(r) * 0x1p-11, 0x1p-25);
        bool ok;
        if (isnan(r) || isnan(g))
            ok = isnan(r) && isnan(g);
        else if (isinf(rh) || isinf(g))
            ok = g == rh;
        else
            ok = fabs(g - r) <= bound;
        if (!ok) {
            snprintf(msg, msg_size,
                     "element %zu: got %.9g, expected %.9g (fp16 storage; |diff| %.3g, bound %.3g)",
                     i, g, r, fabs(g - r), bound);
            return (long)i;
        }
    }
    if (msg_size)
        msg[0] = '\0';
    return -1;
}

#define CANARY 0x7fc0dead /* a NaN pattern no kernel writes by accident */

/* The guard bands hold CANARY's bytes from each band's own start, so a
 * payload of any byte count (fp16 tensors: 2-byte elements, odd counts)
 * keeps both bands whole and checked to the byte. */
static void fill_canary(unsigned char *p, size_t n)
{
    const uint32_t c = CANARY;
    for (size_t i = 0; i < n; i++)
        p[i] = ((const unsigned char *)&c)[i % 4];
}

static bool is_canary(const unsigned char *p, size_t n)
{
    const uint32_t c = CANARY;
    for (size_t i = 0; i < n; i++)
        if (p[i] != ((const unsigned char *)&c)[i % 4])
            return false;
    return true;
}

tu_guarded tu_guarded_create(clconv_context *ctx, size_t bytes, const void *init)
{
    tu_guarded g = {0};
    cl_uint align_bits = 0;
    cl_int err = clGetDeviceInfo(clconv_context_device(ctx), CL_DEVICE_MEM_BASE_ADDR_ALIGN,
                                 sizeof align_bits, &align_bits, NULL);
    ck_assert_int_eq(err, CL_SUCCESS);
    g.guard = align_bits / 8 < 256 ? 256 : align_bits / 8;
    g.bytes = bytes;
    size_t total = g.guard * 2 + bytes;
    unsigned char *host = malloc(total);
    ck_assert_ptr_nonnull(host);
    fill_canary(host, g.guard);
    fill_canary(host + g.guard, bytes); /* the payload when there is no init */
    fill_canary(host + g.guard + bytes, g.guard);
    if (init)
        memcpy(host + g.guard, init, bytes);
    g.parent = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              total, host, &err);
    free(host);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer: %d", err);
    cl_buffer_region region = {g.guard, bytes};
    g.buf = clCreateSubBuffer(g.parent, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    ck_assert_msg(err == CL_SUCCESS, "clCreateSubBuffer: %d", err);
    return g;
}

bool tu_guarded_read(clconv_context *ctx, tu_guarded *g, void *dst)
{
    size_t total = g->guard * 2 + g->bytes;
    unsigned char *host = malloc(total);
    ck_assert_ptr_nonnull(host);
    cl_int err = clEnqueueReadBuffer(clconv_context_queue(ctx), g->parent, CL_TRUE, 0, total, host,
                                     0, NULL, NULL);
    ck_assert_msg(err == CL_SUCCESS, "clEnqueueReadBuffer: %d", err);
    bool ok = is_canary(host, g->guard) && is_canary(host + g->guard + g->bytes, g->guard);
    if (dst)
        memcpy(dst, host + g->guard, g->bytes);
    free(host);
    return ok;
}

void tu_guarded_release(tu_guarded *g)
{
    if (g->buf)
        clReleaseMemObject(g->buf);
    if (g->parent)
        clReleaseMemObject(g->parent);
    g->buf = g->parent = NULL;
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    clconv_context_destroy(g_ctx);
    g_ctx = NULL;
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- shared by the pooling suites ---------------------------------------- */

bool tu_context_is_pocl(const clconv_context *ctx)
{
    cl_platform_id plat;
    char name[256] = "";
    ck_assert_int_eq(clGetDeviceInfo(clconv_context_device(ctx), CL_DEVICE_PLATFORM,
                                     sizeof plat, &plat, NULL), CL_SUCCESS);
    ck_assert_int_eq(clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof name, name, NULL),
                     CL_SUCCESS);
    return strstr(name, "Portable Computing Language") != NULL;
}

bool tu_device_is_pocl(void) { return tu_context_is_pocl(tu_ctx()); }

bool tu_device_is_cpu(void)
{
    /* The kernel family, not the raw type: Oclgrind reports CPU | GPU, and
     * CLCONV_DEVICE_CLASS may force either family. */
    return clconv_context_device_class(tu_ctx()) == CLCONV_DEVICE_CLASS_CPU;
}

void tu_fill_data(tu_rng *r, float *a, size_t n, int data)
{
    tu_fill(r, a, n, data == 0);
    if (data == 2) {
        static const float specials[] = {NAN, INFINITY, -INFINITY, -INFINITY};
        for (size_t i = 0; i < n; i++)
            if (tu_int(r, 0, 7) == 0)
                a[i] = specials[tu_int(r, 0, 3)];
    }
}

void tu_random_activation(tu_rng *r, clconv_activation *act, float params[2], bool any)
{
    *act = !any ? (tu_int(r, 0, 1) ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_NONE)
                : (clconv_activation)tu_int(r, CLCONV_ACTIVATION_RELU6, CLCONV_ACTIVATION_MISH);
    clconv_activation_default_params(*act, params);
    if (*act == CLCONV_ACTIVATION_HARDTANH) {
        params[0] = -(float)tu_int(r, 0, 8) / 4.0f;
        params[1] = params[0] + (float)tu_int(r, 0, 12) / 4.0f;
    } else if (*act == CLCONV_ACTIVATION_LEAKY_RELU || *act == CLCONV_ACTIVATION_ELU) {
        params[0] = (float)tu_int(r, -8, 16) / 8.0f;
    }
}

void tu_random_epilogue(tu_rng *r, int family, int *has_residual, float *alpha, float *beta,
                        int *pre_output)
{
    static const float scales[][2] = {{1.0f, 1.0f}, {0.5f, 2.0f}, {-1.0f, 0.25f},
                                      {1.0f, 0.0f}, {0.0f, 1.0f}, {2.0f, -0.5f}};
    *has_residual = family & 1;
    *pre_output = (family & 2) != 0;
    *alpha = *beta = 1.0f;
    if (*has_residual) {
        const float *s = scales[tu_int(r, 0, (int)(sizeof scales / sizeof scales[0]) - 1)];
        *alpha = s[0];
        *beta = s[1];
    }
}

bool tu_activation_exact_on_integers(clconv_activation act)
{
    return act == CLCONV_ACTIVATION_NONE || act == CLCONV_ACTIVATION_RELU ||
           act == CLCONV_ACTIVATION_RELU6 || act == CLCONV_ACTIVATION_HARDTANH ||
           act == CLCONV_ACTIVATION_LEAKY_RELU;
}

clconv_pool2d_params tu_pool2d_random(tu_rng *r, const clconv_pool_mode *modes, int nmodes,
                                      bool palette, clconv_shape *in)
{
    for (;;) {
        clconv_pool2d_params p;
        clconv_pool_mode m = modes[tu_int(r, 0, nmodes - 1)];
        *in = (clconv_shape){tu_int(r, 1, 3), tu_int(r, 1, 4), tu_int(r, 1, 20), tu_int(r, 1, 40)};
        if (m == CLCONV_POOL_ADAPTIVE_AVG || m == CLCONV_POOL_ADAPTIVE_MAX) {
            p = clconv_pool2d_default_params(m, tu_int(r, 1, (int)in->h + 3),
                                             tu_int(r, 1, (int)in->w + 3));
            if (tu_int(r, 0, 5) == 0)
                p = clconv_pool2d_global_params(m);
        } else if (palette && tu_int(r, 0, 3) == 0) { /* a window of the specialized palette */
            int k = tu_int(r, 2, 3), s = tu_int(r, 1, 2);
            p = clconv_pool2d_default_params(m, k, k);
            p.stride_h = p.stride_w = s;
        } else {
            p = clconv_pool2d_default_params(m, tu_int(r, 1, 6), tu_int(r, 1, 6));
            p.stride_h = tu_int(r, 1, 4);
            p.stride_w = tu_int(r, 1, 4);
            if (m == CLCONV_POOL_MAX && tu_int(r, 0, 2) == 0) {
                p.dilation_h = tu_int(r, 1, 3);
                p.dilation_w = tu_int(r, 1, 3);
            }
        }
        if (m != CLCONV_POOL_LP) {
            p.pad_top = tu_int(r, 0, (int)(p.kernel_h / 2)); /* each side on its own */
            p.pad_bottom = tu_int(r, 0, (int)(p.kernel_h / 2));
            p.pad_left = tu_int(r, 0, (int)(p.kernel_w / 2));
            p.pad_right = tu_int(r, 0, (int)(p.kernel_w / 2));
        }
        p.ceil_mode = tu_int(r, 0, 1);
        p.count_include_pad = tu_int(r, 0, 1);
        if (m == CLCONV_POOL_AVG && tu_int(r, 0, 4) == 0)
            p.divisor_override = tu_int(r, 0, 1) ? tu_int(r, 1, 9) : -tu_int(r, 1, 3);
        if (m == CLCONV_POOL_LP) {
            static const double ps[] = {1, 2, 2, 3, 1.5, 4};
            p.norm_type = ps[tu_int(r, 0, 5)];
        }
        if (clconv_pool2d_validate(&p, in) == CLCONV_SUCCESS)
            return p;
    }
}
