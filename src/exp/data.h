/* data.h: data sets from .npy files, checked against the network they feed:
 * inputs [N, in] with every value finite; targets [N, out] (mse) or class
 * indices [N] / [N, 1] (xent), integers from 0 to out - 1. */
#ifndef ST_DATA_H
#define ST_DATA_H

#include "../core/status.h"
#include "../io/npy.h"
#include "train.h"

/* Reads inputs for a network with in inputs. opt names the option in
 * messages ("x", "eval-x"). Errors: those of st_npy_read; ST_ERR_FORMAT for
 * a shape other than [N >= 1, in] or a non-finite value (row and column named). */
enum st_status st_data_read_inputs(const char *opt, const char *path, int in, struct st_npy *a,
                                   struct st_err *err);

/* Reads n rows of targets for a network with out outputs under loss.
 * Errors: those of st_npy_read; ST_ERR_FORMAT for another shape, a non-finite
 * target, or a class that is not an integer in [0, out). */
enum st_status st_data_read_targets(const char *path, long n, int out, enum st_loss_kind loss,
                                    struct st_npy *b, struct st_err *err);

#endif
