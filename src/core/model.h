/* model.h: the model interface. A model family (the MLP, mlp.h) is a table of
 * functions, struct st_family, and model.c lists the families in one array;
 * everything outside src/core reaches a model through the st_model_* and
 * st_work_* functions below, never through a family's own functions.
 *
 * A table of functions rather than a tagged union: with a union every entry
 * point would switch over the families, so a new family would be a patch on
 * each of them; with a table, its code stays in its own files and the
 * dispatch is the one line that lists it.
 *
 * A model maps a batch of B samples, each `in` floats (an MLP's input
 * features; a language model's token ids as floats), to B * rows rows of
 * `cols` outputs (an MLP: one row per sample). Losses see the outputs as
 * [B * rows, cols]. Parameters live in st_params (params.h), laid out by the
 * family; the family names every tensor, its kind and its groups. */
#ifndef ST_MODEL_H
#define ST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "act.h"
#include "params.h"
#include "rng.h"
#include "status.h"

/* Layers of an MLP: widths[0..n_layers]. */
#define ST_MLP_MAX_LAYERS 64

/* A model's architecture as the run options describe it: its family and
 * that family's sizes (each family reads only its own fields). */
struct st_arch {
    int family;                        /* index into the families (st_family_at) */
    /* mlp: --widths, --activation */
    int n_layers;                      /* L >= 1 */
    int widths[ST_MLP_MAX_LAYERS + 1]; /* input, hidden..., output */
    enum st_act act;                   /* hidden activation */
    /* gpt: --n-layer, --n-head, --d-model, --vocab, --context */
    int gpt_layers, n_head, d_model, vocab, context;
};

struct st_family;

/* A model ready to lay out, draw and run. */
struct st_model {
    const struct st_family *f;
    struct st_arch arch;
    void *impl; /* the family's own state (its sizes, derived once); owned */
};

/* Buffers of a forward and backward pass for batches up to max_batch. Setup
 * allocates them once; the passes never allocate. */
struct st_work {
    const struct st_family *f;
    int max_batch;
    void *impl; /* owned by the family */
};

/* One sample's shape: in floats in, rows x cols outputs. */
struct st_model_io {
    long in, rows, cols;
};

/* A tensor as a file lists it (for a family to recognize its layout). */
struct st_file_tensor {
    const char *name;
    int ndim;
    int64_t shape[2];
};

/* A file's metadata: n string pairs. */
struct st_meta {
    int n;
    char **keys, **vals;
};

/* Metadata a family writes into model files. */
#define ST_META_MAX 8
#define ST_META_VALUE_MAX 1100
struct st_meta_out {
    int n;
    const char *keys[ST_META_MAX];
    char vals[ST_META_MAX][ST_META_VALUE_MAX];
};

