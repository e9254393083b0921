/* make_sample_pgm — writes a synthetic test image for edge_detect: a soft
 * horizontal gradient with a filled rectangle, a disc, a ring and a diagonal
 * bar on it (sharp edges in every direction). Deterministic. */
#include "pgm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: make_sample_pgm [--p2|--p5] [--maxval N] [--size WxH] OUTPUT.pgm\n");
}

int main(int argc, char **argv)
{
    int binary = 1, maxval = 255, w = 96, h = 64;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            printf("\nWrites a WxH (default 96x64) graymap: a gradient background with a\n"
                   "rectangle, a disc, a ring and a diagonal bar. --p5 (default) binary,\n"
                   "--p2 ASCII; --maxval 1..65535 (default 255; above 255 P5 stores 16-bit\n"
                   "samples).\n");
            return 0;
        } else if (!strcmp(a, "--p2")) {
            binary = 0;
        } else if (!strcmp(a, "--p5")) {
            binary = 1;
        } else if ((!strcmp(a, "--maxval") || !strcmp(a, "--size")) && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--maxval")) {
                long m = strtol(v, &end, 10);
                if (*end || m < 1 || m > 65535) {
                    fprintf(stderr, "make_sample_pgm: --maxval must be 1..65535, not '%s'\n", v);
                    return 64;
                }
                maxval = (int)m;
            } else if (sscanf(v, "%dx%d", &w, &h) != 2 || w < 8 || h < 8 || w > PGM_MAX_SIDE ||
                       h > PGM_MAX_SIDE) {
                fprintf(stderr, "make_sample_pgm: --size must be WxH, 8..%d each, not '%s'\n",
                        PGM_MAX_SIDE, v);
                return 64;
            }
        } else if (a[0] == '-' || path) {
            usage(stderr);
            return 64;
        } else {
            path = a;
        }
    }
    if (!path) {
        usage(stderr);
        return 64;
    }
    unsigned short *pix = malloc((size_t)w * (size_t)h * sizeof *pix);
    if (!pix) {
        fprintf(stderr, "make_sample_pgm: out of memory\n");
        return 1;
    }
    double cx = 0.70 * w, cy = 0.40 * h, r = 0.18 * (w < h ? w : h) + 2;
    double rx = 0.25 * w, ry = 0.72 * h, rr = 0.15 * (w < h ? w : h) + 2;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double v = 0.15 + 0.25 * x / (w - 1); /* background gradient */
            if (x >= w / 10 && x < w / 10 + w / 4 && y >= h / 8 && y < h / 8 + h / 3)
                v = 0.9; /* rectangle */
            double d = hypot(x - cx, y - cy);
            if (d <= r)
                v = 0.05; /* disc */
            double e = hypot(x - rx, y - ry);
            if (e <= rr && e >= rr - 2.5)
                v = 1.0; /* ring */
            if (abs((x - w / 2) - (y - h / 2)) <= 1 && y > h / 2)
                v = 0.6; /* diagonal bar */
            pix[(size_t)y * (size_t)w + (size_t)x] = (unsigned short)lround(v * maxval);
        }
    }
    char err[512];
    int rc = pgm_write(path, pix, w, h, maxval, binary, err, sizeof err);
    free(pix);
    if (rc) {
        fprintf(stderr, "make_sample_pgm: %s\n", err);
        return 1;
    }
    return 0;
}
