/* figure_sweep.c: the figures of many runs: a sweep's final update sizes
 * against lambda, a bar chart (baselines) and a trade-off plot (continual). */
#include "draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define SWEEP_MAX_LAMBDAS 256

/* The lines of the sweep figure: one per tensor (or per unit, a mean of its
 * tensors' d_init weighted by their entries, or unweighted when the entries
 * differ between runs), each row's value in v. */
struct series {
    int n;
    const char **names;
    int *colors;
    double *v;      /* [rows][n] */
};

static void series_free(struct series *s)
{
    free(s->names);
    free(s->colors);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Line k's value in row r from the d_init columns cols[0..n_cols) with their
 * weights (NaN when none of them has a value). */
static double weighted(const struct st_csv_text *s, long r, const int *cols, const double *w,
                       int n_cols)
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n_cols; i++) {
        double v = strtod(s->cells[r * s->n_cols + cols[i]], NULL);
        if (isnan(v))
            continue;
        sum += w[i] * v;
        wsum += w[i];
    }
    return wsum > 0.0 ? sum / wsum : (double)NAN;
}

/* The lines: every tensor with a d_init column, matrices first (the seed's
 * legend: w1, w2, ..., b1, ...), or with more tensors than a legend lists,
 * every unit; without tensors, every d_init column in order. */
static int series_of(const struct st_csv_text *s, const struct st_fig_tensor *t, int n_t,
                     struct series *out)
{
    int many = t && n_t > ST_FIG_LEGEND_MAX, n = 0, max = n_t > s->n_cols ? n_t : s->n_cols;
    int *cols = malloc(((size_t)max + 1) * sizeof *cols);
    double *w = malloc(((size_t)max + 1) * sizeof *w);
    memset(out, 0, sizeof *out);
    out->names = calloc((size_t)max + 1, sizeof *out->names);
    out->colors = calloc((size_t)max + 1, sizeof *out->colors);
    out->v = malloc(((size_t)s->n_rows * (size_t)max + 1) * sizeof *out->v);
    if (!cols || !w || !out->names || !out->colors || !out->v) {
        free(cols);
        free(w);
        series_free(out);
        return -1;
    }
    /* Each line: its name, then the columns it averages. */
    for (int pass = 0; pass < (t && !many ? 2 : 1); pass++)
        for (int k = 0; k < (t ? n_t : s->n_cols); k++) {
            char col[256];
            int nc = 0;
            const char *name;
            if (!t) {
                if (strncmp(s->names[k], "d_init_", 7))
                    continue;
                name = s->names[k] + 7;
                cols[nc] = k;
                w[nc++] = 1.0;
            } else if (!many) {
                if (!t[k].matrix != (pass == 1))
                    continue;
                name = t[k].name;
                snprintf(col, sizeof col, "d_init_%s", name);
                if ((cols[nc] = st_csv_text_col(s, col)) >= 0)
                    w[nc++] = 1.0;
            } else {
                int first = 1;
                for (int j = 0; j < k && first; j++)
                    first = strcmp(t[j].unit, t[k].unit) != 0;
                if (!first)
                    continue;
                name = t[k].unit;
                for (int j = k; j < n_t; j++) {
                    snprintf(col, sizeof col, "d_init_%s", t[j].name);
                    if (!strcmp(t[j].unit, name) && (cols[nc] = st_csv_text_col(s, col)) >= 0)
                        w[nc++] = t[j].size;
                }
            }
            if (nc == 0)
                continue;
            /* A tensor whose entries differ between the runs (a grid over
             * the widths): its unit's tensors weigh the same. */
            int sized = 1;
            for (int i = 0; i < nc; i++)
                sized &= isfinite(w[i]) && w[i] > 0.0;
            for (int i = 0; !sized && i < nc; i++)
                w[i] = 1.0;
            for (long r = 0; r < s->n_rows; r++)
                out->v[(size_t)r * (size_t)max + (size_t)n] = weighted(s, r, cols, w, nc);
            out->names[n++] = name;
        }
    /* Rows of n values, packed. */
    for (long r = 0; r < s->n_rows; r++)
        memmove(out->v + (size_t)r * (size_t)n, out->v + (size_t)r * (size_t)max,
                (size_t)n * sizeof *out->v);
    for (int k = 0; k < n; k++)
        out->colors[k] = st_draw_color(k, n);
    out->n = n;
    free(cols);
    free(w);
    return 0;
}

