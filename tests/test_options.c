/* test_options.c: the option table (defaults, parsing, formatting that round-
 * trips, error messages), the whole-config checks of st_train_cfg_resolve and
 * config.ini written by st_options_write_ini and read back. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/status.h"
#include "exp/options.h"
#include "exp/sweep.h"
#include "core/select.h"
#include "exp/train.h"
#include "io/config.h"

#include "check.h"

static char tmpdir[64];

/* Formats option `name` of cfg into a static buffer. */
static const char *fmt(const struct st_train_cfg *cfg, const char *name)
{
    static char buf[4200];
    const struct st_option *o = st_option_find(name);
    if (!o)
        return "<no such option>";
    st_option_format(cfg, o, buf, sizeof buf);
    return buf;
}

/* ---- defaults ---- */

static void test_defaults(void)
{
    struct st_train_cfg c;
    st_train_cfg_defaults(&c);
    CHECK(c.arch.family == st_family_find("mlp") && c.arch.family == 0);
    CHECK(c.arch.n_layers == 3);
    CHECK(c.arch.widths[0] == 1 && c.arch.widths[1] == 20 && c.arch.widths[2] == 20 &&
          c.arch.widths[3] == 1);
    CHECK(c.arch.act == ST_ACT_RELU);
    CHECK(!strcmp(c.reinit, "middle"));
    CHECK(!strcmp(c.freeze, "none"));
    CHECK(c.data_dist == ST_DATA_UNIFORM && c.data_range[0] == 0.0 && c.data_range[1] == 2.0);
    CHECK(c.data_size == 1000);
    CHECK(c.batch == 0);
    CHECK(c.online == 0);
    CHECK(c.label_noise == 0.0);
    CHECK(c.opt.kind == ST_OPT_ADAM);
    CHECK(c.opt.lr == 0.01);
    CHECK(c.opt.beta1 == 0.9 && c.opt.beta2 == 0.999 && c.opt.eps == 1e-8);
    CHECK(c.opt.momentum == 0.0 && c.opt.nesterov == 0);
    CHECK(c.steps == 10000);
    CHECK(c.seed == 0);
    CHECK(c.penalty == ST_PEN_L1);
    CHECK(c.reduction == ST_RED_MEAN);
    CHECK(c.lambda == 0.0);
    CHECK(c.log_every == 1);
    CHECK(c.changed_threshold == 0.1);
    CHECK(c.save_data == 0 && c.force == 0 && c.quiet == 0);
    CHECK(c.threads == 1);

    /* The formatted defaults agree with what --help shows. */
    CHECK(!strcmp(fmt(&c, "widths"), "1,20,20,1"));
    CHECK(!strcmp(fmt(&c, "activation"), "relu"));
    CHECK(!strcmp(fmt(&c, "optimizer"), "adam"));
    CHECK(!strcmp(fmt(&c, "lr"), "0.01"));
    CHECK(!strcmp(fmt(&c, "steps"), "10000"));
    CHECK(!strcmp(fmt(&c, "data-size"), "1000"));
    CHECK(!strcmp(fmt(&c, "lambda"), "0"));
    CHECK(!strcmp(fmt(&c, "penalty"), "l1"));
    CHECK(!strcmp(fmt(&c, "penalty-reduction"), "mean"));
    CHECK(!strcmp(fmt(&c, "log-every"), "1"));
    CHECK(!strcmp(fmt(&c, "eps"), "1e-08"));
    int n;
    const struct st_option *opts = st_options(&n);
    for (int i = 0; i < n; i++) {
        const char *d = opts[i].shown ? opts[i].shown : opts[i].def;
        const char *f = fmt(&c, opts[i].name);
        /* Flags show "off"/"on" for 0/1; weight decay's default depends on the optimizer. */
        if (opts[i].type == ST_OPT_T_FLAG) {
            CHECK((!strcmp(d, "off") && !strcmp(f, "0")) || (!strcmp(d, "on") && !strcmp(f, "1")));
        } else if (strcmp(opts[i].name, "weight-decay") != 0) {
            if (strcmp(d, f) != 0)
                fprintf(stderr, "  --%s: help says [%s], default formats as '%s'\n",
                        opts[i].name, d, f);
            CHECK(!strcmp(d, f));
        }
    }
}

/* ---- round trips ---- */

