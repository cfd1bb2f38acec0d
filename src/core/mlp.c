/* mlp.c: forward and backward passes on feature-major activations, each layer
 * through the dense.c kernels or, when wide, cblas_sgemm.
 * Views in st_params are ordered w1, b1, w2, b2, ...: W_l is v[2l-2], b_l v[2l-1]. */
#include "mlp.h"

#include "dense.h"
#include "par.h"

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
    net->dense_max = ST_MLP_DENSE_MAX;
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
    int L = net->n_layers, in = net->widths[0], out = net->widths[L];
    size_t ld, total = 0, off = 0, maxw = (size_t)st_mlp_max_width(net);

    memset(&q, 0, sizeof q);
    if (max_batch < 1)
        return st_err_set(err, ST_ERR_ARG, "batch %d: expected at least 1", max_batch);
    ld = (size_t)st_dense_ld(max_batch);
    /* The input block, z for every layer, h for hidden layers, the row-major
     * output when it is wider than 1, and two backward blocks. */
    total += (size_t)in * ld;
    for (int l = 1; l <= L; l++)
        total += (size_t)net->widths[l] * ld * (l < L && net->act != ST_ACT_LINEAR ? 2 : 1);
    if (out > 1)
        total += (size_t)out * (size_t)max_batch;
    total += 2 * maxw * ld;
    /* Zeroed, so padding columns start finite and defined. */
    q.mem = aligned_alloc(64, (total * sizeof(float) + 63) / 64 * 64);
    if (!q.mem)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu bytes of activations",
                          total * sizeof(float));
    memset(q.mem, 0, total * sizeof(float));
    q.h[0] = q.mem;
    off = (size_t)in * ld;
    for (int l = 1; l <= L; l++) {
        q.z[l] = q.mem + off;
        off += (size_t)net->widths[l] * ld;
        if (l < L && net->act != ST_ACT_LINEAR) {
            q.h[l] = q.mem + off;
            off += (size_t)net->widths[l] * ld;
        } else {
            q.h[l] = q.z[l];
        }
    }
    q.out = q.z[L];
    if (out > 1) {
        q.out = q.mem + off;
        off += (size_t)out * (size_t)max_batch;
    }
    q.dz[0] = q.mem + off;
    q.dz[1] = q.dz[0] + maxw * ld;
    q.max_batch = max_batch;
    q.ld = (long)ld;
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

