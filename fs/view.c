/*
 * dbbackupfs — directory views.
 */
#include "view.h"

#include <string.h>

#include "names.h"
#include "notify.h"
#include "prefetch.h"
#include "source.h"

/* The directory name of a group of backups that carry no instance_id at all: they are
 * still shown (an audit must not lose a backup), under a name no real ID has. */
#define NO_INSTANCE_ID "no-instance-id"

static void view_free(DbbDirView *v)
{
    for (guint i = 0; i < v->n; i++)
        g_free(v->entries[i].name);
    g_free(v->entries);
    if (v->by_ino)
        g_hash_table_unref(v->by_ino);
    dbb_value_unref(v->sources[1]);
    if (v->dir.project)
        dbb_project_free((DbbProject *)v->dir.project);
    g_free((char *)v->dir.instance_id);
    g_free(v);
}

/* The owner's memo frees the views no one holds when the owner goes (value_clear). */
static void memo_free_view(gpointer p)
{
    DbbDirView *v = p;

    g_warn_if_fail(v->held == 0);
    view_free(v);
}

/* One more holder; the owner's lock held. */
static void hold_locked(DbbDirView *v)
{
    if (v->held++ == 0)
        dbb_value_ref(v->sources[0]);
}

DbbDirView *dbb_view_ref(DbbDirView *v)
{
    DbbValueHead *owner = v->sources[0];

    if (!owner) {
        g_atomic_int_inc(&v->held);
        return v;
    }
    g_mutex_lock(&owner->views_lock);
    hold_locked(v);
    g_mutex_unlock(&owner->views_lock);
    return v;
}

void dbb_view_unref(DbbDirView *v)
{
    DbbValueHead *owner;
    gboolean last, free_it;

    if (!v)
        return;
    owner = v->sources[0];
    if (!owner) {
        if (g_atomic_int_dec_and_test(&v->held))
            view_free(v);
        return;
    }
    g_mutex_lock(&owner->views_lock);
    last = --v->held == 0;
    free_it = last && !v->in_memo;
    g_mutex_unlock(&owner->views_lock);
    if (free_it)
        view_free(v);
    if (last) /* may free the owner, and with it the views of its memo */
        dbb_value_unref(owner);
}

GPtrArray *dbb_view_memo_of(gpointer listing)
{
    DbbValueHead *owner = listing;
    GPtrArray *out = NULL;
    GHashTableIter it;
    gpointer p;

    g_mutex_lock(&owner->views_lock);
    if (owner->views && g_hash_table_size(owner->views) > 0) {
        out = g_ptr_array_new_with_free_func((GDestroyNotify)dbb_view_unref);
        g_hash_table_iter_init(&it, owner->views);
        while (g_hash_table_iter_next(&it, NULL, &p)) {
            hold_locked(p);
            g_ptr_array_add(out, p);
        }
    }
    g_mutex_unlock(&owner->views_lock);
    return out;
}

/* Collects entries and their name slots, then names, numbers and sorts them. */
typedef struct {
    GArray *entries; /* DbbEntry */
    GArray *slots;   /* DbbNameSlot */
} Builder;

static void builder_init(Builder *b, guint reserve)
{
    b->entries = g_array_sized_new(FALSE, TRUE, sizeof(DbbEntry), reserve);
    b->slots = g_array_sized_new(FALSE, TRUE, sizeof(DbbNameSlot), reserve);
}

static void builder_add(Builder *b, const DbbEntry *e, const char *raw_name, const char *id,
                        const char *suffix)
{
    DbbNameSlot slot = {.raw_name = raw_name, .id = id, .suffix = suffix};

    g_array_append_vals(b->entries, e, 1);
    g_array_append_val(b->slots, slot);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const DbbEntry *)a)->name, ((const DbbEntry *)b)->name);
}

static DbbDirView *builder_finish(Builder *b, const DbbIdentity *dir)
{
    DbbDirView *v = g_new0(DbbDirView, 1);
    DbbNameSlot *slots = (DbbNameSlot *)(void *)b->slots->data;

    dbb_names_assign(slots, b->slots->len);
    v->n = b->entries->len;
    v->entries = (DbbEntry *)(void *)g_array_free(b->entries, FALSE);
    for (guint i = 0; i < v->n; i++) {
        DbbEntry *e = &v->entries[i];
        DbbIdentity id = dbb_entry_identity(dir, e);

        e->name = g_steal_pointer(&slots[i].final_name);
        e->ino = dbb_identity_ino(&id);
    }
    g_array_free(b->slots, TRUE);
    if (v->n > 1)
        qsort(v->entries, v->n, sizeof(DbbEntry), entry_cmp);
    v->by_ino = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < v->n; i++)
        g_hash_table_insert(v->by_ino, &v->entries[i].ino, &v->entries[i]);
    return v;
}

