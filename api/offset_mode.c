/*
 * dbbackupfs — how a server reads `offset`, judged from page 0 and the page at offset 1
 * (see offset_mode.h).
 */
#include "offset_mode.h"

#include <string.h>

static const char *rec_id(const DbbPageSlot *slot, guint i)
{
    return g_array_index(slot->recs, DbbRec, i).id;
}

/* The probe is page 0 shifted by one record: probe[j] == first[j + 1] wherever both exist. */
static gboolean shifted_by_one(const DbbPageSlot *first, const DbbPageSlot *probe)
{
    guint n = MIN(probe->recs->len, first->recs->len - 1);

    for (guint j = 0; j < n; j++)
        if (strcmp(rec_id(probe, j), rec_id(first, j + 1)) != 0)
            return FALSE;
    return n > 0;
}

/* No record of the probe is on page 0. */
static gboolean disjoint(const DbbPageSlot *first, const DbbPageSlot *probe)
{
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < first->recs->len; i++)
        g_hash_table_add(ids, (gpointer)rec_id(first, i));
    for (guint j = 0; j < probe->recs->len; j++)
        if (g_hash_table_contains(ids, rec_id(probe, j)))
            return FALSE;
    return TRUE;
}

DbbOffsetMode dbb_offset_mode_judge(const DbbPageSlot *first, const DbbPageSlot *probe,
                                    const char **why)
{
    DbbOffsetMode by_ids = DBB_OFFSET_UNKNOWN, by_page_no = DBB_OFFSET_UNKNOWN;

    *why = NULL;
    if (first->recs->len < 2 || probe->recs->len == 0) {
        *why = "too few records to compare";
        return DBB_OFFSET_UNKNOWN;
    }
    if (shifted_by_one(first, probe))
        by_ids = DBB_OFFSET_ITEM;
    else if (disjoint(first, probe))
        by_ids = DBB_OFFSET_PAGE;
    if (probe->page_no == 1)
        by_page_no = DBB_OFFSET_ITEM;
    else if (probe->page_no == 2)
        by_page_no = DBB_OFFSET_PAGE;
    if (by_ids == DBB_OFFSET_UNKNOWN) {
        *why = "the records at offset 1 neither follow page 0 by one nor avoid it";
        return DBB_OFFSET_UNKNOWN;
    }
    if (by_page_no != DBB_OFFSET_UNKNOWN && by_page_no != by_ids) {
        *why = "page_no contradicts the records";
        return DBB_OFFSET_UNKNOWN;
    }
    return by_ids;
}

const char *dbb_offset_mode_name(DbbOffsetMode mode)
{
    switch (mode) {
    case DBB_OFFSET_ITEM:
        return "item index";
    case DBB_OFFSET_PAGE:
        return "page number";
    default:
        return "unknown";
    }
}
