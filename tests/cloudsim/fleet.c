/*
 * cloudsim — the fleet model, its indexes and the fleet document (load and dump).
 *
 * Records are compact JSON text.  Loaded records are re-serialised by json-c, whose
 * escaping sim_json_append_string() copies byte for byte, so a generated fleet dumped and
 * loaded again serves exactly the same bytes.
 */
#include "sim.h"

#include "api/jsonutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

const char *const sim_service_names[SIM_N_SERVICES] = {"taurusdb", "geminidb", "ddm",
                                                       "rds",      "dds",      "gaussdb"};

static void service_init(SimServiceData *d)
{
    d->instances = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    d->backups = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    d->table_backups = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    d->project_backups = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    d->instances_by_id = g_hash_table_new(g_str_hash, g_str_equal);
    d->by_instance =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
}

static void service_clear(SimServiceData *d)
{
    g_array_unref(d->instances);
    g_array_unref(d->backups);
    g_array_unref(d->table_backups);
    g_array_unref(d->project_backups);
    g_hash_table_unref(d->instances_by_id);
    g_hash_table_unref(d->by_instance);
}

static void project_free(gpointer p)
{
    SimProject *proj = p;

    for (int s = 0; s < SIM_N_SERVICES; s++)
        service_clear(&proj->svc[s]);
    g_free(proj);
}

SimFleet *sim_fleet_new(const char *ak, const char *sk, const char *domain_id)
{
    SimFleet *f = g_new0(SimFleet, 1);

    f->ak = g_strdup(ak ? ak : SIM_DEFAULT_AK);
    f->sk = g_strdup(sk ? sk : SIM_DEFAULT_SK);
    f->domain_id = g_strdup(domain_id ? domain_id : SIM_DEFAULT_DOMAIN_ID);
    /* Big chunks: a 300,000-backup fleet is ~150 MB of text. */
    f->text = g_string_chunk_new(1 << 20);
    f->projects = g_ptr_array_new_with_free_func(project_free);
    f->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    f->by_token = g_hash_table_new(g_str_hash, g_str_equal);
    return f;
}

void sim_fleet_free(SimFleet *f)
{
    if (!f)
        return;
    g_hash_table_unref(f->by_id);
    g_hash_table_unref(f->by_token);
    g_ptr_array_unref(f->projects);
    g_string_chunk_free(f->text);
    g_free(f->ak);
    /* The SK is a (simulated) secret: do not leave it lying in freed memory. */
    if (f->sk)
        memset(f->sk, 0, strlen(f->sk));
    g_free(f->sk);
    g_free(f->domain_id);
    g_free(f);
}

SimProject *sim_fleet_add_project(SimFleet *f, const char *record, const char *id, const char *name,
                                  const char *token, gboolean has_services)
{
    SimProject *p = g_new0(SimProject, 1);
    g_autofree char *default_token = NULL;

    if (!token)
        token = default_token = g_strconcat("simtoken-", id, NULL);
    p->id = g_string_chunk_insert(f->text, id);
    p->name = g_string_chunk_insert(f->text, name ? name : "");
    p->record = g_string_chunk_insert(f->text, record);
    p->record_len = strlen(record);
    p->token = g_string_chunk_insert(f->text, token);
    p->has_services = has_services;
    for (int s = 0; s < SIM_N_SERVICES; s++)
        service_init(&p->svc[s]);
    g_ptr_array_add(f->projects, p);
    return p;
}

void sim_fleet_add_record(SimFleet *f, GArray *list, const char *json, gsize len, const char *id,
                          const char *instance_id, gint64 begin)
{
    SimRecord r = {
        .json = g_string_chunk_insert_len(f->text, json, len),
        .len = (guint32)len,
        .id = id ? g_string_chunk_insert(f->text, id) : NULL,
        /* Many backups share an instance: store each instance id once. */
        .instance_id = instance_id ? g_string_chunk_insert_const(f->text, instance_id) : NULL,
        .begin = begin,
    };

    g_array_append_val(list, r);
}

