/* fuzz_safetensors.c: the safetensors reader and the model import on it. */
#include "fuzz.h"

#include "core/mlp.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".safetensors");
    struct st_safetensors_file f;
    struct st_params p;
    struct st_err err;
    int widths[ST_MAX_LAYERS + 1], n_layers;
    char act[ST_SAFETENSORS_ACT_MAX + 1];
    if (st_safetensors_read(path, &f, &err) == ST_OK) {
        st_safetensors_meta(&f, "widths");
        st_safetensors_file_free(&f);
    }
    if (st_safetensors_load_model(path, &p, widths, &n_layers, act, &err) == ST_OK)
        st_params_free(&p);
    return 0;
}
