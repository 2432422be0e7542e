/*
 * dbbackupfs — the configuration file: a GLib key file with [dbbackupfs], [auth],
 * [project NAME] and [service NAME] groups (options.h).
 */
#include "fs/options_internal.h"

#include <errno.h>
#include <string.h>

#include "api/model.h"
#include "api/service.h"

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

void opt_config_clear(Config *c)
{
    g_clear_pointer(&c->path, g_free);
    g_clear_pointer(&c->dir, g_free);
    g_clear_pointer(&c->kf, g_key_file_unref);
    g_clear_pointer(&c->secrets, g_hash_table_unref);
}

/* ---- the secrets of [auth]: cut out of the text before GKeyFile reads it ---- */

const char *const opt_auth_secret_keys[] = {"sk", "token", "security_token", NULL};

static void wipe_free_string(gpointer s)
{
    if (s != NULL)
        opt_wipe_free(s, strlen(s));
}

/* GKeyFile's unescaping of a string value (\s \n \t \r \\); NULL on any other escape. */
static char *unescape_value(const char *v, gsize n)
{
    static const char from[] = "sntr\\", to[] = " \n\t\r\\";
    char *out = g_malloc(n + 1);
    gsize o = 0;

    for (gsize i = 0; i < n; i++) {
        const char *esc;

        if (v[i] != '\\') {
            out[o++] = v[i];
            continue;
        }
        if (++i == n || (esc = memchr(from, v[i], sizeof(from) - 1)) == NULL) {
            opt_wipe_free(out, n + 1);
            return NULL;
        }
        out[o++] = to[esc - from];
    }
    out[o] = '\0';
    return out;
}

static gboolean is_auth_header(const char *p, const char *end)
{
    const char *close = memrchr(p, ']', (gsize)(end - p));

    return close != NULL && (gsize)(close - p - 1) == strlen(GROUP_AUTH) &&
           strncmp(p + 1, GROUP_AUTH, strlen(GROUP_AUTH)) == 0;
}

/* One "key = value" line of [auth]: a secret's value goes to c->secrets and is overwritten
 * with '*' in the text (the line keeps its key, so GKeyFile still sees the key is set). */
static gboolean take_secret_line(Config *c, const char *path, char *p, char *end, GError **error)
{
    char *eq = memchr(p, '=', (gsize)(end - p));
    char *key_end = eq, *v;
    g_autofree char *key = NULL;
    char *value;

    if (eq == NULL)
        return TRUE;
    while (key_end > p && g_ascii_isspace(key_end[-1]))
        key_end--;
    key = g_strndup(p, (gsize)(key_end - p));
    if (!g_strv_contains(opt_auth_secret_keys, key))
        return TRUE;
    for (v = eq + 1; v < end && g_ascii_isspace(*v);)
        v++;
    if (end > v && end[-1] == '\r')
        end--;
    value = unescape_value(v, (gsize)(end - v));
    memset(v, '*', (gsize)(end - v));
    if (value == NULL) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                    "%s: [auth] %s cannot be read (an invalid \\ escape?)", path, key);
        return FALSE;
    }
    g_hash_table_replace(c->secrets, g_steal_pointer(&key), value); /* the last one counts */
    return TRUE;
}

gboolean opt_config_take_secrets(Config *c, const char *path, char *data, GError **error)
{
    gboolean in_auth = FALSE;

    c->secrets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, wipe_free_string);
    for (char *line = data; *line != '\0'; line = (char *)next_line(line)) {
        char *end = line + strcspn(line, "\n");
        char *p = line;

        while (p < end && g_ascii_isspace(*p))
            p++;
        if (p == end || *p == '#')
            continue;
        if (*p == '[')
            in_auth = is_auth_header(p, end);
        else if (in_auth && !take_secret_line(c, path, p, end, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean holds_secrets(GKeyFile *kf)
{
    return g_key_file_has_key(kf, GROUP_AUTH, "sk", NULL) ||
           g_key_file_has_key(kf, GROUP_AUTH, "token", NULL) ||
           g_key_file_has_key(kf, GROUP_AUTH, "security_token", NULL);
}

char *opt_default_config_path(void)
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

    if (!opt_read_secret_file("config file", path, &data, &len, &st, &err, error)) {
        if (!explicit && err == ENOENT) {
            g_clear_error(error);
            return TRUE;
        }
        return FALSE;
    }
    ok = check_key_file_syntax(path, data, len, error) &&
         opt_config_take_secrets(c, path, data, error);
    if (ok && !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                    "config file '%s' is not a valid key file", path);
        ok = FALSE;
    }
    opt_wipe_free(data, len);
    if (ok && holds_secrets(kf))
        ok = opt_check_private(path, &st, error);
    if (!ok) {
        g_clear_pointer(&c->secrets, g_hash_table_unref);
        return FALSE;
    }
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
        const OwnOption *opt = opt_own_option_find(*k);
        if (opt == NULL || opt->cmdline_only)
            g_warning("%s: unknown key '%s' in [%s], ignored%s", c->path, *k, GROUP_MAIN,
                      opt ? " (it is a command-line option)" : "");
    }
}

static void warn_unknown_groups(const Config *c)
{
    static const char *const auth_keys[] = {
        "ak",         "sk",   "security_token", "domain_id",     "token",
        "token_file", "user", "domain",         "password_file", NULL};
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
gboolean opt_config_get(const Config *c, const char *group, const char *key, char **out,
                        GError **error)
{
    GError *local = NULL;

    *out = NULL;
    if (!g_key_file_has_key(c->kf, group, key, NULL))
        return TRUE;
    /* GLib returns the value cut at a bad escape *and* sets the error: the error rules. */
    *out = g_key_file_get_string(c->kf, group, key, &local);
    if (local == NULL)
        return TRUE;
    g_clear_pointer(out, g_free);
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE, "%s: [%s] %s: %s", c->path, group,
                key, local->message);
    g_error_free(local);
    return FALSE;
}

gboolean opt_resolve_config_path(DbbOptions *o, CmdLine *cl, Config *c, GError **error)
{
    const char *given = g_hash_table_lookup(cl->values, "config");
    g_autofree char *path = NULL;

    if (given != NULL && *given == '\0') {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_VALUE,
                    "invalid config= on the command line: an empty path");
        return FALSE;
    }
    path = given ? opt_resolve_path(given, NULL) : opt_default_config_path();
    if (!config_load(c, path, given != NULL, error))
        return FALSE;
    o->config_path = g_strdup(c->path);
    if (c->kf != NULL)
        warn_unknown_groups(c);
    return TRUE;
}

static gboolean load_service_group(DbbOptions *o, const Config *c, const char *group,
                                   GError **error)
{
    static const char *const known[] = {"endpoint", NULL};
    const char *name = group + strlen(GROUP_SERVICE);
    g_autofree char *url = NULL;

    if (dbb_service_find(name) == NULL && strcmp(name, "iam") != 0) {
        g_autofree char *services = opt_known_services(", ");
        g_warning("%s: [%s] names no known service (%s, iam), ignored", c->path, group, services);
        return TRUE;
    }
    warn_unknown_keys(c, group, known);
    if (!opt_config_get(c, group, "endpoint", &url, error))
        return FALSE;
    if (url == NULL) {
        g_warning("%s: [%s] has no endpoint=, ignored", c->path, group);
        return TRUE;
    }
    if (!opt_is_http_url(url, error)) {
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
    if (!opt_config_get(c, group, "id", &id, error) ||
        !opt_config_get(c, group, "region", &region, error))
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

gboolean opt_load_groups(DbbOptions *o, const Config *c, GError **error)
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
