/* Transposed 2-D convolution (PyTorch F.conv_transpose2d), NCHW, in
 * GATHER form: every output element sums exactly the (input, weight) pairs
 * that reach it, in a fixed order, so there are no atomics and a result is
 * the same bits on every run.
 *
 * x [N, C, H, W], w [C, OC/groups, KH, KW], b [OC], y [N, OC, OH, OW].
 * y[n, g*cout_g + oc, oh, ow] = b[..] + sum over ci of group g, kh, kw with
 *   oh + pad_top - kh*DH = ih*SH  and  ow + pad_left - kw*DW = iw*SW
 *   (0 <= ih < H, 0 <= iw < W) of x[n, g*cin_g + ci, ih, iw] * w[g*cin_g + ci, oc, kh, kw].
 *
 * Stride phases. Write oh = rh + SH*i with rh = oh % SH. Tap kh reaches oh
 * iff th = rh + pad_top - kh*DH is a multiple of SH, and then ih = i + th/SH.
 * So within one phase (rh, rw) the set of contributing taps is the same for
 * every output, and consecutive outputs of the phase read consecutive inputs:
 * each phase is an ordinary stride-1 correlation with a sub-kernel. A
 * work-group handles one phase, so its work-items take the same branches and
 * neighbouring work-items read neighbouring addresses.
 *
 * Build-time constants (-D): KH KW SH SW DH DW (kernel size, stride,
 * dilation) and the tile WG_W x WG_H work-items, each computing BOC channels x
 * BW phase columns (WG_W apart). Padding, sizes, bias and activation are runtime
 * arguments (common.cl's epilogue).
 * The col2im kernel of the GEMM algorithm uses KH..DW and WG_W.
 * x, w, b, y (and the epilogue's z, pre) are common.cl's store_t: float, or
 * halves with -DCLCONV_F16 (read and written through CLCONV_LD / _ST / _LDV
 * / _STV; every sum is float). The GEMM's columns and the vector variant's
 * packed weights stay float.
 * -DCT_VECTOR selects the CPU variants at the end of the file instead
 * (conv_transpose2d_vector and its weight repack; with -DCT_COLUMNS,
 * conv_transpose2d_columns).
 */

#define NPHASE (SH * SW)


/* Each program holds either the gather and col2im kernels or (with
 * -DCT_VECTOR) the vector variant and its weight repack: compiling the
 * others too would only cost build time. */
#ifndef CT_VECTOR
#define TILE_J (WG_W * BW)
#define CT_CI_BLOCK 8 /* input channels per step of the gather */

/* Global ids: dim 0 = phase column block, dim 1 = phase row, dim 2 =
 * ((n * groups + g) * oc_blocks + ocb) * NPHASE + phase. */
