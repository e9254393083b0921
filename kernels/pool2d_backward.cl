/* Gradients of 2-D pooling (NCHW, float32 or fp16 storage) with respect to
 * the input, as PyTorch computes them: max_pool2d_with_indices_backward,
 * avg_pool2d_backward, the autograd graph of lp_pool2d,
 * adaptive_{avg,max}_pool2d_backward.
 *
 * Gather form, no atomics: work-item k owns input cell k (plane, ih, iw) of
 * the n*c*H*W cells and sums, in row-major (oh, ow) order, the share of every
 * window that covers it: exactly the additions PyTorch's scatter loops make
 * into that cell, in the same order, starting from 0. Results are the same
 * from run to run, and every cell of dx is written (0 where no window
 * reaches it).
 *
 * Build-time constant (-D): MODE 1 max, 2 avg, 3 lp, 4 adaptive avg,
 * 5 adaptive max (as kernels/pool2d.cl). Windows are kernel arguments, so the
 * program count is one per mode.
 *
 * Max modes: a window adds dy to the cell its index names: idx[o] (int64,
 * ih * W + iw within the plane) when idx is not NULL, else the argmax
 * recomputed from the forward input x with pool2d.cl's rules (NaN wins, the
 * last NaN; ties keep the first). A window only reaches the cells of its
 * span, so an index outside it (never produced by the forward) adds nothing.
 * No -cl-fast-relaxed-math: the NaN rules depend on it being off.
 *
 * fp16 storage (-DCLCONV_F16, common.cl's store_t): dy, x and dx are halves
 * read through CLCONV_LD and written through CLCONV_ST; indices stay int64.
 * Every sum is a float, rounded once when dx is stored (mixed-precision
 * training's rule). The recomputed argmax compares widened halves, which
 * order as the halves do, so it routes the gradient to the forward's cell.
 */

#define MODE_MAX 1
#define MODE_AVG 2
#define MODE_LP 3
#define MODE_ADAPTIVE_AVG 4
#define MODE_ADAPTIVE_MAX 5

#if MODE == MODE_MAX
/* The forward's argmax of window (ih0, iw0) as a flat index in the plane. */
inline long window_argmax(__global const store_t *xp, int H, int W, int ih0, int iw0, int kh,
                          int kw, int dh, int dw)
{
    const int fh = ih0 < 0 ? ih0 + (-ih0 + dh - 1) / dh * dh : ih0;
    const int fw = iw0 < 0 ? iw0 + (-iw0 + dw - 1) / dw * dw : iw0;
    float m = -INFINITY;
    long mi = (long)fh * W + fw;
    for (int a = 0; a < kh; a++) {
        const int ih = ih0 + a * dh;
        if (ih < 0 || ih >= H)
            continue;
        for (int b = 0; b < kw; b++) {
            const int iw = iw0 + b * dw;
            if (iw < 0 || iw >= W)
                continue;
            const float v = CLCONV_LD(xp, ih * W + iw);
            if (v > m || isnan(v)) {
                m = v;
                mi = (long)(ih * W + iw);
            }
        }
    }
    return mi;
}
#endif

/* Max, avg and lp windows: kernel kh x kw, stride sh x sw, padding ph (top),
 * pw (left), pb (bottom), pr (right), dilation dh x dw (1 but for max). divisor: avg's divisor_override as a
 * float (0 = none). lp: p, inv_p = 1/p, tpow = 1/p - 1, xpow = p - 1. */
__kernel void pool2d_backward_window(__global const store_t *restrict dy,
                                     __global const long *restrict idx,
                                     __global const store_t *restrict x,
                                     __global store_t *restrict dx, const int H, const int W,
                                     const int OH, const int OW, const int nitems, const int kh,
                                     const int kw, const int sh, const int sw, const int ph,
                                     const int pw, const int pb, const int pr, const int dh,
                                     const int dw,
                                     const int count_include_pad, const int lp_kind,
                                     const float divisor, const float p, const float inv_p,
                                     const float tpow, const float xpow)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return; /* no barriers in this kernel: leaving early is safe */
    const int iw = (int)k % W, r = (int)k / W;
    const int ih = r % H, plane = r / H;
    /* The windows whose span [o*s - pad, o*s - pad + (k-1)*d] holds the cell. */
    const int nh = ih + ph - (kh - 1) * dh, nw = iw + pw - (kw - 1) * dw;
    const int oh0 = nh <= 0 ? 0 : (nh + sh - 1) / sh, oh1 = min(OH - 1, (ih + ph) / sh);
    const int ow0 = nw <= 0 ? 0 : (nw + sw - 1) / sw, ow1 = min(OW - 1, (iw + pw) / sw);
    __global const store_t *dyp = dy + (size_t)plane * OH * OW;
    float s = 0.0f;
#if MODE == MODE_MAX
    const long me = (long)ih * W + iw;
    __global const long *ip = idx ? idx + (size_t)plane * OH * OW : 0;
    __global const store_t *xp = x ? x + (size_t)plane * H * W : 0;
    for (int oh = oh0; oh <= oh1; oh++)
        for (int ow = ow0; ow <= ow1; ow++) {
            const int o = oh * OW + ow;
            const long w = ip ? ip[o]
                              : window_argmax(xp, H, W, oh * sh - ph, ow * sw - pw, kh, kw, dh, dw);
            if (w == me)
                s += CLCONV_LD(dyp, o);
        }
    CLCONV_ST(s, k, dx);
