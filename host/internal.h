/* Internal declarations shared by the host files of libclconv. Not installed. */
#ifndef CLCONV_INTERNAL_H
#define CLCONV_INTERNAL_H

#include "clconv.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#if defined(__GNUC__)
#define CLCONV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLCONV_PRINTF(f, a)
#endif

/* ---- errors (error.c) ---------------------------------------------------- */

/* Records a message for the calling thread and, when ctx is not NULL, for the
 * context, and returns status so callers can `return clconv_fail(...)`. */
clconv_status clconv_fail(clconv_context *ctx, clconv_status status, const char *fmt, ...)
    CLCONV_PRINTF(3, 4);

/* Same for an OpenCL error: "what failed: CL_xxx (code)". */
clconv_status clconv_fail_cl(clconv_context *ctx, cl_int err, const char *what);

/* Records a message that may be long (build logs). */
clconv_status clconv_fail_long(clconv_context *ctx, clconv_status status, const char *head,
                               const char *body);

/* Name of an OpenCL error code ("CL_INVALID_VALUE"). */
const char *clconv_cl_error_name(cl_int err);

/* ---- storage types (dtype.c) ---------------------------------------------- */

/* INVALID_VALUE naming dtype unless it is one of clconv_dtype's values. */
clconv_status clconv_dtype_check(clconv_context *ctx, clconv_dtype dtype);

/* The *_host calls' refusal of fp16 storage (they take float arrays):
 * SUCCESS for F32, else INVALID_VALUE naming call (a dtype outside the enum
 * gets clconv_dtype_check's message). */
clconv_status clconv_host_check_dtype(clconv_context *ctx, clconv_dtype dtype, const char *call);

/* " -DCLCONV_F16" for F16 (kernels/common.cl's storage macros), else "".
 * Every program a plan of that dtype builds carries it, so the program
 * cache keys differ by dtype. */
const char *clconv_dtype_build_option(clconv_dtype dtype);

/* ---- context (context.c) ------------------------------------------------- */

typedef struct clconv_program_entry {
    char *key;                        /* kernel name + '\n' + build options */
    cl_program program;
    struct clconv_program_entry *next;
} clconv_program_entry;

struct clconv_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl_ctx;
    cl_command_queue queue;
    bool out_of_order;                /* the queue runs commands out of order: dependent
                                       * commands need events (plan.c's run ordering) */
    cl_device_type device_type;       /* as reported; plans ask clconv_context_is_cpu_family */
    clconv_device_class device_class; /* CPU or GPU (never AUTO): the kernel family */
    bool class_forced;                /* set by an option or CLCONV_DEVICE_CLASS (tune keys) */
    bool builtin_prefetch;            /* kernels may use __builtin_prefetch (context.c) */
    char device_name[256];
    char platform_name[256];
    char vendor[128];                 /* CL_DEVICE_VENDOR */
    char driver_version[128];
    char device_version[128];
    size_t max_wg_size;
    size_t max_item_sizes[3];
    cl_ulong local_mem_size;
    cl_ulong max_alloc;
    cl_uint preferred_float_width;    /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    cl_uint mem_base_align_bytes;
    char cache_dir[1024];             /* "" = disk cache off */
    size_t workspace_limit;           /* bytes, SIZE_MAX = none: clconv_context_options.
                                       * workspace_limit, else CLCONV_WORKSPACE_LIMIT */
    char kernel_dir[1024];            /* CLCONV_KERNEL_DIR when the context was made ("" = the
                                       * embedded kernels) */
    clconv_find_space find_space;     /* never AUTO: resolved at creation */
    bool disk_write_off;              /* a write failed: load only (program.c) */
    bool disk_key_only;               /* disk entries hold the key, not a binary: the
                                       * driver keeps the compiled code (PoCL, program.c) */
    pthread_mutex_t lock;             /* guards the program cache and counters */
    clconv_program_entry *programs;
    struct clconv_tune_entry *tuned;  /* find-mode winners (tune.c) */
    clconv_cache_stats stats;
    char *last_error;                 /* heap; NULL = none */
    pthread_mutex_t error_lock;       /* guards last_error (error.c) */
};

