/* optim.c: optimizer steps in PyTorch's formulation (torch.optim, single-tensor
 * path), so a run can be compared with PyTorch step by step:
 *   Adam:  g += wd*theta; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *          theta -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   AdamW: theta *= 1 - lr*wd, then Adam without the L2 term
 *   SGD:   g += wd*theta; buf = g (t = 1) or mu*buf + (1-damp)*g;
 *          g = nesterov ? g + mu*buf : buf; theta -= lr*g
 * Scalars are computed in double and applied in float, as PyTorch does. */
#include "optim.h"

#include "par.h"

#include <math.h>
#include <string.h>

const char *const st_optim_names[] = { "adam", "adamw", "sgd", NULL };
#define N_OPTIMS 3

const char *st_optim_name(enum st_optim_kind k)
{
    return (unsigned)k < N_OPTIMS ? st_optim_names[k] : NULL;
}

int st_optim_parse(const char *s, enum st_optim_kind *k)
{
    for (unsigned i = 0; i < N_OPTIMS; i++)
        if (strcmp(s, st_optim_names[i]) == 0) {
            *k = (enum st_optim_kind)i;
            return 0;
        }
    return -1;
}

void st_optim_defaults(struct st_optim_cfg *cfg, enum st_optim_kind kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->lr = kind == ST_OPT_SGD ? 1e-2 : 1e-3;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = kind == ST_OPT_ADAMW ? 1e-2 : 0.0;
}

enum st_status st_optim_init(struct st_optim *opt, const struct st_optim_cfg *cfg,
                             const struct st_params *params, struct st_err *err)
{
    struct st_optim q;
    enum st_status st;

    if (!st_optim_name(cfg->kind))
        return st_err_set(err, ST_ERR_ARG, "unknown optimizer %d", (int)cfg->kind);
    if (!(cfg->lr > 0.0) || !isfinite(cfg->lr))
        return st_err_set(err, ST_ERR_ARG, "lr %g: expected a positive finite number", cfg->lr);
    if (!(cfg->beta1 >= 0.0 && cfg->beta1 < 1.0))
        return st_err_set(err, ST_ERR_ARG, "beta1 %g: expected a number in [0, 1)", cfg->beta1);
    if (!(cfg->beta2 >= 0.0 && cfg->beta2 < 1.0))
        return st_err_set(err, ST_ERR_ARG, "beta2 %g: expected a number in [0, 1)", cfg->beta2);
    if (!(cfg->eps >= 0.0) || !isfinite(cfg->eps))
        return st_err_set(err, ST_ERR_ARG, "eps %g: expected a non-negative number", cfg->eps);
    if (!(cfg->weight_decay >= 0.0) || !isfinite(cfg->weight_decay))
        return st_err_set(err, ST_ERR_ARG, "weight decay %g: expected a non-negative number",
                          cfg->weight_decay);
    if (!(cfg->momentum >= 0.0) || !isfinite(cfg->momentum))
        return st_err_set(err, ST_ERR_ARG, "momentum %g: expected a non-negative number",
                          cfg->momentum);
    if (cfg->nesterov && (cfg->momentum <= 0.0 || cfg->dampening != 0.0))
        return st_err_set(err, ST_ERR_ARG,
                          "nesterov momentum needs momentum > 0 and no dampening");
    memset(&q, 0, sizeof q);
    q.cfg = *cfg;
    st = st_params_twin(&q.m, params, err);
    if (st == ST_OK && cfg->kind != ST_OPT_SGD)
        st = st_params_twin(&q.v, params, err);
    if (st != ST_OK) {
        st_params_free(&q.m);
        return st;
    }
    *opt = q;
    return ST_OK;
}

void st_optim_free(struct st_optim *opt)
{
    if (!opt)
        return;
    st_params_free(&opt->m);
    st_params_free(&opt->v);
}

/* One tensor's step; its entries are independent, so st_par_range cuts it
 * into ranges for the threads. */
struct step_job {
    const struct st_optim_cfg *c;
    float *theta, *m, *v;
    const float *g;
    /* Adam: step size, sqrt of the second bias correction; SGD: first step */
    float step_size, bc2_sqrt;
    int first;
    /* Adam with l1's proximal step after it: theta0 (NULL: none), the factor */
    const float *theta0;
    float prox_c;
};

