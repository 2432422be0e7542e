/*
 * dbbackupfs — telling the kernel exactly what changed when a listing refreshes.
 *
 * One thread per mount sends every invalidation, never a request handler, and it holds no
 * lock of the node table, the views or the cache while it talks to the kernel: the
 * kernel's inval_entry takes the parent directory's inode lock (held by a LOOKUP or
 * READDIR in flight) and inval_inode waits for page locks that a pending READ holds, so a
 * handler that sent them could wait for itself.
 *
 * Promises:
 * - When the cache replaces a listing (dbb_notifier_retired, called from the cache's hook)
 *   every view built from the old generation is compared with the one the current
 *   listings give: an entry whose rendered bytes or times differ (whatever its size) gets
 *   inval_inode (pages and attributes); a directory whose names changed gets inval_inode
 *   (its readdir cache); every name that vanished gets inval_entry.  dbb_notifier_diff
 *   does the same for one view rebuilt because its second listing changed.
 * - Inode invalidations of all queued work go before any entry invalidation, and
 *   dbb_notifier_sync() returns once the inode invalidations of everything queued before
 *   it are done (or after DBB_NOTIFY_SYNC_MAX_MS, should the notifier be stuck behind a
 *   directory lock that the waiting request itself holds: the bound turns that deadlock
 *   into a short delay).
 * - dbb_notifier_all() invalidates every inode the kernel holds (a manual refresh).
 * - Only inodes the kernel holds (the node table) are invalidated; before
 *   dbb_notifier_start() and after dbb_notifier_stop() requests are dropped.
 * - dbb_notifier_store() pushes the files of a directory the kernel has just listed into
 *   its page cache (notify_store), when the thread has no invalidation to send and only
 *   while that view is still the current one, so a walk's `cat` finds the pages there
 *   with no READ round trip, and a refresh (diffed after any store by the same thread)
 *   still drops whatever changed.  Stores never delay dbb_notifier_sync().
 * - Listings the cache can no longer serve are pruned once per ttl by the same thread.
 */
#pragma once

#include <fuse_lowlevel.h>

#include "mount.h"
#include "view.h"

G_BEGIN_DECLS

#define DBB_NOTIFY_SYNC_MAX_MS 2000

DbbNotifier *dbb_notifier_new(DbbMount *m);
void dbb_notifier_free(DbbNotifier *n);
void dbb_notifier_start(DbbNotifier *n, struct fuse_session *se);
/* Joins the thread; pending work is dropped (the session is ending). */
void dbb_notifier_stop(DbbNotifier *n);

/* A listing was replaced (borrowed; referenced for the job).  Cheap: only queues. */
void dbb_notifier_retired(DbbNotifier *n, gpointer old_listing);
/* A view was rebuilt: takes both references.  n may be NULL (then they are released). */
void dbb_notifier_diff(DbbNotifier *n, DbbDirView *old, DbbDirView *current);
/* Push the contents of view's files into the page cache (takes the reference). */
void dbb_notifier_store(DbbNotifier *n, DbbDirView *view);
/* Invalidate everything the kernel holds. */
void dbb_notifier_all(DbbNotifier *n);
/* Wait for the inode invalidations of everything queued so far (bounded, see above). */
void dbb_notifier_sync(DbbNotifier *n);

/* Counters, for tests and metrics: inode and entry invalidations sent. */
guint64 dbb_notifier_inodes_sent(DbbNotifier *n);
guint64 dbb_notifier_entries_sent(DbbNotifier *n);
guint64 dbb_notifier_files_stored(DbbNotifier *n);

G_END_DECLS
