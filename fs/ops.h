/*
 * dbbackupfs — the FUSE low-level operations.
 *
 * One reply per request.  Every answer comes from a directory view (view.h); kernel entry
 * and attribute timeouts are the time the view's listings have left in the cache, so the
 * kernel never trusts a name or a size longer than the daemon does, and failed lookups are
 * cached for negative_ttl (no longer than the listing that proved them absent).  The mount
 * is read-only: every operation that would change anything fails with EROFS.
 *
 * A warm walk makes no request per file: OPEN and FLUSH answer ENOSYS (the kernel then
 * stops sending OPEN, RELEASE and FLUSH and keeps the page cache across opens), READ is
 * served by inode from the current listing, and opendir asks for the kernel's readdir
 * cache.  Directory handles keep the view they opened (readdir offsets index that
 * snapshot).  Every request is counted in the mount's opstats; the root's hidden xattr
 * user.dbbackupfs.opstats reads them.  What a refresh changes is told to the kernel by the
 * notifier (notify.h), never from here.
 */
#pragma once

#include <fuse_lowlevel.h>

#include "mount.h"

G_BEGIN_DECLS

extern const struct fuse_lowlevel_ops dbb_ops;

G_END_DECLS
