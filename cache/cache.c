/*
 * dbbackupfs — the TTL cache: one table under one mutex, single-flight fetches, stale values
 * served when a refresh fails.
 *
 * Each entry holds the last good value and, while a fetch runs, a Flight.  The caller that
 * finds no fresh value and no flight becomes the fetcher: it creates the flight, drops the
 * lock, fetches, retakes the lock and publishes the outcome in the flight.  Callers that
 * find a flight wait on its condition variable and then take a reference to the shared
 * outcome.  The flight is reference-counted so that a waiter woken late still reads the
 * outcome of the fetch it waited for, even if the entry has moved on (been refreshed again,
 * or dropped after a failure) in the meantime.
 *
 * Time boundaries (clock in µs): a value fetched at t is fresh while now < t + ttl, so at
 * exactly t + ttl it is refetched; after a failed refresh it may be served while
 * now - t <= max_stale (and max_stale > 0); the failure holds further fetches off while
 * now - failed_at < error_holdoff.  fetched_at is the clock when the fetch returned, not
 * when it started, so a slow fetch does not shorten the life of what it brought.
 *
 * A fetch must not ask the cache for its own key (it would wait for itself); other keys are
 * fine, since no lock is held while it runs.  dbb_cache_free() must not race with other
 * calls.
 */
#include "cache.h"

G_DEFINE_QUARK(dbb - cache - error, dbb_cache_error)

typedef struct {
    guint refs; /* the fetcher and each waiter; under the cache lock */
    gboolean done;
    gint64 deadline; /* g_get_monotonic_time(): waiters give up then */
    GCond cond;
    gpointer value; /* outcome: a reference owned by the flight, or NULL */
    GError *error;  /* outcome when value is NULL */
    DbbCacheInfo info;
    guint64 generation; /* the cache's when the fetch started */
} Flight;

typedef struct {
    gpointer value; /* last good value (a reference), or NULL */
    gint64 fetched_at;
    gboolean failed; /* the last refresh failed (while a value was held) */
    gint64 failed_at;
    Flight *flight;         /* the fetch in progress, or NULL */
    guint64 records, bytes; /* of value, as value_size counted them */
} Entry;

struct DbbCache {
    DbbCacheConfig config;
    GMutex lock;
    GHashTable *entries; /* key (owned) -> Entry * */
    guint64 generation;  /* dbb_cache_clear() calls so far */
    DbbCacheStats stats; /* under the lock; entries/records/bytes kept current */
};

static gpointer value_ref(DbbCache *cache, gpointer value)
{
    return cache->config.value_ref ? cache->config.value_ref(value) : value;
}

static void value_unref(DbbCache *cache, gpointer value)
{
    if (value && cache->config.value_unref)
        cache->config.value_unref(value);
}

static gint64 cache_now(DbbCache *cache)
{
    return cache->config.clock ? cache->config.clock(cache->config.clock_data)
                               : g_get_monotonic_time();
}

DbbCache *dbb_cache_new(const DbbCacheConfig *config)
{
    DbbCache *cache = g_new0(DbbCache, 1);

    cache->config = *config;
    if (cache->config.wait_timeout <= 0)
        cache->config.wait_timeout = DBB_CACHE_DEFAULT_WAIT;
    g_mutex_init(&cache->lock);
    cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return cache;
}

void dbb_cache_free(DbbCache *cache)
{
    GHashTableIter it;
    gpointer p;

    if (!cache)
        return;
    g_hash_table_iter_init(&it, cache->entries);
    while (g_hash_table_iter_next(&it, NULL, &p)) {
        Entry *e = p;
        g_warn_if_fail(e->flight == NULL);
        value_unref(cache, e->value);
    }
    g_hash_table_unref(cache->entries);
    g_mutex_clear(&cache->lock);
    g_free(cache);
}

static void fill_info(DbbCacheInfo *info, gint64 fetched_at, gint64 expires_at, gboolean stale,
                      gboolean fetched)
{
    if (!info)
        return;
    info->fetched_at = fetched_at;
    info->expires_at = expires_at;
    info->stale = stale;
    info->fetched = fetched;
}

