/*
 * dbbackupfs — listing read-ahead for directory walks.
 */
#include "prefetch.h"

#include "api/priority.h"
#include "source.h"
#include "view.h"

/* Where a walk over the children of one directory stands.  `listing` only tells whether
 * the parent's listing changed since; it is never dereferenced and pins nothing. */
typedef struct {
    gconstpointer listing;
    gint last;       /* index of the child opened last, or -1 */
    gint ahead;      /* children up to this index have been queued */
    gboolean listed; /* the kernel read the listing to its end */
} Walk;

typedef struct {
    DbbIdentity dir;       /* owned strings */
    gboolean backups_only; /* a service's project-wide backup listing */
    guint64 rank;          /* its requests' priority: behind demand, earlier jobs first */
} Job;

struct DbbPrefetch {
    DbbMount *m;
    guint threads;
    GThreadPool *pool;
    GMutex lock;
    GHashTable *walks; /* parent directory ino -> Walk * */
    guint64 queued;    /* jobs made so far (under lock): the next one's rank */
};

static void job_free(Job *j)
{
    if (j->dir.project)
        dbb_project_free((DbbProject *)j->dir.project);
    g_free((char *)j->dir.instance_id);
    g_free(j);
}

/* The lock held. */
static Job *job_new(DbbPrefetch *p, const DbbIdentity *dir)
{
    Job *j = g_new0(Job, 1);

    /* Jobs are made in the walk's order, so the listing it needs first gets the connections
     * first instead of all of them finishing late together. */
    j->rank = ++p->queued;
    j->dir = *dir;
    j->dir.project = dir->project ? dbb_project_copy(dir->project) : NULL;
    j->dir.instance_id = g_strdup(dir->instance_id);
    j->dir.backup_id = NULL;
    return j;
}

/* Only directories with listings of their own are worth a job. */
static gboolean has_own_listing(const DbbIdentity *dir)
{
    return dir->kind == DBB_NODE_SERVICE ||
           (dir->kind == DBB_NODE_INSTANCE &&
            dir->service->backup_scope == DBB_BACKUPS_PER_INSTANCE);
}

static void queue(DbbPrefetch *p, const DbbIdentity *dir)
{
    if (dir->kind == DBB_NODE_PROJECT) { /* its services' listings */
        DbbMount *m = p->m;
        for (guint i = 0; i < m->n_services; i++) {
            DbbIdentity s = *dir;
            s.kind = DBB_NODE_SERVICE;
            s.service = m->services[i];
            queue(p, &s);
        }
        return;
    }
    if (has_own_listing(dir))
        g_thread_pool_push(p->pool, job_new(p, dir), NULL);
}

static Walk *walk_of(DbbPrefetch *p, guint64 parent, gconstpointer listing);
static gconstpointer listing_of(DbbPrefetch *p, const DbbDirView *view);

/* A walk is about to enter the service directory dir, whose view the read-ahead just
 * fetched: its first instance directories' listings come next, so start them now (the
 * walk's own steps then continue the window from there). */
static void descend(DbbPrefetch *p, const DbbIdentity *dir, const DbbDirView *view)
{
    g_autoptr(GMutexLocker) locker = NULL;
    Walk *w;
    gint to;

    if (dir->kind != DBB_NODE_SERVICE || dir->service->backup_scope != DBB_BACKUPS_PER_INSTANCE)
        return;
    locker = g_mutex_locker_new(&p->lock);
    w = walk_of(p, dbb_identity_ino(dir), listing_of(p, view));
    if (w->ahead >= 0 || !p->pool)
        return;
    to = MIN((gint)view->n, (gint)p->threads) - 1;
    w->ahead = to;
    for (gint i = 0; i <= to; i++) {
        DbbIdentity child = dbb_entry_identity(dir, &view->entries[i]);
        queue(p, &child);
    }
}

static gboolean stopping(DbbPrefetch *p)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&p->lock);

    return p->pool == NULL;
}

static void run_job(gpointer data, gpointer user_data)
{
    Job *j = data;
    DbbPrefetch *p = user_data;
    g_autoptr(GError) error = NULL;
    gint64 expires_at;
    gpointer v;

    if (stopping(p)) { /* dbb_prefetch_stop() drains the queue through here */
        job_free(j);
        return;
    }
    dbb_priority_set(j->rank);
    /* Building the view too takes that work off the walk's path. */
    v = j->backups_only ? (gpointer)dbb_source_backups(p->m, j->dir.project, j->dir.service, NULL,
                                                       DBB_SOURCE_FRESH, NULL, &error)
                        : dbb_view_get(p->m, &j->dir, DBB_VIEW_FRESH, &expires_at, &error);

    /* A failure is not cached: the walk will ask again and report it. */
    if (!v)
        g_debug("read-ahead of %s/%s/%s failed: %s", j->dir.project->id, j->dir.service->name,
                j->dir.instance_id ? j->dir.instance_id : "", error->message);
    if (j->backups_only) {
        dbb_value_unref(v);
    } else if (v) {
        descend(p, &j->dir, v);
        dbb_view_unref(v);
    }
    job_free(j);
}

