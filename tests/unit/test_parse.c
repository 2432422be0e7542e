/*
 * Unit tests of the record and page parsers (api/services.c, jsonutil.c, rawjson.c,
 * iam.c, model.c): the seed examples field by field with byte-exact raw spans, and hostile
 * records and pages — numbers as strings and strings as numbers, missing fields, wrong
 * types, duplicate IDs, lying totals, empty pages, truncated JSON, unicode and escapes, a
 * huge integer, deep nesting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "api/client_internal.h"
#include "api/error.h"
#include "api/jsonutil.h"
#include "api/paginate.h"
#include "api/rawjson.h"
#include "api/service_ops.h"

/* ---- helpers ---- */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* Parse as the http layer does: strict, depth 64. */
static json_object *parse_strict(const char *text)
{
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *obj;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)strlen(text));
    if (json_tokener_get_error(tok) != json_tokener_success)
        g_clear_pointer(&obj, json_object_put);
    json_tokener_free(tok);
    return obj;
}

static char *read_seed(const char *name)
{
    const char *root = g_getenv("DBB_SOURCE_ROOT");
    g_autofree char *path =
        g_build_filename(root != NULL ? root : ".", "tests", "data", name, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("seed example %s is missing", path);
    return text;
}

static gboolean text_fetch(gpointer data, guint64 offset, guint limit, DbbPage *page,
                           GError **error)
{
    const char *text = data;

    page->json = parse_strict(text);
    page->body = g_bytes_new(text, strlen(text));
    return TRUE;
}

/* A whole listing of `service` served by one page of text (the backup table or the instance
 * table). */
static GPtrArray *list_text(const DbbService *service, gboolean backups, const char *text,
                            const char *listed_instance_id, GError **error)
{
    DbbParseContext ctx = {.service = service, .listed_instance_id = listed_instance_id};
    const DbbListingTable *table = backups ? &service->ops->backups[0] : &service->ops->instances;
    DbbPaginateSpec spec;

    dbb_service_spec_init(&spec, service, table, backups, &ctx);
    spec.path = "/test";
    spec.max_conns = 2;
    spec.fetch = text_fetch;
    spec.fetch_data = (gpointer)text;
    return dbb_paginate(&spec, error);
}

/* The text from the first occurrence of `from` through the first `to` after it. */
static char *between(const char *text, const char *from, const char *to)
{
    const char *start = strstr(text, from);
    const char *end;

    assert_non_null(start);
    end = strstr(start, to);
    assert_non_null(end);
    return g_strndup(start, end + strlen(to) - start);
}

static DbbBackup *backup_from(const DbbService *service, const char *raw, const char *listed)
{
    g_autoptr(json_object) obj = parse_strict(raw);

    assert_non_null(obj);
    return dbb_service_parse_backup(service, obj, raw, strlen(raw), listed);
}

static DbbInstance *instance_from(const DbbService *service, const char *raw)
{
    g_autoptr(json_object) obj = parse_strict(raw);

    assert_non_null(obj);
    return dbb_service_parse_instance(service, obj, raw, strlen(raw));
}

/* ---- seeds ---- */

static void test_seed_taurusdb(void **state)
{
    g_autofree char *text = read_seed("seed-000-taurusdb-backups.json");
    g_autofree char *element = between(text, "{\n    \"id\" :", "\"UTC+08:00\"\n  }");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list =
        list_text(&dbb_service_taurusdb, TRUE, text, "instance-123", &error);
    DbbBackup *b;

    assert_null(error);
    assert_int_equal(list->len, 1);
    b = g_ptr_array_index(list, 0);
    assert_string_equal(b->id, "backup-001");
    assert_string_equal(b->name, "daily-backup-20231101");
    assert_string_equal(b->instance_id, "instance-123");
    assert_string_equal(b->instance_name, "prod-db");
    assert_string_equal(b->status, "COMPLETED");
    assert_int_equal(b->start_time, 1767519030);  /* 2026-01-04 17:30:30 UTC+08:00 */
    assert_int_equal(b->finish_time, 1767519264); /* 2026-01-04 17:34:24 UTC+08:00 */
    assert_int_equal(b->size_bytes, 76251136);    /* "74464.0" KB */
    assert_int_equal(b->raw_len, strlen(element));
    assert_string_equal(b->raw, element);
}

static void test_seed_geminidb(void **state)
{
    g_autofree char *text = read_seed("seed-001-geminidb-backups.json");
    g_autofree char *first = between(text, "{\n    \"id\" : \"43e4feaab48f11e89039fa163ebaa7e4br01",
                                     "\"table_names\" : null\n    } ]\n  }");
    const char *second_start =
        strstr(text, "{\n    \"id\" : \"43e4feaab48f11e89039fa163ebaa7e4br02");
    g_autofree char *second = NULL;
    g_autoptr(GError) error = NULL;
    /* total_count says 4 while the page holds 2 (the example was offset=2&limit=2): a
     * warning, and both records kept. */
    g_autoptr(GPtrArray) list = list_text(&dbb_service_geminidb, TRUE, text, NULL, &error);

    assert_non_null(second_start);
    second = between(second_start, "{", "\"table_names\" : null\n    } ]\n  }");
    assert_null(error);
    assert_int_equal(list->len, 2);
    for (guint i = 0; i < 2; i++) {
        DbbBackup *b = g_ptr_array_index(list, i);
        const char *id = i == 0 ? "43e4feaab48f11e89039fa163ebaa7e4br01"
                                : "43e4feaab48f11e89039fa163ebaa7e4br02";
        assert_string_equal(b->id, id);
        assert_string_equal(b->name, i == 0 ? "backup-test" : "backup-test-2");
        /* Two deleted instances sharing one name: told apart by instance_id. */
        assert_string_equal(b->instance_id, id);
        assert_string_equal(b->instance_name, "cluster-test");
        assert_string_equal(b->status, "COMPLETED");
        assert_int_equal(b->start_time, 1558928331);  /* 2019-05-27T03:38:51+0000 */
        assert_int_equal(b->finish_time, 1558928391); /* 2019-05-27T03:39:51+0000 */
        assert_int_equal(b->size_bytes, 2803 * 1024);
        assert_string_equal(b->raw, i == 0 ? first : second);
        assert_int_equal(b->raw_len, strlen(b->raw));
    }
}

static void test_seed_ddm(void **state)
{
    g_autofree char *text = read_seed("seed-002-ddm-backups.json");
    g_autofree char *element = between(text, "{\n      \"id\"", "\"auto_metadata\"\n    }");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = list_text(&dbb_service_ddm, TRUE, text, NULL, &error);
    DbbBackup *b;

    assert_null(error);
    assert_int_equal(list->len, 1);
    b = g_ptr_array_index(list, 0);
    assert_string_equal(b->id, "c131f9339****5cdebe350228br09");
    assert_string_equal(b->name, "Backup");
    assert_string_equal(b->instance_id, "169f4f2fd6****04385a18ain09");
    assert_string_equal(b->instance_name, "ddm-test");
    assert_string_equal(b->status, "normal");
    assert_int_equal(b->start_time, 1739933420);  /* 2025-02-19T02:50:20+0000 */
    assert_int_equal(b->finish_time, 1739933437); /* 2025-02-19T02:50:37+0000 */
    assert_int_equal(b->size_bytes, 5550);        /* 5.419922 KB, rounded */
    assert_string_equal(b->raw, element);
    assert_non_null(strstr(b->raw, "\"file_size\": 5.419922,"));
}

/* ---- records ---- */

static void test_numbers_and_strings(void **state)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(dbb_backup_free);
    DbbBackup *b;

    /* Strings as numbers: each a number's exact text. */
    b = backup_from(&dbb_service_taurusdb,
                    "{\"id\": 123, \"name\": 20260101, \"instance_id\": 7, \"instance_name\": "
                    "-0, \"status\": 1.50, \"size\": \"1.5\", \"size_unit\": \"MB\"}",
                    NULL);
    g_ptr_array_add(keep, b);
    assert_string_equal(b->id, "123");
    assert_string_equal(b->name, "20260101");
    assert_string_equal(b->instance_id, "7");
    assert_string_equal(b->instance_name, "-0");
    assert_string_equal(b->status, "1.50");
    assert_int_equal(b->size_bytes, 1572864);
    /* A name too big for any C integer keeps its text. */
    b = backup_from(&dbb_service_ddm,
                    "{\"id\": \"x\", \"name\": 12345678901234567890123, \"file_size\": 2}", NULL);
    g_ptr_array_add(keep, b);
    assert_string_equal(b->name, "12345678901234567890123");
    assert_int_equal(b->size_bytes, 2048);
    /* Numbers as strings, in every numeric field. */
    b = backup_from(&dbb_service_geminidb,
                    "{\"id\": \"g\", \"size\": \" 74464.0 \", \"begin_time\": "
                    "\"2019-05-27T03:38:51+0000\"}",
                    NULL);
    g_ptr_array_add(keep, b);
    assert_int_equal(b->size_bytes, 74464 * 1024);
    assert_int_equal(b->start_time, 1558928331);
    assert_int_equal(b->finish_time, 0);
}

