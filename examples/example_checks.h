/* What the example programs share: their exit statuses and the error
 * handling of their OpenCL, clconv and CLBlast calls. A program defines
 * EXAMPLE_NAME (its name, for messages) before including this; the CHECK
 * macros assume an `int rc` and a `cleanup:` label in the calling function
 * (and a `ctx` for CV_CHECK); BLAST_CHECK needs <clblast_c.h> first. */
#ifndef CLCONV_EXAMPLE_CHECKS_H
#define CLCONV_EXAMPLE_CHECKS_H

#include <stdarg.h>
#include <stdio.h>

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

#endif
