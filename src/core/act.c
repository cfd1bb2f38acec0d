/* act.c: activations. Scalar formulas are written once (act_f, act_df) and the
 * loops specialise on the activation outside the inner loop, so the compiler
 * can vectorise relu and linear. */
#include "act.h"

#include <math.h>
#include <string.h>

const char *const st_act_names[] = { "relu", "tanh", "silu", "gelu", "linear", NULL };
#define N_ACTS 5

const char *st_act_name(enum st_act a)
{
    return (unsigned)a < N_ACTS ? st_act_names[a] : NULL;
}

int st_act_parse(const char *s, enum st_act *a)
{
    for (unsigned i = 0; i < N_ACTS; i++)
        if (strcmp(s, st_act_names[i]) == 0) {
            *a = (enum st_act)i;
            return 0;
        }
    return -1;
}

const char *st_act_choices(void)
{
    return "relu, tanh, silu, gelu, linear";
}

/* 1/sqrt(2) and 1/sqrt(2 pi) for the normal CDF and density in gelu. */
#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

static float sigmoid(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

float st_act_value(float z, enum st_act a)
{
    switch (a) {
    case ST_ACT_RELU: return z > 0.0f ? z : 0.0f;
    case ST_ACT_TANH: return tanhf(z);
    case ST_ACT_SILU: return z * sigmoid(z);
    /* gelu(z) = z * Phi(z), Phi(z) = (1 + erf(z / sqrt 2)) / 2 */
    case ST_ACT_GELU: return 0.5f * z * (1.0f + erff(z * (float)INV_SQRT2));
    case ST_ACT_LINEAR: return z;
    }
    return z;
}

float st_act_deriv(float z, enum st_act a)
{
    switch (a) {
    case ST_ACT_RELU: return z > 0.0f ? 1.0f : 0.0f;
    case ST_ACT_TANH: {
        float t = tanhf(z);
        return 1.0f - t * t;
    }
    case ST_ACT_SILU: {
        /* d/dz z s(z) = s(z) (1 + z (1 - s(z))) */
        float s = sigmoid(z);
        return s * (1.0f + z * (1.0f - s));
    }
    case ST_ACT_GELU: {
        /* d/dz z Phi(z) = Phi(z) + z phi(z) */
        float cdf = 0.5f * (1.0f + erff(z * (float)INV_SQRT2));
        float pdf = (float)INV_SQRT_2PI * expf(-0.5f * z * z);
        return cdf + z * pdf;
    }
    case ST_ACT_LINEAR: return 1.0f;
    }
    return 1.0f;
}

void st_act_bias_forward(float *h, float *z, const float *b, int rows, int cols, enum st_act a)
{
    for (int r = 0; r < rows; r++) {
        float *zr = z + (long)r * cols;
        float *hr = h + (long)r * cols;
        switch (a) {
        case ST_ACT_RELU:
            for (int j = 0; j < cols; j++) {
                float v = zr[j] + b[j];
                zr[j] = v;
                hr[j] = v > 0.0f ? v : 0.0f;
            }
            break;
        case ST_ACT_LINEAR:
            for (int j = 0; j < cols; j++) {
                zr[j] += b[j];
                hr[j] = zr[j];
            }
            break;
        default:
            for (int j = 0; j < cols; j++) {
                zr[j] += b[j];
                hr[j] = st_act_value(zr[j], a);
            }
        }
    }
}

void st_act_backward(float *dz, const float *dh, const float *z, long n, enum st_act a)
{
    switch (a) {
    case ST_ACT_RELU:
        for (long i = 0; i < n; i++) {
            float d = dh[i]; /* unconditional load, so the loop vectorizes */
            dz[i] = z[i] > 0.0f ? d : 0.0f;
        }
        break;
    case ST_ACT_LINEAR:
        if (dz != dh)
            memmove(dz, dh, (size_t)n * sizeof *dz);
        break;
    default:
        for (long i = 0; i < n; i++)
            dz[i] = dh[i] * st_act_deriv(z[i], a);
    }
}
