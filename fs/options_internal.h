/*
 * dbbackupfs — what the files behind options.h share: the own-option table's types, the
 * parsed command line, the loaded key file, and the helpers each of them offers the others.
 * Private to fs/options.c, cmdline.c, keyfile.c, auth_sources.c, secret_file.c and help.c.
 */
#pragma once

#include <sys/stat.h>

#include <glib.h>

#include "fs/options.h"

G_BEGIN_DECLS

#define ENV_AK             "HUAWEICLOUD_SDK_AK"
#define ENV_SK             "HUAWEICLOUD_SDK_SK"
#define ENV_SECURITY_TOKEN "HUAWEICLOUD_SDK_SECURITY_TOKEN"
#define ENV_DOMAIN_ID      "HUAWEICLOUD_SDK_DOMAIN_ID"
#define ENV_TOKEN          "DBBACKUPFS_TOKEN"
#define ENV_PASSWORD       "DBBACKUPFS_PASSWORD"
#define ENV_USER           "DBBACKUPFS_USER"
#define ENV_DOMAIN         "DBBACKUPFS_DOMAIN"

#define GROUP_MAIN     "dbbackupfs"
#define GROUP_AUTH     "auth"
#define GROUP_PROJECT  "project "
#define GROUP_SERVICE  "service "
#define FILE_MAX_BYTES (1024 * 1024) /* a config or token file is a few KiB at most */
#define SECONDS_MAX    1e9           /* keeps µs arithmetic in gint64 far from overflow */

#define SOURCE_ENV_AKSK  "environment (AK/SK)"
#define SOURCE_ENV_TOKEN "DBBACKUPFS_TOKEN"
#define SOURCE_FILE      "config file [auth]"

/* ---- options.c: the own-option table ---- */

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

/* NULL when name is not one of our own options. */
const OwnOption *opt_own_option_find(const char *name);
/* The names of every service api/ knows, joined by sep. */
char *opt_known_services(const char *sep);
/* ~/ expanded; relative paths resolve against base_dir (NULL: the cwd). */
char *opt_resolve_path(const char *value, const char *base_dir);
/* FALSE with the reason when v is not an http(s) URL with a host and no blanks. */
gboolean opt_is_http_url(const char *v, GError **error);

/* ---- cmdline.c: argv through fuse_opt ---- */

typedef struct {
    GHashTable *values; /* own option name -> value; the last one given wins */
    GPtrArray *nonopts;
    gboolean fsname_given;
    gboolean subtype_given;
    gboolean allow_insecure_http;
    int foreground, debug, singlethread, show_help, show_version;
    GError *error; /* the first problem found */
} CmdLine;

/* Sorts argv into cl and leaves FUSE's options in args (see dbb_options_load()). */
gboolean opt_cmdline_parse(CmdLine *cl, struct fuse_args *args, GError **error);
void opt_cmdline_clear(CmdLine *cl);
/* The mount point among the non-option arguments, made absolute. */
gboolean opt_choose_mountpoint(DbbOptions *o, GPtrArray *nonopts, GError **error);

/* ---- secret_file.c: files that may hold secrets ---- */

/* explicit_bzero()s len bytes of buf, then frees it; NULL is fine. */
void opt_wipe_free(char *buf, gsize len);
/* The whole file (NUL-terminated, at most FILE_MAX_BYTES) and the mode of the very file
 * read; *err is the errno of a failed open, so a missing file can be told from a broken one. */
gboolean opt_read_secret_file(const char *what, const char *path, char **data, gsize *len,
                              struct stat *st, int *err, GError **error);
/* FALSE with a chmod hint when group or others may read the file. */
gboolean opt_check_private(const char *path, const struct stat *st, GError **error);

/* ---- keyfile.c: the configuration file ---- */

typedef struct {
    char *path; /* absolute */
    char *dir;  /* relative paths in the file resolve against it */
    GKeyFile *kf;
    /* The [auth] secrets (opt_auth_secret_keys): key -> value, wiped when freed.  GKeyFile
     * frees its copies unwiped, so it only ever sees them as "***". */
    GHashTable *secrets;
} Config;

/* The [auth] keys whose values are secrets; NULL-terminated. */
extern const char *const opt_auth_secret_keys[];
/* Moves the values of the [auth] secrets of the key file text `data` (NUL-terminated) into
 * c->secrets (new), unescaped as GKeyFile would, and overwrites them in data with '*'. */
gboolean opt_config_take_secrets(Config *c, const char *path, char *data, GError **error);

void opt_config_clear(Config *c);
/* $XDG_CONFIG_HOME/dbbackupfs/config, or ~/.config/dbbackupfs/config. */
char *opt_default_config_path(void);
/* Loads config= (which must exist) or the default file (if present) into c. */
gboolean opt_resolve_config_path(DbbOptions *o, CmdLine *cl, Config *c, GError **error);
/* A non-secret value of group/key; *out NULL when absent. */
gboolean opt_config_get(const Config *c, const char *group, const char *key, char **out,
                        GError **error);
/* The [service NAME] and [project NAME] groups. */
gboolean opt_load_groups(DbbOptions *o, const Config *c, GError **error);

/* ---- auth_sources.c: credentials ---- */

/* Reads and wipes every credential variable of the environment, used or not. */
gboolean opt_credentials_from_env(DbbOptions *o, GError **error);
/* The [auth] group, when the environment gave none. */
gboolean opt_credentials_from_file(DbbOptions *o, const Config *c, GError **error);

G_END_DECLS
