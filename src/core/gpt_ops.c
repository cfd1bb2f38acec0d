/* gpt_ops.c: see gpt_ops.h. The matrix products go through cblas_sgemm;
 * the rest are loops over rows, summing in index order. */
#include "gpt_ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void st_gpt_embedding_forward(float *out, const int *tok, const float *wte, const float *wpe,
                              int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            long n = (long)b * T + t;
            const float *e = wte + (long)tok[n] * C, *pe = wpe + (long)t * C;
            float *o = out + n * C;
            for (int c = 0; c < C; c++)
                o[c] = e[c] + pe[c];
        }
}

void st_gpt_embedding_backward(float *dwte, float *dwpe, const float *dout, const int *tok, int B,
                               int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            long n = (long)b * T + t;
            const float *d = dout + n * C;
            if (dwte) {
                float *g = dwte + (long)tok[n] * C;
                for (int c = 0; c < C; c++)
                    g[c] += d[c];
            }
            if (dwpe) {
                float *g = dwpe + (long)t * C;
                for (int c = 0; c < C; c++)
                    g[c] += d[c];
            }
        }
}

void st_gpt_layernorm_forward(float *out, float *mean, float *rstd, const float *x,
                              const float *w, const float *b, int N, int C)
{
    for (long n = 0; n < N; n++) {
        const float *xn = x + n * C;
        float *o = out + n * C;
        double m = 0.0, v = 0.0;
        for (int c = 0; c < C; c++)
            m += (double)xn[c];
        m /= C;
        for (int c = 0; c < C; c++) {
            double d = (double)xn[c] - m;
            v += d * d;
        }
        v /= C; /* biased, as PyTorch's LayerNorm */
        float s = (float)(1.0 / sqrt(v + 1e-5)), mf = (float)m;
        for (int c = 0; c < C; c++)
            o[c] = (xn[c] - mf) * s * w[c] + b[c];
        mean[n] = mf;
        rstd[n] = s;
    }
}

/* With xhat = (x - mean) * rstd and g = dout * w:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)). */
void st_gpt_layernorm_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *w, const float *mean, const float *rstd, int N, int C)
{
    for (long n = 0; n < N; n++) {
        const float *xn = x + n * C, *dn = dout + n * C;
        float m = mean[n], s = rstd[n];
        double gm = 0.0, gx = 0.0;
        for (int c = 0; c < C; c++) {
            float xhat = (xn[c] - m) * s, g = dn[c] * w[c];
            gm += (double)g;
            gx += (double)g * (double)xhat;
            if (dw)
                dw[c] += dn[c] * xhat;
            if (db)
                db[c] += dn[c];
        }
        if (!dx)
            continue;
        float a = (float)(gm / C), bx = (float)(gx / C);
        float *d = dx + n * C;
        for (int c = 0; c < C; c++) {
            float xhat = (xn[c] - m) * s;
            d[c] += s * (dn[c] * w[c] - a - xhat * bx);
        }
    }
}

void st_gpt_linear_forward(float *y, const float *x, const float *W, const float *b, int N,
                           int in, int out)
{
    for (long n = 0; n < N; n++) {
        float *yn = y + n * out;
        if (b)
            memcpy(yn, b, (size_t)out * sizeof *yn);
        else
            memset(yn, 0, (size_t)out * sizeof *yn);
    }
    /* y[N, out] += x[N, in] * W[out, in]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, W, in, 1.0f, y,
                out);
}

void st_gpt_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                            const float *W, int N, int in, int out)
{
    /* dx[N, in] += dy[N, out] * W[out, in] */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in, out, 1.0f, dy, out, W, in,
                    1.0f, dx, in);
    /* dW[out, in] += dy^T[out, N] * x[N, in] */
    if (dW)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, N, 1.0f, dy, out, x, in,
                    1.0f, dW, in);
    if (db)
        for (long n = 0; n < N; n++) {
            const float *d = dy + n * out;
            for (int o = 0; o < out; o++)
                db[o] += d[o];
        }
}

