/* mpi.c: the MPI side of sweeps. A result travels as one st_pool_record of
 * raw bytes (every rank runs the same binary). Rank 0 runs its own share and,
 * between its runs, drains the records the other ranks have sent. */
#include "mpi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ST_HAVE_MPI
#include <mpi.h>

#define TAG_RECORD 17

static int started;

int st_mpi_start(int *argc, char ***argv, int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE"))
        return 0;
    MPI_Init(argc, argv);
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

void st_mpi_stop(void)
{
    if (started)
        MPI_Finalize();
    started = 0;
}

void st_mpi_share(long *v, long n)
{
    if (started)
        MPI_Bcast(v, (int)n, MPI_LONG, 0, MPI_COMM_WORLD);
}

static void deliver(const struct st_pool_record *rec, st_pool_done_fn done, void *user)
{
    done(user, rec->index, (enum st_status)rec->status, &rec->res,
         rec->status == 0 ? NULL : rec->error);
}

long st_mpi_run(long n, int rank, int size, int keep_dirs, st_pool_make_fn make,
                st_pool_done_fn done, void *user, struct st_progress *prog)
{
    struct st_pool_record *rec = malloc(sizeof *rec);
    long got = 0;
    if (!rec)
        return 0;
    for (long i = rank; i < n; i += size) {
        st_pool_run_one(make, user, i, keep_dirs, rec);
        if (rank != 0) {
            MPI_Send(rec, (int)sizeof *rec, MPI_BYTE, 0, TAG_RECORD, MPI_COMM_WORLD);
            continue;
        }
        deliver(rec, done, user);
        got++;
        for (int flag = 1; flag;) { /* drain what has arrived meanwhile */
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_RECORD, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
            if (flag) {
                MPI_Recv(rec, (int)sizeof *rec, MPI_BYTE, MPI_ANY_SOURCE, TAG_RECORD,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                deliver(rec, done, user);
                got++;
            }
        }
        if (prog)
            st_progress_update(prog, got, n, NAN);
    }
    if (rank == 0)
        while (got < n) {
            MPI_Recv(rec, (int)sizeof *rec, MPI_BYTE, MPI_ANY_SOURCE, TAG_RECORD, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            deliver(rec, done, user);
            got++;
            if (prog)
                st_progress_update(prog, got, n, NAN);
        }
    free(rec);
    MPI_Barrier(MPI_COMM_WORLD);
    return rank == 0 ? got : 0;
}

#else

int st_mpi_start(int *argc, char ***argv, int *rank, int *size)
{
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    (void)argc;
    (void)argv;
    *rank = 0;
    *size = 1;
    if (n && atoi(n) > 1) {
        fprintf(stderr, "sparsetune sweep: this build has no MPI support (Open MPI was not found "
                        "when it was built): run it without mpirun, or rebuild with "
                        "libopenmpi-dev installed\n");
        return -1;
    }
    return 0;
}

void st_mpi_stop(void)
{
}

void st_mpi_share(long *v, long n)
{
    (void)v;
    (void)n;
}

long st_mpi_run(long n, int rank, int size, int keep_dirs, st_pool_make_fn make,
                st_pool_done_fn done, void *user, struct st_progress *prog)
{
    (void)rank;
    (void)size;
    return st_pool_run(n, 1, keep_dirs, make, done, user, prog);
}

#endif
