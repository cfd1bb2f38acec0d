/* figure_run.c: a run's figure. Panels side by side: the loss (log scale),
 * d_init, d_teacher (a teacher-student run), the held-out sets' loss (and
 * accuracy under it), and one more where there is one: the rank of each
 * weight update (nuclear runs), the update's shares (a data run's bars, or
 * for many tensors a heatmap of units x roles). While the tensors fit a
 * legend each has its line, weights first as in the seed's legend (w1, w2,
 * ..., b1, ...); with more, each unit (an MLP's layer) has one: its mean
 * |Delta|. Each panel gets the left margin its tick labels need. */
#include "draw.h"
#include "held_out.h"
#include "../core/loss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lines of the distance panels: one per tensor, or one per unit. */
struct lines {
    int n;
    const char **names;
    int *colors;
    double **init, **teacher; /* [n][rows] */
    int has_teacher;
    double *mem;
};

static void lines_free(struct lines *l)
{
    free(l->names);
    free(l->colors);
    free(l->init);
    free(l->teacher);
    free(l->mem);
    memset(l, 0, sizeof *l);
}

static int lines_alloc(struct lines *l, int n, long rows)
{
    memset(l, 0, sizeof *l);
    l->n = n;
    l->names = calloc((size_t)n + 1, sizeof *l->names);
    l->colors = calloc((size_t)n + 1, sizeof *l->colors);
    l->init = calloc((size_t)n + 1, sizeof *l->init);
    l->teacher = calloc((size_t)n + 1, sizeof *l->teacher);
    l->mem = malloc(((size_t)n * 2 * (size_t)rows + 1) * sizeof *l->mem);
    if (!l->names || !l->colors || !l->init || !l->teacher || !l->mem) {
        lines_free(l);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        l->init[i] = l->mem + (size_t)i * 2 * (size_t)rows;
        l->teacher[i] = l->init[i] + rows;
    }
    return 0;
}

/* Column c of m, or NaN everywhere when c < 0. */
static void column(const struct st_csv *m, int c, double *out)
{
    for (long i = 0; i < m->n_rows; i++)
        out[i] = c >= 0 ? st_csv_at(m, i, c) : (double)NAN;
}

static int tensor_col(const struct st_csv *m, const char *prefix, const char *name)
{
    char col[256];
    snprintf(col, sizeof col, "%s%s", prefix, name);
    return st_csv_col(m, col);
}

/* One line per tensor with a d_init column, matrices first. */
static int tensor_lines(const struct st_fig_run *r, struct lines *l)
{
    const struct st_csv *m = r->m;
    int n = 0;
    for (int t = 0; t < r->n_tensors; t++)
        n += tensor_col(m, "d_init_", r->tensors[t].name) >= 0;
    if (lines_alloc(l, n, m->n_rows) != 0)
        return -1;
    int k = 0;
    for (int matrix = 1; matrix >= 0; matrix--)
        for (int t = 0; t < r->n_tensors; t++) {
            const struct st_fig_tensor *ft = &r->tensors[t];
            int ci = tensor_col(m, "d_init_", ft->name);
            if (!ft->matrix != !matrix || ci < 0)
                continue;
            int ct = tensor_col(m, "d_teacher_", ft->name);
            column(m, ci, l->init[k]);
            column(m, ct, l->teacher[k]);
            l->has_teacher |= ct >= 0;
            l->names[k] = ft->name;
            l->colors[k] = COLOR_FIRST_LINE + k % 10;
            k++;
        }
    return 0;
}

/* One line per unit: its tensors' d_init (and d_teacher) weighted by their
 * entries, the mean |Delta| over the unit. */
