/* RFC 9211 Cache-Status: this cache's member for a verdict (SPEC §5), and
 * reading an upstream's field to see whether it served a stale copy. */
#ifndef ZDDC_CACHE_STATUS_H
#define ZDDC_CACHE_STATUS_H

#include <apr_pools.h>

/* This cache's list member: name (ServerName; a token when it is one, else
 * an sf-string) and the parameters SPEC §5 gives the verdict ("HIT",
 * "REVALIDATED", "MISS", "STALE", "BYPASS", "UPDATING"). stored adds
 * `stored` to a MISS; detail (may be NULL) becomes `detail` (a STALE one
 * always contains "stale"). */
const char *zddc_cache_status_member(apr_pool_t *p, const char *name,
                                     const char *verdict, int stored,
                                     const char *detail);

/* The field value to send: the upstream's members (a header value, may be
 * NULL or empty) followed by ours, as RFC 9211 orders caches from the
 * origin towards the user. */
const char *zddc_cache_status_append(apr_pool_t *p, const char *upstream,
                                     const char *member);

/* 1 when the member nearest to us in an upstream's Cache-Status served a
 * stale copy (`hit` with a `detail` containing "stale", or `fwd=stale`
 * without `fwd-status`, i.e. it never heard from its own upstream);
 * 0 otherwise, also for a field that does not parse. */
int zddc_cache_status_says_stale(const char *value);

#endif