static void test_missing_and_wrong_types(void **state)
{
    const char *empty = "{}";
    const char *wrong = "{\"id\": {\"a\": 1}, \"name\": {\"first\": \"x\"}, \"instance_id\": [1], "
                        "\"instance_name\": true, \"status\": null, \"size\": false, "
                        "\"created\": 20260104, \"updated\": [\"2026-01-04 17:30:30\"], "
                        "\"time_zone\": 8}";
    g_autofree char *sha_empty = g_compute_checksum_for_string(G_CHECKSUM_SHA256, empty, -1);
    g_autofree char *sha_wrong = g_compute_checksum_for_string(G_CHECKSUM_SHA256, wrong, -1);
    g_autofree char *id_empty = g_strconcat("sha256:", sha_empty, NULL);
    g_autofree char *id_wrong = g_strconcat("sha256:", sha_wrong, NULL);
    DbbBackup *b;

    b = backup_from(&dbb_service_taurusdb, empty, "listed-in07");
    assert_string_equal(b->id, id_empty);
    assert_null(b->name);
    assert_string_equal(b->instance_id, "listed-in07"); /* the listing knows it */
    assert_null(b->instance_name);
    assert_null(b->status);
    assert_int_equal(b->start_time, 0);
    assert_int_equal(b->finish_time, 0);
    assert_int_equal(b->size_bytes, -1);
    assert_string_equal(b->raw, "{}");
    dbb_backup_free(b);

    b = backup_from(&dbb_service_taurusdb, wrong, NULL);
    assert_string_equal(b->id, id_wrong);
    assert_null(b->name);
    assert_null(b->instance_id);
    assert_null(b->instance_name);
    assert_null(b->status);
    assert_int_equal(b->start_time, 0);
    assert_int_equal(b->finish_time, 0);
    assert_int_equal(b->size_bytes, -1);
    dbb_backup_free(b);

    /* Empty strings: no ID (synthetic), no instance; an empty name is the name "". */
    b = backup_from(&dbb_service_ddm, "{\"id\": \"\", \"name\": \"\", \"instance_id\": \"\"}",
                    NULL);
    assert_true(g_str_has_prefix(b->id, "sha256:"));
    assert_string_equal(b->name, "");
    assert_null(b->instance_id);
    dbb_backup_free(b);
}

