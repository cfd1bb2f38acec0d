/* draw.h: what the figures share: pages, text measured before it is drawn,
 * axes with their ticks, panels of lines with a legend that hides none of
 * them, colours, a heatmap. Internal to src/plot, the only code that
 * includes PLplot. Lengths on the page are in page units: a PNG's pixels, an
 * SVG's or PDF's points (the numbers given to the page's size). */
#ifndef ST_DRAW_H
#define ST_DRAW_H

#include <plplot.h>
#include <stddef.h>

#include "figure.h"

/* cmap0: 0 the background, 1 the axes (black), then matplotlib's tab10 line
 * colours, a light gray legend frame, the evaluation sets' colours (none of
 * them a tab10 colour, so that no set reads as a tensor), a mid gray for
 * guide lines, translucent copies of the line colours (sweep bands), and a
 * sequential ramp (viridis) for many lines. */
#define COLOR_AXES 1
#define COLOR_FIRST_LINE 2
#define COLOR_FRAME 12
#define COLOR_EVAL 13
#define N_EVAL 6
#define COLOR_GUIDE 19
#define COLOR_BAND 22
#define COLOR_RAMP 40
#define N_RAMP 32

/* Text sizes relative to PLplot's default character height; tuned on the
 * 1600 x 530 page so that they read like the seed's figures. */
#define FONT_TICKS 0.62
#define FONT_LABEL 0.80
#define FONT_LEGEND 0.62
#define FONT_TITLE 1.05
#define FONT_PANEL_TITLE 0.74

/* The colour of line i of n: tab10 while 10 suffice, else a step along the
 * ramp. */
int st_draw_color(int i, int n);

/* The colour of evaluation set i (COLOR_EVAL.., then again with a dashed
 * line: *style gets PLplot's line style, 1 solid). */
int st_draw_eval_color(int i, int *style);

/* ---- text ---- */

/* The height of a character at scale (plschr's, of the current default) in
 * page units: the distance PLplot's plmtex counts in. */
double st_draw_ch(double scale);

/* The width of text at scale in page units, from DejaVu Sans's advances (the
 * cairo driver's sans font; other fonts differ by a few percent, which the
 * margins absorb). PLplot's escapes #u, #d (super- and subscripts) and
 * #(nnn) (a symbol) are honoured. */
double st_draw_text_w(const char *text, double scale);

/* Draws a panel's title above the current viewport, at FONT_PANEL_TITLE (or
 * the size st_draw_title_fit set for the page) or, where it would run past
 * the viewport's width, as much smaller as it needs (down to 0.5). */
void st_draw_title(const char *title);

/* Lowers the page's size of panel titles until title fits width page units,
 * so that the panels of a row get titles of one size. */
void st_draw_title_fit(const char *title, double width);

/* Records a text of the figure (a panel's title, an axis label, a legend
 * entry) for the SVG's description: an SVG's text is drawn as glyph
 * outlines, so its <title> and <desc> carry the words. */
void st_draw_describe(const char *kind, const char *text);

/* ---- axes ---- */

#define ST_MAX_TICKS 48

/* The ticks of an axis: positions (log10 of the value on a log axis) and
 * their labels (PLplot text, "10#u-4#d" for 1e-4). */
struct st_ticks {
    int n;
    double v[ST_MAX_TICKS];
    char lab[ST_MAX_TICKS][32];
    int minor; /* a log axis over whole decades: minor ticks at 2..9 */
};

/* Ticks at a round step (1, 2, 2.5 or 5 times a power of ten) over lo..hi,
 * about want of them (at least 2 where the range allows). */
void st_ticks_linear(struct st_ticks *t, double lo, double hi, int want);

/* How many ticks an axis len page units long reads well with (3 to 9). */
int st_ticks_want(double len);

/* Ticks of a log axis over lo..hi (log10): whole decades (every second or
 * more when there are over max), or round values (1, 2, 5 times a power of
 * ten) when the axis spans less than a decade or two. */
void st_ticks_log(struct st_ticks *t, double lo, double hi, int max);

/* Keeps, of the ticks of an axis of length len page units over lo..hi, labels
 * that do not overlap: the widest label (vertical: a label's height) plus a
 * gap must fit between two ticks, else every second label (then every
 * third...) is blanked; the ticks stay. */
void st_ticks_thin(struct st_ticks *t, double lo, double hi, double len, int vertical);

/* The widest label of t at FONT_TICKS, page units. */
double st_ticks_width(const struct st_ticks *t);

/* How far from the axis the labels of the left axis with ticks t reach
 * (ticks, gap and labels), page units. */
double st_axis_reach(const struct st_ticks *t);

/* Draws, in the current viewport and window, the outward ticks and labels of
 * the left (y) axis and of the bottom (x) axis (xt NULL: none; x_labels 0:
 * ticks without labels), and the frame. */
void st_draw_axes(const struct st_ticks *xt, int x_labels, const struct st_ticks *yt);

/* The y axis's label (rotated) set just outside labels that reach `reach`
 * page units from the axis (st_axis_reach). */
void st_draw_ylabel(const char *label, double reach);

/* The x axis's label, set under the labels of ticks xt. */
void st_draw_xlabel(const char *label, const struct st_ticks *xt);

/* Where a row of panels may start and end on the page (fractions of its
 * height): under the page's title and a panel title (at most 0.80), and over
 * x tick labels and an x axis label (at least 0.14). PLplot sizes text by the
 * page, so a wider page has larger text and needs more room. */
double st_draw_panels_top(void);
double st_draw_panels_bottom(void);

