/* sweep.c: grid axes, their expansion into run configurations, and the rows
 * of summary.csv. Values are kept as the strings the user wrote, so a run's
 * config is exactly what `train` would get from the same options. */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../io/config.h"
#include "options.h"

/* Options that describe how to run rather than what: not grid axes. */
static int runner_option(const char *key)
{
    static const char *const no[] = { "out", "force", "quiet", "plot", "format", "threads" };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (!strcmp(key, no[i]))
            return 1;
    return 0;
}

static int colon_separated(const struct st_option *o)
{
    return o->type == ST_OPT_T_STR || o->type == ST_OPT_T_WIDTHS || o->type == ST_OPT_T_RANGE;
}

static int int_option(const struct st_option *o)
{
    return o->type == ST_OPT_T_LONG || o->type == ST_OPT_T_INT || o->type == ST_OPT_T_U64;
}

static enum st_status push(struct st_grid_axis *ax, const char *v, size_t len, struct st_err *err)
{
    if (ax->n == ax->cap) { /* doubling: a million values without a million copies */
        int cap = ax->cap ? 2 * ax->cap : 16;
        char **nv = realloc(ax->values, (size_t)cap * sizeof *nv);
        if (!nv)
            return st_err_set(err, ST_ERR_NOMEM, "out of memory");
        ax->values = nv;
        ax->cap = cap;
    }
    ax->values[ax->n] = malloc(len + 1);
    if (!ax->values[ax->n])
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    memcpy(ax->values[ax->n], v, len);
    ax->values[ax->n][len] = '\0';
    ax->n++;
    return ST_OK;
}

static int parse_plain_long(const char *s, size_t len, long long *out)
{
    char buf[32], *end;
    if (len == 0 || len >= sizeof buf || !isdigit((unsigned char)s[s[0] == '-']))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return *end || errno ? -1 : 0;
}

/* One comma item of an integer axis: N, A:B or A:B:STEP. */
static enum st_status push_int_item(struct st_grid_axis *ax, const char *spec, const char *s,
                                    size_t len, struct st_err *err)
{
    const char *c1 = memchr(s, ':', len);
    long long a, b, step = 1;
    if (!c1)
        return push(ax, s, len, err);
    const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s));
    size_t lb = (size_t)((c2 ? c2 : s + len) - (c1 + 1));
    if (parse_plain_long(s, (size_t)(c1 - s), &a) || parse_plain_long(c1 + 1, lb, &b) ||
        (c2 && parse_plain_long(c2 + 1, len - (size_t)(c2 + 1 - s), &step)) || step <= 0 ||
        b <= a)
        return st_err_set(err, ST_ERR_ARG,
                          "--grid '%s': '%.*s' is not a range A:B (A < B) or A:B:STEP (STEP > 0)",
                          spec, (int)len, s);
    if (((double)b - (double)a) / (double)step > 1000000.0)
        return st_err_set(err, ST_ERR_ARG, "--grid '%s': range '%.*s' has over a million values",
                          spec, (int)len, s);
    for (long long v = a; v < b; v = v > LLONG_MAX - step ? b : v + step) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%lld", v);
        enum st_status st = push(ax, buf, (size_t)n, err);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}

static void axis_free(struct st_grid_axis *ax)
{
    for (int i = 0; i < ax->n; i++)
        free(ax->values[i]);
    free(ax->values);
    memset(ax, 0, sizeof *ax);
}

enum st_status st_grid_add(struct st_grid *g, const char *spec, struct st_err *err)
{
    const char *eq = strchr(spec, '=');
    struct st_grid_axis ax;
    const struct st_option *o;
    enum st_status st = ST_OK;

