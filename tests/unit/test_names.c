/*
 * Unit tests of fs/names.c: every naming rule of DESIGN.md "The tree".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs/names.h"

typedef struct {
    const char *name; /* raw, may be NULL */
    const char *id;
    const char *expected;
} Entry;

/* Assign names to entries (all with the same suffix) and compare with the expectations. */
static void check_dir(const Entry *e, gsize n, const char *suffix)
{
    g_autofree DbbNameSlot *slots = g_new0(DbbNameSlot, n);

    for (gsize i = 0; i < n; i++)
        slots[i] = (DbbNameSlot){e[i].name, e[i].id, suffix, NULL};
    dbb_names_assign(slots, n);
    for (gsize i = 0; i < n; i++) {
        if (g_strcmp0(slots[i].final_name, e[i].expected) != 0)
            fail_msg("entry %" G_GSIZE_FORMAT " (name %s, id %s): got [%s], expected [%s]", i,
                     e[i].name ? e[i].name : "NULL", e[i].id, slots[i].final_name, e[i].expected);
    }
    dbb_names_clear(slots, n);
    for (gsize i = 0; i < n; i++)
        assert_null(slots[i].final_name);
}

static char *one_name(const char *raw, const char *id, const char *suffix)
{
    DbbNameSlot slot = {raw, id, suffix, NULL};

    dbb_names_assign(&slot, 1);
    return slot.final_name;
}

static void test_sanitize(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a/b", "a_b"},
        {"/", "_"},
        {"//x//", "__x__"},
        {"\001\002\037", "___"},
        {"tab\there", "tab_here"},
        {"nl\ncr\r", "nl_cr_"},
        {"del\177", "del_"},
        {"Z\303\274rich \360\237\230\200", "Z\303\274rich \360\237\230\200"},
        {"  spaces  kept ", "  spaces  kept "},
        {"~!@#$%^&*()[]{}\\|;:'\",<.>?", "~!@#$%^&*()[]{}\\|;:'\",<.>?"},
        {"\302\240nbsp\302\205nel", "\302\240nbsp\302\205nel"}, /* C1 controls are UTF-8 */
        {"", ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = dbb_name_sanitize(cases[i].in);
        assert_string_equal(got, cases[i].out);
    }
    g_autofree char *null_name = dbb_name_sanitize(NULL);
    assert_string_equal(null_name, "");
}

static void test_plain_names(void **state)
{
    const Entry e[] = {
        {"backup-1", "id1", "backup-1.json"},
        {"a/b", "id2", "a_b.json"},
        {"ctl\001\177", "id3", "ctl__.json"},
        {"Z\303\274rich", "id4", "Z\303\274rich.json"},
        {"with space", "id5", "with space.json"},
        {"12345", "id6", "12345.json"}, /* a name sent as a number: its text */
        {"...", "id7", "....json"},     /* only "." and ".." themselves are special */
        {".hidden", "id8", ".hidden.json"},
    };
    check_dir(e, G_N_ELEMENTS(e), ".json");
}

static void test_directory_suffixes(void **state)
{
    g_autofree char *a = one_name("inst", "i1", NULL);
    g_autofree char *b = one_name("inst", "i1", "");
    g_autofree char *c = one_name("inst", "i1", ".json");

    assert_string_equal(a, "inst");
    assert_string_equal(b, "inst");
    assert_string_equal(c, "inst.json");
}

static void test_unusable_names_become_id(void **state)
{
    const Entry e[] = {
        {NULL, "id-null", "id-null"},
        {"", "id-empty", "id-empty"},
        {".", "id-dot", "id-dot"},
        {"..", "id-dotdot", "id-dotdot"},
        {NULL, "id/with/slash", "id_with_slash"},
    };
    check_dir(e, G_N_ELEMENTS(e), NULL);

    const Entry b[] = {
        {NULL, "b1", "b1.json"},
        {"..", "b2", "b2.json"},
    };
    check_dir(b, G_N_ELEMENTS(b), ".json");
}

/* An ID that itself is unusable can never yield "", "." or "..". */
static void test_unusable_ids(void **state)
{
    const Entry e[] = {
        {NULL, ".", ".@."},
        {"..", "..", "..@.."},
        {"", "", "@"},
    };
    check_dir(e, G_N_ELEMENTS(e), NULL);
}

static void test_two_backups_one_name(void **state)
{
    const Entry e[] = {
        {"daily", "aaa", "daily@aaa.json"},
        {"daily", "bbb", "daily@bbb.json"},
        {"weekly", "ccc", "weekly.json"}, /* names are never invented otherwise */
    };
    check_dir(e, G_N_ELEMENTS(e), ".json");
}

