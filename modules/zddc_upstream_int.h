/* What the upstream client's two transports share: the object, one transfer's
 * bookkeeping, request-header policy and response parsing. Not for callers. */
#ifndef ZDDC_UPSTREAM_INT_H
#define ZDDC_UPSTREAM_INT_H

#include <sys/types.h>

#include <apr_thread_mutex.h>

#include "zddc_upstream.h"
#include "zddc_version.h"

#define ZDDC_UP_USER_AGENT "mod_zddc_mirror/" ZDDC_VERSION

typedef struct zddc_up_plain zddc_up_plain;

struct zddc_upstream {
    const char *base;
    const char *bearer;
    const char *ca_file;
    long connect_ms;
    long stall_sec;
    apr_interval_time_t stall;
    apr_thread_mutex_t *lock;
    void *idle[16];             /* libcurl's idle handles */
    int nidle;
    pid_t owner_pid;
    int closed;
    zddc_up_plain *plain;       /* NULL unless the base URL is http:// */
    zddc_upstream_observer_fn *observer;    /* may be NULL */
    void *observer_baton;
};

/* One transfer as both transports see it. */
typedef struct {
    zddc_upstream_req *req;
    zddc_upstream_resp *resp;
    apr_pool_t *p;
    int head_done;      /* on_headers ran for the final response */
    int aborted;        /* a callback or the cancel flag stopped the transfer */
} zddc_up_xfer;

/* This process's id without a system call (kept current across fork). */
pid_t zddc_up_pid(void);

int zddc_up_has_crlf(const char *s);

/* Whether an extra request header may be passed on (not a credential,
 * hop-by-hop, framing or one the client sets itself, no CR/LF). */
int zddc_up_header_allowed(const char *key, const char *val);

/* A raw query string safe for a request line: spaces, controls and
 * non-ASCII bytes percent-encoded, the rest as the client sent it. */
const char *zddc_up_query(apr_pool_t *p, const char *q);

/* The status code of an "HTTP/x.y NNN ..." line, 0 if malformed. */
int zddc_up_parse_status(const char *line, apr_size_t len);

/* Add one response header line (no CR/LF) to resp->headers, folding
 * obsolete continuation lines into the previous value. */
void zddc_up_header_line(zddc_up_xfer *x, const char *data, apr_size_t len);

/* The final response's headers are complete: fill the summary fields and
 * call on_headers once. 0 when on_headers refused (x->aborted set). */
int zddc_up_headers_complete(zddc_up_xfer *x);

int zddc_up_cancelled(const zddc_up_xfer *x);

/* The plain-http transport (zddc_upstream_plain.c): HTTP/1.1 over APR
 * sockets for GET and HEAD without a request body. */
apr_status_t zddc_up_plain_create(zddc_upstream *up, apr_pool_t *p);
apr_status_t zddc_up_plain_perform(zddc_upstream *up, zddc_up_xfer *x,
                                   const char *method);

#endif
