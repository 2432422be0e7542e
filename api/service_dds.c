/*
 * dbbackupfs — DDS (Document Database Service), reference §10, checked against the Go SDK
 * (services/dds/v3: ListBackupsRequest, ListBackupsResponse, BackupForList).
 *
 * Instances: GET /v3/{project_id}/instances (total_count).  Backups: project-wide, GET
 * /v3/{project_id}/backups (instance_id is an optional filter), grouped by instance_id, so
 * deleted instances' backups are kept.  Pages hold up to 100 records.  begin_time/end_time
 * are "yyyy-mm-dd hh:mm:ss" in UTC with no zone in the text; size is an integer number of KB.
 */
#include "service_ops.h"

static const DbbListingTable dds_backups[] = {{
    .path_template = "/v3/{project_id}/backups",
    .items_member = "backups",
    .total_member = "total_count",
    .limit = 100,
}};

static const DbbServiceOps dds_ops = {
    .host = {"dds"},
    .instances =
        {
            .path_template = "/v3/{project_id}/instances",
            .items_member = "instances",
            .total_member = "total_count",
            .limit = 100,
        },
    .backups = dds_backups,
    .n_backups = G_N_ELEMENTS(dds_backups),
    .backup_fields =
        {
            .start_field = "begin_time",
            .finish_field = "end_time",
            .size_field = "size",
            .default_unit = 1024,
        },
};

const DbbService dbb_service_dds = {
    .name = "dds",
    .backup_scope = DBB_BACKUPS_PER_PROJECT,
    .ops = &dds_ops,
};
