/*
 * dbbackupfs — the FUSE low-level operations.
 */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h>

#include "notify.h"
#include "opstats.h"
#include "prefetch.h"
#include "view.h"

static DbbMount *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* Count the request (opstats.h); returns the mount. */
static DbbMount *counted(fuse_req_t req, DbbOp op)
{
    DbbMount *m = fuse_req_userdata(req);

    dbb_opstats_count(m->opstats, op);
    return m;
}

/* Seconds the kernel may cache something that the daemon trusts until expires_at. */
static double timeout_until(DbbMount *fs, gint64 expires_at)
{
    gint64 left = expires_at - dbb_cache_now(fs->cache);

    return left > 0 ? (double)left / G_USEC_PER_SEC : 0.0;
}

static int errno_of(const GError *error)
{
    return error && error->code > 0 ? error->code : EIO;
}

/* The view of directory `ino`; on failure the request has been answered. */
static DbbDirView *dir_view(fuse_req_t req, fuse_ino_t ino, DbbIdentity *dir_out,
                            gint64 *expires_at, DbbNode **node_out)
{
    DbbMount *fs = fs_of(req);
    g_autoptr(GError) error = NULL;
    g_autoptr(DbbNode) node = dbb_node_table_get(fs->nodes, ino);
    DbbDirView *view;

    if (!node) {
        fuse_reply_err(req, ESTALE);
        return NULL;
    }
    if (node->kind == DBB_NODE_BACKUP) {
        fuse_reply_err(req, ENOTDIR);
        return NULL;
    }
    *dir_out = dbb_node_identity(node);
    view = dbb_view_get(fs, dir_out, DBB_VIEW_SYNC, expires_at, &error);
    if (!view) {
        fuse_reply_err(req, errno_of(error));
        return NULL;
    }
    *node_out = g_steal_pointer(&node);
    return view;
}

static void fill_entry(DbbMount *fs, const DbbEntry *e, gint64 expires_at,
                       struct fuse_entry_param *out)
{
    memset(out, 0, sizeof(*out));
    out->ino = e->ino;
    out->generation = 1;
    out->entry_timeout = out->attr_timeout = timeout_until(fs, expires_at);
    dbb_entry_stat(fs, e, &out->attr);
}

static void dbb_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    DbbMount *fs = counted(req, DBB_OP_LOOKUP);
    DbbIdentity dir, child;
    gint64 expires_at;
    DbbNode *node = NULL;
    g_autoptr(DbbDirView) view = dir_view(req, parent, &dir, &expires_at, &node);
    struct fuse_entry_param e;
    const DbbEntry *entry;

    if (!view)
        return;
    entry = dbb_view_find_name(view, name);
    if (!entry) {
        /* A definite "no such name" from a complete listing: let the kernel remember it. */
        memset(&e, 0, sizeof(e));
        e.entry_timeout =
            MIN(timeout_until(fs, expires_at), (double)fs->negative_ttl / G_USEC_PER_SEC);
        fuse_reply_entry(req, &e);
        goto out;
    }
    child = dbb_entry_identity(&dir, entry);
    dbb_node_table_lookup(fs->nodes, &child);
    fill_entry(fs, entry, expires_at, &e);
    fuse_reply_entry(req, &e);
out:
    dbb_node_unref(node);
}

static void dbb_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    dbb_node_table_forget(counted(req, DBB_OP_FORGET)->nodes, ino, nlookup);
    fuse_reply_none(req);
}