/* projects= names a project as the API does or as the tree shows it (sanitised). */
static gboolean project_wanted(const DbbMount *m, const DbbProject *p)
{
    const char *const *filter = (const char *const *)m->project_filter;
    const char *name = p->name && *p->name ? p->name : p->id;
    g_autofree char *shown = NULL;

    if (!filter || g_strv_contains(filter, name))
        return TRUE;
    shown = dbb_name_sanitize(name);
    return g_strv_contains(filter, shown);
}

static DbbDirView *build_root(DbbMount *m, const DbbIdentity *dir, DbbProjectsValue *projects)
{
    Builder b;

    builder_init(&b, projects->projects->len);
    for (guint i = 0; i < projects->projects->len; i++) {
        const DbbProject *p = projects->projects->pdata[i];
        DbbEntry e = {.kind = DBB_NODE_PROJECT, .project = p};

        if (!project_wanted(m, p))
            continue;
        e.atime = e.mtime = m->mount_time;
        builder_add(&b, &e, p->name, p->id, NULL);
    }
    return builder_finish(&b, dir);
}

static DbbDirView *build_project(DbbMount *m, const DbbIdentity *dir)
{
    Builder b;

    builder_init(&b, m->n_services);
    for (guint i = 0; i < m->n_services; i++) {
        DbbEntry e = {.kind = DBB_NODE_SERVICE, .service = m->services[i]};

        e.atime = e.mtime = m->mount_time;
        builder_add(&b, &e, m->services[i]->name, m->services[i]->name, NULL);
    }
    return builder_finish(&b, dir);
}

static void add_instance(Builder *b, DbbMount *m, const char *id, const char *raw_name,
                         gint64 mtime)
{
    DbbEntry e = {.kind = DBB_NODE_INSTANCE, .id = id};

    e.atime = e.mtime = mtime > 0 ? mtime : m->mount_time;
    builder_add(b, &e, raw_name, id, NULL);
}

/* Instances as listed, then the groups of backups whose instance is no longer listed. */
static DbbDirView *build_service(DbbMount *m, const DbbIdentity *dir, DbbInstancesValue *inst,
                                 DbbBackupsValue *backups)
{
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter it;
    gpointer key, value;
    Builder b;

    builder_init(&b, inst->instances->len);
    for (guint i = 0; i < inst->instances->len; i++) {
        const DbbInstance *in = inst->instances->pdata[i];

        if (!g_hash_table_add(listed, in->id))
            continue; /* the api layer merges by ID; never show one twice */
        add_instance(&b, m, in->id, in->name, in->mtime);
    }
    if (backups) {
        g_hash_table_iter_init(&it, backups->groups);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            const DbbBackupGroup *g = value;
            const char *id = *g->instance_id ? g->instance_id : NO_INSTANCE_ID;

            if (!g_hash_table_contains(listed, g->instance_id))
                add_instance(&b, m, id, g->latest_instance_name, 0);
        }
    }
    return builder_finish(&b, dir);
}

static DbbDirView *build_instance(DbbMount *m, const DbbIdentity *dir, GPtrArray *recs)
{
    Builder b;

    builder_init(&b, recs ? recs->len : 0);
    for (guint i = 0; recs && i < recs->len; i++) {
        DbbBackupRec *r = recs->pdata[i];
        DbbEntry e = {.kind = DBB_NODE_BACKUP,
                      .id = r->id,
                      .content = r->content,
                      .instance_id = r->instance_id,
                      .status = r->status};

        e.atime = r->start_time;
        e.mtime = r->finish_time;
        builder_add(&b, &e, r->name, r->id, ".json");
    }
    return builder_finish(&b, dir);
}

/* The backups of one instance directory inside a backup listing. */
static GPtrArray *instance_recs(DbbBackupsValue *backups, const DbbIdentity *dir)
{
    const char *key = strcmp(dir->instance_id, NO_INSTANCE_ID) ? dir->instance_id : "";
    DbbBackupGroup *g;

    if (dir->service->backup_scope == DBB_BACKUPS_PER_INSTANCE)
        return backups->recs;
    g = g_hash_table_lookup(backups->groups, key);
    return g ? g->recs : NULL;
}

