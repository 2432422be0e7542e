/*
 * dbbackupfs — mount the database backups of a Huawei Cloud account as a read-only
 * filesystem.  See dbbackupfs(1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/error.h"
#include "dbb-config.h"
#include "log.h"
#include "ops.h"
#include "options.h"
#include "prefetch.h"
#include "source.h"
#include "view.h"

static int compare_services(const void *a, const void *b)
{
    return strcmp((*(const DbbService *const *)a)->name, (*(const DbbService *const *)b)->name);
}

static void choose_services(DbbFs *fs, char **names)
{
    guint n = g_strv_length(names);

    fs->services = g_new0(const DbbService *, n);
    for (guint i = 0; i < n; i++) {
        const DbbService *s = dbb_service_find(names[i]);
        if (s) /* options.c validated the names */
            fs->services[fs->n_services++] = s;
    }
    qsort(fs->services, fs->n_services, sizeof(*fs->services), compare_services);
}

/* One call that proves the credentials work, before anything is mounted: IAM's project
 * list (kept, so the first `ls` does not ask again), or, when the projects are configured,
 * the first project's instances of the first service.  Only rejected credentials stop the mount:
 * an API that is down or slow at boot is reported and the mount serves EIO until it is
 * back, as a network filesystem in /etc/fstab should. */
static gboolean check_credentials(DbbFs *fs, const DbbOptions *o, GError **error)
{
    g_autoptr(GError) local = NULL;
    GPtrArray *l = NULL;

    if (fs->configured_projects) {
        GPtrArray *projects = fs->configured_projects->projects;
        const DbbService *svc = fs->n_services > 0 ? fs->services[0] : NULL;

        if (projects->len == 0 || !svc)
            return TRUE;
        l = dbb_client_list_instances(fs->client, svc, projects->pdata[0], &local);
    } else {
        l = dbb_client_list_projects(fs->client, &local);
        if (l)
            dbb_source_prime_projects(fs, g_steal_pointer(&l));
        else if (!local)
            return TRUE;
    }
    if (l)
        g_ptr_array_unref(l);
    if (!local)
        return TRUE;
    if (local->code == EACCES) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    fprintf(stderr,
            "dbbackupfs: warning: could not check the credentials (%s): %s; mounting "
            "anyway\n",
            o->credentials_source ? o->credentials_source : "?", local->message);
    return TRUE;
}

static DbbFs *fs_new(const DbbOptions *o, DbbClient *client)
{
    DbbFs *fs = g_new0(DbbFs, 1);
    DbbCacheConfig cc = {
        .ttl = (gint64)(o->ttl * G_USEC_PER_SEC),
        .max_stale = (gint64)(o->max_stale * G_USEC_PER_SEC),
        /* During an outage, a stale directory is served without asking again for a
         * while, so a walk does not wait `timeout` at every directory. */
        .error_holdoff = (gint64)(MIN(o->ttl, 10.0) * G_USEC_PER_SEC),
        .value_ref = dbb_value_ref,
        .value_unref = dbb_value_unref,
    };

    fs->client = client;
    fs->cache = dbb_cache_new(&cc);
    fs->nodes = dbb_node_table_new();
    choose_services(fs, o->services);
    if (o->configured_projects) {
        GPtrArray *copy = g_ptr_array_new_with_free_func(dbb_project_free);
        for (guint i = 0; i < o->configured_projects->len; i++)
            g_ptr_array_add(copy, dbb_project_copy(o->configured_projects->pdata[i]));
        fs->configured_projects = dbb_projects_value_new(copy);
    }
    fs->project_filter = g_strdupv(o->projects);
    fs->mount_time = g_get_real_time() / G_USEC_PER_SEC;
    fs->uid = o->has_uid ? o->uid : getuid();
    fs->gid = o->has_gid ? o->gid : getgid();
    fs->ttl = cc.ttl;
    fs->negative_ttl = (gint64)(o->negative_ttl * G_USEC_PER_SEC);
    g_mutex_init(&fs->views_lock);
    fs->views =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)dbb_view_unref);
    g_mutex_init(&fs->handles_lock);
    fs->handles = g_hash_table_new(g_direct_hash, g_direct_equal);
    dbb_prefetch_init(fs, o->max_conns);
    return fs;
}

