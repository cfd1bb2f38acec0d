/* fuzz_safetensors.c: the safetensors reader and the model import on it. */
#include "fuzz.h"

#include "io/modelfile.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".safetensors");
    struct st_safetensors_file f;
    struct st_modelfile mf;
    struct st_err err;
    if (st_safetensors_read(path, &f, &err) == ST_OK) {
        st_safetensors_meta(&f, "widths");
        st_safetensors_file_free(&f);
    }
    if (st_safetensors_read_header(path, &f, &err) == ST_OK)
        st_safetensors_file_free(&f);
    /* The model import of every family, over the header alone and the whole file. */
    if (st_modelfile_read(path, 1, &mf, &err) == ST_OK)
        st_modelfile_free(&mf);
    if (st_modelfile_read(path, 0, &mf, &err) == ST_OK)
        st_modelfile_free(&mf);
    return 0;
}
