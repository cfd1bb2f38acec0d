/* data.h: data sets from .npy or .csv files (by the name's extension),
 * checked against the network they feed: inputs [N, in] with every value
 * finite; targets [N, out] (mse) or class indices [N] / [N, 1] (xent),
 * integers from 0 to out - 1. A CSV file holds numbers only, after an
 * optional header row (taken as one when any of its cells is not a number);
 * rows of another length and cells that are not numbers are errors naming
 * the line and column. */
#ifndef ST_DATA_H
#define ST_DATA_H

#include "../core/loss.h"
#include "../core/model.h"
#include "../core/status.h"
#include "../io/npy.h"
#include "../io/tokens.h"

/* Reads inputs for a network with in inputs. opt names the option in
 * messages ("x", "eval-x"). Errors: those of st_npy_read; ST_ERR_FORMAT for
 * a shape other than [N >= 1, in] or a non-finite value (row and column named). */
enum st_status st_data_read_inputs(const char *opt, const char *path, int in, struct st_npy *a,
                                   struct st_err *err);

/* Reads n rows of targets for a network with out outputs at per positions
 * per input row (1 for an MLP, the context for a GPT) under loss: rows of
 * per * out values, or of per class indices under xent. Errors: those of
 * st_npy_read; ST_ERR_FORMAT for another shape, a non-finite target, or a
 * class that is not an integer in [0, out). */
enum st_status st_data_read_targets(const char *path, long n, long per, int out,
                                    enum st_loss_kind loss, struct st_npy *b, struct st_err *err);

/* A run's training set, each file read once: inputs from xpath and targets
 * from ypath, or (ypath NULL, ycol set) both from the .csv xpath, whose
 * column ycol holds the targets; with both NULL, inputs only (b untouched).
 * Inputs that do not fit the model (another column count than in, no rows)
 * are a usage error, ST_ERR_ARG naming --x; the rest as above. */
enum st_status st_data_read_train(const char *xpath, const char *ypath, const char *ycol, int in,
                                  long per, int out, enum st_loss_kind loss, struct st_npy *a,
                                  struct st_npy *b, struct st_err *err);

/* Input standardization: x[:, j] = (x[:, j] - mean[j]) / std[j]. */
struct st_stand {
    int n;          /* inputs; 0 = none */
    float *mean, *std;
};

/* Statistics of x[rows, n]: the mean and the standard deviation (over rows,
 * divided by rows) of each column, in double; a constant column gets std 1. */
enum st_status st_stand_fit(struct st_stand *s, const float *x, long rows, int n,
                            struct st_err *err);

/* Applies s to x[rows, s->n] in place. */
void st_stand_apply(const struct st_stand *s, float *x, long rows);

/* The metadata strings (comma-separated, 9 digits) of mean and std, into
 * buffers of size bytes; 0, or -1 if they do not fit. */
int st_stand_format(const struct st_stand *s, char *mean, char *std, size_t size);

/* Reads "input_mean"/"input_std" from a model file's metadata (what names
 * the file in messages): s->n = 0 when it has none. Errors: ST_ERR_FORMAT for
 * lists that are not n numbers (std > 0), ST_ERR_NOMEM. */
enum st_status st_stand_from_meta(struct st_stand *s, const struct st_meta *meta,
                                  const char *what, int n, struct st_err *err);

void st_stand_free(struct st_stand *s);

/* Whether path names a CSV file (ends in .csv); anything else is read as .npy. */
int st_data_is_csv(const char *path);

/* The table in path, unchecked (for its shape). */
enum st_status st_data_read_table(const char *path, struct st_npy *a, struct st_err *err);

/* Inputs and targets from one CSV file: the column ycol (a 0-based index, or
 * a name from the header) holds the targets, the others the inputs.
 * Errors: as above, and ST_ERR_ARG for a file that is not .csv or a column
 * that does not exist. */
enum st_status st_data_read_split(const char *opt, const char *path, const char *ycol, int in,
                                  int out, enum st_loss_kind loss, struct st_npy *a,
                                  struct st_npy *b, struct st_err *err);

/* Reads a token stream (io/tokens.h; as_text: a file's bytes, or with a
 * tokenizer (not NULL) its GPT-2 BPE tokens) into *t and
 * checks every id against a vocabulary of V; opt names the option in
 * messages. Errors: those of st_tokens_read; ST_ERR_FORMAT naming the first
 * id past the vocabulary. */
struct st_bpe;
enum st_status st_data_read_stream(const char *path, int as_text, const char *opt, long V,
                                   const struct st_bpe *tokenizer, struct st_tokens *t,
                                   struct st_err *err);

/* Windows of T + 1 tokens of tok[n] (inputs the first T, targets the next T)
 * into x, y [m, T] (malloc'd, *m_out windows): consecutive, T apart from the
 * start, or, where more than max would fit, max of them spread evenly from
 * the start to the end. Errors: ST_ERR_ARG for fewer than T + 1 tokens
 * (naming --opt path), ST_ERR_NOMEM (x, y may then hold one allocation: the
 * caller frees both). */
enum st_status st_data_windows(const uint32_t *tok, long n, long T, long max, const char *opt,
                               const char *path, float **x, float **y, long *m_out,
                               struct st_err *err);

#endif
