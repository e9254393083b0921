/* The registry: every algorithm of every operator on the algorithm
 * interface (host/algo.h), and building / undoing a plan with one of them.
 * Adding an algorithm: write its file under host/<operator>/ with one
 * `const clconv_algo`, declare it in algo.h, list it here (and, for AUTO,
 * give it a rule in select.c). */
#include "algo.h"

#include <stdio.h>
#include <string.h>

static const clconv_algo *const registry[] = {
    &clconv_conv2d_direct_tiled,   &clconv_conv2d_direct_register,
    &clconv_conv2d_direct_vector,  &clconv_conv2d_direct_depthwise,
    &clconv_conv2d_direct_pointwise, &clconv_conv2d_gemm,
    &clconv_conv2d_winograd,
    &clconv_ct_gather,             &clconv_ct_vector,
    &clconv_ct_columns,            &clconv_ct_gemm,
};

#define REGISTRY_SIZE (sizeof registry / sizeof registry[0])

const clconv_algo *clconv_algo_lookup(clconv_op op, clconv_algorithm id)
{
    for (size_t i = 0; i < REGISTRY_SIZE; i++)
        if (registry[i]->op == op && registry[i]->id == id)
            return registry[i];
    return NULL;
}

const char *clconv_algo_names(clconv_op op)
{
    /* Per thread: messages copy it at once. */
    static _Thread_local char names[256];
    size_t n = (size_t)snprintf(names, sizeof names, "auto");
    for (size_t i = 0; i < REGISTRY_SIZE && n < sizeof names; i++)
        if (registry[i]->op == op)
            n += (size_t)snprintf(names + n, sizeof names - n, ", %s",
                                  clconv_algorithm_name(registry[i]->id));
    return names;
}

void clconv_plan_reset(clconv_plan *plan)
{
    if (plan->algo && plan->algo->destroy)
        plan->algo->destroy(plan);
    plan->algo = NULL;
    plan->state = NULL;
    if (plan->kernel)
        clReleaseKernel(plan->kernel);
    plan->kernel = NULL;
    plan->ordered = false;
    plan->work_dim = 0;
    plan->info.algorithm = CLCONV_ALGO_AUTO;
    plan->info.workspace_bytes = plan->info.plan_device_bytes = 0;
    plan->info.local_mem_bytes = 0;
    memset(plan->info.local_size, 0, sizeof plan->info.local_size);
    memset(plan->info.global_size, 0, sizeof plan->info.global_size);
    plan->info.build_options[0] = '\0';
    plan->info.kernel_name[0] = '\0';
}

clconv_status clconv_plan_build_with(clconv_plan *plan, const clconv_algo *algo,
                                     const clconv_plan_options *opts)
{
    plan->algo = algo;
    plan->info.algorithm = algo->id;
    clconv_status st = algo->plan(plan, opts);
    if (st)
        clconv_plan_reset(plan);
    return st;
}
