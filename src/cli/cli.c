/* cli.c: option parsing, help, errors and the progress bar. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/metrics.h"
#include "../exp/model_opts.h"
#include "../exp/options.h"
#include "../exp/rundir.h"
#include "../exp/source.h"
#include "../exp/sweep.h"
#include "../io/ckpt.h"
#include "../io/config.h"
#include "../io/csv.h"
#include "../io/file.h"
#include "../io/modelfile.h"
#include "../plot/figure.h"
#include "ranks.h"

volatile sig_atomic_t st_cli_stop = 0;

static void on_stop_signal(int sig)
{
    st_cli_stop = sig;
}

static struct sigaction saved_int, saved_term;

void st_cli_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    st_cli_stop = 0;
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
}

void st_cli_release_stop(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
}

int st_cli_stop_signal(void)
{
    return st_cli_stop ? (int)st_cli_stop : SIGINT;
}

const char *st_cli_stop_name(void)
{
    return st_cli_stop_signal() == SIGTERM ? "SIGTERM" : "SIGINT";
}

int st_cli_interrupted(const char *cmd, const struct st_train_cfg *cfg,
                       const struct st_train_result *res)
{
    /* train, pretrain and finetune each resume their own runs (a
     * data-parallel run on as many ranks). */
    char launch[64] = "";
    if (cfg->ranks > 1)
        snprintf(launch, sizeof launch, "mpirun -np %ld ", cfg->ranks);
    fprintf(stderr, "sparsetune %s: stopped by %s at step %ld of %ld; resume with: %ssparsetune "
                    "%s --resume %s\n",
            cmd, st_cli_stop_name(), res->steps_done, cfg->steps, launch, cmd, cfg->out);
    return 128 + st_cli_stop_signal();
}

int st_cli_fail(const char *cmd, enum st_status st, const struct st_err *err)
{
    fprintf(stderr, "sparsetune %s: %s\n", cmd, err && err->msg[0] ? err->msg : st_status_str(st));
    if (st == ST_ERR_ARG) {
        fprintf(stderr, "try 'sparsetune %s --help'\n", cmd);
        return ST_EXIT_USAGE;
    }
    return ST_EXIT_RUNTIME;
}

void st_cli_warn_unnamed(const char *cmd, const char *opt, const char *path, const char *name)
{
    const struct st_option *o = name ? st_option_find(name) : NULL;
    char how[300];
    size_t n = 0;
    if (!o)
        return;
    n = (size_t)snprintf(how, sizeof how, "--%s %s", name, o->arg ? o->arg : "");
    for (int i = 0; o->choices && o->choices[i] && n < sizeof how; i++)
        n += (size_t)snprintf(how + n, sizeof how - n, "%s%s", i ? ", " : " (", o->choices[i]);
    if (o->choices && n < sizeof how)
        snprintf(how + n, sizeof how - n, ")");
    fprintf(stderr, "sparsetune %s: warning: --%s %s names no %s (PyTorch's state_dict files "
                    "carry none): running it as %s; give %s to choose\n",
            cmd, opt, path, name, o->def, how);
}

static enum st_status ini_set(void *user, const char *key, const char *value, struct st_err *err)
{
    if (!strcmp(key, "config"))
        return st_err_set(err, ST_ERR_ARG, "'config' cannot be set inside a config file");
    return st_option_set(user, key, value, err);
}

/* Options of a checkpoint that do not parse, or that conflict with the
 * command line, may come from a damaged file: then the whole file's check
 * (its checksum) names the cause instead of st. */
static enum st_status damaged_or(const char *path, enum st_status st, struct st_err *err)
{
    struct st_ckpt ck;
    struct st_err why = { "" };
    enum st_status rst = st_ckpt_read(&ck, path, &why);
    if (rst != ST_OK) {
        *err = why;
        return rst;
    }
    st_ckpt_free(&ck);
    return st;
}

/* cfg = the options DIR/checkpoint.bin was written with (over the defaults),
 * from its "name\0value\0" pairs (the run reads and verifies the whole file). */
static enum st_status load_resume_config(const char *dir, struct st_train_cfg *cfg,
                                         struct st_err *err)
{
    char path[4200];
    void *data = NULL;
    size_t len = 0;
    enum st_status st = st_path_join(path, sizeof path, dir, ST_CHECKPOINT_FILE, err);
    if (st != ST_OK)
        return st;
    if ((st = st_ckpt_read_section(path, "options", &data, &len, err)) != ST_OK) {
        if (st == ST_ERR_IO) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            snprintf(path, sizeof path, "%s/summary.json", dir);
            int done = access(path, F_OK) == 0;
            return st_err_set(err, ST_ERR_ARG, "--resume %s: nothing to resume (%s)%s", dir, why,
                              done ? "; the run there has finished" : "");
        }
        return st;
    }
    const char *p = data, *end = p + len;
    while (st == ST_OK && p < end) {
        const char *name = p, *nul = memchr(p, '\0', (size_t)(end - p));
        const char *value = nul ? nul + 1 : NULL;
        const char *vend = value && value < end ? memchr(value, '\0', (size_t)(end - value)) : NULL;
        if (!vend) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: its list of options is cut short", path);
            break;
        }
        if ((st = st_option_set(cfg, name, value, err)) != ST_OK) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            st = st_err_set(err, ST_ERR_FORMAT, "%s: option %s: %s", path, name, why);
        }
        p = vend + 1;
    }
    free(data);
    return st == ST_OK ? ST_OK : damaged_or(path, st, err);
}

/* 1 (with the list in err) if cfg sets a saved option otherwise than the
 * checkpoint's options base. */
