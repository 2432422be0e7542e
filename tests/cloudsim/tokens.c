/*
 * cloudsim — IAM password authentication (reference §5.1): POST /iam/v3/auth/tokens issues
 * a token in the X-Subject-Token header, scoped to one project (by id or name) or to the
 * domain (also when no scope is given), that expires after the configured lifetime.  A
 * project-scoped token is valid for its own project and for IAM; a domain-scoped one for
 * IAM only; an expired one nowhere (401 "the token has expired").  The tokens issued per
 * scope are counted, so a test can assert how often a client authenticated.
 */
#include "server.h"

#include <json-c/json.h>
#include <string.h>

#define DEFAULT_LIFETIME (24 * 3600)
#define SIM_USER_ID      "simuserid00000000000000000000000"

struct SimTokens {
    GMutex lock;
    gint lifetime;      /* seconds */
    guint64 serial;     /* makes every token unique */
    GHashTable *tokens; /* token -> Issued* */
    GHashTable *counts; /* scope ("domain" or a project id) -> count (pointer-sized) */
};

typedef struct {
    char *project_id;  /* NULL: domain-scoped */
    gint64 expires_at; /* wall-clock µs */
} Issued;

static void issued_free(gpointer p)
{
    Issued *i = p;

    g_free(i->project_id);
    g_free(i);
}

SimTokens *sim_tokens_new(gint lifetime)
{
    SimTokens *t = g_new0(SimTokens, 1);

    g_mutex_init(&t->lock);
    t->lifetime = lifetime > 0 ? lifetime : DEFAULT_LIFETIME;
    t->tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, issued_free);
    t->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return t;
}

void sim_tokens_free(SimTokens *t)
{
    if (!t)
        return;
    g_hash_table_unref(t->tokens);
    g_hash_table_unref(t->counts);
    g_mutex_clear(&t->lock);
    g_free(t);
}

void sim_tokens_revoke(SimTokens *t)
{
    g_mutex_lock(&t->lock);
    g_hash_table_remove_all(t->tokens);
    g_mutex_unlock(&t->lock);
}

void sim_tokens_set_lifetime(SimTokens *t, gint lifetime)
{
    g_mutex_lock(&t->lock);
    t->lifetime = lifetime > 0 ? lifetime : DEFAULT_LIFETIME;
    g_mutex_unlock(&t->lock);
}

SimAuthResult sim_tokens_check(SimTokens *t, const char *token, const char *path_project_id,
                               gboolean *issued)
{
    SimAuthResult result;
    Issued *i;

    g_mutex_lock(&t->lock);
    i = g_hash_table_lookup(t->tokens, token);
    *issued = i != NULL;
    if (!i)
        result = SIM_AUTH_BAD_TOKEN;
    else if (g_get_real_time() >= i->expires_at)
        result = SIM_AUTH_EXPIRED_TOKEN;
    else if (!path_project_id)
        result = SIM_AUTH_OK;
    else
        result = g_strcmp0(i->project_id, path_project_id) == 0 ? SIM_AUTH_OK : SIM_AUTH_BAD_TOKEN;
    g_mutex_unlock(&t->lock);
    return result;
}

GString *sim_tokens_json(SimTokens *t)
{
    GString *b = g_string_new(NULL);
    GHashTableIter it;
    gpointer key, value;
    gboolean first = TRUE;

    g_mutex_lock(&t->lock);
    g_string_append_printf(b, "{\"lifetime\":%d,\"issued\":{", t->lifetime);
    g_hash_table_iter_init(&it, t->counts);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        g_string_append(b, first ? "" : ",");
        sim_json_append_string(b, key);
        g_string_append_printf(b, ":%" G_GSIZE_FORMAT, GPOINTER_TO_SIZE(value));
        first = FALSE;
    }
    g_string_append(b, "}}");
    g_mutex_unlock(&t->lock);
    return b;
}

/* ---------- the request ---------- */

/* obj.k1.k2... as an object member, or NULL. */
static json_object *path_get(json_object *obj, const char *const *keys)
{
    for (; obj && *keys; keys++)
        if (!json_object_is_type(obj, json_type_object) ||
            !json_object_object_get_ex(obj, *keys, &obj))
            return NULL;
    return obj;
}

