/* teacher.c: teacher-student setup. Each random part draws from its own stream
 * of the seed (teacher, student, data, noise), so changing e.g. the data size
 * leaves the teacher and the student unchanged. */
#include "teacher.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/npy.h"
#include "data.h"
#include "../io/safetensors.h"

static void draw_inputs(const struct st_ts *ts, struct st_rng *rng, float *x, long n)
{
    if (ts->dist == ST_DATA_UNIFORM)
        st_rng_fill_uniform(rng, x, n, ts->lo, ts->hi);
    else
        st_rng_fill_normal(rng, x, n, 0.0, 1.0);
}

/* y[B, out] = teacher(x) + noise; with xent, y[B] = the index of the
 * teacher's largest output (the first of equals). */
static void label(struct st_ts *ts, const float *x, float *y, int B)
{
    const float *t = st_mlp_forward(&ts->net, &ts->teacher, &ts->twork, x, B);
    int out = ts->net.widths[ts->net.n_layers];
    if (ts->classify) {
        for (int b = 0; b < B; b++) {
            int arg = 0;
            for (int j = 1; j < out; j++)
                if (t[(long)b * out + j] > t[(long)b * out + arg])
                    arg = j;
            y[b] = (float)arg;
        }
        return;
    }
    memcpy(y, t, (size_t)B * (size_t)out * sizeof *y);
    if (ts->label_noise > 0.0)
        for (long i = 0; i < (long)B * out; i++)
            y[i] += (float)(ts->label_noise * st_rng_normal(&ts->noise_rng));
}

/* "1,20,20,1" into buf (cut short if it does not fit). */
static void widths_text(char *buf, size_t size, const int *w, int L)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int l = 0; l <= L; l++) {
        int n = snprintf(buf + len, size - len, l ? ",%d" : "%d", w[l]);
        if (n < 0 || (size_t)n >= size - len)
            return;
        len += (size_t)n;
    }
}

/* Weights from a model file into p: the file's widths must be the run's, and
 * an activation it names must be the run's. */
static enum st_status load_weights(struct st_params *p, const char *opt, const char *path,
                                   const struct st_train_cfg *cfg, struct st_err *err)
{
    struct st_params q;
    int widths[ST_MAX_LAYERS + 1], L;
    char act[ST_SAFETENSORS_ACT_MAX + 1] = "";
    enum st_act a;
    enum st_status st = st_safetensors_load_model(path, &q, widths, &L, act, err);

    if (st != ST_OK)
        return st;
    if (L != cfg->n_layers || memcmp(widths, cfg->widths, (size_t)(L + 1) * sizeof *widths)) {
        char have[256], want[256];
        widths_text(have, sizeof have, widths, L);
        widths_text(want, sizeof want, cfg->widths, cfg->n_layers);
        st = st_err_set(err, ST_ERR_SHAPE, "--%s %s: a network of widths %s; the run's --widths "
                        "is %s", opt, path, have, want);
    } else if (act[0] && (st_act_parse(act, &a) != 0 || a != cfg->act)) {
        st = st_err_set(err, ST_ERR_FORMAT, "--%s %s: its metadata says activation '%s'; the "
                        "run's --activation is %s", opt, path, act, st_act_name(cfg->act));
    } else {
        st_params_copy(p, &q);
    }
    st_params_free(&q);
    return st;
}

/* A data set from xpath and ypath (or the teacher's labels of the inputs
 * when ypath is "none"): shapes against the network, every value finite,
 * classes integral and in range. On success *x, *y (malloc'd) and *n. */
static enum st_status load_set(struct st_ts *ts, const struct st_train_cfg *cfg, const char *xopt,
                               const char *xpath, const char *ypath, float **x, float **y, long *n,
                               struct st_err *err)
{
    struct st_npy a, b;
    int ycols = st_train_target_cols(cfg);
    enum st_status st;

