/* eval.c: see eval.h. */
#include "eval.h"

#include <math.h>
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
