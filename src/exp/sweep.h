/* sweep.h: grids of runs. A grid is a list of axes, each an option name and
 * its values (`--grid lambda=0,1e-3 --grid seed=0:16`); its runs are the
 * cartesian product, numbered 0..n-1 with the first axis varying slowest.
 * Any run option can be an axis; values are checked when the axis is added. */
#ifndef ST_SWEEP_H
#define ST_SWEEP_H

#include <stdio.h>

#include "train.h"

#define ST_GRID_MAX_AXES 32

struct st_grid_axis {
    char key[64];
    int n;          /* number of values */
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

/* cfg = base with the axis values of run number run applied (not resolved).
 * Errors: ST_ERR_ARG (cannot happen for values st_grid_add accepted). */
enum st_status st_grid_apply(const struct st_grid *g, long run, struct st_train_cfg *cfg,
                             struct st_err *err);

/* The value string of axis a for run number run. */
const char *st_grid_value(const struct st_grid *g, int a, long run);

void st_grid_free(struct st_grid *g);

/* summary.csv: the header, and one row per run from its result. Tensor
 * columns cover w1, b1, ... up to max_layers (nan where a run has fewer).
 * error is NULL for a run that finished. */
void st_sweep_write_header(FILE *f, const struct st_grid *g, int max_layers);
void st_sweep_write_row(FILE *f, const struct st_grid *g, long run, int max_layers,
                        const struct st_train_result *res, enum st_status st, const char *error);

#endif
