/*
 * dbbackupfs — service endpoints: the public per-region hosts of reference/huawei-api.md §6
 * and the user's "{service}"/"{region}" template.  The host prefix of each service (and of
 * each region where it differs) is the adapter's business: see DbbHostTable.
 */
#include "endpoint.h"

#include <errno.h>
#include <string.h>

#include "error.h"

/* A region ends up in a host name: only letters, digits and '-' may pass. */
static gboolean region_is_valid(const char *region)
{
    if (!*region)
        return FALSE;
    for (const char *p = region; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-')
            return FALSE;
    }
    return TRUE;
}

static char *public_base_url(const char *service, const char *host_prefix, const char *region,
                             GError **error)
{
    const char *domain;

    if (!region && strcmp(service, "iam") == 0)
        return g_strdup("https://iam.myhuaweicloud.com");
    if (!region || !region_is_valid(region)) {
        g_set_error(error, DBB_API_ERROR, EIO,
                    "%s: no public endpoint for region '%s' (set endpoint= or a [project] region)",
                    service, region ? region : "");
        return NULL;
    }
    if (!host_prefix) {
        g_set_error(error, DBB_API_ERROR, EIO, "unknown service '%s'", service);
        return NULL;
    }
    domain = strcmp(region, "eu-west-101") == 0 ? "myhuaweicloud.eu" : "myhuaweicloud.com";
    return g_strdup_printf("https://%s.%s.%s", host_prefix, region, domain);
}

static char *expand_template(const char *template, const char *service, const char *region,
                             GError **error)
{
    GString *out = g_string_new(NULL);

    for (const char *p = template; *p;) {
        if (g_str_has_prefix(p, "{service}")) {
            g_string_append(out, service);
            p += strlen("{service}");
        } else if (g_str_has_prefix(p, "{region}")) {
            /* Checked only where it is used: a project whose name is no region still works
             * with a template that does not need one. */
            if (!region || !region_is_valid(region)) {
                g_set_error(error, DBB_API_ERROR, EIO,
                            "%s: endpoint template %s needs a region; '%s' is none", service,
                            template, region ? region : "");
                g_string_free(out, TRUE);
                return NULL;
            }
            g_string_append(out, region);
            p += strlen("{region}");
        } else {
            g_string_append_c(out, *p++);
        }
    }
    while (out->len > 0 && out->str[out->len - 1] == '/')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

char *dbb_endpoint_base_url(const char *template, const char *service, const char *host_prefix,
                            const char *region, GError **error)
{
    g_return_val_if_fail(service != NULL, NULL);

    if (template)
        return expand_template(template, service, region, error);
    return public_base_url(service, host_prefix, region, error);
}
