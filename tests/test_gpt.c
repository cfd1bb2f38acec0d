/* test_gpt.c: the GPT family through the model interface: its checks, layout
 * (names, shapes, kinds, groups), GPT-2's initialisation, model files (names,
 * metadata, the model recognized and checked against a run's), and the whole
 * model's backward pass against central differences of its forward pass,
 * and against a double-precision reference of the whole model. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/gpt.h"
#include "core/model.h"
#include "core/rng.h"
#include "io/modelfile.h"
#include "io/safetensors.h"

static char tmpdir[64];

static struct st_arch gpt_arch(int L, int H, int C, int V, int T)
{
    struct st_arch a;
    memset(&a, 0, sizeof a);
    a.family = st_family_find("gpt");
    a.gpt_layers = L;
    a.n_head = H;
    a.d_model = C;
    a.vocab = V;
    a.context = T;
    return a;
}

static void test_checks(void)
{
    struct st_model m;
    struct st_err err;
    struct st_arch a = gpt_arch(2, 3, 8, 11, 5);
    CHECK(st_family_find("gpt") == 1 && strstr(st_family_choices(), "gpt"));
    CHECK(st_model_init(&m, &a, &err) == ST_ERR_ARG && strstr(err.msg, "--d-model 8") &&
          strstr(err.msg, "--n-head 3"));
    a = gpt_arch(0, 2, 8, 11, 5);
    CHECK(st_model_init(&m, &a, &err) == ST_ERR_ARG && strstr(err.msg, "--n-layer 0"));
    a = gpt_arch(1, 2, 8, 1, 5);
    CHECK(st_model_init(&m, &a, &err) == ST_ERR_ARG && strstr(err.msg, "--vocab 1"));
}

static void test_layout(void)
{
    struct st_model m;
    struct st_params p;
    struct st_err err;
    char buf[64];
    struct st_arch a = gpt_arch(3, 2, 8, 11, 5);
    CHECK_OK(st_model_init(&m, &a, &err));
    struct st_model_io io = st_model_io(&m);
    CHECK(io.in == 5 && io.rows == 5 && io.cols == 11);
    st_model_middle(&m, buf, sizeof buf);
    CHECK(!strcmp(buf, "h1"));
    st_model_describe(&m, buf, sizeof buf);
    CHECK(!strcmp(buf, "gpt L3 H2 C8 V11 T5"));
    CHECK_OK(st_model_params(&m, &p, &err));
    CHECK(p.n_views == 2 + 12 * 3 + 2);
    CHECK(!strcmp(p.v[0].name, "wte") && p.v[0].rows == 11 && p.v[0].cols == 8 &&
          p.v[0].kind == ST_KIND_EMBEDDING && !strcmp(p.v[0].groups[0], "emb"));
    CHECK(!strcmp(p.v[1].name, "wpe") && p.v[1].rows == 5 && p.v[1].cols == 8);
    /* Block 1's views, with their units and halves. */
    const struct st_view *q = &p.v[2 + 12 + 2];
    CHECK(!strcmp(q->name, "h1.attn.qkv.w") && q->rows == 24 && q->cols == 8 &&
          !strcmp(q->groups[0], "h1") && !strcmp(q->groups[1], "h1.attn") &&
          !strcmp(q->role, "qkv.w"));
    q = &p.v[2 + 12 + 10];
    CHECK(!strcmp(q->name, "h1.mlp.proj.w") && q->rows == 8 && q->cols == 32 &&
          !strcmp(q->groups[1], "h1.mlp"));
    q = &p.v[2 + 12 + 6];
    CHECK(!strcmp(q->name, "h1.ln2.w") && q->ndim == 1 && q->kind == ST_KIND_NORM &&
          !strcmp(q->groups[1], "h1.mlp"));
    CHECK(!strcmp(p.v[p.n_views - 1].name, "lnf.b") && !strcmp(p.v[p.n_views - 1].groups[0], "lnf"));
    /* Parameters: 2 embeddings + 3 * (12C^2 + 13C) + 2C. */
    size_t n = 0;
    for (int t = 0; t < p.n_views; t++)
        n += st_view_size(&p.v[t]);
    CHECK(n == 11 * 8 + 5 * 8 + 3 * (12 * 64 + 13 * 8) + 2 * 8);

    /* GPT-2's initialisation: N(0, 0.02^2) weights, N(0, (0.02 / sqrt(2L))^2)
     * residual projections, zero biases, unit LayerNorm gains. */
    struct st_rng rng;
    st_rng_seed(&rng, 1, 0);
    st_model_draw(&m, &p, &rng, NULL);
    double s2 = 0.0;
    for (int t = 0; t < p.n_views; t++) {
        const struct st_view *v = &p.v[t];
        if (!strcmp(v->role, "ln1.w") || !strcmp(v->role, "lnf.w"))
            CHECK(v->data[0] == 1.0f && v->data[v->rows - 1] == 1.0f);
        if (v->kind == ST_KIND_BIAS || !strcmp(v->role, "ln2.b"))
            CHECK(v->data[0] == 0.0f);
        if (!strcmp(v->role, "mproj.w"))
            for (size_t i = 0; i < st_view_size(v); i++)
                s2 += (double)v->data[i] * (double)v->data[i];
    }
    double sd = sqrt(s2 / (3.0 * 8 * 32)), want = 0.02 / sqrt(6.0);
    /* 768 draws: the sample std is within 10% of the true one (5 sigma). */
    CHECK(fabs(sd - want) < 0.1 * want);

    /* Files: names and metadata, read back as the same model. */
    char path[128];
    snprintf(path, sizeof path, "%s/g.safetensors", tmpdir);
    CHECK_OK(st_modelfile_write(path, &m, &p, "student", NULL, NULL, 0, &err));
    struct st_safetensors_file f;
    CHECK_OK(st_safetensors_read(path, &f, &err));
    CHECK(st_safetensors_find(&f, "h2.mlp.fc.b") && st_safetensors_find(&f, "wpe"));
    int has_arch = 0;
    for (int i = 0; i < f.n_meta; i++)
        has_arch |= !strcmp(f.meta_keys[i], "arch") && !strcmp(f.meta_vals[i], "gpt");
    CHECK(has_arch);
    st_safetensors_file_free(&f);
    struct st_modelfile mf;
    CHECK_OK(st_modelfile_read(path, 0, &mf, &err));
    CHECK(mf.model.f == &st_gpt_family && mf.named == 31u);
    CHECK(mf.model.arch.gpt_layers == 3 && mf.model.arch.n_head == 2 &&
          mf.model.arch.d_model == 8 && mf.model.arch.vocab == 11 && mf.model.arch.context == 5);
    for (int t = 0; t < p.n_views; t++)
        CHECK(!memcmp(mf.p.v[t].data, p.v[t].data, st_view_size(&p.v[t]) * sizeof(float)));
    CHECK_OK(st_modelfile_check(&mf, &m, "model", path, &err));
    struct st_model other;
    struct st_arch b = gpt_arch(3, 2, 8, 11, 6);
    CHECK_OK(st_model_init(&other, &b, &err));
    CHECK(st_modelfile_check(&mf, &other, "teacher", path, &err) == ST_ERR_SHAPE &&
          strstr(err.msg, "--teacher") && strstr(err.msg, "--context 5; the run's is 6"));
    st_model_free(&other);
    st_modelfile_free(&mf);
    remove(path);
    st_params_free(&p);
    st_model_free(&m);
}

