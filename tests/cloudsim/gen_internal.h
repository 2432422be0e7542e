/*
 * cloudsim — what gen.c shares with the record writers of the later services
 * (gen_more.c): the random streams, names, times and the generator's state.
 */
#pragma once

#include "sim.h"

G_BEGIN_DECLS

typedef struct {
    guint64 s;
} Rng;

typedef enum {
    NAME_STRING,
    NAME_NUMBER,  /* "name":20260101 */
    NAME_MISSING, /* no "name" member at all */
} NameKind;

typedef struct {
    NameKind kind;
    const char *text;
} Name;

enum { AWK_LONG_A = 13, AWK_LONG_B = 14, N_AWKWARD = 15 };

typedef struct {
    const char *label;
    int offset;
} Zone;

typedef struct {
    const SimGenParams *p;
    SimFleet *f;
    GString *b; /* the record being written */
    Name awkward[N_AWKWARD];
    char long_a[301], long_b[301];
} Gen;

typedef struct {
    char id[64];
    Name name;
    const char *region;
    const Zone *zone;       /* TaurusDB */
    const char *const *gds; /* GeminiDB datastore row */
    const char *status;     /* NULL: a deleted instance (it is not listed) */
    gint64 created;
} Inst;

typedef struct {
    Name name;
    const char *status;
    gint64 begin;
    gint64 end;            /* < 0: not finished, no finish time */
    gboolean table;        /* GeminiDB: a DatabaseTable backup */
    const char *inst_name; /* instance_name carried; NULL: the instance's */
    const char *id;        /* NULL: random */
} BackupSpec;

#define T_2022 1640995200 /* 2022-01-01T00:00:00Z */
#define T_2025 1735689600 /* 2025-01-01T00:00:00Z */
#define T_2027 1798761600 /* 2027-01-01T00:00:00Z */

/* gen.c */
guint64 rng_next(Rng *r);
guint64 rng_below(Rng *r, guint64 n);
/* n lower-case hex digits and a NUL. */
void rng_hex(Rng *r, char *out, int n);
void rng_uuid(Rng *r, char out[37]);
/* The text a backup carries as instance_name for an instance of this name. */
const char *name_text(const Name *n);
/* Appends `"name":<value>,` unless the name is missing. */
void append_name(GString *b, const Name *n);
void append_member_str(GString *b, const char *key, const char *value);
/* "YYYY-MM-DD HH:MM:SS" of local time t+offset. */
void fmt_local(char *out, gsize n, gint64 t, int offset);
/* "YYYY-MM-DDTHH:MM:SS+hhmm" or, with zone FALSE, no zone at all. */
void fmt_iso(char *out, gsize n, gint64 t, int offset, gboolean zone);

/* gen_more.c: one record of RDS, DDS or GaussDB into g->b. */
void gen_more_instance(Gen *g, SimService s, const Inst *in, Rng *r);
void gen_more_backup(Gen *g, SimService s, const Inst *in, const BackupSpec *bs, const char *id,
                     Rng *r);
/* A record of TaurusDB's project-wide list (reference §2.3) into g->b; manual or auto.  It
 * draws from a stream of its own (from the id), so mirroring a backup there leaves the
 * instance's stream, and every id generated after it, as they were. */
void gen_taurus_project_backup(Gen *g, const Inst *in, const BackupSpec *bs, const char *id,
                               gboolean manual);

G_END_DECLS
