/* test_params.c: layout of the flat buffer (names, shapes, kinds, groups,
 * alignment), twins, and the refusals of a bad layout. */
#include <string.h>

#include "check.h"
#include "core/params.h"
#include "model_util.h"

/* The MLP's layout: w1 b1 w2 b2, each in its layer's unit. */
static void test_mlp_layout(void)
{
    struct st_params p, q;
    struct st_err err;
    const int widths[] = { 3, 5, 2 };
    CHECK_OK(mlp_params(&p, widths, 2, &err));
    CHECK(p.n_views == 4);
    CHECK(!strcmp(p.v[0].name, "w1") && !strcmp(p.v[1].name, "b1"));
    CHECK(!strcmp(p.v[2].name, "w2") && !strcmp(p.v[3].name, "b2"));
    CHECK(p.v[0].rows == 5 && p.v[0].cols == 3 && p.v[0].ndim == 2);
    CHECK(p.v[1].rows == 5 && p.v[1].cols == 1 && p.v[1].ndim == 1);
    CHECK(p.v[2].rows == 2 && p.v[2].cols == 5);
    CHECK(p.v[0].kind == ST_KIND_WEIGHT && p.v[1].kind == ST_KIND_BIAS);
    CHECK(!strcmp(p.v[0].role, "w") && !strcmp(p.v[1].role, "b"));
    CHECK(!strcmp(p.v[2].groups[0], "2") && !strcmp(p.v[3].groups[0], "2"));
    CHECK(st_view_in_group(&p.v[1], "1") && !st_view_in_group(&p.v[1], "2"));
    for (int t = 0; t < p.n_views; t++) {
        CHECK(p.v[t].offset % 16 == 0);
        CHECK(p.v[t].data == p.mem + p.v[t].offset);
        CHECK(p.v[t].offset + st_view_size(&p.v[t]) <= p.n);
        if (t > 0)
            CHECK(p.v[t].offset >= p.v[t - 1].offset + st_view_size(&p.v[t - 1]));
    }
    for (size_t i = 0; i < p.n; i++)
        CHECK(p.mem[i] == 0.0f);
    for (size_t i = 0; i < p.n; i++)
        p.mem[i] = (float)i;
    CHECK_OK(st_params_twin(&q, &p, &err));
    CHECK(q.n == p.n && q.mem != p.mem && q.mem[5] == 0.0f);
    CHECK(q.v != p.v && q.v[2].data == q.mem + p.v[2].offset);
    CHECK(!strcmp(q.v[3].name, "b2"));
    st_params_copy(&q, &p);
    CHECK(memcmp(q.mem, p.mem, p.n * sizeof(float)) == 0);
    CHECK(st_params_find(&p, "b2") == 3);
    CHECK(st_params_find(&p, "w3") == -1);
    CHECK(st_params_count(&p) == 5 * 3 + 5 + 2 * 5 + 2);
    const char *units[8];
    CHECK(st_params_groups(&p, 0, units) == 2);
    CHECK(!strcmp(units[0], "1") && !strcmp(units[1], "2"));
    st_params_free(&p);
    st_params_free(&q);
    st_params_free(&p); /* freeing twice is harmless */
}

/* A layout of names longer than an MLP's, with several groups: no limit
 * derives from a layer count, and nothing from an index. */
static void test_names_and_groups(void)
{
    struct st_params p;
    struct st_err err;
    char name[ST_NAME_MAX], unit[16], attn[24];
    memset(&p, 0, sizeof p);
    for (int h = 0; h < 300; h++) {
        snprintf(unit, sizeof unit, "h%d", h);
        snprintf(attn, sizeof attn, "h%d.attn", h);
        const char *groups[2] = { unit, attn };
        snprintf(name, sizeof name, "h%d.attn.proj.w", h);
        CHECK_OK(st_params_add(&p, name, "attn.proj.w", 2, 8, 8, ST_KIND_WEIGHT, groups, 2, &err));
        snprintf(name, sizeof name, "h%d.ln1.w", h);
        CHECK_OK(st_params_add(&p, name, "ln1.w", 1, 8, 1, ST_KIND_NORM, groups, 2, &err));
    }
    CHECK(p.n_views == 600);
    CHECK(p.mem == NULL && p.v[0].data == NULL); /* a layout: no floats yet */
    CHECK_OK(st_params_alloc(&p, &err));
    CHECK(p.v[599].data == p.mem + p.v[599].offset);
    CHECK(!strcmp(p.v[599].name, "h299.ln1.w") && p.v[599].kind == ST_KIND_NORM);
    CHECK(st_view_in_group(&p.v[599], "h299.attn"));
    const char *groups[600 * ST_VIEW_GROUPS];
    CHECK(st_params_groups(&p, 1, groups) == 600);
    CHECK(st_params_groups(&p, 0, groups) == 300);

    /* refusals */
    const char *g1[1] = { "h0" };
    char longname[ST_NAME_MAX + 4];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(st_params_add(&p, longname, "r", 1, 2, 1, ST_KIND_BIAS, g1, 1, &err) == ST_ERR_ARG);
    CHECK(st_params_add(&p, "h0.ln1.w", "r", 1, 2, 1, ST_KIND_BIAS, g1, 1, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "twice") != NULL);
    CHECK(st_params_add(&p, "x", "r", 1, 2, 3, ST_KIND_BIAS, g1, 1, &err) == ST_ERR_ARG);
    CHECK(st_params_add(&p, "x", "r", 2, 0, 3, ST_KIND_WEIGHT, g1, 1, &err) == ST_ERR_ARG);
    CHECK(st_params_add(&p, "x", "r", 2, 2, 3, ST_KIND_WEIGHT, g1, 0, &err) == ST_ERR_ARG);
    CHECK(p.n_views == 600);
    st_params_free(&p);
}

static void test_bad_mlp(void)
{
    struct st_params r;
    struct st_err err;
    const int bad[] = { 3, 0, 2 }, widths[] = { 3, 5, 2 };
    memset(&r, 0, sizeof r);
    CHECK(mlp_params(&r, bad, 2, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "0") != NULL);
    CHECK(mlp_params(&r, widths, 0, &err) == ST_ERR_ARG);
}

int main(void)
{
    test_mlp_layout();
    test_names_and_groups();
    test_bad_mlp();
    return check_report("params");
}
