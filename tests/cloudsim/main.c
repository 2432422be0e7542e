/*
 * cloudsim — Huawei Cloud (IAM, TaurusDB, GeminiDB, DDM, RDS, DDS, GaussDB) on 127.0.0.1, for
 * dbbackupfs's tests, benchmarks and demo.  This file: the command line, the fleet's origin
 * (generated or loaded), start-up and a clean exit on SIGINT/SIGTERM.
 */
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char summary[] =
    "Plays Huawei Cloud for dbbackupfs under the path prefixes /iam, /taurusdb, /geminidb,\n"
    "/ddm, /rds, /dds and /gaussdb, so endpoint=http://127.0.0.1:PORT/{service} reaches it.  When "
    "ready it prints one\n"
    "line, \"cloudsim listening on http://ADDR:PORT\", and serves until SIGINT or SIGTERM.";

static const char description[] =
    "API routes (every response: Content-Type application/json and a fresh X-Request-Id):\n"
    "  GET /iam/v3/auth/projects                  {links, projects[]} incl. IAM's MOS project\n"
    "  GET /taurusdb/v3/{pid}/instances           offset, limit 1..100 (100); total_count int\n"
    "  GET /taurusdb/v3/{pid}/instances/{iid}/backups\n"
    "                                             offset, limit 1..100 (100); total_count and\n"
    "                                             every field a string (seed 000); unknown\n"
    "                                             instance: 404 DBS.200022\n"
    "  GET /geminidb/v3/{pid}/instances           offset, limit 1..100 (100)\n"
    "  GET /geminidb/v4/{pid}/backups             type=Instance|DatabaseTable (Instance),\n"
    "                                             instance_id, backup_id, begin_time+end_time\n"
    "                                             (both or neither; filter on begin_time),\n"
    "                                             offset, limit 1..100 (100); size a number\n"
    "  GET /ddm/v1/{pid}/instances                offset, limit 1..128 (10); instance_num,\n"
    "                                             page_no, page_size, total_record, total_page;\n"
    "                                             errors as {errCode, externalMessage}\n"
    "  GET /ddm/v3/{pid}/backups                  offset, limit 1..128 (10); total, offset,\n"
    "                                             limit; file_size a number\n"
    "  GET /taurusdb/v3/{pid}/backups             project-wide (reference 2.3): instance_id,\n"
    "                                             backup_type=auto|manual, offset, limit\n"
    "                                             1..100 (100); total_count int\n"
    "  GET /{rds,dds,gaussdb}/v3/{pid}/instances  offset, limit 1..100 (100); total_count int\n"
    "  GET /rds/v3/{pid}/backups                  instance_id required (400 without, 404\n"
    "                                             unknown), offset, limit 1..100 (100)\n"
    "  GET /{dds,gaussdb}/v3/{pid}/backups        project-wide, instance_id optional; offset,\n"
    "                                             limit 1..100 (100); total_count int\n"
    "  POST /iam/v3/auth/tokens                   password auth (user " SIM_IAM_USER ", password\n"
    "                                             " SIM_IAM_PASSWORD ", domain " SIM_IAM_DOMAIN
    "):\n"
    "                                             201, X-Subject-Token scoped to scope.project\n"
    "                                             (id or name) or the domain, expiring after\n"
    "                                             --token-lifetime; expired: 401\n"
    "  A bad offset or limit answers 400 {error_code, error_msg}; an unknown route 404\n"
    "  APIG.0101; an unknown project id 404 (given a valid credential).\n"
    "  With --ddm-offset page both DDM routes read offset as a 0-based page number:\n"
    "  offset=N returns items N*limit .. (N+1)*limit-1 and page_no N+1; with item (the\n"
    "  default) offset is an item index and page_no is offset/limit+1.\n"
    "\n"
    "Authentication (401 APIG.0301 otherwise, \"decrypt token fail\" for a bad token):\n"
    "  X-Auth-Token: simtoken-<project id>, valid for its own project only (IAM: any\n"
    "  project's token; an unknown project id in the path: any valid token, then 404), or\n"
    "  Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=... recomputed\n"
    "  over the received method, full path, decoded query, signed headers and body, with\n"
    "  X-Sdk-Date signed and within 15 minutes of now.  Default AK " SIM_DEFAULT_AK ",\n"
    "  SK " SIM_DEFAULT_SK ", domain id " SIM_DEFAULT_DOMAIN_ID ".\n"
    "\n"
    "Faults (API routes only; set on the command line or at run time with POST\n"
    "/_sim/faults; drawn per request from the --fault-seed RNG in this order, each only\n"
    "if none before it fired): latency sleep first; outage 503; error 500 DBS.000001;\n"
    "throttle 429 APIG.0308 with Retry-After; reset (connection closed, no response);\n"
    "truncate (a 200 whose body is cut in half, alternately: first the full\n"
    "Content-Length with the connection dying mid-body, next a matching Content-Length,\n"
    "i.e. syntactically truncated JSON).\n"
    "\n"
    "Control routes (no auth, no faults, not counted):\n"
    "  GET  /_sim/counts        {total, routes{iam.projects, taurusdb.instances,\n"
    "                           taurusdb.backups, geminidb.instances, geminidb.backups,\n"
    "                           ddm.instances, ddm.backups, unknown}, faults{latency, outage,\n"
    "                           error, throttle, reset, truncate}, auth_failures}\n"
    "  POST /_sim/counts/reset  zero the counts and the request log\n"
    "  GET  /_sim/requests      {requests:[{route, path, query, status, fault}]} in arrival\n"
    "                           order, the last 200000 (status null: in flight, 0: reset)\n"
    "  GET  /_sim/faults        current settings\n"
    "  POST /_sim/faults        any subset of {latency_ms, error_rate, throttle_rate,\n"
    "                           reset_rate, truncate_rate, retry_after, outage}\n"
    "  GET  /_sim/misbehave     misbehaving on purpose: settings, holes served, listings\n"
    "  POST /_sim/misbehave     {route, total, total_delta, total_missing, strings, page_cap,\n"
    "                           hole{offset,records,times}, oversize, gzip_bomb, drip_ms,\n"
    "                           deep, invalid_json, invalid_utf8, wide{levels,elements},\n"
    "                           redirect, change}; {} stops\n"
    "                           (see tests/cloudsim/misbehave.c)\n"
    "  GET  /_sim/tokens        {lifetime, issued{<project id>|domain: n}}: password tokens\n"
    "  POST /_sim/tokens        {lifetime}: the lifetime of tokens issued from now on;\n"
    "                           {revoke: true}: every token issued so far answers 401\n"
    "  GET  /_sim/fleet         the fleet document: the ground truth\n"
    "  POST /_sim/fleet         replace the fleet atomically with a fleet document\n"
    "\n"
    "Fleet document (--fleet, --dump-fleet, /_sim/fleet):\n"
    "  {\"credentials\":{\"ak\",\"sk\",\"domain_id\"},\n"
    "   \"projects\":[{\"record\":{IAM project as served}, \"token\":\"simtoken-<id>\",\n"
    "     \"taurusdb\":{\"instances\":[..],\"backups\":[..]},\n"
    "     \"geminidb\":{\"instances\":[..],\"backups\":[type=Instance],\"table_backups\":[..]},\n"
    "     \"ddm\":{\"instances\":[..],\"backups\":[..]}, \"rds\", \"dds\", \"gaussdb\": the same;\n"
    "     taurusdb also \"project_backups\":[..], its project-wide list}]}\n"
    "  Records are served exactly as given (re-serialised compactly), in this order.\n"
    "  --ak/--sk/--domain-id override the file's credentials.  A project without service\n"
    "  members (MOS) holds no databases.  GeminiDB/DDM backups whose instance_id is not\n"
    "  listed belong to deleted instances.\n"
    "\n"
    "Generated fleet: --projects projects named like regions (ap-southeast-1, cn-north-4,\n"
    "eu-west-101, then <region>_<suffix>), each with --instances instances per service and\n"
    "--backups backups per instance, plus MOS.  Unless --no-extras, the first project also\n"
    "holds the three seed records verbatim, awkward names ('/', spaces, unicode, duplicates,\n"
    "'..', '.', empty, missing, numeric, control characters, 300 bytes), mixed statuses, an\n"
    "unfinished backup, an instance without backups and backups of deleted instances; and a\n"
    "project with an empty name is added.";