/* A non-default value for every option and the exact string it must format as. */
static const struct {
    const char *name, *value, *formatted;
} samples[] = {
    { "arch", "mlp", "mlp" },
    { "widths", "3,7,5,2", "3,7,5,2" },
    { "activation", "tanh", "tanh" },
    { "reinit", "1,3", "1,3" },
    { "freeze", "w1,b2", "w1,b2" },
    { "data-dist", "normal", "normal" },
    { "data-range", "-0.5,1e-3", "-0.5,0.001" },
    { "data-size", "123", "123" },
    { "batch", "17", "17" },
    { "online", "yes", "1" },
    { "label-noise", "0.1", "0.1" },
    { "loss", "xent", "xent" },
    { "teacher", "m/t.safetensors", "m/t.safetensors" },
    { "student-init", "m/s.safetensors", "m/s.safetensors" },
    { "task", "data", "data" },
    { "text", "a/en.txt", "a/en.txt" },
    { "tokens", "a/t.bin", "a/t.bin" },
    { "tokenizer", "gpt2/", "gpt2/" },
    { "eval-text", "a/de.txt", "a/de.txt" },
    { "eval-tokens", "a/t.npy", "a/t.npy" },
    { "export-layout", "nanogpt", "nanogpt" },
    { "eval-x", "a/x.npy", "a/x.npy" },
    { "y-col", "label", "label" },
    { "val-fraction", "0.25", "0.25" },
    { "standardize", "1", "1" },
    { "eval-y", "a/y.npy", "a/y.npy" },
    { "x", "data/x.npy", "data/x.npy" },
    { "y", "data/y.npy", "data/y.npy" },
    { "optimizer", "sgd", "sgd" },
    { "lr", "1e-3", "0.001" },
    { "beta1", "0.5", "0.5" },
    { "beta2", "0.99", "0.99" },
    { "eps", "1e-10", "1e-10" },
    { "weight-decay", "0.25", "0.25" },
    { "momentum", "0.9", "0.9" },
    { "nesterov", "true", "1" },
    { "steps", "42", "42" },
    { "seed", "18446744073709551615", "18446744073709551615" },
    { "penalty", "none", "none" },
    { "penalty-reduction", "sum", "sum" },
    { "lambda", "0.33333333333333331", "0.3333333333333333" },
    { "log-every", "7", "7" },
    { "changed-threshold", "0.2", "0.2" },
    { "save-data", "on", "1" },
    { "save-delta", "on", "1" },
    { "dry-run", "1", "1" },
    { "grad-accum", "4", "4" },
    { "ranks", "2", "2" },
    { "threads", "4", "4" },
    { "products", "blas", "blas" },
    { "checkpoint-every", "5000", "5000" },
    { "out", "runs/some dir/x", "runs/some dir/x" },
    { "force", "1", "1" },
    { "quiet", "1", "1" },
    { "plot", "off", "0" },
    { "prox", "yes", "1" },
    { "lambda-scale", "w1=0,3=0.5", "w1=0,3=0.5" },
    { "nuclear-bias", "l1", "l1" },
    { "spectrum-every", "7", "7" },
    { "teacher-delta", "rank:2", "rank:2" },
    { "teacher-delta-scale", "0.25", "0.25" },
    { "format", "pdf", "pdf" },
    { "eval", "a=x.npy,y.npy;b-2=z.npy", "a=x.npy,y.npy;b-2=z.npy" },
    { "n-layer", "6", "6" },
    { "n-head", "3", "3" },
    { "d-model", "96", "96" },
    { "vocab", "257", "257" },
    { "context", "128", "128" },
};
#define N_SAMPLES ((int)(sizeof samples / sizeof samples[0]))

static void test_round_trip(void)
{
    struct st_err err = { "" };
    int n;
    const struct st_option *opts = st_options(&n);

    /* Every option in the table has a sample (a new option must get one). */
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int s = 0; s < N_SAMPLES; s++)
            found |= !strcmp(samples[s].name, opts[i].name);
        if (!found)
            fprintf(stderr, "  option --%s has no round-trip sample\n", opts[i].name);
        CHECK(found);
        CHECK(st_option_find(opts[i].name) == &opts[i]);
    }
    CHECK(st_option_find("no-such-option") == NULL);

    for (int s = 0; s < N_SAMPLES; s++) {
        struct st_train_cfg a, b, def;
        char fa[4200];
        st_train_cfg_defaults(&def);
        st_train_cfg_defaults(&a);
        st_train_cfg_defaults(&b);
        /* The sample is not the default (--arch has one family so far). */
        if (strcmp(samples[s].name, "arch") != 0)
            CHECK(strcmp(fmt(&def, samples[s].name), samples[s].formatted) != 0);
        err.msg[0] = '\0';
        CHECK(st_option_set(&a, samples[s].name, samples[s].value, &err) == ST_OK);
        if (err.msg[0])
            fprintf(stderr, "  --%s %s: %s\n", samples[s].name, samples[s].value, err.msg);
        snprintf(fa, sizeof fa, "%s", fmt(&a, samples[s].name));
        if (strcmp(fa, samples[s].formatted) != 0)
            fprintf(stderr, "  --%s '%s' formats as '%s', expected '%s'\n", samples[s].name,
                    samples[s].value, fa, samples[s].formatted);
        CHECK(!strcmp(fa, samples[s].formatted));
        CHECK(st_option_set(&b, samples[s].name, fa, &err) == ST_OK);
        CHECK(!strcmp(fmt(&b, samples[s].name), fa));
        /* Setting one option touches no other. */
        for (int i = 0; i < n; i++) {
            if (!strcmp(opts[i].name, samples[s].name))
                continue;
            char fd[4200];
            snprintf(fd, sizeof fd, "%s", fmt(&def, opts[i].name));
            CHECK(!strcmp(fmt(&a, opts[i].name), fd));
        }
    }

    /* Doubles: the formatted text is the shortest that reads back exactly. */
    static const double vals[] = { 1e-3, 0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-8, 0.01,
                                   1.7976931348623157e308, 123456789.125, 0.3, 1e22, 0.0 };
    static const char *const shortest[] = { "0.001", "0.1", "0.3333333333333333",
                                            "0.6666666666666666", "1e-08", "0.01",
                                            "1.7976931348623157e+308",
                                            "123456789.125", "0.3", "1e+22", "0" };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        struct st_train_cfg a, b;
        char fa[4200];
        st_train_cfg_defaults(&a);
        st_train_cfg_defaults(&b);
        a.lambda = vals[i];
        snprintf(fa, sizeof fa, "%s", fmt(&a, "lambda"));
        CHECK(strtod(fa, NULL) == vals[i]);
        /* Shortest: no representation with fewer significant digits reads back. */
        if (strcmp(fa, shortest[i]) != 0 && strlen(fa) > strlen(shortest[i]))
            fprintf(stderr, "  %.17g formats as '%s', expected '%s'\n", vals[i], fa,
                    shortest[i]);
        CHECK(strlen(fa) <= strlen(shortest[i]));
        CHECK(st_option_set(&b, "lambda", fa, &err) == ST_OK);
        CHECK(b.lambda == vals[i]);
        CHECK(!strcmp(fmt(&b, "lambda"), fa));
    }
}

