/*
 * dbbackupfs — the page sweep shared by every listing (see paginate.h).
 *
 * A sweep keeps the pages of the current offset mode by page index ("pages") and the pages
 * of an abandoned mode ("extras": their records are kept, but never override).  Pages are
 * fetched by run_batch(): workers claim page indexes from a shared counter under one mutex,
 * fetch and parse without it, and store the result under it.  A claim is refused past the
 * first page that ends the data (empty, short, or adding no new ID), so even a total that
 * lies high costs at most max_conns extra requests; a cap on the page index bounds the rest.
 *
 * DDM's ambiguous offset (offset_may_be_page): page 0 reads the same in both modes, so the
 * page at item offset `limit` is fetched alone first (the probe).  Its page_no settles the
 * mode (2: item index; limit + 1: page number).  Without page_no, a probe that is empty or
 * short while the total says more, or that only repeats page 0's IDs, means page numbers.
 * If an item sweep that page_no did not confirm still ends short of the total, the remaining
 * pages are fetched again as page numbers.  Cost with an honest total of n pages: n requests
 * for an item-offset server, n + 1 for a page-number server (the probe), 1 when n == 1.
 */
#include "paginate.h"

#include <errno.h>

#include "error.h"
#include "jsonutil.h"
#include "rawjson.h"

/* No listing is longer than this many pages (10 million records at 100 a page). */
#define MAX_PAGES 100000

typedef enum {
    MODE_ITEM, /* offset = index * limit */
    MODE_PAGE, /* offset = index */
} OffsetMode;

typedef struct {
    gpointer item;
    const char *id; /* owned by item */
    guint64 hash;   /* of the raw text, to tell a changed duplicate from a repeated one */
} Rec;

typedef struct {
    GArray *recs; /* Rec */
    gint64 total;
    gint64 page_no;
    guint64 offset;
} PageSlot;

typedef struct {
    const DbbPaginateSpec *spec;
    GMutex lock;
    OffsetMode mode;
    guint step;        /* records a full page holds: the limit, or less when the server caps it */
    GPtrArray *pages;  /* PageSlot *, by index in the current mode; NULL while in flight */
    GPtrArray *extras; /* PageSlot * of an abandoned mode */
    GHashTable *seen;  /* IDs in `pages` (keys borrowed from their items) */
    /* The batch being run: */
    guint64 next, end, stop_at;
    GError *error;
    guint64 error_index;
} Sweep;

static const char *mode_name(OffsetMode mode)
{
    return mode == MODE_ITEM ? "item index" : "page number";
}

void dbb_page_clear(DbbPage *page)
{
    if (page == NULL)
        return;
    g_clear_pointer(&page->json, json_object_put);
    g_clear_pointer(&page->body, g_bytes_unref);
}

static void slot_free(const DbbPaginateSpec *spec, PageSlot *slot)
{
    if (slot == NULL)
        return;
    for (guint i = 0; slot->recs != NULL && i < slot->recs->len; i++) {
        Rec *rec = &g_array_index(slot->recs, Rec, i);
        if (rec->item != NULL && spec->item_free != NULL)
            spec->item_free(rec->item);
    }
    if (slot->recs != NULL)
        g_array_unref(slot->recs);
    g_free(slot);
}

