/* csv.h: numeric CSV tables with a header row (metrics.csv and the like).
 * Every cell after the header must be a finite or non-finite number
 * ("nan", "inf" are accepted, since a diverged run logs them). */
#ifndef ST_CSV_H
#define ST_CSV_H

#include <stddef.h>

#include "../core/status.h"

struct st_csv {
    int n_cols;
    long n_rows;
    char **names; /* [n_cols] column names */
    double *v;    /* [n_rows, n_cols] row-major */
    int truncated; /* the last line had no newline and too few cells: dropped */
};

/* Reads path. A last line without its newline and with too few cells (a file
 * still being written, or cut by a kill) is dropped and t->truncated set.
 * Errors: ST_ERR_IO (cannot open or read), ST_ERR_FORMAT with "path:LINE: ..."
 * (empty file, ragged row, a cell that is not a number), ST_ERR_NOMEM. Free
 * with st_csv_free(). */
enum st_status st_csv_read(const char *path, struct st_csv *t, struct st_err *err);

/* Index of the column called name, or -1. */
int st_csv_col(const struct st_csv *t, const char *name);

/* Value at (row, col). */
static inline double st_csv_at(const struct st_csv *t, long row, int col)
{
    return t->v[(size_t)row * (size_t)t->n_cols + (size_t)col];
}

void st_csv_free(struct st_csv *t);

/* A CSV table of strings (RFC 4180 quoting), for files with text columns
 * such as a sweep's summary.csv. */
struct st_csv_text {
    int n_cols;
    long n_rows;
    char **names; /* [n_cols] */
    char **cells; /* [n_rows * n_cols], each NUL-terminated */
};

/* Reads path; rows with another number of fields than the header are an
 * error naming the line. Errors: ST_ERR_IO, ST_ERR_FORMAT, ST_ERR_NOMEM.
 * Free with st_csv_text_free(). */
enum st_status st_csv_read_text(const char *path, struct st_csv_text *t, struct st_err *err);
int st_csv_text_col(const struct st_csv_text *t, const char *name);
void st_csv_text_free(struct st_csv_text *t);

#endif
