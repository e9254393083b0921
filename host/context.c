/* Device choice, queue creation and the context's lifetime. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* Parses "P:D"; returns false when sel is not of that form. */
static bool parse_indices(const char *sel, unsigned *p, unsigned *d)
{
    /* Digits only: strtoul would take "-1" or " 1" and wrap "4294967296" to 0. */
    char *end;
    if (!isdigit((unsigned char)sel[0]))
        return false;
    unsigned long a = strtoul(sel, &end, 10);
    if (end == sel || *end != ':' || a > 65535)
        return false;
    const char *s2 = end + 1;
    if (!isdigit((unsigned char)s2[0]))
        return false;
    unsigned long b = strtoul(s2, &end, 10);
    if (end == s2 || *end != '\0' || b > 65535)
        return false;
    *p = (unsigned)a;
    *d = (unsigned)b;
    return true;
}

static clconv_status choose_device(const char *sel, cl_platform_id *out_p, cl_device_id *out_d)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0))
        return clconv_fail(NULL, CLCONV_ERROR_NO_DEVICE,
                           "no OpenCL platform found: install an OpenCL driver (ICD), e.g. "
                           "'apt-get install pocl-opencl-icd' for the CPU or your GPU vendor's ICD");
    if (err != CL_SUCCESS)
        return clconv_fail_cl(NULL, err, "clGetPlatformIDs");
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;

    unsigned want_p = 0, want_d = 0;
    bool by_index = sel && *sel && parse_indices(sel, &want_p, &want_d);
    bool by_name = sel && *sel && !by_index;
    cl_platform_id first_p = NULL, gpu_p = NULL;
    cl_device_id first_d = NULL, gpu_d = NULL;
    /* A platform whose device query fails is skipped (another may serve);
     * when none does, that failure is the message. */
    cl_int dev_err = CL_SUCCESS;
    char dev_err_what[64] = "";

    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd);
        if (err != CL_SUCCESS && err != CL_DEVICE_NOT_FOUND && dev_err == CL_SUCCESS) {
            dev_err = err;
            snprintf(dev_err_what, sizeof dev_err_what, "clGetDeviceIDs(platform %u)", p);
        }
        if (err != CL_SUCCESS || nd == 0)
            continue;
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        char pname[256] = "";
        /* Names are only needed to match a selector; a failed query is
         * remembered, so that "no device matched" names it. */
        if (by_name && (err = clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname,
                                                NULL)) != CL_SUCCESS) {
            pname[0] = '\0';
            if (dev_err == CL_SUCCESS) {
                dev_err = err;
                snprintf(dev_err_what, sizeof dev_err_what,
                         "clGetPlatformInfo(platform %u, CL_PLATFORM_NAME)", p);
            }
        }
        for (cl_uint d = 0; d < nd; d++) {
            if (by_index) {
                if (p == want_p && d == want_d) {
                    *out_p = plats[p];
                    *out_d = devs[d];
                    return CLCONV_SUCCESS;
                }
                continue;
            }
            if (by_name) {
                char dname[256] = "";
                err = clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof dname, dname, NULL);
                if (err != CL_SUCCESS) {
                    dname[0] = '\0';
                    if (dev_err == CL_SUCCESS) {
                        dev_err = err;
                        snprintf(dev_err_what, sizeof dev_err_what,
                                 "clGetDeviceInfo(device %u:%u, CL_DEVICE_NAME)", p, d);
                    }
                }
                if (contains_nocase(dname, sel) || contains_nocase(pname, sel)) {
                    *out_p = plats[p];
                    *out_d = devs[d];
                    return CLCONV_SUCCESS;
                }
                continue;
            }
            cl_device_type type = 0;
            /* unreadable type: not taken as a GPU; query_device reports the
             * failure if this device is chosen after all */
            if (clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL) != CL_SUCCESS)
                type = 0;
            if (!first_d) {
                first_p = plats[p];
                first_d = devs[d];
            }
            if (!gpu_d && (type & CL_DEVICE_TYPE_GPU)) {
                gpu_p = plats[p];
                gpu_d = devs[d];
            }
        }
    }
    if (dev_err != CL_SUCCESS && !first_d && !by_index && !by_name)
        return clconv_fail_cl(NULL, dev_err, dev_err_what);
    if (dev_err != CL_SUCCESS && (by_index || by_name))
        return clconv_fail(NULL, CLCONV_ERROR_NO_DEVICE,
                           "device selector '%s': no device matched, and %s failed: %s (%d)", sel,
                           dev_err_what, clconv_cl_error_name(dev_err), (int)dev_err);
    if (by_index)
        return clconv_fail(NULL, CLCONV_ERROR_NO_DEVICE,
                           "device selector '%s': no device %u on platform %u (run clconv-query "
                           "to list them)", sel, want_d, want_p);
    if (by_name)
        return clconv_fail(NULL, CLCONV_ERROR_NO_DEVICE,
                           "device selector '%s': no device or platform name contains it (run "
                           "clconv-query to list them)", sel);
    if (gpu_d) {
        *out_p = gpu_p;
        *out_d = gpu_d;
        return CLCONV_SUCCESS;
    }
    if (first_d) {
        *out_p = first_p;
        *out_d = first_d;
        return CLCONV_SUCCESS;
    }
    return clconv_fail(NULL, CLCONV_ERROR_NO_DEVICE,
                       "OpenCL platforms exist but none has a device: check the driver "
                       "installation (for CPUs: pocl-opencl-icd)");
}

