/* mlp.h: the multilayer perceptron, the first model family (model.h).
 * Layer l (1..L): h_l = act(h_{l-1} W_l^T + b_l), no activation after layer L.
 * Inputs and outputs are row-major [batch, width]; W_l is [out, in] as in
 * PyTorch. Its tensors are w1, b1, w2, b2, ... (unit: the layer number, "2");
 * in files layers.{l-1}.weight and layers.{l-1}.bias, or a torch.nn.Sequential's
 * {k}.weight and {k}.bias on import. Inside, activations are feature-major
 * [width, ld] (dense.h): each layer's products go through the blocked kernels
 * of dense_kern.c or through cblas_sgemm, whichever the run chose.
 *
 * Only src/core uses what is declared here besides st_mlp_family; the rest
 * of the program goes through model.h. */
#ifndef ST_MLP_H
#define ST_MLP_H

#include "act.h"
#include "model.h"

/* Until a run chooses (--products), layers with in * out above this go to
 * cblas_sgemm, the others to the dense.c kernels: --products fixed. */
#define ST_MLP_FIXED_MAX (256L * 256L)

extern const struct st_family st_mlp_family;

/* What the family keeps of an MLP model (its st_model's impl). */
struct st_mlp {
    int n_layers;                       /* L >= 1 */
    int widths[ST_MLP_MAX_LAYERS + 1];  /* input, hidden..., output */
    enum st_act act;
    unsigned char blas[ST_MLP_MAX_LAYERS + 1]; /* blas[l]: layer l's products through BLAS */
};

/* The MLP of an st_model made from an MLP architecture. */
struct st_mlp *st_mlp_of(const struct st_model *m);

/* Largest width, for scratch sizing. */
int st_mlp_max_width(const struct st_mlp *net);

/* The MLP's model-file hooks (mlp_file.c). */
void st_mlp_meta(const struct st_model *m, struct st_meta_out *out);
void st_mlp_file_name(const struct st_model *m, const struct st_params *p, int t, char *buf,
                      size_t size);
enum st_status st_mlp_from_file(const struct st_file_tensor *t, int n, const struct st_meta *meta,
                                const char *what, struct st_arch *arch, unsigned *named, int *map,
                                struct st_err *err);
enum st_status st_mlp_same(const struct st_arch *run, const struct st_arch *file, unsigned named,
                           const char *opt, const char *what, struct st_err *err);

#endif
