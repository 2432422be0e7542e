/*
 * dbbackupfs — DDM (Distributed Database Middleware), reference §4.
 *
 * Instances: GET /v1/{project_id}/instances (total in total_record; error bodies use
 * errCode/externalMessage, which the http layer reads).  Backups: project-wide, GET
 * /v3/{project_id}/backups (total in total).  Pages hold up to 128 records.  The docs
 * disagree on whether offset is an item index or a page number, so both listings let the
 * paginator detect which one the server uses.  created/updated carry an offset; file_size
 * is a number of KB.
 */
#include "service_ops.h"

static const DbbListingTable ddm_backups[] = {{
    .path_template = "/v3/{project_id}/backups",
    .items_member = "backups",
    .total_member = "total",
    .limit = 128,
    .offset_may_be_page = TRUE,
}};

static const DbbServiceOps ddm_ops = {
    .host = {"ddm"},
    .instances =
        {
            .path_template = "/v1/{project_id}/instances",
            .items_member = "instances",
            .total_member = "total_record",
            .limit = 128,
            .offset_may_be_page = TRUE,
        },
    .backups = ddm_backups,
    .n_backups = G_N_ELEMENTS(ddm_backups),
    .backup_fields =
        {
            .start_field = "created",
            .finish_field = "updated",
            .size_field = "file_size",
            .default_unit = 1024,
        },
};

const DbbService dbb_service_ddm = {
    .name = "ddm",
    .backup_scope = DBB_BACKUPS_PER_PROJECT,
    .ops = &ddm_ops,
};
