/*
 * cloudsim — the API routes: IAM's project list and each service's instance and backup
 * lists, with the documented shapes (reference §2–§5): key order as in the seeds, TaurusDB
 * backup totals as strings, page limits 100/100/128, 400 on a bad offset or limit, DDM v1
 * errors as {"errCode","externalMessage"}.  Pages are cut from the fleet's pre-serialised
 * records and concatenated.
 */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const sim_route_names[SIM_N_ROUTES] = {
    "iam.projects",      "taurusdb.instances", "taurusdb.backups", "geminidb.instances",
    "geminidb.backups",  "ddm.instances",      "ddm.backups",      "taurusdb.project_backups",
    "rds.instances",     "rds.backups",        "dds.instances",    "dds.backups",
    "gaussdb.instances", "gaussdb.backups",    "iam.tokens",       "unknown",
};

/* ---------- matching ---------- */

typedef struct {
    SimRoute route;
    const char *pattern; /* '*' = project id, '+' = instance id */
} RouteSpec;

static const RouteSpec route_table[] = {
    {SIM_ROUTE_IAM_PROJECTS, "/iam/v3/auth/projects"},
    {SIM_ROUTE_TAURUSDB_INSTANCES, "/taurusdb/v3/*/instances"},
    {SIM_ROUTE_TAURUSDB_BACKUPS, "/taurusdb/v3/*/instances/+/backups"},
    {SIM_ROUTE_GEMINIDB_INSTANCES, "/geminidb/v3/*/instances"},
    {SIM_ROUTE_GEMINIDB_BACKUPS, "/geminidb/v4/*/backups"},
    {SIM_ROUTE_DDM_INSTANCES, "/ddm/v1/*/instances"},
    {SIM_ROUTE_DDM_BACKUPS, "/ddm/v3/*/backups"},
    {SIM_ROUTE_TAURUSDB_PROJECT_BACKUPS, "/taurusdb/v3/*/backups"},
    {SIM_ROUTE_RDS_INSTANCES, "/rds/v3/*/instances"},
    {SIM_ROUTE_RDS_BACKUPS, "/rds/v3/*/backups"},
    {SIM_ROUTE_DDS_INSTANCES, "/dds/v3/*/instances"},
    {SIM_ROUTE_DDS_BACKUPS, "/dds/v3/*/backups"},
    {SIM_ROUTE_GAUSSDB_INSTANCES, "/gaussdb/v3/*/instances"},
    {SIM_ROUTE_GAUSSDB_BACKUPS, "/gaussdb/v3/*/backups"},
};

static gboolean match_one(const RouteSpec *spec, char **segs, SimRouteMatch *m)
{
    g_auto(GStrv) pat = g_strsplit(spec->pattern, "/", -1);
    guint i;

    for (i = 0; pat[i] && segs[i]; i++) {
        if (strcmp(pat[i], "*") == 0 || strcmp(pat[i], "+") == 0) {
            if (!*segs[i])
                return FALSE;
            continue;
        }
        if (strcmp(pat[i], segs[i]) != 0)
            return FALSE;
    }
    if (pat[i] || segs[i])
        return FALSE;
    for (i = 0; pat[i]; i++) {
        if (strcmp(pat[i], "*") == 0)
            m->project_id = g_strdup(segs[i]);
        else if (strcmp(pat[i], "+") == 0)
            m->instance_id = g_strdup(segs[i]);
    }
    m->route = spec->route;
    return TRUE;
}

void sim_route_match(const char *method, const char *path, SimRouteMatch *m)
{
    g_autofree char *p = g_strdup(path);
    g_auto(GStrv) segs = NULL;
    gsize len = strlen(p);

    memset(m, 0, sizeof *m);
    m->route = SIM_ROUTE_UNKNOWN;
    /* The gateway ignores one trailing slash (the SDKs sign both forms alike). */
    if (len > 1 && p[len - 1] == '/')
        p[len - 1] = '\0';
    if (strcmp(method, "POST") == 0 && strcmp(p, "/iam/v3/auth/tokens") == 0)
        m->route = SIM_ROUTE_IAM_TOKENS;
    if (strcmp(method, "GET") != 0)
        return;
    segs = g_strsplit(p, "/", -1);
    for (gsize i = 0; i < G_N_ELEMENTS(route_table); i++)
        if (match_one(&route_table[i], segs, m))
            return;
}

