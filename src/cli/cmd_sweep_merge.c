/* cmd_sweep_merge.c: `sparsetune sweep-merge --out DIR SHARD...`, joins the
 * summary.csv files of a sweep's shards (same grid: their sweep.ini must be
 * identical) into one, ordered by run id, and draws its figure. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exp/options.h"
#include "../exp/sweep.h"
#include "../io/csv.h"
#include "../io/file.h"
#include "../plot/figure.h"
#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune sweep-merge --out DIR SHARD_DIR...\n"
          "\n"
          "Joins the summary.csv of each shard of one sweep (`sweep --shard K/N`) into\n"
          "DIR/summary.csv, one row per run in run order, and draws DIR/sweep.png.\n"
          "\n"
          "example:\n"
          "  sparsetune sweep-merge --out sw sw-1 sw-2 sw-3\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (missing or different shards), 2 usage\n",
          f);
}

/* A sweep.ini's grid and the options of its runs. */
struct sweep_ini {
    struct st_grid grid;
    struct st_train_cfg base;
};

/* The tensors of the sweep a sweep.ini describes, and its number of runs.
 * Errors: those of reading it and of resolving its runs. */
static enum st_status sweep_of_ini(const char *ini, struct st_names *names, long *n_runs,
                                   struct st_err *err)
{
    struct sweep_ini *s = calloc(1, sizeof *s);
    memset(names, 0, sizeof *names);
    *n_runs = 0;
    if (!s)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    st_train_cfg_defaults(&s->base);
    enum st_status st = st_sweep_ini_parse(ini, &s->grid, NULL, &s->base, err);
    if (st == ST_OK && s->grid.n_axes == 0)
        st = st_err_set(err, ST_ERR_FORMAT, "sweep.ini: no grid");
    if (st == ST_OK)
        st = st_sweep_names(&s->grid, &s->base, names, err);
    if (st == ST_OK)
        *n_runs = st_grid_size(&s->grid);
    st_grid_free(&s->grid);
    free(s);
    return st;
}

struct row {
    long id;
    const char *text; /* the line, newline included */
    size_t len;
};

static int cmp_row(const void *a, const void *b)
{
    long x = ((const struct row *)a)->id, y = ((const struct row *)b)->id;
    return x < y ? -1 : x > y;
}

/* The shards read so far: their texts, which the rows point into. */
struct merge {
    char **texts;
    int n_shards;
    char *ini0, *header0; /* the first shard's sweep.ini and summary.csv header */
    const char *first;    /* its directory */
    struct row *rows;
    size_t n_rows, cap;
};

static void merge_free(struct merge *m)
{
    for (int i = 0; i < m->n_shards; i++)
        free(m->texts[i]);
    free(m->texts);
    free(m->rows);
    free(m->ini0);
    free(m->header0);
}

/* The rows of a shard's summary.csv text (the header checked against the
 * first shard's). Returns 0 or an exit status. */
static int add_rows(struct merge *m, const char *dir, char *text)
{
    struct st_err err = { "" };
    char *line = text, *nl = strchr(line, '\n');
    if (!nl)
        return 0;
    if (!m->header0)
        m->header0 = strndup(line, (size_t)(nl - line + 1));
    else if (strncmp(m->header0, line, (size_t)(nl - line + 1)) != 0) {
        st_err_set(&err, ST_ERR_FORMAT, "%s: summary.csv header differs", dir);
        return st_cli_fail("sweep-merge", ST_ERR_FORMAT, &err);
    }
    for (line = nl + 1; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        char *end;
        long id = strtol(line, &end, 10);
        if (end == line || *end != ',')
            continue;
        if (m->n_rows == m->cap) {
            size_t cap = m->cap ? 2 * m->cap : 256;
            struct row *nr = realloc(m->rows, cap * sizeof *nr);
            if (!nr)
                return ST_EXIT_RUNTIME;
            m->rows = nr;
            m->cap = cap;
        }
        m->rows[m->n_rows++] = (struct row){ id, line, (size_t)(nl - line + 1) };
    }
    return 0;
}

/* A shard directory: its sweep.ini must match the first one's. Returns 0
 * or an exit status. */
