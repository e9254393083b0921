/*
 * clconv.h — convolutional-network layers on OpenCL devices.
 *
 * The one public header of clconv. Everything here is C11, and the only OpenCL
 * types that appear are cl_context, cl_command_queue, cl_mem and cl_event.
 *
 * Conventions (the same as PyTorch's functional API):
 *   - tensors are NCHW, float32 (or half storage: clconv_dtype), C-contiguous;
 *   - conv2d weights are [out_channels, in_channels/groups, kernel_h, kernel_w];
 *   - "convolution" is cross-correlation (no kernel flip);
 *   - bias is one value per output channel;
 *   - every size, stride, padding, dilation and group count is an int64_t so
 *     that a negative or zero value passed by mistake is reported, never wrapped.
 *
 * Usage pattern ("configure once, run many"):
 *   clconv_context *ctx;             clconv_context_create(&ctx);
 *   clconv_plan *plan;               clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan);
 *   clconv_conv2d_run(plan, x, w, b, y, NULL, 0, NULL, &done);   // as often as needed
 *   clconv_plan_destroy(plan);       clconv_context_destroy(ctx);
 *
 * Errors: every function returns a clconv_status. On failure a human-readable
 * message naming the parameter, its value and what was expected is stored in
 * the context (clconv_last_error(ctx)) and in the calling thread
 * (clconv_last_error(NULL)). When an OpenCL call fails (out of device memory,
 * out of resources, a failed build) the message names that call and its
 * error code, everything the failing clconv call had allocated is released,
 * and the context stays usable. Threads: see clconv_context and clconv_plan.
 */
#ifndef CLCONV_H
#define CLCONV_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLCONV_VERSION_MAJOR 0
#define CLCONV_VERSION_MINOR 3
#define CLCONV_VERSION_PATCH 4

/* An OpenCL device, its queue, the program cache and the last error message.
 * Made by clconv_context_create*.
 * Threads: a context may be used from several threads at once for everything
 * except clconv_context_destroy (call it once, after every other thread is
 * done with the context and its plans are destroyed). What is shared and how:
 *   - the in-memory program cache and its counters: under a mutex; a program
 *     is compiled once even when several threads ask for it together (the
 *     others wait for it), and compiles are serialized per context;
 *   - the disk cache: files are written under a private temporary name and
 *     renamed into place, so other threads and processes see a whole file or
 *     none; the tuning database gets whole lines appended under the mutex;
 *   - compiled programs are shared, cl_kernel objects never are: every plan
 *     creates its own, so plans never race on clSetKernelArg;
 *   - the command queue: every plan of the context enqueues on it (OpenCL
 *     queues accept enqueues from several threads); work from different
 *     threads is ordered only by the events the caller passes;
 *   - the last error: per thread (clconv_last_error(NULL)) and per context
 *     (the latest failure of any thread, copied out under a mutex).
 * Find mode (clconv_plan_options.find) times on the shared queue: other
 * threads' work on the context at that time counts against the candidates. */
typedef struct clconv_context clconv_context;

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/* Result of every clconv call. 0 is success; everything else is an error and
 * leaves the outputs untouched unless said otherwise. */
typedef enum clconv_status {
    CLCONV_SUCCESS = 0,
    CLCONV_ERROR_INVALID_VALUE = 1,     /* a NULL pointer or an out-of-range parameter */
    CLCONV_ERROR_INVALID_SHAPE = 2,     /* shapes that leave no output or do not fit together */
    CLCONV_ERROR_BUFFER_TOO_SMALL = 3,  /* a cl_mem smaller than the shape needs */
    CLCONV_ERROR_OUT_OF_HOST_MEMORY = 4,/* malloc failed */
    CLCONV_ERROR_NO_DEVICE = 5,         /* no OpenCL platform / no device matched */
    CLCONV_ERROR_BUILD_FAILED = 6,      /* a kernel did not compile; the message holds the log */
    CLCONV_ERROR_OPENCL = 7,            /* an OpenCL call failed; the message names it and its code */
    CLCONV_ERROR_UNSUPPORTED = 8,       /* valid request that this device / algorithm cannot do */
    CLCONV_ERROR_IO = 9,                /* a file could not be read or written */
    CLCONV_ERROR_CLBLAST = 10,          /* CLBlast returned an error; the message holds its code */
    CLCONV_ERROR_WRONG_PLAN = 11        /* a plan run through the wrong operator's run function */
} clconv_status;

/* Short English name of a status ("invalid value", ...). Never NULL. */
const char *clconv_status_string(clconv_status status);

/* The calling thread's last error message ("" when none). When ctx is not NULL,
 * the context's last error message instead: the latest failure on that context
 * from any thread. Valid until the next failing call on the calling thread, or
 * for a context's message until this thread's next clconv_last_error(non-NULL)
 * (each thread gets its own copy). Never NULL. */
const char *clconv_last_error(const clconv_context *ctx);

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

/* An NCHW tensor shape. For 1-D operators h is 1. */
typedef struct clconv_shape {
    int64_t n, c, h, w;
} clconv_shape;

/* Number of elements in a shape (0 if any dimension is <= 0). */
size_t clconv_shape_elements(clconv_shape s);

/* ------------------------------------------------------------------------ */
/* Data types: fp32 or fp16 storage                                         */
/* ------------------------------------------------------------------------ */

/* The storage type of a layer's tensors, the `dtype` field of every
 * parameter struct (clconv_conv2d_params, clconv_conv1d_params,
 * clconv_conv_transpose2d_params, clconv_conv_transpose1d_params,
 * clconv_pool2d_params): x, w, bias, y and the epilogue's z and pre are
 * all of it. 0 is F32, so a zero-initialised struct keeps float32.
 *
 * CLCONV_DTYPE_F16: IEEE binary16 elements (uint16_t on the host, `half`
 * in OpenCL C), read with vload_half and written with vstore_half_rte, both
 * core OpenCL 1.2: every device runs it, cl_khr_fp16 or not. Arithmetic
 * stays fp32 (fp16 storage, fp32 accumulation): each element is widened
 * exactly on load, the convolution and its epilogue are computed in float
 * as for F32, and the result is rounded once, to nearest even, when it is
 * stored (above 65504 it becomes +-inf, NaN stays NaN, results below 2^-14
 * become subnormal halves as IEEE says). fp16 arithmetic (cl_khr_fp16) is
 * not offered yet. Buffer sizes are in 2-byte elements (a 1x1x1x3 output
 * is 6 bytes); workspaces, plan-owned buffers and pooling's int64 indices
 * are unchanged.
 *
 * Which algorithms take F16 (the others fail CLCONV_ERROR_UNSUPPORTED
 * saying so, and AUTO never picks them for an F16 layer): see README.md,
 * "Half precision"; clconv_conv2d_algorithm_supported and
 * clconv_conv_transpose2d_algorithm_supported answer per layer.
 * The *_host calls take float arrays only: they refuse dtype F16
 * (CLCONV_ERROR_INVALID_VALUE); convert with the helpers below and run the
 * plans on device buffers. The CPU references (clconv_ref_*) compute on
 * float arrays whatever dtype says: pass them the halves widened with
 * clconv_halves_to_floats. Pooling's forward pass (clconv_pool2d_plan_create,
 * every mode) takes F16: x and y halves, sums and averages in float rounded
 * once at the store, max values and indices exact. The transposed
 * convolutions (clconv_conv_transpose2d_plan_create, _1d_plan_create) and
 * conv2d's data gradient (clconv_conv2d_backward_data_plan_create) take F16
 * on transposed-gather, -vector and -columns (AUTO picks among them), not on
 * transposed-gemm; conv2d's Winograd takes it; CLBlast's GEMM algorithms
 * (gemm, transposed-gemm) refuse it (they read and write floats; CLBlast's
 * half GEMM would need cl_khr_fp16). The training passes take F16 as
 * mixed-precision training runs them (fp16 storage, fp32 accumulation):
 * pooling's backward (clconv_pool2d_backward_plan_create, every mode) with
 * dy, x and dx halves and int64 indices, conv2d's backward-weights and
 * backward-bias with x, dy, dw and db halves; every sum is a float in the
 * F32 pass's fixed order (the weights' split workspace stays float) rounded
 * once at the store, so runs stay deterministic. The elementwise activation
 * plans take F16 through clconv_activation_plan_create_dtype (forward and
 * the scaled gradient: the backward of an F16 convolution's fused
 * activation); clconv_relu_backward_plan_create stays F32 (an F16 activation
 * plan with CLCONV_ACTIVATION_RELU computes the same gradient).
 *
 * Accuracy (what the tests hold every F16 algorithm to): with x, w, b, z
 * halves and ref the double-precision reference computed on them (widened
 * to float exactly), |y - ref| <= the F32 bound of "The epilogue" (1e-7 +
 * 4 sqrt(K + 2) eps * scale) + one half ulp of the result, |ref| * 2^-11
 * (at least 2^-25, half the smallest subnormal half); max pooling is exact
 * (values and indices). The backward passes, with x, dy halves and ref
 * computed on them: backward-weights and -bias within their F32 bound,
 * 1e-7 + 4 sqrt(k + 1) eps * scale (k = n * oh * ow, the reduction length;
 * scale = the same gradient of |x| and |dy|), + one half ulp of the
 * result; pooling's backward is the F32 pass's float rounded once (bit for
 * bit) for max, and for avg / adaptive avg where the device divides
 * correctly rounded (elsewhere the F32 bound 8 eps * the gradient of |dy|,
 * + one half ulp), lp within 1e-6 + 64 kernel_h kernel_w eps |ref| + one
 * half ulp. */
typedef enum clconv_dtype {
    CLCONV_DTYPE_F32 = 0, /* float32 (the default) */
    CLCONV_DTYPE_F16 = 1  /* IEEE half (binary16) storage, fp32 arithmetic */
} clconv_dtype;

/* "f32", "f16", or "unknown". Never NULL. */
const char *clconv_dtype_name(clconv_dtype dtype);

/* Bytes per element: 4 for F32, 2 for F16, 0 for a value outside the enum. */
size_t clconv_dtype_size(clconv_dtype dtype);

/* float -> half bits, IEEE round to nearest even: finite values above the
 * largest half (65504, or 65520 and up after rounding) become +-inf, NaN a
 * quiet NaN of the same sign (payload's top bits kept), values below the
 * normal range round to subnormals (2^-25 exactly rounds to 0, ties to
 * even), -0 stays -0. */
uint16_t clconv_float_to_half(float f);

/* half bits -> float, exact (every half is a float): subnormals, +-inf,
 * NaN (quiet, sign and payload kept). */
float clconv_half_to_float(uint16_t h);

/* The same over n elements (src and dst must not overlap). */
void clconv_floats_to_halves(const float *src, uint16_t *dst, size_t n);
void clconv_halves_to_floats(const uint16_t *src, float *dst, size_t n);

/* Size limits, checked by every validate, output-shape, plan and reference
 * call before anything is computed or enqueued:
 *   - every size, stride, padding and dilation is at most 2^30
 *     (CLCONV_ERROR_INVALID_VALUE), and so is every input dimension
 *     (CLCONV_ERROR_INVALID_SHAPE);
 *   - the element count and the byte size of the input, the weights and the
 *     output (for pooling: of its int64 indices) fit in size_t
 *     (CLCONV_ERROR_INVALID_SHAPE naming the tensor);
 *   - plans (the device path) also need every tensor to hold at most 2^31 - 1
 *     elements (the kernels index with 32-bit ints) and at most the device's
 *     CL_DEVICE_MAX_MEM_ALLOC_SIZE bytes, and conv2d input coordinates
 *     (output index x stride + tap x dilation, for whole tiles) to fit an int
 *     (CLCONV_ERROR_UNSUPPORTED naming the tensor or the parameter). */

