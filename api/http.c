/*
 * dbbackupfs — HTTP for the cloud client: libcurl, signing, retries, error extraction.
 *
 * Connection reuse.  libcurl documents (KNOWN_BUGS, curl_share_setopt(3)) that sharing the
 * connection cache (CURL_LOCK_DATA_CONNECT) between concurrently running threads is not
 * thread-safe, and curl issues #4544/#4915/#13347 show the crashes.  So the share handle
 * carries only the DNS cache and the TLS session cache (both safe with per-data locks), and
 * connections are reused by keeping a LIFO pool of easy handles: an easy handle keeps its
 * live connections across transfers and curl_easy_reset(), and any thread may pick it up
 * (never two at a time).  The most recently used handle is handed out first, so sequential
 * requests ride one warm connection.
 *
 * Trust.  Peers are always verified.  With a cafile, CURLOPT_CAINFO points at it and
 * CURLOPT_CAPATH keeps libcurl's built-in default (/etc/ssl/certs on Debian), so the system
 * store stays trusted as well; dbb_http_new() logs when the libcurl build has no such
 * default, because the cafile then replaces the system store.
 */
#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dbb-config.h"
#include "error.h"
#include "priority.h"

/* Full-jitter backoff: sleep uniform(0, min(CAP, BASE * 2^attempt)).  100 ms doubles to the
 * 5 s cap after six attempts; Huawei's FAQ suggests retrying 429s after 2–5 s. */
#define BACKOFF_BASE_US (100 * G_TIME_SPAN_MILLISECOND)
#define BACKOFF_CAP_US  (5 * G_TIME_SPAN_SECOND)
/* A retry is sent only if at least this much time would remain before the deadline after
 * the backoff: less cannot complete a round trip to a cloud endpoint and would only add load
 * (and a request that times out at the deadline leaves about 0 ms, so it ends the call). */
#define MIN_RETRY_BUDGET_US (50 * G_TIME_SPAN_MILLISECOND)
/* No listing page comes anywhere near this; it only stops a runaway server. */
#define MAX_BODY_BYTES      (64u << 20)
#define DEFAULT_MAX_CONNS   8u
#define DEFAULT_CONNECT_S   10.0
#define DEFAULT_DEADLINE_US (30 * G_TIME_SPAN_SECOND)
#define MAX_ERROR_MSG_BYTES 512
#define JSON_MAX_DEPTH      64
/* A failed request that waited this long for a connection slot says so in its error. */
#define SLOT_WAIT_NOTE_US (100 * G_TIME_SPAN_MILLISECOND)
/* Error codes and request IDs are a few dozen bytes; longer ones from a server are cut. */
#define MAX_ERROR_CODE_BYTES 128

/* One thread waiting for a slot; slot_release() hands it one directly (`granted`), so a
 * later arrival of a lower priority cannot take it first. */
typedef struct {
    guint64 rank;
    GCond cond;
    gboolean granted;
} SlotWaiter;

struct DbbHttp {
    CURLSH *share;
    GMutex share_locks[CURL_LOCK_DATA_LAST];

    GMutex pool_lock; /* idle easy handles, most recently used last */
    GPtrArray *pool;

    GMutex slot_lock;    /* max_conns slots, handed to waiters in priority order */
    GQueue slot_waiters; /* SlotWaiter *, by rank then arrival */
    unsigned slots_free;
    unsigned max_conns;

    const DbbCredentials *creds; /* borrowed: the client's, the one copy of the secrets */
    gboolean allow_insecure_http;
    char *cafile;
    gint64 connect_timeout_ms;
    char *user_agent;
    guint64 requests_sent;    /* atomic */
    DbbApiCounters *counters; /* or NULL */

    /* dbb_http_cancel_all(): every transfer aborts (the xferinfo callback), every wait for a
     * slot or a backoff ends; under slot_lock, also read without it (atomic). */
    gint cancelled;
    GCond cancel_cond; /* backoff sleepers (with slot_lock) */
};

/* ---- set-up ---- */

static const DbbCredentials no_credentials = {.kind = DBB_AUTH_NONE};

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *user)
{
    DbbHttp *http = user;

    g_mutex_lock(&http->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *user)
{
    DbbHttp *http = user;

    g_mutex_unlock(&http->share_locks[data]);
}

static gboolean curl_global_ready(GError **error)
{
    static gsize once = 0;
    static CURLcode rc = CURLE_OK;

    if (g_once_init_enter(&once)) {
        rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&once, 1);
    }
    if (rc != CURLE_OK) {
        g_set_error(error, DBB_API_ERROR, EIO, "libcurl initialisation failed: %s",
                    curl_easy_strerror(rc));
        return FALSE;
    }
    return TRUE;
}

