/* Failure injection: this executable defines the OpenCL entry points that
 * libclconv (linked statically) and CLBlast call, forwards them to the real
 * ones (dlsym RTLD_NEXT), and can make the Nth of them fail as a driver out
 * of memory or resources would. For each operator and algorithm it runs
 * context create + plan create + run + destroy once to count the calls, then
 * again with call 1, 2, ..., K failing, and asserts each time that
 *   - the call returns an error status (or succeeds with the right result
 *     where the library has a fallback: a disk-cache entry it cannot load, a
 *     Winograd plan that falls back to a direct one),
 *   - the message names the OpenCL call that failed ("CLBlast" for calls made
 *     inside CLBlast, which reports its own status),
 *   - no OpenCL object is left: every mem, kernel, program, queue, context and
 *     event created or retained is released again (programs that CLBlast keeps
 *     in its process-wide cache are counted apart and released by
 *     CLBlastClearCache at the end).
 * Host leaks are left to the sanitizer build (CLCONV_SANITIZE). */
#define _GNU_SOURCE
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include "testutil.h"

#include <clblast_c.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the object ledger ------------------------------------------------- */

enum { T_MEM, T_KERNEL, T_PROGRAM, T_QUEUE, T_CONTEXT, T_EVENT, T_COUNT };
static const char *type_names[T_COUNT] = {"mem", "kernel", "program", "queue", "context", "event"};

typedef struct {
    const void *h;
    int type, rc, clblast;
} entry;

#define MAX_ENTRIES 65536
static entry ledger[MAX_ENTRIES];
static size_t n_ledger;
static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;

/* Injection state. */
static long call_count;         /* failable calls so far */
static long fail_at;            /* 0: never; else fail call number fail_at */
static const char *fail_only;   /* NULL: any call; else only calls of this name count */
static char failed_name[64];    /* the call that was made to fail */
static int failed_in_clblast;
static _Thread_local int bypass; /* the test's own calls: neither counted nor failed */

static int from_clblast(const void *ret)
{
    Dl_info info;
    return dladdr(ret, &info) && info.dli_fname && strstr(info.dli_fname, "clblast") != NULL;
}

static void track_new(const void *h, int type, const void *ret)
{
    if (!h || bypass)
        return;
    pthread_mutex_lock(&ledger_lock);
    for (size_t i = 0; i < n_ledger; i++)
        if (ledger[i].h == h && ledger[i].type == type) { /* a handle reused after release */
            ledger[i].rc++;
            pthread_mutex_unlock(&ledger_lock);
            return;
        }
    if (n_ledger < MAX_ENTRIES)
        ledger[n_ledger++] = (entry){h, type, 1, type == T_PROGRAM && from_clblast(ret)};
    pthread_mutex_unlock(&ledger_lock);
}

static void track_retain(const void *h, int type)
{
    pthread_mutex_lock(&ledger_lock);
    for (size_t i = 0; i < n_ledger; i++)
        if (ledger[i].h == h && ledger[i].type == type) {
            ledger[i].rc++;
            break;
        }
    pthread_mutex_unlock(&ledger_lock);
}

static void track_release(const void *h, int type)
{
    pthread_mutex_lock(&ledger_lock);
    for (size_t i = 0; i < n_ledger; i++)
        if (ledger[i].h == h && ledger[i].type == type) {
            if (--ledger[i].rc == 0)
                ledger[i] = ledger[--n_ledger];
            break;
        }
    pthread_mutex_unlock(&ledger_lock);
}

/* Outstanding objects per type (CLBlast's cached programs apart); describes
 * them in msg. Returns the total outside CLBlast's cache. */
static int outstanding(char *msg, size_t size, int *clblast_programs)
{
    int counts[T_COUNT] = {0}, total = 0, cb = 0;
    pthread_mutex_lock(&ledger_lock);
    for (size_t i = 0; i < n_ledger; i++) {
        if (ledger[i].clblast) {
            cb++;
            continue;
        }
        counts[ledger[i].type]++;
        total++;
    }
    pthread_mutex_unlock(&ledger_lock);
    int n = snprintf(msg, size, "outstanding:");
    for (int t = 0; t < T_COUNT && n > 0 && (size_t)n < size; t++)
        n += snprintf(msg + n, size - (size_t)n, " %s %d", type_names[t], counts[t]);
    if (clblast_programs)
        *clblast_programs = cb;
    return total;
}

/* True when this call is to fail; records which. */
static int should_fail(const char *name, const void *ret)
{
    if (bypass || !fail_at)
        return 0;
    if (fail_only && strcmp(fail_only, name) != 0)
        return 0;
    if (++call_count != fail_at)
        return 0;
    snprintf(failed_name, sizeof failed_name, "%s", name);
    failed_in_clblast = from_clblast(ret);
    return 1;
}

/* Counting run (fail_at = -1 counts without failing). */
static int counting;
static void count_call(const char *name)
{
    if (!bypass && counting && (!fail_only || strcmp(fail_only, name) == 0))
        call_count++;
}

#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) \
        real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

