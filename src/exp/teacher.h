/* teacher.h: the teacher-student problem. A random teacher labels inputs; the
 * student is a copy of the teacher except in the chosen layers: re-drawn
 * afresh (full), or the teacher's layer is the student's plus a random
 * rank-R matrix (rank:R) or plus noise on a fraction P of its entries
 * (sparse:P). The truth, which tensors need to change, is known. */
#ifndef ST_TEACHER_H
#define ST_TEACHER_H

#include "../core/mlp.h"
#include "../core/rng.h"
#include "data.h"
#include "train.h"

struct st_ts {
    struct st_mlp net;
    struct st_params teacher;  /* labels the data; d_teacher reference */
    struct st_params student;  /* trained */
    struct st_params init;     /* the student's start theta0 */
    float *x, *y;              /* fixed data [n, in], [n, out] ([n, 1] classify); NULL online */
    long n;
    struct st_mlp_work twork;  /* teacher passes for labelling online data */
    struct st_rng data_rng;    /* online inputs */
    struct st_rng noise_rng;   /* label noise */
    enum st_data_dist dist;
    double lo, hi;             /* uniform input bounds */
    unsigned char truth[ST_MAX_TENSORS]; /* tensors where teacher and student start differ */
    double label_noise;
    int classify;              /* xent: y holds the teacher's class, [n, 1] */
    float *ex, *ey;            /* the evaluation set (--eval-x/--eval-y) or NULL */
    float *vx, *vy;            /* the held-out rows of --x/--y (--val-fraction) or NULL */
    struct st_stand stand;     /* input statistics applied to x, vx, ex (n = 0: none) */
    long vn;
    long en;
};

/* Builds teacher, student and (unless online) the fixed data set from a
 * resolved cfg. Errors: ST_ERR_ARG, ST_ERR_NOMEM. Free with st_ts_free(). */
enum st_status st_ts_setup(struct st_ts *ts, const struct st_train_cfg *cfg, struct st_err *err);

/* Draws B fresh inputs x[B, in] and their labels y[B, out] (online data). */
void st_ts_draw(struct st_ts *ts, float *x, float *y, int B);

void st_ts_free(struct st_ts *ts);

#endif
