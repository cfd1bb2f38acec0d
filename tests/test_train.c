/* test_train.c: the teacher-student setup (which layers the student re-draws,
 * PyTorch's initialization) and st_train_run end to end on tiny problems:
 * determinism, freezing, divergence, minibatch and online data, refusal to
 * overwrite a run, and the contract of metrics.csv. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "core/model.h"
#include "core/par.h"
#include "core/params.h"
#include "core/status.h"
#include "core/metrics.h"
#include "exp/metrics_log.h"
#include "exp/options.h"
#include "exp/source.h"
#include "exp/train.h"

#include "check.h"
#include "testutil.h"

static char tmpdir[64];

/* ---- helpers ---- */

/* 1 if both files exist and hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void file_in(char *out, size_t size, const char *dir, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

/* A parsed metrics.csv: column names and a rows x cols table of numbers. */
struct csv {
    int ncols, nrows;
    char header[4096];
    char names[64][32];
    double *v;
};

static int csv_load(struct csv *c, const char *path)
{
    size_t len;
    unsigned char *text = slurp(path, &len);
    char *line, *save = NULL;
    int cap = 0;
    memset(c, 0, sizeof *c);
    if (!text)
        return -1;
    line = strtok_r((char *)text, "\n", &save);
    if (!line) {
        free(text);
        return -1;
    }
    snprintf(c->header, sizeof c->header, "%s", line);
    {
        char tmp[4096], *tok, *s2 = NULL;
        snprintf(tmp, sizeof tmp, "%s", line);
        for (tok = strtok_r(tmp, ",", &s2); tok && c->ncols < 64; tok = strtok_r(NULL, ",", &s2))
            snprintf(c->names[c->ncols++], sizeof c->names[0], "%s", tok);
    }
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (c->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            c->v = realloc(c->v, (size_t)cap * (size_t)c->ncols * sizeof *c->v);
        }
        char *p = line;
        for (int j = 0; j < c->ncols; j++) {
            char *end;
            double x = strtod(p, &end);
            if (end == p) {
                free(text);
                return -2; /* malformed number */
            }
            c->v[(size_t)c->nrows * (size_t)c->ncols + (size_t)j] = x;
            p = end;
            if (j + 1 < c->ncols) {
                if (*p != ',') {
                    free(text);
                    return -3; /* too few fields */
                }
                p++;
            }
        }
        if (*p != '\0') {
            free(text);
            return -4; /* too many fields */
        }
        c->nrows++;
    }
    free(text);
    return 0;
}

static int csv_col(const struct csv *c, const char *name)
{
    for (int j = 0; j < c->ncols; j++)
        if (!strcmp(c->names[j], name))
            return j;
    return -1;
}

static double csv_at(const struct csv *c, int row, const char *name)
{
    int j = csv_col(c, name);
    if (j < 0 || row < 0 || row >= c->nrows)
        return NAN;
    return c->v[(size_t)row * (size_t)c->ncols + (size_t)j];
}

static void csv_free(struct csv *c)
{
    free(c->v);
    c->v = NULL;
}

/* A resolved config for a short quiet run into tmpdir/name. */
static void small_cfg(struct st_train_cfg *c, const char *name)
{
    struct st_err err = { "" };
    st_train_cfg_defaults(c);
    c->steps = 30;
    c->data_size = 64;
    c->quiet = 1;
    snprintf(c->out, sizeof c->out, "%s/%s", tmpdir, name);
    (void)err;
}

static enum st_status resolve_and_run(struct st_train_cfg *c, struct st_train_result *res,
                                      struct st_err *err)
{
    enum st_status st = st_train_cfg_resolve(c, err);
    if (st != ST_OK)
        return st;
    return st_train_run(c, NULL, res, err);
}

/* A run's source (its teacher, theta0 and data) as st_train_run builds it. */
struct setup {
    struct st_model m;
    struct st_source src;
};

static enum st_status setup_open(struct setup *s, struct st_train_cfg *c, struct st_err *err)
{
    enum st_status st;
    memset(s, 0, sizeof *s);
    if ((st = st_model_init(&s->m, &c->arch, err)) != ST_OK)
        return st;
    return st_source_open(&s->src, c, &s->m, err);
}

static void setup_free(struct setup *s)
{
    st_source_free(&s->src);
    st_model_free(&s->m);
}

/* ---- (a) which layers the student re-draws ---- */

static int view_equal(const struct st_view *a, const struct st_view *b)
{
    return memcmp(a->data, b->data, st_view_size(a) * sizeof(float)) == 0;
}

static size_t view_n_differ(const struct st_view *a, const struct st_view *b)
{
    size_t n = 0;
    for (size_t i = 0; i < st_view_size(a); i++)
        n += a->data[i] != b->data[i];
    return n;
}

