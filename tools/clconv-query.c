/* clconv-query: what OpenCL platforms and devices this machine has, what
 * clconv would do on each, and (--bench) what each can actually do: peak
 * single-precision GFLOP/s per vector width and global-memory bandwidth,
 * measured with event profiling as clpeak does.
 *
 * Exit codes: 0 devices listed; 1 another failure; 2 no OpenCL platform (or
 * no device); 64 usage error. */
#include "toolkit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *PROG = "clconv-query";

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

/* ------------------------------------------------------------------------ */
/* Device facts                                                             */
/* ------------------------------------------------------------------------ */

typedef struct num {
    cl_ulong v;
    bool ok;
} num;

enum { VW_CHAR, VW_SHORT, VW_INT, VW_LONG, VW_FLOAT, VW_DOUBLE, VW_HALF, VW_COUNT };
static const char *const VW_NAMES[VW_COUNT] = {"char", "short", "int", "long",
                                               "float", "double", "half"};

typedef struct bench {
    bool done;
    bool wall_clock;      /* the profiling timer gave zero-length spans: wall-clock times */
    double gflops[5];     /* float, float2, float4, float8, float16 */
    double bandwidth_gbs; /* copy kernel, bytes read + written */
    char error[256];
} bench;

typedef struct devinfo {
    unsigned p, d;
    cl_device_id id;
    char name[256], vendor[256], version[256], driver[256], c_version[256], profile[64];
    char *extensions;
    cl_device_type type;
    num vendor_id, compute_units, clock_mhz, global_mem, global_cache, local_mem, local_mem_type;
    num constant_mem, max_alloc, max_wg, item_dims, timer_res, compiler, image, mem_align;
    num pref[VW_COUNT], native[VW_COUNT];
    num double_cfg;
    size_t item_sizes[8];
    bool item_sizes_ok;
    int cl_major, cl_minor;
    bool fp16, fp64, subgroups_khr, subgroups_intel;
    /* clconv */
    bool usable, is_default;
    char why_not[320];
    bool plan_ok;
    clconv_plan_info plan;
    char plan_error[512];
    clconv_device_class family; /* the kernel family clconv plans for (AUTO: no context) */
    bench bench;
} devinfo;

typedef struct platinfo {
    char name[256], vendor[256], version[256];
    unsigned ndev;
    devinfo *devs;
} platinfo;

static bool get_str(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS) {
        snprintf(buf, size, "?");
        return false;
    }
    buf[size - 1] = '\0';
    /* Some drivers pad with spaces. */
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    return true;
}

/* Reads a numeric device property of any width (cl_uint, cl_ulong, size_t,
 * cl_bool, bitfields) into a cl_ulong. */
static num get_num(cl_device_id d, cl_device_info what)
{
    unsigned char raw[8] = {0};
    size_t got = 0;
    num r = {0, false};
    if (clGetDeviceInfo(d, what, sizeof raw, raw, &got) != CL_SUCCESS || got == 0 ||
        got > sizeof raw)
        return r;
    if (got == 4) {
        cl_uint v;
        memcpy(&v, raw, 4);
        r.v = v;
    } else if (got == 8) {
        memcpy(&r.v, raw, 8);
    } else if (got == 2) {
        unsigned short v;
        memcpy(&v, raw, 2);
        r.v = v;
    } else {
        r.v = raw[0];
    }
    r.ok = true;
    return r;
}

