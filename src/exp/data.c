/* data.c: see data.h. */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/bpe.h"
#include "../io/csv.h"
#include "../io/file.h"
#include "../io/fmt.h"
#include "../io/modelfile.h"

int st_data_is_csv(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".csv");
}

/* A whole cell as a number: no blanks, nothing left over. */
static int cell_number(const char *s, double *v)
{
    char *end;
    if (!*s || strchr(" \t\r\n", *s))
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0';
}

/* A CSV file of numbers into a [rows, cols] table; the first row is a header
 * when any of its cells is not a number. names gets it (NULL: no header). */
static enum st_status read_csv(const char *path, struct st_npy *a, struct st_csv_text *t,
                               int *header, struct st_err *err)
{
    enum st_status st = st_csv_read_text(path, t, err);
    double v;
    if (st != ST_OK)
        return st;
    /* A header has no number in it; a first row with some numbers is data,
     * and its other cells are reported below. */
    *header = 1;
    for (int c = 0; c < t->n_cols; c++)
        if (cell_number(t->names[c], &v))
            *header = 0;
    long rows = t->n_rows + (*header ? 0 : 1);
    memset(a, 0, sizeof *a);
    a->rows = rows;
    a->cols = t->n_cols;
    a->ndim = 2;
    strcpy(a->descr, "csv");
    a->data = malloc(((size_t)rows * (size_t)t->n_cols + 1) * sizeof *a->data);
    if (!a->data) {
        st_csv_text_free(t);
        return st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %ld x %d numbers", path, rows,
                          t->n_cols);
    }
    for (long r = 0; r < rows; r++)
        for (int c = 0; c < t->n_cols; c++) {
            const char *s = *header || r > 0 ? t->cells[(size_t)(r - !*header) * t->n_cols + c]
                                             : t->names[c];
            if (!cell_number(s, &v)) {
                st = st_err_set(err, ST_ERR_FORMAT, "%s: line %ld, column %d: '%.40s' is not a "
                                "number (a data file holds numbers only, after an optional "
                                "header row)", path, r + 1 + *header, c + 1, s);
                free(a->data);
                a->data = NULL;
                st_csv_text_free(t);
                return st;
            }
            if (fabs(v) > (double)FLT_MAX && isfinite(v)) {
                st = st_err_set(err, ST_ERR_FORMAT, "%s: line %ld, column %d: %s is beyond the "
                                "range of float32", path, r + 1 + *header, c + 1, s);
                free(a->data);
                a->data = NULL;
                st_csv_text_free(t);
                return st;
            }
            a->data[(size_t)r * t->n_cols + c] = (float)v;
            if (isfinite(v) && (double)(float)v != v && !a->rounded) {
                a->rounded = 1;
                a->rounded_at = r * t->n_cols + c;
                a->rounded_value = v;
            }
        }
    return ST_OK;
}

/* .npy or .csv, by the file name. */
enum st_status st_data_read_table(const char *path, struct st_npy *a, struct st_err *err)
{
    struct st_csv_text t;
    int header;
    enum st_status st;
    if (!st_data_is_csv(path))
        return st_npy_read(path, a, err);
    st = read_csv(path, a, &t, &header, err);
    if (st == ST_OK)
        st_csv_text_free(&t);
    return st;
}

static enum st_status check_inputs(const char *opt, const char *path, int in, struct st_npy *a,
                                   struct st_err *err)
{
    enum st_status st = ST_OK;
    if (a->cols != in || a->rows < 1)
        st = st_err_set(err, ST_ERR_FORMAT, "--%s %s: shape [%ld, %ld]; expected [N, %d] (N >= 1, "
                        "the input width)", opt, path, a->rows, a->cols, in);
    for (long i = 0; st == ST_OK && i < a->rows * a->cols; i++)
        if (!isfinite(a->data[i]))
            st = st_err_set(err, ST_ERR_FORMAT, "%s: row %ld, column %ld (counting from 0, after "
                            "any header) is %g; inputs must be finite", path, i / a->cols,
                            i % a->cols, (double)a->data[i]);
    if (st != ST_OK)
        st_npy_free(a);
    return st;
}