/* ------------------------------------------------------------------------ */
/* Context: device, queue, program cache, last error                        */
/* ------------------------------------------------------------------------ */

/* Creates a context on the default device: the device named by the
 * CLCONV_DEVICE environment variable ("P:D" platform and device indices, or a
 * case-insensitive substring of the device or platform name), else the first
 * GPU of any platform, else the first device of any kind. Makes its own
 * context and an in-order command queue with profiling enabled. The kernel
 * family follows CLCONV_DEVICE_CLASS, else the device type (see
 * clconv_device_class below; every create function follows that rule).
 * Errors: CLCONV_ERROR_NO_DEVICE (no platform, or CLCONV_DEVICE matched
 * nothing), CLCONV_ERROR_OPENCL. */
clconv_status clconv_context_create(clconv_context **out);

/* As clconv_context_create, but with a device selector given explicitly
 * (same syntax as CLCONV_DEVICE; NULL or "" means the default choice). */
clconv_status clconv_context_create_for(const char *device_selector, clconv_context **out);

/* Which family of kernels a context plans for. Every algorithm runs on every
 * device; the family decides what AUTO picks, the tile and work-group
 * defaults, and find mode's candidates:
 *   CPU family: the SIMD-lane kernels (direct-vector, direct-pointwise,
 *     direct-depthwise, transposed-vector / -columns, vectorized pooling)
 *     with small work-groups;
 *   GPU family: the local-memory and work-group kernels (direct-tiled,
 *     direct-register, winograd, transposed-gather) with work-groups of up
 *     to 256 items.
 * The rule for CLCONV_DEVICE_CLASS_AUTO: a device whose CL_DEVICE_TYPE has
 * the GPU bit set is a GPU, even if it reports other types too (Oclgrind
 * reports CPU | GPU | ACCELERATOR | DEFAULT and is therefore a GPU, which is
 * also why the default device choice, "the first GPU", picks it); else a
 * device with the CPU bit set is a CPU (PoCL, Mesa rusticl's llvmpipe);
 * anything else (accelerators, custom devices) is treated as a GPU. */
typedef enum clconv_device_class {
    CLCONV_DEVICE_CLASS_AUTO = 0, /* the environment's CLCONV_DEVICE_CLASS, else the rule above */
    CLCONV_DEVICE_CLASS_CPU = 1,  /* force the CPU family */
    CLCONV_DEVICE_CLASS_GPU = 2   /* force the GPU family */
} clconv_device_class;

/* Which candidates find mode times (clconv_context_options.find_space). */
typedef enum clconv_find_space {
    CLCONV_FIND_SPACE_AUTO = 0, /* CLCONV_FIND_SPACE, else the kernel family's set */
    CLCONV_FIND_SPACE_CPU = 1,  /* the CPU kernels' variants */
    CLCONV_FIND_SPACE_GPU = 2,  /* work-group shapes and register blocks of the GPU kernels */
    CLCONV_FIND_SPACE_ALL = 3   /* both */
} clconv_find_space;

/* Options for clconv_context_create_with_options. Zero-initialise it
 * (clconv_context_options o = {0};) and set what you need; every zero field
 * means "the default", so fields added later keep old callers' behaviour.
 *   device        device selector, the syntax of CLCONV_DEVICE: "P:D"
 *                 platform and device indices, or a case-insensitive
 *                 substring of the device or platform name. NULL: the
 *                 CLCONV_DEVICE environment variable, else the default
 *                 choice (the first GPU of any platform, else the first
 *                 device). "" : the default choice, ignoring CLCONV_DEVICE.
 *   device_class  the kernel family (see clconv_device_class). AUTO: the
 *                 CLCONV_DEVICE_CLASS environment variable ("cpu", "gpu" or
 *                 "auto", case-insensitive), else the rule above. An explicit
 *                 CPU or GPU here wins over the environment.
 *   cache_dir     the directory of the program cache and the tuning database.
 *                 NULL: CLCONV_CACHE_DIR, else $XDG_CACHE_HOME/clconv, else
 *                 $HOME/.cache/clconv. "off" (or CLCONV_CACHE_DIR=off): no
 *                 disk cache.
 *   workspace_limit  the most bytes of workspace a plan may ask for (the GEMM
 *                 algorithms, Winograd and backward-weights then work in
 *                 chunks, or refuse when one image does not fit). 0: the
 *                 CLCONV_WORKSPACE_LIMIT environment variable (a number of
 *                 bytes), else none beyond each algorithm's own cap;
 *                 SIZE_MAX: none, whatever the environment says.
 *   find_space    the candidates find mode times (clconv_plan_options.find).
 *                 AUTO: CLCONV_FIND_SPACE ("cpu", "gpu" or "all"), else the
 *                 set of the context's kernel family.
 * The environment is read once, when the context is made: a variable set
 * later affects only contexts made later, and a malformed value fails the
 * creation with INVALID_VALUE naming the variable.
 * Forcing a class changes performance, never results: every family's kernels
 * are verified against the same reference. Tuning-database entries are kept
 * apart per forced class. */
typedef struct clconv_context_options {
    const char *device;
    clconv_device_class device_class;
    const char *cache_dir;
    size_t workspace_limit;
    clconv_find_space find_space;
} clconv_context_options;

/* Creates a context as clconv_context_create does, with options (NULL = all
 * defaults, the same as clconv_context_create).
 * Errors: CLCONV_ERROR_INVALID_VALUE (out NULL, device_class out of range, or
 * CLCONV_DEVICE_CLASS set to something other than cpu, gpu or auto),
 * CLCONV_ERROR_NO_DEVICE, CLCONV_ERROR_OPENCL. */
clconv_status clconv_context_create_with_options(const clconv_context_options *options,
                                                 clconv_context **out);

/* The kernel family a context plans for: CLCONV_DEVICE_CLASS_CPU or
 * CLCONV_DEVICE_CLASS_GPU (never AUTO; AUTO for a NULL context). */
clconv_device_class clconv_context_device_class(const clconv_context *ctx);

/* Wraps a caller's own OpenCL context and queue (both are retained, and
 * released again by clconv_context_destroy). Every plan enqueues on that queue;
 * the device is the queue's device. Profiling is whatever the queue has.
 * The kernel family follows CLCONV_DEVICE_CLASS, else the device type. */
clconv_status clconv_context_create_from_queue(cl_context cl_ctx, cl_command_queue queue,
                                               clconv_context **out);

/* clconv_context_create_from_queue with options (NULL = all defaults);
 * options->device must be NULL (the queue names the device). */
clconv_status clconv_context_create_from_queue_with_options(cl_context cl_ctx,
                                                            cl_command_queue queue,
                                                            const clconv_context_options *options,
                                                            clconv_context **out);

/* Releases the context, its queue (or its reference to the caller's) and every
 * cached program. Plans made from it must be destroyed first. NULL is a no-op. */
void clconv_context_destroy(clconv_context *ctx);

/* The OpenCL objects behind a context (not retained for the caller). */
cl_context clconv_context_cl_context(const clconv_context *ctx);
cl_command_queue clconv_context_queue(const clconv_context *ctx);
cl_device_id clconv_context_device(const clconv_context *ctx);

/* The device's name, e.g. "NVIDIA H100 80GB HBM3" (owned by the context). */
const char *clconv_context_device_name(const clconv_context *ctx);


/* Path of the tuning database: "tuning.db" in the cache directory ("" when
 * the disk cache is off; winners are then remembered in memory only). A text
 * file, one winner per line, keyed by device, driver and layer. */
const char *clconv_context_tuning_db(const clconv_context *ctx);

/* Program-cache counters since the context was made. */
typedef struct clconv_cache_stats {
    uint64_t memory_hits;     /* programs found already built in this context */
    uint64_t disk_hits;       /* programs loaded from binaries on disk (no compile; on PoCL
                               * the entry is the key only and PoCL's own kernel cache
                               * holds the compiled code: README, "Caches and tuning") */
    uint64_t compiled;        /* programs compiled from source */
    uint64_t disk_writes;     /* entries written to the disk cache */
    uint64_t disk_write_errors; /* writes that failed: the cache directory is not writable.
                                 * After the first the context only reads the disk cache
                                 * (everything still works, compiled kernels are just not
                                 * stored), and the process says so once on stderr. */
} clconv_cache_stats;

/* Reads the cache counters. */
clconv_status clconv_context_cache_stats(const clconv_context *ctx, clconv_cache_stats *out);

/* The directory of the on-disk program cache for this context: CLCONV_CACHE_DIR
 * if set, else $XDG_CACHE_HOME/clconv, else $HOME/.cache/clconv. An empty
 * string means the disk cache is off (CLCONV_CACHE_DIR=off). */
const char *clconv_context_cache_dir(const clconv_context *ctx);

/* ------------------------------------------------------------------------ */
/* Plans                                                                    */
/* ------------------------------------------------------------------------ */

/* A plan: a validated operator + input shape, its chosen algorithm and its
 * compiled, specialized kernel. Made once, run any number of times.
 * Threads: plans may be created, run and destroyed from several threads at
 * once, on one context or on several. One plan may be run from several
 * threads: setting its kernel arguments and enqueueing is serialized inside
 * the plan (a mutex), so each run enqueues with its own buffers; the runs
 * then execute in queue order. A plan must not be destroyed while another
 * thread is still inside a call with it.
 *
 * Ordering: a run enqueues its commands behind the caller's wait list only
 * and its completion event (done) completes after all of them. On an
 * in-order queue (clconv_context_create's) runs execute in the order they
 * were enqueued. On a caller's out-of-order queue
 * (clconv_context_create_from_queue):
 *   - runs of different plans, and runs of a plan without a buffer of its
 *     own, are ordered only by the caller's events and may overlap;
 *   - a plan that holds a device buffer it rewrites on every run
 *     (info.plan_device_bytes > 0: direct-vector's and transposed-vector's
 *     packed weights, direct-pointwise's padded copy of x, Winograd's
 *     transformed filters) orders its own runs: each run's first command
 *     also waits for the completion of the plan's previous run (from any
 *     thread), so two runs never see each other's data; other plans stay
 *     free to overlap with it. On an in-order queue this costs nothing.
 *   - The buffers passed to a run are the caller's to order, as for any
 *     OpenCL command: runs that may overlap need their own outputs and
 *     workspaces, and must not write what another reads.
 * A failed run (an error returned after some of its commands were enqueued)
 * orders the plan's next run behind everything enqueued before it. */
typedef struct clconv_plan clconv_plan;

/* Which algorithm a plan uses. */
/* Which algorithm a plan uses, grouped by operator (the values are stable;
 * the tuning database stores names, clconv_algorithm_name). Each is
 * documented in full at its operator's plan creation call, and
 * clconv_conv2d_algorithm_supported / clconv_conv_transpose2d_algorithm_supported
 * say whether one covers a layer. */
