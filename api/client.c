/*
 * dbbackupfs — the cloud client (see client.h): the http layer, the endpoint templates and
 * the service tables wired together.  Each page request gets its own deadline of `timeout`;
 * the paginator fetches pages concurrently and the http layer bounds the connections.
 */
#include <errno.h>
#include <string.h>

#include "client_internal.h"
#include "endpoint.h"
#include "error.h"
#include "paginate.h"

#define DEFAULT_TIMEOUT_S 30.0
#define DEFAULT_MAX_CONNS 8
/* A listing of many pages may take this many `timeout`s in all (the listing-wide deadline,
 * unless configured): ample for a million records at 8 connections, and still an end. */
#define LISTING_TIMEOUTS 10
/* Fixed query parameters a listing table may add besides offset and limit. */
#define MAX_EXTRA_QUERY 6

static GHashTable *copy_endpoints(GHashTable *src)
{
    GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter iter;
    gpointer key, value;

    if (src == NULL)
        return copy;
    g_hash_table_iter_init(&iter, src);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
    return copy;
}

DbbClient *dbb_client_new(const DbbClientConfig *config, GError **error)
{
    DbbClient *client = g_new0(DbbClient, 1);
    double timeout = config->timeout > 0 ? config->timeout : DEFAULT_TIMEOUT_S;
    DbbHttpConfig http_config = {0};

    if (config->credentials != NULL)
        dbb_credentials_copy(&client->credentials, config->credentials);
    client->endpoint = g_strdup(config->endpoint);
    client->service_endpoints = copy_endpoints(config->service_endpoints);
    client->timeout_us = (gint64)(timeout * G_USEC_PER_SEC);
    client->max_conns = config->max_conns > 0 ? config->max_conns : DEFAULT_MAX_CONNS;
    client->max_records = config->max_records;
    client->max_listing_bytes = config->max_listing_bytes;
    client->listing_timeout_us = config->listing_timeout > 0
                                     ? (gint64)(config->listing_timeout * G_USEC_PER_SEC)
                                     : LISTING_TIMEOUTS * client->timeout_us;
    client->iam_region = g_strdup(config->iam_region);
    g_mutex_init(&client->token_lock);
    client->token_worked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (client->credentials.kind == DBB_AUTH_PASSWORD)
        client->tokens =
            dbb_tokens_new(dbb_iam_password_token, client,
                           (gint64)(config->reauth_interval * G_USEC_PER_SEC), NULL, NULL);
    http_config.max_conns = client->max_conns;
    http_config.cafile = config->cafile;
    http_config.credentials = &client->credentials;
    http_config.allow_insecure_http = config->allow_insecure_http;
    client->counters = dbb_api_counters_new();
    http_config.counters = client->counters;
    client->http = dbb_http_new(&http_config, error);
    if (client->http == NULL) {
        dbb_client_free(client);
        return NULL;
    }
    return client;
}

void dbb_client_free(DbbClient *client)
{
    if (client == NULL)
        return;
    if (client->http != NULL)
        dbb_http_free(client->http);
    dbb_tokens_free(client->tokens);
    g_hash_table_unref(client->token_worked);
    g_mutex_clear(&client->token_lock);
    dbb_api_counters_free(client->counters);
    dbb_credentials_clear(&client->credentials);
    g_free(client->endpoint);
    g_hash_table_unref(client->service_endpoints);
    g_free(client->iam_region);
    g_free(client);
}

char *dbb_client_base_url(DbbClient *client, const char *service, const char *host_prefix,
                          const char *region, GError **error)
{
    const char *template = g_hash_table_lookup(client->service_endpoints, service);

    GError *local = NULL;
    char *url;

    if (template == NULL)
        template = client->endpoint;
    url = dbb_endpoint_base_url(template, service, host_prefix, region, &local);
    if (!url) {
        g_warning("%s", local->message); /* each failure gets its log line */
        g_propagate_error(error, local);
    }
    return url;
}

