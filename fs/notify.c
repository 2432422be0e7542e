/*
 * dbbackupfs — the notifier: one thread that tells the kernel what changed.
 */
#include "notify.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

typedef enum {
    JOB_RETIRED, /* a listing was replaced: diff every view built from it */
    JOB_DIFF,    /* one view was rebuilt */
    JOB_ALL,     /* invalidate every inode the kernel holds */
} JobKind;

typedef struct {
    JobKind kind;
    gpointer listing;
    DbbDirView *old, *cur;
} Job;

typedef struct {
    guint64 parent;
    char *name;
} EntryInval;

struct DbbNotifier {
    DbbMount *m;
    struct fuse_session *se;
    GThread *thread;
    GMutex lock;
    GCond cond;         /* new work, progress, stop */
    GQueue jobs;        /* Job * */
    GQueue stores;      /* DbbDirView *: contents to push into the page cache, when idle */
    guint64 queued;     /* jobs ever queued */
    guint64 inode_done; /* jobs whose inode invalidations are sent */
    gboolean running, stopping;
    guint64 inodes_sent, entries_sent, stored; /* atomics */
};

static void job_free(Job *j)
{
    dbb_value_unref(j->listing);
    dbb_view_unref(j->old);
    dbb_view_unref(j->cur);
    g_free(j);
}

static void entry_inval_clear(gpointer p)
{
    g_free(((EntryInval *)p)->name);
}

DbbNotifier *dbb_notifier_new(DbbMount *m)
{
    DbbNotifier *n = g_new0(DbbNotifier, 1);

    n->m = m;
    g_mutex_init(&n->lock);
    g_cond_init(&n->cond);
    g_queue_init(&n->jobs);
    g_queue_init(&n->stores);
    return n;
}

void dbb_notifier_free(DbbNotifier *n)
{
    if (!n)
        return;
    dbb_notifier_stop(n);
    g_queue_clear_full(&n->jobs, (GDestroyNotify)job_free);
    g_queue_clear_full(&n->stores, (GDestroyNotify)dbb_view_unref);
    g_cond_clear(&n->cond);
    g_mutex_clear(&n->lock);
    g_free(n);
}

/* Queue a job, or drop it when the thread is not running. */
static void push(DbbNotifier *n, Job *j)
{
    g_mutex_lock(&n->lock);
    if (n->running && !n->stopping) {
        g_queue_push_tail(&n->jobs, j);
        n->queued++;
        g_cond_broadcast(&n->cond);
        j = NULL;
    }
    g_mutex_unlock(&n->lock);
    if (j)
        job_free(j);
}

void dbb_notifier_retired(DbbNotifier *n, gpointer old_listing)
{
    Job *j;

    if (!n || !old_listing)
        return;
    j = g_new0(Job, 1);
    j->kind = JOB_RETIRED;
    j->listing = dbb_value_ref(old_listing);
    push(n, j);
}

void dbb_notifier_diff(DbbNotifier *n, DbbDirView *old, DbbDirView *current)
{
    Job *j = g_new0(Job, 1);

    j->kind = JOB_DIFF;
    j->old = old;
    j->cur = current;
    if (!n) {
        job_free(j);
        return;
    }
    push(n, j);
}

void dbb_notifier_store(DbbNotifier *n, DbbDirView *view)
{
    if (n) {
        g_mutex_lock(&n->lock);
        if (n->running && !n->stopping) {
            g_queue_push_tail(&n->stores, view);
            g_cond_broadcast(&n->cond);
            view = NULL;
        }
        g_mutex_unlock(&n->lock);
    }
    dbb_view_unref(view);
}

void dbb_notifier_all(DbbNotifier *n)
{
    Job *j;

    if (!n)
        return;
    j = g_new0(Job, 1);
    j->kind = JOB_ALL;
    push(n, j);
}

void dbb_notifier_sync(DbbNotifier *n)
{
    gint64 deadline;
    guint64 target;

    if (!n)
        return;
    g_mutex_lock(&n->lock);
    target = n->queued;
    deadline = g_get_monotonic_time() + DBB_NOTIFY_SYNC_MAX_MS * G_TIME_SPAN_MILLISECOND;
    while (n->running && !n->stopping && n->inode_done < target)
        if (!g_cond_wait_until(&n->cond, &n->lock, deadline)) {
            g_debug("notifier: still busy after %d ms; answering anyway", DBB_NOTIFY_SYNC_MAX_MS);
            break;
        }
    g_mutex_unlock(&n->lock);
}

guint64 dbb_notifier_inodes_sent(DbbNotifier *n)
{
    return n ? __atomic_load_n(&n->inodes_sent, __ATOMIC_RELAXED) : 0;
}

guint64 dbb_notifier_files_stored(DbbNotifier *n)
{
    return n ? __atomic_load_n(&n->stored, __ATOMIC_RELAXED) : 0;
}

