/* checkpoint.h: the checkpoint of a run in progress (OUT/checkpoint.bin, in
 * the file format of io/ckpt.h): everything the next step depends on. The
 * student, theta0, the teacher, the optimizer's state and step count, the
 * random generators of the data, label noise and minibatch order, the
 * position in the order, the metrics.csv length, the running values
 * summary.json needs (run.h's tally), a manifest of the tensors' names and
 * shapes, the options (as config.ini's text, and as exact name/value pairs
 * that --resume reads back) and a hash of the data. */
#ifndef ST_CHECKPOINT_H
#define ST_CHECKPOINT_H

#include "run.h"

/* Writes the state at the top of step k (k updates taken, rows before k
 * logged, metrics.csv synced first) atomically; elapsed: the run's seconds
 * so far. Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_checkpoint_save(struct st_run *r, long k, double elapsed, struct st_err *err);

/* Loads OUT/checkpoint.bin into a freshly set-up run: *k0 the step to go on
 * from, *csv_bytes the length metrics.csv had, *elapsed the seconds spent.
 * Errors: ST_ERR_ARG (no checkpoint, other options, other tensors, changed
 * data), ST_ERR_FORMAT (a corrupted file), ST_ERR_IO. */
enum st_status st_checkpoint_load(struct st_run *r, long *k0, long *csv_bytes, double *elapsed,
                                  struct st_err *err);

#endif
