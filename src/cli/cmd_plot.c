/* cmd_plot.c: `sparsetune plot RUN_DIR`, redraws a run's figure from its
 * metrics.csv and config.ini. */
#include <stdio.h>
#include <string.h>

#include "../exp/options.h"
#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune plot RUN_DIR [options]\n"
          "\n"
          "Redraws the figure of a run directory from its metrics.csv and config.ini:\n"
          "the loss, d_init and d_teacher of every tensor against the step.\n"
          "\n"
          "options:\n"
          "  --format NAME              png, svg or pdf [png, or --out's extension]\n"
          "  --out FILE                 where to write it, a name ending in .png, .svg or\n"
          "                             .pdf [RUN_DIR/figure.FORMAT]\n"
          "  -h, --help                 show this help\n"
          "\n"
          "example:\n"
          "  sparsetune plot runs/a --format pdf\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (missing or malformed files), 2 usage error\n",
          f);
}

int cmd_plot(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    int fmt = 0, fmt_given = 0;
    struct st_err err = { "" };
    char written[4200];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return ST_EXIT_OK;
        }
        if (!strcmp(a, "--format") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) {
                st_err_set(&err, ST_ERR_ARG, "%s: expected a value", a);
                return st_cli_fail("plot", ST_ERR_ARG, &err);
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--out")) {
                out = v;
                continue;
            }
            for (fmt = 0; fmt < 3 && strcmp(v, st_fig_format_names[fmt]); fmt++)
                ;
            fmt_given = 1;
            if (fmt == 3) {
                st_err_set(&err, ST_ERR_ARG, "--format '%s': expected one of png, svg, pdf", v);
                return st_cli_fail("plot", ST_ERR_ARG, &err);
            }
        } else if (!strncmp(a, "--", 2) || dir) {
            st_err_set(&err, ST_ERR_ARG, "unexpected argument '%s'", a);
            return st_cli_fail("plot", ST_ERR_ARG, &err);
        } else {
            dir = a;
        }
    }
    if (!dir) {
        st_err_set(&err, ST_ERR_ARG, "expected a run directory");
        return st_cli_fail("plot", ST_ERR_ARG, &err);
    }
    /* --out's extension names the format unless --format does; both must
     * agree, and a name of another extension (or none) is refused rather than
     * given a figure its name does not say. */
    const char *base = out ? strrchr(out, '/') : NULL, *ext = NULL;
    base = base ? base + 1 : out;
    ext = base ? strrchr(base, '.') : NULL;
    int by_ext = -1;
    for (int f = 0; ext && f < 3; f++)
        if (!strcmp(ext + 1, st_fig_format_names[f]))
            by_ext = f;
    if (out && by_ext < 0) {
        st_err_set(&err, ST_ERR_ARG, "--out '%s': expected a file name ending in .png, .svg or "
                   ".pdf (the figure's format)", out);
        return st_cli_fail("plot", ST_ERR_ARG, &err);
    }
    if (out && fmt_given && by_ext != fmt) {
        st_err_set(&err, ST_ERR_ARG, "--out '%s' and --format %s disagree", out,
                   st_fig_format_names[fmt]);
        return st_cli_fail("plot", ST_ERR_ARG, &err);
    }
    if (out)
        fmt = by_ext;
    enum st_status st = st_cli_plot_run(dir, fmt, out, written, sizeof written, &err);
    if (st != ST_OK)
        return st_cli_fail("plot", st == ST_ERR_ARG ? ST_ERR_FORMAT : st, &err);
    printf("%s\n", written);
    return ST_EXIT_OK;
}
