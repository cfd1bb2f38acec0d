/* draw.c: see draw.h. Colours follow matplotlib's default cycle, so the
 * figures read like the seed's. PLplot exits the process on fatal errors, so
 * everything that can fail (the output file, the data) is checked before
 * plinit(). */
#define _POSIX_C_SOURCE 200809L
#include "draw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const fmt_devices[] = { "pngcairo", "svgcairo", "pdfcairo" };

/* matplotlib's tab10 cycle: blue, orange, green, red, purple, brown, pink,
 * gray, olive, cyan. cmap0 index 0 is the background, 1 the axes (black). */
static const unsigned char tab10[10][3] = {
    { 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 },  { 214, 39, 40 },  { 148, 103, 189 },
    { 140, 86, 75 },  { 227, 119, 194 }, { 127, 127, 127 }, { 188, 189, 34 }, { 23, 190, 207 },
};
/* The viridis ramp at nine stops (matplotlib's sequential default). */
#define N_STOPS 9
static const unsigned char viridis[N_STOPS][3] = {
    { 68, 1, 84 },   { 71, 44, 122 },  { 59, 81, 139 },  { 44, 113, 142 }, { 33, 144, 141 },
    { 39, 173, 129 }, { 92, 200, 99 }, { 170, 220, 50 }, { 253, 231, 37 },
};

/* The ramp's colour at t in [0, 1], interpolated between the stops. */
static void ramp(double t, unsigned char c[3])
{
    double at = t * (N_STOPS - 1);
    int i = at >= N_STOPS - 1 ? N_STOPS - 2 : (int)at;
    double f = at - i;
    for (int k = 0; k < 3; k++)
        c[k] = (unsigned char)lround(viridis[i][k] + f * (viridis[i + 1][k] - viridis[i][k]));
}

int st_draw_color(int i, int n)
{
    if (n <= 10)
        return COLOR_FIRST_LINE + i % 10;
    return COLOR_RAMP + (n > 1 ? (int)((long)i * (N_RAMP - 1) / (n - 1)) : 0);
}

int st_panel_alloc(struct st_panel *p, int n)
{
    memset(p, 0, sizeof *p);
    p->y = calloc((size_t)n + 1, sizeof *p->y);
    p->names = calloc((size_t)n + 1, sizeof *p->names);
    p->colors = calloc((size_t)n + 1, sizeof *p->colors);
    if (!p->y || !p->names || !p->colors) {
        st_panel_free(p);
        return -1;
    }
    return 0;
}

void st_panel_free(struct st_panel *p)
{
    free(p->y);
    free(p->names);
    free(p->colors);
    p->y = NULL;
    p->names = NULL;
    p->colors = NULL;
}

/* Axis labels: "%g" reads like matplotlib's (0.02, 0.125, 4000). */
void st_draw_label_linear(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data)
{
    (void)axis;
    (void)data;
    if (fabs(value) < 1e-12)
        value = 0.0;
    snprintf(label, (size_t)length, "%g", value);
}

/* The y ticks of a log axis (window ylo..yhi in log10) spanning less than a
 * decade: 3 to 6 round values (1, 2 or 5 times a power of 10) apart,
 * labelled on the left. */
static void short_log_ticks(double x0, double x1, double ylo, double yhi)
{
    double a = pow(10.0, ylo), b = pow(10.0, yhi), raw = (b - a) / 4.0;
    double mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    double step = mag * (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : 5.0);
    plschr(0.0, FONT_TICKS);
    for (double v = ceil(a / step) * step; v <= b; v += step) {
        char lab[32];
        double y = log10(v);
        plline(2, (const PLFLT[]){ x0, x0 + 0.015 * (x1 - x0) }, (const PLFLT[]){ y, y });
        snprintf(lab, sizeof lab, "%g", v);
        plmtex("lv", 0.5, (y - ylo) / (yhi - ylo), 1.0, lab);
    }
}

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
    double m = 0.05 * (*hi - *lo); /* matplotlib's default margins */
    *lo -= m;
    *hi += m;
}

/* Where the legend goes: of the candidate corners and sides (matplotlib's
 * "best" order), the one whose box covers the fewest data points. The box
 * size is estimated from the number of entries. */
static PLINT legend_position(const struct st_panel *p, const double *x, long n, double x0,
                             double x1, double ylo, double yhi)
{
    static const PLINT cand[] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT,    PL_POSITION_TOP | PL_POSITION_LEFT,
        PL_POSITION_BOTTOM | PL_POSITION_LEFT,  PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
        PL_POSITION_RIGHT,                      PL_POSITION_LEFT,
    };
    int shown = p->legend_max > 0 && p->legend_max < p->n_lines ? p->legend_max : p->n_lines;
    double bw = 0.2 * (x1 - x0), bh = (0.075 * shown + 0.04) * (yhi - ylo);
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