static enum st_status check_targets(const char *path, long n, long per, int out,
                                    enum st_loss_kind loss, struct st_npy *b, struct st_err *err)
{
    long cols = per * (loss == ST_LOSS_XENT ? 1 : out);
    enum st_status st = ST_OK;
    /* One column of whole numbers where mse wants several looks like labels. */
    int labels = loss == ST_LOSS_MSE && b->cols == 1 && out > 1 && !b->rounded;
    for (long i = 0; labels && i < b->rows; i++)
        labels = b->data[i] >= 0.0f && b->data[i] == floorf(b->data[i]);
    if (b->rows != n || b->cols != cols) {
        char what[160];
        if (per > 1 && loss == ST_LOSS_XENT)
            snprintf(what, sizeof what, "a class index, the target token, for each of the %ld "
                     "positions of an input row", per);
        else if (per > 1)
            snprintf(what, sizeof what, "each input row's %ld positions x %d outputs, row-major",
                     per, out);
        else
            snprintf(what, sizeof what, "%s", loss == ST_LOSS_XENT
                                                  ? "one class index per row of the inputs"
                                                  : "one row of targets per row of the inputs");
        st = st_err_set(err, ST_ERR_FORMAT, "%s: shape [%ld, %ld]; expected [%ld, %ld] (%s)%s",
                        path, b->rows, b->cols, n, cols, what,
                        labels ? "; its values are whole numbers, like class indices: for a "
                                 "classifier add --loss xent"
                               : "");
    }
    /* A label that float32 rounded to an integer (0.99999999 -> 1) is not one. */
    /* Where entry i is: its row, and its column when a row has several. */
    char at[64];
#define AT(i)                                                                                      \
    (b->cols > 1 ? snprintf(at, sizeof at, "row %ld, column %ld", (i) / b->cols, (i) % b->cols)    \
                 : snprintf(at, sizeof at, "row %ld", (i)),                                        \
     at)
    if (st == ST_OK && loss == ST_LOSS_XENT && b->rounded)
        st = st_err_set(err, ST_ERR_FORMAT,
                        "%s: %s is %.15g; expected a class index, an integer from 0 to %d", path,
                        AT(b->rounded_at), b->rounded_value, out - 1);
    for (long i = 0; st == ST_OK && i < b->rows * b->cols; i++) {
        float v = b->data[i];
        if (!isfinite(v))
            st = st_err_set(err, ST_ERR_FORMAT, "%s: %s is %g; targets must be finite", path, AT(i),
                            (double)v);
        else if (loss == ST_LOSS_XENT && (v != floorf(v) || v < 0.0f || v >= (float)out))
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: %s is %g; expected a class index, an integer from 0 to %d", path,
                            AT(i), (double)v, out - 1);
    }
#undef AT
    if (st != ST_OK)
        st_npy_free(b);
    return st;
}

enum st_status st_data_read_inputs(const char *opt, const char *path, int in, struct st_npy *a,
                                   struct st_err *err)
{
    enum st_status st = st_data_read_table(path, a, err);
    return st != ST_OK ? st : check_inputs(opt, path, in, a, err);
}

enum st_status st_data_read_targets(const char *path, long n, long per, int out,
                                    enum st_loss_kind loss, struct st_npy *b, struct st_err *err)
{
    enum st_status st = st_data_read_table(path, b, err);
    return st != ST_OK ? st : check_targets(path, n, per, out, loss, b, err);
}

/* The columns of a table (and, with a header, their names) and the column
 * ycol names: a 0-based index or a header name; -1 if neither. */
static int find_col(const char *ycol, const struct st_csv_text *t, int header, long cols)
{
    char *end;
    long idx = strtol(ycol, &end, 10);
    if (*ycol && *end == '\0' && ycol[0] != '-' && ycol[0] != '+' && idx < cols)
        return (int)idx;
    for (int c = 0; header && c < t->n_cols; c++)
        if (!strcmp(t->names[c], ycol))
            return c;
    return -1;
}

