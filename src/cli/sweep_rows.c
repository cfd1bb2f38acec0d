/* sweep_rows.c: see sweep_rows.h. A row that waits is in pending.csv until
 * it is in summary.csv; after that a copy may stay there until the sweep
 * ends, and the next sweep into the directory skips it (its id is in
 * summary.csv). */
#define _POSIX_C_SOURCE 200809L
#include "sweep_rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/file.h"

/* Rows of finished runs, each with its newline. */
struct line {
    long id;
    char *text;
};

struct lines {
    struct line *v;
    long n, cap;
};

static int lines_add(struct lines *l, long id, const char *text)
{
    if (l->n == l->cap) {
        long cap = l->cap ? 2 * l->cap : 64;
        struct line *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *t = strdup(text);
    if (!t)
        return -1;
    l->v[l->n++] = (struct line){ id, t };
    return 0;
}

static int by_id(const void *a, const void *b)
{
    long x = ((const struct line *)a)->id, y = ((const struct line *)b)->id;
    return (x > y) - (x < y);
}

/* The rows of finished runs (ok or diverged) in path into l, each run once
 * (seen[id] marks those taken). With header, the file's first line goes to
 * *header (malloc'd) and *clean, *sorted say whether every later line was
 * taken and in ascending order: a line cut by a kill ends the file; a failed
 * run's row, or one of an id out of range or taken before, is left out.
 * Returns 1 when the file was read, 0 when there is none, -1 when out of
 * memory. */
static int read_rows(const char *path, long n_runs, unsigned char *seen, struct lines *l,
                     char **header, int *clean, int *sorted)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long last = -1;
    int rc = 1, ok = 1, up = 1;
    if (!f)
        return 0;
    while (rc > 0 && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') {
            ok = 0;
            break;
        }
        if (header && !*header) {
            if (!(*header = strdup(line)))
                rc = -1;
            continue;
        }
        char *end;
        long id = strtol(line, &end, 10);
        if (end == line || *end != ',' || id < 0 || id >= n_runs || seen[id] ||
            strstr(line, ",failed,")) {
            ok = 0;
            continue;
        }
        if (lines_add(l, id, line) != 0) {
            rc = -1;
            break;
        }
        seen[id] = 1;
        up &= id > last;
        last = id;
    }
    free(line);
    fclose(f);
    if (header) {
        *clean = ok;
        *sorted = up;
    }
    return rc;
}

/* path, atomically: header (if not NULL), then the rows v[0..n). */
static enum st_status write_lines(const char *path, const char *header, const struct line *v,
                                  long n, struct st_err *err)
{
    struct st_atomic_file af;
    enum st_status st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        return st;
    if (header)
        fputs(header, af.f);
    for (long i = 0; i < n; i++)
        fputs(v[i].text, af.f);
    return st_atomic_commit(&af, err);
}

