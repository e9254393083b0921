/* What the conv2d backward files share (host/conv2d_backward/). Not installed. */
#ifndef CLCONV_BACKWARD_H
#define CLCONV_BACKWARD_H

#include "../algo.h"

/* Checks params / input for a backward plan of conv2d (the forward's
 * parameters and input shape): ctx, out, the shapes and the device limits of
 * dx, dw and dy; writes the forward output shape. */
clconv_status clconv_bwd_begin(clconv_context *ctx, const clconv_conv2d_params *params,
                               const clconv_shape *input, clconv_plan **out,
                               clconv_shape *oshape);

/* A run's common checks: the plan (kind op; fn names the call), the wait list. */
clconv_status clconv_bwd_check_run(clconv_plan *plan, clconv_op op, const char *fn,
                                   cl_uint num_wait, const cl_event *wait_list, cl_event *done);

/* out is neither a nor b (names for the message). */
clconv_status clconv_bwd_no_alias(clconv_context *ctx, cl_mem out, const char *oname, cl_mem a,
                                  const char *aname, cl_mem b, const char *bname);


static inline size_t clconv_bwd_round_up(size_t a, size_t b)
{
    return (a + b - 1) / b * b;
}

#endif
