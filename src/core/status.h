/* status.h: error codes and detail messages shared by the whole library.
 * Fallible functions return enum st_status and, when given a struct st_err,
 * describe the failure there; they never print and never exit. */
#ifndef ST_STATUS_H
#define ST_STATUS_H

enum st_status {
    ST_OK = 0,
    ST_ERR_NOMEM,  /* an allocation failed */
    ST_ERR_IO,     /* a system call on a file failed */
    ST_ERR_FORMAT, /* malformed input file */
    ST_ERR_SHAPE,  /* shapes that do not fit together */
    ST_ERR_ARG,    /* a bad value given by the caller (an option, a config key) */
    ST_ERR_NUMERIC, /* a non-finite loss: the run diverged */
    ST_ERR_INTERRUPTED /* stopped by a signal; the state is checkpointed */
};

struct st_err {
    char msg[512];
};

/* A short fixed name for the status ("out of memory", ...); never NULL. */
const char *st_status_str(enum st_status st);

/* Formats the detail into err (if err is not NULL) and returns st, so a caller
 * can write `return st_err_set(err, ST_ERR_ARG, "bad width '%s'", s);`. */
enum st_status st_err_set(struct st_err *err, enum st_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