static int resume_conflicts(const char *dir, const struct st_train_cfg *base,
                            const struct st_train_cfg *cfg, struct st_err *err)
{
    int n, bad = 0;
    const struct st_option *opts = st_options(&n);
    char list[400] = "", a[ST_OPTION_TEXT_MAX], b[ST_OPTION_TEXT_MAX];
    size_t used = 0;
    /* Compared as the run sees them: `--reinit middle` is the checkpoint's
     * `2`, `--batch 0` its full batch. A configuration that does not resolve
     * fails later with its own message. */
    struct st_train_cfg *rb = malloc(sizeof *rb), *rc = malloc(sizeof *rc);
    struct st_err ignored;
    if (!rb || !rc) {
        free(rb);
        free(rc);
        return 0;
    }
    *rb = *base;
    *rc = *cfg;
    if (st_train_cfg_resolve(rb, &ignored) != ST_OK || st_train_cfg_resolve(rc, &ignored) != ST_OK) {
        free(rb);
        free(rc);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (!opts[i].saved)
            continue;
        st_option_format(rb, &opts[i], a, sizeof a);
        st_option_format(rc, &opts[i], b, sizeof b);
        if (!strcmp(a, b))
            continue;
        if (used < sizeof list) {
            int w = snprintf(list + used, sizeof list - used, "%s--%s %s (the checkpoint's: %s)",
                             bad ? ", " : "", opts[i].name, b, a);
            used += w > 0 ? (size_t)w : 0;
        }
        bad++;
    }
    free(rb);
    free(rc);
    if (bad)
        st_err_set(err, ST_ERR_ARG,
                   "--resume %s: %d option%s differ%s from the checkpoint's run: %s; leave %s "
                   "out to go on with the checkpoint's values",
                   dir, bad, bad > 1 ? "s" : "", bad > 1 ? "" : "s", list,
                   bad > 1 ? "them" : "it");
    return bad;
}

/* An INI file's options into a config, noting which were given (and in
 * line, when not NULL, those of the command line). */
struct ini_dest {
    struct st_train_cfg *cfg;
    unsigned char *given;
    int evals; /* --eval sets this source (a file, the command line) gave so far */
    unsigned char *line;
};

static enum st_status ini_set_given(void *user, const char *key, const char *value,
                                    struct st_err *err)
{
    struct ini_dest *d = user;
    enum st_status st;
    /* --eval repeats: the sets of one source add up; a later source's
     * replace an earlier one's, as every option's value does. */
    if (!strcmp(key, "eval") && d->evals++ > 0 && st_cfg_given(d->cfg->evals) &&
        strcmp(value, "none") != 0) {
        size_t have = strlen(d->cfg->evals), add = strlen(value);
        if (have + 1 + add >= sizeof d->cfg->evals)
            return st_err_set(err, ST_ERR_ARG, "--eval %s: the sets' text is over %zu "
                              "characters", value, sizeof d->cfg->evals - 1);
        d->cfg->evals[have] = ';';
        memcpy(d->cfg->evals + have + 1, value, add + 1);
        if (d->given)
            d->given[st_option_index(key)] = 1;
        return ST_OK;
    }
    st = ini_set(d->cfg, key, value, err);
    if (st == ST_OK && d->given)
        d->given[st_option_index(key)] = 1;
    if (st == ST_OK && d->line)
        d->line[st_option_index(key)] = 1;
    return st;
}

static int refuse_own(const char *cmd, const struct st_train_cfg *cfg,
                      const unsigned char *line);

/* --help, --resume DIR and whether --out is given, before anything is
 * parsed. Returns 0, or an exit status after printing the error. */
static int scan_args(const char *cmd, int argc, char **argv, const char **resume, int *out_given,
                     int *help)
{
    struct st_err err = { "" };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            *help = 1;
            return 0;
        }
        if (!strcmp(argv[i], "--out") || !strncmp(argv[i], "--out=", 6))
            *out_given = 1;
        if (!strcmp(argv[i], "--resume") || !strncmp(argv[i], "--resume=", 9)) {
            if (argv[i][8] == '=')
                *resume = argv[i] + 9;
            else if (i + 1 < argc)
                *resume = argv[++i];
            if (!*resume || !**resume) {
                st_err_set(&err, ST_ERR_ARG, "--resume: expected a run directory");
                return st_cli_fail(cmd, ST_ERR_ARG, &err);
            }
        }
    }
    if (*resume && strcmp(cmd, "train") && strcmp(cmd, "pretrain") && strcmp(cmd, "finetune")) {
        st_err_set(&err, ST_ERR_ARG, "--resume: %s does not resume a run (train, pretrain and "
                   "finetune do; a sweep resumes when the same command runs again)", cmd);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    return 0;
}

/* The --config files, in order, into dest. Returns 0 or an exit status (1
 * for a file that cannot be read or is malformed, 2 for a bad key or value). */
static int read_configs(const char *cmd, int argc, char **argv, struct ini_dest *dest)
{
    struct st_err err = { "" };
    enum st_status st;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *file = NULL;
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                st_err_set(&err, ST_ERR_ARG, "--config: expected a file name");
                return st_cli_fail(cmd, ST_ERR_ARG, &err);
            }
            file = argv[++i];
        } else if (!strncmp(a, "--config=", 9)) {
            file = a + 9;
        }
        dest->evals = 0;
        if (file && (st = st_ini_read(file, ini_set_given, dest, &err)) != ST_OK)
            return st_cli_fail(cmd, st, &err);
    }
    return 0;
}

/* The command line's options into dest (--config and --resume skipped).
 * Returns 0 or an exit status. */
