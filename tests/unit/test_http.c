/*
 * Unit tests for api/http.c against an in-process libmicrohttpd server on 127.0.0.1 whose
 * behaviour each test scripts: retries, Retry-After, deadlines, truncation, resets, error
 * bodies, the connection bound and reuse, the auth headers (the server verifies AK/SK
 * signatures with api/sign.h), and that no secret reaches a log line or an error.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <microhttpd.h>

#include "api/error.h"
#include "api/http.h"
#include "api/priority.h"
#include "api/sign.h"

#define AK             "AKTESTHTTP0000000000"
#define SK             "SKsecret-http-test-0123456789abcdefXYZ"
#define SECURITY_TOKEN "STSsecret-security-token-abcdef0123456789"
#define TOKEN          "TOKENsecret-iam-token-0123456789abcdefghij"
#define DOMAIN_ID      "0123456789abcdef0123456789abcdef"
#define PROJECT_ID     "054b61972980d4552f0bc00ac8d3f5cd"

/* ---- captured logs ---- */

static GMutex log_lock;
static GString *log_text;

static GLogWriterOutput capture_writer(GLogLevelFlags level, const GLogField *fields,
                                       gsize n_fields, gpointer user)
{
    g_mutex_lock(&log_lock);
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0) {
            g_string_append(log_text, fields[i].value);
            g_string_append_c(log_text, '\n');
        }
    }
    g_mutex_unlock(&log_lock);
    if (g_getenv("TEST_HTTP_SHOW_LOGS")) /* for debugging the test itself */
        g_log_writer_standard_streams(level, fields, n_fields, user);
    return G_LOG_WRITER_HANDLED;
}

static char *captured_logs(void)
{
    char *copy;

    g_mutex_lock(&log_lock);
    copy = g_strdup(log_text->str);
    g_mutex_unlock(&log_lock);
    return copy;
}

static void assert_no_secret(const char *text)
{
    static const char *const secrets[] = {SK, SECURITY_TOKEN, TOKEN};

    for (gsize i = 0; i < G_N_ELEMENTS(secrets); i++) {
        if (strstr(text, secrets[i]))
            fail_msg("secret %zu leaked into: %s", i, text);
    }
}

/* ---- the scripted server ---- */

typedef enum {
    ACT_RESPOND,    /* a complete response */
    ACT_RESET,      /* RST the connection without answering */
    ACT_SHORT_BODY, /* Content-Length larger than the bytes sent, then close */
} Action;

typedef struct {
    unsigned status;
    const char *body;
    const char *retry_after; /* or NULL */
    const char *request_id;  /* X-Request-Id, or NULL */
    Action action;
    unsigned delay_ms; /* before answering */
} Step;

typedef struct {
    struct MHD_Daemon *daemon;
    guint16 port;
    GMutex lock;
    const Step *script; /* request n gets step min(n, n_steps - 1) */
    gsize n_steps;
    unsigned requests;
    unsigned connections;
    int inflight;
    int peak;
    unsigned good_signatures;
    unsigned bad_signatures;
    /* the last request */
    char *path;
    GHashTable *headers; /* lower-case name -> value */
    GPtrArray *query;    /* key, value, key, value... */
} Server;

static Server srv;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    g_hash_table_insert(srv.headers, g_ascii_strdown(key, -1), g_strdup(value ? value : ""));
    return MHD_YES;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    g_ptr_array_add(srv.query, g_strdup(key));
    g_ptr_array_add(srv.query, g_strdup(value ? value : ""));
    return MHD_YES;
}

/* Recompute the signature from what arrived, as the gateway (and cloudsim) would. */
static gboolean signature_valid(void)
{
    const char *auth = g_hash_table_lookup(srv.headers, "authorization");
    const char *list, *sig, *comma;
    g_autofree char *names = NULL;
    g_auto(GStrv) split = NULL;
    g_autofree DbbHeader *hdrs = NULL;
    g_autofree DbbQueryParam *q = NULL;
    g_autofree char *want = NULL;
    gsize n = 0;

    if (!auth || !(list = strstr(auth, "SignedHeaders=")) || !(sig = strstr(auth, "Signature=")))
        return FALSE;
    list += strlen("SignedHeaders=");
    comma = strchr(list, ',');
    if (!comma || !g_str_has_prefix(auth, "SDK-HMAC-SHA256 Access=" AK ", "))
        return FALSE;
    names = g_strndup(list, comma - list);
    split = g_strsplit(names, ";", -1);
    hdrs = g_new0(DbbHeader, g_strv_length(split) + 1);
    for (gsize i = 0; split[i]; i++, n++) {
        hdrs[i].name = split[i];
        hdrs[i].value = g_hash_table_lookup(srv.headers, split[i]);
        if (!hdrs[i].value)
            return FALSE;
    }
    q = g_new0(DbbQueryParam, srv.query->len / 2 + 1);
    for (guint i = 0; i < srv.query->len / 2; i++) {
        q[i].key = srv.query->pdata[2 * i];
        q[i].value = srv.query->pdata[2 * i + 1];
    }
    DbbSignInput in = {.method = "GET",
                       .path = srv.path,
                       .query = q,
                       .n_query = srv.query->len / 2,
                       .headers = hdrs,
                       .n_headers = n,
                       .sdk_date = g_hash_table_lookup(srv.headers, "x-sdk-date")};
    if (!in.sdk_date)
        return FALSE;
    want = dbb_sign_signature(SK, &in);
    return strcmp(want, sig + strlen("Signature=")) == 0;
}

