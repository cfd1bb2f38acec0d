/* select.c: selectors over a layout's tensor and group names (select.h). */
#define _POSIX_C_SOURCE 200809L
#include "select.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a message lists as the names a token may take: the tensors, then the
 * groups, cut short with "..." past about 200 characters. */
static void choices(const struct st_params *layout, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "tensors");
    const char **groups = malloc((size_t)layout->n_views * ST_VIEW_GROUPS * sizeof *groups);
    for (int t = 0; t < layout->n_views && n < size; t++)
        n += (size_t)snprintf(buf + n, size - n, "%s %s", t ? "," : "", layout->v[t].name);
    int n_groups = groups ? st_params_groups(layout, 1, groups) : 0;
    if (n < size && n_groups > 0)
        n += (size_t)snprintf(buf + n, size - n, "; groups");
    for (int g = 0; g < n_groups && n < size; g++)
        n += (size_t)snprintf(buf + n, size - n, "%s %s", g ? "," : "", groups[g]);
    free(groups);
    if (n >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

static int is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* Whether token names view v: its name or one of its groups, exactly or as
 * a glob. */
static int matches(const struct st_view *v, const char *token, int glob)
{
    if (glob ? fnmatch(token, v->name, 0) == 0 : !strcmp(token, v->name))
        return 1;
    for (int g = 0; g < v->n_groups; g++)
        if (glob ? fnmatch(token, v->groups[g], 0) == 0 : !strcmp(token, v->groups[g]))
            return 1;
    return 0;
}

enum st_status st_select_token(const struct st_params *layout, const char *opt, const char *spec,
                               const char *token, unsigned char *mask, struct st_err *err)
{
    int glob = is_glob(token), hits = 0;
    char list[240];
    if (!*token)
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': an empty item (expected tensor or group "
                          "names separated by commas, or none)", opt, spec);
    for (int t = 0; t < layout->n_views; t++) {
        if (!matches(&layout->v[t], token, glob))
            continue;
        if (mask[t])
            return st_err_set(err, ST_ERR_ARG, "--%s '%s': '%s' selects %s a second time", opt,
                              spec, token, layout->v[t].name);
        mask[t] = 1;
        hits++;
    }
    if (hits == 0) {
        choices(layout, list, sizeof list);
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': '%s' %s (%s)", opt, spec, token,
                          glob ? "matches no tensor or group" : "names no tensor or group", list);
    }
    return ST_OK;
}

/* Calls fn on each comma-separated item of spec; "none" has no items. */
static enum st_status each_item(const char *opt, const char *spec,
                                enum st_status (*fn)(void *ctx, char *item, struct st_err *err),
                                void *ctx, struct st_err *err)
{
    enum st_status st = ST_OK;
    if (!strcmp(spec, "none"))
        return ST_OK;
    if (!*spec)
        return st_err_set(err, ST_ERR_ARG, "--%s '': expected tensor or group names separated by "
                          "commas, or none", opt);
    char *buf = strdup(spec);
    if (!buf)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    for (char *item = buf, *next; item && st == ST_OK; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        st = fn(ctx, item, err);
    }
    free(buf);
    return st;
}

struct sel_ctx {
    const struct st_params *layout;
    const char *opt, *spec;
    unsigned char *mask;
    double *scale;
};

static enum st_status select_item(void *ctx, char *item, struct st_err *err)
{
    struct sel_ctx *c = ctx;
    return st_select_token(c->layout, c->opt, c->spec, item, c->mask, err);
}

enum st_status st_select(const struct st_params *layout, const char *opt, const char *spec,
                         unsigned char *mask, struct st_err *err)
{
    struct sel_ctx c = { layout, opt, spec, mask, NULL };
    memset(mask, 0, (size_t)layout->n_views);
    return each_item(opt, spec, select_item, &c, err);
}

/* 1 if s is a plain decimal number (digits and at most a '.' and an
 * exponent): no blank, sign or hex prefix slips through strtod. */
static int plain_number(const char *s)
{
    return (isdigit((unsigned char)s[0]) || s[0] == '.') && !strpbrk(s, "xX \t");
}

static enum st_status scale_item(void *ctx, char *item, struct st_err *err)
{
    struct sel_ctx *c = ctx;
    char *eq = strchr(item, '='), *end;
    if (!eq)
        return st_err_set(err, ST_ERR_ARG,
                          "--%s '%s': '%s' is not NAME=FACTOR (e.g. w1=0 or 2=0.5)", c->opt,
                          c->spec, item);
    *eq = '\0';
    errno = 0;
    double f = strtod(eq + 1, &end);
    if (!plain_number(eq + 1) || *end || errno || !isfinite(f) || f < 0.0)
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': factor '%s' is not a number >= 0",
                          c->opt, c->spec, eq + 1);
    unsigned char *before = malloc((size_t)c->layout->n_views);
    if (!before)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    memcpy(before, c->mask, (size_t)c->layout->n_views);
    enum st_status st = st_select_token(c->layout, c->opt, c->spec, item, c->mask, err);
    for (int t = 0; st == ST_OK && t < c->layout->n_views; t++)
        if (c->mask[t] && !before[t])
            c->scale[t] = f;
    free(before);
    return st;
}

enum st_status st_select_scale(const struct st_params *layout, const char *opt, const char *spec,
                               double *scale, struct st_err *err)
{
    unsigned char *mask = calloc((size_t)layout->n_views + 1, 1);
    struct sel_ctx c = { layout, opt, spec, mask, scale };
    if (!mask)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    for (int t = 0; t < layout->n_views; t++)
        scale[t] = 1.0;
    enum st_status st = each_item(opt, spec, scale_item, &c, err);
    free(mask);
    return st;
}

enum st_status st_select_join(const char *const *names, int n, unsigned long mask, int bit,
                              char *buf, size_t size, struct st_err *err)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int u = 0; u < n; u++) {
        if ((int)(mask >> u & 1) != bit)
            continue;
        int w = snprintf(buf + len, size - len, "%s%s", len ? "," : "", names[u]);
        if (w < 0 || (size_t)w >= size - len)
            return st_err_set(err, ST_ERR_ARG, "the names from %s on do not fit a selector "
                              "of %zu characters", names[u], size - 1);
        len += (size_t)w;
    }
    if (len == 0)
        snprintf(buf, size, "none");
    return ST_OK;
}
