/* penalty.h: penalties on the update Delta = theta - theta0 (distance to the start).
 * l1: R = sum_t mean_i |Delta_ti| (reduction mean, the default) or
 *     R = sum_t sum_i |Delta_ti| (reduction sum), over the trainable tensors t.
 * The subgradient uses sign(0) = 0. */
#ifndef ST_PENALTY_H
#define ST_PENALTY_H

#include "params.h"

enum st_penalty_kind { ST_PEN_NONE, ST_PEN_L1 };
enum st_reduction { ST_RED_MEAN, ST_RED_SUM };

const char *st_penalty_name(enum st_penalty_kind k);
int st_penalty_parse(const char *s, enum st_penalty_kind *k);
const char *st_reduction_name(enum st_reduction r);
int st_reduction_parse(const char *s, enum st_reduction *r);

/* Weight of tensor t's entries in R: 1/n_t for mean, 1 for sum. */
double st_penalty_tensor_scale(enum st_reduction r, size_t n_t);

/* R(theta) without lambda, accumulated in double; trainable NULL = all. */
double st_penalty_value(enum st_penalty_kind k, enum st_reduction r, const struct st_params *theta,
                        const struct st_params *theta0, const unsigned char *trainable);

/* Subgradient step: g += lambda * dR/dtheta, i.e. lambda * sign(Delta) * scale_t for l1. */
void st_penalty_grad(enum st_penalty_kind k, enum st_reduction r, double lambda,
                     struct st_params *g, const struct st_params *theta,
                     const struct st_params *theta0, const unsigned char *trainable);

#endif
