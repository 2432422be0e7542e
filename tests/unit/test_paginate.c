/*
 * Unit tests of api/paginate.c with an in-process page source (no HTTP): exact page-call
 * counts, lying totals, empty pages, duplicates, DDM's page-number offsets with and without
 * page_no, a source that repeats itself forever, failing pages, measured concurrency and a
 * merge order that does not depend on completion order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "api/error.h"
#include "api/paginate.h"
#include "api/priority.h"

#define TOTAL_HONEST  (-1)
#define TOTAL_MISSING (-2)

typedef struct Fake Fake;

struct Fake {
    /* The listing the server holds and how it serves it. */
    guint n_items;
    guint server_limit;     /* the largest page it serves */
    gint64 total;           /* what pages report: TOTAL_HONEST, TOTAL_MISSING or a value */
    const char *total_text; /* a raw total (e.g. "\"250\"", "\"lots\""), overrides total */
    gboolean page_mode;     /* reads offset as a 0-based page number */
    gboolean with_page_no;
    gboolean same_page;            /* every request gets page 0 */
    guint64 fail_offset;           /* a request at this offset fails (G_MAXUINT64: none) */
    guint64 empty_offset;          /* a request at this offset gets an empty page */
    gboolean no_items_after_first; /* pages after the first are "{}" */
    gboolean no_items_at_all;      /* every page is "{}" */
    guint64 hole_offset; /* a request at this offset gets hole_records (G_MAXUINT64: none) */
    guint hole_records;  /* how many records the hole page holds */
    guint hole_times;    /* how many requests the hole lasts (0: forever) */
    guint hole_served, first_served;
    guint first_page_records;  /* page 0 holds only this many (0: a full page) */
    guint first_page_times;    /* ... for this many requests (0: forever) */
    gboolean strings;          /* every envelope number a string */
    gboolean page_no_as_items; /* page_no as an item-index server would send it */
    gint64 latency_us;         /* each page takes this long */
    /* A hook that may rewrite an element: (index in listing, page offset) -> raw or NULL. */
    char *(*element)(Fake *f, guint index, guint64 offset);
    /* Measurement. */
    GMutex lock;
    GCond cond;
    guint calls;
    guint in_flight, peak;
    guint64 want_rank;     /* every fetch should run with this request priority */
    guint wrong_rank;      /* fetches that did not */
    guint gate;            /* hold pages until this many were in flight at once (0: off) */
    gboolean reverse_done; /* pages after the first complete in descending order */
    guint last_index, done_after_first;
    GArray *offsets; /* guint64, in call order */
    GArray *done;    /* guint64 offsets, in completion order */
};

typedef struct {
    char *id;
    char *raw;
} Item;

static void item_free(gpointer p)
{
    Item *item = p;

    g_free(item->id);
    g_free(item->raw);
    g_free(item);
}

static gpointer parse_item(gpointer data, json_object *element, const char *raw, gsize raw_len,
                           const char **id, GError **error)
{
    json_object *id_obj;
    Item *item;

    if (!json_object_object_get_ex(element, "id", &id_obj)) {
        g_set_error(error, DBB_API_ERROR, EIO, "no id");
        return NULL;
    }
    item = g_new0(Item, 1);
    item->id = g_strdup(json_object_get_string(id_obj));
    item->raw = g_strndup(raw, raw_len);
    *id = item->id;
    return item;
}

static Fake *fake_new(guint n_items, guint server_limit)
{
    Fake *f = g_new0(Fake, 1);

    f->n_items = n_items;
    f->server_limit = server_limit;
    f->total = TOTAL_HONEST;
    f->fail_offset = G_MAXUINT64;
    f->empty_offset = G_MAXUINT64;
    f->hole_offset = G_MAXUINT64;
    f->with_page_no = TRUE;
    f->offsets = g_array_new(FALSE, FALSE, sizeof(guint64));
    f->done = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_mutex_init(&f->lock);
    g_cond_init(&f->cond);
    return f;
}

static void fake_free(Fake *f)
{
    g_array_unref(f->offsets);
    g_array_unref(f->done);
    g_mutex_clear(&f->lock);
    g_cond_clear(&f->cond);
    g_free(f);
}

static char *default_element(guint index)
{
    return g_strdup_printf("{\"id\": \"id-%05u\", \"n\": %u, \"big\": 12345678901234567890123}",
                           index, index);
}

/* How many records the page at this offset holds on this call: holes and a short page 0. */
static guint page_size(Fake *f, guint64 offset, guint limit, guint call)
{
    guint page = MIN(limit, f->server_limit);
    guint n;

    if (offset == f->hole_offset) {
        g_mutex_lock(&f->lock);
        n = f->hole_times == 0 || f->hole_served++ < f->hole_times ? f->hole_records : page;
        g_mutex_unlock(&f->lock);
        return n;
    }
    if (offset == 0 && f->first_page_records > 0) {
        g_mutex_lock(&f->lock);
        n = f->first_page_times == 0 || f->first_served++ < f->first_page_times
                ? f->first_page_records
                : page;
        g_mutex_unlock(&f->lock);
        return n;
    }
    return page;
}