static void check_redrawn(const char *reinit, const unsigned char redrawn[3])
{
    struct st_train_cfg c;
    struct setup ts;
    struct st_err err = { "" };

    st_train_cfg_defaults(&c);
    CHECK(st_option_set(&c, "widths", "3,16,8,2", &err) == ST_OK);
    CHECK(st_option_set(&c, "reinit", reinit, &err) == ST_OK);
    c.data_size = 50;
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK_OK(setup_open(&ts, &c, &err));
    const struct st_params *teacher = &ts.src.teacher.p, *start = &ts.src.start;
    if (!teacher->mem)
        return;
    CHECK(teacher->n_views == 6);
    for (int t = 0; t < teacher->n_views; t++) {
        const struct st_view *tv = &teacher->v[t], *sv = &start->v[t];
        size_t n = st_view_size(tv);
        CHECK(ts.src.truth[t] == (redrawn[t / 2] != 0));
        if (redrawn[t / 2]) {
            /* Independent draws from a continuous law: equal entries are
             * (all but) impossible; allow one coincidence. */
            size_t nd = view_n_differ(tv, sv);
            if (nd + 1 < n)
                fprintf(stderr, "  reinit %s: %s differs in only %zu of %zu entries\n", reinit,
                        tv->name, nd, n);
            CHECK(nd + 1 >= n);
        } else {
            if (!view_equal(tv, sv))
                fprintf(stderr, "  reinit %s: %s should equal the teacher's\n", reinit,
                        tv->name);
            CHECK(view_equal(tv, sv));
        }
    }
    /* The fixed data set is labelled by the teacher (no label noise). */
    CHECK(ts.src.train.n == 50);
    CHECK(ts.src.train.x != NULL && ts.src.train.y != NULL);
    if (ts.src.train.x && ts.src.train.y) {
        struct st_work w;
        CHECK_OK(st_work_init(&w, &ts.m, 50, &err));
        const float *yy = st_model_forward(&ts.m, teacher, &w, ts.src.train.x, 50);
        CHECK(memcmp(yy, ts.src.train.y, 50 * 2 * sizeof(float)) == 0);
        st_work_free(&w);
    }
    setup_free(&ts);
}

/* The teacher depends on the seed only, not on reinit or the data size. */
static void check_teacher_stable(void)
{
    struct st_train_cfg a, b;
    struct setup ta, tb;
    struct st_err err = { "" };
    st_train_cfg_defaults(&a);
    st_train_cfg_defaults(&b);
    CHECK(st_option_set(&a, "widths", "3,16,8,2", &err) == ST_OK);
    CHECK(st_option_set(&b, "widths", "3,16,8,2", &err) == ST_OK);
    CHECK(st_option_set(&a, "reinit", "2", &err) == ST_OK);
    CHECK(st_option_set(&b, "reinit", "1,3", &err) == ST_OK);
    a.data_size = 10;
    b.data_size = 20;
    CHECK_OK(st_train_cfg_resolve(&a, &err));
    CHECK_OK(st_train_cfg_resolve(&b, &err));
    CHECK_OK(setup_open(&ta, &a, &err));
    CHECK_OK(setup_open(&tb, &b, &err));
    if (ta.src.teacher.p.mem && tb.src.teacher.p.mem) {
        for (int t = 0; t < ta.src.teacher.p.n_views; t++)
            CHECK(view_equal(&ta.src.teacher.p.v[t], &tb.src.teacher.p.v[t]));
        /* The first 10 inputs are the same draws. */
        CHECK(memcmp(ta.src.train.x, tb.src.train.x, 10 * 3 * sizeof(float)) == 0);
    }
    setup_free(&ta);
    setup_free(&tb);

    /* Another seed, another teacher. */
    b = a;
    b.seed = 1;
    CHECK_OK(setup_open(&ta, &a, &err));
    CHECK_OK(setup_open(&tb, &b, &err));
    if (ta.src.teacher.p.mem && tb.src.teacher.p.mem)
        CHECK(view_n_differ(&ta.src.teacher.p.v[0], &tb.src.teacher.p.v[0]) + 1 >=
              st_view_size(&ta.src.teacher.p.v[0]));
    setup_free(&ta);
    setup_free(&tb);
}

static void test_setup(void)
{
    static const unsigned char mid[3] = { 0, 1, 0 }, outer[3] = { 1, 0, 1 }, none[3] = { 0 };
    check_redrawn("2", mid);
    check_redrawn("middle", mid);
    check_redrawn("1,3", outer);
    check_redrawn("none", none);
    check_teacher_stable();
}

/* ---- (b) initialization: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) ---- */

/* Checks the entries of v against U(-a, a), a = 1/sqrt(fan_in). For n draws
 * the sample mean has sd a/sqrt(3n) and the sample sd has relative sd about
 * sqrt(1/5 - 1/9) * 3/2 / sqrt(n) = 0.447/sqrt(n); tolerances are 5 sd. */
static void check_uniform(const struct st_view *v, int fan_in, const char *who)
{
    size_t n = st_view_size(v);
    double a = 1.0 / sqrt((double)fan_in), sum = 0.0, sq = 0.0, amax = 0.0;
    int out_of_range = 0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)v->data[i];
        if (fabs(x) > a * (1.0 + 1e-6))
            out_of_range++;
        sum += x;
        sq += x * x;
        if (fabs(x) > amax)
            amax = fabs(x);
    }
    double mean = sum / (double)n;
    double sd = sqrt(sq / (double)n - mean * mean);
    if (out_of_range)
        fprintf(stderr, "  %s %s: %d entries outside +-%g\n", who, v->name, out_of_range, a);
    CHECK(out_of_range == 0);
    /* The bound is reached: the largest of n uniform |x| is below a(1 - 20/n)
     * with probability (1 - 20/n)^n ~ e^-20. */
    CHECK(amax > a * (1.0 - 20.0 / (double)n));
    if (n >= 4096) {
        double sd_mean = a / sqrt(3.0 * (double)n);
        CHECK_NEAR(mean, 0.0, 5.0 * sd_mean, 0.0);
        CHECK_NEAR(sd, a / sqrt(3.0), 0.0, 5.0 * 0.447 / sqrt((double)n));
    }
}