static void log_ca_setup(const char *cafile)
{
    CURL *probe = curl_easy_init();
    char *capath = NULL;

    if (!probe)
        return;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAPATH: 7.84.0 */
    curl_easy_getinfo(probe, CURLINFO_CAPATH, &capath);
#endif
    if (cafile && !capath)
        g_message("cafile %s is used instead of the system CA store (libcurl has no default "
                  "CA path)",
                  cafile);
    else if (cafile)
        g_debug("trusting cafile %s and the system CA store %s", cafile, capath);
    curl_easy_cleanup(probe);
}

DbbHttp *dbb_http_new(const DbbHttpConfig *config, GError **error)
{
    DbbHttp *http;

    if (!curl_global_ready(error))
        return NULL;

    http = g_new0(DbbHttp, 1);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        g_mutex_init(&http->share_locks[i]);
    g_mutex_init(&http->pool_lock);
    g_mutex_init(&http->slot_lock);
    g_queue_init(&http->slot_waiters);
    g_cond_init(&http->cancel_cond);
    http->pool = g_ptr_array_new_with_free_func((GDestroyNotify)curl_easy_cleanup);
    http->max_conns = config->max_conns ? config->max_conns : DEFAULT_MAX_CONNS;
    http->slots_free = http->max_conns;
    http->cafile = g_strdup(config->cafile);
    http->connect_timeout_ms =
        (gint64)((config->connect_timeout > 0 ? config->connect_timeout : DEFAULT_CONNECT_S) *
                 1000.0);
    http->creds = config->credentials ? config->credentials : &no_credentials;
    http->allow_insecure_http = config->allow_insecure_http;
    http->counters = config->counters;
    http->user_agent = g_strdup_printf("dbbackupfs/%s (libcurl/%s)", DBB_VERSION,
                                       curl_version_info(CURLVERSION_NOW)->version);

    http->share = curl_share_init();
    if (!http->share) {
        g_set_error(error, DBB_API_ERROR, EIO, "libcurl: cannot create a share handle");
        dbb_http_free(http);
        return NULL;
    }
    curl_share_setopt(http->share, CURLSHOPT_USERDATA, http);
    curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    log_ca_setup(http->cafile);
    return http;
}

