/* testutil.h: helpers shared by the test programs: whole-file reads, scratch
 * directories, and double-precision reference activations. Needs
 * _POSIX_C_SOURCE 200809L defined before the first include. */
#ifndef ST_TESTUTIL_H
#define ST_TESTUTIL_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/act.h"

/* Reads a whole file into a malloc'd buffer, NUL-terminated for text use;
 * NULL if it cannot be read. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    *len = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static inline int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static inline int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* rm -r dir */
static inline void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4200];
    if (!d) {
        remove(dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        if (is_dir(p))
            remove_tree(p);
        else
            remove(p);
    }
    closedir(d);
    rmdir(dir);
}

/* The activations in double precision, written from their formulas. */
static inline double act_ref(double z, enum st_act a)
{
    switch (a) {
    case ST_ACT_RELU: return z > 0 ? z : 0;
    case ST_ACT_TANH: return tanh(z);
    case ST_ACT_SILU: return z / (1 + exp(-z));
    case ST_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    case ST_ACT_LINEAR: return z;
    }
    return 0;
}

#endif