typedef struct {
    char *bind;
    gint port;
    gint64 seed;
    gint projects, instances, backups;
    gboolean no_extras;
    char *fleet_file, *dump_file;
    char *ak, *sk, *domain_id;
    char *ddm_offset;
    gint latency_ms;
    gdouble error_rate, throttle_rate, reset_rate, truncate_rate;
    gint retry_after;
    gboolean outage;
    gint64 fault_seed;
    gboolean quiet;
    gint token_lifetime;
} Options;

static void options_clear(Options *o)
{
    g_free(o->bind);
    g_free(o->fleet_file);
    g_free(o->dump_file);
    g_free(o->ak);
    g_free(o->sk);
    g_free(o->domain_id);
    g_free(o->ddm_offset);
}

static gboolean parse_options(int *argc, char ***argv, Options *o, GError **error)
{
    const GOptionEntry entries[] = {
        {"bind", 0, 0, G_OPTION_ARG_STRING, &o->bind, "Address to listen on (127.0.0.1)", "ADDR"},
        {"port", 0, 0, G_OPTION_ARG_INT, &o->port, "Port; 0 picks a free one (0)", "N"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "Seed of the generated fleet (1)", "N"},
        {"projects", 0, 0, G_OPTION_ARG_INT, &o->projects, "Generated projects (2)", "N"},
        {"instances", 0, 0, G_OPTION_ARG_INT, &o->instances,
         "Instances per service per project (3)", "N"},
        {"backups", 0, 0, G_OPTION_ARG_INT, &o->backups, "Backups per instance (5)", "N"},
        {"no-extras", 0, 0, G_OPTION_ARG_NONE, &o->no_extras,
         "Only plain records: projects x 6 services x instances x backups", NULL},
        {"fleet", 0, 0, G_OPTION_ARG_FILENAME, &o->fleet_file,
         "Load the fleet from a fleet document instead of generating it", "FILE"},
        {"dump-fleet", 0, 0, G_OPTION_ARG_FILENAME, &o->dump_file,
         "Write the fleet document to FILE, then serve as usual", "FILE"},
        {"ak", 0, 0, G_OPTION_ARG_STRING, &o->ak, "Access key (" SIM_DEFAULT_AK ")", "AK"},
        {"sk", 0, 0, G_OPTION_ARG_STRING, &o->sk, "Secret key (the default is in the text below)",
         "SK"},
        {"domain-id", 0, 0, G_OPTION_ARG_STRING, &o->domain_id,
         "Account (domain) id of the generated projects", "ID"},
        {"ddm-offset", 0, 0, G_OPTION_ARG_STRING, &o->ddm_offset,
         "DDM offset: item index (item, default) or 0-based page number (page)", "item|page"},
        {"latency-ms", 0, 0, G_OPTION_ARG_INT, &o->latency_ms, "Delay of every API reply (0)", "N"},
        {"error-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->error_rate, "Share of 500 replies (0)", "R"},
        {"throttle-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->throttle_rate,
         "Share of 429 APIG.0308 replies (0)", "R"},
        {"reset-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->reset_rate,
         "Share of connections closed without a reply (0)", "R"},
        {"truncate-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->truncate_rate,
         "Share of 200 replies with a truncated body (0)", "R"},
        {"retry-after", 0, 0, G_OPTION_ARG_INT, &o->retry_after,
         "Retry-After seconds sent with 429 (1)", "SECONDS"},
        {"outage", 0, 0, G_OPTION_ARG_NONE, &o->outage, "Answer every API request 503", NULL},
        {"fault-seed", 0, 0, G_OPTION_ARG_INT64, &o->fault_seed, "Seed of the fault RNG (1)", "N"},
        {"quiet", 0, 0, G_OPTION_ARG_NONE, &o->quiet, "No log line per request", NULL},
        {"token-lifetime", 0, 0, G_OPTION_ARG_INT, &o->token_lifetime,
         "Seconds an IAM password token lives (86400)", "SECONDS"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);

    g_option_context_set_summary(ctx, summary);
    g_option_context_set_description(ctx, description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    return g_option_context_parse(ctx, argc, argv, error);
}

static gboolean check_options(const Options *o, int argc, GError **error)
{
    const gdouble rates[] = {o->error_rate, o->throttle_rate, o->reset_rate, o->truncate_rate};
    const char *bad = NULL;

    if (argc > 1)
        bad = "unexpected arguments";
    else if (o->port < 0 || o->port > 65535)
        bad = "--port must be 0..65535";
    else if (o->projects < 0 || o->instances < 0 || o->backups < 0)
        bad = "--projects, --instances and --backups must be >= 0";
    else if (strcmp(o->ddm_offset, "item") != 0 && strcmp(o->ddm_offset, "page") != 0)
        bad = "--ddm-offset must be item or page";
    else if (o->latency_ms < 0 || o->retry_after < 0 || o->token_lifetime < 0)
        bad = "--latency-ms, --retry-after and --token-lifetime must be >= 0";
    for (gsize i = 0; !bad && i < G_N_ELEMENTS(rates); i++)
        if (!(rates[i] >= 0 && rates[i] <= 1))
            bad = "rates must be between 0 and 1";
    if (bad)
        g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, bad);
    return !bad;
}

static void override_credential(char **slot, const char *value)
{
    if (!value)
        return;
    g_free(*slot);
    *slot = g_strdup(value);
}

static SimFleet *make_fleet(const Options *o, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    SimFleet *f;

    if (o->fleet_file) {
        f = sim_fleet_load_file(o->fleet_file, error);
        if (f) {
            override_credential(&f->ak, o->ak);
            override_credential(&f->sk, o->sk);
            override_credential(&f->domain_id, o->domain_id);
        }
    } else {
        SimGenParams p = {
            .seed = (guint64)o->seed,
            .projects = (guint)o->projects,
            .instances = (guint)o->instances,
            .backups = (guint)o->backups,
            .extras = !o->no_extras,
            .ak = o->ak,
            .sk = o->sk,
            .domain_id = o->domain_id,
        };
        f = sim_fleet_generate(&p, error);
    }
    if (f && !o->quiet)
        g_message("fleet: %u projects, %" G_GUINT64_FORMAT " instances, %" G_GUINT64_FORMAT
                  " backups, %s in %.3f s",
                  f->projects->len, f->n_instances, f->n_backups,
                  o->fleet_file ? "loaded" : "generated",
                  (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    return f;
}

/* Blocks SIGINT and SIGTERM in every thread (MHD's threads inherit the mask), so the main
 * thread alone receives them through sigwait(). */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run(const Options *o)
{
    g_autoptr(GError) error = NULL;
    SimConfig cfg = {
        .bind = o->bind,
        .port = (guint)o->port,
        .ddm_page_offset = strcmp(o->ddm_offset, "page") == 0,
        .quiet = o->quiet,
        .token_lifetime = o->token_lifetime,
        .fault_seed = (guint64)o->fault_seed,
        .faults = {o->latency_ms, o->error_rate, o->throttle_rate, o->reset_rate, o->truncate_rate,
                   o->retry_after, o->outage},
    };
    SimFleet *fleet;
    SimServer *srv;
    sigset_t set;
    guint port;
    int sig;

    block_signals(&set);
    fleet = make_fleet(o, &error);
    if (!fleet)
        goto fail;
    if (o->dump_file && !sim_fleet_dump_file(fleet, o->dump_file, &error)) {
        sim_fleet_free(fleet);
        goto fail;
    }
    srv = sim_server_start(&cfg, fleet, &port, &error);
    if (!srv) {
        sim_fleet_free(fleet);
        goto fail;
    }
    printf("cloudsim listening on http://%s%s%s:%u\n", strchr(o->bind, ':') ? "[" : "", o->bind,
           strchr(o->bind, ':') ? "]" : "", port);
    fflush(stdout);
    sigwait(&set, &sig);
    if (!o->quiet)
        g_message("signal %d: stopping", sig);
    sim_server_stop(srv);
    return 0;
fail:
    fprintf(stderr, "cloudsim: %s\n", error->message);
    return 1;
}

int main(int argc, char **argv)
{
    Options o = {
        .seed = 1,
        .projects = 2,
        .instances = 3,
        .backups = 5,
        .retry_after = 1,
        .fault_seed = 1,
    };
    g_autoptr(GError) error = NULL;
    int rc;

    /* stdout carries exactly one line, the URL; every log line goes to stderr. */
    g_log_writer_default_set_use_stderr(TRUE);
    if (parse_options(&argc, &argv, &o, &error)) {
        if (!o.bind)
            o.bind = g_strdup("127.0.0.1");
        if (!o.ddm_offset)
            o.ddm_offset = g_strdup("item");
    }
    if (error || !check_options(&o, argc, &error)) {
        fprintf(stderr, "cloudsim: %s (see --help)\n", error->message);
        options_clear(&o);
        return 2;
    }
    rc = run(&o);
    options_clear(&o);
    return rc;
}
