/*
 * Unit tests of cache/cache.c, with a fake clock and latches: nothing here sleeps.
 *
 * Time boundaries under test (cache.c documents them): a value fetched at t is fresh while
 * now < t + ttl (so t + ttl - 1 is served from memory and t + ttl refetches); a stale value
 * may be served while now - t <= max_stale; the holdoff lasts while now - failed_at <
 * error_holdoff.
 *
 * How the threaded tests know every thread is inside the cache without sleeping: the cache
 * reads its clock exactly once, under its lock, when a call starts, and a waiter goes from
 * there straight to waiting on the flight without releasing the lock.  The fake clock counts
 * its readings, so "N readings while the fetch is blocked" means N callers are waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache/cache.h"

#define TTL       100
#define MAX_STALE 1000
#define N_THREADS 8
/* Only a guard against a hang when the code under test is broken, never a timing source. */
#define LATCH_TIMEOUT (30 * G_TIME_SPAN_SECOND)

#define TEST_ERROR (g_quark_from_static_string("test-error"))

/* ---- values: counted references, so lifetimes can be checked --------------------- */

typedef struct {
    gint refs;
    guint serial;
} TestValue;

static gint live_values;

static TestValue *tv_new(guint serial)
{
    TestValue *v = g_new0(TestValue, 1);
    v->refs = 1;
    v->serial = serial;
    g_atomic_int_inc(&live_values);
    return v;
}

static gpointer tv_ref(gpointer p)
{
    TestValue *v = p;
    g_atomic_int_inc(&v->refs);
    return v;
}

static void tv_unref(gpointer p)
{
    TestValue *v = p;
    if (g_atomic_int_dec_and_test(&v->refs)) {
        g_atomic_int_add(&live_values, -1);
        g_free(v);
    }
}

static gint tv_refs(TestValue *v)
{
    return g_atomic_int_get(&v->refs);
}

/* ---- the fake clock -------------------------------------------------------------------- */

typedef struct {
    GMutex m;
    GCond c;
    gint64 now;
    guint readings;
} FakeClock;

static gint64 fake_now(gpointer data)
{
    FakeClock *clock = data;
    gint64 now;

    g_mutex_lock(&clock->m);
    clock->readings++;
    now = clock->now;
    g_cond_broadcast(&clock->c);
    g_mutex_unlock(&clock->m);
    return now;
}

static void clock_set(FakeClock *clock, gint64 now)
{
    g_mutex_lock(&clock->m);
    clock->now = now;
    g_mutex_unlock(&clock->m);
}

static void clock_advance(FakeClock *clock, gint64 delta)
{
    g_mutex_lock(&clock->m);
    clock->now += delta;
    g_mutex_unlock(&clock->m);
}

static guint clock_readings(FakeClock *clock)
{
    guint n;
    g_mutex_lock(&clock->m);
    n = clock->readings;
    g_mutex_unlock(&clock->m);
    return n;
}

static void clock_wait_readings(FakeClock *clock, guint n)
{
    gint64 deadline = g_get_monotonic_time() + LATCH_TIMEOUT;

    g_mutex_lock(&clock->m);
    while (clock->readings < n) {
        if (!g_cond_wait_until(&clock->c, &clock->m, deadline))
            break;
    }
    guint got = clock->readings;
    g_mutex_unlock(&clock->m);
    if (got < n)
        fail_msg("only %u clock readings, expected %u: callers are not getting through", got, n);
}

/* ---- the fetch: counts calls, can fail, can block on a latch -------------------------- */

typedef struct {
    GMutex m;
    GCond c;
    guint calls;
    guint inside;     /* fetches running now */
    guint max_inside; /* the most that ever ran at once */
    gboolean hold;    /* block until released */
    gboolean released;
    guint wait_inside; /* block until this many fetches have run at once (0: no) */
    gboolean fail;
    gboolean fail_silently; /* return NULL without an error */
} Fetcher;

static void fetcher_init(Fetcher *f)
{
    memset(f, 0, sizeof(*f));
    g_mutex_init(&f->m);
    g_cond_init(&f->c);
}

static void fetcher_clear(Fetcher *f)
{
    g_mutex_clear(&f->m);
    g_cond_clear(&f->c);
}

static guint fetcher_calls(Fetcher *f)
{
    guint n;
    g_mutex_lock(&f->m);
    n = f->calls;
    g_mutex_unlock(&f->m);
    return n;
}

static void fetcher_set_fail(Fetcher *f, gboolean fail)
{
    g_mutex_lock(&f->m);
    f->fail = fail;
    g_mutex_unlock(&f->m);
}

static void fetcher_release(Fetcher *f)
{
    g_mutex_lock(&f->m);
    f->released = TRUE;
    g_cond_broadcast(&f->c);
    g_mutex_unlock(&f->m);
}