static gboolean is_fresh(DbbCache *cache, const Entry *e, gint64 now)
{
    return e->value && now - e->fetched_at < cache->config.ttl;
}

static gboolean may_serve_stale(DbbCache *cache, const Entry *e, gint64 now)
{
    return e->value && cache->config.max_stale > 0 &&
           now - e->fetched_at <= cache->config.max_stale;
}

/* The last refresh failed recently enough that asking the API again would only make the
 * caller wait for another failure. */
static gboolean in_holdoff(DbbCache *cache, const Entry *e, gint64 now)
{
    return e->failed && now - e->failed_at < cache->config.error_holdoff &&
           may_serve_stale(cache, e, now);
}

/* Keep the held totals current as e's value changes to one of the given size. Lock held. */
static void account(DbbCache *cache, Entry *e, guint values, guint64 records, guint64 bytes)
{
    cache->stats.entries = cache->stats.entries - (e->value ? 1 : 0) + values;
    cache->stats.records = cache->stats.records - e->records + records;
    cache->stats.bytes = cache->stats.bytes - e->bytes + bytes;
    e->records = records;
    e->bytes = bytes;
}

static void flight_release(DbbCache *cache, Flight *f)
{
    if (--f->refs > 0)
        return;
    value_unref(cache, f->value);
    g_clear_error(&f->error);
    g_cond_clear(&f->cond);
    g_free(f);
}

/* The fetch a caller waited for outlived its deadline: the previous value if it may still be
 * served, else an error.  Lock held. */
static gpointer give_up_waiting(DbbCache *cache, const char *key, Entry *e, gint64 now,
                                DbbCacheInfo *info, char **warning, GError **error)
{
    gint64 waited_s = cache->config.wait_timeout / G_USEC_PER_SEC;

    if (e != NULL && may_serve_stale(cache, e, now)) {
        *warning =
            g_strdup_printf("another caller's fetch of %s is still running after %" G_GINT64_FORMAT
                            " s; serving the listing fetched %.0f s ago",
                            key, waited_s, (now - e->fetched_at) / (double)G_USEC_PER_SEC);
        fill_info(info, e->fetched_at, now, TRUE, FALSE);
        return value_ref(cache, e->value);
    }
    g_set_error(error, DBB_CACHE_ERROR, 0,
                "waited %" G_GINT64_FORMAT " s for another caller's fetch of %s; giving up",
                waited_s, key);
    *warning = g_strdup((*error)->message);
    return NULL;
}

/* Wait for another caller's fetch of the same key, no longer than the fetch's deadline;
 * called and returns with the lock held. */
static gpointer join_flight(DbbCache *cache, const char *key, Flight *f, DbbCacheInfo *info,
                            char **warning, GError **error)
{
    gpointer value = NULL;

    f->refs++;
    cache->stats.joins++;
    while (!f->done && g_cond_wait_until(&f->cond, &cache->lock, f->deadline))
        ;
    if (!f->done) {
        /* The entry may have moved on meanwhile; look it up again. */
        value = give_up_waiting(cache, key, g_hash_table_lookup(cache->entries, key),
                                cache_now(cache), info, warning, error);
    } else if (f->value) {
        value = value_ref(cache, f->value);
        *info = f->info;
        info->fetched = FALSE;
    } else {
        g_propagate_error(error, g_error_copy(f->error));
    }
    flight_release(cache, f);
    return value;
}

/* The fetch failed: serve the previous value if it is young enough, else hand the error to
 * everyone.  Lock held.  Returns the caller's reference to the stale value, or NULL; *warning
 * gets the line to log once the lock is released. */
static gpointer settle_failure(DbbCache *cache, const char *key, Entry *e, Flight *f, gint64 now,
                               GError *fetch_error, DbbCacheInfo *info, char **warning,
                               GError **error)
{
    if (may_serve_stale(cache, e, now)) {
        e->failed = TRUE;
        e->failed_at = now;
        *warning = g_strdup_printf("refreshing %s failed (%s); serving the stale listing "
                                   "fetched %.0f s ago",
                                   key, fetch_error->message,
                                   (now - e->fetched_at) / (double)G_USEC_PER_SEC);
        g_error_free(fetch_error);
        cache->stats.stale++;
        fill_info(&f->info, e->fetched_at, now, TRUE, FALSE);
        f->value = value_ref(cache, e->value);
        *info = f->info;
        info->fetched = TRUE;
        return value_ref(cache, e->value);
    }
    f->error = g_error_copy(fetch_error);
    g_propagate_error(error, fetch_error);
    return NULL;
}