/* Sum of r * logits for the model's forward pass on tokens x (B sequences). */
static double objective(const struct st_model *m, const struct st_params *p, struct st_work *w,
                        const float *x, int B, const float *r, long n_out)
{
    const float *y = st_model_forward(m, p, w, x, B);
    double s = 0.0;
    for (long i = 0; i < n_out; i++)
        s += (double)r[i] * (double)y[i];
    return s;
}

/* dir[n] = a random unit vector; returns dir . g. */
static double random_direction(struct st_rng *rng, double *dir, const float *g, size_t n)
{
    double norm = 0.0, dot = 0.0;
    for (size_t i = 0; i < n; i++) {
        dir[i] = st_rng_normal(rng);
        norm += dir[i] * dir[i];
    }
    norm = sqrt(norm);
    for (size_t i = 0; i < n; i++) {
        dir[i] /= norm;
        dot += dir[i] * (double)g[i];
    }
    return dot;
}

/* The whole model's gradient of sum(r * logits) against central differences
 * of its float forward pass, along random directions (and a few
 * coordinates of each tensor kind). The forward pass runs in float, so a
 * difference with step h carries rounding of about 1e-7 * |objective| / h;
 * with h = 1e-2 along a unit direction and |objective| ~ 1 that is 1e-5,
 * while the second-order term is h^2 * curvature, ~1e-4 here: a 2% relative
 * tolerance passes the right gradient and fails one off by a factor, a
 * missing term or a wrong tensor. */
