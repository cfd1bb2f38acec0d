/* dense_isa.h: the builds of dense_kern.c, one per instruction set, and the
 * table dense.c picks from (exposed so tests can compare them). */
#ifndef ST_DENSE_ISA_H
#define ST_DENSE_ISA_H

#include "act.h"

#define ST_DENSE_DECLARE(isa)                                                                \
    void st_dense_forward_##isa(float *z, float *h, const float *x, const float *W,         \
                                const float *b, int B, int in, int out, long ld,             \
                                enum st_act act);                                            \
    void st_dense_backward_w_##isa(float *dW, float *db, const float *dz, const float *x,    \
                                   int B, int in, int out, long ld);                         \
    void st_dense_backward_x_##isa(float *dzp, const float *dz, const float *W,              \
                                   const float *zp, int B, int in, int out, long ld,         \
                                   enum st_act act);

ST_DENSE_DECLARE(base)
#if defined(__x86_64__)
ST_DENSE_DECLARE(v3)
ST_DENSE_DECLARE(v4)
#endif

struct st_dense_kernels {
    const char *isa; /* "v4" (AVX-512), "v3" (AVX2 + FMA) or "base" */
    void (*forward)(float *, float *, const float *, const float *, const float *, int, int, int,
                    long, enum st_act);
    void (*backward_w)(float *, float *, const float *, const float *, int, int, int, long);
    void (*backward_x)(float *, const float *, const float *, const float *, int, int, int, long,
                       enum st_act);
};

/* The builds this CPU can run, best first, and their number in *n. */
const struct st_dense_kernels *st_dense_builds(int *n);

/* The build in use (the first of st_dense_builds). */
const struct st_dense_kernels *st_dense_kernels(void);

#endif