/* Per lambda and line: median, min, max of log10 d_init (zeros at a floor),
 * and per lambda the fraction of runs judged correct. */
struct stats {
    int n_lam;
    double lams[SWEEP_MAX_LAMBDAS], xs[SWEEP_MAX_LAMBDAS], frac[SWEEP_MAX_LAMBDAS];
    double first_pos, floor_log, ymax;
    int has_zero;
    double *med, *lo, *hi; /* [line][lambda] */
};

/* The lambdas of the finished runs, sorted, and their x: log10(lambda);
 * lambda = 0 one decade left of the smallest positive. */
static void lambdas_of(const struct st_csv_text *s, int c_lam, int c_status, struct stats *st)
{
    st->n_lam = 0;
    for (long r = 0; r < s->n_rows; r++) {
        if (strcmp(s->cells[r * s->n_cols + c_status], "ok"))
            continue;
        double l = strtod(s->cells[r * s->n_cols + c_lam], NULL);
        int seen = 0;
        for (int i = 0; i < st->n_lam; i++)
            seen |= st->lams[i] == l;
        if (!seen && st->n_lam < SWEEP_MAX_LAMBDAS)
            st->lams[st->n_lam++] = l;
    }
    qsort(st->lams, (size_t)st->n_lam, sizeof *st->lams, cmp_double);
    st->first_pos = 0.0;
    for (int i = 0; i < st->n_lam; i++)
        if (st->lams[i] > 0.0) {
            st->first_pos = st->lams[i];
            break;
        }
    for (int i = 0; i < st->n_lam; i++)
        st->xs[i] = st->lams[i] > 0.0 ? log10(st->lams[i])
                                      : (st->first_pos > 0.0 ? log10(st->first_pos) - 1.0 : 0.0);
}

static int stats_of(const struct st_csv_text *s, const struct series *ser, int c_lam,
                    int c_status, int c_ok, struct stats *st)
{
    size_t cells = (size_t)st->n_lam * (size_t)ser->n;
    double *vals = malloc(((size_t)s->n_rows + 1) * sizeof *vals);
    st->med = malloc((3 * cells + 1) * sizeof *st->med);
    if (!vals || !st->med) {
        free(vals);
        free(st->med);
        st->med = NULL;
        return -1;
    }
    st->lo = st->med + cells;
    st->hi = st->lo + cells;
    double min_pos = INFINITY;
    for (size_t i = 0; i < (size_t)s->n_rows * (size_t)ser->n; i++)
        if (ser->v[i] > 0.0 && ser->v[i] < min_pos)
            min_pos = ser->v[i];
    st->floor_log = isfinite(min_pos) ? log10(min_pos) - 0.5 : -8.0;
    st->has_zero = 0;
    st->ymax = -INFINITY;
    for (int i = 0; i < st->n_lam; i++) {
        /* The share of this lambda's finished runs judged correct, each run
         * once, whichever lines it has values for. */
        int n_ok = 0, n_correct = 0;
        for (long r = 0; r < s->n_rows; r++) {
            const char *const *row = (const char *const *)s->cells + r * s->n_cols;
            if (!strcmp(row[c_status], "ok") && strtod(row[c_lam], NULL) == st->lams[i]) {
                n_ok++;
                n_correct += !strcmp(row[c_ok], "1");
            }
        }
        for (int t = 0; t < ser->n; t++) {
            int n = 0;
            for (long r = 0; r < s->n_rows; r++) {
                const char *const *row = (const char *const *)s->cells + r * s->n_cols;
                if (strcmp(row[c_status], "ok") || strtod(row[c_lam], NULL) != st->lams[i])
                    continue;
                double v = ser->v[(size_t)r * (size_t)ser->n + (size_t)t];
                if (isnan(v))
                    continue;
                vals[n++] = v > 0.0 ? log10(v) : st->floor_log;
                st->has_zero |= v == 0.0;
            }
            size_t k = (size_t)t * (size_t)st->n_lam + (size_t)i;
            if (n == 0) {
                st->med[k] = st->lo[k] = st->hi[k] = NAN;
                continue;
            }
            st->med[k] = median(vals, n);
            st->lo[k] = vals[0];
            st->hi[k] = vals[n - 1];
            st->ymax = st->hi[k] > st->ymax ? st->hi[k] : st->ymax;
        }
        st->frac[i] = n_ok ? (double)n_correct / n_ok : (double)NAN;
    }
    free(vals);
    return 0;
}

