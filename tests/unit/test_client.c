/*
 * The cloud client against cloudsim (through simfixture): exact request counts per listing
 * size for the three services (and DDM with a page-number offset), the whole default fleet
 * compared record by record (raw bytes) with the simulator's ground truth, fault runs that
 * list exactly the same, an outage that fails within the timeout, and the errno of auth and
 * lookup failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "api/client.h"
#include "api/error.h"
#include "api/model.h"
#include "api/rawjson.h"
#include "api/service.h"
#include "simfixture.h"

/* ---- fixtures ---- */

static SimFixture *start_sim(const char *first, ...) G_GNUC_NULL_TERMINATED;

static SimFixture *start_sim(const char *first, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    SimFixture *sim;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
        g_ptr_array_add(args, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(args, NULL);
    sim = sim_start((const char *const *)args->pdata);
    if (sim == NULL)
        fail_msg("cloudsim did not start");
    return sim;
}

static DbbClient *client_with(SimFixture *sim, const DbbCredentials *creds, double timeout)
{
    g_autofree char *endpoint = sim_endpoint_template(sim);
    DbbClientConfig config = {
        .endpoint = endpoint,
        .timeout = timeout,
        .max_conns = 8,
        .credentials = creds,
    };
    g_autoptr(GError) error = NULL;
    DbbClient *client = dbb_client_new(&config, &error);

    if (client == NULL)
        fail_msg("client: %s", error->message);
    return client;
}

static DbbClient *aksk_client(SimFixture *sim, const char *sk, double timeout)
{
    DbbCredentials creds = {
        .kind = DBB_AUTH_AKSK,
        .ak = (char *)SIM_FIXTURE_AK,
        .sk = (char *)sk,
        .domain_id = (char *)SIM_FIXTURE_DOMAIN_ID,
    };

    return client_with(sim, &creds, timeout);
}

static DbbClient *token_client(SimFixture *sim, const char *token)
{
    DbbCredentials creds = {.kind = DBB_AUTH_TOKEN, .token = (char *)token};

    return client_with(sim, &creds, 30);
}

static GPtrArray *projects_of(DbbClient *client)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *projects = dbb_client_list_projects(client, &error);

    if (projects == NULL)
        fail_msg("projects: %s", error->message);
    return projects;
}

static GPtrArray *instances_of(DbbClient *client, const DbbService *service,
                               const DbbProject *project)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *list = dbb_client_list_instances(client, service, project, &error);

    if (list == NULL)
        fail_msg("%s instances: %s", service->name, error->message);
    return list;
}

static GPtrArray *backups_of(DbbClient *client, const DbbService *service,
                             const DbbProject *project, const char *instance_id)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *list = dbb_client_list_backups(client, service, project, instance_id, &error);

    if (list == NULL)
        fail_msg("%s backups: %s", service->name, error->message);
    return list;
}

/* ---- ground truth, as raw text spans of /_sim/fleet ---- */

typedef struct {
    char *text;
    gsize len;
} Fleet;

static void fleet_load(SimFixture *sim, Fleet *fleet)
{
    long status = sim_http_get(sim, "/_sim/fleet", NULL, &fleet->text, NULL);

    assert_int_equal(status, 200);
    fleet->len = strlen(fleet->text);
}

static gboolean member(const Fleet *f, DbbSpan in, const char *name, DbbSpan *out)
{
    if (!dbb_rawjson_member_span(f->text + in.offset, in.length, name, out))
        return FALSE;
    out->offset += in.offset;
    return TRUE;
}

/* The element spans of the array at `array`. */
static GArray *elements(const Fleet *f, DbbSpan array)
{
    g_autofree char *wrapped =
        g_strdup_printf("{\"a\":%.*s}", (int)array.length, f->text + array.offset);
    const char *why = NULL;
    GArray *spans = NULL;

    if (!dbb_rawjson_array_spans(wrapped, strlen(wrapped), "a", &spans, &why))
        fail_msg("fleet: %s", why);
    for (guint i = 0; i < spans->len; i++)
        g_array_index(spans, DbbSpan, i).offset += array.offset - strlen("{\"a\":");
    return spans;
}

