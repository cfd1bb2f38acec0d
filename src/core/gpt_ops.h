/* gpt_ops.h: the operations of a GPT-2 block as forward/backward pairs, in
 * float32, on token-major activations: a [B*T, C] block holds one token per
 * row (token t of sequence b is row b*T + t), its C channels along the row.
 * Weights are [out, in] row-major, as nn.Linear.
 *
 * Arguments are outputs first, then inputs, then sizes. Backward functions
 * ADD into the gradients they are given (+=), so the caller clears them once
 * per step, and a tensor used twice (wte in the embedding and the tied head)
 * collects both contributions; gradients of parameters may be NULL where they
 * are not wanted. Every buffer belongs to the caller; nothing here allocates,
 * and no output may alias an input unless its comment says so. */
#ifndef ST_GPT_OPS_H
#define ST_GPT_OPS_H

#include <stddef.h>

/* out[B*T, C] = wte[tok[b*T + t], :] + wpe[t, :], with tok[B*T] token ids in
 * [0, V) (the caller checks the range), wte[V, C], wpe[>= T, C]. */
void st_gpt_embed_forward(float *out, const int *tok, const float *wte, const float *wpe, int B,
                          int T, int C);

/* dwte[tok[b*T + t], :] += dout[b*T + t, :] and dwpe[t, :] += dout[b*T + t, :]
 * for every b, t (a token that occurs twice gets both rows); either gradient
 * may be NULL. */
void st_gpt_embed_backward(float *dwte, float *dwpe, const float *dout, const int *tok, int B,
                           int T, int C);

/* out[N, C] = (x - mean) * rstd * w[C] + b[C] per row of x[N, C], with
 * mean[N] the row's mean and rstd[N] = 1 / sqrt(var + 1e-5), var the biased
 * variance (sum of squares over C, divided by C); mean and rstd are saved
 * for the backward pass. out may equal x. */
void st_gpt_layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int N, int C);

/* dx[N, C] += dout * d out/d x, dw[C] += sum over rows of dout * xhat,
 * db[C] += sum over rows of dout, where xhat = (x - mean) * rstd; mean and
 * rstd as the forward pass saved them. Any of dx, dw, db may be NULL; dx must
 * not alias dout. */
void st_gpt_layernorm_backward(float *dx, float *dw, float *db, const float *dout, const float *x,
                               const float *w, const float *mean, const float *rstd, int N, int C);

/* y[N, out] = x[N, in] * W[out, in]^T + b[out] (cblas_sgemm); b may be NULL
 * for no bias. */
void st_gpt_linear_forward(float *y, const float *x, const float *W, const float *b, int N, int in,
                           int out);

/* y[N, out] = res[N, out] + x[N, in] * W[out, in]^T + b[out]: a linear layer
 * whose output joins the residual stream in the same pass; res or b may be
 * NULL, and res may equal y (the stream updated in place). */
void st_gpt_linear_residual_forward(float *y, const float *res, const float *x, const float *W,
                                    const float *b, int N, int in, int out);

/* dx[N, in] += dy[N, out] * W[out, in], dW[out, in] += dy^T * x[N, in],
 * db[out] += sum over rows of dy; any of dx, dW, db may be NULL. */
void st_gpt_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                            const float *W, int N, int in, int out);

/* Causal multi-head self-attention. qkv[B*T, 3C] holds q, k, v side by side
 * in each row (q in channels 0..C-1, k in C..2C-1, v in 2C..3C-1); head h
 * (of H, C divisible by H) uses channels h*hs .. h*hs + hs - 1 of each, with
 * hs = C / H. For each sequence b, head h and position t:
 *   att[b, h, t, s] = softmax over s <= t of q_t . k_s / sqrt(hs)
 *   out[b*T + t, h*hs .. h*hs + hs - 1] = sum over s <= t of att[b, h, t, s] v_s
 * att[B, H, T, T] keeps the probabilities for the backward pass; entries
 * with s > t (the masked future) are set to 0. scratch holds
 * st_gpt_attention_scratch(B, T, C, H) floats of the caller's (contents
 * overwritten). One task per sequence and head (par.h). */
void st_gpt_attention_forward(float *out, float *att, float *scratch, const float *qkv, int B,
                              int T, int C, int H);

/* Floats of scratch the attention passes need for B sequences. */
size_t st_gpt_attention_scratch(int B, int T, int C, int H);

/* dqkv[B*T, 3C] += the gradient of sum(dout * out) with respect to qkv, given
 * dout[B*T, C] and the forward pass's qkv, att (its masked entries 0) and
 * out (out enters only through the softmax's backward: sum over s of att *
 * datt equals dout_t . out_t per head); scratch as for the forward pass.
 * dqkv must not alias any input. */
void st_gpt_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                               const float *att, const float *out, int B, int T, int C, int H);

/* out[n] = GELU_tanh(x[n]) = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))),
 * GPT-2's approximation (not act.h's erf form), tanh within about 2e-7 of
 * the true value. out may equal x. */
void st_gpt_gelu_forward(float *out, const float *x, long n);

/* dx[n] += dout[n] * GELU_tanh'(x[n]), x the forward pass's input; dx must not
 * alias dout or x. */
void st_gpt_gelu_backward(float *dx, const float *dout, const float *x, long n);

/* out[n] = a[n] + b[n]; out may equal a or b. */
void st_gpt_residual_forward(float *out, const float *a, const float *b, long n);

/* da[n] += dout[n] and db[n] += dout[n]; either may be NULL; neither may
 * alias dout. */
void st_gpt_residual_backward(float *da, float *db, const float *dout, long n);

/* The tied head: logits[N, V] = x[N, C] * wte[V, C]^T (no bias). */
void st_gpt_head_forward(float *logits, const float *x, const float *wte, int N, int C, int V);

/* dx[N, C] += dlogits[N, V] * wte[V, C] and dwte[V, C] += dlogits^T * x[N, C];
 * either may be NULL. dwte is the embedding's gradient too: both add into it. */
void st_gpt_head_backward(float *dx, float *dwte, const float *dlogits, const float *x,
                          const float *wte, int N, int C, int V);

#endif