static void index_service(SimServiceData *d, SimService which, guint64 *n_backups)
{
    for (guint i = 0; i < d->instances->len; i++) {
        SimRecord *r = &g_array_index(d->instances, SimRecord, i);

        /* A duplicate instance id keeps its first record, as a by-id lookup would. */
        if (r->id && !g_hash_table_contains(d->instances_by_id, r->id))
            g_hash_table_insert(d->instances_by_id, (gpointer)r->id, r);
    }
    *n_backups += d->backups->len + d->table_backups->len;
    if (which != SIM_TAURUSDB && which != SIM_RDS)
        return;
    for (guint i = 0; i < d->backups->len; i++) {
        SimRecord *r = &g_array_index(d->backups, SimRecord, i);
        GPtrArray *idx;

        if (!r->instance_id)
            continue;
        idx = g_hash_table_lookup(d->by_instance, r->instance_id);
        if (!idx) {
            idx = g_ptr_array_new();
            g_hash_table_insert(d->by_instance, (gpointer)r->instance_id, idx);
        }
        /* The array no longer grows: pointers into it stay valid. */
        g_ptr_array_add(idx, r);
    }
}

gboolean sim_fleet_finish(SimFleet *f, GError **error)
{
    for (guint i = 0; i < f->projects->len; i++) {
        SimProject *p = g_ptr_array_index(f->projects, i);

        if (g_hash_table_contains(f->by_id, p->id)) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "duplicate project id %s", p->id);
            return FALSE;
        }
        if (g_hash_table_contains(f->by_token, p->token)) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "two projects share one token (project %s)", p->id);
            return FALSE;
        }
        g_hash_table_insert(f->by_id, (gpointer)p->id, p);
        g_hash_table_insert(f->by_token, (gpointer)p->token, p);
        for (int s = 0; s < SIM_N_SERVICES; s++) {
            index_service(&p->svc[s], s, &f->n_backups);
            f->n_instances += p->svc[s].instances->len;
        }
    }
    return TRUE;
}

/* ---------- helpers ---------- */

void sim_json_append_string(GString *out, const char *s)
{
    /* The client's own escaper: what the fleet document holds is what json-c would
     * write back, byte for byte. */
    dbb_json_append_string(out, s);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static gint64 days_from_civil(gint64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (gint64)doe - 719468;
}

static gboolean parse_digits(const char **s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!g_ascii_isdigit((*s)[i]))
            return FALSE;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return TRUE;
}

static gboolean expect(const char **s, char c)
{
    if (**s != c)
        return FALSE;
    (*s)++;
    return TRUE;
}

static gboolean parse_zone(const char *s, int *offset)
{
    int sign, hh, mm;

    *offset = 0;
    if (*s == '\0' || (s[0] == 'Z' && s[1] == '\0'))
        return TRUE;
    if (*s != '+' && *s != '-')
        return FALSE;
    sign = *s++ == '-' ? -1 : 1;
    if (!parse_digits(&s, 2, &hh))
        return FALSE;
    if (*s == ':')
        s++;
    if (!parse_digits(&s, 2, &mm) || *s != '\0')
        return FALSE;
    *offset = sign * (hh * 3600 + mm * 60);
    return TRUE;
}

gboolean sim_parse_time(const char *s, gint64 *out)
{
    int y, mo, d, h, mi, se, offset;

    if (!s || !parse_digits(&s, 4, &y) || !expect(&s, '-') || !parse_digits(&s, 2, &mo) ||
        !expect(&s, '-') || !parse_digits(&s, 2, &d))
        return FALSE;
    if (*s != 'T' && *s != ' ')
        return FALSE;
    s++;
    if (!parse_digits(&s, 2, &h) || !expect(&s, ':') || !parse_digits(&s, 2, &mi) ||
        !expect(&s, ':') || !parse_digits(&s, 2, &se))
        return FALSE;
    if (*s == '.')
        for (s++; g_ascii_isdigit(*s); s++)
            ;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return FALSE;
    if (!parse_zone(s, &offset))
        return FALSE;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    return TRUE;
}

/* ---------- loading the fleet document ---------- */

