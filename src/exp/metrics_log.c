/* metrics_log.c: see metrics_log.h. A row is formatted in one buffer sized
 * when the file is opened (st_fmt_g9: printf's digits, a fraction of its
 * time) and written at once. */
#define _POSIX_C_SOURCE 200809L
#include "metrics_log.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/file.h"
#include "../io/fmt.h"

/* Rows are flushed to the file at least this often (seconds of wall time). */
#define FLUSH_SECONDS 2.0

static void write_header(struct st_metrics_log *m, const struct st_params *p)
{
    static const char *const groups[] = { "d_init", "d_teacher", "changed", "zero" };
    FILE *f = m->f;
    fprintf(f, "step,%s%s,penalty,loss", m->loss, m->xent ? ",accuracy" : "");
    if (m->val)
        fprintf(f, ",val_%s%s", m->loss, m->xent ? ",val_accuracy" : "");
    for (int i = 0; i < m->n_eval; i++) {
        fprintf(f, ",%s%s", m->eval_prefix[i], m->loss);
        if (m->xent)
            fprintf(f, ",%saccuracy", m->eval_prefix[i]);
    }
    for (int g = 0; g < 4; g++)
        for (int t = 0; t < p->n_views && (g != 1 || m->teacher); t++)
            fprintf(f, ",%s_%s", groups[g], p->v[t].name);
    for (int t = 0; t < p->n_views; t++)
        if (m->matrix[t])
            fprintf(f, ",nuc_%s", p->v[t].name);
    for (int t = 0; t < p->n_views; t++)
        if (m->matrix[t])
            fprintf(f, ",rank_%s", p->v[t].name);
    fputc('\n', f);
}

enum st_status st_metrics_log_open(struct st_metrics_log *m, const char *path,
                                   const struct st_params *layout, const struct st_train_cfg *cfg,
                                   int val, int teacher, long keep, struct st_err *err)
{
    struct st_metrics_log q;
    struct stat sb;
    int n = layout->n_views;
    memset(&q, 0, sizeof q);
    q.xent = cfg->loss == ST_LOSS_XENT;
    q.loss = st_loss_name(cfg->loss);
    q.val = val;
    q.n_eval = st_eval_count(cfg);
    for (int i = 0; i < q.n_eval; i++)
        st_eval_prefix(cfg, i, q.eval_prefix[i], sizeof q.eval_prefix[i]);
    q.teacher = teacher;
    q.n_tensors = n;
    /* step, 4 loss terms, 2 per set, 4 per tensor, 2 per matrix */
    size_t fields = 5 + 2 * (1 + ST_EVAL_MAX) + 6 * (size_t)n;
    q.line_cap = fields * (ST_FMT_G9_MAX + 1) + 2;
    q.line = malloc(q.line_cap);
    q.matrix = malloc((size_t)n + 1);
    q.stdio_buf = malloc(1 << 20);
    if (!q.line || !q.matrix) {
        st_metrics_log_close(&q);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the metrics row");
    }
    for (int t = 0; t < n; t++)
        q.matrix[t] = layout->v[t].ndim == 2;
    if (keep >= 0) {
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            st_metrics_log_close(&q);
            return st_err_set(err, ST_ERR_FORMAT,
                              "--resume: %s %s; the checkpoint needs its first %ld bytes, so the "
                              "run cannot go on",
                              path, stat(path, &sb) != 0 ? "is missing" : "is not a regular file",
                              keep);
        }
        if (sb.st_size < keep) {
            st_metrics_log_close(&q);
            return st_err_set(err, ST_ERR_FORMAT,
                              "--resume: %s is shorter than at the checkpoint (%ld bytes); it lost "
                              "rows, so the run cannot go on",
                              path, keep);
        }
        if (truncate(path, keep) != 0 || !(q.f = fopen(path, "a"))) {
            st_metrics_log_close(&q);
            return st_err_set(err, ST_ERR_IO, "cannot reopen %s: %s", path, strerror(errno));
        }
    } else if (!(q.f = fopen(path, "w"))) {
        st_metrics_log_close(&q);
        return st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    if (q.stdio_buf)
        setvbuf(q.f, q.stdio_buf, _IOFBF, 1 << 20);
    if (keep < 0)
        write_header(&q, layout);
    q.flushed = st_seconds_now();
    *m = q;
    return ST_OK;
}

/* One field: a comma, then the number as "%.9g" would print it. */
static char *put_g9(char *p, double v)
{
    *p++ = ',';
    return p + st_fmt_g9(p, v);
}

static char *put_long(char *p, long v)
{
    *p++ = ',';
    return p + st_fmt_long(p, v);
}

static char *put_nan(char *p)
{
    memcpy(p, ",nan", 4);
    return p + 4;
}

void st_metrics_log_row(struct st_metrics_log *m, const struct st_metrics_row *r)
{
    const struct st_observables *o = r->obs;
    int ev_on[2 + 2 * ST_EVAL_MAX] = { m->val, m->val && m->xent };
    for (int i = 0; i < m->n_eval; i++) {
        ev_on[2 + 2 * i] = 1;
        ev_on[3 + 2 * i] = m->xent;
    }
    char *p = m->line;
    int n = m->n_tensors;

    p += st_fmt_long(p, r->step);
    p = put_g9(p, r->loss_data);
    if (m->xent)
        p = put_g9(p, r->accuracy);
    p = put_g9(p, r->penalty);
    p = put_g9(p, r->loss);
    /* A set's NaN (a diverged run) keeps its column. */
    for (int i = 0; i < 2 + 2 * m->n_eval; i++)
        if (ev_on[i])
            p = put_g9(p, r->ev[i]);
    for (int t = 0; t < n; t++)
        p = put_g9(p, o->d_init[t]);
    for (int t = 0; m->teacher && t < n; t++)
        p = put_g9(p, o->d_teacher[t]);
    for (int t = 0; t < n; t++)
        p = put_g9(p, o->changed[t]);
    for (int t = 0; t < n; t++)
        p = put_long(p, (long)o->zero[t]);
    for (int t = 0; t < n; t++)
        if (m->matrix[t])
            p = r->nuc ? put_g9(p, r->nuc[t]) : put_nan(p);
    for (int t = 0; t < n; t++)
        if (m->matrix[t])
            p = r->rank ? put_long(p, r->rank[t]) : put_nan(p);
    *p++ = '\n';
    assert((size_t)(p - m->line) <= m->line_cap);
    fwrite(m->line, 1, (size_t)(p - m->line), m->f);
    double now = st_seconds_now();
    if (now - m->flushed >= FLUSH_SECONDS) {
        fflush(m->f);
        m->flushed = now;
    }
}

enum st_status st_metrics_log_sync(struct st_metrics_log *m, long *bytes)
{
    if (fflush(m->f) != 0 || ferror(m->f) || fsync(fileno(m->f)) != 0)
        return ST_ERR_IO;
    *bytes = ftell(m->f);
    return *bytes < 0 ? ST_ERR_IO : ST_OK;
}

void st_metrics_log_close(struct st_metrics_log *m)
{
    if (!m)
        return;
    if (m->f)
        fclose(m->f);
    free(m->stdio_buf);
    free(m->line);
    free(m->matrix);
    memset(m, 0, sizeof *m);
}