void dbb_http_free(DbbHttp *http)
{
    if (!http)
        return;
    /* Easy handles first: they still point at the share. */
    g_ptr_array_unref(http->pool);
    if (http->share)
        curl_share_cleanup(http->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        g_mutex_clear(&http->share_locks[i]);
    g_mutex_clear(&http->pool_lock);
    g_mutex_clear(&http->slot_lock);
    g_cond_clear(&http->cancel_cond);
    g_free(http->cafile);
    g_free(http->user_agent);
    g_free(http);
}

void dbb_http_cancel_all(DbbHttp *http)
{
    g_mutex_lock(&http->slot_lock);
    g_atomic_int_set(&http->cancelled, 1);
    for (GList *l = http->slot_waiters.head; l; l = l->next)
        g_cond_signal(&((SlotWaiter *)l->data)->cond);
    g_cond_broadcast(&http->cancel_cond);
    g_mutex_unlock(&http->slot_lock);
}

static gboolean is_cancelled(DbbHttp *http)
{
    return g_atomic_int_get(&http->cancelled) != 0;
}

guint64 dbb_http_requests_sent(DbbHttp *http)
{
    return __atomic_load_n(&http->requests_sent, __ATOMIC_RELAXED);
}

static void count_request(DbbHttp *http)
{
    /* 64-bit atomic add; GLib has no g_atomic_int64, so use the compiler builtin. */
    __atomic_add_fetch(&http->requests_sent, 1, __ATOMIC_RELAXED);
}

void dbb_http_response_clear(DbbHttpResponse *response)
{
    if (!response)
        return;
    if (response->json)
        json_object_put(response->json);
    if (response->body)
        g_bytes_unref(response->body);
    g_free(response->request_id);
    if (response->subject_token)
        explicit_bzero(response->subject_token, strlen(response->subject_token));
    g_free(response->subject_token);
    memset(response, 0, sizeof(*response));
}

/* ---- connection slots and the easy-handle pool ---- */

/* Behind every waiter of the same or a smaller rank (the lock held). */
static void waiter_enqueue(DbbHttp *http, GList *link)
{
    guint64 rank = ((SlotWaiter *)link->data)->rank;
    GList *after = http->slot_waiters.tail;

    while (after && ((SlotWaiter *)after->data)->rank > rank)
        after = after->prev;
    if (after)
        g_queue_insert_after_link(&http->slot_waiters, after, link);
    else
        g_queue_push_head_link(&http->slot_waiters, link);
}

static gboolean slot_acquire(DbbHttp *http, gint64 deadline)
{
    SlotWaiter w = {.rank = dbb_priority_get()};
    GList link = {.data = &w};
    gboolean ok;

    g_mutex_lock(&http->slot_lock);
    if (http->slots_free > 0 && !is_cancelled(http)) {
        http->slots_free--; /* a free slot means nobody is waiting */
        g_mutex_unlock(&http->slot_lock);
        return TRUE;
    }
    g_cond_init(&w.cond);
    waiter_enqueue(http, &link);
    ok = TRUE;
    while (!w.granted && ok && !is_cancelled(http))
        ok = g_cond_wait_until(&w.cond, &http->slot_lock, deadline);
    if (!w.granted)
        g_queue_unlink(&http->slot_waiters, &link);
    else if (is_cancelled(http))
        http->slots_free++; /* given back: nothing starts after a cancel */
    ok = w.granted && !is_cancelled(http);
    g_mutex_unlock(&http->slot_lock);
    g_cond_clear(&w.cond);
    return ok;
}

/* Sleep until `until` or a cancel, whichever comes first. */
static void backoff_sleep(DbbHttp *http, gint64 until)
{
    g_mutex_lock(&http->slot_lock);
    while (!is_cancelled(http) && g_cond_wait_until(&http->cancel_cond, &http->slot_lock, until))
        ; /* a spurious wake-up: keep sleeping */
    g_mutex_unlock(&http->slot_lock);
}

static void slot_release(DbbHttp *http)
{
    GList *next;

    g_mutex_lock(&http->slot_lock);
    next = g_queue_pop_head_link(&http->slot_waiters);
    if (next) { /* the slot passes straight to the first in line */
        ((SlotWaiter *)next->data)->granted = TRUE;
        g_cond_signal(&((SlotWaiter *)next->data)->cond);
    } else {
        http->slots_free++;
    }
    g_mutex_unlock(&http->slot_lock);
}

static CURL *easy_get(DbbHttp *http)
{
    CURL *easy = NULL;

    g_mutex_lock(&http->pool_lock);
    if (http->pool->len > 0)
        easy = g_ptr_array_steal_index(http->pool, http->pool->len - 1);
    g_mutex_unlock(&http->pool_lock);
    if (easy)
        curl_easy_reset(easy); /* keeps its live connections */
    else
        easy = curl_easy_init();
    return easy;
}

static void easy_put(DbbHttp *http, CURL *easy, gboolean reusable)
{
    if (!reusable) {
        curl_easy_cleanup(easy);
        return;
    }
    g_mutex_lock(&http->pool_lock);
    g_ptr_array_add(http->pool, easy);
    g_mutex_unlock(&http->pool_lock);
}

/* ---- one prepared request ---- */

typedef struct {
    char *url;          /* what curl fetches */
    char *host;         /* Host header: hostname[:port] */
    char *sign_path;    /* decoded full path as the server receives it */
    char *query;        /* canonical query string, also sent on the wire */
    char *log_target;   /* "<path>?<query>" for messages */
    const char *method; /* "GET" or "POST" */
    const char *post_body;
} Prepared;

static void prepared_clear(Prepared *p)
{
    g_free(p->url);
    g_free(p->host);
    g_free(p->sign_path);
    g_free(p->query);
    g_free(p->log_target);
}

static char *host_header(GUri *uri)
{
    const char *host = g_uri_get_host(uri);
    const char *scheme = g_uri_get_scheme(uri);
    int port = g_uri_get_port(uri);
    gboolean v6 = strchr(host, ':') != NULL;
    gboolean dflt = port < 0 || (port == 443 && g_ascii_strcasecmp(scheme, "https") == 0) ||
                    (port == 80 && g_ascii_strcasecmp(scheme, "http") == 0);

    if (dflt)
        return g_strdup_printf(v6 ? "[%s]" : "%s", host);
    return g_strdup_printf(v6 ? "[%s]:%d" : "%s:%d", host, port);
}

static gboolean prepare(const DbbHttpRequest *req, Prepared *p, GError **error)
{
    g_autoptr(GError) uri_error = NULL;
    g_autoptr(GUri) uri = g_uri_parse(req->base_url, G_URI_FLAGS_ENCODED, &uri_error);
    g_autofree char *wire_path = NULL;
    g_autofree char *base_path = NULL;

    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
        g_set_error(error, DBB_API_ERROR, EIO, "%s: invalid endpoint URL %s", req->service,
                    req->base_url);
        return FALSE;
    }
    wire_path = dbb_sign_encode_path(req->path);
    base_path = g_uri_unescape_string(g_uri_get_path(uri), NULL);
    p->host = host_header(uri);
    p->sign_path = g_strconcat(base_path ? base_path : "", req->path, NULL);
    p->query = dbb_sign_canonical_query(req->query, req->n_query);
    p->url = g_strconcat(req->base_url, wire_path, *p->query ? "?" : "", p->query, NULL);
    p->log_target = g_strconcat(req->path, *p->query ? "?" : "", p->query, NULL);
    p->method = req->post_body ? "POST" : "GET";
    p->post_body = req->post_body;
    return TRUE;
}

