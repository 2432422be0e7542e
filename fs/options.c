/*
 * dbbackupfs — command line, configuration file and credentials (options.h).
 *
 * One fuse_opt_parse() pass sorts argv into our own options (kept as text and validated
 * later together with the config file's [dbbackupfs] group, so both get the same checks and
 * messages), FUSE's flags, the mount point, and the -o options that fuse_session_new()
 * should see.  Files that may hold secrets are read through one fd: the permission check
 * and the content come from the same open file, and buffers that held secrets are wiped.
 */
#include "fs/options.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/model.h"
#include "api/service.h"
#include "dbb-config.h"

extern char **environ;

GQuark dbb_options_error_quark(void)
{
    return g_quark_from_static_string("dbb-options-error-quark");
}

#define ENV_AK             "HUAWEICLOUD_SDK_AK"
#define ENV_SK             "HUAWEICLOUD_SDK_SK"
#define ENV_SECURITY_TOKEN "HUAWEICLOUD_SDK_SECURITY_TOKEN"
#define ENV_DOMAIN_ID      "HUAWEICLOUD_SDK_DOMAIN_ID"
#define ENV_TOKEN          "DBBACKUPFS_TOKEN"

#define GROUP_MAIN     "dbbackupfs"
#define GROUP_AUTH     "auth"
#define GROUP_PROJECT  "project "
#define GROUP_SERVICE  "service "
#define FILE_MAX_BYTES (1024 * 1024) /* a config or token file is a few KiB at most */
#define SECONDS_MAX    1e9           /* keeps µs arithmetic in gint64 far from overflow */

/* The names of every service api/ knows, joined by sep: the default of services= and the
 * list in messages, so a new service needs no change here. */
static char *known_services(const char *sep)
{
    const DbbService *const *all = dbb_services();
    GString *out = g_string_new(NULL);

    for (gsize i = 0; all[i]; i++)
        g_string_append_printf(out, "%s%s", i ? sep : "", all[i]->name);
    return g_string_free(out, FALSE);
}

#define SOURCE_ENV_AKSK  "environment (AK/SK)"
#define SOURCE_ENV_TOKEN "DBBACKUPFS_TOKEN"
#define SOURCE_FILE      "config file [auth]"

/* ------------------------------------------------------------------------------------ */
/* Our own options: one table, shared by the command line and [dbbackupfs]              */

typedef struct {
    const char *where;    /* for messages: "on the command line", "in [dbbackupfs] of F" */
    const char *base_dir; /* relative paths resolve against this; NULL: the cwd */
} ValueSource;

typedef struct OwnOption OwnOption;
/* FALSE with *error set to the reason alone; the caller names the option and value. */
typedef gboolean (*ApplyFunc)(DbbOptions *o, const OwnOption *opt, const char *value,
                              const ValueSource *src, GError **error);

struct OwnOption {
    const char *name;
    ApplyFunc apply;
    gsize offset;          /* of the double (seconds) or guint32 (ids) field */
    double min;            /* seconds: lower bound */
    gboolean min_excluded; /* seconds: the bound itself is not allowed */
    double max;            /* seconds: upper bound */
    gboolean cmdline_only; /* not accepted in [dbbackupfs] */
};

static gboolean apply_endpoint(DbbOptions *o, const OwnOption *opt, const char *value,
                               const ValueSource *src, GError **error);
static gboolean apply_projects(DbbOptions *o, const OwnOption *opt, const char *value,
                               const ValueSource *src, GError **error);
static gboolean apply_services(DbbOptions *o, const OwnOption *opt, const char *value,
                               const ValueSource *src, GError **error);
static gboolean apply_seconds(DbbOptions *o, const OwnOption *opt, const char *value,
                              const ValueSource *src, GError **error);
static gboolean apply_max_conns(DbbOptions *o, const OwnOption *opt, const char *value,
                                const ValueSource *src, GError **error);
static gboolean apply_cafile(DbbOptions *o, const OwnOption *opt, const char *value,
                             const ValueSource *src, GError **error);
static gboolean apply_id(DbbOptions *o, const OwnOption *opt, const char *value,
                         const ValueSource *src, GError **error);

#define SECONDS_FIELD(f) .apply = apply_seconds, .offset = G_STRUCT_OFFSET(DbbOptions, f)

/* "config" is resolved before the file is read, so it has no apply function. */
static const OwnOption own_options[] = {
    {.name = "config", .cmdline_only = TRUE},
    {.name = "endpoint", .apply = apply_endpoint},
    {.name = "projects", .apply = apply_projects},
    {.name = "services", .apply = apply_services},
    {.name = "ttl", SECONDS_FIELD(ttl), .max = SECONDS_MAX},
    {.name = "negative_ttl", SECONDS_FIELD(negative_ttl), .max = SECONDS_MAX},
    {.name = "max_stale", SECONDS_FIELD(max_stale), .max = SECONDS_MAX},
    {.name = "timeout", SECONDS_FIELD(timeout), .min_excluded = TRUE, .max = 3600},
    {.name = "max_conns", .apply = apply_max_conns},
    {.name = "cafile", .apply = apply_cafile},
    /* FUSE's high-level uid=/gid= are unknown to fuse_session_new(); we report them. */
    {.name = "uid",
     .apply = apply_id,
     .offset = G_STRUCT_OFFSET(DbbOptions, uid),
     .cmdline_only = TRUE},
    {.name = "gid",
     .apply = apply_id,
     .offset = G_STRUCT_OFFSET(DbbOptions, gid),
     .cmdline_only = TRUE},
};

