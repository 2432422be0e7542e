/*
 * dbbackupfs — the page sweep: one budgeted loop (see paginate.h).
 *
 * The sweep keeps `cursor`, how many records from index 0 on are known without a gap, and
 * `step`, how many records a full page holds (the limit, or what a capped server serves).
 * After page 0:
 *  - A short page 0 ends the listing, unless the total says more: then the page at the
 *    cursor decides.  Empty: the end (the total lied high).  As many records as page 0: a
 *    second full page of that size, so the server caps its pages (step = that).  Fewer: the
 *    end.  More: page 0 was a hole, fetched again.
 *  - A full page 0 of a server that may read offset as a page number: the probe at offset 1
 *    settles how (offset_mode.h) before anything else is fetched.
 *  - A total beyond the cursor plans the pages up to it.  The first of them and the one
 *    holding the total's last record go together; if the last one brings new records the
 *    total is confirmed, every page between is needed, and they go max_conns at a time, each
 *    expected full (a short one is a hole).  If it does not, the total lied high, and the
 *    rest goes page by page up to that empty page.  A total that lied low, or none, also
 *    goes page by page, to the first short or empty page.
 * So no request is spent on speculation beyond two: the probe that did not confirm and the
 * empty page that ends the data; hole refetches are allowed within the same margin.
 */
#include "paginate.h"

#include <errno.h>

#include "error.h"
#include "offset_mode.h"
#include "page.h"
#include "priority.h"

typedef struct {
    const DbbPaginateSpec *spec;
    GMutex lock; /* guards what the page workers share: below */
    guint64 requests, bytes, seq;
    GPtrArray *slots; /* DbbPageSlot *, every page received */
    GHashTable *seen; /* IDs received (keys borrowed from their items) */
    gboolean failed;  /* a listing-wide bound failed (logged once) */
    /* Only the sweeping thread touches these: */
    gboolean page_mode; /* offsets go out as page numbers */
    guint step;
    guint64 cursor;
    gint64 total;
    guint probes;
    guint64 max_records, max_bytes;
} Sweep;

