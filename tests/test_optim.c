/* test_optim.c: Adam, AdamW and SGD (with and without momentum, Nesterov,
 * weight decay) against values computed by hand from PyTorch's formulas. */
#include <string.h>

#include "check.h"
#include "model_util.h"
#include "core/optim.h"
#include "core/penalty.h"
#include "core/rng.h"

/* A one-layer net 1 -> 1 gives two one-entry tensors w1, b1. */
static void make(struct st_params *p, struct st_params *g)
{
    struct st_err err;
    const int w[] = { 1, 1 };
    CHECK_OK(mlp_params(p, w, 1, &err));
    CHECK_OK(st_params_twin(g, p, &err));
}

static void two_steps(enum st_optim_kind kind, double lr, double wd, double mom, int nesterov,
                      double expect1, double expect2)
{
    struct st_params p, g;
    struct st_optim opt;
    struct st_optim_cfg cfg;
    struct st_err err;
    make(&p, &g);
    st_optim_defaults(&cfg, kind);
    cfg.lr = lr;
    cfg.weight_decay = wd;
    cfg.momentum = mom;
    cfg.nesterov = nesterov;
    CHECK_OK(st_optim_init(&opt, &cfg, &p, &err));
    p.v[0].data[0] = 1.0f;
    p.v[1].data[0] = 1.0f;
    g.v[0].data[0] = 0.5f;
    g.v[1].data[0] = 0.5f;
    unsigned char trainable[2] = { 1, 0 };
    st_optim_step(&opt, &p, &g, trainable);
    CHECK_NEAR(p.v[0].data[0], expect1, 1e-7, 1e-6);
    CHECK(p.v[1].data[0] == 1.0f); /* frozen: untouched */
    g.v[0].data[0] = -0.25f;
    st_optim_step(&opt, &p, &g, trainable);
    CHECK_NEAR(p.v[0].data[0], expect2, 1e-7, 1e-6);
    CHECK(opt.t == 2);
    st_optim_free(&opt);
    st_params_free(&p);
    st_params_free(&g);
}

/* st_optim_step_prox_l1 against st_optim_step, st_optim_steps and
 * st_penalty_prox one after the other: the same bits, for every optimizer,
 * over 5 steps of a net with a frozen tensor, one whose lambda scale is 0 and
 * tensors longer than a pass's block of entries (so cut into several). */
static void fused_prox(enum st_optim_kind kind)
{
    const int w[] = { 300, 400, 7 };
    struct st_params a, b, g, h, start;
    struct st_optim oa, ob;
    struct st_optim_cfg cfg;
    struct st_penalty pen;
    struct st_rng rng;
    struct st_err err;
    CHECK_OK(mlp_params(&a, w, 2, &err));
    CHECK_OK(st_params_twin(&b, &a, &err));
    CHECK_OK(st_params_twin(&g, &a, &err));
    CHECK_OK(st_params_twin(&h, &a, &err));
    CHECK_OK(st_params_twin(&start, &a, &err));
    st_rng_seed(&rng, 7, 1);
    st_rng_fill_uniform(&rng, start.mem, (long)start.n, -1.0f, 1.0f);
    st_params_copy(&a, &start);
    st_params_copy(&b, &start);
    st_optim_defaults(&cfg, kind);
    cfg.lr = 0.01;
    cfg.momentum = kind == ST_OPT_SGD ? 0.9 : cfg.momentum;
    CHECK_OK(st_optim_init(&oa, &cfg, &a, &err));
    CHECK_OK(st_optim_init(&ob, &cfg, &b, &err));
    unsigned char trainable[4] = { 1, 1, 0, 1 };
    double scale[4] = { 1.0, 0.0, 1.0, 2.0 }, c[4];
    CHECK_OK(st_penalty_init(&pen, ST_PEN_L1, ST_RED_SUM, 0.5, scale, trainable, 0, &a, &err));
    CHECK(st_penalty_l1_factors(&pen, c));
    CHECK(c[0] > 0.0 && c[1] == -1.0 && c[2] == -1.0 && c[3] > 0.0);
    for (int k = 0; k < 5; k++) {
        st_rng_fill_uniform(&rng, g.mem, (long)g.n, -1.0f, 1.0f);
        st_optim_step(&oa, &a, &g, trainable);
        st_optim_steps(&oa, &h, trainable);
        st_penalty_prox(&pen, &a, &start, &h);
        st_optim_step_prox_l1(&ob, &b, &g, trainable, &start, c);
    }
    CHECK(memcmp(a.mem, b.mem, a.n * sizeof *a.mem) == 0);
    CHECK(memcmp(oa.m.mem, ob.m.mem, a.n * sizeof *a.mem) == 0);
    size_t zeros = 0;
    for (size_t i = 0; i < a.n; i++)
        zeros += a.mem[i] == start.mem[i];
    CHECK(zeros > a.n / 10 && zeros < a.n / 10 * 9); /* the threshold did work */
    st_penalty_free(&pen);
    st_optim_free(&oa);
    st_optim_free(&ob);
    st_params_free(&a);
    st_params_free(&b);
    st_params_free(&g);
    st_params_free(&h);
    st_params_free(&start);
}

