/* Kernel sources (embedded or from CLCONV_KERNEL_DIR) and the program cache:
 * in memory per context, and on disk as program binaries keyed by device,
 * driver, source and options, so a second process never recompiles. */
#include "internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Generated at build time from the kernels directory (cmake/embed_kernels.cmake). */
typedef struct {
    const char *name;
    const unsigned char *data;
    size_t size;
} clconv_embedded_kernel;
extern const clconv_embedded_kernel clconv_embedded_kernels[];
extern const size_t clconv_embedded_kernel_count;

/* File layout: magic, key length (u32), key, binary length (u64), binary,
 * FNV-1a hash of the binary (u64). B2 added the hash: a driver must never see
 * a damaged binary, because some do not refuse it but abort the process
 * (Mesa rusticl 22.3 panics with "unknown version" on garbage). A binary
 * length of 0 is a key-only entry (ctx->disk_key_only, PoCL): the program
 * was built, and the driver's own cache holds the compiled code. */
#define DISK_MAGIC "CLCONVB2"

uint64_t clconv_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

const char *clconv_embedded_source(const char *file)
{
    for (size_t i = 0; i < clconv_embedded_kernel_count; i++)
        if (strcmp(clconv_embedded_kernels[i].name, file) == 0)
            return (const char *)clconv_embedded_kernels[i].data;
    return NULL;
}

/* Reads a whole file into a NUL-terminated heap string. */
static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)len + 1);
            if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
                free(buf);
                buf = NULL;
            }
            if (buf) {
                buf[len] = '\0';
                if (len_out)
                    *len_out = (size_t)len;
            }
        }
    }
    fclose(f);
    return buf;
}

/* The text of kernels/<file>.cl: from CLCONV_KERNEL_DIR when it was set as
 * the context was made (kernel development without rebuilding), else the
 * copy embedded at build time. */
static clconv_status load_source(clconv_context *ctx, const char *file, char **out)
{
    const char *dir = ctx->kernel_dir;
    if (*dir) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s.cl", dir, file);
        *out = read_file(path, NULL);
        if (!*out)
            return clconv_fail(ctx, CLCONV_ERROR_IO,
                               "CLCONV_KERNEL_DIR: cannot read '%s': %s", path, strerror(errno));
        return CLCONV_SUCCESS;
    }
    const char *src = clconv_embedded_source(file);
    if (!src)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "kernel file '%s.cl' is not embedded in this build", file);
    *out = strdup(src);
    if (!*out)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "copying kernel source");
    return CLCONV_SUCCESS;
}

/* common.cl goes in front of every operator's source, and a prelude of its
 * own in front of the files that share one (pool_common.cl: the pooling
 * files). */
static const char *prelude_of(const char *file)
{
    return strncmp(file, "pool2d", 6) == 0 ? "pool_common" : NULL;
}

static clconv_status full_source(clconv_context *ctx, const char *file, char **out)
{
    char *common = NULL, *prelude = NULL, *body = NULL;
    const char *pre = prelude_of(file);
    clconv_status st = load_source(ctx, "common", &common);
    if (!st && pre)
        st = load_source(ctx, pre, &prelude);
    if (!st)
        st = load_source(ctx, file, &body);
    if (st) {
        free(common);
        free(prelude);
        return st;
    }
    size_t n = strlen(common) + (prelude ? strlen(prelude) : 0) + strlen(body) + 32;
    *out = malloc(n);
    if (*out)
        snprintf(*out, n, "%s\n%s\n#line 1\n%s", common, prelude ? prelude : "", body);
    free(common);
    free(prelude);
    free(body);
    if (!*out)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "joining kernel sources");
    return CLCONV_SUCCESS;
}

static char *build_log(clconv_context *ctx, cl_program prog)
{
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS)
        return strdup("(no build log available)");
    char *log = malloc(n + 1);
    if (!log)
        return NULL;
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, n, log, NULL) != CL_SUCCESS)
        log[0] = '\0';
    log[n] = '\0';
    if (!log[0]) {
        free(log);
        return strdup("(the driver gave an empty build log)");
    }
    return log;
}

/* ---- disk cache ----------------------------------------------------------- */

void clconv_make_dirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static void disk_path(const clconv_context *ctx, const char *key, char *path, size_t size)
{
    uint64_t h = clconv_hash64(key, strlen(key), 0);
    snprintf(path, size, "%s/%016llx.bin", ctx->cache_dir, (unsigned long long)h);
}

/* Tries to make a program from a cached binary (or, for a key-only entry,
 * from src through the driver's cache); NULL when absent, stale or refused by
 * the driver (then the caller compiles and overwrites it). */