/* Wait until `n` fetches are inside at once. */
static void fetcher_wait_inside(Fetcher *f, guint n)
{
    gint64 deadline = g_get_monotonic_time() + LATCH_TIMEOUT;

    g_mutex_lock(&f->m);
    while (f->inside < n) {
        if (!g_cond_wait_until(&f->c, &f->m, deadline))
            break;
    }
    guint got = f->inside;
    g_mutex_unlock(&f->m);
    if (got < n)
        fail_msg("only %u fetches inside, expected %u", got, n);
}

static gpointer fetch_cb(const char *key, gpointer data, GError **error)
{
    Fetcher *f = data;
    gint64 deadline = g_get_monotonic_time() + LATCH_TIMEOUT;
    gboolean fail, silent;
    guint serial;

    g_mutex_lock(&f->m);
    serial = ++f->calls;
    f->inside++;
    f->max_inside = MAX(f->max_inside, f->inside);
    g_cond_broadcast(&f->c);
    while ((f->hold && !f->released) || f->max_inside < f->wait_inside) {
        if (!g_cond_wait_until(&f->c, &f->m, deadline))
            break; /* the test will fail on its counts */
    }
    f->inside--;
    fail = f->fail;
    silent = f->fail_silently;
    g_mutex_unlock(&f->m);

    if (fail) {
        if (!silent)
            g_set_error(error, TEST_ERROR, 7, "backend down (call %u for %s)", serial, key);
        return NULL;
    }
    return tv_new(serial);
}

/* ---- captured warnings ------------------------------------------------------------------ */

typedef struct {
    GMutex m;
    guint count;
    char *last;
} Warnings;

static Warnings warnings;

static void warning_handler(const char *domain, GLogLevelFlags level, const char *message,
                            gpointer data)
{
    g_mutex_lock(&warnings.m);
    warnings.count++;
    g_free(warnings.last);
    warnings.last = g_strdup(message);
    g_mutex_unlock(&warnings.m);
}

/* ---- fixture ---------------------------------------------------------------------------- */

typedef struct {
    FakeClock clock;
    Fetcher fetcher;
    DbbCache *cache;
    guint handler;
} Fixture;

static DbbCache *new_cache(Fixture *fx, gint64 max_stale, gint64 holdoff)
{
    DbbCacheConfig config = {
        .ttl = TTL,
        .max_stale = max_stale,
        .error_holdoff = holdoff,
        .clock = fake_now,
        .clock_data = &fx->clock,
        .value_ref = tv_ref,
        .value_unref = tv_unref,
    };
    return dbb_cache_new(&config);
}

static int setup(void **state)
{
    Fixture *fx = g_new0(Fixture, 1);

    g_mutex_init(&fx->clock.m);
    g_cond_init(&fx->clock.c);
    fetcher_init(&fx->fetcher);
    fx->cache = new_cache(fx, MAX_STALE, 0);
    warnings.count = 0;
    g_clear_pointer(&warnings.last, g_free);
    fx->handler = g_log_set_handler(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, warning_handler, NULL);
    g_atomic_int_set(&live_values, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fixture *fx = *state;

    dbb_cache_free(fx->cache);
    g_log_remove_handler(G_LOG_DOMAIN, fx->handler);
    fetcher_clear(&fx->fetcher);
    g_mutex_clear(&fx->clock.m);
    g_cond_clear(&fx->clock.c);
    g_free(fx);
    g_clear_pointer(&warnings.last, g_free);
    /* every value the cache or a test held has been released */
    assert_int_equal(g_atomic_int_get(&live_values), 0);
    return 0;
}

static void replace_cache(Fixture *fx, gint64 max_stale, gint64 holdoff)
{
    dbb_cache_free(fx->cache);
    fx->cache = new_cache(fx, max_stale, holdoff);
}

/* dbb_cache_get that must succeed */
static TestValue *get_ok(Fixture *fx, const char *key, DbbCacheInfo *info)
{
    g_autoptr(GError) error = NULL;
    TestValue *v = dbb_cache_get(fx->cache, key, fetch_cb, &fx->fetcher, info, &error);

    if (!v)
        fail_msg("get %s failed: %s", key, error ? error->message : "(no error)");
    assert_null(error);
    return v;
}

/* ---- single-threaded behaviour ----------------------------------------------------------- */

static void test_fresh_until_ttl(void **state)
{
    Fixture *fx = *state;
    DbbCacheInfo info;
    TestValue *v1, *v2, *v3;

    clock_set(&fx->clock, 1000);
    v1 = get_ok(fx, "k", &info);
    assert_int_equal(v1->serial, 1);
    assert_true(info.fetched);
    assert_false(info.stale);
    assert_int_equal(info.fetched_at, 1000);
    assert_int_equal(info.expires_at, 1000 + TTL);

    clock_set(&fx->clock, 1000 + TTL - 1); /* last fresh instant */
    v2 = get_ok(fx, "k", &info);
    assert_ptr_equal(v2, v1);
    assert_false(info.fetched);
    assert_false(info.stale);
    assert_int_equal(info.fetched_at, 1000);
    assert_int_equal(info.expires_at, 1000 + TTL);
    assert_int_equal(fetcher_calls(&fx->fetcher), 1);

    clock_set(&fx->clock, 1000 + TTL); /* expired: refetch */
    v3 = get_ok(fx, "k", &info);
    assert_int_equal(v3->serial, 2);
    assert_true(info.fetched);
    assert_int_equal(info.fetched_at, 1000 + TTL);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);

    tv_unref(v1);
    tv_unref(v2);
    tv_unref(v3);
}