void sim_route_match_clear(SimRouteMatch *m)
{
    g_clear_pointer(&m->project_id, g_free);
    g_clear_pointer(&m->instance_id, g_free);
}

/* ---------- parameters ---------- */

typedef enum {
    ERR_STD,    /* {"error_code","error_msg"} */
    ERR_DDM_V1, /* {"errCode","externalMessage"} */
} ErrStyle;

static void reply_error_style(SimReply *r, guint status, ErrStyle style, const char *code,
                              const char *msg)
{
    if (style == ERR_STD) {
        sim_reply_error(r, status, code, msg);
        return;
    }
    r->status = status;
    r->body = g_string_new("{\"errCode\":");
    sim_json_append_string(r->body, code);
    g_string_append(r->body, ",\"externalMessage\":");
    sim_json_append_string(r->body, msg);
    g_string_append_c(r->body, '}');
}

typedef struct {
    const char *code; /* error code for a bad parameter */
    ErrStyle style;
    gint64 max_limit;
    gint64 default_limit;
} PageRules;

static const PageRules taurus_rules = {"DBS.200001", ERR_STD, 100, 100};
static const PageRules gemini_rules = {"DBS.200001", ERR_STD, 100, 100};
static const PageRules ddm_v1_rules = {"DBS.280001", ERR_DDM_V1, 128, 10};
static const PageRules ddm_v3_rules = {"DBS.280001", ERR_STD, 128, 10};
static const PageRules std_rules = {"DBS.200001", ERR_STD, 100, 100}; /* RDS, DDS, GaussDB */

static const char *arg(struct MHD_Connection *c, const char *key)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* A decimal integer in [min, max]; nothing else (no sign, no spaces, no "1e2"). */
static gboolean parse_int(const char *s, gint64 min, gint64 max, gint64 *out)
{
    char *end;
    gint64 v;

    if (!*s || strlen(s) > 12)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isdigit(*p))
            return FALSE;
    errno = 0;
    v = g_ascii_strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

/* offset and limit, or a 400 in *out. */
static gboolean page_params(struct MHD_Connection *c, const PageRules *rules, gint64 *offset,
                            gint64 *limit, SimReply *out)
{
    const char *o = arg(c, "offset"), *l = arg(c, "limit");
    g_autofree char *msg = NULL;

    *offset = 0;
    *limit = rules->default_limit;
    if (o && !parse_int(o, 0, G_MAXINT32, offset))
        msg = g_strdup("Invalid parameter: offset must be an integer greater than or equal to 0.");
    else if (l && !parse_int(l, 1, rules->max_limit, limit))
        msg = g_strdup_printf(
            "Invalid parameter: limit must be an integer from 1 to %" G_GINT64_FORMAT ".",
            rules->max_limit);
    if (!msg)
        return TRUE;
    reply_error_style(out, 400, rules->style, rules->code, msg);
    return FALSE;
}

/* ---------- pages ---------- */

static void append_range(GString *b, const GArray *list, gint64 start, gint64 limit)
{
    for (gint64 i = start; i < (gint64)list->len && i < start + limit; i++) {
        const SimRecord *r = &g_array_index(list, SimRecord, i);

        if (i > start)
            g_string_append_c(b, ',');
        g_string_append_len(b, r->json, r->len);
    }
}

static void append_ptr_range(GString *b, const GPtrArray *list, gint64 start, gint64 limit)
{
    for (gint64 i = start; list && i < (gint64)list->len && i < start + limit; i++) {
        const SimRecord *r = g_ptr_array_index(list, i);

        if (i > start)
            g_string_append_c(b, ',');
        g_string_append_len(b, r->json, r->len);
    }
}

