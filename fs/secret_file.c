/*
 * dbbackupfs — reading files that may hold secrets.
 *
 * The permission check and the content come from the same open file, and every buffer that
 * held file content is wiped before it is freed.
 */
#include "fs/options_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

void dbb_options_protect_process(void)
{
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        g_warning("prctl(PR_SET_DUMPABLE, 0): %s; a core dump could hold the credentials",
                  g_strerror(errno));
}

void opt_wipe_free(char *buf, gsize len)
{
    if (buf != NULL) {
        explicit_bzero(buf, len);
        g_free(buf);
    }
}

/* Whole content (NUL-terminated) and the mode of the very file read.  *err is the errno
 * of a failed open, so a missing default config can be told from a broken one. */
gboolean opt_read_secret_file(const char *what, const char *path, char **data, gsize *len,
                              struct stat *st, int *err, GError **error)
{
    char *buf = NULL;
    gsize got = 0;
    int saved = 0;
    const char *why = NULL;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1 || fstat(fd, st) == -1) {
        saved = errno;
        goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        why = "not a regular file";
        goto fail;
    }
    if (st->st_size > FILE_MAX_BYTES) {
        why = "larger than 1 MiB";
        goto fail;
    }
    buf = g_malloc((gsize)st->st_size + 1);
    while (got < (gsize)st->st_size) {
        ssize_t n = read(fd, buf + got, (gsize)st->st_size - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0) {
            saved = n == 0 ? EIO : errno; /* shrank while read */
            goto fail;
        }
        got += (gsize)n;
    }
    buf[got] = '\0';
    close(fd);
    *data = buf;
    *len = got;
    return TRUE;

fail:
    if (saved == 0 && why == NULL)
        saved = EIO;
    if (fd != -1)
        close(fd);
    opt_wipe_free(buf, got);
    *err = saved;
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_FILE, "cannot read %s '%s': %s", what,
                path, why ? why : g_strerror(saved));
    return FALSE;
}

gboolean opt_check_private(const char *path, const struct stat *st, GError **error)
{
    g_autofree char *quoted = NULL;

    if ((st->st_mode & 077) == 0)
        return TRUE;
    quoted = g_shell_quote(path);
    g_set_error(error, DBB_OPTIONS_ERROR, DBB_OPTIONS_ERROR_PERMISSIONS,
                "Permissions %04o for '%s' are too open; it holds credentials and must not "
                "be readable by others: chmod 600 %s",
                (unsigned)(st->st_mode & 07777), path, quoted);
    return FALSE;
}
