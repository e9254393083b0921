/* edge_detect — the study notes' edge detection as a program.
 *
 * Reads a PGM image, convolves it on the OpenCL device with a fixed 1-channel
 * kernel (clconv_conv2d_host: upload, plan, run, download), checks the result
 * against the CPU reference clconv_ref_conv2d, and writes the magnitude of the
 * response as an 8-bit binary PGM.
 *
 *   edge_detect --valid --kernel laplacian --print examples/data/seed_5x5.pgm
 *
 * gives the notes' 3x3 feature map [[-2,-1,-2],[-1,0,-2],[-1,-2,2]].
 */
#include "clconv.h"
#include "pgm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_NAME "edge_detect"
#include "example_checks.h"


typedef struct edge_kernel {
    const char *name;
    int kh, kw;
    float w[9];
    const char *what;
} edge_kernel;

static const edge_kernel KERNELS[] = {
    {"laplacian", 3, 3, {0, 1, 0, 1, -4, 1, 0, 1, 0},
     "[[0,1,0],[1,-4,1],[0,1,0]], edges in any direction"},
    {"sobel-x", 3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1},
     "[[-1,0,1],[-2,0,2],[-1,0,1]], vertical edges"},
    {"sobel-y", 3, 3, {-1, -2, -1, 0, 0, 0, 1, 2, 1},
     "[[-1,-2,-1],[0,0,0],[1,2,1]], horizontal edges"},
    {"edge-h", 1, 2, {1, -1}, "[[1,-1]], the notes' 1x2 kernel: changes along a row"},
};
#define NKERNELS (sizeof KERNELS / sizeof KERNELS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: edge_detect [--kernel laplacian|sobel-x|sobel-y|edge-h] [--valid]\n"
               "                   [--print] [--device SEL] INPUT.pgm [OUTPUT.pgm]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\n"
           "Convolves a PGM image with an edge-detection kernel on the OpenCL device (clconv\n"
           "conv2d, cross-correlation as PyTorch's F.conv2d), verifies the response against the\n"
           "CPU reference clconv_ref_conv2d and prints the largest difference.\n"
           "\n"
           "  INPUT.pgm         P2 (ASCII) or P5 (binary) graymap, maxval 1..65535 (8- or\n"
           "                    16-bit); pixels are divided by maxval, so the input is in [0, 1]\n"
           "  OUTPUT.pgm        optional: written as P5, maxval 255, pixel = round(255 * |r| /\n"
           "                    max |r|) where r is the response (all 0 when the response is 0)\n"
           "  --kernel NAME     the kernel (default laplacian):\n");
    for (size_t i = 0; i < NKERNELS; i++)
        printf("                      %-10s %dx%d %s\n", KERNELS[i].name, KERNELS[i].kh,
               KERNELS[i].kw, KERNELS[i].what);
    printf("  --valid           no padding: the output is (H-kh+1) x (W-kw+1); the default is\n"
           "                    padding 'same' (zeros around the image, output H x W; for 1x2\n"
           "                    the extra column is on the right, as PyTorch's padding='same')\n"
           "  --print           print the raw response matrix (the device's floats)\n"
           "  --device SEL      OpenCL device: 'P:D' indices or part of its name (default: as\n"
           "                    CLCONV_DEVICE, else the first GPU, else the first device)\n"
           "  --help            this text\n"
           "\n"
           "Exit status: 0 success, 1 an error (unreadable or malformed file, OpenCL), 2 no\n"
           "OpenCL device, 3 the device result differs from the reference by more than\n"
           "1e-5 * max(1, max |reference|), 64 a usage error.\n");
}