/* The axes of a panel over the lambdas: each lambda labelled when there are
 * few, else the decades; "0" for lambda = 0 (left of the log axis). */
static void lambda_axes(const struct stats *st, double x0, double x1, double ylo, double yhi,
                        int log_y)
{
    plcol0(COLOR_AXES);
    plwidth(1.0);
    plschr(0.0, FONT_TICKS);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    plbox("", 0.0, 0, log_y ? "bnstilv" : "bntiv", 0.0, 0);
    for (int i = 0; i < st->n_lam; i++) {
        char lab[32];
        if (st->n_lam <= 8 || st->lams[i] == 0.0) {
            snprintf(lab, sizeof lab, "%g", st->lams[i]);
            plmtex("b", 1.4, (st->xs[i] - x0) / (x1 - x0), 0.5, lab);
        }
        plline(2, (const PLFLT[]){ st->xs[i], st->xs[i] },
               (const PLFLT[]){ ylo, ylo + 0.015 * (yhi - ylo) });
    }
    if (st->n_lam > 8)
        for (int d = (int)ceil(st->first_pos > 0.0 ? log10(st->first_pos) : x0);
             d <= (int)floor(x1); d++) {
            char lab[32];
            snprintf(lab, sizeof lab, "1e%d", d);
            plmtex("b", 1.4, ((double)d - x0) / (x1 - x0), 0.5, lab);
            plline(2, (const PLFLT[]){ (double)d, (double)d },
                   (const PLFLT[]){ ylo, ylo + 0.04 * (yhi - ylo) });
        }
}

/* Each line's median with its band from min to max, and the legend. */
static void draw_lines(const struct series *ser, const struct stats *st)
{
    int n_lam = st->n_lam;
    for (int t = 0; t < ser->n; t++) {
        const double *m = st->med + (size_t)t * (size_t)n_lam;
        const double *l = st->lo + (size_t)t * (size_t)n_lam;
        const double *h = st->hi + (size_t)t * (size_t)n_lam;
        double px[2 * SWEEP_MAX_LAMBDAS], py[2 * SWEEP_MAX_LAMBDAS];
        int np = 0;
        for (int i = 0; i < n_lam; i++)
            if (isfinite(l[i])) {
                px[np] = st->xs[i];
                py[np++] = l[i];
            }
        for (int i = n_lam - 1; i >= 0; i--)
            if (isfinite(h[i])) {
                px[np] = st->xs[i];
                py[np++] = h[i];
            }
        if (np >= 3 && ser->n <= 10) {
            plcol0(COLOR_BAND + t % 10);
            plfill(np, px, py);
        }
        plcol0(ser->colors[t]);
        st_draw_series(st->xs, m, n_lam);
        plstring(n_lam, st->xs, m, "#(728)");
    }
    /* Legend: the names in their colours, top right (at most a column's worth,
     * evenly spread over the lines). */
    int shown = ser->n < 13 ? ser->n : 13;
    plschr(0.0, FONT_LEGEND);
    for (int k = 0; k < shown; k++) {
        int t = shown < ser->n ? (int)((long)k * (ser->n - 1) / (shown - 1)) : k;
        plcol0(ser->colors[t]);
        plmtex("rv", 0.8, 0.95 - 0.07 * k, 0.0, ser->names[t]);
    }
}

