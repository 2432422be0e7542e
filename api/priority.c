/*
 * dbbackupfs — the priority of the calling thread's API requests.
 */
#include "priority.h"

/* Per thread, not per process: each thread states its own class (0 until it does). */
static _Thread_local guint64 thread_rank;

void dbb_priority_set(guint64 rank)
{
    thread_rank = rank;
}

guint64 dbb_priority_get(void)
{
    return thread_rank;
}