static void fs_free(DbbFs *fs)
{
    GHashTableIter it;
    gpointer handle, free_func;

    dbb_prefetch_shutdown(fs);
    g_hash_table_iter_init(&it, fs->handles);
    while (g_hash_table_iter_next(&it, &handle, &free_func))
        ((GDestroyNotify)free_func)(handle);
    g_hash_table_unref(fs->handles);
    g_mutex_clear(&fs->handles_lock);
    g_hash_table_unref(fs->views);
    g_mutex_clear(&fs->views_lock);
    dbb_node_table_free(fs->nodes);
    dbb_cache_free(fs->cache);
    dbb_value_unref(fs->configured_projects);
    g_strfreev(fs->project_filter);
    g_free(fs->services);
    g_free(fs);
}

static DbbClient *client_new(const DbbOptions *o, GError **error)
{
    DbbClientConfig cfg = {
        .endpoint = o->endpoint,
        .service_endpoints = o->service_endpoints,
        .timeout = o->timeout,
        .max_conns = o->max_conns,
        .cafile = o->cafile,
        .credentials = &o->credentials,
    };

    return dbb_client_new(&cfg, error);
}

static int serve(DbbFs *fs, const DbbOptions *o, struct fuse_args *args)
{
    struct fuse_session *se;
    int ret = 1;

    se = fuse_session_new(args, &dbb_ops, sizeof(dbb_ops), fs);
    if (!se)
        return 1;
    if (fuse_set_signal_handlers(se) != 0)
        goto out_destroy;
    if (fuse_session_mount(se, o->mountpoint) != 0)
        goto out_signals;
    if (fuse_daemonize(o->foreground) != 0)
        goto out_unmount;
    if (!o->foreground)
        dbb_log_use_syslog();
    if (o->singlethread) {
        ret = fuse_session_loop(se);
    } else {
        struct fuse_loop_config *lc = fuse_loop_cfg_create();
        /* Operations block on API calls; enough threads that 16 parallel `ls -lR` never
         * wait for each other, while max_conns bounds what reaches the cloud. */
        fuse_loop_cfg_set_max_threads(lc, 64);
        fuse_loop_cfg_set_idle_threads(lc, 8);
        ret = fuse_session_loop_mt(se, lc);
        fuse_loop_cfg_destroy(lc);
    }
out_unmount:
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out_destroy:
    fuse_session_destroy(se);
    /* The loop returns the signal that ended it: an unmount asked for, not a failure. */
    if (ret == SIGINT || ret == SIGTERM || ret == SIGHUP)
        ret = 0;
    return ret ? 1 : 0;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    g_autoptr(GError) error = NULL;
    DbbOptions opts;
    DbbClient *client = NULL;
    DbbFs *fs = NULL;
    int ret = 1;

    memset(&opts, 0, sizeof(opts));
    dbb_log_init(FALSE);
    if (!dbb_options_load(&opts, &args, &error)) {
        fprintf(stderr, "dbbackupfs: %s\n", error->message);
        goto out;
    }
    if (opts.show_help) {
        dbb_options_print_help(argv[0]);
        ret = 0;
        goto out;
    }
    if (opts.show_version) {
        dbb_options_print_version();
        ret = 0;
        goto out;
    }
    dbb_log_init(opts.debug);
    if (!dbb_options_require_credentials(&opts, &error))
        goto fail;
    client = client_new(&opts, &error);
    if (!client)
        goto fail;
    fs = fs_new(&opts, client);
    if (!check_credentials(fs, &opts, &error)) {
        fprintf(stderr, "dbbackupfs: the credentials (%s) were rejected: %s\n",
                opts.credentials_source ? opts.credentials_source : "?", error->message);
        goto out;
    }
    ret = serve(fs, &opts, &args);
    goto out;
fail:
    fprintf(stderr, "dbbackupfs: %s\n", error->message);
out:
    if (fs)
        fs_free(fs);
    dbb_client_free(client);
    dbb_options_clear(&opts);
    fuse_opt_free_args(&args);
    return ret;
}