DbbPrefetch *dbb_prefetch_new(DbbMount *m, guint threads)
{
    DbbPrefetch *p = g_new0(DbbPrefetch, 1);

    p->m = m;
    p->threads = MAX(threads, 1);
    g_mutex_init(&p->lock);
    p->walks = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    return p;
}

void dbb_prefetch_start(DbbPrefetch *p)
{
    g_mutex_lock(&p->lock);
    if (!p->pool) /* exclusive: its threads exist now, none is spawned on demand later */
        p->pool = g_thread_pool_new(run_job, p, (gint)p->threads, TRUE, NULL);
    g_mutex_unlock(&p->lock);
}

void dbb_prefetch_stop(DbbPrefetch *p)
{
    GThreadPool *pool;

    g_mutex_lock(&p->lock);
    pool = g_steal_pointer(&p->pool);
    g_mutex_unlock(&p->lock);
    /* Not `immediate`: that would drop the queued jobs unfreed; they are freed unrun. */
    if (pool)
        g_thread_pool_free(pool, FALSE, TRUE);
}

void dbb_prefetch_free(DbbPrefetch *p)
{
    if (!p)
        return;
    dbb_prefetch_stop(p);
    g_hash_table_unref(p->walks);
    g_mutex_clear(&p->lock);
    g_free(p);
}

/* The walk state of parent for its listing `listing`; the lock held. */
static Walk *walk_of(DbbPrefetch *p, guint64 parent, gconstpointer listing)
{
    Walk *w = g_hash_table_lookup(p->walks, &parent);

    if (!w) {
        w = g_new0(Walk, 1);
        g_hash_table_insert(p->walks, g_memdup2(&parent, sizeof(parent)), w);
    }
    if (w->listing != listing) {
        w->listing = listing;
        w->last = w->ahead = -1;
        w->listed = FALSE;
    }
    return w;
}

static gconstpointer listing_of(DbbPrefetch *p, const DbbDirView *view)
{
    /* A project directory's view is rebuilt on each use, from the fixed services. */
    return view->sources[0] ? view->sources[0] : (gconstpointer)p->m->services;
}

void dbb_prefetch_note_listed(DbbPrefetch *p, const DbbIdentity *dir, const DbbDirView *view)
{
    if (!p)
        return;
    g_mutex_lock(&p->lock);
    walk_of(p, dbb_identity_ino(dir), listing_of(p, view))->listed = TRUE;
    g_mutex_unlock(&p->lock);
}

void dbb_prefetch_backups(DbbPrefetch *p, const DbbIdentity *service_dir)
{
    Job *j;

    if (!p)
        return;
    g_mutex_lock(&p->lock);
    if (p->pool) {
        j = job_new(p, service_dir);
        /* Half of the service directory's listing: as urgent as the job (or the walk's
         * demand) that needs it, not behind the jobs queued meanwhile. */
        j->rank = MIN(j->rank, dbb_priority_get());
        j->backups_only = TRUE;
        g_thread_pool_push(p->pool, j, NULL);
    }
    g_mutex_unlock(&p->lock);
}

static void step_locked(DbbPrefetch *p, guint64 parent, gconstpointer listing, gint n, gint idx,
                        gint self, gint *from, gint *to)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&p->lock);
    Walk *w = walk_of(p, parent, listing);

    *from = 1;
    *to = 0;
    if ((w->last >= 0 && idx == w->last + 1) || (w->last < 0 && w->listed)) {
        *from = MAX(idx + 1 - self, w->ahead + 1);
        *to = MIN(n - 1, idx + (gint)p->threads);
        w->ahead = MAX(w->ahead, *to);
    }
    w->last = idx;
}

/* Updates the walk over parent's children for an open of child idx; returns the range of
 * children to queue, [*from, *to] (empty when *from > *to). */
static void step(DbbPrefetch *p, const DbbIdentity *dir, guint64 parent, const DbbDirView *pview,
                 gint idx, gint *from, gint *to)
{
    /* The services of the project being entered are worth fetching side by side too; any
     * other directory's own listing is being fetched by the open itself. */
    gint self = dir->kind == DBB_NODE_PROJECT ? 1 : 0;

    step_locked(p, parent, listing_of(p, pview), (gint)pview->n, idx, self, from, to);
}

void dbb_prefetch_note_open(DbbPrefetch *p, const DbbIdentity *dir)
{
    DbbIdentity parent = dbb_identity_parent(dir);
    g_autoptr(DbbDirView) pview = NULL;
    const DbbEntry *e;
    gint64 expires_at;
    gint from, to;

    if (!p || !p->pool || dir->kind == DBB_NODE_ROOT || dir->kind == DBB_NODE_BACKUP)
        return;
    /* The walk has just read the parent's listing: no call (and none if it has not). */
    pview = dbb_view_get(p->m, &parent, DBB_VIEW_CACHED, &expires_at, NULL);
    if (!pview || !(e = dbb_view_find_ino(pview, dbb_identity_ino(dir))))
        return;
    step(p, dir, dbb_identity_ino(&parent), pview, (gint)(e - pview->entries), &from, &to);
    for (gint i = from; i <= to; i++) {
        DbbIdentity child = dbb_entry_identity(&parent, &pview->entries[i]);
        g_mutex_lock(&p->lock);
        if (p->pool)
            queue(p, &child);
        g_mutex_unlock(&p->lock);
    }
}
