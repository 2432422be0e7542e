/*
 * cloudsim — the control routes under /_sim: counts, the request log, faults and the fleet
 * (ground truth).  No authentication, no faults, not counted: tests use them to set up and
 * to check, and that must never disturb what they measure.
 */
#include "server.h"

#include <json-c/json.h>
#include <string.h>

static void reply_control_error(SimReply *out, guint status, const char *msg)
{
    sim_reply_error(out, status, "SIM.CONTROL", msg);
}

static void take(SimReply *out, GString *body)
{
    out->status = 200;
    out->body = body;
}

/* One member of a POST /_sim/faults object into f; FALSE (and *why) if it is not valid. */
static gboolean apply_fault_member(SimFaults *f, const char *key, json_object *v, const char **why)
{
    gboolean is_num =
        json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    gdouble *rate = NULL;

    if (strcmp(key, "outage") == 0) {
        if (!json_object_is_type(v, json_type_boolean))
            return (*why = "outage must be true or false"), FALSE;
        f->outage = json_object_get_boolean(v);
        return TRUE;
    }
    if (strcmp(key, "latency_ms") == 0 || strcmp(key, "retry_after") == 0) {
        gint64 n = json_object_get_int64(v);

        if (!json_object_is_type(v, json_type_int) || n < 0 || n > 3600 * 1000)
            return (*why = "latency_ms and retry_after are integers >= 0"), FALSE;
        *(key[0] == 'l' ? &f->latency_ms : &f->retry_after) = (gint)n;
        return TRUE;
    }
    if (strcmp(key, "error_rate") == 0)
        rate = &f->error_rate;
    else if (strcmp(key, "throttle_rate") == 0)
        rate = &f->throttle_rate;
    else if (strcmp(key, "reset_rate") == 0)
        rate = &f->reset_rate;
    else if (strcmp(key, "truncate_rate") == 0)
        rate = &f->truncate_rate;
    if (!rate)
        return (*why = "unknown fault setting"), FALSE;
    if (!is_num || json_object_get_double(v) < 0 || json_object_get_double(v) > 1)
        return (*why = "rates are numbers from 0 to 1"), FALSE;
    *rate = json_object_get_double(v);
    return TRUE;
}

/* The body as JSON (it is not NUL-terminated), or NULL. */
static json_object *parse_body(const GByteArray *body)
{
    json_tokener *tok;
    json_object *o;

    if (body->len == 0 || body->len > G_MAXINT)
        return NULL;
    tok = json_tokener_new();
    o = json_tokener_parse_ex(tok, (const char *)body->data, (int)body->len);
    json_tokener_free(tok);
    return o;
}

static void post_faults(SimServer *srv, const GByteArray *body, SimReply *out)
{
    json_object *o = parse_body(body);
    SimFaults f;
    const char *why = NULL;

    if (!o || !json_object_is_type(o, json_type_object)) {
        reply_control_error(out, 400, "POST /_sim/faults takes a JSON object");
        json_object_put(o);
        return;
    }
    g_mutex_lock(&srv->fault_lock);
    f = srv->faults;
    json_object_object_foreach(o, key, v)
    {
        if (!apply_fault_member(&f, key, v, &why))
            break;
    }
    /* All or nothing: a bad member leaves the settings as they were. */
    if (!why)
        srv->faults = f;
    g_mutex_unlock(&srv->fault_lock);
    json_object_put(o);
    if (why)
        reply_control_error(out, 400, why);
    else
        take(out, sim_faults_json(srv));
}

static void post_fleet(SimServer *srv, const GByteArray *body, SimReply *out)
{
    g_autoptr(GError) error = NULL;
    SimFleet *f = sim_fleet_load(body->len ? (const char *)body->data : "", body->len, &error);
    GString *b;

    if (!f) {
        reply_control_error(out, 400, error->message);
        return;
    }
    b = g_string_new(NULL);
    g_string_append_printf(b,
                           "{\"projects\":%u,\"instances\":%" G_GUINT64_FORMAT
                           ",\"backups\":%" G_GUINT64_FORMAT "}",
                           f->projects->len, f->n_instances, f->n_backups);
    sim_server_replace_fleet(srv, f);
    take(out, b);
}

/* {"lifetime": seconds} for the tokens issued from now on; {"revoke": true} forgets every
 * token issued so far. */
static void post_tokens(SimServer *srv, const GByteArray *body, SimReply *out)
{
    json_tokener *tok = json_tokener_new();
    json_object *doc =
        json_tokener_parse_ex(tok, body->len ? (const char *)body->data : "", (int)body->len);
    json_object *v = NULL, *revoke = NULL;
    gboolean has_lifetime = doc && json_object_object_get_ex(doc, "lifetime", &v);
    gboolean has_revoke = doc && json_object_object_get_ex(doc, "revoke", &revoke);

    if ((!has_lifetime && !has_revoke) ||
        (has_lifetime && (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1))) {
        reply_control_error(out, 400,
                            "expected {\"lifetime\": seconds >= 1} and/or {\"revoke\": true}");
    } else {
        if (has_lifetime)
            sim_tokens_set_lifetime(srv->tokens, json_object_get_int(v));
        if (has_revoke && json_object_get_boolean(revoke))
            sim_tokens_revoke(srv->tokens);
        take(out, sim_tokens_json(srv->tokens));
    }
    json_object_put(doc);
    json_tokener_free(tok);
}

static void get_fleet(SimServer *srv, SimReply *out)
{
    g_rw_lock_reader_lock(&srv->fleet_lock);
    take(out, sim_fleet_dump(srv->fleet));
    g_rw_lock_reader_unlock(&srv->fleet_lock);
}

void sim_control_serve(SimServer *srv, const char *method, const char *path, const GByteArray *body,
                       gboolean body_too_large, SimReply *out)
{
    gboolean get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

    if (body_too_large) {
        reply_control_error(out, 413, "request body too large");
        return;
    }
    if (get && strcmp(path, "/_sim/counts") == 0) {
        take(out, sim_stats_counts_json(srv));
    } else if (post && strcmp(path, "/_sim/counts/reset") == 0) {
        sim_stats_reset(srv);
        take(out, sim_stats_counts_json(srv));
    } else if (get && strcmp(path, "/_sim/requests") == 0) {
        take(out, sim_stats_requests_json(srv));
    } else if (get && strcmp(path, "/_sim/faults") == 0) {
        take(out, sim_faults_json(srv));
    } else if (post && strcmp(path, "/_sim/faults") == 0) {
        post_faults(srv, body, out);
    } else if (get && strcmp(path, "/_sim/tokens") == 0) {
        take(out, sim_tokens_json(srv->tokens));
    } else if (post && strcmp(path, "/_sim/tokens") == 0) {
        post_tokens(srv, body, out);
    } else if (get && strcmp(path, "/_sim/fleet") == 0) {
        get_fleet(srv, out);
    } else if (post && strcmp(path, "/_sim/fleet") == 0) {
        post_fleet(srv, body, out);
    } else if ((get || post) && strcmp(path, "/_sim/misbehave") == 0) {
        sim_misbehave_control(srv, method, body, out);
    } else {
        reply_control_error(out, 404,
                            "unknown control route (GET counts, requests, faults, tokens, fleet, "
                            "misbehave; POST counts/reset, faults, tokens, fleet, misbehave)");
    }
}
