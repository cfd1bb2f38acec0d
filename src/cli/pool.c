/* pool.c: fork-based worker pool. Processes rather than threads keep every
 * run's state (BLAS, RNG streams, files) apart, so a run's numbers are those
 * of `train` alone, whatever the number of workers. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include "../core/select.h"
#include "../exp/rundir.h"
#include "../io/file.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>


/* The record's fixed fields, as they travel ahead of the result. */
struct head {
    long index;
    int status;
    char error[512];
};

void *st_pool_record_pack(const struct st_pool_record *rec, size_t *len)
{
    struct head h;
    size_t rlen;
    memset(&h, 0, sizeof h);
    h.index = rec->index;
    h.status = rec->status;
    memcpy(h.error, rec->error, sizeof h.error);
    void *res = st_result_pack(&rec->res, &rlen);
    unsigned char *buf = res ? malloc(sizeof h + rlen) : NULL;
    if (buf) {
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, res, rlen);
        *len = sizeof h + rlen;
    }
    free(res);
    return buf;
}

int st_pool_record_unpack(struct st_pool_record *rec, const void *bytes, size_t len)
{
    struct head h;
    memset(rec, 0, sizeof *rec);
    if (len < sizeof h)
        return -1;
    memcpy(&h, bytes, sizeof h);
    if (st_result_unpack(&rec->res, (const unsigned char *)bytes + sizeof h, len - sizeof h,
                         NULL) != ST_OK)
        return -1;
    rec->index = h.index;
    rec->status = h.status;
    memcpy(rec->error, h.error, sizeof rec->error);
    rec->error[sizeof rec->error - 1] = '\0';
    return 0;
}

void st_pool_record_free(struct st_pool_record *rec)
{
    if (rec)
        st_result_free(&rec->res);
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

enum st_status st_pool_task_cfg(struct st_train_cfg *cfg, const char *out, long id,
                                struct st_err *err)
{
    if (snprintf(cfg->out, sizeof cfg->out, "%s/runs/%ld", out, id) >= (int)sizeof cfg->out)
        return st_err_set(err, ST_ERR_ARG, "--out: path too long");
    return st_train_cfg_resolve(cfg, err);
}

void st_pool_run_one(st_pool_make_fn make, void *user, long i, int keep_dirs,
                     struct st_pool_record *rec)
{
    struct st_train_cfg cfg;
    struct st_err err = { "" };
    memset(rec, 0, sizeof *rec);
    rec->index = i;
    enum st_status st = make(user, i, &cfg, &err);
    if (st == ST_OK) {
        char ck[4300];
        cfg.quiet = 1;
        cfg.plot = 0;
        cfg.threads = 1;
        /* A run a stopped sweep checkpointed goes on from there; any other
         * leftover is replaced. */
        snprintf(ck, sizeof ck, "%s/%s", cfg.out, ST_CHECKPOINT_FILE);
        cfg.resume = access(ck, F_OK) == 0;
        cfg.force = !cfg.resume;
        struct st_train_hooks hooks = { NULL, NULL, &st_cli_stop, NULL, NULL, NULL };
        st = st_train_run(&cfg, &hooks, &rec->res, &err);
        if (cfg.resume && st != ST_OK && st != ST_ERR_NUMERIC && st != ST_ERR_INTERRUPTED) {
            cfg.resume = 0; /* an unusable checkpoint: start the run over */
            cfg.force = 1;
            st_result_free(&rec->res);
            st = st_train_run(&cfg, &hooks, &rec->res, &err);
        }
        if (!keep_dirs && st != ST_ERR_INTERRUPTED)
            st_rundir_remove(cfg.out);
    }
    rec->status = (int)st;
    snprintf(rec->error, sizeof rec->error, "%s", st == ST_OK ? "" : err.msg);
}

static void worker(int fd, int w, int jobs, long n, int keep_dirs, st_pool_make_fn make,
                   void *user)
{
    for (long i = w; i < n && !st_cli_stop; i += jobs) {
        struct st_pool_record rec;
        size_t len;
        st_pool_run_one(make, user, i, keep_dirs, &rec);
        void *bytes = st_pool_record_pack(&rec, &len);
        uint64_t n_bytes = len;
        if (!bytes || write_all(fd, &n_bytes, sizeof n_bytes) != 0 ||
            write_all(fd, bytes, len) != 0)
            _exit(1);
        free(bytes);
        st_pool_record_free(&rec);
    }
}

void st_pool_result_units(enum st_status st, const struct st_train_result *res,
                          const char *const *names, int n, unsigned *named, unsigned *truth)
{
    *named = *truth = 0;
    for (int k = 0; k < res->n_tensors; k++)
        for (int u = 0; u < n; u++)
            if (!strcmp(res->t[k].unit, names[u])) {
                *named |= res->t[k].verdict ? 1u << u : 0u;
                *truth |= res->t[k].truth ? 1u << u : 0u;
            }
    if (st != ST_OK)
        *named = st == ST_ERR_NUMERIC ? ST_PICK_DIVERGED : ST_PICK_FAILED;
}

const char *st_pool_pick_text(const char *const *names, int n, unsigned pick, char *buf,
                              size_t size)
{
    if (pick == ST_PICK_DIVERGED || pick == ST_PICK_FAILED)
        return pick == ST_PICK_FAILED ? "failed" : "diverged";
    if (st_select_join(names, n, pick, 1, buf, size, NULL) != ST_OK && size > 4)
        memcpy(buf + size - 4, "...", 4);
    return buf;
}

const char *st_pool_pick_label(const char *const *names, int n, unsigned pick, char *buf,
                               size_t size)
{
    const char *text = st_pool_pick_text(names, n, pick, buf, size);
    if (text != buf)
        snprintf(buf, size, "(%s)", text);
    return buf;
}

unsigned st_pool_most_frequent(const unsigned *picks, int n, int *count)
{
    unsigned common = picks[0];
    *count = 0;
    for (int s = 0; s < n; s++) {
        int k = 0;
        for (int r = 0; r < n; r++)
            k += picks[r] == picks[s];
        if (k > *count) {
            *count = k;
            common = picks[s];
        }
    }
    return common;
}

/* st_pool_run_cmd's count of failed runs, around the command's callbacks. */
struct cmd_runs {
    st_pool_make_fn make;
    st_pool_done_fn done;
    void *user;
    long failed, first;
    char error[400];
};

static enum st_status cmd_make(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    struct cmd_runs *c = user;
    return c->make(c->user, i, cfg, err);
}

static void cmd_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct cmd_runs *c = user;
    if (st != ST_OK && st != ST_ERR_NUMERIC && c->failed++ == 0) {
        c->first = i;
        snprintf(c->error, sizeof c->error, "%s", error && *error ? error : st_status_str(st));
    }
    c->done(c->user, i, st, res, error);
}

