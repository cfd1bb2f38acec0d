/* model.c: the list of model families and the dispatch to them. */
#include "model.h"

#include <stdio.h>
#include <string.h>

/* Every model family, in the order of --arch's choices; the first is the
 * default and the one a model file without an "arch" entry holds. Family
 * NAME is defined in its own files as st_NAME_family: adding one is adding
 * its name here. */
#define FAMILIES(X) X(mlp) X(gpt)

#define DECLARE(name) extern const struct st_family st_##name##_family;
FAMILIES(DECLARE)
#define ENTRY(name) &st_##name##_family,
static const struct st_family *const families[] = { FAMILIES(ENTRY) };

#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

int st_family_count(void)
{
    return N_FAMILIES;
}

const struct st_family *st_family_at(int i)
{
    return i >= 0 && i < N_FAMILIES ? families[i] : NULL;
}

int st_family_find(const char *name)
{
    for (int i = 0; i < N_FAMILIES; i++)
        if (!strcmp(families[i]->name, name))
            return i;
    return -1;
}

const char *st_family_choices(void)
{
    static char list[256];
    if (!list[0]) {
        size_t n = 0;
        for (int i = 0; i < N_FAMILIES && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                                  families[i]->name);
    }
    return list;
}

void st_arch_mlp(struct st_arch *a, const int *widths, int n_layers, enum st_act act)
{
    memset(a, 0, sizeof *a);
    a->family = st_family_find("mlp");
    a->n_layers = n_layers;
    for (int l = 0; l <= n_layers && l <= ST_MLP_MAX_LAYERS; l++)
        a->widths[l] = widths[l];
    a->act = act;
}

enum st_status st_model_init(struct st_model *m, const struct st_arch *a, struct st_err *err)
{
    struct st_model q;
    memset(&q, 0, sizeof q);
    q.f = st_family_at(a->family);
    if (!q.f)
        return st_err_set(err, ST_ERR_ARG, "--arch: unknown model family %d (expected one of %s)",
                          a->family, st_family_choices());
    q.arch = *a;
    enum st_status st = q.f->init(&q, err);
    if (st != ST_OK)
        return st;
    *m = q;
    return ST_OK;
}

void st_model_free(struct st_model *m)
{
    if (!m)
        return;
    if (m->f)
        m->f->free(m);
    memset(m, 0, sizeof *m);
}

enum st_status st_model_layout(const struct st_model *m, struct st_params *p, struct st_err *err)
{
    struct st_params q;
    memset(&q, 0, sizeof q);
    enum st_status st = m->f->layout(m, &q, err);
    if (st != ST_OK) {
        st_params_free(&q);
        return st;
    }
    *p = q;
    return ST_OK;
}

enum st_status st_arch_layout(const struct st_arch *a, struct st_params *p, struct st_err *err)
{
    struct st_model m;
    enum st_status st = st_model_init(&m, a, err);
    if (st == ST_OK) {
        st = st_model_layout(&m, p, err);
        st_model_free(&m);
    }
    return st;
}

enum st_status st_model_params(const struct st_model *m, struct st_params *p, struct st_err *err)
{
    struct st_params q;
    enum st_status st = st_model_layout(m, &q, err);
    if (st == ST_OK && (st = st_params_alloc(&q, err)) != ST_OK)
        st_params_free(&q);
    if (st == ST_OK)
        *p = q;
    return st;
}

void st_model_draw(const struct st_model *m, struct st_params *p, struct st_rng *rng,
                   const unsigned char *mask)
{
    m->f->draw(m, p, rng, mask);
}

int st_model_draw_inputs(const struct st_model *m, struct st_rng *rng, float *x, long n)
{
    if (!m->f->draw_inputs)
        return 0;
    m->f->draw_inputs(m, rng, x, n);
    return 1;
}

enum st_status st_model_check_inputs(const struct st_model *m, const float *x, long n,
                                     const char *opt, const char *path, struct st_err *err)
{
    return m->f->check_inputs ? m->f->check_inputs(m, x, n, opt, path, err) : ST_OK;
}

struct st_model_io st_model_io(const struct st_model *m)
{
    return m->f->io(m);
}

double st_model_bytes(const struct st_model *m, int n_copies, long batch)
{
    struct st_params layout;
    double params = 0.0;
    memset(&layout, 0, sizeof layout);
    if (st_model_layout(m, &layout, NULL) == ST_OK)
        params = (double)layout.n;
    st_params_free(&layout);
    return 4.0 * params * (1.0 + n_copies) + m->f->work_bytes(m, batch);
}

long st_model_pass_rows(const struct st_model *m, long n)
{
    long rows = n < 0x7fffffffL ? n : 0x7fffffffL;
    while (rows > 1 && m->f->work_bytes(m, rows) > ST_PASS_BYTES)
        rows /= 2;
    return rows;
}

void st_model_describe(const struct st_model *m, char *buf, size_t size)
{
    m->f->describe(m, buf, size);
}

void st_model_middle(const struct st_model *m, char *buf, size_t size)
{
    m->f->middle(m, buf, size);
}

enum st_status st_work_init(struct st_work *w, const struct st_model *m, int max_batch,
                            struct st_err *err)
{
    struct st_work q;
    memset(&q, 0, sizeof q);
    if (max_batch < 1)
        return st_err_set(err, ST_ERR_ARG, "batch %d: expected at least 1", max_batch);
    q.f = m->f;
    q.max_batch = max_batch;
    enum st_status st = m->f->work_init(m, &q, max_batch, err);
    if (st == ST_OK)
        *w = q;
    return st;
}

void st_work_free(struct st_work *w)
{
    if (!w)
        return;
    if (w->f)
        w->f->work_free(w);
    memset(w, 0, sizeof *w);
}

const float *st_model_forward(const struct st_model *m, const struct st_params *p,
                              struct st_work *w, const float *x, int B)
{
    if (B < 1 || B > w->max_batch)
        return NULL;
    return m->f->forward(m, p, w, x, B);
}

void st_model_backward(const struct st_model *m, const struct st_params *p, struct st_work *w,
                       struct st_params *g, const float *dy, int B,
                       const unsigned char *trainable)
{
    m->f->backward(m, p, w, g, dy, B, trainable);
}

int st_model_product_layers(const struct st_model *m, int *in, int *out)
{
    return m->f->product_layers ? m->f->product_layers(m, in, out) : 0;
}

double st_model_time_products(const struct st_model *m, int i, int B, int blas)
{
    return m->f->time_products(m, i, B, blas);
}

void st_model_set_products(struct st_model *m, const unsigned char *blas)
{
    m->f->set_products(m, blas);
}
