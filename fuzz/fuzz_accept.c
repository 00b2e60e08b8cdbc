/* libFuzzer target: Accept header negotiation (a client's bytes) between
 * the JSON and the HTML listing. */
#include "fuzz.h"
#include "zddc_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *accept = fuzz_input(data, size);
    int json = zddc_accept_wants_json(accept);

    FUZZ_CHECK(json == 0 || json == 1);
    /* Only an "application/json" or "application/" wildcard range can
     * ask for JSON. */
    if (!strcasestr(accept, "application/")) {
        FUZZ_CHECK(!json);
    }
    return 0;
}
