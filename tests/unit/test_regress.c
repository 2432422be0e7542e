/*
 * Regression tests for what tools/fuzz found (tests/fuzz/): each case is the smallest input
 * of one finding, named after the target that found it.  Leaks are caught by the ASan pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "api/http.h"
#include "fs/options.h"

/* fuzz_errbody: an error code of any size went into the message (and the log) whole. */
static void test_errbody_long_code_is_cut(void **state)
{
    g_autofree char *code = g_strnfill(100000, 'C');
    g_autofree char *rid = g_strnfill(100000, 'R');
    g_autofree char *body = g_strdup_printf(
        "{\"error_code\":\"%s\",\"error_msg\":\"m\",\"request_id\":\"%s\"}", code, rid);
    g_autofree char *detail = dbb_http_error_detail(500, (const guint8 *)body, strlen(body));

    assert_true(g_str_has_prefix(detail, "HTTP 500 CCCC"));
    assert_true(strlen(detail) < 1024);
    assert_non_null(strstr(detail, ": m (request id RRRR"));
}

/* fuzz_keyfile: a value with a bad escape ("\h") came back from GLib cut short *and* with an
 * error set; the cut value was used and the error leaked. */
static void test_keyfile_bad_escape_is_an_error(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("dbb-regress-XXXXXX", NULL);
    g_autofree char *mnt = g_build_filename(dir, "mnt", NULL);
    g_autofree char *conf = g_build_filename(dir, "config", NULL);
    g_autofree char *opt = g_strconcat("config=", conf, NULL);
    char *argv[] = {g_strdup("dbbackupfs"), g_strdup("-o"), g_strdup(opt), g_strdup(mnt), NULL};
    struct fuse_args args = FUSE_ARGS_INIT(4, argv);
    DbbOptions opts;
    GError *error = NULL;

    assert_int_equal(g_mkdir(mnt, 0700), 0);
    assert_true(
        g_file_set_contents(conf, "[dbbackupfs]\nendpoint=http://a.example\\h/x\n", -1, NULL));
    assert_false(dbb_options_load(&opts, &args, &error));
    assert_true(g_error_matches(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE));
    assert_non_null(strstr(error->message, "endpoint"));
    g_clear_error(&error);
    if (args.argv != argv)
        fuse_opt_free_args(&args);
    for (int i = 0; i < 4; i++)
        g_free(argv[i]);
    g_unlink(conf);
    g_rmdir(mnt);
    g_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errbody_long_code_is_cut),
        cmocka_unit_test(test_keyfile_bad_escape_is_an_error),
    };

    g_setenv("XDG_CONFIG_HOME", "/nonexistent", TRUE);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
