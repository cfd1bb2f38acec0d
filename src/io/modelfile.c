/* modelfile.c: see modelfile.h. */
#define _POSIX_C_SOURCE 200809L
#include "modelfile.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/gpt.h"
#include "file.h"
#include "safetensors.h"

const char *st_meta_get(const struct st_meta *meta, const char *key)
{
    for (int i = 0; i < meta->n; i++)
        if (!strcmp(meta->keys[i], key))
            return meta->vals[i];
    return NULL;
}

/* The file's tensors as a family sees them. */
static struct st_file_tensor *file_tensors(const struct st_safetensors_file *f)
{
    struct st_file_tensor *t = malloc((size_t)(f->n_tensors ? f->n_tensors : 1) * sizeof *t);
    for (int i = 0; t && i < f->n_tensors; i++) {
        t[i].name = f->tensors[i].name;
        t[i].ndim = f->tensors[i].ndim;
        t[i].shape[0] = f->tensors[i].shape[0];
        t[i].shape[1] = f->tensors[i].shape[1];
    }
    return t;
}

/* Every view of mf's layout from file tensor map[view], whose shape must be
 * the view's. */
static enum st_status copy_values(const char *path, const struct st_safetensors_file *f,
                                  const int *map, struct st_params *p, struct st_err *err)
{
    if (p->n_views > f->n_tensors)
        return st_err_set(err, ST_ERR_FORMAT, "%s: %d tensors for a model of %d", path,
                          f->n_tensors, p->n_views);
    for (int v = 0; v < p->n_views; v++) {
        const struct st_view *w = &p->v[v];
        int tr = map[v] >= 0 && (map[v] & ST_MAP_TRANSPOSED), at = map[v] & ~ST_MAP_TRANSPOSED;
        if (map[v] < 0 || at >= f->n_tensors)
            return st_err_set(err, ST_ERR_FORMAT, "%s: no tensor for %s", path, w->name);
        const struct st_safetensors_tensor *t = &f->tensors[at];
        int64_t rows = t->shape[tr ? 1 : 0], cols = t->ndim == 2 ? t->shape[tr ? 0 : 1] : 1;
        if (t->ndim != w->ndim || rows != w->rows || cols != w->cols)
            return st_err_set(err, ST_ERR_SHAPE, "%s: tensor '%s' does not have the shape of %s "
                              "([%d, %d]%s)", path, t->name, w->name, w->rows, w->cols,
                              tr ? ", stored transposed" : "");
        if (!t->data)
            continue;
        if (tr) /* stored [cols, rows] */
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++)
                    w->data[i * cols + j] = t->data[j * rows + i];
        else
            memcpy(w->data, t->data, st_view_size(w) * sizeof(float));
        /* A non-finite weight would train and report numbers (a ReLU can
         * swallow a NaN) or end as a "diverged" run blamed on the lr. */
        for (size_t i = 0; i < st_view_size(w); i++)
            if (!isfinite(w->data[i]))
                return st_err_set(err, ST_ERR_FORMAT,
                                  "%s: tensor '%s' (%s): entry %zu ([%zu, %zu]) is %s; a model's "
                                  "weights must be finite",
                                  path, t->name, w->name, i, i / (size_t)w->cols,
                                  i % (size_t)w->cols, isnan(w->data[i]) ? "nan" : "inf");
    }
    return ST_OK;
}

/* config.json beside file (Hugging Face's GPT-2 layout), its "n_head" added
 * to f's metadata; nothing when there is no such file or key. Errors:
 * ST_ERR_FORMAT for a config.json that is not JSON or whose n_head is not a
 * positive integer; ST_ERR_NOMEM. */
static enum st_status config_heads(const char *file, struct st_safetensors_file *f,
                                   struct st_err *err)
{
    char cfg[4200];
    const char *slash = strrchr(file, '/');
    snprintf(cfg, sizeof cfg, "%.*sconfig.json", slash ? (int)(slash - file + 1) : 0, file);
    char *text;
    size_t len;
    if (st_file_read(cfg, &text, &len, NULL) != ST_OK)
        return ST_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root)
        return st_err_set(err, ST_ERR_FORMAT, "%s: not JSON", cfg);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "n_head");
    enum st_status st = ST_OK;
    if (h && !(cJSON_IsNumber(h) && h->valuedouble >= 1 && h->valuedouble <= 65536 &&
               h->valuedouble == floor(h->valuedouble)))
        st = st_err_set(err, ST_ERR_FORMAT, "%s: n_head is not a positive integer", cfg);
    else if (h) {
        char **k = realloc(f->meta_keys, ((size_t)f->n_meta + 1) * sizeof *k);
        if (k)
            f->meta_keys = k;
        char **v = k ? realloc(f->meta_vals, ((size_t)f->n_meta + 1) * sizeof *v) : NULL;
        if (v)
            f->meta_vals = v;
        char num[32];
        snprintf(num, sizeof num, "%d", (int)h->valuedouble);
        if (!k || !v || !(k[f->n_meta] = strdup("n_head")) ||
            !(v[f->n_meta] = strdup(num))) {
            if (k && v)
                free(k[f->n_meta]);
            st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
        } else {
            f->n_meta++;
        }
    }
    cJSON_Delete(root);
    return st;
}