static void dbb_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    counted(req, DBB_OP_FORGET);
    for (size_t i = 0; i < count; i++)
        dbb_node_table_forget(fs_of(req)->nodes, forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

/* The entry of inode ino in its parent's view (attributes and content live there, so
 * getattr and open cost no call of their own).  Returns the view holding the entry, or
 * NULL when the request has been answered with an error. */
static DbbDirView *parent_entry(fuse_req_t req, fuse_ino_t ino, DbbNode *node, DbbViewFlags flags,
                                const DbbEntry **entry, gint64 *expires_at)
{
    DbbMount *fs = fs_of(req);
    g_autoptr(GError) error = NULL;
    DbbIdentity id = dbb_node_identity(node);
    DbbIdentity parent = dbb_identity_parent(&id);
    DbbDirView *view = dbb_view_get(fs, &parent, flags, expires_at, &error);

    if (!view) {
        fuse_reply_err(req, errno_of(error));
        return NULL;
    }
    *entry = dbb_view_find_ino(view, ino);
    if (!*entry) {
        fuse_reply_err(req, ENOENT); /* it vanished from a fresh listing */
        dbb_view_unref(view);
        return NULL;
    }
    return view;
}

static void dbb_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    DbbMount *fs = counted(req, DBB_OP_GETATTR);
    g_autoptr(DbbNode) node = NULL;
    g_autoptr(DbbDirView) view = NULL;
    gint64 expires_at;
    const DbbEntry *entry;
    struct stat st;

    if (ino == DBB_ROOT_INO) {
        dbb_entry_stat(fs, NULL, &st);
        fuse_reply_attr(req, &st, (double)fs->ttl / G_USEC_PER_SEC);
        return;
    }
    node = dbb_node_table_get(fs->nodes, ino);
    if (!node) {
        fuse_reply_err(req, ESTALE);
        return;
    }
    view = parent_entry(req, ino, node, DBB_VIEW_SYNC, &entry, &expires_at);
    if (!view)
        return;
    dbb_entry_stat(fs, entry, &st);
    fuse_reply_attr(req, &st, timeout_until(fs, expires_at));
}

static void handle_track(DbbMount *fs, gpointer h, GDestroyNotify free_func)
{
    g_mutex_lock(&fs->handles_lock);
    g_hash_table_insert(fs->handles, h, free_func);
    g_mutex_unlock(&fs->handles_lock);
}

static void handle_release(DbbMount *fs, gpointer h)
{
    GDestroyNotify free_func;

    g_mutex_lock(&fs->handles_lock);
    free_func = g_hash_table_lookup(fs->handles, h);
    g_hash_table_remove(fs->handles, h);
    g_mutex_unlock(&fs->handles_lock);
    if (free_func)
        free_func(h);
}

/* A directory handle: the listing as it was at opendir, so offsets never shift. */
typedef struct {
    DbbNode *node; /* keeps dir's strings alive */
    DbbIdentity dir;
    DbbDirView *view;
    gint64 expires_at;
} DirHandle;

static void dir_handle_free(gpointer p)
{
    DirHandle *h = p;

    dbb_view_unref(h->view);
    dbb_node_unref(h->node);
    g_free(h);
}

static void dbb_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    DbbMount *fs = counted(req, DBB_OP_OPENDIR);
    DirHandle *h = g_new0(DirHandle, 1);
    g_autoptr(DbbNode) node = dbb_node_table_get(fs->nodes, ino);

    if (node) {
        DbbIdentity id = dbb_node_identity(node);
        dbb_prefetch_note_open(fs->prefetch, &id);
    }
    h->view = dir_view(req, ino, &h->dir, &h->expires_at, &h->node);
    if (!h->view) {
        g_free(h);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)h;
    /* The kernel's readdir cache serves later opens with no READDIR: the notifier resets
     * it (inval_inode of the directory) when the names change. */
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    handle_track(fs, h, dir_handle_free);
    if (fuse_reply_open(req, fi) == -ENOENT) /* interrupted: never released */
        handle_release(fs, h);
}

static void dbb_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    handle_release(counted(req, DBB_OP_RELEASEDIR), (gpointer)(uintptr_t)fi->fh);
    fuse_reply_err(req, 0);
}

/* Adds entry k of the handle (0 ".", 1 "..", then the view's entries) to buf; returns the
 * bytes it needs (more than `left` means it did not fit and nothing was added). */
static size_t add_one(fuse_req_t req, DirHandle *h, off_t k, char *buf, size_t left, int plus)
{
    DbbMount *fs = fs_of(req);
    struct fuse_entry_param e;
    const DbbEntry *entry = k >= 2 ? &h->view->entries[k - 2] : NULL;
    const char *name = entry ? entry->name : (k == 0 ? "." : "..");
    size_t need;

    if (entry) {
        fill_entry(fs, entry, h->expires_at, &e);
    } else {
        memset(&e, 0, sizeof(e));
        DbbIdentity parent = dbb_identity_parent(&h->dir);
        e.attr.st_ino = dbb_identity_ino(k == 0 ? &h->dir : &parent);
        e.attr.st_mode = S_IFDIR;
    }
    if (!plus)
        return fuse_add_direntry(req, buf, left, name, &e.attr, k + 1);
    need = fuse_add_direntry_plus(req, buf, left, name, &e, k + 1);
    if (need <= left && entry) {
        /* The kernel counts a lookup for each entry it was given (not "." or ".."). */
        DbbIdentity child = dbb_entry_identity(&h->dir, entry);
        dbb_node_table_lookup(fs->nodes, &child);
    }
    return need;
}