static void test_keys_are_separate(void **state)
{
    Fixture *fx = *state;
    TestValue *a = get_ok(fx, "a", NULL);
    TestValue *b = get_ok(fx, "b", NULL);
    TestValue *a2 = get_ok(fx, "a", NULL);

    assert_ptr_not_equal(a, b);
    assert_ptr_equal(a, a2);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
    assert_int_equal(dbb_cache_size(fx->cache), 2);
    tv_unref(a);
    tv_unref(b);
    tv_unref(a2);
}

static void test_null_info(void **state)
{
    Fixture *fx = *state;
    TestValue *v = get_ok(fx, "k", NULL);
    TestValue *p = dbb_cache_peek(fx->cache, "k", NULL);

    assert_non_null(v);
    assert_ptr_equal(p, v);
    tv_unref(v);
    tv_unref(p);

    /* the error path with NULL info (and a NULL GError**) */
    fetcher_set_fail(&fx->fetcher, TRUE);
    clock_set(&fx->clock, MAX_STALE + 1);
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, NULL, NULL));
    assert_null(dbb_cache_get(fx->cache, "other", fetch_cb, &fx->fetcher, NULL, NULL));
}

static void test_errors_not_cached(void **state)
{
    Fixture *fx = *state;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    DbbCacheInfo info;

    fetcher_set_fail(&fx->fetcher, TRUE);
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, &info, &e1));
    assert_true(g_error_matches(e1, TEST_ERROR, 7));
    assert_string_equal(e1->message, "backend down (call 1 for k)");
    assert_int_equal(dbb_cache_size(fx->cache), 0);

    /* same instant: still fetched again */
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, &info, &e2));
    assert_string_equal(e2->message, "backend down (call 2 for k)");
    assert_null(dbb_cache_peek(fx->cache, "k", NULL));

    fetcher_set_fail(&fx->fetcher, FALSE);
    TestValue *v = get_ok(fx, "k", &info);
    assert_int_equal(v->serial, 3);
    assert_true(info.fetched);
    assert_int_equal(warnings.count, 0); /* nothing stale was served */
    tv_unref(v);
}

static void test_fetch_fails_without_error(void **state)
{
    Fixture *fx = *state;
    g_autoptr(GError) error = NULL;

    fx->fetcher.fail = TRUE;
    fx->fetcher.fail_silently = TRUE;
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, NULL, &error));
    assert_non_null(error); /* the caller always learns why it got nothing */
    assert_non_null(strstr(error->message, "k"));
}

static void test_stale_within_max_stale(void **state)
{
    Fixture *fx = *state;
    DbbCacheInfo info;
    g_autoptr(GError) error = NULL;
    TestValue *v1, *s;

    v1 = get_ok(fx, "projects", NULL);
    fetcher_set_fail(&fx->fetcher, TRUE);

    clock_set(&fx->clock, 500);
    s = get_ok(fx, "projects", &info);
    assert_ptr_equal(s, v1);
    assert_true(info.stale);
    assert_true(info.fetched);
    assert_int_equal(info.fetched_at, 0);
    assert_int_equal(info.expires_at, 500);
    assert_int_equal(warnings.count, 1);
    assert_non_null(strstr(warnings.last, "projects"));
    assert_non_null(strstr(warnings.last, "backend down (call 2 for projects)"));
    tv_unref(s);

    /* no holdoff: every call retries, and every failed retry warns once */
    clock_set(&fx->clock, MAX_STALE); /* the last instant it may be served */
    s = get_ok(fx, "projects", &info);
    assert_ptr_equal(s, v1);
    assert_true(info.stale);
    assert_int_equal(fetcher_calls(&fx->fetcher), 3);
    assert_int_equal(warnings.count, 2);
    tv_unref(s);

    /* a stale value is never "fresh" for peek */
    assert_null(dbb_cache_peek(fx->cache, "projects", NULL));

    clock_set(&fx->clock, MAX_STALE + 1); /* too old: the error goes through */
    assert_null(dbb_cache_get(fx->cache, "projects", fetch_cb, &fx->fetcher, &info, &error));
    assert_true(g_error_matches(error, TEST_ERROR, 7));
    assert_int_equal(fetcher_calls(&fx->fetcher), 4);
    assert_int_equal(warnings.count, 2);

    /* recovery: a good fetch replaces the old value and clears the stale state */
    fetcher_set_fail(&fx->fetcher, FALSE);
    TestValue *v5 = get_ok(fx, "projects", &info);
    assert_int_equal(v5->serial, 5);
    assert_false(info.stale);
    assert_int_equal(tv_refs(v1), 1); /* only ours: the cache let go of it */
    tv_unref(v1);
    tv_unref(v5);
}