static int read_args(const char *cmd, int argc, char **argv, struct ini_dest *dest)
{
    struct st_err err = { "" };
    enum st_status st;
    dest->evals = 0;
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *value = NULL, *eq;
        if (strncmp(a, "--", 2) != 0) {
            st_err_set(&err, ST_ERR_ARG, "unexpected argument '%s' (options start with --)", a);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        a += 2;
        eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name) {
            st_err_set(&err, ST_ERR_ARG, "unknown option '--%s'", a);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        memcpy(name, a, len);
        name[len] = '\0';
        if (!strcmp(name, "config") || !strcmp(name, "resume")) {
            i += eq ? 0 : 1;
            continue;
        }
        const struct st_option *o = st_option_find(name);
        if (!o && !eq && !strncmp(name, "no-", 3)) {
            const struct st_option *neg = st_option_find(name + 3);
            if (neg && neg->type == ST_OPT_T_FLAG) {
                if ((st = ini_set_given(dest, neg->name, "0", &err)) != ST_OK)
                    return st_cli_fail(cmd, st, &err);
                continue;
            }
        }
        if (!o) {
            st_err_set(&err, ST_ERR_ARG, "unknown option '--%s'", name);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        if (eq)
            value = eq + 1;
        else if (o->type == ST_OPT_T_FLAG)
            value = "1";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            st_err_set(&err, ST_ERR_ARG, "--%s: expected a value (%s)", name, o->arg);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        if ((st = ini_set_given(dest, name, value, &err)) != ST_OK)
            return st_cli_fail(cmd, st, &err);
    }
    return 0;
}

/* A resumed run goes on in its own directory with the checkpoint's options
 * (base): any given option must agree. Returns 0 or an exit status. */
static int check_resume(const char *cmd, const char *resume, int out_given,
                        const struct st_train_cfg *base, struct st_train_cfg *cfg)
{
    struct st_err err = { "" };
    if (out_given && strcmp(cfg->out, resume) != 0) {
        st_err_set(&err, ST_ERR_ARG, "--out %s and --resume %s: a run goes on in its own "
                   "directory (leave --out out)", cfg->out, resume);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    if (cfg->force) {
        st_err_set(&err, ST_ERR_ARG, "--force and --resume: --force would start the run "
                   "over; leave one out");
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    if (resume_conflicts(resume, base, cfg, &err)) {
        char path[4200];
        enum st_status st = st_path_join(path, sizeof path, resume, ST_CHECKPOINT_FILE, &err);
        if (st == ST_OK)
            st = damaged_or(path, ST_ERR_ARG, &err);
        return st_cli_fail(cmd, st, &err);
    }
    snprintf(cfg->out, sizeof cfg->out, "%s", resume);
    cfg->resume = 1;
    return 0;
}

/* A fine-tune on data has no teacher to tell it the truth, and the truth
 * experiment found no penalty that reads it at every position; of those
 * measured, a group per layer with the proximal step and the sum reduction
 * named the re-drawn layers most often (README "When the method names the
 * wrong layer"). So data runs (finetune, pretrain, --task data) take it as a
 * whole when none of --penalty, --penalty-reduction and --prox is given (a
 * lambda chosen for one setting does not carry over to the other);
 * teacher-student runs keep the seed's l1 subgradient with the mean
 * reduction. */
static void data_defaults(const char *cmd, struct st_train_cfg *cfg, const unsigned char *given)
{
    if (!cfg->task_data && strcmp(cmd, "finetune") != 0 && strcmp(cmd, "pretrain") != 0)
        return;
    if (given[st_option_index("penalty")] || given[st_option_index("penalty-reduction")] ||
        given[st_option_index("prox")])
        return;
    cfg->penalty = ST_PEN_LAYER;
    cfg->reduction = ST_RED_SUM;
    cfg->prox = 1;
}

int st_cli_parse_run(const char *cmd, int argc, char **argv, const char *default_out,
                     struct st_train_cfg *cfg, unsigned char *given, int *help)
{
    struct st_err err = { "" };
    unsigned char own[ST_OPTIONS_MAX];
    if (!given)
        given = own;
    unsigned char line[ST_OPTIONS_MAX] = { 0 };
    struct ini_dest dest = { cfg, given, 0, NULL };
    const char *resume = NULL;
    int out_given = 0, rc;
    enum st_status st;

    *help = 0;
    memset(given, 0, ST_OPTIONS_MAX);
    st_train_cfg_defaults(cfg);
    snprintf(cfg->out, sizeof cfg->out, "%s", default_out);
    if ((rc = scan_args(cmd, argc, argv, &resume, &out_given, help)) != 0 || *help)
        return rc;
    /* --resume DIR: the checkpoint's options are the base, and any option
     * given must agree with them. */
    if (resume && (st = load_resume_config(resume, cfg, &err)) != ST_OK)
        return st_cli_fail(cmd, st, &err);
    struct st_train_cfg base = *cfg;
    /* Config files first, in order, so that every command-line option wins. */
    if ((rc = read_configs(cmd, argc, argv, &dest)) != 0)
        return rc;
    dest.line = line;
    if ((rc = read_args(cmd, argc, argv, &dest)) != 0 || (rc = refuse_own(cmd, cfg, line)) != 0)
        return rc;
    if (!resume)
        data_defaults(cmd, cfg, given);
    return resume ? check_resume(cmd, resume, out_given, &base, cfg) : 0;
}

int st_cli_use_model(const char *cmd, const char *model, struct st_train_cfg *cfg,
                     unsigned char *given)
{
    struct st_err err = { "" };
    struct st_modelfile mf;
    enum st_status st;
    if (given[st_option_index("student-init")]) {
        st_err_set(&err, ST_ERR_ARG, "--model %s and --student-init %s: give one (--model is "
                   "the model to start from)", model, cfg->init_path);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    if (given[st_option_index("task")] && !cfg->task_data) {
        st_err_set(&err, ST_ERR_ARG, "--model %s and --task teacher-student: --model fine-tunes "
                   "the model on --x/--y (a data run); leave --task out", model);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    if (!*model || strlen(model) >= sizeof cfg->init_path) {
        st_err_set(&err, ST_ERR_ARG, "--model '%.40s': expected a model file path of 1 to %zu "
                   "characters", model, sizeof cfg->init_path - 1);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    if (cfg->resume) { /* the checkpoint's run: already the model's */
        snprintf(cfg->init_opt, sizeof cfg->init_opt, "model");
        if (strcmp(cfg->init_path, model) != 0) {
            st_err_set(&err, ST_ERR_ARG, "--model %s: the run in %s started from %s; leave "
                       "--model out to go on with it", model, cfg->out, cfg->init_path);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        return 0;
    }
    cfg->task_data = 1;
    given[st_option_index("task")] = 1;
    strcpy(cfg->init_path, model);
    snprintf(cfg->init_opt, sizeof cfg->init_opt, "model");
    given[st_option_index("student-init")] = 1;
    data_defaults(cmd, cfg, given);
    /* The network's shape is the model's (read off the file's header); what
     * the options give (command line or config file) must agree with it. */
    if ((st = st_modelfile_read(model, 1, &mf, &err)) != ST_OK)
        return st_cli_fail(cmd, st, &err);
    st = st_cfg_from_model(cfg, given, &mf, cfg->init_opt, model, &err);
    if (st == ST_OK)
        st_cli_warn_unnamed(cmd, cfg->init_opt, model, st_cfg_model_unnamed(&mf, given));
    st_modelfile_free(&mf);
    return st == ST_OK ? 0 : st_cli_fail(cmd, st, &err);
}

enum st_status st_cli_probe(struct st_train_cfg *cfg, struct st_err *err)
{
    enum st_status st = st_train_cfg_resolve(cfg, err);
    return st == ST_OK ? st_source_check(cfg, err) : st;
}

/* The figure's view of a layout's tensors, pointing into it. */
static struct st_fig_tensor *fig_tensors(const struct st_params *p)
{
    struct st_fig_tensor *t = malloc(((size_t)p->n_views + 1) * sizeof *t);
    for (int i = 0; t && i < p->n_views; i++) {
        t[i].name = p->v[i].name;
        t[i].unit = p->v[i].groups[0];
        t[i].role = p->v[i].role;
        t[i].matrix = p->v[i].ndim == 2;
        t[i].size = (double)st_view_size(&p->v[i]);
    }
    return t;
}

/* The figure's title: the penalty and lambda (the seed's "λ = 0.001" for its
 * own penalty). */
static void run_title(const struct st_train_cfg *cfg, char *title, size_t size)
{
    if (cfg->penalty == ST_PEN_NONE)
        snprintf(title, size, "no penalty");
    else if ((cfg->penalty == ST_PEN_L1 && cfg->reduction == ST_RED_MEAN && !cfg->prox) ||
             cfg->lambda == 0.0) /* at lambda 0 the penalty's kind does nothing */
        snprintf(title, size, "\u03bb = %g", cfg->lambda);
    else
        snprintf(title, size, "\u03bb = %g  (%s%s, %s)", cfg->lambda,
                 st_penalty_name(cfg->penalty), cfg->prox ? " prox" : "",
                 st_reduction_name(cfg->reduction));
}

/* Each tensor's share of the final update, from the last row's d_init and
 * the layout's sizes; NULL when a column is missing or not finite. */
static double *final_shares(const struct st_csv *m, const struct st_params *layout)
{
    int n = layout->n_views;
    double *d = malloc(((size_t)n + 1) * 3 * sizeof *d), *sizes = d + n + 1, *shares = sizes + n + 1;
    if (!d || m->n_rows < 1) {
        free(d);
        return NULL;
    }
    for (int t = 0; t < n; t++) {
        char col[ST_NAME_MAX + 16];
        snprintf(col, sizeof col, "d_init_%s", layout->v[t].name);
        int c = st_csv_col(m, col);
        d[t] = c >= 0 ? st_csv_at(m, m->n_rows - 1, c) : (double)NAN;
        sizes[t] = (double)st_view_size(&layout->v[t]);
        if (!isfinite(d[t])) {
            free(d);
            return NULL;
        }
    }
    st_update_shares(d, sizes, n, shares);
    memmove(d, shares, (size_t)n * sizeof *d);
    return d;
}

enum st_status st_cli_plot_run(const char *dir, int fmt, const char *out, char *written,
                               size_t size, struct st_err *err)
{
    struct st_train_cfg cfg;
    struct st_csv m = { 0, 0, NULL, NULL, 0 };
    struct st_params layout;
    struct st_fig_tensor *tensors = NULL;
    double *shares = NULL;
    char path[4200], title[128];
    enum st_status st;

    memset(&layout, 0, sizeof layout);
    st_train_cfg_defaults(&cfg);
    if ((st = st_path_join(path, sizeof path, dir, "config.ini", err)) != ST_OK ||
        (st = st_ini_read(path, ini_set, &cfg, err)) != ST_OK)
        return st;
    if ((st = st_arch_layout(&cfg.arch, &layout, err)) != ST_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        return st_err_set(err, ST_ERR_FORMAT, "%s: %s", path, msg);
    }
    if ((st = st_path_join(path, sizeof path, dir, "metrics.csv", err)) != ST_OK ||
        (st = st_csv_read(path, &m, err)) != ST_OK)
        goto done;
    if (m.truncated)
        fprintf(stderr, "sparsetune: %s: the last line is incomplete (a run still going, or "
                        "stopped); plotting the rows before it\n",
                path);
    run_title(&cfg, title, sizeof title);
    if (out) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        char name[32];
        snprintf(name, sizeof name, "figure.%s", st_fig_format_names[fmt]);
        if ((st = st_path_join(path, sizeof path, dir, name, err)) != ST_OK)
            goto done;
    }
    tensors = fig_tensors(&layout);
    shares = final_shares(&m, &layout);
    /* The evaluation set is named by its file. */
    const char *eval_name = strrchr(cfg.eval_x, '/') ? strrchr(cfg.eval_x, '/') + 1 : cfg.eval_x;
    struct st_fig_run fr = { &m, title, cfg.penalty == ST_PEN_NUCLEAR, tensors,
                             tensors ? layout.n_views : 0, shares,
                             st_cfg_given(cfg.eval_x) ? eval_name : NULL };
    st = st_figure_run(path, (enum st_fig_format)fmt, &fr, err);
    if (st != ST_OK && st != ST_ERR_IO) {
        /* Name the file whose content was wrong. */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        st_err_set(err, st, "%s/metrics.csv: %s", dir, msg);
    }
    if (st == ST_OK && written)
        snprintf(written, size, "%s", path);
done:
    free(tensors);
    free(shares);
    st_params_free(&layout);
    st_csv_free(&m);
    return st;
}

/* The memory a run needs, by part: one line at the start of a run, the
 * whole table for --dry-run. */
void st_cli_print_memory(const struct st_run_memory *m, int table)
{
    const struct {
        const char *name;
        double bytes;
    } part[] = { { "parameters", m->params },
                 { "gradients", m->grad },
                 { "optimizer state", m->optim },
                 { "start (theta0)", m->start },
                 { "teacher", m->teacher },
                 { "proximal steps", m->prox },
                 { "data", m->data },
                 { "batch buffers", m->batch },
                 { "activations and work", m->work },
                 { "evaluation passes", m->eval_work },
                 { "spectrum (SVD)", m->spectrum } };
    char b[32], a[32], p[32], w[32], d[32];
    if (!table) {
        printf("memory: %s of %s (parameters and their copies %s, activations of a batch of %ld "
               "%s, data %s)\n",
               st_format_bytes(b, sizeof b, m->total), st_format_bytes(a, sizeof a, m->available),
               st_format_bytes(p, sizeof p, st_run_memory_copies(m)),
               m->batch_rows, st_format_bytes(w, sizeof w, m->work),
               st_format_bytes(d, sizeof d, m->data));
        return;
    }
    printf("memory of the run (bytes), batch of %ld:\n", m->batch_rows);
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
        printf("  %-22s %15.0f  %s\n", part[i].name, part[i].bytes,
               st_format_bytes(b, sizeof b, part[i].bytes));
    printf("  %-22s %15.0f  %s, of %s this process may use\n", "total", m->total,
           st_format_bytes(b, sizeof b, m->total), st_format_bytes(a, sizeof a, m->available));
}

/* Set while train, pretrain and finetune run (st_cli_train_and_report): the
 * memory line opens their output (the other commands' runs print nothing),
 * and under mpirun the ranks train one model together. */
static int memory_line_wanted;
static const struct st_collective *run_coll;

static void memory_line(void *user, const struct st_run_memory *m)
{
    const struct st_train_cfg *cfg = user;
    if (memory_line_wanted && !cfg->quiet && !cfg->dry_run) {
        st_cli_print_memory(m, 0);
        fflush(stdout);
    }
}

enum st_status st_cli_run_and_plot(const struct st_train_cfg *cfg, const char *label,
                                   struct st_train_result *res, char *figure, size_t size,
                                   struct st_err *err)
{
    struct st_progress prog;
    enum st_status st, pst;
    struct st_err perr = { "" };

    figure[0] = '\0';
    /* SIGINT and SIGTERM stop the run at its next step with a checkpoint. */
    st_cli_catch_stop();
    st_progress_init(&prog, label, cfg->quiet);
    struct st_train_hooks hooks = { st_progress_update, &prog, &st_cli_stop, memory_line,
                                    (void *)cfg, run_coll };
    st = st_train_run(cfg, &hooks, res, err);
    st_progress_done(&prog);
    st_cli_release_stop();
    if ((st != ST_OK && st != ST_ERR_NUMERIC) || !cfg->plot || cfg->dry_run)
        return st;
    pst = st_cli_plot_run(cfg->out, cfg->fig_format, NULL, figure, size, &perr);
    if (pst != ST_OK && st == ST_OK) {
        if (err)
            *err = perr;
        return pst;
    }
    return st;
}

void st_cli_draw_sweep(const char *cmd, const char *csv, const char *fig, int fmt,
                       const struct st_names *names)
{
    struct st_csv_text t = { 0, 0, NULL, NULL };
    struct st_err err = { "" };
    struct st_fig_tensor *tensors = malloc(((size_t)names->n + 1) * sizeof *tensors);
    enum st_status st = ST_ERR_NOMEM;
    for (int i = 0; tensors && i < names->n; i++) {
        const struct st_sweep_tensor *n = &names->t[i];
        tensors[i] = (struct st_fig_tensor){ n->name, n->unit, n->role, n->matrix, n->size };
    }
    if (tensors && (st = st_csv_read_text(csv, &t, &err)) == ST_OK)
        st = st_figure_sweep(fig, (enum st_fig_format)fmt, &t, names->n ? tensors : NULL,
                             names->n, &err);
    if (st == ST_OK)
        printf("figure: %s\n", fig);
    else
        fprintf(stderr, "sparsetune %s: %s\n", cmd, err.msg[0] ? err.msg : "out of memory");
    st_csv_text_free(&t);
    free(tensors);
}

int st_cli_take_opts(const char *cmd, int argc, char **argv, const struct st_cli_opt *opts,
                     int n_opts, char **rest, int *rest_argc, int *help)
{
    struct st_err err = { "" };
    *help = 0;
    *rest_argc = 0;
    rest[(*rest_argc)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const struct st_cli_opt *o = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            *help = 1;
            return 0;
        }
        for (int k = 0; k < n_opts; k++)
            if (!strcmp(argv[i], opts[k].name))
                o = &opts[k];
        if (!o) {
            rest[(*rest_argc)++] = argv[i];
            continue;
        }
        if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {
            st_err_set(&err, ST_ERR_ARG, "%s: expected a value", o->name);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        const char *v = argv[++i];
        char *end;
        if (o->type == 's') {
            *(const char **)o->out = v;
            continue;
        }
        double x = o->type == 'i' ? (double)strtol(v, &end, 10) : strtod(v, &end);
        if (end == v || *end || !isfinite(x) || x < o->lo || x > o->hi) {
            if (o->type == 'i')
                st_err_set(&err, ST_ERR_ARG, "%s '%s': expected an integer from %.0f to %.0f",
                           o->name, v, o->lo, o->hi);
            else if (o->lo > 0.0 && o->hi >= 1e300)
                st_err_set(&err, ST_ERR_ARG, "%s '%s': expected a positive number", o->name, v);
            else
                st_err_set(&err, ST_ERR_ARG, "%s '%s': expected a number from %g to %g",
                           o->name, v, o->lo, o->hi);
            return st_cli_fail(cmd, ST_ERR_ARG, &err);
        }
        if (o->type == 'i')
            *(long *)o->out = (long)x;
        else
            *(double *)o->out = x;
    }
    return 0;
}

/* The commands that take run options: the kind of run they make (options.h),
 * --out's default, and the model file they start from, if any. */
static const struct run_cmd {
    const char *name;
    unsigned kind;
    const char *out;
    const char *model; /* the option of the file that fixes the architecture, or NULL */
} run_cmds[] = {
    { "train", ST_CMD_ANY, "run", NULL },          { "pretrain", ST_CMD_DATA, "run", NULL },
    { "finetune", ST_CMD_DATA, "run", "model" },    { "sweep", ST_CMD_ANY, "sweep", NULL },
    { "lambda-path", ST_CMD_ANY, "lambda-path", NULL },
    { "baselines", ST_CMD_ANY, "baselines", NULL }, { "compare", ST_CMD_TS, "compare", NULL },
    { "continual", ST_CMD_TS, "continual", NULL },  { "reproduce", ST_CMD_TS, "out", NULL },
    { "truth", ST_CMD_TS, "truth", NULL },
};

/* The commands that run many trainings on the worker pool (pool.h). */
#define POOL_CMDS "sweep,lambda-path,baselines,compare,truth"

/* Run options a command sets itself: left out of its --help. Given on its
 * command line, one is refused (a config file, which commands share, may hold
 * it) unless it has the value the command keeps (NULL: none); where why is
 * NULL the command checks the value itself. */
static const struct own_opt {
    const char *cmds, *opts, *keeps, *why;
} own_opts[] = {
    { "pretrain,finetune", "task", "data", "it trains on --x and --y alone" },
    { "finetune", "student-init", NULL, "it starts from --model" },
    { POOL_CMDS, "threads", "1", "its runs are single-threaded; --jobs runs several at once" },
    { POOL_CMDS, "force", "0", "it keeps or starts over its runs' directories itself" },
    { "lambda-path,baselines,compare,truth", "save-data,save-delta", "0",
      "its runs' directories are removed" },
    { "lambda-path,baselines", "format", "png", "its figure is a PNG" },
    { "compare", "plot", "0", "it draws no figure" },
    { "compare", "format", "png", "it draws no figure" },
    { "lambda-path", "lambda", NULL, "it runs the lambdas from --lambda-min to --lambda-max" },
    { "lambda-path", "prox", "1", "every run takes the proximal step" },
    { "baselines", "lambda", "0", "every freeze mask trains at lambda 0" },
    { "baselines", "penalty,penalty-reduction,prox,lambda-scale,nuclear-bias", NULL,
      "every freeze mask trains at lambda 0, without a penalty" },
    { "baselines", "freeze", NULL, "it freezes every subset of the layers in turn (--by)" },
    { "compare", "lambda,penalty,prox,nuclear-bias", NULL,
      "it sets each method's penalty (--compare-lambda)" },
    { "continual", "lambda,penalty,prox,nuclear-bias", NULL,
      "it sets each method's penalty (--lambdas)" },
    { "continual", "eval-x,eval-y", NULL, NULL },
    { "continual", "loss,online", NULL, NULL },
    { "reproduce", "lambda", NULL, "it runs lambda = 0 and lambda = 1e-3" },
    { "truth", "lambda,penalty,penalty-reduction,prox,nuclear-bias", NULL,
      "it sets each method's penalty and lambda (--methods)" },
    { "truth", "reinit", NULL, "the re-drawn layers are --truths" },
};

/* 1 if word is one of the comma-separated items of list. */
static int in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p;) {
        if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

static const struct run_cmd *run_cmd_find(const char *cmd)
{
    for (size_t i = 0; i < sizeof run_cmds / sizeof run_cmds[0]; i++)
        if (!strcmp(run_cmds[i].name, cmd))
            return &run_cmds[i];
    return NULL;
}

/* What command cmd does with option o itself, or NULL. */
static const struct own_opt *own_opt_find(const char *cmd, const char *o)
{
    for (size_t i = 0; i < sizeof own_opts / sizeof own_opts[0]; i++)
        if (in_list(own_opts[i].cmds, cmd) && in_list(own_opts[i].opts, o))
            return &own_opts[i];
    return NULL;
}

/* Whether option o is in cmd's --help: it applies to the command's kind of
 * run, and the command leaves it to the user. */
static int applies(const struct run_cmd *c, const struct st_option *o)
{
    return !c || ((o->cmds & c->kind) && !own_opt_find(c->name, o->name));
}

/* The options of line[] (given on the command line) that cmd sets itself
 * and that ask for another value than it keeps: refused, naming the option.
 * Returns 0 or an exit status. */
static int refuse_own(const char *cmd, const struct st_train_cfg *cfg,
                      const unsigned char *line)
{
    int n;
    const struct st_option *opts = st_options(&n);
    for (int i = 0; i < n; i++) {
        const struct own_opt *w = line[i] ? own_opt_find(cmd, opts[i].name) : NULL;
        char value[ST_OPTION_TEXT_MAX];
        if (!w || !w->why)
            continue;
        st_option_format(cfg, &opts[i], value, sizeof value);
        if (w->keeps && !strcmp(value, w->keeps))
            continue;
        struct st_err err;
        st_err_set(&err, ST_ERR_ARG, "--%s: %s does not take it (%s)", opts[i].name, cmd, w->why);
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    return 0;
}

void st_cli_print_run_options(FILE *f, const char *cmd)
{
    int n;
    const struct st_option *opts = st_options(&n);
    const struct run_cmd *c = run_cmd_find(cmd);
    int data = c && c->kind == ST_CMD_DATA;
    for (int i = 0; i < n; i++) {
        const char *shown, *help = st_option_help(&opts[i], data, &shown);
        char left[64], model[64];
        if (!applies(c, &opts[i]))
            continue;
        if (!strcmp(opts[i].name, "out") && c)
            shown = c->out;
        if (c && c->model && (!strcmp(opts[i].name, "arch") || !strcmp(opts[i].name, "widths"))) {
            snprintf(model, sizeof model, "--%s's", c->model);
            shown = model;
        } else if (c && c->model && !strcmp(opts[i].name, "activation")) {
            snprintf(model, sizeof model, "--%s's, else %s", c->model, shown);
            shown = model;
        }
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-26s %s [%s]\n", left, help, shown);
    }
    fprintf(f, "  %-26s %s\n", "--config FILE",
            "read options from an INI file (keys = option names); the command line wins");
    if (!strcmp(cmd, "train") || !strcmp(cmd, "pretrain") || !strcmp(cmd, "finetune"))
        fprintf(f, "  %-26s %s\n", "--resume DIR",
                "go on with the interrupted run in DIR from its checkpoint (its options; any "
                "option given must match)");
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

void st_progress_init(struct st_progress *p, const char *label, int quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->start = p->last = st_seconds_now();
    p->label = label;
}

int st_progress_update(void *user, long step, long steps, double mse)
{
    struct st_progress *p = user;
    if (!p->enabled || (step % 64 != 0 && step != steps))
        return 0;
    double t = st_seconds_now();
    if (t - p->last < 0.1 && step != steps)
        return 0;
    p->last = t;
    double frac = steps > 0 ? (double)step / (double)steps : 1.0;
    double el = t - p->start, eta = frac > 0 ? el * (1.0 - frac) / frac : 0.0;
    char bar[31];
    int fill = (int)(frac * 30.0);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r%s [%s] %3.0f%% %ld/%ld", p->label, bar, 100.0 * frac, step, steps);
    if (isfinite(mse))
        fprintf(stderr, "  data loss %.3e", mse);
    fprintf(stderr, "  %.1fs  ETA %.1fs ", el, eta);
    fflush(stderr);
    return 0;
}

void st_progress_done(struct st_progress *p)
{
    if (p->enabled) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* What a data run's answer leans to under its reduction, as the truth
 * experiment measured it (README "When the method names the wrong layer"). */
static const char *reduction_lean(enum st_reduction red)
{
    switch (red) {
    case ST_RED_MEAN:
        return "mean prices an entry at 1/(its tensor's size): large layers are cheap to "
               "change, and the answer leans to them";
    case ST_RED_SUM:
        return "sum prices every entry the same: small layers and the last one are cheap "
               "to change, and the answer leans to them";
    case ST_RED_SQRT:
        return "sqrt prices an entry at 1/sqrt(its tensor's size), between mean and sum";
    case ST_RED_FISHER:
        return "fisher prices an entry by how much it moves the outputs at the start, "
               "whatever its tensor's size or depth; it tends to leave many layers changed";
    }
    return "";
}

/* A data run's fingerprint per layer: each unit's share of the update, under
 * the penalty and reduction that produced it. */
static void print_layer_shares(const struct st_train_cfg *cfg, const struct st_train_result *r)
{
    printf("update share per layer (penalty %s%s, reduction %s, lambda %g):",
           st_penalty_name(cfg->penalty), cfg->prox ? " prox" : "",
           st_reduction_name(cfg->reduction), cfg->lambda);
    for (int i = 0; i < r->n_tensors; i++) {
        int first = 1;
        double share = 0.0;
        for (int j = 0; j < r->n_tensors; j++)
            if (!strcmp(r->t[j].unit, r->t[i].unit)) {
                first &= j >= i;
                share += r->t[j].update_share;
            }
        if (first)
            printf("  %s %.3f", r->t[i].unit, share);
    }
    printf("\n");
    /* A GPT's update by kind of tensor as well. */
    double by[ST_KINDS];
    if (st_result_kind_shares(r, by)) {
        printf("update share per kind:");
        for (int k = 0; k < ST_KINDS; k++)
            printf("  %s %.3f", st_kinds[k], by[k]);
        printf("\n");
    }
    if (cfg->penalty != ST_PEN_NONE && cfg->lambda > 0.0)
        printf("the layers named depend on the reduction: %s\n", reduction_lean(cfg->reduction));
}

/* A language model's loss in bits (nothing for other runs): per byte on a
 * text's bytes, per token on a token file, and both on a text read through
 * a tokenizer, whose bytes_per_token (the file's bytes over its tokens)
 * turns one into the other. */
static void print_bits(const struct st_train_cfg *cfg, double bytes_per_token, double nats)
{
    double token, byte;
    int which = st_cfg_bits(cfg, bytes_per_token, nats, &token, &byte);
    if (which == (ST_BITS_TOKEN | ST_BITS_BYTE))
        printf(" (%.4f bits per token, %.4f per byte)", token, byte);
    else if (which)
        printf(" (%.4f bits per %s)", which == ST_BITS_TOKEN ? token : byte,
               which == ST_BITS_TOKEN ? "token" : "byte");
}

void st_cli_print_result(const struct st_train_cfg *cfg, const struct st_train_result *r)
{
    /* Three significant digits for slow runs (a GPT-2-sized step takes
     * seconds), whole steps for the others. */
    printf("run: %s  (%ld steps, %.2f s, %.*f steps/s)\n", cfg->out, r->steps_done,
           r->wall_seconds, r->steps_per_second >= 100.0 ? 0 : r->steps_per_second >= 10.0 ? 1 : 2,
           r->steps_per_second);
    if (cfg->loss == ST_LOSS_XENT && st_cfg_stream(cfg)) {
        printf("final: xent %.6g", r->data_loss);
        print_bits(cfg, r->bytes_per_token, r->data_loss);
        printf("  accuracy %.4f  ", r->accuracy);
    } else if (cfg->loss == ST_LOSS_XENT)
        printf("final: xent %.6g  accuracy %.4f  ", r->data_loss, r->accuracy);
    else
        printf("final: %s %.6g  ", st_loss_name(cfg->loss), r->data_loss);
    printf("penalty %.6g  loss %.6g  (penalty %s, reduction %s, lambda %g)\n", r->penalty,
           r->loss, st_penalty_name(cfg->penalty), st_reduction_name(cfg->reduction),
           cfg->lambda);
    if (r->val_rows > 0) {
        printf("validation (%ld %s held out): %s %.6g", r->val_rows,
               st_cfg_stream(cfg) ? "windows of the stream's end" : "rows",
               st_loss_name(cfg->loss), r->val_loss);
        print_bits(cfg, r->bytes_per_token, r->val_loss);
        printf(" (best %.6g)", r->val_best);
        if (cfg->loss == ST_LOSS_XENT)
            printf("  accuracy %.4f", r->val_accuracy);
        printf("\n");
    }
    for (int i = 0; i < r->n_eval; i++) {
        const char *k = st_loss_name(cfg->loss), *name = st_eval_name(cfg, i);
        printf("eval %s(%s): %s %.6g -> %.6g", name, st_eval_x(cfg, i), k, r->eval[i].before,
               r->eval[i].after);
        print_bits(cfg, r->eval[i].bytes_per_token, r->eval[i].after);
        printf(" (forgetting %+.6g)", r->eval[i].after - r->eval[i].before);
        if (cfg->loss == ST_LOSS_XENT)
            printf("  accuracy %.4f -> %.4f", r->eval[i].acc_before, r->eval[i].acc_after);
        printf("\n");
    }
    if (r->delta.bytes > 0)
        printf("delta: %s/delta.safetensors: %ld of %ld entries changed (%.3g%%), %ld bytes "
               "(%.3g%% of student.safetensors)\n", cfg->out, r->delta.changed, r->delta.entries,
               100.0 * (double)r->delta.changed / (double)r->delta.entries, r->delta.bytes,
               r->delta.model_bytes > 0 ? 100.0 * (double)r->delta.bytes / (double)r->delta.model_bytes
                                        : 0.0);
    /* The name column as wide as the longest name (8 at least). */
    int w = 8;
    for (int i = 0; i < r->n_tensors; i++)
        w = (int)strlen(r->t[i].name) > w ? (int)strlen(r->t[i].name) : w;
    if (cfg->task_data) {
        /* No teacher: the fingerprint of the update instead of a verdict. */
        printf("%-*s %12s %9s %9s %8s\n", w, "tensor", "d_init", "changed", "share", "verdict");
        for (int i = 0; i < r->n_tensors; i++) {
            const struct st_tensor_result *t = &r->t[i];
            printf("%-*s %12.4e %9.4f %9.4f %8s\n", w, t->name, t->d_init, t->changed,
                   t->update_share, r->diverged ? "?" : t->verdict ? "changed" : "-");
        }
        print_layer_shares(cfg, r);
        return;
    }
    printf("%-*s %12s %12s %9s %8s %6s\n", w, "tensor", "d_init", "d_teacher", "changed",
           "verdict", "truth");
    for (int i = 0; i < r->n_tensors; i++) {
        const struct st_tensor_result *t = &r->t[i];
        printf("%-*s %12.4e %12.4e %9.4f %8s %6s\n", w, t->name, t->d_init, t->d_teacher,
               t->changed, r->diverged ? "?" : t->verdict ? "changed" : "-",
               t->truth ? "differs" : "-");
    }
    if (r->diverged)
        printf("verdict: none (the run diverged at step %ld)\n", r->steps_done);
    else
        printf("verdict: %s (the changed layers %s the layers where the teacher differs)\n",
               r->correct ? "correct" : "wrong", r->correct ? "are" : "are not");
}

/* The model files a run reads (--teacher, --student-init) that do not say
 * an option the run then takes by default: a warning each (read errors are
 * the run's to report). */
static void warn_model_files(const char *cmd, const struct st_train_cfg *cfg,
                             const unsigned char *given)
{
    const char *opts[2] = { "teacher", cfg->init_opt };
    const char *paths[2] = { cfg->teacher_path, cfg->init_path };
    for (int i = 0; i < 2; i++) {
        struct st_modelfile mf;
        struct st_err err;
        if (!st_cfg_given(paths[i]) || (i == 0 && cfg->task_data) ||
            st_modelfile_read(paths[i], 1, &mf, &err) != ST_OK)
            continue;
        st_cli_warn_unnamed(cmd, opts[i], paths[i], st_cfg_model_unnamed(&mf, given));
        st_modelfile_free(&mf);
    }
}

int st_cli_train_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
                         int task_data)
{
    struct st_train_cfg cfg;
    unsigned char given[ST_OPTIONS_MAX];
    int help = 0;
    int rc = st_cli_parse_run(cmd, argc, argv, "run", &cfg, given, &help);

    if (rc != 0)
        return rc;
    if (help) {
        usage(stdout);
        return ST_EXIT_OK;
    }
    if (task_data)
        cfg.task_data = 1;
    if (!cfg.resume)
        warn_model_files(cmd, &cfg, given);
    return st_cli_train_and_report(cmd, &cfg);
}

int st_cli_train_and_report(const char *cmd, struct st_train_cfg *cfg)
{
    struct st_train_result res;
    struct st_err err = { "" };
    char figure[4200];
    enum st_status st = st_train_cfg_resolve(cfg, &err);

    if (st != ST_OK)
        return st_cli_fail(cmd, st, &err);
    /* Under mpirun: data parallel, rank 0 the one that writes and prints. */
    int rank = 0, size = 1;
    struct st_collective coll;
    if (st_mpi_start(NULL, NULL, &rank, &size) != 0)
        return ST_EXIT_USAGE;
    if (!cfg->resume && cfg->ranks == 1)
        cfg->ranks = size;
    if (cfg->ranks != size) {
        if (cfg->resume)
            st_err_set(&err, ST_ERR_ARG, "--resume %s: the run trained on %ld MPI ranks; resume "
                       "it under mpirun -np %ld (here %d)", cfg->out, cfg->ranks, cfg->ranks,
                       size);
        else
            st_err_set(&err, ST_ERR_ARG, "--ranks %ld: the ranks come from mpirun -np (here "
                       "%d); leave --ranks out", cfg->ranks, size);
        st_mpi_stop();
        return st_cli_fail(cmd, ST_ERR_ARG, &err);
    }
    if (size > 1 && st_mpi_collective(&coll)) {
        run_coll = &coll;
        if (rank > 0) {
            cfg->quiet = 1;
            cfg->plot = 0;
        } else if (!cfg->quiet) {
            printf("data parallel: %d MPI ranks, each step %ld batches of %ld rows (%ld per "
                   "rank), gradients summed in rank order\n", size, (long)size * cfg->grad_accum,
                   cfg->batch, cfg->grad_accum);
        }
    }
    memory_line_wanted = 1;
    st = st_cli_run_and_plot(cfg, cmd, &res, figure, sizeof figure, &err);
    memory_line_wanted = 0;
    run_coll = NULL;
    int rc;
    if (rank > 0) {
        /* Rank 0 reports; the others only say what went wrong on them. */
        rc = st == ST_OK              ? ST_EXIT_OK
             : st == ST_ERR_INTERRUPTED ? 128 + st_cli_stop_signal()
             : st == ST_ERR_NUMERIC     ? ST_EXIT_RUNTIME
                                        : st_cli_fail(cmd, st, &err);
    } else if (st == ST_OK && cfg->dry_run) {
        st_cli_print_memory(&res.memory, 1);
        fflush(stdout);
        st = st_check_memory(res.memory.total, "the run", &err);
        rc = st == ST_OK ? ST_EXIT_OK : st_cli_fail(cmd, st, &err);
    } else if (st == ST_ERR_INTERRUPTED) {
        rc = st_cli_interrupted(cmd, cfg, &res);
    } else if (st != ST_OK && st != ST_ERR_NUMERIC) {
        rc = st_cli_fail(cmd, st, &err);
    } else {
        st_cli_print_result(cfg, &res);
        if (figure[0])
            printf("figure: %s\n", figure);
        /* A diverged run still reports what it has, then fails. */
        rc = st == ST_OK ? ST_EXIT_OK : st_cli_fail(cmd, st, &err);
    }
    st_result_free(&res);
    st_mpi_stop();
    return rc;
}