static bool has_ext(const char *exts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = exts; p && (p = strstr(p, name)); p += n)
        if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static void query_device(devinfo *di)
{
    cl_device_id d = di->id;
    get_str(d, CL_DEVICE_NAME, di->name, sizeof di->name);
    get_str(d, CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
    get_str(d, CL_DEVICE_VERSION, di->version, sizeof di->version);
    get_str(d, CL_DRIVER_VERSION, di->driver, sizeof di->driver);
    get_str(d, CL_DEVICE_OPENCL_C_VERSION, di->c_version, sizeof di->c_version);
    get_str(d, CL_DEVICE_PROFILE, di->profile, sizeof di->profile);
    size_t elen = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &elen) == CL_SUCCESS && elen > 0 &&
        (di->extensions = calloc(1, elen + 1)) &&
        clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, elen, di->extensions, NULL) != CL_SUCCESS)
        di->extensions[0] = '\0';
    if (!di->extensions)
        di->extensions = calloc(1, 1);
    if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL) != CL_SUCCESS)
        di->type = 0;
    di->vendor_id = get_num(d, CL_DEVICE_VENDOR_ID);
    di->compute_units = get_num(d, CL_DEVICE_MAX_COMPUTE_UNITS);
    di->clock_mhz = get_num(d, CL_DEVICE_MAX_CLOCK_FREQUENCY);
    di->global_mem = get_num(d, CL_DEVICE_GLOBAL_MEM_SIZE);
    di->global_cache = get_num(d, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE);
    di->local_mem = get_num(d, CL_DEVICE_LOCAL_MEM_SIZE);
    di->local_mem_type = get_num(d, CL_DEVICE_LOCAL_MEM_TYPE);
    di->constant_mem = get_num(d, CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE);
    di->max_alloc = get_num(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    di->max_wg = get_num(d, CL_DEVICE_MAX_WORK_GROUP_SIZE);
    di->item_dims = get_num(d, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS);
    di->timer_res = get_num(d, CL_DEVICE_PROFILING_TIMER_RESOLUTION);
    di->compiler = get_num(d, CL_DEVICE_COMPILER_AVAILABLE);
    di->image = get_num(d, CL_DEVICE_IMAGE_SUPPORT);
    di->mem_align = get_num(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN);
    di->double_cfg = get_num(d, CL_DEVICE_DOUBLE_FP_CONFIG);
    static const cl_device_info PREF[VW_COUNT] = {
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR,  CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT,
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT,   CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG,
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE,
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF};
    static const cl_device_info NATIVE[VW_COUNT] = {
        CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR,  CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT,
        CL_DEVICE_NATIVE_VECTOR_WIDTH_INT,   CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG,
        CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE,
        CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF};
    for (int i = 0; i < VW_COUNT; i++) {
        di->pref[i] = get_num(d, PREF[i]);
        di->native[i] = get_num(d, NATIVE[i]);
    }
    if (di->item_dims.ok && di->item_dims.v >= 1 && di->item_dims.v <= 8)
        di->item_sizes_ok = clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES,
                                            sizeof(size_t) * di->item_dims.v, di->item_sizes,
                                            NULL) == CL_SUCCESS;
    if (sscanf(di->version, "OpenCL %d.%d", &di->cl_major, &di->cl_minor) != 2)
        di->cl_major = di->cl_minor = 0;
    di->fp16 = has_ext(di->extensions, "cl_khr_fp16");
    di->fp64 = has_ext(di->extensions, "cl_khr_fp64") || (di->double_cfg.ok && di->double_cfg.v);
    di->subgroups_khr = has_ext(di->extensions, "cl_khr_subgroups");
    di->subgroups_intel = has_ext(di->extensions, "cl_intel_subgroups");
}

static const char *type_string(cl_device_type t)
{
    static char buf[64];
    buf[0] = '\0';
    if (t & CL_DEVICE_TYPE_CPU) strcat(buf, "CPU ");
    if (t & CL_DEVICE_TYPE_GPU) strcat(buf, "GPU ");
    if (t & CL_DEVICE_TYPE_ACCELERATOR) strcat(buf, "ACCELERATOR ");
    if (t & CL_DEVICE_TYPE_CUSTOM) strcat(buf, "CUSTOM ");
    if (t & CL_DEVICE_TYPE_DEFAULT) strcat(buf, "DEFAULT ");
    size_t n = strlen(buf);
    if (n)
        buf[n - 1] = '\0';
    else
        strcpy(buf, "UNKNOWN");
    return buf;
}

/* The reference layer whose plan shows the default configuration. */
static const tk_layer *ref_layer(void)
{
    static tk_layer L;
    char err[256];
    if (!L.op && !tk_parse_layer_spec("conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 stride=1 pad=1 "
                                      "bias=1 relu=1", &L, err, sizeof err))
        return NULL;
    return &L;
}