/* Records of project p's service list `list` ("instances", "backups", "table_backups"). */
static GArray *truth_list(const Fleet *f, guint p, const char *service, const char *list)
{
    DbbSpan all = {0, f->len}, projects, svc, arr;
    g_autoptr(GArray) project_spans = NULL;

    assert_true(member(f, all, "projects", &projects));
    project_spans = elements(f, projects);
    assert_true(p < project_spans->len);
    if (!member(f, g_array_index(project_spans, DbbSpan, p), service, &svc) ||
        !member(f, svc, list, &arr))
        return g_array_new(FALSE, FALSE, sizeof(DbbSpan));
    return elements(f, arr);
}

/* A member of a truth record as text (strings unquoted), or NULL. */
static char *truth_field(const Fleet *f, DbbSpan record, const char *name)
{
    g_autofree char *text = g_strndup(f->text + record.offset, record.length);
    json_object *obj = json_tokener_parse(text), *value;
    char *result = NULL;

    if (obj != NULL && json_object_object_get_ex(obj, name, &value) && value != NULL)
        result = g_strdup(json_object_get_string(value));
    json_object_put(obj);
    return result;
}

static guint truth_project_count(const Fleet *f)
{
    DbbSpan all = {0, f->len}, projects;
    g_autoptr(GArray) spans = NULL;

    assert_true(member(f, all, "projects", &projects));
    spans = elements(f, projects);
    return spans->len;
}

/* ---- request counts ---- */

static guint pages_for(guint64 n, guint limit)
{
    return (guint)MAX(1, (n + limit - 1) / limit);
}

/* Requests to `route` in /_sim/requests whose query contains `needle` (NULL: all). */
static guint requests_matching(SimFixture *sim, const char *route, const char *needle)
{
    json_object *doc = sim_get_json(sim, "/_sim/requests"), *list;
    guint n = 0;

    assert_non_null(doc);
    assert_true(json_object_object_get_ex(doc, "requests", &list));
    for (gsize i = 0; i < json_object_array_length(list); i++) {
        json_object *r = json_object_array_get_idx(list, i), *v;
        const char *query = "";
        if (!json_object_object_get_ex(r, "route", &v) ||
            strcmp(json_object_get_string(v), route) != 0)
            continue;
        if (json_object_object_get_ex(r, "query", &v) && v != NULL)
            query = json_object_get_string(v);
        if (needle == NULL || strstr(query, needle) != NULL)
            n++;
    }
    json_object_put(doc);
    return n;
}

static const guint sizes[] = {0, 1, 99, 100, 101, 250, 1000};

static const DbbService *svc(const char *name)
{
    const DbbService *s = dbb_service_find(name);

    assert_non_null(s);
    return s;
}

static guint ddm_expected(guint64 n, gboolean page_mode)
{
    /* Beyond one page the probe at offset 1 tells the readings apart: for a page-number
     * server it is page 1; for an item-index server it brings one record, so the pages after
     * it start at 129. */
    if (page_mode || n <= 128)
        return pages_for(n, 128);
    return 2 + (guint)((n - 129 + 127) / 128);
}

static void count_instances(guint n, gboolean page_mode)
{
    g_autofree char *count = g_strdup_printf("%u", n);
    SimFixture *sim = start_sim("--no-extras", "--projects", "1", "--instances", count, "--backups",
                                "0", "--ddm-offset", page_mode ? "page" : "item", NULL);
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    g_autoptr(GPtrArray) projects = projects_of(client);
    const char *names[] = {"taurusdb", "geminidb", "ddm"};

    assert_int_equal(projects->len, 1);
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *route = g_strdup_printf("%s.instances", names[i]);
        g_autoptr(GPtrArray) list = NULL;
        guint expected = i == 2 ? ddm_expected(n, page_mode) : pages_for(n, 100);
        gint64 got;

        sim_reset_counts(sim);
        list = instances_of(client, svc(names[i]), projects->pdata[0]);
        got = sim_count(sim, route);
        printf("# instances n=%u %s%s: %" G_GINT64_FORMAT " requests\n", n, names[i],
               page_mode ? " (page offsets)" : "", got);
        assert_int_equal(list->len, n);
        assert_int_equal(got, expected);
    }
    dbb_client_free(client);
    sim_stop(sim);
}

