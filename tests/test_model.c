/* test_model.c: the model interface (core/model.h) with its first family, the
 * MLP: dispatch, shapes, descriptions, memory; and model files of any family
 * (io/modelfile.h): names, metadata order, the header-only read, and the
 * checks of a file against a run's model. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/model.h"
#include "io/modelfile.h"
#include "io/safetensors.h"
#include "model_util.h"

static char tmpdir[64];

static void test_dispatch(void)
{
    struct st_model m;
    struct st_err err;
    char buf[128];
    const int seed[] = { 1, 20, 20, 1 }, wide[] = { 8, 3, 5, 7, 2 };
    CHECK(st_family_count() >= 1);
    CHECK(st_family_find("mlp") == 0 && st_family_at(0) && !strcmp(st_family_at(0)->name, "mlp"));
    CHECK(st_family_find("nope") == -1 && st_family_at(st_family_count()) == NULL);
    CHECK(strstr(st_family_choices(), "mlp") != NULL);

    CHECK_OK(mlp_model(&m, seed, 3, ST_ACT_RELU, &err));
    struct st_model_io io = st_model_io(&m);
    CHECK(io.in == 1 && io.rows == 1 && io.cols == 1);
    st_model_describe(&m, buf, sizeof buf);
    CHECK(!strcmp(buf, "mlp 1,20,20,1 relu"));
    st_model_middle(&m, buf, sizeof buf);
    CHECK(!strcmp(buf, "2"));
    /* parameters 481; plus 2 copies; plus the work buffers of a batch */
    CHECK(st_model_bytes(&m, 2, 10) > 3.0 * 481 * 4);
    st_model_free(&m);
    st_model_free(&m); /* twice is harmless */

    CHECK_OK(mlp_model(&m, wide, 4, ST_ACT_TANH, &err));
    io = st_model_io(&m);
    CHECK(io.in == 8 && io.rows == 1 && io.cols == 2);
    st_model_middle(&m, buf, sizeof buf);
    CHECK(!strcmp(buf, "2"));
    st_model_describe(&m, buf, sizeof buf);
    CHECK(!strcmp(buf, "mlp 8,3,5,7,2 tanh"));
    st_model_free(&m);

    /* The family's checks come through st_model_init, naming the option. */
    struct st_arch a;
    st_arch_mlp(&a, seed, 3, ST_ACT_RELU);
    a.widths[1] = 0;
    CHECK(st_model_init(&m, &a, &err) == ST_ERR_ARG && strstr(err.msg, "--widths"));
    a.family = 7;
    CHECK(st_model_init(&m, &a, &err) == ST_ERR_ARG && strstr(err.msg, "--arch"));
}

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static void test_files(void)
{
    struct st_model m, other;
    struct st_params p;
    struct st_modelfile mf;
    struct st_safetensors_file f;
    struct st_err err;
    char path[256];
    const int widths[] = { 3, 4, 2 }, more[] = { 3, 5, 2 };
    const char *keys[] = { "input_mean", "input_std" }, *vals[] = { "1,2,3", "4,5,6" };

    CHECK_OK(mlp_model(&m, widths, 2, ST_ACT_SILU, &err));
    CHECK_OK(st_model_params(&m, &p, &err));
    for (size_t i = 0; i < p.n; i++)
        p.mem[i] = 0.01f * (float)i - 0.3f;
    path_in(path, sizeof path, "m.safetensors");
    CHECK_OK(st_modelfile_write(path, &m, &p, "student", keys, vals, 2, &err));

    /* Metadata in order: format, the family's, role, the caller's. */
    CHECK_OK(st_safetensors_read(path, &f, &err));
    static const char *const want_keys[] = { "format", "widths", "activation", "role",
                                             "input_mean", "input_std" };
    static const char *const want_vals[] = { "sparsetune", "3,4,2", "silu", "student", "1,2,3",
                                             "4,5,6" };
    CHECK(f.n_meta == 6);
    for (int i = 0; i < f.n_meta && i < 6; i++)
        CHECK(!strcmp(f.meta_keys[i], want_keys[i]) && !strcmp(f.meta_vals[i], want_vals[i]));
    CHECK(st_safetensors_find(&f, "layers.0.weight") && st_safetensors_find(&f, "layers.1.bias"));
    CHECK(st_safetensors_find(&f, "w1") == NULL);
    st_safetensors_file_free(&f);

    /* Read back: the same model, values, and which options the file fixes. */
    CHECK_OK(st_modelfile_read(path, 0, &mf, &err));
    CHECK(mf.model.f == m.f && mf.model.arch.n_layers == 2 && mf.model.arch.widths[1] == 4);
    CHECK(mf.model.arch.act == ST_ACT_SILU);
    CHECK(mf.named == 3u); /* widths and activation */
    CHECK(mf.p.n == p.n && mf.p.n_views == p.n_views);
    for (int t = 0; t < p.n_views && t < mf.p.n_views; t++)
        CHECK(!memcmp(mf.p.v[t].data, p.v[t].data, st_view_size(&p.v[t]) * sizeof(float)));
    CHECK(st_meta_get(&mf.meta, "input_std") && !strcmp(st_meta_get(&mf.meta, "input_std"), "4,5,6"));
    CHECK(st_meta_get(&mf.meta, "nope") == NULL);
    CHECK_OK(st_modelfile_check(&mf, &m, "student-init", path, &err));
    /* Another width or activation than the run's: named with both values. */
    CHECK_OK(mlp_model(&other, more, 2, ST_ACT_SILU, &err));
    CHECK(st_modelfile_check(&mf, &other, "student-init", path, &err) == ST_ERR_SHAPE);
    CHECK(strstr(err.msg, "--student-init") && strstr(err.msg, "a network of widths 3,4,2") &&
          strstr(err.msg, "the run's --widths is 3,5,2"));
    st_model_free(&other);
    CHECK_OK(mlp_model(&other, widths, 2, ST_ACT_RELU, &err));
    CHECK(st_modelfile_check(&mf, &other, "model", path, &err) == ST_ERR_FORMAT);
    CHECK(strstr(err.msg, "--model") && strstr(err.msg, "activation 'silu'") &&
          strstr(err.msg, "--activation is relu"));
    st_model_free(&other);
    st_modelfile_free(&mf);

    /* The header alone: the architecture and a layout without values. */
    CHECK_OK(st_modelfile_read(path, 1, &mf, &err));
    CHECK(mf.model.arch.widths[2] == 2 && mf.p.mem == NULL && mf.p.n_views == 4);
    CHECK(!strcmp(mf.p.v[3].name, "b2"));
    st_modelfile_free(&mf);

    /* A file that names another family is refused by name. */
    {
        const char *k[] = { "arch" }, *v[] = { "transformer-xl" };
        path_in(path, sizeof path, "alien.safetensors");
        CHECK_OK(st_safetensors_write(path, &p, NULL, k, v, 1, &err));
        CHECK(st_modelfile_read(path, 0, &mf, &err) == ST_ERR_FORMAT);
        CHECK(strstr(err.msg, "arch 'transformer-xl'") && strstr(err.msg, "mlp"));
        remove(path);
    }
    path_in(path, sizeof path, "m.safetensors");
    remove(path);
    st_params_free(&p);
    st_model_free(&m);
}

