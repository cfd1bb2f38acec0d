/* model_util.h: an MLP through the model interface (core/model.h), for the
 * tests: its model, and its parameters laid out and allocated. */
#ifndef ST_MODEL_UTIL_H
#define ST_MODEL_UTIL_H

#include "core/model.h"

static inline enum st_status mlp_model(struct st_model *m, const int *widths, int n_layers,
                                       enum st_act act, struct st_err *err)
{
    struct st_arch a;
    st_arch_mlp(&a, widths, n_layers, act);
    return st_model_init(m, &a, err);
}

/* p: the zeroed parameters of the MLP of widths[0..n_layers]. */
static inline enum st_status mlp_params(struct st_params *p, const int *widths, int n_layers,
                                        struct st_err *err)
{
    struct st_model m;
    enum st_status st = mlp_model(&m, widths, n_layers, ST_ACT_RELU, err);
    if (st == ST_OK) {
        st = st_model_params(&m, p, err);
        st_model_free(&m);
    }
    return st;
}

#endif
