/*
 * Unit tests of fs/metrics.c (the Prometheus text format, the atomic file, the writer
 * thread) and api/stats.c (the client's request counters that feed it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "api/stats.h"
#include "fs/metrics.h"

/* ---- helpers ---- */

static void assert_has_line(const char *text, const char *line)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++)
        if (strcmp(lines[i], line) == 0)
            return;
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

static guint count_prefix(const char *text, const char *prefix)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;

    for (guint i = 0; lines[i]; i++)
        n += g_str_has_prefix(lines[i], prefix) ? 1 : 0;
    return n;
}

/* A snapshot as its owners would fill it. */
static void sample_snapshot(DbbMetricsSnapshot *s)
{
    DbbApiCounters *c = dbb_api_counters_new();
    DbbNamedCount ops[] = {{"lookup", 7}, {"readdirplus", 3}};
    DbbNamedCount inval[] = {{"inode", 2}};

    dbb_api_counters_record(c, "taurusdb", "/v3/{project_id}/instances", 200, 2000, FALSE);
    dbb_api_counters_record(c, "taurusdb", "/v3/{project_id}/instances", 429, 40000, FALSE);
    dbb_api_counters_record(c, "taurusdb", "/v3/{project_id}/instances", 200, 3000000, TRUE);
    dbb_api_counters_record(c, "ddm", "/v3/{project_id}/backups", 0, 60000000, FALSE);
    dbb_api_counters_snapshot(c, &s->api);
    dbb_api_counters_free(c);
    s->cache = (DbbCacheStats){.hits = 11,
                               .fetched = 4,
                               .failed = 1,
                               .stale = 1,
                               .joins = 2,
                               .cleared = 1,
                               .entries = 3,
                               .records = 42,
                               .bytes = 4096};
    s->fuse_requests = g_array_new(FALSE, FALSE, sizeof(DbbNamedCount));
    g_array_append_vals(s->fuse_requests, ops, G_N_ELEMENTS(ops));
    s->invalidations = g_array_new(FALSE, FALSE, sizeof(DbbNamedCount));
    g_array_append_vals(s->invalidations, inval, G_N_ELEMENTS(inval));
    s->inodes = 17;
    s->resident_bytes = 123456;
}

/* ---- api/stats.c ---- */

static void test_api_counters(void **state)
{
    DbbApiCounters *c = dbb_api_counters_new();
    DbbApiStats s = {0};
    const DbbApiServiceStats *t;

    dbb_api_counters_record(c, "taurusdb", "/r", 200, 1000, FALSE);
    dbb_api_counters_record(c, "taurusdb", "/r", 204, 1000, FALSE);
    dbb_api_counters_record(c, "taurusdb", "/r", 503, 20000, TRUE);
    dbb_api_counters_record(c, "taurusdb", "/r", 429, 20000, TRUE);
    dbb_api_counters_record(c, "ddm", "/q", 0, 40 * G_USEC_PER_SEC, FALSE);
    dbb_api_counters_snapshot(c, &s);
    dbb_api_counters_free(c); /* the snapshot is a copy */

    /* sorted by service, route, class */
    assert_int_equal(s.requests->len, 4);
    const char *want[][3] = {{"ddm", "/q", "none"},
                             {"taurusdb", "/r", "2xx"},
                             {"taurusdb", "/r", "4xx"},
                             {"taurusdb", "/r", "5xx"}};
    guint64 counts[] = {1, 2, 1, 1};
    for (guint i = 0; i < 4; i++) {
        const DbbApiRequestCount *r = s.requests->pdata[i];
        assert_string_equal(r->service, want[i][0]);
        assert_string_equal(r->route, want[i][1]);
        assert_string_equal(r->code, want[i][2]);
        assert_int_equal(r->count, counts[i]);
    }
    assert_int_equal(s.services->len, 2);
    t = s.services->pdata[1];
    assert_string_equal(t->service, "taurusdb");
    assert_int_equal(t->count, 4);
    assert_int_equal(t->retries, 2);
    assert_int_equal(t->throttled, 1);
    assert_int_equal(t->buckets[0], 2);                           /* <= 5 ms */
    assert_int_equal(t->buckets[2], 4);                           /* <= 25 ms */
    assert_int_equal(t->buckets[DBB_API_LATENCY_BUCKETS - 1], 4); /* <= 30 s */
    assert_true(t->sum_seconds > 0.0419 && t->sum_seconds < 0.0421);
    t = s.services->pdata[0];
    assert_int_equal(t->buckets[DBB_API_LATENCY_BUCKETS - 1], 0); /* 40 s: only in +Inf */
    assert_int_equal(t->count, 1);
    dbb_api_stats_clear(&s);
    assert_null(s.requests);
}

