/*
 * Unit tests of fs/options.c: the command line, the config file, the credentials and their
 * precedence, permission refusal, and that no secret reaches an error or a log line.
 *
 * Every test runs in a fresh temporary directory with XDG_CONFIG_HOME pointing into it and
 * the credential variables unset, so the user's own configuration never leaks in.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "api/service.h"
#include "dbb-config.h"
#include "fs/options.h"

/* Markers planted as secrets: none may appear in an error message or a log line. */
#define SECRET_SK    "sk-SECRET-0d1e2f"
#define SECRET_TOKEN "tok-SECRET-9a8b7c"
#define SECRET_STS   "sts-SECRET-556677"
#define PUBLIC_AK    "AKPUBLIC0001"

static const char *const cred_vars[] = {
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "HUAWEICLOUD_SDK_DOMAIN_ID",
    "DBBACKUPFS_TOKEN",
    "DBBACKUPFS_PASSWORD",
    NULL,
};

static GString *captured_log; /* every log message of the process, for secret checks */

static GLogWriterOutput capture_writer(GLogLevelFlags level, const GLogField *fields,
                                       gsize n_fields, gpointer user_data)
{
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0) {
            g_string_append(captured_log, (const char *)fields[i].value);
            g_string_append_c(captured_log, '\n');
        }
    }
    return G_LOG_WRITER_HANDLED;
}

typedef struct {
    char *dir; /* temporary root */
    char *mnt; /* an existing directory to mount on */
    char *xdg; /* XDG_CONFIG_HOME */
    DbbOptions opts;
    struct fuse_args args;
    GError *error;
} Fixture;

static void assert_no_secret(const char *text)
{
    if (text == NULL)
        return;
    assert_null(strstr(text, SECRET_SK));
    assert_null(strstr(text, SECRET_TOKEN));
    assert_null(strstr(text, SECRET_STS));
}

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->dir = g_dir_make_tmp("test_options_XXXXXX", NULL);
    assert_non_null(f->dir);
    f->mnt = g_build_filename(f->dir, "mnt", NULL);
    f->xdg = g_build_filename(f->dir, "xdg", NULL);
    assert_int_equal(g_mkdir(f->mnt, 0700), 0);
    assert_int_equal(g_mkdir(f->xdg, 0700), 0);
    g_setenv("XDG_CONFIG_HOME", f->xdg, TRUE);
    for (const char *const *v = cred_vars; *v; v++)
        g_unsetenv(*v);
    g_unsetenv("DBBACKUPFS_USER"); /* names, not secrets: not scrubbed */
    g_unsetenv("DBBACKUPFS_DOMAIN");
    g_string_truncate(captured_log, 0);
    *state = f;
    return 0;
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            g_unlink(child);
    }
    if (d != NULL)
        g_dir_close(d);
    g_rmdir(path);
}

static int teardown(void **state)
{
    Fixture *f = *state;

    assert_no_secret(captured_log->str);
    if (f->error != NULL)
        assert_no_secret(f->error->message);
    dbb_options_clear(&f->opts);
    fuse_opt_free_args(&f->args);
    g_clear_error(&f->error);
    remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->mnt);
    g_free(f->xdg);
    g_free(f);
    return 0;
}

/* Run dbb_options_load() on {"dbbackupfs", args..., NULL}. */
static gboolean load_argv(Fixture *f, const char *const *argv)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    gboolean ok;

    g_ptr_array_add(a, g_strdup("dbbackupfs"));
    for (const char *const *p = argv; *p; p++)
        g_ptr_array_add(a, g_strdup(*p));
    dbb_options_clear(&f->opts);
    fuse_opt_free_args(&f->args);
    g_clear_error(&f->error);
    g_ptr_array_add(a, NULL);
    /* fuse_opt_parse() copies the vector it is given, so ours may go right after. */
    f->args = (struct fuse_args)FUSE_ARGS_INIT((int)a->len - 1, (char **)a->pdata);
    ok = dbb_options_load(&f->opts, &f->args, &f->error);
    if (f->args.argv == (char **)a->pdata) /* not copied (parse failed early) */
        f->args = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
    g_ptr_array_unref(a);
    assert_true(ok == (f->error == NULL));
    if (f->error != NULL)
        assert_no_secret(f->error->message);
    return ok;
}

#define LOAD(f, ...) load_argv(f, (const char *const[]){__VA_ARGS__, NULL})

static void expect_error(Fixture *f, int code, const char *needle)
{
    assert_non_null(f->error);
    if (!g_error_matches(f->error, DBB_OPTIONS_ERROR, code) ||
        (needle != NULL && strstr(f->error->message, needle) == NULL))
        fail_msg("expected error %d containing \"%s\", got %d: %s", code, needle ? needle : "",
                 f->error->code, f->error->message);
    /* a failed load leaves nothing behind */
    assert_null(f->opts.mountpoint);
    assert_null(f->opts.services);
}

