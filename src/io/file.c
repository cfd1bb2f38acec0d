/* file.c: temporary-file-and-rename writes and mkdir -p. */
#define _POSIX_C_SOURCE 200809L
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum st_status st_atomic_open(struct st_atomic_file *af, const char *path, struct st_err *err)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return st_err_set(err, ST_ERR_ARG, "path too long: %s", path);
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->f = fopen(af->tmp, "wb");
    if (!af->f)
        return st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return ST_OK;
}

enum st_status st_atomic_commit(struct st_atomic_file *af, struct st_err *err)
{
    int failed = 0, saved = 0;
    if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) != 0) {
        failed = 1;
        saved = errno;
    }
    if (fclose(af->f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    af->f = NULL;
    if (!failed && rename(af->tmp, af->path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        remove(af->tmp);
        return st_err_set(err, ST_ERR_IO, "cannot write %s: %s", af->path, strerror(saved));
    }
    return ST_OK;
}

void st_atomic_abort(struct st_atomic_file *af)
{
    if (af->f)
        fclose(af->f);
    af->f = NULL;
    if (af->tmp[0])
        remove(af->tmp);
}

enum st_status st_file_read(const char *path, char **out, size_t *len, struct st_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return st_err_set(err, ST_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    struct stat sb;
    size_t first = 1 << 20; /* a pipe's or a device's size is not known */
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
        enum st_status st = st_check_memory((double)sb.st_size, path, err);
        if (st != ST_OK) {
            fclose(f);
            return st;
        }
        first = (size_t)sb.st_size + 65536 + 1; /* one read, and the end seen */
    }
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : first;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return st_err_set(err, ST_ERR_NOMEM, "%s: file too large to read", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return st_err_set(err, ST_ERR_IO, "cannot read %s", path);
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return ST_OK;
}

enum st_status st_mkdirs(const char *dir, struct st_err *err)
{
    char buf[4096];
    struct stat sb;
    size_t n = strlen(dir);

    if (n == 0)
        return st_err_set(err, ST_ERR_ARG, "empty output directory name");
    if (n >= sizeof buf)
        return st_err_set(err, ST_ERR_ARG, "path too long: %s", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return st_err_set(err, ST_ERR_IO, "cannot create directory %s: %s", buf,
                              strerror(errno));
        buf[i] = c;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return st_err_set(err, ST_ERR_IO, "%s: not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return st_err_set(err, ST_ERR_IO, "cannot write to directory %s: %s", dir,
                          strerror(errno));
    return ST_OK;
}

enum st_status st_path_join(char *out, size_t size, const char *dir, const char *name,
                            struct st_err *err)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return st_err_set(err, ST_ERR_ARG, "path too long: %s/%s", dir, name);
    return ST_OK;
}

long st_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

double st_seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double st_memory_available(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double phys = pages > 0 && page > 0 ? (double)pages * (double)page : 1e300;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (double)rl.rlim_cur < phys)
        return (double)rl.rlim_cur;
    return phys;
}

const char *st_format_bytes(char *buf, size_t size, double bytes)
{
    if (bytes >= 1e9)
        snprintf(buf, size, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, size, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, size, "%.0f bytes", bytes);
    return buf;
}

enum st_status st_check_memory(double bytes, const char *what, struct st_err *err)
{
    double have = st_memory_available();
    char need_s[32], have_s[32];
    if (bytes <= have)
        return ST_OK;
    return st_err_set(err, ST_ERR_NOMEM,
                      "%s needs %s, more than the %s of memory this process may use (the "
                      "machine's memory, or ulimit -v if lower)",
                      what, st_format_bytes(need_s, sizeof need_s, bytes),
                      st_format_bytes(have_s, sizeof have_s, have));
}

void st_remove_temps(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char prefix[300], path[4400];
    if (!d)
        return;
    snprintf(prefix, sizeof prefix, "%s.tmp.", name);
    size_t n = strlen(prefix);
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, prefix, n) && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) <
                                                  (int)sizeof path)
            remove(path);
    closedir(d);
}
