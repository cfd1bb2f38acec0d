/* cmd_continual.c: `sparsetune continual`, forgetting in teacher-student form.
 *
 * Task A is the teacher-student problem's student start (a network that
 * solves A exactly); task B is its teacher, which differs from A in the
 * --reinit layers. Fine-tuning A on B is a train run; A's own outputs on the
 * same inputs are its evaluation set, so the evaluation loss at the end is
 * how much of A was forgotten. The command runs plain fine-tuning, and for
 * each lambda the l1 subgradient, the l1 proximal step and L2-SP, and draws
 * forgetting of A against the loss reached on B. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../exp/eval.h"
#include "../io/file.h"
#include "../core/rng.h"
#include "../io/npy.h"
#include "../plot/figure.h"
#include "cli.h"
#include "commands.h"

#define MAX_LAMBDAS 32

static void usage(FILE *f)
{
    fputs("usage: sparsetune continual [--lambdas LIST] [options]\n"
          "\n"
          "Continual learning in teacher-student form: a network that solves task A (the\n"
          "student's start) is fine-tuned on task B (the teacher, A with the --reinit layers\n"
          "re-drawn) on the run's data, and A's own outputs on inputs from --a-range (by\n"
          "default the mirror of --data-range, where B has no data) measure how much of A it\n"
          "forgets.\n"
          "Runs plain fine-tuning, then for each lambda the l1 subgradient, the l1 proximal\n"
          "step (--prox) and L2-SP (the l2 penalty), and writes OUT/continual.csv (method,\n"
          "lambda, loss on B: the lowest mse of the last 10% of the steps, forgetting: the mse\n"
          "on A at the end, the tensors that changed), OUT/continual.png (forgetting against\n"
          "the loss on B, one point per lambda) and every run's directory under OUT/runs/.\n"
          "\n"
          "On your own data: --model A.safetensors (the model of task A) with B's data in\n"
          "--x/--y and A's in --eval-x/--eval-y (or the first --eval NAME=X,Y); --loss xent\n"
          "for classes. The table then has the loss on A at the end, its forgetting (the\n"
          "rise over A's loss at the start) and, under xent, the accuracy on B and on A.\n"
          "\n"
          "options:\n"
          "  --lambdas LIST             comma-separated penalty strengths [1e-5,1e-4,1e-3,1e-2]\n"
          "  --a-range LO,HI            inputs task A is judged on [the mirror of --data-range]\n",
          f);
    st_cli_print_run_options(f, "continual");
    fputs("\n"
          "example:\n"
          "  sparsetune continual --lambdas 1e-4,1e-3,1e-2 --out cont\n"
          "  sparsetune continual --model A/student.safetensors --x B_x.npy --y B_y.npy \\\n"
          "      --eval-x A_x.npy --eval-y A_y.npy --loss xent --out cont\n"
          "\n"
          "exit status: 0 success, 1 runtime failure, 2 usage error\n",
          f);
}

struct row {
    char method[16];
    double lambda, loss_b, forget; /* forget: the loss on A at the end */
    double a_before;               /* a data run: the loss on A at the start */
    double acc_b, acc_a;           /* xent: the accuracy on B and on A at the end */
    char changed[128];
    int ok;
};

static int parse_lambdas(const char *s, double *v, int max, struct st_err *err)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d) || d < 0.0 || (*end && *end != ',')) {
            st_err_set(err, ST_ERR_ARG, "--lambdas '%s': expected comma-separated numbers >= 0",
                       s);
            return -1;
        }
        if (n == max) {
            st_err_set(err, ST_ERR_ARG, "--lambdas '%s': at most %d values", s, max);
            return -1;
        }
        v[n++] = d;
        p = *end ? end + 1 : end;
    }
    if (n == 0)
        st_err_set(err, ST_ERR_ARG, "--lambdas '': expected at least one value");
    return n ? n : -1;
}

/* Task A's evaluation set in dir: --data-size inputs drawn from U(lo, hi)
 * (xA.npy) and A's outputs on them (yA.npy). */