enum st_status st_sweep_rows_open(struct st_sweep_rows *r, const char *out, long n_runs,
                                  long shard_k, long shard_n, const struct st_grid *grid,
                                  const struct st_names *names, unsigned char *done, long *ids,
                                  long *n_todo, struct st_err *err)
{
    char path[4200];
    struct lines l = { NULL, 0, 0 };
    char *header = NULL;
    int clean = 1, sorted = 1, have;
    enum st_status st = ST_OK;

    memset(r, 0, sizeof *r);
    memset(done, 0, (size_t)n_runs);
    *n_todo = 0;
    snprintf(path, sizeof path, "%s/summary.csv", out);
    snprintf(r->pending_path, sizeof r->pending_path, "%s/pending.csv", out);
    /* Waiting rows belong to a summary.csv with its header; without one the
     * sweep starts afresh. */
    have = read_rows(path, n_runs, done, &l, &header, &clean, &sorted);
    if (have > 0 && header)
        have = read_rows(r->pending_path, n_runs, done, &l, NULL, NULL, NULL) < 0 ? -1 : 1;
    if (have < 0) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    for (long id = 0; id < n_runs; id++)
        if (!done[id] && (shard_n == 0 || id % shard_n == shard_k - 1))
            ids[(*n_todo)++] = id;
    /* summary.csv keeps the rows before the first run to do; the later ones
     * wait for it, in pending.csv first, so that no row is lost in between. */
    long first = *n_todo ? ids[0] : n_runs, n_early = 0;
    if (l.n > 0) /* l.v is NULL for none */
        qsort(l.v, (size_t)l.n, sizeof *l.v, by_id);
    while (n_early < l.n && l.v[n_early].id < first)
        n_early++;
    long n_late = l.n - n_early;
    if (n_late > 0)
        st = write_lines(r->pending_path, NULL, l.v + n_early, n_late, err);
    else if (unlink(r->pending_path) != 0 && errno != ENOENT)
        st = st_err_set(err, ST_ERR_IO, "cannot remove %s: %s", r->pending_path, strerror(errno));
    if (st == ST_OK && header && (!clean || !sorted || n_late > 0))
        st = write_lines(path, header, l.v, n_early, err);
    if (st == ST_OK && !(r->summary = fopen(path, header ? "a" : "w")))
        st = st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (st == ST_OK && !header) {
        st_sweep_write_header(r->summary, grid, names);
        fflush(r->summary);
    }
    /* The rows to write: the runs to do and those that wait, merged. */
    r->n = *n_todo + n_late;
    if (st == ST_OK && (!(r->order = malloc(((size_t)r->n + 1) * sizeof *r->order)) ||
                        !(r->row = calloc((size_t)r->n + 1, sizeof *r->row))))
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
    for (long k = 0, i = 0, j = n_early; st == ST_OK && k < r->n; k++) {
        if (j < l.n && (i == *n_todo || l.v[j].id < ids[i])) {
            r->order[k] = l.v[j].id;
            r->row[k] = l.v[j].text;
            l.v[j++].text = NULL;
        } else {
            r->order[k] = ids[i++];
        }
    }
out:
    for (long i = 0; i < l.n; i++)
        free(l.v[i].text);
    free(l.v);
    free(header);
    return st;
}

/* Appends row to pending.csv and flushes it. */
static void keep_waiting(struct st_sweep_rows *r, const char *row)
{
    if (!r->pending)
        r->pending = fopen(r->pending_path, "a");
    if (r->pending) {
        fputs(row, r->pending);
        fflush(r->pending);
    }
}

void st_sweep_rows_put(struct st_sweep_rows *r, long id, const char *row)
{
    long lo = r->next, hi = r->n;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (r->order[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= r->n || r->order[lo] != id || r->row[lo])
        return; /* not a row of this sweep, or one it has */
    if (lo > r->next) {
        /* Out of memory, it still waits in pending.csv for the next sweep. */
        keep_waiting(r, row);
        r->row[lo] = strdup(row);
        return;
    }
    fputs(row, r->summary);
    for (r->next++; r->next < r->n && r->row[r->next]; r->next++) {
        fputs(r->row[r->next], r->summary);
        free(r->row[r->next]);
        r->row[r->next] = NULL;
    }
    fflush(r->summary);
    if (r->next == r->n) {
        if (r->pending)
            fclose(r->pending);
        r->pending = NULL;
        unlink(r->pending_path);
    }
}

long st_sweep_rows_waiting(const struct st_sweep_rows *r)
{
    long n = 0;
    for (long k = r->next; k < r->n; k++)
        n += r->row[k] != NULL;
    return n;
}

void st_sweep_rows_close(struct st_sweep_rows *r)
{
    if (r->summary)
        fclose(r->summary);
    if (r->pending)
        fclose(r->pending);
    for (long k = 0; r->row && k < r->n; k++)
        free(r->row[k]);
    free(r->row);
    free(r->order);
    memset(r, 0, sizeof *r);
}
