/* hooks.h: what the caller of a run hands it besides its configuration: a
 * progress report and a stop request. */
#ifndef ST_HOOKS_H
#define ST_HOOKS_H

#include <signal.h>
#include <stddef.h>

/* Progress report: called after each update with the step count and the data
 * loss of the last forward pass. Returns nonzero to stop the run (as a stop
 * request does). */
typedef int (*st_progress_fn)(void *user, long step, long steps, double loss);

struct st_run_memory;
/* Called once the run knows its memory, before it allocates its copies of
 * the parameters (and, with --dry-run, instead of training). */
typedef void (*st_memory_fn)(void *user, const struct st_run_memory *m);

/* Data parallel: the run is rank `rank` of `size` processes that train one
 * model together (MPI ranks). Each sum leaves, on every rank, the ranks'
 * arrays added in rank order, left to right: ((x_0 + x_1) + x_2) + ... */
struct st_collective {
    int rank, size;
    void *user;
    void (*sum_floats)(void *user, float *x, size_t n);
    void (*sum_doubles)(void *user, double *x, int n);
};

/* What the caller hands a run besides its configuration (any may be NULL). */
struct st_train_hooks {
    st_progress_fn progress;
    void *user;
    /* Nonzero asks the run to stop: at the top of its next step it writes a
     * checkpoint and returns ST_ERR_INTERRUPTED. A signal handler may set it. */
    const volatile sig_atomic_t *stop;
    st_memory_fn memory;
    void *memory_user;   /* memory's first argument */
    /* Data parallel (NULL: alone): every rank draws every batch of a step
     * (--grad-accum per rank, times the ranks) and computes those of its
     * rank; the gradients and losses are summed in rank order; rank 0 alone
     * writes the run directory. */
    const struct st_collective *coll;
};

#endif
