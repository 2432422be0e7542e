/*
 * Unit tests for api/sign.c: replays every vector of shared/testdata/aksk-vectors.json
 * (produced by the official SDKs) and checks the encoder's edge cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <json-c/json.h>

#include "api/sign.h"

/* One request to sign, built from a vector; owns every string it points to. */
typedef struct {
    GPtrArray *strings;
    GArray *query;   /* DbbQueryParam */
    GArray *headers; /* DbbHeader */
    DbbSignInput in;
} SignCase;

static SignCase *sign_case_new(const char *method)
{
    SignCase *c = g_new0(SignCase, 1);

    c->strings = g_ptr_array_new_with_free_func(g_free);
    c->query = g_array_new(FALSE, TRUE, sizeof(DbbQueryParam));
    c->headers = g_array_new(FALSE, TRUE, sizeof(DbbHeader));
    c->in.method = method;
    return c;
}

static void sign_case_free(SignCase *c)
{
    g_ptr_array_unref(c->strings);
    g_array_unref(c->query);
    g_array_unref(c->headers);
    g_free(c);
}

static const char *keep(SignCase *c, char *s)
{
    g_ptr_array_add(c->strings, s);
    return s;
}

/* Point the input at the arrays once they are complete (appending may move them). */
static const DbbSignInput *sign_case_input(SignCase *c)
{
    c->in.query = (const DbbQueryParam *)(void *)c->query->data;
    c->in.n_query = c->query->len;
    c->in.headers = (const DbbHeader *)(void *)c->headers->data;
    c->in.n_headers = c->headers->len;
    return &c->in;
}

static void add_query(SignCase *c, const char *key, const char *value)
{
    DbbQueryParam p = {keep(c, g_strdup(key)), keep(c, g_strdup(value))};

    g_array_append_val(c->query, p);
}

/* The SDK signs numbers and booleans as their text, and an array as one pair per element. */
static void add_query_json(SignCase *c, const char *key, json_object *value)
{
    if (json_object_is_type(value, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(value); i++)
            add_query_json(c, key, json_object_array_get_idx(value, i));
        return;
    }
    add_query(c, key, json_object_get_string(value));
}

static void add_header(SignCase *c, const char *name, const char *value)
{
    DbbHeader h = {keep(c, g_strdup(name)), keep(c, g_strdup(value))};

    g_array_append_val(c->headers, h);
}

static void set_body(SignCase *c, json_object *vector)
{
    json_object *body = NULL;
    const char *s = "";

    if (json_object_object_get_ex(vector, "body", &body) && body)
        s = json_object_get_string(body);
    c->in.body = keep(c, g_strdup(s));
    c->in.body_len = strlen(s);
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !v)
        fail_msg("vector field '%s' missing", key);
    return json_object_get_string(v);
}

static json_object *get_obj(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !v)
        fail_msg("vector field '%s' missing", key);
    return v;
}

/* "host" as the SDK derives it from the URL: the port only when it is not the default. */
static char *host_of(GUri *uri)
{
    int port = g_uri_get_port(uri);
    const char *scheme = g_uri_get_scheme(uri);
    gboolean dflt = port < 0 || (port == 443 && g_ascii_strcasecmp(scheme, "https") == 0) ||
                    (port == 80 && g_ascii_strcasecmp(scheme, "http") == 0);

    if (dflt)
        return g_strdup(g_uri_get_host(uri));
    return g_strdup_printf("%s:%d", g_uri_get_host(uri), port);
}

static GUri *parse_url(const char *url)
{
    g_autoptr(GError) error = NULL;
    GUri *uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, &error);

    if (!uri)
        fail_msg("bad url %s: %s", url, error->message);
    return uri;
}

/* Decoded path and query of a URL as it was on the wire. */
static void add_path_and_query_from_url(SignCase *c, GUri *uri)
{
    const char *query = g_uri_get_query(uri);

    c->in.path = keep(c, g_uri_unescape_string(g_uri_get_path(uri), NULL));
    if (!query || !*query)
        return;

    g_auto(GStrv) pairs = g_strsplit(query, "&", -1);
    for (gsize i = 0; pairs[i]; i++) {
        char *eq = strchr(pairs[i], '=');
        if (eq)
            *eq = '\0';
        g_autofree char *k = g_uri_unescape_string(pairs[i], NULL);
        g_autofree char *v = g_uri_unescape_string(eq ? eq + 1 : "", NULL);
        assert_non_null(k);
        assert_non_null(v);
        add_query(c, k, v);
    }
}

