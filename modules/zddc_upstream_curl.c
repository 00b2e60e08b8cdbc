/* The upstream client's transport: libcurl only moves bytes (the only file
 * that includes curl). Request path: reused easy handles over HTTP/1.1;
 * walks: a session's multi handle, HTTP/2 multiplexed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <pthread.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_thread_proc.h>

#include <curl/curl.h>

#include "zddc_upstream_int.h"
#include "zddc_version.h"

/* Idle request-path handles kept per upstream object; each keeps its own
 * keep-alive connection, so this bounds them. */
#define TR_MAX_IDLE 32
/* Bigger reads mean fewer trips through the pipeline's write-to-cache
 * and pass-to-client path on large files (benchmark P3). */
#define TR_BUFFER_SIZE (256L * 1024)
/* Without a shared CA store (libcurl not on OpenSSL 3, or an https
 * proxy): how long a handle's parsed CA store is reused
 * (CURLOPT_CA_CACHE_TIMEOUT); parsing the system bundle costs 40-50 ms. */
#define TR_CA_CACHE_SECONDS 86400L
/* How often a session's loop looks at cancel flags and deadlines when
 * nothing else wakes it. */
#define TR_LOOP_TICK_MS 100
#define TR_MAX_SESSION 256
/* Connections a session opens to an https master until it knows the
 * master's protocol, and for good once that is HTTP/2: past the master's
 * streams per connection (Apache's H2MaxSessionStreams, 100 by default)
 * libcurl would open one more connection per request waiting; with two, a
 * new one can start while a closing one (GOAWAY) drains. */
#define TR_H2_CONNECTIONS 2L

/* The sockets libcurl opened for one connection cache (a request-path
 * handle's, or a session's multi), so the connection a request is about
 * to reuse can be looked at before the request goes out. */
typedef struct {
    curl_socket_t *fd;
    int *port;                  /* local port, 0 until looked up */
    int n, cap;
} tr_socks;

/* One easy handle, configured once for one upstream object and one use
 * (request path or session), then reused. */
typedef struct tr_handle {
    CURL *h;
    char err[CURL_ERROR_SIZE];
    /* the shared CA store this handle's connections verify with (see
     * ca_choose), and why it could not be loaded */
    const char *ca_file, *ca_dir;
    char ca_err[256];
    tr_socks own;               /* request path: its connections' sockets */
    struct tr_handle *next;
} tr_handle;

struct zddc_up_transport {
    apr_thread_mutex_t *lock;
    tr_handle *idle;            /* request-path handles of owner_pid */
    int nidle;
    pid_t owner_pid;
    int closed;
};

/* One transfer as the transport runs it. */
typedef struct tr_xfer {
    zddc_up_xfer *x;
    tr_handle *th;
    apr_interval_time_t limit;  /* ZddcUpstreamTimeout */
    apr_time_t started;
    apr_time_t last_activity;
    curl_off_t last_moved;      /* easy mode: bytes up + down seen */
    int stalled;                /* silence or a head over the limit */
    int dirty;                  /* the reused connection had unread bytes */
    int retried;
    tr_socks *socks;            /* where its connection's socket is; NULL:
                                   do not look (it may be HTTP/2) */
    /* session mode */
    apr_status_t rv;
    struct tr_batch *batch;     /* handed over with these */
    int urgent;                 /* goes ahead of waiting transfers */
    int queued;                 /* handed to the loop */
    struct tr_xfer *next;
    struct tr_xfer *ended_next; /* on its batch's ended list */
} tr_xfer;

/* Transfers one thread handed over together (guarded by the session's
 * mu). The thread takes each as it ends, and the ends of one pass of the
 * loop wake it once. */
typedef struct tr_batch {
    int left;                   /* handed over, not yet ended */
    int signalled;              /* the thread is being woken */
    struct tr_xfer *ended;      /* ended, not yet taken (last first) */
    apr_thread_cond_t *cv;
} tr_batch;

struct zddc_upstream_session {
    zddc_upstream *up;
    CURLM *multi;
    apr_thread_t *thread;
    apr_thread_mutex_t *mu;     /* guards queue, room, stopping, idle,
                                   done flags */
    tr_xfer *queue, *queue_tail; /* handed over, not yet seen by the loop */
    int room;                   /* transfers the loop would start now: a
                                   hand-over wakes the loop only then */
    tr_handle *idle;
    int stopping;
    volatile apr_uint32_t *cancel;
    apr_pool_t *pool;
    long max_conns;             /* ZddcMirrorParallelism, for HTTP/1.1 */
    int max_active;             /* transfers in the multi at once */
    /* loop thread only */
    int proto_unknown;          /* https, no answer yet */
    int proto_assumed;          /* https: HTTP/1.1 as the last walk
                                   learnt it, until the first answer */
    volatile apr_uint32_t *https_h1; /* where walks remember it, or NULL */
    tr_socks socks;
    tr_xfer *urgent, *urgent_tail;   /* seen, waiting for a free slot: */
    tr_xfer *backlog, *backlog_tail; /* listings ahead of files */
    int nbacklog, nactive;
};

/* ---- per process: libcurl, the share handle ---------------------------- */

static pid_t current_pid;
static pthread_mutex_t share_init = PTHREAD_MUTEX_INITIALIZER;
static pid_t share_pid;
static apr_pool_t *share_pool;
static apr_thread_mutex_t *share_locks[CURL_LOCK_DATA_LAST];

