/* mlp_file.c: the MLP in model files. sparsetune writes layer l's tensors as
 * layers.{l-1}.weight [out, in] and layers.{l-1}.bias [out] with "widths"
 * and "activation" in the metadata (the names torch.nn.ModuleList gives);
 * on import every tensor must be P{k}.weight or P{k}.bias with a prefix P
 * shared by all: "layers." (sparsetune's), "" (a torch.nn.Sequential's
 * state_dict, whose k skips the indices its activations hold: 0, 2, 4) or
 * any other ("model.", "net.0."). Layers are taken in increasing k. */
#include "mlp.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest activation name the metadata may give. */
#define ACT_MAX 16

/* "3,5,2" into buf (cut short if it does not fit). */
static void format_widths(char *buf, size_t size, const int *w, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? ",%d" : "%d", w[i]);
}

void st_mlp_meta(const struct st_model *m, struct st_meta_out *out)
{
    const struct st_mlp *net = m->impl;
    out->n = 2;
    out->keys[0] = "widths";
    format_widths(out->vals[0], sizeof out->vals[0], net->widths, net->n_layers + 1);
    out->keys[1] = "activation";
    snprintf(out->vals[1], sizeof out->vals[1], "%s", st_act_name(net->act));
}

/* View t is W (even t) or b (odd t) of layer t/2 + 1 (the order of its layout). */
void st_mlp_file_name(const struct st_model *m, const struct st_params *p, int t, char *buf,
                      size_t size)
{
    (void)m;
    snprintf(buf, size, "layers.%d.%s", t / 2, p->v[t].kind == ST_KIND_BIAS ? "bias" : "weight");
}

/* A tensor name read as P{k}.weight or P{k}.bias. */
struct layer_name {
    int i;             /* index of the file tensor */
    const char *name;
    size_t prefix_len; /* bytes of P: 7 for "layers.", 0 for a bare Sequential */
    int k;             /* layer index as written (Sequential counts activations too) */
    int is_bias;
};

/* Splits a name into prefix, index and kind; -1 if it has another form. The
 * index is decimal without leading zeros, so "1" and "01" never both occur,
 * and at most 6 digits long, so it fits an int. */
static int split_name(const char *name, struct layer_name *out)
{
    size_t len = strlen(name), end, start;
    int k = 0;
    if (len > 7 && !strcmp(name + len - 7, ".weight")) {
        end = len - 7;
        out->is_bias = 0;
    } else if (len > 5 && !strcmp(name + len - 5, ".bias")) {
        end = len - 5;
        out->is_bias = 1;
    } else {
        return -1;
    }
    start = end;
    while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9')
        start--;
    if (start == end || end - start > 6 || (name[start] == '0' && end - start > 1))
        return -1;
    if (start > 0 && name[start - 1] != '.')
        return -1;
    for (size_t i = start; i < end; i++)
        k = 10 * k + (name[i] - '0');
    out->name = name;
    out->prefix_len = start;
    out->k = k;
    return 0;
}

/* Orders by layer index, the weight before the bias. */
static int cmp_layer_name(const void *a, const void *b)
{
    const struct layer_name *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x->is_bias - y->is_bias;
}