static char *signature_of(const char *authorization)
{
    const char *sig = strstr(authorization, "Signature=");

    assert_non_null(sig);
    return g_strdup(sig + strlen("Signature="));
}

/* ---- the vectors file ---- */

typedef struct {
    json_object *root;
    const char *ak;
    const char *sk;
} Vectors;

static int load_vectors(void **state)
{
    const char *dir = g_getenv("DBB_SHARED_DIR");
    g_autofree char *path = NULL;
    Vectors *v;
    json_object *creds;

    /* The vectors are the point of this test: missing is a failure, not a skip. */
    if (!dir) {
        print_error("DBB_SHARED_DIR is not set\n");
        return -1;
    }
    path = g_build_filename(dir, "testdata", "aksk-vectors.json", NULL);
    v = g_new0(Vectors, 1);
    v->root = json_object_from_file(path);
    if (!v->root) {
        print_error("cannot read %s\n", path);
        g_free(v);
        return -1;
    }
    creds = get_obj(v->root, "credentials");
    v->ak = get_str(creds, "ak");
    v->sk = get_str(creds, "sk");
    *state = v;
    return 0;
}

static int free_vectors(void **state)
{
    Vectors *v = *state;

    if (v) {
        json_object_put(v->root);
        g_free(v);
    }
    return 0;
}

static void check_vector(const Vectors *vs, json_object *vec)
{
    const char *name = get_str(vec, "name");
    SignCase *c = sign_case_new(get_str(vec, "method"));
    g_autoptr(GUri) uri = parse_url(get_str(vec, "url"));
    json_object *query = get_obj(vec, "query_params_in_order_given");
    json_object *given = get_obj(vec, "headers_given_to_signer");
    json_object *out = get_obj(vec, "signed_headers_out");
    gsize n_out = 0;

    c->in.path = get_str(vec, "path");
    for (size_t i = 0; i < json_object_array_length(query); i++) {
        json_object *pair = json_object_array_get_idx(query, i);
        add_query_json(c, json_object_get_string(json_object_array_get_idx(pair, 0)),
                       json_object_array_get_idx(pair, 1));
    }
    json_object_object_foreach(given, hname, hval)
    {
        add_header(c, hname, json_object_get_string(hval));
        if (g_ascii_strcasecmp(hname, "X-Sdk-Date") == 0)
            c->in.sdk_date = keep(c, g_strdup(json_object_get_string(hval)));
    }
    add_header(c, "host", keep(c, host_of(uri)));
    set_body(c, vec);

    /* The signer's output headers are exactly ours plus Authorization. */
    json_object_object_foreach(out, oname, oval)
    {
        if (g_ascii_strcasecmp(oname, "Authorization") == 0)
            continue;
        gboolean found = FALSE;
        for (guint i = 0; i < c->headers->len; i++) {
            DbbHeader *h = &g_array_index(c->headers, DbbHeader, i);
            if (g_ascii_strcasecmp(h->name, oname) == 0) {
                assert_string_equal(h->value, json_object_get_string(oval));
                found = TRUE;
            }
        }
        if (!found)
            fail_msg("%s: signed header %s not reproduced", name, oname);
        n_out++;
    }
    assert_int_equal(n_out, c->headers->len);
    assert_non_null(c->in.sdk_date);

    const DbbSignInput *in = sign_case_input(c);
    g_autofree char *creq = dbb_sign_canonical_request(in);
    g_autofree char *sts = dbb_sign_string_to_sign(in);
    g_autofree char *auth = dbb_sign_authorization(vs->ak, vs->sk, in);
    g_autofree char *sig = dbb_sign_signature(vs->sk, in);
    g_autofree char *want_sig = signature_of(get_str(vec, "authorization"));

    print_message("vector %s\n", name);
    assert_string_equal(creq, get_str(vec, "canonical_request"));
    assert_string_equal(sts, get_str(vec, "string_to_sign"));
    assert_string_equal(auth, get_str(vec, "authorization"));
    assert_string_equal(auth, get_str(out, "Authorization"));
    assert_string_equal(sig, want_sig);
    sign_case_free(c);
}

static void test_sdk_vectors(void **state)
{
    const Vectors *vs = *state;
    json_object *vectors = get_obj(vs->root, "vectors");
    size_t n = json_object_array_length(vectors);

    assert_true(n >= 14);
    for (size_t i = 0; i < n; i++)
        check_vector(vs, json_object_array_get_idx(vectors, i));
}