static void test_sizes(void **state)
{
    const struct {
        const char *record;
        gint64 bytes;
    } cases[] = {
        {"{\"id\": \"a\", \"size\": \"10\", \"size_unit\": \"B\"}", 10},
        {"{\"id\": \"a\", \"size\": \"10\", \"size_unit\": \"kb\"}", 10240},
        {"{\"id\": \"a\", \"size\": 2, \"size_unit\": \"GB\"}", G_GINT64_CONSTANT(2147483648)},
        {"{\"id\": \"a\", \"size\": 2}", 2048},                      /* default KB */
        {"{\"id\": \"a\", \"size\": 2, \"size_unit\": \"\"}", 2048}, /* empty: default */
        {"{\"id\": \"a\", \"size\": 2, \"size_unit\": \"PB\"}", -1}, /* unknown unit */
        {"{\"id\": \"a\", \"size\": -2}", -1},
        {"{\"id\": \"a\", \"size\": \"abc\"}", -1},
        {"{\"id\": \"a\", \"size\": \"0x10\"}", -1},
        {"{\"id\": \"a\", \"size\": \"NaN\"}", -1},
        {"{\"id\": \"a\", \"size\": 1e300}", -1},
        {"{\"id\": \"a\", \"size\": 0.0004}", 0},
        {"{\"id\": \"a\", \"size\": 12345678901234567890123}", -1},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        DbbBackup *b = backup_from(&dbb_service_taurusdb, cases[i].record, NULL);
        if (b->size_bytes != cases[i].bytes)
            fail_msg("%s: %" G_GINT64_FORMAT, cases[i].record, b->size_bytes);
        dbb_backup_free(b);
    }
}

