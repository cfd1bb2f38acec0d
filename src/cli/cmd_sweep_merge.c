/* cmd_sweep_merge.c: `sparsetune sweep-merge --out DIR SHARD...`, joins the
 * summary.csv files of a sweep's shards (same grid: their sweep.ini must be
 * identical) into one, ordered by run id, and draws its figure. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exp/options.h"
#include "../exp/sweep.h"
#include "../io/config.h"
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

/* A sweep.ini's grid ("grid = ..." lines) and the options of its runs. */
struct sweep_ini {
    struct st_grid grid;
    struct st_train_cfg base;
};

static enum st_status ini_line(void *user, const char *key, const char *value,
                               struct st_err *err)
{
    struct sweep_ini *s = user;
    if (!strcmp(key, "grid"))
        return st_grid_add(&s->grid, value, err);
    return st_option_set(&s->base, key, value, err);
}

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
    enum st_status st = st_ini_parse(ini, "sweep.ini", ini_line, s, err);
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

int cmd_sweep_merge(int argc, char **argv)
{
    const char *out = NULL;
    struct st_err err = { "" };
    char path[4300], *ini0 = NULL, *header0 = NULL;
    const char *first = NULL;
    char **texts = calloc((size_t)argc, sizeof *texts);
    struct row *rows = NULL;
    size_t n_rows = 0, cap = 0, ini_len = 0;
    int rc = 0, n_shards = 0;

    if (!texts)
        return ST_EXIT_RUNTIME;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            goto done;
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--", 2)) {
            st_err_set(&err, ST_ERR_ARG, "unknown option '%s'", argv[i]);
            rc = st_cli_fail("sweep-merge", ST_ERR_ARG, &err);
            goto done;
        }
        /* A shard: its sweep.ini must match the first one's. */
        size_t len = 0;
        snprintf(path, sizeof path, "%s/sweep.ini", argv[i]);
        char *ini = NULL, *text = NULL;
        if (st_file_read(path, &ini, &len, &err) == ST_OK) {
            snprintf(path, sizeof path, "%s/summary.csv", argv[i]);
            st_file_read(path, &text, &len, &err);
        }
        if (!ini || !text) {
            free(ini);
            free(text);
            st_err_set(&err, ST_ERR_IO, "%s: no sweep.ini or summary.csv (not a sweep directory)",
                       argv[i]);
            rc = st_cli_fail("sweep-merge", ST_ERR_IO, &err);
            goto done;
        }
        if (!ini0) {
            first = argv[i];
            ini0 = ini;
            ini_len = strlen(ini);
        } else if (strcmp(ini, ini0) != 0) {
            free(ini);
            free(text);
            st_err_set(&err, ST_ERR_FORMAT, "%s is a shard of another sweep (sweep.ini differs "
                       "from %s's)", argv[i], first);
            rc = st_cli_fail("sweep-merge", ST_ERR_FORMAT, &err);
            goto done;
        } else {
            free(ini);
        }
        texts[n_shards++] = text;
        char *line = text, *nl = strchr(line, '\n');
        if (!nl)
            continue;
        if (!header0)
            header0 = strndup(line, (size_t)(nl - line + 1));
        else if (strncmp(header0, line, (size_t)(nl - line + 1)) != 0) {
            st_err_set(&err, ST_ERR_FORMAT, "%s: summary.csv header differs", argv[i]);
            rc = st_cli_fail("sweep-merge", ST_ERR_FORMAT, &err);
            goto done;
        }
        for (line = nl + 1; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            char *end;
            long id = strtol(line, &end, 10);
            if (end == line || *end != ',')
                continue;
            if (n_rows == cap) {
                cap = cap ? 2 * cap : 256;
                struct row *nr = realloc(rows, cap * sizeof *nr);
                if (!nr) {
                    rc = ST_EXIT_RUNTIME;
                    goto done;
                }
                rows = nr;
            }
            rows[n_rows++] = (struct row){ id, line, (size_t)(nl - line + 1) };
        }
    }
    if (!out || n_shards == 0) {
        st_err_set(&err, ST_ERR_ARG, "expected --out DIR and at least one shard directory");
        rc = st_cli_fail("sweep-merge", ST_ERR_ARG, &err);
        goto done;
    }
    qsort(rows, n_rows, sizeof *rows, cmp_row);
    struct st_atomic_file af;
    if (st_mkdirs(out, &err) != ST_OK) {
        rc = st_cli_fail("sweep-merge", ST_ERR_IO, &err);
        goto done;
    }
    snprintf(path, sizeof path, "%s/sweep.ini", out);
    if (st_atomic_open(&af, path, &err) != ST_OK ||
        (fwrite(ini0, 1, ini_len, af.f), st_atomic_commit(&af, &err)) != ST_OK) {
        rc = st_cli_fail("sweep-merge", ST_ERR_IO, &err);
        goto done;
    }
    snprintf(path, sizeof path, "%s/summary.csv", out);
    if (st_atomic_open(&af, path, &err) != ST_OK) {
        rc = st_cli_fail("sweep-merge", ST_ERR_IO, &err);
        goto done;
    }
    fputs(header0 ? header0 : "", af.f);
    size_t kept = 0;
    for (size_t i = 0; i < n_rows; i++)
        if (i == 0 || rows[i].id != rows[i - 1].id) { /* a run in two shards: once */
            fwrite(rows[i].text, 1, rows[i].len, af.f);
            kept++;
        }
    if (st_atomic_commit(&af, &err) != ST_OK) {
        rc = st_cli_fail("sweep-merge", ST_ERR_IO, &err);
        goto done;
    }
    printf("sweep-merge: %zu runs from %d shards into %s\n", kept, n_shards, path);
    struct st_names names;
    long expected;
    char fig[4300];
    snprintf(fig, sizeof fig, "%s/sweep.png", out);
    if (sweep_of_ini(ini0, &names, &expected, &err) != ST_OK) {
        /* Without the grid's runs there is nothing to count against, and
         * the figure takes its tensors from the table's columns. */
        fprintf(stderr, "sparsetune sweep-merge: the shards' sweep.ini does not resolve here "
                "(%s): the missing runs are not counted\n", err.msg);
        st_names_free(&names);
        memset(&names, 0, sizeof names);
        rc = ST_EXIT_RUNTIME;
    } else if ((long)kept < expected) {
        st_err_set(&err, ST_ERR_FORMAT, "%ld of the grid's %ld runs are missing: a shard was "
                   "not given, or has not finished", expected - (long)kept, expected);
        rc = st_cli_fail("sweep-merge", ST_ERR_FORMAT, &err);
    }
    st_cli_draw_sweep("sweep-merge", path, fig, ST_FIG_PNG, &names);
    st_names_free(&names);
done:
    for (int i = 0; i < n_shards; i++)
        free(texts[i]);
    free(texts);
    free(rows);
    free(ini0);
    free(header0);
    return rc;
}
