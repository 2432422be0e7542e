/* Error bodies of every kind the services send (error_code/error_msg, errCode/
 * externalMessage, IAM's error{}, code/message), as a failure message shows them. */
#include "fuzz.h"

#include "api/http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 400, 401, 404, 429, 500};
    long status = size > 0 ? statuses[data[0] % G_N_ELEMENTS(statuses)] : 500;
    guint8 *body = g_memdup2(data, size);
    char *detail = dbb_http_error_detail(status, body, size);

    /* One line of bounded size, whatever the server sends (an error text goes to the log). */
    if (!g_str_has_prefix(detail, "HTTP ") || strlen(detail) > 2048)
        abort();
    g_free(detail);
    g_free(body);
    return 0;
}