/* The text of a string or integer member, as an index key; NULL otherwise. */
static char *member_text(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return g_strdup(json_object_get_string(v));
    if (json_object_is_type(v, json_type_int))
        return g_strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    return NULL;
}

static gboolean load_records(SimFleet *f, GArray *list, json_object *svc, const char *key,
                             gboolean want_begin, const char *where, GError **error)
{
    json_object *arr;
    size_t n;

    if (!json_object_object_get_ex(svc, key, &arr))
        return TRUE;
    if (!json_object_is_type(arr, json_type_array)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s.%s is not an array", where, key);
        return FALSE;
    }
    n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *rec = json_object_array_get_idx(arr, i);
        g_autofree char *id = NULL, *iid = NULL, *begin_text = NULL;
        gint64 begin = G_MININT64;
        size_t len;
        const char *text;

        if (!json_object_is_type(rec, json_type_object)) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s.%s[%zu] is not an object",
                        where, key, i);
            return FALSE;
        }
        id = member_text(rec, "id");
        iid = member_text(rec, "instance_id");
        begin_text = want_begin ? member_text(rec, "begin_time") : NULL;
        if (begin_text && !sim_parse_time(begin_text, &begin))
            begin = G_MININT64;
        text = json_object_to_json_string_length(
            rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        sim_fleet_add_record(f, list, text, len, id, iid, begin);
    }
    return TRUE;
}

static gboolean load_service(SimFleet *f, SimProject *p, SimService s, json_object *svc,
                             GError **error)
{
    g_autofree char *where = g_strdup_printf("project %s %s", p->id, sim_service_names[s]);
    SimServiceData *d = &p->svc[s];

    if (!json_object_is_type(svc, json_type_object)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not an object", where);
        return FALSE;
    }
    return load_records(f, d->instances, svc, "instances", FALSE, where, error) &&
           load_records(f, d->backups, svc, "backups", s == SIM_GEMINIDB, where, error) &&
           load_records(f, d->table_backups, svc, "table_backups", s == SIM_GEMINIDB, where,
                        error) &&
           load_records(f, d->project_backups, svc, "project_backups", FALSE, where, error);
}

static gboolean load_project(SimFleet *f, json_object *pj, guint index, GError **error)
{
    json_object *rec, *svc[SIM_N_SERVICES] = {NULL}, *tok = NULL;
    g_autofree char *id = NULL, *name = NULL;
    gboolean has_services = FALSE;
    SimProject *p;

    if (!json_object_is_type(pj, json_type_object) ||
        !json_object_object_get_ex(pj, "record", &rec) ||
        !json_object_is_type(rec, json_type_object) || !(id = member_text(rec, "id"))) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "projects[%u] needs a \"record\" object with an \"id\"", index);
        return FALSE;
    }
    name = member_text(rec, "name");
    for (int s = 0; s < SIM_N_SERVICES; s++)
        has_services |= json_object_object_get_ex(pj, sim_service_names[s], &svc[s]);
    if (json_object_object_get_ex(pj, "token", &tok) &&
        !json_object_is_type(tok, json_type_string)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "projects[%u].token is not a string",
                    index);
        return FALSE;
    }
    p = sim_fleet_add_project(f,
                              json_object_to_json_string_ext(
                                  rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                              id, name, tok ? json_object_get_string(tok) : NULL, has_services);
    for (int s = 0; s < SIM_N_SERVICES; s++)
        if (svc[s] && !load_service(f, p, s, svc[s], error))
            return FALSE;
    return TRUE;
}

