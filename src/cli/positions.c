/* positions.c: each method again with every layer re-drawn in turn
 * (positions.h). Task i is method i / (units * seeds), then the re-drawn
 * layer, then the seed. */
#define _POSIX_C_SOURCE 200809L
#include "positions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pool.h"

struct pos_ctx {
    const struct st_train_cfg *methods;
    struct st_positions *p;
    uint64_t seed0;
};

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    const struct pos_ctx *c = user;
    const struct st_positions *p = c->p;
    long per_method = (long)p->n_units * p->n_seeds;
    int u = (int)(i % per_method / p->n_seeds);
    *cfg = c->methods[i / per_method];
    cfg->seed = c->seed0 + (uint64_t)(i % p->n_seeds);
    if (snprintf(cfg->reinit, sizeof cfg->reinit, "%s", p->units[u]) >= (int)sizeof cfg->reinit)
        return st_err_set(err, ST_ERR_ARG, "layer name '%s' too long", p->units[u]);
    return st_pool_task_cfg(cfg, c->methods[0].out, i, err);
}

static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    const struct pos_ctx *c = user;
    struct st_positions *p = c->p;
    unsigned named, truth;
    (void)error;
    st_pool_result_units(st, res, p->units, p->n_units, &named, &truth);
    p->named[i] = named;
    p->truth[i % ((long)p->n_units * p->n_seeds) / p->n_seeds] |= truth;
}

int st_positions_is_block(const char *name)
{
    return name[0] == 'h' && name[1] >= '0' && name[1] <= '9' &&
           strspn(name + 1, "0123456789") == strlen(name + 1);
}

/* The layers of the first method's model (blocks_only: its blocks). Returns
 * 0 or an exit status. */
static int units_of(const char *cmd, const struct st_train_cfg *base, int blocks_only,
                    struct st_positions *p)
{
    struct st_err err = { "" };
    struct st_params layout;
    memset(&layout, 0, sizeof layout);
    enum st_status st = st_arch_layout(&base->arch, &layout, &err);
    if (st != ST_OK)
        return st_cli_fail(cmd, st, &err);
    const char **names = malloc(((size_t)layout.n_views * ST_VIEW_GROUPS + 1) * sizeof *names);
    int n = names ? st_params_groups(&layout, 0, names) : 0;
    p->units = malloc(((size_t)n + 1) * sizeof *p->units);
    int kept = 0;
    for (int u = 0; p->units && u < n; u++)
        if (!blocks_only || st_positions_is_block(names[u]))
            p->units[kept++] = strdup(names[u]);
    n = kept;
    p->n_units = n;
    free(names);
    st_params_free(&layout);
    for (int u = 0; p->units && u < n; u++)
        if (!p->units[u])
            return ST_EXIT_RUNTIME;
    if (!p->units)
        return ST_EXIT_RUNTIME;
    if (n > 30) {
        st_err_set(&err, ST_ERR_ARG, "%d layers; the re-drawn positions stop at 30", n);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    return 0;
}

int st_positions_run(const char *cmd, const struct st_train_cfg *methods, int n_methods,
                     int n_seeds, int jobs, int blocks_only, struct st_positions *p, long *failed)
{
    memset(p, 0, sizeof *p);
    *failed = 0;
    int rc = units_of(cmd, &methods[0], blocks_only, p);
    if (rc != 0)
        return rc;
    long n = (long)n_methods * p->n_units * n_seeds;
    p->n_methods = n_methods;
    p->n_seeds = n_seeds;
    p->named = calloc((size_t)n + 1, sizeof *p->named);
    p->truth = calloc((size_t)p->n_units + 1, sizeof *p->truth);
    if (!p->named || !p->truth)
        return ST_EXIT_RUNTIME;
    struct pos_ctx ctx = { methods, p, methods[0].seed };
    return st_pool_run_cmd(cmd, methods[0].out, n, jobs, methods[0].quiet, make_run, run_done,
                           &ctx, failed);
}

void st_positions_print(const struct st_positions *p, const char *const *labels)
{
    int width = 0;
    for (int m = 0; m < p->n_methods; m++)
        width = (int)strlen(labels[m]) > width ? (int)strlen(labels[m]) : width;
    for (int m = 0; m < p->n_methods; m++) {
        int exact = 0;
        printf("  %-*s ", width, labels[m]);
        for (int u = 0; u < p->n_units; u++) {
            const unsigned *named = &p->named[((size_t)m * p->n_units + u) * p->n_seeds];
            int best;
            unsigned common = st_pool_most_frequent(named, p->n_seeds, &best);
            for (int s = 0; s < p->n_seeds; s++)
                exact += named[s] == p->truth[u];
            char t[128], a[128];
            st_pool_pick_label(p->units, p->n_units, p->truth[u] ? p->truth[u] : 1u << u, t,
                               sizeof t);
            st_pool_pick_label(p->units, p->n_units, common, a, sizeof a);
            printf("%s%s -> %s (%d/%d)", u ? "   " : "re-drawn ", t, a, best, p->n_seeds);
        }
        printf("   exactly the re-drawn: %d/%d\n", exact, p->n_units * p->n_seeds);
    }
}

void st_positions_free(struct st_positions *p)
{
    if (!p)
        return;
    for (int u = 0; p->units && u < p->n_units; u++)
        free((void *)p->units[u]);
    free(p->units);
    free(p->named);
    free(p->truth);
    memset(p, 0, sizeof *p);
}

int st_positions_report(const char *cmd, const struct st_train_cfg *methods,
                        const char *const *labels, int n_methods, long seeds, long jobs,
                        int blocks_only, const char *heading, const char *note)
{
    struct st_positions p;
    long failed = 0;
    int rc = st_positions_run(cmd, methods, n_methods, (int)seeds, (int)jobs, blocks_only, &p,
                              &failed);
    if (rc == 0) {
        printf("\n%s (seeds %llu..%llu; the layers %s\nnames most often, in how many seeds):\n",
               heading, (unsigned long long)methods[0].seed,
               (unsigned long long)(methods[0].seed + (uint64_t)seeds - 1),
               n_methods > 1 ? "each" : "it");
        st_positions_print(&p, labels);
        printf("%s\n", note);
    }
    st_positions_free(&p);
    return rc != 0 ? rc : failed ? ST_EXIT_RUNTIME : 0;
}
