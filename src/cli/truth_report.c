/* truth_report.c: the scores of `sparsetune truth` (truth.h): each method's
 * verdict per net, truth and seed against the truth and the freeze masks'
 * sufficiency, the three CSV tables, the printed report and the figure. */
#define _POSIX_C_SOURCE 200809L
#include "truth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/select.h"
#include "../io/file.h"
#include "../plot/figure.h"
#include "cli.h"
#include "pool.h"

static size_t v_at(const struct truth_ctx *c, int net, int truth, int m, int seed)
{
    return (((size_t)net * (size_t)c->n_truths + (size_t)truth) * (size_t)c->n_methods +
            (size_t)m) * (size_t)c->n_seeds + (size_t)seed;
}

/* The masks' pick of one (net, truth, seed) (the smallest subset within 2x of
 * the best tail loss; ties by the loss), and which subsets suffice. */
static unsigned masks_pick(const struct truth_ctx *c, const struct task *ts, unsigned char *suff,
                           double *loss, double *wall)
{
    const struct task *full = &ts[c->n_masks - 1];
    double best = INFINITY;
    int failed = 0, best_units = 99;
    unsigned pick = 0;
    *loss = (double)NAN;
    *wall = 0.0;
    suff[0] = 0;
    for (int k = 0; k < c->n_masks; k++) {
        if (ts[k].loss < best)
            best = ts[k].loss;
        failed |= ts[k].st != ST_OK && ts[k].st != ST_ERR_NUMERIC;
        *wall += ts[k].wall;
        suff[k + 1] = ts[k].st == ST_OK && full->st == ST_OK &&
                      ts[k].loss <= c->suffice * full->loss;
    }
    for (int k = 0; k < c->n_masks; k++) {
        int units = __builtin_popcount((unsigned)k + 1);
        if (!(ts[k].loss <= 2.0 * best))
            continue;
        if (units < best_units || (units == best_units && ts[k].loss < *loss)) {
            best_units = units;
            *loss = ts[k].loss;
            pick = (unsigned)k + 1;
        }
    }
    return failed ? ST_PICK_FAILED : pick;
}

/* Every method's verdict in every (net, truth, seed) against the truth, which
 * the runs report (the selector's units where no run got as far as its
 * teacher). Returns 0 or an exit status. */
static int score_runs(const struct truth_ctx *c, const struct st_params *layout,
                      struct score *s)
{
    size_t n_blocks = (size_t)c->n_nets * (size_t)c->n_truths * (size_t)c->n_seeds;
    s->v = calloc(n_blocks * (size_t)c->n_methods + 1, sizeof *s->v);
    s->suffices = calloc(n_blocks * ((size_t)c->n_masks + 1), 1);
    s->truth = calloc((size_t)c->n_nets * (size_t)c->n_truths, sizeof *s->truth);
    unsigned char *sel = malloc((size_t)layout->n_views + 1);
    if (!s->v || !s->suffices || !s->truth || !sel) {
        free(sel);
        return ST_EXIT_RUNTIME;
    }
    for (int n = 0; n < c->n_nets; n++)
        for (int t = 0; t < c->n_truths; t++) {
            unsigned *truth = &s->truth[n * c->n_truths + t];
            for (int seed = 0; seed < c->n_seeds; seed++)
                for (long k = 0; k < c->per_seed; k++)
                    *truth |= c->tasks[((size_t)(n * c->n_truths + t) * (size_t)c->n_seeds +
                                        (size_t)seed) * (size_t)c->per_seed + (size_t)k]
                                  .truth_units;
            if (*truth == 0 && st_select(layout, "truths", c->truths[t], sel, NULL) == ST_OK)
                for (int v = 0; v < layout->n_views; v++)
                    for (int u = 0; sel[v] && u < c->n_units; u++)
                        if (!strcmp(layout->v[v].groups[0], c->units[u]))
                            *truth |= 1u << u;
            for (int seed = 0; seed < c->n_seeds; seed++) {
                size_t b = (size_t)(n * c->n_truths + t) * (size_t)c->n_seeds + (size_t)seed;
                const struct task *ts = &c->tasks[b * (size_t)c->per_seed];
                unsigned char *suff = &s->suffices[b * ((size_t)c->n_masks + 1)];
                double mloss, mwall;
                unsigned mpick = masks_pick(c, ts, suff, &mloss, &mwall);
                int fewest = 99; /* units of the smallest sufficient set */
                for (int k = 1; k <= c->n_masks; k++)
                    if (suff[k] && __builtin_popcount((unsigned)k) < fewest)
                        fewest = __builtin_popcount((unsigned)k);
                for (int m = 0, r = 0; m < c->n_methods; m++) {
                    struct verdict *v = &s->v[v_at(c, n, t, m, seed)];
                    if (c->methods[m].kind == K_MASKS) {
                        *v = (struct verdict){ mpick, 0, 0, 0, mloss, mwall };
                    } else {
                        const struct task *x = &ts[c->n_masks + r++];
                        v->named = x->named;
                        v->loss = x->loss;
                        v->wall = x->wall;
                    }
                    int set = v->named != ST_PICK_DIVERGED && v->named != ST_PICK_FAILED;
                    v->correct = set && v->named == *truth;
                    v->sufficient = set && suff[v->named];
                    v->minimal = v->sufficient && __builtin_popcount(v->named) == fewest;
                }
            }
        }
    free(sel);
    return 0;
}

