/* truth.h: the state of `sparsetune truth` shared by its runs (cmd_truth.c)
 * and its scoring and outputs (truth_report.c); not part of the library's
 * interface. */
#ifndef ST_TRUTH_H
#define ST_TRUTH_H

#include "../core/penalty.h"
#include "../exp/cfg.h"

#define MAX_NETS 32
#define MAX_TRUTHS 64
#define MAX_METHODS 64
#define MAX_UNITS 10 /* 2^units - 1 freeze masks per net, truth and seed */

enum kind { K_MASKS, K_ADAM, K_SGD, K_PENALTY };

struct method {
    enum kind kind;
    enum st_penalty_kind pen;
    enum st_reduction red;
    int prox;
    double lambda;  /* 0 but for a penalized method */
    char name[40];  /* "masks", "l1-prox-mean": the tables' method */
    char label[64]; /* name, and "@lambda" for a penalized method */
};

struct task {
    int net, truth, seed;        /* seed: an offset from the base run's --seed */
    int slot;                    /* < n_masks: the mask run training the units of slot + 1's
                                  * bits; else the run of runs[slot - n_masks] */
    enum st_status st;
    double loss, wall;           /* loss: the tail loss, NaN unless the run ended ST_OK */
    unsigned named, truth_units; /* units judged changed (or ST_PICK_*); where the teacher
                                  * differs */
};

struct truth_ctx {
    const struct st_train_cfg *nets; /* [n_nets] the base run with each net's widths */
    char (*net_text)[256];           /* [n_nets] "1,20,20,1" */
    char (*truths)[ST_LIST_MAX];     /* [n_truths] the --reinit selectors */
    struct method *methods;          /* [n_methods] as listed */
    const struct method *runs[MAX_METHODS]; /* [n_runs] the listed methods other than masks */
    int n_nets, n_truths, n_methods, n_runs, n_seeds, n_units, n_masks;
    const char **units; /* [n_units] the first net's units (every net has as many) */
    double sgd_lr, suffice;
    long per_seed;      /* n_masks + n_runs */
    struct task *tasks; /* [net][truth][seed][per_seed] */
};

/* What one method names in one (net, truth, seed), and how that scores. */
struct verdict {
    unsigned named; /* units, ST_PICK_DIVERGED or ST_PICK_FAILED (pool.h) */
    int correct, sufficient;
    int minimal;       /* sufficient, and no sufficient set has fewer units */
    double loss, wall; /* masks: the pick's tail loss, the wall time of every mask run */
};

struct score {
    struct verdict *v;       /* [net][truth][method][seed] */
    unsigned char *suffices; /* [net][truth][seed][mask]: mask 0..n_masks, 0 never suffices */
    unsigned *truth;         /* [net][truth] the units where the teacher differs */
};

/* Scores the runs, writes truth_runs.csv, truth_masks.csv and truth.csv,
 * prints the report and draws the figure. Returns 0 or an exit status. */
int st_truth_finish(const struct truth_ctx *c, const struct st_params *layout, long n_tasks);

#endif
