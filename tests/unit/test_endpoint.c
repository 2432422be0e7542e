/*
 * Unit tests for api/endpoint.c: public per-region hosts (reference §6) and templates.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "api/endpoint.h"
#include "api/error.h"
#include "api/service_ops.h"

/* A service's public URL as the client builds it: the adapter's host prefix for the region
 * ("iam" for IAM), then the endpoint rules. */
static char *base_url(const char *template, const char *service, const char *region, GError **error)
{
    const DbbService *svc = dbb_service_find(service);
    const char *prefix = strcmp(service, "iam") == 0 ? "iam"
                         : svc != NULL               ? dbb_service_host_prefix(svc, region)
                                                     : NULL;

    return dbb_endpoint_base_url(template, service, prefix, region, error);
}

static void assert_url(const char *template, const char *service, const char *region,
                       const char *want)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = base_url(template, service, region, &error);

    if (!got)
        fail_msg("%s/%s: %s", service, region ? region : "(null)", error->message);
    assert_null(error);
    assert_string_equal(got, want);
}

static void assert_no_url(const char *template, const char *service, const char *region)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = base_url(template, service, region, &error);

    assert_null(got);
    assert_non_null(error);
    assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
}

static void test_taurusdb_prefixes(void **state)
{
    assert_url(NULL, "taurusdb", "cn-north-4", "https://gaussdb.cn-north-4.myhuaweicloud.com");
    assert_url(NULL, "taurusdb", "ap-southeast-3",
               "https://gaussdb.ap-southeast-3.myhuaweicloud.com");
    static const char *const formysql[] = {"ap-southeast-1", "ap-southeast-2", "tr-west-1",
                                           "cn-north-11", "me-east-1"};
    for (gsize i = 0; i < G_N_ELEMENTS(formysql); i++) {
        g_autofree char *want =
            g_strdup_printf("https://gaussdbformysql.%s.myhuaweicloud.com", formysql[i]);
        assert_url(NULL, "taurusdb", formysql[i], want);
    }
    static const char *const dash[] = {"af-south-1", "cn-east-5", "la-north-2", "cn-southwest-3"};
    for (gsize i = 0; i < G_N_ELEMENTS(dash); i++) {
        g_autofree char *want =
            g_strdup_printf("https://gaussdb-mysql.%s.myhuaweicloud.com", dash[i]);
        assert_url(NULL, "taurusdb", dash[i], want);
    }
}

static void test_other_services(void **state)
{
    assert_url(NULL, "geminidb", "ap-southeast-1",
               "https://gaussdb-nosql.ap-southeast-1.myhuaweicloud.com");
    assert_url(NULL, "ddm", "cn-north-4", "https://ddm.cn-north-4.myhuaweicloud.com");
    assert_url(NULL, "rds", "ap-southeast-1", "https://rds.ap-southeast-1.myhuaweicloud.com");
    assert_url(NULL, "dds", "cn-north-4", "https://dds.cn-north-4.myhuaweicloud.com");
    assert_url(NULL, "gaussdb", "ap-southeast-1",
               "https://gaussdb-opengauss.ap-southeast-1.myhuaweicloud.com");
    /* TaurusDB's regional variants are its own: no other service inherits them. */
    assert_url(NULL, "rds", "af-south-1", "https://rds.af-south-1.myhuaweicloud.com");
    assert_url(NULL, "iam", NULL, "https://iam.myhuaweicloud.com");
    assert_url(NULL, "iam", "ap-southeast-1", "https://iam.ap-southeast-1.myhuaweicloud.com");
}

static void test_eu_domain(void **state)
{
    assert_url(NULL, "geminidb", "eu-west-101",
               "https://gaussdb-nosql.eu-west-101.myhuaweicloud.eu");
    assert_url(NULL, "ddm", "eu-west-101", "https://ddm.eu-west-101.myhuaweicloud.eu");
    assert_url(NULL, "iam", "eu-west-101", "https://iam.eu-west-101.myhuaweicloud.eu");
    assert_url(NULL, "taurusdb", "eu-west-101", "https://gaussdb.eu-west-101.myhuaweicloud.eu");
    assert_url(NULL, "dds", "eu-west-101", "https://dds.eu-west-101.myhuaweicloud.eu");
}

static void test_template(void **state)
{
    assert_url("http://127.0.0.1:8080/{service}", "taurusdb", "cn-north-4",
               "http://127.0.0.1:8080/taurusdb");
    assert_url("http://127.0.0.1:8080/{service}/", "iam", NULL, "http://127.0.0.1:8080/iam");
    assert_url("https://{service}.{region}.example.net/{region}/{service}//", "ddm", "cn-north-4",
               "https://ddm.cn-north-4.example.net/cn-north-4/ddm");
    assert_url("https://fixed.example.net", "geminidb", NULL, "https://fixed.example.net");
}

static void test_errors(void **state)
{
    assert_no_url(NULL, "taurusdb", NULL); /* only IAM has a global endpoint */
    assert_no_url(NULL, "nosuch", "cn-north-4");
    assert_no_url("https://{region}.example.net", "ddm", NULL);
    assert_no_url(NULL, "ddm", "cn-north-4/../x"); /* a region lands in a host name */
    assert_no_url(NULL, "ddm", "");
    assert_no_url("https://{service}.{region}.example.net", "ddm", "a.b");
    /* A project whose name is no region still works where no region is needed. */
    assert_url("http://127.0.0.1:8080/{service}", "ddm", "My Project/ü",
               "http://127.0.0.1:8080/ddm");
    assert_url("http://127.0.0.1:8080/{service}", "taurusdb", "", "http://127.0.0.1:8080/taurusdb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taurusdb_prefixes),
        cmocka_unit_test(test_other_services),
        cmocka_unit_test(test_eu_domain),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