static void do_readdir(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, int plus)
{
    DirHandle *h = (DirHandle *)(uintptr_t)fi->fh;
    g_autofree char *buf = g_malloc(size);
    size_t used = 0;

    size_t count = 0;

    for (off_t k = off; k < (off_t)h->view->n + 2; k++, count++) {
        size_t need = add_one(req, h, k, buf + used, size - used, plus);
        if (need > size - used)
            break;
        used += need;
    }
    if (off < (off_t)h->view->n + 2 && off + (off_t)count >= (off_t)h->view->n + 2) {
        /* Read to the end: a walk may follow (prefetch.h).  And the kernel will know every
         * file of an instance directory: push their contents into its page cache ahead of
         * the reads a walk makes (notify.h). */
        dbb_prefetch_note_listed(fs_of(req)->prefetch, &h->dir, h->view);
        if (plus && h->dir.kind == DBB_NODE_INSTANCE)
            dbb_notifier_store(fs_of(req)->notifier, dbb_view_ref(h->view));
    }
    fuse_reply_buf(req, buf, used);
}

static void dbb_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    counted(req, DBB_OP_READDIR);
    do_readdir(req, size, off, fi, 0);
}

static void dbb_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                            struct fuse_file_info *fi)
{
    counted(req, DBB_OP_READDIRPLUS);
    do_readdir(req, size, off, fi, 1);
}

/* Files have no handles: OPEN answers ENOSYS once, and the kernel then opens every file
 * without asking (no OPEN, no RELEASE) and keeps its page cache across opens (libfuse
 * 3.14 with .open unset would answer success with zero flags: the cache dropped at each
 * open).  The notifier invalidates a file's pages when its rendered bytes change.  The
 * mount is `ro`, so the kernel refuses every write open with EROFS before asking. */
static void dbb_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    counted(req, DBB_OP_OPEN);
    fuse_reply_err(req, ENOSYS);
}

/* FLUSH is not needed (nothing is written): ENOSYS once, and the kernel stops sending it. */
static void dbb_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    counted(req, DBB_OP_FLUSH);
    fuse_reply_err(req, ENOSYS);
}

/* READ by inode, from the current listing: its pages are what the kernel caches, and the
 * notifier drops them when the listing brings other bytes.  An expired listing is used as
 * it is (a READ never waits for a refresh, nor for the notifier, which may be waiting for
 * this READ's page lock). */
static void dbb_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    DbbMount *fs = counted(req, DBB_OP_READ);
    g_autoptr(DbbNode) node = dbb_node_table_get(fs->nodes, ino);
    g_autoptr(DbbDirView) view = NULL;
    const DbbEntry *entry;
    gint64 expires_at;
    const char *data;
    gsize len;

    if (!node || node->kind != DBB_NODE_BACKUP) {
        fuse_reply_err(req, node ? EISDIR : ESTALE);
        return;
    }
    view = parent_entry(req, ino, node, DBB_VIEW_LAST, &entry, &expires_at);
    if (!view)
        return;
    data = g_bytes_get_data(entry->content, &len);
    if (off < 0 || (gsize)off >= len) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    fuse_reply_buf(req, data + off, MIN(size, len - (gsize)off));
}

static void dbb_statfs(fuse_req_t req, fuse_ino_t ino)
{
    counted(req, DBB_OP_STATFS);
    struct statvfs st = {
        .f_bsize = 4096,
        .f_frsize = 4096,
        .f_files = dbb_node_table_size(fs_of(req)->nodes),
        .f_namemax = 255,
        .f_flag = ST_RDONLY,
    };

    fuse_reply_statfs(req, &st);
}