/* True when plans use the CPU kernel family (clconv_device_class's rule,
 * or the class forced by an option / CLCONV_DEVICE_CLASS). */
static inline bool clconv_context_is_cpu_family(const clconv_context *ctx)
{
    return ctx->device_class == CLCONV_DEVICE_CLASS_CPU;
}

/* The family as a device type (CL_DEVICE_TYPE_CPU or _GPU), for tables keyed
 * by type. */
static inline cl_device_type clconv_context_family_type(const clconv_context *ctx)
{
    return clconv_context_is_cpu_family(ctx) ? CL_DEVICE_TYPE_CPU : CL_DEVICE_TYPE_GPU;
}

/* ---- programs (program.c) ------------------------------------------------ */

/* Returns a built program for kernels/<file>.cl (with kernels/common.cl in
 * front) and build options, from the memory cache, the disk cache, or by
 * compiling. The program stays owned by the context. */
clconv_status clconv_get_program(clconv_context *ctx, const char *file, const char *options,
                                 cl_program *out);

/* Creates a kernel from a cached program (the caller releases it). */
clconv_status clconv_get_kernel(clconv_context *ctx, const char *file, const char *kernel,
                                const char *options, cl_kernel *out);

/* The embedded source of kernels/<file>.cl, or NULL. */
const char *clconv_embedded_source(const char *file);

/* mkdir -p (errors ignored: a later open reports them). */
void clconv_make_dirs(const char *path);

/* 64-bit FNV-1a of bytes. */
uint64_t clconv_hash64(const void *data, size_t len, uint64_t seed);

/* ---- plans (plan.c) ------------------------------------------------------ */

typedef enum clconv_op {
    CLCONV_OP_CONV2D = 1,
    CLCONV_OP_POOL2D = 2,
    CLCONV_OP_CONV_TRANSPOSE2D = 3,
    CLCONV_OP_CONV2D_BACKWARD_DATA = 4,    /* a transposed-convolution plan (conv2d_backward.c) */
    CLCONV_OP_CONV2D_BACKWARD_WEIGHTS = 5,
    CLCONV_OP_CONV2D_BACKWARD_BIAS = 6,
    CLCONV_OP_RELU_BACKWARD = 7,
    CLCONV_OP_POOL2D_BACKWARD = 8,
    CLCONV_OP_ACTIVATION = 9               /* elementwise, forward and backward (activation.c) */
} clconv_op;

struct clconv_plan {
    clconv_context *ctx;
    clconv_op op;
    clconv_dtype dtype;               /* storage type of the tensors (x_bytes ... follow it) */
    clconv_plan_info info;            /* the public report (clconv_plan_get_info), never read
                                       * to enqueue */
    cl_kernel kernel;                 /* main kernel (owned) */
    cl_uint work_dim;
    size_t global_size[3], local_size[3]; /* plan->kernel's NDRange (clconv_plan_enqueue);
                                           * copied into the info */
    pthread_mutex_t lock;             /* serializes argument setting + enqueue */
    size_t x_bytes, w_bytes, b_bytes, y_bytes, aux_bytes; /* required buffer sizes */
    /* Run ordering (plan.c, clconv_run_begin / clconv_run_end). ordered: every
     * run writes a buffer the plan owns (packed weights, a padded copy of x,
     * transformed filters) that a later kernel of the run reads, so on an
     * out-of-order queue a run must not start before the previous run of the
     * plan is done with it. last_run: the previous run's completion event
     * (out-of-order queues only; guarded by lock). */
    bool ordered;
    cl_event last_run;
    /* Prepared weights (clconv_conv2d_prepare / clconv_conv_transpose2d_prepare):
     * prepared: runs may pass w = NULL. Algorithms that transform the
     * weights keep them in their own state; the others get a copy here
     * (prepared_w), which the runs with w = NULL read after prepare_event
     * (out-of-order queues). */
    bool prepared;
    cl_mem prepared_w;
    cl_event prepare_event;
    /* The kernel that writes y with the epilogue and the index of its
     * first epilogue argument (clconv_set_epilogue_args; not owned). */
    cl_kernel epi_kernel;
    cl_uint epi_first;
    const struct clconv_algo *algo;   /* the algorithm (host/algo.h): conv2d, conv_transpose2d,
                                       * backward-data and -weights; NULL for the plans with a
                                       * single kernel and no state (pooling, backward-bias,
                                       * ReLU backward) */
    void *state;                      /* the algorithm's private state, freed by algo->destroy */
    union {
        clconv_conv2d_params conv2d;
        clconv_pool2d_params pool2d;
        clconv_conv_transpose2d_params conv_transpose2d;
    } params;
};

