/* cli.h: what the subcommands share: option parsing into a run config (from
 * --config files and the command line, the command line winning), help text,
 * error reporting and the progress bar. Only src/cli talks to the terminal. */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <stdio.h>

#include "../core/status.h"
#include "../exp/train.h"

/* Exit statuses of every subcommand. */
enum { ST_EXIT_OK = 0, ST_EXIT_RUNTIME = 1, ST_EXIT_USAGE = 2 };

#define ST_VERSION "0.1.0"

/* Prints "sparsetune CMD: MSG" to stderr, plus the help hint for usage errors;
 * returns the exit status that goes with st (2 for ST_ERR_ARG, else 1). */
int st_cli_fail(const char *cmd, enum st_status st, const struct st_err *err);

/* Fills cfg from defaults, --config files and argv[1..argc-1]. Sets *help when
 * --help/-h was given. Returns 0 or an exit status after printing the error. */
int st_cli_parse_run(const char *cmd, int argc, char **argv, struct st_train_cfg *cfg,
                     int *help);

/* Prints the run options with their defaults. */
void st_cli_print_run_options(FILE *f);

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