static const OwnOption *own_option_find(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(own_options); i++) {
        if (strcmp(own_options[i].name, name) == 0)
            return &own_options[i];
    }
    return NULL;
}

static char *resolve_path(const char *value, const char *base_dir)
{
    if (value[0] == '~' && value[1] == '/')
        return g_build_filename(g_get_home_dir(), value + 2, NULL);
    return g_canonicalize_filename(value, base_dir);
}

static gboolean is_http_url(const char *v, GError **error)
{
    gsize scheme = 0;

    if (g_ascii_strncasecmp(v, "http://", 7) == 0)
        scheme = 7;
    else if (g_ascii_strncasecmp(v, "https://", 8) == 0)
        scheme = 8;
    if (scheme == 0 || v[scheme] == '\0' || v[scheme] == '/') {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be a URL starting with http:// or https:// and a host");
        return FALSE;
    }
    for (const char *p = v; *p; p++) {
        if ((guchar)*p <= 0x20 || *p == 0x7f) {
            g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                        "a URL must not contain spaces or control characters");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean apply_endpoint(DbbOptions *o, const OwnOption *opt, const char *value,
                               const ValueSource *src, GError **error)
{
    if (!is_http_url(value, error))
        return FALSE;
    g_free(o->endpoint);
    o->endpoint = g_strdup(value);
    return TRUE;
}

/* ':'-separated, non-empty, duplicates dropped (order kept). */
static char **split_list(const char *value, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(value, ":", -1);
    GPtrArray *out;

    if (*value == '\0') {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE, "an empty list");
        return NULL;
    }
    out = g_ptr_array_new_with_free_func(g_free);

    for (char **p = parts; *p; p++) {
        gboolean seen = FALSE;
        if (**p == '\0') {
            g_ptr_array_unref(out);
            g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                        "empty name in a ':'-separated list");
            return NULL;
        }
        for (guint i = 0; i < out->len && !seen; i++)
            seen = strcmp(g_ptr_array_index(out, i), *p) == 0;
        if (!seen)
            g_ptr_array_add(out, g_strdup(*p));
    }
    g_ptr_array_add(out, NULL);
    g_ptr_array_set_free_func(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static gboolean apply_projects(DbbOptions *o, const OwnOption *opt, const char *value,
                               const ValueSource *src, GError **error)
{
    char **list = split_list(value, error);

    if (list == NULL)
        return FALSE;
    g_strfreev(o->projects);
    o->projects = list;
    return TRUE;
}

static gboolean apply_services(DbbOptions *o, const OwnOption *opt, const char *value,
                               const ValueSource *src, GError **error)
{
    g_auto(GStrv) wanted = split_list(value, error);
    GPtrArray *chosen;

    if (wanted == NULL)
        return FALSE;
    for (char **w = wanted; *w; w++) {
        if (dbb_service_find(*w) == NULL) {
            g_autofree char *known = known_services(", ");
            g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                        "unknown service '%s' (known: %s)", *w, known);
            return FALSE;
        }
    }
    /* In the services' own order, so the result does not depend on how they were listed. */
    chosen = g_ptr_array_new();
    for (const DbbService *const *s = dbb_services(); *s; s++) {
        if (g_strv_contains((const char *const *)wanted, (*s)->name))
            g_ptr_array_add(chosen, g_strdup((*s)->name));
    }
    g_ptr_array_add(chosen, NULL);
    g_strfreev(o->services);
    o->services = (char **)g_ptr_array_free(chosen, FALSE);
    return TRUE;
}

static gboolean parse_double(const char *s, double *out)
{
    char *end = NULL;
    double v;

    if (*s == '\0' || g_ascii_isspace(*s))
        return FALSE;
    errno = 0;
    v = g_ascii_strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return FALSE;
    *out = v;
    return TRUE;
}

static gboolean apply_seconds(DbbOptions *o, const OwnOption *opt, const char *value,
                              const ValueSource *src, GError **error)
{
    double v;
    gboolean low_ok;

    if (!parse_double(value, &v)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE, "not a number of seconds");
        return FALSE;
    }
    low_ok = opt->min_excluded ? v > opt->min : v >= opt->min;
    if (!low_ok || v > opt->max) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be %s %.10g and at most %.10g seconds",
                    opt->min_excluded ? "greater than" : "at least", opt->min, opt->max);
        return FALSE;
    }
    G_STRUCT_MEMBER(double, o, opt->offset) = v;
    return TRUE;
}

