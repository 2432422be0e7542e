/*
 * dbbackupfs — a TTL cache of complete listings, knowing nothing of FUSE or HTTP.
 *
 * Promises:
 * - Within `ttl` of its fetch an entry is answered from memory, with no fetch.
 * - A missing or expired entry is fetched by exactly one caller at a time (single-flight):
 *   concurrent callers of the same key wait for that fetch and share its outcome (the same
 *   value, or a copy of the same error).  Different keys fetch in parallel.
 * - A caller waits for another's fetch no longer than `wait_timeout` from that fetch's start
 *   (real monotonic time, whatever the injected clock says): then it gets the previous value
 *   if it may be served stale, else a DBB_CACHE_ERROR (code 0, read as EIO), with a
 *   g_warning either way.  The fetch itself goes on and is published when it ends.
 * - Errors are never cached: the next call after a failed fetch fetches again — except that
 *   when a previous value exists and is younger than `max_stale`, that value is served
 *   (info->stale set, one g_warning logged per failed refresh), and further calls within
 *   `error_holdoff` of the failure get it too without another fetch, so a walk over a
 *   stale tree during an outage does not wait `timeout` at every directory.
 * - Values are reference-counted through the caller's ops: a value handed out stays valid
 *   until the receiver unrefs it, whatever the cache does meanwhile.
 * - dbb_cache_clear() forgets every value: the next call for any key fetches, and a fetch
 *   that was running during the clear hands its outcome to its callers but is not kept as
 *   fresh (it may have read the old state).
 * - Counters (dbb_cache_stats) only grow: every call is counted once as a hit, a join, a
 *   stale answer or a fetch that brought a value or failed.
 * - Time comes from an injected clock (monotonic microseconds) so expiry is testable
 *   without sleeping.
 * Thread-safe.  No lock is held while a fetch runs.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct DbbCache DbbCache;

/* Monotonic time in microseconds. */
typedef gint64 (*DbbClockFunc)(gpointer user_data);

/* Fetch the value of `key`: a new reference, or NULL with *error set. Called without any
 * cache lock held. */
typedef gpointer (*DbbCacheFetchFunc)(const char *key, gpointer user_data, GError **error);

typedef struct {
    gint64 ttl;           /* µs */
    gint64 max_stale;     /* µs; 0: never serve stale */
    gint64 error_holdoff; /* µs; 0: retry the fetch on every call after a failure */
    DbbClockFunc clock;   /* NULL: g_get_monotonic_time() */
    gpointer clock_data;
    gpointer (*value_ref)(gpointer value);
    void (*value_unref)(gpointer value);
    /* Called when a fetch replaces key's previous value (not on a first fetch, a failure, a
     * prune or a clear), with the cache lock held and before any caller can receive the new
     * value, so a listener learns of every generation change first.  It must not call the
     * cache; old and new_value are borrowed (take references to keep them).  May be NULL. */
    void (*replaced)(const char *key, gpointer old, gpointer new_value, gpointer user_data);
    gpointer replaced_data;
    /* µs a waiter waits for another caller's fetch: the fetch's own deadline.  0: 5 min. */
    gint64 wait_timeout;
    /* What a value holds, for dbb_cache_stats(); called once per fetched value, without
     * the lock; may be NULL. */
    void (*value_size)(gpointer value, guint64 *records, guint64 *bytes);
} DbbCacheConfig;

#define DBB_CACHE_DEFAULT_WAIT (5 * 60 * G_USEC_PER_SEC)

#define DBB_CACHE_ERROR (dbb_cache_error_quark())
GQuark dbb_cache_error_quark(void);

typedef struct {
    gint64 fetched_at; /* clock time the value was fetched */
    gint64 expires_at; /* fetched_at + ttl; for a stale value, the time it was served */
    gboolean stale;    /* served because a refresh failed */
    gboolean fetched;  /* this call ran the fetch itself */
} DbbCacheInfo;

DbbCache *dbb_cache_new(const DbbCacheConfig *config);
void dbb_cache_free(DbbCache *cache);

/* A new reference to key's value (see the promises above), or NULL with *error set.
 * info may be NULL. */
gpointer dbb_cache_get(DbbCache *cache, const char *key, DbbCacheFetchFunc fetch,
                       gpointer user_data, DbbCacheInfo *info, GError **error);

/* A new reference to key's value if present and fresh, else NULL; never fetches. */
gpointer dbb_cache_peek(DbbCache *cache, const char *key, DbbCacheInfo *info);

/* A new reference to key's last good value even when it has expired (info->stale set
 * then), or NULL when there is none; never fetches. */
gpointer dbb_cache_peek_stale(DbbCache *cache, const char *key, DbbCacheInfo *info);

/* Drop entries that can no longer be served: expired and older than max_stale.
 * Returns how many were dropped. */
guint dbb_cache_prune(DbbCache *cache);

/* Drop every value (a manual refresh; see the promises): the next get of any key fetches. */
void dbb_cache_clear(DbbCache *cache);

typedef struct {
    guint64 hits;    /* calls answered from a fresh value */
    guint64 fetched; /* fetches that brought a value */
    guint64 failed;  /* fetches that failed (a stale value may still have been served) */
    guint64 stale;   /* calls answered with a stale value after a failed refresh */
    guint64 joins;   /* calls that waited for another caller's fetch of the same key */
    guint64 cleared; /* dbb_cache_clear() calls */
    guint entries;   /* values held */
    guint64 records; /* as value_size counts them, over the values held */
    guint64 bytes;
} DbbCacheStats;

void dbb_cache_stats(DbbCache *cache, DbbCacheStats *out);

/* Number of entries held. */
guint dbb_cache_size(DbbCache *cache);

/* Current time of the cache's clock. */
gint64 dbb_cache_now(DbbCache *cache);

G_END_DECLS