static void record_request(struct MHD_Connection *conn, const char *url)
{
    g_free(srv.path);
    srv.path = g_strdup(url);
    g_hash_table_remove_all(srv.headers);
    g_ptr_array_set_size(srv.query, 0);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, NULL);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, NULL);
    if (g_hash_table_contains(srv.headers, "authorization")) {
        if (signature_valid())
            srv.good_signatures++;
        else
            srv.bad_signatures++;
    }
}

typedef struct {
    const char *data;
    size_t sent;
} ShortBody;

static ssize_t short_body_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    ShortBody *b = cls;
    size_t len = strlen(b->data);

    if (b->sent >= len)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = MIN(max, len - b->sent);
    memcpy(buf, b->data + b->sent, n);
    b->sent += n;
    return (ssize_t)n;
}

static enum MHD_Result reset_connection(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    if (info)
        setsockopt(info->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    return MHD_NO;
}

static enum MHD_Result answer(struct MHD_Connection *conn, const Step *step)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (step->action == ACT_RESET)
        return reset_connection(conn);
    if (step->action == ACT_SHORT_BODY) {
        ShortBody *b = g_new0(ShortBody, 1);
        b->data = step->body;
        resp = MHD_create_response_from_callback(strlen(step->body) + 100, 4096, short_body_reader,
                                                 b, g_free);
    } else {
        resp = MHD_create_response_from_buffer(strlen(step->body), (void *)step->body,
                                               MHD_RESPMEM_MUST_COPY);
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (step->retry_after)
        MHD_add_response_header(resp, "Retry-After", step->retry_after);
    if (step->request_id)
        MHD_add_response_header(resp, "X-Request-Id", step->request_id);
    ret = MHD_queue_response(conn, step->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    static int first_call_marker;
    Step step;

    /* Answering on the first call (headers only) makes libmicrohttpd close the connection;
     * answer on the second, as a real server does, so keep-alive works. */
    if (!*con_cls) {
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    g_mutex_lock(&srv.lock);
    step = srv.script[MIN(srv.requests, srv.n_steps - 1)];
    srv.requests++;
    srv.inflight++;
    srv.peak = MAX(srv.peak, srv.inflight);
    record_request(conn, url);
    g_mutex_unlock(&srv.lock);

    if (step.delay_ms) /* plays a slow server; the client's timing is not measured by it */
        g_usleep(step.delay_ms * G_TIME_SPAN_MILLISECOND);

    g_mutex_lock(&srv.lock);
    srv.inflight--;
    g_mutex_unlock(&srv.lock);
    return answer(conn, &step);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    if (code != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    g_mutex_lock(&srv.lock);
    srv.connections++;
    g_mutex_unlock(&srv.lock);
}

static void script(const Step *steps, gsize n)
{
    g_mutex_lock(&srv.lock);
    srv.script = steps;
    srv.n_steps = n;
    srv.requests = 0;
    srv.connections = 0;
    srv.inflight = 0;
    srv.peak = 0;
    srv.good_signatures = 0;
    srv.bad_signatures = 0;
    g_mutex_unlock(&srv.lock);
}

static unsigned server_requests(void)
{
    unsigned n;

    g_mutex_lock(&srv.lock);
    n = srv.requests;
    g_mutex_unlock(&srv.lock);
    return n;
}

static const Step ok_step = {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0};

static int server_start(void **state)
{
    const union MHD_DaemonInfo *info;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    g_mutex_init(&srv.lock);
    srv.headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    srv.query = g_ptr_array_new_with_free_func(g_free);
    script(&ok_step, 1);
    srv.daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                  0, NULL, NULL, handler, NULL, MHD_OPTION_NOTIFY_CONNECTION,
                                  on_connection, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                  MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (!srv.daemon) {
        print_error("cannot start libmicrohttpd\n");
        return -1;
    }
    info = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv.port = info ? info->port : 0;
    return srv.port ? 0 : -1;
}

static int server_stop(void **state)
{
    if (srv.daemon)
        MHD_stop_daemon(srv.daemon);
    g_hash_table_unref(srv.headers);
    g_ptr_array_unref(srv.query);
    g_free(srv.path);
    return 0;
}

/* ---- client helpers ---- */

static DbbHttp *new_http(DbbAuthKind kind, unsigned max_conns)
{
    /* The http layer borrows its credentials: they must outlive it. */
    static DbbCredentials each_kind[DBB_AUTH_TOKEN + 1];
    DbbCredentials creds = {.kind = kind};
    g_autoptr(GError) error = NULL;
    DbbHttp *http;

    if (kind == DBB_AUTH_AKSK) {
        creds.ak = AK;
        creds.sk = SK;
        creds.security_token = SECURITY_TOKEN;
        creds.domain_id = DOMAIN_ID;
    } else if (kind == DBB_AUTH_TOKEN) {
        creds.token = TOKEN;
    }
    each_kind[kind] = creds;
    DbbHttpConfig config = {.max_conns = max_conns, .credentials = &each_kind[kind]};
    http = dbb_http_new(&config, &error);
    assert_non_null(http);
    return http;
}

static char *base_url(const char *prefix)
{
    return g_strdup_printf("http://127.0.0.1:%u%s", srv.port, prefix);
}

static const DbbQueryParam default_query[] = {{"offset", "0"}, {"limit", "100"}};

typedef struct {
    const char *prefix;
    const char *path;
    const DbbQueryParam *query;
    gsize n_query;
    const char *project_id;
    gboolean global;
    gint64 timeout_ms;
} Call;

static gboolean call(DbbHttp *http, const Call *c, DbbHttpResponse *resp, GError **error)
{
    g_autofree char *base = base_url(c->prefix ? c->prefix : "/geminidb");
    DbbHttpRequest req = {
        .service = "geminidb",
        .base_url = base,
        .path = c->path ? c->path : "/v3/" PROJECT_ID "/instances",
        .query = c->query ? c->query : default_query,
        .n_query = c->query ? c->n_query : G_N_ELEMENTS(default_query),
        .project_id = c->global ? NULL : PROJECT_ID,
        .global = c->global,
        .deadline = g_get_monotonic_time() +
                    (c->timeout_ms ? c->timeout_ms : 5000) * G_TIME_SPAN_MILLISECOND,
    };
    gboolean ok = dbb_http_get_json(http, &req, resp, error);

    if (!ok) {
        assert_non_null(*error);
        assert_no_secret((*error)->message);
        assert_null(strchr((*error)->message, '\n'));
    }
    return ok;
}

static double seconds_since(gint64 start)
{
    return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

/* A call expected to fail with errno `code` after exactly `requests` requests. */
static char *expect_failure(DbbHttp *http, const Call *c, int code, unsigned requests)
{
    DbbHttpResponse resp = {0};
    g_autoptr(GError) error = NULL;
    guint64 before = dbb_http_requests_sent(http);

    assert_false(call(http, c, &resp, &error));
    assert_true(g_error_matches(error, DBB_API_ERROR, code));
    assert_null(resp.json);
    if (requests) {
        assert_int_equal(server_requests(), requests);
        assert_int_equal(dbb_http_requests_sent(http) - before, requests);
    }
    return g_strdup(error->message);
}

static void expect_success(DbbHttp *http, const Call *c, unsigned requests)
{
    DbbHttpResponse resp = {0};
    g_autoptr(GError) error = NULL;

    if (!call(http, c, &resp, &error))
        fail_msg("unexpected failure: %s", error->message);
    assert_int_equal(resp.status, 200);
    assert_non_null(resp.json);
    assert_true(json_object_get_boolean(json_object_object_get(resp.json, "ok")));
    assert_memory_equal(g_bytes_get_data(resp.body, NULL), "{\"ok\":true}", 11);
    assert_int_equal(g_bytes_get_size(resp.body), 11);
    assert_int_equal(((const char *)g_bytes_get_data(resp.body, NULL))[11], '\0');
    if (requests)
        assert_int_equal(server_requests(), requests);
    dbb_http_response_clear(&resp);
}

/* ---- retries ---- */

static void test_500_then_200(void **state)
{
    static const Step steps[] = {
        {500, "{\"error_code\":\"DBS.000001\",\"error_msg\":\"boom\"}", NULL, NULL, ACT_RESPOND, 0},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);

    script(steps, G_N_ELEMENTS(steps));
    expect_success(http, &(Call){0}, 2);
    assert_int_equal(dbb_http_requests_sent(http), 2);
    dbb_http_free(http);
}

static void test_429_retry_after(void **state)
{
    static const Step steps[] = {
        {429, "{\"error_code\":\"APIG.0308\",\"error_msg\":\"throttled\"}", "1", NULL, ACT_RESPOND,
         0},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    gint64 start = g_get_monotonic_time();

    script(steps, G_N_ELEMENTS(steps));
    expect_success(http, &(Call){0}, 2);
    assert_true(seconds_since(start) >= 1.0);
    assert_true(seconds_since(start) < 3.0);
    dbb_http_free(http);
}

static void test_retry_after_beyond_deadline(void **state)
{
    static const Step seconds[] = {
        {429, "{\"error_code\":\"APIG.0308\",\"error_msg\":\"throttled\"}", "30", NULL, ACT_RESPOND,
         0},
    };
    static const Step http_date[] = {
        {503, "{}", "Fri, 31 Dec 2999 23:59:59 GMT", NULL, ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    gint64 start = g_get_monotonic_time();
    g_autofree char *msg = NULL;
    g_autofree char *msg2 = NULL;

    script(seconds, 1);
    msg = expect_failure(http, &(Call){.timeout_ms = 3000}, EIO, 1);
    assert_true(seconds_since(start) < 0.5); /* gave up at once, not at the deadline */
    assert_non_null(strstr(msg, "HTTP 429 APIG.0308: throttled"));

    start = g_get_monotonic_time();
    script(http_date, 1);
    msg2 = expect_failure(http, &(Call){.timeout_ms = 3000}, EIO, 1);
    assert_true(seconds_since(start) < 0.5);
    assert_non_null(strstr(msg2, "HTTP 503"));
    dbb_http_free(http);
}

static void test_outage_fails_within_deadline(void **state)
{
    static const Step steps[] = {
        {503, "{\"error_code\":\"SYS.0503\",\"error_msg\":\"unavailable\"}", NULL, "req-out",
         ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    gint64 start = g_get_monotonic_time();
    g_autofree char *msg = NULL;

    script(steps, 1);
    msg = expect_failure(http, &(Call){.timeout_ms = 1500}, EIO, 0);
    assert_true(seconds_since(start) <= 1.5 + 0.25);
    assert_true(server_requests() >= 2);
    assert_string_equal(msg, "geminidb: GET /v3/" PROJECT_ID "/instances?limit=100&offset=0: "
                             "HTTP 503 SYS.0503: unavailable (request id req-out)");
    dbb_http_free(http);
}

static void test_slow_server_hits_deadline(void **state)
{
    static const Step steps[] = {{200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 1500}};
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    gint64 start = g_get_monotonic_time();
    g_autofree char *msg = NULL;

    script(steps, 1);
    msg = expect_failure(http, &(Call){.timeout_ms = 400}, EIO, 1);
    assert_true(seconds_since(start) <= 0.4 + 0.25);
    assert_non_null(strstr(msg, ": HTTP 0 "));
    dbb_http_free(http);
}

static void test_connection_closed_unanswered(void **state)
{
    static const Step steps[] = {
        {0, "", NULL, NULL, ACT_RESET, 0},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);

    script(steps, G_N_ELEMENTS(steps));
    expect_success(http, &(Call){0}, 2);
    dbb_http_free(http);
}

/* A bare listener for a real TCP reset: libmicrohttpd closes politely.  The first
 * connection is reset after the request arrives, the second one answered. */
typedef struct {
    int fd;
    guint16 port;
} RawServer;

static void read_request(int fd)
{
    char buf[4096];
    size_t got = 0;
    ssize_t n;

    while (got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0) {
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
}

static gpointer raw_server_main(gpointer data)
{
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}";
    RawServer *r = data;

    for (int i = 0; i < 2; i++) {
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        read_request(c);
        if (i == 0) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        } else if (send(c, reply, strlen(reply), 0) < 0) {
            perror("send");
        }
        close(c);
    }
    return NULL;
}

static void test_connection_reset(void **state)
{
    RawServer raw = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    DbbHttpResponse resp = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *logs = NULL;
    GThread *t;

    assert_true(raw.fd >= 0);
    assert_int_equal(bind(raw.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(raw.fd, 4), 0);
    assert_int_equal(getsockname(raw.fd, (struct sockaddr *)&sa, &len), 0);
    t = g_thread_new("raw", raw_server_main, &raw);
    g_autofree char *base = g_strdup_printf("http://127.0.0.1:%u", ntohs(sa.sin_port));
    DbbHttpRequest req = {.service = "ddm",
                          .base_url = base,
                          .path = "/v3/p/reset",
                          .deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND};

    assert_true(dbb_http_get_json(http, &req, &resp, &error));
    assert_int_equal(dbb_http_requests_sent(http), 2);
    g_thread_join(t);
    close(raw.fd);
    /* The first attempt really saw a reset (CURLE_RECV_ERROR), not a polite close. */
    logs = captured_logs();
    assert_non_null(strstr(logs, "/v3/p/reset -> Failure when receiving data from the peer"));
    dbb_http_response_clear(&resp);
    dbb_http_free(http);
}

static void test_connection_refused(void **state)
{
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    DbbHttpResponse resp = {0};

    /* A port that was just free: bind, read it back, close. */
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    g_autofree char *base = g_strdup_printf("http://127.0.0.1:%u", ntohs(sa.sin_port));
    DbbHttpRequest req = {.service = "ddm",
                          .base_url = base,
                          .path = "/v3/p/backups",
                          .deadline = start + 700 * G_TIME_SPAN_MILLISECOND};

    assert_false(dbb_http_get_json(http, &req, &resp, &error));
    assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
    assert_true(g_str_has_prefix(error->message, "ddm: GET /v3/p/backups: HTTP 0 "));
    assert_true(dbb_http_requests_sent(http) >= 2); /* retried */
    assert_true(seconds_since(start) <= 0.7 + 0.25);
    dbb_http_free(http);
}

static void test_truncated_bodies(void **state)
{
    /* Cut short on the wire (Content-Length not reached), and a complete response whose
     * JSON is cut; both are retried. */
    static const Step steps[] = {
        {200, "{\"instances\":[{\"id\":\"a\"},", NULL, NULL, ACT_SHORT_BODY, 0},
        {200, "{\"instances\":[{\"id\":\"a\"},", NULL, NULL, ACT_RESPOND, 0},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0},
    };
    static const Step always_cut[] = {
        {200, "{\"instances\":[", NULL, "req-cut", ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    g_autofree char *msg = NULL;

    script(steps, G_N_ELEMENTS(steps));
    expect_success(http, &(Call){0}, 3);

    script(always_cut, 1);
    msg = expect_failure(http, &(Call){.timeout_ms = 600}, EIO, 0);
    assert_non_null(
        strstr(msg, "HTTP 200: body is not valid JSON (truncated) (request id req-cut)"));
    dbb_http_free(http);
}

static void test_non_json_200(void **state)
{
    static const Step once[] = {
        {200, "<html>gateway</html>", NULL, NULL, ACT_RESPOND, 0},
        {200, " {\"ok\":true}\n", NULL, NULL, ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
    DbbHttpResponse resp = {0};
    g_autoptr(GError) error = NULL;

    /* Malformed once: retried (it may have been cut on the way). */
    script(once, G_N_ELEMENTS(once));
    assert_true(call(http, &(Call){0}, &resp, &error));
    assert_int_equal(server_requests(), 2);
    assert_true(json_object_get_boolean(json_object_object_get(resp.json, "ok")));
    /* The body is the exact bytes, whitespace included. */
    assert_int_equal(g_bytes_get_size(resp.body), strlen(" {\"ok\":true}\n"));
    dbb_http_response_clear(&resp);
    assert_null(resp.json);
    dbb_http_free(http);
}

/* Malformed is final: invalid JSON, trailing bytes, an empty body or nesting beyond the
 * parser's depth on a 2xx fail after one retry, fast, never a loop to the deadline. */
static void test_malformed_is_final(void **state)
{
    g_autofree char *deep = NULL;
    GString *nest = g_string_new("{\"a\":");
    const char *bodies[] = {"<html>gateway</html>", "{\"ok\":true} trailing", "", NULL};

    for (int i = 0; i < 10000; i++)
        g_string_append_c(nest, '[');
    for (int i = 0; i < 10000; i++)
        g_string_append_c(nest, ']');
    g_string_append_c(nest, '}');
    deep = g_string_free(nest, FALSE);
    bodies[3] = deep;
    for (gsize i = 0; i < G_N_ELEMENTS(bodies); i++) {
        Step step = {200, bodies[i], NULL, "req-bad", ACT_RESPOND, 0};
        DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);
        gint64 start = g_get_monotonic_time();
        g_autofree char *msg = NULL;

        script(&step, 1);
        msg = expect_failure(http, &(Call){.timeout_ms = 5000}, EIO, 2);
        assert_true(seconds_since(start) < 1.5); /* one backoff at most, not the deadline */
        assert_non_null(strstr(msg, "HTTP 200: body is not valid JSON"));
        assert_non_null(strstr(msg, "req-bad"));
        dbb_http_free(http);
    }
}

/* ---- final statuses and error text ---- */

static void test_final_statuses_not_retried(void **state)
{
    static const struct {
        unsigned status;
        int code;
    } cases[] = {{401, EACCES}, {403, EACCES}, {404, ENOENT}, {400, EIO}};
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        Step step = {cases[i].status,
                     "{\"error_code\":\"X.1\",\"error_msg\":\"no\"}",
                     NULL,
                     NULL,
                     ACT_RESPOND,
                     0};
        g_autofree char *want = g_strdup_printf("HTTP %u X.1: no", cases[i].status);
        script(&step, 1);
        g_autofree char *msg = expect_failure(http, &(Call){0}, cases[i].code, 1);
        assert_non_null(strstr(msg, want));
    }
    dbb_http_free(http);
}

static void test_error_body_variants(void **state)
{
    static const struct {
        Step step;
        const char *want;
    } cases[] = {
        {{404, "{\"error_code\":\"DBS.200022\",\"error_msg\":\"Instance does not exist\"}", NULL,
          "req-abc", ACT_RESPOND, 0},
         "HTTP 404 DBS.200022: Instance does not exist (request id req-abc)"},
        {{400, "{\"errCode\":\"DDM.0602\",\"externalMessage\":\"The database is busy\"}", NULL,
          NULL, ACT_RESPOND, 0},
         "HTTP 400 DDM.0602: The database is busy"},
        {{401,
          "{\"error\":{\"code\":401,\"message\":\"The request you have made requires "
          "authentication.\",\"title\":\"Unauthorized\"}}",
          NULL, "req-iam", ACT_RESPOND, 0},
         "HTTP 401 401: The request you have made requires authentication. (request id req-iam)"},
        {{401,
          "{\"error_msg\":\"verify aksk signature fail\",\"error_code\":\"APIGW.0303\","
          "\"request_id\":\"fd6530a0\"}",
          NULL, NULL, ACT_RESPOND, 0},
         "HTTP 401 APIGW.0303: verify aksk signature fail (request id fd6530a0)"},
        {{403, "not json at all", NULL, NULL, ACT_RESPOND, 0}, "HTTP 403"},
        {{404, "{\"error_msg\":\"line one\\nline two\"}", NULL, NULL, ACT_RESPOND, 0},
         "HTTP 404: line one line two"},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        script(&cases[i].step, 1);
        int code = dbb_errno_for_status(cases[i].step.status);
        g_autofree char *msg = expect_failure(http, &(Call){0}, code, 1);
        g_autofree char *want = g_strdup_printf(
            "geminidb: GET /v3/" PROJECT_ID "/instances?limit=100&offset=0: %s", cases[i].want);
        assert_string_equal(msg, want);
    }
    dbb_http_free(http);
}

static void test_errno_mapping(void **state)
{
    assert_int_equal(dbb_errno_for_status(401), EACCES);
    assert_int_equal(dbb_errno_for_status(403), EACCES);
    assert_int_equal(dbb_errno_for_status(404), ENOENT);
    assert_int_equal(dbb_errno_for_status(400), EIO);
    assert_int_equal(dbb_errno_for_status(429), EIO);
    assert_int_equal(dbb_errno_for_status(500), EIO);
    assert_int_equal(dbb_errno_for_status(0), EIO);
}

/* ---- concurrency and reuse ---- */

typedef struct {
    DbbHttp *http;
    unsigned calls;
    gboolean ok;
    guint64 rank; /* the thread's request priority (priority.h) */
    gint *served; /* or NULL; shared: how many workers finished before this one */
    gint order;   /* the value of *served when this one finished */
} Worker;

static gpointer worker_main(gpointer data)
{
    Worker *w = data;
    g_autofree char *base = base_url("/ddm");
    DbbHttpRequest req = {.service = "ddm", .base_url = base, .path = "/v3/p/backups"};

    w->ok = TRUE;
    dbb_priority_set(w->rank);
    for (unsigned i = 0; i < w->calls; i++) {
        DbbHttpResponse resp = {0};
        g_autoptr(GError) error = NULL;
        req.deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
        if (!dbb_http_get_json(w->http, &req, &resp, &error))
            w->ok = FALSE;
        dbb_http_response_clear(&resp);
    }
    if (w->served)
        w->order = g_atomic_int_add(w->served, 1);
    return NULL;
}

static void run_workers(DbbHttp *http, unsigned n_threads, unsigned calls)
{
    g_autofree Worker *w = g_new0(Worker, n_threads);
    g_autofree GThread **t = g_new0(GThread *, n_threads);

    for (unsigned i = 0; i < n_threads; i++) {
        w[i] = (Worker){.http = http, .calls = calls};
        t[i] = g_thread_new("worker", worker_main, &w[i]);
    }
    for (unsigned i = 0; i < n_threads; i++) {
        g_thread_join(t[i]);
        assert_true(w[i].ok);
    }
}

/* dbb_http_cancel_all() ends a request stuck on a slow server, a wait for a connection slot
 * and any later request at once. */
static gpointer cancel_later(gpointer data)
{
    g_usleep(300 * G_TIME_SPAN_MILLISECOND);
    dbb_http_cancel_all(data);
    return NULL;
}

static void test_cancel_all(void **state)
{
    static const Step slow[] = {{200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 8000}};
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 1);
    Worker holder = {.http = http, .calls = 1};
    GThread *t, *c;
    gint64 start;
    g_autofree char *msg = NULL;
    g_autofree char *after = NULL;

    script(slow, 1);
    t = g_thread_new("holder", worker_main, &holder);
    while (server_requests() == 0)
        g_usleep(5 * G_TIME_SPAN_MILLISECOND);
    start = g_get_monotonic_time();
    c = g_thread_new("cancel", cancel_later, http);
    /* This one waits for the only slot, which the holder keeps for 8 s. */
    msg = expect_failure(http, &(Call){.timeout_ms = 20000}, EIO, 0);
    assert_non_null(strstr(msg, "cancelled"));
    g_thread_join(t);
    g_thread_join(c);
    assert_false(holder.ok);
    /* The holder's transfer was aborted too, well before the server's 8 s. */
    assert_true(seconds_since(start) < 0.3 + 1.5);
    after = expect_failure(http, &(Call){0}, EIO, 0);
    assert_non_null(strstr(after, "cancelled"));
    assert_int_equal(dbb_http_requests_sent(http), 1);
    dbb_http_free(http);
}

static void test_max_conns_respected(void **state)
{
    static const Step slow[] = {{200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 40}};
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 3);

    script(slow, 1);
    run_workers(http, 16, 3);
    assert_int_equal(server_requests(), 48);
    assert_true(srv.peak <= 3);
    assert_true(srv.peak >= 2); /* the bound was actually exercised */
    dbb_http_free(http);
}

static void test_slot_wait_counts_against_deadline(void **state)
{
    static const Step slow[] = {{200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 1200}};
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 1);
    Worker holder = {.http = http, .calls = 1};
    GThread *t;
    gint64 start;
    g_autofree char *msg = NULL;

    script(slow, 1);
    t = g_thread_new("holder", worker_main, &holder);
    while (server_requests() == 0) /* wait until the holder occupies the only slot */
        g_usleep(5 * G_TIME_SPAN_MILLISECOND);
    start = g_get_monotonic_time();
    msg = expect_failure(http, &(Call){.timeout_ms = 300}, EIO, 0);
    assert_int_equal(server_requests(), 1); /* only the holder's */
    assert_int_equal(dbb_http_requests_sent(http), 1);
    assert_true(seconds_since(start) >= 0.29);
    assert_true(seconds_since(start) <= 0.3 + 0.25);
    assert_non_null(strstr(msg, "free connection"));
    g_thread_join(t);
    assert_true(holder.ok);
    dbb_http_free(http);
}

/* While the only connection is busy, waiting requests get it by priority: demand first, then
 * the smaller background rank, equal ranks in arrival order. */
static void test_demand_overtakes_background(void **state)
{
    static const Step steps[] = {
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 600},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 30},
    };
    /* Queued in this order while the holder keeps the only slot. */
    static const guint64 ranks[] = {2, 1, 2, DBB_PRIORITY_DEMAND};
    /* Finishing order (the holder is 0): one connection, and each request takes 30 ms, so a
     * worker counts itself before the next one's response comes. */
    static const gint want[] = {3, 2, 4, 1};
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 1);
    gint served = 0;
    Worker holder = {.http = http, .calls = 1, .rank = 1, .served = &served};
    Worker w[G_N_ELEMENTS(ranks)];
    GThread *t[G_N_ELEMENTS(ranks)], *h;

    script(steps, G_N_ELEMENTS(steps));
    h = g_thread_new("holder", worker_main, &holder);
    while (server_requests() == 0)
        g_usleep(5 * G_TIME_SPAN_MILLISECOND);
    for (gsize i = 0; i < G_N_ELEMENTS(ranks); i++) {
        w[i] = (Worker){.http = http, .calls = 1, .rank = ranks[i], .served = &served};
        t[i] = g_thread_new("ranked", worker_main, &w[i]);
        g_usleep(60 * G_TIME_SPAN_MILLISECOND); /* queued before the next arrives */
    }
    g_thread_join(h);
    assert_true(holder.ok);
    assert_int_equal(holder.order, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(ranks); i++) {
        g_thread_join(t[i]);
        assert_true(w[i].ok);
        assert_int_equal(w[i].order, want[i]);
    }
    assert_int_equal(server_requests(), 5);
    assert_true(srv.peak <= 1);
    dbb_http_free(http);
}

/* A request that got its slot late and then timed out says how long it waited for it. */
static void test_slot_wait_named_in_error(void **state)
{
    static const Step steps[] = {
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 300},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 3000},
    };
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 1);
    Worker holder = {.http = http, .calls = 1};
    GThread *t;
    g_autofree char *msg = NULL;

    script(steps, G_N_ELEMENTS(steps));
    t = g_thread_new("holder", worker_main, &holder);
    while (server_requests() == 0)
        g_usleep(5 * G_TIME_SPAN_MILLISECOND);
    msg = expect_failure(http, &(Call){.timeout_ms = 900}, EIO, 0);
    assert_non_null(strstr(msg, "of the deadline spent waiting for a free connection"));
    assert_non_null(strstr(msg, "max_conns=1"));
    g_thread_join(t);
    assert_true(holder.ok);
    dbb_http_free(http);
}

static void test_connection_reuse(void **state)
{
    DbbHttp *http = new_http(DBB_AUTH_AKSK, 4);

    script(&ok_step, 1);
    for (int i = 0; i < 20; i++)
        expect_success(http, &(Call){0}, 0);
    assert_int_equal(server_requests(), 20);
    assert_int_equal(srv.connections, 1);

    /* Handles move between threads and keep their connection. */
    run_workers(http, 1, 5);
    run_workers(http, 1, 5);
    assert_int_equal(server_requests(), 30);
    assert_int_equal(srv.connections, 1);
    assert_int_equal(dbb_http_requests_sent(http), 30);
    dbb_http_free(http);
}

/* ---- auth headers ---- */

static const char *srv_header(const char *name)
{
    return g_hash_table_lookup(srv.headers, name);
}

static void test_aksk_project_request(void **state)
{
    static const DbbQueryParam q[] = {
        {"begin_time", "2019-05-27T03:38:51+0000"},
        {"type", "DatabaseTable"},
        {"name", "a b/c*"},
        {"limit", "100"},
    };
    DbbHttp *http = new_http(DBB_AUTH_AKSK, 4);
    g_autofree char *host = g_strdup_printf("127.0.0.1:%u", srv.port);

    script(&ok_step, 1);
    expect_success(http,
                   &(Call){.prefix = "/geminidb",
                           .path = "/v4/" PROJECT_ID "/backups",
                           .query = q,
                           .n_query = G_N_ELEMENTS(q)},
                   1);
    assert_int_equal(srv.good_signatures, 1);
    assert_int_equal(srv.bad_signatures, 0);
    assert_string_equal(srv.path, "/geminidb/v4/" PROJECT_ID "/backups");
    assert_string_equal(srv_header("x-project-id"), PROJECT_ID);
    assert_string_equal(srv_header("x-security-token"), SECURITY_TOKEN);
    assert_null(srv_header("x-domain-id"));
    assert_null(srv_header("x-auth-token"));
    assert_string_equal(srv_header("host"), host);
    assert_string_equal(srv_header("content-type"), "application/json");
    assert_string_equal(srv_header("accept"), "application/json");
    assert_true(g_str_has_prefix(srv_header("user-agent"), "dbbackupfs/0.1.0 (libcurl/"));
    assert_non_null(strstr(srv_header("authorization"),
                           "SignedHeaders=content-type;host;x-project-id;x-sdk-date;"
                           "x-security-token, "));
    /* X-Sdk-Date is now, in UTC. */
    g_autoptr(GDateTime) sent = g_date_time_new_from_iso8601(srv_header("x-sdk-date"), NULL);
    assert_non_null(sent);
    assert_true(ABS(g_date_time_to_unix(sent) - g_get_real_time() / G_USEC_PER_SEC) < 120);
    assert_int_equal(srv.query->len, 8);
    dbb_http_free(http);
}

static void test_aksk_global_request(void **state)
{
    DbbHttp *http = new_http(DBB_AUTH_AKSK, 4);

    script(&ok_step, 1);
    expect_success(
        http, &(Call){.prefix = "/iam", .path = "/v3/auth/projects", .query = NULL, .global = TRUE},
        1);
    assert_int_equal(srv.good_signatures, 1);
    assert_string_equal(srv.path, "/iam/v3/auth/projects");
    assert_string_equal(srv_header("x-domain-id"), DOMAIN_ID);
    assert_null(srv_header("x-project-id"));
    assert_non_null(strstr(srv_header("authorization"),
                           "SignedHeaders=content-type;host;x-domain-id;x-sdk-date;"
                           "x-security-token, "));
    dbb_http_free(http);
}

static void test_aksk_retries_are_signed(void **state)
{
    static const Step steps[] = {
        {500, "{}", NULL, NULL, ACT_RESPOND, 0},
        {0, "", NULL, NULL, ACT_RESET, 0},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0},
    };
    DbbHttp *http = new_http(DBB_AUTH_AKSK, 4);

    script(steps, G_N_ELEMENTS(steps));
    expect_success(http, &(Call){0}, 3);
    assert_int_equal(srv.good_signatures, 3);
    assert_int_equal(srv.bad_signatures, 0);
    dbb_http_free(http);
}

static void test_token_request(void **state)
{
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 4);

    script(&ok_step, 1);
    expect_success(http, &(Call){0}, 1);
    assert_string_equal(srv_header("x-auth-token"), TOKEN);
    assert_string_equal(srv_header("accept"), "application/json");
    assert_null(srv_header("authorization"));
    assert_null(srv_header("x-sdk-date"));
    dbb_http_free(http);
}

