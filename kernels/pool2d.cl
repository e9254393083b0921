/* 2-D pooling, NCHW float32, as PyTorch's CPU kernels compute it:
 * F.max_pool2d, F.avg_pool2d, F.lp_pool2d, F.adaptive_avg_pool2d,
 * F.adaptive_max_pool2d.
 *
 * Build-time constants (-D):
 *   MODE            1 max, 2 avg, 3 lp, 4 adaptive avg, 5 adaptive max
 *   BW              outputs per work-item (window kernel)
 *   KH KW SH SW     optional: a fixed window and stride (common shapes); when
 *                   absent the kernel takes them as arguments, so unusual
 *                   windows never multiply compiled programs
 *   VEC VSW         optional (CPU devices, max and avg, no dilation): builds
 *                   pool2d_window_vec, VEC neighbouring outputs of one row per
 *                   work-item in a floatVEC, column stride VSW (1 or 2)
 *
 * Work mapping (1-D NDRange, no local memory, no barriers): work-item k owns
 * column col = k % ncols of output row k / ncols (a row is one (n, c, oh)) and
 * computes outputs ow = col, col + ncols, ..., BW of them. Neighbouring
 * work-items read neighbouring windows, so reads are coalesced.
 *
 * Padding is virtual: taps outside the image are skipped, never read, and
 * never win a max. Indices, when the buffer is not NULL, are int64 (cl_long)
 * flat positions ih * W + iw within the input plane, as PyTorch returns them.
 * No -cl-fast-relaxed-math: the NaN rules below depend on it being off.
 */

#define MODE_MAX 1
#define MODE_AVG 2
#define MODE_LP 3
#define MODE_ADAPTIVE_AVG 4
#define MODE_ADAPTIVE_MAX 5

#ifdef KH
#define K_H KH
#define K_W KW
#define S_H SH
#define S_W SW
#define D_H 1
#define D_W 1
#else
#define K_H kh
#define K_W kw
#define S_H sh
#define S_W sw
#define D_H dh
#define D_W dw
#endif

/* PyTorch's max rule: a value wins if it is greater or NaN, so the last NaN
 * in row-major order wins and ties keep the first maximum. */
#define MAX_UPDATE(v, i)                  \
    if ((v) > m || isnan(v)) {            \
        m = (v);                          \
        mi = (i);                         \
    }