/* ---- bad values ---- */

/* Expects ST_ERR_ARG with every needle in the message. */
static void expect_bad(const char *name, const char *value, const char *needle1,
                       const char *needle2)
{
    struct st_train_cfg c, before;
    struct st_err err = { "" };
    st_train_cfg_defaults(&c);
    before = c;
    enum st_status st = st_option_set(&c, name, value, &err);
    CHECK(st == ST_ERR_ARG);
    if (st != ST_ERR_ARG)
        fprintf(stderr, "  --%s '%s' accepted (status %d)\n", name, value, (int)st);
    if (needle1) {
        CHECK(strstr(err.msg, needle1) != NULL);
        if (!strstr(err.msg, needle1))
            fprintf(stderr, "  --%s '%s': message '%s' lacks '%s'\n", name, value, err.msg,
                    needle1);
    }
    if (needle2) {
        CHECK(strstr(err.msg, needle2) != NULL);
        if (!strstr(err.msg, needle2))
            fprintf(stderr, "  --%s '%s': message '%s' lacks '%s'\n", name, value, err.msg,
                    needle2);
    }
    /* A rejected value leaves the config as it was. */
    CHECK(memcmp(&c, &before, sizeof c) == 0);
}

static void test_bad_values(void)
{
    expect_bad("lr", "abc", "--lr 'abc'", NULL);
    expect_bad("lr", "-0.1", "--lr '-0.1'", NULL);
    expect_bad("lr", "", "--lr ''", NULL);
    expect_bad("lr", "1e999", "--lr '1e999'", NULL);
    expect_bad("lr", "nan", "--lr 'nan'", NULL);
    expect_bad("lr", "inf", "--lr 'inf'", NULL);
    expect_bad("lr", "0.1x", "--lr '0.1x'", NULL);
    expect_bad("lambda", "-1e-3", "--lambda '-1e-3'", NULL);
    expect_bad("widths", "1,,2", "--widths '1,,2'", NULL);
    expect_bad("widths", "5", "--widths '5'", NULL);
    expect_bad("widths", "1,0,1", "--widths '1,0,1'", NULL);
    expect_bad("widths", "1,-3,1", "--widths '1,-3,1'", NULL);
    expect_bad("widths", "1,2,", "--widths '1,2,'", NULL);
    expect_bad("widths", "", "--widths ''", NULL);
    expect_bad("widths", "a,b", "--widths 'a,b'", NULL);
    expect_bad("steps", "-1", "--steps '-1'", NULL);
    expect_bad("steps", "1.5", "--steps '1.5'", NULL);
    expect_bad("steps", "99999999999999999999999", "--steps", NULL);
    expect_bad("data-size", "ten", "--data-size 'ten'", NULL);
    expect_bad("seed", "-1", "--seed '-1'", NULL);
    expect_bad("checkpoint-every", "-1", "--checkpoint-every '-1'", NULL);
    expect_bad("threads", "0", "--threads '0'", NULL);
    expect_bad("online", "maybe", "--online 'maybe'", NULL);
    expect_bad("activation", "foo", "--activation 'foo'", "relu, tanh, silu, gelu, linear");
    expect_bad("optimizer", "rmsprop", "--optimizer 'rmsprop'", "adamw");
    expect_bad("penalty", "l3", "--penalty 'l3'", "l1");
    expect_bad("data-dist", "cauchy", "--data-dist 'cauchy'", "uniform");
    expect_bad("data-range", "2,1", "--data-range '2,1'", "LO < HI");
    expect_bad("data-range", "1", "--data-range '1'", "LO,HI");
    expect_bad("data-range", "0,inf", "--data-range '0,inf'", NULL);
    expect_bad("bogus", "1", "bogus", NULL);
    /* Integer ranges are part of each option, so the message states the real range. */
    expect_bad("log-every", "0", "--log-every '0'", "from 1 to");
    expect_bad("data-size", "0", "--data-size '0'", "from 1 to 2147483647");
    expect_bad("data-size", "1000000000000", "--data-size '1000000000000'", "2147483647");
    expect_bad("batch", "-1", "--batch '-1'", "from 0 to");
    /* strtoul would wrap ' -1' to 2^64 - 1; leading blanks and '+' are refused. */
    expect_bad("seed", " -1", "--seed ' -1'", NULL);
    expect_bad("widths", " 1,+2", "--widths ' 1,+2'", NULL);
    expect_bad("lr", "1e-400", "--lr '1e-400'", "range");
    expect_bad("reinit", "", "--reinit ''", NULL);

    /* 65 layers is one too many. */
    char many[512];
    size_t len = 0;
    for (int i = 0; i <= ST_MLP_MAX_LAYERS + 1; i++)
        len += (size_t)snprintf(many + len, sizeof many - len, i ? ",2" : "2");
    expect_bad("widths", many, "--widths", NULL);

    /* An over-long string is refused, not truncated. */
    char longs[ST_LIST_MAX + 8];
    memset(longs, '1', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    expect_bad("reinit", longs, "--reinit", NULL);
}

/* ---- resolve ---- */

/* mask[t] = view t of cfg's model is selected by option opt's value (the
 * run's own reading of --reinit and --freeze). */
static void selected(const struct st_train_cfg *c, const char *opt, const char *spec,
                     unsigned char *mask)
{
    struct st_model m;
    struct st_params layout;
    struct st_err err;
    memset(mask, 0, 2 * ST_MLP_MAX_LAYERS);
    CHECK_OK(st_model_init(&m, &c->arch, &err));
    CHECK_OK(st_model_layout(&m, &layout, &err));
    CHECK_OK(st_select(&layout, opt, spec, mask, &err));
    st_params_free(&layout);
    st_model_free(&m);
}

/* Layer l's tensors (w_l, b_l) are selected by --reinit. */
static int reinit_layer(const struct st_train_cfg *c, int l)
{
    unsigned char mask[2 * ST_MLP_MAX_LAYERS];
    selected(c, "reinit", c->reinit, mask);
    return mask[2 * (l - 1)] && mask[2 * (l - 1) + 1];
}

/* trainable[t]: view t is not frozen. */
static void trainable(const struct st_train_cfg *c, unsigned char *out)
{
    unsigned char mask[2 * ST_MLP_MAX_LAYERS];
    selected(c, "freeze", c->freeze, mask);
    for (int t = 0; t < 2 * c->arch.n_layers; t++)
        out[t] = !mask[t];
}

static enum st_status resolve_with(struct st_train_cfg *c, const char *widths, const char *k1,
                                   const char *v1, const char *k2, const char *v2,
                                   struct st_err *err)
{
    struct st_err e2 = { "" };
    st_train_cfg_defaults(c);
    if (widths)
        CHECK(st_option_set(c, "widths", widths, &e2) == ST_OK);
    if (k1)
        CHECK(st_option_set(c, k1, v1, &e2) == ST_OK);
    if (k2)
        CHECK(st_option_set(c, k2, v2, &e2) == ST_OK);
    return st_train_cfg_resolve(c, err);
}

static void expect_resolve_error(const char *widths, const char *k1, const char *v1,
                                 const char *k2, const char *v2, const char *needle)
{
    struct st_train_cfg c;
    struct st_err err = { "" };
    enum st_status st = resolve_with(&c, widths, k1, v1, k2, v2, &err);
    CHECK(st == ST_ERR_ARG);
    CHECK(strstr(err.msg, needle) != NULL);
    if (st != ST_ERR_ARG || !strstr(err.msg, needle))
        fprintf(stderr, "  resolve %s=%s %s=%s: status %d, message '%s' (wanted '%s')\n",
                k1 ? k1 : "", v1 ? v1 : "", k2 ? k2 : "", v2 ? v2 : "", (int)st, err.msg,
                needle);
}

static void test_resolve(void)
{
    struct st_train_cfg c;
    struct st_err err = { "" };

    /* Defaults resolve; batch 0 becomes the data size, middle becomes 2. */
    st_train_cfg_defaults(&c);
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK(c.batch == 1000);
    CHECK(!strcmp(c.reinit, "2"));
    CHECK(!reinit_layer(&c, 1) && reinit_layer(&c, 2) && !reinit_layer(&c, 3));
    unsigned char tr[2 * ST_MLP_MAX_LAYERS];
    trainable(&c, tr);
    for (int t = 0; t < 6; t++)
        CHECK(tr[t] == 1);
    CHECK(c.opt.weight_decay == 0.0);
    /* Resolving a resolved config changes nothing (config.ini re-runs). */
    {
        struct st_train_cfg again = c;
        CHECK_OK(st_train_cfg_resolve(&again, &err));
        CHECK(memcmp(&again, &c, sizeof c) == 0);
    }

    CHECK_OK(resolve_with(&c, NULL, "data-size", "37", NULL, NULL, &err));
    CHECK(c.batch == 37);
    CHECK_OK(resolve_with(&c, NULL, "data-size", "64", "batch", "16", &err));
    CHECK(c.batch == 16);

    /* middle = (L + 1) / 2 */
    static const struct {
        const char *widths;
        const char *want;
    } mid[] = { { "4,2", "1" }, { "4,3,2", "1" }, { "1,20,20,1", "2" }, { "1,2,3,4,5", "2" },
                { "1,2,3,4,5,6", "3" } };
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
        CHECK_OK(resolve_with(&c, mid[i].widths, NULL, NULL, NULL, NULL, &err));
        CHECK(!strcmp(c.reinit, mid[i].want));
        int L = c.arch.n_layers, m = atoi(mid[i].want);
        for (int l = 1; l <= L; l++)
            CHECK(reinit_layer(&c, l) == (l == m));
    }
    CHECK_OK(resolve_with(&c, NULL, "reinit", "1,3", NULL, NULL, &err));
    CHECK(reinit_layer(&c, 1) && !reinit_layer(&c, 2) && reinit_layer(&c, 3));
    CHECK(!strcmp(c.reinit, "1,3"));
    CHECK_OK(resolve_with(&c, NULL, "reinit", "none", NULL, NULL, &err));
    CHECK(!reinit_layer(&c, 1) && !reinit_layer(&c, 2) && !reinit_layer(&c, 3));
    expect_resolve_error(NULL, "reinit", "7", NULL, NULL, "--reinit '7'");
    expect_resolve_error(NULL, "reinit", "0", NULL, NULL, "--reinit '0'");
    expect_resolve_error(NULL, "reinit", "x", NULL, NULL, "--reinit 'x'");
    expect_resolve_error(NULL, "reinit", "1,", NULL, NULL, "--reinit '1,'");

    /* freeze */
    CHECK_OK(resolve_with(&c, NULL, "freeze", "1", NULL, NULL, &err));
    trainable(&c, tr);
    CHECK(tr[0] == 0 && tr[1] == 0);
    CHECK(tr[2] == 1 && tr[3] == 1 && tr[4] == 1 && tr[5] == 1);
    CHECK_OK(resolve_with(&c, NULL, "freeze", "w2,b3", NULL, NULL, &err));
    {
        static const unsigned char want[6] = { 1, 1, 0, 1, 1, 0 };
        trainable(&c, tr);
        for (int t = 0; t < 6; t++)
            CHECK(tr[t] == want[t]);
    }
    CHECK_OK(resolve_with(&c, NULL, "freeze", "1,3", NULL, NULL, &err));
    {
        static const unsigned char want[6] = { 0, 0, 1, 1, 0, 0 };
        trainable(&c, tr);
        for (int t = 0; t < 6; t++)
            CHECK(tr[t] == want[t]);
    }
    /* One parser for every selector: globs, groups, and the same refusals. */
    CHECK_OK(resolve_with(&c, NULL, "freeze", "b*", NULL, NULL, &err));
    {
        static const unsigned char want[6] = { 1, 0, 1, 0, 1, 0 };
        trainable(&c, tr);
        for (int t = 0; t < 6; t++)
            CHECK(tr[t] == want[t]);
    }
    CHECK_OK(resolve_with(&c, NULL, "reinit", "w2", NULL, NULL, &err));
    expect_resolve_error(NULL, "freeze", "+1", NULL, NULL, "--freeze '+1': '+1'");
    expect_resolve_error(NULL, "freeze", " 1", NULL, NULL, "--freeze ' 1': ' 1'");
    expect_resolve_error(NULL, "reinit", "+1", NULL, NULL, "--reinit '+1'");
    expect_resolve_error(NULL, "freeze", "1,1", NULL, NULL, "a second time");
    expect_resolve_error(NULL, "reinit", "2,w2", NULL, NULL, "'w2' selects w2 a second time");
    expect_resolve_error(NULL, "freeze", "c*", NULL, NULL, "'c*' matches no tensor or group");
    expect_resolve_error(NULL, "lambda-scale", "b*=0,b1=2", NULL, NULL, "b1 a second time");
    expect_resolve_error(NULL, "lambda-scale", "+1=0", NULL, NULL, "'+1'");
    expect_resolve_error(NULL, "lambda-scale", "w1=-1", NULL, NULL, "factor '-1'");
    expect_resolve_error(NULL, "freeze", "w9", NULL, NULL, "w9");
    expect_resolve_error(NULL, "freeze", "x1", NULL, NULL, "x1");
    expect_resolve_error(NULL, "freeze", "w", NULL, NULL, "--freeze 'w'");
    expect_resolve_error(NULL, "freeze", "4", NULL, NULL, "--freeze '4'");
    expect_resolve_error(NULL, "freeze", "w1,", NULL, NULL, "--freeze 'w1,'");

    /* weight decay default per optimizer; an explicit value is kept. */
    CHECK_OK(resolve_with(&c, NULL, "optimizer", "adamw", NULL, NULL, &err));
    CHECK(c.opt.weight_decay == 0.01);
    CHECK(!strcmp(fmt(&c, "weight-decay"), "0.01"));
    CHECK_OK(resolve_with(&c, NULL, "optimizer", "adam", NULL, NULL, &err));
    CHECK(c.opt.weight_decay == 0.0);
    CHECK_OK(resolve_with(&c, NULL, "optimizer", "sgd", NULL, NULL, &err));
    CHECK(c.opt.weight_decay == 0.0);
    CHECK_OK(resolve_with(&c, NULL, "optimizer", "adamw", "weight-decay", "0", &err));
    CHECK(c.opt.weight_decay == 0.0);
    CHECK_OK(resolve_with(&c, NULL, "optimizer", "adam", "weight-decay", "0.5", &err));
    CHECK(c.opt.weight_decay == 0.5);

    /* Whole-config errors name the option. */
    expect_resolve_error(NULL, "save-data", "1", "online", "1", "--save-data");
    expect_resolve_error(NULL, "data-size", "10", "batch", "11", "--batch 11");
    expect_bad("lr", "0", "--lr '0'", "expected a positive finite number");
    expect_bad("lr", "-1", "--lr '-1'", "expected a positive finite number");
    expect_resolve_error(NULL, "beta1", "1", NULL, NULL, "--beta1");
    expect_resolve_error(NULL, "beta2", "1.5", NULL, NULL, "--beta2");
    expect_resolve_error(NULL, "changed-threshold", "1.5", NULL, NULL, "--changed-threshold");
    expect_resolve_error(NULL, "nesterov", "1", NULL, NULL, "--nesterov");
    expect_resolve_error(NULL, "momentum", "0.9", NULL, NULL, "--momentum");
    CHECK_OK(resolve_with(&c, NULL, "optimizer", "sgd", "momentum", "0.9", &err));

    /* A data run's evaluation set needs its targets: --eval-y, or a .csv
     * --eval-x whose --y-col column holds them; the teacher a data run does
     * not have cannot label it. */
    {
        static const char *const base[][2] = { { "task", "data" }, { "x", "b.csv" },
                                               { "y-col", "y" }, { "widths", "2,4,1" } };
        st_train_cfg_defaults(&c);
        for (int i = 0; i < 4; i++)
            CHECK(st_option_set(&c, base[i][0], base[i][1], &err) == ST_OK);
        struct st_train_cfg d = c;
        CHECK(st_option_set(&d, "eval-x", "a.npy", &err) == ST_OK);
        CHECK(st_train_cfg_resolve(&d, &err) == ST_ERR_ARG);
        CHECK(strstr(err.msg, "--eval-x a.npy: needs --eval-y") != NULL);
        d = c;
        CHECK(st_option_set(&d, "eval-x", "a.csv", &err) == ST_OK);
        CHECK_OK(st_train_cfg_resolve(&d, &err));
        d = c;
        CHECK(st_option_set(&d, "eval-x", "a.npy", &err) == ST_OK);
        CHECK(st_option_set(&d, "eval-y", "a_y.npy", &err) == ST_OK);
        CHECK_OK(st_train_cfg_resolve(&d, &err));
    }
    /* Resolving reads no file: the size of a --x set comes with its data. */
    CHECK_OK(resolve_with(&c, NULL, "x", "/nonexistent/x.npy", NULL, NULL, &err));
    CHECK(c.batch == 0);
}

