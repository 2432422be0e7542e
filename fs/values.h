/*
 * dbbackupfs — the listings the cache holds, in the form the filesystem serves them.
 *
 * Each value is immutable once built and reference-counted (dbb_value_ref/unref work on any
 * of them), so a directory handle or an open file keeps what it saw while the cache moves
 * on.  Backup listings are rendered here, once per fetched listing: the raw API text is
 * turned into the file content and dropped, so memory holds each record once.
 */
#pragma once

#include <glib.h>

#include "api/model.h"

G_BEGIN_DECLS

/* One backup as the filesystem needs it. */
typedef struct {
    char *id;
    char *name;          /* raw API name, or NULL */
    char *instance_id;   /* "" when the record had none */
    char *instance_name; /* raw, or NULL */
    char *status;        /* raw, or NULL */
    gint64 start_time;
    gint64 finish_time;
    GBytes *content; /* the rendered file */
} DbbBackupRec;

/* The records of one instance inside a backup listing. */
typedef struct {
    const char *instance_id;
    GPtrArray *recs;                  /* DbbBackupRec *, borrowed from the listing */
    const char *latest_instance_name; /* instance_name of the most recently finished backup
                                       * (ties: greater backup id); may be NULL */
} DbbBackupGroup;

/* What every value starts with.  The derived state of a listing — the directory views
 * built from it (view.c) — lives here and dies with it, so no table outside the cache pins
 * an old generation. */
typedef struct {
    GDestroyNotify clear_; /* how dbb_value_unref() clears it */
    GMutex views_lock;
    GHashTable *views; /* view.c's memo: directory ino -> view; NULL until the first */
} DbbValueHead;

typedef struct {
    DbbValueHead head;   /* must stay first */
    GPtrArray *projects; /* DbbProject * */
} DbbProjectsValue;

typedef struct {
    DbbValueHead head;
    GPtrArray *instances; /* DbbInstance * */
} DbbInstancesValue;

typedef struct {
    DbbValueHead head;
    GPtrArray *recs;    /* DbbBackupRec * */
    GHashTable *groups; /* instance_id -> DbbBackupGroup * */
} DbbBackupsValue;

/* Take ownership of an api/ listing. */
DbbProjectsValue *dbb_projects_value_new(GPtrArray *projects);
DbbInstancesValue *dbb_instances_value_new(GPtrArray *instances);
/* Renders every backup; a record whose text does not render (it cannot happen for text the
 * API layer accepted, but the API is not trusted) is shown with its raw text and a warning
 * instead of being dropped.  NULL with *error (DBB_API_ERROR, EIO; logged) when one record's
 * file would exceed DBB_RENDER_MAX_BYTES or all of them max_bytes (0: no cap): bounded
 * memory, never a listing with a record missing.  Takes `backups`. */
DbbBackupsValue *dbb_backups_value_new(GPtrArray *backups, guint64 max_bytes, GError **error);

/* What a value holds, for the cache's counters: records (projects, instances or backups)
 * and the bytes of the rendered backup files.  O(records); called once per fetch. */
void dbb_value_size(gpointer value, guint64 *records, guint64 *bytes);

gpointer dbb_value_ref(gpointer value);
void dbb_value_unref(gpointer value);
/* The head of any value. */
static inline DbbValueHead *dbb_value_head(gpointer value)
{
    return value;
}

G_END_DECLS