static void test_three_way_collision(void **state)
{
    const Entry e[] = {
        {"x", "3", "x@3"},
        {"x", "1", "x@1"},
        {"y", "4", "y"},
        {"x", "2", "x@2"},
    };
    check_dir(e, G_N_ELEMENTS(e), NULL);
}

/* A name that collides only after sanitising, and one that equals another's ID fallback. */
static void test_collision_after_sanitising(void **state)
{
    const Entry e[] = {
        {"a/b", "1", "a_b@1"}, {"a_b", "2", "a_b@2"}, {"a\nb", "3", "a_b@3"},
        {NULL, "c", "c@c"},    {"c", "4", "c@4"},
    };
    check_dir(e, G_N_ELEMENTS(e), NULL);
}

/* A suffixed name equal to another entry's plain name suffixes that one too, and so on down
 * the chain. */
static void test_plain_equals_suffixed(void **state)
{
    const Entry dirs[] = {
        {"x", "1", "x@1"},         {"x", "2", "x@2"},           {"x@1", "3", "x@1@3"},
        {"x@1@3", "4", "x@1@3@4"}, {"x@1@3@5", "5", "x@1@3@5"}, /* would only collide with a name
                                                                   nobody has */
    };
    check_dir(dirs, G_N_ELEMENTS(dirs), NULL);

    const Entry backups[] = {
        {"x", "1", "x@1.json"},
        {"x", "2", "x@2.json"},
        {"x@1", "3", "x@1@3.json"},
        {"x@2.json", "4", "x@2.json.json"}, /* different: the suffix is appended */
    };
    check_dir(backups, G_N_ELEMENTS(backups), ".json");
}

static void check_name_valid(const char *name)
{
    assert_non_null(name);
    assert_true(strlen(name) <= DBB_NAME_MAX);
    assert_true(strlen(name) > 0);
    assert_string_not_equal(name, ".");
    assert_string_not_equal(name, "..");
    assert_null(strchr(name, '/'));
    for (const char *p = name; *p; p++) {
        guchar c = (guchar)*p;
        assert_true(c >= 0x20 && c != 0x7f);
    }
}

/* Two 300-byte names sharing their first 280 bytes: the plain names cut to 250 + ".json"
 * coincide, so both take "@id", with the base cut further. */
static void test_collision_by_truncation(void **state)
{
    g_autofree char *common = g_strnfill(280, 'n');
    g_autofree char *tail_a = g_strnfill(20, 'a');
    g_autofree char *tail_b = g_strnfill(20, 'b');
    g_autofree char *a = g_strconcat(common, tail_a, NULL);
    g_autofree char *b = g_strconcat(common, tail_b, NULL);
    DbbNameSlot slots[] = {{a, "ida", ".json", NULL}, {b, "idb", ".json", NULL}};
    g_autofree char *base = g_strnfill(255 - 5 - 4, 'n');
    g_autofree char *exp_a = g_strconcat(base, "@ida.json", NULL);
    g_autofree char *exp_b = g_strconcat(base, "@idb.json", NULL);

    dbb_names_assign(slots, 2);
    assert_string_equal(slots[0].final_name, exp_a);
    assert_string_equal(slots[1].final_name, exp_b);
    assert_int_equal(strlen(slots[0].final_name), 255);
    dbb_names_clear(slots, 2);
}

/* Each multi-byte width: the cut never splits a character, with and without "@id". */
static void test_multibyte_cut(void **state)
{
    static const char *const chars[] = {"\303\251", "\342\202\254", "\360\237\230\200"};

    for (gsize c = 0; c < G_N_ELEMENTS(chars); c++) {
        gsize w = strlen(chars[c]);
        GString *name = g_string_new(NULL);
        while (name->len < 300)
            g_string_append(name, chars[c]);

        /* alone: base budget 250 with ".json", 255 for a directory */
        for (int dir = 0; dir < 2; dir++) {
            gsize budget = dir ? 255 : 250;
            g_autofree char *got = one_name(name->str, "id", dir ? NULL : ".json");
            check_name_valid(got);
            assert_true(g_utf8_validate(got, -1, NULL));
            assert_int_equal(strlen(got), (budget / w) * w + (dir ? 0 : 5));
            assert_memory_equal(got, name->str, (budget / w) * w);
        }

        /* colliding: base budget 250 - strlen("@id-xyz") */
        DbbNameSlot slots[] = {{name->str, "id-xyz", ".json", NULL},
                               {name->str, "id-abc", ".json", NULL}};
        dbb_names_assign(slots, 2);
        for (int i = 0; i < 2; i++) {
            gsize base = ((250 - 7) / w) * w;
            check_name_valid(slots[i].final_name);
            assert_true(g_utf8_validate(slots[i].final_name, -1, NULL));
            assert_int_equal(strlen(slots[i].final_name), base + 7 + 5);
            assert_memory_equal(slots[i].final_name, name->str, base);
            assert_string_equal(slots[i].final_name + base, i ? "@id-abc.json" : "@id-xyz.json");
        }
        dbb_names_clear(slots, 2);
        g_string_free(name, TRUE);
    }
}