/* What a context takes from its options and the environment, resolved and
 * checked before any device work (a malformed variable is reported as such,
 * never silently ignored). */
typedef struct settings {
    clconv_device_class device_class; /* AUTO: from the device type */
    char cache_dir[1024];             /* "" = disk cache off */
    size_t workspace_limit;           /* SIZE_MAX = none */
    clconv_find_space find_space;     /* AUTO: the kernel family's set */
} settings;

static void choose_cache_dir(const char *opt, settings *s)
{
    const char *env = opt ? opt : getenv("CLCONV_CACHE_DIR");
    s->cache_dir[0] = '\0';
    if (env && *env) {
        if (strcmp(env, "off") != 0 && strcmp(env, "0") != 0)
            snprintf(s->cache_dir, sizeof s->cache_dir, "%s", env);
        return;
    }
    if (opt) /* "" given explicitly: off */
        return;
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) {
        snprintf(s->cache_dir, sizeof s->cache_dir, "%s/clconv", xdg);
        return;
    }
    const char *home = getenv("HOME");
    if (home && *home)
        snprintf(s->cache_dir, sizeof s->cache_dir, "%s/.cache/clconv", home);
}

static clconv_status choose_workspace_limit(size_t opt, settings *s)
{
    s->workspace_limit = opt ? opt : SIZE_MAX;
    const char *env = getenv("CLCONV_WORKSPACE_LIMIT");
    if (opt || !env || !*env)
        return CLCONV_SUCCESS;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(env, &end, 10);
    if (errno || end == env || *end || env[0] == '-')
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "CLCONV_WORKSPACE_LIMIT = '%s', expected a number of bytes", env);
    s->workspace_limit = v < SIZE_MAX ? (size_t)v : SIZE_MAX;
    return CLCONV_SUCCESS;
}

static clconv_status choose_find_space(clconv_find_space opt, settings *s)
{
    if (opt != CLCONV_FIND_SPACE_AUTO && opt != CLCONV_FIND_SPACE_CPU &&
        opt != CLCONV_FIND_SPACE_GPU && opt != CLCONV_FIND_SPACE_ALL)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "options.find_space = %d, expected CLCONV_FIND_SPACE_AUTO (0), _CPU "
                           "(1), _GPU (2) or _ALL (3)", (int)opt);
    s->find_space = opt;
    const char *env = getenv("CLCONV_FIND_SPACE");
    if (opt != CLCONV_FIND_SPACE_AUTO || !env || !*env || strcasecmp(env, "auto") == 0)
        return CLCONV_SUCCESS;
    if (strcasecmp(env, "cpu") == 0)
        s->find_space = CLCONV_FIND_SPACE_CPU;
    else if (strcasecmp(env, "gpu") == 0)
        s->find_space = CLCONV_FIND_SPACE_GPU;
    else if (strcasecmp(env, "all") == 0)
        s->find_space = CLCONV_FIND_SPACE_ALL;
    else
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "CLCONV_FIND_SPACE = '%s', expected cpu, gpu, all or auto (or unset)",
                           env);
    return CLCONV_SUCCESS;
}

