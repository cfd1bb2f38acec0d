/* gpt.c: the GPT family: its sizes and checks, layout, GPT-2's
 * initialisation, the work buffers, and the forward and backward passes
 * composed of the operations of gpt_ops.h on token-major activations
 * [B*T, C]. */
#include "gpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_ops.h"

const struct st_gpt *st_gpt_of(const struct st_model *m)
{
    return m->f == &st_gpt_family ? m->impl : NULL;
}

static enum st_status gpt_init(struct st_model *m, struct st_err *err)
{
    const struct st_arch *a = &m->arch;
    if (a->gpt_layers < 1 || a->gpt_layers > 256)
        return st_err_set(err, ST_ERR_ARG, "--n-layer %d: expected 1 to 256 blocks",
                          a->gpt_layers);
    if (a->d_model < 1 || a->n_head < 1 || a->d_model % a->n_head != 0)
        return st_err_set(err, ST_ERR_ARG, "--d-model %d: not a multiple of --n-head %d (each "
                          "head takes d_model / n_head channels)", a->d_model, a->n_head);
    if (a->vocab < 2 || a->context < 1)
        return st_err_set(err, ST_ERR_ARG, "--vocab %d, --context %d: expected a vocabulary of "
                          "at least 2 and a context of at least 1", a->vocab, a->context);
    /* One tensor above 2^32 entries (16 GiB) is beyond any machine this runs on. */
    double big = 4.0 * a->d_model * (double)a->d_model, emb = (double)a->vocab * a->d_model;
    if (big > 4294967296.0 || emb > 4294967296.0 || (double)a->context * a->d_model > 4294967296.0)
        return st_err_set(err, ST_ERR_ARG, "--d-model %d with --vocab %d, --context %d: a tensor "
                          "of over 2^32 entries", a->d_model, a->vocab, a->context);
    struct st_gpt *g = calloc(1, sizeof *g);
    if (!g)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    *g = (struct st_gpt){ a->gpt_layers, a->n_head, a->d_model, a->vocab, a->context };
    m->impl = g;
    return ST_OK;
}

static void gpt_free(struct st_model *m)
{
    free(m->impl);
    m->impl = NULL;
}

static enum st_status add(struct st_params *p, const char *name, const char *role, int rows,
                          int cols, enum st_kind kind, const char *unit, const char *group,
                          struct st_err *err)
{
    const char *groups[2] = { unit, group };
    return st_params_add(p, name, role, cols ? 2 : 1, rows, cols ? cols : 1, kind, groups,
                         group ? 2 : 1, err);
}

const struct st_gpt_block_view st_gpt_block_views[ST_GPT_BLOCK_VIEWS] = {
    { "ln1.w", "ln1.w", 1, 0, ST_KIND_NORM, 0, "ln_1.weight" },
    { "ln1.b", "ln1.b", 1, 0, ST_KIND_NORM, 0, "ln_1.bias" },
    { "attn.qkv.w", "qkv.w", 3, 1, ST_KIND_WEIGHT, 0, "attn.c_attn.weight" },
    { "attn.qkv.b", "qkv.b", 3, 0, ST_KIND_BIAS, 0, "attn.c_attn.bias" },
    { "attn.proj.w", "aproj.w", 1, 1, ST_KIND_WEIGHT, 0, "attn.c_proj.weight" },
    { "attn.proj.b", "aproj.b", 1, 0, ST_KIND_BIAS, 0, "attn.c_proj.bias" },
    { "ln2.w", "ln2.w", 1, 0, ST_KIND_NORM, 1, "ln_2.weight" },
    { "ln2.b", "ln2.b", 1, 0, ST_KIND_NORM, 1, "ln_2.bias" },
    { "mlp.fc.w", "fc.w", 4, 1, ST_KIND_WEIGHT, 1, "mlp.c_fc.weight" },
    { "mlp.fc.b", "fc.b", 4, 0, ST_KIND_BIAS, 1, "mlp.c_fc.bias" },
    { "mlp.proj.w", "mproj.w", 1, 4, ST_KIND_WEIGHT, 1, "mlp.c_proj.weight" },
    { "mlp.proj.b", "mproj.b", 1, 0, ST_KIND_BIAS, 1, "mlp.c_proj.bias" },
};

