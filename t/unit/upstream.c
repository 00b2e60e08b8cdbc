/* Unit test of zddc_upstream against a scripted HTTP/1.1 server running in
 * a thread of this process on 127.0.0.1 (headers, encoding, errors, reuse,
 * a session's in-flight bound, urgent requests and cancel). */
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <apr_atomic.h>

#include "tap.h"
#include "zddc_upstream.h"
#include "zddc_version.h"

#define MAX_CONNS 16
#define CONN_BUF 16384
#define SERVER_LIFETIME_SEC 120

#define HELD_ORDER 1024

typedef struct {
    int fd;
    int stalled;
    apr_size_t len;
    char buf[CONN_BUF];
    char held[256];             /* an answer sent at due: a request in flight */
    apr_time_t due;
} conn_t;

typedef struct {
    int lfd;
    int port;
    volatile apr_uint32_t stop;
    apr_thread_mutex_t *mu;
    int accepted;
    char last_req[CONN_BUF];
    apr_size_t last_body;
    int held_max;               /* most /hold requests open at once */
    char held_order[HELD_ORDER]; /* their names, in the order they came */
    conn_t conns[MAX_CONNS];
} server_t;

static const char LM[] = "Sun, 06 Nov 1994 08:49:37 GMT";

static void send_all(int fd, const char *s, apr_size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= (apr_size_t)w;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

static void conn_close(conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    c->stalled = 0;
    c->len = 0;
    c->held[0] = '\0';
}

static apr_size_t header_length(const char *head)
{
    const char *v = strcasestr(head, "\r\nContent-Length:");
    return v ? (apr_size_t)strtoul(v + 17, NULL, 10) : 0;
}

/* Decode the framing of a chunked body at b (n bytes available): 1 with
 * *wire (bytes on the wire) and *data (payload bytes) once complete. */
static int chunked_complete(const char *b, apr_size_t n, apr_size_t *wire,
                            apr_size_t *data)
{
    apr_size_t off = 0, total = 0;
    int guard;

    for (guard = 0; guard < 1000; guard++) {
        const char *eol = memchr(b + off, '\n', n - off);
        unsigned long sz;
        if (!eol) {
            return 0;
        }
        sz = strtoul(b + off, NULL, 16);
        off = (apr_size_t)(eol - b) + 1;
        if (sz == 0) {
            if (n - off < 2) {
                return 0;
            }
            *wire = off + 2;
            *data = total;
            return 1;
        }
        if (n - off < sz + 2) {
            return 0;
        }
        off += sz + 2;
        total += sz;
    }
    return 0;
}

/* /hold/<ms>/<name>: answered <name> by server_main once ms have passed,
 * while the other connections are served; counts the requests open at once
 * and notes the order they came in. */
static void hold(server_t *s, conn_t *c, int ms, const char *name)
{
    int i, open = 0;

    snprintf(c->held, sizeof(c->held), "HTTP/1.1 200 OK\r\n"
             "Content-Length: %d\r\n\r\n%s", (int)strlen(name), name);
    c->due = apr_time_now() + apr_time_from_msec(ms);
    for (i = 0; i < MAX_CONNS; i++) {
        open += s->conns[i].fd >= 0 && s->conns[i].held[0] != '\0';
    }
    apr_thread_mutex_lock(s->mu);
    if (open > s->held_max) {
        s->held_max = open;
    }
    if (s->held_order[0]) {
        apr_cpystrn(s->held_order + strlen(s->held_order), " ",
                    HELD_ORDER - strlen(s->held_order));
    }
    apr_cpystrn(s->held_order + strlen(s->held_order), name,
                HELD_ORDER - strlen(s->held_order));
    apr_thread_mutex_unlock(s->mu);
}

/* Send the held answers that are due; the poll timeout (ms) until the
 * next one, at most max. */
static int release_held(server_t *s, int max)
{
    apr_time_t now = apr_time_now();
    int i, wait = max;

    for (i = 0; i < MAX_CONNS; i++) {
        conn_t *c = &s->conns[i];
        if (c->fd < 0 || !c->held[0]) {
            continue;
        }
        if (c->due <= now) {
            send_str(c->fd, c->held);
            c->held[0] = '\0';
        }
        else if (apr_time_as_msec(c->due - now) + 1 < wait) {
            wait = (int)apr_time_as_msec(c->due - now) + 1;
        }
    }
    return wait;
}

/* Answer one request by its target; returns 0 when the connection ends. */
static int respond(server_t *s, conn_t *c, const char *head, apr_size_t body)
{
    char method[16] = "", target[1024] = "", out[2048], name[64];
    int ms;

    sscanf(head, "%15s %1023s", method, target);
    apr_thread_mutex_lock(s->mu);
    apr_cpystrn(s->last_req, head, sizeof(s->last_req));
    s->last_body = body;
    apr_thread_mutex_unlock(s->mu);

    if (sscanf(target, "/hold/%d/%63s", &ms, name) == 2) {
        hold(s, c, ms, name);
    }
    else if (strcmp(target, "/hello") == 0) {
        snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nLast-Modified: %s\r\n"
                 "Content-Length: 5\r\nX-Spaced:   padded value  \r\n\r\nhello", LM);
        send_str(c->fd, out);
    }
    else if (strcmp(target, "/ims") == 0) {
        if (strcasestr(head, "\r\nIf-Modified-Since:")) {
            send_str(c->fd, "HTTP/1.1 304 Not Modified\r\n\r\n");
        }
        else {
            send_str(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew");
        }
    }
    else if (strcmp(target, "/trunc") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        return 0;
    }
    else if (strcmp(target, "/stall") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        c->stalled = 1;
    }
    else if (strcmp(target, "/continue") == 0) {
        send_str(c->fd, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                 "HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 2\r\n\r\nok");
    }
    else if (strcmp(target, "/nostore") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nCache-Control: private, No-Store\r\n"
                 "Content-Length: 0\r\n\r\n");
    }
    else if (strcmp(target, "/big") == 0) {
        char body100[101];
        memset(body100, 'x', 100);
        body100[100] = '\0';
        snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n%s",
                 body100);
        send_str(c->fd, out);
    }
    else if (strcmp(target, "/close") == 0) {
        return 0;
    }
    else if (strcmp(target, "/then-close") == 0) {
        /* a complete keep-alive answer, then the server drops the idle
         * connection, as a KeepAliveTimeout does */
        send_str(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        return 0;
    }
    else if (strcmp(target, "/te-and-length") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Length: 99\r\nX-Bad : 1\r\n\r\n"
                 "3\r\nabc\r\n0\r\n\r\n");
    }
    else if (strcmp(target, "/late-junk") == 0) {
        /* a 304 followed, once the client has moved on, by a second
         * complete answer nobody asked for (keep-alive desync) */
        send_str(c->fd, "HTTP/1.1 304 Not Modified\r\n\r\n");
        apr_sleep(apr_time_from_msec(100));
        send_str(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL");
    }
    else if (strcmp(target, "/chunked-resp") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    }
    else if (strcmp(target, "/badchunk") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "zz\r\nhello\r\n0\r\n\r\n");
    }
    else if (strcmp(target, "/to-close") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\n\r\nuntil close");
        return 0;
    }
    else if (strcmp(target, "/conn-close") == 0) {
        /* says close but leaves the socket open: reusing it would hang */
        send_str(c->fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                 "Content-Length: 2\r\n\r\nok");
    }
    else if (strcmp(target, "/http10") == 0) {
        send_str(c->fd, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
    else if (strcmp(target, "/badlength") == 0) {
        send_str(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nok");
        return 0;
    }
    else if (strcmp(target, "/garbage") == 0) {
        send_str(c->fd, "SPDY nonsense\r\n\r\n");
        return 0;
    }
    else if (strcmp(target, "/hugehead") == 0) {
        int i;
        send_str(c->fd, "HTTP/1.1 200 OK\r\n");
        for (i = 0; i < 1400; i++) {
            send_str(c->fd, "X-Filler: 0123456789012345678901234567890123456789\r\n");
        }
        send_str(c->fd, "Content-Length: 0\r\n\r\n");
        return 0;
    }
    else {
        char b[1200];
        int n = snprintf(b, sizeof(b), "%s %s %lu", method, target,
                         (unsigned long)body);
        snprintf(out, sizeof(out), "HTTP/1.1 404 Not Found\r\n"
                 "Content-Length: %d\r\n\r\n%s", n, b);
        send_str(c->fd, out);
    }
    return 1;
}

static void conn_input(server_t *s, conn_t *c)
{
    ssize_t n;

    if (c->len >= CONN_BUF - 1) {
        conn_close(c);
        return;
    }
    n = recv(c->fd, c->buf + c->len, CONN_BUF - 1 - c->len, 0);
    if (n <= 0) {
        conn_close(c);
        return;
    }
    if (c->stalled) {
        c->len = 0;
        return;
    }
    c->len += (apr_size_t)n;
    c->buf[c->len] = '\0';
    for (;;) {
        char *end = strstr(c->buf, "\r\n\r\n");
        apr_size_t hlen, blen, total;
        int chunked;
        if (!end || c->held[0]) {
            return;
        }
        hlen = (apr_size_t)(end - c->buf) + 4;
        end[2] = '\0';
        blen = header_length(c->buf);
        chunked = strcasestr(c->buf, "\r\nTransfer-Encoding: chunked") != NULL;
        end[2] = '\r';
        if (chunked) {
            apr_size_t wire;
            if (!chunked_complete(c->buf + hlen, c->len - hlen, &wire, &blen)) {
                return;
            }
            total = hlen + wire;
        }
        else {
            total = hlen + blen;
        }
        if (c->len < total) {
            return;
        }
        end[2] = '\0';
        if (!respond(s, c, c->buf, blen)) {
            conn_close(c);
            return;
        }
        if (c->stalled) {
            c->len = 0;
            return;
        }
        memmove(c->buf, c->buf + total, c->len - total);
        c->len -= total;
        c->buf[c->len] = '\0';
    }
}

static void *APR_THREAD_FUNC server_main(apr_thread_t *t, void *data)
{
    server_t *s = data;
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(SERVER_LIFETIME_SEC);
    int i;

    while (!apr_atomic_read32(&s->stop) && apr_time_now() < deadline) {
        struct pollfd pfd[MAX_CONNS + 1];
        int map[MAX_CONNS + 1], n = 1, wait = release_held(s, 50);

        pfd[0].fd = s->lfd;
        pfd[0].events = POLLIN;
        for (i = 0; i < MAX_CONNS; i++) {
            if (s->conns[i].fd >= 0) {
                pfd[n].fd = s->conns[i].fd;
                pfd[n].events = POLLIN;
                map[n++] = i;
            }
        }
        if (poll(pfd, n, wait) <= 0) {
            continue;
        }
        if (pfd[0].revents & POLLIN) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0) {
                for (i = 0; i < MAX_CONNS && s->conns[i].fd >= 0; i++) {
                }
                if (i == MAX_CONNS) {
                    close(fd);
                }
                else {
                    s->conns[i].fd = fd;
                    s->conns[i].len = 0;
                    s->conns[i].stalled = 0;
                    apr_thread_mutex_lock(s->mu);
                    s->accepted++;
                    apr_thread_mutex_unlock(s->mu);
                }
            }
        }
        for (i = 1; i < n; i++) {
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                conn_input(s, &s->conns[map[i]]);
            }
        }
    }
    for (i = 0; i < MAX_CONNS; i++) {
        if (s->conns[i].fd >= 0) {
            conn_close(&s->conns[i]);
        }
    }
    /* returning (not apr_thread_exit) keeps pthread_exit's unwinding, which
     * AddressSanitizer misreports, out of the test */
    return NULL;
}

