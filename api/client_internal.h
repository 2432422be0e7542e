/*
 * dbbackupfs — the client's insides, shared by client.c, iam.c and services.c (internal
 * to api/).
 */
#pragma once

#include <glib.h>

#include "client.h"
#include "credentials.h"
#include "http.h"
#include "service_ops.h"
#include "token.h"

G_BEGIN_DECLS

struct DbbClient {
    DbbHttp *http;
    DbbApiCounters *counters;      /* the http layer counts into it */
    DbbCredentials credentials;    /* our copy: the http layer points at it */
    char *endpoint;                /* template or NULL */
    GHashTable *service_endpoints; /* service name -> template (owned copies) */
    gint64 timeout_us;
    unsigned max_conns;
    guint64 max_records; /* listing-wide caps; 0: the paginator's defaults */
    guint64 max_listing_bytes;
    gint64 listing_timeout_us; /* deadline of one whole listing */
    char *iam_region;
    DbbTokens *tokens; /* password authentication, else NULL */
    /* A fixed token: the scopes ("" for IAM) it has worked for, to tell "expired" from
     * "another project's token". */
    GMutex token_lock;
    GHashTable *token_worked;
    gboolean token_expiry_logged;
};

/* One API call with the client's credentials (scope: the project ID the request is for,
 * NULL for IAM): see client.h for the token rules. */
gboolean dbb_client_call(DbbClient *client, DbbHttpRequest *request, const char *scope,
                         DbbHttpResponse *response, GError **error);

/* token_iam.c: a DbbTokenFetchFunc (data: the client) asking IAM by password. */
gboolean dbb_iam_password_token(gpointer data, const char *project_id, char **token,
                                gint64 *issued_at, gint64 *expires_at, GError **error);

/* Base URL of `service` (a directory name, or "iam") in `region` from the configured
 * template or the public hosts (https://<host_prefix>.<region>...). */
char *dbb_client_base_url(DbbClient *client, const char *service, const char *host_prefix,
                          const char *region, GError **error);

/* The deadline of a request started now. */
gint64 dbb_client_deadline(DbbClient *client);

/* A complete listing: one table of `service` for `project` (and instance_id for
 * per-instance listings), paginated and parsed.  Elements: DbbInstance or DbbBackup. */
GPtrArray *dbb_client_fetch_listing(DbbClient *client, const DbbService *service,
                                    const DbbProject *project, const DbbListingTable *table,
                                    gboolean is_backups, const char *instance_id, GError **error);

/* IDs go into URL paths: a segment must be non-empty, not "." or "..", and free of '/',
 * '?', '#', '%' and control bytes, so nothing can escape it (the http layer percent-encodes
 * whatever else it holds; '%' is refused because signers disagree on decoding it). */
gboolean dbb_path_segment_ok(const char *segment);

/* services.c: the listings behind dbb_client_list_instances()/_backups(). */
GPtrArray *dbb_service_list_instances(DbbClient *client, const DbbService *service,
                                      const DbbProject *project, GError **error);
GPtrArray *dbb_service_list_backups(DbbClient *client, const DbbService *service,
                                    const DbbProject *project, const char *instance_id,
                                    GError **error);

/* deleted.c: `instances` (taken) followed by one instance per instance_id of `backups`
 * (borrowed; copies are kept) that `instances` does not list, carrying those backups (see
 * DbbInstance.backups).  Backups of listed instances are left out: their own listing shows
 * them. */
GPtrArray *dbb_instances_add_deleted(const DbbService *service, GPtrArray *instances,
                                     const GPtrArray *backups);

/* iam.c */
GPtrArray *dbb_iam_list_projects(DbbClient *client, GError **error);
/* The projects of an IAM response body (exposed for tests). */
GPtrArray *dbb_iam_parse_projects(json_object *body, GError **error);

G_END_DECLS