static const char *credential(json_object *creds, const char *key)
{
    json_object *v;

    if (creds && json_object_object_get_ex(creds, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static SimFleet *fleet_from_json(json_object *doc, GError **error)
{
    json_object *creds = NULL, *projects;
    g_autoptr(SimFleet) f = NULL;

    if (!json_object_is_type(doc, json_type_object) ||
        !json_object_object_get_ex(doc, "projects", &projects) ||
        !json_object_is_type(projects, json_type_array)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "a fleet document is an object with a \"projects\" array");
        return NULL;
    }
    json_object_object_get_ex(doc, "credentials", &creds);
    f = sim_fleet_new(credential(creds, "ak"), credential(creds, "sk"),
                      credential(creds, "domain_id"));
    for (size_t i = 0; i < json_object_array_length(projects); i++)
        if (!load_project(f, json_object_array_get_idx(projects, i), (guint)i, error))
            return NULL;
    if (!sim_fleet_finish(f, error))
        return NULL;
    return g_steal_pointer(&f);
}

SimFleet *sim_fleet_load(const char *doc, gsize len, GError **error)
{
    json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    json_object *root;
    SimFleet *f = NULL;

    root = json_tokener_parse_ex(tok, doc, (int)len);
    if (!root || json_tokener_get_parse_end(tok) < len) {
        /* Trailing whitespace after the document is fine; anything else is not. */
        gsize end = json_tokener_get_parse_end(tok);
        while (root && end < len && g_ascii_isspace(doc[end]))
            end++;
        if (!root || end < len) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "the fleet document is not valid JSON: %s",
                        json_tokener_error_desc(json_tokener_get_error(tok)));
            goto out;
        }
    }
    f = fleet_from_json(root, error);
out:
    json_object_put(root);
    json_tokener_free(tok);
    return f;
}

SimFleet *sim_fleet_load_file(const char *path, GError **error)
{
    g_autofree char *doc = NULL;
    gsize len;

    if (!g_file_get_contents(path, &doc, &len, error))
        return NULL;
    if (len > G_MAXINT) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: too large", path);
        return NULL;
    }
    return sim_fleet_load(doc, len, error);
}

/* ---------- dumping ---------- */

static void dump_records(GString *out, const char *key, const GArray *list)
{
    g_string_append_printf(out, "\"%s\":[", key);
    for (guint i = 0; i < list->len; i++) {
        const SimRecord *r = &g_array_index(list, SimRecord, i);

        g_string_append(out, i ? ",\n" : "\n");
        g_string_append_len(out, r->json, r->len);
    }
    g_string_append_c(out, ']');
}

static void dump_project(GString *out, const SimProject *p)
{
    g_string_append(out, "{\"record\":");
    g_string_append_len(out, p->record, p->record_len);
    g_string_append(out, ",\"token\":");
    sim_json_append_string(out, p->token);
    if (p->has_services) {
        for (int s = 0; s < SIM_N_SERVICES; s++) {
            const SimServiceData *d = &p->svc[s];

            g_string_append_printf(out, ",\n\"%s\":{", sim_service_names[s]);
            dump_records(out, "instances", d->instances);
            g_string_append_c(out, ',');
            dump_records(out, "backups", d->backups);
            if (s == SIM_GEMINIDB) {
                g_string_append_c(out, ',');
                dump_records(out, "table_backups", d->table_backups);
            }
            if (s == SIM_TAURUSDB) {
                g_string_append_c(out, ',');
                dump_records(out, "project_backups", d->project_backups);
            }
            g_string_append_c(out, '}');
        }
    }
    g_string_append_c(out, '}');
}

GString *sim_fleet_dump(const SimFleet *f)
{
    GString *out = g_string_sized_new(4096 + (gsize)f->n_backups * 400);

    g_string_append(out, "{\"credentials\":{\"ak\":");
    sim_json_append_string(out, f->ak);
    g_string_append(out, ",\"sk\":");
    sim_json_append_string(out, f->sk);
    g_string_append(out, ",\"domain_id\":");
    sim_json_append_string(out, f->domain_id);
    g_string_append(out, "},\n\"projects\":[");
    for (guint i = 0; i < f->projects->len; i++) {
        g_string_append(out, i ? ",\n" : "\n");
        dump_project(out, g_ptr_array_index(f->projects, i));
    }
    g_string_append(out, "]}\n");
    return out;
}

gboolean sim_fleet_dump_file(const SimFleet *f, const char *path, GError **error)
{
    g_autoptr(GString) doc = sim_fleet_dump(f);

    return g_file_set_contents(path, doc->str, (gssize)doc->len, error);
}
