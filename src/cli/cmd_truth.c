/* cmd_truth.c: `sparsetune truth`, the confusion experiment "re-drawn ->
 * named". For every net, every truth (the layers the student re-draws) and
 * every seed: every freeze mask (each non-empty subset of layers trained
 * alone, lambda 0), then one run per other method. A method names the layers
 * with a changed tensor (masks: the smallest subset within 2x of the best tail
 * loss); a set of layers suffices when its mask run reaches a tail loss within
 * --suffice times the full fine-tune's. Writes truth_runs.csv (a row per run
 * and method), truth_masks.csv (a row per mask run), truth.csv (the confusion
 * matrix in long form) and the figure; prints a table per net. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/penalty.h"
#include "../core/select.h"
#include "../exp/options.h"
#include "cli.h"
#include "commands.h"
#include "pool.h"
#include "truth.h"

/* The lambda of a penalized method listed without @LAMBDA, per reduction.
 * The reductions price an update on scales orders of magnitude apart (mean
 * divides each tensor's term by its entries, sum does not), so each has its
 * own: on the seed's problem these give final losses of the same order,
 * 1e-7 to 1e-6 (README "When the method names the wrong layer"). */
static const double default_lambda[] = {
    [ST_RED_MEAN] = 1e-3,
    [ST_RED_SUM] = 3e-5,
    [ST_RED_SQRT] = 2e-4,
    [ST_RED_FISHER] = 3e-5,
};

/* The methods when --methods is not given. */
static const char default_methods[] =
    "masks,adam,sgd,l1-sub-mean,l1-prox-mean,group-prox-mean,layer-prox-mean,l1-prox-sum,"
    "group-prox-sum,layer-prox-sum,l1-prox-sqrt,layer-prox-sqrt,l1-prox-fisher,"
    "layer-prox-fisher";

static const char accepted[] =
    "masks, adam, sgd or PEN-MODE-RED[@LAMBDA] (PEN l1, group or layer; MODE sub or prox; RED "
    "mean, sum, sqrt or fisher; e.g. l1-prox-sum@3e-5)";

static void usage(FILE *f)
{
    fputs("usage: sparsetune truth [options]\n"
          "\n"
          "The confusion experiment: for every net, every truth (the layers the student\n"
          "re-draws) and every seed, trains every subset of layers alone (freeze masks,\n"
          "lambda 0) and one run per method, then tells for each method how often the\n"
          "layers it names (those with a changed tensor; masks: the smallest subset within\n"
          "2x of the best loss) are exactly the re-drawn ones, and how often they suffice:\n"
          "trained alone they reach a tail loss within --suffice times the full\n"
          "fine-tune's. Prints a table per net (c/s/m: seeds naming the re-drawn set / a\n"
          "sufficient set / a sufficient set of the fewest layers that suffice) and writes\n"
          "OUT/truth_runs.csv (a row per run), OUT/truth_masks.csv\n"
          "(a row per mask run), OUT/truth.csv (re-drawn -> named counts) and OUT/truth.png.\n"
          "\n"
          "truth options:\n"
          "  --nets LIST                widths of each net, nets separated by '/', e.g.\n"
          "                             1,20,20,1/8,32,32,8; all of the same depth [--widths]\n"
          "  --truths LIST              --reinit selectors separated by '/', e.g. 1/2/3/1,3\n"
          "                             [each layer alone, then the first and last together]\n"
          "  --methods LIST             masks, adam, sgd (lambda 0) and PEN-MODE-RED[@LAMBDA]:\n"
          "                             PEN l1, group or layer; MODE sub (subgradient) or prox;\n"
          "                             RED mean, sum, sqrt or fisher (--penalty-reduction);\n",
          f);
    /* The defaults from their tables, the list wrapped at its commas. */
    fprintf(f, "                             LAMBDA by RED when not given: mean %g, sum %g,\n"
               "                             sqrt %g, fisher %g; the mask runs always run\n"
               "                             (sufficiency needs them)\n",
            default_lambda[ST_RED_MEAN], default_lambda[ST_RED_SUM], default_lambda[ST_RED_SQRT],
            default_lambda[ST_RED_FISHER]);
    for (const char *p = default_methods; *p;) {
        int len = (int)strlen(p);
        if (len > 52) {
            len = 52;
            while (len > 1 && p[len - 1] != ',')
                len--;
        }
        fprintf(f, "                             %s%.*s%s\n", p == default_methods ? "[" : "",
                len, p, p[len] ? "" : "]");
        p += len;
    }
    fputs("  --seeds N                  seeds --seed .. --seed + N - 1 [20]\n"
          "  --suffice F                a set suffices when its tail loss <= F x the full\n"
          "                             fine-tune's [10]\n"
          "  --sgd-lr FLOAT             learning rate of the plain SGD runs [0.1]\n"
          "  --jobs N                   worker processes [the number of cores]\n"
          "\n"
          "options of every run (as for train; --out is the directory [truth]):\n",
          f);
    st_cli_print_run_options(f, "truth");
    fputs("\nexample:\n  sparsetune truth --nets 1,20,20,1/8,32,32,8 --seeds 10 --out tr\n\n"
          "exit status: 0 success (diverged runs included), 1 a run failed or a runtime\n"
          "failure (the tables keep what the other runs gave), 2 usage error\n",
          f);
}