enum st_status st_modelfile_read(const char *path, int header_only, struct st_modelfile *mf,
                                 struct st_err *err)
{
    struct st_safetensors_file f;
    struct st_modelfile q;
    struct st_file_tensor *ft = NULL;
    int *map = NULL;
    /* A folder, as GPT-2 is distributed, holds model.safetensors. */
    char file[4200];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(file, sizeof file, "%s%smodel.safetensors", path,
                 path[0] && path[strlen(path) - 1] == '/' ? "" : "/");
    else
        snprintf(file, sizeof file, "%s", path);
    enum st_status st = header_only ? st_safetensors_read_header(file, &f, err)
                                    : st_safetensors_read(file, &f, err);
    if (st != ST_OK)
        return st;
    memset(&q, 0, sizeof q);
    q.meta.n = f.n_meta;
    q.meta.keys = f.meta_keys;
    q.meta.vals = f.meta_vals;
    const char *arch = st_meta_get(&q.meta, "arch");
    struct st_arch a;
    memset(&a, 0, sizeof a);
    a.family = arch ? st_family_find(arch) : 0;
    if (a.family < 0) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: metadata arch '%.32s': expected one of %s", path,
                        arch, st_family_choices());
        goto out;
    }
    ft = file_tensors(&f);
    map = malloc((size_t)(f.n_tensors ? f.n_tensors : 1) * sizeof *map);
    if (!ft || !map) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    /* GPT-2's own files (Hugging Face's, nanoGPT's) carry no sparsetune
     * metadata: recognized by their names, the heads from a config.json
     * beside them. */
    if (!arch && st_gpt_file_is_gpt2(ft, f.n_tensors)) {
        a.family = st_family_find("gpt");
        if (!st_meta_get(&q.meta, "n_head") && (st = config_heads(file, &f, err)) != ST_OK)
            goto out;
        q.meta.n = f.n_meta;
        q.meta.keys = f.meta_keys;
        q.meta.vals = f.meta_vals;
        if (!st_meta_get(&q.meta, "n_head")) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: GPT-2's tensors, but not how many attention "
                            "heads they hold: put the model's config.json (with \"n_head\") "
                            "beside it", file);
            goto out;
        }
    }
    for (int i = 0; i < f.n_tensors; i++)
        map[i] = -1;
    snprintf(q.layout, sizeof q.layout, "%s", st_gpt_file_layout(ft, f.n_tensors));
    st = st_family_at(a.family)->from_file(ft, f.n_tensors, &q.meta, path, &a, &q.named, map, err);
    if (st == ST_OK)
        st = st_model_init(&q.model, &a, err);
    if (st == ST_OK)
        st = header_only ? st_model_layout(&q.model, &q.p, err)
                         : st_model_params(&q.model, &q.p, err);
    if (st == ST_OK)
        st = copy_values(path, &f, map, &q.p, err);
    if (st == ST_OK) {
        /* The metadata now belong to mf. */
        f.n_meta = 0;
        f.meta_keys = f.meta_vals = NULL;
        *mf = q;
        memset(&q, 0, sizeof q);
    }
out:
    if (st != ST_OK) {
        st_params_free(&q.p);
        st_model_free(&q.model);
    }
    free(ft);
    free(map);
    st_safetensors_file_free(&f);
    return st;
}

enum st_status st_modelfile_check(const struct st_modelfile *mf, const struct st_model *m,
                                  const char *opt, const char *path, struct st_err *err)
{
    if (mf->model.f != m->f)
        return st_err_set(err, ST_ERR_SHAPE, "--%s %s: a model of the %s family; the run's --arch "
                          "is %s", opt, path, mf->model.f->name, m->f->name);
    return m->f->same(&m->arch, &mf->model.arch, mf->named, opt, path, err);
}

void st_modelfile_free(struct st_modelfile *mf)
{
    if (!mf)
        return;
    st_params_free(&mf->p);
    st_model_free(&mf->model);
    for (int i = 0; i < mf->meta.n; i++) {
        free(mf->meta.keys[i]);
        free(mf->meta.vals[i]);
    }
    free(mf->meta.keys);
    free(mf->meta.vals);
    memset(mf, 0, sizeof *mf);
}

/* A GPT's views under GPT-2's names in layout "hf" (the projections'
 * weights transposed to [in, out]) or "nanogpt" (the transformer. prefix and
 * a tied lm_head.weight): a copy of p in e. */
