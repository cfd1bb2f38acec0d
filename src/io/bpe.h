/* bpe.h: GPT-2's byte-level BPE tokenizer, from its vocab.json (token
 * string -> id) and merges.txt (one merge "a b" a line, by rank). Text is
 * split by GPT-2's pre-tokenisation rule (contractions, letters, numbers,
 * other symbols, each with an optional leading space, and runs of
 * whitespace), each piece's bytes mapped to GPT-2's printable stand-ins
 * (bytes 33-126, 161-172 and 174-255 stand for themselves, the others for
 * 256 onwards in order), and merged pair by pair, lowest rank first. */
#ifndef ST_BPE_H
#define ST_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct st_bpe;

/* Reads dir/vocab.json and dir/merges.txt. Errors: ST_ERR_IO (a missing
 * file), ST_ERR_FORMAT naming the file and entry (not JSON, an id out of
 * range or repeated, a merge line that is not two tokens, a merge whose
 * result is not in the vocabulary), ST_ERR_NOMEM. */
enum st_status st_bpe_load(const char *dir, struct st_bpe **out, struct st_err *err);

/* Token ids of text[len] (UTF-8) into *ids (malloc'd), *n of them.
 * Errors: ST_ERR_FORMAT for text that is not valid UTF-8 (naming the byte
 * offset), ST_ERR_NOMEM. */
enum st_status st_bpe_encode(const struct st_bpe *b, const char *text, size_t len,
                             uint32_t **ids, long *n, struct st_err *err);

/* The bytes of ids[n] into *text (malloc'd, NUL-terminated), *len of them.
 * Errors: ST_ERR_FORMAT for an id outside the vocabulary, ST_ERR_NOMEM. */
enum st_status st_bpe_decode(const struct st_bpe *b, const uint32_t *ids, long n, char **text,
                             size_t *len, struct st_err *err);

/* Whether dir holds a tokenizer's files (vocab.json and merges.txt), as a
 * folder of GPT-2's does beside its model. */
int st_bpe_present(const char *dir);

/* The vocabulary's size (the largest id + 1). */
long st_bpe_vocab(const struct st_bpe *b);

void st_bpe_free(struct st_bpe *b);

#endif