/* Decimal digits only: strtoul alone would take "-1", " 7" and "+7". */
static gboolean parse_unsigned(const char *s, guint64 max, guint64 *out)
{
    guint64 v;

    if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
        return FALSE;
    errno = 0;
    v = g_ascii_strtoull(s, NULL, 10);
    if (errno != 0 || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

static gboolean apply_max_conns(DbbOptions *o, const OwnOption *opt, const char *value,
                                const ValueSource *src, GError **error)
{
    guint64 v;

    if (!parse_unsigned(value, 256, &v) || v < 1) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be a whole number from 1 to 256");
        return FALSE;
    }
    o->max_conns = (unsigned)v;
    return TRUE;
}

static gboolean apply_id(DbbOptions *o, const OwnOption *opt, const char *value,
                         const ValueSource *src, GError **error)
{
    guint64 v;

    /* (uid_t)-1 means "no change" to chown(2) and cannot own a file. */
    if (!parse_unsigned(value, G_MAXUINT32 - 1, &v)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be a numeric id from 0 to %u", G_MAXUINT32 - 1);
        return FALSE;
    }
    G_STRUCT_MEMBER(guint32, o, opt->offset) = (guint32)v;
    if (opt->offset == G_STRUCT_OFFSET(DbbOptions, uid))
        o->has_uid = TRUE;
    else
        o->has_gid = TRUE;
    return TRUE;
}

static gboolean apply_cafile(DbbOptions *o, const OwnOption *opt, const char *value,
                             const ValueSource *src, GError **error)
{
    g_autofree char *path = resolve_path(value, src->base_dir);
    const char *why = NULL;
    struct stat st;
    int fd;

    /* Checked now: after detaching, a missing bundle would only show as TLS failures. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1 || fstat(fd, &st) == -1)
        why = g_strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (fd != -1)
        close(fd);
    if (why != NULL) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE, "cannot read '%s': %s", path,
                    why);
        return FALSE;
    }
    g_free(o->cafile);
    o->cafile = g_steal_pointer(&path);
    return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* The command line                                                                      */

typedef struct {
    GHashTable *values; /* own option name -> value; the last one given wins */
    GPtrArray *nonopts;
    gboolean fsname_given;
    gboolean subtype_given;
    int foreground, debug, singlethread, show_help, show_version;
    GError *error; /* the first problem found */
} CmdLine;

enum {
    KEY_OWN,
    KEY_HELP,
    KEY_VERSION,
    KEY_FOREGROUND,
    KEY_DEBUG,
    KEY_SINGLETHREAD,
    KEY_FSNAME,
    KEY_SUBTYPE,
};

#define OWN(name)  FUSE_OPT_KEY(name "=", KEY_OWN)
#define DROP(name) FUSE_OPT_KEY(name, FUSE_OPT_KEY_DISCARD)

static const struct fuse_opt dbb_fuse_opts[] = {
    OWN("config"),
    OWN("endpoint"),
    OWN("projects"),
    OWN("services"),
    OWN("ttl"),
    OWN("negative_ttl"),
    OWN("max_stale"),
    OWN("max_conns"),
    OWN("timeout"),
    OWN("cafile"),
    OWN("uid"),
    OWN("gid"),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("-d", KEY_DEBUG),
    FUSE_OPT_KEY("--debug", KEY_DEBUG),
    FUSE_OPT_KEY("debug", KEY_DEBUG),
    FUSE_OPT_KEY("-s", KEY_SINGLETHREAD),
    FUSE_OPT_KEY("fsname=", KEY_FSNAME),
    FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
    /* "ro" is added last anyway, and "rw" (mount(8) may pass it) must never make the mount
     * writable: libfuse applies the last of the two. */
    DROP("ro"),
    DROP("rw"),
    /* fstab options that mount(8)/mount.fuse3 may leave in and libfuse would reject. */
    DROP("defaults"),
    DROP("auto"),
    DROP("noauto"),
    DROP("user"),
    DROP("users"),
    DROP("nouser"),
    DROP("nofail"),
    DROP("_netdev"),
    DROP("comment="),
    FUSE_OPT_END,
};

static int usage_error(CmdLine *cl, char *message)
{
    if (cl->error == NULL)
        g_set_error_literal(&cl->error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_USAGE, message);
    g_free(message);
    return -1;
}

/* An -o option or dash argument that no template matched. */
static int other_option(CmdLine *cl, const char *arg)
{
    if (arg[0] == '-')
        return usage_error(cl, g_strdup_printf("unknown option '%s' (see --help)", arg));
    if (g_str_has_prefix(arg, "x-"))
        return 0; /* fstab comments for systemd and friends */
    if (own_option_find(arg) != NULL)
        return usage_error(cl, g_strdup_printf("option '%s' needs a value: -o %s=...", arg, arg));
    return 1; /* a FUSE option: fuse_session_new() judges it */
}

static int cmdline_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    CmdLine *cl = data;
    const char *eq;

    switch (key) {
    case KEY_OWN:
        eq = strchr(arg, '=');
        g_hash_table_replace(cl->values, g_strndup(arg, eq - arg), g_strdup(eq + 1));
        return 0;
    case KEY_HELP:
        cl->show_help = 1;
        return 0;
    case KEY_VERSION:
        cl->show_version = 1;
        return 0;
    case KEY_FOREGROUND:
        cl->foreground = 1;
        return 0;
    case KEY_DEBUG:
        cl->debug = cl->foreground = 1; /* as libfuse: debug output goes to the terminal */
        return 0;
    case KEY_SINGLETHREAD:
        cl->singlethread = 1;
        return 0;
    case KEY_FSNAME:
        cl->fsname_given = TRUE;
        return 1;
    case KEY_SUBTYPE:
        cl->subtype_given = TRUE;
        return 1;
    case FUSE_OPT_KEY_NONOPT:
        g_ptr_array_add(cl->nonopts, g_strdup(arg));
        return 0;
    default:
        return other_option(cl, arg);
    }
}

static void cmdline_clear(CmdLine *cl)
{
    g_clear_pointer(&cl->values, g_hash_table_unref);
    g_clear_pointer(&cl->nonopts, g_ptr_array_unref);
    g_clear_error(&cl->error);
}

/* fuse_opt_parse() keeps a "--" for the non-options it saw after it; we took those (the mount
 * point), and fuse_session_new() would reject anything after a "--". */
static void drop_separator(struct fuse_args *args)
{
    int out = 0;

    if (!args->allocated) /* the caller's own vector: nothing was parsed into it */
        return;
    for (int i = 0; i < args->argc; i++) {
        if (i > 0 && strcmp(args->argv[i], "--") == 0)
            free(args->argv[i]);
        else
            args->argv[out++] = args->argv[i];
    }
    args->argc = out;
    args->argv[out] = NULL;
}

static gboolean cmdline_parse(CmdLine *cl, struct fuse_args *args, GError **error)
{
    g_autofree char *mount_opts = NULL;

    cl->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    cl->nonopts = g_ptr_array_new_with_free_func(g_free);
    if (fuse_opt_parse(args, cl, dbb_fuse_opts, cmdline_proc) == -1) {
        if (cl->error != NULL)
            g_propagate_error(error, g_steal_pointer(&cl->error));
        else /* libfuse has printed why, e.g. "-o" without an argument */
            g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_USAGE,
                        "invalid command line (see --help)");
        return FALSE;
    }
    drop_separator(args);
    /* Two arguments each, the form fuse_opt_parse() itself leaves behind. */
    mount_opts =
        g_strconcat(cl->debug ? "debug," : "", "ro", cl->fsname_given ? "" : ",fsname=dbbackupfs",
                    cl->subtype_given ? "" : ",subtype=dbbackupfs", NULL);
    if (fuse_opt_add_arg(args, "-o") == -1 || fuse_opt_add_arg(args, mount_opts) == -1)
        g_error("out of memory");
    return TRUE;
}