/* A model family. Every function gets a model that init accepted. */
struct st_family {
    const char *name; /* the value of --arch: "mlp" */
    /* The run options that describe its architecture, NULL-terminated. */
    const char *const *options;
    /* Checks m->arch and sets m->impl. Errors: ST_ERR_ARG naming the option. */
    enum st_status (*init)(struct st_model *m, struct st_err *err);
    void (*free)(struct st_model *m);
    /* Appends the model's tensors to an empty layout (st_params_add). */
    enum st_status (*layout)(const struct st_model *m, struct st_params *p, struct st_err *err);
    /* Draws the initial values of the views with mask[t] set (NULL: all) from
     * rng, in view order. */
    void (*draw)(const struct st_model *m, struct st_params *p, struct st_rng *rng,
                 const unsigned char *mask);
    struct st_model_io (*io)(const struct st_model *m);
    /* Draws the inputs of n floats (whole samples) for a teacher to label,
     * where the family has its own kind of input (a language model's token
     * ids); NULL: real-valued inputs drawn by --data-dist. */
    void (*draw_inputs)(const struct st_model *m, struct st_rng *rng, float *x, long n);
    /* Checks inputs read from a file (x[n] floats, opt and path naming them):
     * a language model's token ids must be whole numbers in its vocabulary.
     * NULL: any finite input. Errors: ST_ERR_FORMAT naming the entry. */
    enum st_status (*check_inputs)(const struct st_model *m, const float *x, long n,
                                   const char *opt, const char *path, struct st_err *err);
    /* Bytes of the work buffers for a batch. */
    double (*work_bytes)(const struct st_model *m, long batch);
    enum st_status (*work_init)(const struct st_model *m, struct st_work *w, int max_batch,
                                struct st_err *err);
    void (*work_free)(struct st_work *w);
    /* See st_model_forward and st_model_backward. */
    const float *(*forward)(const struct st_model *m, const struct st_params *p,
                            struct st_work *w, const float *x, int B);
    void (*backward)(const struct st_model *m, const struct st_params *p, struct st_work *w,
                     struct st_params *g, const float *dy, int B,
                     const unsigned char *trainable);
    /* Layers whose products run either through the family's own kernels or
     * through BLAS, the two equal up to rounding (NULL: one way only, for a
     * GPT BLAS). Returns their count and fills their inputs and outputs
     * (room for ST_MLP_MAX_LAYERS). */
    int (*product_layers)(const struct st_model *m, int *in, int *out);
    /* Seconds of layer i's forward and backward products on B samples, the
     * own kernels (blas 0) or BLAS (1), on the threads set now. */
    double (*time_products)(const struct st_model *m, int i, int B, int blas);
    /* Layer i's products through BLAS where blas[i] is set. */
    void (*set_products)(struct st_model *m, const unsigned char *blas);
    /* One line for config.ini and reports: "mlp 1,20,20,1 relu". */
    void (*describe)(const struct st_model *m, char *buf, size_t size);
    /* The unit --reinit middle names ("2" for a 3-layer MLP). */
    void (*middle)(const struct st_model *m, char *buf, size_t size);
    /* The metadata describing the architecture in model files; a family
     * other than the first also writes "arch" = its name. */
    void (*meta)(const struct st_model *m, struct st_meta_out *out);
    /* The name view t has in model files. */
    void (*file_name)(const struct st_model *m, const struct st_params *p, int t, char *buf,
                      size_t size);
    /* Recognizes the model in a file's tensors t[n] and metadata: fills
     * arch (family already set), sets bit i of *named for each of options[i]
     * the file determines (an MLP's widths always, its activation when the
     * metadata names it), and map[view] = the file tensor of each view of
     * the layout (map has room for n: a layout has no more views than the
     * file tensors; map[view] < 0 says none was found; a map entry with
     * ST_MAP_TRANSPOSED set is a file tensor stored [cols, rows], read
     * transposed). what names the file in messages. Errors: ST_ERR_FORMAT,
     * ST_ERR_SHAPE with a message naming the tensors. */
    enum st_status (*from_file)(const struct st_file_tensor *t, int n, const struct st_meta *meta,
                                const char *what, struct st_arch *arch, unsigned *named,
                                int *map, struct st_err *err);
    /* ST_OK when the run's architecture agrees with a file's on every
     * option in named; else ST_ERR_SHAPE or ST_ERR_FORMAT with a message
     * that starts "--OPT WHAT: " and names both values. */
    enum st_status (*same)(const struct st_arch *run, const struct st_arch *file,
                           unsigned named, const char *opt, const char *what,
                           struct st_err *err);
};

/* In a from_file map: the file tensor (the other bits) is the view
 * transposed. */
#define ST_MAP_TRANSPOSED (1 << 30)

/* The families, and the one called name (NULL if none). */
int st_family_count(void);
const struct st_family *st_family_at(int i);
int st_family_find(const char *name);
/* The families' names, comma-separated (for help and errors). */
const char *st_family_choices(void);

/* The MLP of widths[0..n_layers] and activation act, as an architecture. */
void st_arch_mlp(struct st_arch *a, const int *widths, int n_layers, enum st_act act);

