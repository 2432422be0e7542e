/*
 * cloudsim — the HTTP side: one libmicrohttpd daemon, thread per connection.
 *
 * Promises: every API request is counted and logged (route, path, query, status, fault)
 * the moment it arrives, faults are drawn per request from one seeded RNG, the fleet is
 * read under a GRWLock and replaced atomically, and control routes (/_sim/...) are never
 * faulted, counted or authenticated.
 */
#pragma once

#include "sim.h"

#include <microhttpd.h>

G_BEGIN_DECLS

typedef struct SimTokens SimTokens;

typedef enum {
    SIM_ROUTE_IAM_PROJECTS,
    SIM_ROUTE_TAURUSDB_INSTANCES,
    SIM_ROUTE_TAURUSDB_BACKUPS,
    SIM_ROUTE_GEMINIDB_INSTANCES,
    SIM_ROUTE_GEMINIDB_BACKUPS,
    SIM_ROUTE_DDM_INSTANCES,
    SIM_ROUTE_DDM_BACKUPS,
    SIM_ROUTE_TAURUSDB_PROJECT_BACKUPS,
    SIM_ROUTE_RDS_INSTANCES,
    SIM_ROUTE_RDS_BACKUPS,
    SIM_ROUTE_DDS_INSTANCES,
    SIM_ROUTE_DDS_BACKUPS,
    SIM_ROUTE_GAUSSDB_INSTANCES,
    SIM_ROUTE_GAUSSDB_BACKUPS,
    SIM_ROUTE_IAM_TOKENS, /* POST */
    SIM_ROUTE_UNKNOWN,
    SIM_N_ROUTES,
} SimRoute;

/* "iam.projects", "taurusdb.instances", ... "unknown": the names /_sim/counts uses. */
extern const char *const sim_route_names[SIM_N_ROUTES];

typedef enum {
    SIM_FAULT_NONE = -1,
    SIM_FAULT_LATENCY,
    SIM_FAULT_OUTAGE,
    SIM_FAULT_ERROR,
    SIM_FAULT_THROTTLE,
    SIM_FAULT_RESET,
    SIM_FAULT_TRUNCATE,
    SIM_N_FAULTS,
} SimFaultKind;

extern const char *const sim_fault_names[SIM_N_FAULTS];

typedef struct {
    gint latency_ms;
    gdouble error_rate;
    gdouble throttle_rate;
    gdouble reset_rate;
    gdouble truncate_rate;
    gint retry_after; /* seconds, sent in Retry-After with every 429 */
    gboolean outage;
} SimFaults;

typedef struct {
    const char *bind;         /* IPv4 or IPv6 literal */
    guint port;               /* 0: any free port */
    gboolean ddm_page_offset; /* DDM reads offset as a 0-based page number */
    gboolean quiet;
    gint token_lifetime; /* seconds a password token lives (0: 24 h) */
    guint64 fault_seed;
    SimFaults faults;
} SimConfig;

typedef struct {
    guint64 seq; /* G_MAXUINT64: empty slot */
    SimRoute route;
    int status; /* -1 while in flight, 0 when the connection was reset */
    SimFaultKind fault;
    char *path;
    char *query;
} SimLogEntry;

#define SIM_LOG_CAPACITY 200000

typedef struct SimMisbehave SimMisbehave;

typedef struct {
    SimConfig cfg;
    SimMisbehave *misbehave; /* misbehave.c: the /_sim/misbehave settings */

    GRWLock fleet_lock; /* guards the fleet pointer and its use */
    SimFleet *fleet;

    GMutex fault_lock; /* guards faults, the RNG and truncate_flip */
    SimFaults faults;
    guint64 fault_rng;
    guint truncate_flip;

    GMutex stats_lock; /* guards everything below */
    gint64 total;
    gint64 routes[SIM_N_ROUTES];
    gint64 fault_counts[SIM_N_FAULTS];
    gint64 auth_failures;
    SimLogEntry *log; /* ring of SIM_LOG_CAPACITY, slot = seq % capacity */
    guint64 next_seq;
    guint64 log_begin; /* the first seq since the last reset */

    SimTokens *tokens; /* IAM password tokens issued (tokens.c) */

    gint request_ids; /* atomic */
    guint64 request_id_salt;
    struct MHD_Daemon *daemon;
} SimServer;