static enum st_status task_a(const char *dir, const struct st_train_cfg *cfg, int in, double lo,
                             double hi, struct st_err *err)
{
    char path[4200];
    struct st_rng rng;
    long n = cfg->data_size, nx = n * in;
    float *x = malloc((size_t)nx * sizeof *x), *y = NULL;
    int out = 0;
    enum st_status st = ST_OK;
    if (!x)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate task A's inputs");
    st_rng_seed(&rng, cfg->seed, ST_STREAM_TASK_A);
    st_rng_fill_uniform(&rng, x, nx, lo, hi);
    if ((st = st_path_join(path, sizeof path, dir, "xA.npy", err)) == ST_OK)
        st = st_npy_write_f32(path, x, n, in, err);
    if (st == ST_OK &&
        (st = st_path_join(path, sizeof path, dir, "student_init.safetensors", err)) == ST_OK)
        st = st_model_predict(path, x, n, in, &y, &out, err);
    if (st == ST_OK && (st = st_path_join(path, sizeof path, dir, "yA.npy", err)) == ST_OK)
        st = st_npy_write_f32(path, y, n, out, err);
    free(x);
    free(y);
    return st;
}

/* The input width of cfg's model. */
static int input_width(const struct st_train_cfg *cfg)
{
    struct st_model m;
    int in = 0;
    if (st_model_init(&m, &cfg->arch, NULL) == ST_OK) {
        in = (int)st_model_io(&m).in;
        st_model_free(&m);
    }
    return in;
}

/* "LO,HI" with LO < HI, both finite. */
static int parse_range(const char *s, double *lo, double *hi)
{
    char *end;
    *lo = strtod(s, &end);
    if (end == s || *end != ',')
        return -1;
    const char *p = end + 1;
    *hi = strtod(p, &end);
    return end != p && *end == '\0' && isfinite(*lo) && isfinite(*hi) && *lo < *hi ? 0 : -1;
}

/* continual's own options against the run's: the lambdas, task A's range
 * (by default the mirror of B's, where B has no data). Returns 0 or an exit
 * status. */
static int check_opts(const struct st_train_cfg *base, const char *lam_text, const char *a_text,
                      double *lams, int *n_lam, double *a_lo, double *a_hi)
{
    struct st_err err = { "" };
    if ((*n_lam = parse_lambdas(lam_text, lams, MAX_LAMBDAS, &err)) < 0)
        return st_cli_fail("continual", ST_ERR_ARG, &err);
    if (base->task_data) {
        /* Your own tasks: A's data is the first evaluation set. */
        if (a_text)
            st_err_set(&err, ST_ERR_ARG, "--a-range %s: a data run judges A on its own data "
                       "(--eval-x/--eval-y)", a_text);
        else if (!st_cfg_given(base->eval_x) && !st_cfg_given(base->evals))
            st_err_set(&err, ST_ERR_ARG, "a data run needs task A's data to measure forgetting: "
                       "--eval-x A_x.npy --eval-y A_y.npy (or --eval A=A_x.npy,A_y.npy)");
        return err.msg[0] ? st_cli_fail("continual", ST_ERR_ARG, &err) : 0;
    }
    *a_lo = -base->data_range[1];
    *a_hi = 0.0 - base->data_range[0]; /* 0 - 0 is +0 */
    if (a_text && parse_range(a_text, a_lo, a_hi) != 0)
        st_err_set(&err, ST_ERR_ARG, "--a-range '%s': expected LO,HI with LO < HI", a_text);
    else if (!a_text && !(*a_lo < *a_hi))
        st_err_set(&err, ST_ERR_ARG, "--data-range %g,%g: its mirror is empty; give --a-range",
                   base->data_range[0], base->data_range[1]);
    else if (base->task_data)
        return 0;
    else if (st_cfg_given(base->eval_x) || st_cfg_given(base->eval_y))
        st_err_set(&err, ST_ERR_ARG, "--eval-x/--eval-y: continual's teacher-student task A is "
                   "judged on --a-range; on your own tasks give --model A.safetensors with A's data "
                   "as --eval-x/--eval-y");
    else if (base->loss != ST_LOSS_MSE || base->online)
        st_err_set(&err, ST_ERR_ARG, "continual's teacher-student problem is mse on a fixed data "
                   "set (no --loss xent or --online); for classes, give your own tasks: --model "
                   "A.safetensors with B's --x/--y and A's --eval-x/--eval-y");
    return err.msg[0] ? st_cli_fail("continual", ST_ERR_ARG, &err) : 0;
}

