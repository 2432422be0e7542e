/*
 * cloudsim — the fleet: the ground truth the simulator serves.
 *
 * A fleet is immutable once built.  Every raw record (IAM project, instance, backup) is
 * kept as compact JSON text in one GStringChunk, next to the few index fields the routes
 * need, so a page is served by concatenating texts and the truth (/_sim/fleet) is the very
 * same bytes as what the API served.  Replacing the fleet at run time swaps the whole
 * object (see server.h), so readers never see a half-built one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SIM_TAURUSDB,
    SIM_GEMINIDB,
    SIM_DDM,
    SIM_RDS,
    SIM_DDS,
    SIM_GAUSSDB,
    SIM_N_SERVICES,
} SimService;

/* "taurusdb", "geminidb", "ddm", "rds", "dds", "gaussdb" — the fleet document's member
 * names and path prefixes. */
extern const char *const sim_service_names[SIM_N_SERVICES];

typedef struct {
    const char *json;        /* compact JSON text, in the fleet's string chunk */
    guint32 len;             /* strlen(json) */
    const char *id;          /* the record's "id" as text; NULL when it has none */
    const char *instance_id; /* backups: "instance_id" as text; NULL when absent */
    gint64 begin;            /* GeminiDB backups: begin_time (epoch s), else G_MININT64 */
} SimRecord;

typedef struct {
    GArray *instances;           /* SimRecord, in served order */
    GArray *backups;             /* SimRecord; for GeminiDB the type=Instance list */
    GArray *table_backups;       /* SimRecord; GeminiDB type=DatabaseTable, empty elsewhere */
    GArray *project_backups;     /* SimRecord; TaurusDB's project-wide list, empty elsewhere */
    GHashTable *instances_by_id; /* instance id -> SimRecord* into instances */
    GHashTable *by_instance;     /* TaurusDB, RDS: instance id -> GPtrArray of SimRecord* */
} SimServiceData;

typedef struct {
    const char *id;     /* in the string chunk */
    const char *name;   /* "" when the record has none */
    const char *record; /* the IAM project object as served */
    guint32 record_len;
    const char *token;     /* X-Auth-Token valid for this project */
    gboolean has_services; /* FALSE for IAM's MOS project: no service members */
    SimServiceData svc[SIM_N_SERVICES];
} SimProject;

typedef struct {
    char *ak;
    char *sk;
    char *domain_id;
    GStringChunk *text;   /* every JSON text and index string */
    GPtrArray *projects;  /* SimProject*, in IAM order */
    GHashTable *by_id;    /* project id -> SimProject* */
    GHashTable *by_token; /* token -> SimProject* */
    guint64 n_instances;
    guint64 n_backups;
} SimFleet;

/* IAM password authentication (POST /iam/v3/auth/tokens): the one user of the account. */
#define SIM_IAM_USER     "simuser"
#define SIM_IAM_PASSWORD "sim-Passw0rd!"
#define SIM_IAM_DOMAIN   "simaccount"

/* Default credentials (the domain id is 32 characters, like Huawei's). */
#define SIM_DEFAULT_AK        "AKSIMULATOR00000000000"
#define SIM_DEFAULT_SK        "SKsimulator00000000000000000000000000000"
#define SIM_DEFAULT_DOMAIN_ID "simdomain0000000000000000000000000"

/* --- building (fleet.c) --- */
SimFleet *sim_fleet_new(const char *ak, const char *sk, const char *domain_id);
void sim_fleet_free(SimFleet *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimFleet, sim_fleet_free)

/* Adds a project; the strings are copied.  token NULL means "simtoken-<id>". */
SimProject *sim_fleet_add_project(SimFleet *f, const char *record, const char *id, const char *name,
                                  const char *token, gboolean has_services);
/* Appends a record (json copied into the fleet).  id / instance_id may be NULL. */
void sim_fleet_add_record(SimFleet *f, GArray *list, const char *json, gsize len, const char *id,
                          const char *instance_id, gint64 begin);
/* Builds the lookup indexes.  Fails on a duplicate project id or token. */
gboolean sim_fleet_finish(SimFleet *f, GError **error);

/* --- the fleet document (fleet.c) --- */
SimFleet *sim_fleet_load(const char *doc, gsize len, GError **error);
SimFleet *sim_fleet_load_file(const char *path, GError **error);
GString *sim_fleet_dump(const SimFleet *f);
gboolean sim_fleet_dump_file(const SimFleet *f, const char *path, GError **error);

/* --- generation (gen.c) --- */
typedef struct {
    guint64 seed;
    guint projects;  /* generated projects, MOS and the extras' empty-named one not included */
    guint instances; /* per service per project */
    guint backups;   /* per instance */
    gboolean extras; /* seed records, awkward names, deleted instances, ... */
    const char *ak, *sk, *domain_id;
} SimGenParams;

SimFleet *sim_fleet_generate(const SimGenParams *p, GError **error);

/* Writers of the records of rds, dds, gaussdb and TaurusDB's project-wide list
 * (gen_more.c; see gen_internal.h). */

/* --- embedded seed documents (generated seeds.c) --- */
extern const char sim_seed_taurusdb[]; /* seed 000 */
extern const char sim_seed_geminidb[]; /* seed 001 */
extern const char sim_seed_ddm[];      /* seed 002 */

/* --- small helpers (fleet.c) --- */
/* Appends s as a JSON string: quotes, \" \\ and control bytes escaped, UTF-8 kept raw. */
void sim_json_append_string(GString *out, const char *s);
/* Lenient "YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±hh[:]mm]" (no zone = UTC) to epoch seconds. */
gboolean sim_parse_time(const char *s, gint64 *out);

G_END_DECLS
