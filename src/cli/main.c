/* main.c: dispatch to the subcommands; main returns exactly what they return. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct cmd {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} cmds[] = {
    { "reproduce", cmd_reproduce, "the seed experiment: lambda = 0 and 1e-3, figures and verdict" },
    { "train", cmd_train, "one teacher-student run: metrics, summary, models, figure" },
    { "sweep", cmd_sweep, "a grid of runs on all cores: summary.csv, resumable" },
    { "sweep-merge", cmd_sweep_merge, "join the summaries of a sweep's shards" },
    { "baselines", cmd_baselines, "method 1: every subset of layers trained alone, ranked" },
    { "compare", cmd_compare, "methods 1, 2 and 3 scored against the truth, one table" },
    { "truth", cmd_truth, "which layers each method names per re-drawn set, nets and seeds" },
    { "lambda-path", cmd_lambda_path, "for each tensor, the largest lambda at which it changes" },
    { "pretrain", cmd_pretrain, "train a model on your data: --x, --y; a GPT on a text: --text" },
    { "finetune", cmd_finetune, "fine-tune a model file on new data; which layers move, forgetting" },
    { "eval", cmd_eval, "a model file's loss and accuracy on a data set" },
    { "sample", cmd_sample, "a language model's continuation of a prompt" },
    { "tokenize", cmd_tokenize, "a text to GPT-2's token ids (.bin, .npy) and back" },
    { "apply", cmd_apply, "a base model and a sparse delta (--save-delta) to the fine-tuned one" },
    { "delta", cmd_delta, "the sparse delta between two model files" },
    { "continual", cmd_continual, "forgetting task A while learning B, per lambda and method" },
    { "plot", cmd_plot, "redraw the figure of a run directory" },
};

#define N_CMDS (sizeof cmds / sizeof cmds[0])

static void usage(FILE *f)
{
    fputs("usage: sparsetune COMMAND [options]\n"
          "\n"
          "Sparse-update fine-tuning experiments: which layers need to change?\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_CMDS; i++)
        fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].help);
    fputs("\n"
          "  sparsetune COMMAND --help   options of a command\n"
          "  sparsetune --version        version\n"
          "\n"
          "example:\n"
          "  sparsetune train --lambda 1e-3 --out runs/a\n"
          "\n"
          "exit status: 0 success, 1 runtime failure, 2 usage error\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ST_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return ST_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("sparsetune %s\n", ST_VERSION);
        return ST_EXIT_OK;
    }
    for (size_t i = 0; i < N_CMDS; i++)
        if (!strcmp(argv[1], cmds[i].name)) {
            int rc = cmds[i].run(argc - 1, argv + 1);
            /* Results that never reached stdout (a full disk, a closed pipe) are a failure. */
            if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "sparsetune %s: cannot write the results to stdout\n",
                        cmds[i].name);
                return rc ? rc : ST_EXIT_RUNTIME;
            }
            return rc;
        }
    fprintf(stderr, "sparsetune: unknown command '%s'\ntry 'sparsetune --help'\n", argv[1]);
    return ST_EXIT_USAGE;
}