/* dst[c, r] = src[r, c]: a [rows, cols] row-major block into a [cols, ld] one. */
static void transpose(float *dst, long ld, const float *src, int rows, int cols)
{
    if (cols == 1) {
        memcpy(dst, src, (size_t)rows * sizeof *dst);
        return;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            dst[(long)c * ld + r] = src[(long)r * cols + c];
}

static int use_dense(const struct st_mlp *net, int l)
{
    return (long)net->widths[l - 1] * net->widths[l] <= net->dense_max;
}

/* Bias and activation over the first B columns of [n, ld] rows (the BLAS path). */
/* The wide layers' passes between the products, over blocks of rows (one
 * feature each) on the run's threads (par.h); each row's entries see the
 * same operations whichever thread has it. */
#define ROWS_PER_TASK 64

struct rows_job {
    float *z, *h, *db;
    const float *b, *in, *dh;
    int n, B;
    long ld;
    enum st_act a;
};

static int row_tasks(int n)
{
    return (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
}

/* z += b, h = act(z) (relu's only; other activations write z's values when h is z) */
static void bias_act_rows(void *ctx, long task)
{
    const struct rows_job *q = ctx;
    int j0 = (int)task * ROWS_PER_TASK, j1 = j0 + ROWS_PER_TASK < q->n ? j0 + ROWS_PER_TASK : q->n;
    for (int j = j0; j < j1; j++) {
        float *zr = q->z + j * q->ld, *hr = q->h + j * q->ld;
        for (int c = 0; c < q->B; c++)
            zr[c] += q->b[j];
        if (q->a == ST_ACT_RELU)
            for (int c = 0; c < q->B; c++)
                hr[c] = zr[c] > 0.0f ? zr[c] : 0.0f;
        else if (q->h != q->z)
            for (int c = 0; c < q->B; c++)
                hr[c] = st_act_value(zr[c], q->a);
    }
}

static void bias_act(float *z, float *h, const float *b, int n, int B, long ld, enum st_act a)
{
    struct rows_job q = { .z = z, .h = h, .b = b, .n = n, .B = B, .ld = ld, .a = a };
    st_par_for(row_tasks(n), bias_act_rows, &q);
}

/* db = the row sums of dz (z here); in is unused without a weight gradient */
static void bias_grad_rows(void *ctx, long task)
{
    const struct rows_job *q = ctx;
    int j0 = (int)task * ROWS_PER_TASK, j1 = j0 + ROWS_PER_TASK < q->n ? j0 + ROWS_PER_TASK : q->n;
    st_dense_backward_w(NULL, q->db + j0, q->z + j0 * q->ld, q->in, q->B, 1, j1 - j0, q->ld);
}

/* dz = dh * act'(z) in place, by rows */
static void act_back_rows(void *ctx, long task)
{
    const struct rows_job *q = ctx;
    int j0 = (int)task * ROWS_PER_TASK, j1 = j0 + ROWS_PER_TASK < q->n ? j0 + ROWS_PER_TASK : q->n;
    long off = (long)j0 * q->ld;
    st_act_backward(q->z + off, q->dh + off, q->in + off, (long)(j1 - j0) * q->ld, q->a);
}

const float *st_mlp_forward(const struct st_mlp *net, const struct st_params *p,
                            struct st_mlp_work *w, const float *x, int B)
{
    int L = net->n_layers;
    long ld = w->ld;

    w->B = B;
    transpose(w->h[0], ld, x, B, net->widths[0]);
    for (int l = 1; l <= L; l++) {
        int n_in = net->widths[l - 1], n_out = net->widths[l];
        const float *W = p->v[2 * l - 2].data; /* [n_out, n_in] */
        const float *b = p->v[2 * l - 1].data; /* [n_out] */
        enum st_act a = l < L ? net->act : ST_ACT_LINEAR;

        if (use_dense(net, l)) {
            st_dense_forward(w->z[l], w->h[l], w->h[l - 1], W, b, B, n_in, n_out, ld, a);
        } else {
            /* z[out, B] = W[out,in] * h[in, B] */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_out, B, n_in, 1.0f, W, n_in,
                        w->h[l - 1], (int)ld, 0.0f, w->z[l], (int)ld);
            bias_act(w->z[l], w->h[l], b, n_out, B, ld, a);
        }
    }
    if (w->out != w->z[L])
        /* out[B, n] = z[L]^T */
        for (int r = 0; r < B; r++)
            for (int c = 0; c < net->widths[L]; c++)
                w->out[(long)r * net->widths[L] + c] = w->z[L][c * ld + r];
    return w->out;
}

void st_mlp_backward(const struct st_mlp *net, const struct st_params *p, struct st_mlp_work *w,
                     struct st_params *g, const float *x, const float *dy, int B,
                     const unsigned char *trainable)
{
    int L = net->n_layers;
    int first = 1; /* lowest layer whose gradient anybody needs */
    long ld = w->ld;
    int cur = 0;
    float *dz = w->dz[cur]; /* [widths[l], ld]: dLoss/dz_l */

    (void)x; /* the forward pass kept its own copy, h[0] */
    if (trainable) {
        first = L + 1;
        for (int l = 1; l <= L; l++)
            if (trainable[2 * l - 2] || trainable[2 * l - 1]) {
                first = l;
                break;
            }
    }
    if (first > L)
        return;
    transpose(dz, ld, dy, B, net->widths[L]);
    for (int l = L; l >= first; l--) {
        int n_in = net->widths[l - 1], n_out = net->widths[l];
        const float *in = w->h[l - 1];          /* [n_in, ld] */
        const float *W = p->v[2 * l - 2].data; /* [n_out, n_in] */
        float *dW = g->v[2 * l - 2].data;      /* [n_out, n_in] */
        float *db = g->v[2 * l - 1].data;      /* [n_out] */
        int dense = use_dense(net, l);

        if (trainable && !trainable[2 * l - 2])
            dW = NULL;
        if (trainable && !trainable[2 * l - 1])
            db = NULL;
        if (dense) {
            st_dense_backward_w(dW, db, dz, in, B, n_in, n_out, ld);
        } else {
            if (dW)
                /* dW[out,in] += dz[out, B] * h[in, B]^T */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_out, n_in, B, 1.0f, dz,
                            (int)ld, in, (int)ld, 1.0f, dW, n_in);
            if (db) {
                struct rows_job q = { .db = db, .z = dz, .in = in, .n = n_out, .B = B, .ld = ld };
                st_par_for(row_tasks(n_out), bias_grad_rows, &q);
            }
        }
        if (l > first) {
            float *dzp = w->dz[1 - cur]; /* [n_in, ld] */
            /* relu' needs only the sign, which h keeps */
            const float *zp = net->act == ST_ACT_RELU ? w->h[l - 1] : w->z[l - 1];
            if (dense) {
                st_dense_backward_x(dzp, dz, W, zp, B, n_in, n_out, ld, net->act);
            } else {
                /* dh[in, B] = W^T[in,out] * dz[out, B], then through layer l-1's activation */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, B, n_out, 1.0f, W, n_in,
                            dz, (int)ld, 0.0f, dzp, (int)ld);
                struct rows_job q = { .z = dzp, .dh = dzp, .in = zp, .n = n_in, .B = B,
                                      .ld = ld, .a = net->act };
                st_par_for(row_tasks(n_in), act_back_rows, &q);
            }
            cur = 1 - cur;
            dz = dzp;
        }
    }
}
