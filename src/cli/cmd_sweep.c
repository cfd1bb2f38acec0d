/* cmd_sweep.c: `sparsetune sweep`, a grid of runs on several processes.
 * Every run is single-threaded and independent, so its numbers equal those of
 * `train` with the same options, whatever --jobs or --shard. Workers are
 * forked processes (pool.h); the parent writes each run's summary.csv row in
 * grid order as soon as the earlier ones are there (sweep_rows.h), so a
 * killed sweep loses only the runs in flight, and a re-run with the same
 * --out skips the runs already finished. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../exp/options.h"
#include "../exp/sweep.h"
#include "../io/csv.h"
#include "../io/file.h"
#include "../plot/figure.h"
#include "cli.h"
#include "commands.h"
#include "mpi.h"
#include "pool.h"
#include "sweep_rows.h"

#define MAX_JOBS ST_POOL_MAX_JOBS

struct sweep_opts {
    struct st_grid grid;
    int jobs;
    int keep_runs;
    long shard_k, shard_n; /* run ids with id % n == k - 1 */
    char *spec_text;       /* the --grid specs, one "grid = ..." line each */
    const char *model;     /* --model FILE, or NULL */
};

static void usage(FILE *f)
{
    fputs("usage: sparsetune sweep --grid KEY=VALUES [--grid ...] [options]\n"
          "\n"
          "Runs every combination of the grid's values, each as one `train` run with the\n"
          "other options, on --jobs processes, and writes OUT/summary.csv: one row per run\n"
          "with its grid values, final loss terms, d_init per tensor, verdict, truth and\n"
          "wall time. Re-run with the same --out to finish an interrupted sweep.\n"
          "\n"
          "sweep options:\n"
          "  --grid KEY=VALUES          an axis: any train option and its values; integers\n"
          "                             take ranges A:B (A..B-1); options whose values hold\n"
          "                             commas (widths, ...) separate values with ':'\n"
          "  --jobs N                   worker processes [the number of cores]\n"
          "  --shard K/N                run only the runs with id % N == K-1 (job arrays)\n"
          "  --keep-runs                keep each run's directory in OUT/runs/ID/\n"
          "  --model FILE               fine-tune the model in FILE on --x/--y, as finetune\n"
          "                             (widths and activation from the file)\n"
          "\n"
          "options of every run (as for train; --out is the sweep's directory [sweep]):\n",
          f);
    st_cli_print_run_options(f, "sweep");
    fputs("\n"
          "example:\n"
          "  sparsetune sweep --grid lambda=0,1e-5,1e-4,1e-3,1e-2 --grid seed=0:16 --jobs 2 "
          "--out sw\n"
          "\n"
          "exit status: 0 every run finished (diverged runs included), 1 a run failed or a\n"
          "runtime error, 2 usage error\n",
          f);
}

