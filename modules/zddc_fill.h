/* The fill engine (SPEC §5, §6.2): the one place that turns an upstream
 * answer for a file into the cache's copy, for the request path and the
 * walker alike. */
#ifndef ZDDC_FILL_H
#define ZDDC_FILL_H

#include <apr_pools.h>
#include "zddc_config.h"
#include "zddc_store.h"
#include "zddc_upstream.h"

typedef enum {
    ZDDC_FILL_STORED,        /* 200: stored (or being stored) */
    ZDDC_FILL_NOT_MODIFIED,  /* 304: the copy is current, validated now */
    ZDDC_FILL_NO_STORE,      /* 200 with no-store: not kept, old copy purged */
    ZDDC_FILL_GONE,          /* 403/404/410: local copy purged */
    ZDDC_FILL_UNAUTHORIZED,  /* 401 */
    ZDDC_FILL_OTHER,         /* any other status (5xx, 3xx, ...) */
    ZDDC_FILL_FAILED,        /* no complete answer (connect, timeout, broken,
                                the store refused the body) */
    ZDDC_FILL_BUSY           /* another writer holds the file */
} zddc_fill_e;

/* What a fill's caller knows of the copy it asks about. */
typedef struct {
    int have;                /* a regular file is cached */
    apr_time_t mtime;        /* its mtime (the stored Last-Modified) */
    apr_time_t confirmed;    /* background fills: when the caller saw it
                                last confirmed; a copy confirmed later than
                                that by the time the fill leads is left
                                alone (0: always ask) */
    int has_validator;       /* the caller found it kept with a validator
                                (0: not looked at) */
} zddc_fill_copy;

/* Called for each piece of body as it is stored (walker: bytes, deadline);
 * non-APR_SUCCESS stops the transfer. */
typedef apr_status_t zddc_fill_progress_fn(void *baton, apr_size_t len);

typedef struct {
    zddc_fill_e outcome;
    apr_status_t rv;             /* the transport's error for FAILED */
    zddc_upstream_resp resp;     /* status, headers (valid with the fill) */
    int purged;                  /* a local copy was removed */
    int published;               /* STORED and committed */
    const char *store_error;     /* why the store refused the body */
    int too_large;               /* FAILED: the body outgrew (or its
                                    Content-Length exceeded)
                                    ZddcCacheMaxFileSize; nothing kept */
} zddc_fill_result;

/* Once per child (child_init): the threads background fills run on,
 * stopped (their transfers cancelled) when pchild goes away. */
void zddc_fill_child_init(apr_pool_t *pchild, server_rec *s);

/* The mtime a body with Last-Modified lm is stored with: a date in the
 * second the answer arrived cannot vouch for a change later in that
 * second (RFC 9110 §8.8.2.2), so it is stored a second older. */
apr_time_t zddc_fill_store_mtime(apr_time_t lm, apr_time_t now);

/* The If-Modified-Since for a copy: 0 (unconditional) when there is none
 * or it was stored without a validator. */
apr_time_t zddc_fill_ims(zddc_server_conf *conf, zddc_store_obj *obj,
                         const zddc_fill_copy *copy, apr_pool_t *p);

/* Fill url on the calling thread (the walker, whose requests go through
 * its session; NULL: a request of its own). res->resp and its headers live
 * in p. With a session the file is taken for writing before the request
 * (ZDDC_FILL_BUSY at once, no request, when another writer holds it) and
 * a small body reaches the store when the answer is complete. */
zddc_fill_e zddc_fill_sync(zddc_server_conf *conf,
                           zddc_upstream_session *session, const char *url,
                           zddc_store_obj *obj, const zddc_fill_copy *copy,
                           volatile apr_uint32_t *cancel,
                           zddc_fill_progress_fn *progress, void *baton,
                           zddc_fill_result *res, apr_pool_t *p);

/* One file of a walk's batch. */
typedef struct {
    const char *url;
    zddc_store_obj *obj;
    zddc_fill_copy copy;
    void *user;                  /* the caller's */
    zddc_fill_e outcome;         /* set by zddc_fill_sync_all */
    zddc_fill_result res;
} zddc_fill_item;

/* An item of zddc_fill_sync_all is settled: its outcome and res are set
 * (res->resp lives in a subpool of p until the call returns). */
typedef void zddc_fill_done_fn(void *baton, zddc_fill_item *it);

/* zddc_fill_sync for up to ZDDC_UPSTREAM_ALL_MAX files through a walk's
 * session (non-NULL): each is taken for writing, then their requests go
 * to the session together; each file is published (or discarded) and
 * reported to done (may be NULL) on this thread as its own answer ends,
 * so a slow neighbour holds none back. items[i].outcome and .res as
 * zddc_fill_sync gives them. */
