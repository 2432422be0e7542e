/*
 * dbbackupfs — directory views: what one directory shows, names resolved and sorted.
 *
 * A view is built from the cached listings behind a directory and is immutable and
 * reference-counted: opendir keeps one, so readdir offsets index a snapshot that a refresh
 * cannot shift.  Views are memoised per directory and rebuilt only when the listings behind
 * them change, so a warm lookup is a binary search.
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

#include "fs.h"
#include "node.h"

G_BEGIN_DECLS

typedef struct {
    char *name; /* final name (names.c) */
    guint64 ino;
    DbbNodeKind kind; /* the child's kind */
    /* The child's identity part (borrowed from the listings the view holds). */
    const DbbProject *project; /* PROJECT entries */
    const DbbService *service; /* SERVICE entries */
    const char *id;            /* INSTANCE and BACKUP entries: instance or backup ID */
    gint64 atime, mtime;       /* ctime = mtime */
    GBytes *content;           /* BACKUP entries: the file */
    const char *instance_id;   /* BACKUP entries: the record's instance_id, or "" */
    const char *status;        /* BACKUP entries: the record's status, or NULL */
} DbbEntry;

typedef struct {
    DbbEntry *entries; /* sorted by name, bytewise */
    guint n;
    GHashTable *by_ino;  /* guint64 ino -> DbbEntry * */
    gpointer sources[2]; /* the listings it was built from (references), to memoise on */
} DbbDirView;

/* The view of the directory `dir` and until when the kernel may trust it (monotonic µs),
 * or NULL with *error (code: errno). */
DbbDirView *dbb_view_get(DbbFs *fs, const DbbIdentity *dir, gint64 *expires_at, GError **error);

DbbDirView *dbb_view_ref(DbbDirView *view);
void dbb_view_unref(DbbDirView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DbbDirView, dbb_view_unref)

const DbbEntry *dbb_view_find_name(const DbbDirView *view, const char *name);
const DbbEntry *dbb_view_find_ino(const DbbDirView *view, guint64 ino);

/* The identity of an entry of the directory dir. */
DbbIdentity dbb_entry_identity(const DbbIdentity *dir, const DbbEntry *entry);

/* stat of an entry, or of a directory node with its own identity (root, project, service,
 * instance) when entry is NULL. */
void dbb_entry_stat(const DbbFs *fs, const DbbEntry *entry, struct stat *st);

typedef struct {
    const char *name;
    const char *value;
} DbbXattr;

/* The extended attributes of an entry (read-only facts for scripts: `getfattr -d`):
 * user.dbbackupfs.id and, as they apply, .project_id, .region, .instance_id, .status.
 * Fills out[] (borrowed strings) and returns how many. */
guint dbb_entry_xattrs(const DbbEntry *entry, DbbXattr out[4]);

G_END_DECLS