/* What the fetcher does once the lock is released. */
typedef struct {
    gpointer old;  /* a replaced value to unref */
    char *warning; /* a line to log */
} Aftermath;

/* Run the fetch as the only fetcher of key; called and returns with the lock held, drops it
 * meanwhile. */
static gpointer run_flight(DbbCache *cache, const char *key, Entry *e, DbbCacheFetchFunc fetch,
                           gpointer user_data, DbbCacheInfo *info, Aftermath *after, GError **error)
{
    Flight *f = g_new0(Flight, 1);
    GError *fetch_error = NULL;
    gpointer value, result;
    gint64 now;
    guint64 records = 0, bytes = 0;
    gboolean cleared;

    g_cond_init(&f->cond);
    f->refs = 1;
    f->deadline = g_get_monotonic_time() + cache->config.wait_timeout;
    f->generation = cache->generation;
    e->flight = f;

    g_mutex_unlock(&cache->lock);
    value = fetch(key, user_data, &fetch_error);
    if (value && cache->config.value_size)
        cache->config.value_size(value, &records, &bytes);
    g_mutex_lock(&cache->lock);

    now = cache_now(cache);
    cleared = f->generation != cache->generation;
    if (value) {
        if (fetch_error) /* a confused fetch: the value wins */
            g_clear_error(&fetch_error);
        cache->stats.fetched++;
        account(cache, e, 1, records, bytes);
        after->old = e->value;
        if (after->old && cache->config.replaced)
            cache->config.replaced(key, after->old, value, cache->config.replaced_data);
        e->value = value;
        /* A fetch that overlapped a clear may have read the old state: its callers get it,
         * already expired, and the next call fetches again. */
        e->fetched_at = cleared ? now - cache->config.ttl : now;
        e->failed = FALSE;
        fill_info(&f->info, now, cleared ? now : now + cache->config.ttl, FALSE, FALSE);
        f->value = value_ref(cache, value);
        *info = f->info;
        info->fetched = TRUE;
        result = value_ref(cache, value);
    } else {
        cache->stats.failed++;
        if (!fetch_error)
            fetch_error =
                g_error_new(DBB_CACHE_ERROR, 0, "fetching %s failed without a reason", key);
        result = settle_failure(cache, key, e, f, now, fetch_error, info, &after->warning, error);
    }
    f->done = TRUE;
    e->flight = NULL;
    g_cond_broadcast(&f->cond);
    flight_release(cache, f);
    return result;
}

gpointer dbb_cache_get(DbbCache *cache, const char *key, DbbCacheFetchFunc fetch,
                       gpointer user_data, DbbCacheInfo *info, GError **error)
{
    DbbCacheInfo local;
    Aftermath after = {NULL, NULL};
    gpointer value = NULL;
    Entry *e;
    gint64 now;

    g_return_val_if_fail(cache && key && fetch, NULL);
    if (!info)
        info = &local;

    g_mutex_lock(&cache->lock);
    now = cache_now(cache);
    e = g_hash_table_lookup(cache->entries, key);
    if (!e) {
        e = g_new0(Entry, 1);
        g_hash_table_insert(cache->entries, g_strdup(key), e);
    }
    if (is_fresh(cache, e, now)) {
        cache->stats.hits++;
        value = value_ref(cache, e->value);
        fill_info(info, e->fetched_at, e->fetched_at + cache->config.ttl, FALSE, FALSE);
    } else if (e->flight) {
        value = join_flight(cache, key, e->flight, info, &after.warning, error);
    } else if (in_holdoff(cache, e, now)) {
        cache->stats.stale++;
        value = value_ref(cache, e->value);
        fill_info(info, e->fetched_at, now, TRUE, FALSE);
    } else {
        value = run_flight(cache, key, e, fetch, user_data, info, &after, error);
        /* errors are not cached: an entry that never got a value goes away with the flight */
        if (!e->value)
            g_hash_table_remove(cache->entries, key);
    }
    g_mutex_unlock(&cache->lock);

    /* the replaced value may be a whole listing: free it outside the lock */
    value_unref(cache, after.old);
    if (after.warning) {
        g_warning("cache: %s", after.warning);
        g_free(after.warning);
    }
    return value;
}