/* One share handle per CA store: libcurl matches a TLS session to a
 * connection by its CA options, which are empty when the shared store is
 * used, so sessions verified with one CA file must not resume for an
 * upstream object configured with another. */
typedef struct tr_share {
    char *ca_file, *ca_dir;         /* NULL, NULL: libcurl's own CA options */
    CURLSH *sh;
    struct tr_share *next;
} tr_share;
static tr_share *shares;

/* Shared CA stores: libcurl on OpenSSL 3 (CURLOPT_SSL_CTX_FUNCTION hands
 * us each connection's SSL_CTX), and libcurl's default CA file and
 * directory, used when ZddcUpstreamCAFile is not set. */
static int ca_shared_ok;
static char *ca_default_file, *ca_default_dir;

static void note_fork_child(void)
{
    current_pid = getpid();
}

void zddc_up_tr_global_init(void)
{
    static int done;
    const curl_version_info_data *v;

    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        current_pid = getpid();
        pthread_atfork(NULL, NULL, note_fork_child);
        v = curl_version_info(CURLVERSION_NOW);
        ca_shared_ok = zddc_up_ca_available() && v->ssl_version
                       && strncmp(v->ssl_version, "OpenSSL/3", 9) == 0;
#if LIBCURL_VERSION_NUM >= 0x075400
        {
            CURL *h = curl_easy_init();
            char *s;
            if (h) {
                s = NULL;
                if (curl_easy_getinfo(h, CURLINFO_CAINFO, &s) == CURLE_OK
                    && s && *s) {
                    ca_default_file = strdup(s);
                }
                s = NULL;
                if (curl_easy_getinfo(h, CURLINFO_CAPATH, &s) == CURLE_OK
                    && s && *s) {
                    ca_default_dir = strdup(s);
                }
                curl_easy_cleanup(h);
            }
        }
#endif
        done = 1;
    }
}

static pid_t my_pid(void)
{
    return current_pid ? current_pid : getpid();
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *userptr)
{
    if (data >= 0 && data < CURL_LOCK_DATA_LAST && share_locks[data]) {
        apr_thread_mutex_lock(share_locks[data]);
    }
}