static const char *path_str(json_object *obj, const char *const *keys)
{
    json_object *v = path_get(obj, keys);

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

static void keystone_error(SimReply *out, guint status, const char *title, const char *message)
{
    out->status = status;
    out->body = g_string_new(NULL);
    g_string_append_printf(out->body, "{\"error\":{\"code\":%u,\"title\":", status);
    sim_json_append_string(out->body, title);
    g_string_append(out->body, ",\"message\":");
    sim_json_append_string(out->body, message);
    g_string_append(out->body, "}}");
}

static gboolean password_valid(const SimFleet *f, json_object *auth)
{
    json_object *methods = path_get(auth, PATH("identity", "methods"));
    const char *name = path_str(auth, PATH("identity", "password", "user", "name"));
    const char *password = path_str(auth, PATH("identity", "password", "user", "password"));
    const char *domain = path_str(auth, PATH("identity", "password", "user", "domain", "name"));
    const char *domain_id = path_str(auth, PATH("identity", "password", "user", "domain", "id"));
    gboolean has_password = FALSE;

    for (size_t i = 0; methods && json_object_is_type(methods, json_type_array) &&
                       i < json_object_array_length(methods);
         i++) {
        json_object *m = json_object_array_get_idx(methods, i);
        has_password |= json_object_is_type(m, json_type_string) &&
                        strcmp(json_object_get_string(m), "password") == 0;
    }
    return has_password && g_strcmp0(name, SIM_IAM_USER) == 0 &&
           g_strcmp0(password, SIM_IAM_PASSWORD) == 0 &&
           (g_strcmp0(domain, SIM_IAM_DOMAIN) == 0 || g_strcmp0(domain_id, f->domain_id) == 0);
}

/* The project a scope names (by id or name), or NULL. */
static const SimProject *scoped_project(const SimFleet *f, json_object *project)
{
    const char *id = path_str(project, PATH("id"));
    const char *name = path_str(project, PATH("name"));

    for (guint i = 0; i < f->projects->len; i++) {
        const SimProject *p = g_ptr_array_index(f->projects, i);

        if ((id && strcmp(p->id, id) == 0) || (!id && name && strcmp(p->name, name) == 0))
            return p;
    }
    return NULL;
}

static void iso_time(char *out, gsize n, gint64 us)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);

    g_snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", g_date_time_get_year(dt),
               g_date_time_get_month(dt), g_date_time_get_day_of_month(dt),
               g_date_time_get_hour(dt), g_date_time_get_minute(dt), g_date_time_get_second(dt),
               (int)(us % G_USEC_PER_SEC));
}

static void token_body(const SimFleet *f, const SimProject *p, gint64 issued, gint64 expires,
                       SimReply *out)
{
    char issued_at[40], expires_at[40];
    GString *b = g_string_new("{\"token\":{\"expires_at\":\"");

    iso_time(issued_at, sizeof issued_at, issued);
    iso_time(expires_at, sizeof expires_at, expires);
    g_string_append_printf(b, "%s\",\"methods\":[\"password\"],\"catalog\":[],", expires_at);
    if (p) {
        g_string_append(b, "\"project\":{\"domain\":{\"name\":\"" SIM_IAM_DOMAIN "\",\"id\":");
        sim_json_append_string(b, f->domain_id);
        g_string_append(b, "},\"id\":");
        sim_json_append_string(b, p->id);
        g_string_append(b, ",\"name\":");
        sim_json_append_string(b, p->name);
        g_string_append(b, "},");
    } else {
        g_string_append(b, "\"domain\":{\"name\":\"" SIM_IAM_DOMAIN "\",\"id\":");
        sim_json_append_string(b, f->domain_id);
        g_string_append(b, "},");
    }
    g_string_append_printf(b,
                           "\"roles\":[{\"name\":\"readonly\",\"id\":\"0\"}],\"issued_at\":\"%s\","
                           "\"user\":{\"domain\":{\"name\":\"" SIM_IAM_DOMAIN "\",\"id\":",
                           issued_at);
    sim_json_append_string(b, f->domain_id);
    g_string_append(b, "},\"id\":\"" SIM_USER_ID "\",\"name\":\"" SIM_IAM_USER
                       "\",\"password_expires_at\":\"\"}}}");
    out->status = 201;
    out->body = b;
}

static char *issue(SimTokens *t, const SimProject *p, gint64 now, gint64 *expires)
{
    Issued *i = g_new0(Issued, 1);
    const char *scope = p ? p->id : "domain";
    char *token;

    g_mutex_lock(&t->lock);
    token = g_strdup_printf("simiam-%" G_GUINT64_FORMAT "-%08x%08x", ++t->serial, g_random_int(),
                            g_random_int());
    i->project_id = p ? g_strdup(p->id) : NULL;
    i->expires_at = *expires = now + (gint64)t->lifetime * G_USEC_PER_SEC;
    g_hash_table_insert(t->tokens, g_strdup(token), i);
    g_hash_table_insert(
        t->counts, g_strdup(scope),
        GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(t->counts, scope)) + 1));
    g_mutex_unlock(&t->lock);
    return token;
}

void sim_tokens_serve(SimServer *srv, const SimFleet *f, const GByteArray *body, SimReply *out)
{
    json_tokener *tok = json_tokener_new();
    json_object *doc = body && body->len
                           ? json_tokener_parse_ex(tok, (const char *)body->data, (int)body->len)
                           : NULL;
    json_object *auth = path_get(doc, PATH("auth"));
    json_object *project = path_get(auth, PATH("scope", "project"));
    const SimProject *p = NULL;
    gint64 now = g_get_real_time(), expires;

    if (!auth) {
        keystone_error(out, 400, "Bad Request", "The request body is not an auth object.");
    } else if (!password_valid(f, auth)) {
        keystone_error(out, 401, "Unauthorized", "The username or password is wrong.");
    } else if (project && !(p = scoped_project(f, project))) {
        keystone_error(out, 401, "Unauthorized", "The project in the scope does not exist.");
    } else {
        out->subject_token = issue(srv->tokens, p, now, &expires);
        token_body(f, p, now, expires, out);
    }
    json_object_put(doc);
    json_tokener_free(tok);
}
