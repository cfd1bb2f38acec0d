/* rundir.c: see rundir.h. */
#define _POSIX_C_SOURCE 200809L
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/file.h"
#include "../io/fmt.h"
#include "../io/modelfile.h"
#include "options.h"

/* Every file a run writes into its directory. */
static const char *const run_files[] = {
    "config.ini",          "metrics.csv", "summary.json", "teacher.safetensors",
    "student_init.safetensors", "student.safetensors", "x.npy", "y.npy",
    "figure.png",          "figure.svg",  "figure.pdf", ST_CHECKPOINT_FILE, "fingerprint.csv",
    "delta.safetensors",
};
#define N_RUN_FILES (sizeof run_files / sizeof run_files[0])

/* Whether a directory entry is one a run writes (or its temporary file). */
static int run_entry(const char *name)
{
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return 1;
    for (size_t i = 0; i < N_RUN_FILES; i++) {
        size_t n = strlen(run_files[i]);
        if (!strncmp(name, run_files[i], n) && (!name[n] || !strncmp(name + n, ".tmp.", 5)))
            return 1;
    }
    return 0;
}

/* The first entry of dir that no run writes, into name; 0 if there is none
 * (or dir cannot be listed: creating the run's files will say why). */
static int foreign_entry(const char *dir, char *name, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d)))
        if (!run_entry(e->d_name)) {
            snprintf(name, size, "%s", e->d_name);
            found = 1;
        }
    if (d)
        closedir(d);
    return found;
}

enum st_status st_rundir_prepare(const struct st_train_cfg *cfg, struct st_err *err)
{
    char path[4200], other[256];
    struct stat sb;
    enum st_status st = st_mkdirs(cfg->out, err);
    if (st != ST_OK)
        return st;
    st = st_path_join(path, sizeof path, cfg->out, "metrics.csv", err);
    if (st != ST_OK)
        return st;
    /* A directory that holds other things and no run (--out . or --out /) is
     * not taken over silently. */
    if (stat(path, &sb) != 0 && !cfg->force && foreign_entry(cfg->out, other, sizeof other))
        return st_err_set(err, ST_ERR_ARG,
                          "--out %s: the directory holds other files ('%s') and no run; choose a "
                          "new or empty directory, or pass --force to write the run's files "
                          "beside them",
                          cfg->out, other);
    if (stat(path, &sb) != 0)
        return ST_OK;
    if (!cfg->force) {
        if (st_path_join(path, sizeof path, cfg->out, ST_CHECKPOINT_FILE, NULL) == ST_OK &&
            stat(path, &sb) == 0)
            return st_err_set(err, ST_ERR_ARG,
                              "%s holds an interrupted run (%s); continue it with --resume %s, "
                              "or pass --force to start over",
                              cfg->out, ST_CHECKPOINT_FILE, cfg->out);
        return st_err_set(err, ST_ERR_ARG,
                          "%s already holds a run (metrics.csv); choose another --out or pass "
                          "--force to overwrite it",
                          cfg->out);
    }
    /* --force: remove the previous run's files so that none survives beside the new ones. */
    for (size_t i = 0; i < N_RUN_FILES; i++) {
        if ((st = st_path_join(path, sizeof path, cfg->out, run_files[i], err)) != ST_OK)
            return st;
        if (remove(path) != 0 && errno != ENOENT)
            return st_err_set(err, ST_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
        st_remove_temps(cfg->out, run_files[i]);
    }
    return ST_OK;
}

void st_rundir_remove(const char *dir)
{
    char p[4300];
    for (size_t i = 0; i < N_RUN_FILES; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, run_files[i]);
        remove(p);
        st_remove_temps(dir, run_files[i]);
    }
    rmdir(dir);
}

enum st_status st_rundir_write_config(const struct st_train_cfg *cfg, const struct st_model *m,
                                      struct st_err *err)
{
    char path[4200], model[512];
    struct st_atomic_file af;
    enum st_status st = st_path_join(path, sizeof path, cfg->out, "config.ini", err);
    if (st == ST_OK)
        st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        return st;
    st_model_describe(m, model, sizeof model);
    fprintf(af.f, "# sparsetune run configuration: `sparsetune train --config config.ini --out "
                  "DIR`\n# re-runs this experiment bit-identically. Model: %s.\n",
            model);
    st_options_write_ini(af.f, cfg);
    return st_atomic_commit(&af, err);
}

enum st_status st_rundir_save_model(const char *dir, const char *name, const char *role,
                                    const struct st_model *m, const struct st_params *p,
                                    const struct st_stand *s, const char *layout,
                                    struct st_err *err)
{
    char path[4200];
    const char *keys[] = { "input_mean", "input_std" };
    const char *vals[2] = { NULL, NULL };
    size_t size = (size_t)s->n * (ST_FMT_G9_MAX + 1) + 1;
    char *mean = NULL, *sd = NULL;
    enum st_status st = st_path_join(path, sizeof path, dir, name, err);
    if (st != ST_OK)
        return st;
    if (s->n > 0) {
        mean = malloc(size);
        sd = malloc(size);
        if (!mean || !sd || st_stand_format(s, mean, sd, size) != 0)
            st = st_err_set(err, ST_ERR_NOMEM, "cannot format the input statistics");
        vals[0] = mean;
        vals[1] = sd;
    }
    if (st == ST_OK)
        st = st_modelfile_write_as(path, m, p, role, keys, vals, s->n > 0 ? 2 : 0, layout, err);
    free(mean);
    free(sd);
    return st;
}