static char *fake_body(Fake *f, guint64 offset, guint limit, guint call)
{
    if (f->no_items_at_all || (f->no_items_after_first && offset > 0))
        return g_strdup("{}\n");
    GString *body = g_string_new("{\"items\" : [");
    guint page = MIN(limit, f->server_limit);
    guint64 start = f->same_page ? 0 : f->page_mode ? offset * page : offset;
    const char *q = f->strings ? "\"" : "";
    guint served;

    if (offset == f->empty_offset)
        start = G_MAXUINT64;
    served = page_size(f, offset, limit, call); /* once: it counts the hole's uses */
    page = MIN(page, served);
    for (guint64 i = start; i < f->n_items && i < start + page; i++) {
        char *element = f->element != NULL ? f->element(f, (guint)i, offset) : NULL;
        if (element == NULL)
            element = default_element((guint)i);
        g_string_append_printf(body, "%s\n  %s", i > start ? "," : "", element);
        g_free(element);
    }
    g_string_append(body, "]");
    if (f->total_text != NULL)
        g_string_append_printf(body, ", \"total\": %s", f->total_text);
    else if (f->total != TOTAL_MISSING)
        g_string_append_printf(body, ", \"total\": %s%" G_GINT64_FORMAT "%s", q,
                               f->total == TOTAL_HONEST ? (gint64)f->n_items : f->total, q);
    if (f->with_page_no)
        g_string_append_printf(body, ", \"page_no\": %s%" G_GUINT64_FORMAT "%s", q,
                               f->page_mode && !f->page_no_as_items
                                   ? offset + 1
                                   : offset / MIN(limit, f->server_limit) + 1,
                               q);
    if (f->strings)
        g_string_append_printf(body, ", \"offset\": \"%" G_GUINT64_FORMAT "\", \"limit\": \"%u\"",
                               offset, limit);
    g_string_append(body, "}\n");
    return g_string_free(body, FALSE);
}

/* Hold a page until the gate opens or, for reverse_done, until its turn comes. */
/* Hold a page of the fan-out (after page 0 and the two that confirm the total). */
static void fake_hold(Fake *f, guint64 offset, guint call)
{
    gint64 until = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    guint index = (guint)(f->page_mode ? offset : offset / f->server_limit);

    if (call <= 3)
        return;
    /* The gate opens for good once `gate` fetches have been in flight together. */
    while (f->gate > 0 && f->peak < f->gate && g_cond_wait_until(&f->cond, &f->lock, until))
        ;
    /* Pages 2 .. last_index - 1 complete last-first. */
    while (f->reverse_done && f->done_after_first != f->last_index - 1 - index &&
           g_cond_wait_until(&f->cond, &f->lock, until))
        ;
}

static gboolean fake_fetch(gpointer data, guint64 offset, guint limit, DbbPage *page,
                           GError **error)
{
    Fake *f = data;
    g_autofree char *body = NULL;
    gboolean ok = TRUE;

    guint call;

    g_mutex_lock(&f->lock);
    call = ++f->calls;
    if (dbb_priority_get() != f->want_rank)
        f->wrong_rank++;
    g_array_append_val(f->offsets, offset);
    f->in_flight++;
    f->peak = MAX(f->peak, f->in_flight);
    g_cond_broadcast(&f->cond);
    fake_hold(f, offset, call);
    g_mutex_unlock(&f->lock);
    if (f->latency_us > 0)
        g_usleep((gulong)f->latency_us);

    if (offset == f->fail_offset) {
        g_set_error(error, DBB_API_ERROR, EIO, "test: GET /items: HTTP 500");
        ok = FALSE;
    } else {
        body = fake_body(f, offset, limit, call);
        page->json = json_tokener_parse(body);
        assert_non_null(page->json);
        page->body = g_bytes_new(body, strlen(body));
    }

    g_mutex_lock(&f->lock);
    f->in_flight--;
    g_array_append_val(f->done, offset);
    if (call > 3)
        f->done_after_first++;
    g_cond_broadcast(&f->cond);
    g_mutex_unlock(&f->lock);
    return ok;
}

static DbbPaginateSpec spec_for(Fake *f, guint limit, guint max_conns)
{
    DbbPaginateSpec spec = {
        .service = "test",
        .path = "/items",
        .items_member = "items",
        .total_member = "total",
        .limit = limit,
        .max_conns = max_conns,
        .fetch = fake_fetch,
        .fetch_data = f,
        .parse = parse_item,
        .item_free = item_free,
    };
    return spec;
}

