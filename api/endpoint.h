/*
 * dbbackupfs — where each service lives (internal to api/).
 *
 * Defaults are the public per-region hosts of reference/huawei-api.md §6:
 * https://<host_prefix>.<region>.myhuaweicloud.com (eu-west-101 is under .myhuaweicloud.eu;
 * IAM is global when no region is given).  The caller resolves the host prefix (a service's
 * table, DbbHostTable, knows it per region), so no service is named here.  A template
 * replaces "{service}" with the service name (the directory name, or iam) and "{region}"
 * with the region.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Base URL without a trailing '/', newly allocated.  template may be NULL (public hosts,
 * then host_prefix NULL means an unknown service).  region may be NULL only for "iam"
 * (global endpoint) or when the template has no "{region}"; otherwise NULL is returned with
 * error set. */
char *dbb_endpoint_base_url(const char *template, const char *service, const char *host_prefix,
                            const char *region, GError **error);

G_END_DECLS
