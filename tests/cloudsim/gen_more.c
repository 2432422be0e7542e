/*
 * cloudsim — the records of the services after the seed three (reference §10, field by
 * field as the Go SDK's models have them): RDS and DDS and GaussDB instances and backups,
 * and TaurusDB's project-wide backup list (§2.3).  gen.c decides which records exist;
 * this file only writes them, as compact JSON into g->b.
 *
 * The shapes keep the services' differences a client must cope with: RDS times carry an
 * offset ("+0800"), DDS times are UTC with no zone, GaussDB's instance times put a space
 * before the zone and its backups carry no instance_name and a size in MB (a float); now
 * and then a number arrives as a string, as the lenient parsers expect.
 */
#include "gen_internal.h"

#include <string.h>

#define BEIJING (8 * 3600)

static const char *const rds_engines[][3] = {
    /* type, version, complete_version */
    {"MySQL", "8.0", "8.0.28.231003"},
    {"PostgreSQL", "14", "14.4"},
    {"SQLServer", "2019_SE", "15.0.4236.7"},
    {"MariaDB", "10.5", "10.5.16"},
};

/* Facts fixed by the instance (not drawn from its stream, so every backup agrees). */
static guint pick(const Inst *in, guint n)
{
    return g_str_hash(in->id) % n;
}

static void append_net(GString *b, Rng *r)
{
    char vpc[37], subnet[37], sg[37];

    rng_uuid(r, vpc);
    rng_uuid(r, subnet);
    rng_uuid(r, sg);
    g_string_append_printf(
        b, "\"vpc_id\":\"%s\",\"subnet_id\":\"%s\",\"security_group_id\":\"%s\",", vpc, subnet, sg);
}

/* ----- instances ----- */

static void rds_instance(Gen *g, const Inst *in, Rng *r)
{
    GString *b = g->b;
    const char *const *e = rds_engines[pick(in, G_N_ELEMENTS(rds_engines))];
    char created[40], updated[40];

    fmt_iso(created, sizeof created, in->created, 0, TRUE);
    fmt_iso(updated, sizeof updated, in->created + (gint64)rng_below(r, 86400 * 300), 0, TRUE);
    g_string_append_printf(b, "{\"id\":\"%s\",", in->id);
    append_name(b, &in->name);
    append_member_str(b, "status", in->status);
    g_string_append_printf(b,
                           "\"private_ips\":[\"192.168.%u.%u\"],\"public_ips\":[],\"port\":%s,"
                           "\"type\":\"%s\",\"region\":\"%s\",\"datastore\":{\"type\":\"%s\","
                           "\"version\":\"%s\",\"complete_version\":\"%s\"},\"created\":\"%s\","
                           "\"updated\":\"%s\",\"db_user_name\":\"root\",",
                           (guint)rng_below(r, 256), (guint)rng_below(r, 254) + 1,
                           strcmp(e[0], "MySQL") == 0 ? "3306" : "5432",
                           rng_below(r, 2) ? "Ha" : "Single", in->region, e[0], e[1], e[2], created,
                           updated);
    append_net(b, r);
    g_string_append(b, "\"flavor_ref\":\"rds.mysql.n1.large.2\",\"volume\":{\"type\":\"CLOUDSSD\","
                       "\"size\":40},\"switch_strategy\":\"reliability\",\"backup_strategy\":"
                       "{\"start_time\":\"08:00-09:00\",\"keep_days\":7},"
                       "\"enterprise_project_id\":\"0\",\"time_zone\":\"UTC+08:00\","
                       "\"charge_info\":{\"charge_mode\":\"postPaid\"},\"tags\":[]}");
}

static void dds_instance(Gen *g, const Inst *in, Rng *r)
{
    GString *b = g->b;
    char created[40], updated[40];

    fmt_local(created, sizeof created, in->created, 0);
    fmt_local(updated, sizeof updated, in->created + (gint64)rng_below(r, 86400 * 300), 0);
    g_string_append_printf(b, "{\"id\":\"%s\",", in->id);
    append_name(b, &in->name);
    g_string_append(b, "\"remark\":\"\",");
    append_member_str(b, "status", in->status);
    g_string_append_printf(b,
                           "\"port\":\"8635\",\"mode\":\"%s\",\"region\":\"%s\","
                           "\"datastore\":{\"type\":\"DDS-Community\",\"version\":\"%s\","
                           "\"storage_engine\":\"wiredTiger\"},\"engine\":\"wiredTiger\","
                           "\"created\":\"%s\",\"updated\":\"%s\",\"db_user_name\":\"rwuser\","
                           "\"ssl\":0,",
                           pick(in, 2) ? "Sharding" : "ReplicaSet", in->region,
                           pick(in, 3) ? "4.0" : "5.0", created, updated);
    append_net(b, r);
    g_string_append(b, "\"backup_strategy\":{\"start_time\":\"16:00-17:00\",\"keep_days\":\"7\"},"
                       "\"pay_mode\":\"0\",\"maintenance_window\":\"02:00-06:00\",\"groups\":[],"
                       "\"enterprise_project_id\":\"0\",\"time_zone\":\"\",\"actions\":[]}");
}

