/* figure.h: the figures, drawn with PLplot (cairo): a run's figure in the
 * seed's layout (the loss, d_init and d_teacher against the step), a sweep's,
 * a bar chart and a trade-off plot. The files in src/plot are the only code
 * that includes PLplot. */
#ifndef ST_FIGURE_H
#define ST_FIGURE_H

#include "core/status.h"
#include "io/csv.h"

enum st_fig_format { ST_FIG_PNG, ST_FIG_SVG, ST_FIG_PDF };

/* "png", "svg", "pdf"; NULL if unknown. Also the file extension. */
const char *st_fig_format_name(enum st_fig_format f);

/* Default size in pixels (PNG) or points (SVG, PDF), like the seed's figures. */
#define ST_FIG_WIDTH 1600
#define ST_FIG_HEIGHT 530

/* Tensors a legend lists one by one; with more, a figure draws one line per
 * unit and a heatmap of the tensors. */
#define ST_FIG_LEGEND_MAX 12

/* A tensor as a figure shows it. */
struct st_fig_tensor {
    const char *name; /* its columns: d_init_<name>, d_teacher_<name> */
    const char *unit; /* the group its line joins when there are too many to list */
    const char *role; /* its column in the heatmap (units are the rows) */
    int matrix;       /* matrices come first in a legend (the seed's order: w1, w2, ..., b1, ...) */
    double size;      /* entries (NaN: they differ between a sweep's runs) */
};

/* What a run's figure shows. */
struct st_fig_run {
    const struct st_csv *m;              /* metrics.csv */
    const char *title;                   /* UTF-8 ("λ = 0.001") */
    int rank_panel;                      /* a panel of rank_<w> (the rank of each weight update) */
    const struct st_fig_tensor *tensors; /* [n_tensors], the run's tensors in layout order */
    int n_tensors;
    const double *shares;                /* [n_tensors] each one's share of the final update, or NULL */
    const char *eval_name;               /* the name of the set in eval_mse / eval_xent (its
                                          * file's), or NULL: "eval" */
};

/* Draws the figure of a run into path, atomically: the loss (log scale),
 * d_init, d_teacher (a run with a teacher), one line per tensor while they
 * fit a legend (ST_FIG_LEGEND_MAX), else one per unit (its mean |Delta|);
 * the loss of every held-out set metrics.csv has, each in a colour no tensor
 * has and named in the legend: the validation set (val_mse, val_xent), the
 * evaluation set (eval_mse, eval_xent: eval_name) and each named one
 * (eval_<NAME>_mse, eval_<NAME>_xent), with their accuracy (*_accuracy, an
 * xent run) in a panel under it; then, for a data run with few tensors, a bar
 * chart of each tensor's share of the final update, and for many tensors a
 * heatmap of the shares (units x roles); with rank_panel (and few tensors),
 * the rank of each weight update on the rows where it was computed. Panels
 * beyond three widen the page by a third of ST_FIG_WIDTH each. Errors:
 * ST_ERR_FORMAT (missing columns, no rows), ST_ERR_IO (cannot write). */
enum st_status st_figure_run(const char *path, enum st_fig_format fmt, const struct st_fig_run *r,
                             struct st_err *err);

/* Draws a sweep's summary (summary.csv read as text) when it has a lambda
 * axis: final d_init per tensor against lambda (log scales; the median over
 * the runs that share a lambda, with a band from min to max; lambda = 0 sits
 * one decade left of the smallest positive value, exact zeros on a dashed
 * level labelled 0; per unit when the tensors do not fit a legend; the
 * legend in a column beside it) and the fraction of those runs whose verdict
 * was correct. tensors[n] as in st_figure_run (NULL: every d_init_
 * column, in order). Errors: ST_ERR_ARG (no lambda column), ST_ERR_FORMAT
 * (no finished runs), ST_ERR_IO. */
struct st_csv_text;
enum st_status st_figure_sweep(const char *path, enum st_fig_format fmt,
                               const struct st_csv_text *s, const struct st_fig_tensor *tensors,
                               int n, struct st_err *err);

/* What a bar chart shows: values (log scale) in the given order, one bar
 * per name, the marked ones in the second colour. */
struct st_fig_bars {
    const char *title;           /* UTF-8 */
    const char *ylabel, *xlabel; /* what the values and the names are (xlabel NULL: none) */
    int n;
    const char *const *names;    /* [n] written under the bars */
    const double *values;        /* [n] */
    const int *marks;            /* [n] */
    const char *mark_label;      /* what marks a bar, in the legend (NULL: no entry) */
    const char *rest_label;      /* what the other bars are (NULL: no entry) */
    double line;                 /* a dashed level across the bars (<= 0: none) */
    const char *line_label;      /* its legend entry */
};

/* Draws b into path, atomically: the bars, the level, a legend where it
 * hides no bar, the names under the bars with the room they need. Errors:
 * ST_ERR_FORMAT (no finite positive value), ST_ERR_IO. */
enum st_status st_figure_bars(const char *path, enum st_fig_format fmt,
                              const struct st_fig_bars *b, struct st_err *err);

/* One point per run, log-log: x[s][i] against y[s][i] for each series s
 * (joined by a line in run order, a marker of its own, named in a legend
 * that hides no point); non-positive values sit on a floor labelled 0. For continual learning: the
 * loss on the new task against the forgetting of the old one. Errors:
 * ST_ERR_FORMAT (nothing positive to draw), ST_ERR_IO. */
enum st_status st_figure_tradeoff(const char *path, enum st_fig_format fmt, const char *title,
                                  int n_series, const char *const *names,
                                  const double *const *x, const double *const *y,
                                  const int *counts, const char *xlabel, const char *ylabel,
                                  struct st_err *err);

/* What the truth experiment's figure shows (sparsetune truth): per net, the
 * share of seeds in which each method names exactly the re-drawn layers of
 * each truth, and the share in which it names a set of layers that suffices
 * with the fewest layers that do. */
struct st_fig_truth {
    const char *title;          /* UTF-8 */
    const char *subtitle;       /* a smaller second line under the title, or NULL */
    int n_nets, n_methods, n_truths;
    const char *const *nets;    /* [n_nets] "1,20,20,1" */
    const char *const *methods; /* [n_methods] the rows */
    const char *const *truths;  /* [n_nets * n_truths] the columns of each net */
    const double *exact;        /* [n_nets][n_methods][n_truths] shares in 0..1; NaN: no cell */
    const double *sufficient;   /* the same for a sufficient set of the fewest layers that
                                 * suffice; NULL: one panel per net */
};

/* Draws into path, atomically, one heatmap per net (rows methods, columns
 * truths, each cell's share written in it, colours 0..1) of the exact
 * shares, with the fewest-sufficient shares' heatmap beside it under the net's
 * name; the nets one under the other, the page (ST_FIG_WIDTH wide, and
 * ST_FIG_HEIGHT high for one net) lengthened to fit them. Errors:
 * ST_ERR_ARG (no net, method or truth), ST_ERR_NOMEM, ST_ERR_IO. */
enum st_status st_figure_truth(const char *path, enum st_fig_format fmt,
                               const struct st_fig_truth *f, struct st_err *err);

#endif
