/*
 * dbbackupfs — the services the client knows, as its callers see them.
 *
 * Each service is one adapter file (service_<name>.c) that fills one DbbService table:
 * its name, where its backups are listed from, and its listing functions.  Callers iterate
 * dbb_services() and never name a service, so adding one touches api/ only (its adapter,
 * this list in services.c and meson.build).
 */
#pragma once

#include <glib.h>

#include "client.h"

G_BEGIN_DECLS

typedef enum {
    /* One backup listing per instance (TaurusDB, RDS). */
    DBB_BACKUPS_PER_INSTANCE,
    /* One project-wide backup listing, grouped by instance_id by the caller; backups of
     * deleted instances appear only there (GeminiDB, DDM, DDS, GaussDB). */
    DBB_BACKUPS_PER_PROJECT,
} DbbBackupScope;

typedef struct DbbServiceOps DbbServiceOps; /* private to api/ */

struct DbbService {
    const char *name; /* directory name and {service}: "taurusdb", "rds", ... */
    DbbBackupScope backup_scope;
    const DbbServiceOps *ops;
};

/* NULL-terminated, sorted by name. */
const DbbService *const *dbb_services(void);
/* NULL when unknown. */
const DbbService *dbb_service_find(const char *name);

G_END_DECLS