/* A run's set of --x rows must fit the model: a usage error, as for any
 * option that does not fit, rather than a malformed file. */
static enum st_status check_rows(const char *opt, const char *path, long rows, long cols, int in,
                                 int split, struct st_err *err)
{
    if (cols != in)
        return st_err_set(err, ST_ERR_ARG,
                          "--%s %s: %ld %scolumns, but the input width (--widths) is %d", opt,
                          path, cols, split ? "input " : "", in);
    if (rows < 1)
        return st_err_set(err, ST_ERR_ARG, "--%s %s: no rows", opt, path);
    return ST_OK;
}

/* Inputs and targets from one CSV file; with usage, a table that does not
 * fit the model is a usage error (check_rows). */
static enum st_status read_split(const char *opt, const char *path, const char *ycol, int in,
                                 int out, enum st_loss_kind loss, int usage, struct st_npy *a,
                                 struct st_npy *b, struct st_err *err)
{
    struct st_csv_text t;
    struct st_npy all;
    int header, col;
    enum st_status st;

    if (!st_data_is_csv(path))
        return st_err_set(err, ST_ERR_ARG, "--y-col %s: --%s %s is not a .csv file (a .npy file "
                          "holds inputs only; give the targets with --y)", ycol, opt, path);
    if ((st = read_csv(path, &all, &t, &header, err)) != ST_OK)
        return st;
    col = find_col(ycol, &t, header, all.cols);
    /* The label column's first value float32 rounds, from the cells' text. */
    long label_rounded = -1;
    double label_value = 0.0;
    for (long r = 0; col >= 0 && label_rounded < 0 && r < all.rows; r++) {
        double v;
        const char *s = header || r > 0 ? t.cells[(size_t)(r - !header) * t.n_cols + col]
                                        : t.names[col];
        if (cell_number(s, &v) && isfinite(v) && (double)(float)v != v) {
            label_rounded = r;
            label_value = v;
        }
    }
    st_csv_text_free(&t);
    if (col < 0) {
        long cols = all.cols;
        st_npy_free(&all);
        return st_err_set(err, ST_ERR_ARG, "--y-col %s: %s has %ld columns%s; expected a column "
                          "index from 0 to %ld%s", ycol, path, cols,
                          header ? "" : " and no header row", cols - 1,
                          header ? " or a name from its header" : "");
    }
    if (usage && (st = check_rows(opt, path, all.rows, all.cols - 1, in, 1, err)) != ST_OK) {
        st_npy_free(&all);
        return st;
    }
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    a->rows = b->rows = all.rows;
    a->cols = all.cols - 1;
    b->cols = 1;
    a->ndim = b->ndim = 2;
    a->data = malloc(((size_t)all.rows * (size_t)a->cols + 1) * sizeof *a->data);
    b->data = malloc(((size_t)all.rows + 1) * sizeof *b->data);
    if (!a->data || !b->data) {
        st_npy_free(a);
        st_npy_free(b);
        st_npy_free(&all);
        return st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate the data", path);
    }
    for (long r = 0; r < all.rows; r++) {
        float *dst = a->data + (size_t)r * (size_t)a->cols;
        for (int c = 0; c < all.cols; c++) {
            float v = all.data[(size_t)r * (size_t)all.cols + (size_t)c];
            if (c == col)
                b->data[r] = v;
            else
                *dst++ = v;
        }
    }
    st_npy_free(&all);
    b->rounded = label_rounded >= 0;
    b->rounded_at = label_rounded;
    b->rounded_value = label_value;
    if ((st = check_inputs(opt, path, in, a, err)) != ST_OK) {
        st_npy_free(b);
        return st;
    }
    if ((st = check_targets(path, a->rows, 1, out, loss, b, err)) != ST_OK) {
        st_npy_free(a);
        return st;
    }
    return ST_OK;
}

