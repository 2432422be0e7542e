/*
 * Unit tests of fs/render.c: the backup file content.
 *
 * The expected texts below were produced with Python's
 * json.dumps(v, indent=2, ensure_ascii=False) + "\n" (numbers kept as written by parsing
 * them as placeholders) and checked by hand; the contract says the renderer matches it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "fs/render.h"

/* Render from a heap copy of exactly len bytes (no NUL after it), so that ASan catches any
 * read past the end of the input. */
static GBytes *render_exact(const char *text, gsize len, GError **error)
{
    char *copy = g_malloc(len ? len : 1);
    GBytes *out;

    memcpy(copy, text, len);
    out = dbb_render_json(copy, len, error);
    g_free(copy);
    return out;
}

static char *render_str(const char *text, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) out = render_exact(text, len, &error);
    gsize n;
    const char *data;

    if (!out)
        fail_msg("render failed on [%.*s]: %s", (int)len, text, error->message);
    data = g_bytes_get_data(out, &n);
    assert_non_null(data);
    /* st_size is the GBytes size: no NUL may hide in it */
    assert_int_equal(strlen(data), n);
    return g_strndup(data, n);
}

static void assert_renders(const char *in, gsize len, const char *expected)
{
    g_autofree char *got = render_str(in, len);

    if (strcmp(got, expected) != 0)
        fail_msg("input [%.*s]\n--- got ---\n%s--- expected ---\n%s", (int)len, in, got, expected);
}

typedef struct {
    const char *in;
    const char *out;
} Case;

static const Case python_cases[] = {
    {"{\"n\": 12345678901234567890123}", "{\n  \"n\": 12345678901234567890123\n}\n"},
    {"[-0, 1e5, 1.0E+2, -1.5e-3, 0.0, 5.419922, 74464.0, \"74464.0\", 1E-7, "
     "-12345678901234567890123.5e+300]",
     "[\n  -0,\n  1e5,\n  1.0E+2,\n  -1.5e-3,\n  0.0,\n  5.419922,\n  74464.0,\n  \"74464.0\",\n "
     " 1E-7,\n  -12345678901234567890123.5e+300\n]\n"},
    {"-0", "-0\n"},
    {"{\"a\":[1,[2,[]],{}],\"b\":{\"c\":{\"d\":null}},\"e\":[true,false]}",
     "{\n  \"a\": [\n    1,\n    [\n      2,\n      []\n    ],\n    {}\n  ],\n  \"b\": {\n    "
     "\"c\": {\n      \"d\": null\n    }\n  },\n  \"e\": [\n    true,\n    false\n  ]\n}\n"},
    {"[]", "[]\n"},
    {"{}", "{}\n"},
    {"[ ]", "[]\n"},
    {"{ \n }", "{}\n"},
    {"[\"Z\303\274rich\", \"\\u00fc\", \"Z\\u00FCrich\", \"\\/\", \"a/b\", \"\\ud83d\\ude00\", "
     "\"\\uD83D\\uDE00\", \"\\u00e9\\u20ac\\uffff\"]",
     "[\n  \"Z\303\274rich\",\n  \"\303\274\",\n  \"Z\303\274rich\",\n  \"/\",\n  \"a/b\",\n  "
     "\"\360\237\230\200\",\n  \"\360\237\230\200\",\n  \"\303\251\342\202\254\357\277\277\"\n]"
     "\n"},
    {"[\"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\", \"\\u007f\", \"say \\\"hi\\\" \\\\ done\", "
     "\"\\u0022\\u005c\"]",
     "[\n  \"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\",\n  \"\177\",\n  \"say \\\"hi\\\" \\\\ "
     "done\",\n  \"\\\"\\\\\"\n]\n"},
    {"\t{\r\n\"a\"\t:\r[\n1 ,\t2\r]\n,\"b\":{ } , \"c\" : [ ] }\r\n",
     "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}\n"},
    {"\"str\"", "\"str\"\n"},
    {"42", "42\n"},
    {"null", "null\n"},
    {"true", "true\n"},
    {"false", "false\n"},
    {"{\"k\\u00e9y\\n\":\"v\",\"\":\"\"}", "{\n  \"k\303\251y\\n\": \"v\",\n  \"\": \"\"\n}\n"},
    {"[\"\342\200\250\342\200\251\"]", "[\n  \"\342\200\250\342\200\251\"\n]\n"},
    {"{\"size\":\"74464.0\",\"size_n\":74464.0,\"file_size\":5.419922}",
     "{\n  \"size\": \"74464.0\",\n  \"size_n\": 74464.0,\n  \"file_size\": 5.419922\n}\n"},
};

