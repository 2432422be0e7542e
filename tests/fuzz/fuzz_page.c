/* One page of every listing of every service, through the paginator's page parser and the
 * service's item parser.  The first byte picks the listing; the rest is the body. */
#include "fuzz.h"

#include "api/paginate.h"
#include "api/service_ops.h"

typedef struct {
    const DbbService *service;
    const DbbListingTable *table;
    gboolean is_backups;
} Listing;

static GArray *listings;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const DbbService *const *services = dbb_services();

    fuzz_quiet();
    listings = g_array_new(FALSE, FALSE, sizeof(Listing));
    for (gsize i = 0; services[i] != NULL; i++) {
        const DbbServiceOps *ops = services[i]->ops;
        Listing l = {services[i], &ops->instances, FALSE};

        g_array_append_val(listings, l);
        for (gsize b = 0; b < ops->n_backups; b++) {
            Listing lb = {services[i], &ops->backups[b], TRUE};
            g_array_append_val(listings, lb);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const Listing *l;
    DbbParseContext ctx;
    DbbPaginateSpec spec;
    DbbPage page = {0};
    GError *error = NULL;
    gint64 total = 0, page_no = 0;
    GPtrArray *items;

    if (size < 1)
        return 0;
    l = &g_array_index(listings, Listing, data[0] % listings->len);
    ctx.service = l->service;
    ctx.listed_instance_id = (data[0] / listings->len) % 2 ? "listed-instance" : NULL;
    dbb_service_spec_init(&spec, l->service, l->table, l->is_backups, &ctx);
    spec.path = "/fuzz";
    page.json = fuzz_parse_json((const char *)data + 1, size - 1);
    if (page.json == NULL)
        return 0;
    /* NUL past the end, as the http layer gives it. */
    {
        char *copy = g_malloc(size);
        memcpy(copy, data + 1, size - 1);
        copy[size - 1] = '\0';
        page.body = g_bytes_new_take(copy, size - 1);
    }
    items = dbb_paginate_parse_page(&spec, &page, (guint64)data[0] * 7, &total, &page_no, &error);
    if (items == NULL && error == NULL)
        abort();
    if (items != NULL)
        g_ptr_array_unref(items);
    g_clear_error(&error);
    dbb_page_clear(&page);
    return 0;
}