static void count_backups(guint n, gboolean page_mode)
{
    g_autofree char *count = g_strdup_printf("%u", n);
    SimFixture *sim = start_sim("--no-extras", "--projects", "1", "--instances", "1", "--backups",
                                count, "--ddm-offset", page_mode ? "page" : "item", NULL);
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    g_autoptr(GPtrArray) projects = projects_of(client);
    const DbbProject *project = projects->pdata[0];
    g_autoptr(GPtrArray) tinst = instances_of(client, svc("taurusdb"), project);
    g_autoptr(GPtrArray) tb = NULL, gb = NULL, db = NULL;
    Fleet fleet = {0};
    g_autoptr(GArray) g_instance = NULL, g_table = NULL;
    guint g_inst_req, g_table_req;

    fleet_load(sim, &fleet);
    g_instance = truth_list(&fleet, 0, "geminidb", "backups");
    g_table = truth_list(&fleet, 0, "geminidb", "table_backups");
    assert_int_equal(g_instance->len + g_table->len, n);
    assert_int_equal(tinst->len, 1);

    sim_reset_counts(sim);
    tb = backups_of(client, svc("taurusdb"), project, ((DbbInstance *)tinst->pdata[0])->id);
    assert_int_equal(tb->len, n);
    assert_int_equal(sim_count(sim, "taurusdb.backups"), pages_for(n, 100));

    sim_reset_counts(sim);
    gb = backups_of(client, svc("geminidb"), project, NULL);
    assert_int_equal(gb->len, n);
    g_inst_req = requests_matching(sim, "geminidb.backups", "type=Instance");
    g_table_req = requests_matching(sim, "geminidb.backups", "type=DatabaseTable");
    assert_int_equal(g_inst_req, pages_for(g_instance->len, 100));
    assert_int_equal(g_table_req, pages_for(g_table->len, 100));
    assert_int_equal(sim_count(sim, "geminidb.backups"), g_inst_req + g_table_req);

    sim_reset_counts(sim);
    db = backups_of(client, svc("ddm"), project, NULL);
    assert_int_equal(db->len, n);
    assert_int_equal(sim_count(sim, "ddm.backups"), ddm_expected(n, page_mode));

    printf("# backups n=%u%s: taurusdb %u, geminidb Instance(%u) %u + DatabaseTable(%u) %u, "
           "ddm %u requests\n",
           n, page_mode ? " (ddm page offsets)" : "", pages_for(n, 100), g_instance->len,
           g_inst_req, g_table->len, g_table_req, ddm_expected(n, page_mode));
    g_free(fleet.text);
    dbb_client_free(client);
    sim_stop(sim);
}

static void test_pagination_counts(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        count_instances(sizes[i], FALSE);
        count_backups(sizes[i], FALSE);
    }
}

static void test_pagination_counts_ddm_page_offsets(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        count_instances(sizes[i], TRUE);
        count_backups(sizes[i], TRUE);
    }
}

/* ---- the whole fleet against the truth ---- */

static void expect_backups(const Fleet *f, GArray *truth, GPtrArray *listed, const char *what)
{
    if (truth->len != listed->len)
        fail_msg("%s: %u backups listed, the truth has %u", what, listed->len, truth->len);
    for (guint i = 0; i < truth->len; i++) {
        DbbSpan s = g_array_index(truth, DbbSpan, i);
        DbbBackup *b = listed->pdata[i];
        if (b->raw_len != s.length || memcmp(b->raw, f->text + s.offset, s.length) != 0)
            fail_msg("%s: backup %u differs:\n  listed %s\n  truth  %.*s", what, i, b->raw,
                     (int)s.length, f->text + s.offset);
    }
}

