/* Find-mode winners: in memory per context, and in a tuning database file in
 * the cache directory so that later processes reuse them without timing. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct clconv_tune_entry {
    char *key;
    clconv_plan_options opts;
    struct clconv_tune_entry *next;
} clconv_tune_entry;

#define DB_NAME "tuning.db"

const char *clconv_context_tuning_db(const clconv_context *ctx)
{
    static _Thread_local char path[1100];
    if (!ctx || !ctx->cache_dir[0])
        return "";
    snprintf(path, sizeof path, "%s/" DB_NAME, ctx->cache_dir);
    return path;
}

void clconv_conv2d_tune_key(const clconv_conv2d_params *p, const clconv_shape *in, char *key,
                            size_t size)
{
    snprintf(key, size,
             "conv2d n=%lld c=%lld h=%lld w=%lld k=%lld r=%lld s=%lld stride=%lld,%lld "
             "pad=%lld,%lld,%lld,%lld dilation=%lld,%lld groups=%lld bias=%d relu=%d%s",
             (long long)in->n, (long long)in->c, (long long)in->h, (long long)in->w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups,
             /* "relu": whether an activation is fused (any costs about what ReLU does;
              * the key keeps its name so existing databases still match) */
             p->has_bias ? 1 : 0, p->activation != CLCONV_ACTIVATION_NONE ? 1 : 0,
             /* fp16 storage has winners of its own (other algorithms take it, and
              * its loads cost differently); f32 keys stay as they were */
             p->dtype == CLCONV_DTYPE_F16 ? " dtype=f16" : "");
}

static long long pow2_bucket(int64_t v)
{
    long long b = 1;
    while (b * 2 <= v)
        b *= 2;
    return b;
}

