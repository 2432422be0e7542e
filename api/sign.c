/*
 * dbbackupfs — AK/SK request signing (SDK-HMAC-SHA256), reference/huawei-api.md §7.
 *
 * Everything here is a pure function of its input so that the client and the simulator
 * share one implementation and the SDK's vectors can be replayed byte for byte.
 */
#include "sign.h"

#include <string.h>

#define SIGN_ALGORITHM   "SDK-HMAC-SHA256"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

static gboolean is_unreserved(guchar c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

char *dbb_sign_uri_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    GString *out = g_string_sized_new(strlen(s) + 16);

    for (const guchar *p = (const guchar *)s; *p; p++) {
        if (is_unreserved(*p)) {
            g_string_append_c(out, (char)*p);
        } else {
            g_string_append_c(out, '%');
            g_string_append_c(out, hex[*p >> 4]);
            g_string_append_c(out, hex[*p & 0x0f]);
        }
    }
    return g_string_free(out, FALSE);
}

/* The SDKs (Node, Go, Python) all sort the *decoded* keys and values before encoding them;
 * byte order of UTF-8 equals code point order, which is what Go does. */
static int compare_query_param(const void *a, const void *b)
{
    const DbbQueryParam *x = *(const DbbQueryParam *const *)a;
    const DbbQueryParam *y = *(const DbbQueryParam *const *)b;
    int r = strcmp(x->key, y->key);

    if (r != 0)
        return r;
    return strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

char *dbb_sign_canonical_query(const DbbQueryParam *query, gsize n_query)
{
    g_autofree const DbbQueryParam **sorted = g_new(const DbbQueryParam *, n_query + 1);
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < n_query; i++)
        sorted[i] = &query[i];
    qsort(sorted, n_query, sizeof(*sorted), compare_query_param);

    for (gsize i = 0; i < n_query; i++) {
        g_autofree char *k = dbb_sign_uri_encode(sorted[i]->key);
        g_autofree char *v = dbb_sign_uri_encode(sorted[i]->value ? sorted[i]->value : "");

        if (i > 0)
            g_string_append_c(out, '&');
        g_string_append_printf(out, "%s=%s", k, v);
    }
    return g_string_free(out, FALSE);
}

char *dbb_sign_encode_path(const char *path)
{
    g_auto(GStrv) segments = g_strsplit(path ? path : "", "/", -1);
    GString *out = g_string_new(NULL);

    for (gsize i = 0; segments[i]; i++) {
        g_autofree char *enc = dbb_sign_uri_encode(segments[i]);

        if (i > 0)
            g_string_append_c(out, '/');
        g_string_append(out, enc);
    }
    return g_string_free(out, FALSE);
}

/* Canonical URI: the encoded path, always ending in '/', so "/a/b" and "/a/b/" sign alike,
 * as in the SDKs. */
static char *canonical_uri(const char *path)
{
    char *enc = dbb_sign_encode_path(path);
    gsize len = strlen(enc);

    if (len > 0 && enc[len - 1] == '/')
        return enc;
    char *out = g_strconcat(enc, "/", NULL);
    g_free(enc);
    return out;
}

typedef struct {
    char *name; /* lower-cased */
    const char *value;
} SignHeader;

static int compare_sign_header(const void *a, const void *b)
{
    return strcmp(((const SignHeader *)a)->name, ((const SignHeader *)b)->name);
}

/* Lower-cased, sorted copy of the headers to sign; free with free_sign_headers(). */
static SignHeader *sorted_headers(const DbbSignInput *in)
{
    SignHeader *h = g_new0(SignHeader, in->n_headers + 1);

    for (gsize i = 0; i < in->n_headers; i++) {
        h[i].name = g_ascii_strdown(in->headers[i].name, -1);
        h[i].value = in->headers[i].value ? in->headers[i].value : "";
    }
    qsort(h, in->n_headers, sizeof(*h), compare_sign_header);
    return h;
}

static void free_sign_headers(SignHeader *h, gsize n)
{
    for (gsize i = 0; i < n; i++)
        g_free(h[i].name);
    g_free(h);
}

/* Go and Python trim header values before signing; Node does not.  We trim (the gateway
 * is Go-like), and the client never sends values with outer blanks anyway. */
static void append_trimmed(GString *out, const char *value)
{
    const char *start = value;
    const char *end = value + strlen(value);

    while (start < end && g_ascii_isspace(*start))
        start++;
    while (end > start && g_ascii_isspace(end[-1]))
        end--;
    g_string_append_len(out, start, end - start);
}

static char *signed_header_list(const SignHeader *h, gsize n)
{
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < n; i++) {
        if (i > 0)
            g_string_append_c(out, ';');
        g_string_append(out, h[i].name);
    }
    return g_string_free(out, FALSE);
}

static char *payload_hash(const DbbSignInput *in, const SignHeader *h, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        if (strcmp(h[i].name, "x-sdk-content-sha256") == 0 &&
            strcmp(h[i].value, UNSIGNED_PAYLOAD) == 0)
            return g_strdup(UNSIGNED_PAYLOAD);
    }
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                       in->body_len ? in->body : (const guchar *)"", in->body_len);
}

char *dbb_sign_canonical_request(const DbbSignInput *in)
{
    SignHeader *h = sorted_headers(in);
    g_autofree char *uri = canonical_uri(in->path);
    g_autofree char *query = dbb_sign_canonical_query(in->query, in->n_query);
    g_autofree char *signed_list = signed_header_list(h, in->n_headers);
    g_autofree char *hash = payload_hash(in, h, in->n_headers);
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "%s\n%s\n%s\n", in->method, uri, query);
    for (gsize i = 0; i < in->n_headers; i++) {
        g_string_append_printf(out, "%s:", h[i].name);
        append_trimmed(out, h[i].value);
        g_string_append_c(out, '\n');
    }
    g_string_append_printf(out, "\n%s\n%s", signed_list, hash);

    free_sign_headers(h, in->n_headers);
    return g_string_free(out, FALSE);
}

char *dbb_sign_string_to_sign(const DbbSignInput *in)
{
    g_autofree char *creq = dbb_sign_canonical_request(in);
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, creq, -1);

    return g_strdup_printf(SIGN_ALGORITHM "\n%s\n%s", in->sdk_date, hash);
}

char *dbb_sign_signature(const char *sk, const DbbSignInput *in)
{
    g_autofree char *sts = dbb_sign_string_to_sign(in);

    return g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)sk, strlen(sk), sts, -1);
}

char *dbb_sign_authorization(const char *ak, const char *sk, const DbbSignInput *in)
{
    SignHeader *h = sorted_headers(in);
    g_autofree char *signed_list = signed_header_list(h, in->n_headers);
    g_autofree char *signature = dbb_sign_signature(sk, in);

    free_sign_headers(h, in->n_headers);
    return g_strdup_printf(SIGN_ALGORITHM " Access=%s, SignedHeaders=%s, Signature=%s", ak,
                           signed_list, signature);
}

char *dbb_sign_format_date(gint64 unix_seconds)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_seconds);

    if (!dt)
        return NULL;
    return g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
}