void dbb_client_cancel_all(DbbClient *client)
{
    dbb_http_cancel_all(client->http);
}

guint64 dbb_client_max_listing_bytes(DbbClient *client)
{
    return client->max_listing_bytes ? client->max_listing_bytes : DBB_PAGINATE_MAX_BYTES;
}

gint64 dbb_client_listing_timeout(DbbClient *client)
{
    return client->listing_timeout_us;
}

gint64 dbb_client_deadline(DbbClient *client)
{
    return g_get_monotonic_time() + client->timeout_us;
}

gboolean dbb_path_segment_ok(const char *segment)
{
    if (segment == NULL || segment[0] == '\0' || strcmp(segment, ".") == 0 ||
        strcmp(segment, "..") == 0)
        return FALSE;
    for (const guchar *p = (const guchar *)segment; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f || strchr("/?#%", *p) != NULL)
            return FALSE;
    return TRUE;
}

/* "{project_id}" and "{instance_id}" of a table's path template filled in. */
static char *fill_path(const char *path_template, const char *project_id, const char *instance_id)
{
    GString *path = g_string_new(path_template);

    g_string_replace(path, "{project_id}", project_id, 0);
    if (instance_id != NULL)
        g_string_replace(path, "{instance_id}", instance_id, 0);
    return g_string_free(path, FALSE);
}

typedef struct {
    DbbClient *client;
    const char *service;
    const char *base_url;
    const char *path;
    const char *project_id;
    const char *instance_id;
    const DbbListingTable *table;
    gint64 deadline; /* the listing's */
} PageSource;

static gboolean fetch_page(gpointer data, guint64 offset, guint limit, DbbPage *page,
                           GError **error)
{
    PageSource *src = data;
    char offset_text[32], limit_text[16];
    DbbQueryParam query[3 + MAX_EXTRA_QUERY];
    DbbHttpResponse response = {0};
    DbbHttpRequest request = {0};
    gsize n = 0;

    g_snprintf(offset_text, sizeof(offset_text), "%" G_GUINT64_FORMAT, offset);
    g_snprintf(limit_text, sizeof(limit_text), "%u", limit);
    query[n++] = (DbbQueryParam){"offset", offset_text};
    query[n++] = (DbbQueryParam){"limit", limit_text};
    if (src->table->instance_query != NULL && src->instance_id != NULL)
        query[n++] = (DbbQueryParam){src->table->instance_query, src->instance_id};
    for (gsize i = 0; i < src->table->n_query && i < MAX_EXTRA_QUERY; i++)
        query[n++] = src->table->query[i];
    request.service = src->service;
    request.base_url = src->base_url;
    request.path = src->path;
    request.route = src->table->path_template;
    request.query = query;
    request.n_query = n;
    request.project_id = src->project_id;
    request.deadline = MIN(dbb_client_deadline(src->client), src->deadline);
    if (!dbb_client_call(src->client, &request, src->project_id, &response, error)) {
        dbb_http_response_clear(&response);
        return FALSE;
    }
    page->json = g_steal_pointer(&response.json);
    page->body = g_steal_pointer(&response.body);
    dbb_http_response_clear(&response);
    return TRUE;
}

static gboolean check_segment(const char *service, const char *what, const char *value,
                              GError **error)
{
    if (dbb_path_segment_ok(value))
        return TRUE;
    /* The value is not a credential, but it is not trusted either: do not echo it. */
    g_set_error(error, DBB_API_ERROR, EIO, "%s: %s is not a valid path segment", service, what);
    g_warning("%s", (*error)->message);
    return FALSE;
}