/* Takes the sweep's own options out of argv; the rest go to the run parser. */
static int parse_sweep_opts(int argc, char **argv, struct sweep_opts *so, int *rest_argc,
                            char **rest)
{
    struct st_err err = { "" };
    size_t text_len = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    so->jobs = cores > 0 ? (int)cores : 1;
    *rest_argc = 0;
    rest[(*rest_argc)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int is_grid = !strcmp(a, "--grid"), is_jobs = !strcmp(a, "--jobs"),
            is_shard = !strcmp(a, "--shard"), is_model = !strcmp(a, "--model");
        if (!strcmp(a, "--keep-runs")) {
            so->keep_runs = 1;
            continue;
        }
        if (!is_grid && !is_jobs && !is_shard && !is_model) {
            rest[(*rest_argc)++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            st_err_set(&err, ST_ERR_ARG, "%s: expected a value", a);
            return st_cli_fail("sweep", ST_ERR_ARG, &err);
        }
        v = argv[++i];
        if (is_model) {
            so->model = v;
        } else if (is_grid) {
            enum st_status st = st_grid_add(&so->grid, v, &err);
            if (st != ST_OK)
                return st_cli_fail("sweep", st, &err);
            size_t len = strlen(v);
            char *nt = realloc(so->spec_text, text_len + len + 9);
            if (!nt) {
                st_err_set(&err, ST_ERR_NOMEM, "out of memory");
                return st_cli_fail("sweep", ST_ERR_NOMEM, &err);
            }
            so->spec_text = nt;
            text_len += (size_t)sprintf(nt + text_len, "grid = %s\n", v);
        } else if (is_jobs) {
            char *end;
            long n = strtol(v, &end, 10);
            if (end == v || *end || n < 1 || n > MAX_JOBS) {
                st_err_set(&err, ST_ERR_ARG, "--jobs '%s': expected an integer from 1 to %d", v,
                           MAX_JOBS);
                return st_cli_fail("sweep", ST_ERR_ARG, &err);
            }
            so->jobs = (int)n;
        } else {
            char *end, *end2;
            long k = strtol(v, &end, 10), n = *end == '/' ? strtol(end + 1, &end2, 10) : 0;
            if (end == v || *end != '/' || end2 == end + 1 || *end2 || n < 1 || k < 1 || k > n) {
                st_err_set(&err, ST_ERR_ARG, "--shard '%s': expected K/N with 1 <= K <= N", v);
                return st_cli_fail("sweep", ST_ERR_ARG, &err);
            }
            so->shard_k = k;
            so->shard_n = n;
        }
    }
    if (so->grid.n_axes == 0) {
        st_err_set(&err, ST_ERR_ARG, "expected at least one --grid KEY=VALUES");
        return st_cli_fail("sweep", ST_ERR_ARG, &err);
    }
    return 0;
}

/* Run 0's data files against its options (st_cli_probe), before any run
 * starts; the other runs read the same files unless the grid varies them. */
static enum st_status probe_run0(const struct st_grid *g, const struct st_train_cfg *base,
                                 struct st_err *err)
{
    struct st_train_cfg *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    *cfg = *base;
    enum st_status st = st_grid_apply(g, 0, cfg, err);
    if (st == ST_OK)
        st = st_cli_probe(cfg, err);
    free(cfg);
    return st;
}

/* The header, the grid lines and the options of a sweep.ini, as this version
 * writes them (ident's threads set to 1: every run is single-threaded). */
static void write_ini(FILE *f, const char *grid_lines, const struct st_train_cfg *base)
{
    struct st_train_cfg ident = *base;
    ident.threads = 1;
    fputs("# sparsetune sweep: the grid and the options of every run\n", f);
    fputs(grid_lines, f);
    st_options_write_ini(f, &ident);
}

/* A sweep.ini's text as this version would write it (NULL if it does not
 * parse): an earlier version names the same sweep in other words (no arch
 * line, weight-decay nan for auto). */
static char *rewritten_ini(const char *text)
{
    struct st_train_cfg *cfg = malloc(sizeof *cfg);
    struct st_grid grid;
    char *lines = NULL, *out = NULL;
    size_t lines_len = 0, out_len = 0;
    struct st_err err;
    FILE *f = cfg ? open_memstream(&lines, &lines_len) : NULL;
    memset(&grid, 0, sizeof grid);
    if (!f) {
        free(cfg);
        return NULL;
    }
    st_train_cfg_defaults(cfg);
    enum st_status st = st_sweep_ini_parse(text, &grid, f, cfg, &err);
    fclose(f);
    FILE *m = st == ST_OK ? open_memstream(&out, &out_len) : NULL;
    if (m) {
        write_ini(m, lines, cfg);
        fclose(m);
    }
    st_grid_free(&grid);
    free(lines);
    free(cfg);
    return out;
}

/* The sweep's identity: its grid and the options of every run. A directory
 * that holds another sweep is refused rather than mixed. */
static int check_identity(const char *out, const struct sweep_opts *so,
                          const struct st_train_cfg *base)
{
    char path[4200], *text = NULL, *old = NULL;
    size_t len = 0;
    struct st_err err = { "" };
    FILE *m = open_memstream(&text, &len);
    int rc = 0;
    if (!m)
        return ST_EXIT_RUNTIME;
    write_ini(m, so->spec_text, base);
    fclose(m);
    snprintf(path, sizeof path, "%s/sweep.ini", out);
    size_t old_len = 0;
    if (st_file_read(path, &old, &old_len, &err) == ST_OK) {
        char *again = NULL;
        if ((old_len != len || memcmp(old, text, len) != 0) &&
            !((again = rewritten_ini(old)) && !strcmp(again, text))) {
            st_err_set(&err, ST_ERR_ARG,
                       "%s holds another sweep (its sweep.ini differs); choose another --out",
                       out);
            rc = st_cli_fail("sweep", ST_ERR_ARG, &err);
        }
        free(again);
    } else {
        struct st_atomic_file af;
        if (st_atomic_open(&af, path, &err) != ST_OK ||
            (fwrite(text, 1, len, af.f), st_atomic_commit(&af, &err)) != ST_OK)
            rc = st_cli_fail("sweep", ST_ERR_IO, &err);
    }
    free(old);
    free(text);
    return rc;
}

/* What the pool's callbacks need. */
struct sweep_ctx {
    const struct sweep_opts *so;
    const struct st_train_cfg *base;
    const long *ids;
    const struct st_names *names;
    struct st_sweep_rows *rows; /* rank 0 */
    int failed;
};

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    struct sweep_ctx *c = user;
    *cfg = *c->base;
    enum st_status st = st_grid_apply(&c->so->grid, c->ids[i], cfg, err);
    if (st != ST_OK)
        return st;
    return st_pool_task_cfg(cfg, c->base->out, c->ids[i], err);
}