enum st_status st_data_read_split(const char *opt, const char *path, const char *ycol, int in,
                                  int out, enum st_loss_kind loss, struct st_npy *a,
                                  struct st_npy *b, struct st_err *err)
{
    return read_split(opt, path, ycol, in, out, loss, 0, a, b, err);
}

enum st_status st_data_read_train(const char *xpath, const char *ypath, const char *ycol, int in,
                                  long per, int out, enum st_loss_kind loss, struct st_npy *a,
                                  struct st_npy *b, struct st_err *err)
{
    enum st_status st;
    if (ycol && per > 1)
        return st_err_set(err, ST_ERR_ARG, "--y-col %s: this model has %ld target positions per "
                          "input row, more than one column holds; give the targets as --y",
                          ycol, per);
    if (ycol && !ypath)
        return read_split("x", xpath, ycol, in, out, loss, 1, a, b, err);
    if ((st = st_data_read_table(xpath, a, err)) != ST_OK)
        return st;
    if ((st = check_rows("x", xpath, a->rows, a->cols, in, 0, err)) != ST_OK ||
        (st = check_inputs("x", xpath, in, a, err)) != ST_OK) {
        st_npy_free(a);
        return st;
    }
    if (ypath && (st = st_data_read_targets(ypath, a->rows, per, out, loss, b, err)) != ST_OK)
        st_npy_free(a);
    return st;
}

enum st_status st_stand_fit(struct st_stand *s, const float *x, long rows, int n,
                            struct st_err *err)
{
    memset(s, 0, sizeof *s);
    s->mean = malloc((size_t)n * sizeof *s->mean);
    s->std = malloc((size_t)n * sizeof *s->std);
    if (!s->mean || !s->std) {
        st_stand_free(s);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the input statistics");
    }
    s->n = n;
    for (int j = 0; j < n; j++) {
        double m = 0.0, v = 0.0;
        for (long r = 0; r < rows; r++)
            m += (double)x[(size_t)r * (size_t)n + (size_t)j];
        m /= (double)rows;
        for (long r = 0; r < rows; r++) {
            double d = (double)x[(size_t)r * (size_t)n + (size_t)j] - m;
            v += d * d;
        }
        double sd = sqrt(v / (double)rows);
        s->mean[j] = (float)m;
        s->std[j] = sd > 0.0 && (float)sd > 0.0f ? (float)sd : 1.0f;
    }
    return ST_OK;
}

void st_stand_apply(const struct st_stand *s, float *x, long rows)
{
    for (long r = 0; r < rows; r++)
        for (int j = 0; j < s->n; j++) {
            float *v = x + (size_t)r * (size_t)s->n + (size_t)j;
            *v = (*v - s->mean[j]) / s->std[j];
        }
}

int st_stand_format(const struct st_stand *s, char *mean, char *std, size_t size)
{
    size_t lm = 0, ls = 0;
    for (int j = 0; j < s->n; j++) {
        char a[ST_FMT_G9_MAX], b[ST_FMT_G9_MAX];
        size_t na = (size_t)st_fmt_g9(a, (double)s->mean[j]);
        size_t nb = (size_t)st_fmt_g9(b, (double)s->std[j]);
        if (lm + na + 2 > size || ls + nb + 2 > size)
            return -1;
        if (j) {
            mean[lm++] = ',';
            std[ls++] = ',';
        }
        memcpy(mean + lm, a, na);
        memcpy(std + ls, b, nb);
        lm += na;
        ls += nb;
    }
    mean[lm] = std[ls] = '\0';
    return 0;
}

/* n comma-separated numbers from text into v. */
static int parse_list(const char *text, float *v, int n)
{
    const char *p = text;
    for (int j = 0; j < n; j++) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d))
            return -1;
        v[j] = (float)d;
        p = end;
        if (j < n - 1 && *p++ != ',')
            return -1;
    }
    return *p == '\0' ? 0 : -1;
}