static void share_unlock(CURL *h, curl_lock_data data, void *userptr)
{
    if (data >= 0 && data < CURL_LOCK_DATA_LAST && share_locks[data]) {
        apr_thread_mutex_unlock(share_locks[data]);
    }
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* This process's share handle for one CA store: DNS cache and TLS
 * sessions for every handle of every upstream object verifying with it.
 * Connections are not shared across threads (libcurl 7.88 documents that
 * as unsafe): they live in the reused request-path handles and in each
 * session's multi handle. A prefork or event child makes its own after
 * fork; the parent's copies, never used there, are left alone. */
static CURLSH *process_share(const char *ca_file, const char *ca_dir)
{
    pid_t me = my_pid();
    tr_share *s;
    CURLSH *sh = NULL;
    int i;

    pthread_mutex_lock(&share_init);
    if (share_pid != me) {
        shares = NULL;
        share_pool = NULL;
        if (apr_pool_create(&share_pool, NULL) == APR_SUCCESS) {
            apr_pool_tag(share_pool, "zddc_upstream_share");
            for (i = 0; i < CURL_LOCK_DATA_LAST; i++) {
                share_locks[i] = NULL;
                apr_thread_mutex_create(&share_locks[i],
                                        APR_THREAD_MUTEX_DEFAULT, share_pool);
            }
            share_pid = me;
        }
    }
    for (s = shares; s; s = s->next) {
        if (same_str(s->ca_file, ca_file) && same_str(s->ca_dir, ca_dir)) {
            sh = s->sh;
            break;
        }
    }
    /* malloc, not the pool: kept for the life of the process and
     * reachable from the list, the share handle too */
    if (!s && share_pool && (s = calloc(1, sizeof(*s)))
        && (!ca_file || (s->ca_file = strdup(ca_file)))
        && (!ca_dir || (s->ca_dir = strdup(ca_dir)))
        && (sh = curl_share_init())) {
        curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        s->sh = sh;
        s->next = shares;
        shares = s;
    }
    else if (s && !sh) {
        free(s->ca_file);
        free(s->ca_dir);
        free(s);
    }
    pthread_mutex_unlock(&share_init);
    return sh;
}

/* ---- the CA store ---------------------------------------------------------- */

/* An https proxy is verified with libcurl's proxy CA options, but the
 * SSL_CTX callback runs for its TLS too and cannot tell the two apart: with
 * one configured, or in the environment, libcurl keeps loading the CA
 * file itself. */
static int https_proxy_possible(const zddc_upstream *up)
{
    static const char *const vars[] = {
        "https_proxy", "HTTPS_PROXY", "http_proxy", "all_proxy", "ALL_PROXY",
        NULL
    };
    const char *v;
    int i;

    if (up->proxy) {
        return strncasecmp(up->proxy, "https://", 8) == 0;
    }
    for (i = 0; vars[i]; i++) {
        v = getenv(vars[i]);
        if (v && strncasecmp(v, "https://", 8) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Which shared store an https upstream's connections verify with:
 * ZddcUpstreamCAFile alone, or else libcurl's default file and directory
 * (the system store). 0: libcurl loads the CA options itself. */
static int ca_choose(const zddc_upstream *up, const char **file,
                     const char **dir)
{
    if (!ca_shared_ok || strncasecmp(up->base, "https://", 8) != 0
        || https_proxy_possible(up)) {
        return 0;
    }
    if (up->ca_file) {
        *file = up->ca_file;
        *dir = NULL;
        return 1;
    }
    if (!ca_default_file) {
        return 0;
    }
    *file = ca_default_file;
    *dir = ca_default_dir;
    return 1;
}

/* Every new TLS connection: verify the peer with this process's parsed
 * store instead of parsing the CA file again. */
static CURLcode on_ssl_ctx(CURL *h, void *ssl_ctx, void *ud)
{
    tr_handle *th = ud;

    if (!zddc_up_ca_attach(ssl_ctx, th->ca_file, th->ca_dir, th->ca_err,
                           sizeof(th->ca_err))) {
        return CURLE_SSL_CACERT_BADFILE;
    }
    return CURLE_OK;
}

/* ---- callbacks ------------------------------------------------------------ */

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
    tr_xfer *t = ud;
    size_t total = size * nitems;

    t->last_activity = apr_time_now();
    return zddc_up_head_line(t->x, data, total) ? total : 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    tr_xfer *t = ud;
    size_t len = size * nmemb;

    t->last_activity = apr_time_now();
    if (!zddc_up_body(t->x, data, len)) {
        return len ? 0 : 1;
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    tr_xfer *t = ud;
    apr_size_t len = size * nitems;

    /* the answer's head is due ZddcUpstreamTimeout after the request
     * body's last byte, however long a forwarded upload takes */
    t->started = t->last_activity = apr_time_now();
    return zddc_up_read(t->x, buf, &len) ? len : CURL_READFUNC_ABORT;
}

/* Deadlines a transfer must meet, checked by the progress callback on the
 * request path and by the loop in a session: the response head within
 * ZddcUpstreamTimeout of the start (a header drip is not progress), and
 * no silence that long afterwards. */
static int over_deadline(tr_xfer *t, apr_time_t now)
{
    if (!t->x->head_done && now - t->started > t->limit) {
        return 1;
    }
    return now - t->last_activity > t->limit;
}

/* The request path's one progress callback: the cancel flag (a waiting
 * background revalidation or forwarded write), and the deadlines. curl's
 * own low-speed check averages over seconds, so a burst and then silence
 * would outlive ZddcUpstreamTimeout. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    tr_xfer *t = ud;
    curl_off_t moved = dlnow + ulnow;
    apr_time_t now;

    if (zddc_up_cancelled(t->x)) {
        t->x->aborted = 1;
        return 1;
    }
    now = apr_time_now();
    if (moved != t->last_moved) {
        t->last_moved = moved;
        t->last_activity = now;
    }
    if (over_deadline(t, now)) {
        t->stalled = 1;
        return 1;
    }
    return 0;
}

/* ---- keep-alive desync ------------------------------------------------------ */

static curl_socket_t on_open_socket(void *ud, curlsocktype purpose,
                                    struct curl_sockaddr *a)
{
    tr_socks *r = ud;
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);

    if (fd == CURL_SOCKET_BAD) {
        return fd;
    }
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 8;
        curl_socket_t *nf = realloc(r->fd, cap * sizeof(*nf));
        int *np;
        if (nf) {
            r->fd = nf;
        }
        np = nf ? realloc(r->port, cap * sizeof(*np)) : NULL;
        if (!np) {
            close(fd);
            return CURL_SOCKET_BAD;
        }
        r->port = np;
        r->cap = cap;
    }
    r->fd[r->n] = fd;
    r->port[r->n] = 0;
    r->n++;
    return fd;
}

static int on_close_socket(void *ud, curl_socket_t fd)
{
    tr_socks *r = ud;
    int i;

    for (i = 0; i < r->n; i++) {
        if (r->fd[i] == fd) {
            r->fd[i] = r->fd[--r->n];
            r->port[i] = r->port[r->n];
            break;
        }
    }
    return close(fd);
}

static curl_socket_t socks_find(tr_socks *r, int local_port)
{
    int i;

    for (i = 0; i < r->n; i++) {
        if (!r->port[i]) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            if (getsockname(r->fd[i], (struct sockaddr *)&ss, &sl) == 0) {
                r->port[i] = ss.ss_family == AF_INET6
                             ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
            }
        }
        if (r->port[i] == local_port) {
            return r->fd[i];
        }
    }
    return CURL_SOCKET_BAD;
}

/* Right before a request goes out on a connection: an HTTP/1.1
 * connection that has bytes waiting, before we asked anything, carries
 * the leftovers of an earlier answer (a body after a 304, a second
 * response). Reading them as this request's answer would cache another
 * URL's content under this one, so the request is stopped (libcurl
 * closes that connection) and sent again on a fresh one. HTTP/2 frames
 * its streams, and idle h2 connections legitimately receive frames, so
 * only connections that cannot be h2 are looked at. */
static int on_prereq(void *ud, char *peer_ip, char *local_ip, int peer_port,
                     int local_port)
{
    tr_xfer *t = ud;
    struct pollfd pfd;
    curl_socket_t fd;
    long fresh = 0;

    /* a connection made for this request may hold TLS records the
     * handshake left (session tickets): only reused ones are looked at */
    if (!t->socks
        || curl_easy_getinfo(t->th->h, CURLINFO_NUM_CONNECTS, &fresh)
           != CURLE_OK || fresh > 0) {
        return CURL_PREREQFUNC_OK;
    }
    fd = socks_find(t->socks, local_port);
    if (fd == CURL_SOCKET_BAD) {
        return CURL_PREREQFUNC_OK;
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP))) {
        char c;
        /* readable with nothing to read: the peer closed, libcurl will
         * notice that itself; bytes waiting: desync */
        if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
            t->dirty = 1;
            return CURL_PREREQFUNC_ABORT;
        }
    }
    return CURL_PREREQFUNC_OK;
}