static gpointer peek(DbbCache *cache, const char *key, DbbCacheInfo *info, gboolean expired_too)
{
    gpointer value = NULL;
    Entry *e;
    gint64 now;

    g_return_val_if_fail(cache && key, NULL);
    g_mutex_lock(&cache->lock);
    now = cache_now(cache);
    e = g_hash_table_lookup(cache->entries, key);
    if (e && e->value && (expired_too || is_fresh(cache, e, now))) {
        value = value_ref(cache, e->value);
        fill_info(info, e->fetched_at, e->fetched_at + cache->config.ttl, !is_fresh(cache, e, now),
                  FALSE);
    }
    g_mutex_unlock(&cache->lock);
    return value;
}

gpointer dbb_cache_peek(DbbCache *cache, const char *key, DbbCacheInfo *info)
{
    return peek(cache, key, info, FALSE);
}

gpointer dbb_cache_peek_stale(DbbCache *cache, const char *key, DbbCacheInfo *info)
{
    return peek(cache, key, info, TRUE);
}

guint dbb_cache_prune(DbbCache *cache)
{
    g_autoptr(GPtrArray) dropped = g_ptr_array_new();
    GHashTableIter it;
    gpointer p;
    guint n = 0;
    gint64 now;

    g_return_val_if_fail(cache, 0);
    g_mutex_lock(&cache->lock);
    now = cache_now(cache);
    g_hash_table_iter_init(&it, cache->entries);
    while (g_hash_table_iter_next(&it, NULL, &p)) {
        Entry *e = p;
        if (e->flight || is_fresh(cache, e, now) || may_serve_stale(cache, e, now))
            continue;
        if (e->value)
            g_ptr_array_add(dropped, e->value);
        account(cache, e, 0, 0, 0);
        g_hash_table_iter_remove(&it);
        n++;
    }
    g_mutex_unlock(&cache->lock);

    /* listings can be large: free them outside the lock */
    for (guint i = 0; i < dropped->len; i++)
        value_unref(cache, g_ptr_array_index(dropped, i));
    return n;
}

void dbb_cache_clear(DbbCache *cache)
{
    g_autoptr(GPtrArray) dropped = g_ptr_array_new();
    GHashTableIter it;
    gpointer p;

    g_return_if_fail(cache);
    g_mutex_lock(&cache->lock);
    cache->generation++;
    cache->stats.cleared++;
    g_hash_table_iter_init(&it, cache->entries);
    while (g_hash_table_iter_next(&it, NULL, &p)) {
        Entry *e = p;
        if (e->value)
            g_ptr_array_add(dropped, e->value);
        account(cache, e, 0, 0, 0);
        e->value = NULL;
        e->failed = FALSE;
        /* The fetcher still points at an entry with a flight: it removes it if need be. */
        if (!e->flight)
            g_hash_table_iter_remove(&it);
    }
    g_mutex_unlock(&cache->lock);

    for (guint i = 0; i < dropped->len; i++)
        value_unref(cache, g_ptr_array_index(dropped, i));
}

void dbb_cache_stats(DbbCache *cache, DbbCacheStats *out)
{
    g_return_if_fail(cache && out);
    g_mutex_lock(&cache->lock);
    *out = cache->stats;
    g_mutex_unlock(&cache->lock);
}

guint dbb_cache_size(DbbCache *cache)
{
    guint n;

    g_return_val_if_fail(cache, 0);
    g_mutex_lock(&cache->lock);
    n = g_hash_table_size(cache->entries);
    g_mutex_unlock(&cache->lock);
    return n;
}

gint64 dbb_cache_now(DbbCache *cache)
{
    g_return_val_if_fail(cache, 0);
    return cache_now(cache);
}
