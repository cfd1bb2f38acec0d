/* penalty.c: the l1 penalty toward the start and its subgradient. */
#include "penalty.h"

#include <math.h>
#include <string.h>

static const char *const pen_names[] = { "none", "l1" };
static const char *const red_names[] = { "mean", "sum" };

const char *st_penalty_name(enum st_penalty_kind k)
{
    return (unsigned)k < 2 ? pen_names[k] : NULL;
}

int st_penalty_parse(const char *s, enum st_penalty_kind *k)
{
    for (unsigned i = 0; i < 2; i++)
        if (strcmp(s, pen_names[i]) == 0) {
            *k = (enum st_penalty_kind)i;
            return 0;
        }
    return -1;
}

const char *st_reduction_name(enum st_reduction r)
{
    return (unsigned)r < 2 ? red_names[r] : NULL;
}

int st_reduction_parse(const char *s, enum st_reduction *r)
{
    for (unsigned i = 0; i < 2; i++)
        if (strcmp(s, red_names[i]) == 0) {
            *r = (enum st_reduction)i;
            return 0;
        }
    return -1;
}

double st_penalty_tensor_scale(enum st_reduction r, size_t n_t)
{
    return r == ST_RED_MEAN ? 1.0 / (double)n_t : 1.0;
}

double st_penalty_value(enum st_penalty_kind k, enum st_reduction r, const struct st_params *theta,
                        const struct st_params *theta0, const unsigned char *trainable)
{
    double R = 0.0;
    if (k == ST_PEN_NONE)
        return 0.0;
    for (int t = 0; t < theta->n_views; t++) {
        if (trainable && !trainable[t])
            continue;
        const float *a = theta->v[t].data, *b = theta0->v[t].data;
        size_t n = st_view_size(&theta->v[t]);
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += fabs((double)a[i] - (double)b[i]);
        R += s * st_penalty_tensor_scale(r, n);
    }
    return R;
}

void st_penalty_grad(enum st_penalty_kind k, enum st_reduction r, double lambda,
                     struct st_params *g, const struct st_params *theta,
                     const struct st_params *theta0, const unsigned char *trainable)
{
    if (k == ST_PEN_NONE || lambda == 0.0)
        return;
    for (int t = 0; t < theta->n_views; t++) {
        if (trainable && !trainable[t])
            continue;
        const float *a = theta->v[t].data, *b = theta0->v[t].data;
        float *gt = g->v[t].data;
        size_t n = st_view_size(&theta->v[t]);
        float c = (float)(lambda * st_penalty_tensor_scale(r, n));
        for (size_t i = 0; i < n; i++) {
            float d = a[i] - b[i];
            gt[i] += d > 0.0f ? c : d < 0.0f ? -c : 0.0f;
        }
    }
}
