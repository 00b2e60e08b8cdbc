/* libFuzzer target: an upstream's Cache-Status field (RFC 9211), read to
 * see whether it served stale, and the field we send on with our member
 * appended. Input fields, one a line: the upstream's value, a ServerName. */
#include "fuzz.h"
#include "zddc_cache_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[2];
    const char *member, *out;
    int stale;

    fuzz_fields(fuzz_input(data, size), f, 2);
    stale = zddc_cache_status_says_stale(f[0]);
    FUZZ_CHECK(stale == 0 || stale == 1);

    member = zddc_cache_status_member(fuzz_pool, f[1], "STALE", 0,
                                      "upstream unreachable (stale)");
    FUZZ_CHECK(member != NULL && !strpbrk(member, "\r\n"));
    out = zddc_cache_status_append(fuzz_pool, f[0], member);
    FUZZ_CHECK(out != NULL);
    /* Ours is the last member, whatever the upstream sent before it. */
    FUZZ_CHECK(strlen(out) >= strlen(member)
               && !strcmp(out + strlen(out) - strlen(member), member));
    return 0;
}
