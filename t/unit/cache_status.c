/* Unit tests for RFC 9211 Cache-Status: our member per verdict, appending
 * to an upstream's field, and reading whether an upstream served stale. */
#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

#include "tap.h"
#include "zddc_cache_status.h"

int main(void)
{
    apr_pool_t *p;
    const char *m;

    apr_initialize();
    apr_pool_create(&p, NULL);

    is_str(zddc_cache_status_member(p, "docs-mirror.example.com", "HIT", 0,
                                    NULL),
           "docs-mirror.example.com; hit", "HIT is a hit");
    is_str(zddc_cache_status_member(p, "m.example", "REVALIDATED", 0, NULL),
           "m.example; fwd=stale; fwd-status=304",
           "REVALIDATED forwarded a stale copy and got 304");
    is_str(zddc_cache_status_member(p, "m.example", "MISS", 1, NULL),
           "m.example; fwd=uri-miss; stored", "a stored MISS");
    is_str(zddc_cache_status_member(p, "m.example", "MISS", 0, NULL),
           "m.example; fwd=uri-miss", "a MISS not stored");
    is_str(zddc_cache_status_member(p, "m.example", "BYPASS", 0, NULL),
           "m.example; fwd=bypass", "BYPASS");
    is_str(zddc_cache_status_member(p, "m.example", "UPDATING", 0, NULL),
           "m.example; hit; detail=updating", "UPDATING (SWR)");
    m = zddc_cache_status_member(p, "m.example", "STALE", 0,
                                 "stale: upstream timed out");
    is_str(m, "m.example; hit; detail=\"stale: upstream timed out\"",
           "STALE is a hit with a detail naming why");
    ok(strstr(zddc_cache_status_member(p, "m", "STALE", 0, NULL), "stale")
       != NULL, "a STALE detail always says stale");
    is_str(zddc_cache_status_member(p, "127.0.0.1", "HIT", 0, NULL),
           "\"127.0.0.1\"; hit", "a name that is no token is an sf-string");
    is_str(zddc_cache_status_member(p, "a\"b\\c\n", "HIT", 0, NULL),
           "\"a\\\"b\\\\c?\"; hit", "quotes escaped, controls replaced");

    is_str(zddc_cache_status_append(p, NULL, "me; hit"), "me; hit",
           "no upstream field: ours alone");
    is_str(zddc_cache_status_append(p, "  ", "me; hit"), "me; hit",
           "an empty upstream field: ours alone");
    is_str(zddc_cache_status_append(p, "origin; fwd=uri-miss", "me; hit"),
           "origin; fwd=uri-miss, me; hit", "ours comes last");

    ok(zddc_cache_status_says_stale(
           zddc_cache_status_member(p, "regional", "STALE", 0, NULL)),
       "our own STALE member reads as stale");
    ok(zddc_cache_status_says_stale(
           "master; fwd=uri-miss, regional; hit; detail=\"stale: upstream "
           "unreachable\""), "the last member decides: stale");
    ok(!zddc_cache_status_says_stale(
           "regional; hit; detail=\"stale\", site; fwd=stale; fwd-status=304"),
       "a later member that revalidated is not stale");
    ok(!zddc_cache_status_says_stale("regional; hit"), "a plain hit is not");
    ok(!zddc_cache_status_says_stale("regional; fwd=stale; fwd-status=304"),
       "a revalidation is not");
    ok(zddc_cache_status_says_stale("cdn; fwd=stale"),
       "fwd=stale without a fwd-status never heard from upstream");
    ok(!zddc_cache_status_says_stale("regional; hit; detail=updating"),
       "UPDATING is not stale");
    ok(!zddc_cache_status_says_stale(NULL), "no field, not stale");
    ok(!zddc_cache_status_says_stale("regional; hit; detail=\"stale"),
       "an unterminated string does not parse");
    ok(!zddc_cache_status_says_stale("regional; HIT; detail=stale"),
       "an upper-case key does not parse");
    ok(!zddc_cache_status_says_stale("a; hit; detail=stale junk"),
       "junk after a member does not parse");
    ok(zddc_cache_status_says_stale("\"1.2.3.4\";hit;detail=STALE-origin"),
       "strings as names, no spaces, any case of 'stale' in the detail");
    ok(!zddc_cache_status_says_stale(",,,;;;===\"\\"), "garbage is not stale");

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
