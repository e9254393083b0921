/* The pooling tester shared by test_pool2d, test_pool2d_backward and
 * test_numerics, in the style of XNNPACK's PoolingOperatorTester (and of
 * conv_tester.h): parameters + input shape + options in, guarded buffers,
 * one run, the result out; a failure names the case. */
#ifndef CLCONV_POOL_TESTER_H
#define CLCONV_POOL_TESTER_H

#include "testutil.h"

/* Runs pooling p on input in (x a host array) through options opt (NULL:
 * defaults) on ctx, in guarded buffers; y starts as junk, so an element the
 * run does not write shows. When idx is not NULL (max modes) the indices
 * come back in *idx (the caller frees). Fails the test on any error, when
 * the plan's algorithm is not pool or its sizes disagree with
 * clconv_pool2d_output_shape, on a write outside y (or the indices), or on
 * a change to x. Returns y (the caller frees); info (may be NULL) gets the
 * plan's info. what names the case in messages. p->dtype F16: x holds
 * halves widened to floats (tu_round_to_half), uploaded as halves; y's
 * halves come back widened. */
float *tu_pool2d_run(clconv_context *ctx, const clconv_pool2d_params *p, const clconv_shape *in,
                     const float *x, const clconv_plan_options *opt, int64_t **idx,
                     clconv_plan_info *info, const char *what);

/* The same for the backward pass: dy [the forward's output], idx (may be
 * NULL) and x (may be NULL), as clconv_pool2d_backward_run takes them.
 * Returns dx (the caller frees); fails on a change to dy, idx or x. p->dtype
 * F16: dy and x hold halves widened, uploaded as halves; dx's halves come
 * back widened (the guard bands are checked on the 2-byte buffer). */
float *tu_pool2d_backward_run(clconv_context *ctx, const clconv_pool2d_params *p,
                              const clconv_shape *in, const float *dy, const int64_t *idx,
                              const float *x, const clconv_plan_options *opt, const char *what);

/* "mode=.. in=NxCxHxW k=.. s=.. pad=t,b,l,r d=.. ceil=.. cip=.. div=.. p=.. out=.." */
void tu_pool2d_describe(const clconv_pool2d_params *p, const clconv_shape *in, char *buf,
                        size_t n);

/* got == want elementwise within atol + rtol * |want| (both 0: bit-exact
 * but for NaN meeting NaN); what names the result. */
void tu_expect_close(const float *got, const float *want, size_t n, double atol, double rtol,
                     const char *what);

#endif
