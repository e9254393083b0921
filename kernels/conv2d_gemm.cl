/* Helpers of the GEMM algorithm of conv2d (host/conv2d_gemm.c): im2col in
 * front of CLBlast's SGEMM and the bias / activation epilogue after it.
 *
 * Nothing here is specialized with -D constants: the geometry is passed at run
 * time, so the file compiles once per device whatever the layer.
 *
 * A "unit" is one (image, group) pair, u = n * groups + g. Its input channels
 * are contiguous in x (x + u * cin_g * H * W) and its output channels are
 * contiguous in y (y + u * cout_g * OH * OW), so one SGEMM per unit computes
 *   Y_u [cout_g, OH*OW] = W_g [cout_g, cin_g*KH*KW] x cols_u [cin_g*KH*KW, OH*OW].
 */

/* cols of units u0 .. u0 + count - 1, one [cin_g*KH*KW, OH*OW] matrix each,
 * back to back: cols[(u - u0), (ci*KH + kh)*KW + kw, oh*OW + ow] =
 *   x[u, ci, oh*SH - pad_top + kh*DH, ow*SW - pad_left + kw*DW]
 * with zero outside the image (virtual padding).
 * Global ids: dim 0 = ow (rounded up to the work-group width), dim 1 = oh,
 * dim 2 = (u - u0) * rows + row. The host guarantees every int expression
 * below fits in 32 bits. The work-group size is fixed (CG_IM2COL_WG) so that
 * PoCL-like runtimes, which compile one work-group function per local size,
 * compile this kernel once whatever the layer. */
#define CG_IM2COL_WG 8
#define CG_EPILOGUE_WG 64

__kernel __attribute__((reqd_work_group_size(CG_IM2COL_WG, 1, 1)))
void conv2d_im2col(__global const float *restrict x, __global float *restrict cols,
                   const int H, const int W, const int OH, const int OW,
                   const int KH, const int KW, const int SH, const int SW,
                   const int DH, const int DW, const int pad_top, const int pad_left,
                   const int cin_g, const int u0)
{
    const int ow = get_global_id(0), oh = get_global_id(1);
    const size_t z = get_global_id(2);
    if (ow >= OW)
        return;
    const int khw = KH * KW;
    const size_t rows = (size_t)cin_g * khw;
    const size_t ul = z / rows;
    const int row = (int)(z - ul * rows);
    const int ci = row / khw, t = row - ci * khw;
    const int kh = t / KW, kw = t - (t / KW) * KW;
    const int ih = oh * SH - pad_top + kh * DH;
    const int iw = ow * SW - pad_left + kw * DW;
    float v = 0.0f;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
        v = x[(((size_t)u0 + ul) * cin_g + ci) * ((size_t)H * W) + (size_t)ih * W + iw];
    cols[z * ((size_t)OH * OW) + (size_t)oh * OW + ow] = v;
}

/* y[z, i] = act(y[z, i] + res_beta * res_z[z, i] + b[z % OC]) in place,
 * z = n * OC + oc, i < OHW: y holds res_alpha times the GEMM's product
 * already (CLBlast's alpha), and, for a residual computed in place (z = y),
 * res_beta times z too (CLBlast's beta; the host then passes res_z NULL).
 * This kernel is built without CLCONV_RESIDUAL: res_z is read when it is
 * not NULL. Global ids: dim 0 = i (rounded up to CG_EPILOGUE_WG), dim 1 = z.
 * b may be NULL when has_bias is 0. */
__kernel __attribute__((reqd_work_group_size(CG_EPILOGUE_WG, 1, 1)))
void conv2d_gemm_epilogue(__global float *y, __global const float *restrict b,
                          const int OHW, const int OC, CLCONV_EPILOGUE_ARGS)
{
    const size_t i = get_global_id(0), z = get_global_id(1);
    if (i >= (size_t)OHW)
        return;
    const size_t at = z * (size_t)OHW + i;
    float s = y[at];
    if (res_z)
        s += res_beta * res_z[at];
    y[at] = clconv_epilogue(s, b, (int)(z % (size_t)OC), at, CLCONV_EPILOGUE_PASS);
}
