/* products.c: see products.h. */
#define _POSIX_C_SOURCE 200809L
#include "products.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/mlp.h"
#include "../core/par.h"
#include "../core/runtime.h"
#include "../io/file.h"

#define CACHE_NAME "products-1.tsv"
#define KEY_MAX 400

/* The answers of this process for this machine, the cache file's included
 * once read; it grows as needed (a failed growth only drops the answer,
 * which is then timed again). */
struct memo_entry {
    char key[KEY_MAX];
    unsigned char blas;
};
static struct memo_entry *memo;
static int n_memo, cap_memo;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static int memo_find(const char *key)
{
    for (int i = 0; i < n_memo; i++)
        if (!strcmp(memo[i].key, key))
            return memo[i].blas;
    return -1;
}

static void memo_add(const char *key, int blas)
{
    if (memo_find(key) >= 0)
        return;
    if (n_memo == cap_memo) {
        int cap = cap_memo ? 2 * cap_memo : 64;
        struct memo_entry *grown = realloc(memo, (size_t)cap * sizeof *memo);
        if (!grown)
            return;
        memo = grown;
        cap_memo = cap;
    }
    snprintf(memo[n_memo].key, KEY_MAX, "%s", key);
    memo[n_memo++].blas = (unsigned char)blas;
}

/* A word of a list: "own" or "blas" as 0 or 1, else -1. */
static int way(const char *s, size_t n)
{
    if (n == 3 && !strncmp(s, "own", 3))
        return 0;
    if (n == 4 && !strncmp(s, "blas", 4))
        return 1;
    return -1;
}

/* blas[n] from spec's list; 0 when it is not one. */
static int parse_list(const char *spec, unsigned char *blas, int n)
{
    int i = 0;
    for (const char *p = spec;; i++) {
        size_t len = strcspn(p, ",");
        int w = way(p, len);
        if (w < 0 || i >= n)
            return 0;
        blas[i] = (unsigned char)w;
        if (!p[len])
            break;
        p += len + 1;
    }
    return i + 1 == n;
}

enum st_status st_products_check(const struct st_model *m, const char *spec, struct st_err *err)
{
    int in[ST_MLP_MAX_LAYERS], out[ST_MLP_MAX_LAYERS];
    unsigned char blas[ST_MLP_MAX_LAYERS];
    int n = st_model_product_layers(m, in, out);
    if (n == 0) {
        if (strcmp(spec, "auto") && strcmp(spec, "blas"))
            return st_err_set(err, ST_ERR_ARG, "--products %s: a %s runs its products through "
                              "BLAS; expected auto or blas", spec, m->f->name);
        return ST_OK;
    }
    if (!strcmp(spec, "auto") || !strcmp(spec, "own") || !strcmp(spec, "blas") ||
        !strcmp(spec, "fixed") || parse_list(spec, blas, n))
        return ST_OK;
    return st_err_set(err, ST_ERR_ARG, "--products %s: expected auto, own, blas, fixed or a list "
                      "of own and blas with one entry for each of the %d layers", spec, n);
}

/* The cache file's path, its folder made; 0 where there is none. */
static int cache_path(char *path, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096];
    struct st_err err;
    int n;
    if (xdg && *xdg)
        n = snprintf(dir, sizeof dir, "%s/sparsetune", xdg);
    else if (home && *home)
        n = snprintf(dir, sizeof dir, "%s/.cache/sparsetune", home);
    else
        return 0;
    if (n < 0 || (size_t)n >= sizeof dir || st_mkdirs(dir, &err) != ST_OK)
        return 0;
    n = snprintf(path, size, "%s/%s", dir, CACHE_NAME);
    return n > 0 && (size_t)n < size;
}

/* Reads the cache's lines "KEY\tWAY\tOWN_S\tBLAS_S", KEY five tab-separated
 * fields starting with the machine, into the memo: this machine's only. */