/* The xattrs of inode ino (none for the root); on failure the request has been answered. */
static DbbDirView *xattrs_of(fuse_req_t req, fuse_ino_t ino, DbbXattr out[4], guint *n)
{
    g_autoptr(DbbNode) node = NULL;
    const DbbEntry *entry;
    DbbDirView *view;
    gint64 expires_at;

    *n = 0;
    if (ino == DBB_ROOT_INO)
        return NULL;
    node = dbb_node_table_get(fs_of(req)->nodes, ino);
    if (!node) {
        fuse_reply_err(req, ESTALE);
        return NULL;
    }
    view = parent_entry(req, ino, node, DBB_VIEW_SYNC, &entry, &expires_at);
    if (view)
        *n = dbb_entry_xattrs(entry, out);
    return view;
}

/* Reply with `data` as xattr content: its size when size is 0, ERANGE when it is short. */
static void reply_xattr_data(fuse_req_t req, const char *data, size_t len, size_t size)
{
    if (size == 0)
        fuse_reply_xattr(req, len);
    else if (size < len)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, data, len);
}

/* The root's hidden, read-only request counters (opstats.h). */
#define OPSTATS_XATTR "user.dbbackupfs.opstats"

static void dbb_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    DbbMount *fs = counted(req, DBB_OP_GETXATTR);
    DbbXattr xattrs[4];
    guint n;

    if (ino == DBB_ROOT_INO && g_str_equal(name, OPSTATS_XATTR)) {
        g_autofree char *text = dbb_opstats_format(fs->opstats);
        reply_xattr_data(req, text, strlen(text), size);
        return;
    }
    g_autoptr(DbbDirView) view = xattrs_of(req, ino, xattrs, &n);

    if (!view && ino != DBB_ROOT_INO)
        return;
    for (guint i = 0; i < n; i++) {
        if (g_str_equal(xattrs[i].name, name)) {
            reply_xattr_data(req, xattrs[i].value, strlen(xattrs[i].value), size);
            return;
        }
    }
    fuse_reply_err(req, ENODATA);
}

static void dbb_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    counted(req, DBB_OP_LISTXATTR);
    DbbXattr xattrs[4];
    guint n;
    g_autoptr(DbbDirView) view = xattrs_of(req, ino, xattrs, &n);
    g_autoptr(GString) names = g_string_new(NULL);

    if (!view && ino != DBB_ROOT_INO)
        return;
    for (guint i = 0; i < n; i++)
        g_string_append_len(names, xattrs[i].name, (gssize)strlen(xattrs[i].name) + 1);
    reply_xattr_data(req, names->str, names->len, size);
}

static void dbb_init(void *userdata, struct fuse_conn_info *conn)
{
    DbbMount *m = userdata;

    dbb_opstats_count(m->opstats, DBB_OP_INIT);
    /* Every thread of the mount starts here, after fuse_daemonize() has forked. */
    dbb_mount_start(m, m->se);
    /* Always readdirplus: names and attributes in one pass, so `find` and `ls -l` over a
     * listed directory make no further requests. */
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
        conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
}

static void dbb_destroy(void *userdata)
{
    dbb_mount_stop(userdata);
}

/* Everything that would change the tree: the mount is read-only. */
static void erofs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                          struct fuse_file_info *fi)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                        dev_t rdev)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                         const char *newname, unsigned int flags)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                         struct fuse_file_info *fi)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                           size_t size, int flags)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

static void erofs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                            struct fuse_file_info *fi)
{
    counted(req, DBB_OP_WRITE_OPS);
    fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops dbb_ops = {
    .init = dbb_init,
    .destroy = dbb_destroy,
    .lookup = dbb_lookup,
    .forget = dbb_forget,
    .forget_multi = dbb_forget_multi,
    .getattr = dbb_getattr,
    .opendir = dbb_opendir,
    .readdir = dbb_readdir,
    .readdirplus = dbb_readdirplus,
    .releasedir = dbb_releasedir,
    .open = dbb_open,
    .read = dbb_read,
    .flush = dbb_flush,
    .statfs = dbb_statfs,
    .getxattr = dbb_getxattr,
    .listxattr = dbb_listxattr,
    .setattr = erofs_setattr,
    .mknod = erofs_mknod,
    .mkdir = erofs_mkdir,
    .unlink = erofs_unlink,
    .rmdir = erofs_unlink,
    .symlink = erofs_symlink,
    .rename = erofs_rename,
    .link = erofs_link,
    .write = erofs_write,
    .create = erofs_create,
    .setxattr = erofs_setxattr,
    .removexattr = erofs_removexattr,
    .fallocate = erofs_fallocate,
};
