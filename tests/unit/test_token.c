/*
 * Unit tests for api/token.c: the promises of token.h with a fake IAM and a fake clock —
 * the 40-minute and half-life renewal rules, one token per scope, single-flight fetches
 * (their failures shared), exactly one re-auth after a 401 and none more within the
 * holdoff, a refused password not asked again within the holdoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "api/error.h"
#include "api/token.h"

#define MINUTE  (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define HOUR    (60 * MINUTE)
#define HOLDOFF (MINUTE)

typedef struct {
    gint64 now;      /* the fake wall clock, µs */
    gint64 lifetime; /* of the tokens issued */
    gint fetches;    /* atomic */
    gint sleep_ms;   /* each fetch takes this long */
    int fail_errno;  /* 0: succeed */
} FakeIam;

static gint64 fake_clock(gpointer data)
{
    FakeIam *iam = data;

    return iam->now;
}

static gboolean fake_fetch(gpointer data, const char *project_id, char **token, gint64 *issued,
                           gint64 *expires, GError **error)
{
    FakeIam *iam = data;
    int n = g_atomic_int_add(&iam->fetches, 1) + 1;

    if (iam->sleep_ms)
        g_usleep((gulong)iam->sleep_ms * 1000);
    if (iam->fail_errno) {
        g_set_error(error, DBB_API_ERROR, iam->fail_errno, "iam: refused");
        return FALSE;
    }
    *token = g_strdup_printf("tok-%s-%d", project_id ? project_id : "domain", n);
    *issued = iam->now;
    *expires = iam->now + iam->lifetime;
    return TRUE;
}

static DbbTokens *tokens_for(FakeIam *iam)
{
    return dbb_tokens_new(fake_fetch, iam, HOLDOFF, fake_clock, iam);
}

static void expect_token(DbbTokens *t, const char *project, const char *want)
{
    g_autoptr(GError) error = NULL;
    char *got = dbb_tokens_get(t, project, &error);

    if (got == NULL)
        fail_msg("no token: %s", error->message);
    assert_string_equal(got, want);
    dbb_token_free(got);
}

static void test_renewal_rules(void **state)
{
    /* 24 h: renewed 40 minutes before it expires (the Go SDK's threshold). */
    assert_int_equal(dbb_token_renew_at(0, 24 * HOUR, 5), 24 * HOUR - 40 * MINUTE);
    /* 80 minutes is the shortest life the threshold applies to ... */
    assert_int_equal(dbb_token_renew_at(10, 10 + 80 * MINUTE, 10), 10 + 40 * MINUTE);
    /* ... below it, half the life. */
    assert_int_equal(dbb_token_renew_at(10, 10 + 60 * MINUTE, 10), 10 + 30 * MINUTE);
    assert_int_equal(dbb_token_renew_at(0, 6 * G_USEC_PER_SEC, 2 * G_USEC_PER_SEC),
                     4 * G_USEC_PER_SEC); /* no issued_at: its life counts from the fetch */
}

static void test_one_token_per_scope_renewed_in_time(void **state)
{
    FakeIam iam = {.now = HOUR, .lifetime = 24 * HOUR};
    DbbTokens *t = tokens_for(&iam);

    expect_token(t, "p1", "tok-p1-1");
    expect_token(t, NULL, "tok-domain-2");
    expect_token(t, "p1", "tok-p1-1");
    expect_token(t, "p2", "tok-p2-3");
    assert_int_equal(iam.fetches, 3);
    iam.now += 24 * HOUR - 40 * MINUTE - 1; /* just before the threshold: kept */
    expect_token(t, "p1", "tok-p1-1");
    iam.now += 1;
    expect_token(t, "p1", "tok-p1-4");
    assert_int_equal(iam.fetches, 4);
    dbb_tokens_free(t);
}

typedef struct {
    DbbTokens *t;
    char *token;
    GError *error;
} Caller;

static gpointer call_get(gpointer data)
{
    Caller *c = data;

    c->token = dbb_tokens_get(c->t, "p1", &c->error);
    return NULL;
}

static void run_callers(DbbTokens *t, Caller *callers, guint n)
{
    GThread *threads[16];

    g_assert(n <= G_N_ELEMENTS(threads));
    for (guint i = 0; i < n; i++) {
        callers[i] = (Caller){.t = t};
        threads[i] = g_thread_new("caller", call_get, &callers[i]);
    }
    for (guint i = 0; i < n; i++)
        g_thread_join(threads[i]);
}

