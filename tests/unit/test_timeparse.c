/*
 * Unit tests of api/timeparse.c: every accepted format, zones, invalid dates, leap years,
 * pre-1970 and far-future values.  Expected epochs come from Python's datetime (noted per
 * case) or from GLib's own calendar (GDate, GDateTime) as an independent oracle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "api/timeparse.h"

static gint64 parse_ok(const char *text, gint64 default_offset)
{
    const char *why = NULL;
    gint64 epoch = 12345;

    if (!dbb_time_parse(text, default_offset, &epoch, &why))
        fail_msg("\"%s\" did not parse: %s", text, why);
    return epoch;
}

static void parse_fails(const char *text)
{
    const char *why = NULL;
    gint64 epoch = 12345;

    if (dbb_time_parse(text, 0, &epoch, &why))
        fail_msg("\"%s\" parsed as %" G_GINT64_FORMAT, text, epoch);
    assert_non_null(why);
    assert_int_equal(epoch, 12345); /* untouched on failure */
}

static void test_service_formats(void **state)
{
    /* TaurusDB instances, GeminiDB/DDM backups: numeric offset without a colon. */
    assert_int_equal(parse_ok("2022-07-14T16:26:58+0800", 0), 1657787218);
    assert_int_equal(parse_ok("2019-05-27T03:38:51+0000", 0), 1558928331);
    /* TaurusDB per-instance backups: a space, no zone (default offset given). */
    assert_int_equal(parse_ok("2026-01-04 17:30:30", 8 * 3600), 1767519030);
    /* GeminiDB instances: no zone at all: UTC. */
    assert_int_equal(parse_ok("2026-01-04T17:30:30", 0), 1767547830);
    /* IAM: Z with microseconds (truncated). */
    assert_int_equal(parse_ok("2026-01-04T09:30:30.965000Z", 0), 1767519030);
}

static void test_zone_spellings(void **state)
{
    const char *same[] = {
        "2026-01-04T17:30:30+08:00", "2026-01-04T17:30:30+0800",   "2026-01-04T17:30:30+08",
        "2026-01-04T09:30:30Z",      "2026-01-04T09:30:30z",       "2026-01-04 09:30:30 UTC",
        "2026-01-04T09:30:30+00:00", "2026-01-04T09:30:30-00",     "2026-01-04T09:30:30.5Z",
        "2026-01-04t09:30:30 GMT",   "2026-01-04 17:30:30 +08:00",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(same); i++)
        assert_int_equal(parse_ok(same[i], -12345), 1767519030);
    assert_int_equal(parse_ok("2026-01-04T17:30:30-05:30", 0), 1767567630);
    assert_int_equal(parse_ok("2026-01-04T17:30:30-0530", 0), 1767567630);
    /* An explicit zone beats the default. */
    assert_int_equal(parse_ok("2026-01-04T17:30:30Z", 8 * 3600), 1767547830);
    /* No seconds; date only. */
    assert_int_equal(parse_ok("2026-01-04T17:30", 0), 1767547800);
    assert_int_equal(parse_ok("2026-01-04", 0), 1767484800);
    assert_int_equal(parse_ok("2026-01-04 17:30:30,25", 0), 1767547830);
}

static void test_zone_field(void **state)
{
    struct {
        const char *text;
        gint64 offset;
    } ok[] = {
        {"UTC", 0},
        {"GMT", 0},
        {"Z", 0},
        {"UTC+08:00", 28800},
        {"UTC-05:30", -19800},
        {"GMT+8", 28800},
        {"UTC+8", 28800},
        {"+0800", 28800},
        {"+08:00", 28800},
        {"-05", -18000},
        {"utc+01:00", 3600},
        {"UTC+14:00", 50400},
    };
    const char *bad[] = {"",          "_0800", "UTC+",  "UTC+123",    "Asia/Shanghai", "UTC+24:00",
                         "UTC+08:60", "+08:0", "UTC 8", "UTC+08:00x", "GMT+8:3"};
    const char *why;
    gint64 offset;

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
        offset = 1;
        why = NULL;
        if (!dbb_zone_parse(ok[i].text, &offset, &why))
            fail_msg("zone \"%s\": %s", ok[i].text, why);
        assert_int_equal(offset, ok[i].offset);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        why = NULL;
        if (dbb_zone_parse(bad[i], &offset, &why))
            fail_msg("zone \"%s\" accepted", bad[i]);
        assert_non_null(why);
    }
    assert_false(dbb_zone_parse(NULL, &offset, &why));
}

