/* The HTTP client towards the ZDDC master: one request at a time for the
 * request path, or many in flight through a walk's session (libcurl). */
#ifndef ZDDC_UPSTREAM_H
#define ZDDC_UPSTREAM_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_errno.h>

/* Errors besides APR_SUCCESS (a complete response of any status). */
#define ZDDC_UP_ECONNECT (APR_OS_START_USERERR + 101) /* no response: refused, DNS, TLS, connect timeout */
#define ZDDC_UP_ETIMEOUT (APR_OS_START_USERERR + 102) /* transfer stalled ZddcUpstreamTimeout */
#define ZDDC_UP_EBROKEN  (APR_OS_START_USERERR + 103) /* body ended early / malformed */
#define ZDDC_UP_EABORT   (APR_OS_START_USERERR + 104) /* a callback or the cancel flag stopped it */
#define ZDDC_UP_ETOOBIG  (APR_OS_START_USERERR + 105) /* buffered body over the limit */

typedef struct zddc_upstream zddc_upstream;

/* A walk's share of the upstream: one event loop keeping many requests in
 * flight, multiplexed over HTTP/2 where the master offers it. */
typedef struct zddc_upstream_session zddc_upstream_session;

typedef struct {
    int status;                 /* 0 until a status line arrived */
    apr_table_t *headers;       /* response headers (last response only) */
    apr_time_t last_modified;   /* 0 when absent or unparsable */
    apr_off_t content_length;   /* -1 when absent */
    int no_store;               /* Cache-Control: no-store */
    apr_off_t bytes;            /* body bytes received */
    const char *detail;         /* libcurl's own words on a failure, or NULL */
} zddc_upstream_resp;

/* Called once the status line and headers are complete, before any body.
 * Return non-APR_SUCCESS to abort the transfer (perform returns ZDDC_UP_EABORT). */
typedef apr_status_t zddc_upstream_headers_fn(void *baton,
                                              const zddc_upstream_resp *resp);
/* Called for each piece of body, in order. */
typedef apr_status_t zddc_upstream_body_fn(void *baton, const char *data,
                                           apr_size_t len);
/* Request body source for forwarded writes: fill up to *len bytes, set *len
 * to what was filled; *len = 0 means end of body. */
typedef apr_status_t zddc_upstream_read_fn(void *baton, char *buf,
                                           apr_size_t *len);

typedef struct {
    const char *method;          /* NULL = "GET" */
    const char *path;            /* decoded local URL path, starting "/" */
    const char *query;           /* raw query string without '?', or NULL */
    const char *accept;          /* Accept header or NULL */
    apr_time_t if_modified_since;/* 0 = unconditional */
    apr_table_t *headers;        /* extra request headers or NULL; Authorization,
                                    Cookie, Host, Connection are never sent */
    apr_off_t body_length;       /* request body length, -1 = chunked */
    zddc_upstream_read_fn *read_body; /* NULL = no request body */
    zddc_upstream_headers_fn *on_headers; /* may be NULL */
    zddc_upstream_body_fn *on_body;       /* may be NULL (body discarded) */
    void *baton;
    volatile apr_uint32_t *cancel; /* nonzero aborts the transfer; may be NULL
                                      (read with apr_atomic_read32) */
    zddc_upstream_session *session; /* NULL: this thread runs the transfer
                                       (HTTP/1.1); else the session's loop
                                       thread does, and runs the callbacks,
                                       while this thread waits */
    int urgent;                  /* in a session: goes ahead of the
                                    requests waiting for a free slot */
    apr_pool_t *pool;            /* NULL: perform's p; one of its own lets
                                    a perform_all's caller use the answers
                                    that ended while others run */
} zddc_upstream_req;

/* Requests one zddc_upstream_perform_all call takes. */
#define ZDDC_UPSTREAM_ALL_MAX 16

/* Once per process before any thread uses curl (post_config). */
void zddc_upstream_global_init(void);

/* base_url: http(s)://host[:port][/prefix] (trailing '/' trimmed).
 * bearer and ca_file (NULL: the system store) may be NULL. The object
 * lives in p, keeps per process a pool of configured libcurl handles with
 * their keep-alive connections, and is thread-safe. */
apr_status_t zddc_upstream_create(zddc_upstream **up, const char *base_url,
                                  const char *bearer, const char *ca_file,
                                  apr_interval_time_t timeout, apr_pool_t *p);

/* Told the outcome of every request perform makes (its return value and
 * the response status, 0 when none arrived), on the caller's thread once
 * the transfer has ended; for counters. */
typedef void zddc_upstream_observer_fn(void *baton, apr_status_t rv,
                                       int status);
void zddc_upstream_observe(zddc_upstream *up, zddc_upstream_observer_fn *fn,
                           void *baton);

/* Outbound proxy: NULL leaves libcurl's reading of the environment
 * (http_proxy, https_proxy, no_proxy), "none" ignores it, else a proxy
 * URL; userpwd ("user:password", may be NULL) is sent to the proxy only.
 * Call before the first request. */