static void test_taurusdb_zones(void **state)
{
    const struct {
        const char *zone;
        gint64 start;
    } cases[] = {
        {"\"UTC+08:00\"", 1767519030}, {"\"UTC-05:30\"", 1767567630}, {"\"GMT+8\"", 1767519030},
        {"\"UTC\"", 1767547830},       {"null", 1767547830},          {"\"\"", 1767547830},
        {"\"Mars/Olympus\"", 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strdup_printf(
            "{\"id\": \"a\", \"created\": \"2026-01-04 17:30:30\", \"time_zone\": %s}",
            cases[i].zone);
        DbbBackup *b = backup_from(&dbb_service_taurusdb, raw, NULL);
        assert_int_equal(b->start_time, cases[i].start);
        dbb_backup_free(b);
    }
    /* An offset in the string beats the record's zone. */
    DbbBackup *b = backup_from(&dbb_service_taurusdb,
                               "{\"id\": \"a\", \"created\": \"2026-01-04T17:30:30Z\", "
                               "\"time_zone\": \"UTC+08:00\"}",
                               NULL);
    assert_int_equal(b->start_time, 1767547830);
    dbb_backup_free(b);
}

static void test_unicode_and_escapes(void **state)
{
    const char *raw = "{\"id\": \"u1\", \"name\": \"Z\\u00fcrich \xe5\xa4\x87\xe4\xbb\xbd "
                      "\\u2603 a\\\"b\\\\c\\/d\\ud83d\\ude00\", \"instance_name\": "
                      "\"x\\u0000y\\n\"}";
    DbbBackup *b = backup_from(&dbb_service_ddm, raw, NULL);

    assert_string_equal(b->name, "Z\xc3\xbcrich \xe5\xa4\x87\xe4\xbb\xbd \xe2\x98\x83 "
                                 "a\"b\\c/d\xf0\x9f\x98\x80");
    /* NUL cannot live in a C string; it becomes what the naming rules make of it. */
    assert_string_equal(b->instance_name, "x_y\n");
    /* The raw text keeps every escape as sent. */
    assert_string_equal(b->raw, raw);
    dbb_backup_free(b);
}

static void test_instances(void **state)
{
    const struct {
        const DbbService *service;
        const char *raw;
        const char *id, *name;
        gint64 mtime;
    } cases[] = {
        {&dbb_service_taurusdb,
         "{\"id\": \"61a4in07\", \"name\": \"gaussdb-mysql-instance01\", \"port\": 3306, "
         "\"created\": \"2022-07-14T16:26:58+0800\", \"updated\": \"2022-07-18T14:20:33+0800\", "
         "\"time_zone\": \"UTC\"}",
         "61a4in07", "gaussdb-mysql-instance01", 1658125233},
        /* The malformed doc example: updated unparsable, created used. */
        {&dbb_service_taurusdb,
         "{\"id\": \"i2\", \"name\": 42, \"created\": \"2022-07-14T16:26:58+0800\", "
         "\"updated\": \"2018-08-20T02:33:49_0800\"}",
         "i2", "42", 1657787218},
        {&dbb_service_geminidb,
         "{\"id\": \"g1\", \"name\": \"c\", \"created\": \"2019-01-17T07:05:52\"}", "g1", "c",
         1547708752},
        {&dbb_service_ddm,
         "{\"id\": \"d1\", \"name\": null, \"created\": \"2020-10-23T07:52:46+0000\"}", "d1", NULL,
         1603439566},
        {&dbb_service_ddm, "{\"id\": \"d2\", \"name\": [\"x\"]}", "d2", NULL, 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        DbbInstance *inst = instance_from(cases[i].service, cases[i].raw);
        assert_string_equal(inst->id, cases[i].id);
        if (cases[i].name == NULL)
            assert_null(inst->name);
        else
            assert_string_equal(inst->name, cases[i].name);
        assert_int_equal(inst->mtime, cases[i].mtime);
        dbb_instance_free(inst);
    }
    DbbInstance *inst = instance_from(&dbb_service_ddm, "{\"name\": \"no id\"}");
    assert_true(g_str_has_prefix(inst->id, "sha256:"));
    assert_string_equal(inst->name, "no id");
    dbb_instance_free(inst);
}

/* ---- pages ---- */

static void test_page_hostile(void **state)
{
    const struct {
        const char *text;
        int n; /* -1: the listing fails with EIO */
    } cases[] = {
        {"{\"backups\": [], \"total\": 0}", 0},
        {"{\"total\": 0}", 0},
        {"{\"backups\": [], \"total\": 5}", 0}, /* empty page, a total that lies high */
        {"{\"backups\": [{\"id\": \"a\"}], \"total\": -3}", 1},
        {"{\"backups\": [{\"id\": \"a\"}], \"total\": \"1\"}", 1},
        {"{\"backups\": [{\"id\": \"a\"}]}", 1},
        {"{\"backups\": {\"id\": \"a\"}, \"total\": 1}", -1},
        {"{\"backups\": [\"a\"], \"total\": 1}", -1},
        {"{\"backups\": [{\"id\": \"a\"}, null], \"total\": 2}", -1},
        {"{\"total\": 1}", -1},
        {"{\"backups\": [{\"id\": \"a\"}], \"total\": 1", -1}, /* truncated: json-c refuses */
        {"{\"backups\": [{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"a\", \"v\": 2}], "
         "\"total\": 3}",
         2},
        {"[]", -1},
        {"null", -1},
        {"", -1},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = list_text(&dbb_service_ddm, TRUE, cases[i].text, NULL, &error);
        if (cases[i].n < 0) {
            if (list != NULL)
                fail_msg("case %zu accepted", i);
            assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
            assert_non_null(strstr(error->message, "ddm: GET /test"));
        } else {
            if (list == NULL)
                fail_msg("case %zu: %s", i, error->message);
            assert_int_equal(list->len, cases[i].n);
        }
    }
}

/* Duplicate IDs on one page: one entry at the first position, the later version. */
static void test_page_duplicates(void **state)
{
    const char *text = "{\"backups\": [{\"id\": \"a\", \"v\": 1}, {\"id\": \"b\"}, "
                       "{\"id\": \"a\", \"v\": 2}], \"total\": 3}";
    g_autoptr(GPtrArray) list = list_text(&dbb_service_ddm, TRUE, text, NULL, NULL);

    assert_int_equal(list->len, 2);
    assert_string_equal(((DbbBackup *)list->pdata[0])->raw, "{\"id\": \"a\", \"v\": 2}");
    assert_string_equal(((DbbBackup *)list->pdata[1])->id, "b");
}

static void test_page_huge_and_deep(void **state)
{
    GString *deep = g_string_new("{\"backups\": [{\"id\": \"deep\", \"x\": ");
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *element = NULL;
    const char *huge = "{\"backups\": [{\"id\": \"h\", \"n\": 12345678901234567890123, \"m\": "
                       "-0, \"f\": 1.0e+2}], \"total\": 1}";

    list = list_text(&dbb_service_ddm, TRUE, huge, NULL, &error);
    assert_null(error);
    assert_string_equal(((DbbBackup *)list->pdata[0])->raw,
                        "{\"id\": \"h\", \"n\": 12345678901234567890123, \"m\": -0, \"f\": "
                        "1.0e+2}");
    g_clear_pointer(&list, g_ptr_array_unref);

    /* 25 levels of [{ (depth 53): within what the http layer's parser accepts (64); the raw
     * text is intact. */
    for (int i = 0; i < 25; i++)
        g_string_append(deep, "[{\"k\": ");
    g_string_append(deep, "\"]}\"");
    for (int i = 0; i < 25; i++)
        g_string_append(deep, "}]");
    g_string_append(deep, "}], \"total\": 1}");
    list = list_text(&dbb_service_ddm, TRUE, deep->str, NULL, &error);
    assert_null(error);
    assert_int_equal(list->len, 1);
    element = g_strndup(deep->str + strlen("{\"backups\": ["),
                        deep->len - strlen("{\"backups\": [") - strlen("], \"total\": 1}"));
    assert_string_equal(((DbbBackup *)list->pdata[0])->raw, element);
    g_clear_pointer(&list, g_ptr_array_unref);

    /* Deeper than any JSON parser should accept: the page is refused, nothing crashes. */
    g_string_truncate(deep, strlen("{\"backups\": [{\"id\": \"deep\", \"x\": "));
    for (int i = 0; i < 5000; i++)
        g_string_append_c(deep, '[');
    for (int i = 0; i < 5000; i++)
        g_string_append_c(deep, ']');
    g_string_append(deep, "}], \"total\": 1}");
    list = list_text(&dbb_service_ddm, TRUE, deep->str, NULL, &error);
    assert_null(list);
    assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
    g_string_free(deep, TRUE);
}

/* ---- rawjson and jsonutil ---- */

static void test_rawjson(void **state)
{
    const char *text = " { \"a\\u0062\" : [ 1 , \"x]\\\"\" , {\"c\": [2]} , -0.5e3, true ] ,"
                       " \"n\": null, \"ab\": [7] } \n";
    g_autoptr(GArray) spans = NULL;
    const char *why = NULL;
    DbbSpan span;
    GString *nested;

    /* "a\u0062" is "ab" too: the last occurrence wins, as in json-c. */
    assert_true(dbb_rawjson_array_spans(text, strlen(text), "ab", &spans, &why));
    assert_int_equal(spans->len, 1);
    assert_int_equal(g_array_index(spans, DbbSpan, 0).length, 1);
    assert_true(dbb_rawjson_member_span(text, strlen(text), "n", &span));
    assert_int_equal(span.length, 4);
    assert_memory_equal(text + span.offset, "null", 4);
    assert_false(dbb_rawjson_member_span(text, strlen(text), "zz", &span));

    const char *t2 = "{\"a\": [ 1 , \"x]\\\"\" , {\"c\": [2]} , -0.5e3, true ]}";
    const char *expect[] = {"1", "\"x]\\\"\"", "{\"c\": [2]}", "-0.5e3", "true"};
    g_clear_pointer(&spans, g_array_unref);
    assert_true(dbb_rawjson_array_spans(t2, strlen(t2), "a", &spans, &why));
    assert_int_equal(spans->len, G_N_ELEMENTS(expect));
    for (guint i = 0; i < spans->len; i++) {
        DbbSpan *s = &g_array_index(spans, DbbSpan, i);
        assert_int_equal(s->length, strlen(expect[i]));
        assert_memory_equal(t2 + s->offset, expect[i], s->length);
    }

    const char *bad[] = {
        "",
        "[]",
        "{\"a\": [1,]}",
        "{\"a\": [1 2]}",
        "{\"a\": [}",
        "{\"a\": [1]",
        "{\"a\": [1]} x",
        "{\"a\": \"[1]\"}",
        "{\"a\": [{]}",
        "{\"a\": [\"]}",
        "{\"b\": [1]}",
        "{\"a\" [1]}",
        "{a: [1]}",
        "{\"a\": [1]]}",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GArray) none = NULL;
        why = NULL;
        if (dbb_rawjson_array_spans(bad[i], strlen(bad[i]), "a", &none, &why))
            fail_msg("accepted: %s", bad[i]);
        assert_null(none);
        assert_non_null(why);
    }
    /* An embedded NUL is not a scalar character. */
    g_clear_pointer(&spans, g_array_unref);
    assert_false(
        dbb_rawjson_array_spans("{\"a\": [1\0]}", sizeof("{\"a\": [1\0]}") - 1, "a", &spans, &why));

    /* 200000 levels of nesting: no recursion, no crash. */
    nested = g_string_new("{\"a\": [");
    for (int i = 0; i < 200000; i++)
        g_string_append_c(nested, '[');
    for (int i = 0; i < 200000; i++)
        g_string_append_c(nested, ']');
    g_string_append(nested, "]}");
    g_clear_pointer(&spans, g_array_unref);
    assert_true(dbb_rawjson_array_spans(nested->str, nested->len, "a", &spans, &why));
    assert_int_equal(spans->len, 1);
    g_string_truncate(nested, nested->len - 3); /* unbalanced */
    g_clear_pointer(&spans, g_array_unref);
    assert_false(dbb_rawjson_array_spans(nested->str, nested->len, "a", &spans, &why));
    g_string_free(nested, TRUE);
}

static void test_jsonutil(void **state)
{
    const char *numbers[] = {"0",    "-0",      "74464.0", "5.419922", "1e3",
                             "1E+3", "-2.5e-3", " 42 ",    "+7",       "12345678901234567890123"};
    const char *not_numbers[] = {"",     " ",   "-",   "01",  "1.",  ".5",  "1e",
                                 "0x10", "NaN", "inf", "1,5", "12a", "- 1", "++1"};
    g_autoptr(json_object) obj = parse_strict(
        "{\"i\": 4, \"d\": 4.0, \"s\": \"4\", \"sd\": \" 4.0 \", \"f\": 4.5, \"neg\": -3,"
        " \"big\": 12345678901234567890123, \"bigs\": \"99999999999999999999\", \"b\": true,"
        " \"o\": {}, \"a\": [], \"n\": null, \"e\": \"\"}");
    const char *ints_ok[] = {"i", "d", "s", "sd", "neg"};
    const char *ints_bad[] = {"f", "big", "bigs", "b", "o", "a", "n", "e", "missing"};
    gint64 v;
    double d;

    for (gsize i = 0; i < G_N_ELEMENTS(numbers); i++)
        assert_true(dbb_json_text_is_number(numbers[i], strlen(numbers[i])));
    for (gsize i = 0; i < G_N_ELEMENTS(not_numbers); i++)
        if (dbb_json_text_is_number(not_numbers[i], strlen(not_numbers[i])))
            fail_msg("\"%s\" read as a number", not_numbers[i]);
    for (gsize i = 0; i < G_N_ELEMENTS(ints_ok); i++) {
        assert_true(dbb_json_get_int64(obj, ints_ok[i], &v));
        assert_int_equal(v, strcmp(ints_ok[i], "neg") == 0 ? -3 : 4);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(ints_bad); i++)
        if (dbb_json_get_int64(obj, ints_bad[i], &v))
            fail_msg("\"%s\" read as an integer", ints_bad[i]);
    assert_true(dbb_json_get_double(obj, "f", &d));
    assert_true(d == 4.5);
    assert_true(dbb_json_get_double(obj, "sd", &d));
    assert_true(d == 4.0);
    assert_false(dbb_json_get_double(obj, "b", &d));
    assert_false(dbb_json_get_double(obj, "e", &d));
    assert_false(dbb_json_get_double(NULL, "i", &d));
}

/* ---- IAM, services, paths, model ---- */

static void test_iam_projects(void **state)
{
    g_autoptr(json_object) body =
        parse_strict("{\"links\": {}, \"projects\": ["
                     "{\"id\": \"p1\", \"name\": \"ap-southeast-1\"},"
                     "{\"id\": \"mos\", \"name\": \"MOS\"},"
                     "{\"id\": \"p2\", \"name\": \"cn-north-4_dev\"},"
                     "{\"id\": \"p3\", \"name\": \"\"},"
                     "{\"name\": \"no-id\"},"
                     "7,"
                     "{\"id\": \"p4\", \"name\": \"mos\"},"
                     "{\"id\": \"p1\", \"name\": \"ap-southeast-1_renamed\"}]}");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) projects = dbb_iam_parse_projects(body, &error);
    const DbbProject *p;

    assert_null(error);
    assert_int_equal(projects->len, 4);
    p = projects->pdata[0];
    assert_string_equal(p->id, "p1");
    assert_string_equal(p->name, "ap-southeast-1_renamed"); /* the later one */
    assert_string_equal(p->region, "ap-southeast-1");
    p = projects->pdata[1];
    assert_string_equal(p->region, "cn-north-4");
    p = projects->pdata[2];
    assert_string_equal(p->name, "");
    assert_null(p->region);
    p = projects->pdata[3];
    assert_string_equal(p->name, "mos"); /* only exactly "MOS" is IAM's own */

    g_autoptr(json_object) broken = parse_strict("{\"projects\": {}}");
    g_autoptr(GPtrArray) none = dbb_iam_parse_projects(broken, &error);
    assert_null(none);
    assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
}

