/*
 * dbbackupfs — the content of a backup file: a one-pass JSON pretty-printer over the exact
 * text the API sent.
 *
 * Why not json-c's serialiser: it parses numbers into int64/double, so integers beyond 64
 * bits are clamped, "-0" becomes 0 and "1.0E+2" becomes 100.0, while the contract says
 * numbers keep their textual form.  So the input is validated token by token (RFC 8259) and
 * numbers and literals are copied verbatim; only strings are decoded and re-escaped, which
 * is what makes non-ASCII text greppable as UTF-8.
 *
 * Leniencies, chosen so that a record the API sent is never refused for a detail:
 * - raw control bytes inside strings are accepted (json-c does) and escaped on output;
 * - bytes that are not valid UTF-8 are copied through unchanged;
 * - a lone UTF-16 surrogate escape (\ud800 without its pair) cannot be written as UTF-8,
 *   so it is re-emitted as the same escape, in lower-case hex.
 *
 * This runs once per backup of every fetched listing (hundreds of thousands per mount), so
 * it never allocates per byte: runs of plain bytes are appended in one call.
 */
#include "render.h"

#include <string.h>

#define MAX_DEPTH 512

GQuark dbb_render_error_quark(void)
{
    return g_quark_from_static_string("dbb-render-error-quark");
}

typedef struct {
    const guchar *start;
    const guchar *p;
    const guchar *end;
    GString *out;
    GError **error;
} Renderer;

/* Bytes that end a run of plain string content: the quote, the backslash and the control
 * characters JSON requires to be escaped. */
static const guint8 string_special[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
};

static gboolean render_value(Renderer *r, guint depth);
static gboolean too_large(Renderer *r);

/* GString's own appends are out-of-line calls through the general insert path (GLib before
 * 2.76); these short appends dominate the run time, so take the fast path here when the
 * buffer has room, as GLib 2.76's inline versions do. */
static inline void put(GString *s, const char *p, gsize n)
{
    if (G_LIKELY(s->len + n < s->allocated_len)) {
        memcpy(s->str + s->len, p, n);
        s->len += n;
        s->str[s->len] = '\0';
    } else {
        g_string_append_len(s, p, n);
    }
}

static inline void put_c(GString *s, char c)
{
    if (G_LIKELY(s->len + 1 < s->allocated_len)) {
        s->str[s->len++] = c;
        s->str[s->len] = '\0';
    } else {
        g_string_append_c(s, c);
    }
}

G_GNUC_PRINTF(3, 4)
static gboolean fail(Renderer *r, DbbRenderError code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->error, DBB_RENDER_ERROR, code, "invalid JSON at byte %" G_GSIZE_FORMAT ": %s",
                (gsize)(r->p - r->start), what);
    return FALSE;
}

static gboolean at_end(const Renderer *r)
{
    return r->p >= r->end;
}

static void skip_ws(Renderer *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static void newline_indent(GString *out, guint depth)
{
    static const char spaces[] = "                                                        "
                                 "        ";
    gsize n = (gsize)depth * 2;

    put_c(out, '\n');
    while (n > 0) {
        gsize chunk = MIN(n, sizeof(spaces) - 1);
        put(out, spaces, chunk);
        n -= chunk;
    }
}

/* A character below 0x80 as Python's json.dumps(ensure_ascii=False) writes it inside a
 * string: the two-character escapes where JSON has one, \u00xx for other controls. */
static void append_ascii(GString *out, guchar c)
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"':
        put(out, "\\\"", 2);
        return;
    case '\\':
        put(out, "\\\\", 2);
        return;
    case '\b':
        put(out, "\\b", 2);
        return;
    case '\f':
        put(out, "\\f", 2);
        return;
    case '\n':
        put(out, "\\n", 2);
        return;
    case '\r':
        put(out, "\\r", 2);
        return;
    case '\t':
        put(out, "\\t", 2);
        return;
    default:
        break;
    }
    if (c < 0x20) {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        put(out, esc, sizeof(esc));
        return;
    }
    put_c(out, (char)c);
}

