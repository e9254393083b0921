/* 2-D pooling, NCHW float32 or (-DCLCONV_F16) fp16 storage, as PyTorch's CPU
 * kernels compute it:
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
 *                   pool2d_window_vec, VEC neighbouring outputs of one row in a
 *                   floatVEC, column stride VSW (1 or 2); a work-item takes
 *                   ceil(ceil(OW / VEC) / ncols) such vectors of its row
 *
 * Work mapping of pool2d_window (1-D NDRange, no local memory, no barriers): work-item k owns
 * column col = k % ncols of output row k / ncols (a row is one (n, c, oh)) and
 * computes outputs ow = col, col + ncols, ..., BW of them. Neighbouring
 * work-items read neighbouring windows, so reads are coalesced.
 *
 * Padding is virtual: taps outside the image are skipped, never read, and
 * never win a max. Indices, when the buffer is not NULL, are int64 (cl_long)
 * flat positions ih * W + iw within the input plane, as PyTorch returns them.
 * No -cl-fast-relaxed-math: the NaN rules below depend on it being off.
 *
 * fp16 storage (-DCLCONV_F16, common.cl's store_t): x and y are halves read
 * and written through CLCONV_LD / CLCONV_ST, arithmetic stays float. A max
 * of widened halves compares as the halves do and its float is a half, so
 * max values and indices are exact; sums and averages are float, rounded
 * once at the store. The vector kernels (VEC, CPU devices) take F16 too
 * (PV_LDV / PV_STV below).
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

/* PFD (CPU devices only): software prefetch PFD floats ahead of each window
 * row the kernels start. PoCL's prefetch() is empty, so this goes through
 * clang's __builtin_prefetch, whose OpenCL 1.2 signature takes a private
 * pointer: the global address passes through an integer, which is the same
 * flat address on a CPU device (the host sets PFD only for PoCL's CPU
 * device: Oclgrind cannot run llvm.prefetch and rusticl aborts on it). A
 * prefetch never faults, so running past the buffer's end is harmless. */
#if defined(PFD) && defined(__has_builtin)
#if __has_builtin(__builtin_prefetch)
#define POOL_PREFETCH(p) __builtin_prefetch((const void *)(size_t)((p) + PFD));
#endif
#endif
#ifndef POOL_PREFETCH /* another compiler, or not a CPU device: no prefetch */
#define POOL_PREFETCH(p)
#endif

/* The window kernels' common parameters (the host sets them the same way
 * for every window kernel; a kernel ignores those it does not use). */
#define POOL_WINDOW_PARAMS                                                                   \
    __global const store_t *restrict x, __global store_t *restrict y,                         \
        __global long *restrict idx,                                                           \
        const int H, const int W, const int OH, const int OW, const int ncols,                 \
        const int nitems, const int kh, const int kw, const int sh, const int sw, const int ph, \
        const int pw, const int pb, const int pr, const int dh, const int dw,                   \
        const int count_include_pad,                                                           \
        const int lp_kind, const float divisor, const float p, const float inv_p

/* PyTorch's max rule: a value wins if it is greater or NaN, so the last NaN
 * in row-major order wins and ties keep the first maximum. */
#define MAX_UPDATE(v, i)                  \
    if ((v) > m || isnan(v)) {            \
        m = (v);                          \
        mi = (i);                         \
    }