guint64 dbb_notifier_entries_sent(DbbNotifier *n)
{
    return n ? __atomic_load_n(&n->entries_sent, __ATOMIC_RELAXED) : 0;
}

/* ---- working out what changed (no lock held) ---- */

typedef struct {
    GArray *inodes;  /* guint64 */
    GArray *entries; /* EntryInval */
} Work;

static gboolean kernel_knows(DbbNotifier *n, guint64 ino)
{
    DbbNode *node = dbb_node_table_get(n->m->nodes, ino);

    dbb_node_unref(node);
    return node != NULL;
}

static void want_inode(DbbNotifier *n, Work *w, guint64 ino)
{
    if (kernel_knows(n, ino))
        g_array_append_val(w->inodes, ino);
}

static void want_entry(DbbNotifier *n, Work *w, guint64 parent, const char *name)
{
    EntryInval e = {parent, NULL};

    if (!kernel_knows(n, parent))
        return;
    e.name = g_strdup(name);
    g_array_append_val(w->entries, e);
}

static gboolean entry_differs(const DbbEntry *a, const DbbEntry *b)
{
    if (a->atime != b->atime || a->mtime != b->mtime || a->kind != b->kind)
        return TRUE;
    if (!a->content || !b->content)
        return a->content != b->content;
    return a->content != b->content && !g_bytes_equal(a->content, b->content);
}

/* Everything in old that differs from cur (NULL: the current listings are not at hand, so
 * everything old showed is suspect). */
static void diff_views(DbbNotifier *n, Work *w, const DbbDirView *old, const DbbDirView *cur)
{
    gboolean dir_changed = FALSE;
    guint i = 0, j = 0;

    if (!cur) {
        for (i = 0; i < old->n; i++)
            want_inode(n, w, old->entries[i].ino);
        want_inode(n, w, old->dir_ino);
        return;
    }
    while (i < old->n || j < cur->n) {
        const DbbEntry *a = i < old->n ? &old->entries[i] : NULL;
        const DbbEntry *b = j < cur->n ? &cur->entries[j] : NULL;
        int c = a && b ? strcmp(a->name, b->name) : (a ? -1 : 1);

        if (c < 0 || (c == 0 && a->ino != b->ino)) { /* a vanished (or is another now) */
            want_entry(n, w, old->dir_ino, a->name);
            dir_changed = TRUE;
        } else if (c > 0) {
            dir_changed = TRUE; /* b appeared: the negative dentry is bounded by its ttl */
        } else if (entry_differs(a, b)) {
            want_inode(n, w, a->ino);
        }
        i += c <= 0;
        j += c >= 0;
    }
    if (dir_changed)
        want_inode(n, w, old->dir_ino);
}

static void expand_retired(DbbNotifier *n, Work *w, gpointer listing)
{
    g_autoptr(GPtrArray) views = dbb_view_memo_of(listing);

    for (guint i = 0; views && i < views->len; i++) {
        DbbDirView *old = views->pdata[i];
        gint64 expires_at;
        g_autoptr(DbbDirView) cur =
            dbb_view_get(n->m, &old->dir, DBB_VIEW_CACHED, &expires_at, NULL);

        diff_views(n, w, old, cur);
    }
}

static void expand_all(DbbNotifier *n, Work *w)
{
    g_autoptr(GArray) inos = dbb_node_table_inos(n->m->nodes);

    g_array_append_vals(w->inodes, inos->data, inos->len);
}

static void expand(DbbNotifier *n, Work *w, Job *j)
{
    switch (j->kind) {
    case JOB_RETIRED:
        expand_retired(n, w, j->listing);
        break;
    case JOB_DIFF:
        diff_views(n, w, j->old, j->cur);
        break;
    case JOB_ALL:
        expand_all(n, w);
        break;
    }
}

static void send_inodes(DbbNotifier *n, GArray *inodes)
{
    for (guint i = 0; i < inodes->len; i++) {
        guint64 ino = g_array_index(inodes, guint64, i);
        /* -ENOENT: the kernel forgot it meanwhile, nothing to drop */
        fuse_lowlevel_notify_inval_inode(n->se, ino, 0, 0);
        __atomic_fetch_add(&n->inodes_sent, 1, __ATOMIC_RELAXED);
    }
    g_array_set_size(inodes, 0);
}

static void send_entries(DbbNotifier *n, GArray *entries)
{
    for (guint i = 0; i < entries->len; i++) {
        EntryInval *e = &g_array_index(entries, EntryInval, i);
        fuse_lowlevel_notify_inval_entry(n->se, e->parent, e->name, strlen(e->name));
        __atomic_fetch_add(&n->entries_sent, 1, __ATOMIC_RELAXED);
    }
    g_array_set_size(entries, 0);
}

/* Called and returns with the lock held: inode work of every queued job, then (only when
 * nothing new came meanwhile) the entry work collected so far. */