apr_status_t zddc_upstream_set_proxy(zddc_upstream *up, const char *proxy,
                                     const char *userpwd);

/* Client certificate and key (PEM files) for an https upstream that
 * demands one; key may be NULL when the certificate file holds it. Both
 * are read now, into p (call before the server drops privileges). */
apr_status_t zddc_upstream_set_client_cert(zddc_upstream *up,
                                           const char *cert, const char *key,
                                           apr_pool_t *p);

/* Validate a ZddcUpstreamProxy URL: NULL if fine, else a message. */
const char *zddc_upstream_check_proxy(const char *url);

/* A session for one walk: up to max_in_flight (1-256) requests at once
 * over HTTP/2 (one connection when the master offers h2) or at most
 * max_in_flight HTTP/1.1 keep-alive connections. cancel (may be NULL)
 * ends every transfer of the session promptly. The loop thread lives
 * until zddc_upstream_session_destroy, which the owner calls once no
 * request of the session is running. */
apr_status_t zddc_upstream_session_create(zddc_upstream_session **sess,
                                          zddc_upstream *up,
                                          int max_in_flight,
                                          volatile apr_uint32_t *cancel,
                                          apr_pool_t *p);

/* As zddc_upstream_session_create; https_h1 (may be NULL) is where the
 * sessions of one walk remember, across processes, that the https
 * master speaks HTTP/1.x: a session that starts knowing it opens a
 * connection per request at once instead of waiting for its first
 * answer. */
apr_status_t zddc_upstream_session_create_ex(zddc_upstream_session **sess,
                                             zddc_upstream *up,
                                             int max_in_flight,
                                             volatile apr_uint32_t *cancel,
                                             volatile apr_uint32_t *https_h1,
                                             apr_pool_t *p);
void zddc_upstream_session_destroy(zddc_upstream_session *sess);

/* Validate a base URL for ZddcUpstream: NULL if fine, else a message. */
const char *zddc_upstream_check_url(const char *url);

/* Perform one request; resp is filled (resp->headers allocated from p).
 * The caller's thread blocks until the transfer ends. Redirects are not
 * followed. */
apr_status_t zddc_upstream_perform(zddc_upstream *up, zddc_upstream_req *req,
                                   zddc_upstream_resp *resp, apr_pool_t *p);

/* reqs[i] of a perform_all has ended: rv is what zddc_upstream_perform
 * would return for it. */
typedef void zddc_upstream_done_fn(void *baton, int i, apr_status_t rv);

/* Up to ZDDC_UPSTREAM_ALL_MAX requests of one session (all with the same
 * req->session), handed to its loop together (a walk's batch of files).
 * Each is reported to done (may be NULL) on the calling thread as it ends,
 * the ends of one pass of the loop with one wake-up; the call returns when
 * the last has. rvs[i] is what zddc_upstream_perform would return for
 * reqs[i]. The callbacks run on the loop thread, one at a time; a request
 * whose answer done uses while others run needs a pool of its own
 * (req->pool). Without a session they run one after another. */
void zddc_upstream_perform_all(zddc_upstream *up, zddc_upstream_req **reqs,
                               zddc_upstream_resp **resps, apr_status_t *rvs,
                               int n, zddc_upstream_done_fn *done,
                               void *baton, apr_pool_t *p);

/* Convenience: GET path and collect the body (at most max bytes, else
 * ZDDC_UP_ETOOBIG) into *body and *len (NUL-terminated). */
apr_status_t zddc_upstream_get(zddc_upstream *up, const char *path,
                               const char *accept, apr_time_t ims,
                               apr_size_t max, volatile apr_uint32_t *cancel,
                               zddc_upstream_resp *resp, char **body,
                               apr_size_t *len, apr_pool_t *p);

/* The same for a request the caller set up (path, accept, headers, cancel,
 * session, ...); its body and callbacks are set here. */
apr_status_t zddc_upstream_get_req(zddc_upstream *up, zddc_upstream_req *req,
                                   apr_size_t max, zddc_upstream_resp *resp,
                                   char **body, apr_size_t *len, apr_pool_t *p);

/* zddc_upstream_get through a session (NULL: like zddc_upstream_get). */
apr_status_t zddc_upstream_get_via(zddc_upstream *up,
                                   zddc_upstream_session *sess,
                                   const char *path, const char *accept,
                                   apr_time_t ims, apr_size_t max,
                                   volatile apr_uint32_t *cancel,
                                   zddc_upstream_resp *resp, char **body,
                                   apr_size_t *len, apr_pool_t *p);

/* The full upstream URL of path, for log lines (never contains the token). */
const char *zddc_upstream_url(zddc_upstream *up, apr_pool_t *p,
                              const char *path);

/* A short human phrase for an error code above, or the APR string. */
const char *zddc_upstream_strerror(apr_status_t rv, apr_pool_t *p);

/* The same phrase with libcurl's detail when there is one ("connection
 * failed: SSL certificate problem: ..."), for log lines. */
const char *zddc_upstream_describe(apr_status_t rv,
                                   const zddc_upstream_resp *resp,
                                   apr_pool_t *p);

#endif
