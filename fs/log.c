/*
 * dbbackupfs — log writer.
 */
#include "log.h"

#include <stdio.h>
#include <syslog.h>

static gboolean debug_enabled;
static gboolean use_syslog;

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

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                               gpointer data)
{
    const char *msg = field(fields, n, "MESSAGE");

    if ((level & G_LOG_LEVEL_DEBUG) && !debug_enabled)
        return G_LOG_WRITER_HANDLED;
    if (!msg)
        msg = "";
    if (use_syslog) {
        syslog(syslog_priority(level), "%s", msg);
        return G_LOG_WRITER_HANDLED;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *ts = g_date_time_format(now, "%H:%M:%S.%f");
    fprintf(stderr, "dbbackupfs[%s] %s: %s\n", ts, level_name(level), msg);
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

void dbb_log_use_syslog(void)
{
    openlog("dbbackupfs", LOG_PID, LOG_DAEMON);
    use_syslog = TRUE;
}
