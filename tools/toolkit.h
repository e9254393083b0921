/* toolkit.h — what the command-line tools share: one table entry per operator
 * (how to make its plan, run it, run the CPU reference, and which flags it
 * takes), the layer description they all fill, device timing and error
 * measurement, and JSON string output. Uses only the public clconv.h. */
#ifndef CLCONV_TOOLKIT_H
#define CLCONV_TOOLKIT_H

#include "clconv.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes shared by the tools. */
enum {
    TK_EXIT_OK = 0,
    TK_EXIT_FAILURE = 1,      /* an error (message on stderr) */
    TK_EXIT_NO_PLATFORM = 2,  /* no OpenCL platform / device */
    TK_EXIT_MISMATCH = 3,     /* --verify: the device result differs from the reference */
    TK_EXIT_USAGE = 64        /* bad command line (EX_USAGE) */
};

/* One layer of any operator, with PyTorch's parameter names. Fields an
 * operator does not use are ignored. */
typedef struct tk_layer {
    const struct tk_op *op;
    char name[48];                 /* label for reports ("" = none) */
    clconv_shape input;            /* n, c, h, w */
    int64_t out_channels;          /* conv: k */
    int64_t kernel_h, kernel_w;    /* conv: from the weights; pool: kernel_size */
    int64_t stride_h, stride_w;    /* 0 = the operator's default */
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    bool pad_same;                 /* conv2d padding='same' */
    int64_t dilation_h, dilation_w;
    int64_t groups;
    int64_t out_pad_h, out_pad_w;  /* conv_transpose2d output_padding */
    bool bias, relu;
    clconv_activation activation;  /* conv: a fused activation other than relu=1 (NONE: none) */
    float act_params[2];           /* its parameters */
    bool residual;                 /* conv: y = act(alpha * conv + beta * z + bias), z of y's
                                      shape (clconv_conv_run's epilogue) */
    float alpha, beta;             /* the residual's scales (default 1, 1) */
    bool pre;                      /* conv: runs also write the pre-activation */
    bool ceil_mode;
    bool count_include_pad;        /* avg_pool2d, default true */
    bool indices;                  /* max_pool2d return_indices */
    int64_t divisor_override;      /* avg_pool2d, 0 = none */
    clconv_dtype dtype;            /* storage of x, w, b, z, y, pre (shapes-file dtype=f16,
                                      --dtype f16); F16: tk_exec converts to halves */
} tk_layer;

/* Device buffers of one run. */
typedef struct tk_bufs {
    cl_mem x, w, b, y, workspace, indices;
    cl_mem z, pre;                 /* the epilogue's residual and second output (or NULL) */
} tk_bufs;

/* An operator: one entry of tk_ops[]. */
typedef struct tk_op {
    const char *name;          /* "conv2d", as the subcommand and the shapes-file keyword */
    const char *summary;       /* one line for --help */
    const char *flags_help;    /* the operator-specific flags, for --help */
    const char *flags;         /* those flags' names, space-separated, without "--" */
    const char *algorithms;    /* the algorithms its plans accept: names or prefixes ending in
                                  '*', and exclusions starting with '-' */
    bool available;            /* false: the library does not have it yet */
    bool has_weight;           /* takes --weight (and --bias) */
    bool has_indices;          /* can write --indices */
    bool bandwidth_bound;      /* report GB/s rather than GFLOP/s */
    /* Fills defaults (stride, dilation, groups ...) in a layer whose op is this. */
    void (*defaults)(tk_layer *L);
    /* Weight shape (when has_weight) and output shape; validates. On error the
     * message is in clconv_last_error(NULL). */
    clconv_status (*shapes)(const tk_layer *L, clconv_shape *weight, clconv_shape *output);
    clconv_status (*plan)(clconv_context *ctx, const tk_layer *L, const clconv_plan_options *o,
                          clconv_plan **out);
    clconv_status (*run)(clconv_plan *plan, const tk_bufs *b, cl_event *done);
    /* Prepares constant weights w (clconv_conv2d_prepare ...); NULL when the
     * operator has none to prepare. Runs then pass w = NULL. */
    clconv_status (*prepare)(clconv_plan *plan, cl_mem w, cl_event *done);
    /* CPU reference (conv: the *_epilogue reference, with z when L->residual
     * and pre, which may be NULL, when L->pre); indices may be NULL. */
    clconv_status (*reference)(const tk_layer *L, const float *x, const float *w, const float *b,
                               const float *z, float *y, float *pre, int64_t *indices);
    /* The shape of the x operand when it is not L->input (NULL: L->input). */
    clconv_status (*x_shape)(const tk_layer *L, clconv_shape *x);
} tk_op;