/* GaussDB's instance times: "yyyy-mm-dd hh:mm:ss +0800" (a space before the zone). */
static void fmt_spaced_zone(char *out, gsize n, gint64 t)
{
    char local[32];

    fmt_local(local, sizeof local, t, BEIJING);
    g_snprintf(out, n, "%s +0800", local);
}

static void gaussdb_instance(Gen *g, const Inst *in, Rng *r)
{
    GString *b = g->b;
    char created[48], updated[48];

    fmt_spaced_zone(created, sizeof created, in->created);
    fmt_spaced_zone(updated, sizeof updated, in->created + (gint64)rng_below(r, 86400 * 300));
    g_string_append_printf(b, "{\"id\":\"%s\",", in->id);
    append_name(b, &in->name);
    append_member_str(b, "status", in->status);
    g_string_append_printf(
        b,
        "\"private_ips\":[\"192.168.%u.%u\"],\"public_ips\":[],\"port\":8000,"
        "\"type\":\"%s\",\"ha\":{\"replication_mode\":\"sync\"},"
        "\"replica_num\":3,\"region\":\"%s\",\"datastore\":{\"type\":\"GaussDB\","
        "\"version\":\"8.201\"},\"created\":\"%s\",\"updated\":\"%s\","
        "\"db_user_name\":\"root\",",
        (guint)rng_below(r, 256), (guint)rng_below(r, 254) + 1, pick(in, 2) ? "enterprise" : "Ha",
        in->region, created, updated);
    append_net(b, r);
    g_string_append(b,
                    "\"flavor_ref\":\"gaussdb.opengauss.ee.dn.m6.2xlarge.8.in\","
                    "\"volume\":{\"type\":\"ULTRAHIGH\",\"size\":40},"
                    "\"switch_strategy\":\"\",\"backup_strategy\":{\"start_time\":"
                    "\"19:00-20:00\",\"keep_days\":7},\"maintenance_window\":\"Mon-00:00-04:00\","
                    "\"nodes\":[],\"enterprise_project_id\":\"0\",\"instance_mode\":\"enterprise\","
                    "\"disk_encryption_id\":\"\",\"charge_info\":{\"charge_mode\":\"postPaid\"},"
                    "\"time_zone\":\"UTC+08:00\",\"tags\":[]}");
}

void gen_more_instance(Gen *g, SimService s, const Inst *in, Rng *r)
{
    if (s == SIM_RDS)
        rds_instance(g, in, r);
    else if (s == SIM_DDS)
        dds_instance(g, in, r);
    else
        gaussdb_instance(g, in, r);
}

/* ----- backups ----- */

static void rds_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id, Rng *r)
{
    GString *b = g->b;
    const char *const *e = rds_engines[pick(in, G_N_ELEMENTS(rds_engines))];
    char begin[40], end[40] = "";

    fmt_iso(begin, sizeof begin, bs->begin, BEIJING, TRUE);
    if (bs->end >= 0)
        fmt_iso(end, sizeof end, bs->end, BEIJING, TRUE);
    g_string_append_printf(b, "{\"id\":\"%s\",\"instance_id\":\"%s\",", id, in->id);
    append_name(b, &bs->name);
    /* SQL Server backs up databases one by one; the others list none. */
    if (strcmp(e[0], "SQLServer") == 0)
        g_string_append(b, "\"databases\":[{\"name\":\"orders\"},{\"name\":\"billing\"}],");
    else
        g_string_append(b, "\"databases\":[],");
    g_string_append_printf(b, "\"begin_time\":\"%s\",\"end_time\":\"%s\",", begin, end);
    append_member_str(b, "status", bs->status);
    g_string_append_printf(b,
                           "\"type\":\"%s\",\"size\":%u,\"datastore\":{\"type\":\"%s\","
                           "\"version\":\"%s\"},\"associated_with_ddm\":false,"
                           "\"min_data_volume_capacity_for_restore\":%u}",
                           bs->begin % 3 ? "auto" : "manual", (guint)rng_below(r, 8000000) + 100,
                           e[0], e[1], 40 + (guint)rng_below(r, 4) * 10);
}