static gint64 page_count(gint64 n, gint64 start, gint64 limit)
{
    return CLAMP(n - start, 0, limit);
}

static GString *new_body(gint64 items)
{
    /* Most records are under 1 KB: one allocation for a typical page. */
    return g_string_sized_new(256 + (gsize)items * 700);
}

/* ---------- IAM ---------- */

static void serve_projects(const SimFleet *f, SimReply *out)
{
    out->status = 200;
    out->body = new_body(f->projects->len);
    g_string_append(out->body, "{\"links\":{\"self\":\"https://iam.myhuaweicloud.com/v3/auth/"
                               "projects\",\"previous\":null,\"next\":null},\"projects\":[");
    for (guint i = 0; i < f->projects->len; i++) {
        const SimProject *p = g_ptr_array_index(f->projects, i);

        if (i)
            g_string_append_c(out->body, ',');
        g_string_append_len(out->body, p->record, p->record_len);
    }
    g_string_append(out->body, "]}");
}

/* ---------- TaurusDB ---------- */

static void serve_instances(struct MHD_Connection *c, const SimServiceData *d,
                            const PageRules *rules, SimReply *out)
{
    gint64 offset, limit, n = d->instances->len;

    if (!page_params(c, rules, &offset, &limit, out))
        return;
    out->status = 200;
    out->body = new_body(page_count(n, offset, limit));
    g_string_append(out->body, "{\"instances\":[");
    append_range(out->body, d->instances, offset, limit);
    g_string_append_printf(out->body, "],\"total_count\":%" G_GINT64_FORMAT "}", n);
}

/* One instance's backups (TaurusDB: the instance in the path, totals as strings as in seed
 * 000; RDS: the instance in the query, totals as numbers). */
static void serve_instance_backups(struct MHD_Connection *c, const SimServiceData *d,
                                   const char *instance_id, gboolean total_as_string, SimReply *out)
{
    const GPtrArray *list;
    gint64 offset, limit, n;

    if (!page_params(c, &taurus_rules, &offset, &limit, out))
        return;
    if (!instance_id || !*instance_id) {
        sim_reply_error(out, 400, "DBS.200001", "Invalid parameter: instance_id is required.");
        return;
    }
    if (!g_hash_table_contains(d->instances_by_id, instance_id)) {
        sim_reply_error(out, 404, "DBS.200022", "Instance not found.");
        return;
    }
    list = g_hash_table_lookup(d->by_instance, instance_id);
    n = list ? list->len : 0;
    out->status = 200;
    out->body = new_body(page_count(n, offset, limit));
    g_string_append(out->body, "{\"backups\":[");
    append_ptr_range(out->body, list, offset, limit);
    g_string_append_printf(out->body,
                           total_as_string ? "],\"total_count\":\"%" G_GINT64_FORMAT "\"}"
                                           : "],\"total_count\":%" G_GINT64_FORMAT "}",
                           n);
}

/* ---------- GeminiDB ---------- */

typedef struct {
    const char *instance_id;
    const char *backup_id;
    gboolean by_time;
    gint64 begin, end;
} GeminiFilter;

static gboolean gemini_filter_params(struct MHD_Connection *c, GeminiFilter *flt, SimReply *out)
{
    const char *b = arg(c, "begin_time"), *e = arg(c, "end_time");

    flt->instance_id = arg(c, "instance_id");
    flt->backup_id = arg(c, "backup_id");
    if (!b && !e)
        return TRUE;
    if (!b || !e) {
        sim_reply_error(out, 400, "DBS.200001",
                        "Invalid parameter: begin_time and end_time must be given together.");
        return FALSE;
    }
    if (!sim_parse_time(b, &flt->begin) || !sim_parse_time(e, &flt->end) || flt->begin > flt->end) {
        sim_reply_error(out, 400, "DBS.200001",
                        "Invalid parameter: begin_time or end_time (yyyy-mm-ddThh:mm:ssZ).");
        return FALSE;
    }
    flt->by_time = TRUE;
    return TRUE;
}

