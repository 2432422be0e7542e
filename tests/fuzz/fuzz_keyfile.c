/* The config key file: [dbbackupfs], [auth], [project NAME], [service NAME] groups. */
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
    g_autofree char *opt = g_strconcat("config=", fuzz_config, NULL);
    char *argv[] = {"dbbackupfs", "-o", opt, fuzz_mnt, NULL};
    int fd = open(fuzz_config, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd == -1 || write(fd, data, size) != (ssize_t)size || close(fd) != 0)
        abort();
    fuzz_options_load(argv, 4);
    return 0;
}
