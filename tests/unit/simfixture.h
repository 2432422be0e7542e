/*
 * simfixture — runs cloudsim (the cloud simulator, $CLOUDSIM) for a cmocka test and talks
 * to its control routes with libcurl.
 *
 * One fixture is one cloudsim process on a free port of 127.0.0.1; it dies with the test
 * process (PR_SET_PDEATHSIG) even if the test crashes.  A fixture is not thread-safe: use
 * it from one thread (the code under test may of course use many against the simulator).
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

typedef struct SimFixture SimFixture;

/* Runs $CLOUDSIM --port 0 --quiet extra_args... (NULL-terminated, may be NULL) and waits
 * up to 10 s for its URL line.  Returns NULL, after printing why, if it cannot. */
SimFixture *sim_start(const char *const *extra_args);
/* "http://127.0.0.1:PORT" */
/* CPU seconds (user + system) cloudsim has used so far, or -1: a measure of its work that
 * a loaded machine does not inflate the way it inflates wall-clock time. */
double sim_cpu_seconds(const SimFixture *s);

const char *sim_base_url(const SimFixture *s);
/* "http://127.0.0.1:PORT/{service}", for the client's endpoint template; g_free it. */
char *sim_endpoint_template(const SimFixture *s);
/* GET base_url + path, parsed; NULL on a transport error, a non-2xx status or bad JSON. */
json_object *sim_get_json(SimFixture *s, const char *path);
/* POST body (JSON) to base_url + path; TRUE on a 2xx status. */
gboolean sim_post_json(SimFixture *s, const char *path, const char *body);
/* routes[route] of /_sim/counts, or its "total" for "total"; -1 on error. */
gint64 sim_count(SimFixture *s, const char *route);
void sim_reset_counts(SimFixture *s);
/* POST /_sim/faults, e.g. "{\"error_rate\":1.0}". */
gboolean sim_set_faults(SimFixture *s, const char *json);
/* SIGTERM, wait (≤5 s, then SIGKILL), free.  NULL is fine. */
void sim_stop(SimFixture *s);

/* Extensions beyond the lead's contract. */
/* Like sim_stop, and TRUE only when cloudsim exited by itself with status 0 (so a
 * sanitizer report or a crash in the simulator fails the test that checks it). */
gboolean sim_stop_checked(SimFixture *s);
/* Any GET against the simulator: status (0 on a transport error), body and, when
 * request_id is not NULL, the X-Request-Id header.  headers: "Name: value" strings,
 * NULL-terminated, may be NULL. */
long sim_http_get(SimFixture *s, const char *path, const char *const *headers, char **body,
                  char **request_id);
/* Default credentials of a fleet that does not override them. */
#define SIM_FIXTURE_AK        "AKSIMULATOR00000000000"
#define SIM_FIXTURE_SK        "SKsimulator00000000000000000000000000000"
#define SIM_FIXTURE_DOMAIN_ID "simdomain0000000000000000000000000"

G_END_DECLS
