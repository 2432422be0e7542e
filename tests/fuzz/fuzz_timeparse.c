/* timeparse: timestamps and zone names, with and without a default zone. */
#include "fuzz.h"

#include "api/timeparse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_auto(GStrv) parts = fuzz_split(data, size, 2);
    const char *why = NULL;
    gint64 epoch = 0, offset = 0;

    if (!dbb_time_parse(parts[0], 0, &epoch, &why) && why == NULL)
        abort();
    why = NULL;
    if (!dbb_time_parse(parts[0], -(23 * 3600 + 59 * 60), &epoch, &why) && why == NULL)
        abort();
    why = NULL;
    if (dbb_zone_parse(parts[0], &offset, &why)) {
        if (offset < -86400 || offset > 86400)
            abort();
    } else if (why == NULL) {
        abort();
    }
    /* The adapters' entry point: text in a named zone, either may be NULL. */
    (void)dbb_time_field("fuzz", "id", "created", parts[0], parts[1]);
    (void)dbb_time_field("fuzz", "id", "created", parts[0], NULL);
    return 0;
}
