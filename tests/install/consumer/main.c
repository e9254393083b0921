/* Uses the installed header and library without a device: the version the
 * header names and an output shape from the library. */
#include <clconv.h>

#include <stdio.h>

int main(void)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(3, 8, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.stride_h = p.stride_w = 2;
    clconv_shape in = {1, 3, 32, 32}, out;
    if (clconv_conv2d_output_shape(&p, &in, &out) != CLCONV_SUCCESS) {
        fprintf(stderr, "consumer: %s\n", clconv_last_error(NULL));
        return 1;
    }
    printf("clconv %d.%d.%d: conv2d output %lldx%lldx%lldx%lld\n", CLCONV_VERSION_MAJOR,
           CLCONV_VERSION_MINOR, CLCONV_VERSION_PATCH, (long long)out.n, (long long)out.c,
           (long long)out.h, (long long)out.w);
    return out.h == 16 && out.w == 16 && out.c == 8 ? 0 : 1;
}
