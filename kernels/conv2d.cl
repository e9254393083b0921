/* Direct 2-D convolution (cross-correlation, PyTorch F.conv2d), NCHW float32.
 *
 * Six variants, one per algorithm file of host/conv2d/; the host builds
 * exactly one per program with -D<VARIANT> (host/conv2d/direct.c):
 *   CONV2D_TILED      conv2d_tiled: input tile + halo and weights in local
 *                     memory (direct-tiled, GPUs)
 *   CONV2D_REGISTER   conv2d_register: the same tile from global memory into
 *                     registers (direct-register)
 *   CONV2D_VECTOR     conv2d_pack_weights + conv2d_vector: output channels in
 *                     SIMD lanes (direct-vector, CPUs)
 *   CONV2D_POINTWISE  conv2d_pointwise (+ conv2d_gather_phases): pixels in
 *                     SIMD lanes, a register-blocked GEMM (direct-pointwise)
 *   CONV2D_DEPTHWISE  conv2d_depthwise: output columns in SIMD lanes
 *                     (direct-depthwise)
 *   CONV2D_BATCH      conv2d_batch (+ conv2d_batch_pack): images in SIMD
 *                     lanes (direct-batch, CPUs, big batches of small maps)
 * Each variant's section lists the constants it adds (VEC, RH, NPV, WIDE, NPX).
 *
 * Build-time constants of every variant (-D), so loops over the kernel window
 * have constant trip counts the compiler unrolls where it pays (an explicit
 * #pragma unroll tripled PoCL's compile time for no gain there):
 *   KH KW SH SW DH DW   kernel size, stride and dilation
 *   WG_W WG_H WG_OC     work-group shape: columns x rows x channel lanes
 *   BW BOC              register block of each work-item: BW columns x BOC channels
 *   CI_CHUNK            input channels staged in local memory per step (tiled)
 * Bias and the activation are runtime arguments (common.cl's epilogue).
 *
 * Tiled and register: a work-group computes an output tile of TILE_OC
 * channels x WG_H rows x TILE_OW columns of one image and one group. Columns
 * of a work-item are WG_W apart, so neighbouring work-items touch
 * neighbouring addresses (coalesced on GPUs, vectorisable across work-items
 * on CPUs). Padding is virtual: reads outside the image produce 0 and are
 * never issued.
 */

#define TILE_OW (WG_W * BW)
#define TILE_OC (WG_OC * BOC)
#define KHW (KH * KW)
/* Input rows/columns a tile needs, halo included. */
#define IN_TH ((WG_H - 1) * SH + (KH - 1) * DH + 1)
#define IN_TW ((TILE_OW - 1) * SW + (KW - 1) * DW + 1)

/* Arguments shared by the variants:
 * x [N, C, H, W], w [OC, C/groups, KH, KW], b [OC] (unused unless has_bias),
 * y [N, OC, OH, OW]; cin_g / cout_g are channels per group; has_bias, act,
 * act_a, act_b select the epilogue (common.cl). */
#define CONV2D_ARGS                                                               \
    __global const store_t *restrict x, __global const store_t *restrict w,       \
    __global const store_t *restrict b, __global store_t *CLCONV_Y_RESTRICT y,   \
    const int C, const int H, const int W, const int OC, const int OH,            \
    const int OW, const int groups, const int pad_top, const int pad_left,        \
    CLCONV_EPILOGUE_ARGS

/* Which tile this work-group computes. */
#define CONV2D_TILE_COORDS                                                        \
    const int cin_g = C / groups, cout_g = OC / groups;                           \
    const int oc_blocks = CLCONV_DIV_UP(cout_g, TILE_OC);                         \
    const int z = get_group_id(2);                                                \
    const int ocb = z % oc_blocks;                                                \
    const int g = (z / oc_blocks) % groups;                                       \
    const int n = z / oc_blocks / groups;                                         \
    const int lx = get_local_id(0), ly = get_local_id(1), lz = get_local_id(2);   \
    const int tile_ow0 = get_group_id(0) * TILE_OW;                               \
    const int oh = get_group_id(1) * WG_H + ly;                                   \
    const int oc0 = ocb * TILE_OC + lz * BOC; /* first channel, within group */   \
    __global const store_t *xg = x + ((size_t)n * C + (size_t)g * cin_g) * H * W; \
    float acc[BOC][BW];                                                           \
    for (int r = 0; r < BOC; r++)                                                 \
        for (int c = 0; c < BW; c++)                                              \
            acc[r][c] = 0.0f;

#define CONV2D_STORE                                                              \
    if (oh < OH) {                                                                \
        for (int r = 0; r < BOC; r++) {                                           \
            const int oc = oc0 + r;                                               \
            if (oc < cout_g) {                                                    \
                const int ocf = g * cout_g + oc;                                  \
                const size_t row = (((size_t)n * OC + ocf) * OH + oh) * OW;      \
                for (int c = 0; c < BW; c++) {                                    \
                    const int ow = tile_ow0 + lx + c * WG_W;                      \
                    if (ow < OW)                                                  \
                        CLCONV_ST(clconv_epilogue(acc[r][c], b, ocf, row + ow,      \
                                                  CLCONV_EPILOGUE_PASS),          \
                                  row + ow, y);                                   \
                }                                                                 \
            }                                                                     \
        }                                                                         \
    }

/* Each program holds the one variant its plan runs (-DCONV2D_TILED,
 * -DCONV2D_REGISTER or -DCONV2D_VECTOR): compiling the others too would only
 * cost build time. */
#ifdef CONV2D_TILED
/* Tiled variant: the input tile with its halo and the weights of TILE_OC
 * channels go through local memory, CI_CHUNK input channels at a time, so each
 * input value is read from global memory once per work-group instead of once
 * per output that uses it. */
