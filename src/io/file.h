/* file.h: atomic output files and directories. A file is written to a
 * temporary name in the same directory, flushed to disk, then renamed over
 * the target, so a reader (or a crash) never sees a half-written file. */
#ifndef ST_FILE_H
#define ST_FILE_H

#include <stdio.h>

#include "../core/status.h"

struct st_atomic_file {
    FILE *f;          /* write through this */
    char path[4096];  /* final name */
    char tmp[4200];   /* temporary name */
};

/* Opens a temporary file beside path. Errors: ST_ERR_IO. */
enum st_status st_atomic_open(struct st_atomic_file *af, const char *path, struct st_err *err);

/* Flushes, fsyncs and renames over the final path; on failure removes the
 * temporary file. Always closes. Errors: ST_ERR_IO. */
enum st_status st_atomic_commit(struct st_atomic_file *af, struct st_err *err);

/* Closes and removes the temporary file (after a failed write). */
void st_atomic_abort(struct st_atomic_file *af);

/* Reads the whole file into *out (malloc'd, NUL-terminated; free() it) and
 * its length into *len. Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_file_read(const char *path, char **out, size_t *len, struct st_err *err);

/* Creates dir and its parents if missing (like mkdir -p) and checks that it
 * is a writable directory. Errors: ST_ERR_IO naming the path. */
enum st_status st_mkdirs(const char *dir, struct st_err *err);

/* Joins dir and name into out[size]. Errors: ST_ERR_ARG if it does not fit. */
enum st_status st_path_join(char *out, size_t size, const char *dir, const char *name,
                            struct st_err *err);

/* Removes dir/name.tmp.* : what a process killed while writing name left. */
void st_remove_temps(const char *dir, const char *name);

/* The size of the file at path in bytes, -1 if it cannot be read. */
long st_file_size(const char *path);

/* Seconds on the monotonic clock (for durations). */
double st_seconds_now(void);

/* The memory this process may use: the machine's physical memory, or the
 * address-space limit (ulimit -v) when that is lower. */
double st_memory_available(void);

/* ST_OK if bytes fit st_memory_available(); otherwise ST_ERR_NOMEM with
 * "WHAT needs X GB, more than the Y GB of memory ..." so that a run too large
 * for the machine is refused before anything is allocated. */
enum st_status st_check_memory(double bytes, const char *what, struct st_err *err);

/* "1.50 GB", "12.0 MB", "512 bytes" into buf. */
const char *st_format_bytes(char *buf, size_t size, double bytes);

#endif
