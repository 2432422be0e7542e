/*
 * dbbackupfs — the priority of the calling thread's API requests.
 *
 * A request made for someone who is waiting for it (a FUSE request the kernel holds) should
 * not queue behind read-ahead, and read-ahead should finish the listing asked for first
 * before the ones asked for later.  The class travels with the thread so that no layer
 * between the read-ahead and api/http.c has to pass it along.
 *
 * Promises:
 * - dbb_priority_get() is DBB_PRIORITY_DEMAND (0) on a thread that never set one.
 * - A request made on a thread whose rank is r waits for a connection slot behind every
 *   waiting request of a rank below r, and ahead of every one of a rank above r; among
 *   equal ranks, first come, first served (api/http.c).
 * - The paginator's page workers take the rank of the thread whose listing spawned them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DBB_PRIORITY_DEMAND ((guint64)0)

/* The rank of the calling thread's later requests: DBB_PRIORITY_DEMAND, or a larger number
 * for background work (smaller = sooner). */
void dbb_priority_set(guint64 rank);
guint64 dbb_priority_get(void);

G_END_DECLS