extern const tk_op tk_ops[];
extern const int tk_num_ops;

/* conv2d's backward passes on a conv2d layer (clconv-bench --direction), not
 * in tk_ops[]. Their x, w, y operands are dy, w, dx (data: output = the
 * layer's input shape) and x, dy, dw (weights: "weight" = dy's shape, output
 * = the weight shape); bias and ReLU are ignored. */
extern const tk_op tk_conv2d_backward_data_op, tk_conv2d_backward_weights_op;

/* The operator named name, or NULL. */
const tk_op *tk_find_op(const char *name);

/* Parses "3" or "3,2" (PyTorch's int or (h, w) tuple) into two values >= min.
 * Returns false on anything else. */
bool tk_parse_pair(const char *s, int64_t min, int64_t *h, int64_t *w);
/* Padding "P" (every side), "PH,PW" (PyTorch's (ph, pw): top = bottom = PH,
 * left = right = PW) or "T,B,L,R" (per side), each >= 0. */
bool tk_parse_padding(const char *s, int64_t *top, int64_t *bottom, int64_t *left,
                      int64_t *right);
bool tk_parse_int(const char *s, int64_t min, int64_t *v);

/* Parses one line of the shapes-file format ("conv2d n=1 c=64 h=56 w=56 k=64
 * r=3 s=3 stride=1 pad=1"), filling *L with defaults first. Returns false
 * with a message in err. A blank or comment line gives false with err "". */
bool tk_parse_layer_spec(const char *line, tk_layer *L, char *err, size_t err_size);

/* Sets key=value on a layer (the shapes-file keys); false with err set.
 * residual=0|1, alpha=F, beta=F: the epilogue's residual (conv operators). */
bool tk_layer_set(tk_layer *L, const char *key, const char *value, char *err, size_t err_size);

/* Formats the layer as a shapes-file line (round-trips through
 * tk_parse_layer_spec). */
void tk_layer_spec(const tk_layer *L, char *buf, size_t size);

/* Maps "f32" / "float32" and "f16" / "float16" / "half" to a dtype; false
 * otherwise. */
bool tk_parse_dtype(const char *s, clconv_dtype *out);

/* Rounds each value to the nearest half (float -> half -> float): what an F16
 * layer stores, so that the CPU reference runs on exactly those values. */
void tk_round_to_half(float *a, size_t n);

/* Maps "auto", "direct-tiled", ... to an algorithm; false if unknown. */
bool tk_parse_algorithm(const char *s, clconv_algorithm *out);

/* Median of n doubles (sorts the array). */
double tk_median(double *v, int n);

/* Monotonic wall-clock seconds (for spans; the origin is arbitrary). */
double tk_now(void);

/* A profiled span with its wall-clock measurement beside it: the span, or,
 * when the span is zero (drivers whose profiling timer has resolution 0 and
 * reports START == END, as Mesa rusticl 22.3 does), the wall time, and the
 * process then remembers that it fell back (tk_timing_wall_clock). A
 * negative span (an error) is returned as it is. */
double tk_span_or_wall(double span, double wall);
/* True once any timing fell back to wall-clock time: tools say so. */
bool tk_timing_wall_clock(void);

/* Wall-clock cap on the timed runs of one layer: after it the remaining runs
 * are dropped (at least one is kept), so no timing loop runs unbounded. */
#define TK_MAX_TIMING_S 20.0

/* Seconds between a profiled event's START and END (or -1 on error). */
double tk_event_seconds(cl_event ev);
/* Seconds from the END of `from` to the END of `to` (both profiled). */
double tk_event_span(cl_event from, cl_event to);

/* Deterministic fill in [-1, 1). */
void tk_fill(float *a, size_t n, uint64_t seed);