__kernel void pool2d_window(__global const float *restrict x, __global float *restrict y,
                            __global long *restrict idx, const int H, const int W,
                            const int OH, const int OW, const int ncols, const int nitems,
                            const int kh, const int kw, const int sh, const int sw,
                            const int ph, const int pw, const int dh, const int dw,
                            const int count_include_pad, const int lp_kind,
                            const float divisor, const float p, const float inv_p)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return; /* no barriers in this kernel: leaving early is safe */
    const int col = (int)k % ncols, row = (int)k / ncols;
    const int oh = row % OH, plane = row / OH;
    __global const float *xp = x + (size_t)plane * H * W;
    const size_t obase = (size_t)row * OW;
    const int ih0 = oh * S_H - ph;

    for (int c = 0; c < BW; c++) {
        const int ow = col + c * ncols;
        if (ow >= OW)
            break;
        const int iw0 = ow * S_W - pw;
        float out;
#if MODE == MODE_MAX
        /* PyTorch starts from -inf with the index of the first in-image tap
         * (which lies outside the plane only for a dilated window that has
         * no in-image tap at all). */
        const int fh = ih0 < 0 ? ih0 + (-ih0 + D_H - 1) / D_H * D_H : ih0;
        const int fw = iw0 < 0 ? iw0 + (-iw0 + D_W - 1) / D_W * D_W : iw0;
        float m = -INFINITY;
        long mi = (long)fh * W + fw;
        if (ih0 >= 0 && iw0 >= 0 && ih0 + (K_H - 1) * D_H < H && iw0 + (K_W - 1) * D_W < W) {
            /* Interior window (almost all of them): no bounds checks. */
            for (int a = 0; a < K_H; a++) {
                const int r = (ih0 + a * D_H) * W + iw0;
                for (int b = 0; b < K_W; b++) {
                    const float v = xp[r + b * D_W];
                    MAX_UPDATE(v, (long)(r + b * D_W))
                }
            }
        } else {
            for (int a = 0; a < K_H; a++) {
                const int ih = ih0 + a * D_H;
                if (ih < 0 || ih >= H)
                    continue;
                for (int b = 0; b < K_W; b++) {
                    const int iw = iw0 + b * D_W;
                    if (iw < 0 || iw >= W)
                        continue;
                    const float v = xp[ih * W + iw];
                    MAX_UPDATE(v, (long)(ih * W + iw))
                }
            }
        }
        out = m;
        if (idx)
            idx[obase + ow] = mi;
#elif MODE == MODE_AVG
        /* pool_size: the window clipped to the padded input (ceil_mode border);
         * then the window clipped to the image for the sum and the divisor
         * without padding. */
        const int he = min(ih0 + K_H, H + ph), we = min(iw0 + K_W, W + pw);
        const long pool_size = (long)(he - ih0) * (we - iw0);
        const int hs = max(ih0, 0), ws = max(iw0, 0);
        const int hc = min(he, H), wc = min(we, W);
        float s = 0.0f;
        if (ih0 >= 0 && iw0 >= 0 && ih0 + K_H <= H && iw0 + K_W <= W) {
            /* Interior window: no bounds checks. */
            for (int a = 0; a < K_H; a++) {
                const int r = (ih0 + a) * W + iw0;
                for (int b = 0; b < K_W; b++)
                    s += xp[r + b];
            }
        } else {
            for (int a = 0; a < K_H; a++) {
                const int ih = ih0 + a;
                if (ih < 0 || ih >= H)
                    continue;
                for (int b = 0; b < K_W; b++) {
                    const int iw = iw0 + b;
                    if (iw < 0 || iw >= W)
                        continue;
                    s += xp[ih * W + iw];
                }
            }
        }
        if (hs >= hc || ws >= wc) {
            out = 0.0f;
        } else {
            const float div = divisor != 0.0f ? divisor
                              : count_include_pad ? (float)pool_size
                                                  : (float)((long)(hc - hs) * (wc - ws));
            out = s / div;
        }
#elif MODE == MODE_LP
        /* PyTorch: avg_pool2d(x.pow(p), k, stride, 0, ceil_mode) (divisor: the
         * window clipped to the input), then
         * (sign(a) * relu(|a|)).mul(kw * kh).pow(1 / p). */
        const int hc = min(ih0 + K_H, H), wc = min(iw0 + K_W, W);
        float s = 0.0f;
        for (int a = 0; a < K_H; a++) {
            const int ih = ih0 + a;
            if (ih >= H)
                continue;
            for (int b = 0; b < K_W; b++) {
                const int iw = iw0 + b;
                if (iw >= W)
                    continue;
                s += clconv_lp_pow(xp[ih * W + iw], lp_kind, p);
            }
        }
        float av = s / (float)((long)(hc - ih0) * (wc - iw0));
        const float sgn = (float)((0.0f < av) - (av < 0.0f)); /* 0 for NaN, as torch.sign */
        av = sgn * fabs(av);                                   /* relu(|a|) keeps NaN */
        av = av * (float)(K_H * K_W);
        out = lp_kind == 1 ? av : lp_kind == 2 ? sqrt(av) : pow(av, inv_p);
#else
        /* An adaptive program: this kernel is built beside pool2d_adaptive but
         * never enqueued. */
        out = 0.0f;
#endif
        y[obase + ow] = out;
    }
}