/* A set runs in one pass while its work buffers fit ST_PASS_BYTES (row
 * outputs can depend on the rows beside them), in the largest halves that
 * fit past that. */
static void test_pass_rows(void)
{
    struct st_model m;
    struct st_err err;
    const int wide[] = { 4, 300, 300, 1 };
    CHECK_OK(mlp_model(&m, wide, 3, ST_ACT_RELU, &err));
    CHECK(st_model_pass_rows(&m, 1) == 1);
    CHECK(st_model_pass_rows(&m, 20000) == 20000);
    CHECK(st_model_pass_rows(&m, 100000) == 100000);
    long big = 1L << 30, rows = st_model_pass_rows(&m, big);
    CHECK(rows < big && rows > 1000);
    CHECK(m.f->work_bytes(&m, rows) <= ST_PASS_BYTES);
    CHECK(m.f->work_bytes(&m, 2 * rows) > ST_PASS_BYTES);
    CHECK(st_model_pass_rows(&m, 1L << 40) <= 0x7fffffffL);
    st_model_free(&m);
}

int main(void)
{
    strcpy(tmpdir, "/tmp/st_test_model.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_dispatch();
    test_pass_rows();
    test_files();
    CHECK(rmdir(tmpdir) == 0);
    return check_report("model");
}