/* Loopback: the simulator, a local proxy or tunnel; nothing crosses a network. */
static gboolean host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (g_ascii_strcasecmp(host, "localhost") == 0)
        return TRUE;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return FALSE;
}

/* A token or a signature over plain http to another host can be read (and a token reused)
 * by anyone on the way: refused unless the user said otherwise. */
static gboolean transport_allowed(DbbHttp *http, const DbbHttpRequest *req, GError **error)
{
    g_autoptr(GUri) uri = g_uri_parse(req->base_url, G_URI_FLAGS_ENCODED, NULL);
    /* A password goes in a POST body (req->redact names it), a token got by it per request. */
    gboolean secret = http->creds->kind != DBB_AUTH_NONE || req->auth_token || req->redact;

    if (!secret || http->allow_insecure_http || uri == NULL ||
        g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") != 0 ||
        host_is_loopback(g_uri_get_host(uri)))
        return TRUE;
    g_set_error(error, DBB_API_ERROR, EACCES,
                "%s: %s %s: refusing to send credentials over plain http to %s (use https, or "
                "allow_insecure_http)",
                req->service, req->post_body ? "POST" : "GET", req->path, g_uri_get_host(uri));
    return FALSE;
}

/* ---- headers and signing ---- */

/* A value with CR, LF or another control byte would split or corrupt the header block. */
static gboolean header_value_ok(const char *v)
{
    for (const guchar *p = (const guchar *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return FALSE;
    }
    return TRUE;
}

/* Header lines may hold a token or a signature: wiped before curl frees them.  (curl's own
 * request buffer, which also holds them for the time of one request, is out of our reach.) */
static void headers_wipe_free(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
    g_autofree char *line = g_strdup_printf("%s: %s", name, value);
    struct curl_slist *next = curl_slist_append(list, line);

    if (!next) {
        headers_wipe_free(list);
        return NULL;
    }
    /* The line may hold a secret: wipe our copy, curl keeps its own. */
    explicit_bzero(line, strlen(line));
    return next;
}

typedef struct {
    DbbHeader items[8];
    gsize n;
} HeaderSet;

static void header_set_add(HeaderSet *set, const char *name, const char *value)
{
    g_assert(set->n < G_N_ELEMENTS(set->items));
    set->items[set->n].name = name;
    set->items[set->n].value = value;
    set->n++;
}

/* The AK/SK header set of §7: every header here is sent and signed, values unchanged. */
static char *sign_headers(DbbHttp *http, const DbbHttpRequest *req, const Prepared *p,
                          const char *date, HeaderSet *set)
{
    const DbbCredentials *c = http->creds;
    DbbSignInput in = {
        .method = req->post_body ? "POST" : "GET",
        .path = p->sign_path,
        .query = req->query,
        .n_query = req->n_query,
        .sdk_date = date,
        .body = req->post_body,
        .body_len = req->post_body ? strlen(req->post_body) : 0,
    };

    header_set_add(set, "Content-Type", "application/json");
    header_set_add(set, "Host", p->host);
    header_set_add(set, "X-Sdk-Date", date);
    if (req->project_id)
        header_set_add(set, "X-Project-Id", req->project_id);
    if (c->security_token && *c->security_token)
        header_set_add(set, "X-Security-Token", c->security_token);
    if (req->global && c->domain_id && *c->domain_id)
        header_set_add(set, "X-Domain-Id", c->domain_id);
    in.headers = set->items;
    in.n_headers = set->n;
    return dbb_sign_authorization(c->ak, c->sk, &in);
}

static gboolean headers_valid(const HeaderSet *set)
{
    for (gsize i = 0; i < set->n; i++) {
        if (!header_value_ok(set->items[i].value))
            return FALSE;
    }
    return TRUE;
}

/* Request headers for one attempt (a fresh X-Sdk-Date each time), or NULL when a
 * credential or the project id would not make a valid header. */
static struct curl_slist *build_headers(DbbHttp *http, const DbbHttpRequest *req, const Prepared *p)
{
    struct curl_slist *list = NULL;
    HeaderSet set = {0};
    g_autofree char *date = dbb_sign_format_date(g_get_real_time() / G_USEC_PER_SEC);
    g_autofree char *auth = NULL;

    if (req->auth_token) {
        header_set_add(&set, "Content-Type", "application/json");
        header_set_add(&set, "Host", p->host);
        header_set_add(&set, "X-Auth-Token", req->auth_token);
    } else if (http->creds->kind == DBB_AUTH_AKSK && !req->post_body) {
        if (!http->creds->ak || !http->creds->sk)
            return NULL;
        auth = sign_headers(http, req, p, date, &set);
        header_set_add(&set, "Authorization", auth);
    } else {
        header_set_add(&set, "Content-Type", "application/json");
        header_set_add(&set, "Host", p->host);
        if (http->creds->kind == DBB_AUTH_TOKEN)
            header_set_add(&set, "X-Auth-Token", http->creds->token ? http->creds->token : "");
    }
    header_set_add(&set, "Accept", "application/json");
    if (!headers_valid(&set))
        goto out;
    for (gsize i = 0; i < set.n && (i == 0 || list); i++)
        list = add_header(list, set.items[i].name, set.items[i].value);
out:
    if (auth)
        explicit_bzero(auth, strlen(auth));
    return list;
}

/* ---- one attempt ---- */

typedef struct {
    CURLcode code;
    char errbuf[CURL_ERROR_SIZE];
    long status;
    GByteArray *body;
    char *request_id;
    char *retry_after;
    char *subject_token; /* X-Subject-Token */
    json_object *json;   /* 2xx body, parsed */
    char *json_error;    /* 2xx body that did not parse */
    gboolean body_too_large;
} Attempt;

static void attempt_clear(Attempt *a)
{
    if (a->body)
        g_byte_array_unref(a->body);
    if (a->json)
        json_object_put(a->json);
    g_free(a->request_id);
    g_free(a->retry_after);
    g_free(a->json_error);
    if (a->subject_token)
        explicit_bzero(a->subject_token, strlen(a->subject_token));
    g_free(a->subject_token);
    memset(a, 0, sizeof(*a));
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    Attempt *a = user;
    size_t n = size * nmemb;

    if (a->body->len + n > MAX_BODY_BYTES) {
        a->body_too_large = TRUE;
        return 0; /* CURLE_WRITE_ERROR */
    }
    g_byte_array_append(a->body, (const guint8 *)data, (guint)n);
    return n;
}

static char *header_value_if(const char *line, size_t len, const char *name)
{
    size_t nlen = strlen(name);

    if (len <= nlen || g_ascii_strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return NULL;
    return g_strstrip(g_strndup(line + nlen + 1, len - nlen - 1));
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *user)
{
    Attempt *a = user;
    size_t n = size * nmemb;
    char *v;

    /* A new status line (after a 100 Continue, say) starts a new header block. */
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        g_clear_pointer(&a->request_id, g_free);
        g_clear_pointer(&a->retry_after, g_free);
    } else if ((v = header_value_if(line, n, "X-Subject-Token"))) {
        g_free(a->subject_token);
        a->subject_token = v;
    } else if ((v = header_value_if(line, n, "X-Request-Id"))) {
        g_free(a->request_id);
        a->request_id = v;
    } else if ((v = header_value_if(line, n, "Retry-After"))) {
        g_free(a->retry_after);
        a->retry_after = v;
    }
    return n;
}

/* Called by libcurl about once a second, and more often while data flows: a non-zero return
 * aborts the transfer (CURLE_ABORTED_BY_CALLBACK), so a cancel never waits for a slow
 * server. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    return is_cancelled(user) ? 1 : 0;
}

static void set_protocols(CURL *easy)
{
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

static void setup_easy(DbbHttp *http, CURL *easy, const Prepared *p, struct curl_slist *hdrs,
                       Attempt *a, gint64 left_ms)
{
    curl_easy_setopt(easy, CURLOPT_URL, p->url);
    if (p->post_body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, p->post_body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(p->post_body));
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, http->user_agent);
    curl_easy_setopt(easy, CURLOPT_SHARE, http->share);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)left_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)MIN(left_ms, http->connect_timeout_ms));
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (http->cafile)
        curl_easy_setopt(easy, CURLOPT_CAINFO, http->cafile);
    set_protocols(easy);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, a->errbuf);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L); /* a 3xx is an answer, never followed */
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, http);
}