static char *write_file(Fixture *f, const char *name, const char *content, mode_t mode)
{
    char *path = g_build_filename(f->dir, name, NULL);
    g_autofree char *parent = g_path_get_dirname(path);

    assert_int_equal(g_mkdir_with_parents(parent, 0700), 0);
    assert_true(g_file_set_contents(path, content, -1, NULL));
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* "-o config=PATH" for a config file written with mode. */
static char *config_opt(Fixture *f, const char *content, mode_t mode)
{
    g_autofree char *path = write_file(f, "conf/dbbackupfs.conf", content, mode);
    return g_strconcat("config=", path, NULL);
}

static char *real_mnt(Fixture *f)
{
    char *r = realpath(f->mnt, NULL);
    char *copy = g_strdup(r);
    free(r);
    return copy;
}

static void assert_args(Fixture *f, const char *const *expected)
{
    int n = 0;

    while (expected[n] != NULL)
        n++;
    if (f->args.argc != n) {
        for (int i = 0; i < f->args.argc; i++)
            print_error("  arg %d: %s\n", i, f->args.argv[i]);
        fail_msg("expected %d fuse args, got %d", n, f->args.argc);
    }
    for (int i = 0; i < n; i++)
        assert_string_equal(f->args.argv[i], expected[i]);
}

#define ASSERT_ARGS(f, ...) assert_args(f, (const char *const[]){__VA_ARGS__, NULL})

static void assert_strv(char **got, const char *const *expected)
{
    guint n = g_strv_length((char **)expected);

    assert_non_null(got);
    assert_int_equal(g_strv_length(got), n);
    for (guint i = 0; i < n; i++)
        assert_string_equal(got[i], expected[i]);
}

#define ASSERT_STRV(got, ...) assert_strv(got, (const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
    Fixture *f = *state;
    g_autofree char *mnt = real_mnt(f);

    assert_true(LOAD(f, f->mnt));
    assert_string_equal(f->opts.mountpoint, mnt);
    assert_true(f->opts.ttl == 60);
    assert_true(f->opts.negative_ttl == 10);
    assert_true(f->opts.max_stale == 3600);
    assert_true(f->opts.timeout == 30);
    assert_int_equal(f->opts.max_conns, 8);
    ASSERT_STRV(f->opts.services, "ddm", "dds", "gaussdb", "geminidb", "rds", "taurusdb");
    assert_null(f->opts.config_path);
    assert_null(f->opts.endpoint);
    assert_null(f->opts.projects);
    assert_null(f->opts.cafile);
    assert_null(f->opts.configured_projects);
    assert_non_null(f->opts.service_endpoints);
    assert_int_equal(g_hash_table_size(f->opts.service_endpoints), 0);
    assert_int_equal(f->opts.credentials.kind, DBB_AUTH_NONE);
    assert_null(f->opts.credentials_source);
    assert_false(f->opts.has_uid);
    assert_false(f->opts.has_gid);
    assert_false(f->opts.foreground || f->opts.debug || f->opts.singlethread);
    assert_false(f->opts.show_help || f->opts.show_version);
    ASSERT_ARGS(f, "dbbackupfs", "-o", "ro,fsname=dbbackupfs,subtype=dbbackupfs");
}

static void test_every_option(void **state)
{
    Fixture *f = *state;
    g_autofree char *ca = write_file(f, "ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
    g_autofree char *o = g_strdup_printf(
        "ttl=5,negative_ttl=0,max_stale=0.5,timeout=3600,max_conns=256,"
        "endpoint=http://127.0.0.1:8080/{service},projects=b:a:b,services=taurusdb:ddm,"
        "cafile=%s,uid=1000,gid=0",
        ca);

    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_true(f->opts.ttl == 5);
    assert_true(f->opts.negative_ttl == 0);
    assert_true(f->opts.max_stale == 0.5);
    assert_true(f->opts.timeout == 3600);
    assert_int_equal(f->opts.max_conns, 256);
    assert_string_equal(f->opts.endpoint, "http://127.0.0.1:8080/{service}");
    ASSERT_STRV(f->opts.projects, "b", "a");
    ASSERT_STRV(f->opts.services, "ddm", "taurusdb");
    assert_string_equal(f->opts.cafile, ca);
    assert_true(f->opts.has_uid && f->opts.uid == 1000);
    assert_true(f->opts.has_gid && f->opts.gid == 0);
    /* all ours: nothing of it reaches FUSE */
    ASSERT_ARGS(f, "dbbackupfs", "-o", "ro,fsname=dbbackupfs,subtype=dbbackupfs");
}

/* The listing-wide caps: defaults, plain numbers and binary suffixes. */
static void test_listing_caps(void **state)
{
    Fixture *f = *state;

    assert_true(LOAD(f, f->mnt));
    assert_int_equal(f->opts.max_records, 1000000);
    assert_int_equal(f->opts.max_listing_bytes, G_GUINT64_CONSTANT(512) << 20);
    assert_true(LOAD(f, "-o", "max_records=1,max_listing_bytes=1048576", f->mnt));
    assert_int_equal(f->opts.max_records, 1);
    assert_int_equal(f->opts.max_listing_bytes, 1048576);
    assert_true(LOAD(f, "-o", "max_records=1000000000,max_listing_bytes=2GiB", f->mnt));
    assert_int_equal(f->opts.max_records, 1000000000);
    assert_int_equal(f->opts.max_listing_bytes, G_GUINT64_CONSTANT(2) << 30);
    assert_true(LOAD(f, "-o", "max_listing_bytes=1T", f->mnt));
    assert_int_equal(f->opts.max_listing_bytes, G_GUINT64_CONSTANT(1) << 40);
    assert_true(LOAD(f, "-o", "max_listing_bytes=64m", f->mnt));
    assert_int_equal(f->opts.max_listing_bytes, G_GUINT64_CONSTANT(64) << 20);
}

static void test_last_value_wins_and_boundaries(void **state)
{
    Fixture *f = *state;

    assert_true(LOAD(f, "-o", "ttl=1", "-o", "ttl=0,timeout=0.001,max_conns=1", f->mnt));
    assert_true(f->opts.ttl == 0);
    assert_true(f->opts.timeout == 0.001);
    assert_int_equal(f->opts.max_conns, 1);
    assert_true(LOAD(f, "-ouid=0", "-ogid=4294967294", "-ottl=1000000000", f->mnt));
    assert_true(f->opts.has_uid && f->opts.uid == 0);
    assert_true(f->opts.gid == 4294967294u);
    assert_true(f->opts.ttl == 1e9);
}

static void test_flags(void **state)
{
    Fixture *f = *state;

    assert_true(LOAD(f, "-f", "-s", f->mnt));
    assert_true(f->opts.foreground && f->opts.singlethread);
    assert_false(f->opts.debug);
    ASSERT_ARGS(f, "dbbackupfs", "-o", "ro,fsname=dbbackupfs,subtype=dbbackupfs");

    /* -d implies -f, as in libfuse, and reaches fuse_session_new() once as "-o debug" */
    assert_true(LOAD(f, "-d", "-o", "debug", f->mnt));
    assert_true(f->opts.debug && f->opts.foreground);
    assert_false(f->opts.singlethread);
    ASSERT_ARGS(f, "dbbackupfs", "-o", "debug,ro,fsname=dbbackupfs,subtype=dbbackupfs");

    assert_true(LOAD(f, f->mnt, "-o", "debug"));
    assert_true(f->opts.debug && f->opts.foreground);
}

static void test_help_and_version(void **state)
{
    Fixture *f = *state;

    /* no mount point needed, and a broken config is not even read */
    assert_true(LOAD(f, "--help", "-o", "config=/nonexistent/dbbackupfs.conf"));
    assert_true(f->opts.show_help);
    assert_false(f->opts.show_version);
    assert_true(LOAD(f, "-h"));
    assert_true(f->opts.show_help);
    assert_true(LOAD(f, "-V"));
    assert_true(f->opts.show_version);
    assert_false(f->opts.show_help);
    assert_true(LOAD(f, "--version", "a", "b", "c"));
    assert_true(f->opts.show_version);
}

/* Run fn with stdout sent to a file; return what it printed. */
static char *capture_stdout(void (*fn)(void))
{
    char path[] = "/tmp/test_options_stdout_XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDOUT_FILENO);
    char *out = NULL;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stdout);
    assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    fn();
    fflush(stdout);
    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
    close(fd);
    assert_true(g_file_get_contents(path, &out, NULL, NULL));
    g_unlink(path);
    return out;
}

