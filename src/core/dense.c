/* dense.c: see dense.h. Calls the best build of dense_kern.c that the CPU
 * runs, chosen once when the program starts. */
#include "dense.h"
#include "dense_isa.h"

#define KERNELS(isa)                                                                         \
    {                                                                                        \
        #isa, st_dense_forward_##isa, st_dense_backward_w_##isa, st_dense_backward_x_##isa \
    }

static const struct st_dense_kernels all[] = {
#if defined(__x86_64__)
    KERNELS(v4),
    KERNELS(v3),
#endif
    KERNELS(base),
};

static const struct st_dense_kernels *usable = all + sizeof all / sizeof all[0] - 1;
static int n_usable = 1;

/* Runs before main: the table is read-only from then on, so threads share it. */
__attribute__((constructor)) static void pick(void)
{
    int first = (int)(sizeof all / sizeof all[0]) - 1;
#if defined(__x86_64__) && defined(__clang__)
    /* clang names features, not levels: the ones the builds use. */
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    if (v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        first = 0;
    else if (v3)
        first = 1;
#elif defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        first = 0;
    else if (__builtin_cpu_supports("x86-64-v3"))
        first = 1;
#endif
    usable = all + first;
    n_usable = (int)(sizeof all / sizeof all[0]) - first;
}

const struct st_dense_kernels *st_dense_builds(int *n)
{
    *n = n_usable;
    return usable;
}

const struct st_dense_kernels *st_dense_kernels(void)
{
    return usable;
}

long st_dense_ld(long B)
{
    return (B + ST_DENSE_LANES - 1) / ST_DENSE_LANES * ST_DENSE_LANES;
}

void st_dense_forward(float *z, float *h, const float *x, const float *W, const float *b, int B,
                      int in, int out, long ld, enum st_act act)
{
    usable->forward(z, h, x, W, b, B, in, out, ld, act);
}

void st_dense_backward_w(float *dW, float *db, const float *dz, const float *x, int B, int in,
                         int out, long ld)
{
    usable->backward_w(dW, db, dz, x, B, in, out, ld);
}

void st_dense_backward_x(float *dzp, const float *dz, const float *W, const float *zp, int B,
                         int in, int out, long ld, enum st_act act)
{
    usable->backward_x(dzp, dz, W, zp, B, in, out, ld, act);
}
