/* gpt_ops.c: the GPT-2 operations of gpt_ops.h: embedding, LayerNorm, the
 * linear layers through cblas_sgemm, the residual add and the tied head here;
 * attention and GELU_tanh in the best build of gpt_kern.c the CPU runs. Activations are token-major [rows, C];
 * backward passes add into their gradients. */
#include "gpt_ops.h"
#include "gpt_isa.h"

#include "dense_isa.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>

/* The builds of gpt_kern.c, in st_dense_builds' order. */
#define KERNELS(isa)                                                                        \
    {                                                                                       \
        #isa, st_gpt_attention_forward_##isa, st_gpt_attention_backward_##isa,             \
            st_gpt_gelu_forward_##isa, st_gpt_gelu_backward_##isa,                          \
            st_gpt_layernorm_forward_##isa, st_gpt_layernorm_backward_##isa                 \
    }

static const struct st_gpt_kernels all[] = {
#if defined(__x86_64__)
    KERNELS(v4),
    KERNELS(v3),
#endif
    KERNELS(base),
};

const struct st_gpt_kernels *st_gpt_builds(int *n)
{
    st_dense_builds(n);
    return all + (int)(sizeof all / sizeof all[0]) - *n;
}

static const struct st_gpt_kernels *best(void)
{
    int n;
    return st_gpt_builds(&n);
}

void st_gpt_embed_forward(float *out, const int *tok, const float *wte, const float *wpe, int B,
                          int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;                  /* [C] */
            const float *e = wte + (size_t)tok[(size_t)b * T + t] * C; /* [C] */
            const float *p = wpe + (size_t)t * C;                      /* [C] */
            for (int c = 0; c < C; c++)
                o[c] = e[c] + p[c];
        }
}

void st_gpt_embed_backward(float *dwte, float *dwpe, const float *dout, const int *tok, int B,
                           int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C; /* [C] */
            if (dwte) {
                float *de = dwte + (size_t)tok[(size_t)b * T + t] * C;
                for (int c = 0; c < C; c++)
                    de[c] += d[c];
            }
            if (dwpe) {
                float *dp = dwpe + (size_t)t * C;
                for (int c = 0; c < C; c++)
                    dp[c] += d[c];
            }
        }
}

void st_gpt_layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int N, int C)
{
    best()->layernorm_forward(out, mean, rstd, x, w, b, N, C);
}

void st_gpt_layernorm_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *w, const float *mean, const float *rstd, int N, int C)
{
    best()->layernorm_backward(dx, dw, db, dout, x, w, mean, rstd, N, C);
}

void st_gpt_linear_residual_forward(float *y, const float *res, const float *x, const float *W,
                                    const float *b, int N, int in, int out)
{
    /* y = res + b (one pass), then y += x * W^T */
    if (res || b)
        for (int n = 0; n < N; n++) {
            float *yr = y + (size_t)n * out;
            const float *rr = res ? res + (size_t)n * out : NULL;
            if (rr && b)
                for (int j = 0; j < out; j++)
                    yr[j] = rr[j] + b[j];
            else if (rr)
                for (int j = 0; j < out; j++)
                    yr[j] = rr[j];
            else
                for (int j = 0; j < out; j++)
                    yr[j] = b[j];
        }
    /* y[N,out] = x[N,in] * W^T[in,out] + (y, or nothing) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, W, in,
                res || b ? 1.0f : 0.0f, y, out);
}

void st_gpt_linear_forward(float *y, const float *x, const float *W, const float *b, int N, int in,
                           int out)
{
    st_gpt_linear_residual_forward(y, NULL, x, W, b, N, in, out);
}

void st_gpt_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                            const float *W, int N, int in, int out)
{
    if (dx)
        /* dx[N,in] += dy[N,out] * W[out,in] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in, out, 1.0f, dy, out, W, in,
                    1.0f, dx, in);
    if (dW)
        /* dW[out,in] += dy^T[out,N] * x[N,in] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, N, 1.0f, dy, out, x, in, 1.0f,
                    dW, in);
    if (db)
        for (int n = 0; n < N; n++)
            for (int j = 0; j < out; j++)
                db[j] += dy[(size_t)n * out + j];
}

size_t st_gpt_attention_scratch(int B, int T, int C, int H)
{
    return (size_t)B * (size_t)H * ST_GPT_ATTN_SCRATCH(T, C / H);
}

void st_gpt_attention_forward(float *out, float *att, float *scratch, const float *qkv, int B,
                              int T, int C, int H)
{
    best()->attention_forward(out, att, scratch, qkv, B, T, C, H);
}

void st_gpt_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                               const float *att, const float *out, int B, int T, int C, int H)
{
    best()->attention_backward(dqkv, scratch, dout, qkv, att, out, B, T, C, H);
}

void st_gpt_gelu_forward(float *out, const float *x, long n)
{
    best()->gelu_forward(out, x, n);
}

void st_gpt_gelu_backward(float *dx, const float *dout, const float *x, long n)
{
    best()->gelu_backward(dx, dout, x, n);
}

void st_gpt_residual_forward(float *out, const float *a, const float *b, long n)
{
    for (long i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void st_gpt_residual_backward(float *da, float *db, const float *dout, long n)
{
    if (da)
        for (long i = 0; i < n; i++)
            da[i] += dout[i];
    if (db)
        for (long i = 0; i < n; i++)
            db[i] += dout[i];
}

/* The head is a linear layer without bias whose weight is the embedding. */
void st_gpt_head_forward(float *logits, const float *x, const float *wte, int N, int C, int V)
{
    st_gpt_linear_forward(logits, x, wte, NULL, N, C, V);
}

void st_gpt_head_backward(float *dx, float *dwte, const float *dlogits, const float *x,
                          const float *wte, int N, int C, int V)
{
    st_gpt_linear_backward(dx, dwte, NULL, dlogits, x, wte, N, C, V);
}