/* The tasks in OUT/tasks (dir): A, the student's start, with its evaluation
 * set; B, the teacher; the inputs. Returns 0 or an exit status. */
static int make_tasks(const struct st_train_cfg *base, char *dir, size_t size, double a_lo,
                      double a_hi)
{
    struct st_train_cfg cfg = *base;
    struct st_train_result res = { 0 };
    struct st_err err = { "" };
    cfg.steps = 0;
    cfg.plot = 0;
    cfg.quiet = 1;
    if (snprintf(dir, size, "%s/tasks", base->out) >= (int)sizeof cfg.out) {
        st_err_set(&err, ST_ERR_ARG, "--out %s: too long", base->out);
        return st_cli_fail("continual", ST_ERR_ARG, &err);
    }
    memcpy(cfg.out, dir, strlen(dir) + 1);
    enum st_status st = st_train_cfg_resolve(&cfg, &err);
    if (st == ST_OK && (st = st_train_run(&cfg, NULL, &res, &err)) == ST_OK)
        st = task_a(dir, &cfg, input_width(&cfg), a_lo, a_hi, &err);
    st_result_free(&res);
    return st == ST_OK ? 0 : st_cli_fail("continual", st, &err);
}

/* Method m's run on task B from A (0 plain, then per lambda l1, l1 prox,
 * L2-SP), into row r. Returns 0 or an exit status (a diverged run is a
 * row). */
static int run_method(const struct st_train_cfg *base, const char *dir, int m,
                      const double *lams, int n_runs, struct row *r)
{
    static const char *const names[] = { "l1", "l1-prox", "l2-sp" };
    struct st_train_cfg cfg = *base;
    struct st_train_result res = { 0 };
    struct st_err err = { "" };
    char path[4300];
    double lam = m ? lams[(m - 1) / 3] : 0.0;
    int kind = m ? (m - 1) % 3 : -1; /* 0 l1, 1 l1 prox, 2 l2 */
    memset(r, 0, sizeof *r);
    snprintf(r->method, sizeof r->method, "%s", m ? names[kind] : "plain");
    r->lambda = lam;
    cfg.lambda = lam;
    cfg.penalty = kind == 2 ? ST_PEN_L2 : m ? ST_PEN_L1 : ST_PEN_NONE;
    cfg.prox = kind == 1;
    cfg.quiet = 1;
    cfg.plot = 0;
    int n1 = 0, n2 = 0;
    if (!base->task_data) { /* A's evaluation set: make_tasks wrote it */
        n1 = snprintf(path, sizeof path, "%s/xA.npy", dir);
        memcpy(cfg.eval_x, path, (size_t)n1 + 1 <= sizeof cfg.eval_x ? (size_t)n1 + 1 : 1);
        n2 = snprintf(path, sizeof path, "%s/yA.npy", dir);
        memcpy(cfg.eval_y, path, (size_t)n2 + 1 <= sizeof cfg.eval_y ? (size_t)n2 + 1 : 1);
    }
    int n3 = snprintf(path, sizeof path, "%s/runs/%s-%g", base->out, r->method, lam);
    memcpy(cfg.out, path, (size_t)n3 + 1 <= sizeof cfg.out ? (size_t)n3 + 1 : 1);
    if ((size_t)n1 >= sizeof cfg.eval_x || (size_t)n2 >= sizeof cfg.eval_y ||
        (size_t)n3 >= sizeof cfg.out) {
        st_err_set(&err, ST_ERR_ARG, "--out %s: too long", base->out);
        return st_cli_fail("continual", ST_ERR_ARG, &err);
    }
    enum st_status st = st_train_cfg_resolve(&cfg, &err);
    if (st != ST_OK)
        return st_cli_fail("continual", st, &err);
    fprintf(stderr, "continual: run %d of %d: %s, lambda %g\n", m + 1, n_runs, r->method, lam);
    st = st_train_run(&cfg, NULL, &res, &err);
    if (st != ST_OK && st != ST_ERR_NUMERIC) {
        st_result_free(&res);
        return st_cli_fail("continual", st, &err);
    }
    r->ok = st == ST_OK;
    r->loss_b = r->ok ? res.data_loss_tail : (double)NAN;
    r->forget = r->ok ? res.eval[0].after : (double)NAN;
    r->a_before = r->ok ? res.eval[0].before : (double)NAN;
    r->acc_b = r->ok ? res.accuracy : (double)NAN;
    r->acc_a = r->ok ? res.eval[0].acc_after : (double)NAN;
    size_t len = 0;
    for (int t = 0; r->ok && t < res.n_tensors; t++)
        if (res.t[t].verdict && len + 8 < sizeof r->changed)
            len += (size_t)snprintf(r->changed + len, sizeof r->changed - len, "%s%s",
                                    len ? " " : "", res.t[t].name);
    st_result_free(&res);
    return 0;
}

