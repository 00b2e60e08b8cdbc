/* The plain-http transport of the upstream client: HTTP/1.1 GET and HEAD over
 * APR sockets, with a per-process pool of keep-alive connections. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_network_io.h>
#include <apr_portable.h>

#include "zddc_upstream_int.h"
#include "zddc_util.h"

/* Idle connections kept per upstream object and process. */
#define PLAIN_MAX_IDLE 16
/* One read's worth; larger reads mean fewer trips through the pipeline's
 * write-to-cache and pass-to-client path on large files (benchmark P3). */
#define PLAIN_BUF_SIZE (256 * 1024)
/* Reads up to the first piece of body are this small: a blocking read
 * returns only when its buffer is full while data keeps arriving, and the
 * client's first byte should not wait for 256 KiB (benchmark P3). */
#define PLAIN_FIRST_READ (16 * 1024)
/* A status line, header or chunk-size line longer than this is refused. */
#define PLAIN_MAX_LINE (16 * 1024)
/* All header lines of one response together. */
#define PLAIN_MAX_HEAD (64 * 1024)
#define PLAIN_MAX_HEADERS 200
/* An idle connection older than this is closed rather than reused: a
 * NAT or load balancer may have dropped it silently, and a request on it
 * would wait the whole timeout (libcurl's own limit is 118 s). */
#define PLAIN_MAX_IDLE_AGE apr_time_from_sec(30)
/* The least connect time one address of several gets. */
#define PLAIN_MIN_CONNECT apr_time_from_msec(200)
/* How often a blocked read looks at the cancel flag. */
#define PLAIN_CANCEL_SLICE apr_time_from_sec(1)

typedef struct {
    apr_pool_t *pool;       /* unmanaged: lives as long as the connection */
    apr_socket_t *sock;
    char *buf;
    apr_size_t pos;         /* unread input is buf[pos, len) */
    apr_size_t len;
    apr_interval_time_t timeout;    /* SO_RCVTIMEO/SO_SNDTIMEO now set */
    apr_time_t idle_since;
    int reused;             /* carried an earlier exchange */
} plain_conn;

struct zddc_up_plain {
    const char *host;       /* to resolve (IPv6 without brackets) */
    apr_port_t port;
    const char *host_header;
    const char *prefix;     /* base path, "" or "/x" */
    apr_thread_mutex_t *lock;
    plain_conn *idle[PLAIN_MAX_IDLE];
    int nidle;
    pid_t owner_pid;
    int closed;
};

typedef enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_TO_CLOSE } body_kind;

/* One exchange on one connection. */
typedef struct {
    zddc_up_xfer *x;
    plain_conn *c;
    apr_interval_time_t stall;
    int got_bytes;          /* any response byte arrived */
    apr_size_t read_max;    /* bytes one read may take */
    int keep;               /* the connection may carry another request */
    const char *why;        /* what went wrong, for resp->detail */
} exch;

static void conn_close(plain_conn *c)
{
    if (c) {
        apr_socket_close(c->sock);
        apr_pool_destroy(c->pool);
    }
}

static apr_status_t plain_cleanup(void *data)
{
    zddc_up_plain *pl = data;
    int i;

    apr_thread_mutex_lock(pl->lock);
    if (pl->owner_pid == zddc_up_pid()) {
        for (i = 0; i < pl->nidle; i++) {
            conn_close(pl->idle[i]);
        }
    }
    pl->nidle = 0;
    pl->closed = 1;
    apr_thread_mutex_unlock(pl->lock);
    return APR_SUCCESS;
}

