/*
 * dbbackupfs — entry names (DESIGN.md "The tree", contract).
 *
 * - '/' and the control bytes 0x00-0x1F and 0x7F become '_'; other UTF-8 is kept.
 * - A missing, empty, "." or ".." name becomes the ID (itself sanitised).
 * - No final name exceeds 255 bytes: the base is cut on a UTF-8 boundary so that it fits
 *   with its suffixes ("@<id>", and ".json" for backups).
 * - Where entries of one directory would share a final name, every one of them is named
 *   "<name>@<id><suffix>"; collisions are judged on the final names, so the result does not
 *   depend on the order of the input.
 * - Pathological IDs only (they sanitise or cut alike, e.g. "a/b" and "a_b"): suffixed names
 *   that still coincide get "~<k>" before the suffix, k = 1, 2, ... in ID order, skipping
 *   any name already taken.  An ID that alone exceeds the limit is cut like a name, and the
 *   base is then dropped ("@<cut id><suffix>").  A final name is never "", "." or "..".
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DBB_NAME_MAX 255

typedef struct {
    const char *raw_name; /* the API's name (a string, or a number's text), or NULL */
    const char *id;       /* never NULL; unique within the directory */
    const char *suffix;   /* ".json" for backups, "" or NULL for directories */
    char *final_name;     /* out: newly allocated */
} DbbNameSlot;

/* Sanitised copy of s: '/' and control bytes replaced by '_'. */
char *dbb_name_sanitize(const char *s);

/* Fill final_name of every slot of one directory.  Any previous final_name is freed. */
void dbb_names_assign(DbbNameSlot *slots, gsize n);

/* Free the final names. */
void dbb_names_clear(DbbNameSlot *slots, gsize n);

G_END_DECLS
