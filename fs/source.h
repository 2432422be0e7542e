/*
 * dbbackupfs — the listings behind the tree, through the cache.
 *
 * Cache keys, as DESIGN.md lays them out: the project list; per (project, service) the
 * instance list; per (project, service, instance or whole project) the backup list.  Each
 * function returns a new reference to a complete listing (fresh, refreshed, or stale within
 * max_stale) and when the kernel may trust it until (monotonic µs), or NULL with the api
 * error (its code is the errno to report).
 */
#pragma once

#include "mount.h"
#include "values.h"

G_BEGIN_DECLS

typedef enum {
    DBB_SOURCE_FRESH,  /* refresh an expired listing */
    DBB_SOURCE_LAST,   /* the last listing even when expired; fetch only when there is none */
    DBB_SOURCE_CACHED, /* the last listing, or an error: never an API call */
} DbbSourceMode;

DbbProjectsValue *dbb_source_projects(DbbMount *m, DbbSourceMode mode, gint64 *expires_at,
                                      GError **error);
DbbInstancesValue *dbb_source_instances(DbbMount *m, const DbbProject *project,
                                        const DbbService *service, DbbSourceMode mode,
                                        gint64 *expires_at, GError **error);
/* instance_id NULL: the project-wide listing. */
DbbBackupsValue *dbb_source_backups(DbbMount *m, const DbbProject *project,
                                    const DbbService *service, const char *instance_id,
                                    DbbSourceMode mode, gint64 *expires_at, GError **error);

/* Is that backup listing cached and fresh?  Never fetches. */
gboolean dbb_source_backups_fresh(DbbMount *m, const DbbProject *project, const DbbService *service,
                                  const char *instance_id);

/* Put a project list fetched before mounting (the credential check) into the cache, so the
 * first `ls` does not ask IAM again. Takes ownership. */
void dbb_source_prime_projects(DbbMount *m, GPtrArray *projects);

G_END_DECLS
