/*
 * dbbackupfs — lenient field access on parsed API records (internal to api/).
 *
 * The services disagree with their own documentation about JSON types (reference §1), so
 * every getter here accepts both spellings: a numeric field may be a number or a string
 * holding one ("74464.0", 74464.0 and 74464 all read as 74464), a text field may be a string
 * or a number (whose exact text is taken from the raw record when one is given).  null, a
 * missing member, or an object/array/boolean where a scalar belongs read as absent, with one
 * g_debug line saying why.  Nothing here fails hard or aborts on bad input.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/* TRUE when text[0..len) is a JSON number, optionally with a leading '+' and surrounding
 * ASCII white space (the lenient form a string field may carry). */
gboolean dbb_json_text_is_number(const char *text, gsize len);

/* A numeric member: a finite JSON number, or a string holding one. */
gboolean dbb_json_get_double(json_object *obj, const char *key, double *out);

/* An integral member (totals, page numbers): a number or numeric string whose value is an
 * integer that fits in gint64 ("4", 4, 4.0 and "4.0" all read as 4). */
gboolean dbb_json_get_int64(json_object *obj, const char *key, gint64 *out);

/* A text member, newly allocated: a string as received (an embedded NUL, which a C string
 * cannot hold, becomes '_' — what the naming rules make of it anyway), or a number's text —
 * its exact spelling in raw[0..raw_len) (the record's JSON text) when raw is non-NULL, else
 * json-c's.  NULL when absent or of another type. */
char *dbb_json_dup_text(json_object *obj, const char *key, const char *raw, gsize raw_len);

/* Appends s (UTF-8) as a JSON string: quotes, \" \\ \b \f \n \r \t and \u00XX for the other
 * control bytes; every other byte as it is. */
void dbb_json_append_string(GString *out, const char *s);

/* "sha256:<hex of raw>": the ID of a record that carries none, stable across listings. */
char *dbb_json_synthetic_id(const char *raw, gsize raw_len);

G_END_DECLS
