/*
 * The option targets' setting: a private directory holding the mount point and the config
 * file, no credentials in the environment and no user config file to find.
 */
#pragma once

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "fs/options.h"

static char *fuzz_dir, *fuzz_mnt, *fuzz_config;

static inline void fuzz_options_setup(void)
{
    static const char *const vars[] = {
        "HUAWEICLOUD_SDK_AK",        "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_DOMAIN_ID", "DBBACKUPFS_TOKEN",   "DBBACKUPFS_PASSWORD",
        "DBBACKUPFS_USER",           "DBBACKUPFS_DOMAIN",
    };

    fuzz_dir = g_dir_make_tmp("dbb-fuzz-XXXXXX", NULL);
    if (fuzz_dir == NULL)
        abort();
    fuzz_mnt = g_build_filename(fuzz_dir, "mnt", NULL);
    fuzz_config = g_build_filename(fuzz_dir, "config", NULL);
    g_mkdir(fuzz_mnt, 0700);
    for (gsize i = 0; i < G_N_ELEMENTS(vars); i++)
        g_unsetenv(vars[i]);
    g_setenv("XDG_CONFIG_HOME", fuzz_dir, TRUE);
    g_setenv("HOME", fuzz_dir, TRUE);
}

/* dbb_options_load() on argv; its promise: TRUE, or FALSE with an error and opts cleared. */
static inline void fuzz_options_load(char **argv, int argc)
{
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    DbbOptions opts;
    GError *error = NULL;
    gboolean ok;

    /* fuse_opt_parse() replaces args with its own copy: both are freed here. */
    char **copy = g_new0(char *, argc + 1);

    for (int i = 0; i < argc; i++)
        copy[i] = g_strdup(argv[i]);
    args.argc = argc;
    args.argv = copy;
    args.allocated = 0;
    ok = dbb_options_load(&opts, &args, &error);
    if (ok == (error != NULL))
        abort();
    if (ok)
        dbb_options_clear(&opts);
    g_clear_error(&error);
    if (args.argv != copy)
        fuse_opt_free_args(&args);
    g_strfreev(copy);
}
