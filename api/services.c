/*
 * dbbackupfs — the table of services, and what turns an adapter's table into listings and
 * records (see service.h and service_ops.h).
 */
#include <errno.h>
#include <string.h>

#include "client_internal.h"
#include "error.h"
#include "jsonutil.h"
#include "service_ops.h"
#include "timeparse.h"

/* Sorted by name, as service.h promises. */
static const DbbService *const services[] = {
    &dbb_service_ddm,
    &dbb_service_dds,
    &dbb_service_gaussdb,
    &dbb_service_geminidb,
    &dbb_service_rds,
    &dbb_service_taurusdb,
    NULL,
};

const DbbService *const *dbb_services(void)
{
    return services;
}

const DbbService *dbb_service_find(const char *name)
{
    for (gsize i = 0; name != NULL && services[i] != NULL; i++)
        if (strcmp(services[i]->name, name) == 0)
            return services[i];
    return NULL;
}

const char *dbb_service_host_prefix(const DbbService *service, const char *region)
{
    const DbbHostTable *host = &service->ops->host;

    for (gsize i = 0; region != NULL && i < host->n_variants; i++)
        for (const char *const *r = host->variants[i].regions; *r != NULL; r++)
            if (strcmp(*r, region) == 0)
                return host->variants[i].prefix;
    return host->prefix;
}

/* ---- records ---- */

/* The record's ID, or a stable synthetic one: a record is never dropped for lacking it. */
static char *record_id(const DbbService *service, json_object *record, const char *raw,
                       gsize raw_len, const char *what)
{
    char *id = dbb_json_dup_text(record, "id", raw, raw_len);

    if (id != NULL && id[0] != '\0')
        return id;
    g_free(id);
    id = dbb_json_synthetic_id(raw, raw_len);
    g_warning("%s: %s record without an id; listed as %s", service->name, what, id);
    return id;
}

/* A text member, NULL when absent or empty. */
static char *nonempty_text(json_object *record, const char *key, const char *raw, gsize raw_len)
{
    char *text = dbb_json_dup_text(record, key, raw, raw_len);

    if (text != NULL && text[0] == '\0')
        g_clear_pointer(&text, g_free);
    return text;
}

static gint64 time_of(const DbbService *service, const char *id, json_object *record,
                      const char *field, const char *zone)
{
    g_autofree char *text = dbb_json_dup_text(record, field, NULL, 0);

    return dbb_time_field(service->name, id, field, text, zone);
}

DbbInstance *dbb_service_parse_instance(const DbbService *service, json_object *record,
                                        const char *raw, gsize raw_len)
{
    DbbInstance *instance = g_new0(DbbInstance, 1);

    instance->id = record_id(service, record, raw, raw_len, "instance");
    instance->name = dbb_json_dup_text(record, "name", raw, raw_len);
    /* updated, else created: a missing or unparsable updated falls back to created. */
    instance->mtime = time_of(service, instance->id, record, "updated", NULL);
    if (instance->mtime == 0)
        instance->mtime = time_of(service, instance->id, record, "created", NULL);
    return instance;
}

/* Bytes per unit of a size_unit value; 0 when unknown. */
static gint64 unit_bytes(const char *unit, gint64 default_unit)
{
    static const struct {
        const char *name;
        gint64 bytes;
    } units[] = {
        {"B", 1},
        {"KB", 1024},
        {"MB", 1024 * 1024},
        {"GB", 1024 * 1024 * 1024},
        {"TB", G_GINT64_CONSTANT(1024) * 1024 * 1024 * 1024},
    };
    g_autofree char *trimmed = NULL;

    if (unit == NULL)
        return default_unit;
    trimmed = g_strstrip(g_strdup(unit));
    if (trimmed[0] == '\0')
        return default_unit;
    for (gsize i = 0; i < G_N_ELEMENTS(units); i++)
        if (g_ascii_strcasecmp(trimmed, units[i].name) == 0)
            return units[i].bytes;
    return 0;
}

static gint64 size_of(const DbbService *service, const DbbBackupFields *f, const char *id,
                      json_object *record)
{
    g_autofree char *unit = NULL;
    gint64 per_unit;
    double size, bytes;

    if (!dbb_json_get_double(record, f->size_field, &size))
        return -1;
    if (f->size_unit_field != NULL)
        unit = dbb_json_dup_text(record, f->size_unit_field, NULL, 0);
    per_unit = unit_bytes(unit, f->default_unit);
    if (per_unit == 0) {
        g_debug("%s: record %s: unknown %s \"%s\"; size unknown", service->name, id,
                f->size_unit_field, unit);
        return -1;
    }
    /* Rounded half up by hand (the library does not link libm); 2^63 is the first double
     * beyond gint64. */
    bytes = size * (double)per_unit + 0.5;
    if (!(bytes >= 0.5) || bytes >= 9223372036854775808.0) {
        g_debug("%s: record %s: size %g out of range; size unknown", service->name, id, size);
        return -1;
    }
    return (gint64)bytes;
}