typedef enum clconv_algorithm {
    CLCONV_ALGO_AUTO = 0, /* let the plan choose (the default) */

    /* conv2d and conv1d (clconv_conv2d_plan_create) */
    CLCONV_ALGO_DIRECT_TILED = 1,     /* input tile + halo and weights in local memory (GPUs) */
    CLCONV_ALGO_DIRECT_REGISTER = 2,  /* register-blocked, no local memory; also what the
                                         backward-weights / -bias plans report */
    CLCONV_ALGO_DIRECT_VECTOR = 7,    /* output channels in SIMD lanes (CPUs) */
    CLCONV_ALGO_DIRECT_DEPTHWISE = 9, /* depthwise: output columns in SIMD lanes (CPUs) */
    CLCONV_ALGO_DIRECT_POINTWISE = 12, /* GEMM with pixels in SIMD lanes; KxK as shifted 1x1s (CPUs) */
    CLCONV_ALGO_DIRECT_BATCH = 13,    /* images in SIMD lanes: big batches of small maps (CPUs) */
    CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS = 14, /* depthwise: channels in SIMD lanes (CPUs) */
    CLCONV_ALGO_WINOGRAD = 8,         /* Winograd F(2x2,3x3), 3x3 stride-1 layers (any dilation) */
    CLCONV_ALGO_GEMM = 3,             /* 1x1 as GEMM, else im2col + SGEMM (CLBlast; F32
                                         only) */

    /* conv_transpose2d / 1d and conv2d backward-data
     * (clconv_conv_transpose2d_plan_create, clconv_conv2d_backward_data_plan_create) */
    CLCONV_ALGO_TRANSPOSED_GATHER = 5,  /* a gather by stride phase, deterministic (GPUs) */
    CLCONV_ALGO_TRANSPOSED_VECTOR = 10, /* per stride phase, output channels in SIMD lanes (CPUs) */
    CLCONV_ALGO_TRANSPOSED_COLUMNS = 11, /* phase columns in SIMD lanes (CPUs, < 8 channels per group) */
    CLCONV_ALGO_TRANSPOSED_GEMM = 6,    /* SGEMM (CLBlast) + a col2im gather; F32 only */

    /* pooling, forward and backward (clconv_pool2d_plan_create ...) */
    CLCONV_ALGO_POOL = 4
} clconv_algorithm;

/* Name of an algorithm ("direct-tiled", ...). Never NULL. */
const char *clconv_algorithm_name(clconv_algorithm algo);

/* Optional knobs for plan creation. Zero-initialise, then set what you need;
 * a NULL pointer means all defaults. */
typedef struct clconv_plan_options {
    clconv_algorithm algorithm;  /* CLCONV_ALGO_AUTO or a specific one */
    /* Tile overrides for the direct kernels; 0 means "the device default".
     * Work-group = wg_w x wg_h x wg_oc items; each item computes
     * block_oc output channels x block_w output columns. */
    int wg_w, wg_h, wg_oc;
    int block_w, block_oc;
    int ci_chunk;                /* input channels staged per local-memory step */
    /* Nonzero with CLCONV_ALGO_AUTO (conv2d): "find" mode, as cuDNN's Find.
     * Plan creation compiles and times every applicable algorithm and tile
     * candidate once on this device (blocking; seconds on a CPU device), uses
     * the fastest, and records it in the context and in the tuning database
     * (clconv_context_tuning_db), under the layer and under its class
     * (window, stride, dilation, grouping and power-of-two buckets of batch,
     * channels and output size). Later AUTO plans on the same device and
     * driver use the layer's winner without timing, or, for a layer never
     * timed, the latest winner of its class. Candidates: the CPU kernels'
     * variants on a CPU device; on other devices the tiled and register
     * kernels over a grid of work-group shapes and register blocks, and the
     * GEMM and Winograd routes (CLCONV_FIND_SPACE=all searches both sets). */
    int find;
} clconv_plan_options;

/* What a plan chose. */
typedef struct clconv_plan_info {
    clconv_algorithm algorithm;
    clconv_shape input;          /* the input shape the plan was made for */
    clconv_shape output;         /* the output shape it produces */
    size_t workspace_bytes;      /* device workspace the run needs (0 = none) */
    size_t local_mem_bytes;      /* local memory per work-group */
    size_t global_size[3];       /* NDRange actually enqueued */
    size_t local_size[3];
    double flops;                /* floating-point operations per run (2 per multiply-add) */
    double bytes;                /* minimum bytes read + written per run */
    char kernel_name[64];
    char build_options[512];     /* the -D specialization the kernel was compiled with */
    size_t plan_device_bytes;    /* device memory the plan itself holds (packed weights) */
    /* Commands a run enqueues: its OpenCL kernels plus its CLBlast calls
     * (each of which may enqueue more than one kernel of its own), for a run
     * with weights; a run of prepared weights (w = NULL) skips the repack or
     * filter transform, one fewer. The epilogue (bias, residual, activation,
     * second output) never adds one. */
    unsigned kernels_per_run;
} clconv_plan_info;

/* Fills *info for a plan. */
clconv_status clconv_plan_get_info(const clconv_plan *plan, clconv_plan_info *info);

/* Destroys a plan (NULL is a no-op). Pending runs are not waited for: the
 * OpenCL runtime keeps the kernel alive until they finish. */
void clconv_plan_destroy(clconv_plan *plan);

/* ------------------------------------------------------------------------ */
/* 2-D convolution (F.conv2d)                                               */
/* ------------------------------------------------------------------------ */

/* The activation fused into the kernel that writes a convolution's output,
 * applied after the bias: y = act(conv + bias). Definitions, parameters and
 * NaN / inf behaviour are torch.nn.functional's (a = activation_params[0],
 * c = activation_params[1]):
 *   NONE         v
 *   RELU         v < 0 ? 0 : v (NaN passes: NaN < 0 is false)
 *   RELU6        min(max(v, 0), 6), NaN passes (F.relu6 = hardtanh(v, 0, 6))
 *   HARDTANH     min(max(v, a), c): F.hardtanh(min_val = a, max_val = c), a <= c
 *                (F.hardtanh's defaults -1, 1; clamp with the same bounds)
 *   LEAKY_RELU   v > 0 ? v : a * v: F.leaky_relu(negative_slope = a), default 0.01
 *   ELU          v > 0 ? v : a * (exp(v) - 1): F.elu(alpha = a), default 1
 *   SIGMOID      1 / (1 + exp(-v))
 *   TANH         tanh(v)
 *   SILU         v / (1 + exp(-v)) (so silu(-inf) is NaN, as PyTorch's)
 *   HARDSIGMOID  v <= -3 ? 0 : v >= 3 ? 1 : v / 6 + 1/2
 *   HARDSWISH    v <= -3 ? 0 : v >= 3 ? v : v * (v + 3) / 6
 *   GELU         v / 2 * (1 + erf(v / sqrt(2))) (F.gelu, approximate='none'; gelu(-inf) NaN)
 *   GELU_TANH    v / 2 * (1 + tanh(sqrt(2/pi) * (v + 0.044715 v^3))) (approximate='tanh')
 *   MISH         v * tanh(log(1 + exp(v))) (mish(-inf) NaN)
 * Parameters an activation does not take are ignored;
 * clconv_activation_default_params gives PyTorch's defaults. The CPU
 * reference (clconv_ref_activation) evaluates these formulas in double; the
 * device in float with OpenCL's built-ins, gelu as v/2 erfc(-v/sqrt(2)) and
 * gelu_tanh as v / (1 + exp(-2u)) (the same functions, in forms that
 * saturate exactly), within 8 ulp or 1e-6 of the reference; the sign of a
 * zero result may differ from PyTorch's. */
typedef enum clconv_activation {
    CLCONV_ACTIVATION_NONE = 0,
    CLCONV_ACTIVATION_RELU = 1,
    CLCONV_ACTIVATION_RELU6 = 2,
    CLCONV_ACTIVATION_HARDTANH = 3,
    CLCONV_ACTIVATION_LEAKY_RELU = 4,
    CLCONV_ACTIVATION_ELU = 5,
    CLCONV_ACTIVATION_SIGMOID = 6,
    CLCONV_ACTIVATION_TANH = 7,
    CLCONV_ACTIVATION_SILU = 8,
    CLCONV_ACTIVATION_HARDSIGMOID = 9,
    CLCONV_ACTIVATION_HARDSWISH = 10,
    CLCONV_ACTIVATION_GELU = 11,
    CLCONV_ACTIVATION_GELU_TANH = 12,
    CLCONV_ACTIVATION_MISH = 13
} clconv_activation;

/* "none", "relu", "relu6", "hardtanh", "leaky_relu", "elu", "sigmoid",
 * "tanh", "silu", "hardsigmoid", "hardswish", "gelu", "gelu_tanh", "mish";
 * "?" for a value outside the enum. */
const char *clconv_activation_name(clconv_activation activation);

/* The activation named name (as above; "clamp" is hardtanh, "swish" silu),
 * CLCONV_ERROR_INVALID_VALUE naming the choices for another name. */
clconv_status clconv_activation_from_name(const char *name, clconv_activation *activation);

/* PyTorch's default parameters of activation into params[0..1] (hardtanh
 * -1, 1; leaky_relu 0.01; elu 1; zeros for the others). */
void clconv_activation_default_params(clconv_activation activation, float params[2]);

/* Checks an activation and its parameters: CLCONV_ERROR_INVALID_VALUE for a
 * value outside the enum, a NaN or infinite slope / alpha, a NaN hardtanh
 * bound or min_val > max_val; the message names the parameter. */
clconv_status clconv_activation_validate(clconv_activation activation, const float params[2]);

/* The CPU reference of an activation on count host floats: y[i] = act(x[i])
 * evaluated in double and rounded once (y may be x). Errors as
 * clconv_activation_validate, CLCONV_ERROR_INVALID_VALUE for NULL arrays. */
clconv_status clconv_ref_activation(clconv_activation activation, const float params[2],
                                    size_t count, const float *x, float *y);

/* Which tensor an activation's gradient is computed from: its output y
 * (relu, relu6, hardtanh, sigmoid, tanh, leaky_relu with a slope >= 0, elu
 * with alpha > 0, none: y = act(x) tells act'(x)) or its input x, the
 * pre-activation (silu, hardsigmoid, hardswish, gelu, gelu_tanh, mish, and
 * leaky_relu / elu with other parameters). A convolution with a fused
 * activation of the first kind can go straight into training (its y is all
 * the backward needs); for the second kind run the convolution without the
 * activation (its y is the pre-activation) and the activation as an
 * elementwise plan (clconv_activation_run), keeping both tensors. */
typedef enum clconv_activation_grad_source {
    CLCONV_ACTIVATION_GRAD_FROM_OUTPUT = 0,
    CLCONV_ACTIVATION_GRAD_FROM_INPUT = 1
} clconv_activation_grad_source;
clconv_activation_grad_source clconv_activation_backward_source(clconv_activation activation,
                                                                const float params[2]);

/* An elementwise activation plan over tensors of `shape` (any layout):
 * clconv_activation_run applies it (the unfused epilogue, y may be x) and
 * clconv_activation_backward_run computes dx = dy * act'(v), v the tensor
 * clconv_activation_backward_source names (dx may be dy or v), with the
 * forms of PyTorch's backward kernels (so NaN in v passes dy where PyTorch's
 * does). Errors: as clconv_activation_validate, CLCONV_ERROR_INVALID_SHAPE,
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_activation_plan_create(clconv_context *ctx, clconv_activation activation,
                                            const float params[2], const clconv_shape *shape,
                                            clconv_plan **out);
/* The same with tensors of `dtype` (clconv_activation_plan_create is
 * CLCONV_DTYPE_F32): with F16 x, y, v, dy and dx are halves, each result
 * computed in float from the widened halves (and scale * dy) and rounded once
 * to nearest even, as the F16 epilogue does; the gradient of an F16
 * convolution's fused activation (mixed-precision training). A dtype outside
 * the enum is CLCONV_ERROR_INVALID_VALUE. */
clconv_status clconv_activation_plan_create_dtype(clconv_context *ctx,
                                                  clconv_activation activation,
                                                  const float params[2],
                                                  const clconv_shape *shape, clconv_dtype dtype,
                                                  clconv_plan **out);