int st_pool_run_cmd(const char *cmd, const char *out, long n, int jobs, int quiet,
                    st_pool_make_fn make, st_pool_done_fn done, void *user, long *failed)
{
    struct st_err err = { "" };
    struct st_progress prog;
    struct cmd_runs runs = { make, done, user, 0, -1, "" };
    char path[4300];
    *failed = 0;
    if (st_mkdirs(out, &err) != ST_OK)
        return st_cli_fail(cmd, ST_ERR_IO, &err);
    st_progress_init(&prog, cmd, quiet);
    long got = st_pool_run(n, jobs, 0, cmd_make, cmd_done, &runs, &prog, NULL);
    st_progress_done(&prog);
    snprintf(path, sizeof path, "%s/runs", out);
    rmdir(path);
    if (got < n) {
        st_err_set(&err, ST_ERR_IO, "only %ld of %ld runs reported back (a worker died)", got, n);
        return st_cli_fail(cmd, ST_ERR_IO, &err);
    }
    if (runs.failed > 0)
        fprintf(stderr, "sparsetune %s: %ld of %ld runs failed; run %ld: %s\n", cmd,
                runs.failed, n, runs.first, runs.error);
    *failed = runs.failed;
    return 0;
}

/* A record coming through a worker's pipe: its 8-byte length, then its bytes. */
struct inbox {
    unsigned char len_bytes[8];
    uint64_t len;
    size_t fill;          /* bytes of the length, then of the record, read so far */
    int have_len;
    unsigned char *buf;   /* [len] */
};

/* Reads what the pipe holds; 1 when a record is complete in b->buf, 0 when
 * more is needed, -1 at the end of the pipe or on an error. */
