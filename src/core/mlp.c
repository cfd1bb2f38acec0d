/* mlp.c: the MLP family: its layout, initialization and the forward and
 * backward passes on feature-major activations, each layer through the
 * dense.c kernels or through cblas_sgemm, as the run chose (model.h's
 * product hooks). Its layout orders the views
 * w1, b1, w2, b2, ...: W_l is v[2l-2], b_l v[2l-1]. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "mlp.h"

#include "dense.h"
#include "par.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Buffers a forward/backward pass needs for batches up to max_batch. */
struct st_mlp_work {
    int B;                       /* batch of the last forward pass */
    long ld;                     /* row length of the feature-major blocks */
    float *z[ST_MLP_MAX_LAYERS + 1]; /* z[l]: pre-activation of layer l, [widths[l], ld] */
    float *h[ST_MLP_MAX_LAYERS + 1]; /* h[l]: output of layer l (h[L] aliases z[L]); h[0] the input */
    float *out;                  /* [B, widths[L]] row-major output (aliases z[L] if 1 wide) */
    float *dz[2];                /* [max width, ld] each: the backward chain, alternating */
    float *mem;                  /* owns all of the above */
};

struct st_mlp *st_mlp_of(const struct st_model *m)
{
    return m->f == &st_mlp_family ? m->impl : NULL;
}

static enum st_status mlp_init(struct st_model *m, struct st_err *err)
{
    const struct st_arch *a = &m->arch;
    int L = a->n_layers;
    if (L < 1 || L > ST_MLP_MAX_LAYERS)
        return st_err_set(err, ST_ERR_ARG, "--widths: expected 2 to %d widths",
                          ST_MLP_MAX_LAYERS + 1);
    for (int l = 0; l <= L; l++)
        if (a->widths[l] < 1 || a->widths[l] > (1 << 24))
            return st_err_set(err, ST_ERR_ARG, "--widths: width %d: expected an integer from 1 "
                              "to %d", a->widths[l], 1 << 24);
    for (int l = 1; l <= L; l++) {
        /* One tensor above 2^32 entries (16 GiB) is beyond any machine this runs on. */
        double n = (double)a->widths[l - 1] * (double)a->widths[l];
        if (n > 4294967296.0)
            return st_err_set(err, ST_ERR_ARG,
                              "--widths: layer %d (%d -> %d) has %.3g weights; at most 2^32 per "
                              "layer",
                              l, a->widths[l - 1], a->widths[l], n);
    }
    if (!st_act_name(a->act))
        return st_err_set(err, ST_ERR_ARG, "--activation: unknown activation %d", (int)a->act);
    struct st_mlp *net = calloc(1, sizeof *net);
    if (!net)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    net->n_layers = L;
    memcpy(net->widths, a->widths, (size_t)(L + 1) * sizeof *net->widths);
    net->act = a->act;
    for (int l = 1; l <= L; l++)
        net->blas[l] = (long)a->widths[l - 1] * a->widths[l] > ST_MLP_FIXED_MAX;
    m->impl = net;
    return ST_OK;
}

static void mlp_free(struct st_model *m)
{
    free(m->impl);
    m->impl = NULL;
}

static enum st_status mlp_layout(const struct st_model *m, struct st_params *p, struct st_err *err)
{
    const struct st_mlp *net = m->impl;
    for (int l = 1; l <= net->n_layers; l++) {
        char w[16], b[16], unit[16];
        const char *groups[1] = { unit };
        int in = net->widths[l - 1], out = net->widths[l];
        enum st_status st;
        snprintf(w, sizeof w, "w%d", l);
        snprintf(b, sizeof b, "b%d", l);
        snprintf(unit, sizeof unit, "%d", l);
        if ((st = st_params_add(p, w, "w", 2, out, in, ST_KIND_WEIGHT, groups, 1, err)) != ST_OK ||
            (st = st_params_add(p, b, "b", 1, out, 1, ST_KIND_BIAS, groups, 1, err)) != ST_OK)
            return st;
    }
    return ST_OK;
}

