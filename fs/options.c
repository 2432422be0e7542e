/*
 * dbbackupfs — the own-option table and dbb_options_load() (options.h).
 *
 * One table serves the command line and the config file's [dbbackupfs] group, so both get
 * the same checks and messages: values are kept as text by cmdline.c and keyfile.c and
 * applied here, command line over file.
 */
#include "fs/options_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/service.h"

GQuark dbb_options_error_quark(void)
{
    return g_quark_from_static_string("dbb-options-error-quark");
}

/* The names of every service api/ knows, joined by sep: the default of services= and the
 * list in messages, so a new service needs no change here. */
char *opt_known_services(const char *sep)
{
    const DbbService *const *all = dbb_services();
    GString *out = g_string_new(NULL);

    for (gsize i = 0; all[i]; i++)
        g_string_append_printf(out, "%s%s", i ? sep : "", all[i]->name);
    return g_string_free(out, FALSE);
}

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
static gboolean apply_count(DbbOptions *o, const OwnOption *opt, const char *value,
                            const ValueSource *src, GError **error);
static gboolean apply_bytes(DbbOptions *o, const OwnOption *opt, const char *value,
                            const ValueSource *src, GError **error);
static gboolean apply_id(DbbOptions *o, const OwnOption *opt, const char *value,
                         const ValueSource *src, GError **error);
static gboolean apply_metrics(DbbOptions *o, const OwnOption *opt, const char *value,
                              const ValueSource *src, GError **error);
static gboolean apply_log(DbbOptions *o, const OwnOption *opt, const char *value,
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
    {.name = "max_records",
     .apply = apply_count,
     .offset = G_STRUCT_OFFSET(DbbOptions, max_records),
     .min = 1,
     .max = 1e9},
    {.name = "max_listing_bytes",
     .apply = apply_bytes,
     .offset = G_STRUCT_OFFSET(DbbOptions, max_listing_bytes),
     .min = 1 << 20,
     .max = 1099511627776.0 /* 1 TiB */},
    {.name = "metrics", .apply = apply_metrics},
    {.name = "metrics_interval", SECONDS_FIELD(metrics_interval), .min = 0.1, .max = SECONDS_MAX},
    {.name = "log", .apply = apply_log},
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

const OwnOption *opt_own_option_find(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(own_options); i++) {
        if (strcmp(own_options[i].name, name) == 0)
            return &own_options[i];
    }
    return NULL;
}

char *opt_resolve_path(const char *value, const char *base_dir)
{
    if (value[0] == '~' && value[1] == '/')
        return g_build_filename(g_get_home_dir(), value + 2, NULL);
    return g_canonicalize_filename(value, base_dir);
}

gboolean opt_is_http_url(const char *v, GError **error)
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
    if (!opt_is_http_url(value, error))
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
            g_autofree char *known = opt_known_services(", ");
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

/* A count into a guint64 field, within [opt->min, opt->max]. */
static gboolean apply_count(DbbOptions *o, const OwnOption *opt, const char *value,
                            const ValueSource *src, GError **error)
{
    guint64 v;

    if (!parse_unsigned(value, (guint64)opt->max, &v) || v < (guint64)opt->min) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be a whole number from %.0f to %.0f", opt->min, opt->max);
        return FALSE;
    }
    G_STRUCT_MEMBER(guint64, o, opt->offset) = v;
    return TRUE;
}

/* Bytes, with an optional binary suffix: 512M, 1G, 65536 (K, M, G, T; KiB, MiB, ... too). */
static gboolean apply_bytes(DbbOptions *o, const OwnOption *opt, const char *value,
                            const ValueSource *src, GError **error)
{
    static const char *const suffixes[] = {"K", "M", "G", "T"};
    gsize digits = strspn(value, "0123456789");
    g_autofree char *number = g_strndup(value, digits);
    const char *suffix = value + digits;
    guint shift = 0;
    guint64 v;

    for (gsize i = 0; *suffix && shift == 0 && i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *iec = g_strconcat(suffixes[i], "iB", NULL);
        if (g_ascii_strcasecmp(suffix, suffixes[i]) == 0 || g_ascii_strcasecmp(suffix, iec) == 0)
            shift = 10 * (guint)(i + 1);
    }
    if ((*suffix && shift == 0) || !parse_unsigned(number, (guint64)opt->max >> shift, &v) ||
        (v << shift) < (guint64)opt->min) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be a number of bytes (optionally K, M, G or T) from 1M to 1T");
        return FALSE;
    }
    G_STRUCT_MEMBER(guint64, o, opt->offset) = v << shift;
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
    g_autofree char *path = opt_resolve_path(value, src->base_dir);
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

