/*
 * dbbackupfs — where log lines go (-o log=syslog|stderr|PATH).
 *
 * Default: stderr with -f, syslog once daemonised.  log=stderr keeps writing to the stderr
 * the daemon was started with, even once daemonised (a service manager that captures it gets
 * the lines); log=PATH appends to PATH, opened before forking (so a bad path is an error at
 * mount time) and reopened by dbb_log_reopen() (SIGHUP, after logrotate moved it);
 * log=syslog with no /dev/log is said on stderr before forking, since every line would be
 * lost.  Debug lines only with -d.  Callers use g_message/g_warning/g_debug; nothing here
 * formats secrets because nothing logged holds one.  Each line is written with one write(),
 * so lines of concurrent threads never interleave.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void dbb_log_init(gboolean debug);

/* Choose the target from the log= value (NULL: the default); before forking.  FALSE with a
 * message when PATH cannot be opened or the value is empty. */
gboolean dbb_log_setup(const char *spec, gboolean foreground, GError **error);

/* After daemonising: the default target switches to syslog now. */
void dbb_log_daemonised(void);

/* Reopen log=PATH (a no-op for the other targets). */
void dbb_log_reopen(void);

G_END_DECLS
