/*
 * dbbackupfs — the unmount watcher (see unmount.h).
 *
 * libfuse has no hook between "the session exited" and "the workers are joined", and its
 * signal handlers are its own, so a thread polls fuse_session_exited() every 100 ms: cheap,
 * and it covers every way a session ends.
 */
#include "unmount.h"

#define POLL_US (100 * G_TIME_SPAN_MILLISECOND)

struct DbbUnmountWatch {
    struct fuse_session *se;
    DbbClient *client;
    GMutex lock;
    GCond cond;
    gboolean stop;
    GThread *thread;
};

static gpointer watch(gpointer data)
{
    DbbUnmountWatch *w = data;
    gboolean exited = FALSE;

    g_mutex_lock(&w->lock);
    while (!w->stop && !(exited = fuse_session_exited(w->se)))
        g_cond_wait_until(&w->cond, &w->lock, g_get_monotonic_time() + POLL_US);
    g_mutex_unlock(&w->lock);
    if (exited) {
        g_message("unmounting: aborting the API requests in flight");
        dbb_client_cancel_all(w->client);
    }
    return NULL;
}

DbbUnmountWatch *dbb_unmount_watch_start(struct fuse_session *se, DbbClient *client)
{
    DbbUnmountWatch *w = g_new0(DbbUnmountWatch, 1);

    w->se = se;
    w->client = client;
    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
    w->thread = g_thread_new("dbb-unmount", watch, w);
    return w;
}

void dbb_unmount_watch_stop(DbbUnmountWatch *w)
{
    if (w == NULL)
        return;
    g_mutex_lock(&w->lock);
    w->stop = TRUE;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
    g_thread_join(w->thread);
    if (fuse_session_exited(w->se))
        dbb_client_cancel_all(w->client); /* the prefetch threads may still be fetching */
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
    g_free(w);
}
