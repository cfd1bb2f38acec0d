/* config.h: INI config files (read with inih). Keys are option names; section
 * headers are allowed and ignored, so `[train]` may group keys for readability. */
#ifndef ST_CONFIG_H
#define ST_CONFIG_H

#include "../core/status.h"

/* Called for each key; returns ST_OK or an error whose detail it wrote to err. */
typedef enum st_status (*st_ini_fn)(void *user, const char *key, const char *value,
                                    struct st_err *err);

/* Reads path and calls fn for every `key = value`, in file order. An error
 * from fn or a syntax error stops the read; the message then starts with
 * "path:line: ". Errors: ST_ERR_IO (cannot open), ST_ERR_FORMAT, or fn's. */
enum st_status st_ini_read(const char *path, st_ini_fn fn, void *user, struct st_err *err);

/* The same on text in memory; messages start with "what:line: ". */
enum st_status st_ini_parse(const char *text, const char *what, st_ini_fn fn, void *user,
                            struct st_err *err);

#endif
