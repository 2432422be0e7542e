/*
 * dbbackupfs — where log lines go: stderr in the foreground, syslog once daemonised
 * (stderr is /dev/null then).  Debug lines only with -d.  Callers use g_message/g_warning/
 * g_debug; nothing here formats secrets because nothing logged holds one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void dbb_log_init(gboolean debug);
/* Switch to syslog (after daemonising). */
void dbb_log_use_syslog(void);

G_END_DECLS