static void append_backups(GString *snap, GPtrArray *list)
{
    for (guint i = 0; i < list->len; i++) {
        DbbBackup *b = list->pdata[i];
        g_string_append_printf(snap,
                               "  %s|%s|%s|%s|%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT
                               "|%" G_GINT64_FORMAT "|%s\n",
                               b->id, b->name, b->instance_id, b->instance_name, b->status,
                               b->start_time, b->finish_time, b->size_bytes, b->raw);
    }
}

/* The project's backups of one instance of a per-instance service, in truth order. */
static GArray *truth_instance_backups(const Fleet *f, guint p, const char *service,
                                      const char *instance_id)
{
    g_autoptr(GArray) all = truth_list(f, p, service, "backups");
    GArray *mine = g_array_new(FALSE, FALSE, sizeof(DbbSpan));

    for (guint i = 0; i < all->len; i++) {
        g_autofree char *iid = truth_field(f, g_array_index(all, DbbSpan, i), "instance_id");
        if (g_strcmp0(iid, instance_id) == 0)
            g_array_append_val(mine, g_array_index(all, DbbSpan, i));
    }
    return mine;
}

/* The instances past the listed ones carry the manual records of the project-wide list
 * (TaurusDB's project_backups) whose instance is not listed: all of them, each once. */
static void expect_deleted(const Fleet *f, guint p, const DbbService *service, GPtrArray *instances,
                           guint n_listed)
{
    g_autoptr(GArray) wide = truth_list(f, p, service->name, "project_backups");
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    guint want = 0, got = 0;

    for (guint i = 0; i < n_listed; i++) {
        DbbInstance *in = instances->pdata[i];
        assert_null(in->backups);
        g_hash_table_add(listed, in->id);
    }
    for (guint i = 0; i < wide->len; i++) {
        DbbSpan sp = g_array_index(wide, DbbSpan, i);
        g_autofree char *type = truth_field(f, sp, "type");
        g_autofree char *iid = truth_field(f, sp, "instance_id");
        if (g_strcmp0(type, "manual") == 0 && !g_hash_table_contains(listed, iid))
            want++;
    }
    for (guint i = n_listed; i < instances->len; i++) {
        DbbInstance *in = instances->pdata[i];
        assert_non_null(in->backups);
        assert_false(g_hash_table_contains(listed, in->id));
        for (guint j = 0; j < in->backups->len; j++) {
            DbbBackup *b = in->backups->pdata[j];
            assert_string_equal(b->instance_id, in->id);
            assert_non_null(strstr(b->raw, "\"type\":\"manual\""));
            got++;
        }
    }
    assert_int_equal(got, want);
}

static void append_deleted(GString *snap, GPtrArray *instances, guint n_listed)
{
    for (guint i = n_listed; i < instances->len; i++) {
        DbbInstance *in = instances->pdata[i];
        g_string_append_printf(snap, " deleted %s|%s\n", in->id, in->name);
        append_backups(snap, in->backups);
    }
}

/* Which truth project (index) has this id. */
static guint truth_project_index(const Fleet *f, const char *id)
{
    guint n = truth_project_count(f);

    for (guint p = 0; p < n; p++) {
        DbbSpan all = {0, f->len}, projects, record;
        g_autoptr(GArray) spans = NULL;
        g_autofree char *pid = NULL;

        assert_true(member(f, all, "projects", &projects));
        spans = elements(f, projects);
        assert_true(member(f, g_array_index(spans, DbbSpan, p), "record", &record));
        pid = truth_field(f, record, "id");
        if (g_strcmp0(pid, id) == 0)
            return p;
    }
    fail_msg("project %s is not in the truth", id);
    return 0;
}