/* The units of set as text ("1,3", "none"), or what the run did instead. */
static const char *set_text(const struct truth_ctx *c, unsigned set, char *buf, size_t size)
{
    return st_pool_pick_text(c->units, c->n_units, set, buf, size);
}

/* s as a CSV field, quoted when it holds a comma or a quote, then sep. */
static void csv_field(FILE *f, const char *s, char sep)
{
    if (strpbrk(s, ",\"")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f); /* a quote inside doubles */
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(sep, f);
}

static void write_runs(FILE *f, const struct truth_ctx *c, const struct score *s)
{
    char a[256], b[256];
    fputs("net,truth,method,lambda,seed,named,correct,sufficient,minimal,tail_loss,wall_seconds\n",
          f);
    for (int n = 0; n < c->n_nets; n++)
        for (int t = 0; t < c->n_truths; t++)
            for (int m = 0; m < c->n_methods; m++)
                for (int seed = 0; seed < c->n_seeds; seed++) {
                    const struct verdict *v = &s->v[v_at(c, n, t, m, seed)];
                    csv_field(f, c->net_text[n], ',');
                    csv_field(f, set_text(c, s->truth[n * c->n_truths + t], a, sizeof a), ',');
                    fprintf(f, "%s,%g,%llu,", c->methods[m].name, c->methods[m].lambda,
                            (unsigned long long)(c->nets[0].seed + (uint64_t)seed));
                    csv_field(f, set_text(c, v->named, b, sizeof b), ',');
                    fprintf(f, "%d,%d,%d,%.17g,%.6g\n", v->correct, v->sufficient, v->minimal,
                            v->loss, v->wall);
                }
}

static void write_masks(FILE *f, const struct truth_ctx *c, const struct score *s)
{
    char a[256], b[256];
    fputs("net,truth,seed,trained,tail_loss,suffices,status\n", f);
    for (int n = 0; n < c->n_nets; n++)
        for (int t = 0; t < c->n_truths; t++)
            for (int seed = 0; seed < c->n_seeds; seed++) {
                size_t blk = (size_t)(n * c->n_truths + t) * (size_t)c->n_seeds + (size_t)seed;
                for (int k = 0; k < c->n_masks; k++) {
                    const struct task *x = &c->tasks[blk * (size_t)c->per_seed + (size_t)k];
                    csv_field(f, c->net_text[n], ',');
                    csv_field(f, set_text(c, s->truth[n * c->n_truths + t], a, sizeof a), ',');
                    fprintf(f, "%llu,", (unsigned long long)(c->nets[0].seed + (uint64_t)seed));
                    csv_field(f, set_text(c, (unsigned)k + 1, b, sizeof b), ',');
                    fprintf(f, "%.17g,%d,%s\n", x->loss,
                            s->suffices[blk * ((size_t)c->n_masks + 1) + (size_t)k + 1],
                            x->st == ST_OK ? "ok" : x->st == ST_ERR_NUMERIC ? "diverged"
                                                                           : "failed");
                }
            }
}

