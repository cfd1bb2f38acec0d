/* draw.c: see draw.h. Pages, colours, text widths, lines and heatmaps.
 * Colours follow matplotlib's default cycle, so the figures read like the
 * seed's. PLplot exits the process on fatal errors, so everything that can
 * fail (the output file, the data) is checked before plinit(). */
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
/* The evaluation sets': black, magenta, navy, teal, gold, maroon; each
 * darker or more saturated than the tab10 colour nearest to it. */
static const unsigned char evals[N_EVAL][3] = {
    { 0, 0, 0 }, { 204, 0, 204 }, { 0, 0, 140 }, { 0, 128, 128 }, { 230, 171, 2 }, { 128, 0, 0 },
};
/* The viridis ramp at nine stops (matplotlib's sequential default). */
#define N_STOPS 9
static const unsigned char viridis[N_STOPS][3] = {
    { 68, 1, 84 },   { 71, 44, 122 },  { 59, 81, 139 },  { 44, 113, 142 }, { 33, 144, 141 },
    { 39, 173, 129 }, { 92, 200, 99 }, { 170, 220, 50 }, { 253, 231, 37 },
};

/* The page being drawn: its format and size, and its texts for an SVG's
 * description. PLplot itself keeps one current page per process. */
static struct {
    enum st_fig_format fmt;
    double w, h;
    double title_scale; /* the panel titles' size */
    char title[256];
    char *desc;
    size_t len, cap;
} page;

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

int st_draw_eval_color(int i, int *style)
{
    *style = 1 + (i / N_EVAL) % 8; /* PLplot's styles 2..8 are dashes */
    return COLOR_EVAL + i % N_EVAL;
}

/* ---- text ---- */

/* DejaVu Sans's advance widths of ' '..'~' in 1/2048 em. */
static const short advance[95] = {
    651,  821,  942,  1716, 1303, 1946, 1597, 563,  799,  799,  1024, 1716, 651,  739,  651,  690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690,  690,  1716, 1716, 1716, 1087,
    2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604,  604,  1343, 1141, 1767, 1532, 1612,
    1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799,  690,  799,  1716, 1024,
    1024, 1255, 1300, 1126, 1300, 1260, 721,  1300, 1298, 569,  569,  1186, 569,  1995, 1298, 1253,
    1300, 1300, 842,  1067, 803,  1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,  1303, 1716,
};
/* The cairo driver's em is this many character heights (measured: a digit
 * advances 0.845 of PLplot's character height); a super- or subscript is
 * drawn at 0.78 of its line's size. */
#define EM_PER_CH 1.328
#define SCRIPT 0.78

double st_draw_ch(double scale)
{
    PLFLT def, ht, x0, x1, y0, y1;
    plgchr(&def, &ht);
    plgspa(&x0, &x1, &y0, &y1);
    double per_mm = x1 > x0 ? page.w / (x1 - x0) : 72.0 / 25.4;
    return def * scale * per_mm;
}

double st_draw_text_w(const char *text, double scale)
{
    double em = 0.0, size = 1.0;
    for (const unsigned char *s = (const unsigned char *)text; *s;) {
        if (*s == '#' && (s[1] == 'u' || s[1] == 'd')) {
            size = s[1] == 'u' ? size * SCRIPT : size / SCRIPT;
            s += 2;
            continue;
        }
        if (*s == '#' && s[1] == '(') {
            const unsigned char *e = (const unsigned char *)strchr((const char *)s, ')');
            em += size * 0.75;
            s = e ? e + 1 : s + 2;
            continue;
        }
        if (*s == '#' && s[1] == '#')
            s++;
        if (*s >= 32 && *s < 127) {
            em += size * advance[*s - 32] / 2048.0;
            s++;
        } else {
            /* A UTF-8 sequence: one character of a typical width. */
            em += size * 1300.0 / 2048.0;
            s++;
            while ((*s & 0xC0) == 0x80)
                s++;
        }
    }
    return em * EM_PER_CH * st_draw_ch(scale);
}

