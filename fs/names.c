/*
 * dbbackupfs — entry names: sanitising, the 255-byte limit and collisions.
 *
 * How collisions are settled (DESIGN.md: "judged on the final names", independent of the
 * listing order):
 * 1. Every entry gets its plain name: cut(base) + suffix.  Entries whose plain name is
 *    shared are marked for "<base>@<id><suffix>".
 * 2. A suffixed name may equal another entry's plain name; that entry is then suffixed too,
 *    and so on.  The marked set is the smallest one closed under both rules, so it does not
 *    depend on the order in which entries are looked at; a work list computes it in O(n).
 * 3. Two suffixed names can still coincide only when IDs sanitise or cut alike ("a/b" and
 *    "a_b").  Each such group is taken in bytewise order of the name, its members in ID
 *    order, and each member gets "~<k>" before the suffix, with the smallest k >= 1 whose
 *    name is not taken yet.  Deterministic, and never produces a duplicate.
 * A plain name that would be "", "." or ".." (possible only when the ID itself is one of
 * those) is never used: such an entry always takes the "@<id>" form.
 *
 * Cutting: a name is cut at a character boundary (a byte 0x80-0xBF continues the previous
 * character), backing up at most three bytes so that invalid UTF-8 cannot make a name
 * vanish.  The "@<id>" part is kept whole when it fits in the budget; when the ID alone is
 * longer, the base is dropped and the ID is cut the same way.
 */
#include "names.h"

#include <string.h>

typedef struct {
    char *base; /* sanitised name, or sanitised ID when the name is unusable */
    char *id;   /* sanitised ID */
    gsize suffix_len;
    const char *suffix;
    char *plain; /* plain final name */
    gboolean tagged;
} Work;

char *dbb_name_sanitize(const char *s)
{
    char *out = g_strdup(s ? s : "");

    for (char *p = out; *p; p++) {
        guchar c = (guchar)*p;
        if (c == '/' || c < 0x20 || c == 0x7f)
            *p = '_';
    }
    return out;
}

static gboolean is_continuation(guchar c)
{
    return (c & 0xc0) == 0x80;
}

/* How many bytes of s to keep so that it fits in max bytes without splitting a character. */
static gsize cut_len(const char *s, gsize len, gsize max)
{
    gsize n = max;

    if (len <= max)
        return len;
    for (int back = 0; back < 3 && n > 0 && is_continuation((guchar)s[n]); back++)
        n--;
    /* more than three continuation bytes in a row is not UTF-8: any cut is as good */
    return is_continuation((guchar)s[n]) ? max : n;
}

static gboolean unusable_name(const char *s)
{
    return s == NULL || s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

/* base cut to fit, then "@<id>" (when with_id), then marker ("~k" or ""), then suffix. */
static char *compose(const Work *w, gboolean with_id, const char *marker)
{
    gsize marker_len = strlen(marker);
    gsize fixed = MIN(w->suffix_len + marker_len, DBB_NAME_MAX);
    gsize budget = DBB_NAME_MAX - fixed;
    gsize base_len = strlen(w->base);
    gsize id_len = 0, at_len = 0;
    char *name, *p;

    if (!with_id) {
        base_len = cut_len(w->base, base_len, budget);
    } else if (budget > 0) {
        at_len = 1;
        id_len = strlen(w->id);
        if (1 + id_len > budget) {
            /* the ID alone does not fit: no base, the ID cut like a name */
            base_len = 0;
            id_len = cut_len(w->id, id_len, budget - 1);
        } else {
            base_len = cut_len(w->base, base_len, budget - 1 - id_len);
        }
    } else {
        base_len = 0;
    }
    /* exact size: a listing keeps these for its whole life */
    p = name = g_malloc(base_len + at_len + id_len + marker_len + w->suffix_len + 1);
    memcpy(p, w->base, base_len);
    p += base_len;
    memcpy(p, "@", at_len);
    p += at_len;
    memcpy(p, w->id, id_len);
    p += id_len;
    memcpy(p, marker, marker_len);
    p += marker_len;
    memcpy(p, w->suffix, w->suffix_len + 1);
    return name;
}

static void work_init(Work *w, const DbbNameSlot *slot)
{
    w->suffix = slot->suffix ? slot->suffix : "";
    w->suffix_len = strlen(w->suffix);
    w->id = dbb_name_sanitize(slot->id);
    w->base = unusable_name(slot->raw_name) ? g_strdup(w->id) : dbb_name_sanitize(slot->raw_name);
    w->plain = compose(w, FALSE, "");
    w->tagged = unusable_name(w->plain);
}

static void work_clear(Work *w)
{
    g_free(w->base);
    g_free(w->id);
    g_free(w->plain);
}

/* Step 1 and 2: mark every entry whose plain name is shared, then follow the chains of
 * suffixed names landing on plain ones.  Slot final names hold the current names. */
static void mark_collisions(Work *work, DbbNameSlot *slots, gsize n)
{
    /* plain name -> index + 1 of the only entry with that plain name, or 0 when shared */
    g_autoptr(GHashTable) plain = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GQueue) queue = g_queue_new();

    for (gsize i = 0; i < n; i++) {
        if (!work[i].tagged && !g_hash_table_insert(plain, work[i].plain, GSIZE_TO_POINTER(i + 1)))
            g_hash_table_insert(plain, work[i].plain, GSIZE_TO_POINTER(0));
    }
    for (gsize i = 0; i < n; i++) {
        if (!work[i].tagged && GPOINTER_TO_SIZE(g_hash_table_lookup(plain, work[i].plain)) == 0)
            work[i].tagged = TRUE;
        if (work[i].tagged) {
            g_hash_table_remove(plain, work[i].plain);
            g_queue_push_tail(queue, GSIZE_TO_POINTER(i));
        }
    }
    /* Now `plain` holds exactly the untagged entries, each under its own unique name. */
    while (!g_queue_is_empty(queue)) {
        gsize i = GPOINTER_TO_SIZE(g_queue_pop_head(queue));
        gsize hit;

        slots[i].final_name = compose(&work[i], TRUE, "");
        hit = GPOINTER_TO_SIZE(g_hash_table_lookup(plain, slots[i].final_name));
        if (hit == 0)
            continue;
        g_hash_table_remove(plain, work[hit - 1].plain);
        work[hit - 1].tagged = TRUE;
        g_queue_push_tail(queue, GSIZE_TO_POINTER(hit - 1));
    }
    for (gsize i = 0; i < n; i++) {
        if (!work[i].tagged)
            slots[i].final_name = g_steal_pointer(&work[i].plain);
    }
}