void st_draw_series(const double *x, const double *y, long n)
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

/* The legend of a panel: every line, or with legend_max the first lines,
 * "...", and the last, evenly spread (a ramp of many lines). */
static void draw_legend(const struct st_panel *p, const double *x, long n, double x0, double x1,
                        double ylo, double yhi)
{
    int shown = p->legend_max > 0 && p->legend_max < p->n_lines ? p->legend_max : p->n_lines;
    PLINT *opt = malloc((size_t)shown * 4 * sizeof *opt), *lcol = opt + shown;
    PLINT *lsty = lcol + shown, *tcol = lsty + shown;
    PLFLT *lw = malloc((size_t)shown * sizeof *lw), w, h;
    const char **names = malloc((size_t)shown * sizeof *names);
    if (opt && lw && names) {
        for (int s = 0; s < shown; s++) {
            /* line k of the shown ones: evenly spread from the first to the last */
            int k = shown < p->n_lines ? (int)((long)s * (p->n_lines - 1) / (shown - 1)) : s;
            opt[s] = PL_LEGEND_LINE;
            lcol[s] = p->colors[k];
            lsty[s] = 1;
            lw[s] = 1.6;
            tcol[s] = COLOR_AXES;
            names[s] = p->names[k];
        }
        PLINT pos = legend_position(p, x, n, x0, x1, ylo, yhi);
        plschr(0.0, FONT_LEGEND);
        pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_INSIDE | pos,
                 0.015, 0.02, 0.06, 0, COLOR_FRAME, 1, 0, 0, shown, opt, 0.6, FONT_LEGEND, 1.6,
                 0.0, tcol, names, NULL, NULL, NULL, NULL, lcol, lsty, lw, NULL, NULL, NULL,
                 NULL);
    }
    free(opt);
    free(lw);
    free(names);
}

void st_draw_panel(const struct st_panel *p, const double *x, long n, double vx0, double vx1,
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
    /* A log axis over less than a decade would show no label at all: it gets
     * ticks at round values of its own. */
    int short_log = p->log_y && yhi - ylo < 1.0;
    plslabelfunc(st_draw_label_linear, NULL);
    plbox("bc", 0.0, 0, "bc", 0.0, 0); /* the frame */
    plbox("bntio", 0.0, 0, !p->log_y ? "bntivo" : short_log ? "" : "bnstilv", 0.0, 0);
    plslabelfunc(NULL, NULL);
    if (short_log)
        short_log_ticks(x0, x1, ylo, yhi);
    plschr(0.0, FONT_LABEL);
    plmtex("b", 2.7, 0.5, 0.5, "training steps");
    plmtex("l", p->log_y && !short_log ? 3.6 : 4.4, 0.5, 0.5, p->ylabel);
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
                st_draw_series(xd, yd, m);
            } else {
                st_draw_series(x, p->y[s], n);
            }
        }
    }
    if (legend && p->n_lines > 0)
        draw_legend(p, x, n, x0, x1, ylo, yhi);
}

void st_draw_heatmap(const double *v, int rows, int cols, const char *const *row_names,
                     const char *const *col_names, const char *title, double vx0, double vx1,
                     double vy0, double vy1)
{
    st_draw_heatmap_cells(v, rows, cols, row_names, col_names, title, 0.0, -1, vx0, vx1, vy0,
                          vy1);
}

/* Each cell's value in it, in black on the light end of the ramp and in white
 * on the dark end (the window is the cells'). */
static void cell_values(const double *v, int rows, int cols, double hi, int digits)
{
    plschr(0.0, rows > 20 ? 0.45 : FONT_TICKS);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double x = v[(size_t)r * (size_t)cols + (size_t)c];
            char text[32];
            if (!isfinite(x))
                continue;
            snprintf(text, sizeof text, "%.*f", digits, x);
            plcol0(x / hi > 0.6 ? COLOR_AXES : 0);
            plptex(c + 0.5, r + 0.5, 1.0, 0.0, 0.5, text);
        }
    plcol0(COLOR_AXES);
}

