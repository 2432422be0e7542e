/*
 * dbbackupfs — one fetched page, parsed and checked (see page.h).
 */
#include "page.h"

#include <errno.h>

#include "error.h"
#include "jsonutil.h"
#include "rawjson.h"

void dbb_page_clear(DbbPage *page)
{
    if (page == NULL)
        return;
    g_clear_pointer(&page->json, json_object_put);
    g_clear_pointer(&page->body, g_bytes_unref);
}

void dbb_page_slot_free(const DbbPaginateSpec *spec, DbbPageSlot *slot)
{
    if (slot == NULL)
        return;
    for (guint i = 0; slot->recs != NULL && i < slot->recs->len; i++) {
        DbbRec *rec = &g_array_index(slot->recs, DbbRec, i);
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
        DbbRec rec = {0};

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

DbbPageSlot *dbb_page_slot_parse(const DbbPaginateSpec *spec, const DbbPage *page,
                                 guint64 sent_offset, GError **error)
{
    DbbPageSlot *slot = g_new0(DbbPageSlot, 1);
    json_object *items;

    slot->sent_offset = sent_offset;
    slot->total = -1;
    slot->page_no = -1;
    slot->recs = g_array_new(FALSE, FALSE, sizeof(DbbRec));
    if (page->json == NULL || !json_object_is_type(page->json, json_type_object)) {
        page_error(spec, sent_offset, error, "the body is not a JSON object");
        goto fail;
    }
    if (page->body == NULL) {
        page_error(spec, sent_offset, error, "no body text");
        goto fail;
    }
    slot->bytes = g_bytes_get_size(page->body);
    slot->total = read_total(spec, page->json, sent_offset);
    if (!dbb_json_get_int64(page->json, "page_no", &slot->page_no))
        slot->page_no = -1;
    if (!find_items(spec, page, sent_offset, slot->total, &items, error))
        goto fail;
    if (items != NULL && !parse_elements(spec, page, items, sent_offset, slot->recs, error))
        goto fail;
    return slot;
fail:
    dbb_page_slot_free(spec, slot);
    return NULL;
}

GPtrArray *dbb_paginate_parse_page(const DbbPaginateSpec *spec, const DbbPage *page, guint64 offset,
                                   gint64 *total, gint64 *page_no, GError **error)
{
    DbbPageSlot *slot = dbb_page_slot_parse(spec, page, offset, error);
    GPtrArray *items;

    if (slot == NULL)
        return NULL;
    items = g_ptr_array_new_with_free_func(spec->item_free);
    for (guint i = 0; i < slot->recs->len; i++)
        g_ptr_array_add(items, g_steal_pointer(&g_array_index(slot->recs, DbbRec, i).item));
    *total = slot->total;
    *page_no = slot->page_no;
    dbb_page_slot_free(spec, slot);
    return items;
}