/* The listings behind a directory; sources[] get new references. */
static gboolean get_sources(DbbMount *m, const DbbIdentity *dir, DbbSourceMode mode,
                            gpointer sources[2], gint64 *expires_at, GError **error)
{
    const DbbService *svc = dir->service;
    gint64 exp2 = G_MAXINT64;

    *expires_at = dbb_cache_now(m->cache) + m->ttl;
    switch (dir->kind) {
    case DBB_NODE_ROOT:
        sources[0] = dbb_source_projects(m, mode, expires_at, error);
        return sources[0] != NULL;
    case DBB_NODE_PROJECT:
        return TRUE;
    case DBB_NODE_SERVICE:
        /* The two listings do not depend on each other: fetch them side by side. */
        if (svc->backup_scope == DBB_BACKUPS_PER_PROJECT && mode == DBB_SOURCE_FRESH &&
            !dbb_source_backups_fresh(m, dir->project, svc, NULL))
            dbb_prefetch_backups(m->prefetch, dir);
        sources[0] = dbb_source_instances(m, dir->project, svc, mode, expires_at, error);
        if (!sources[0] || svc->backup_scope != DBB_BACKUPS_PER_PROJECT)
            return sources[0] != NULL;
        sources[1] = dbb_source_backups(m, dir->project, svc, NULL, mode, &exp2, error);
        *expires_at = MIN(*expires_at, exp2);
        return sources[1] != NULL;
    case DBB_NODE_INSTANCE:
        sources[0] = dbb_source_backups(
            m, dir->project, svc,
            svc->backup_scope == DBB_BACKUPS_PER_INSTANCE ? dir->instance_id : NULL, mode,
            expires_at, error);
        return sources[0] != NULL;
    default:
        g_set_error(error, G_FILE_ERROR, ENOTDIR, "not a directory");
        return FALSE;
    }
}

static DbbDirView *build(DbbMount *m, const DbbIdentity *dir, gpointer sources[2])
{
    switch (dir->kind) {
    case DBB_NODE_ROOT:
        return build_root(m, dir, sources[0]);
    case DBB_NODE_PROJECT:
        return build_project(m, dir);
    case DBB_NODE_SERVICE:
        return build_service(m, dir, sources[0], sources[1]);
    default:
        return build_instance(m, dir, instance_recs(sources[0], dir));
    }
}

/* The view's own copy of its directory's identity. */
static void set_dir(DbbDirView *v, const DbbIdentity *dir)
{
    v->dir = *dir;
    v->dir.project = dir->project ? dbb_project_copy(dir->project) : NULL;
    v->dir.instance_id = g_strdup(dir->instance_id);
    v->dir.backup_id = NULL;
    v->dir_ino = dbb_identity_ino(dir);
}

/* The memoised view of dir in owner, held, when it was built from the same second listing. */
static DbbDirView *memo_find(DbbValueHead *owner, guint64 ino, gpointer second)
{
    DbbDirView *v;

    g_mutex_lock(&owner->views_lock);
    v = owner->views ? g_hash_table_lookup(owner->views, &ino) : NULL;
    if (v && v->sources[1] == second)
        hold_locked(v);
    else
        v = NULL;
    g_mutex_unlock(&owner->views_lock);
    return v;
}

/* Memoise a new view (held); when it replaces one built from an older second listing, the
 * notifier diffs the two.  Returns the view to use (another thread's, if it won the race). */
static DbbDirView *memo_insert(DbbMount *m, DbbValueHead *owner, DbbDirView *v)
{
    DbbDirView *old;

    g_mutex_lock(&owner->views_lock);
    if (!owner->views)
        owner->views = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, memo_free_view);
    old = g_hash_table_lookup(owner->views, &v->dir_ino);
    if (old && old->sources[1] == v->sources[1]) {
        hold_locked(old);
        g_mutex_unlock(&owner->views_lock);
        view_free(v);
        return old;
    }
    if (old) {
        g_hash_table_steal(owner->views, &v->dir_ino);
        old->in_memo = FALSE;
        hold_locked(old); /* for the notifier, or released below */
    }
    g_hash_table_insert(owner->views, &v->dir_ino, v);
    v->in_memo = TRUE;
    hold_locked(v);
    g_mutex_unlock(&owner->views_lock);
    if (old) /* takes both */
        dbb_notifier_diff(m->notifier, old, dbb_view_ref(v));
    return v;
}