static int listen_local(int *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0
        || listen(fd, 16) != 0
        || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void last_request(server_t *s, char *buf, apr_size_t n)
{
    apr_thread_mutex_lock(s->mu);
    apr_cpystrn(buf, s->last_req, n);
    apr_thread_mutex_unlock(s->mu);
}

static apr_size_t last_body(server_t *s)
{
    apr_size_t n;

    apr_thread_mutex_lock(s->mu);
    n = s->last_body;
    apr_thread_mutex_unlock(s->mu);
    return n;
}

static int accepted(server_t *s)
{
    int n;

    apr_thread_mutex_lock(s->mu);
    n = s->accepted;
    apr_thread_mutex_unlock(s->mu);
    return n;
}

static int count_lines_starting(const char *req, const char *prefix)
{
    int n = 0;
    apr_size_t pl = strlen(prefix);
    const char *p = strstr(req, "\r\n");

    while (p) {
        if (strncasecmp(p + 2, prefix, pl) == 0) {
            n++;
        }
        p = strstr(p + 2, "\r\n");
    }
    return n;
}

typedef struct {
    char data[256];
    apr_size_t len;
    int headers_calls;
    int status_seen;
    apr_status_t headers_rv;
    volatile apr_uint32_t *cancel_on_body;
} sink_t;

static apr_status_t sink_headers(void *baton, const zddc_upstream_resp *resp)
{
    sink_t *k = baton;

    k->headers_calls++;
    k->status_seen = resp->status;
    return k->headers_rv;
}

static apr_status_t sink_body(void *baton, const char *data, apr_size_t len)
{
    sink_t *k = baton;

    if (len > sizeof(k->data) - 1 - k->len) {
        return APR_ENOSPC;
    }
    memcpy(k->data + k->len, data, len);
    k->len += len;
    k->data[k->len] = '\0';
    if (k->cancel_on_body) {
        *k->cancel_on_body = 1;
    }
    return APR_SUCCESS;
}

typedef struct {
    const char *data;
    apr_size_t off;
} src_t;

static apr_status_t src_read(void *baton, char *buf, apr_size_t *len)
{
    src_t *s = baton;
    apr_size_t n = strlen(s->data) - s->off;

    if (n > *len) {
        n = *len;
    }
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    *len = n;
    return APR_SUCCESS;
}

static apr_status_t do_get(zddc_upstream *up, const char *path, sink_t *k,
                           zddc_upstream_resp *resp, apr_pool_t *p)
{
    zddc_upstream_req req;

    memset(&req, 0, sizeof(req));
    memset(k, 0, sizeof(*k));
    req.path = path;
    req.body_length = -1;
    req.on_headers = sink_headers;
    req.on_body = sink_body;
    req.baton = k;
    return zddc_upstream_perform(up, &req, resp, p);
}

static void *APR_THREAD_FUNC cancel_later(apr_thread_t *t, void *data)
{
    apr_sleep(apr_time_from_msec(500));
    *(volatile apr_uint32_t *)data = 1;
    return NULL;
}

/* A listener whose accept queue is full drops further SYNs, so a connect to
 * it hangs: the cancel flag must end the wait, not the 5 s timeout. */
static void test_cancel_connect(apr_pool_t *p)
{
    zddc_upstream *up;
    zddc_upstream_resp resp;
    sink_t k;
    zddc_upstream_req req;
    volatile apr_uint32_t cancel = 0;
    apr_thread_t *t;
    apr_status_t rv, trv;
    apr_time_t t0;
    int port = 0, lfd = listen_local(&port), fillers[4], i;
    struct sockaddr_in sa;

    listen(lfd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)port);
    for (i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", port),
                         NULL, NULL, apr_time_from_sec(5), p);
    memset(&req, 0, sizeof(req));
    memset(&k, 0, sizeof(k));
    req.path = "/x";
    req.on_body = sink_body;
    req.baton = &k;
    req.cancel = &cancel;
    apr_thread_create(&t, NULL, cancel_later, (void *)&cancel, p);
    t0 = apr_time_now();
    rv = zddc_upstream_perform(up, &req, &resp, p);
    apr_thread_join(&trv, t);
    is_int(rv, ZDDC_UP_EABORT, "http: cancel ends a hanging connect");
    ok(apr_time_now() - t0 < apr_time_from_sec(4), "http: ... within the cancel slice");
    for (i = 0; i < 4; i++) {
        close(fillers[i]);
    }
    close(lfd);
}

