/* npy.h — a small reader / writer for NumPy .npy files (format versions 1.0,
 * 2.0 and 3.0).
 *
 * Reads little-endian float32 ('<f4') arrays in C order (npy_read_f32), or
 * float32 and float16 ('<f2') arrays, telling the caller which (npy_read);
 * writes float32 ('<f4'), float16 ('<f2', raw IEEE half bits) and int64
 * ('<i8') arrays in format 1.0 (2.0 when the header needs it). Everything else (another dtype, big-endian data, fortran_order True, a
 * truncated or oversized file, a bad magic string, a malformed header) is
 * refused with a message that says what was found and what to do. */
#ifndef CLCONV_NPY_H
#define CLCONV_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPY_MAX_DIMS 8

/* The element type of an array read by npy_read. */
typedef enum npy_dtype {
    NPY_F32 = 0,   /* '<f4': data holds the floats */
    NPY_F16 = 1    /* '<f2': halves holds the IEEE binary16 bits (data is NULL) */
} npy_dtype;

typedef struct npy_array {
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    size_t count;      /* product of shape (1 for a 0-d array) */
    float *data;       /* '<f4' elements, malloc'ed; free with npy_free */
    npy_dtype dtype;   /* what the file held */
    uint16_t *halves;  /* '<f2' elements (bits as stored), malloc'ed; NULL for '<f4' */
} npy_array;

/* Reads a float32 array. Returns 0 on success; otherwise -1 with a message
 * (starting with the path) in err. */
int npy_read_f32(const char *path, npy_array *out, char *err, size_t err_size);

/* The same from an open stream (read from its current position; not closed);
 * name stands for the path in messages. */
int npy_read_f32_stream(FILE *f, const char *name, npy_array *out, char *err, size_t err_size);

/* Reads a float32 ('<f4') or float16 ('<f2') array: out->dtype says which,
 * and out->data (float32) or out->halves (float16) holds the elements. Any
 * other dtype is refused with a message naming its descr. */
int npy_read(const char *path, npy_array *out, char *err, size_t err_size);
int npy_read_stream(FILE *f, const char *name, npy_array *out, char *err, size_t err_size);

/* Writes count = prod(shape) values. Returns 0 or -1 with a message in err. */
int npy_write_f32(const char *path, const int64_t *shape, int ndim, const float *data, char *err,
                  size_t err_size);
/* float16: halves are IEEE binary16 bits, written little-endian ('<f2'). */
int npy_write_f16(const char *path, const int64_t *shape, int ndim, const uint16_t *halves,
                  char *err, size_t err_size);
int npy_write_i64(const char *path, const int64_t *shape, int ndim, const int64_t *data, char *err,
                  size_t err_size);

/* Formats a shape as "(2, 3, 4)". */
void npy_shape_string(const int64_t *shape, int ndim, char *buf, size_t size);

void npy_free(npy_array *a);

#endif