static void test_python_cases(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(python_cases); i++)
        assert_renders(python_cases[i].in, strlen(python_cases[i].in), python_cases[i].out);
}

/* Cases Python cannot express (it refuses them or cannot write them as UTF-8); the
 * expectations follow the leniencies render.h documents. */
/* sizeof, not strlen: some inputs hold a NUL byte */
#define LENIENT(in, out) assert_renders(in, sizeof(in) - 1, out)

static void test_lenient_cases(void **state)
{
    /* raw control bytes inside a string are accepted and escaped */
    LENIENT("\"a\tb\001c\nd\"", "\"a\\tb\\u0001c\\nd\"\n");
    /* a raw NUL byte inside a string (len given explicitly) */
    LENIENT("\"a\0b\"", "\"a\\u0000b\"\n");
    /* raw DEL is kept raw */
    LENIENT("\"\177\"", "\"\177\"\n");
    /* invalid UTF-8 is copied through unchanged */
    LENIENT("[\"\377\376x\300\"]", "[\n  \"\377\376x\300\"\n]\n");
    /* lone surrogates stay escaped, lower-case */
    LENIENT("\"\\uD800\"", "\"\\ud800\"\n");
    LENIENT("\"\\udc00x\"", "\"\\udc00x\"\n");
    LENIENT("\"\\ud800\\u0041\"", "\"\\ud800A\"\n");
    LENIENT("\"\\ud800\\ud800\\udfff\"", "\"\\ud800\360\220\217\277\"\n");
    LENIENT("\"\\ud800\\n\"", "\"\\ud800\\n\"\n");
    /* duplicate keys: every member is kept, in order (Python would keep only the last) */
    LENIENT("{\"a\":1,\"a\":2}", "{\n  \"a\": 1,\n  \"a\": 2\n}\n");
    /* input need not be NUL-terminated: only len bytes count */
    assert_renders("[1,2]garbage", 5, "[\n  1,\n  2\n]\n");
}

/* 400 levels wrapping 30,000 numbers: 120 KB of text whose rendering (800 bytes of
 * indentation per element) would be 24 MB, over the 16 MiB cap: refused, not rendered.
 * The same shape at 100 levels renders (about 6 MB). */
static char *nested_numbers(guint depth, guint n)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < depth; i++)
        g_string_append_c(s, '[');
    for (guint i = 0; i < n; i++)
        g_string_append(s, i ? ",1" : "1");
    for (guint i = 0; i < depth; i++)
        g_string_append_c(s, ']');
    return g_string_free(s, FALSE);
}

static void test_rendering_capped(void **state)
{
    g_autofree char *big = nested_numbers(400, 30000);
    g_autofree char *fine = nested_numbers(100, 30000);
    g_autoptr(GError) error = NULL;
    GBytes *out = dbb_render_json(big, strlen(big), &error);

    assert_null(out);
    assert_true(g_error_matches(error, DBB_RENDER_ERROR, DBB_RENDER_ERROR_SIZE));
    out = dbb_render_json(fine, strlen(fine), NULL);
    assert_non_null(out);
    assert_true(g_bytes_get_size(out) > 5000000 && g_bytes_get_size(out) < DBB_RENDER_MAX_BYTES);
    g_bytes_unref(out);
}