void clconv_conv2d_tune_class_key(const clconv_conv2d_params *p, const clconv_shape *in,
                                  char *key, size_t size)
{
    const char *grouping = p->groups == 1                ? "dense"
                           : p->groups == p->in_channels ? "depthwise"
                                                         : "grouped";
    clconv_shape out = {0, 0, 0, 0}; /* the layer was checked before it is looked up */
    clconv_conv2d_output_shape(p, in, &out);
    bool padded = p->pad_top || p->pad_bottom || p->pad_left || p->pad_right;
    snprintf(key, size,
             "conv2d-class r=%lld s=%lld stride=%lld,%lld dilation=%lld,%lld %s%s n~%lld c~%lld "
             "k~%lld pixels~%lld%s",
             (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
             (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w, grouping,
             padded ? " padded" : "", pow2_bucket(in->n), pow2_bucket(in->c),
             pow2_bucket(p->out_channels), pow2_bucket(out.h * out.w),
             p->dtype == CLCONV_DTYPE_F16 ? " dtype=f16" : "");
}

/* Device and driver: a new driver may change which candidate wins. Tabs and
 * newlines would break the line format, so they become spaces. */
static void device_key(const clconv_context *ctx, char *out, size_t size)
{
    /* A forced kernel family has other candidates and winners: its own key. */
    snprintf(out, size, "%s|%s|%s%s", ctx->device_name, ctx->driver_version, ctx->platform_name,
             !ctx->class_forced                                ? ""
             : ctx->device_class == CLCONV_DEVICE_CLASS_CPU ? "|class=cpu"
                                                            : "|class=gpu");
    for (char *c = out; *c; c++)
        if (*c == '\t' || *c == '\n')
            *c = ' ';
}

static void remember(clconv_context *ctx, const char *key, const clconv_plan_options *opts)
{
    for (clconv_tune_entry *e = ctx->tuned; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            e->opts = *opts;
            return;
        }
    clconv_tune_entry *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->key = strdup(key);
    if (!e->key) {
        free(e);
        return;
    }
    e->opts = *opts;
    e->next = ctx->tuned;
    ctx->tuned = e;
}

/* The algorithm stored by name ("direct-vector"), so that a database outlives
 * any renumbering of clconv_algorithm; AUTO (0) when the name is unknown. */
static clconv_algorithm algorithm_by_name(const char *name)
{
    for (int a = CLCONV_ALGO_AUTO + 1; a < 64; a++)
        if (strcmp(clconv_algorithm_name((clconv_algorithm)a), name) == 0)
            return (clconv_algorithm)a;
    return CLCONV_ALGO_AUTO;
}

/* Line: device \t key \t algorithm-name \t wg_w wg_h wg_oc block_w block_oc ci_chunk \t ms */
static bool parse_line(char *line, const char *dev, const char *key, clconv_plan_options *o)
{
    char *f[5];
    for (int i = 0; i < 5; i++) {
        f[i] = line;
        char *tab = strchr(line, i < 4 ? '\t' : '\n');
        if (!tab) {
            if (i < 4)
                return false;
        } else {
            *tab = '\0';
            line = tab + 1;
        }
    }
    if (strcmp(f[0], dev) != 0 || strcmp(f[1], key) != 0)
        return false;
    clconv_plan_options r = {0};
    clconv_algorithm algo = algorithm_by_name(f[2]);
    if (algo == CLCONV_ALGO_AUTO ||
        sscanf(f[3], "%d %d %d %d %d %d", &r.wg_w, &r.wg_h, &r.wg_oc, &r.block_w, &r.block_oc,
               &r.ci_chunk) != 6)
        return false;
    r.algorithm = algo;
    *o = r;
    return true;
}

#define MAX_LOOKUP_KEYS 4

static const clconv_tune_entry *remembered(const clconv_context *ctx, const char *key)
{
    for (const clconv_tune_entry *e = ctx->tuned; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

/* One pass over the database file for every key: found[k] and rec[k] hold
 * keys[k]'s last record for this device. */
static void read_records(clconv_context *ctx, const char *const *keys, int nkeys, bool *found,
                         clconv_plan_options *rec)
{
    const char *path = clconv_context_tuning_db(ctx);
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char dev[800], line[2048], copy[2048];
    device_key(ctx, dev, sizeof dev);
    while (fgets(line, sizeof line, f))
        for (int k = 0; k < nkeys; k++) {
            memcpy(copy, line, sizeof line); /* parse_line cuts its input */
            if (parse_line(copy, dev, keys[k], &rec[k]))
                found[k] = true;
        }
    fclose(f);
}

bool clconv_tune_lookup(clconv_context *ctx, const char *const *keys, int nkeys,
                        clconv_plan_options *opts)
{
    if (nkeys > MAX_LOOKUP_KEYS)
        nkeys = MAX_LOOKUP_KEYS;
    bool found[MAX_LOOKUP_KEYS] = {false}, read = false, any = false;
    clconv_plan_options rec[MAX_LOOKUP_KEYS];
    pthread_mutex_lock(&ctx->lock);
    /* In preference order: a key's winner in memory, else in the file (read
     * once, at the first key memory does not have). */
    for (int k = 0; k < nkeys && !any; k++) {
        const clconv_tune_entry *e = remembered(ctx, keys[k]);
        if (e) {
            *opts = e->opts;
            any = true;
            break;
        }
        if (!read) {
            read_records(ctx, keys, nkeys, found, rec);
            read = true;
        }
        if (found[k]) {
            *opts = rec[k];
            remember(ctx, keys[k], opts);
            any = true;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return any;
}

void clconv_tune_store(clconv_context *ctx, const char *key, const clconv_plan_options *o,
                       double ms)
{
    pthread_mutex_lock(&ctx->lock);
    remember(ctx, key, o);
    const char *path = clconv_context_tuning_db(ctx);
    if (path[0]) {
        char dev[800], line[2048];
        device_key(ctx, dev, sizeof dev);
        int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%d %d %d %d %d %d\t%.4f\n", dev, key,
                         clconv_algorithm_name(o->algorithm), o->wg_w, o->wg_h, o->wg_oc, o->block_w, o->block_oc,
                         o->ci_chunk, ms);
        /* One fwrite of a whole line in append mode: concurrent writers
         * interleave whole lines, and a reader skips anything malformed. */
        clconv_make_dirs(ctx->cache_dir);
        FILE *f = (n > 0 && (size_t)n < sizeof line) ? fopen(path, "a") : NULL;
        if (f) {
            fwrite(line, 1, (size_t)n, f);
            fclose(f);
        }
    }
    pthread_mutex_unlock(&ctx->lock);
}

void clconv_tune_free(clconv_context *ctx)
{
    clconv_tune_entry *e = ctx->tuned;
    while (e) {
        clconv_tune_entry *next = e->next;
        free(e->key);
        free(e);
        e = next;
    }
    ctx->tuned = NULL;
}