static gboolean is_dev_fd(const char *s)
{
    const char *n;

    if (!g_str_has_prefix(s, "/dev/fd/"))
        return FALSE;
    n = s + strlen("/dev/fd/");
    return *n != '\0' && strspn(n, "0123456789") == strlen(n);
}

/* mount.fuse3 runs "dbbackupfs SOURCE MOUNTPOINT -o ...": with two arguments the first is
 * fstab's device field and means nothing to us. */
static gboolean choose_mountpoint(DbbOptions *o, GPtrArray *nonopts, GError **error)
{
    const char *arg;
    char *real;

    if (nonopts->len == 0 || nonopts->len > 2) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_USAGE,
                    "%s (usage: dbbackupfs [options] MOUNTPOINT; see --help)",
                    nonopts->len == 0 ? "no mount point given" : "too many arguments");
        return FALSE;
    }
    arg = g_ptr_array_index(nonopts, nonopts->len - 1);
    if (is_dev_fd(arg)) { /* a pre-opened /dev/fuse; libfuse understands it */
        o->mountpoint = g_strdup(arg);
        return TRUE;
    }
    /* Absolute, because the daemon changes to "/" when it detaches. */
    real = realpath(arg, NULL);
    if (real == NULL) {
        int saved = errno;
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_USAGE, "bad mount point '%s': %s",
                    arg, g_strerror(saved));
        return FALSE;
    }
    o->mountpoint = g_strdup(real);
    free(real);
    return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Files that may hold secrets                                                           */

static void wipe_free(char *buf, gsize len)
{
    if (buf != NULL) {
        explicit_bzero(buf, len);
        g_free(buf);
    }
}

/* Whole content (NUL-terminated) and the mode of the very file read.  *err is the errno
 * of a failed open, so a missing default config can be told from a broken one. */
static gboolean read_file_fd(const char *what, const char *path, char **data, gsize *len,
                             struct stat *st, int *err, GError **error)
{
    char *buf = NULL;
    gsize got = 0;
    int saved = 0;
    const char *why = NULL;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1 || fstat(fd, st) == -1) {
        saved = errno;
        goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        why = "not a regular file";
        goto fail;
    }
    if (st->st_size > FILE_MAX_BYTES) {
        why = "larger than 1 MiB";
        goto fail;
    }
    buf = g_malloc((gsize)st->st_size + 1);
    while (got < (gsize)st->st_size) {
        ssize_t n = read(fd, buf + got, (gsize)st->st_size - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0) {
            saved = n == 0 ? EIO : errno; /* shrank while read */
            goto fail;
        }
        got += (gsize)n;
    }
    buf[got] = '\0';
    close(fd);
    *data = buf;
    *len = got;
    return TRUE;

fail:
    if (saved == 0 && why == NULL)
        saved = EIO;
    if (fd != -1)
        close(fd);
    wipe_free(buf, got);
    *err = saved;
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE, "cannot read %s '%s': %s", what,
                path, why ? why : g_strerror(saved));
    return FALSE;
}

static gboolean check_private(const char *path, const struct stat *st, GError **error)
{
    g_autofree char *quoted = NULL;

    if ((st->st_mode & 077) == 0)
        return TRUE;
    quoted = g_shell_quote(path);
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_PERMISSIONS,
                "Permissions %04o for '%s' are too open; it holds credentials and must not "
                "be readable by others: chmod 600 %s",
                (unsigned)(st->st_mode & 07777), path, quoted);
    return FALSE;
}

static gsize line_of(const char *data, const char *at)
{
    gsize line = 1;

    for (const char *p = data; p < at; p++)
        line += *p == '\n';
    return line;
}

static const char *next_line(const char *line)
{
    const char *nl = strchr(line, '\n');

    return nl ? nl + 1 : line + strlen(line);
}

/* GKeyFile's own parse errors quote the offending line, which may hold a secret; find the
 * line ourselves and report its number only. */