    if (strcmp(cfg->y_col, "none") && st_data_is_csv(xpath) && !strcmp(ypath, "none")) {
        /* inputs and targets from one CSV file */
        st = st_data_read_split(xopt, xpath, cfg->y_col, cfg->widths[0],
                                cfg->widths[cfg->n_layers], cfg->loss, &a, &b, err);
        if (st != ST_OK)
            return st;
        *x = a.data;
        *y = b.data;
        *n = a.rows;
        return ST_OK;
    }
    st = st_data_read_inputs(xopt, xpath, cfg->widths[0], &a, err);
    if (st != ST_OK)
        return st;
    if (!strcmp(ypath, "none")) {
        float *t = malloc((size_t)a.rows * (size_t)ycols * sizeof *t);
        struct st_mlp_work w;
        if (!t || (st = st_mlp_work_init(&w, &ts->net, (int)a.rows, err)) != ST_OK) {
            free(t);
            st_npy_free(&a);
            return st != ST_OK ? st : st_err_set(err, ST_ERR_NOMEM, "cannot allocate targets");
        }
        /* the teacher's labels, through a pass sized for this set */
        struct st_mlp_work keep = ts->twork;
        ts->twork = w;
        label(ts, a.data, t, (int)a.rows);
        ts->twork = keep;
        st_mlp_work_free(&w);
        *y = t;
    } else {
        st = st_data_read_targets(ypath, a.rows, cfg->widths[cfg->n_layers], cfg->loss, &b, err);
        if (st != ST_OK) {
            st_npy_free(&a);
            return st;
        }
        *y = b.data;
    }
    *x = a.data;
    *n = a.rows;
    return ST_OK;
}

/* Moves cfg->val_rows rows, drawn with the data stream, out of x/y into
 * vx/vy; the rest keep their order. */
static enum st_status split_val(struct st_ts *ts, const struct st_train_cfg *cfg,
                                struct st_err *err)
{
    long n = ts->n + cfg->val_rows, nv = cfg->val_rows;
    int in = cfg->widths[0], yc = st_train_target_cols(cfg);
    long *perm = malloc((size_t)n * sizeof *perm);
    unsigned char *held = calloc((size_t)n, 1);
    float *vx = malloc((size_t)nv * (size_t)in * sizeof *vx);
    float *vy = malloc((size_t)nv * (size_t)yc * sizeof *vy);

    if (!perm || !held || !vx || !vy) {
        free(perm);
        free(held);
        free(vx);
        free(vy);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the validation split");
    }
    for (long i = 0; i < n; i++)
        perm[i] = i;
    for (long i = 0; i < nv; i++) { /* a partial Fisher-Yates: the first nv of a shuffle */
        long j = i + (long)st_rng_below(&ts->data_rng, (uint64_t)(n - i));
        long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        held[perm[i]] = 1;
    }
    for (long i = 0; i < nv; i++) {
        memcpy(vx + (size_t)i * in, ts->x + (size_t)perm[i] * in, (size_t)in * sizeof *vx);
        memcpy(vy + (size_t)i * yc, ts->y + (size_t)perm[i] * yc, (size_t)yc * sizeof *vy);
    }
    long k = 0;
    for (long i = 0; i < n; i++)
        if (!held[i]) {
            memmove(ts->x + (size_t)k * in, ts->x + (size_t)i * in, (size_t)in * sizeof *vx);
            memmove(ts->y + (size_t)k * yc, ts->y + (size_t)i * yc, (size_t)yc * sizeof *vy);
            k++;
        }
    free(perm);
    free(held);
    ts->vx = vx;
    ts->vy = vy;
    ts->vn = nv;
    return ST_OK;
}

/* rank:R: W_teacher += s A B^T / sqrt(R), A [out,R], B [in,R] ~ N(0,1), so the
 * delta's entries have standard deviation s. sparse:P: each entry of W and b
 * is perturbed by N(0, s^2) with probability P. Only the chosen layers. */