/* Error of got against ref: max |got-ref|, and that over max |ref| (1 when
 * ref is all zero). Returns true when within tolerance:
 * max_abs <= 1e-3 * max(1, max |ref|). */
typedef struct tk_error {
    double max_abs, max_rel;
    size_t worst;
    bool ok;
} tk_error;
tk_error tk_compare(const float *got, const float *ref, size_t n);
/* The F16 accuracy bound of clconv.h ("Half precision"): the F32 bound of
 * tk_compare plus one half ulp of the result (|ref| * 2^-11, at least 2^-25)
 * per element. */
tk_error tk_compare_dtype(const float *got, const float *ref, size_t n, clconv_dtype dtype);

/* Writes s as a JSON string literal (with quotes, escaped). */
void tk_json_string(FILE *f, const char *s);

/* Dims of a shape as "1x64x56x56". */
void tk_shape_str(clconv_shape s, char *buf, size_t size);

/* Creates a buffer (with host data when src != NULL); prints the error. */
cl_mem tk_buffer(clconv_context *ctx, size_t bytes, const void *src);

/* The message of the last failed operator call: a tool-level message when
 * there is one, else clconv_last_error(NULL). */
const char *tk_last_error(void);

/* True when op's plans accept algo (always for CLCONV_ALGO_AUTO). */
bool tk_op_accepts(const tk_op *op, clconv_algorithm algo);

/* The names of the algorithms op accepts, comma-separated, into buf. */
void tk_op_algorithms(const tk_op *op, char *buf, size_t size);

/* Prints "prog: what: status: message" on stderr. */
void tk_report(const char *prog, const char *what, clconv_status st, const clconv_context *ctx);

/* Everything one measured run of a layer produces. */
typedef struct tk_result {
    clconv_plan_info info;
    clconv_shape weight, output;
    double median_s, min_s;        /* device time per run */
    double plan_s;                 /* host time to make the plan (compile or cache hit) */
    int runs;
    bool spans;                    /* timed from a marker before the run to its end */
    tk_error err;                  /* when verified */
    bool verified;
} tk_result;


/* Warm-up policy of the timing loops: after the requested warm-up runs,
 * more untimed runs until TK_MIN_WARMUP_S of wall time has passed since the
 * first (TK_MAX_WARMUP runs at most; none when warmup is 0). A CPU device's
 * threads need a few tens of milliseconds of work to reach their steady
 * speed (on the 2-vCPU CI machine a 1 ms kernel ran 2x slower for the
 * first ~20 runs of a process); warming by time keeps short layers from
 * being timed in that phase. Call before run i (0-based) with the current
 * warm-up count (the requested one at i = 0): returns the new count. */
#define TK_MIN_WARMUP_S 0.1
#define TK_MAX_WARMUP 1000
int tk_warmup_runs(int i, int warm, double *start);

/* Makes the plan for L (options o may be NULL), uploads x, w, b and, when
 * (all float arrays; for L->dtype F16 converted to halves on upload, and y /
 * pre read back as halves and widened to float, exactly)
 * L->residual, the residual z (y's size, a buffer of its own, so every run
 * reads the same z) (with
 * prepare and an operator that has prepare: prepares w once, untimed, and
 * runs with w = NULL), runs it
 * warmup + runs times (warm-up extended by tk_warmup_runs), takes each timed
 * run's device time from a marker
 * enqueued before it to the end of the run's event,
 * and reads y back (and the indices when indices != NULL, the pre-activation
 * into pre when L->pre). Prints errors (prefixed with prog) and returns a
 * TK_EXIT_* code. */
int tk_exec(clconv_context *ctx, const tk_layer *L, const clconv_plan_options *o, const float *x,
            const float *w, const float *b, const float *z, float *y, float *pre,
            int64_t *indices, int warmup, int runs, bool prepare, tk_result *res,
            const char *prog);

/* True when a conv layer's epilogue goes beyond the bias: an activation or a
 * residual (what clconv-bench times unfused too). */
bool tk_layer_has_epilogue(const tk_layer *L);

/* The activation a conv layer fuses (activation=NAME wins over relu=1) and
 * its parameters. */
void tk_layer_activation(const tk_layer *L, clconv_activation *act, float params[2]);

#endif