static void test_gradient(void)
{
    struct st_model m;
    struct st_params p, g;
    struct st_work w;
    struct st_err err;
    struct st_rng rng;
    struct st_arch a = gpt_arch(2, 2, 8, 7, 4);
    const int B = 2;
    CHECK_OK(st_model_init(&m, &a, &err));
    CHECK_OK(st_model_params(&m, &p, &err));
    CHECK_OK(st_model_params(&m, &g, &err));
    CHECK_OK(st_work_init(&w, &m, B, &err));
    st_rng_seed(&rng, 3, 0);
    st_model_draw(&m, &p, &rng, NULL);
    /* Larger values than GPT-2's start, so every path carries signal. */
    for (size_t i = 0; i < p.n; i++)
        p.mem[i] += (float)(0.3 * st_rng_normal(&rng));
    float x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (float)st_rng_below(&rng, 7);
    long n_out = (long)B * 4 * 7;
    float *r = malloc((size_t)n_out * sizeof *r);
    for (long i = 0; i < n_out; i++)
        r[i] = (float)st_rng_normal(&rng);
    st_model_forward(&m, &p, &w, x, B);
    memset(g.mem, 0, g.n * sizeof(float));
    st_model_backward(&m, &p, &w, &g, r, B, NULL);

    double *dir = malloc(p.n * sizeof *dir);
    float *save = malloc(p.n * sizeof *save);
    memcpy(save, p.mem, p.n * sizeof *save);
    for (int trial = 0; trial < 6; trial++) {
        double h = 1e-2, dot = random_direction(&rng, dir, g.mem, p.n);
        for (size_t i = 0; i < p.n; i++)
            p.mem[i] = (float)((double)save[i] + h * dir[i]);
        double up = objective(&m, &p, &w, x, B, r, n_out);
        for (size_t i = 0; i < p.n; i++)
            p.mem[i] = (float)((double)save[i] - h * dir[i]);
        double down = objective(&m, &p, &w, x, B, r, n_out);
        double fd = (up - down) / (2.0 * h);
        CHECK_NEAR(dot, fd, 1e-3, 2e-2);
    }
    /* One coordinate of each view. */
    for (int t = 0; t < p.n_views; t++) {
        size_t i = p.v[t].offset + st_view_size(&p.v[t]) / 2;
        double h = 1e-2;
        memcpy(p.mem, save, p.n * sizeof *save);
        p.mem[i] = (float)((double)save[i] + h);
        double up = objective(&m, &p, &w, x, B, r, n_out);
        p.mem[i] = (float)((double)save[i] - h);
        double down = objective(&m, &p, &w, x, B, r, n_out);
        CHECK_NEAR(g.mem[i], (up - down) / (2.0 * h), 2e-3, 2e-2);
    }
    memcpy(p.mem, save, p.n * sizeof *save);
    /* A frozen tensor gets no gradient; the others stay as they were. */
    unsigned char *tr = malloc((size_t)p.n_views);
    memset(tr, 1, (size_t)p.n_views);
    tr[ST_GPT_VIEW_WTE] = 0;
    struct st_params g2;
    CHECK_OK(st_model_params(&m, &g2, &err));
    st_model_forward(&m, &p, &w, x, B);
    st_model_backward(&m, &p, &w, &g2, r, B, tr);
    for (int t = 0; t < p.n_views; t++) {
        const float *a1 = g.v[t].data, *a2 = g2.v[t].data;
        size_t n = st_view_size(&p.v[t]);
        int same = 1, zero = 1;
        for (size_t i = 0; i < n; i++) {
            same &= a1[i] == a2[i];
            zero &= a2[i] == 0.0f;
        }
        CHECK(t == ST_GPT_VIEW_WTE ? zero : same);
    }
    free(tr);
    free(dir);
    free(save);
    free(r);
    st_params_free(&g2);
    st_work_free(&w);
    st_params_free(&g);
    st_params_free(&p);
    st_model_free(&m);
}


/* ---- the whole model in double precision ---- */

/* The GPT of DESIGN.md "Transformers" in double, written plainly from the
 * formulas (no code shared with gpt.c): th holds every parameter in the
 * layout of p's views; logits[B*T, V] for token ids x. */
static void ref_layernorm(double *out, const double *x, const double *w, const double *b, int N,
                          int C)
{
    for (int n = 0; n < N; n++) {
        const double *r = x + (long)n * C;
        double m = 0.0, v = 0.0;
        for (int c = 0; c < C; c++)
            m += r[c] / C;
        for (int c = 0; c < C; c++)
            v += (r[c] - m) * (r[c] - m) / C;
        for (int c = 0; c < C; c++)
            out[(long)n * C + c] = (r[c] - m) / sqrt(v + 1e-5) * w[c] + b[c];
    }
}

