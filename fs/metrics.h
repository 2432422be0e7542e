/*
 * dbbackupfs — metrics in the Prometheus text format (exposition format 0.0.4), for
 * node_exporter's textfile collector (-o metrics=PATH) and SIGUSR1.
 *
 * Promises:
 * - dbb_metrics_render() turns one snapshot into the text format: every name starts with
 *   "dbbackupfs_", every family has one # HELP and one # TYPE line and its samples together,
 *   counters end in "_total", label values are escaped, no sample carries a timestamp, and the
 *   output does not depend on the locale.  Families with labels but nothing counted yet show
 *   their HELP and TYPE lines only.
 * - dbb_metrics_write_file() replaces PATH atomically (a temporary file in PATH's directory,
 *   renamed over it), so a reader sees the old file or the new one, never a part; the file
 *   is world-readable (0644), as the collector usually runs as another user.
 * - The writer thread renders and writes every `interval` seconds and once more when it is
 *   stopped; a failing write is logged when it starts failing and when it works again, not
 *   at every interval.
 * The snapshot is filled by its owners: the client's request counters, the cache's counters,
 * the mount's FUSE opcode counts and kernel invalidations; this file only formats.
 */
#pragma once

#include <glib.h>

#include "api/stats.h"
#include "cache/cache.h"

G_BEGIN_DECLS

/* One labelled count: a FUSE opcode, or a kind of kernel invalidation. */
typedef struct {
    const char *name; /* static */
    guint64 count;
} DbbNamedCount;

typedef struct {
    DbbApiStats api;        /* dbb_client_stats() */
    DbbCacheStats cache;    /* dbb_cache_stats() */
    GArray *fuse_requests;  /* DbbNamedCount by opcode, or NULL */
    GArray *invalidations;  /* DbbNamedCount by kind ("entry", "inode"), or NULL */
    guint64 inodes;         /* nodes the kernel holds */
    guint64 resident_bytes; /* dbb_metrics_resident_bytes() */
} DbbMetricsSnapshot;

/* Frees what the snapshot owns (the api tables and both arrays) and zeroes it. */
void dbb_metrics_snapshot_clear(DbbMetricsSnapshot *s);

/* The process's resident set size, from /proc/self/statm; 0 when unreadable. */
guint64 dbb_metrics_resident_bytes(void);

GString *dbb_metrics_render(const DbbMetricsSnapshot *s);

gboolean dbb_metrics_write_file(const char *path, const char *text, gsize len, GError **error);

/* Log every sample line of the rendered snapshot (SIGUSR1), one message each. */
void dbb_metrics_log(const DbbMetricsSnapshot *s);

/* Fills a zeroed snapshot. Called from the writer thread. */
typedef void (*DbbMetricsCollectFunc)(DbbMetricsSnapshot *out, gpointer data);

typedef struct DbbMetricsWriter DbbMetricsWriter;

/* Starts the thread; path must be absolute (the daemon runs in /). */
DbbMetricsWriter *dbb_metrics_writer_start(const char *path, double interval_s,
                                           DbbMetricsCollectFunc collect, gpointer data);
/* Writes the file once more, then ends and joins the thread, and frees w. NULL is fine. */
void dbb_metrics_writer_stop(DbbMetricsWriter *w);

G_END_DECLS