static int unit_lines(const struct st_fig_run *r, struct lines *l)
{
    const struct st_csv *m = r->m;
    const char **units = malloc(((size_t)r->n_tensors + 1) * sizeof *units);
    double *col = malloc(((size_t)m->n_rows + 1) * sizeof *col);
    int n = 0;
    for (int t = 0; units && t < r->n_tensors; t++) {
        int seen = 0;
        for (int u = 0; u < n && !seen; u++)
            seen = !strcmp(units[u], r->tensors[t].unit);
        if (!seen)
            units[n++] = r->tensors[t].unit;
    }
    if (!units || !col || lines_alloc(l, n, m->n_rows) != 0) {
        free(units);
        free(col);
        return -1;
    }
    for (int u = 0; u < n; u++) {
        double size = 0.0;
        memset(l->init[u], 0, 2 * (size_t)m->n_rows * sizeof(double));
        for (int t = 0; t < r->n_tensors; t++) {
            const struct st_fig_tensor *ft = &r->tensors[t];
            if (strcmp(ft->unit, units[u]))
                continue;
            int ci = tensor_col(m, "d_init_", ft->name), ct = tensor_col(m, "d_teacher_", ft->name);
            column(m, ci, col);
            for (long i = 0; i < m->n_rows; i++)
                l->init[u][i] += ft->size * col[i];
            column(m, ct, col);
            for (long i = 0; i < m->n_rows; i++)
                l->teacher[u][i] += ft->size * col[i];
            l->has_teacher |= ct >= 0;
            size += ft->size;
        }
        for (long i = 0; i < m->n_rows; i++) {
            l->init[u][i] /= size;
            l->teacher[u][i] /= size;
        }
        l->names[u] = units[u];
        l->colors[u] = st_draw_color(u, n);
    }
    free(units);
    free(col);
    return 0;
}

/* Every d_init_ column in order: a run without its tensors' list. */
static int column_lines(const struct st_fig_run *r, struct lines *l)
{
    const struct st_csv *m = r->m;
    int n = 0;
    for (int c = 0; c < m->n_cols; c++)
        n += !strncmp(m->names[c], "d_init_", 7);
    if (lines_alloc(l, n, m->n_rows) != 0)
        return -1;
    int k = 0;
    for (int c = 0; c < m->n_cols; c++) {
        if (strncmp(m->names[c], "d_init_", 7))
            continue;
        int ct = tensor_col(m, "d_teacher_", m->names[c] + 7);
        column(m, c, l->init[k]);
        column(m, ct, l->teacher[k]);
        l->has_teacher |= ct >= 0;
        l->names[k] = m->names[c] + 7;
        l->colors[k] = st_draw_color(k, n);
        k++;
    }
    return 0;
}

/* log10 of a loss column: non-positive or non-finite values become gaps. */
static void log_column(const struct st_csv *m, int c, double *out)
{
    for (long i = 0; i < m->n_rows; i++) {
        double v = st_csv_at(m, i, c);
        out[i] = v > 0.0 && isfinite(v) ? log10(v) : (double)NAN;
    }
}

/* What the units are called in a legend or heatmap: an MLP's are its layers,
 * named by their numbers; NULL for names of their own (a GPT's "h0"). */
static const char *unit_kind(const struct st_fig_run *r)
{
    for (int t = 0; t < r->n_tensors; t++) {
        const char *u = r->tensors[t].unit;
        if (!u[0] || strspn(u, "0123456789") != strlen(u))
            return NULL;
    }
    return "layer";
}

/* ---- the last panel ---- */

/* The rank panel: rank_<w> on the rows where it was computed (others are
 * nan). rx gets those rows' steps, ry[w] the ranks; returns their count. */
static long rank_rows(const struct st_csv *m, int c_step, struct st_panel *p, double **mem)
{
    int n_w = 0, *rc = malloc(((size_t)m->n_cols + 1) * sizeof *rc);
    long nr = 0;
    *mem = NULL;
    for (int c = 0; rc && c < m->n_cols; c++)
        if (!strncmp(m->names[c], "rank_", 5))
            rc[n_w++] = c;
    if (!rc || n_w == 0 || st_panel_alloc(p, n_w) != 0 ||
        !(*mem = malloc((size_t)m->n_rows * (size_t)(1 + n_w) * sizeof **mem))) {
        free(rc);
        return 0;
    }
    double *rx = *mem, *ry = rx + m->n_rows;
    for (long i = 0; i < m->n_rows; i++) {
        if (!isfinite(st_csv_at(m, i, rc[0])))
            continue;
        rx[nr] = st_csv_at(m, i, c_step);
        for (int w = 0; w < n_w; w++)
            ry[(size_t)w * (size_t)m->n_rows + (size_t)nr] = st_csv_at(m, i, rc[w]);
        nr++;
    }
    for (int w = 0; w < n_w; w++) {
        p->y[w] = ry + (size_t)w * (size_t)m->n_rows;
        p->names[w] = m->names[rc[w]] + 5;
        p->colors[w] = COLOR_FIRST_LINE + w % 10; /* the weights' colours, as above */
    }
    p->n_lines = n_w;
    p->title = "rank of each weight update";
    p->ylabel = "numerical rank";
    p->legend_max = ST_FIG_LEGEND_MAX;
    free(rc);
    return nr;
}

