/*
 * dbbackupfs — nodes and inode numbers.
 *
 * A node is what the kernel knows by an inode number: its identity (project, service,
 * instance ID, backup ID — never a name, so renaming in the cloud does not move it) and the
 * kernel's lookup count.  Inode numbers are a 64-bit hash of that identity, so they are
 * stable for the life of the mount and across remounts, and `find`, `tar` and `du` see each
 * file once.  Nodes are immutable apart from the lookup count and reference-counted, so an
 * operation may hold one while the kernel forgets it; a node must not outlive its table.
 */
#pragma once

#include <glib.h>

#include "api/model.h"
#include "api/service.h"

G_BEGIN_DECLS

#define DBB_ROOT_INO 1

typedef enum {
    DBB_NODE_ROOT,
    DBB_NODE_PROJECT,
    DBB_NODE_SERVICE,
    DBB_NODE_INSTANCE,
    DBB_NODE_BACKUP,
} DbbNodeKind;

/* Identity of a node; which members are set depends on kind. Borrowed strings. */
typedef struct {
    DbbNodeKind kind;
    const DbbProject *project; /* PROJECT and below */
    const DbbService *service; /* SERVICE and below */
    const char *instance_id;   /* INSTANCE and below */
    const char *backup_id;     /* BACKUP */
} DbbIdentity;

typedef struct {
    guint64 ino;
    DbbNodeKind kind;
    const DbbProject *project; /* the table's copy, valid while the table lives */
    const DbbService *service;
    char *instance_id;
    char *backup_id;
    guint64 nlookup; /* guarded by the table's lock */
} DbbNode;

typedef struct DbbNodeTable DbbNodeTable;

/* The inode number of an identity (never 0 or DBB_ROOT_INO except for the root). */
guint64 dbb_identity_ino(const DbbIdentity *id);
/* The identity of a node (borrowing its strings), and of its parent directory. */
DbbIdentity dbb_node_identity(const DbbNode *node);
DbbIdentity dbb_identity_parent(const DbbIdentity *id);

DbbNodeTable *dbb_node_table_new(void);
void dbb_node_table_free(DbbNodeTable *t);

/* A new reference to the node of ino, or NULL when the kernel holds no such inode. */
DbbNode *dbb_node_table_get(DbbNodeTable *t, guint64 ino);
/* Count one kernel lookup of the node of id (created when new); returns its inode number. */
guint64 dbb_node_table_lookup(DbbNodeTable *t, const DbbIdentity *id);
/* The kernel forgot n lookups of ino. */
void dbb_node_table_forget(DbbNodeTable *t, guint64 ino, guint64 n);
/* The inode numbers of every node held (the root included). */
GArray *dbb_node_table_inos(DbbNodeTable *t);
/* Nodes held (the root included). */
guint dbb_node_table_size(DbbNodeTable *t);

DbbNode *dbb_node_ref(DbbNode *node);
void dbb_node_unref(DbbNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DbbNode, dbb_node_unref)

G_END_DECLS
