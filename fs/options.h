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

/* Errors of dbb_options_load() and dbb_options_require_credentials(); every message is meant
 * for the user as it is and never contains a secret. */
#define DBB_OPTIONS_ERROR dbb_options_error_quark()
GQuark dbb_options_error_quark(void);

typedef enum {
    DBB_OPTIONS_ERROR_USAGE,       /* bad command line: unknown option, mount point count */
    DBB_OPTIONS_ERROR_VALUE,       /* an option's value is out of range or malformed */
    DBB_OPTIONS_ERROR_FILE,        /* config, token or CA file unreadable or unparsable */
    DBB_OPTIONS_ERROR_PERMISSIONS, /* a file holding secrets is readable by group/others */
    DBB_OPTIONS_ERROR_CREDENTIALS, /* credentials incomplete (one of AK/SK) or missing */
} DbbOptionsError;

typedef struct {
    /* [dbbackupfs] options, after the command line and the config file are merged. */
    char *config_path;   /* the file read, or NULL */
    char *endpoint;      /* NULL: public per-region hosts */
    char **projects;     /* NULL: all (from IAM or the [project] groups) */
    char **services;     /* never NULL after dbb_options_load(): the chosen service names */
    double ttl;          /* 60 */
    double negative_ttl; /* 10 */
    double max_stale;    /* 3600 */
    double timeout;      /* 30 */
    unsigned max_conns;  /* 8 */
    char *cafile;        /* NULL; else an absolute path */

    /* Listing-wide caps: beyond them a listing fails with EIO. */
    guint64 max_records;       /* 1000000 */
    guint64 max_listing_bytes; /* 512 MiB */

    GHashTable *service_endpoints;  /* service name -> URL template, from [service NAME] */
    GPtrArray *configured_projects; /* DbbProject from [project NAME] groups; NULL if none.
                                     * Not filtered by `projects`: the caller applies that
                                     * filter to whichever source it lists. */

    /* Metrics and logs. */
    char *metrics;           /* NULL: off; else an absolute path */
    double metrics_interval; /* 15 */
    char *log;               /* "syslog", "stderr", an absolute path; NULL: the default */

    DbbCredentials credentials;
    /* -o allow_insecure_http: credentials may go over plain http:// to non-loopback hosts */
    gboolean allow_insecure_http;
    const char *credentials_source; /* "environment (AK/SK)", "DBBACKUPFS_TOKEN", "config
                                     * file [auth]": for messages, never the secret */
    /* FUSE side */
    gboolean has_uid, has_gid; /* uid=/gid= given: owner reported for every entry (these
                                * are consumed here: libfuse's low-level API rejects them) */
    guint32 uid, gid;
    char *mountpoint; /* absolute (realpath), or "/dev/fd/N" as mount.fuse3 passes it */
    int foreground;
    int debug;
    int singlethread;
    int show_help;
    int show_version;
} DbbOptions;

/* opts must be zeroed or cleared; it is overwritten.  On failure it is left cleared.
 * Parse argv (consuming our own -o options and leaving FUSE's in *fuse_args, with "ro" and
 * "fsname=dbbackupfs", "subtype=dbbackupfs" added), read the config file, validate every
 * value and resolve the credentials.  Returns FALSE with a message for the user in *error.
 * With --help/--version it returns TRUE and sets show_help/show_version.  Credentials are
 * not required here (dbb_options_require_credentials() checks them).
 * The credential variables of the environment are wiped and unset once read, so the daemon's
 * /proc/PID/environ does not show them: call this before any thread starts.
 * fuse_args keeps argv[0], every -o option that is not ours (minus "rw" and the mount(8)
 * options that mean nothing to FUSE: defaults, auto, noauto, user, users, nouser, nofail,
 * _netdev, x-*, comment=), then "-o" "[debug,]ro[,fsname=dbbackupfs][,subtype=dbbackupfs]"
 * (debug with -d or -o debug; fsname/subtype unless the user gave them).  -d implies -f, as in
 * libfuse.  -f, -s, -h, -V and the mount point are recorded in opts and removed. */
gboolean dbb_options_load(DbbOptions *opts, struct fuse_args *fuse_args, GError **error);

/* FALSE with a clear message when no credentials were found. */
gboolean dbb_options_require_credentials(const DbbOptions *opts, GError **error);

/* Print usage and every option to stdout (with FUSE's own). */
void dbb_options_print_help(const char *progname);

/* Print "dbbackupfs <version>" and libfuse's versions to stdout. */
void dbb_options_print_version(void);

void dbb_options_clear(DbbOptions *opts);

/* The process will hold secrets: make it non-dumpable (no core file; /proc/PID/mem, environ
 * and ptrace closed to everyone but root).  Call first thing in main(), before any secret is
 * read; a fork (the daemon) inherits it. */
void dbb_options_protect_process(void);

G_END_DECLS