/* Checks a and makes the model. Errors: ST_ERR_ARG. Free with st_model_free. */
enum st_status st_model_init(struct st_model *m, const struct st_arch *a, struct st_err *err);
void st_model_free(struct st_model *m);

/* The model's tensors as views without floats (a layout), or allocated and
 * zeroed (st_model_params). Errors: ST_ERR_ARG, ST_ERR_NOMEM. */
enum st_status st_model_layout(const struct st_model *m, struct st_params *p, struct st_err *err);

/* The layout of the model architecture a describes, without keeping the
 * model (for reports and checks). Errors: those of st_model_init and
 * st_model_layout. */
enum st_status st_arch_layout(const struct st_arch *a, struct st_params *p, struct st_err *err);
enum st_status st_model_params(const struct st_model *m, struct st_params *p, struct st_err *err);

/* Draws the tensors with mask[t] set (NULL: all) from rng, in view order. */
void st_model_draw(const struct st_model *m, struct st_params *p, struct st_rng *rng,
                   const unsigned char *mask);

struct st_model_io st_model_io(const struct st_model *m);

/* Draws n floats of inputs by the family's own rule (st_family.draw_inputs);
 * 0 when the family has none (the caller draws by --data-dist), else 1. */
int st_model_draw_inputs(const struct st_model *m, struct st_rng *rng, float *x, long n);

/* The family's check of inputs read from a file (st_family.check_inputs);
 * ST_OK for a family without one. */
enum st_status st_model_check_inputs(const struct st_model *m, const float *x, long n,
                                     const char *opt, const char *path, struct st_err *err);

/* The memory a run of this model needs besides its data: the parameters and
 * n_copies more of their size (gradients, optimizer state, saved copies),
 * and the work buffers of a batch. */
double st_model_bytes(const struct st_model *m, int n_copies, long batch);

/* Work buffers of a pass over a whole set (labelling it, evaluating it) stay
 * under this many bytes; a larger set is run in pieces. */
#define ST_PASS_BYTES (1024.0 * 1024.0 * 1024.0)

/* The rows of one pass over a set of n rows (n >= 1): n, halved until its
 * work buffers fit ST_PASS_BYTES, and at most 2^31 - 1. A set that fits runs
 * in one pass: a row's outputs from one matrix product over many rows can
 * differ in the last bit with the number of rows beside it, so a set runs in
 * pieces only when it must. */
long st_model_pass_rows(const struct st_model *m, long n);

void st_model_describe(const struct st_model *m, char *buf, size_t size);
void st_model_middle(const struct st_model *m, char *buf, size_t size);

/* Allocates the pass buffers for batches of 1..max_batch. Errors:
 * ST_ERR_ARG, ST_ERR_NOMEM. Free with st_work_free (accepts a zeroed struct). */
enum st_status st_work_init(struct st_work *w, const struct st_model *m, int max_batch,
                            struct st_err *err);
void st_work_free(struct st_work *w);

/* The layers whose products run either way (model.h's product hooks; 0
 * where the family has one way), their timing, and the choice. */
int st_model_product_layers(const struct st_model *m, int *in, int *out);
double st_model_time_products(const struct st_model *m, int i, int B, int blas);
void st_model_set_products(struct st_model *m, const unsigned char *blas);

/* Forward pass of x[B, in]: returns the outputs [B * rows, cols], valid until
 * the next pass on w, and keeps what st_model_backward needs. NULL when B is
 * not in 1..w->max_batch. */
const float *st_model_forward(const struct st_model *m, const struct st_params *p,
                              struct st_work *w, const float *x, int B);

/* Backward pass after st_model_forward on the same batch: adds
 * dLoss/dtheta into g given dy = dLoss/doutputs [B * rows, cols].
 * trainable[t] (per view, NULL = all) skips the gradients of frozen tensors
 * and the part of the chain nobody needs. */
void st_model_backward(const struct st_model *m, const struct st_params *p, struct st_work *w,
                       struct st_params *g, const float *dy, int B,
                       const unsigned char *trainable);

#endif
