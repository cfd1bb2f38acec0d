/* fuzz_ini.c: config files, every key = value handed to the option parser as
 * --config does. */
#include "fuzz.h"

#include "exp/options.h"
#include "io/config.h"

#include <string.h>

static enum st_status set(void *user, const char *key, const char *value, struct st_err *err)
{
    return st_option_set(user, key, value, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".ini");
    struct st_train_cfg cfg;
    struct st_err err;
    st_train_cfg_defaults(&cfg);
    if (st_ini_read(path, set, &cfg, &err) == ST_OK)
        st_train_cfg_resolve(&cfg, &err); /* the whole configuration's checks */
    return 0;
}
