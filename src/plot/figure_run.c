/* figure_run.c: a run's figure. Panels side by side: the loss (log scale),
 * d_init, then d_teacher (a teacher-student run) or the evaluation set's loss
 * (a data run), and a fourth where there is one: the rank of each weight
 * update (nuclear runs), the update's shares (a data run's bars, or for many
 * tensors a heatmap of units x roles). While the tensors fit a legend each
 * has its line, weights first as in the seed's legend (w1, w2, ..., b1,
 * ...); with more, each unit (an MLP's layer) has one: its mean |Delta|. */
#include "draw.h"

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
    free(rc);
    return nr;
}

/* Bars of each tensor's share of the update, names under them. */
static void draw_shares(const char *const *names, const double *shares, int n, double vx0,
                        double vx1, double vy0, double vy1)
{
    double hi = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(shares[i]) && shares[i] > hi)
            hi = shares[i];
    hi = hi > 0.0 ? 1.1 * hi : 1.0;
    plvpor(vx0, vx1, vy0, vy1);
    plwind(0.0, (double)n, 0.0, hi);
    for (int i = 0; i < n; i++) {
        if (!(shares[i] > 0.0))
            continue;
        PLFLT bx[4] = { i + 0.15, i + 0.85, i + 0.85, i + 0.15 };
        PLFLT by[4] = { 0.0, 0.0, shares[i], shares[i] };
        plcol0(COLOR_FIRST_LINE + i % 10);
        plfill(4, bx, by);
    }
    plcol0(COLOR_AXES);
    plwidth(1.0);
    plschr(0.0, FONT_TICKS);
    plslabelfunc(st_draw_label_linear, NULL);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    plbox("", 0.0, 0, "bntivo", 0.0, 0);
    plslabelfunc(NULL, NULL);
    for (int i = 0; i < n; i++)
        plmtex("b", 1.4, (i + 0.5) / n, 0.5, names[i]);
    plschr(0.0, FONT_LABEL);
    plmtex("t", 0.6, 0.5, 0.5, "share of the update, \u03a3|\u0394|");
    plmtex("b", 2.7, 0.5, 0.5, "tensor");
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
    st_draw_heatmap(v, n_units, n_roles, units, roles, "share of the update, \u03a3|\u0394|", vx0,
                    vx1, vy0, vy1);
    free(units);
    free(roles);
    free(v);
}

/* Viewports of three or four panels side by side (the seed's margins). */
static const double three[3][2] = { { 0.055, 0.315 }, { 0.395, 0.655 }, { 0.735, 0.985 } };
static const double four[4][2] = { { 0.05, 0.235 }, { 0.30, 0.485 }, { 0.55, 0.735 },
                                   { 0.795, 0.98 } };

/* A run's page: its panels over the steps and what they point into. */
struct page {
    struct lines l;
    struct st_panel loss, init, teach, eval, rank;
    int loss_color, eval_color;
    double *x;            /* [3][n] steps, log10 of the loss and of the evaluation loss */
    const double *ly, *ey;
    double *rmem;         /* the rank panel's rows */
    long nr;              /* its rows (0: no rank panel) */
    double *shares;       /* [l.n] the bars' shares */
    int many, map, bars;  /* lines per unit; the heatmap, or the bars, as the fourth panel */
};

static void page_free(struct page *pg)
{
    st_panel_free(&pg->rank);
    lines_free(&pg->l);
    free(pg->x);
    free(pg->rmem);
    free(pg->shares);
}

/* The panels of pg from metrics m: loss, d_init, then d_teacher or the
 * evaluation loss (a run without a teacher shows the forgetting curve), then
 * the shares or the ranks. Errors: ST_ERR_FORMAT (columns), ST_ERR_NOMEM. */
static enum st_status page_panels(const struct st_fig_run *r, struct page *pg,
                                  struct st_err *err)
{
    const struct st_csv *m = r->m;
    int c_step = st_csv_col(m, "step"), c_loss = st_csv_col(m, "mse");
    int xent = c_loss < 0 && st_csv_col(m, "xent") >= 0; /* a --loss xent run */
    int c_eval = st_csv_col(m, xent ? "eval_xent" : "eval_mse");
    long n = m->n_rows;
    struct lines *l = &pg->l;

