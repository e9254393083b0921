/* conv2d backward passes for the weights and the bias (PyTorch's
 * conv2d weight / bias gradients), NCHW float32 or fp16 storage. No atomics:
 * every output element is a sum in a fixed order, so a plan gives the same
 * bits on every run. (The data gradient is the transposed-convolution gather
 * kernel.)
 *
 * Weights gradient, x [N, C, H, W], dy [N, OC, OH, OW], dw [OC, C/groups, KH, KW]:
 *   dw[oc, ci, kh, kw] = sum over n, oh, ow of dy[n, oc, oh, ow] *
 *                        x[n, g*cin_g + ci, oh*SH - pad_t + kh*DH, ow*SW - pad_l + kw*DW]
 * (taps in the padding contribute nothing). The reduction runs over the
 * pairs p = n*OH + oh, cut into `splits` contiguous chunks of `chunk` pairs.
 * A work-item owns a register block of BOC output channels x KW taps of one
 * (input channel, kh) and one chunk: per output pixel it loads BOC dy values
 * and KW x values for BOC*KW multiply-adds. With one split it writes dw
 * directly; otherwise chunk s writes its partial sums to part[s][...] and
 * conv2d_backward_weights_reduce adds the splits in order 0, 1, ...
 *
 * Build-time constants (-D): KH KW SH SW DH DW BOC for the weights kernels,
 * WGB (work-items per channel) for the bias kernel, which compiles alone.
 *
 * fp16 storage (-DCLCONV_F16, common.cl's store_t): x, dy, dw and db are
 * halves read through CLCONV_LD and written through CLCONV_ST; accumulators,
 * the split workspace of partial sums and the bias kernel's local tree stay
 * float, so each gradient is rounded to half once, when it is stored (as
 * mixed-precision training accumulates). The weights kernel writes dw itself
 * with one split, the float workspace with several: BW_OUT_T / BW_STORE say
 * which (F16 plans with several splits build with -DBW_SPLIT; in F32 plans
 * both are float, so they go without it).
 */

#ifdef BW_SPLIT
#define BW_OUT_T float
#define BW_STORE(v, i, p) ((p)[i] = (v))
#else
#define BW_OUT_T store_t
#define BW_STORE(v, i, p) CLCONV_ST((v), (i), (p))
#endif

#ifdef KH
/* The loops over the register block must be unrolled so that the BOC x KW
 * accumulators live in registers: without the pragmas PoCL kept them in a
 * stack array (one load and store per FMA, 5-10x slower). */
#define BW_UNROLL _Pragma("unroll")

/* Output columns [from, to) of an edge of the row: taps in the padding read
 * x = 0 (dy * 0 still counts). Serves the left and the right edge; the
 * interior between them skips the checks. */
#define BW_EDGE_COLUMNS(from, to)                                                    \
    for (int ow = (from); ow < (to); ow++) {                                         \
        float dv[BOC];                                                               \
        BW_UNROLL for (int r = 0; r < BOC; r++)                                      \
            dv[r] = CLCONV_LD(dr[r], ow);                                            \
        BW_UNROLL for (int k = 0; k < KW; k++) {                                     \
            const int iw = ow * SW - pad_l + k * DW;                                 \
            const float xv = iw >= 0 && iw < W ? CLCONV_LD(xr, iw) : 0.0f;           \
            BW_UNROLL for (int r = 0; r < BOC; r++)                                  \
                acc[r][k] = fma(dv[r], xv, acc[r][k]);                               \
        }                                                                            \
    }

/* Global ids: dim 0 = item = ((g*oc_blocks + ocb)*cin_g + ci)*KH + kh,
 * dim 1 = split. */
