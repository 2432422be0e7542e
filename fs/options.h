/*
 * dbbackupfs — command line, configuration file and credentials (DESIGN.md "Command line
 * and configuration", contract).
 *
 * Precedence: command-line options override the config file's [dbbackupfs] group;
 * credentials come from, first found wins, HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK
 * (+ HUAWEICLOUD_SDK_SECURITY_TOKEN, HUAWEICLOUD_SDK_DOMAIN_ID), then DBBACKUPFS_TOKEN, then
 * the config file's [auth] group (ak/sk, or token, or token_file).  A config file or
 * token_file that holds secrets and is readable by group or others is refused, as ssh does.
 */
#pragma once

#include <fuse_lowlevel.h>
#include <glib.h>

#include "api/credentials.h"

G_BEGIN_DECLS

typedef struct {
    /* [dbbackupfs] options, after the command line and the config file are merged. */
    char *config_path;      /* the file read, or NULL */
    char *endpoint;         /* NULL: public per-region hosts */
    char **projects;        /* NULL: all (from IAM or the [project] groups) */
    char **services;        /* never NULL after dbb_options_load(): the chosen service names */
    double ttl;             /* 60 */
    double negative_ttl;    /* 10 */
    double max_stale;       /* 3600 */
    double timeout;         /* 30 */
    unsigned max_conns;     /* 8 */
    char *cafile;           /* NULL */
    GHashTable *service_endpoints; /* service name -> URL template, from [service NAME] */
    GPtrArray *configured_projects; /* DbbProject from [project NAME] groups; NULL if none */
    DbbCredentials credentials;
    const char *credentials_source; /* "environment (AK/SK)", "DBBACKUPFS_TOKEN", "config
                                     * file [auth]": for messages, never the secret */
    /* FUSE side */
    char *mountpoint;
    int foreground;
    int debug;
    int singlethread;
    int show_help;
    int show_version;
} DbbOptions;

/* Parse argv (consuming our own -o options and leaving FUSE's in *fuse_args, with "ro" and
 * "fsname=dbbackupfs", "subtype=dbbackupfs" added), read the config file, validate every
 * value and resolve the credentials.  Returns FALSE with a message for the user in *error.
 * With --help/--version it returns TRUE and sets show_help/show_version.  Credentials are
 * not required here (dbb_options_require_credentials() checks them). */
gboolean dbb_options_load(DbbOptions *opts, struct fuse_args *fuse_args, GError **error);

/* FALSE with a clear message when no credentials were found. */
gboolean dbb_options_require_credentials(const DbbOptions *opts, GError **error);

/* Print usage and every option to stdout (with FUSE's own). */
void dbb_options_print_help(const char *progname);

void dbb_options_clear(DbbOptions *opts);

G_END_DECLS