static void test_status_class(void **state)
{
    assert_string_equal(dbb_api_status_class(0), "none");
    assert_string_equal(dbb_api_status_class(100), "1xx");
    assert_string_equal(dbb_api_status_class(299), "2xx");
    assert_string_equal(dbb_api_status_class(404), "4xx");
    assert_string_equal(dbb_api_status_class(599), "5xx");
    assert_string_equal(dbb_api_status_class(600), "none");
}

/* ---- the text format ---- */

static void test_render_samples(void **state)
{
    DbbMetricsSnapshot s = {0};
    g_autoptr(GString) text = NULL;

    sample_snapshot(&s);
    text = dbb_metrics_render(&s);
    dbb_metrics_snapshot_clear(&s);
    assert_null(s.fuse_requests);

    assert_has_line(text->str, "# TYPE dbbackupfs_api_requests_total counter");
    assert_has_line(text->str, "dbbackupfs_api_requests_total{service=\"taurusdb\",route=\"/v3/"
                               "{project_id}/instances\",code=\"2xx\"} 2");
    assert_has_line(text->str, "dbbackupfs_api_requests_total{service=\"taurusdb\",route=\"/v3/"
                               "{project_id}/instances\",code=\"4xx\"} 1");
    assert_has_line(text->str, "dbbackupfs_api_requests_total{service=\"ddm\",route=\"/v3/"
                               "{project_id}/backups\",code=\"none\"} 1");
    assert_has_line(text->str, "dbbackupfs_api_retries_total{service=\"taurusdb\"} 1");
    assert_has_line(text->str, "dbbackupfs_api_throttled_total{service=\"taurusdb\"} 1");
    assert_has_line(text->str, "dbbackupfs_listings_cached_total 11");
    assert_has_line(text->str, "dbbackupfs_listings_fetched_total 4");
    assert_has_line(text->str, "dbbackupfs_listings_failed_total 1");
    assert_has_line(text->str, "dbbackupfs_listings_stale_total 1");
    assert_has_line(text->str, "dbbackupfs_listings_joined_total 2");
    assert_has_line(text->str, "dbbackupfs_refreshes_total 1");
    assert_has_line(text->str, "dbbackupfs_listings_held 3");
    assert_has_line(text->str, "dbbackupfs_records_held 42");
    assert_has_line(text->str, "dbbackupfs_records_held_bytes 4096");
    assert_has_line(text->str, "dbbackupfs_fuse_requests_total{opcode=\"lookup\"} 7");
    assert_has_line(text->str, "dbbackupfs_fuse_requests_total{opcode=\"readdirplus\"} 3");
    assert_has_line(text->str, "dbbackupfs_kernel_invalidations_total{kind=\"inode\"} 2");
    assert_has_line(text->str, "dbbackupfs_inodes 17");
    assert_has_line(text->str, "dbbackupfs_resident_memory_bytes 123456");
}

/* Buckets are cumulative, end with +Inf equal to _count, and _sum is in seconds. */
static void test_render_histogram(void **state)
{
    DbbMetricsSnapshot s = {0};
    g_autoptr(GString) text = NULL;

    sample_snapshot(&s);
    text = dbb_metrics_render(&s);
    dbb_metrics_snapshot_clear(&s);
    assert_has_line(text->str, "# TYPE dbbackupfs_api_request_duration_seconds histogram");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"taurusdb\",le=\"0.005\"} 1");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"taurusdb\",le=\"0.05\"} 2");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"taurusdb\",le=\"2.5\"} 2");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"taurusdb\",le=\"5\"} 3");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"taurusdb\",le=\"+Inf\"} 3");
    assert_has_line(text->str,
                    "dbbackupfs_api_request_duration_seconds_count{service=\"taurusdb\"} 3");
    assert_has_line(text->str,
                    "dbbackupfs_api_request_duration_seconds_sum{service=\"taurusdb\"} 3.042");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"ddm\",le=\"30\"} 0");
    assert_has_line(text->str, "dbbackupfs_api_request_duration_seconds_bucket{service="
                               "\"ddm\",le=\"+Inf\"} 1");
    assert_int_equal(count_prefix(text->str, "dbbackupfs_api_request_duration_seconds_bucket"),
                     2 * (DBB_API_LATENCY_BUCKETS + 1));
}

