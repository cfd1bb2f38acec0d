/* gpt_file.c: a GPT's model files: its metadata, its tensors' names (those
 * of its layout, gpt.h) and the model recognized in a file's tensors. */
#include "gpt.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bits of *named, in the order of the family's options. */
enum { NAMED_LAYERS = 1u, NAMED_HEADS = 2u, NAMED_WIDTH = 4u, NAMED_VOCAB = 8u, NAMED_CONTEXT = 16u };

void st_gpt_meta(const struct st_model *m, struct st_meta_out *out)
{
    const struct st_gpt *g = st_gpt_of(m);
    static const char *const keys[] = { "arch", "n_layer", "n_head", "d_model", "vocab",
                                        "context" };
    const int vals[] = { 0, g->L, g->H, g->C, g->V, g->T };
    out->n = 6;
    for (int i = 0; i < 6; i++) {
        out->keys[i] = keys[i];
        if (i == 0)
            snprintf(out->vals[i], sizeof out->vals[i], "gpt");
        else
            snprintf(out->vals[i], sizeof out->vals[i], "%d", vals[i]);
    }
}

/* Files name the tensors as the layout does. */
void st_gpt_file_name(const struct st_model *m, const struct st_params *p, int t, char *buf,
                      size_t size)
{
    (void)m;
    snprintf(buf, size, "%s", p->v[t].name);
}

static const char *meta_get(const struct st_meta *meta, const char *key)
{
    for (int i = 0; i < meta->n; i++)
        if (!strcmp(meta->keys[i], key))
            return meta->vals[i];
    return NULL;
}

/* A block number at s ("0." ... "255."), its digits and dot skipped in *rest;
 * -1 if s does not start with one. */
static long block_at(const char *s, const char **rest)
{
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '.'))
        return -1;
    char *end;
    long i = strtol(s, &end, 10);
    if (*end != '.' || i > 255)
        return -1;
    *rest = end + 1;
    return i;
}

/* The view a file tensor's name stands for with L blocks: 0 wte, 1 wpe,
 * block views, then lnf.w, lnf.b as -2, -3 (their index depends on L); its
 * block in *block (-1 outside blocks); -1 for another name, -4 for a name to
 * pass over (GPT-2's attention mask buffers, and its lm_head, which GPT-2
 * ties to wte). Names are sparsetune's, or GPT-2's with or without the
 * "transformer." prefix. */
static int view_of(const char *name, int *block, int *role)
{
    const char *rest;
    long i;
    *block = -1;
    *role = -1;
    if (!strcmp(name, "wte"))
        return 0;
    if (!strcmp(name, "wpe"))
        return 1;
    if (!strcmp(name, "lnf.w"))
        return -2;
    if (!strcmp(name, "lnf.b"))
        return -3;
    if (name[0] == 'h' && (i = block_at(name + 1, &rest)) >= 0) {
        for (int r = 0; r < ST_GPT_BLOCK_VIEWS; r++)
            if (!strcmp(rest, st_gpt_block_views[r].name)) {
                *block = (int)i;
                *role = r;
                return ST_GPT_BLOCK0 + (int)i * ST_GPT_BLOCK_VIEWS + r;
            }
        return -1;
    }
    if (!strcmp(name, "lm_head.weight"))
        return -4;
    if (!strncmp(name, "transformer.", 12))
        name += 12;
    if (!strcmp(name, "wte.weight"))
        return 0;
    if (!strcmp(name, "wpe.weight"))
        return 1;
    if (!strcmp(name, "ln_f.weight"))
        return -2;
    if (!strcmp(name, "ln_f.bias"))
        return -3;
    if (!strncmp(name, "h.", 2) && (i = block_at(name + 2, &rest)) >= 0) {
        if (!strcmp(rest, "attn.bias") || !strcmp(rest, "attn.masked_bias"))
            return -4;
        for (int r = 0; r < ST_GPT_BLOCK_VIEWS; r++)
            if (!strcmp(rest, st_gpt_block_views[r].gpt2)) {
                *block = (int)i;
                *role = r;
                return ST_GPT_BLOCK0 + (int)i * ST_GPT_BLOCK_VIEWS + r;
            }
    }
    return -1;
}