/* PyTorch's nn.Linear default: W_l and b_l ~ U(-1/sqrt(in), 1/sqrt(in)),
 * in the order w1, b1, w2, ..., each draw from rng. */
static void mlp_draw(const struct st_model *m, struct st_params *p, struct st_rng *rng,
                     const unsigned char *mask)
{
    const struct st_mlp *net = m->impl;
    for (int l = 1; l <= net->n_layers; l++) {
        double bound = 1.0 / sqrt((double)net->widths[l - 1]);
        for (int t = 2 * l - 2; t <= 2 * l - 1; t++)
            if (!mask || mask[t])
                st_rng_fill_uniform(rng, p->v[t].data, (long)st_view_size(&p->v[t]), -bound,
                                    bound);
    }
}

static struct st_model_io mlp_io(const struct st_model *m)
{
    const struct st_mlp *net = m->impl;
    struct st_model_io io = { net->widths[0], 1, net->widths[net->n_layers] };
    return io;
}

int st_mlp_max_width(const struct st_mlp *net)
{
    int m = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->widths[l] > m)
            m = net->widths[l];
    return m;
}

/* Floats of the pass buffers: the input block, z for every layer, h for
 * hidden layers, the row-major output when it is wider than 1, and two
 * backward blocks. */
static size_t work_floats(const struct st_mlp *net, long max_batch, size_t ld)
{
    int L = net->n_layers, out = net->widths[L];
    size_t total = (size_t)net->widths[0] * ld;
    for (int l = 1; l <= L; l++)
        total += (size_t)net->widths[l] * ld * (l < L && net->act != ST_ACT_LINEAR ? 2 : 1);
    if (out > 1)
        total += (size_t)out * (size_t)max_batch;
    return total + 2 * (size_t)st_mlp_max_width(net) * ld;
}

static double mlp_work_bytes(const struct st_model *m, long batch)
{
    const struct st_mlp *net = m->impl;
    return 4.0 * (double)work_floats(net, batch, (size_t)st_dense_ld(batch));
}

static enum st_status mlp_work_init(const struct st_model *m, struct st_work *w, int max_batch,
                                    struct st_err *err)
{
    const struct st_mlp *net = m->impl;
    int L = net->n_layers, in = net->widths[0], out = net->widths[L];
    size_t ld = (size_t)st_dense_ld(max_batch), off;
    size_t total = work_floats(net, max_batch, ld), maxw = (size_t)st_mlp_max_width(net);
    struct st_mlp_work *q = calloc(1, sizeof *q);

    if (!q)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    /* Zeroed, so padding columns start finite and defined. */
    q->mem = aligned_alloc(64, (total * sizeof(float) + 63) / 64 * 64);
    if (!q->mem) {
        free(q);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu bytes of activations",
                          total * sizeof(float));
    }
    memset(q->mem, 0, total * sizeof(float));
    q->h[0] = q->mem;
    off = (size_t)in * ld;
    for (int l = 1; l <= L; l++) {
        q->z[l] = q->mem + off;
        off += (size_t)net->widths[l] * ld;
        if (l < L && net->act != ST_ACT_LINEAR) {
            q->h[l] = q->mem + off;
            off += (size_t)net->widths[l] * ld;
        } else {
            q->h[l] = q->z[l];
        }
    }
    q->out = q->z[L];
    if (out > 1) {
        q->out = q->mem + off;
        off += (size_t)out * (size_t)max_batch;
    }
    q->dz[0] = q->mem + off;
    q->dz[1] = q->dz[0] + maxw * ld;
    q->ld = (long)ld;
    w->impl = q;
    return ST_OK;
}

static void mlp_work_free(struct st_work *w)
{
    struct st_mlp_work *q = w->impl;
    if (q)
        free(q->mem);
    free(q);
    w->impl = NULL;
}

static void mlp_describe(const struct st_model *m, char *buf, size_t size)
{
    const struct st_mlp *net = m->impl;
    size_t len = (size_t)snprintf(buf, size, "mlp ");
    for (int l = 0; l <= net->n_layers && len < size; l++)
        len += (size_t)snprintf(buf + len, size - len, l ? ",%d" : "%d", net->widths[l]);
    if (len < size)
        snprintf(buf + len, size - len, " %s", st_act_name(net->act));
}