static void test_max_stale_zero(void **state)
{
    Fixture *fx = *state;
    g_autoptr(GError) error = NULL;

    replace_cache(fx, 0, 1000);
    TestValue *v = get_ok(fx, "k", NULL);
    fetcher_set_fail(&fx->fetcher, TRUE);
    clock_set(&fx->clock, TTL);
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, NULL, &error));
    assert_true(g_error_matches(error, TEST_ERROR, 7));
    assert_int_equal(warnings.count, 0);
    /* no holdoff either: it only applies to a servable stale value */
    g_clear_error(&error);
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, NULL, &error));
    assert_int_equal(fetcher_calls(&fx->fetcher), 3);
    tv_unref(v);
}

static void test_error_holdoff(void **state)
{
    Fixture *fx = *state;
    DbbCacheInfo info;
    TestValue *v1, *s;

    replace_cache(fx, MAX_STALE, 50);
    v1 = get_ok(fx, "k", NULL);
    fetcher_set_fail(&fx->fetcher, TRUE);

    clock_set(&fx->clock, 200);
    s = get_ok(fx, "k", &info);
    assert_true(info.stale && info.fetched);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
    tv_unref(s);

    clock_set(&fx->clock, 249); /* within the holdoff: stale, no fetch, no new warning */
    s = get_ok(fx, "k", &info);
    assert_ptr_equal(s, v1);
    assert_true(info.stale);
    assert_false(info.fetched);
    assert_int_equal(info.fetched_at, 0);
    assert_int_equal(info.expires_at, 249);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
    assert_int_equal(warnings.count, 1);
    tv_unref(s);

    clock_set(&fx->clock, 250); /* holdoff over: try again */
    fetcher_set_fail(&fx->fetcher, FALSE);
    s = get_ok(fx, "k", &info);
    assert_int_equal(s->serial, 3);
    assert_false(info.stale);
    tv_unref(s);

    /* after a success the holdoff is gone: the next expiry fetches at once */
    clock_set(&fx->clock, 250 + TTL);
    s = get_ok(fx, "k", &info);
    assert_int_equal(s->serial, 4);
    tv_unref(s);
    tv_unref(v1);
}

static void test_holdoff_bounded_by_max_stale(void **state)
{
    Fixture *fx = *state;
    g_autoptr(GError) error = NULL;
    DbbCacheInfo info;
    TestValue *s;

    replace_cache(fx, 300, 10000);
    TestValue *v1 = get_ok(fx, "k", NULL);
    fetcher_set_fail(&fx->fetcher, TRUE);
    clock_set(&fx->clock, 200);
    s = get_ok(fx, "k", &info);
    assert_true(info.stale);
    tv_unref(s);
    clock_set(&fx->clock, 300);
    s = get_ok(fx, "k", &info);
    assert_true(info.stale);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
    tv_unref(s);
    clock_set(&fx->clock, 301); /* too old to serve, holdoff or not */
    assert_null(dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, &info, &error));
    assert_int_equal(fetcher_calls(&fx->fetcher), 3);
    tv_unref(v1);
}

/* A value handed out survives its replacement and the cache itself. */
static void test_value_lifetime(void **state)
{
    Fixture *fx = *state;
    TestValue *v1 = get_ok(fx, "k", NULL);

    assert_int_equal(tv_refs(v1), 2); /* the cache's and ours */
    clock_set(&fx->clock, TTL);
    TestValue *v2 = get_ok(fx, "k", NULL);
    assert_ptr_not_equal(v1, v2);
    assert_int_equal(tv_refs(v1), 1);
    assert_int_equal(tv_refs(v2), 2);
    assert_int_equal(g_atomic_int_get(&live_values), 2);

    dbb_cache_free(fx->cache);
    fx->cache = new_cache(fx, MAX_STALE, 0);
    assert_int_equal(tv_refs(v2), 1);
    assert_int_equal(v1->serial, 1); /* still readable */
    tv_unref(v1);
    tv_unref(v2);
    assert_int_equal(g_atomic_int_get(&live_values), 0);
}

static void test_peek(void **state)
{
    Fixture *fx = *state;
    DbbCacheInfo info;

    assert_null(dbb_cache_peek(fx->cache, "k", &info));
    clock_set(&fx->clock, 10);
    TestValue *v = get_ok(fx, "k", NULL);
    clock_set(&fx->clock, 10 + TTL - 1);
    TestValue *p = dbb_cache_peek(fx->cache, "k", &info);
    assert_ptr_equal(p, v);
    assert_false(info.fetched);
    assert_false(info.stale);
    assert_int_equal(info.fetched_at, 10);
    assert_int_equal(info.expires_at, 10 + TTL);
    tv_unref(p);
    clock_set(&fx->clock, 10 + TTL);
    assert_null(dbb_cache_peek(fx->cache, "k", &info));
    assert_int_equal(fetcher_calls(&fx->fetcher), 1); /* peek never fetches */
    tv_unref(v);
}

