/*
 * dbbackupfs — GLib's mutexes and conditions on pthreads, for the ThreadSanitizer build only.
 *
 * GLib implements GMutex, GRecMutex and GCond with atomics and raw futex calls, which
 * ThreadSanitizer cannot see: every access guarded by a GMutex would be reported as a race
 * (and a real race could hide among them).  Linked into a test executable, these definitions
 * take the place of GLib's for every call made from our code (executable symbols come first),
 * so TSan sees pthread_mutex_lock()/pthread_cond_wait() and knows the happens-before order.
 * GLib's internal uses of its own locks keep GLib's code; tsan.supp covers those.
 *
 * The GLib objects are too small to hold a pthread object, so each holds a pointer to one,
 * created on first use (a zeroed GMutex is a valid unlocked mutex) and freed by _clear.
 */
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>

static gpointer make_mutex(gboolean recursive)
{
    pthread_mutex_t *m = malloc(sizeof(*m));
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    if (recursive)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    return m;
}

static pthread_mutex_t *get_mutex(gpointer *slot, gboolean recursive)
{
    gpointer m = g_atomic_pointer_get(slot);

    if (m == NULL) {
        m = make_mutex(recursive);
        if (!g_atomic_pointer_compare_and_exchange(slot, NULL, m)) {
            pthread_mutex_destroy(m);
            free(m);
            m = g_atomic_pointer_get(slot);
        }
    }
    return m;
}

static void free_slot(gpointer *slot, gboolean is_cond)
{
    gpointer p = g_atomic_pointer_get(slot);

    if (p == NULL)
        return;
    if (is_cond)
        pthread_cond_destroy(p);
    else
        pthread_mutex_destroy(p);
    free(p);
    *slot = NULL;
}

void g_mutex_init(GMutex *mutex)
{
    mutex->p = make_mutex(FALSE);
}
void g_mutex_clear(GMutex *mutex)
{
    free_slot(&mutex->p, FALSE);
}
void g_mutex_lock(GMutex *mutex)
{
    pthread_mutex_lock(get_mutex(&mutex->p, FALSE));
}
void g_mutex_unlock(GMutex *mutex)
{
    pthread_mutex_unlock(get_mutex(&mutex->p, FALSE));
}
gboolean g_mutex_trylock(GMutex *mutex)
{
    return pthread_mutex_trylock(get_mutex(&mutex->p, FALSE)) == 0;
}

void g_rec_mutex_init(GRecMutex *rec_mutex)
{
    rec_mutex->p = make_mutex(TRUE);
}
void g_rec_mutex_clear(GRecMutex *rec_mutex)
{
    free_slot(&rec_mutex->p, FALSE);
}
void g_rec_mutex_lock(GRecMutex *rec_mutex)
{
    pthread_mutex_lock(get_mutex(&rec_mutex->p, TRUE));
}
void g_rec_mutex_unlock(GRecMutex *rec_mutex)
{
    pthread_mutex_unlock(get_mutex(&rec_mutex->p, TRUE));
}
gboolean g_rec_mutex_trylock(GRecMutex *rec_mutex)
{
    return pthread_mutex_trylock(get_mutex(&rec_mutex->p, TRUE)) == 0;
}

static pthread_cond_t *get_cond(GCond *cond)
{
    gpointer c = g_atomic_pointer_get(&cond->p);

    if (c == NULL) {
        pthread_condattr_t attr;

        c = malloc(sizeof(pthread_cond_t));
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* g_cond_wait_until's clock */
        pthread_cond_init(c, &attr);
        pthread_condattr_destroy(&attr);
        if (!g_atomic_pointer_compare_and_exchange(&cond->p, NULL, c)) {
            pthread_cond_destroy(c);
            free(c);
            c = g_atomic_pointer_get(&cond->p);
        }
    }
    return c;
}

void g_cond_init(GCond *cond)
{
    cond->p = NULL;
}
void g_cond_clear(GCond *cond)
{
    free_slot(&cond->p, TRUE);
}
void g_cond_signal(GCond *cond)
{
    pthread_cond_signal(get_cond(cond));
}
void g_cond_broadcast(GCond *cond)
{
    pthread_cond_broadcast(get_cond(cond));
}
void g_cond_wait(GCond *cond, GMutex *mutex)
{
    pthread_cond_wait(get_cond(cond), get_mutex(&mutex->p, FALSE));
}
gboolean g_cond_wait_until(GCond *cond, GMutex *mutex, gint64 end_time)
{
    struct timespec ts = {end_time / G_USEC_PER_SEC, (end_time % G_USEC_PER_SEC) * 1000};

    return pthread_cond_timedwait(get_cond(cond), get_mutex(&mutex->p, FALSE), &ts) == 0;
}