/* Layer (L + 1) / 2: the middle one of an odd count, the lower middle of an
 * even one. */
static void mlp_middle(const struct st_model *m, char *buf, size_t size)
{
    const struct st_mlp *net = m->impl;
    snprintf(buf, size, "%d", (net->n_layers + 1) / 2);
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

/* Layer products one way or the other: z = W h_in + b, h = act(z). */
static void layer_forward(int blas, float *z, float *h, const float *in, const float *W,
                          const float *b, int B, int n_in, int n_out, long ld, enum st_act a)
{
    if (!blas) {
        st_dense_forward(z, h, in, W, b, B, n_in, n_out, ld, a);
        return;
    }
    /* z[out, B] = W[out,in] * h[in, B] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_out, B, n_in, 1.0f, W, n_in, in,
                (int)ld, 0.0f, z, (int)ld);
    bias_act(z, h, b, n_out, B, ld, a);
}

/* dW += dz h_in^T and db += the row sums of dz (each where not NULL), and
 * with dzp the gradient of the layer below's pre-activation zp. */
static void layer_backward(int blas, float *dW, float *db, float *dzp, const float *dz,
                           const float *in, const float *W, const float *zp, int B, int n_in,
                           int n_out, long ld, enum st_act act)
{
    if (!blas) {
        st_dense_backward_w(dW, db, dz, in, B, n_in, n_out, ld);
        if (dzp)
            st_dense_backward_x(dzp, dz, W, zp, B, n_in, n_out, ld, act);
        return;
    }
    if (dW)
        /* dW[out,in] += dz[out, B] * h[in, B]^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_out, n_in, B, 1.0f, dz, (int)ld,
                    in, (int)ld, 1.0f, dW, n_in);
    if (db) {
        struct rows_job q = { .db = db, .z = (float *)dz, .in = in, .n = n_out, .B = B,
                              .ld = ld };
        st_par_for(row_tasks(n_out), bias_grad_rows, &q);
    }
    if (dzp) {
        /* dh[in, B] = W^T[in,out] * dz[out, B], then through layer l-1's activation */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, B, n_out, 1.0f, W, n_in, dz,
                    (int)ld, 0.0f, dzp, (int)ld);
        struct rows_job q = { .z = dzp, .dh = dzp, .in = zp, .n = n_in, .B = B, .ld = ld,
                              .a = act };
        st_par_for(row_tasks(n_in), act_back_rows, &q);
    }
}

static const float *mlp_forward(const struct st_model *m, const struct st_params *p,
                               struct st_work *work, const float *x, int B)
{
    const struct st_mlp *net = m->impl;
    struct st_mlp_work *w = work->impl;
    int L = net->n_layers;
    long ld = w->ld;

    w->B = B;
    transpose(w->h[0], ld, x, B, net->widths[0]);
    for (int l = 1; l <= L; l++)
        layer_forward(net->blas[l], w->z[l], w->h[l], w->h[l - 1], p->v[2 * l - 2].data,
                      p->v[2 * l - 1].data, B, net->widths[l - 1], net->widths[l], ld,
                      l < L ? net->act : ST_ACT_LINEAR);
    if (w->out != w->z[L])
        /* out[B, n] = z[L]^T */
        for (int r = 0; r < B; r++)
            for (int c = 0; c < net->widths[L]; c++)
                w->out[(long)r * net->widths[L] + c] = w->z[L][c * ld + r];
    return w->out;
}

