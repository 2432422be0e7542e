/*
 * dbbackupfs — byte spans inside JSON text (internal to api/).
 *
 * json-c cannot give back a value's exact text (it clamps big integers, turns -0 into 0,
 * re-spells numbers), while a backup file must show each record exactly as the API sent
 * it.  This scanner walks the page body bytes and reports where each value lies, so the
 * caller can copy the exact text.  It never recurses (a container is walked with an explicit
 * bracket stack, so nesting depth is bounded only by memory), never reads outside [0, len),
 * and rejects text whose structure is not well-formed JSON (brackets, strings, commas and
 * colons; the spelling of scalars is json-c's business).  For a member that occurs twice in
 * one object the last occurrence counts, as in json-c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    gsize offset; /* first byte of the value */
    gsize length; /* bytes up to and including its last byte (no surrounding white space) */
} DbbSpan;

/* Spans (a new GArray of DbbSpan) of the elements of the array that is the value of member
 * `member` of the top-level object in text[0..len).  FALSE with *why (a static string) when
 * the text is not an object, has no such member, the member is not an array, or the text is
 * malformed. */
gboolean dbb_rawjson_array_spans(const char *text, gsize len, const char *member, GArray **spans,
                                 const char **why);

/* Span of the value of member `member` of the top-level object in text[0..len); FALSE when
 * absent or malformed. */
gboolean dbb_rawjson_member_span(const char *text, gsize len, const char *member, DbbSpan *span);

G_END_DECLS