static int add_shard(struct merge *m, const char *dir)
{
    struct st_err err = { "" };
    char path[4300], *ini = NULL, *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/sweep.ini", dir);
    if (st_file_read(path, &ini, &len, &err) == ST_OK) {
        snprintf(path, sizeof path, "%s/summary.csv", dir);
        st_file_read(path, &text, &len, &err);
    }
    enum st_status st = ST_OK;
    if (!ini || !text)
        st = st_err_set(&err, ST_ERR_IO, "%s: no sweep.ini or summary.csv (not a sweep "
                        "directory)", dir);
    else if (m->ini0 && strcmp(ini, m->ini0) != 0)
        st = st_err_set(&err, ST_ERR_FORMAT, "%s is a shard of another sweep (sweep.ini "
                        "differs from %s's)", dir, m->first);
    if (st != ST_OK) {
        free(ini);
        free(text);
        return st_cli_fail("sweep-merge", st, &err);
    }
    if (!m->ini0) {
        m->first = dir;
        m->ini0 = ini;
    } else {
        free(ini);
    }
    m->texts[m->n_shards++] = text;
    return add_rows(m, dir, text);
}

/* OUT/sweep.ini and OUT/summary.csv: every run once, in run order. Returns
 * 0 or an exit status. */
static int write_merged(struct merge *m, const char *out, size_t *kept)
{
    struct st_err err = { "" };
    struct st_atomic_file af;
    char path[4300];
    qsort(m->rows, m->n_rows, sizeof *m->rows, cmp_row);
    if (st_mkdirs(out, &err) != ST_OK)
        return st_cli_fail("sweep-merge", ST_ERR_IO, &err);
    snprintf(path, sizeof path, "%s/sweep.ini", out);
    if (st_atomic_open(&af, path, &err) != ST_OK ||
        (fputs(m->ini0, af.f), st_atomic_commit(&af, &err)) != ST_OK)
        return st_cli_fail("sweep-merge", ST_ERR_IO, &err);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    if (st_atomic_open(&af, path, &err) != ST_OK)
        return st_cli_fail("sweep-merge", ST_ERR_IO, &err);
    fputs(m->header0 ? m->header0 : "", af.f);
    *kept = 0;
    for (size_t i = 0; i < m->n_rows; i++)
        if (i == 0 || m->rows[i].id != m->rows[i - 1].id) { /* a run in two shards: once */
            fwrite(m->rows[i].text, 1, m->rows[i].len, af.f);
            (*kept)++;
        }
    if (st_atomic_commit(&af, &err) != ST_OK)
        return st_cli_fail("sweep-merge", ST_ERR_IO, &err);
    printf("sweep-merge: %zu runs from %d shards into %s\n", *kept, m->n_shards, path);
    return 0;
}

/* The runs the grid has against those merged, and the figure. Returns 0 or
 * an exit status. */
static int check_and_draw(const struct merge *m, const char *out, size_t kept)
{
    struct st_err err = { "" };
    struct st_names names;
    long expected;
    char csv[4300], fig[4300];
    int rc = 0;
    snprintf(csv, sizeof csv, "%s/summary.csv", out);
    snprintf(fig, sizeof fig, "%s/sweep.png", out);
    if (sweep_of_ini(m->ini0, &names, &expected, &err) != ST_OK) {
        /* Without the grid's runs there is nothing to count against, and
         * the figure takes its tensors from the table's columns. */
        fprintf(stderr, "sparsetune sweep-merge: the shards' sweep.ini does not resolve here "
                "(%s): the missing runs are not counted\n", err.msg);
        st_names_free(&names);
        rc = ST_EXIT_RUNTIME;
    } else if ((long)kept < expected) {
        st_err_set(&err, ST_ERR_FORMAT, "%ld of the grid's %ld runs are missing: a shard was "
                   "not given, or has not finished", expected - (long)kept, expected);
        rc = st_cli_fail("sweep-merge", ST_ERR_FORMAT, &err);
    }
    st_cli_draw_sweep("sweep-merge", csv, fig, ST_FIG_PNG, &names);
    st_names_free(&names);
    return rc;
}

int cmd_sweep_merge(int argc, char **argv)
{
    const char *out = NULL;
    struct st_err err = { "" };
    struct merge m;
    size_t kept = 0;
    int rc = 0;

    memset(&m, 0, sizeof m);
    if (!(m.texts = calloc((size_t)argc, sizeof *m.texts)))
        return ST_EXIT_RUNTIME;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            merge_free(&m);
            return ST_EXIT_OK;
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strncmp(argv[i], "--", 2)) {
            st_err_set(&err, ST_ERR_ARG, "unknown option '%s'", argv[i]);
            rc = st_cli_fail("sweep-merge", ST_ERR_ARG, &err);
        } else {
            rc = add_shard(&m, argv[i]);
        }
    }
    if (rc == 0 && (!out || m.n_shards == 0)) {
        st_err_set(&err, ST_ERR_ARG, "expected --out DIR and at least one shard directory");
        rc = st_cli_fail("sweep-merge", ST_ERR_ARG, &err);
    }
    if (rc == 0)
        rc = write_merged(&m, out, &kept);
    if (rc == 0)
        rc = check_and_draw(&m, out, kept);
    merge_free(&m);
    return rc;
}