/* ---- config.ini ---- */

static enum st_status set_cb(void *user, const char *key, const char *value, struct st_err *err)
{
    return st_option_set(user, key, value, err);
}

/* Writes a's config.ini, reads it into defaults and compares every option. */
static void ini_round_trip(const struct st_train_cfg *a, const char *tag)
{
    char path[256];
    struct st_train_cfg b;
    struct st_err err = { "" };
    int n;
    const struct st_option *opts = st_options(&n);
    FILE *f;

    snprintf(path, sizeof path, "%s/%s.ini", tmpdir, tag);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    st_options_write_ini(f, a);
    fclose(f);

    st_train_cfg_defaults(&b);
    enum st_status st = st_ini_read(path, set_cb, &b, &err);
    CHECK(st == ST_OK);
    if (st != ST_OK)
        fprintf(stderr, "  %s: %s\n", tag, err.msg);
    for (int i = 0; i < n; i++) {
        char fa[4200];
        snprintf(fa, sizeof fa, "%s", fmt(a, opts[i].name));
        if (opts[i].saved) {
            if (strcmp(fa, fmt(&b, opts[i].name)) != 0)
                fprintf(stderr, "  %s: --%s wrote '%s', read back '%s'\n", tag, opts[i].name,
                        fa, fmt(&b, opts[i].name));
            CHECK(!strcmp(fa, fmt(&b, opts[i].name)));
        }
    }
    if (st != ST_OK) {
        remove(path);
        return;
    }
    /* The re-read config resolves to the same run. */
    CHECK_OK(st_train_cfg_resolve(&b, &err));
    for (int i = 0; i < n; i++)
        if (opts[i].saved) {
            char fa[4200];
            snprintf(fa, sizeof fa, "%s", fmt(a, opts[i].name));
            CHECK(!strcmp(fa, fmt(&b, opts[i].name)));
        }
    for (int l = 1; l <= a->arch.n_layers; l++)
        CHECK(reinit_layer(a, l) == reinit_layer(&b, l));
    unsigned char ta[2 * ST_MLP_MAX_LAYERS], tb[2 * ST_MLP_MAX_LAYERS];
    trainable(a, ta);
    trainable(&b, tb);
    CHECK(memcmp(ta, tb, 2 * (size_t)a->arch.n_layers) == 0);
    remove(path);
}

