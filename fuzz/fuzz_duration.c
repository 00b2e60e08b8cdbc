/* libFuzzer target: Go-syntax durations and sizes (directive values) and
 * RFC 3339 times (listing mod_time, state file): what parses, formats back
 * to text that parses to the same value; a size is never negative. */
#include "fuzz.h"
#include "zddc_json.h"
#include "zddc_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_input(data, size);
    apr_interval_time_t d = -1, d2 = -1;
    apr_time_t t;
    apr_int64_t n = -1, n2 = -1;

    if (!zddc_duration_parse(s, &d)) {
        const char *text = zddc_duration_format(fuzz_pool, d);
        FUZZ_CHECK(d >= 0);
        FUZZ_CHECK(zddc_duration_parse(text, &d2) == NULL);
        FUZZ_CHECK(d2 == d);
    }
    if (!zddc_size_parse(s, &n)) {
        char text[32];

        FUZZ_CHECK(n >= 0);
        snprintf(text, sizeof(text), "%" APR_INT64_T_FMT, n);
        FUZZ_CHECK(zddc_size_parse(text, &n2) == NULL && n2 == n);
    }
    t = zddc_rfc3339_parse(s);
    if (t > 0) {
        const char *text = zddc_rfc3339_format(fuzz_pool, t);
        FUZZ_CHECK(zddc_rfc3339_parse(text) / APR_USEC_PER_SEC
                   == t / APR_USEC_PER_SEC);
    }
    return 0;
}