int main(void)
{
    fused_prox(ST_OPT_ADAM);
    fused_prox(ST_OPT_ADAMW);
    fused_prox(ST_OPT_SGD);

    /* Adam, lr 0.1, theta 1, g 0.5 then -0.25:
     * t=1: m = 0.05, v = 2.5e-4, step = 0.1/(1-0.9) = 1,
     *      denom = sqrt(2.5e-4)/sqrt(1-0.999) + 1e-8 = 0.5 + 1e-8, theta = 1 - 0.05/0.5 = 0.9
     * t=2: m = 0.045 - 0.025 = 0.02, v = 0.999*2.5e-4 + 0.001*0.0625 = 3.1225e-4,
     *      step = 0.1/0.19, denom = sqrt(3.1225e-4)/sqrt(0.001999) + 1e-8,
     *      theta = 0.9 - 0.5263158*0.02/0.3952257 = 0.87336630 */
    two_steps(ST_OPT_ADAM, 0.1, 0.0, 0.0, 0, 0.9, 0.8733662967);

    /* Adam, weight decay 0.1 (L2 in the gradient): g = 0.5 + 0.1*1 = 0.6 at t=1,
     * m = 0.06, v = 3.6e-4, theta = 1 - 0.06/(0.6 + 1e-8) = 0.9 (the bias-corrected
     * Adam step is lr*sign(g) at t=1 whatever g). */
    {
        struct st_params p, g;
        struct st_optim opt;
        struct st_optim_cfg cfg;
        struct st_err err;
        make(&p, &g);
        st_optim_defaults(&cfg, ST_OPT_ADAM);
        cfg.lr = 0.1;
        cfg.weight_decay = 0.1;
        CHECK_OK(st_optim_init(&opt, &cfg, &p, &err));
        p.v[0].data[0] = 1.0f;
        g.v[0].data[0] = 0.5f;
        st_optim_step(&opt, &p, &g, NULL);
        CHECK_NEAR(p.v[0].data[0], 0.9, 1e-7, 1e-6);
        CHECK_NEAR(opt.m.v[0].data[0], 0.06, 1e-9, 1e-6);
        CHECK_NEAR(opt.v.v[0].data[0], 3.6e-4, 1e-12, 1e-6);
        st_optim_free(&opt);
        st_params_free(&p);
        st_params_free(&g);
    }

    /* AdamW, lr 0.1, wd 0.01: theta *= 1 - 0.001 first.
     * t=1: 0.999 - 0.1 = 0.899
     * t=2: 0.899 * 0.999 = 0.898101, minus the Adam step 0.02663370 = 0.87146730 */
    two_steps(ST_OPT_ADAMW, 0.1, 0.01, 0.0, 0, 0.899, 0.898101 - (0.9 - 0.8733662967));

    /* SGD lr 0.1: 1 - 0.05 = 0.95; 0.95 + 0.025 = 0.975 */
    two_steps(ST_OPT_SGD, 0.1, 0.0, 0.0, 0, 0.95, 0.975);
    /* SGD momentum 0.9: buf = 0.5, theta 0.95; buf = 0.45 - 0.25 = 0.2, theta 0.93 */
    two_steps(ST_OPT_SGD, 0.1, 0.0, 0.9, 0, 0.95, 0.93);
    /* Nesterov: g + 0.9*buf = 0.95 -> 0.905; buf 0.2, g = -0.25 + 0.18 -> 0.912 */
    two_steps(ST_OPT_SGD, 0.1, 0.0, 0.9, 1, 0.905, 0.912);
    /* SGD weight decay 0.1: g = 0.6 -> 0.94; g = -0.25 + 0.094 -> 0.94 + 0.0156 = 0.9556 */
    two_steps(ST_OPT_SGD, 0.1, 0.1, 0.0, 0, 0.94, 0.9556);

    /* Defaults follow PyTorch. */
    struct st_optim_cfg c;
    st_optim_defaults(&c, ST_OPT_ADAMW);
    CHECK(c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8 && c.weight_decay == 1e-2);
    st_optim_defaults(&c, ST_OPT_ADAM);
    CHECK(c.weight_decay == 0.0 && c.lr == 1e-3);

    /* Bad hyperparameters are refused. */
    struct st_params p, g;
    struct st_optim opt;
    struct st_err err;
    make(&p, &g);
    c.lr = -1;
    CHECK(st_optim_init(&opt, &c, &p, &err) == ST_ERR_ARG);
    st_optim_defaults(&c, ST_OPT_ADAM);
    c.beta2 = 1.0;
    CHECK(st_optim_init(&opt, &c, &p, &err) == ST_ERR_ARG);
    st_params_free(&p);
    st_params_free(&g);
    return check_report("optim");
}
