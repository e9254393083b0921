/* Winograd F(2x2,3x3) convolution (3x3, stride 1, any dilation), NCHW.
 *
 * Y = A^T [ (G g G^T) . (B^T d B) ] A per 2x2 output tile, with
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * The elementwise products summed over input channels are 16 independent
 * GEMMs (one per transform element e), M[e] = U[e] * V[e].
 *
 * Four kernels, every size a runtime argument (one program per VEC):
 *   wino_filter  U[g][ocb][e][ci][VEC]  = G g G^T, VEC output channels per
 *                                         block, zero past cout_g
 *   wino_input   V[n][g][e][ci][t]      = B^T d B of the 4x4 input tile t
 *                                         (virtual zero padding), zero for
 *                                         the padding tiles T <= t < TP
 *   wino_gemm    M[n][g][ocb][e][t][VEC] = sum_ci U * V; a work-item holds
 *                                         BT tiles x VEC channels in floatVEC
 *                                         accumulators (PoCL reaches its FMA
 *                                         peak only with explicit vectors)
 *   wino_output  y = act(A^T M A + b) (common.cl activation)
 * x, w, b, y (and the epilogue's z, pre) are common.cl's store_t (halves
 * with -DCLCONV_F16, widened on load, rounded once on store); U, V and M
 * stay float.
 * Tiles t = ty * TW + tx cover the output in 2x2 blocks; TP is T rounded up
 * to a multiple of BT/2, so a GEMM block holds BT or BT/2 tiles.
 * Build-time constants: VEC (4, 8 or 16), BT (tiles per GEMM work-item),
 * OB (channel blocks per GEMM work-item), FILTER_CI (input channels per
 * filter-transform work-item).
 */
/* Full unrolling, for the GEMM's accumulator loops (see WINO_GEMM). */
#define WINO_UNROLL _Pragma("unroll")

/* Lane j: p[j * s], for the VEC filters of a block (s apart). Built from
 * scalars in registers: written to a private array and read back as a
 * vector, the lanes stalled on store forwarding (the filter transform took
 * 31% of ResNet-50 layer3.3x3's time, 20% so). */
#if VEC == 4
#define WF_LANES(p, s) \
    ((floatV)(CLCONV_LD(p, 0), CLCONV_LD(p, s), CLCONV_LD(p, 2 * s), CLCONV_LD(p, 3 * s)))
#elif VEC == 8
#define WF_LANES(p, s)                                                                          \
    ((floatV)(CLCONV_LD(p, 0), CLCONV_LD(p, s), CLCONV_LD(p, 2 * s), CLCONV_LD(p, 3 * s),       \
              CLCONV_LD(p, 4 * s), CLCONV_LD(p, 5 * s), CLCONV_LD(p, 6 * s), CLCONV_LD(p, 7 * s)))
#else
#define WF_LANES(p, s)                                                                          \
    ((floatV)(CLCONV_LD(p, 0), CLCONV_LD(p, s), CLCONV_LD(p, 2 * s), CLCONV_LD(p, 3 * s),       \
              CLCONV_LD(p, 4 * s), CLCONV_LD(p, 5 * s), CLCONV_LD(p, 6 * s), CLCONV_LD(p, 7 * s), \
              CLCONV_LD(p, 8 * s), CLCONV_LD(p, 9 * s), CLCONV_LD(p, 10 * s),                    \
              CLCONV_LD(p, 11 * s), CLCONV_LD(p, 12 * s), CLCONV_LD(p, 13 * s),                  \
              CLCONV_LD(p, 14 * s), CLCONV_LD(p, 15 * s)))
#endif

/* One item per (channel block over all groups, FILTER_CI input channels):
 * the VEC filters of a block are transformed together in floatVEC, so each
 * of the 16 transformed elements is one full vector store. */
