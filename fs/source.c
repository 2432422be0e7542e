/*
 * dbbackupfs — cache keys and the fetches behind them.
 */
#include "source.h"

#include <errno.h>

#include "api/error.h"

typedef struct {
    DbbFs *fs;
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
    list = dbb_client_list_projects(c->fs->client, error);
    return list ? dbb_projects_value_new(list) : NULL;
}

static gpointer fetch_instances(const char *key, gpointer data, GError **error)
{
    FetchCtx *c = data;
    GPtrArray *list = dbb_client_list_instances(c->fs->client, c->service, c->project, error);

    return list ? dbb_instances_value_new(list) : NULL;
}

static gpointer fetch_backups(const char *key, gpointer data, GError **error)
{
    FetchCtx *c = data;
    GPtrArray *list =
        dbb_client_list_backups(c->fs->client, c->service, c->project, c->instance_id, error);

    return list ? dbb_backups_value_new(list) : NULL;
}

static gpointer get(DbbFs *fs, const char *key, DbbCacheFetchFunc fetch, FetchCtx *ctx,
                    gint64 *expires_at, GError **error)
{
    static gint calls;
    DbbCacheInfo info;
    gpointer v;

    /* Listings that can no longer be served (older than max_stale) are dropped now and
     * then, so a long-lived mount does not keep every listing it ever fetched. */
    if (g_atomic_int_add(&calls, 1) % 4096 == 4095)
        dbb_cache_prune(fs->cache);
    v = dbb_cache_get(fs->cache, key, fetch, ctx, &info, error);

    if (v && expires_at)
        *expires_at = info.expires_at;
    return v;
}

DbbProjectsValue *dbb_source_projects(DbbFs *fs, gint64 *expires_at, GError **error)
{
    FetchCtx ctx = {.fs = fs};

    if (fs->configured_projects) {
        if (expires_at)
            *expires_at = dbb_cache_now(fs->cache) + fs->ttl;
        return dbb_value_ref(fs->configured_projects);
    }
    return get(fs, "projects", fetch_projects, &ctx, expires_at, error);
}

void dbb_source_prime_projects(DbbFs *fs, GPtrArray *projects)
{
    FetchCtx ctx = {.fs = fs, .primed = projects};
    g_autoptr(GError) error = NULL;
    gpointer v = dbb_cache_get(fs->cache, "projects", fetch_projects, &ctx, NULL, &error);

    dbb_value_unref(v);
    if (ctx.primed) /* the cache already had a value */
        g_ptr_array_unref(ctx.primed);
}

DbbInstancesValue *dbb_source_instances(DbbFs *fs, const DbbProject *project,
                                        const DbbService *service, gint64 *expires_at,
                                        GError **error)
{
    FetchCtx ctx = {.fs = fs, .project = project, .service = service};
    g_autofree char *key = g_strconcat("instances" SEP, project->id, SEP, service->name, NULL);

    return get(fs, key, fetch_instances, &ctx, expires_at, error);
}

DbbBackupsValue *dbb_source_backups(DbbFs *fs, const DbbProject *project, const DbbService *service,
                                    const char *instance_id, gint64 *expires_at, GError **error)
{
    FetchCtx ctx = {.fs = fs, .project = project, .service = service, .instance_id = instance_id};
    g_autofree char *key = g_strconcat("backups" SEP, project->id, SEP, service->name,
                                       instance_id ? SEP : NULL, instance_id, NULL);

    return get(fs, key, fetch_backups, &ctx, expires_at, error);
}
