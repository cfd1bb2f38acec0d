/* summary.c: see summary.h. */
#include "summary.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/file.h"

void st_judge(struct st_train_result *res, const struct st_train_cfg *cfg,
              const struct st_penalty *pen)
{
    double max = 0.0;
    int n = res->n_tensors;
    for (int t = 0; t < n; t++)
        if (res->t[t].d_init > max)
            max = res->t[t].d_init;
    for (int t = 0; t < n; t++) {
        struct st_tensor_result *r = &res->t[t];
        r->exact = cfg->prox && st_penalty_exact(pen, t);
        if (r->exact)
            r->verdict = r->zero < (double)r->size;
        else
            r->verdict = r->d_init > 0.0 && r->d_init >= cfg->changed_threshold * max;
    }
    /* Correct when every unit is changed exactly where it differs. */
    res->correct = 1;
    for (int t = 0; t < n; t++) {
        int changed = 0, truth = 0;
        for (int u = 0; u < n; u++)
            if (!strcmp(res->t[u].unit, res->t[t].unit)) {
                changed |= res->t[u].verdict;
                truth |= res->t[u].truth;
            }
        if (changed != truth)
            res->correct = 0;
    }
}

/* Adds a number that reads back as exactly the same double: cJSON's own
 * printing accepts a representation within an epsilon, which may be 1 ulp
 * off. NaN and infinities, which JSON lacks, become null. */
static void add_exact(cJSON *obj, const char *key, double v)
{
    char buf[40];
    if (!obj)
        return;
    if (!isfinite(v)) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, sizeof buf, "%.0f", v); /* integers as integers */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    cJSON_AddRawToObject(obj, key, buf);
}

/* {name: value} over the tensors; field is the offset of a double in
 * struct st_tensor_result. */
static cJSON *tensor_object(const struct st_train_result *res, size_t field)
{
    cJSON *o = cJSON_CreateObject();
    for (int t = 0; o && t < res->n_tensors; t++)
        add_exact(o, res->t[t].name, *(const double *)((const char *)&res->t[t] + field));
    return o;
}

/* [names] of the tensors whose flag (an unsigned char at offset field) is set. */
static cJSON *name_list(const struct st_train_result *res, size_t field)
{
    cJSON *a = cJSON_CreateArray();
    for (int t = 0; a && t < res->n_tensors; t++)
        if (*((const unsigned char *)&res->t[t] + field))
            cJSON_AddItemToArray(a, cJSON_CreateString(res->t[t].name));
    return a;
}

#define AT(f) offsetof(struct st_tensor_result, f)

static void add_bits(cJSON *obj, const struct st_train_cfg *cfg, double bytes_per_token,
                     double nats);

/* What the run was: status, steps, seed, task, losses and penalty. */
static void add_run(cJSON *root, const struct st_train_cfg *cfg, const struct st_train_result *res)
{
    cJSON_AddStringToObject(root, "status", res->diverged ? "diverged" : "ok");
    add_exact(root, "steps", (double)cfg->steps);
    add_exact(root, "steps_done", (double)res->steps_done);
    /* JSON numbers are doubles to most readers: keep all 64 bits exact. */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);
    cJSON_AddRawToObject(root, "seed", seed);
    cJSON_AddStringToObject(root, "task", cfg->task_data ? "data" : "teacher-student");
    cJSON_AddStringToObject(root, "data_loss", st_loss_name(cfg->loss));
    cJSON_AddStringToObject(root, "penalty", st_penalty_name(cfg->penalty));
    cJSON_AddStringToObject(root, "penalty_reduction", st_reduction_name(cfg->reduction));
    add_exact(root, "lambda", cfg->lambda);
    cJSON_AddBoolToObject(root, "prox", cfg->prox);
    cJSON_AddStringToObject(root, "teacher_delta", cfg->teacher_delta);
    add_exact(root, "wall_seconds", res->wall_seconds);
    add_exact(root, "steps_per_second", res->steps_per_second);
    cJSON *v = cJSON_AddObjectToObject(root, "final");
    if (v) {
        int xent = cfg->loss == ST_LOSS_XENT;
        char tail[32];
        snprintf(tail, sizeof tail, "%s_tail_min", st_loss_name(cfg->loss));
        add_exact(v, st_loss_name(cfg->loss), res->data_loss);
        add_bits(v, cfg, res->bytes_per_token, res->data_loss);
        if (xent)
            add_exact(v, "accuracy", res->accuracy);
        add_exact(v, "penalty", res->penalty);
        add_exact(v, "loss", res->loss);
        add_exact(v, tail, res->data_loss_tail);
    }
}