static void dds_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id, Rng *r)
{
    GString *b = g->b;
    char begin[32], end[32] = "";
    guint size = (guint)rng_below(r, 4000000) + 100;

    fmt_local(begin, sizeof begin, bs->begin, 0);
    if (bs->end >= 0)
        fmt_local(end, sizeof end, bs->end, 0);
    g_string_append_printf(b, "{\"id\":\"%s\",", id);
    append_name(b, &bs->name);
    g_string_append_printf(b, "\"instance_id\":\"%s\",", in->id);
    append_member_str(b, "instance_name", bs->inst_name ? bs->inst_name : name_text(&in->name));
    g_string_append_printf(b,
                           "\"datastore\":{\"type\":\"DDS-Community\",\"version\":\"%s\"},"
                           "\"type\":\"%s\",\"begin_time\":\"%s\",\"end_time\":\"%s\",",
                           pick(in, 3) ? "4.0" : "5.0", bs->begin % 3 ? "Auto" : "Manual", begin,
                           end);
    append_member_str(b, "status", bs->status);
    /* Now and then the size comes as a string (lenient parsing). */
    if (bs->begin % 7 == 0)
        g_string_append_printf(b, "\"size\":\"%u\",", size);
    else
        g_string_append_printf(b, "\"size\":%u,", size);
    g_string_append(b, "\"description\":\"\"}");
}

static void gaussdb_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id, Rng *r)
{
    GString *b = g->b;
    char begin[40], end[40] = "";

    fmt_iso(begin, sizeof begin, bs->begin, BEIJING, TRUE);
    if (bs->end >= 0)
        fmt_iso(end, sizeof end, bs->end, BEIJING, TRUE);
    /* No instance_name: a deleted instance's directory is named by its id. */
    g_string_append_printf(b, "{\"id\":\"%s\",", id);
    append_name(b, &bs->name);
    g_string_append_printf(b, "\"description\":\"\",\"begin_time\":\"%s\",\"end_time\":\"%s\",",
                           begin, end);
    append_member_str(b, "status", bs->status);
    g_string_append_printf(b,
                           "\"size\":%u.%02u,\"type\":\"%s\",\"datastore\":{\"type\":\"GaussDB\","
                           "\"version\":\"8.201\"},\"instance_id\":\"%s\"}",
                           (guint)rng_below(r, 90000), (guint)rng_below(r, 100),
                           bs->begin % 3 ? "auto" : "manual", in->id);
}

void gen_more_backup(Gen *g, SimService s, const Inst *in, const BackupSpec *bs, const char *id,
                     Rng *r)
{
    if (s == SIM_RDS)
        rds_backup(g, in, bs, id, r);
    else if (s == SIM_DDS)
        dds_backup(g, in, bs, id, r);
    else
        gaussdb_backup(g, in, bs, id, r);
}

void gen_taurus_project_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id,
                               gboolean manual)
{
    GString *b = g->b;
    Rng r = {g_str_hash(id) * 0x9e3779b97f4a7c15ULL};
    char begin[40], end[40] = "";
    int offset = in->zone ? in->zone->offset : BEIJING;

    fmt_iso(begin, sizeof begin, bs->begin, offset, TRUE);
    if (bs->end >= 0)
        fmt_iso(end, sizeof end, bs->end, offset, TRUE);
    g_string_append_printf(b, "{\"id\":\"%s\",", id);
    append_name(b, &bs->name);
    g_string_append_printf(b, "\"begin_time\":\"%s\",\"end_time\":\"%s\",", begin, end);
    append_member_str(b, "status", bs->status);
    g_string_append_printf(b,
                           "\"take_up_time\":%u,\"type\":\"%s\",\"size\":%u.%u,"
                           "\"datastore\":{\"type\":\"gaussdb-mysql\",\"version\":\"8.0\"},"
                           "\"instance_id\":\"%s\",",
                           (guint)(bs->end >= 0 ? (bs->end - bs->begin) / 60 : 0),
                           manual ? "manual" : "auto", (guint)rng_below(&r, 90000),
                           (guint)rng_below(&r, 10), in->id);
    append_member_str(b, "instance_name", bs->inst_name ? bs->inst_name : name_text(&in->name));
    g_string_append_printf(b, "\"backup_level\":\"%u\",\"description\":\"\"}",
                           (guint)(bs->begin % 3));
}