static enum st_status perturb_teacher(struct st_ts *q, const struct st_train_cfg *cfg,
                                      struct st_rng *rng, struct st_err *err)
{
    double s = cfg->teacher_delta_scale;
    for (int l = 1; l <= cfg->n_layers; l++) {
        if (!cfg->reinit_layer[l - 1])
            continue;
        struct st_view *W = &q->teacher.v[2 * l - 2], *b = &q->teacher.v[2 * l - 1];
        int out = W->rows, in = W->cols;
        if (cfg->delta_kind == 1) {
            /* A rank above min(out, in) is full rank: cap it there. */
            int R = cfg->delta_rank < (out < in ? out : in) ? cfg->delta_rank : (out < in ? out : in);
            double *A = malloc(sizeof(double) * (size_t)out * (size_t)R);
            double *B = malloc(sizeof(double) * (size_t)in * (size_t)R);
            if (!A || !B) {
                free(A);
                free(B);
                return st_err_set(err, ST_ERR_NOMEM, "cannot allocate a rank-%d teacher delta", R);
            }
            {
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
            }
            free(A);
            free(B);
        } else {
            for (size_t i = 0; i < st_view_size(W); i++)
                if (st_rng_uniform(rng) < cfg->delta_frac)
                    W->data[i] += (float)(s * st_rng_normal(rng));
            for (size_t i = 0; i < st_view_size(b); i++)
                if (st_rng_uniform(rng) < cfg->delta_frac)
                    b->data[i] += (float)(s * st_rng_normal(rng));
        }
    }
    return ST_OK;
}

enum st_status st_ts_setup(struct st_ts *ts, const struct st_train_cfg *cfg, struct st_err *err)
{
    struct st_ts q;
    struct st_rng rng;
    enum st_status st;
    int in = cfg->widths[0];
    long label_batch = cfg->online ? cfg->batch : cfg->data_size; /* batch is resolved */

    memset(&q, 0, sizeof q);
    q.n = cfg->data_size;
    q.dist = cfg->data_dist;
    q.lo = cfg->data_lo;
    q.hi = cfg->data_hi;
    q.label_noise = cfg->label_noise;
    q.classify = cfg->loss == ST_LOSS_XENT;
    st = st_mlp_init(&q.net, cfg->widths, cfg->n_layers, cfg->act, err);
    if (st == ST_OK)
        st = st_mlp_params_init(&q.net, &q.teacher, err);
    if (st == ST_OK)
        st = st_params_twin(&q.student, &q.teacher, err);
    if (st == ST_OK)
        st = st_params_twin(&q.init, &q.teacher, err);
    if (st == ST_OK)
        st = st_mlp_work_init(&q.twork, &q.net, (int)label_batch, err);
    if (st != ST_OK)
        goto fail;

    st_rng_seed(&rng, cfg->seed, ST_STREAM_TEACHER);
    st_mlp_init_uniform(&q.net, &q.teacher, &rng, NULL);
    if (strcmp(cfg->teacher_path, "none") &&
        (st = load_weights(&q.teacher, "teacher", cfg->teacher_path, cfg, err)) != ST_OK)
        goto fail;
    st_params_copy(&q.student, &q.teacher);
    st_rng_seed(&rng, cfg->seed, ST_STREAM_STUDENT);
    if (cfg->task_data)
        /* No teacher: the student draws every layer (or comes from --student-init), and
         * the teacher slot holds its start, so that nothing counts as a truth. */
        st_mlp_init_uniform(&q.net, &q.student, &rng, NULL);
    else if (cfg->delta_kind == 0)
        st_mlp_init_uniform(&q.net, &q.student, &rng, cfg->reinit_layer);
    else if ((st = perturb_teacher(&q, cfg, &rng, err)) != ST_OK)
        goto fail;
    if (strcmp(cfg->init_path, "none") &&
        (st = load_weights(&q.student, "student-init", cfg->init_path, cfg, err)) != ST_OK)
        goto fail;
    st_params_copy(&q.init, &q.student);
    if (cfg->task_data)
        st_params_copy(&q.teacher, &q.student);
    for (int t = 0; t < q.teacher.n_views; t++)
        q.truth[t] = memcmp(q.teacher.v[t].data, q.student.v[t].data,
                            st_view_size(&q.teacher.v[t]) * sizeof(float)) != 0;

