/*
 * cloudsim — misbehaving on purpose, as real servers and proxies do (DESIGN.md, The
 * simulator): lying totals, holes, capped pages, oversized, gzip-bomb and slow-drip bodies,
 * deep or invalid JSON, invalid UTF-8, redirects, records that change between listings.
 *
 * Driven from one control route:
 *   POST /_sim/misbehave {...}   replaces the settings (an empty object: behave again)
 *   GET  /_sim/misbehave         the settings and what they did (holes served, listings)
 * Members (all optional):
 *   "route": "taurusdb.backups"  only this route (default: every API route)
 *   "total": <any JSON>          the total member's value, verbatim ("1000000", 1.5, "abc", -5)
 *   "total_delta": N             the honest total plus N
 *   "total_missing": true        no total member
 *   "strings": true              every envelope number (total, page_no, offset, ...) a string
 *   "page_cap": N                pages hold at most N records, whatever the limit
 *   "hole": {"offset": N, "records": K, "times": T}
 *                                the page at offset N holds only its first K records, for T
 *                                requests (0 or absent: always)
 *   "oversize": BYTES            a 200 whose body is BYTES long (valid JSON)
 *   "gzip_bomb": BYTES           a 200, Content-Encoding gzip, BYTES of spaces once inflated
 *   "drip_ms": MS                the body is sent one byte every MS milliseconds
 *   "deep": LEVELS               a 200 whose items nest LEVELS arrays deep
 *   "invalid_json": true         a 200 whose body is not JSON
 *   "invalid_utf8": true         every record's "name" starts with the bytes FF FE
 *   "wide": {"levels": L, "elements": N}
 *                                every record starts with a member nesting L arrays around
 *                                N numbers: small text, a large pretty-printed file
 *   "redirect": "URL"            302 to URL (true: to /elsewhere on this server)
 *   "change": true               each listing (a request at offset 0) bumps a generation that
 *                                every record carries as its first member, "sim_generation"
 *                                (at the same size for generations 1-9); "grow": as the
 *                                text "N" repeated N times, so each generation is longer
 * Transforms work on the page text (spans from api/rawjson.h), so records stay byte-exact.
 */
#include "server.h"

#include <json-c/json.h>
#include <string.h>
#include <zlib.h>

#include "api/rawjson.h"

struct SimMisbehave {
    GMutex lock;
    json_object *settings; /* as posted, for GET */
    char *route;
    char *total_text;
    gboolean total_delta_set, total_missing, strings, invalid_json, invalid_utf8, change, grow;
    gint64 total_delta;
    gint64 page_cap;
    gint64 hole_offset, hole_records, hole_times, hole_served;
    gint64 oversize, drip_ms, deep;
    gint64 wide_levels, wide_elements;
    GBytes *bomb; /* the gzip stream */
    char *redirect;
    gint64 generation;
};

SimMisbehave *sim_misbehave_new(void)
{
    SimMisbehave *m = g_new0(SimMisbehave, 1);

    g_mutex_init(&m->lock);
    m->hole_offset = -1;
    return m;
}

static void clear_settings(SimMisbehave *m)
{
    g_clear_pointer(&m->settings, json_object_put);
    g_clear_pointer(&m->route, g_free);
    g_clear_pointer(&m->total_text, g_free);
    g_clear_pointer(&m->redirect, g_free);
    g_clear_pointer(&m->bomb, g_bytes_unref);
    m->total_delta_set = m->total_missing = m->strings = FALSE;
    m->invalid_json = m->invalid_utf8 = m->change = m->grow = FALSE;
    m->total_delta = m->page_cap = m->oversize = m->drip_ms = m->deep = 0;
    m->wide_levels = m->wide_elements = 0;
    m->hole_offset = -1;
    m->hole_records = m->hole_times = m->hole_served = 0;
    m->generation = 0;
}

void sim_misbehave_free(SimMisbehave *m)
{
    if (!m)
        return;
    clear_settings(m);
    g_mutex_clear(&m->lock);
    g_free(m);
}

/* ---- control ---- */

/* `size` spaces, gzip-compressed: a few hundred KB for hundreds of MB. */
static GBytes *gzip_spaces(gint64 size)
{
    static char chunk[1 << 16];
    GByteArray *out = g_byte_array_new();
    guchar buf[1 << 16];
    z_stream z = {0};
    gint64 left = size;
    int flush;

    memset(chunk, ' ', sizeof chunk);
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY); /* +16: gzip wrapper */
    do {
        uInt n = (uInt)MIN(left, (gint64)sizeof chunk);
        z.next_in = (Bytef *)chunk;
        z.avail_in = n;
        left -= n;
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = buf;
            z.avail_out = sizeof buf;
            deflate(&z, flush);
            g_byte_array_append(out, buf, (guint)(sizeof buf - z.avail_out));
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&z);
    return g_byte_array_free_to_bytes(out);
}