/* The bars' axis: 0 to a little over the largest share. */
static double shares_top(const double *shares, int n)
{
    double hi = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(shares[i]) && shares[i] > hi)
            hi = shares[i];
    return hi > 0.0 ? 1.1 * hi : 1.0;
}

/* Bars of each tensor's share of the update in its line's colour, names
 * under them. */
static void draw_shares(const struct lines *l, const double *shares, double vx0, double vx1,
                        double vy0, double vy1)
{
    int n = l->n;
    double hi = shares_top(shares, n);
    struct st_ticks yt;
    plvpor(vx0, vx1, vy0, vy1);
    plwind(0.0, (double)n, 0.0, hi);
    for (int i = 0; i < n; i++) {
        if (!(shares[i] > 0.0))
            continue;
        PLFLT bx[4] = { i + 0.15, i + 0.85, i + 0.85, i + 0.15 };
        PLFLT by[4] = { 0.0, 0.0, shares[i], shares[i] };
        plcol0(l->colors[i]);
        plfill(4, bx, by);
    }
    st_ticks_linear(&yt, 0.0, hi, 5);
    st_draw_axes(NULL, 0, &yt);
    plschr(0.0, FONT_TICKS);
    for (int i = 0; i < n; i++)
        plmtex("b", 1.2, (i + 0.5) / n, 0.5, l->names[i]);
    plschr(0.0, FONT_LABEL);
    plmtex("b", 2.6, 0.5, 0.5, "tensor");
    st_draw_title("share of the update, \u03a3|\u0394|");
}

/* The shares of the tensors in the order of the legend (lines l). */
static void legend_shares(const struct st_fig_run *r, const struct lines *l, double *out)
{
    for (int k = 0; k < l->n; k++)
        for (int t = 0; t < r->n_tensors; t++)
            if (!strcmp(r->tensors[t].name, l->names[k]))
                out[k] = r->shares[t];
}

/* The heatmap of shares: units (rows) x roles (columns), and draws it. */
static void draw_share_map(const struct st_fig_run *r, double vx0, double vx1, double vy0,
                           double vy1)
{
    int n = r->n_tensors, n_units = 0, n_roles = 0;
    const char **units = malloc(((size_t)n + 1) * sizeof *units);
    const char **roles = malloc(((size_t)n + 1) * sizeof *roles);
    double *v = malloc(((size_t)n * (size_t)n + 1) * sizeof *v);
    if (!units || !roles || !v) {
        free(units);
        free(roles);
        free(v);
        return;
    }
    for (int t = 0; t < n; t++) {
        int u = 0, c = 0;
        while (u < n_units && strcmp(units[u], r->tensors[t].unit))
            u++;
        if (u == n_units)
            units[n_units++] = r->tensors[t].unit;
        while (c < n_roles && strcmp(roles[c], r->tensors[t].role))
            c++;
        if (c == n_roles)
            roles[n_roles++] = r->tensors[t].role;
    }
    for (int i = 0; i < n_units * n_roles; i++)
        v[i] = (double)NAN;
    for (int t = 0; t < n; t++) {
        int u = 0, c = 0;
        while (strcmp(units[u], r->tensors[t].unit))
            u++;
        while (strcmp(roles[c], r->tensors[t].role))
            c++;
        v[(size_t)u * (size_t)n_roles + (size_t)c] = r->shares[t];
    }
    st_draw_heatmap(v, n_units, n_roles, units, roles, unit_kind(r),
                    "share of the update, \u03a3|\u0394|", vx0, vx1, vy0, vy1);
    free(units);
    free(roles);
    free(v);
}

/* The left margin of the heatmap of shares: its row names (units) and
 * their label. */