ST_PASS static void adam_range(void *ctx, size_t lo, size_t hi)
{
    const struct step_job *j = ctx;
    const struct st_optim_cfg *c = j->c;
    int decoupled = c->kind == ST_OPT_ADAMW;
    float wd = (float)c->weight_decay;
    float b1 = (float)c->beta1, b2 = (float)c->beta2;
    float one_b1 = (float)(1.0 - c->beta1), one_b2 = (float)(1.0 - c->beta2);
    float step_size = j->step_size, bc2_sqrt = j->bc2_sqrt;
    float eps = (float)c->eps;
    float shrink = (float)(1.0 - c->lr * c->weight_decay);
    float *theta = j->theta, *m = j->m, *v = j->v;
    const float *g = j->g;

    /* Three loops without branches inside, so each vectorizes; per entry the
     * operations and their order are those of the formulas above. */
    if (decoupled)
        for (size_t i = lo; i < hi; i++)
            theta[i] *= shrink;
    if (!decoupled && wd != 0.0f)
        for (size_t i = lo; i < hi; i++) {
            float gi = g[i] + wd * theta[i];
            m[i] = m[i] * b1 + one_b1 * gi;
            v[i] = v[i] * b2 + one_b2 * (gi * gi);
            theta[i] -= step_size * (m[i] / (sqrtf(v[i]) / bc2_sqrt + eps));
        }
    else
        for (size_t i = lo; i < hi; i++) {
            float gi = g[i];
            m[i] = m[i] * b1 + one_b1 * gi;
            v[i] = v[i] * b2 + one_b2 * (gi * gi);
            theta[i] -= step_size * (m[i] / (sqrtf(v[i]) / bc2_sqrt + eps));
        }
    /* The proximal step on the range just updated, while it is in cache: the
     * step h_i of steps_range and the soft threshold of penalty.c's
     * prox_range, the same operations (SGD's below: h_i = lr). */
    if (j->theta0) {
        const float *b = j->theta0;
        float lr = (float)c->lr, cf = j->prox_c;
        for (size_t i = lo; i < hi; i++) {
            float h = lr / (sqrtf(v[i]) / bc2_sqrt + eps);
            float delta = theta[i] - b[i], tau = h * cf;
            float mag = fabsf(delta) - tau;
            theta[i] = mag > 0.0f ? b[i] + copysignf(mag, delta) : b[i];
        }
    }
}

ST_PASS static void sgd_range(void *ctx, size_t lo, size_t hi)
{
    const struct step_job *j = ctx;
    const struct st_optim_cfg *c = j->c;
    float lr = (float)c->lr, wd = (float)c->weight_decay, mu = (float)c->momentum;
    float keep = (float)(1.0 - c->dampening);
    float *theta = j->theta, *buf = j->m;
    const float *g = j->g;

    for (size_t i = lo; i < hi; i++) {
        float gi = g[i];
        if (wd != 0.0f)
            gi += wd * theta[i];
        if (mu != 0.0f) {
            buf[i] = j->first ? gi : buf[i] * mu + keep * gi;
            gi = c->nesterov ? gi + mu * buf[i] : buf[i];
        }
        theta[i] -= lr * gi;
    }
    if (j->theta0) {
        const float *b = j->theta0;
        float cf = j->prox_c;
        for (size_t i = lo; i < hi; i++) {
            float delta = theta[i] - b[i], tau = lr * cf;
            float mag = fabsf(delta) - tau;
            theta[i] = mag > 0.0f ? b[i] + copysignf(mag, delta) : b[i];
        }
    }
}

static void step(struct st_optim *opt, struct st_params *params, const struct st_params *g,
                 const unsigned char *trainable, const struct st_params *theta0,
                 const double *prox_c)
{
    const struct st_optim_cfg *c = &opt->cfg;
    opt->t++;
    struct step_job j = {
        .c = c,
        .step_size = (float)(c->lr / (1.0 - pow(c->beta1, (double)opt->t))),
        .bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, (double)opt->t)),
        .first = opt->t == 1,
    };
    for (int k = 0; k < params->n_views; k++) {
        if (trainable && !trainable[k])
            continue;
        size_t off = params->v[k].offset, n = st_view_size(&params->v[k]);
        j.theta = params->mem + off;
        j.g = g->mem + off;
        j.m = opt->m.mem + off;
        j.v = c->kind == ST_OPT_SGD ? NULL : opt->v.mem + off;
        j.theta0 = theta0 && prox_c[k] >= 0.0 ? theta0->mem + off : NULL;
        j.prox_c = theta0 ? (float)prox_c[k] : 0.0f;
        st_par_range(n, c->kind == ST_OPT_SGD ? sgd_range : adam_range, &j);
    }
}

void st_optim_step(struct st_optim *opt, struct st_params *params, const struct st_params *g,
                   const unsigned char *trainable)
{
    step(opt, params, g, trainable, NULL, NULL);
}

void st_optim_step_prox_l1(struct st_optim *opt, struct st_params *params,
                           const struct st_params *g, const unsigned char *trainable,
                           const struct st_params *theta0, const double *c)
{
    step(opt, params, g, trainable, theta0, c);
}

struct steps_job {
    float *h;
    const float *v;
    float lr, bc2_sqrt, eps;
};

ST_PASS static void steps_range(void *ctx, size_t lo, size_t hi)
{
    const struct steps_job *j = ctx;
    if (!j->v)
        for (size_t i = lo; i < hi; i++)
            j->h[i] = j->lr;
    else
        for (size_t i = lo; i < hi; i++)
            j->h[i] = j->lr / (sqrtf(j->v[i]) / j->bc2_sqrt + j->eps);
}

void st_optim_steps(const struct st_optim *opt, struct st_params *h,
                    const unsigned char *trainable)
{
    const struct st_optim_cfg *c = &opt->cfg;
    struct steps_job j = {
        .lr = (float)c->lr,
        .bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, (double)(opt->t > 0 ? opt->t : 1))),
        .eps = (float)c->eps,
    };
    for (int k = 0; k < h->n_views; k++) {
        if (trainable && !trainable[k])
            continue;
        size_t off = h->v[k].offset;
        j.h = h->mem + off;
        j.v = c->kind == ST_OPT_SGD ? NULL : opt->v.mem + off;
        st_par_range(st_view_size(&h->v[k]), steps_range, &j);
    }
}
