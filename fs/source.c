/*
 * dbbackupfs — cache keys and the fetches behind them.
 */
#include "source.h"

#include <errno.h>
#include <string.h>

#include "api/error.h"

typedef struct {
    DbbMount *m;
    const DbbProject *project;
    const DbbService *service;
    const char *instance_id;
    GPtrArray *primed; /* dbb_source_prime_projects() */
} FetchCtx;

/* Keys read well in log lines; the instance ID, the only free-form part that can hold a
 * '/', always comes last, so they stay unambiguous. */
#define SEP "/"

static gpointer fetch_projects(const char *key, gpointer data, GError **error)
{
    FetchCtx *c = data;
    GPtrArray *list;

    if (c->primed)
        return dbb_projects_value_new(g_steal_pointer(&c->primed));
    list = dbb_client_list_projects(c->m->client, error);
    return list ? dbb_projects_value_new(list) : NULL;
}

static gpointer fetch_instances(const char *key, gpointer data, GError **error)
{
    FetchCtx *c = data;
    GPtrArray *list = dbb_client_list_instances(c->m->client, c->service, c->project, error);

    return list ? dbb_instances_value_new(list) : NULL;
}

/* The backups the last instance listing carries for an instance it no longer lists (see
 * DbbInstance.backups), copied; NULL for a listed instance, or when no instance listing
 * can be had (the instance's own listing then decides).  Such instances come last. */
static GPtrArray *carried_backups(FetchCtx *c)
{
    g_autoptr(GError) error = NULL;
    DbbInstancesValue *v =
        dbb_source_instances(c->m, c->project, c->service, DBB_SOURCE_LAST, NULL, &error);
    GPtrArray *copy = NULL;

    for (guint i = v ? v->instances->len : 0; i > 0 && !copy; i--) {
        const DbbInstance *in = v->instances->pdata[i - 1];

        if (!in->backups)
            break;
        if (strcmp(in->id, c->instance_id) != 0)
            continue;
        copy = g_ptr_array_new_full(in->backups->len, dbb_backup_free);
        for (guint j = 0; j < in->backups->len; j++)
            g_ptr_array_add(copy, dbb_backup_copy(in->backups->pdata[j]));
    }
    dbb_value_unref(v);
    return copy;
}

static gpointer fetch_backups(const char *key, gpointer data, GError **error)
{
    FetchCtx *c = data;
    GPtrArray *list = c->instance_id ? carried_backups(c) : NULL;

    if (!list)
        list = dbb_client_list_backups(c->m->client, c->service, c->project, c->instance_id, error);
    return list ? dbb_backups_value_new(list, dbb_client_max_listing_bytes(c->m->client), error)
                : NULL;
}

static gpointer get(DbbMount *m, const char *key, DbbCacheFetchFunc fetch, FetchCtx *ctx,
                    DbbSourceMode mode, gint64 *expires_at, GError **error)
{
    DbbCacheInfo info;
    gpointer v = NULL;

    if (mode != DBB_SOURCE_FRESH)
        v = dbb_cache_peek_stale(m->cache, key, &info);
    if (!v && mode == DBB_SOURCE_CACHED) {
        g_set_error(error, G_FILE_ERROR, EAGAIN, "%s is not cached", key);
        return NULL;
    }
    if (!v)
        v = dbb_cache_get(m->cache, key, fetch, ctx, &info, error);

    if (v && expires_at)
        *expires_at = info.expires_at;
    return v;
}

DbbProjectsValue *dbb_source_projects(DbbMount *m, DbbSourceMode mode, gint64 *expires_at,
                                      GError **error)
{
    FetchCtx ctx = {.m = m};

    if (m->configured_projects) {
        if (expires_at)
            *expires_at = dbb_cache_now(m->cache) + m->ttl;
        return dbb_value_ref(m->configured_projects);
    }
    return get(m, "projects", fetch_projects, &ctx, mode, expires_at, error);
}

void dbb_source_prime_projects(DbbMount *m, GPtrArray *projects)
{
    FetchCtx ctx = {.m = m, .primed = projects};
    g_autoptr(GError) error = NULL;
    gpointer v = dbb_cache_get(m->cache, "projects", fetch_projects, &ctx, NULL, &error);

    dbb_value_unref(v);
    if (ctx.primed) /* the cache already had a value */
        g_ptr_array_unref(ctx.primed);
}

DbbInstancesValue *dbb_source_instances(DbbMount *m, const DbbProject *project,
                                        const DbbService *service, DbbSourceMode mode,
                                        gint64 *expires_at, GError **error)
{
    FetchCtx ctx = {.m = m, .project = project, .service = service};
    g_autofree char *key = g_strconcat("instances" SEP, project->id, SEP, service->name, NULL);

    return get(m, key, fetch_instances, &ctx, mode, expires_at, error);
}

static char *backups_key(const DbbProject *project, const DbbService *service,
                         const char *instance_id)
{
    return g_strconcat("backups" SEP, project->id, SEP, service->name, instance_id ? SEP : NULL,
                       instance_id, NULL);
}

gboolean dbb_source_backups_fresh(DbbMount *m, const DbbProject *project, const DbbService *service,
                                  const char *instance_id)
{
    g_autofree char *key = backups_key(project, service, instance_id);
    gpointer v = dbb_cache_peek(m->cache, key, NULL);

    dbb_value_unref(v);
    return v != NULL;
}

DbbBackupsValue *dbb_source_backups(DbbMount *m, const DbbProject *project,
                                    const DbbService *service, const char *instance_id,
                                    DbbSourceMode mode, gint64 *expires_at, GError **error)
{
    FetchCtx ctx = {.m = m, .project = project, .service = service, .instance_id = instance_id};
    g_autofree char *key = backups_key(project, service, instance_id);

    return get(m, key, fetch_backups, &ctx, mode, expires_at, error);
}