static cl_program disk_load(clconv_context *ctx, const char *key, const char *src)
{
    if (!ctx->cache_dir[0])
        return NULL;
    char path[1200];
    disk_path(ctx, key, path, sizeof path);
    size_t len = 0;
    char *buf = read_file(path, &len);
    if (!buf)
        return NULL;
    cl_program prog = NULL;
    size_t klen = strlen(key);
    size_t head = 8 + sizeof(uint32_t);
    uint32_t stored_klen;
    uint64_t blen;
    if (len < head || memcmp(buf, DISK_MAGIC, 8) != 0)
        goto out;
    memcpy(&stored_klen, buf + 8, sizeof stored_klen);
    /* The full key is stored, so a hash collision can never load a wrong binary. */
    if (stored_klen != klen || len < head + klen + sizeof blen ||
        memcmp(buf + head, key, klen) != 0)
        goto out;
    memcpy(&blen, buf + head + klen, sizeof blen);
    const unsigned char *bin = (const unsigned char *)buf + head + klen + sizeof blen;
    uint64_t stored_hash;
    if (blen > len || len != head + klen + sizeof blen + blen + sizeof stored_hash)
        goto out;
    size_t bsize = (size_t)blen;
    memcpy(&stored_hash, bin + bsize, sizeof stored_hash);
    if (clconv_hash64(bin, bsize, 0) != stored_hash)
        goto out;
    cl_int bin_status, err;
    if (bsize == 0) {
        /* key-only: only where this context writes them (a cache shared with
         * another driver's entries is not trusted to be warm here) */
        if (!ctx->disk_key_only)
            goto out;
        prog = clCreateProgramWithSource(ctx->cl_ctx, 1, &src, NULL, &err);
        if (err != CL_SUCCESS) {
            prog = NULL;
            goto out;
        }
    } else {
        prog = clCreateProgramWithBinary(ctx->cl_ctx, 1, &ctx->device, &bsize, &bin, &bin_status,
                                         &err);
        if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
            if (prog)
                clReleaseProgram(prog);
            prog = NULL;
            goto out;
        }
    }
    const char *opts = strstr(key, "\noptions=");
    opts = opts ? opts + 9 : "";
    char *optcopy = strdup(opts);
    char *nl = optcopy ? strchr(optcopy, '\n') : NULL;
    if (nl)
        *nl = '\0';
    err = clBuildProgram(prog, 1, &ctx->device, optcopy ? optcopy : "", NULL, NULL);
    free(optcopy);
    if (err != CL_SUCCESS) {
        clReleaseProgram(prog);
        prog = NULL;
    }
out:
    free(buf);
    return prog;
}

/* A cache directory that cannot be written (read-only, not a directory, no
 * space): the context stops trying for its lifetime, counts it in
 * stats.disk_write_errors, and the process says so once on stderr. Loading
 * from the directory goes on (a read-only shared cache still helps). Called
 * with ctx->lock held. */
static void disk_write_failed(clconv_context *ctx, const char *path, int err)
{
    static atomic_flag said = ATOMIC_FLAG_INIT;
    ctx->stats.disk_write_errors++;
    ctx->disk_write_off = true;
    if (!atomic_flag_test_and_set(&said))
        fprintf(stderr,
                "clconv: cannot write the program cache ('%s': %s); continuing without "
                "storing compiled kernels on disk (set CLCONV_CACHE_DIR to a writable "
                "directory, or to 'off')\n",
                path, strerror(err));
}

/* Stores a built program's binary (its key only where ctx->disk_key_only);
 * failures only cost a later recompile. */
static void disk_store(clconv_context *ctx, const char *key, cl_program prog)
{
    if (!ctx->cache_dir[0] || ctx->disk_write_off)
        return;
    size_t bsize = 0;
    unsigned char *bin = NULL;
    if (!ctx->disk_key_only) {
        if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bsize, &bsize, NULL) !=
                CL_SUCCESS ||
            bsize == 0)
            return;
        bin = malloc(bsize);
        if (!bin)
            return;
        if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
            free(bin);
            return;
        }
    }
    clconv_make_dirs(ctx->cache_dir);
    char path[1200], tmp[1300];
    disk_path(ctx, key, path, sizeof path);
    /* Write to a private temporary name, then rename: a concurrent reader sees
     * either the old file or the whole new one, never half of it.
     * The name holds the process id and a per-process sequence number, so two
     * contexts of one process never share a temporary file either. */
    static atomic_ulong seq;
    snprintf(tmp, sizeof tmp, "%s.%ld.%lu.tmp", path, (long)getpid(),
             (unsigned long)atomic_fetch_add(&seq, 1));
    FILE *f = fopen(tmp, "wb");
    if (f) {
        uint32_t klen = (uint32_t)strlen(key);
        uint64_t blen = bsize, hash = clconv_hash64(bin, bsize, 0);
        bool ok = fwrite(DISK_MAGIC, 1, 8, f) == 8 && fwrite(&klen, sizeof klen, 1, f) == 1 &&
                  fwrite(key, 1, klen, f) == klen && fwrite(&blen, sizeof blen, 1, f) == 1 &&
                  (bsize == 0 || fwrite(bin, 1, bsize, f) == bsize) &&
                  fwrite(&hash, sizeof hash, 1, f) == 1;
        int err = ok ? 0 : errno ? errno : EIO;
        if (fclose(f) != 0 && ok) {
            ok = false;
            err = errno ? errno : EIO;
        }
        if (ok && rename(tmp, path) != 0) {
            ok = false;
            err = errno;
        }
        if (ok) {
            ctx->stats.disk_writes++;
        } else {
            remove(tmp);
            disk_write_failed(ctx, path, err);
        }
    } else {
        disk_write_failed(ctx, tmp, errno);
    }
    free(bin);
}