/* Strict parse: the whole body must be exactly one JSON document (whitespace around it is
 * fine); a truncated document or trailing bytes are failures. */
static json_object *parse_json_strict(const guint8 *data, gsize len, char **why)
{
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    json_object *obj = NULL;
    enum json_tokener_error jerr;
    size_t end;

    if (!tok || len > INT_MAX) {
        *why = g_strdup("cannot parse body");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, (const char *)data, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (!obj && jerr == json_tokener_continue) {
        /* A bare number at the very end is complete only once something follows it. */
        obj = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    if (!obj) {
        *why = g_strdup_printf("body is not valid JSON (%s)", jerr == json_tokener_continue
                                                                  ? "truncated"
                                                                  : json_tokener_error_desc(jerr));
        goto out;
    }
    for (; end < len; end++) {
        if (!g_ascii_isspace(data[end])) {
            *why = g_strdup("body is not valid JSON (trailing data)");
            g_clear_pointer(&obj, json_object_put);
            break;
        }
    }
out:
    if (tok)
        json_tokener_free(tok);
    return obj;
}

/* Runs one attempt; returns FALSE only when it could not even be started. */
static gboolean attempt_run(DbbHttp *http, const DbbHttpRequest *req, const Prepared *p,
                            gint64 deadline, Attempt *a)
{
    struct curl_slist *hdrs = build_headers(http, req, p);
    gint64 left_ms = (deadline - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
    CURL *easy;

    a->body = g_byte_array_new();
    if (!hdrs) {
        a->code = CURLE_BAD_FUNCTION_ARGUMENT;
        g_strlcpy(a->errbuf, "credentials or project id hold characters a header cannot carry",
                  sizeof(a->errbuf));
        return FALSE;
    }
    easy = easy_get(http);
    if (!easy) {
        headers_wipe_free(hdrs);
        a->code = CURLE_OUT_OF_MEMORY;
        return FALSE;
    }
    setup_easy(http, easy, p, hdrs, a, MAX(left_ms, 1));
    count_request(http);
    a->code = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a->status);
    /* The pooled handle must not keep pointers into this attempt. */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, NULL);
    headers_wipe_free(hdrs);
    easy_put(http, easy, a->code != CURLE_OUT_OF_MEMORY);

    if (a->code == CURLE_OK && a->status >= 200 && a->status < 300)
        a->json = parse_json_strict(a->body->data, a->body->len, &a->json_error);
    return TRUE;
}

/* ---- classification and backoff ---- */

static gboolean curl_code_retryable(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return TRUE;
    default:
        return FALSE;
    }
}

