/* cmd_tokenize.c: `sparsetune tokenize`, a text to GPT-2's token ids (an
 * llm.c .bin or a 1-D int32 .npy) and back, so that a corpus is tokenized
 * once and trained on many times. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/bpe.h"
#include "../io/file.h"
#include "../io/npy.h"
#include "../io/tokens.h"
#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune tokenize --tokenizer DIR --text F.txt --out F.bin | F.npy\n"
          "       sparsetune tokenize --tokenizer DIR --decode --tokens F.bin --out F.txt\n"
          "\n"
          "Encodes a UTF-8 text with GPT-2's byte-level BPE (DIR holds vocab.json and\n"
          "merges.txt, as GPT-2 is distributed) into token ids: llm.c's .bin token file\n"
          "(uint16 while every id fits) or a 1-D int32 .npy, for pretrain and finetune\n"
          "--tokens. With --decode, turns a token file back into the text's bytes. Prints\n"
          "the counts of tokens and bytes.\n"
          "\n"
          "options:\n"
          "  --tokenizer DIR     the folder of vocab.json and merges.txt\n"
          "  --text FILE         the text to encode\n"
          "  --tokens FILE       with --decode: the token file (.bin, .npy)\n"
          "  --decode            token ids to text\n"
          "  --out FILE          what to write: .bin or .npy ids, or the decoded text\n"
          "\n"
          "example:\n"
          "  sparsetune tokenize --tokenizer gpt2/ --text mine.txt --out mine.bin\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, malformed files, text that is\n"
          "not UTF-8), 2 usage error\n",
          f);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int cmd_tokenize(int argc, char **argv)
{
    struct st_err err = { "" };
    const char *dir = NULL, *text = NULL, *tokens = NULL, *out = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0, rc, decode = 0;
    const struct st_cli_opt opts[] = {
        { "--tokenizer", 's', 0, 0, &dir },
        { "--text", 's', 0, 0, &text },
        { "--tokens", 's', 0, 0, &tokens },
        { "--out", 's', 0, 0, &out },
    };
    if (!rest) {
        st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        return st_cli_fail("tokenize", ST_ERR_NOMEM, &err);
    }
    rc = st_cli_take_opts("tokenize", argc, argv, opts, 4, rest, &n_rest, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc != 0 || help) {
        free(rest);
        return rc;
    }
    for (int i = 1; i < n_rest; i++)
        if (!strcmp(rest[i], "--decode"))
            decode = 1;
        else if (!err.msg[0])
            st_err_set(&err, ST_ERR_ARG, "unexpected argument '%s'", rest[i]);
    free(rest);
    if (!err.msg[0] && (!dir || !out))
        st_err_set(&err, ST_ERR_ARG, "--tokenizer and --out are required");
    else if (!err.msg[0] && !decode && (!text || tokens))
        st_err_set(&err, ST_ERR_ARG, "encoding takes --text (and no --tokens; --decode reads "
                   "them)");
    else if (!err.msg[0] && decode && (!tokens || text))
        st_err_set(&err, ST_ERR_ARG, "--decode takes --tokens (and no --text)");
    else if (!err.msg[0] && !decode && !ends_with(out, ".bin") && !ends_with(out, ".npy"))
        st_err_set(&err, ST_ERR_ARG, "--out %s: expected a .bin (llm.c) or .npy token file",
                   out);
    if (err.msg[0])
        return st_cli_fail("tokenize", ST_ERR_ARG, &err);

    struct st_bpe *b = NULL;
    enum st_status st = st_bpe_load(dir, &b, &err);
    if (st != ST_OK)
        return st_cli_fail("tokenize", st, &err);
    if (!decode) {
        char *buf = NULL;
        size_t len = 0;
        uint32_t *ids = NULL;
        long n = 0;
        if ((st = st_file_read(text, &buf, &len, &err)) == ST_OK &&
            (st = st_bpe_encode(b, buf, len, &ids, &n, &err)) != ST_OK) {
            char why[sizeof err.msg];
            snprintf(why, sizeof why, "%s", err.msg);
            st_err_set(&err, st, "--text %s: %s", text, why);
        }
        if (st == ST_OK)
            st = ends_with(out, ".bin") ? st_tokens_write_bin(out, ids, n, &err)
                                        : st_npy_write_i32(out, ids, n, &err);
        if (st == ST_OK)
            printf("tokens %ld  bytes %zu  bytes_per_token %.4f  vocab %ld  out %s\n", n, len,
                   n ? (double)len / (double)n : 0.0, st_bpe_vocab(b), out);
        free(buf);
        free(ids);
    } else {
        struct st_tokens t = { NULL, 0, 0 };
        char *s = NULL;
        size_t len = 0;
        if ((st = st_tokens_read(tokens, 0, &t, &err)) == ST_OK &&
            (st = st_bpe_decode(b, t.tok, t.n, &s, &len, &err)) == ST_OK) {
            FILE *f = fopen(out, "wb");
            if (!f || fwrite(s, 1, len, f) != len || fclose(f) != 0) {
                st = st_err_set(&err, ST_ERR_IO, "%s: cannot write", out);
                if (f)
                    fclose(f);
            } else {
                printf("tokens %ld  bytes %zu  out %s\n", t.n, len, out);
            }
        }
        free(s);
        st_tokens_free(&t);
    }
    st_bpe_free(b);
    if (st != ST_OK)
        return st_cli_fail("tokenize", st, &err);
    return ST_EXIT_OK;
}
