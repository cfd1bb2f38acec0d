/* sweep_rows.h: a sweep's summary.csv, its rows in grid order (ascending run
 * id) whatever order the runs finish in. A row is appended and flushed as
 * soon as every earlier run of the sweep has its row; one that finishes
 * before an earlier run waits, in memory and in OUT/pending.csv (appended and
 * flushed too), so a sweep killed at any moment loses only the runs that had
 * not finished: the next sweep into OUT takes the waiting rows from there.
 * Only the process that writes the files (MPI rank 0) uses this. */
#ifndef ST_SWEEP_ROWS_H
#define ST_SWEEP_ROWS_H

#include <stdio.h>

#include "../core/status.h"
#include "../exp/sweep.h"

struct st_sweep_rows {
    FILE *summary; /* OUT/summary.csv, appending */
    FILE *pending; /* OUT/pending.csv, opened when a row first waits */
    char pending_path[4200];
    long *order, n; /* the ids whose rows this sweep writes, ascending */
    char **row;     /* [n]: order[k]'s row while it waits, else NULL */
    long next;      /* order[next]'s row is the next one to write */
};

/* Opens out/summary.csv for a sweep of n_runs runs (header from grid and
 * names when it has none). The finished runs' rows (ok or diverged) of
 * summary.csv and pending.csv set done[id]; a row cut by a kill or of a
 * failed run is dropped, so that run is done again. The runs left to do with
 * id % shard_n == shard_k - 1 (every run when shard_n is 0) go to
 * ids[0..*n_todo) (room for n_runs), ascending. summary.csv keeps the rows
 * before the first of them, in order; later ones wait for it in pending.csv.
 * Errors: ST_ERR_IO, ST_ERR_NOMEM; close r even then. */
enum st_status st_sweep_rows_open(struct st_sweep_rows *r, const char *out, long n_runs,
                                  long shard_k, long shard_n, const struct st_grid *grid,
                                  const struct st_names *names, unsigned char *done, long *ids,
                                  long *n_todo, struct st_err *err);

/* The row (a line with its newline) of run id, one of ids: written now if
 * every earlier one is, with those that waited for it; else it waits. When
 * the last row is written, pending.csv is removed. */
void st_sweep_rows_put(struct st_sweep_rows *r, long id, const char *row);

/* Rows still waiting (for runs that did not finish). */
long st_sweep_rows_waiting(const struct st_sweep_rows *r);

/* Closes the files and frees r (rows still waiting are in pending.csv). */
void st_sweep_rows_close(struct st_sweep_rows *r);

#endif