const char *st_gpt_file_layout(const struct st_file_tensor *t, int n)
{
    if (!st_gpt_file_is_gpt2(t, n))
        return "sparsetune";
    for (int i = 0; i < n; i++)
        if (strstr(t[i].name, "attn.c_attn.weight") && t[i].ndim == 2 &&
            t[i].shape[1] == 3 * t[i].shape[0])
            return "hf";
    return "nanogpt";
}

int st_gpt2_name(const struct st_model *m, int t, int prefixed, char *buf, size_t size)
{
    const struct st_gpt *g = st_gpt_of(m);
    const char *pre = prefixed ? "transformer." : "";
    int lnf = ST_GPT_BLOCK0 + ST_GPT_BLOCK_VIEWS * g->L;
    if (t < ST_GPT_BLOCK0) {
        snprintf(buf, size, "%s%s", pre, t == ST_GPT_VIEW_WTE ? "wte.weight" : "wpe.weight");
        return 0;
    }
    if (t >= lnf) {
        snprintf(buf, size, "%sln_f.%s", pre, t == lnf ? "weight" : "bias");
        return 0;
    }
    int b = (t - ST_GPT_BLOCK0) / ST_GPT_BLOCK_VIEWS, r = (t - ST_GPT_BLOCK0) % ST_GPT_BLOCK_VIEWS;
    snprintf(buf, size, "%sh.%d.%s", pre, b, st_gpt_block_views[r].gpt2);
    return st_gpt_block_views[r].cols != 0; /* the four projections' weights */
}

int st_gpt_file_is_gpt2(const struct st_file_tensor *t, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, "wte.weight") || !strcmp(t[i].name, "transformer.wte.weight"))
            return 1;
    return 0;
}

/* The shape block view role r must have at width C: rows, cols (0: a
 * vector). */
static void block_shape(int r, int C, int64_t *rows, int64_t *cols)
{
    *rows = (int64_t)st_gpt_block_views[r].rows * C;
    *cols = (int64_t)st_gpt_block_views[r].cols * C;
}

static int shape_is(const struct st_file_tensor *t, int64_t rows, int64_t cols)
{
    return cols ? t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols
                : t->ndim == 1 && t->shape[0] == rows;
}

static void shape_text(char *buf, size_t size, const struct st_file_tensor *t)
{
    if (t->ndim == 2)
        snprintf(buf, size, "[%" PRId64 ", %" PRId64 "]", t->shape[0], t->shape[1]);
    else if (t->ndim == 1)
        snprintf(buf, size, "[%" PRId64 "]", t->shape[0]);
    else
        snprintf(buf, size, "of %d dimensions", t->ndim);
}