static enum st_status gpt2_views(const struct st_model *m, const struct st_params *p,
                                 const char *layout, struct st_params *e, struct st_err *err)
{
    int hf = !strcmp(layout, "hf");
    enum st_status st = ST_OK;
    char name[ST_NAME_MAX];
    memset(e, 0, sizeof *e);
    for (int t = 0; t <= p->n_views && st == ST_OK; t++) {
        /* After the views, nanoGPT's lm_head: wte again. */
        const struct st_view *v = &p->v[t < p->n_views ? t : ST_GPT_VIEW_WTE];
        const char *groups[ST_VIEW_GROUPS];
        for (int k = 0; k < v->n_groups; k++)
            groups[k] = v->groups[k];
        if (t == p->n_views && hf)
            break;
        int tr = t < p->n_views && st_gpt2_name(m, t, !hf, name, sizeof name) && hf;
        st = st_params_add(e, t < p->n_views ? name : "lm_head.weight", v->role, v->ndim,
                           tr ? v->cols : v->rows, tr ? v->rows : v->cols, v->kind, groups,
                           v->n_groups, err);
    }
    if (st == ST_OK)
        st = st_params_alloc(e, err);
    for (int t = 0; st == ST_OK && t < e->n_views; t++) {
        const struct st_view *v = &p->v[t < p->n_views ? t : 0];
        float *d = e->v[t].data;
        if (hf && t < p->n_views && st_gpt2_name(m, t, 0, name, sizeof name)) /* [in, out] */
            for (int i = 0; i < v->rows; i++)
                for (int j = 0; j < v->cols; j++)
                    d[(size_t)j * (size_t)v->rows + (size_t)i] = v->data[(size_t)i * (size_t)v->cols + (size_t)j];
        else
            memcpy(d, v->data, st_view_size(v) * sizeof(float));
    }
    if (st != ST_OK)
        st_params_free(e);
    return st;
}

/* p's views with sparsetune's metadata (the family's, role, the extra
 * pairs) under the family's file names, or (own_names) under the views' own
 * names. */
static enum st_status write_views(const char *path, const struct st_model *m,
                                  const struct st_params *p, const char *role,
                                  const char *const *extra_keys, const char *const *extra_vals,
                                  int n_extra, int own_names, struct st_err *err)
{
    struct st_meta_out fam;
    const char **keys = malloc((size_t)(2 + ST_META_MAX + n_extra) * sizeof *keys);
    const char **vals = malloc((size_t)(2 + ST_META_MAX + n_extra) * sizeof *vals);
    char **names = calloc((size_t)(p->n_views ? p->n_views : 1), sizeof *names);
    enum st_status st = ST_OK;
    int n = 0;

    if (!keys || !vals || !names) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    memset(&fam, 0, sizeof fam);
    m->f->meta(m, &fam);
    keys[n] = "format";
    vals[n++] = "sparsetune";
    for (int i = 0; i < fam.n; i++) {
        keys[n] = fam.keys[i];
        vals[n++] = fam.vals[i];
    }
    keys[n] = "role";
    vals[n++] = role;
    for (int i = 0; i < n_extra; i++) {
        keys[n] = extra_keys[i];
        vals[n++] = extra_vals[i];
    }
    for (int t = 0; !own_names && t < p->n_views && st == ST_OK; t++) {
        names[t] = malloc(ST_NAME_MAX + 64);
        if (!names[t])
            st = st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
        else
            m->f->file_name(m, p, t, names[t], ST_NAME_MAX + 64);
    }
    if (st == ST_OK)
        st = st_safetensors_write(path, p, own_names ? NULL : (const char *const *)names, keys,
                                  vals, n, err);
out:
    for (int t = 0; names && t < p->n_views; t++)
        free(names[t]);
    free(names);
    free(keys);
    free(vals);
    return st;
}

enum st_status st_modelfile_write(const char *path, const struct st_model *m,
                                  const struct st_params *p, const char *role,
                                  const char *const *extra_keys, const char *const *extra_vals,
                                  int n_extra, struct st_err *err)
{
    return write_views(path, m, p, role, extra_keys, extra_vals, n_extra, 0, err);
}

enum st_status st_modelfile_write_as(const char *path, const struct st_model *m,
                                     const struct st_params *p, const char *role,
                                     const char *const *extra_keys, const char *const *extra_vals,
                                     int n_extra, const char *layout, struct st_err *err)
{
    if (!layout || (strcmp(layout, "hf") && strcmp(layout, "nanogpt")) ||
        m->f != &st_gpt_family)
        return write_views(path, m, p, role, extra_keys, extra_vals, n_extra, 0, err);
    struct st_params e;
    enum st_status st = gpt2_views(m, p, layout, &e, err);
    if (st == ST_OK)
        st = write_views(path, m, &e, role, extra_keys, extra_vals, n_extra, 1, err);
    st_params_free(&e);
    return st;
}
