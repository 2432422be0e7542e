/* rawjson: the spans of an array member and of any member must lie inside the text. */
#include "fuzz.h"

#include "api/rawjson.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *text = g_memdup2(data, size);
    static const char *const members[] = {"backups", "instances", "total_count", ""};
    GArray *spans = NULL;
    const char *why = NULL;
    DbbSpan span;

    for (gsize m = 0; m < G_N_ELEMENTS(members); m++) {
        if (dbb_rawjson_array_spans(text, size, members[m], &spans, &why)) {
            for (guint i = 0; i < spans->len; i++) {
                DbbSpan *s = &g_array_index(spans, DbbSpan, i);
                if (s->length == 0 || s->offset + s->length > size)
                    abort();
            }
            g_array_unref(spans);
            spans = NULL;
        } else if (why == NULL) {
            abort();
        }
        if (dbb_rawjson_member_span(text, size, members[m], &span) &&
            (span.length == 0 || span.offset + span.length > size))
            abort();
    }
    g_free(text);
    return 0;
}