static void test_init(void)
{
    struct st_train_cfg c;
    struct setup ts;
    struct st_err err = { "" };

    st_train_cfg_defaults(&c);
    CHECK(st_option_set(&c, "widths", "64,256,128,4", &err) == ST_OK);
    c.data_size = 4;
    CHECK_OK(st_train_cfg_resolve(&c, &err)); /* reinit middle = 2 */
    CHECK_OK(setup_open(&ts, &c, &err));
    if (!ts.src.teacher.p.mem)
        return;
    static const int fan_in[6] = { 64, 64, 256, 256, 128, 128 };
    for (int t = 0; t < 6; t++)
        check_uniform(&ts.src.teacher.p.v[t], fan_in[t], "teacher");
    /* The student's re-drawn layer follows the same law. */
    check_uniform(&ts.src.start.v[2], 256, "student");
    check_uniform(&ts.src.start.v[3], 256, "student");
    setup_free(&ts);
}

/* ---- (c) determinism ---- */

static void test_determinism(void)
{
    struct st_train_cfg a, b, d;
    struct st_train_result ra, rb;
    struct st_err err = { "" };
    char p1[4200], p2[4200];
    static const char *const files[] = { "metrics.csv", "student.safetensors",
                                         "teacher.safetensors", "student_init.safetensors",
                                         "config.ini" };

    small_cfg(&a, "det_a");
    small_cfg(&b, "det_b");
    small_cfg(&d, "det_c");
    a.lambda = b.lambda = d.lambda = 1e-3;
    d.seed = 1;
    CHECK_OK(resolve_and_run(&a, &ra, &err));
    CHECK_OK(resolve_and_run(&b, &rb, &err));
    CHECK_OK(resolve_and_run(&d, NULL, &err));
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        file_in(p1, sizeof p1, a.out, files[i]);
        file_in(p2, sizeof p2, b.out, files[i]);
        if (!same_file(p1, p2))
            fprintf(stderr, "  same seed: %s differs\n", files[i]);
        CHECK(same_file(p1, p2));
    }
    CHECK(ra.loss == rb.loss && ra.data_loss == rb.data_loss);
    CHECK(ra.n_tensors == 6 && rb.n_tensors == 6);
    for (int t = 0; t < ra.n_tensors; t++)
        CHECK(ra.t[t].d_init == rb.t[t].d_init);
    st_result_free(&ra);
    st_result_free(&rb);
    file_in(p1, sizeof p1, a.out, "metrics.csv");
    file_in(p2, sizeof p2, d.out, "metrics.csv");
    CHECK(exists(p2));
    CHECK(!same_file(p1, p2));
    file_in(p1, sizeof p1, a.out, "teacher.safetensors");
    file_in(p2, sizeof p2, d.out, "teacher.safetensors");
    CHECK(!same_file(p1, p2));
}

/* ---- (d) freezing ---- */

static void test_freeze(void)
{
    struct st_train_cfg c;
    struct st_train_result r;
    struct st_err err = { "" };
    struct csv m;
    char p[4200];

    small_cfg(&c, "freeze");
    CHECK(st_option_set(&c, "freeze", "1", &err) == ST_OK);
    c.lambda = 0.0;
    CHECK_OK(resolve_and_run(&c, &r, &err));
    file_in(p, sizeof p, c.out, "metrics.csv");
    CHECK(csv_load(&m, p) == 0);
    CHECK(m.nrows == 31);
    if (m.nrows > 0) {
        int last = m.nrows - 1;
        CHECK(csv_at(&m, last, "step") == 30.0);
        CHECK(csv_at(&m, last, "d_init_w1") == 0.0);
        CHECK(csv_at(&m, last, "d_init_b1") == 0.0);
        CHECK(csv_at(&m, last, "changed_w1") == 0.0);
        CHECK(csv_at(&m, last, "changed_b1") == 0.0);
        static const char *const moving[] = { "d_init_w2", "d_init_b2", "d_init_w3",
                                              "d_init_b3" };
        for (int i = 0; i < 4; i++) {
            CHECK(csv_at(&m, last, moving[i]) > 0.0);
            if (!(csv_at(&m, last, moving[i]) > 0.0))
                fprintf(stderr, "  freeze 1: %s = %g\n", moving[i], csv_at(&m, last, moving[i]));
        }
    }
    CHECK(r.n_tensors == 6 && r.t[0].d_init == 0.0 && r.t[1].d_init == 0.0);
    st_result_free(&r);
    csv_free(&m);

    /* Frozen tensors are bit-identical in the saved student and its start. */
    {
        char a[4200], b[4200];
        size_t la, lb;
        file_in(a, sizeof a, c.out, "student.safetensors");
        file_in(b, sizeof b, c.out, "student_init.safetensors");
        unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
        CHECK(x && y && la > 8 && lb > 8);
        if (x && y && la > 8 && lb > 8) {
            /* The headers differ (metadata role); the data blocks have the same
             * layout: w1 [20, 1] then b1 [20] are the first 40 floats. */
            size_t hx = 0, hy = 0;
            for (int i = 7; i >= 0; i--) {
                hx = (hx << 8) | x[i];
                hy = (hy << 8) | y[i];
            }
            CHECK(la - 8 - hx == lb - 8 - hy);
            CHECK(8 + hx + 40 * sizeof(float) <= la && 8 + hy + 40 * sizeof(float) <= lb);
            if (8 + hx + 40 * sizeof(float) <= la && la - 8 - hx == lb - 8 - hy) {
                CHECK(memcmp(x + 8 + hx, y + 8 + hy, 40 * sizeof(float)) == 0);
                /* but the student did train */
                CHECK(memcmp(x + 8 + hx, y + 8 + hy, la - 8 - hx) != 0);
            }
        }
        free(x);
        free(y);
    }
}

