/*
 * dbbackupfs — the inode table.
 */
#include "node.h"

#include <string.h>

struct DbbNodeTable {
    GMutex lock;
    GHashTable *nodes;    /* guint64 ino -> DbbNode * (one reference) */
    GHashTable *projects; /* project id -> DbbProject *: one copy that every node of the
                           * project borrows, instead of one per node (300,000 files) */
};

/* FNV-1a, 64 bits, over the identity's parts with a separator that cannot be in a part
 * that came through JSON as text (0xff is never valid UTF-8). */
static guint64 fnv1a(guint64 h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    h *= 0x100000001b3ULL;
    return h;
}

guint64 dbb_identity_ino(const DbbIdentity *id)
{
    guint64 h = 0xcbf29ce484222325ULL;

    if (id->kind == DBB_NODE_ROOT)
        return DBB_ROOT_INO;
    h = fnv1a(h, (const char[]){(char)('0' + id->kind), 0});
    h = fnv1a(h, id->project->id);
    if (id->kind >= DBB_NODE_SERVICE)
        h = fnv1a(h, id->service->name);
    if (id->kind >= DBB_NODE_INSTANCE)
        h = fnv1a(h, id->instance_id);
    if (id->kind >= DBB_NODE_BACKUP)
        h = fnv1a(h, id->backup_id);
    /* Keep clear of 0 (invalid) and 1 (the root); stay below 2^63 for 32-bit-minded tools
     * that print inode numbers signed. */
    h &= 0x7fffffffffffffffULL;
    return h <= DBB_ROOT_INO ? h + 2 : h;
}

DbbIdentity dbb_node_identity(const DbbNode *node)
{
    return (DbbIdentity){
        .kind = node->kind,
        .project = node->project,
        .service = node->service,
        .instance_id = node->instance_id,
        .backup_id = node->backup_id,
    };
}

DbbIdentity dbb_identity_parent(const DbbIdentity *id)
{
    DbbIdentity p = *id;

    switch (id->kind) {
    case DBB_NODE_BACKUP:
        p.backup_id = NULL;
        p.kind = DBB_NODE_INSTANCE;
        break;
    case DBB_NODE_INSTANCE:
        p.instance_id = NULL;
        p.kind = DBB_NODE_SERVICE;
        break;
    case DBB_NODE_SERVICE:
        p.service = NULL;
        p.kind = DBB_NODE_PROJECT;
        break;
    default:
        p = (DbbIdentity){.kind = DBB_NODE_ROOT};
        break;
    }
    return p;
}

static void node_clear(gpointer p)
{
    DbbNode *n = p;

    g_free(n->instance_id);
    g_free(n->backup_id);
}

DbbNode *dbb_node_ref(DbbNode *node)
{
    return g_atomic_rc_box_acquire(node);
}

void dbb_node_unref(DbbNode *node)
{
    if (node)
        g_atomic_rc_box_release_full(node, node_clear);
}

/* Under the table's lock.  A project's copy lives as long as the table: projects are few. */
static DbbProject *intern_project(DbbNodeTable *t, const DbbProject *p)
{
    DbbProject *copy;

    if (!p)
        return NULL;
    copy = g_hash_table_lookup(t->projects, p->id);
    if (!copy) {
        copy = dbb_project_copy(p);
        g_hash_table_insert(t->projects, copy->id, copy);
    }
    return copy;
}

static DbbNode *node_new(DbbNodeTable *t, const DbbIdentity *id, guint64 ino)
{
    DbbNode *n = g_atomic_rc_box_new0(DbbNode);

    n->ino = ino;
    n->kind = id->kind;
    n->project = intern_project(t, id->project);
    n->service = id->service;
    n->instance_id = g_strdup(id->instance_id);
    n->backup_id = g_strdup(id->backup_id);
    return n;
}

DbbNodeTable *dbb_node_table_new(void)
{
    DbbNodeTable *t = g_new0(DbbNodeTable, 1);
    DbbIdentity root = {.kind = DBB_NODE_ROOT};

    g_mutex_init(&t->lock);
    t->nodes =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)dbb_node_unref);
    t->projects = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dbb_project_free);
    DbbNode *n = node_new(t, &root, DBB_ROOT_INO);
    n->nlookup = 1; /* the kernel never forgets the root */
    g_hash_table_insert(t->nodes, &n->ino, n);
    return t;
}

void dbb_node_table_free(DbbNodeTable *t)
{
    if (!t)
        return;
    g_hash_table_unref(t->nodes);
    g_hash_table_unref(t->projects);
    g_mutex_clear(&t->lock);
    g_free(t);
}

DbbNode *dbb_node_table_get(DbbNodeTable *t, guint64 ino)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    DbbNode *n = g_hash_table_lookup(t->nodes, &ino);

    return n ? dbb_node_ref(n) : NULL;
}

static gboolean same_identity(const DbbNode *n, const DbbIdentity *id)
{
    return n->kind == id->kind && (!id->project || !strcmp(n->project->id, id->project->id)) &&
           n->service == id->service && !g_strcmp0(n->instance_id, id->instance_id) &&
           !g_strcmp0(n->backup_id, id->backup_id);
}

guint64 dbb_node_table_lookup(DbbNodeTable *t, const DbbIdentity *id)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    guint64 ino = dbb_identity_ino(id);
    DbbNode *n;

    /* Inode numbers are a 64-bit hash of the identity: with 300,000 entries a collision has
     * a probability near 1e-9.  Were one to happen the two entries would share a node; say
     * so rather than hand out numbers the listings (which compute them too) do not know. */
    n = g_hash_table_lookup(t->nodes, &ino);
    if (n && !same_identity(n, id))
        g_warning("inode number collision at %" G_GUINT64_FORMAT, ino);
    if (!n) {
        n = node_new(t, id, ino);
        g_hash_table_insert(t->nodes, &n->ino, n);
    }
    n->nlookup++;
    return ino;
}

void dbb_node_table_forget(DbbNodeTable *t, guint64 ino, guint64 count)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    DbbNode *n = g_hash_table_lookup(t->nodes, &ino);

    if (!n || ino == DBB_ROOT_INO)
        return;
    n->nlookup = count >= n->nlookup ? 0 : n->nlookup - count;
    if (n->nlookup == 0)
        g_hash_table_remove(t->nodes, &ino);
}

guint dbb_node_table_size(DbbNodeTable *t)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    return g_hash_table_size(t->nodes);
}

GArray *dbb_node_table_inos(DbbNodeTable *t)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&t->lock);
    GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(guint64), g_hash_table_size(t->nodes));
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, t->nodes);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_array_append_val(out, *(guint64 *)key);
    return out;
}
