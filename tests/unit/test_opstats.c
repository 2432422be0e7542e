/*
 * Unit tests of fs/opstats.c: counts by opcode, names, and the xattr text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "fs/opstats.h"

static void test_counts_and_names(void **state)
{
    DbbOpStats *s = dbb_opstats_new();

    for (DbbOp op = 0; op < DBB_OP_N_OPS; op++) {
        assert_int_equal(dbb_opstats_get(s, op), 0);
        assert_non_null(dbb_opstats_name(op));
    }
    dbb_opstats_count(s, DBB_OP_LOOKUP);
    dbb_opstats_count(s, DBB_OP_LOOKUP);
    dbb_opstats_count(s, DBB_OP_READ);
    assert_int_equal(dbb_opstats_get(s, DBB_OP_LOOKUP), 2);
    assert_int_equal(dbb_opstats_get(s, DBB_OP_READ), 1);
    assert_int_equal(dbb_opstats_get(s, DBB_OP_OPEN), 0);
    assert_string_equal(dbb_opstats_name(DBB_OP_READDIRPLUS), "readdirplus");
    assert_null(dbb_opstats_name(DBB_OP_N_OPS));
    dbb_opstats_count(s, DBB_OP_N_OPS); /* out of range: ignored */
    dbb_opstats_count(NULL, DBB_OP_READ);
    dbb_opstats_free(s);
}

static void test_format_lists_every_opcode(void **state)
{
    DbbOpStats *s = dbb_opstats_new();
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    dbb_opstats_count(s, DBB_OP_GETATTR);
    text = dbb_opstats_format(s);
    lines = g_strsplit(text, "\n", -1);
    assert_int_equal(g_strv_length(lines), DBB_OP_N_OPS + 1); /* and "" after the last \n */
    assert_string_equal(lines[DBB_OP_N_OPS], "");
    assert_string_equal(lines[DBB_OP_GETATTR], "getattr 1");
    assert_string_equal(lines[DBB_OP_LOOKUP], "lookup 0");
    dbb_opstats_free(s);
}

static gpointer hammer(gpointer data)
{
    for (int i = 0; i < 100000; i++)
        dbb_opstats_count(data, DBB_OP_READ);
    return NULL;
}

static void test_concurrent_counts_add_up(void **state)
{
    DbbOpStats *s = dbb_opstats_new();
    GThread *t[4];

    for (int i = 0; i < 4; i++)
        t[i] = g_thread_new("hammer", hammer, s);
    for (int i = 0; i < 4; i++)
        g_thread_join(t[i]);
    assert_int_equal(dbb_opstats_get(s, DBB_OP_READ), 400000);
    dbb_opstats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_names),
        cmocka_unit_test(test_format_lists_every_opcode),
        cmocka_unit_test(test_concurrent_counts_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
