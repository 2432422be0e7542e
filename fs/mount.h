/*
 * dbbackupfs — one mount and everything it owns.
 *
 * A DbbMount owns the API client, the listing cache, the node table, the read-ahead, the
 * notifier and the request counters; nothing of a mount lives in a global.  Its life:
 *   dbb_mount_new()    before fuse_session_new(): no thread yet, so fuse_daemonize() may
 *                      fork safely (a GLib thread pool made before the fork hangs the
 *                      daemon on GLib >= 2.76, whose pools need a spawner thread);
 *   dbb_mount_start()  from the FUSE .init callback, after the fork: starts every thread;
 *   dbb_mount_stop()   from .destroy: stops and joins them (idempotent);
 *   dbb_mount_free()   after fuse_session_destroy().
 * Directory views are not here: they live inside the listings they were built from
 * (values.h), so memory follows the current generation.
 */
#pragma once

#include <sys/types.h>

#include <fuse_lowlevel.h>
#include <glib.h>

#include "api/client.h"
#include "api/service.h"
#include "cache/cache.h"
#include "metrics.h"
#include "node.h"
#include "options.h"
#include "values.h"

G_BEGIN_DECLS

typedef struct DbbNotifier DbbNotifier;
typedef struct DbbPrefetch DbbPrefetch;
typedef struct DbbOpStats DbbOpStats;

typedef struct DbbMount {
    DbbClient *client;
    DbbCache *cache;
    DbbNodeTable *nodes;
    DbbPrefetch *prefetch;
    DbbNotifier *notifier;
    DbbOpStats *opstats;
    char *metrics_path;          /* metrics=, or NULL */
    double metrics_interval;     /* s */
    DbbMetricsWriter *metrics;   /* its thread, from dbb_mount_start() */
    const DbbService **services; /* the services shown, sorted by name */
    guint n_services;
    DbbProjectsValue *configured_projects; /* from [project] groups, or NULL: ask IAM */
    char **project_filter;                 /* project names to show, or NULL: all */
    gint64 mount_time;                     /* wall-clock seconds: the time of directories */
    uid_t uid;
    gid_t gid;
    gint64 ttl;          /* µs */
    gint64 negative_ttl; /* µs */
    guint max_conns;
    struct fuse_session *se; /* set by main before the session loop; .init starts with it */
    /* Open directory handles -> their free function.  The kernel does not always release
     * every handle before an unmount ends the session; these are freed then. */
    GMutex handles_lock;
    GHashTable *handles;
} DbbMount;

/* Takes the client.  Starts no thread. */
DbbMount *dbb_mount_new(const DbbOptions *o, DbbClient *client);
void dbb_mount_start(DbbMount *m, struct fuse_session *se);
void dbb_mount_stop(DbbMount *m);
void dbb_mount_free(DbbMount *m);

/* A manual refresh: drop every cached listing and have the notifier invalidate the
 * attributes, pages and readdir caches of every inode the kernel holds, so the next
 * access of anything fetches afresh (a name the kernel has cached still resolves without a
 * request until its entry timeout, but whatever is then done with it asks the daemon).
 * Thread-safe and non-blocking (it takes the cache's and the notifier's locks briefly and
 * returns without waiting for the kernel), so a thread that sigwait()s may call it; it is
 * not async-signal-safe: never from a signal handler itself. */
void dbb_mount_refresh_all(DbbMount *m);

/* Every counter of the mount and its parts, for the metrics file and SIGUSR1. */
void dbb_mount_metrics(DbbMount *m, DbbMetricsSnapshot *out);

G_END_DECLS
