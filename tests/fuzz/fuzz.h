/* fuzz.h: what the libFuzzer targets share. The readers take paths, so each
 * input is written to a file of this process's own (under $TMPDIR or /tmp)
 * and read back through the same entry point the command line uses. */
#ifndef ST_FUZZ_H
#define ST_FUZZ_H

#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file named ...<suffix>; returns its path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[512];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/st_fuzz.%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(),
                 suffix);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    return path;
}

#endif
