/* options.h: the table of run options. Each option has one long name, used on
 * the command line (--name), as a key in config files and in config.ini, and
 * later as a sweep axis. Values are parsed and checked here; the CLI only
 * routes strings to st_option_set(). */
#ifndef ST_OPTIONS_H
#define ST_OPTIONS_H

#include <stdio.h>

#include "train.h"

enum st_opt_type {
    ST_OPT_T_INT,    /* long */
    ST_OPT_T_U64,    /* uint64_t */
    ST_OPT_T_INTC,   /* int */
    ST_OPT_T_DOUBLE, /* double */
    ST_OPT_T_FLAG,   /* int 0/1; on the command line it takes no value */
    ST_OPT_T_STR,    /* char[ST_LIST_MAX] or char[4096] */
    ST_OPT_T_WIDTHS, /* n_layers + widths */
    ST_OPT_T_ENUM,   /* an enum with a name table */
    ST_OPT_T_RANGE   /* two doubles LO,HI with LO < HI */
};

struct st_option {
    const char *name;     /* "lr" */
    enum st_opt_type type;
    const char *arg;      /* "FLOAT" */
    const char *def_text; /* default as shown in --help */
    const char *help;
    int saved;            /* written to config.ini */
    long lo, hi;          /* integer options: the accepted range */
};

/* Figure formats by index (the order of enum st_fig_format in plot/figure.h). */
extern const char *const st_fig_format_names[3];

/* The options of `train` (and of every command that runs trainings). */
const struct st_option *st_options(int *n);

/* The option called name, or NULL. */
const struct st_option *st_option_find(const char *name);

/* Parses value for option name into cfg. Errors: ST_ERR_ARG naming the option,
 * the value and what was expected (unknown option included). */
enum st_status st_option_set(struct st_train_cfg *cfg, const char *name, const char *value,
                             struct st_err *err);

/* Formats the current value of option o in cfg (shortest form that parses
 * back to the same value). */
void st_option_format(const struct st_train_cfg *cfg, const struct st_option *o, char *buf,
                      size_t size);

/* Writes every saved option as `key = value` lines. */
void st_options_write_ini(FILE *f, const struct st_train_cfg *cfg);

#endif