    pg->loss = (struct st_panel){ NULL, xent ? "loss (cross-entropy)" : "loss (mse)", 1, 0, NULL,
                                  NULL, NULL, 0 };
    pg->init = (struct st_panel){ "distance(trained student, initial student)", "L1 distance", 0,
                                  0, NULL, NULL, NULL, ST_FIG_LEGEND_MAX };
    pg->teach = (struct st_panel){ "distance(trained student, teacher)", "L1 distance", 0, 0,
                                   NULL, NULL, NULL, ST_FIG_LEGEND_MAX };
    pg->eval = (struct st_panel){ "loss on the evaluation set", xent ? "cross-entropy" : "mse", 1,
                                  0, NULL, NULL, NULL, 0 };
    pg->rank = (struct st_panel){ "rank of each weight update", "numerical rank", 0, 0, NULL,
                                  NULL, NULL, 0 };
    if (xent)
        c_loss = st_csv_col(m, "xent");
    if (c_step < 0 || c_loss < 0)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no 'step' column, or neither 'mse' nor "
                          "'xent'");
    if (n < 1)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no rows to plot");
    pg->many = r->tensors && r->n_tensors > ST_FIG_LEGEND_MAX;
    if ((pg->many ? unit_lines(r, l) : r->tensors ? tensor_lines(r, l) : column_lines(r, l)) != 0)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
    if (l->n == 0)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no d_init_<tensor> columns");
    pg->x = malloc((size_t)n * 3 * sizeof *pg->x);
    pg->shares = malloc(((size_t)l->n + 1) * sizeof *pg->shares);
    if (!pg->x || !pg->shares)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
    column(m, c_step, pg->x);
    log_column(m, c_loss, pg->x + n);
    pg->ly = pg->x + n;
    pg->loss_color = COLOR_FIRST_LINE;
    pg->loss.y = &pg->ly;
    pg->loss.colors = &pg->loss_color;
    pg->loss.n_lines = 1;
    pg->init.y = (const double **)l->init;
    pg->teach.y = (const double **)l->teacher;
    pg->init.names = pg->teach.names = l->names;
    pg->init.colors = pg->teach.colors = l->colors;
    pg->init.n_lines = pg->teach.n_lines = l->n;
    if (!l->has_teacher && c_eval >= 0) {
        log_column(m, c_eval, pg->x + 2 * n);
        pg->ey = pg->x + 2 * n;
        pg->eval_color = COLOR_FIRST_LINE + 1;
        pg->eval.y = &pg->ey;
        pg->eval.colors = &pg->eval_color;
        pg->eval.n_lines = 1;
    }
    if (r->rank_panel && !pg->many && (pg->nr = rank_rows(m, c_step, &pg->rank, &pg->rmem)) == 0)
        st_panel_free(&pg->rank);
    pg->map = pg->many && r->shares;
    pg->bars = !pg->many && !l->has_teacher && r->shares;
    if (pg->bars)
        legend_shares(r, l, pg->shares);
    return ST_OK;
}

/* Draws pg's three or four panels side by side on one page. */
static enum st_status page_draw(const char *path, enum st_fig_format fmt,
                                const struct st_fig_run *r, struct page *pg, struct st_err *err)
{
    long n = r->m->n_rows;
    char tmp[4200];
    int third = pg->l.has_teacher || pg->eval.n_lines;
    int fourth = pg->map || pg->bars || pg->nr > 0;
    int panels = 2 + third + fourth;
    enum st_status st = st_draw_page_begin(path, fmt,
                                           panels == 4 ? ST_FIG_WIDTH * 4 / 3 : ST_FIG_WIDTH,
                                           r->title, tmp, sizeof tmp, err);
    if (st != ST_OK)
        return st;
    const double(*vp)[2] = panels == 4 ? four : three;
    st_draw_panel(&pg->loss, pg->x, n, vp[0][0], vp[0][1], 0.14, 0.80, 0);
    st_draw_panel(&pg->init, pg->x, n, vp[1][0], vp[1][1], 0.14, 0.80, 1);
    if (pg->l.has_teacher)
        st_draw_panel(&pg->teach, pg->x, n, vp[2][0], vp[2][1], 0.14, 0.80, 1);
    else if (pg->eval.n_lines)
        st_draw_panel(&pg->eval, pg->x, n, vp[2][0], vp[2][1], 0.14, 0.80, 0);
    int last = 1 + third + 1;
    if (pg->map)
        draw_share_map(r, vp[last][0] + 0.02, vp[last][1], 0.14, 0.80);
    else if (pg->bars)
        draw_shares(pg->l.names, pg->shares, pg->l.n, vp[last][0], vp[last][1], 0.14, 0.80);
    else if (pg->nr > 0)
        st_draw_panel(&pg->rank, pg->rmem, pg->nr, vp[last][0], vp[last][1], 0.14, 0.80, 1);
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