__kernel void wino_filter(__global const store_t *restrict w, __global float *restrict u,
                          const int cin_g, const int cout_g, const int groups, const int ocbs)
{
    const int gb = get_global_id(0); /* g * ocbs + ocb */
    const int ci0 = get_global_id(1) * FILTER_CI;
    if (gb >= groups * ocbs)
        return;
    const int ocb = gb % ocbs, g = gb / ocbs;
    const int ci_end = min(ci0 + FILTER_CI, cin_g);
    const size_t es = (size_t)cin_g * VEC; /* stride between transform elements */
    __global float *ub = u + (size_t)gb * 16 * es;
    const bool whole = (ocb + 1) * VEC <= cout_g; /* no channel past cout_g */
    const size_t cs = (size_t)cin_g * 9; /* stride between the block's filters */
    __global const store_t *w0 = w + ((size_t)g * cout_g + ocb * VEC) * cs;
    for (int ci = ci0; ci < ci_end; ci++) {
        floatV k[9];
        if (whole) {
            for (int i = 0; i < 9; i++)
                k[i] = WF_LANES(w0 + ci * 9 + i, cs);
        } else { /* the last block: zeros past cout_g */
            float kl[9][VEC];
            for (int j = 0; j < VEC; j++) {
                const int oc = ocb * VEC + j;
                for (int i = 0; i < 9; i++)
                    kl[i][j] = oc < cout_g ? CLCONV_LD(w0 + (size_t)j * cs + ci * 9, i) : 0.0f;
            }
            for (int i = 0; i < 9; i++)
                k[i] = vloadV(0, kl[i]);
        }
        /* t = G g (4x3), then U = t G^T (4x4). */
        floatV t[12];
        for (int j = 0; j < 3; j++) {
            t[0 * 3 + j] = k[j];
            t[1 * 3 + j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
            t[2 * 3 + j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
            t[3 * 3 + j] = k[6 + j];
        }
        __global float *dst = ub + (size_t)ci * VEC;
        for (int i = 0; i < 4; i++) {
            const floatV a = t[i * 3], b = t[i * 3 + 1], c = t[i * 3 + 2];
            vstoreV(a, 0, dst + (i * 4 + 0) * es);
            vstoreV(0.5f * (a + b + c), 0, dst + (i * 4 + 1) * es);
            vstoreV(0.5f * (a - b + c), 0, dst + (i * 4 + 2) * es);
            vstoreV(c, 0, dst + (i * 4 + 3) * es);
        }
    }
}

/* Dilation d on an axis (WINO_DILATION): the output splits into d phases
 * (rows a, a + d, a + 2d, ...), each an undilated 3x3 convolution of the
 * input rows a - pad, a - pad + d, ...; each phase is tiled on its own,
 * tp = ceil(ceil(OH / d) / 2) tiles, tile rows a * tp .. a * tp + tp - 1.
 * The first output row (column) of tile row (column) t: */
inline int wino_first(const int t, const int d, const int tp)
{
    return t / tp + d * 2 * (t % tp);
}

/* One item per (run of 8 tiles of a tile row, channel, image of the chunk):
 * the 8 tiles are transformed together in float8 lanes. A run whose 4 x 18
 * input window lies inside the image loads it as vectors (columns 2k + j of
 * the window are the even / odd lanes); edge runs gather with bounds tests.
 * The last item also zeroes the padding tiles T..TP-1. */
__kernel void wino_input(__global const store_t *restrict x, __global float *restrict v,
                         const int C, const int H, const int W, const int groups,
                         const int pad_top, const int pad_left, const int TW, const int T,
                         const int TP, const int n0, const int dh, const int dw, const int tph,
                         const int tpw)
{
    const int runs = CLCONV_DIV_UP(TW, 8);
    const int r = get_global_id(0);
    const int c = get_global_id(1);
    const int nl = get_global_id(2);
    const int TH = T / TW;
    if (r >= TH * runs || c >= C)
        return;
    const int cin_g = C / groups;
    const int g = c / cin_g, ci = c - g * cin_g;
    const int ty = r / runs, tx0 = (r - ty * runs) * 8;
    const int nt = min(8, TW - tx0); /* tiles in this run */
    /* Dilation (WINO_DILATION): the tile's window rows are dh apart */
    const int ih0 = wino_first(ty, dh, tph) - pad_top, iw0 = 2 * tx0 - pad_left;
    __global const store_t *xc = x + ((size_t)(n0 + nl) * C + c) * H * W;
    float8 d[16]; /* d[i * 4 + j]: lane k = input (ih0 + i dh, iw0 + 2k + j) (dw = 1) */
    if (dw > 1) {
        /* Columns dw apart, the run's tiles possibly in two column phases:
         * each lane's window gathered on its own (zero outside). */
        int iwk[8];
        for (int k = 0; k < 8; k++)
            iwk[k] = wino_first(min(tx0 + k, TW - 1), dw, tpw) - pad_left;
        for (int i = 0; i < 4; i++) {
            const int ih = ih0 + i * dh;
            const bool row_ok = ih >= 0 && ih < H;
            for (int j = 0; j < 4; j++) {
                float lk[8];
                for (int k = 0; k < 8; k++) {
                    const int iw = iwk[k] + j * dw;
                    lk[k] = (row_ok && iw >= 0 && iw < W) ? CLCONV_LD(xc, (size_t)ih * W + iw)
                                                           : 0.0f;
                }
                d[i * 4 + j] = vload8(0, lk);
            }
        }
    } else if (nt == 8 && iw0 >= 0 && iw0 + 18 <= W) {
        for (int i = 0; i < 4; i++) {
            const int ih = ih0 + i * dh;
            if (ih >= 0 && ih < H) {
                __global const store_t *row = xc + (size_t)ih * W + iw0;
                const float16 a = CLCONV_LDN(16, 0, row);
                const float2 tail = CLCONV_LDN(2, 0, row + 16);
                const float16 b = (float16)(a.s2345, a.s6789, a.sabcd, a.sef, tail);
                d[i * 4 + 0] = a.even;
                d[i * 4 + 1] = a.odd;
                d[i * 4 + 2] = b.even;
                d[i * 4 + 3] = b.odd;
            } else {
                for (int j = 0; j < 4; j++)
                    d[i * 4 + j] = (float8)(0.0f);
            }
        }
    } else {
        /* Edge runs: each window row gathered with bounds tests (zero
         * outside), then split into lanes as above. Lanes past nt are
         * computed but never stored. */
        for (int i = 0; i < 4; i++) {
            const int ih = ih0 + i * dh;
            const bool row_ok = ih >= 0 && ih < H;
            float rb[18];
            for (int q = 0; q < 18; q++) {
                const int iw = iw0 + q;
                rb[q] = (row_ok && iw >= 0 && iw < W) ? CLCONV_LD(xc, (size_t)ih * W + iw) : 0.0f;
            }
            const float16 a = vload16(0, rb), b = vload16(0, rb + 2);
            d[i * 4 + 0] = a.even;
            d[i * 4 + 1] = a.odd;
            d[i * 4 + 2] = b.even;
            d[i * 4 + 3] = b.odd;
        }
    }
    /* rr = B^T d (rows), then rr B (columns). */
    float8 rr[16];
    for (int j = 0; j < 4; j++) {
        rr[0 * 4 + j] = d[0 * 4 + j] - d[2 * 4 + j];
        rr[1 * 4 + j] = d[1 * 4 + j] + d[2 * 4 + j];
        rr[2 * 4 + j] = d[2 * 4 + j] - d[1 * 4 + j];
        rr[3 * 4 + j] = d[1 * 4 + j] - d[3 * 4 + j];
    }
    float8 o[16];
    for (int i = 0; i < 4; i++) {
        const float8 a = rr[i * 4], b = rr[i * 4 + 1], c2 = rr[i * 4 + 2], e3 = rr[i * 4 + 3];
        o[i * 4 + 0] = a - c2;
        o[i * 4 + 1] = b + c2;
        o[i * 4 + 2] = c2 - b;
        o[i * 4 + 3] = b - e3;
    }
    const int t0 = ty * TW + tx0;
    __global float *dst = v + (((size_t)nl * groups + g) * 16 * cin_g + ci) * TP + t0;
    const size_t es = (size_t)cin_g * TP;
    if (nt == 8) {
        for (int q = 0; q < 16; q++)
            vstore8(o[q], 0, dst + q * es);
    } else {
        for (int q = 0; q < 16; q++) {
            float ol[8];
            vstore8(o[q], 0, ol);
            for (int k = 0; k < nt; k++)
                dst[q * es + k] = ol[k];
        }
    }
    if (r == TH * runs - 1) /* zero the padding tiles */
        for (int q = 0; q < 16; q++)
            for (int t = T; t < TP; t++)
                dst[q * es + (t - t0)] = 0.0f;
}

/* The product of NT tiles x OB channel blocks (NT accumulators per block).
 * The loops over tiles and blocks must be unrolled so the accumulators live
 * in registers: without the pragmas PoCL's compiler kept them in a stack
 * array, one load and store per FMA, a quarter of the speed. */
#define WINO_GEMM(NT)                                                             \
    {                                                                             \
        floatV acc[OB][NT];                                                       \
        WINO_UNROLL for (int o = 0; o < OB; o++)                                  \
            WINO_UNROLL for (int p = 0; p < NT; p++)                              \
                acc[o][p] = (floatV)(0.0f);                                       \
        for (int ci = 0; ci < cin_g; ci++) {                                      \
            floatV wv[OB];                                                        \
            WINO_UNROLL for (int o = 0; o < OB; o++)                              \
                wv[o] = vloadV(0, ue + o * ustride + (size_t)ci * VEC);           \
            __global const float *vr = ve + (size_t)ci * TP;                      \
            WINO_UNROLL for (int p = 0; p < NT; p++) {                            \
                const floatV xs = (floatV)(vr[p]);                                \
                WINO_UNROLL for (int o = 0; o < OB; o++)                          \
                    acc[o][p] = fma(xs, wv[o], acc[o][p]);                        \
            }                                                                     \
        }                                                                         \
        WINO_UNROLL for (int o = 0; o < OB; o++) {                                \
            __global float *me = ws + m_off + (((size_t)(z0 + o) * 16 + e) * TP + t0) * VEC; \
            WINO_UNROLL for (int p = 0; p < NT; p++)                              \
                vstoreV(acc[o][p], p, me);                                        \
        }                                                                         \
    }

/* One item per (BT-tile block, OB channel blocks, transform element e x
 * group x image). v and m are the same workspace buffer: V at 0, M at m_off
 * floats. ocbs is a multiple of OB (the padding blocks have zero filters).
 * TP is a multiple of BT/2: the last block may hold only BT/2 tiles. The
 * host pads the first two dimensions to its work-group shape, so that a
 * work-group's items share their tile blocks and filter blocks in the
 * caches (the 16 elements e touch disjoint data). */
__kernel void wino_gemm(__global const float *restrict u, __global float *ws, const int m_off,
                        const int cin_g, const int ocbs, const int groups, const int TP,
                        const int ocb_fast)
{
    /* Global dims 0 / 1: tile blocks / channel blocks, or with ocb_fast the
     * channel blocks first, so the work-items that follow each other on a
     * CPU thread reuse one block of V (see host/conv2d/winograd.c). */
    const int id0 = get_global_id(0), id1 = get_global_id(1); /* constant dims: PoCL */
    const int t0 = (ocb_fast ? id1 : id0) * BT;
    const int ocb0 = (ocb_fast ? id0 : id1) * OB;
    const int z = get_global_id(2);
    if (t0 >= TP || ocb0 >= ocbs)
        return;
    const int e = z % 16;
    const int g = (z / 16) % groups;
    const int nl = z / 16 / groups;
    const size_t ustride = (size_t)16 * cin_g * VEC; /* between channel blocks */
    __global const float *ue = u + ((size_t)(g * ocbs + ocb0) * 16 + e) * cin_g * VEC;
    __global const float *ve = ws + (((size_t)nl * groups + g) * 16 + e) * cin_g * TP + t0;
    const int z0 = (nl * groups + g) * ocbs + ocb0;
    if (t0 + BT <= TP)
        WINO_GEMM(BT)
    else
        WINO_GEMM(BT / 2)
}

/* One item per (run of 8 tiles of a tile row, image x group x channel block
 * of the chunk). The 8 tiles' 2 x 16 outputs are gathered per channel in
 * private memory, so each output row of a channel is one 16-wide store. */
__kernel void wino_output(__global const float *ws, const int m_off,
                          __global const store_t *restrict b,
                          __global store_t *CLCONV_Y_RESTRICT y,
                          const int OC, const int OH, const int OW, const int groups,
                          const int ocbs, const int TW, const int T, const int TP, const int n0,
                          CLCONV_EPILOGUE_ARGS, const int dh, const int dw, const int tph,
                          const int tpw)
{
    const int runs = CLCONV_DIV_UP(TW, 8);
    const int r = get_global_id(0);
    const int z = get_global_id(1);
    const int TH = T / TW;
    if (r >= TH * runs)
        return;
    const int ty = r / runs, tx0 = (r - ty * runs) * 8;
    const int nt = min(8, TW - tx0);
    const int ocb = z % ocbs;
    const int g = (z / ocbs) % groups;
    const int n = n0 + z / ocbs / groups;
    const int cout_g = OC / groups;
    __global const float *mz = ws + m_off + (size_t)z * 16 * TP * VEC;
    const size_t es = (size_t)TP * VEC;
    float out[2][16][VEC]; /* [row][column of the run][channel] */
    for (int k = 0; k < nt; k++) {
        __global const float *mt = mz + (size_t)(ty * TW + tx0 + k) * VEC;
        floatV m[16];
        for (int e = 0; e < 16; e++)
            m[e] = vloadV(0, mt + e * es);
        /* s = A^T m (2x4), then o = s A (2x2). */
        floatV s[8];
        for (int j = 0; j < 4; j++) {
            s[j] = m[j] + m[4 + j] + m[8 + j];
            s[4 + j] = m[4 + j] - m[8 + j] - m[12 + j];
        }
        for (int i = 0; i < 2; i++) {
            vstoreV(s[i * 4] + s[i * 4 + 1] + s[i * 4 + 2], 0, out[i][2 * k]);
            vstoreV(s[i * 4 + 1] - s[i * 4 + 2] - s[i * 4 + 3], 0, out[i][2 * k + 1]);
        }
    }
    const int ow0 = 2 * tx0;
    const int oh0 = wino_first(ty, dh, tph);
    /* The run's output columns: ow0 .. ow0 + ncols - 1 (dw = 1), else owc[c]
     * for c < ncols, dw apart within a tile and per column phase (-1: past
     * the output, not stored) */
    int owc[16];
    int ncols = min(2 * nt, OW - ow0);
    if (dw > 1) {
        ncols = 2 * nt;
        for (int c = 0; c < 16; c++) {
            const int ow = wino_first(min(tx0 + c / 2, TW - 1), dw, tpw) + (c % 2) * dw;
            owc[c] = c < ncols && ow < OW ? ow : -1;
        }
    } else {
        for (int c = 0; c < 16; c++)
            owc[c] = ow0 + c;
    }
    /* The activations other than ReLU, and the residual / second output, go
     * on vectors of VEC channels first (a call per output made SiLU cost 3 -
     * 4x the layer): the bias (or, with the residual / second output, the
     * epilogue's sum element by element: z and pre at each output's own
     * index), then the activation; the rows below then only store. */
    bool lanes_done = false;
#if defined(CLCONV_ACT_ANY) || defined(CLCONV_EPILOGUE_EXTRA)
#ifdef CLCONV_EPILOGUE_EXTRA
    lanes_done = true;
    for (int j = 0; j < VEC && ocb * VEC + j < cout_g; j++) {
        const int ocf = g * cout_g + ocb * VEC + j;
        const float bias = has_bias ? CLCONV_LD(b, ocf) : 0.0f;
        for (int i = 0; i < 2 && oh0 + i * dh < OH; i++) {
            const size_t at0 = (((size_t)n * OC + ocf) * OH + oh0 + i * dh) * OW;
            for (int c = 0; c < ncols; c++)
                if (owc[c] >= 0)
                    out[i][c][j] = clconv_epilogue_sum(out[i][c][j], bias, at0 + owc[c],
                                                       CLCONV_EPILOGUE_PASS);
        }
    }
    const floatV biasv = (floatV)(0.0f);
#else
    lanes_done = act > 1;
    float bl[VEC];
    for (int j = 0; j < VEC; j++)
        bl[j] = has_bias && ocb * VEC + j < cout_g ? CLCONV_LD(b, g * cout_g + ocb * VEC + j)
                                                   : 0.0f;
    const floatV biasv = vloadV(0, bl);
#endif
    if (lanes_done)
        for (int i = 0; i < 2; i++)
            for (int c = 0; c < ncols; c++)
                vstoreV(clconv_activate_v(vloadV(0, out[i][c]) + biasv, act, act_a, act_b), 0,
                        out[i][c]);
#endif
    for (int j = 0; j < VEC; j++) {
        const int oc = ocb * VEC + j;
        if (oc >= cout_g)
            break;
        const int ocf = g * cout_g + oc;
        const float bias = has_bias && !lanes_done ? CLCONV_LD(b, ocf) : 0.0f;
        for (int i = 0; i < 2; i++) {
            const int oh = oh0 + i * dh;
            if (oh >= OH)
                break;
            __global store_t *yr = y + (((size_t)n * OC + ocf) * OH + oh) * OW;
            float row[16];
            for (int c = 0; c < 16; c++)
                row[c] = out[i][c][j];
            float16 v = vload16(0, row);
            if (!lanes_done) {
                v += bias;
                if (act == 1) /* ReLU on the vector; NaN passes (NaN < 0 is false) */
                    v = select(v, (float16)(0.0f), v < (float16)(0.0f));
            }
            if (ncols == 16 && dw == 1) {
                CLCONV_STN(v, 16, 0, yr + ow0);
            } else {
                vstore16(v, 0, row);
                for (int c = 0; c < ncols; c++)
                    if (owc[c] >= 0)
                        CLCONV_ST(row[c], owc[c], yr);
            }
        }
    }
}