#ifdef VEC
/* Vectorized max/avg windows for CPU devices, which do not vectorize across
 * work-items (PoCL): work-item k owns outputs ow0 = col * VEC .. ow0 + VEC - 1
 * of row k / ncols, ncols = ceil(OW / VEC), one per lane. Each lane visits its
 * taps in the same order as pool2d_window (kh-major, kw-minor), so values,
 * indices, NaN and tie rules are bit for bit those of the scalar kernel:
 * - max: an out-of-image tap reads -inf, which never wins (not > m, not NaN);
 * - avg: an out-of-image tap adds +0.0f to a sum that starts at +0.0f, which
 *   changes nothing (the sum is never -0.0f).
 * Stride 1 loads a row segment with one vloadV, stride 2 with two keeping the
 * even lanes; blocks at the image's left/right edge gather lane by lane. */
#define VCAT2(a, b) a##b
#define VCAT(a, b) VCAT2(a, b)
#define floatV VCAT(float, VEC)
#define intV VCAT(int, VEC)
#define longV VCAT(long, VEC)
#define vloadV VCAT(vload, VEC)
#define vstoreV VCAT(vstore, VEC)
#define convert_floatV VCAT(convert_float, VEC)
#define convert_longV VCAT(convert_long, VEC)

#if VSW == 1
#define PV_LOAD(p) vloadV(0, (p))
#elif VSW == 2
#define PV_LOAD(p) ((floatV)(vloadV(0, (p)).even, vloadV(0, (p) + VEC).even))
#else
#error "VSW must be 1 or 2"
#endif

inline floatV pv_gather(__global const float *xr, int iw, int W, float fill)
{
    float v[VEC];
    for (int p = 0; p < VEC; p++, iw += VSW)
        v[p] = (iw >= 0 && iw < W) ? xr[iw] : fill;
    return vloadV(0, v);
}

#if MODE == MODE_MAX
#define PV_FILL (-INFINITY)
#else
#define PV_FILL 0.0f
#endif

__kernel void pool2d_window_vec(__global const float *restrict x, __global float *restrict y,
                                __global long *restrict idx, const int H, const int W,
                                const int OH, const int OW, const int ncols, const int nitems,
                                const int kh, const int kw, const int sh, const int sw,
                                const int ph, const int pw, const int dh, const int dw,
                                const int count_include_pad, const int lp_kind,
                                const float divisor, const float p, const float inv_p)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return; /* no barriers in this kernel: leaving early is safe */
    const int col = (int)k % ncols, row = (int)k / ncols;
    const int oh = row % OH, plane = row / OH;
    __global const float *xp = x + (size_t)plane * H * W;
    const int ih0 = oh * S_H - ph;
    const int ow0 = col * VEC;
    const int iw0 = ow0 * VSW - pw;
    int lane[VEC];
    for (int q = 0; q < VEC; q++)
        lane[q] = q * VSW;
    const intV iwv = (intV)(iw0) + vloadV(0, lane); /* each lane's first column */
    /* Every element a whole-vector load touches lies inside the row. */
    const bool inside = iw0 >= 0 && iw0 + VEC * VSW - 1 + (K_W - 1) < W;
#if MODE == MODE_MAX
    floatV m = (floatV)(-INFINITY);
    /* The first in-image tap's index (ceil_mode never starts a window right
     * of the image, and there is no dilation). */
    intV mi = (intV)(max(ih0, 0) * W) + max(iwv, (intV)(0));
#else
    floatV s = (floatV)(0.0f);
#endif
    for (int a = 0; a < K_H; a++) {
        const int ih = ih0 + a;
        if (ih < 0 || ih >= H)
            continue;
        __global const float *xr = xp + (size_t)ih * W;
        for (int b = 0; b < K_W; b++) {
#ifdef PV_LOAD
            const floatV v = inside ? PV_LOAD(xr + iw0 + b) : pv_gather(xr, iw0 + b, W, PV_FILL);
#endif
#if MODE == MODE_MAX
            /* PyTorch's rule per lane: greater or NaN wins. */
            const intV win = (v > m) | isnan(v);
            m = select(m, v, win);
            mi = select(mi, iwv + (ih * W + b), win);
#else
            s += v;
#endif
        }
    }
    __global float *yr = y + (size_t)row * OW;