/* Parses "3,5,2" into w[0..*n-1]; -1 unless it is 1 to max positive integers. */
static int parse_widths(const char *s, int *w, int max, int *n)
{
    *n = 0;
    for (;;) {
        char *end;
        long v;
        if (*s < '0' || *s > '9' || *n == max)
            return -1;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || v < 1 || v > INT_MAX)
            return -1;
        w[(*n)++] = (int)v;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

static const char *meta_get(const struct st_meta *meta, const char *key)
{
    for (int i = 0; i < meta->n; i++)
        if (!strcmp(meta->keys[i], key))
            return meta->vals[i];
    return NULL;
}

/* Checks the metadata's widths (if any) against w[0..L]; the activation it
 * names, if any, into arch (and bit 1 of *named). */
static enum st_status check_meta(const char *path, const struct st_meta *meta, const int *w,
                                 int L, struct st_arch *arch, unsigned *named, struct st_err *err)
{
    const char *mw = meta_get(meta, "widths"), *act = meta_get(meta, "activation");
    int mwidths[ST_MLP_MAX_LAYERS + 1], n = 0;
    char inferred[512];

    if (mw) {
        if (parse_widths(mw, mwidths, ST_MLP_MAX_LAYERS + 1, &n) != 0)
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: metadata widths '%.64s', expected comma-separated positive "
                              "integers",
                              path, mw);
        if (n != L + 1 || memcmp(mwidths, w, (size_t)n * sizeof *w) != 0) {
            format_widths(inferred, sizeof inferred, w, L + 1);
            return st_err_set(err, ST_ERR_SHAPE,
                              "%s: metadata widths '%.64s' disagree with the tensor shapes, which "
                              "give %.128s",
                              path, mw, inferred);
        }
    }
    if (act && strlen(act) >= ACT_MAX)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: metadata activation '%.32s' is %zu bytes long, expected fewer than "
                          "%d",
                          path, act, strlen(act), ACT_MAX);
    if (act && st_act_parse(act, &arch->act) != 0)
        return st_err_set(err, ST_ERR_FORMAT, "%s: unknown activation '%s' in its metadata "
                          "(expected one of %s)", path, act, st_act_choices());
    if (act)
        *named |= 2u;
    return ST_OK;
}

/* The weight/bias pairs of ln[0..n) (sorted), checked, into W[], b[] and the
 * widths w[0..*L]. */
static enum st_status chain(const char *path, const struct st_file_tensor *t,
                            const struct layer_name *ln, int n, int *W, int *b, int *w, int *L,
                            struct st_err *err)
{
    char s1[64], s2[64];
    *L = 0;
    for (int i = 0; i < n; i += 2) {
        const struct layer_name *a = &ln[i], *c = i + 1 < n ? &ln[i + 1] : NULL;
        const struct st_file_tensor *ta = &t[a->i], *tc = c ? &t[c->i] : NULL;
        const int plen = (int)a->prefix_len;
        if (a->is_bias)
            return st_err_set(err, ST_ERR_FORMAT, "%s: bias '%s' has no weight '%.*s%d.weight'",
                              path, a->name, plen, a->name, a->k);
        st_shape_text(s1, sizeof s1, ta->ndim, ta->shape);
        if (!c || c->k != a->k)
            return st_err_set(err, ST_ERR_FORMAT, "%s: weight '%s' %s has no bias '%.*s%d.bias'",
                              path, a->name, s1, plen, a->name, a->k);
        if (*L == ST_MLP_MAX_LAYERS)
            return st_err_set(err, ST_ERR_FORMAT, "%s: more than %d layers, expected at most %d",
                              path, ST_MLP_MAX_LAYERS, ST_MLP_MAX_LAYERS);
        if (ta->ndim != 2)
            return st_err_set(err, ST_ERR_SHAPE, "%s: weight '%s' has shape %s, expected [out, in]",
                              path, a->name, s1);
        if (ta->shape[0] < 1 || ta->shape[0] > INT_MAX || ta->shape[1] < 1 ||
            ta->shape[1] > INT_MAX)
            return st_err_set(err, ST_ERR_SHAPE,
                              "%s: weight '%s' has shape %s, expected sizes from 1 to %d", path,
                              a->name, s1, INT_MAX);
        st_shape_text(s2, sizeof s2, tc->ndim, tc->shape);
        if (tc->ndim != 1 || tc->shape[0] != ta->shape[0])
            return st_err_set(err, ST_ERR_SHAPE,
                              "%s: bias '%s' has shape %s, expected [%" PRId64
                              "] to match weight '%s' %s",
                              path, c->name, s2, ta->shape[0], a->name, s1);
        if (*L == 0) {
            w[0] = (int)ta->shape[1];
        } else if (ta->shape[1] != w[*L]) {
            st_shape_text(s2, sizeof s2, t[W[*L - 1]].ndim, t[W[*L - 1]].shape);
            return st_err_set(err, ST_ERR_SHAPE,
                              "%s: broken chain: weight '%s' %s takes %" PRId64
                              " inputs, but the previous layer's '%s' %s gives %d outputs",
                              path, a->name, s1, ta->shape[1], t[W[*L - 1]].name, s2, w[*L]);
        }
        W[*L] = a->i;
        b[*L] = c->i;
        w[++*L] = (int)ta->shape[0];
    }
    return ST_OK;
}