/* Reads the device facts plans need; every query is checked. */
static clconv_status query_device(clconv_context *ctx)
{
    struct {
        cl_device_info what;
        void *dst;
        size_t size;
        const char *name;
    } q[] = {
        {CL_DEVICE_NAME, ctx->device_name, sizeof ctx->device_name, "CL_DEVICE_NAME"},
        {CL_DEVICE_VENDOR, ctx->vendor, sizeof ctx->vendor, "CL_DEVICE_VENDOR"},
        {CL_DRIVER_VERSION, ctx->driver_version, sizeof ctx->driver_version, "CL_DRIVER_VERSION"},
        {CL_DEVICE_VERSION, ctx->device_version, sizeof ctx->device_version, "CL_DEVICE_VERSION"},
        {CL_DEVICE_TYPE, &ctx->device_type, sizeof ctx->device_type, "CL_DEVICE_TYPE"},
        {CL_DEVICE_MAX_WORK_GROUP_SIZE, &ctx->max_wg_size, sizeof ctx->max_wg_size,
         "CL_DEVICE_MAX_WORK_GROUP_SIZE"},
        {CL_DEVICE_MAX_WORK_ITEM_SIZES, ctx->max_item_sizes, sizeof ctx->max_item_sizes,
         "CL_DEVICE_MAX_WORK_ITEM_SIZES"},
        {CL_DEVICE_LOCAL_MEM_SIZE, &ctx->local_mem_size, sizeof ctx->local_mem_size,
         "CL_DEVICE_LOCAL_MEM_SIZE"},
        {CL_DEVICE_MAX_MEM_ALLOC_SIZE, &ctx->max_alloc, sizeof ctx->max_alloc,
         "CL_DEVICE_MAX_MEM_ALLOC_SIZE"},
        {CL_DEVICE_PLATFORM, &ctx->platform, sizeof ctx->platform, "CL_DEVICE_PLATFORM"},
        {CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, &ctx->preferred_float_width,
         sizeof ctx->preferred_float_width, "CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT"},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        cl_int err = clGetDeviceInfo(ctx->device, q[i].what, q[i].size, q[i].dst, NULL);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "clGetDeviceInfo(%s)", q[i].name);
            return clconv_fail_cl(NULL, err, what);
        }
    }
    cl_uint align_bits = 0;
    cl_int err = clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits,
                                 &align_bits, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(NULL, err, "clGetDeviceInfo(CL_DEVICE_MEM_BASE_ADDR_ALIGN)");
    ctx->mem_base_align_bytes = align_bits / 8 ? align_bits / 8 : 1;
    err = clGetPlatformInfo(ctx->platform, CL_PLATFORM_NAME, sizeof ctx->platform_name,
                            ctx->platform_name, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(NULL, err, "clGetPlatformInfo(CL_PLATFORM_NAME)");
    /* clang's __builtin_prefetch (pooling's -DPFD) only where it is known to
     * work: PoCL's CPU device, where it is worth about 2x on large planes.
     * Elsewhere it is a hazard that cannot be probed in process: Oclgrind
     * builds the program but cannot create its kernels (llvm.prefetch is an
     * undefined external), and Mesa rusticl's SPIR-V translator aborts the
     * whole process on it. pool2d.c still treats a failed PFD build as a
     * probe result and falls back to the plain kernel. */
    const bool pocl = strstr(ctx->platform_name, "Portable Computing Language") != NULL;
    ctx->builtin_prefetch = pocl && (ctx->device_type & CL_DEVICE_TYPE_CPU);
    /* PoCL keeps what it compiles in its own kernel cache (POCL_CACHE_DIR,
     * on unless POCL_KERNEL_CACHE=0), the work-group functions specialised
     * per local size included. Asking it for a program binary makes it
     * compile a generic work-group function for every kernel of the program
     * first (PoCL 3.1 serialises a self-contained binary), which nearly
     * doubled every first build: 2.4 s against 1.45 s for one depthwise
     * program. So on PoCL the disk cache records the key only, and a load
     * builds from source through PoCL's cache (program.c). That load costs
     * about 30 ms more a program than a binary's (PoCL preprocesses the
     * source to find its cache entry): CLCONV_CACHE_BINARIES=1 stores
     * binaries for processes that start often with a warm cache. */
    const char *pocl_cache = getenv("POCL_KERNEL_CACHE");
    const char *binaries = getenv("CLCONV_CACHE_BINARIES");
    ctx->disk_key_only = pocl && !(pocl_cache && strcmp(pocl_cache, "0") == 0) &&
                         !(binaries && strcmp(binaries, "1") == 0);
    return CLCONV_SUCCESS;
}

static clconv_status context_new(const settings *set, clconv_context **out)
{
    clconv_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating the context");
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx);
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "initialising a mutex");
    }
    if (pthread_mutex_init(&ctx->error_lock, NULL) != 0) {
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "initialising a mutex");
    }
    snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s", set->cache_dir);
    ctx->workspace_limit = set->workspace_limit;
    ctx->find_space = set->find_space;
    /* Kernel development: sources from a directory instead of the embedded
     * copies (read once, like every other variable). */
    const char *kdir = getenv("CLCONV_KERNEL_DIR");
    snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", kdir ? kdir : "");
    *out = ctx;
    return CLCONV_SUCCESS;
}

