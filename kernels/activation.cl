/* Elementwise activation gradients. */

/* ReLU backward as PyTorch's threshold_backward(dy, y, 0):
 * dx = y <= 0 ? 0 : dy, so a NaN in y passes dy and a NaN in dy where
 * y <= 0 gives 0. y is the ReLU's output (or its input: the sign is the same).
 * dx may be the same buffer as dy or y (each item reads before it writes). */
__kernel void relu_backward(__global const float *y, __global const float *dy,
                            __global float *dx, const ulong count)
{
    const size_t i = get_global_id(0);
    if (i < count) {
        const float yv = y[i], g = dy[i];
        dx[i] = yv <= 0.0f ? 0.0f : g;
    }
}