/* The table on stdout and OUT/continual.csv. Returns 0 or an exit status. */
static int write_table(const struct st_train_cfg *base, const struct row *rows, int n_rows,
                       double a_lo, double a_hi)
{
    struct st_atomic_file af;
    struct st_err err = { "" };
    char path[4300];
    int data = base->task_data, xent = base->loss == ST_LOSS_XENT;
    const char *k = st_loss_name(base->loss);
    snprintf(path, sizeof path, "%s/continual.csv", base->out);
    enum st_status st = st_atomic_open(&af, path, &err);
    if (st != ST_OK)
        return st_cli_fail("continual", st, &err);
    if (data) {
        fprintf(af.f, "method,lambda,loss_b,loss_a,forgetting_a%s,changed,status\n",
                xent ? ",accuracy_b,accuracy_a" : "");
        /* The sets are known once the options resolve (every run did). */
        struct st_train_cfg *rc = malloc(sizeof *rc);
        struct st_err ignored;
        if (rc)
            *rc = *base;
        printf("continual: A = the model %s, judged on %s; B = --x %s\n\n", base->init_path,
               rc && st_train_cfg_resolve(rc, &ignored) == ST_OK ? st_eval_x(rc, 0) : "?",
               base->x_path);
        free(rc);
        printf("%-9s %10s %12s %12s %13s%s  %s\n", "method", "lambda", "loss on B", "loss on A",
               "forgetting A", xent ? "  accuracy B  accuracy A" : "", "changed");
    } else {
        fputs("method,lambda,loss_b,forgetting_a,changed,status\n", af.f);
        printf("continual: A = the student's start, judged on U(%g,%g); B = the teacher (layers "
               "%s re-drawn), trained on the run's data\n\n", a_lo, a_hi, base->reinit);
        printf("%-9s %10s %14s %16s  %s\n", "method", "lambda", "loss on B", "forgetting of A",
               "changed");
    }
    for (int i = 0; i < n_rows; i++) {
        const struct row *r = &rows[i];
        const char *changed = r->ok ? r->changed : "(diverged)";
        fprintf(af.f, "%s,%.17g,%.17g,%.17g", r->method, r->lambda, r->loss_b, r->forget);
        if (data) {
            fprintf(af.f, ",%.17g", r->forget - r->a_before);
            if (xent)
                fprintf(af.f, ",%.17g,%.17g", r->acc_b, r->acc_a);
            printf("%-9s %10g %12.4e %12.4e %+13.4e", r->method, r->lambda, r->loss_b, r->forget,
                   r->forget - r->a_before);
            if (xent)
                printf("  %10.4f  %10.4f", r->acc_b, r->acc_a);
            printf("  %s\n", changed);
        } else {
            printf("%-9s %10g %14.4e %16.4e  %s\n", r->method, r->lambda, r->loss_b, r->forget,
                   changed);
        }
        fprintf(af.f, ",\"%s\",%s\n", r->changed, r->ok ? "ok" : "diverged");
    }
    if (data)
        printf("\nloss: %s; forgetting: the loss on A at the end less at the start\n", k);
    st = st_atomic_commit(&af, &err);
    return st == ST_OK ? 0 : st_cli_fail("continual", st, &err);
}

