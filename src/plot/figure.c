/* figure.c: PLplot drawing of the run figure. Colors follow matplotlib's
 * default cycle, so the figures read like the seed's; weights come first
 * (w1, w2, ...), then biases, as in the seed's legend. PLplot exits the
 * process on fatal errors, so everything that can fail (the output file, the
 * data) is checked before plinit(). */
#define _POSIX_C_SOURCE 200809L
#include "figure.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const fmt_names[] = { "png", "svg", "pdf" };
static const char *const fmt_devices[] = { "pngcairo", "svgcairo", "pdfcairo" };

const char *st_fig_format_name(enum st_fig_format f)
{
    return (unsigned)f < 3 ? fmt_names[f] : NULL;
}

int st_fig_format_parse(const char *s, enum st_fig_format *f)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, fmt_names[i])) {
            *f = (enum st_fig_format)i;
            return 0;
        }
    return -1;
}

/* matplotlib's tab10 cycle: blue, orange, green, red, purple, brown, pink,
 * gray, olive, cyan. cmap0 index 0 is the background, 1 the axes (black). */
static const unsigned char tab10[10][3] = {
    { 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 },  { 214, 39, 40 },  { 148, 103, 189 },
    { 140, 86, 75 },  { 227, 119, 194 }, { 127, 127, 127 }, { 188, 189, 34 }, { 23, 190, 207 },
};
#define COLOR_AXES 1
#define COLOR_FIRST_LINE 2
#define COLOR_FRAME 12 /* light gray legend frame */
#define COLOR_BAND 22  /* translucent copies of the line colours (sweep bands) */

/* Text sizes relative to PLplot's default character height; tuned on the
 * 1600 x 530 page so that they read like the seed's figures. */
#define FONT_TICKS 0.62
#define FONT_LABEL 0.80
#define FONT_LEGEND 0.62
#define FONT_TITLE 1.05
#define FONT_PANEL_TITLE 0.74

/* Series of one panel. */
struct panel {
    const char *title, *ylabel;
    int log_y;
    int n_lines;
    const double *y[64];
    const char *names[64];
    int colors[64];
};

/* Axis labels: "%g" reads like matplotlib's (0.02, 0.125, 4000). */
static void label_linear(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data)
{
    (void)axis;
    (void)data;
    if (fabs(value) < 1e-12)
        value = 0.0;
    snprintf(label, (size_t)length, "%g", value);
}

static void range(const struct panel *p, long n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int s = 0; s < p->n_lines; s++)
        for (long i = 0; i < n; i++) {
            double v = p->y[s][i];
            if (!isfinite(v))
                continue;
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
    if (!isfinite(*lo)) {
        *lo = 0.0;
        *hi = 1.0;
    }
    if (*hi - *lo < 1e-12 * (fabs(*hi) + 1e-30)) {
        double pad = *hi != 0.0 ? 0.05 * fabs(*hi) : 1.0;
        *lo -= pad;
        *hi += pad;
    }
    double m = 0.05 * (*hi - *lo); /* matplotlib's default margins */
    *lo -= m;
    *hi += m;
}

/* Where the legend goes: of the candidate corners and sides (matplotlib's
 * "best" order), the one whose box covers the fewest data points. The box
 * size is estimated from the number of entries. */
static PLINT legend_position(const struct panel *p, const double *x, long n, double x0,
                             double x1, double ylo, double yhi)
{
    static const PLINT cand[] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT,    PL_POSITION_TOP | PL_POSITION_LEFT,
        PL_POSITION_BOTTOM | PL_POSITION_LEFT,  PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
        PL_POSITION_RIGHT,                      PL_POSITION_LEFT,
    };
    double bw = 0.2 * (x1 - x0), bh = (0.075 * p->n_lines + 0.04) * (yhi - ylo);
    long best_count = -1;
    PLINT best = cand[0];
    long stride = n > 2000 ? n / 2000 : 1;
    for (size_t c = 0; c < sizeof cand / sizeof cand[0]; c++) {
        PLINT pos = cand[c];
        double bx0 = pos & PL_POSITION_LEFT ? x0 : x1 - bw;
        double by0 = pos & PL_POSITION_TOP      ? yhi - bh
                     : pos & PL_POSITION_BOTTOM ? ylo
                                                : 0.5 * (ylo + yhi) - 0.5 * bh;
        long count = 0;
        for (int s = 0; s < p->n_lines; s++)
            for (long i = 0; i < n; i += stride) {
                double v = p->y[s][i];
                count += x[i] >= bx0 && x[i] <= bx0 + bw && v >= by0 && v <= by0 + bh;
            }
        if (best_count < 0 || count < best_count) {
            best_count = count;
            best = pos;
        }
    }
    return best;
}

