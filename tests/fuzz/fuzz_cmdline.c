/* The command line: the input cut at NUL bytes is argv after the program name, followed by
 * the mount point (so the usual shape "-o a=b,c MNT" is one NUL away). */
#include "fuzz.h"
#include "fuzz_options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    fuzz_options_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_auto(GStrv) parts = fuzz_split(data, size, 16);
    guint n = g_strv_length(parts);
    char **argv = g_new0(char *, n + 3);
    int argc = 0;

    argv[argc++] = "dbbackupfs";
    for (guint i = 0; i < n; i++)
        argv[argc++] = parts[i];
    argv[argc++] = fuzz_mnt;
    fuzz_options_load(argv, argc);
    g_free(argv);
    return 0;
}
