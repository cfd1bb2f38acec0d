/* mlp.h: a multilayer perceptron over a flat st_params buffer.
 * Layer l (1..L): h_l = act(h_{l-1} W_l^T + b_l), no activation after layer L.
 * Inputs and outputs are row-major [batch, width]; W_l is [out, in] as in
 * PyTorch. Inside, activations are feature-major [width, ld] (dense.h): narrow
 * layers go through the blocked kernels of dense_kern.c, wide ones through
 * cblas_sgemm. */
#ifndef ST_MLP_H
#define ST_MLP_H

#include "act.h"
#include "params.h"
#include "rng.h"
#include "status.h"

/* Layers with in * out above this go to cblas_sgemm. */
#define ST_MLP_DENSE_MAX (256L * 256L)

struct st_mlp {
    int n_layers;                   /* L >= 1 */
    int widths[ST_MAX_LAYERS + 1];  /* input, hidden..., output */
    enum st_act act;
    long dense_max;                 /* ST_MLP_DENSE_MAX; tests lower it to test both paths */
};

/* Buffers a forward/backward pass needs for batches up to max_batch.
 * Setup allocates them once; the passes never allocate. */
struct st_mlp_work {
    int max_batch;
    int B;                       /* batch of the last forward pass */
    long ld;                     /* row length of the feature-major blocks */
    float *z[ST_MAX_LAYERS + 1]; /* z[l]: pre-activation of layer l, [widths[l], ld] */
    float *h[ST_MAX_LAYERS + 1]; /* h[l]: output of layer l (h[L] aliases z[L]); h[0] the input */
    float *out;                  /* [B, widths[L]] row-major output (aliases z[L] if 1 wide) */
    float *dz[2];                /* [max width, ld] each: the backward chain, alternating */
    float *mem;                  /* owns all of the above */
};

/* Checks widths[0..n_layers] and fills net. Errors: ST_ERR_ARG. */
enum st_status st_mlp_init(struct st_mlp *net, const int *widths, int n_layers, enum st_act act,
                           struct st_err *err);

/* Allocates a parameter buffer laid out for net (zeroed). */
enum st_status st_mlp_params_init(const struct st_mlp *net, struct st_params *p,
                                  struct st_err *err);

/* PyTorch's nn.Linear default: W_l and b_l ~ U(-1/sqrt(in), 1/sqrt(in)).
 * Draws layer l only where layers[l-1] is nonzero (layers NULL = all), in the
 * order w1, b1, w2, ..., each draw from rng. */
void st_mlp_init_uniform(const struct st_mlp *net, struct st_params *p, struct st_rng *rng,
                         const unsigned char *layers);

/* Allocates the pass buffers. Errors: ST_ERR_NOMEM. Free with st_mlp_work_free(). */
enum st_status st_mlp_work_init(struct st_mlp_work *w, const struct st_mlp *net, int max_batch,
                                struct st_err *err);
void st_mlp_work_free(struct st_mlp_work *w);

/* Forward pass of x[B, in]; returns the output [B, out], valid until the next
 * pass on w. Saves the pre-activations that st_mlp_backward needs. */
const float *st_mlp_forward(const struct st_mlp *net, const struct st_params *p,
                            struct st_mlp_work *w, const float *x, int B);

/* Backward pass after st_mlp_forward on the same x: adds dLoss/dtheta into g
 * given dy[B, out] = dLoss/doutput. trainable[t] (per view, NULL = all) skips
 * the gradients of frozen tensors and the part of the chain nobody needs. */
void st_mlp_backward(const struct st_mlp *net, const struct st_params *p, struct st_mlp_work *w,
                     struct st_params *g, const float *x, const float *dy, int B,
                     const unsigned char *trainable);

/* Largest width, for scratch sizing. */
int st_mlp_max_width(const struct st_mlp *net);

#endif
