/* The convolution testers shared by the conv2d suites (test_conv2d,
 * test_conv2d_gemm, test_conv2d_winograd, test_context) and
 * test_conv_transpose2d, in the style of XNNPACK's ConvolutionOperatorTester:
 * parameters + input shape + an algorithm in, guarded buffers, one run, the
 * result out; a failure says which layer and algorithm. */
#ifndef CLCONV_CONV_TESTER_H
#define CLCONV_CONV_TESTER_H

#include "testutil.h"

/* Runs p on input in (x, w, b host arrays; b may be NULL without a bias)
 * through options opt (NULL: AUTO) on ctx, in guarded buffers (a workspace
 * too when the plan asks for one). Fails the test on any error, when the
 * plan did not choose opt->algorithm, or on a write outside y and the
 * workspace. Returns y (the caller frees it); info (may be NULL) gets the
 * plan's info. what names the case in messages. */
float *tu_conv2d_run(clconv_context *ctx, const clconv_conv2d_params *p, const clconv_shape *in,
                     const float *x, const float *w, const float *b,
                     const clconv_plan_options *opt, clconv_plan_info *info, const char *what);

/* The epilogue's arrays of a run (include/clconv.h "The epilogue"): z, y's
 * size, for a layer with has_residual (in_place: y's buffer starts as z and
 * is passed as z too); pre, y's size, receives the pre-activation output of
 * a layer with pre_activation_output (NULL: not read back, guards checked). */
typedef struct tu_conv_epilogue {
    const float *z;
    bool in_place;
    float *pre;
} tu_conv_epilogue;

/* tu_conv2d_run with the epilogue's arrays (runs through clconv_conv_run
 * when the layer has a residual or a second output). */
float *tu_conv2d_run_epilogue(clconv_context *ctx, const clconv_conv2d_params *p,
                              const clconv_shape *in, const float *x, const float *w,
                              const float *b, const tu_conv_epilogue *epi,
                              const clconv_plan_options *opt, clconv_plan_info *info,
                              const char *what);
float *tu_conv_transpose2d_run_epilogue(clconv_context *ctx,
                                        const clconv_conv_transpose2d_params *p,
                                        const clconv_shape *in, const float *x, const float *w,
                                        const float *b, const tu_conv_epilogue *epi,
                                        const clconv_plan_options *opt, clconv_plan_info *info,
                                        const char *what);

/* The same for conv_transpose2d (x [in], w [in, out/groups, kh, kw]). */
float *tu_conv_transpose2d_run(clconv_context *ctx, const clconv_conv_transpose2d_params *p,
                               const clconv_shape *in, const float *x, const float *w,
                               const float *b, const clconv_plan_options *opt,
                               clconv_plan_info *info, const char *what);

/* One case against the reference, the sweeps' check: fills x, w, b (and z
 * for a residual layer, run in place or not as r says) from r
 * (small integers when integers, else floats in [-1, 1]), runs the reference
 * on them and on |x|, |w|, |b| (the bound's scale: sum |x*w| + |b| per
 * output), runs opt through tu_conv2d_run and compares: exact on integers,
 * else |y - ref| <= 1e-7 + 4 sqrt(K) FLT_EPSILON * scale with K the reduction
 * length + 2 (the bias and the residual; rounding grows as the square root
 * of the sum's length), scale = |alpha| sum |x*w| + |beta| |z| + |b|; the
 * pre-activation output (when the layer writes it) to the same bound. A
 * failure names what (the case) and the first bad element. info (may be
 * NULL) gets the plan's info. */
void tu_conv2d_check(clconv_context *ctx, const clconv_conv2d_params *p, const clconv_shape *in,
                     const clconv_plan_options *opt, tu_rng *r, bool integers,
                     clconv_plan_info *info, const char *what);

/* The same for conv_transpose2d (K = in_channels / groups * kh * kw + 1). */
void tu_conv_transpose2d_check(clconv_context *ctx, const clconv_conv_transpose2d_params *p,
                               const clconv_shape *in, const clconv_plan_options *opt, tu_rng *r,
                               bool integers, clconv_plan_info *info, const char *what);

/* The reference check's scale for a layer of your own (the caller frees):
 * the layer without its activation on |x|, |w| and, when params->has_bias,
 * |b| (per output: sum |x*w| + |b|). */
float *tu_conv2d_abs_scale(const clconv_conv2d_params *p, const clconv_shape *in, const float *x,
                           const float *w, const float *b);
float *tu_conv_transpose2d_abs_scale(const clconv_conv_transpose2d_params *p,
                                     const clconv_shape *in, const float *x, const float *w,
                                     const float *b);

/* tu_conv2d_abs_scale for a layer with a residual too (z: y's size, read
 * when p->has_residual): per output |alpha| sum |x*w| + |beta| |z| + |b|. */
float *tu_conv2d_abs_scale_epilogue(const clconv_conv2d_params *p, const clconv_shape *in,
                                    const float *x, const float *w, const float *b,
                                    const float *z);

float *tu_conv_transpose2d_abs_scale_epilogue(const clconv_conv_transpose2d_params *p,
                                              const clconv_shape *in, const float *x,
                                              const float *w, const float *b, const float *z);

/* The conv2d backward passes. */
typedef enum tu_backward_pass {
    TU_BACKWARD_DATA = 0,    /* a = dy, b = w; returns dx */
    TU_BACKWARD_WEIGHTS = 1, /* a = x, b = dy; returns dw */
    TU_BACKWARD_BIAS = 2     /* a = dy, b unused; returns db */
} tu_backward_pass;

/* "backward-data", "backward-weights", "backward-bias". */
const char *tu_backward_pass_name(tu_backward_pass pass);

/* Runs one backward pass of conv2d p (forward input shape in) on ctx
 * through options opt, in guarded buffers (a workspace too); the output
 * starts as NaN, so an element the run does not write shows. Fails the test
 * on any error or on a write outside the output and the workspace. Returns
 * the result (the caller frees); info (may be NULL) gets the plan's info.
 * p->dtype F16: a and b hold halves widened, uploaded as halves; the
 * output's halves come back widened (guard bands on the 2-byte buffer). */
float *tu_conv2d_backward_run(clconv_context *ctx, tu_backward_pass pass,
                              const clconv_conv2d_params *p, const clconv_shape *in,
                              const float *a, const float *b, const clconv_plan_options *opt,
                              clconv_plan_info *info, const char *what);

/* got == want exactly, element by element (what names the result). */
void tu_expect_values(const float *got, const float *want, size_t n, const char *what);

/* A golden case (the study notes' worked examples): the reference, every
 * conv2d algorithm that covers the layer (clconv_conv2d_algorithm_supported;
 * direct-pointwise on 1x1 layers only, each of its other shapes being one
 * more program to compile), AUTO and clconv_conv2d_host must all give want
 * exactly. */
void tu_conv2d_golden(const clconv_conv2d_params *p, const clconv_shape *in, const float *x,
                      const float *w, const float *b, const float *want, size_t nwant);

#endif