/* ---- handles -------------------------------------------------------------- */

static tr_handle *handle_new(zddc_upstream *up, zddc_upstream_session *sess)
{
    int in_session = sess != NULL;
    tr_socks *socks;
    tr_handle *th = calloc(1, sizeof(*th));
    long secs = (long)apr_time_sec(up->timeout + APR_USEC_PER_SEC - 1);
    CURL *h;

    if (!th || !(h = curl_easy_init())) {
        free(th);
        return NULL;
    }
    th->h = h;
    socks = sess ? &sess->socks : &th->own;
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, socks);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, socks);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(h, CURLOPT_PRIVATE, th);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, th->err);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTP09_ALLOWED, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)((up->timeout + 999) / 1000));
    /* A session's loop keeps the deadlines itself (over_deadline), and a
     * request waiting for an HTTP/2 stream while the others download is
     * not late; libcurl's own check would count that wait as silence. */
    if (!in_session) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, secs < 1 ? 1L : secs);
    }
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, TR_BUFFER_SIZE);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, ZDDC_UP_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_choose(up, &th->ca_file, &th->ca_dir)
        && curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx)
           == CURLE_OK) {
        /* libcurl gets no CA options: it parses nothing, and the
         * connection verifies with the store on_ssl_ctx hands it */
        curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, th);
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_SHARE,
                         process_share(th->ca_file, th->ca_dir));
    }
    else {
        th->ca_file = th->ca_dir = NULL;
        if (up->ca_file) {
            curl_easy_setopt(h, CURLOPT_CAINFO, up->ca_file);
        }
#if LIBCURL_VERSION_NUM >= 0x075700
        curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, TR_CA_CACHE_SECONDS);
#endif
        curl_easy_setopt(h, CURLOPT_SHARE, process_share(NULL, NULL));
    }
    /* read at startup as root, so the key file need not be readable by
     * the server's User */
    if (up->client_cert) {
        struct curl_blob b;
        b.data = (void *)up->client_cert;
        b.len = up->client_cert_len;
        b.flags = CURL_BLOB_NOCOPY;
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &b);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        if (up->client_key) {
            b.data = (void *)up->client_key;
            b.len = up->client_key_len;
            curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &b);
            curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        }
    }
    /* Without ZddcUpstreamProxy libcurl reads http_proxy, https_proxy and
     * no_proxy itself; "" turns every proxy off. */
    if (up->proxy) {
        curl_easy_setopt(h, CURLOPT_PROXY, up->proxy);
    }
    if (up->proxy_auth) {
        curl_easy_setopt(h, CURLOPT_PROXYUSERPWD, up->proxy_auth);
        curl_easy_setopt(h, CURLOPT_PROXYAUTH, (long)CURLAUTH_BASIC);
    }
    /* a CONNECT tunnel's own "200 Connection established" is not the
     * master's answer */
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    if (in_session) {
        /* walks: many requests, multiplexed when the master offers h2;
         * over https wait for a connection being set up rather than open
         * another. Plain http is HTTP/1.1: waiting would hold every
         * request of a new session behind the first one's answer. */
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_2TLS);
        if (strncasecmp(up->base, "https://", 8) == 0) {
            curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
        }
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    }
    else {
        /* the request path sends one request at a time per connection:
         * HTTP/1.1 costs the master least (bench/PROFILE.md) */
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 2L);
    }
    return th;
}

static void handle_free(tr_handle *th)
{
    curl_easy_cleanup(th->h);
    free(th->own.fd);
    free(th->own.port);
    free(th);
}

/* The options that change per request; everything else was set once. */
static apr_status_t handle_prepare(tr_handle *th, const zddc_up_wire *w,
                                   tr_xfer *t, struct curl_slist **list)
{
    CURL *h = th->h;
    zddc_upstream_req *req = t->x->req;
    struct curl_slist *l = NULL, *n;
    int i;

    for (i = 0; i < w->lines->nelts; i++) {
        n = curl_slist_append(l, APR_ARRAY_IDX(w->lines, i, const char *));
        if (!n) {
            curl_slist_free_all(l);
            return APR_ENOMEM;
        }
        l = n;
    }
    n = curl_slist_append(l, "Expect:");
    if (!n) {
        curl_slist_free_all(l);
        return APR_ENOMEM;
    }
    l = n;
    *list = l;
    th->err[0] = '\0';
    th->ca_err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_READDATA, t);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, t);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
    /* back to a plain GET: clears NOBODY and UPLOAD of the last use */
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
    if (w->is_head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return APR_SUCCESS;
    }
    if (strcmp(w->method, "GET") != 0 || req->read_body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, w->method);
    }
    if (req->read_body) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        if (req->body_length >= 0) {
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                             (curl_off_t)req->body_length);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t map_result(CURLcode rc, tr_xfer *t)
{
    zddc_upstream_resp *resp = t->x->resp;
    apr_status_t rv;

    switch (rc) {
    case CURLE_OK:
        return APR_SUCCESS;
    case CURLE_OUT_OF_MEMORY:
        rv = APR_ENOMEM;
        break;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
        if (t->stalled && !t->x->aborted) {
            rv = resp->status ? ZDDC_UP_ETIMEOUT : ZDDC_UP_ECONNECT;
            resp->detail = apr_psprintf(t->x->p, "no complete answer "
                                        "within %" APR_TIME_T_FMT " ms",
                                        apr_time_as_msec(t->limit));
            return rv;
        }
        rv = ZDDC_UP_EABORT;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        rv = t->x->aborted ? ZDDC_UP_EABORT
             : resp->status ? ZDDC_UP_ETIMEOUT : ZDDC_UP_ECONNECT;
        break;
    default:
        rv = t->x->aborted ? ZDDC_UP_EABORT
             : resp->status ? ZDDC_UP_EBROKEN : ZDDC_UP_ECONNECT;
        break;
    }
    resp->detail = apr_pstrdup(t->x->p, t->th->ca_err[0] ? t->th->ca_err
                               : t->th->err[0] ? t->th->err
                               : curl_easy_strerror(rc));
    return rv;
}

