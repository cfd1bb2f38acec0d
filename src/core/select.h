/* select.h: one syntax to name a model's tensors, for --reinit, --freeze,
 * --lambda-scale and the units of baselines and compare. A selector is a
 * comma-separated list of tokens; each token is a tensor's name (w2), a
 * group's name (2: layer 2's tensors w2 and b2) or a shell-style glob over
 * tensor and group names ('b*': every bias; 'h*.attn' for a transformer's
 * attention groups). "none" (or nothing) selects no tensor. A token that
 * names nothing (an unknown name, a glob without a match, "+1", " 1") and a
 * tensor selected twice are errors that name the token. */
#ifndef ST_SELECT_H
#define ST_SELECT_H

#include "params.h"

/* mask[t] = 1 for every view of layout that spec selects, 0 for the others
 * (mask has room for layout->n_views). opt names the option in messages
 * ("freeze"). Errors: ST_ERR_ARG. */
enum st_status st_select(const struct st_params *layout, const char *opt, const char *spec,
                         unsigned char *mask, struct st_err *err);

/* Adds the views one token selects to mask, refusing any already in it
 * (taken[t] says by which token: NULL to say nothing). spec is the whole list
 * for messages. Errors: ST_ERR_ARG. */
enum st_status st_select_token(const struct st_params *layout, const char *opt, const char *spec,
                               const char *token, unsigned char *mask, struct st_err *err);

/* NAME=FACTOR items ("w1=0,2=0.5"): scale[t] = the factor of the item that
 * selects view t, 1 where none does (scale has room for n_views). Factors
 * are plain decimal numbers >= 0. Errors: ST_ERR_ARG naming the item. */
enum st_status st_select_scale(const struct st_params *layout, const char *opt, const char *spec,
                               double *scale, struct st_err *err);

/* The selector of names[u] for each u < n whose bit in mask equals bit:
 * "w1,b1,3", "none" for none. Errors: ST_ERR_ARG when it does not fit in
 * size, naming what would not fit. */
enum st_status st_select_join(const char *const *names, int n, unsigned long mask, int bit,
                              char *buf, size_t size, struct st_err *err);

#endif