DbbBackup *dbb_service_parse_backup(const DbbService *service, json_object *record, const char *raw,
                                    gsize raw_len, const char *listed_instance_id)
{
    return dbb_service_parse_backup_as(service, NULL, record, raw, raw_len, listed_instance_id);
}

DbbBackup *dbb_service_parse_backup_as(const DbbService *service, const DbbBackupFields *fields,
                                       json_object *record, const char *raw, gsize raw_len,
                                       const char *listed_instance_id)
{
    const DbbBackupFields *f = fields != NULL ? fields : &service->ops->backup_fields;
    DbbBackup *backup = g_new0(DbbBackup, 1);
    g_autofree char *zone = NULL;

    backup->id = record_id(service, record, raw, raw_len, "backup");
    backup->name = dbb_json_dup_text(record, "name", raw, raw_len);
    backup->instance_id = nonempty_text(record, "instance_id", raw, raw_len);
    /* A per-instance listing knows the instance even when its records do not say. */
    if (backup->instance_id == NULL)
        backup->instance_id = g_strdup(listed_instance_id);
    backup->instance_name = dbb_json_dup_text(record, "instance_name", raw, raw_len);
    backup->status = dbb_json_dup_text(record, "status", raw, raw_len);
    if (f->zone_field != NULL)
        zone = nonempty_text(record, f->zone_field, NULL, 0);
    backup->start_time = time_of(service, backup->id, record, f->start_field, zone);
    backup->finish_time = time_of(service, backup->id, record, f->finish_field, zone);
    backup->size_bytes = size_of(service, f, backup->id, record);
    backup->raw = g_strndup(raw, raw_len);
    backup->raw_len = raw_len;
    return backup;
}

static gpointer parse_instance_item(gpointer data, json_object *element, const char *raw,
                                    gsize raw_len, const char **id, GError **error)
{
    DbbParseContext *ctx = data;
    DbbInstance *instance = dbb_service_parse_instance(ctx->service, element, raw, raw_len);

    *id = instance->id;
    return instance;
}

static gpointer parse_backup_item(gpointer data, json_object *element, const char *raw,
                                  gsize raw_len, const char **id, GError **error)
{
    DbbParseContext *ctx = data;
    DbbBackup *backup = dbb_service_parse_backup_as(ctx->service, ctx->fields, element, raw,
                                                    raw_len, ctx->listed_instance_id);

    *id = backup->id;
    return backup;
}

void dbb_service_spec_init(DbbPaginateSpec *spec, const DbbService *service,
                           const DbbListingTable *table, gboolean is_backups, DbbParseContext *ctx)
{
    memset(spec, 0, sizeof(*spec));
    ctx->fields = table->fields;
    spec->service = service->name;
    spec->items_member = table->items_member;
    spec->total_member = table->total_member;
    spec->limit = table->limit;
    spec->offset_may_be_page = table->offset_may_be_page;
    spec->parse = is_backups ? parse_backup_item : parse_instance_item;
    spec->parse_data = ctx;
    spec->item_free = is_backups ? dbb_backup_free : dbb_instance_free;
}

/* ---- listings ---- */

typedef struct {
    DbbClient *client;
    const DbbService *service;
    const DbbProject *project;
    const DbbListingTable *table;
    gboolean is_backups;
    const char *instance_id;
    GPtrArray *result;
    GError *error;
} ListingJob;

/* The listings' results made into one (the jobs' results may be stolen). */
typedef GPtrArray *(*CombineFunc)(const DbbService *service, ListingJob *jobs, gsize n);

static gpointer run_job(gpointer data)
{
    ListingJob *job = data;

    job->result = dbb_client_fetch_listing(job->client, job->service, job->project, job->table,
                                           job->is_backups, job->instance_id, &job->error);
    return NULL;
}

/* Concatenate the listings in table order, merged by ID as the paginator merges pages: the
 * later listing's version wins, at the first position. */
