/* cmd_sample.c: `sparsetune sample`, a language model's continuation of a
 * prompt. Byte-level models (vocabulary 256) take the prompt's bytes and
 * write the continuation's bytes to stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exp/eval.h"
#include "../io/bpe.h"
#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune sample --model G.safetensors --prompt TEXT [options]\n"
          "\n"
          "Continues TEXT with the GPT in G, one token at a time from the last --context\n"
          "tokens, and writes the prompt and its continuation to stdout. A byte-level\n"
          "model (vocabulary 256, as pretrain --text trains) reads and writes bytes; with\n"
          "a tokenizer, text goes through GPT-2's BPE.\n"
          "\n"
          "options:\n"
          "  --model FILE        the GPT model file\n"
          "  --prompt TEXT       what to continue (at least one byte)\n"
          "  --length N          tokens to generate [200]\n"
          "  --temperature T     softmax temperature; 0: always the most likely [1]\n"
          "  --top-k K           draw among the K most likely only; 0: all [0]\n"
          "  --seed N            the draws' seed: the same seed, the same text [0]\n"
          "  --tokenizer DIR     GPT-2's BPE (vocab.json, merges.txt) for the prompt and the\n"
          "                      text; found beside a --model folder that holds them\n"
          "\n"
          "example:\n"
          "  sparsetune sample --model runs/en/student.safetensors --prompt \"The \" --length 200\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (a malformed model file), 2 usage error\n",
          f);
}

int cmd_sample(int argc, char **argv)
{
    struct st_err err = { "" };
    const char *model = NULL, *prompt = NULL, *tokenizer = NULL;
    long length = 200, top_k = 0, seed = 0;
    double temperature = 1.0;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0, rc;
    const struct st_cli_opt opts[] = {
        { "--model", 's', 0, 0, &model },
        { "--prompt", 's', 0, 0, &prompt },
        { "--length", 'i', 1, 1e7, &length },
        { "--temperature", 'd', 0, 1e6, &temperature },
        { "--top-k", 'i', 0, 1 << 24, &top_k },
        { "--seed", 'i', 0, 9e15, &seed },
        { "--tokenizer", 's', 0, 0, &tokenizer },
    };
    if (!rest) {
        st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        return st_cli_fail("sample", ST_ERR_NOMEM, &err);
    }
    rc = st_cli_take_opts("sample", argc, argv, opts, 7, rest, &n_rest, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc != 0 || help) {
        free(rest);
        return rc;
    }
    if (n_rest > 1)
        st_err_set(&err, ST_ERR_ARG, "unexpected argument '%s'", rest[1]);
    else if (!model || !prompt)
        st_err_set(&err, ST_ERR_ARG, "--model and --prompt are required");
    free(rest);
    if (err.msg[0])
        return st_cli_fail("sample", ST_ERR_ARG, &err);
    /* GPT-2's tokenizer: given, or beside a --model folder. */
    if (!tokenizer && st_bpe_present(model))
        tokenizer = model;
    struct st_bpe *bpe = NULL;
    enum st_status st = tokenizer ? st_bpe_load(tokenizer, &bpe, &err) : ST_OK;
    uint32_t *in = NULL, *out = NULL;
    long n_in = 0, n_out = 0;
    if (st == ST_OK && bpe) {
        st = st_bpe_encode(bpe, prompt, strlen(prompt), &in, &n_in, &err);
    } else if (st == ST_OK) {
        n_in = (long)strlen(prompt);
        if (!(in = malloc(((size_t)n_in + 1) * sizeof *in)))
            st = st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        for (long i = 0; in && i < n_in; i++)
            in[i] = (unsigned char)prompt[i];
    }
    if (st == ST_OK)
        st = st_model_sample(model, in, n_in, length, temperature, (int)top_k, (uint64_t)seed,
                             &out, &n_out, &err);
    free(in);
    if (st == ST_OK && bpe) {
        char *text = NULL;
        size_t len = 0;
        if ((st = st_bpe_decode(bpe, out, n_out, &text, &len, &err)) == ST_OK) {
            fwrite(text, 1, len, stdout);
            putchar('\n');
        }
        free(text);
    } else if (st == ST_OK) {
        for (long i = 0; i < n_out && st == ST_OK; i++) {
            if (out[i] > 255)
                st = st_err_set(&err, ST_ERR_ARG, "--model %s: token %u is not a byte; a model "
                                "of a larger vocabulary needs --tokenizer", model, out[i]);
            else
                putchar((int)out[i]);
        }
        if (st == ST_OK)
            putchar('\n');
    }
    free(out);
    st_bpe_free(bpe);
    if (st != ST_OK)
        return st_cli_fail("sample", st, &err);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        st_err_set(&err, ST_ERR_IO, "cannot write to stdout");
        return st_cli_fail("sample", ST_ERR_IO, &err);
    }
    return ST_EXIT_OK;
}
