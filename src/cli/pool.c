/* pool.c: fork-based worker pool. Processes rather than threads keep every
 * run's state (BLAS, RNG streams, files) apart, so a run's numbers are those
 * of `train` alone, whatever the number of workers. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include "../io/file.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>


void st_pool_remove_run(const char *dir)
{
    static const char *const files[] = { "config.ini",          "metrics.csv", ST_CHECKPOINT_FILE,
                                         "summary.json",        "teacher.safetensors",
                                         "student_init.safetensors", "student.safetensors",
                                         "x.npy",               "y.npy",
                                         "figure.png",          "figure.svg",
                                         "figure.pdf" };
    char p[4300];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        remove(p);
        st_remove_temps(dir, files[i]);
    }
    rmdir(dir);
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
        st = st_train_run(&cfg, NULL, NULL, &rec->res, &err);
        if (cfg.resume && st != ST_OK && st != ST_ERR_NUMERIC && st != ST_ERR_INTERRUPTED) {
            cfg.resume = 0; /* an unusable checkpoint: start the run over */
            cfg.force = 1;
            st = st_train_run(&cfg, NULL, NULL, &rec->res, &err);
        }
        if (!keep_dirs && st != ST_ERR_INTERRUPTED)
            st_pool_remove_run(cfg.out);
    }
    rec->status = (int)st;
    snprintf(rec->error, sizeof rec->error, "%s", st == ST_OK ? "" : err.msg);
}

static void worker(int fd, int w, int jobs, long n, int keep_dirs, st_pool_make_fn make,
                   void *user)
{
    struct st_pool_record *rec = malloc(sizeof *rec);
    if (!rec)
        _exit(1);
    for (long i = w; i < n && !st_train_stop; i += jobs) {
        st_pool_run_one(make, user, i, keep_dirs, rec);
        if (write_all(fd, rec, sizeof *rec) != 0)
            _exit(1);
    }
    free(rec);
}

int st_pool_run_cmd(const char *cmd, const char *out, long n, int jobs, int quiet,
                    st_pool_make_fn make, st_pool_done_fn done, void *user)
{
    struct st_err err = { "" };
    struct st_progress prog;
    char path[4300];
    if (st_mkdirs(out, &err) != ST_OK)
        return st_cli_fail(cmd, ST_ERR_IO, &err);
    st_progress_init(&prog, cmd, quiet);
    long got = st_pool_run(n, jobs, 0, make, done, user, &prog, NULL);
    st_progress_done(&prog);
    snprintf(path, sizeof path, "%s/runs", out);
    rmdir(path);
    if (got < n) {
        st_err_set(&err, ST_ERR_IO, "only %ld of %ld runs reported back (a worker died)", got, n);
        return st_cli_fail(cmd, ST_ERR_IO, &err);
    }
    return 0;
}

long st_pool_run(long n, int jobs, int keep_dirs, st_pool_make_fn make, st_pool_done_fn done,
                 void *user, struct st_progress *prog, long *n_stopped)
{
    long stopped = 0;
    int fds[ST_POOL_MAX_JOBS];
    pid_t pids[ST_POOL_MAX_JOBS];
    size_t fill[ST_POOL_MAX_JOBS] = { 0 };
    struct st_pool_record *recs = NULL;
    int n_workers = 0, forwarded = 0;
    long got = 0;

    if (n <= 0)
        return 0;
    if (jobs > n)
        jobs = (int)n;
    if (jobs > ST_POOL_MAX_JOBS)
        jobs = ST_POOL_MAX_JOBS;
    recs = malloc((size_t)jobs * sizeof *recs);
    if (!recs)
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
        if (st_train_stop && !forwarded) {
            /* Stopped (a kill of this process alone, or a Ctrl-C that the
             * workers got too): every worker checkpoints its run and quits. */
            for (int k = 0; k < n_workers; k++)
                kill(pids[k], (int)st_train_stop);
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
            ssize_t r = read(fds[k], (char *)&recs[k] + fill[k], sizeof recs[k] - fill[k]);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                close(fds[k]);
                fds[k] = -1;
                open_fds--;
                continue;
            }
            fill[k] += (size_t)r;
            if (fill[k] < sizeof recs[k])
                continue;
            fill[k] = 0;
            if (recs[k].status == ST_ERR_INTERRUPTED) {
                stopped++; /* checkpointed, not finished: no result yet */
                continue;
            }
            done(user, recs[k].index, (enum st_status)recs[k].status, &recs[k].res,
                 recs[k].status == ST_OK ? NULL : recs[k].error);
            got++;
            if (prog)
                st_progress_update(prog, got, n, NAN);
        }
    }
    for (int k = 0; k < n_workers; k++)
        waitpid(pids[k], NULL, 0);
    free(recs);
    if (n_stopped)
        *n_stopped = stopped;
    return got;
}