enum st_status st_stand_from_meta(struct st_stand *s, const struct st_meta *meta,
                                  const char *model, int n, struct st_err *err)
{
    enum st_status st = ST_OK;
    memset(s, 0, sizeof *s);
    const char *m = st_meta_get(meta, "input_mean"), *d = st_meta_get(meta, "input_std");
    if (m || d) {
        s->mean = malloc((size_t)n * sizeof *s->mean);
        s->std = malloc((size_t)n * sizeof *s->std);
        if (!s->mean || !s->std)
            st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate the input statistics");
        else if (!m || !d || parse_list(m, s->mean, n) || parse_list(d, s->std, n))
            st = st_err_set(err, ST_ERR_FORMAT, "%s: metadata input_mean/input_std: expected "
                            "two lists of %d numbers (the model's inputs)", model, n);
        for (int j = 0; st == ST_OK && j < n; j++)
            if (!(s->std[j] > 0.0f))
                st = st_err_set(err, ST_ERR_FORMAT, "%s: metadata input_std: entry %d is %g; "
                                "expected a positive number", model, j, (double)s->std[j]);
        if (st == ST_OK)
            s->n = n;
        else
            st_stand_free(s);
    }
    return st;
}

void st_stand_free(struct st_stand *s)
{
    free(s->mean);
    free(s->std);
    memset(s, 0, sizeof *s);
}

/* A text's tokens under a tokenizer. */
static enum st_status read_bpe(const char *path, const struct st_bpe *b, const char *opt,
                               struct st_tokens *t, struct st_err *err)
{
    char *text = NULL;
    size_t len = 0;
    uint32_t *ids = NULL;
    long n = 0;
    enum st_status st = st_file_read(path, &text, &len, err);
    if (st == ST_OK && (st = st_bpe_encode(b, text, len, &ids, &n, err)) != ST_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        st_err_set(err, st, "--%s %s: %s", opt, path, why);
    }
    if (st == ST_OK) {
        t->tok = ids;
        t->n = n;
        t->bytes = (long)len;
    }
    free(text);
    return st;
}

enum st_status st_data_read_stream(const char *path, int as_text, const char *opt, long V,
                                   const struct st_bpe *tokenizer, struct st_tokens *t,
                                   struct st_err *err)
{
    enum st_status st = as_text && tokenizer ? read_bpe(path, tokenizer, opt, t, err)
                                             : st_tokens_read(path, as_text, t, err);
    for (long i = 0; st == ST_OK && i < t->n; i++)
        if (t->tok[i] >= (uint32_t)V) {
            st = st_err_set(err, ST_ERR_FORMAT, "--%s %s: %s %ld is %u, past the model's "
                            "vocabulary of %ld (ids 0..%ld)%s", opt, path,
                            as_text && !tokenizer ? "byte" : "token", i, t->tok[i], V, V - 1,
                            as_text && !tokenizer ? "; a text's bytes need --vocab 256" : "");
            st_tokens_free(t);
        }
    return st;
}

enum st_status st_data_windows(const uint32_t *tok, long n, long T, long max, const char *opt,
                               const char *path, float **x, float **y, long *m_out,
                               struct st_err *err)
{
    if (n < T + 1)
        return st_err_set(err, ST_ERR_ARG, "--%s %s: %ld tokens; a window needs --context + 1 "
                          "= %ld", opt, path, n, T + 1);
    long fit = (n - 1) / T, m = fit < max ? fit : max, last = n - T - 1; /* last start */
    *x = malloc((size_t)m * (size_t)T * sizeof **x);
    *y = malloc((size_t)m * (size_t)T * sizeof **y);
    if (!*x || !*y)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the windows of %s", path);
    for (long k = 0; k < m; k++) {
        long at = fit <= max ? k * T : (long)((long long)k * last / (m > 1 ? m - 1 : 1));
        for (long t = 0; t < T; t++) {
            (*x)[k * T + t] = (float)tok[at + t];
            (*y)[k * T + t] = (float)tok[at + t + 1];
        }
    }
    *m_out = m;
    return ST_OK;
}