static gboolean attempt_succeeded(const Attempt *a)
{
    return a->code == CURLE_OK && a->json != NULL;
}

/* A 2xx whose body is not JSON (invalid, nested too deep, cut short in a way the transport
 * did not notice). */
static gboolean attempt_malformed(const Attempt *a)
{
    return a->code == CURLE_OK && a->status >= 200 && a->status < 300 && a->json == NULL;
}

static gboolean attempt_retryable(const Attempt *a, unsigned malformed)
{
    if (a->code != CURLE_OK)
        return curl_code_retryable(a->code);
    /* Once more, in case it was cut on the way; a server that sends it twice means it:
     * malformed is final, never a retry loop to the deadline. */
    if (attempt_malformed(a))
        return malformed < 2;
    return a->status == 408 || a->status == 429 || a->status >= 500;
}

/* Retry-After as delta-seconds or an HTTP date; -1 when absent or unreadable. */
static gint64 retry_after_us(const char *value)
{
    char *end = NULL;
    gint64 secs;
    time_t when;

    if (!value || !*value)
        return -1;
    secs = g_ascii_strtoll(value, &end, 10);
    if (end != value && *end == '\0')
        return secs < 0 ? 0 : MIN(secs, G_MAXINT32) * G_USEC_PER_SEC;
    when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    return MAX((gint64)when * G_USEC_PER_SEC - g_get_real_time(), 0);
}

static gint64 backoff_us(unsigned attempt, const char *retry_after)
{
    gint64 ceiling = BACKOFF_CAP_US;
    gint64 sleep_us;
    gint64 server;

    if (attempt < 16)
        ceiling = MIN(BACKOFF_CAP_US, BACKOFF_BASE_US << attempt);
    sleep_us = (gint64)g_random_double_range(0.0, (double)ceiling);
    server = retry_after_us(retry_after);
    return MAX(sleep_us, server);
}

/* ---- error text ---- */

static const char *json_text(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v) || !v ||
        json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return NULL;
    return json_object_get_string(v);
}

typedef struct {
    const char *code;
    const char *msg;
    const char *request_id;
} ErrorFields;

/* error_code/error_msg (services, API gateway), errCode/externalMessage (DDM v1/v2),
 * error{code,message} (IAM), code/message (the Go SDK's fallback), request_id (gateway). */
