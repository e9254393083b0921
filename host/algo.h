/* The algorithm interface: what every algorithm of an operator provides,
 * the registry that lists them, and the helpers the conv2d algorithms share.
 * Not installed.
 *
 * An algorithm is one file (host/<operator>/<name>.c) that defines one
 * `const clconv_algo` (two for direct-tiled / direct-register, which share
 * their kernel builder) and lists it in host/registry.c. The selector
 * (host/select.c) decides which algorithm a plan gets; the operator file
 * (host/conv2d/conv2d.c, host/conv_transpose2d/conv_transpose2d.c) validates,
 * allocates the plan and dispatches runs through plan->algo. See docs/architecture.md. */
#ifndef CLCONV_ALGO_H
#define CLCONV_ALGO_H

#include "internal.h"

/* One run's buffers (already checked against the plan's sizes and for
 * aliasing, except the workspace, which the algorithm checks), the caller's
 * wait list and its event slot. x is the operator's input, y its output:
 *   conv2d, conv_transpose2d     x, w, b, y, workspace
 *   conv2d backward-data         x = dy, w, y = dx, workspace
 *   conv2d backward-weights      x, w = dy, y = dw, workspace
 *   conv2d backward-bias         x = dy, y = db
 *   ReLU backward                x = y (the forward output), w = dy, y = dx
 *   pool2d                       x, y, aux = indices (NULL: none)
 *   pool2d backward              x = dy, w = the forward's x (NULL: not read),
 *                                aux = indices, y = dx
 *   activation                   x, y (backward = 0); x = v, w = dy, y = dx (backward = 1) */
typedef struct clconv_run_args {
    cl_mem x, w, b, y, workspace;
    cl_uint num_wait;
    const cl_event *wait_list;
    cl_event *done;
    cl_mem aux;
    int backward; /* the activation plans: 0 forward, 1 backward */
    cl_mem z, pre; /* convolutions: the epilogue's residual and second output (NULL: none) */
    float scale;   /* the activation backward: dx = scale * dy * act'(v) */
} clconv_run_args;

/* The CLBlast algorithms' .f16_refusal: CLBlast's GEMMs read and write the
 * buffers as float, and its half GEMM would need cl_khr_fp16 (compute in
 * half, not only storage), which PoCL's CPU device lacks. */
#define CLCONV_CLBLAST_F16_REFUSAL                                                   \
    "CLBlast's GEMM reads and writes floats; its half-precision GEMM needs the "      \
    "cl_khr_fp16 extension. Use another algorithm or AUTO"

typedef struct clconv_algo {
    clconv_op op;          /* the operator it serves */
    clconv_algorithm id;   /* its public enum value (clconv_algorithm_name names it) */
    /* Whether its kernels take fp16 storage (plan->dtype == CLCONV_DTYPE_F16:
     * kernels/common.cl's CLCONV_LD / CLCONV_ST with -DCLCONV_F16). false:
     * the registry refuses F16 plans with UNSUPPORTED before applies(), so
     * neither an explicit request nor AUTO ever builds it for one. */
    bool f16;
    /* Why it does not take fp16 (without .f16), appended to the refusal's
     * message; NULL: the generic words. */
    const char *f16_refusal;
    /* Whether its kernels cover the layer in plan (params and shapes set, no
     * device work): UNSUPPORTED with the reason, else SUCCESS. NULL: every
     * valid layer. Device limits (local memory, work-group sizes) may still
     * make plan() fail. clconv_plan_build_with calls it before plan(), which
     * may then rely on it. */
    clconv_status (*applies)(const clconv_plan *plan);
    /* Completes plan for this algorithm: kernels, plan->state, info (algorithm,
     * sizes, workspace). The operator file has validated the parameters and
     * filled plan->params, info.input / output and the buffer sizes.
     * UNSUPPORTED with a message naming the reason when the layer or the
     * device does not fit; the plan may be left half built (the caller resets
     * it with clconv_plan_reset). */
    clconv_status (*plan)(clconv_plan *plan, const clconv_plan_options *opts);
    /* Enqueues one run. Called with plan->lock held. */
    clconv_status (*run)(clconv_plan *plan, const clconv_run_args *a);
    /* Releases plan->state (NULL when the algorithm keeps none). */
    void (*destroy)(clconv_plan *plan);
    /* Transforms constant weights w into the plan once (packing, Winograd's
     * filter transform), ordered like a run; later runs with a->w == NULL
     * use them, and a run with weights of its own replaces them
     * (clconv_plan_dispatch clears plan->prepared). NULL: the algorithm reads the weights as given, and
     * clconv_plan_prepare keeps a copy. Called with plan->lock held. */
    clconv_status (*prepare)(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                             const cl_event *wait_list, cl_event *done);
} clconv_algo;

/* ---- registry (registry.c) ------------------------------------------------ */

/* The algorithm `id` of operator op, or NULL when op has no such algorithm. */
const clconv_algo *clconv_algo_lookup(clconv_op op, clconv_algorithm id);

/* "auto, direct-tiled, ..." : the names op accepts, for messages. */
const char *clconv_algo_names(clconv_op op);