/* plline over each run of finite points, so NaN/Inf (a diverged run's last
 * row, a log of zero) leave a gap instead of a broken path. */
/* Keeps, of every run of about n/buckets consecutive points, the first and
 * the extremes in their order: a line through 10,000 steps looks the same at
 * the figure's resolution with a fraction of the points (an SVG or PDF stays
 * small). NaN points are kept, so gaps stay where they were. Returns the count
 * written to xo, yo (room for 4 * buckets + 4 points). */
static long decimate(const double *x, const double *y, long n, long buckets, double *xo,
                     double *yo)
{
    long m = 0, per = (n + buckets - 1) / buckets;
    for (long s = 0; s < n; s += per) {
        long e = s + per < n ? s + per : n, lo = s, hi = s, first = s, last = e - 1;
        for (long i = s; i < e; i++) {
            if (!isfinite(y[i])) {
                lo = hi = i; /* keep the gap */
                break;
            }
            if (y[i] < y[lo])
                lo = i;
            if (y[i] > y[hi])
                hi = i;
        }
        long keep[4] = { first, lo < hi ? lo : hi, lo < hi ? hi : lo, last };
        for (int k = 0; k < 4; k++)
            if (k == 0 || keep[k] != keep[k - 1]) {
                xo[m] = x[keep[k]];
                yo[m] = y[keep[k]];
                m++;
            }
    }
    return m;
}

static void draw_series(const double *x, const double *y, long n)
{
    long i = 0;
    while (i < n) {
        while (i < n && !isfinite(y[i]))
            i++;
        long start = i;
        while (i < n && isfinite(y[i]))
            i++;
        if (i - start == 1)
            plline(2, (const PLFLT[]){ x[start], x[start] }, (const PLFLT[]){ y[start], y[start] });
        else if (i > start)
            plline((PLINT)(i - start), x + start, y + start);
    }
}

static void draw_panel(const struct panel *p, const double *x, long n, double vx0, double vx1,
                       double vy0, double vy1, int legend)
{
    double x0 = x[0], x1 = x[n - 1], ylo, yhi;
    double dx = x1 > x0 ? 0.05 * (x1 - x0) : 1.0;
    x0 -= dx;
    x1 += dx;
    range(p, n, &ylo, &yhi);

    plvpor(vx0, vx1, vy0, vy1);
    plwind(x0, x1, ylo, yhi);
    plcol0(COLOR_AXES);
    plwidth(1.0);
    /* Outward ticks without minor ones on linear axes, as matplotlib draws them. */
    plschr(0.0, FONT_TICKS);
    plslabelfunc(label_linear, NULL);
    plbox("bc", 0.0, 0, "bc", 0.0, 0); /* the frame */
    plbox("bntio", 0.0, 0, p->log_y ? "bnstilv" : "bntivo", 0.0, 0); /* ticks: bottom, left */
    plslabelfunc(NULL, NULL);
    plschr(0.0, FONT_LABEL);
    plmtex("b", 2.7, 0.5, 0.5, "training steps");
    plmtex("l", p->log_y ? 3.6 : 4.4, 0.5, 0.5, p->ylabel);
    if (p->title) {
        plschr(0.0, FONT_PANEL_TITLE);
        plmtex("t", 0.7, 0.5, 0.5, p->title);
    }
    plwidth(1.6);
    {
        enum { BUCKETS = 800 }; /* about two per pixel column of a panel */
        static double xd[4 * BUCKETS + 4], yd[4 * BUCKETS + 4];
        for (int s = 0; s < p->n_lines; s++) {
            plcol0(p->colors[s]);
            if (n > 4 * BUCKETS) {
                long m = decimate(x, p->y[s], n, BUCKETS, xd, yd);
                draw_series(xd, yd, m);
            } else {
                draw_series(x, p->y[s], n);
            }
        }
    }
    if (legend && p->n_lines > 0) {
        PLINT opt[64], lcol[64], lsty[64], tcol[64];
        PLFLT lw[64], w, h;
        for (int s = 0; s < p->n_lines; s++) {
            opt[s] = PL_LEGEND_LINE;
            lcol[s] = p->colors[s];
            lsty[s] = 1;
            lw[s] = 1.6;
            tcol[s] = COLOR_AXES;
        }
        PLINT pos = legend_position(p, x, n, x0, x1, ylo, yhi);
        plschr(0.0, FONT_LEGEND);
        pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_INSIDE | pos,
                 0.015, 0.02, 0.06, 0, COLOR_FRAME, 1, 0, 0, p->n_lines, opt, 0.6, FONT_LEGEND,
                 1.6, 0.0, tcol,
                 (const char *const *)p->names, NULL, NULL, NULL, NULL, lcol, lsty, lw, NULL,
                 NULL, NULL, NULL);
    }
}