static ErrorFields error_fields(json_object *body)
{
    ErrorFields f = {0};
    json_object *nested = NULL;

    f.code = json_text(body, "error_code");
    f.msg = json_text(body, "error_msg");
    if (!f.code && !f.msg) {
        f.code = json_text(body, "errCode");
        f.msg = json_text(body, "externalMessage");
    }
    if (!f.code && !f.msg && body && json_object_is_type(body, json_type_object) &&
        json_object_object_get_ex(body, "error", &nested) &&
        json_object_is_type(nested, json_type_object)) {
        f.code = json_text(nested, "code");
        f.msg = json_text(nested, "message");
    }
    if (!f.code && !f.msg) {
        f.code = json_text(body, "code");
        f.msg = json_text(body, "message");
    }
    f.request_id = json_text(body, "request_id");
    return f;
}

/* One line, bounded, and never a credential even if a server echoes one back. */
static char *sanitize(DbbHttp *http, const DbbHttpRequest *req, char *text)
{
    const char *secrets[] = {http->creds->sk,       http->creds->token, http->creds->security_token,
                             http->creds->password, req->auth_token,    req->redact};
    GString *s = g_string_new(text);

    g_free(text);
    for (gsize i = 0; i < G_N_ELEMENTS(secrets); i++) {
        if (secrets[i] && strlen(secrets[i]) >= 4)
            g_string_replace(s, secrets[i], "***", 0);
    }
    for (gsize i = 0; i < s->len; i++) {
        if ((guchar)s->str[i] < 0x20 || s->str[i] == 0x7f)
            s->str[i] = ' ';
    }
    return g_string_free(s, FALSE);
}

/* A server's text cut to max bytes on a character boundary: a hostile error body must not
 * turn into a log line of megabytes. */
static char *truncate_utf8(const char *s, gsize max)
{
    const char *end;

    if (strlen(s) <= max)
        return g_strdup(s);
    end = g_utf8_find_prev_char(s, s + max);
    return g_strdup_printf("%.*s...", (int)(end ? end - s : (gssize)max), s);
}

static void append_status_detail(GString *s, const Attempt *a, json_object *body)
{
    ErrorFields f = error_fields(body);
    const char *rid = a->request_id ? a->request_id : f.request_id;

    g_string_append_printf(s, "HTTP %ld", a->status);
    if (f.code) {
        g_autofree char *code = truncate_utf8(f.code, MAX_ERROR_CODE_BYTES);
        g_string_append_printf(s, " %s", code);
    }
    if (f.msg) {
        g_autofree char *msg = truncate_utf8(f.msg, MAX_ERROR_MSG_BYTES);
        g_string_append_printf(s, ": %s", msg);
    } else if (a->json_error) {
        g_string_append_printf(s, ": %s", a->json_error);
    }
    if (rid) {
        g_autofree char *id = truncate_utf8(rid, MAX_ERROR_CODE_BYTES);
        g_string_append_printf(s, " (request id %s)", id);
    }
}

static char *describe_attempt(DbbHttp *http, const DbbHttpRequest *req, const Prepared *p,
                              const Attempt *a)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "%s: %s %s: ", req->service, p->method, p->log_target);
    if (a->body_too_large) {
        g_string_append_printf(s, "HTTP %ld: response body larger than %u bytes", a->status,
                               MAX_BODY_BYTES);
    } else if (a->code == CURLE_ABORTED_BY_CALLBACK) {
        g_string_append(s, "HTTP 0 cancelled (unmounting)");
    } else if (a->code != CURLE_OK) {
        g_string_append_printf(s, "HTTP 0 %s",
                               a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->code));
    } else {
        json_object *body = NULL;
        char *ignored = NULL;

        if (!a->json && a->body && a->body->len > 0)
            body = parse_json_strict(a->body->data, a->body->len, &ignored);
        append_status_detail(s, a, a->json ? a->json : body);
        if (body)
            json_object_put(body);
        g_free(ignored);
    }
    return sanitize(http, req, g_string_free(s, FALSE));
}

char *dbb_http_error_detail(long status, const guint8 *body, gsize len)
{
    Attempt a = {.status = status};
    json_object *json = NULL;
    GString *s = g_string_new(NULL);

    if (len > 0)
        json = parse_json_strict(body, len, &a.json_error);
    append_status_detail(s, &a, json);
    if (json)
        json_object_put(json);
    g_free(a.json_error);
    return g_string_free(s, FALSE);
}

static int attempt_errno(const Attempt *a)
{
    if (a->code != CURLE_OK)
        return EIO;
    return dbb_errno_for_status(a->status);
}

/* ---- the call ---- */

static void take_response(Attempt *a, DbbHttpResponse *response)
{
    gsize len = a->body->len;

    g_byte_array_append(a->body, (const guint8 *)"", 1); /* NUL past the end */
    response->status = a->status;
    response->json = g_steal_pointer(&a->json);
    response->body = g_bytes_new_take(g_byte_array_steal(a->body, NULL), len);
    response->request_id = g_steal_pointer(&a->request_id);
    response->subject_token = g_steal_pointer(&a->subject_token);
}