#if MODE == MODE_MAX
    const floatV out = m;
#else
    /* The divisor per lane, as pool2d_window computes it. */
    const int he = min(ih0 + K_H, H + ph);
    const int hs = max(ih0, 0), hc = min(he, H);
    const intV we = min(iwv + K_W, (intV)(W + pw));
    const intV ws = max(iwv, (intV)(0)), wc = min(we, (intV)(W));
    const floatV div = divisor != 0.0f      ? (floatV)(divisor)
                       : count_include_pad ? convert_floatV((he - ih0) * (we - iwv))
                                           : convert_floatV((hc - hs) * (wc - ws));
    const intV empty = (ws >= wc) | (intV)(hs >= hc ? -1 : 0);
    const floatV out = select(s / div, (floatV)(0.0f), empty);
#endif
    if (ow0 + VEC <= OW) {
        vstoreV(out, 0, yr + ow0);
#if MODE == MODE_MAX
        if (idx)
            vstoreV(convert_longV(mi), 0, idx + (size_t)row * OW + ow0);
#endif
    } else {
        float lanes[VEC];
        vstoreV(out, 0, lanes);
        for (int q = 0; q < VEC && ow0 + q < OW; q++)
            yr[ow0 + q] = lanes[q];
#if MODE == MODE_MAX
        if (idx) {
            int il[VEC];
            vstoreV(mi, 0, il);
            for (int q = 0; q < VEC && ow0 + q < OW; q++)
                idx[(size_t)row * OW + ow0 + q] = il[q];
        }
#endif
    }
    (void)kh; (void)kw; (void)sh; (void)sw; (void)dh; (void)dw;
    (void)lp_kind; (void)p; (void)inv_p; (void)count_include_pad; (void)divisor;
}
#endif /* VEC */

/* Adaptive pooling: output cell (oh, ow) pools rows [floor(oh*H/OH),
 * ceil((oh+1)*H/OH)) and likewise columns. One output per work-item (BW is
 * ignored); products in 64 bits. */
__kernel void pool2d_adaptive(__global const float *restrict x, __global float *restrict y,
                              __global long *restrict idx, const int H, const int W,
                              const int OH, const int OW, const int ncols, const int nitems)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return;
    const int ow = (int)k % ncols, row = (int)k / ncols;
    const int oh = row % OH, plane = row / OH;
    __global const float *xp = x + (size_t)plane * H * W;
    const int hs = CLCONV_ADAPTIVE_START(oh, H, OH), he = CLCONV_ADAPTIVE_END(oh, H, OH);
    const int ws = CLCONV_ADAPTIVE_START(ow, W, OW), we = CLCONV_ADAPTIVE_END(ow, W, OW);
    const size_t o = (size_t)row * OW + ow;
#if MODE == MODE_ADAPTIVE_MAX
    float m = -INFINITY;
    long mi = (long)hs * W + ws;
    for (int ih = hs; ih < he; ih++)
        for (int iw = ws; iw < we; iw++) {
            const float v = xp[ih * W + iw];
            MAX_UPDATE(v, (long)(ih * W + iw))
        }
    y[o] = m;
    if (idx)
        idx[o] = mi;
#elif MODE == MODE_ADAPTIVE_AVG
    float s = 0.0f;
    for (int ih = hs; ih < he; ih++)
        for (int iw = ws; iw < we; iw++)
            s += xp[ih * W + iw];
    y[o] = s / (float)(he - hs) / (float)(we - ws); /* as PyTorch: sum / kh / kw */
#else
    /* Not an adaptive mode: this kernel is never enqueued in such a program. */
    (void)xp;
    (void)hs;
    (void)he;
    (void)ws;
    (void)we;
    y[o] = 0.0f;
    (void)idx;
#endif
}
