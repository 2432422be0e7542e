/*
 * dbbackupfs — byte spans inside JSON text (see rawjson.h).
 *
 * The scanner checks structure (brackets balanced and matched, strings closed, members as
 * "key": value, values separated by commas) but not the spelling of scalars: the same bytes
 * have already been accepted by json-c, and the caller cross-checks our element count
 * against json-c's, so this only has to be exact about boundaries and safe on any input.
 */
#include "rawjson.h"

#include <json-c/json.h>
#include <string.h>

typedef struct {
    const char *text;
    gsize len;
    gsize pos;
} Scanner;

static gboolean at_end(const Scanner *s)
{
    return s->pos >= s->len;
}

static char peek(const Scanner *s)
{
    return at_end(s) ? '\0' : s->text[s->pos];
}

static void skip_ws(Scanner *s)
{
    while (!at_end(s)) {
        char c = s->text[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        s->pos++;
    }
}

/* At a '"': move past the closing quote. */
static gboolean scan_string(Scanner *s)
{
    s->pos++;
    while (!at_end(s)) {
        char c = s->text[s->pos++];
        if (c == '"')
            return TRUE;
        if (c == '\\') {
            if (at_end(s))
                return FALSE;
            s->pos++;
        }
    }
    return FALSE;
}

static gboolean is_delimiter(char c)
{
    return strchr(",:[]{}\" \t\r\n", c) != NULL;
}

/* A number, true, false or null: the run of bytes up to the next delimiter. */
static gboolean scan_scalar(Scanner *s)
{
    gsize start = s->pos;

    while (!at_end(s) && !is_delimiter(s->text[s->pos]))
        s->pos++;
    return s->pos > start;
}

/* At '{' or '[': move past the matching bracket.  Iterative, with an explicit stack of the
 * open brackets, so hostile nesting cannot exhaust the C stack. */
static gboolean scan_container(Scanner *s)
{
    g_autoptr(GString) stack = g_string_new(NULL);

    do {
        char c = peek(s);
        switch (c) {
        case '{':
        case '[':
            g_string_append_c(stack, c == '{' ? '}' : ']');
            s->pos++;
            break;
        case '}':
        case ']':
            if (stack->str[stack->len - 1] != c)
                return FALSE;
            g_string_truncate(stack, stack->len - 1);
            s->pos++;
            break;
        case '"':
            if (!scan_string(s))
                return FALSE;
            break;
        case ',':
        case ':':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            s->pos++;
            break;
        default:
            if (at_end(s) || !scan_scalar(s))
                return FALSE;
            break;
        }
    } while (stack->len > 0);
    return TRUE;
}

/* Move past one value starting at the current position, reporting its span. */
static gboolean scan_value(Scanner *s, DbbSpan *span)
{
    gboolean ok;

    span->offset = s->pos;
    switch (peek(s)) {
    case '{':
    case '[':
        ok = scan_container(s);
        break;
    case '"':
        ok = scan_string(s);
        break;
    default:
        ok = !at_end(s) && scan_scalar(s);
        break;
    }
    span->length = s->pos - span->offset;
    return ok;
}

/* Does the key text between the quotes (escapes still in it) equal `member`? */
static gboolean key_equals(const char *key, gsize key_len, const char *member)
{
    g_autofree char *quoted = NULL;
    json_object *decoded;
    gboolean equal;

    if (memchr(key, '\\', key_len) == NULL)
        return key_len == strlen(member) && memcmp(key, member, key_len) == 0;
    /* Rare: an escaped key.  Let json-c decode it rather than duplicating its rules. */
    quoted = g_strdup_printf("\"%.*s\"", (int)key_len, key);
    decoded = json_tokener_parse(quoted);
    equal = decoded != NULL && json_object_is_type(decoded, json_type_string) &&
            strcmp(json_object_get_string(decoded), member) == 0;
    json_object_put(decoded);
    return equal;
}

/* Walk the top-level object, remembering the value span of the last `member`. */
static gboolean find_member(Scanner *s, const char *member, gboolean *found, DbbSpan *value,
                            const char **why)
{
    *found = FALSE;
    skip_ws(s);
    if (peek(s) != '{') {
        *why = "the document is not a JSON object";
        return FALSE;
    }
    s->pos++;
    skip_ws(s);
    if (peek(s) == '}') {
        s->pos++;
        goto trailer;
    }
    for (;;) {
        gsize key_start, key_len;
        DbbSpan span;

        if (peek(s) != '"')
            goto malformed;
        key_start = s->pos + 1;
        if (!scan_string(s))
            goto malformed;
        key_len = s->pos - 1 - key_start;
        skip_ws(s);
        if (peek(s) != ':')
            goto malformed;
        s->pos++;
        skip_ws(s);
        if (!scan_value(s, &span))
            goto malformed;
        if (key_equals(s->text + key_start, key_len, member)) {
            *found = TRUE;
            *value = span;
        }
        skip_ws(s);
        if (peek(s) == '}') {
            s->pos++;
            break;
        }
        if (peek(s) != ',')
            goto malformed;
        s->pos++;
        skip_ws(s);
    }
trailer:
    skip_ws(s);
    if (!at_end(s))
        goto malformed;
    return TRUE;
malformed:
    *why = "the JSON text is malformed or truncated";
    return FALSE;
}

gboolean dbb_rawjson_member_span(const char *text, gsize len, const char *member, DbbSpan *span)
{
    Scanner s = {text, len, 0};
    const char *why = NULL;
    gboolean found;

    if (text == NULL || !find_member(&s, member, &found, span, &why))
        return FALSE;
    return found;
}

static gboolean scan_elements(Scanner *s, GArray *spans)
{
    s->pos++; /* '[' */
    skip_ws(s);
    if (peek(s) == ']')
        return TRUE;
    for (;;) {
        DbbSpan span;

        if (!scan_value(s, &span))
            return FALSE;
        g_array_append_val(spans, span);
        skip_ws(s);
        if (peek(s) == ']')
            return TRUE;
        if (peek(s) != ',')
            return FALSE;
        s->pos++;
        skip_ws(s);
    }
}

gboolean dbb_rawjson_array_spans(const char *text, gsize len, const char *member, GArray **spans,
                                 const char **why)
{
    Scanner s = {text, len, 0};
    DbbSpan value;
    gboolean found;
    g_autoptr(GArray) result = NULL;

    *spans = NULL;
    if (text == NULL) {
        *why = "the page has no body";
        return FALSE;
    }
    if (!find_member(&s, member, &found, &value, why))
        return FALSE;
    if (!found) {
        *why = "the items member is missing";
        return FALSE;
    }
    if (text[value.offset] != '[') {
        *why = "the items member is not an array";
        return FALSE;
    }
    /* Rescan just the array: its bounds are known to be well formed. */
    Scanner inner = {text, value.offset + value.length, value.offset};
    result = g_array_new(FALSE, FALSE, sizeof(DbbSpan));
    if (!scan_elements(&inner, result)) {
        *why = "the JSON text is malformed or truncated";
        return FALSE;
    }
    *spans = g_steal_pointer(&result);
    return TRUE;
}
