/*
 * dbbackupfs — where the credentials come from, first found wins: the environment's AK/SK,
 * DBBACKUPFS_TOKEN, an IAM password (DBBACKUPFS_PASSWORD, else [auth] password_file=, with
 * the user and account from DBBACKUPFS_USER/DBBACKUPFS_DOMAIN or [auth] user=/domain=),
 * then the config file's [auth] ak/sk, token or token_file (options.h).
 */
#include "fs/options_internal.h"

#include <string.h>

extern char **environ;

#define SOURCE_ENV_PASSWORD  "IAM password (DBBACKUPFS_PASSWORD)"
#define SOURCE_FILE_PASSWORD "IAM password ([auth] password_file)"

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
    } else if (kind == DBB_AUTH_PASSWORD) {
        o->credentials.user = g_steal_pointer(&from->user);
        o->credentials.domain = g_steal_pointer(&from->domain);
        o->credentials.password = g_steal_pointer(&from->password);
    } else {
        o->credentials.token = g_steal_pointer(&from->token);
    }
    o->credentials_source = source;
}

/* Reads and clears every credential variable, used or not. */
gboolean opt_credentials_from_env(DbbOptions *o, GError **error)
{
    DbbCredentials env = {0};
    gboolean ok = TRUE;

    env.ak = take_env(ENV_AK);
    env.sk = take_env(ENV_SK);
    env.security_token = take_env(ENV_SECURITY_TOKEN);
    env.domain_id = take_env(ENV_DOMAIN_ID);
    env.token = take_env(ENV_TOKEN);
    env.password = take_env(ENV_PASSWORD);
    if (env.ak != NULL && env.sk != NULL) {
        move_credentials(o, &env, DBB_AUTH_AKSK, SOURCE_ENV_AKSK);
    } else if (env.ak != NULL || env.sk != NULL) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "%s is set but %s is not: set both for AK/SK signing, or neither",
                    env.ak ? ENV_AK : ENV_SK, env.ak ? ENV_SK : ENV_AK);
        ok = FALSE;
    } else if (env.token != NULL) {
        move_credentials(o, &env, DBB_AUTH_TOKEN, SOURCE_ENV_TOKEN);
    } else if (env.password != NULL) {
        /* Kept, kind still NONE, until the user and account are known (opt_credentials_
         * from_file() completes it, from the environment or [auth]). */
        o->credentials.password = g_steal_pointer(&env.password);
    }
    dbb_credentials_clear(&env);
    return ok;
}

/* A name from the environment (not a secret), else from [auth]; NULL when neither. */
static gboolean env_or_auth(const Config *c, const char *env, const char *key, char **out,
                            GError **error)
{
    const char *v = g_getenv(env);

    *out = NULL;
    if (v != NULL && *v != '\0') {
        *out = g_strdup(v);
        return TRUE;
    }
    if (c->kf == NULL || !g_key_file_has_group(c->kf, GROUP_AUTH))
        return TRUE;
    return opt_config_get(c, GROUP_AUTH, key, out, error);
}

/* Password authentication from a password already taken (the environment's, or
 * password_file's): needs the user and the account. */
static gboolean use_password(DbbOptions *o, const Config *c, char *password, const char *source,
                             GError **error)
{
    DbbCredentials p = {.password = password};
    gboolean ok = env_or_auth(c, ENV_USER, "user", &p.user, error) &&
                  env_or_auth(c, ENV_DOMAIN, "domain", &p.domain, error);

    if (ok && (p.user == NULL || p.domain == NULL)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "IAM password authentication (%s) needs the %s: set %s or %s= in [auth]",
                    source, p.user == NULL ? "IAM user name" : "account (domain) name",
                    p.user == NULL ? ENV_USER : ENV_DOMAIN, p.user == NULL ? "user" : "domain");
        ok = FALSE;
    }
    if (ok)
        move_credentials(o, &p, DBB_AUTH_PASSWORD, source);
    dbb_credentials_clear(&p);
    return ok;
}

/* A value from [auth]: never quoted, even in an error.  A secret is taken (moved) from
 * c->secrets, so its one copy goes on to the credentials. */
