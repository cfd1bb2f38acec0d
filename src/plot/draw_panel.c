/* draw_panel.c: a panel of lines against the steps, and legends placed
 * where they hide no line. A legend's size is known before it is drawn
 * (draw.c measures its text), so each place can be tested against every
 * segment of every line; where no place is free the axis grows at the top
 * until the legend fits above the lines. */
#include "draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- legends ---- */

/* A legend's measures in character heights at FONT_LEGEND: its padding, a
 * row, a line sample and the gap after it, the gap between columns, and the
 * distance from the axes. */
#define PAD 0.45
#define ROW 1.5
#define SAMPLE 2.0
#define SAMPLE_GAP 0.6
#define COL_GAP 1.2
#define INSET 0.5

/* The box of n entries in ncol columns (row-major), page units. */
void st_legend_measure(const struct st_legend_entry *e, int n, int ncol, struct st_legend_box *b,
                       double *w, double *h)
{
    double ch = st_draw_ch(FONT_LEGEND);
    b->ncol = ncol;
    b->rows = (n + ncol - 1) / ncol;
    *w = 2.0 * PAD * ch + (ncol - 1) * COL_GAP * ch;
    for (int c = 0; c < ncol; c++) {
        b->colw[c] = 0.0;
        for (int i = c; i < n; i += ncol) {
            double sample = e[i].style ? SAMPLE : 1.0;
            b->colw[c] = fmax(b->colw[c],
                              (sample + SAMPLE_GAP) * ch + st_draw_text_w(e[i].name, FONT_LEGEND));
        }
        *w += b->colw[c];
    }
    *h = (2.0 * PAD + (b->rows + (b->title != NULL)) * ROW) * ch;
    if (b->title)
        *w = fmax(*w, 2.0 * PAD * ch + st_draw_text_w(b->title, FONT_LEGEND));
}

/* How many segments of the lines (in fractions of the axes) meet the box
 * fx0..fx1 x fy0..fy1. */
static long hits(int n_lines, const double *const *xs, const double *const *ys, const long *m,
                 double x0, double x1, double ylo, double yhi, double fx0, double fx1, double fy0,
                 double fy1)
{
    long count = 0;
    for (int k = 0; k < n_lines; k++)
        for (long i = 0; i < m[k]; i++) {
            double ax = (xs[k][i] - x0) / (x1 - x0), ay = (ys[k][i] - ylo) / (yhi - ylo);
            double bx = ax, by = ay;
            if (!isfinite(ay))
                continue;
            if (i + 1 < m[k] && isfinite(ys[k][i + 1])) {
                bx = (xs[k][i + 1] - x0) / (x1 - x0);
                by = (ys[k][i + 1] - ylo) / (yhi - ylo);
            }
            count += fmax(ax, bx) >= fx0 && fmin(ax, bx) <= fx1 && fmax(ay, by) >= fy0 &&
                     fmin(ay, by) <= fy1;
        }
    return count;
}

/* The highest point (fraction of the axes) of the segments over fx0..fx1. */
static double top_over(int n_lines, const double *const *xs, const double *const *ys, const long *m,
                       double x0, double x1, double ylo, double yhi, double fx0, double fx1)
{
    double top = 0.0;
    for (int k = 0; k < n_lines; k++)
        for (long i = 0; i < m[k]; i++) {
            double ax = (xs[k][i] - x0) / (x1 - x0), ay = (ys[k][i] - ylo) / (yhi - ylo);
            double bx = i + 1 < m[k] ? (xs[k][i + 1] - x0) / (x1 - x0) : ax;
            if (isfinite(ay) && fmax(ax, bx) >= fx0 && fmin(ax, bx) <= fx1)
                top = fmax(top, ay);
        }
    return top;
}

enum { TR, TL, BL, BR, R, L, TC, BC, N_POS };

/* The box's corner for position pos, in fractions of a w x h viewport. */
static void corner(int pos, double bw, double bh, double vw, double vh, double inset, double *fx,
                   double *fy)
{
    *fx = pos == TL || pos == BL || pos == L ? inset / vw
          : pos == TC || pos == BC           ? 0.5 - 0.5 * bw / vw
                                             : 1.0 - (inset + bw) / vw;
    *fy = pos == TR || pos == TL || pos == TC ? 1.0 - (inset + bh) / vh
          : pos == R || pos == L              ? 0.5 - 0.5 * bh / vh
                                              : inset / vh;
}

