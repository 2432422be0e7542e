/*
 * dbbackupfs — lenient field access on parsed API records (see jsonutil.h).
 */
#include "jsonutil.h"

#include <math.h> /* isfinite(), a macro: no libm */
#include <string.h>

#include "rawjson.h"

static gboolean is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gsize skip_digits(const char *t, gsize i, gsize end)
{
    while (i < end && g_ascii_isdigit(t[i]))
        i++;
    return i;
}

gboolean dbb_json_text_is_number(const char *text, gsize len)
{
    gsize i = 0, end = len, j;

    while (i < end && is_space(text[i]))
        i++;
    while (end > i && is_space(text[end - 1]))
        end--;
    if (i < end && (text[i] == '-' || text[i] == '+'))
        i++;
    /* JSON's grammar: int frac? exp?, without the leading zeros it forbids. */
    j = skip_digits(text, i, end);
    if (j == i || (text[i] == '0' && j - i > 1))
        return FALSE;
    i = j;
    if (i < end && text[i] == '.') {
        j = skip_digits(text, i + 1, end);
        if (j == i + 1)
            return FALSE;
        i = j;
    }
    if (i < end && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        if (i < end && (text[i] == '-' || text[i] == '+'))
            i++;
        j = skip_digits(text, i, end);
        if (j == i)
            return FALSE;
        i = j;
    }
    return i == end;
}

/* The member, or NULL (with a debug line) when it cannot hold a scalar. */
static json_object *scalar_member(json_object *obj, const char *key)
{
    json_object *value = NULL;

    if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &value) || value == NULL)
        return NULL;
    switch (json_object_get_type(value)) {
    case json_type_string:
    case json_type_int:
    case json_type_double:
        return value;
    default:
        g_debug("field \"%s\" is a %s, not a string or number; ignored", key,
                json_type_to_name(json_object_get_type(value)));
        return NULL;
    }
}

static gboolean string_to_double(const char *key, const char *text, gsize len, double *out)
{
    double d;

    if (!dbb_json_text_is_number(text, len)) {
        g_debug("field \"%s\" holds a string that is not a number; ignored", key);
        return FALSE;
    }
    d = g_ascii_strtod(text, NULL);
    if (!isfinite(d)) {
        g_debug("field \"%s\" is out of range; ignored", key);
        return FALSE;
    }
    *out = d;
    return TRUE;
}

gboolean dbb_json_get_double(json_object *obj, const char *key, double *out)
{
    json_object *value = scalar_member(obj, key);
    double d;

    if (value == NULL)
        return FALSE;
    if (json_object_is_type(value, json_type_string))
        return string_to_double(key, json_object_get_string(value),
                                json_object_get_string_len(value), out);
    d = json_object_get_double(value);
    if (!isfinite(d)) {
        g_debug("field \"%s\" is not a finite number; ignored", key);
        return FALSE;
    }
    *out = d;
    return TRUE;
}

gboolean dbb_json_get_int64(json_object *obj, const char *key, gint64 *out)
{
    json_object *value = scalar_member(obj, key);
    double d;

    if (value == NULL)
        return FALSE;
    if (json_object_is_type(value, json_type_int)) {
        /* json-c clamps out-of-range integers; a clamped value is not the real one. */
        gint64 v = json_object_get_int64(value);
        if (v == G_MAXINT64 || v == G_MININT64) {
            g_debug("field \"%s\" is out of range; ignored", key);
            return FALSE;
        }
        *out = v;
        return TRUE;
    }
    if (!dbb_json_get_double(obj, key, &d))
        return FALSE;
    /* 2^63 is the first double beyond gint64. */
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0 || d != (double)(gint64)d) {
        g_debug("field \"%s\" is not an integer in range; ignored", key);
        return FALSE;
    }
    *out = (gint64)d;
    return TRUE;
}

/* A string with any embedded NUL turned into '_', so nothing after it is lost. */
static char *dup_with_nuls(const char *s, gsize len)
{
    char *copy = g_malloc(len + 1);

    memcpy(copy, s, len);
    copy[len] = '\0';

    for (gsize i = 0; i < len; i++)
        if (copy[i] == '\0')
            copy[i] = '_';
    return copy;
}

/* A number member's exact spelling in the raw record, when it can be found there. */
static char *number_text_from_raw(const char *raw, gsize raw_len, const char *key)
{
    DbbSpan span;

    if (raw == NULL || !dbb_rawjson_member_span(raw, raw_len, key, &span))
        return NULL;
    if (!dbb_json_text_is_number(raw + span.offset, span.length))
        return NULL;
    return g_strndup(raw + span.offset, span.length);
}

char *dbb_json_dup_text(json_object *obj, const char *key, const char *raw, gsize raw_len)
{
    json_object *value = scalar_member(obj, key);
    char *text;

    if (value == NULL)
        return NULL;
    if (json_object_is_type(value, json_type_string))
        return dup_with_nuls(json_object_get_string(value), json_object_get_string_len(value));
    text = number_text_from_raw(raw, raw_len, key);
    if (text != NULL)
        return text;
    return g_strdup(json_object_get_string(value));
}

char *dbb_json_synthetic_id(const char *raw, gsize raw_len)
{
    g_autofree char *hex =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)raw, raw_len);

    return g_strconcat("sha256:", hex, NULL);
}

void dbb_json_append_string(GString *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    g_string_append_c(out, '"');
    for (const guchar *c = (const guchar *)s; *c; c++) {
        const char *esc = NULL;

        switch (*c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        }
        if (esc) {
            g_string_append(out, esc);
        } else if (*c < 0x20) {
            g_string_append(out, "\\u00");
            g_string_append_c(out, hex[*c >> 4]);
            g_string_append_c(out, hex[*c & 15]);
        } else {
            g_string_append_c(out, (char)*c);
        }
    }
    g_string_append_c(out, '"');
}
