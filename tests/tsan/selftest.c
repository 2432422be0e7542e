/*
 * tools/tsan's own check that the ThreadSanitizer set-up can fail: two threads increment a
 * counter under a GMutex (through gsync_shim.c: no report expected), then without it (one
 * report expected).  Run as "selftest locked" or "selftest racy".
 */
#include <glib.h>
#include <string.h>

static GMutex lock;
static volatile int counter;
static gboolean use_lock;

static gpointer bump(gpointer data)
{
    for (int i = 0; i < 100000; i++) {
        if (use_lock)
            g_mutex_lock(&lock);
        counter = counter + 1;
        if (use_lock)
            g_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    GThread *a, *b;

    use_lock = argc > 1 && strcmp(argv[1], "locked") == 0;
    a = g_thread_new("a", bump, NULL);
    b = g_thread_new("b", bump, NULL);
    g_thread_join(a);
    g_thread_join(b);
    return use_lock && counter != 200000;
}
