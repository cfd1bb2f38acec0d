/* ranks.h: the MPI ranks a command runs on (mpi.c; Open MPI, optional at
 * build time): starting and stopping MPI, and the sums in rank order that
 * data-parallel training takes (hooks.h). Sweeps' tasks over the ranks are
 * in mpi.h. */
#ifndef ST_RANKS_H
#define ST_RANKS_H

/* Starts MPI when the process was launched by mpirun (several ranks); sets
 * rank and size (0 and 1 otherwise). Returns 0, or -1 when launched with
 * several ranks but built without MPI. */
int st_mpi_start(int *argc, char ***argv, int *rank, int *size);
void st_mpi_stop(void);

/* Fills c with this process's rank, the number of ranks and the sums in
 * rank order (hooks.h) when MPI was started with several ranks; returns
 * whether it was (0: the run is alone). */
struct st_collective;
int st_mpi_collective(struct st_collective *c);

#endif
