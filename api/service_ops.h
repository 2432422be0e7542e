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

/* Where a backup record keeps the facts the filesystem needs besides id/name/status. */
typedef struct {
    const char *start_field;     /* "created", "begin_time" */
    const char *finish_field;    /* "updated", "end_time" */
    const char *zone_field;      /* zone of times that carry none ("time_zone"), or NULL */
    const char *size_field;      /* "size", "file_size" */
    const char *size_unit_field; /* "size_unit" ("B", "KB", "MB", "GB"), or NULL */
    gint64 default_unit;         /* bytes per unit when no unit is given */
} DbbBackupFields;

/* One paginated listing of the service. */
typedef struct {
    /* The path, with "{project_id}" and (per-instance backups) "{instance_id}" to fill in,
     * e.g. "/v3/{project_id}/instances/{instance_id}/backups". */
    const char *path_template;
    /* Per-instance backups whose instance goes in the query rather than the path (RDS:
     * "instance_id"), or NULL. */
    const char *instance_query;
    const char *items_member;    /* "instances", "backups" */
    const char *total_member;    /* "total_count", "total_record", "total" */
    guint limit;                 /* the largest page the API allows */
    gboolean offset_may_be_page; /* DDM: the server may read offset as a page number */
    const DbbQueryParam *query;  /* fixed parameters besides offset/limit, or NULL */
    gsize n_query;
    /* Backup listings whose records differ from the service's (TaurusDB's project-wide
     * list); NULL: DbbServiceOps.backup_fields. */
    const DbbBackupFields *fields;
} DbbListingTable;

/* The public host of a service: https://<prefix>.<region>.myhuaweicloud.com, where the
 * prefix may differ by region (TaurusDB). */
typedef struct {
    const char *prefix;
    const char *const *regions; /* NULL-terminated */
} DbbHostVariant;

typedef struct {
    const char *prefix; /* the usual one */
    const DbbHostVariant *variants;
    gsize n_variants;
} DbbHostTable;

struct DbbServiceOps {
    DbbHostTable host;
    DbbListingTable instances;
    /* The backup listing is the concatenation (merged by ID) of these listings, fetched
     * concurrently: GeminiDB lists type=Instance and type=DatabaseTable separately. */
    const DbbListingTable *backups;
    gsize n_backups;
    DbbBackupFields backup_fields;
    /* Per-instance services whose manual backups outlive their instance (TaurusDB): a
     * project-wide backup listing, fetched with the instance listing, whose records of
     * instances that are not listed become instances of their own (DbbInstance.backups).
     * NULL for the others. */
    const DbbListingTable *deleted_backups;
};

/* The host prefix of `service` in `region` (region may be NULL: the usual prefix). */
const char *dbb_service_host_prefix(const DbbService *service, const char *region);

/* Record parsers (services.c), exposed for tests.  Never NULL: a record without an ID gets
 * "sha256:<hex of raw>" (g_warning); fields of the wrong type read as absent. */
DbbInstance *dbb_service_parse_instance(const DbbService *service, json_object *record,
                                        const char *raw, gsize raw_len);
/* listed_instance_id: the instance the listing was for (per-instance scope), used when the
 * record names none; may be NULL. */
DbbBackup *dbb_service_parse_backup(const DbbService *service, json_object *record, const char *raw,
                                    gsize raw_len, const char *listed_instance_id);
/* The same with a listing's own fields (fields NULL: the service's). */
DbbBackup *dbb_service_parse_backup_as(const DbbService *service, const DbbBackupFields *fields,
                                       json_object *record, const char *raw, gsize raw_len,
                                       const char *listed_instance_id);

/* A paginator spec for one listing of `service`, parsing backups (is_backups) or instances,
 * without fetch callback, path or max_conns (the caller fills them).  `ctx` must outlive the
 * spec. */
typedef struct {
    const DbbService *service;
    const char *listed_instance_id;
    const DbbBackupFields *fields; /* NULL: the service's */
} DbbParseContext;

void dbb_service_spec_init(DbbPaginateSpec *spec, const DbbService *service,
                           const DbbListingTable *table, gboolean is_backups, DbbParseContext *ctx);

/* The adapters' tables. */
extern const DbbService dbb_service_taurusdb;
extern const DbbService dbb_service_geminidb;
extern const DbbService dbb_service_ddm;
extern const DbbService dbb_service_rds;
extern const DbbService dbb_service_dds;
extern const DbbService dbb_service_gaussdb;

G_END_DECLS