__kernel void pool2d_window(POOL_WINDOW_PARAMS)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return; /* no barriers in this kernel: leaving early is safe */
    const int col = (int)k % ncols, row = (int)k / ncols;
    const int oh = row % OH, plane = row / OH;
    __global const store_t *xp = x + (size_t)plane * H * W;
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
                POOL_PREFETCH(xp + r)
                for (int b = 0; b < K_W; b++) {
                    const float v = CLCONV_LD(xp, r + b * D_W);
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
                    const float v = CLCONV_LD(xp, ih * W + iw);
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
        const int he = min(ih0 + K_H, H + pb), we = min(iw0 + K_W, W + pr);
        const long pool_size = (long)(he - ih0) * (we - iw0);
        const int hs = max(ih0, 0), ws = max(iw0, 0);
        const int hc = min(he, H), wc = min(we, W);
        float s = 0.0f;
        if (ih0 >= 0 && iw0 >= 0 && ih0 + K_H <= H && iw0 + K_W <= W) {
            /* Interior window: no bounds checks. */
            for (int a = 0; a < K_H; a++) {
                const int r = (ih0 + a) * W + iw0;
                POOL_PREFETCH(xp + r)
                for (int b = 0; b < K_W; b++)
                    s += CLCONV_LD(xp, r + b);
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
                    s += CLCONV_LD(xp, ih * W + iw);
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
                s += clconv_lp_pow(CLCONV_LD(xp, ih * W + iw), lp_kind, p);
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
        CLCONV_ST(out, obase + ow, y);
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

/* Whole-vector loads and stores of x and y: plain ones in F32; in F16 as
 * ushort vectors converted by common.cl's clconv_h2f / clconv_f2h (PoCL's
 * vload_half8 / 16 crashed these kernels; see common.cl). */
#ifdef CLCONV_F16
#define PV_LDV(i, p) VCAT(clconv_h2f, VEC)(vloadV((i), (__global const ushort *)(p)))
#define PV_LD16(p) clconv_h2f16(vload16(0, (__global const ushort *)(p)))
#define PV_STV(v, i, p) vstoreV(VCAT(clconv_f2h, VEC)(v), (i), (__global ushort *)(p))
#else
#define PV_LDV(i, p) vloadV((i), (p))
#define PV_LD16(p) vload16(0, (p))
#define PV_STV(v, i, p) vstoreV((v), (i), (p))
#endif

#if VSW == 1
#define PV_LOAD(p) PV_LDV(0, (p))
#elif VSW == 2
#define PV_LOAD(p) ((floatV)(PV_LDV(0, (p)).even, PV_LDV(0, (p) + VEC).even))
#else
#error "VSW must be 1 or 2"
#endif

/* Lane q reads column iw + q * VSW, or fill outside the row (the clamped
 * column keeps every read inside the row). No private array: see lanev. */
#if VEC == 8
#define PV_LANES(v, F) F(v.s0) F(v.s1) F(v.s2) F(v.s3) F(v.s4) F(v.s5) F(v.s6) F(v.s7)
#define PV_GATHER_VEC(xr, c) \
    (floatV)(CLCONV_LD(xr, c.s0), CLCONV_LD(xr, c.s1), CLCONV_LD(xr, c.s2), CLCONV_LD(xr, c.s3), CLCONV_LD(xr, c.s4), CLCONV_LD(xr, c.s5), CLCONV_LD(xr, c.s6), CLCONV_LD(xr, c.s7))
#else
#define PV_LANES(v, F) F(v.s0) F(v.s1) F(v.s2) F(v.s3)
#define PV_GATHER_VEC(xr, c) (floatV)(CLCONV_LD(xr, c.s0), CLCONV_LD(xr, c.s1), CLCONV_LD(xr, c.s2), CLCONV_LD(xr, c.s3))
#endif
inline floatV pv_gather(__global const store_t *xr, int iw, int W, float fill, intV lanev)
{
    const intV c = (intV)(iw) + lanev;
    const intV cc = clamp(c, (intV)(0), (intV)(W - 1));
    return select(PV_GATHER_VEC(xr, cc), (floatV)(fill), (c < 0) | (c >= W));
}

/* Lane q: column iw + q * VSW of a whole-vector load, or fill outside the
 * row (the load itself may touch the neighbouring rows). */
inline floatV pv_masked(__global const store_t *xr, int iw, int W, float fill, intV lanev)
{
    const intV c = (intV)(iw) + lanev;
    return select(PV_LOAD(xr + iw), (floatV)(fill), (c < 0) | (c >= W));
}

#if MODE == MODE_MAX
#define PV_FILL (-INFINITY)
#else
#define PV_FILL 0.0f
#endif

/* An average block's result: the sums s over pool2d_window's divisor per
 * lane (divisor_override; else the window clipped to the padded input with
 * count_include_pad, to the image without), 0 where the window has no cell
 * in the image. ih0: the window's first row; iwv: each lane's first column;
 * kh x kw: the window. */
__attribute__((always_inline)) inline floatV pv_average(floatV s, int ih0, intV iwv, int H,
                                                        int W, int kh, int kw, int pb, int pr,
                                                        int count_include_pad, float divisor)
{
    const int he = min(ih0 + kh, H + pb);
    const int hs = max(ih0, 0), hc = min(he, H);
    const intV we = min(iwv + kw, (intV)(W + pr));
    const intV ws = max(iwv, (intV)(0)), wc = min(we, (intV)(W));
    const floatV div = divisor != 0.0f      ? (floatV)(divisor)
                       : count_include_pad ? convert_floatV((he - ih0) * (we - iwv))
                                           : convert_floatV((hc - hs) * (wc - ws));
    const intV empty = (ws >= wc) | (intV)(hs >= hc ? -1 : 0);
    return select(s / div, (floatV)(0.0f), empty);
}

/* Stores the first n lanes of v at p (a row's last block may be partial):
 * lane by lane then, without a private array. */
__attribute__((always_inline)) inline void pv_store(floatV v, __global store_t *p, int n)
{
    if (n >= VEC) {
        PV_STV(v, 0, p);
        return;
    }
    int q = 0;
#define PV_STORE_LANE(e) \
    if (q < n)           \
        CLCONV_ST((e), q, p); \
    q++;
    PV_LANES(v, PV_STORE_LANE)
}

/* One tap's vector v (column offset b in the window) joins the block. */
#if MODE == MODE_MAX
/* PyTorch's rule per lane: greater or NaN wins. */
#define PV_ACC(v, b, WI)                                    \
    {                                                       \
        const floatV v_ = (v);                              \
        const intV win = (v_ > m) | (v_ != v_);            \
        m = select(m, v_, win);                             \
        if (WI)                                             \
            mi = select(mi, iwv + (ih * W + (b)), win);     \
    }
#else
#define PV_ACC(v, b, WI) s += (v);
#endif

/* A window row through whole-vector loads. Column stride 2 with a fixed
 * 2- or 3-wide window (VEC 8): one vload16 feeds every tap (.even, .odd and
 * .even shifted by one), the taps still visited left to right. */
#if VSW == 2 && VEC == 8 && defined(KW) && KW <= 3
/* This path reads columns iw0 .. iw0 + PV_R16 of a window row. */
#define PV_R16 (K_W >= 3 ? 16 : 15)
#define PV_R16_TAPS(r16, x16, WI)                                             \
    {                                                                         \
        PV_ACC(r16.even, 0, WI)                                               \
        if (K_W >= 2)                                                         \
            PV_ACC(r16.odd, 1, WI)                                            \
        if (K_W >= 3)                                                         \
            PV_ACC(((float8)(r16.s2468, r16.sACE, x16)), 2, WI)               \
    }
#define PV_ROW_INSIDE(WI) PV_R16_TAPS(PV_LD16(xr + iw0), CLCONV_LD(xr, iw0 + 16), WI)
/* An edge block whose reads stay inside the buffer: the same seventeen
 * columns, those outside the row replaced by the fill (one select for the
 * row instead of a masked load per tap). */
#define PV_ROW_EDGE_IN_BUF(WI)                                                \
    {                                                                         \
        const int16 c16 = (int16)(iw0) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, \
                                                  13, 14, 15);                \
        const float16 r16 = select(PV_LD16(xr + iw0), (float16)(PV_FILL),  \
                                   (c16 < 0) | (c16 >= W));                   \
        const float x16 = K_W >= 3 && iw0 + 16 < W ? CLCONV_LD(xr, iw0 + 16) : PV_FILL;  \
        PV_R16_TAPS(r16, x16, WI)                                             \
    }
#else
#define PV_ROW_INSIDE(WI)                          \
    for (int b = 0; b < K_W; b++)                  \
        PV_ACC(PV_LOAD(xr + iw0 + b), b, WI)
#endif
/* A window row of a block at the image's left or right edge: whole-vector
 * loads with the lanes outside the row replaced by the fill when every read
 * stays inside the buffer (in_buf), else lane-by-lane gathers. */
#ifdef PV_R16
#define PV_ROW_EDGE(WI)                                                           \
    if (in_buf)                                                                   \
        PV_ROW_EDGE_IN_BUF(WI)                                                    \
    else                                                                          \
        for (int b = 0; b < K_W; b++)                                             \
            PV_ACC(pv_gather(xr, iw0 + b, W, PV_FILL, lanev), b, WI)
#else
#define PV_ROW_EDGE(WI)                                                           \
    for (int b = 0; b < K_W; b++)                                                 \
        PV_ACC(in_buf ? pv_masked(xr, iw0 + b, W, PV_FILL, lanev)                 \
                      : pv_gather(xr, iw0 + b, W, PV_FILL, lanev), b, WI)
#endif

#define PV_PREFETCH(p) POOL_PREFETCH(p)
#define PV_TAPS(ROW, WI)                                     \
    {                                                        \
        for (int a = 0; a < K_H; a++) {                      \
            const int ih = ih0 + a;                          \
            if (ih < 0 || ih >= H)                           \
                continue;                                    \
            __global const store_t *xr = xp + (size_t)ih * W;  \
            PV_PREFETCH(xr + iw0)                            \
            ROW(WI)                                          \
        }                                                    \
    }

__kernel void pool2d_window_vec(POOL_WINDOW_PARAMS)
{
    /* A 3-D NDRange (column block, output row, plane; nitems = planes): no
     * integer divisions to find the row. */
    const int col = (int)get_global_id(0), oh = (int)get_global_id(1);
    const int plane = (int)get_global_id(2);
    if (col >= ncols || oh >= OH || plane >= nitems)
        return; /* no barriers in this kernel: leaving early is safe */
    const int row = plane * OH + oh;
    __global const store_t *xp = x + (size_t)plane * H * W;
    const int ih0 = oh * S_H - ph;
    __global store_t *yr = y + (size_t)row * OW;
    /* A vector literal, not a private array (PoCL gives each work-item's
     * private arrays a slot in a per-work-group stack area). */
#if VEC == 8
    const intV lanev = (intV)(0, 1, 2, 3, 4, 5, 6, 7) * VSW;
#else
    const intV lanev = (intV)(0, 1, 2, 3) * VSW;
#endif
    /* nvec neighbouring vectors of the row, left to right: the host picks
     * ncols, so the count is a run-time value rather than a -D constant
     * (one program serves every row width). */
    const int nvec = ((OW + VEC - 1) / VEC + ncols - 1) / ncols;
    for (int blk = 0; blk < nvec; blk++) {
    const int ow0 = (col * nvec + blk) * VEC;
    if (ow0 >= OW)
        break;
    const int iw0 = ow0 * VSW - pw;
    const intV iwv = (intV)(iw0) + lanev; /* each lane's first column */
    /* Every element a whole-vector load touches lies inside the row. */
#ifdef PV_R16
    const bool inside = iw0 >= 0 && iw0 + PV_R16 < W;
#else
    const bool inside = iw0 >= 0 && iw0 + VEC * VSW - 1 + (K_W - 1) < W;
#endif
    /* Edge blocks: every element a whole-vector load of the window's rows
     * touches lies inside the buffer (all but the very first and last rows
     * of the tensor; nitems planes). */
    bool in_buf = false;
    if (!inside) {
        const long first = (long)plane * H * W + (long)max(ih0, 0) * W + iw0;
#ifdef PV_R16
        const long last = (long)plane * H * W + (long)min(ih0 + K_H - 1, H - 1) * W + iw0 + 15;
#else
        const long last = (long)plane * H * W + (long)min(ih0 + K_H - 1, H - 1) * W + iw0 +
                          VEC * VSW + K_W - 2;
#endif
        in_buf = first >= 0 && last < (long)nitems * H * W;
    }
#if MODE == MODE_MAX
    floatV m = (floatV)(-INFINITY);
    /* The first in-image tap's index (ceil_mode never starts a window right
     * of the image, and there is no dilation). */
    intV mi = (intV)(max(ih0, 0) * W) + max(iwv, (intV)(0));
#else
    floatV s = (floatV)(0.0f);
#endif
    /* Four specialized copies of the tap loop: whole-vector loads or edge
     * gathers, indices tracked or not (the branch is taken once per block). */
#if MODE == MODE_MAX
    const bool with_idx = idx != 0;
    if (inside && with_idx)
        PV_TAPS(PV_ROW_INSIDE, 1)
    else if (inside)
        PV_TAPS(PV_ROW_INSIDE, 0)
    else if (with_idx)
        PV_TAPS(PV_ROW_EDGE, 1)
    else
        PV_TAPS(PV_ROW_EDGE, 0)
#else
    if (inside)
        PV_TAPS(PV_ROW_INSIDE, 0)
    else
        PV_TAPS(PV_ROW_EDGE, 0)
#endif
#if MODE == MODE_MAX
    pv_store(m, yr + ow0, OW - ow0);
    if (idx) {
        if (ow0 + VEC <= OW) {
            vstoreV(convert_longV(mi), 0, idx + (size_t)row * OW + ow0);
        } else { /* the row's last, partial block: lane by lane */
            int q = 0;
#define PV_TAIL_I(e)                                     \
    if (ow0 + q < OW)                                    \
        idx[(size_t)row * OW + ow0 + q] = (long)(e);     \
    q++;
            PV_LANES(mi, PV_TAIL_I)
        }
    }
#else
    pv_store(pv_average(s, ih0, iwv, H, W, K_H, K_W, pb, pr, count_include_pad, divisor),
             yr + ow0, OW - ow0);
#endif
    }
    (void)kh; (void)kw; (void)sh; (void)sw; (void)dh; (void)dw;
    (void)lp_kind; (void)p; (void)inv_p; (void)count_include_pad; (void)divisor;
}

/* Average pooling whose window is the whole plane (no padding, kernel H x W:
 * resnet's global average pool), CPU devices: work-item k sums planes
 * k * VEC .. k * VEC + VEC - 1 (nitems planes in all), one per lane, each in
 * row-major order like pool2d_window, so sums are bit for bit the same; the
 * lanes hide the add chain's latency. */
#if VEC == 8
#define PV_PLANES(xb, j, HW)                                                              \
    (floatV)(CLCONV_LD(xb, j), CLCONV_LD(xb, (j) + (HW)), CLCONV_LD(xb, (j) + 2 * (HW)),  \
             CLCONV_LD(xb, (j) + 3 * (HW)), CLCONV_LD(xb, (j) + 4 * (HW)),                   \
             CLCONV_LD(xb, (j) + 5 * (HW)), CLCONV_LD(xb, (j) + 6 * (HW)),                   \
             CLCONV_LD(xb, (j) + 7 * (HW)))
#else
#define PV_PLANES(xb, j, HW)                                                     \
    (floatV)(CLCONV_LD(xb, j), CLCONV_LD(xb, (j) + (HW)), CLCONV_LD(xb, (j) + 2 * (HW)), \
             CLCONV_LD(xb, (j) + 3 * (HW)))
#endif
__kernel void pool2d_plane_avg_vec(POOL_WINDOW_PARAMS)
{
    const size_t k = get_global_id(0);
    const int HW = H * W;
    const size_t p0 = k * VEC;
    if (p0 >= (size_t)nitems)
        return;
    __global const store_t *xb = x + p0 * HW;
    const float div = divisor != 0.0f ? divisor : (float)HW;
    if (p0 + VEC <= (size_t)nitems) {
        floatV s = (floatV)(0.0f);
        for (int j = 0; j < HW; j++)
            s += PV_PLANES(xb, j, HW);
        PV_STV(s / div, 0, y + p0);
    } else {
        for (int q = 0; p0 + q < (size_t)nitems; q++) {
            float s = 0.0f;
            for (int j = 0; j < HW; j++)
                s += CLCONV_LD(xb, (size_t)q * HW + j);
            CLCONV_ST(s / div, p0 + q, y);
        }
    }
    (void)idx; (void)OH; (void)OW; (void)ncols; (void)kh; (void)kw; (void)sh; (void)sw;
    (void)ph; (void)pw; (void)pb; (void)pr; (void)dh; (void)dw; (void)count_include_pad; (void)lp_kind; (void)p;
    (void)inv_p;
}

#if defined(KH) && VSW == 1 && MODE == MODE_AVG
/* Average pooling with a fixed window and stride 1 (Inception's 3x3 s1 p1),
 * CPU devices: work-item (cb, 0, plane) of a 3-D NDRange walks down the output
 * column block ow0 = cb * VEC .. ow0 + VEC - 1 of one plane (nitems planes),
 * keeping the last K_H window-row sums in registers, so each input row is
 * loaded and summed across the window once per column block instead of K_H
 * times. The sum of a window is (row sums, top to bottom), each row sum
 * left to right; the same terms as pool2d_window in another grouping, so
 * results agree within rounding, not bit for bit. The divisor and its rules
 * are pool2d_window's. */
__attribute__((always_inline)) inline floatV pv_row_sum(__global const store_t *xp, int ih, int H,
                                                        int W, int iw0, bool inside,
                                                        long row_first, long plane_end,
                                                        intV lanev)
{
    if (ih < 0 || ih >= H)
        return (floatV)(0.0f);
    __global const store_t *xr = xp + (size_t)ih * W;
    POOL_PREFETCH(xr + iw0)
    floatV h;
    if (inside) {
        h = PV_LDV(0, xr + iw0);
        for (int b = 1; b < K_W; b++)
            h += PV_LDV(0, xr + iw0 + b);
    } else {
        /* Whole-vector loads with the lanes outside the row zeroed where
         * every read stays inside the buffer, else lane-by-lane gathers. */
        const long first = row_first + (long)ih * W + iw0;
        const bool in_buf = first >= 0 && first + VEC - 1 + K_W - 1 < plane_end;
        h = in_buf ? pv_masked(xr, iw0, W, 0.0f, lanev) : pv_gather(xr, iw0, W, 0.0f, lanev);
        for (int b = 1; b < K_W; b++)
            h += in_buf ? pv_masked(xr, iw0 + b, W, 0.0f, lanev)
                        : pv_gather(xr, iw0 + b, W, 0.0f, lanev);
    }
    return h;
}

__kernel void pool2d_avg_rows_vec(POOL_WINDOW_PARAMS)
{
    const int cb = (int)get_global_id(0), plane = (int)get_global_id(2);
    if (cb >= ncols || plane >= nitems)
        return; /* no barriers in this kernel: leaving early is safe */
    const int ow0 = cb * VEC, iw0 = ow0 - pw;
#if VEC == 8
    const intV lanev = (intV)(0, 1, 2, 3, 4, 5, 6, 7);
#else
    const intV lanev = (intV)(0, 1, 2, 3);
#endif
    const intV iwv = (intV)(iw0) + lanev;
    const bool inside = iw0 >= 0 && iw0 + VEC - 1 + K_W - 1 < W;
    __global const store_t *xp = x + (size_t)plane * H * W;
    __global store_t *yp = y + (size_t)plane * OH * OW + ow0;
    const long row_first = (long)plane * H * W, plane_end = (long)nitems * H * W;
    floatV ring[K_H]; /* window-row sums; constant indices once unrolled */
#pragma unroll
    for (int a = 0; a < K_H - 1; a++)
        ring[a + 1] = pv_row_sum(xp, a - ph, H, W, iw0, inside, row_first, plane_end, lanev);
    for (int oh = 0; oh < OH; oh++) {
        const int ih0 = oh - ph;
#pragma unroll
        for (int a = 0; a < K_H - 1; a++)
            ring[a] = ring[a + 1];
        ring[K_H - 1] =
            pv_row_sum(xp, ih0 + K_H - 1, H, W, iw0, inside, row_first, plane_end, lanev);
        floatV s = ring[0];
#pragma unroll
        for (int a = 1; a < K_H; a++)
            s += ring[a];
        pv_store(pv_average(s, ih0, iwv, H, W, K_H, K_W, pb, pr, count_include_pad, divisor),
                 yp + (size_t)oh * OW, OW - ow0);
    }
    (void)idx; (void)kh; (void)kw; (void)sh; (void)sw; (void)dh; (void)dw; (void)lp_kind;
    (void)p; (void)inv_p;
}
#endif
#endif /* VEC */

/* Adaptive pooling: output cell (oh, ow) pools rows [floor(oh*H/OH),
 * ceil((oh+1)*H/OH)) and likewise columns. One output per work-item (BW is
 * ignored); products in 64 bits. */
__kernel void pool2d_adaptive(__global const store_t *restrict x, __global store_t *restrict y,
                              __global long *restrict idx, const int H, const int W,
                              const int OH, const int OW, const int ncols, const int nitems)
{
    const size_t k = get_global_id(0);
    if (k >= (size_t)nitems)
        return;
    const int ow = (int)k % ncols, row = (int)k / ncols;
    const int oh = row % OH, plane = row / OH;
    __global const store_t *xp = x + (size_t)plane * H * W;
    const int hs = CLCONV_ADAPTIVE_START(oh, H, OH), he = CLCONV_ADAPTIVE_END(oh, H, OH);
    const int ws = CLCONV_ADAPTIVE_START(ow, W, OW), we = CLCONV_ADAPTIVE_END(ow, W, OW);
    const size_t o = (size_t)row * OW + ow;
#if MODE == MODE_ADAPTIVE_MAX
    float m = -INFINITY;
    long mi = (long)hs * W + ws;
    for (int ih = hs; ih < he; ih++)
        for (int iw = ws; iw < we; iw++) {
            const float v = CLCONV_LD(xp, ih * W + iw);
            MAX_UPDATE(v, (long)(ih * W + iw))
        }
    CLCONV_ST(m, o, y);
    if (idx)
        idx[o] = mi;
#elif MODE == MODE_ADAPTIVE_AVG
    float s = 0.0f;
    for (int ih = hs; ih < he; ih++)
        for (int iw = ws; iw < we; iw++)
            s += CLCONV_LD(xp, ih * W + iw);
    CLCONV_ST(s / (float)(he - hs) / (float)(we - ws), o, y); /* as PyTorch: sum / kh / kw */
#else
    /* Not an adaptive mode: this kernel is never enqueued in such a program. */
    (void)xp;
    (void)hs;
    (void)he;
    (void)ws;
    (void)we;
    CLCONV_ST(0.0f, o, y);
    (void)idx;
#endif
}