/* One --methods token into m. Errors: ST_ERR_ARG naming the token. */
static enum st_status parse_method(const char *tok, struct method *m, struct st_err *err)
{
    char body[40];
    const char *at = strchr(tok, '@');
    size_t len = at ? (size_t)(at - tok) : strlen(tok);
    memset(m, 0, sizeof *m);
    if (len >= sizeof body)
        return st_err_set(err, ST_ERR_ARG, "--methods: unknown method '%s'; expected %s", tok,
                          accepted);
    memcpy(body, tok, len);
    body[len] = '\0';
    snprintf(m->name, sizeof m->name, "%s", body);
    if (!strcmp(body, "masks") || !strcmp(body, "adam") || !strcmp(body, "sgd")) {
        m->kind = body[0] == 'm' ? K_MASKS : body[0] == 'a' ? K_ADAM : K_SGD;
    } else {
        char *mode = strchr(body, '-'), *red = mode ? strchr(mode + 1, '-') : NULL;
        if (red)
            *mode++ = *red++ = '\0';
        if (!red || st_penalty_parse(body, &m->pen) != 0 ||
            (m->pen != ST_PEN_L1 && m->pen != ST_PEN_GROUP && m->pen != ST_PEN_LAYER) ||
            (strcmp(mode, "sub") && strcmp(mode, "prox")) || st_reduction_parse(red, &m->red) != 0)
            return st_err_set(err, ST_ERR_ARG, "--methods: unknown method '%s'; expected %s",
                              tok, accepted);
        m->kind = K_PENALTY;
        m->prox = !strcmp(mode, "prox");
        m->lambda = default_lambda[m->red];
    }
    if (at) {
        char *end;
        double v = strtod(at + 1, &end);
        if (m->kind != K_PENALTY)
            return st_err_set(err, ST_ERR_ARG, "--methods: '%s': only a penalized method "
                              "(PEN-MODE-RED) takes @LAMBDA", tok);
        if (end == at + 1 || *end || !isfinite(v) || v < 0.0)
            return st_err_set(err, ST_ERR_ARG, "--methods: '%s': expected @LAMBDA, a number >= "
                              "0 (e.g. %s@3e-5)", tok, m->name);
        m->lambda = v;
    }
    if (m->kind == K_PENALTY)
        snprintf(m->label, sizeof m->label, "%s@%g", m->name, m->lambda);
    else
        snprintf(m->label, sizeof m->label, "%s", m->name);
    return ST_OK;
}

/* The comma-separated --methods into c->methods and its run methods (all
 * but masks) into c->runs. Errors: ST_ERR_ARG. */