enum st_status st_gpt_from_file(const struct st_file_tensor *t, int n, const struct st_meta *meta,
                                const char *path, struct st_arch *arch, unsigned *named, int *map,
                                struct st_err *err)
{
    int wte = -1, wpe = -1, L = 0, used = 0, conv1d = 0;
    char s1[64];
    /* The embeddings give C, V and T; the highest block index gives L. */
    for (int i = 0; i < n; i++) {
        int block, role, v = view_of(t[i].name, &block, &role);
        if (v == -1)
            return st_err_set(err, ST_ERR_FORMAT, "%s: unexpected tensor '%s' in a GPT file "
                              "(expected wte, wpe, h{i}.ln1.w ... h{i}.mlp.proj.b, lnf.w, lnf.b, "
                              "or GPT-2's names)", path, t[i].name);
        used += v != -4;
        if (v == 0)
            wte = i;
        if (v == 1)
            wpe = i;
        if (block + 1 > L)
            L = block + 1;
        /* Hugging Face's GPT-2 stores its projections as Conv1D, [in, out]:
         * c_attn.weight [C, 3C] where nn.Linear (nanoGPT) has [3C, C]. */
        if (role == 2 && strstr(t[i].name, "c_attn") && t[i].ndim == 2 &&
            t[i].shape[1] == 3 * t[i].shape[0])
            conv1d = 1;
    }
    if (wte < 0 || wpe < 0)
        return st_err_set(err, ST_ERR_FORMAT, "%s: a GPT file without %s", path,
                          wte < 0 ? "wte" : "wpe");
    const struct st_file_tensor *te = &t[wte], *tp = &t[wpe];
    if (te->ndim != 2 || te->shape[0] < 2 || te->shape[0] > INT_MAX || te->shape[1] < 1 ||
        te->shape[1] > INT_MAX) {
        shape_text(s1, sizeof s1, te);
        return st_err_set(err, ST_ERR_SHAPE, "%s: wte has shape %s, expected [vocab, d_model]",
                          path, s1);
    }
    int V = (int)te->shape[0], C = (int)te->shape[1];
    if (tp->ndim != 2 || tp->shape[1] != C || tp->shape[0] < 1 || tp->shape[0] > INT_MAX) {
        shape_text(s1, sizeof s1, tp);
        return st_err_set(err, ST_ERR_SHAPE, "%s: wpe has shape %s, expected [context, %d]",
                          path, s1, C);
    }
    int T = (int)tp->shape[0], n_views = ST_GPT_BLOCK0 + ST_GPT_BLOCK_VIEWS * L + 2;
    if (L < 1)
        return st_err_set(err, ST_ERR_FORMAT, "%s: a GPT file without blocks (h0.*)", path);
    if (used != n_views)
        return st_err_set(err, ST_ERR_FORMAT, "%s: %d tensors; a GPT of %d blocks has %d", path,
                          used, L, n_views);
    for (int v = 0; v < n_views; v++)
        map[v] = -1;
    for (int i = 0; i < n; i++) {
        int block, role, v = view_of(t[i].name, &block, &role);
        int64_t rows = C, cols = 0;
        if (v == -4)
            continue;
        if (v == -2 || v == -3)
            v = ST_GPT_BLOCK0 + ST_GPT_BLOCK_VIEWS * L + (v == -2 ? 0 : 1);
        else if (role >= 0)
            block_shape(role, C, &rows, &cols);
        if (map[v] >= 0)
            return st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s' twice", path, t[i].name);
        map[v] = i;
        if (conv1d && cols && role >= 0 && strstr(t[i].name, ".c_")) {
            int64_t tmp = rows; /* stored [in, out]: transposed on reading */
            rows = cols;
            cols = tmp;
            map[v] = i | ST_MAP_TRANSPOSED;
        }
        if (v > 1 && !shape_is(&t[i], rows, cols)) {
            char want[64];
            struct st_file_tensor w = { t[i].name, cols ? 2 : 1, { rows, cols } };
            shape_text(s1, sizeof s1, &t[i]);
            shape_text(want, sizeof want, &w);
            return st_err_set(err, ST_ERR_SHAPE, "%s: %s has shape %s, expected %s (d_model %d)",
                              path, t[i].name, s1, want, C);
        }
    }
    arch->gpt_layers = L;
    arch->d_model = C;
    arch->vocab = V;
    arch->context = T;
    *named = NAMED_LAYERS | NAMED_WIDTH | NAMED_VOCAB | NAMED_CONTEXT;
    const char *h = meta_get(meta, "n_head");
    if (h) {
        char *end;
        long H = strtol(h, &end, 10);
        if (end == h || *end || H < 1 || H > C || C % H)
            return st_err_set(err, ST_ERR_FORMAT, "%s: metadata n_head '%.32s', expected a "
                              "divisor of d_model %d", path, h, C);
        arch->n_head = (int)H;
        *named |= NAMED_HEADS;
    }
    return ST_OK;
}

enum st_status st_gpt_same(const struct st_arch *run, const struct st_arch *file, unsigned named,
                           const char *opt, const char *what, struct st_err *err)
{
    static const char *const names[] = { "n-layer", "n-head", "d-model", "vocab", "context" };
    const int have[] = { file->gpt_layers, file->n_head, file->d_model, file->vocab,
                         file->context };
    const int want[] = { run->gpt_layers, run->n_head, run->d_model, run->vocab, run->context };
    for (int i = 0; i < 5; i++)
        if ((named >> i & 1u) && have[i] != want[i])
            return st_err_set(err, ST_ERR_SHAPE, "--%s %s: a GPT of --%s %d; the run's is %d", opt,
                              what, names[i], have[i], want[i]);
    return ST_OK;
}