static void clconv_facts(devinfo *di)
{
    if (di->cl_major * 10 + di->cl_minor < 12) {
        snprintf(di->why_not, sizeof di->why_not, "needs OpenCL 1.2 or later, device has '%.200s'",
                 di->version);
        return;
    }
    if (!di->compiler.ok || !di->compiler.v) {
        snprintf(di->why_not, sizeof di->why_not, "the device has no OpenCL C compiler");
        return;
    }
    di->usable = true;
    char sel[32];
    snprintf(sel, sizeof sel, "%u:%u", di->p, di->d);
    clconv_context *ctx = NULL;
    clconv_status st = clconv_context_create_for(sel, &ctx);
    if (st) {
        snprintf(di->plan_error, sizeof di->plan_error, "context: %s: %s",
                 clconv_status_string(st), clconv_last_error(NULL));
        return;
    }
    di->family = clconv_context_device_class(ctx);
    const tk_layer *L = ref_layer();
    clconv_plan *plan = NULL;
    st = L ? L->op->plan(ctx, L, NULL, &plan) : CLCONV_ERROR_INVALID_VALUE;
    if (st) {
        snprintf(di->plan_error, sizeof di->plan_error, "plan: %s: %s", clconv_status_string(st),
                 clconv_last_error(ctx));
    } else if (clconv_plan_get_info(plan, &di->plan) == CLCONV_SUCCESS) {
        di->plan_ok = true;
    }
    clconv_plan_destroy(plan);
    clconv_context_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* --bench: peak GFLOP/s and bandwidth                                      */
/* ------------------------------------------------------------------------ */

/* Eight independent fma chains per work-item (enough to cover FMA latency),
 * 16 fmas per loop trip; the result is stored so nothing is dead code. */
static const char *BENCH_SRC =
    "#define CHAINS(T) T x0 = (T)(get_global_id(0) & 7) * s, x1 = x0 + (T)(1), x2 = x0 + (T)(2),\\\n"
    "  x3 = x0 + (T)(3), x4 = x0 - (T)(1), x5 = x0 - (T)(2), x6 = x0 - (T)(3), x7 = -x0; \\\n"
    "  const T y = (T)(a), z = (T)(s);\n"
    "#define STEP x0 = fma(x0, y, z); x1 = fma(x1, y, z); x2 = fma(x2, y, z); x3 = fma(x3, y, z); \\\n"
    "  x4 = fma(x4, y, z); x5 = fma(x5, y, z); x6 = fma(x6, y, z); x7 = fma(x7, y, z);\n"
    "#define PEAK(T, NAME) \\\n"
    "__kernel void NAME(__global T *out, float a, float s, int iters) { \\\n"
    "  CHAINS(T) \\\n"
    "  for (int i = 0; i < iters; i++) { STEP STEP } \\\n"
    "  out[get_global_id(0)] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7; }\n"
    "PEAK(float, peak_float)\n"
    "PEAK(float2, peak_float2)\n"
    "PEAK(float4, peak_float4)\n"
    "PEAK(float8, peak_float8)\n"
    "PEAK(float16, peak_float16)\n"
    "__kernel void copy4(__global const float4 *restrict in, __global float4 *restrict out) {\n"
    "  size_t i = get_global_id(0); out[i] = in[i]; }\n";

static const int WIDTHS[5] = {1, 2, 4, 8, 16};
static const double TARGET_S = 0.2;
/* Bounds on every timing loop, whatever the timer says: calibration steps,
 * and wall-clock seconds per test (a timer stuck at zero once made the
 * calibration grow the kernel until one launch took minutes). */
enum { MAX_CALIBRATION_STEPS = 12 };
static const double MAX_TEST_S = 3.0;

static bool g_tty;
static char g_default_error[512]; /* why clconv_context_create failed, if it did */

static void progress(const char *fmt, const char *dev, const char *what)
{
    if (g_tty) {
        fprintf(stderr, "\r\033[K");
        fprintf(stderr, fmt, PROG, dev, what);
    } else {
        fprintf(stderr, fmt, PROG, dev, what);
        fputc('\n', stderr);
    }
    fflush(stderr);
}

#define CL_TRY(call, what)                                                                    \
    do {                                                                                      \
        cl_int e_ = (call);                                                                   \
        if (e_ != CL_SUCCESS) {                                                               \
            snprintf(b->error, sizeof b->error, "%s failed: %d", what, e_);                   \
            goto done;                                                                        \
        }                                                                                     \
    } while (0)

/* Runs kernel k over global items once; device seconds or -1. Some drivers
 * (Mesa rusticl 22.3) report a timer resolution of 0 and START == END for
 * every command: a zero-length span switches the bench to wall-clock time
 * (enqueue to completion, b->wall_clock), which the output says. */
static double launch(cl_command_queue q, cl_kernel k, size_t global, bench *b)
{
    cl_event ev = NULL;
    double t = -1;
    double w0 = tk_now();
    CL_TRY(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, &ev),
           "clEnqueueNDRangeKernel");
    CL_TRY(clWaitForEvents(1, &ev), "clWaitForEvents");
    double wall = tk_now() - w0;
    t = tk_event_seconds(ev);
    if (t < 0)
        snprintf(b->error, sizeof b->error, "clGetEventProfilingInfo failed");
    else if (t == 0 || b->wall_clock || (wall > 1e-3 && t * 1000 < wall)) {
        /* zero, or under a thousandth of a wall time above a millisecond:
         * not a measurement (a timer that does not tick) */
        b->wall_clock = true;
        t = wall > 1e-9 ? wall : 1e-9;
    }
done:
    if (ev)
        clReleaseEvent(ev);
    return t;
}

