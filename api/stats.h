/*
 * dbbackupfs — the client's request counters (internal to api/; the client owns one and
 * hands copies out through dbb_client_stats()).
 *
 * Promises:
 * - Every HTTP attempt sent (a retry is an attempt) is counted once, by service, route (the
 *   path template, so project and instance IDs never become label values) and status class;
 *   with its latency in a fixed histogram per service.  Retries and 429 answers are counted
 *   per service as well.
 * - Counters only grow, for the life of the client.
 * - A snapshot is a consistent copy, sorted (service, route, class), owned by the caller.
 * Thread-safe: one mutex, held only to add to or copy the tables.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied. */
#define DBB_API_LATENCY_BUCKETS 12
extern const double dbb_api_latency_bounds[DBB_API_LATENCY_BUCKETS];

typedef struct {
    char *service;
    char *route; /* "/v3/{project_id}/instances" */
    char *code;  /* "2xx" … "5xx", or "none" when no HTTP status came back */
    guint64 count;
} DbbApiRequestCount;

typedef struct {
    char *service;
    guint64 retries;                          /* attempts after the first of a call */
    guint64 throttled;                        /* HTTP 429 answers */
    guint64 buckets[DBB_API_LATENCY_BUCKETS]; /* cumulative: attempts that took <= bound */
    guint64 count;                            /* attempts */
    double sum_seconds;
} DbbApiServiceStats;

typedef struct {
    GPtrArray *requests; /* DbbApiRequestCount * */
    GPtrArray *services; /* DbbApiServiceStats * */
} DbbApiStats;

typedef struct DbbApiCounters DbbApiCounters;

DbbApiCounters *dbb_api_counters_new(void);
void dbb_api_counters_free(DbbApiCounters *c);

/* One attempt: status 0 when none came back; retry when it was not the call's first. */
void dbb_api_counters_record(DbbApiCounters *c, const char *service, const char *route, long status,
                             gint64 duration_us, gboolean retry);

/* A copy of everything counted so far; free it with dbb_api_stats_clear(). */
void dbb_api_counters_snapshot(DbbApiCounters *c, DbbApiStats *out);
void dbb_api_stats_clear(DbbApiStats *stats);

/* The status class label of an HTTP status ("none" for 0). */
const char *dbb_api_status_class(long status);

G_END_DECLS