static void test_services_table(void **state)
{
    const DbbService *const *all = dbb_services();

    static const char *const names[] = {"ddm", "dds", "gaussdb", "geminidb", "rds", "taurusdb"};

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        assert_non_null(all[i]);
        assert_string_equal(all[i]->name, names[i]);
        assert_ptr_equal(dbb_service_find(names[i]), all[i]);
    }
    assert_null(all[G_N_ELEMENTS(names)]);
    assert_ptr_equal(dbb_service_find("geminidb"), &dbb_service_geminidb);
    assert_null(dbb_service_find("mysql"));
    assert_null(dbb_service_find(NULL));
    assert_int_equal(dbb_service_taurusdb.backup_scope, DBB_BACKUPS_PER_INSTANCE);
    assert_int_equal(dbb_service_geminidb.backup_scope, DBB_BACKUPS_PER_PROJECT);
    assert_int_equal(dbb_service_ddm.backup_scope, DBB_BACKUPS_PER_PROJECT);
    assert_int_equal(dbb_service_taurusdb.ops->backups[0].limit, 100);
    assert_int_equal(dbb_service_geminidb.ops->instances.limit, 100);
    assert_int_equal(dbb_service_ddm.ops->backups[0].limit, 128);
    assert_int_equal(dbb_service_ddm.ops->instances.limit, 128);
    assert_int_equal(dbb_service_geminidb.ops->n_backups, 2);
    assert_string_equal(dbb_service_ddm.ops->instances.total_member, "total_record");
    /* The three of reference §10 (checked against the Go SDK): RDS lists backups per
     * instance with instance_id in the query; DDS and GaussDB project-wide; all page 100. */
    assert_int_equal(dbb_service_rds.backup_scope, DBB_BACKUPS_PER_INSTANCE);
    assert_string_equal(dbb_service_rds.ops->backups[0].path_template, "/v3/{project_id}/backups");
    assert_string_equal(dbb_service_rds.ops->backups[0].instance_query, "instance_id");
    assert_int_equal(dbb_service_dds.backup_scope, DBB_BACKUPS_PER_PROJECT);
    assert_int_equal(dbb_service_gaussdb.backup_scope, DBB_BACKUPS_PER_PROJECT);
    for (const DbbService *const *s =
             (const DbbService *const[]){&dbb_service_rds, &dbb_service_dds, &dbb_service_gaussdb,
                                         NULL};
         *s != NULL; s++) {
        assert_int_equal((*s)->ops->instances.limit, 100);
        assert_int_equal((*s)->ops->backups[0].limit, 100);
        assert_string_equal((*s)->ops->backups[0].total_member, "total_count");
        assert_null((*s)->ops->deleted_backups);
    }
    assert_string_equal(dbb_service_host_prefix(&dbb_service_gaussdb, "cn-north-4"),
                        "gaussdb-opengauss");
    assert_string_equal(dbb_service_ddm.ops->backups[0].total_member, "total");
}

