/* config.c: INI reading through inih. Debian's inih exposes its compile-time
 * settings as globals; they are set before each read so that the first bad
 * line stops the read (inih's default keeps going and reports the first bad
 * line's number with a later line's error) and long values (a deep net's
 * widths) fit: the line buffer is on the heap and grows up to 64 KiB. A
 * file is read whole and checked first: no NUL byte, no longer line. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"

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

/* The longest line a config file may have, its newline aside. */
#define ST_INI_MAX_LINE ((1 << 16) - 2)

/* A config file is text of lines inih can hold whole: a NUL byte would end a
 * value silently, and a longer line would be read as several (and reported
 * under a later line's number). */
static enum st_status check_text(const char *path, const char *text, size_t len,
                                 struct st_err *err)
{
    long line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (i - start > ST_INI_MAX_LINE)
                return st_err_set(err, ST_ERR_FORMAT, "%s:%ld: a line of %zu bytes; at most %d",
                                  path, line, i - start, ST_INI_MAX_LINE);
            line++;
            start = i + 1;
        } else if (text[i] == '\0') {
            return st_err_set(err, ST_ERR_FORMAT, "%s:%ld: a NUL byte (column %zu); a config "
                              "file is text", path, line, i - start + 1);
        }
    }
    return ST_OK;
}

enum st_status st_ini_read(const char *path, st_ini_fn fn, void *user, struct st_err *err)
{
    FILE *f = fopen(path, "r");
    struct stat sb;
    char *text = NULL;
    size_t len = 0;

    if (!f)
        return st_err_set(err, ST_ERR_IO, "cannot read config %s: %s", path, strerror(errno));
    int regular = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
    fclose(f);
    if (!regular)
        return st_err_set(err, ST_ERR_IO, "cannot read config %s: not a regular file", path);
    enum st_status st = st_file_read(path, &text, &len, err);
    if (st == ST_OK)
        st = check_text(path, text, len, err);
    if (st == ST_OK)
        st = st_ini_parse(text, path, fn, user, err);
    free(text);
    return st;
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