static void test_deep_but_allowed(void **state)
{
    const int depth = 512;
    GString *in = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) out = NULL;
    gsize n;
    const char *data;

    for (int i = 0; i < depth; i++)
        g_string_append(in, i % 2 ? "[" : "{\"k\":");
    g_string_append(in, "1");
    for (int i = depth - 1; i >= 0; i--)
        g_string_append(in, i % 2 ? "]" : "}");
    out = render_exact(in->str, in->len, &error);
    assert_null(error);
    assert_non_null(out);
    data = g_bytes_get_data(out, &n);
    /* the innermost value sits at indentation level 512 */
    g_autofree char *needle = g_strnfill(2 * depth, ' ');
    g_autofree char *line = g_strconcat("\n", needle, "1\n", NULL);
    assert_non_null(g_strstr_len(data, n, line));
    g_string_free(in, TRUE);
}

static void test_too_deep(void **state)
{
    static const char *const opens[] = {"[", "{\"k\":"};

    for (gsize o = 0; o < G_N_ELEMENTS(opens); o++) {
        g_autoptr(GError) error = NULL;
        GString *in = g_string_new(NULL);
        GBytes *out;

        for (int i = 0; i < 513; i++)
            g_string_append(in, opens[o]);
        g_string_append(in, "1");
        for (int i = 0; i < 513; i++)
            g_string_append_c(in, o ? '}' : ']');
        out = render_exact(in->str, in->len, &error);
        assert_null(out);
        assert_true(g_error_matches(error, DBB_RENDER_ERROR, DBB_RENDER_ERROR_DEPTH));
        g_string_free(in, TRUE);
    }
}

/* Explicit lengths: one case holds a NUL byte. */
#define BAD(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

static const struct {
    const char *text;
    gsize len;
} bad_inputs[] = {
    /* empty */
    BAD(""),
    BAD("   \n\t"),
    /* truncated */
    BAD("{"),
    BAD("["),
    BAD("{\"a\""),
    BAD("{\"a\":"),
    BAD("{\"a\": 1"),
    BAD("{\"a\": 1,"),
    BAD("[1,"),
    BAD("[1"),
    BAD("\"abc"),
    BAD("\"abc\\"),
    BAD("\"\\u12"),
    BAD("\"\\ud83d\\ude0"),
    BAD("tru"),
    BAD("nul"),
    BAD("-"),
    BAD("{\"a\":\"b}"),
    /* trailing garbage */
    BAD("{} x"),
    BAD("1 2"),
    BAD("{}}"),
    BAD("[]]"),
    BAD("\"a\"\"b\""),
    BAD("falsey"),
    BAD("null,"),
    /* bad escapes */
    BAD("\"\\x\""),
    BAD("\"\\u12G4\""),
    BAD("\"\\U0041\""),
    BAD("\"\\'\""),
    BAD("\"\\ \""),
    /* bad literals */
    BAD("True"),
    BAD("nulL"),
    BAD("[tru]"),
    BAD("[nan]"),
    BAD("NaN"),
    BAD("Infinity"),
    BAD("-Infinity"),
    BAD("undefined"),
    /* numbers */
    BAD("01"),
    BAD("[00]"),
    BAD("-01"),
    BAD("1."),
    BAD(".5"),
    BAD("1e"),
    BAD("1e+"),
    BAD("+1"),
    BAD("0x10"),
    BAD("1.e5"),
    BAD("--1"),
    BAD("[1.5.2]"),
    /* structure */
    BAD("{\"a\" 1}"),
    BAD("{\"a\":1,}"),
    BAD("[1,]"),
    BAD("{,}"),
    BAD("[,1]"),
    BAD("{1:2}"),
    BAD("{'a':1}"),
    BAD("{\"a\":1 \"b\":2}"),
    BAD("[1 2]"),
    BAD("}"),
    BAD("]"),
    BAD(":"),
    BAD(","),
    BAD("{\"a\"::1}"),
    BAD("[1}"),
    BAD("{\"a\":1]"),
    /* a NUL byte outside a string */
    BAD("[1,\0 2]"),
};

