/*
 * dbbackupfs — the client's request counters (see stats.h): two tables under one mutex,
 * requests keyed by "service\nroute\nclass", per-service figures keyed by service.  An
 * attempt costs one short allocation for the key, negligible beside an HTTP round trip.
 */
#include "stats.h"

#include <string.h>

const double dbb_api_latency_bounds[DBB_API_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

struct DbbApiCounters {
    GMutex lock;
    GHashTable *requests; /* "service\nroute\nclass" -> DbbApiRequestCount * */
    GHashTable *services; /* service -> DbbApiServiceStats * */
};

static void request_count_free(gpointer p)
{
    DbbApiRequestCount *r = p;

    g_free(r->service);
    g_free(r->route);
    g_free(r->code);
    g_free(r);
}

static void service_stats_free(gpointer p)
{
    DbbApiServiceStats *s = p;

    g_free(s->service);
    g_free(s);
}

DbbApiCounters *dbb_api_counters_new(void)
{
    DbbApiCounters *c = g_new0(DbbApiCounters, 1);

    g_mutex_init(&c->lock);
    c->requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, request_count_free);
    c->services = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, service_stats_free);
    return c;
}

void dbb_api_counters_free(DbbApiCounters *c)
{
    if (!c)
        return;
    g_hash_table_unref(c->requests);
    g_hash_table_unref(c->services);
    g_mutex_clear(&c->lock);
    g_free(c);
}

const char *dbb_api_status_class(long status)
{
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    if (status >= 100 && status < 600)
        return classes[status / 100 - 1];
    return "none";
}

static DbbApiServiceStats *service_of(DbbApiCounters *c, const char *service)
{
    DbbApiServiceStats *s = g_hash_table_lookup(c->services, service);

    if (!s) {
        s = g_new0(DbbApiServiceStats, 1);
        s->service = g_strdup(service);
        g_hash_table_insert(c->services, s->service, s);
    }
    return s;
}

void dbb_api_counters_record(DbbApiCounters *c, const char *service, const char *route, long status,
                             gint64 duration_us, gboolean retry)
{
    const char *code = dbb_api_status_class(status);
    char *key = g_strjoin("\n", service, route, code, NULL);
    double seconds = (double)MAX(duration_us, 0) / G_USEC_PER_SEC;
    DbbApiRequestCount *r;
    DbbApiServiceStats *s;

    g_mutex_lock(&c->lock);
    r = g_hash_table_lookup(c->requests, key);
    if (!r) {
        r = g_new0(DbbApiRequestCount, 1);
        r->service = g_strdup(service);
        r->route = g_strdup(route);
        r->code = g_strdup(code);
        g_hash_table_insert(c->requests, g_steal_pointer(&key), r);
    }
    r->count++;
    s = service_of(c, service);
    s->count++;
    s->sum_seconds += seconds;
    s->retries += retry ? 1 : 0;
    s->throttled += status == 429 ? 1 : 0;
    for (int i = 0; i < DBB_API_LATENCY_BUCKETS; i++)
        s->buckets[i] += seconds <= dbb_api_latency_bounds[i] ? 1 : 0;
    g_mutex_unlock(&c->lock);
    g_free(key);
}

static gint compare_requests(gconstpointer a, gconstpointer b)
{
    const DbbApiRequestCount *x = *(DbbApiRequestCount *const *)a;
    const DbbApiRequestCount *y = *(DbbApiRequestCount *const *)b;
    int d = strcmp(x->service, y->service);

    if (d == 0)
        d = strcmp(x->route, y->route);
    return d ? d : strcmp(x->code, y->code);
}

static gint compare_services(gconstpointer a, gconstpointer b)
{
    return strcmp((*(DbbApiServiceStats *const *)a)->service,
                  (*(DbbApiServiceStats *const *)b)->service);
}

void dbb_api_counters_snapshot(DbbApiCounters *c, DbbApiStats *out)
{
    GHashTableIter it;
    gpointer p;

    out->requests = g_ptr_array_new_with_free_func(request_count_free);
    out->services = g_ptr_array_new_with_free_func(service_stats_free);
    g_mutex_lock(&c->lock);
    g_hash_table_iter_init(&it, c->requests);
    while (g_hash_table_iter_next(&it, NULL, &p)) {
        DbbApiRequestCount *copy = g_memdup2(p, sizeof(DbbApiRequestCount));
        copy->service = g_strdup(copy->service);
        copy->route = g_strdup(copy->route);
        copy->code = g_strdup(copy->code);
        g_ptr_array_add(out->requests, copy);
    }
    g_hash_table_iter_init(&it, c->services);
    while (g_hash_table_iter_next(&it, NULL, &p)) {
        DbbApiServiceStats *copy = g_memdup2(p, sizeof(DbbApiServiceStats));
        copy->service = g_strdup(copy->service);
        g_ptr_array_add(out->services, copy);
    }
    g_mutex_unlock(&c->lock);
    g_ptr_array_sort(out->requests, compare_requests);
    g_ptr_array_sort(out->services, compare_services);
}

void dbb_api_stats_clear(DbbApiStats *stats)
{
    if (!stats)
        return;
    g_clear_pointer(&stats->requests, g_ptr_array_unref);
    g_clear_pointer(&stats->services, g_ptr_array_unref);
}