static void print_help(void)
{
    dbb_options_print_help("dbbackupfs");
}

static void test_help_text(void **state)
{
    g_autofree char *help = capture_stdout(print_help);
    g_autofree char *version = capture_stdout(dbb_options_print_version);
    static const char *const must[] = {
        "usage: dbbackupfs",
        "config=PATH",
        "endpoint=URL",
        "projects=",
        "services=",
        "ttl=SECONDS",
        "negative_ttl=SECONDS",
        "max_stale=SECONDS",
        "max_conns=N",
        "timeout=SECONDS",
        "cafile=PATH",
        "metrics=PATH",
        "metrics_interval=SECONDS",
        "log=syslog|stderr|PATH",
        "uid=N",
        "-f",
        "-d",
        "-s",
        "allow_other",
        "HUAWEICLOUD_SDK_AK",
        "DBBACKUPFS_TOKEN",
        "token_file",
        NULL,
    };

    for (const char *const *m = must; *m; m++) {
        if (strstr(help, *m) == NULL)
            fail_msg("--help does not mention %s", *m);
    }
    assert_non_null(strstr(version, "dbbackupfs " DBB_VERSION "\n"));
    assert_non_null(strstr(version, fuse_pkgversion()));
}

static void test_positional(void **state)
{
    Fixture *f = *state;
    g_autofree char *mnt = real_mnt(f);
    g_autofree char *missing = g_build_filename(f->dir, "nope", NULL);

    assert_false(LOAD(f, "-f"));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, "no mount point");
    assert_false(LOAD(f, "a", "b", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, "too many arguments");
    assert_false(LOAD(f, missing));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, missing);

    /* as mount.fuse3 calls it from /etc/fstab: the device field comes first */
    assert_true(LOAD(f, "dbbackupfs", f->mnt, "-o", "rw,allow_other,_netdev,dev,suid"));
    assert_string_equal(f->opts.mountpoint, mnt);
    ASSERT_ARGS(f, "dbbackupfs", "-o", "allow_other,dev,suid", "-o",
                "ro,fsname=dbbackupfs,subtype=dbbackupfs");

    /* a relative mount point is made absolute: the daemon changes to / */
    {
        g_autofree char *cwd = g_get_current_dir();
        assert_int_equal(chdir(f->dir), 0);
        assert_true(LOAD(f, "mnt"));
        assert_int_equal(chdir(cwd), 0);
        assert_string_equal(f->opts.mountpoint, mnt);
    }

    /* mount.fuse3's drop_privileges hands over an open /dev/fuse */
    assert_true(LOAD(f, "/dev/fd/7"));
    assert_string_equal(f->opts.mountpoint, "/dev/fd/7");
}

