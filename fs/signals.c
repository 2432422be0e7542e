/*
 * dbbackupfs — the signal thread (see signals.h): a signalfd and a stop pipe under poll().
 *
 * Waking the session thread: libfuse 3.14's multi-threaded loop waits in sem_wait() for a
 * worker to finish and its single-threaded loop in read() on /dev/fuse; both look at
 * fuse_session_exited() when that call returns, which a signal with a handler installed
 * without SA_RESTART makes it do (EINTR).  That is what libfuse's own handler relies on;
 * here the handler does nothing and the session thread alone gets the signal (pthread_kill).
 */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <glib-unix.h>

#define WAKE_SIGNAL    SIGUSR2
#define WAKE_PERIOD_MS 100

static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};

struct DbbSignals {
    DbbSignalHandlers h;
    pthread_t session_thread;
    int sfd;
    int stop_pipe[2];
    GThread *thread;
};

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (gsize i = 0; i < G_N_ELEMENTS(handled); i++)
        sigaddset(set, handled[i]);
}

void dbb_signals_block(void)
{
    struct sigaction dfl;
    sigset_t set;

    handled_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* Blocked signals stay pending even when ignored on Linux, but POSIX leaves that open:
     * back to the default, which never runs while they are blocked. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (gsize i = 0; i < G_N_ELEMENTS(handled); i++)
        sigaction(handled[i], &dfl, NULL);
}

void dbb_signals_default_action(int signo)
{
    struct sigaction dfl;
    sigset_t set;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(signo);
    _exit(128 + signo); /* a signal whose default is not to end the process */
}

static void wake_handler(int signo)
{
    /* Nothing: the point is the EINTR it causes in the session thread. */
}

static gboolean install_wake(GError **error)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = wake_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the blocking call must return */
    if (sigaction(WAKE_SIGNAL, &sa, NULL) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "sigaction: %s",
                    g_strerror(saved));
        return FALSE;
    }
    sigemptyset(&set);
    sigaddset(&set, WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return TRUE;
}

static void dispatch(DbbSignals *s, int signo, gboolean *stopping)
{
    switch (signo) {
    case SIGINT:
    case SIGTERM:
        if (*stopping || !s->h.stop)
            return;
        *stopping = s->h.stop(signo, s->h.data); /* may end the process (nothing mounted) */
        g_message("%s: unmounting", signo == SIGINT ? "SIGINT" : "SIGTERM");
        if (*stopping)
            pthread_kill(s->session_thread, WAKE_SIGNAL);
        break;
    case SIGHUP:
        if (s->h.refresh)
            s->h.refresh(s->h.data);
        /* After: refresh reopens a log file, where this line belongs. */
        g_message("SIGHUP: every cached listing dropped");
        break;
    case SIGUSR1:
        if (s->h.report)
            s->h.report(s->h.data);
        break;
    }
}

static gpointer signal_main(gpointer data)
{
    DbbSignals *s = data;
    gboolean stopping = FALSE;

    for (;;) {
        struct pollfd fds[2] = {{s->sfd, POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};
        struct signalfd_siginfo si;
        int n = poll(fds, 2, stopping ? WAKE_PERIOD_MS : -1);

        if (n < 0 && errno != EINTR)
            g_error("signals: poll: %s", g_strerror(errno)); /* cannot happen */
        if (fds[1].revents)
            break;
        if (stopping)
            pthread_kill(s->session_thread, WAKE_SIGNAL);
        if (n > 0 && (fds[0].revents & POLLIN) && read(s->sfd, &si, sizeof(si)) == sizeof(si))
            dispatch(s, (int)si.ssi_signo, &stopping);
    }
    return NULL;
}

DbbSignals *dbb_signals_start(const DbbSignalHandlers *handlers, GError **error)
{
    DbbSignals *s = g_new0(DbbSignals, 1);
    sigset_t set;

    s->h = *handlers;
    s->session_thread = pthread_self();
    s->sfd = s->stop_pipe[0] = s->stop_pipe[1] = -1;
    handled_set(&set);
    s->sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (s->sfd < 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "signalfd: %s",
                    g_strerror(saved));
        goto fail;
    }
    if (!g_unix_open_pipe(s->stop_pipe, FD_CLOEXEC, error) || !install_wake(error))
        goto fail;
    s->thread = g_thread_new("dbb-signals", signal_main, s);
    return s;
fail:
    dbb_signals_stop(s);
    return NULL;
}

void dbb_signals_stop(DbbSignals *s)
{
    if (!s)
        return;
    if (s->thread) {
        char byte = 0;
        while (write(s->stop_pipe[1], &byte, 1) < 0 && errno == EINTR)
            ;
        g_thread_join(s->thread);
    }
    if (s->sfd >= 0)
        close(s->sfd);
    for (int i = 0; i < 2; i++)
        if (s->stop_pipe[i] >= 0)
            close(s->stop_pipe[i]);
    g_free(s);
}