/* ---- the request path ----------------------------------------------------- */

static apr_status_t transport_cleanup(void *data)
{
    zddc_up_transport *tr = data;
    tr_handle *th;

    apr_thread_mutex_lock(tr->lock);
    while ((th = tr->idle)) {
        tr->idle = th->next;
        if (tr->owner_pid == my_pid()) {
            handle_free(th);
        }
    }
    tr->nidle = 0;
    tr->closed = 1;
    apr_thread_mutex_unlock(tr->lock);
    return APR_SUCCESS;
}

apr_status_t zddc_up_tr_create(zddc_upstream *up, apr_pool_t *p)
{
    zddc_up_transport *tr = apr_pcalloc(p, sizeof(*tr));
    apr_status_t rv;

    rv = apr_thread_mutex_create(&tr->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    tr->owner_pid = my_pid();
    up->tr = tr;
    apr_pool_cleanup_register(p, tr, transport_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* Handles are made lazily by the first request of a process, so a child
 * never shares a handle (or its sockets) with the parent: a child that
 * inherits a non-empty idle list abandons it. */
static tr_handle *handle_take(zddc_upstream *up)
{
    zddc_up_transport *tr = up->tr;
    tr_handle *th = NULL;
    pid_t me = my_pid();

    apr_thread_mutex_lock(tr->lock);
    if (tr->owner_pid != me) {
        tr->idle = NULL;
        tr->nidle = 0;
        tr->owner_pid = me;
    }
    if (tr->idle) {
        th = tr->idle;
        tr->idle = th->next;
        tr->nidle--;
    }
    apr_thread_mutex_unlock(tr->lock);
    return th ? th : handle_new(up, NULL);
}

static void handle_give(zddc_upstream *up, tr_handle *th)
{
    zddc_up_transport *tr = up->tr;

    apr_thread_mutex_lock(tr->lock);
    if (!tr->closed && tr->owner_pid == my_pid() && tr->nidle < TR_MAX_IDLE) {
        th->next = tr->idle;
        tr->idle = th;
        tr->nidle++;
        th = NULL;
    }
    apr_thread_mutex_unlock(tr->lock);
    if (th) {
        handle_free(th);
    }
}

static apr_status_t perform_here(zddc_upstream *up, const zddc_up_wire *w,
                                 tr_xfer *t)
{
    struct curl_slist *list = NULL;
    apr_status_t rv;
    CURLcode rc;

    t->th = handle_take(up);
    if (!t->th) {
        return APR_ENOMEM;
    }
    t->socks = &t->th->own;
    rv = handle_prepare(t->th, w, t, &list);
    if (rv == APR_SUCCESS) {
        rc = curl_easy_perform(t->th->h);
        if (t->dirty) {
            /* nothing was sent: once more, on a new connection */
            t->dirty = 0;
            curl_easy_setopt(t->th->h, CURLOPT_FRESH_CONNECT, 1L);
            rc = curl_easy_perform(t->th->h);
        }
        rv = map_result(rc, t);
    }
    /* drop the pointers into this request before the handle idles */
    curl_easy_setopt(t->th->h, CURLOPT_HTTPHEADER, NULL);
    handle_give(up, t->th);
    curl_slist_free_all(list);
    return rv;
}

/* ---- sessions: one multi handle and its loop thread per walk -------------- */

static void session_complete(zddc_upstream_session *s, tr_xfer *t,
                             apr_status_t rv)
{
    tr_batch *b = t->batch;

    apr_thread_mutex_lock(s->mu);
    t->rv = rv;
    b->left--;
    t->ended_next = b->ended;
    b->ended = t;
    if (!b->signalled) {
        b->signalled = 1;
        apr_thread_cond_signal(b->cv);
    }
    apr_thread_mutex_unlock(s->mu);
}

/* Stop one transfer that is in the multi: the cancel flag or a deadline. */
static void session_stop(zddc_upstream_session *s, tr_xfer *t, int stalled)
{
    zddc_upstream_resp *resp = t->x->resp;
    apr_status_t rv;

    curl_multi_remove_handle(s->multi, t->th->h);
    if (stalled) {
        t->stalled = 1;
        rv = resp->status ? ZDDC_UP_ETIMEOUT : ZDDC_UP_ECONNECT;
        resp->detail = apr_psprintf(t->x->p, "no complete answer within %"
                                    APR_TIME_T_FMT " ms",
                                    apr_time_as_msec(t->limit));
    }
    else {
        t->x->aborted = 1;
        rv = ZDDC_UP_EABORT;
    }
    session_complete(s, t, rv);
}

static void session_limit_connections(zddc_upstream_session *s, long n)
{
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n);
}

/* Connections while the master may multiplex (HTTP/2, or not known). */
static long session_h2_connections(const zddc_upstream_session *s)
{
    return s->max_conns > TR_H2_CONNECTIONS ? TR_H2_CONNECTIONS
                                            : s->max_conns;
}

/* The first answer over https tells the master's protocol: HTTP/1.1
 * needs a connection per request in flight. It is remembered for the
 * next session (s->https_h1), which then does not wait for an answer
 * before it opens them. */
static void session_learn_protocol(zddc_upstream_session *s, CURL *h)
{
    long v = 0;
    int h1;

    if ((s->proto_unknown || s->proto_assumed)
        && curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &v) == CURLE_OK
        && v != 0) {
        h1 = v < CURL_HTTP_VERSION_2_0;
        if (s->proto_unknown && h1) {
            session_limit_connections(s, s->max_conns);
        }
        else if (s->proto_assumed && !h1) {
            session_limit_connections(s, session_h2_connections(s));
        }
        s->proto_unknown = s->proto_assumed = 0;
        if (s->https_h1) {
            apr_atomic_set32(s->https_h1, (apr_uint32_t)h1);
        }
    }
}

/* Requests of a session wait for a free stream or connection, in libcurl
 * or in the master's queue, while the others download: a request still
 * without its response head counts ZddcUpstreamTimeout from the last
 * bytes any answer of the session moved (a head that drips is no such
 * wait: its own deadline stands). */
static void session_hold_clocks(tr_xfer *active)
{
    apr_time_t moved = 0;
    tr_xfer *t;

    for (t = active; t; t = t->next) {
        if (t->x->head_done && t->last_activity > moved) {
            moved = t->last_activity;
        }
    }
    for (t = active; t; t = t->next) {
        if (!t->x->head_done && t->last_activity == t->started
            && moved > t->started) {
            t->started = t->last_activity = moved;
        }
    }
}

/* Handed-over transfers wait in the loop's backlog until one of the
 * session's max_active slots is free, in order, urgent ones (a walk's
 * listings, which feed it) first. */
static void backlog_append(zddc_upstream_session *s, tr_xfer *in)
{
    tr_xfer *t, **head, **tail;

    while ((t = in)) {
        in = t->next;
        t->next = NULL;
        head = t->urgent ? &s->urgent : &s->backlog;
        tail = t->urgent ? &s->urgent_tail : &s->backlog_tail;
        if (*tail) {
            (*tail)->next = t;
        }
        else {
            *head = t;
        }
        *tail = t;
        s->nbacklog++;
    }
}

/* The next waiting transfer, taken off its list; NULL when none waits. */
static tr_xfer *backlog_take(zddc_upstream_session *s)
{
    tr_xfer *t = s->urgent ? s->urgent : s->backlog;

    if (!t) {
        return NULL;
    }
    if (t == s->urgent) {
        if (!(s->urgent = t->next)) {
            s->urgent_tail = NULL;
        }
    }
    else if (!(s->backlog = t->next)) {
        s->backlog_tail = NULL;
    }
    s->nbacklog--;
    t->next = NULL;
    return t;
}

/* A waiting transfer whose walk was cancelled ends without a request. */
static void backlog_sweep(zddc_upstream_session *s, int cancelled)
{
    tr_xfer *keep = NULL, *t;
    int n = s->nbacklog;

    while (n-- > 0 && (t = backlog_take(s))) {
        if (cancelled || zddc_up_cancelled(t->x)) {
            t->x->aborted = 1;
            session_complete(s, t, ZDDC_UP_EABORT);
        }
        else {
            t->next = keep;
            keep = t;
        }
    }
    /* back in their order: keep is reversed, and urgent ones lead */
    while ((t = keep)) {
        keep = t->next;
        if (t->urgent) {
            t->next = s->urgent;
            s->urgent = t;
            if (!s->urgent_tail) {
                s->urgent_tail = t;
            }
        }
        else {
            t->next = s->backlog;
            s->backlog = t;
            if (!s->backlog_tail) {
                s->backlog_tail = t;
            }
        }
        s->nbacklog++;
    }
}

/* Start waiting transfers while a slot is free. A walk keeps a few
 * requests handed over ahead, so the next one starts on this thread the
 * moment an answer ends, without a round trip through the walk's threads
 * (bench/PROFILE.md, P4). Returns how many started. */
static int session_admit(zddc_upstream_session *s, tr_xfer **active)
{
    tr_xfer *t;
    int n = 0;

    while (s->nactive < s->max_active && (t = backlog_take(s))) {
        t->started = t->last_activity = apr_time_now();
        if (curl_multi_add_handle(s->multi, t->th->h) != CURLM_OK) {
            t->x->resp->detail = "cannot add the transfer to the session";
            session_complete(s, t, ZDDC_UP_ECONNECT);
            continue;
        }
        t->next = *active;
        *active = t;
        s->nactive++;
        n++;
    }
    return n;
}

/* Drive the multi handle and hand back what ended; 1 when a transfer
 * ended (its slot may go to a waiting one). */
static int session_drive(zddc_upstream_session *s, tr_xfer **active)
{
    tr_xfer *t, **pt;
    CURLMsg *msg;
    int running = 0, left, ended = 0;

    curl_multi_perform(s->multi, &running);
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        tr_handle *th = NULL;
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &th);
        for (pt = active; *pt && (*pt)->th != th; pt = &(*pt)->next) {
        }
        if (!(t = *pt)) {
            continue;
        }
        session_learn_protocol(s, t->th->h);
        curl_multi_remove_handle(s->multi, t->th->h);
        if (t->dirty && !t->retried) {
            /* nothing was sent: once more, on a new connection */
            t->dirty = 0;
            t->retried = 1;
            curl_easy_setopt(t->th->h, CURLOPT_FRESH_CONNECT, 1L);
            if (curl_multi_add_handle(s->multi, t->th->h) == CURLM_OK) {
                continue;
            }
        }
        *pt = t->next;
        s->nactive--;
        ended = 1;
        session_complete(s, t, map_result(msg->data.result, t));
    }
    return ended;
}