/* The file is written later, from the daemon: a directory it cannot write to is said now. */
static gboolean apply_metrics(DbbOptions *o, const OwnOption *opt, const char *value,
                              const ValueSource *src, GError **error)
{
    g_autofree char *path = opt_resolve_path(value, src->base_dir);
    g_autofree char *dir = g_path_get_dirname(path);

    if (!*value || g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE, "must be a file's path");
        return FALSE;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                    "cannot create files in '%s': %s", dir, g_strerror(errno));
        return FALSE;
    }
    g_free(o->metrics);
    o->metrics = g_steal_pointer(&path);
    return TRUE;
}

/* The file itself is opened by log.c before forking, which reports a failure. */
static gboolean apply_log(DbbOptions *o, const OwnOption *opt, const char *value,
                          const ValueSource *src, GError **error)
{
    if (!*value) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "must be syslog, stderr or a file's path");
        return FALSE;
    }
    g_free(o->log);
    if (strcmp(value, "syslog") == 0 || strcmp(value, "stderr") == 0)
        o->log = g_strdup(value);
    else
        o->log = opt_resolve_path(value, src->base_dir);
    return TRUE;
}

static gboolean apply_one(DbbOptions *o, const OwnOption *opt, CmdLine *cl, const Config *c,
                          GError **error)
{
    const char *value = g_hash_table_lookup(cl->values, opt->name);
    g_autofree char *from_file = NULL;
    g_autofree char *where = NULL;
    ValueSource src = {"on the command line", NULL};

    if (value == NULL && c->kf != NULL && !opt->cmdline_only) {
        if (!opt_config_get(c, GROUP_MAIN, opt->name, &from_file, error))
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
    o->max_records = 1000000;
    o->max_listing_bytes = G_GUINT64_CONSTANT(512) << 20;
    o->metrics_interval = 15;
    for (gsize i = 0; i < G_N_ELEMENTS(own_options); i++) {
        if (own_options[i].apply != NULL && !apply_one(o, &own_options[i], cl, c, error))
            return FALSE;
    }
    if (o->services == NULL) {
        ValueSource src = {"by default", NULL};
        g_autofree char *all = opt_known_services(":");
        if (!apply_services(o, opt_own_option_find("services"), all, &src, error))
            return FALSE;
    }
    return TRUE;
}

static void take_flags(DbbOptions *o, const CmdLine *cl)
{
    o->foreground = cl->foreground;
    o->debug = cl->debug;
    o->singlethread = cl->singlethread;
    o->show_help = cl->show_help;
    o->show_version = cl->show_version;
    o->allow_insecure_http = cl->allow_insecure_http;
}

gboolean dbb_options_load(DbbOptions *opts, struct fuse_args *fuse_args, GError **error)
{
    CmdLine cl = {0};
    Config cfg = {0};
    gboolean ok;

    g_return_val_if_fail(opts != NULL && fuse_args != NULL, FALSE);
    memset(opts, 0, sizeof(*opts));
    ok = opt_cmdline_parse(&cl, fuse_args, error);
    if (ok)
        take_flags(opts, &cl);
    if (!ok || opts->show_help || opts->show_version)
        goto out;
    ok = opt_credentials_from_env(opts, error) && opt_choose_mountpoint(opts, cl.nonopts, error) &&
         opt_resolve_config_path(opts, &cl, &cfg, error) &&
         apply_own_options(opts, &cl, &cfg, error) && opt_load_groups(opts, &cfg, error);
    if (ok && opts->credentials.kind == DBB_AUTH_NONE)
        ok = opt_credentials_from_file(opts, &cfg, error);

out:
    opt_cmdline_clear(&cl);
    opt_config_clear(&cfg);
    if (!ok)
        dbb_options_clear(opts);
    return ok;
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
    g_free(opts->metrics);
    g_free(opts->log);
    g_clear_pointer(&opts->service_endpoints, g_hash_table_unref);
    g_clear_pointer(&opts->configured_projects, g_ptr_array_unref);
    dbb_credentials_clear(&opts->credentials);
    g_free(opts->mountpoint);
    memset(opts, 0, sizeof(*opts));
}