/* SUCCESS when algo takes plan's storage type (F32 always, F16 with
 * algo->f16), else UNSUPPORTED naming both. */
clconv_status clconv_algo_dtype_ok(const clconv_plan *plan, const clconv_algo *algo);

/* Builds plan with algo (plan->algo = algo, then algo->plan). On failure
 * the plan is reset (clconv_plan_reset) so another algorithm can be tried. */
clconv_status clconv_plan_build_with(clconv_plan *plan, const clconv_algo *algo,
                                     const clconv_plan_options *opts);

/* The operators with one algorithm (pooling and its backward, backward-bias,
 * ReLU backward): builds plan with it when opts asks for auto or for it,
 * else UNSUPPORTED "options.algorithm = X, expected auto or Y for <what>". */
clconv_status clconv_plan_build_single(clconv_plan *plan, const clconv_plan_options *opts,
                                       const char *what);

/* clconv_conv2d_prepare / clconv_conv_transpose2d_prepare once the plan
 * kind is checked: w's size, then algo->prepare or a copy of w (registry.c). */
clconv_status clconv_plan_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                  const cl_event *wait_list, cl_event *done);

/* Runs plan->algo->run with the plan lock held (after checking the wait
 * list); for the weighted operators (conv2d, conv_transpose2d,
 * backward-data) a run without weights
 * (a->w == NULL, checked against plan->prepared by the caller) of an
 * algorithm without its own prepare reads the copy, after the copy
 * (registry.c). */
clconv_status clconv_plan_dispatch(clconv_plan *plan, const clconv_run_args *a);

/* Whether `algorithm` of plan's operator covers plan's layer (its applies();
 * AUTO always does); UNSUPPORTED naming the reason (registry.c). */
clconv_status clconv_algo_supported(const clconv_plan *plan, clconv_algorithm algorithm);

/* Undoes an algorithm's build: its state, kernel, ordering and the info
 * fields it set; params, shapes and buffer sizes stay. */
void clconv_plan_reset(clconv_plan *plan);

/* ---- staged operands (packed.c): packed weights (direct-vector,
 * transposed-vector) and copies of x (direct-pointwise, direct-batch) ------- */

/* A staging kernel (argument 0 the weights or x, 1 the plan-owned buffer it
 * fills, 2.. ints) and that buffer. */
typedef struct clconv_packer {
    cl_mem packed;
    cl_kernel pack;
    const char *name;    /* the staging kernel's name, for messages */
    cl_uint dim;
    size_t global[2];
    bool of_x;           /* stages x (clconv_copier_init), not the weights */
} clconv_packer;

/* After plan->kernel is built: creates the packed buffer of `floats` floats
 * (info.plan_device_bytes; the plan becomes ordered), the repack kernel
 * `kernel` of kernels/<file>.cl with the plan's build options and its int
 * arguments, and sets the buffer as plan->kernel's argument 1. */
clconv_status clconv_packer_init(clconv_plan *plan, clconv_packer *pk, const char *file,
                                 const char *kernel, size_t floats, cl_uint dim,
                                 const size_t global[2], const cl_int *args, size_t nargs);
void clconv_packer_release(clconv_packer *pk);

/* An algorithm's destroy() when plan->state is a calloc'd clconv_packer (or
 * NULL): releases it, frees it, clears plan->state. */
void clconv_packer_state_destroy(clconv_plan *plan);

/* The same for a copy of x (padded, phase-split, images interleaved...):
 * the buffer becomes plan->kernel's argument 0, and every run copies a->x
 * into it, then runs plan->kernel with w, b, y as arguments 1..3. */
clconv_status clconv_copier_init(clconv_plan *plan, clconv_packer *pk, const char *file,
                                 const char *kernel, size_t floats, cl_uint dim,
                                 const size_t global[2], const cl_int *args, size_t nargs);

/* A run: pack a->w (skipped when NULL: prepared), then plan->kernel on x,
 * b, y (arguments 0, 2, 3); with a copier, copy a->x, then plan->kernel on
 * w, b, y (1..3). Ordered with the plan's other runs. */
clconv_status clconv_packed_run(clconv_plan *plan, clconv_packer *pk, const clconv_run_args *a);

/* The algorithm's prepare(): packs w once, ordered like a run. */
clconv_status clconv_packed_prepare(clconv_plan *plan, clconv_packer *pk, cl_mem w,
                                    cl_uint num_wait, const cl_event *wait_list, cl_event *done);

/* ---- conv2d (host/conv2d/) ------------------------------------------------- */

extern const clconv_algo clconv_conv2d_direct_tiled;
extern const clconv_algo clconv_conv2d_direct_register;
extern const clconv_algo clconv_conv2d_direct_vector;
extern const clconv_algo clconv_conv2d_direct_pointwise;
extern const clconv_algo clconv_conv2d_direct_batch;
extern const clconv_algo clconv_conv2d_direct_depthwise;
extern const clconv_algo clconv_conv2d_direct_depthwise_channels;
extern const clconv_algo clconv_conv2d_winograd;
extern const clconv_algo clconv_conv2d_gemm;

