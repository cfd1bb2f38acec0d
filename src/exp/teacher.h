/* teacher.h: the teacher-student problem. A random teacher (or one from
 * --teacher) labels inputs; the student's start is a copy of the teacher
 * except in the --reinit tensors: re-drawn afresh (full), or the teacher's
 * are the student's plus a random rank-R matrix (rank:R) or plus noise on a
 * fraction P of their entries (sparse:P). The truth, which tensors need to
 * change, is known. Each random part draws from its own stream of the seed
 * (teacher, student, label noise), so e.g. the data size leaves the teacher
 * and the student as they are. */
#ifndef ST_TEACHER_H
#define ST_TEACHER_H

#include "../core/model.h"
#include "../core/rng.h"
#include "cfg.h"

struct st_teacher {
    const struct st_model *m; /* borrowed */
    struct st_params p;       /* the teacher: labels the data; the d_teacher reference */
    int classify;             /* xent: a label is the index of the teacher's largest output */
    double label_noise;       /* std of the Gaussian noise on its outputs (mse) */
    struct st_rng noise_rng;
};

/* Builds the teacher for a resolved cfg: drawn, or the values of file (the
 * model of --teacher, checked by the caller) when not NULL; then start (the
 * student's theta0, already laid out and allocated) as its copy with the
 * --reinit tensors re-drawn, or the teacher perturbed there (rank, sparse).
 * Errors: ST_ERR_ARG (a bad --reinit), ST_ERR_NOMEM. Free with
 * st_teacher_free(). */
enum st_status st_teacher_setup(struct st_teacher *t, const struct st_train_cfg *cfg,
                                const struct st_model *m, const struct st_params *file,
                                struct st_params *start, struct st_err *err);

/* y[n, ycols] = the teacher's labels of x[n, in]: its outputs (plus label
 * noise when noise is set), or with xent the index of its largest output
 * (the first of equals). Errors: ST_ERR_NOMEM (its pass buffers). */
enum st_status st_teacher_label(struct st_teacher *t, const float *x, float *y, long n, int noise,
                                struct st_err *err);

void st_teacher_free(struct st_teacher *t);

#endif