/* The rules a scraper relies on, over the whole output. */
static void test_render_well_formed(void **state)
{
    DbbMetricsSnapshot s = {0};
    g_autoptr(GString) text = NULL;
    g_autoptr(GHashTable) helped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) typed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) lines = NULL;

    sample_snapshot(&s);
    text = dbb_metrics_render(&s);
    dbb_metrics_snapshot_clear(&s);
    assert_true(g_str_has_suffix(text->str, "\n"));
    lines = g_strsplit(text->str, "\n", -1);
    for (guint i = 0; lines[i] && lines[i][0]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, "# HELP ") || g_str_has_prefix(l, "# TYPE ")) {
            g_auto(GStrv) f = g_strsplit(l + 7, " ", 2);
            GHashTable *seen = l[2] == 'H' ? helped : typed;
            assert_true(g_str_has_prefix(f[0], "dbbackupfs_"));
            assert_false(g_hash_table_contains(seen, f[0])); /* once per family */
            g_hash_table_add(seen, g_strdup(f[0]));
            if (l[2] == 'T' && g_str_equal(f[1], "counter"))
                assert_true(g_str_has_suffix(f[0], "_total"));
            if (l[2] == 'T' && !g_str_equal(f[1], "counter"))
                assert_null(strstr(f[0], "_total"));
            continue;
        }
        assert_true(g_str_has_prefix(l, "dbbackupfs_"));
        /* name{labels} value: no timestamp after the value */
        const char *end = strrchr(l, '}') ? strrchr(l, '}') + 1 : strchr(l, ' ');
        assert_int_equal(*end == ' ' ? 1 : 0, 1);
        assert_null(strchr(end + 1, ' '));
    }
    assert_int_equal(g_hash_table_size(helped), g_hash_table_size(typed));
}

static void test_render_escapes_labels(void **state)
{
    DbbMetricsSnapshot s = {0};
    DbbNamedCount odd[] = {{"a\"b\\c\nd", 1}};
    g_autoptr(GString) text = NULL;

    s.fuse_requests = g_array_new(FALSE, FALSE, sizeof(DbbNamedCount));
    g_array_append_vals(s.fuse_requests, odd, 1);
    text = dbb_metrics_render(&s);
    dbb_metrics_snapshot_clear(&s);
    assert_has_line(text->str, "dbbackupfs_fuse_requests_total{opcode=\"a\\\"b\\\\c\\nd\"} 1");
}

/* Families with labels and nothing counted yet: HELP and TYPE only; plain ones show 0. */
static void test_render_empty(void **state)
{
    DbbMetricsSnapshot s = {0};
    g_autoptr(GString) text = dbb_metrics_render(&s);

    assert_has_line(text->str, "# TYPE dbbackupfs_api_requests_total counter");
    assert_int_equal(count_prefix(text->str, "dbbackupfs_api_requests_total"), 0);
    assert_has_line(text->str, "dbbackupfs_listings_fetched_total 0");
    assert_has_line(text->str, "dbbackupfs_inodes 0");
}

/* A decimal comma in the locale must not reach the file. */
static void test_render_locale(void **state)
{
    DbbMetricsSnapshot s = {0};
    g_autoptr(GString) text = NULL;
    const char *set = setlocale(LC_NUMERIC, "de_DE.UTF-8");

    if (!set)
        set = setlocale(LC_NUMERIC, "fr_FR.UTF-8");
    sample_snapshot(&s);
    text = dbb_metrics_render(&s);
    dbb_metrics_snapshot_clear(&s);
    setlocale(LC_NUMERIC, "C");
    assert_has_line(text->str,
                    "dbbackupfs_api_request_duration_seconds_sum{service=\"taurusdb\"} 3.042");
    if (!set)
        print_message("(no comma locale installed: checked under C only)\n");
}

