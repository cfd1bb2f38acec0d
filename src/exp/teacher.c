/* teacher.c: see teacher.h. */
#include "teacher.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/select.h"

/* rank:R: W_teacher += s A B^T / sqrt(R), A [out,R], B [in,R] ~ N(0,1), so the
 * delta's entries have standard deviation s; only matrices. sparse:P: each
 * entry of a chosen tensor is perturbed by N(0, s^2) with probability P. */
static enum st_status perturb(struct st_teacher *t, const struct st_train_cfg *cfg,
                              const unsigned char *chosen, struct st_rng *rng,
                              struct st_err *err)
{
    double s = cfg->teacher_delta_scale;
    for (int v = 0; v < t->p.n_views; v++) {
        struct st_view *W = &t->p.v[v];
        if (!chosen[v])
            continue;
        if (cfg->delta_kind == ST_DELTA_SPARSE) {
            for (size_t i = 0; i < st_view_size(W); i++)
                if (st_rng_uniform(rng) < cfg->delta_frac)
                    W->data[i] += (float)(s * st_rng_normal(rng));
            continue;
        }
        if (W->ndim != 2)
            continue;
        int out = W->rows, in = W->cols;
        /* A rank above min(out, in) is full rank: cap it there. */
        int R = cfg->delta_rank < (out < in ? out : in) ? cfg->delta_rank : (out < in ? out : in);
        double *A = malloc(sizeof(double) * (size_t)out * (size_t)R);
        double *B = malloc(sizeof(double) * (size_t)in * (size_t)R);
        if (!A || !B) {
            free(A);
            free(B);
            return st_err_set(err, ST_ERR_NOMEM, "cannot allocate a rank-%d teacher delta", R);
        }
        for (long i = 0; i < (long)out * R; i++)
            A[i] = st_rng_normal(rng);
        for (long i = 0; i < (long)in * R; i++)
            B[i] = st_rng_normal(rng);
        for (int i = 0; i < out; i++)
            for (int j = 0; j < in; j++) {
                double d = 0.0;
                for (int r = 0; r < R; r++)
                    d += A[(long)i * R + r] * B[(long)j * R + r];
                W->data[(long)i * in + j] += (float)(s * d / sqrt((double)R));
            }
        free(A);
        free(B);
    }
    return ST_OK;
}

enum st_status st_teacher_setup(struct st_teacher *t, const struct st_train_cfg *cfg,
                                const struct st_model *m, const struct st_params *file,
                                struct st_params *start, struct st_err *err)
{
    struct st_teacher q;
    struct st_rng rng;
    unsigned char *chosen = NULL;
    enum st_status st;

    memset(&q, 0, sizeof q);
    q.m = m;
    q.classify = cfg->loss == ST_LOSS_XENT;
    q.label_noise = cfg->label_noise;
    st_rng_seed(&q.noise_rng, cfg->seed, ST_STREAM_NOISE);
    if ((st = st_params_twin(&q.p, start, err)) != ST_OK)
        return st;
    if (file) {
        st_params_copy(&q.p, file);
    } else {
        st_rng_seed(&rng, cfg->seed, ST_STREAM_TEACHER);
        st_model_draw(m, &q.p, &rng, NULL);
    }
    chosen = malloc((size_t)start->n_views + 1);
    if (!chosen) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = st_select(start, "reinit", cfg->reinit, chosen, err)) != ST_OK)
        goto fail;
    st_params_copy(start, &q.p);
    st_rng_seed(&rng, cfg->seed, ST_STREAM_STUDENT);
    if (cfg->delta_kind == ST_DELTA_FULL)
        st_model_draw(m, start, &rng, chosen);
    else if ((st = perturb(&q, cfg, chosen, &rng, err)) != ST_OK)
        goto fail;
    /* A perturbation too large for float32 makes an infinite teacher, whose
     * labels would be constant and the run's verdict meaningless. */
    for (int v = 0; v < q.p.n_views; v++)
        for (size_t i = 0; i < st_view_size(&q.p.v[v]); i++)
            if (!isfinite(q.p.v[v].data[i])) {
                st = st_err_set(err, ST_ERR_ARG, "--teacher-delta-scale %g: the teacher's %s is "
                                "not finite (beyond float32); expected a smaller scale",
                                cfg->teacher_delta_scale, q.p.v[v].name);
                goto fail;
            }
    free(chosen);
    *t = q;
    return ST_OK;
fail:
    free(chosen);
    st_teacher_free(&q);
    return st;
}

enum st_status st_teacher_label(struct st_teacher *t, const float *x, float *y, long n, int noise,
                                struct st_err *err)
{
    struct st_model_io io = st_model_io(t->m);
    long out = io.rows * io.cols, ycols = t->classify ? io.rows : out;
    struct st_work work;
    enum st_status st = st_work_init(&work, t->m, (int)st_model_pass_rows(t->m, n), err);
    if (st != ST_OK)
        return st;
    for (long r0 = 0; r0 < n; r0 += work.max_batch) {
        int B = (int)(n - r0 < work.max_batch ? n - r0 : work.max_batch);
        const float *o = st_model_forward(t->m, &t->p, &work, x + r0 * io.in, B);
        float *yb = y + r0 * ycols;
        if (t->classify) {
            for (long b = 0; b < (long)B * io.rows; b++) {
                int arg = 0;
                for (int j = 1; j < io.cols; j++)
                    if (o[b * io.cols + j] > o[b * io.cols + arg])
                        arg = j;
                yb[b] = (float)arg;
            }
            continue;
        }
        memcpy(yb, o, (size_t)B * (size_t)out * sizeof *yb);
        for (long i = 0; i < (long)B * out; i++)
            if (!isfinite(yb[i])) {
                st_work_free(&work);
                return st_err_set(err, ST_ERR_ARG, "the teacher's output for input row %ld is "
                                  "not finite: the inputs (--data-range, --x) or the teacher's "
                                  "weights are too large for float32", r0 + i / out);
            }
        if (noise && t->label_noise > 0.0)
            for (long i = 0; i < (long)B * out; i++) {
                yb[i] += (float)(t->label_noise * st_rng_normal(&t->noise_rng));
                if (!isfinite(yb[i])) {
                    st_work_free(&work);
                    return st_err_set(err, ST_ERR_ARG, "--label-noise %g: the label of row %ld "
                                      "is not finite (beyond float32); expected a smaller noise",
                                      t->label_noise, r0 + i / out);
                }
            }
    }
    st_work_free(&work);
    return ST_OK;
}

void st_teacher_free(struct st_teacher *t)
{
    if (!t)
        return;
    st_params_free(&t->p);
    memset(t, 0, sizeof *t);
}