void st_draw_heatmap_cells(const double *v, int rows, int cols, const char *const *row_names,
                           const char *const *col_names, const char *title, double top,
                           int cell_digits, double vx0, double vx1, double vy0, double vy1)
{
    double hi = top;
    for (int i = 0; top <= 0.0 && i < rows * cols; i++)
        if (isfinite(v[i]) && v[i] > hi)
            hi = v[i];
    if (!(hi > 0.0))
        hi = 1.0;
    /* The cells, row 0 at the top; a colour bar on the right. */
    double bar = 0.04 * (vx1 - vx0);
    plvpor(vx0, vx1 - 3.4 * bar, vy0, vy1);
    plwind(0.0, (double)cols, (double)rows, 0.0);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double x = v[(size_t)r * (size_t)cols + (size_t)c];
            if (!isfinite(x))
                continue;
            PLFLT bx[4] = { c, c + 1.0, c + 1.0, c };
            PLFLT by[4] = { r, r, r + 1.0, r + 1.0 };
            plcol1(x < hi ? x / hi : 1.0);
            plfill(4, bx, by);
        }
    if (cell_digits >= 0)
        cell_values(v, rows, cols, hi, cell_digits);
    plcol0(COLOR_AXES);
    plwidth(1.0);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    double rs = rows > 40 ? 0.38 : rows > 20 ? 0.48 : FONT_TICKS;
    plschr(0.0, rs);
    for (int r = 0; r < rows; r++)
        plmtex("lv", 0.5, 1.0 - (r + 0.5) / rows, 1.0, row_names[r]);
    plschr(0.0, cols > 8 ? 0.5 : FONT_TICKS);
    for (int c = 0; c < cols; c++)
        plmtex(cols > 4 ? "bv" : "b", cols > 4 ? 0.5 : 1.2, (c + 0.5) / cols, cols > 4 ? 1.0 : 0.5,
               col_names[c]);
    plschr(0.0, FONT_PANEL_TITLE);
    plmtex("t", 0.7, 0.5, 0.5, title);
    /* The colour bar: 0 at the bottom, the largest value at the top. */
    plvpor(vx1 - 2.4 * bar, vx1 - 1.6 * bar, vy0, vy1);
    plwind(0.0, 1.0, 0.0, hi);
    for (int i = 0; i < 64; i++) {
        PLFLT bx[4] = { 0.0, 1.0, 1.0, 0.0 };
        PLFLT by[4] = { hi * i / 64.0, hi * i / 64.0, hi * (i + 1) / 64.0, hi * (i + 1) / 64.0 };
        plcol1((i + 0.5) / 64.0);
        plfill(4, bx, by);
    }
    plcol0(COLOR_AXES);
    plschr(0.0, FONT_TICKS * 0.85);
    plslabelfunc(st_draw_label_linear, NULL);
    plbox("bc", 0.0, 0, "bcmstv", 0.0, 0);
    plslabelfunc(NULL, NULL);
}

enum st_status st_draw_page_begin(const char *path, enum st_fig_format fmt, int width,
                                  const char *title, char *tmp, size_t size, struct st_err *err)
{
    return st_draw_page_begin_tall(path, fmt, width, ST_FIG_HEIGHT, title, tmp, size, err);
}

enum st_status st_draw_page_begin_tall(const char *path, enum st_fig_format fmt, int width,
                                       int height, const char *title, char *tmp, size_t size,
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
    plspage(0.0, 0.0, width, height, 0, 0);
    plscmap0n(COLOR_RAMP + N_RAMP);
    plscolbg(255, 255, 255);
    plscol0(COLOR_AXES, 0, 0, 0);
    for (int i = 0; i < 10; i++) {
        plscol0(COLOR_FIRST_LINE + i, tab10[i][0], tab10[i][1], tab10[i][2]);
        plscol0a(COLOR_BAND + i, tab10[i][0], tab10[i][1], tab10[i][2], 0.18);
    }
    plscol0(COLOR_FRAME, 204, 204, 204);
    for (int i = 0; i < N_RAMP; i++) {
        unsigned char c[3];
        ramp((double)i / (N_RAMP - 1), c);
        plscol0(COLOR_RAMP + i, c[0], c[1], c[2]);
    }
    /* cmap1 (the heatmaps): the same ramp, continuous. */
    PLFLT pos[N_STOPS], r[N_STOPS], g[N_STOPS], b[N_STOPS];
    for (int i = 0; i < N_STOPS; i++) {
        pos[i] = (PLFLT)i / (N_STOPS - 1);
        r[i] = viridis[i][0] / 255.0;
        g[i] = viridis[i][1] / 255.0;
        b[i] = viridis[i][2] / 255.0;
    }
    plscmap1l(1, N_STOPS, pos, r, g, b, NULL);
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

enum st_status st_draw_page_end(const char *tmp, const char *path, struct st_err *err)
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

