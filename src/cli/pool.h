/* pool.h: runs many trainings on forked worker processes. Worker w takes
 * tasks w, w + jobs, ...; each task's configuration is made in the worker by
 * a callback, the run is single-threaded, and its result travels back to the
 * parent through a pipe as one record (st_pool_record_pack: its length, then
 * its bytes), handed to `done` in the parent as soon as it arrives. */
#ifndef ST_POOL_H
#define ST_POOL_H

#include "../exp/train.h"
#include "cli.h"

#define ST_POOL_MAX_JOBS 256

/* One finished task, as it travels from a worker (process or MPI rank). */
struct st_pool_record {
    long index;
    int status;
    char error[512];
    struct st_train_result res; /* owned: st_pool_record_free */
};

/* rec as bytes (malloc'd, *len of them): the fixed fields, then the result
 * (result.h); NULL when out of memory. */
void *st_pool_record_pack(const struct st_pool_record *rec, size_t *len);

/* rec from len bytes of st_pool_record_pack; -1 for bytes of another form. */
int st_pool_record_unpack(struct st_pool_record *rec, const void *bytes, size_t len);

void st_pool_record_free(struct st_pool_record *rec);

/* Fills cfg (resolved, with its out directory) for task i; runs in a worker. */
typedef enum st_status (*st_pool_make_fn)(void *user, long i, struct st_train_cfg *cfg,
                                          struct st_err *err);
/* Called in the parent for every finished task, in completion order. */
typedef void (*st_pool_done_fn)(void *user, long i, enum st_status st,
                                const struct st_train_result *res, const char *error);

/* Runs tasks 0..n-1 on min(jobs, n) workers, removing each run's directory
 * afterwards unless keep_dirs. prog (may be NULL) shows tasks done. Returns
 * the number of tasks whose result arrived (n unless a worker died or the
 * pool was stopped).
 *
 * A run directory that holds a checkpoint is resumed. When st_cli_stop is
 * set (SIGINT, SIGTERM), the signal goes on to the workers: each checkpoints
 * its run in flight (kept, not handed to done) and starts no other;
 * *n_stopped (may be NULL) gets how many were checkpointed. */
long st_pool_run(long n, int jobs, int keep_dirs, st_pool_make_fn make, st_pool_done_fn done,
                 void *user, struct st_progress *prog, long *n_stopped);

/* The end of every make callback: cfg's run directory becomes out/runs/id,
 * then cfg is resolved. Errors: ST_ERR_ARG (path too long, bad config). */
enum st_status st_pool_task_cfg(struct st_train_cfg *cfg, const char *out, long id,
                                struct st_err *err);

/* What a run names that is no set of units: it diverged, or it failed (a
 * freeze-mask pick: one of its seed's runs failed, so the ranking is not
 * whole). */
#define ST_PICK_DIVERGED 0xffffffffu
#define ST_PICK_FAILED 0xfffffffeu

/* The units (names[0..n), bit u for names[u]) a finished run judged
 * changed into *named (ST_PICK_DIVERGED or ST_PICK_FAILED unless it ended
 * ST_OK) and those where its teacher differs into *truth: what compare,
 * truth and the positions score. */
void st_pool_result_units(enum st_status st, const struct st_train_result *res,
                          const char *const *names, int n, unsigned *named, unsigned *truth);

/* A pick as text: the selector of its units ("1,3", "none"; cut to "..." when
 * it does not fit size), or "failed" / "diverged". Returns buf, or the
 * literal. */
const char *st_pool_pick_text(const char *const *names, int n, unsigned pick, char *buf,
                              size_t size);

/* The same for tables: a run that diverged or failed in brackets,
 * "(failed)"; returns buf. */
const char *st_pool_pick_label(const char *const *names, int n, unsigned pick, char *buf,
                               size_t size);

/* The most frequent of picks[0..n) (the first of equal counts; n >= 1), and
 * its count into *count. */
unsigned st_pool_most_frequent(const unsigned *picks, int n, int *count);

/* Runs task i in this process into rec (what a worker does for each task);
 * release rec with st_pool_record_free. */
void st_pool_run_one(st_pool_make_fn make, void *user, long i, int keep_dirs,
                     struct st_pool_record *rec);

/* What baselines, compare and lambda-path share: creates out, runs the tasks
 * on the pool with a progress bar labelled cmd, removes out/runs, and checks
 * that every result arrived. *failed gets the runs that failed other than by
 * diverging (a diverged run is a result), and the first one's error goes to
 * stderr: the command writes what it has, then exits 1. Returns 0 or an exit
 * status (message printed). */
int st_pool_run_cmd(const char *cmd, const char *out, long n, int jobs, int quiet,
                    st_pool_make_fn make, st_pool_done_fn done, void *user, long *failed);


#endif
