/* options.h: the table of run options. Each option has one long name, used on
 * the command line (--name), as a key in config files and in config.ini, and
 * as a sweep axis; its entry in the table says where its value lives in
 * struct st_train_cfg, its type, default and help, so adding an option is
 * one entry. Values are parsed and checked here; the CLI only routes strings
 * to st_option_set(). */
#ifndef ST_OPTIONS_H
#define ST_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "cfg.h"

enum st_opt_type {
    ST_OPT_T_LONG,   /* long, in [lo, hi] */
    ST_OPT_T_INT,    /* int, in [lo, hi] */
    ST_OPT_T_U64,    /* uint64_t */
    ST_OPT_T_DOUBLE, /* double >= 0 */
    ST_OPT_T_AUTO,   /* double >= 0, or "auto" (NaN): resolved from other options */
    ST_OPT_T_FLAG,   /* int 0/1; on the command line it takes no value */
    ST_OPT_T_STR,    /* char[size] */
    ST_OPT_T_ENUM,   /* an int-sized enum: the index of its name in choices */
    ST_OPT_T_ARCH,   /* the model family (an index into model.h's families) */
    ST_OPT_T_WIDTHS, /* an MLP's n_layers and widths (struct st_arch) */
    ST_OPT_T_RANGE   /* double[2], LO,HI with LO < HI */
};

/* The kinds of command an option applies to (st_option.cmds): those that
 * make teacher-student runs only (compare, continual, reproduce, truth), data
 * runs only (pretrain, finetune: no teacher, the data from --x and --y), or
 * either (train, sweep, lambda-path, baselines: --task). An option outside a
 * command's kind is left out of its --help; where it would change the run,
 * its value is refused there. */
enum { ST_CMD_TS = 1, ST_CMD_DATA = 2, ST_CMD_ANY = 4 };

struct st_option {
    const char *name;  /* "lr" */
    enum st_opt_type type;
    const char *arg;   /* "FLOAT" in --help; NULL for flags */
    const char *def;   /* the default, as --name takes it */
    const char *shown; /* the default as --help shows it, where def does not say it (NULL: def) */
    const char *help;
    int saved;         /* written to config.ini */
    long lo, hi;       /* integer options: the accepted range */
    size_t offset;     /* of the value in struct st_train_cfg */
    size_t size;       /* of a string's room */
    const char *const *choices; /* enum options: the names, NULL-terminated */
    unsigned cmds;     /* the kinds of command it applies to: ST_CMD_* bits */
};

/* Options there can be at most (the size of a given-mask). */
#define ST_OPTIONS_MAX 128
/* Room for any option's value as text (the longest: --eval's list). */
#define ST_OPTION_TEXT_MAX (ST_EVALS_TEXT + 64)

/* Figure formats by index (the order of enum st_fig_format in plot/figure.h). */
extern const char *const st_fig_format_names[4];

/* The seed experiment's defaults, every option's from the table: an MLP of
 * widths 1,20,20,1, relu, 1000 U(0,2) inputs, full batch, Adam lr 1e-2,
 * 10000 steps, l1 penalty with lambda 0. */
void st_train_cfg_defaults(struct st_train_cfg *cfg);

/* The options of `train` (and of every command that runs trainings). */
const struct st_option *st_options(int *n);

/* The option called name, or NULL; its index in the table, or -1. */
const struct st_option *st_option_find(const char *name);
int st_option_index(const char *name);

/* Option o's help text and shown default (*shown: never NULL) in the help of
 * a data-run command (data: 1; pretrain, finetune), where they differ from
 * its general ones (data: 0; the seed seeds other things there, the penalty
 * has other defaults). */
const char *st_option_help(const struct st_option *o, int data, const char **shown);

/* 1 when option name holds its default value in cfg (as st_option_format
 * writes both), 0 when not or when there is no such option. */
int st_option_is_default(const struct st_train_cfg *cfg, const char *name);

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

/* 0 when o describes the architecture of another model family than family
 * (an MLP's --widths on a GPT run): config.ini and checkpoints leave it out,
 * so that a run's files name only its own family's options. */
int st_option_for_family(const struct st_option *o, int family);

#endif