/* Allocates a zeroed plan with its mutex initialised. */
clconv_status clconv_plan_alloc(clconv_context *ctx, clconv_op op, clconv_plan **out);

/* A plan of a weighted operator (conv2d, conv_transpose2d) with its
 * storage type, shapes, buffer sizes (x and y from the shapes, `weights`
 * elements of w, `bias` elements of b, 0 without bias; elements of dtype),
 * flops = 2 * macs and bytes. */
clconv_status clconv_plan_alloc_weighted(clconv_context *ctx, clconv_op op, clconv_dtype dtype,
                                         const clconv_shape *input, const clconv_shape *output,
                                         size_t weights, int64_t bias, double macs,
                                         clconv_plan **out);

/* Checks that buf is not NULL and holds at least need bytes; name is the
 * argument's name for the message. */
clconv_status clconv_check_buffer(clconv_context *ctx, cl_mem buf, size_t need, const char *name);
/* The same for a tensor of plan (x, w, b, y, z, pre): the message counts the
 * plan's elements (floats, or halves for F16). */
clconv_status clconv_check_plan_buffer(clconv_plan *plan, cl_mem buf, size_t need,
                                       const char *name);

/* The buffer checks of a run with weights (conv2d, conv_transpose2d): x, w
 * and y hold their plan sizes, b is given exactly when the plan has a bias
 * (plan->b_bytes > 0), and y aliases none of them (no in-place `what`). */
clconv_status clconv_check_weighted_buffers(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                            cl_mem y, const char *what);

/* Sets argument idx of kernel, recording a message on failure. */
clconv_status clconv_set_arg(clconv_context *ctx, cl_kernel k, cl_uint idx, size_t size,
                             const void *value, const char *what);

/* INVALID_VALUE unless num_wait and wait_list agree (both given or neither):
 * the check of every call that takes a wait list (plan.c). */
clconv_status clconv_check_wait_list(clconv_context *ctx, cl_uint num_wait,
                                     const cl_event *wait_list);

/* Enqueues plan->kernel with plan->info's sizes. */
clconv_status clconv_plan_enqueue(clconv_plan *plan, cl_uint num_wait, const cl_event *wait_list,
                                  cl_event *done);

/* The largest work-group kernel k of plan allows (CL_KERNEL_WORK_GROUP_SIZE)
 * (plan.c). */
clconv_status clconv_plan_wg_limit(clconv_plan *plan, cl_kernel k, size_t *limit);

/* Shrinks a work-group of wg[0] x wg[1] x wg[2] items (NDRange order; pass a
 * 1 for unused dimensions) in place until it fits the device, each dimension
 * within CL_DEVICE_MAX_WORK_ITEM_SIZES and the whole within
 * CL_DEVICE_MAX_WORK_GROUP_SIZE, and a compiled kernel's
 * CL_KERNEL_WORK_GROUP_SIZE (kernel_limit; 0 = not known yet). Halves one
 * dimension at a time, the first of `order` (dimension indices, most
 * expendable first) that is still above 1, so a tile keeps its shape where it
 * can; every conformant limit (at least 1 item) is met. A work-group the
 * caller asked for explicitly (requested: the options' names, e.g.
 * "options.wg_w/wg_h") is not changed to fit the device: when it exceeds the
 * device's limits, CLCONV_ERROR_UNSUPPORTED says which; it is fitted to the
 * compiled kernel's limit, which the caller cannot know beforehand. */
clconv_status clconv_fit_work_group(clconv_context *ctx, size_t kernel_limit, int wg[3],
                                    const int order[3], const char *requested);

/* A convolution plan's epilogue (include/clconv.h, "The epilogue"): read
 * from plan->params by operator (conv2d, conv_transpose2d and its
 * backward-data use); zero for the other plans (plan.c). */