/* ---- (e) divergence ---- */

static void test_divergence(void)
{
    /* Adam moves each weight by about lr per step: 1e8 overflows float at once.
     * SGD's steps scale with the gradient: 1e6 is plenty. */
    static const char *const optimizers[] = { "adam", "sgd" };
    static const double lrs[] = { 1e8, 1e6 };
    for (int o = 0; o < 2; o++) {
        struct st_train_cfg c;
        struct st_train_result r;
        struct st_err err = { "" };
        char p[4200], name[32];
        struct csv m;

        snprintf(name, sizeof name, "diverge_%s", optimizers[o]);
        small_cfg(&c, name);
        c.steps = 100;
        c.opt.lr = lrs[o];
        CHECK(st_option_set(&c, "optimizer", optimizers[o], &err) == ST_OK);
        memset(&r, 0, sizeof r);
        enum st_status st = resolve_and_run(&c, &r, &err);
        CHECK(st == ST_ERR_NUMERIC);
        if (st != ST_ERR_NUMERIC)
            fprintf(stderr, "  %s lr %g: status %d (%s)\n", optimizers[o], lrs[o], (int)st,
                    err.msg);
        CHECK(strstr(err.msg, "step") != NULL);
        CHECK(r.diverged == 1);
        CHECK(r.steps_done < 100);
        file_in(p, sizeof p, c.out, "metrics.csv");
        CHECK(csv_load(&m, p) == 0);
        CHECK(!strncmp(m.header, "step,mse,penalty,loss,", 22));
        CHECK(m.nrows >= 1);
        if (m.nrows >= 1) {
            /* Rows up to the bad step are kept; the last row is the bad step. */
            int last = m.nrows - 1;
            CHECK(csv_at(&m, last, "step") == (double)r.steps_done);
            CHECK(!isfinite(csv_at(&m, last, "loss")));
            for (int i = 0; i < last; i++) {
                CHECK(csv_at(&m, i, "step") == (double)i);
                CHECK(isfinite(csv_at(&m, i, "loss")));
            }
        }
        csv_free(&m);
        /* summary.json: valid JSON with status diverged. */
        {
            size_t len;
            unsigned char *text;
            file_in(p, sizeof p, c.out, "summary.json");
            text = slurp(p, &len);
            CHECK(text != NULL);
            cJSON *root = text ? cJSON_Parse((const char *)text) : NULL;
            CHECK(root != NULL);
            cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "status");
            CHECK(cJSON_IsString(s) && !strcmp(s->valuestring, "diverged"));
            cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "steps_done");
            CHECK(cJSON_IsNumber(sd) && sd->valuedouble == (double)r.steps_done);
            cJSON_Delete(root);
            free(text);
        }
        st_result_free(&r);
    }
}

/* ---- (f) minibatch and online data ---- */

static void test_batches(void)
{
    struct st_train_cfg full, mini, onl;
    struct st_train_result rf, rm, ro;
    struct st_err err = { "" };
    struct csv m;
    char p1[4200], p2[4200];

    small_cfg(&full, "batch_full");
    small_cfg(&mini, "batch_mini");
    small_cfg(&onl, "batch_online");
    mini.batch = 16;
    onl.batch = 16;
    onl.online = 1;
    CHECK_OK(resolve_and_run(&full, &rf, &err));
    CHECK_OK(resolve_and_run(&mini, &rm, &err));
    CHECK_OK(resolve_and_run(&onl, &ro, &err));
    CHECK(isfinite(rf.loss) && isfinite(rm.loss) && isfinite(ro.loss));
    CHECK(rm.steps_done == 30 && ro.steps_done == 30);
    st_result_free(&rf);
    st_result_free(&rm);
    st_result_free(&ro);
    /* Minibatches see other data than the full batch: different logs. */
    file_in(p1, sizeof p1, full.out, "metrics.csv");
    file_in(p2, sizeof p2, mini.out, "metrics.csv");
    CHECK(!same_file(p1, p2));
    CHECK(csv_load(&m, p2) == 0);
    CHECK(m.nrows == 31);
    for (int i = 0; i < m.nrows; i++)
        CHECK(isfinite(csv_at(&m, i, "loss")));
    csv_free(&m);
    file_in(p2, sizeof p2, onl.out, "metrics.csv");
    CHECK(csv_load(&m, p2) == 0);
    CHECK(m.nrows == 31);
    csv_free(&m);
    CHECK(!same_file(p1, p2));

    /* Online runs are reproducible too. */
    {
        struct st_train_cfg again;
        small_cfg(&again, "batch_online2");
        again.batch = 16;
        again.online = 1;
        CHECK_OK(resolve_and_run(&again, NULL, &err));
        file_in(p1, sizeof p1, again.out, "metrics.csv");
        CHECK(same_file(p1, p2));
    }
}

/* ---- (g) refusing to overwrite a run ---- */