/* The listing holds exactly id-00000 ... id-<n-1>, in that order, with their raw text. */
static void assert_complete(GPtrArray *items, guint n)
{
    assert_non_null(items);
    assert_int_equal(items->len, n);
    for (guint i = 0; i < n; i++) {
        Item *item = g_ptr_array_index(items, i);
        g_autofree char *id = g_strdup_printf("id-%05u", i);
        g_autofree char *raw = default_element(i);
        assert_string_equal(item->id, id);
        assert_string_equal(item->raw, raw);
    }
}

static GPtrArray *run(Fake *f, guint limit, guint max_conns, gboolean ddm, GError **error)
{
    DbbPaginateSpec spec = spec_for(f, limit, max_conns);

    spec.offset_may_be_page = ddm;
    return dbb_paginate(&spec, error);
}

static const guint sizes[] = {0, 1, 99, 100, 101, 250, 1000};

static guint pages_for(guint n, guint limit)
{
    return MAX(1, (n + limit - 1) / limit);
}

static void test_counts(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        Fake *f = fake_new(sizes[i], 100);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = run(f, 100, 8, FALSE, &error);

        assert_null(error);
        assert_complete(items, sizes[i]);
        assert_int_equal(f->calls, pages_for(sizes[i], 100));
        fake_free(f);
    }
}

/* Offsets are item indexes, one request per page, each page once, the first page first. */
static void test_offsets_sent(void **state)
{
    Fake *f = fake_new(1000, 100);
    g_autoptr(GPtrArray) items = run(f, 100, 3, FALSE, NULL);
    guint seen[10] = {0};

    assert_complete(items, 1000);
    assert_int_equal(f->offsets->len, 10);
    assert_int_equal(g_array_index(f->offsets, guint64, 0), 0);
    for (guint i = 0; i < f->offsets->len; i++) {
        guint64 offset = g_array_index(f->offsets, guint64, i);
        assert_int_equal(offset % 100, 0);
        assert_true(offset < 1000);
        seen[offset / 100]++;
    }
    for (guint i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
    fake_free(f);
}

static void test_ddm_item_server(void **state)
{
    for (int with_page_no = 0; with_page_no < 2; with_page_no++) {
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
            Fake *f = fake_new(sizes[i], 128);
            g_autoptr(GError) error = NULL;
            g_autoptr(GPtrArray) items = NULL;

            f->with_page_no = with_page_no;
            items = run(f, 128, 8, TRUE, &error);
            assert_null(error);
            assert_complete(items, sizes[i]);
            /* The probe at offset 1 shifts the rest by one record: at most one more. */
            if (pages_for(sizes[i], 128) == 1)
                assert_int_equal(f->calls, 1);
            else
                assert_in_range(f->calls, pages_for(sizes[i], 128) + 1,
                                pages_for(sizes[i], 128) + 1);
            if (f->calls > 1)
                assert_int_equal(g_array_index(f->offsets, guint64, 1), 1);
            fake_free(f);
        }
    }
}

/* A server reading offset as a page number: the probe at offset 1 is its page 1, so no
 * request beyond the pages. */
static void test_ddm_page_server(void **state)
{
    for (int with_page_no = 0; with_page_no < 2; with_page_no++) {
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
            Fake *f = fake_new(sizes[i], 128);
            g_autoptr(GError) error = NULL;
            g_autoptr(GPtrArray) items = NULL;
            guint pages = pages_for(sizes[i], 128);

            f->with_page_no = with_page_no;
            f->page_mode = TRUE;
            items = run(f, 128, 8, TRUE, &error);
            assert_null(error);
            assert_complete(items, sizes[i]);
            assert_int_equal(f->calls, pages);
            /* After the probe (offset 1) come the page numbers 2, 3, ... */
            for (guint k = 1; k < f->offsets->len; k++)
                assert_true(g_array_index(f->offsets, guint64, k) < pages);
            fake_free(f);
        }
    }
}

/* Without a total, and with or without page_no, the probe tells a page-number server apart
 * for certain: its page 1 holds none of page 0's IDs. */
static void test_ddm_page_server_no_total(void **state)
{
    for (int with_page_no = 0; with_page_no < 2; with_page_no++) {
        Fake *f = fake_new(300, 128);
        g_autoptr(GPtrArray) items = NULL;

        f->page_mode = TRUE;
        f->with_page_no = with_page_no;
        f->total = TOTAL_MISSING;
        items = run(f, 128, 8, TRUE, NULL);
        assert_complete(items, 300);
        /* page 0, the probe (page 1), page 2 (short: the end) */
        assert_int_equal(f->calls, 3);
        fake_free(f);
    }
}

/* The probe neither follows page 0 by one nor avoids it, or page_no contradicts the
 * records: the listing fails rather than guess. */
