/* model_opts.c: see model_opts.h. */
#include "model_opts.h"

#include <stdlib.h>
#include <string.h>

enum st_status st_cfg_from_model(struct st_train_cfg *cfg, const unsigned char *given,
                                 const struct st_modelfile *mf, const char *opt,
                                 const char *path, struct st_err *err)
{
    const struct st_family *f = mf->model.f;
    struct st_train_cfg *file = malloc(sizeof *file);
    struct st_model m;
    char value[4200];
    enum st_status st = ST_OK;

    if (!file)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    *file = *cfg;
    file->arch = mf->model.arch;
    if (!given[st_option_index("arch")])
        cfg->arch.family = file->arch.family;
    for (int i = 0; f->options[i] && st == ST_OK; i++) {
        int k = st_option_index(f->options[i]);
        if (!(mf->named >> i & 1u) || given[k])
            continue;
        st_option_format(file, st_option_find(f->options[i]), value, sizeof value);
        st = st_option_set(cfg, f->options[i], value, err);
    }
    free(file);
    if (st != ST_OK)
        return st;
    /* What was given must be what the file holds. */
    if ((st = st_model_init(&m, &cfg->arch, err)) != ST_OK)
        return st;
    st = st_modelfile_check(mf, &m, opt, path, err);
    st_model_free(&m);
    /* Options that disagree with the file are a usage error. */
    return st == ST_ERR_SHAPE || st == ST_ERR_FORMAT ? ST_ERR_ARG : st;
}

const char *st_cfg_model_unnamed(const struct st_modelfile *mf, const unsigned char *given)
{
    const char *const *opts = mf->model.f->options;
    for (int i = 0; opts[i]; i++)
        if (!(mf->named >> i & 1u) && !given[st_option_index(opts[i])])
            return opts[i];
    return NULL;
}