    memset(&ax, 0, sizeof ax);
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof ax.key)
        return st_err_set(err, ST_ERR_ARG, "--grid '%s': expected KEY=VALUES, e.g. lambda=0,1e-3",
                          spec);
    memcpy(ax.key, spec, (size_t)(eq - spec));
    ax.key[eq - spec] = '\0';
    o = st_option_find(ax.key);
    if (!o)
        return st_err_set(err, ST_ERR_ARG, "--grid '%s': unknown option '%s'", spec, ax.key);
    if (runner_option(ax.key))
        return st_err_set(err, ST_ERR_ARG, "--grid '%s': '%s' says how to run, not what; it "
                          "cannot be an axis", spec, ax.key);
    /* Each evaluation set is a group of summary.csv's columns, the same for
     * every run. */
    if (!strcmp(ax.key, "eval") || !strcmp(ax.key, "eval-x") || !strcmp(ax.key, "eval-y"))
        return st_err_set(err, ST_ERR_ARG, "--grid '%s': the evaluation sets name summary.csv's "
                          "columns, the same for every run; give --%s outside the grid (--eval "
                          "repeats for several sets)", spec, ax.key);
    for (int a = 0; a < g->n_axes; a++)
        if (!strcmp(g->axes[a].key, ax.key))
            return st_err_set(err, ST_ERR_ARG, "--grid '%s': '%s' is already an axis", spec,
                              ax.key);
    if (g->n_axes >= ST_GRID_MAX_AXES)
        return st_err_set(err, ST_ERR_ARG, "--grid '%s': at most %d axes", spec,
                          ST_GRID_MAX_AXES);
    char sep = colon_separated(o) ? ':' : ',';
    const char *p = eq + 1;
    if (!*p) {
        st = st_err_set(err, ST_ERR_ARG, "--grid '%s': empty list of values", spec);
        goto fail;
    }
    for (;;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            st = st_err_set(err, ST_ERR_ARG, "--grid '%s': an empty value", spec);
            goto fail;
        }
        st = int_option(o) ? push_int_item(&ax, spec, p, len, err) : push(&ax, p, len, err);
        if (st != ST_OK)
            goto fail;
        if (!end)
            break;
        p = end + 1;
    }
    /* Every value must be one the option accepts (each sets the same field
     * of one scratch configuration). */
    struct st_train_cfg *scratch = malloc(sizeof *scratch);
    if (!scratch) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
        goto fail;
    }
    st_train_cfg_defaults(scratch);
    for (int i = 0; i < ax.n; i++) {
        struct st_err e2 = { "" };
        if (st_option_set(scratch, ax.key, ax.values[i], &e2) != ST_OK) {
            st = st_err_set(err, ST_ERR_ARG, "--grid '%s': %s", spec, e2.msg);
            free(scratch);
            goto fail;
        }
    }
    free(scratch);
    g->axes[g->n_axes++] = ax;
    return ST_OK;
fail:
    axis_free(&ax);
    return st;
}

long st_grid_size(const struct st_grid *g)
{
    long n = 1;
    for (int a = 0; a < g->n_axes; a++) {
        if (g->axes[a].n > LONG_MAX / n)
            return 0;
        n *= g->axes[a].n;
    }
    return n;
}

/* Index of axis a's value in run number run: the last axis varies fastest. */
static int value_index(const struct st_grid *g, int a, long run)
{
    for (int b = g->n_axes - 1; b > a; b--)
        run /= g->axes[b].n;
    return (int)(run % g->axes[a].n);
}

const char *st_grid_value(const struct st_grid *g, int a, long run)
{
    return g->axes[a].values[value_index(g, a, run)];
}

