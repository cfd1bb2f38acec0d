/* par.c: see par.h. The workers sleep on a condition variable between
 * jobs (they never spin, so they take no time from OpenBLAS's threads) and
 * claim tasks from a shared counter; the caller works along with them. */
#define _POSIX_C_SOURCE 200809L
#include "par.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_THREADS 256

static struct {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t tid[MAX_THREADS];
    int n_workers;      /* started, besides the caller */
    pid_t owner;        /* the process that started them (a fork has none) */
    unsigned long job;  /* bumped for every job; workers wait for a change */
    int quit;
    int busy;           /* workers still inside the current job */
    void (*fn)(void *, long);
    void *ctx;
    long n;
    atomic_long next;   /* next unclaimed task */
} team = { .mu = PTHREAD_MUTEX_INITIALIZER,
           .go = PTHREAD_COND_INITIALIZER,
           .done = PTHREAD_COND_INITIALIZER };

static void drain(void (*fn)(void *, long), void *ctx, long n)
{
    long i;
    while ((i = atomic_fetch_add_explicit(&team.next, 1, memory_order_relaxed)) < n)
        fn(ctx, i);
}

static void *worker(void *arg)
{
    unsigned long seen = 0;
    (void)arg;
    pthread_mutex_lock(&team.mu);
    for (;;) {
        while (!team.quit && team.job == seen)
            pthread_cond_wait(&team.go, &team.mu);
        if (team.quit)
            break;
        seen = team.job;
        void (*fn)(void *, long) = team.fn;
        void *ctx = team.ctx;
        long n = team.n;
        pthread_mutex_unlock(&team.mu);
        drain(fn, ctx, n);
        pthread_mutex_lock(&team.mu);
        if (--team.busy == 0)
            pthread_cond_signal(&team.done);
    }
    pthread_mutex_unlock(&team.mu);
    return NULL;
}

static void stop_workers(void)
{
    if (team.n_workers == 0)
        return;
    if (team.owner != getpid()) { /* a forked child: its parent's threads are not here */
        team.n_workers = 0;
        return;
    }
    pthread_mutex_lock(&team.mu);
    team.quit = 1;
    pthread_cond_broadcast(&team.go);
    pthread_mutex_unlock(&team.mu);
    for (int i = 0; i < team.n_workers; i++)
        pthread_join(team.tid[i], NULL);
    team.n_workers = 0;
    team.quit = 0;
}

int st_par_set_threads(int n)
{
    stop_workers();
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    team.owner = getpid();
    for (int i = 0; i + 1 < n; i++) {
        if (pthread_create(&team.tid[i], NULL, worker, NULL) != 0)
            break;
        team.n_workers++;
    }
    return team.n_workers + 1;
}

int st_par_threads(void)
{
    return team.n_workers > 0 && team.owner == getpid() ? team.n_workers + 1 : 1;
}

void st_par_for(long n, void (*fn)(void *ctx, long i), void *ctx)
{
    if (n <= 0)
        return;
    if (n == 1 || st_par_threads() == 1) {
        for (long i = 0; i < n; i++)
            fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&team.mu);
    team.fn = fn;
    team.ctx = ctx;
    team.n = n;
    atomic_store_explicit(&team.next, 0, memory_order_relaxed);
    team.busy = team.n_workers;
    team.job++;
    pthread_cond_broadcast(&team.go);
    pthread_mutex_unlock(&team.mu);
    drain(fn, ctx, n);
    pthread_mutex_lock(&team.mu);
    while (team.busy > 0)
        pthread_cond_wait(&team.done, &team.mu);
    pthread_mutex_unlock(&team.mu);
}

struct range_job {
    size_t n;
    void (*fn)(void *, size_t, size_t);
    void *ctx;
};

static void range_task(void *ctx, long i)
{
    const struct range_job *j = ctx;
    size_t lo = (size_t)i * (size_t)ST_PAR_BLOCK;
    size_t hi = j->n - lo < (size_t)ST_PAR_BLOCK ? j->n : lo + (size_t)ST_PAR_BLOCK;
    j->fn(j->ctx, lo, hi);
}

void st_par_range(size_t n, void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx)
{
    struct range_job j = { n, fn, ctx };
    if (n <= (size_t)ST_PAR_BLOCK) {
        if (n > 0)
            fn(ctx, 0, n);
        return;
    }
    st_par_for((long)((n + (size_t)ST_PAR_BLOCK - 1) / (size_t)ST_PAR_BLOCK), range_task, &j);
}
