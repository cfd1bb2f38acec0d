/* cmd_finetune.c: `sparsetune finetune`, a model file fine-tuned on new data,
 * with the per-layer fingerprint of the update and, given the first task's
 * data, the forgetting curve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune finetune --model M.safetensors --x X.npy --y Y.npy [options]\n"
          "       sparsetune finetune --model G.safetensors --text F.txt | --tokens F.bin\n"
          "\n"
          "Fine-tunes the model in M (sparsetune's own files, or torch.nn.Sequential's\n"
          "state_dict saved as safetensors) on a new data set, with the penalty\n"
          "lambda * R(theta - theta0) on its distance to M, and writes a run directory like\n"
          "train's. summary.json holds the update's fingerprint: per tensor d_init, the\n"
          "changed fraction and its share of sum |Delta|; with --eval-x/--eval-y (e.g. the\n"
          "data M was trained on) also that set's loss and accuracy before and after, and\n"
          "metrics.csv its loss at every logged step (the forgetting curve). The widths\n"
          "(and the activation, where M's metadata names it) come from M unless given. A\n"
          "GPT fine-tunes on a token stream (--text, --tokens), with --eval-text or\n"
          "--eval-tokens for the forgetting curve, losses also in bits per byte or token.\n"
          "\n"
          "options:\n"
          "  --model FILE               the model to start from (required)\n",
          f);
    st_cli_print_run_options(f, "finetune");
    fputs("\n"
          "example:\n"
          "  sparsetune finetune --model a/student.safetensors --x B_x.npy --y B_y.npy \\\n"
          "      --eval-x A_x.npy --eval-y A_y.npy --loss xent --penalty l1 --lambda 1e-3 \\\n"
          "      --out b\n"
          "  sparsetune finetune --model en/student.safetensors --text de.txt \\\n"
          "      --eval-text en.txt --lambda 5e-5 --out de\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, a malformed model or data file,\n"
          "non-finite loss), 2 usage error\n",
          f);
}

int cmd_finetune(int argc, char **argv)
{
    struct st_train_cfg cfg;
    struct st_err err = { "" };
    const char *model = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    unsigned char given[ST_OPTIONS_MAX];
    int n_rest = 0, help = 0, rc;
    const struct st_cli_opt opts[] = { { "--model", 's', 0, 0, &model } };

    if (!rest) {
        st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        return st_cli_fail("finetune", ST_ERR_NOMEM, &err);
    }
    rc = st_cli_take_opts("finetune", argc, argv, opts, 1, rest, &n_rest, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc == 0 && !help)
        rc = st_cli_parse_run("finetune", n_rest, rest, "run", &cfg, given, &help);
    free(rest);
    if (rc != 0 || help)
        return rc;
    if (!model && !cfg.resume) {
        st_err_set(&err, ST_ERR_ARG, "--model: required (the model file to fine-tune)");
        return st_cli_fail("finetune", ST_ERR_ARG, &err);
    }
    if (model && (rc = st_cli_use_model("finetune", model, &cfg, given)) != 0)
        return rc;
    return st_cli_train_and_report("finetune", &cfg);
}
