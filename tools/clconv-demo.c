/* clconv-demo: lists the OpenCL devices, then runs a verified conv2d on the
 * default one. The first thing to run on a new machine. */
#include "clconv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void list_devices(void)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        printf("no OpenCL platform (install pocl-opencl-icd or your GPU's ICD)\n");
        return;
    }
    for (cl_uint p = 0; p < np && p < 16; p++) {
        char pname[256] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            nd = 0;
        for (cl_uint d = 0; d < nd && d < 16; d++) {
            char dname[256] = "", ver[128] = "";
            cl_uint cus = 0;
            cl_ulong mem = 0;
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof dname, dname, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_VERSION, sizeof ver, ver, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            printf("  %u:%u  %s  [%s]  %u compute units, %.1f GiB  (%s)\n", p, d, dname, pname,
                   cus, (double)mem / (1 << 30), ver);
        }
    }
}

int main(void)
{
    printf("OpenCL devices:\n");
    list_devices();
    clconv_context *ctx;
    clconv_status st = clconv_context_create(&ctx);
    if (st) {
        fprintf(stderr, "clconv: %s: %s\n", clconv_status_string(st), clconv_last_error(NULL));
        return 2;
    }
    printf("default device: %s\n", clconv_context_device_name(ctx));

    /* A ResNet-style 3x3 layer, small enough for a CPU device. */
    clconv_conv2d_params p = clconv_conv2d_default_params(16, 32, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    clconv_shape in = {2, 16, 28, 28}, out;
    clconv_conv2d_output_shape(&p, &in, &out);
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(&p));
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(32 * 4);
    float *y = malloc(ny * 4), *ref = malloc(ny * 4);
    if (!x || !w || !b || !y || !ref)
        return 3;
    unsigned s = 1;
    for (size_t i = 0; i < nx; i++) x[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 255) / 128 - 1;
    for (size_t i = 0; i < nw; i++) w[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 255) / 512 - 0.25f;
    for (int i = 0; i < 32; i++) b[i] = 0.01f * (float)i;
    st = clconv_conv2d_host(ctx, &p, &in, NULL, x, w, b, y);
    if (st) {
        fprintf(stderr, "clconv: conv2d: %s: %s\n", clconv_status_string(st), clconv_last_error(ctx));
        return 1;
    }
    clconv_ref_conv2d(&p, &in, x, w, b, ref);
    double err = 0;
    for (size_t i = 0; i < ny; i++)
        err = fmax(err, fabs((double)y[i] - ref[i]));
    clconv_plan *plan;
    clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    printf("conv2d %lldx%lldx%lldx%lld -> %lldx%lldx%lldx%lld (3x3, pad 1, bias, relu): "
           "algorithm %s, max |device - reference| = %.3g: %s\n",
           (long long)in.n, (long long)in.c, (long long)in.h, (long long)in.w, (long long)out.n,
           (long long)out.c, (long long)out.h, (long long)out.w,
           clconv_algorithm_name(info.algorithm), err, err < 1e-4 ? "OK" : "MISMATCH");
    clconv_plan_destroy(plan);
    clconv_context_destroy(ctx);
    free(x); free(w); free(b); free(y); free(ref);
    return err < 1e-4 ? 0 : 1;
}
