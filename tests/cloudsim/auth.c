/*
 * cloudsim — authentication as Huawei's API gateway does it: an X-Auth-Token scoped to one
 * project, or an SDK-HMAC-SHA256 signature recomputed from the request as received
 * (method, decoded path, decoded query parameters, the signed headers' values, the body)
 * with the client's own signing code (api/sign.h), and X-Sdk-Date within ±15 minutes.
 */
#include "server.h"

#include "api/sign.h"

#include <string.h>

#define SIM_MAX_SKEW 900 /* seconds */
#define SIGN_PREFIX  "SDK-HMAC-SHA256 "

typedef struct {
    char *access;
    char *signed_headers;
    char *signature;
} AuthHeader;

static void auth_header_clear(AuthHeader *a)
{
    g_free(a->access);
    g_free(a->signed_headers);
    g_free(a->signature);
}

/* "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex" (spaces optional). */
static gboolean parse_authorization(const char *value, AuthHeader *a)
{
    g_auto(GStrv) parts = NULL;

    if (!g_str_has_prefix(value, SIGN_PREFIX))
        return FALSE;
    parts = g_strsplit(value + strlen(SIGN_PREFIX), ",", -1);
    for (char **p = parts; *p; p++) {
        char *kv = g_strstrip(*p);
        char *eq = strchr(kv, '=');
        char **slot;

        if (!eq)
            return FALSE;
        *eq = '\0';
        if (strcmp(kv, "Access") == 0)
            slot = &a->access;
        else if (strcmp(kv, "SignedHeaders") == 0)
            slot = &a->signed_headers;
        else if (strcmp(kv, "Signature") == 0)
            slot = &a->signature;
        else
            return FALSE;
        if (*slot)
            return FALSE;
        *slot = g_strdup(eq + 1);
    }
    return a->access && a->signed_headers && a->signature;
}

/* "YYYYMMDDTHHMMSSZ" to epoch seconds. */
static gboolean parse_sdk_date(const char *s, gint64 *out)
{
    char iso[32];

    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return FALSE;
    g_snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11,
               s + 13);
    return sim_parse_time(iso, out);
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    GArray *q = cls;
    DbbQueryParam p = {key, value ? value : ""};

    g_array_append_val(q, p);
    return MHD_YES;
}

/* The signed headers' received values; FALSE when one is missing or x-sdk-date is not
 * among them (an unsigned date would make the skew check worthless). */
static gboolean collect_headers(struct MHD_Connection *c, const char *list, GArray *headers,
                                GPtrArray *names)
{
    g_auto(GStrv) split = g_strsplit(list, ";", -1);
    gboolean has_date = FALSE;

    for (char **n = split; *n; n++) {
        const char *value = MHD_lookup_connection_value(c, MHD_HEADER_KIND, *n);
        DbbHeader h;

        if (!**n || !value)
            return FALSE;
        has_date |= g_ascii_strcasecmp(*n, "x-sdk-date") == 0;
        g_ptr_array_add(names, g_strdup(*n));
        h.name = g_ptr_array_index(names, names->len - 1);
        h.value = value;
        g_array_append_val(headers, h);
    }
    return has_date;
}

static gboolean equal_hex(const char *a, const char *b)
{
    size_t n = strlen(a);
    guchar diff = 0;

    if (n != strlen(b))
        return FALSE;
    for (size_t i = 0; i < n; i++)
        diff |= (guchar)(a[i] ^ b[i]);
    return diff == 0;
}

static gboolean verify_signature(const SimFleet *f, struct MHD_Connection *c, const char *method,
                                 const char *path, const GByteArray *body, const char *authz,
                                 gint64 now)
{
    AuthHeader a = {0};
    g_autoptr(GArray) query = g_array_new(FALSE, FALSE, sizeof(DbbQueryParam));
    g_autoptr(GArray) headers = g_array_new(FALSE, FALSE, sizeof(DbbHeader));
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *expected = NULL;
    const char *date = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Sdk-Date");
    gint64 when;
    gboolean ok = FALSE;

    if (!parse_authorization(authz, &a) || strcmp(a.access, f->ak) != 0)
        goto out;
    if (!parse_sdk_date(date, &when) || ABS(now - when) > SIM_MAX_SKEW)
        goto out;
    if (!collect_headers(c, a.signed_headers, headers, names))
        goto out;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, query);
    {
        DbbSignInput in = {
            .method = method,
            .path = path,
            .query = (const DbbQueryParam *)query->data,
            .n_query = query->len,
            .headers = (const DbbHeader *)headers->data,
            .n_headers = headers->len,
            .body = body->len ? body->data : NULL,
            .body_len = body->len,
            .sdk_date = date,
        };

        expected = dbb_sign_signature(f->sk, &in);
    }
    ok = expected && equal_hex(expected, a.signature);
out:
    auth_header_clear(&a);
    return ok;
}

SimAuthResult sim_auth_check(const SimFleet *f, struct MHD_Connection *c, const char *method,
                             const char *path, const GByteArray *body, const char *path_project_id,
                             gint64 now)
{
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Auth-Token");
    const SimProject *owner, *target;

    if (authz)
        return verify_signature(f, c, method, path, body, authz, now) ? SIM_AUTH_OK
                                                                      : SIM_AUTH_BAD_SIGNATURE;
    if (!token)
        return SIM_AUTH_BAD_SIGNATURE;
    owner = g_hash_table_lookup(f->by_token, token);
    if (!owner)
        return SIM_AUTH_BAD_TOKEN;
    if (!path_project_id)
        return SIM_AUTH_OK;
    target = g_hash_table_lookup(f->by_id, path_project_id);
    return (!target || target == owner) ? SIM_AUTH_OK : SIM_AUTH_BAD_TOKEN;
}