/* A language model's loss in bits beside it: per byte for a text's bytes,
 * per token for a token file, both for a text read through a tokenizer
 * (bytes_per_token: the file's bytes over its tokens; 0 for a token file). */
static void add_bits(cJSON *obj, const struct st_train_cfg *cfg, double bytes_per_token,
                     double nats)
{
    double token, byte;
    int which = obj ? st_cfg_bits(cfg, bytes_per_token, nats, &token, &byte) : 0;
    if (which & ST_BITS_TOKEN)
        add_exact(obj, "bits_per_token", token);
    if (which & ST_BITS_BYTE)
        add_exact(obj, "bits_per_byte", byte);
}

/* The held-out rows and the evaluation set: their losses, the forgetting. */
static void add_sets(cJSON *root, const struct st_train_cfg *cfg,
                     const struct st_train_result *res)
{
    int xent = cfg->loss == ST_LOSS_XENT;
    const char *key = st_loss_name(cfg->loss);
    cJSON *v;
    if (res->val_rows > 0 && (v = cJSON_AddObjectToObject(root, "validation"))) {
        add_exact(v, "rows", (double)res->val_rows);
        add_exact(v, key, res->val_loss);
        if (xent)
            add_exact(v, "accuracy", res->val_accuracy);
        char best[32];
        snprintf(best, sizeof best, "%s_best", key);
        add_exact(v, best, res->val_best);
        add_bits(v, cfg, res->bytes_per_token, res->val_loss);
    }
    /* --eval-x's set is "eval", the named ones sit in "evals" by name. */
    cJSON *named = NULL;
    for (int i = 0; i < res->n_eval; i++) {
        const char *name = st_eval_name(cfg, i);
        if (*name && !named && !(named = cJSON_AddObjectToObject(root, "evals")))
            return;
        if (!(v = cJSON_AddObjectToObject(*name ? named : root, *name ? name : "eval")))
            return;
        cJSON *b = cJSON_AddObjectToObject(v, "before"), *a = cJSON_AddObjectToObject(v, "after");
        cJSON_AddStringToObject(v, "x", st_eval_x(cfg, i));
        cJSON_AddStringToObject(v, "y", st_eval_y(cfg, i));
        if (b && a) {
            add_exact(b, key, res->eval[i].before);
            add_exact(a, key, res->eval[i].after);
            add_bits(b, cfg, res->eval[i].bytes_per_token, res->eval[i].before);
            add_bits(a, cfg, res->eval[i].bytes_per_token, res->eval[i].after);
            if (xent) {
                add_exact(b, "accuracy", res->eval[i].acc_before);
                add_exact(a, "accuracy", res->eval[i].acc_after);
            }
        }
        /* Forgetting: how much worse the model got on the set. */
        add_exact(v, "forgetting", res->eval[i].after - res->eval[i].before);
        if (xent)
            add_exact(v, "accuracy_drop", res->eval[i].acc_before - res->eval[i].acc_after);
    }
}

/* Per tensor: entries, and per matrix the update's nuclear norm and rank. */
static void add_sizes(cJSON *root, const struct st_train_result *res)
{
    cJSON *entries = cJSON_AddObjectToObject(root, "entries");
    for (int t = 0; entries && t < res->n_tensors; t++)
        add_exact(entries, res->t[t].name, (double)res->t[t].size);
    /* The reduction's price factor per penalized tensor (penalty.h). */
    cJSON *price = cJSON_AddObjectToObject(root, "penalty_price");
    for (int t = 0; price && t < res->n_tensors; t++)
        if (isfinite(res->t[t].price))
            add_exact(price, res->t[t].name, res->t[t].price);
    cJSON *nuc = cJSON_AddObjectToObject(root, "nuclear_norm");
    cJSON *rank = cJSON_AddObjectToObject(root, "rank");
    for (int t = 0; nuc && rank && t < res->n_tensors; t++) {
        const struct st_tensor_result *r = &res->t[t];
        if (!r->matrix)
            continue;
        add_exact(nuc, r->name, r->nuclear);
        /* -1: not computed (--spectrum-every 0) or the SVD failed: null */
        add_exact(rank, r->name, r->rank < 0 ? (double)NAN : r->rank);
    }
}