static void test_invalid(void **state)
{
    const char *bad[] = {
        "",
        "   ",
        "yesterday",
        "2018-08-20T02:33:49_0800", /* the malformed TaurusDB doc example */
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2100-02-29T00:00:00Z", /* century, not leap */
        "2026-01-04T24:00:00Z",
        "2026-01-04T23:60:00Z",
        "2026-01-04T23:59:61Z",
        "2026-01-04T23:59:59+2400",
        "2026-01-04T23:59:59+0860",
        "2026-01-04T23:59:59.Z",
        "2026-01-04T23:59:59 garbage",
        "2026-1-4T23:59:59Z",
        "26-01-04T23:59:59Z",
        "2026/01/04 23:59:59",
        "2026-01-04T23",
        "2026-01-04T23:5",
        "20260104T235959Z",
        "1767547830",
        "2026-01-04T17:30:30+08:00:00",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
        parse_fails(bad[i]);
    parse_fails(NULL);
}

static void test_leap_years_and_range(void **state)
{
    assert_int_equal(parse_ok("2024-02-29T12:00:00Z", 0), 1709208000);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z", 0), 951782400);
    /* Pre-1970 and far-future values. */
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z", 0), -1);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z", 0), 0);
    assert_int_equal(parse_ok("1960-06-15T06:07:08+0000", 0), -301254772);
    assert_int_equal(parse_ok("1900-01-01 00:00:00", 0), -2208988800LL);
    assert_int_equal(parse_ok("0001-01-01T00:00:00Z", 0), -62135596800LL);
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z", 0), 253402300799LL);
    /* A leap second reads as the next second. */
    assert_int_equal(parse_ok("2016-12-31T23:59:60Z", 0), parse_ok("2017-01-01T00:00:00Z", 0));
}

/* days_from_civil against GDate for every day of years 1-9999. */
static void test_days_against_gdate(void **state)
{
    GDate date;
    guint32 epoch_julian;

    g_date_clear(&date, 1);
    g_date_set_dmy(&date, 1, G_DATE_JANUARY, 1970);
    epoch_julian = g_date_get_julian(&date);
    g_date_set_dmy(&date, 1, G_DATE_JANUARY, 1);
    while (g_date_get_year(&date) <= 9999) {
        gint64 expected = (gint64)g_date_get_julian(&date) - (gint64)epoch_julian;
        gint64 got = dbb_days_from_civil(g_date_get_year(&date), g_date_get_month(&date),
                                         g_date_get_day(&date));
        if (got != expected)
            fail_msg("%d-%d-%d: %" G_GINT64_FORMAT " != %" G_GINT64_FORMAT, g_date_get_year(&date),
                     g_date_get_month(&date), g_date_get_day(&date), got, expected);
        if (g_date_get_year(&date) == 9999 && g_date_get_month(&date) == 12 &&
            g_date_get_day(&date) == 31)
            break;
        g_date_add_days(&date, 1);
    }
}

/* Whole timestamps with offsets against GDateTime, over a spread of values. */
static void test_against_gdatetime(void **state)
{
    GRand *rand = g_rand_new_with_seed(20260104);

    for (int i = 0; i < 20000; i++) {
        int year = g_rand_int_range(rand, 1, 10000), month = g_rand_int_range(rand, 1, 13);
        int day = g_rand_int_range(rand, 1, g_date_get_days_in_month(month, year) + 1);
        int hour = g_rand_int_range(rand, 0, 24), minute = g_rand_int_range(rand, 0, 60);
        int second = g_rand_int_range(rand, 0, 60);
        int off_min = g_rand_int_range(rand, -23 * 60 - 59, 23 * 60 + 60);
        char sign = off_min < 0 ? '-' : '+';
        int abs_min = ABS(off_min);
        g_autofree char *zone = g_strdup_printf("%c%02d:%02d", sign, abs_min / 60, abs_min % 60);
        g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(zone);
        g_autoptr(GDateTime) dt = NULL;
        g_autofree char *text = NULL;

        assert_non_null(tz);
        dt = g_date_time_new(tz, year, month, day, hour, minute, second);
        if (dt == NULL)
            continue; /* beyond GDateTime's range once shifted to UTC */
        text = g_strdup_printf("%04d-%02d-%02d%c%02d:%02d:%02d%c%02d%02d", year, month, day,
                               i % 2 ? 'T' : ' ', hour, minute, second, sign, abs_min / 60,
                               abs_min % 60);
        assert_int_equal(parse_ok(text, 0), g_date_time_to_unix(dt));
    }
    g_rand_free(rand);
}

static void test_field_helper(void **state)
{
    /* The adapters' helper: zone field applied, failures read as 0. */
    assert_int_equal(
        dbb_time_field("taurusdb", "b1", "created", "2026-01-04 17:30:30", "UTC+08:00"),
        1767519030);
    assert_int_equal(dbb_time_field("taurusdb", "b1", "created", "2026-01-04 17:30:30", NULL),
                     1767547830);
    assert_int_equal(dbb_time_field("taurusdb", "b1", "created", NULL, "UTC+08:00"), 0);
    assert_int_equal(dbb_time_field("taurusdb", "b1", "created", "2026-01-04 17:30:30", "Mars"), 0);
    /* A time with its own offset does not need an unreadable time_zone. */
    assert_int_equal(
        dbb_time_field("taurusdb", "b1", "created", "2026-01-04T17:30:30+08:00", "Asia/Shanghai"),
        dbb_time_field("taurusdb", "b1", "created", "2026-01-04 17:30:30", "UTC+08:00"));
    assert_int_equal(dbb_time_field("ddm", "b1", "updated", "2018-08-20T02:33:49_0800", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_formats),      cmocka_unit_test(test_zone_spellings),
        cmocka_unit_test(test_zone_field),           cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_leap_years_and_range), cmocka_unit_test(test_days_against_gdate),
        cmocka_unit_test(test_against_gdatetime),    cmocka_unit_test(test_field_helper),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
