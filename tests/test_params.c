/* test_params.c: layout of the flat buffer, names, alignment and twins. */
#include <string.h>

#include "check.h"
#include "core/params.h"

int main(void)
{
    struct st_params p, q;
    struct st_err err;
    const int widths[] = { 3, 5, 2 };
    CHECK_OK(st_params_init(&p, widths, 2, &err));
    CHECK(p.n_views == 4);
    CHECK(!strcmp(p.v[0].name, "w1") && !strcmp(p.v[1].name, "b1"));
    CHECK(!strcmp(p.v[2].name, "w2") && !strcmp(p.v[3].name, "b2"));
    CHECK(p.v[0].rows == 5 && p.v[0].cols == 3);
    CHECK(p.v[1].rows == 5 && p.v[1].cols == 1);
    CHECK(p.v[2].rows == 2 && p.v[2].cols == 5);
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
    CHECK(q.v[2].data == q.mem + p.v[2].offset);
    st_params_copy(&q, &p);
    CHECK(memcmp(q.mem, p.mem, p.n * sizeof(float)) == 0);
    CHECK(st_params_find(&p, "b2") == 3);
    CHECK(st_params_find(&p, "w3") == -1);

    const int bad[] = { 3, 0, 2 };
    struct st_params r;
    memset(&r, 0, sizeof r);
    CHECK(st_params_init(&r, bad, 2, &err) == ST_ERR_ARG);
    CHECK(strstr(err.msg, "0") != NULL);
    CHECK(st_params_init(&r, widths, 0, &err) == ST_ERR_ARG);
    st_params_free(&p);
    st_params_free(&q);
    st_params_free(&p); /* freeing twice is harmless */
    return check_report("params");
}
