/* figure_sweep.c: a sweep's figure: the final update sizes against lambda
 * (median and band over the runs sharing a lambda) and the share of runs
 * judged correct, or for a data sweep the final losses and accuracies of the
 * training and held-out sets. Lambda = 0 sits one decade left of the smallest positive
 * lambda, exact zeros on a floor labelled "0". */
#include "draw.h"
#include "held_out.h"
#include "../core/loss.h"

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
                n_correct += c_ok >= 0 && !strcmp(row[c_ok], "1");
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
        st->frac[i] = n_ok && c_ok >= 0 ? (double)n_correct / n_ok : (double)NAN;
    }
    free(vals);
    return 0;
}

/* lambda as its tick's label, short and in one style: "0", "3e-4",
 * "3.16e-3" below 0.01, else "%g" ("0.01", "0.5", "2"). */
static void lambda_label(double v, char *out, size_t size)
{
    if (v == 0.0 || fabs(v) >= 0.01) {
        snprintf(out, size, "%.3g", v);
        return;
    }
    int d = (int)floor(log10(fabs(v)) + 1e-9);
    double mant = v / pow(10.0, d);
    if (fabs(mant) >= 9.995) { /* rounds up to the next decade */
        mant /= 10.0;
        d++;
    }
    snprintf(out, size, "%.3ge%d", mant, d);
}

/* The x ticks of a sweep panel: every lambda (and with many, the decades)
 * ticked; labelled, in order of importance (0, the ends, the decades, the
 * rest), those that keep clear of the labels already placed on an axis len
 * page units long over x0..x1. */