/* The left margin a y axis with ticks t and a label needs, page units. */
double st_axis_margin(const struct st_ticks *t, int has_label);

/* ---- lines and their legend ---- */

/* An entry of a legend: a line (PLplot's style; 0: none; -1: a filled patch,
 * for bars) and/or a marker (PLplot's plpoin code; 0: none) in a colour, and
 * its name. */
struct st_legend_entry {
    const char *name;
    int color, style, marker;
};

/* A legend's place: its box in fractions of the viewport, its columns, and
 * a title above the entries (NULL: none; set before placing it). */
struct st_legend_box {
    const char *title;
    double fx0, fy0, fw, fh;
    int ncol, rows;
    double colw[ST_FIG_LEGEND_MAX + 1]; /* page units */
};

/* The size of a legend of n entries in ncol columns (box->title set), page
 * units; fills box's columns. */
void st_legend_measure(const struct st_legend_entry *e, int n, int ncol,
                       struct st_legend_box *box, double *w, double *h);

/* Chooses where a legend of n entries goes in the viewport (vx0..vx1,
 * vy0..vy1), whose window is x0..x1 by *ylo..*yhi: the first place, in
 * matplotlib's order of preference, where its box hides no segment of the
 * lines (k < n_lines: xs[k][0..m[k]), ys[k]) in one column, then in two rows,
 * then in one; where none is free, the top of the axis is raised (*yhi) until
 * the most compact one fits above the lines. */
void st_legend_place(const struct st_legend_entry *e, int n, int n_lines,
                     const double *const *xs, const double *const *ys, const long *m, double x0,
                     double x1, double *ylo, double *yhi, double vx0, double vx1, double vy0,
                     double vy1, struct st_legend_box *box);

/* Draws it (the viewport and window set as placed). */
void st_legend_draw(const struct st_legend_entry *e, int n, const struct st_legend_box *box);

/* Lines of one panel against a shared x. */
struct st_panel {
    const char *title, *ylabel;
    int log_y;
    int n_lines;
    const double **y;   /* [n_lines][n] */
    const char **names; /* [n_lines] */
    int *colors;        /* [n_lines] cmap0 indices */
    int legend_max;     /* lines the legend lists (0: all) */
    const int *styles;  /* [n_lines] PLplot line styles (NULL: all solid) */
    const char *xlabel; /* NULL: "training steps" */
    int hide_x;         /* no x labels: a panel with another under it */
    const char *legend_title; /* what the names name (NULL: nothing) */
};

/* Room for n lines (zeroed); 0, or -1 when out of memory. */
int st_panel_alloc(struct st_panel *p, int n);
void st_panel_free(struct st_panel *p);

/* The left margin panel p (its lines n points long) needs for a y axis len
 * page units long, page units. */
double st_panel_margin(const struct st_panel *p, long n, double len);

/* Draws panel p over x[n] in the viewport (vx0, vx1) x (vy0, vy1), with a
 * legend that hides no line when legend is set. */
void st_draw_panel(const struct st_panel *p, const double *x, long n, double vx0, double vx1,
                   double vy0, double vy1, int legend);

/* plline over each run of finite points, so NaN/Inf leave a gap (a point
 * alone is a dot). */
void st_draw_series(const double *x, const double *y, long n);

/* Keeps, of every run of about n/buckets consecutive points, the first and
 * the extremes in their order (a line through 10,000 steps looks the same
 * with a fraction of them); NaN points are kept. Returns the count written
 * to xo, yo (room for 4 * buckets + 4 points). */
long st_draw_decimate(const double *x, const double *y, long n, long buckets, double *xo,
                      double *yo);

/* ---- heatmaps ---- */

/* A heatmap of v[rows][cols] (NaN: no cell) with row and column names, the
 * rows' label left of their names (NULL: none), and a colour bar for 0..the
 * largest value, titled title. */
void st_draw_heatmap(const double *v, int rows, int cols, const char *const *row_names,
                     const char *const *col_names, const char *row_label, const char *title,
                     double vx0, double vx1, double vy0, double vy1);

/* The same with the colour bar fixed to 0..top (top <= 0: the largest
 * value; larger values get its colour) and, when cell_digits >= 0, each
 * cell's value written in it with that many decimals. */
void st_draw_heatmap_cells(const double *v, int rows, int cols, const char *const *row_names,
                           const char *const *col_names, const char *row_label,
                           const char *title, double top, int cell_digits, double vx0,
                           double vx1, double vy0, double vy1);

/* ---- pages ---- */

/* Opens a PNG/SVG/PDF page of the given width (height ST_FIG_HEIGHT) on a
 * temporary file beside path (tmp[size] gets its name), with the colours set
 * and the page title drawn. Errors: ST_ERR_IO (the file cannot be written:
 * PLplot would exit the process, so it is tried first). */
enum st_status st_draw_page_begin(const char *path, enum st_fig_format fmt, int width,
                                  const char *title, char *tmp, size_t size, struct st_err *err);

/* The same with a height of its own (a page of several rows of panels). */
enum st_status st_draw_page_begin_tall(const char *path, enum st_fig_format fmt, int width,
                                       int height, const char *title, char *tmp, size_t size,
                                       struct st_err *err);

/* The title an SVG's <title> carries, for a page that draws its own. */
void st_draw_page_title(const char *title);

/* The page's size in page units. */
double st_draw_page_w(void);
double st_draw_page_h(void);

/* Finishes the page (an SVG gets its <title> and <desc>) and moves it over
 * path. Errors: ST_ERR_IO. */
enum st_status st_draw_page_end(const char *tmp, const char *path, struct st_err *err);

#endif