GPtrArray *dbb_client_fetch_listing(DbbClient *client, const DbbService *service,
                                    const DbbProject *project, const DbbListingTable *table,
                                    gboolean is_backups, const char *instance_id, GError **error)
{
    g_autofree char *base_url = NULL;
    g_autofree char *path = NULL;
    DbbParseContext ctx = {.service = service, .listed_instance_id = instance_id};
    DbbPaginateSpec spec;
    PageSource src;

    if (!check_segment(service->name, "project id", project->id, error) ||
        (instance_id != NULL && !check_segment(service->name, "instance id", instance_id, error)))
        return NULL;
    base_url = dbb_client_base_url(client, service->name,
                                   dbb_service_host_prefix(service, project->region),
                                   project->region, error);
    if (base_url == NULL)
        return NULL;
    path = fill_path(table->path_template, project->id, instance_id);
    src = (PageSource){.client = client,
                       .service = service->name,
                       .base_url = base_url,
                       .path = path,
                       .project_id = project->id,
                       .instance_id = instance_id,
                       .table = table,
                       .deadline = g_get_monotonic_time() + client->listing_timeout_us};
    dbb_service_spec_init(&spec, service, table, is_backups, &ctx);
    spec.path = path;
    spec.max_conns = client->max_conns;
    spec.max_records = client->max_records;
    spec.max_bytes = client->max_listing_bytes;
    spec.deadline = src.deadline;
    spec.fetch = fetch_page;
    spec.fetch_data = &src;
    return dbb_paginate(&spec, error);
}

/* A fixed token: remember where it worked; a 401 where it did means it expired. */
static void note_fixed_token(DbbClient *client, const char *scope, gboolean ok, long status)
{
    g_autoptr(GMutexLocker) locker = NULL;
    const char *key = scope ? scope : "";

    if (client->credentials.kind != DBB_AUTH_TOKEN || (!ok && status != 401))
        return;
    locker = g_mutex_locker_new(&client->token_lock);
    if (ok) {
        if (!g_hash_table_contains(client->token_worked, key))
            g_hash_table_add(client->token_worked, g_strdup(key));
        return;
    }
    if (g_hash_table_contains(client->token_worked, key) && !client->token_expiry_logged) {
        client->token_expiry_logged = TRUE;
        g_warning("the token (DBBACKUPFS_TOKEN or [auth] token) has expired: it was accepted "
                  "before and is refused now; a token cannot be renewed, so set a new one and "
                  "remount, or use password or AK/SK authentication for long-lived mounts");
    }
}

gboolean dbb_client_call(DbbClient *client, DbbHttpRequest *request, const char *scope,
                         DbbHttpResponse *response, GError **error)
{
    GError *local = NULL;
    char *token = NULL;
    gboolean ok = FALSE;

    if (client->tokens == NULL) {
        ok = dbb_http_get_json(client->http, request, response, error);
        note_fixed_token(client, scope, ok, response->status);
        return ok;
    }
    for (int attempt = 0;; attempt++) {
        token = dbb_tokens_get(client->tokens, scope, &local);
        if (token == NULL)
            break;
        request->auth_token = token;
        ok = dbb_http_get_json(client->http, request, response, &local);
        request->auth_token = NULL;
        /* A 401 before the token's expiry: one re-auth, shared, then one more try. */
        if (ok || response->status != 401 || attempt > 0 ||
            !dbb_tokens_rejected(client->tokens, scope, token))
            break;
        g_message("%s: token refused before its expiry; authenticating again", request->service);
        g_clear_pointer(&token, dbb_token_free);
        g_clear_error(&local);
        dbb_http_response_clear(response);
    }
    dbb_token_free(token);
    if (local != NULL)
        g_propagate_error(error, local);
    return ok;
}

void dbb_client_stats(DbbClient *client, DbbApiStats *out)
{
    dbb_api_counters_snapshot(client->counters, out);
}

GPtrArray *dbb_client_list_projects(DbbClient *client, GError **error)
{
    return dbb_iam_list_projects(client, error);
}

GPtrArray *dbb_client_list_instances(DbbClient *client, const DbbService *service,
                                     const DbbProject *project, GError **error)
{
    return dbb_service_list_instances(client, service, project, error);
}

GPtrArray *dbb_client_list_backups(DbbClient *client, const DbbService *service,
                                   const DbbProject *project, const char *instance_id,
                                   GError **error)
{
    return dbb_service_list_backups(client, service, project, instance_id, error);
}