static gboolean check_key_file_syntax(const char *path, const char *data, gsize len, GError **error)
{
    const char *bad = NULL;
    const char *why = NULL;
    gboolean in_group = FALSE;

    if (!g_utf8_validate(data, (gssize)len, &bad)) {
        why = "is not valid UTF-8";
        goto fail;
    }
    for (const char *line = data; *line != '\0'; line = next_line(line)) {
        gsize n = strcspn(line, "\n");
        const char *p = line;

        while (p < line + n && g_ascii_isspace(*p))
            p++;
        if (p == line + n || *p == '#')
            continue;
        bad = line;
        n -= (gsize)(p - line);
        if (*p == '[') {
            in_group = TRUE;
            if (memchr(p, ']', n) == NULL) {
                why = "has a group header without ']'";
                goto fail;
            }
        } else if (memchr(p, '=', n) == NULL) {
            why = "is neither key=value, a [group] nor a # comment";
            goto fail;
        } else if (!in_group) {
            why = "has a key before the first [group]";
            goto fail;
        }
    }
    return TRUE;

fail:
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                "config file '%s': line %" G_GSIZE_FORMAT " %s", path, line_of(data, bad), why);
    return FALSE;
}

typedef struct {
    char *path; /* absolute */
    char *dir;  /* relative paths in the file resolve against it */
    GKeyFile *kf;
} Config;

static void config_clear(Config *c)
{
    g_clear_pointer(&c->path, g_free);
    g_clear_pointer(&c->dir, g_free);
    g_clear_pointer(&c->kf, g_key_file_unref);
}

static gboolean holds_secrets(GKeyFile *kf)
{
    return g_key_file_has_key(kf, GROUP_AUTH, "sk", NULL) ||
           g_key_file_has_key(kf, GROUP_AUTH, "token", NULL) ||
           g_key_file_has_key(kf, GROUP_AUTH, "security_token", NULL);
}

static char *default_config_path(void)
{
    const char *xdg = g_getenv("XDG_CONFIG_HOME");

    if (xdg != NULL && g_path_is_absolute(xdg)) /* a relative one is invalid (XDG spec) */
        return g_build_filename(xdg, "dbbackupfs", "config", NULL);
    return g_build_filename(g_get_home_dir(), ".config", "dbbackupfs", "config", NULL);
}

/* explicit: named by config=, so it must exist; else the default, read if present. */
static gboolean config_load(Config *c, const char *path, gboolean explicit, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    char *data = NULL;
    gsize len = 0;
    struct stat st;
    int err = 0;
    gboolean ok;

    if (!read_file_fd("config file", path, &data, &len, &st, &err, error)) {
        if (!explicit && err == ENOENT) {
            g_clear_error(error);
            return TRUE;
        }
        return FALSE;
    }
    ok = check_key_file_syntax(path, data, len, error);
    if (ok && !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                    "config file '%s' is not a valid key file", path);
        ok = FALSE;
    }
    wipe_free(data, len);
    if (ok && holds_secrets(kf))
        ok = check_private(path, &st, error);
    if (!ok)
        return FALSE;
    c->path = g_strdup(path);
    c->dir = g_path_get_dirname(path);
    c->kf = g_steal_pointer(&kf);
    return TRUE;
}

static void warn_unknown_keys(const Config *c, const char *group, const char *const *known)
{
    g_auto(GStrv) keys = g_key_file_get_keys(c->kf, group, NULL, NULL);

    for (char **k = keys; k && *k; k++) {
        if (!g_strv_contains(known, *k))
            g_warning("%s: unknown key '%s' in [%s], ignored", c->path, *k, group);
    }
}

static void warn_unknown_main_keys(const Config *c)
{
    g_auto(GStrv) keys = g_key_file_get_keys(c->kf, GROUP_MAIN, NULL, NULL);

    for (char **k = keys; k && *k; k++) {
        const OwnOption *opt = own_option_find(*k);
        if (opt == NULL || opt->cmdline_only)
            g_warning("%s: unknown key '%s' in [%s], ignored%s", c->path, *k, GROUP_MAIN,
                      opt ? " (it is a command-line option)" : "");
    }
}

static void warn_unknown_groups(const Config *c)
{
    static const char *const auth_keys[] = {
        "ak", "sk", "security_token", "domain_id", "token", "token_file", NULL};
    g_auto(GStrv) groups = g_key_file_get_groups(c->kf, NULL);

    for (char **g = groups; *g; g++) {
        if (strcmp(*g, GROUP_MAIN) == 0)
            warn_unknown_main_keys(c);
        else if (strcmp(*g, GROUP_AUTH) == 0)
            warn_unknown_keys(c, *g, auth_keys);
        else if (!g_str_has_prefix(*g, GROUP_PROJECT) && !g_str_has_prefix(*g, GROUP_SERVICE))
            g_warning("%s: unknown group [%s], ignored", c->path, *g);
    }
}

/* A non-auth value (*out NULL when absent); GLib's message is fine to show here since it
 * cannot quote a secret. */
static gboolean config_get(const Config *c, const char *group, const char *key, char **out,
                           GError **error)
{
    GError *local = NULL;

    *out = NULL;
    if (!g_key_file_has_key(c->kf, group, key, NULL))
        return TRUE;
    *out = g_key_file_get_string(c->kf, group, key, &local);
    if (*out != NULL)
        return TRUE;
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE, "%s: [%s] %s: %s", c->path, group,
                key, local->message);
    g_error_free(local);
    return FALSE;
}

static gboolean resolve_config_path(DbbOptions *o, CmdLine *cl, Config *c, GError **error)
{
    const char *given = g_hash_table_lookup(cl->values, "config");
    g_autofree char *path = NULL;

    if (given != NULL && *given == '\0') {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "invalid config= on the command line: an empty path");
        return FALSE;
    }
    path = given ? resolve_path(given, NULL) : default_config_path();
    if (!config_load(c, path, given != NULL, error))
        return FALSE;
    o->config_path = g_strdup(c->path);
    if (c->kf != NULL)
        warn_unknown_groups(c);
    return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Merging: command line over [dbbackupfs], then the [service] and [project] groups      */

