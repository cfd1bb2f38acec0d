/* gpt.h: the GPT family (DESIGN.md "Transformers"): GPT-2's architecture,
 * token and position embeddings, L pre-LayerNorm blocks of causal
 * multi-head attention and a tanh-GELU MLP, a final LayerNorm and the head
 * tied to the token embedding. A sample is T token ids (as floats); its
 * outputs are T rows of V logits.
 *
 * Layout, in view order: wte [V, C], wpe [T, C]; per block i: h{i}.ln1.w,
 * h{i}.ln1.b [C], h{i}.attn.qkv.w [3C, C], h{i}.attn.qkv.b [3C],
 * h{i}.attn.proj.w [C, C], h{i}.attn.proj.b [C], h{i}.ln2.w, h{i}.ln2.b [C],
 * h{i}.mlp.fc.w [4C, C], h{i}.mlp.fc.b [4C], h{i}.mlp.proj.w [C, 4C],
 * h{i}.mlp.proj.b [C]; then lnf.w, lnf.b [C]. Units: emb (wte, wpe), h{i},
 * lnf; further groups h{i}.attn (ln1 and attn.*) and h{i}.mlp (ln2 and
 * mlp.*). */
#ifndef ST_GPT_H
#define ST_GPT_H

#include "model.h"

/* Views per block, and the index of block i's first view. */
#define ST_GPT_BLOCK_VIEWS 12
#define ST_GPT_VIEW_WTE 0
#define ST_GPT_VIEW_WPE 1
#define ST_GPT_BLOCK0 2

/* A block's views, in layout order: name within the block (h{i}.<name>),
 * role (the short kind the heatmap's columns show), rows and columns in
 * units of C (cols 0: a vector), kind, its half (0 attn, 1 mlp), and its
 * name in GPT-2's own files (h.{i}.<gpt2>). The weight matrices are the
 * projections Hugging Face's files store transposed (Conv1D). */
struct st_gpt_block_view {
    const char *name, *role;
    int rows, cols;
    enum st_kind kind;
    int mlp;
    const char *gpt2;
};
extern const struct st_gpt_block_view st_gpt_block_views[ST_GPT_BLOCK_VIEWS];

/* A GPT's sizes. */
struct st_gpt {
    int L, H, C, V, T; /* blocks, heads, width, vocabulary, context */
};

extern const struct st_family st_gpt_family;

/* The sizes of a GPT model (NULL for another family). */
const struct st_gpt *st_gpt_of(const struct st_model *m);

/* gpt_file.c: model files. */
void st_gpt_meta(const struct st_model *m, struct st_meta_out *out);
void st_gpt_file_name(const struct st_model *m, const struct st_params *p, int t, char *buf,
                      size_t size);
enum st_status st_gpt_from_file(const struct st_file_tensor *t, int n, const struct st_meta *meta,
                                const char *path, struct st_arch *arch, unsigned *named, int *map,
                                struct st_err *err);
enum st_status st_gpt_same(const struct st_arch *run, const struct st_arch *file, unsigned named,
                           const char *opt, const char *what, struct st_err *err);

/* Whether a file's tensors are GPT-2's own (wte.weight, with or without
 * the transformer. prefix): a GPT file without sparsetune's metadata. */
int st_gpt_file_is_gpt2(const struct st_file_tensor *t, int n);

/* A file's layout: "hf" (Hugging Face's GPT-2: Conv1D weights [in, out]),
 * "nanogpt" (GPT-2's names, nn.Linear's [out, in]) or "sparsetune". */
const char *st_gpt_file_layout(const struct st_file_tensor *t, int n);

/* View t's name in GPT-2's files (prefixed: after "transformer.") into buf;
 * returns 1 for a projection weight, which Hugging Face's layout stores
 * transposed. */
int st_gpt2_name(const struct st_model *m, int t, int prefixed, char *buf, size_t size);

#endif
