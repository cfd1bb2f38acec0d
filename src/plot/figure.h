/* figure.h: the run figure in the seed's layout, drawn with PLplot (cairo):
 * a title, then three panels side by side: the loss (log scale) against the
 * step, d_init of every tensor, and d_teacher of every tensor. This module is
 * the only code that includes PLplot. */
#ifndef ST_FIGURE_H
#define ST_FIGURE_H

#include "core/status.h"
#include "io/csv.h"

enum st_fig_format { ST_FIG_PNG, ST_FIG_SVG, ST_FIG_PDF };

/* "png", "svg", "pdf"; NULL if unknown. Also the file extension. */
const char *st_fig_format_name(enum st_fig_format f);
int st_fig_format_parse(const char *s, enum st_fig_format *f);

/* Default size in pixels (PNG) or points (SVG, PDF), like the seed's figures. */
#define ST_FIG_WIDTH 1600
#define ST_FIG_HEIGHT 530

/* Draws the figure of a run from its metrics table (columns step, mse and
 * d_init_<t>, d_teacher_<t> for each tensor t, as metrics.csv has them) into
 * path, atomically. title is UTF-8 (e.g. "λ = 0.001"). With rank_panel, a
 * fourth panel shows rank_<w> (the numerical rank of each weight update) on
 * the rows where it was computed, and the page is wider. A run without a
 * teacher (no d_teacher columns) shows its evaluation set's loss (eval_mse or
 * eval_xent) instead, and with shares (per tensor, in the order of the d_init
 * columns of m: w1, b1, w2, ...) a bar chart of each tensor's share of the final update. Errors:
 * ST_ERR_FORMAT (missing columns, no rows), ST_ERR_IO (cannot write). */
enum st_status st_figure_run(const char *path, enum st_fig_format fmt, const struct st_csv *m,
                             const char *title, int rank_panel, const double *shares,
                             struct st_err *err);

/* Draws a sweep's summary (summary.csv read as text) when it has a lambda
 * axis: final d_init per tensor against lambda (log scales; the median over
 * the runs that share a lambda, with a band from min to max; lambda = 0 sits
 * one decade left of the smallest positive value) and, beside it, the
 * fraction of those runs whose verdict was correct. Errors: ST_ERR_ARG (no
 * lambda column), ST_ERR_FORMAT (no finished runs), ST_ERR_IO. */
/* A bar chart of values (log scale) in the given order, one bar per name;
 * bars with marks[i] drawn in the second colour. Errors: ST_ERR_FORMAT (no
 * finite value), ST_ERR_IO. */
enum st_status st_figure_bars(const char *path, enum st_fig_format fmt, const char *const *names,
                              const double *values, const int *marks, int n, const char *title,
                              struct st_err *err);

struct st_csv_text;
enum st_status st_figure_sweep(const char *path, enum st_fig_format fmt,
                               const struct st_csv_text *s, struct st_err *err);

/* One point per run, log-log: x[s][i] against y[s][i] for each series s
 * (joined by a line in run order, named in the legend on the right);
 * non-positive values sit on the axes' floor. For continual learning: the
 * loss on the new task against the forgetting of the old one. Errors:
 * ST_ERR_FORMAT (nothing positive to draw), ST_ERR_IO. */
enum st_status st_figure_tradeoff(const char *path, enum st_fig_format fmt, const char *title,
                                  int n_series, const char *const *names,
                                  const double *const *x, const double *const *y,
                                  const int *counts, const char *xlabel, const char *ylabel,
                                  struct st_err *err);

#endif