static void test_peek_stale(void **state)
{
    Fixture *fx = *state;
    DbbCacheInfo info;

    assert_null(dbb_cache_peek_stale(fx->cache, "k", &info));
    clock_set(&fx->clock, 10);
    TestValue *v = get_ok(fx, "k", NULL);
    clock_set(&fx->clock, 10 + TTL + MAX_STALE + 5); /* long expired */
    TestValue *p = dbb_cache_peek_stale(fx->cache, "k", &info);
    assert_ptr_equal(p, v);
    assert_true(info.stale);
    assert_int_equal(info.fetched_at, 10);
    tv_unref(p);
    assert_int_equal(fetcher_calls(&fx->fetcher), 1); /* never fetches */
    tv_unref(v);
}

static void test_clear(void **state)
{
    Fixture *fx = *state;

    TestValue *a = get_ok(fx, "a", NULL);
    TestValue *b = get_ok(fx, "b", NULL);
    assert_int_equal(tv_refs(a), 2);
    dbb_cache_clear(fx->cache);
    assert_int_equal(tv_refs(a), 1); /* the cache let go; the holder still has it */
    assert_int_equal(dbb_cache_size(fx->cache), 0);
    assert_null(dbb_cache_peek_stale(fx->cache, "a", NULL));
    TestValue *a2 = get_ok(fx, "a", NULL); /* fresh within ttl, and fetched again */
    assert_ptr_not_equal(a2, a);
    assert_int_equal(fetcher_calls(&fx->fetcher), 3);
    tv_unref(a);
    tv_unref(b);
    tv_unref(a2);
}

typedef struct {
    guint calls;
    TestValue *old, *new_value;
    gint old_refs_inside;
} Replaced;

static void on_replaced(const char *key, gpointer old, gpointer new_value, gpointer data)
{
    Replaced *r = data;

    r->calls++;
    r->old = old;
    r->new_value = new_value;
    r->old_refs_inside = tv_refs(old);
}

static void test_replaced_hook(void **state)
{
    Fixture *fx = *state;
    Replaced r = {0};
    DbbCacheConfig config = {
        .ttl = TTL,
        .max_stale = MAX_STALE,
        .clock = fake_now,
        .clock_data = &fx->clock,
        .value_ref = tv_ref,
        .value_unref = tv_unref,
        .replaced = on_replaced,
        .replaced_data = &r,
    };

    dbb_cache_free(fx->cache);
    fx->cache = dbb_cache_new(&config);
    clock_set(&fx->clock, 0);
    tv_unref(get_ok(fx, "k", NULL));
    assert_int_equal(r.calls, 0); /* a first fetch replaces nothing */
    clock_set(&fx->clock, TTL);
    fetcher_set_fail(&fx->fetcher, TRUE);
    g_autoptr(GError) error = NULL;
    TestValue *stale = dbb_cache_get(fx->cache, "k", fetch_cb, &fx->fetcher, NULL, &error);
    assert_non_null(stale);
    assert_int_equal(r.calls, 0); /* nor does a failure served stale */
    fetcher_set_fail(&fx->fetcher, FALSE);
    clock_set(&fx->clock, 2 * TTL);
    TestValue *v = get_ok(fx, "k", NULL);
    assert_int_equal(r.calls, 1);
    assert_ptr_equal(r.old, stale);
    assert_ptr_equal(r.new_value, v);
    assert_true(r.old_refs_inside >= 2); /* still the cache's while the hook runs */
    dbb_cache_clear(fx->cache);
    assert_int_equal(r.calls, 1); /* clear is no replacement */
    tv_unref(stale);
    tv_unref(v);
}

static void test_prune(void **state)
{
    Fixture *fx = *state;
    TestValue *v;

    clock_set(&fx->clock, 0);
    tv_unref(get_ok(fx, "old", NULL));
    clock_set(&fx->clock, 600);
    tv_unref(get_ok(fx, "middle", NULL));
    clock_set(&fx->clock, 1000);
    v = get_ok(fx, "fresh", NULL);
    assert_int_equal(dbb_cache_size(fx->cache), 3);
    assert_int_equal(g_atomic_int_get(&live_values), 3);

    /* nothing is both expired and older than max_stale yet ("old" is exactly max_stale) */
    assert_int_equal(dbb_cache_prune(fx->cache), 0);

    clock_set(&fx->clock, 1001);
    assert_int_equal(dbb_cache_prune(fx->cache), 1);
    assert_int_equal(dbb_cache_size(fx->cache), 2);
    assert_int_equal(g_atomic_int_get(&live_values), 2); /* "old" was released */

    clock_set(&fx->clock, 1000 + MAX_STALE + 1);
    assert_int_equal(dbb_cache_prune(fx->cache), 2); /* "middle", and "fresh" which we hold */
    assert_int_equal(dbb_cache_size(fx->cache), 0);
    assert_int_equal(tv_refs(v), 1);
    tv_unref(v);
}

/* ---- threads ---------------------------------------------------------------------------- */