__kernel __attribute__((reqd_work_group_size(WG_W, WG_H, 1)))
void conv_transpose2d_gather(__global const store_t *restrict x,
                             __global const store_t *restrict w,
                             __global const store_t *restrict b,
                             __global store_t *CLCONV_Y_RESTRICT y,
                             const int C, const int H, const int W, const int OC, const int OH,
                             const int OW, const int groups, const int pad_top, const int pad_left,
                             const int oc_blocks, CLCONV_EPILOGUE_ARGS)
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
    __global const store_t *xg = x + ((size_t)n * C + (size_t)g * cin_g) * H * W;
    __global const store_t *wg = w + (size_t)g * cin_g * cout_g * (KH * KW);
    const size_t hw = (size_t)H * W, w_ci = (size_t)cout_g * (KH * KW);
    for (int ci0 = 0; ci0 < cin_g; ci0 += CT_CI_BLOCK) {
        const int nci = min(CT_CI_BLOCK, cin_g - ci0);
        for (int kh = 0; kh < KH; kh++) {
            const int th = rh + pad_top - kh * DH;
            if (th % SH != 0)
                continue; /* the same for the whole work-group */
            const int ih = i + th / SH; /* exact division */
            if (oh >= OH || ih < 0 || ih >= H)
                continue;
            for (int kw = 0; kw < KW; kw++) {
                const int tw = rw + pad_left - kw * DW;
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
                __global const store_t *xp = xg + (size_t)ci0 * hw;
                __global const store_t *wp = wg + (size_t)ci0 * w_ci + kh * KW + kw;
                for (int ci = 0; ci < nci; ci++) {
                    float xv[BW];
                    for (int c = 0; c < BW; c++) {
                        const float v = CLCONV_LD(xp, off[c]);
                        xv[c] = ok[c] ? v : 0.0f; /* a select: NaN/inf outside never leak in */
                    }
                    for (int r = 0; r < BOC; r++) {
                        const float wv = CLCONV_LD(wp, (size_t)ocw[r] * (KH * KW));
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
                const size_t row = (((size_t)n * OC + ocf) * OH + oh) * OW;
                for (int c = 0; c < BW; c++) {
                    const int ow = rw + (j0 + c * WG_W) * SW;
                    if (ow < OW)
                        CLCONV_ST(clconv_epilogue(acc[r][c], b, ocf, row + ow,
                                                  CLCONV_EPILOGUE_PASS),
                                  row + ow, y);
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
                             __global const store_t *restrict b,
                             __global store_t *CLCONV_Y_RESTRICT y,
                             const int H, const int W, const int OC, const int OH, const int OW,
                             const int groups, const int pad_top, const int pad_left, const int n0,
                             CLCONV_EPILOGUE_ARGS)
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
        const int th = rh + pad_top - kh * DH;
        if (th % SH != 0)
            continue;
        const int ih = i + th / SH;
        if (ih < 0 || ih >= H)
            continue;
        for (int kw = 0; kw < KW; kw++) {
            const int tw = rw + pad_left - kw * DW;
            if (tw % SW != 0)
                continue;
            const int iw = j + tw / SW;
            if (iw >= 0 && iw < W)
                acc += cg[(size_t)(kh * KW + kw) * hw + (size_t)ih * W + iw];
        }
    }
    if (oh < OH && ow < OW) {
        const size_t at = (((size_t)(n0 + nl) * OC + ocf) * OH + oh) * OW + ow;
        CLCONV_ST(clconv_epilogue(acc, b, ocf, at, CLCONV_EPILOGUE_PASS), at, y);
    }
}
#endif /* !CT_VECTOR */

/* ---- vector variant: output channels in SIMD lanes (CPU devices) ----------
 *
 * The layout of conv2d.cl's conv2d_vector applied to one stride phase: on a
 * CPU device a work-item is a loop iteration and only explicit wide vectors
 * reach the FMA peak, so each work-item owns VEC output channels as one
 * floatVEC and an RH x BW block of outputs of one phase (phase rows i0..,
 * phase columns j0..; output oh = rh + SH*i, ow = rw + SW*j). Within a phase
 * every output uses the same taps, and a tap (kh, kw) reads input
 * (i + dh, j + dw) with fixed offsets dh, dw: one broadcast input value times
 * the VEC weights of the tap per FMA, each weight vector used RH*BW times.
 * The taps of a phase along h are kh0, kh0 + STEP_H, ... with
 * STEP_H = SH / gcd(SH, DH) (likewise w); kh0 depends on the phase and the
 * padding, so it is found at run time.
 * Each output sums exactly the pairs that reach it (an input outside the
 * image is skipped, not multiplied by 0) in a fixed order: input channel,
 * then kh, then kw. Deterministic, no atomics.
 * A work-item holds NB channel blocks (NB x VEC channels): each broadcast
 * input value feeds NB FMAs. With one block, a tap's 16 FMAs took 16
 * broadcast loads and one weight load; two blocks x 8 outputs take 10 for
 * 16 (host/conv_transpose2d/vector.c has the sweep).
 * The weights are repacked per run (conv_transpose2d_pack) so the VEC weights
 * of a tap are contiguous: [group][channel block][ci][kh][kw][VEC], zero past
 * cout_g (those lanes are never stored); the blocks of a group are counted up
 * to a multiple of NB (CTV_BLOCKS), the extra ones all zeros.
 * Constants: KH..DW, VEC (4, 8, 16), NB, BW, RH, STEP_H, STEP_W. */
#ifdef CT_VECTOR
#define KHW (KH * KW)


/* Global id 2 of both CPU variants, ((g * ocbs + ocb) * NPHASE + phase) * N + n,
 * split into its parts. */
inline void ctv_split_z(int z, int N, int ocbs, int *n, int *phase, int *ocb, int *g)
{
    *n = z % N;
    z /= N;
    *phase = z % NPHASE;
    z /= NPHASE;
    *ocb = z % ocbs;
    *g = z / ocbs;
}

/* First tap of phase residue r along one axis (kernel k_len, step, dilation
 * dil, stride, padding pad): the least tap below step with
 * (r + pad - tap * dil) % stride == 0, or k_len when the phase has none.
 * Called with the -D constants, so it folds as the inline loop did. */
inline int ctv_first_tap(int r, int pad, int k_len, int step, int dil, int stride)
{
    int k = 0;
    while (k < k_len && k < step && (r + pad - k * dil) % stride != 0)
        k++;
    return k == step ? k_len : k;
}

#ifndef CT_COLUMNS
/* Packed channel blocks per group: VEC channels each, a multiple of NB. */
#define CTV_BLOCKS(cout_g) (CLCONV_DIV_UP(cout_g, VEC * NB) * NB)

/* wp[((g * ocbs + ocb) * cin_g + ci) * KHW * VEC + k * VEC + lane]
 *   = w[g * cin_g + ci, ocb * VEC + lane, k] (0 past cout_g), ocbs =
 * CTV_BLOCKS(cout_g). One work-item per (g, ocb, ci): VEC x KHW weights,
 * each channel's KHW read in a row. (One work-item per float, with its five
 * divisions, took 18% of DCGAN g3's time.) Global size groups * ocbs * cin_g. */
__kernel void conv_transpose2d_pack(__global const store_t *restrict w,
                                    __global float *restrict wp, const int cin_g,
                                    const int cout_g, const int groups)
{
    const int i = get_global_id(0); /* (g * ocbs + ocb) * cin_g + ci */
    const int ocbs = CTV_BLOCKS(cout_g);
    if (i >= groups * ocbs * cin_g)
        return;
    const int ci = i % cin_g, ocb = i / cin_g % ocbs, g = i / cin_g / ocbs;
    __global float *dst = wp + (size_t)i * KHW * VEC;
    for (int lane = 0; lane < VEC; lane++) {
        const int oc = ocb * VEC + lane;
        __global const store_t *src = w + (((size_t)g * cin_g + ci) * cout_g + oc) * KHW;
        for (int k = 0; k < KHW; k++)
            dst[k * VEC + lane] = oc < cout_g ? CLCONV_LD(src, k) : 0.0f;
    }
}

/* One input channel: every tap of the phase for all RH x BW outputs.
 * CHECKED adds the per-column bounds test that only edge blocks need (on
 * DCGAN's 8- and 16-wide phases, every block). The r and p loops are
 * unrolled: without it PoCL kept the accumulators on the stack, and the
 * edge path, where DCGAN spends its time, ran 1.5 - 2x slower. */
#define CTV_CHANNEL(CHECKED)                                                      \
    for (int kh = kh0; kh < KH; kh += STEP_H) {                                   \
        const int dh = (rh + pad_top - kh * DH) / SH; /* exact */                 \
        bool row_ok[RH];                                                          \
        for (int r = 0; r < RH; r++) {                                            \
            const int ih = i0 + r + dh;                                           \
            row_ok[r] = rows_ok[r] && ih >= 0 && ih < H;                          \
        }                                                                         \
        for (int kw = kw0; kw < KW; kw += STEP_W) {                               \
            const int dw = (rw + pad_left - kw * DW) / SW;                        \
            floatV wv[NB];                                                        \
            _Pragma("unroll") for (int t = 0; t < NB; t++)                        \
                wv[t] = vloadV(0, wc + t * wblock + (kh * KW + kw) * VEC);        \
            _Pragma("unroll") for (int r = 0; r < RH; r++) {                      \
                if (!row_ok[r])                                                   \
                    continue;                                                     \
                __global const store_t *xr = xc + (size_t)(i0 + r + dh) * W;      \
                _Pragma("unroll") for (int p = 0; p < BW; p++) {                  \
                    const int iw = j0 + dw + p;                                   \
                    if (!(CHECKED) || (iw >= 0 && iw < W)) {                      \
                        const floatV xv = (floatV)(CLCONV_LD(xr, iw));            \
                        _Pragma("unroll") for (int t = 0; t < NB; t++)            \
                            acc[t][r][p] = fma(xv, wv[t], acc[t][r][p]);          \
                    }                                                             \
                }                                                                 \
            }                                                                     \
        }                                                                         \
    }

#define CTV_LOOP(CHECKED)                                                         \
    for (int ci = 0; ci < cin_g; ci++) {                                          \
        __global const store_t *xc = xg + (size_t)ci * H * W;                     \
        __global const float *wc = wb + (size_t)ci * KHW * VEC;                   \
        CTV_CHANNEL(CHECKED)                                                      \
    }

/* Global ids: dim 0 = phase column block (BW columns), dim 1 = phase row
 * block (RH rows), dim 2 = ((g * obs + ob) * NPHASE + phase) * N + n, ob
 * the work-item's NB channel blocks (obs = CTV_BLOCKS(cout_g) / NB of them
 * per group): the images of one channel block and phase run one after
 * another, so the block's weights stay in cache across them. */
__kernel void conv_transpose2d_vector(__global const store_t *restrict x,
                                      __global const float *restrict wp,
                                      __global const store_t *restrict b,
                                      __global store_t *CLCONV_Y_RESTRICT y, const int N,
                                      const int C, const int H, const int W, const int OC,
                                      const int OH, const int OW, const int groups,
                                      const int pad_top, const int pad_left, CLCONV_EPILOGUE_ARGS)
{
    const int cin_g = C / groups, cout_g = OC / groups;
    const int ocbs = CTV_BLOCKS(cout_g);
    int n, phase, ob, g;
    ctv_split_z(get_global_id(2), N, ocbs / NB, &n, &phase, &ob, &g);
    if (g >= groups)
        return; /* no barriers here: leaving early is safe */
    const int rh = phase / SW, rw = phase - (phase / SW) * SW;
    const int i0 = get_global_id(1) * RH, j0 = get_global_id(0) * BW;
    if (rh + i0 * SH >= OH || rw + j0 * SW >= OW)
        return;
    /* First tap of this phase along each axis (KH / KW: none). */
    const int kh0 = ctv_first_tap(rh, pad_top, KH, STEP_H, DH, SH);
    const int kw0 = ctv_first_tap(rw, pad_left, KW, STEP_W, DW, SW);
    bool rows_ok[RH];
    for (int r = 0; r < RH; r++)
        rows_ok[r] = rh + (i0 + r) * SH < OH;

    __global const store_t *xg = x + ((size_t)n * C + (size_t)g * cin_g) * H * W;
    const int wblock = cin_g * KHW * VEC; /* floats from one block to the next */
    __global const float *wb = wp + ((size_t)g * ocbs + ob * NB) * wblock;
    floatV acc[NB][RH][BW];
    for (int t = 0; t < NB; t++)
        for (int r = 0; r < RH; r++)
            for (int p = 0; p < BW; p++)
                acc[t][r][p] = (floatV)(0.0f);
    /* Input columns of the block: j0 + dw .. j0 + BW - 1 + dw, where dw runs
     * from dw(kw0) (largest) down to dw(last tap). Blocks whose every tap
     * column lies inside the row skip the bounds tests. */
    bool inside = kw0 < KW;
    if (inside) {
        const int kw1 = kw0 + (KW - 1 - kw0) / STEP_W * STEP_W;
        const int dw_hi = (rw + pad_left - kw0 * DW) / SW, dw_lo = (rw + pad_left - kw1 * DW) / SW;
        inside = j0 + dw_lo >= 0 && j0 + BW - 1 + dw_hi < W;
    }
    if (inside) {
        CTV_LOOP(0)
    } else {
        CTV_LOOP(1)
    }

    /* The epilogue on whole vectors: each block's biases in lanes (one load),
     * then the activation once per vector (as conv2d_vector). */
    for (int t = 0; t < NB; t++) {
        const int ocb = ob * NB + t;
        if (ocb * VEC >= cout_g)
            break; /* a padding block */
        float bl[VEC];
        for (int l = 0; l < VEC; l++) {
            const int oc = ocb * VEC + l;
            bl[l] = has_bias && oc < cout_g ? CLCONV_LD(b, g * cout_g + oc) : 0.0f;
        }
        const floatV biasv = vloadV(0, bl);
        for (int r = 0; r < RH; r++) {
            const int oh = rh + (i0 + r) * SH;
            if (oh >= OH)
                break;
            for (int p = 0; p < BW; p++) {
                const int ow = rw + (j0 + p) * SW;
                if (ow >= OW)
                    break;
                float lanes[VEC];
#ifdef CLCONV_EPILOGUE_EXTRA
                /* the residual / second output: lane by lane at each lane's index */
                vstoreV(acc[t][r][p], 0, lanes);
                for (int l = 0; l < VEC; l++) {
                    const int oc = ocb * VEC + l;
                    const size_t at = (((size_t)n * OC + g * cout_g + oc) * OH + oh) * OW + ow;
                    if (oc < cout_g)
                        CLCONV_ST(clconv_epilogue_at(lanes[l], bl[l], at, CLCONV_EPILOGUE_PASS),
                                  at, y);
                }
#else
                vstoreV(clconv_activate_v(acc[t][r][p] + biasv, act, act_a, act_b), 0, lanes);
                for (int l = 0; l < VEC; l++) {
                    const int oc = ocb * VEC + l;
                    if (oc < cout_g)
                        CLCONV_ST(lanes[l],
                                  (((size_t)n * OC + g * cout_g + oc) * OH + oh) * OW + ow, y);
                }
#endif
            }
        }
    }
}
#endif /* !CT_COLUMNS */

/* ---- columns variant: output columns in SIMD lanes (few output channels) --
 *
 * Layers with few output channels per group (an RGB output layer, depthwise)
 * would leave most channel lanes empty, so here the lanes hold VEC
 * neighbouring columns of one phase: within a phase, neighbouring outputs
 * read neighbouring inputs, so a tap is one (unaligned) vector load of an
 * input row times a broadcast weight, for each of BOC channels. Each
 * work-item computes BOC channels x RH phase rows x BV vectors of VEC phase
 * columns. Vectors that reach past the row (edge blocks) mask the lanes
 * outside it out of the update, so here too an output sums exactly the pairs that
 * reach it, in the order input channel, kh, kw. Weights are read as they are
 * (no repack). Extra constants: BOC, BV (with VEC, RH, STEP_H, STEP_W). */
#ifdef CT_COLUMNS

__kernel void conv_transpose2d_columns(__global const store_t *restrict x,
                                       __global const store_t *restrict w,
                                       __global const store_t *restrict b,
                                       __global store_t *CLCONV_Y_RESTRICT y, const int N,
                                       const int C, const int H, const int W, const int OC,
                                       const int OH, const int OW, const int groups,
                                       const int pad_top, const int pad_left, CLCONV_EPILOGUE_ARGS)
{
    const int cin_g = C / groups, cout_g = OC / groups;
    const int ocbs = CLCONV_DIV_UP(cout_g, BOC);
    int n, phase, ocb, g;
    ctv_split_z(get_global_id(2), N, ocbs, &n, &phase, &ocb, &g);
    if (g >= groups)
        return; /* no barriers here: leaving early is safe */
    const int rh = phase / SW, rw = phase - (phase / SW) * SW;
    const int i0 = get_global_id(1) * RH, j0 = get_global_id(0) * (VEC * BV);
    if (rh + i0 * SH >= OH || rw + j0 * SW >= OW)
        return;
    const int kh0 = ctv_first_tap(rh, pad_top, KH, STEP_H, DH, SH);
    const int kw0 = ctv_first_tap(rw, pad_left, KW, STEP_W, DW, SW);
    bool rows_ok[RH];
    for (int r = 0; r < RH; r++)
        rows_ok[r] = rh + (i0 + r) * SH < OH;
    int ocw[BOC]; /* weight column per channel of the block, clamped in range */
    for (int o = 0; o < BOC; o++)
        ocw[o] = min(ocb * BOC + o, cout_g - 1);

    __global const store_t *xg = x + ((size_t)n * C + (size_t)g * cin_g) * H * W;
    __global const store_t *wg = w + (size_t)g * cin_g * cout_g * KHW;
    floatV acc[BOC][RH][BV];
    for (int o = 0; o < BOC; o++)
        for (int r = 0; r < RH; r++)
            for (int v = 0; v < BV; v++)
                acc[o][r][v] = (floatV)(0.0f);
    const long x_len = (long)N * C * H * W;
    intV lane = (intV)(0);
    {
        int l[VEC];
        for (int p = 0; p < VEC; p++)
            l[p] = p;
        lane = VCAT(vload, VEC)(0, l);
    }
    for (int ci = 0; ci < cin_g; ci++) {
        __global const store_t *xc = xg + (size_t)ci * H * W;
        __global const store_t *wc = wg + (size_t)ci * cout_g * KHW;
        for (int kh = kh0; kh < KH; kh += STEP_H) {
            const int dh = (rh + pad_top - kh * DH) / SH; /* exact */
            for (int kw = kw0; kw < KW; kw += STEP_W) {
                const int dw = (rw + pad_left - kw * DW) / SW;
                float wv[BOC];
#pragma unroll
                for (int o = 0; o < BOC; o++)
                    wv[o] = CLCONV_LD(wc, ocw[o] * KHW + kh * KW + kw);
                /* unrolled, so the accumulators stay in registers (PoCL
                 * kept them on the stack otherwise: DCGAN g5 1.43x slower) */
#pragma unroll
                for (int r = 0; r < RH; r++) {
                    const int ih = i0 + r + dh;
                    if (!rows_ok[r] || ih < 0 || ih >= H)
                        continue;
                    __global const store_t *xr = xc + (size_t)ih * W;
#pragma unroll
                    for (int v = 0; v < BV; v++) {
                        const int iw = j0 + v * VEC + dw;
                        if (iw >= 0 && iw + VEC <= W) {
                            const floatV xv = CLCONV_LDV(0, xr + iw);
#pragma unroll
                            for (int o = 0; o < BOC; o++)
                                acc[o][r][v] = fma(xv, (floatV)(wv[o]), acc[o][r][v]);
                        } else {
                            /* Past the row's edge: the lanes outside it are
                             * masked out of the update. The load itself may
                             * take them from the neighbouring rows when that
                             * stays inside x; only at x's two ends gather. */
                            floatV xv;
                            const long at = (long)(xr - x) + iw;
                            if (at >= 0 && at + VEC <= x_len) {
                                xv = CLCONV_LDV(0, x + at);
                            } else {
                                float t[VEC];
                                for (int p = 0; p < VEC; p++)
                                    t[p] = (iw + p >= 0 && iw + p < W) ? CLCONV_LD(xr, iw + p)
                                                                       : 0.0f;
                                xv = vloadV(0, t);
                            }
                            const intV col = lane + (intV)(iw);
                            const intV ok = col >= (intV)(0) && col < (intV)(W);
#pragma unroll
                            for (int o = 0; o < BOC; o++)
                                acc[o][r][v] = select(acc[o][r][v],
                                                      fma(xv, (floatV)(wv[o]), acc[o][r][v]), ok);
                        }
                    }
                }
            }
        }
    }

    for (int o = 0; o < BOC; o++) {
        const int oc = ocb * BOC + o;
        if (oc >= cout_g)
            break;
        const int ocf = g * cout_g + oc;
        for (int r = 0; r < RH; r++) {
            const int oh = rh + (i0 + r) * SH;
            if (oh >= OH)
                break;
            const size_t row = (((size_t)n * OC + ocf) * OH + oh) * OW;
            const float bias = has_bias ? CLCONV_LD(b, ocf) : 0.0f;
            for (int v = 0; v < BV; v++) {
                float lanes[VEC];
#ifdef CLCONV_EPILOGUE_EXTRA
                vstoreV(acc[o][r][v], 0, lanes);
                for (int p = 0; p < VEC; p++) {
                    const int ow = rw + (j0 + v * VEC + p) * SW;
                    if (ow < OW)
                        CLCONV_ST(clconv_epilogue_at(lanes[p], bias, row + ow,
                                                     CLCONV_EPILOGUE_PASS),
                                  row + ow, y);
                }
#else
                vstoreV(clconv_epilogue_v(acc[o][r][v], bias, 0, CLCONV_EPILOGUE_PASS), 0, lanes);
                for (int p = 0; p < VEC; p++) {
                    const int ow = rw + (j0 + v * VEC + p) * SW;
                    if (ow < OW)
                        CLCONV_ST(lanes[p], row + ow, y);
                }
#endif
            }
        }
    }
}
#endif /* CT_COLUMNS */
#endif /* CT_VECTOR */