/* The named sets of one (net, truth, method) and their counts, the most
 * frequent first (ties: in the order of the sets); returns how many. */
static int named_counts(const struct truth_ctx *c, const struct score *s, int n, int t, int m,
                        unsigned *sets, int *counts)
{
    int k = 0;
    for (int seed = 0; seed < c->n_seeds; seed++) {
        unsigned x = s->v[v_at(c, n, t, m, seed)].named;
        int j = 0;
        while (j < k && sets[j] != x)
            j++;
        if (j == k) {
            sets[k] = x;
            counts[k++] = 0;
        }
        counts[j]++;
    }
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && (counts[j] > counts[j - 1] ||
                                  (counts[j] == counts[j - 1] && sets[j] < sets[j - 1]));
             j--) {
            unsigned ts = sets[j];
            int tc = counts[j];
            sets[j] = sets[j - 1];
            counts[j] = counts[j - 1];
            sets[j - 1] = ts;
            counts[j - 1] = tc;
        }
    return k;
}

/* Seeds of one (net, truth, method) that name the truth, a sufficient set,
 * and a sufficient set of the fewest units: k[0], k[1], k[2]. */
static void tally(const struct truth_ctx *c, const struct score *s, int n, int t, int m, int k[3])
{
    k[0] = k[1] = k[2] = 0;
    for (int seed = 0; seed < c->n_seeds; seed++) {
        const struct verdict *v = &s->v[v_at(c, n, t, m, seed)];
        k[0] += v->correct;
        k[1] += v->sufficient;
        k[2] += v->minimal;
    }
}

static void write_summary(FILE *f, const struct truth_ctx *c, const struct score *s)
{
    unsigned *sets = malloc((size_t)c->n_seeds * sizeof *sets);
    int *counts = malloc((size_t)c->n_seeds * sizeof *counts);
    char a[256], list[4096];
    fputs("net,method,lambda,truth,seeds,correct,sufficient,minimal,named_counts\n", f);
    for (int n = 0; sets && counts && n < c->n_nets; n++)
        for (int m = 0; m < c->n_methods; m++)
            for (int t = 0; t < c->n_truths; t++) {
                int tl[3], k = named_counts(c, s, n, t, m, sets, counts);
                size_t used = 0;
                tally(c, s, n, t, m, tl);
                list[0] = '\0';
                for (int j = 0; j < k && used < sizeof list; j++) {
                    int w = snprintf(list + used, sizeof list - used, "%s%s:%d", j ? ";" : "",
                                     set_text(c, sets[j], a, sizeof a), counts[j]);
                    used += w > 0 ? (size_t)w : 0;
                }
                csv_field(f, c->net_text[n], ',');
                fprintf(f, "%s,%g,", c->methods[m].name, c->methods[m].lambda);
                csv_field(f, set_text(c, s->truth[n * c->n_truths + t], a, sizeof a), ',');
                fprintf(f, "%d,%d,%d,%d,", c->n_seeds, tl[0], tl[1], tl[2]);
                csv_field(f, list, '\n');
            }
    free(sets);
    free(counts);
}

/* out/name, written atomically by fn. Returns 0 or an exit status. */
static int write_file(const struct truth_ctx *c, const struct score *s, const char *name,
                      void (*fn)(FILE *, const struct truth_ctx *, const struct score *))
{
    struct st_err err = { "" };
    struct st_atomic_file af;
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", c->nets[0].out, name);
    if (st_atomic_open(&af, path, &err) != ST_OK)
        return st_cli_fail("truth", ST_ERR_IO, &err);
    fn(af.f, c, s);
    if (st_atomic_commit(&af, &err) != ST_OK)
        return st_cli_fail("truth", ST_ERR_IO, &err);
    return 0;
}