/* Opens a PNG/SVG/PDF page of the given width (height ST_FIG_HEIGHT) on a
 * temporary file beside path, with the colours set and the page title drawn.
 * PLplot exits the process on a file it cannot open, so the file is tried
 * first. extra_colors reserves room in cmap0 for translucent bands. */
static enum st_status page_begin(const char *path, enum st_fig_format fmt, int width,
                                 const char *title, int extra_colors, char *tmp, size_t size,
                                 struct st_err *err)
{
    FILE *probe;
    snprintf(tmp, size, "%s.tmp.%ld", path, (long)getpid());
    probe = fopen(tmp, "wb");
    if (!probe)
        return st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fclose(probe);
    plsdev(fmt_devices[fmt]);
    plsfnam(tmp);
    plspage(0.0, 0.0, width, ST_FIG_HEIGHT, 0, 0);
    if (extra_colors)
        plscmap0n(40);
    plscolbg(255, 255, 255);
    plscol0(COLOR_AXES, 0, 0, 0);
    for (int i = 0; i < 10; i++) {
        plscol0(COLOR_FIRST_LINE + i, tab10[i][0], tab10[i][1], tab10[i][2]);
        if (extra_colors)
            plscol0a(COLOR_BAND + i, tab10[i][0], tab10[i][1], tab10[i][2], 0.18);
    }
    plscol0(COLOR_FRAME, 204, 204, 204);
    plsetopt("quiet", "");
    plinit();
    pladv(0);
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(COLOR_AXES);
    plschr(0.0, FONT_TITLE);
    plmtex("t", -1.5, 0.5, 0.5, title);
    return ST_OK;
}

/* Finishes the page and moves it over path. */
static enum st_status page_end(const char *tmp, const char *path, struct st_err *err)
{
    plend();
    if (rename(tmp, path) != 0) {
        enum st_status st = st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path,
                                       strerror(errno));
        remove(tmp);
        return st;
    }
    return ST_OK;
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
    plslabelfunc(label_linear, NULL);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    plbox("", 0.0, 0, "bntivo", 0.0, 0);
    plslabelfunc(NULL, NULL);
    for (int i = 0; i < n; i++)
        plmtex("b", 1.4, (i + 0.5) / n, 0.5, names[i]);
    plschr(0.0, FONT_LABEL);
    plmtex("t", 0.6, 0.5, 0.5, "share of the update, \u03a3|\u0394|");
    plmtex("b", 2.7, 0.5, 0.5, "tensor");
}