/* HTTP/1.1 through libcurl: framing, keep-alive rules, retries, errors. */
static void test_http11(server_t *s, apr_pool_t *p)
{
    zddc_upstream *up, *pre;
    zddc_upstream_resp resp;
    sink_t k;
    apr_status_t rv;
    char seen[CONN_BUF];
    int before;

    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);

    rv = do_get(up, "/x", &k, &resp, p);
    last_request(s, seen, sizeof(seen));
    is_int(count_lines_starting(seen, apr_psprintf(p, "Host: 127.0.0.1:%d\r", s->port)),
           1, "http: Host header names host and port");
    is_int(count_lines_starting(seen, "Accept: */*\r"), 1, "http: Accept */* by default");
    is_int(count_lines_starting(seen, "Authorization:"), 0, "http: no token, no Authorization");

    rv = do_get(up, "/then-close", &k, &resp, p);
    ok(rv == APR_SUCCESS && strcmp(k.data, "ok") == 0, "http: answer before the close");
    before = accepted(s);
    rv = do_get(up, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && resp.status == 200 && strcmp(k.data, "hello") == 0,
       "http: a connection closed while idle is replaced transparently");
    is_int(accepted(s) - before, 1, "http: the retry opened one new connection");

    before = accepted(s);
    rv = do_get(up, "/chunked-resp", &k, &resp, p);
    ok(rv == APR_SUCCESS && strcmp(k.data, "hello world") == 0,
       "http: chunked body decoded, extensions and trailer dropped");
    is_int((int)resp.bytes, 11, "http: chunked bytes counted");
    rv = do_get(up, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && accepted(s) == before,
       "http: connection reused after a chunked body");

    rv = do_get(up, "/badchunk", &k, &resp, p);
    is_int(rv, ZDDC_UP_EBROKEN, "http: malformed chunk size is broken");
    ok(resp.detail && strstr(resp.detail, "chunk") != NULL, "http: detail names the chunk");

    rv = do_get(up, "/to-close", &k, &resp, p);
    ok(rv == APR_SUCCESS && strcmp(k.data, "until close") == 0,
       "http: body without length read until the close");

    before = accepted(s);
    rv = do_get(up, "/conn-close", &k, &resp, p);
    ok(rv == APR_SUCCESS && strcmp(k.data, "ok") == 0, "http: Connection: close answer");
    rv = do_get(up, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && accepted(s) - before == 2,
       "http: Connection: close is not reused");

    rv = do_get(up, "/http10", &k, &resp, p);
    before = accepted(s);
    rv = do_get(up, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && accepted(s) - before == 1,
       "http: an HTTP/1.0 connection is not reused");

    rv = do_get(up, "/badlength", &k, &resp, p);
    is_int(rv, ZDDC_UP_EBROKEN, "http: malformed Content-Length is broken");

    rv = do_get(up, "/garbage", &k, &resp, p);
    is_int(rv, ZDDC_UP_ECONNECT, "http: a non-HTTP answer is no answer");
    ok(resp.detail && strstr(resp.detail, "HTTP/0.9") != NULL,
       "http: detail says the answer was not HTTP/1.x");

    rv = do_get(up, "/hugehead", &k, &resp, p);
    is_int(rv, ZDDC_UP_EBROKEN, "http: oversized response head refused");

    rv = do_get(up, "/te-and-length", &k, &resp, p);
    ok(rv == APR_SUCCESS && strcmp(k.data, "abc") == 0,
       "http: chunked wins over Content-Length");
    is_int((int)resp.content_length, -1,
           "http: no content_length when Transfer-Encoding frames the body");
    ok(apr_table_get(resp.headers, "X-Bad") == NULL,
       "http: a header name with a space before the colon is ignored");

    rv = do_get(up, "/late-junk", &k, &resp, p);
    is_int(resp.status, 304, "http: 304 answered");
    apr_sleep(apr_time_from_msec(300));
    rv = do_get(up, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && resp.status == 200 && strcmp(k.data, "hello") == 0,
       "http: a stray answer left on a kept-alive connection is never the "
       "next request's answer (sent again on a fresh connection)");
    if (strcmp(k.data, "hello") != 0) {
        printf("# rv %d status %d body '%s'\n", rv, resp.status, k.data);
    }

    {
        zddc_upstream_req q;
        memset(&q, 0, sizeof(q));
        memset(&k, 0, sizeof(k));
        q.path = "/q";
        q.query = "a b=\x01\xc3\xa9";
        q.on_body = sink_body;
        q.baton = &k;
        rv = zddc_upstream_perform(up, &q, &resp, p);
        is_str(k.data, "GET /q?a%20b=%01%C3%A9 0",
               "http: spaces, controls and UTF-8 in a query are encoded");
    }

    zddc_upstream_create(&pre, apr_psprintf(p, "http://127.0.0.1:%d/pre/fix/", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);
    rv = do_get(pre, "/a b", &k, &resp, p);
    is_str(k.data, "GET /pre/fix/a%20b 0", "http: base path prefixed, name encoded");
}

