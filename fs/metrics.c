/*
 * dbbackupfs — the Prometheus text format (see metrics.h).
 *
 * Numbers are printed as integers, or with g_ascii_formatd() for the few that are not, so
 * a locale with a decimal comma cannot break the file.  Names follow Prometheus' own
 * conventions (promtool check metrics): base units (seconds, bytes), "_total" on counters
 * and only there.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define PREFIX "dbbackupfs_"

void dbb_metrics_snapshot_clear(DbbMetricsSnapshot *s)
{
    dbb_api_stats_clear(&s->api);
    if (s->fuse_requests)
        g_array_unref(s->fuse_requests);
    if (s->invalidations)
        g_array_unref(s->invalidations);
    memset(s, 0, sizeof(*s));
}

guint64 dbb_metrics_resident_bytes(void)
{
    g_autofree char *text = NULL;
    unsigned long long size, resident;

    if (!g_file_get_contents("/proc/self/statm", &text, NULL, NULL) ||
        sscanf(text, "%llu %llu", &size, &resident) != 2)
        return 0;
    return (guint64)resident * (guint64)sysconf(_SC_PAGESIZE);
}

/* ---- the text format ---- */

static void family(GString *out, const char *name, const char *type, const char *help)
{
    /* HELP text escapes only '\' and newline; ours has neither. */
    g_string_append_printf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help,
                           name, type);
}

/* Appends `,key="value"` (the first without the comma) with the value escaped. */
static void label(GString *labels, const char *key, const char *value)
{
    g_string_append_printf(labels, "%s%s=\"", labels->len ? "," : "", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(labels, '\\');
        if (*p == '\n')
            g_string_append(labels, "\\n");
        else
            g_string_append_c(labels, *p);
    }
    g_string_append_c(labels, '"');
}

static void sample_text(GString *out, const char *name, const GString *labels, const char *value)
{
    g_string_append_printf(out, PREFIX "%s", name);
    if (labels && labels->len)
        g_string_append_printf(out, "{%s}", labels->str);
    g_string_append_printf(out, " %s\n", value);
}

static void sample(GString *out, const char *name, const GString *labels, guint64 value)
{
    char text[24];

    g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, value);
    sample_text(out, name, labels, text);
}

static void sample_double(GString *out, const char *name, const GString *labels, double value)
{
    char text[G_ASCII_DTOSTR_BUF_SIZE];

    sample_text(out, name, labels, g_ascii_formatd(text, sizeof(text), "%.9g", value));
}

/* A family without labels and its one sample. */
static void single(GString *out, const char *name, const char *type, const char *help,
                   guint64 value)
{
    family(out, name, type, help);
    sample(out, name, NULL, value);
}

/* ---- the families ---- */

static void render_api_requests(GString *out, const DbbApiStats *api)
{
    family(out, "api_requests_total", "counter",
           "HTTP requests sent to the cloud (retries included), by service, route and status "
           "class (none: no HTTP status came back).");
    for (guint i = 0; api->requests && i < api->requests->len; i++) {
        const DbbApiRequestCount *r = api->requests->pdata[i];
        g_autoptr(GString) l = g_string_new(NULL);
        label(l, "service", r->service);
        label(l, "route", r->route);
        label(l, "code", r->code);
        sample(out, "api_requests_total", l, r->count);
    }
}

typedef guint64 (*ServiceField)(const DbbApiServiceStats *s);

static guint64 field_retries(const DbbApiServiceStats *s)
{
    return s->retries;
}

static guint64 field_throttled(const DbbApiServiceStats *s)
{
    return s->throttled;
}

static void render_per_service(GString *out, const DbbApiStats *api, const char *name,
                               const char *help, ServiceField field)
{
    family(out, name, "counter", help);
    for (guint i = 0; api->services && i < api->services->len; i++) {
        const DbbApiServiceStats *s = api->services->pdata[i];
        g_autoptr(GString) l = g_string_new(NULL);
        label(l, "service", s->service);
        sample(out, name, l, field(s));
    }
}

static void render_latency(GString *out, const DbbApiStats *api)
{
    family(out, "api_request_duration_seconds", "histogram",
           "Time from sending an HTTP request to its complete answer, by service.");
    for (guint i = 0; api->services && i < api->services->len; i++) {
        const DbbApiServiceStats *s = api->services->pdata[i];
        char le[G_ASCII_DTOSTR_BUF_SIZE];

        for (int b = 0; b <= DBB_API_LATENCY_BUCKETS; b++) {
            g_autoptr(GString) l = g_string_new(NULL);
            label(l, "service", s->service);
            if (b < DBB_API_LATENCY_BUCKETS)
                label(l, "le", g_ascii_formatd(le, sizeof(le), "%g", dbb_api_latency_bounds[b]));
            else
                label(l, "le", "+Inf");
            sample(out, "api_request_duration_seconds_bucket", l,
                   b < DBB_API_LATENCY_BUCKETS ? s->buckets[b] : s->count);
        }
        g_autoptr(GString) l = g_string_new(NULL);
        label(l, "service", s->service);
        sample_double(out, "api_request_duration_seconds_sum", l, s->sum_seconds);
        sample(out, "api_request_duration_seconds_count", l, s->count);
    }
}

static void render_api(GString *out, const DbbApiStats *api)
{
    render_api_requests(out, api);
    render_per_service(out, api, "api_retries_total",
                       "HTTP requests that were retries of a failed one, by service.",
                       field_retries);
    render_per_service(out, api, "api_throttled_total", "HTTP 429 (throttled) answers, by service.",
                       field_throttled);
    render_latency(out, api);
}

