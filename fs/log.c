/*
 * dbbackupfs — log writer (see log.h).
 *
 * The target is read by every logging thread and changes a few times at start-up and on
 * SIGHUP, so it lives in atomics; reopening a file dup2()s the new descriptor over the old
 * one, so a concurrent writer writes to one or the other, never to a closed descriptor.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

typedef enum {
    TARGET_STDERR,
    TARGET_SYSLOG,
    TARGET_FILE,
} Target;

static gboolean debug_enabled;
static gint target = TARGET_STDERR; /* atomic */
static gint out_fd = STDERR_FILENO; /* atomic: stderr (or our copy of it), or the file */
static gboolean syslog_after_fork;  /* the default target of a daemon */
static char *file_path;             /* log=PATH, absolute */

static const char *field(const GLogField *fields, gsize n, const char *key)
{
    for (gsize i = 0; i < n; i++)
        if (g_str_equal(fields[i].key, key) && fields[i].length < 0)
            return fields[i].value;
    return NULL;
}

static int syslog_priority(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return LOG_ERR;
    if (level & G_LOG_LEVEL_WARNING)
        return LOG_WARNING;
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return LOG_INFO;
    return LOG_DEBUG;
}

static const char *level_name(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return "error";
    if (level & G_LOG_LEVEL_WARNING)
        return "warning";
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return "info";
    return "debug";
}

/* One line, one write(): O_APPEND makes it atomic against other writers of the file. */
static void write_line(int fd, const char *line, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to say it */
        line += n;
        len -= (gsize)n;
    }
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                               gpointer data)
{
    const char *msg = field(fields, n, "MESSAGE");
    Target t = (Target)g_atomic_int_get(&target);
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *ts = NULL;
    g_autofree char *line = NULL;

    if ((level & G_LOG_LEVEL_DEBUG) && !debug_enabled)
        return G_LOG_WRITER_HANDLED;
    if (!msg)
        msg = "";
    if (t == TARGET_SYSLOG) {
        syslog(syslog_priority(level), "%s", msg);
        return G_LOG_WRITER_HANDLED;
    }
    now = g_date_time_new_now_local();
    if (t == TARGET_FILE) {
        ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
        line = g_strdup_printf("%s dbbackupfs[%d] %s: %s\n", ts, (int)getpid(), level_name(level),
                               msg);
    } else {
        ts = g_date_time_format(now, "%H:%M:%S.%f");
        line = g_strdup_printf("dbbackupfs[%s] %s: %s\n", ts, level_name(level), msg);
    }
    write_line(g_atomic_int_get(&out_fd), line, strlen(line));
    return G_LOG_WRITER_HANDLED;
}

void dbb_log_init(gboolean debug)
{
    static gsize installed;

    debug_enabled = debug;
    /* GLib allows one writer per process; later calls only change the level. */
    if (g_once_init_enter(&installed))
        g_once_init_leave(&installed, (g_log_set_writer_func(writer, NULL, NULL), 1));
}

static void use_syslog(void)
{
    openlog("dbbackupfs", LOG_PID, LOG_DAEMON);
    g_atomic_int_set(&target, TARGET_SYSLOG);
}

static int open_log_file(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

    if (fd < 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "log=%s: cannot open it: %s", path, g_strerror(saved));
    }
    return fd;
}

static gboolean setup_file(const char *spec, GError **error)
{
    g_autofree char *path = g_canonicalize_filename(spec, NULL);
    int fd = open_log_file(path, error);

    if (fd < 0)
        return FALSE;
    g_free(file_path);
    file_path = g_steal_pointer(&path);
    g_atomic_int_set(&out_fd, fd);
    g_atomic_int_set(&target, TARGET_FILE);
    return TRUE;
}

static void warn_without_dev_log(void)
{
    if (!g_file_test("/dev/log", G_FILE_TEST_EXISTS))
        fprintf(stderr, "dbbackupfs: warning: logging to syslog, but there is no /dev/log: "
                        "log lines will be lost (use -o log=PATH, or -f)\n");
}

gboolean dbb_log_setup(const char *spec, gboolean foreground, GError **error)
{
    if (spec && !*spec) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "log= needs syslog, stderr or a file's path");
        return FALSE;
    }
    if (!spec) {
        syslog_after_fork = !foreground;
        if (!foreground)
            warn_without_dev_log();
        return TRUE;
    }
    if (g_str_equal(spec, "syslog")) {
        warn_without_dev_log();
        if (foreground)
            use_syslog();
        syslog_after_fork = !foreground;
        return TRUE;
    }
    if (g_str_equal(spec, "stderr")) {
        /* Our own copy: daemonising points descriptor 2 at /dev/null. */
        int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd >= 0)
            g_atomic_int_set(&out_fd, fd);
        return TRUE;
    }
    return setup_file(spec, error);
}

void dbb_log_daemonised(void)
{
    if (syslog_after_fork)
        use_syslog();
}

void dbb_log_reopen(void)
{
    g_autoptr(GError) error = NULL;
    int fd;

    if (g_atomic_int_get(&target) != TARGET_FILE)
        return;
    fd = open_log_file(file_path, &error);
    if (fd < 0) {
        g_warning("%s; still writing to the old file", error->message);
        return;
    }
    /* Atomically over the old descriptor: a writer never sees a closed one. */
    dup3(fd, g_atomic_int_get(&out_fd), O_CLOEXEC);
    close(fd);
}
