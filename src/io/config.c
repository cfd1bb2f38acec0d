/* config.c: INI reading through inih. Debian's inih exposes its compile-time
 * settings as globals; they are set before each read so that the first bad
 * line stops the read (inih's default keeps going and reports the first bad
 * line's number with a later line's error) and long values (a deep net's
 * widths) fit: the line buffer is on the heap and grows up to 64 KiB. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct ini_ctx {
    st_ini_fn fn;
    void *user;
    enum st_status st;
    struct st_err detail;
};

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *c = user;
    (void)section;
    if (c->st != ST_OK)
        return 0;
    c->st = c->fn(c->user, name, value, &c->detail);
    return c->st == ST_OK;
}

enum st_status st_ini_read(const char *path, st_ini_fn fn, void *user, struct st_err *err)
{
    struct ini_ctx c = { fn, user, ST_OK, { "" } };
    FILE *f = fopen(path, "r");
    int line;

    struct stat sb;

    if (!f)
        return st_err_set(err, ST_ERR_IO, "cannot read config %s: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return st_err_set(err, ST_ERR_IO, "cannot read config %s: not a regular file", path);
    }
    ini_stop_on_first_error = true;
    ini_allow_multiline = false;
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 1 << 16;
    line = ini_parse_file(f, handler, &c);
    fclose(f);
    if (line == 0)
        return ST_OK;
    if (line < 0)
        return st_err_set(err, ST_ERR_IO, "cannot read config %s", path);
    if (c.st != ST_OK)
        return st_err_set(err, c.st, "%s:%d: %s", path, line, c.detail.msg);
    return st_err_set(err, ST_ERR_FORMAT, "%s:%d: expected 'key = value'", path, line);
}

enum st_status st_ini_parse(const char *text, const char *what, st_ini_fn fn, void *user,
                            struct st_err *err)
{
    struct ini_ctx c = { fn, user, ST_OK, { "" } };
    ini_stop_on_first_error = true;
    ini_allow_multiline = false;
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 1 << 16;
    int line = ini_parse_string(text, handler, &c);
    if (line == 0)
        return ST_OK;
    if (line < 0)
        return st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", what);
    if (c.st != ST_OK)
        return st_err_set(err, c.st, "%s:%d: %s", what, line, c.detail.msg);
    return st_err_set(err, ST_ERR_FORMAT, "%s:%d: expected 'key = value'", what, line);
}