enum st_status st_mlp_from_file(const struct st_file_tensor *t, int n, const struct st_meta *meta,
                                const char *path, struct st_arch *arch, unsigned *named, int *map,
                                struct st_err *err)
{
    enum st_status st = ST_OK;
    struct layer_name *ln = NULL;
    int W[ST_MLP_MAX_LAYERS], b[ST_MLP_MAX_LAYERS], w[ST_MLP_MAX_LAYERS + 1], L = 0;

    if (n == 0)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: no tensors, expected pairs '{k}.weight' and '{k}.bias'", path);
    ln = malloc((size_t)n * sizeof *ln);
    if (!ln)
        return st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %d tensor names", path, n);
    for (int i = 0; i < n && st == ST_OK; i++) {
        const char *name = t[i].name;
        ln[i].i = i;
        if (t[i].ndim > 2)
            st = st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s': shape has %d dimensions, "
                            "expected at most 2 (an MLP has only matrices and vectors)", path,
                            name, t[i].ndim);
        else if (split_name(name, &ln[i]) != 0)
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: unexpected tensor '%s', expected only '{k}.weight' and "
                            "'{k}.bias' with k a layer index (after a prefix such as 'layers.' "
                            "shared by all tensors)",
                            path, name);
        else if (ln[i].prefix_len != ln[0].prefix_len ||
                 memcmp(name, ln[0].name, ln[0].prefix_len) != 0)
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: mixed tensor names '%s' and '%s', expected the same prefix "
                            "before every layer index",
                            path, ln[0].name, name);
    }
    /* Names are unique and indices canonical, so after sorting each layer is
     * a weight directly followed by its bias. */
    if (st == ST_OK) {
        qsort(ln, (size_t)n, sizeof *ln, cmp_layer_name);
        st = chain(path, t, ln, n, W, b, w, &L, err);
    }
    free(ln);
    if (st != ST_OK)
        return st;
    *named = 1u; /* the widths */
    arch->n_layers = L;
    memcpy(arch->widths, w, (size_t)(L + 1) * sizeof *w);
    arch->act = ST_ACT_RELU;
    if ((st = check_meta(path, meta, w, L, arch, named, err)) != ST_OK)
        return st;
    for (int l = 0; l < L; l++) {
        map[2 * l] = W[l];
        map[2 * l + 1] = b[l];
    }
    return ST_OK;
}

enum st_status st_mlp_same(const struct st_arch *run, const struct st_arch *file, unsigned named,
                           const char *opt, const char *what, struct st_err *err)
{
    int L = run->n_layers;
    if ((named & 1u) && (file->n_layers != L ||
                         memcmp(file->widths, run->widths, (size_t)(L + 1) * sizeof *run->widths))) {
        char have[512], want[512];
        format_widths(have, sizeof have, file->widths, file->n_layers + 1);
        format_widths(want, sizeof want, run->widths, L + 1);
        return st_err_set(err, ST_ERR_SHAPE, "--%s %s: a network of widths %s; the run's "
                          "--widths is %s", opt, what, have, want);
    }
    if ((named & 2u) && file->act != run->act)
        return st_err_set(err, ST_ERR_FORMAT, "--%s %s: its metadata says activation '%s'; the "
                          "run's --activation is %s", opt, what, st_act_name(file->act),
                          st_act_name(run->act));
    return ST_OK;
}