void zddc_fill_sync_all(zddc_server_conf *conf,
                        zddc_upstream_session *session,
                        zddc_fill_item *items, int n,
                        volatile apr_uint32_t *cancel,
                        zddc_fill_progress_fn *progress,
                        zddc_fill_done_fn *done, void *baton,
                        apr_pool_t *p);

/* Fill url on the calling thread with a request of its own, as a client's
 * revalidation does: a 200 whose body may exceed body_max (> 0) is left
 * alone (ZDDC_FILL_BUSY: a background fill is for it); what the answer
 * says of the master's reachability is noted for
 * ZddcCacheStaleWhileRevalidate. */
zddc_fill_e zddc_fill_here(zddc_server_conf *conf, const char *url,
                           zddc_store_obj *obj, const zddc_fill_copy *copy,
                           apr_off_t body_max, zddc_fill_result *res,
                           apr_pool_t *p);

/* Revalidate a client's copy (copy->have, with a validator; the request
 * found it due at `asked`) on the calling thread, with one upstream
 * request for all who ask at once (SPEC §5): the threads of this child
 * wait for the one in flight and share its answer, other children wait on
 * the store's lock and find the copy confirmed. A changed file with a
 * small body is stored here; ZDDC_FILL_BUSY leaves the file to
 * zddc_fill_start (a larger body, another writer, an answer a follower
 * cannot share). res->resp.headers holds at least the upstream's
 * Cache-Status. */
zddc_fill_e zddc_fill_revalidate(zddc_server_conf *conf, const char *url,
                                 zddc_store_obj *obj,
                                 const zddc_fill_copy *copy, apr_time_t asked,
                                 zddc_fill_result *res, apr_pool_t *p);

/* Once per child, from zddc_fill_child_init. */
void zddc_fill_reval_child_init(apr_pool_t *pchild);

/* A fill running on a background thread at the upstream's pace, shared
 * with the request that started it. */
typedef struct zddc_fill zddc_fill;

/* Start filling url (whose copy is obj) in the background unless another
 * writer is at it.
 * *fill is the new fill (NULL when another writer leads); *follow is a
 * follower handle on the download (both cases), in p, to read the body
 * from what is stored; APR_EAGAIN when neither could be had. */
apr_status_t zddc_fill_start(zddc_server_conf *conf, const char *url,
                             zddc_store_obj *obj, const zddc_fill_copy *copy,
                             zddc_fill **fill, zddc_store_tmp **follow,
                             apr_pool_t *p);

/* Wait until the fill has the upstream's response headers or has ended;
 * returns its result so far (outcome valid once the headers are in). */
const zddc_fill_result *zddc_fill_wait_head(zddc_fill *f);

/* Whether the fill has ended; *written gets the body bytes stored so far. */
int zddc_fill_ended(zddc_fill *f, apr_off_t *written);

/* Wait, at most max, until the fill has stored bytes beyond *seen (what
 * it had stored at the caller's last look, 0 at first) or has ended;
 * *seen gets what it has stored now. */
void zddc_fill_wait_more(zddc_fill *f, apr_off_t *seen,
                         apr_interval_time_t max);

/* Wait, at most max, until the fill has ended (a copy it published is
 * kept with its metadata by then). */
void zddc_fill_wait_end(zddc_fill *f, apr_interval_time_t max);

/* The requesting client has sent the first bytes of the body (the
 * writer waits a moment for that, fill_signal). */
void zddc_fill_first_sent(zddc_fill *f);

/* The caller is done with it (the fill itself goes on if it must). */
void zddc_fill_release(zddc_fill *f);

/* Listings (SPEC §6.1). A directory's Last-Modified does not move when a
 * file in it is rewritten in place or the token's ACL on one file changes,
 * so a listing request never carries If-Modified-Since. It carries
 * If-None-Match when the master gave the cached listing side (have: there
 * is one) an ETag. Returns the request's extra headers, NULL for an
 * unconditional request; *meta gets what is kept with side (zeroed when
 * nothing is). For the walker and the request path alike. */
apr_table_t *zddc_fill_listing_conditions(zddc_server_conf *conf,
                                          zddc_store_obj *side, int have,
                                          zddc_store_meta *meta,
                                          apr_pool_t *p);

/* Keep a 200 listing body (already found usable) as side, with the
 * master's ETag and its Last-Modified (zddc_fill_store_mtime's rule); when
 * side already holds these very bytes it is only confirmed, so a warm walk
 * writes nothing. old is what was kept with side before (may be NULL). */
apr_status_t zddc_fill_listing_keep(zddc_server_conf *conf,
                                    zddc_store_obj *side, int have,
                                    const zddc_store_meta *old,
                                    const char *body, apr_size_t len,
                                    const zddc_upstream_resp *resp,
                                    apr_pool_t *p);

#endif
