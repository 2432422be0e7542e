/*
 * dbbackupfs — what every libFuzzer target shares (tests/fuzz/, built with -Dfuzz=true).
 *
 * Messages below critical are dropped (the parsers log every oddity and the fuzzer would
 * spend its time writing them); a GLib critical or error is a bug and aborts, so libFuzzer
 * reports it as a crash with the input that caused it.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void fuzz_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                            gpointer user)
{
    if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) {
        g_printerr("%s: %s\n", domain ? domain : "", message);
        abort();
    }
}

static inline GLogWriterOutput fuzz_writer(GLogLevelFlags level, const GLogField *fields,
                                           gsize n_fields, gpointer user)
{
    if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) {
        for (gsize i = 0; i < n_fields; i++)
            if (strcmp(fields[i].key, "MESSAGE") == 0)
                g_printerr("%s\n", (const char *)fields[i].value);
        abort();
    }
    return G_LOG_WRITER_HANDLED;
}

static inline void fuzz_quiet(void)
{
    g_log_set_default_handler(fuzz_log, NULL);
    g_log_set_writer_func(fuzz_writer, NULL, NULL);
}

/* The input as a NUL-terminated string (an embedded NUL ends it early, as for C callers). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    return g_strndup((const char *)data, size);
}

/* The input cut at NUL bytes into at most `max` NUL-terminated strings (a NULL-terminated
 * vector; fewer when the input has fewer NULs). */
static inline char **fuzz_split(const uint8_t *data, size_t size, guint max)
{
    GPtrArray *parts = g_ptr_array_new();
    size_t start = 0;

    for (size_t i = 0; i <= size && parts->len < max; i++) {
        if (i == size || data[i] == '\0') {
            g_ptr_array_add(parts, g_strndup((const char *)data + start, i - start));
            start = i + 1;
        }
    }
    g_ptr_array_add(parts, NULL);
    return (char **)g_ptr_array_free(parts, FALSE);
}

#include <json-c/json.h>

/* Parse text as http.c accepts a 2xx body: one document, strict, nesting ≤ 64.  NULL when
 * it does not parse (the http layer would retry, then fail the request). */
static inline json_object *fuzz_parse_json(const char *text, size_t size)
{
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *obj;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)MIN(size, (size_t)G_MAXINT));
    if (obj == NULL && json_tokener_get_error(tok) == json_tokener_continue)
        obj = json_tokener_parse_ex(tok, " ", 1);
    json_tokener_free(tok);
    return obj;
}