static gboolean gemini_matches(const GeminiFilter *flt, const SimRecord *r)
{
    if (flt->instance_id && g_strcmp0(flt->instance_id, r->instance_id) != 0)
        return FALSE;
    if (flt->backup_id && g_strcmp0(flt->backup_id, r->id) != 0)
        return FALSE;
    /* The documented filter is on the backup's start time. */
    return !flt->by_time ||
           (r->begin != G_MININT64 && r->begin >= flt->begin && r->begin <= flt->end);
}

static void serve_gemini_backups(struct MHD_Connection *c, const SimServiceData *d, SimReply *out)
{
    const char *type = arg(c, "type");
    g_autoptr(GPtrArray) hits = NULL;
    const GArray *list;
    GeminiFilter flt = {0};
    gint64 offset, limit, n;

    if (!page_params(c, &gemini_rules, &offset, &limit, out) || !gemini_filter_params(c, &flt, out))
        return;
    if (!type || strcmp(type, "Instance") == 0) {
        list = d->backups;
    } else if (strcmp(type, "DatabaseTable") == 0) {
        list = d->table_backups;
    } else {
        sim_reply_error(out, 400, "DBS.200001",
                        "Invalid parameter: type must be Instance or DatabaseTable.");
        return;
    }
    if (flt.instance_id || flt.backup_id || flt.by_time) {
        hits = g_ptr_array_new();
        for (guint i = 0; i < list->len; i++)
            if (gemini_matches(&flt, &g_array_index(list, SimRecord, i)))
                g_ptr_array_add(hits, &g_array_index(list, SimRecord, i));
    }
    n = hits ? hits->len : list->len;
    out->status = 200;
    out->body = new_body(page_count(n, offset, limit));
    g_string_append_printf(out->body, "{\"total_count\":%" G_GINT64_FORMAT ",\"backups\":[", n);
    if (hits)
        append_ptr_range(out->body, hits, offset, limit);
    else
        append_range(out->body, list, offset, limit);
    g_string_append(out->body, "]}");
}

/* ---------- DDM ---------- */

/* Item index of the first record: offset itself, or offset pages with --ddm-offset page. */
static gint64 ddm_start(gboolean page_mode, gint64 offset, gint64 limit)
{
    return page_mode ? offset * limit : offset;
}

static void serve_ddm_instances(struct MHD_Connection *c, const SimServiceData *d,
                                gboolean page_mode, SimReply *out)
{
    gint64 offset, limit, start, n = d->instances->len;

    if (!page_params(c, &ddm_v1_rules, &offset, &limit, out))
        return;
    start = ddm_start(page_mode, offset, limit);
    out->status = 200;
    out->body = new_body(page_count(n, start, limit));
    g_string_append(out->body, "{\"instances\":[");
    append_range(out->body, d->instances, start, limit);
    g_string_append_printf(out->body,
                           "],\"instance_num\":%" G_GINT64_FORMAT ",\"page_no\":%" G_GINT64_FORMAT
                           ",\"page_size\":%" G_GINT64_FORMAT ",\"total_record\":%" G_GINT64_FORMAT
                           ",\"total_page\":%" G_GINT64_FORMAT "}",
                           page_count(n, start, limit), page_mode ? offset + 1 : offset / limit + 1,
                           limit, n, (n + limit - 1) / limit);
}

static void serve_ddm_backups(struct MHD_Connection *c, const SimServiceData *d, gboolean page_mode,
                              SimReply *out)
{
    gint64 offset, limit, start, n = d->backups->len;

    if (!page_params(c, &ddm_v3_rules, &offset, &limit, out))
        return;
    start = ddm_start(page_mode, offset, limit);
    out->status = 200;
    out->body = new_body(page_count(n, start, limit));
    g_string_append(out->body, "{\"backups\":[");
    append_range(out->body, d->backups, start, limit);
    /* Seed 002's key order: backups, total, offset, limit. */
    g_string_append_printf(out->body,
                           "],\"total\":%" G_GINT64_FORMAT ",\"offset\":%" G_GINT64_FORMAT
                           ",\"limit\":%" G_GINT64_FORMAT "}",
                           n, offset, limit);
}

