/* Request and upstream counters per Cache/Mirror virtual host (SPEC §7), in
 * shared memory every child adds to without a lock; kept across restarts. */
#ifndef ZDDC_METRICS_H
#define ZDDC_METRICS_H

#include <httpd.h>
#include <apr_errno.h>
#include "zddc_config.h"

/* Verdicts counted, in the order they are shown. UPDATING is counted once
 * the pipeline answers with it (ZddcCacheStaleWhileRevalidate). */
typedef enum {
    ZDDC_VERDICT_HIT = 0,
    ZDDC_VERDICT_REVALIDATED,
    ZDDC_VERDICT_MISS,
    ZDDC_VERDICT_STALE,
    ZDDC_VERDICT_BYPASS,
    ZDDC_VERDICT_UPDATING,
    ZDDC_NVERDICTS
} zddc_verdict_e;

/* Kinds of upstream error counted. */
typedef enum {
    ZDDC_UPERR_CONNECT = 0,     /* no response: refused, DNS, TLS */
    ZDDC_UPERR_TIMEOUT,         /* stalled past ZddcUpstreamTimeout */
    ZDDC_UPERR_5XX,             /* a 5xx answer */
    ZDDC_UPERR_401,             /* the mirror's own credentials refused */
    ZDDC_UPERR_BROKEN,          /* body cut short or malformed */
    ZDDC_NUPERRS
} zddc_uperr_e;

/* The names shown for each (label values). */
extern const char *const zddc_verdict_names[ZDDC_NVERDICTS];
extern const char *const zddc_uperr_names[ZDDC_NUPERRS];

/* A copy of one virtual host's counters, read for display. */
typedef struct {
    apr_uint64_t requests[ZDDC_NVERDICTS];
    apr_uint64_t served_bytes;
    apr_uint64_t upstream_requests;
    apr_uint64_t upstream_errors[ZDDC_NUPERRS];
    apr_time_t since;           /* when these counters started */
} zddc_metrics_counts;

/* post_config, after every vhost's upstream client exists: give each Cache
 * and Mirror vhost its counters (the same ones as before a restart when
 * it keeps its name and cache root) and have its upstream client report
 * each request's outcome. Skipped in the first configuration pass. */
apr_status_t zddc_metrics_post_config(apr_pool_t *pconf, server_rec *s);

/* Note the request's verdict (called where X-Zddc-Cache is set; the last
 * call wins). Counted, with the bytes sent, when the request is logged. */
void zddc_metrics_verdict(request_rec *r, const char *verdict);

/* log_transaction hook: count the request's verdict and body bytes. */
int zddc_metrics_log_transaction(request_rec *r);

/* The vhost's counters; 0 (and *out zeroed) when it has none. */
int zddc_metrics_get(const zddc_server_conf *conf, zddc_metrics_counts *out);

#endif