/* The class asked for: an explicit CPU or GPU wins, AUTO defers to
 * CLCONV_DEVICE_CLASS. Checked before any device work, so a typo in the
 * variable is reported as such rather than silently ignored. */
static clconv_status requested_class(clconv_device_class opt, clconv_device_class *out)
{
    if (opt != CLCONV_DEVICE_CLASS_AUTO && opt != CLCONV_DEVICE_CLASS_CPU &&
        opt != CLCONV_DEVICE_CLASS_GPU)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "options.device_class = %d, expected CLCONV_DEVICE_CLASS_AUTO (0), "
                           "_CPU (1) or _GPU (2)", (int)opt);
    *out = opt;
    if (opt != CLCONV_DEVICE_CLASS_AUTO)
        return CLCONV_SUCCESS;
    const char *env = getenv("CLCONV_DEVICE_CLASS");
    if (!env || !*env || strcasecmp(env, "auto") == 0)
        return CLCONV_SUCCESS;
    if (strcasecmp(env, "cpu") == 0)
        *out = CLCONV_DEVICE_CLASS_CPU;
    else if (strcasecmp(env, "gpu") == 0)
        *out = CLCONV_DEVICE_CLASS_GPU;
    else
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "CLCONV_DEVICE_CLASS = '%s', expected cpu, gpu or auto (or unset)", env);
    return CLCONV_SUCCESS;
}

/* Applies clconv_device_class's rule (clconv.h) once the device type is known:
 * the GPU bit wins over the others (Oclgrind reports CPU | GPU | ACCELERATOR),
 * a plain CPU is a CPU, anything else gets the GPU family. */
static void set_class(clconv_context *ctx, clconv_device_class want)
{
    ctx->class_forced = want != CLCONV_DEVICE_CLASS_AUTO;
    if (ctx->class_forced)
        ctx->device_class = want;
    else if (ctx->device_type & CL_DEVICE_TYPE_GPU)
        ctx->device_class = CLCONV_DEVICE_CLASS_GPU;
    else if (ctx->device_type & CL_DEVICE_TYPE_CPU)
        ctx->device_class = CLCONV_DEVICE_CLASS_CPU;
    else
        ctx->device_class = CLCONV_DEVICE_CLASS_GPU;
}

/* Every option of o (NULL: all defaults), checked, with the environment's
 * overrides, before any device work. */
static clconv_status resolve_settings(const clconv_context_options *o, settings *s)
{
    static const clconv_context_options none = {0};
    if (!o)
        o = &none;
    memset(s, 0, sizeof *s);
    clconv_status st;
    if ((st = requested_class(o->device_class, &s->device_class)) ||
        (st = choose_workspace_limit(o->workspace_limit, s)) ||
        (st = choose_find_space(o->find_space, s)))
        return st;
    choose_cache_dir(o->cache_dir, s);
    return CLCONV_SUCCESS;
}