typedef struct {
    Fixture *fx;
    const char *key;
    TestValue *value;
    GError *error;
    DbbCacheInfo info;
} Call;

static gpointer call_thread(gpointer data)
{
    Call *c = data;
    c->value = dbb_cache_get(c->fx->cache, c->key, fetch_cb, &c->fx->fetcher, &c->info, &c->error);
    return NULL;
}

/* N_THREADS callers of one key while its fetch is held; returns after all have finished. */
static void run_blocked_crowd(Fixture *fx, Call *calls, GThread **threads)
{
    guint readings = clock_readings(&fx->clock);

    fx->fetcher.hold = TRUE;
    fx->fetcher.released = FALSE;
    for (int i = 0; i < N_THREADS; i++) {
        calls[i] = (Call){fx, "crowd", NULL, NULL, {0}};
        threads[i] = g_thread_new("caller", call_thread, &calls[i]);
    }
    fetcher_wait_inside(&fx->fetcher, 1);
    /* every caller has read the clock under the lock: the others wait on the flight */
    clock_wait_readings(&fx->clock, readings + N_THREADS);
    fetcher_release(&fx->fetcher);
    for (int i = 0; i < N_THREADS; i++)
        g_thread_join(threads[i]);
    fx->fetcher.hold = FALSE;
}

static void test_single_flight_success(void **state)
{
    Fixture *fx = *state;
    Call calls[N_THREADS];
    GThread *threads[N_THREADS];
    int fetchers = 0;

    run_blocked_crowd(fx, calls, threads);
    assert_int_equal(fetcher_calls(&fx->fetcher), 1);
    for (int i = 0; i < N_THREADS; i++) {
        assert_null(calls[i].error);
        assert_non_null(calls[i].value);
        assert_ptr_equal(calls[i].value, calls[0].value);
        assert_false(calls[i].info.stale);
        assert_int_equal(calls[i].info.expires_at, TTL);
        fetchers += calls[i].info.fetched;
    }
    assert_int_equal(fetchers, 1);
    /* one reference per caller plus the cache's */
    assert_int_equal(tv_refs(calls[0].value), N_THREADS + 1);
    for (int i = 0; i < N_THREADS; i++)
        tv_unref(calls[i].value);
}

static void test_single_flight_failure(void **state)
{
    Fixture *fx = *state;
    Call calls[N_THREADS];
    GThread *threads[N_THREADS];

    fetcher_set_fail(&fx->fetcher, TRUE);
    run_blocked_crowd(fx, calls, threads);
    assert_int_equal(fetcher_calls(&fx->fetcher), 1);
    for (int i = 0; i < N_THREADS; i++) {
        assert_null(calls[i].value);
        assert_true(g_error_matches(calls[i].error, TEST_ERROR, 7));
        assert_string_equal(calls[i].error->message, "backend down (call 1 for crowd)");
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(calls[i].error, calls[j].error); /* each its own copy */
    }
    for (int i = 0; i < N_THREADS; i++)
        g_error_free(calls[i].error);
    assert_int_equal(dbb_cache_size(fx->cache), 0);

    /* the error was not kept: the next call fetches again */
    fetcher_set_fail(&fx->fetcher, FALSE);
    TestValue *v = get_ok(fx, "crowd", NULL);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
    tv_unref(v);
}

/* A failing refresh with a stale value: one fetch, one warning, everyone gets the value. */
static void test_single_flight_stale(void **state)
{
    Fixture *fx = *state;
    Call calls[N_THREADS];
    GThread *threads[N_THREADS];
    DbbCacheInfo info;
    int fetchers = 0;

    TestValue *v1 = dbb_cache_get(fx->cache, "crowd", fetch_cb, &fx->fetcher, &info, NULL);
    clock_set(&fx->clock, TTL + 5);
    fetcher_set_fail(&fx->fetcher, TRUE);
    run_blocked_crowd(fx, calls, threads);
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
    assert_int_equal(warnings.count, 1);
    for (int i = 0; i < N_THREADS; i++) {
        assert_null(calls[i].error);
        assert_ptr_equal(calls[i].value, v1);
        assert_true(calls[i].info.stale);
        assert_int_equal(calls[i].info.expires_at, TTL + 5);
        fetchers += calls[i].info.fetched;
        tv_unref(calls[i].value);
    }
    assert_int_equal(fetchers, 1);
    tv_unref(v1);
}

/* A waiter gives up after wait_timeout (the fetch's deadline) while the fetch hangs: an
 * error without a previous value, the stale value with one; the fetch still completes. */
