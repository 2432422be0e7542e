/*
 * dbbackupfs — GaussDB (formerly GaussDB for openGauss), reference §10, checked against the
 * Go SDK (services/gaussdbforopengauss/v3: ListBackupsRequest, ListBackupsResponse,
 * Backups).
 *
 * Instances: GET /v3/{project_id}/instances (total_count).  Backups: project-wide, GET
 * /v3/{project_id}/backups (instance_id is an optional filter), grouped by instance_id.  Its
 * records carry no instance_name, so a deleted instance's directory is named by its ID.
 * Pages hold up to 100 records.  begin_time/end_time carry an offset ("+0800"); size is a
 * number of MB (a float).
 */
#include "service_ops.h"

static const DbbListingTable gaussdb_backups[] = {{
    .path_template = "/v3/{project_id}/backups",
    .items_member = "backups",
    .total_member = "total_count",
    .limit = 100,
}};

static const DbbServiceOps gaussdb_ops = {
    .host = {"gaussdb-opengauss"},
    .instances =
        {
            .path_template = "/v3/{project_id}/instances",
            .items_member = "instances",
            .total_member = "total_count",
            .limit = 100,
        },
    .backups = gaussdb_backups,
    .n_backups = G_N_ELEMENTS(gaussdb_backups),
    .backup_fields =
        {
            .start_field = "begin_time",
            .finish_field = "end_time",
            .size_field = "size",
            .default_unit = 1024 * 1024,
        },
};

const DbbService dbb_service_gaussdb = {
    .name = "gaussdb",
    .backup_scope = DBB_BACKUPS_PER_PROJECT,
    .ops = &gaussdb_ops,
};
