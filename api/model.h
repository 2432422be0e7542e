/*
 * dbbackupfs — what the cloud client hands to its callers.
 *
 * Promises: every listing returned by api/ is complete (all pages, merged by ID) or the call
 * failed; nothing here refers to HTTP or to FUSE.  Strings are UTF-8 as received (not
 * sanitised: naming is the filesystem's business).  Listings are GPtrArrays that own their
 * elements (free func set), so g_ptr_array_unref() releases everything.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An IAM project, or one named in the configuration. */
typedef struct {
    char *id;     /* never NULL */
    char *name;   /* NULL or "" when the API gave none */
    char *region; /* region for endpoint templates: the name up to the first '_' */
} DbbProject;

/* A database instance as its service's instance listing shows it. */
typedef struct {
    char *id;     /* never NULL */
    char *name;   /* a string as received, a number's text, or NULL when missing/other */
    gint64 mtime; /* `updated`, else `created`, as UTC epoch seconds; 0 when unknown */
} DbbInstance;

/* One backup record. */
typedef struct {
    char *id;            /* never NULL (a record without one gets "sha256:<hex of raw>") */
    char *name;          /* as DbbInstance.name */
    char *instance_id;   /* may be NULL when the record has none */
    char *instance_name; /* as DbbInstance.name */
    char *status;        /* may be NULL */
    gint64 start_time;   /* UTC epoch seconds; 0 when missing or unparsable */
    gint64 finish_time;  /* UTC epoch seconds; 0 when missing or unparsable */
    gint64 size_bytes;   /* -1 when unknown */
    char *raw;           /* the record's exact JSON text as the API sent it (field order, number
                          * spellings and escapes untouched), NUL-terminated */
    gsize raw_len;
} DbbBackup;

DbbProject *dbb_project_new(const char *id, const char *name, const char *region);
DbbProject *dbb_project_copy(const DbbProject *p);
void dbb_project_free(gpointer p);
void dbb_instance_free(gpointer p);
void dbb_backup_free(gpointer p);

/* Region of a project name: the part before the first '_' ("ap-southeast-1_dev" ->
 * "ap-southeast-1"); NULL when the name is empty. Newly allocated. */
char *dbb_region_from_project_name(const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DbbProject, dbb_project_free)

G_END_DECLS