/* The trade-off figure: one series per method, a point per lambda. Returns 0
 * or an exit status. */
static int draw(const struct st_train_cfg *base, const struct row *rows, int n_rows)
{
    static const char *const series[] = { "plain", "l1", "l1 prox", "L2-SP" };
    double xs[4][MAX_LAMBDAS], ys[4][MAX_LAMBDAS];
    const double *xp[4] = { xs[0], xs[1], xs[2], xs[3] }, *yp[4] = { ys[0], ys[1], ys[2], ys[3] };
    int counts[4] = { 0 };
    struct st_err err = { "" };
    char path[4300];
    for (int i = 0; i < n_rows; i++) {
        int s = i == 0 ? 0 : 1 + (i - 1) % 3;
        xs[s][counts[s]] = rows[i].loss_b;
        ys[s][counts[s]++] = rows[i].forget;
    }
    snprintf(path, sizeof path, "%s/continual.%s", base->out,
             st_fig_format_name((enum st_fig_format)base->fig_format));
    char xl[96], yl[96];
    snprintf(xl, sizeof xl, "loss on B (%s, lowest of the last 10%%)", st_loss_title(base->loss));
    snprintf(yl, sizeof yl, "forgetting: %s on A at the end", st_loss_title(base->loss));
    enum st_status st = st_figure_tradeoff(
        path, (enum st_fig_format)base->fig_format,
        "forgetting A against learning B (one point per \u03bb)", 4, series, xp, yp, counts, xl,
        yl, &err);
    if (st != ST_OK)
        return st_cli_fail("continual", st, &err);
    printf("\nfigure: %s\n", path);
    return 0;
}

int cmd_continual(int argc, char **argv)
{
    struct st_train_cfg base;
    struct st_err err = { "" };
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    const char *lam_text = "1e-5,1e-4,1e-3,1e-2", *a_text = NULL;
    double a_lo = 0.0, a_hi = 0.0, lams[MAX_LAMBDAS];
    struct row rows[1 + 3 * MAX_LAMBDAS];
    char dir[4200];
    int rest_argc = 0, help = 0, rc, n_lam = 0;
    const char *model = NULL;
    unsigned char given[ST_OPTIONS_MAX];
    const struct st_cli_opt opts[] = { { "--lambdas", 's', 0, 0, &lam_text },
                                       { "--a-range", 's', 0, 0, &a_text },
                                       { "--model", 's', 0, 0, &model } };

    if (!rest)
        return ST_EXIT_RUNTIME;
    rc = st_cli_take_opts("continual", argc, argv, opts, 3, rest, &rest_argc, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc == 0 && !help)
        rc = st_cli_parse_run("continual", rest_argc, rest, "continual", &base, given, &help);
    if (rc == 0 && !help && model)
        rc = st_cli_use_model("continual", model, &base, given);
    free(rest);
    if (rc != 0 || help)
        return rc;
    if ((rc = check_opts(&base, lam_text, a_text, lams, &n_lam, &a_lo, &a_hi)) != 0 ||
        (!base.task_data && (rc = make_tasks(&base, dir, sizeof dir, a_lo, a_hi)) != 0))
        return rc;
    int n_rows = 1 + 3 * n_lam;
    for (int m = 0; m < n_rows; m++)
        if ((rc = run_method(&base, dir, m, lams, n_rows, &rows[m])) != 0)
            return rc;
    if ((rc = write_table(&base, rows, n_rows, a_lo, a_hi)) != 0 ||
        (base.plot && (rc = draw(&base, rows, n_rows)) != 0))
        return rc;
    printf("table: %s/continual.csv\n", base.out);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        st_err_set(&err, ST_ERR_IO, "cannot write to stdout");
        return st_cli_fail("continual", ST_ERR_IO, &err);
    }
    return ST_EXIT_OK;
}