/* Whether tensor t is in group g: its unit, or its half. */
static int in_group(const struct st_tensor_result *t, const char *g)
{
    return !strcmp(t->unit, g) || (t->half[0] && !strcmp(t->half, g));
}

/* Per group, for models whose tensors form groups beyond their units (a
 * GPT's blocks and their attention and MLP halves): its entries, the mean
 * |update| over them (d_init, and d_teacher), its share of the update, and
 * whether it changed (any tensor of it judged changed) and differs from the
 * teacher (any tensor of it). Groups in the order of their first tensor. */
static void add_groups(cJSON *root, const struct st_train_cfg *cfg,
                       const struct st_train_result *res)
{
    int any = 0;
    for (int t = 0; t < res->n_tensors; t++)
        any |= res->t[t].half[0] != 0;
    if (!any)
        return;
    cJSON *groups = cJSON_AddObjectToObject(root, "groups");
    for (int t = 0; groups && t < res->n_tensors; t++)
        for (int k = 0; k < 2; k++) {
            const char *g = k ? res->t[t].half : res->t[t].unit;
            if (!g[0] || cJSON_GetObjectItemCaseSensitive(groups, g))
                continue;
            double n = 0.0, d0 = 0.0, dt = 0.0, share = 0.0;
            int changed = 0, truth = 0;
            for (int u = 0; u < res->n_tensors; u++) {
                const struct st_tensor_result *r = &res->t[u];
                if (!in_group(r, g))
                    continue;
                n += (double)r->size;
                d0 += r->d_init * (double)r->size;
                dt += r->d_teacher * (double)r->size;
                share += r->update_share;
                changed |= r->verdict;
                truth |= r->truth;
            }
            cJSON *o = cJSON_AddObjectToObject(groups, g);
            add_exact(o, "entries", n);
            add_exact(o, "d_init", d0 / n);
            if (!cfg->task_data)
                add_exact(o, "d_teacher", dt / n);
            add_exact(o, "update_share", share);
            if (res->diverged)
                cJSON_AddNullToObject(o, "changed");
            else
                cJSON_AddBoolToObject(o, "changed", changed);
            if (!cfg->task_data)
                cJSON_AddBoolToObject(o, "truth", truth);
        }
}

/* Each kind's share of sum |Delta|, for models whose tensors have kinds. */
static void add_kinds(cJSON *root, const struct st_train_result *res)
{
    double share[ST_KINDS];
    cJSON *o = st_result_kind_shares(res, share)
                   ? cJSON_AddObjectToObject(root, "update_share_by_kind")
                   : NULL;
    for (int k = 0; o && k < ST_KINDS; k++)
        add_exact(o, st_kinds[k], share[k]);
}

enum st_status st_fingerprint_write(const struct st_train_result *res, const char *path,
                                    struct st_err *err)
{
    int any = 0;
    for (int t = 0; t < res->n_tensors; t++)
        any |= res->t[t].kind[0] != 0;
    if (!any)
        return ST_OK;
    struct st_atomic_file af;
    enum st_status st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        return st;
    fputs("unit,kind,entries,update_share\n", af.f);
    for (int t = 0; t < res->n_tensors; t++) {
        int first = 1; /* each unit once, where its first tensor is */
        for (int u = 0; u < t; u++)
            first &= strcmp(res->t[u].unit, res->t[t].unit) != 0;
        for (int k = 0; first && k < ST_KINDS; k++) {
            double n = 0.0, share = 0.0;
            for (int u = 0; u < res->n_tensors; u++)
                if (!strcmp(res->t[u].unit, res->t[t].unit) && !strcmp(res->t[u].kind, st_kinds[k])) {
                    n += (double)res->t[u].size;
                    share += res->t[u].update_share;
                }
            if (n > 0.0)
                fprintf(af.f, "%s,%s,%.0f,%.17g\n", res->t[t].unit, st_kinds[k], n, share);
        }
    }
    return st_atomic_commit(&af, err);
}