static void test_fuse_passthrough(void **state)
{
    Fixture *f = *state;
    static const struct fuse_lowlevel_ops no_ops;
    struct fuse_session *se;

    assert_true(LOAD(f, "-o",
                     "allow_other,default_permissions,rw,ro,defaults,auto,noauto,user,users,"
                     "nouser,nofail,_netdev,x-systemd.automount,comment=x,auto_unmount",
                     "-o", "max_read=65536", "--", f->mnt));
    ASSERT_ARGS(f, "dbbackupfs", "-o",
                "allow_other,default_permissions,auto_unmount,max_read=65536", "-o",
                "ro,fsname=dbbackupfs,subtype=dbbackupfs");
    /* what is left is exactly what libfuse's low-level API accepts */
    se = fuse_session_new(&f->args, &no_ops, sizeof(no_ops), NULL);
    assert_non_null(se);
    fuse_session_destroy(se);

    /* the user's fsname/subtype are kept, ours not added twice */
    assert_true(LOAD(f, "-o", "fsname=backups", f->mnt));
    ASSERT_ARGS(f, "dbbackupfs", "-o", "fsname=backups", "-o", "ro,subtype=dbbackupfs");
    assert_true(LOAD(f, "-o", "subtype=x,fsname=y", f->mnt));
    ASSERT_ARGS(f, "dbbackupfs", "-o", "subtype=x,fsname=y", "-o", "ro");
}

