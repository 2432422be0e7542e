/*
 * dbbackupfs — listing read-ahead for directory walks.
 *
 * The rule (also in dbbackupfs(1)): when a directory is opened right after its predecessor
 * in its parent's listing order, or is the first child opened after its parent was read
 * to the end — the pattern of `find`, `ls -R`, `du`, `grep -r`, which read a directory and
 * then visit its children in the order readdir gave them — the listings behind its next
 * max_conns siblings (for a project, its own services too) are fetched in the background,
 * and each further step of the walk keeps max_conns of them in flight ahead of it.  A
 * service directory read ahead for a walk also starts the first max_conns backup listings
 * of its instance directories, where the walk goes next.  This holds at
 * every level a walk descends: the services of the next projects (instance lists and project-wide
 * backup lists), the next service directories, the next instance directories' backup lists.
 * Anything else — an `ls` of one directory, of two that are not neighbours, a revisit — reads
 * nothing ahead; two neighbours, or a listed directory and one child, read at most max_conns
 * listings ahead.  Fetches go through the cache's single-flight, so a complete walk still makes
 * exactly the minimal calls.
 *
 * Owned by the mount; its threads start in dbb_prefetch_start() (after the fork).
 */
#pragma once

#include "mount.h"
#include "view.h"

G_BEGIN_DECLS

DbbPrefetch *dbb_prefetch_new(DbbMount *m, guint threads);
void dbb_prefetch_start(DbbPrefetch *p);
/* Drop queued work and wait for running fetches (idempotent). */
void dbb_prefetch_stop(DbbPrefetch *p);
void dbb_prefetch_free(DbbPrefetch *p);
/* A directory (project, service or instance) is being opened. */
void dbb_prefetch_note_open(DbbPrefetch *p, const DbbIdentity *dir);
/* The kernel has read view, the listing of dir, to its end (find and ls -R do so before
 * they descend): the first child opened next starts a walk. */
void dbb_prefetch_note_listed(DbbPrefetch *p, const DbbIdentity *dir, const DbbDirView *view);
/* Fetch the project-wide backup listing of the service directory dir in the background
 * (while the caller fetches its instance list). */
void dbb_prefetch_backups(DbbPrefetch *p, const DbbIdentity *service_dir);

G_END_DECLS