static void test_refusal(void)
{
    struct st_train_cfg c;
    struct st_err err = { "" };
    char p[4200];
    size_t l0, l1;
    unsigned char *before, *after;

    small_cfg(&c, "refuse");
    c.steps = 5;
    CHECK_OK(resolve_and_run(&c, NULL, &err));
    file_in(p, sizeof p, c.out, "metrics.csv");
    before = slurp(p, &l0);
    CHECK(before != NULL);

    c.steps = 7; /* would write a different log */
    err.msg[0] = '\0';
    CHECK(st_train_run(&c, NULL, NULL, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, c.out) != NULL);
    CHECK(strstr(err.msg, "--force") != NULL);
    after = slurp(p, &l1);
    CHECK(before && after && l0 == l1 && memcmp(before, after, l0) == 0);
    free(after);

    c.force = 1;
    CHECK_OK(st_train_run(&c, NULL, NULL, &err));
    after = slurp(p, &l1);
    CHECK(after != NULL && (l0 != l1 || memcmp(before, after, l0) != 0));
    free(after);
    free(before);

    /* An --out below a regular file is an I/O error. */
    {
        char f[4200];
        FILE *fp;
        file_in(f, sizeof f, tmpdir, "plainfile");
        fp = fopen(f, "w");
        CHECK(fp != NULL);
        if (fp)
            fclose(fp);
        small_cfg(&c, "plainfile/sub");
        CHECK(st_train_cfg_resolve(&c, &err) == ST_OK);
        CHECK(st_train_run(&c, NULL, NULL, &err) == ST_ERR_IO);
        remove(f);
    }
}

/* ---- (h) the metrics.csv contract ---- */

static void test_metrics(void)
{
    struct st_train_cfg c;
    struct st_train_result r;
    struct st_err err = { "" };
    struct csv m;
    char p[4200];
    static const char *const t6[] = { "w1", "b1", "w2", "b2", "w3", "b3" };

    small_cfg(&c, "metrics");
    c.lambda = 1e-3;
    CHECK_OK(resolve_and_run(&c, &r, &err));
    file_in(p, sizeof p, c.out, "metrics.csv");
    CHECK(csv_load(&m, p) == 0);
    CHECK(!strcmp(m.header, "step,mse,penalty,loss,"
                            "d_init_w1,d_init_b1,d_init_w2,d_init_b2,d_init_w3,d_init_b3,"
                            "d_teacher_w1,d_teacher_b1,d_teacher_w2,d_teacher_b2,d_teacher_w3,"
                            "d_teacher_b3,"
                            "changed_w1,changed_b1,changed_w2,changed_b2,changed_w3,changed_b3,"
                            "zero_w1,zero_b1,zero_w2,zero_b2,zero_w3,zero_b3,"
                            "nuc_w1,nuc_w2,nuc_w3,rank_w1,rank_w2,rank_w3"));
    CHECK(m.ncols == 34);
    CHECK(m.nrows == 31);
    for (int i = 0; i < m.nrows; i++) {
        CHECK(csv_at(&m, i, "step") == (double)i);
        double mse = csv_at(&m, i, "mse"), pen = csv_at(&m, i, "penalty");
        double loss = csv_at(&m, i, "loss"), sum_d = 0.0;
        CHECK_NEAR(loss, mse + 1e-3 * pen, 1e-12, 1e-7);
        CHECK(mse >= 0.0 && pen >= 0.0);
        /* l1 with mean reduction: R = sum over tensors of d_init. */
        for (int t = 0; t < 6; t++) {
            char col[32];
            snprintf(col, sizeof col, "d_init_%s", t6[t]);
            sum_d += csv_at(&m, i, col);
        }
        CHECK_NEAR(pen, sum_d, 1e-12, 1e-6);
    }
    if (m.nrows > 0) {
        /* Row 0 is the start: no distance, nothing changed, no penalty. */
        for (int t = 0; t < 6; t++) {
            char col[32];
            snprintf(col, sizeof col, "d_init_%s", t6[t]);
            CHECK(csv_at(&m, 0, col) == 0.0);
            snprintf(col, sizeof col, "changed_%s", t6[t]);
            CHECK(csv_at(&m, 0, col) == 0.0);
            snprintf(col, sizeof col, "d_teacher_%s", t6[t]);
            /* Only the re-drawn middle layer starts away from the teacher. */
            if (t == 2 || t == 3)
                CHECK(csv_at(&m, 0, col) > 0.0);
            else
                CHECK(csv_at(&m, 0, col) == 0.0);
        }
        CHECK(csv_at(&m, 0, "penalty") == 0.0);
        CHECK(csv_at(&m, 0, "loss") == csv_at(&m, 0, "mse"));
        CHECK(csv_at(&m, 0, "mse") > 0.0);
        int last = m.nrows - 1;
        /* The result agrees with the last row (printed with 9 digits). */
        CHECK_NEAR(r.data_loss, csv_at(&m, last, "mse"), 0.0, 1e-8);
        CHECK_NEAR(r.loss, csv_at(&m, last, "loss"), 0.0, 1e-8);
        CHECK_NEAR(r.t[2].d_init, csv_at(&m, last, "d_init_w2"), 0.0, 1e-8);
        CHECK(csv_at(&m, last, "mse") < csv_at(&m, 0, "mse")); /* it learns */
        CHECK(r.steps_done == 30);
        CHECK(r.t[2].truth == 1 && r.t[3].truth == 1 && r.t[0].truth == 0 && r.t[5].truth == 0);
        CHECK(!strcmp(r.t[2].name, "w2") && !strcmp(r.t[2].unit, "2") && r.t[2].matrix);
    }
    st_result_free(&r);
    csv_free(&m);

    /* summary.json: status ok and a verdict with the truth. */
    {
        size_t len;
        unsigned char *text;
        file_in(p, sizeof p, c.out, "summary.json");
        text = slurp(p, &len);
        cJSON *root = text ? cJSON_Parse((const char *)text) : NULL;
        CHECK(root != NULL);
        cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "status");
        CHECK(cJSON_IsString(s) && !strcmp(s->valuestring, "ok"));
        cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "verdict");
        CHECK(cJSON_IsObject(v));
        cJSON *truth = cJSON_GetObjectItemCaseSensitive(v, "truth");
        CHECK(cJSON_IsArray(truth) && cJSON_GetArraySize(truth) == 2);
        if (cJSON_IsArray(truth) && cJSON_GetArraySize(truth) == 2) {
            CHECK(!strcmp(cJSON_GetArrayItem(truth, 0)->valuestring, "w2"));
            CHECK(!strcmp(cJSON_GetArrayItem(truth, 1)->valuestring, "b2"));
        }
        cJSON_Delete(root);
        free(text);
    }

    /* log-every 7 over 30 steps: rows 0, 7, 14, 21, 28 and the last, 30. */
    small_cfg(&c, "metrics_every7");
    c.log_every = 7;
    CHECK_OK(resolve_and_run(&c, NULL, &err));
    file_in(p, sizeof p, c.out, "metrics.csv");
    CHECK(csv_load(&m, p) == 0);
    {
        static const double want[] = { 0, 7, 14, 21, 28, 30 };
        CHECK(m.nrows == 6);
        for (int i = 0; i < m.nrows && i < 6; i++)
            CHECK(csv_at(&m, i, "step") == want[i]);
    }
    csv_free(&m);

    /* log-every dividing steps: no duplicated last row. */
    small_cfg(&c, "metrics_every10");
    c.log_every = 10;
    CHECK_OK(resolve_and_run(&c, NULL, &err));
    file_in(p, sizeof p, c.out, "metrics.csv");
    CHECK(csv_load(&m, p) == 0);
    CHECK(m.nrows == 4);
    csv_free(&m);

    /* With save-data, x.npy holds the inputs of the setup (same seed). */
    {
        struct setup ts;
        size_t len, off;
        unsigned char *b;
        small_cfg(&c, "savedata");
        c.save_data = 1;
        c.steps = 2;
        CHECK_OK(resolve_and_run(&c, NULL, &err));
        CHECK_OK(setup_open(&ts, &c, &err));
        file_in(p, sizeof p, c.out, "x.npy");
        b = slurp(p, &len);
        off = b && len > 10 ? 10 + ((size_t)b[8] | (size_t)b[9] << 8) : 0;
        CHECK(b && off % 64 == 0 && len == off + 64 * sizeof(float));
        if (b && ts.src.train.x && len == off + 64 * sizeof(float))
            CHECK(memcmp(b + off, ts.src.train.x, 64 * sizeof(float)) == 0);
        free(b);
        file_in(p, sizeof p, c.out, "y.npy");
        b = slurp(p, &len);
        off = b && len > 10 ? 10 + ((size_t)b[8] | (size_t)b[9] << 8) : 0;
        CHECK(b && off % 64 == 0 && len == off + 64 * sizeof(float));
        if (b && ts.src.train.y && len == off + 64 * sizeof(float))
            CHECK(memcmp(b + off, ts.src.train.y, 64 * sizeof(float)) == 0);
        free(b);
        setup_free(&ts);
    }
}

