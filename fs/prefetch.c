/*
 * dbbackupfs — listing read-ahead for directory walks.
 */
#include "prefetch.h"

#include "source.h"
#include "view.h"

/* Two sibling opens closer than this look like a walk. */
#define WALK_WINDOW_US (5 * G_USEC_PER_SEC)

typedef struct {
    char *last_instance;
    gint64 last_open;
    gpointer prefetched; /* the instance listing already read ahead (a reference) */
} WalkState;

typedef struct {
    DbbProject *project;
    const DbbService *service;
    char *instance_id;
} Job;

static void walk_state_free(gpointer p)
{
    WalkState *w = p;

    g_free(w->last_instance);
    dbb_value_unref(w->prefetched);
    g_free(w);
}

static void job_free(Job *j)
{
    dbb_project_free(j->project);
    g_free(j->instance_id);
    g_free(j);
}

static void run_job(gpointer data, gpointer user_data)
{
    Job *j = data;
    DbbFs *fs = user_data;
    g_autoptr(GError) error = NULL;
    gpointer v = dbb_source_backups(fs, j->project, j->service, j->instance_id, NULL, &error);

    /* A failure is not cached: the walk will ask again and report it. */
    if (!v)
        g_debug("read-ahead of %s/%s/%s failed: %s", j->project->id, j->service->name,
                j->instance_id, error->message);
    dbb_value_unref(v);
    job_free(j);
}

void dbb_prefetch_init(DbbFs *fs, guint threads)
{
    fs->prefetch_pool = g_thread_pool_new(run_job, fs, (gint)MAX(threads, 1), FALSE, NULL);
    fs->walks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, walk_state_free);
    g_mutex_init(&fs->walks_lock);
}

void dbb_prefetch_shutdown(DbbFs *fs)
{
    if (!fs->prefetch_pool)
        return;
    g_thread_pool_free(fs->prefetch_pool, TRUE, TRUE);
    fs->prefetch_pool = NULL;
    g_hash_table_unref(fs->walks);
    g_mutex_clear(&fs->walks_lock);
}

/* Queue the siblings of the instance directory `dir`, in listing order. */
static void queue_siblings(DbbFs *fs, const DbbIdentity *dir, DbbDirView *service_view)
{
    for (guint i = 0; i < service_view->n; i++) {
        const DbbEntry *e = &service_view->entries[i];
        Job *j;

        if (g_str_equal(e->id, dir->instance_id))
            continue;
        j = g_new0(Job, 1);
        j->project = dbb_project_copy(dir->project);
        j->service = dir->service;
        j->instance_id = g_strdup(e->id);
        g_thread_pool_push(fs->prefetch_pool, j, NULL);
    }
}

/* Is this open the second of a walk?  Updates the state; touches no listing. */
static gboolean walk_detected(DbbFs *fs, const DbbIdentity *dir)
{
    g_autofree char *key = g_strconcat(dir->project->id, "/", dir->service->name, NULL);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fs->walks_lock);
    WalkState *w = g_hash_table_lookup(fs->walks, key);
    gint64 now = g_get_monotonic_time();
    gboolean walk;

    if (!w) {
        w = g_new0(WalkState, 1);
        g_hash_table_insert(fs->walks, g_steal_pointer(&key), w);
    }
    walk = w->last_instance && !g_str_equal(w->last_instance, dir->instance_id) &&
           now - w->last_open < WALK_WINDOW_US;
    g_free(w->last_instance);
    w->last_instance = g_strdup(dir->instance_id);
    w->last_open = now;
    return walk;
}

/* Record that the instance listing behind service_view is being read ahead; FALSE when it
 * already was (the rest of the walk's opens). */
static gboolean claim_listing(DbbFs *fs, const DbbIdentity *dir, DbbDirView *service_view)
{
    g_autofree char *key = g_strconcat(dir->project->id, "/", dir->service->name, NULL);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fs->walks_lock);
    WalkState *w = g_hash_table_lookup(fs->walks, key);

    if (!w || w->prefetched == service_view->sources[0])
        return FALSE;
    dbb_value_unref(w->prefetched);
    w->prefetched = dbb_value_ref(service_view->sources[0]);
    return TRUE;
}

void dbb_prefetch_note_open(DbbFs *fs, const DbbIdentity *dir)
{
    DbbIdentity service_dir = dbb_identity_parent(dir);
    g_autoptr(DbbDirView) view = NULL;
    gint64 expires_at;

    /* Project-wide services list every backup with the service directory already. */
    if (!fs->prefetch_pool || dir->kind != DBB_NODE_INSTANCE ||
        dir->service->backup_scope != DBB_BACKUPS_PER_INSTANCE)
        return;
    if (!walk_detected(fs, dir))
        return;
    /* A walk has just read the service listing, so this costs no call. */
    view = dbb_view_get(fs, &service_dir, &expires_at, NULL);
    if (view && claim_listing(fs, dir, view))
        queue_siblings(fs, dir, view);
}