static void test_waiter_deadline(void **state)
{
    Fixture *fx = *state;
    DbbCacheConfig config = {
        .ttl = TTL,
        .max_stale = MAX_STALE,
        .clock = fake_now,
        .clock_data = &fx->clock,
        .value_ref = tv_ref,
        .value_unref = tv_unref,
        .wait_timeout = 150 * G_TIME_SPAN_MILLISECOND,
    };
    /* The fixture's teardown frees whichever cache it holds. */
    dbb_cache_free(fx->cache);
    fx->cache = dbb_cache_new(&config);

    for (int stale = 0; stale < 2; stale++) {
        Call fetcher = {fx, "slow", NULL, NULL, {0}};
        Call waiter = {fx, "slow", NULL, NULL, {0}};
        GThread *tf, *tw;
        gint64 start, flight_start;

        if (stale)
            clock_set(&fx->clock, TTL + 5); /* expired, still within max_stale */
        fx->fetcher.hold = TRUE;
        fx->fetcher.released = FALSE;
        flight_start = g_get_monotonic_time(); /* the flight's deadline counts from after this */
        tf = g_thread_new("fetcher", call_thread, &fetcher);
        fetcher_wait_inside(&fx->fetcher, 1);
        start = g_get_monotonic_time();
        tw = g_thread_new("waiter", call_thread, &waiter);
        g_thread_join(tw);
        assert_true(g_get_monotonic_time() - flight_start >= 150 * G_TIME_SPAN_MILLISECOND);
        assert_true(g_get_monotonic_time() - start < 1000 * G_TIME_SPAN_MILLISECOND);
        if (!stale) {
            assert_null(waiter.value);
            assert_true(g_error_matches(waiter.error, DBB_CACHE_ERROR, 0));
            assert_non_null(strstr(waiter.error->message, "another caller's fetch of slow"));
            g_clear_error(&waiter.error);
        } else {
            assert_non_null(waiter.value);
            assert_true(waiter.info.stale);
            tv_unref(waiter.value);
        }
        fetcher_release(&fx->fetcher);
        g_thread_join(tf);
        fx->fetcher.hold = FALSE;
        assert_non_null(fetcher.value); /* the fetch itself went on */
        tv_unref(fetcher.value);
    }
}

/* Two keys fetch at the same time: each fetch waits until the other is running too. */
static void test_different_keys_in_parallel(void **state)
{
    Fixture *fx = *state;
    Call a = {fx, "a", NULL, NULL, {0}}, b = {fx, "b", NULL, NULL, {0}};
    GThread *ta, *tb;

    fx->fetcher.wait_inside = 2;
    ta = g_thread_new("a", call_thread, &a);
    tb = g_thread_new("b", call_thread, &b);
    g_thread_join(ta);
    g_thread_join(tb);
    assert_int_equal(fx->fetcher.max_inside, 2);
    assert_non_null(a.value);
    assert_non_null(b.value);
    assert_ptr_not_equal(a.value, b.value);
    tv_unref(a.value);
    tv_unref(b.value);
}

/* An entry being fetched is never pruned, whatever its age. */
static void test_prune_spares_flights(void **state)
{
    Fixture *fx = *state;
    Call c = {fx, "k", NULL, NULL, {0}};
    GThread *t;

    tv_unref(get_ok(fx, "k", NULL));
    clock_set(&fx->clock, MAX_STALE + 1);
    fx->fetcher.hold = TRUE;
    t = g_thread_new("fetch", call_thread, &c);
    fetcher_wait_inside(&fx->fetcher, 1);
    assert_int_equal(dbb_cache_prune(fx->cache), 0);
    fetcher_release(&fx->fetcher);
    g_thread_join(t);
    assert_non_null(c.value);
    assert_int_equal(c.value->serial, 2);
    assert_int_equal(dbb_cache_size(fx->cache), 1);
    tv_unref(c.value);
}

/* ---- counters and clear ------------------------------------------------------------------ */

/* A value's size: serial records of 10 bytes each. */
static void tv_size(gpointer p, guint64 *records, guint64 *bytes)
{
    *records = ((TestValue *)p)->serial;
    *bytes = ((TestValue *)p)->serial * 10;
}

static void use_sized_cache(Fixture *fx)
{
    DbbCacheConfig config = {
        .ttl = TTL,
        .max_stale = MAX_STALE,
        .clock = fake_now,
        .clock_data = &fx->clock,
        .value_ref = tv_ref,
        .value_unref = tv_unref,
        .value_size = tv_size,
    };
    dbb_cache_free(fx->cache);
    fx->cache = dbb_cache_new(&config);
}

static DbbCacheStats stats_of(Fixture *fx)
{
    DbbCacheStats s;
    dbb_cache_stats(fx->cache, &s);
    return s;
}