static gboolean name_in(json_object *names, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(names); i++) {
        if (g_ascii_strcasecmp(json_object_get_string(json_object_array_get_idx(names, i)), name) ==
            0)
            return TRUE;
    }
    return FALSE;
}

static void check_pipeline_vector(const Vectors *vs, json_object *vec)
{
    const char *name = get_str(vec, "name");
    SignCase *c = sign_case_new(get_str(vec, "method"));
    g_autoptr(GUri) uri = parse_url(get_str(vec, "url_on_wire"));
    json_object *wire = get_obj(vec, "headers_on_wire");
    json_object *names = get_obj(vec, "signed_header_names");

    add_path_and_query_from_url(c, uri);
    json_object_object_foreach(wire, hname, hval)
    {
        if (!name_in(names, hname))
            continue;
        add_header(c, hname, json_object_get_string(hval));
        if (g_ascii_strcasecmp(hname, "X-Sdk-Date") == 0)
            c->in.sdk_date = keep(c, g_strdup(json_object_get_string(hval)));
    }
    assert_int_equal(c->headers->len, json_object_array_length(names));
    assert_non_null(c->in.sdk_date);
    set_body(c, vec);

    g_autofree char *auth = dbb_sign_authorization(vs->ak, vs->sk, sign_case_input(c));
    print_message("pipeline vector %s\n", name);
    assert_string_equal(auth, get_str(vec, "authorization"));
    assert_string_equal(auth, get_str(wire, "Authorization"));
    sign_case_free(c);
}

static void test_client_pipeline_vectors(void **state)
{
    const Vectors *vs = *state;
    json_object *vectors = get_obj(vs->root, "client_pipeline_vectors");
    size_t n = json_object_array_length(vectors);

    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++)
        check_pipeline_vector(vs, json_object_array_get_idx(vectors, i));
}

static void check_go_signature(json_object *vec)
{
    SignCase *c = sign_case_new(get_str(vec, "method"));
    g_autoptr(GUri) uri = parse_url(get_str(vec, "url"));
    json_object *headers = get_obj(vec, "headers_signed");

    add_path_and_query_from_url(c, uri);
    json_object_object_foreach(headers, hname, hval)
    {
        add_header(c, hname, json_object_get_string(hval));
        if (g_ascii_strcasecmp(hname, "X-Sdk-Date") == 0)
            c->in.sdk_date = keep(c, g_strdup(json_object_get_string(hval)));
    }
    set_body(c, vec);

    g_autofree char *auth =
        dbb_sign_authorization(get_str(vec, "ak"), get_str(vec, "sk"), sign_case_input(c));
    print_message("go vector %s\n", get_str(vec, "name"));
    assert_string_equal(auth, get_str(vec, "authorization"));
    sign_case_free(c);
}

static void check_go_query(json_object *vec)
{
    SignCase *c = sign_case_new("GET");
    json_object *query = get_obj(vec, "query");

    for (size_t i = 0; i < json_object_array_length(query); i++) {
        json_object *pair = json_object_array_get_idx(query, i);
        add_query_json(c, json_object_get_string(json_object_array_get_idx(pair, 0)),
                       json_object_array_get_idx(pair, 1));
    }
    const DbbSignInput *in = sign_case_input(c);
    g_autofree char *cq = dbb_sign_canonical_query(in->query, in->n_query);
    print_message("go vector %s\n", get_str(vec, "name"));
    assert_string_equal(cq, get_str(vec, "canonical_query_string"));
    sign_case_free(c);
}

static void test_go_known_answers(void **state)
{
    const Vectors *vs = *state;
    json_object *vectors = get_obj(vs->root, "go_sdk_known_answers");
    size_t n = json_object_array_length(vectors);
    size_t checked = 0;

    for (size_t i = 0; i < n; i++) {
        json_object *vec = json_object_array_get_idx(vectors, i);
        json_object *unused;
        if (json_object_object_get_ex(vec, "canonical_query_string", &unused))
            check_go_query(vec);
        else
            check_go_signature(vec);
        checked++;
    }
    assert_true(checked >= 3);
}

/* ---- hand-written edge cases ---- */

static void assert_encodes(const char *in, const char *want)
{
    g_autofree char *got = dbb_sign_uri_encode(in);

    assert_string_equal(got, want);
}

static void test_uri_encode(void **state)
{
    assert_encodes("", "");
    assert_encodes("AZaz09-_.~", "AZaz09-_.~");
    assert_encodes(" ", "%20");
    assert_encodes("+:/*()!'", "%2B%3A%2F%2A%28%29%21%27");
    assert_encodes("%", "%25");
    assert_encodes("a=b&c", "a%3Db%26c");
    assert_encodes("\xe6\xb5\x8b", "%E6%B5%8B");        /* UTF-8: upper-case hex per byte */
    assert_encodes("\x7f\x80\xff\x01", "%7F%80%FF%01"); /* control and high bytes */
}

