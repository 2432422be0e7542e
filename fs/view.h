/*
 * dbbackupfs — directory views: what one directory shows, names resolved and sorted.
 *
 * A view is built from the cached listings behind a directory and is immutable and
 * reference-counted: opendir keeps one, so readdir offsets index a snapshot that a refresh
 * cannot shift.  Views are memoised inside the listing they were built from (its owner:
 * the project list for the root, the instance list for a service directory, the backup
 * listing for an instance directory), so a warm lookup is a binary search and a view dies
 * with its listing's generation.  Holding a view holds its listings; a view no one holds
 * pins nothing beyond its owner's life.  Project directories (a fixed list of services)
 * have no owner and are built on each use.
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

#include "mount.h"
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
    GHashTable *by_ino; /* guint64 ino -> DbbEntry * */
    DbbIdentity dir;    /* the directory (its strings owned by the view) */
    guint64 dir_ino;
    /* The listings it was built from: [0] the owner, whose memo holds the view (referenced
     * while the view is held); [1] a second listing (a service's project-wide backups),
     * always referenced.  Private to view.c. */
    gpointer sources[2];
    guint held;       /* holders; under the owner's views_lock (atomic when no owner) */
    gboolean in_memo; /* under the owner's views_lock */
} DbbDirView;

typedef enum {
    DBB_VIEW_FRESH = 0,       /* refresh expired listings (an API call when needed) */
    DBB_VIEW_SYNC = 1 << 0,   /* and wait until the kernel has been told what changed */
    DBB_VIEW_LAST = 1 << 1,   /* the last listing even when expired; fetch only when none */
    DBB_VIEW_CACHED = 1 << 2, /* only what the cache holds, expired or not; never fetch */
} DbbViewFlags;

/* The view of the directory `dir` and until when the kernel may trust it (monotonic µs),
 * or NULL with *error (code: errno).  DBB_VIEW_SYNC is for requests whose answer lets the
 * kernel use its caches (lookup, getattr, opendir): when this call, or another one just
 * before, refreshed a listing, it returns once the notifier has invalidated the changed
 * pages (notify.h), so the caller never hands out an entry whose old pages are still
 * cached.  Never with SYNC from READ (the notifier may wait for READ's page lock). */
DbbDirView *dbb_view_get(DbbMount *m, const DbbIdentity *dir, DbbViewFlags flags,
                         gint64 *expires_at, GError **error);
/* The views memoised in a listing (each held), for the notifier to diff; NULL when none. */
GPtrArray *dbb_view_memo_of(gpointer listing);

DbbDirView *dbb_view_ref(DbbDirView *view);
void dbb_view_unref(DbbDirView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DbbDirView, dbb_view_unref)

const DbbEntry *dbb_view_find_name(const DbbDirView *view, const char *name);
const DbbEntry *dbb_view_find_ino(const DbbDirView *view, guint64 ino);

/* The identity of an entry of the directory dir. */
DbbIdentity dbb_entry_identity(const DbbIdentity *dir, const DbbEntry *entry);

/* stat of an entry, or of a directory node with its own identity (root, project, service,
 * instance) when entry is NULL. */
void dbb_entry_stat(const DbbMount *m, const DbbEntry *entry, struct stat *st);

typedef struct {
    const char *name;
    const char *value;
} DbbXattr;

/* The extended attributes of an entry (read-only facts for scripts: `getfattr -d`):
 * user.dbbackupfs.id and, as they apply, .project_id, .region, .instance_id, .status.
 * Fills out[] (borrowed strings) and returns how many. */
guint dbb_entry_xattrs(const DbbEntry *entry, DbbXattr out[4]);

G_END_DECLS