static void test_ini(void)
{
    struct st_train_cfg a;
    struct st_err err = { "" };
    char path[256];
    FILE *f;
    static const struct {
        const char *k, *v;
    } set[] = { { "widths", "3,9,8,7,2" }, { "activation", "gelu" }, { "reinit", "1,4" },
                { "freeze", "w2,b3" },     { "data-dist", "normal" }, { "data-size", "77" },
                { "batch", "11" },         { "label-noise", "0.05" }, { "optimizer", "adamw" },
                { "lr", "3e-4" },          { "beta1", "0.8" },        { "beta2", "0.95" },
                { "eps", "1e-7" },         { "steps", "123" },        { "seed", "99" },
                { "penalty-reduction", "sum" }, { "lambda", "0.3333333333333333" },
                { "log-every", "5" },      { "changed-threshold", "0.25" },
                { "save-data", "1" },      { "save-delta", "1" },
                { "threads", "2" },        { "products", "own,blas,own,own" },
                { "out", "elsewhere" },
                { "force", "1" },          { "quiet", "1" } };

    st_train_cfg_defaults(&a);
    CHECK_OK(st_train_cfg_resolve(&a, &err));
    ini_round_trip(&a, "defaults");

    st_train_cfg_defaults(&a);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        CHECK(st_option_set(&a, set[i].k, set[i].v, &err) == ST_OK);
    CHECK_OK(st_train_cfg_resolve(&a, &err));
    CHECK(a.opt.weight_decay == 0.01);
    ini_round_trip(&a, "custom");

    /* Not saved: out, force, quiet (they describe the invocation, not the run). */
    snprintf(path, sizeof path, "%s/saved.ini", tmpdir);
    f = fopen(path, "w+");
    CHECK(f != NULL);
    if (f) {
        char line[1024];
        int n_lines = 0, n_saved = 0, n;
        const struct st_option *opts = st_options(&n);
        /* Saved, and of the run's family: an MLP's config.ini has no GPT
         * sizes, a GPT's no widths. */
        for (int i = 0; i < n; i++)
            n_saved += opts[i].saved != 0 && st_option_for_family(&opts[i], a.arch.family);
        CHECK(!st_option_for_family(st_option_find("n-layer"), st_family_find("mlp")));
        CHECK(!st_option_for_family(st_option_find("widths"), st_family_find("gpt")));
        CHECK(st_option_for_family(st_option_find("lr"), st_family_find("gpt")));
        st_options_write_ini(f, &a);
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            n_lines++;
            CHECK(strncmp(line, "out ", 4) != 0);
            CHECK(strncmp(line, "force ", 6) != 0);
            CHECK(strncmp(line, "quiet ", 6) != 0);
            CHECK(strstr(line, " = ") != NULL);
        }
        CHECK(n_lines == n_saved);
        fclose(f);
        remove(path);
    }

    /* A deep network (64 layers, the maximum, of the default hidden width 20):
     * its widths line is about 200 characters, and config.ini must still
     * re-read to the same widths. */
    {
        char w[1024];
        size_t len = 0;
        st_train_cfg_defaults(&a);
        for (int l = 0; l <= ST_MLP_MAX_LAYERS; l++)
            len += (size_t)snprintf(w + len, sizeof w - len, "%s%s", l ? "," : "",
                                    l == 0 || l == ST_MLP_MAX_LAYERS ? "1" : "20");
        CHECK(st_option_set(&a, "widths", w, &err) == ST_OK);
        CHECK(a.arch.n_layers == ST_MLP_MAX_LAYERS);
        CHECK_OK(st_train_cfg_resolve(&a, &err));
        ini_round_trip(&a, "deep");
    }
}

