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

/* The instance ID given to backups whose record names none, where an instance is made for
 * them (the filesystem names such a directory the same way). */
#define DBB_NO_INSTANCE_ID "no-instance-id"

/* A database instance as its service's instance listing shows it. */
typedef struct {
    char *id;     /* never NULL */
    char *name;   /* a string as received, a number's text, or NULL when missing/other */
    gint64 mtime; /* `updated`, else `created`, as UTC epoch seconds; 0 when unknown */
    /* NULL for a listed instance.  For an instance the service no longer lists but whose
     * backups a project-wide listing still holds (a deleted one), those backups (DbbBackup,
     * owned): they are its whole backup listing, and no per-instance listing exists.  Such
     * instances come after every listed one; name is the instance_name of the most
     * recently finished backup (ties: the greater backup id), mtime 0. */
    GPtrArray *backups;
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
DbbBackup *dbb_backup_copy(const DbbBackup *b);

/* Region of a project name: the part before the first '_' ("ap-southeast-1_dev" ->
 * "ap-southeast-1"); NULL when the name is empty. Newly allocated. */
char *dbb_region_from_project_name(const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DbbProject, dbb_project_free)

G_END_DECLS
