/*
 * Secret hygiene (issue 7.4): [auth] secrets never reach GKeyFile, unknown options are
 * refused by name only, plain http with credentials to a non-loopback host is refused, and
 * the process is not dumpable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cmocka.h>
#include <errno.h>
#include <glib/gstdio.h>

#include "api/error.h"
#include "api/http.h"
#include "fs/options_internal.h"

#define SECRET "S3cr3t-XYZZY-0123456789"

/* ---- the key file's [auth] secrets ---- */

static void test_secrets_cut_out_of_the_text(void **state)
{
    g_autofree char *data = g_strdup("[dbbackupfs]\n"
                                     "sk=not-auth\n"
                                     "[auth]\n"
                                     "ak = AKID\n"
                                     "sk = first\n"
                                     "  sk\t=  " SECRET "\\s\\\\x\r\n"
                                     "# token=commented\n"
                                     "security_token=\n"
                                     "[other]\n"
                                     "token=not-auth\n");
    Config c = {0};
    GError *error = NULL;

    assert_true(opt_config_take_secrets(&c, "conf", data, &error));
    assert_null(error);
    /* The last one counts, unescaped as GKeyFile does; only [auth] is touched. */
    assert_string_equal(g_hash_table_lookup(c.secrets, "sk"), SECRET " \\x");
    assert_string_equal(g_hash_table_lookup(c.secrets, "security_token"), "");
    assert_null(g_hash_table_lookup(c.secrets, "token"));
    assert_null(g_hash_table_lookup(c.secrets, "ak"));
    /* What GKeyFile will read: the keys, no secret. */
    assert_null(strstr(data, SECRET));
    assert_null(strstr(data, "first"));
    assert_non_null(strstr(data, "sk=not-auth\n"));
    assert_non_null(strstr(data, "ak = AKID\n"));
    assert_non_null(strstr(data, "token=not-auth\n"));
    assert_non_null(strstr(data, "# token=commented\n"));
    assert_non_null(strstr(data, "  sk\t=  ****"));
    opt_config_clear(&c);
}

static void test_secret_bad_escape_not_quoted(void **state)
{
    g_autofree char *data = g_strdup("[auth]\ntoken=" SECRET "\\q\n");
    Config c = {0};
    GError *error = NULL;

    assert_false(opt_config_take_secrets(&c, "conf", data, &error));
    assert_true(g_error_matches(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE));
    assert_non_null(strstr(error->message, "[auth] token"));
    assert_null(strstr(error->message, SECRET));
    assert_null(strstr(data, SECRET));
    g_clear_error(&error);
    opt_config_clear(&c);
}

/* ---- dbb_options_load() ---- */

