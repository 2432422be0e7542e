/*
 * dbbackupfs — GeminiDB (GaussDB NoSQL), reference §3.
 *
 * Instances: GET /v3/{project_id}/instances.  Backups: project-wide, GET
 * /v4/{project_id}/backups, which lists one type at a time (type=Instance is the default,
 * type=DatabaseTable the table-level backups), so the backup listing is both sweeps,
 * fetched concurrently and merged by ID.  begin_time/end_time carry an offset ("+0000");
 * size is a number of KB.
 */
#include "service_ops.h"

static const DbbQueryParam type_instance[] = {{"type", "Instance"}};
static const DbbQueryParam type_table[] = {{"type", "DatabaseTable"}};

static const DbbListingTable geminidb_backups[] = {
    {
        .path_template = "/v4/{project_id}/backups",
        .items_member = "backups",
        .total_member = "total_count",
        .limit = 100,
        .query = type_instance,
        .n_query = G_N_ELEMENTS(type_instance),
    },
    {
        .path_template = "/v4/{project_id}/backups",
        .items_member = "backups",
        .total_member = "total_count",
        .limit = 100,
        .query = type_table,
        .n_query = G_N_ELEMENTS(type_table),
    },
};

static const DbbServiceOps geminidb_ops = {
    .host = {"gaussdb-nosql"},
    .instances =
        {
            .path_template = "/v3/{project_id}/instances",
            .items_member = "instances",
            .total_member = "total_count",
            .limit = 100,
        },
    .backups = geminidb_backups,
    .n_backups = G_N_ELEMENTS(geminidb_backups),
    .backup_fields =
        {
            .start_field = "begin_time",
            .finish_field = "end_time",
            .size_field = "size",
            .default_unit = 1024,
        },
};

const DbbService dbb_service_geminidb = {
    .name = "geminidb",
    .backup_scope = DBB_BACKUPS_PER_PROJECT,
    .ops = &geminidb_ops,
};