typedef struct {
    zddc_upstream *up;
    zddc_upstream_session *sess;
    const char *path;
    apr_status_t rv;
    int status;
    char data[64];
} sess_job;

static void *APR_THREAD_FUNC sess_worker(apr_thread_t *t, void *data)
{
    sess_job *j = data;
    zddc_upstream_req req;
    zddc_upstream_resp resp;
    sink_t k;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    memset(&req, 0, sizeof(req));
    memset(&k, 0, sizeof(k));
    req.path = j->path;
    req.body_length = -1;
    req.on_headers = sink_headers;
    req.on_body = sink_body;
    req.baton = &k;
    req.session = j->sess;
    j->rv = zddc_upstream_perform(j->up, &req, &resp, p);
    j->status = resp.status;
    apr_cpystrn(j->data, k.data, sizeof(j->data));
    apr_pool_destroy(p);
    return NULL;
}

/* A walk's session: many requests from many threads on one event loop,
 * at most max_in_flight HTTP/1.1 connections, the same rules as the
 * request path (deadlines, cancel, desync), and a prompt cancel. */
static void test_session(server_t *s, apr_pool_t *p)
{
    zddc_upstream *up, *slow;
    zddc_upstream_session *sess;
    zddc_upstream_resp resp;
    sess_job jobs[12];
    apr_thread_t *th[12];
    volatile apr_uint32_t cancel = 0;
    apr_thread_t *ct;
    apr_status_t rv, trv;
    apr_time_t t0;
    char *body;
    apr_size_t len;
    int i, before, good = 0;

    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);
    rv = zddc_upstream_session_create(&sess, up, 3, &cancel, p);
    is_int(rv, APR_SUCCESS, "session: created");
    before = accepted(s);
    for (i = 0; i < 12; i++) {
        jobs[i].up = up;
        jobs[i].sess = sess;
        jobs[i].path = "/hello";
        apr_thread_create(&th[i], NULL, sess_worker, &jobs[i], p);
    }
    for (i = 0; i < 12; i++) {
        apr_thread_join(&trv, th[i]);
        good += jobs[i].rv == APR_SUCCESS && jobs[i].status == 200
                && strcmp(jobs[i].data, "hello") == 0;
    }
    is_int(good, 12, "session: 12 requests from 12 threads all answered");
    ok(accepted(s) - before <= 3,
       "session: at most max_in_flight (3) HTTP/1.1 connections");

    rv = zddc_upstream_get_via(up, sess, "/late-junk", NULL, 0, 1024, NULL,
                               &resp, &body, &len, p);
    is_int(resp.status, 304, "session: 304 answered");
    apr_sleep(apr_time_from_msec(300));
    rv = zddc_upstream_get_via(up, sess, "/hello", NULL, 0, 1024, NULL,
                               &resp, &body, &len, p);
    ok(rv == APR_SUCCESS && body && strcmp(body, "hello") == 0,
       "session: a stray answer on a kept-alive connection is not the next "
       "request's answer");

    apr_thread_create(&ct, NULL, cancel_later, (void *)&cancel, p);
    t0 = apr_time_now();
    rv = zddc_upstream_get_via(up, sess, "/stall", NULL, 0, 1024, NULL,
                               &resp, &body, &len, p);
    apr_thread_join(&trv, ct);
    is_int(rv, ZDDC_UP_EABORT, "session: the cancel flag ends a stalled transfer");
    ok(apr_time_now() - t0 < apr_time_from_sec(3),
       "session: ... well before the 5 s stall limit");
    zddc_upstream_session_destroy(sess);

    zddc_upstream_create(&slow, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(1), p);
    zddc_upstream_session_create(&sess, slow, 2, NULL, p);
    t0 = apr_time_now();
    rv = zddc_upstream_get_via(slow, sess, "/stall", NULL, 0, 1024, NULL,
                               &resp, &body, &len, p);
    is_int(rv, ZDDC_UP_ETIMEOUT, "session: a stalled transfer times out");
    ok(apr_time_now() - t0 < apr_time_from_sec(4),
       "session: ... within the 1 s limit and a loop tick");
    zddc_upstream_session_destroy(sess);
}

static void held_reset(server_t *s)
{
    apr_thread_mutex_lock(s->mu);
    s->held_max = 0;
    s->held_order[0] = '\0';
    apr_thread_mutex_unlock(s->mu);
}

static int held_max(server_t *s)
{
    int n;

    apr_thread_mutex_lock(s->mu);
    n = s->held_max;
    apr_thread_mutex_unlock(s->mu);
    return n;
}

static void held_order(server_t *s, char *buf, apr_size_t n)
{
    apr_thread_mutex_lock(s->mu);
    apr_cpystrn(buf, s->held_order, n);
    apr_thread_mutex_unlock(s->mu);
}

/* 1 once the server has seen the /hold request name, 0 after limit. */
static int held_seen(server_t *s, const char *name, apr_interval_time_t limit)
{
    apr_time_t end = apr_time_now() + limit;
    char seen[HELD_ORDER];

    do {
        held_order(s, seen, sizeof(seen));
        if (strstr(seen, name)) {
            return 1;
        }
        apr_sleep(apr_time_from_msec(5));
    } while (apr_time_now() < end);
    return 0;
}

#define BATCH_MAX 4

