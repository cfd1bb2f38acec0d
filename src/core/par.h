/* par.h: a small process-wide team of worker threads for the passes over the
 * parameter buffer (optimizer, penalty, observables) when a run has more than
 * one thread; the wide layers' products go to OpenBLAS's own threads.
 *
 * Work is cut into tasks whose boundaries do not depend on the number of
 * threads, each task writes its own result slot, and the caller combines the
 * slots in task order: results are the same bits on 1 thread and on 8. */
#ifndef ST_PAR_H
#define ST_PAR_H

#include <stddef.h>

/* Entries per task in the passes over a tensor, and so the block of the
 * blocked sums: a tensor of at most this many entries is one block. */
#define ST_PAR_BLOCK 65536L

/* Uses n threads (the caller's included) from now on; 1 (or less) runs every
 * task on the caller and stops the workers. Returns the number now in use,
 * which is less than n only if a thread could not be started. */
int st_par_set_threads(int n);

/* Threads in use (1 unless st_par_set_threads asked for more). */
int st_par_threads(void);

/* Calls fn(ctx, i) once for every i in [0, n), spread over the threads, and
 * returns when all have returned. Tasks must not call st_par_for. */
void st_par_for(long n, void (*fn)(void *ctx, long i), void *ctx);

/* Calls fn(ctx, lo, hi) on the ranges [lo, hi) of [0, n) cut every
 * ST_PAR_BLOCK entries, spread over the threads: for passes whose entries do
 * not depend on each other. */
void st_par_range(size_t n, void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx);

/* A pass over the parameters built three times, for x86-64-v4 (AVX-512),
 * v3 (AVX2) and the baseline, the loader picking the one the CPU runs (GCC's
 * target_clones): wider vectors, the same operations on each entry in the
 * same order, so the same bits (the build contracts no multiply and add:
 * -std=c11 implies -ffp-contract=off). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ST_PASS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ST_PASS
#endif

#endif
