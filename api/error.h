/*
 * dbbackupfs — errors of the cloud client.
 *
 * Every failing api/ call sets a GError in DBB_API_ERROR whose code is the errno the
 * filesystem should report: EACCES (HTTP 401/403), ENOENT (404), EIO (everything else that
 * failed after retries: 5xx, 429, timeouts, connection errors, malformed or truncated JSON).
 * The message is one line and never holds a credential:
 *
 *   <service>: GET <path>?<query>: HTTP <status> <error_code>: <error_msg> (request id <id>)
 *
 * with "HTTP 0" and curl's text for transport failures, and the parts that are unknown left
 * out.  The api layer logs each failure once (g_warning) when it gives up; callers need not.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DBB_API_ERROR (dbb_api_error_quark())
GQuark dbb_api_error_quark(void);

/* errno for an HTTP status: 401/403 -> EACCES, 404 -> ENOENT, other -> EIO. */
int dbb_errno_for_status(long status);

G_END_DECLS