static void run_bench(devinfo *di)
{
    bench *b = &di->bench;
    char sel[32];
    snprintf(sel, sizeof sel, "%u:%u", di->p, di->d);
    clconv_context *ctx = NULL;
    cl_program prog = NULL;
    cl_kernel k = NULL;
    cl_mem out = NULL, in = NULL;
    clconv_status st = clconv_context_create_for(sel, &ctx);
    if (st) {
        snprintf(b->error, sizeof b->error, "%s", clconv_last_error(NULL));
        return;
    }
    cl_context c = clconv_context_cl_context(ctx);
    cl_command_queue q = clconv_context_queue(ctx);
    cl_int err;
    progress("%s: bench %s: %s", sel, "compiling");
    prog = clCreateProgramWithSource(c, 1, &BENCH_SRC, NULL, &err);
    CL_TRY(err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &di->id, "", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[200] = "";
        clGetProgramBuildInfo(prog, di->id, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        log[sizeof log - 1] = '\0';
        snprintf(b->error, sizeof b->error, "clBuildProgram failed (%d): %s", err, log);
        goto done;
    }
    /* Enough work-items to fill every compute unit several times over. */
    size_t cus = di->compute_units.ok && di->compute_units.v ? di->compute_units.v : 1;
    size_t global = cus * ((di->type & CL_DEVICE_TYPE_GPU) ? 8192 : 256);
    out = clCreateBuffer(c, CL_MEM_WRITE_ONLY, global * 16 * sizeof(float), NULL, &err);
    CL_TRY(err, "clCreateBuffer");
    for (int v = 0; v < 5; v++) {
        char kname[32], what[64];
        snprintf(kname, sizeof kname, v ? "peak_float%d" : "peak_float", WIDTHS[v]);
        snprintf(what, sizeof what, "%s GFLOP/s", kname + 5);
        progress("%s: bench %s: %s", sel, what);
        k = clCreateKernel(prog, kname, &err);
        CL_TRY(err, "clCreateKernel");
        float a = 0.999f, s = 0.001f;
        cl_int iters = 16;
        CL_TRY(clSetKernelArg(k, 0, sizeof out, &out), "clSetKernelArg");
        CL_TRY(clSetKernelArg(k, 1, sizeof a, &a), "clSetKernelArg");
        CL_TRY(clSetKernelArg(k, 2, sizeof s, &s), "clSetKernelArg");
        /* Calibrate the trip count to about TARGET_S per launch. */
        double t = 0, t_start = tk_now();
        for (int step = 0;; step++) {
            CL_TRY(clSetKernelArg(k, 3, sizeof iters, &iters), "clSetKernelArg");
            if ((t = launch(q, k, global, b)) < 0)
                goto done;
            if (t >= TARGET_S / 4 || iters >= (1 << 24) || step + 1 >= MAX_CALIBRATION_STEPS ||
                tk_now() - t_start > MAX_TEST_S)
                break;
            double f = t > 0 ? TARGET_S / t : 64;
            iters = (cl_int)(iters * (f > 64 ? 64 : f < 2 ? 2 : f));
        }
        if (t < TARGET_S * 0.8 && iters < (1 << 24)) {
            double f = TARGET_S / (t > 0 ? t : 1e-6);
            iters = (cl_int)(iters * (f > 64 ? 64 : f)); /* bounded as each step above */
            CL_TRY(clSetKernelArg(k, 3, sizeof iters, &iters), "clSetKernelArg");
        }
        double best = 1e30;
        for (int r = 0; r < 2; r++) {
            if ((t = launch(q, k, global, b)) < 0)
                goto done;
            if (t < best)
                best = t;
        }
        double flops = (double)global * iters * 16 * 2 * WIDTHS[v];
        b->gflops[v] = flops / best * 1e-9;
        clReleaseKernel(k);
        k = NULL;
    }
    /* Bandwidth: a float4 copy between two buffers far larger than caches. */
    progress("%s: bench %s: %s", sel, "bandwidth");
    size_t bytes = 256u << 20;
    if (di->max_alloc.ok && di->max_alloc.v / 2 < bytes)
        bytes = (size_t)(di->max_alloc.v / 2) & ~(size_t)4095;
    if (di->global_mem.ok && di->global_mem.v / 4 < bytes)
        bytes = (size_t)(di->global_mem.v / 4) & ~(size_t)4095;
    in = clCreateBuffer(c, CL_MEM_READ_ONLY, bytes, NULL, &err);
    CL_TRY(err, "clCreateBuffer");
    clReleaseMemObject(out);
    out = clCreateBuffer(c, CL_MEM_WRITE_ONLY, bytes, NULL, &err);
    CL_TRY(err, "clCreateBuffer");
    float zero = 0;
    CL_TRY(clEnqueueFillBuffer(q, in, &zero, sizeof zero, 0, bytes, 0, NULL, NULL),
           "clEnqueueFillBuffer");
    k = clCreateKernel(prog, "copy4", &err);
    CL_TRY(err, "clCreateKernel");
    CL_TRY(clSetKernelArg(k, 0, sizeof in, &in), "clSetKernelArg");
    CL_TRY(clSetKernelArg(k, 1, sizeof out, &out), "clSetKernelArg");
    size_t n4 = bytes / 16;
    double t1 = launch(q, k, n4, b); /* warm-up: first touch of the pages */
    if (t1 < 0)
        goto done;
    int reps = (int)(TARGET_S / (t1 > 1e-6 ? t1 : 1e-6));
    reps = reps < 3 ? 3 : reps > 2000 ? 2000 : reps;
    double total = 0, bw_start = tk_now();
    int done_reps = 0;
    while (done_reps < reps && (done_reps < 3 || tk_now() - bw_start < MAX_TEST_S)) {
        double t = launch(q, k, n4, b);
        if (t < 0)
            goto done;
        total += t;
        done_reps++;
    }
    reps = done_reps;
    b->bandwidth_gbs = 2.0 * (double)bytes * reps / total * 1e-9;
    b->done = true;
done:
    if (k)
        clReleaseKernel(k);
    if (prog)
        clReleaseProgram(prog);
    if (in)
        clReleaseMemObject(in);
    if (out)
        clReleaseMemObject(out);
    clconv_context_destroy(ctx);
    if (g_tty)
        fprintf(stderr, "\r\033[K");
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

static void print_num(const char *label, num n, const char *unit)
{
    if (n.ok)
        printf("    %-28s %llu%s\n", label, (unsigned long long)n.v, unit);
    else
        printf("    %-28s ?\n", label);
}

static void print_bytes(const char *label, num n)
{
    if (!n.ok) {
        printf("    %-28s ?\n", label);
        return;
    }
    double v = (double)n.v;
    const char *u = "B";
    if (v >= 1 << 30) { v /= 1 << 30; u = "GiB"; }
    else if (v >= 1 << 20) { v /= 1 << 20; u = "MiB"; }
    else if (v >= 1 << 10) { v /= 1 << 10; u = "KiB"; }
    printf("    %-28s %.4g %s (%llu bytes)\n", label, v, u, (unsigned long long)n.v);
}

static void print_text(const platinfo *pl, unsigned np, const char *default_sel)
{
    for (unsigned p = 0; p < np; p++) {
        printf("Platform %u: %s\n  vendor %s, version %s\n", p, pl[p].name, pl[p].vendor,
               pl[p].version);
        if (pl[p].ndev == 0)
            printf("  (no devices)\n");
        for (unsigned d = 0; d < pl[p].ndev; d++) {
            const devinfo *di = &pl[p].devs[d];
            printf("\n  Device %u:%u  %s  [%s]%s\n", p, d, di->name, type_string(di->type),
                   di->is_default ? "  <- clconv default" : "");
            printf("    %-28s %s", "vendor", di->vendor);
            if (di->vendor_id.ok)
                printf(" (0x%llx)", (unsigned long long)di->vendor_id.v);
            printf("\n    %-28s %s\n", "version", di->version);
            printf("    %-28s %s\n", "driver version", di->driver);
            printf("    %-28s %s\n", "OpenCL C version", di->c_version);
            print_num("compute units", di->compute_units, "");
            print_num("max clock", di->clock_mhz, " MHz");
            print_bytes("global memory", di->global_mem);
            print_bytes("global memory cache", di->global_cache);
            print_bytes("max allocation", di->max_alloc);
            printf("    %-28s ", "local memory");
            if (di->local_mem.ok)
                printf("%llu bytes (%s)\n", (unsigned long long)di->local_mem.v,
                       di->local_mem_type.ok && di->local_mem_type.v == CL_LOCAL ? "dedicated"
                                                                                : "global");
            else
                printf("?\n");
            print_bytes("constant memory", di->constant_mem);
            print_num("max work-group size", di->max_wg, "");
            printf("    %-28s ", "max work-item sizes");
            if (di->item_sizes_ok)
                for (cl_ulong i = 0; i < di->item_dims.v; i++)
                    printf("%s%zu", i ? " x " : "", di->item_sizes[i]);
            else
                printf("?");
            printf("\n    %-28s", "preferred / native vectors");
            for (int i = 0; i < VW_COUNT; i++)
                printf(" %s %llu/%llu", VW_NAMES[i], (unsigned long long)di->pref[i].v,
                       (unsigned long long)di->native[i].v);
            printf("\n    %-28s fp16 %s, fp64 %s\n", "precisions", di->fp16 ? "yes" : "no",
                   di->fp64 ? "yes" : "no");
            /* What clconv's dtype F16 runs as: half storage (vload_half /
             * vstore_half, core OpenCL), fp32 arithmetic, on every device. */
            printf("    %-28s storage (fp32 arithmetic); cl_khr_fp16 %s (half arithmetic is not "
                   "implemented yet)\n", "clconv fp16", di->fp16 ? "reported" : "not reported");
            printf("    %-28s %s\n", "subgroups",
                   di->subgroups_khr && di->subgroups_intel ? "cl_khr_subgroups, cl_intel_subgroups"
                   : di->subgroups_khr                       ? "cl_khr_subgroups"
                   : di->subgroups_intel                     ? "cl_intel_subgroups"
                                                             : "no");
            printf("    %-28s %s\n", "images", di->image.ok && di->image.v ? "yes" : "no");
            print_num("profiling timer resolution", di->timer_res, " ns");
            printf("    %-28s %s\n", "compiler available",
                   di->compiler.ok && di->compiler.v ? "yes" : "no");
            printf("    clconv: %s", di->usable ? "usable" : "not usable: ");
            if (!di->usable)
                printf("%s", di->why_not);
            printf("%s\n", di->is_default ? " (default device)" : "");
            if (di->family != CLCONV_DEVICE_CLASS_AUTO)
                printf("      kernel family              %s%s\n",
                       di->family == CLCONV_DEVICE_CLASS_CPU ? "cpu" : "gpu",
                       getenv("CLCONV_DEVICE_CLASS") && *getenv("CLCONV_DEVICE_CLASS")
                           ? " (CLCONV_DEVICE_CLASS)"
                           : " (from the device type; CLCONV_DEVICE_CLASS=cpu|gpu overrides)");
            if (di->plan_ok) {
                printf("      reference layer            %s\n",
                       "conv2d 1x64x56x56, 64 filters 3x3, pad 1, bias, relu");
                printf("      algorithm                  %s (%s)\n",
                       clconv_algorithm_name(di->plan.algorithm), di->plan.kernel_name);
                printf("      local size                 %zu x %zu x %zu, local memory %zu "
                       "bytes\n", di->plan.local_size[0], di->plan.local_size[1],
                       di->plan.local_size[2], di->plan.local_mem_bytes);
                printf("      build options              %s\n", di->plan.build_options);
            } else if (di->usable && di->plan_error[0]) {
                printf("      reference plan failed: %s\n", di->plan_error);
            }
            if (di->bench.done) {
                if (di->bench.wall_clock)
                    printf("    bench (wall clock, ~%.1f s per test: the device's profiling "
                           "timer gave zero-length spans)\n", TARGET_S);
                else
                    printf("    bench (event profiling, ~%.1f s per test)\n", TARGET_S);
                printf("      peak fp32 GFLOP/s         ");
                for (int v = 0; v < 5; v++) {
                    char t[16];
                    snprintf(t, sizeof t, v ? "float%d" : "float", WIDTHS[v]);
                    printf(" %s %.1f%s", t, di->bench.gflops[v], v < 4 ? "," : "\n");
                }
                printf("      global memory bandwidth    %.1f GB/s (copy, read + write)\n",
                       di->bench.bandwidth_gbs);
            } else if (di->bench.error[0]) {
                printf("    bench failed: %s\n", di->bench.error);
            }
        }
        printf("\n");
    }
    const char *env = getenv("CLCONV_DEVICE");
    if (default_sel)
        printf("clconv default device: %s%s%s%s\n", default_sel,
               env && *env ? " (CLCONV_DEVICE=" : " (the first GPU, else the first device; "
                                                  "CLCONV_DEVICE overrides)",
               env && *env ? env : "", env && *env ? ")" : "");
    else
        printf("clconv default device: none: %s\n", g_default_error);
}

static void json_num(const char *key, num n, bool comma)
{
    printf("\"%s\": ", key);
    if (n.ok)
        printf("%llu", (unsigned long long)n.v);
    else
        printf("null");
    printf("%s", comma ? ", " : "");
}

static void json_kv(const char *key, const char *val, bool comma)
{
    printf("\"%s\": ", key);
    tk_json_string(stdout, val);
    printf("%s", comma ? ", " : "");
}

static void print_json(const platinfo *pl, unsigned np, const char *default_sel)
{
    printf("{\n  \"tool\": \"clconv-query\",\n  \"clconv_version\": \"%d.%d.%d\",\n",
           CLCONV_VERSION_MAJOR, CLCONV_VERSION_MINOR, CLCONV_VERSION_PATCH);
    printf("  \"default_device\": ");
    if (default_sel)
        tk_json_string(stdout, default_sel);
    else
        printf("null");
    if (!default_sel && g_default_error[0]) {
        printf(",\n  \"default_device_error\": ");
        tk_json_string(stdout, g_default_error);
    }
    printf(",\n  \"platforms\": [");
    for (unsigned p = 0; p < np; p++) {
        printf("%s\n    {", p ? "," : "");
        printf("\"index\": %u, ", p);
        json_kv("name", pl[p].name, true);
        json_kv("vendor", pl[p].vendor, true);
        json_kv("version", pl[p].version, true);
        printf("\"devices\": [");
        for (unsigned d = 0; d < pl[p].ndev; d++) {
            const devinfo *di = &pl[p].devs[d];
            char id[32];
            snprintf(id, sizeof id, "%u:%u", p, d);
            printf("%s\n      {", d ? "," : "");
            json_kv("id", id, true);
            printf("\"index\": %u, ", d);
            json_kv("type", type_string(di->type), true);
            json_kv("name", di->name, true);
            json_kv("vendor", di->vendor, true);
            json_num("vendor_id", di->vendor_id, true);
            json_kv("version", di->version, true);
            json_kv("driver_version", di->driver, true);
            json_kv("opencl_c_version", di->c_version, true);
            json_kv("profile", di->profile, true);
            printf("\n       ");
            json_num("compute_units", di->compute_units, true);
            json_num("max_clock_mhz", di->clock_mhz, true);
            json_num("global_mem_bytes", di->global_mem, true);
            json_num("global_mem_cache_bytes", di->global_cache, true);
            json_num("local_mem_bytes", di->local_mem, true);
            printf("\"local_mem_dedicated\": %s, ",
                   di->local_mem_type.ok && di->local_mem_type.v == CL_LOCAL ? "true" : "false");
            json_num("constant_mem_bytes", di->constant_mem, true);
            json_num("max_alloc_bytes", di->max_alloc, true);
            json_num("max_work_group_size", di->max_wg, true);
            printf("\"max_work_item_sizes\": [");
            if (di->item_sizes_ok)
                for (cl_ulong i = 0; i < di->item_dims.v; i++)
                    printf("%s%zu", i ? ", " : "", di->item_sizes[i]);
            printf("],\n       \"preferred_vector_width\": {");
            for (int i = 0; i < VW_COUNT; i++)
                json_num(VW_NAMES[i], di->pref[i], i + 1 < VW_COUNT);
            printf("}, \"native_vector_width\": {");
            for (int i = 0; i < VW_COUNT; i++)
                json_num(VW_NAMES[i], di->native[i], i + 1 < VW_COUNT);
            printf("},\n       \"fp16\": %s, \"fp64\": %s, ", di->fp16 ? "true" : "false",
                   di->fp64 ? "true" : "false");
            printf("\"clconv_fp16\": {\"runs_as\": \"storage (fp32 arithmetic)\", "
                   "\"cl_khr_fp16\": %s, \"half_arithmetic\": false, \"note\": \"half "
                   "arithmetic is not implemented yet\"},\n       ", di->fp16 ? "true" : "false");
            printf("\"subgroups\": {\"cl_khr_subgroups\": %s, \"cl_intel_subgroups\": %s}, ",
                   di->subgroups_khr ? "true" : "false", di->subgroups_intel ? "true" : "false");
            printf("\"image_support\": %s, ", di->image.ok && di->image.v ? "true" : "false");
            printf("\"compiler_available\": %s, ",
                   di->compiler.ok && di->compiler.v ? "true" : "false");
            json_num("profiling_timer_resolution_ns", di->timer_res, true);
            printf("\n       \"extensions\": [");
            {
                char *copy = strdup(di->extensions ? di->extensions : "");
                char *save = NULL;
                bool first = true;
                for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t;
                     t = strtok_r(NULL, " ", &save)) {
                    printf("%s", first ? "" : ", ");
                    tk_json_string(stdout, t);
                    first = false;
                }
                free(copy);
            }
            printf("],\n       \"clconv\": {\"usable\": %s, \"default\": %s, ",
                   di->usable ? "true" : "false", di->is_default ? "true" : "false");
            printf("\"reason\": ");
            if (di->usable)
                printf("null");
            else
                tk_json_string(stdout, di->why_not);
            printf(", \"kernel_family\": ");
            if (di->family == CLCONV_DEVICE_CLASS_AUTO)
                printf("null");
            else
                tk_json_string(stdout, di->family == CLCONV_DEVICE_CLASS_CPU ? "cpu" : "gpu");
            printf(", \"plan\": ");
            if (di->plan_ok) {
                printf("{\"layer\": \"conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 stride=1 pad=1 "
                       "bias=1 relu=1\", ");
                json_kv("algorithm", clconv_algorithm_name(di->plan.algorithm), true);
                json_kv("kernel", di->plan.kernel_name, true);
                printf("\"local_size\": [%zu, %zu, %zu], ", di->plan.local_size[0],
                       di->plan.local_size[1], di->plan.local_size[2]);
                printf("\"global_size\": [%zu, %zu, %zu], ", di->plan.global_size[0],
                       di->plan.global_size[1], di->plan.global_size[2]);
                printf("\"local_mem_bytes\": %zu, ", di->plan.local_mem_bytes);
                json_kv("build_options", di->plan.build_options, false);
                printf("}");
            } else if (di->plan_error[0]) {
                printf("{\"error\": ");
                tk_json_string(stdout, di->plan_error);
                printf("}");
            } else {
                printf("null");
            }
            printf("}");
            if (di->bench.done) {
                printf(",\n       \"bench\": {\"gflops\": {");
                for (int v = 0; v < 5; v++) {
                    char t[16];
                    snprintf(t, sizeof t, v ? "float%d" : "float", WIDTHS[v]);
                    printf("%s\"%s\": %.2f", v ? ", " : "", t, di->bench.gflops[v]);
                }
                printf("}, \"bandwidth_gbs\": %.2f, \"timing\": \"%s\"}",
                       di->bench.bandwidth_gbs, di->bench.wall_clock ? "wall-clock" : "events");
            } else if (di->bench.error[0]) {
                printf(",\n       \"bench\": {\"error\": ");
                tk_json_string(stdout, di->bench.error);
                printf("}");
            }
            printf("}");
        }
        printf("%s]}", pl[p].ndev ? "\n    " : "");
    }
    printf("\n  ]\n}\n");
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clconv-query [--json] [--bench] [--device SEL] [--no-plan]\n\n"
            "Lists every OpenCL platform and device: type, vendor, versions, compute units,\n"
            "clock, memories, work-group limits, vector widths, fp16/fp64, subgroups, images,\n"
            "whether clconv can use the device and the plan it makes for a reference 3x3\n"
            "layer; marks the device clconv picks by default.\n\n"
            "  --json        print JSON instead of text\n"
            "  --bench       also measure peak fp32 GFLOP/s (float .. float16 fma chains) and\n"
            "                global-memory bandwidth (copy kernel), ~0.2 s per test per device\n"
            "  --device SEL  only the device SEL (\"P:D\" or part of its name), as CLCONV_DEVICE\n"
            "  --no-plan     skip making the reference plan (no kernel compile)\n"
            "  --help        this text\n\n"
            "Exit codes: 0 devices found, 1 error, 2 no OpenCL platform or device, 64 usage.\n");
}

