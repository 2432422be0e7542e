/*
 * dbbackupfs — FUSE requests counted by opcode.
 */
#include "opstats.h"

struct DbbOpStats {
    guint64 counts[DBB_OP_N_OPS];
};

static const char *const names[DBB_OP_N_OPS] = {
    [DBB_OP_INIT] = "init",
    [DBB_OP_LOOKUP] = "lookup",
    [DBB_OP_FORGET] = "forget",
    [DBB_OP_GETATTR] = "getattr",
    [DBB_OP_OPENDIR] = "opendir",
    [DBB_OP_READDIR] = "readdir",
    [DBB_OP_READDIRPLUS] = "readdirplus",
    [DBB_OP_RELEASEDIR] = "releasedir",
    [DBB_OP_OPEN] = "open",
    [DBB_OP_READ] = "read",
    [DBB_OP_FLUSH] = "flush",
    [DBB_OP_RELEASE] = "release",
    [DBB_OP_STATFS] = "statfs",
    [DBB_OP_GETXATTR] = "getxattr",
    [DBB_OP_LISTXATTR] = "listxattr",
    [DBB_OP_WRITE_OPS] = "erofs",
};

DbbOpStats *dbb_opstats_new(void)
{
    return g_new0(DbbOpStats, 1);
}

void dbb_opstats_free(DbbOpStats *s)
{
    g_free(s);
}

void dbb_opstats_count(DbbOpStats *s, DbbOp op)
{
    if (s && op < DBB_OP_N_OPS)
        __atomic_fetch_add(&s->counts[op], 1, __ATOMIC_RELAXED);
}

guint64 dbb_opstats_get(const DbbOpStats *s, DbbOp op)
{
    if (!s || op >= DBB_OP_N_OPS)
        return 0;
    return __atomic_load_n(&s->counts[op], __ATOMIC_RELAXED);
}

const char *dbb_opstats_name(DbbOp op)
{
    return op < DBB_OP_N_OPS ? names[op] : NULL;
}

char *dbb_opstats_format(const DbbOpStats *s)
{
    GString *out = g_string_new(NULL);

    for (DbbOp op = 0; op < DBB_OP_N_OPS; op++)
        g_string_append_printf(out, "%s %" G_GUINT64_FORMAT "\n", names[op],
                               dbb_opstats_get(s, op));
    return g_string_free(out, FALSE);
}