static enum st_status parse_methods(const char *list, struct truth_ctx *c, struct st_err *err)
{
    const char *p = list;
    c->n_methods = c->n_runs = 0;
    for (;;) {
        char tok[128];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof tok)
            return st_err_set(err, ST_ERR_ARG, "--methods '%s': expected a comma-separated "
                              "list of %s", list, accepted);
        if (c->n_methods == MAX_METHODS)
            return st_err_set(err, ST_ERR_ARG, "--methods: at most %d methods", MAX_METHODS);
        memcpy(tok, p, len);
        tok[len] = '\0';
        struct method *m = &c->methods[c->n_methods];
        enum st_status st = parse_method(tok, m, err);
        if (st != ST_OK)
            return st;
        for (int k = 0; k < c->n_methods; k++)
            if (!strcmp(c->methods[k].label, m->label))
                return st_err_set(err, ST_ERR_ARG, "--methods: '%s' is listed twice%s%s%s", tok,
                                  strcmp(tok, m->label) ? " (as " : "",
                                  strcmp(tok, m->label) ? m->label : "",
                                  strcmp(tok, m->label) ? ")" : "");
        if (m->kind != K_MASKS)
            c->runs[c->n_runs++] = m;
        c->n_methods++;
        if (!p[len])
            return ST_OK;
        p += len + 1;
    }
}

/* The nets of --nets (NULL: the base run's widths alone), each a copy of base
 * with its widths, into nets[] and their widths as text into text[]. Every
 * net has as many layers as the first. Errors: ST_ERR_ARG naming the net. */
static enum st_status parse_nets(const char *list, const struct st_train_cfg *base,
                                 struct truth_ctx *c, struct st_train_cfg *nets,
                                 struct st_err *err)
{
    const struct st_option *widths = st_option_find("widths");
    const char *p = list;
    c->n_nets = 0;
    for (;;) {
        char piece[1024];
        size_t len = list ? strcspn(p, "/") : 0;
        if (c->n_nets == MAX_NETS)
            return st_err_set(err, ST_ERR_ARG, "--nets: at most %d nets", MAX_NETS);
        struct st_train_cfg *n = &nets[c->n_nets];
        *n = *base;
        if (list) {
            if (len == 0 || len >= sizeof piece)
                return st_err_set(err, ST_ERR_ARG, "--nets '%s': expected width lists "
                                  "separated by '/', e.g. 1,20,20,1/8,32,32,8", list);
            memcpy(piece, p, len);
            piece[len] = '\0';
            /* The widths parse as --widths does. */
            enum st_status st = st_option_set(n, "widths", piece, err);
            if (st != ST_OK) {
                char why[sizeof err->msg];
                snprintf(why, sizeof why, "%s", err->msg);
                return st_err_set(err, st, "--nets: net %d: %s", c->n_nets + 1, why);
            }
        }
        st_option_format(n, widths, c->net_text[c->n_nets], sizeof c->net_text[0]);
        if (n->arch.n_layers != nets[0].arch.n_layers)
            return st_err_set(err, ST_ERR_ARG, "--nets: net %d (%s) has %d layers, net 1 (%s) "
                              "has %d; every net needs the same number (the truths are shared)",
                              c->n_nets + 1, c->net_text[c->n_nets], n->arch.n_layers,
                              c->net_text[0], nets[0].arch.n_layers);
        c->n_nets++;
        if (!list || !p[len])
            return ST_OK;
        p += len + 1;
    }
}

/* The '/'-separated --truths (NULL: each unit alone, then the first and the
 * last together) into c->truths. Errors: ST_ERR_ARG. */
static enum st_status parse_truths(const char *list, struct truth_ctx *c, struct st_err *err)
{
    c->n_truths = 0;
    if (!list) {
        for (int u = 0; u < c->n_units; u++)
            snprintf(c->truths[c->n_truths++], ST_LIST_MAX, "%s", c->units[u]);
        if (c->n_units > 1)
            snprintf(c->truths[c->n_truths++], ST_LIST_MAX, "%s,%s", c->units[0],
                     c->units[c->n_units - 1]);
        return ST_OK;
    }
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, "/");
        if (len == 0 || len >= ST_LIST_MAX)
            return st_err_set(err, ST_ERR_ARG, "--truths '%s': expected --reinit selectors "
                              "separated by '/', e.g. 1/2/3/1,3", list);
        if (c->n_truths == MAX_TRUTHS)
            return st_err_set(err, ST_ERR_ARG, "--truths: at most %d truths", MAX_TRUTHS);
        memcpy(c->truths[c->n_truths], p, len);
        c->truths[c->n_truths++][len] = '\0';
        p += len;
        if (!*p)
            return ST_OK;
    }
}

