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

/* The same for conv_transpose2d (x [in], w [in, out/groups, kh, kw]). */
float *tu_conv_transpose2d_run(clconv_context *ctx, const clconv_conv_transpose2d_params *p,
                               const clconv_shape *in, const float *x, const float *w,
                               const float *b, const clconv_plan_options *opt,
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
