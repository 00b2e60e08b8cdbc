/* Building client responses: the X-Zddc-Cache verdict, handing a cached
 * file through httpd's file buckets, streaming bodies, aborting broken ones. */
#ifndef ZDDC_RESPOND_H
#define ZDDC_RESPOND_H

#include <httpd.h>
#include <apr_buckets.h>
#include "zddc_config.h"

#define ZDDC_HIT          "HIT"
#define ZDDC_REVALIDATED  "REVALIDATED"
#define ZDDC_MISS         "MISS"
#define ZDDC_STALE        "STALE"
#define ZDDC_BYPASS       "BYPASS"
#define ZDDC_UPDATING     "UPDATING"

/* Request note holding the upstream answer's Cache-Status, when it had one;
 * our member is appended to it (SPEC §5). */
#define ZDDC_NOTE_UPSTREAM_CS "zddc-upstream-cache-status"

/* Request note: why a STALE copy is served (its Cache-Status detail). */
#define ZDDC_NOTE_STALE_DETAIL "zddc-stale-detail"

/* What a verdict may say beyond its name (SPEC §5). */
typedef struct {
    int stored;                 /* MISS: the answer is kept */
    const char *detail;         /* STALE: why the master was not heard */
    apr_time_t verified_at;     /* STALE: when the copy was last confirmed */
} zddc_verdict_info;

/* Sets X-Zddc-Cache, the ZDDC_CACHE_STATUS environment variable and
 * Cache-Status (RFC 9211; after any upstream members); a STALE verdict with
 * verified_at also gets Age and X-Zddc-Verified-At. vi may be NULL. */
void zddc_respond_verdict_info(request_rec *r, const char *verdict,
                               const zddc_verdict_info *vi);
void zddc_respond_verdict(request_rec *r, const char *verdict);

/* Serve the cached file as httpd's default handler would: Last-Modified,
 * ETag, client conditionals (304/412), byte ranges (the byterange filter),
 * HEAD, sendfile and mmap per EnableSendfile/EnableMMAP. content_type may be
 * NULL to keep what mod_mime chose. Returns the handler result. */
int zddc_respond_cached(request_rec *r, zddc_store_obj *o,
                        const char *content_type, const char *verdict);

/* The same for a copy stored without a validator (no_validator): no
 * Last-Modified or ETag is sent and no conditional request answered 304. */
int zddc_respond_cached_ex(request_rec *r, zddc_store_obj *o,
                           const char *content_type, const char *verdict,
                           int no_validator);

/* A body being streamed to the client. */
typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
    apr_off_t sent;          /* bytes handed to the output filters */
    int client_gone;         /* the client went away: keep quiet */
} zddc_stream;

void zddc_stream_init(zddc_stream *st, request_rec *r);
/* Pass len bytes on; the first piece is flushed so it arrives at once. */
apr_status_t zddc_stream_write(zddc_stream *st, const char *data,
                               apr_size_t len);
/* End the body normally. */
int zddc_stream_finish(zddc_stream *st);
/* End the body as broken: the client sees a truncated response and the
 * connection closes, so it cannot take part of the body for the whole. */
int zddc_stream_abort(zddc_stream *st);

/* Copy upstream response headers that describe the body (Content-Type,
 * Last-Modified, ETag, Content-Disposition, Content-Language, Cache-Control,
 * Expires) onto r; Content-Length when known. */
void zddc_respond_copy_headers(request_rec *r, apr_table_t *upstream,
                               apr_off_t content_length);

/* Turn an upstream Location into a local absolute URL; NULL when it points
 * somewhere other than the upstream. */
const char *zddc_respond_local_location(request_rec *r,
                                        const zddc_server_conf *conf,
                                        const char *location);

#endif
