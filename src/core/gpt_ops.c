/* gpt_ops.c: the GPT-2 operations of gpt_ops.h except attention (gpt_attn.c):
 * embedding, LayerNorm, the linear layers through cblas_sgemm, GELU_tanh, the
 * residual add and the tied head. Activations are token-major [rows, C];
 * backward passes add into their gradients. */
#include "gpt_ops.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>

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

/* The variance is the mean of squared deviations from the mean (two passes:
 * no cancellation as in E[x^2] - E[x]^2), divided by C as PyTorch's
 * LayerNorm does, not C - 1. */
void st_gpt_layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C; /* [C] */
        float *o = out + (size_t)n * C;      /* [C] */
        float m = 0.0f, v = 0.0f;
        for (int c = 0; c < C; c++)
            m += xr[c];
        m /= (float)C;
        for (int c = 0; c < C; c++) {
            float d = xr[c] - m;
            v += d * d;
        }
        v /= (float)C;
        float s = 1.0f / sqrtf(v + 1e-5f);
        for (int c = 0; c < C; c++)
            o[c] = (xr[c] - m) * s * w[c] + b[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

/* With xhat = (x - mean) * rstd and g = dout * w, the row's input gradient is
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 * the two means over the C channels coming from the dependence of mean and
 * rstd on every x of the row. */
void st_gpt_layernorm_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *w, const float *mean, const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C;   /* [C] */
        const float *d = dout + (size_t)n * C; /* [C] */
        float m = mean[n], s = rstd[n];
        if (dw || db)
            for (int c = 0; c < C; c++) {
                if (dw)
                    dw[c] += d[c] * ((xr[c] - m) * s);
                if (db)
                    db[c] += d[c];
            }
        if (!dx)
            continue;
        float g_mean = 0.0f, gx_mean = 0.0f;
        for (int c = 0; c < C; c++) {
            float g = d[c] * w[c];
            g_mean += g;
            gx_mean += g * ((xr[c] - m) * s);
        }
        g_mean /= (float)C;
        gx_mean /= (float)C;
        float *dxr = dx + (size_t)n * C; /* [C] */
        for (int c = 0; c < C; c++)
            dxr[c] += s * (d[c] * w[c] - g_mean - (xr[c] - m) * s * gx_mean);
    }
}

void st_gpt_linear_forward(float *y, const float *x, const float *W, const float *b, int N, int in,
                           int out)
{
    if (b)
        for (int n = 0; n < N; n++)
            for (int j = 0; j < out; j++)
                y[(size_t)n * out + j] = b[j];
    /* y[N,out] = x[N,in] * W^T[in,out] + (b in every row, or nothing) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, W, in,
                b ? 1.0f : 0.0f, y, out);
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

/* sqrt(2/pi) and the cubic's coefficient of GPT-2's GELU. */
#define GELU_K 0.7978845608028654f
#define GELU_A 0.044715f

void st_gpt_gelu_forward(float *out, const float *x, long n)
{
    for (long i = 0; i < n; i++) {
        float z = x[i];
        out[i] = 0.5f * z * (1.0f + tanhf(GELU_K * (z + GELU_A * z * z * z)));
    }
}

/* d/dz [z/2 (1 + tanh u)] with u = K (z + A z^3):
 *   (1 + tanh u) / 2 + z/2 (1 - tanh^2 u) K (1 + 3 A z^2). */
void st_gpt_gelu_backward(float *dx, const float *dout, const float *x, long n)
{
    for (long i = 0; i < n; i++) {
        float z = x[i];
        float th = tanhf(GELU_K * (z + GELU_A * z * z * z));
        float g = 0.5f * (1.0f + th) +
                  0.5f * z * (1.0f - th * th) * GELU_K * (1.0f + 3.0f * GELU_A * z * z);
        dx[i] += dout[i] * g;
    }
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
