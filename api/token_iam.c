/*
 * dbbackupfs — a token from IAM by password: POST /v3/auth/tokens (reference §5.1).
 *
 * The body names the user, its account (domain) and the scope (the project by ID, or the
 * domain for the project list); the token comes back in X-Subject-Token, its issued_at and
 * expires_at in the body.  The password exists in the request body only while it is sent:
 * the body is wiped at once, and the http layer never logs a body and redacts the password
 * from any message.
 */
#include <errno.h>
#include <string.h>

#include "client_internal.h"
#include "error.h"
#include "jsonutil.h"
#include "timeparse.h"

#define TOKENS_PATH "/v3/auth/tokens"

static char *request_body(const DbbCredentials *c, const char *project_id)
{
    GString *b = g_string_sized_new(256);

    g_string_append(b, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":"
                       "{\"user\":{\"name\":");
    dbb_json_append_string(b, c->user);
    g_string_append(b, ",\"password\":");
    dbb_json_append_string(b, c->password);
    g_string_append(b, ",\"domain\":{\"name\":");
    dbb_json_append_string(b, c->domain);
    g_string_append(b, "}}}},\"scope\":");
    if (project_id != NULL) {
        g_string_append(b, "{\"project\":{\"id\":");
        dbb_json_append_string(b, project_id);
        g_string_append(b, "}}}}");
    } else {
        g_string_append(b, "{\"domain\":{\"name\":");
        dbb_json_append_string(b, c->domain);
        g_string_append(b, "}}}}");
    }
    return g_string_free(b, FALSE);
}

/* token.<field> as wall-clock µs, or 0. */
static gint64 token_time(json_object *body, const char *field)
{
    json_object *token = NULL;
    g_autofree char *text = NULL;
    const char *why = NULL;
    gint64 epoch = 0;

    if (!json_object_object_get_ex(body, "token", &token))
        return 0;
    text = dbb_json_dup_text(token, field, NULL, 0);
    if (text == NULL || !dbb_time_parse(text, 0, &epoch, &why))
        return 0;
    return epoch * G_USEC_PER_SEC;
}

static gboolean malformed(const char *what, GError **error)
{
    g_set_error(error, DBB_API_ERROR, EIO, "iam: POST " TOKENS_PATH ": %s", what);
    g_warning("%s", (*error)->message);
    return FALSE;
}

gboolean dbb_iam_password_token(gpointer data, const char *project_id, char **token,
                                gint64 *issued_at, gint64 *expires_at, GError **error)
{
    DbbClient *client = data;
    static const DbbQueryParam nocatalog[] = {{"nocatalog", "true"}};
    g_autofree char *base_url = NULL;
    DbbHttpResponse response = {0};
    DbbHttpRequest request = {0};
    char *body;
    gboolean ok;

    base_url = dbb_client_base_url(client, "iam", "iam", client->iam_region, error);
    if (base_url == NULL)
        return FALSE;
    body = request_body(&client->credentials, project_id);
    request.service = "iam";
    request.base_url = base_url;
    request.path = TOKENS_PATH;
    request.query = nocatalog;
    request.n_query = G_N_ELEMENTS(nocatalog);
    request.post_body = body;
    request.redact = client->credentials.password;
    request.deadline = dbb_client_deadline(client);
    ok = dbb_http_get_json(client->http, &request, &response, error);
    explicit_bzero(body, strlen(body));
    g_free(body);
    if (ok && (response.subject_token == NULL || *response.subject_token == '\0'))
        ok = malformed("no X-Subject-Token in the response", error);
    if (ok) {
        *expires_at = token_time(response.json, "expires_at");
        *issued_at = token_time(response.json, "issued_at");
        if (*expires_at == 0)
            ok = malformed("no token.expires_at in the response", error);
    }
    if (ok) {
        *token = g_steal_pointer(&response.subject_token);
        g_debug("iam: got a token for %s%s", project_id ? "project " : "the domain",
                project_id ? project_id : "");
    }
    dbb_http_response_clear(&response);
    return ok;
}