static enum st_status gpt_layout(const struct st_model *m, struct st_params *p,
                                 struct st_err *err)
{
    const struct st_gpt *g = m->impl;
    int C = g->C;
    enum st_status st;
    if ((st = add(p, "wte", "wte", g->V, C, ST_KIND_EMBEDDING, "emb", NULL, err)) != ST_OK ||
        (st = add(p, "wpe", "wpe", g->T, C, ST_KIND_EMBEDDING, "emb", NULL, err)) != ST_OK)
        return st;
    const struct st_gpt_block_view *v = st_gpt_block_views;
    for (int i = 0; i < g->L; i++) {
        char unit[16], half[2][24];
        snprintf(unit, sizeof unit, "h%d", i);
        snprintf(half[0], sizeof half[0], "h%d.attn", i);
        snprintf(half[1], sizeof half[1], "h%d.mlp", i);
        for (int k = 0; k < ST_GPT_BLOCK_VIEWS; k++) {
            char name[ST_NAME_MAX];
            snprintf(name, sizeof name, "h%d.%s", i, v[k].name);
            if ((st = add(p, name, v[k].role, v[k].rows * C, v[k].cols * C, v[k].kind, unit,
                          half[v[k].mlp], err)) != ST_OK)
                return st;
        }
    }
    if ((st = add(p, "lnf.w", "lnf.w", C, 0, ST_KIND_NORM, "lnf", NULL, err)) != ST_OK ||
        (st = add(p, "lnf.b", "lnf.b", C, 0, ST_KIND_NORM, "lnf", NULL, err)) != ST_OK)
        return st;
    return ST_OK;
}

/* GPT-2's initialisation: weights and embeddings N(0, 0.02^2), the residual
 * projections (attn.proj.w, mlp.proj.w) N(0, (0.02 / sqrt(2L))^2), biases
 * 0, LayerNorm gains 1 and shifts 0; each drawn view in view order. */
static void gpt_draw(const struct st_model *m, struct st_params *p, struct st_rng *rng,
                     const unsigned char *mask)
{
    const struct st_gpt *g = m->impl;
    double proj = 0.02 / sqrt(2.0 * g->L);
    for (int t = 0; t < p->n_views; t++) {
        struct st_view *v = &p->v[t];
        long n = (long)st_view_size(v);
        if (mask && !mask[t])
            continue;
        if (v->kind == ST_KIND_WEIGHT || v->kind == ST_KIND_EMBEDDING) {
            int residual = !strcmp(v->role, "aproj.w") || !strcmp(v->role, "mproj.w");
            st_rng_fill_normal(rng, v->data, n, 0.0, residual ? proj : 0.02);
        } else {
            float fill = v->kind == ST_KIND_NORM && v->role[strlen(v->role) - 1] == 'w' ? 1.0f
                                                                                        : 0.0f;
            for (long i = 0; i < n; i++)
                v->data[i] = fill;
        }
    }
}

/* Teacher-student inputs: token ids uniform over the vocabulary. */
static void gpt_draw_inputs(const struct st_model *m, struct st_rng *rng, float *x, long n)
{
    const struct st_gpt *g = m->impl;
    for (long i = 0; i < n; i++)
        x[i] = (float)st_rng_below(rng, (uint64_t)g->V);
}

/* Inputs from a file are token ids: whole numbers from 0 to V-1. */
static enum st_status gpt_check_inputs(const struct st_model *m, const float *x, long n,
                                       const char *opt, const char *path, struct st_err *err)
{
    const struct st_gpt *g = m->impl;
    for (long i = 0; i < n; i++)
        if (!(x[i] >= 0.0f && x[i] < (float)g->V && x[i] == floorf(x[i])))
            return st_err_set(err, ST_ERR_FORMAT, "--%s %s: row %ld, position %ld: %.9g is not "
                              "a token id (expected a whole number from 0 to --vocab %d - 1)",
                              opt, path, i / g->T, i % g->T, (double)x[i], g->V);
    return ST_OK;
}

static struct st_model_io gpt_io(const struct st_model *m)
{
    const struct st_gpt *g = m->impl;
    struct st_model_io io = { g->T, g->T, g->V };
    return io;
}

/* The buffers of a pass over B sequences (N = B*T rows), as offsets in
 * floats into one allocation: what the forward pass saves per block for the
 * backward one, and the backward chain's scratch. */
