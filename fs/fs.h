/*
 * dbbackupfs — the state of one mount, shared by every FUSE worker thread.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "api/client.h"
#include "api/service.h"
#include "cache/cache.h"
#include "node.h"
#include "values.h"

G_BEGIN_DECLS

typedef struct {
    DbbClient *client;
    DbbCache *cache;
    DbbNodeTable *nodes;
    const DbbService **services; /* the services shown, sorted by name */
    guint n_services;
    DbbProjectsValue *configured_projects; /* from [project] groups, or NULL: ask IAM */
    char **project_filter;                 /* project names to show, or NULL: all */
    gint64 mount_time;                     /* wall-clock seconds: the time of directories */
    uid_t uid;
    gid_t gid;
    gint64 ttl;          /* µs */
    gint64 negative_ttl; /* µs */
    GMutex views_lock;
    GHashTable *views; /* directory ino -> DbbDirView *, the last view built */
    /* Open file and directory handles -> their free function.  The kernel does not always
     * release every handle before an unmount ends the session; these are freed then. */
    GMutex handles_lock;
    GHashTable *handles;
    /* prefetch.c: walk detection and the read-ahead workers. */
    GThreadPool *prefetch_pool;
    GMutex walks_lock;
    GHashTable *walks;
} DbbFs;

G_END_DECLS