    st_rng_seed(&q.data_rng, cfg->seed, ST_STREAM_DATA);
    st_rng_seed(&q.noise_rng, cfg->seed, ST_STREAM_NOISE);
    /* Statistics the start model carries come first; --standardize fits new ones. */
    if (strcmp(cfg->init_path, "none") &&
        (st = st_stand_load(&q.stand, cfg->init_path, in, err)) != ST_OK)
        goto fail;
    if (q.stand.n > 0 && !cfg->task_data) {
        /* A teacher labels raw inputs; standardized ones would not match. */
        st = st_err_set(err, ST_ERR_ARG, "--student-init %s: carries input statistics "
                        "(input_mean, input_std) from a standardized data set; use it with "
                        "finetune (--task data)", cfg->init_path);
        goto fail;
    }
    if (strcmp(cfg->x_path, "none")) {
        long n;
        if ((st = load_set(&q, cfg, "x", cfg->x_path, cfg->y_path, &q.x, &q.y, &n, err)) != ST_OK)
            goto fail;
        if (n != q.n + cfg->val_rows) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: %ld rows now, %ld when the run was set up",
                            cfg->x_path, n, q.n + cfg->val_rows);
            goto fail;
        }
        if (cfg->val_rows > 0 && (st = split_val(&q, cfg, err)) != ST_OK)
            goto fail;
        if (cfg->standardize && q.stand.n == 0 &&
            (st = st_stand_fit(&q.stand, q.x, q.n, in, err)) != ST_OK)
            goto fail;
        if (q.stand.n > 0) {
            st_stand_apply(&q.stand, q.x, q.n);
            if (q.vx)
                st_stand_apply(&q.stand, q.vx, q.vn);
        }
        st_mlp_work_free(&q.twork);
    } else if (!cfg->online) {
        size_t nx = (size_t)q.n * (size_t)in;
        size_t ny = (size_t)q.n * (size_t)st_train_target_cols(cfg);
        q.x = malloc(nx * sizeof *q.x);
        q.y = malloc(ny * sizeof *q.y);
        if (!q.x || !q.y) {
            st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu bytes of data",
                            (nx + ny) * sizeof(float));
            goto fail;
        }
        draw_inputs(&q, &q.data_rng, q.x, (long)nx);
        label(&q, q.x, q.y, (int)q.n);
        st_mlp_work_free(&q.twork); /* only online data labels again */
    }
    if (strcmp(cfg->eval_x, "none")) {
        /* After the training data, and labelled (where the teacher labels it)
         * without noise: the evaluation set leaves the training run as it is. */
        double noise = q.label_noise;
        q.label_noise = 0.0;
        st = load_set(&q, cfg, "eval-x", cfg->eval_x, cfg->eval_y, &q.ex, &q.ey, &q.en, err);
        q.label_noise = noise;
        if (st != ST_OK)
            goto fail;
        if (q.stand.n > 0)
            st_stand_apply(&q.stand, q.ex, q.en);
    }
    *ts = q;
    return ST_OK;
fail:
    st_ts_free(&q);
    return st;
}

void st_ts_draw(struct st_ts *ts, float *x, float *y, int B)
{
    draw_inputs(ts, &ts->data_rng, x, (long)B * ts->net.widths[0]);
    label(ts, x, y, B);
}

void st_ts_free(struct st_ts *ts)
{
    if (!ts)
        return;
    st_params_free(&ts->teacher);
    st_params_free(&ts->student);
    st_params_free(&ts->init);
    st_mlp_work_free(&ts->twork);
    free(ts->x);
    free(ts->y);
    free(ts->ex);
    free(ts->vx);
    st_stand_free(&ts->stand);
    free(ts->vy);
    free(ts->ey);
    memset(ts, 0, sizeof *ts);
}
