/*
 * dbbackupfs — instances that only a project-wide backup listing still knows (TaurusDB's
 * deleted instances, whose manual backups the cloud keeps): grouped by instance_id, each
 * group an instance of its own, named per DESIGN.md after the instance_name of its most
 * recently finished backup (ties: the greater backup ID).
 */
#include <string.h>

#include "client_internal.h"

typedef struct {
    DbbInstance *instance;
    const DbbBackup *latest;
} Group;

/* Does a finish more recently than b (ties: the greater id)? */
static gboolean finished_later(const DbbBackup *a, const DbbBackup *b)
{
    if (a->finish_time != b->finish_time)
        return a->finish_time > b->finish_time;
    return strcmp(a->id, b->id) > 0;
}

static Group *group_new(GPtrArray *order, const char *id)
{
    Group *g = g_new0(Group, 1);

    g->instance = g_new0(DbbInstance, 1);
    g->instance->id = g_strdup(id);
    g->instance->backups = g_ptr_array_new_with_free_func(dbb_backup_free);
    g_ptr_array_add(order, g);
    return g;
}

GPtrArray *dbb_instances_add_deleted(const DbbService *service, GPtrArray *instances,
                                     const GPtrArray *backups)
{
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) groups = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < instances->len; i++)
        g_hash_table_add(listed, ((DbbInstance *)instances->pdata[i])->id);
    for (guint i = 0; backups != NULL && i < backups->len; i++) {
        const DbbBackup *b = backups->pdata[i];
        const char *id = b->instance_id != NULL ? b->instance_id : DBB_NO_INSTANCE_ID;
        Group *g;

        if (g_hash_table_contains(listed, id))
            continue; /* a live instance: its own listing has this backup */
        g = g_hash_table_lookup(groups, id);
        if (g == NULL) {
            g = group_new(order, id);
            g_hash_table_insert(groups, g->instance->id, g);
        }
        g_ptr_array_add(g->instance->backups, dbb_backup_copy(b));
        if (g->latest == NULL || finished_later(b, g->latest))
            g->latest = b;
    }
    for (guint i = 0; i < order->len; i++) {
        Group *g = order->pdata[i];

        g->instance->name = g_strdup(g->latest->instance_name);
        g_ptr_array_add(instances, g->instance);
    }
    if (order->len > 0)
        g_debug("%s: %u deleted instance(s) found in the project-wide backup list", service->name,
                order->len);
    return instances;
}
