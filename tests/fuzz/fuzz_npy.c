/* libFuzzer target: the .npy reader of the command-line tool (tools/npy.c).
 * The input is the file's bytes, read through a memory stream. Any input
 * must either be accepted, with count = prod(shape) floats that can all be
 * read, or refused with a message naming the file; never crash, leak, or
 * allocate what the file cannot hold. */
#include "npy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    npy_array a;
    char err[512] = "";
    int rc = npy_read_f32_stream(f, "fuzz.npy", &a, err, sizeof err);
    fclose(f);
    if (rc == 0) {
        size_t count = 1;
        for (int i = 0; i < a.ndim; i++)
            count *= (size_t)a.shape[i];
        if (count != a.count || a.ndim < 0 || a.ndim > NPY_MAX_DIMS || !a.data) {
            fprintf(stderr, "fuzz_npy: accepted an inconsistent array (count %zu)\n", a.count);
            abort();
        }
        volatile float sink = 0.0f;
        for (size_t i = 0; i < a.count; i++)
            sink += a.data[i]; /* every element is readable */
        (void)sink;
        char sh[128];
        npy_shape_string(a.shape, a.ndim, sh, sizeof sh);
        npy_free(&a);
    } else if (strncmp(err, "fuzz.npy: ", 10) != 0 || a.data != NULL) {
        fprintf(stderr, "fuzz_npy: refused without a proper message: '%s'\n", err);
        abort();
    }
    return 0;
}
