/* mpi.h: sweeps across MPI ranks (Open MPI, optional at build time). Rank r
 * runs tasks r, r + size, ...; rank 0 also collects every result and is the
 * only one that writes files or prints. Built without MPI, these functions
 * see a single rank, and a launch under mpirun with several ranks is refused
 * rather than running the whole sweep once per rank. */
#ifndef ST_MPI_H
#define ST_MPI_H

#include "pool.h"
#include "ranks.h"

/* Rank 0's n longs, copied to every rank. */
void st_mpi_share(long *v, long n);

/* Runs tasks 0..n-1 over the ranks; on rank 0 calls done for every result and
 * returns how many arrived; other ranks return 0. */
long st_mpi_run(long n, int rank, int size, int keep_dirs, st_pool_make_fn make,
                st_pool_done_fn done, void *user, struct st_progress *prog);

#endif