static void snapshot_service(DbbClient *client, const Fleet *f, guint p, const DbbService *service,
                             const DbbProject *project, GString *snap)
{
    g_autoptr(GPtrArray) instances = instances_of(client, service, project);
    g_autoptr(GArray) truth_instances = truth_list(f, p, service->name, "instances");

    assert_true(instances->len >= truth_instances->len);
    g_string_append_printf(snap, "%s/%s\n", project->id, service->name);
    /* After the listed instances, the deleted ones the project-wide list still knows. */
    expect_deleted(f, p, service, instances, truth_instances->len);
    append_deleted(snap, instances, truth_instances->len);
    for (guint i = 0; i < truth_instances->len; i++) {
        DbbInstance *in = instances->pdata[i];
        g_autofree char *id = truth_field(f, g_array_index(truth_instances, DbbSpan, i), "id");
        assert_string_equal(in->id, id);
        g_string_append_printf(snap, " %s|%s|%" G_GINT64_FORMAT "\n", in->id, in->name, in->mtime);
        if (service->backup_scope == DBB_BACKUPS_PER_INSTANCE) {
            g_autoptr(GPtrArray) list = backups_of(client, service, project, in->id);
            g_autoptr(GArray) truth = truth_instance_backups(f, p, service->name, in->id);
            expect_backups(f, truth, list, in->id);
            append_backups(snap, list);
        }
    }
    if (service->backup_scope == DBB_BACKUPS_PER_PROJECT) {
        g_autoptr(GPtrArray) list = backups_of(client, service, project, NULL);
        g_autoptr(GArray) truth = truth_list(f, p, service->name, "backups");
        g_autoptr(GArray) tables = truth_list(f, p, service->name, "table_backups");
        g_array_append_vals(truth, tables->data, tables->len);
        expect_backups(f, truth, list, service->name);
        append_backups(snap, list);
    }
}

/* Everything the client lists, checked against the truth, as one string. */
static char *snapshot(DbbClient *client, const Fleet *f)
{
    g_autoptr(GPtrArray) projects = projects_of(client);
    GString *snap = g_string_new(NULL);
    guint truth_projects = truth_project_count(f);

    /* Every project but IAM's own MOS. */
    assert_int_equal(projects->len, truth_projects - 1);
    for (guint i = 0; i < projects->len; i++) {
        const DbbProject *project = projects->pdata[i];
        guint p = truth_project_index(f, project->id);
        assert_true(g_strcmp0(project->name, "MOS") != 0);
        g_string_append_printf(snap, "project %s|%s|%s\n", project->id, project->name,
                               project->region);
        for (const DbbService *const *s = dbb_services(); *s != NULL; s++)
            snapshot_service(client, f, p, *s, project, snap);
    }
    return g_string_free(snap, FALSE);
}

static void test_full_fleet(void **state)
{
    SimFixture *sim = start_sim(NULL, NULL);
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    Fleet fleet = {0};
    g_autofree char *clean = NULL;
    g_autofree char *faulty = NULL;
    json_object *counts, *faults, *v;
    gint64 fired = 0;

    fleet_load(sim, &fleet);
    clean = snapshot(client, &fleet);
    /* The extras are there: the seed records among them. */
    assert_non_null(strstr(clean, "\"backup-001\""));
    assert_non_null(strstr(clean, "43e4feaab48f11e89039fa163ebaa7e4br02"));
    assert_non_null(strstr(clean, "c131f9339****5cdebe350228br09"));

    /* 20 % 500, 10 % 429 (Retry-After 0), 5 % truncated: the same listings. */
    sim_reset_counts(sim);
    assert_true(sim_set_faults(sim, "{\"error_rate\": 0.2, \"throttle_rate\": 0.1, "
                                    "\"truncate_rate\": 0.05, \"retry_after\": 0}"));
    for (int run = 0; run < 3; run++) {
        g_free(faulty);
        faulty = snapshot(client, &fleet);
        assert_string_equal(faulty, clean);
    }
    counts = sim_get_json(sim, "/_sim/counts");
    assert_true(json_object_object_get_ex(counts, "faults", &faults));
    for (const char *k = "error"; k != NULL; k = strcmp(k, "error") == 0      ? "throttle"
                                                 : strcmp(k, "throttle") == 0 ? "truncate"
                                                                              : NULL) {
        assert_true(json_object_object_get_ex(faults, k, &v));
        printf("# fault run: %s %" G_GINT64_FORMAT "\n", k, json_object_get_int64(v));
        assert_true(json_object_get_int64(v) > 0);
        fired += json_object_get_int64(v);
    }
    json_object_put(counts);
    assert_true(fired > 0);
    g_free(fleet.text);
    dbb_client_free(client);
    sim_stop(sim);
}

