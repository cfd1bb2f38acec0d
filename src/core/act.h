/* act.h: elementwise activations and their derivatives.
 * gelu is the exact erf form (PyTorch's default); relu'(0) = 0. */
#ifndef ST_ACT_H
#define ST_ACT_H

enum st_act { ST_ACT_RELU, ST_ACT_TANH, ST_ACT_SILU, ST_ACT_GELU, ST_ACT_LINEAR };

/* The names in enum order, NULL-terminated. */
extern const char *const st_act_names[];

/* "relu", "tanh", ...; NULL for an unknown value. */
const char *st_act_name(enum st_act a);

/* Parses a name; returns 0 on success, -1 if unknown. */
int st_act_parse(const char *s, enum st_act *a);

/* Comma-separated list of all names, for help and error messages. */
const char *st_act_choices(void);

/* h[n] = act(z[n] + b[j]) in place over a [rows, cols] block: z is first shifted
 * by the bias b[cols] (z keeps the pre-activation), then h gets act of it.
 * h may equal z only for ST_ACT_LINEAR. */
void st_act_bias_forward(float *h, float *z, const float *b, int rows, int cols, enum st_act a);

/* dz[n] = dh[n] * act'(z[n]); dz may equal dh. */
void st_act_backward(float *dz, const float *dh, const float *z, long n, enum st_act a);

/* Scalar versions (used by tests). */
float st_act_value(float z, enum st_act a);
float st_act_deriv(float z, enum st_act a);

#endif