/* The run's row into summary.csv in grid order (sweep_rows.h): a kill loses
 * only the runs that had not finished. */
static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct sweep_ctx *c = user;
    char *row = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&row, &len);
    if (m) {
        st_sweep_write_row(m, &c->so->grid, c->ids[i], c->names, res, st, error);
        fclose(m);
    }
    if (row)
        st_sweep_rows_put(c->rows, c->ids[i], row);
    free(row);
    c->failed += st != ST_OK && st != ST_ERR_NUMERIC;
}


/* A data run's penalty defaults come as a whole (layer, sum, prox) only when
 * none of --penalty, --penalty-reduction and --prox is given; an axis of the
 * grid gives one too, and then the others keep their plain defaults. */
static void grid_gives_penalty(const struct st_grid *g, struct st_train_cfg *base,
                               const unsigned char *given)
{
    static const char *const keys[] = { "penalty", "penalty-reduction", "prox" };
    int axis = 0;
    for (int a = 0; a < g->n_axes; a++)
        for (int k = 0; k < 3; k++)
            axis |= !strcmp(g->axes[a].key, keys[k]);
    for (int k = 0; k < 3; k++)
        if (given[st_option_index(keys[k])])
            return;
    if (!axis || !base->task_data)
        return;
    for (int k = 0; k < 3; k++) { /* each option's default, as the table gives it */
        struct st_err ignored;
        st_option_set(base, keys[k], st_option_find(keys[k])->def, &ignored);
    }
}

/* Where a sweep stands: its runs, those to do here, its summary.csv. */
struct sweep_state {
    long n_runs;
    unsigned char *done; /* [n_runs] finished before this command (rank 0) */
    long *ids, n_todo;   /* the runs this command does */
    struct st_sweep_rows rows; /* rank 0: summary.csv */
    long got, stopped;   /* runs that reported back; checkpointed at a stop */
    double t0;
};

/* Every run's configuration must resolve before anything starts (the
 * tensors of all of them are summary.csv's columns), and run 0's data must
 * fit its options. Returns 0 or an exit status. */
static int check_grid(const struct sweep_opts *so, const struct st_train_cfg *base,
                      struct st_names *names, struct sweep_state *ss)
{
    struct st_err err = { "" };
    ss->n_runs = st_grid_size(&so->grid);
    /* The size first: every run's configuration is checked below, one by one. */
    if (ss->n_runs < 1 || ss->n_runs > ST_SWEEP_MAX_RUNS) {
        char sizes[256] = "";
        size_t used = 0;
        for (int a = 0; a < so->grid.n_axes && used < sizeof sizes; a++)
            used += (size_t)snprintf(sizes + used, sizeof sizes - used, "%s%s %d",
                                     a ? " x " : "", so->grid.axes[a].key, so->grid.axes[a].n);
        char count[32];
        if (ss->n_runs < 1)
            snprintf(count, sizeof count, "over 2^63");
        else
            snprintf(count, sizeof count, "%ld", ss->n_runs);
        st_err_set(&err, ST_ERR_ARG, "the grid has %s runs (%s); at most %d in one sweep", count,
                   sizes, ST_SWEEP_MAX_RUNS);
        return st_cli_fail("sweep", ST_ERR_ARG, &err);
    }
    enum st_status st = st_sweep_names(&so->grid, base, names, &err);
    if (st == ST_OK)
        st = probe_run0(&so->grid, base, &err);
    if (st != ST_OK)
        return st_cli_fail("sweep", st, &err);
    if (!(ss->ids = malloc((size_t)ss->n_runs * sizeof *ss->ids)))
        return ST_EXIT_RUNTIME;
    return 0;
}