static guint64 fnv1a(const char *data, gsize len)
{
    guint64 h = 14695981039346656037ULL;

    for (gsize i = 0; i < len; i++) {
        h ^= (guchar)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Set *error to a shape failure of this page, logging it once. */
static void page_error(const DbbPaginateSpec *spec, guint64 offset, GError **error, const char *fmt,
                       ...) G_GNUC_PRINTF(4, 5);

static void page_error(const DbbPaginateSpec *spec, guint64 offset, GError **error, const char *fmt,
                       ...)
{
    g_autofree char *why = NULL;
    g_autofree char *text = NULL;
    va_list args;

    va_start(args, fmt);
    why = g_strdup_vprintf(fmt, args);
    va_end(args);
    text = g_strdup_printf("%s: GET %s?offset=%" G_GUINT64_FORMAT "&limit=%u: malformed page: %s",
                           spec->service, spec->path, offset, spec->limit, why);
    g_warning("%s", text);
    g_set_error_literal(error, DBB_API_ERROR, EIO, text);
}

/* Read the total, -1 when missing or invalid (said once: only page 0's total is used). */
static gint64 read_total(const DbbPaginateSpec *spec, json_object *json, guint64 offset)
{
    json_object *member = NULL;
    gint64 total;

    if (!json_object_object_get_ex(json, spec->total_member, &member) || member == NULL)
        return -1;
    if (!dbb_json_get_int64(json, spec->total_member, &total) || total < 0) {
        if (offset != 0)
            return -1;
        g_warning("%s: GET %s: \"%s\" is not a count (%s); listing without it", spec->service,
                  spec->path, spec->total_member, json_object_to_json_string(member));
        return -1;
    }
    return total;
}

/* The items array, or NULL for a page that legitimately has none. */
static gboolean find_items(const DbbPaginateSpec *spec, const DbbPage *page, guint64 offset,
                           gint64 total, json_object **items, GError **error)
{
    *items = NULL;
    if (json_object_object_get_ex(page->json, spec->items_member, items) && *items != NULL) {
        if (json_object_is_type(*items, json_type_array))
            return TRUE;
        page_error(spec, offset, error, "\"%s\" is a %s, not an array", spec->items_member,
                   json_type_to_name(json_object_get_type(*items)));
        return FALSE;
    }
    /* A service may leave the array out when there is nothing (more) to list — DDM's paging
     * guide says to page "until the result is empty or instances is missing".  Without a
     * total that is the end of the data after the first page; with one, only at 0. */
    if (total == 0 || (total < 0 && offset > 0))
        return TRUE;
    page_error(spec, offset, error, "\"%s\" is missing", spec->items_member);
    return FALSE;
}

static gboolean parse_elements(const DbbPaginateSpec *spec, const DbbPage *page, json_object *items,
                               guint64 offset, GArray *recs, GError **error)
{
    const char *body = g_bytes_get_data(page->body, NULL);
    g_autoptr(GArray) spans = NULL;
    const char *why = NULL;
    gsize n = json_object_array_length(items);

    if (!dbb_rawjson_array_spans(body, g_bytes_get_size(page->body), spec->items_member, &spans,
                                 &why)) {
        page_error(spec, offset, error, "%s", why);
        return FALSE;
    }
    if (spans->len != n) {
        page_error(spec, offset, error, "raw text holds %u elements, parsed JSON %zu", spans->len,
                   n);
        return FALSE;
    }
    for (gsize i = 0; i < n; i++) {
        json_object *element = json_object_array_get_idx(items, i);
        DbbSpan *span = &g_array_index(spans, DbbSpan, i);
        GError *local = NULL;
        Rec rec = {0};

        if (!json_object_is_type(element, json_type_object)) {
            page_error(spec, offset, error, "element %zu of \"%s\" is a %s, not an object", i,
                       spec->items_member, json_type_to_name(json_object_get_type(element)));
            return FALSE;
        }
        rec.item = spec->parse(spec->parse_data, element, body + span->offset, span->length,
                               &rec.id, &local);
        if (rec.item == NULL) {
            page_error(spec, offset, error, "element %zu: %s", i,
                       local != NULL ? local->message : "rejected");
            g_clear_error(&local);
            return FALSE;
        }
        rec.hash = fnv1a(body + span->offset, span->length);
        g_array_append_val(recs, rec);
    }
    return TRUE;
}

static PageSlot *parse_slot(const DbbPaginateSpec *spec, const DbbPage *page, guint64 offset,
                            GError **error)
{
    PageSlot *slot = g_new0(PageSlot, 1);
    json_object *items;

    slot->offset = offset;
    slot->total = -1;
    slot->page_no = -1;
    slot->recs = g_array_new(FALSE, FALSE, sizeof(Rec));
    if (page->json == NULL || !json_object_is_type(page->json, json_type_object)) {
        page_error(spec, offset, error, "the body is not a JSON object");
        goto fail;
    }
    if (page->body == NULL) {
        page_error(spec, offset, error, "no body text");
        goto fail;
    }
    slot->total = read_total(spec, page->json, offset);
    if (!dbb_json_get_int64(page->json, "page_no", &slot->page_no))
        slot->page_no = -1;
    if (!find_items(spec, page, offset, slot->total, &items, error))
        goto fail;
    if (items != NULL && !parse_elements(spec, page, items, offset, slot->recs, error))
        goto fail;
    return slot;
fail:
    slot_free(spec, slot);
    return NULL;
}

GPtrArray *dbb_paginate_parse_page(const DbbPaginateSpec *spec, const DbbPage *page, guint64 offset,
                                   gint64 *total, gint64 *page_no, GError **error)
{
    PageSlot *slot = parse_slot(spec, page, offset, error);
    GPtrArray *items;

    if (slot == NULL)
        return NULL;
    items = g_ptr_array_new_with_free_func(spec->item_free);
    for (guint i = 0; i < slot->recs->len; i++)
        g_ptr_array_add(items, g_steal_pointer(&g_array_index(slot->recs, Rec, i).item));
    *total = slot->total;
    *page_no = slot->page_no;
    slot_free(spec, slot);
    return items;
}

static PageSlot *fetch_slot(const DbbPaginateSpec *spec, guint64 offset, GError **error)
{
    DbbPage page = {0};
    PageSlot *slot;

    if (!spec->fetch(spec->fetch_data, offset, spec->limit, &page, error)) {
        dbb_page_clear(&page);
        if (error != NULL && *error == NULL)
            g_set_error(error, DBB_API_ERROR, EIO, "%s: GET %s: page fetch failed", spec->service,
                        spec->path);
        return NULL;
    }
    slot = parse_slot(spec, &page, offset, error);
    dbb_page_clear(&page);
    return slot;
}

static guint64 offset_of(const Sweep *sw, guint64 index)
{
    return sw->mode == MODE_ITEM ? index * sw->step : index;
}

static PageSlot *page_at(const Sweep *sw, guint64 index)
{
    return index < sw->pages->len ? g_ptr_array_index(sw->pages, index) : NULL;
}

/* Under the lock: add the slot's IDs to `seen`; TRUE when at least one was new. */
static gboolean note_ids(Sweep *sw, const PageSlot *slot)
{
    gboolean added = FALSE;

    for (guint i = 0; i < slot->recs->len; i++)
        added |= g_hash_table_add(sw->seen, (gpointer)g_array_index(slot->recs, Rec, i).id);
    return added;
}

/* Under the lock: store a fetched page; a page that ends the data stops further claims. */
static void store_page(Sweep *sw, guint64 index, PageSlot *slot)
{
    gboolean added;

    if (sw->pages->len <= index)
        g_ptr_array_set_size(sw->pages, index + 1);
    g_ptr_array_index(sw->pages, index) = slot;
    added = note_ids(sw, slot);
    if (slot->recs->len < sw->step || !added) {
        if (slot->recs->len > 0 && !added)
            g_warning("%s: GET %s: page at offset %" G_GUINT64_FORMAT
                      " only repeats records already listed; stopping there",
                      sw->spec->service, sw->spec->path, slot->offset);
        sw->stop_at = MIN(sw->stop_at, index);
    }
}

static gboolean claim(Sweep *sw, guint64 *index)
{
    gboolean ok;

    g_mutex_lock(&sw->lock);
    ok = sw->error == NULL && sw->next < sw->end && sw->next <= sw->stop_at;
    if (ok)
        *index = sw->next++;
    g_mutex_unlock(&sw->lock);
    return ok;
}

static gpointer worker(gpointer data)
{
    Sweep *sw = data;
    guint64 index;

    while (claim(sw, &index)) {
        GError *error = NULL;
        PageSlot *slot = fetch_slot(sw->spec, offset_of(sw, index), &error);

        g_mutex_lock(&sw->lock);
        if (slot != NULL) {
            store_page(sw, index, slot);
        } else if (sw->error == NULL || index < sw->error_index) {
            /* Report the earliest failing page, whatever order the threads finish in. */
            g_clear_error(&sw->error);
            sw->error = g_steal_pointer(&error);
            sw->error_index = index;
        }
        g_mutex_unlock(&sw->lock);
        g_clear_error(&error);
    }
    return NULL;
}

/* Fetch pages [first, end) with up to `workers` threads (the caller is one of them).
 * *stopped: a page ended the data before `end`. */
static gboolean run_batch(Sweep *sw, guint64 first, guint64 end, guint workers, gboolean *stopped,
                          GError **error)
{
    g_autoptr(GPtrArray) threads = g_ptr_array_new();

    if (stopped != NULL)
        *stopped = FALSE;
    if (end <= first)
        return TRUE;
    sw->next = first;
    sw->end = end;
    sw->stop_at = G_MAXUINT64;
    workers = (guint)MIN((guint64)MAX(workers, 1u), end - first);
    for (guint i = 1; i < workers; i++) {
        GThread *t = g_thread_try_new("dbb-page", worker, sw, NULL);
        if (t == NULL)
            break; /* fewer threads is slower, not wrong */
        g_ptr_array_add(threads, t);
    }
    worker(sw);
    for (guint i = 0; i < threads->len; i++)
        g_thread_join(g_ptr_array_index(threads, i));
    if (stopped != NULL)
        *stopped = sw->stop_at < end;
    if (sw->error != NULL) {
        g_propagate_error(error, g_steal_pointer(&sw->error));
        return FALSE;
    }
    return TRUE;
}

static guint64 unique_count(const Sweep *sw)
{
    return g_hash_table_size(sw->seen);
}

/* Move pages 1.. of the current mode to the extras and restart from page 0 in `mode`. */
static void switch_mode(Sweep *sw, OffsetMode mode)
{
    for (guint i = 1; i < sw->pages->len; i++) {
        PageSlot *slot = g_ptr_array_index(sw->pages, i);
        if (slot != NULL)
            g_ptr_array_add(sw->extras, slot);
    }
    g_ptr_array_set_size(sw->pages, 1);
    g_hash_table_remove_all(sw->seen);
    note_ids(sw, page_at(sw, 0));
    sw->mode = mode;
    g_debug("%s: GET %s: fetching again with offset as a %s", sw->spec->service, sw->spec->path,
            mode_name(mode));
}

/* Did the probe (item offset `limit`) come from a server that reads page numbers?
 * *confirmed: page_no said so either way. */
static OffsetMode judge_probe(const Sweep *sw, gint64 total, gboolean *confirmed)
{
    const PageSlot *first = page_at(sw, 0);
    const PageSlot *probe = page_at(sw, 1);
    guint64 n = probe->recs->len;
    guint limit = sw->step;
    gboolean repeats = n > 0;

    *confirmed = FALSE;
    if (probe->page_no == 2 || (probe->page_no == (gint64)limit + 1 && limit != 1)) {
        *confirmed = TRUE;
        return probe->page_no == 2 ? MODE_ITEM : MODE_PAGE;
    }
    if (total >= 0 && n < limit && (guint64)total > first->recs->len + n)
        return MODE_PAGE;
    for (guint i = 0; i < n && repeats; i++) {
        const char *id = g_array_index(probe->recs, Rec, i).id;
        gboolean in_first = FALSE;
        for (guint j = 0; j < first->recs->len && !in_first; j++)
            in_first = g_str_equal(id, g_array_index(first->recs, Rec, j).id);
        repeats = in_first;
    }
    return repeats ? MODE_PAGE : MODE_ITEM;
}

/* Probe page 1 as an item offset and settle the mode.  *done: the probe ended the data. */
static gboolean probe_mode(Sweep *sw, gint64 total, gboolean *confirmed, gboolean *done,
                           GError **error)
{
    gboolean stopped;
    OffsetMode mode;

    if (!run_batch(sw, 1, 2, 1, &stopped, error))
        return FALSE;
    mode = judge_probe(sw, total, confirmed);
    g_debug("%s: GET %s: offset read as a %s (%s)", sw->spec->service, sw->spec->path,
            mode_name(mode), *confirmed ? "page_no says so" : "judged from the records");
    if (mode == MODE_PAGE) {
        switch_mode(sw, MODE_PAGE);
        *done = FALSE;
    } else {
        *done = stopped;
    }
    return TRUE;
}

static guint64 planned_pages(const Sweep *sw, gint64 total, gboolean *capped)
{
    guint64 n = ((guint64)total + sw->step - 1) / sw->step;

    *capped = n > MAX_PAGES;
    if (*capped) {
        g_warning("%s: GET %s: total %" G_GINT64_FORMAT " needs more than %d pages; the sweep "
                  "stops at the first empty page or fails at the cap",
                  sw->spec->service, sw->spec->path, total, MAX_PAGES);
        n = MAX_PAGES;
    }
    return MAX(n, 1);
}

static gboolean cap_error(const Sweep *sw, GError **error)
{
    g_set_error(error, DBB_API_ERROR, EIO, "%s: GET %s: more than %d pages; listing refused",
                sw->spec->service, sw->spec->path, MAX_PAGES);
    g_warning("%s", (*error)->message);
    return FALSE;
}

/* Pages one by one from `first` until one ends the data. */
static gboolean sweep_sequential(Sweep *sw, guint64 first, GError **error)
{
    gboolean stopped;

    if (!run_batch(sw, first, MAX_PAGES, 1, &stopped, error))
        return FALSE;
    return stopped ? TRUE : cap_error(sw, error);
}

static guint64 received_in_pages(const Sweep *sw)
{
    guint64 n = 0;

    for (guint i = 0; i < sw->pages->len; i++) {
        const PageSlot *slot = g_ptr_array_index(sw->pages, i);
        n += slot != NULL ? slot->recs->len : 0;
    }
    return n;
}

/* A short page that is not empty while the total says more: the server serves fewer
 * records than a page should hold (pages of varying size).  Go on from the records actually
 * received, page by page, until an empty page, a page with nothing new, or the total — so
 * no record between a short page and the next offset is lost. */
static gboolean sweep_tail(Sweep *sw, gint64 total, GError **error)
{
    const PageSlot *last = page_at(sw, sw->stop_at);
    guint64 offset;

    if (sw->mode != MODE_ITEM || last == NULL || last->recs->len == 0)
        return TRUE;
    g_debug("%s: GET %s: short page at offset %" G_GUINT64_FORMAT "; continuing from the "
            "records received",
            sw->spec->service, sw->spec->path, last->offset);
    offset = last->offset + last->recs->len;
    for (guint n = 0; n < MAX_PAGES && unique_count(sw) < (guint64)total; n++) {
        PageSlot *slot = fetch_slot(sw->spec, offset, error);
        gboolean added;

        if (slot == NULL)
            return FALSE;
        g_ptr_array_add(sw->pages, slot);
        added = note_ids(sw, slot);
        if (slot->recs->len == 0 || !added)
            return TRUE;
        offset += slot->recs->len;
    }
    return TRUE;
}

/* With a total: all pages at once, then the checks that the total was right. */
static gboolean sweep_with_total(Sweep *sw, gint64 total, guint workers, GError **error)
{
    gboolean capped, confirmed = FALSE, stopped = FALSE, done = FALSE;
    guint64 n_pages = planned_pages(sw, total, &capped);
    guint64 first = 1;

    if (n_pages > 1 && sw->spec->offset_may_be_page) {
        if (!probe_mode(sw, total, &confirmed, &done, error))
            return FALSE;
        first = sw->mode == MODE_ITEM ? 2 : 1;
    }
    if (!done && !run_batch(sw, first, n_pages, workers, &stopped, error))
        return FALSE;
    if (sw->spec->offset_may_be_page && n_pages > 1 && sw->mode == MODE_ITEM && !confirmed &&
        unique_count(sw) < (guint64)total) {
        switch_mode(sw, MODE_PAGE);
        if (!run_batch(sw, 1, n_pages, workers, &stopped, error))
            return FALSE;
    }
    if (!stopped && !done && received_in_pages(sw) > (guint64)total &&
        page_at(sw, n_pages - 1) != NULL && page_at(sw, n_pages - 1)->recs->len == sw->step) {
        g_warning("%s: GET %s: total said %" G_GINT64_FORMAT " but the pages hold more; "
                  "continuing page by page",
                  sw->spec->service, sw->spec->path, total);
        return sweep_sequential(sw, n_pages, error);
    }
    if (capped && !stopped && !done)
        return cap_error(sw, error);
    if (unique_count(sw) < (guint64)total && !sweep_tail(sw, total, error))
        return FALSE;
    if (unique_count(sw) < (guint64)total)
        g_warning("%s: GET %s: total said %" G_GINT64_FORMAT ", got %" G_GUINT64_FORMAT,
                  sw->spec->service, sw->spec->path, total, unique_count(sw));
    return TRUE;
}

/* Without a total: page by page (after the probe, for an ambiguous offset). */
static gboolean sweep_without_total(Sweep *sw, GError **error)
{
    gboolean confirmed, done = FALSE;

    if (page_at(sw, 0)->recs->len < sw->step)
        return TRUE;
    if (sw->spec->offset_may_be_page) {
        if (!probe_mode(sw, -1, &confirmed, &done, error))
            return FALSE;
        if (done)
            return TRUE;
        return sweep_sequential(sw, sw->mode == MODE_ITEM ? 2 : 1, error);
    }
    return sweep_sequential(sw, 1, error);
}

/* Later pages win, at the first position; extras only add IDs not seen. */
static void merge_slot(const DbbPaginateSpec *spec, PageSlot *slot, gboolean may_override,
                       GPtrArray *result, GArray *hashes, GHashTable *index)
{
    for (guint i = 0; i < slot->recs->len; i++) {
        Rec *rec = &g_array_index(slot->recs, Rec, i);
        gpointer pos_plus_one;
        guint pos;

        if (!g_hash_table_lookup_extended(index, rec->id, NULL, &pos_plus_one)) {
            g_hash_table_insert(index, (gpointer)rec->id, GUINT_TO_POINTER(result->len + 1));
            g_ptr_array_add(result, g_steal_pointer(&rec->item));
            g_array_append_val(hashes, rec->hash);
            continue;
        }
        if (!may_override)
            continue; /* slot_free() releases the item */
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

    for (guint i = 0; i < sw->pages->len; i++)
        if (page_at(sw, i) != NULL)
            merge_slot(spec, page_at(sw, i), TRUE, result, hashes, index);
    for (guint i = 0; i < sw->extras->len; i++)
        merge_slot(spec, g_ptr_array_index(sw->extras, i), FALSE, result, hashes, index);
    return result;
}

static void sweep_clear(Sweep *sw)
{
    for (guint i = 0; i < sw->pages->len; i++)
        slot_free(sw->spec, g_ptr_array_index(sw->pages, i));
    for (guint i = 0; i < sw->extras->len; i++)
        slot_free(sw->spec, g_ptr_array_index(sw->extras, i));
    g_ptr_array_unref(sw->pages);
    g_ptr_array_unref(sw->extras);
    g_hash_table_unref(sw->seen);
    g_clear_error(&sw->error);
    g_mutex_clear(&sw->lock);
}

GPtrArray *dbb_paginate(const DbbPaginateSpec *spec, GError **error)
{
    Sweep sw = {.spec = spec, .mode = MODE_ITEM, .step = spec->limit, .stop_at = G_MAXUINT64};
    GPtrArray *result = NULL;
    PageSlot *first;
    gboolean ok;

    g_return_val_if_fail(
        spec != NULL && spec->limit > 0 && spec->fetch != NULL && spec->parse != NULL, NULL);
    g_mutex_init(&sw.lock);
    sw.pages = g_ptr_array_new();
    sw.extras = g_ptr_array_new();
    sw.seen = g_hash_table_new(g_str_hash, g_str_equal);
    first = fetch_slot(spec, 0, error);
    if (first == NULL)
        goto out;
    g_ptr_array_add(sw.pages, first);
    note_ids(&sw, first);
    /* A server that serves fewer per page than asked (while the total says more) sets the
     * page size: plan the offsets from what it gives, so nothing falls between pages. */
    if (first->total > (gint64)first->recs->len && first->recs->len > 0 &&
        first->recs->len < spec->limit) {
        sw.step = first->recs->len;
        g_debug("%s: GET %s: pages hold %u records, not %u", spec->service, spec->path, sw.step,
                spec->limit);
    }
    if (first->total >= 0)
        ok = sweep_with_total(&sw, first->total, MAX(spec->max_conns, 1u), error);
    else
        ok = sweep_without_total(&sw, error);
    if (ok)
        result = merge(&sw);
out:
    sweep_clear(&sw);
    return result;
}
