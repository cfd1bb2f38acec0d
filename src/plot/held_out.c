/* held_out.c: see held_out.h. */
#include "held_out.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The set of the given kind (0 validation, 1 the evaluation set, 2 a named
 * one) called name in sets[*n], added when new (NULL when there is no room):
 * a set named "validation" is not the validation set. */
static struct st_held_out *set_named(struct st_held_out *sets, int *n, int kind, const char *name,
                                     size_t len)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), name);
    if (len >= sizeof buf)
        memcpy(buf + sizeof buf - 4, "...", 4);
    for (int i = 0; i < *n; i++)
        if (sets[i].kind == kind && !strcmp(sets[i].name, buf))
            return &sets[i];
    if (*n == ST_MAX_HELD_OUT)
        return NULL;
    struct st_held_out *s = &sets[(*n)++];
    snprintf(s->name, sizeof s->name, "%s", buf);
    s->c_loss = s->c_acc = -1;
    s->kind = kind;
    return s;
}

/* Whether column name ends in "_<suffix>" after a set's name (letters,
 * digits, '-', '_') that starts at name; *len gets the name's length. */
static int named_column(const char *name, const char *suffix, size_t *len)
{
    size_t n = strlen(name), k = strlen(suffix);
    if (n < k + 2 || name[n - k - 1] != '_' || strcmp(name + n - k, suffix))
        return 0;
    *len = n - k - 1;
    for (size_t i = 0; i < *len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
            return 0;
    return 1;
}

int st_held_out_sets(char *const *names, int n_cols, const char *loss, const char *eval_name,
                     struct st_held_out *sets)
{
    int n = 0;
    for (int c = 0; c < n_cols; c++) {
        const char *col = names[c];
        struct st_held_out *s = NULL;
        int is_acc = 0;
        size_t len;
        if (!strncmp(col, "val_", 4) && (!strcmp(col + 4, loss) || !strcmp(col + 4, "accuracy"))) {
            s = set_named(sets, &n, 0, "validation", 10);
            is_acc = !strcmp(col + 4, "accuracy");
        } else if (!strncmp(col, "eval_", 5) &&
                   (!strcmp(col + 5, loss) || !strcmp(col + 5, "accuracy"))) {
            const char *name = eval_name && eval_name[0] ? eval_name : "eval";
            s = set_named(sets, &n, 1, name, strlen(name));
            is_acc = !strcmp(col + 5, "accuracy");
        } else if (!strncmp(col, "eval_", 5) && named_column(col + 5, loss, &len)) {
            s = set_named(sets, &n, 2, col + 5, len);
        } else if (!strncmp(col, "eval_", 5) && named_column(col + 5, "accuracy", &len)) {
            s = set_named(sets, &n, 2, col + 5, len);
            is_acc = 1;
        }
        if (s && is_acc)
            s->c_acc = c;
        else if (s)
            s->c_loss = c;
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (sets[i].c_loss >= 0)
            sets[k++] = sets[i];
    return k;
}
