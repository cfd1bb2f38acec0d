/* ckpt.h: checkpoint files, a list of named byte sections with a checksum.
 *
 *   "STCKPT1\n"                                 magic and version
 *   per section: u32 name length, name, u64 size, the bytes
 *   u32 0                                       end of sections
 *   u64 FNV-1a hash of everything before it
 *
 * Integers are little-endian. The writer goes through st_atomic_file, so a
 * kill during the write leaves the previous checkpoint in place; the reader
 * checks every length against the file and the hash before handing out a
 * section, so a torn or corrupted file is refused, never half-read. */
#ifndef ST_CKPT_H
#define ST_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"
#include "file.h"

#define ST_CKPT_NAME_MAX 64

/* FNV-1a, the file's checksum: st_ckpt_hash(ST_CKPT_HASH_START, ...) for a
 * first piece, then the previous result for the next. */
#define ST_CKPT_HASH_START 0xcbf29ce484222325ULL
uint64_t st_ckpt_hash(uint64_t h, const void *data, size_t n);

struct st_ckpt_writer {
    struct st_atomic_file af;
    uint64_t hash;
    int failed;
};

/* Starts a checkpoint that will replace path. Errors: ST_ERR_IO. */
enum st_status st_ckpt_begin(struct st_ckpt_writer *w, const char *path, struct st_err *err);

/* Appends a section (name shorter than ST_CKPT_NAME_MAX). */
void st_ckpt_put(struct st_ckpt_writer *w, const char *name, const void *data, size_t size);

/* Gives up: removes the temporary file; the previous checkpoint stays. */
void st_ckpt_abort(struct st_ckpt_writer *w);

/* Writes the end, then flushes, fsyncs and renames over the target; on any
 * failure the previous file stays. Errors: ST_ERR_IO. */
enum st_status st_ckpt_commit(struct st_ckpt_writer *w, struct st_err *err);

struct st_ckpt_section {
    char name[ST_CKPT_NAME_MAX];
    const unsigned char *data;
    size_t size;
};

struct st_ckpt {
    unsigned char *buf; /* the whole file */
    size_t len;
    struct st_ckpt_section *sec;
    int n_sec;
};

/* Reads and verifies path. Errors: ST_ERR_IO, ST_ERR_NOMEM, ST_ERR_FORMAT
 * (naming what is wrong). Free with st_ckpt_free(). */
enum st_status st_ckpt_read(struct st_ckpt *c, const char *path, struct st_err *err);

/* The same on bytes already in memory (copied). */
enum st_status st_ckpt_parse(struct st_ckpt *c, const void *data, size_t len, const char *what,
                             struct st_err *err);

/* Reads only as far as section name of the file at path and returns a copy
 * of it (malloc'd, *len bytes): what --resume needs before the run, which
 * reads and verifies the whole file (the checksum is not checked here).
 * Errors: ST_ERR_IO, ST_ERR_FORMAT (not a checkpoint, no such section, a
 * length past the end), ST_ERR_NOMEM. */
enum st_status st_ckpt_read_section(const char *path, const char *name, void **data,
                                    size_t *len, struct st_err *err);

/* Section name, which must hold exactly size bytes (size 0: any size, the
 * actual one in *got). Errors: ST_ERR_FORMAT naming the section. */
enum st_status st_ckpt_get(const struct st_ckpt *c, const char *name, size_t size,
                           const void **data, size_t *got, struct st_err *err);

void st_ckpt_free(struct st_ckpt *c);

#endif