enum st_status st_figure_sweep(const char *path, enum st_fig_format fmt,
                               const struct st_csv_text *s, const struct st_fig_tensor *tensors,
                               int n_tensors, struct st_err *err)
{
    int c_lam = st_csv_text_col(s, "lambda"), c_status = st_csv_text_col(s, "status");
    int c_ok = st_csv_text_col(s, "correct");
    struct series ser;
    struct stats st;
    enum st_status rc = ST_OK;
    char tmp[4300];

    if (c_lam < 0 || c_status < 0 || c_ok < 0)
        return st_err_set(err, ST_ERR_ARG, "no lambda axis in the sweep: no sweep figure");
    memset(&st, 0, sizeof st);
    lambdas_of(s, c_lam, c_status, &st);
    if (series_of(s, tensors, n_tensors, &ser) != 0)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the sweep figure's data");
    if (st.n_lam == 0 || ser.n == 0) {
        series_free(&ser);
        return st_err_set(err, ST_ERR_FORMAT, "no finished runs to plot");
    }
    if (stats_of(s, &ser, c_lam, c_status, c_ok, &st) != 0) {
        series_free(&ser);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the sweep figure's data");
    }
    rc = st_draw_page_begin(path, fmt, ST_FIG_WIDTH, "final update size and verdict against \u03bb",
                            tmp, sizeof tmp, err);
    if (rc != ST_OK)
        goto out;
    double x0 = st.xs[0] - 0.3, x1 = st.xs[st.n_lam - 1] + 0.3;
    for (int panel = 0; panel < 2; panel++) {
        double vx0 = panel ? 0.62 : 0.07, vx1 = panel ? 0.97 : 0.52;
        double ylo = panel ? -0.05 : st.floor_log - 0.2, yhi = panel ? 1.05 : st.ymax + 0.3;
        plvpor(vx0, vx1, 0.16, 0.80);
        plwind(x0, x1, ylo, yhi);
        lambda_axes(&st, x0, x1, ylo, yhi, !panel);
        if (!panel && st.has_zero) {
            plschr(0.0, FONT_LEGEND);
            plmtex("t", -1.3, 0.02, 0.0, "exact zeros drawn at the bottom");
        }
        plschr(0.0, FONT_LABEL);
        plmtex("b", 3.0, 0.5, 0.5, "\u03bb");
        plmtex("l", panel ? 3.6 : 3.8, 0.5, 0.5,
               panel ? "fraction of runs judged correct" : "final d_init (median, min-max)");
        plwidth(1.6);
        if (panel) {
            plcol0(COLOR_FIRST_LINE);
            st_draw_series(st.xs, st.frac, st.n_lam);
            plstring(st.n_lam, st.xs, st.frac, "#(728)");
        } else {
            draw_lines(&ser, &st);
        }
    }
    rc = st_draw_page_end(tmp, path, err);
out:
    free(st.med);
    series_free(&ser);
    return rc;
}

