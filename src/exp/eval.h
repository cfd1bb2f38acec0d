/* eval.h: a model file's loss (and accuracy) on a data set. */
#ifndef ST_EVAL_H
#define ST_EVAL_H

#include "../core/act.h"
#include "../core/mlp.h"
#include "../core/params.h"
#include "../core/status.h"
#include "data.h"
#include "train.h"

/* A model file, ready to run. */
struct st_model {
    struct st_params p;
    struct st_mlp net;     /* widths read off the shapes; the activation */
    int act_named;         /* the file's metadata names the activation */
    struct st_stand stand; /* input statistics from its metadata (n = 0: none) */
};

/* Loads a model file (see st_safetensors_load_model). The activation is the
 * one its metadata names, else act; with act_given, a file that names
 * another is an error. Errors: those of loading; ST_ERR_FORMAT for an unknown
 * activation or bad statistics; ST_ERR_ARG for a conflict with act. Free
 * with st_model_free(). */
enum st_status st_model_load(const char *path, enum st_act act, int act_given,
                             struct st_model *m, struct st_err *err);
void st_model_free(struct st_model *m);

struct st_eval_result {
    int n_layers;
    int widths[ST_MAX_LAYERS + 1];
    enum st_act act;
    long n;           /* samples */
    double loss;      /* mse or xent */
    double accuracy;  /* xent: share of the samples whose largest output is the label; NaN */
};

/* Loads the model (safetensors, see st_safetensors_load_model), reads x and y
 * (see data.h; with ycol not NULL, both from the CSV x, ypath unused),
 * standardizes x with the statistics in the model's metadata if it has them,
 * and runs one forward pass. act: the hidden activation; with
 * act_given 0, the one in the file's metadata, or relu if it names none (a
 * file that names another than a given act is an error). */
enum st_status st_eval_model(const char *model, const char *xpath, const char *ypath,
                             const char *ycol,
                             enum st_loss_kind loss, enum st_act act, int act_given,
                             struct st_eval_result *r, struct st_err *err);

/* The outputs y[n, out] (malloc'd) of the model in a file on inputs x[n, in]
 * (in must be the model's; its metadata's activation, else relu; its input
 * statistics applied to a copy of x). Errors: those of loading; ST_ERR_ARG
 * for another input width or n outside 1..2^31-1; ST_ERR_NOMEM. */
enum st_status st_model_predict(const char *model, const float *x, long n, int in, float **y,
                                int *out, struct st_err *err);

#endif
