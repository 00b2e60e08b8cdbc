/* What the upstream client's policy (zddc_upstream.c: what to ask, how to
 * read the answer) and its libcurl transport (zddc_upstream_curl.c) share. */
#ifndef ZDDC_UPSTREAM_INT_H
#define ZDDC_UPSTREAM_INT_H

#include <apr_tables.h>

#include "zddc_upstream.h"
#include "zddc_version.h"

#define ZDDC_UP_USER_AGENT "mod_zddc_mirror/" ZDDC_VERSION

/* Bounds on what a hostile upstream can make us read before a body. */
#define ZDDC_UP_MAX_HEAD     (64 * 1024) /* bytes of one response head */
#define ZDDC_UP_MAX_INTERIM  8           /* 1xx responses before the final */
#define ZDDC_UP_MAX_TRAILER  (16 * 1024) /* bytes of chunked trailers */

typedef struct zddc_up_transport zddc_up_transport;

struct zddc_upstream {
    const char *base;
    const char *bearer;
    const char *ca_file;
    const char *proxy;          /* NULL: the environment's; "": none */
    const char *proxy_auth;     /* "user:password" or NULL; never logged */
    const char *client_cert;    /* PEM read at startup, or NULL */
    apr_size_t client_cert_len;
    const char *client_key;     /* PEM read at startup, or NULL */
    apr_size_t client_key_len;
    apr_interval_time_t timeout;
    zddc_up_transport *tr;      /* the transport's per-object state */
    zddc_upstream_observer_fn *observer;    /* may be NULL */
    void *observer_baton;
};

/* One request as it goes on the wire. */
typedef struct {
    const char *url;
    const char *method;
    int is_head;
    apr_array_header_t *lines;  /* const char *: "Name: value" */
} zddc_up_wire;

/* One transfer's bookkeeping, read and written by the thread that runs
 * the transfer's callbacks. */
typedef struct {
    zddc_upstream_req *req;
    zddc_upstream_resp *resp;
    apr_pool_t *p;
    int is_head;        /* HEAD: no body whatever the length says */
    int head_done;      /* on_headers ran for the final response */
    int aborted;        /* a callback or the cancel flag stopped it */
    const char *broken; /* the answer broke a framing rule: why */
    int interim;        /* 1xx responses seen */
    apr_size_t head_bytes;      /* of the response head being read */
    apr_size_t trailer_bytes;
    const char *last_name;      /* header the last line belonged to */
} zddc_up_xfer;

/* ---- policy, called by the transport ---------------------------------- */

int zddc_up_cancelled(const zddc_up_xfer *x);

/* One header line (CRLF included or not) of any response head or of the
 * trailers; 0 stops the transfer (x->aborted or x->broken set). */
int zddc_up_head_line(zddc_up_xfer *x, const char *data, apr_size_t len);

/* A piece of body; 0 stops the transfer. */
int zddc_up_body(zddc_up_xfer *x, const char *data, apr_size_t len);

/* Fill up to *len bytes of request body; 0 stops the transfer. */
int zddc_up_read(zddc_up_xfer *x, char *buf, apr_size_t *len);

/* The transfer ended with transport result rv: the final verdict. */
apr_status_t zddc_up_finish(zddc_up_xfer *x, apr_status_t rv);

/* ---- transport (the only code that talks to libcurl) ------------------ */

void zddc_up_tr_global_init(void);
apr_status_t zddc_up_tr_create(zddc_upstream *up, apr_pool_t *p);

/* Transfer i ended; rv is APR_SUCCESS when the transport saw a complete
 * exchange, else a ZDDC_UP_* code (the detail in x[i]->resp->detail). */
typedef void zddc_up_ended_fn(void *baton, int i, apr_status_t rv);

/* Run n transfers, one after another in this thread, or (sess non-NULL)
 * handed to the session's event loop together; each is reported to ended
 * on this thread as it ends. p holds the bookkeeping; while a transfer
 * runs, the loop allocates only in its own x[i]->p. */
void zddc_up_tr_perform_all(zddc_upstream *up, zddc_upstream_session *sess,
                            const zddc_up_wire **w, zddc_up_xfer **x, int n,
                            zddc_up_ended_fn *ended, void *baton,
                            apr_pool_t *p);

/* ---- the CA store (zddc_upstream_ca.c, OpenSSL only) ------------------- */

/* OpenSSL 3 is linked: the transport may share parsed CA stores. */
int zddc_up_ca_available(void);

/* Make this process's store for CA file and/or hashed directory dir (each
 * parsed once per process) verify the connection of ssl_ctx (an SSL_CTX
 * about to be used); 0 on failure, with why in err. */
int zddc_up_ca_attach(void *ssl_ctx, const char *file, const char *dir,
                      char *err, apr_size_t n);

#endif
