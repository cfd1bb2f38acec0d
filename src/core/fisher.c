/* fisher.c: the Fisher diagonal per tensor by random probes (fisher.h). */
#include "fisher.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* v[rows, cols]: a probe's output gradient for one pass's outputs yhat. */
static void probe(enum st_loss_kind loss, struct st_rng *rng, const float *yhat, float *v,
                  long rows, int cols)
{
    if (loss == ST_LOSS_MSE) {
        for (long i = 0; i < rows * cols; i++)
            v[i] = (st_rng_next(rng) >> 63) ? 1.0f : -1.0f;
        return;
    }
    for (long r = 0; r < rows; r++) {
        const float *z = yhat + r * cols;
        float *vr = v + r * cols, zmax = z[0];
        for (int c = 1; c < cols; c++)
            zmax = z[c] > zmax ? z[c] : zmax;
        double s = 0.0;
        for (int c = 0; c < cols; c++)
            s += exp((double)(z[c] - zmax));
        /* v = p, less 1 at the class drawn: the first whose cumulative
         * probability passes u (the last if rounding leaves the sum short) */
        double u = st_rng_uniform(rng), acc = 0.0;
        int drawn = -1;
        for (int c = 0; c < cols; c++) {
            double p = exp((double)(z[c] - zmax)) / s;
            vr[c] = (float)p;
            acc += p;
            if (drawn < 0 && u < acc)
                drawn = c;
        }
        vr[drawn < 0 ? cols - 1 : drawn] -= 1.0f;
    }
}

enum st_status st_fisher_means(const struct st_model *m, const struct st_params *theta,
                               struct st_work *w, enum st_loss_kind loss, const float *x, long n,
                               int probes, uint64_t seed, const unsigned char *trainable,
                               double *out, struct st_err *err)
{
    struct st_model_io io = st_model_io(m);
    struct st_params g;
    struct st_rng rng;
    long most = (long)w->max_batch * io.rows * io.cols;
    float *v = malloc((size_t)(most > 0 ? most : 1) * sizeof *v);
    enum st_status st = st_params_twin(&g, theta, err);
    if (st != ST_OK || !v) {
        free(v);
        if (st == ST_OK)
            st_params_free(&g);
        return st != ST_OK ? st : st_err_set(err, ST_ERR_NOMEM, "cannot allocate the probes");
    }
    st_rng_seed(&rng, seed, ST_STREAM_FISHER);
    for (int t = 0; t < theta->n_views; t++)
        out[t] = 0.0;
    for (int k = 0; k < probes; k++) {
        memset(g.mem, 0, g.n * sizeof(float));
        for (long r0 = 0; r0 < n; r0 += w->max_batch) {
            int B = (int)(n - r0 < w->max_batch ? n - r0 : w->max_batch);
            const float *yhat = st_model_forward(m, theta, w, x + r0 * io.in, B);
            probe(loss, &rng, yhat, v, (long)B * io.rows, (int)io.cols);
            st_model_backward(m, theta, w, &g, v, B, trainable);
        }
        for (int t = 0; t < theta->n_views; t++) {
            const float *gt = g.v[t].data;
            size_t nt = st_view_size(&g.v[t]);
            double s = 0.0;
            for (size_t i = 0; i < nt; i++)
                s += (double)gt[i] * (double)gt[i];
            out[t] += s / (double)nt;
        }
    }
    for (int t = 0; t < theta->n_views; t++)
        out[t] = trainable && !trainable[t] ? 0.0 : out[t] / (double)probes;
    st_params_free(&g);
    free(v);
    return ST_OK;
}
