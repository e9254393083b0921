/* Status names and the last-error messages (per thread and per context). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-thread message: calls without a context (shape functions, the reference
 * path, context creation) still need somewhere to explain themselves. */
static _Thread_local char *thread_error;

const char *clconv_status_string(clconv_status status)
{
    switch (status) {
    case CLCONV_SUCCESS: return "success";
    case CLCONV_ERROR_INVALID_VALUE: return "invalid value";
    case CLCONV_ERROR_INVALID_SHAPE: return "invalid shape";
    case CLCONV_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
    case CLCONV_ERROR_OUT_OF_HOST_MEMORY: return "out of host memory";
    case CLCONV_ERROR_NO_DEVICE: return "no OpenCL device";
    case CLCONV_ERROR_BUILD_FAILED: return "kernel build failed";
    case CLCONV_ERROR_OPENCL: return "OpenCL error";
    case CLCONV_ERROR_UNSUPPORTED: return "unsupported";
    case CLCONV_ERROR_IO: return "I/O error";
    case CLCONV_ERROR_CLBLAST: return "CLBlast error";
    case CLCONV_ERROR_WRONG_PLAN: return "wrong plan for this operator";
    }
    return "unknown status";
}

/* The copy of a context's message that clconv_last_error(ctx) hands out: the
 * context's own string may be replaced by another thread at any moment, so
 * each thread reads it under the context's error lock into its own buffer. */
static _Thread_local char *thread_ctx_copy;

/* Both per-thread strings are freed when their thread exits (a pthread key
 * destructor; the key's value only marks threads that hold strings). */
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void thread_strings_free(void *unused)
{
    (void)unused;
    free(thread_error);
    thread_error = NULL;
    free(thread_ctx_copy);
    thread_ctx_copy = NULL;
}

static void thread_key_make(void) { pthread_key_create(&thread_key, thread_strings_free); }

static void thread_strings_register(void)
{
    pthread_once(&thread_key_once, thread_key_make);
    if (!pthread_getspecific(thread_key))
        pthread_setspecific(thread_key, &thread_key);
}

const char *clconv_last_error(const clconv_context *ctx)
{
    if (ctx) {
        clconv_context *c = (clconv_context *)ctx;
        pthread_mutex_lock(&c->error_lock);
        char *copy = c->last_error ? strdup(c->last_error) : NULL;
        pthread_mutex_unlock(&c->error_lock);
        thread_strings_register();
        free(thread_ctx_copy);
        thread_ctx_copy = copy;
        return copy ? copy : "";
    }
    return thread_error ? thread_error : "";
}

static void store(clconv_context *ctx, char *msg)
{
    if (!msg)
        return;
    thread_strings_register();
    free(thread_error);
    thread_error = msg;
    if (ctx) {
        char *copy = strdup(msg);
        if (copy) {
            pthread_mutex_lock(&ctx->error_lock);
            char *old = ctx->last_error;
            ctx->last_error = copy;
            pthread_mutex_unlock(&ctx->error_lock);
            free(old);
        }
    }
}

clconv_status clconv_fail(clconv_context *ctx, clconv_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    store(ctx, strdup(buf));
    return status;
}

clconv_status clconv_fail_long(clconv_context *ctx, clconv_status status, const char *head,
                               const char *body)
{
    size_t n = strlen(head) + strlen(body) + 2;
    char *msg = malloc(n);
    if (msg)
        snprintf(msg, n, "%s\n%s", head, body);
    store(ctx, msg);
    return status;
}

clconv_status clconv_fail_cl(clconv_context *ctx, cl_int err, const char *what)
{
    clconv_status st = CLCONV_ERROR_OPENCL;
    if (err == CL_OUT_OF_HOST_MEMORY)
        st = CLCONV_ERROR_OUT_OF_HOST_MEMORY;
    return clconv_fail(ctx, st, "%s failed: %s (%d)", what, clconv_cl_error_name(err), (int)err);
}

const char *clconv_cl_error_name(cl_int err)
{
    switch (err) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    E(CL_INVALID_IMAGE_SIZE) E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
    E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
    E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "unknown OpenCL error";
}