static void test_ddm_uncertain_fails(void **state)
{
    Fake *f = fake_new(1000, 128);
    g_autoptr(GError) error = NULL;
    GPtrArray *items;

    f->same_page = TRUE; /* offset ignored: the probe repeats page 0 */
    items = run(f, 128, 8, TRUE, &error);
    assert_null(items);
    assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
    assert_non_null(strstr(error->message, "cannot tell"));
    assert_int_equal(f->calls, 2);
    fake_free(f);

    /* Records of a page-number server, page_no of an item server (1 at offset 1). */
    f = fake_new(1000, 128);
    f->page_mode = TRUE;
    f->page_no_as_items = TRUE;
    g_clear_error(&error);
    items = run(f, 128, 8, TRUE, &error);
    assert_null(items);
    assert_non_null(strstr(error->message, "page_no contradicts"));
    assert_int_equal(f->calls, 2);
    fake_free(f);
}

static GPtrArray *run_total(guint n, gint64 total, const char *total_text, guint max_conns,
                            guint *calls)
{
    Fake *f = fake_new(n, 100);
    GPtrArray *items;

    f->total = total;
    f->total_text = total_text;
    items = run(f, 100, max_conns, FALSE, NULL);
    *calls = f->calls;
    fake_free(f);
    return items;
}