static void test_errors(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
        const char *in = bad_inputs[i].text;
        g_autoptr(GError) error = NULL;
        GBytes *out = render_exact(in, bad_inputs[i].len, &error);

        if (out)
            fail_msg("accepted invalid JSON [%s]", in);
        assert_true(g_error_matches(error, DBB_RENDER_ERROR, DBB_RENDER_ERROR_SYNTAX));
        assert_non_null(strstr(error->message, "invalid JSON at byte"));
    }
}

static void test_error_null_gerror(void **state)
{
    /* a caller that does not want the error must still get NULL, without a crash */
    assert_null(render_exact("{", 1, NULL));
}

/* ---- the seed documents ------------------------------------------------------------- */

static char *read_seed(const char *name, gsize *len)
{
    const char *root = g_getenv("DBB_SOURCE_ROOT");
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    char *text = NULL;

    if (!root)
        fail_msg("DBB_SOURCE_ROOT is not set (run through meson test)");
    path = g_build_filename(root, "tests", "data", name, NULL);
    if (!g_file_get_contents(path, &text, len, &error))
        fail_msg("%s", error->message);
    return text;
}

/* The exact text of each element of the document's "backups" array, as the API layer hands
 * each record over: a slice of the page, string-aware bracket matching. */
static GPtrArray *backup_slices(const char *text)
{
    GPtrArray *slices = g_ptr_array_new_with_free_func(g_free);
    const char *p = strstr(text, "\"backups\"");

    assert_non_null(p);
    p = strchr(p, '[');
    assert_non_null(p);
    p++;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == ',' || *p == '\t' || *p == '\r')
            p++;
        if (*p == ']')
            break;
        assert_int_equal(*p, '{');
        const char *start = p;
        int depth = 0;
        gboolean in_str = FALSE;
        for (;; p++) {
            assert_true(*p != '\0');
            if (in_str) {
                if (*p == '\\')
                    p++;
                else if (*p == '"')
                    in_str = FALSE;
            } else if (*p == '"') {
                in_str = TRUE;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if ((*p == '}' || *p == ']') && --depth == 0) {
                break;
            }
        }
        p++;
        g_ptr_array_add(slices, g_strndup(start, p - start));
    }
    return slices;
}

static const char seed000_0[] = "{\n"
                                "  \"id\": \"backup-001\",\n"
                                "  \"description\": \"Daily automated backup\",\n"
                                "  \"instance_id\": \"instance-123\",\n"
                                "  \"instance_name\": \"prod-db\",\n"
                                "  \"name\": \"daily-backup-20231101\",\n"
                                "  \"size\": \"74464.0\",\n"
                                "  \"size_unit\": \"KB\",\n"
                                "  \"status\": \"COMPLETED\",\n"
                                "  \"created\": \"2026-01-04 17:30:30\",\n"
                                "  \"updated\": \"2026-01-04 17:34:24\",\n"
                                "  \"backup_type\": \"Db\",\n"
                                "  \"backup_level\": \"2\",\n"
                                "  \"backup_method\": \"Db\",\n"
                                "  \"use_detail\": \"Production environment backup\",\n"
                                "  \"time_zone\": \"UTC+08:00\"\n"
                                "}\n";