void st_legend_place(const struct st_legend_entry *e, int n, int n_lines, const double *const *xs,
                     const double *const *ys, const long *m, double x0, double x1, double *ylo,
                     double *yhi, double vx0, double vx1, double vy0, double vy1,
                     struct st_legend_box *box)
{
    double vw = (vx1 - vx0) * st_draw_page_w(), vh = (vy1 - vy0) * st_draw_page_h();
    double ch = st_draw_ch(FONT_LEGEND), inset = INSET * ch, clear = 0.5 * ch;
    int layouts[3] = { 1, (n + 1) / 2, n }, n_layouts = n > 2 ? 3 : n == 2 ? 2 : 1;
    long best = -1;
    double compact = INFINITY;
    const char *title = box->title;
    struct st_legend_box fallback = { 0 }, low = { 0 };
    fallback.title = low.title = title;
    if (n > ST_FIG_LEGEND_MAX)
        n = ST_FIG_LEGEND_MAX;
    for (int l = 0; l < n_layouts; l++) {
        struct st_legend_box b = { .title = title };
        double bw, bh;
        st_legend_measure(e, n, layouts[l], &b, &bw, &bh);
        if (bw + 2.0 * inset > vw || bh + 2.0 * inset > vh)
            continue;
        b.fw = bw / vw;
        b.fh = bh / vh;
        if (bh < compact) {
            compact = bh;
            low = b;
        }
        for (int pos = 0; pos < N_POS; pos++) {
            corner(pos, bw, bh, vw, vh, inset, &b.fx0, &b.fy0);
            long c = hits(n_lines, xs, ys, m, x0, x1, *ylo, *yhi, b.fx0 - clear / vw,
                          b.fx0 + b.fw + clear / vw, b.fy0 - clear / vh, b.fy0 + b.fh + clear / vh);
            if (c == 0) {
                *box = b;
                return;
            }
            if (best < 0 || c < best) {
                best = c;
                fallback = b;
            }
        }
    }
    if (!isfinite(compact)) {
        /* Larger than the axes: the one column at the top right, as best it can. */
        double bw, bh;
        st_legend_measure(e, n, 1, box, &bw, &bh);
        box->fw = bw / vw;
        box->fh = bh / vh;
        corner(TR, bw, bh, vw, vh, inset, &box->fx0, &box->fy0);
        return;
    }
    /* No free place: the most compact box at whichever top position needs
     * the least room above the lines, the axis raised to make it. */
    double need = INFINITY;
    for (int pos = TR; pos <= TC; pos = pos == TL ? TC : pos + 1) {
        struct st_legend_box b = low;
        corner(pos, b.fw * vw, b.fh * vh, vw, vh, inset, &b.fx0, &b.fy0);
        double top = top_over(n_lines, xs, ys, m, x0, x1, *ylo, *yhi, b.fx0 - clear / vw,
                              b.fx0 + b.fw + clear / vw);
        double room = b.fy0 - clear / vh;
        if (room > 0.3 && top / room < need) {
            need = top / room;
            *box = b;
        }
    }
    if (isfinite(need) && need > 1.0) {
        *yhi = *ylo + (*yhi - *ylo) * need;
        return;
    }
    if (!isfinite(need))
        *box = fallback;
}

