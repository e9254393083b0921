/* Put in front of the pooling kernel files (pool2d.cl, pool2d_backward.cl)
 * after common.cl (host/program.c): what the forward and backward pooling
 * kernels share. */

/* Adaptive window o of n_out over
 * n_in cells: [start, end) = [floor(o*n_in/n_out), ceil((o+1)*n_in/n_out)),
 * in long so the products cannot overflow int. The same bounds read the
 * other way (o = a cell, n_in = the outputs, n_out = the input) give the
 * windows that may cover the cell. */
#define CLCONV_ADAPTIVE_START(o, n_in, n_out) ((int)((long)(o) * (n_in) / (n_out)))
#define CLCONV_ADAPTIVE_END(o, n_in, n_out) \
    ((int)(((long)((o) + 1) * (n_in) + (n_out) - 1) / (n_out)))

/* x^p as PyTorch's pow(Tensor, Scalar) computes it: lp_kind 1, 2, 3 for
 * p = 1, 2, 3 (multiplications), else pow. */
inline float clconv_lp_pow(float v, int lp_kind, float p)
{
    if (lp_kind == 1)
        return v;
    if (lp_kind == 2)
        return v * v;
    if (lp_kind == 3)
        return v * v * v;
    return pow(v, p);
}