enum st_status st_grid_apply(const struct st_grid *g, long run, struct st_train_cfg *cfg,
                             struct st_err *err)
{
    for (int a = 0; a < g->n_axes; a++) {
        enum st_status st = st_option_set(cfg, g->axes[a].key, st_grid_value(g, a, run), err);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}

void st_grid_free(struct st_grid *g)
{
    if (!g)
        return;
    for (int a = 0; a < g->n_axes; a++)
        axis_free(&g->axes[a]);
    g->n_axes = 0;
}

/* A CSV field: quoted when it holds a comma, a quote or a newline. */
static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

enum st_status st_names_add(struct st_names *names, const struct st_train_cfg *cfg,
                            struct st_err *err)
{
    struct st_params layout;
    memset(&layout, 0, sizeof layout);
    enum st_status st = st_arch_layout(&cfg->arch, &layout, err);
    for (int t = 0; st == ST_OK && t < layout.n_views; t++) {
        const struct st_view *v = &layout.v[t];
        int seen = 0;
        for (int i = 0; i < names->n && !seen; i++) {
            struct st_sweep_tensor *e = &names->t[i];
            if ((seen = !strcmp(e->name, v->name)) && e->size != (double)st_view_size(v))
                e->size = (double)NAN; /* the runs' sizes differ */
        }
        if (seen)
            continue;
        if (names->n == names->cap) {
            int cap = names->cap ? 2 * names->cap : 16;
            struct st_sweep_tensor *nt = realloc(names->t, (size_t)cap * sizeof *nt);
            if (!nt) {
                st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
                break;
            }
            names->t = nt;
            names->cap = cap;
        }
        struct st_sweep_tensor *e = &names->t[names->n++];
        memcpy(e->name, v->name, ST_NAME_MAX);
        memcpy(e->unit, v->groups[0], ST_NAME_MAX);
        memcpy(e->role, v->role, ST_NAME_MAX);
        e->matrix = v->ndim == 2;
        e->size = (double)st_view_size(v);
    }
    st_params_free(&layout);
    return st;
}

void st_names_free(struct st_names *names)
{
    if (!names)
        return;
    free(names->t);
    memset(names, 0, sizeof *names);
}

enum st_status st_sweep_names(const struct st_grid *g, const struct st_train_cfg *base,
                              struct st_names *names, struct st_err *err)
{
    struct st_train_cfg *cfg = malloc(sizeof *cfg);
    enum st_status st = ST_OK;
    long n = st_grid_size(g);
    memset(names, 0, sizeof *names);
    if (!cfg)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    st_sweep_columns(names, g, base);
    for (long r = 0; r < n && st == ST_OK; r++) {
        *cfg = *base;
        st = st_grid_apply(g, r, cfg, err);
        if (st == ST_OK)
            st = st_train_cfg_resolve(cfg, err);
        if (st != ST_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            st = st_err_set(err, st, "run %ld of the grid: %s", r, msg);
        } else {
            st = st_names_add(names, cfg, err);
        }
    }
    free(cfg);
    return st;
}

struct ini_read {
    struct st_grid *grid;
    FILE *grid_lines;
    struct st_train_cfg *base;
};

static enum st_status ini_line(void *user, const char *key, const char *value,
                               struct st_err *err)
{
    struct ini_read *r = user;
    if (strcmp(key, "grid") != 0)
        return st_option_set(r->base, key, value, err);
    if (r->grid_lines)
        fprintf(r->grid_lines, "grid = %s\n", value);
    return st_grid_add(r->grid, value, err);
}

enum st_status st_sweep_ini_parse(const char *text, struct st_grid *g, FILE *grid_lines,
                                  struct st_train_cfg *base, struct st_err *err)
{
    struct ini_read r = { g, grid_lines, base };
    return st_ini_parse(text, "sweep.ini", ini_line, &r, err);
}

void st_sweep_columns(struct st_names *names, const struct st_grid *g,
                      const struct st_train_cfg *base)
{
    struct st_train_cfg *cfg = malloc(sizeof *cfg);
    int loss_axis = -1, val_axis = 0, stream = st_cfg_stream(base);
    names->penalty_axis = 0;
    for (int a = 0; a < g->n_axes; a++) {
        if (!strcmp(g->axes[a].key, "loss"))
            loss_axis = a;
        /* A token stream's runs train next-token cross-entropy, whatever --loss says. */
        stream |= !strcmp(g->axes[a].key, "text") || !strcmp(g->axes[a].key, "tokens");
        val_axis |= !strcmp(g->axes[a].key, "val-fraction");
        names->penalty_axis |= !strcmp(g->axes[a].key, "penalty");
    }
    names->truth = !base->task_data;
    names->xent = names->any_xent = base->loss == ST_LOSS_XENT || stream;
    for (int v = 0; loss_axis >= 0 && v < g->axes[loss_axis].n; v++)
        names->any_xent |= !strcmp(g->axes[loss_axis].values[v], "xent");
    snprintf(names->loss_col, sizeof names->loss_col, "%s",
             loss_axis >= 0 ? "data_loss" : stream ? "xent" : st_loss_name(base->loss));
    names->val = base->val_fraction > 0.0 || val_axis; /* nan where a run holds out none */
    names->n_eval = 0;
    /* The named sets are known once the options resolve (check_grid has
     * resolved every run before). */
    if (cfg) {
        struct st_err ignored;
        *cfg = *base;
        if (st_train_cfg_resolve(cfg, &ignored) == ST_OK || st_eval_count(cfg) > 0) {
            names->n_eval = st_eval_count(cfg);
            for (int i = 0; i < names->n_eval; i++)
                st_eval_prefix(cfg, i, names->eval_prefix[i], sizeof names->eval_prefix[i]);
        }
        free(cfg);
    }
}

/* The loss columns of a held-out set with column prefix p. */
static void put_set_header(FILE *f, const struct st_names *names, const char *p, int forgetting)
{
    const char *loss = names->loss_col[0] == 'd' ? "loss" : names->loss_col;
    fprintf(f, ",%s%s", p, loss);
    if (names->any_xent)
        fprintf(f, ",%saccuracy", p);
    if (forgetting)
        fprintf(f, ",%sforgetting", p);
}

void st_sweep_write_header(FILE *f, const struct st_grid *g, const struct st_names *names)
{
    fputs("run", f);
    for (int a = 0; a < g->n_axes; a++) {
        fputc(',', f);
        put_field(f, g->axes[a].key);
    }
    /* A grid over --loss has a column "loss" already: the total is
     * total_loss there; over --penalty, the penalty's value is
     * penalty_value. */
    fprintf(f, ",status,steps_done,%s%s,%s,%s", names->loss_col,
            names->any_xent ? ",accuracy" : "",
            names->penalty_axis ? "penalty_value" : "penalty",
            names->loss_col[0] == 'd' ? "total_loss" : "loss");
    if (names->val)
        put_set_header(f, names, "val_", 0);
    for (int i = 0; i < names->n_eval; i++)
        put_set_header(f, names, names->eval_prefix[i], 1);
    for (int i = 0; i < names->n; i++)
        fprintf(f, ",d_init_%s", names->t[i].name);
    fputs(",changed", f);
    if (names->truth)
        fputs(",truth,correct", f);
    else
        for (int i = 0; i < names->n; i++)
            fprintf(f, ",share_%s", names->t[i].name);
    fputs(",wall_seconds,error\n", f);
}

void st_sweep_write_row(FILE *f, const struct st_grid *g, long run, const struct st_names *names,
                        const struct st_train_result *res, enum st_status st, const char *error)
{
    char list[2][1024];
    fprintf(f, "%ld", run);
    for (int a = 0; a < g->n_axes; a++) {
        fputc(',', f);
        put_field(f, st_grid_value(g, a, run));
    }
    int ran = st == ST_OK || st == ST_ERR_NUMERIC;
    fprintf(f, ",%s", st == ST_OK ? "ok" : st == ST_ERR_NUMERIC ? "diverged" : "failed");
    /* %.17g: the numbers read back as the exact doubles of summary.json;
     * accuracy is nan under mse. */
    double nan = (double)NAN;
    fprintf(f, ",%ld,%.17g", ran ? res->steps_done : 0, ran ? res->data_loss : nan);
    if (names->any_xent)
        fprintf(f, ",%.17g", ran ? res->accuracy : nan);
    fprintf(f, ",%.17g,%.17g", ran ? res->penalty : nan, ran ? res->loss : nan);
    if (names->val) {
        int has = ran && res->val_rows > 0;
        fprintf(f, ",%.17g", has ? res->val_loss : nan);
        if (names->any_xent)
            fprintf(f, ",%.17g", has ? res->val_accuracy : nan);
    }
    for (int i = 0; i < names->n_eval; i++) {
        int has = ran && i < res->n_eval;
        fprintf(f, ",%.17g", has ? res->eval[i].after : nan);
        if (names->any_xent)
            fprintf(f, ",%.17g", has ? res->eval[i].acc_after : nan);
        fprintf(f, ",%.17g", has ? res->eval[i].after - res->eval[i].before : nan);
    }
    for (int i = 0; i < names->n; i++) {
        const struct st_tensor_result *t = ran ? st_result_find(res, names->t[i].name) : NULL;
        if (t)
            fprintf(f, ",%.17g", t->d_init);
        else
            fputs(",nan", f);
    }
    for (int k = 0; k < 2; k++) {
        size_t n = 0;
        list[k][0] = '\0';
        for (int t = 0; ran && t < res->n_tensors && n < sizeof list[k]; t++)
            if (k ? res->t[t].truth : res->t[t].verdict && st == ST_OK)
                n += (size_t)snprintf(list[k] + n, sizeof list[k] - n, "%s%s", n ? " " : "",
                                      res->t[t].name);
    }
    fprintf(f, ",%s", list[0]);
    if (names->truth)
        fprintf(f, ",%s,%s", list[1], st != ST_OK ? "" : res->correct ? "1" : "0");
    else
        for (int i = 0; i < names->n; i++) {
            const struct st_tensor_result *t = ran ? st_result_find(res, names->t[i].name) : NULL;
            fprintf(f, ",%.17g", t && st == ST_OK ? t->update_share : nan);
        }
    fprintf(f, ",%.6g,", ran ? res->wall_seconds : 0.0);
    put_field(f, error ? error : "");
    fputc('\n', f);
}