clconv_status clconv_activation_run(clconv_plan *plan, cl_mem x, cl_mem y, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *done);
clconv_status clconv_activation_backward_run(clconv_plan *plan, cl_mem v, cl_mem dy, cl_mem dx,
                                             cl_uint num_wait, const cl_event *wait_list,
                                             cl_event *done);
/* dx = (scale * dy) * act'(v) in one pass (scale finite, else
 * CLCONV_ERROR_INVALID_VALUE; otherwise as clconv_activation_backward_run;
 * scale = 1 is that call exactly): the epilogue's dL/dconv = alpha * g and
 * dL/dz = beta * g, and with CLCONV_ACTIVATION_NONE plain scaling. */
clconv_status clconv_activation_backward_scaled_run(clconv_plan *plan, float scale, cl_mem v,
                                                    cl_mem dy, cl_mem dx, cl_uint num_wait,
                                                    const cl_event *wait_list, cl_event *done);

/* The CPU reference of the gradient: dx[i] = dy[i] * act'(v[i]) in double,
 * v as clconv_activation_backward_source says (dx may be dy or v). */
clconv_status clconv_ref_activation_backward(clconv_activation activation, const float params[2],
                                             size_t count, const float *v, const float *dy,
                                             float *dx);


/* Padding, one convention for every operator: zero padding given per side,
 * pad_top / pad_bottom / pad_left / pad_right in 2-D and pad_left /
 * pad_right in 1-D, so that asymmetric padding (padding='same' with an even
 * kernel, ONNX's pads, TensorFlow's SAME) is expressible everywhere.
 * PyTorch's padding=(ph, pw) is top = bottom = ph, left = right = pw
 * (conv1d's padding=p: left = right = p). Convolutions pad the input with
 * zeros; pooling pads virtually (a padded cell never wins a max);
 * conv_transpose2d's padding removes that many rows / columns from that side
 * of the full transposed output. */

/* Parameters of a 2-D convolution, named after F.conv2d's arguments.
 * NaN and inf follow IEEE arithmetic on the definition, F.conv2d(F.pad(x)):
 * a NaN in x reaches every output whose window holds it, a NaN in w or b
 * every output of its channel; inf * 0 is NaN, and a padded tap is a zero of
 * the padded input, so an inf weight makes NaN where its tap meets padding.
 * ReLU keeps NaN and maps -inf to 0. The same for every algorithm, except
 * that Winograd mixes the 4x4 input window of each 2x2 output tile: a
 * non-finite input may also make NaN the other outputs of the tiles whose
 * window holds it (outputs of tiles with finite windows are unaffected).
 * conv_transpose2d follows the same rules (no padded input there). */
typedef struct clconv_conv2d_params {
    int64_t in_channels;
    int64_t out_channels;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;                 /* >= 1 */
    int64_t pad_top, pad_bottom, pad_left, pad_right; /* >= 0, zero padding */
    int64_t dilation_h, dilation_w;             /* >= 1 */
    int64_t groups;                             /* divides in and out channels */
    int has_bias;                               /* nonzero: add bias[out_channel] */
    clconv_activation activation;               /* fused after the bias */
    float activation_params[2];                 /* its parameters (see clconv_activation) */
    /* The residual and the second output ("The epilogue" below). */
    int has_residual;                           /* nonzero: y = act(alpha * conv + beta * z + bias) */
    float alpha, beta;                          /* read only with has_residual */
    int pre_activation_output;                  /* nonzero: runs also write act's input to pre */
    clconv_dtype dtype;                         /* storage of x, w, b, y, z, pre (0 = F32) */
} clconv_conv2d_params;

/* Parameters with stride 1, no padding, dilation 1, groups 1, no bias,
 * no activation (activation_params zero), no residual (alpha = beta = 1,
 * so that setting has_residual alone gives ResNet's y = act(conv + z + b)),
 * no second output. */
clconv_conv2d_params clconv_conv2d_default_params(int64_t in_channels, int64_t out_channels,
                                                  int64_t kernel_h, int64_t kernel_w);

/* Sets the four paddings as PyTorch's padding='same' does: total padding
 * dilation*(kernel-1) per axis, the smaller half before, the larger after.
 * Errors: CLCONV_ERROR_INVALID_VALUE when a stride is not 1 (PyTorch refuses
 * 'same' with strides too) or the kernel/dilation are not in 1..2^30. */
clconv_status clconv_conv2d_set_same_padding(clconv_conv2d_params *params);

/* Checks params against an input shape without any device. Errors:
 * CLCONV_ERROR_INVALID_VALUE (bad parameter), CLCONV_ERROR_INVALID_SHAPE
 * (channel mismatch, no output, sizes beyond the limits above). */
clconv_status clconv_conv2d_validate(const clconv_conv2d_params *params, const clconv_shape *input);

/* The output shape: H_out = floor((H + pad_top + pad_bottom - dilation_h*(kernel_h-1) - 1)
 * / stride_h) + 1, likewise W. Validates first (see clconv_conv2d_validate). */
clconv_status clconv_conv2d_output_shape(const clconv_conv2d_params *params,
                                         const clconv_shape *input, clconv_shape *output);

/* The weight shape [out, in/groups, kh, kw] as a clconv_shape (n=out, c=in/groups). */
clconv_shape clconv_conv2d_weight_shape(const clconv_conv2d_params *params);

/* Makes a plan for params on inputs of exactly this shape: validates, picks
 * the algorithm (options->algorithm, or the best for the device), compiles the
 * kernel specialized with the kernel size, strides, dilations and tile sizes
 * as -D constants (through the program cache). options may be NULL.
 * CLCONV_ALGO_GEMM: a 1x1 convolution with stride 1 and no padding is one
 *   CLBlast SGEMM per image and group straight on x, w and y (no workspace);
 *   anything else is im2col into the workspace, then SGEMM. The workspace
 *   holds the columns of as many (image, group) pairs as fit in min(256 MiB,
 *   the device's largest allocation, the context's workspace limit),
 *   at least one; the pairs are processed in chunks of that many. Bias and
 *   ReLU are a small kernel after the GEMMs. Tile options are ignored.
 * CLCONV_ALGO_DIRECT_POINTWISE (CPU devices): a register-blocked GEMM with
 *   output pixels in SIMD lanes and the weights read as given (no repacking).
 *   1x1 unpadded stride-1 layers read x directly; any other layer reads a
 *   plan-owned copy of x made per run (padding made real, strides split into
 *   phases; info.plan_device_bytes) and runs each tap as a shifted 1x1 over
 *   rows widened by the columns the kernel reaches past the output. AUTO
 *   picks it on CPUs for layers with at least 4 output channels per group,
 *   2 input channels per group (or a 1x1 kernel) and at most a quarter of
 *   widened columns, unless Winograd takes the layer. Options: block_w =
 *   pixel vectors per work-item (1..8), block_oc = output channels per
 *   work-item (1..16). CLCONV_ERROR_UNSUPPORTED when the widened output has
 *   fewer than 4 pixels or the copy exceeds 32-bit indexing.
 * CLCONV_ALGO_DIRECT_BATCH (CPU devices): images in SIMD lanes. Each run
 *   copies x into a plan-owned buffer with 16 (8, 4 for small batches)
 *   images interleaved per pixel and the padding made real
 *   (info.plan_device_bytes); a work-item computes a few output channels x
 *   a few columns of one row for those images, every lane an output
 *   whatever the map or channel count. AUTO picks it on CPUs for batches
 *   that fill the lanes when the maps are too small for direct-pointwise's
 *   pixel lanes (LeNet: 64 images of 28x28 and 10x10 outputs). Options:
 *   block_w = output columns per work-item (1..8), block_oc = output
 *   channels per work-item (1..16). CLCONV_ERROR_UNSUPPORTED when the copy
 *   exceeds 32-bit indexing.
 * CLCONV_ALGO_DIRECT_DEPTHWISE_CHANNELS (CPU devices, depthwise layers: one
 *   input channel per group, any channel multiplier): output channels in
 *   SIMD lanes. A work-item gathers each input row it needs once (16
 *   channels' rows loaded as vectors and transposed in registers) into a
 *   private ring of the rows one output row reads, does one FMA per tap for
 *   16 channels, and transposes its output rows back; no copy, no plan
 *   buffer, weights read as given. Every map, window, stride and dilation
 *   takes the same path, so it serves what direct-depthwise's row path does
 *   not: AUTO picks it on CPUs for depthwise layers with windows over 3
 *   wide, dilation, or unequal / over-2 strides (5x5 and 7x7 layers:
 *   1.2 - 4x direct-depthwise). Options: block_w = output columns in
 *   registers (1..8), wg_h = output rows per work-item; block_oc is refused
 *   (the lanes are the channels). CLCONV_ERROR_UNSUPPORTED when the window's
 *   private rows exceed 1024 vectors (e.g. 40x40 windows with dilation 3).
 * dtype F16 (clconv_dtype): every algorithm but GEMM (CLBlast reads and
 * writes floats: CLCONV_ERROR_UNSUPPORTED, never AUTO's pick); Winograd
 * reads x and w as halves and writes y (z, pre) as halves, its transformed
 * tiles and filters stay float.
 * Errors: as clconv_conv2d_validate, CLCONV_ERROR_UNSUPPORTED (an algorithm
 * that cannot run this shape on this device, a tensor beyond the device
 * limits under "Size limits"), CLCONV_ERROR_BUILD_FAILED,
 * CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_plan_create(clconv_context *ctx, const clconv_conv2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out);

/* Whether `algorithm` can compute this layer: CLCONV_SUCCESS, or
 * CLCONV_ERROR_UNSUPPORTED with the reason in clconv_last_error(ctx) (e.g.
 * winograd needs 3x3 and stride 1, direct-depthwise one input
 * channel per group, direct-pointwise at least 4 pixels in its grid).
 * Checks the parameters first (clconv_conv2d_validate's errors); AUTO is
 * always supported. Compiles nothing and touches no device: a plan with that
 * algorithm can still fail on a device limit (local memory, work-group
 * size), which clconv_conv2d_plan_create reports. */
clconv_status clconv_conv2d_algorithm_supported(clconv_context *ctx,
                                                const clconv_conv2d_params *params,
                                                const clconv_shape *input,
                                                clconv_algorithm algorithm);

/* Enqueues the convolution on the context's queue: y = act(conv(x, w) + b).
 * x: input [n,c,h,w]; w: weights, or NULL to use the weights given to
 * clconv_conv2d_prepare; b: bias (NULL when the plan has no bias);
 * y: output; workspace: a buffer of at least info.workspace_bytes (NULL when 0).
 * Waits for wait_list, returns its completion in *done if done is not NULL
 * (the caller releases it). Does not block: no clFinish inside.
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL buffer, or a NULL workspace when
 * the plan needs one), CLCONV_ERROR_BUFFER_TOO_SMALL (a buffer or the
 * workspace), CLCONV_ERROR_WRONG_PLAN, CLCONV_ERROR_OPENCL, CLCONV_ERROR_CLBLAST. */
clconv_status clconv_conv2d_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                cl_mem workspace, cl_uint num_wait, const cl_event *wait_list,
                                cl_event *done);

