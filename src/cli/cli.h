/* cli.h: what the subcommands share: option parsing into a run config (from
 * --config files and the command line, the command line winning), help text,
 * error reporting and the progress bar. Only src/cli talks to the terminal. */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <stdio.h>

#include <signal.h>

#include "../core/params.h"
#include "../core/status.h"
#include "../exp/options.h"
#include "../exp/train.h"

/* Exit statuses of every subcommand. */
enum { ST_EXIT_OK = 0, ST_EXIT_RUNTIME = 1, ST_EXIT_USAGE = 2 };

/* Set (to the signal's number) by SIGINT and SIGTERM between
 * st_cli_catch_stop (which clears it) and st_cli_release_stop, which puts
 * back the handlers that were there before (one catch at a time). Runs get
 * it as their stop request (hooks.h). */
extern volatile sig_atomic_t st_cli_stop;
void st_cli_catch_stop(void);
void st_cli_release_stop(void);

/* The stop signal received (SIGINT if none), and its name. */
int st_cli_stop_signal(void);
const char *st_cli_stop_name(void);

/* Reports a run stopped by a signal (its checkpoint written) and how to go
 * on; returns the exit status, 128 + the signal (130, 143). */
int st_cli_interrupted(const char *cmd, const struct st_train_cfg *cfg,
                       const struct st_train_result *res);

#define ST_VERSION "0.1.0"

/* Prints "sparsetune CMD: MSG" to stderr, plus the help hint for usage errors;
 * returns the exit status that goes with st (2 for ST_ERR_ARG, else 1). */
int st_cli_fail(const char *cmd, enum st_status st, const struct st_err *err);

/* Warns on stderr that the model file path, given as --opt, does not name
 * option name (st_cfg_model_unnamed) and runs with its default, and how to
 * choose. Nothing when name is NULL. */
void st_cli_warn_unnamed(const char *cmd, const char *opt, const char *path, const char *name);

/* Fills cfg from defaults (with default_out as the output directory), --config
 * files and argv[1..argc-1]. Sets *help when --help/-h was given, and
 * given[i] (may be NULL; room for ST_OPTIONS_MAX) for every option a config
 * file or the command line set. An option the command sets itself, given on
 * the command line with another value than the command keeps, is a usage
 * error naming it (see st_cli_print_run_options). Returns 0 or an exit
 * status after printing the error. */
int st_cli_parse_run(const char *cmd, int argc, char **argv, const char *default_out,
                     struct st_train_cfg *cfg, unsigned char *given, int *help);

/* --model FILE for cmd: a data run (--task data) that starts from the model
 * in FILE, whose widths and activation come from the file unless given
 * (given: as st_cli_parse_run filled it; updated); the data-run penalty
 * defaults apply. Returns 0 or an exit status after printing the error. */
int st_cli_use_model(const char *cmd, const char *model, struct st_train_cfg *cfg,
                     unsigned char *given);

/* A command of many runs checks its base configuration before it starts
 * them: resolves cfg and opens its data files (st_source_check). Errors:
 * those of both. */
enum st_status st_cli_probe(struct st_train_cfg *cfg, struct st_err *err);

/* The result table on stdout: run, final loss terms, the evaluation set's
 * before and after, then per tensor d_init, d_teacher, changed fraction and
 * verdict against the truth (a --task data run: the update's share instead). */
void st_cli_print_result(const struct st_train_cfg *cfg, const struct st_train_result *r);

/* Resolves cfg, runs it with the figure, prints the result table and returns
 * the exit status (a diverged run prints its table, then fails). */
int st_cli_train_and_report(const char *cmd, struct st_train_cfg *cfg);

/* A whole training command: run options from argv (usage on --help), a data
 * run (--task data) when task_data, then st_cli_train_and_report. */
int st_cli_train_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
                         int task_data);

/* The memory a run needs by part (train.c's plan): one line (the start of a
 * run) or the whole table (--dry-run). */
struct st_run_memory;
void st_cli_print_memory(const struct st_run_memory *m, int table);

/* Runs a resolved cfg with a progress bar labelled label (SIGINT and SIGTERM
 * stop it with a checkpoint), draws its figure unless cfg->plot is 0, and
 * prints nothing. Returns the status of the run (ST_ERR_NUMERIC for a
 * diverged run, whose figure is still drawn); res must be released with
 * st_result_free. */
enum st_status st_cli_run_and_plot(const struct st_train_cfg *cfg, const char *label,
                                   struct st_train_result *res, char *figure, size_t size,
                                   struct st_err *err);

/* Draws the figure of run directory dir (from its config.ini and metrics.csv)
 * as dir/figure.<fmt>, or as out when out is not NULL. fmt indexes
 * st_fig_format_names. The path written goes to *written (may be NULL). */
enum st_status st_cli_plot_run(const char *dir, int fmt, const char *out, char *written,
                               size_t size, struct st_err *err);

/* Draws the sweep figure fig (format fmt) from the summary.csv at csv, for
 * the tensors of names (sweep.h; none: every d_init_ column of csv); prints
 * "figure: FIG", or the reason it was not drawn on stderr under cmd's name. */
struct st_names;
void st_cli_draw_sweep(const char *cmd, const char *csv, const char *fig, int fmt,
                       const struct st_names *names);

/* A command's own option that takes a value: 'i' an integer (long), 'd' a
 * number (double), 's' a string (const char *), each checked against
 * [lo, hi] where it is a number. */
struct st_cli_opt {
    const char *name; /* "--seeds" */
    char type;
    double lo, hi;
    void *out;
};

/* Takes the command's own options out of argv[1..] into their outputs; the
 * rest (the run options) go to rest[0..*rest_argc) with argv[0] first. Sets
 * *help for -h/--help. Returns 0, or an exit status after printing an error
 * that names the value and the accepted range. */
int st_cli_take_opts(const char *cmd, int argc, char **argv, const struct st_cli_opt *opts,
                     int n_opts, char **rest, int *rest_argc, int *help);

/* Prints the run options of command cmd with their defaults: those that
 * apply to its kind of run (options.h's ST_CMD_*; a data run's own help text
 * where it differs), less those it sets itself (which st_cli_parse_run
 * refuses on its command line), then --config, --resume (train, pretrain,
 * finetune) and --help. */
void st_cli_print_run_options(FILE *f, const char *cmd);

/* Progress bar on stderr (only when stderr is a terminal and not quiet). */
struct st_progress {
    int enabled;
    double start, last;
    const char *label;
};
void st_progress_init(struct st_progress *p, const char *label, int quiet);
int st_progress_update(void *user, long step, long steps, double mse);
void st_progress_done(struct st_progress *p);

#endif