static void test_bad_credentials_rejected_locally(void **state)
{
    DbbCredentials creds = {.kind = DBB_AUTH_TOKEN, .token = "abc\r\nX-Evil: 1"};
    DbbHttpConfig config = {.max_conns = 2, .credentials = &creds};
    DbbHttp *http = dbb_http_new(&config, NULL);
    g_autofree char *msg = NULL;

    script(&ok_step, 1);
    msg = expect_failure(http, &(Call){0}, EIO, 0);
    assert_int_equal(server_requests(), 0);
    assert_int_equal(dbb_http_requests_sent(http), 0);
    assert_null(strstr(msg, "X-Evil"));
    dbb_http_free(http);
}

static void test_invalid_endpoint(void **state)
{
    DbbHttp *http = new_http(DBB_AUTH_TOKEN, 2);
    DbbHttpRequest req = {.service = "iam", .base_url = "not a url", .path = "/v3/auth/projects"};
    DbbHttpResponse resp = {0};
    g_autoptr(GError) error = NULL;

    assert_false(dbb_http_get_json(http, &req, &resp, NULL)); /* a NULL GError** is fine */
    assert_false(dbb_http_get_json(http, &req, &resp, &error));
    assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
    assert_int_equal(dbb_http_requests_sent(http), 0);
    dbb_http_free(http);
}

