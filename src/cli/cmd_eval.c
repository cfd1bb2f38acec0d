/* cmd_eval.c: `sparsetune eval`, a model file's loss on a data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exp/eval.h"
#include "../exp/options.h"
#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune eval --model M.safetensors --x X.npy --y Y.npy [options]\n"
          "       sparsetune eval --model G.safetensors --text F | --tokens F\n"
          "\n"
          "Runs the model in M on the inputs X and prints its loss against Y (and, with\n"
          "--loss xent, its accuracy): one line, `key value` pairs. A GPT language model\n"
          "on a text (its bytes) or a token file runs over every window of --context + 1\n"
          "tokens, --context apart, and prints its next-token cross-entropy in nats and\n"
          "in bits per byte (text) or per token (a token file).\n"
          "\n"
          "options:\n"
          "  --model FILE        the model (sparsetune's or torch.nn.Sequential's safetensors)\n"
          "  --x FILE, --y FILE  inputs [N, in] and targets ([N, out]; xent: class indices),\n"
          "                      .npy or .csv\n"
          "  --y-col COL         a .csv --x's target column (index or header name) instead of\n"
          "                      --y\n"
          "  --text FILE         a GPT: a text to evaluate on, its bytes the tokens\n"
          "  --tokens FILE       a GPT: a token file (a 1-D integer .npy, llm.c's .bin)\n"
          "  --tokenizer DIR     a GPT: encode --text with GPT-2's BPE from DIR (vocab.json,\n"
          "                      merges.txt) instead of taking its bytes\n"
          "  --loss NAME         mse (default) or xent\n"
          "  --activation NAME   the hidden activation when M's metadata does not name it\n"
          "                      (default relu): relu, tanh, silu, gelu, linear\n"
          "\n"
          "example:\n"
          "  sparsetune eval --model b/student.safetensors --x A_x.npy --y A_y.npy --loss xent\n"
          "  sparsetune eval --model runs/en/student.safetensors --text german.txt\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (a malformed model or data file), 2 usage\n"
          "error\n",
          f);
}

int cmd_eval(int argc, char **argv)
{
    struct st_err err = { "" };
    struct st_eval_result r;
    const char *model = NULL, *x = NULL, *y = NULL, *ycol = NULL, *loss = "mse", *act = NULL;
    const char *text = NULL, *tokens = NULL, *tokenizer = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0, rc;
    struct st_train_cfg cfg;
    unsigned char given[ST_OPTIONS_MAX] = { 0 };
    const struct st_cli_opt opts[] = {
        { "--model", 's', 0, 0, &model }, { "--x", 's', 0, 0, &x },
        { "--y", 's', 0, 0, &y },         { "--loss", 's', 0, 0, &loss },
        { "--activation", 's', 0, 0, &act }, { "--y-col", 's', 0, 0, &ycol },
        { "--text", 's', 0, 0, &text },      { "--tokens", 's', 0, 0, &tokens },
        { "--tokenizer", 's', 0, 0, &tokenizer },
    };

    if (!rest) {
        st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        return st_cli_fail("eval", ST_ERR_NOMEM, &err);
    }
    rc = st_cli_take_opts("eval", argc, argv, opts, 9, rest, &n_rest, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc != 0 || help) {
        free(rest);
        return rc;
    }
    if (n_rest > 1)
        st_err_set(&err, ST_ERR_ARG, "unexpected argument '%s'", rest[1]);
    else if ((text || tokens) && (x || y || ycol || (text && tokens)))
        st_err_set(&err, ST_ERR_ARG, "--%s: give one data set: a text, a token file, or --x and "
                   "--y", text ? "text" : "tokens");
    else if (!model || (!text && !tokens && (!x || (!y && !ycol))))
        st_err_set(&err, ST_ERR_ARG, "--model and the data are required: --x and --y (or "
                   "--y-col), or for a GPT --text or --tokens");
    else if (y && ycol)
        st_err_set(&err, ST_ERR_ARG, "--y-col %s: the targets come from --x's column; --y %s "
                   "gives them twice", ycol, y);
    free(rest);
    if (err.msg[0])
        return st_cli_fail("eval", ST_ERR_ARG, &err);
    /* The run options eval shares: the model, the data, the loss, the
     * activation a file without metadata needs. */
    st_train_cfg_defaults(&cfg);
    if (text || tokens)
        loss = "xent";
    const char *set[][2] = { { "student-init", model }, { "x", x }, { "y", y }, { "y-col", ycol },
                             { "loss", loss }, { "activation", act }, { "text", text },
                             { "tokens", tokens }, { "tokenizer", tokenizer } };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        if (!set[i][1])
            continue;
        enum st_status st = st_option_set(&cfg, set[i][0], set[i][1], &err);
        if (st != ST_OK)
            return st_cli_fail("eval", st, &err);
        given[st_option_index(set[i][0])] = 1;
    }
    snprintf(cfg.init_opt, sizeof cfg.init_opt, "model");
    enum st_status st = st_eval_model(&cfg, given, &r, &err);
    if (st != ST_OK)
        return st_cli_fail("eval", st, &err);
    st_cli_warn_unnamed("eval", cfg.init_opt, model, r.unnamed);
    if (text || tokens) {
        double bits = r.loss / log(2.0);
        printf("model %s  windows %ld  xent %.9g", model, r.n, r.loss);
        if (!text || tokenizer)
            printf("  bits_per_token %.6f", bits);
        if (text)
            printf("  bits_per_byte %.6f", bits / r.bytes_per_token);
        printf("  accuracy %.6f\n", r.accuracy);
    }
    else {
        printf("model %s  samples %ld  %s %.9g", model, r.n, loss, r.loss);
        if (cfg.loss == ST_LOSS_XENT)
            printf("  accuracy %.6f", r.accuracy);
        printf("\n");
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        st_err_set(&err, ST_ERR_IO, "cannot write to stdout");
        return st_cli_fail("eval", ST_ERR_IO, &err);
    }
    return ST_EXIT_OK;
}