static int read_some(struct inbox *b, int fd)
{
    ssize_t r;
    if (!b->have_len) {
        r = read(fd, b->len_bytes + b->fill, sizeof b->len_bytes - b->fill);
        if (r < 0 && errno == EINTR)
            return 0;
        if (r <= 0)
            return -1;
        b->fill += (size_t)r;
        if (b->fill < sizeof b->len_bytes)
            return 0;
        memcpy(&b->len, b->len_bytes, sizeof b->len);
        b->buf = malloc(b->len ? (size_t)b->len : 1);
        if (!b->buf)
            return -1;
        b->have_len = 1;
        b->fill = 0;
        if (b->len > 0)
            return 0;
    } else {
        r = read(fd, b->buf + b->fill, (size_t)b->len - b->fill);
        if (r < 0 && errno == EINTR)
            return 0;
        if (r <= 0)
            return -1;
        b->fill += (size_t)r;
    }
    return b->fill == b->len ? 1 : 0;
}

static void inbox_reset(struct inbox *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

long st_pool_run(long n, int jobs, int keep_dirs, st_pool_make_fn make, st_pool_done_fn done,
                 void *user, struct st_progress *prog, long *n_stopped)
{
    long stopped = 0;
    int fds[ST_POOL_MAX_JOBS];
    pid_t pids[ST_POOL_MAX_JOBS];
    struct inbox *in = NULL;
    int n_workers = 0, forwarded = 0;
    long got = 0;

    if (n <= 0)
        return 0;
    if (jobs > n)
        jobs = (int)n;
    if (jobs > ST_POOL_MAX_JOBS)
        jobs = ST_POOL_MAX_JOBS;
    in = calloc((size_t)jobs, sizeof *in);
    if (!in)
        return 0;
    fflush(stdout);
    fflush(stderr);
    for (int w = 0; w < jobs; w++) {
        int p[2];
        if (pipe(p) != 0)
            break;
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]);
            close(p[1]);
            break;
        }
        if (pid == 0) {
            /* A worker must not outlive a killed sweep: it would delete the
             * run directories of the next attempt. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == 1)
                _exit(1);
            close(p[0]);
            for (int k = 0; k < n_workers; k++)
                close(fds[k]);
            free(in); /* the parent's */
            worker(p[1], w, jobs, n, keep_dirs, make, user);
            close(p[1]);
            _exit(0);
        }
        close(p[1]);
        fds[n_workers] = p[0];
        pids[n_workers++] = pid;
    }
    /* A worker that could not start leaves its tasks undone; the caller sees
     * fewer results than tasks. */
    int open_fds = n_workers;
    while (open_fds > 0) {
        struct pollfd pfd[ST_POOL_MAX_JOBS];
        for (int k = 0; k < n_workers; k++) {
            pfd[k].fd = fds[k];
            pfd[k].events = POLLIN;
        }
        int ready = poll(pfd, (nfds_t)n_workers, 200); /* a stop is noticed within 0.2 s */
        if (st_cli_stop && !forwarded) {
            /* Stopped (a kill of this process alone, or a Ctrl-C that the
             * workers got too): every worker checkpoints its run and quits. */
            for (int k = 0; k < n_workers; k++)
                kill(pids[k], (int)st_cli_stop);
            forwarded = 1;
        }
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < n_workers; k++) {
            if (fds[k] < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int r = read_some(&in[k], fds[k]);
            if (r < 0) {
                close(fds[k]);
                fds[k] = -1;
                open_fds--;
                continue;
            }
            if (r == 0)
                continue;
            struct st_pool_record rec;
            int ok = st_pool_record_unpack(&rec, in[k].buf, (size_t)in[k].len) == 0;
            inbox_reset(&in[k]);
            if (!ok)
                continue; /* a record of another form: its task counts as not reported */
            if (rec.status == ST_ERR_INTERRUPTED) {
                stopped++; /* checkpointed, not finished: no result yet */
            } else {
                done(user, rec.index, (enum st_status)rec.status, &rec.res,
                     rec.status == ST_OK ? NULL : rec.error);
                got++;
                if (prog)
                    st_progress_update(prog, got, n, NAN);
            }
            st_pool_record_free(&rec);
        }
    }
    for (int k = 0; k < n_workers; k++) {
        waitpid(pids[k], NULL, 0);
        inbox_reset(&in[k]);
    }
    free(in);
    if (n_stopped)
        *n_stopped = stopped;
    return got;
}