static void mlp_backward(const struct st_model *m, const struct st_params *p,
                         struct st_work *work, struct st_params *g, const float *dy, int B,
                         const unsigned char *trainable)
{
    const struct st_mlp *net = m->impl;
    struct st_mlp_work *w = work->impl;
    int L = net->n_layers;
    int first = 1; /* lowest layer whose gradient anybody needs */
    long ld = w->ld;
    int cur = 0;
    float *dz = w->dz[cur]; /* [widths[l], ld]: dLoss/dz_l */

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
        float *dW = g->v[2 * l - 2].data; /* [n_out, n_in] */
        float *db = g->v[2 * l - 1].data; /* [n_out] */
        float *dzp = l > first ? w->dz[1 - cur] : NULL; /* [n_in, ld] */
        /* relu' needs only the sign, which h keeps */
        const float *zp = net->act == ST_ACT_RELU ? w->h[l - 1] : w->z[l - 1];

        if (trainable && !trainable[2 * l - 2])
            dW = NULL;
        if (trainable && !trainable[2 * l - 1])
            db = NULL;
        layer_backward(net->blas[l], dW, db, dzp, dz, w->h[l - 1], p->v[2 * l - 2].data, zp, B,
                       net->widths[l - 1], net->widths[l], ld, net->act);
        if (dzp) {
            cur = 1 - cur;
            dz = dzp;
        }
    }
}

static int mlp_product_layers(const struct st_model *m, int *in, int *out)
{
    const struct st_mlp *net = m->impl;
    for (int l = 1; l <= net->n_layers; l++) {
        in[l - 1] = net->widths[l - 1];
        out[l - 1] = net->widths[l];
    }
    return net->n_layers;
}

static void mlp_set_products(struct st_model *m, const unsigned char *blas)
{
    struct st_mlp *net = m->impl;
    for (int l = 1; l <= net->n_layers; l++)
        net->blas[l] = blas[l - 1] != 0;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Layer i + 1's forward and backward (weights, bias and input gradients) on
 * B samples of fixed values, the fastest of a few repeats after one to warm
 * up: at least 3 and until 20 ms have passed, at most 20. */
static double mlp_time_products(const struct st_model *m, int i, int B, int blas)
{
    const struct st_mlp *net = m->impl;
    int n_in = net->widths[i], n_out = net->widths[i + 1];
    long ld = st_dense_ld(B);
    size_t nx = (size_t)n_in * (size_t)ld, nz = (size_t)n_out * (size_t)ld;
    size_t nw = (size_t)n_in * (size_t)n_out, total = 3 * nx + 3 * nz + 2 * nw + 2 * (size_t)n_out;
    float *mem = aligned_alloc(64, (total * sizeof(float) + 63) / 64 * 64);
    if (!mem)
        return INFINITY;
    for (size_t k = 0; k < total; k++)
        mem[k] = 0.01f * (float)((int)(k % 13) - 6);
    float *x = mem, *zp = x + nx, *dx = zp + nx, *z = dx + nx, *h = z + nz, *dz = h + nz;
    float *W = dz + nz, *dW = W + nw, *b = dW + nw, *db = b + n_out;
    double best = INFINITY, spent = 0.0;
    for (int rep = 0; rep <= 20 && (rep <= 3 || spent < 0.02); rep++) {
        double t0 = seconds_now();
        layer_forward(blas, z, h, x, W, b, B, n_in, n_out, ld, net->act);
        layer_backward(blas, dW, db, dx, dz, x, W, zp, B, n_in, n_out, ld, net->act);
        double t = seconds_now() - t0;
        if (rep > 0) {
            spent += t;
            best = t < best ? t : best;
        }
    }
    free(mem);
    return best;
}

const struct st_family st_mlp_family = {
    .name = "mlp",
    .options = (const char *const[]){ "widths", "activation", NULL },
    .init = mlp_init,
    .free = mlp_free,
    .layout = mlp_layout,
    .draw = mlp_draw,
    .io = mlp_io,
    .work_bytes = mlp_work_bytes,
    .work_init = mlp_work_init,
    .work_free = mlp_work_free,
    .forward = mlp_forward,
    .backward = mlp_backward,
    .product_layers = mlp_product_layers,
    .time_products = mlp_time_products,
    .set_products = mlp_set_products,
    .describe = mlp_describe,
    .middle = mlp_middle,
    .meta = st_mlp_meta,
    .file_name = st_mlp_file_name,
    .from_file = st_mlp_from_file,
    .same = st_mlp_same,
};