apr_status_t zddc_up_plain_create(zddc_upstream *up, apr_pool_t *p)
{
    zddc_up_plain *pl = apr_pcalloc(p, sizeof(*pl));
    const char *s = up->base + 7, *h, *end;
    apr_status_t rv;

    pl->port = 80;
    if (*s == '[') {
        end = strchr(s, ']');
        if (!end) {
            return APR_EINVAL;
        }
        pl->host = apr_pstrmemdup(p, s + 1, end - s - 1);
        h = end + 1;
    }
    else {
        h = s + strcspn(s, ":/");
        pl->host = apr_pstrmemdup(p, s, h - s);
    }
    if (*h == ':') {
        pl->port = (apr_port_t)atoi(h + 1);
        h += 1 + strspn(h + 1, "0123456789");
    }
    pl->host_header = apr_pstrmemdup(p, s, h - s);
    pl->prefix = apr_pstrdup(p, h);
    if (!*pl->host || pl->port == 0 || (*pl->prefix && *pl->prefix != '/')) {
        return APR_EINVAL;
    }
    pl->owner_pid = zddc_up_pid();
    rv = apr_thread_mutex_create(&pl->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(p, pl, plain_cleanup, apr_pool_cleanup_null);
    up->plain = pl;
    return APR_SUCCESS;
}

/* An idle connection of this process, or NULL. Connections are opened by
 * the first request of a process, so a prefork child never shares one with
 * the parent; a child that inherits a non-empty list abandons it. */
static plain_conn *conn_take(zddc_up_plain *pl)
{
    plain_conn *c = NULL, *old = NULL;
    pid_t me = zddc_up_pid();
    apr_time_t now = apr_time_now();

    apr_thread_mutex_lock(pl->lock);
    if (pl->owner_pid != me) {
        pl->nidle = 0;
        pl->owner_pid = me;
    }
    if (pl->nidle > 0) {
        c = pl->idle[--pl->nidle];
        if (now - c->idle_since > PLAIN_MAX_IDLE_AGE
            || now < c->idle_since) {
            old = c;
            c = NULL;
        }
    }
    apr_thread_mutex_unlock(pl->lock);
    conn_close(old);
    return c;
}

static void conn_give(zddc_up_plain *pl, plain_conn *c)
{
    apr_thread_mutex_lock(pl->lock);
    if (!pl->closed && pl->owner_pid == zddc_up_pid()
        && pl->nidle < PLAIN_MAX_IDLE) {
        c->pos = c->len = 0;
        c->reused = 1;
        c->idle_since = apr_time_now();
        pl->idle[pl->nidle++] = c;
        c = NULL;
    }
    apr_thread_mutex_unlock(pl->lock);
    conn_close(c);
}

static void conn_set_timeout(plain_conn *c, apr_interval_time_t t)
{
    apr_os_sock_t fd;
    struct timeval tv;

    if (c->timeout == t || apr_os_sock_get(&fd, c->sock) != APR_SUCCESS) {
        return;
    }
    tv.tv_sec = (time_t)apr_time_sec(t);
    tv.tv_usec = (suseconds_t)apr_time_usec(t);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->timeout = t;
}

/* connect() in slices when there is a cancel flag, so a stopping walk is
 * not held for the whole timeout by an upstream that drops SYNs. */
static apr_status_t connect_sliced(apr_socket_t *sock, apr_sockaddr_t *sa,
                                   apr_interval_time_t timeout,
                                   volatile apr_uint32_t *cancel)
{
    apr_interval_time_t slice = timeout, waited = 0;
    apr_status_t rv;

    if (cancel && slice > PLAIN_CANCEL_SLICE) {
        slice = PLAIN_CANCEL_SLICE;
    }
    apr_socket_timeout_set(sock, slice);
    for (;;) {
        rv = apr_socket_connect(sock, sa);
        if (rv == APR_SUCCESS || rv == EISCONN) {
            return APR_SUCCESS;
        }
        if (!APR_STATUS_IS_TIMEUP(rv)) {
            return rv;
        }
        waited += slice;
        if (waited >= timeout) {
            return rv;
        }
        if (cancel && *cancel) {
            return ZDDC_UP_EABORT;
        }
    }
}

static apr_status_t conn_open(zddc_upstream *up, plain_conn **out,
                              const char **why, volatile apr_uint32_t *cancel,
                              apr_pool_t *p)
{
    zddc_up_plain *pl = up->plain;
    apr_pool_t *pool;
    apr_sockaddr_t *sa;
    apr_socket_t *sock = NULL;
    plain_conn *c;
    apr_status_t rv;
    apr_time_t deadline;
    int naddr = 0;
    char err[128];

    rv = apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_sockaddr_info_get(&sa, pl->host, APR_UNSPEC, pl->port, 0, pool);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot resolve %s: %s", pl->host,
                            apr_strerror(rv, err, sizeof(err)));
        apr_pool_destroy(pool);
        return rv;
    }
    {
        apr_sockaddr_t *a;
        for (a = sa; a; a = a->next) {
            naddr++;
        }
    }
    deadline = apr_time_now() + up->stall;
    for (; sa; sa = sa->next, naddr--) {
        /* One timeout for the whole connect, shared by the addresses
         * left, so an unreachable IPv6 leaves time for IPv4. */
        apr_interval_time_t left = deadline - apr_time_now();

        if (left < PLAIN_MIN_CONNECT) {
            left = PLAIN_MIN_CONNECT;
        }
        rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP,
                               pool);
        if (rv != APR_SUCCESS) {
            continue;
        }
        apr_socket_opt_set(sock, APR_TCP_NODELAY, 1);
        rv = connect_sliced(sock, sa, naddr > 1 ? left / naddr : left,
                            cancel);
        if (rv == APR_SUCCESS) {
            break;
        }
        apr_socket_close(sock);
        sock = NULL;
        if (rv == ZDDC_UP_EABORT) {
            apr_pool_destroy(pool);
            return rv;
        }
    }
    if (!sock) {
        *why = apr_psprintf(p, "connect to %s: %s", pl->host_header,
                            APR_STATUS_IS_TIMEUP(rv) ? "timed out"
                            : apr_strerror(rv, err, sizeof(err)));
        apr_pool_destroy(pool);
        return rv == APR_SUCCESS ? APR_EGENERAL : rv;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->pool = pool;
    c->sock = sock;
    c->buf = apr_palloc(pool, PLAIN_BUF_SIZE);
    /* From here on reads and writes block in the kernel, bounded by
     * SO_RCVTIMEO/SO_SNDTIMEO: APR's own timeout mode polls before every
     * read of a partly read socket, one system call per response more. */
    apr_socket_timeout_set(sock, -1);
    conn_set_timeout(c, up->stall);
    *out = c;
    return APR_SUCCESS;
}