static gboolean auth_get(const Config *c, const char *key, char **out, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *stolen_key = NULL;
    char *v = NULL;
    gsize len;

    *out = NULL;
    if (!g_key_file_has_key(c->kf, GROUP_AUTH, key, NULL))
        return TRUE;
    if (g_strv_contains(opt_auth_secret_keys, key))
        g_hash_table_steal_extended(c->secrets, key, (gpointer *)&stolen_key, (gpointer *)&v);
    else
        v = g_key_file_get_string(c->kf, GROUP_AUTH, key, &local);
    if (v == NULL || local != NULL) {
        g_free(v);
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE,
                    "%s: [auth] %s cannot be read (an invalid \\ escape?)", c->path, key);
        return FALSE;
    }
    /* Stripping moves the text inside the buffer: copy it out, then wipe all of the old. */
    len = strlen(v);
    g_strstrip(v);
    if (*v != '\0')
        *out = g_strdup(v);
    opt_wipe_free(v, len);
    return TRUE;
}

/* The first line of a secret file named by [auth] `key` (token_file, password_file). */
static gboolean read_secret_line(const Config *c, const char *key, const char *what,
                                 const char *value, char **out, GError **error)
{
    g_autofree char *path = opt_resolve_path(value, c->dir);
    char *data = NULL;
    gsize len = 0;
    struct stat st;
    int err = 0;

    if (!opt_read_secret_file(key, path, &data, &len, &st, &err, error))
        return FALSE;
    if (!opt_check_private(path, &st, error)) {
        opt_wipe_free(data, len);
        return FALSE;
    }
    data[strcspn(data, "\r\n")] = '\0'; /* the first line */
    g_strstrip(data);
    if (*data == '\0') {
        opt_wipe_free(data, len);
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "%s '%s' (from %s) holds no %s on its first line", key, path, c->path, what);
        return FALSE;
    }
    *out = g_strdup(data);
    opt_wipe_free(data, len);
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

gboolean opt_credentials_from_file(DbbOptions *o, const Config *c, GError **error)
{
    DbbCredentials f = {0};
    g_autofree char *token_file = NULL;
    g_autofree char *password_file = NULL;
    char *password = NULL;
    gboolean ok;

    /* A password (the environment's, else password_file's) comes before [auth]'s keys. */
    if (o->credentials.password != NULL)
        return use_password(o, c, g_steal_pointer(&o->credentials.password), SOURCE_ENV_PASSWORD,
                            error);
    if (c->kf == NULL || !g_key_file_has_group(c->kf, GROUP_AUTH))
        return TRUE;
    if (!opt_config_get(c, GROUP_AUTH, "password_file", &password_file, error))
        return FALSE;
    if (password_file != NULL)
        return read_secret_line(c, "password_file", "password", password_file, &password, error) &&
               use_password(o, c, password, SOURCE_FILE_PASSWORD, error);
    ok = read_auth_group(c, &f, &token_file, error);
    if (ok && f.ak != NULL && f.sk != NULL) {
        move_credentials(o, &f, DBB_AUTH_AKSK, SOURCE_FILE);
    } else if (ok && (f.ak != NULL || f.sk != NULL)) {
        g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                    "%s: [auth] has %s= but no %s=: AK/SK signing needs both", c->path,
                    f.ak ? "ak" : "sk", f.ak ? "sk" : "ak");
        ok = FALSE;
    } else if (ok && (f.token != NULL ||
                      (token_file != NULL &&
                       read_secret_line(c, "token_file", "token", token_file, &f.token, error)))) {
        if (f.security_token != NULL || f.domain_id != NULL)
            g_warning("%s: [auth] security_token/domain_id apply to ak/sk only, ignored", c->path);
        move_credentials(o, &f, DBB_AUTH_TOKEN, SOURCE_FILE);
    } else if (ok && token_file != NULL) {
        ok = FALSE; /* read_token_file() said why */
    }
    dbb_credentials_clear(&f);
    return ok;
}

gboolean dbb_options_require_credentials(const DbbOptions *opts, GError **error)
{
    g_autofree char *path = NULL;

    if (opts->credentials.kind != DBB_AUTH_NONE)
        return TRUE;
    path = opts->config_path ? g_strdup(opts->config_path) : opt_default_config_path();
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_CREDENTIALS,
                "no credentials: set %s and %s (AK/SK), or %s (an IAM token), or %s with %s "
                "and %s (IAM password), or put ak= and sk=, token=, token_file= or "
                "password_file= with user= and domain= in the [auth] group of %s (mode 0600)",
                ENV_AK, ENV_SK, ENV_TOKEN, ENV_PASSWORD, ENV_USER, ENV_DOMAIN, path);
    return FALSE;
}
