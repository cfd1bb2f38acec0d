/* sweep.h: grids of runs. A grid is a list of axes, each an option name and
 * its values (`--grid lambda=0,1e-3 --grid seed=0:16`); its runs are the
 * cartesian product, numbered 0..n-1 with the first axis varying slowest.
 * Any run option can be an axis; values are checked when the axis is added. */
#ifndef ST_SWEEP_H
#define ST_SWEEP_H

#include <stdio.h>

#include "cfg.h"
#include "result.h"

#define ST_GRID_MAX_AXES 32

struct st_grid_axis {
    char key[64];
    int n;          /* number of values */
    int cap;        /* room in values */
    char **values;  /* [n] value strings, as st_option_set takes them */
};

struct st_grid {
    int n_axes;
    struct st_grid_axis axes[ST_GRID_MAX_AXES];
};

/* Adds the axis "KEY=VALUES". Integer options take comma-separated values and
 * ranges A:B (A..B-1) or A:B:STEP; options whose values hold commas (widths,
 * data-range, reinit, freeze, lambda-scale, teacher-delta) separate their
 * values with ':'; every other option takes comma-separated values. Errors:
 * ST_ERR_ARG naming the spec (unknown or repeated key, empty list, a bad value
 * or range). */
enum st_status st_grid_add(struct st_grid *g, const char *spec, struct st_err *err);

/* Number of runs (1 for an empty grid); 0 if it would overflow a long. */
long st_grid_size(const struct st_grid *g);

/* The most runs one sweep takes: each run's configuration is checked before
 * the first starts, and each gets a directory and a summary row. */
#define ST_SWEEP_MAX_RUNS 1000000

/* cfg = base with the axis values of run number run applied (not resolved).
 * Errors: ST_ERR_ARG (cannot happen for values st_grid_add accepted). */
enum st_status st_grid_apply(const struct st_grid *g, long run, struct st_train_cfg *cfg,
                             struct st_err *err);

/* The value string of axis a for run number run. */
const char *st_grid_value(const struct st_grid *g, int a, long run);

void st_grid_free(struct st_grid *g);

/* The tensors of the runs of a sweep, in the order they first appear (a
 * grid over widths: the deepest run's), each as its first run has it. */
struct st_names {
    int n, cap;
    /* summary.csv's other columns, from the base run and the grid
     * (st_sweep_columns): */
    int truth;          /* teacher-student: truth and correct; else each tensor's share */
    int xent, any_xent; /* the base run's loss is xent; some run's is (accuracy column) */
    char loss_col[16];  /* "mse", "xent", or "data_loss" when the grid varies the loss */
    int val;            /* val_ columns (--val-fraction, in the base run or the grid) */
    int penalty_axis;   /* the grid varies --penalty: its value's column is penalty_value */
    int n_eval;         /* the base run's evaluation sets */
    char eval_prefix[ST_EVAL_MAX][ST_EVAL_NAME_MAX + 8];
    struct st_sweep_tensor {
        char name[ST_NAME_MAX], unit[ST_NAME_MAX], role[ST_NAME_MAX];
        int matrix;
        double size; /* entries; NaN when the runs' differ (a grid over the widths) */
    } *t;
};

/* Adds the tensors of cfg's model (resolved) that names does not hold yet.
 * Errors: those of laying the model out, ST_ERR_NOMEM. */
enum st_status st_names_add(struct st_names *names, const struct st_train_cfg *cfg,
                            struct st_err *err);
void st_names_free(struct st_names *names);

/* Resolves every run of the grid over base (the first that does not resolve
 * is the error, "run N of the grid: ...") and collects their tensors into
 * names (zeroed first). Errors: ST_ERR_ARG, ST_ERR_NOMEM. */
enum st_status st_sweep_names(const struct st_grid *g, const struct st_train_cfg *base,
                              struct st_names *names, struct st_err *err);

/* The columns of summary.csv besides the tensors' for the runs of grid g
 * over base (unresolved), into names. */
void st_sweep_columns(struct st_names *names, const struct st_grid *g,
                      const struct st_train_cfg *base);

/* A sweep.ini's text read back: its grid axes into g (empty at first), its
 * options over base's values into base, and, when grid_lines is not NULL,
 * each "grid = ..." line written to it as it stands. Free g with
 * st_grid_free(). Errors: those of the ini syntax, st_grid_add and
 * st_option_set, naming the line. */
enum st_status st_sweep_ini_parse(const char *text, struct st_grid *g, FILE *grid_lines,
                                  struct st_train_cfg *base, struct st_err *err);

/* summary.csv: the header, and one row per run from its result: run, the
 * grid values, status, steps_done, the data loss named by its loss (mse,
 * xent, or data_loss when the grid varies it), accuracy (when a run uses
 * xent), penalty, loss, the validation and evaluation sets' loss, accuracy
 * and forgetting (val_*, eval_*, eval_NAME_*), d_init_<name> for each of
 * names (nan where a run has no such tensor), changed, then truth and
 * correct for teacher-student runs or share_<name> (the update's share) for
 * data runs, wall_seconds and error. error is NULL for a run that
 * finished. */
void st_sweep_write_header(FILE *f, const struct st_grid *g, const struct st_names *names);
void st_sweep_write_row(FILE *f, const struct st_grid *g, long run, const struct st_names *names,
                        const struct st_train_result *res, enum st_status st, const char *error);

#endif
