/* Entry names: the sanitiser and the collision rules of one directory.  The input, cut at
 * NUL bytes, is (name, id) pairs; the promises of names.h are checked on the result. */
#include "fuzz.h"

#include "fs/names.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

static void check_name(const char *name)
{
    if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strlen(name) > DBB_NAME_MAX || strchr(name, '/') != NULL)
        abort();
    for (const char *p = name; *p; p++)
        if ((guchar)*p < 0x20 || *p == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_auto(GStrv) parts = fuzz_split(data, size, 64);
    guint n = g_strv_length(parts);
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) finals = g_hash_table_new(g_str_hash, g_str_equal);
    DbbNameSlot slots[32];
    gsize n_slots = 0;
    char *clean = dbb_name_sanitize(parts[0]);

    if (strlen(clean) != strlen(parts[0]) || strchr(clean, '/') != NULL)
        abort();
    g_free(clean);
    /* IDs are unique within a directory (the paginator merges by ID): skip repeats. */
    for (guint i = 0; i + 1 < n && n_slots < G_N_ELEMENTS(slots); i += 2) {
        if (!g_hash_table_add(ids, parts[i + 1]))
            continue;
        slots[n_slots].raw_name = parts[i][0] == '\x01' ? NULL : parts[i];
        slots[n_slots].id = parts[i + 1];
        slots[n_slots].suffix = (i / 2) % 2 ? ".json" : "";
        slots[n_slots].final_name = NULL;
        n_slots++;
    }
    dbb_names_assign(slots, n_slots);
    for (gsize i = 0; i < n_slots; i++) {
        check_name(slots[i].final_name);
        if (!g_hash_table_add(finals, slots[i].final_name))
            abort(); /* two entries of one directory share a name */
    }
    dbb_names_clear(slots, n_slots);
    return 0;
}
