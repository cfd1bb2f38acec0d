/* status.c: names of status codes and the formatted error detail. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>

const char *st_status_str(enum st_status st)
{
    switch (st) {
    case ST_OK: return "ok";
    case ST_ERR_NOMEM: return "out of memory";
    case ST_ERR_IO: return "input/output error";
    case ST_ERR_FORMAT: return "malformed file";
    case ST_ERR_SHAPE: return "shape mismatch";
    case ST_ERR_ARG: return "invalid argument";
    case ST_ERR_NUMERIC: return "non-finite value";
    case ST_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown error";
}

enum st_status st_err_set(struct st_err *err, enum st_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