/* Prepares constant weights (ACL's prepare(), XNNPACK's packing at create):
 * enqueues once whatever the plan's algorithm does to w on every run
 * (direct-vector repacks it into SIMD-lane order, Winograd transforms the
 * filters; the other algorithms read weights as given and the plan keeps a
 * copy), after wait_list; *done completes with it. Later runs pass w = NULL
 * and skip that step; they use the weights as they were when prepare ran
 * (changing w afterwards changes nothing until the next prepare). A run
 * that passes weights of its own works as always and replaces the prepared
 * ones (the next run with w = NULL fails with INVALID_VALUE until prepare is
 * called again).
 * Prepare may be called again with new weights at any time; on an
 * out-of-order queue it is ordered with the plan's runs ("Ordering" at
 * clconv_plan). Costs: the transformed weights live in the plan already
 * (info.plan_device_bytes); the copy of the others is w's size.
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL w, wait list), BUFFER_TOO_SMALL,
 * WRONG_PLAN, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *done);

/* Host-memory convenience: uploads x, w, b, makes a plan with options (may
 * be NULL), runs it and downloads into y (which holds
 * clconv_conv2d_output_shape elements). Blocks until done. b may be NULL
 * when params->has_bias is 0. Every *_host call takes the options of its
 * plan in the same place. */
clconv_status clconv_conv2d_host(clconv_context *ctx, const clconv_conv2d_params *params,
                                 const clconv_shape *input, const clconv_plan_options *options,
                                 const float *x, const float *w, const float *b, float *y);

/* ---- The epilogue: bias, residual, activation, second output ------------
 *
 * Every convolution (conv2d, conv1d, conv_transpose2d, conv_transpose1d, on
 * every algorithm) ends in the kernel that writes y with
 *
 *     s = alpha * conv(x, w) + beta * z + bias      (has_residual)
 *     s = conv(x, w) + bias                         (otherwise)
 *     y = act(s)                                    (activation, above)
 *     pre = s                                       (pre_activation_output)
 *
 * cuDNN's cudnnConvolutionBiasActivationForward with alpha1 = alpha and
 * alpha2 = beta: the residual add of a ResNet block (alpha = beta = 1), its
 * ReLU and the bias cost no extra pass over the tensor.
 *   - z: the residual, a tensor of y's shape, passed to clconv_conv_run. It
 *     may be y itself (in place: each output reads its z before writing it)
 *     but not x, w, b or pre (CLCONV_ERROR_INVALID_VALUE).
 *   - alpha, beta: any finite floats, read only with has_residual; both 0
 *     is refused as a zero-initialised struct (the defaults are 1, 1). beta
 *     multiplies z by IEEE arithmetic: beta = 0 still lets a NaN or inf in z
 *     through (0 * inf is NaN), unlike BLAS's beta = 0.
 *   - pre: with pre_activation_output, the run also writes s, the
 *     activation's input, into a second buffer of y's shape (not aliasing
 *     any other); this is the tensor an activation whose gradient needs its
 *     input (clconv_activation_backward_source) keeps for training.
 * Numerics: the device evaluates s in float in this order (alpha * conv,
 * plus beta * z, plus bias), the activation as above; the CPU reference in
 * double, rounded once; the conv bound of the tests covers the difference.
 * GEMM (conv2d): CLBlast's alpha scales the product and, for z = y, its beta
 * adds the residual; for z != y the bias kernel adds it (no extra kernel).
 * The gradient of the epilogue, for dy = dL/dy: g = dy * act'(s) (an
 * activation plan's clconv_activation_backward_run, or
 * clconv_activation_backward_scaled_run for a scale), then dL/dbias = the
 * backward-bias of g, dL/dz = beta * g and dL/dconv = alpha * g (what the
 * conv backward plans then take as their dy). */

/* A convolution run's buffers (zero-initialise, then set what the plan
 * needs): x, w (NULL: the prepared weights), b (the plan's bias or NULL),
 * y, workspace (NULL when info.workspace_bytes is 0) as in clconv_conv2d_run;
 * z the residual (plans with has_residual, else NULL); pre the second output
 * (plans with pre_activation_output, else NULL). */
typedef struct clconv_conv_buffers {
    cl_mem x, w, b, y, workspace;
    cl_mem z;
    cl_mem pre;
} clconv_conv_buffers;

/* Enqueues a run of any convolution plan (conv2d, conv1d, conv_transpose2d,
 * conv_transpose1d) with every buffer the epilogue can take; otherwise as
 * clconv_conv2d_run / clconv_conv_transpose2d_run (which refuse plans with
 * a residual or a second output: those need this call). Errors: as those,
 * and CLCONV_ERROR_INVALID_VALUE for a missing z or pre, a z or pre the plan
 * does not use, or a z / pre aliasing another buffer (z = y allowed);
 * CLCONV_ERROR_BUFFER_TOO_SMALL for a z or pre smaller than y. */
clconv_status clconv_conv_run(clconv_plan *plan, const clconv_conv_buffers *buffers,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *done);

/* Host-memory convenience with the epilogue's arrays: z (has_residual, y's
 * size; may be y) and pre (pre_activation_output, y's size); either NULL
 * when the parameters do not use it. Otherwise as clconv_conv2d_host. */
clconv_status clconv_conv2d_host_epilogue(clconv_context *ctx, const clconv_conv2d_params *params,
                                          const clconv_shape *input,
                                          const clconv_plan_options *options, const float *x,
                                          const float *w, const float *b, const float *z,
                                          float *y, float *pre);

/* ------------------------------------------------------------------------ */
/* 1-D convolution (F.conv1d): a 2-D convolution with H = 1                 */
/* ------------------------------------------------------------------------ */

/* Parameters of F.conv1d. Input [n, c, length], weights [out, in/groups, kernel]. */
typedef struct clconv_conv1d_params {
    int64_t in_channels, out_channels;
    int64_t kernel, stride, pad_left, pad_right, dilation, groups;
    int has_bias;
    clconv_activation activation;
    float activation_params[2];
    int has_residual;          /* the epilogue, as clconv_conv2d_params */
    float alpha, beta;
    int pre_activation_output;
    clconv_dtype dtype;        /* storage type (clconv_dtype; 0 = F32) */
} clconv_conv1d_params;

/* The equivalent 2-D parameters (kernel_h = 1, stride_h = 1, no vertical padding). */
clconv_conv2d_params clconv_conv1d_as_conv2d(const clconv_conv1d_params *params);

/* Output length of F.conv1d. Errors as clconv_conv2d_output_shape. */
clconv_status clconv_conv1d_output_length(const clconv_conv1d_params *params, int64_t length,
                                          int64_t *out_length);

/* A plan for inputs [n, in_channels, length]; run it with clconv_conv2d_run
 * on the same buffers (the memory layouts coincide), or with clconv_conv_run
 * when it has a residual or a second output. */
clconv_status clconv_conv1d_plan_create(clconv_context *ctx, const clconv_conv1d_params *params,
                                        int64_t n, int64_t length,
                                        const clconv_plan_options *options, clconv_plan **out);

/* Host-memory convenience for conv1d (options may be NULL). */
clconv_status clconv_conv1d_host(clconv_context *ctx, const clconv_conv1d_params *params,
                                 int64_t n, int64_t length, const clconv_plan_options *options,
                                 const float *x, const float *w, const float *b, float *y);
clconv_status clconv_conv1d_host_epilogue(clconv_context *ctx, const clconv_conv1d_params *params,
                                          int64_t n, int64_t length,
                                          const clconv_plan_options *options, const float *x,
                                          const float *w, const float *b, const float *z,
                                          float *y, float *pre);

/* ------------------------------------------------------------------------ */
/* 2-D pooling (F.max_pool2d, F.avg_pool2d, F.lp_pool2d, adaptive, global)  */
/* ------------------------------------------------------------------------ */

/* Which pooling F.* function a plan computes. Values start at 1 so that a
 * zero-initialised parameter struct is rejected, never silently max pooling. */
typedef enum clconv_pool_mode {
    CLCONV_POOL_MAX = 1,          /* F.max_pool2d (optionally with indices) */
    CLCONV_POOL_AVG = 2,          /* F.avg_pool2d */
    CLCONV_POOL_LP = 3,           /* F.lp_pool2d (power-average; p = 2 is L2 pooling) */
    CLCONV_POOL_ADAPTIVE_AVG = 4, /* F.adaptive_avg_pool2d (global: output 1x1) */
    CLCONV_POOL_ADAPTIVE_MAX = 5  /* F.adaptive_max_pool2d (optionally with indices) */
} clconv_pool_mode;

/* Parameters of a 2-D pooling, named after PyTorch's arguments. Channels are
 * pooled independently: the output has the input's n and c.
 *
 * Window modes (MAX, AVG, LP) use kernel, stride, padding, dilation, ceil_mode:
 *   out = floor((in + pad_begin + pad_end - dilation*(kernel-1) - 1
 *               + (ceil_mode ? stride-1 : 0)) / stride) + 1,
 *   and with ceil_mode, if (out-1)*stride >= in + pad_begin then out - 1 (the
 *   last window must start inside the input or the leading padding), as
 *   PyTorch's pooling_output_shape_pad_lr (begin = top / left, end = bottom /
 *   right). Padding is virtual, per side (asymmetric too, as ONNX's pads),
 *   each side at most kernel/2 (PyTorch's rule, which keeps an image cell in
 *   every window). A padded cell never wins a max; AVG with
 *   count_include_pad divides by the window clipped to the padded input.
 * Adaptive modes use only output_h/output_w: window i of an axis covers
 *   [floor(i*in/out), ceil((i+1)*in/out)).
 * Fields a mode does not use are ignored, except that AVG and LP refuse a
 * dilation other than 1, LP refuses padding, and only AVG takes a
 * divisor_override (PyTorch has none of these). */
typedef struct clconv_pool2d_params {
    clconv_pool_mode mode;
    int64_t kernel_h, kernel_w;     /* >= 1 (window modes) */
    int64_t stride_h, stride_w;     /* >= 1; PyTorch's stride=None is stride = kernel */
    int64_t pad_top, pad_bottom;    /* 0 <= pad <= kernel_h/2 each */
    int64_t pad_left, pad_right;    /* 0 <= pad <= kernel_w/2 each */
    int64_t dilation_h, dilation_w; /* >= 1; MAX only, 1 for AVG and LP */
    int ceil_mode;                  /* nonzero: ceil instead of floor in the output size */
    int count_include_pad;          /* AVG: nonzero divides by the window clipped to the padded
                                       input, zero by the in-image cells (PyTorch default: 1) */
    int64_t divisor_override;       /* AVG: 0 = none, else the divisor of every window */
    double norm_type;               /* LP: the power p (finite, nonzero); 2 = L2 pooling */
    int64_t output_h, output_w;     /* ADAPTIVE_*: the output size, >= 1 */
    clconv_dtype dtype;             /* storage of x and y, and of the backward pass's dy
                                       and dx (clconv_dtype; 0 = F32); indices stay int64.
                                       F16: both passes, every mode (sums in fp32, max
                                       exact); the *_host calls refuse it */
} clconv_pool2d_params;

/* Window-mode parameters as PyTorch's defaults: stride = kernel, no padding,
 * dilation 1, ceil_mode 0, count_include_pad 1, no divisor override,
 * norm_type 2. For the adaptive modes the two sizes are the output size. */
clconv_pool2d_params clconv_pool2d_default_params(clconv_pool_mode mode, int64_t kernel_h,
                                                  int64_t kernel_w);

/* Global pooling (F.adaptive_*_pool2d(x, 1)): mode CLCONV_POOL_MAX or
 * CLCONV_POOL_ADAPTIVE_MAX gives global max, anything else global average. */
clconv_pool2d_params clconv_pool2d_global_params(clconv_pool_mode mode);