/* Checks every (net, truth) configuration and the data, and finds the units
 * (the first net's layout, kept in layout). Returns 0 or an exit status. */
static int check_runs(struct truth_ctx *c, const char *truth_list, struct st_params *layout)
{
    struct st_err err = { "" };
    enum st_status st = ST_OK;
    if (c->nets[0].task_data) {
        st_err_set(&err, ST_ERR_ARG, "--task data: truth scores methods against the layers a "
                   "teacher re-draws, which a data run does not have");
        return st_cli_fail("truth", ST_ERR_ARG, &err);
    }
    struct st_train_cfg *probe = malloc(sizeof *probe);
    if (!probe)
        return ST_EXIT_RUNTIME;
    for (int n = 0; st == ST_OK && n < c->n_nets; n++) {
        *probe = c->nets[n];
        if ((st = st_cli_probe(probe, &err)) != ST_OK && c->n_nets > 1) {
            char why[sizeof err.msg];
            snprintf(why, sizeof why, "%s", err.msg);
            st_err_set(&err, st, "net %s: %s", c->net_text[n], why);
        }
        if (st == ST_OK && n == 0 && (st = st_arch_layout(&probe->arch, layout, &err)) == ST_OK) {
            c->units = malloc(((size_t)layout->n_views * ST_VIEW_GROUPS + 1) * sizeof *c->units);
            if (!c->units) {
                free(probe);
                return ST_EXIT_RUNTIME;
            }
            c->n_units = st_params_groups(layout, 0, c->units);
            if (c->n_units > MAX_UNITS)
                st = st_err_set(&err, ST_ERR_ARG, "%d units; at most %d (2^units freeze masks)",
                                c->n_units, MAX_UNITS);
            if (st == ST_OK)
                st = parse_truths(truth_list, c, &err);
        }
        /* Every truth must name tensors of every net. */
        for (int t = 0; st == ST_OK && t < c->n_truths; t++) {
            *probe = c->nets[n];
            snprintf(probe->reinit, sizeof probe->reinit, "%s", c->truths[t]);
            if ((st = st_train_cfg_resolve(probe, &err)) != ST_OK) {
                char why[sizeof err.msg];
                snprintf(why, sizeof why, "%s", err.msg);
                st_err_set(&err, st, "--truths: '%s' on net %s: %s", c->truths[t],
                           c->net_text[n], why);
            } else if (n == c->n_nets - 1) {
                /* As the runs see it ("middle" becomes the unit it names). */
                snprintf(c->truths[t], sizeof c->truths[t], "%s", probe->reinit);
            }
        }
    }
    free(probe);
    return st == ST_OK ? 0 : st_cli_fail("truth", st, &err);
}

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    const struct truth_ctx *c = user;
    const struct task *t = &c->tasks[i];
    *cfg = c->nets[t->net];
    cfg->seed = c->nets[0].seed + (uint64_t)t->seed;
    snprintf(cfg->reinit, sizeof cfg->reinit, "%s", c->truths[t->truth]);
    cfg->lambda = 0.0;
    cfg->prox = 0;
    if (t->slot < c->n_masks) {
        /* Mask slot + 1 trains; the other units are frozen. */
        enum st_status st = st_select_join(c->units, c->n_units, (unsigned)t->slot + 1, 0,
                                           cfg->freeze, sizeof cfg->freeze, err);
        if (st != ST_OK)
            return st;
    } else {
        const struct method *m = c->runs[t->slot - c->n_masks];
        if (m->kind == K_SGD) {
            cfg->opt.kind = ST_OPT_SGD;
            cfg->opt.lr = c->sgd_lr;
            cfg->opt.weight_decay = 0.0;
        } else if (m->kind == K_PENALTY) {
            cfg->penalty = m->pen;
            cfg->reduction = m->red;
            cfg->prox = m->prox;
            cfg->lambda = m->lambda;
        }
    }
    return st_pool_task_cfg(cfg, c->nets[0].out, i, err);
}

static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct truth_ctx *c = user;
    struct task *t = &c->tasks[i];
    (void)error;
    t->st = st;
    t->loss = st == ST_OK ? res->data_loss_tail : (double)NAN;
    t->wall = res->wall_seconds;
    st_pool_result_units(st, res, c->units, c->n_units, &t->named, &t->truth_units);
}