static void test_single_flight(void **state)
{
    FakeIam iam = {.now = HOUR, .lifetime = 24 * HOUR, .sleep_ms = 100};
    DbbTokens *t = tokens_for(&iam);
    Caller callers[12];

    run_callers(t, callers, G_N_ELEMENTS(callers));
    assert_int_equal(iam.fetches, 1);
    for (guint i = 0; i < G_N_ELEMENTS(callers); i++) {
        assert_string_equal(callers[i].token, "tok-p1-1");
        dbb_token_free(callers[i].token);
    }
    /* A failure is shared as well: one request, every caller fails with it. */
    iam.fail_errno = EIO;
    iam.now += 24 * HOUR;
    run_callers(t, callers, G_N_ELEMENTS(callers));
    assert_int_equal(iam.fetches, 2);
    for (guint i = 0; i < G_N_ELEMENTS(callers); i++) {
        assert_null(callers[i].token);
        assert_true(g_error_matches(callers[i].error, DBB_API_ERROR, EIO));
        g_clear_error(&callers[i].error);
    }
    /* Not kept: the next caller asks again. */
    iam.fail_errno = 0;
    expect_token(t, "p1", "tok-p1-3");
    dbb_tokens_free(t);
}

static void test_one_reauth_after_401(void **state)
{
    FakeIam iam = {.now = HOUR, .lifetime = 24 * HOUR};
    DbbTokens *t = tokens_for(&iam);

    expect_token(t, "p1", "tok-p1-1");
    /* Many callers saw the 401 with the same token: the first drops it, the others are
     * told to fetch the current one, and one request is made between them. */
    assert_true(dbb_tokens_rejected(t, "p1", "tok-p1-1"));
    assert_true(dbb_tokens_rejected(t, "p1", "tok-p1-1"));
    expect_token(t, "p1", "tok-p1-2");
    assert_true(dbb_tokens_rejected(t, "p1", "tok-p1-1")); /* stale: retry with the new one */
    expect_token(t, "p1", "tok-p1-2");
    assert_int_equal(iam.fetches, 2);
    /* The new token refused too: no further re-auth within the holdoff. */
    assert_false(dbb_tokens_rejected(t, "p1", "tok-p1-2"));
    expect_token(t, "p1", "tok-p1-2");
    assert_int_equal(iam.fetches, 2);
    /* Other scopes are not held off. */
    expect_token(t, "p2", "tok-p2-3");
    assert_true(dbb_tokens_rejected(t, "p2", "tok-p2-3"));
    /* After the holdoff, one more. */
    iam.now += HOLDOFF;
    assert_true(dbb_tokens_rejected(t, "p1", "tok-p1-2"));
    expect_token(t, "p1", "tok-p1-4");
    dbb_tokens_free(t);
}

static void test_refused_password_held_off(void **state)
{
    FakeIam iam = {.now = HOUR, .lifetime = 24 * HOUR, .fail_errno = EACCES};
    DbbTokens *t = tokens_for(&iam);
    g_autoptr(GError) error = NULL;

    assert_null(dbb_tokens_get(t, "p1", &error));
    assert_true(g_error_matches(error, DBB_API_ERROR, EACCES));
    g_clear_error(&error);
    assert_null(dbb_tokens_get(t, "p1", &error));
    assert_true(g_error_matches(error, DBB_API_ERROR, EACCES));
    g_clear_error(&error);
    assert_int_equal(iam.fetches, 1);
    iam.fail_errno = 0;
    iam.now += HOLDOFF;
    expect_token(t, "p1", "tok-p1-2");
    dbb_tokens_free(t);
}

static void test_short_lived_tokens(void **state)
{
    /* A token of 6 s (a test's cloudsim) is renewed after 3 s, not at once. */
    FakeIam iam = {.now = HOUR, .lifetime = 6 * G_USEC_PER_SEC};
    DbbTokens *t = tokens_for(&iam);

    expect_token(t, NULL, "tok-domain-1");
    iam.now += 3 * G_USEC_PER_SEC - 1;
    expect_token(t, NULL, "tok-domain-1");
    iam.now += 1;
    expect_token(t, NULL, "tok-domain-2");
    dbb_tokens_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renewal_rules),
        cmocka_unit_test(test_one_token_per_scope_renewed_in_time),
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_one_reauth_after_401),
        cmocka_unit_test(test_refused_password_held_off),
        cmocka_unit_test(test_short_lived_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