/* Invalid UTF-8 (a run of continuation bytes) must not make the name vanish. */
static void test_cut_invalid_utf8(void **state)
{
    g_autofree char *junk = g_strnfill(300, '\x80');
    g_autofree char *got = one_name(junk, "id", NULL);

    assert_int_equal(strlen(got), 255);
}

/* An ID longer than the whole budget: the base goes, the ID is cut on a boundary. */
static void test_long_id(void **state)
{
    GString *id = g_string_new("id");
    while (id->len < 300)
        g_string_append(id, "\342\202\254");
    GString *id2 = g_string_new(id->str);
    g_string_append(id2, "-other");
    DbbNameSlot slots[] = {{"same", id->str, ".json", NULL}, {"same", id2->str, ".json", NULL}};

    dbb_names_assign(slots, 2);
    for (int i = 0; i < 2; i++) {
        check_name_valid(slots[i].final_name);
        assert_true(g_utf8_validate(slots[i].final_name, -1, NULL));
        assert_true(g_str_has_prefix(slots[i].final_name, "@id\342\202\254"));
        assert_true(g_str_has_suffix(slots[i].final_name, ".json"));
        assert_true(strlen(slots[i].final_name) >= 253); /* cut by at most one character */
    }
    /* both IDs cut to the same text: the "~k" fallback keeps them apart */
    assert_string_not_equal(slots[0].final_name, slots[1].final_name);
    dbb_names_clear(slots, 2);
    g_string_free(id, TRUE);
    g_string_free(id2, TRUE);
}

/* IDs that sanitise alike: "~k" in ID order ('/' < '_'), skipping taken names. */
static void test_tilde_fallback(void **state)
{
    const Entry e[] = {
        {"n", "a_b", "n@a_b~2"},
        {"n", "a/b", "n@a_b~1"},
        {"other", "c", "other"},
    };
    check_dir(e, G_N_ELEMENTS(e), "");

    const Entry taken[] = {
        {"n", "a_b", "n@a_b~3.json"},
        {"n", "a/b", "n@a_b~2.json"},
        {"n@a_b~1", "zzz", "n@a_b~1.json"}, /* a real entry keeps its plain name */
    };
    check_dir(taken, G_N_ELEMENTS(taken), ".json");
}

/* Reassigning frees and replaces previous names (ASan checks the leak). */
static void test_reassign(void **state)
{
    DbbNameSlot slots[] = {{"a", "1", NULL, NULL}, {"b", "2", NULL, NULL}};

    dbb_names_assign(slots, 2);
    slots[1].raw_name = "a";
    dbb_names_assign(slots, 2);
    assert_string_equal(slots[0].final_name, "a@1");
    assert_string_equal(slots[1].final_name, "a@2");
    dbb_names_clear(slots, 2);
    dbb_names_assign(NULL, 0);
}

/* ---- properties over awkward random directories ------------------------------------- */

static char *random_raw_name(GRand *rnd)
{
    static const char *const pieces[] = {
        "x", "x@1", "@",  "/", "\001", "\177", ".", "..", " ", "\303\274", "\360\237\230\200",
        "1", "~1",  "a_b"};
    int kind = g_rand_int_range(rnd, 0, 10);
    GString *s;
    int n;

    if (kind == 0)
        return NULL;
    if (kind == 1)
        return g_strdup(g_rand_boolean(rnd) ? "." : "..");
    s = g_string_new(NULL);
    /* sometimes long, so that cuts and collisions by truncation happen */
    n = kind == 2 ? 140 : g_rand_int_range(rnd, 0, 4);
    for (int i = 0; i < n; i++)
        g_string_append(s, pieces[g_rand_int_range(rnd, 0, G_N_ELEMENTS(pieces))]);
    return g_string_free(s, FALSE);
}

static char *random_id(GRand *rnd, int i)
{
    static const char *const prefixes[] = {"", "x@", "a/", "a_", ".", "\303\274"};
    const char *prefix = prefixes[g_rand_int_range(rnd, 0, G_N_ELEMENTS(prefixes))];

    if (g_rand_int_range(rnd, 0, 20) == 0) {
        /* an ID longer than any name may be */
        g_autofree char *pad = g_strnfill(260, 'i');
        return g_strdup_printf("%s%d", pad, i);
    }
    return g_strdup_printf("%s%d", prefix, i);
}

typedef struct {
    char *raw;
    char *id;
} RawEntry;

static void raw_entry_clear(gpointer p)
{
    RawEntry *e = p;
    g_free(e->raw);
    g_free(e->id);
}