static void test_bad_command_line(void **state)
{
    Fixture *f = *state;

    assert_false(LOAD(f, "-x", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, "'-x'");
    assert_false(LOAD(f, "--frobnicate", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, "'--frobnicate'");
    assert_false(LOAD(f, "-o", "ttl", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, "'ttl' needs a value");
    assert_false(LOAD(f, f->mnt, "-o"));
    expect_error(f, DBB_OPTIONS_ERROR_USAGE, NULL);
}

static void test_bad_values(void **state)
{
    Fixture *f = *state;
    static const char *const bad[] = {
        "ttl=-1",
        "ttl=abc",
        "ttl=",
        "ttl=1e10",
        "ttl=nan",
        "ttl=inf",
        "ttl= 5",
        "ttl=5s",
        "negative_ttl=-0.1",
        "max_stale=x",
        "max_stale=-1",
        "timeout=0",
        "timeout=3601",
        "timeout=-5",
        "max_conns=0",
        "max_conns=257",
        "max_conns=-1",
        "max_conns=1.5",
        "max_conns=+3",
        "max_conns=",
        "max_records=0",
        "max_records=1e6",
        "max_records=1000000001",
        "max_listing_bytes=1023K",
        "max_listing_bytes=2T",
        "max_listing_bytes=5X",
        "max_listing_bytes=M",
        "max_listing_bytes=-1G",
        "services=ddm:foo",
        "services=",
        "services=ddm::taurusdb",
        "services=iam",
        "projects=a::b",
        "projects=",
        "projects=:",
        "endpoint=ftp://x",
        "endpoint=http://",
        "endpoint=127.0.0.1:8080",
        "endpoint=https:///path",
        "uid=-1",
        "uid=abc",
        "uid=4294967295",
        "gid=",
        "config=",
        NULL,
    };

    for (const char *const *b = bad; *b; b++) {
        if (LOAD(f, "-o", *b, f->mnt))
            fail_msg("%s was accepted", *b);
        expect_error(f, DBB_OPTIONS_ERROR_VALUE, NULL);
        /* the message names the option and its value */
        if (strstr(f->error->message, *b) == NULL)
            fail_msg("message for %s does not name it: %s", *b, f->error->message);
    }
    assert_false(LOAD(f, "-o", "endpoint=http://a b", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_VALUE, "endpoint=http://a b");
}

/* metrics=, metrics_interval=, log= (ops): paths made absolute, bad values refused. */
static void test_metrics_and_log(void **state)
{
    Fixture *f = *state;
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *prom = g_build_filename(f->dir, "m.prom", NULL);
    g_autofree char *log = g_build_filename(f->dir, "d.log", NULL);

    assert_true(LOAD(f, f->mnt));
    assert_null(f->opts.metrics);
    assert_true(f->opts.metrics_interval == 15);
    assert_null(f->opts.log);

    assert_int_equal(chdir(f->dir), 0);
    assert_true(LOAD(f, "-o", "metrics=m.prom,metrics_interval=0.5,log=d.log", f->mnt));
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(f->opts.metrics, prom);
    assert_true(f->opts.metrics_interval == 0.5);
    assert_string_equal(f->opts.log, log);
    assert_true(LOAD(f, "-o", "log=syslog", f->mnt));
    assert_string_equal(f->opts.log, "syslog");
    assert_true(LOAD(f, "-o", "log=stderr", f->mnt));
    assert_string_equal(f->opts.log, "stderr");
    /* all ours: nothing of it reaches FUSE */
    ASSERT_ARGS(f, "dbbackupfs", "-o", "ro,fsname=dbbackupfs,subtype=dbbackupfs");

    assert_false(LOAD(f, "-o", "metrics=/nonexistent-dir/m.prom", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "/nonexistent-dir");
    assert_false(LOAD(f, "-o", "metrics=/tmp", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_VALUE, "metrics=/tmp");
    assert_false(LOAD(f, "-o", "metrics_interval=0", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_VALUE, "metrics_interval=0");
    assert_false(LOAD(f, "-o", "log=", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_VALUE, "log=");
}

static void test_cafile(void **state)
{
    Fixture *f = *state;
    g_autofree char *missing = g_build_filename(f->dir, "missing.pem", NULL);
    g_autofree char *o_missing = g_strconcat("cafile=", missing, NULL);
    g_autofree char *o_dir = g_strconcat("cafile=", f->dir, NULL);
    g_autofree char *ca = write_file(f, "ca.pem", "x", 0600);
    g_autofree char *cwd = g_get_current_dir();

    assert_false(LOAD(f, "-o", o_missing, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, missing);
    assert_false(LOAD(f, "-o", o_dir, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "not a regular file");

    /* relative on the command line: against the current directory, made absolute */
    assert_int_equal(chdir(f->dir), 0);
    assert_true(LOAD(f, "-o", "cafile=ca.pem", f->mnt));
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(f->opts.cafile, ca);
}

static void test_config_merge(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = config_opt(f,
                                    "# comment\n"
                                    "[dbbackupfs]\n"
                                    "ttl = 120\n"
                                    "timeout=5\n"
                                    "services=ddm\n"
                                    "max_conns=3\n"
                                    "endpoint=https://example.test/{service}/{region}\n"
                                    "cafile=ca.pem\n",
                                    0644);
    g_autofree char *ca = write_file(f, "conf/ca.pem", "x", 0644);

    assert_true(LOAD(f, "-o", o, "-o", "ttl=7,max_conns=4", f->mnt));
    assert_string_equal(f->opts.config_path, o + strlen("config="));
    assert_true(f->opts.ttl == 7); /* the command line wins */
    assert_int_equal(f->opts.max_conns, 4);
    assert_true(f->opts.timeout == 5); /* the file fills in */
    ASSERT_STRV(f->opts.services, "ddm");
    assert_string_equal(f->opts.endpoint, "https://example.test/{service}/{region}");
    assert_string_equal(f->opts.cafile, ca); /* relative to the config file */
    assert_true(f->opts.negative_ttl == 10); /* neither: the default */
    assert_string_equal(captured_log->str, "");
}

static void test_config_bad_value(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = config_opt(f, "[dbbackupfs]\nmax_conns=0\n", 0600);

    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_VALUE, "max_conns=0");
    assert_non_null(strstr(f->error->message, o + strlen("config=")));

    /* the command line overrides a bad file value without it being judged */
    assert_true(LOAD(f, "-o", o, "-o", "max_conns=2", f->mnt));
    assert_int_equal(f->opts.max_conns, 2);
}

static void test_default_config_path(void **state)
{
    Fixture *f = *state;
    g_autofree char *path = g_build_filename(f->xdg, "dbbackupfs", "config", NULL);
    g_autofree char *missing = g_build_filename(f->dir, "missing.conf", NULL);
    g_autofree char *o_missing = g_strconcat("config=", missing, NULL);

    /* absent default: fine, no config */
    assert_true(LOAD(f, f->mnt));
    assert_null(f->opts.config_path);

    g_free(write_file(f, "xdg/dbbackupfs/config", "[dbbackupfs]\nttl=42\n", 0600));
    assert_true(LOAD(f, f->mnt));
    assert_string_equal(f->opts.config_path, path);
    assert_true(f->opts.ttl == 42);

    /* a named config must exist */
    assert_false(LOAD(f, "-o", o_missing, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, missing);

    /* an unreadable default is an error, not silently skipped */
    assert_int_equal(g_unlink(path), 0);
    assert_int_equal(g_mkdir(path, 0700), 0);
    assert_false(LOAD(f, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "not a regular file");
}

static void test_config_syntax(void **state)
{
    Fixture *f = *state;
    g_autofree char *o1 = NULL;
    g_autofree char *o2 = NULL;
    g_autofree char *o3 = NULL;
    g_autofree char *o4 = NULL;

    o1 = config_opt(f, "[dbbackupfs]\nttl 5\n", 0600);
    assert_false(LOAD(f, "-o", o1, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "line 2");

    /* the broken line holds a secret: its number is reported, never its text */
    o2 = config_opt(f, "[auth]\nak=" PUBLIC_AK "\n\nsk " SECRET_SK "\n", 0600);
    assert_false(LOAD(f, "-o", o2, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "line 4");

    o3 = config_opt(f, "ttl=5\n[dbbackupfs]\n", 0600);
    assert_false(LOAD(f, "-o", o3, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "line 1");

    o4 = config_opt(f, "[dbbackupfs]\n# caf\xe9\n", 0600);
    assert_false(LOAD(f, "-o", o4, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, "UTF-8");
}

static void test_unknown_keys_warn(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = config_opt(f,
                                    "[dbbackupfs]\ntll=5\nuid=3\n"
                                    "[auth]\nskk=" SECRET_SK "\n"
                                    "[servics]\n"
                                    "[service foo]\nendpoint=http://x\n"
                                    "[service ddm]\nendpiont=http://x\n",
                                    0600);

    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_non_null(strstr(captured_log->str, "'tll'"));
    assert_non_null(strstr(captured_log->str, "'uid'"));
    assert_non_null(strstr(captured_log->str, "'skk'"));
    assert_non_null(strstr(captured_log->str, "[servics]"));
    assert_non_null(strstr(captured_log->str, "[service foo]"));
    assert_non_null(strstr(captured_log->str, "'endpiont'"));
    assert_false(f->opts.has_uid);
    assert_int_equal(g_hash_table_size(f->opts.service_endpoints), 0);
}

static void test_project_and_service_groups(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = config_opt(f,
                                    "[project ap-southeast-1]\nid=p1\n"
                                    "[project eu-west-101_dev]\nid=p2\n"
                                    "[project custom]\nid=p3\nregion=cn-north-4\n"
                                    "[service taurusdb]\nendpoint=http://127.0.0.1:1/{region}\n"
                                    "[service iam]\nendpoint=https://iam.example\n",
                                    0644);
    const DbbProject *p;

    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_non_null(f->opts.configured_projects);
    assert_int_equal(f->opts.configured_projects->len, 3);
    p = g_ptr_array_index(f->opts.configured_projects, 0);
    assert_string_equal(p->id, "p1");
    assert_string_equal(p->name, "ap-southeast-1");
    assert_string_equal(p->region, "ap-southeast-1");
    p = g_ptr_array_index(f->opts.configured_projects, 1);
    assert_string_equal(p->name, "eu-west-101_dev");
    assert_string_equal(p->region, "eu-west-101");
    p = g_ptr_array_index(f->opts.configured_projects, 2);
    assert_string_equal(p->id, "p3");
    assert_string_equal(p->region, "cn-north-4");
    assert_int_equal(g_hash_table_size(f->opts.service_endpoints), 2);
    assert_string_equal(g_hash_table_lookup(f->opts.service_endpoints, "taurusdb"),
                        "http://127.0.0.1:1/{region}");
    assert_string_equal(g_hash_table_lookup(f->opts.service_endpoints, "iam"),
                        "https://iam.example");

    /* projects= may only name configured projects: IAM is not asked */
    assert_true(LOAD(f, "-o", o, "-o", "projects=custom", f->mnt));
    ASSERT_STRV(f->opts.projects, "custom");
    assert_int_equal(f->opts.configured_projects->len, 3);
    assert_false(LOAD(f, "-o", o, "-o", "projects=custom:other", f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_VALUE, "'other'");
}

static void test_bad_groups(void **state)
{
    Fixture *f = *state;
    static const struct {
        const char *content;
        const char *needle;
    } cases[] = {
        {"[project ap-southeast-1]\nregion=x\n", "needs id="},
        {"[project ap-southeast-1]\nid=\n", "needs id="},
        {"[project _odd]\nid=p\n", "needs region="},
        {"[project a]\nid=p\n[project b]\nid=p\n", "repeats the id"},
        {"[project ]\nid=p\n", "needs a name"},
        {"[service ddm]\nendpoint=ftp://x\n", "endpoint=ftp://x"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *o = config_opt(f, cases[i].content, 0600);
        if (LOAD(f, "-o", o, f->mnt))
            fail_msg("accepted: %s", cases[i].content);
        expect_error(f, DBB_OPTIONS_ERROR_VALUE, cases[i].needle);
    }
}

static void test_permissions(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = NULL;
    g_autofree char *quoted = NULL;

    o = config_opt(f, "[auth]\nak=" PUBLIC_AK "\nsk=" SECRET_SK "\n", 0644);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_PERMISSIONS, "Permissions 0644");
    assert_non_null(strstr(f->error->message, o + strlen("config=")));
    quoted = g_shell_quote(o + strlen("config="));
    assert_non_null(strstr(f->error->message, "chmod 600"));
    assert_non_null(strstr(f->error->message, quoted));

    /* any group or other bit counts, even when the environment would supply credentials */
    g_setenv("DBBACKUPFS_TOKEN", SECRET_TOKEN, TRUE);
    g_free(o);
    o = config_opt(f, "[auth]\ntoken=" SECRET_TOKEN "\n", 0604);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_PERMISSIONS, "0604");
    g_free(o);
    o = config_opt(f, "[auth]\nsecurity_token=" SECRET_STS "\n", 0640);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_PERMISSIONS, "0640");

    /* 0600 with secrets: fine */
    g_free(o);
    o = config_opt(f, "[auth]\nak=" PUBLIC_AK "\nsk=" SECRET_SK "\n", 0600);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(f->opts.credentials.kind, DBB_AUTH_AKSK);

    /* 0644 without secrets (ak alone is public, token_file only a path): fine */
    g_free(o);
    o = config_opt(f, "[dbbackupfs]\nttl=1\n[auth]\ndomain_id=d\n", 0644);
    assert_true(LOAD(f, "-o", o, f->mnt));
}

static void test_file_credentials(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = NULL;
    DbbCredentials *c = &f->opts.credentials;

    o = config_opt(f,
                   "[auth]\nak=" PUBLIC_AK "\nsk=" SECRET_SK "\nsecurity_token=" SECRET_STS
                   "\ndomain_id=dom1\ntoken=" SECRET_TOKEN "\n",
                   0600);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_AKSK); /* ak/sk before token */
    assert_string_equal(c->ak, PUBLIC_AK);
    assert_string_equal(c->sk, SECRET_SK);
    assert_string_equal(c->security_token, SECRET_STS);
    assert_string_equal(c->domain_id, "dom1");
    assert_null(c->token);
    assert_string_equal(f->opts.credentials_source, "config file [auth]");

    g_free(o);
    o = config_opt(f, "[auth]\ntoken=" SECRET_TOKEN "\ntoken_file=/nonexistent\n", 0600);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_TOKEN); /* token before token_file */
    assert_string_equal(c->token, SECRET_TOKEN);
    assert_null(c->ak);

    g_free(o);
    o = config_opt(f, "[auth]\nak=" PUBLIC_AK "\n", 0600);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_CREDENTIALS, "no sk=");
    g_free(o);
    o = config_opt(f, "[auth]\nsk=" SECRET_SK "\ntoken=" SECRET_TOKEN "\n", 0600);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_CREDENTIALS, "no ak=");

    /* an empty value is no value */
    g_free(o);
    o = config_opt(f, "[auth]\nak=\nsk=\ntoken=  \n", 0600);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_NONE);
}

static void test_token_file(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = NULL;
    g_autofree char *tf = NULL;

    /* relative to the config file's directory; first line, trimmed */
    tf = write_file(f, "conf/token", "  " SECRET_TOKEN "  \r\nsecond line\n", 0600);
    o = config_opt(f, "[auth]\ntoken_file=token\n", 0644);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(f->opts.credentials.kind, DBB_AUTH_TOKEN);
    assert_string_equal(f->opts.credentials.token, SECRET_TOKEN);
    assert_string_equal(f->opts.credentials_source, "config file [auth]");

    /* a token file is always secret */
    assert_int_equal(chmod(tf, 0644), 0);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_PERMISSIONS, "Permissions 0644");
    assert_non_null(strstr(f->error->message, tf));

    assert_true(g_file_set_contents(tf, "\n" SECRET_TOKEN "\n", -1, NULL));
    assert_int_equal(chmod(tf, 0600), 0);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_CREDENTIALS, "no token");

    assert_int_equal(g_unlink(tf), 0);
    assert_false(LOAD(f, "-o", o, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_FILE, tf);
}

/* IAM password authentication (DESIGN.md Credentials item 3): DBBACKUPFS_PASSWORD, else
 * [auth] password_file=, with the user and account from the environment or [auth]; after
 * AK/SK and DBBACKUPFS_TOKEN, before [auth]'s ak/sk and tokens. */
static void test_password_sources(void **state)
{
    Fixture *f = *state;
    DbbCredentials *c = &f->opts.credentials;
    g_autofree char *o =
        config_opt(f, "[auth]\nuser=alice\ndomain=acme\ntoken=" SECRET_TOKEN "\n", 0600);
    g_autofree char *pf = NULL;
    g_autofree char *o2 = NULL;

    g_setenv("DBBACKUPFS_PASSWORD", SECRET_SK, TRUE);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_PASSWORD);
    assert_string_equal(c->user, "alice");
    assert_string_equal(c->domain, "acme");
    assert_string_equal(c->password, SECRET_SK);
    assert_null(c->token);
    assert_null(g_getenv("DBBACKUPFS_PASSWORD")); /* taken out of the environment */
    assert_string_equal(f->opts.credentials_source, "IAM password (DBBACKUPFS_PASSWORD)");

    /* The environment's names override [auth]'s; a token in the environment comes first. */
    g_setenv("DBBACKUPFS_PASSWORD", SECRET_SK, TRUE);
    g_setenv("DBBACKUPFS_USER", "bob", TRUE);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_string_equal(c->user, "bob");
    g_setenv("DBBACKUPFS_PASSWORD", SECRET_SK, TRUE);
    g_setenv("DBBACKUPFS_TOKEN", SECRET_TOKEN, TRUE);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_TOKEN);
    g_unsetenv("DBBACKUPFS_USER");

    /* password_file=: a secret file (first line), before [auth] token= */
    pf = write_file(f, "conf/password", SECRET_SK "\n", 0600);
    o2 = config_opt(f, "[auth]\npassword_file=password\nuser=alice\ndomain=acme\ntoken=x\n", 0600);
    assert_true(LOAD(f, "-o", o2, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_PASSWORD);
    assert_string_equal(c->password, SECRET_SK);
    assert_string_equal(f->opts.credentials_source, "IAM password ([auth] password_file)");
    assert_int_equal(chmod(pf, 0644), 0);
    assert_false(LOAD(f, "-o", o2, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_PERMISSIONS, "Permissions 0644");

    /* Without a user the password cannot be used: a clear error naming what is missing,
     * never the password. */
    g_setenv("DBBACKUPFS_PASSWORD", SECRET_SK, TRUE);
    assert_false(LOAD(f, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_CREDENTIALS, "DBBACKUPFS_USER");
    assert_null(strstr(f->error->message, SECRET_SK));
}

static void test_env_precedence(void **state)
{
    Fixture *f = *state;
    g_autofree char *o = config_opt(f, "[auth]\ntoken=" SECRET_TOKEN "-file\n", 0600);
    DbbCredentials *c = &f->opts.credentials;

    g_setenv("HUAWEICLOUD_SDK_AK", PUBLIC_AK, TRUE);
    g_setenv("HUAWEICLOUD_SDK_SK", SECRET_SK, TRUE);
    g_setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECRET_STS, TRUE);
    g_setenv("HUAWEICLOUD_SDK_DOMAIN_ID", "dom9", TRUE);
    g_setenv("DBBACKUPFS_TOKEN", SECRET_TOKEN, TRUE);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_AKSK);
    assert_string_equal(c->ak, PUBLIC_AK);
    assert_string_equal(c->sk, SECRET_SK);
    assert_string_equal(c->security_token, SECRET_STS);
    assert_string_equal(c->domain_id, "dom9");
    assert_null(c->token);
    assert_string_equal(f->opts.credentials_source, "environment (AK/SK)");

    /* then DBBACKUPFS_TOKEN, over the file's ak/sk */
    g_free(o);
    o = config_opt(f, "[auth]\nak=file-ak\nsk=" SECRET_SK "\n", 0600);
    g_setenv("DBBACKUPFS_TOKEN", SECRET_TOKEN, TRUE);
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_TOKEN);
    assert_string_equal(c->token, SECRET_TOKEN);
    assert_null(c->ak);
    assert_string_equal(f->opts.credentials_source, "DBBACKUPFS_TOKEN");

    /* then the file */
    assert_true(LOAD(f, "-o", o, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_AKSK);
    assert_string_equal(c->ak, "file-ak");

    /* an empty variable counts as unset */
    g_setenv("DBBACKUPFS_TOKEN", "", TRUE);
    assert_true(LOAD(f, f->mnt));
    assert_int_equal(c->kind, DBB_AUTH_NONE);
}

static void test_env_half_pair(void **state)
{
    Fixture *f = *state;

    g_setenv("HUAWEICLOUD_SDK_AK", PUBLIC_AK, TRUE);
    g_setenv("DBBACKUPFS_TOKEN", SECRET_TOKEN, TRUE);
    assert_false(LOAD(f, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_CREDENTIALS, "HUAWEICLOUD_SDK_SK is not");
    assert_null(g_getenv("DBBACKUPFS_TOKEN")); /* cleared even so */

    g_setenv("HUAWEICLOUD_SDK_SK", SECRET_SK, TRUE);
    assert_false(LOAD(f, f->mnt));
    expect_error(f, DBB_OPTIONS_ERROR_CREDENTIALS, "HUAWEICLOUD_SDK_AK is not");
}

static void test_env_scrubbed(void **state)
{
    Fixture *f = *state;
    const char *texts[G_N_ELEMENTS(cred_vars)] = {0};

    for (gsize i = 0; cred_vars[i]; i++) {
        g_setenv(cred_vars[i], i == 1 ? SECRET_SK : "value", TRUE);
        texts[i] = g_getenv(cred_vars[i]);
    }
    assert_true(LOAD(f, f->mnt));
    assert_int_equal(f->opts.credentials.kind, DBB_AUTH_AKSK);
    assert_string_equal(f->opts.credentials.sk, SECRET_SK);
    for (gsize i = 0; cred_vars[i]; i++) {
        assert_null(g_getenv(cred_vars[i]));
        /* the text itself is wiped, not just unlinked from environ (glibc keeps setenv's
         * strings allocated, so reading them here is defined) */
        assert_int_equal(texts[i][0], '\0');
    }
}

/* The child side of test_env_scrubbed_proc: runs with a secret in its initial environment,
 * the block that /proc/PID/environ shows (and a forked daemon inherits). */
static int scrub_child(const char *mnt)
{
    char *argv[] = {"dbbackupfs", (char *)mnt, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(2, argv);
    DbbOptions opts = {0};
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    gsize before_len = 0, after_len = 0;
    int rc = 0;

    if (!g_file_get_contents("/proc/self/environ", &before, &before_len, NULL) ||
        memmem(before, before_len, SECRET_SK, strlen(SECRET_SK)) == NULL)
        return 10; /* the premise: the secret is visible before */
    if (!dbb_options_load(&opts, &args, NULL))
        rc = 11;
    else if (g_strcmp0(opts.credentials.sk, SECRET_SK) != 0)
        rc = 12;
    else if (!g_file_get_contents("/proc/self/environ", &after, &after_len, NULL))
        rc = 13;
    else if (memmem(after, after_len, SECRET_SK, strlen(SECRET_SK)) != NULL)
        rc = 14;
    dbb_options_clear(&opts);
    fuse_opt_free_args(&args);
    return rc;
}

static void test_env_scrubbed_proc(void **state)
{
    Fixture *f = *state;
    g_auto(GStrv) env = g_get_environ();
    const char *argv[] = {"/proc/self/exe", "--scrub-child", f->mnt, NULL};
    GError *error = NULL;
    int status = -1;

    env = g_environ_setenv(env, "HUAWEICLOUD_SDK_AK", PUBLIC_AK, TRUE);
    env = g_environ_setenv(env, "HUAWEICLOUD_SDK_SK", SECRET_SK, TRUE);
    assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                             &status, &error));
    assert_null(error);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_require_credentials(void **state)
{
    Fixture *f = *state;
    GError *error = NULL;

    assert_true(LOAD(f, f->mnt));
    assert_false(dbb_options_require_credentials(&f->opts, &error));
    assert_true(g_error_matches(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS));
    assert_non_null(strstr(error->message, "HUAWEICLOUD_SDK_AK"));
    assert_non_null(strstr(error->message, "DBBACKUPFS_TOKEN"));
    assert_non_null(strstr(error->message, "[auth]"));
    g_clear_error(&error);

    g_setenv("DBBACKUPFS_TOKEN", SECRET_TOKEN, TRUE);
    assert_true(LOAD(f, f->mnt));
    assert_true(dbb_options_require_credentials(&f->opts, &error));
    assert_null(error);
}

static void test_clear_is_idempotent(void **state)
{
    Fixture *f = *state;

    assert_true(LOAD(f, "-o", "projects=a", f->mnt));
    dbb_options_clear(&f->opts);
    dbb_options_clear(&f->opts);
    assert_null(f->opts.mountpoint);
    assert_null(f->opts.projects);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_and_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_value_wins_and_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuse_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cafile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_bad_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_config_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_warn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_and_service_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_half_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_scrubbed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_scrubbed_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_is_idempotent, setup, teardown),
    };
    int failed;

    if (argc == 3 && strcmp(argv[1], "--scrub-child") == 0)
        return scrub_child(argv[2]);
    captured_log = g_string_new(NULL);
    g_log_set_writer_func(capture_writer, NULL, NULL);
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    g_string_free(captured_log, TRUE);
    return failed;
}