typedef struct {
    const char *name;
    const char *id; /* the raw ID: unique, so it orders the members of a group */
    gsize index;
} Dup;

static int dup_cmp(const void *a, const void *b)
{
    const Dup *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c == 0)
        c = strcmp(x->id, y->id);
    if (c == 0)
        c = (x->index > y->index) - (x->index < y->index);
    return c;
}

/* Step 3: the "~k" fallback for suffixed names that still coincide. */
static void split_leftover_duplicates(Work *work, DbbNameSlot *slots, gsize n)
{
    /* final name -> how many entries hold it; keys borrowed from the slots */
    g_autoptr(GHashTable) count = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GArray) dups = NULL;
    g_autoptr(GPtrArray) old_names = NULL;
    gboolean any = FALSE;

    /* Untagged names are unique and unlike every tagged one (step 2's closure), so only
     * tagged names can coincide; the usual case ends here after counting those. */
    for (gsize i = 0; i < n; i++) {
        guint c;
        if (!work[i].tagged)
            continue;
        c = GPOINTER_TO_UINT(g_hash_table_lookup(count, slots[i].final_name));
        g_hash_table_insert(count, slots[i].final_name, GUINT_TO_POINTER(c + 1));
        any |= c > 0;
    }
    if (!any)
        return;

    dups = g_array_new(FALSE, FALSE, sizeof(Dup));
    for (gsize i = 0; i < n; i++) {
        if (!work[i].tagged) {
            g_hash_table_insert(count, slots[i].final_name, GUINT_TO_POINTER(1));
        } else if (GPOINTER_TO_UINT(g_hash_table_lookup(count, slots[i].final_name)) > 1) {
            Dup d = {slots[i].final_name, slots[i].id, i};
            g_array_append_val(dups, d);
        }
    }
    g_array_sort(dups, dup_cmp);
    old_names = g_ptr_array_new_with_free_func(g_free);
    for (guint j = 0; j < dups->len; j++) {
        Dup *d = &g_array_index(dups, Dup, j);
        char *name = NULL;

        for (guint k = 1; !name || g_hash_table_contains(count, name); k++) {
            char marker[16];
            g_free(name);
            g_snprintf(marker, sizeof(marker), "~%u", k);
            name = compose(&work[d->index], TRUE, marker);
        }
        g_hash_table_insert(count, name, GUINT_TO_POINTER(1));
        /* the old name stays a key of `count` (and d->name) until the end */
        g_ptr_array_add(old_names, slots[d->index].final_name);
        slots[d->index].final_name = name;
    }
    g_clear_pointer(&count, g_hash_table_unref);
}

void dbb_names_assign(DbbNameSlot *slots, gsize n)
{
    Work *work = g_new0(Work, n);

    for (gsize i = 0; i < n; i++) {
        g_clear_pointer(&slots[i].final_name, g_free);
        work_init(&work[i], &slots[i]);
    }
    mark_collisions(work, slots, n);
    split_leftover_duplicates(work, slots, n);
    for (gsize i = 0; i < n; i++)
        work_clear(&work[i]);
    g_free(work);
}

void dbb_names_clear(DbbNameSlot *slots, gsize n)
{
    for (gsize i = 0; i < n; i++)
        g_clear_pointer(&slots[i].final_name, g_free);
}
