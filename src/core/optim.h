/* optim.h: Adam, AdamW and SGD with momentum over a flat parameter buffer,
 * following PyTorch's update formulas and defaults. The state (m, v or the
 * momentum buffer) has the parameters' layout; the step count t starts at 1. */
#ifndef ST_OPTIM_H
#define ST_OPTIM_H

#include "params.h"
#include "status.h"

enum st_optim_kind { ST_OPT_ADAM, ST_OPT_ADAMW, ST_OPT_SGD };

struct st_optim_cfg {
    enum st_optim_kind kind;
    double lr;
    double beta1, beta2, eps; /* Adam/AdamW: 0.9, 0.999, 1e-8 */
    double weight_decay;      /* Adam/SGD: L2 added to the gradient; AdamW: decoupled */
    double momentum;          /* SGD: 0 = plain SGD */
    double dampening;         /* SGD: 0 */
    int nesterov;             /* SGD: Nesterov momentum (needs momentum > 0) */
};

struct st_optim {
    struct st_optim_cfg cfg;
    long t;             /* updates taken so far */
    struct st_params m; /* Adam first moment, or SGD momentum buffer */
    struct st_params v; /* Adam second moment (unused by SGD) */
};

/* The names in enum order, NULL-terminated. */
extern const char *const st_optim_names[];

/* "adam", "adamw", "sgd"; NULL if unknown. */
const char *st_optim_name(enum st_optim_kind k);
int st_optim_parse(const char *s, enum st_optim_kind *k);

/* Fills PyTorch's defaults for kind (lr 1e-3 for Adam/AdamW, weight decay 1e-2 for AdamW). */
void st_optim_defaults(struct st_optim_cfg *cfg, enum st_optim_kind kind);

/* Allocates zeroed state shaped like params. Errors: ST_ERR_ARG for bad
 * hyperparameters, ST_ERR_NOMEM. Free with st_optim_free(). */
enum st_status st_optim_init(struct st_optim *opt, const struct st_optim_cfg *cfg,
                             const struct st_params *params, struct st_err *err);
void st_optim_free(struct st_optim *opt);

/* One update of params from gradients g. Tensors with trainable[t] == 0 are
 * left untouched, state included (NULL = all trainable). */
void st_optim_step(struct st_optim *opt, struct st_params *params, const struct st_params *g,
                   const unsigned char *trainable);

/* st_optim_step and then, entry by entry in the same pass,
 * l1's proximal step at the steps st_optim_steps gives: theta_i = theta0_i +
 * sign(Delta_i) max(|Delta_i| - h_i c[t], 0) with Delta = theta - theta0, in
 * the views with c[t] >= 0 (c[t] < 0: the step alone). The bits of
 * st_optim_step, st_optim_steps and st_penalty_prox one after the other, in
 * one pass over memory instead of three. */
void st_optim_step_prox_l1(struct st_optim *opt, struct st_params *params,
                           const struct st_params *g, const unsigned char *trainable,
                           const struct st_params *theta0, const double *c);

/* The optimizer's per-coordinate step after its latest update, the metric of
 * proximal steps: Adam/AdamW h_i = lr / (sqrt(v_i / (1 - beta2^t)) + eps),
 * SGD h_i = lr. Fills the trainable tensors of h (params' layout). */
void st_optim_steps(const struct st_optim *opt, struct st_params *h,
                    const unsigned char *trainable);

#endif
