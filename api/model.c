/*
 * dbbackupfs — constructors and destructors of the listing records (model.h).
 */
#include "model.h"

#include <string.h>

DbbProject *dbb_project_new(const char *id, const char *name, const char *region)
{
    DbbProject *p = g_new0(DbbProject, 1);

    p->id = g_strdup(id);
    p->name = g_strdup(name);
    p->region = g_strdup(region);
    return p;
}

DbbProject *dbb_project_copy(const DbbProject *p)
{
    if (p == NULL)
        return NULL;
    return dbb_project_new(p->id, p->name, p->region);
}

void dbb_project_free(gpointer p)
{
    DbbProject *project = p;

    if (project == NULL)
        return;
    g_free(project->id);
    g_free(project->name);
    g_free(project->region);
    g_free(project);
}

void dbb_instance_free(gpointer p)
{
    DbbInstance *instance = p;

    if (instance == NULL)
        return;
    g_free(instance->id);
    g_free(instance->name);
    if (instance->backups != NULL)
        g_ptr_array_unref(instance->backups);
    g_free(instance);
}

void dbb_backup_free(gpointer p)
{
    DbbBackup *backup = p;

    if (backup == NULL)
        return;
    g_free(backup->id);
    g_free(backup->name);
    g_free(backup->instance_id);
    g_free(backup->instance_name);
    g_free(backup->status);
    g_free(backup->raw);
    g_free(backup);
}

DbbBackup *dbb_backup_copy(const DbbBackup *b)
{
    DbbBackup *c = g_new0(DbbBackup, 1);

    *c = *b;
    c->id = g_strdup(b->id);
    c->name = g_strdup(b->name);
    c->instance_id = g_strdup(b->instance_id);
    c->instance_name = g_strdup(b->instance_name);
    c->status = g_strdup(b->status);
    c->raw = g_strndup(b->raw, b->raw_len);
    return c;
}

char *dbb_region_from_project_name(const char *name)
{
    const char *underscore;

    if (name == NULL || name[0] == '\0')
        return NULL;
    /* Sub-projects are "<region>_<suffix>" (IAM's naming rule), so the region is the part
     * before the first '_'. */
    underscore = strchr(name, '_');
    if (underscore == NULL)
        return g_strdup(name);
    if (underscore == name)
        return NULL;
    return g_strndup(name, underscore - name);
}