static const char seed001_0[] = "{\n"
                                "  \"id\": \"43e4feaab48f11e89039fa163ebaa7e4br01\",\n"
                                "  \"name\": \"backup-test\",\n"
                                "  \"instance_id\": \"43e4feaab48f11e89039fa163ebaa7e4br01\",\n"
                                "  \"instance_name\": \"cluster-test\",\n"
                                "  \"datastore\": {\n"
                                "    \"type\": \"cassandra\",\n"
                                "    \"version\": \"3.4\"\n"
                                "  },\n"
                                "  \"type\": \"Auto\",\n"
                                "  \"begin_time\": \"2019-05-27T03:38:51+0000\",\n"
                                "  \"end_time\": \"2019-05-27T03:39:51+0000\",\n"
                                "  \"status\": \"COMPLETED\",\n"
                                "  \"size\": 2803,\n"
                                "  \"description\": \"backup description\",\n"
                                "  \"database_tables\": [\n"
                                "    {\n"
                                "      \"database_name\": \"DATABASE_X\",\n"
                                "      \"table_names\": [\n"
                                "        \"TABLE_A\",\n"
                                "        \"TABLE_B\",\n"
                                "        \"TABLE_C\"\n"
                                "      ]\n"
                                "    },\n"
                                "    {\n"
                                "      \"database_name\": \"DATABASE_Y\",\n"
                                "      \"table_names\": null\n"
                                "    }\n"
                                "  ]\n"
                                "}\n";

static const char seed001_1[] = "{\n"
                                "  \"id\": \"43e4feaab48f11e89039fa163ebaa7e4br02\",\n"
                                "  \"name\": \"backup-test-2\",\n"
                                "  \"instance_id\": \"43e4feaab48f11e89039fa163ebaa7e4br02\",\n"
                                "  \"instance_name\": \"cluster-test\",\n"
                                "  \"datastore\": {\n"
                                "    \"type\": \"cassandra\",\n"
                                "    \"version\": \"3.4\"\n"
                                "  },\n"
                                "  \"type\": \"Manual\",\n"
                                "  \"begin_time\": \"2019-05-27T03:38:51+0000\",\n"
                                "  \"end_time\": \"2019-05-27T03:39:51+0000\",\n"
                                "  \"status\": \"COMPLETED\",\n"
                                "  \"size\": 2803,\n"
                                "  \"description\": \"backup description\",\n"
                                "  \"database_tables\": [\n"
                                "    {\n"
                                "      \"database_name\": \"DATABASE_X\",\n"
                                "      \"table_names\": [\n"
                                "        \"TABLE_A\",\n"
                                "        \"TABLE_B\",\n"
                                "        \"TABLE_C\"\n"
                                "      ]\n"
                                "    },\n"
                                "    {\n"
                                "      \"database_name\": \"DATABASE_Y\",\n"
                                "      \"table_names\": null\n"
                                "    }\n"
                                "  ]\n"
                                "}\n";

static const char seed002_0[] = "{\n"
                                "  \"id\": \"c131f9339****5cdebe350228br09\",\n"
                                "  \"name\": \"Backup\",\n"
                                "  \"description\": \"auto metadata backup\",\n"
                                "  \"status\": \"normal\",\n"
                                "  \"instance_id\": \"169f4f2fd6****04385a18ain09\",\n"
                                "  \"instance_name\": \"ddm-test\",\n"
                                "  \"instance_status\": \"normal\",\n"
                                "  \"file_size\": 5.419922,\n"
                                "  \"created\": \"2025-02-19T02:50:20+0000\",\n"
                                "  \"updated\": \"2025-02-19T02:50:37+0000\",\n"
                                "  \"backup_type\": \"auto_metadata\"\n"
                                "}\n";

static void check_seed(const char *file, const char *const *expected, guint n_expected)
{
    gsize len;
    g_autofree char *text = read_seed(file, &len);
    g_autoptr(GPtrArray) slices = backup_slices(text);

    assert_int_equal(slices->len, n_expected);
    for (guint i = 0; i < slices->len; i++) {
        const char *in = g_ptr_array_index(slices, i);
        assert_renders(in, strlen(in), expected[i]);
    }
}

static void test_seed_000(void **state)
{
    const char *const expected[] = {seed000_0};
    check_seed("seed-000-taurusdb-backups.json", expected, 1);
}

static void test_seed_001(void **state)
{
    const char *const expected[] = {seed001_0, seed001_1};
    check_seed("seed-001-geminidb-backups.json", expected, 2);
}