static void render_cache(GString *out, const DbbCacheStats *c)
{
    single(out, "listings_fetched_total", "counter",
           "Listings fetched from the cloud (all pages) into the cache.", c->fetched);
    single(out, "listings_cached_total", "counter",
           "Listing look-ups answered from the cache within the ttl.", c->hits);
    single(out, "listings_stale_total", "counter",
           "Listing look-ups answered with a stale listing because a refresh failed.", c->stale);
    single(out, "listings_failed_total", "counter",
           "Listing fetches that failed (a stale listing may still have been served).", c->failed);
    single(out, "listings_joined_total", "counter",
           "Listing look-ups that waited for another caller's fetch (single-flight).", c->joins);
    single(out, "refreshes_total", "counter", "Times every cached listing was dropped (SIGHUP).",
           c->cleared);
    single(out, "listings_held", "gauge", "Listings held in the cache.", c->entries);
    single(out, "records_held", "gauge",
           "Records (projects, instances, backups) held in cached listings.", c->records);
    single(out, "records_held_bytes", "gauge",
           "Bytes of the rendered backup files held in cached listings.", c->bytes);
}

static void render_named(GString *out, const char *name, const char *key, const char *help,
                         const GArray *counts)
{
    family(out, name, "counter", help);
    for (guint i = 0; counts && i < counts->len; i++) {
        const DbbNamedCount *c = &g_array_index(counts, DbbNamedCount, i);
        g_autoptr(GString) l = g_string_new(NULL);
        label(l, key, c->name);
        sample(out, name, l, c->count);
    }
}

GString *dbb_metrics_render(const DbbMetricsSnapshot *s)
{
    GString *out = g_string_sized_new(8192);

    render_api(out, &s->api);
    render_cache(out, &s->cache);
    render_named(out, "fuse_requests_total", "opcode", "FUSE requests received, by opcode.",
                 s->fuse_requests);
    render_named(out, "kernel_invalidations_total", "kind",
                 "Invalidations of the kernel's caches sent, by kind.", s->invalidations);
    single(out, "inodes", "gauge", "Inodes the kernel holds.", s->inodes);
    single(out, "resident_memory_bytes", "gauge", "Resident set size of the daemon.",
           s->resident_bytes);
    return out;
}

/* ---- the file ---- */

static gboolean write_all(int fd, const char *text, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* a write that wrote nothing: say something */
            return FALSE;
        }
        text += n;
        len -= (gsize)n;
    }
    return TRUE;
}

gboolean dbb_metrics_write_file(const char *path, const char *text, gsize len, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    /* A leading dot: the textfile collector reads only *.prom, so it skips the temporary. */
    g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    int saved = 0;

    if (fd < 0) {
        saved = errno;
        goto out;
    }
    /* 0644 whatever the umask: the collector usually runs as another user. */
    if (fchmod(fd, 0644) != 0 || !write_all(fd, text, len))
        saved = errno;
    if (close(fd) != 0 && !saved)
        saved = errno;
    if (!saved && g_rename(tmp, path) != 0)
        saved = errno;
    if (saved)
        g_unlink(tmp);
out:
    if (saved)
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot write %s: %s",
                    path, g_strerror(saved));
    return saved == 0;
}

void dbb_metrics_log(const DbbMetricsSnapshot *s)
{
    g_autoptr(GString) text = dbb_metrics_render(s);
    g_auto(GStrv) lines = g_strsplit(text->str, "\n", -1);

    for (guint i = 0; lines[i]; i++)
        if (lines[i][0] && lines[i][0] != '#')
            g_message("metrics: %s", lines[i]);
}

/* ---- the writer thread ---- */

struct DbbMetricsWriter {
    char *path;
    gint64 interval_us;
    DbbMetricsCollectFunc collect;
    gpointer data;
    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean stop;    /* under lock */
    gboolean failing; /* the last write failed (thread only) */
};

static void write_once(DbbMetricsWriter *w)
{
    DbbMetricsSnapshot s = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) text = NULL;

    w->collect(&s, w->data);
    text = dbb_metrics_render(&s);
    dbb_metrics_snapshot_clear(&s);
    if (!dbb_metrics_write_file(w->path, text->str, text->len, &error)) {
        if (!w->failing)
            g_warning("metrics: %s (logged once until it works again)", error->message);
        w->failing = TRUE;
    } else if (w->failing) {
        g_message("metrics: %s written again", w->path);
        w->failing = FALSE;
    }
}

static gpointer writer_main(gpointer data)
{
    DbbMetricsWriter *w = data;
    gint64 next = g_get_monotonic_time();
    gboolean stop = FALSE;

    while (!stop) {
        write_once(w);
        next += w->interval_us;
        g_mutex_lock(&w->lock);
        while (!w->stop && g_cond_wait_until(&w->cond, &w->lock, next))
            ;
        stop = w->stop;
        g_mutex_unlock(&w->lock);
    }
    write_once(w); /* the state at exit */
    return NULL;
}

DbbMetricsWriter *dbb_metrics_writer_start(const char *path, double interval_s,
                                           DbbMetricsCollectFunc collect, gpointer data)
{
    DbbMetricsWriter *w = g_new0(DbbMetricsWriter, 1);

    w->path = g_strdup(path);
    w->interval_us = (gint64)(MAX(interval_s, 0.001) * G_USEC_PER_SEC);
    w->collect = collect;
    w->data = data;
    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
    w->thread = g_thread_new("dbb-metrics", writer_main, w);
    return w;
}

void dbb_metrics_writer_stop(DbbMetricsWriter *w)
{
    if (!w)
        return;
    g_mutex_lock(&w->lock);
    w->stop = TRUE;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
    g_thread_join(w->thread);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
    g_free(w->path);
    g_free(w);
}
