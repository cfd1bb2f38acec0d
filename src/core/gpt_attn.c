/* gpt_attn.c: causal multi-head self-attention of gpt_ops.h on qkv[B*T, 3C].
 * Hand-written loops: position t reads positions 0..t only, so the masked
 * half of the T x T scores is never computed, and rows of q, k, v are read
 * in order along their hs channels. */
#include "gpt_ops.h"

#include <math.h>
#include <stddef.h>

/* a[n] . b[n] in 8 interleaved partial sums (lane j takes i = j, j+8, ...),
 * added pairwise, then the tail: a fixed order the compiler can vectorize. */
static float dot(const float *a, const float *b, int n)
{
    float acc[8] = { 0 };
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += a[i + j] * b[i + j];
    float s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* y[n] += a * x[n] */
static void axpy(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

void st_gpt_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int H)
{
    int hs = C / H;
    size_t C3 = 3 * (size_t)C;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                const float *q = qkv + ((size_t)b * T + t) * C3 + (size_t)h * hs; /* [hs] */
                float *a = att + (((size_t)b * H + h) * T + t) * T;               /* [T] */
                float *o = out + ((size_t)b * T + t) * C + (size_t)h * hs;        /* [hs] */
                /* a[s] = q_t . k_s / sqrt(hs) for s <= t, then softmax after
                 * subtracting the row's largest score (exp never overflows). */
                float mx = -INFINITY;
                for (int s = 0; s <= t; s++) {
                    const float *k = qkv + ((size_t)b * T + s) * C3 + C + (size_t)h * hs;
                    a[s] = dot(q, k, hs) * scale;
                    if (a[s] > mx)
                        mx = a[s];
                }
                float sum = 0.0f;
                for (int s = 0; s <= t; s++) {
                    a[s] = expf(a[s] - mx);
                    sum += a[s];
                }
                float inv = 1.0f / sum;
                for (int s = 0; s <= t; s++)
                    a[s] *= inv;
                for (int s = t + 1; s < T; s++)
                    a[s] = 0.0f;
                /* o = sum over s <= t of a[s] v_s */
                for (int i = 0; i < hs; i++)
                    o[i] = 0.0f;
                for (int s = 0; s <= t; s++)
                    axpy(o, a[s], qkv + ((size_t)b * T + s) * C3 + 2 * (size_t)C + (size_t)h * hs,
                         hs);
            }
}

/* Per sequence, head and query position t, with p = att[b, h, t, :] and
 * g = dout_t (this head's channels):
 *   dv_s += p_s g;  dp_s = g . v_s;
 *   dscore_s = p_s (dp_s - sum_r p_r dp_r) / sqrt(hs)   (softmax backward),
 *   dq_t += dscore_s k_s;  dk_s += dscore_s q_t,
 * where sum_r p_r dp_r = g . (sum_r p_r v_r) = g . out_t, so one pass over
 * s <= t does it all, with no scratch row. */
void st_gpt_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                               const float *out, int B, int T, int C, int H)
{
    int hs = C / H;
    size_t C3 = 3 * (size_t)C;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                size_t qoff = ((size_t)b * T + t) * C3 + (size_t)h * hs;
                const float *q = qkv + qoff;                                      /* [hs] */
                float *dq = dqkv + qoff;                                          /* [hs] */
                const float *p = att + (((size_t)b * H + h) * T + t) * T;         /* [T] */
                const float *g = dout + ((size_t)b * T + t) * C + (size_t)h * hs; /* [hs] */
                const float *o = out + ((size_t)b * T + t) * C + (size_t)h * hs;  /* [hs] */
                float pdp = dot(g, o, hs);
                for (int s = 0; s <= t; s++) {
                    size_t koff = ((size_t)b * T + s) * C3 + C + (size_t)h * hs;
                    const float *k = qkv + koff, *v = k + C; /* [hs] */
                    float *dk = dqkv + koff, *dv = dk + C;   /* [hs] */
                    float ds = p[s] * (dot(g, v, hs) - pdp) * scale;
                    axpy(dv, p[s], g, hs);
                    axpy(dq, ds, k, hs);
                    axpy(dk, ds, q, hs);
                }
            }
}