static void read_cache(FILE *f, const char *machine)
{
    char line[KEY_MAX + 128];
    size_t len_m = strlen(machine);
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        char *end = line + strcspn(line, "\n");
        *end = '\0';
        if (strncmp(line, machine, len_m) != 0 || line[len_m] != '\t')
            continue;
        char *t = line;
        for (int field = 0; field < 5 && t; field++)
            t = strchr(t + (field ? 1 : 0), '\t');
        if (!t || (size_t)(t - line) >= KEY_MAX)
            continue;
        *t = '\0';
        size_t len = strcspn(t + 1, "\t");
        int w = way(t + 1, len);
        if (w >= 0)
            memo_add(line, w);
    }
}

/* Times layer i both ways and decides; appends the answer to the cache. */
static int measure(struct st_model *m, int i, int B, const char *key, FILE *f)
{
    double own = st_model_time_products(m, i, B, 0);
    double blas = st_model_time_products(m, i, B, 1);
    int w = blas < own;
    if (f) {
        fseek(f, 0, SEEK_END);
        fprintf(f, "%s\t%s\t%.6g\t%.6g\n", key, w ? "blas" : "own", own, blas);
        fflush(f);
    }
    memo_add(key, w);
    return w;
}

/* auto: each layer's way from the memo, the cache, or a measurement. */
static void choose_auto(struct st_model *m, int B, const int *in, const int *out, int n,
                        unsigned char *blas)
{
    char machine[300], key[ST_MLP_MAX_LAYERS][KEY_MAX], path[4200];
    int missing = 0;
    st_runtime_machine(machine, sizeof machine);
    for (char *c = machine; *c; c++)
        if (*c == '\t' || *c == '\n')
            *c = ' ';
    pthread_mutex_lock(&memo_lock);
    for (int i = 0; i < n; i++) {
        snprintf(key[i], KEY_MAX, "%s\t%d\t%d\t%d\t%d", machine, st_par_threads(), in[i],
                 out[i], B);
        missing += memo_find(key[i]) < 0;
    }
    if (missing) {
        FILE *f = NULL;
        int fd = cache_path(path, sizeof path) ? open(path, O_RDWR | O_CREAT, 0644) : -1;
        struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fd >= 0 && fcntl(fd, F_SETLKW, &lk) == 0)
            f = fdopen(fd, "r+");
        if (f)
            read_cache(f, machine);
        else if (fd >= 0)
            close(fd);
        for (int i = 0; i < n; i++)
            if (memo_find(key[i]) < 0)
                blas[i] = (unsigned char)measure(m, i, B, key[i], f);
        if (f)
            fclose(f); /* and with it the lock */
    }
    for (int i = 0; i < n; i++) {
        int w = memo_find(key[i]);
        if (w >= 0) /* else measured just now, the memo not grown */
            blas[i] = (unsigned char)w;
    }
    pthread_mutex_unlock(&memo_lock);
}

enum st_status st_products_choose(struct st_model *m, int B, char *spec, struct st_err *err)
{
    int in[ST_MLP_MAX_LAYERS], out[ST_MLP_MAX_LAYERS];
    unsigned char blas[ST_MLP_MAX_LAYERS];
    enum st_status st = st_products_check(m, spec, err);
    int n = st == ST_OK ? st_model_product_layers(m, in, out) : 0;
    if (st != ST_OK)
        return st;
    if (n == 0) {
        strcpy(spec, "blas");
        return ST_OK;
    }
    for (int i = 0; i < n; i++)
        blas[i] = !strcmp(spec, "blas") ||
                  (!strcmp(spec, "fixed") && (long)in[i] * out[i] > ST_MLP_FIXED_MAX);
    if (!strcmp(spec, "auto"))
        choose_auto(m, B, in, out, n, blas);
    else if (strcmp(spec, "own") && strcmp(spec, "blas") && strcmp(spec, "fixed"))
        parse_list(spec, blas, n);
    st_model_set_products(m, blas);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(spec + len, ST_PRODUCTS_MAX - len, "%s%s", i ? "," : "",
                                blas[i] ? "blas" : "own");
    return ST_OK;
}