typedef struct clconv_epilogue {
    int has_bias;
    clconv_activation activation;
    float activation_params[2];
    int has_residual;
    float alpha, beta;
    int pre_output;
} clconv_epilogue;
clconv_epilogue clconv_plan_epilogue(const clconv_plan *plan);

/* The -D options the epilogue of plan needs in the program of the kernel
 * that writes y: CLCONV_F16 (fp16 storage: clconv_dtype_build_option),
 * CLCONV_ACT_ANY (activations other than ReLU),
 * CLCONV_RESIDUAL, CLCONV_PRE_OUTPUT, each with a leading space ("" for
 * none; a static string). with_residual = 0 leaves CLCONV_RESIDUAL out
 * (conv2d GEMM's epilogue kernel reads z at run time instead). */
const char *clconv_epilogue_build_options(const clconv_plan *plan, int with_residual);

/* Sets the CLCONV_EPILOGUE_NARGS epilogue arguments of kernel k
 * (kernels/common.cl's CLCONV_EPILOGUE_ARGS) from argument first on, from
 * plan's epilogue: the bias flag and the activation as ints, its two
 * parameters, alpha and beta as floats, and NULL for z and pre, which
 * clconv_plan_dispatch sets per run. Records k and first as the plan's
 * epilogue kernel (plan->epi_kernel / epi_first). kname names the kernel in
 * messages (plan.c). */
#define CLCONV_EPILOGUE_NARGS 8
clconv_status clconv_set_epilogue_args(clconv_plan *plan, cl_kernel k, cl_uint first,
                                       const char *kname);

/* Sets the epilogue kernel's z and pre arguments for one run (a->z, a->pre;
 * no-op for plans without a residual or second output). Plan locked. */
clconv_status clconv_set_epilogue_buffers(clconv_plan *plan, cl_mem z, cl_mem pre);

/* The epilogue's buffer checks of a convolution run: z given exactly when
 * the plan has a residual, pre exactly when it writes the pre-activation,
 * each at least y's size; z may be y but no other of x, w, b, pre,
 * workspace; pre none of them. */
clconv_status clconv_check_epilogue_buffers(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                            cl_mem y, cl_mem workspace, cl_mem z, cl_mem pre);

/* Sets arguments first..first+n-1 of kernel k to the ints v; messages name
 * plan->info.kernel_name (plan.c). */
clconv_status clconv_plan_set_ints(clconv_plan *plan, cl_kernel k, cl_uint first, const cl_int *v,
                                   size_t n);

/* The wait list of a run's first command: the caller's list, and, for an
 * ordered plan on an out-of-order queue, the previous run's completion.
 * clconv_run_begin checks the caller's list (INVALID_VALUE when num_wait and
 * wait_list disagree) and fills w; w->list / w->n are what to pass to the
 * first enqueue; clconv_run_waits_free releases nothing but w's own memory.
 * Call with plan->lock held. */
typedef struct clconv_run_waits {
    const cl_event *list;
    cl_uint n;
    cl_event *heap;
} clconv_run_waits;
clconv_status clconv_run_begin(clconv_plan *plan, cl_uint num_wait, const cl_event *wait_list,
                               clconv_run_waits *w);

/* The same list building for any extra event: the caller's list (checked),
 * with extra appended when it is not NULL. */
clconv_status clconv_waits_with(clconv_context *ctx, cl_uint num_wait, const cl_event *wait_list,
                               cl_event extra, clconv_run_waits *w);
void clconv_run_waits_free(clconv_run_waits *w);

/* The fence of the one kind of command that takes no wait list: CLBlast's
 * calls (the GEMM algorithms). A barrier over ev (n of them; n = 0: over
 * everything enqueued before it) that out (may be NULL) signals. Within a
 * plan, commands of clconv's own chain by events; CLBlast's sit between
 * such fences (plan.c). */
clconv_status clconv_enqueue_barrier(clconv_context *ctx, cl_uint n, const cl_event *ev,
                                     cl_event *out);

/* Whether the run must ask its last command for an event even when the
 * caller passed done = NULL (to order the plan's next run). */
bool clconv_run_wants_event(const clconv_plan *plan);

