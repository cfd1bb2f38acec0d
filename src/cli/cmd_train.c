/* cmd_train.c: `sparsetune train`, one teacher-student run into a run directory. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune train [options]\n"
          "\n"
          "Trains a student that copies a random teacher except for re-drawn layers, with a\n"
          "penalty lambda * R(theta - theta0) on its distance to its start, and writes a run\n"
          "directory: config.ini, metrics.csv, summary.json, teacher.safetensors,\n"
          "student_init.safetensors, student.safetensors, figure.png (x.npy, y.npy with\n"
          "--save-data).\n"
          "\n"
          "options:\n",
          f);
    st_cli_print_run_options(f, "train");
    fputs("\n"
          "example:\n"
          "  sparsetune train --lambda 1e-3 --steps 10000 --out runs/a\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, non-finite loss), 2 usage error\n",
          f);
}

int cmd_train(int argc, char **argv)
{
    return st_cli_train_command("train", argc, argv, usage, 0);
}