static int hex_value(guchar c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (the caller checked that they are in bounds); -1 if not hex. */
static gint32 read_hex4(const guchar *p)
{
    gint32 v = 0;

    for (int i = 0; i < 4; i++) {
        int d = hex_value(p[i]);
        if (d < 0)
            return -1;
        v = (v << 4) | d;
    }
    return v;
}

/* Is a "\uDC00".."\uDFFF" escape at p?  Returns the low surrogate or -1. */
static gint32 low_surrogate_at(const Renderer *r, const guchar *p)
{
    gint32 lo;

    if (r->end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    lo = read_hex4(p + 2);
    return (lo >= 0xdc00 && lo <= 0xdfff) ? lo : -1;
}

/* r->p is just past "\u". */
static gboolean render_unicode_escape(Renderer *r)
{
    gint32 cp, lo;

    if (r->end - r->p < 4 || (cp = read_hex4(r->p)) < 0)
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "\\u needs four hex digits");
    r->p += 4;
    if (cp >= 0xd800 && cp <= 0xdbff && (lo = low_surrogate_at(r, r->p)) >= 0) {
        r->p += 6;
        g_string_append_unichar(r->out, 0x10000 + (((gunichar)cp - 0xd800) << 10) +
                                            ((gunichar)lo - 0xdc00));
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
        /* UTF-8 cannot carry a lone surrogate: keep it escaped rather than lose it. */
        g_string_append_printf(r->out, "\\u%04x", (unsigned)cp);
    } else if (cp < 0x80) {
        append_ascii(r->out, (guchar)cp);
    } else {
        g_string_append_unichar(r->out, (gunichar)cp);
    }
    return TRUE;
}

/* r->p is just past the backslash. */
static gboolean render_escape(Renderer *r)
{
    guchar c;

    if (at_end(r))
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "unterminated string");
    c = *r->p++;
    switch (c) {
    case '"':
    case '\\':
        append_ascii(r->out, c);
        return TRUE;
    case '/':
        put_c(r->out, '/'); /* never "\/" */
        return TRUE;
    case 'b':
        append_ascii(r->out, '\b');
        return TRUE;
    case 'f':
        append_ascii(r->out, '\f');
        return TRUE;
    case 'n':
        append_ascii(r->out, '\n');
        return TRUE;
    case 'r':
        append_ascii(r->out, '\r');
        return TRUE;
    case 't':
        append_ascii(r->out, '\t');
        return TRUE;
    case 'u':
        return render_unicode_escape(r);
    default:
        r->p--;
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "bad escape \"\\%c\"",
                    g_ascii_isprint(c) ? c : '?');
    }
}

/* r->p is at the opening quote. */
static gboolean render_string(Renderer *r)
{
    r->p++;
    put_c(r->out, '"');
    for (;;) {
        const guchar *run = r->p;

        while (r->p < r->end && !string_special[*r->p])
            r->p++;
        put(r->out, (const char *)run, r->p - run);
        if (G_UNLIKELY(r->out->len > DBB_RENDER_MAX_BYTES))
            return too_large(r);
        if (at_end(r))
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "unterminated string");
        if (*r->p == '"')
            break;
        if (*r->p == '\\') {
            r->p++;
            if (!render_escape(r))
                return FALSE;
        } else {
            append_ascii(r->out, *r->p++); /* a raw control byte: accepted, escaped */
        }
    }
    r->p++;
    put_c(r->out, '"');
    return TRUE;
}

static gboolean skip_digits(Renderer *r)
{
    const guchar *first = r->p;

    while (r->p < r->end && g_ascii_isdigit(*r->p))
        r->p++;
    return r->p > first;
}

/* RFC 8259 number grammar; the token is copied as written. */
static gboolean render_number(Renderer *r)
{
    const guchar *tok = r->p;

    if (*r->p == '-')
        r->p++;
    if (at_end(r) || !g_ascii_isdigit(*r->p))
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "bad number");
    if (*r->p == '0')
        r->p++; /* no leading zeros: what follows "0" is the caller's business */
    else
        skip_digits(r);
    if (!at_end(r) && *r->p == '.') {
        r->p++;
        if (!skip_digits(r))
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "bad number: no digit after '.'");
    }
    if (!at_end(r) && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (!at_end(r) && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (!skip_digits(r))
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "bad number: no digit in exponent");
    }
    put(r->out, (const char *)tok, r->p - tok);
    return TRUE;
}

static gboolean render_literal(Renderer *r, const char *word)
{
    gsize n = strlen(word);

    if ((gsize)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "unexpected character");
    put(r->out, word, n);
    r->p += n;
    return TRUE;
}

