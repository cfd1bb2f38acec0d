/* gpt_isa.h: the builds of gpt_kern.c, one per instruction set as for
 * dense_kern.c, and the table gpt_ops.c calls (exposed so tests can compare
 * them). */
#ifndef ST_GPT_ISA_H
#define ST_GPT_ISA_H

/* Floats of attention scratch per sequence and head: a head's keys (or
 * values) transposed, [hs, T], its values (or keys) and the backward pass's
 * key and value gradients as contiguous rows, [T, hs] each, and the backward
 * pass's rows of score gradients and probabilities, [4, T] each. */
#define ST_GPT_ATTN_SCRATCH(T, hs) ((4 * (size_t)(hs) + 8) * (size_t)(T))

#define ST_GPT_DECLARE(isa)                                                                  \
    void st_gpt_attention_forward_##isa(float *out, float *att, float *scratch,              \
                                        const float *qkv, int B, int T, int C, int H);       \
    void st_gpt_attention_backward_##isa(float *dqkv, float *scratch, const float *dout,     \
                                         const float *qkv, const float *att,                 \
                                         const float *out, int B, int T, int C, int H);      \
    void st_gpt_gelu_forward_##isa(float *out, const float *x, long n);                      \
    void st_gpt_gelu_backward_##isa(float *dx, const float *dout, const float *x, long n);  \
    void st_gpt_layernorm_forward_##isa(float *out, float *mean, float *rstd, const float *x, \
                                        const float *w, const float *b, int N, int C);       \
    void st_gpt_layernorm_backward_##isa(float *dx, float *dw, float *db, const float *dout,  \
                                         const float *x, const float *w, const float *mean,  \
                                         const float *rstd, int N, int C);

ST_GPT_DECLARE(base)
#if defined(__x86_64__)
ST_GPT_DECLARE(v3)
ST_GPT_DECLARE(v4)
#endif

struct st_gpt_kernels {
    const char *isa; /* as st_dense_kernels' */
    void (*attention_forward)(float *, float *, float *, const float *, int, int, int, int);
    void (*attention_backward)(float *, float *, const float *, const float *, const float *,
                               const float *, int, int, int, int);
    void (*gelu_forward)(float *, const float *, long);
    void (*gelu_backward)(float *, const float *, const float *, long);
    void (*layernorm_forward)(float *, float *, float *, const float *, const float *,
                              const float *, int, int);
    void (*layernorm_backward)(float *, float *, float *, const float *, const float *,
                               const float *, const float *, const float *, int, int);
};

/* The builds this CPU runs, best first (the same choice as
 * st_dense_builds), and their number in *n. */
const struct st_gpt_kernels *st_gpt_builds(int *n);

#endif