/* out[N, o] (= or +=) x[N, i] W[o, i]^T + b[o] */
static void ref_linear(double *out, int add, const double *x, const double *W, const double *b,
                       int N, int in, int o)
{
    for (int n = 0; n < N; n++)
        for (int j = 0; j < o; j++) {
            double s = b ? b[j] : 0.0;
            for (int i = 0; i < in; i++)
                s += x[(long)n * in + i] * W[(long)j * in + i];
            out[(long)n * o + j] = (add ? out[(long)n * o + j] : 0.0) + s;
        }
}

static void ref_gpt(const struct st_params *p, const double *th, int L, int H, int C, int V, int T,
                    const float *x, int B, double *logits)
{
    int N = B * T, hs = C / H;
    double *h = calloc((size_t)N * C, sizeof *h), *ln = calloc((size_t)N * C, sizeof *ln);
    double *qkv = calloc((size_t)N * 3 * C, sizeof *qkv), *a = calloc((size_t)N * C, sizeof *a);
    double *f = calloc((size_t)N * 4 * C, sizeof *f), *pr = calloc((size_t)T, sizeof *pr);
#define PV(t) (th + p->v[t].offset)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            h[(long)n * C + c] = PV(0)[(long)x[n] * C + c] + PV(1)[(long)(n % T) * C + c];
    for (int l = 0; l < L; l++) {
        int k = 2 + 12 * l;
        ref_layernorm(ln, h, PV(k), PV(k + 1), N, C);
        ref_linear(qkv, 0, ln, PV(k + 2), PV(k + 3), N, C, 3 * C);
        for (int b = 0; b < B; b++)
            for (int hd = 0; hd < H; hd++)
                for (int t = 0; t < T; t++) {
                    const double *q = qkv + ((long)b * T + t) * 3 * C + hd * hs;
                    double mx = -INFINITY, sum = 0.0;
                    for (int u = 0; u <= t; u++) {
                        const double *kk = qkv + ((long)b * T + u) * 3 * C + C + hd * hs;
                        pr[u] = 0.0;
                        for (int i = 0; i < hs; i++)
                            pr[u] += q[i] * kk[i] / sqrt((double)hs);
                        mx = fmax(mx, pr[u]);
                    }
                    for (int u = 0; u <= t; u++)
                        sum += pr[u] = exp(pr[u] - mx);
                    for (int i = 0; i < hs; i++) {
                        double o = 0.0;
                        for (int u = 0; u <= t; u++)
                            o += pr[u] / sum * qkv[((long)b * T + u) * 3 * C + 2 * C + hd * hs + i];
                        a[((long)b * T + t) * C + hd * hs + i] = o;
                    }
                }
        ref_linear(h, 1, a, PV(k + 4), PV(k + 5), N, C, C);
        ref_layernorm(ln, h, PV(k + 6), PV(k + 7), N, C);
        ref_linear(f, 0, ln, PV(k + 8), PV(k + 9), N, C, 4 * C);
        for (long i = 0; i < (long)N * 4 * C; i++) {
            double z = f[i];
            f[i] = 0.5 * z * (1.0 + tanh(sqrt(2.0 / acos(-1.0)) * (z + 0.044715 * z * z * z)));
        }
        ref_linear(h, 1, f, PV(k + 10), PV(k + 11), N, 4 * C, C);
    }
    ref_layernorm(ln, h, PV(2 + 12 * L), PV(3 + 12 * L), N, C);
    ref_linear(logits, 0, ln, PV(0), NULL, N, C, V);
#undef PV
    free(h);
    free(ln);
    free(qkv);
    free(a);
    free(f);
    free(pr);
}

static double ref_objective(const struct st_params *p, const double *th, const struct st_arch *a,
                            const float *x, int B, const float *r, double *logits)
{
    ref_gpt(p, th, a->gpt_layers, a->n_head, a->d_model, a->vocab, a->context, x, B, logits);
    double s = 0.0;
    for (long i = 0; i < (long)B * a->context * a->vocab; i++)
        s += (double)r[i] * logits[i];
    return s;
}

/* The float model against the double reference: its logits, and its
 * backward pass against central differences of the reference (step 1e-4,
 * truncation ~1e-8 of the curvature, rounding ~1e-12): at every coordinate
 * of a tiny GPT (all = 1), or along 8 random directions of a larger one.
 * The float backward's own rounding is a few ulps of the sums it adds, so
 * the bound is 1e-4 of the gradient's largest entry (or of the directional
 * derivative's scale); a missing term, a wrong tensor or a factor is off by
 * orders more. */
