/* figure_bars.c: figures of many runs as points or bars: a bar chart
 * (baselines: the loss of each trained subset) and a trade-off plot
 * (continual: forgetting against learning, one point per lambda), each with
 * a legend where it hides nothing. */
#include "draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most room the names under the bars may take, in page units, and
 * their size. */
static double bar_names(const struct st_fig_bars *b, double *scale)
{
    double w = 0.0;
    *scale = b->n > 40 ? 0.45 : b->n > 20 ? 0.55 : FONT_TICKS;
    for (int i = 0; i < b->n; i++)
        w = fmax(w, st_draw_text_w(b->names[i], *scale));
    return w;
}

enum st_status st_figure_bars(const char *path, enum st_fig_format fmt, const struct st_fig_bars *b,
                              struct st_err *err)
{
    double lo = INFINITY, hi = -INFINITY, cs;
    char tmp[4300];
    int n = b->n, any_mark = 0;
    for (int i = 0; i < n; i++)
        if (b->values[i] > 0.0 && isfinite(b->values[i])) {
            double v = log10(b->values[i]);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            any_mark |= b->marks[i];
        }
    if (!isfinite(lo))
        return st_err_set(err, ST_ERR_FORMAT, "no finite positive value to draw");
    if (b->line > 0.0)
        hi = fmax(hi, log10(b->line));
    lo = floor(lo - 0.3);
    hi = hi + 0.3;
    enum st_status st = st_draw_page_begin(path, fmt, ST_FIG_WIDTH, b->title, tmp, sizeof tmp, err);
    if (st != ST_OK)
        return st;
    double W = st_draw_page_w(), Hp = st_draw_page_h();
    /* Under the bars: their names, across while they fit a bar's width, else
     * written upward; then the axis's label. */
    double names_w = bar_names(b, &cs), ch_l = st_draw_ch(FONT_LABEL);
    int across = names_w + st_draw_ch(cs) < 0.85 * W / n;
    if (across)
        names_w = st_draw_ch(cs);
    double bottom = 0.6 * st_draw_ch(cs) + names_w + 2.2 * ch_l + 10.0;
    double vy0 = bottom / Hp, vy1 = 0.86, len = (vy1 - vy0) * Hp;
    struct st_ticks yt;
    st_ticks_log(&yt, lo, hi, 8);
    st_ticks_thin(&yt, lo, hi, len, 1);
    double vx0 = (12.0 + st_axis_margin(&yt, 1)) / W, vx1 = 0.985;
    /* The legend's place, clear of the bars (each an outline) and the level. */
    struct st_legend_entry e[3];
    int n_e = 0;
    if (b->mark_label && any_mark)
        e[n_e++] = (struct st_legend_entry){ b->mark_label, COLOR_FIRST_LINE + 1, -1, 0 };
    if (b->rest_label && any_mark)
        e[n_e++] = (struct st_legend_entry){ b->rest_label, COLOR_FIRST_LINE, -1, 0 };
    if (b->line > 0.0 && b->line_label)
        e[n_e++] = (struct st_legend_entry){ b->line_label, COLOR_GUIDE, 2, 0 };
    double *pts = malloc(((size_t)n * 8 + 4) * sizeof *pts);
    const double **xs = malloc(((size_t)n + 1) * sizeof *xs);
    const double **ys = malloc(((size_t)n + 1) * sizeof *ys);
    long *m = malloc(((size_t)n + 1) * sizeof *m);
    struct st_legend_box box = { 0 };
    double top = hi;
    if (n_e > 0 && pts && xs && ys && m) {
        for (int i = 0; i < n; i++) {
            double v = b->values[i] > 0.0 && isfinite(b->values[i]) ? log10(b->values[i]) : lo;
            double *px = pts + (size_t)i * 8, *py = px + 4;
            px[0] = px[1] = i + 0.15;
            px[2] = px[3] = i + 0.85;
            py[0] = py[3] = lo;
            py[1] = py[2] = v;
            xs[i] = px;
            ys[i] = py;
            m[i] = 4;
        }
        int k = n;
        if (b->line > 0.0) {
            double *px = pts + (size_t)n * 8, *py = px + 2;
            px[0] = 0.0;
            px[1] = n;
            py[0] = py[1] = log10(b->line);
            xs[k] = px;
            ys[k] = py;
            m[k++] = 2;
        }
        st_legend_place(e, n_e, k, xs, ys, m, 0.0, (double)n, &lo, &top, vx0, vx1, vy0, vy1, &box);
    }
    plvpor(vx0, vx1, vy0, vy1);
    plwind(0.0, (double)n, lo, top);
    for (int i = 0; i < n; i++) {
        if (!(b->values[i] > 0.0) || !isfinite(b->values[i]))
            continue;
        double v = log10(b->values[i]);
        PLFLT bx[4] = { i + 0.15, i + 0.85, i + 0.85, i + 0.15 };
        PLFLT by[4] = { lo, lo, v, v };
        plcol0(b->marks[i] ? COLOR_FIRST_LINE + 1 : COLOR_FIRST_LINE);
        plfill(4, bx, by);
    }
    if (b->line > 0.0) {
        plcol0(COLOR_GUIDE);
        pllsty(2);
        plwidth(1.6);
        plline(2, (const PLFLT[]){ 0.0, (double)n },
               (const PLFLT[]){ log10(b->line), log10(b->line) });
        pllsty(1);
        plwidth(1.0);
    }
    st_ticks_log(&yt, lo, top, 8);
    st_ticks_thin(&yt, lo, top, len, 1);
    st_draw_axes(NULL, 0, &yt);
    st_draw_ylabel(b->ylabel, st_axis_reach(&yt));
    plschr(0.0, cs);
    for (int i = 0; i < n; i++) {
        if (across)
            plmtex("b", 1.1, (i + 0.5) / n, 0.5, b->names[i]);
        else /* vertical text, right-justified just under the axis */
            plmtex("bv", 0.6, (i + 0.5) / n, 1.0, b->names[i]);
    }
    if (b->xlabel) {
        plschr(0.0, FONT_LABEL);
        plmtex("b", (0.6 * st_draw_ch(cs) + names_w) / ch_l + 1.1, 0.5, 0.5, b->xlabel);
        st_draw_describe("x axis", b->xlabel);
    }
    if (n_e > 0 && pts && xs && ys && m)
        st_legend_draw(e, n_e, &box);
    free(pts);
    free(xs);
    free(ys);
    free(m);
    return st_draw_page_end(tmp, path, err);
}

