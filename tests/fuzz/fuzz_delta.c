/* fuzz_delta.c: sparse delta files (io/delta.h), applied to a fixed small
 * model (w1 [3, 4], b1 [5]). The seed is a valid delta for that model, so
 * that mutations which keep its base hash reach the checks of the tensors;
 * a delta that applies leaves every value finite. */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include "io/delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".safetensors");
    struct st_params p;
    struct st_err err;
    const char *g[] = { "1" };
    memset(&p, 0, sizeof p);
    if (st_params_add(&p, "w1", "w", 2, 3, 4, ST_KIND_WEIGHT, g, 1, &err) != ST_OK ||
        st_params_add(&p, "b1", "b", 1, 5, 1, ST_KIND_BIAS, g, 1, &err) != ST_OK ||
        st_params_alloc(&p, &err) != ST_OK)
        abort();
    for (size_t i = 0; i < 12; i++)
        p.v[0].data[i] = (float)i / 8.0f;
    for (size_t i = 0; i < 5; i++)
        p.v[1].data[i] = -(float)i / 4.0f;
    if (st_delta_apply(path, &p, NULL, &err) == ST_OK)
        for (int t = 0; t < p.n_views; t++)
            for (size_t i = 0; i < st_view_size(&p.v[t]); i++)
                if (!isfinite(p.v[t].data[i]))
                    abort();
    st_params_free(&p);
    return 0;
}