/* ---- public-to-the-library entry points ---------------------------------- */

clconv_status clconv_get_program(clconv_context *ctx, const char *file, const char *options,
                                 cl_program *out)
{
    char *src = NULL;
    clconv_status st = full_source(ctx, file, &src);
    if (st)
        return st;
    uint64_t src_hash = clconv_hash64(src, strlen(src), 0);
    /* The memory key includes the source hash too, so CLCONV_KERNEL_DIR edits
     * are picked up by a new plan within the same process. */
    size_t klen = strlen(file) + strlen(options) + strlen(ctx->device_name) +
                  strlen(ctx->driver_version) + strlen(ctx->platform_name) +
                  strlen(ctx->device_version) + 256;
    char *key = malloc(klen);
    if (!key) {
        free(src);
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating a cache key");
    }
    snprintf(key, klen,
             "clconv=%d.%d.%d\nfile=%s\ndevice=%s\ndevice_version=%s\ndriver=%s\nplatform=%s\n"
             "source=%016llx\noptions=%s\n",
             CLCONV_VERSION_MAJOR, CLCONV_VERSION_MINOR, CLCONV_VERSION_PATCH, file,
             ctx->device_name, ctx->device_version, ctx->driver_version, ctx->platform_name,
             (unsigned long long)src_hash, options);

    pthread_mutex_lock(&ctx->lock);
    for (clconv_program_entry *e = ctx->programs; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            ctx->stats.memory_hits++;
            *out = e->program;
            pthread_mutex_unlock(&ctx->lock);
            free(key);
            free(src);
            return CLCONV_SUCCESS;
        }
    }
    cl_program prog = disk_load(ctx, key, src);
    if (prog) {
        ctx->stats.disk_hits++;
    } else {
        cl_int err;
        const char *srcs[] = {src};
        prog = clCreateProgramWithSource(ctx->cl_ctx, 1, srcs, NULL, &err);
        if (err != CL_SUCCESS) {
            pthread_mutex_unlock(&ctx->lock);
            free(key);
            free(src);
            return clconv_fail_cl(ctx, err, "clCreateProgramWithSource");
        }
        err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
        if (err != CL_SUCCESS) {
            char *log = build_log(ctx, prog);
            char head[900];
            snprintf(head, sizeof head,
                     "building kernels/%s.cl with options '%s' failed: clBuildProgram returned "
                     "%s (%d)", file, options, clconv_cl_error_name(err), (int)err);
            clconv_fail_long(ctx, CLCONV_ERROR_BUILD_FAILED, head, log ? log : "");
            free(log);
            clReleaseProgram(prog);
            pthread_mutex_unlock(&ctx->lock);
            free(key);
            free(src);
            return CLCONV_ERROR_BUILD_FAILED;
        }
        ctx->stats.compiled++;
        disk_store(ctx, key, prog);
    }
    clconv_program_entry *e = calloc(1, sizeof *e);
    if (!e) {
        clReleaseProgram(prog);
        pthread_mutex_unlock(&ctx->lock);
        free(key);
        free(src);
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating a cache entry");
    }
    e->key = key;
    e->program = prog;
    e->next = ctx->programs;
    ctx->programs = e;
    *out = prog;
    pthread_mutex_unlock(&ctx->lock);
    free(src);
    return CLCONV_SUCCESS;
}

clconv_status clconv_get_kernel(clconv_context *ctx, const char *file, const char *kernel,
                                const char *options, cl_kernel *out)
{
    cl_program prog;
    clconv_status st = clconv_get_program(ctx, file, options, &prog);
    if (st)
        return st;
    cl_int err;
    *out = clCreateKernel(prog, kernel, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        char what[160];
        snprintf(what, sizeof what, "clCreateKernel(%s)", kernel);
        return clconv_fail_cl(ctx, err, what);
    }
    return CLCONV_SUCCESS;
}
