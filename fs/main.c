/*
 * dbbackupfs — mount the database backups of a Huawei Cloud account as a read-only
 * filesystem.  See dbbackupfs(1).
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/error.h"
#include "dbb-config.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "options.h"
#include "mount.h"
#include "signals.h"
#include "source.h"
#include "unmount.h"

/* One call that proves the credentials work, before anything is mounted: IAM's project
 * list (kept, so the first `ls` does not ask again), or, when the projects are configured,
 * the first project's instances of the first service.  Only rejected credentials stop the mount:
 * an API that is down or slow at boot is reported and the mount serves EIO until it is
 * back, as a network filesystem in /etc/fstab should. */
static gboolean check_credentials(DbbMount *m, const DbbOptions *o, GError **error)
{
    g_autoptr(GError) local = NULL;
    GPtrArray *l = NULL;

    if (m->configured_projects) {
        GPtrArray *projects = m->configured_projects->projects;
        const DbbService *svc = m->n_services > 0 ? m->services[0] : NULL;

        if (projects->len == 0 || !svc)
            return TRUE;
        l = dbb_client_list_instances(m->client, svc, projects->pdata[0], &local);
    } else {
        l = dbb_client_list_projects(m->client, &local);
        if (l)
            dbb_source_prime_projects(m, g_steal_pointer(&l));
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

static DbbClient *client_new(const DbbOptions *o, GError **error)
{
    DbbClientConfig cfg = {
        .endpoint = o->endpoint,
        .service_endpoints = o->service_endpoints,
        .timeout = o->timeout,
        .max_conns = o->max_conns,
        .cafile = o->cafile,
        .credentials = &o->credentials,
        .max_records = o->max_records,
        .max_listing_bytes = o->max_listing_bytes,
        .reauth_interval = o->ttl,
        .allow_insecure_http = o->allow_insecure_http,
    };

    return dbb_client_new(&cfg, error);
}

/* What the signal thread acts on, filled in by main as the mount comes up (atomics: the
 * signal thread reads them at any time). */
typedef struct {
    DbbMount *m;
    struct fuse_session *se; /* set before mounting */
    gint looping;            /* the session loop runs, or is about to */
    DbbSignals *signals;
} Daemon;

static gboolean on_stop(int signo, gpointer data)
{
    Daemon *d = data;
    struct fuse_session *se = g_atomic_pointer_get(&d->se);

    if (!se) /* nothing mounted yet: go, as without any handler */
        dbb_signals_default_action(signo);
    fuse_session_exit(se);
    /* A loop that has not started sees the exit at once; a running one must be woken. */
    return g_atomic_int_get(&d->looping);
}

static void on_refresh(gpointer data)
{
    DbbMount *m = g_atomic_pointer_get(&((Daemon *)data)->m);

    dbb_log_reopen(); /* after logrotate moved log=PATH */
    if (m)
        dbb_mount_refresh_all(m);
}

static void on_report(gpointer data)
{
    DbbMount *m = g_atomic_pointer_get(&((Daemon *)data)->m);
    DbbMetricsSnapshot s = {0};

    if (!m)
        return;
    dbb_mount_metrics(m, &s);
    dbb_metrics_log(&s);
    dbb_metrics_snapshot_clear(&s);
}

static gboolean signals_start(Daemon *d, GError **error)
{
    static const DbbSignalHandlers handlers = {on_stop, on_refresh, on_report, NULL};
    DbbSignalHandlers h = handlers;

    h.data = d;
    d->signals = dbb_signals_start(&h, error);
    return d->signals != NULL;
}

static int serve(Daemon *d, const DbbOptions *o, struct fuse_args *args)
{
    g_autoptr(GError) error = NULL;
    DbbMount *m = d->m;
    struct fuse_session *se;
    DbbUnmountWatch *watch = NULL;
    int ret = 1;

    se = fuse_session_new(args, &dbb_ops, sizeof(dbb_ops), m);
    if (!se)
        return 1;
    m->se = se;
    g_atomic_pointer_set(&d->se, se);
    if (fuse_session_mount(se, o->mountpoint) != 0)
        goto out_destroy;
    /* Threads do not survive the fork: the signal thread ends before it and starts again
     * after (signals meanwhile stay pending, in the process that goes on). */
    dbb_signals_stop(g_steal_pointer(&d->signals));
    if (fuse_daemonize(o->foreground) != 0)
        goto out_unmount;
    dbb_log_daemonised();
    g_message("mounted on %s (pid %d)", o->mountpoint, (int)getpid());
    if (!signals_start(d, &error)) {
        g_warning("signals: %s", error->message);
        goto out_unmount;
    }
    watch = dbb_unmount_watch_start(se, m->client);
    g_atomic_int_set(&d->looping, 1);
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
    /* First: it wakes this thread until stopped. */
    dbb_signals_stop(g_steal_pointer(&d->signals));
    /* Before the unmount closes the device: the notifier must not write to a closed (and
     * maybe reused) descriptor. */
    dbb_mount_stop(m);
out_unmount:
    dbb_unmount_watch_stop(watch);
    fuse_session_unmount(se);
out_destroy:
    dbb_signals_stop(g_steal_pointer(&d->signals)); /* it holds se */
    g_atomic_pointer_set(&d->se, NULL);
    fuse_session_destroy(se); /* calls .destroy, which stops the mount's threads */
    m->se = NULL;
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
    Daemon d = {0};
    int ret = 1;

    dbb_options_protect_process();
    /* Listings are parsed on whichever thread fetched them (FUSE workers, read-ahead): with
     * one malloc arena per thread, each generation's freed memory stays in the arena that
     * parsed it and the daemon's RSS creeps up to one listing per arena.  Two arenas keep
     * memory the size of the current generation at no measurable cost on a network-bound
     * daemon. */
    mallopt(M_ARENA_MAX, 2);

    /* Before any thread exists, so that every thread inherits the mask. */
    dbb_signals_block();
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
    if (!dbb_log_setup(opts.log, opts.foreground, &error) || !signals_start(&d, &error))
        goto fail;
    if (!dbb_options_require_credentials(&opts, &error))
        goto fail;
    client = client_new(&opts, &error);
    if (!client)
        goto fail;
    dbb_credentials_clear(&opts.credentials); /* the client holds the one copy now */
    g_atomic_pointer_set(&d.m, dbb_mount_new(&opts, g_steal_pointer(&client)));
    if (!check_credentials(d.m, &opts, &error)) {
        fprintf(stderr, "dbbackupfs: the credentials (%s) were rejected: %s\n",
                opts.credentials_source ? opts.credentials_source : "?", error->message);
        goto out;
    }
    ret = serve(&d, &opts, &args);
    goto out;
fail:
    fprintf(stderr, "dbbackupfs: %s\n", error->message);
out:
    dbb_signals_stop(g_steal_pointer(&d.signals)); /* it reads d.m */
    dbb_mount_free(g_steal_pointer(&d.m));
    dbb_client_free(client);
    dbb_options_clear(&opts);
    fuse_opt_free_args(&args);
    return ret;
}
