/*
 * dbbackupfs — HTTP for the cloud client (internal to api/).
 *
 * Promises:
 * - libcurl; connections reused across requests and threads through a pool of easy handles
 *   (libcurl's shared connection cache is not thread-safe), DNS and TLS sessions shared
 *   through one share handle; TLS peers always verified (system store plus the optional
 *   cafile).  User-Agent "dbbackupfs/<version> (libcurl/<version>)".
 * - At most max_conns requests in flight at once across all threads.  The wait for a free
 *   one counts against the request's deadline, and a failure after a wait of 100 ms or more
 *   says how long it waited.  A freed connection goes to the waiting request of the calling
 *   thread's smallest rank (priority.h: demand first), equal ranks in arrival order.
 * - dbb_http_get_json() retries a GET on connection errors, timeouts, 5xx, 429 and a body cut
 *   short on the wire, with exponential backoff and full jitter, honouring Retry-After, and
 *   never past the request's deadline.  A 2xx body that is not valid JSON or nests deeper
 *   than 64 levels is retried once only; one larger than 64 MiB (after decoding) not at all.
 *   It succeeds only with a 2xx whose body parses as JSON.  Redirects are never followed.
 * - dbb_http_cancel_all(): every request in flight aborts within about a second (curl's
 *   progress callback), every wait (connection slot, backoff) ends at once, and every later
 *   request fails at once: EIO, "cancelled (unmounting)".
 * - On failure it logs one line (service, path and query, status, error_code/error_msg from
 *   the body — also DDM's errCode/externalMessage and IAM's error.code/error.message — and
 *   X-Request-Id) and sets a DBB_API_ERROR with the same text; no credential ever appears.
 * - Every attempt sent is counted in config->counters (when set): route, status class
 *   ("none" without a complete answer), time from sending to the end of the answer, and
 *   whether it was a retry.
 * - With AK/SK credentials the request is signed (content-type;host;x-project-id;
 *   x-sdk-date, plus x-security-token / x-domain-id when sent); with a token it carries
 *   X-Auth-Token.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "credentials.h"
#include "sign.h"
#include "stats.h"

G_BEGIN_DECLS

typedef struct DbbHttp DbbHttp;

typedef struct {
    unsigned max_conns;
    const char *cafile; /* or NULL */
    /* Borrowed, not copied (one copy of each secret in the process): must outlive the
     * DbbHttp.  NULL: no credentials. */
    const DbbCredentials *credentials;
    /* Send credentials over plain http:// to hosts other than loopback; otherwise such a
     * request fails with EACCES before anything is sent. */
    gboolean allow_insecure_http;
    /* Connect timeout cap in seconds (the deadline still rules); 0: 10 s. */
    double connect_timeout;
    DbbApiCounters *counters; /* every attempt is counted here; may be NULL; not owned */
} DbbHttpConfig;

typedef struct {
    const char *service;  /* for logs and errors: "taurusdb", "geminidb", "ddm", "iam" */
    const char *base_url; /* "scheme://host[:port][/prefix]", no trailing '/' */
    const char *path;     /* "/v3/<project_id>/instances": segments of unreserved characters */
    const char *route;    /* the path's template, the counters' label; NULL: path */
    const DbbQueryParam *query;
    gsize n_query;
    const char *project_id; /* X-Project-Id with AK/SK; NULL for IAM */
    gboolean global;        /* IAM: send X-Domain-Id with AK/SK when one is configured */
    gint64 deadline;        /* g_get_monotonic_time() value the call must finish by;
                             * 0: 30 s from the call */
    /* POST: the JSON body (IAM's token request), else NULL for a GET.  The body is never
     * logged. */
    const char *post_body;
    /* X-Auth-Token for this request (a token got by password), overriding the
     * credentials; NULL: the credentials decide. */
    const char *auth_token;
    /* A secret besides the credentials that no message may carry (the password); may be
     * NULL. */
    const char *redact;
} DbbHttpRequest;

typedef struct {
    long status;
    json_object *json;   /* the parsed body (owned) */
    GBytes *body;        /* the exact body bytes (owned), NUL-terminated past its size */
    char *request_id;    /* X-Request-Id, or NULL */
    char *subject_token; /* X-Subject-Token (IAM's token), or NULL; wiped when cleared */
} DbbHttpResponse;

DbbHttp *dbb_http_new(const DbbHttpConfig *config, GError **error);
void dbb_http_free(DbbHttp *http);

/* On failure response->status still holds the last HTTP status (0: none), so a caller can
 * tell a 401 from the rest. */
gboolean dbb_http_get_json(DbbHttp *http, const DbbHttpRequest *request, DbbHttpResponse *response,
                           GError **error);
void dbb_http_response_clear(DbbHttpResponse *response);

void dbb_http_cancel_all(DbbHttp *http);

/* The "HTTP <status>[ <code>][: <message>][ (request id <id>)]" part of a failure message
 * for a response of `status` with body[0..len), as dbb_http_get_json() writes it (exposed
 * for tests and the fuzzer; not yet stripped of credentials). */
char *dbb_http_error_detail(long status, const guint8 *body, gsize len);

/* Number of requests sent so far (attempts, retries included); for tests and the bench. */
guint64 dbb_http_requests_sent(DbbHttp *http);

G_END_DECLS