static gboolean apply_one(DbbOptions *o, const OwnOption *opt, CmdLine *cl, const Config *c,
                          GError **error)
{
    const char *value = g_hash_table_lookup(cl->values, opt->name);
    g_autofree char *from_file = NULL;
    g_autofree char *where = NULL;
    ValueSource src = {"on the command line", NULL};

    if (value == NULL && c->kf != NULL && !opt->cmdline_only) {
        if (!config_get(c, GROUP_MAIN, opt->name, &from_file, error))
            return FALSE;
        where = g_strdup_printf("in [%s] of %s", GROUP_MAIN, c->path);
        src = (ValueSource){where, c->dir};
        value = from_file;
    }
    if (value == NULL)
        return TRUE;
    if (!opt->apply(o, opt, value, &src, error)) {
        g_prefix_error(error, "invalid %s=%s %s: ", opt->name, value, src.where);
        return FALSE;
    }
    return TRUE;
}

static gboolean apply_own_options(DbbOptions *o, CmdLine *cl, const Config *c, GError **error)
{
    o->ttl = 60;
    o->negative_ttl = 10;
    o->max_stale = 3600;
    o->timeout = 30;
    o->max_conns = 8;
    for (gsize i = 0; i < G_N_ELEMENTS(own_options); i++) {
        if (own_options[i].apply != NULL && !apply_one(o, &own_options[i], cl, c, error))
            return FALSE;
    }
    if (o->services == NULL) {
        ValueSource src = {"by default", NULL};
        g_autofree char *all = known_services(":");
        if (!apply_services(o, own_option_find("services"), all, &src, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean load_service_group(DbbOptions *o, const Config *c, const char *group,
                                   GError **error)
{
    static const char *const known[] = {"endpoint", NULL};
    const char *name = group + strlen(GROUP_SERVICE);
    g_autofree char *url = NULL;

    if (dbb_service_find(name) == NULL && strcmp(name, "iam") != 0) {
        g_autofree char *services = known_services(", ");
        g_warning("%s: [%s] names no known service (%s, iam), ignored", c->path, group, services);
        return TRUE;
    }
    warn_unknown_keys(c, group, known);
    if (!config_get(c, group, "endpoint", &url, error))
        return FALSE;
    if (url == NULL) {
        g_warning("%s: [%s] has no endpoint=, ignored", c->path, group);
        return TRUE;
    }
    if (!is_http_url(url, error)) {
        g_prefix_error(error, "invalid endpoint=%s in [%s] of %s: ", url, group, c->path);
        return FALSE;
    }
    g_hash_table_replace(o->service_endpoints, g_strdup(name), g_steal_pointer(&url));
    return TRUE;
}

static gboolean project_fail(GError **error, const Config *c, const char *group, const char *why)
{
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE, "%s: [%s] %s", c->path, group,
                why);
    return FALSE;
}

static gboolean load_project_group(DbbOptions *o, const Config *c, const char *group,
                                   GError **error)
{
    static const char *const known[] = {"id", "region", NULL};
    const char *name = group + strlen(GROUP_PROJECT);
    g_autofree char *id = NULL;
    g_autofree char *region = NULL;

    warn_unknown_keys(c, group, known);
    if (*name == '\0')
        return project_fail(error, c, group, "needs a name: [project NAME]");
    if (!config_get(c, group, "id", &id, error) || !config_get(c, group, "region", &region, error))
        return FALSE;
    if (id == NULL || *id == '\0')
        return project_fail(error, c, group, "needs id=PROJECT_ID");
    if (region == NULL || *region == '\0') {
        g_free(region);
        region = dbb_region_from_project_name(name);
    }
    if (region == NULL)
        return project_fail(error, c, group, "needs region= (the name gives none)");
    for (guint i = 0; i < o->configured_projects->len; i++) {
        const DbbProject *p = g_ptr_array_index(o->configured_projects, i);
        if (strcmp(p->id, id) == 0)
            return project_fail(error, c, group, "repeats the id of another [project]");
    }
    g_ptr_array_add(o->configured_projects, dbb_project_new(id, name, region));
    return TRUE;
}

static gboolean check_projects_filter(const DbbOptions *o, GError **error)
{
    if (o->projects == NULL || o->configured_projects == NULL)
        return TRUE;
    for (char **n = o->projects; *n; n++) {
        gboolean found = FALSE;
        for (guint i = 0; i < o->configured_projects->len && !found; i++) {
            const DbbProject *p = g_ptr_array_index(o->configured_projects, i);
            found = strcmp(p->name, *n) == 0;
        }
        if (!found) { /* IAM is not asked when [project] groups exist: it could never show */
            g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                        "projects= names '%s', which has no [project %s] group in %s", *n, *n,
                        o->config_path);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean load_groups(DbbOptions *o, const Config *c, GError **error)
{
    g_auto(GStrv) groups = NULL;

    o->service_endpoints = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (c->kf == NULL)
        return TRUE;
    groups = g_key_file_get_groups(c->kf, NULL);
    for (char **g = groups; *g; g++) {
        if (g_str_has_prefix(*g, GROUP_SERVICE)) {
            if (!load_service_group(o, c, *g, error))
                return FALSE;
        } else if (g_str_has_prefix(*g, GROUP_PROJECT)) {
            if (o->configured_projects == NULL)
                o->configured_projects = g_ptr_array_new_with_free_func(dbb_project_free);
            if (!load_project_group(o, c, *g, error))
                return FALSE;
        }
    }
    return check_projects_filter(o, error);
}

/* ------------------------------------------------------------------------------------ */
/* Credentials                                                                           */

/* unsetenv() only drops the pointer: the text would stay in the process image, where
 * /proc/PID/environ (of this process and of the daemon it forks) still shows it. */
static void scrub_env(const char *name)
{
    gsize len = strlen(name);

    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            explicit_bzero(*e + len + 1, strlen(*e + len + 1));
    }
    unsetenv(name);
}

static char *take_env(const char *name)
{
    const char *v = g_getenv(name);
    char *copy = (v != NULL && *v != '\0') ? g_strdup(v) : NULL;

    scrub_env(name);
    return copy;
}

static void move_credentials(DbbOptions *o, DbbCredentials *from, DbbAuthKind kind,
                             const char *source)
{
    o->credentials.kind = kind;
    if (kind == DBB_AUTH_AKSK) {
        o->credentials.ak = g_steal_pointer(&from->ak);
        o->credentials.sk = g_steal_pointer(&from->sk);
        o->credentials.security_token = g_steal_pointer(&from->security_token);
        o->credentials.domain_id = g_steal_pointer(&from->domain_id);
    } else {
        o->credentials.token = g_steal_pointer(&from->token);
    }
    o->credentials_source = source;
}

/* Reads and clears every credential variable, used or not. */
static gboolean credentials_from_env(DbbOptions *o, GError **error)
{
    DbbCredentials env = {0};
    gboolean ok = TRUE;

    env.ak = take_env(ENV_AK);
    env.sk = take_env(ENV_SK);
    env.security_token = take_env(ENV_SECURITY_TOKEN);
    env.domain_id = take_env(ENV_DOMAIN_ID);
    env.token = take_env(ENV_TOKEN);
    if (env.ak != NULL && env.sk != NULL) {
        move_credentials(o, &env, DBB_AUTH_AKSK, SOURCE_ENV_AKSK);
    } else if (env.ak != NULL || env.sk != NULL) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "%s is set but %s is not: set both for AK/SK signing, or neither",
                    env.ak ? ENV_AK : ENV_SK, env.ak ? ENV_SK : ENV_AK);
        ok = FALSE;
    } else if (env.token != NULL) {
        move_credentials(o, &env, DBB_AUTH_TOKEN, SOURCE_ENV_TOKEN);
    }
    dbb_credentials_clear(&env);
    return ok;
}

/* A secret from [auth]: never quoted, even in an error. */
static gboolean auth_get(const Config *c, const char *key, char **out, GError **error)
{
    char *v;

    *out = NULL;
    if (!g_key_file_has_key(c->kf, GROUP_AUTH, key, NULL))
        return TRUE;
    v = g_key_file_get_string(c->kf, GROUP_AUTH, key, NULL);
    if (v == NULL) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                    "%s: [auth] %s cannot be read (an invalid \\ escape?)", c->path, key);
        return FALSE;
    }
    g_strstrip(v);
    if (*v == '\0')
        wipe_free(v, 0);
    else
        *out = v;
    return TRUE;
}

