/* draw.h: what the figures share (figure_run.c, figure_sweep.c): pages,
 * panels of lines with a legend, colours, a heatmap. Internal to src/plot,
 * the only code that includes PLplot. */
#ifndef ST_DRAW_H
#define ST_DRAW_H

#include <plplot.h>
#include <stddef.h>

#include "figure.h"

/* cmap0: 0 the background, 1 the axes (black), then matplotlib's tab10 line
 * colours, a light gray legend frame, translucent copies of the line colours
 * (sweep bands), and a sequential ramp (viridis) for many lines. */
#define COLOR_AXES 1
#define COLOR_FIRST_LINE 2
#define COLOR_FRAME 12
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

/* Lines of one panel against a shared x. */
struct st_panel {
    const char *title, *ylabel;
    int log_y;
    int n_lines;
    const double **y;   /* [n_lines][n] */
    const char **names; /* [n_lines] */
    int *colors;        /* [n_lines] cmap0 indices */
    int legend_max;     /* lines the legend lists (0: all) */
};

/* Room for n lines (zeroed); 0, or -1 when out of memory. */
int st_panel_alloc(struct st_panel *p, int n);
void st_panel_free(struct st_panel *p);

/* Draws panel p over x[n] in the viewport (vx0, vx1) x (vy0, vy1), with a
 * legend (placed where it hides the fewest points) when legend is set. */
void st_draw_panel(const struct st_panel *p, const double *x, long n, double vx0, double vx1,
                   double vy0, double vy1, int legend);

/* plline over each run of finite points, so NaN/Inf leave a gap. */
void st_draw_series(const double *x, const double *y, long n);

/* Axis labels as "%g" (plslabelfunc). */
void st_draw_label_linear(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data);

/* A heatmap of v[rows][cols] (NaN: no cell) with row and column names and
 * a colour bar for 0..the largest value, titled title. */
void st_draw_heatmap(const double *v, int rows, int cols, const char *const *row_names,
                     const char *const *col_names, const char *title, double vx0, double vx1,
                     double vy0, double vy1);

/* The same with the colour bar fixed to 0..top (top <= 0: the largest
 * value; larger values get its colour) and, when cell_digits >= 0, each
 * cell's value written in it with that many decimals. */
void st_draw_heatmap_cells(const double *v, int rows, int cols, const char *const *row_names,
                           const char *const *col_names, const char *title, double top,
                           int cell_digits, double vx0, double vx1, double vy0, double vy1);

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

/* Finishes the page and moves it over path. Errors: ST_ERR_IO. */
enum st_status st_draw_page_end(const char *tmp, const char *path, struct st_err *err);

#endif
