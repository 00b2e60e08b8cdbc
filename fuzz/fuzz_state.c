/* libFuzzer target: the mirror state file parser (bytes from disk that a
 * crash or an operator may have mangled), and that what it accepts is
 * written back in a form that parses to the same records. */
#include "fuzz.h"
#include "zddc_json.h"

static void same_rec(const zddc_state_rec *a, const zddc_state_rec *b)
{
    /* The file keeps whole seconds and whole milliseconds. */
    FUZZ_CHECK(a->last_walk_at / APR_USEC_PER_SEC
               == b->last_walk_at / APR_USEC_PER_SEC);
    FUZZ_CHECK(a->duration / 1000 == b->duration / 1000);
    FUZZ_CHECK(a->dirs == b->dirs && a->files == b->files
               && a->fetched == b->fetched && a->skipped == b->skipped
               && a->purged == b->purged && a->errors == b->errors
               && a->bytes == b->bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_hash_t *h = NULL, *back = NULL;
    apr_hash_index_t *hi;
    const char *err = NULL;
    char *json = fuzz_input(data, size);
    char *out;

    if (zddc_state_parse(json, size, &h, &err, fuzz_pool) != APR_SUCCESS) {
        FUZZ_CHECK(err != NULL);
        return 0;
    }
    out = zddc_state_serialize(h, fuzz_pool);
    FUZZ_CHECK(out != NULL);
    err = NULL;
    FUZZ_CHECK(zddc_state_parse(out, strlen(out), &back, &err, fuzz_pool)
               == APR_SUCCESS);
    FUZZ_CHECK(apr_hash_count(back) == apr_hash_count(h));
    for (hi = apr_hash_first(fuzz_pool, h); hi; hi = apr_hash_next(hi)) {
        const char *key = apr_hash_this_key(hi);
        const zddc_state_rec *b = apr_hash_get(back, key, APR_HASH_KEY_STRING);
        FUZZ_CHECK(b != NULL);
        same_rec(apr_hash_this_val(hi), b);
    }
    return 0;
}