enum st_status st_figure_run(const char *path, enum st_fig_format fmt, const struct st_csv *m,
                             const char *title, int rank_panel, const double *shares,
                             struct st_err *err)
{
    enum st_status st = ST_OK;
    int c_step = st_csv_col(m, "step"), c_mse = st_csv_col(m, "mse");
    int xent = c_mse < 0 && st_csv_col(m, "xent") >= 0; /* a --loss xent run */
    long n = m->n_rows;
    double *cols = NULL;
    struct panel loss = { NULL, xent ? "loss (cross-entropy)" : "loss (mse)", 1, 0, { 0 }, { 0 },
                          { 0 } };
    struct panel init = { "distance(trained student, initial student)", "L1 distance", 0, 0,
                          { 0 }, { 0 }, { 0 } };
    struct panel teach = { "distance(trained student, teacher)", "L1 distance", 0, 0,
                           { 0 }, { 0 }, { 0 } };
    struct panel rank = { "rank of each weight update", "numerical rank", 0, 0,
                          { 0 }, { 0 }, { 0 } };
    /* A run without a teacher (--task data) shows its evaluation set's loss,
     * the forgetting curve, where a teacher run shows d_teacher. */
    int c_eval = st_csv_col(m, xent ? "eval_xent" : "eval_mse"), has_teacher = 0;
    struct panel eval = { "loss on the evaluation set", xent ? "cross-entropy" : "mse", 1, 0,
                          { 0 }, { 0 }, { 0 } };
    double *rx = NULL, *ry = NULL;
    long nr = 0;
    int tensor_cols[2][64], n_t = 0;
    char tmp[4200];

