/*
 * dbbackupfs — what an adapter puts in its service table (internal to api/).
 *
 * An adapter (service_<name>.c) is data: where its listings live, which JSON members hold
 * the items and the total, the largest page, and which record fields carry the times and
 * the size.  services.c turns a table into listings (through the client's paginator) and
 * records; no other file names a service.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "client.h"
#include "paginate.h"
#include "service.h"
#include "sign.h"

G_BEGIN_DECLS

/* One paginated listing of the service. */
typedef struct {
    /* The path, with "{project_id}" and (per-instance backups) "{instance_id}" to fill in,
     * e.g. "/v3/{project_id}/instances/{instance_id}/backups". */
    const char *path_template;
    const char *items_member;    /* "instances", "backups" */
    const char *total_member;    /* "total_count", "total_record", "total" */
    guint limit;                 /* the largest page the API allows */
    gboolean offset_may_be_page; /* DDM: the server may read offset as a page number */
    const DbbQueryParam *query;  /* fixed parameters besides offset/limit, or NULL */
    gsize n_query;
} DbbListingTable;

/* Where a backup record keeps the facts the filesystem needs besides id/name/status. */
typedef struct {
    const char *start_field;     /* "created", "begin_time" */
    const char *finish_field;    /* "updated", "end_time" */
    const char *zone_field;      /* zone of times that carry none ("time_zone"), or NULL */
    const char *size_field;      /* "size", "file_size" */
    const char *size_unit_field; /* "size_unit" ("B", "KB", "MB", "GB"), or NULL */
    gint64 default_unit;         /* bytes per unit when no unit is given */
} DbbBackupFields;

struct DbbServiceOps {
    DbbListingTable instances;
    /* The backup listing is the concatenation (merged by ID) of these listings, fetched
     * concurrently: GeminiDB lists type=Instance and type=DatabaseTable separately. */
    const DbbListingTable *backups;
    gsize n_backups;
    DbbBackupFields backup_fields;
};

/* Record parsers (services.c), exposed for tests.  Never NULL: a record without an ID gets
 * "sha256:<hex of raw>" (g_warning); fields of the wrong type read as absent. */
DbbInstance *dbb_service_parse_instance(const DbbService *service, json_object *record,
                                        const char *raw, gsize raw_len);
/* listed_instance_id: the instance the listing was for (per-instance scope), used when the
 * record names none; may be NULL. */
DbbBackup *dbb_service_parse_backup(const DbbService *service, json_object *record, const char *raw,
                                    gsize raw_len, const char *listed_instance_id);

/* A paginator spec for one listing of `service`, parsing backups (is_backups) or instances,
 * without fetch callback, path or max_conns (the caller fills them).  `ctx` must outlive the
 * spec. */
typedef struct {
    const DbbService *service;
    const char *listed_instance_id;
} DbbParseContext;

void dbb_service_spec_init(DbbPaginateSpec *spec, const DbbService *service,
                           const DbbListingTable *table, gboolean is_backups, DbbParseContext *ctx);

/* The adapters' tables. */
extern const DbbService dbb_service_taurusdb;
extern const DbbService dbb_service_geminidb;
extern const DbbService dbb_service_ddm;

G_END_DECLS