/* The verdict: the rule it used, what changed, against the truth. */
static void add_verdict(cJSON *root, const struct st_train_cfg *cfg,
                        const struct st_train_result *res)
{
    cJSON *v = cJSON_AddObjectToObject(root, "verdict");
    if (!v)
        return;
    if (res->diverged) {
        cJSON_AddNullToObject(v, "changed");
        cJSON_AddItemToObject(v, "truth", name_list(res, AT(truth)));
        cJSON_AddNullToObject(v, "correct");
        cJSON_AddStringToObject(v, "correct_means", "no verdict: the run diverged");
        return;
    }
    int n_exact = 0;
    for (int t = 0; t < res->n_tensors; t++)
        n_exact += res->t[t].exact;
    add_exact(v, "threshold", cfg->changed_threshold);
    if (n_exact == res->n_tensors)
        cJSON_AddStringToObject(v, "rule",
                                "changed if any entry of the update is non-zero (the "
                                "proximal step gives exact zeros: no threshold)");
    else if (n_exact > 0)
        cJSON_AddStringToObject(v, "rule",
                                "tensors in 'exact': changed if any entry of the update is "
                                "non-zero; the others: if d_init >= threshold * max d_init");
    else
        cJSON_AddStringToObject(v, "rule", "changed if d_init >= threshold * max d_init");
    cJSON_AddItemToObject(v, "exact", name_list(res, AT(exact)));
    cJSON_AddItemToObject(v, "changed", name_list(res, AT(verdict)));
    if (!cfg->task_data) {
        cJSON_AddItemToObject(v, "truth", name_list(res, AT(truth)));
        cJSON_AddBoolToObject(v, "correct", res->correct);
        cJSON_AddStringToObject(v, "correct_means",
                                "the layers with a changed tensor are exactly the layers "
                                "where the teacher differs from the student's start");
    }
}

enum st_status st_summary_write(const struct st_train_cfg *cfg, const struct st_train_result *res,
                                const char *path, struct st_err *err)
{
    enum st_status st;
    struct st_atomic_file af;
    cJSON *root = cJSON_CreateObject();
    char *text;

    add_run(root, cfg, res);
    cJSON_AddItemToObject(root, "d_init", tensor_object(res, AT(d_init)));
    if (!cfg->task_data)
        cJSON_AddItemToObject(root, "d_teacher", tensor_object(res, AT(d_teacher)));
    /* The per-layer fingerprint of the update: each tensor's share of
     * sum_i |Delta_i| over all tensors (whatever the penalty's reduction). */
    cJSON_AddItemToObject(root, "update_share", tensor_object(res, AT(update_share)));
    add_sets(root, cfg, res);
    if (res->delta.bytes > 0) {
        /* --save-delta: what the sparse file holds and costs. */
        cJSON *d = cJSON_AddObjectToObject(root, "delta");
        if (d) {
            cJSON_AddStringToObject(d, "file", "delta.safetensors");
            add_exact(d, "changed", (double)res->delta.changed);
            add_exact(d, "entries", (double)res->delta.entries);
            add_exact(d, "changed_fraction",
                      (double)res->delta.changed / (double)res->delta.entries);
            add_exact(d, "bytes", (double)res->delta.bytes);
            add_exact(d, "model_bytes", (double)res->delta.model_bytes);
        }
    }
    cJSON_AddItemToObject(root, "changed_fraction", tensor_object(res, AT(changed)));
    cJSON_AddItemToObject(root, "zero_entries", tensor_object(res, AT(zero)));
    add_sizes(root, res);
    add_groups(root, cfg, res);
    add_kinds(root, res);
    add_verdict(root, cfg, res);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return st_err_set(err, ST_ERR_NOMEM, "cannot build %s", path);
    st = st_atomic_open(&af, path, err);
    if (st == ST_OK) {
        fputs(text, af.f);
        fputc('\n', af.f);
        st = st_atomic_commit(&af, err);
    }
    free(text);
    return st;
}