/* The loop: takes handed-over transfers, starts them as slots come free,
 * drives the multi handle, hands results back, and stops transfers on
 * cancel or deadline. Callbacks of every transfer run here. */
static void *APR_THREAD_FUNC session_loop(apr_thread_t *thd, void *data)
{
    zddc_upstream_session *s = data;
    tr_xfer *active = NULL;

    for (;;) {
        tr_xfer *in, *t, **pt;
        int stopping, cancelled, again;
        apr_time_t now;

        apr_thread_mutex_lock(s->mu);
        in = s->queue;
        s->queue = s->queue_tail = NULL;
        stopping = s->stopping;
        apr_thread_mutex_unlock(s->mu);
        backlog_append(s, in);
        cancelled = stopping
                    || (s->cancel && apr_atomic_read32(s->cancel) != 0);
        backlog_sweep(s, cancelled);
        if (!cancelled) {
            session_admit(s, &active);
            while (session_drive(s, &active) && session_admit(s, &active)) {
            }
        }
        now = apr_time_now();
        session_hold_clocks(active);
        for (pt = &active; (t = *pt);) {
            int stalled = !cancelled && over_deadline(t, now);
            if (cancelled || stalled || zddc_up_cancelled(t->x)) {
                *pt = t->next;
                s->nactive--;
                session_stop(s, t, stalled);
            }
            else {
                pt = &t->next;
            }
        }
        if (stopping) {
            break;
        }
        /* a hand-over made while this pass ran found no room and did not
         * wake us: look at it now rather than at the next tick */
        apr_thread_mutex_lock(s->mu);
        s->room = s->max_active - s->nactive - s->nbacklog;
        again = s->queue != NULL && s->room > 0;
        apr_thread_mutex_unlock(s->mu);
        if (!again) {
            curl_multi_poll(s->multi, NULL, 0, TR_LOOP_TICK_MS, NULL);
        }
    }
    return NULL;
}

