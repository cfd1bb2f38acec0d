/* csv.c: reader for numeric CSV with a header. The whole file is read into
 * memory and split in place; every line is checked for its column count and
 * every cell parsed with strtod, so a malformed file is reported with its
 * line number instead of being half read. */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

/* Number of comma-separated fields in line. */
static int count_fields(const char *line)
{
    int n = 1;
    for (const char *p = line; *p; p++)
        n += *p == ',';
    return n;
}

enum st_status st_csv_read(const char *path, struct st_csv *t, struct st_err *err)
{
    struct st_csv q = { 0, 0, NULL, NULL, 0 };
    enum st_status st;
    char *text = NULL, *p, *line;
    size_t len = 0, cap_rows = 0;
    long lineno = 1;

    st = st_file_read(path, &text, &len, err);
    if (st != ST_OK)
        return st;
    if (memchr(text, '\0', len)) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: not a text file (holds a NUL byte)", path);
        goto fail;
    }
    /* Header. */
    p = text;
    line = p;
    p += strcspn(p, "\n");
    if (*p)
        *p++ = '\0';
    if (line[0] && line[strlen(line) - 1] == '\r')
        line[strlen(line) - 1] = '\0';
    if (!line[0]) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s:1: empty file or empty header", path);
        goto fail;
    }
    q.n_cols = count_fields(line);
    q.names = calloc((size_t)q.n_cols, sizeof *q.names);
    if (!q.names) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    for (int c = 0; c < q.n_cols; c++) {
        size_t k = strcspn(line, ",");
        q.names[c] = malloc(k + 1);
        if (!q.names[c]) {
            st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        memcpy(q.names[c], line, k);
        q.names[c][k] = '\0';
        line += k + (line[k] == ',');
    }
    /* Rows. */
    while (*p) {
        lineno++;
        line = p;
        p += strcspn(p, "\n");
        int last_unterminated = *p == '\0';
        if (*p)
            *p++ = '\0';
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (ll == 0)
            continue;
        int nf = count_fields(line);
        if (nf < q.n_cols && last_unterminated) {
            q.truncated = 1;
            break;
        }
        if (nf != q.n_cols) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s:%ld: expected %d columns, got %d", path,
                            lineno, q.n_cols, nf);
            goto fail;
        }
        if ((size_t)q.n_rows == cap_rows) {
            size_t ncap = cap_rows ? cap_rows * 2 : 1024;
            double *nv = realloc(q.v, ncap * (size_t)q.n_cols * sizeof *nv);
            if (!nv) {
                st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
                goto fail;
            }
            q.v = nv;
            cap_rows = ncap;
        }
        double *row = q.v + (size_t)q.n_rows * (size_t)q.n_cols;
        for (int c = 0; c < q.n_cols; c++) {
            char *end;
            size_t k = strcspn(line, ",");
            char saved = line[k];
            line[k] = '\0';
            row[c] = strtod(line, &end);
            if (end == line || *end != '\0') {
                st = st_err_set(err, ST_ERR_FORMAT, "%s:%ld: column '%s': '%.40s' is not a number",
                                path, lineno, q.names[c], line);
                goto fail;
            }
            line += k + (saved == ',');
        }
        q.n_rows++;
    }
    free(text);
    *t = q;
    return ST_OK;
fail:
    free(text);
    st_csv_free(&q);
    return st;
}

int st_csv_col(const struct st_csv *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->names[c], name) == 0)
            return c;
    return -1;
}

void st_csv_free(struct st_csv *t)
{
    if (!t)
        return;
    for (int c = 0; t->names && c < t->n_cols; c++)
        free(t->names[c]);
    free(t->names);
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* Splits one record starting at *p into fields (quotes honoured); advances *p
 * past its newline. Returns the field count, or -1 on NOMEM. */
static int split_record(char **p, char ***out)
{
    char **fields = NULL, *s = *p;
    int n = 0;
    for (;;) {
        size_t cap = 16, len = 0;
        char *f = malloc(cap);
        if (!f)
            goto nomem;
        int quoted = *s == '"';
        if (quoted)
            s++;
        for (;;) {
            char c = *s;
            if (c == '\0')
                break;
            if (quoted) {
                if (c == '"' && s[1] == '"') {
                    s += 2;
                } else if (c == '"') {
                    s++;
                    quoted = 0;
                    continue;
                } else {
                    s++;
                }
            } else if (c == ',' || c == '\n' || c == '\r') {
                break;
            } else {
                s++;
            }
            if (len + 2 > cap) {
                char *nf = realloc(f, cap *= 2);
                if (!nf) {
                    free(f);
                    goto nomem;
                }
                f = nf;
            }
            f[len++] = c;
        }
        f[len] = '\0';
        char **nfl = realloc(fields, (size_t)(n + 1) * sizeof *nfl);
        if (!nfl) {
            free(f);
            goto nomem;
        }
        fields = nfl;
        fields[n++] = f;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\r')
            s++;
        if (*s == '\n')
            s++;
        break;
    }
    *p = s;
    *out = fields;
    return n;
nomem:
    for (int i = 0; i < n; i++)
        free(fields[i]);
    free(fields);
    return -1;
}

enum st_status st_csv_read_text(const char *path, struct st_csv_text *t, struct st_err *err)
{
    struct st_csv_text q = { 0, 0, NULL, NULL };
    char *text = NULL, *p, **fields;
    size_t len = 0, cap = 0;
    long lineno = 1;
    enum st_status st = st_file_read(path, &text, &len, err);
    if (st != ST_OK)
        return st;
    p = text;
    q.n_cols = split_record(&p, &q.names);
    if (q.n_cols < 0) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (q.n_cols == 1 && !q.names[0][0]) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s:1: empty file or empty header", path);
        goto fail;
    }
    while (*p) {
        lineno++;
        if (*p == '\n') {
            p++;
            continue;
        }
        int n = split_record(&p, &fields);
        if (n < 0) {
            st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        if (n != q.n_cols) {
            for (int i = 0; i < n; i++)
                free(fields[i]);
            free(fields);
            st = st_err_set(err, ST_ERR_FORMAT, "%s:%ld: expected %d fields, got %d", path,
                            lineno, q.n_cols, n);
            goto fail;
        }
        if ((size_t)(q.n_rows + 1) * (size_t)q.n_cols > cap) {
            size_t ncap = cap ? cap * 2 : (size_t)q.n_cols * 64;
            char **nc = realloc(q.cells, ncap * sizeof *nc);
            if (!nc) {
                for (int i = 0; i < n; i++)
                    free(fields[i]);
                free(fields);
                st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
                goto fail;
            }
            q.cells = nc;
            cap = ncap;
        }
        memcpy(q.cells + (size_t)q.n_rows * (size_t)q.n_cols, fields,
               (size_t)n * sizeof *fields);
        free(fields);
        q.n_rows++;
    }
    free(text);
    *t = q;
    return ST_OK;
fail:
    free(text);
    st_csv_text_free(&q);
    return st;
}

int st_csv_text_col(const struct st_csv_text *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (!strcmp(t->names[c], name))
            return c;
    return -1;
}

void st_csv_text_free(struct st_csv_text *t)
{
    if (!t)
        return;
    for (int c = 0; t->names && c < t->n_cols; c++)
        free(t->names[c]);
    for (long i = 0; t->cells && i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->names);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
