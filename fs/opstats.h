/*
 * dbbackupfs — FUSE requests counted by opcode, for one mount.
 *
 * Each request handler counts itself once (ops.c), including the handlers that only answer
 * ENOSYS so the kernel stops asking (OPEN, FLUSH).  Counting is one relaxed atomic add, so it
 * costs nothing measurable.  Readers get a consistent-enough snapshot of each counter (each
 * read is atomic; the set is not a transaction).  Owned by the mount (mount.h).
 *
 * The mount root exposes the counts as the read-only extended attribute
 * user.dbbackupfs.opstats (not listed by listxattr, so `getfattr -d` stays quiet): one line
 * "NAME COUNT" per opcode, in opcode order, every opcode present.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    DBB_OP_INIT,
    DBB_OP_LOOKUP,
    DBB_OP_FORGET,
    DBB_OP_GETATTR,
    DBB_OP_OPENDIR,
    DBB_OP_READDIR,
    DBB_OP_READDIRPLUS,
    DBB_OP_RELEASEDIR,
    DBB_OP_OPEN,
    DBB_OP_READ,
    DBB_OP_FLUSH,
    DBB_OP_RELEASE,
    DBB_OP_STATFS,
    DBB_OP_GETXATTR,
    DBB_OP_LISTXATTR,
    DBB_OP_WRITE_OPS, /* every operation answered EROFS */
    DBB_OP_N_OPS,
} DbbOp;

typedef struct DbbOpStats DbbOpStats;

DbbOpStats *dbb_opstats_new(void);
void dbb_opstats_free(DbbOpStats *s);

void dbb_opstats_count(DbbOpStats *s, DbbOp op);
/* The count of op so far, and its lower-case name ("lookup", "readdirplus", …). */
guint64 dbb_opstats_get(const DbbOpStats *s, DbbOp op);
const char *dbb_opstats_name(DbbOp op);
/* Every opcode as "NAME COUNT\n" lines (the xattr's content); free with g_free. */
char *dbb_opstats_format(const DbbOpStats *s);

G_END_DECLS
