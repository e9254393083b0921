/* npy.h — a small reader / writer for NumPy .npy files (format versions 1.0,
 * 2.0 and 3.0).
 *
 * Reads little-endian float32 ('<f4') arrays in C order only; writes float32
 * ('<f4') and int64 ('<i8') arrays in format 1.0 (2.0 when the header needs
 * it). Everything else (another dtype, big-endian data, fortran_order True, a
 * truncated or oversized file, a bad magic string, a malformed header) is
 * refused with a message that says what was found and what to do. */
#ifndef CLCONV_NPY_H
#define CLCONV_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    size_t count;  /* product of shape (1 for a 0-d array) */
    float *data;   /* malloc'ed; free with npy_free */
} npy_array;

/* Reads a float32 array. Returns 0 on success; otherwise -1 with a message
 * (starting with the path) in err. */
int npy_read_f32(const char *path, npy_array *out, char *err, size_t err_size);

/* The same from an open stream (read from its current position; not closed);
 * name stands for the path in messages. */
int npy_read_f32_stream(FILE *f, const char *name, npy_array *out, char *err, size_t err_size);

/* Writes count = prod(shape) values. Returns 0 or -1 with a message in err. */
int npy_write_f32(const char *path, const int64_t *shape, int ndim, const float *data, char *err,
                  size_t err_size);
int npy_write_i64(const char *path, const int64_t *shape, int ndim, const int64_t *data, char *err,
                  size_t err_size);

/* Formats a shape as "(2, 3, 4)". */
void npy_shape_string(const int64_t *shape, int ndim, char *buf, size_t size);

void npy_free(npy_array *a);

#endif