/* Requests one thread hands to a session together (one perform_all). */
typedef struct {
    zddc_upstream *up;
    zddc_upstream_session *sess;
    int n;
    int urgent;
    const char *paths[BATCH_MAX];
    apr_status_t rv[BATCH_MAX];
    int status[BATCH_MAX];
    char data[BATCH_MAX][64];
    int each;                    /* report each answer as it ends */
    int calls[BATCH_MAX];
    apr_time_t ended_at[BATCH_MAX];
    apr_status_t ended_rv[BATCH_MAX];
    apr_thread_t *thread;
    volatile apr_uint32_t done;
} batch_job;

static void batch_ended(void *baton, int i, apr_status_t rv)
{
    batch_job *j = baton;

    j->calls[i]++;
    j->ended_at[i] = apr_time_now();
    j->ended_rv[i] = rv;
}

static void *APR_THREAD_FUNC batch_worker(apr_thread_t *t, void *data)
{
    batch_job *j = data;
    zddc_upstream_req req[BATCH_MAX], *reqs[BATCH_MAX];
    zddc_upstream_resp resp[BATCH_MAX], *resps[BATCH_MAX];
    sink_t k[BATCH_MAX];
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < j->n; i++) {
        memset(&req[i], 0, sizeof(req[i]));
        memset(&k[i], 0, sizeof(k[i]));
        req[i].path = j->paths[i];
        req[i].body_length = -1;
        req[i].on_headers = sink_headers;
        req[i].on_body = sink_body;
        req[i].baton = &k[i];
        req[i].session = j->sess;
        req[i].urgent = j->urgent;
        if (!strcmp(j->paths[i], "/refused")) {
            req[i].method = "GET\r\nX-Split: 1";     /* never sent */
        }
        reqs[i] = &req[i];
        resps[i] = &resp[i];
    }
    if (j->n == 1) {
        j->rv[0] = zddc_upstream_perform(j->up, reqs[0], resps[0], p);
    }
    else {
        zddc_upstream_perform_all(j->up, reqs, resps, j->rv, j->n,
                                  j->each ? batch_ended : NULL, j, p);
    }
    for (i = 0; i < j->n; i++) {
        j->status[i] = resp[i].status;
        apr_cpystrn(j->data[i], k[i].data, sizeof(j->data[i]));
    }
    apr_pool_destroy(p);
    apr_atomic_set32(&j->done, 1);
    return NULL;
}

static void batch_start(batch_job *j, zddc_upstream *up,
                        zddc_upstream_session *sess, int urgent, apr_pool_t *p)
{
    j->up = up;
    j->sess = sess;
    j->urgent = urgent;
    apr_thread_create(&j->thread, NULL, batch_worker, j, p);
}

/* Wait at most limit for the n jobs to end and join them. A request that
 * never ends leaves a thread asleep in the session: nothing after that can
 * be trusted, so the test bails out. */
static void batch_finish(batch_job *jobs, int n, apr_interval_time_t limit,
                         const char *what)
{
    apr_time_t end = apr_time_now() + limit;
    apr_status_t trv;
    int i, left;

    for (;;) {
        for (left = 0, i = 0; i < n; i++) {
            left += !apr_atomic_read32(&jobs[i].done);
        }
        if (!left || apr_time_now() >= end) {
            break;
        }
        apr_sleep(apr_time_from_msec(5));
    }
    if (left) {
        ok(0, what);
        printf("# %d of %d threads still waiting after %d ms\n", left, n,
               (int)apr_time_as_msec(limit));
        printf("Bail out! %s: requests handed to a session never ended\n",
               what);
        fflush(stdout);
        _exit(1);
    }
    for (i = 0; i < n; i++) {
        apr_thread_join(&trv, jobs[i].thread);
    }
}

/* The session holds max_in_flight itself: three threads hand over four
 * requests each to a session of 2; the upstream never has more than 2 open
 * at once, gets each batch in the order it was handed over (the backlog,
 * not libcurl's queue of transfers waiting for a connection, which keeps
 * no order), and every request gets its own answer. */
static void test_session_bound(server_t *s, apr_pool_t *p)
{
    zddc_upstream *up;
    zddc_upstream_session *sess;
    batch_job jobs[3];
    char seen[HELD_ORDER];
    int b, i, most, good = 0, in_order = 0;

    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);
    zddc_upstream_session_create(&sess, up, 2, NULL, p);
    held_reset(s);
    memset(jobs, 0, sizeof(jobs));
    for (b = 0; b < 3; b++) {
        jobs[b].n = 4;
        for (i = 0; i < 4; i++) {
            jobs[b].paths[i] = apr_psprintf(p, "/hold/150/b%d-%d", b, i);
        }
        batch_start(&jobs[b], up, sess, 0, p);
    }
    batch_finish(jobs, 3, apr_time_from_sec(10), "bound: the batches end");
    for (b = 0; b < 3; b++) {
        for (i = 0; i < 4; i++) {
            const char *name = apr_psprintf(p, "b%d-%d", b, i);
            if (jobs[b].rv[i] == APR_SUCCESS && jobs[b].status[i] == 200
                && strcmp(jobs[b].data[i], name) == 0) {
                good++;
            }
            else {
                printf("# %s: rv %d status %d body '%s'\n", name,
                       jobs[b].rv[i], jobs[b].status[i], jobs[b].data[i]);
            }
        }
    }
    is_int(good, 12, "bound: 12 requests in 3 batches all answered 200 "
           "with their own bodies");
    most = held_max(s);
    ok(most <= 2, "bound: the upstream never had more than max_in_flight (2) "
       "requests open at once");
    if (most > 2) {
        printf("# the upstream had %d requests open at once\n", most);
    }
    is_int(most, 2, "bound: ... and had both slots busy at some point");
    held_order(s, seen, sizeof(seen));
    for (b = 0; b < 3; b++) {
        const char *at = seen;
        for (i = 0; at && i < 4; i++) {
            at = strstr(at, apr_psprintf(p, "b%d-%d", b, i));
        }
        in_order += at != NULL;
    }
    is_int(in_order, 3, "bound: each batch reached the upstream in the "
           "order it was handed over");
    if (in_order != 3) {
        printf("# the upstream saw: %s\n", seen);
    }
    zddc_upstream_session_destroy(sess);
}

/* With the one slot busy, non-urgent requests wait; an urgent one handed
 * over after them goes ahead of them, and they keep their order. */
