/* Find mode and the tuning database: the winner is a real, correct plan, it
 * is recorded, and a second context (as a second process) reuses it. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_against_reference(clconv_context *ctx, const clconv_conv2d_params *p,
                                    const clconv_shape *in, const clconv_plan_options *o,
                                    clconv_algorithm *algo)
{
    clconv_plan *plan;
    clconv_status st = clconv_conv2d_plan_create(ctx, p, in, o, &plan);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s", clconv_last_error(ctx));
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    *algo = info.algorithm;
    ck_assert_int_ne(info.algorithm, CLCONV_ALGO_AUTO);
    size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(info.output);
    size_t nw = clconv_shape_elements(clconv_conv2d_weight_shape(p));
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc((size_t)p->out_channels);
    float *y = tu_alloc(ny), *ref = tu_alloc(ny);
    tu_rng r = tu_rng_make(11);
    tu_fill(&r, x, nx, true);
    tu_fill(&r, w, nw, true);
    tu_fill(&r, b, (size_t)p->out_channels, true);
    cl_context cc = clconv_context_cl_context(ctx);
    cl_int err;
    cl_mem bx = clCreateBuffer(cc, CL_MEM_COPY_HOST_PTR, nx * 4, x, &err);
    cl_mem bw = clCreateBuffer(cc, CL_MEM_COPY_HOST_PTR, nw * 4, w, &err);
    cl_mem bb = clCreateBuffer(cc, CL_MEM_COPY_HOST_PTR, (size_t)p->out_channels * 4, b, &err);
    cl_mem by = clCreateBuffer(cc, CL_MEM_READ_WRITE, ny * 4, NULL, &err);
    cl_mem ws = info.workspace_bytes
                    ? clCreateBuffer(cc, CL_MEM_READ_WRITE, info.workspace_bytes, NULL, &err)
                    : NULL;
    cl_event done;
    st = clconv_conv2d_run(plan, bx, bw, p->has_bias ? bb : NULL, by, ws, 0, NULL, &done);
    ck_assert_msg(st == CLCONV_SUCCESS, "%s", clconv_last_error(ctx));
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), by, CL_TRUE, 0, ny * 4, y, 1,
                                         &done, NULL), CL_SUCCESS);
    clReleaseEvent(done);
    ck_assert_int_eq(clconv_ref_conv2d(p, in, x, w, b, ref), CLCONV_SUCCESS);
    for (size_t i = 0; i < ny; i++)
        ck_assert_msg(y[i] == ref[i], "%s: element %zu = %g, expected %g",
                      clconv_algorithm_name(info.algorithm), i, y[i], ref[i]);
    cl_mem all[] = {bx, bw, bb, by, ws};
    for (int i = 0; i < 5; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    free(x); free(w); free(b); free(y); free(ref);
    clconv_plan_destroy(plan);
}

START_TEST(find_records_and_reuses)
{
    char tmpl[] = "/tmp/clconv-tune-XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    setenv("CLCONV_CACHE_DIR", dir, 1);

    clconv_conv2d_params p = clconv_conv2d_default_params(8, 16, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    p.activation = CLCONV_ACTIVATION_RELU;
    clconv_shape in = {2, 8, 12, 20};

    clconv_context *a;
    ck_assert_int_eq(clconv_context_create(&a), CLCONV_SUCCESS);
    char db[1200];
    snprintf(db, sizeof db, "%s", clconv_context_tuning_db(a));
    ck_assert_ptr_nonnull(strstr(db, "tuning.db"));
    clconv_plan_options find = {.algorithm = CLCONV_ALGO_AUTO, .find = 1};
    clconv_algorithm found, again, reused;
    check_against_reference(a, &p, &in, &find, &found);
    /* Remembered in the context: a plain AUTO plan takes the same winner. */
    check_against_reference(a, &p, &in, NULL, &again);
    ck_assert_int_eq(again, found);
    clconv_context_destroy(a);

    FILE *f = fopen(db, "r");
    ck_assert_msg(f != NULL, "no tuning database at %s", db);
    char line[2048];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_ptr_nonnull(strstr(line, "conv2d n=2 c=8 h=12 w=20 k=16 r=3 s=3"));

    /* A second context, as a second process would: the database decides. */
    clconv_context *b;
    ck_assert_int_eq(clconv_context_create(&b), CLCONV_SUCCESS);
    check_against_reference(b, &p, &in, NULL, &reused);
    ck_assert_int_eq(reused, found);
    clconv_context_destroy(b);

    /* A record naming another algorithm is obeyed (the database is the
     * source of truth), and malformed lines are ignored. */
    f = fopen(db, "a");
    ck_assert_ptr_nonnull(f);
    fputs("garbage without tabs\n", f);
    char *tab = strchr(line, '\t');
    ck_assert_ptr_nonnull(tab);
    tab = strchr(tab + 1, '\t');
    ck_assert_ptr_nonnull(tab);
    *tab = '\0';
    fprintf(f, "%s\tdirect-register\t0 0 0 0 0 0\t1.0\n", line);
    /* algorithms are stored by name: a number (an older format) or an
     * unknown name is skipped, not read as whatever that number means now */
    fprintf(f, "%s\t%d\t0 0 0 0 0 0\t0.5\n", line, (int)CLCONV_ALGO_WINOGRAD);
    fprintf(f, "%s\tno-such-algorithm\t0 0 0 0 0 0\t0.5\n", line);
    fclose(f);
    clconv_context *c;
    ck_assert_int_eq(clconv_context_create(&c), CLCONV_SUCCESS);
    check_against_reference(c, &p, &in, NULL, &reused);
    ck_assert_int_eq(reused, CLCONV_ALGO_DIRECT_REGISTER);
    clconv_context_destroy(c);

    /* A record this layer cannot use (depthwise for a dense layer) does not
     * break AUTO: the plan falls back to the defaults. */
    f = fopen(db, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\tdirect-depthwise\t0 0 0 0 0 0\t0.1\n", line);
    fclose(f);
    ck_assert_int_eq(clconv_context_create(&c), CLCONV_SUCCESS);
    check_against_reference(c, &p, &in, NULL, &reused);
    ck_assert_int_ne(reused, CLCONV_ALGO_DIRECT_DEPTHWISE);
    clconv_context_destroy(c);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    unsetenv("CLCONV_CACHE_DIR");
}
END_TEST

