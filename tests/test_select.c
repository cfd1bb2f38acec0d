/* test_select.c: selectors (core/select.h) over an MLP's layout and over a
 * layout with nested groups: names, groups, globs, "none", and every refusal
 * naming its token. */
#include <string.h>

#include "check.h"
#include "core/select.h"
#include "model_util.h"

/* mask as a string of 0/1, one per view. */
static const char *bits(const unsigned char *mask, int n)
{
    static char s[64];
    for (int i = 0; i < n; i++)
        s[i] = mask[i] ? '1' : '0';
    s[n] = '\0';
    return s;
}

static void expect(const struct st_params *p, const char *spec, const char *want)
{
    unsigned char mask[64];
    struct st_err err = { "" };
    enum st_status st = st_select(p, "freeze", spec, mask, &err);
    CHECK(st == ST_OK);
    if (st != ST_OK) {
        fprintf(stderr, "  '%s': %s\n", spec, err.msg);
        return;
    }
    if (strcmp(bits(mask, p->n_views), want) != 0)
        fprintf(stderr, "  '%s' selects %s, expected %s\n", spec, bits(mask, p->n_views), want);
    CHECK(!strcmp(bits(mask, p->n_views), want));
}

static void refuse(const struct st_params *p, const char *spec, const char *needle)
{
    unsigned char mask[64];
    struct st_err err = { "" };
    enum st_status st = st_select(p, "freeze", spec, mask, &err);
    CHECK(st == ST_ERR_ARG);
    CHECK(strstr(err.msg, needle) != NULL);
    if (st != ST_ERR_ARG || !strstr(err.msg, needle))
        fprintf(stderr, "  '%s': status %d, '%s' (wanted '%s')\n", spec, (int)st, err.msg,
                needle);
}

static void test_mlp(void)
{
    struct st_params p;
    struct st_err err;
    const int widths[] = { 1, 20, 20, 1 };
    CHECK_OK(mlp_params(&p, widths, 3, &err));
    /* Today's forms keep their meaning: layers, tensors, lists, none. */
    expect(&p, "2", "001100");
    expect(&p, "w2", "001000");
    expect(&p, "1,3", "110011");
    expect(&p, "w1,b3", "100001");
    expect(&p, "none", "000000");
    /* Globs over tensor and group names. */
    expect(&p, "b*", "010101");
    expect(&p, "w[13]", "100010");
    expect(&p, "?2", "001100");
    expect(&p, "*", "111111");
    /* Refusals name the token. */
    refuse(&p, "w9", "'w9' names no tensor or group");
    refuse(&p, "4", "'4' names no tensor or group");
    refuse(&p, "+1", "'+1' names no tensor or group");
    refuse(&p, " 1", "' 1' names no tensor or group");
    refuse(&p, "1,1", "'1' selects w1 a second time");
    refuse(&p, "b*,b2", "'b2' selects b2 a second time");
    refuse(&p, "x*", "'x*' matches no tensor or group");
    refuse(&p, "1,", "an empty item");
    refuse(&p, "", "--freeze ''");
    /* The message lists what there is. */
    refuse(&p, "w9", "tensors w1, b1, w2, b2, w3, b3; groups 1, 2, 3");

    double scale[6];
    CHECK_OK(st_select_scale(&p, "lambda-scale", "w1=0,3=0.5", scale, &err));
    CHECK(scale[0] == 0.0 && scale[1] == 1.0 && scale[2] == 1.0 && scale[4] == 0.5 &&
          scale[5] == 0.5);
    CHECK_OK(st_select_scale(&p, "lambda-scale", "b*=2", scale, &err));
    CHECK(scale[0] == 1.0 && scale[1] == 2.0 && scale[3] == 2.0 && scale[5] == 2.0);
    CHECK(st_select_scale(&p, "lambda-scale", "w2=0,2=1", scale, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "'2' selects w2 a second time") != NULL);
    CHECK(st_select_scale(&p, "lambda-scale", "w2", scale, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "not NAME=FACTOR") != NULL);
    CHECK(st_select_scale(&p, "lambda-scale", "w2=-1", scale, &err) == ST_ERR_ARG);
    CHECK(st_select_scale(&p, "lambda-scale", "w2= 1", scale, &err) == ST_ERR_ARG);
    CHECK(st_select_scale(&p, "lambda-scale", "w2=0x1", scale, &err) == ST_ERR_ARG);
    CHECK(st_select_scale(&p, "lambda-scale", "w9=1", scale, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "'w9'") != NULL);
    st_params_free(&p);
}

/* A layout with nested groups, as a transformer has them: blocks h0, h1 with
 * their attention and MLP groups, and an embedding group. */
static void test_groups(void)
{
    struct st_params p;
    struct st_err err;
    memset(&p, 0, sizeof p);
    static const char *const names[] = { "wte", "h0.attn.qkv.w", "h0.mlp.fc.w", "h1.attn.qkv.w",
                                         "h1.mlp.fc.w", "lnf.w" };
    static const char *const units[] = { "emb", "h0", "h0", "h1", "h1", "lnf" };
    static const char *const subs[] = { NULL, "h0.attn", "h0.mlp", "h1.attn", "h1.mlp", NULL };
    for (int t = 0; t < 6; t++) {
        const char *g[2] = { units[t], subs[t] };
        CHECK_OK(st_params_add(&p, names[t], names[t], 2, 4, 4, ST_KIND_WEIGHT, g,
                               subs[t] ? 2 : 1, &err));
    }
    expect(&p, "h1", "000110");
    expect(&p, "h1.attn", "000100");
    expect(&p, "h*.attn", "010100");
    expect(&p, "h*.mlp.*", "001010");
    expect(&p, "emb,lnf", "100001");
    expect(&p, "h0.attn.qkv.w,h1", "010110");
    refuse(&p, "h2", "'h2' names no tensor or group");
    refuse(&p, "h0,h0.mlp", "a second time");
    st_params_free(&p);
}

/* Masks back to selectors, as baselines and compare build their --freeze. */
static void test_join(void)
{
    static const char *const names[] = { "1", "2", "h11.attn", "w3" };
    char buf[16];
    struct st_err err;
    CHECK_OK(st_select_join(names, 4, 0x5, 1, buf, sizeof buf, &err));
    CHECK(!strcmp(buf, "1,h11.attn"));
    CHECK_OK(st_select_join(names, 4, 0x5, 0, buf, sizeof buf, &err));
    CHECK(!strcmp(buf, "2,w3"));
    CHECK_OK(st_select_join(names, 4, 0xf, 0, buf, sizeof buf, &err));
    CHECK(!strcmp(buf, "none"));
    /* What does not fit is an error, never a shorter selector. */
    CHECK_OK(st_select_join(names, 4, 0xf, 1, buf, sizeof buf, &err));
    CHECK(!strcmp(buf, "1,2,h11.attn,w3"));
    CHECK(st_select_join(names, 4, 0xf, 1, buf, 15, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "from w3 on do not fit") != NULL);
    CHECK(st_select_join(names, 4, 0x7, 1, buf, 10, &err) == ST_ERR_ARG);
}

int main(void)
{
    test_join();
    test_mlp();
    test_groups();
    return check_report("select");
}