static void test_path_segments(void **state)
{
    const char *ok[] = {"61a4ea66210545909d74a05c27a7179ein07", "a.b", "x y", "...", "é"};
    const char *bad[] = {"", ".", "..", "a/b", "a?b", "a#b", "a%2Fb", "a\nb", "\x7f"};

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++)
        assert_true(dbb_path_segment_ok(ok[i]));
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
        if (dbb_path_segment_ok(bad[i]))
            fail_msg("accepted segment \"%s\"", bad[i]);
    assert_false(dbb_path_segment_ok(NULL));
}

static void test_model(void **state)
{
    const struct {
        const char *name, *region;
    } cases[] = {
        {"ap-southeast-1", "ap-southeast-1"},
        {"ap-southeast-1_dev", "ap-southeast-1"},
        {"cn-north-4_a_b", "cn-north-4"},
        {"", NULL},
        {NULL, NULL},
        {"_x", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *region = dbb_region_from_project_name(cases[i].name);
        if (cases[i].region == NULL)
            assert_null(region);
        else
            assert_string_equal(region, cases[i].region);
    }
    g_autoptr(DbbProject) p = dbb_project_new("id", NULL, "r");
    g_autoptr(DbbProject) q = dbb_project_copy(p);
    assert_string_equal(q->id, "id");
    assert_null(q->name);
    assert_string_equal(q->region, "r");
    assert_null(dbb_project_copy(NULL));
}

/* ---- the services of reference §10, as the Go SDK's models have them ---- */

/* RDS BackupForList: begin_time/end_time with an offset, size an int64 of KB. */
static void test_rds_records(void **state)
{
    static const char page[] =
        "{\"backups\": [{\"id\": \"43e4feaab48f11e89039fa163ebaa7e4br01\", "
        "\"instance_id\": \"a48e43ff268f4c0e879652d65e63d0fbin01\", \"name\": \"rds-bk-01\", "
        "\"databases\": [{\"name\": \"orders\"}], "
        "\"begin_time\": \"2026-01-04T17:30:30+0800\", \"end_time\": \"2026-01-04T17:32:51+0800\", "
        "\"status\": \"COMPLETED\", \"type\": \"manual\", \"size\": 2048, "
        "\"datastore\": {\"type\": \"SQLServer\", \"version\": \"2019_SE\"}, "
        "\"associated_with_ddm\": false, \"min_data_volume_capacity_for_restore\": 40}, "
        "{\"id\": 7, \"name\": 20260101, \"begin_time\": \"2026-01-04 09:30:30Z\", "
        "\"end_time\": \"\", \"status\": \"BUILDING\", \"size\": \"2048\"}], "
        "\"total_count\": \"2\"}";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list =
        list_text(&dbb_service_rds, TRUE, page, "a48e43ff268f4c0e879652d65e63d0fbin01", &error);
    DbbBackup *b;

    assert_null(error);
    assert_int_equal(list->len, 2);
    b = list->pdata[0];
    assert_string_equal(b->instance_id, "a48e43ff268f4c0e879652d65e63d0fbin01");
    assert_null(b->instance_name); /* RDS records carry none */
    assert_int_equal(b->start_time, 1767519030);
    assert_int_equal(b->finish_time, 1767519171);
    assert_int_equal(b->size_bytes, 2048 * 1024);
    /* Lenient: an id and a name sent as numbers, a size as a string, Z and a space; a record
     * without instance_id belongs to the instance it was listed for. */
    b = list->pdata[1];
    assert_string_equal(b->id, "7");
    assert_string_equal(b->name, "20260101");
    assert_string_equal(b->instance_id, "a48e43ff268f4c0e879652d65e63d0fbin01");
    assert_int_equal(b->start_time, 1767519030);
    assert_int_equal(b->finish_time, 0);
    assert_int_equal(b->size_bytes, 2048 * 1024);
}

/* DDS BackupForList: "yyyy-mm-dd hh:mm:ss" in UTC without a zone, size an int64 of KB. */
static void test_dds_records(void **state)
{
    DbbBackup *b = backup_from(&dbb_service_dds,
                               "{\"id\": \"d1\", \"name\": \"dds-bk\", \"instance_id\": \"i1\", "
                               "\"instance_name\": \"mongo-1\", \"datastore\": {\"type\": "
                               "\"DDS-Community\", \"version\": \"4.0\"}, \"type\": \"Manual\", "
                               "\"begin_time\": \"2026-01-04 09:30:30\", \"end_time\": "
                               "\"2026-01-04 09:32:51\", \"status\": \"COMPLETED\", \"size\": 10, "
                               "\"description\": \"\"}",
                               NULL);

    assert_string_equal(b->instance_name, "mongo-1");
    assert_int_equal(b->start_time, 1767519030); /* UTC, not local time */
    assert_int_equal(b->finish_time, 1767519171);
    assert_int_equal(b->size_bytes, 10240);
    dbb_backup_free(b);
    b = backup_from(&dbb_service_dds, "{\"id\": \"d2\", \"instance_id\": 42, \"size\": \"10\"}",
                    NULL);
    assert_string_equal(b->instance_id, "42");
    assert_int_equal(b->size_bytes, 10240);
    assert_int_equal(b->start_time, 0);
    dbb_backup_free(b);
}

/* GaussDB Backups: every field optional, no instance_name, size a float64 of MB. */
static void test_gaussdb_records(void **state)
{
    DbbBackup *b = backup_from(&dbb_service_gaussdb,
                               "{\"id\": \"g1\", \"name\": \"og-bk\", \"description\": \"\", "
                               "\"begin_time\": \"2026-01-04T17:30:30+0800\", \"end_time\": "
                               "\"2026-01-04T17:32:51+08:00\", \"status\": \"COMPLETED\", "
                               "\"size\": 1.5, \"type\": \"auto\", \"datastore\": {\"type\": "
                               "\"GaussDB\", \"version\": \"8.201\"}, \"instance_id\": \"i9\"}",
                               NULL);
    DbbInstance *in;

    assert_null(b->instance_name); /* a deleted instance is named by its id */
    assert_string_equal(b->instance_id, "i9");
    assert_int_equal(b->start_time, 1767519030);
    assert_int_equal(b->finish_time, 1767519171);
    assert_int_equal(b->size_bytes, 1572864);
    dbb_backup_free(b);
    b = backup_from(&dbb_service_gaussdb, "{\"size\": \"1.5\"}", NULL);
    assert_true(g_str_has_prefix(b->id, "sha256:")); /* never dropped for lacking an id */
    assert_int_equal(b->size_bytes, 1572864);
    dbb_backup_free(b);
    /* Instance times "yyyy-mm-dd hh:mm:ss timezone"; updated empty while creating. */
    in = instance_from(&dbb_service_gaussdb, "{\"id\": \"i9\", \"name\": \"og\", \"port\": 8000, "
                                             "\"created\": \"2026-01-04 17:30:30 +0800\", "
                                             "\"updated\": \"\"}");
    assert_int_equal(in->mtime, 1767519030);
    assert_null(in->backups);
    dbb_instance_free(in);
    in = instance_from(&dbb_service_dds, "{\"id\": \"d\", \"name\": 5, \"created\": "
                                         "\"2026-01-04 09:30:30\", \"updated\": "
                                         "\"2026-01-04 09:32:51\"}");
    assert_string_equal(in->name, "5");
    assert_int_equal(in->mtime, 1767519171);
    dbb_instance_free(in);
}

/* TaurusDB's project-wide list (§2.3) has fields of its own: begin_time/end_time with an
 * offset and a size of MB, not the per-instance created/updated/time_zone and KB. */
static void test_taurusdb_project_records(void **state)
{
    static const char raw[] =
        "{\"id\": \"b1br07\", \"name\": \"manual-1\", \"begin_time\": "
        "\"2026-01-04T17:30:30+0800\", \"end_time\": \"2026-01-04T17:32:51+0800\", "
        "\"status\": \"COMPLETED\", \"take_up_time\": 2, \"type\": \"manual\", \"size\": 2.5, "
        "\"datastore\": {\"type\": \"gaussdb-mysql\", \"version\": \"8.0\"}, "
        "\"instance_id\": \"gone-in07\", \"instance_name\": \"old-db\", \"backup_level\": \"1\", "
        "\"description\": \"\"}";
    const DbbListingTable *t = dbb_service_taurusdb.ops->deleted_backups;
    g_autoptr(json_object) obj = parse_strict(raw);
    DbbBackup *b;

    assert_non_null(t);
    assert_string_equal(t->path_template, "/v3/{project_id}/backups");
    assert_string_equal(t->query[0].key, "backup_type");
    assert_string_equal(t->query[0].value, "manual");
    b = dbb_service_parse_backup_as(&dbb_service_taurusdb, t->fields, obj, raw, strlen(raw), NULL);
    assert_int_equal(b->start_time, 1767519030);
    assert_int_equal(b->finish_time, 1767519171);
    assert_int_equal(b->size_bytes, (gint64)(2.5 * 1024 * 1024));
    assert_string_equal(b->instance_name, "old-db");
    dbb_backup_free(b);
}

static DbbBackup *grouped(const char *id, const char *instance_id, const char *instance_name,
                          gint64 finish)
{
    DbbBackup *b = g_new0(DbbBackup, 1);

    b->id = g_strdup(id);
    b->instance_id = g_strdup(instance_id);
    b->instance_name = g_strdup(instance_name);
    b->finish_time = finish;
    b->raw = g_strdup("{}");
    b->raw_len = 2;
    return b;
}

/* Instances only the project-wide list knows: after the listed ones, one per instance_id,
 * named after the latest finished backup (ties: the greater id); live ones not repeated. */
static void test_deleted_instances(void **state)
{
    GPtrArray *instances = g_ptr_array_new_with_free_func(dbb_instance_free);
    g_autoptr(GPtrArray) backups = g_ptr_array_new_with_free_func(dbb_backup_free);
    DbbInstance *live = g_new0(DbbInstance, 1), *in;

    live->id = g_strdup("live");
    g_ptr_array_add(instances, live);
    g_ptr_array_add(backups, grouped("b0", "live", "live-db", 300));
    g_ptr_array_add(backups, grouped("b1", "x", "renamed-old", 100));
    g_ptr_array_add(backups, grouped("b2", "x", "renamed-new", 200));
    g_ptr_array_add(backups, grouped("b4", "y", "y-old", 50));
    g_ptr_array_add(backups, grouped("b5", "y", "y-new", 50));
    g_ptr_array_add(backups, grouped("b6", NULL, "orphan", 1));
    instances = dbb_instances_add_deleted(&dbb_service_taurusdb, instances, backups);
    assert_int_equal(instances->len, 4);
    assert_ptr_equal(instances->pdata[0], live);
    assert_null(live->backups);
    in = instances->pdata[1];
    assert_string_equal(in->id, "x");
    assert_string_equal(in->name, "renamed-new");
    assert_int_equal(in->mtime, 0);
    assert_int_equal(in->backups->len, 2);
    assert_string_equal(((DbbBackup *)in->backups->pdata[0])->id, "b1");
    in = instances->pdata[2];
    assert_string_equal(in->name, "y-new");
    in = instances->pdata[3];
    assert_string_equal(in->id, DBB_NO_INSTANCE_ID);
    assert_int_equal(in->backups->len, 1);
    /* The copies are the client's own: the listing they came from may go. */
    g_ptr_array_set_size(backups, 0);
    assert_string_equal(((DbbBackup *)in->backups->pdata[0])->instance_name, "orphan");
    g_ptr_array_unref(instances);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_taurusdb),
        cmocka_unit_test(test_seed_geminidb),
        cmocka_unit_test(test_seed_ddm),
        cmocka_unit_test(test_numbers_and_strings),
        cmocka_unit_test(test_missing_and_wrong_types),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_taurusdb_zones),
        cmocka_unit_test(test_unicode_and_escapes),
        cmocka_unit_test(test_instances),
        cmocka_unit_test(test_page_hostile),
        cmocka_unit_test(test_page_duplicates),
        cmocka_unit_test(test_page_huge_and_deep),
        cmocka_unit_test(test_rawjson),
        cmocka_unit_test(test_jsonutil),
        cmocka_unit_test(test_iam_projects),
        cmocka_unit_test(test_services_table),
        cmocka_unit_test(test_path_segments),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_rds_records),
        cmocka_unit_test(test_dds_records),
        cmocka_unit_test(test_gaussdb_records),
        cmocka_unit_test(test_taurusdb_project_records),
        cmocka_unit_test(test_deleted_instances),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