/* Fail the listing once with a log line; other threads failing after it stay quiet. */
static gboolean sweep_fail(Sweep *sw, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean sweep_fail(Sweep *sw, GError **error, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    g_autofree char *text = NULL;
    gboolean first;
    va_list args;

    va_start(args, fmt);
    why = g_strdup_vprintf(fmt, args);
    va_end(args);
    text = g_strdup_printf("%s: GET %s: %s", sw->spec->service, sw->spec->path, why);
    g_mutex_lock(&sw->lock);
    first = !sw->failed;
    sw->failed = TRUE;
    g_mutex_unlock(&sw->lock);
    if (first)
        g_warning("%s", text);
    g_set_error_literal(error, DBB_API_ERROR, EIO, text);
    return FALSE;
}

static guint64 unique_count(Sweep *sw)
{
    guint64 n;

    g_mutex_lock(&sw->lock);
    n = g_hash_table_size(sw->seen);
    g_mutex_unlock(&sw->lock);
    return n;
}

/* Count a request about to be sent; FALSE once the listing's time is up. */
static gboolean reserve_request(Sweep *sw, GError **error)
{
    const DbbPaginateSpec *spec = sw->spec;
    gboolean late = spec->deadline != 0 && g_get_monotonic_time() >= spec->deadline;
    guint64 done;

    g_mutex_lock(&sw->lock);
    done = sw->requests;
    sw->requests += !late;
    g_mutex_unlock(&sw->lock);
    if (late)
        return sweep_fail(sw, error,
                          "listing deadline passed after %" G_GUINT64_FORMAT " pages; listing "
                          "refused",
                          done);
    return TRUE;
}

/* Under no lock: keep the page, note its IDs, and check the listing-wide bounds. */
static gboolean store(Sweep *sw, DbbPageSlot *slot, GError **error)
{
    guint64 records, bytes;

    g_mutex_lock(&sw->lock);
    slot->seq = sw->seq++;
    g_ptr_array_add(sw->slots, slot);
    for (guint i = 0; i < slot->recs->len; i++)
        slot->added +=
            g_hash_table_add(sw->seen, (gpointer)g_array_index(slot->recs, DbbRec, i).id);
    sw->bytes += slot->bytes;
    records = g_hash_table_size(sw->seen);
    bytes = sw->bytes;
    g_mutex_unlock(&sw->lock);
    if (records > sw->max_records)
        return sweep_fail(sw, error,
                          "more than %" G_GUINT64_FORMAT " records (max_records); listing "
                          "refused",
                          sw->max_records);
    if (bytes > sw->max_bytes)
        return sweep_fail(sw, error,
                          "more than %" G_GUINT64_FORMAT " bytes of pages (max_listing_bytes); "
                          "listing refused",
                          sw->max_bytes);
    return TRUE;
}

/* Fetch the page whose first record is the listing's record `start`. */
static DbbPageSlot *fetch_at(Sweep *sw, guint64 start, GError **error)
{
    const DbbPaginateSpec *spec = sw->spec;
    guint64 sent = sw->page_mode ? start / spec->limit : start;
    DbbPage page = {0};
    DbbPageSlot *slot;

    if (!reserve_request(sw, error))
        return NULL;
    if (!spec->fetch(spec->fetch_data, sent, spec->limit, &page, error)) {
        dbb_page_clear(&page);
        if (error != NULL && *error == NULL)
            g_set_error(error, DBB_API_ERROR, EIO, "%s: GET %s: page fetch failed", spec->service,
                        spec->path);
        return NULL;
    }
    slot = dbb_page_slot_parse(spec, &page, sent, error);
    dbb_page_clear(&page);
    if (slot == NULL)
        return NULL;
    slot->start = start;
    return store(sw, slot, error) ? slot : NULL;
}

/* ---- pages in parallel ---- */

typedef struct {
    Sweep *sw;
    const guint64 *starts;
    DbbPageSlot **got;
    guint n, next;
    GError *error; /* of the earliest failing page */
    guint error_index;
    guint64 rank; /* the spawning thread's request priority, which its helpers share */
} Batch;

static gpointer batch_worker(gpointer data)
{
    Batch *b = data;

    dbb_priority_set(b->rank);
    for (;;) {
        GError *error = NULL;
        DbbPageSlot *slot;
        guint i;

        g_mutex_lock(&b->sw->lock);
        if (b->error != NULL || b->next >= b->n) {
            g_mutex_unlock(&b->sw->lock);
            return NULL;
        }
        i = b->next++;
        g_mutex_unlock(&b->sw->lock);
        slot = fetch_at(b->sw, b->starts[i], &error);
        g_mutex_lock(&b->sw->lock);
        if (slot != NULL) {
            b->got[i] = slot;
        } else if (b->error == NULL || i < b->error_index) {
            g_clear_error(&b->error);
            b->error = g_steal_pointer(&error);
            b->error_index = i;
        }
        g_mutex_unlock(&b->sw->lock);
        g_clear_error(&error);
    }
}

/* Fetch the pages starting at starts[0..n) with up to max_conns threads (the caller is one
 * of them); got[i] is the page of starts[i]. */
static gboolean fetch_batch(Sweep *sw, const guint64 *starts, guint n, DbbPageSlot **got,
                            GError **error)
{
    Batch b = {.sw = sw, .starts = starts, .got = got, .n = n, .rank = dbb_priority_get()};
    g_autoptr(GPtrArray) threads = g_ptr_array_new();
    guint workers = MIN(MAX(sw->spec->max_conns, 1u), n);

    for (guint i = 1; i < workers; i++) {
        GThread *t = g_thread_try_new("dbb-page", batch_worker, &b, NULL);
        if (t == NULL)
            break; /* fewer threads is slower, not wrong */
        g_ptr_array_add(threads, t);
    }
    batch_worker(&b);
    for (guint i = 0; i < threads->len; i++)
        g_thread_join(g_ptr_array_index(threads, i));
    if (b.error != NULL) {
        g_propagate_error(error, b.error);
        return FALSE;
    }
    return TRUE;
}

/* ---- the sweep ---- */

static void warn_total_high(Sweep *sw)
{
    guint64 n = unique_count(sw);

    if (sw->total >= 0 && n < (guint64)sw->total)
        g_warning("%s: GET %s: total said %" G_GINT64_FORMAT ", the pages hold %" G_GUINT64_FORMAT
                  " (nothing after offset %" G_GUINT64_FORMAT ")",
                  sw->spec->service, sw->spec->path, sw->total, n, sw->cursor);
}

/* Within the request budget: the pages the records so far need + 2 (+ the probe)? */
static gboolean within_budget(Sweep *sw)
{
    guint64 records = MAX(unique_count(sw), sw->cursor);
    guint64 needed = MAX((records + sw->step - 1) / sw->step, 1);

    return sw->requests + 1 <= needed + 2 + sw->probes;
}

/* Page by page from the cursor, to the first short or empty page, a page that brings
 * nothing new, or the page at stop_at (known to be empty). */
static gboolean sweep_tail(Sweep *sw, guint64 stop_at, GError **error)
{
    while (sw->cursor < stop_at) {
        DbbPageSlot *slot;
        guint k;

        /* Full pages that mostly repeat records would cost a request per new record. */
        if (!within_budget(sw))
            return sweep_fail(sw, error,
                              "%" G_GUINT64_FORMAT " requests for %" G_GUINT64_FORMAT
                              " records, more than their pages + 2; listing refused",
                              sw->requests, unique_count(sw));
        slot = fetch_at(sw, sw->cursor, error);
        if (slot == NULL)
            return FALSE;
        k = slot->recs->len;
        if (k == 0)
            break;
        if (slot->added == 0) {
            g_warning("%s: GET %s: the page at offset %" G_GUINT64_FORMAT
                      " only repeats records already listed; stopping there",
                      sw->spec->service, sw->spec->path, slot->sent_offset);
            break;
        }
        sw->cursor += k;
        if (k < sw->step)
            break;
    }
    warn_total_high(sw);
    return TRUE;
}

/* A page between others that held records: full, and not only repeating what was seen. */
static gboolean page_whole(const Sweep *sw, const DbbPageSlot *slot)
{
    return slot->recs->len >= sw->step && slot->added > 0;
}

/* A page that should have been whole was not: fetch it again, within the budget. */
static gboolean fill_hole(Sweep *sw, DbbPageSlot *hole, GError **error)
{
    guint had = hole->recs->len;
    DbbPageSlot *again;

    if (!within_budget(sw))
        return sweep_fail(sw, error,
                          "the page at offset %" G_GUINT64_FORMAT " held %u of %u records while "
                          "later pages held more (a hole), and the request budget is spent; "
                          "listing refused",
                          hole->sent_offset, had, sw->step);
    again = fetch_at(sw, hole->start, error);
    if (again == NULL)
        return FALSE;
    if (again->recs->len < sw->step)
        return sweep_fail(sw, error,
                          "the page at offset %" G_GUINT64_FORMAT " held %u of %u records while "
                          "later pages held more (a hole), and %u when fetched again; listing "
                          "refused",
                          hole->sent_offset, had, sw->step, again->recs->len);
    if (had >= sw->step && again->added == 0)
        return sweep_fail(sw, error,
                          "the page at offset %" G_GUINT64_FORMAT " only repeats records of "
                          "other pages, also when fetched again; listing refused",
                          hole->sent_offset);
    return TRUE;
}

static gboolean sweep_rest(Sweep *sw, gboolean last_full, GError **error);

/* The total is confirmed up to the page at last_start: fetch the pages between, each
 * needed and expected full. */
static gboolean sweep_confirmed(Sweep *sw, DbbPageSlot *first, DbbPageSlot *last, guint64 m,
                                GError **error)
{
    g_autofree guint64 *starts = g_new(guint64, MAX(m, 2));
    g_autofree DbbPageSlot **got = g_new0(DbbPageSlot *, MAX(m, 2));
    guint64 n = m - 2;

    got[0] = first;
    for (guint64 i = 0; i < n; i++)
        starts[i] = sw->cursor + (i + 1) * sw->step;
    if (n > 0 && !fetch_batch(sw, starts, (guint)n, got + 1, error))
        return FALSE;
    for (guint64 i = 0; i <= n; i++)
        if (!page_whole(sw, got[i]) && !fill_hole(sw, got[i], error))
            return FALSE;
    sw->cursor = last->start + last->recs->len;
    return sweep_rest(sw, last->recs->len == sw->step, error);
}

/* Records [0, cursor) are known; the page that ended there was full (last_full) or not. */
static gboolean sweep_rest(Sweep *sw, gboolean last_full, GError **error)
{
    guint64 end, m, last_start;
    guint64 starts[2];
    DbbPageSlot *got[2] = {NULL, NULL};

    if (!last_full || sw->total == (gint64)sw->cursor) {
        warn_total_high(sw);
        return TRUE;
    }
    if (sw->total < 0 || (guint64)sw->total < sw->cursor)
        return sweep_tail(sw, G_MAXUINT64, error); /* no total, or one that lied low */
    end = MIN((guint64)sw->total, sw->max_records + 1);
    if (end <= sw->cursor)
        return sweep_tail(sw, G_MAXUINT64, error);
    m = (end - sw->cursor + sw->step - 1) / sw->step;
    if (m <= 1) {
        DbbPageSlot *slot = fetch_at(sw, sw->cursor, error);

        if (slot == NULL)
            return FALSE;
        sw->cursor += slot->recs->len;
        return sweep_rest(sw, slot->recs->len == sw->step && slot->added > 0, error);
    }
    last_start = sw->cursor + (m - 1) * sw->step;
    starts[0] = sw->cursor;
    starts[1] = last_start;
    if (!fetch_batch(sw, starts, 2, got, error))
        return FALSE;
    if (got[1]->recs->len > 0 && got[1]->added > 0) {
        /* Holding a record past the cap proves the listing too large: stop here. */
        if (last_start + got[1]->recs->len > sw->max_records)
            return sweep_fail(sw, error,
                              "more than %" G_GUINT64_FORMAT
                              " records (max_records, total %" G_GINT64_FORMAT "); listing refused",
                              sw->max_records, sw->total);
        return sweep_confirmed(sw, got[0], got[1], m, error);
    }
    g_warning("%s: GET %s: total said %" G_GINT64_FORMAT
              " but the page at offset %" G_GUINT64_FORMAT " %s; listing page by page",
              sw->spec->service, sw->spec->path, sw->total, got[1]->sent_offset,
              got[1]->recs->len == 0 ? "is empty" : "only repeats records");
    if (got[0]->recs->len == 0 || got[0]->added == 0) {
        warn_total_high(sw);
        return TRUE;
    }
    sw->cursor += got[0]->recs->len;
    if (got[0]->recs->len < sw->step) {
        warn_total_high(sw);
        return TRUE;
    }
    return sweep_tail(sw, last_start, error);
}

/* Page 0 held fewer records than the limit while the total says more. */
static gboolean after_short_first(Sweep *sw, DbbPageSlot *first, GError **error)
{
    guint n0 = first->recs->len;
    DbbPageSlot *next = fetch_at(sw, n0, error);
    guint k;

    if (next == NULL)
        return FALSE;
    k = next->recs->len;
    sw->cursor = n0 + k;
    if (k == 0 || k < n0) {
        warn_total_high(sw);
        return TRUE;
    }
    if (k == n0) {
        /* A second full page of that size: the server caps its pages. */
        g_debug("%s: GET %s: pages hold %u records, not %u", sw->spec->service, sw->spec->path, n0,
                sw->step);
        sw->step = n0;
        return sweep_rest(sw, next->added > 0, error);
    }
    /* The next page held more than page 0: page 0 was a hole. */
    if (!fill_hole(sw, first, error))
        return FALSE;
    sw->cursor = MAX(sw->step, n0 + k);
    return sweep_rest(sw, k == sw->step, error);
}

/* Page 0 was full and more may follow: how does the server read offset? */
static gboolean probe_offset_mode(Sweep *sw, DbbPageSlot *first, GError **error)
{
    DbbPageSlot *probe;
    DbbOffsetMode mode;
    const char *why;
    guint k;

    sw->probes = 1;
    probe = fetch_at(sw, 1, error);
    if (probe == NULL)
        return FALSE;
    k = probe->recs->len;
    if (k == 0) /* either way nothing follows page 0 */
        return sweep_rest(sw, FALSE, error);
    mode = dbb_offset_mode_judge(first, probe, &why);
    if (mode == DBB_OFFSET_UNKNOWN)
        return sweep_fail(sw, error,
                          "cannot tell whether the server reads offset as an item index or a "
                          "page number (%s); listing refused",
                          why);
    g_debug("%s: GET %s: offset read as a %s", sw->spec->service, sw->spec->path,
            dbb_offset_mode_name(mode));
    if (mode == DBB_OFFSET_PAGE) {
        sw->page_mode = TRUE;
        probe->start = sw->step;
    }
    sw->cursor = probe->start + k;
    return sweep_rest(sw, k == sw->step && probe->added > 0, error);
}

static gboolean sweep(Sweep *sw, GError **error)
{
    const DbbPaginateSpec *spec = sw->spec;
    DbbPageSlot *first = fetch_at(sw, 0, error);
    guint n0;

    if (first == NULL)
        return FALSE;
    if (first->recs->len == 0 && first->total > 0) {
        /* Empty while the total says more: a hole or a lie; ask once more. */
        first = fetch_at(sw, 0, error);
        if (first == NULL)
            return FALSE;
    }
    sw->total = first->total;
    n0 = first->recs->len;
    sw->cursor = n0;
    if (n0 < spec->limit) {
        if (n0 == 0 || sw->total < 0 || sw->total <= (gint64)n0) {
            warn_total_high(sw);
            return TRUE;
        }
        return after_short_first(sw, first, error);
    }
    if (spec->offset_may_be_page && spec->limit > 1 && sw->total != (gint64)n0)
        return probe_offset_mode(sw, first, error);
    return sweep_rest(sw, TRUE, error);
}

/* ---- the merge ---- */

static gint slot_order(gconstpointer a, gconstpointer b)
{
    const DbbPageSlot *x = *(DbbPageSlot *const *)a, *y = *(DbbPageSlot *const *)b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Later pages win, at the first position. */
static void merge_slot(const DbbPaginateSpec *spec, DbbPageSlot *slot, GPtrArray *result,
                       GArray *hashes, GHashTable *index)
{
    for (guint i = 0; i < slot->recs->len; i++) {
        DbbRec *rec = &g_array_index(slot->recs, DbbRec, i);
        gpointer pos_plus_one;
        guint pos;

        if (!g_hash_table_lookup_extended(index, rec->id, NULL, &pos_plus_one)) {
            g_hash_table_insert(index, (gpointer)rec->id, GUINT_TO_POINTER(result->len + 1));
            g_ptr_array_add(result, g_steal_pointer(&rec->item));
            g_array_append_val(hashes, rec->hash);
            continue;
        }
        pos = GPOINTER_TO_UINT(pos_plus_one) - 1;
        if (g_array_index(hashes, guint64, pos) != rec->hash)
            g_warning("%s: GET %s: ID %s listed twice with different contents; "
                      "keeping the later page's version",
                      spec->service, spec->path, rec->id);
        else
            g_debug("%s: GET %s: ID %s listed twice", spec->service, spec->path, rec->id);
        /* Replace the key first: the old one belongs to the item about to be freed. */
        g_hash_table_replace(index, (gpointer)rec->id, pos_plus_one);
        if (spec->item_free != NULL)
            spec->item_free(result->pdata[pos]);
        result->pdata[pos] = g_steal_pointer(&rec->item);
        g_array_index(hashes, guint64, pos) = rec->hash;
    }
}

static GPtrArray *merge(Sweep *sw)
{
    const DbbPaginateSpec *spec = sw->spec;
    GPtrArray *result = g_ptr_array_new_with_free_func(spec->item_free);
    g_autoptr(GArray) hashes = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);

    /* `seen` borrows keys from the items about to move. */
    g_hash_table_remove_all(sw->seen);
    g_ptr_array_sort(sw->slots, slot_order);
    for (guint i = 0; i < sw->slots->len; i++)
        merge_slot(spec, g_ptr_array_index(sw->slots, i), result, hashes, index);
    return result;
}

GPtrArray *dbb_paginate(const DbbPaginateSpec *spec, GError **error)
{
    Sweep sw = {
        .spec = spec,
        .step = spec->limit,
        .total = -1,
        .max_records = spec->max_records ? spec->max_records : DBB_PAGINATE_MAX_RECORDS,
        .max_bytes = spec->max_bytes ? spec->max_bytes : DBB_PAGINATE_MAX_BYTES,
    };
    GPtrArray *result = NULL;

    g_return_val_if_fail(
        spec != NULL && spec->limit > 0 && spec->fetch != NULL && spec->parse != NULL, NULL);
    g_mutex_init(&sw.lock);
    sw.slots = g_ptr_array_new();
    sw.seen = g_hash_table_new(g_str_hash, g_str_equal);
    if (sweep(&sw, error))
        result = merge(&sw);
    g_debug("%s: GET %s: %" G_GUINT64_FORMAT " requests, %u records", spec->service, spec->path,
            sw.requests, result != NULL ? result->len : 0);
    g_hash_table_unref(sw.seen);
    for (guint i = 0; i < sw.slots->len; i++)
        dbb_page_slot_free(spec, g_ptr_array_index(sw.slots, i));
    g_ptr_array_unref(sw.slots);
    g_mutex_clear(&sw.lock);
    return result;
}