void st_gpt_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                              int H)
{
    int hs = C / H;
    long C3 = 3L * C;
    float scale = (float)(1.0 / sqrt((double)hs));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                const float *q = qkv + ((long)b * T + t) * C3 + (long)h * hs;
                float *a = att + (((long)b * H + h) * T + t) * T;
                float mx = -INFINITY;
                for (int s = 0; s <= t; s++) {
                    const float *k = qkv + ((long)b * T + s) * C3 + C + (long)h * hs;
                    float dot = 0.0f;
                    for (int j = 0; j < hs; j++)
                        dot += q[j] * k[j];
                    a[s] = dot * scale;
                    mx = a[s] > mx ? a[s] : mx;
                }
                double sum = 0.0;
                for (int s = 0; s <= t; s++) {
                    a[s] = expf(a[s] - mx);
                    sum += (double)a[s];
                }
                float inv = (float)(1.0 / sum);
                for (int s = 0; s <= t; s++)
                    a[s] *= inv;
                for (int s = t + 1; s < T; s++)
                    a[s] = 0.0f;
                float *o = out + ((long)b * T + t) * C + (long)h * hs;
                memset(o, 0, (size_t)hs * sizeof *o);
                for (int s = 0; s <= t; s++) {
                    const float *v = qkv + ((long)b * T + s) * C3 + 2L * C + (long)h * hs;
                    for (int j = 0; j < hs; j++)
                        o[j] += a[s] * v[j];
                }
            }
}

void st_gpt_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int H)
{
    int hs = C / H;
    long C3 = 3L * C;
    float scale = (float)(1.0 / sqrt((double)hs));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                const float *a = att + (((long)b * H + h) * T + t) * T;
                float *da = datt + (((long)b * H + h) * T + t) * T;
                const float *dO = dout + ((long)b * T + t) * C + (long)h * hs;
                /* out_t = sum_s a_s v_s: da_s = dO . v_s, dv_s += a_s dO */
                double dot = 0.0;
                for (int s = 0; s <= t; s++) {
                    const float *v = qkv + ((long)b * T + s) * C3 + 2L * C + (long)h * hs;
                    float *dv = dqkv + ((long)b * T + s) * C3 + 2L * C + (long)h * hs;
                    float d = 0.0f;
                    for (int j = 0; j < hs; j++) {
                        d += dO[j] * v[j];
                        dv[j] += a[s] * dO[j];
                    }
                    da[s] = d;
                    dot += (double)d * (double)a[s];
                }
                /* softmax: dz_s = a_s (da_s - sum_r a_r da_r); z_s = scale q . k_s */
                const float *q = qkv + ((long)b * T + t) * C3 + (long)h * hs;
                float *dq = dqkv + ((long)b * T + t) * C3 + (long)h * hs;
                for (int s = 0; s <= t; s++) {
                    float dz = a[s] * (da[s] - (float)dot) * scale;
                    const float *k = qkv + ((long)b * T + s) * C3 + C + (long)h * hs;
                    float *dk = dqkv + ((long)b * T + s) * C3 + C + (long)h * hs;
                    for (int j = 0; j < hs; j++) {
                        dq[j] += dz * k[j];
                        dk[j] += dz * q[j];
                    }
                }
            }
}

#define GELU_K 0.7978845608028654 /* sqrt(2 / pi) */

void st_gpt_gelu_forward(float *out, const float *x, long n)
{
    for (long i = 0; i < n; i++) {
        float z = x[i];
        out[i] = 0.5f * z * (1.0f + tanhf((float)GELU_K * (z + 0.044715f * z * z * z)));
    }
}

void st_gpt_gelu_backward(float *dx, const float *dout, const float *x, long n)
{
    for (long i = 0; i < n; i++) {
        float z = x[i], u = (float)GELU_K * (z + 0.044715f * z * z * z);
        float th = tanhf(u), sech2 = 1.0f - th * th;
        float d = 0.5f * (1.0f + th) +
                  0.5f * z * sech2 * (float)GELU_K * (1.0f + 3.0f * 0.044715f * z * z);
        dx[i] += dout[i] * d;
    }
}

void st_gpt_head_forward(float *logits, const float *x, const float *wte, int N, int C, int V)
{
    /* logits[N, V] = x[N, C] * wte[V, C]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, V, C, 1.0f, x, C, wte, C, 0.0f, logits,
                V);
}

void st_gpt_head_backward(float *dx, float *dwte, const float *dlogits, const float *x,
                          const float *wte, int N, int C, int V)
{
    /* dx[N, C] += dlogits[N, V] * wte[V, C] */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, V, 1.0f, dlogits, V, wte, C,
                    1.0f, dx, C);
    /* dwte[V, C] += dlogits^T[V, N] * x[N, C] */
    if (dwte)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, C, N, 1.0f, dlogits, V, x, C,
                    1.0f, dwte, C);
}