/* ---- progress callback ---- */

struct prog {
    long calls, last_step, steps_seen, stop_at;
    int monotone;
};

static int on_progress(void *user, long step, long steps, double loss)
{
    struct prog *p = user;
    p->monotone &= step == p->last_step + 1 && isfinite(loss);
    p->calls++;
    p->last_step = step;
    p->steps_seen = steps;
    return p->stop_at && step >= p->stop_at;
}

static void test_progress(void)
{
    struct st_train_cfg c, whole;
    struct st_train_result r;
    struct st_err err = { "" };
    struct prog pr = { 0, 0, 0, 0, 1 };
    struct csv m;
    char p[4200], q[4200];

    small_cfg(&c, "progress");
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    struct st_train_hooks hooks = { on_progress, &pr, NULL, NULL, NULL, NULL };
    CHECK_OK(st_train_run(&c, &hooks, &r, &err));
    CHECK(pr.calls == 30 && pr.last_step == 30 && pr.steps_seen == 30 && pr.monotone);
    st_result_free(&r);
    whole = c;

    /* Stopping early through the progress report is a stop like a signal's:
     * a checkpoint at the top of step 10 (rows 0..9 logged), no summary, and
     * the run resumes to the bytes of an uninterrupted one. */
    memset(&pr, 0, sizeof pr);
    pr.monotone = 1;
    pr.stop_at = 10;
    small_cfg(&c, "progress_stop");
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK(st_train_run(&c, &hooks, &r, &err) == ST_ERR_INTERRUPTED);
    CHECK(pr.calls == 10);
    CHECK(r.steps_done == 10);
    st_result_free(&r);
    file_in(p, sizeof p, c.out, "metrics.csv");
    CHECK(csv_load(&m, p) == 0);
    CHECK(m.nrows == 10);
    CHECK(csv_at(&m, m.nrows - 1, "step") == 9.0);
    csv_free(&m);
    file_in(p, sizeof p, c.out, "summary.json");
    CHECK(!exists(p));
    file_in(p, sizeof p, c.out, "checkpoint.bin");
    CHECK(exists(p));
    c.resume = 1;
    CHECK_OK(st_train_run(&c, NULL, &r, &err));
    CHECK(r.steps_done == 30);
    st_result_free(&r);
    CHECK(!exists(p));
    file_in(p, sizeof p, c.out, "metrics.csv");
    file_in(q, sizeof q, whole.out, "metrics.csv");
    CHECK(same_file(p, q));
    file_in(p, sizeof p, c.out, "student.safetensors");
    file_in(q, sizeof q, whole.out, "student.safetensors");
    CHECK(same_file(p, q));

    /* A stop asked for after the last step leaves only the final row: the
     * run finishes, as the uninterrupted one. */
    memset(&pr, 0, sizeof pr);
    pr.monotone = 1;
    pr.stop_at = 30;
    small_cfg(&c, "progress_stop_last");
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK_OK(st_train_run(&c, &hooks, &r, &err));
    CHECK(r.steps_done == 30);
    st_result_free(&r);
    file_in(p, sizeof p, c.out, "checkpoint.bin");
    CHECK(!exists(p));
    file_in(p, sizeof p, c.out, "student.safetensors");
    file_in(q, sizeof q, whole.out, "student.safetensors");
    CHECK(same_file(p, q));

    /* A stop request set before the run starts: stopped at step 0. */
    volatile sig_atomic_t stop = SIGTERM;
    struct st_train_hooks stopped = { NULL, NULL, &stop, NULL, NULL, NULL };
    small_cfg(&c, "progress_stop0");
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK(st_train_run(&c, &stopped, &r, &err) == ST_ERR_INTERRUPTED);
    CHECK(r.steps_done == 0 && r.n_tensors == 0);
    st_result_free(&r);
}