static gint64 int_member(json_object *o, const char *key, gint64 dflt)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : dflt;
}

static gboolean bool_member(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static void apply_settings(SimMisbehave *m, json_object *o)
{
    json_object *v;

    if (json_object_object_get_ex(o, "route", &v))
        m->route = g_strdup(json_object_get_string(v));
    if (json_object_object_get_ex(o, "total", &v))
        m->total_text = g_strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    m->total_delta_set = json_object_object_get_ex(o, "total_delta", NULL);
    m->total_delta = int_member(o, "total_delta", 0);
    m->total_missing = bool_member(o, "total_missing");
    m->strings = bool_member(o, "strings");
    m->page_cap = int_member(o, "page_cap", 0);
    if (json_object_object_get_ex(o, "hole", &v)) {
        m->hole_offset = int_member(v, "offset", -1);
        m->hole_records = int_member(v, "records", 0);
        m->hole_times = int_member(v, "times", 0);
    }
    m->oversize = int_member(o, "oversize", 0);
    if (int_member(o, "gzip_bomb", 0) > 0)
        m->bomb = gzip_spaces(int_member(o, "gzip_bomb", 0));
    m->drip_ms = int_member(o, "drip_ms", 0);
    m->deep = int_member(o, "deep", 0);
    if (json_object_object_get_ex(o, "wide", &v)) {
        m->wide_levels = int_member(v, "levels", 0);
        m->wide_elements = int_member(v, "elements", 0);
    }
    m->invalid_json = bool_member(o, "invalid_json");
    m->invalid_utf8 = bool_member(o, "invalid_utf8");
    m->change = bool_member(o, "change");
    if (json_object_object_get_ex(o, "change", &v) && json_object_is_type(v, json_type_string)) {
        m->change = TRUE;
        m->grow = strcmp(json_object_get_string(v), "grow") == 0;
    }
    if (json_object_object_get_ex(o, "redirect", &v))
        m->redirect = json_object_is_type(v, json_type_string) ? g_strdup(json_object_get_string(v))
                                                               : g_strdup("/elsewhere");
}

static GString *state_json(SimMisbehave *m)
{
    GString *b = g_string_new("{\"settings\":");

    g_string_append(b, m->settings
                           ? json_object_to_json_string_ext(m->settings, JSON_C_TO_STRING_PLAIN)
                           : "{}");
    g_string_append_printf(
        b, ",\"holes_served\":%" G_GINT64_FORMAT ",\"generation\":%" G_GINT64_FORMAT "}",
        m->hole_served, m->generation);
    return b;
}

void sim_misbehave_control(SimServer *srv, const char *method, const GByteArray *body,
                           SimReply *out)
{
    SimMisbehave *m = srv->misbehave;
    json_object *o = NULL;

    if (strcmp(method, "POST") == 0) {
        json_tokener *tok = json_tokener_new();
        if (body->len > 0 && body->len < G_MAXINT)
            o = json_tokener_parse_ex(tok, (const char *)body->data, (int)body->len);
        json_tokener_free(tok);
        if (!o || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            sim_reply_error(out, 400, "SIM.CONTROL", "POST /_sim/misbehave takes a JSON object");
            return;
        }
    }
    g_mutex_lock(&m->lock);
    if (o) {
        clear_settings(m);
        apply_settings(m, o);
        m->settings = o;
    }
    out->status = 200;
    out->body = state_json(m);
    g_mutex_unlock(&m->lock);
}

/* ---- text edits on a page ---- */

typedef struct {
    gsize offset, length; /* replaced span */
    char *text;           /* its replacement (owned) */
} Edit;

static void edit_add(GArray *edits, gsize offset, gsize length, char *text)
{
    Edit e = {offset, length, text};

    g_array_append_val(edits, e);
}

static gint edit_order(gconstpointer a, gconstpointer b)
{
    const Edit *x = a, *y = b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static GString *edits_apply(const GString *in, GArray *edits)
{
    GString *out = g_string_sized_new(in->len + 64);
    gsize at = 0;

    g_array_sort(edits, edit_order);
    for (guint i = 0; i < edits->len; i++) {
        Edit *e = &g_array_index(edits, Edit, i);
        if (e->offset < at) /* overlapping edit: the earlier one wins */
            continue;
        g_string_append_len(out, in->str + at, e->offset - at);
        g_string_append(out, e->text);
        at = e->offset + e->length;
    }
    g_string_append_len(out, in->str + at, in->len - at);
    for (guint i = 0; i < edits->len; i++)
        g_free(g_array_index(edits, Edit, i).text);
    return out;
}

static const char *const items_members[] = {"backups", "instances", "projects"};
static const char *const total_members[] = {"total_count", "total_record", "total"};
static const char *const number_members[] = {"total_count",  "total_record", "total",
                                             "page_no",      "page_size",    "total_page",
                                             "instance_num", "offset",       "limit"};

static const char *find_member(const GString *b, const char *const *names, gsize n, DbbSpan *span)
{
    for (gsize i = 0; i < n; i++)
        if (dbb_rawjson_member_span(b->str, b->len, names[i], span))
            return names[i];
    return NULL;
}

static gint64 query_int(struct MHD_Connection *c, const char *key, gint64 dflt)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

    return v ? g_ascii_strtoll(v, NULL, 10) : dflt;
}

/* The page's records beyond `keep` are dropped. */
static void edit_cut_items(const GString *b, const char *member, GArray *spans, gint64 keep,
                           GArray *edits)
{
    DbbSpan *first, *last;

    if (keep >= spans->len)
        return;
    first = &g_array_index(spans, DbbSpan, 0);
    last = &g_array_index(spans, DbbSpan, spans->len - 1);
    if (keep == 0) {
        edit_add(edits, first->offset, last->offset + last->length - first->offset, g_strdup(""));
        return;
    }
    first = &g_array_index(spans, DbbSpan, keep - 1);
    edit_add(edits, first->offset + first->length,
             last->offset + last->length - (first->offset + first->length), g_strdup(""));
}

static void edit_records(SimMisbehave *m, const GString *b, GArray *spans, GArray *edits)
{
    for (guint i = 0; i < spans->len; i++) {
        DbbSpan *s = &g_array_index(spans, DbbSpan, i);
        const char *rec = b->str + s->offset;

        if (m->change) {
            GString *g = g_string_new("\"sim_generation\":");
            if (m->grow) {
                g_string_append_c(g, '"');
                for (gint64 k = 0; k < m->generation; k++)
                    g_string_append_printf(g, "%" G_GINT64_FORMAT, m->generation);
                g_string_append_c(g, '"');
            } else {
                g_string_append_printf(g, "%" G_GINT64_FORMAT, m->generation);
            }
            g_string_append(g, s->length > 2 ? "," : "");
            edit_add(edits, s->offset + 1, 0, g_string_free(g, FALSE));
        }
        if (m->wide_levels > 0 && m->wide_elements > 0) {
            GString *w = g_string_new("\"wide\":");
            for (gint64 k = 0; k < m->wide_levels; k++)
                g_string_append_c(w, '[');
            for (gint64 k = 0; k < m->wide_elements; k++)
                g_string_append(w, k ? ",1" : "1");
            for (gint64 k = 0; k < m->wide_levels; k++)
                g_string_append_c(w, ']');
            g_string_append(w, s->length > 2 ? "," : "");
            edit_add(edits, s->offset + 1, 0, g_string_free(w, FALSE));
        }
        if (m->invalid_utf8) {
            DbbSpan name;
            if (dbb_rawjson_member_span(rec, s->length, "name", &name) && rec[name.offset] == '"')
                edit_add(edits, s->offset + name.offset + 1, 0, g_strdup("\xff\xfe"));
        }
    }
}

static void edit_envelope(SimMisbehave *m, const GString *b, GArray *edits)
{
    DbbSpan total;
    const char *name = find_member(b, total_members, G_N_ELEMENTS(total_members), &total);

    gboolean total_edited = name && (m->total_missing || m->total_text || m->total_delta_set);

    if (name && m->total_missing) {
        /* Drop the value only: an object member needs one; null reads as no total. */
        edit_add(edits, total.offset, total.length, g_strdup("null"));
    } else if (name && m->total_text) {
        edit_add(edits, total.offset, total.length, g_strdup(m->total_text));
    } else if (name && m->total_delta_set) {
        gint64 honest =
            g_ascii_strtoll(b->str + total.offset + (b->str[total.offset] == '"'), NULL, 10);
        edit_add(edits, total.offset, total.length,
                 g_strdup_printf("%" G_GINT64_FORMAT, honest + m->total_delta));
    }
    if (!m->strings)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(number_members); i++) {
        DbbSpan s;
        if (total_edited && strcmp(number_members[i], name) == 0)
            continue; /* its value is already replaced */
        if (dbb_rawjson_member_span(b->str, b->len, number_members[i], &s) &&
            (g_ascii_isdigit(b->str[s.offset]) || b->str[s.offset] == '-'))
            edit_add(edits, s.offset, 0, g_strdup("\""));
        if (dbb_rawjson_member_span(b->str, b->len, number_members[i], &s) &&
            (g_ascii_isdigit(b->str[s.offset]) || b->str[s.offset] == '-'))
            edit_add(edits, s.offset + s.length, 0, g_strdup("\""));
    }
}

