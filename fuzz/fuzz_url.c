/* libFuzzer target: the upstream URL check (ZddcUpstreamURL): whatever it
 * accepts is an http(s) URL without credentials, query, fragment or
 * control characters, that libcurl's own parser agrees on. */
#include <curl/curl.h>

#include "fuzz.h"
#include "zddc_upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_input(data, size);
    const char *c;
    CURLU *u;

    if (zddc_upstream_check_url(url)) {
        return 0;
    }
    FUZZ_CHECK(!strncasecmp(url, "http://", 7)
               || !strncasecmp(url, "https://", 8));
    for (c = url; *c; c++) {
        FUZZ_CHECK((unsigned char)*c > 0x20 && *c != 0x7f && *c != '?'
                   && *c != '#' && *c != '@' && *c != '\\');
    }
    u = curl_url();
    FUZZ_CHECK(u != NULL);
    FUZZ_CHECK(curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK);
    curl_url_cleanup(u);
    return 0;
}