/* The window of a log axis over values v (log10 lo..hi of the positive
 * ones): a little room around them, and the floor non-positive values sit
 * on. */
static void log_window(double lo, double hi, double *w0, double *w1, double *floor_at)
{
    double pad = fmax(0.12, 0.06 * (hi - lo));
    *floor_at = lo - 3.0 * pad;
    *w0 = lo - pad;
    *w1 = hi + pad;
}

enum st_status st_figure_tradeoff(const char *path, enum st_fig_format fmt, const char *title,
                                  int n_series, const char *const *names, const double *const *x,
                                  const double *const *y, const int *counts, const char *xlabel,
                                  const char *ylabel, struct st_err *err)
{
    static const int markers[] = { 4, 2, 5, 6, 7, 3 }; /* circle, +, x, square, triangle, * */
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int floor_x = 0, floor_y = 0;
    char tmp[4300];
    for (int s = 0; s < n_series; s++)
        for (int i = 0; i < counts[s]; i++) {
            if (x[s][i] > 0.0 && isfinite(x[s][i])) {
                xlo = fmin(xlo, log10(x[s][i]));
                xhi = fmax(xhi, log10(x[s][i]));
            } else {
                floor_x = 1;
            }
            if (y[s][i] > 0.0 && isfinite(y[s][i])) {
                ylo = fmin(ylo, log10(y[s][i]));
                yhi = fmax(yhi, log10(y[s][i]));
            } else {
                floor_y = 1;
            }
        }
    if (!isfinite(xlo) || !isfinite(ylo))
        return st_err_set(err, ST_ERR_FORMAT, "no finite positive point to draw");
    /* Non-positive values sit on a floor below the rest. */
    double x0, x1, y0, y1, xf, yf;
    log_window(xlo, xhi, &x0, &x1, &xf);
    log_window(ylo, yhi, &y0, &y1, &yf);
    if (floor_x)
        x0 = xf - 0.3 * (xlo - xf);
    if (floor_y)
        y0 = yf - 0.3 * (ylo - yf);
    enum st_status st = st_draw_page_begin(path, fmt, ST_FIG_WIDTH * 2 / 3, title, tmp, sizeof tmp,
                                           err);
    if (st != ST_OK)
        return st;
    double W = st_draw_page_w(), Hp = st_draw_page_h();
    double vy0 = 0.16, vy1 = 0.82;
    struct st_ticks xt, yt;
    st_ticks_log(&yt, y0, y1, 8);
    st_ticks_thin(&yt, y0, y1, (vy1 - vy0) * Hp, 1);
    double vx0 = (12.0 + st_axis_margin(&yt, 1)) / W, vx1 = 0.97;
    /* The points as the legend must avoid them. */
    double px[8][256], py[8][256];
    const double *xs[8], *ys[8];
    long m[8];
    struct st_legend_entry e[8];
    int ns = n_series < 8 ? n_series : 8;
    for (int s = 0; s < ns; s++) {
        int n = counts[s] < 256 ? counts[s] : 256;
        for (int i = 0; i < n; i++) {
            px[s][i] = x[s][i] > 0.0 && isfinite(x[s][i]) ? log10(x[s][i]) : xf;
            py[s][i] = y[s][i] > 0.0 && isfinite(y[s][i]) ? log10(y[s][i]) : yf;
        }
        xs[s] = px[s];
        ys[s] = py[s];
        m[s] = n;
        e[s] = (struct st_legend_entry){ names[s], COLOR_FIRST_LINE + s % 10, n > 1 ? 1 : 0,
                                         markers[s % 6] };
    }
    struct st_legend_box box = { 0 };
    st_legend_place(e, ns, ns, xs, ys, m, x0, x1, &y0, &y1, vx0, vx1, vy0, vy1, &box);
    plvpor(vx0, vx1, vy0, vy1);
    plwind(x0, x1, y0, y1);
    st_ticks_log(&xt, x0, x1, 8);
    st_ticks_thin(&xt, x0, x1, (vx1 - vx0) * W, 0);
    st_ticks_log(&yt, y0, y1, 8);
    st_ticks_thin(&yt, y0, y1, (vy1 - vy0) * Hp, 1);
    if (floor_x && xt.n < ST_MAX_TICKS) {
        memmove(&xt.v[1], &xt.v[0], (size_t)xt.n * sizeof xt.v[0]);
        memmove(&xt.lab[1], &xt.lab[0], (size_t)xt.n * sizeof xt.lab[0]);
        xt.v[0] = xf;
        snprintf(xt.lab[0], sizeof xt.lab[0], "0");
        xt.n++;
    }
    if (floor_y && yt.n < ST_MAX_TICKS) {
        memmove(&yt.v[1], &yt.v[0], (size_t)yt.n * sizeof yt.v[0]);
        memmove(&yt.lab[1], &yt.lab[0], (size_t)yt.n * sizeof yt.lab[0]);
        yt.v[0] = yf;
        snprintf(yt.lab[0], sizeof yt.lab[0], "0");
        yt.n++;
    }
    st_draw_axes(&xt, 1, &yt);
    st_draw_xlabel(xlabel, &xt);
    st_draw_ylabel(ylabel, st_axis_reach(&yt));
    for (int s = ns - 1; s >= 0; s--) {
        plcol0(COLOR_FIRST_LINE + s % 10);
        plwidth(1.6);
        if (m[s] > 1)
            plline((PLINT)m[s], px[s], py[s]);
        plssym(0.0, 1.1);
        plpoin((PLINT)m[s], px[s], py[s], markers[s % 6]);
    }
    plwidth(1.0);
    st_legend_draw(e, ns, &box);
    return st_draw_page_end(tmp, path, err);
}
