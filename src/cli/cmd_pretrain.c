/* cmd_pretrain.c: `sparsetune pretrain`, a model trained on the user's data. */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune pretrain --x X.npy --y Y.npy [options]\n"
          "       sparsetune pretrain --arch gpt --text F.txt | --tokens F.bin [options]\n"
          "\n"
          "Trains a freshly initialized network (PyTorch's default initialization) on a data\n"
          "set of your own, without a teacher, and writes a run directory: config.ini,\n"
          "metrics.csv, summary.json, student_init.safetensors, student.safetensors (the\n"
          "pretrained model, for `sparsetune finetune --model`), figure.png. It is `train\n"
          "--task data`: train's options for a run without a teacher apply (a penalty too,\n"
          "though pretraining usually runs without one). With --arch gpt and --text or\n"
          "--tokens it trains a language model on the stream's next tokens.\n"
          "\n"
          "options:\n",
          f);
    st_cli_print_run_options(f, "pretrain");
    fputs("\n"
          "example:\n"
          "  sparsetune pretrain --x A_x.npy --y A_y.npy --widths 64,128,128,10 --loss xent \\\n"
          "      --steps 5000 --out a\n"
          "  sparsetune pretrain --arch gpt --vocab 256 --context 64 --text en.txt --out en\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, a malformed data file, non-finite\n"
          "loss), 2 usage error\n",
          f);
}

int cmd_pretrain(int argc, char **argv)
{
    return st_cli_train_command("pretrain", argc, argv, usage, 1);
}