/* A note on stderr when the grid varies the seed over runs that use it for
 * nothing (st_cfg_seed_used): each seed repeats the same runs. */
static void note_seed(const struct sweep_opts *so, const struct st_train_cfg *base)
{
    const struct st_grid_axis *seed = NULL;
    struct st_train_cfg *cfg = malloc(sizeof *cfg);
    struct st_err err;
    long n = st_grid_size(&so->grid), r = 0;
    for (int a = 0; a < so->grid.n_axes; a++)
        if (!strcmp(so->grid.axes[a].key, "seed") && so->grid.axes[a].n > 1)
            seed = &so->grid.axes[a];
    for (; cfg && seed && r < n; r++) {
        *cfg = *base;
        if (st_grid_apply(&so->grid, r, cfg, &err) != ST_OK || st_cfg_seed_used(cfg))
            break;
    }
    if (cfg && seed && r == n)
        fprintf(stderr, "sparsetune sweep: note: --grid seed: its %d values change nothing in "
                        "these data runs (a model file to start from, full batch, no "
                        "--val-fraction, no fisher reduction): every seed repeats the same "
                        "runs\n", seed->n);
    free(cfg);
}

/* Rank 0's part: the directory, the identity check, what is done already,
 * summary.csv open for its rows. Returns 0 or an exit status. */
static int open_dir(const struct sweep_opts *so, const struct st_train_cfg *base,
                    const struct st_names *names, struct sweep_state *ss)
{
    struct st_err err = { "" };
    enum st_status st;
    int rc;
    if (st_mkdirs(base->out, &err) != ST_OK)
        return st_cli_fail("sweep", ST_ERR_IO, &err);
    if ((rc = check_identity(base->out, so, base)) != 0)
        return rc;
    if (!(ss->done = malloc((size_t)ss->n_runs)))
        return ST_EXIT_RUNTIME;
    if ((st = st_sweep_rows_open(&ss->rows, base->out, ss->n_runs, so->shard_k, so->shard_n,
                                 &so->grid, names, ss->done, ss->ids, &ss->n_todo, &err)) != ST_OK)
        return st_cli_fail("sweep", st, &err);
    return 0;
}

/* The runs to do, on the pool or on the MPI ranks; SIGINT and SIGTERM start
 * no new run, and the runs in flight checkpoint. */
static void run_all(struct sweep_ctx *ctx, struct sweep_state *ss, int rank, int size)
{
    struct st_progress prog;
    ss->t0 = st_seconds_now();
    if (size == 1)
        st_cli_catch_stop();
    st_progress_init(&prog, "sweep", ctx->base->quiet || rank != 0);
    ss->got = size > 1 ? st_mpi_run(ss->n_todo, rank, size, ctx->so->keep_runs, make_run,
                                    run_done, ctx, &prog)
                       : st_pool_run(ss->n_todo, ctx->so->jobs, ctx->so->keep_runs, make_run,
                                     run_done, ctx, &prog, &ss->stopped);
    st_progress_done(&prog);
    if (size == 1)
        st_cli_release_stop();
}

/* Rank 0's report: the figure, the counts, what failed or did not report.
 * Returns 0 or an exit status. */