/* A sweep's tensors: the union over its runs, in first-seen order, with the
 * entry counts of their runs, or NaN where the runs' counts differ. */
static void test_names(void)
{
    struct st_train_cfg c;
    struct st_names names;
    struct st_err err;
    memset(&names, 0, sizeof names);
    st_train_cfg_defaults(&c);
    CHECK_OK(st_option_set(&c, "widths", "1,20,20,1", &err));
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK_OK(st_names_add(&names, &c, &err));
    CHECK(names.n == 6 && !strcmp(names.t[2].name, "w2") && names.t[2].size == 400.0);
    CHECK(!strcmp(names.t[2].unit, "2") && names.t[2].matrix && !names.t[3].matrix);
    CHECK_OK(st_option_set(&c, "widths", "1,10,20,1", &err));
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK_OK(st_names_add(&names, &c, &err));
    CHECK(names.n == 6);
    CHECK(isnan(names.t[0].size) && isnan(names.t[1].size) && isnan(names.t[2].size));
    CHECK(names.t[3].size == 20.0 && names.t[4].size == 20.0 && names.t[5].size == 1.0);
    CHECK_OK(st_option_set(&c, "widths", "1,10,20,20,1", &err));
    CHECK_OK(st_train_cfg_resolve(&c, &err));
    CHECK_OK(st_names_add(&names, &c, &err));
    CHECK(names.n == 8 && !strcmp(names.t[6].name, "w4") && names.t[6].size == 20.0);
    st_names_free(&names);
    CHECK(names.n == 0 && names.t == NULL);
}

