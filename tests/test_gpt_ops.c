/* test_gpt_ops.c: each operation of core/gpt_ops.h on its own: the float
 * forward pass against a double-precision reference written here, and the
 * float backward pass against central differences of that reference, for
 * every entry of every input and parameter on tiny sizes. The objective is
 * sum(r * out) with fixed random r, so its gradient with respect to the
 * outputs is r. Also: the causal mask (a later position's q, k, v do not
 * change an earlier output at all). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/gpt_ops.h"
#include "core/rng.h"

#define B 2
#define T 3
#define C 8
#define H 2
#define V 11
#define N (B * T)

/* Forward passes of the reference, in double, from the float inputs as
 * doubles. Each writes out[n_out]. */
typedef void (*ref_fn)(double *out, const double *const *in);

static int tok[N] = { 3, 0, 10, 7, 7, 1 };

static void ref_embedding(double *out, const double *const *in)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            out[n * C + c] = in[0][tok[n] * C + c] + in[1][(n % T) * C + c];
}

static int unbiased; /* a deliberately wrong variant of the reference */

static void ref_layernorm(double *out, const double *const *in)
{
    for (int n = 0; n < N; n++) {
        const double *x = in[0] + n * C;
        double m = 0.0, v = 0.0;
        for (int c = 0; c < C; c++)
            m += x[c];
        m /= C;
        for (int c = 0; c < C; c++)
            v += (x[c] - m) * (x[c] - m);
        v /= unbiased ? C - 1 : C;
        for (int c = 0; c < C; c++)
            out[n * C + c] = (x[c] - m) / sqrt(v + 1e-5) * in[1][c] + in[2][c];
    }
}

static void ref_linear(double *out, const double *const *in) /* [N, C] -> [N, 3C] */
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < 3 * C; o++) {
            double s = in[2][o];
            for (int i = 0; i < C; i++)
                s += in[0][n * C + i] * in[1][o * C + i];
            out[n * 3 * C + o] = s;
        }
}

static int leak; /* a deliberately wrong mask: t also sees t + 1 */

static void ref_attention(double *out, const double *const *in)
{
    const double *qkv = in[0];
    int hs = C / H;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                double a[T], mx = -1e300, sum = 0.0;
                int last = t + leak < T ? t + leak : T - 1;
                for (int s = 0; s <= last; s++) {
                    double d = 0.0;
                    for (int j = 0; j < hs; j++)
                        d += qkv[(b * T + t) * 3 * C + h * hs + j] *
                             qkv[(b * T + s) * 3 * C + C + h * hs + j];
                    a[s] = d / sqrt((double)hs);
                    mx = a[s] > mx ? a[s] : mx;
                }
                for (int s = 0; s <= last; s++)
                    sum += (a[s] = exp(a[s] - mx));
                for (int j = 0; j < hs; j++) {
                    double o = 0.0;
                    for (int s = 0; s <= last; s++)
                        o += a[s] / sum * qkv[(b * T + s) * 3 * C + 2 * C + h * hs + j];
                    out[(b * T + t) * C + h * hs + j] = o;
                }
            }
}

static int erf_gelu; /* a deliberately wrong GELU: the erf form */

static void ref_gelu(double *out, const double *const *in)
{
    for (int i = 0; i < N * C; i++) {
        double z = in[0][i];
        out[i] = erf_gelu ? 0.5 * z * (1.0 + erf(z / sqrt(2.0)))
                          : 0.5 * z * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (z + 0.044715 * z * z * z)));
    }
}

static void ref_head(double *out, const double *const *in)
{
    for (int n = 0; n < N; n++)
        for (int v = 0; v < V; v++) {
            double s = 0.0;
            for (int c = 0; c < C; c++)
                s += in[0][n * C + c] * in[1][v * C + c];
            out[n * V + v] = s;
        }
}

/* An operation under test: its inputs' sizes, the float forward and backward
 * (backward adds into g[k] for every input k that has a gradient) and the
 * reference. */
