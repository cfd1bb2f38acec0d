/* held_out.h: the held-out sets a table logs, found by its columns' names,
 * for the figures (a run's metrics.csv, a sweep's summary.csv): the
 * validation set (val_<loss>,
 * val_accuracy), the evaluation set (eval_<loss>, eval_accuracy) and each
 * named one (eval_<NAME>_<loss>, eval_<NAME>_accuracy; NAME of letters,
 * digits, '-' and '_'). */
#ifndef ST_HELD_OUT_H
#define ST_HELD_OUT_H


#define ST_MAX_HELD_OUT 32

/* A held-out set: its name (as the legend shows it) and its loss and
 * accuracy columns (-1: none). */
struct st_held_out {
    char name[48];
    int c_loss, c_acc;
    int kind; /* 0 validation, 1 the evaluation set, 2 a named one */
};

/* The held-out sets among the columns names[n_cols] whose loss is the
 * run's (loss: the column suffix, "mse", "xent", ...) into
 * sets[ST_MAX_HELD_OUT]: "validation", the evaluation set
 * called eval_name (NULL or "": "eval"), then each named set in the order of
 * its columns (a name too long for the legend ends in "..."). Sets without a
 * loss column are left out. Returns their count. */
int st_held_out_sets(char *const *names, int n_cols, const char *loss, const char *eval_name,
                     struct st_held_out *sets);

#endif
