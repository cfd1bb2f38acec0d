/* commands.h: one entry point per subcommand; each returns the exit status. */
#ifndef ST_COMMANDS_H
#define ST_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_sweep_merge(int argc, char **argv);
int cmd_baselines(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_truth(int argc, char **argv);
int cmd_lambda_path(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_continual(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_delta(int argc, char **argv);

#endif
