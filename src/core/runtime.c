/* runtime.c: see runtime.h. */
#include "runtime.h"

#include <cblas.h>

#include <stdio.h>
#include <string.h>

#include "dense_isa.h"
#include "par.h"

struct st_threads st_runtime_threads(int n)
{
    struct st_threads was = { openblas_get_num_threads(), st_par_threads() };
    openblas_set_num_threads(n);
    st_par_set_threads(n);
    return was;
}

void st_runtime_threads_restore(struct st_threads saved)
{
    openblas_set_num_threads(saved.blas);
    st_par_set_threads(saved.team);
}

void st_runtime_machine(char *buf, size_t size)
{
    char line[512], cpu[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            const char *v = strchr(line, ':') + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(cpu, sizeof cpu, "%.*s", (int)strcspn(v, "\n"), v);
            break;
        }
    if (f)
        fclose(f);
    const char *core = openblas_get_corename();
    snprintf(buf, size, "%s; kernels %s; OpenBLAS %s", cpu, st_dense_kernels()->isa,
             core ? core : "unknown");
}