static int report(const struct sweep_ctx *ctx, const struct sweep_state *ss, int size)
{
    const struct st_train_cfg *base = ctx->base;
    char path[4200];
    if (st_cli_stop && ss->got < ss->n_todo) {
        long waiting = st_sweep_rows_waiting(&ss->rows);
        char wait[128] = "";
        if (waiting > 0)
            snprintf(wait, sizeof wait, " (%ld of their rows wait in pending.csv for earlier "
                     "runs)", waiting);
        fprintf(stderr,
                "sparsetune sweep: stopped by %s: %ld runs finished now%s, %ld checkpointed in "
                "flight, %ld not started; run the same command again to resume\n",
                st_cli_stop_name(), ss->got, wait, ss->stopped,
                ss->n_todo - ss->got - ss->stopped);
        return 128 + st_cli_stop_signal();
    }
    if (!ctx->so->keep_runs) {
        snprintf(path, sizeof path, "%s/runs", base->out);
        rmdir(path);
    }
    if (base->plot) {
        char csv[4200], fig[4200];
        snprintf(csv, sizeof csv, "%s/summary.csv", base->out);
        snprintf(fig, sizeof fig, "%s/sweep.%s", base->out, st_fig_format_names[base->fig_format]);
        st_cli_draw_sweep("sweep", csv, fig, base->fig_format, ctx->names);
    }
    long before = 0;
    for (long r = 0; r < ss->n_runs; r++)
        before += ss->done[r];
    printf("sweep: %ld runs in the grid: %ld run now, %ld already in summary.csv, %ld left to "
           "other shards; %d failed; %.1f s",
           ss->n_runs, ss->got, before, ss->n_runs - before - ss->n_todo, ctx->failed,
           st_seconds_now() - ss->t0);
    if (size > 1)
        printf(" on %d MPI ranks", size);
    printf("\n");
    printf("summary: %s/summary.csv\n", base->out);
    if (ss->got < ss->n_todo)
        fprintf(stderr, "sparsetune sweep: a worker stopped early: %ld of %ld runs did not "
                        "report; run the same command again to finish them\n",
                ss->n_todo - ss->got, ss->n_todo);
    if (ctx->failed)
        fprintf(stderr, "sparsetune sweep: %d runs failed (see the error column of "
                        "summary.csv); a re-run tries them again\n",
                ctx->failed);
    return ss->got < ss->n_todo || ctx->failed ? ST_EXIT_RUNTIME : 0;
}

int cmd_sweep(int argc, char **argv)
{
    struct sweep_opts so;
    struct sweep_state ss;
    struct st_train_cfg base;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_argc = 0, help = 0, rc, rank = 0, size = 1;
    unsigned char given[ST_OPTIONS_MAX];
    struct st_names names;
    memset(&names, 0, sizeof names);

    memset(&so, 0, sizeof so);
    memset(&ss, 0, sizeof ss);
    if (!rest)
        return ST_EXIT_RUNTIME;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(rest);
            return ST_EXIT_OK;
        }
    if (st_mpi_start(&argc, &argv, &rank, &size) != 0) {
        free(rest);
        return ST_EXIT_USAGE;
    }
    rc = parse_sweep_opts(argc, argv, &so, &rest_argc, rest);
    if (rc == 0)
        rc = st_cli_parse_run("sweep", rest_argc, rest, "sweep", &base, given, &help);
    if (rc == 0 && so.model)
        rc = st_cli_use_model("sweep", so.model, &base, given);
    if (rc == 0)
        grid_gives_penalty(&so.grid, &base, given);
    if (rc == 0)
        rc = check_grid(&so, &base, &names, &ss);
    if (rc == 0 && rank == 0)
        note_seed(&so, &base);
    /* Files are rank 0's; the others learn what to do from it. */
    if (rc == 0 && rank == 0)
        rc = open_dir(&so, &base, &names, &ss);
    if (ss.ids) { /* check_grid passed on every rank */
        long shared[2] = { rc, ss.n_todo };
        st_mpi_share(shared, 2);
        rc = (int)shared[0];
        ss.n_todo = shared[1];
    }
    if (rc == 0) {
        struct sweep_ctx ctx = { &so, &base, ss.ids, &names, &ss.rows, 0 };
        st_mpi_share(ss.ids, ss.n_todo);
        run_all(&ctx, &ss, rank, size);
        if (rank == 0)
            rc = report(&ctx, &ss, size);
    }
    st_sweep_rows_close(&ss.rows);
    free(ss.done);
    free(ss.ids);
    free(rest);
    free(so.spec_text);
    st_names_free(&names);
    st_grid_free(&so.grid);
    st_mpi_stop();
    return rank == 0 ? rc : 0;
}