static double share_map_margin(const struct st_fig_run *r)
{
    double w = 0.0;
    for (int t = 0; t < r->n_tensors; t++)
        w = fmax(w, st_draw_text_w(r->tensors[t].unit, FONT_TICKS));
    return w + 1.2 * st_draw_ch(FONT_TICKS) + (unit_kind(r) ? 1.6 * st_draw_ch(FONT_LABEL) : 0.0);
}

/* ---- the page ---- */

/* A run's page: its panels over the steps and what they point into. */
struct page {
    struct lines l;
    struct st_panel loss, init, teach, eval, acc, rank;
    int loss_color;
    double *x;            /* [2][n] steps, log10 of the loss */
    const double *ly;
    struct st_held_out sets[ST_MAX_HELD_OUT];
    int n_sets, has_acc;
    double *emem;         /* [2 * n_sets][n] each set's log10 loss, then its accuracy */
    const double **ey, **ay;
    int *ecolors, *estyles;
    const char **enames;
    double *rmem;         /* the rank panel's rows */
    long nr;              /* its rows (0: no rank panel) */
    double *shares;       /* [l.n] the bars' shares */
    int many, map, bars;  /* lines per unit; the heatmap, or the bars, as the last panel */
};

static void page_free(struct page *pg)
{
    st_panel_free(&pg->rank);
    lines_free(&pg->l);
    free(pg->x);
    free(pg->emem);
    free(pg->ey);
    free(pg->ay);
    free(pg->ecolors);
    free(pg->estyles);
    free(pg->enames);
    free(pg->rmem);
    free(pg->shares);
}

/* The held-out panels of pg: each set's log10 loss and, where the run has
 * them, accuracies. Errors: ST_ERR_NOMEM. */
static enum st_status page_held_out(const struct st_fig_run *r, int lk, struct page *pg,
                                    struct st_err *err)
{
    const struct st_csv *m = r->m;
    long n = m->n_rows;
    int k = pg->n_sets = st_held_out_sets(m->names, m->n_cols, st_loss_names[lk], r->eval_name,
                                          pg->sets);
    if (k == 0)
        return ST_OK;
    pg->emem = malloc((size_t)k * 2 * (size_t)n * sizeof *pg->emem);
    pg->ey = calloc((size_t)k, sizeof *pg->ey);
    pg->ay = calloc((size_t)k, sizeof *pg->ay);
    pg->ecolors = calloc((size_t)k, sizeof *pg->ecolors);
    pg->estyles = calloc((size_t)k, sizeof *pg->estyles);
    pg->enames = calloc((size_t)k, sizeof *pg->enames);
    if (!pg->emem || !pg->ey || !pg->ay || !pg->ecolors || !pg->estyles || !pg->enames)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
    for (int i = 0; i < k; i++) {
        double *ly = pg->emem + (size_t)i * 2 * (size_t)n, *acc = ly + n;
        log_column(m, pg->sets[i].c_loss, ly);
        column(m, pg->sets[i].c_acc, acc);
        pg->has_acc |= pg->sets[i].c_acc >= 0;
        pg->ey[i] = ly;
        pg->ay[i] = acc;
        pg->ecolors[i] = st_draw_eval_color(i, &pg->estyles[i]);
        pg->enames[i] = pg->sets[i].name;
    }
    pg->eval = (struct st_panel){ .title = "loss on held-out data",
                                  .ylabel = st_loss_title((enum st_loss_kind)lk),
                                  .log_y = 1,
                                  .n_lines = k,
                                  .y = pg->ey,
                                  .names = pg->enames,
                                  .colors = pg->ecolors,
                                  .styles = pg->estyles,
                                  .hide_x = pg->has_acc };
    pg->acc = (struct st_panel){ .ylabel = "accuracy", .n_lines = k, .y = pg->ay,
                                 .names = pg->enames, .colors = pg->ecolors,
                                 .styles = pg->estyles };
    return ST_OK;
}

/* The panels of pg from metrics m: loss, d_init, d_teacher, the held-out
 * sets, then the shares or the ranks. Errors: ST_ERR_FORMAT (columns),
 * ST_ERR_NOMEM. */