/* r->p is at '{'; depth is the indentation level of the object itself. */
static gboolean render_object(Renderer *r, guint depth)
{
    r->p++;
    put_c(r->out, '{');
    skip_ws(r);
    if (!at_end(r) && *r->p == '}') {
        r->p++;
        put_c(r->out, '}');
        return TRUE;
    }
    for (;;) {
        newline_indent(r->out, depth + 1);
        if (at_end(r) || *r->p != '"')
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "expected a string key");
        if (!render_string(r))
            return FALSE;
        skip_ws(r);
        if (at_end(r) || *r->p != ':')
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "expected ':'");
        r->p++;
        put(r->out, ": ", 2);
        skip_ws(r);
        if (!render_value(r, depth + 1))
            return FALSE;
        skip_ws(r);
        if (at_end(r))
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "unterminated object");
        if (*r->p == '}')
            break;
        if (*r->p != ',')
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "expected ',' or '}'");
        r->p++;
        put_c(r->out, ',');
        skip_ws(r);
    }
    r->p++;
    newline_indent(r->out, depth);
    put_c(r->out, '}');
    return TRUE;
}

/* r->p is at '['. */
static gboolean render_array(Renderer *r, guint depth)
{
    r->p++;
    put_c(r->out, '[');
    skip_ws(r);
    if (!at_end(r) && *r->p == ']') {
        r->p++;
        put_c(r->out, ']');
        return TRUE;
    }
    for (;;) {
        newline_indent(r->out, depth + 1);
        if (!render_value(r, depth + 1))
            return FALSE;
        skip_ws(r);
        if (at_end(r))
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "unterminated array");
        if (*r->p == ']')
            break;
        if (*r->p != ',')
            return fail(r, DBB_RENDER_ERROR_SYNTAX, "expected ',' or ']'");
        r->p++;
        put_c(r->out, ',');
        skip_ws(r);
    }
    r->p++;
    newline_indent(r->out, depth);
    put_c(r->out, ']');
    return TRUE;
}

static gboolean too_large(Renderer *r)
{
    return fail(r, DBB_RENDER_ERROR_SIZE, "the rendering exceeds %u bytes", DBB_RENDER_MAX_BYTES);
}

/* A value at r->p (whitespace already skipped), nested in `depth` containers. */
static gboolean render_value(Renderer *r, guint depth)
{
    /* Checked once per value: each adds at most its indentation and one scalar. */
    if (G_UNLIKELY(r->out->len > DBB_RENDER_MAX_BYTES))
        return too_large(r);
    if (at_end(r))
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "unexpected end of text");
    switch (*r->p) {
    case '{':
    case '[':
        if (depth >= MAX_DEPTH)
            return fail(r, DBB_RENDER_ERROR_DEPTH, "nested deeper than %d", MAX_DEPTH);
        return *r->p == '{' ? render_object(r, depth) : render_array(r, depth);
    case '"':
        return render_string(r);
    case 't':
        return render_literal(r, "true");
    case 'f':
        return render_literal(r, "false");
    case 'n':
        return render_literal(r, "null");
    default:
        if (*r->p == '-' || g_ascii_isdigit(*r->p))
            return render_number(r);
        return fail(r, DBB_RENDER_ERROR_SYNTAX, "unexpected character");
    }
}

GBytes *dbb_render_json(const char *text, gsize len, GError **error)
{
    Renderer r = {
        .start = (const guchar *)text,
        .p = (const guchar *)text,
        .end = (const guchar *)text + len,
        .error = error,
    };
    gsize out_len;
    char *data;

    g_return_val_if_fail(text != NULL || len == 0, NULL);

    /* Compact API text grows by its indentation; pretty text stays about the same. */
    r.out = g_string_sized_new(len + len / 4 + 64);
    skip_ws(&r);
    if (!render_value(&r, 0))
        goto fail;
    skip_ws(&r);
    if (!at_end(&r)) {
        fail(&r, DBB_RENDER_ERROR_SYNTAX, "trailing characters after the value");
        goto fail;
    }
    put_c(r.out, '\n');

    /* GString rounds its buffer up to a power of two; a listing keeps hundreds of thousands
     * of these for its whole life, so give the slack back. */
    out_len = r.out->len;
    data = g_string_free(r.out, FALSE);
    data = g_realloc(data, out_len + 1);
    return g_bytes_new_take(data, out_len);

fail:
    g_string_free(r.out, TRUE);
    return NULL;
}