struct gpt_work {
    int B;
    int *tok;                 /* [N] the token ids of the last forward pass */
    float *res;               /* [L+1][N, C] each block's input; res[L] the last output */
    float *ln1, *ln2;         /* [L][N, C] the LayerNorms' outputs */
    float *m1, *r1, *m2, *r2; /* [L][N] their means and 1/std */
    float *qkv;               /* [L][N, 3C] */
    float *att;               /* [L][B, H, T, T] the attention weights */
    float *atty;              /* [L][N, C] the heads' outputs, before the projection */
    float *mid;               /* [L][N, C] the residual stream between attention and MLP */
    float *fc, *gelu;         /* [L][N, 4C] the MLP's hidden layer before and after GELU */
    float *lnf, *mf, *rf;     /* [N, C], [N], [N] the final LayerNorm */
    float *logits;            /* [N, V] */
    float *d_res, *d_x, *d_qkv;       /* [N, C], [N, C], [N, 3C] backward scratch */
    float *d_h, *d_h2;                /* [N, 4C] each */
    float *scratch;                   /* the attention passes' */
    float *mem;
};

/* Floats of the buffers for B sequences; the layout in *w when w is not
 * NULL (pointers from base). */
static size_t work_floats(const struct st_gpt *g, long B, struct gpt_work *w, float *base)
{
    size_t N = (size_t)B * (size_t)g->T, C = (size_t)g->C, L = (size_t)g->L;
    size_t att = (size_t)B * (size_t)g->H * (size_t)g->T * (size_t)g->T, at = 0;
#define TAKE(field, n)                                                                             \
    do {                                                                                           \
        if (w)                                                                                     \
            w->field = base + at;                                                                  \
        at += ((n) + 15) / 16 * 16;                                                                \
    } while (0)
    TAKE(res, (L + 1) * N * C);
    TAKE(ln1, L * N * C);
    TAKE(ln2, L * N * C);
    TAKE(m1, L * N);
    TAKE(r1, L * N);
    TAKE(m2, L * N);
    TAKE(r2, L * N);
    TAKE(qkv, L * N * 3 * C);
    TAKE(att, L * att);
    TAKE(atty, L * N * C);
    TAKE(mid, L * N * C);
    TAKE(fc, L * N * 4 * C);
    TAKE(gelu, L * N * 4 * C);
    TAKE(lnf, N * C);
    TAKE(mf, N);
    TAKE(rf, N);
    TAKE(logits, N * (size_t)g->V);
    TAKE(d_res, N * C);
    TAKE(d_x, N * C);
    TAKE(d_qkv, N * 3 * C);
    TAKE(d_h, N * 4 * C);
    TAKE(d_h2, N * 4 * C);
    TAKE(scratch, st_gpt_attention_scratch((int)B, g->T, g->C, g->H));
#undef TAKE
    return at;
}

static double gpt_work_bytes(const struct st_model *m, long batch)
{
    const struct st_gpt *g = m->impl;
    return (double)work_floats(g, batch, NULL, NULL) * sizeof(float) +
           (double)batch * g->T * sizeof(int);
}

static enum st_status gpt_work_init(const struct st_model *m, struct st_work *w, int max_batch,
                                    struct st_err *err)
{
    const struct st_gpt *g = m->impl;
    struct gpt_work *gw = calloc(1, sizeof *gw);
    size_t n = work_floats(g, max_batch, NULL, NULL);
    if (gw)
        gw->mem = malloc((n + 16) * sizeof(float));
    if (gw)
        gw->tok = malloc(((size_t)max_batch * (size_t)g->T + 1) * sizeof *gw->tok);
    if (!gw || !gw->mem || !gw->tok) {
        if (gw) {
            free(gw->mem);
            free(gw->tok);
        }
        free(gw);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %.0f bytes of GPT activations",
                          (double)n * sizeof(float));
    }
    work_floats(g, max_batch, gw, gw->mem);
    w->impl = gw;
    return ST_OK;
}

static void gpt_work_free(struct st_work *w)
{
    struct gpt_work *gw = w->impl;
    if (gw) {
        free(gw->mem);
        free(gw->tok);
        free(gw);
    }
    w->impl = NULL;
}

static void gpt_describe(const struct st_model *m, char *buf, size_t size)
{
    const struct st_gpt *g = m->impl;
    snprintf(buf, size, "gpt L%d H%d C%d V%d T%d", g->L, g->H, g->C, g->V, g->T);
}

/* The middle block h{L/2} (h0 of one block, h1 of 2 or 3, ...). */
static void gpt_middle(const struct st_model *m, char *buf, size_t size)
{
    const struct st_gpt *g = m->impl;
    snprintf(buf, size, "h%d", g->L / 2);
}

