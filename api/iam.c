/*
 * dbbackupfs — IAM's project list: GET /v3/auth/projects (reference §5.2), not paged.
 *
 * The "iam" endpoint comes from the template like any service (region: the configured IAM
 * region, else the global endpoint).  IAM's own system project MOS holds no databases and
 * is left out.  A project's region is its name up to the first '_'.
 */
#include <errno.h>
#include <string.h>

#include "client_internal.h"
#include "error.h"
#include "jsonutil.h"

#define IAM_PATH "/v3/auth/projects"

static gboolean shape_error(const char *why, GError **error)
{
    g_set_error(error, DBB_API_ERROR, EIO, "iam: GET " IAM_PATH ": malformed response: %s", why);
    g_warning("%s", (*error)->message);
    return FALSE;
}

static DbbProject *parse_project(json_object *record, guint index)
{
    g_autofree char *id = NULL;
    g_autofree char *name = NULL;
    g_autofree char *region = NULL;

    if (!json_object_is_type(record, json_type_object)) {
        g_warning("iam: GET " IAM_PATH ": project %u is not an object; skipped", index);
        return NULL;
    }
    id = dbb_json_dup_text(record, "id", NULL, 0);
    if (id == NULL || id[0] == '\0') {
        /* Without an ID nothing of the project can be listed. */
        g_warning("iam: GET " IAM_PATH ": project %u has no id; skipped", index);
        return NULL;
    }
    name = dbb_json_dup_text(record, "name", NULL, 0);
    if (name != NULL && strcmp(name, "MOS") == 0)
        return NULL;
    region = dbb_region_from_project_name(name);
    return dbb_project_new(id, name, region);
}

GPtrArray *dbb_iam_parse_projects(json_object *body, GError **error)
{
    json_object *projects = NULL;
    GPtrArray *result;
    GHashTable *index;
    gsize n;

    if (body == NULL || !json_object_is_type(body, json_type_object)) {
        shape_error("the body is not a JSON object", error);
        return NULL;
    }
    if (!json_object_object_get_ex(body, "projects", &projects) ||
        !json_object_is_type(projects, json_type_array)) {
        shape_error("\"projects\" is missing or not an array", error);
        return NULL;
    }
    n = json_object_array_length(projects);
    result = g_ptr_array_new_full(n, dbb_project_free);
    index = g_hash_table_new(g_str_hash, g_str_equal);
    for (gsize i = 0; i < n; i++) {
        DbbProject *p = parse_project(json_object_array_get_idx(projects, i), (guint)i);
        gpointer pos_plus_one;

        if (p == NULL)
            continue;
        if (!g_hash_table_lookup_extended(index, p->id, NULL, &pos_plus_one)) {
            g_hash_table_insert(index, p->id, GUINT_TO_POINTER(result->len + 1));
            g_ptr_array_add(result, p);
            continue;
        }
        /* One ID twice: one entry, the later version, as for every listing. */
        g_warning("iam: GET " IAM_PATH ": project %s listed twice; keeping the later one", p->id);
        g_hash_table_replace(index, p->id, pos_plus_one);
        dbb_project_free(result->pdata[GPOINTER_TO_UINT(pos_plus_one) - 1]);
        result->pdata[GPOINTER_TO_UINT(pos_plus_one) - 1] = p;
    }
    g_hash_table_unref(index);
    return result;
}

GPtrArray *dbb_iam_list_projects(DbbClient *client, GError **error)
{
    g_autofree char *base_url = NULL;
    DbbHttpResponse response = {0};
    DbbHttpRequest request = {0};
    GPtrArray *projects;

    base_url = dbb_client_base_url(client, "iam", "iam", client->iam_region, error);
    if (base_url == NULL)
        return NULL;
    request.service = "iam";
    request.base_url = base_url;
    request.path = IAM_PATH;
    request.route = IAM_PATH;
    request.global = TRUE;
    request.deadline = dbb_client_deadline(client);
    if (!dbb_client_call(client, &request, NULL, &response, error)) {
        dbb_http_response_clear(&response);
        return NULL;
    }
    projects = dbb_iam_parse_projects(response.json, error);
    dbb_http_response_clear(&response);
    return projects;
}
