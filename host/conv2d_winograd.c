/* conv2d by Winograd F(2x2,3x3) for 3x3 stride-1 layers. */
#include "internal.h"

clconv_status clconv_conv2d_winograd_plan(clconv_plan *plan, const clconv_conv2d_params *p,
                                          const clconv_shape *in, const clconv_shape *out)
{
    (void)p;
    (void)in;
    (void)out;
    return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED, "conv2d winograd: not implemented yet");
}

clconv_status clconv_conv2d_winograd_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                         cl_mem y, cl_mem workspace, cl_uint num_wait,
                                         const cl_event *wait_list, cl_event *done)
{
    (void)x; (void)w; (void)b; (void)y; (void)workspace; (void)num_wait; (void)wait_list;
    (void)done;
    return clconv_fail(plan->ctx, CLCONV_ERROR_UNSUPPORTED, "conv2d winograd: not implemented yet");
}
