/*
 * dbbackupfs — listing read-ahead for directory walks.
 *
 * The rule (also in dbbackupfs(1)): when a directory is opened right after its predecessor
 * in its parent's listing order — the pattern of `find`, `ls -R`, `du`, `grep -r`, which
 * visit siblings in the order readdir gave them — the listings behind its next max_conns
 * siblings are fetched in the background, and each further step of the walk keeps
 * max_conns of them in flight ahead of it.  This holds at every level a walk descends: the
 * services of the next projects (instance lists and project-wide backup lists), the next
 * service directories, the next instance directories' backup lists.  Anything else — an
 * `ls` of one directory, of two that are not neighbours, a revisit — reads nothing ahead;
 * two neighbours read at most max_conns listings ahead.  Fetches go through the cache's
 * single-flight, so a complete walk still makes exactly the minimal calls.
 *
 * Owned by the mount; its threads start in dbb_prefetch_start() (after the fork).
 */
#pragma once

#include "mount.h"

G_BEGIN_DECLS

DbbPrefetch *dbb_prefetch_new(DbbMount *m, guint threads);
void dbb_prefetch_start(DbbPrefetch *p);
/* Drop queued work and wait for running fetches (idempotent). */
void dbb_prefetch_stop(DbbPrefetch *p);
void dbb_prefetch_free(DbbPrefetch *p);
/* A directory (project, service or instance) is being opened. */
void dbb_prefetch_note_open(DbbPrefetch *p, const DbbIdentity *dir);

G_END_DECLS