__kernel void conv2d_backward_weights(__global const store_t *restrict x,
                                      __global const store_t *restrict dy,
                                      __global BW_OUT_T *restrict out, const int N, const int C,
                                      const int H, const int W, const int OC, const int OH,
                                      const int OW, const int groups, const int pad_t,
                                      const int pad_l, const int oc_blocks, const int chunk,
                                      const int items)
{
    const int item = get_global_id(0);
    if (item >= items)
        return;
    const int s = get_global_id(1);
    const int cin_g = C / groups, cout_g = OC / groups;
    const int kh = item % KH;
    int z = item / KH;
    const int ci = z % cin_g;
    z /= cin_g;
    const int ocb = z % oc_blocks;
    const int g = z / oc_blocks;
    const int oc0 = ocb * BOC;

    /* The output columns whose KW taps all fall inside the row. */
    int lo = pad_l > 0 ? (pad_l + SW - 1) / SW : 0;
    int hi = (W - 1 - (KW - 1) * DW + pad_l);
    hi = hi < 0 ? 0 : hi / SW + 1;
    lo = min(lo, OW);
    hi = clamp(hi, lo, OW);

    float acc[BOC][KW];
    BW_UNROLL for (int r = 0; r < BOC; r++)
        BW_UNROLL for (int k = 0; k < KW; k++)
            acc[r][k] = 0.0f;

    const size_t ohw = (size_t)OH * OW;
    int dyc[BOC]; /* channel rows of dy, clamped in range (tails are not written) */
    BW_UNROLL for (int r = 0; r < BOC; r++)
        dyc[r] = g * cout_g + min(oc0 + r, cout_g - 1);
    const int p0 = s * chunk, p1 = min(p0 + chunk, N * OH);
    for (int p = p0; p < p1; p++) {
        const int n = p / OH, oh = p - (p / OH) * OH;
        const int ih = oh * SH - pad_t + kh * DH;
        __global const store_t *dr[BOC];
        BW_UNROLL for (int r = 0; r < BOC; r++)
            dr[r] = dy + ((size_t)n * OC + dyc[r]) * ohw + (size_t)oh * OW;
        if (ih < 0 || ih >= H) {
            /* A row of padding: x is 0 there and dy * 0 still counts (PyTorch
             * multiplies dy by the zero-padded input, so inf or NaN in dy
             * gives NaN; finite dy adds 0). */
            for (int ow = 0; ow < OW; ow++)
                BW_UNROLL for (int r = 0; r < BOC; r++) {
                    const float z = CLCONV_LD(dr[r], ow) * 0.0f;
                    BW_UNROLL for (int k = 0; k < KW; k++)
                        acc[r][k] += z;
                }
            continue;
        }
        __global const store_t *xr = x + (((size_t)n * C + g * cin_g + ci) * H + ih) * W;
        /* Left edge, interior without checks, right edge: ow ascending throughout. */
        BW_EDGE_COLUMNS(0, lo)
        for (int ow = lo; ow < hi; ow++) {
            float dv[BOC];
            BW_UNROLL for (int r = 0; r < BOC; r++)
                dv[r] = CLCONV_LD(dr[r], ow);
            __global const store_t *xp = xr + (ow * SW - pad_l); /* >= 0 in the interior */
            BW_UNROLL for (int k = 0; k < KW; k++) {
                const float xv = CLCONV_LD(xp, k * DW);
                BW_UNROLL for (int r = 0; r < BOC; r++)
                    acc[r][k] = fma(dv[r], xv, acc[r][k]);
            }
        }
        BW_EDGE_COLUMNS(hi, OW)
    }

    const size_t nw = (size_t)OC * cin_g * (KH * KW);
    __global BW_OUT_T *o = out + (size_t)s * nw;
    BW_UNROLL for (int r = 0; r < BOC; r++) {
        if (oc0 + r < cout_g) {
            const int oc = g * cout_g + oc0 + r;
            __global BW_OUT_T *orow = o + (((size_t)oc * cin_g + ci) * KH + kh) * KW;
            BW_UNROLL for (int k = 0; k < KW; k++)
                BW_STORE(acc[r][k], k, orow);
        }
    }
}

/* dw[i] = part[0][i] + part[1][i] + ... (in that order). */
__kernel void conv2d_backward_weights_reduce(__global const float *restrict part,
                                             __global store_t *restrict dw, const int nw,
                                             const int splits)
{
    const int i = get_global_id(0);
    if (i >= nw)
        return;
    float acc = 0.0f;
    for (int s = 0; s < splits; s++)
        acc += part[(size_t)s * nw + i];
    CLCONV_ST(acc, i, dw);
}
#endif /* KH */

#ifdef WGB
/* db[oc] = sum over n, pixels of dy[n, oc, :, :]. One work-group of WGB
 * items per channel: item t sums the elements t, t + WGB, ... of the
 * channel (image by image) in order, then a fixed tree adds the WGB sums. */
__kernel __attribute__((reqd_work_group_size(WGB, 1, 1)))
void conv2d_backward_bias(__global const store_t *restrict dy, __global store_t *restrict db,
                          const int N, const int OC, const int HW)
{
    __local float part[WGB];
    const int oc = get_group_id(0), t = get_local_id(0);
    float acc = 0.0f;
    for (int n = 0; n < N; n++) {
        __global const store_t *d = dy + ((size_t)n * OC + oc) * HW;
        for (int i = t; i < HW; i += WGB)
            acc += CLCONV_LD(d, i);
    }
    part[t] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = WGB / 2; h > 0; h /= 2) {
        if (t < h)
            part[t] += part[t + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0)
        CLCONV_ST(part[0], oc, db);
}
#endif /* WGB */