static void test_session_urgent(server_t *s, apr_pool_t *p)
{
    zddc_upstream *up;
    zddc_upstream_session *sess;
    batch_job jobs[3];
    char seen[HELD_ORDER];
    static const char *const names[] = { "n1", "n2", "n3", "n4" };
    int i, good = 0;

    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);
    zddc_upstream_session_create(&sess, up, 1, NULL, p);
    held_reset(s);
    memset(jobs, 0, sizeof(jobs));
    jobs[0].n = 1;
    jobs[0].paths[0] = "/hold/800/occupy";
    batch_start(&jobs[0], up, sess, 0, p);
    held_seen(s, "occupy", apr_time_from_sec(2));
    jobs[1].n = 4;
    for (i = 0; i < 4; i++) {
        jobs[1].paths[i] = apr_psprintf(p, "/hold/20/%s", names[i]);
    }
    batch_start(&jobs[1], up, sess, 0, p);
    /* handed over and waiting in the loop's backlog */
    apr_sleep(apr_time_from_msec(150));
    jobs[2].n = 1;
    jobs[2].paths[0] = "/hold/20/urgent";
    batch_start(&jobs[2], up, sess, 1, p);
    batch_finish(jobs, 3, apr_time_from_sec(5), "urgent: the requests end");
    held_order(s, seen, sizeof(seen));
    is_str(seen, "occupy urgent n1 n2 n3 n4",
           "urgent: an urgent request goes ahead of the non-urgent ones "
           "already waiting, which keep their order");
    good += jobs[0].rv[0] == APR_SUCCESS && !strcmp(jobs[0].data[0], "occupy");
    good += jobs[2].rv[0] == APR_SUCCESS && !strcmp(jobs[2].data[0], "urgent");
    for (i = 0; i < 4; i++) {
        good += jobs[1].rv[i] == APR_SUCCESS
                && !strcmp(jobs[1].data[i], names[i]);
    }
    is_int(good, 6, "urgent: all 6 answered with their own bodies");
    zddc_upstream_session_destroy(sess);
}

/* The session's cancel flag ends the requests waiting for a slot at once,
 * without sending them, as well as the one in flight. */
static void test_session_cancel_waiting(server_t *s, apr_pool_t *p)
{
    zddc_upstream *up;
    zddc_upstream_session *sess;
    volatile apr_uint32_t cancel = 0;
    batch_job jobs[2];
    char seen[HELD_ORDER];
    apr_time_t t0;
    apr_interval_time_t took;
    int i, before, aborted = 0;

    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(10), p);
    zddc_upstream_session_create(&sess, up, 1, &cancel, p);
    held_reset(s);
    memset(jobs, 0, sizeof(jobs));
    jobs[0].n = 1;
    jobs[0].paths[0] = "/hold/5000/c-occupy";
    batch_start(&jobs[0], up, sess, 0, p);
    held_seen(s, "c-occupy", apr_time_from_sec(2));
    before = accepted(s);
    jobs[1].n = 4;
    for (i = 0; i < 4; i++) {
        jobs[1].paths[i] = apr_psprintf(p, "/hold/20/c%d", i + 1);
    }
    batch_start(&jobs[1], up, sess, 0, p);
    apr_sleep(apr_time_from_msec(150));
    t0 = apr_time_now();
    apr_atomic_set32(&cancel, 1);
    batch_finish(jobs, 2, apr_time_from_sec(5), "cancel: the requests end");
    took = apr_time_now() - t0;
    for (i = 0; i < 4; i++) {
        aborted += jobs[1].rv[i] == ZDDC_UP_EABORT;
    }
    is_int(aborted, 4, "cancel: the 4 requests waiting for a slot end aborted");
    ok(took < apr_time_from_sec(2), "cancel: ... well within 2 s");
    printf("# they ended %d ms after the cancel\n",
           (int)apr_time_as_msec(took));
    is_int(jobs[0].rv[0], ZDDC_UP_EABORT, "cancel: the request in flight "
           "ends aborted too");
    /* a request sent before its end would have arrived by now */
    apr_sleep(apr_time_from_msec(200));
    held_order(s, seen, sizeof(seen));
    is_str(seen, "c-occupy", "cancel: none of the waiting requests reached "
           "the upstream");
    is_int(accepted(s) - before, 0,
           "cancel: ... nor opened a connection to it");
    zddc_upstream_session_destroy(sess);
}

/* A batch's answers are handed back one by one as they end: two quick
 * ones handed over with a slow one are reported long before it ends (a
 * walk publishes each file then), each exactly once and with its own
 * verdict; one that cannot be asked is reported too. */
static void test_session_each(server_t *s, apr_pool_t *p)
{
    zddc_upstream *up;
    zddc_upstream_session *sess;
    batch_job job;
    apr_time_t t0;
    int i, once = 0, same = 0;

    zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);
    zddc_upstream_session_create(&sess, up, 4, NULL, p);
    held_reset(s);
    memset(&job, 0, sizeof(job));
    job.n = 4;
    job.each = 1;
    job.paths[0] = "/hold/1500/e-slow";
    job.paths[1] = "/hold/20/e-a";
    job.paths[2] = "/refused";
    job.paths[3] = "/hold/20/e-b";
    t0 = apr_time_now();
    batch_start(&job, up, sess, 0, p);
    batch_finish(&job, 1, apr_time_from_sec(10), "each: the batch ends");
    for (i = 0; i < 4; i++) {
        once += job.calls[i] == 1;
        same += job.ended_rv[i] == job.rv[i];
    }
    is_int(once, 4, "each: every request of the batch is reported once");
    is_int(same, 4, "each: ... with the verdict perform_all returns for it");
    ok(job.rv[1] == APR_SUCCESS && !strcmp(job.data[1], "e-a")
       && job.rv[3] == APR_SUCCESS && !strcmp(job.data[3], "e-b")
       && job.rv[0] == APR_SUCCESS && !strcmp(job.data[0], "e-slow"),
       "each: the three good requests got their own answers");
    is_int(job.rv[2], APR_EINVAL, "each: the bad one is refused unsent");
    ok(job.ended_at[1] - t0 < apr_time_from_msec(1000)
       && job.ended_at[3] - t0 < apr_time_from_msec(1000),
       "each: the quick answers are reported well before the slow one ends");
    ok(job.ended_at[0] - t0 >= apr_time_from_msec(1500),
       "each: the slow one when it ends");
    printf("# reported after %d, %d and %d ms (slow)\n",
           (int)apr_time_as_msec(job.ended_at[1] - t0),
           (int)apr_time_as_msec(job.ended_at[3] - t0),
           (int)apr_time_as_msec(job.ended_at[0] - t0));
    zddc_upstream_session_destroy(sess);
}