enum st_status st_figure_bars(const char *path, enum st_fig_format fmt, const char *const *names,
                              const double *values, const int *marks, int n, const char *title,
                              const char *ylabel, struct st_err *err)
{
    double lo = INFINITY, hi = -INFINITY;
    char tmp[4300];
    for (int i = 0; i < n; i++)
        if (values[i] > 0.0 && isfinite(values[i])) {
            double v = log10(values[i]);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    if (!isfinite(lo))
        return st_err_set(err, ST_ERR_FORMAT, "no finite positive value to draw");
    lo = floor(lo - 0.3);
    hi = ceil(hi + 0.3);
    enum st_status st = st_draw_page_begin(path, fmt, ST_FIG_WIDTH, title, tmp, sizeof tmp, err);
    if (st != ST_OK)
        return st;
    /* Room below the bars for their names, written vertically. */
    plvpor(0.07, 0.98, 0.30, 0.86);
    plwind(0.0, (double)n, lo, hi);
    for (int i = 0; i < n; i++) {
        if (!(values[i] > 0.0) || !isfinite(values[i]))
            continue;
        double v = log10(values[i]);
        PLFLT bx[4] = { i + 0.15, i + 0.85, i + 0.85, i + 0.15 };
        PLFLT by[4] = { lo, lo, v, v };
        plcol0(marks[i] ? COLOR_FIRST_LINE + 1 : COLOR_FIRST_LINE);
        plfill(4, bx, by);
    }
    plcol0(COLOR_AXES);
    plwidth(1.0);
    plschr(0.0, FONT_TICKS);
    plbox("bc", 0.0, 0, "bcnstilv", 0.0, 0);
    double cs = n > 40 ? 0.45 : n > 20 ? 0.55 : FONT_TICKS;
    plschr(0.0, cs);
    for (int i = 0; i < n; i++)
        /* vertical text, right-justified just under the axis */
        plmtex("bv", 0.6, (i + 0.5) / n, 1.0, names[i]);
    plschr(0.0, FONT_LABEL);
    plmtex("l", 3.6, 0.5, 0.5, ylabel);
    return st_draw_page_end(tmp, path, err);
}

enum st_status st_figure_tradeoff(const char *path, enum st_fig_format fmt, const char *title,
                                  int n_series, const char *const *names,
                                  const double *const *x, const double *const *y,
                                  const int *counts, const char *xlabel, const char *ylabel,
                                  struct st_err *err)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    char tmp[4300];
    for (int s = 0; s < n_series; s++)
        for (int i = 0; i < counts[s]; i++) {
            if (x[s][i] > 0.0 && isfinite(x[s][i])) {
                xlo = fmin(xlo, log10(x[s][i]));
                xhi = fmax(xhi, log10(x[s][i]));
            }
            if (y[s][i] > 0.0 && isfinite(y[s][i])) {
                ylo = fmin(ylo, log10(y[s][i]));
                yhi = fmax(yhi, log10(y[s][i]));
            }
        }
    if (!isfinite(xlo) || !isfinite(ylo))
        return st_err_set(err, ST_ERR_FORMAT, "no finite positive point to draw");
    /* Non-positive values sit on the floor, half a decade below the rest. */
    double xf = floor(xlo - 0.5), yf = floor(ylo - 0.5);
    enum st_status st = st_draw_page_begin(path, fmt, ST_FIG_WIDTH * 2 / 3, title, tmp,
                                           sizeof tmp, err);
    if (st != ST_OK)
        return st;
    plvpor(0.13, 0.70, 0.16, 0.80);
    plwind(xf, ceil(xhi + 0.3), yf, ceil(yhi + 0.3));
    plcol0(COLOR_AXES);
    plwidth(1.0);
    plschr(0.0, FONT_TICKS);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    plbox("bnstil", 0.0, 0, "bnstilv", 0.0, 0);
    plschr(0.0, FONT_LABEL);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", 3.8, 0.5, 0.5, ylabel);
    for (int s = 0; s < n_series; s++) {
        double px[256], py[256];
        int n = counts[s] < 256 ? counts[s] : 256;
        for (int i = 0; i < n; i++) {
            px[i] = x[s][i] > 0.0 && isfinite(x[s][i]) ? log10(x[s][i]) : xf;
            py[i] = y[s][i] > 0.0 && isfinite(y[s][i]) ? log10(y[s][i]) : yf;
        }
        plcol0(COLOR_FIRST_LINE + s % 10);
        plwidth(1.6);
        if (n > 1)
            plline(n, px, py);
        plstring(n, px, py, "#(728)");
        plschr(0.0, FONT_LEGEND);
        plmtex("rv", 1.0, 0.95 - 0.08 * s, 0.0, names[s]);
    }
    return st_draw_page_end(tmp, path, err);
}