static GPtrArray *concat_backups(const DbbService *service, ListingJob *jobs, gsize n)
{
    if (n == 1)
        return g_steal_pointer(&jobs[0].result);

    GPtrArray *all = g_ptr_array_new_with_free_func(dbb_backup_free);
    g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);

    for (gsize j = 0; j < n; j++) {
        for (guint i = 0; i < jobs[j].result->len; i++) {
            DbbBackup *b = g_steal_pointer(&jobs[j].result->pdata[i]);
            gpointer pos_plus_one;
            DbbBackup *old;

            if (!g_hash_table_lookup_extended(index, b->id, NULL, &pos_plus_one)) {
                g_hash_table_insert(index, b->id, GUINT_TO_POINTER(all->len + 1));
                g_ptr_array_add(all, b);
                continue;
            }
            old = all->pdata[GPOINTER_TO_UINT(pos_plus_one) - 1];
            if (old->raw_len != b->raw_len || memcmp(old->raw, b->raw, b->raw_len) != 0)
                g_warning("%s: backup %s listed by two listings with different contents; "
                          "keeping the later one",
                          service->name, b->id);
            g_hash_table_replace(index, b->id, pos_plus_one);
            all->pdata[GPOINTER_TO_UINT(pos_plus_one) - 1] = b;
            dbb_backup_free(old);
        }
    }
    return all;
}

static GPtrArray *run_jobs(const DbbService *service, ListingJob *jobs, gsize n,
                           CombineFunc combine, GError **error)
{
    g_autoptr(GPtrArray) threads = g_ptr_array_new();
    GPtrArray *result = NULL;
    gsize i;

    /* The listings are independent: run all but the first alongside, the first here. */
    for (i = 1; i < n; i++) {
        GThread *t = g_thread_try_new("dbb-listing", run_job, &jobs[i], NULL);
        if (t == NULL)
            run_job(&jobs[i]);
        g_ptr_array_add(threads, t);
    }
    run_job(&jobs[0]);
    for (i = 0; i < threads->len; i++)
        if (g_ptr_array_index(threads, i) != NULL)
            g_thread_join(g_ptr_array_index(threads, i));
    for (i = 0; i < n; i++) {
        if (jobs[i].error != NULL) {
            g_propagate_error(error, g_steal_pointer(&jobs[i].error));
            goto out;
        }
    }
    result = combine(service, jobs, n);
out:
    for (i = 0; i < n; i++) {
        g_clear_error(&jobs[i].error);
        g_clear_pointer(&jobs[i].result, g_ptr_array_unref);
    }
    return result;
}

GPtrArray *dbb_service_list_backups(DbbClient *client, const DbbService *service,
                                    const DbbProject *project, const char *instance_id,
                                    GError **error)
{
    const DbbServiceOps *ops = service->ops;
    gboolean per_instance = service->backup_scope == DBB_BACKUPS_PER_INSTANCE;
    g_autofree ListingJob *jobs = NULL;

    if (per_instance != (instance_id != NULL)) {
        g_set_error(error, DBB_API_ERROR, EINVAL, "%s: backups are listed per %s", service->name,
                    per_instance ? "instance" : "project");
        return NULL;
    }
    jobs = g_new0(ListingJob, ops->n_backups);
    for (gsize i = 0; i < ops->n_backups; i++)
        jobs[i] = (ListingJob){.client = client,
                               .service = service,
                               .project = project,
                               .table = &ops->backups[i],
                               .is_backups = TRUE,
                               .instance_id = instance_id};
    return run_jobs(service, jobs, ops->n_backups, concat_backups, error);
}

/* The instances, then (deleted_backups) the instances that only the project-wide backup
 * listing still knows. */
static GPtrArray *combine_instances(const DbbService *service, ListingJob *jobs, gsize n)
{
    GPtrArray *instances = g_steal_pointer(&jobs[0].result);

    if (n == 1)
        return instances;
    return dbb_instances_add_deleted(service, instances, jobs[1].result);
}

GPtrArray *dbb_service_list_instances(DbbClient *client, const DbbService *service,
                                      const DbbProject *project, GError **error)
{
    const DbbServiceOps *ops = service->ops;
    ListingJob jobs[2] = {
        {.client = client, .service = service, .project = project, .table = &ops->instances},
        {.client = client,
         .service = service,
         .project = project,
         .table = ops->deleted_backups,
         .is_backups = TRUE},
    };

    /* Both listings at once: a deleted instance costs the listing no extra wait. */
    return run_jobs(service, jobs, ops->deleted_backups != NULL ? 2 : 1, combine_instances, error);
}
