/* cmd_delta.c: `sparsetune apply` (a base model and a sparse delta to the
 * fine-tuned model) and `sparsetune delta` (the sparse delta between two
 * model files). The file format is delta.h's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exp/cfg.h"
#include "../io/delta.h"
#include "../io/file.h"
#include "../io/modelfile.h"
#include "cli.h"
#include "commands.h"

static void apply_usage(FILE *f)
{
    fputs("usage: sparsetune apply --model BASE --delta D.safetensors --out M.safetensors\n"
          "\n"
          "Rebuilds a fine-tuned model from the model it started from (BASE: a model file,\n"
          "or a folder holding model.safetensors, as GPT-2 is distributed) and the sparse\n"
          "delta a run wrote with --save-delta (or `sparsetune delta` made): the entries\n"
          "the delta names take its values, bit for bit, the others keep BASE's. The delta\n"
          "records the hash of its base's values and is refused on any other model. The\n"
          "result is written in BASE's layout, with BASE's input statistics.\n"
          "\n"
          "options:\n"
          "  --model PATH          the base model\n"
          "  --delta FILE          the delta (delta.safetensors)\n"
          "  --out FILE            the model to write\n"
          "  --export-layout NAME  auto (BASE's), sparsetune, hf or nanogpt (a GPT) [auto]\n"
          "\n"
          "example:\n"
          "  sparsetune apply --model gpt2/ --delta runs/a/delta.safetensors --out tuned.safetensors\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, a malformed file, a delta made\n"
          "for another model), 2 usage error\n",
          f);
}

static void delta_usage(FILE *f)
{
    fputs("usage: sparsetune delta A B --out D.safetensors\n"
          "\n"
          "Writes the sparse delta that turns model A into model B (the same architecture,\n"
          "in any of the layouts sparsetune reads): the entries of B that differ from A's,\n"
          "bit for bit, and their values, with the hash of A's values. `sparsetune apply\n"
          "--model A --delta D` rebuilds B. Prints how many entries changed and the sizes.\n"
          "\n"
          "options:\n"
          "  --out FILE            the delta to write\n"
          "\n"
          "example:\n"
          "  sparsetune delta base.safetensors runs/a/student.safetensors --out a.delta.safetensors\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, malformed or different models),\n"
          "2 usage error\n",
          f);
}

/* The arguments left after a command's options: the positional ones into
 * pos[want] (exactly want of them); anything else sets err. Returns 0 or -1. */
static int positional(const char *cmd, char **rest, int n_rest, const char **pos, int want,
                      struct st_err *err)
{
    int n = 0;
    for (int i = 1; i < n_rest; i++) {
        if (rest[i][0] == '-' || n == want) {
            st_err_set(err, ST_ERR_ARG, "%s: unexpected argument '%s'", cmd, rest[i]);
            return -1;
        }
        pos[n++] = rest[i];
    }
    if (n != want) {
        st_err_set(err, ST_ERR_ARG, "%s: expected %d model files, got %d", cmd, want, n);
        return -1;
    }
    return 0;
}