/* Checks params against an input shape without any device. Errors:
 * CLCONV_ERROR_INVALID_VALUE (a bad parameter: kernel, stride, padding above
 * kernel/2, dilation, mode, norm_type, divisor_override, output size < 1),
 * CLCONV_ERROR_INVALID_SHAPE (a bad input shape, sizes beyond the limits
 * under "Size limits", or no output: the computed output size is < 1). The
 * message names the parameter, its value and the
 * expectation. */
clconv_status clconv_pool2d_validate(const clconv_pool2d_params *params, const clconv_shape *input);

/* The output shape [n, c, out_h, out_w] (formulas above). Validates first. */
clconv_status clconv_pool2d_output_shape(const clconv_pool2d_params *params,
                                         const clconv_shape *input, clconv_shape *output);

/* Makes a pooling plan (algorithm CLCONV_ALGO_POOL) for inputs of exactly this
 * shape. Of the options only algorithm (auto or pool), block_w (outputs per
 * work-item, 1..8) and wg_w (work-items per group, 1..1024) are used.
 * Max and avg pooling with a common window (square 2x2 or 3x3, stride 1 or 2,
 * no dilation) get a kernel specialized with -D constants; everything else
 * runs a kernel that takes the window as arguments, so odd shapes never
 * multiply compiled programs.
 * info.bytes is the input plus output bytes (a run that also writes indices
 * moves output elements * 8 bytes more); info.flops counts one operation per
 * window tap. Errors: as clconv_pool2d_validate, CLCONV_ERROR_UNSUPPORTED
 * (also a tensor beyond the device limits under "Size limits"),
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_pool2d_plan_create(clconv_context *ctx, const clconv_pool2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out);

/* Enqueues the pooling on the context's queue. x: input [n,c,h,w] floats;
 * y: output floats; indices: NULL, or (MAX and ADAPTIVE_MAX only) a buffer
 * of one cl_long (int64, as PyTorch) per output element receiving the argmax
 * as a flat index ih*w + iw within the input plane. As in PyTorch, a NaN in
 * the window wins (the last NaN in row-major order), ties keep the first
 * maximum, and a window of only -inf (or, with dilation, no in-image cell
 * at all) yields -inf with the index of its first in-image tap.
 * Waits for wait_list, returns its completion in *done if done is not NULL.
 * Does not block. Errors: CLCONV_ERROR_INVALID_VALUE (NULL or aliased buffer,
 * indices for a mode without them), CLCONV_ERROR_BUFFER_TOO_SMALL,
 * CLCONV_ERROR_WRONG_PLAN (not a pooling plan), CLCONV_ERROR_OPENCL. */
clconv_status clconv_pool2d_run(clconv_plan *plan, cl_mem x, cl_mem y, cl_mem indices,
                                cl_uint num_wait, const cl_event *wait_list, cl_event *done);

/* Host-memory convenience: uploads x, makes a plan with options (may be
 * NULL), runs it and downloads y (clconv_pool2d_output_shape elements) and,
 * when indices is not NULL (max modes only), the int64 argmax indices.
 * Blocks until done. */
clconv_status clconv_pool2d_host(clconv_context *ctx, const clconv_pool2d_params *params,
                                 const clconv_shape *input, const clconv_plan_options *options,
                                 const float *x, float *y, int64_t *indices);

/* CPU reference pooling on host arrays (same arguments as clconv_pool2d_host),
 * written as PyTorch's CPU kernels are: max and indices bit for bit, sums
 * accumulated in double. Errors: as clconv_pool2d_validate, and
 * CLCONV_ERROR_INVALID_VALUE for a NULL array or indices with a mode without them. */
clconv_status clconv_ref_pool2d(const clconv_pool2d_params *params, const clconv_shape *input,
                                const float *x, float *y, int64_t *indices);

/* ---- Pooling backward (the gradient with respect to the input) ---------- */

/* Makes a plan computing dx = d(pool(x))/dx^T dy for every pooling mode, as
 * PyTorch's backward does (max_pool2d_with_indices_backward,
 * avg_pool2d_backward, lp_pool2d's autograd graph,
 * adaptive_{avg,max}_pool2d_backward). params and input are the forward's
 * (input: the shape of x and dx); info.input / info.output are the forward's
 * input and output shapes, so dy has info.output's shape. Algorithm
 * CLCONV_ALGO_POOL: one work-item per input cell gathers the shares of the
 * windows covering it in row-major output order, without atomics: runs are
 * deterministic, and for max, avg and adaptive pooling the result is the
 * sum PyTorch's CPU scatter loop makes, in the same order (bit for bit for
 * max; for the averages where the device rounds float division correctly,
 * as PoCL does, OpenCL allowing others 2.5 ulp). Options: only
 * algorithm (auto or pool) and wg_w (work-items per group, 1..1024) are
 * used. One compiled program per mode whatever the window. info.flops
 * counts the forward's window taps, info.bytes dy plus dx. params->dtype
 * F16: dy, x and dx are halves (indices int64), each cell's sum a float in
 * the same order, rounded once when dx is stored (program option
 * -DCLCONV_F16). Errors: as clconv_pool2d_validate, CLCONV_ERROR_UNSUPPORTED,
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_pool2d_backward_plan_create(clconv_context *ctx,
                                                 const clconv_pool2d_params *params,
                                                 const clconv_shape *input,
                                                 const clconv_plan_options *options,
                                                 clconv_plan **out);

/* Enqueues the pooling gradient on the context's queue. dy: the gradient of
 * the forward output (info.output elements of params->dtype); dx: receives
 * the gradient of the input (info.input elements), every element written (0
 * where no window reaches), never accumulated into. What else a mode reads:
 *   MAX, ADAPTIVE_MAX: indices, the forward's int64 argmax (clconv_pool2d_run
 *     or PyTorch's return_indices), one per output; each window adds its dy
 *     to the cell its index names (overlapping windows accumulate). An index
 *     that names no cell of its window's span (never produced by a forward)
 *     adds nothing. With indices NULL, x (the forward input) is given
 *     instead and the argmax is recomputed from it with the forward's rules
 *     (NaN wins, ties keep the first). When both are given x is ignored.
 *   AVG, ADAPTIVE_AVG: nothing; each window adds dy / divisor to each of its
 *     in-image cells, the divisor exactly the forward's (count_include_pad,
 *     ceil_mode border windows, divisor_override; adaptive: dy / kh / kw).
 *     x is ignored (may be NULL).
 *   LP: x, the forward input. With a = the mean of x^p over the window (the
 *     forward's clipped window), t = a * kernel_h * kernel_w and y = t^(1/p):
 *     dx = p * x^(p-1) * sum over windows of dy * (1/p) * t^(1/p - 1) *
 *     kernel_h * kernel_w / window cells, and a window with a == 0 adds
 *     nothing (the gradient of relu at 0, as autograd). Negative bases to
 *     fractional powers give NaN as in PyTorch.
 * Waits for wait_list; *done (if not NULL) completes with the run. Does not
 * block. Errors: CLCONV_ERROR_INVALID_VALUE (dy or dx NULL, indices for a
 * mode without them, x missing where needed, dx the same buffer as another),
 * CLCONV_ERROR_BUFFER_TOO_SMALL, CLCONV_ERROR_WRONG_PLAN (not a pooling
 * backward plan), CLCONV_ERROR_OPENCL. */
clconv_status clconv_pool2d_backward_run(clconv_plan *plan, cl_mem dy, cl_mem indices, cl_mem x,
                                         cl_mem dx, cl_uint num_wait, const cl_event *wait_list,
                                         cl_event *done);

/* Host-memory convenience: uploads dy (and indices / x as the mode needs
 * them, same rules as clconv_pool2d_backward_run), makes a plan, runs it and
 * downloads dx (clconv_shape_elements(*input) floats). Blocks until done.
 * Float arrays only: params->dtype F16 is CLCONV_ERROR_INVALID_VALUE (use
 * the plan on device buffers). */
clconv_status clconv_pool2d_backward_host(clconv_context *ctx, const clconv_pool2d_params *params,
                                          const clconv_shape *input,
                                          const clconv_plan_options *options, const float *dy,
                                          const int64_t *indices, const float *x, float *dx);

/* CPU reference pooling gradient on host arrays (same arguments and rules as
 * clconv_pool2d_backward_host), written in scatter form as PyTorch's CPU
 * kernels: max, avg and adaptive accumulate in float in PyTorch's order (its
 * result bit for bit); lp sums the window shares in double. Errors: as
 * clconv_pool2d_validate, CLCONV_ERROR_INVALID_VALUE for a missing or
 * unexpected array, CLCONV_ERROR_OUT_OF_HOST_MEMORY. */
clconv_status clconv_ref_pool2d_backward(const clconv_pool2d_params *params,
                                         const clconv_shape *input, const float *dy,
                                         const int64_t *indices, const float *x, float *dx);

/* ------------------------------------------------------------------------ */
/* Transposed 2-D convolution (F.conv_transpose2d)                          */
/* ------------------------------------------------------------------------ */

/* Parameters of F.conv_transpose2d (the gradient of conv2d with respect to its
 * input, a.k.a. "deconvolution"). Weights are [in_channels, out_channels/groups,
 * kernel_h, kernel_w] as in PyTorch; bias is one value per output channel.
 * Padding removes pad_top rows from the top of the full transposed output,
 * pad_bottom from its bottom, likewise left / right (PyTorch's padding=p is
 * p on both sides; asymmetric padding is ONNX ConvTranspose's pads);
 * output_padding adds rows / columns on the bottom / right and must be
 * smaller than max(stride, dilation) on its axis, exactly PyTorch's rule. */
typedef struct clconv_conv_transpose2d_params {
    int64_t in_channels;
    int64_t out_channels;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;                 /* >= 1 */
    int64_t pad_top, pad_bottom, pad_left, pad_right; /* >= 0 */
    int64_t output_padding_h, output_padding_w; /* >= 0, < max(stride, dilation) per axis */
    int64_t dilation_h, dilation_w;             /* >= 1 */
    int64_t groups;                             /* divides in and out channels */
    int has_bias;                               /* nonzero: add bias[out_channel] */
    clconv_activation activation;               /* fused after the bias */
    float activation_params[2];                 /* its parameters (see clconv_activation) */
    int has_residual;                           /* the epilogue, as clconv_conv2d_params */
    float alpha, beta;
    int pre_activation_output;
    clconv_dtype dtype;        /* storage type (clconv_dtype; 0 = F32) */
} clconv_conv_transpose2d_params;

/* Parameters with stride 1, no padding, no output padding, dilation 1,
 * groups 1, no bias, no activation, no residual (alpha = beta = 1), no
 * second output. */
clconv_conv_transpose2d_params clconv_conv_transpose2d_default_params(int64_t in_channels,
                                                                      int64_t out_channels,
                                                                      int64_t kernel_h,
                                                                      int64_t kernel_w);

/* Checks params against an input shape without any device. Errors:
 * CLCONV_ERROR_INVALID_VALUE (bad parameter, output_padding >= max(stride,
 * dilation), groups not dividing the channels), CLCONV_ERROR_INVALID_SHAPE
 * (channel mismatch, no output, sizes beyond the limits under "Size limits"). */
clconv_status clconv_conv_transpose2d_validate(const clconv_conv_transpose2d_params *params,
                                               const clconv_shape *input);

/* The output shape: H_out = (H-1)*stride_h - pad_top - pad_bottom
 * + dilation_h*(kernel_h-1) + output_padding_h + 1, likewise W; C_out = out_channels. Validates first. */
clconv_status clconv_conv_transpose2d_output_shape(const clconv_conv_transpose2d_params *params,
                                                   const clconv_shape *input,
                                                   clconv_shape *output);

/* The weight shape [in, out/groups, kh, kw] as a clconv_shape (n=in, c=out/groups). */
clconv_shape clconv_conv_transpose2d_weight_shape(const clconv_conv_transpose2d_params *params);

