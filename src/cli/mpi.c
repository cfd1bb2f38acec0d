/* mpi.c: the MPI side of sweeps. A result travels as one st_pool_record of
 * raw bytes (every rank runs the same binary). Rank 0 runs its own share and,
 * between its runs, drains the records the other ranks have sent. */
#define _POSIX_C_SOURCE 200809L
#include "mpi.h"

#include "../exp/hooks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef ST_HAVE_MPI
#include <mpi.h>

#define TAG_RECORD 17
#define TAG_SUM 18

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

/* Sums in rank order (hooks.h): rank 0 adds the others' arrays one rank
 * after another, a piece at a time, and sends the sum to every rank. One
 * loop for both element types; add(x, in, m) adds m of them. */
#define SUM_PIECE (1 << 20)

static void add_floats(void *x, const void *in, int m)
{
    float *a = x;
    const float *b = in;
    for (int i = 0; i < m; i++)
        a[i] += b[i];
}

static void add_doubles(void *x, const void *in, int m)
{
    double *a = x;
    const double *b = in;
    for (int i = 0; i < m; i++)
        a[i] += b[i];
}

static void ordered_sum(char *x, size_t n, size_t size_of, MPI_Datatype type,
                        void (*add)(void *, const void *, int))
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t piece = n < SUM_PIECE ? n : SUM_PIECE;
    char *in = rank == 0 ? malloc((piece ? piece : 1) * size_of) : NULL;
    if (rank == 0 && !in) {
        fprintf(stderr, "sparsetune: cannot allocate the gradient reduction's buffer\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (size_t at = 0; at < n; at += SUM_PIECE) {
        int m = (int)(n - at < SUM_PIECE ? n - at : SUM_PIECE);
        if (rank != 0) {
            MPI_Send(x + at * size_of, m, type, 0, TAG_SUM, MPI_COMM_WORLD);
            continue;
        }
        for (int q = 1; q < size; q++) {
            MPI_Recv(in, m, type, q, TAG_SUM, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            add(x + at * size_of, in, m);
        }
    }
    free(in);
    for (size_t at = 0; at < n; at += SUM_PIECE) {
        int m = (int)(n - at < SUM_PIECE ? n - at : SUM_PIECE);
        MPI_Bcast(x + at * size_of, m, type, 0, MPI_COMM_WORLD);
    }
}

static void sum_floats(void *user, float *x, size_t n)
{
    (void)user;
    ordered_sum((char *)x, n, sizeof *x, MPI_FLOAT, add_floats);
}

static void sum_doubles(void *user, double *x, int n)
{
    (void)user;
    ordered_sum((char *)x, (size_t)n, sizeof *x, MPI_DOUBLE, add_doubles);
}

int st_mpi_collective(struct st_collective *c)
{
    if (!started)
        return 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    c->user = NULL;
    c->sum_floats = sum_floats;
    c->sum_doubles = sum_doubles;
    return c->size > 1;
}

/* Hands the record in bytes[len] to done. */
static void deliver(const void *bytes, size_t len, st_pool_done_fn done, void *user)
{
    struct st_pool_record rec;
    if (st_pool_record_unpack(&rec, bytes, len) != 0)
        return;
    done(user, rec.index, (enum st_status)rec.status, &rec.res,
         rec.status == 0 ? NULL : rec.error);
    st_pool_record_free(&rec);
}

/* Records move without anyone waiting: senders post MPI_Isend and go on
 * training, testing their sends between runs (which is what moves a large
 * message along); rank 0 posts an MPI_Irecv for every record it sees between
 * its own runs and delivers the ones that completed. A blocking send or
 * receive would stall one rank for a whole run whenever a record is above
 * the transport's eager limit. A record is a st_pool_record_pack, of its own
 * length. */
struct inbox {
    unsigned char *buf;
    int len;
    MPI_Request req;
};

/* Rank 0: post receives for what has arrived, deliver what completed. */
static long poll_inbox(struct inbox *in, long *n_in, st_pool_done_fn done, void *user)
{
    long delivered = 0;
    for (int flag = 1; flag;) {
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RECORD, MPI_COMM_WORLD, &flag, &status);
        if (!flag)
            break;
        struct inbox *b = &in[(*n_in)++];
        MPI_Get_count(&status, MPI_BYTE, &b->len);
        b->buf = malloc(b->len > 0 ? (size_t)b->len : 1);
        if (!b->buf)
            MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Irecv(b->buf, b->len, MPI_BYTE, status.MPI_SOURCE, TAG_RECORD, MPI_COMM_WORLD,
                  &b->req);
    }
    for (long k = 0; k < *n_in; k++) {
        int complete = 0;
        if (!in[k].buf)
            continue;
        MPI_Test(&in[k].req, &complete, MPI_STATUS_IGNORE);
        if (complete) {
            deliver(in[k].buf, (size_t)in[k].len, done, user);
            free(in[k].buf);
            in[k].buf = NULL;
            delivered++;
        }
    }
    return delivered;
}