__kernel __attribute__((reqd_work_group_size(WG_W, WG_H, WG_OC)))
void conv2d_tiled(CONV2D_ARGS)
{
    __local float in_tile[CI_CHUNK * IN_TH * IN_TW];
    __local float w_tile[TILE_OC * CI_CHUNK * KHW];

    CONV2D_TILE_COORDS

    const int lid = lx + WG_W * (ly + WG_H * lz);
    const int nloc = WG_W * WG_H * WG_OC;
    const int ih0 = get_group_id(1) * WG_H * SH - pad_top;
    const int iw0 = tile_ow0 * SW - pad_left;
    const int tile_oc0 = ocb * TILE_OC;

    /* Every work-item runs the same number of chunks: barriers stay uniform. */
    for (int ci0 = 0; ci0 < cin_g; ci0 += CI_CHUNK) {
        for (int i = lid; i < CI_CHUNK * IN_TH * IN_TW; i += nloc) {
            const int ci = i / (IN_TH * IN_TW);
            const int rem = i - ci * (IN_TH * IN_TW);
            const int row = rem / IN_TW;
            const int col = rem - row * IN_TW;
            const int ih = ih0 + row, iw = iw0 + col;
            float v = 0.0f;
            if (ci0 + ci < cin_g && ih >= 0 && ih < H && iw >= 0 && iw < W)
                v = CLCONV_LD(xg, ((size_t)(ci0 + ci) * H + ih) * W + iw);
            in_tile[i] = v;
        }
        for (int i = lid; i < TILE_OC * CI_CHUNK * KHW; i += nloc) {
            const int o = i / (CI_CHUNK * KHW);
            const int rem = i - o * (CI_CHUNK * KHW);
            const int ci = rem / KHW;
            const int k = rem - ci * KHW;
            const int oc = tile_oc0 + o;
            float v = 0.0f;
            if (oc < cout_g && ci0 + ci < cin_g)
                v = CLCONV_LD(w, (((size_t)g * cout_g + oc) * cin_g + ci0 + ci) * KHW + k);
            w_tile[i] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int ci = 0; ci < CI_CHUNK; ci++) {
            for (int kh = 0; kh < KH; kh++) {
                for (int kw = 0; kw < KW; kw++) {
                    float xv[BW];
                    for (int c = 0; c < BW; c++)
                        xv[c] = in_tile[(ci * IN_TH + ly * SH + kh * DH) * IN_TW +
                                        (lx + c * WG_W) * SW + kw * DW];
                    for (int r = 0; r < BOC; r++) {
                        const float wv = w_tile[((lz * BOC + r) * CI_CHUNK + ci) * KHW + kh * KW + kw];
                        for (int c = 0; c < BW; c++)
                            acc[r][c] = fma(wv, xv[c], acc[r][c]);
                    }
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    CONV2D_STORE
}

#endif /* CONV2D_TILED */

#ifdef CONV2D_REGISTER
/* Register-blocked variant without local memory or barriers: on CPU devices
 * local memory is ordinary RAM and each barrier splits the kernel, so reading
 * through the caches directly is cheaper. Also the fallback when a tile with
 * its halo does not fit in local memory (huge dilated kernels). */
__kernel __attribute__((reqd_work_group_size(WG_W, WG_H, WG_OC)))
void conv2d_register(CONV2D_ARGS)
{
    CONV2D_TILE_COORDS

    int ocw[BOC]; /* weight channel per row of the block, clamped in range */
    for (int r = 0; r < BOC; r++)
        ocw[r] = g * cout_g + min(oc0 + r, cout_g - 1);

    for (int ci = 0; ci < cin_g; ci++) {
        __global const store_t *xc = xg + (size_t)ci * H * W;
        for (int kh = 0; kh < KH; kh++) {
            const int ih = oh * SH - pad_top + kh * DH;
            const bool row_ok = ih >= 0 && ih < H;
            for (int kw = 0; kw < KW; kw++) {
                float xv[BW];
                for (int c = 0; c < BW; c++) {
                    const int iw = (tile_ow0 + lx + c * WG_W) * SW - pad_left + kw * DW;
                    xv[c] = (row_ok && iw >= 0 && iw < W) ? CLCONV_LD(xc, (size_t)ih * W + iw) : 0.0f;
                }
                for (int r = 0; r < BOC; r++) {
                    const float wv = CLCONV_LD(w, (((size_t)ocw[r] * cin_g + ci) * KH + kh) * KW + kw);
                    for (int c = 0; c < BW; c++)
                        acc[r][c] = fma(wv, xv[c], acc[r][c]);
                }
            }
        }
    }

    CONV2D_STORE
}

#endif /* CONV2D_REGISTER */

/* ---- vector variant: output channels in SIMD lanes (CPU devices) ----------
 *
 * On a CPU OpenCL device a work-item is a loop iteration, and only explicit
 * wide vectors reach the FMA peak (PoCL does not vectorise these loops across
 * work-items). So each work-item owns VEC output channels as one floatVEC and
 * BW output columns of one row: BW accumulators, each updated by an FMA of a
 * broadcast input value with the VEC weights of one tap. The weights are
 * repacked once per run (conv2d_pack_weights) so those VEC weights are
 * contiguous: [group][channel block][ci][kh][kw][VEC], zero past cout_g.
 * Extra constants: VEC (4, 8 or 16), BW, RH (rows per work-item), WG_H
 * (work-items per work-group along the rows). */
#ifdef CONV2D_VECTOR

/* The packing is a transpose: the VEC rows of a channel block (each a run
 * of L = cin_g * KH * KW weights, all (ci, kh, kw) of one output channel)
 * become L runs of VEC lanes. A work-item writes PACK_J such runs, a
 * VEC x PACK_J block whose row pieces stay in L1 while it gathers the lanes;
 * global size (ceil(L / PACK_J), groups * channel blocks). One work-item per
 * element with its index divisions cost PoCL ~7 ns an element: more than the
 * convolution itself on the 7x7 layers of ResNet-50. */
#define PACK_J 16
__kernel void conv2d_pack_weights(__global const store_t *restrict w, __global float *restrict wp,
                                  const int cin_g, const int cout_g, const int groups)
{
    const int L = cin_g * KHW;
    const int ocbs = CLCONV_DIV_UP(cout_g, VEC);
    const int j0 = get_global_id(0) * PACK_J;
    const int gb = get_global_id(1); /* g * ocbs + ocb */
    if (j0 >= L || gb >= groups * ocbs)
        return;
    const int g = gb / ocbs, ocb = gb - g * ocbs;
    const int nj = min(PACK_J, L - j0);
    const int nr = min(VEC, cout_g - ocb * VEC); /* real channels in the block */
    __global const store_t *rows = w + ((size_t)g * cout_g + ocb * VEC) * L + j0;
    __global float *out = wp + ((size_t)gb * L + j0) * VEC;
    for (int j = 0; j < nj; j++) {
        float col[VEC];
        for (int r = 0; r < VEC; r++)
            col[r] = r < nr ? CLCONV_LD(rows, (size_t)r * L + j) : 0.0f;
        vstoreV(vloadV(0, col), j, out);
    }
}

/* One tap for all RH x BW outputs; CHECKED adds the per-column bounds test
 * that only edge blocks need. The VEC weights of the tap are loaded once and
 * used RH * BW times: narrow layers (7x7) take several rows per work-item so
 * that reuse stays high. */
#define VEC_TAP(CHECKED)                                                          \
    for (int kw = 0; kw < KW; kw++) {                                             \
        const floatV wv = vloadV(0, wk + kw * VEC);                               \
        for (int r = 0; r < RH; r++) {                                            \
            if (!row_ok[r]) { /* a padding row adds 0 * w: NaN for inf/NaN w */ \
                for (int p = 0; p < BW; p++)                                      \
                    acc[r][p] += (floatV)(0.0f) * wv;                             \
                continue;                                                         \
            }                                                                     \
            __global const store_t *xr = xc + (size_t)(ih0 + r * SH + kh * DH) * W; \
            for (int p = 0; p < BW; p++) {                                        \
                const int iw = iw0 + p * SW + kw * DW;                            \
                float xs;                                                         \
                if (CHECKED)                                                      \
                    xs = (iw >= 0 && iw < W) ? CLCONV_LD(xr, iw) : 0.0f;          \
                else                                                              \
                    xs = CLCONV_LD(xr, iw);                                       \
                acc[r][p] = fma((floatV)(xs), wv, acc[r][p]);                     \
            }                                                                     \
        }                                                                         \
    }

#define VEC_LOOP(CHECKED)                                                         \
    for (int ci = 0; ci < cin_g; ci++) {                                          \
        __global const store_t *xc = xg + (size_t)ci * H * W;                     \
        __global const float *wc = wb + (size_t)ci * KHW * VEC;                   \
        for (int kh = 0; kh < KH; kh++) {                                         \
            bool row_ok[RH];                                                      \
            for (int r = 0; r < RH; r++) {                                        \
                const int ih = ih0 + r * SH + kh * DH;                            \
                row_ok[r] = oh0 + r < OH && ih >= 0 && ih < H;                    \
            }                                                                     \
            __global const float *wk = wc + kh * KW * VEC;                        \
            VEC_TAP(CHECKED)                                                      \
        }                                                                         \
    }

__kernel void conv2d_vector(__global const store_t *restrict x, __global const float *restrict wp,
                            __global const store_t *restrict b,
                            __global store_t *CLCONV_Y_RESTRICT y,
                            const int C, const int H, const int W, const int OC, const int OH,
                            const int OW, const int groups, const int pad_top,
                            const int pad_left, CLCONV_EPILOGUE_ARGS)
{
    const int cin_g = C / groups, cout_g = OC / groups;
    const int ocbs = CLCONV_DIV_UP(cout_g, VEC);
    const int ow0 = get_global_id(0) * BW;
    const int oh0 = get_global_id(1) * RH;
    const int z = get_global_id(2);
    const int ocb = z % ocbs;
    const int g = (z / ocbs) % groups;
    const int n = z / ocbs / groups;
    if (oh0 >= OH || ow0 >= OW) /* no barriers here: leaving early is safe */
        return;
    __global const store_t *xg = x + ((size_t)n * C + (size_t)g * cin_g) * H * W;
    __global const float *wb = wp + ((size_t)g * ocbs + ocb) * cin_g * KHW * VEC;
    const int ih0 = oh0 * SH - pad_top;
    const int iw0 = ow0 * SW - pad_left;
    floatV acc[RH][BW];
    for (int r = 0; r < RH; r++)
        for (int p = 0; p < BW; p++)
            acc[r][p] = (floatV)(0.0f);
    /* Blocks whose every tap column lies inside the row skip the bounds tests. */
    const bool inside = iw0 >= 0 && iw0 + (BW - 1) * SW + (KW - 1) * DW < W;
    if (inside) {
        VEC_LOOP(0)
    } else {
        VEC_LOOP(1)
    }
    /* The epilogue on whole vectors: the block's biases in lanes (one load),
     * then the activation once per vector rather than once per lane. */
    float bl[VEC];
    for (int j = 0; j < VEC; j++) {
        const int oc = ocb * VEC + j;
        bl[j] = has_bias && oc < cout_g ? CLCONV_LD(b, g * cout_g + oc) : 0.0f;
    }
    const floatV biasv = vloadV(0, bl);
    for (int r = 0; r < RH && oh0 + r < OH; r++) {
        const int oh = oh0 + r;
        for (int p = 0; p < BW; p++) {
            const int ow = ow0 + p;
            if (ow >= OW)
                break;
            float lanes[VEC];
#ifdef CLCONV_EPILOGUE_EXTRA
            /* the residual / second output: lane by lane at each lane's index */
            vstoreV(acc[r][p], 0, lanes);
            for (int j = 0; j < VEC; j++) {
                const int oc = ocb * VEC + j;
                const size_t at = (((size_t)n * OC + g * cout_g + oc) * OH + oh) * OW + ow;
                if (oc < cout_g)
                    CLCONV_ST(clconv_epilogue_at(lanes[j], bl[j], at, CLCONV_EPILOGUE_PASS),
                              at, y);
            }
#else
            vstoreV(clconv_activate_v(acc[r][p] + biasv, act, act_a, act_b), 0, lanes);
            for (int j = 0; j < VEC; j++) {
                const int oc = ocb * VEC + j;
                if (oc < cout_g)
                    CLCONV_ST(lanes[j], (((size_t)n * OC + g * cout_g + oc) * OH + oh) * OW + ow,
                              y);
            }
#endif
        }
    }
}
#endif /* CONV2D_VECTOR */

/* ---- pointwise variant: pixel-lane GEMM (CPU devices) ---------------------
 *
 * A 1x1 layer is y[oc][q] = sum over ci of w[oc][ci] * x[ci][q] over the
 * flattened pixels q of one image and group. The vector lanes hold VEC
 * neighbouring pixels, which need not lie on one row, so the weights need no
 * repacking: a work-item owns BOC output channels x NPV vectors of pixels and
 * per input channel (and tap) loads NPV vectors of x and BOC scalar weights
 * (one per channel row, each row read front to back) for BOC * NPV vector
 * FMAs.
 *
 * Other layers read a copy of x that conv2d_gather_phases makes per run:
 * zero padding made real, and with strides split into the NPH_H x NPH_W
 * stride phases that the taps touch, each phase a plane of H x W (kernel
 * arguments; W = OW + (KW - 1) * DW / SW). Every tap is then a 1x1 layer over
 * a "wide" grid of OH rows of W pixels shifted by a constant offset, and the
 * W - OW columns past each output row are computed and dropped. Unpadded
 * stride-1 1x1 layers read x as it is (W = OW, no dropped columns).
 *
 * A vector whose pixels would run past the grid starts early instead (at
 * OH * W - VEC; the host guarantees that many pixels) and stores only the
 * pixels from where it would have started on, so no pixel is written by two
 * work-items. Global size (ceil(OH * W / (NPV * VEC)), N * groups *
 * ceil(cout_g / BOC)). Constants: VEC (4, 8 or 16), NPV, BOC, WIDE (W > OW),
 * PW_COPY (x is the copy: every layer but an unpadded stride-1 1x1). */
#ifdef CONV2D_POINTWISE
/* Stride phases a tap touches, per axis. */
#define PW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NPH_H PW_MIN(SH, (KH - 1) * DH + 1)
#define NPH_W PW_MIN(SW, (KW - 1) * DW + 1)

/* x is the layer's input as stored (a direct 1x1 layer), or the float copy
 * conv2d_gather_phases made (-DPW_COPY: every other layer; with fp16
 * storage the two types differ). */
#if defined(CLCONV_F16) && !defined(PW_COPY)
#define PW_XT store_t
#define PW_LDV(i, p) CLCONV_LDV(i, p)
#else
#define PW_XT float
#define PW_LDV(i, p) vloadV(i, p)
#endif
__kernel void conv2d_pointwise(__global const PW_XT *restrict x, __global const store_t *restrict w,
                               __global const store_t *restrict b,
                               __global store_t *CLCONV_Y_RESTRICT y, const int C, const int H,
                               const int W, const int OC, const int OH, const int OW,
                               const int groups, const int pad_top, const int pad_left,
                               CLCONV_EPILOGUE_ARGS)
{
    const int cin_g = C / groups, cout_g = OC / groups;
    const int P = OH * W; /* the wide grid */
    /* Channel blocks vary fastest: the work-items that follow each other on
     * a CPU thread reuse one strip of x from L2 (with pixels fastest, every
     * channel block streamed the whole of x again: 2x slower once x outgrew
     * L2, ResNet-50's 256-channel 56x56 layers). */
    const int ocb = get_global_id(0);
    const int q0 = get_global_id(1) * (NPV * VEC);
    const int g = get_global_id(2) % groups;
    const int n = get_global_id(2) / groups;
    if (q0 >= P) /* no barriers here: leaving early is safe */
        return;
    (void)pad_top;
    (void)pad_left;
    const int phase = H * W;
    const int plane = NPH_H * NPH_W * phase; /* one input channel */
    int tap[KHW]; /* offset of each tap from the output pixel's index */
#pragma unroll
    for (int kh = 0; kh < KH; kh++)
#pragma unroll
        for (int kw = 0; kw < KW; kw++)
            tap[kh * KW + kw] = (((kh * DH) % SH) * NPH_W + (kw * DW) % SW) * phase +
                                (kh * DH / SH) * W + kw * DW / SW;
    int qv[NPV]; /* first pixel of each vector, clamped into the grid */
#pragma unroll
    for (int i = 0; i < NPV; i++)
        qv[i] = min(q0 + i * VEC, P - VEC);
    const int oc0 = ocb * BOC;
    __global const store_t *wr[BOC]; /* weight row per channel, clamped in range */
#pragma unroll
    for (int r = 0; r < BOC; r++)
        wr[r] = w + (size_t)(g * cout_g + min(oc0 + r, cout_g - 1)) * cin_g * KHW;
    __global const PW_XT *xc = x + ((size_t)n * C + (size_t)g * cin_g) * plane;
    floatV acc[BOC][NPV];
#pragma unroll
    for (int r = 0; r < BOC; r++)
#pragma unroll
        for (int i = 0; i < NPV; i++)
            acc[r][i] = (floatV)(0.0f);
    for (int ci = 0; ci < cin_g; ci++, xc += plane) {
        for (int k = 0; k < KHW; k++) {
            floatV xv[NPV];
#pragma unroll
            for (int i = 0; i < NPV; i++)
                xv[i] = PW_LDV(0, xc + tap[k] + qv[i]);
#pragma unroll
            for (int r = 0; r < BOC; r++) {
                const floatV wv = (floatV)(CLCONV_LD(wr[r], ci * KHW + k));
#pragma unroll
                for (int i = 0; i < NPV; i++)
                    acc[r][i] = fma(wv, xv[i], acc[r][i]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < BOC; r++) {
        const int oc = oc0 + r;
        if (oc >= cout_g)
            break;
        const int ocf = g * cout_g + oc;
        const float bias = has_bias ? CLCONV_LD(b, ocf) : 0.0f;
        const size_t ybase = ((size_t)n * OC + ocf) * OH * OW;
        __global store_t *yr = y + ybase;
#pragma unroll
        for (int i = 0; i < NPV; i++) {
            const int nominal = q0 + i * VEC; /* where the vector would start */
            if (nominal >= P)
                break;
#if !WIDE
            if (qv[i] == nominal) {
                CLCONV_STV(clconv_epilogue_v(acc[r][i], bias, ybase + nominal,
                                             CLCONV_EPILOGUE_PASS),
                           0, yr + nominal);
                continue;
            }
#endif
            /* started early, or a wide row: only some lanes are outputs. The
             * first lane's row and column take one division; the others step
             * (a division per lane cost as much as the FMAs on LeNet's
             * small maps, where every vector is wide). */
            float lanes[VEC];
            const int j0 = nominal - qv[i];
            int oh = (qv[i] + j0) / W, ow = qv[i] + j0 - oh * W;
#ifdef CLCONV_EPILOGUE_EXTRA
            vstoreV(acc[r][i], 0, lanes);
            for (int j = j0; j < VEC; j++) {
                const size_t at = ybase + (size_t)oh * OW + ow;
                if (ow < OW)
                    CLCONV_ST(clconv_epilogue_at(lanes[j], bias, at, CLCONV_EPILOGUE_PASS), at,
                              y);
                if (++ow == W) {
                    ow = 0;
                    oh++;
                }
            }
#else
            vstoreV(clconv_epilogue_v(acc[r][i], bias, 0, CLCONV_EPILOGUE_PASS), 0, lanes);
            for (int j = j0; j < VEC; j++) {
                if (ow < OW)
                    CLCONV_ST(lanes[j], oh * OW + ow, yr);
                if (++ow == W) {
                    ow = 0;
                    oh++;
                }
            }
#endif
        }
    }
}

#ifdef PW_COPY
/* The copy conv2d_pointwise reads for padded or strided layers:
 * xs[n * C + c][a][b][i][j] = x[n][c][i * SH + a - pad_top][j * SW + b - pad_left]
 * (0 outside the image) for the NPH_H x NPH_W phases (a, b), i < Hq, j < Wq.
 * One work-item per row of one phase plane; global size (Hq, N * C * phases). */
__kernel void conv2d_gather_phases(__global const store_t *restrict x, __global float *restrict xs,
                                   const int H, const int W, const int Hq, const int Wq,
                                   const int planes, const int pad_top, const int pad_left)
{
    const int i = get_global_id(0), zp = get_global_id(1);
    if (i >= Hq || zp >= planes * NPH_H * NPH_W)
        return;
    const int ph = zp % (NPH_H * NPH_W), pl = zp / (NPH_H * NPH_W);
    const int a = ph / NPH_W, bb = ph - a * NPH_W;
    __global float *dst = xs + ((size_t)zp * Hq + i) * Wq;
    /* The copy's Wq floats of slack after its last row: conv2d_pointwise's
     * last vectors of a plane may read into them (the lanes are dropped).
     * Written as zeros so no run computes on memory nobody wrote (Oclgrind
     * reported the control flow of those FMAs as uninitialised). */
    if (i == Hq - 1 && zp == planes * NPH_H * NPH_W - 1)
        for (int j = 0; j < Wq; j++)
            dst[Wq + j] = 0.0f;
    const int ih = i * SH + a - pad_top;
    if (ih < 0 || ih >= H) {
        for (int j = 0; j < Wq; j++)
            dst[j] = 0.0f;
        return;
    }
    __global const store_t *src = x + ((size_t)pl * H + ih) * W;
    for (int j = 0; j < Wq; j++) {
        const int iw = j * SW + bb - pad_left;
        dst[j] = iw >= 0 && iw < W ? CLCONV_LD(src, iw) : 0.0f;
    }
}
#endif
#endif /* CONV2D_POINTWISE */

/* ---- depthwise variant: output columns in SIMD lanes (CPU devices) ---------
 *
 * Depthwise layers (one input channel per group) have no channel reduction
 * to put in vector lanes, so the lanes hold VEC neighbouring output columns
 * of one channel, and each work-item computes RH rows of them. Stride 1 and
 * 2 rows load whole vectors (stride 2 keeps the even lanes of two loads);
 * edge blocks and other strides gather lane by lane with bounds tests.
 * Constants: VEC, RH (rows per work-item), WG_OC (channels per work-group). */
#if defined(CONV2D_DEPTHWISE) || defined(CONV2D_DEPTHWISE_CHANNELS)
/* Row loaders of both depthwise variants (conv2d_depthwise_channels loads
 * VEC columns of each channel's row with step 1). */

/* VEC columns iw, iw + step, ... of row xr (step 1 or 2): one or two
 * whole-vector loads (stride 2 keeps the even lanes of two). The loaders are
 * always inlined so that step folds to a constant. */
__attribute__((always_inline)) inline floatV dw_load(__global const store_t *p, const int step)
{
    return step == 1 ? CLCONV_LDV(0, p)
                     : (floatV)(CLCONV_LDV(0, p).even, CLCONV_LDV(0, p + VEC).even);
}

/* The same columns, zero outside the row, lane by lane with bounds tests. */
inline floatV dw_gather(__global const store_t *xr, int iw, int W, const int step)
{
    float v[VEC];
    for (int p = 0; p < VEC; p++, iw += step)
        v[p] = (iw >= 0 && iw < W) ? CLCONV_LD(xr, iw) : 0.0f;
    return vloadV(0, v);
}

#if VEC == 4
#define DW_LANES ((int4)(0, 1, 2, 3))
#elif VEC == 8
#define DW_LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#else
#define DW_LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#endif
/* An edge block: when the whole-vector loads stay inside the tensor
 * [lo, hi), load and zero the lanes outside the row (reads of the
 * neighbouring rows are discarded); else gather lane by lane. */
__attribute__((always_inline)) inline floatV dw_edge(__global const store_t *xr, int iw, int W,
                                                     __global const store_t *lo,
                                                     __global const store_t *hi, const int step)
{
    __global const store_t *p = xr + iw;
    if (p >= lo && p + VEC * step <= hi) {
        const intV iwv = (intV)(iw) + DW_LANES * step;
        return select(dw_load(p, step), (floatV)(0.0f), (iwv < 0) | (iwv >= (intV)(W)));
    }
    return dw_gather(xr, iw, W, step);
}
#endif /* the depthwise row loaders */

#ifdef CONV2D_DEPTHWISE
#if SW == 1 || SW == 2
#define DW_LOAD(p) dw_load((p), SW)

/* The row path: stride 1 or 2 (the same both ways), no dilation, windows up
 * to 3 wide. Each input row the block needs is loaded once, columns iw0 ..
 * iw0 + 2 * VEC - 1 as two vectors r0:r1 (and, for a 3-wide stride-2
 * window, the column after them), and the taps are shuffled out of it:
 * stride 1, tap kw is lanes kw .. kw + VEC - 1 of r0:r1; stride 2, kw = 0
 * the even columns, 1 the odd ones, 2 the even ones shifted by one. */
#if SW == SH && DW == 1 && DH == 1 && KW <= 3
#define DW_ROWS 1
#if VEC == 4
#define DW_SHIFT1(a, b) shuffle2(a, b, (uint4)(1, 2, 3, 4))
#define DW_SHIFT2(a, b) shuffle2(a, b, (uint4)(2, 3, 4, 5))
#define DW_EVEN(a, b) shuffle2(a, b, (uint4)(0, 2, 4, 6))
#define DW_ODD(a, b) shuffle2(a, b, (uint4)(1, 3, 5, 7))
#elif VEC == 8
#define DW_SHIFT1(a, b) shuffle2(a, b, (uint8)(1, 2, 3, 4, 5, 6, 7, 8))
#define DW_SHIFT2(a, b) shuffle2(a, b, (uint8)(2, 3, 4, 5, 6, 7, 8, 9))
#define DW_EVEN(a, b) shuffle2(a, b, (uint8)(0, 2, 4, 6, 8, 10, 12, 14))
#define DW_ODD(a, b) shuffle2(a, b, (uint8)(1, 3, 5, 7, 9, 11, 13, 15))
#else
#define DW_SHIFT1(a, b) \
    shuffle2(a, b, (uint16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16))
#define DW_SHIFT2(a, b) \
    shuffle2(a, b, (uint16)(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17))
#define DW_EVEN(a, b) \
    shuffle2(a, b, (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30))
#define DW_ODD(a, b) \
    shuffle2(a, b, (uint16)(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31))
#endif
#endif
#endif

__kernel void conv2d_depthwise(__global const store_t *restrict x,
                               __global const store_t *restrict w,
                               __global const store_t *restrict b,
                               __global store_t *CLCONV_Y_RESTRICT y,
                               const int C, const int H, const int W, const int OC, const int OH,
                               const int OW, const int groups, const int pad_top,
                               const int pad_left, CLCONV_EPILOGUE_ARGS,
                               const int planes /* N * OC */)
{
    const int ow0 = get_global_id(0) * VEC;
    const int oh0 = get_global_id(1) * RH;
    const int z = get_global_id(2);
    const int n = z / OC, oc = z - n * OC;
    if (ow0 >= OW || oh0 >= OH || z >= planes) /* no barriers: leaving early is safe */
        return;
    const int cout_g = OC / groups;
    __global const store_t *xc = x + ((size_t)n * C + oc / cout_g) * H * W;
    __global const store_t *wk = w + (size_t)oc * KHW;
    const int iw0 = ow0 * SW - pad_left;
    /* Every lane of every tap, and every element a whole-vector load touches,
     * lies inside the row. */
    const bool inside = iw0 >= 0 && iw0 + VEC * SW - 1 + (KW - 1) * DW < W;
#ifdef DW_LOAD
    __global const store_t *const lo = x;
    __global const store_t *const hi = x + (size_t)(planes / OC) * C * H * W;
#endif
    floatV acc[RH];
    for (int r = 0; r < RH; r++)
        acc[r] = (floatV)(0.0f);
#ifdef DW_ROWS
    /* Input row j of the SH * (RH - 1) + KH the block reads serves output
     * rows r = (j - kh) / SH; visiting j upwards and kw inside keeps each
     * output's taps in the kh-major, kw-minor order of the general loop (same
     * sums, bit for bit). A row outside the image is zeros: its taps add
     * 0 * w. */
    float wr[KHW];
#pragma unroll
    for (int i = 0; i < KHW; i++)
        wr[i] = CLCONV_LD(wk, i);
    /* r1 and the column after it feed only the block's last lanes: they are
     * skipped when none of those is an output. */
#if SW == 1
    const bool need_r1 = KW > 1 && ow0 + VEC - (KW - 1) < OW;
    const bool need_c = false;
#else
    const bool need_r1 = KW > 1 ? ow0 + VEC / 2 - 1 < OW : ow0 + VEC / 2 < OW;
    const bool need_c = KW > 2 && ow0 + VEC - 1 < OW;
#endif
    const int cc = iw0 + 2 * VEC; /* the column after r0:r1 */
    const bool inside_rows = iw0 >= 0 && cc + (need_c ? 1 : 0) <= W;
#pragma unroll
    for (int j = 0; j < SH * (RH - 1) + KH; j++) {
        const int ih = oh0 * SH - pad_top + j;
        floatV r0 = (floatV)(0.0f), r1 = (floatV)(0.0f);
        float cv = 0.0f;
        if (ih >= 0 && ih < H) {
            __global const store_t *xr = xc + (size_t)ih * W;
            if (inside_rows) {
                r0 = CLCONV_LDV(0, xr + iw0);
                r1 = CLCONV_LDV(0, xr + iw0 + VEC);
            } else {
                r0 = inside ? CLCONV_LDV(0, xr + iw0) : dw_edge(xr, iw0, W, lo, hi, 1);
                if (need_r1)
                    r1 = dw_edge(xr, iw0 + VEC, W, lo, hi, 1);
            }
            if (need_c && cc >= 0 && cc < W)
                cv = CLCONV_LD(xr, cc);
        }
#if SW == 2
        const floatV even = DW_EVEN(r0, r1);
#endif
#pragma unroll
        for (int kw = 0; kw < KW; kw++) {
#if SW == 1
            const floatV xv = kw == 0 ? r0 : kw == 1 ? DW_SHIFT1(r0, r1) : DW_SHIFT2(r0, r1);
#else
            const floatV xv = kw == 0 ? even : kw == 1 ? DW_ODD(r0, r1)
                                                       : DW_SHIFT1(even, (floatV)(cv));
#endif
#pragma unroll
            for (int r = 0; r < RH; r++) {
                const int kh = j - SH * r;
                if (kh >= 0 && kh < KH)
                    acc[r] = fma(xv, (floatV)(wr[kh * KW + kw]), acc[r]);
            }
        }
    }
#else
    for (int r = 0; r < RH; r++) {
        const int ihb = (oh0 + r) * SH - pad_top;
        for (int kh = 0; kh < KH; kh++) {
            const int ih = ihb + kh * DH;
            if (ih < 0 || ih >= H) { /* a padding row adds 0 * w: NaN for inf/NaN w */
                for (int kw = 0; kw < KW; kw++)
                    acc[r] += (floatV)(0.0f * CLCONV_LD(wk, kh * KW + kw));
                continue;
            }
            __global const store_t *xr = xc + (size_t)ih * W;
            for (int kw = 0; kw < KW; kw++) {
                const float wv = CLCONV_LD(wk, kh * KW + kw);
#ifdef DW_LOAD
                const floatV xv = inside ? DW_LOAD(xr + iw0 + kw * DW)
                                         : dw_edge(xr, iw0 + kw * DW, W, lo, hi, SW);
#else
                const floatV xv = dw_gather(xr, iw0 + kw * DW, W, SW);
#endif
                acc[r] = fma(xv, (floatV)(wv), acc[r]);
            }
        }
    }
#endif
    const float bias = has_bias ? CLCONV_LD(b, oc) : 0.0f;
    for (int r = 0; r < RH; r++) {
        const int oh = oh0 + r;
        if (oh >= OH)
            break;
        const size_t row = (((size_t)n * OC + oc) * OH + oh) * OW;
        __global store_t *yr = y + row;
        if (ow0 + VEC <= OW) {
            CLCONV_STV(clconv_epilogue_v(acc[r], bias, row + ow0, CLCONV_EPILOGUE_PASS), 0,
                       yr + ow0);
        } else {
            float lanes[VEC];
#ifdef CLCONV_EPILOGUE_EXTRA
            vstoreV(acc[r], 0, lanes);
            for (int p = 0; p < VEC && ow0 + p < OW; p++)
                CLCONV_ST(clconv_epilogue_at(lanes[p], bias, row + ow0 + p, CLCONV_EPILOGUE_PASS),
                          ow0 + p, yr);
#else
            vstoreV(clconv_epilogue_v(acc[r], bias, 0, CLCONV_EPILOGUE_PASS), 0, lanes);
            for (int p = 0; p < VEC && ow0 + p < OW; p++)
                CLCONV_ST(lanes[p], ow0 + p, yr);
#endif
        }
    }
}
#endif /* CONV2D_DEPTHWISE */

/* ---- batch variant: images in SIMD lanes (CPU devices) --------------------
 *
 * Layers with few channels and small maps but a big batch (LeNet: 64 images
 * of 28x28, one or six input channels) leave the other CPU kernels little to
 * put in a vector: six output channels, or rows of 10 pixels in a 16-lane
 * grid of 14. Here the lanes hold VEC images at the same pixel, so every lane
 * is an output whatever the map or channel count.
 *
 * conv2d_batch_pack copies x per run into a buffer of the plan:
 *   xs[nb][c][i][j][lane] = x[nb * VEC + lane][c][i - pad_top][j - pad_left]
 * for i < HP, j < WP (the rows and columns the taps reach), 0 outside the
 * image and for lanes past the batch; one work-item per row of one channel of
 * one image block, global size (HP, C * NB).
 *
 * conv2d_batch: a work-item owns BOC output channels x NPX neighbouring
 * output columns of one row for VEC images: per input channel and tap it
 * loads NPX vectors of xs (contiguous, no bounds tests: padding is in the
 * copy), broadcasts BOC weights and does BOC * NPX vector FMAs. Columns past
 * the row are computed on its last column and dropped. Global size
 * (ceil(OW / NPX), OH, NB * groups * ceil(cout_g / BOC)). Constants: VEC, NPX
 * (BOC as every variant). */
#ifdef CONV2D_BATCH
__kernel void conv2d_batch_pack(__global const store_t *restrict x, __global float *restrict xs,
                                const int N, const int C, const int H, const int W, const int HP,
                                const int WP, const int pad_top, const int pad_left)
{
    const int i = get_global_id(0), zc = get_global_id(1);
    if (i >= HP)
        return;
    const int c = zc % C, nb = zc / C;
    __global float *dst = xs + ((size_t)zc * HP + i) * WP * VEC;
    const int ih = i - pad_top;
    for (int j = 0; j < WP; j++) {
        const int iw = j - pad_left;
        const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
        for (int l = 0; l < VEC; l++) {
            const int n = nb * VEC + l;
            dst[j * VEC + l] =
                inside && n < N ? CLCONV_LD(x, (((size_t)n * C + c) * H + ih) * W + iw) : 0.0f;
        }
    }
}

__kernel void conv2d_batch(__global const float *restrict xs, __global const store_t *restrict w,
                           __global const store_t *restrict b,
                           __global store_t *CLCONV_Y_RESTRICT y, const int N, const int C,
                           const int HP, const int WP, const int OC, const int OH, const int OW,
                           const int groups, CLCONV_EPILOGUE_ARGS)
{
    const int cin_g = C / groups, cout_g = OC / groups;
    const int ocbs = CLCONV_DIV_UP(cout_g, BOC);
    const int ow0 = get_global_id(0) * NPX, oh = get_global_id(1);
    const int z = get_global_id(2);
    const int ocb = z % ocbs;
    const int g = (z / ocbs) % groups;
    const int nb = z / ocbs / groups;
    if (ow0 >= OW || oh >= OH) /* no barriers here: leaving early is safe */
        return;
    int col[NPX]; /* first copy column of each output column, clamped into the row */
#pragma unroll
    for (int p = 0; p < NPX; p++)
        col[p] = min(ow0 + p, OW - 1) * SW * VEC;
    const int oc0 = ocb * BOC;
    __global const store_t *wr[BOC]; /* weight row per channel, clamped in range */
#pragma unroll
    for (int r = 0; r < BOC; r++)
        wr[r] = w + (size_t)(g * cout_g + min(oc0 + r, cout_g - 1)) * cin_g * KHW;
    __global const float *xc = xs + (((size_t)nb * C + (size_t)g * cin_g) * HP + oh * SH) * WP * VEC;
    floatV acc[BOC][NPX];
#pragma unroll
    for (int r = 0; r < BOC; r++)
#pragma unroll
        for (int p = 0; p < NPX; p++)
            acc[r][p] = (floatV)(0.0f);
    for (int ci = 0; ci < cin_g; ci++, xc += (size_t)HP * WP * VEC) {
        for (int kh = 0; kh < KH; kh++) {
            __global const float *xr = xc + kh * DH * WP * VEC;
            for (int kw = 0; kw < KW; kw++) {
                floatV xv[NPX];
#pragma unroll
                for (int p = 0; p < NPX; p++)
                    xv[p] = vloadV(0, xr + col[p] + kw * DW * VEC);
                const int k = (ci * KH + kh) * KW + kw;
#pragma unroll
                for (int r = 0; r < BOC; r++) {
                    const floatV wv = (floatV)(CLCONV_LD(wr[r], k));
#pragma unroll
                    for (int p = 0; p < NPX; p++)
                        acc[r][p] = fma(wv, xv[p], acc[r][p]);
                }
            }
        }
    }
    /* The lanes are VEC images: their outputs lie OC * OH * OW apart. Each
     * lane is stored as a vector component (CLCONV_ST_LANES): through a private
     * array the loop became a 64-bit-index scatter (vpmullq) behind a store
     * forwarding stall, 44% of LeNet c3's time. */
    const size_t image = (size_t)OC * OH * OW;
#pragma unroll
    for (int r = 0; r < BOC; r++) {
        const int oc = oc0 + r;
        if (oc >= cout_g)
            break;
        const int ocf = g * cout_g + oc;
        const float bias = has_bias ? CLCONV_LD(b, ocf) : 0.0f;
        const size_t row = (((size_t)nb * VEC * OC + ocf) * OH + oh) * OW;
#pragma unroll
        for (int p = 0; p < NPX; p++) {
            const int ow = ow0 + p;
            if (ow >= OW)
                break;
#ifdef CLCONV_EPILOGUE_EXTRA
            float lanes[VEC];
            vstoreV(acc[r][p], 0, lanes);
            for (int l = 0; l < VEC && nb * VEC + l < N; l++) {
                const size_t at = row + l * image + ow;
                CLCONV_ST(clconv_epilogue_at(lanes[l], bias, at, CLCONV_EPILOGUE_PASS), at, y);
            }
#else
            const floatV v = clconv_epilogue_v(acc[r][p], bias, 0, CLCONV_EPILOGUE_PASS);
            CLCONV_ST_LANES(v, N - nb * VEC, y + row + ow, image);
#endif
        }
    }
}
#endif /* CONV2D_BATCH */

/* ---- depthwise, channels in SIMD lanes (CPU devices) ----------------------
 *
 * Depthwise layers on small maps, or with windows wider than the row path
 * of conv2d_depthwise takes (5x5, 7x7): there every vector of output
 * columns is an edge block (a 7x7 map is one vector, padding on both
 * sides), loaded lane by lane with bounds tests. Here the lanes hold VEC
 * output channels at one pixel, so every tap is one FMA whatever the map,
 * window, stride or dilation.
 *
 * A work-item owns NCW neighbouring output columns of RB output rows of one
 * image for VEC channels (lanes past OC repeat the last channel and are
 * dropped). It gathers each input row it needs once, VEC columns at a time
 * (each channel's row loaded as a vector, dw_edge zeroing the columns
 * outside the image: the padding; the VEC x VEC block then transposed), into
 * a private ring of the SPAN = (KH - 1) * DH + 1 rows one output row reads,
 * XW columns each. An output row then takes, per block of NPX columns held
 * in registers, KH * KW * NPX vector FMAs from the ring and the VEC-lane
 * weights of each tap, gathered once per work-item, and is transposed back
 * to be stored a channel row at a time. Each output's taps are
 * summed in the reference's kh-major, kw-minor order; a padding tap adds
 * 0 * w (NaN for an infinite weight, as the reference). Lane l is output
 * channel oc0 + l, which reads input channel (oc0 + l) / (OC / groups)
 * (channel multipliers). Global size (ceil(OW / NCW), ceil(OH / RB),
 * N * ceil(OC / VEC)). Constants: VEC, NCW, NPX, RB. */
#ifdef CONV2D_DEPTHWISE_CHANNELS
#define DC_XW ((NCW - 1) * SW + (KW - 1) * DW + 1)
/* The output row's length: whole blocks of VEC columns. */
#define DC_NCWP (CLCONV_DIV_UP(NCW, VEC) * VEC)
/* The ring's row length: whole blocks of VEC columns. */
#define DC_XWP (CLCONV_DIV_UP(DC_XW, VEC) * VEC)
#if VEC == 4
#define DC_LO2 ((uint4)(0, 1, 4, 5))
#define DC_HI2 ((uint4)(2, 3, 6, 7))
#define DC_LO1 ((uint4)(0, 4, 2, 6))
#define DC_HI1 ((uint4)(1, 5, 3, 7))
#elif VEC == 8
#define DC_LO4 ((uint8)(0, 1, 2, 3, 8, 9, 10, 11))
#define DC_HI4 ((uint8)(4, 5, 6, 7, 12, 13, 14, 15))
#define DC_LO2 ((uint8)(0, 1, 8, 9, 4, 5, 12, 13))
#define DC_HI2 ((uint8)(2, 3, 10, 11, 6, 7, 14, 15))
#define DC_LO1 ((uint8)(0, 8, 2, 10, 4, 12, 6, 14))
#define DC_HI1 ((uint8)(1, 9, 3, 11, 5, 13, 7, 15))
#elif VEC == 16
#define DC_LO8 ((uint16)(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23))
#define DC_HI8 ((uint16)(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
#define DC_LO4 ((uint16)(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27))
#define DC_HI4 ((uint16)(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
#define DC_LO2 ((uint16)(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29))
#define DC_HI2 ((uint16)(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
#define DC_LO1 ((uint16)(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30))
#define DC_HI1 ((uint16)(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))
#endif
/* Transposes the VEC x VEC block v (v[l] lane j -> v[j] lane l): log2(VEC)
 * rounds of two-source shuffles pairing rows b apart, b = VEC / 2 .. 1
 * (round b swaps the off-diagonal b x b blocks of each 2b x 2b block). */
#define DC_ROUND(b)                                                               \
    for (int i = 0; i < VEC; i++)                                                 \
        if ((i & (b)) == 0) {                                                     \
            const floatV a = v[i], c = v[i + (b)];                                \
            v[i] = shuffle2(a, c, DC_LO##b);                                      \
            v[i + (b)] = shuffle2(a, c, DC_HI##b);                                \
        }
__attribute__((always_inline)) inline void dc_transpose(floatV *v)
{
#if VEC == 16
#pragma unroll
    DC_ROUND(8)
#endif
#if VEC >= 8
#pragma unroll
    DC_ROUND(4)
#endif
#pragma unroll
    DC_ROUND(2)
#pragma unroll
    DC_ROUND(1)
}

#define DC_SPAN ((KH - 1) * DH + 1)

__kernel void conv2d_depthwise_channels(CONV2D_ARGS, const int N)
{
    const int ow0 = get_global_id(0) * NCW, oh0 = get_global_id(1) * RB;
    const int z = get_global_id(2);
    const int ocbs = CLCONV_DIV_UP(OC, VEC);
    const int n = z / ocbs, oc0 = (z - n * ocbs) * VEC;
    if (ow0 >= OW || oh0 >= OH || n >= N) /* no barriers: leaving early is safe */
        return;
    const int cout_g = OC / groups;
    float lanes[VEC];
    __global const store_t *xp[VEC]; /* lane l's input plane */
#pragma unroll
    for (int l = 0; l < VEC; l++)
        xp[l] = x + ((size_t)n * C + min(oc0 + l, OC - 1) / cout_g) * H * W;
    floatV wv[KHW];
    for (int k = 0; k < KHW; k++) {
#pragma unroll
        for (int l = 0; l < VEC; l++)
            lanes[l] = CLCONV_LD(w, (size_t)min(oc0 + l, OC - 1) * KHW + k);
        wv[k] = vloadV(0, lanes);
    }
    floatV ring[DC_SPAN][DC_XWP];
    /* One output row of the work-item's columns (lanes: channels), the
     * columns past NCW zero. */
    floatV orow[DC_NCWP];
    for (int j = NCW; j < DC_NCWP; j++)
        orow[j] = (floatV)(0.0f);
    /* x's extent: a whole-vector load inside it is safe to issue (dw_edge) */
    __global const store_t *const lo = x, *const hi = x + (size_t)N * C * H * W;
#ifndef CLCONV_EPILOGUE_EXTRA
    floatV bias = (floatV)(0.0f);
    if (has_bias) {
#pragma unroll
        for (int l = 0; l < VEC; l++)
            lanes[l] = CLCONV_LD(b, min(oc0 + l, OC - 1));
        bias = vloadV(0, lanes);
    }
#endif
    const int ih_base = oh0 * SH - pad_top, iw0 = ow0 * SW - pad_left;
    const int oh_end = min(oh0 + RB, OH);
    int next = ih_base; /* the next input row to gather */
    for (int oh = oh0; oh < oh_end; oh++) {
        const int top = oh * SH - pad_top;
        if (next < top)
            next = top;
        for (; next < top + DC_SPAN; next++) {
            const int slot = (next - ih_base) % DC_SPAN;
            const bool row_in = next >= 0 && next < H;
            /* Blocks of VEC columns: VEC channels' rows loaded as vectors
             * (an edge block through dw_edge: columns outside the row
             * zero) and transposed. */
            for (int j0 = 0; j0 < DC_XW; j0 += VEC) {
                const int iwb = iw0 + j0;
                if (!row_in || iwb >= W || iwb + VEC <= 0) {
#pragma unroll
                    for (int j = 0; j < VEC; j++)
                        ring[slot][j0 + j] = (floatV)(0.0f);
                    continue;
                }
                const bool inside = iwb >= 0 && iwb + VEC <= W;
                floatV v[VEC];
#pragma unroll
                for (int l = 0; l < VEC; l++) {
                    __global const store_t *xr = xp[l] + (size_t)next * W;
                    v[l] = inside ? CLCONV_LDV(0, xr + iwb) : dw_edge(xr, iwb, W, lo, hi, 1);
                }
                dc_transpose(v);
#pragma unroll
                for (int j = 0; j < VEC; j++)
                    ring[slot][j0 + j] = v[j];
            }
        }
        for (int c0 = 0; c0 < NCW && ow0 + c0 < OW; c0 += NPX) {
            floatV acc[NPX];
#pragma unroll
            for (int p = 0; p < NPX; p++)
                acc[p] = (floatV)(0.0f);
            for (int kh = 0; kh < KH; kh++) {
                const floatV *xr = ring[(top + kh * DH - ih_base) % DC_SPAN] + c0 * SW;
#pragma unroll
                for (int kw = 0; kw < KW; kw++) {
                    const floatV wk = wv[kh * KW + kw];
#pragma unroll
                    for (int p = 0; p < NPX; p++)
                        acc[p] = fma(xr[p * SW + kw * DW], wk, acc[p]);
                }
            }
#pragma unroll
            for (int p = 0; p < NPX; p++)
#ifdef CLCONV_EPILOGUE_EXTRA
                orow[c0 + p] = acc[p];
#else
                /* acc + 0 would turn a -0 sum into +0: add only a real bias. */
                orow[c0 + p] = clconv_activate_v(has_bias ? acc[p] + bias : acc[p], act, act_a,
                                                 act_b);
#endif
        }
        /* Blocks of VEC columns transposed back: channel oc0 + l's columns
         * ow .. ow + VEC - 1 of row oh, stored as one vector when the block
         * is whole, else element by element. */
        const size_t plane = (size_t)OH * OW;
        const size_t at0 = ((size_t)n * OC + oc0) * plane + (size_t)oh * OW;
        for (int j0 = 0; j0 < NCW && ow0 + j0 < OW; j0 += VEC) {
            floatV v[VEC];
#pragma unroll
            for (int j = 0; j < VEC; j++)
                v[j] = orow[j0 + j];
            dc_transpose(v);
            const int ow = ow0 + j0;
            const int cols = min(min(VEC, OW - ow), NCW - j0);
            for (int l = 0; l < VEC && oc0 + l < OC; l++) {
                const size_t at = at0 + l * plane + ow;
#ifdef CLCONV_EPILOGUE_EXTRA
                const float bl = has_bias ? CLCONV_LD(b, oc0 + l) : 0.0f;
                if (cols == VEC) {
                    CLCONV_STV(clconv_epilogue_v(v[l], bl, at, CLCONV_EPILOGUE_PASS), 0, y + at);
                } else {
                    vstoreV(v[l], 0, lanes);
                    for (int j = 0; j < cols; j++)
                        CLCONV_ST(clconv_epilogue_at(lanes[j], bl, at + j, CLCONV_EPILOGUE_PASS),
                                  at + j, y);
                }
#else
                if (cols == VEC) {
                    CLCONV_STV(v[l], 0, y + at);
                } else {
                    vstoreV(v[l], 0, lanes);
                    for (int j = 0; j < cols; j++)
                        CLCONV_ST(lanes[j], at + j, y);
                }
#endif
            }
        }
    }
}
#endif /* CONV2D_DEPTHWISE_CHANNELS */
