/* Window bounds shared by the pooling references (host/reference/pool2d.c,
 * the forward, and host/reference/pool2d_backward.c, its gradient): both
 * must walk the very windows PyTorch's CPU kernels walk. */
#ifndef CLCONV_REFERENCE_POOL2D_WINDOW_H
#define CLCONV_REFERENCE_POOL2D_WINDOW_H

#include "../internal.h"

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Adaptive pooling's window o of out along an axis of in cells:
 * [*s, *e) = [floor(o*in/out), ceil((o+1)*in/out)). */
static inline void ref_adaptive_range(int64_t o, int64_t in, int64_t out, int64_t *s, int64_t *e)
{
    *s = o * in / out;
    *e = ((o + 1) * in + out - 1) / out;
}

/* Average pooling's window of output (oh, ow) over an H x W plane, as
 * AvgPoolKernel.cpp: rows [*hs, *he), columns [*ws, *we) clipped to the
 * image, and *divide: divisor_override, else the window within the padded
 * image (count_include_pad) or within the image. False when the clipped
 * window is empty (no tap in the image). */
static inline bool ref_avg_window(const clconv_pool2d_params *p, int64_t H, int64_t W,
                                  int64_t oh, int64_t ow, int64_t *hs, int64_t *he, int64_t *ws,
                                  int64_t *we, int64_t *divide)
{
    *hs = oh * p->stride_h - p->pad_top;
    *ws = ow * p->stride_w - p->pad_left;
    *he = min64(*hs + p->kernel_h, H + p->pad_bottom);
    *we = min64(*ws + p->kernel_w, W + p->pad_right);
    const int64_t pool_size = (*he - *hs) * (*we - *ws);
    *hs = max64(*hs, 0);
    *ws = max64(*ws, 0);
    *he = min64(*he, H);
    *we = min64(*we, W);
    if (*hs >= *he || *ws >= *we)
        return false;
    *divide = p->divisor_override ? p->divisor_override
              : p->count_include_pad ? pool_size
                                     : (*he - *hs) * (*we - *ws);
    return true;
}

#endif