/* Totals, strings, caps, holes, changing and invalid records: the page rewritten. */
static void transform_page(SimMisbehave *m, struct MHD_Connection *c, SimReply *r)
{
    g_autoptr(GArray) edits = g_array_new(FALSE, FALSE, sizeof(Edit));
    g_autoptr(GArray) spans = NULL;
    DbbSpan items;
    const char *member = find_member(r->body, items_members, G_N_ELEMENTS(items_members), &items);
    const char *why = NULL;
    gint64 offset = query_int(c, "offset", 0), keep = G_MAXINT64;
    GString *out;

    if (!member || !dbb_rawjson_array_spans(r->body->str, r->body->len, member, &spans, &why))
        return;
    if (m->change && offset == 0)
        m->generation++;
    if (m->page_cap > 0)
        keep = m->page_cap;
    if (m->hole_offset == offset && (m->hole_times == 0 || m->hole_served < m->hole_times)) {
        m->hole_served++;
        keep = MIN(keep, m->hole_records);
    }
    if (spans->len > 0)
        edit_records(m, r->body, spans, edits);
    if (spans->len > 0 && keep < (gint64)spans->len)
        edit_cut_items(r->body, member, spans, keep, edits);
    edit_envelope(m, r->body, edits);
    out = edits_apply(r->body, edits);
    g_string_free(r->body, TRUE);
    r->body = out;
}