static void test_gradient_double(struct st_arch a, int B, int all, uint64_t seed)
{
    struct st_model m;
    struct st_params p, g;
    struct st_work w;
    struct st_err err;
    struct st_rng rng;
    int T = a.context, V = a.vocab;
    long n_out = (long)B * T * V;
    CHECK_OK(st_model_init(&m, &a, &err));
    CHECK_OK(st_model_params(&m, &p, &err));
    CHECK_OK(st_model_params(&m, &g, &err));
    CHECK_OK(st_work_init(&w, &m, B, &err));
    st_rng_seed(&rng, seed, 0);
    st_model_draw(&m, &p, &rng, NULL);
    for (size_t i = 0; i < p.n; i++) /* every path carries signal */
        p.mem[i] += (float)(0.3 * st_rng_normal(&rng));
    float *x = malloc((size_t)B * T * sizeof *x), *r = malloc((size_t)n_out * sizeof *r);
    for (int i = 0; i < B * T; i++)
        x[i] = (float)st_rng_below(&rng, (uint64_t)V);
    for (long i = 0; i < n_out; i++)
        r[i] = (float)st_rng_normal(&rng);
    const float *y = st_model_forward(&m, &p, &w, x, B);
    memset(g.mem, 0, g.n * sizeof(float));
    st_model_backward(&m, &p, &w, &g, r, B, NULL);

    double *th = malloc(p.n * sizeof *th), *logits = malloc((size_t)n_out * sizeof *logits);
    for (size_t i = 0; i < p.n; i++)
        th[i] = (double)p.mem[i];
    ref_objective(&p, th, &a, x, B, r, logits);
    double worst = 0.0, scale = 0.0;
    for (long i = 0; i < n_out; i++) {
        worst = fmax(worst, fabs((double)y[i] - logits[i]));
        scale = fmax(scale, fabs(logits[i]));
    }
    /* Sums of C to 4C float terms through the blocks: a few ulps of the logits. */
    CHECK(worst <= 1e-5 * fmax(scale, 1.0));

    double gmax = 0.0, h = 1e-4, bad = 0.0;
    for (size_t i = 0; i < p.n; i++)
        gmax = fmax(gmax, fabs((double)g.mem[i]));
    if (all) {
        for (size_t i = 0; i < p.n; i++) {
            double t0 = th[i];
            th[i] = t0 + h;
            double up = ref_objective(&p, th, &a, x, B, r, logits);
            th[i] = t0 - h;
            double down = ref_objective(&p, th, &a, x, B, r, logits);
            th[i] = t0;
            bad = fmax(bad, fabs((double)g.mem[i] - (up - down) / (2 * h)) / (1e-4 * gmax));
        }
    } else {
        double *dir = malloc(p.n * sizeof *dir), *t0 = malloc(p.n * sizeof *t0);
        memcpy(t0, th, p.n * sizeof *th);
        for (int trial = 0; trial < 8; trial++) {
            double dot = random_direction(&rng, dir, g.mem, p.n);
            for (size_t i = 0; i < p.n; i++)
                th[i] = t0[i] + h * dir[i];
            double up = ref_objective(&p, th, &a, x, B, r, logits);
            for (size_t i = 0; i < p.n; i++)
                th[i] = t0[i] - h * dir[i];
            double down = ref_objective(&p, th, &a, x, B, r, logits);
            bad = fmax(bad, fabs(dot - (up - down) / (2 * h)) / (1e-4 * gmax));
        }
        free(dir);
        free(t0);
    }
    if (bad > 1.0 || getenv("ST_TEST_VERBOSE"))
        fprintf(stderr, "  whole GPT L%d C%d V%d T%d, %s: worst error %.3g of the bound\n",
                a.gpt_layers, a.d_model, a.vocab, a.context, all ? "every coordinate" :
                "random directions", bad);
    CHECK(bad <= 1.0);
    free(th);
    free(logits);
    free(x);
    free(r);
    st_work_free(&w);
    st_params_free(&g);
    st_params_free(&p);
    st_model_free(&m);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_gpt.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    test_checks();
    test_layout();
    test_gradient();
    /* Every coordinate of a tiny GPT (1 block, 1 head, width 4, vocabulary
     * 5, context 3: 337 parameters); random directions of one with 2
     * blocks of 4 heads, width 16, vocabulary 11, context 6. */
    test_gradient_double(gpt_arch(1, 1, 4, 5, 3), 2, 1, 11);
    test_gradient_double(gpt_arch(2, 2, 8, 7, 4), 2, 1, 12);
    test_gradient_double(gpt_arch(2, 4, 16, 11, 6), 3, 0, 13);
    rmdir(tmpdir);
    return check_report("test_gpt");
}