static void test_seed_002(void **state)
{
    const char *const expected[] = {seed002_0};
    check_seed("seed-002-ddm-backups.json", expected, 1);
}

/* json-c's view of a text: FALSE when it does not parse ("null" parses to NULL). */
static gboolean jsonc_parse(const char *text, json_object **obj)
{
    enum json_tokener_error jerr;

    *obj = json_tokener_parse_verbose(text, &jerr);
    return jerr == json_tokener_success;
}

/* Rendering is a fixed point (render(render(x)) == render(x)) and keeps the value (json-c
 * parses input and output to equal trees), for every whole seed document. */
static void test_seed_documents_roundtrip(void **state)
{
    static const char *const files[] = {"seed-000-taurusdb-backups.json",
                                        "seed-001-geminidb-backups.json",
                                        "seed-002-ddm-backups.json"};

    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        gsize len;
        g_autofree char *text = read_seed(files[i], &len);
        g_autofree char *once = render_str(text, len);
        g_autofree char *twice = render_str(once, strlen(once));
        json_object *a, *b;

        assert_true(jsonc_parse(text, &a));
        assert_true(jsonc_parse(once, &b));
        assert_string_equal(once, twice);
        assert_non_null(a);
        assert_true(json_object_equal(a, b));
        json_object_put(a);
        json_object_put(b);
    }
}

/* ---- random values: the output always parses to the same value ---------------------- */

static void random_string(GRand *rnd, GString *s)
{
    static const char *const pieces[] = {
        "a",   "Z",       " ",           "\\\"",     "\\\\",           "\\/",
        "\\n", "\\u0001", "\\u00fc",     "\303\274", "\\ud83d\\ude00", "\t",
        "/",   "\\u007f", "\342\202\254"};
    int n = g_rand_int_range(rnd, 0, 8);

    g_string_append_c(s, '"');
    for (int i = 0; i < n; i++)
        g_string_append(s, pieces[g_rand_int_range(rnd, 0, G_N_ELEMENTS(pieces))]);
    g_string_append_c(s, '"');
}

static void random_ws(GRand *rnd, GString *s)
{
    static const char *const ws[] = {"", "", " ", "\n", "\t", "\r\n  "};
    g_string_append(s, ws[g_rand_int_range(rnd, 0, G_N_ELEMENTS(ws))]);
}

static void random_value(GRand *rnd, GString *s, int depth)
{
    static const char *const scalars[] = {"0",    "-0",    "1",    "-17",
                                          "3.25", "1e3",   "2E-2", "1.5e+7",
                                          "true", "false", "null", "123456789012345678"};
    int kind = g_rand_int_range(rnd, 0, depth > 5 ? 2 : 4);
    int n = g_rand_int_range(rnd, 0, 5);

    switch (kind) {
    case 0:
        g_string_append(s, scalars[g_rand_int_range(rnd, 0, G_N_ELEMENTS(scalars))]);
        return;
    case 1:
        random_string(rnd, s);
        return;
    case 2:
        g_string_append_c(s, '[');
        for (int i = 0; i < n; i++) {
            random_ws(rnd, s);
            if (i)
                g_string_append_c(s, ',');
            random_ws(rnd, s);
            random_value(rnd, s, depth + 1);
        }
        random_ws(rnd, s);
        g_string_append_c(s, ']');
        return;
    default:
        g_string_append_c(s, '{');
        for (int i = 0; i < n; i++) {
            if (i)
                g_string_append_c(s, ',');
            random_ws(rnd, s);
            g_string_append_printf(s, "\"k%d\"", i);
            random_ws(rnd, s);
            g_string_append_c(s, ':');
            random_ws(rnd, s);
            random_value(rnd, s, depth + 1);
        }
        random_ws(rnd, s);
        g_string_append_c(s, '}');
        return;
    }
}

