/*
 * dbbackupfs — cache values: api/ listings turned into what the filesystem serves.
 */
#include "values.h"

#include <errno.h>
#include <string.h>

#include "api/error.h"
#include "render.h"

gpointer dbb_value_ref(gpointer value)
{
    return g_atomic_rc_box_acquire(value);
}

static void value_clear(gpointer value)
{
    DbbValueHead *h = value;

    /* The views go first: they borrow from the listing. */
    if (h->views)
        g_hash_table_unref(h->views);
    g_mutex_clear(&h->views_lock);
    h->clear_(value);
}

void dbb_value_unref(gpointer value)
{
    if (value)
        g_atomic_rc_box_release_full(value, value_clear);
}

static void head_init(DbbValueHead *h, GDestroyNotify clear)
{
    h->clear_ = clear;
    g_mutex_init(&h->views_lock);
}

static void projects_clear(gpointer p)
{
    DbbProjectsValue *v = p;
    g_ptr_array_unref(v->projects);
}

DbbProjectsValue *dbb_projects_value_new(GPtrArray *projects)
{
    DbbProjectsValue *v = g_atomic_rc_box_new0(DbbProjectsValue);
    head_init(&v->head, projects_clear);
    v->projects = projects;
    return v;
}

static void instances_clear(gpointer p)
{
    DbbInstancesValue *v = p;
    g_ptr_array_unref(v->instances);
}

DbbInstancesValue *dbb_instances_value_new(GPtrArray *instances)
{
    DbbInstancesValue *v = g_atomic_rc_box_new0(DbbInstancesValue);
    head_init(&v->head, instances_clear);
    v->instances = instances;
    return v;
}

static void backup_rec_free(gpointer p)
{
    DbbBackupRec *r = p;
    g_free(r->id);
    g_free(r->name);
    g_free(r->instance_id);
    g_free(r->instance_name);
    g_free(r->status);
    if (r->content)
        g_bytes_unref(r->content);
    g_free(r);
}

static void backup_group_free(gpointer p)
{
    DbbBackupGroup *g = p;
    g_ptr_array_unref(g->recs);
    g_free(g);
}

static void backups_clear(gpointer p)
{
    DbbBackupsValue *v = p;
    g_hash_table_unref(v->groups);
    g_ptr_array_unref(v->recs);
}

static GBytes *render_or_raw(const DbbBackup *b, GError **too_large)
{
    g_autoptr(GError) error = NULL;
    GBytes *content = dbb_render_json(b->raw, b->raw_len, &error);

    if (content)
        return content;
    if (g_error_matches(error, DBB_RENDER_ERROR, DBB_RENDER_ERROR_SIZE)) {
        /* Not shown half-rendered, nor as a raw blob of that size: the listing fails. */
        g_set_error(too_large, DBB_API_ERROR, EIO,
                    "backup %s: its file would exceed %u bytes; listing refused", b->id,
                    DBB_RENDER_MAX_BYTES);
        g_warning("%s", (*too_large)->message);
        return NULL;
    }
    /* Never lose a backup over its formatting: show what the API sent. */
    g_warning("backup %s: cannot pretty-print its record (%s); showing it as received", b->id,
              error->message);
    GString *s = g_string_new_len(b->raw, b->raw_len);
    g_string_append_c(s, '\n');
    return g_string_free_to_bytes(s);
}

/* Does a finish more recently than b (ties: the greater id)? Decides a deleted instance's
 * directory name, per DESIGN.md. */
static gboolean finished_later(const DbbBackupRec *a, const DbbBackupRec *b)
{
    if (a->finish_time != b->finish_time)
        return a->finish_time > b->finish_time;
    return strcmp(a->id, b->id) > 0;
}

static void group_add(GHashTable *groups, DbbBackupRec *rec)
{
    DbbBackupGroup *g = g_hash_table_lookup(groups, rec->instance_id);

    if (!g) {
        g = g_new0(DbbBackupGroup, 1);
        g->instance_id = rec->instance_id;
        g->recs = g_ptr_array_new();
        g_hash_table_insert(groups, rec->instance_id, g);
    }
    g_ptr_array_add(g->recs, rec);
}

static void group_pick_name(gpointer key, gpointer value, gpointer user_data)
{
    DbbBackupGroup *g = value;
    const DbbBackupRec *best = NULL;

    for (guint i = 0; i < g->recs->len; i++) {
        const DbbBackupRec *r = g->recs->pdata[i];
        if (!best || finished_later(r, best))
            best = r;
    }
    g->latest_instance_name = best ? best->instance_name : NULL;
}

DbbBackupsValue *dbb_backups_value_new(GPtrArray *backups, guint64 max_bytes, GError **error)
{
    guint64 bytes = 0;

    DbbBackupsValue *v = g_atomic_rc_box_new0(DbbBackupsValue);

    head_init(&v->head, backups_clear);
    v->recs = g_ptr_array_new_full(backups->len, backup_rec_free);
    v->groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, backup_group_free);
    for (guint i = 0; i < backups->len; i++) {
        DbbBackup *b = backups->pdata[i];
        DbbBackupRec *r = g_new0(DbbBackupRec, 1);

        r->id = g_strdup(b->id);
        r->name = g_strdup(b->name);
        r->instance_id = g_strdup(b->instance_id ? b->instance_id : "");
        r->instance_name = g_strdup(b->instance_name);
        r->status = g_strdup(b->status);
        r->start_time = b->start_time;
        r->finish_time = b->finish_time;
        r->content = render_or_raw(b, error);
        g_ptr_array_add(v->recs, r);
        bytes += r->content ? g_bytes_get_size(r->content) : 0;
        if (r->content == NULL || (max_bytes > 0 && bytes > max_bytes))
            goto fail;
        group_add(v->groups, r);
    }
    g_hash_table_foreach(v->groups, group_pick_name, NULL);
    g_ptr_array_unref(backups);
    return v;
fail:
    if (error != NULL && *error == NULL) {
        g_set_error(error, DBB_API_ERROR, EIO,
                    "the files of a listing would exceed %" G_GUINT64_FORMAT
                    " bytes (max_listing_bytes); listing refused",
                    max_bytes);
        g_warning("%s", (*error)->message);
    }
    g_ptr_array_unref(backups);
    dbb_value_unref(v);
    return NULL;
}

void dbb_value_size(gpointer value, guint64 *records, guint64 *bytes)
{
    GDestroyNotify clear = *(GDestroyNotify *)value;

    *records = *bytes = 0;
    if (clear == projects_clear) {
        *records = ((DbbProjectsValue *)value)->projects->len;
    } else if (clear == instances_clear) {
        *records = ((DbbInstancesValue *)value)->instances->len;
    } else if (clear == backups_clear) {
        GPtrArray *recs = ((DbbBackupsValue *)value)->recs;
        *records = recs->len;
        for (guint i = 0; i < recs->len; i++)
            *bytes += g_bytes_get_size(((DbbBackupRec *)recs->pdata[i])->content);
    }
}
