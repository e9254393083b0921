/* pgm.h — a small, strict reader and writer of PGM (portable graymap) images
 * for the examples: P2 (ASCII) and P5 (binary), maxval 1..65535 (P5 with
 * maxval > 255 stores two bytes per sample, most significant first, as the
 * Netpbm specification says). One image per file. */
#ifndef CLCONV_EXAMPLES_PGM_H
#define CLCONV_EXAMPLES_PGM_H

#include <stddef.h>

/* Largest width or height accepted (a guard against absurd headers). */
#define PGM_MAX_SIDE 16384

typedef struct pgm_image {
    int width, height;
    int maxval;             /* 1..65535 */
    int binary;             /* 1: P5, 0: P2 */
    unsigned short *pixels; /* width*height samples, row-major, each <= maxval */
} pgm_image;

/* Reads path into *img (free with pgm_free). On failure returns nonzero and
 * writes a message naming the file, what is wrong and, for a broken header,
 * where, into err. */
int pgm_read(const char *path, pgm_image *img, char *err, size_t err_size);

/* Writes width*height samples (each <= maxval) as P5 (binary != 0) or P2.
 * Returns nonzero with a message in err on failure. */
int pgm_write(const char *path, const unsigned short *pixels, int width, int height, int maxval,
              int binary, char *err, size_t err_size);

void pgm_free(pgm_image *img);

#endif
