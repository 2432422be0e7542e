/*
 * dbbackupfs — the cloud client: one object shared by every thread of the daemon.
 *
 * Promises:
 * - Every listing is complete (all pages, fetched with the largest page the API allows,
 *   the pages after the first concurrently, merged by ID) or the call fails with a
 *   DBB_API_ERROR (see error.h).  A listing is never silently short.
 * - At most `max_conns` HTTP requests are in flight at once, whatever the number of
 *   calling threads; connections are reused across requests and threads.
 * - Each API request (one page, its retries included) takes at most `timeout` seconds, so a
 *   listing that fails at its first page fails within `timeout`; a whole listing takes at
 *   most its listing_timeout, and holds at most max_records records and max_listing_bytes
 *   bytes of pages, or fails (EIO, one log line).
 * - dbb_client_cancel_all() makes every request in flight or to come fail at once (EIO,
 *   "cancelled"): unmounting never waits for the network.
 * - GETs are retried with exponential backoff and full jitter, honouring Retry-After.
 * - No credential ever reaches a log line or an error message.
 * - With password credentials, every project's requests carry that project's token (IAM's
 *   a domain-scoped one), got and renewed as token.h promises; a request refused with 401
 *   is sent once more after one re-authentication shared by every concurrent caller.
 * - With a fixed token (DBB_AUTH_TOKEN), a 401 for a project the token worked for before
 *   logs that the token has expired (it cannot be renewed) and fails with EACCES.
 * - Every HTTP attempt is counted, by service, route template and status class, with its
 *   latency (dbb_client_stats(), see stats.h); the client owns the counters.
 * Thread-safe: any number of threads may call any function at once.
 */
#pragma once

#include <glib.h>

#include "credentials.h"
#include "model.h"
#include "stats.h"

G_BEGIN_DECLS

typedef struct DbbClient DbbClient;
typedef struct DbbService DbbService;

typedef struct {
    /* Base URL for every service and IAM; "{service}" (taurusdb, geminidb, ddm, iam) and
     * "{region}" are replaced.  NULL: the public per-region hosts. */
    const char *endpoint;
    /* Per-service override of `endpoint` (same placeholders), keyed by service name
     * ("taurusdb", "geminidb", "ddm", "iam"); may be NULL. */
    GHashTable *service_endpoints;
    double timeout;     /* seconds; one API request, retries included (default 30) */
    unsigned max_conns; /* concurrent requests (default 8) */
    const char *cafile; /* extra CA bundle, or NULL */
    /* Copied: the caller may (and main does) wipe its own right after. */
    const DbbCredentials *credentials;
    /* Send credentials over plain http:// to non-loopback hosts (see http.h). */
    gboolean allow_insecure_http;
    /* IAM region used for the project list when no endpoint is configured; NULL: global. */
    const char *iam_region;
    /* Listing-wide bounds: beyond them a listing fails with EIO and a log line.  0: 1,000,000
     * records, 512 MiB of page bodies, 10 x timeout seconds. */
    guint64 max_records;
    guint64 max_listing_bytes;
    double listing_timeout;
    /* Password authentication: after a token refused with 401 before its expiry, no second
     * re-auth for that project within this many seconds (the mount's ttl; default 60). */
    double reauth_interval;
} DbbClientConfig;

DbbClient *dbb_client_new(const DbbClientConfig *config, GError **error);
void dbb_client_free(DbbClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DbbClient, dbb_client_free)

/* IAM GET /v3/auth/projects; the system project MOS is left out.  Elements: DbbProject. */
GPtrArray *dbb_client_list_projects(DbbClient *client, GError **error);

/* Elements: DbbInstance. */
GPtrArray *dbb_client_list_instances(DbbClient *client, const DbbService *service,
                                     const DbbProject *project, GError **error);

/* Backups of one instance (instance_id non-NULL; services of DBB_BACKUPS_PER_INSTANCE scope)
 * or of the whole project (instance_id NULL; DBB_BACKUPS_PER_PROJECT scope).  Elements:
 * DbbBackup. */
GPtrArray *dbb_client_list_backups(DbbClient *client, const DbbService *service,
                                   const DbbProject *project, const char *instance_id,
                                   GError **error);

/* Abort every request in flight and fail every later one (EIO, "cancelled"): for unmounting
 * within `timeout` whatever the network does.  Thread-safe, not async-signal-safe. */
void dbb_client_cancel_all(DbbClient *client);

/* The configured listing-wide byte cap (for what is built from a listing: rendered files). */
guint64 dbb_client_max_listing_bytes(DbbClient *client);

/* How long one listing (all its pages) may take, in µs: what a caller waiting for another's
 * listing should wait at most. */
gint64 dbb_client_listing_timeout(DbbClient *client);
/* A copy of the request counters (see stats.h); free it with dbb_api_stats_clear(). */
void dbb_client_stats(DbbClient *client, DbbApiStats *out);

G_END_DECLS