#define CHECK_FAIL(name, ret_err) \
    count_call(#name); \
    if (should_fail(#name, __builtin_return_address(0))) \
    return ret_err

#define CHECK_FAIL_ERRCODE(name, code) \
    count_call(#name); \
    if (should_fail(#name, __builtin_return_address(0))) { \
        if (errcode_ret) \
            *errcode_ret = code; \
        return NULL; \
    }

/* clRetain<Name> / clRelease<Name>: the real call, then the ledger's count
 * of handle h of the given type (not for the test's own calls). */
#define RETAIN_RELEASE(Name, handle_t, type) \
    cl_int clRetain##Name(handle_t h) \
    { \
        REAL(clRetain##Name); \
        cl_int err = real_clRetain##Name(h); \
        if (err == CL_SUCCESS && !bypass) \
            track_retain(h, type); \
        return err; \
    } \
    cl_int clRelease##Name(handle_t h) \
    { \
        REAL(clRelease##Name); \
        cl_int err = real_clRelease##Name(h); \
        if (err == CL_SUCCESS && !bypass) \
            track_release(h, type); \
        return err; \
    }

/* ---- the wrapped entry points -------------------------------------------- */

cl_context clCreateContext(const cl_context_properties *props, cl_uint n, const cl_device_id *devs,
                           void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *),
                           void *user, cl_int *errcode_ret)
{
    REAL(clCreateContext);
    CHECK_FAIL_ERRCODE(clCreateContext, CL_OUT_OF_HOST_MEMORY);
    cl_context c = real_clCreateContext(props, n, devs, notify, user, errcode_ret);
    track_new(c, T_CONTEXT, __builtin_return_address(0));
    return c;
}

RETAIN_RELEASE(Context, cl_context, T_CONTEXT)

cl_command_queue clCreateCommandQueue(cl_context c, cl_device_id d,
                                      cl_command_queue_properties props, cl_int *errcode_ret)
{
    REAL(clCreateCommandQueue);
    CHECK_FAIL_ERRCODE(clCreateCommandQueue, CL_OUT_OF_RESOURCES);
    cl_command_queue q = real_clCreateCommandQueue(c, d, props, errcode_ret);
    track_new(q, T_QUEUE, __builtin_return_address(0));
    return q;
}

RETAIN_RELEASE(CommandQueue, cl_command_queue, T_QUEUE)

cl_mem clCreateBuffer(cl_context c, cl_mem_flags flags, size_t size, void *host,
                      cl_int *errcode_ret)
{
    REAL(clCreateBuffer);
    CHECK_FAIL_ERRCODE(clCreateBuffer, CL_MEM_OBJECT_ALLOCATION_FAILURE);
    cl_mem m = real_clCreateBuffer(c, flags, size, host, errcode_ret);
    track_new(m, T_MEM, __builtin_return_address(0));
    return m;
}

cl_mem clCreateSubBuffer(cl_mem parent, cl_mem_flags flags, cl_buffer_create_type type,
                         const void *info, cl_int *errcode_ret)
{
    REAL(clCreateSubBuffer);
    CHECK_FAIL_ERRCODE(clCreateSubBuffer, CL_OUT_OF_RESOURCES);
    cl_mem m = real_clCreateSubBuffer(parent, flags, type, info, errcode_ret);
    track_new(m, T_MEM, __builtin_return_address(0));
    return m;
}

RETAIN_RELEASE(MemObject, cl_mem, T_MEM)

cl_program clCreateProgramWithSource(cl_context c, cl_uint n, const char **strings,
                                     const size_t *lengths, cl_int *errcode_ret)
{
    REAL(clCreateProgramWithSource);
    CHECK_FAIL_ERRCODE(clCreateProgramWithSource, CL_OUT_OF_RESOURCES);
    cl_program p = real_clCreateProgramWithSource(c, n, strings, lengths, errcode_ret);
    track_new(p, T_PROGRAM, __builtin_return_address(0));
    return p;
}

cl_program clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *devs,
                                     const size_t *lengths, const unsigned char **bins,
                                     cl_int *bin_status, cl_int *errcode_ret)
{
    REAL(clCreateProgramWithBinary);
    CHECK_FAIL_ERRCODE(clCreateProgramWithBinary, CL_OUT_OF_RESOURCES);
    cl_program p = real_clCreateProgramWithBinary(c, n, devs, lengths, bins, bin_status,
                                                  errcode_ret);
    track_new(p, T_PROGRAM, __builtin_return_address(0));
    return p;
}

RETAIN_RELEASE(Program, cl_program, T_PROGRAM)

cl_int clBuildProgram(cl_program p, cl_uint n, const cl_device_id *devs, const char *options,
                      void(CL_CALLBACK *notify)(cl_program, void *), void *user)
{
    REAL(clBuildProgram);
    CHECK_FAIL(clBuildProgram, CL_OUT_OF_RESOURCES);
    return real_clBuildProgram(p, n, devs, options, notify, user);
}

cl_kernel clCreateKernel(cl_program p, const char *name, cl_int *errcode_ret)
{
    REAL(clCreateKernel);
    CHECK_FAIL_ERRCODE(clCreateKernel, CL_OUT_OF_RESOURCES);
    cl_kernel k = real_clCreateKernel(p, name, errcode_ret);
    track_new(k, T_KERNEL, __builtin_return_address(0));
    return k;
}

RETAIN_RELEASE(Kernel, cl_kernel, T_KERNEL)

cl_int clSetKernelArg(cl_kernel k, cl_uint idx, size_t size, const void *value)
{
    REAL(clSetKernelArg);
    CHECK_FAIL(clSetKernelArg, CL_OUT_OF_RESOURCES);
    return real_clSetKernelArg(k, idx, size, value);
}

RETAIN_RELEASE(Event, cl_event, T_EVENT)

#define TRACK_EVENT() \
    if (err == CL_SUCCESS && event) \
    track_new(*event, T_EVENT, __builtin_return_address(0))

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim, const size_t *offset,
                              const size_t *global, const size_t *local, cl_uint nw,
                              const cl_event *wl, cl_event *event)
{
    REAL(clEnqueueNDRangeKernel);
    CHECK_FAIL(clEnqueueNDRangeKernel, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueNDRangeKernel(q, k, dim, offset, global, local, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t off, size_t size,
                           void *ptr, cl_uint nw, const cl_event *wl, cl_event *event)
{
    REAL(clEnqueueReadBuffer);
    CHECK_FAIL(clEnqueueReadBuffer, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueReadBuffer(q, m, blocking, off, size, ptr, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t off,
                            size_t size, const void *ptr, cl_uint nw, const cl_event *wl,
                            cl_event *event)
{
    REAL(clEnqueueWriteBuffer);
    CHECK_FAIL(clEnqueueWriteBuffer, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueWriteBuffer(q, m, blocking, off, size, ptr, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so, size_t doff,
                           size_t size, cl_uint nw, const cl_event *wl, cl_event *event)
{
    REAL(clEnqueueCopyBuffer);
    CHECK_FAIL(clEnqueueCopyBuffer, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueCopyBuffer(q, src, dst, so, doff, size, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern, size_t psize,
                           size_t off, size_t size, cl_uint nw, const cl_event *wl,
                           cl_event *event)
{
    REAL(clEnqueueFillBuffer);
    CHECK_FAIL(clEnqueueFillBuffer, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueFillBuffer(q, m, pattern, psize, off, size, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clEnqueueBarrierWithWaitList(cl_command_queue q, cl_uint nw, const cl_event *wl,
                                    cl_event *event)
{
    REAL(clEnqueueBarrierWithWaitList);
    CHECK_FAIL(clEnqueueBarrierWithWaitList, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueBarrierWithWaitList(q, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint nw, const cl_event *wl,
                                   cl_event *event)
{
    REAL(clEnqueueMarkerWithWaitList);
    CHECK_FAIL(clEnqueueMarkerWithWaitList, CL_OUT_OF_RESOURCES);
    cl_int err = real_clEnqueueMarkerWithWaitList(q, nw, wl, event);
    TRACK_EVENT();
    return err;
}

cl_int clFinish(cl_command_queue q)
{
    REAL(clFinish);
    CHECK_FAIL(clFinish, CL_OUT_OF_RESOURCES);
    return real_clFinish(q);
}

cl_int clWaitForEvents(cl_uint n, const cl_event *events)
{
    REAL(clWaitForEvents);
    CHECK_FAIL(clWaitForEvents, CL_OUT_OF_RESOURCES);
    return real_clWaitForEvents(n, events);
}

/* Queries: a driver may fail them too (CL_OUT_OF_RESOURCES / HOST_MEMORY). */
cl_int clGetPlatformIDs(cl_uint n, cl_platform_id *plats, cl_uint *np)
{
    REAL(clGetPlatformIDs);
    CHECK_FAIL(clGetPlatformIDs, CL_OUT_OF_HOST_MEMORY);
    return real_clGetPlatformIDs(n, plats, np);
}

cl_int clGetPlatformInfo(cl_platform_id p, cl_platform_info what, size_t size, void *value,
                         size_t *size_ret)
{
    REAL(clGetPlatformInfo);
    CHECK_FAIL(clGetPlatformInfo, CL_OUT_OF_HOST_MEMORY);
    return real_clGetPlatformInfo(p, what, size, value, size_ret);
}

cl_int clGetDeviceIDs(cl_platform_id p, cl_device_type type, cl_uint n, cl_device_id *devs,
                      cl_uint *nd)
{
    REAL(clGetDeviceIDs);
    CHECK_FAIL(clGetDeviceIDs, CL_OUT_OF_RESOURCES);
    return real_clGetDeviceIDs(p, type, n, devs, nd);
}

cl_int clGetDeviceInfo(cl_device_id d, cl_device_info what, size_t size, void *value,
                       size_t *size_ret)
{
    REAL(clGetDeviceInfo);
    CHECK_FAIL(clGetDeviceInfo, CL_OUT_OF_RESOURCES);
    return real_clGetDeviceInfo(d, what, size, value, size_ret);
}

cl_int clGetMemObjectInfo(cl_mem m, cl_mem_info what, size_t size, void *value, size_t *size_ret)
{
    REAL(clGetMemObjectInfo);
    CHECK_FAIL(clGetMemObjectInfo, CL_OUT_OF_RESOURCES);
    return real_clGetMemObjectInfo(m, what, size, value, size_ret);
}

cl_int clGetKernelWorkGroupInfo(cl_kernel k, cl_device_id d, cl_kernel_work_group_info what,
                                size_t size, void *value, size_t *size_ret)
{
    REAL(clGetKernelWorkGroupInfo);
    CHECK_FAIL(clGetKernelWorkGroupInfo, CL_OUT_OF_RESOURCES);
    return real_clGetKernelWorkGroupInfo(k, d, what, size, value, size_ret);
}

cl_int clGetProgramInfo(cl_program p, cl_program_info what, size_t size, void *value,
                        size_t *size_ret)
{
    REAL(clGetProgramInfo);
    CHECK_FAIL(clGetProgramInfo, CL_OUT_OF_RESOURCES);
    return real_clGetProgramInfo(p, what, size, value, size_ret);
}

cl_int clGetProgramBuildInfo(cl_program p, cl_device_id d, cl_program_build_info what,
                             size_t size, void *value, size_t *size_ret)
{
    REAL(clGetProgramBuildInfo);
    CHECK_FAIL(clGetProgramBuildInfo, CL_OUT_OF_RESOURCES);
    return real_clGetProgramBuildInfo(p, d, what, size, value, size_ret);
}

cl_int clGetCommandQueueInfo(cl_command_queue q, cl_command_queue_info what, size_t size,
                             void *value, size_t *size_ret)
{
    REAL(clGetCommandQueueInfo);
    CHECK_FAIL(clGetCommandQueueInfo, CL_OUT_OF_RESOURCES);
    return real_clGetCommandQueueInfo(q, what, size, value, size_ret);
}

/* ---- scenarios ------------------------------------------------------------ */

typedef enum {
    OP_CONV2D,
    OP_CONV_T,
    OP_POOL,
    OP_BWD_DATA,    /* conv2d backward-data (algo: transposed gather / gemm) */
    OP_BWD_WEIGHTS, /* conv2d backward-weights */
    OP_BWD_BIAS,    /* conv2d backward-bias */
    OP_RELU_BWD,    /* ReLU backward over in */
    OP_POOL_BWD     /* pool2d backward (pool_mode; idx: max through indices) */
} op_kind;

typedef struct {
    const char *name;
    op_kind op;
    clconv_algorithm algo;
    clconv_shape in;
    int64_t oc, k, stride, pad, groups;
    clconv_pool_mode pool_mode;
    int find; /* conv2d: find mode (times every candidate) */
    int idx;  /* pool2d backward, max modes: with the forward's indices (else x) */
    int64_t split; /* backward-weights: expected splits > 1 (1) or one chunk (0) */
} scenario;

static const scenario scenarios[] = {
    {"conv2d direct-tiled", OP_CONV2D, CLCONV_ALGO_DIRECT_TILED, {2, 4, 7, 9}, 6, 3, 1, 1, 1, 0, 0, 0, 0},
    {"conv2d direct-register", OP_CONV2D, CLCONV_ALGO_DIRECT_REGISTER, {2, 4, 7, 9}, 6, 3, 2, 1, 1, 0, 0, 0, 0},
    {"conv2d direct-vector", OP_CONV2D, CLCONV_ALGO_DIRECT_VECTOR, {2, 4, 7, 9}, 8, 3, 1, 1, 1, 0, 0, 0, 0},
    {"conv2d direct-depthwise", OP_CONV2D, CLCONV_ALGO_DIRECT_DEPTHWISE, {2, 4, 7, 9}, 4, 3, 1, 1, 4, 0, 0, 0, 0},
    {"conv2d winograd", OP_CONV2D, CLCONV_ALGO_WINOGRAD, {2, 4, 7, 9}, 6, 3, 1, 1, 1, 0, 0, 0, 0},
    {"conv2d auto (winograd with fallback)", OP_CONV2D, CLCONV_ALGO_AUTO, {1, 16, 12, 12}, 16, 3, 1, 1, 1, 0, 0, 0, 0},
    {"conv2d gemm 1x1", OP_CONV2D, CLCONV_ALGO_GEMM, {2, 4, 7, 9}, 6, 1, 1, 0, 1, 0, 0, 0, 0},
    {"conv2d gemm im2col", OP_CONV2D, CLCONV_ALGO_GEMM, {2, 4, 7, 9}, 6, 3, 1, 1, 2, 0, 0, 0, 0},
    {"conv2d find mode", OP_CONV2D, CLCONV_ALGO_AUTO, {1, 4, 5, 6}, 4, 3, 2, 1, 1, 0, 1, 0, 0},
    {"conv_transpose2d gather", OP_CONV_T, CLCONV_ALGO_TRANSPOSED_GATHER, {2, 4, 5, 6}, 6, 3, 2, 1, 1, 0, 0, 0, 0},
    {"conv_transpose2d gemm", OP_CONV_T, CLCONV_ALGO_TRANSPOSED_GEMM, {2, 4, 5, 6}, 6, 3, 2, 1, 1, 0, 0, 0, 0},
    {"pool2d max", OP_POOL, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 3, 2, 1, 1, CLCONV_POOL_MAX, 0, 0, 0},
    {"pool2d avg", OP_POOL, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 2, 2, 0, 1, CLCONV_POOL_AVG, 0, 0, 0},
    /* The backward operators, through their host functions (their buffers,
     * plan, run and read-back all go through the library). */
    {"conv2d backward-data gather", OP_BWD_DATA, CLCONV_ALGO_TRANSPOSED_GATHER, {2, 4, 7, 9}, 6, 3, 2, 1, 2, 0, 0, 0, 0},
    {"conv2d backward-data gemm", OP_BWD_DATA, CLCONV_ALGO_TRANSPOSED_GEMM, {2, 4, 7, 9}, 6, 3, 2, 1, 1, 0, 0, 0, 0},
    {"conv2d backward-weights split", OP_BWD_WEIGHTS, CLCONV_ALGO_AUTO, {2, 4, 7, 9}, 6, 3, 1, 1, 1, 0, 0, 0, 1},
    {"conv2d backward-weights one chunk", OP_BWD_WEIGHTS, CLCONV_ALGO_AUTO, {1, 8, 4, 4}, 8, 3, 1, 1, 1, 0, 0, 0, 0},
    {"conv2d backward-bias", OP_BWD_BIAS, CLCONV_ALGO_AUTO, {2, 4, 7, 9}, 6, 3, 1, 1, 1, 0, 0, 0, 0},
    {"relu backward", OP_RELU_BWD, CLCONV_ALGO_AUTO, {2, 3, 5, 7}, 0, 0, 0, 0, 1, 0, 0, 0, 0},
    {"pool2d backward max indices", OP_POOL_BWD, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 3, 2, 1, 1, CLCONV_POOL_MAX, 0, 1, 0},
    {"pool2d backward max x", OP_POOL_BWD, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 3, 2, 1, 1, CLCONV_POOL_MAX, 0, 0, 0},
    {"pool2d backward avg", OP_POOL_BWD, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 3, 2, 1, 1, CLCONV_POOL_AVG, 0, 0, 0},
    {"pool2d backward lp", OP_POOL_BWD, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 2, 2, 0, 1, CLCONV_POOL_LP, 0, 0, 0},
    {"pool2d backward adaptive max", OP_POOL_BWD, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 4, 0, 0, 1, CLCONV_POOL_ADAPTIVE_MAX, 0, 1, 0},
    {"pool2d backward adaptive avg", OP_POOL_BWD, CLCONV_ALGO_POOL, {2, 3, 9, 8}, 0, 4, 0, 0, 1, CLCONV_POOL_ADAPTIVE_AVG, 0, 0, 0},
};
#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

static cl_mem upload(cl_context c, const float *data, size_t n)
{
    cl_int err;
    cl_mem m = clCreateBuffer(c, CL_MEM_READ_WRITE | (data ? CL_MEM_COPY_HOST_PTR : 0),
                              (n ? n : 1) * sizeof(float), (void *)data, &err);
    ck_assert_msg(err == CL_SUCCESS, "test buffer: %d", (int)err);
    return m;
}

/* The conv2d layer of scenario s: k x k, stride, padding on every side,
 * groups (no bias). Serves the forward and the backward scenarios. */
static clconv_conv2d_params scenario_conv2d(const scenario *s)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(s->in.c, s->oc, s->k, s->k);
    p.stride_h = p.stride_w = s->stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = s->pad;
    p.groups = s->groups;
    return p;
}

/* conv2d through plan + run on the test's own buffers (the workspace too). */
static clconv_status run_conv2d(clconv_context *ctx, const scenario *s, const float *x,
                                const float *w, const float *b, float *y)
{
    clconv_conv2d_params p = scenario_conv2d(s);
    p.has_bias = 1;
    clconv_plan_options o = {0};
    o.algorithm = s->algo;
    o.find = s->find;
    clconv_plan *plan;
    clconv_status st = clconv_conv2d_plan_create(ctx, &p, &s->in, &o, &plan);
    if (st)
        return st;
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    clconv_shape ws = clconv_conv2d_weight_shape(&p);
    cl_context c = clconv_context_cl_context(ctx);
    bypass = 1;
    cl_mem bx = upload(c, x, clconv_shape_elements(s->in));
    cl_mem bw = upload(c, w, clconv_shape_elements(ws));
    cl_mem bb = upload(c, b, (size_t)s->oc);
    cl_mem by = upload(c, NULL, clconv_shape_elements(info.output));
    cl_mem bws = info.workspace_bytes ? upload(c, NULL, info.workspace_bytes / 4 + 1) : NULL;
    bypass = 0;
    cl_event done = NULL;
    st = clconv_conv2d_run(plan, bx, bw, bb, by, bws, 0, NULL, &done);
    bypass = 1;
    if (!st) {
        cl_int err = clEnqueueReadBuffer(clconv_context_queue(ctx), by, CL_TRUE, 0,
                                         clconv_shape_elements(info.output) * sizeof(float), y, 1,
                                         &done, NULL);
        ck_assert_int_eq(err, CL_SUCCESS);
    }
    bypass = 0;
    if (done)
        clReleaseEvent(done);
    bypass = 1;
    cl_mem all[] = {bx, bw, bb, by, bws};
    for (int i = 0; i < 5; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    bypass = 0;
    clconv_plan_destroy(plan);
    return st;
}

/* A backward scenario through the host functions: reference into ref, the
 * device into y, the result's shape into *out. x doubles as dy / y (ReLU). */
static clconv_status run_backward(clconv_context *ctx, const scenario *s, const float *x,
                                  const float *w, float *y, float *ref, clconv_shape *out)
{
    static float dy[4096];
    if (s->op == OP_RELU_BWD) {
        size_t n = clconv_shape_elements(s->in);
        tu_rng r = tu_rng_make(9);
        tu_fill(&r, dy, n, true);
        *out = s->in;
        ck_assert_int_eq(clconv_ref_relu_backward(n, x, dy, ref), 0);
        return clconv_relu_backward_host(ctx, &s->in, x, dy, y);
    }
    if (s->op == OP_POOL_BWD) {
        clconv_pool2d_params p = clconv_pool2d_default_params(s->pool_mode, s->k, s->k);
        if (s->stride) {
            p.stride_h = p.stride_w = s->stride;
            p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = s->pad;
        }
        clconv_shape po;
        ck_assert_int_eq(clconv_pool2d_output_shape(&p, &s->in, &po), 0);
        size_t npo = clconv_shape_elements(po);
        static int64_t idx[4096];
        static float fy[4096];
        ck_assert(npo <= 4096);
        int max = s->pool_mode == CLCONV_POOL_MAX || s->pool_mode == CLCONV_POOL_ADAPTIVE_MAX;
        ck_assert_int_eq(clconv_ref_pool2d(&p, &s->in, x, fy, max ? idx : NULL), 0);
        tu_rng r = tu_rng_make(9);
        tu_fill(&r, dy, npo, true);
        const int64_t *ip = max && s->idx ? idx : NULL;
        const float *xp = ip ? NULL : x;
        *out = s->in;
        ck_assert_int_eq(clconv_ref_pool2d_backward(&p, &s->in, dy, ip, xp, ref), 0);
        return clconv_pool2d_backward_host(ctx, &p, &s->in, NULL, dy, ip, xp, y);
    }
    clconv_conv2d_params p = scenario_conv2d(s);
    clconv_shape co;
    ck_assert_int_eq(clconv_conv2d_output_shape(&p, &s->in, &co), 0);
    size_t nco = clconv_shape_elements(co);
    ck_assert(nco <= 4096);
    tu_rng r = tu_rng_make(9);
    tu_fill(&r, dy, nco, true);
    if (s->op == OP_BWD_DATA) {
        clconv_plan_options o = {0};
        o.algorithm = s->algo;
        *out = s->in;
        ck_assert_int_eq(clconv_ref_conv2d_backward_data(&p, &s->in, dy, w, ref), 0);
        return clconv_conv2d_backward_data_host(ctx, &p, &s->in, &o, dy, w, y);
    }
    if (s->op == OP_BWD_WEIGHTS) {
        *out = clconv_conv2d_weight_shape(&p);
        ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p, &s->in, x, dy, ref), 0);
        return clconv_conv2d_backward_weights_host(ctx, &p, &s->in, NULL, x, dy, y);
    }
    *out = (clconv_shape){1, s->oc, 1, 1};
    ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p, &s->in, dy, ref), 0);
    return clconv_conv2d_backward_bias_host(ctx, &p, &s->in, NULL, dy, y);
}

/* One whole scenario: context, plan, run, destroy. Returns the status; on
 * success y holds the result and ref the reference. */
static clconv_status run_scenario(const scenario *s, float *y, float *ref, size_t *ny, char *msg,
                                  size_t msg_size)
{
    tu_rng r = tu_rng_make(7);
    size_t nx = clconv_shape_elements(s->in);
    float x[4096], w[4096], b[64];
    ck_assert(nx <= 4096);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, 4096, true);
    tu_fill(&r, b, 64, true);
    clconv_context *ctx = NULL;
    clconv_status st = clconv_context_create(&ctx);
    if (st) {
        snprintf(msg, msg_size, "%s", clconv_last_error(NULL));
        return st;
    }
    clconv_shape out = {0};
    if (s->op == OP_CONV2D) {
        clconv_conv2d_params p = scenario_conv2d(s);
        p.has_bias = 1;
        ck_assert_int_eq(clconv_conv2d_output_shape(&p, &s->in, &out), 0);
        ck_assert_int_eq(clconv_ref_conv2d(&p, &s->in, x, w, b, ref), 0);
        st = run_conv2d(ctx, s, x, w, b, y);
    } else if (s->op == OP_CONV_T) {
        clconv_conv_transpose2d_params p =
            clconv_conv_transpose2d_default_params(s->in.c, s->oc, s->k, s->k);
        p.stride_h = p.stride_w = s->stride;
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = s->pad;
        p.has_bias = 1;
        clconv_plan_options o = {0};
        o.algorithm = s->algo;
        ck_assert_int_eq(clconv_conv_transpose2d_output_shape(&p, &s->in, &out), 0);
        ck_assert_int_eq(clconv_ref_conv_transpose2d(&p, &s->in, x, w, b, ref), 0);
        st = clconv_conv_transpose2d_host(ctx, &p, &s->in, &o, x, w, b, y);
    } else if (s->op == OP_POOL) {
        clconv_pool2d_params p = clconv_pool2d_default_params(s->pool_mode, s->k, s->k);
        p.stride_h = p.stride_w = s->stride;
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = s->pad;
        ck_assert_int_eq(clconv_pool2d_output_shape(&p, &s->in, &out), 0);
        ck_assert_int_eq(clconv_ref_pool2d(&p, &s->in, x, ref, NULL), 0);
        st = clconv_pool2d_host(ctx, &p, &s->in, NULL, x, y, NULL);
    } else {
        st = run_backward(ctx, s, x, w, y, ref, &out);
    }
    *ny = clconv_shape_elements(out);
    snprintf(msg, msg_size, "%s", st ? clconv_last_error(ctx) : "");
    clconv_context_destroy(ctx);
    return st;
}

static void check_clean(const scenario *s, long n)
{
    char buf[256];
    int total = outstanding(buf, sizeof buf, NULL);
    ck_assert_msg(total == 0, "%s, failing call %ld (%s): OpenCL objects leaked, %s", s->name, n,
                  failed_name[0] ? failed_name : "none", buf);
}

/* Runs scenario s failing call n (0 = none) of the calls named only (NULL =
 * any); checks status, message, result and ledger. Returns whether the call
 * was reached. */
static int run_failing(const scenario *s, long n, const char *only)
{
    static float y[8192], ref[8192];
    char msg[4096];
    size_t ny = 0;
    call_count = 0;
    fail_at = n;
    fail_only = only;
    failed_name[0] = '\0';
    failed_in_clblast = 0;
    for (size_t i = 0; i < 8192; i++)
        y[i] = NAN;
    clconv_status st = run_scenario(s, y, ref, &ny, msg, sizeof msg);
    fail_at = 0;
    int reached = failed_name[0] != '\0';
    if (st == CLCONV_SUCCESS) {
        char cmp[256];
        long bad = tu_compare(y, ref, NULL, ny, 1e-4, 1e-4, cmp, sizeof cmp);
        ck_assert_msg(bad < 0, "%s, failing call %ld (%s): succeeded with a wrong result: %s",
                      s->name, n, failed_name, cmp);
    } else {
        ck_assert_msg(reached, "%s: failed without an injected failure: %s: %s", s->name,
                      clconv_status_string(st), msg);
        const char *want = failed_in_clblast ? "CLBlast" : failed_name;
        ck_assert_msg(strstr(msg, want) != NULL,
                      "%s, failing call %ld (%s%s): the message does not name it: '%s'", s->name,
                      n, failed_name, failed_in_clblast ? " inside CLBlast" : "", msg);
    }
    check_clean(s, n);
    return reached;
}

/* Every failable call of the scenario in turn, with the disk cache warm. */
START_TEST(test_fail_each_call)
{
    const scenario *s = &scenarios[_i];
    /* A warm-up (CLBlast fills its process-wide caches on first use, which
     * changes its calls), then the counting pass: no failure, right result,
     * nothing left. */
    run_failing(s, 0, NULL);
    call_count = 0;
    counting = 1;
    run_failing(s, 0, NULL);
    counting = 0;
    long k = call_count;
    ck_assert_msg(k > 3, "%s: only %ld OpenCL calls counted", s->name, k);
    /* Find mode picks its winner by wall time, so the calls after the timing
     * may differ from the counting pass: there an unreached call only means
     * the run succeeded (and its result was checked). */
    for (long n = 1; n <= k; n++)
        ck_assert_msg(run_failing(s, n, NULL) || s->find, "%s: call %ld of %ld was never reached",
                      s->name, n, k);
    fprintf(stderr, "%s: %ld OpenCL calls, each failed once: no crash, no leak\n", s->name, k);
}
END_TEST

/* The backward-weights scenarios cover the path their names say: split
 * (partial sums in a workspace, then the reduce kernel) and one chunk. */
START_TEST(test_bwd_weights_paths)
{
    for (size_t i = 0; i < N_SCENARIOS; i++) {
        const scenario *s = &scenarios[i];
        if (s->op != OP_BWD_WEIGHTS)
            continue;
        clconv_conv2d_params p = scenario_conv2d(s);
        clconv_context *ctx;
        ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
        clconv_plan *plan;
        ck_assert_int_eq(clconv_conv2d_backward_weights_plan_create(ctx, &p, &s->in, NULL, &plan),
                         CLCONV_SUCCESS);
        clconv_plan_info info;
        ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
        ck_assert_msg((info.workspace_bytes > 0) == (s->split != 0), "%s: workspace %zu bytes",
                      s->name, info.workspace_bytes);
        clconv_plan_destroy(plan);
        clconv_context_destroy(ctx);
    }
}
END_TEST

/* The compile path (disk cache off): program creation and build failing. */
START_TEST(test_fail_compile)
{
    const scenario *s = &scenarios[_i];
    setenv("CLCONV_CACHE_DIR", "off", 1);
    const char *calls[] = {"clCreateProgramWithSource", "clBuildProgram"};
    for (int i = 0; i < 2; i++) {
        int reached = run_failing(s, 1, calls[i]);
        ck_assert_msg(reached, "%s: %s never called with the disk cache off", s->name, calls[i]);
    }
    unsetenv("CLCONV_CACHE_DIR");
    const char *dir = getenv("TF_CACHE_DIR");
    if (dir)
        setenv("CLCONV_CACHE_DIR", dir, 1);
}
END_TEST

/* The ledger itself: a buffer and an event made outside the library are seen
 * until released, and a failed call leaves nothing. */
START_TEST(test_ledger_self_check)
{
    char buf[256];
    clconv_context *ctx;
    bypass = 1; /* the context itself is not the subject */
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    bypass = 0;
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE, 64, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    ck_assert_int_eq(outstanding(buf, sizeof buf, NULL), 1);
    ck_assert_int_eq(clRetainMemObject(m), CL_SUCCESS);
    ck_assert_int_eq(clReleaseMemObject(m), CL_SUCCESS);
    ck_assert_int_eq(outstanding(buf, sizeof buf, NULL), 1);
    ck_assert_int_eq(clReleaseMemObject(m), CL_SUCCESS);
    ck_assert_int_eq(outstanding(buf, sizeof buf, NULL), 0);
    call_count = 0;
    fail_at = 1;
    fail_only = NULL;
    m = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE, 64, NULL, &err);
    fail_at = 0;
    ck_assert_int_eq(err, CL_MEM_OBJECT_ALLOCATION_FAILURE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(failed_name, "clCreateBuffer");
    ck_assert_int_eq(outstanding(buf, sizeof buf, NULL), 0);
    bypass = 1;
    clconv_context_destroy(ctx);
    bypass = 0;
}
END_TEST

/* ---- the disk cache: corrupt, stale and unwritable ------------------------- */

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/clconv-fail-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static void remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A 3x3 stride-2 max pooling (one small program) on a fresh context with
 * the cache directory dir; checks the result and returns the stats. */
static clconv_cache_stats pool_once(const char *dir)
{
    setenv("CLCONV_CACHE_DIR", dir, 1);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 2;
    clconv_shape in = {1, 2, 7, 7}, out;
    ck_assert_int_eq(clconv_pool2d_output_shape(&p, &in, &out), 0);
    float x[98], y[32], ref[32];
    tu_rng r = tu_rng_make(3);
    tu_fill(&r, x, 98, false);
    ck_assert_int_eq(clconv_ref_pool2d(&p, &in, x, ref, NULL), 0);
    clconv_status st = clconv_pool2d_host(ctx, &p, &in, NULL, x, y, NULL);
    ck_assert_msg(st == CLCONV_SUCCESS, "pool2d with cache '%s': %s", dir,
                  clconv_last_error(ctx));
    char msg[256];
    ck_assert_msg(tu_compare(y, ref, NULL, clconv_shape_elements(out), 0, 0, msg, sizeof msg) < 0,
                  "%s", msg);
    clconv_cache_stats stats;
    ck_assert_int_eq(clconv_context_cache_stats(ctx, &stats), CLCONV_SUCCESS);
    clconv_context_destroy(ctx);
    return stats;
}

/* The one *.bin file in dir (its path into path), read whole. */
static unsigned char *read_cache_file(const char *dir, char *path, size_t size, size_t *len)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".bin") == 0) {
            snprintf(path, size, "%s/%s", dir, e->d_name);
            found++;
        }
    }
    closedir(d);
    ck_assert_int_eq(found, 1);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 16);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (len)
        ck_assert_int_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The suite's cache settings again (main): its cache directory, binaries. */
static void restore_cache_env(void)
{
    unsetenv("POCL_KERNEL_CACHE");
    setenv("CLCONV_CACHE_BINARIES", "1", 1);
    const char *old = getenv("TF_CACHE_DIR");
    if (old)
        setenv("CLCONV_CACHE_DIR", old, 1);
    else
        unsetenv("CLCONV_CACHE_DIR");
}

/* A first context in the empty dir compiles the pool program and writes its
 * one entry; returns that file (path into path) and its key length. */
static unsigned char *first_entry(const char *dir, char *path, size_t size, size_t *len,
                                  uint32_t *klen)
{
    clconv_cache_stats s = pool_once(dir);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_writes, 1);
    unsigned char *good = read_cache_file(dir, path, size, len);
    memcpy(klen, good + 8, 4);
    return good;
}

/* The entry replaced by n bytes of bad: the next context compiles and
 * rewrites it, the one after loads the rewritten file. */
static void expect_rebuilt(const char *dir, const char *path, const unsigned char *bad, size_t n,
                           const char *name)
{
    write_file(path, bad, n);
    clconv_cache_stats s = pool_once(dir);
    ck_assert_msg(s.disk_hits == 0 && s.compiled == 1 && s.disk_writes == 1,
                  "%s: disk hits %llu, compiled %llu, disk writes %llu", name,
                  (unsigned long long)s.disk_hits, (unsigned long long)s.compiled,
                  (unsigned long long)s.disk_writes);
    s = pool_once(dir);
    ck_assert_msg(s.disk_hits == 1 && s.compiled == 0, "%s: not rewritten", name);
}

/* Each way a cache file can be wrong (layout: "CLCONVB2", u32 key length,
 * key, u64 binary length, binary, u64 hash) is detected: the program is
 * rebuilt and the file rewritten, and the next context loads the good file
 * again. With binaries on every driver: PoCL's key-only entries are
 * test_cache_key_only_entries'. */
START_TEST(test_cache_corrupt_entries)
{
    setenv("POCL_KERNEL_CACHE", "0", 1);
    char *dir = make_temp_dir();
    char path[1200];
    size_t len;
    uint32_t klen;
    unsigned char *good = first_entry(dir, path, sizeof path, &len, &klen);
    size_t bin_at = 12 + klen + 8;
    ck_assert_uint_gt(len, bin_at);
    unsigned char *bad = malloc(len + 16);
    ck_assert_ptr_nonnull(bad);
    const char *names[] = {"zero-length",        "truncated to half",  "one byte short",
                           "trailing bytes",     "wrong magic",        "stale key (driver)",
                           "key length too big", "binary length huge", "garbage binary",
                           "binary length zero"};
    for (int v = 0; v < 10; v++) {
        size_t n = len;
        memcpy(bad, good, len);
        uint64_t big = (uint64_t)1 << 62, zero = 0;
        uint32_t kbig = 0xffffffffu;
        switch (v) {
        case 0: n = 0; break;
        case 1: n = len / 2; break;
        case 2: n = len - 1; break;
        case 3: memcpy(bad + len, "xxxx", 4); n = len + 4; break;
        case 4: bad[7] = '0'; break;
        case 5: { /* another driver version: same length, another key */
            char *drv = memmem(bad + 12, klen, "\ndriver=", 8);
            ck_assert_ptr_nonnull(drv);
            drv[8] ^= 1;
            break;
        }
        case 6: memcpy(bad + 8, &kbig, 4); break;
        case 7: memcpy(bad + 12 + klen, &big, 8); break;
        case 8: { /* the binary only, its stored hash kept: the hash must catch it
                   * (rusticl aborts the process on a garbage binary) */
            tu_rng r = tu_rng_make(11);
            for (size_t i = bin_at; i + 8 < len; i++)
                bad[i] = (unsigned char)tu_next(&r);
            break;
        }
        case 9: memcpy(bad + 12 + klen, &zero, 8); n = bin_at; break;
        }
        expect_rebuilt(dir, path, bad, n, names[v]);
    }
    free(bad);
    free(good);
    remove_dir(dir);
    free(dir);
    restore_cache_env();
}
END_TEST

/* On PoCL the disk cache holds keys only (PoCL's own kernel cache holds the
 * compiled code; a binary would cost a second, generic compile of every
 * kernel): the entry has no binary, a second context loads it without
 * compiling, a damaged entry is rebuilt, a context that wants binaries
 * (POCL_KERNEL_CACHE=0) does not trust a key-only entry and writes a binary,
 * and a key-only context loads that binary. Elsewhere every entry has a
 * binary. */
static bool device_is_pocl(void)
{
    /* a context of its own: the shared one (tu_ctx) would stay in the ledger */
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    bool pocl = tu_context_is_pocl(ctx);
    clconv_context_destroy(ctx);
    return pocl;
}

START_TEST(test_cache_key_only_entries)
{
    unsetenv("POCL_KERNEL_CACHE");
    unsetenv("CLCONV_CACHE_BINARIES");
    char *dir = make_temp_dir();
    char path[1200];
    size_t len;
    uint32_t klen;
    unsigned char *good = first_entry(dir, path, sizeof path, &len, &klen);
    clconv_cache_stats s;
    uint64_t blen;
    memcpy(&blen, good + 12 + klen, 8);
    if (!device_is_pocl()) {
        ck_assert_msg(blen > 0 && len == 12 + klen + 8 + blen + 8, "%zu bytes, binary %llu",
                      len, (unsigned long long)blen);
    } else {
        ck_assert_msg(blen == 0 && len == 12 + klen + 16, "PoCL entry: %zu bytes, binary %llu",
                      len, (unsigned long long)blen);
        s = pool_once(dir);
        ck_assert_msg(s.disk_hits == 1 && s.compiled == 0 && s.disk_writes == 0,
                      "key-only entry: disk hits %llu, compiled %llu",
                      (unsigned long long)s.disk_hits, (unsigned long long)s.compiled);
        const char *names[] = {"wrong magic", "stale key (driver)", "hash damaged",
                               "truncated", "trailing bytes"};
        unsigned char *bad = malloc(len + 16);
        ck_assert_ptr_nonnull(bad);
        for (int v = 0; v < 5; v++) {
            size_t n = len;
            memcpy(bad, good, len);
            switch (v) {
            case 0: bad[7] = '0'; break;
            case 1: {
                char *drv = memmem(bad + 12, klen, "\ndriver=", 8);
                ck_assert_ptr_nonnull(drv);
                drv[8] ^= 1;
                break;
            }
            case 2: bad[len - 3] ^= 0x5a; break;
            case 3: n = len - 8; break;
            case 4: memcpy(bad + len, "xxxx", 4); n = len + 4; break;
            }
            expect_rebuilt(dir, path, bad, n, names[v]);
        }
        free(bad);
        /* binaries wanted: the key-only entry is compiled over with a binary */
        setenv("POCL_KERNEL_CACHE", "0", 1);
        s = pool_once(dir);
        ck_assert_msg(s.disk_hits == 0 && s.compiled == 1 && s.disk_writes == 1,
                      "binary context on a key-only entry: disk hits %llu, compiled %llu",
                      (unsigned long long)s.disk_hits, (unsigned long long)s.compiled);
        free(good);
        good = read_cache_file(dir, path, sizeof path, &len);
        ck_assert_uint_gt(len, 12 + klen + 16);
        unsetenv("POCL_KERNEL_CACHE");
        s = pool_once(dir);
        ck_assert_msg(s.disk_hits == 1 && s.compiled == 0,
                      "key-only context on a binary entry: disk hits %llu, compiled %llu",
                      (unsigned long long)s.disk_hits, (unsigned long long)s.compiled);
    }
    free(good);
    remove_dir(dir);
    free(dir);
    restore_cache_env();
}
END_TEST

/* A cache directory that cannot be made (a path below a regular file, which
 * even root cannot write): everything works, the stats count one failed
 * write per context, and stderr has one line for the whole process. */
START_TEST(test_cache_unwritable)
{
    char *dir = make_temp_dir();
    char file[700], cache[800], log[700];
    snprintf(file, sizeof file, "%s/not-a-dir", dir);
    snprintf(cache, sizeof cache, "%s/cache", file);
    snprintf(log, sizeof log, "%s/stderr.txt", dir);
    write_file(file, "x", 1);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
    clconv_cache_stats a = pool_once(cache);
    clconv_cache_stats b = pool_once(cache);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ck_assert_uint_eq(a.compiled, 1);
    ck_assert_uint_eq(a.disk_writes, 0);
    ck_assert_uint_eq(a.disk_write_errors, 1);
    ck_assert_uint_eq(b.disk_write_errors, 1);
    size_t n;
    FILE *f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    char text[4096];
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    const char *first = strstr(text, "clconv: cannot write the program cache");
    ck_assert_msg(first != NULL, "no notice on stderr: '%s'", text);
    ck_assert_msg(strstr(first + 1, "clconv: cannot write") == NULL, "said twice: '%s'", text);
    ck_assert_msg(strstr(text, "not-a-dir") != NULL, "the notice does not name the path: '%s'",
                  text);
    remove_dir(dir);
    free(dir);
    const char *old = getenv("TF_CACHE_DIR");
    if (old)
        setenv("CLCONV_CACHE_DIR", old, 1);
    else
        unsetenv("CLCONV_CACHE_DIR");
}
END_TEST

/* No OpenCL platform at all (the ICD loader pointed at an empty vendor
 * directory, in a child process since the loader reads it once). */
static char self_path[1024];

START_TEST(test_no_platform)
{
    char *dir = make_temp_dir();
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "OCL_ICD_VENDORS='%s' OPENCL_VENDOR_PATH='%s' '%s' --no-platform-child",
             dir, dir, self_path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[2048];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    ck_assert_msg(rc == 0, "child exited with %d: %s", rc, out);
    ck_assert_msg(strstr(out, "status=5 ") != NULL, "not CLCONV_ERROR_NO_DEVICE: %s", out);
    ck_assert_msg(strstr(out, "no OpenCL platform found") != NULL, "unclear message: %s", out);
    remove_dir(dir);
    free(dir);
}
END_TEST

static int no_platform_child(void)
{
    clconv_context *ctx = (clconv_context *)1;
    clconv_status st = clconv_context_create(&ctx);
    printf("status=%d ctx=%s msg=%s\n", (int)st, ctx ? "set" : "NULL", clconv_last_error(NULL));
    return st == CLCONV_ERROR_NO_DEVICE && ctx == NULL ? 0 : 1;
}

START_TEST(test_clblast_cache_released)
{
    char buf[256];
    int cb = 0;
    ck_assert_int_eq(outstanding(buf, sizeof buf, &cb), 0);
    ck_assert_int_eq(CLBlastClearCache(), CLBlastSuccess);
    outstanding(buf, sizeof buf, &cb);
    ck_assert_msg(cb == 0, "%d CLBlast programs left after CLBlastClearCache", cb);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--no-platform-child") == 0)
        return no_platform_child();
    ssize_t sl = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (sl > 0)
        self_path[sl] = '\0';
    const char *dir = getenv("CLCONV_CACHE_DIR");
    if (dir)
        setenv("TF_CACHE_DIR", dir, 1);
    /* Program binaries on PoCL too: the warm-cache scenarios make a context
     * per failed call (find mode's 897 of them, a dozen programs each), and
     * loading a key-only entry costs PoCL ~30 ms more of preprocessing
     * than a binary (README, "Caches and tuning"). The key-only path
     * has test_cache_key_only_entries. */
    setenv("CLCONV_CACHE_BINARIES", "1", 1);
    Suite *s = suite_create("failures");
    TCase *tc = tcase_create("inject");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_ledger_self_check);
    tcase_add_loop_test(tc, test_fail_each_call, 0, (int)N_SCENARIOS);
    tcase_add_loop_test(tc, test_fail_compile, 0, (int)N_SCENARIOS);
    tcase_add_test(tc, test_bwd_weights_paths);
    tcase_add_test(tc, test_cache_corrupt_entries);
    tcase_add_test(tc, test_cache_key_only_entries);
    tcase_add_test(tc, test_cache_unwritable);
    tcase_add_test(tc, test_no_platform);
    tcase_add_test(tc, test_clblast_cache_released);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