int main(int argc, char **argv)
{
    bool json = false, do_bench = false, do_plan = true;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--bench"))
            do_bench = true;
        else if (!strcmp(argv[i], "--no-plan"))
            do_plan = false;
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            only = argv[++i];
        else if (!strncmp(argv[i], "--device=", 9))
            only = argv[i] + 9;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return TK_EXIT_OK;
        } else {
            fprintf(stderr, "%s: unknown argument '%s'\n\n", PROG, argv[i]);
            usage(stderr);
            return TK_EXIT_USAGE;
        }
    }
    g_tty = isatty(2);

    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */ ||
        (err == CL_SUCCESS && np == 0)) {
        fprintf(stderr, "%s: no OpenCL platform found: the ICD loader is installed but no "
                "OpenCL driver is registered in /etc/OpenCL/vendors.\n"
                "hint: install pocl-opencl-icd (CPU) or your GPU driver's ICD "
                "(nvidia-opencl-icd, mesa-opencl-icd, intel-opencl-icd, ...)\n", PROG);
        return TK_EXIT_NO_PLATFORM;
    }
    if (err != CL_SUCCESS) {
        fprintf(stderr, "%s: clGetPlatformIDs failed: %d\n", PROG, err);
        return TK_EXIT_FAILURE;
    }
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;

    /* The device clconv would use (CLCONV_DEVICE or its default rule), and
     * the one --device names. */
    cl_device_id default_dev = NULL, only_dev = NULL;
    char default_sel[32] = "";
    clconv_context *ctx = NULL;
    if (clconv_context_create(&ctx) == CLCONV_SUCCESS) {
        default_dev = clconv_context_device(ctx);
        clconv_context_destroy(ctx);
    } else {
        snprintf(g_default_error, sizeof g_default_error, "%s", clconv_last_error(NULL));
    }
    if (only) {
        clconv_status st = clconv_context_create_for(only, &ctx);
        if (st) {
            tk_report(PROG, "--device", st, NULL);
            return st == CLCONV_ERROR_NO_DEVICE ? TK_EXIT_NO_PLATFORM : TK_EXIT_FAILURE;
        }
        only_dev = clconv_context_device(ctx);
        clconv_context_destroy(ctx);
    }

    platinfo *pl = calloc(np, sizeof *pl);
    if (!pl) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return TK_EXIT_FAILURE;
    }
    unsigned total = 0;
    int rc = TK_EXIT_OK;
    for (cl_uint p = 0; p < np; p++) {
        struct { cl_platform_info what; char *dst; } q[] = {
            {CL_PLATFORM_NAME, pl[p].name},
            {CL_PLATFORM_VENDOR, pl[p].vendor},
            {CL_PLATFORM_VERSION, pl[p].version}};
        for (int i = 0; i < 3; i++)
            if (clGetPlatformInfo(plats[p], q[i].what, 256, q[i].dst, NULL) != CL_SUCCESS)
                snprintf(q[i].dst, 256, "?");
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd);
        if (err == CL_DEVICE_NOT_FOUND)
            nd = 0;
        else if (err != CL_SUCCESS) {
            fprintf(stderr, "%s: clGetDeviceIDs(platform %u) failed: %d\n", PROG, p, err);
            rc = TK_EXIT_FAILURE;
            nd = 0;
        }
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        pl[p].devs = calloc(nd ? nd : 1, sizeof(devinfo));
        if (!pl[p].devs) {
            fprintf(stderr, "%s: out of memory\n", PROG);
            return TK_EXIT_FAILURE;
        }
        for (cl_uint d = 0; d < nd; d++) {
            if (only_dev && devs[d] != only_dev)
                continue;
            devinfo *di = &pl[p].devs[pl[p].ndev++];
            di->p = p;
            di->d = d;
            di->id = devs[d];
            query_device(di);
            di->is_default = devs[d] == default_dev;
            if (di->is_default)
                snprintf(default_sel, sizeof default_sel, "%u:%u", p, d);
            if (do_plan)
                clconv_facts(di);
            else if (di->cl_major * 10 + di->cl_minor >= 12 && di->compiler.ok && di->compiler.v)
                di->usable = true;
            if (do_bench && di->usable)
                run_bench(di);
            total++;
        }
    }
    if (total == 0) {
        fprintf(stderr, "%s: %u OpenCL platform(s) but no device: check the driver "
                "installation (for CPUs: pocl-opencl-icd)\n", PROG, np);
        rc = TK_EXIT_NO_PLATFORM;
    } else if (json) {
        print_json(pl, np, default_sel[0] ? default_sel : NULL);
    } else {
        print_text(pl, np, default_sel[0] ? default_sel : NULL);
    }
    for (cl_uint p = 0; p < np; p++) {
        for (unsigned d = 0; d < pl[p].ndev; d++)
            free(pl[p].devs[d].extensions);
        free(pl[p].devs);
    }
    free(pl);
    return rc;
}