static void test_lying_totals(void **state)
{
    guint calls;
    GPtrArray *items;

    /* Too high: the short page ends the sweep; nothing received is lost.  A short page
     * while the total says more may also be a server serving pages of varying size, so one
     * more request, at the offset just past the records received, makes sure (an empty
     * page: the total lied). */
    items = run_total(250, 500, NULL, 1, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 4);
    g_ptr_array_unref(items);
    items = run_total(250, 500, NULL, 8, &calls);
    assert_complete(items, 250);
    assert_in_range(calls, 4, 6);
    g_ptr_array_unref(items);
    /* Absurdly high: still bounded by the first empty page. */
    items = run_total(250, G_GINT64_CONSTANT(1) << 60, NULL, 4, &calls);
    assert_complete(items, 250);
    assert_in_range(calls, 4, 4 + 4);
    g_ptr_array_unref(items);
    /* Too low: the full pages prove it; the sweep goes on page by page. */
    items = run_total(250, 50, NULL, 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    items = run_total(250, 0, NULL, 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    /* A string total is read; a negative or non-numeric one is no total. */
    items = run_total(250, 0, "\"250\"", 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    items = run_total(250, 0, "-5", 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    items = run_total(250, 0, "\"lots\"", 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    items = run_total(250, 0, "{\"n\": 250}", 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    /* Missing: page by page until a short page, or an empty one after a full one. */
    items = run_total(250, TOTAL_MISSING, NULL, 8, &calls);
    assert_complete(items, 250);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    items = run_total(200, TOTAL_MISSING, NULL, 8, &calls);
    assert_complete(items, 200);
    assert_int_equal(calls, 3);
    g_ptr_array_unref(items);
    items = run_total(0, TOTAL_MISSING, NULL, 8, &calls);
    assert_complete(items, 0);
    assert_int_equal(calls, 1);
    g_ptr_array_unref(items);
}

/* An honest total with the page at offset 200 empty (or short) every time: a hole, so the
 * listing fails — after one refetch, within pages + 2 requests.  Empty only once: the
 * refetch fills it and the listing is complete. */
static void test_hole_fails(void **state)
{
    const guint records[] = {0, 50};

    for (gsize i = 0; i < G_N_ELEMENTS(records); i++) {
        for (guint conns = 1; conns <= 8; conns += 7) {
            Fake *f = fake_new(500, 100);
            g_autoptr(GError) error = NULL;
            GPtrArray *items;

            f->hole_offset = 200;
            f->hole_records = records[i];
            items = run(f, 100, conns, FALSE, &error);
            assert_null(items);
            assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
            assert_non_null(strstr(error->message, "offset 200"));
            assert_non_null(strstr(error->message, "hole"));
            assert_in_range(f->calls, 5, 5 + 2);
            fake_free(f);

            f = fake_new(500, 100);
            f->hole_offset = 200;
            f->hole_records = records[i];
            f->hole_times = 1;
            items = run(f, 100, conns, FALSE, NULL);
            assert_complete(items, 500);
            assert_int_equal(f->calls, 6);
            g_ptr_array_unref(items);
            fake_free(f);
        }
    }
}

/* The page at offset 200 repeats page 1's records, every time: records 200-299 would be
 * lost, so the listing fails. */
static char *repeat_page_one(Fake *f, guint index, guint64 offset)
{
    return offset == 200 ? default_element(index - 100) : NULL;
}

static void test_repeated_page_fails(void **state)
{
    Fake *f = fake_new(500, 100);
    g_autoptr(GError) error = NULL;
    GPtrArray *items;

    f->element = repeat_page_one;
    items = run(f, 100, 8, FALSE, &error);
    assert_null(items);
    assert_non_null(strstr(error->message, "only repeats records of other pages"));
    assert_int_equal(f->calls, 6);
    fake_free(f);
}

/* A short page 0 (40 of 100) while the next page holds a full 100: page 0 was a hole,
 * fetched again; never taken as the page size. */
static void test_short_first_page_is_a_hole(void **state)
{
    Fake *f = fake_new(500, 100);
    GPtrArray *items;
    g_autoptr(GError) error = NULL;

    f->first_page_records = 40;
    f->first_page_times = 1;
    items = run(f, 100, 8, FALSE, NULL);
    assert_complete(items, 500);
    assert_in_range(f->calls, 5, 5 + 2);
    g_ptr_array_unref(items);
    fake_free(f);

    f = fake_new(500, 100);
    f->first_page_records = 40;
    items = run(f, 100, 8, FALSE, &error);
    assert_null(items);
    assert_non_null(strstr(error->message, "offset 0 held 40 of 100"));
    assert_int_equal(f->calls, 3);
    fake_free(f);
}

/* id-00150 (page 1) comes back on page 2 with other contents: one entry, the later
 * version, at the first position. */
static char *dup_element(Fake *f, guint index, guint64 offset)
{
    if (index == 210)
        return g_strdup("{\"id\": \"id-00150\", \"n\": \"changed\"}");
    if (index == 220)
        return default_element(30); /* an identical repeat of a page-0 record */
    return NULL;
}

static void test_duplicates(void **state)
{
    Fake *f = fake_new(250, 100);
    g_autoptr(GPtrArray) items = NULL;

    f->element = dup_element;
    items = run(f, 100, 8, FALSE, NULL);
    assert_non_null(items);
    assert_int_equal(items->len, 248);
    for (guint i = 0, expect = 0; i < items->len; i++, expect++) {
        Item *item = g_ptr_array_index(items, i);
        g_autofree char *id = NULL;

        if (expect == 210 || expect == 220)
            expect++;
        id = g_strdup_printf("id-%05u", expect);
        assert_string_equal(item->id, id);
        if (expect == 150)
            assert_string_equal(item->raw, "{\"id\": \"id-00150\", \"n\": \"changed\"}");
    }
    fake_free(f);
}

static void test_same_page_forever(void **state)
{
    const gint64 totals[] = {TOTAL_HONEST, TOTAL_MISSING, G_GINT64_CONSTANT(1) << 50};

    for (gsize ddm = 0; ddm < 2; ddm++) {
        for (gsize i = 0; i < G_N_ELEMENTS(totals); i++) {
            Fake *f = fake_new(100000, 100);
            g_autoptr(GPtrArray) items = NULL;

            f->same_page = TRUE;
            f->total = totals[i];
            items = run(f, 100, 4, ddm, NULL);
            if (ddm) {
                /* The probe repeats page 0: the offset reading cannot be told. */
                assert_null(items);
                assert_int_equal(f->calls, 2);
            } else {
                assert_complete(items, 100);
                assert_in_range(f->calls, 2, 3);
            }
            fake_free(f);
        }
    }
}

static void test_failing_page(void **state)
{
    const guint64 fail_at[] = {0, 100, 500, 900};

    for (gsize i = 0; i < G_N_ELEMENTS(fail_at); i++) {
        Fake *f = fake_new(1000, 100);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = NULL;

        f->fail_offset = fail_at[i];
        items = run(f, 100, 4, FALSE, &error);
        assert_null(items);
        assert_non_null(error);
        assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
        assert_non_null(strstr(error->message, "HTTP 500"));
        fake_free(f);
    }
}

/* The peak number of fetches in flight reaches max_conns and never passes it. */
static void test_concurrency_bound(void **state)
{
    const guint conns[] = {1, 2, 4, 8};

    for (gsize i = 0; i < G_N_ELEMENTS(conns); i++) {
        Fake *f = fake_new(2000, 100);
        g_autoptr(GPtrArray) items = NULL;

        f->gate = conns[i];
        items = run(f, 100, conns[i], FALSE, NULL);
        assert_complete(items, 2000);
        assert_int_equal(f->peak, conns[i]);
        assert_int_equal(f->calls, 20);
        fake_free(f);
    }
}

/* Pages finishing last-first still merge in page order. */
static void test_merge_order(void **state)
{
    Fake *f = fake_new(1050, 100);
    g_autoptr(GPtrArray) items = NULL;

    f->reverse_done = TRUE;
    f->last_index = 10;
    items = run(f, 100, 16, FALSE, NULL);
    assert_complete(items, 1050);
    /* Page 0, then pages 1 and 10 (they confirm the total), then 9, 8, ... 2. */
    assert_int_equal(f->done->len, 11);
    for (guint i = 3; i < 11; i++)
        assert_int_equal(g_array_index(f->done, guint64, i), (12 - i) * 100);
    fake_free(f);
}

/* ---- page shapes ---- */

typedef struct {
    const char *body;
    gboolean ok;
    guint n_items;
} ShapeCase;

static gboolean static_fetch(gpointer data, guint64 offset, guint limit, DbbPage *page,
                             GError **error)
{
    const char *body = data;

    page->json = json_tokener_parse(body);
    page->body = g_bytes_new(body, strlen(body));
    return TRUE;
}

static void test_page_shapes(void **state)
{
    const ShapeCase cases[] = {
        {"{\"items\": [], \"total\": 0}", TRUE, 0},
        {"{\"total\": 0}", TRUE, 0}, /* nothing to list, array left out */
        {"{\"items\": null, \"total\": 0}", TRUE, 0},
        {"{\"total\": 3}", FALSE, 0}, /* missing while the total says more */
        {"{\"items\": {\"id\": \"a\"}, \"total\": 1}", FALSE, 0},
        {"{\"items\": \"a\", \"total\": 1}", FALSE, 0},
        {"{\"items\": [{\"id\": \"a\"}, 7], \"total\": 2}", FALSE, 0},
        {"{\"items\": [{\"id\": \"a\"}, [1]], \"total\": 2}", FALSE, 0},
        {"{\"items\": [{\"name\": \"no id\"}], \"total\": 1}", FALSE, 0}, /* parser refuses */
        {"[{\"id\": \"a\"}]", FALSE, 0},
        {"{\"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}], \"items\": [{\"id\": \"c\"}]}", TRUE, 1},
        {"{\"items\": [{\"id\": \"a\", \"d\": {\"e\": [[[{\"f\": \"]}\"}]]]}}], \"total\": 1}",
         TRUE, 1},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        DbbPaginateSpec spec = spec_for(NULL, 100, 2);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = NULL;

        spec.fetch = static_fetch;
        spec.fetch_data = (gpointer)cases[i].body;
        items = dbb_paginate(&spec, &error);
        if (cases[i].ok) {
            if (items == NULL)
                fail_msg("case %zu: %s", i, error->message);
            assert_int_equal(items->len, cases[i].n_items);
        } else {
            if (items != NULL)
                fail_msg("case %zu accepted", i);
            assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
            assert_non_null(strstr(error->message, "test: GET /items"));
        }
    }
}

/* The raw text disagrees with the parsed JSON (the body was not what json-c saw). */
static gboolean mismatched_fetch(gpointer data, guint64 offset, guint limit, DbbPage *page,
                                 GError **error)
{
    const char *seen = "{\"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}], \"total\": 2}";
    const char *text = data;

    page->json = json_tokener_parse(seen);
    page->body = g_bytes_new(text, strlen(text));
    return TRUE;
}

static void test_raw_mismatch(void **state)
{
    const char *texts[] = {
        "{\"items\": [{\"id\": \"a\"}], \"total\": 2}",
        "{\"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}], \"total\": 2",
        "{\"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}]} trailing",
        "",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
        DbbPaginateSpec spec = spec_for(NULL, 100, 2);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = NULL;

        spec.fetch = mismatched_fetch;
        spec.fetch_data = (gpointer)texts[i];
        items = dbb_paginate(&spec, &error);
        assert_null(items);
        assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
    }
}

/* A server that serves fewer records per page than asked (50 of 100): the offsets follow
 * what it gives, concurrently, and nothing falls between pages. */
static void test_server_caps_pages(void **state)
{
    const guint counts[] = {150, 151, 1000};

    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        Fake *f = fake_new(counts[i], 50);
        GPtrArray *items = run(f, 100, 4, FALSE, NULL);

        assert_complete(items, counts[i]);
        assert_int_equal(f->calls, (counts[i] + 49) / 50);
        g_ptr_array_unref(items);
        fake_free(f);
    }
}

/* Without a total, a page after the first that has no items member ends the data (DDM's
 * paging guide); the first page without one is still an error. */
static void test_missing_items_without_total_ends(void **state)
{
    Fake *f = fake_new(100, 100);
    GPtrArray *items;

    f->total = TOTAL_MISSING;
    f->no_items_after_first = TRUE;
    items = run(f, 100, 4, FALSE, NULL);
    assert_complete(items, 100);
    assert_int_equal(f->calls, 2);
    g_ptr_array_unref(items);
    fake_free(f);

    f = fake_new(0, 100);
    f->total = TOTAL_MISSING;
    f->no_items_at_all = TRUE;
    items = run(f, 100, 4, FALSE, NULL);
    assert_null(items);
    fake_free(f);
}

/* ---- the request budget (issue 7's table) ---- */

/* 3 records, total "1000000": the short first page never becomes the page size. */
static void test_budget_three_records_total_million(void **state)
{
    Fake *f = fake_new(3, 100);
    GPtrArray *items;

    f->total_text = "\"1000000\"";
    items = run(f, 100, 8, FALSE, NULL);
    assert_complete(items, 3);
    assert_in_range(f->calls, 1, 1 + 2);
    /* Page 0, then the records after it: nothing. */
    assert_int_equal(f->calls, 2);
    assert_int_equal(g_array_index(f->offsets, guint64, 1), 3);
    g_ptr_array_unref(items);
    fake_free(f);
}

/* First page 1 record of limit 100, total 10,000, then nothing. */
static void test_budget_one_of_hundred_then_empty(void **state)
{
    Fake *f = fake_new(1, 100);
    GPtrArray *items;

    f->total = 10000;
    items = run(f, 100, 8, FALSE, NULL);
    assert_complete(items, 1);
    assert_in_range(f->calls, 1, 1 + 2);
    g_ptr_array_unref(items);
    fake_free(f);
}

/* A bad-data listing: every envelope number a string, the total 5 too high; 39 pages of
 * records, so at most 41 requests. */
static void test_budget_strings_total_five_high(void **state)
{
    const guint sizes_[] = {3900, 3950, 3901};

    for (gsize i = 0; i < G_N_ELEMENTS(sizes_); i++) {
        for (guint conns = 1; conns <= 8; conns += 7) {
            Fake *f = fake_new(sizes_[i], 100);
            GPtrArray *items;

            f->strings = TRUE;
            f->total = sizes_[i] + 5;
            items = run(f, 100, conns, FALSE, NULL);
            assert_complete(items, sizes_[i]);
            assert_in_range(f->calls, pages_for(sizes_[i], 100), pages_for(sizes_[i], 100) + 2);
            g_ptr_array_unref(items);
            fake_free(f);
        }
    }
}

/* An honest total of 10,000,000 with full pages: beyond max_records, so EIO after a few
 * requests, not 100,000 of them. */
static void test_budget_records_cap(void **state)
{
    const gint64 totals[] = {TOTAL_HONEST, TOTAL_MISSING};

    for (gsize i = 0; i < G_N_ELEMENTS(totals); i++) {
        Fake *f = fake_new(10000000, 100);
        g_autoptr(GError) error = NULL;
        DbbPaginateSpec spec = spec_for(f, 100, 8);
        GPtrArray *items;

        f->total = totals[i];
        if (totals[i] == TOTAL_MISSING)
            spec.max_records = 1000; /* page by page: keep the test quick */
        items = dbb_paginate(&spec, &error);
        assert_null(items);
        assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
        assert_non_null(strstr(error->message, "max_records"));
        if (totals[i] == TOTAL_HONEST)
            assert_int_equal(f->calls, 3); /* page 0, then the page at the cap */
        else
            assert_int_equal(f->calls, 11);
        fake_free(f);
    }
}

static void test_budget_bytes_cap(void **state)
{
    Fake *f = fake_new(1000, 100);
    g_autoptr(GError) error = NULL;
    DbbPaginateSpec spec = spec_for(f, 100, 8);
    GPtrArray *items;

    spec.max_bytes = 20000; /* about 3 pages of the fake's records */
    items = dbb_paginate(&spec, &error);
    assert_null(items);
    assert_non_null(strstr(error->message, "max_listing_bytes"));
    assert_in_range(f->calls, 1, 10);
    fake_free(f);
}

/* The listing-wide deadline: pages of 30 ms, a deadline of 100 ms. */
static void test_budget_deadline(void **state)
{
    Fake *f = fake_new(5000, 100);
    g_autoptr(GError) error = NULL;
    DbbPaginateSpec spec = spec_for(f, 100, 1);
    gint64 start = g_get_monotonic_time();
    GPtrArray *items;

    f->latency_us = 30 * G_TIME_SPAN_MILLISECOND;
    spec.deadline = start + 100 * G_TIME_SPAN_MILLISECOND;
    items = dbb_paginate(&spec, &error);
    assert_null(items);
    assert_non_null(strstr(error->message, "deadline"));
    assert_true(g_get_monotonic_time() - start < 200 * G_TIME_SPAN_MILLISECOND);
    fake_free(f);
}

/* Every size x every lie x 1 or 8 connections x DDM's two readings: complete, and no more
 * than the pages needed + 2 (+1 for the offset probe). */
static void test_budget_matrix(void **state)
{
    const guint ns[] = {0, 1, 99, 100, 101, 128, 200, 250, 256, 1000, 1050};
    const gint64 lies[] = {
        TOTAL_HONEST, TOTAL_MISSING, 0, 1, -5, 5, 100, 10000, G_GINT64_CONSTANT(1) << 40};

    for (gsize a = 0; a < G_N_ELEMENTS(ns); a++)
        for (gsize b = 0; b < G_N_ELEMENTS(lies); b++)
            for (guint conns = 1; conns <= 8; conns += 7)
                for (int mode = 0; mode < 4; mode++) {
                    /* 0: item offsets; 1, 2: DDM's two readings; 3: pages capped at 50. */
                    guint limit = mode == 0 || mode == 3 ? 100 : 128;
                    guint served = mode == 3 ? 50 : limit;
                    Fake *f = fake_new(ns[a], served);
                    g_autoptr(GError) error = NULL;
                    GPtrArray *items;
                    guint bound;

                    f->page_mode = mode == 2;
                    f->with_page_no = conns == 1;
                    /* lies[] are offsets from the truth, except the absolute ones. */
                    if (lies[b] == TOTAL_HONEST || lies[b] == TOTAL_MISSING)
                        f->total = lies[b];
                    else if (lies[b] > 10000 || lies[b] == 0 || lies[b] == 1)
                        f->total = lies[b];
                    else
                        f->total = MAX((gint64)ns[a] + lies[b], 0);
                    items = run(f, limit, conns, mode == 1 || mode == 2, &error);
                    /* A capped page 0 with no total, or one saying no more, is the end:
                     * nothing tells it from a short last page. */
                    if (mode == 3 && items != NULL &&
                        (f->total == TOTAL_MISSING ||
                         (f->total >= 0 && f->total <= (gint64)MIN(ns[a], served)))) {
                        assert_int_equal(items->len, MIN(ns[a], served));
                        assert_int_equal(f->calls, 1);
                        g_ptr_array_unref(items);
                        fake_free(f);
                        continue;
                    }
                    if (items == NULL)
                        fail_msg("n %u total %" G_GINT64_FORMAT " conns %u mode %d: %s", ns[a],
                                 f->total, conns, mode, error->message);
                    if (items->len != ns[a])
                        fail_msg("n %u total %" G_GINT64_FORMAT " conns %u mode %d: %u listed",
                                 ns[a], f->total, conns, mode, items->len);
                    assert_complete(items, ns[a]);
                    bound = pages_for(ns[a], served) + 2 + (mode == 1 || mode == 2);
                    if (f->calls > bound)
                        fail_msg("n %u total %" G_GINT64_FORMAT " conns %u mode %d: %u requests "
                                 "> %u",
                                 ns[a], f->total, conns, mode, f->calls, bound);
                    g_ptr_array_unref(items);
                    fake_free(f);
                }
}

/* The page workers a listing spawns make their requests with the listing's priority, so
 * read-ahead stays behind demand and a demand listing's pages do not queue behind it. */
static void test_page_workers_inherit_priority(void **state)
{
    Fake *f = fake_new(1000, 100);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) items = NULL;

    f->want_rank = 7;
    f->latency_us = 5000; /* long enough for the workers to overlap */
    dbb_priority_set(7);
    items = run(f, 100, 8, FALSE, &error);
    dbb_priority_set(DBB_PRIORITY_DEMAND);
    assert_null(error);
    assert_complete(items, 1000);
    assert_true(f->peak > 1); /* pages really were fetched by other threads */
    assert_int_equal(f->wrong_rank, 0);
    assert_int_equal(f->calls, 10);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_offsets_sent),
        cmocka_unit_test(test_ddm_item_server),
        cmocka_unit_test(test_ddm_page_server),
        cmocka_unit_test(test_ddm_page_server_no_total),
        cmocka_unit_test(test_ddm_uncertain_fails),
        cmocka_unit_test(test_lying_totals),
        cmocka_unit_test(test_hole_fails),
        cmocka_unit_test(test_short_first_page_is_a_hole),
        cmocka_unit_test(test_repeated_page_fails),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_same_page_forever),
        cmocka_unit_test(test_failing_page),
        cmocka_unit_test(test_concurrency_bound),
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_page_shapes),
        cmocka_unit_test(test_raw_mismatch),
        cmocka_unit_test(test_server_caps_pages),
        cmocka_unit_test(test_missing_items_without_total_ends),
        cmocka_unit_test(test_budget_three_records_total_million),
        cmocka_unit_test(test_budget_one_of_hundred_then_empty),
        cmocka_unit_test(test_budget_strings_total_five_high),
        cmocka_unit_test(test_budget_records_cap),
        cmocka_unit_test(test_budget_bytes_cap),
        cmocka_unit_test(test_budget_deadline),
        cmocka_unit_test(test_budget_matrix),
        cmocka_unit_test(test_page_workers_inherit_priority),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
