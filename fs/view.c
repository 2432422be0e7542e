/*
 * dbbackupfs — directory views.
 */
#include "view.h"

#include <string.h>

#include "names.h"
#include "source.h"

/* The directory name of a group of backups that carry no instance_id at all: they are
 * still shown (an audit must not lose a backup), under a name no real ID has. */
#define NO_INSTANCE_ID "no-instance-id"

static void view_clear(gpointer p)
{
    DbbDirView *v = p;

    for (guint i = 0; i < v->n; i++)
        g_free(v->entries[i].name);
    g_free(v->entries);
    if (v->by_ino)
        g_hash_table_unref(v->by_ino);
    for (guint i = 0; i < G_N_ELEMENTS(v->sources); i++)
        dbb_value_unref(v->sources[i]);
}

DbbDirView *dbb_view_ref(DbbDirView *view)
{
    return g_atomic_rc_box_acquire(view);
}

void dbb_view_unref(DbbDirView *view)
{
    if (view)
        g_atomic_rc_box_release_full(view, view_clear);
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
    DbbDirView *v = g_atomic_rc_box_new0(DbbDirView);
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
static gboolean project_wanted(const DbbFs *fs, const DbbProject *p)
{
    const char *const *filter = (const char *const *)fs->project_filter;
    const char *name = p->name && *p->name ? p->name : p->id;
    g_autofree char *shown = NULL;

    if (!filter || g_strv_contains(filter, name))
        return TRUE;
    shown = dbb_name_sanitize(name);
    return g_strv_contains(filter, shown);
}

static DbbDirView *build_root(DbbFs *fs, const DbbIdentity *dir, DbbProjectsValue *projects)
{
    Builder b;

    builder_init(&b, projects->projects->len);
    for (guint i = 0; i < projects->projects->len; i++) {
        const DbbProject *p = projects->projects->pdata[i];
        DbbEntry e = {.kind = DBB_NODE_PROJECT, .project = p};

        if (!project_wanted(fs, p))
            continue;
        e.atime = e.mtime = fs->mount_time;
        builder_add(&b, &e, p->name, p->id, NULL);
    }
    return builder_finish(&b, dir);
}

static DbbDirView *build_project(DbbFs *fs, const DbbIdentity *dir)
{
    Builder b;

    builder_init(&b, fs->n_services);
    for (guint i = 0; i < fs->n_services; i++) {
        DbbEntry e = {.kind = DBB_NODE_SERVICE, .service = fs->services[i]};

        e.atime = e.mtime = fs->mount_time;
        builder_add(&b, &e, fs->services[i]->name, fs->services[i]->name, NULL);
    }
    return builder_finish(&b, dir);
}

static void add_instance(Builder *b, DbbFs *fs, const char *id, const char *raw_name, gint64 mtime)
{
    DbbEntry e = {.kind = DBB_NODE_INSTANCE, .id = id};

    e.atime = e.mtime = mtime > 0 ? mtime : fs->mount_time;
    builder_add(b, &e, raw_name, id, NULL);
}

/* Instances as listed, then the groups of backups whose instance is no longer listed. */
static DbbDirView *build_service(DbbFs *fs, const DbbIdentity *dir, DbbInstancesValue *inst,
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
        add_instance(&b, fs, in->id, in->name, in->mtime);
    }
    if (backups) {
        g_hash_table_iter_init(&it, backups->groups);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            const DbbBackupGroup *g = value;
            const char *id = *g->instance_id ? g->instance_id : NO_INSTANCE_ID;

            if (!g_hash_table_contains(listed, g->instance_id))
                add_instance(&b, fs, id, g->latest_instance_name, 0);
        }
    }
    return builder_finish(&b, dir);
}

static DbbDirView *build_instance(DbbFs *fs, const DbbIdentity *dir, GPtrArray *recs)
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
static gboolean get_sources(DbbFs *fs, const DbbIdentity *dir, gpointer sources[2],
                            gint64 *expires_at, GError **error)
{
    const DbbService *svc = dir->service;
    gint64 exp2 = G_MAXINT64;

    *expires_at = dbb_cache_now(fs->cache) + fs->ttl;
    switch (dir->kind) {
    case DBB_NODE_ROOT:
        sources[0] = dbb_source_projects(fs, expires_at, error);
        return sources[0] != NULL;
    case DBB_NODE_PROJECT:
        return TRUE;
    case DBB_NODE_SERVICE:
        sources[0] = dbb_source_instances(fs, dir->project, svc, expires_at, error);
        if (!sources[0] || svc->backup_scope != DBB_BACKUPS_PER_PROJECT)
            return sources[0] != NULL;
        sources[1] = dbb_source_backups(fs, dir->project, svc, NULL, &exp2, error);
        *expires_at = MIN(*expires_at, exp2);
        return sources[1] != NULL;
    case DBB_NODE_INSTANCE:
        sources[0] = dbb_source_backups(
            fs, dir->project, svc,
            svc->backup_scope == DBB_BACKUPS_PER_INSTANCE ? dir->instance_id : NULL, expires_at,
            error);
        return sources[0] != NULL;
    default:
        g_set_error(error, G_FILE_ERROR, ENOTDIR, "not a directory");
        return FALSE;
    }
}

static DbbDirView *build(DbbFs *fs, const DbbIdentity *dir, gpointer sources[2])
{
    switch (dir->kind) {
    case DBB_NODE_ROOT:
        return build_root(fs, dir, sources[0]);
    case DBB_NODE_PROJECT:
        return build_project(fs, dir);
    case DBB_NODE_SERVICE:
        return build_service(fs, dir, sources[0], sources[1]);
    default:
        return build_instance(fs, dir, instance_recs(sources[0], dir));
    }
}

DbbDirView *dbb_view_get(DbbFs *fs, const DbbIdentity *dir, gint64 *expires_at, GError **error)
{
    gpointer sources[2] = {NULL, NULL};
    guint64 ino = dbb_identity_ino(dir);
    DbbDirView *view;

    if (!get_sources(fs, dir, sources, expires_at, error)) {
        dbb_value_unref(sources[0]);
        return NULL;
    }
    g_mutex_lock(&fs->views_lock);
    view = g_hash_table_lookup(fs->views, &ino);
    if (view && view->sources[0] == sources[0] && view->sources[1] == sources[1]) {
        view = dbb_view_ref(view);
        g_mutex_unlock(&fs->views_lock);
        dbb_value_unref(sources[0]);
        dbb_value_unref(sources[1]);
        return view;
    }
    g_mutex_unlock(&fs->views_lock);

    /* Built outside the lock: a large directory takes a while, and two threads building
     * the same view at once only waste a little work. */
    view = build(fs, dir, sources);
    view->sources[0] = sources[0];
    view->sources[1] = sources[1];
    g_mutex_lock(&fs->views_lock);
    g_hash_table_insert(fs->views, g_memdup2(&ino, sizeof(ino)), dbb_view_ref(view));
    g_mutex_unlock(&fs->views_lock);
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

void dbb_entry_stat(const DbbFs *fs, const DbbEntry *e, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_uid = fs->uid;
    st->st_gid = fs->gid;
    st->st_blksize = 4096;
    if (!e) {
        st->st_ino = DBB_ROOT_INO;
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 1;
        st->st_atime = st->st_mtime = st->st_ctime = fs->mount_time;
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