int cmd_apply(int argc, char **argv)
{
    struct st_err err = { "" };
    const char *model = NULL, *delta = NULL, *out = NULL, *layout = "auto";
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0, rc, layout_i = -1;
    const struct st_cli_opt opts[] = {
        { "--model", 's', 0, 0, &model },
        { "--delta", 's', 0, 0, &delta },
        { "--out", 's', 0, 0, &out },
        { "--export-layout", 's', 0, 0, &layout },
    };
    if (!rest) {
        st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        return st_cli_fail("apply", ST_ERR_NOMEM, &err);
    }
    rc = st_cli_take_opts("apply", argc, argv, opts, 4, rest, &n_rest, &help);
    if (rc == 0 && help)
        apply_usage(stdout);
    if (rc == 0 && !help) {
        positional("apply", rest, n_rest, NULL, 0, &err);
        if (!err.msg[0] && (!model || !delta || !out))
            st_err_set(&err, ST_ERR_ARG, "--model, --delta and --out are required");
        for (int i = 0; st_export_layout_names[i]; i++)
            if (!strcmp(layout, st_export_layout_names[i]))
                layout_i = i;
        if (!err.msg[0] && layout_i < 0)
            st_err_set(&err, ST_ERR_ARG, "--export-layout %s: expected auto, sparsetune, hf or "
                       "nanogpt", layout);
    }
    free(rest);
    if (rc != 0 || help)
        return rc;
    if (err.msg[0])
        return st_cli_fail("apply", ST_ERR_ARG, &err);

    struct st_modelfile mf;
    struct st_delta_stats d;
    enum st_status st = st_modelfile_read(model, 0, &mf, &err);
    if (st != ST_OK)
        return st_cli_fail("apply", st, &err);
    st = st_export_layout_fits(layout_i, mf.model.arch.family, &err);
    if (st == ST_OK)
        st = st_delta_apply(delta, &mf.p, &d, &err);
    if (st == ST_OK) {
        /* The input statistics the base carries, as a run writes its student. */
        const char *keys[] = { "input_mean", "input_std" };
        const char *vals[] = { st_meta_get(&mf.meta, keys[0]), st_meta_get(&mf.meta, keys[1]) };
        st = st_modelfile_write_as(out, &mf.model, &mf.p, "student", keys, vals,
                                   vals[0] && vals[1] ? 2 : 0,
                                   strcmp(layout, "auto") ? layout : mf.layout, &err);
    }
    if (st == ST_OK)
        printf("apply: %s + %s (%ld of %ld entries) -> %s\n", model, delta, d.changed, d.entries,
               out);
    st_modelfile_free(&mf);
    return st == ST_OK ? ST_EXIT_OK : st_cli_fail("apply", st, &err);
}

int cmd_delta(int argc, char **argv)
{
    struct st_err err = { "" };
    const char *out = NULL, *pos[2] = { NULL, NULL };
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0, rc;
    const struct st_cli_opt opts[] = { { "--out", 's', 0, 0, &out } };
    if (!rest) {
        st_err_set(&err, ST_ERR_NOMEM, "out of memory");
        return st_cli_fail("delta", ST_ERR_NOMEM, &err);
    }
    rc = st_cli_take_opts("delta", argc, argv, opts, 1, rest, &n_rest, &help);
    if (rc == 0 && help)
        delta_usage(stdout);
    if (rc == 0 && !help && positional("delta", rest, n_rest, pos, 2, &err) == 0 && !out)
        st_err_set(&err, ST_ERR_ARG, "--out is required");
    free(rest);
    if (rc != 0 || help)
        return rc;
    if (err.msg[0])
        return st_cli_fail("delta", ST_ERR_ARG, &err);

    struct st_modelfile a, b;
    struct st_delta_stats d;
    memset(&b, 0, sizeof b);
    enum st_status st = st_modelfile_read(pos[0], 0, &a, &err);
    if (st != ST_OK)
        return st_cli_fail("delta", st, &err);
    if ((st = st_modelfile_read(pos[1], 0, &b, &err)) == ST_OK &&
        (st = st_modelfile_check(&b, &a.model, "delta", pos[1], &err)) == ST_OK &&
        (st = st_delta_write(out, &a.p, &b.p, &d, &err)) == ST_OK) {
        long full = st_file_size(pos[1]);
        printf("delta: %s -> %s: %ld of %ld entries changed (%.3g%%); %s: %ld bytes (%.3g%% of "
               "%s's %ld)\n", pos[0], pos[1], d.changed, d.entries,
               100.0 * (double)d.changed / (double)d.entries, out, d.bytes,
               full > 0 ? 100.0 * (double)d.bytes / (double)full : 0.0, pos[1], full);
    }
    st_modelfile_free(&a);
    st_modelfile_free(&b);
    return st == ST_OK ? ST_EXIT_OK : st_cli_fail("delta", st, &err);
}
