/* mlp.c: forward and backward passes through cblas_sgemm, with the bias and
 * activation fused into one pass over each pre-activation block.
 * Views in st_params are ordered w1, b1, w2, b2, ...: W_l is v[2l-2], b_l v[2l-1]. */
#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum st_status st_mlp_init(struct st_mlp *net, const int *widths, int n_layers, enum st_act act,
                           struct st_err *err)
{
    if (n_layers < 1 || n_layers > ST_MAX_LAYERS)
        return st_err_set(err, ST_ERR_ARG, "%d layers: expected 1 to %d", n_layers,
                          ST_MAX_LAYERS);
    for (int l = 0; l <= n_layers; l++)
        if (widths[l] < 1 || widths[l] > (1 << 24))
            return st_err_set(err, ST_ERR_ARG, "width %d: expected an integer from 1 to %d",
                              widths[l], 1 << 24);
    if (!st_act_name(act))
        return st_err_set(err, ST_ERR_ARG, "unknown activation %d", (int)act);
    memset(net, 0, sizeof *net);
    net->n_layers = n_layers;
    memcpy(net->widths, widths, (size_t)(n_layers + 1) * sizeof *widths);
    net->act = act;
    return ST_OK;
}

enum st_status st_mlp_params_init(const struct st_mlp *net, struct st_params *p,
                                  struct st_err *err)
{
    return st_params_init(p, net->widths, net->n_layers, err);
}

void st_mlp_init_uniform(const struct st_mlp *net, struct st_params *p, struct st_rng *rng,
                         const unsigned char *layers)
{
    for (int l = 1; l <= net->n_layers; l++) {
        if (layers && !layers[l - 1])
            continue;
        double bound = 1.0 / sqrt((double)net->widths[l - 1]);
        struct st_view *W = &p->v[2 * l - 2], *b = &p->v[2 * l - 1];
        st_rng_fill_uniform(rng, W->data, (long)st_view_size(W), -bound, bound);
        st_rng_fill_uniform(rng, b->data, (long)st_view_size(b), -bound, bound);
    }
}

int st_mlp_max_width(const struct st_mlp *net)
{
    int m = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->widths[l] > m)
            m = net->widths[l];
    return m;
}

enum st_status st_mlp_work_init(struct st_mlp_work *w, const struct st_mlp *net, int max_batch,
                                struct st_err *err)
{
    struct st_mlp_work q;
    size_t B = (size_t)max_batch, total = 0, off = 0;
    int L = net->n_layers;

    memset(&q, 0, sizeof q);
    /* z for every layer, h for hidden layers, then dh and dz. */
    for (int l = 1; l <= L; l++)
        total += B * (size_t)net->widths[l] * (l < L ? 2 : 1);
    total += 2 * B * (size_t)st_mlp_max_width(net);
    q.mem = malloc(total * sizeof(float));
    if (!q.mem)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu bytes of activations",
                          total * sizeof(float));
    for (int l = 1; l <= L; l++) {
        q.z[l] = q.mem + off;
        off += B * (size_t)net->widths[l];
        if (l < L) {
            q.h[l] = q.mem + off;
            off += B * (size_t)net->widths[l];
        } else {
            q.h[l] = q.z[l];
        }
    }
    q.dh = q.mem + off;
    off += B * (size_t)st_mlp_max_width(net);
    q.dz = q.mem + off;
    q.max_batch = max_batch;
    *w = q;
    return ST_OK;
}

void st_mlp_work_free(struct st_mlp_work *w)
{
    if (!w)
        return;
    free(w->mem);
    memset(w, 0, sizeof *w);
}

const float *st_mlp_forward(const struct st_mlp *net, const struct st_params *p,
                            struct st_mlp_work *w, const float *x, int B)
{
    int L = net->n_layers;
    const float *in = x; /* [B, widths[l-1]] */

    for (int l = 1; l <= L; l++) {
        int n_in = net->widths[l - 1], n_out = net->widths[l];
        const float *W = p->v[2 * l - 2].data; /* [n_out, n_in] */
        const float *b = p->v[2 * l - 1].data; /* [n_out] */
        float *z = w->z[l];                    /* [B, n_out] */

        /* z[B,out] = in[B,in] * W^T[in,out] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0f, in, n_in, W,
                    n_in, 0.0f, z, n_out);
        st_act_bias_forward(w->h[l], z, b, B, n_out, l < L ? net->act : ST_ACT_LINEAR);
        in = w->h[l];
    }
    return w->h[L];
}

void st_mlp_backward(const struct st_mlp *net, const struct st_params *p, struct st_mlp_work *w,
                     struct st_params *g, const float *x, const float *dy, int B,
                     const unsigned char *trainable)
{
    int L = net->n_layers;
    int first = 1; /* lowest layer whose gradient anybody needs */
    const float *dz = dy; /* [B, widths[l]]: dLoss/dz_l */

    if (trainable) {
        first = L + 1;
        for (int l = 1; l <= L; l++)
            if (trainable[2 * l - 2] || trainable[2 * l - 1]) {
                first = l;
                break;
            }
    }
    for (int l = L; l >= first; l--) {
        int n_in = net->widths[l - 1], n_out = net->widths[l];
        const float *in = l > 1 ? w->h[l - 1] : x; /* [B, n_in] */
        const float *W = p->v[2 * l - 2].data;    /* [n_out, n_in] */
        float *dW = g->v[2 * l - 2].data;         /* [n_out, n_in] */
        float *db = g->v[2 * l - 1].data;         /* [n_out] */

        if (!trainable || trainable[2 * l - 2])
            /* dW[out,in] += dz^T[out,B] * in[B,in] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0f, dz, n_out,
                        in, n_in, 1.0f, dW, n_in);
        if (!trainable || trainable[2 * l - 1])
            /* db[j] += sum_b dz[b, j] */
            for (int r = 0; r < B; r++) {
                const float *dzr = dz + (long)r * n_out;
                for (int j = 0; j < n_out; j++)
                    db[j] += dzr[j];
            }
        if (l > first) {
            /* dh[B,in] = dz[B,out] * W[out,in], then through the activation of layer l-1 */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0f, dz,
                        n_out, W, n_in, 0.0f, w->dh, n_in);
            st_act_backward(w->dz, w->dh, w->z[l - 1], (long)B * n_in, net->act);
            dz = w->dz;
        }
    }
}