void st_legend_draw(const struct st_legend_entry *e, int n, const struct st_legend_box *box)
{
    PLFLT x0, x1, y0, y1;
    plgvpw(&x0, &x1, &y0, &y1);
    PLFLT vx0, vx1, vy0, vy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    double ch = st_draw_ch(FONT_LEGEND);
    double ux = (x1 - x0) / ((vx1 - vx0) * st_draw_page_w()); /* world per page unit */
    double uy = (y1 - y0) / ((vy1 - vy0) * st_draw_page_h());
    double bx0 = x0 + box->fx0 * (x1 - x0), bx1 = bx0 + box->fw * (x1 - x0);
    double by0 = y0 + box->fy0 * (y1 - y0), by1 = by0 + box->fh * (y1 - y0);
    if (n > ST_FIG_LEGEND_MAX)
        n = ST_FIG_LEGEND_MAX;
    plcol0(0);
    plfill(4, (const PLFLT[]){ bx0, bx1, bx1, bx0 }, (const PLFLT[]){ by0, by0, by1, by1 });
    plcol0(COLOR_FRAME);
    plwidth(1.0);
    plline(5, (const PLFLT[]){ bx0, bx1, bx1, bx0, bx0 },
           (const PLFLT[]){ by0, by0, by1, by1, by0 });
    plschr(0.0, FONT_LEGEND);
    if (box->title) {
        plcol0(COLOR_AXES);
        plptex(bx0 + PAD * ch * ux, by1 - (PAD + 0.5 * ROW) * ch * uy, 1.0, 0.0, 0.0, box->title);
        st_draw_describe("legend title", box->title);
    }
    for (int i = 0; i < n; i++) {
        int r = i / box->ncol + (box->title != NULL), c = i % box->ncol;
        double x = bx0 + PAD * ch * ux, y = by1 - (PAD + (r + 0.5) * ROW) * ch * uy;
        for (int k = 0; k < c; k++)
            x += (box->colw[k] + COL_GAP * ch) * ux;
        double sample = (e[i].style ? SAMPLE : 1.0) * ch * ux;
        plcol0(e[i].color);
        if (e[i].style < 0) {
            double h = 0.35 * ch * uy;
            plfill(4, (const PLFLT[]){ x, x + sample, x + sample, x },
                   (const PLFLT[]){ y - h, y - h, y + h, y + h });
        } else if (e[i].style) {
            pllsty(e[i].style);
            plwidth(1.6);
            plline(2, (const PLFLT[]){ x, x + sample }, (const PLFLT[]){ y, y });
            pllsty(1);
        }
        if (e[i].marker) {
            plssym(0.0, 0.9);
            plpoin(1, (const PLFLT[]){ x + 0.5 * sample }, (const PLFLT[]){ y }, e[i].marker);
        }
        plcol0(COLOR_AXES);
        plptex(x + sample + SAMPLE_GAP * ch * ux, y, 1.0, 0.0, 0.0, e[i].name);
        st_draw_describe("legend", e[i].name);
    }
    plwidth(1.0);
}

/* ---- panels ---- */

/* The range of p's lines with matplotlib's 5% margins. */
static void range(const struct st_panel *p, long n, double *lo, double *hi)
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
    double m = 0.05 * (*hi - *lo);
    *lo -= m;
    *hi += m;
}

/* The y ticks of p over lo..hi on an axis len page units long. */
static void y_ticks(const struct st_panel *p, double lo, double hi, double len, struct st_ticks *t)
{
    if (p->log_y)
        st_ticks_log(t, lo, hi, 8);
    else
        st_ticks_linear(t, lo, hi, st_ticks_want(len));
    st_ticks_thin(t, lo, hi, len, 1);
}

double st_panel_margin(const struct st_panel *p, long n, double len)
{
    struct st_ticks t;
    double lo, hi;
    range(p, n, &lo, &hi);
    y_ticks(p, lo, hi, len, &t);
    return st_axis_margin(&t, p->ylabel != NULL);
}

/* The lines as drawn: each thinned to about two points per pixel column. */
struct thin {
    const double **x, **y;
    long *m;
    double *mem;
};

enum { BUCKETS = 800 };

static int thin_lines(const struct st_panel *p, const double *x, long n, struct thin *t)
{
    int k = p->n_lines, dec = n > 4 * BUCKETS;
    t->x = calloc((size_t)k + 1, sizeof *t->x);
    t->y = calloc((size_t)k + 1, sizeof *t->y);
    t->m = calloc((size_t)k + 1, sizeof *t->m);
    t->mem = dec ? malloc((size_t)k * 2 * (4 * BUCKETS + 4) * sizeof *t->mem + 1) : NULL;
    if (!t->x || !t->y || !t->m || (dec && !t->mem))
        return -1;
    for (int s = 0; s < k; s++) {
        if (!dec) {
            t->x[s] = x;
            t->y[s] = p->y[s];
            t->m[s] = n;
            continue;
        }
        double *xo = t->mem + (size_t)s * 2 * (4 * BUCKETS + 4), *yo = xo + 4 * BUCKETS + 4;
        t->m[s] = st_draw_decimate(x, p->y[s], n, BUCKETS, xo, yo);
        t->x[s] = xo;
        t->y[s] = yo;
    }
    return 0;
}