/* ---- bodies sent on purpose ---- */

typedef struct {
    GString *body;
    gint64 size; /* oversize: bytes to produce */
    gint64 drip_ms;
} Stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    Stream *s = cls;

    if (s->drip_ms > 0) {
        if (pos >= s->body->len)
            return MHD_CONTENT_READER_END_OF_STREAM;
        g_usleep((gulong)s->drip_ms * 1000);
        buf[0] = s->body->str[pos];
        return 1;
    }
    /* Oversize: {"pad":"xxx...x"} of exactly s->size bytes. */
    if ((gint64)pos >= s->size)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = (size_t)MIN((gint64)max, s->size - (gint64)pos);
    for (size_t i = 0; i < n; i++) {
        uint64_t at = pos + i;
        buf[i] = at < 8                      ? "{\"pad\":\""[at]
                 : (gint64)at >= s->size - 2 ? "\"}"[at - (s->size - 2)]
                                             : 'x';
    }
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    Stream *s = cls;

    if (s->body)
        g_string_free(s->body, TRUE);
    g_free(s);
}

static char *deep_body(gint64 levels)
{
    GString *b = g_string_new("{\"backups\":[{\"id\":\"deep\",\"nest\":");

    for (gint64 i = 0; i < levels; i++)
        g_string_append_c(b, '[');
    for (gint64 i = 0; i < levels; i++)
        g_string_append_c(b, ']');
    g_string_append(b, "}],\"instances\":[],\"total_count\":1,\"total\":1,\"total_record\":1}");
    return g_string_free(b, FALSE);
}

gboolean sim_misbehave_apply(SimServer *srv, struct MHD_Connection *c, SimRoute route, SimReply *r,
                             struct MHD_Response **response)
{
    SimMisbehave *m = srv->misbehave;
    gboolean applies;

    *response = NULL;
    g_mutex_lock(&m->lock);
    applies = m->settings != NULL && r->status == 200 &&
              (m->route == NULL || strcmp(m->route, sim_route_names[route]) == 0);
    if (!applies) {
        g_mutex_unlock(&m->lock);
        return FALSE;
    }
    if (m->redirect) {
        g_string_assign(r->body, "{}");
        r->status = 302;
        *response = MHD_create_response_from_buffer(2, "{}", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(*response, MHD_HTTP_HEADER_LOCATION, m->redirect);
    } else if (m->bomb) {
        *response = MHD_create_response_from_buffer(g_bytes_get_size(m->bomb),
                                                    (void *)g_bytes_get_data(m->bomb, NULL),
                                                    MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(*response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    } else if (m->oversize > 0) {
        Stream *s = g_new0(Stream, 1);
        s->size = MAX(m->oversize, 10);
        *response = MHD_create_response_from_callback((uint64_t)s->size, 1 << 16, stream_read, s,
                                                      stream_free);
    } else {
        if (m->deep > 0) {
            g_autofree char *deep = deep_body(m->deep);
            g_string_assign(r->body, deep);
        } else if (m->invalid_json) {
            g_string_assign(r->body, "{\"backups\":[{\"id\":\"x\",}]<html>");
        } else {
            transform_page(m, c, r);
        }
        if (m->drip_ms > 0) {
            Stream *s = g_new0(Stream, 1);
            s->body = g_steal_pointer(&r->body);
            s->drip_ms = m->drip_ms;
            *response =
                MHD_create_response_from_callback(s->body->len, 1, stream_read, s, stream_free);
        }
    }
    g_mutex_unlock(&m->lock);
    return TRUE;
}