static void run_batch(DbbNotifier *n, Work *w)
{
    GQueue batch = G_QUEUE_INIT;
    guint64 upto = n->queued;
    Job *j;

    while ((j = g_queue_pop_head(&n->jobs)))
        g_queue_push_tail(&batch, j);
    g_mutex_unlock(&n->lock);
    gboolean retired = FALSE;

    while ((j = g_queue_pop_head(&batch))) {
        retired |= j->kind == JOB_RETIRED;
        expand(n, w, j);
        job_free(j); /* usually the last reference to an old generation */
    }
#ifdef __GLIBC__
    /* An old generation was freed: hand its pages back, so the daemon's memory is the
     * current generation's, not the high-water mark of two interleaved ones. */
    if (retired)
        malloc_trim(0);
#endif
    send_inodes(n, w->inodes);
    g_mutex_lock(&n->lock);
    n->inode_done = upto;
    g_cond_broadcast(&n->cond);
    if (!g_queue_is_empty(&n->jobs) || w->entries->len == 0)
        return;
    g_mutex_unlock(&n->lock);
    send_entries(n, w->entries);
    g_mutex_lock(&n->lock);
}

/* Push the files of a view into the page cache, unless the view is no longer current: a
 * refresh after this point is diffed later by this same thread, so what it stores is never
 * left stale. */
static void store_view(DbbNotifier *n, DbbDirView *view)
{
    gint64 expires_at;
    g_autoptr(DbbDirView) cur = dbb_view_get(n->m, &view->dir, DBB_VIEW_CACHED, &expires_at, NULL);

    if (cur != view)
        return;
    for (guint i = 0; i < view->n; i++) {
        const DbbEntry *e = &view->entries[i];
        gsize len;
        const void *data = e->content ? g_bytes_get_data(e->content, &len) : NULL;
        struct fuse_bufvec buf = FUSE_BUFVEC_INIT(0);

        if (!data || len == 0 || !kernel_knows(n, e->ino))
            continue;
        buf.buf[0].mem = (void *)data;
        buf.buf[0].size = len;
        fuse_lowlevel_notify_store(n->se, e->ino, 0, &buf, 0);
        __atomic_fetch_add(&n->stored, 1, __ATOMIC_RELAXED);
    }
}

static gpointer notifier_thread(gpointer data)
{
    DbbNotifier *n = data;
    gint64 prune_every = MAX(n->m->ttl, G_USEC_PER_SEC);
    gint64 next_prune = g_get_monotonic_time() + prune_every;
    Work w = {
        .inodes = g_array_new(FALSE, FALSE, sizeof(guint64)),
        .entries = g_array_new(FALSE, FALSE, sizeof(EntryInval)),
    };

    g_array_set_clear_func(w.entries, entry_inval_clear);
    g_mutex_lock(&n->lock);
    while (!n->stopping) {
        if (!g_queue_is_empty(&n->jobs)) {
            run_batch(n, &w);
            continue;
        }
        if (!g_queue_is_empty(&n->stores)) { /* only when no invalidation waits */
            DbbDirView *v = g_queue_pop_head(&n->stores);
            g_mutex_unlock(&n->lock);
            store_view(n, v);
            dbb_view_unref(v);
            g_mutex_lock(&n->lock);
            continue;
        }
        if (g_cond_wait_until(&n->cond, &n->lock, next_prune))
            continue;
        /* Listings older than max_stale can no longer be served: drop them, so a
         * long-lived mount does not keep every listing it ever fetched. */
        g_mutex_unlock(&n->lock);
        dbb_cache_prune(n->m->cache);
        next_prune = g_get_monotonic_time() + prune_every;
        g_mutex_lock(&n->lock);
    }
    g_mutex_unlock(&n->lock);
    g_array_unref(w.inodes);
    g_array_unref(w.entries);
    return NULL;
}

void dbb_notifier_start(DbbNotifier *n, struct fuse_session *se)
{
    g_mutex_lock(&n->lock);
    if (!n->running) {
        n->se = se;
        n->running = TRUE;
        n->stopping = FALSE;
        n->thread = g_thread_new("dbb-notify", notifier_thread, n);
    }
    g_mutex_unlock(&n->lock);
}

void dbb_notifier_stop(DbbNotifier *n)
{
    GThread *t;

    g_mutex_lock(&n->lock);
    t = g_steal_pointer(&n->thread);
    n->stopping = TRUE;
    g_cond_broadcast(&n->cond);
    g_mutex_unlock(&n->lock);
    if (t)
        g_thread_join(t);
    g_mutex_lock(&n->lock);
    n->running = FALSE;
    g_mutex_unlock(&n->lock);
    g_queue_clear_full(&n->jobs, (GDestroyNotify)job_free);
    g_queue_init(&n->jobs);
    g_queue_clear_full(&n->stores, (GDestroyNotify)dbb_view_unref);
    g_queue_init(&n->stores);
}
