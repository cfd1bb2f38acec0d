/* products.h: --products, the way each layer's matrix products run where a
 * model family has two (an MLP: its own kernels, dense.c, or OpenBLAS).
 *
 *   auto   each layer the faster of the two on this CPU, at the run's batch
 *          and thread count: both timed once (a few repeats of the layer's
 *          forward and backward) and the answer kept in a cache file, so that
 *          the same run on the same machine takes the same path, and so the
 *          same bits, every time;
 *   own    every layer through the own kernels;
 *   blas   every layer through OpenBLAS;
 *   fixed  the rule before auto, the same on every CPU: the own kernels up to
 *          ST_MLP_FIXED_MAX weights, OpenBLAS above;
 *   LIST   one of own or blas per layer, as config.ini records the choice
 *          ("own,own,blas"), so that a re-run or --resume takes it again.
 *
 * The cache is $XDG_CACHE_HOME/sparsetune/products-1.tsv (or
 * $HOME/.cache/...): one line per machine (st_runtime_machine), thread
 * count, layer shape and batch, with both times. Processes take a lock on it
 * while they time, so MPI ranks and parallel runs measure one at a time and
 * agree; an entry once written is kept. Where no cache can be written the
 * answers last for the process. */
#ifndef ST_PRODUCTS_H
#define ST_PRODUCTS_H

#include <stddef.h>

#include "../core/model.h"
#include "../core/status.h"

/* Room for a resolved list: "blas," per layer. */
#define ST_PRODUCTS_MAX (ST_MLP_MAX_LAYERS * 5 + 1)

/* Checks spec against model m (a list must name each of its layers).
 * Errors: ST_ERR_ARG naming --products and what was expected. */
enum st_status st_products_check(const struct st_model *m, const char *spec, struct st_err *err);

/* Resolves spec for m at batch B on the threads set now, sets m's paths and
 * writes the per-layer list into spec (room ST_PRODUCTS_MAX); a model with
 * one way gets "blas". */
enum st_status st_products_choose(struct st_model *m, int B, char *spec, struct st_err *err);

#endif
