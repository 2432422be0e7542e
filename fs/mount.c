/*
 * dbbackupfs — one mount and everything it owns.
 */
#include "mount.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"
#include "opstats.h"
#include "prefetch.h"

static int compare_services(const void *a, const void *b)
{
    return strcmp((*(const DbbService *const *)a)->name, (*(const DbbService *const *)b)->name);
}

static void choose_services(DbbMount *m, char **names)
{
    guint n = g_strv_length(names);

    m->services = g_new0(const DbbService *, n);
    for (guint i = 0; i < n; i++) {
        const DbbService *s = dbb_service_find(names[i]);
        if (s) /* options.c validated the names */
            m->services[m->n_services++] = s;
    }
    if (m->n_services > 1)
        qsort(m->services, m->n_services, sizeof(*m->services), compare_services);
}

/* The cache's hook: a listing generation ends; the notifier diffs what was built from it. */
static void listing_replaced(const char *key, gpointer old, gpointer new_value, gpointer data)
{
    DbbMount *m = data;

    dbb_notifier_retired(m->notifier, old);
}

static void copy_configured_projects(DbbMount *m, GPtrArray *configured)
{
    GPtrArray *copy = g_ptr_array_new_with_free_func(dbb_project_free);

    for (guint i = 0; i < configured->len; i++)
        g_ptr_array_add(copy, dbb_project_copy(configured->pdata[i]));
    m->configured_projects = dbb_projects_value_new(copy);
}

DbbMount *dbb_mount_new(const DbbOptions *o, DbbClient *client)
{
    DbbMount *m = g_new0(DbbMount, 1);
    DbbCacheConfig cc = {
        .ttl = (gint64)(o->ttl * G_USEC_PER_SEC),
        .max_stale = (gint64)(o->max_stale * G_USEC_PER_SEC),
        /* During an outage, a stale directory is served without asking again for a
         * while, so a walk does not wait `timeout` at every directory. */
        .error_holdoff = (gint64)(MIN(o->ttl, 10.0) * G_USEC_PER_SEC),
        .value_ref = dbb_value_ref,
        .value_unref = dbb_value_unref,
        .replaced = listing_replaced,
        .replaced_data = m,
        /* A caller waiting for another's listing waits no longer than that listing may
         * take. */
        .wait_timeout = dbb_client_listing_timeout(client) + G_USEC_PER_SEC,
        .value_size = dbb_value_size,
    };

    m->client = client;
    m->cache = dbb_cache_new(&cc);
    m->nodes = dbb_node_table_new();
    m->max_conns = MAX(o->max_conns, 1);
    m->notifier = dbb_notifier_new(m);
    m->prefetch = dbb_prefetch_new(m, m->max_conns);
    m->opstats = dbb_opstats_new();
    m->metrics_path = g_strdup(o->metrics);
    m->metrics_interval = o->metrics_interval;
    choose_services(m, o->services);
    if (o->configured_projects)
        copy_configured_projects(m, o->configured_projects);
    m->project_filter = g_strdupv(o->projects);
    m->mount_time = g_get_real_time() / G_USEC_PER_SEC;
    m->uid = o->has_uid ? o->uid : getuid();
    m->gid = o->has_gid ? o->gid : getgid();
    m->ttl = cc.ttl;
    m->negative_ttl = (gint64)(o->negative_ttl * G_USEC_PER_SEC);
    g_mutex_init(&m->handles_lock);
    m->handles = g_hash_table_new(g_direct_hash, g_direct_equal);
    return m;
}

static void collect_metrics(DbbMetricsSnapshot *out, gpointer data)
{
    dbb_mount_metrics(data, out);
}

void dbb_mount_start(DbbMount *m, struct fuse_session *se)
{
    dbb_notifier_start(m->notifier, se);
    dbb_prefetch_start(m->prefetch);
    if (m->metrics_path && !m->metrics)
        m->metrics =
            dbb_metrics_writer_start(m->metrics_path, m->metrics_interval, collect_metrics, m);
}

void dbb_mount_stop(DbbMount *m)
{
    dbb_prefetch_stop(m->prefetch);
    dbb_notifier_stop(m->notifier);
    /* Last: the file written at exit holds everything counted. */
    dbb_metrics_writer_stop(g_steal_pointer(&m->metrics));
}

void dbb_mount_refresh_all(DbbMount *m)
{
    dbb_cache_clear(m->cache);
    dbb_notifier_all(m->notifier);
}

void dbb_mount_metrics(DbbMount *m, DbbMetricsSnapshot *out)
{
    DbbNamedCount inval[] = {{"inode", dbb_notifier_inodes_sent(m->notifier)},
                             {"entry", dbb_notifier_entries_sent(m->notifier)}};

    dbb_client_stats(m->client, &out->api);
    dbb_cache_stats(m->cache, &out->cache);
    out->fuse_requests = g_array_sized_new(FALSE, FALSE, sizeof(DbbNamedCount), DBB_OP_N_OPS);
    for (int op = 0; op < DBB_OP_N_OPS; op++) {
        DbbNamedCount c = {dbb_opstats_name(op), dbb_opstats_get(m->opstats, op)};
        g_array_append_val(out->fuse_requests, c);
    }
    out->invalidations = g_array_new(FALSE, FALSE, sizeof(DbbNamedCount));
    g_array_append_vals(out->invalidations, inval, G_N_ELEMENTS(inval));
    out->inodes = dbb_node_table_size(m->nodes);
    out->resident_bytes = dbb_metrics_resident_bytes();
}

void dbb_mount_free(DbbMount *m)
{
    GHashTableIter it;
    gpointer handle, free_func;

    if (!m)
        return;
    dbb_mount_stop(m);
    g_hash_table_iter_init(&it, m->handles);
    while (g_hash_table_iter_next(&it, &handle, &free_func))
        ((GDestroyNotify)free_func)(handle);
    g_hash_table_unref(m->handles);
    g_mutex_clear(&m->handles_lock);
    dbb_prefetch_free(m->prefetch);
    dbb_cache_free(m->cache); /* the listings, and the views inside them */
    dbb_notifier_free(m->notifier);
    dbb_node_table_free(m->nodes);
    dbb_value_unref(m->configured_projects);
    dbb_opstats_free(m->opstats);
    g_free(m->metrics_path);
    g_strfreev(m->project_filter);
    g_free(m->services);
    dbb_client_free(m->client);
    g_free(m);
}
