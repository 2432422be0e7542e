/*
 * dbbackupfs — TaurusDB (GaussDB for MySQL), reference §2.
 *
 * Instances: GET /v3/{project_id}/instances (total_count a number).  Backups: one listing
 * per instance, GET /v3/{project_id}/instances/{instance_id}/backups, where offset, limit,
 * total_count and every record field are strings (the paginator sends decimal text either
 * way and reads totals leniently).  created/updated there carry no zone: they are local
 * times in the record's own time_zone ("UTC+08:00").  size is in size_unit, KB by default.
 */
#include "service_ops.h"

static const DbbListingTable taurusdb_backups[] = {{
    .path_template = "/v3/{project_id}/instances/{instance_id}/backups",
    .items_member = "backups",
    .total_member = "total_count",
    .limit = 100,
}};

static const DbbServiceOps taurusdb_ops = {
    .instances =
        {
            .path_template = "/v3/{project_id}/instances",
            .items_member = "instances",
            .total_member = "total_count",
            .limit = 100,
        },
    .backups = taurusdb_backups,
    .n_backups = G_N_ELEMENTS(taurusdb_backups),
    .backup_fields =
        {
            .start_field = "created",
            .finish_field = "updated",
            .zone_field = "time_zone",
            .size_field = "size",
            .size_unit_field = "size_unit",
            .default_unit = 1024,
        },
};

const DbbService dbb_service_taurusdb = {
    .name = "taurusdb",
    .backup_scope = DBB_BACKUPS_PER_INSTANCE,
    .ops = &taurusdb_ops,
};
