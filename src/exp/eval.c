/* eval.c: see eval.h. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/loss.h"
#include "../core/mlp.h"
#include "../io/safetensors.h"
#include "data.h"

enum st_status st_model_load(const char *path, enum st_act act, int act_given,
                             struct st_model *m, struct st_err *err)
{
    int widths[ST_MAX_LAYERS + 1], L;
    char name[ST_SAFETENSORS_ACT_MAX + 1] = "";
    enum st_act file_act = act;
    enum st_status st;

    memset(m, 0, sizeof *m);
    st = st_safetensors_load_model(path, &m->p, widths, &L, name, err);
    if (st != ST_OK)
        return st;
    m->act_named = name[0] != '\0';
    if (m->act_named && st_act_parse(name, &file_act) != 0)
        st = st_err_set(err, ST_ERR_FORMAT, "%s: unknown activation '%s' in its metadata "
                        "(expected one of %s)", path, name, st_act_choices());
    else if (m->act_named && act_given && file_act != act)
        st = st_err_set(err, ST_ERR_ARG, "--activation %s: %s says it uses %s", st_act_name(act),
                        path, name);
    if (st == ST_OK)
        st = st_mlp_init(&m->net, widths, L, file_act, err);
    if (st == ST_OK)
        st = st_stand_load(&m->stand, path, widths[0], err);
    if (st != ST_OK)
        st_model_free(m);
    return st;
}

void st_model_free(struct st_model *m)
{
    st_params_free(&m->p);
    st_stand_free(&m->stand);
    memset(m, 0, sizeof *m);
}

/* The model's outputs on x[n, in] (standardized here, in place, when the
 * model carries statistics), valid until w is freed. */
static enum st_status run_model(const struct st_model *m, float *x, long n,
                                struct st_mlp_work *w, const float **yhat, struct st_err *err)
{
    enum st_status st;
    if (n < 1 || n > 0x7fffffffL)
        return st_err_set(err, ST_ERR_ARG, "%ld rows: expected 1 to 2^31 - 1", n);
    if (m->stand.n > 0)
        st_stand_apply(&m->stand, x, n);
    if ((st = st_mlp_work_init(w, &m->net, (int)n, err)) != ST_OK)
        return st;
    *yhat = st_mlp_forward(&m->net, &m->p, w, x, (int)n);
    return ST_OK;
}

enum st_status st_eval_model(const char *model, const char *xpath, const char *ypath,
                             const char *ycol,
                             enum st_loss_kind loss, enum st_act act, int act_given,
                             struct st_eval_result *r, struct st_err *err)
{
    struct st_model m;
    struct st_mlp_work w;
    struct st_npy x, y;
    const float *yhat;
    enum st_status st;

    memset(r, 0, sizeof *r);
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    if ((st = st_model_load(model, act, act_given, &m, err)) != ST_OK)
        return st;
    r->n_layers = m.net.n_layers;
    memcpy(r->widths, m.net.widths, sizeof r->widths);
    r->act = m.net.act;
    int in = r->widths[0], out = r->widths[r->n_layers];
    if (loss == ST_LOSS_XENT && out < 2)
        st = st_err_set(err, ST_ERR_ARG, "--loss xent: %s has %d output; classes need at least 2",
                        model, out);
    else if (ycol)
        st = st_data_read_split("x", xpath, ycol, in, out, loss, &x, &y, err);
    else if ((st = st_data_read_inputs("x", xpath, in, &x, err)) == ST_OK)
        st = st_data_read_targets(ypath, x.rows, out, loss, &y, err);
    if (st == ST_OK && (st = run_model(&m, x.data, x.rows, &w, &yhat, err)) == ST_OK) {
        r->n = x.rows;
        r->accuracy = (double)NAN;
        if (loss == ST_LOSS_XENT) {
            long hits;
            r->loss = (double)st_xent_forward(yhat, y.data, x.rows, out, &hits);
            r->accuracy = (double)hits / (double)x.rows;
        } else {
            r->loss = (double)st_mse_forward(yhat, y.data, x.rows * out);
        }
        st_mlp_work_free(&w);
    }
    st_npy_free(&x);
    st_npy_free(&y);
    st_model_free(&m);
    return st;
}

enum st_status st_model_predict(const char *model, const float *x, long n, int in, float **y,
                                int *out, struct st_err *err)
{
    struct st_model m;
    struct st_mlp_work w;
    const float *yhat;
    float *xs = NULL;
    enum st_status st;

    *y = NULL;
    if ((st = st_model_load(model, ST_ACT_RELU, 0, &m, err)) != ST_OK)
        return st;
    int L = m.net.n_layers;
    if (m.net.widths[0] != in)
        st = st_err_set(err, ST_ERR_ARG, "%s: %d inputs; the data has %d", model,
                        m.net.widths[0], in);
    else if (n < 1 || n > 0x7fffffffL)
        st = st_err_set(err, ST_ERR_ARG, "%ld rows: expected 1 to 2^31 - 1", n);
    else if (!(xs = malloc((size_t)n * (size_t)in * sizeof *xs)) ||
             !(*y = malloc((size_t)n * (size_t)m.net.widths[L] * sizeof **y)))
        st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate %ld rows of outputs", n);
    if (st == ST_OK) {
        memcpy(xs, x, (size_t)n * (size_t)in * sizeof *xs);
        if ((st = run_model(&m, xs, n, &w, &yhat, err)) == ST_OK) {
            memcpy(*y, yhat, (size_t)n * (size_t)m.net.widths[L] * sizeof **y);
            *out = m.net.widths[L];
            st_mlp_work_free(&w);
        }
    }
    if (st != ST_OK) {
        free(*y);
        *y = NULL;
    }
    free(xs);
    st_model_free(&m);
    return st;
}