apr_status_t zddc_upstream_session_create(zddc_upstream_session **out,
                                          zddc_upstream *up,
                                          int max_in_flight,
                                          volatile apr_uint32_t *cancel,
                                          apr_pool_t *p)
{
    return zddc_upstream_session_create_ex(out, up, max_in_flight, cancel,
                                           NULL, p);
}

apr_status_t zddc_upstream_session_create_ex(zddc_upstream_session **out,
                                             zddc_upstream *up,
                                             int max_in_flight,
                                             volatile apr_uint32_t *cancel,
                                             volatile apr_uint32_t *https_h1,
                                             apr_pool_t *p)
{
    zddc_upstream_session *s = apr_pcalloc(p, sizeof(*s));
    long n = max_in_flight < 1 ? 1 : max_in_flight > TR_MAX_SESSION
             ? TR_MAX_SESSION : max_in_flight;
    apr_status_t rv;

    s->up = up;
    s->cancel = cancel;
    s->pool = p;
    s->max_conns = n;
    s->max_active = s->room = (int)n;
    s->proto_unknown = strncasecmp(up->base, "https://", 8) == 0;
    s->https_h1 = s->proto_unknown ? https_h1 : NULL;
    if (s->https_h1 && apr_atomic_read32(s->https_h1)) {
        s->proto_unknown = 0;
        s->proto_assumed = 1;
    }
    s->multi = curl_multi_init();
    if (!s->multi) {
        return APR_ENOMEM;
    }
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    session_limit_connections(s, s->proto_unknown ? session_h2_connections(s)
                                                  : n);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, n);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, n);
    rv = apr_thread_mutex_create(&s->mu, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_create(&s->thread, NULL, session_loop, s, p);
    }
    if (rv != APR_SUCCESS) {
        curl_multi_cleanup(s->multi);
        return rv;
    }
    *out = s;
    return APR_SUCCESS;
}

void zddc_upstream_session_destroy(zddc_upstream_session *s)
{
    apr_status_t trv;
    tr_handle *th;

    if (!s) {
        return;
    }
    apr_thread_mutex_lock(s->mu);
    s->stopping = 1;
    apr_thread_mutex_unlock(s->mu);
    curl_multi_wakeup(s->multi);
    apr_thread_join(&trv, s->thread);
    while ((th = s->idle)) {
        s->idle = th->next;
        handle_free(th);
    }
    curl_multi_cleanup(s->multi);
    free(s->socks.fd);
    free(s->socks.port);
}

