/* gpt_ops.h: the operations of a GPT (gpt.h), each a forward/backward pair,
 * on token-major activations: a [N, C] block holds one row of C channels
 * per token, N = B*T tokens of B sequences of T. Backward functions add into
 * their gradients (pass NULL for one that is not needed); buffers are the
 * caller's. */
#ifndef ST_GPT_OPS_H
#define ST_GPT_OPS_H

/* out[b*T+t, :] = wte[tok[b*T+t], :] + wpe[t, :] */
void st_gpt_embedding_forward(float *out, const int *tok, const float *wte, const float *wpe,
                              int B, int T, int C);
/* dwte[tok[n], :] += dout[n, :], dwpe[t, :] += dout[b*T+t, :] */
void st_gpt_embedding_backward(float *dwte, float *dwpe, const float *dout, const int *tok, int B,
                               int T, int C);

/* out[n, :] = (x[n, :] - mean_n) * rstd_n * w + b over the C channels, with
 * the biased variance: rstd_n = 1 / sqrt(var_n + 1e-5); mean[N], rstd[N]
 * saved for the backward pass. */
void st_gpt_layernorm_forward(float *out, float *mean, float *rstd, const float *x,
                              const float *w, const float *b, int N, int C);
void st_gpt_layernorm_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *w, const float *mean, const float *rstd, int N, int C);

/* y[N, out] = x[N, in] * W[out, in]^T + b[out] (b may be NULL) */
void st_gpt_linear_forward(float *y, const float *x, const float *W, const float *b, int N,
                           int in, int out);
/* dx[N, in] += dy * W, dW[out, in] += dy^T * x, db[out] += sum of dy's rows */
void st_gpt_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                            const float *W, int N, int in, int out);

/* Causal multi-head self-attention of qkv[N, 3C] (q, k, v side by side; head
 * h takes channels h*hs .. h*hs+hs-1 of each, hs = C/H): out[n, h*hs + j] =
 * sum over s <= t of att[b, h, t, s] * v[b*T+s, h*hs + j] with att =
 * softmax over s <= t of q_t . k_s / sqrt(hs); att [B, H, T, T] is saved
 * (zero above the diagonal). */
void st_gpt_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                              int H);
/* dqkv[N, 3C] += the gradient of qkv given dout[N, C]; datt [B, H, T, T] is
 * scratch. */
void st_gpt_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int H);

/* out[i] = x_i / 2 * (1 + tanh(sqrt(2/pi) * (x_i + 0.044715 x_i^3))) */
void st_gpt_gelu_forward(float *out, const float *x, long n);
/* dx[i] += dout[i] * GELU'(x_i); dx must not alias dout */
void st_gpt_gelu_backward(float *dx, const float *dout, const float *x, long n);

/* The head tied to the token embedding: logits[N, V] = x[N, C] * wte[V, C]^T */
void st_gpt_head_forward(float *logits, const float *x, const float *wte, int N, int C, int V);
/* dx[N, C] += dlogits * wte, dwte[V, C] += dlogits^T * x */
void st_gpt_head_backward(float *dx, float *dwte, const float *dlogits, const float *x,
                          const float *wte, int N, int C, int V);

#endif
