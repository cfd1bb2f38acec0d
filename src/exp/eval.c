/* eval.c: see eval.h. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/loss.h"
#include "../core/mlp.h"
#include "../io/safetensors.h"
#include "data.h"

enum st_status st_eval_model(const char *model, const char *xpath, const char *ypath,
                             const char *ycol,
                             enum st_loss_kind loss, enum st_act act, int act_given,
                             struct st_eval_result *r, struct st_err *err)
{
    struct st_params p;
    struct st_mlp net;
    struct st_mlp_work w;
    struct st_npy x, y;
    char name[ST_SAFETENSORS_ACT_MAX + 1] = "";
    enum st_act file_act = ST_ACT_RELU;
    enum st_status st;

    memset(r, 0, sizeof *r);
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    st = st_safetensors_load_model(model, &p, r->widths, &r->n_layers, name, err);
    if (st != ST_OK)
        return st;
    if (name[0] && st_act_parse(name, &file_act) != 0)
        st = st_err_set(err, ST_ERR_FORMAT, "%s: unknown activation '%s' in its metadata "
                        "(expected one of %s)", model, name, st_act_choices());
    else if (name[0] && act_given && file_act != act)
        st = st_err_set(err, ST_ERR_ARG, "--activation %s: %s says it uses %s", st_act_name(act),
                        model, name);
    r->act = act_given ? act : file_act;
    int out = r->widths[r->n_layers];
    if (st == ST_OK && loss == ST_LOSS_XENT && out < 2)
        st = st_err_set(err, ST_ERR_ARG, "--loss xent: %s has %d output; classes need at least 2",
                        model, out);
    if (st != ST_OK) {
        st_params_free(&p);
        return st;
    }
    if (ycol) {
        st = st_data_read_split("x", xpath, ycol, r->widths[0], out, loss, &x, &y, err);
    } else {
        st = st_data_read_inputs("x", xpath, r->widths[0], &x, err);
        if (st == ST_OK)
            st = st_data_read_targets(ypath, x.rows, out, loss, &y, err);
    }
    if (st == ST_OK) {
        /* the statistics the model's inputs were standardized with, if any */
        struct st_stand s;
        st = st_stand_load(&s, model, r->widths[0], err);
        if (st == ST_OK && s.n > 0)
            st_stand_apply(&s, x.data, x.rows);
        st_stand_free(&s);
    }
    if (st == ST_OK && (x.rows > 0x7fffffffL))
        st = st_err_set(err, ST_ERR_ARG, "%s: %ld rows; at most 2^31 - 1", xpath, x.rows);
    if (st == ST_OK && (st = st_mlp_init(&net, r->widths, r->n_layers, r->act, err)) == ST_OK &&
        (st = st_mlp_work_init(&w, &net, (int)x.rows, err)) == ST_OK) {
        const float *yhat = st_mlp_forward(&net, &p, &w, x.data, (int)x.rows);
        r->n = x.rows;
        r->accuracy = (double)NAN;
        if (loss == ST_LOSS_XENT) {
            long hits;
            r->loss = st_xent_forward(yhat, y.data, x.rows, out, &hits);
            r->accuracy = (double)hits / (double)x.rows;
        } else {
            r->loss = st_mse_forward(yhat, y.data, x.rows * out);
        }
        st_mlp_work_free(&w);
    }
    st_npy_free(&x);
    st_npy_free(&y);
    st_params_free(&p);
    return st;
}

enum st_status st_model_predict(const char *model, const float *x, long n, int in, float **y,
                                int *out, struct st_err *err)
{
    struct st_params p;
    struct st_mlp net;
    struct st_mlp_work w;
    struct st_stand s;
    int widths[ST_MAX_LAYERS + 1], L;
    char name[ST_SAFETENSORS_ACT_MAX + 1] = "";
    enum st_act act = ST_ACT_RELU;
    float *xs = NULL;
    enum st_status st;

    *y = NULL;
    st = st_safetensors_load_model(model, &p, widths, &L, name, err);

    if (st != ST_OK)
        return st;
    if (widths[0] != in)
        st = st_err_set(err, ST_ERR_ARG, "%s: %d inputs; the data has %d", model, widths[0], in);
    else if (n < 1 || n > 0x7fffffffL)
        st = st_err_set(err, ST_ERR_ARG, "%ld rows: expected 1 to 2^31 - 1", n);
    else if (name[0] && st_act_parse(name, &act) != 0)
        st = st_err_set(err, ST_ERR_FORMAT, "%s: unknown activation '%s' in its metadata",
                        model, name);
    if (st == ST_OK && (st = st_stand_load(&s, model, in, err)) == ST_OK) {
        xs = malloc((size_t)n * (size_t)in * sizeof *xs);
        *y = malloc((size_t)n * (size_t)widths[L] * sizeof **y);
        if (!xs || !*y) {
            free(*y);
            *y = NULL;
            st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate %ld rows of outputs", n);
        } else {
            memcpy(xs, x, (size_t)n * (size_t)in * sizeof *xs);
            if (s.n > 0)
                st_stand_apply(&s, xs, n);
        }
        st_stand_free(&s);
    }
    if (st == ST_OK && (st = st_mlp_init(&net, widths, L, act, err)) == ST_OK &&
        (st = st_mlp_work_init(&w, &net, (int)n, err)) == ST_OK) {
        memcpy(*y, st_mlp_forward(&net, &p, &w, xs, (int)n),
               (size_t)n * (size_t)widths[L] * sizeof **y);
        *out = widths[L];
        st_mlp_work_free(&w);
    } else if (st != ST_OK && *y) {
        free(*y);
        *y = NULL;
    }
    free(xs);
    st_params_free(&p);
    return st;
}