/* metrics.csv's row buffer holds every field at its longest, for any number
 * of tensors: 600 tensors, half of them matrices, with the longest numbers. */
static void test_metrics_row(void)
{
    struct st_params layout;
    struct st_metrics_log log;
    struct st_observables obs;
    struct st_err err;
    char path[4200], name[32];
    const char *g[1] = { "u" };
    memset(&layout, 0, sizeof layout);
    for (int t = 0; t < 600; t++) {
        snprintf(name, sizeof name, "h%d.some.long.name", t);
        CHECK_OK(st_params_add(&layout, name, "r", t % 2 ? 1 : 2, 3, t % 2 ? 1 : 3,
                               t % 2 ? ST_KIND_BIAS : ST_KIND_WEIGHT, g, 1, &err));
    }
    /* xent with the most evaluation sets: --eval-x's and 7 named ones. */
    struct st_train_cfg *c = malloc(sizeof *c);
    CHECK(c != NULL);
    st_train_cfg_defaults(c);
    c->loss = ST_LOSS_XENT;
    CHECK_OK(st_option_set(c, "widths", "1,20,20,3", &err));
    strcpy(c->eval_x, "a.npy");
    strcpy(c->evals, "s1=b.npy;s2=b.npy;s3=b.npy;s4=b.npy;s5=b.npy;s6=b.npy;"
                     "a-much-longer-name-of-31-chars_=b.npy");
    enum st_status rst = st_train_cfg_resolve(c, &err);
    if (rst != ST_OK)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(rst == ST_OK && st_eval_count(c) == ST_EVAL_MAX);
    file_in(path, sizeof path, tmpdir, "rowbound.csv");
    CHECK_OK(st_metrics_log_open(&log, path, &layout, c, 1, 1, -1, &err));
    free(c);
    CHECK_OK(st_observables_init(&obs, 600, &err));
    double *nuc = malloc(600 * sizeof *nuc);
    int *rank = malloc(600 * sizeof *rank);
    for (int t = 0; t < 600 && nuc && rank; t++) {
        obs.d_init[t] = obs.d_teacher[t] = obs.changed[t] = -1.23456789e-300;
        obs.zero[t] = 4294967295.0;
        nuc[t] = -9.87654321e+300;
        rank[t] = -2147483647;
    }
    struct st_metrics_row row = { 9223372036854775807L, -1.23456789e-300, -1.23456789e-300,
                                  -1.23456789e-300, -1.23456789e-300,
                                  { 0 }, &obs, nuc, rank };
    for (int i = 0; i < 2 + 2 * ST_EVAL_MAX; i++)
        row.ev[i] = -1e-300;
    st_metrics_log_row(&log, &row);
    st_metrics_log_close(&log);
    /* Header and row: step, 4 loss terms, 2 per set, 4 per tensor, 2 per matrix. */
    size_t len;
    unsigned char *text = slurp(path, &len);
    int lines = 0, commas[2] = { 0, 0 };
    for (size_t i = 0; text && i < len; i++) {
        if (text[i] == '\n')
            lines++;
        else if (text[i] == ',' && lines < 2)
            commas[lines]++;
    }
    CHECK(lines == 2 && commas[0] == 5 + 2 + 2 * ST_EVAL_MAX + 4 * 600 + 2 * 300 - 1 &&
          commas[1] == commas[0]);
    CHECK(text && strstr((const char *)text,
                         ",eval_xent,eval_accuracy,eval_s1_xent,eval_s1_accuracy,") != NULL);
    CHECK(text && strstr((const char *)text, ",-1.23456789e-300,") != NULL);
    free(text);
    free(nuc);
    free(rank);
    st_observables_free(&obs);
    st_params_free(&layout);
    remove(path);
}