long st_mpi_run(long n, int rank, int size, int keep_dirs, st_pool_make_fn make,
                st_pool_done_fn done, void *user, struct st_progress *prog)
{
    long mine = n > rank ? (n - rank + size - 1) / size : 0, k = 0, got = 0;
    long others = n - mine, n_in = 0;
    void **sent = calloc((size_t)mine + 1, sizeof *sent); /* the bytes of each Isend */
    MPI_Request *reqs = calloc((size_t)mine + 1, sizeof *reqs);
    struct inbox *in = calloc((size_t)others + 1, sizeof *in);
    if (!sent || !reqs || !in) {
        free(sent);
        free(reqs);
        free(in);
        MPI_Abort(MPI_COMM_WORLD, 1);
        return 0;
    }
    for (long i = rank; i < n; i += size, k++) {
        struct st_pool_record rec;
        size_t len = 0;
        st_pool_run_one(make, user, i, keep_dirs, &rec);
        void *bytes = st_pool_record_pack(&rec, &len);
        st_pool_record_free(&rec);
        if (!bytes || len > 0x7fffffff)
            MPI_Abort(MPI_COMM_WORLD, 1);
        if (rank != 0) {
            int flag;
            sent[k] = bytes;
            MPI_Isend(bytes, (int)len, MPI_BYTE, 0, TAG_RECORD, MPI_COMM_WORLD, &reqs[k]);
            MPI_Testall((int)(k + 1), reqs, &flag, MPI_STATUSES_IGNORE);
            continue;
        }
        deliver(bytes, len, done, user);
        free(bytes);
        got += 1 + poll_inbox(in, &n_in, done, user);
        if (prog)
            st_progress_update(prog, got, n, NAN);
    }
    if (rank != 0)
        MPI_Waitall((int)k, reqs, MPI_STATUSES_IGNORE);
    while (rank == 0 && got < n) {
        long d = poll_inbox(in, &n_in, done, user);
        if (d == 0) { /* nothing yet: leave the core to the ranks still training */
            struct timespec ts = { 0, 2000000 };
            nanosleep(&ts, NULL);
        }
        got += d;
        if (d && prog)
            st_progress_update(prog, got, n, NAN);
    }
    for (long j = 0; j < k; j++)
        free(sent[j]);
    free(sent);
    free(reqs);
    free(in);
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
        fprintf(stderr, "sparsetune: this build has no MPI support (Open MPI was not found "
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

int st_mpi_collective(struct st_collective *c)
{
    (void)c;
    return 0;
}

long st_mpi_run(long n, int rank, int size, int keep_dirs, st_pool_make_fn make,
                st_pool_done_fn done, void *user, struct st_progress *prog)
{
    (void)rank;
    (void)size;
    return st_pool_run(n, 1, keep_dirs, make, done, user, prog, NULL);
}

#endif
