/* runtime.c: see runtime.h. */
#include "runtime.h"

#include <cblas.h>

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
