/* What the example programs share: their exit statuses and the error
 * handling of their OpenCL, clconv and CLBlast calls. A program defines
 * EXAMPLE_NAME (its name, for messages) before including this; the CHECK
 * macros assume an `int rc` and a `cleanup:` label in the calling function
 * (and a `ctx` for CV_CHECK); BLAST_CHECK needs <clblast_c.h> first. */
#ifndef CLCONV_EXAMPLE_CHECKS_H
#define CLCONV_EXAMPLE_CHECKS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef EXAMPLE_NAME
#error "define EXAMPLE_NAME before including example_checks.h"
#endif

/* 0 is success; the checks' tests tell these apart. */
enum { EXIT_ERROR = 1, EXIT_NO_DEVICE = 2, EXIT_MISMATCH = 3, EXIT_USAGE = 64 };

/* "NAME: message" on stderr; returns EXIT_ERROR. */
static inline int report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(EXAMPLE_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_ERROR;
}

#define CL_CHECK(call)                                                                        \
    do {                                                                                      \
        cl_int e_ = (call);                                                                   \
        if (e_ != CL_SUCCESS) {                                                               \
            rc = report("%s failed with OpenCL error %d (line %d)", #call, e_, __LINE__);     \
            goto cleanup;                                                                     \
        }                                                                                     \
    } while (0)
#define CV_CHECK(call)                                                                        \
    do {                                                                                      \
        clconv_status s_ = (call);                                                            \
        if (s_ != CLCONV_SUCCESS) {                                                           \
            rc = report("%s: %s: %s", #call, clconv_status_string(s_),                       \
                        clconv_last_error(ctx));                                              \
            goto cleanup;                                                                     \
        }                                                                                     \
    } while (0)
/* The reference calls have no context: the thread's last error. */
#define REF_CHECK(call)                                                                       \
    do {                                                                                      \
        clconv_status s_ = (call);                                                            \
        if (s_ != CLCONV_SUCCESS) {                                                           \
            rc = report("%s: %s: %s", #call, clconv_status_string(s_),                       \
                        clconv_last_error(NULL));                                             \
            goto cleanup;                                                                     \
        }                                                                                     \
    } while (0)
#define BLAST_CHECK(call)                                                                     \
    do {                                                                                      \
        CLBlastStatusCode s_ = (call);                                                        \
        if (s_ != CLBlastSuccess) {                                                           \
            rc = report("%s failed with CLBlast status %d", #call, (int)s_);                  \
            goto cleanup;                                                                     \
        }                                                                                     \
    } while (0)

/* Option values. --seed S: a non-negative integer; an integer option in
 * lo..hi. Each returns 0, or EXIT_USAGE after saying what was expected. */
static inline int example_seed(const char *v, uint64_t *seed)
{
    char *end;
    unsigned long long s = strtoull(v, &end, 10);
    if (*end || end == v || v[0] == '-') {
        fprintf(stderr, EXAMPLE_NAME ": --seed must be a non-negative integer, not '%s'\n", v);
        return EXIT_USAGE;
    }
    *seed = (uint64_t)s;
    return 0;
}

static inline int example_long(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < lo || n > hi) {
        fprintf(stderr, EXAMPLE_NAME ": %s must be %ld..%ld, not '%s'\n", opt, lo, hi, v);
        return EXIT_USAGE;
    }
    *out = n;
    return 0;
}

/* An unknown option, one without its value, or a stray argument. */
static inline int example_bad_argument(const char *a)
{
    fprintf(stderr, EXAMPLE_NAME ": %s '%s'\n",
            a[0] == '-' ? "unknown option or missing value:" : "unexpected argument", a);
    return EXIT_USAGE;
}

#endif
