/*
 * dbbackupfs — the page sweep shared by every listing (internal to api/).
 *
 * Promises (DESIGN.md, Errors):
 * - All or nothing: the merged listing, or NULL with an EIO error (DBB_API_ERROR) logged once.
 *   Pages are merged by ID in listing order: an ID seen twice keeps the later page's version
 *   at its first position (g_warning when the two texts differ).
 * - A page that fails (the fetch failed, or its shape is wrong, see page.h) fails the listing.
 * - A hole — a page empty or short while a later page held records — is fetched again; if it
 *   stays short the listing fails.  Only an empty page with nothing after it (or a short one
 *   at the end) ends a listing before its total (a g_warning: the total lied high).
 * - A first page shorter than the limit never shrinks the page size assumed for the rest: a
 *   server that caps its pages is believed only after a second full page of that size.
 * - Requests <= the pages the records need + 2, +1 for the offset probe (offset_may_be_page),
 *   whatever the totals say.  The pages after the first go max_conns at a time once the
 *   total is confirmed (the page holding its last record came back holding records); until
 *   then at most two requests are in flight.
 * - offset_may_be_page (DDM): a server reading `offset` as a 0-based page number is told
 *   apart for certain (offset_mode.h) or the listing fails; never cut to its first page.
 * - Listing-wide bounds: more than max_records records, more than max_bytes bytes of page
 *   bodies, or the deadline passing fails the listing with a log line.
 * Thread-safe.  The page source is a callback, so the sweep is tested in-process without HTTP.
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
    /* Listing-wide bounds (0: the defaults below; deadline 0: none).  The fetcher is expected
     * to bound each page by the deadline too. */
    guint64 max_records;
    guint64 max_bytes;
    gint64 deadline; /* g_get_monotonic_time() value */
} DbbPaginateSpec;

#define DBB_PAGINATE_MAX_RECORDS 1000000u
#define DBB_PAGINATE_MAX_BYTES   (G_GUINT64_CONSTANT(512) << 20)

/* The merged listing (a GPtrArray owning its items through item_free), or NULL with *error
 * (DBB_API_ERROR) set. */
GPtrArray *dbb_paginate(const DbbPaginateSpec *spec, GError **error);

/* Parse one page on its own (exposed for tests): the items in order, *total (-1 when
 * missing or invalid) and *page_no (-1 when absent).  NULL with *error (EIO) when malformed. */
GPtrArray *dbb_paginate_parse_page(const DbbPaginateSpec *spec, const DbbPage *page, guint64 offset,
                                   gint64 *total, gint64 *page_no, GError **error);

G_END_DECLS
