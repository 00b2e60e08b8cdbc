/* Regression tests for what the libFuzzer targets (fuzz/) found: each
 * input is the fuzzer's reproducer, each check the property it broke. */
#include <apr_general.h>
#include <apr_pools.h>

#include "tap.h"
#include "zddc_json.h"
#include "zddc_upstream.h"

/* fuzz_duration: a time whose offset carries it out of years 1..9999 in
 * UTC was accepted, and written back as a five-digit year that does not
 * parse (a state file that reads as corrupt after the next save). */
static void test_rfc3339_year_range(apr_pool_t *p)
{
    apr_time_t t;

    t = zddc_rfc3339_parse("9999-12-31T23:59:59-23:59");
    is_int(t, 0, "9999-12-31T23:59:59-23:59 (year 10000 in UTC) is refused");
    t = zddc_rfc3339_parse("0001-01-01T00:00:00+00:01");
    is_int(t, 0, "0001-01-01T00:00:00+00:01 (year 0 in UTC) is refused");

    t = zddc_rfc3339_parse("9999-12-31T23:59:59Z");
    ok(t > 0, "9999-12-31T23:59:59Z, the last second, is accepted");
    is_int(zddc_rfc3339_parse(zddc_rfc3339_format(p, t)), t,
           "and formats back to the same time");
    t = zddc_rfc3339_parse("9999-12-31T23:59:59+23:59");
    ok(t > 0, "9999-12-31T23:59:59+23:59 (still 9999 in UTC) is accepted");
    is_int(zddc_rfc3339_parse(zddc_rfc3339_format(p, t)), t,
           "and formats back to the same time");
    t = zddc_rfc3339_parse("0001-01-01T00:00:00Z");
    ok(t < 0, "0001-01-01T00:00:00Z, the first second, is accepted");
}

/* fuzz_url: the IPv6 literal check looked at characters only, so
 * "[:::0]" passed as ZddcUpstreamURL and failed at every request. */
static void test_url_ipv6_literal(void)
{
    ok(zddc_upstream_check_url("http://[:::0]:1/") != NULL,
       "http://[:::0]:1/ is refused");
    ok(zddc_upstream_check_url("http://[1:2:3:4:5:6:7:8:9]/") != NULL,
       "an IPv6 literal of nine groups is refused");
    ok(zddc_upstream_check_url("http://[1.2.3.4]/") != NULL,
       "a bracketed IPv4 address is refused");
    ok(zddc_upstream_check_url("http://[::1]:8080/") == NULL,
       "http://[::1]:8080/ is accepted");
    ok(zddc_upstream_check_url("https://[::ffff:127.0.0.1]/base") == NULL,
       "an IPv4-mapped IPv6 literal is accepted");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_rfc3339_year_range(p);
    test_url_ipv6_literal();
    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
