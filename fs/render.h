/*
 * dbbackupfs — the content of a backup file (DESIGN.md "Backup files", contract).
 *
 * Renders one JSON value from its exact text: two-space indentation, one member or element
 * per line, "key": value, numbers/true/false/null copied verbatim from the input, strings
 * decoded and re-escaped (UTF-8 as is — never \u escapes for non-ASCII, never "\/"; '"',
 * '\\' and control characters escaped as JSON requires: \b \f \n \r \t, else \u00xx in
 * lower-case hex), empty arrays and objects as "[]" and "{}", and one trailing newline.
 * The output is the same as Python's json.dumps(v, indent=2, ensure_ascii=False) + "\n"
 * for any value whose numbers Python would print unchanged (and without duplicate keys:
 * Python keeps the last, this keeps every member, as the API sent it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DBB_RENDER_ERROR (dbb_render_error_quark())
GQuark dbb_render_error_quark(void);

typedef enum {
    DBB_RENDER_ERROR_SYNTAX, /* not one valid JSON value */
    DBB_RENDER_ERROR_DEPTH,  /* containers nested deeper than 512 */
    DBB_RENDER_ERROR_SIZE,   /* the rendering would exceed DBB_RENDER_MAX_BYTES */
} DbbRenderError;

/* No backup file is larger than this: deep nesting multiplies the indentation (60 levels
 * wrapping 20,000 elements render 40 KB into 2.5 MB), so a page under the body cap could
 * otherwise render to gigabytes.  The renderer stops as soon as it is passed. */
#define DBB_RENDER_MAX_BYTES (16u << 20)

/* The rendered bytes, or NULL with *error set when text is not one valid JSON value
 * (trailing garbage, bad escapes, unbalanced brackets, nesting deeper than 512), or when the
 * rendering would exceed DBB_RENDER_MAX_BYTES (DBB_RENDER_ERROR_SIZE; memory stays within the
 * cap plus one string of the input).
 * Lenient where RFC 8259 is strict but nothing is lost: raw control bytes inside strings are
 * accepted (and escaped on output), bytes that are not UTF-8 are copied through, and a lone
 * surrogate escape is kept as "\uxxxx" (lower-case), since UTF-8 cannot carry it.
 * text need not be NUL-terminated. */
GBytes *dbb_render_json(const char *text, gsize len, GError **error);

G_END_DECLS