/* Ends a run (plan->lock held). st: how it went; last: the event of its last
 * command, which completes after every other command of the run (NULL when
 * none was asked for or nothing was enqueued); done: the caller's. On success
 * *done gets last (or last is released), and an ordered plan on an
 * out-of-order queue keeps it for its next run. On failure the run may have
 * left commands on the queue: an ordered plan then orders its next run
 * behind a marker over everything enqueued so far (or, if even that cannot
 * be enqueued, clFinish). Returns st. */
clconv_status clconv_run_end(clconv_plan *plan, clconv_status st, cl_event last, cl_event *done);

/* Sets arguments 0..n-1 of plan->kernel to bufs (a NULL entry as a NULL
 * buffer; names[i] names it in messages), then clconv_plan_enqueue. The
 * caller holds plan->lock so concurrent runs of one plan keep their
 * arguments (plan.c). */
clconv_status clconv_plan_enqueue_buffers(clconv_plan *plan, cl_uint n, const cl_mem *bufs,
                                          const char *const *names, cl_uint num_wait,
                                          const cl_event *wait_list, cl_event *done);

/* Host helpers for the *_host convenience calls: create a buffer (copying
 * host data when src is not NULL; a zero-byte request gets a 4-byte buffer). */
clconv_status clconv_buffer_create(clconv_context *ctx, size_t bytes, const void *src,
                                   cl_mem *out, const char *what);

/* The *_host calls' argument checks: x, w, y non-NULL, b when has_bias. */
clconv_status clconv_host_check_arrays(clconv_context *ctx, const float *x, const float *w,
                                       const float *b, const float *y, int has_bias);

/* The *_host_epilogue calls' checks of z and pre against the plan's
 * epilogue (given exactly when used). */
clconv_status clconv_host_check_epilogue(clconv_context *ctx, int has_residual, int pre_output,
                                         const float *z, const float *pre);

/* Uploads x, w (and b when the plan has a bias; z with a residual, into y's
 * buffer when z == y), allocates y, pre and any workspace, runs the plan
 * (clconv_conv_run), downloads y (and pre), releases everything and
 * destroys the plan (which it takes over). */
clconv_status clconv_host_run_weighted(clconv_plan *plan, const float *x, const float *w,
                                       const float *b, const float *z, float *y, float *pre);

/* Blocking read of bytes from buf into dst after waiting for ev. */
clconv_status clconv_buffer_read(clconv_context *ctx, cl_mem buf, size_t bytes, void *dst,
                                 cl_event ev);

/* ---- shapes (shape.c) ---------------------------------------------------- */

/* Multiplies sizes with overflow detection; returns false on overflow. */
bool clconv_mul_size(size_t a, size_t b, size_t *out);

/* Elements of a validated shape, or 0 on overflow. */
size_t clconv_shape_elements_checked(const clconv_shape *s);

/* Validates a shape's four dimensions are in 1..CLCONV_MAX_DIM and its
 * float bytes fit in size_t (name: "input"). */
clconv_status clconv_validate_shape(clconv_context *ctx, const clconv_shape *s, const char *name);

/* Bytes of a tensor of shape s with elem_size-byte elements; INVALID_SHAPE
 * naming it when the element count or the bytes overflow size_t. */
clconv_status clconv_tensor_bytes(clconv_context *ctx, const char *name, const clconv_shape *s,
                                  size_t elem_size, size_t *bytes);

/* What the device path can address (plan.c): at most
 * CLCONV_MAX_DEVICE_ELEMENTS elements (the kernels index with ints) and at
 * most the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE bytes; UNSUPPORTED naming
 * the tensor otherwise. */
clconv_status clconv_check_device_tensor(clconv_context *ctx, const char *name, size_t elements,
                                         size_t elem_size);

/* ---- tuning (tune.c) ------------------------------------------------------ */

/* The key of a conv2d layer in the tuning database. */
void clconv_conv2d_tune_key(const clconv_conv2d_params *p, const clconv_shape *in, char *key,
                            size_t size);

/* The key of its class: window, stride, dilation, dense / depthwise /
 * grouped, padded or not, and power-of-two buckets of the batch, the input
 * and output channels and the output pixels. Winners are recorded under both
 * keys; a layer with no record of its own takes its class's. */