/* Report transfers that ended (a list, last first) in the order they
 * ended. */
static void report_ended(tr_xfer *t, tr_xfer *e, zddc_up_ended_fn *ended,
                         void *baton)
{
    tr_xfer *order = NULL, *next;

    for (; e; e = next) {
        next = e->ended_next;
        e->ended_next = order;
        order = e;
    }
    for (; order; order = order->ended_next) {
        ended(baton, (int)(order - t), order->rv);
    }
}

/* Hand n transfers to the session's loop at once; each is reported on
 * this thread as it ends, so one slow answer holds back no other. */
static void perform_in_session(zddc_upstream_session *s,
                               const zddc_up_wire **w, tr_xfer *t, int n,
                               zddc_up_ended_fn *ended, void *baton,
                               apr_pool_t *p)
{
    struct curl_slist **lists = apr_pcalloc(p, n * sizeof(*lists));
    tr_xfer *in = NULL, *last = NULL, *e;
    tr_batch batch;
    int i, wake = 0;

    memset(&batch, 0, sizeof(batch));
    if (apr_thread_cond_create(&batch.cv, p) != APR_SUCCESS) {
        batch.cv = NULL;
    }
    for (i = 0; i < n; i++) {
        t[i].batch = &batch;
        t[i].urgent = t[i].x->req->urgent;
        if (!batch.cv) {
            t[i].rv = APR_ENOMEM;
            continue;
        }
        apr_thread_mutex_lock(s->mu);
        if ((t[i].th = s->idle)) {
            s->idle = t[i].th->next;
        }
        apr_thread_mutex_unlock(s->mu);
        if (!t[i].th && !(t[i].th = handle_new(s->up, s))) {
            t[i].rv = APR_ENOMEM;
            continue;
        }
        /* over https the connection may be h2, where waiting frames are
         * no desync; plain http is never h2 here */
        if (strncasecmp(w[i]->url, "http://", 7) == 0) {
            t[i].socks = &s->socks;
        }
        t[i].rv = handle_prepare(t[i].th, w[i], &t[i], &lists[i]);
        if (t[i].rv != APR_SUCCESS) {
            continue;
        }
        t[i].rv = ZDDC_UP_EABORT;
        t[i].next = NULL;
        if (last) {
            last->next = &t[i];
        }
        else {
            in = &t[i];
        }
        last = &t[i];
        batch.left++;
    }
    apr_thread_mutex_lock(s->mu);
    if (!s->stopping && in) {
        for (e = in; e; e = e->next) {
            e->queued = 1;
        }
        if (s->queue_tail) {
            s->queue_tail->next = in;
        }
        else {
            s->queue = in;
        }
        s->queue_tail = last;
        wake = s->room > 0;
        s->room -= batch.left;
    }
    else {
        batch.left = 0;
    }
    apr_thread_mutex_unlock(s->mu);
    /* with every slot taken the loop sees them when an answer ends */
    if (wake) {
        curl_multi_wakeup(s->multi);
    }
    for (i = 0; i < n; i++) {
        if (!t[i].queued) {
            ended(baton, i, t[i].rv);
        }
    }
    apr_thread_mutex_lock(s->mu);
    while (batch.left > 0 || batch.ended) {
        while (!batch.ended) {
            apr_thread_cond_wait(batch.cv, s->mu);
        }
        e = batch.ended;
        batch.ended = NULL;
        batch.signalled = 0;
        apr_thread_mutex_unlock(s->mu);
        report_ended(t, e, ended, baton);
        apr_thread_mutex_lock(s->mu);
    }
    for (i = 0; i < n; i++) {
        if (t[i].th) {
            curl_easy_setopt(t[i].th->h, CURLOPT_HTTPHEADER, NULL);
            t[i].th->next = s->idle;
            s->idle = t[i].th;
        }
    }
    apr_thread_mutex_unlock(s->mu);
    for (i = 0; i < n; i++) {
        curl_slist_free_all(lists[i]);
    }
    if (batch.cv) {
        apr_thread_cond_destroy(batch.cv);
    }
}

static void xfer_init(tr_xfer *t, zddc_upstream *up, zddc_up_xfer *x)
{
    memset(t, 0, sizeof(*t));
    t->x = x;
    t->limit = up->timeout;
    t->started = t->last_activity = apr_time_now();
}

void zddc_up_tr_perform_all(zddc_upstream *up, zddc_upstream_session *sess,
                            const zddc_up_wire **w, zddc_up_xfer **x, int n,
                            zddc_up_ended_fn *ended, void *baton,
                            apr_pool_t *p)
{
    tr_xfer *t;
    int i;

    if (!sess) {
        tr_xfer one;

        for (i = 0; i < n; i++) {
            xfer_init(&one, up, x[i]);
            ended(baton, i, perform_here(up, w[i], &one));
        }
        return;
    }
    t = apr_palloc(p, n * sizeof(*t));
    for (i = 0; i < n; i++) {
        xfer_init(&t[i], up, x[i]);
    }
    perform_in_session(sess, w, t, n, ended, baton, p);
}

/* The libcurl version, for the startup log line (zddc_version.h). */
const char *zddc_upstream_client_version(void)
{
    return curl_version_info(CURLVERSION_NOW)->version;
}