static void test_canonical_query_edges(void **state)
{
    /* Repeated key: values sorted; empty value keeps its '='; keys sorted bytewise. */
    const DbbQueryParam q[] = {
        {"b", "2"}, {"a", "z"}, {"a", ""}, {"B", "x y"}, {"a", "m"},
    };
    g_autofree char *cq = dbb_sign_canonical_query(q, G_N_ELEMENTS(q));
    g_autofree char *empty = dbb_sign_canonical_query(NULL, 0);

    assert_string_equal(cq, "B=x%20y&a=&a=m&a=z&b=2");
    assert_string_equal(empty, "");
}

static void test_canonical_uri_and_trim(void **state)
{
    const DbbHeader h[] = {{"X-Sdk-Date", "20260101T000000Z"}, {"HOST", "  h.example:8443 "}};
    DbbSignInput in = {
        .method = "GET",
        .path = "/a b/c+d",
        .headers = h,
        .n_headers = G_N_ELEMENTS(h),
        .sdk_date = "20260101T000000Z",
    };
    g_autofree char *creq = dbb_sign_canonical_request(&in);
    g_autofree char *auth = NULL;

    assert_string_equal(creq, "GET\n/a%20b/c%2Bd/\n\nhost:h.example:8443\n"
                              "x-sdk-date:20260101T000000Z\n\nhost;x-sdk-date\n"
                              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /* An empty path is the root. */
    in.path = "";
    g_free(creq);
    creq = dbb_sign_canonical_request(&in);
    assert_true(g_str_has_prefix(creq, "GET\n/\n\n"));
    in.path = "/";
    g_free(creq);
    creq = dbb_sign_canonical_request(&in);
    assert_true(g_str_has_prefix(creq, "GET\n/\n\n"));

    /* The header list in Authorization is lower-cased and sorted, whatever the input. */
    auth = dbb_sign_authorization("AK", "SK", &in);
    assert_true(g_str_has_prefix(auth, "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, "
                                       "Signature="));
    assert_int_equal(strlen(strstr(auth, "Signature=") + strlen("Signature=")), 64);
}

static void test_signature_depends_on_every_input(void **state)
{
    const DbbHeader h[] = {{"host", "h"}, {"X-Sdk-Date", "20260101T000000Z"}};
    const DbbQueryParam q[] = {{"limit", "10"}};
    DbbSignInput in = {.method = "GET",
                       .path = "/v3/p/instances",
                       .query = q,
                       .n_query = 1,
                       .headers = h,
                       .n_headers = 2,
                       .sdk_date = "20260101T000000Z"};
    g_autofree char *base = dbb_sign_signature("SK", &in);
    g_autofree char *other_sk = dbb_sign_signature("SK2", &in);
    g_autofree char *other_path = NULL;
    g_autofree char *other_query = NULL;

    assert_string_not_equal(base, other_sk);
    in.path = "/v3/q/instances";
    other_path = dbb_sign_signature("SK", &in);
    assert_string_not_equal(base, other_path);
    in.path = "/v3/p/instances";
    in.n_query = 0;
    other_query = dbb_sign_signature("SK", &in);
    assert_string_not_equal(base, other_query);
}

static void test_format_date(void **state)
{
    g_autofree char *epoch = dbb_sign_format_date(0);
    g_autofree char *vec = dbb_sign_format_date(1795342500); /* 2026-11-22T10:15:00Z */

    assert_string_equal(epoch, "19700101T000000Z");
    assert_string_equal(vec, "20261122T101500Z");
}

int main(void)
{
    const struct CMUnitTest vector_tests[] = {
        cmocka_unit_test(test_sdk_vectors),
        cmocka_unit_test(test_client_pipeline_vectors),
        cmocka_unit_test(test_go_known_answers),
    };
    const struct CMUnitTest unit_tests[] = {
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_canonical_query_edges),
        cmocka_unit_test(test_canonical_uri_and_trim),
        cmocka_unit_test(test_signature_depends_on_every_input),
        cmocka_unit_test(test_format_date),
    };
    int failed =
        cmocka_run_group_tests_name("sign vectors", vector_tests, load_vectors, free_vectors);

    failed += cmocka_run_group_tests_name("sign units", unit_tests, NULL, NULL);
    return failed ? 1 : 0;
}
