/*
 * cloudsim — the libmicrohttpd daemon: per-request context, faults, counts, the request
 * log, and sending replies (whole, or truncated on purpose).
 *
 * MHD runs one thread per connection, so a latency sleep holds up only its own
 * connection.  The URI log callback creates each request's context; it keeps the raw
 * query string for the request log, which MHD does not otherwise expose.
 */
#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define SIM_MAX_BODY (512u << 20) /* a 300,000-backup fleet document is ~150 MB */

const char *const sim_fault_names[SIM_N_FAULTS] = {"latency",  "outage", "error",
                                                   "throttle", "reset",  "truncate"};

typedef struct {
    char *raw_uri;
    gboolean started;
    GByteArray *body;
    gboolean body_too_large;
} SimRequest;

/* ---------- replies ---------- */

void sim_reply_set(SimReply *r, guint status, const char *body)
{
    r->status = status;
    r->body = g_string_new(body);
}

void sim_reply_error(SimReply *r, guint status, const char *code, const char *msg)
{
    r->status = status;
    r->body = g_string_new("{\"error_code\":");
    sim_json_append_string(r->body, code);
    g_string_append(r->body, ",\"error_msg\":");
    sim_json_append_string(r->body, msg);
    g_string_append_c(r->body, '}');
}

static guint64 mix64(guint64 z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A fresh 32-hex-digit id per request, like the gateway's. */
static void request_id(SimServer *srv, char out[33])
{
    guint64 n = (guint64)g_atomic_int_add(&srv->request_ids, 1);

    g_snprintf(out, 33, "%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER "x",
               mix64(srv->request_id_salt ^ n), mix64(n + 0x9e3779b97f4a7c15ULL));
}

typedef struct {
    GString *body;
    gsize cut;
} ShortBody;

/* Serves the first `cut` bytes, then fails: MHD closes the connection mid-body. */
static ssize_t short_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    ShortBody *sb = cls;
    size_t n;

    if (pos >= sb->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = MIN(max, sb->cut - (size_t)pos);
    memcpy(buf, sb->body->str + pos, n);
    return (ssize_t)n;
}

static void short_body_free(void *cls)
{
    ShortBody *sb = cls;

    g_string_free(sb->body, TRUE);
    g_free(sb);
}

static void free_gstring_buffer(void *p)
{
    g_free(p);
}

typedef enum {
    SEND_WHOLE,
    SEND_CUT_SHORT, /* Content-Length of the whole body, connection dies halfway */
    SEND_CUT_JSON,  /* half the body, Content-Length matching: truncated JSON */
} SendMode;

/* Queues r (taking its body) with the headers every reply carries. */
static enum MHD_Result send_reply(SimServer *srv, struct MHD_Connection *c, SimReply *r,
                                  SendMode mode, gint retry_after, struct MHD_Response *custom)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char rid[33];
    gsize len = r->body ? r->body->len : 0, cut = MAX(len / 2, (gsize)1);

    if (custom) {
        resp = custom;
        if (r->body)
            g_string_free(g_steal_pointer(&r->body), TRUE);
    } else if (mode == SEND_CUT_SHORT && len > 1) {
        ShortBody *sb = g_new0(ShortBody, 1);

        sb->body = g_steal_pointer(&r->body);
        sb->cut = cut;
        resp = MHD_create_response_from_callback(len, 4096, short_body_read, sb, short_body_free);
    } else {
        if (mode != SEND_WHOLE)
            len = cut;
        resp = MHD_create_response_from_buffer_with_free_callback(
            len, g_string_free(g_steal_pointer(&r->body), FALSE), free_gstring_buffer);
    }
    request_id(srv, rid);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Request-Id", rid);
    if (r->subject_token)
        MHD_add_response_header(resp, "X-Subject-Token", r->subject_token);
    g_clear_pointer(&r->subject_token, g_free);
    if (r->status == 429) {
        char ra[16];

        g_snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---------- counts and the request log ---------- */

static guint64 stats_arrival(SimServer *srv, SimRoute route, const char *path, const char *query)
{
    SimLogEntry *e;
    guint64 seq;

    g_mutex_lock(&srv->stats_lock);
    srv->total++;
    srv->routes[route]++;
    seq = srv->next_seq++;
    e = &srv->log[seq % SIM_LOG_CAPACITY];
    g_free(e->path);
    g_free(e->query);
    *e = (SimLogEntry){seq, route, -1, SIM_FAULT_NONE, g_strdup(path), g_strdup(query)};
    g_mutex_unlock(&srv->stats_lock);
    return seq;
}

static void stats_finish(SimServer *srv, guint64 seq, int status, SimFaultKind fault)
{
    SimLogEntry *e;

    g_mutex_lock(&srv->stats_lock);
    e = &srv->log[seq % SIM_LOG_CAPACITY];
    /* The slot may have been reused or reset meanwhile. */
    if (e->seq == seq) {
        e->status = status;
        e->fault = fault;
    }
    /* Latency is counted when it happens: a reply may also carry another fault. */
    if (fault != SIM_FAULT_NONE && fault != SIM_FAULT_LATENCY)
        srv->fault_counts[fault]++;
    if (status == 401)
        srv->auth_failures++;
    g_mutex_unlock(&srv->stats_lock);
}

static void stats_fault(SimServer *srv, SimFaultKind fault)
{
    g_mutex_lock(&srv->stats_lock);
    srv->fault_counts[fault]++;
    g_mutex_unlock(&srv->stats_lock);
}

void sim_stats_reset(SimServer *srv)
{
    g_mutex_lock(&srv->stats_lock);
    srv->total = srv->auth_failures = 0;
    memset(srv->routes, 0, sizeof srv->routes);
    memset(srv->fault_counts, 0, sizeof srv->fault_counts);
    for (guint i = 0; i < SIM_LOG_CAPACITY; i++) {
        SimLogEntry *e = &srv->log[i];

        g_clear_pointer(&e->path, g_free);
        g_clear_pointer(&e->query, g_free);
        e->seq = G_MAXUINT64;
    }
    srv->log_begin = srv->next_seq;
    g_mutex_unlock(&srv->stats_lock);
}

GString *sim_stats_counts_json(SimServer *srv)
{
    GString *b = g_string_new(NULL);

    g_mutex_lock(&srv->stats_lock);
    g_string_append_printf(b, "{\"total\":%" G_GINT64_FORMAT ",\"routes\":{", srv->total);
    for (int i = 0; i < SIM_N_ROUTES; i++)
        g_string_append_printf(b, "%s\"%s\":%" G_GINT64_FORMAT, i ? "," : "", sim_route_names[i],
                               srv->routes[i]);
    g_string_append(b, "},\"faults\":{");
    for (int i = 0; i < SIM_N_FAULTS; i++)
        g_string_append_printf(b, "%s\"%s\":%" G_GINT64_FORMAT, i ? "," : "", sim_fault_names[i],
                               srv->fault_counts[i]);
    g_string_append_printf(b, "},\"auth_failures\":%" G_GINT64_FORMAT "}", srv->auth_failures);
    g_mutex_unlock(&srv->stats_lock);
    return b;
}

static void append_log_entry(GString *b, const SimLogEntry *e)
{
    g_string_append_printf(b, "{\"route\":\"%s\",\"path\":", sim_route_names[e->route]);
    sim_json_append_string(b, e->path);
    g_string_append(b, ",\"query\":");
    sim_json_append_string(b, e->query);
    if (e->status < 0)
        g_string_append(b, ",\"status\":null");
    else
        g_string_append_printf(b, ",\"status\":%d", e->status);
    if (e->fault == SIM_FAULT_NONE)
        g_string_append(b, ",\"fault\":null}");
    else
        g_string_append_printf(b, ",\"fault\":\"%s\"}", sim_fault_names[e->fault]);
}

GString *sim_stats_requests_json(SimServer *srv)
{
    GString *b = g_string_new("{\"requests\":[");
    gboolean first = TRUE;

    g_mutex_lock(&srv->stats_lock);
    for (guint64 seq = MAX(srv->log_begin,
                           srv->next_seq > SIM_LOG_CAPACITY ? srv->next_seq - SIM_LOG_CAPACITY : 0);
         seq < srv->next_seq; seq++) {
        const SimLogEntry *e = &srv->log[seq % SIM_LOG_CAPACITY];

        if (e->seq != seq)
            continue;
        if (!first)
            g_string_append(b, ",\n");
        first = FALSE;
        append_log_entry(b, e);
    }
    g_mutex_unlock(&srv->stats_lock);
    g_string_append(b, "]}");
    return b;
}

GString *sim_faults_json(SimServer *srv)
{
    GString *b = g_string_new(NULL);
    char r[4][G_ASCII_DTOSTR_BUF_SIZE];
    SimFaults f;

    g_mutex_lock(&srv->fault_lock);
    f = srv->faults;
    g_mutex_unlock(&srv->fault_lock);
    g_ascii_dtostr(r[0], sizeof r[0], f.error_rate);
    g_ascii_dtostr(r[1], sizeof r[1], f.throttle_rate);
    g_ascii_dtostr(r[2], sizeof r[2], f.reset_rate);
    g_ascii_dtostr(r[3], sizeof r[3], f.truncate_rate);
    g_string_append_printf(b,
                           "{\"latency_ms\":%d,\"error_rate\":%s,\"throttle_rate\":%s,"
                           "\"reset_rate\":%s,\"truncate_rate\":%s,\"retry_after\":%d,"
                           "\"outage\":%s}",
                           f.latency_ms, r[0], r[1], r[2], r[3], f.retry_after,
                           f.outage ? "true" : "false");
    return b;
}

/* ---------- faults ---------- */

typedef struct {
    gint latency_ms;
    gint retry_after;
    SimFaultKind terminal; /* outage, error, throttle or reset: no normal reply */
    gboolean truncate;
    gboolean truncate_short; /* which of the two truncations */
} FaultPlan;

static gboolean draw(SimServer *srv, gdouble rate)
{
    guint64 z = (srv->fault_rng += 0x9e3779b97f4a7c15ULL);

    if (rate <= 0)
        return FALSE;
    return (gdouble)(mix64(z) >> 11) * 0x1.0p-53 < rate;
}

/* One plan per request.  Draws happen in a fixed order (error, throttle, reset, truncate),
 * each only if no earlier one fired, so with a fixed --fault-seed a sequential test sees
 * the same faults every run. */
static void plan_faults(SimServer *srv, FaultPlan *plan)
{
    const SimFaults *f = &srv->faults;

    memset(plan, 0, sizeof *plan);
    plan->terminal = SIM_FAULT_NONE;
    g_mutex_lock(&srv->fault_lock);
    plan->latency_ms = f->latency_ms;
    plan->retry_after = f->retry_after;
    if (f->outage)
        plan->terminal = SIM_FAULT_OUTAGE;
    else if (draw(srv, f->error_rate))
        plan->terminal = SIM_FAULT_ERROR;
    else if (draw(srv, f->throttle_rate))
        plan->terminal = SIM_FAULT_THROTTLE;
    else if (draw(srv, f->reset_rate))
        plan->terminal = SIM_FAULT_RESET;
    else if (draw(srv, f->truncate_rate))
        plan->truncate = TRUE;
    g_mutex_unlock(&srv->fault_lock);
}

/* The reply of a terminal fault other than reset. */
static void fault_reply(SimFaultKind kind, SimReply *out)
{
    switch (kind) {
    case SIM_FAULT_OUTAGE:
        sim_reply_error(out, 503, "APIG.0202", "Backend unavailable");
        break;
    case SIM_FAULT_ERROR:
        sim_reply_error(out, 500, "DBS.000001", "Internal error");
        break;
    case SIM_FAULT_THROTTLE:
        sim_reply_error(out, 429, "APIG.0308",
                        "The throttling threshold has been reached: policy user over "
                        "ratelimit,limit:20,time:1 second");
        break;
    default:
        g_assert_not_reached();
    }
}

/* ---------- the handler ---------- */

static const char *query_of(const SimRequest *rq)
{
    const char *q = rq->raw_uri ? strchr(rq->raw_uri, '?') : NULL;

    return q ? q + 1 : "";
}

static enum MHD_Result serve_api(SimServer *srv, struct MHD_Connection *c, SimRequest *rq,
                                 const char *url, const char *method)
{
    SimRouteMatch m;
    SimReply reply = {0};
    FaultPlan plan;
    SimFaultKind fault = SIM_FAULT_NONE;
    SendMode mode = SEND_WHOLE;
    struct MHD_Response *custom = NULL;
    enum MHD_Result ret;
    guint64 seq;

    sim_route_match(method, url, &m);
    seq = stats_arrival(srv, m.route, url, query_of(rq));
    plan_faults(srv, &plan);
    if (plan.latency_ms > 0) {
        stats_fault(srv, SIM_FAULT_LATENCY);
        fault = SIM_FAULT_LATENCY;
        g_usleep((gulong)plan.latency_ms * 1000);
    }
    if (plan.terminal == SIM_FAULT_RESET) {
        /* MHD_NO closes the connection without a response. */
        stats_finish(srv, seq, 0, SIM_FAULT_RESET);
        if (!srv->cfg.quiet)
            g_message("%s %s?%s -> reset", method, url, query_of(rq));
        sim_route_match_clear(&m);
        return MHD_NO;
    }
    if (plan.terminal != SIM_FAULT_NONE)
        fault_reply(plan.terminal, &reply);
    else
        sim_api_serve(srv, c, &m, method, url, rq->body, &reply);
    if (plan.terminal == SIM_FAULT_NONE)
        sim_misbehave_apply(srv, c, m.route, &reply, &custom);
    if (plan.terminal != SIM_FAULT_NONE) {
        fault = plan.terminal;
    } else if (plan.truncate && reply.status == 200) {
        fault = SIM_FAULT_TRUNCATE;
        g_mutex_lock(&srv->fault_lock);
        mode = (srv->truncate_flip++ % 2 == 0) ? SEND_CUT_SHORT : SEND_CUT_JSON;
        g_mutex_unlock(&srv->fault_lock);
    }
    if (!srv->cfg.quiet)
        g_message("%s %s?%s -> %u%s%s", method, url, query_of(rq), reply.status,
                  fault == SIM_FAULT_NONE ? "" : " fault ",
                  fault == SIM_FAULT_NONE ? "" : sim_fault_names[fault]);
    stats_finish(srv, seq, (int)reply.status, fault);
    ret = send_reply(srv, c, &reply, mode, plan.retry_after, custom);
    sim_route_match_clear(&m);
    return ret;
}

static enum MHD_Result serve_control(SimServer *srv, struct MHD_Connection *c, SimRequest *rq,
                                     const char *url, const char *method)
{
    SimReply reply = {0};

    sim_control_serve(srv, method, url, rq->body, rq->body_too_large, &reply);
    return send_reply(srv, c, &reply, SEND_WHOLE, 0, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    SimServer *srv = cls;
    SimRequest *rq = *req_cls;

    if (!rq->started) {
        rq->started = TRUE;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body->len + *upload_size > SIM_MAX_BODY)
            rq->body_too_large = TRUE;
        else
            g_byte_array_append(rq->body, (const guint8 *)upload_data, (guint)*upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (g_str_has_prefix(url, "/_sim/") || strcmp(url, "/_sim") == 0)
        return serve_control(srv, c, rq, url, method);
    return serve_api(srv, c, rq, url, method);
}

/* MHD's own messages.  Resets and cut bodies are on purpose and make MHD complain, so
 * they are only worth showing when requests are logged too. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    SimServer *srv = cls;
    g_autofree char *msg = NULL;

    if (srv->cfg.quiet)
        return;
    msg = g_strdup_vprintf(fmt, ap);
    g_message("libmicrohttpd: %s", g_strchomp(msg));
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    SimRequest *rq = g_new0(SimRequest, 1);

    rq->raw_uri = g_strdup(uri);
    rq->body = g_byte_array_new();
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    SimRequest *rq = *req_cls;

    if (!rq)
        return;
    g_free(rq->raw_uri);
    g_byte_array_unref(rq->body);
    g_free(rq);
    *req_cls = NULL;
}

/* ---------- start and stop ---------- */

void sim_server_replace_fleet(SimServer *srv, SimFleet *fleet)
{
    SimFleet *old;

    g_rw_lock_writer_lock(&srv->fleet_lock);
    old = srv->fleet;
    srv->fleet = fleet;
    g_rw_lock_writer_unlock(&srv->fleet_lock);
    sim_fleet_free(old);
}

static gboolean make_address(const char *bind, guint port, struct sockaddr_storage *ss,
                             gboolean *ipv6)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((guint16)port);
        *ipv6 = FALSE;
        return TRUE;
    }
    if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((guint16)port);
        *ipv6 = TRUE;
        return TRUE;
    }
    return FALSE;
}

SimServer *sim_server_start(const SimConfig *cfg, SimFleet *fleet, guint *port, GError **error)
{
    SimServer *srv = g_new0(SimServer, 1);
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    gboolean ipv6;
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;

    if (!make_address(cfg->bind, cfg->port, &ss, &ipv6)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "--bind %s: not an IPv4 or IPv6 address", cfg->bind);
        g_free(srv);
        return NULL;
    }
    srv->cfg = *cfg;
    srv->faults = cfg->faults;
    srv->fault_rng = cfg->fault_seed;
    srv->request_id_salt = (guint64)g_get_real_time() ^ ((guint64)g_random_int() << 32);
    srv->fleet = fleet;
    srv->misbehave = sim_misbehave_new();
    srv->tokens = sim_tokens_new(cfg->token_lifetime);
    srv->log = g_new0(SimLogEntry, SIM_LOG_CAPACITY);
    for (guint i = 0; i < SIM_LOG_CAPACITY; i++)
        srv->log[i].seq = G_MAXUINT64;
    g_rw_lock_init(&srv->fleet_lock);
    g_mutex_init(&srv->fault_lock);
    g_mutex_init(&srv->stats_lock);
    if (ipv6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        /* The logger first, or MHD logs the options' own messages elsewhere. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)120, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_END);
    if (!srv->daemon) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot listen on %s port %u",
                    cfg->bind, cfg->port);
        srv->fleet = NULL; /* still the caller's */
        sim_server_stop(srv);
        return NULL;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : cfg->port;
    return srv;
}

void sim_server_stop(SimServer *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    sim_fleet_free(srv->fleet);
    sim_misbehave_free(srv->misbehave);
    sim_tokens_free(srv->tokens);
    for (guint i = 0; i < SIM_LOG_CAPACITY; i++) {
        g_free(srv->log[i].path);
        g_free(srv->log[i].query);
    }
    g_free(srv->log);
    g_rw_lock_clear(&srv->fleet_lock);
    g_mutex_clear(&srv->fault_lock);
    g_mutex_clear(&srv->stats_lock);
    g_free(srv);
}