/* ---- the file ---- */

static guint dir_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;

    while (d && g_dir_read_name(d))
        n++;
    return n;
}

static void test_write_file(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("dbb-metrics-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "dbbackupfs.prom", NULL);
    g_autofree char *got = NULL;
    g_autoptr(GError) error = NULL;
    struct stat st;
    mode_t old = umask(077);

    assert_true(dbb_metrics_write_file(path, "a 1\n", 4, &error));
    assert_true(dbb_metrics_write_file(path, "b 2\n", 4, &error));
    umask(old);
    assert_true(g_file_get_contents(path, &got, NULL, NULL));
    assert_string_equal(got, "b 2\n");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* whatever the umask */
    assert_int_equal(dir_entries(dir), 1);     /* no temporary left behind */
    g_unlink(path);
    g_rmdir(dir);
}

static void test_write_file_fails(void **state)
{
    g_autoptr(GError) error = NULL;

    assert_false(dbb_metrics_write_file("/nonexistent-dir/x.prom", "a 1\n", 4, &error));
    assert_non_null(error);
    assert_non_null(strstr(error->message, "/nonexistent-dir/x.prom"));
}

/* ---- the writer thread ---- */

typedef struct {
    gint calls;
} Collector;

static void collect(DbbMetricsSnapshot *out, gpointer data)
{
    Collector *c = data;

    out->inodes = (guint64)g_atomic_int_add(&c->calls, 1) + 1;
}

static void test_writer_thread(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("dbb-metrics-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "m.prom", NULL);
    g_autofree char *got = NULL;
    g_autofree char *last = NULL;
    Collector c = {0};
    DbbMetricsWriter *w = dbb_metrics_writer_start(path, 0.02, collect, &c);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    /* every interval: several writes come by */
    while (g_atomic_int_get(&c.calls) < 3 && g_get_monotonic_time() < deadline)
        g_usleep(5000);
    assert_true(g_atomic_int_get(&c.calls) >= 3);
    dbb_metrics_writer_stop(w);
    /* and one at the end, with the state of then */
    assert_true(g_file_get_contents(path, &got, NULL, NULL));
    last = g_strdup_printf("dbbackupfs_inodes %d", g_atomic_int_get(&c.calls));
    assert_has_line(got, last);
    assert_int_equal(dir_entries(dir), 1);
    g_unlink(path);
    g_rmdir(dir);
}

static void count_warning(const char *domain, GLogLevelFlags level, const char *message,
                          gpointer data)
{
    g_atomic_int_inc((gint *)data);
}

/* A file that cannot be written is said once, not at every interval. */
static void test_writer_failure_logged_once(void **state)
{
    Collector c = {0};
    gint warnings = 0;
    guint handler = g_log_set_handler(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, count_warning, &warnings);
    DbbMetricsWriter *w = dbb_metrics_writer_start("/nonexistent-dir/m.prom", 0.01, collect, &c);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (g_atomic_int_get(&c.calls) < 5 && g_get_monotonic_time() < deadline)
        g_usleep(5000);
    dbb_metrics_writer_stop(w);
    g_log_remove_handler(G_LOG_DOMAIN, handler);
    assert_true(g_atomic_int_get(&c.calls) >= 5);
    assert_int_equal(g_atomic_int_get(&warnings), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_counters),
        cmocka_unit_test(test_status_class),
        cmocka_unit_test(test_render_samples),
        cmocka_unit_test(test_render_histogram),
        cmocka_unit_test(test_render_well_formed),
        cmocka_unit_test(test_render_escapes_labels),
        cmocka_unit_test(test_render_empty),
        cmocka_unit_test(test_render_locale),
        cmocka_unit_test(test_write_file),
        cmocka_unit_test(test_write_file_fails),
        cmocka_unit_test(test_writer_thread),
        cmocka_unit_test(test_writer_failure_logged_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