#elif MODE == MODE_AVG
    /* The divisor of each window exactly as the forward computes it. */
    for (int oh = oh0; oh <= oh1; oh++) {
        const int ih0 = oh * sh - ph;
        const int he = min(ih0 + kh, H + pb);
        const int hs = max(ih0, 0), hc = min(he, H);
        for (int ow = ow0; ow <= ow1; ow++) {
            const int iw0 = ow * sw - pw;
            const int we = min(iw0 + kw, W + pr);
            const int ws = max(iw0, 0), wc = min(we, W);
            const float div = divisor != 0.0f ? divisor
                              : count_include_pad ? (float)((long)(he - ih0) * (we - iw0))
                                                  : (float)((long)(hc - hs) * (wc - ws));
            s += CLCONV_LD(dyp, oh * OW + ow) / div;
        }
    }
    CLCONV_ST(s, k, dx);
#elif MODE == MODE_LP
    /* lp_pool2d = (sign(a) * relu(|a|) * kh*kw)^(1/p), a = avg_pool2d(x^p)
     * over the window clipped to the input. Per window: da = dy * (1/p) *
     * t^(1/p - 1) * kh*kw with t = a * kh*kw (nothing where a == 0: relu's
     * gradient at 0), shared over the window's cells; the cell then
     * multiplies the sum by p * x^(p-1). */
    __global const store_t *xp = x + (size_t)plane * H * W;
    const float kk = (float)(kh * kw);
    for (int oh = oh0; oh <= oh1; oh++) {
        const int ih0 = oh * sh, hc = min(ih0 + kh, H);
        for (int ow = ow0; ow <= ow1; ow++) {
            const int iw0 = ow * sw, wc = min(iw0 + kw, W);
            float sum = 0.0f;
            for (int a = ih0; a < hc; a++)
                for (int b = iw0; b < wc; b++)
                    sum += clconv_lp_pow(CLCONV_LD(xp, a * W + b), lp_kind, p);
            const float cnt = (float)((long)(hc - ih0) * (wc - iw0));
            const float av = sum / cnt;
            if (av == 0.0f)
                continue;
            const float t = av * kk;
            const float tp = lp_kind == 1 ? 1.0f : lp_kind == 2 ? 1.0f / sqrt(t) : pow(t, tpow);
            s += CLCONV_LD(dyp, oh * OW + ow) * inv_p * tp * kk / cnt;
        }
    }
    const float v = CLCONV_LD(xp, ih * W + iw);
    const float xd = lp_kind == 1 ? 1.0f : lp_kind == 2 ? v : lp_kind == 3 ? v * v : pow(v, xpow);
    CLCONV_ST(s * (p * xd), k, dx);
#else
    /* An adaptive program: built beside pool2d_backward_adaptive, never enqueued. */
    (void)dyp;
    (void)oh0;
    (void)oh1;
    (void)ow0;
    (void)ow1;
    CLCONV_ST(s, k, dx);
#endif
}

/* Adaptive windows: output oh pools rows [floor(oh*H/OH), ceil((oh+1)*H/OH)).
 * The windows that can hold row ih are oh in [floor(ih*OH/H),
 * ceil((ih+1)*OH/H)); each is checked against its own bounds. */
__kernel void pool2d_backward_adaptive(__global const store_t *restrict dy,
                                       __global const long *restrict idx,
                                       __global const store_t *restrict x,
                                       __global store_t *restrict dx, const int H, const int W,
                                       const int OH, const int OW, const int nitems)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return;
    const int iw = (int)k % W, r = (int)k / W;
    const int ih = r % H, plane = r / H;
    const int oh0 = CLCONV_ADAPTIVE_START(ih, OH, H), oh1 = CLCONV_ADAPTIVE_END(ih, OH, H);
    const int ow0 = CLCONV_ADAPTIVE_START(iw, OW, W), ow1 = CLCONV_ADAPTIVE_END(iw, OW, W);
    __global const store_t *dyp = dy + (size_t)plane * OH * OW;
    float s = 0.0f;
#if MODE == MODE_ADAPTIVE_MAX
    const long me = (long)ih * W + iw;
    __global const store_t *xp = x ? x + (size_t)plane * H * W : 0;
#endif
    for (int oh = oh0; oh < oh1 && oh < OH; oh++) {
        const int hs = CLCONV_ADAPTIVE_START(oh, H, OH), he = CLCONV_ADAPTIVE_END(oh, H, OH);
        if (ih < hs || ih >= he)
            continue;
        for (int ow = ow0; ow < ow1 && ow < OW; ow++) {
            const int ws = CLCONV_ADAPTIVE_START(ow, W, OW), we = CLCONV_ADAPTIVE_END(ow, W, OW);
            if (iw < ws || iw >= we)
                continue;
            const int o = oh * OW + ow;
#if MODE == MODE_ADAPTIVE_MAX
            long w;
            if (idx) {
                w = idx[(size_t)plane * OH * OW + o];
            } else {
                float m = -INFINITY;
                w = (long)hs * W + ws;
                for (int a = hs; a < he; a++)
                    for (int b = ws; b < we; b++) {
                        const float v = CLCONV_LD(xp, a * W + b);
                        if (v > m || isnan(v)) {
                            m = v;
                            w = (long)(a * W + b);
                        }
                    }
            }
            if (w == me)
                s += CLCONV_LD(dyp, o);
#elif MODE == MODE_ADAPTIVE_AVG
            s += CLCONV_LD(dyp, o) / (float)(he - hs) / (float)(we - ws); /* as PyTorch: dy / kh / kw */
#endif
        }
    }
#if MODE != MODE_ADAPTIVE_MAX
    (void)idx;
    (void)x;
#endif
    CLCONV_ST(s, k, dx);
}