static void test_check_url(void)
{
    ok(zddc_upstream_check_url("http://127.0.0.1:8080") == NULL, "check_url: host and port");
    ok(zddc_upstream_check_url("https://master.example/zddc/") == NULL, "check_url: https with prefix");
    ok(zddc_upstream_check_url("http://[::1]:80/x") == NULL, "check_url: IPv6 literal");
    ok(zddc_upstream_check_url("ftp://host/") != NULL, "check_url: rejects ftp");
    ok(zddc_upstream_check_url("http://") != NULL, "check_url: rejects empty host");
    ok(zddc_upstream_check_url("http://user:pw@host/") != NULL, "check_url: rejects credentials");
    ok(zddc_upstream_check_url("http://host/?a=1") != NULL, "check_url: rejects query");
    ok(zddc_upstream_check_url("http://host/#f") != NULL, "check_url: rejects fragment");
    ok(zddc_upstream_check_url("http://host:0/") != NULL, "check_url: rejects port 0");
    ok(zddc_upstream_check_url("http://host:65536/") != NULL, "check_url: rejects port 65536");
    ok(zddc_upstream_check_url("http://host:80x/") != NULL, "check_url: rejects junk port");
    ok(zddc_upstream_check_url("host:80") != NULL, "check_url: rejects missing scheme");
}