static void lambda_ticks(const struct stats *st, double x0, double x1, double len,
                         struct st_ticks *t)
{
    double at[ST_MAX_TICKS], lam[ST_MAX_TICKS];
    int n = 0;
    memset(t, 0, sizeof *t);
    for (int i = 0; i < st->n_lam && n < ST_MAX_TICKS; i++) {
        at[n] = st->xs[i];
        lam[n++] = st->lams[i];
    }
    for (int d = (int)ceil(x0); st->n_lam > 8 && d <= (int)floor(x1) && n < ST_MAX_TICKS; d++) {
        int seen = 0;
        for (int i = 0; i < n; i++)
            seen |= fabs(at[i] - d) < 1e-9 && lam[i] > 0.0;
        if (!seen && (st->first_pos <= 0.0 || d >= log10(st->first_pos) - 1e-9)) {
            at[n] = d;
            lam[n++] = pow(10.0, d);
        }
    }
    /* Sorted by position; each label's extent once placed. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
            double ta = at[j], tl = lam[j];
            at[j] = at[j - 1];
            lam[j] = lam[j - 1];
            at[j - 1] = ta;
            lam[j - 1] = tl;
        }
    double lo[ST_MAX_TICKS], hi[ST_MAX_TICKS], gap = 0.8 * st_draw_ch(FONT_TICKS);
    int placed[ST_MAX_TICKS] = { 0 };
    t->n = n;
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < n; i++) {
            int decade = lam[i] > 0.0 && fabs(log10(lam[i]) - round(log10(lam[i]))) < 1e-9;
            int rank = lam[i] == 0.0 ? 0 : (i == 0 || i == n - 1) ? 1 : decade ? 2 : 3;
            if (rank != pass)
                continue;
            char lab[32];
            lambda_label(lam[i], lab, sizeof lab);
            double c = (at[i] - x0) / (x1 - x0) * len, w = st_draw_text_w(lab, FONT_TICKS);
            int clear = 1;
            for (int j = 0; j < n; j++)
                clear &= !placed[j] || c + 0.5 * w + gap <= lo[j] || c - 0.5 * w - gap >= hi[j];
            if (!clear)
                continue;
            placed[i] = 1;
            lo[i] = c - 0.5 * w;
            hi[i] = c + 0.5 * w;
            snprintf(t->lab[i], sizeof t->lab[i], "%s", lab);
        }
    for (int i = 0; i < n; i++)
        t->v[i] = at[i];
}

/* The y ticks of the update-size panel (log10 window ylo..yhi): the
 * decades, and with exact zeros "0" at the floor they are drawn at, no
 * other label near it. */
static void size_ticks(const struct stats *st, double ylo, double yhi, double len,
                       struct st_ticks *t)
{
    struct st_ticks dec;
    st_ticks_log(&dec, ylo, yhi, 8);
    st_ticks_thin(&dec, ylo, yhi, len, 1);
    *t = dec;
    if (!st->has_zero)
        return;
    double clear = 1.6 * st_draw_ch(FONT_TICKS) / len * (yhi - ylo);
    t->n = 0;
    t->v[t->n] = st->floor_log;
    snprintf(t->lab[t->n++], sizeof t->lab[0], "0");
    for (int i = 0; i < dec.n && t->n < ST_MAX_TICKS; i++) {
        if (dec.v[i] <= st->floor_log)
            continue;
        t->v[t->n] = dec.v[i];
        snprintf(t->lab[t->n++], sizeof t->lab[0], "%s",
                 dec.v[i] - st->floor_log < clear ? "" : dec.lab[i]);
    }
    t->minor = 0;
}

/* Each line's median with its band from min to max. */
static void draw_lines(const struct series *ser, const struct stats *st)
{
    int n_lam = st->n_lam;
    for (int t = 0; t < ser->n; t++) {
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
    }
    plwidth(1.6);
    for (int t = 0; t < ser->n; t++) {
        const double *m = st->med + (size_t)t * (size_t)n_lam;
        plcol0(ser->colors[t]);
        st_draw_series(st->xs, m, n_lam);
        plssym(0.0, 0.9);
        for (int i = 0; i < n_lam; i++)
            if (isfinite(m[i]))
                plpoin(1, &st->xs[i], &m[i], 3);
    }
    plwidth(1.0);
}

/* The legend of the lines (a column's worth at most, evenly spread) into e,
 * *n and box's size; returns its width, page units. It stands in a column
 * of its own right of the panel. */
static double legend_width(const struct series *ser, struct st_legend_entry *e, int *n,
                           struct st_legend_box *box)
{
    double w, h;
    *n = ser->n < ST_FIG_LEGEND_MAX ? ser->n : ST_FIG_LEGEND_MAX;
    for (int k = 0; k < *n; k++) {
        int t = *n < ser->n ? (int)((long)k * (ser->n - 1) / (*n - 1)) : k;
        e[k] = (struct st_legend_entry){ ser->names[t], ser->colors[t], 1, 3 };
    }
    /* Units named by their numbers are an MLP's layers. */
    box->title = "layer";
    for (int k = 0; k < ser->n; k++)
        if (!ser->names[k][0] || strspn(ser->names[k], "0123456789") != strlen(ser->names[k]))
            box->title = NULL;
    st_legend_measure(e, *n, 1, box, &w, &h);
    box->fw = w;
    box->fh = h;
    return w;
}

/* A data sweep (no truth, no correct column) shows instead of the verdict
 * what its runs reached: each held-out set's and the training set's final
 * loss (log) and, under xent, accuracy, medians over the runs at each
 * lambda. */
#define HELD_MAX 12
struct held {
    int n;
    char names[HELD_MAX][48];
    int cols[HELD_MAX];
    double med[HELD_MAX][SWEEP_MAX_LAMBDAS];
    double lo, hi; /* over the finite medians */
};

/* The lines of a data sweep's loss (acc 0) or accuracy (acc 1) panel: the
 * training set's column, then each held-out set's (held_out.h: validation,
 * eval, each NAME); medians per lambda of the finished runs; log10 for the
 * loss. */
static void held_of(const struct st_csv_text *s, int c_lam, int c_status, const struct stats *st,
                    int acc, struct held *h)
{
    struct st_held_out sets[ST_MAX_HELD_OUT];
    const char *loss = NULL;
    int c_train = -1;
    h->n = 0;
    h->lo = INFINITY;
    h->hi = -INFINITY;
    /* The training column names the sweep's loss (mse, xent, kl); a grid
     * over --loss has data_loss, and its sets' columns end in _loss. */
    for (int k = 0; k < ST_LOSS_COUNT && c_train < 0; k++)
        if ((c_train = st_csv_text_col(s, st_loss_names[k])) >= 0)
            loss = st_loss_names[k];
    if (c_train < 0 && (c_train = st_csv_text_col(s, "data_loss")) >= 0)
        loss = "loss";
    /* That column mixes mse and xent: no loss panel then. */
    if (!loss || (!acc && !strcmp(loss, "loss")))
        return;
    int n_sets = st_held_out_sets(s->names, s->n_cols, loss, NULL, sets);
    double *vals = malloc(((size_t)s->n_rows + 1) * sizeof *vals);
    for (int k = -1; vals && k < n_sets && h->n < HELD_MAX; k++) {
        const char *label = k < 0 ? "training" : sets[k].name;
        int c = k < 0 ? (acc ? st_csv_text_col(s, "accuracy") : c_train)
                      : (acc ? sets[k].c_acc : sets[k].c_loss);
        if (c < 0)
            continue;
        int any = 0;
        for (int i = 0; i < st->n_lam; i++) {
            int n = 0;
            for (long r = 0; r < s->n_rows; r++) {
                const char *const *row = (const char *const *)s->cells + r * s->n_cols;
                if (strcmp(row[c_status], "ok") || strtod(row[c_lam], NULL) != st->lams[i])
                    continue;
                double v = strtod(row[c], NULL);
                if (isfinite(v) && (acc || v > 0.0))
                    vals[n++] = acc ? v : log10(v);
            }
            double m = n ? median(vals, n) : (double)NAN;
            h->med[h->n][i] = m;
            if (isfinite(m)) {
                any = 1;
                h->lo = m < h->lo ? m : h->lo;
                h->hi = m > h->hi ? m : h->hi;
            }
        }
        if (!any)
            continue;
        /* A long name is cut for the legend, which shares the panel. */
        if (strlen(label) > 16)
            snprintf(h->names[h->n], sizeof h->names[0], "%.13s...", label);
        else
            snprintf(h->names[h->n], sizeof h->names[0], "%s", label);
        h->cols[h->n++] = c;
    }
    free(vals);
}

/* The legend of a panel of held lines (viewport vx0..vx1 by vy0..vy1, window
 * x0..x1 by *ylo..*yhi): placed where it hides no line, *yhi raised where no
 * place is free. */
static void place_held(const struct held *h, const struct stats *st, double x0, double x1,
                       double *ylo, double *yhi, double vx0, double vx1, double vy0, double vy1,
                       struct st_legend_entry *e, struct st_legend_box *box)
{
    const double *xs[HELD_MAX], *ys[HELD_MAX];
    long m[HELD_MAX];
    memset(box, 0, sizeof *box);
    for (int k = 0; k < h->n; k++) {
        /* Colours no tensor of the first panel has: the held-out sets'. */
        int style = 1, color = st_draw_eval_color(k, &style);
        e[k] = (struct st_legend_entry){ h->names[k], color, style, 3 };
        xs[k] = st->xs;
        ys[k] = h->med[k];
        m[k] = st->n_lam;
    }
    st_legend_place(e, h->n, h->n, xs, ys, m, x0, x1, ylo, yhi, vx0, vx1, vy0, vy1, box);
}

/* The lines and their legend (the viewport and window set). */
static void draw_held(const struct held *h, const struct stats *st,
                      const struct st_legend_entry *e, const struct st_legend_box *box)
{
    plwidth(1.6);
    for (int k = 0; k < h->n; k++) {
        plcol0(e[k].color);
        pllsty(e[k].style);
        st_draw_series(st->xs, h->med[k], st->n_lam);
        pllsty(1);
        plssym(0.0, 0.9);
        for (int i = 0; i < st->n_lam; i++)
            if (isfinite(h->med[k][i]))
                plpoin(1, &st->xs[i], &h->med[k][i], 3);
    }
    plwidth(1.0);
    st_legend_draw(e, h->n, box);
}

/* Sweep page layout: the left margin of each panel, the legend's column, and
 * the share of the axes' width the first panel gets. */
#define SWEEP_VY0 0.16
#define SWEEP_VY1 0.80
#define SWEEP_PAD 12.0
#define SWEEP_FIRST 0.58

enum st_status st_figure_sweep(const char *path, enum st_fig_format fmt,
                               const struct st_csv_text *s, const struct st_fig_tensor *tensors,
                               int n_tensors, struct st_err *err)
{
    int c_lam = st_csv_text_col(s, "lambda"), c_status = st_csv_text_col(s, "status");
    int c_ok = st_csv_text_col(s, "correct");
    struct series ser;
    struct stats st;
    struct held *held = NULL; /* [2] a data sweep's losses and accuracies */
    enum st_status rc = ST_OK;
    char tmp[4300];

    if (c_lam < 0 || c_status < 0)
        return st_err_set(err, ST_ERR_ARG, "no lambda axis in the sweep: no sweep figure");
    memset(&st, 0, sizeof st);
    lambdas_of(s, c_lam, c_status, &st);
    if (series_of(s, tensors, n_tensors, &ser) != 0)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the sweep figure's data");
    if (st.n_lam == 0 || ser.n == 0) {
        series_free(&ser);
        return st_err_set(err, ST_ERR_FORMAT, "no finished runs to plot");
    }
    if (stats_of(s, &ser, c_lam, c_status, c_ok, &st) != 0 ||
        (c_ok < 0 && !(held = calloc(2, sizeof *held)))) {
        free(st.med);
        series_free(&ser);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the sweep figure's data");
    }
    /* The panels right of the update sizes: the fraction judged correct
     * (teacher-student), or the losses and, under xent, the accuracies. */
    int n_right = 1;
    if (held) {
        held_of(s, c_lam, c_status, &st, 0, &held[0]);
        held_of(s, c_lam, c_status, &st, 1, &held[1]);
        n_right = held[1].n > 0 ? 2 : 1;
    }
    const char *title = !held ? "final update size and verdict against \u03bb"
                        : n_right == 2 ? "final update size, loss and accuracy against \u03bb"
                                       : "final update size and loss against \u03bb";
    rc = st_draw_page_begin(path, fmt, ST_FIG_WIDTH, title, tmp, sizeof tmp, err);
    if (rc != ST_OK)
        goto out;
    double W = st_draw_page_w(), H = (SWEEP_VY1 - SWEEP_VY0) * st_draw_page_h();
    double x0 = st.xs[0] - 0.3, x1 = st.xs[st.n_lam - 1] + 0.3;
    double ylo[3] = { st.floor_log - 0.2, -0.05, -0.05 }, yhi[3] = { st.ymax + 0.3, 1.05, 1.05 };
    const char *ylab[3] = { "final d_init (median, min-max)", "fraction of runs judged correct",
                            "final accuracy (median)" };
    if (held && held[0].n > 0) {
        double pad = 0.1 * (held[0].hi - held[0].lo) + 0.1;
        ylo[1] = held[0].lo - pad;
        yhi[1] = held[0].hi + pad;
        ylab[1] = "final loss (median)";
    }
    struct st_ticks yt[3], xt;
    struct st_legend_entry e[ST_FIG_LEGEND_MAX], he[2][HELD_MAX];
    struct st_legend_box box, hbox[2];
    int n_e;
    double lw = legend_width(&ser, e, &n_e, &box) + SWEEP_PAD;
    /* The panels' sizes (with the margins of their ticks), then the held
     * lines' legends, which may raise a panel's top, then the ticks and sizes
     * again, twice: the legends' places are fractions of their panels. */
    double ax0[3], ax1[3], m[3];
    for (int pass = 0; pass < 3; pass++) {
        size_ticks(&st, ylo[0], yhi[0], H, &yt[0]);
        for (int p = 1; p <= n_right; p++) {
            if (held && p == 1 && held[0].n > 0) {
                st_ticks_log(&yt[p], ylo[p], yhi[p], 8);
                st_ticks_thin(&yt[p], ylo[p], yhi[p], H, 1);
            } else {
                st_ticks_linear(&yt[p], ylo[p], yhi[p], st_ticks_want(H));
            }
        }
        double aw = W - SWEEP_PAD - lw - (double)n_right * SWEEP_PAD - SWEEP_PAD;
        for (int p = 0; p <= n_right; p++) {
            m[p] = st_axis_margin(&yt[p], 1);
            aw -= m[p];
        }
        double first = n_right == 1 ? SWEEP_FIRST : 0.42;
        ax0[0] = SWEEP_PAD + m[0];
        ax1[0] = ax0[0] + first * aw;
        double at = ax1[0] + SWEEP_PAD + lw;
        for (int p = 1; p <= n_right; p++) {
            ax0[p] = at + m[p];
            ax1[p] = ax0[p] + (1.0 - first) * aw / n_right;
            at = ax1[p] + SWEEP_PAD;
        }
        if (pass == 2 || !held)
            break;
        for (int p = 1; p <= n_right; p++)
            if (held[p - 1].n > 0)
                place_held(&held[p - 1], &st, x0, x1, &ylo[p], &yhi[p], ax0[p] / W, ax1[p] / W,
                           SWEEP_VY0, SWEEP_VY1, he[p - 1], &hbox[p - 1]);
    }
    for (int panel = 0; panel <= n_right; panel++) {
        double vx0 = ax0[panel] / W, vx1 = ax1[panel] / W;
        plvpor(vx0, vx1, SWEEP_VY0, SWEEP_VY1);
        plwind(x0, x1, ylo[panel], yhi[panel]);
        lambda_ticks(&st, x0, x1, ax1[panel] - ax0[panel], &xt);
        st_draw_axes(&xt, 1, &yt[panel]);
        st_draw_xlabel("\u03bb", &xt);
        st_draw_ylabel(ylab[panel], st_axis_reach(&yt[panel]));
        if (panel && held) {
            if (held[panel - 1].n > 0)
                draw_held(&held[panel - 1], &st, he[panel - 1], &hbox[panel - 1]);
            continue;
        }
        if (panel) {
            plwidth(1.6);
            plcol0(COLOR_FIRST_LINE);
            st_draw_series(st.xs, st.frac, st.n_lam);
            plssym(0.0, 0.9);
            for (int i = 0; i < st.n_lam; i++)
                if (isfinite(st.frac[i]))
                    plpoin(1, &st.xs[i], &st.frac[i], 3);
            plwidth(1.0);
            continue;
        }
        if (st.has_zero) {
            /* The level exact zeros are drawn at, labelled "0" on the axis. */
            plcol0(COLOR_GUIDE);
            pllsty(2);
            plline(2, (const PLFLT[]){ x0, x1 }, (const PLFLT[]){ st.floor_log, st.floor_log });
            pllsty(1);
        }
        draw_lines(&ser, &st);
        /* The legend in its column right of the panel, level with its top. */
        double lx0 = (ax1[0] + SWEEP_PAD) / W;
        plvpor(lx0, lx0 + box.fw / W, SWEEP_VY1 - box.fh / st_draw_page_h(), SWEEP_VY1);
        plwind(0.0, 1.0, 0.0, 1.0);
        box.fx0 = box.fy0 = 0.0;
        box.fw = box.fh = 1.0;
        st_legend_draw(e, n_e, &box);
    }
    rc = st_draw_page_end(tmp, path, err);
out:
    free(st.med);
    free(held);
    series_free(&ser);
    return rc;
}
