/* bench_step.c: where one training step goes.
 *
 *     build/bench_step [STEPS [WIDTHS [THREADS]]]
 *
 * Times each part of a step (default widths 1,20,20,1, relu, 1,000 samples,
 * Adam, l1 at lambda 1e-3, the logged observables) over STEPS steps (10,000),
 * with the step's GFLOP/s; for the seed's widths it then times the three
 * products of some narrow layers alone, in every build of the kernels the CPU
 * runs (AVX-512, AVX2, baseline). THREADS (1) is handed to OpenBLAS,
 * which serves the wide layers. The numbers drift with the machine's load, so
 * compare within a run. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "core/dense.h"
#include "core/dense_isa.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/par.h"
#include "core/penalty.h"
#include "io/fmt.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const struct st_err *err)
{
    fprintf(stderr, "bench_step: %s\n", err->msg);
    exit(1);
}

/* The three products of an in -> out layer on B samples, reps times each. */
static void layer(const struct st_dense_kernels *k, int in, int out, int B, int reps)
{
    long ld = st_dense_ld(B);
    float *x = aligned_alloc(64, sizeof(float) * (size_t)(in * ld));
    float *z = aligned_alloc(64, sizeof(float) * (size_t)(out * ld));
    float *dx = aligned_alloc(64, sizeof(float) * (size_t)(in * ld));
    float *W = malloc(sizeof(float) * (size_t)(in * out)), *b = calloc((size_t)out, sizeof *b);
    float *dW = calloc((size_t)(in * out), sizeof *dW), *db = calloc((size_t)out, sizeof *db);
    double t[3], flop = 2.0 * B * in * out;

    if (!x || !z || !dx || !W || !b || !dW || !db) {
        fprintf(stderr, "bench_step: out of memory\n");
        exit(1);
    }
    for (long i = 0; i < in * ld; i++)
        x[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < in * out; i++)
        W[i] = 0.01f * (float)(i % 5);
    t[0] = now();
    for (int r = 0; r < reps; r++)
        k->forward(z, z, x, W, b, B, in, out, ld, ST_ACT_LINEAR);
    t[1] = now();
    for (int r = 0; r < reps; r++)
        k->backward_w(dW, db, z, x, B, in, out, ld);
    t[2] = now();
    for (int r = 0; r < reps; r++)
        k->backward_x(dx, z, W, x, B, in, out, ld, ST_ACT_RELU);
    double t3 = now();
    printf("  %4d x %-4d  forward %6.2f us (%5.1f GFLOP/s)  dW %6.2f us (%5.1f)  dx %6.2f us "
           "(%5.1f)\n",
           in, out, (t[1] - t[0]) / reps * 1e6, flop * reps / (t[1] - t[0]) * 1e-9,
           (t[2] - t[1]) / reps * 1e6, flop * reps / (t[2] - t[1]) * 1e-9,
           (t3 - t[2]) / reps * 1e6, flop * reps / (t3 - t[2]) * 1e-9);
    free(x);
    free(z);
    free(dx);
    free(W);
    free(b);
    free(dW);
    free(db);
}