static enum st_status page_panels(const struct st_fig_run *r, struct page *pg,
                                  struct st_err *err)
{
    const struct st_csv *m = r->m;
    int c_step = st_csv_col(m, "step"), c_loss = -1, lk = 0;
    long n = m->n_rows;
    struct lines *l = &pg->l;
    enum st_status st;

    /* The data loss's column names the run's loss (mse, xent or kl). */
    for (int k = 0; k < ST_LOSS_COUNT && c_loss < 0; k++)
        if ((c_loss = st_csv_col(m, st_loss_names[k])) >= 0)
            lk = k;
    if (c_step < 0 || c_loss < 0)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no 'step' column, or none of 'mse', "
                          "'xent' and 'kl'");
    if (n < 1)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no rows to plot");
    pg->many = r->tensors && r->n_tensors > ST_FIG_LEGEND_MAX;
    if ((pg->many ? unit_lines(r, l) : r->tensors ? tensor_lines(r, l) : column_lines(r, l)) != 0)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
    if (l->n == 0)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no d_init_<tensor> columns");
    pg->x = malloc((size_t)n * 2 * sizeof *pg->x);
    pg->shares = malloc(((size_t)l->n + 1) * sizeof *pg->shares);
    if (!pg->x || !pg->shares)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
    column(m, c_step, pg->x);
    log_column(m, c_loss, pg->x + n);
    pg->ly = pg->x + n;
    pg->loss_color = COLOR_FIRST_LINE;
    static const char *const loss_label[ST_LOSS_COUNT] = { "loss (mse)", "loss (cross-entropy)",
                                                          "loss (KL divergence)" };
    pg->loss = (struct st_panel){ .ylabel = loss_label[lk],
                                  .log_y = 1, .n_lines = 1, .y = &pg->ly,
                                  .colors = &pg->loss_color };
    /* The seed's "distance(trained student, initial student)" and
     * "distance(trained student, teacher)" do not fit the axes: their words. A
     * model fine-tuned on data moves from its start. */
    pg->init = (struct st_panel){ .title = l->has_teacher ? "distance to the initial student"
                                                          : "distance to the start",
                                  .ylabel = "L1 distance", .n_lines = l->n,
                                  .y = (const double **)l->init, .names = l->names,
                                  .colors = l->colors, .legend_max = ST_FIG_LEGEND_MAX };
    if (pg->many)
        pg->init.legend_title = unit_kind(r);
    pg->teach = pg->init;
    pg->teach.title = "distance to the teacher";
    pg->teach.y = (const double **)l->teacher;
    if ((st = page_held_out(r, lk, pg, err)) != ST_OK)
        return st;
    if (r->rank_panel && !pg->many && (pg->nr = rank_rows(m, c_step, &pg->rank, &pg->rmem)) == 0)
        st_panel_free(&pg->rank);
    pg->map = pg->many && r->shares;
    pg->bars = !pg->many && !l->has_teacher && r->shares;
    if (pg->bars)
        legend_shares(r, l, pg->shares);
    return ST_OK;
}

/* The gap between the held-out loss and the accuracy under it, in
 * fractions of the page's height. */
#define SPLIT_GAP 0.035

enum { P_LOSS, P_INIT, P_TEACH, P_EVAL, P_LAST, N_PANELS };

/* The page's panels in order, and the left margin each needs (page units). */
static int page_layout(const struct st_fig_run *r, const struct page *pg, int *kind,
                       double *margin)
{
    long n = r->m->n_rows;
    double H = (st_draw_panels_top() - st_draw_panels_bottom()) * st_draw_page_h();
    int k = 0;
    kind[k] = P_LOSS;
    margin[k++] = st_panel_margin(&pg->loss, n, H);
    kind[k] = P_INIT;
    margin[k++] = st_panel_margin(&pg->init, n, H);
    if (pg->l.has_teacher) {
        kind[k] = P_TEACH;
        margin[k++] = st_panel_margin(&pg->teach, n, H);
    }
    if (pg->n_sets > 0) {
        kind[k] = P_EVAL;
        margin[k] = st_panel_margin(&pg->eval, n, pg->has_acc ? H / 2 : H);
        if (pg->has_acc)
            margin[k] = fmax(margin[k], st_panel_margin(&pg->acc, n, H / 2));
        k++;
    }
    if (pg->map || pg->bars || pg->nr > 0) {
        kind[k] = P_LAST;
        if (pg->map) {
            margin[k] = share_map_margin(r);
        } else if (pg->bars) {
            struct st_ticks t;
            st_ticks_linear(&t, 0.0, shares_top(pg->shares, pg->l.n), 5);
            margin[k] = st_axis_margin(&t, 0);
        } else {
            margin[k] = st_panel_margin(&pg->rank, pg->nr, H);
        }
        k++;
    }
    return k;
}

