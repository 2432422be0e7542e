/*
 * dbbackupfs — RDS (MySQL, PostgreSQL, SQL Server, MariaDB), reference §10, checked against
 * the Go SDK (services/rds/v3: ListBackupsRequest, ListBackupsResponse, BackupForList).
 *
 * Instances: GET /v3/{project_id}/instances (total_count).  Backups: GET
 * /v3/{project_id}/backups, whose instance_id query parameter is required (the SDK's
 * request field has no omitempty), so one listing per instance and no way to see the
 * backups of a deleted instance.  Pages hold up to 100 records.  begin_time/end_time carry
 * an offset ("+0800"); size is an integer number of KB.
 */
#include "service_ops.h"

static const DbbListingTable rds_backups[] = {{
    .path_template = "/v3/{project_id}/backups",
    .instance_query = "instance_id",
    .items_member = "backups",
    .total_member = "total_count",
    .limit = 100,
}};

static const DbbServiceOps rds_ops = {
    .host = {"rds"},
    .instances =
        {
            .path_template = "/v3/{project_id}/instances",
            .items_member = "instances",
            .total_member = "total_count",
            .limit = 100,
        },
    .backups = rds_backups,
    .n_backups = G_N_ELEMENTS(rds_backups),
    .backup_fields =
        {
            .start_field = "begin_time",
            .finish_field = "end_time",
            .size_field = "size",
            .default_unit = 1024,
        },
};

const DbbService dbb_service_rds = {
    .name = "rds",
    .backup_scope = DBB_BACKUPS_PER_INSTANCE,
    .ops = &rds_ops,
};