int main(void)
{
    apr_pool_t *pool, *p;
    apr_thread_t *thread;
    apr_status_t rv, trv;
    server_t *s;
    zddc_upstream *up, *up2, *slow, *dead;
    zddc_upstream_req req;
    zddc_upstream_resp resp;
    sink_t k;
    char seen[CONN_BUF];
    char *body;
    apr_size_t len;
    int i, before, dead_port = 0, dfd;
    volatile apr_uint32_t cancel = 0;
    apr_time_t t0;
    apr_table_t *extra;
    src_t src = { "payload-123", 0 };

    /* a write to a connection the peer closed must fail, not kill us
     * (httpd ignores SIGPIPE the same way) */
    signal(SIGPIPE, SIG_IGN);
    apr_initialize();
    apr_pool_create(&pool, NULL);
    zddc_upstream_global_init();
    plan(125);

    test_check_url();

    s = apr_pcalloc(pool, sizeof(*s));
    for (i = 0; i < MAX_CONNS; i++) {
        s->conns[i].fd = -1;
    }
    apr_thread_mutex_create(&s->mu, APR_THREAD_MUTEX_DEFAULT, pool);
    s->lfd = listen_local(&s->port);
    if (s->lfd < 0 || apr_thread_create(&thread, NULL, server_main, s, pool)
        != APR_SUCCESS) {
        printf("Bail out! cannot start the test server on 127.0.0.1\n");
        return 1;
    }
    apr_pool_create(&p, pool);

    rv = zddc_upstream_create(&up, apr_psprintf(p, "http://127.0.0.1:%d/", s->port),
                              "s3cret", NULL, apr_time_from_sec(5), p);
    is_int(rv, APR_SUCCESS, "create");
    ok(zddc_upstream_create(&dead, "http://u:p@127.0.0.1/", NULL, NULL, 0, p)
       != APR_SUCCESS, "create refuses a URL with credentials");

    /* request headers */
    memset(&req, 0, sizeof(req));
    extra = apr_table_make(p, 4);
    apr_table_set(extra, "Authorization", "Basic dXNlcjpwdw==");
    apr_table_set(extra, "Cookie", "session=1");
    apr_table_set(extra, "Host", "evil.example");
    apr_table_set(extra, "If-Modified-Since", "Mon, 01 Jan 1990 00:00:00 GMT");
    apr_table_set(extra, "Proxy-Authorization", "Basic eA==");
    apr_table_set(extra, "X-Custom", "yes");
    req.path = "/hello";
    req.accept = "application/json";
    req.if_modified_since = apr_time_from_sec(784111777);
    req.headers = extra;
    req.body_length = -1;
    memset(&k, 0, sizeof(k));
    req.on_headers = sink_headers;
    req.on_body = sink_body;
    req.baton = &k;
    rv = zddc_upstream_perform(up, &req, &resp, p);
    is_int(rv, APR_SUCCESS, "GET /hello succeeds");
    is_int(resp.status, 200, "GET /hello status");
    is_str(k.data, "hello", "body callback got the body");
    is_int(k.headers_calls, 1, "on_headers called once");
    is_int((int)resp.bytes, 5, "bytes counted");
    is_int((int)resp.content_length, 5, "content_length parsed");
    ok(resp.last_modified == apr_time_from_sec(784111777), "last_modified parsed");
    is_str(apr_table_get(resp.headers, "X-Spaced"), "padded value", "header value trimmed");
    last_request(s, seen, sizeof(seen));
    is_int(count_lines_starting(seen, "Authorization: Bearer s3cret\r"), 1, "bearer sent once");
    is_int(count_lines_starting(seen, "Authorization:"), 1, "client Authorization not sent");
    is_int(count_lines_starting(seen, "Cookie:"), 0, "client Cookie not sent");
    is_int(count_lines_starting(seen, "Proxy-Authorization:"), 0, "Proxy-* not sent");
    is_int(count_lines_starting(seen, "Host: evil"), 0, "client Host not sent");
    is_int(count_lines_starting(seen, "Accept: application/json\r"), 1, "Accept sent");
    is_int(count_lines_starting(seen, "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r"), 1,
           "our If-Modified-Since sent");
    is_int(count_lines_starting(seen, "If-Modified-Since:"), 1, "client If-Modified-Since not sent");
    is_int(count_lines_starting(seen, "X-Custom: yes\r"), 1, "extra header sent");
    is_int(count_lines_starting(seen, "User-Agent: mod_zddc_mirror/" ZDDC_VERSION "\r"), 1, "User-Agent");

    /* percent-encoding */
    rv = do_get(up, "/a b/(x)#%?.pdf", &k, &resp, p);
    is_int(resp.status, 404, "odd name reaches the server");
    is_str(k.data, "GET /a%20b/%28x%29%23%25%3F.pdf 0", "odd name percent-encoded");
    rv = do_get(up, "/\xc3\xa9t\xc3\xa9/", &k, &resp, p);
    is_str(k.data, "GET /%C3%A9t%C3%A9/ 0", "UTF-8 percent-encoded, trailing slash kept");
    is_str(zddc_upstream_url(up, p, "/a b"),
           apr_psprintf(p, "http://127.0.0.1:%d/a%%20b", s->port), "upstream_url");
    ok(strstr(zddc_upstream_url(up, p, "/x"), "s3cret") == NULL, "upstream_url has no token");

    /* query string passed verbatim */
    memset(&req, 0, sizeof(req));
    memset(&k, 0, sizeof(k));
    req.path = "/q";
    req.query = "a=1&b=%20";
    req.on_body = sink_body;
    req.baton = &k;
    rv = zddc_upstream_perform(up, &req, &resp, p);
    is_str(k.data, "GET /q?a=1&b=%20 0", "query appended verbatim");

    /* conditional GET answered 304 */
    rv = zddc_upstream_get(up, "/ims", NULL, apr_time_now(), 1024, NULL, &resp,
                           &body, &len, p);
    is_int(rv, APR_SUCCESS, "conditional GET succeeds");
    is_int(resp.status, 304, "304 status");
    is_int((int)len, 0, "304 has no body");

    /* interim 1xx response is skipped, headers of the final one kept */
    rv = do_get(up, "/continue", &k, &resp, p);
    is_int(resp.status, 200, "final status after 100 Continue");
    ok(apr_table_get(resp.headers, "X-Interim") == NULL
       && apr_table_get(resp.headers, "X-Final") != NULL, "interim headers dropped");
    is_int(k.status_seen, 200, "on_headers saw the final status");

    rv = do_get(up, "/nostore", &k, &resp, p);
    is_int(resp.no_store, 1, "Cache-Control no-store detected");

    /* buffered GET limits */
    rv = zddc_upstream_get(up, "/big", NULL, 0, 1000, NULL, &resp, &body, &len, p);
    ok(rv == APR_SUCCESS && len == 100 && body[100] == '\0', "buffered GET of 100 bytes");
    rv = zddc_upstream_get(up, "/big", NULL, 0, 10, NULL, &resp, &body, &len, p);
    is_int(rv, ZDDC_UP_ETOOBIG, "buffered GET over the limit");

    /* request body */
    memset(&req, 0, sizeof(req));
    memset(&k, 0, sizeof(k));
    req.method = "PUT";
    req.path = "/upload";
    req.body_length = (apr_off_t)strlen(src.data);
    req.read_body = src_read;
    req.baton = &src;
    rv = zddc_upstream_perform(up, &req, &resp, p);
    last_request(s, seen, sizeof(seen));
    ok(rv == APR_SUCCESS && strncmp(seen, "PUT /upload ", 12) == 0, "PUT forwarded");
    is_int((int)last_body(s), 11, "PUT body delivered");

    memset(&req, 0, sizeof(req));
    src.off = 0;
    req.method = "POST";
    req.path = "/chunked";
    req.body_length = -1;
    req.read_body = src_read;
    req.baton = &src;
    rv = zddc_upstream_perform(up, &req, &resp, p);
    last_request(s, seen, sizeof(seen));
    ok(rv == APR_SUCCESS && strncmp(seen, "POST /chunked ", 14) == 0
       && count_lines_starting(seen, "Transfer-Encoding: chunked\r") == 1,
       "POST of unknown length is sent chunked");
    is_int((int)last_body(s), 11, "chunked body delivered");

    memset(&req, 0, sizeof(req));
    req.method = "HEAD";
    req.path = "/hello";
    rv = zddc_upstream_perform(up, &req, &resp, p);
    ok(rv == APR_SUCCESS && resp.status == 200 && resp.bytes == 0, "HEAD without body");

    /* on_headers may refuse the response */
    memset(&req, 0, sizeof(req));
    memset(&k, 0, sizeof(k));
    k.headers_rv = APR_EGENERAL;
    req.path = "/hello";
    req.on_headers = sink_headers;
    req.on_body = sink_body;
    req.baton = &k;
    rv = zddc_upstream_perform(up, &req, &resp, p);
    is_int(rv, ZDDC_UP_EABORT, "on_headers error aborts");
    is_int((int)k.len, 0, "no body after abort");

    /* truncated body */
    rv = do_get(up, "/trunc", &k, &resp, p);
    is_int(rv, ZDDC_UP_EBROKEN, "truncated body is broken");
    is_int(resp.status, 200, "truncated body kept its status");

    /* upstream closes without answering */
    rv = do_get(up, "/close", &k, &resp, p);
    is_int(rv, ZDDC_UP_ECONNECT, "no answer is a connect failure");
    is_int(resp.status, 0, "no answer leaves status 0");

    /* connection refused */
    dfd = listen_local(&dead_port);
    close(dfd);
    zddc_upstream_create(&dead, apr_psprintf(p, "http://127.0.0.1:%d", dead_port),
                         NULL, NULL, apr_time_from_sec(2), p);
    rv = do_get(dead, "/x", &k, &resp, p);
    is_int(rv, ZDDC_UP_ECONNECT, "refused connection");
    is_int(resp.status, 0, "refused leaves status 0");
    is_str(zddc_upstream_strerror(rv, p), "connection failed", "strerror");

    /* keep-alive: two requests, one connection */
    zddc_upstream_create(&up2, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(5), p);
    before = accepted(s);
    rv = do_get(up2, "/hello", &k, &resp, p);
    trv = do_get(up2, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && trv == APR_SUCCESS, "two sequential requests");
    is_int(accepted(s) - before, 1, "one TCP connection for both");

    /* stall after the headers */
    zddc_upstream_create(&slow, apr_psprintf(p, "http://127.0.0.1:%d", s->port),
                         NULL, NULL, apr_time_from_sec(1), p);
    t0 = apr_time_now();
    rv = do_get(slow, "/stall", &k, &resp, p);
    is_int(rv, ZDDC_UP_ETIMEOUT, "stalled transfer times out");
    is_int(resp.status, 200, "stall keeps the status");
    ok(apr_time_now() - t0 < apr_time_from_sec(8), "stall detected promptly");

    /* cancel flag noticed while the upstream stalls */
    memset(&req, 0, sizeof(req));
    memset(&k, 0, sizeof(k));
    k.cancel_on_body = &cancel;
    req.path = "/stall";
    req.on_body = sink_body;
    req.baton = &k;
    req.cancel = &cancel;
    t0 = apr_time_now();
    rv = zddc_upstream_perform(up, &req, &resp, p);
    is_int(rv, ZDDC_UP_EABORT, "cancel aborts a stalled transfer");
    ok(apr_time_now() - t0 < apr_time_from_sec(4), "cancel noticed before the stall timeout");
    rv = zddc_upstream_perform(up, &req, &resp, p);
    is_int(rv, ZDDC_UP_EABORT, "already cancelled request is not sent");

    /* refused connection says where */
    rv = do_get(dead, "/x", &k, &resp, p);
    ok(resp.detail && strstr(resp.detail, "127.0.0.1")
       && strstr(resp.detail, apr_psprintf(p, "port %d", dead_port)),
       "refused connection detail names host and port");

    test_http11(s, p);
    test_cancel_connect(p);
    test_session(s, p);
    test_session_bound(s, p);
    test_session_urgent(s, p);
    test_session_cancel_waiting(s, p);
    test_session_each(s, p);

    /* the object still works after errors */
    rv = do_get(up, "/hello", &k, &resp, p);
    ok(rv == APR_SUCCESS && resp.status == 200, "upstream usable after errors");

    apr_pool_destroy(p);
    apr_atomic_set32(&s->stop, 1);
    apr_thread_join(&trv, thread);
    close(s->lfd);
    apr_pool_destroy(pool);
    apr_terminate();
    return done();
}