/* A net's block: which single units suffice per truth, then per method and
 * truth the seeds naming the truth / a sufficient set, and the totals. */
static void print_net(const struct truth_ctx *c, const struct score *s, int n)
{
    char a[256];
    int w[MAX_TRUTHS];
    printf("net %s: %d truth%s x %d seed%s (seeds %llu..%llu)\n", c->net_text[n], c->n_truths,
           c->n_truths > 1 ? "s" : "", c->n_seeds, c->n_seeds > 1 ? "s" : "",
           (unsigned long long)c->nets[0].seed,
           (unsigned long long)(c->nets[0].seed + (uint64_t)c->n_seeds - 1));
    for (int t = 0; t < c->n_truths; t++) {
        printf("  truth %s: suffices alone:", set_text(c, s->truth[n * c->n_truths + t], a,
                                                       sizeof a));
        for (int u = 0; u < c->n_units; u++) {
            int k = 0;
            for (int seed = 0; seed < c->n_seeds; seed++)
                k += s->suffices[((size_t)(n * c->n_truths + t) * (size_t)c->n_seeds +
                                  (size_t)seed) * ((size_t)c->n_masks + 1) + (1u << u)];
            printf("%s %s %d/%d", u ? "," : "", c->units[u], k, c->n_seeds);
        }
        printf("\n");
    }
    printf("\n  %-20s %-8s", "method", "lambda");
    for (int t = 0; t < c->n_truths; t++) {
        const char *tt = set_text(c, s->truth[n * c->n_truths + t], a, sizeof a);
        w[t] = (int)strlen(tt) > 9 ? (int)strlen(tt) : 9;
        printf(" %*s", w[t], tt);
    }
    printf("  %s\n", "all: c / s / m");
    for (int m = 0; m < c->n_methods; m++) {
        int all[3] = { 0, 0, 0 };
        printf("  %-20s %-8g", c->methods[m].name, c->methods[m].lambda);
        for (int t = 0; t < c->n_truths; t++) {
            int tl[3];
            char cell[40];
            tally(c, s, n, t, m, tl);
            for (int i = 0; i < 3; i++)
                all[i] += tl[i];
            snprintf(cell, sizeof cell, "%d/%d/%d", tl[0], tl[1], tl[2]);
            printf(" %*s", w[t], cell);
        }
        double runs = (double)c->n_truths * c->n_seeds;
        printf("  %3.0f%% /%3.0f%% /%3.0f%%\n", 100.0 * all[0] / runs, 100.0 * all[1] / runs,
               100.0 * all[2] / runs);
    }
    printf("  (c/s/m: of %d seeds, those naming exactly the re-drawn layers / a sufficient set /\n"
           "  a sufficient set of the fewest layers that suffice)\n\n",
           c->n_seeds);
}

/* The tables on stdout, each method's totals over every net last. */
static void report(const struct truth_ctx *c, const struct score *s, long n_tasks)
{
    printf("which layers does each method name? %d net%s, %d truth%s, %d seed%s, %ld runs; a "
           "set suffices when\nits tail loss <= %g x the full fine-tune's (the masks' runs)\n\n",
           c->n_nets, c->n_nets > 1 ? "s" : "", c->n_truths, c->n_truths > 1 ? "s" : "",
           c->n_seeds, c->n_seeds > 1 ? "s" : "", n_tasks, c->suffice);
    for (int n = 0; n < c->n_nets; n++)
        print_net(c, s, n);
    int runs = c->n_nets * c->n_truths * c->n_seeds;
    for (int m = 0; m < c->n_methods; m++) {
        int all[3] = { 0, 0, 0 };
        for (int n = 0; n < c->n_nets; n++)
            for (int t = 0; t < c->n_truths; t++) {
                int tl[3];
                tally(c, s, n, t, m, tl);
                for (int i = 0; i < 3; i++)
                    all[i] += tl[i];
            }
        printf("%s: named the re-drawn set in %d/%d runs, a sufficient set in %d/%d, one of the "
               "fewest layers in %d/%d\n",
               c->methods[m].label, all[0], runs, all[1], runs, all[2], runs);
    }
}

