/* tokens.h: token streams, the data of a language model: a text file's bytes
 * (each byte a token, vocabulary 256), a 1-D integer .npy file, or llm.c's
 * .bin token files (a header of 256 little-endian int32: the magic 20240520,
 * the version, 1 for uint16 tokens or 2 for uint32, and the token count; then
 * the tokens, little-endian). */
#ifndef ST_TOKENS_H
#define ST_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

#define ST_TOKENS_MAGIC 20240520

/* A stream of n token ids. */
struct st_tokens {
    uint32_t *tok; /* [n], malloc'd (non-NULL even when n is 0); st_tokens_free */
    long n;
    long bytes;    /* read from a text: its length in bytes (n for bytes as tokens); else 0 */
};

/* Reads path as text (as_text: its bytes) or, by its name, as a .npy (1-D,
 * integers from 0 to 2^24) or an llm.c .bin file, into *out (written only on
 * success). Errors (the message names path, what was found and what was
 * expected): ST_ERR_IO if it cannot be read or is not a regular file;
 * ST_ERR_FORMAT for a malformed file (a .bin with another magic or version,
 * a count that disagrees with the file's size, a .npy of floats, of another
 * shape, or with a negative id); ST_ERR_NOMEM. */
enum st_status st_tokens_read(const char *path, int as_text, struct st_tokens *out,
                              struct st_err *err);

/* Parses an llm.c .bin file held in memory (buf[len]) into *out. Errors as
 * for st_tokens_read; name stands for the file in messages. */
enum st_status st_tokens_parse_bin(const unsigned char *buf, size_t len, const char *name,
                                   struct st_tokens *out, struct st_err *err);

/* Writes tok[n] as an llm.c .bin file (version 1, uint16, when every id is
 * below 65536, else version 2, uint32), atomically. Errors: ST_ERR_IO. */
enum st_status st_tokens_write_bin(const char *path, const uint32_t *tok, long n,
                                   struct st_err *err);

void st_tokens_free(struct st_tokens *t);

#endif