static void test_credentials_copy_and_clear(void **state)
{
    DbbCredentials src = {.kind = DBB_AUTH_AKSK,
                          .ak = g_strdup(AK),
                          .sk = g_strdup(SK),
                          .security_token = g_strdup(SECURITY_TOKEN),
                          .domain_id = g_strdup(DOMAIN_ID)};
    DbbCredentials dst = {0};

    dbb_credentials_copy(&dst, &src);
    dbb_credentials_clear(&src);
    assert_int_equal(src.kind, DBB_AUTH_NONE);
    assert_null(src.ak);
    assert_null(src.sk);
    assert_null(src.security_token);
    assert_null(src.domain_id);
    assert_int_equal(dst.kind, DBB_AUTH_AKSK);
    assert_string_equal(dst.sk, SK); /* a deep copy survives the original's wipe */
    assert_string_equal(dst.security_token, SECURITY_TOKEN);
    assert_null(dst.token);
    dbb_credentials_clear(&dst);
    dbb_credentials_clear(NULL);
}

/* ---- secrets ---- */

static void test_no_secret_in_logs_or_errors(void **state)
{
    /* A gateway that echoes the credentials back in its error text. */
    static const Step echo_aksk[] = {
        {401, "{\"error_code\":\"APIGW.0301\",\"error_msg\":\"bad " SK " " SECURITY_TOKEN "\"}",
         NULL, "req-echo", ACT_RESPOND, 0},
    };
    static const Step echo_token[] = {
        {401, "{\"error_code\":\"APIGW.0301\",\"error_msg\":\"decrypt token fail " TOKEN "\"}",
         NULL, "req-echo", ACT_RESPOND, 0},
    };
    static const Step flaky[] = {
        {500, "{}", NULL, NULL, ACT_RESPOND, 0},
        {200, "{\"ok\":true}", NULL, NULL, ACT_RESPOND, 0},
    };
    DbbHttp *aksk = new_http(DBB_AUTH_AKSK, 2);
    DbbHttp *token = new_http(DBB_AUTH_TOKEN, 2);
    g_autofree char *m1 = NULL, *m2 = NULL, *logs = NULL;

    script(flaky, 2);
    expect_success(aksk, &(Call){0}, 2);
    script(flaky, 2);
    expect_success(token, &(Call){0}, 2);
    script(echo_aksk, 1);
    m1 = expect_failure(aksk, &(Call){0}, EACCES, 1); /* checks the message for secrets */
    script(echo_token, 1);
    m2 = expect_failure(token, &(Call){0}, EACCES, 1);
    assert_non_null(strstr(m1, "HTTP 401 APIGW.0301: bad *** *** (request id req-echo)"));
    assert_non_null(
        strstr(m2, "HTTP 401 APIGW.0301: decrypt token fail *** (request id req-echo)"));
    dbb_http_free(aksk);
    dbb_http_free(token);

    /* Everything every test logged, debug included. */
    logs = captured_logs();
    assert_non_null(strstr(logs, "(attempt 1)")); /* debug lines were captured */
    assert_non_null(strstr(logs, "APIGW.0301"));  /* so was the failure warning */
    assert_no_secret(logs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_500_then_200),
        cmocka_unit_test(test_429_retry_after),
        cmocka_unit_test(test_retry_after_beyond_deadline),
        cmocka_unit_test(test_outage_fails_within_deadline),
        cmocka_unit_test(test_slow_server_hits_deadline),
        cmocka_unit_test(test_connection_closed_unanswered),
        cmocka_unit_test(test_connection_reset),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_non_json_200),
        cmocka_unit_test(test_malformed_is_final),
        cmocka_unit_test(test_cancel_all),
        cmocka_unit_test(test_slot_wait_named_in_error),
        cmocka_unit_test(test_demand_overtakes_background),
        cmocka_unit_test(test_final_statuses_not_retried),
        cmocka_unit_test(test_error_body_variants),
        cmocka_unit_test(test_errno_mapping),
        cmocka_unit_test(test_max_conns_respected),
        cmocka_unit_test(test_slot_wait_counts_against_deadline),
        cmocka_unit_test(test_connection_reuse),
        cmocka_unit_test(test_aksk_project_request),
        cmocka_unit_test(test_aksk_global_request),
        cmocka_unit_test(test_aksk_retries_are_signed),
        cmocka_unit_test(test_token_request),
        cmocka_unit_test(test_bad_credentials_rejected_locally),
        cmocka_unit_test(test_invalid_endpoint),
        cmocka_unit_test(test_credentials_copy_and_clear),
        cmocka_unit_test(test_no_secret_in_logs_or_errors),
    };

    g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
    log_text = g_string_new(NULL);
    g_log_set_writer_func(capture_writer, NULL, NULL);
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