struct op {
    const char *name;
    int n_in, sizes[3], n_out;
    void (*fwd)(float *out, float *const *in);
    void (*bwd)(float *const *g, const float *dout, float *const *in, const float *out);
    ref_fn ref;
};

static float saved[2][N * 3 * C * 4]; /* what a forward pass saved for its backward one */

static void f_embedding(float *out, float *const *in)
{
    st_gpt_embedding_forward(out, tok, in[0], in[1], B, T, C);
}
static void b_embedding(float *const *g, const float *dout, float *const *in, const float *out)
{
    (void)in, (void)out;
    st_gpt_embedding_backward(g[0], g[1], dout, tok, B, T, C);
}
static void f_layernorm(float *out, float *const *in)
{
    st_gpt_layernorm_forward(out, saved[0], saved[1], in[0], in[1], in[2], N, C);
}
static void b_layernorm(float *const *g, const float *dout, float *const *in, const float *out)
{
    (void)out;
    st_gpt_layernorm_backward(g[0], g[1], g[2], dout, in[0], in[1], saved[0], saved[1], N, C);
}
static void f_linear(float *out, float *const *in)
{
    st_gpt_linear_forward(out, in[0], in[1], in[2], N, C, 3 * C);
}
static void b_linear(float *const *g, const float *dout, float *const *in, const float *out)
{
    (void)out;
    st_gpt_linear_backward(g[0], g[1], g[2], dout, in[0], in[1], N, C, 3 * C);
}
static void f_attention(float *out, float *const *in)
{
    st_gpt_attention_forward(out, saved[0], in[0], B, T, C, H);
}
static void b_attention(float *const *g, const float *dout, float *const *in, const float *out)
{
    (void)out;
    st_gpt_attention_backward(g[0], saved[1], dout, in[0], saved[0], B, T, C, H);
}
static void f_gelu(float *out, float *const *in)
{
    st_gpt_gelu_forward(out, in[0], N * C);
}
static void b_gelu(float *const *g, const float *dout, float *const *in, const float *out)
{
    (void)out;
    st_gpt_gelu_backward(g[0], dout, in[0], N * C);
}
static void f_head(float *out, float *const *in)
{
    st_gpt_head_forward(out, in[0], in[1], N, C, V);
}
static void b_head(float *const *g, const float *dout, float *const *in, const float *out)
{
    (void)out;
    st_gpt_head_backward(g[0], g[1], dout, in[0], in[1], N, C, V);
}

static const struct op ops[] = {
    { "embedding", 2, { V * C, T * C }, N * C, f_embedding, b_embedding, ref_embedding },
    { "layernorm", 3, { N * C, C, C }, N * C, f_layernorm, b_layernorm, ref_layernorm },
    { "linear", 3, { N * C, 3 * C * C, 3 * C }, N * 3 * C, f_linear, b_linear, ref_linear },
    { "attention", 1, { N * 3 * C }, N * C, f_attention, b_attention, ref_attention },
    { "gelu", 1, { N * C }, N * C, f_gelu, b_gelu, ref_gelu },
    { "head", 2, { N * C, V * C }, N * V, f_head, b_head, ref_head },
};

static double objective(const struct op *o, double *const *in, const float *r, double *out)
{
    o->ref(out, (const double *const *)in);
    double s = 0.0;
    for (int i = 0; i < o->n_out; i++)
        s += (double)r[i] * out[i];
    return s;
}

/* Checks op o: forward against the reference, and every gradient entry
 * against the reference's central difference. Returns the number of
 * entries off (0 when it holds). The float forward matches the double
 * reference to ~1e-6 relative (float32 rounding of sums of a few terms);
 * the central difference with h = 1e-4 in double has truncation error
 * ~h^2 * f''' ~ 1e-8 and rounding ~1e-16 / h ~ 1e-12, so the float
 * backward, itself rounded to ~1e-6 of its magnitude, is held to 1e-4
 * relative plus 1e-5 absolute. */