/* Block i's view k (gpt.h's order). */
static const float *bv(const struct st_params *p, int i, int k)
{
    return p->v[ST_GPT_BLOCK0 + i * ST_GPT_BLOCK_VIEWS + k].data;
}

/* View t's gradient, or NULL for a frozen tensor (its backward skips it). */
static float *grad(struct st_params *g, const unsigned char *trainable, int t)
{
    return trainable && !trainable[t] ? NULL : g->v[t].data;
}

/* Block i's view k's gradient. */
static float *bg(struct st_params *g, const unsigned char *trainable, int i, int k)
{
    return grad(g, trainable, ST_GPT_BLOCK0 + i * ST_GPT_BLOCK_VIEWS + k);
}

enum { LN1W, LN1B, QKVW, QKVB, APW, APB, LN2W, LN2B, FCW, FCB, MPW, MPB };

static const float *gpt_forward(const struct st_model *m, const struct st_params *p,
                                struct st_work *w, const float *x, int B)
{
    const struct st_gpt *g = m->impl;
    struct gpt_work *a = w->impl;
    long N = (long)B * g->T;
    size_t NC = (size_t)N * (size_t)g->C, NH = (size_t)B * (size_t)g->H * g->T * g->T;
    int C = g->C;
    a->B = B;
    /* Token ids come as floats (the model interface's inputs), clamped to
     * the vocabulary: the data readers refuse ids out of range first. */
    for (long i = 0; i < N; i++) {
        float t = x[i];
        a->tok[i] = t >= 0.0f && t < (float)g->V ? (int)t : 0;
    }
    st_gpt_embed_forward(a->res, a->tok, p->v[ST_GPT_VIEW_WTE].data,
                             p->v[ST_GPT_VIEW_WPE].data, B, g->T, C);
    for (int i = 0; i < g->L; i++) {
        float *in = a->res + i * NC, *out = a->res + (i + 1) * NC;
        float *ln1 = a->ln1 + i * NC, *qkv = a->qkv + i * 3 * NC, *atty = a->atty + i * NC;
        float *mid = a->mid + i * NC, *ln2 = a->ln2 + i * NC, *fc = a->fc + i * 4 * NC;
        float *gelu = a->gelu + i * 4 * NC;
        st_gpt_layernorm_forward(ln1, a->m1 + i * N, a->r1 + i * N, in, bv(p, i, LN1W),
                                 bv(p, i, LN1B), (int)N, C);
        st_gpt_linear_forward(qkv, ln1, bv(p, i, QKVW), bv(p, i, QKVB), (int)N, C, 3 * C);
        st_gpt_attention_forward(atty, a->att + i * NH, a->scratch, qkv, B, g->T, C, g->H);
        /* mid = in + atty * Wproj^T + bproj */
        st_gpt_linear_residual_forward(mid, in, atty, bv(p, i, APW), bv(p, i, APB), (int)N, C,
                                       C);
        st_gpt_layernorm_forward(ln2, a->m2 + i * N, a->r2 + i * N, mid, bv(p, i, LN2W),
                                 bv(p, i, LN2B), (int)N, C);
        st_gpt_linear_forward(fc, ln2, bv(p, i, FCW), bv(p, i, FCB), (int)N, C, 4 * C);
        st_gpt_gelu_forward(gelu, fc, 4 * (long)NC);
        /* out = mid + gelu * Wproj^T + bproj */
        st_gpt_linear_residual_forward(out, mid, gelu, bv(p, i, MPW), bv(p, i, MPB), (int)N,
                                       4 * C, C);
    }
    int lnf = ST_GPT_BLOCK0 + ST_GPT_BLOCK_VIEWS * g->L;
    st_gpt_layernorm_forward(a->lnf, a->mf, a->rf, a->res + g->L * NC, p->v[lnf].data,
                             p->v[lnf + 1].data, (int)N, C);
    st_gpt_head_forward(a->logits, a->lnf, p->v[ST_GPT_VIEW_WTE].data, (int)N, C, g->V);
    return a->logits;
}