void st_draw_title(const char *title)
{
    PLFLT vx0, vx1, vy0, vy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    double room = (vx1 - vx0) * page.w, scale = page.title_scale;
    double w = st_draw_text_w(title, scale);
    if (w > room)
        scale = fmax(0.5, scale * room / w);
    plcol0(COLOR_AXES);
    plschr(0.0, scale);
    plmtex("t", 1.0 * FONT_PANEL_TITLE / scale, 0.5, 0.5, title);
    st_draw_describe("panel", title);
}

void st_draw_title_fit(const char *title, double width)
{
    double w = st_draw_text_w(title, page.title_scale);
    if (w > width)
        page.title_scale = fmax(0.5, page.title_scale * width / w);
}

void st_draw_describe(const char *kind, const char *text)
{
    size_t need = strlen(kind) + strlen(text) + 4;
    if (page.len + need + 1 > page.cap) {
        size_t cap = page.cap ? page.cap : 1024;
        while (cap < page.len + need + 1)
            cap *= 2;
        char *d = realloc(page.desc, cap);
        if (!d)
            return; /* the description is a courtesy: a figure without it is whole */
        page.desc = d;
        page.cap = cap;
    }
    page.len += (size_t)sprintf(page.desc + page.len, "%s: %s\n", kind, text);
}

/* ---- lines ---- */

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

long st_draw_decimate(const double *x, const double *y, long n, long buckets, double *xo,
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
        if (i - start == 1) { /* a point alone (a run that diverged next): a dot to see */
            plssym(0.0, 0.5);
            plpoin(1, &x[start], &y[start], 17);
        } else if (i > start)
            plline((PLINT)(i - start), x + start, y + start);
    }
}

/* ---- heatmaps ---- */

void st_draw_heatmap(const double *v, int rows, int cols, const char *const *row_names,
                     const char *const *col_names, const char *row_label, const char *title,
                     double vx0, double vx1, double vy0, double vy1)
{
    st_draw_heatmap_cells(v, rows, cols, row_names, col_names, row_label, title, 0.0, -1, vx0,
                          vx1, vy0, vy1);
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
                           const char *const *col_names, const char *row_label,
                           const char *title, double top, int cell_digits, double vx0,
                           double vx1, double vy0, double vy1)
{
    double hi = top;
    for (int i = 0; top <= 0.0 && i < rows * cols; i++)
        if (isfinite(v[i]) && v[i] > hi)
            hi = v[i];
    if (!(hi > 0.0))
        hi = 1.0;
    /* The cells, row 0 at the top; a colour bar on the right, its labels
     * inside the panel's right edge (measured: "0.075" needs more room than
     * "0.4"). */
    double bar = 0.04 * (vx1 - vx0), label_size = FONT_TICKS * 0.85, label_w = 0.0;
    struct st_ticks t;
    st_ticks_linear(&t, 0.0, hi, 5);
    for (int i = 0; i < t.n; i++)
        label_w = fmax(label_w, st_draw_text_w(t.lab[i], label_size) / page.w);
    double bar_x1 = vx1 - label_w - 0.8 * st_draw_ch(label_size) / page.w;
    bar_x1 = fmin(bar_x1, vx1 - 1.6 * bar);
    plvpor(vx0, bar_x1 - 1.8 * bar, vy0, vy1);
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
    double names_w = 0.0;
    for (int r = 0; r < rows; r++) {
        plmtex("lv", 0.5, 1.0 - (r + 0.5) / rows, 1.0, row_names[r]);
        names_w = fmax(names_w, st_draw_text_w(row_names[r], rs));
    }
    if (row_label)
        st_draw_ylabel(row_label, names_w + 0.5 * st_draw_ch(rs));
    plschr(0.0, cols > 8 ? 0.5 : FONT_TICKS);
    for (int c = 0; c < cols; c++)
        plmtex(cols > 4 ? "bv" : "b", cols > 4 ? 0.5 : 1.2, (c + 0.5) / cols, cols > 4 ? 1.0 : 0.5,
               col_names[c]);
    st_draw_title(title);
    /* The colour bar: 0 at the bottom, the largest value at the top. */
    plvpor(bar_x1 - 0.8 * bar, bar_x1, vy0, vy1);
    plwind(0.0, 1.0, 0.0, hi);
    for (int i = 0; i < 64; i++) {
        PLFLT bx[4] = { 0.0, 1.0, 1.0, 0.0 };
        PLFLT by[4] = { hi * i / 64.0, hi * i / 64.0, hi * (i + 1) / 64.0, hi * (i + 1) / 64.0 };
        plcol1((i + 0.5) / 64.0);
        plfill(4, bx, by);
    }
    plcol0(COLOR_AXES);
    plschr(0.0, label_size);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    for (int i = 0; i < t.n; i++)
        plmtex("rv", 0.6, t.v[i] / hi, 0.0, t.lab[i]);
}