static gboolean read_token_file(const Config *c, const char *value, char **token, GError **error)
{
    g_autofree char *path = resolve_path(value, c->dir);
    char *data = NULL;
    gsize len = 0;
    struct stat st;
    int err = 0;

    if (!read_file_fd("token_file", path, &data, &len, &st, &err, error))
        return FALSE;
    if (!check_private(path, &st, error)) {
        wipe_free(data, len);
        return FALSE;
    }
    data[strcspn(data, "\r\n")] = '\0'; /* the first line */
    g_strstrip(data);
    if (*data == '\0') {
        wipe_free(data, len);
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "token_file '%s' (from %s) holds no token on its first line", path, c->path);
        return FALSE;
    }
    *token = g_strdup(data);
    wipe_free(data, len);
    return TRUE;
}

static gboolean read_auth_group(const Config *c, DbbCredentials *f, char **token_file,
                                GError **error)
{
    return auth_get(c, "ak", &f->ak, error) && auth_get(c, "sk", &f->sk, error) &&
           auth_get(c, "security_token", &f->security_token, error) &&
           auth_get(c, "domain_id", &f->domain_id, error) &&
           auth_get(c, "token", &f->token, error) && auth_get(c, "token_file", token_file, error);
}

static gboolean credentials_from_file(DbbOptions *o, const Config *c, GError **error)
{
    DbbCredentials f = {0};
    g_autofree char *token_file = NULL;
    gboolean ok;

    if (c->kf == NULL || !g_key_file_has_group(c->kf, GROUP_AUTH))
        return TRUE;
    ok = read_auth_group(c, &f, &token_file, error);
    if (ok && f.ak != NULL && f.sk != NULL) {
        move_credentials(o, &f, DBB_AUTH_AKSK, SOURCE_FILE);
    } else if (ok && (f.ak != NULL || f.sk != NULL)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "%s: [auth] has %s= but no %s=: AK/SK signing needs both", c->path,
                    f.ak ? "ak" : "sk", f.ak ? "sk" : "ak");
        ok = FALSE;
    } else if (ok && (f.token != NULL ||
                      (token_file != NULL && read_token_file(c, token_file, &f.token, error)))) {
        if (f.security_token != NULL || f.domain_id != NULL)
            g_warning("%s: [auth] security_token/domain_id apply to ak/sk only, ignored", c->path);
        move_credentials(o, &f, DBB_AUTH_TOKEN, SOURCE_FILE);
    } else if (ok && token_file != NULL) {
        ok = FALSE; /* read_token_file() said why */
    }
    dbb_credentials_clear(&f);
    return ok;
}