static void thin_free(struct thin *t)
{
    free(t->x);
    free(t->y);
    free(t->m);
    free(t->mem);
}

/* The legend's entries: every line, or with legend_max that many, evenly
 * spread from the first to the last (a ramp of many lines). */
static int legend_entries(const struct st_panel *p, struct st_legend_entry *e)
{
    int shown = p->legend_max > 0 && p->legend_max < p->n_lines ? p->legend_max : p->n_lines;
    if (shown > ST_FIG_LEGEND_MAX)
        shown = ST_FIG_LEGEND_MAX;
    for (int s = 0; s < shown; s++) {
        int k = shown < p->n_lines ? (int)((long)s * (p->n_lines - 1) / (shown - 1)) : s;
        e[s] = (struct st_legend_entry){ p->names[k], p->colors[k], p->styles ? p->styles[k] : 1,
                                         0 };
    }
    return shown;
}

void st_draw_panel(const struct st_panel *p, const double *x, long n, double vx0, double vx1,
                   double vy0, double vy1, int legend)
{
    double x0 = x[0], x1 = x[n - 1], ylo, yhi;
    double dx = x1 > x0 ? 0.05 * (x1 - x0) : 1.0;
    struct thin th = { 0 };
    struct st_legend_entry e[ST_FIG_LEGEND_MAX];
    struct st_legend_box box;
    struct st_ticks xt, yt;
    int n_e = 0, thin_ok = thin_lines(p, x, n, &th) == 0;
    x0 -= dx;
    x1 += dx;
    range(p, n, &ylo, &yhi);
    plvpor(vx0, vx1, vy0, vy1);
    box.title = p->legend_title;
    if (legend && p->n_lines > 0 && thin_ok) {
        n_e = legend_entries(p, e);
        st_legend_place(e, n_e, p->n_lines, th.x, th.y, th.m, x0, x1, &ylo, &yhi, vx0, vx1, vy0,
                        vy1, &box);
    }
    plwind(x0, x1, ylo, yhi);
    if (p->title)
        st_draw_title(p->title);
    st_ticks_linear(&xt, x0, x1, st_ticks_want((vx1 - vx0) * st_draw_page_w()));
    if (x1 - x0 < 4.0) { /* a run of a step or two: the steps are whole */
        xt.n = 0;
        for (double k = ceil(x0); k <= x1 && xt.n < ST_MAX_TICKS; k++) {
            xt.v[xt.n] = k;
            snprintf(xt.lab[xt.n++], sizeof xt.lab[0], "%.0f", k + 0.0 == 0.0 ? 0.0 : k);
        }
    }
    st_ticks_thin(&xt, x0, x1, (vx1 - vx0) * st_draw_page_w(), 0);
    y_ticks(p, ylo, yhi, (vy1 - vy0) * st_draw_page_h(), &yt);
    st_draw_axes(&xt, !p->hide_x, &yt);
    if (!p->hide_x)
        st_draw_xlabel(p->xlabel ? p->xlabel : "training steps", &xt);
    if (p->ylabel)
        st_draw_ylabel(p->ylabel, st_axis_reach(&yt));
    plwidth(1.6);
    for (int s = 0; s < p->n_lines; s++) {
        plcol0(p->colors[s]);
        pllsty(p->styles ? p->styles[s] : 1);
        if (thin_ok)
            st_draw_series(th.x[s], th.y[s], th.m[s]);
        else
            st_draw_series(x, p->y[s], n);
    }
    pllsty(1);
    plwidth(1.0);
    if (n_e > 0)
        st_legend_draw(e, n_e, &box);
    thin_free(&th);
}