typedef struct {
    apr_array_header_t *parts;
    int have_accept;
} head_build;

static void head_add(head_build *hb, const char *name, const char *val)
{
    *(const char **)apr_array_push(hb->parts) = name;
    *(const char **)apr_array_push(hb->parts) = ": ";
    *(const char **)apr_array_push(hb->parts) = val;
    *(const char **)apr_array_push(hb->parts) = "\r\n";
}

static int head_add_extra(void *baton, const char *key, const char *val)
{
    head_build *hb = baton;

    if (!zddc_up_header_allowed(key, val)) {
        return 1;
    }
    if (strcasecmp(key, "Accept") == 0) {
        if (hb->have_accept) {
            return 1;
        }
        hb->have_accept = 1;
    }
    head_add(hb, key, val);
    return 1;
}

static const char *build_head(zddc_upstream *up, zddc_up_xfer *x,
                              const char *method, apr_size_t *len)
{
    zddc_upstream_req *req = x->req;
    const char *path = req->path ? req->path : "/";
    head_build hb;
    const char *head;

    hb.parts = apr_array_make(x->p, 48, sizeof(const char *));
    hb.have_accept = 0;
    *(const char **)apr_array_push(hb.parts) = method;
    *(const char **)apr_array_push(hb.parts) = " ";
    *(const char **)apr_array_push(hb.parts) = up->plain->prefix;
    *(const char **)apr_array_push(hb.parts) =
        zddc_path_encode(x->p, *path == '/' ? path
                               : apr_pstrcat(x->p, "/", path, NULL));
    if (req->query && *req->query) {
        *(const char **)apr_array_push(hb.parts) = "?";
        *(const char **)apr_array_push(hb.parts) = zddc_up_query(x->p,
                                                                 req->query);
    }
    *(const char **)apr_array_push(hb.parts) = " HTTP/1.1\r\n";
    head_add(&hb, "Host", up->plain->host_header);
    head_add(&hb, "User-Agent", ZDDC_UP_USER_AGENT);
    if (up->bearer) {
        head_add(&hb, "Authorization", apr_pstrcat(x->p, "Bearer ",
                                                   up->bearer, NULL));
    }
    if (req->accept && *req->accept && !zddc_up_has_crlf(req->accept)) {
        head_add(&hb, "Accept", req->accept);
        hb.have_accept = 1;
    }
    if (req->if_modified_since) {
        char *date = apr_palloc(x->p, APR_RFC822_DATE_LEN);
        apr_rfc822_date(date, req->if_modified_since);
        head_add(&hb, "If-Modified-Since", date);
    }
    if (req->headers) {
        apr_table_do(head_add_extra, &hb, req->headers, NULL);
    }
    if (!hb.have_accept) {
        head_add(&hb, "Accept", "*/*");
    }
    *(const char **)apr_array_push(hb.parts) = "\r\n";
    head = apr_array_pstrcat(x->p, hb.parts, 0);
    *len = strlen(head);
    return head;
}

