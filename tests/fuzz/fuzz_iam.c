/* IAM's project list (GET /v3/auth/projects). */
#include "fuzz.h"

#include "api/client_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *body = fuzz_parse_json((const char *)data, size);
    GError *error = NULL;
    GPtrArray *projects;

    if (body == NULL)
        return 0;
    projects = dbb_iam_parse_projects(body, &error);
    if ((projects == NULL) == (error == NULL))
        abort();
    for (guint i = 0; projects != NULL && i < projects->len; i++) {
        DbbProject *p = projects->pdata[i];
        if (p->id == NULL || p->id[0] == '\0')
            abort();
    }
    if (projects != NULL)
        g_ptr_array_unref(projects);
    g_clear_error(&error);
    json_object_put(body);
    return 0;
}