static clconv_status create_on(const char *selector, const clconv_context_options *o,
                               clconv_context **out)
{
    if (!out)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    settings set;
    clconv_status st = resolve_settings(o, &set);
    if (st)
        return st;
    cl_platform_id plat = NULL;
    cl_device_id dev = NULL;
    if ((st = choose_device(selector, &plat, &dev)))
        return st;
    clconv_context *ctx;
    if ((st = context_new(&set, &ctx)))
        return st;
    ctx->device = dev;
    if ((st = query_device(ctx))) {
        clconv_context_destroy(ctx);
        return st;
    }
    set_class(ctx, set.device_class);
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0};
    ctx->cl_ctx = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        ctx->cl_ctx = NULL;
        clconv_context_destroy(ctx);
        return clconv_fail_cl(NULL, err, "clCreateContext");
    }
    /* clCreateCommandQueue is deprecated in 2.0 but is the 1.2 entry point
     * every ICD has. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    ctx->queue = clCreateCommandQueue(ctx->cl_ctx, dev, CL_QUEUE_PROFILING_ENABLE, &err);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (err != CL_SUCCESS) {
        ctx->queue = NULL;
        clconv_context_destroy(ctx);
        return clconv_fail_cl(NULL, err, "clCreateCommandQueue");
    }
    *out = ctx;
    return CLCONV_SUCCESS;
}

clconv_status clconv_context_create_for(const char *selector, clconv_context **out)
{
    return create_on(selector, NULL, out);
}

clconv_status clconv_context_create(clconv_context **out)
{
    return create_on(getenv("CLCONV_DEVICE"), NULL, out);
}

clconv_status clconv_context_create_with_options(const clconv_context_options *options,
                                                 clconv_context **out)
{
    if (!options)
        return clconv_context_create(out);
    const char *sel = options->device ? options->device : getenv("CLCONV_DEVICE");
    return create_on(sel, options, out);
}

clconv_device_class clconv_context_device_class(const clconv_context *ctx)
{
    return ctx ? ctx->device_class : CLCONV_DEVICE_CLASS_AUTO;
}

clconv_status clconv_context_create_from_queue(cl_context cl_ctx, cl_command_queue queue,
                                               clconv_context **out)
{
    return clconv_context_create_from_queue_with_options(cl_ctx, queue, NULL, out);
}

clconv_status clconv_context_create_from_queue_with_options(cl_context cl_ctx,
                                                            cl_command_queue queue,
                                                            const clconv_context_options *options,
                                                            clconv_context **out)
{
    if (!out)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    if (!cl_ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "cl_ctx: NULL, expected a cl_context");
    if (!queue)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "queue: NULL, expected a cl_command_queue");
    if (options && options->device)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "options.device = '%s', expected NULL: the queue names the device",
                           options->device);
    settings set;
    clconv_status st = resolve_settings(options, &set);
    if (st)
        return st;
    cl_device_id dev;
    cl_context qctx;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof dev, &dev, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(NULL, err, "clGetCommandQueueInfo(CL_QUEUE_DEVICE)");
    err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(NULL, err, "clGetCommandQueueInfo(CL_QUEUE_CONTEXT)");
    if (qctx != cl_ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "queue: belongs to another cl_context than cl_ctx");
    cl_command_queue_properties qprops = 0;
    err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
    if (err != CL_SUCCESS)
        return clconv_fail_cl(NULL, err, "clGetCommandQueueInfo(CL_QUEUE_PROPERTIES)");
    clconv_context *ctx;
    if ((st = context_new(&set, &ctx)))
        return st;
    ctx->device = dev;
    if ((st = query_device(ctx))) {
        clconv_context_destroy(ctx);
        return st;
    }
    set_class(ctx, set.device_class);
    if ((err = clRetainContext(cl_ctx)) != CL_SUCCESS) {
        clconv_context_destroy(ctx);
        return clconv_fail_cl(NULL, err, "clRetainContext");
    }
    ctx->cl_ctx = cl_ctx;
    if ((err = clRetainCommandQueue(queue)) != CL_SUCCESS) {
        clconv_context_destroy(ctx);
        return clconv_fail_cl(NULL, err, "clRetainCommandQueue");
    }
    ctx->queue = queue;
    ctx->out_of_order = (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0;
    *out = ctx;
    return CLCONV_SUCCESS;
}

void clconv_context_destroy(clconv_context *ctx)
{
    if (!ctx)
        return;
    clconv_program_entry *e = ctx->programs;
    while (e) {
        clconv_program_entry *next = e->next;
        clReleaseProgram(e->program);
        free(e->key);
        free(e);
        e = next;
    }
    clconv_tune_free(ctx);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->cl_ctx)
        clReleaseContext(ctx->cl_ctx);
    pthread_mutex_destroy(&ctx->lock);
    pthread_mutex_destroy(&ctx->error_lock);
    free(ctx->last_error);
    free(ctx);
}

cl_context clconv_context_cl_context(const clconv_context *ctx) { return ctx ? ctx->cl_ctx : NULL; }
cl_command_queue clconv_context_queue(const clconv_context *ctx) { return ctx ? ctx->queue : NULL; }
cl_device_id clconv_context_device(const clconv_context *ctx) { return ctx ? ctx->device : NULL; }
const char *clconv_context_device_name(const clconv_context *ctx) { return ctx ? ctx->device_name : ""; }
const char *clconv_context_cache_dir(const clconv_context *ctx) { return ctx ? ctx->cache_dir : ""; }

clconv_status clconv_context_cache_stats(const clconv_context *ctx, clconv_cache_stats *out)
{
    if (!ctx || !out)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a pointer",
                           ctx ? "out" : "ctx");
    pthread_mutex_lock((pthread_mutex_t *)&ctx->lock);
    *out = ctx->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&ctx->lock);
    return CLCONV_SUCCESS;
}