/* The heatmaps per net; prints "figure: PATH", or why not on stderr. */
static void draw(const struct truth_ctx *c, const struct score *s)
{
    struct st_err err = { "" };
    size_t cells = (size_t)c->n_nets * (size_t)c->n_methods * (size_t)c->n_truths;
    double *exact = malloc((2 * cells + 1) * sizeof *exact), *suff = exact + cells;
    const char **nets = malloc(((size_t)c->n_nets + 1) * sizeof *nets);
    const char **rows = malloc(((size_t)c->n_methods + 1) * sizeof *rows);
    const char **cols = malloc(((size_t)c->n_nets * (size_t)c->n_truths + 1) * sizeof *cols);
    char (*col_text)[256] = malloc(((size_t)c->n_nets * (size_t)c->n_truths + 1) * 256);
    char path[4300], title[1024], subtitle[256];
    size_t used = 0;
    if (!exact || !nets || !rows || !cols || !col_text) {
        fprintf(stderr, "sparsetune truth: out of memory for the figure\n");
        goto done;
    }
    used = (size_t)snprintf(title, sizeof title, "which layers does each method name? %d seeds; "
                            "net%s", c->n_seeds, c->n_nets > 1 ? "s" : "");
    for (int n = 0; n < c->n_nets; n++) {
        nets[n] = c->net_text[n];
        if (used < sizeof title)
            used += (size_t)snprintf(title + used, sizeof title - used, "%s %s", n ? " /" : "",
                                     c->net_text[n]);
        for (int t = 0; t < c->n_truths; t++) {
            size_t i = (size_t)n * (size_t)c->n_truths + (size_t)t;
            cols[i] = set_text(c, s->truth[i], col_text[i], sizeof col_text[i]);
            for (int m = 0; m < c->n_methods; m++) {
                int tl[3];
                tally(c, s, n, t, m, tl);
                size_t k = ((size_t)n * (size_t)c->n_methods + (size_t)m) * (size_t)c->n_truths +
                           (size_t)t;
                exact[k] = (double)tl[0] / c->n_seeds;
                suff[k] = (double)tl[2] / c->n_seeds;
            }
        }
    }
    snprintf(subtitle, sizeof subtitle, "rows: methods; columns: the re-drawn layers; cells: "
             "share of the seeds; a set suffices when, trained alone, its tail loss is \u2264 "
             "%g\u00d7 the full fine-tune's", c->suffice);
    for (int m = 0; m < c->n_methods; m++)
        rows[m] = c->methods[m].label;
    snprintf(path, sizeof path, "%s/truth.%s", c->nets[0].out,
             st_fig_format_name((enum st_fig_format)c->nets[0].fig_format));
    struct st_fig_truth f = { title, subtitle, c->n_nets, c->n_methods, c->n_truths,
                              nets, rows, cols, exact, suff };
    if (st_figure_truth(path, (enum st_fig_format)c->nets[0].fig_format, &f, &err) == ST_OK)
        printf("figure: %s\n", path);
    else
        fprintf(stderr, "sparsetune truth: %s\n", err.msg);
done:
    free(exact);
    free(nets);
    free(rows);
    free(cols);
    free(col_text);
}

int st_truth_finish(const struct truth_ctx *c, const struct st_params *layout, long n_tasks)
{
    struct score s = { NULL, NULL, NULL };
    int rc = score_runs(c, layout, &s);
    if (rc == 0)
        rc = write_file(c, &s, "truth_runs.csv", write_runs);
    if (rc == 0)
        rc = write_file(c, &s, "truth_masks.csv", write_masks);
    if (rc == 0)
        rc = write_file(c, &s, "truth.csv", write_summary);
    if (rc == 0) {
        report(c, &s, n_tasks);
        printf("\ntables: %s/truth.csv, truth_runs.csv, truth_masks.csv\n", c->nets[0].out);
        if (c->nets[0].plot)
            draw(c, &s);
    }
    free(s.v);
    free(s.suffices);
    free(s.truth);
    return rc;
}
