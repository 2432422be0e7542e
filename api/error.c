/*
 * dbbackupfs — errors of the cloud client: the GError domain and the HTTP → errno map that
 * DESIGN.md's error contract fixes.
 */
#include "error.h"

#include <errno.h>

G_DEFINE_QUARK(dbb - api - error - quark, dbb_api_error)

int dbb_errno_for_status(long status)
{
    switch (status) {
    case 401:
    case 403:
        return EACCES;
    case 404:
        return ENOENT;
    default:
        return EIO;
    }
}
