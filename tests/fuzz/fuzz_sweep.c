/* The whole paginated sweep of one listing: the input, cut at NUL bytes, is the pages the
 * server answers (the page for an offset is picked from the offset, so a lying total, holes,
 * repeats and both DDM offset readings all come up).  The page size is 2, so a few bytes
 * make a listing of many pages.  A listing is complete or an error, never a crash. */
#include "fuzz.h"

#include <errno.h>

#include "api/error.h"
#include "api/paginate.h"
#include "api/service_ops.h"

#define MAX_PAGES 8

typedef struct {
    char **pages;
    guint n;
    gint calls; /* atomic */
} Server;

static GArray *tables; /* const DbbService *, const DbbListingTable * pairs */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const DbbService *const *services = dbb_services();

    fuzz_quiet();
    tables = g_array_new(FALSE, FALSE, sizeof(gconstpointer));
    for (gsize i = 0; services[i] != NULL; i++) {
        gconstpointer pair[2] = {services[i], &services[i]->ops->instances};
        g_array_append_vals(tables, pair, 2);
        for (gsize b = 0; b < services[i]->ops->n_backups; b++) {
            gconstpointer bp[2] = {services[i], &services[i]->ops->backups[b]};
            g_array_append_vals(tables, bp, 2);
        }
    }
    return 0;
}

static gboolean serve(gpointer data, guint64 offset, guint limit, DbbPage *page, GError **error)
{
    Server *s = data;
    const char *text;

    g_atomic_int_inc(&s->calls);
    text = s->pages[offset % s->n];
    page->json = fuzz_parse_json(text, strlen(text));
    if (page->json == NULL) {
        g_set_error(error, DBB_API_ERROR, EIO, "not JSON");
        return FALSE;
    }
    page->body = g_bytes_new(text, strlen(text));
    return TRUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    guint n_tables = tables->len / 2;
    Server server = {0};
    DbbParseContext ctx = {0};
    DbbPaginateSpec spec;
    GError *error = NULL;
    GPtrArray *items;
    guint pick;

    if (size < 2)
        return 0;
    pick = data[0] % n_tables;
    ctx.service = g_array_index(tables, gconstpointer, 2 * pick);
    dbb_service_spec_init(&spec, ctx.service, g_array_index(tables, gconstpointer, 2 * pick + 1),
                          pick % 2 == 1, &ctx);
    spec.path = "/fuzz";
    spec.limit = 2;
    spec.max_conns = 1 + data[1] % 3;
    spec.fetch = serve;
    spec.fetch_data = &server;
    server.pages = fuzz_split(data + 2, size - 2, MAX_PAGES);
    server.n = g_strv_length(server.pages);
    items = dbb_paginate(&spec, &error);
    if ((items == NULL) == (error == NULL))
        abort();
    if (items != NULL)
        g_ptr_array_unref(items);
    g_clear_error(&error);
    g_strfreev(server.pages);
    return 0;
}