static void log_attempt(const DbbHttpRequest *req, const Prepared *p, const Attempt *a, unsigned n,
                        gint64 started)
{
    gint64 ms = (g_get_monotonic_time() - started) / G_TIME_SPAN_MILLISECOND;

    if (a->code == CURLE_OK)
        g_debug("%s: %s %s -> HTTP %ld in %" G_GINT64_FORMAT " ms (attempt %u)", req->service,
                p->method, p->url, a->status, ms, n);
    else
        g_debug("%s: %s %s -> %s in %" G_GINT64_FORMAT " ms (attempt %u)", req->service, p->method,
                p->url, curl_easy_strerror(a->code), ms, n);
}

static void fail(GError **error, int code, char *message)
{
    g_warning("%s", message);
    g_set_error_literal(error, DBB_API_ERROR, code, message);
    g_free(message);
}

static char *deadline_message(const DbbHttpRequest *req, const Prepared *p, const char *what)
{
    return g_strdup_printf("%s: %s %s: HTTP 0 %s", req->service, p->method, p->log_target, what);
}

gboolean dbb_http_get_json(DbbHttp *http, const DbbHttpRequest *req, DbbHttpResponse *response,
                           GError **error)
{
    gint64 deadline = req->deadline ? req->deadline : g_get_monotonic_time() + DEFAULT_DEADLINE_US;
    Prepared p = {0};
    GError *prep_error = NULL;
    char *last_msg = NULL;
    int last_errno = EIO;
    gboolean ok = FALSE;
    unsigned malformed = 0;
    gint64 slot_wait_us = 0;

    memset(response, 0, sizeof(*response));
    if (!prepare(req, &p, &prep_error) || !transport_allowed(http, req, &prep_error)) {
        g_warning("%s", prep_error->message);
        g_propagate_error(error, prep_error);
        prepared_clear(&p);
        return FALSE;
    }

    for (unsigned n = 1;; n++) {
        Attempt a = {0};
        gint64 started = g_get_monotonic_time();
        gint64 sleep_us;

        if (is_cancelled(http)) {
            g_free(last_msg);
            last_msg = deadline_message(req, &p, "cancelled (unmounting)");
            break;
        }
        if (started >= deadline) {
            if (!last_msg)
                last_msg = deadline_message(req, &p, "deadline passed before a response");
            break;
        }
        if (!slot_acquire(http, deadline)) {
            g_free(last_msg);
            last_msg =
                deadline_message(req, &p,
                                 is_cancelled(http) ? "cancelled (unmounting)"
                                                    : "timed out waiting for a free connection");
            break;
        }
        slot_wait_us += g_get_monotonic_time() - started;
        gint64 sent = g_get_monotonic_time();
        gboolean started_ok = attempt_run(http, req, &p, deadline, &a);
        slot_release(http);
        log_attempt(req, &p, &a, n, started);
        if (started_ok && http->counters)
            dbb_api_counters_record(
                http->counters, req->service, req->route ? req->route : req->path,
                a.code == CURLE_OK ? a.status : 0, g_get_monotonic_time() - sent, n > 1);

        if (started_ok && attempt_succeeded(&a)) {
            take_response(&a, response);
            attempt_clear(&a);
            ok = TRUE;
            break;
        }
        g_free(last_msg);
        last_msg = describe_attempt(http, req, &p, &a);
        last_errno = attempt_errno(&a);
        response->status = a.status;
        malformed += attempt_malformed(&a);
        gboolean again = started_ok && !is_cancelled(http) && attempt_retryable(&a, malformed);
        sleep_us = again ? backoff_us(n - 1, a.retry_after) : 0;
        attempt_clear(&a);
        /* Sleeping past the deadline would only postpone the same failure. */
        if (!again || g_get_monotonic_time() + sleep_us + MIN_RETRY_BUDGET_US >= deadline)
            break;
        backoff_sleep(http, g_get_monotonic_time() + sleep_us);
    }

    if (!ok && slot_wait_us >= SLOT_WAIT_NOTE_US) {
        /* The wait for a connection ate part of the deadline: say so, or a timeout reads as
         * the server's fault. */
        char *longer =
            g_strdup_printf("%s (%" G_GINT64_FORMAT " ms of the deadline spent "
                            "waiting for a free connection, max_conns=%u)",
                            last_msg, slot_wait_us / G_TIME_SPAN_MILLISECOND, http->max_conns);
        g_free(last_msg);
        last_msg = longer;
    }
    if (!ok)
        fail(error, last_errno, g_steal_pointer(&last_msg));
    g_free(last_msg);
    prepared_clear(&p);
    return ok;
}
