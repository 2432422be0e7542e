/*
 * dbbackupfs — one fetched page, parsed and checked (internal to api/).
 *
 * Promises:
 * - dbb_page_slot_parse() accepts a page only when its shape is right: an object, the items
 *   member an array of objects (or absent where the API leaves it out: the total says 0, or
 *   no total and not the first page), each element accepted by the spec's parser, and the raw
 *   text holding exactly the elements json-c saw.  Otherwise NULL with an EIO error, logged
 *   once, naming the service, the request and why.
 * - The total is read leniently (a number or a numeric string); anything else is "no total"
 *   (-1), said once for the first page.  page_no is -1 when absent.
 */
#pragma once

#include "paginate.h"

G_BEGIN_DECLS

typedef struct {
    gpointer item;
    const char *id; /* owned by item */
    guint64 hash;   /* of the raw text, to tell a changed duplicate from a repeated one */
} DbbRec;

typedef struct {
    GArray *recs;        /* DbbRec, in page order */
    gint64 total;        /* -1: none */
    gint64 page_no;      /* -1: none */
    guint64 sent_offset; /* the offset parameter the request carried */
    guint64 start;       /* index in the listing of its first record (merge order) */
    guint64 seq;         /* fetch order, so a page fetched again wins over its first copy */
    gsize bytes;         /* body size */
    guint added;         /* IDs it added to the listing when it was stored */
} DbbPageSlot;

DbbPageSlot *dbb_page_slot_parse(const DbbPaginateSpec *spec, const DbbPage *page,
                                 guint64 sent_offset, GError **error);
void dbb_page_slot_free(const DbbPaginateSpec *spec, DbbPageSlot *slot);

G_END_DECLS