typedef struct {
    char *dir, *mnt;
    DbbOptions opts;
    GError *error;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->dir = g_dir_make_tmp("dbb-secrets-XXXXXX", NULL);
    f->mnt = g_build_filename(f->dir, "mnt", NULL);
    assert_int_equal(g_mkdir(f->mnt, 0700), 0);
    g_setenv("XDG_CONFIG_HOME", f->dir, TRUE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    g_autofree char *conf = g_build_filename(f->dir, "config", NULL);

    dbb_options_clear(&f->opts);
    g_clear_error(&f->error);
    g_unlink(conf);
    g_rmdir(f->mnt);
    g_rmdir(f->dir);
    g_free(f->mnt);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static gboolean load(Fixture *f, const char *const *argv)
{
    g_auto(GStrv) copy = g_strdupv((char **)argv);
    struct fuse_args args = FUSE_ARGS_INIT((int)g_strv_length(copy), copy);
    gboolean ok;

    dbb_options_clear(&f->opts);
    g_clear_error(&f->error);
    ok = dbb_options_load(&f->opts, &args, &f->error);
    if (args.argv != copy)
        fuse_opt_free_args(&args);
    return ok;
}

#define LOAD(f, ...) load(f, (const char *const[]){"dbbackupfs", __VA_ARGS__, NULL})

static void test_unknown_option_shown_by_name_only(void **state)
{
    Fixture *f = *state;
    static const char *const wrong[] = {"sk=" SECRET, "secret_key=" SECRET, SECRET,
                                        "max_write=" SECRET};

    for (gsize i = 0; i < G_N_ELEMENTS(wrong); i++) {
        assert_false(LOAD(f, "-o", wrong[i], f->mnt));
        assert_true(g_error_matches(f->error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_USAGE));
        assert_non_null(strstr(f->error->message, "unknown option"));
        if (strchr(wrong[i], '=') != NULL)
            assert_null(strstr(f->error->message, SECRET));
    }
    assert_false(LOAD(f, "--sk=" SECRET, f->mnt));
    assert_non_null(strstr(f->error->message, "'--sk'"));
    assert_null(strstr(f->error->message, SECRET));
    /* FUSE's own options still pass (test_options checks fuse_session_new() takes them). */
    assert_true(LOAD(f, "-o", "allow_other,max_read=4096,noatime,default_permissions", f->mnt));
}

static void test_allow_insecure_http_flag(void **state)
{
    Fixture *f = *state;

    assert_true(LOAD(f, f->mnt));
    assert_false(f->opts.allow_insecure_http);
    assert_true(LOAD(f, "-o", "ro,allow_insecure_http", f->mnt));
    assert_true(f->opts.allow_insecure_http);
}

static void test_auth_secret_reaches_credentials(void **state)
{
    Fixture *f = *state;
    g_autofree char *conf = g_build_filename(f->dir, "config", NULL);
    g_autofree char *opt = g_strconcat("config=", conf, NULL);

    assert_true(g_file_set_contents(conf, "[auth]\nak=AKID\nsk= " SECRET "\\s \n", -1, NULL));
    assert_int_equal(g_chmod(conf, 0600), 0);
    assert_true(LOAD(f, "-o", opt, f->mnt));
    assert_int_equal(f->opts.credentials.kind, DBB_AUTH_AKSK);
    assert_string_equal(f->opts.credentials.ak, "AKID");
    assert_string_equal(f->opts.credentials.sk, SECRET); /* stripped, as before */
    /* A group-readable file with a secret is still refused. */
    assert_int_equal(g_chmod(conf, 0640), 0);
    assert_false(LOAD(f, "-o", opt, f->mnt));
    assert_true(g_error_matches(f->error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_PERMISSIONS));
}

/* ---- plain http ---- */

static int request(const char *base_url, DbbAuthKind kind, gboolean allow, GError **error)
{
    DbbCredentials creds = {.kind = kind, .token = "tok", .ak = "ak", .sk = "sk-secret"};
    DbbHttpConfig config = {.max_conns = 1, .credentials = &creds, .allow_insecure_http = allow};
    DbbHttp *http = dbb_http_new(&config, NULL);
    DbbHttpRequest req = {.service = "iam",
                          .base_url = base_url,
                          .path = "/v3/auth/projects",
                          .deadline = g_get_monotonic_time() + 300 * G_TIME_SPAN_MILLISECOND};
    DbbHttpResponse resp = {0};
    int sent;

    assert_false(dbb_http_get_json(http, &req, &resp, error));
    sent = (int)dbb_http_requests_sent(http);
    dbb_http_response_clear(&resp);
    dbb_http_free(http);
    return sent;
}

static void test_plain_http_refused(void **state)
{
    /* Not loopback by name, yet Linux delivers a connect() to 0.0.0.0 or :: to this host: so
     * a check that failed could not send a packet off the machine (tests send none). */
    static const char *const remote[] = {"http://0.0.0.0:9/x", "HTTP://example.invalid",
                                         "http://[::]:9", "http://127.0.0.1.example:9"};
    static const char *const local[] = {"http://127.0.0.1:1", "http://127.9.9.9:1",
                                        "http://localhost:1", "http://[::1]:1"};

    for (gsize i = 0; i < G_N_ELEMENTS(remote); i++) {
        for (DbbAuthKind kind = DBB_AUTH_AKSK; kind <= DBB_AUTH_TOKEN; kind++) {
            g_autoptr(GError) error = NULL;
            assert_int_equal(request(remote[i], kind, FALSE, &error), 0);
            assert_true(g_error_matches(error, DBB_API_ERROR, EACCES));
            assert_non_null(strstr(error->message, "plain http"));
            assert_null(strstr(error->message, "sk-secret"));
        }
    }
    for (gsize i = 0; i < G_N_ELEMENTS(local); i++) {
        g_autoptr(GError) error = NULL;
        assert_true(request(local[i], DBB_AUTH_TOKEN, FALSE, &error) >= 1);
        assert_false(g_error_matches(error, DBB_API_ERROR, EACCES));
    }
    {
        g_autoptr(GError) allowed = NULL;
        g_autoptr(GError) anonymous = NULL;
        g_autoptr(GError) tls = NULL;
        /* Told to, or nothing to leak, or https: the request goes out (and fails here). */
        assert_true(request("http://0.0.0.0:9", DBB_AUTH_TOKEN, TRUE, &allowed) >= 1);
        assert_true(request("http://0.0.0.0:9", DBB_AUTH_NONE, FALSE, &anonymous) >= 1);
        assert_true(request("https://0.0.0.0:9", DBB_AUTH_TOKEN, FALSE, &tls) >= 1);
        assert_false(g_error_matches(allowed, DBB_API_ERROR, EACCES));
    }
}

/* IAM password authentication: the password in a POST body, then a token per request. */
static void test_plain_http_refused_for_password_auth(void **state)
{
    DbbHttpConfig config = {.max_conns = 1};
    DbbHttp *http = dbb_http_new(&config, NULL);
    DbbHttpRequest post = {.service = "iam",
                           .base_url = "http://0.0.0.0:9",
                           .path = "/v3/auth/tokens",
                           .post_body = "{\"auth\":{}}",
                           .redact = "pa55word"};
    DbbHttpRequest get = {.service = "ddm",
                          .base_url = "http://0.0.0.0:9",
                          .path = "/v3/p/instances",
                          .auth_token = "tok"};
    DbbHttpResponse resp = {0};
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;

    assert_false(dbb_http_get_json(http, &post, &resp, &e1));
    assert_true(g_error_matches(e1, DBB_API_ERROR, EACCES));
    assert_non_null(strstr(e1->message, "POST /v3/auth/tokens: refusing"));
    assert_false(dbb_http_get_json(http, &get, &resp, &e2));
    assert_true(g_error_matches(e2, DBB_API_ERROR, EACCES));
    assert_int_equal(dbb_http_requests_sent(http), 0);
    dbb_http_response_clear(&resp);
    dbb_http_free(http);
}

/* ---- the process ---- */

static void test_not_dumpable(void **state)
{
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    dbb_options_protect_process();
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_cut_out_of_the_text),
        cmocka_unit_test(test_secret_bad_escape_not_quoted),
        cmocka_unit_test_setup_teardown(test_unknown_option_shown_by_name_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_insecure_http_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_secret_reaches_credentials, setup, teardown),
        cmocka_unit_test(test_plain_http_refused),
        cmocka_unit_test(test_plain_http_refused_for_password_auth),
        cmocka_unit_test(test_not_dumpable),
    };

    for (const char *const *v = (const char *const[]){ENV_AK, ENV_SK, ENV_TOKEN, NULL}; *v; v++)
        g_unsetenv(*v);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
