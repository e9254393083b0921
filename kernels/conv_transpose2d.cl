/* Transposed 2-D convolution (PyTorch F.conv_transpose2d), NCHW float32, in
 * GATHER form: every output element sums exactly the (input, weight) pairs
 * that reach it, in a fixed order, so there are no atomics and a result is
 * the same bits on every run.
 *
 * x [N, C, H, W], w [C, OC/groups, KH, KW], b [OC], y [N, OC, OH, OW].
 * y[n, g*cout_g + oc, oh, ow] = b[..] + sum over ci of group g, kh, kw with
 *   oh + pad_h - kh*DH = ih*SH  and  ow + pad_w - kw*DW = iw*SW
 *   (0 <= ih < H, 0 <= iw < W) of x[n, g*cin_g + ci, ih, iw] * w[g*cin_g + ci, oc, kh, kw].
 *
 * Stride phases. Write oh = rh + SH*i with rh = oh % SH. Tap kh reaches oh
 * iff th = rh + pad_h - kh*DH is a multiple of SH, and then ih = i + th/SH.
 * So within one phase (rh, rw) the set of contributing taps is the same for
 * every output, and consecutive outputs of the phase read consecutive inputs:
 * each phase is an ordinary stride-1 correlation with a sub-kernel. A
 * work-group handles one phase, so its work-items take the same branches and
 * neighbouring work-items read neighbouring addresses.
 *
 * Build-time constants (-D): KH KW SH SW DH DW, HAS_BIAS RELU, and the tile
 * WG_W x WG_H work-items, each computing BOC channels x BW phase columns (WG_W
 * apart). Padding and sizes are runtime arguments.
 * The col2im kernel of the GEMM algorithm uses KH..DW, HAS_BIAS, RELU, WG_W.
 */

#define NPHASE (SH * SW)
#define TILE_J (WG_W * BW)
#define CT_CI_BLOCK 8 /* input channels per step of the gather */

inline float ct_epilogue(float acc, __global const float *b, int oc)
{
#if HAS_BIAS
    acc += b[oc];
#endif
#if RELU
    /* Not fmax: NaN must pass through ReLU as in PyTorch. */
    acc = acc < 0.0f ? 0.0f : acc;
#endif
    return acc;
}

/* Global ids: dim 0 = phase column block, dim 1 = phase row, dim 2 =
 * ((n * groups + g) * oc_blocks + ocb) * NPHASE + phase. */