static DbbSourceMode source_mode(DbbViewFlags flags)
{
    if (flags & DBB_VIEW_CACHED)
        return DBB_SOURCE_CACHED;
    return (flags & DBB_VIEW_LAST) ? DBB_SOURCE_LAST : DBB_SOURCE_FRESH;
}

DbbDirView *dbb_view_get(DbbMount *m, const DbbIdentity *dir, DbbViewFlags flags,
                         gint64 *expires_at, GError **error)
{
    gpointer sources[2] = {NULL, NULL};
    DbbDirView *view;

    if (!get_sources(m, dir, source_mode(flags), sources, expires_at, error)) {
        dbb_value_unref(sources[0]);
        dbb_value_unref(sources[1]);
        return NULL;
    }
    if (!sources[0]) { /* a project directory: built on each use */
        view = build(m, dir, sources);
        set_dir(view, dir);
        view->held = 1;
        goto out;
    }
    view = memo_find(sources[0], dbb_identity_ino(dir), sources[1]);
    if (!view) {
        /* Built outside the lock: a large directory takes a while, and two threads
         * building the same view at once only waste a little work. */
        view = build(m, dir, sources);
        set_dir(view, dir);
        view->sources[0] = sources[0];
        view->sources[1] = sources[1] ? dbb_value_ref(sources[1]) : NULL;
        view = memo_insert(m, sources[0], view);
    }
out:
    dbb_value_unref(sources[0]);
    dbb_value_unref(sources[1]);
    if (flags & DBB_VIEW_SYNC)
        dbb_notifier_sync(m->notifier);
    return view;
}

static int name_key_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const DbbEntry *)elem)->name);
}

const DbbEntry *dbb_view_find_name(const DbbDirView *view, const char *name)
{
    if (view->n == 0)
        return NULL;
    return bsearch(name, view->entries, view->n, sizeof(DbbEntry), name_key_cmp);
}

const DbbEntry *dbb_view_find_ino(const DbbDirView *view, guint64 ino)
{
    return g_hash_table_lookup(view->by_ino, &ino);
}

DbbIdentity dbb_entry_identity(const DbbIdentity *dir, const DbbEntry *e)
{
    DbbIdentity id = *dir;

    id.kind = e->kind;
    switch (e->kind) {
    case DBB_NODE_PROJECT:
        id.project = e->project;
        break;
    case DBB_NODE_SERVICE:
        id.service = e->service;
        break;
    case DBB_NODE_INSTANCE:
        id.instance_id = e->id;
        break;
    default:
        id.backup_id = e->id;
        break;
    }
    return id;
}

void dbb_entry_stat(const DbbMount *m, const DbbEntry *e, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    st->st_blksize = 4096;
    if (!e) {
        st->st_ino = DBB_ROOT_INO;
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 1;
        st->st_atime = st->st_mtime = st->st_ctime = m->mount_time;
        return;
    }
    st->st_ino = e->ino;
    st->st_atime = e->atime;
    st->st_mtime = st->st_ctime = e->mtime;
    if (e->kind == DBB_NODE_BACKUP) {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)g_bytes_get_size(e->content);
        st->st_blocks = (st->st_size + 511) / 512;
        return;
    }
    st->st_mode = S_IFDIR | 0555;
    /* Instance directories hold only files: 2 is exact and lets find skip stat calls.
     * Elsewhere the number of subdirectories is not known without a listing: 1, as btrfs
     * reports, tells find not to rely on it. */
    st->st_nlink = e->kind == DBB_NODE_INSTANCE ? 2 : 1;
}

guint dbb_entry_xattrs(const DbbEntry *e, DbbXattr out[4])
{
    guint n = 0;

    switch (e->kind) {
    case DBB_NODE_PROJECT:
        out[n++] = (DbbXattr){.name = "user.dbbackupfs.id", .value = e->project->id};
        if (e->project->region)
            out[n++] = (DbbXattr){.name = "user.dbbackupfs.region", .value = e->project->region};
        break;
    case DBB_NODE_INSTANCE:
        out[n++] = (DbbXattr){.name = "user.dbbackupfs.id", .value = e->id};
        break;
    case DBB_NODE_BACKUP:
        out[n++] = (DbbXattr){.name = "user.dbbackupfs.id", .value = e->id};
        if (e->instance_id && *e->instance_id)
            out[n++] = (DbbXattr){.name = "user.dbbackupfs.instance_id", .value = e->instance_id};
        if (e->status)
            out[n++] = (DbbXattr){.name = "user.dbbackupfs.status", .value = e->status};
        break;
    default:
        break;
    }
    return n;
}
