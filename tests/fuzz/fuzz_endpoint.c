/* Endpoint templates and URL path segments: (template, service, region) cut at NUL bytes. */
#include "fuzz.h"

#include "api/client_internal.h"
#include "api/endpoint.h"
#include "api/service_ops.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_auto(GStrv) parts = fuzz_split(data, size, 3);
    const char *tmpl = parts[0];
    const char *service = parts[1] ? parts[1] : "taurusdb";
    const char *region = parts[1] && parts[2] ? parts[2] : NULL;
    GError *error = NULL;
    char *url;

    for (int use_template = 0; use_template < 2; use_template++) {
        const DbbService *known = dbb_service_find(service);
        const char *prefix = known ? dbb_service_host_prefix(known, region) : NULL;

        url = dbb_endpoint_base_url(use_template ? tmpl : NULL, service, prefix, region, &error);
        if ((url == NULL) == (error == NULL))
            abort();
        if (url != NULL && url[0] != '\0' && url[strlen(url) - 1] == '/')
            abort(); /* promised: no trailing '/' */
        g_free(url);
        g_clear_error(&error);
    }
    if (dbb_path_segment_ok(tmpl) && (tmpl[0] == '\0' || strcmp(tmpl, ".") == 0 ||
                                      strcmp(tmpl, "..") == 0 || strpbrk(tmpl, "/?#%") != NULL))
        abort();
    g_free(dbb_region_from_project_name(tmpl));
    return 0;
}