/* ---- the kinds of command, data-run help, defaults, the seed's use ---- */

static void test_kinds(void)
{
    struct st_err err = { "" };
    int n;
    const struct st_option *opts = st_options(&n);
    const char *shown;

    /* Every option applies to some kind of command, and to the commands of
     * either kind (train shows them all). */
    for (int i = 0; i < n; i++) {
        CHECK(opts[i].cmds != 0);
        CHECK(opts[i].cmds & ST_CMD_ANY);
    }
    CHECK(!(st_option_find("reinit")->cmds & ST_CMD_DATA));
    CHECK(!(st_option_find("standardize")->cmds & ST_CMD_TS));
    CHECK(st_option_find("task")->cmds == ST_CMD_ANY);

    /* A data run's help: the seed's other uses, the penalty's defaults. */
    const struct st_option *seed = st_option_find("seed"), *pen = st_option_find("penalty");
    CHECK(st_option_help(seed, 0, &shown) == seed->help && !strcmp(shown, "0"));
    CHECK(strstr(st_option_help(seed, 1, &shown), "batch order") != NULL);
    CHECK(strstr(st_option_help(seed, 1, &shown), "teacher") == NULL);
    st_option_help(pen, 0, &shown);
    CHECK(!strcmp(shown, "l1"));
    st_option_help(pen, 1, &shown);
    CHECK(!strcmp(shown, "layer"));

    /* st_option_is_default: by value, whatever set it. */
    struct st_train_cfg c;
    st_train_cfg_defaults(&c);
    for (int i = 0; i < n; i++)
        CHECK(st_option_is_default(&c, opts[i].name));
    CHECK(st_option_set(&c, "data-range", "0,1", &err) == ST_OK);
    CHECK(!st_option_is_default(&c, "data-range"));
    CHECK(st_option_set(&c, "data-range", "0.0,2.0", &err) == ST_OK);
    CHECK(st_option_is_default(&c, "data-range"));
    CHECK(!st_option_is_default(&c, "no-such-option"));
    CHECK(!strcmp(c.init_opt, "student-init"));

    /* The seed is used unless a data run from a model file takes the full
     * batch, holds out nothing and draws no fisher probes. */
    st_train_cfg_defaults(&c);
    CHECK(st_cfg_seed_used(&c));
    c.task_data = 1;
    CHECK(st_cfg_seed_used(&c)); /* a drawn start */
    strcpy(c.init_path, "m.safetensors");
    CHECK(!st_cfg_seed_used(&c));
    c.batch = 10;
    CHECK(st_cfg_seed_used(&c));
    c.batch = 0;
    c.val_fraction = 0.1;
    CHECK(st_cfg_seed_used(&c));
    c.val_fraction = 0.0;
    c.reduction = ST_RED_FISHER;
    c.lambda = 1e-3;
    CHECK(st_cfg_seed_used(&c));
    c.lambda = 0.0;
    CHECK(!st_cfg_seed_used(&c));
}

int main(void)
{
    strcpy(tmpdir, "/tmp/st_test_options.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_round_trip();
    test_bad_values();
    test_resolve();
    test_ini();
    test_names();
    test_kinds();
    CHECK(rmdir(tmpdir) == 0);
    return check_report("test_options");
}