int main(int argc, char **argv)
{
    const edge_kernel *k = &KERNELS[0];
    int valid = 0, print = 0;
    const char *device = NULL, *in_path = NULL, *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return 0;
        } else if (!strcmp(a, "--valid")) {
            valid = 1;
        } else if (!strcmp(a, "--print")) {
            print = 1;
        } else if (!strcmp(a, "--kernel") || !strcmp(a, "--device")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "edge_detect: %s needs a value\n", a);
                usage(stderr);
                return EXIT_USAGE;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--device")) {
                device = v;
                continue;
            }
            k = NULL;
            for (size_t j = 0; j < NKERNELS; j++)
                if (!strcmp(v, KERNELS[j].name))
                    k = &KERNELS[j];
            if (!k) {
                fprintf(stderr, "edge_detect: unknown kernel '%s' (laplacian, sobel-x, sobel-y, "
                                "edge-h)\n", v);
                return EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "edge_detect: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!in_path) {
            in_path = a;
        } else if (!out_path) {
            out_path = a;
        } else {
            fprintf(stderr, "edge_detect: unexpected argument '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!in_path) {
        usage(stderr);
        return EXIT_USAGE;
    }

    char err[512];
    pgm_image img;
    if (pgm_read(in_path, &img, err, sizeof err)) {
        fprintf(stderr, "edge_detect: %s\n", err);
        return EXIT_ERROR;
    }
    if (valid && (img.height < k->kh || img.width < k->kw)) {
        fprintf(stderr, "edge_detect: %s: the image (%d rows, %d columns) is smaller than the "
                        "%s kernel (%d rows, %d columns), so --valid leaves no output (omit "
                        "--valid for padding 'same')\n",
                in_path, img.height, img.width, k->name, k->kh, k->kw);
        pgm_free(&img);
        return EXIT_ERROR;
    }

    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, k->kh, k->kw);
    clconv_shape in = {1, 1, img.height, img.width}, out;
    clconv_status st = CLCONV_SUCCESS;
    if (!valid)
        st = clconv_conv2d_set_same_padding(&p);
    if (!st)
        st = clconv_conv2d_output_shape(&p, &in, &out);
    if (st) {
        fprintf(stderr, "edge_detect: %s\n", clconv_last_error(NULL));
        pgm_free(&img);
        return EXIT_ERROR;
    }
    size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(out);
    float *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y), *ref = malloc(ny * sizeof *ref);
    unsigned short *pix = malloc(ny * sizeof *pix);
    clconv_context *ctx = NULL;
    int rc = EXIT_ERROR;
    if (!x || !y || !ref || !pix) {
        fprintf(stderr, "edge_detect: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)img.pixels[i] / (float)img.maxval;

    st = clconv_context_create_for(device, &ctx);
    if (st) {
        fprintf(stderr, "edge_detect: %s: %s\n", clconv_status_string(st), clconv_last_error(NULL));
        rc = st == CLCONV_ERROR_NO_DEVICE ? EXIT_NO_DEVICE : EXIT_ERROR;
        goto out;
    }
    /* Sizes are rows x columns (HxW), as the kernels and the notes write them. */
    printf("%s: P%c %dx%d (HxW), maxval %d; kernel %s %dx%d, padding %s -> %lldx%lld response "
           "on %s\n",
           in_path, img.binary ? '5' : '2', img.height, img.width, img.maxval, k->name, k->kh,
           k->kw, valid ? "valid" : "same", (long long)out.h, (long long)out.w,
           clconv_context_device_name(ctx));
    st = clconv_conv2d_host(ctx, &p, &in, NULL, x, k->w, NULL, y);
    if (st) {
        fprintf(stderr, "edge_detect: conv2d: %s: %s\n", clconv_status_string(st),
                clconv_last_error(ctx));
        goto out;
    }
    st = clconv_ref_conv2d(&p, &in, x, k->w, NULL, ref);
    if (st) {
        fprintf(stderr, "edge_detect: reference: %s\n", clconv_last_error(NULL));
        goto out;
    }

    double max_err = 0, max_ref = 0, max_abs = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < ny; i++) {
        max_err = fmax(max_err, fabs((double)y[i] - ref[i]));
        max_ref = fmax(max_ref, fabs((double)ref[i]));
        max_abs = fmax(max_abs, fabs((double)y[i]));
        lo = fmin(lo, y[i]);
        hi = fmax(hi, y[i]);
    }
    double tol = 1e-5 * fmax(1.0, max_ref);
    int ok = max_err <= tol; /* false for NaN too */
    printf("response in [%g, %g]; verify: max abs error %.3g vs clconv_ref_conv2d (tolerance "
           "%.3g): %s\n", lo, hi, max_err, tol, ok ? "OK" : "MISMATCH");

    if (print) {
        printf("response %lldx%lld:\n", (long long)out.h, (long long)out.w);
        for (int64_t r = 0; r < out.h; r++) {
            for (int64_t c = 0; c < out.w; c++) {
                float v = y[r * out.w + c];
                printf("%s%g", c ? " " : "", v == 0.0f ? 0.0 : (double)v); /* no "-0" */
            }
            printf("\n");
        }
    }
    if (out_path) {
        for (size_t i = 0; i < ny; i++)
            pix[i] = max_abs > 0 ? (unsigned short)lround(255.0 * fabs((double)y[i]) / max_abs) : 0;
        if (pgm_write(out_path, pix, (int)out.w, (int)out.h, 255, 1, err, sizeof err)) {
            fprintf(stderr, "edge_detect: %s\n", err);
            goto out;
        }
        printf("wrote %s: P5 %lldx%lld (HxW), maxval 255, pixel = round(255 * |r| / %g)\n",
               out_path, (long long)out.h, (long long)out.w, max_abs);
    }
    rc = ok ? 0 : EXIT_MISMATCH;
out:
    clconv_context_destroy(ctx);
    free(x);
    free(y);
    free(ref);
    free(pix);
    pgm_free(&img);
    return rc;
}