static apr_status_t send_all(exch *e, const char *data, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len;
        apr_status_t rv = apr_socket_send(e->c->sock, data, &n);
        if (rv != APR_SUCCESS && n == 0) {
            return APR_STATUS_IS_EAGAIN(rv) ? APR_TIMEUP : rv;
        }
        data += n;
        len -= n;
    }
    return APR_SUCCESS;
}

/* Read more input after buf[len); APR_EOF on an orderly close. A silent
 * upstream is read in slices so the cancel flag is seen within a second. */
static apr_status_t fill(exch *e)
{
    plain_conn *c = e->c;
    apr_interval_time_t slice = e->stall, silent = 0;
    apr_status_t rv;

    if (c->pos == c->len) {
        c->pos = c->len = 0;
    }
    else if (c->len == PLAIN_BUF_SIZE) {
        if (c->pos == 0) {
            return APR_ENOSPC;
        }
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (e->x->req->cancel && slice > PLAIN_CANCEL_SLICE) {
        slice = PLAIN_CANCEL_SLICE;
    }
    conn_set_timeout(c, slice);
    for (;;) {
        apr_size_t n = PLAIN_BUF_SIZE - c->len;

        if (n > e->read_max) {
            n = e->read_max;
        }

        if (zddc_up_cancelled(e->x)) {
            e->x->aborted = 1;
            return ZDDC_UP_EABORT;
        }
        rv = apr_socket_recv(c->sock, c->buf + c->len, &n);
        if (n > 0) {
            c->len += n;
            e->got_bytes = 1;
            return APR_SUCCESS;
        }
        if (APR_STATUS_IS_TIMEUP(rv) || APR_STATUS_IS_EAGAIN(rv)) {
            silent += slice;
            if (silent >= e->stall) {
                return APR_TIMEUP;
            }
            continue;
        }
        return rv == APR_SUCCESS ? APR_EOF : rv;
    }
}

/* The next line of input without its CR LF; *line points into the buffer
 * and stays valid until the next read. */
static apr_status_t read_line(exch *e, const char **line, apr_size_t *len)
{
    plain_conn *c = e->c;
    apr_size_t scanned = 0;

    for (;;) {
        char *start = c->buf + c->pos;
        char *nl = memchr(start + scanned, '\n', c->len - c->pos - scanned);
        if (nl) {
            apr_size_t n = (apr_size_t)(nl - start);
            c->pos += n + 1;
            if (n > 0 && start[n - 1] == '\r') {
                n--;
            }
            *line = start;
            *len = n;
            return APR_SUCCESS;
        }
        scanned = c->len - c->pos;
        if (scanned > PLAIN_MAX_LINE) {
            e->why = "response line too long";
            return APR_ENOSPC;
        }
        {
            apr_status_t rv = fill(e);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
    }
}

static int has_token(const char *list, const char *token)
{
    apr_size_t tl = strlen(token);

    while (list && *list) {
        const char *start;
        apr_size_t n;
        while (*list == ' ' || *list == '\t' || *list == ',') {
            list++;
        }
        start = list;
        while (*list && *list != ',') {
            list++;
        }
        n = (apr_size_t)(list - start);
        while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t')) {
            n--;
        }
        if (n == tl && strncasecmp(start, token, tl) == 0) {
            return 1;
        }
    }
    return 0;
}

static int connection_close(void *baton, const char *key, const char *val)
{
    int *close = baton;

    if (has_token(val, "close")) {
        *close = 1;
        return 0;
    }
    return 1;
}

/* Read status lines and headers up to the final (non-1xx) response. */
static apr_status_t read_head(exch *e, int *http11)
{
    zddc_upstream_resp *resp = e->x->resp;
    const char *line;
    apr_size_t len, total = 0;
    int nheaders = 0, blank = 0;
    apr_status_t rv;

    for (;;) {
        rv = read_line(e, &line, &len);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (resp->status == 0) {
            if (len == 0 && ++blank <= 4) {
                continue;       /* tolerate a stray CRLF before the status */
            }
            resp->status = zddc_up_parse_status(line, len);
            if (resp->status == 0) {
                e->why = "malformed status line";
                return APR_EGENERAL;
            }
            *http11 = len >= 8 && strncmp(line, "HTTP/1.1", 8) == 0;
            apr_table_clear(resp->headers);
            nheaders = 0;
            continue;
        }
        total += len;
        if (len == 0) {
            if (resp->status >= 200) {
                return APR_SUCCESS;
            }
            resp->status = 0;   /* 1xx: the real answer follows */
            continue;
        }
        if (total > PLAIN_MAX_HEAD || ++nheaders > PLAIN_MAX_HEADERS) {
            e->why = "response head too large";
            return APR_ENOSPC;
        }
        zddc_up_header_line(e->x, line, len);
    }
}

static apr_status_t deliver(exch *e, const char *data, apr_size_t len)
{
    zddc_up_xfer *x = e->x;

    x->resp->bytes += (apr_off_t)len;
    e->read_max = PLAIN_BUF_SIZE;
    if (x->req->on_body
        && x->req->on_body(x->req->baton, data, len) != APR_SUCCESS) {
        x->aborted = 1;
        return ZDDC_UP_EABORT;
    }
    return APR_SUCCESS;
}

/* Pass on up to want bytes of body (want < 0: until the upstream closes). */
static apr_status_t read_span(exch *e, apr_off_t want)
{
    plain_conn *c = e->c;
    apr_status_t rv;

    while (want != 0) {
        apr_size_t n;
        if (c->pos == c->len) {
            rv = fill(e);
            if (rv == APR_EOF && want < 0) {
                return APR_SUCCESS;
            }
            if (rv != APR_SUCCESS) {
                if (rv == APR_EOF) {
                    e->why = "upstream closed the connection mid-body";
                }
                return rv;
            }
        }
        n = c->len - c->pos;
        if (want > 0 && (apr_off_t)n > want) {
            n = (apr_size_t)want;
        }
        rv = deliver(e, c->buf + c->pos, n);
        c->pos += n;
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (want > 0) {
            want -= (apr_off_t)n;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t read_chunked(exch *e)
{
    const char *line;
    apr_size_t len, i;
    apr_status_t rv;

    for (;;) {
        apr_off_t size = 0;
        rv = read_line(e, &line, &len);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < len && apr_isxdigit(line[i]); i++) {
            if (size > (APR_INT64_MAX >> 4)) {
                e->why = "chunk size out of range";
                return APR_EGENERAL;
            }
            size = size * 16 + (apr_isdigit(line[i]) ? line[i] - '0'
                                : (apr_tolower(line[i]) - 'a' + 10));
        }
        if (i == 0 || (i < len && line[i] != ';' && line[i] != ' '
                       && line[i] != '\t')) {
            e->why = "malformed chunk size";
            return APR_EGENERAL;
        }
        if (size == 0) {
            break;
        }
        rv = read_span(e, size);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = read_line(e, &line, &len);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (len != 0) {
            e->why = "malformed chunk end";
            return APR_EGENERAL;
        }
    }
    do {                        /* trailer fields are read and dropped */
        rv = read_line(e, &line, &len);
    } while (rv == APR_SUCCESS && len != 0);
    return rv;
}

static body_kind framing(exch *e, int is_head, int http11)
{
    zddc_upstream_resp *resp = e->x->resp;
    const char *te = apr_table_get(resp->headers, "Transfer-Encoding");
    int close = 0;

    apr_table_do(connection_close, &close, resp->headers, "Connection", NULL);
    e->keep = http11 && !close;
    if (is_head || resp->status == 204 || resp->status == 304) {
        return BODY_NONE;
    }
    if (te) {
        const char *last = strrchr(te, ',');
        if (has_token(last ? last + 1 : te, "chunked")) {
            return BODY_CHUNKED;
        }
        e->keep = 0;
        return BODY_TO_CLOSE;
    }
    if (resp->content_length >= 0) {
        return BODY_LENGTH;
    }
    e->keep = 0;
    return BODY_TO_CLOSE;
}

/* Send the request and read the whole answer on e->c. */
static apr_status_t exchange(exch *e, const char *head, apr_size_t head_len,
                             int is_head)
{
    zddc_up_xfer *x = e->x;
    zddc_upstream_resp *resp = x->resp;
    int http11 = 0;
    apr_status_t rv;

    rv = send_all(e, head, head_len);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = read_head(e, &http11);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!zddc_up_headers_complete(x)) {
        return ZDDC_UP_EABORT;
    }
    switch (framing(e, is_head, http11)) {
    case BODY_NONE:
        rv = APR_SUCCESS;
        break;
    case BODY_LENGTH:
        rv = read_span(e, resp->content_length);
        break;
    case BODY_CHUNKED:
        rv = read_chunked(e);
        break;
    case BODY_TO_CLOSE:
        if (apr_table_get(resp->headers, "Content-Length")
            && !apr_table_get(resp->headers, "Transfer-Encoding")) {
            e->why = "malformed Content-Length";
            return APR_EGENERAL;
        }
        rv = read_span(e, -1);
        break;
    }
    if (rv == APR_SUCCESS && e->c->pos != e->c->len) {
        e->keep = 0;            /* bytes beyond the response: do not trust */
    }
    return rv;
}

/* Map a failed exchange to the client's error codes (as the libcurl
 * transport does: no status yet means the upstream never answered). */
static apr_status_t map_error(exch *e, apr_status_t rv, apr_pool_t *p)
{
    zddc_upstream_resp *resp = e->x->resp;
    char err[128];

    if (rv == ZDDC_UP_EABORT || e->x->aborted) {
        return ZDDC_UP_EABORT;
    }
    if (rv == APR_ENOMEM) {
        return APR_ENOMEM;
    }
    if (!e->why) {
        e->why = APR_STATUS_IS_TIMEUP(rv)
                 ? apr_psprintf(p, "no data for %" APR_TIME_T_FMT " ms",
                                (apr_time_t)apr_time_as_msec(e->stall))
                 : rv == APR_EOF ? "upstream closed the connection"
                 : apr_strerror(rv, err, sizeof(err));
        e->why = apr_pstrdup(p, e->why);
    }
    resp->detail = e->why;
    if (resp->status == 0) {
        return ZDDC_UP_ECONNECT;
    }
    return APR_STATUS_IS_TIMEUP(rv) ? ZDDC_UP_ETIMEOUT : ZDDC_UP_EBROKEN;
}

apr_status_t zddc_up_plain_perform(zddc_upstream *up, zddc_up_xfer *x,
                                   const char *method)
{
    zddc_up_plain *pl = up->plain;
    int is_head = strcmp(method, "HEAD") == 0;
    apr_size_t head_len;
    const char *head = build_head(up, x, method, &head_len);
    exch e;
    apr_status_t rv = APR_EGENERAL;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        memset(&e, 0, sizeof(e));
        e.x = x;
        e.stall = up->stall;
        e.read_max = PLAIN_FIRST_READ;
        e.c = attempt == 0 ? conn_take(pl) : NULL;
        if (!e.c) {
            rv = conn_open(up, &e.c, &e.why, x->req->cancel, x->p);
            if (rv == ZDDC_UP_EABORT || rv == APR_ENOMEM) {
                x->aborted = rv == ZDDC_UP_EABORT;
                return rv;
            }
            if (rv != APR_SUCCESS) {
                x->resp->detail = e.why;
                return ZDDC_UP_ECONNECT;
            }
        }
        rv = exchange(&e, head, head_len, is_head);
        if (rv == APR_SUCCESS) {
            if (e.keep) {
                conn_give(pl, e.c);
            }
            else {
                conn_close(e.c);
            }
            return APR_SUCCESS;
        }
        /* An idle connection the upstream has meanwhile closed fails before
         * any byte of an answer (or with leftovers of a broken earlier
         * answer where the status line should be): GET and HEAD are safe
         * to send again. */
        if (e.c->reused && (!e.got_bytes || x->resp->status == 0)
            && !x->aborted && !APR_STATUS_IS_TIMEUP(rv)) {
            conn_close(e.c);
            x->resp->status = 0;
            continue;
        }
        conn_close(e.c);
        return map_error(&e, rv, x->p);
    }
    return map_error(&e, rv, x->p);
}