/* id -> final name, for one ordering of the entries */
static GHashTable *assign_in_order(GArray *entries, const guint *perm, const char *suffix)
{
    guint n = entries->len;
    g_autofree DbbNameSlot *slots = g_new0(DbbNameSlot, n);
    GHashTable *by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < n; i++) {
        RawEntry *e = &g_array_index(entries, RawEntry, perm[i]);
        slots[i] = (DbbNameSlot){e->raw, e->id, suffix, NULL};
    }
    dbb_names_assign(slots, n);
    for (guint i = 0; i < n; i++) {
        check_name_valid(slots[i].final_name);
        if (!g_hash_table_add(seen, slots[i].final_name))
            fail_msg("duplicate final name [%s]", slots[i].final_name);
        g_hash_table_insert(by_id, (gpointer)slots[i].id, slots[i].final_name);
        slots[i].final_name = NULL; /* now owned by by_id */
    }
    return by_id;
}

static void shuffle(GRand *rnd, guint *perm, guint n)
{
    for (guint i = n; i > 1; i--) {
        guint j = g_rand_int_range(rnd, 0, i);
        guint t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* Whatever the order of the input: unique, valid names, each id always gets the same one;
 * and a name is suffixed only if its plain form is shared or taken. */
static void test_permutation_invariance(void **state)
{
    g_autoptr(GRand) rnd = g_rand_new_with_seed(4242);

    for (int round = 0; round < 40; round++) {
        g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(RawEntry));
        guint n = g_rand_int_range(rnd, 1, 60);
        const char *suffix = round % 2 ? ".json" : NULL;
        g_autofree guint *perm = g_new(guint, n);

        g_array_set_clear_func(entries, raw_entry_clear);
        for (guint i = 0; i < n; i++) {
            RawEntry e = {random_raw_name(rnd), random_id(rnd, (int)i)};
            g_array_append_val(entries, e);
            perm[i] = i;
        }
        g_autoptr(GHashTable) first = assign_in_order(entries, perm, suffix);
        for (int p = 0; p < 6; p++) {
            shuffle(rnd, perm, n);
            g_autoptr(GHashTable) other = assign_in_order(entries, perm, suffix);
            GHashTableIter it;
            gpointer id, name;
            g_hash_table_iter_init(&it, first);
            while (g_hash_table_iter_next(&it, &id, &name))
                assert_string_equal(name, g_hash_table_lookup(other, id));
        }
    }
}

/* ---- speed ------------------------------------------------------------------------ */

static void test_many_names(void **state)
{
    const gsize n = 300000;
    g_autofree DbbNameSlot *slots = g_new0(DbbNameSlot, n);
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    gint64 t0;

    for (gsize i = 0; i < n; i++) {
        /* one in ten shares its name with another entry */
        char *name = g_strdup_printf("backup-2026-01-%06" G_GSIZE_FORMAT, i % 10 == 0 ? i + 1 : i);
        char *id = g_strdup_printf("%032" G_GSIZE_MODIFIER "xbr01", i);
        g_ptr_array_add(strings, name);
        g_ptr_array_add(strings, id);
        slots[i] = (DbbNameSlot){name, id, ".json", NULL};
    }
    t0 = g_get_monotonic_time();
    dbb_names_assign(slots, n);
    gint64 us = g_get_monotonic_time() - t0;
    print_message("named %" G_GSIZE_FORMAT " entries in %.3f s\n", n, us / 1e6);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (gsize i = 0; i < n; i++)
        assert_true(g_hash_table_add(seen, slots[i].final_name));
    /* entry 0 ("...000001") collides with entry 1; entry 2 is alone */
    guint suffixed = 0;
    for (gsize i = 0; i < n; i++)
        suffixed += strchr(slots[i].final_name, '@') != NULL;
    assert_int_equal(suffixed, 2 * (n / 10));
    dbb_names_clear(slots, n);
    /* generous (sanitiser builds): catches a quadratic algorithm, not a slow machine */
    assert_true(us < 20 * G_USEC_PER_SEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_plain_names),
        cmocka_unit_test(test_directory_suffixes),
        cmocka_unit_test(test_unusable_names_become_id),
        cmocka_unit_test(test_unusable_ids),
        cmocka_unit_test(test_two_backups_one_name),
        cmocka_unit_test(test_three_way_collision),
        cmocka_unit_test(test_collision_after_sanitising),
        cmocka_unit_test(test_plain_equals_suffixed),
        cmocka_unit_test(test_collision_by_truncation),
        cmocka_unit_test(test_multibyte_cut),
        cmocka_unit_test(test_cut_invalid_utf8),
        cmocka_unit_test(test_long_id),
        cmocka_unit_test(test_tilde_fallback),
        cmocka_unit_test(test_reassign),
        cmocka_unit_test(test_permutation_invariance),
        cmocka_unit_test(test_many_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