/* The same fleet served with page-number offsets lists the same. */
static void test_full_fleet_ddm_page_offsets(void **state)
{
    SimFixture *sim =
        start_sim("--ddm-offset", "page", "--instances", "150", "--backups", "1", NULL);
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    Fleet fleet = {0};
    g_autofree char *snap = NULL;

    fleet_load(sim, &fleet);
    snap = snapshot(client, &fleet);
    assert_non_null(snap);
    g_free(fleet.text);
    dbb_client_free(client);
    sim_stop(sim);
}

/* One backup in both GeminiDB listings (type=Instance and type=DatabaseTable) with
 * different contents: one entry, at its first position, the DatabaseTable version. */
static void test_geminidb_duplicate_across_types(void **state)
{
    SimFixture *sim =
        start_sim("--no-extras", "--projects", "1", "--instances", "2", "--backups", "3", NULL);
    json_object *doc = sim_get_json(sim, "/_sim/fleet"), *projects, *gemini, *backups, *tables;
    json_object *copy = NULL;
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GPtrArray) project_list = NULL;
    const char *dup_id;
    guint n_backups, n_tables;

    assert_non_null(doc);
    assert_true(json_object_object_get_ex(doc, "projects", &projects));
    assert_true(
        json_object_object_get_ex(json_object_array_get_idx(projects, 0), "geminidb", &gemini));
    assert_true(json_object_object_get_ex(gemini, "backups", &backups));
    assert_true(json_object_object_get_ex(gemini, "table_backups", &tables));
    n_backups = (guint)json_object_array_length(backups);
    n_tables = (guint)json_object_array_length(tables);
    assert_true(n_backups >= 2);
    assert_int_equal(json_object_deep_copy(json_object_array_get_idx(backups, 1), &copy, NULL), 0);
    json_object_object_add(copy, "name", json_object_new_string("the later version"));
    json_object_array_add(tables, copy);
    dup_id = json_object_get_string(json_object_object_get(copy, "id"));
    assert_true(sim_post_json(sim, "/_sim/fleet", json_object_to_json_string(doc)));

    project_list = projects_of(client);
    list = backups_of(client, svc("geminidb"), project_list->pdata[0], NULL);
    assert_int_equal(list->len, n_backups + n_tables);
    assert_string_equal(((DbbBackup *)list->pdata[1])->id, dup_id);
    assert_string_equal(((DbbBackup *)list->pdata[1])->name, "the later version");
    for (guint i = 0; i < list->len; i++)
        if (i != 1)
            assert_string_not_equal(((DbbBackup *)list->pdata[i])->id, dup_id);
    json_object_put(doc);
    dbb_client_free(client);
    sim_stop(sim);
}

/* ---- failures ---- */

static void assert_errno(GError *error, int code)
{
    if (error == NULL)
        fail_msg("no error, expected errno %d", code);
    if (!g_error_matches(error, DBB_API_ERROR, code))
        fail_msg("expected errno %d, got %d: %s", code, error->code, error->message);
}