int main(int argc, char **argv)
{
    static const char *const part[] = { "forward",  "loss",     "backward",   "penalty grad",
                                        "adam",     "observe",  "penalty value", "format row" };
    int widths[16] = { 1, 20, 20, 1 }, n_w = 4, threads = argc > 3 ? atoi(argv[3]) : 1;
    const char *spec = argc > 2 ? argv[2] : "1,20,20,1";
    const int B = 1000;
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    double flop = 0.0;
    struct st_err err;
    struct st_model net;
    struct st_arch arch;
    struct st_params p, p0, g, teacher;
    struct st_work w;
    struct st_rng rng;
    struct st_optim opt;
    struct st_optim_cfg oc;
    struct st_penalty pen;
    struct st_observables obs;
    double t[8] = { 0 }, a, total = 0.0;
    volatile double sink = 0.0; /* keeps the timed calls */
    char buf[ST_FMT_G9_MAX];
    float *x, *y, *dy;

    for (n_w = 0; n_w < 16 && *spec; n_w++) {
        char *end;
        widths[n_w] = (int)strtol(spec, &end, 10);
        if (end == spec || widths[n_w] < 1 || (*end && *end != ','))
            break;
        spec = *end ? end + 1 : end;
    }
    if (n < 1 || threads < 1 || n_w < 2 || *spec) {
        fprintf(stderr, "usage: bench_step [STEPS >= 1 [WIDTHS, e.g. 1,20,20,1 [THREADS >= 1]]]\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    st_par_set_threads(threads);
    for (int l = 1; l < n_w; l++)
        flop += 6.0 * B * widths[l - 1] * widths[l];
    x = malloc(sizeof(float) * (size_t)(B * widths[0]));
    y = malloc(sizeof(float) * (size_t)(B * widths[n_w - 1]));
    dy = malloc(sizeof(float) * (size_t)(B * widths[n_w - 1]));
    if (!x || !y || !dy) {
        fprintf(stderr, "bench_step: out of memory\n");
        return 1;
    }
    st_arch_mlp(&arch, widths, n_w - 1, ST_ACT_RELU);
    if (st_model_init(&net, &arch, &err) != ST_OK || st_model_params(&net, &p, &err) != ST_OK ||
        st_params_twin(&g, &p, &err) != ST_OK || st_params_twin(&p0, &p, &err) != ST_OK ||
        st_params_twin(&teacher, &p, &err) != ST_OK || st_work_init(&w, &net, B, &err) != ST_OK ||
        st_observables_init(&obs, p.n_views, &err) != ST_OK)
        die(&err);
    st_rng_seed(&rng, 1, 1);
    st_model_draw(&net, &p, &rng, NULL);
    memcpy(p0.mem, p.mem, p.n * sizeof(float));
    st_model_draw(&net, &teacher, &rng, NULL);
    st_rng_fill_uniform(&rng, x, (long)B * widths[0], 0.0, 2.0);
    st_rng_fill_uniform(&rng, y, (long)B * widths[n_w - 1], 0.0, 1.0);
    st_optim_defaults(&oc, ST_OPT_ADAM);
    oc.lr = 1e-2;
    if (st_optim_init(&opt, &oc, &p, &err) != ST_OK ||
        st_penalty_init(&pen, ST_PEN_L1, ST_RED_MEAN, 1e-3, NULL, NULL, 0, &p, &err) != ST_OK)
        die(&err);
    for (int k = 0; k < n; k++) {
        double b;
        a = now();
        const float *yhat = st_model_forward(&net, &p, &w, x, B);
        b = now();
        t[0] += b - a;
        double mse = st_mse_forward(yhat, y, (long)B * widths[n_w - 1]);
        st_mse_backward(dy, yhat, y, (long)B * widths[n_w - 1]);
        a = now();
        t[1] += a - b;
        memset(g.mem, 0, g.n * sizeof(float));
        st_model_backward(&net, &p, &w, &g, dy, B, NULL);
        b = now();
        t[2] += b - a;
        st_penalty_grad(&pen, &g, &p, &p0);
        a = now();
        t[3] += a - b;
        st_optim_step(&opt, &p, &g, NULL);
        b = now();
        t[4] += b - a;
        st_observe(&obs, &p, &p0, &teacher, 1e-6f);
        a = now();
        t[5] += a - b;
        sink += st_penalty_value(&pen, &p, &p0);
        b = now();
        t[6] += b - a;
        sink += st_fmt_g9(buf, mse);
        for (int i = 0; i < obs.n; i++)
            sink += st_fmt_g9(buf, obs.d_init[i]) + st_fmt_g9(buf, obs.d_teacher[i]) +
                    st_fmt_g9(buf, obs.changed[i]);
        a = now();
        t[7] += a - b;
    }
    printf("bench_step: widths %s relu, %d samples, adam, l1 1e-3, %d steps, %d thread%s\n",
           argc > 2 ? argv[2] : "1,20,20,1", B, n, threads, threads > 1 ? "s" : "");
    for (int i = 0; i < 8; i++) {
        printf("  %-14s %9.2f us\n", part[i], t[i] / n * 1e6);
        total += t[i];
    }
    printf("  %-14s %9.2f us  (%.1f steps/s, %.1f GFLOP/s)\n", "step", total / n * 1e6,
           n / total, flop * n / total * 1e-9);
    if (argc <= 2) {
        int n_builds;
        const struct st_dense_kernels *k = st_dense_builds(&n_builds);
        for (int i = 0; i < n_builds; i++) {
            printf("layer products alone (B = %d), %s kernels%s:\n", B, k[i].isa,
                   i == 0 ? " (in use)" : "");
            layer(k + i, 1, 20, B, 20000);
            layer(k + i, 20, 20, B, 20000);
            layer(k + i, 20, 1, B, 20000);
            layer(k + i, 64, 64, B, 2000);
            layer(k + i, 256, 256, B, 100);
        }
    }
    st_optim_free(&opt);
    st_penalty_free(&pen);
    st_work_free(&w);
    st_model_free(&net);
    st_observables_free(&obs);
    st_params_free(&p);
    st_params_free(&p0);
    st_params_free(&g);
    st_params_free(&teacher);
    free(x);
    free(y);
    free(dy);
    return 0;
}
