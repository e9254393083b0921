/* The context: the on-disk program cache (a second context compiles
 * nothing), build failures carrying the compiler's log, device selection
 * (CLCONV_DEVICE and selectors), and a caller's own OpenCL context and queue. */
#include "conv_tester.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- context, device choice and the program cache ------------------------ */

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/clconv-test-XXXXXX";
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

static void cache_plan(clconv_context *ctx)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 2, 2);
    clconv_shape in = {1, 1, 3, 3};
    float x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, w[4] = {0, 1, 2, 3}, y[4];
    ck_assert_int_eq(clconv_conv2d_host(ctx, &p, &in, NULL, x, w, NULL, y), CLCONV_SUCCESS);
    ck_assert_float_eq(y[3], 43.0f);
}

START_TEST(disk_cache_second_context_loads)
{
    char *dir = make_temp_dir();
    char *old = getenv("CLCONV_CACHE_DIR") ? strdup(getenv("CLCONV_CACHE_DIR")) : NULL;
    setenv("CLCONV_CACHE_DIR", dir, 1);
    clconv_cache_stats s;

    clconv_context *a;
    ck_assert_int_eq(clconv_context_create(&a), CLCONV_SUCCESS);
    ck_assert_str_eq(clconv_context_cache_dir(a), dir);
    cache_plan(a);
    cache_plan(a);
    clconv_context_cache_stats(a, &s);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_writes, 1);
    ck_assert_uint_eq(s.memory_hits, 1);
    clconv_context_destroy(a);

    clconv_context *b; /* as a second process would: nothing compiled */
    ck_assert_int_eq(clconv_context_create(&b), CLCONV_SUCCESS);
    cache_plan(b);
    clconv_context_cache_stats(b, &s);
    ck_assert_uint_eq(s.compiled, 0);
    ck_assert_uint_eq(s.disk_hits, 1);
    clconv_context_destroy(b);

    /* A corrupted cache file is not trusted: it is rebuilt and rewritten. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.bin; do printf 'CLCONVB2garbage' > \"$f\"; done", dir);
    ck_assert_int_eq(system(cmd), 0);
    clconv_context *c;
    ck_assert_int_eq(clconv_context_create(&c), CLCONV_SUCCESS);
    cache_plan(c);
    clconv_context_cache_stats(c, &s);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_hits, 0);
    clconv_context_destroy(c);

    /* CLCONV_CACHE_DIR=off turns the disk cache off. */
    setenv("CLCONV_CACHE_DIR", "off", 1);
    ck_assert_int_eq(clconv_context_create(&c), CLCONV_SUCCESS);
    ck_assert_str_eq(clconv_context_cache_dir(c), "");
    cache_plan(c);
    clconv_context_cache_stats(c, &s);
    ck_assert_uint_eq(s.disk_writes, 0);
    clconv_context_destroy(c);

    if (old) {
        setenv("CLCONV_CACHE_DIR", old, 1);
        free(old);
    } else {
        unsetenv("CLCONV_CACHE_DIR");
    }
    remove_dir(dir);
    free(dir);
}
END_TEST

START_TEST(build_failure_carries_log)
{
    char *dir = make_temp_dir();
    char path[600];
    snprintf(path, sizeof path, "%s/common.cl", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("/* empty */\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/conv2d.cl", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("__kernel void conv2d_register(__global float *x) { x[0] = undeclared_thing; }\n", f);
    fclose(f);
    setenv("CLCONV_KERNEL_DIR", dir, 1);
    setenv("CLCONV_CACHE_DIR", "off", 1);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 3, 3);
    clconv_shape in = {1, 1, 5, 5};
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan),
                     CLCONV_ERROR_BUILD_FAILED);
    const char *msg = clconv_last_error(ctx);
    ck_assert_msg(strstr(msg, "undeclared_thing") != NULL, "no build log in: %s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "kernels/conv2d.cl"));
    clconv_context_destroy(ctx);
    /* A kernel directory without the file is an I/O error naming the path. */
    remove(path);
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_ERROR_IO);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "conv2d.cl"));
    clconv_context_destroy(ctx);
    unsetenv("CLCONV_KERNEL_DIR");
    unsetenv("CLCONV_CACHE_DIR");
    remove_dir(dir);
    free(dir);
}
END_TEST

START_TEST(device_selection)
{
    clconv_context *c;
    ck_assert_int_eq(clconv_context_create_for("0:0", &c), CLCONV_SUCCESS);
    char name[256];
    snprintf(name, sizeof name, "%s", clconv_context_device_name(c));
    clconv_context_destroy(c);
    ck_assert_int_eq(clconv_context_create_for("99:0", &c), CLCONV_ERROR_NO_DEVICE);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "99:0"));
    ck_assert_int_eq(clconv_context_create_for("no-such-device-anywhere", &c),
                     CLCONV_ERROR_NO_DEVICE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "no-such-device-anywhere"));
    /* A substring of the name, in another case, finds the same device. */
    char sub[8] = {0};
    for (int i = 0; i < 4 && name[i]; i++)
        sub[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 : name[i]);
    ck_assert_int_eq(clconv_context_create_for(sub, &c), CLCONV_SUCCESS);
    clconv_context_destroy(c);
    setenv("CLCONV_DEVICE", "42:42", 1);
    ck_assert_int_eq(clconv_context_create(&c), CLCONV_ERROR_NO_DEVICE);
    unsetenv("CLCONV_DEVICE");
}
END_TEST

START_TEST(caller_owned_queue)
{
    clconv_context *base = tu_ctx();
    clconv_context *c;
    ck_assert_int_eq(clconv_context_create_from_queue(NULL, clconv_context_queue(base), &c),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_context_create_from_queue(clconv_context_cl_context(base),
                                                      clconv_context_queue(base), &c),
                     CLCONV_SUCCESS);
    ck_assert_ptr_eq(clconv_context_queue(c), clconv_context_queue(base));
    cache_plan(c);
    clconv_context_destroy(c);
    cache_plan(base); /* the caller's queue and context are still alive */
}
END_TEST


int main(void)
{
    Suite *s = suite_create("context");
    TCase *ctx = tcase_create("context");
    tcase_set_timeout(ctx, 300);
    tcase_add_test(ctx, disk_cache_second_context_loads);
    tcase_add_test(ctx, build_failure_carries_log);
    tcase_add_test(ctx, device_selection);
    tcase_add_test(ctx, caller_owned_queue);
    suite_add_tcase(s, ctx);
    return tu_run_suite(s);
}