START_TEST(find_without_disk_cache)
{
    setenv("CLCONV_CACHE_DIR", "off", 1);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    ck_assert_str_eq(clconv_context_tuning_db(ctx), "");
    clconv_conv2d_params p = clconv_conv2d_default_params(4, 4, 3, 3);
    p.groups = 4; /* depthwise: other candidates apply */
    clconv_shape in = {1, 4, 9, 30};
    clconv_plan_options find = {.find = 1};
    clconv_algorithm found, again;
    check_against_reference(ctx, &p, &in, &find, &found);
    check_against_reference(ctx, &p, &in, NULL, &again);
    ck_assert_int_eq(found, again);
    clconv_context_destroy(ctx);
    unsetenv("CLCONV_CACHE_DIR");
}
END_TEST

/* A layer never timed takes the latest winner of its class (same window,
 * stride, dilation, grouping, padding and power-of-two buckets of batch,
 * channels and output pixels); another class does not. */
START_TEST(class_record_serves_untimed_layers)
{
    char tmpl[] = "/tmp/clconv-tune-XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    setenv("CLCONV_CACHE_DIR", dir, 1);
    clconv_conv2d_params p = clconv_conv2d_default_params(8, 16, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    clconv_shape timed = {2, 8, 12, 20}, sibling = {3, 8, 12, 21}, other = {2, 8, 40, 40};

    clconv_context *a;
    ck_assert_int_eq(clconv_context_create(&a), CLCONV_SUCCESS);
    clconv_plan_options find = {.find = 1};
    clconv_algorithm found, got;
    check_against_reference(a, &p, &timed, &find, &found);
    clconv_context_destroy(a);
    /* Both records are in the file. */
    char db[1200];
    snprintf(db, sizeof db, "%s/tuning.db", dir);
    FILE *f = fopen(db, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048], class_line[2048] = "";
    while (fgets(line, sizeof line, f))
        if (strstr(line, "\tconv2d-class r=3 s=3 stride=1,1 dilation=1,1 dense padded n~2 c~8 "
                         "k~16 pixels~128\t"))
            snprintf(class_line, sizeof class_line, "%s", line);
    fclose(f);
    ck_assert_msg(class_line[0], "no class record in %s", db);

    /* Make the class's winner one AUTO would not pick by itself. */
    char *tab = strchr(class_line, '\t');
    tab = strchr(tab + 1, '\t');
    *tab = '\0';
    f = fopen(db, "a");
    fprintf(f, "%s\tdirect-register\t0 0 0 0 0 0\t1.0\n", class_line);
    fclose(f);
    clconv_context *b;
    ck_assert_int_eq(clconv_context_create(&b), CLCONV_SUCCESS);
    check_against_reference(b, &p, &sibling, NULL, &got);
    ck_assert_int_eq(got, CLCONV_ALGO_DIRECT_REGISTER);
    check_against_reference(b, &p, &other, NULL, &got); /* pixels~1024: not that class */
    ck_assert_int_ne(got, CLCONV_ALGO_DIRECT_REGISTER);
    /* The timed layer keeps its own record. */
    check_against_reference(b, &p, &timed, NULL, &got);
    ck_assert_int_eq(got, found);
    clconv_context_destroy(b);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    unsetenv("CLCONV_CACHE_DIR");
}
END_TEST

/* The GPU search space (the set a GPU searches; CLCONV_FIND_SPACE=gpu makes
 * this CPU device search it): every work-group shape and register block it
 * tries builds here and computes the reference's values, and a find over it
 * returns a correct winner. */
START_TEST(gpu_search_space)
{
    static const clconv_plan_options tiles[] = {
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 16, .block_w = 1},
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 16, .block_w = 2},
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 8, .block_w = 2,
         .block_oc = 2},
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 16, .wg_h = 8, .block_w = 4,
         .block_oc = 4},
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 32, .wg_h = 4, .block_w = 2,
         .block_oc = 2},
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 8, .wg_h = 8, .wg_oc = 4, .block_w = 2,
         .block_oc = 2},
        {.algorithm = CLCONV_ALGO_DIRECT_TILED, .wg_w = 8, .wg_h = 8, .block_w = 4,
         .block_oc = 4, .ci_chunk = 8},
        {.algorithm = CLCONV_ALGO_DIRECT_REGISTER, .wg_w = 16, .wg_h = 16, .block_w = 2},
        {.algorithm = CLCONV_ALGO_DIRECT_REGISTER, .wg_w = 16, .wg_h = 8, .block_w = 4,
         .block_oc = 4},
        {.algorithm = CLCONV_ALGO_DIRECT_REGISTER, .wg_w = 32, .wg_h = 4, .block_w = 1,
         .block_oc = 4},
    };
    setenv("CLCONV_CACHE_DIR", "off", 1);
    clconv_context *ctx;
    ck_assert_int_eq(clconv_context_create(&ctx), CLCONV_SUCCESS);
    clconv_conv2d_params p = clconv_conv2d_default_params(12, 10, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.has_bias = 1;
    clconv_shape in = {1, 12, 19, 37};
    clconv_algorithm got;
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
        check_against_reference(ctx, &p, &in, &tiles[i], &got);
        ck_assert_int_eq(got, tiles[i].algorithm);
    }
    /* The variable is read when a context is made; a malformed one is refused. */
    clconv_context *gctx;
    setenv("CLCONV_FIND_SPACE", "gpus", 1);
    ck_assert_int_eq(clconv_context_create(&gctx), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "CLCONV_FIND_SPACE = 'gpus'"));
    setenv("CLCONV_FIND_SPACE", "gpu", 1);
    ck_assert_int_eq(clconv_context_create(&gctx), CLCONV_SUCCESS);
    unsetenv("CLCONV_FIND_SPACE");
    clconv_plan_options find = {.find = 1};
    check_against_reference(gctx, &p, &in, &find, &got);
    ck_assert_msg(got == CLCONV_ALGO_DIRECT_TILED || got == CLCONV_ALGO_DIRECT_REGISTER ||
                      got == CLCONV_ALGO_GEMM || got == CLCONV_ALGO_WINOGRAD,
                  "the GPU set picked %s", clconv_algorithm_name(got));
    clconv_context_destroy(gctx);
    /* The same from the context option, the environment unset. */
    clconv_context_options go = {.cache_dir = "off", .find_space = CLCONV_FIND_SPACE_GPU};
    ck_assert_int_eq(clconv_context_create_with_options(&go, &gctx), CLCONV_SUCCESS);
    check_against_reference(gctx, &p, &in, &find, &got);
    ck_assert_msg(got == CLCONV_ALGO_DIRECT_TILED || got == CLCONV_ALGO_DIRECT_REGISTER ||
                      got == CLCONV_ALGO_GEMM || got == CLCONV_ALGO_WINOGRAD,
                  "the GPU set (option) picked %s", clconv_algorithm_name(got));
    ck_assert_str_eq(clconv_context_cache_dir(gctx), "");
    clconv_context_destroy(gctx);
    clconv_context_destroy(ctx);
    unsetenv("CLCONV_CACHE_DIR");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tune");
    TCase *tc = tcase_create("find");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, find_records_and_reuses);
    tcase_add_test(tc, find_without_disk_cache);
    tcase_add_test(tc, class_record_serves_untimed_layers);
    tcase_add_test(tc, gpu_search_space);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