/* ---------- RDS, DDS, GaussDB and TaurusDB's project-wide list ---------- */

/* Does the record carry "type":"<type>"?  Records are compact JSON this simulator wrote or
 * json-c re-serialised, so the member's text is exact. */
static gboolean record_has_type(const SimRecord *r, const char *type)
{
    g_autofree char *needle = g_strdup_printf("\"type\":\"%s\"", type);

    return g_strstr_len(r->json, r->len, needle) != NULL;
}

/* {"backups":[...],"total_count":N} of the records of `list` matching instance_id (when
 * given) and "type" (when given). */
static void serve_filtered_backups(struct MHD_Connection *c, const GArray *list,
                                   const char *instance_id, const char *type, SimReply *out)
{
    g_autoptr(GPtrArray) hits = g_ptr_array_new();
    gint64 offset, limit;

    if (!page_params(c, &std_rules, &offset, &limit, out))
        return;
    for (guint i = 0; i < list->len; i++) {
        const SimRecord *r = &g_array_index(list, SimRecord, i);

        if ((!instance_id || g_strcmp0(instance_id, r->instance_id) == 0) &&
            (!type || record_has_type(r, type)))
            g_ptr_array_add(hits, (gpointer)r);
    }
    out->status = 200;
    out->body = new_body(page_count(hits->len, offset, limit));
    g_string_append(out->body, "{\"backups\":[");
    append_ptr_range(out->body, hits, offset, limit);
    g_string_append_printf(out->body, "],\"total_count\":%u}", hits->len);
}

/* DDS and GaussDB: GET /v3/{pid}/backups, instance_id an optional filter. */
static void serve_project_backups(struct MHD_Connection *c, const SimServiceData *d, SimReply *out)
{
    serve_filtered_backups(c, d->backups, arg(c, "instance_id"), NULL, out);
}

/* TaurusDB's GET /v3/{pid}/backups (reference §2.3): backup_type auto or manual. */
static void serve_taurus_project_backups(struct MHD_Connection *c, const SimServiceData *d,
                                         SimReply *out)
{
    const char *type = arg(c, "backup_type");

    if (type && strcmp(type, "auto") != 0 && strcmp(type, "manual") != 0) {
        sim_reply_error(out, 400, "DBS.200001",
                        "Invalid parameter: backup_type must be auto or manual.");
        return;
    }
    serve_filtered_backups(c, d->project_backups, arg(c, "instance_id"), type, out);
}

/* ---------- dispatch ---------- */