/* A result travels between processes as bytes and comes back the same. */
static void test_result_bytes(void)
{
    struct st_train_result r, back;
    struct st_err err;
    size_t len;
    CHECK_OK(st_result_init(&r, 3, &err));
    r.steps_done = 77;
    r.data_loss = 0.25;
    snprintf(r.t[2].name, sizeof r.t[2].name, "h11.mlp.proj.w");
    r.t[2].d_init = 1e-3;
    r.t[1].verdict = 1;
    void *bytes = st_result_pack(&r, &len);
    CHECK(bytes != NULL);
    CHECK_OK(st_result_unpack(&back, bytes, len, &err));
    CHECK(back.n_tensors == 3 && back.steps_done == 77 && back.data_loss == 0.25);
    CHECK(back.t != r.t && !memcmp(back.t, r.t, 3 * sizeof *r.t));
    CHECK(st_result_find(&back, "h11.mlp.proj.w") == &back.t[2]);
    st_result_free(&back);
    CHECK(st_result_unpack(&back, bytes, len - 1, &err) == ST_ERR_FORMAT);
    CHECK(st_result_unpack(&back, bytes, 3, &err) == ST_ERR_FORMAT);
    free(bytes);
    st_result_free(&r);
}

/* The memory plan (--dry-run, the start of a run) against the buffers a
 * run allocates: the parameter copies, the batch buffers and the spectrum's
 * workspace, part by part, for Adam and SGD, with and without the proximal
 * step, a teacher or not, minibatches or the full set, an MLP and a GPT; and
 * a dry run trains nothing and writes nothing. */
static void check_plan(const char *what, struct st_train_cfg *c)
{
    struct st_run_memory plan, used;
    struct st_err err = { "" };
    if (st_train_cfg_resolve(c, &err) != ST_OK || st_train_memory_used(c, &plan, &used, &err) != ST_OK) {
        fprintf(stderr, "%s: %s\n", what, err.msg);
        CHECK(0);
        return;
    }
    const double p[] = { plan.params, plan.grad, plan.optim, plan.start, plan.teacher, plan.prox,
                         plan.batch, plan.spectrum };
    const double u[] = { used.params, used.grad, used.optim, used.start, used.teacher, used.prox,
                         used.batch, used.spectrum };
    for (int i = 0; i < 8; i++)
        if (p[i] != u[i])
            fprintf(stderr, "%s: part %d planned %.0f bytes, allocated %.0f\n", what, i, p[i], u[i]);
    CHECK(!memcmp(p, u, sizeof p));
    CHECK(plan.params > 0.0 && plan.work > 0.0 && plan.data > 0.0);
    CHECK(plan.total == plan.params + plan.grad + plan.optim + plan.start + plan.teacher +
                           plan.prox + plan.data + plan.batch + plan.work + plan.eval_work +
                           plan.spectrum);
}

static void test_memory_plan(void)
{
    struct st_train_cfg c;
    struct st_err err = { "" };
    small_cfg(&c, "mem_adam");
    check_plan("adam, full batch, teacher", &c);
    small_cfg(&c, "mem_sgd");
    CHECK_OK(st_option_set(&c, "optimizer", "sgd", &err));
    c.prox = 1;
    c.batch = 16;
    c.spectrum_every = 0;
    check_plan("sgd, prox, batches", &c);
    small_cfg(&c, "mem_accum");
    c.batch = 8;
    c.grad_accum = 4;
    check_plan("adam, batches, --grad-accum 4", &c);
    small_cfg(&c, "mem_gpt");
    CHECK_OK(st_option_set(&c, "arch", "gpt", &err));
    c.batch = 4;
    check_plan("gpt, teacher, batches", &c);
    /* A language model on a text: its stream, windows, a held-out end. */
    char text[600];
    snprintf(text, sizeof text, "%s/mem.txt", tmpdir);
    FILE *f = fopen(text, "w");
    CHECK(f != NULL);
    for (int i = 0; f && i < 300; i++)
        fprintf(f, "line %d of the text\n", i);
    if (f)
        fclose(f);
    small_cfg(&c, "mem_stream");
    st_train_cfg_defaults(&c);
    c.quiet = 1;
    const char *set[][2] = { { "arch", "gpt" }, { "vocab", "256" }, { "context", "16" },
                             { "task", "data" }, { "text", text }, { "val-fraction", "0.25" },
                             { "batch", "4" } };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        CHECK_OK(st_option_set(&c, set[i][0], set[i][1], &err));
    check_plan("gpt, a text, batches, validation", &c);
    /* A dry run: the plan in the result, no directory. */
    struct st_train_result res;
    small_cfg(&c, "mem_dry");
    c.dry_run = 1;
    CHECK_OK(resolve_and_run(&c, &res, &err));
    CHECK(res.memory.total > 0.0 && res.steps_done == 0 && !exists(c.out));
    st_result_free(&res);
}

/* A run leaves the process as it found it: OpenBLAS's thread count and the
 * worker team are put back (runtime.h). */
static void test_process_state(void)
{
    struct st_train_cfg c;
    struct st_err err = { "" };
    openblas_set_num_threads(1);
    st_par_set_threads(1);
    small_cfg(&c, "threads");
    c.threads = 2;
    CHECK_OK(resolve_and_run(&c, NULL, &err));
    CHECK(openblas_get_num_threads() == 1);
    CHECK(st_par_threads() == 1);
    /* ... also when it fails */
    small_cfg(&c, "threads");
    c.threads = 2;
    CHECK(resolve_and_run(&c, NULL, &err) == ST_ERR_ARG); /* the directory holds a run */
    CHECK(openblas_get_num_threads() == 1);
    CHECK(st_par_threads() == 1);
}

int main(void)
{
    strcpy(tmpdir, "/tmp/st_test_train.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_setup();
    test_init();
    test_determinism();
    test_freeze();
    test_divergence();
    test_batches();
    test_refusal();
    test_metrics();
    test_progress();
    test_process_state();
    test_memory_plan();
    test_metrics_row();
    test_result_bytes();
    remove_tree(tmpdir);
    CHECK(!exists(tmpdir));
    return check_report("test_train");
}