/* ------------------------------------------------------------------------------------ */
/* Public                                                                                */

static void take_flags(DbbOptions *o, const CmdLine *cl)
{
    o->foreground = cl->foreground;
    o->debug = cl->debug;
    o->singlethread = cl->singlethread;
    o->show_help = cl->show_help;
    o->show_version = cl->show_version;
}

gboolean dbb_options_load(DbbOptions *opts, struct fuse_args *fuse_args, GError **error)
{
    CmdLine cl = {0};
    Config cfg = {0};
    gboolean ok;

    g_return_val_if_fail(opts != NULL && fuse_args != NULL, FALSE);
    memset(opts, 0, sizeof(*opts));
    ok = cmdline_parse(&cl, fuse_args, error);
    if (ok)
        take_flags(opts, &cl);
    if (!ok || opts->show_help || opts->show_version)
        goto out;
    ok = credentials_from_env(opts, error) && choose_mountpoint(opts, cl.nonopts, error) &&
         resolve_config_path(opts, &cl, &cfg, error) && apply_own_options(opts, &cl, &cfg, error) &&
         load_groups(opts, &cfg, error);
    if (ok && opts->credentials.kind == DBB_AUTH_NONE)
        ok = credentials_from_file(opts, &cfg, error);

out:
    cmdline_clear(&cl);
    config_clear(&cfg);
    if (!ok)
        dbb_options_clear(opts);
    return ok;
}

gboolean dbb_options_require_credentials(const DbbOptions *opts, GError **error)
{
    g_autofree char *path = NULL;

    if (opts->credentials.kind != DBB_AUTH_NONE)
        return TRUE;
    path = opts->config_path ? g_strdup(opts->config_path) : default_config_path();
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                "no credentials: set %s and %s (AK/SK), or %s (an IAM token), or put ak= and "
                "sk=, token= or token_file= in the [auth] group of %s (mode 0600)",
                ENV_AK, ENV_SK, ENV_TOKEN, path);
    return FALSE;
}

void dbb_options_print_help(const char *progname)
{
    g_autofree char *braces = known_services(",");
    g_autofree char *colons = known_services(":");

    printf("usage: %s [options] MOUNTPOINT\n"
           "       %s --help | --version\n"
           "\n"
           "Shows the database backups of a Huawei Cloud account as read-only JSON files:\n"
           "MOUNTPOINT/<project>/{%s}/<instance>/<backup>.json\n"
           "\n"
           "general options:\n"
           "    -h   --help            print help\n"
           "    -V   --version         print version\n"
           "    -f                     foreground operation\n"
           "    -d   -o debug          enable debug output (implies -f)\n"
           "    -s                     disable multi-threaded operation\n"
           "    -o opt[,opt...]        mount options\n"
           "\n"
           "dbbackupfs options:\n"
           "    -o config=PATH         configuration file\n"
           "                           (default: $XDG_CONFIG_HOME/dbbackupfs/config)\n"
           "    -o endpoint=URL        base URL of every service and IAM; {service} and\n"
           "                           {region} are replaced (default: public hosts)\n"
           "    -o projects=A:B        only these projects (default: all)\n"
           "    -o services=S:S        only these services (default: %s)\n"
           "    -o ttl=SECONDS         listing lifetime (default: 60)\n"
           "    -o negative_ttl=SECONDS  lifetime of \"no such name\" (default: 10)\n"
           "    -o max_stale=SECONDS   how old a listing may be served when the API\n"
           "                           fails (default: 3600)\n"
           "    -o max_conns=N         concurrent API requests, 1-256 (default: 8)\n"
           "    -o timeout=SECONDS     deadline of one API call, retries included\n"
           "                           (default: 30)\n"
           "    -o cafile=PATH         extra CA bundle (default: the system's)\n"
           "    -o uid=N  -o gid=N     owner of every entry (default: the mounting user)\n"
           "\n"
           "credentials, first found wins:\n"
           "    " ENV_AK " + " ENV_SK "\n"
           "        (+ " ENV_SECURITY_TOKEN ", " ENV_DOMAIN_ID ")\n"
           "    " ENV_TOKEN "\n"
           "    the config file's [auth] group: ak= + sk=, token= or token_file=\n"
           "\n"
           "FUSE options:\n",
           progname, progname, braces, colons);
    fuse_lowlevel_help();
    printf("    -o default_permissions let the kernel check permissions\n"
           "\n"
           "See dbbackupfs(1).\n");
}

void dbb_options_print_version(void)
{
    printf("dbbackupfs %s\n", DBB_VERSION);
    printf("FUSE library version %s\n", fuse_pkgversion());
    fflush(stdout); /* fuse_lowlevel_version() also runs fusermount3, writing to our stdout */
    fuse_lowlevel_version();
}

void dbb_options_clear(DbbOptions *opts)
{
    if (opts == NULL)
        return;
    g_free(opts->config_path);
    g_free(opts->endpoint);
    g_strfreev(opts->projects);
    g_strfreev(opts->services);
    g_free(opts->cafile);
    g_clear_pointer(&opts->service_endpoints, g_hash_table_unref);
    g_clear_pointer(&opts->configured_projects, g_ptr_array_unref);
    dbb_credentials_clear(&opts->credentials);
    g_free(opts->mountpoint);
    memset(opts, 0, sizeof(*opts));
}