/* Draws pg's panels side by side on one page, each axis as wide as the
 * others after each panel's margin. */
static enum st_status page_draw(const char *path, enum st_fig_format fmt,
                                const struct st_fig_run *r, struct page *pg, struct st_err *err)
{
    long n = r->m->n_rows;
    char tmp[4200];
    int kind[N_PANELS];
    double margin[N_PANELS];
    /* The page's width is known before the text can be measured: three
     * panels take ST_FIG_WIDTH, each more a third of it. */
    int guess = 2 + pg->l.has_teacher + (pg->n_sets > 0) + (pg->map || pg->bars || pg->nr > 0);
    int width = guess > 3 ? ST_FIG_WIDTH * guess / 3 : ST_FIG_WIDTH;
    enum st_status st = st_draw_page_begin(path, fmt, width, r->title, tmp, sizeof tmp, err);
    if (st != ST_OK)
        return st;
    int panels = page_layout(r, pg, kind, margin);
    double W = st_draw_page_w(), left = 0.006 * W, right = 0.022 * ST_FIG_WIDTH, used = left;
    for (int i = 0; i < panels; i++)
        used += margin[i] + right;
    double aw = (W - used) / panels, at = left;
    double vy0 = st_draw_panels_bottom(), vy1 = st_draw_panels_top();
    double split = 0.5 * (vy0 + vy1 - SPLIT_GAP);
    const char *titles[] = { pg->init.title, pg->l.has_teacher ? pg->teach.title : NULL,
                             pg->n_sets ? pg->eval.title : NULL, pg->nr ? pg->rank.title : NULL,
                             pg->map || pg->bars ? "share of the update, \u03a3|\u0394|" : NULL };
    for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
        if (titles[i])
            st_draw_title_fit(titles[i], pg->map && i == 4 ? 0.86 * aw : aw);
    for (int i = 0; i < panels; i++) {
        double vx0 = (at + margin[i]) / W, vx1 = (at + margin[i] + aw) / W;
        at += margin[i] + aw + right;
        switch (kind[i]) {
        case P_LOSS:
            st_draw_panel(&pg->loss, pg->x, n, vx0, vx1, vy0, vy1, 0);
            break;
        case P_INIT:
            st_draw_panel(&pg->init, pg->x, n, vx0, vx1, vy0, vy1, 1);
            break;
        case P_TEACH:
            st_draw_panel(&pg->teach, pg->x, n, vx0, vx1, vy0, vy1, 1);
            break;
        case P_EVAL:
            if (pg->has_acc) {
                st_draw_panel(&pg->eval, pg->x, n, vx0, vx1, split + SPLIT_GAP, vy1, 1);
                st_draw_panel(&pg->acc, pg->x, n, vx0, vx1, vy0, split, 0);
            } else {
                st_draw_panel(&pg->eval, pg->x, n, vx0, vx1, vy0, vy1, 1);
            }
            break;
        default:
            if (pg->map)
                draw_share_map(r, vx0, vx1, vy0, vy1);
            else if (pg->bars)
                draw_shares(&pg->l, pg->shares, vx0, vx1, vy0, vy1);
            else
                st_draw_panel(&pg->rank, pg->rmem, pg->nr, vx0, vx1, vy0, vy1, 1);
        }
    }
    return st_draw_page_end(tmp, path, err);
}

enum st_status st_figure_run(const char *path, enum st_fig_format fmt, const struct st_fig_run *r,
                             struct st_err *err)
{
    struct page pg;
    memset(&pg, 0, sizeof pg);
    enum st_status st = page_panels(r, &pg, err);
    if (st == ST_OK)
        st = page_draw(path, fmt, r, &pg, err);
    page_free(&pg);
    return st;
}