static void test_random_roundtrip(void **state)
{
    g_autoptr(GRand) rnd = g_rand_new_with_seed(20260104);

    for (int i = 0; i < 2000; i++) {
        GString *in = g_string_new(NULL);
        random_value(rnd, in, 0);
        g_autofree char *once = render_str(in->str, in->len);
        g_autofree char *twice = render_str(once, strlen(once));
        json_object *a, *b;
        gboolean ok_a = jsonc_parse(in->str, &a), ok_b = jsonc_parse(once, &b);

        assert_string_equal(once, twice);
        if (!ok_a || !ok_b || !json_object_equal(a, b))
            fail_msg("value changed:\n%s\n->\n%s", in->str, once);
        /* one member or element per line: no line ends with '{' or '[' followed by a value
         * on the same line, and every line is indented by an even number of spaces */
        for (const char *line = once; *line;) {
            const char *nl = strchr(line, '\n');
            gsize sp = strspn(line, " ");
            assert_non_null(nl);
            assert_int_equal(sp % 2, 0);
            line = nl + 1;
        }
        json_object_put(a);
        json_object_put(b);
        g_string_free(in, TRUE);
    }
}

/* ---- speed: the hot path of every listing ------------------------------------------- */

/* The text without whitespace outside strings: how most APIs send records. */
static char *compact(const char *text)
{
    GString *s = g_string_new(NULL);
    gboolean in_str = FALSE;

    for (const char *p = text; *p; p++) {
        if (in_str) {
            g_string_append_c(s, *p);
            if (*p == '\\')
                g_string_append_c(s, *++p);
            else if (*p == '"')
                in_str = FALSE;
        } else if (!g_ascii_isspace(*p)) {
            g_string_append_c(s, *p);
            in_str = *p == '"';
        }
    }
    return g_string_free(s, FALSE);
}

/* CPU time of this thread: a loaded machine stretches wall time, not the work measured. */
static gint64 thread_cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void time_renders(const char *what, const char *rec)
{
    const gsize rec_len = strlen(rec);
    const int n = 300000;
    gsize total = 0;
    gint64 t0 = thread_cpu_us();

    for (int i = 0; i < n; i++) {
        GBytes *out = dbb_render_json(rec, rec_len, NULL);
        assert_non_null(out);
        total += g_bytes_get_size(out);
        g_bytes_unref(out);
    }
    gint64 us = thread_cpu_us() - t0;
    print_message("%s: rendered %d records (%" G_GSIZE_FORMAT " bytes in, %" G_GSIZE_FORMAT
                  " bytes out) in %.3f s of CPU\n",
                  what, n, rec_len * n, total, us / 1e6);
    /* a generous bound (sanitiser builds are several times slower): the point is to catch
     * an accidental quadratic or per-byte allocation, not to benchmark */
    assert_true(us < 20 * G_USEC_PER_SEC);
}

static void test_speed(void **state)
{
    gsize len;
    g_autofree char *text = read_seed("seed-001-geminidb-backups.json", &len);
    g_autoptr(GPtrArray) slices = backup_slices(text);
    const char *pretty = g_ptr_array_index(slices, 0);
    g_autofree char *compacted = compact(pretty);
    g_autofree char *a = render_str(pretty, strlen(pretty));
    g_autofree char *b = render_str(compacted, strlen(compacted));

    assert_string_equal(a, b);
    time_renders("seed 001 record as sent", pretty);
    time_renders("seed 001 record compacted", compacted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_cases),     cmocka_unit_test(test_lenient_cases),
        cmocka_unit_test(test_deep_but_allowed), cmocka_unit_test(test_too_deep),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_error_null_gerror),
        cmocka_unit_test(test_seed_000),         cmocka_unit_test(test_seed_001),
        cmocka_unit_test(test_seed_002),         cmocka_unit_test(test_seed_documents_roundtrip),
        cmocka_unit_test(test_random_roundtrip), cmocka_unit_test(test_speed),
        cmocka_unit_test(test_rendering_capped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