static void gpt_backward(const struct st_model *m, const struct st_params *p, struct st_work *w,
                         struct st_params *gr, const float *dy, int B,
                         const unsigned char *trainable)
{
    const struct st_gpt *g = m->impl;
    struct gpt_work *a = w->impl;
    long N = (long)B * g->T;
    size_t NC = (size_t)N * (size_t)g->C, NH = (size_t)B * (size_t)g->H * g->T * g->T;
    int C = g->C, lnf = ST_GPT_BLOCK0 + ST_GPT_BLOCK_VIEWS * g->L;
    const unsigned char *tr = trainable;
    /* The head: dlnf = dy * wte, dwte += dy^T * lnf. */
    memset(a->d_x, 0, NC * sizeof(float));
    st_gpt_head_backward(a->d_x, grad(gr, tr, ST_GPT_VIEW_WTE), dy, a->lnf,
                         p->v[ST_GPT_VIEW_WTE].data, (int)N, C, g->V);
    memset(a->d_res, 0, NC * sizeof(float));
    st_gpt_layernorm_backward(a->d_res, grad(gr, tr, lnf), grad(gr, tr, lnf + 1), a->d_x,
                              a->res + g->L * NC, p->v[lnf].data, a->mf, a->rf, (int)N, C);
    for (int i = g->L - 1; i >= 0; i--) {
        const float *in = a->res + i * NC, *ln1 = a->ln1 + i * NC, *qkv = a->qkv + i * 3 * NC;
        const float *atty = a->atty + i * NC, *mid = a->mid + i * NC, *ln2 = a->ln2 + i * NC;
        const float *fc = a->fc + i * 4 * NC, *gelu = a->gelu + i * 4 * NC;
        /* out = mid + MLP(ln2(mid)): d_res carries dout, and becomes dmid. */
        memset(a->d_h, 0, 4 * NC * sizeof(float));
        st_gpt_linear_backward(a->d_h, bg(gr, tr, i, MPW), bg(gr, tr, i, MPB), a->d_res, gelu,
                               bv(p, i, MPW), (int)N, 4 * C, C);
        memset(a->d_h2, 0, 4 * NC * sizeof(float));
        st_gpt_gelu_backward(a->d_h2, a->d_h, fc, 4 * (long)NC);
        memset(a->d_x, 0, NC * sizeof(float));
        st_gpt_linear_backward(a->d_x, bg(gr, tr, i, FCW), bg(gr, tr, i, FCB), a->d_h2, ln2,
                               bv(p, i, FCW), (int)N, C, 4 * C);
        st_gpt_layernorm_backward(a->d_res, bg(gr, tr, i, LN2W), bg(gr, tr, i, LN2B), a->d_x,
                                  mid, bv(p, i, LN2W), a->m2 + i * N, a->r2 + i * N, (int)N, C);
        /* mid = in + attn(ln1(in)): d_res carries dmid, and becomes din. */
        memset(a->d_x, 0, NC * sizeof(float));
        st_gpt_linear_backward(a->d_x, bg(gr, tr, i, APW), bg(gr, tr, i, APB), a->d_res, atty,
                               bv(p, i, APW), (int)N, C, C);
        memset(a->d_qkv, 0, 3 * NC * sizeof(float));
        st_gpt_attention_backward(a->d_qkv, a->scratch, a->d_x, qkv, a->att + i * NH, atty, B,
                                  g->T, C, g->H);
        memset(a->d_x, 0, NC * sizeof(float));
        st_gpt_linear_backward(a->d_x, bg(gr, tr, i, QKVW), bg(gr, tr, i, QKVB), a->d_qkv, ln1,
                               bv(p, i, QKVW), (int)N, C, 3 * C);
        st_gpt_layernorm_backward(a->d_res, bg(gr, tr, i, LN1W), bg(gr, tr, i, LN1B), a->d_x, in,
                                  bv(p, i, LN1W), a->m1 + i * N, a->r1 + i * N, (int)N, C);
    }
    st_gpt_embed_backward(grad(gr, tr, ST_GPT_VIEW_WTE), grad(gr, tr, ST_GPT_VIEW_WPE), a->d_res,
                          a->tok, B, g->T, C);
}

const struct st_family st_gpt_family = {
    .name = "gpt",
    .options = (const char *const[]){ "n-layer", "n-head", "d-model", "vocab", "context", NULL },
    .init = gpt_init,
    .free = gpt_free,
    .layout = gpt_layout,
    .draw = gpt_draw,
    .io = gpt_io,
    .draw_inputs = gpt_draw_inputs,
    .check_inputs = gpt_check_inputs,
    .work_bytes = gpt_work_bytes,
    .work_init = gpt_work_init,
    .work_free = gpt_work_free,
    .forward = gpt_forward,
    .backward = gpt_backward,
    .describe = gpt_describe,
    .middle = gpt_middle,
    .meta = st_gpt_meta,
    .file_name = st_gpt_file_name,
    .from_file = st_gpt_from_file,
    .same = st_gpt_same,
};