/* A validated conv2d plan without an algorithm: params, shapes, buffer sizes,
 * flops (conv2d.c). */
clconv_status clconv_conv2d_plan_new(clconv_context *ctx, const clconv_conv2d_params *params,
                                     const clconv_shape *input, clconv_plan **out);

/* clconv_conv2d_run without the plan-kind check (conv2d.c; find mode). */
clconv_status clconv_conv2d_enqueue(clconv_plan *plan, const clconv_run_args *a);

/* Chooses and builds the algorithm of a new conv2d plan (select.c): an
 * explicit options->algorithm is built as asked; AUTO consults the tuning
 * database, runs find mode when options->find is set, else tries
 * the built-in candidates for the device and shape in order. */
clconv_status clconv_conv2d_select(clconv_plan *plan, const clconv_plan_options *options);

/* ---- conv2d backward-weights (host/conv2d_backward/weights.c) --------------
 * One algorithm; its run takes x as a->x, dy as a->w and dw as a->y. */
extern const clconv_algo clconv_conv2d_backward_weights;

/* ---- the single-kernel operators -------------------------------------------
 * One algorithm each, built through clconv_plan_build_single: pooling
 * (host/pool2d/pool.c, "pool"), its backward (host/pool2d/backward.c,
 * "pool"), conv2d backward-bias (direct-register) and ReLU backward ("auto":
 * there is nothing to choose), both in host/conv2d_backward/backward.c. */
extern const clconv_algo clconv_pool2d_pool;
extern const clconv_algo clconv_pool2d_backward_pool;
extern const clconv_algo clconv_conv2d_backward_bias;
extern const clconv_algo clconv_relu_backward;
extern const clconv_algo clconv_activation_elementwise; /* host/activation.c */

/* ---- conv_transpose2d (host/conv_transpose2d/) ---------------------------- */

extern const clconv_algo clconv_ct_gather;
extern const clconv_algo clconv_ct_vector;
extern const clconv_algo clconv_ct_columns;
extern const clconv_algo clconv_ct_gemm;

/* clconv_conv_transpose2d_enqueue with the run's buffers in a (z and pre
 * too; conv_transpose2d.c). */
clconv_status clconv_conv_transpose2d_enqueue_args(clconv_plan *plan, const clconv_run_args *a);

/* Chooses and builds the algorithm of a new conv_transpose2d or backward-data
 * plan (select.c): options->algorithm as asked, else AUTO's rule. */
clconv_status clconv_conv_transpose2d_select(clconv_plan *plan,
                                             const clconv_plan_options *options);

/* ---- helpers of the direct conv2d kernels (host/conv2d/direct.c) ----------- */

/* The direct kernels' tile (kernels/conv2d.cl's -D constants WG_W, WG_H,
 * WG_OC, BW, BOC, CI_CHUNK; each algorithm documents what it uses). */
typedef struct clconv_tile {
    int wg_w, wg_h, wg_oc, bw, boc, ci_chunk;
} clconv_tile;

/* Validates the tile overrides of opts (0 = default; each within its range)
 * and writes the given ones into t (conv2d/direct.c). */
clconv_status clconv_direct_overrides(clconv_context *ctx, const clconv_plan_options *opts,
                                      clconv_tile *t);

/* Compiles kernels/conv2d.cl's variant `name` with the geometry and tile as
 * -D constants (extra: variant-specific ones) into plan->kernel and fills
 * info.build_options and kernel_name (conv2d/direct.c). */
clconv_status clconv_direct_build(clconv_plan *plan, const clconv_tile *t, const char *name,
                                  const char *extra);

/* Arguments 4.. of every direct kernel: the planes it reads (in_h x in_w),
 * the output shape, groups, top/left padding, bias / ReLU flags, and
 * `extra` (depthwise: its plane count) when >= 0 (conv2d/direct.c). */
clconv_status clconv_direct_set_args(clconv_plan *plan, int64_t in_h, int64_t in_w,
                                     int64_t extra);

/* UNSUPPORTED "<algo>: needs one input channel per group ..." unless the
 * layer is depthwise (groups = in_channels; conv2d/direct_depthwise.c). */
clconv_status clconv_depthwise_check(const clconv_plan *plan, const char *algo);

/* The run of a one-kernel plan (direct conv2d, transposed-gather /
 * -columns): x, w, b, y as its arguments 0..3 (conv2d/direct.c). */
clconv_status clconv_run_one_kernel(clconv_plan *plan, const clconv_run_args *a);

/* The register block of the lane kernels (direct-pointwise, direct-batch):
 * options.block_w (1..8 of what `what` names, into *bw) and block_oc (into
 * *boc; its range is clconv_direct_overrides'). */
clconv_status clconv_lane_block_overrides(clconv_context *ctx, const clconv_plan_options *opts,
                                          const char *what, int *bw, int *boc);

/* Float lanes the CPU kernels use: 16, 8 or 4 from the device's preferred
 * vector width. */
int clconv_direct_max_vec(const clconv_context *ctx);

#endif /* CLCONV_ALGO_H */