void clconv_conv2d_tune_class_key(const clconv_conv2d_params *p, const clconv_shape *in,
                                  char *key, size_t size);

/* Looks a layer up under keys[0], else keys[1], ... (memory, then one pass
 * over the database file); true and *opts filled with the first key's winner
 * recorded for this device and driver. */
bool clconv_tune_lookup(clconv_context *ctx, const char *const *keys, int nkeys,
                        clconv_plan_options *opts);

/* Records a winner in memory and appends it to the database file. */
void clconv_tune_store(clconv_context *ctx, const char *key, const clconv_plan_options *opts,
                       double ms);

/* Frees the in-memory winners (context destruction). */
void clconv_tune_free(clconv_context *ctx);

/* Held around every CLBlast call (plan.c): CLBlast 1.5's caches race when
 * called from several threads at once (ThreadSanitizer in CLBlast's Database,
 * CLBlast issue #486), so clconv lets one thread into CLBlast at a time. The
 * calls only enqueue (after the first compile), so little waits on it. */
extern pthread_mutex_t clconv_clblast_lock;

/* Validates conv2d params against an input shape; writes the output shape
 * when out is not NULL. Messages go to ctx (may be NULL). */
clconv_status clconv_conv2d_check(clconv_context *ctx, const clconv_conv2d_params *p,
                                  const clconv_shape *in, clconv_shape *out);

/* Validates conv_transpose2d params against an input shape; writes the output
 * shape when out is not NULL (host/conv_transpose2d.c). */
clconv_status clconv_conv_transpose2d_check(clconv_context *ctx,
                                            const clconv_conv_transpose2d_params *p,
                                            const clconv_shape *in, clconv_shape *out);

/* A conv_transpose2d plan for a given output shape (not checked against
 * output_padding: conv2d backward-data with asymmetric padding needs any
 * size), made with operator tag op. params and input were validated. */
clconv_status clconv_conv_transpose2d_plan_shaped(clconv_context *ctx,
                                                  const clconv_conv_transpose2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_shape *output,
                                                  const clconv_plan_options *options,
                                                  clconv_op op, clconv_plan **out);

/* clconv_conv_transpose2d_run without the operator check (any plan made by
 * clconv_conv_transpose2d_plan_shaped). */
clconv_status clconv_conv_transpose2d_enqueue(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                              cl_mem y, cl_mem workspace, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done);

/* Validates pooling params against an input shape; writes the output shape
 * when out is not NULL (pool2d.c). Messages go to ctx (may be NULL). */
clconv_status clconv_pool2d_check(clconv_context *ctx, const clconv_pool2d_params *p,
                                  const clconv_shape *in, clconv_shape *out);

/* A pooling plan of operator op (forward or backward) built with its one
 * algorithm: the checks of ctx and out, clconv_pool2d_plan_setup, then
 * clconv_plan_build_single (what names the operator in messages). */
clconv_status clconv_pool2d_plan_make(clconv_context *ctx, clconv_op op,
                                      const clconv_pool2d_params *params,
                                      const clconv_shape *input,
                                      const clconv_plan_options *options, const char *what,
                                      clconv_plan **out);
/* Checks params against input (clconv_pool2d_check's messages) and allocates
 * a plan of operator op (pool2d.c): params, info.input/output, x_bytes (the
 * input's floats), y_bytes (the output's), aux_bytes (int64 indices in the
 * max modes, else 0), info.flops (the windows' taps) and info.bytes. Serves
 * the forward and the backward plan; the caller builds the kernel. */
clconv_status clconv_pool2d_plan_setup(clconv_context *ctx, clconv_op op,
                                       const clconv_pool2d_params *params,
                                       const clconv_shape *input, clconv_plan **out);

/* Fails UNSUPPORTED when a fixed window's coordinates over input in would
 * leave the pooling kernels' 32-bit ints (pool2d.c; forward and backward). */
clconv_status clconv_pool2d_check_reach(clconv_context *ctx, const clconv_pool2d_params *p,
                                        const clconv_shape *in);