/* ---- pages ---- */

void st_draw_page_title(const char *title)
{
    snprintf(page.title, sizeof page.title, "%s", title);
}

double st_draw_page_w(void)
{
    return page.w;
}

double st_draw_page_h(void)
{
    return page.h;
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
    free(page.desc);
    memset(&page, 0, sizeof page);
    page.fmt = fmt;
    page.w = width;
    page.h = height;
    page.title_scale = FONT_PANEL_TITLE;
    snprintf(page.title, sizeof page.title, "%s", title);
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
    for (int i = 0; i < N_EVAL; i++)
        plscol0(COLOR_EVAL + i, evals[i][0], evals[i][1], evals[i][2]);
    plscol0(COLOR_GUIDE, 160, 160, 160);
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
    /* PLplot's default text height grows with the page's width plus height:
     * a page narrower than ST_FIG_WIDTH (a single plot) gets the text size
     * of the full-width pages beside it. */
    if (width < ST_FIG_WIDTH) {
        PLFLT def, ht;
        plgchr(&def, &ht);
        plschr(def * (ST_FIG_WIDTH + height) / (width + height), 1.0);
    }
    pladv(0);
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(COLOR_AXES);
    plschr(0.0, FONT_TITLE);
    plmtex("t", -1.5, 0.5, 0.5, title);
    return ST_OK;
}

/* Writes s into f with XML's special characters escaped. */
static void xml_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        const char *e = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : NULL;
        if (e)
            fputs(e, f);
        else
            fputc(s[i], f);
    }
}

/* The SVG at tmp with a <title> (the page's) and a <desc> (its texts) as the
 * first children of <svg>, so that what a figure says can be read (by a
 * screen reader, a test) and searched. Errors: ST_ERR_IO. */
static enum st_status svg_describe(const char *tmp, struct st_err *err)
{
    enum st_status st = ST_OK;
    char *buf = NULL, out[4400];
    FILE *f = fopen(tmp, "rb"), *g = NULL;
    long size;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = st_err_set(err, ST_ERR_IO, "cannot read back %s: %s", tmp, strerror(errno));
        goto out;
    }
    buf[size] = '\0';
    char *svg = strstr(buf, "<svg"), *end = svg ? strchr(svg, '>') : NULL;
    if (!end)
        goto out; /* not the cairo SVG we know: left as it is */
    snprintf(out, sizeof out, "%s.desc", tmp);
    if (!(g = fopen(out, "wb"))) {
        st = st_err_set(err, ST_ERR_IO, "cannot write %s: %s", out, strerror(errno));
        goto out;
    }
    fwrite(buf, 1, (size_t)(end + 1 - buf), g);
    fputs("\n<title>", g);
    xml_text(g, page.title, sizeof page.title);
    fputs("</title>\n<desc>", g);
    if (page.desc)
        xml_text(g, page.desc, page.len);
    fputs("</desc>", g);
    fwrite(end + 1, 1, (size_t)(buf + size - end - 1), g);
    if (fclose(g) != 0 || rename(out, tmp) != 0) {
        st = st_err_set(err, ST_ERR_IO, "cannot write %s: %s", out, strerror(errno));
        remove(out);
    }
out:
    free(buf);
    if (f)
        fclose(f);
    return st;
}

enum st_status st_draw_page_end(const char *tmp, const char *path, struct st_err *err)
{
    enum st_status st = ST_OK;
    plend();
    if (page.fmt == ST_FIG_SVG)
        st = svg_describe(tmp, err);
    free(page.desc);
    page.desc = NULL;
    page.len = page.cap = 0;
    if (st == ST_OK && rename(tmp, path) != 0)
        st = st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (st != ST_OK)
        remove(tmp);
    return st;
}