/* Batch-norm folding (PyTorch's torch.nn.utils.fuse_conv_bn_eval): the
 * weights and bias of a convolution followed by BatchNorm2d in eval mode,
 * y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta per output channel,
 * as one convolution: w' = w * s, b' = (b - mean) * s + beta with
 * s = gamma / sqrt(var + eps), computed in double and rounded once.
 * w_out (the weight shape) and b_out (out_channels floats) receive them and
 * may be w and b (in place); b may be NULL (no bias: 0), and the folded
 * layer always has one (set has_bias). gamma, beta, mean, var: out_channels
 * floats each (gamma / beta NULL: BatchNorm's affine=False, 1 / 0).
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL arrays, eps < 0 or not finite, a
 * var + eps that is not > 0, naming the channel), and params' own checks. */
clconv_status clconv_conv2d_fold_batchnorm(const clconv_conv2d_params *params, const float *w,
                                           const float *b, const float *gamma,
                                           const float *beta, const float *mean,
                                           const float *var, double eps, float *w_out,
                                           float *b_out);

/* The same for conv_transpose2d followed by BatchNorm2d: weights
 * [in, out/groups, kh, kw], so the scale of output channel g * out/groups + j
 * applies to w[ci][j] for the input channels ci of group g (every group
 * count; PyTorch's fuse_conv_bn_weights(transpose=True) handles groups = 1). */
clconv_status clconv_conv_transpose2d_fold_batchnorm(const clconv_conv_transpose2d_params *params,
                                                     const float *w, const float *b,
                                                     const float *gamma, const float *beta,
                                                     const float *mean, const float *var,
                                                     double eps, float *w_out, float *b_out);

/* Makes a plan for params on inputs of exactly this shape. Algorithms:
 *   CLCONV_ALGO_TRANSPOSED_GATHER: one kernel; each work-group computes one
 *     stride phase (oh % stride_h, ow % stride_w) of a block of output rows,
 *     columns and channels, so every work-item of it uses the same kernel
 *     taps; each output sums exactly the inputs that reach it, in a fixed
 *     order (no atomics): results are identical from run to run. No workspace.
 *   CLCONV_ALGO_TRANSPOSED_GEMM: per image and group, CLBlast SGEMM
 *     cols[Cout/g*kh*kw, H*W] = W_g^T x X_g into the workspace, then a
 *     deterministic gather col2im kernel that adds bias and activation.
 *     Needs info.workspace_bytes of workspace (columns of as many images as
 *     fit in min(256 MiB, the device's largest allocation,
 *     the context's workspace limit: clconv_context_options), at least one; the
 *     images are processed in chunks of that many).
 *   CLCONV_ALGO_TRANSPOSED_VECTOR (CPU devices): per stride phase, each
 *     work-item computes 4, 8 or 16 output channels as one SIMD vector for
 *     a block of up to 16 outputs of the phase; the weights are repacked
 *     into a buffer of the plan on every run (info.plan_device_bytes;
 *     runs of one plan are ordered, also on out-of-order queues: see
 *     "Ordering" at clconv_plan). Sums
 *     exactly the pairs that reach an output (an infinite weight or input
 *     never meets a padding zero), in a fixed order. No workspace.
 *   CLCONV_ALGO_TRANSPOSED_COLUMNS (CPU devices, few output channels per
 *     group): the same with 4, 8 or 16 neighbouring columns of a phase as
 *     the vector, up to 16 channels per work-item; weights read as given.
 *   CLCONV_ALGO_AUTO picks VECTOR on CPU devices (COLUMNS when a group has
 *     fewer than 8 output channels; the README's performance section has
 *     the measurements) and GATHER elsewhere (no workspace, no CLBlast
 *     compilation, deterministic); ask for GEMM explicitly when it pays.
 * Options: wg_w, wg_h, block_w, block_oc override the gather tile (0 =
 * default); wg_oc and ci_chunk must be 0 or 1 (there is no channel lane).
 * VECTOR takes block_oc 0, 4, 8 or 16 (channels per vector), block_w 1..16
 * (phase columns per work-item), wg_h (work-items per group along the rows)
 * and ignores wg_w; COLUMNS takes block_oc 1..16 (channels per work-item),
 * block_w 1..4 (vectors of columns per work-item), wg_h, and ignores wg_w.
 * dtype F16 (clconv_dtype): GATHER, VECTOR and COLUMNS (x, w, b, y, z, pre
 * halves; the sums and VECTOR's packed weights float); GEMM refuses it
 * with CLCONV_ERROR_UNSUPPORTED, and AUTO never picks it for an F16 layer.
 * Errors: as clconv_conv_transpose2d_validate, CLCONV_ERROR_UNSUPPORTED
 * (also a tensor beyond the device limits under "Size limits"),
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv_transpose2d_plan_create(clconv_context *ctx,
                                                  const clconv_conv_transpose2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_plan_options *options,
                                                  clconv_plan **out);

/* Enqueues y = act(conv_transpose2d(x, w) + b) on the context's queue.
 * x: input; w: weights [in, out/groups, kh, kw] (NULL: the prepared ones,
 * see clconv_conv_transpose2d_prepare); b: bias (NULL when the plan has none); y: output; workspace: at least info.workspace_bytes (NULL when
 * that is 0). Waits for wait_list; *done (if not NULL) completes with the
 * whole operation (the caller releases it). Does not block.
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL or aliased buffer),
 * CLCONV_ERROR_BUFFER_TOO_SMALL (a buffer or the workspace),
 * CLCONV_ERROR_WRONG_PLAN, CLCONV_ERROR_OPENCL, CLCONV_ERROR_CLBLAST. */
clconv_status clconv_conv_transpose2d_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                          cl_mem y, cl_mem workspace, cl_uint num_wait,
                                          const cl_event *wait_list, cl_event *done);

/* clconv_conv2d_algorithm_supported for conv_transpose2d (its four
 * algorithms cover every valid layer; other values are UNSUPPORTED). */
clconv_status clconv_conv_transpose2d_algorithm_supported(
    clconv_context *ctx, const clconv_conv_transpose2d_params *params, const clconv_shape *input,
    clconv_algorithm algorithm);

/* clconv_conv2d_prepare for conv_transpose2d / conv_transpose1d plans
 * (transposed-vector repacks the weights once; the others keep a copy);
 * runs then take w = NULL. */
clconv_status clconv_conv_transpose2d_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done);

/* Host-memory convenience (allocates the workspace when the plan needs one).
 * options may be NULL. y holds clconv_conv_transpose2d_output_shape elements.
 * Blocks until done. */
clconv_status clconv_conv_transpose2d_host(clconv_context *ctx,
                                           const clconv_conv_transpose2d_params *params,
                                           const clconv_shape *input,
                                           const clconv_plan_options *options, const float *x,
                                           const float *w, const float *b, float *y);

/* The same with the epilogue's arrays (as clconv_conv2d_host_epilogue). */
clconv_status clconv_conv_transpose2d_host_epilogue(
    clconv_context *ctx, const clconv_conv_transpose2d_params *params, const clconv_shape *input,
    const clconv_plan_options *options, const float *x, const float *w, const float *b,
    const float *z, float *y, float *pre);

/* Parameters of F.conv_transpose1d. Input [n, c, length], weights
 * [in, out/groups, kernel]. */
typedef struct clconv_conv_transpose1d_params {
    int64_t in_channels, out_channels;
    int64_t kernel, stride, pad_left, pad_right, output_padding, dilation, groups;
    int has_bias;
    clconv_activation activation;
    float activation_params[2];
    int has_residual;          /* the epilogue, as clconv_conv2d_params */
    float alpha, beta;
    int pre_activation_output;
    clconv_dtype dtype;        /* storage type (clconv_dtype; 0 = F32) */
} clconv_conv_transpose1d_params;

/* The equivalent 2-D parameters (kernel_h = 1, stride_h = 1, no vertical padding). */
clconv_conv_transpose2d_params
clconv_conv_transpose1d_as_conv_transpose2d(const clconv_conv_transpose1d_params *params);

/* Output length of F.conv_transpose1d. Errors as clconv_conv_transpose2d_output_shape. */
clconv_status clconv_conv_transpose1d_output_length(const clconv_conv_transpose1d_params *params,
                                                    int64_t length, int64_t *out_length);

/* A plan for inputs [n, in_channels, length]; run it with
 * clconv_conv_transpose2d_run (the memory layouts coincide), or with
 * clconv_conv_run when it has a residual or a second output. */
clconv_status clconv_conv_transpose1d_plan_create(clconv_context *ctx,
                                                  const clconv_conv_transpose1d_params *params,
                                                  int64_t n, int64_t length,
                                                  const clconv_plan_options *options,
                                                  clconv_plan **out);

/* Host-memory convenience for conv_transpose1d (options may be NULL). */
clconv_status clconv_conv_transpose1d_host(clconv_context *ctx,
                                           const clconv_conv_transpose1d_params *params,
                                           int64_t n, int64_t length,
                                           const clconv_plan_options *options, const float *x,
                                           const float *w, const float *b, float *y);
clconv_status clconv_conv_transpose1d_host_epilogue(
    clconv_context *ctx, const clconv_conv_transpose1d_params *params, int64_t n, int64_t length,
    const clconv_plan_options *options, const float *x, const float *w, const float *b,
    const float *z, float *y, float *pre);

/* Reference F.conv_transpose2d on host arrays, written in scatter form (each
 * input value spreads into the outputs it reaches), accumulated in double.
 * Errors: as clconv_conv_transpose2d_validate, CLCONV_ERROR_INVALID_VALUE for a
 * NULL array, CLCONV_ERROR_OUT_OF_HOST_MEMORY. */
clconv_status clconv_ref_conv_transpose2d(const clconv_conv_transpose2d_params *params,
                                          const clconv_shape *input, const float *x,
                                          const float *w, const float *b, float *y);

/* Reference F.conv_transpose1d. */
clconv_status clconv_ref_conv_transpose1d(const clconv_conv_transpose1d_params *params, int64_t n,
                                          int64_t length, const float *x, const float *w,
                                          const float *b, float *y);

/* The transposed references with the epilogue's arrays (as
 * clconv_ref_conv2d_epilogue). */
clconv_status clconv_ref_conv_transpose2d_epilogue(const clconv_conv_transpose2d_params *params,
                                                   const clconv_shape *input, const float *x,
                                                   const float *w, const float *b,
                                                   const float *z, float *y, float *pre);
clconv_status clconv_ref_conv_transpose1d_epilogue(const clconv_conv_transpose1d_params *params,
                                                   int64_t n, int64_t length, const float *x,
                                                   const float *w, const float *b,
                                                   const float *z, float *y, float *pre);

/* ------------------------------------------------------------------------ */
/* CPU reference path: plain loops, double accumulation, no device          */
/* ------------------------------------------------------------------------ */

/* Reference F.conv2d on host arrays (same arguments as clconv_conv2d_host).
 * Errors: as clconv_conv2d_validate, and CLCONV_ERROR_INVALID_VALUE for a NULL array. */
clconv_status clconv_ref_conv2d(const clconv_conv2d_params *params, const clconv_shape *input,
                                const float *x, const float *w, const float *b, float *y);

/* Reference F.conv1d. */
clconv_status clconv_ref_conv1d(const clconv_conv1d_params *params, int64_t n, int64_t length,
                                const float *x, const float *w, const float *b, float *y);

/* The references with the epilogue's arrays: z (has_residual) and pre
 * (pre_activation_output; may be NULL even then), as the *_host_epilogue
 * calls. The calls without z refuse parameters with has_residual. */
