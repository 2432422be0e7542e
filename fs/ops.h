/*
 * dbbackupfs — the FUSE low-level operations.
 *
 * One reply per request.  Every answer comes from a directory view (view.h); kernel entry
 * and attribute timeouts are the time the view's listings have left in the cache, so the
 * kernel never trusts a name or a size longer than the daemon does, and failed lookups are
 * cached for negative_ttl (no longer than the listing that proved them absent).  The mount
 * is read-only: every operation that would change anything fails with EROFS.
 */
#pragma once

#include <fuse_lowlevel.h>

#include "mount.h"

G_BEGIN_DECLS

extern const struct fuse_lowlevel_ops dbb_ops;

G_END_DECLS
