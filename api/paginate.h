/*
 * dbbackupfs — the page sweep shared by every listing (internal to api/).
 *
 * Promises:
 * - The first page (offset 0) gives the total; the remaining pages are then fetched
 *   concurrently by min(max_conns, remaining) threads, and merged by ID in page order: an ID
 *   seen twice keeps the later page's version at its first position (g_warning when the two
 *   texts differ).  With an honest total, exactly max(1, ceil(total / limit)) pages are
 *   fetched.
 * - The sweep stops at the total; an empty page before it ends the sweep (g_warning) without
 *   dropping anything received; when the pages prove the total too low (the last page is full
 *   and there are more records than it said) the sweep goes on sequentially.  Without a total
 *   (missing, negative, not a number) pages are fetched one by one until a short or empty page,
 *   or a page that adds no new ID.  A hard cap on the number of pages means it can never loop.
 * - A page that fails (the fetch failed, or its shape is wrong: not an object, the items
 *   member missing or not an array, an element not an object, raw text that disagrees with
 *   the parsed JSON) fails the whole listing: there is no partial result.
 * - offset_may_be_page (DDM): offsets are sent as item indexes, but a server that reads
 *   `offset` as a 0-based page number is detected — from page_no when the response has it,
 *   else from the IDs — and the remaining pages are then fetched as offset = 1, 2, ...  Every
 *   received record is kept whichever mode wins.  See paginate.c for the exact rules.
 * The page source is a callback, so the sweep is tested in-process without HTTP.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/* One fetched page: the parsed body and its exact bytes (both owned). */
typedef struct {
    json_object *json;
    GBytes *body;
} DbbPage;

void dbb_page_clear(DbbPage *page);

/* Fetch the page at `offset` (sent as decimal text) with `limit`.  Called from several
 * threads at once; must be thread-safe.  TRUE with *page filled, or FALSE with *error set
 * (the fetcher logs its own transport failures). */
typedef gboolean (*DbbPageFetchFunc)(gpointer fetch_data, guint64 offset, guint limit,
                                     DbbPage *page, GError **error);

/* Build an item from one element: `element` is json-c's object, raw[0..raw_len) its exact
 * text in the page.  Returns the new item and points *id at its ID (owned by the item, never
 * NULL), or NULL with *error set to reject the whole page. */
typedef gpointer (*DbbItemParseFunc)(gpointer parse_data, json_object *element, const char *raw,
                                     gsize raw_len, const char **id, GError **error);

typedef struct {
    const char *service;      /* for messages: "taurusdb" */
    const char *path;         /* for messages: "/v3/<pid>/instances" */
    const char *items_member; /* "backups", "instances" */
    const char *total_member; /* "total_count", "total_record", "total" */
    guint limit;              /* the largest page the API allows */
    guint max_conns;          /* concurrent page fetches; 0 counts as 1 */
    gboolean offset_may_be_page;
    DbbPageFetchFunc fetch;
    gpointer fetch_data;
    DbbItemParseFunc parse;
    gpointer parse_data;
    GDestroyNotify item_free;
} DbbPaginateSpec;

/* The merged listing (a GPtrArray owning its items through item_free), or NULL with *error
 * (DBB_API_ERROR) set. */
GPtrArray *dbb_paginate(const DbbPaginateSpec *spec, GError **error);

/* Parse one page on its own (exposed for tests): the items in order, *total (-1 when
 * missing or invalid) and *page_no (-1 when absent).  NULL with *error (EIO) when malformed. */
GPtrArray *dbb_paginate_parse_page(const DbbPaginateSpec *spec, const DbbPage *page, guint64 offset,
                                   gint64 *total, gint64 *page_no, GError **error);

G_END_DECLS
