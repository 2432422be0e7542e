/*
 * dbbackupfs — TaurusDB (GaussDB for MySQL), reference §2.
 *
 * Instances: GET /v3/{project_id}/instances (total_count a number).  Backups: one listing
 * per instance, GET /v3/{project_id}/instances/{instance_id}/backups, where offset, limit,
 * total_count and every record field are strings (the paginator sends decimal text either
 * way and reads totals leniently).  created/updated there carry no zone: they are local
 * times in the record's own time_zone ("UTC+08:00").  size is in size_unit, KB by default.
 * Deleted instances' manual backups are found through the project-wide GET
 * /v3/{project_id}/backups, fetched with the instance listing (see deleted_backups).
 */
#include "service_ops.h"

/* The host prefix is not uniform: the SDK region tables (reference §6) use two variants. */
static const char *const formysql_regions[] = {
    "ap-southeast-1", "ap-southeast-2", "tr-west-1", "cn-north-11", "me-east-1", NULL,
};
static const char *const dash_mysql_regions[] = {
    "af-south-1", "cn-east-5", "la-north-2", "cn-southwest-3", NULL,
};
static const DbbHostVariant taurusdb_hosts[] = {
    {"gaussdbformysql", formysql_regions},
    {"gaussdb-mysql", dash_mysql_regions},
};

static const DbbListingTable taurusdb_backups[] = {{
    .path_template = "/v3/{project_id}/instances/{instance_id}/backups",
    .items_member = "backups",
    .total_member = "total_count",
    .limit = 100,
}};

/* The project-wide list (reference §2.3), for deleted instances only: automated backups go
 * with their instance, manual ones are kept, so only those are asked for.  Its records
 * differ from the per-instance ones: begin_time/end_time with an offset, size a float of
 * MB. */
static const DbbQueryParam manual_only[] = {{"backup_type", "manual"}};
static const DbbBackupFields project_fields = {
    .start_field = "begin_time",
    .finish_field = "end_time",
    .size_field = "size",
    .default_unit = 1024 * 1024,
};
static const DbbListingTable taurusdb_deleted_backups = {
    .path_template = "/v3/{project_id}/backups",
    .items_member = "backups",
    .total_member = "total_count",
    .limit = 100,
    .query = manual_only,
    .n_query = G_N_ELEMENTS(manual_only),
    .fields = &project_fields,
};

static const DbbServiceOps taurusdb_ops = {
    .host = {"gaussdb", taurusdb_hosts, G_N_ELEMENTS(taurusdb_hosts)},
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
    .deleted_backups = &taurusdb_deleted_backups,
};

const DbbService dbb_service_taurusdb = {
    .name = "taurusdb",
    .backup_scope = DBB_BACKUPS_PER_INSTANCE,
    .ops = &taurusdb_ops,
};