__kernel __attribute__((reqd_work_group_size(WG_W, WG_H, 1)))
void conv_transpose2d_gather(__global const float *restrict x, __global const float *restrict w,
                             __global const float *restrict b, __global float *restrict y,
                             const int C, const int H, const int W, const int OC, const int OH,
                             const int OW, const int groups, const int pad_h, const int pad_w,
                             const int oc_blocks)
{
    const int cin_g = C / groups, cout_g = OC / groups;
    int z = get_group_id(2);
    const int phase = z % NPHASE;
    z /= NPHASE;
    const int ocb = z % oc_blocks;
    z /= oc_blocks;
    const int g = z % groups;
    const int n = z / groups;
    const int rh = phase / SW, rw = phase - (phase / SW) * SW;
    const int i = get_global_id(1);
    const int oh = rh + i * SH;
    const int j0 = get_group_id(0) * TILE_J + get_local_id(0);
    const int oc0 = ocb * BOC;

    int ocw[BOC]; /* weight column per block row, clamped in range */
    for (int r = 0; r < BOC; r++)
        ocw[r] = min(oc0 + r, cout_g - 1);

    float acc[BOC][BW];
    for (int r = 0; r < BOC; r++)
        for (int c = 0; c < BW; c++)
            acc[r][c] = 0.0f;

    /* Channels in blocks of CT_CI_BLOCK; within a block, taps outside and
     * channels inside: the phase and bounds arithmetic of a tap is done once
     * per block, and the weights of a block stay in cache across its taps. */
    __global const float *xg = x + ((size_t)n * C + (size_t)g * cin_g) * H * W;
    __global const float *wg = w + (size_t)g * cin_g * cout_g * (KH * KW);
    const size_t hw = (size_t)H * W, w_ci = (size_t)cout_g * (KH * KW);
    for (int ci0 = 0; ci0 < cin_g; ci0 += CT_CI_BLOCK) {
        const int nci = min(CT_CI_BLOCK, cin_g - ci0);
        for (int kh = 0; kh < KH; kh++) {
            const int th = rh + pad_h - kh * DH;
            if (th % SH != 0)
                continue; /* the same for the whole work-group */
            const int ih = i + th / SH; /* exact division */
            if (oh >= OH || ih < 0 || ih >= H)
                continue;
            for (int kw = 0; kw < KW; kw++) {
                const int tw = rw + pad_w - kw * DW;
                if (tw % SW != 0)
                    continue;
                const int iw0 = j0 + tw / SW;
                bool ok[BW];
                int off[BW]; /* always in bounds: out-of-range columns read a clamped one */
                for (int c = 0; c < BW; c++) {
                    const int iw = iw0 + c * WG_W;
                    ok[c] = iw >= 0 && iw < W;
                    off[c] = ih * W + clamp(iw, 0, W - 1);
                }
                __global const float *xp = xg + (size_t)ci0 * hw;
                __global const float *wp = wg + (size_t)ci0 * w_ci + kh * KW + kw;
                for (int ci = 0; ci < nci; ci++) {
                    float xv[BW];
                    for (int c = 0; c < BW; c++) {
                        const float v = xp[off[c]];
                        xv[c] = ok[c] ? v : 0.0f; /* a select: NaN/inf outside never leak in */
                    }
                    for (int r = 0; r < BOC; r++) {
                        const float wv = wp[(size_t)ocw[r] * (KH * KW)];
                        /* A column with no input adds nothing, not 0 * w: a NaN or
                         * inf weight must not reach outputs its tap never touches. */
                        for (int c = 0; c < BW; c++)
                            acc[r][c] = ok[c] ? fma(xv[c], wv, acc[r][c]) : acc[r][c];
                    }
                    xp += hw;
                    wp += w_ci;
                }
            }
        }
    }

    if (oh < OH) {
        for (int r = 0; r < BOC; r++) {
            const int oc = oc0 + r;
            if (oc < cout_g) {
                const int ocf = g * cout_g + oc;
                __global float *yrow = y + (((size_t)n * OC + ocf) * OH + oh) * OW;
                for (int c = 0; c < BW; c++) {
                    const int ow = rw + (j0 + c * WG_W) * SW;
                    if (ow < OW)
                        yrow[ow] = ct_epilogue(acc[r][c], b, ocf);
                }
            }
        }
    }
}

/* col2im for the GEMM algorithm, also a gather by stride phase:
 * cols holds, per image of the chunk and group, the matrix
 * [cout_g * KH * KW, H * W] = W_g^T X_g. Output (n0 + nl, oc, oh, ow) sums
 * cols[(nl*groups + g), (oc*KH + kh)*KW + kw, ih*W + iw] over the taps that
 * reach it, in a fixed order.
 * Global ids: dim 0 = phase column, dim 1 = phase row,
 * dim 2 = (nl * OC + oc) * NPHASE + phase. */
__kernel __attribute__((reqd_work_group_size(WG_W, 1, 1)))
void conv_transpose2d_col2im(__global const float *restrict cols,
                             __global const float *restrict b, __global float *restrict y,
                             const int H, const int W, const int OC, const int OH, const int OW,
                             const int groups, const int pad_h, const int pad_w, const int n0)
{
    const int cout_g = OC / groups;
    int z = get_global_id(2);
    const int phase = z % NPHASE;
    z /= NPHASE;
    const int ocf = z % OC;
    const int nl = z / OC;
    const int g = ocf / cout_g, oc = ocf - (ocf / cout_g) * cout_g;
    const int rh = phase / SW, rw = phase - (phase / SW) * SW;
    const int i = get_global_id(1), j = get_global_id(0);
    const int oh = rh + i * SH, ow = rw + j * SW;
    const size_t hw = (size_t)H * W;
    __global const float *cg =
        cols + ((size_t)nl * groups + g) * ((size_t)cout_g * KH * KW) * hw +
        (size_t)oc * (KH * KW) * hw;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        const int th = rh + pad_h - kh * DH;
        if (th % SH != 0)
            continue;
        const int ih = i + th / SH;
        if (ih < 0 || ih >= H)
            continue;
        for (int kw = 0; kw < KW; kw++) {
            const int tw = rw + pad_w - kw * DW;
            if (tw % SW != 0)
                continue;
            const int iw = j + tw / SW;
            if (iw >= 0 && iw < W)
                acc += cg[(size_t)(kh * KW + kw) * hw + (size_t)ih * W + iw];
        }
    }
    if (oh < OH && ow < OW)
        y[(((size_t)(n0 + nl) * OC + ocf) * OH + oh) * OW + ow] = ct_epilogue(acc, b, ocf);
}
