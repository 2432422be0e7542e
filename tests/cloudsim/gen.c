/*
 * cloudsim — the generated fleet.
 *
 * Deterministic from the seed: every project and every instance draws from its own
 * splitmix64 stream derived from (seed, project, service, instance), so raising --backups
 * does not change the ids of projects and instances.  Records are written straight as
 * compact JSON text (no json-c on this path), which keeps a 300,000-backup fleet well under
 * a second.
 *
 * Without --no-extras the first project also holds the awkward cases DESIGN.md lists:
 * the three seed records verbatim, awkward names, mixed statuses, a backup without a
 * finish time, an instance without backups, backups of deleted instances; and an extra
 * project with an empty name follows the generated ones.
 */
#include "gen_internal.h"

#include <json-c/json.h>
#include <string.h>
#include <time.h>

/* ---------- random numbers ---------- */

guint64 rng_next(Rng *r)
{
    guint64 z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

guint64 rng_below(Rng *r, guint64 n)
{
    return n ? rng_next(r) % n : 0;
}

static Rng rng_stream(guint64 seed, guint64 a, guint64 b, guint64 c)
{
    Rng r = {seed};

    r.s = rng_next(&r) ^ (a * 0x100000001b3ULL);
    r.s = rng_next(&r) ^ (b * 0xc2b2ae3d27d4eb4fULL);
    r.s = rng_next(&r) ^ (c * 0x165667b19e3779f9ULL);
    return r;
}

/* n lower-case hex digits and a NUL. */
void rng_hex(Rng *r, char *out, int n)
{
    static const char hex[] = "0123456789abcdef";
    guint64 v = 0;

    for (int i = 0; i < n; i++) {
        if (i % 16 == 0)
            v = rng_next(r);
        out[i] = hex[v & 15];
        v >>= 4;
    }
    out[n] = '\0';
}

void rng_uuid(Rng *r, char out[37])
{
    char h[33];

    rng_hex(r, h, 32);
    g_snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* ---------- names and times ---------- */

/* The awkward names, used for instances and for backups.  LONG_A/LONG_B are filled in at
 * run time: 300 bytes of mixed 1- and 3-byte UTF-8 that differ only in their last 5
 * bytes, so they also collide once cut to 255 bytes. */
static const Name awkward_template[N_AWKWARD] = {
    {NAME_STRING, "prod/eu-west"},
    {NAME_STRING, "nightly backup 01"},
    {NAME_STRING, "Zürich 备份 ☃"},
    {NAME_STRING, "twin"},
    {NAME_STRING, "twin"},
    {NAME_STRING, "a/b"}, /* "a/b" and "a_b" collide after '/' becomes '_' */
    {NAME_STRING, "a_b"},
    {NAME_STRING, ".."},
    {NAME_STRING, "."},
    {NAME_STRING, ""},
    {NAME_MISSING, NULL},
    {NAME_NUMBER, "20260101"},
    {NAME_STRING, "tab\there\001ctl\177"},
    {NAME_STRING, NULL}, /* AWK_LONG_A */
    {NAME_STRING, NULL}, /* AWK_LONG_B */
};

/* The text a backup carries as instance_name for an instance of this name. */
const char *name_text(const Name *n)
{
    return n->kind == NAME_MISSING ? "" : n->text;
}

/* Appends `"name":<value>,` unless the name is missing. */
void append_name(GString *b, const Name *n)
{
    if (n->kind == NAME_MISSING)
        return;
    g_string_append(b, "\"name\":");
    if (n->kind == NAME_NUMBER)
        g_string_append(b, n->text);
    else
        sim_json_append_string(b, n->text);
    g_string_append_c(b, ',');
}

void append_member_str(GString *b, const char *key, const char *value)
{
    g_string_append_printf(b, "\"%s\":", key);
    sim_json_append_string(b, value);
    g_string_append_c(b, ',');
}

static void civil(gint64 t, struct tm *tm)
{
    time_t tt = (time_t)t;

    gmtime_r(&tt, tm);
}

/* "YYYY-MM-DD HH:MM:SS" of local time t+offset (TaurusDB backups). */
void fmt_local(char *out, gsize n, gint64 t, int offset)
{
    struct tm tm;

    civil(t + offset, &tm);
    g_snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "YYYY-MM-DDTHH:MM:SS+hhmm" (offset >= -1 day) or, with zone FALSE, no zone at all. */
void fmt_iso(char *out, gsize n, gint64 t, int offset, gboolean zone)
{
    struct tm tm;
    int a = ABS(offset);

    civil(t + offset, &tm);
    if (zone)
        g_snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d%02d", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   offset < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
    else
        g_snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "YYYYMMDDHHMMSS" of local time, for TaurusDB-style backup names. */
static void fmt_compact(char *out, gsize n, gint64 t, int offset)
{
    struct tm tm;

    civil(t + offset, &tm);
    g_snprintf(out, n, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
               tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const Zone taurus_zones[] = {
    {"UTC+08:00", 8 * 3600}, {"UTC", 0},          {"UTC-03:00", -3 * 3600},
    {"UTC+05:30", 19800},    {"UTC+01:00", 3600},
};

static const char *const regions[] = {"ap-southeast-1", "cn-north-4", "eu-west-101"};
static const char *const sub_suffixes[] = {"dev", "test", "prod", "staging"};

static const char *const gemini_types[][4] = {
    /* type, version, whole_version, mode */
    {"cassandra", "3.11", "3.11.3.2", "Cluster"},
    {"mongodb", "4.0", "4.0.45", "ReplicaSet"},
    {"redis", "5.0", "5.0.14.6", "Cluster"},
    {"influxdb", "1.8", "1.8.10.2", "Cluster"},
};

/* ---------- the generator ---------- */

static void add_instance(Gen *g, SimProject *proj, SimService s, Inst *in, Rng *r);

/* ----- instance records ----- */

static void taurus_instance(Gen *g, const Inst *in, Rng *r)
{
    GString *b = g->b;
    char created[40], updated[40], vpc[37], subnet[37], sg[37];

    fmt_iso(created, sizeof created, in->created, in->zone->offset, TRUE);
    fmt_iso(updated, sizeof updated, in->created + (gint64)rng_below(r, 86400 * 300),
            in->zone->offset, TRUE);
    rng_uuid(r, vpc);
    rng_uuid(r, subnet);
    rng_uuid(r, sg);
    g_string_append_printf(b, "{\"id\":\"%s\",", in->id);
    append_member_str(b, "status", in->status);
    append_name(b, &in->name);
    g_string_append_printf(
        b,
        "\"private_ips\":[\"192.168.%u.%u\"],\"proxy_ips\":[],\"readonly_private_ips\":[],"
        "\"public_ips\":[],\"port\":3306,\"type\":\"Cluster\",\"region\":\"%s\","
        "\"datastore\":{\"type\":\"gaussdb-mysql\",\"version\":\"8.0\","
        "\"kernel_version\":\"2.0.29.1\"},\"created\":\"%s\",\"updated\":\"%s\","
        "\"db_user_name\":\"root\",\"vpc_id\":\"%s\",\"subnet_id\":\"%s\","
        "\"security_group_id\":\"%s\",\"flavor_ref\":\"gaussdb.mysql.xlarge.x86.4\","
        "\"flavor_info\":{\"vcpus\":\"4\",\"ram\":\"16\"},\"volume\":{\"type\":\"POOL\","
        "\"size\":\"100\"},\"backup_strategy\":{\"start_time\":\"19:00-20:00\","
        "\"keep_days\":\"7\"},\"enterprise_project_id\":\"0\",\"time_zone\":\"%s\","
        "\"charge_info\":{\"charge_mode\":\"postPaid\"},\"dedicated_resource_id\":\"\","
        "\"tags\":[]}",
        (guint)rng_below(r, 256), (guint)rng_below(r, 254) + 1, in->region, created, updated, vpc,
        subnet, sg, in->zone->label);
}

static void gemini_instance(Gen *g, const Inst *in, Rng *r)
{
    GString *b = g->b;
    char created[40], updated[40], vpc[37], subnet[37], sg[37], group[33];

    fmt_iso(created, sizeof created, in->created, 0, FALSE);
    fmt_iso(updated, sizeof updated, in->created + (gint64)rng_below(r, 86400 * 300), 0, FALSE);
    rng_uuid(r, vpc);
    rng_uuid(r, subnet);
    rng_uuid(r, sg);
    rng_hex(r, group, 32);
    g_string_append_printf(b, "{\"id\":\"%s\",", in->id);
    append_name(b, &in->name);
    append_member_str(b, "status", in->status);
    g_string_append_printf(
        b,
        "\"port\":\"8635\",\"mode\":\"%s\",\"region\":\"%s\",\"datastore\":{\"type\":\"%s\","
        "\"version\":\"%s\",\"patch_available\":false,\"whole_version\":\"%s\"},"
        "\"engine\":\"rocksDB\",\"created\":\"%s\",\"updated\":\"%s\","
        "\"db_user_name\":\"rwuser\",\"vpc_id\":\"%s\",\"subnet_id\":\"%s\","
        "\"security_group_id\":\"%s\",\"backup_strategy\":{\"start_time\":\"16:00-17:00\","
        "\"keep_days\":7},\"pay_mode\":\"0\",\"maintenance_window\":\"02:00-06:00\","
        "\"groups\":[{\"id\":\"%sgr06\",\"status\":\"normal\",\"volume\":{\"size\":\"100\","
        "\"used\":\"0.003\"},\"nodes\":[]}],\"enterprise_project_id\":\"0\","
        "\"dedicated_resource_id\":\"\",\"time_zone\":\"\",\"actions\":[],"
        "\"lb_ip_address\":\"\",\"lb_port\":\"\"}",
        in->gds[3], in->region, in->gds[0], in->gds[1], in->gds[2], created, updated, vpc, subnet,
        sg, group);
}

static void ddm_instance(Gen *g, const Inst *in, Rng *r, const char *project_id)
{
    GString *b = g->b;
    char created[40], updated[40], vpc[37], subnet[37], sg[37], order[33];

    fmt_iso(created, sizeof created, in->created, 0, TRUE);
    fmt_iso(updated, sizeof updated, in->created + (gint64)rng_below(r, 86400 * 300), 0, TRUE);
    rng_uuid(r, vpc);
    rng_uuid(r, subnet);
    rng_uuid(r, sg);
    rng_hex(r, order, 20);
    g_string_append_printf(b, "{\"id\":\"%s\",", in->id);
    append_member_str(b, "status", in->status);
    append_name(b, &in->name);
    g_string_append_printf(
        b,
        "\"created\":\"%s\",\"updated\":\"%s\",\"available_zone\":\"%sa\",\"vpc_id\":\"%s\","
        "\"subnet_id\":\"%s\",\"security_group_id\":\"%s\",\"node_count\":2,"
        "\"access_ip\":\"192.168.%u.%u\",\"access_port\":\"5066\",\"core_count\":\"4\","
        "\"ram_capacity\":\"8\",\"error_msg\":null,\"node_status\":\"RUNNING\","
        "\"enterprise_project_id\":\"0\",\"project_id\":\"%s\",\"engine_version\":\"3.1.0\","
        "\"order_id\":\"CS%s\",\"enable_ssl\":false,"
        "\"flavor_ref\":\"ddm.4xlarge.2\"}",
        created, updated, in->region, vpc, subnet, sg, (guint)rng_below(r, 256),
        (guint)rng_below(r, 254) + 1, project_id, order);
}

/* ----- backup records ----- */

static void taurus_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id, Rng *r)
{
    GString *b = g->b;
    char created[32], updated[32];

    fmt_local(created, sizeof created, bs->begin, in->zone->offset);
    if (bs->end >= 0)
        fmt_local(updated, sizeof updated, bs->end, in->zone->offset);
    else
        updated[0] = '\0';
    g_string_append_printf(b, "{\"id\":\"%s\",\"description\":\"\",\"instance_id\":\"%s\",", id,
                           in->id);
    append_member_str(b, "instance_name", bs->inst_name ? bs->inst_name : name_text(&in->name));
    append_name(b, &bs->name);
    g_string_append_printf(b,
                           "\"size\":\"%u.%u\",\"size_unit\":\"KB\",\"status\":\"%s\","
                           "\"created\":\"%s\",\"updated\":\"%s\",\"backup_type\":\"%s\","
                           "\"backup_level\":\"%u\",\"backup_method\":\"%s\","
                           "\"use_detail\":\"\",\"time_zone\":\"%s\"}",
                           (guint)rng_below(r, 900000) + 1024, (guint)rng_below(r, 2) * 5,
                           bs->status, created, updated, (bs->begin & 1) ? "Snapshot" : "Db",
                           (guint)(bs->begin % 2) + 1, (bs->begin & 1) ? "Snapshot" : "Db",
                           in->zone->label);
}

static void gemini_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id, Rng *r)
{
    GString *b = g->b;
    char begin[40], end[40];

    fmt_iso(begin, sizeof begin, bs->begin, 0, TRUE);
    if (bs->end >= 0)
        fmt_iso(end, sizeof end, bs->end, 0, TRUE);
    else
        end[0] = '\0';
    g_string_append_printf(b, "{\"id\":\"%s\",", id);
    append_name(b, &bs->name);
    g_string_append_printf(b, "\"instance_id\":\"%s\",", in->id);
    append_member_str(b, "instance_name", bs->inst_name ? bs->inst_name : name_text(&in->name));
    g_string_append_printf(b,
                           "\"datastore\":{\"type\":\"%s\",\"version\":\"%s\"},"
                           "\"type\":\"%s\",\"begin_time\":\"%s\",\"end_time\":\"%s\","
                           "\"status\":\"%s\",\"size\":%u,\"description\":\"\","
                           "\"database_tables\":",
                           in->gds[0], in->gds[1], (bs->begin % 3) ? "Auto" : "Manual", begin, end,
                           bs->status, (guint)rng_below(r, 4000000) + 100);
    if (bs->table)
        g_string_append_printf(b,
                               "[{\"database_name\":\"db_%u\",\"table_names\":[\"orders\","
                               "\"customers\"]}]}",
                               (guint)rng_below(r, 10));
    else
        g_string_append(b, "[]}");
}

static void ddm_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id, Rng *r)
{
    GString *b = g->b;
    char created[40], updated[40];
    gboolean auto_backup = bs->begin % 4 != 0;

    fmt_iso(created, sizeof created, bs->begin, 0, TRUE);
    g_string_append_printf(b, "{\"id\":\"%s\",", id);
    append_name(b, &bs->name);
    g_string_append_printf(b, "\"description\":\"%s\",",
                           auto_backup ? "auto metadata backup" : "manual metadata backup");
    append_member_str(b, "status", bs->status);
    g_string_append_printf(b, "\"instance_id\":\"%s\",", in->id);
    append_member_str(b, "instance_name", bs->inst_name ? bs->inst_name : name_text(&in->name));
    g_string_append_printf(b, "\"instance_status\":\"%s\",\"file_size\":%u.%06u,",
                           in->status ? "normal" : "deleted", (guint)rng_below(r, 100),
                           (guint)rng_below(r, 1000000));
    g_string_append_printf(b, "\"created\":\"%s\",", created);
    /* A backup still being made has no "updated" at all here (TaurusDB and GeminiDB send
     * an empty string instead), so clients see both shapes. */
    if (bs->end >= 0) {
        fmt_iso(updated, sizeof updated, bs->end, 0, TRUE);
        g_string_append_printf(b, "\"updated\":\"%s\",", updated);
    }
    g_string_append_printf(b, "\"backup_type\":\"%s\"}",
                           auto_backup ? "auto_metadata" : "metadata");
}

static const char *const id_suffix[SIM_N_SERVICES][2] = {{"in07", "br07"}, {"in06", "br06"},
                                                         {"in09", "br09"}, {"in01", "br01"},
                                                         {"in02", "br02"}, {"in14", "br14"}};

static void add_backup(Gen *g, SimProject *proj, SimService s, const Inst *in, const BackupSpec *bs,
                       Rng *r)
{
    SimServiceData *d = &proj->svc[s];
    char id[64], hex[33];
    GArray *list = (s == SIM_GEMINIDB && bs->table) ? d->table_backups : d->backups;

    if (bs->id) {
        g_strlcpy(id, bs->id, sizeof id);
    } else {
        rng_hex(r, hex, 32);
        g_snprintf(id, sizeof id, "%s%s", hex, id_suffix[s][1]);
    }
    g_string_truncate(g->b, 0);
    if (s == SIM_TAURUSDB && in->status == NULL) {
        /* A deleted TaurusDB instance's manual backups live on in the project-wide list
         * only. */
        gen_taurus_project_backup(g, in, bs, id, TRUE);
        sim_fleet_add_record(g->f, d->project_backups, g->b->str, g->b->len, id, in->id,
                             G_MININT64);
        return;
    }
    if (s == SIM_TAURUSDB)
        taurus_backup(g, in, bs, id, r);
    else if (s == SIM_GEMINIDB)
        gemini_backup(g, in, bs, id, r);
    else if (s == SIM_DDM)
        ddm_backup(g, in, bs, id, r);
    else
        gen_more_backup(g, s, in, bs, id, r);
    sim_fleet_add_record(g->f, list, g->b->str, g->b->len, id, in->id,
                         s == SIM_GEMINIDB ? bs->begin : G_MININT64);
    /* The project-wide list holds live instances' backups too (the client must not show
     * them twice): one in three, manual or auto, so backup_type=manual matters. */
    if (s == SIM_TAURUSDB && bs->begin % 3 == 0) {
        g_string_truncate(g->b, 0);
        gen_taurus_project_backup(g, in, bs, id, bs->begin % 2 == 0);
        sim_fleet_add_record(g->f, d->project_backups, g->b->str, g->b->len, id, in->id,
                             G_MININT64);
    }
}

static const char *plain_status(SimService s, guint k)
{
    /* Mostly successful, one in 17 failed: a plain fleet still shows more than one status. */
    if (k % 17 == 16)
        return s == SIM_DDM ? "abnormal" : "FAILED";
    return s == SIM_DDM ? "normal" : "COMPLETED";
}

/* n plain backups spread over 2025-2026, strictly increasing in time (so their
 * time-stamped names are unique within the instance). */
static void add_plain_backups(Gen *g, SimProject *proj, SimService s, const Inst *in, guint n,
                              Rng *r)
{
    gint64 step = MAX((gint64)1, (T_2027 - T_2025 - 7200) / ((gint64)n + 1));
    char stamp[20], name[600];

    for (guint k = 0; k < n; k++) {
        BackupSpec bs = {.status = plain_status(s, k), .table = (s == SIM_GEMINIDB && k % 5 == 4)};

        bs.begin = T_2025 + (gint64)k * step + (gint64)rng_below(r, (guint64)step);
        bs.end = bs.begin + 60 + (gint64)rng_below(r, 3600);
        fmt_compact(stamp, sizeof stamp, bs.begin, s == SIM_TAURUSDB ? in->zone->offset : 0);
        if (s == SIM_GEMINIDB)
            g_snprintf(name, sizeof name, "backup_%s", stamp);
        else
            g_snprintf(name, sizeof name, "%s-%s",
                       in->name.kind == NAME_STRING && *in->name.text ? in->name.text : "backup",
                       stamp);
        bs.name = (Name){NAME_STRING, name};
        add_backup(g, proj, s, in, &bs, r);
    }
}

static void add_instance(Gen *g, SimProject *proj, SimService s, Inst *in, Rng *r)
{
    g_string_truncate(g->b, 0);
    if (s == SIM_TAURUSDB)
        taurus_instance(g, in, r);
    else if (s == SIM_GEMINIDB)
        gemini_instance(g, in, r);
    else if (s == SIM_DDM)
        ddm_instance(g, in, r, proj->id);
    else
        gen_more_instance(g, s, in, r);
    sim_fleet_add_record(g->f, proj->svc[s].instances, g->b->str, g->b->len, in->id, NULL,
                         G_MININT64);
}

static const char *const inst_statuses[SIM_N_SERVICES][6] = {
    {"ACTIVE", "FAILED", "BACKING UP", "FROZEN", "BUILD", "MODIFYING"},
    {"normal", "abnormal", "creating", "frozen", "data_disk_full", "normal"},
    {"RUNNING", "ABNORMAL", "CREATING", "FROZEN", "RUNNING", "RUNNING"},
    {"ACTIVE", "FAILED", "BACKING UP", "FROZEN", "BUILD", "REBOOTING"},
    {"normal", "abnormal", "creating", "frozen", "data_disk_full", "normal"},
    {"ACTIVE", "FAILED", "BACKING UP", "FROZEN", "BUILD", "MODIFYING"},
};

/* An instance of service s: random id (unless id is given), zone and datastore. */
static void make_inst(Inst *in, SimService s, const char *region, const Name *name,
                      const char *status, const char *id, Rng *r)
{
    char hex[33];

    memset(in, 0, sizeof *in);
    rng_hex(r, hex, 32);
    if (id)
        g_strlcpy(in->id, id, sizeof in->id);
    else
        g_snprintf(in->id, sizeof in->id, "%s%s", hex, id_suffix[s][0]);
    in->name = *name;
    in->region = region;
    in->zone = &taurus_zones[rng_below(r, G_N_ELEMENTS(taurus_zones))];
    in->gds = gemini_types[rng_below(r, G_N_ELEMENTS(gemini_types))];
    in->status = status;
    in->created = T_2022 + (gint64)rng_below(r, T_2025 - T_2022);
}

static void add_plain_instances(Gen *g, SimProject *proj, guint pi, const char *region, guint count,
                                guint backups)
{
    static const char *const prefix[SIM_N_SERVICES] = {"gaussdb-mysql", "nosql", "ddm",
                                                       "rds",           "dds",   "opengauss"};

    for (int s = 0; s < SIM_N_SERVICES; s++) {
        for (guint i = 0; i < count; i++) {
            Rng r = rng_stream(g->p->seed, pi, (guint64)s + 1, (guint64)i + 1);
            char name[64];
            Inst in;

            make_inst(&in, s, region, &(Name){NAME_STRING, ""}, inst_statuses[s][0], NULL, &r);
            if (s == SIM_GEMINIDB)
                g_snprintf(name, sizeof name, "%s-%s-%03u", prefix[s], in.gds[0], i + 1);
            else
                g_snprintf(name, sizeof name, "%s-%03u", prefix[s], i + 1);
            in.name = (Name){NAME_STRING, name};
            add_instance(g, proj, s, &in, &r);
            add_plain_backups(g, proj, s, &in, backups, &r);
        }
    }
}

/* ----- extras ----- */

typedef struct {
    const char *json; /* compact */
    gsize len;
    char *id, *instance_id, *instance_name, *begin_time;
} SeedRecord;

static char *member_string(json_object *o, const char *key)
{
    json_object *v;

    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return g_strdup(json_object_get_string(v));
    return NULL;
}

/* Feeds each element of the seed document's "backups" array to the fleet, verbatim. */
static gboolean add_seed_records(Gen *g, GArray *list, const char *doc, const char *what,
                                 char **instance_id, char **instance_name, GError **error)
{
    json_object *root = json_tokener_parse(doc), *arr;

    if (!root || !json_object_object_get_ex(root, "backups", &arr) ||
        !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "embedded seed document %s has no backups array", what);
        json_object_put(root);
        return FALSE;
    }
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *rec = json_object_array_get_idx(arr, i);
        g_autofree char *id = member_string(rec, "id");
        g_autofree char *iid = member_string(rec, "instance_id");
        g_autofree char *begin_text = member_string(rec, "begin_time");
        gint64 begin = G_MININT64;
        size_t len;
        const char *text = json_object_to_json_string_length(
            rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

        if (begin_text && !sim_parse_time(begin_text, &begin))
            begin = G_MININT64;
        sim_fleet_add_record(g->f, list, text, len, id, iid, begin);
        if (i == 0 && instance_id)
            *instance_id = g_strdup(iid);
        if (i == 0 && instance_name)
            *instance_name = member_string(rec, "instance_name");
    }
    json_object_put(root);
    return TRUE;
}

/* The seed's own instance, holding the seed record (TaurusDB seed 000, DDM seed 002). */
static gboolean add_seed_instance(Gen *g, SimProject *proj, SimService s, const char *region,
                                  const char *doc, Rng *r, GError **error)
{
    g_autofree char *iid = NULL, *iname = NULL;
    g_autoptr(GArray) tmp = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    Inst in;

    /* Read the seed first to learn its instance; the instance is listed before it. */
    if (!add_seed_records(g, tmp, doc, sim_service_names[s], &iid, &iname, error))
        return FALSE;
    make_inst(&in, s, region, &(Name){NAME_STRING, iname ? iname : ""}, inst_statuses[s][0], iid,
              r);
    in.zone = &taurus_zones[0]; /* seed 000 says UTC+08:00 */
    add_instance(g, proj, s, &in, r);
    g_array_append_vals(proj->svc[s].backups, tmp->data, tmp->len);
    return TRUE;
}

static const char *const mixed_statuses[SIM_N_SERVICES][4] = {
    {"COMPLETED", "FAILED", "BUILDING", "DELETING"},
    {"COMPLETED", "FAILED", "BUILDING", "DELETING"},
    {"normal", "abnormal", "creating", "deleting"},
    {"COMPLETED", "FAILED", "BUILDING", "DELETING"},
    {"COMPLETED", "FAILED", "BUILDING", "DELETING"},
    {"COMPLETED", "FAILED", "BUILDING", "COMPLETED"},
};

/* One instance whose backups carry every awkward name, then one backup per status (the
 * third status is the unfinished one: no finish time). */
static void add_mixed_backups_instance(Gen *g, SimProject *proj, SimService s, const char *region,
                                       Rng *r)
{
    Inst in;
    gint64 t = T_2025 + 86400 * 40;

    make_inst(&in, s, region, &(Name){NAME_STRING, "mixed-backups"}, inst_statuses[s][0], NULL, r);
    add_instance(g, proj, s, &in, r);
    for (guint k = 0; k < N_AWKWARD; k++, t += 86400 * 9) {
        BackupSpec bs = {
            .name = g->awkward[k], .status = mixed_statuses[s][0], .begin = t, .end = t + 300};
        add_backup(g, proj, s, &in, &bs, r);
    }
    for (guint k = 0; k < 4; k++, t += 86400 * 11) {
        char name[40];
        BackupSpec bs = {.status = mixed_statuses[s][k],
                         .begin = t,
                         .end = k == 2 ? -1 : t + 600,
                         .table = (s == SIM_GEMINIDB && k == 1)};

        g_snprintf(name, sizeof name, "status-%s", mixed_statuses[s][k]);
        bs.name = (Name){NAME_STRING, name};
        add_backup(g, proj, s, &in, &bs, r);
    }
}

/* One instance per awkward name (so "twin" twice: two instances with one name), one
 * backup each; then an instance without backups. */
static void add_awkward_instances(Gen *g, SimProject *proj, SimService s, const char *region,
                                  Rng *r)
{
    Inst in;

    for (guint k = 0; k < N_AWKWARD; k++) {
        make_inst(&in, s, region, &g->awkward[k], inst_statuses[s][k % 6], NULL, r);
        add_instance(g, proj, s, &in, r);
        add_plain_backups(g, proj, s, &in, 1, r);
    }
    make_inst(&in, s, region, &(Name){NAME_STRING, "empty-instance"}, inst_statuses[s][0], NULL, r);
    add_instance(g, proj, s, &in, r);
}

/* Backups whose instance is gone (every service but RDS; TaurusDB's are in its project-wide
 * list, as manual backups outlive the instance there): two deleted instances sharing one
 * instance_name, and one deleted instance whose backups carry different names — the
 * latest finished wins, and of the two finished last the greater id ("renamed-final"). */
static void add_deleted_instances(Gen *g, SimProject *proj, SimService s, const char *region,
                                  Rng *r)
{
    static const char *const renamed[] = {"renamed-old", "renamed-new", "renamed-final"};
    char hex[33], ids[2][64];
    gint64 t = T_2025 + 86400 * 200;
    Inst in;

    for (guint k = 0; k < 2; k++) {
        make_inst(&in, s, region, &(Name){NAME_STRING, "deleted-twin"}, NULL, NULL, r);
        add_plain_backups(g, proj, s, &in, 2, r);
    }
    make_inst(&in, s, region, &(Name){NAME_STRING, "renamed-new"}, NULL, NULL, r);
    rng_hex(r, hex, 31);
    for (guint k = 0; k < 2; k++)
        g_snprintf(ids[k], sizeof ids[k], "%s%u%s", hex, k + 1, id_suffix[s][1]);
    /* Listed final, old, new: neither "first seen" nor "last seen" picks the right name,
     * and on the tie only the id decides. */
    for (guint j = 0; j < 3; j++) {
        guint k = (j + 2) % 3;
        BackupSpec bs = {.name = {NAME_STRING, renamed[k]},
                         .status = mixed_statuses[s][0],
                         .begin = t + (k ? 86400 * 30 : 0),
                         .inst_name = renamed[k],
                         .id = k ? ids[k - 1] : NULL};

        bs.end = bs.begin + 120;
        add_backup(g, proj, s, &in, &bs, r);
    }
}

static gboolean add_extras(Gen *g, SimProject *proj, const char *region, GError **error)
{
    for (int s = 0; s < SIM_N_SERVICES; s++) {
        /* Its own streams, apart from the plain instances' (seed, project, s + 1, i + 1). */
        Rng r = rng_stream(g->p->seed, 0, (guint64)s + 101, 0);

        if (s == SIM_TAURUSDB &&
            !add_seed_instance(g, proj, s, region, sim_seed_taurusdb, &r, error))
            return FALSE;
        if (s == SIM_DDM && !add_seed_instance(g, proj, s, region, sim_seed_ddm, &r, error))
            return FALSE;
        /* Seed 001's two backups name instances that are not listed: deleted, sharing
         * one instance_name, as in the seed. */
        if (s == SIM_GEMINIDB && !add_seed_records(g, proj->svc[s].table_backups, sim_seed_geminidb,
                                                   "geminidb", NULL, NULL, error))
            return FALSE;
        add_mixed_backups_instance(g, proj, s, region, &r);
        add_awkward_instances(g, proj, s, region, &r);
        /* RDS lists backups per instance only: a deleted RDS instance cannot be shown. */
        if (s != SIM_RDS)
            add_deleted_instances(g, proj, s, region, &r);
    }
    return TRUE;
}

/* ----- projects ----- */

static SimProject *add_project(Gen *g, const char *id, const char *name, const char *parent,
                               const char *description, gboolean has_services)
{
    g_autoptr(GString) rec = g_string_new("{");

    append_member_str(rec, "id", id);
    append_member_str(rec, "name", name);
    append_member_str(rec, "domain_id", g->f->domain_id);
    append_member_str(rec, "parent_id", parent);
    g_string_append(rec, "\"is_domain\":false,\"enabled\":true,");
    append_member_str(rec, "description", description);
    g_string_append_printf(
        rec, "\"links\":{\"self\":\"https://iam.myhuaweicloud.com/v3/projects/%s\"}}", id);
    return sim_fleet_add_project(g->f, rec->str, id, name, NULL, has_services);
}

static void project_name(guint i, char *out, gsize n)
{
    guint nr = G_N_ELEMENTS(regions);

    if (i < nr) {
        g_strlcpy(out, regions[i], n);
    } else {
        guint k = (i - nr) / nr;

        if (k < G_N_ELEMENTS(sub_suffixes))
            g_snprintf(out, n, "%s_%s", regions[(i - nr) % nr], sub_suffixes[k]);
        else
            g_snprintf(out, n, "%s_p%u", regions[(i - nr) % nr], k);
    }
}

static void init_awkward(Gen *g)
{
    /* "ab€" is 5 bytes: cuts at 255 bytes minus a suffix land anywhere in a character. */
    g->long_a[0] = '\0';
    for (int i = 0; i < 59; i++)
        g_strlcat(g->long_a, "ab\u20ac", sizeof g->long_a);
    strcpy(g->long_b, g->long_a);
    g_strlcat(g->long_a, "AAAAA", sizeof g->long_a);
    g_strlcat(g->long_b, "BBBBB", sizeof g->long_b);
    memcpy(g->awkward, awkward_template, sizeof g->awkward);
    g->awkward[AWK_LONG_A].text = g->long_a;
    g->awkward[AWK_LONG_B].text = g->long_b;
}

SimFleet *sim_fleet_generate(const SimGenParams *p, GError **error)
{
    g_autoptr(SimFleet) f = sim_fleet_new(p->ak, p->sk, p->domain_id);
    g_autoptr(GString) b = g_string_sized_new(2048);
    Gen g = {.p = p, .f = f, .b = b};
    char(*ids)[33] = g_malloc0_n(p->projects + 2, 33);
    gboolean ok = FALSE;

    init_awkward(&g);
    for (guint i = 0; i < p->projects + 2; i++) {
        Rng r = rng_stream(p->seed, i, 0, 0);

        rng_hex(&r, ids[i], 32);
    }
    for (guint i = 0; i < p->projects; i++) {
        char name[64];
        guint nr = G_N_ELEMENTS(regions);
        /* A sub-project's parent is its region's project, listed before it. */
        const char *parent = i >= nr ? ids[(i - nr) % nr] : f->domain_id;
        SimProject *proj;

        project_name(i, name, sizeof name);
        proj = add_project(&g, ids[i], name, parent, "", TRUE);
        if (i == 0 && p->extras && !add_extras(&g, proj, regions[0], error))
            goto out;
        add_plain_instances(&g, proj, i, regions[i % nr], p->instances, p->backups);
    }
    if (p->extras) {
        SimProject *proj = add_project(&g, ids[p->projects], "", f->domain_id, "", TRUE);

        add_plain_instances(&g, proj, p->projects, regions[0], 1, 2);
    }
    /* IAM's own project: listed like the others, but holds no databases. */
    add_project(&g, ids[p->projects + 1], "MOS", f->domain_id, "MOS", FALSE);
    ok = sim_fleet_finish(f, error);
out:
    g_free(ids);
    return ok ? g_steal_pointer(&f) : NULL;
}
