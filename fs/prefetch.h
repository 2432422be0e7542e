/*
 * dbbackupfs — listing read-ahead for directory walks.
 *
 * When a second instance directory of one service directory is opened within a few
 * seconds of the first — the pattern of `find`, `ls -R`, `du`, `grep -r` — the backup
 * listings of its other instances are fetched in the background, max_conns at a time, in
 * the order the walk will visit them.  Only listings the walk is about to ask for are
 * fetched, through the cache's single-flight, so a complete walk still makes exactly the
 * minimal number of calls, but over a slow API it waits for max_conns listings at a time
 * instead of one.  A lone `ls` of one instance directory triggers nothing.
 */
#pragma once

#include "fs.h"

G_BEGIN_DECLS

void dbb_prefetch_init(DbbFs *fs, guint threads);
/* An instance directory is being opened. */
void dbb_prefetch_note_open(DbbFs *fs, const DbbIdentity *instance_dir);
/* Drop queued work and wait for running fetches (before the mount's state is freed). */
void dbb_prefetch_shutdown(DbbFs *fs);

G_END_DECLS
