/* runtime.h: the process-wide state the library touches, all of it.
 *
 *  - Threads: OpenBLAS's thread count and the worker team of par.h, which
 *    the passes over the parameters use. A run sets both to its --threads
 *    with st_runtime_threads and puts back what was there with
 *    st_runtime_threads_restore before it returns, so an embedding program
 *    finds them as it left them.
 *  - The layer kernels (dense.c) pick their instruction set once, when the
 *    program starts; the choice is read-only afterwards.
 *
 * Nothing else is process-wide: a run's progress report and stop request
 * come through struct st_train_hooks (train.h), which the caller owns. */
#ifndef ST_RUNTIME_H
#define ST_RUNTIME_H

#include <stddef.h>

struct st_threads {
    int blas; /* OpenBLAS's thread count */
    int team; /* threads of par.h's team, the caller's included */
};

/* Sets both to n and returns what they were. */
struct st_threads st_runtime_threads(int n);

/* Puts back what st_runtime_threads returned. */
void st_runtime_threads_restore(struct st_threads saved);

/* The machine as the layers' speed depends on it, one line: the CPU's
 * model name (Linux's /proc/cpuinfo), the build of the layer kernels in use
 * and OpenBLAS's kernel, e.g. "Intel(R) Xeon(R) Processor; kernels v4;
 * OpenBLAS SkylakeX". */
void st_runtime_machine(char *buf, size_t size);

#endif
