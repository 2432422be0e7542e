/*
 * dbbackupfs — how a server reads `offset` (internal to api/).
 *
 * DDM documents `offset` as an item index, but a server may read it as a 0-based page
 * number.  Page 0 reads the same either way, so the page at offset 1 (limit unchanged) is
 * asked once: an item-index server answers with page 0's records shifted by one, a
 * page-number server with the next page, none of whose IDs page 0 holds.  page_no, when
 * the server sends it (1 for the item reading, 2 for the page reading), must agree.
 *
 * Promise: the answer is certain or DBB_OFFSET_UNKNOWN (then the listing fails: a listing
 * is never cut to its first page on a guess).
 */
#pragma once

#include "page.h"

G_BEGIN_DECLS

typedef enum {
    DBB_OFFSET_UNKNOWN,
    DBB_OFFSET_ITEM, /* offset = index of the first record */
    DBB_OFFSET_PAGE, /* offset = index of the page */
} DbbOffsetMode;

/* first: page 0, full (at least 2 records); probe: the page at offset 1, not empty.
 * *why: a static string saying why the answer is unknown. */
DbbOffsetMode dbb_offset_mode_judge(const DbbPageSlot *first, const DbbPageSlot *probe,
                                    const char **why);

const char *dbb_offset_mode_name(DbbOffsetMode mode);

G_END_DECLS