/* Sets the CLCONV_POOL_WINDOW_ARGS window arguments the pooling kernels
 * (forward and backward) take from argument first on: kernel, stride,
 * padding top, left, bottom, right, dilation (ints), count_include_pad, lp's
 * pow kind, then divisor_override, p and 1/p as floats (pool2d.c). */
#define CLCONV_POOL_WINDOW_ARGS 15
clconv_status clconv_pool2d_set_window_args(clconv_plan *plan, const clconv_pool2d_params *p,
                                            cl_uint first);

/* The pooling kernels' 1-D work-group before the kernel is built: 64 on a
 * CPU-family device, else 256, or options.wg_w (INVALID_VALUE outside
 * 1..1024) (pool.c; forward and backward). */
clconv_status clconv_pool2d_requested_wg(clconv_context *ctx, const clconv_plan_options *opts,
                                         size_t *wg);

/* Fits the 1-D work-group size *wg of plan->kernel (a pooling kernel,
 * forward or backward) to the kernel's limit and the device's first
 * dimension, down to a power of two; UNSUPPORTED when options.wg_w asked
 * for more (pool2d.c). */
clconv_status clconv_pool2d_fit_wg(clconv_plan *plan, const clconv_plan_options *opts, size_t *wg);

/* The mode's name in messages ("max", "avg", "lp", "adaptive-avg", ...) (pool2d.c). */
const char *clconv_pool_mode_name(clconv_pool_mode m);
/* clconv_activation_validate with ctx for the message (activation.c). */
clconv_status clconv_activation_check(clconv_context *ctx, clconv_activation activation,
                                      const float params[2]);
/* The CPU references' epilogue of one output (host/reference/conv2d.c):
 * conv in double, then alpha / beta / z, the bias, pre[at] (when pre is not
 * NULL) and the activation, rounded once; and their check that z is given
 * with has_residual (call: the reference's name for the message). */
float clconv_ref_epilogue(const clconv_epilogue *e, double conv, const float *b, int64_t oc,
                          const float *z, size_t at, float *pre);
clconv_status clconv_ref_check_epilogue(int has_residual, const float *z, const char *call);

/* The residual's parameters: alpha and beta finite and not both 0 when
 * has_residual is set (ignored otherwise) (activation.c). */
clconv_status clconv_residual_check(clconv_context *ctx, int has_residual, float alpha,
                                    float beta);
/* " -DCLCONV_ACT_ANY" for an activation other than NONE and RELU (the
 * kernels compile the others in only then, kernels/common.cl), else "". */
const char *clconv_activation_build_option(clconv_activation activation);
/* act(v) in double, the CPU references' evaluation (activation.c). */
double clconv_activation_eval(clconv_activation activation, const float params[2], double v);

/* ADAPTIVE_AVG and ADAPTIVE_MAX (pool2d.c). */
bool clconv_pool_mode_is_adaptive(clconv_pool_mode m);

/* Which arrays / buffers a pooling backward of mode m needs (pool2d_backward.c):
 * dy and dx always, indices only for the max modes, x for lp and for the max
 * modes without indices. kind ("array" or "buffer") words the messages. */
clconv_status clconv_pool2d_backward_check_arrays(clconv_context *ctx, clconv_pool_mode m,
                                                  bool dy, bool indices, bool x, bool dx,
                                                  const char *kind);

/* Bound on every size, stride, padding and dilation: keeps the shape
 * arithmetic inside int64 whatever the caller passes. */
#define CLCONV_MAX_DIM ((int64_t)1 << 30)

/* "name = v, expected >= lo" (or <= CLCONV_MAX_DIM) as INVALID_VALUE. */
clconv_status clconv_check_range(clconv_context *ctx, const char *name, int64_t v, int64_t lo);

/* groups divides both channel counts and input.c == in_channels (conv2d and
 * conv_transpose2d alike). */
clconv_status clconv_check_groups(clconv_context *ctx, int64_t in_channels, int64_t out_channels,
                                  int64_t groups, const clconv_shape *in);

/* Largest element count a kernel indexes with 32-bit ints. */
#define CLCONV_MAX_DEVICE_ELEMENTS ((size_t)INT32_MAX)

#endif /* CLCONV_INTERNAL_H */
