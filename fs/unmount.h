/*
 * dbbackupfs — unmounting within `timeout` whatever is in flight.
 *
 * When the session ends (SIGTERM/SIGINT, or `fusermount -u`), libfuse waits for every
 * worker to finish its request before the loop returns; a worker may be deep in a listing
 * of many pages.  The watcher notices the end of the session within 100 ms and cancels the
 * client, so every request in flight aborts and every later one fails at once, and the
 * workers reply EIO and return.
 *
 * Promise: between dbb_unmount_watch_start() and _stop(), the client is cancelled at most
 * ~1.1 s (curl's progress callback period plus the poll) after the session has exited.
 */
#pragma once

#include <fuse_lowlevel.h>

#include "api/client.h"

G_BEGIN_DECLS

typedef struct DbbUnmountWatch DbbUnmountWatch;

DbbUnmountWatch *dbb_unmount_watch_start(struct fuse_session *se, DbbClient *client);
/* Stops the watcher (cancelling the client if the session had ended) and frees it. */
void dbb_unmount_watch_stop(DbbUnmountWatch *w);

G_END_DECLS