static void serve_project_route(SimServer *srv, struct MHD_Connection *c, const SimProject *p,
                                const SimRouteMatch *m, SimReply *out)
{
    const SimServiceData *svc = p->svc;
    gboolean page_mode = srv->cfg.ddm_page_offset;

    switch (m->route) {
    case SIM_ROUTE_TAURUSDB_INSTANCES:
        serve_instances(c, &svc[SIM_TAURUSDB], &taurus_rules, out);
        break;
    case SIM_ROUTE_TAURUSDB_BACKUPS:
        serve_instance_backups(c, &svc[SIM_TAURUSDB], m->instance_id, TRUE, out);
        break;
    case SIM_ROUTE_GEMINIDB_INSTANCES:
        serve_instances(c, &svc[SIM_GEMINIDB], &gemini_rules, out);
        break;
    case SIM_ROUTE_GEMINIDB_BACKUPS:
        serve_gemini_backups(c, &svc[SIM_GEMINIDB], out);
        break;
    case SIM_ROUTE_DDM_INSTANCES:
        serve_ddm_instances(c, &svc[SIM_DDM], page_mode, out);
        break;
    case SIM_ROUTE_DDM_BACKUPS:
        serve_ddm_backups(c, &svc[SIM_DDM], page_mode, out);
        break;
    case SIM_ROUTE_TAURUSDB_PROJECT_BACKUPS:
        serve_taurus_project_backups(c, &svc[SIM_TAURUSDB], out);
        break;
    case SIM_ROUTE_RDS_INSTANCES:
        serve_instances(c, &svc[SIM_RDS], &std_rules, out);
        break;
    case SIM_ROUTE_RDS_BACKUPS:
        /* RDS: instance_id is a required query parameter (reference §10). */
        serve_instance_backups(c, &svc[SIM_RDS], arg(c, "instance_id"), FALSE, out);
        break;
    case SIM_ROUTE_DDS_INSTANCES:
        serve_instances(c, &svc[SIM_DDS], &std_rules, out);
        break;
    case SIM_ROUTE_DDS_BACKUPS:
        serve_project_backups(c, &svc[SIM_DDS], out);
        break;
    case SIM_ROUTE_GAUSSDB_INSTANCES:
        serve_instances(c, &svc[SIM_GAUSSDB], &std_rules, out);
        break;
    case SIM_ROUTE_GAUSSDB_BACKUPS:
        serve_project_backups(c, &svc[SIM_GAUSSDB], out);
        break;
    default:
        g_assert_not_reached();
    }
}

static void reply_unauthorized(SimReply *out, SimAuthResult why)
{
    sim_reply_error(out, 401, "APIG.0301",
                    why == SIM_AUTH_EXPIRED_TOKEN
                        ? "Incorrect IAM authentication information: the token has expired"
                    : why == SIM_AUTH_BAD_TOKEN
                        ? "Incorrect IAM authentication information: decrypt token fail"
                        : "Incorrect IAM authentication information: verify aksk signature fail");
}

/* A token IAM issued here (password authentication), else the fleet's credentials. */
static SimAuthResult check_auth(SimServer *srv, const SimFleet *f, struct MHD_Connection *c,
                                const char *method, const char *path, const GByteArray *body,
                                const char *project_id)
{
    const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Auth-Token");
    gboolean issued = FALSE;
    SimAuthResult auth = SIM_AUTH_BAD_TOKEN;

    if (token && !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"))
        auth = sim_tokens_check(srv->tokens, token, project_id, &issued);
    if (issued)
        return auth;
    return sim_auth_check(f, c, method, path, body, project_id, g_get_real_time() / G_USEC_PER_SEC);
}

void sim_api_serve(SimServer *srv, struct MHD_Connection *c, const SimRouteMatch *m,
                   const char *method, const char *path, const GByteArray *body, SimReply *out)
{
    const SimFleet *f;
    const SimProject *p;
    SimAuthResult auth;

    if (m->route == SIM_ROUTE_UNKNOWN) {
        sim_reply_error(out, 404, "APIG.0101",
                        "The API does not exist or has not been published in the environment");
        return;
    }
    g_rw_lock_reader_lock(&srv->fleet_lock);
    f = srv->fleet;
    if (m->route == SIM_ROUTE_IAM_TOKENS) {
        /* Password authentication needs no prior credential. */
        sim_tokens_serve(srv, f, body, out);
        goto out;
    }
    auth = check_auth(srv, f, c, method, path, body, m->project_id);
    if (auth != SIM_AUTH_OK) {
        reply_unauthorized(out, auth);
        goto out;
    }
    if (m->route == SIM_ROUTE_IAM_PROJECTS) {
        serve_projects(f, out);
        goto out;
    }
    p = g_hash_table_lookup(f->by_id, m->project_id);
    if (!p)
        reply_error_style(out, 404, m->route == SIM_ROUTE_DDM_INSTANCES ? ERR_DDM_V1 : ERR_STD,
                          "DBS.200023", "The project does not exist.");
    else
        serve_project_route(srv, c, p, m, out);
out:
    g_rw_lock_reader_unlock(&srv->fleet_lock);
}