static void test_outage(void **state)
{
    SimFixture *sim = start_sim("--no-extras", "--projects", "1", NULL);
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    g_autoptr(GPtrArray) projects = projects_of(client);
    DbbClient *hurried = aksk_client(sim, SIM_FIXTURE_SK, 2.0);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;
    gint64 start, elapsed;

    assert_true(sim_set_faults(sim, "{\"outage\": true}"));
    start = g_get_monotonic_time();
    list = dbb_client_list_instances(hurried, svc("ddm"), projects->pdata[0], &error);
    elapsed = g_get_monotonic_time() - start;
    printf("# outage: failed after %.2f s (timeout 2 s)\n", elapsed / 1e6);
    assert_null(list);
    assert_errno(error, EIO);
    assert_true(elapsed <= 2500000);
    g_clear_error(&error);

    start = g_get_monotonic_time();
    list = dbb_client_list_projects(hurried, &error);
    elapsed = g_get_monotonic_time() - start;
    assert_null(list);
    assert_errno(error, EIO);
    assert_true(elapsed <= 2500000);

    dbb_client_free(hurried);
    dbb_client_free(client);
    sim_stop(sim);
}

static void test_auth_failures(void **state)
{
    SimFixture *sim = start_sim("--no-extras", "--projects", "2", NULL);
    DbbClient *good = aksk_client(sim, SIM_FIXTURE_SK, 30);
    g_autoptr(GPtrArray) projects = projects_of(good);
    DbbClient *bad_sk = aksk_client(sim, "SKwrong0000000000000000000000000000000000", 30);
    DbbClient *bad_token = token_client(sim, "simtoken-00000000000000000000000000000000");
    const DbbProject *a = projects->pdata[0], *b = projects->pdata[1];
    g_autofree char *token_a = g_strconcat("simtoken-", a->id, NULL);
    DbbClient *client_a = token_client(sim, token_a);
    GError *error = NULL;
    GPtrArray *list;

    assert_int_equal(projects->len, 2);
    list = dbb_client_list_projects(bad_sk, &error);
    assert_null(list);
    assert_errno(error, EACCES);
    g_clear_error(&error);
    list = dbb_client_list_instances(bad_sk, svc("taurusdb"), a, &error);
    assert_null(list);
    assert_errno(error, EACCES);
    assert_null(strstr(error->message, "SKwrong"));
    g_clear_error(&error);

    list = dbb_client_list_backups(bad_token, svc("geminidb"), a, NULL, &error);
    assert_null(list);
    assert_errno(error, EACCES);
    assert_null(strstr(error->message, "simtoken"));
    g_clear_error(&error);

    /* A token is good for its own project only. */
    list = dbb_client_list_instances(client_a, svc("ddm"), a, &error);
    assert_non_null(list);
    g_ptr_array_unref(list);
    list = dbb_client_list_instances(client_a, svc("ddm"), b, &error);
    assert_null(list);
    assert_errno(error, EACCES);
    g_clear_error(&error);

    dbb_client_free(client_a);
    dbb_client_free(bad_token);
    dbb_client_free(bad_sk);
    dbb_client_free(good);
    sim_stop(sim);
}

static void test_lookup_failures(void **state)
{
    SimFixture *sim = start_sim("--no-extras", "--projects", "1", NULL);
    DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 30);
    g_autoptr(GPtrArray) projects = projects_of(client);
    const DbbProject *project = projects->pdata[0];
    const char *unsafe[] = {"", "a/b", "..", "x?y", "x#y", "x%2F"};
    GError *error = NULL;
    GPtrArray *list;

    list = dbb_client_list_backups(client, svc("taurusdb"), project,
                                   "0123456789abcdef0123456789abcdefin07", &error);
    assert_null(list);
    assert_errno(error, ENOENT);
    g_clear_error(&error);

    /* IDs that could leave their path segment are refused before any request. */
    sim_reset_counts(sim);
    for (gsize i = 0; i < G_N_ELEMENTS(unsafe); i++) {
        list = dbb_client_list_backups(client, svc("taurusdb"), project, unsafe[i], &error);
        assert_null(list);
        assert_errno(error, EIO);
        g_clear_error(&error);
    }
    assert_int_equal(sim_count(sim, "total"), 0);

    /* The scope must match the service. */
    list = dbb_client_list_backups(client, svc("taurusdb"), project, NULL, &error);
    assert_null(list);
    assert_errno(error, EINVAL);
    g_clear_error(&error);
    list = dbb_client_list_backups(client, svc("ddm"), project, "x", &error);
    assert_null(list);
    assert_errno(error, EINVAL);
    g_clear_error(&error);

    dbb_client_free(client);
    sim_stop(sim);
}