    if (xent)
        c_mse = st_csv_col(m, "xent");
    if (c_step < 0 || c_mse < 0)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no 'step' column, or neither 'mse' nor "
                          "'xent'");
    if (n < 1)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no rows to plot");
    /* Tensors in legend order: weights w1, w2, ..., then biases b1, b2, ... */
    for (int kind = 0; kind < 2; kind++)
        for (int c = 0; c < m->n_cols && n_t < 64; c++) {
            const char *nm = m->names[c];
            if (strncmp(nm, "d_init_", 7) || nm[7] != (kind ? 'b' : 'w'))
                continue;
            char other[64];
            snprintf(other, sizeof other, "d_teacher_%s", nm + 7);
            tensor_cols[0][n_t] = c;
            tensor_cols[1][n_t] = st_csv_col(m, other);
            init.names[n_t] = teach.names[n_t] = nm + 7;
            n_t++;
        }
    if (n_t == 0)
        return st_err_set(err, ST_ERR_FORMAT, "metrics: no d_init_<tensor> columns");

    for (int t = 0; t < n_t; t++)
        has_teacher |= tensor_cols[1][t] >= 0;
    /* Column-major copies: step, log10(mse), then d_init and d_teacher per
     * tensor, then log10 of the evaluation loss. */
    cols = malloc((size_t)n * (size_t)(3 + 2 * n_t) * sizeof *cols);
    if (!cols)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
    double *x = cols, *ly = cols + n;
    for (long i = 0; i < n; i++) {
        double v = st_csv_at(m, i, c_mse);
        x[i] = st_csv_at(m, i, c_step);
        /* log axis: non-positive or non-finite values become gaps at the floor */
        ly[i] = v > 0.0 && isfinite(v) ? log10(v) : (double)NAN;
    }
    loss.n_lines = 1;
    loss.y[0] = ly;
    loss.colors[0] = COLOR_FIRST_LINE;
    for (int t = 0; t < n_t; t++) {
        double *a = cols + (size_t)n * (size_t)(2 + 2 * t), *b = a + n;
        for (long i = 0; i < n; i++) {
            a[i] = st_csv_at(m, i, tensor_cols[0][t]);
            b[i] = tensor_cols[1][t] >= 0 ? st_csv_at(m, i, tensor_cols[1][t]) : (double)NAN;
        }
        init.y[t] = a;
        teach.y[t] = b;
        init.colors[t] = teach.colors[t] = COLOR_FIRST_LINE + t % 10;
    }
    init.n_lines = teach.n_lines = n_t;
    if (!has_teacher && c_eval >= 0) {
        double *e = cols + (size_t)n * (size_t)(2 + 2 * n_t);
        for (long i = 0; i < n; i++) {
            double v = st_csv_at(m, i, c_eval);
            e[i] = v > 0.0 && isfinite(v) ? log10(v) : (double)NAN;
        }
        eval.n_lines = 1;
        eval.y[0] = e;
        eval.colors[0] = COLOR_FIRST_LINE + 1;
    }

    /* The rank panel: rows where the spectrum was computed (others are nan). */
    if (rank_panel) {
        int rc[64], n_w = 0;
        for (int c = 0; c < m->n_cols && n_w < 64; c++)
            if (!strncmp(m->names[c], "rank_", 5))
                rc[n_w++] = c;
        if (n_w > 0) {
            rx = malloc((size_t)n * (size_t)(1 + n_w) * sizeof *rx);
            if (!rx) {
                free(cols);
                return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the figure's data");
            }
            ry = rx + n;
            for (long i = 0; i < n; i++) {
                if (!isfinite(st_csv_at(m, i, rc[0])))
                    continue;
                rx[nr] = st_csv_at(m, i, c_step);
                for (int w = 0; w < n_w; w++)
                    ry[(size_t)w * (size_t)n + (size_t)nr] = st_csv_at(m, i, rc[w]);
                nr++;
            }
            for (int w = 0; w < n_w; w++) {
                rank.y[w] = ry + (size_t)w * (size_t)n;
                rank.names[w] = m->names[rc[w]] + 5;
                rank.colors[w] = COLOR_FIRST_LINE + w % 10; /* weights' colors, as above */
            }
            rank.n_lines = n_w;
        }
        if (nr == 0)
            rank_panel = 0;
    }

    /* A run without a teacher: loss, d_init, then the evaluation loss and
     * the update's shares where they exist. */
    int share_panel = !has_teacher && shares != NULL;
    double legend_shares[64];
    if (share_panel) {
        /* shares come in metrics order (w1, b1, w2, ...); the legend lists
         * weights first */
        int c0 = tensor_cols[0][0];
        for (int t = 1; t < n_t; t++)
            c0 = tensor_cols[0][t] < c0 ? tensor_cols[0][t] : c0;
        for (int t = 0; t < n_t; t++)
            legend_shares[t] = shares[tensor_cols[0][t] - c0];
    }
    if (share_panel)
        rank_panel = 0;
    int four = rank_panel || (share_panel && eval.n_lines);
    /* A fourth panel widens the page, so every panel keeps the seed's size. */
    st = page_begin(path, fmt, four ? ST_FIG_WIDTH * 4 / 3 : ST_FIG_WIDTH, title, 0, tmp,
                    sizeof tmp, err);
    if (st != ST_OK)
        goto out;
    /* Three panels; the left margins leave room for the tick labels. */
    if (share_panel && eval.n_lines) {
        draw_panel(&loss, x, n, 0.05, 0.235, 0.14, 0.80, 0);
        draw_panel(&init, x, n, 0.30, 0.485, 0.14, 0.80, 1);
        draw_panel(&eval, x, n, 0.55, 0.735, 0.14, 0.80, 0);
        draw_shares(init.names, legend_shares, n_t, 0.795, 0.98, 0.14, 0.80);
    } else if (share_panel) {
        draw_panel(&loss, x, n, 0.055, 0.315, 0.14, 0.80, 0);
        draw_panel(&init, x, n, 0.395, 0.655, 0.14, 0.80, 1);
        draw_shares(init.names, legend_shares, n_t, 0.735, 0.995 - 0.01, 0.14, 0.80);
    } else if (rank_panel) {
        draw_panel(&loss, x, n, 0.05, 0.235, 0.14, 0.80, 0);
        draw_panel(&init, x, n, 0.30, 0.485, 0.14, 0.80, 1);
        draw_panel(&teach, x, n, 0.55, 0.735, 0.14, 0.80, 1);
        draw_panel(&rank, rx, nr, 0.795, 0.98, 0.14, 0.80, 1);
    } else {
        draw_panel(&loss, x, n, 0.055, 0.315, 0.14, 0.80, 0);
        draw_panel(&init, x, n, 0.395, 0.655, 0.14, 0.80, 1);
        if (has_teacher)
            draw_panel(&teach, x, n, 0.735, 0.995 - 0.01, 0.14, 0.80, 1);
        else if (eval.n_lines)
            draw_panel(&eval, x, n, 0.735, 0.995 - 0.01, 0.14, 0.80, 0);
    }
    st = page_end(tmp, path, err);
out:
    free(cols);
    free(rx);
    return st;
}

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

