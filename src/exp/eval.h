/* eval.h: a model file's loss (and accuracy) on a data set, and its outputs.
 * The model's input statistics (a model trained with --standardize) are
 * applied to the inputs first. */
#ifndef ST_EVAL_H
#define ST_EVAL_H

#include <stdint.h>

#include "../core/loss.h"
#include "../core/status.h"
#include "cfg.h"

struct st_eval_result {
    long n;          /* samples */
    double loss;     /* mse or xent */
    double accuracy; /* xent: share of the samples whose largest output is the label; NaN */
    double bytes_per_token; /* a text (--text): its bytes over its tokens; 0 otherwise */
    const char *unnamed; /* an option the file does not name and that was not given, taken
                          * at its default (st_cfg_model_unnamed); NULL: none */
};

/* Loads the model file cfg->init_path (named --<cfg->init_opt> in messages;
 * its architecture options: those of the file, or those given (given[option
 * index], options.h), which must agree), reads cfg->x_path and cfg->y_path
 * (or, with y_col, both from the .csv x; see data.h), and runs it over the
 * set under cfg->loss. Errors: those of loading and reading; ST_ERR_ARG for
 * --loss xent on a model of one output. */
enum st_status st_eval_model(struct st_train_cfg *cfg, const unsigned char *given,
                             struct st_eval_result *r, struct st_err *err);

/* The outputs y[n, out] (malloc'd) of the model in a file on inputs x[n, in]
 * (in must be the model's; its metadata's activation, else relu; its input
 * statistics applied to a copy of x). Errors: those of loading; ST_ERR_ARG
 * for another input width or n outside 1..2^31-1; ST_ERR_NOMEM. */
enum st_status st_model_predict(const char *model, const float *x, long n, int in, float **y,
                                int *out, struct st_err *err);

/* A language model's continuation: the GPT in the file model run on the
 * prompt's tokens, then length more, each from the last context-many tokens
 * before it, drawn from softmax(logits / temperature) over the top_k most
 * likely (all when top_k is 0; the most likely at temperature 0) with the
 * seed's generator. *out (malloc'd) holds the prompt and the continuation,
 * *n_out tokens. Errors: those of loading; ST_ERR_ARG for a model that is
 * not a GPT, an empty prompt or a token past the vocabulary; ST_ERR_NOMEM. */
enum st_status st_model_sample(const char *model, const uint32_t *prompt, long n_prompt,
                               long length, double temperature, int top_k, uint64_t seed,
                               uint32_t **out, long *n_out, struct st_err *err);

#endif