/* Through the real client, paginator and http layer against cloudsim misbehaving: each
 * case fails (EIO) or lists everything within its request bound. */
typedef struct {
    const char *misbehave; /* POST /_sim/misbehave body */
    guint backups;         /* records of the one instance */
    gboolean ok;
    guint max_requests;
} HostileCase;

static void test_hostile_through_client(void **state)
{
    static const HostileCase cases[] = {
        {"{\"deep\":10000}", 3, FALSE, 2},
        {"{\"invalid_json\":true}", 3, FALSE, 2},
        {"{\"redirect\":true}", 3, FALSE, 1},
        {"{\"oversize\":100000000}", 3, FALSE, 1},
        {"{\"total\":\"1000000\"}", 3, TRUE, 2},
        {"{\"hole\":{\"offset\":200,\"records\":0}}", 500, FALSE, 7},
        {"{\"strings\":true,\"total_delta\":5}", 3900, TRUE, 41},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *count = g_strdup_printf("%u", cases[i].backups);
        g_autofree char *body = NULL;
        SimFixture *sim = start_sim("--no-extras", "--projects", "1", "--instances", "1",
                                    "--backups", count, NULL);
        DbbClient *client = aksk_client(sim, SIM_FIXTURE_SK, 10);
        g_autoptr(GPtrArray) projects = projects_of(client);
        g_autoptr(GPtrArray) inst = instances_of(client, svc("taurusdb"), projects->pdata[0]);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        gint64 requests;

        body = g_strdup_printf("{\"route\":\"taurusdb.backups\",%s", cases[i].misbehave + 1);
        assert_true(sim_post_json(sim, "/_sim/misbehave", body));
        sim_reset_counts(sim);
        list = dbb_client_list_backups(client, svc("taurusdb"), projects->pdata[0],
                                       ((DbbInstance *)inst->pdata[0])->id, &error);
        requests = sim_count(sim, "taurusdb.backups");
        printf("# %s (%u records): %s in %" G_GINT64_FORMAT " requests\n", cases[i].misbehave,
               cases[i].backups, list ? "listed" : "EIO", requests);
        if (cases[i].ok) {
            if (list == NULL)
                fail_msg("%s: %s", cases[i].misbehave, error->message);
            assert_int_equal(list->len, cases[i].backups);
        } else {
            assert_null(list);
            assert_true(g_error_matches(error, DBB_API_ERROR, EIO));
        }
        assert_true(requests <= (gint64)cases[i].max_requests);
        dbb_client_free(client);
        sim_stop(sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pagination_counts),
        cmocka_unit_test(test_pagination_counts_ddm_page_offsets),
        cmocka_unit_test(test_full_fleet),
        cmocka_unit_test(test_full_fleet_ddm_page_offsets),
        cmocka_unit_test(test_geminidb_duplicate_across_types),
        cmocka_unit_test(test_outage),
        cmocka_unit_test(test_auth_failures),
        cmocka_unit_test(test_lookup_failures),
        cmocka_unit_test(test_hostile_through_client),
    };

    if (g_getenv("CLOUDSIM") == NULL) {
        fprintf(stderr, "CLOUDSIM is not set: skipping\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