/* Every (net, truth, seed): its mask runs, then one run per run method. */
static struct task *tasks_of(const struct truth_ctx *c)
{
    long n = (long)c->n_nets * c->n_truths * c->n_seeds * c->per_seed;
    struct task *tasks = calloc((size_t)n, sizeof *tasks);
    for (long i = 0; tasks && i < n; i++) {
        long b = i / c->per_seed;
        tasks[i].slot = (int)(i % c->per_seed);
        tasks[i].seed = (int)(b % c->n_seeds);
        tasks[i].truth = (int)(b / c->n_seeds % c->n_truths);
        tasks[i].net = (int)(b / c->n_seeds / c->n_truths);
    }
    return tasks;
}


int cmd_truth(int argc, char **argv)
{
    struct st_train_cfg base, *nets = NULL;
    struct st_params layout;
    struct st_err err = { "" };
    struct truth_ctx c;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_argc = 0, help = 0, rc = 0;
    const char *net_list = NULL, *truth_list = NULL, *method_list = default_methods;
    double suffice = 10.0, sgd_lr = 0.1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN), seeds = 20, jobs = cores > 0 ? cores : 1;
    long failed = 0;
    const struct st_cli_opt opts[] = {
        { "--nets", 's', 0, 0, &net_list },
        { "--truths", 's', 0, 0, &truth_list },
        { "--methods", 's', 0, 0, &method_list },
        { "--seeds", 'i', 1, 1000, &seeds },
        { "--suffice", 'd', 1e-300, 1e300, &suffice },
        { "--sgd-lr", 'd', 1e-300, 1e300, &sgd_lr },
        { "--jobs", 'i', 1, ST_POOL_MAX_JOBS, &jobs },
    };

    memset(&layout, 0, sizeof layout);
    memset(&c, 0, sizeof c);
    c.net_text = calloc(MAX_NETS, sizeof *c.net_text);
    c.truths = calloc(MAX_TRUTHS, sizeof *c.truths);
    c.methods = calloc(MAX_METHODS, sizeof *c.methods);
    if (!rest || !c.net_text || !c.truths || !c.methods)
        rc = ST_EXIT_RUNTIME;
    if (rc == 0)
        rc = st_cli_take_opts("truth", argc, argv, opts, 7, rest, &rest_argc, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc == 0 && !help && parse_methods(method_list, &c, &err) != ST_OK)
        rc = st_cli_fail("truth", ST_ERR_ARG, &err);
    if (rc == 0 && !help)
        rc = st_cli_parse_run("truth", rest_argc, rest, "truth", &base, NULL, &help);
    if (rc == 0 && !help && !(nets = malloc(MAX_NETS * sizeof *nets)))
        rc = ST_EXIT_RUNTIME;
    if (rc == 0 && !help && parse_nets(net_list, &base, &c, nets, &err) != ST_OK)
        rc = st_cli_fail("truth", ST_ERR_ARG, &err);
    c.nets = nets;
    if (rc == 0 && !help)
        rc = check_runs(&c, truth_list, &layout);
    if (rc == 0 && !help) {
        c.n_seeds = (int)seeds;
        c.n_masks = (1 << c.n_units) - 1;
        c.per_seed = c.n_masks + c.n_runs;
        c.sgd_lr = sgd_lr;
        c.suffice = suffice;
        long n_tasks = (long)c.n_nets * c.n_truths * c.n_seeds * c.per_seed;
        if (!(c.tasks = tasks_of(&c))) {
            st_err_set(&err, ST_ERR_NOMEM, "%ld runs: out of memory for their table", n_tasks);
            rc = st_cli_fail("truth", ST_ERR_NOMEM, &err);
        }
        if (rc == 0)
            rc = st_pool_run_cmd("truth", base.out, n_tasks, (int)jobs, base.quiet, make_run,
                                 run_done, &c, &failed);
        if (rc == 0)
            rc = st_truth_finish(&c, &layout, n_tasks);
        if (rc == 0 && failed)
            rc = ST_EXIT_RUNTIME;
    }
    free(c.tasks);
    free(c.units);
    free(c.net_text);
    free(c.truths);
    free(c.methods);
    free(nets);
    st_params_free(&layout);
    free(rest);
    return rc;
}