clconv_status clconv_ref_conv2d_epilogue(const clconv_conv2d_params *params,
                                         const clconv_shape *input, const float *x,
                                         const float *w, const float *b, const float *z,
                                         float *y, float *pre);
clconv_status clconv_ref_conv1d_epilogue(const clconv_conv1d_params *params, int64_t n,
                                         int64_t length, const float *x, const float *w,
                                         const float *b, const float *z, float *y, float *pre);

/* ------------------------------------------------------------------------ */
/* Training: conv2d backward passes and ReLU backward                       */
/* ------------------------------------------------------------------------ */

/* The gradients of y = conv2d(x, w) + b (clconv_conv2d_params, input shape
 * [n, c, h, w], output shape as clconv_conv2d_output_shape) for a loss L,
 * given dy = dL/dy:
 *   backward-data     dx = dL/dx, the shape of x (torch.nn.grad.conv2d_input);
 *   backward-weights  dw = dL/dw, the shape of w (torch.nn.grad.conv2d_weight);
 *   backward-bias     db = dL/db, out_channels elements (dy summed over n, h, w).
 * Every stride, padding (asymmetric too), dilation and group count of the
 * forward pass is supported. All three are deterministic: fixed-order sums,
 * no atomics, the same bytes on every run of a plan. They ignore
 * params->has_bias and params->activation: with a fused activation, first
 * turn the gradient of the activated output into the gradient of the
 * convolution, with clconv_relu_backward_run(y, dy) for ReLU or an
 * activation plan's clconv_activation_backward_run for any (from the
 * forward output y, or from the pre-activation where
 * clconv_activation_backward_source says so), then run backward-data /
 * weights / bias on that.
 * Runs only enqueue (wait list in, *done out when done is not NULL, which the
 * caller releases), as clconv_conv2d_run.
 * NaN and inf follow IEEE arithmetic on PyTorch's definitions, as the
 * forward pass: dx sums dy * w over the (output, tap) pairs that reach an
 * input cell (taps in the padding reach none); dw sums dy * xpad over every
 * tap, xpad the zero-padded input, so a tap in the padding adds dy * 0,
 * which is NaN for an inf or NaN dy (0 * w in the forward); db sums dy. */

/* A backward-data plan. It is a transposed-convolution plan with the same
 * weights, stride, dilation, groups and padding pad_top / pad_left, whose
 * output is cut to the input shape (what PyTorch does by choosing
 * output_padding). options: algorithm auto (as clconv_conv_transpose2d_plan_create:
 * transposed-vector / -columns on CPU devices, else transposed-gather; no
 * workspace) or CLCONV_ALGO_TRANSPOSED_GATHER / _VECTOR / _COLUMNS / _GEMM,
 * and the tile overrides of clconv_conv_transpose2d_plan_create. info.input is dy's shape,
 * info.output dx's (= input). params->dtype F16 is passed on to the
 * transposed-convolution plan: CLCONV_ERROR_UNSUPPORTED (naming f16) while
 * its algorithms take f32 only. Errors: as clconv_conv2d_validate,
 * CLCONV_ERROR_UNSUPPORTED (another algorithm, tensors beyond 2^31 elements),
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_backward_data_plan_create(clconv_context *ctx,
                                                      const clconv_conv2d_params *params,
                                                      const clconv_shape *input,
                                                      const clconv_plan_options *options,
                                                      clconv_plan **out);

/* Enqueues dx = conv2d_backward_data(dy, w). dy: [n, out_channels, oh, ow];
 * w: the forward weights [out, in/groups, kh, kw]; dx: [n, c, h, w], every
 * element written (overwritten, not accumulated); workspace: at least
 * info.workspace_bytes (NULL when 0, always with auto). dy, w and dx are of
 * the plan's dtype (F16: halves, sizes checked in 2-byte elements).
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL buffer, dx the same as dy or w),
 * CLCONV_ERROR_BUFFER_TOO_SMALL (message names dy, w, dx or workspace),
 * CLCONV_ERROR_WRONG_PLAN, CLCONV_ERROR_OPENCL, CLCONV_ERROR_CLBLAST. */
clconv_status clconv_conv2d_backward_data_run(clconv_plan *plan, cl_mem dy, cl_mem w, cl_mem dx,
                                              cl_mem workspace, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done);

/* Host-memory backward-data (options may be NULL). Blocks until done.
 * Float arrays only: params->dtype F16 is CLCONV_ERROR_INVALID_VALUE. */
clconv_status clconv_conv2d_backward_data_host(clconv_context *ctx,
                                               const clconv_conv2d_params *params,
                                               const clconv_shape *input,
                                               const clconv_plan_options *options,
                                               const float *dy, const float *w, float *dx);

/* A backward-weights plan. Each work-item owns a register block of output
 * channels (by default up to 8, and at most 32 accumulators) x kernel_w taps
 * of one (input channel, kernel row) and sums
 * dy * x over a contiguous chunk of the (image, output row) pairs, output
 * columns ascending. With more than one chunk ("split", chosen from the
 * shape and device so that there are enough work-items) the chunks' partial
 * sums go to the workspace and a second kernel adds them in chunk order:
 * info.workspace_bytes = splits * weight elements * 4 (0 with one chunk),
 * capped by min(256 MiB, the largest allocation, the context's workspace limit).
 * params->dtype F16: x, dy and dw are halves; the accumulators and the
 * workspace stay float, and each dw element is rounded once when stored.
 * info.algorithm is CLCONV_ALGO_DIRECT_REGISTER; info.input is x's shape,
 * info.output the weight shape. options: algorithm auto or direct-register,
 * block_oc (channels per work-item, 1..16) and wg_w (work-group size) override
 * the defaults; other fields are ignored. Errors: as clconv_conv2d_validate,
 * CLCONV_ERROR_UNSUPPORTED (another algorithm, kernel_w > 64, tensors beyond
 * 2^31 elements), CLCONV_ERROR_INVALID_VALUE (options out of range),
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_backward_weights_plan_create(clconv_context *ctx,
                                                         const clconv_conv2d_params *params,
                                                         const clconv_shape *input,
                                                         const clconv_plan_options *options,
                                                         clconv_plan **out);

/* Enqueues dw = conv2d_backward_weights(x, dy). x: the forward input;
 * dy: [n, out_channels, oh, ow]; dw: [out, in/groups, kh, kw], overwritten;
 * workspace: at least info.workspace_bytes (NULL when 0).
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL buffer, dw or the workspace the
 * same as another buffer), CLCONV_ERROR_BUFFER_TOO_SMALL (names x, dy, dw or
 * workspace), CLCONV_ERROR_WRONG_PLAN, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_backward_weights_run(clconv_plan *plan, cl_mem x, cl_mem dy,
                                                 cl_mem dw, cl_mem workspace, cl_uint num_wait,
                                                 const cl_event *wait_list, cl_event *done);

/* Host-memory backward-weights (options may be NULL). Blocks until done.
 * Float arrays only: params->dtype F16 is CLCONV_ERROR_INVALID_VALUE. */
clconv_status clconv_conv2d_backward_weights_host(clconv_context *ctx,
                                                  const clconv_conv2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_plan_options *options,
                                                  const float *x, const float *dy, float *dw);

/* A backward-bias plan: one work-group per output channel; each work-item
 * sums a fixed stride of the channel's dy values in order, then a fixed
 * local-memory tree adds the work-items' sums. info.input is dy's shape,
 * info.output [1, out_channels, 1, 1]. params->dtype F16: dy and db are
 * halves, the sums and the tree float, each db rounded once when stored.
 * options: NULL or algorithm auto /
 * direct-register. Errors: as clconv_conv2d_validate, CLCONV_ERROR_UNSUPPORTED,
 * CLCONV_ERROR_BUILD_FAILED, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_backward_bias_plan_create(clconv_context *ctx,
                                                      const clconv_conv2d_params *params,
                                                      const clconv_shape *input,
                                                      const clconv_plan_options *options,
                                                      clconv_plan **out);

/* Enqueues db[oc] = sum of dy[:, oc, :, :]; db holds out_channels elements
 * of params->dtype (overwritten). Errors: CLCONV_ERROR_INVALID_VALUE (NULL buffer, db == dy),
 * CLCONV_ERROR_BUFFER_TOO_SMALL, CLCONV_ERROR_WRONG_PLAN, CLCONV_ERROR_OPENCL. */
clconv_status clconv_conv2d_backward_bias_run(clconv_plan *plan, cl_mem dy, cl_mem db,
                                              cl_uint num_wait, const cl_event *wait_list,
                                              cl_event *done);

/* Host-memory backward-bias (options may be NULL). Blocks until done.
 * Float arrays only: params->dtype F16 is CLCONV_ERROR_INVALID_VALUE. */
clconv_status clconv_conv2d_backward_bias_host(clconv_context *ctx,
                                               const clconv_conv2d_params *params,
                                               const clconv_shape *input,
                                               const clconv_plan_options *options,
                                               const float *dy, float *db);

/* A ReLU-backward plan for tensors of this shape (any layout: it is
 * elementwise over shape's element count; info.algorithm is
 * CLCONV_ALGO_AUTO, there is nothing to choose). Errors: CLCONV_ERROR_INVALID_VALUE
 * (NULL), CLCONV_ERROR_INVALID_SHAPE (a dimension < 1), CLCONV_ERROR_OPENCL. */
clconv_status clconv_relu_backward_plan_create(clconv_context *ctx, const clconv_shape *shape,
                                               clconv_plan **out);

/* Enqueues dx = y <= 0 ? 0 : dy elementwise, PyTorch's threshold_backward:
 * y is the ReLU's output (a fused-ReLU conv2d's y; its pre-activation gives
 * the same result), so a NaN in y passes dy and a NaN in dy where y <= 0
 * gives 0. dx may be the same buffer as dy or y (in place).
 * Errors: CLCONV_ERROR_INVALID_VALUE (NULL buffer),
 * CLCONV_ERROR_BUFFER_TOO_SMALL, CLCONV_ERROR_WRONG_PLAN, CLCONV_ERROR_OPENCL. */
clconv_status clconv_relu_backward_run(clconv_plan *plan, cl_mem y, cl_mem dy, cl_mem dx,
                                       cl_uint num_wait, const cl_event *wait_list,
                                       cl_event *done);

/* Host-memory ReLU backward. Blocks until done. */
clconv_status clconv_relu_backward_host(clconv_context *ctx, const clconv_shape *shape,
                                        const float *y, const float *dy, float *dx);

/* CPU references on host arrays (plain loops over the forward index map,
 * double accumulation; same arguments as the *_host calls). Errors: as
 * clconv_conv2d_validate, CLCONV_ERROR_INVALID_VALUE for a NULL array,
 * CLCONV_ERROR_OUT_OF_HOST_MEMORY (backward-data's double accumulator). */
clconv_status clconv_ref_conv2d_backward_data(const clconv_conv2d_params *params,
                                              const clconv_shape *input, const float *dy,
                                              const float *w, float *dx);
clconv_status clconv_ref_conv2d_backward_weights(const clconv_conv2d_params *params,
                                                 const clconv_shape *input, const float *x,
                                                 const float *dy, float *dw);
clconv_status clconv_ref_conv2d_backward_bias(const clconv_conv2d_params *params,
                                              const clconv_shape *input, const float *dy,
                                              float *db);
/* dx = y <= 0 ? 0 : dy over count elements. */
clconv_status clconv_ref_relu_backward(size_t count, const float *y, const float *dy, float *dx);

#ifdef __cplusplus
}
#endif

#endif /* CLCONV_H */