static int check_op(const struct op *o, struct st_rng *rng, int quiet)
{
    float *in[3] = { NULL }, *g[3] = { NULL };
    double *din[3] = { NULL };
    float *out = malloc(sizeof(float) * (size_t)o->n_out), *r = malloc(sizeof(float) * (size_t)o->n_out);
    double *dout = malloc(sizeof(double) * (size_t)o->n_out);
    int bad = 0;
    for (int k = 0; k < o->n_in; k++) {
        in[k] = malloc(sizeof(float) * (size_t)o->sizes[k]);
        g[k] = calloc((size_t)o->sizes[k], sizeof(float));
        din[k] = malloc(sizeof(double) * (size_t)o->sizes[k]);
        for (int i = 0; i < o->sizes[k]; i++)
            din[k][i] = in[k][i] = (float)st_rng_normal(rng);
    }
    for (int i = 0; i < o->n_out; i++)
        r[i] = (float)st_rng_normal(rng);
    o->fwd(out, in);
    o->ref(dout, (const double *const *)din);
    for (int i = 0; i < o->n_out; i++)
        if (!(fabs((double)out[i] - dout[i]) <= 1e-5 + 1e-5 * fabs(dout[i])))
            bad++;
    o->bwd(g, r, in, out);
    for (int k = 0; k < o->n_in; k++)
        for (int i = 0; i < o->sizes[k]; i++) {
            double keep = din[k][i], h = 1e-4;
            din[k][i] = keep + h;
            double up = objective(o, din, r, dout);
            din[k][i] = keep - h;
            double down = objective(o, din, r, dout);
            din[k][i] = keep;
            double fd = (up - down) / (2.0 * h);
            if (!(fabs((double)g[k][i] - fd) <= 1e-5 + 1e-4 * fabs(fd))) {
                if (!quiet && bad < 3)
                    fprintf(stderr, "  %s: input %d entry %d: backward %.9g, central "
                                    "difference %.9g\n", o->name, k, i, (double)g[k][i], fd);
                bad++;
            }
        }
    for (int k = 0; k < o->n_in; k++) {
        free(in[k]);
        free(g[k]);
        free(din[k]);
    }
    free(out);
    free(r);
    free(dout);
    return bad;
}

/* A later position's q, k and v leave earlier outputs exactly as they were. */
static void test_causal(struct st_rng *rng)
{
    static float qkv[N * 3 * C], out1[N * C], out2[N * C], att[B * H * T * T];
    for (int i = 0; i < N * 3 * C; i++)
        qkv[i] = (float)st_rng_normal(rng);
    st_gpt_attention_forward(out1, att, qkv, B, T, C, H);
    for (int i = 0; i < 3 * C; i++)
        qkv[(T - 1) * 3 * C + i] += 1.0f; /* sequence 0's last position */
    st_gpt_attention_forward(out2, att, qkv, B, T, C, H);
    CHECK(!memcmp(out1, out2, sizeof(float) * (size_t)(T - 1) * C));
    CHECK(memcmp(out1, out2, sizeof(float) * (size_t)T * C) != 0);
    /* Weights above the diagonal are 0 and each row sums to 1. */
    for (int t = 0; t < T; t++) {
        double s = 0.0;
        for (int u = 0; u < T; u++)
            s += (double)att[t * T + u];
        CHECK(fabs(s - 1.0) < 1e-6 && (t == T - 1 || att[t * T + T - 1] == 0.0f));
    }
}

int main(void)
{
    struct st_rng rng;
    st_rng_seed(&rng, 11, 0);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int bad = check_op(&ops[i], &rng, 0);
        if (bad)
            fprintf(stderr, "  %s: %d entries off\n", ops[i].name, bad);
        CHECK(bad == 0);
    }
    /* The check rejects the wrong references: the erf GELU, the unbiased
     * variance, a mask that lets t see t + 1. */
    erf_gelu = 1;
    CHECK(check_op(&ops[4], &rng, 1) > 0);
    erf_gelu = 0;
    unbiased = 1;
    CHECK(check_op(&ops[1], &rng, 1) > 0);
    unbiased = 0;
    leak = 1;
    CHECK(check_op(&ops[3], &rng, 1) > 0);
    leak = 0;
    test_causal(&rng);
    return check_report("test_gpt_ops");
}