/* A response about to be sent: status and body (owned). */
typedef struct {
    guint status;
    GString *body;
    char *subject_token; /* sent as X-Subject-Token (IAM), or NULL; owned */
} SimReply;

/* --- server.c --- */
SimServer *sim_server_start(const SimConfig *cfg, SimFleet *fleet, guint *port, GError **error);
void sim_server_stop(SimServer *srv);
/* Replaces the fleet atomically and frees the old one. */
void sim_server_replace_fleet(SimServer *srv, SimFleet *fleet);
void sim_reply_set(SimReply *r, guint status, const char *body);
void sim_reply_error(SimReply *r, guint status, const char *code, const char *msg);

/* --- stats (server.c) --- */
GString *sim_stats_counts_json(SimServer *srv);
GString *sim_stats_requests_json(SimServer *srv);
void sim_stats_reset(SimServer *srv);
GString *sim_faults_json(SimServer *srv);

/* --- routes.c: the API --- */
typedef struct {
    SimRoute route;
    char *project_id;  /* NULL for IAM */
    char *instance_id; /* TaurusDB backups only */
} SimRouteMatch;

void sim_route_match(const char *method, const char *path, SimRouteMatch *m);
void sim_route_match_clear(SimRouteMatch *m);
/* Authenticates and answers one API request; never a fault. */
void sim_api_serve(SimServer *srv, struct MHD_Connection *c, const SimRouteMatch *m,
                   const char *method, const char *path, const GByteArray *body, SimReply *out);

/* --- auth.c --- */
typedef enum {
    SIM_AUTH_OK,
    SIM_AUTH_BAD_SIGNATURE, /* no credential, or an AK/SK signature that does not verify */
    SIM_AUTH_BAD_TOKEN,     /* unknown token, or one of another project */
    SIM_AUTH_EXPIRED_TOKEN, /* an issued token past its expires_at */
} SimAuthResult;

/* path_project_id NULL: any valid credential will do (IAM).  A token is valid for its own
 * project, and for a project id the fleet does not know (that answers 404 afterwards). */
SimAuthResult sim_auth_check(const SimFleet *f, struct MHD_Connection *c, const char *method,
                             const char *path, const GByteArray *body, const char *path_project_id,
                             gint64 now);

/* --- misbehave.c --- */
SimMisbehave *sim_misbehave_new(void);
void sim_misbehave_free(SimMisbehave *m);
/* GET/POST /_sim/misbehave. */
void sim_misbehave_control(SimServer *srv, const char *method, const GByteArray *body,
                           SimReply *out);
/* Rewrites a 200 reply as the settings say; *response, when set, is sent instead of the
 * reply's body (streams, redirects).  TRUE when it misbehaved. */
gboolean sim_misbehave_apply(SimServer *srv, struct MHD_Connection *c, SimRoute route, SimReply *r,
                             struct MHD_Response **response);
/* --- tokens.c: IAM password authentication --- */
SimTokens *sim_tokens_new(gint lifetime);
void sim_tokens_free(SimTokens *t);
/* POST /iam/v3/auth/tokens: 201 with X-Subject-Token for the fleet's IAM user, scoped to a
 * project (by id or name) or to the domain; 400/401 otherwise. */
void sim_tokens_serve(SimServer *srv, const SimFleet *f, const GByteArray *body, SimReply *out);
/* A token this server issued: SIM_AUTH_OK when valid for path_project_id (NULL: IAM, any
 * scope), SIM_AUTH_EXPIRED_TOKEN or SIM_AUTH_BAD_TOKEN otherwise.  *issued FALSE: not one of
 * ours (the fleet's checks apply). */
SimAuthResult sim_tokens_check(SimTokens *t, const char *token, const char *path_project_id,
                               gboolean *issued);
/* {"lifetime":s,"issued":{"<project id>"|"domain":n}} — tokens issued per scope. */
GString *sim_tokens_json(SimTokens *t);
/* Sets the lifetime of tokens issued from now on. */
void sim_tokens_set_lifetime(SimTokens *t, gint lifetime);
/* Forgets every token issued (as a password change does): each answers 401 from now on. */
void sim_tokens_revoke(SimTokens *t);

/* --- control.c --- */
/* Answers a /_sim request. */
void sim_control_serve(SimServer *srv, const char *method, const char *path, const GByteArray *body,
                       gboolean body_too_large, SimReply *out);

G_END_DECLS
