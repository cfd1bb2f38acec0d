/* positions.h: a method's answer with the re-drawn layer moved. The seed's
 * problem re-draws the middle layer, the largest tensor, and a penalty that
 * leans to large tensors names it whether or not it reads the truth; reproduce
 * and compare therefore run each of their methods again with every layer
 * re-drawn in turn, and print one line per method: which layers it names at
 * each position, and how often that is exactly the re-drawn one. */
#ifndef ST_POSITIONS_H
#define ST_POSITIONS_H

#include "../exp/cfg.h"

struct st_positions {
    int n_methods, n_units, n_seeds;
    const char **units; /* [n_units] the base run's layers (groups[0] of its tensors); owned */
    unsigned *named;    /* [method][unit][seed] the layers judged changed, as bits of units,
                         * or ST_PICK_DIVERGED / ST_PICK_FAILED (pool.h) */
    unsigned *truth;    /* [unit] the layers the runs re-drew (their reported truth) */
};

/* Runs each methods[m] (complete run configurations; their reinit and seed
 * are replaced) with each layer of the base model re-drawn in turn (with
 * blocks_only, each of a GPT's blocks h0, h1, ... and not its emb or lnf), seeds
 * seed0 .. seed0 + n_seeds - 1, on the worker pool under out/runs (removed
 * afterwards). Returns 0 or an exit status (message printed); *failed gets
 * the runs that failed other than by diverging. Free p with
 * st_positions_free. */
int st_positions_run(const char *cmd, const struct st_train_cfg *methods, int n_methods,
                     int n_seeds, int jobs, int blocks_only, struct st_positions *p, long *failed);

/* One line per method: "LABEL re-drawn 1 -> 2 (5/5)   2 -> 2 (5/5) ...
 * exactly the re-drawn: 5/15", each position's most frequent named set and
 * its seeds, then the runs naming exactly the re-drawn layers. labels[m]
 * names method m. */
void st_positions_print(const struct st_positions *p, const char *const *labels);

void st_positions_free(struct st_positions *p);

/* Whether a unit's name is a GPT block's: h and a number (h0, h12), not emb
 * or lnf. */
int st_positions_is_block(const char *name);

/* What reproduce and compare print: runs the methods (st_positions_run,
 * blocks_only as there),
 * then "HEADING (seeds A..B; the layers each names most often, in how many
 * seeds):", a line per method and NOTE. Returns 0 or an exit status (1 when
 * a run failed). */
int st_positions_report(const char *cmd, const struct st_train_cfg *methods,
                        const char *const *labels, int n_methods, long seeds, long jobs,
                        int blocks_only, const char *heading, const char *note);

#endif
