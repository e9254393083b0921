/* Helpers shared by the Check suites: one device context per process, a
 * seeded RNG, tolerance comparison against the reference, guarded buffers. */
#ifndef CLCONV_TESTUTIL_H
#define CLCONV_TESTUTIL_H

#include "clconv.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The process-wide test context on the default device. No device is a test
 * failure, never a skip: a CI that validated nothing must not go green. */
clconv_context *tu_ctx(void);

/* A second context on the test context's OpenCL context and queue (so it
 * shares its buffers) with options.workspace_limit = workspace_limit; the
 * caller destroys it. */
clconv_context *tu_ctx_with_limit(size_t workspace_limit);

/* Replaces the test context with a new one on the same default device (a
 * context reads CLCONV_WORKSPACE_LIMIT and the other variables when it is
 * made: call this after setenv / unsetenv). Every plan of the old context
 * must have been destroyed. Returns the creation's status (on failure the
 * next tu_ctx() tries again). */
clconv_status tu_ctx_renew(void);

/* xorshift64* generator; the seed is printed with every failure. */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;
tu_rng tu_rng_make(uint64_t seed);
uint64_t tu_next(tu_rng *r);
int tu_int(tu_rng *r, int lo, int hi);      /* uniform in [lo, hi] */
float tu_float(tu_rng *r, float lo, float hi);

/* Fills with small integers in [-3, 3] (exact in fp32 sums) or with floats
 * in [-1, 1]. */
void tu_fill(tu_rng *r, float *a, size_t n, bool integers);

/* Heap helpers that fail the test on exhaustion. */
float *tu_alloc(size_t n);

/* Compares got against ref elementwise: |got-ref| <= atol + rtol * scale[i]
 * (scale NULL: |ref[i]|). NaN must meet NaN, inf the same inf. Returns the
 * first bad index or -1, and describes it in msg. */
long tu_compare(const float *got, const float *ref, const float *scale, size_t n, double atol,
                double rtol, char *msg, size_t msg_size);

/* Rounds every element to the nearest half (clconv_float_to_half) and back:
 * fp16 inputs as the device will read them. */
void tu_round_to_half(float *a, size_t n);

/* tu_compare for results stored as halves (include/clconv.h's dtype bound):
 * |got - ref| <= atol + rtol * scale[i] + max(|ref| 2^-11, 2^-25) (one half
 * ulp of the result on top of the F32 bound); a ref that rounds to an
 * infinite half (beyond 65504) must give that inf; NaN must meet NaN. */
long tu_compare_f16(const float *got, const float *ref, const float *scale, size_t n,
                    double atol, double rtol, char *msg, size_t msg_size);

/* A device buffer of `bytes` with canary guard bands before and after it
 * (a sub-buffer of a larger one), to catch out-of-bounds writes. Any byte
 * count (fp16 tensors of odd element counts too): the bands are checked
 * byte by byte. */
typedef struct tu_guarded {
    cl_mem parent, buf;
    size_t bytes, guard;
} tu_guarded;
tu_guarded tu_guarded_create(clconv_context *ctx, size_t bytes, const void *init);
/* Reads the payload into dst (may be NULL) and checks the canaries; false
 * when a guard band was overwritten. */
bool tu_guarded_read(clconv_context *ctx, tu_guarded *g, void *dst);
void tu_guarded_release(tu_guarded *g);

/* Runs a Check suite without forking (one OpenCL context for the process)
 * and returns the process exit status. */
int tu_run_suite(Suite *s);

/* A random fused activation for the sweeps. any = false: none or ReLU
 * (half each); any = true: any of the others with random valid parameters
 * (hardtanh bounds, leaky_relu's slope, elu's alpha). Those are compiled
 * into programs of their own (-DCLCONV_ACT_ANY), so a sweep keeps its
 * program count by tying `any` to something that already selects the
 * program (its geometry). */
void tu_random_activation(tu_rng *r, clconv_activation *act, float params[2], bool any);

/* Whether a layer with this activation is exact on small-integer data: the
 * piecewise-linear ones (none, relu, relu6, hardtanh and leaky_relu with
 * tu_random_activation's quarter / eighth parameters); the others evaluate
 * exp / tanh / erf in float. */
bool tu_activation_exact_on_integers(clconv_activation act);

/* The rest of a convolution's epilogue (include/clconv.h "The epilogue"),
 * drawn from r by family (tie it to the geometry, as the activation family,
 * so a sweep compiles no more programs): 0 none; 1 a residual with alpha,
 * beta from a small set of exact binary fractions (1 and 1, 0.5 and 2, -1
 * and 0.25, 1 and 0, 0 and 1 ...); 2 the pre-activation output; 3 both. */
void tu_random_epilogue(tu_rng *r, int family, int *has_residual, float *alpha, float *beta,
                        int *pre_output);

/* ---- shared by the pooling suites (test_pool2d, test_pool2d_backward) ---- */

/* Whether the test context's device is PoCL's (its platform name). Budgets
 * measured on PoCL (how many programs a sweep builds under its AUTO choices)
 * are asserted there only: another driver's AUTO may choose differently, and
 * a test of behaviour must hold on any conformant device. */
bool tu_device_is_pocl(void);
/* The same for ctx's device (for a test that must not make the shared context). */
bool tu_context_is_pocl(const clconv_context *ctx);

/* Whether the test context plans the CPU kernel family. */
bool tu_device_is_cpu(void);

/* tu_fill with data 0 (small integers) or 1 (floats); data 2: floats with
 * NaN, inf and -inf sprinkled over about one element in eight. */
void tu_fill_data(tu_rng *r, float *a, size_t n, int data);

/* Random valid pooling params and input shape: the mode drawn from modes
 * (repeats weight it), windows up to 6, strides up to 4, dilation (max),
 * padding up to half the window (not lp), ceil_mode, count_include_pad,
 * divisor_override (avg), p (lp); palette: one draw in four is a 2x2 / 3x3
 * window of stride 1 or 2 (the specialized kernels). Redraws until
 * clconv_pool2d_validate accepts. */
clconv_pool2d_params tu_pool2d_random(tu_rng *r, const clconv_pool_mode *modes, int nmodes,
                                      bool palette, clconv_shape *in);

#endif