/* Each call is counted once, by how it was answered; sizes follow the values held. */
static void test_stats(void **state)
{
    Fixture *fx = *state;
    DbbCacheStats s;

    use_sized_cache(fx);
    tv_unref(get_ok(fx, "a", NULL)); /* fetched: serial 1 */
    tv_unref(get_ok(fx, "a", NULL)); /* hit */
    tv_unref(get_ok(fx, "b", NULL)); /* fetched: serial 2 */
    s = stats_of(fx);
    assert_int_equal(s.fetched, 2);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.entries, 2);
    assert_int_equal(s.records, 3);
    assert_int_equal(s.bytes, 30);

    clock_set(&fx->clock, TTL);
    tv_unref(get_ok(fx, "a", NULL)); /* refetched: serial 3 replaces serial 1 */
    s = stats_of(fx);
    assert_int_equal(s.fetched, 3);
    assert_int_equal(s.records, 5);
    assert_int_equal(s.bytes, 50);

    clock_set(&fx->clock, 2 * TTL);
    fetcher_set_fail(&fx->fetcher, TRUE);
    tv_unref(get_ok(fx, "a", NULL)); /* failed, stale served */
    assert_null(dbb_cache_get(fx->cache, "c", fetch_cb, &fx->fetcher, NULL, NULL)); /* failed */
    s = stats_of(fx);
    assert_int_equal(s.failed, 2);
    assert_int_equal(s.stale, 1);
    assert_int_equal(s.fetched, 3);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.entries, 2);
    assert_int_equal(s.records, 5);
    assert_int_equal(s.joins, 0);

    dbb_cache_clear(fx->cache);
    s = stats_of(fx);
    assert_int_equal(s.cleared, 1);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.records, 0);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(dbb_cache_size(fx->cache), 0);
}

static void test_stats_joins(void **state)
{
    Fixture *fx = *state;
    Call calls[N_THREADS];
    GThread *threads[N_THREADS];
    DbbCacheStats s;

    run_blocked_crowd(fx, calls, threads);
    for (int i = 0; i < N_THREADS; i++)
        tv_unref(calls[i].value);
    s = stats_of(fx);
    assert_int_equal(s.fetched, 1);
    assert_int_equal(s.joins, N_THREADS - 1);
    assert_int_equal(s.hits, 0);
}

/* A value dropped by a clear is not served stale when the next fetch fails. */
static void test_clear_leaves_nothing_stale(void **state)
{
    Fixture *fx = *state;

    tv_unref(get_ok(fx, "a", NULL));
    dbb_cache_clear(fx->cache);
    fetcher_set_fail(&fx->fetcher, TRUE);
    assert_null(dbb_cache_get(fx->cache, "a", fetch_cb, &fx->fetcher, NULL, NULL));
    assert_int_equal(fetcher_calls(&fx->fetcher), 2);
}

/* A fetch running during a clear may have read the old state: its caller gets it, expired,
 * and the next call fetches again. */
static void test_clear_during_fetch(void **state)
{
    Fixture *fx = *state;
    Call c = {fx, "k", NULL, NULL, {0}};
    GThread *t;
    TestValue *v;

    tv_unref(get_ok(fx, "k", NULL));
    clock_set(&fx->clock, TTL);
    fx->fetcher.hold = TRUE;
    t = g_thread_new("fetch", call_thread, &c);
    fetcher_wait_inside(&fx->fetcher, 1);
    dbb_cache_clear(fx->cache);
    fetcher_release(&fx->fetcher);
    g_thread_join(t);
    fx->fetcher.hold = FALSE;
    assert_non_null(c.value);
    assert_int_equal(c.value->serial, 2);
    assert_int_equal(c.info.expires_at, TTL);
    v = get_ok(fx, "k", NULL);
    assert_int_equal(v->serial, 3);
    tv_unref(v);
    tv_unref(c.value);
}

/* Many threads, many keys, time moving: no deadlock, no leak, no error. */
static gpointer hammer_thread(gpointer data)
{
    Fixture *fx = data;
    char key[8];

    for (int i = 0; i < 2000; i++) {
        g_snprintf(key, sizeof(key), "k%d", i % 7);
        TestValue *v = get_ok(fx, key, NULL);
        tv_unref(v);
        clock_advance(&fx->clock, 1);
        if (i % 100 == 0)
            dbb_cache_prune(fx->cache);
    }
    return NULL;
}

static void test_hammer(void **state)
{
    Fixture *fx = *state;
    GThread *threads[N_THREADS];

    for (int i = 0; i < N_THREADS; i++)
        threads[i] = g_thread_new("hammer", hammer_thread, fx);
    for (int i = 0; i < N_THREADS; i++)
        g_thread_join(threads[i]);
    /* 16000 calls over 16000 ticks with ttl 100: each of 7 keys expired many times */
    assert_true(fetcher_calls(&fx->fetcher) >= 7 * 100);
    assert_true(fetcher_calls(&fx->fetcher) < 16000);
}

static void test_default_clock(void **state)
{
    DbbCacheConfig config = {.ttl = 1, .value_ref = tv_ref, .value_unref = tv_unref};
    DbbCache *cache = dbb_cache_new(&config);
    gint64 before = g_get_monotonic_time();
    gint64 now = dbb_cache_now(cache);

    assert_true(now >= before);
    assert_true(now <= g_get_monotonic_time());
    dbb_cache_free(cache);

    Fixture *fx = *state;
    clock_set(&fx->clock, 12345);
    assert_int_equal(dbb_cache_now(fx->cache), 12345);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_until_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_are_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_not_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_fails_without_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_within_max_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_stale_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_holdoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holdoff_bounded_by_max_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiter_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_different_keys_in_parallel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_spares_flights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_joins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_leaves_nothing_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_during_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hammer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_clock, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