enum st_status st_figure_sweep(const char *path, enum st_fig_format fmt,
                               const struct st_csv_text *s, struct st_err *err)
{
    int c_lam = st_csv_text_col(s, "lambda"), c_status = st_csv_text_col(s, "status");
    int c_ok = st_csv_text_col(s, "correct");
    double lams[SWEEP_MAX_LAMBDAS];
    int n_lam = 0, tcols[64], n_t = 0;
    enum st_status st = ST_OK;
    char tmp[4300];

    if (c_lam < 0 || c_status < 0 || c_ok < 0)
        return st_err_set(err, ST_ERR_ARG, "no lambda axis in the sweep: no sweep figure");
    for (int kind = 0; kind < 2; kind++)
        for (int c = 0; c < s->n_cols && n_t < 64; c++)
            if (!strncmp(s->names[c], "d_init_", 7) && s->names[c][7] == (kind ? 'b' : 'w'))
                tcols[n_t++] = c;
    for (long r = 0; r < s->n_rows; r++) {
        if (strcmp(s->cells[r * s->n_cols + c_status], "ok"))
            continue;
        double l = strtod(s->cells[r * s->n_cols + c_lam], NULL);
        int seen = 0;
        for (int i = 0; i < n_lam; i++)
            seen |= lams[i] == l;
        if (!seen && n_lam < SWEEP_MAX_LAMBDAS)
            lams[n_lam++] = l;
    }
    if (n_lam == 0 || n_t == 0)
        return st_err_set(err, ST_ERR_FORMAT, "no finished runs to plot");
    qsort(lams, (size_t)n_lam, sizeof *lams, cmp_double);

    /* x: log10(lambda); lambda = 0 one decade left of the smallest positive. */
    double first_pos = 0.0;
    for (int i = 0; i < n_lam; i++)
        if (lams[i] > 0.0) {
            first_pos = lams[i];
            break;
        }
    double xs[SWEEP_MAX_LAMBDAS];
    for (int i = 0; i < n_lam; i++)
        xs[i] = lams[i] > 0.0 ? log10(lams[i]) : (first_pos > 0.0 ? log10(first_pos) - 1.0 : 0.0);

    /* Per lambda and tensor: median, min, max of log10 d_init (zeros at a floor). */
    size_t cells = (size_t)n_lam * (size_t)n_t;
    double *med = malloc(3 * cells * sizeof *med), *lo = med + cells, *hi = lo + cells;
    double *vals = malloc((size_t)s->n_rows * sizeof *vals), frac[SWEEP_MAX_LAMBDAS];
    if (!med || !vals) {
        free(med);
        free(vals);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the sweep figure's data");
    }
    double min_pos = INFINITY, ymax = -INFINITY;
    for (long r = 0; r < s->n_rows; r++)
        for (int t = 0; t < n_t; t++) {
            double v = strtod(s->cells[r * s->n_cols + tcols[t]], NULL);
            if (v > 0.0 && v < min_pos)
                min_pos = v;
        }
    double floor_log = isfinite(min_pos) ? log10(min_pos) - 0.5 : -8.0;
    int has_zero = 0;
    for (int i = 0; i < n_lam; i++) {
        int n_ok = 0, n_correct = 0;
        for (int t = 0; t < n_t; t++) {
            int n = 0;
            for (long r = 0; r < s->n_rows; r++) {
                const char *const *row = (const char *const *)s->cells + r * s->n_cols;
                if (strcmp(row[c_status], "ok") || strtod(row[c_lam], NULL) != lams[i])
                    continue;
                double v = strtod(row[tcols[t]], NULL);
                if (isnan(v))
                    continue;
                vals[n++] = v > 0.0 ? log10(v) : floor_log;
                has_zero |= v == 0.0;
                if (t == 0) {
                    n_ok++;
                    n_correct += !strcmp(row[c_ok], "1");
                }
            }
            size_t k = (size_t)t * (size_t)n_lam + (size_t)i;
            if (n == 0) {
                med[k] = lo[k] = hi[k] = NAN;
                continue;
            }
            med[k] = median(vals, n);
            lo[k] = vals[0];
            hi[k] = vals[n - 1];
            ymax = hi[k] > ymax ? hi[k] : ymax;
        }
        frac[i] = n_ok ? (double)n_correct / n_ok : (double)NAN;
    }

    st = page_begin(path, fmt, ST_FIG_WIDTH, "final update size and verdict against \u03bb", 1,
                    tmp, sizeof tmp, err);
    if (st != ST_OK)
        goto out;

    double x0 = xs[0] - 0.3, x1 = xs[n_lam - 1] + 0.3;
    for (int panel = 0; panel < 2; panel++) {
        double vx0 = panel ? 0.62 : 0.07, vx1 = panel ? 0.97 : 0.52;
        double ylo = panel ? -0.05 : floor_log - 0.2, yhi = panel ? 1.05 : ymax + 0.3;
        plvpor(vx0, vx1, 0.16, 0.80);
        plwind(x0, x1, ylo, yhi);
        plcol0(COLOR_AXES);
        plwidth(1.0);
        plschr(0.0, FONT_TICKS);
        plbox("bc", 0.0, 0, "bc", 0.0, 0);
        plbox("", 0.0, 0, panel ? "bntiv" : "bnstilv", 0.0, 0);
        /* x labels: each lambda when there are few, else the decades; "0" for
         * lambda = 0 (left of the log axis). */
        for (int i = 0; i < n_lam; i++) {
            char lab[32];
            if (n_lam <= 8 || lams[i] == 0.0) {
                snprintf(lab, sizeof lab, "%g", lams[i]);
                plmtex("b", 1.4, (xs[i] - x0) / (x1 - x0), 0.5, lab);
            }
            plline(2, (const PLFLT[]){ xs[i], xs[i] },
                   (const PLFLT[]){ ylo, ylo + 0.015 * (yhi - ylo) });
        }
        if (n_lam > 8)
            for (int d = (int)ceil(first_pos > 0.0 ? log10(first_pos) : x0); d <= (int)floor(x1);
                 d++) {
                char lab[32];
                snprintf(lab, sizeof lab, "1e%d", d);
                plmtex("b", 1.4, ((double)d - x0) / (x1 - x0), 0.5, lab);
                plline(2, (const PLFLT[]){ (double)d, (double)d },
                       (const PLFLT[]){ ylo, ylo + 0.04 * (yhi - ylo) });
            }
        if (!panel && has_zero) {
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
            draw_series(xs, frac, n_lam);
            plstring(n_lam, xs, frac, "#(728)");
            continue;
        }
        for (int t = 0; t < n_t; t++) {
            const double *m = med + (size_t)t * (size_t)n_lam;
            const double *l = lo + (size_t)t * (size_t)n_lam, *h = hi + (size_t)t * (size_t)n_lam;
            double px[2 * SWEEP_MAX_LAMBDAS], py[2 * SWEEP_MAX_LAMBDAS];
            int np = 0;
            for (int i = 0; i < n_lam; i++)
                if (isfinite(l[i])) {
                    px[np] = xs[i];
                    py[np++] = l[i];
                }
            for (int i = n_lam - 1; i >= 0; i--)
                if (isfinite(h[i])) {
                    px[np] = xs[i];
                    py[np++] = h[i];
                }
            if (np >= 3) {
                plcol0(COLOR_BAND + t % 10);
                plfill(np, px, py);
            }
            plcol0(COLOR_FIRST_LINE + t % 10);
            draw_series(xs, m, n_lam);
            plstring(n_lam, xs, m, "#(728)");
        }
        /* Legend: tensor names in their colours, top right. */
        plschr(0.0, FONT_LEGEND);
        for (int t = 0; t < n_t; t++) {
            plcol0(COLOR_FIRST_LINE + t % 10);
            plmtex("rv", 0.8, 0.95 - 0.07 * t, 0.0, s->names[tcols[t]] + 7);
        }
    }
    st = page_end(tmp, path, err);
out:
    free(med);
    free(vals);
    return st;
}

enum st_status st_figure_bars(const char *path, enum st_fig_format fmt, const char *const *names,
                              const double *values, const int *marks, int n, const char *title,
                              struct st_err *err)
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
    enum st_status st = page_begin(path, fmt, ST_FIG_WIDTH, title, 0, tmp, sizeof tmp, err);
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
    plmtex("l", 3.6, 0.5, 0.5, "loss (mse)");
    return page_end(tmp, path, err);
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
    enum st_status st = page_begin(path, fmt, ST_FIG_WIDTH * 2 / 3, title, 0, tmp, sizeof tmp,
                                   err);
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
    return page_end(tmp, path, err);
}
