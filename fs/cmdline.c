/*
 * dbbackupfs — the command line (options.h).
 *
 * One fuse_opt_parse() pass sorts argv into our own options (kept as text, applied by
 * options.c), FUSE's flags, the mount point, and the -o options fuse_session_new() should see.
 */
#include "fs/options_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    KEY_OWN,
    KEY_HELP,
    KEY_VERSION,
    KEY_FOREGROUND,
    KEY_DEBUG,
    KEY_SINGLETHREAD,
    KEY_FSNAME,
    KEY_SUBTYPE,
    KEY_ALLOW_INSECURE_HTTP,
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
    OWN("max_records"),
    OWN("max_listing_bytes"),
    OWN("timeout"),
    OWN("cafile"),
    OWN("metrics"),
    OWN("metrics_interval"),
    OWN("log"),
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
    FUSE_OPT_KEY("allow_insecure_http", KEY_ALLOW_INSECURE_HTTP),
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

/* The -o options libfuse 3.14's fuse_session_new() accepts (lib/fuse_lowlevel.c fuse_ll_opts
 * and lib/mount.c fuse_mount_opts, less those consumed above); a name ending in '=' takes a
 * value.  Anything else is refused here: libfuse would print the whole option, value and
 * all, and a mistyped "-o sk=SECRET" must not reach a terminal or a log. */
static const char *const fuse_known[] = {
    "allow_other",  "allow_root", "auto_unmount", "blkdev",      "default_permissions",
    "max_read=",    "blksize=",   "context=",     "fscontext=",  "defcontext=",
    "rootcontext=", "suid",       "nosuid",       "dev",         "nodev",
    "exec",         "noexec",     "async",        "sync",        "dirsync",
    "atime",        "noatime",    "diratime",     "nodiratime",  "lazytime",
    "nolazytime",   "relatime",   "norelatime",   "strictatime", "nostrictatime",
};

static gboolean fuse_knows(const char *arg)
{
    const char *eq = strchr(arg, '=');
    gsize n = eq ? (gsize)(eq - arg) + 1 : strlen(arg);

    for (gsize i = 0; i < G_N_ELEMENTS(fuse_known); i++) {
        const char *k = fuse_known[i];
        if (strlen(k) == n && strncmp(arg, k, n) == 0 && (eq != NULL) == (k[n - 1] == '='))
            return TRUE;
    }
    return FALSE;
}

/* An -o option or dash argument that no template matched.  Only its name is ever shown. */
static int other_option(CmdLine *cl, const char *arg)
{
    int name_len = (int)strcspn(arg, "=");

    if (g_str_has_prefix(arg, "x-"))
        return 0; /* fstab comments for systemd and friends */
    if (arg[0] != '-' && opt_own_option_find(arg) != NULL)
        return usage_error(cl, g_strdup_printf("option '%s' needs a value: -o %s=...", arg, arg));
    if (arg[0] != '-' && fuse_knows(arg))
        return 1; /* fuse_session_new() takes it */
    return usage_error(cl, g_strdup_printf("unknown option '%.*s'%s (see --help)", name_len, arg,
                                           arg[name_len] == '=' ? " (value not shown)" : ""));
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
    case KEY_ALLOW_INSECURE_HTTP:
        cl->allow_insecure_http = TRUE;
        return 0;
    case FUSE_OPT_KEY_NONOPT:
        g_ptr_array_add(cl->nonopts, g_strdup(arg));
        return 0;
    default:
        return other_option(cl, arg);
    }
}

void opt_cmdline_clear(CmdLine *cl)
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

gboolean opt_cmdline_parse(CmdLine *cl, struct fuse_args *args, GError **error)
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
gboolean opt_choose_mountpoint(DbbOptions *o, GPtrArray *nonopts, GError **error)
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
