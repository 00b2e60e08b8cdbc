/* libFuzzer target: the ZDDC JSON listing parser (bytes from the master)
 * and the HTML page rendered from what it accepts. */
#include "fuzz.h"
#include "zddc_json.h"
#include "zddc_listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_array_header_t *entries = NULL;
    const char *err = NULL;
    char *json = fuzz_input(data, size);
    int i;

    /* The raw bytes, NULs included, exactly as the walker passes a body. */
    if (zddc_listing_parse(json, size, &entries, &err, fuzz_pool)
        != APR_SUCCESS) {
        FUZZ_CHECK(err != NULL);
        return 0;
    }
    FUZZ_CHECK(entries != NULL);
    for (i = 0; i < entries->nelts; i++) {
        const zddc_listing_entry *e = &APR_ARRAY_IDX(entries, i,
                                                     zddc_listing_entry);
        FUZZ_CHECK(e->name != NULL);
        FUZZ_CHECK(e->is_dir == 0 || e->is_dir == 1);
        FUZZ_CHECK(e->size >= -1);
    }
    FUZZ_CHECK(zddc_listing_render_html(fuzz_pool, "/a b/", entries) != NULL);
    return 0;
}
