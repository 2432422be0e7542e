/*
 * dbbackupfs — signals that always work, whatever the daemon inherited.
 *
 * A background job of a non-interactive shell starts with SIGINT ignored, and libfuse's
 * fuse_set_signal_handlers() keeps an ignored signal ignored, so such a daemon never stopped
 * on Ctrl-C.  Instead: dbb_signals_block() blocks SIGINT, SIGTERM, SIGHUP and SIGUSR1 in the
 * calling thread and resets their dispositions to the default, before any other thread
 * exists (threads inherit the mask, so none of them ever runs a handler); one thread then
 * takes them from a signalfd and calls back, outside any signal context.
 *
 * Promises:
 * - SIGINT and SIGTERM call `stop` once; when it returns TRUE (the session loop runs), the
 *   session thread (the thread that called dbb_signals_start(), which runs the FUSE loop)
 *   is woken with SIGUSR2 every 100 ms until dbb_signals_stop(): libfuse's loops look at
 *   fuse_session_exited() only after a read or a wait returns, and a single wake-up could
 *   fall just before the thread blocks.  A second SIGINT/SIGTERM is ignored (the first is
 *   being acted on).
 * - SIGHUP calls `refresh`, SIGUSR1 `report`, each time, in the signal thread.
 * - dbb_signals_stop() ends and joins the thread; signals arriving later stay blocked.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    gboolean (*stop)(int signo, gpointer data); /* SIGINT, SIGTERM: end the session */
    void (*refresh)(gpointer data);             /* SIGHUP */
    void (*report)(gpointer data);              /* SIGUSR1 */
    gpointer data;
} DbbSignalHandlers;

typedef struct DbbSignals DbbSignals;

/* Call first in main(), before any thread starts. */
void dbb_signals_block(void);

/* Starts the signal thread; the calling thread is the one woken after `stop`. */
DbbSignals *dbb_signals_start(const DbbSignalHandlers *handlers, GError **error);
void dbb_signals_stop(DbbSignals *s);

/* Ends the process as signo's default action does (from `stop`, before anything is
 * mounted: a daemon that has nothing to unmount yet just goes). */
void dbb_signals_default_action(int signo) G_GNUC_NORETURN;

G_END_DECLS
