/* The HTTP client towards the ZDDC master: URL building, request-header
 * policy, response parsing, and the libcurl transport (the only curl user). */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_date.h>
#include <apr_thread_mutex.h>

#include <curl/curl.h>
#include <pthread.h>

#include "zddc_upstream_int.h"
#include "zddc_util.h"

/* Idle handles kept per object; each keeps its connection cache alive, so
 * this also bounds the idle keep-alive connections of one process. */
#define ZDDC_UP_MAX_IDLE ((int)(sizeof(((zddc_upstream *)0)->idle) \
                               / sizeof(void *)))
#define ZDDC_UP_DEFAULT_TIMEOUT apr_time_from_sec(30)

/* Handles are created lazily by the first perform() of a process, so a
 * prefork child never shares a handle (or its sockets) with the parent.
 * owner_pid guards against a perform() in the parent all the same: a child
 * that inherits a non-empty free list abandons it rather than reusing it. */
#define ZDDC_UP_BUFFER_SIZE (256L * 1024)

typedef struct {
    zddc_up_xfer c;
    int stalled;        /* no byte moved for the stall limit */
    apr_interval_time_t stall_limit;
    apr_time_t last_activity;
    curl_off_t last_moved;  /* bytes up + down at last_activity */
} xfer_ctx;

/* This process's id, kept current across fork() so the hot path needs no
 * getpid() system call. */
static pid_t current_pid;

static void note_fork_child(void)
{
    current_pid = getpid();
}

void zddc_upstream_global_init(void)
{
    static int done;

    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        current_pid = getpid();
        pthread_atfork(NULL, NULL, note_fork_child);
        done = 1;
    }
}

pid_t zddc_up_pid(void)
{
    return current_pid ? current_pid : getpid();
}

static apr_status_t upstream_cleanup(void *data)
{
    zddc_upstream *up = data;
    int i;

    apr_thread_mutex_lock(up->lock);
    if (up->owner_pid == zddc_up_pid()) {
        for (i = 0; i < up->nidle; i++) {
            curl_easy_cleanup(up->idle[i]);
        }
    }
    up->nidle = 0;
    up->closed = 1;
    apr_thread_mutex_unlock(up->lock);
    return APR_SUCCESS;
}

static CURL *handle_take(zddc_upstream *up)
{
    CURL *h = NULL;
    pid_t me = zddc_up_pid();

    apr_thread_mutex_lock(up->lock);
    if (up->owner_pid != me) {
        up->nidle = 0;
        up->owner_pid = me;
    }
    if (up->nidle > 0) {
        h = up->idle[--up->nidle];
    }
    apr_thread_mutex_unlock(up->lock);
    return h ? h : curl_easy_init();
}

/* curl_easy_reset drops this call's options and callback pointers but keeps
 * the handle's live connections, which is what gives us keep-alive. */
static void handle_give(zddc_upstream *up, CURL *h)
{
    curl_easy_reset(h);
    apr_thread_mutex_lock(up->lock);
    if (!up->closed && up->owner_pid == zddc_up_pid()
        && up->nidle < ZDDC_UP_MAX_IDLE) {
        up->idle[up->nidle++] = h;
        h = NULL;
    }
    apr_thread_mutex_unlock(up->lock);
    if (h) {
        curl_easy_cleanup(h);
    }
}

int zddc_up_has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static int is_host_char(int c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

const char *zddc_upstream_check_url(const char *url)
{
    static const char msg[] = "must be an http:// or https:// URL without "
                              "query, fragment or credentials";
    const char *s, *host, *end;
    apr_int64_t port;

    if (!url) {
        return msg;
    }
    if (strncasecmp(url, "http://", 7) == 0) {
        s = url + 7;
    }
    else if (strncasecmp(url, "https://", 8) == 0) {
        s = url + 8;
    }
    else {
        return msg;
    }
    for (end = url; *end; end++) {
        unsigned char c = (unsigned char)*end;
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#' || c == '@'
            || c == '\\') {
            return msg;
        }
    }
    host = s;
    if (*s == '[') {
        char lit[INET6_ADDRSTRLEN];
        struct in6_addr a6;

        s++;
        while (*s && (apr_isxdigit(*s) || *s == ':' || *s == '.')) {
            s++;
        }
        if (*s != ']' || s == host + 1
            || (apr_size_t)(s - host - 1) >= sizeof(lit)) {
            return msg;
        }
        /* The characters alone allow "[:::0]", which no resolver takes. */
        memcpy(lit, host + 1, (apr_size_t)(s - host - 1));
        lit[s - host - 1] = '\0';
        if (inet_pton(AF_INET6, lit, &a6) != 1) {
            return msg;
        }
        s++;
    }
    else {
        while (is_host_char((unsigned char)*s)) {
            s++;
        }
        if (s == host) {
            return msg;
        }
    }
    if (*s == ':') {
        const char *digits = ++s;
        port = 0;
        while (apr_isdigit(*s) && s - digits < 6) {
            port = port * 10 + (*s - '0');
            s++;
        }
        if (s == digits || apr_isdigit(*s) || port < 1 || port > 65535) {
            return msg;
        }
    }
    if (*s != '\0' && *s != '/') {
        return msg;
    }
    return NULL;
}

apr_status_t zddc_upstream_create(zddc_upstream **up_out, const char *base_url,
                                  const char *bearer, const char *ca_file,
                                  apr_interval_time_t timeout, apr_pool_t *p)
{
    zddc_upstream *up;
    apr_size_t n;
    apr_status_t rv;

    if (zddc_upstream_check_url(base_url) || (bearer && zddc_up_has_crlf(bearer))) {
        return APR_EINVAL;
    }
    up = apr_pcalloc(p, sizeof(*up));
    n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/') {
        n--;
    }
    up->base = apr_pstrmemdup(p, base_url, n);
    up->bearer = (bearer && *bearer) ? apr_pstrdup(p, bearer) : NULL;
    up->ca_file = (ca_file && *ca_file) ? apr_pstrdup(p, ca_file) : NULL;
    if (timeout <= 0) {
        timeout = ZDDC_UP_DEFAULT_TIMEOUT;
    }
    up->connect_ms = (long)((timeout + 999) / 1000);
    up->stall = timeout;
    up->stall_sec = (long)((timeout + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
    if (up->stall_sec < 1) {
        up->stall_sec = 1;
    }
    up->owner_pid = zddc_up_pid();
    rv = apr_thread_mutex_create(&up->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(p, up, upstream_cleanup, apr_pool_cleanup_null);
    if (strncasecmp(up->base, "http://", 7) == 0) {
        rv = zddc_up_plain_create(up, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *up_out = up;
    return APR_SUCCESS;
}

const char *zddc_upstream_url(zddc_upstream *up, apr_pool_t *p,
                              const char *path)
{
    if (!path || *path != '/') {
        path = apr_pstrcat(p, "/", path ? path : "", NULL);
    }
    return apr_pstrcat(p, up->base, zddc_path_encode(p, path), NULL);
}

/* Headers the client may not pass on: credentials, hop-by-hop headers,
 * framing the transport computes itself, and those this client sets. */
static int header_is_blocked(const char *name)
{
    static const char *const blocked[] = {
        "Authorization", "Cookie", "Host", "Connection", "Keep-Alive",
        "Transfer-Encoding", "Content-Length", "TE", "Trailer", "Upgrade",
        "If-Modified-Since", "Expect", "User-Agent", NULL
    };
    int i;

    if (strncasecmp(name, "Proxy-", 6) == 0) {
        return 1;
    }
    for (i = 0; blocked[i]; i++) {
        if (strcasecmp(name, blocked[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *zddc_up_query(apr_pool_t *p, const char *q)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;
    char *out, *o;
    apr_size_t odd = 0;

    for (s = (const unsigned char *)q; *s; s++) {
        odd += *s <= 0x20 || *s >= 0x7f;
    }
    if (!odd) {
        return q;
    }
    o = out = apr_palloc(p, strlen(q) + 2 * odd + 1);
    for (s = (const unsigned char *)q; *s; s++) {
        if (*s <= 0x20 || *s >= 0x7f) {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 15];
        }
        else {
            *o++ = (char)*s;
        }
    }
    *o = '\0';
    return out;
}

int zddc_up_header_allowed(const char *key, const char *val)
{
    return key && *key && val && !header_is_blocked(key)
           && !zddc_up_has_crlf(key) && !zddc_up_has_crlf(val)
           && !strchr(key, ':');
}

typedef struct {
    struct curl_slist *list;
    int failed;
    const char *skip_accept;
    apr_pool_t *p;
} hdr_build;

static void hdr_add(hdr_build *hb, const char *line)
{
    struct curl_slist *l;

    if (hb->failed) {
        return;
    }
    l = curl_slist_append(hb->list, line);
    if (!l) {
        hb->failed = 1;
        return;
    }
    hb->list = l;
}

static int hdr_add_extra(void *baton, const char *key, const char *val)
{
    hdr_build *hb = baton;

    if (!zddc_up_header_allowed(key, val)) {
        return 1;
    }
    if (hb->skip_accept && strcasecmp(key, "Accept") == 0) {
        return 1;
    }
    hdr_add(hb, apr_pstrcat(hb->p, key, ": ", val, NULL));
    return 1;
}

static int cc_no_store(void *baton, const char *key, const char *val)
{
    int *found = baton;
    const char *s = val;

    while (s && *s) {
        const char *start, *end;
        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        start = s;
        while (*s && *s != ',' && *s != '=' && *s != ' ' && *s != '\t') {
            s++;
        }
        end = s;
        if (end - start == 8 && strncasecmp(start, "no-store", 8) == 0) {
            *found = 1;
            return 0;
        }
        while (*s && *s != ',') {
            if (*s == '"') {
                s++;
                while (*s && *s != '"') {
                    s += (*s == '\\' && s[1]) ? 2 : 1;
                }
                if (*s) {
                    s++;
                }
            }
            else {
                s++;
            }
        }
    }
    return 1;
}

static apr_off_t parse_length(const char *v)
{
    apr_off_t n = 0;

    if (!v) {
        return -1;
    }
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    if (!apr_isdigit(*v)) {
        return -1;
    }
    while (apr_isdigit(*v)) {
        if (n > (APR_INT64_MAX - 9) / 10) {
            return -1;
        }
        n = n * 10 + (*v - '0');
        v++;
    }
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    return *v ? -1 : n;
}

int zddc_up_headers_complete(zddc_up_xfer *x)
{
    zddc_upstream_resp *resp = x->resp;
    const char *v;
    int no_store = 0;

    x->head_done = 1;
    v = apr_table_get(resp->headers, "Last-Modified");
    resp->last_modified = 0;
    if (v) {
        apr_time_t t = apr_date_parse_http(v);
        resp->last_modified = t == APR_DATE_BAD ? 0 : t;
    }
    /* with Transfer-Encoding the length is the framing's, not this */
    resp->content_length = apr_table_get(resp->headers, "Transfer-Encoding")
                           ? -1 : parse_length(apr_table_get(resp->headers,
                                                             "Content-Length"));
    apr_table_do(cc_no_store, &no_store, resp->headers, "Cache-Control", NULL);
    resp->no_store = no_store;
    if (x->req->on_headers
        && x->req->on_headers(x->req->baton, resp) != APR_SUCCESS) {
        x->aborted = 1;
        return 0;
    }
    return 1;
}

int zddc_up_cancelled(const zddc_up_xfer *x)
{
    return x->req->cancel && *x->req->cancel;
}

int zddc_up_parse_status(const char *line, apr_size_t len)
{
    apr_size_t i = 5;
    int code = 0, digits = 0;

    if (len < 5 || strncmp(line, "HTTP/", 5) != 0) {
        return 0;
    }
    while (i < len && line[i] != ' ') {
        i++;
    }
    while (i < len && line[i] == ' ') {
        i++;
    }
    while (i < len && apr_isdigit(line[i]) && digits < 3) {
        code = code * 10 + (line[i] - '0');
        digits++;
        i++;
    }
    if (digits != 3 || (i < len && line[i] != ' ')) {
        return 0;
    }
    return code;
}

void zddc_up_header_line(zddc_up_xfer *x, const char *data, apr_size_t len)
{
    zddc_upstream_resp *resp = x->resp;
    const char *colon;
    char *name, *val;
    apr_size_t vl;

    if (len == 0) {
        return;
    }
    if (data[0] == ' ' || data[0] == '\t') {
        /* obsolete line folding: continue the previous header's value */
        const apr_array_header_t *arr = apr_table_elts(resp->headers);
        if (arr->nelts > 0) {
            apr_table_entry_t *e = &((apr_table_entry_t *)arr->elts)[arr->nelts - 1];
            apr_size_t s = 0;
            while (s < len && (data[s] == ' ' || data[s] == '\t')) {
                s++;
            }
            e->val = apr_pstrcat(x->p, e->val, " ",
                                 apr_pstrmemdup(x->p, data + s, len - s), NULL);
        }
        return;
    }
    colon = memchr(data, ':', len);
    if (!colon || colon == data) {
        return;
    }
    name = apr_pstrmemdup(x->p, data, colon - data);
    if (strpbrk(name, " \t")) {
        return;     /* "Name : value" is malformed (RFC 9112 5.1): ignored */
    }
    val = apr_pstrmemdup(x->p, colon + 1, len - (colon + 1 - data));
    while (*val == ' ' || *val == '\t') {
        val++;
    }
    vl = strlen(val);
    while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t')) {
        val[--vl] = '\0';
    }
    if (*name) {
        apr_table_add(resp->headers, name, val);
    }
}

static size_t on_header_line(char *data, size_t size, size_t nitems,
                             void *userdata)
{
    xfer_ctx *x = userdata;
    zddc_upstream_resp *resp = x->c.resp;
    size_t total = size * nitems;
    size_t len = total;

    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }
    if (zddc_up_cancelled(&x->c)) {
        x->c.aborted = 1;
        return 0;
    }
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        resp->status = zddc_up_parse_status(data, len);
        apr_table_clear(resp->headers);
        x->c.head_done = 0;
        return total;
    }
    if (len == 0) {
        if (resp->status >= 200 && !x->c.head_done) {
            return zddc_up_headers_complete(&x->c) ? total : 0;
        }
        return total;
    }
    zddc_up_header_line(&x->c, data, len);
    return total;
}

static size_t on_body_data(char *data, size_t size, size_t nmemb,
                           void *userdata)
{
    xfer_ctx *x = userdata;
    size_t len = size * nmemb;
    size_t fail = len ? 0 : 1;

    if (zddc_up_cancelled(&x->c)) {
        x->c.aborted = 1;
        return fail;
    }
    if (!x->c.head_done && x->c.resp->status >= 200
        && !zddc_up_headers_complete(&x->c)) {
        return fail;
    }
    x->c.resp->bytes += (apr_off_t)len;
    if (len && x->c.req->on_body
        && x->c.req->on_body(x->c.req->baton, data, len) != APR_SUCCESS) {
        x->c.aborted = 1;
        return fail;
    }
    return len;
}

static size_t on_read_body(char *buf, size_t size, size_t nitems,
                           void *userdata)
{
    xfer_ctx *x = userdata;
    apr_size_t len = size * nitems;

    if (zddc_up_cancelled(&x->c)
        || x->c.req->read_body(x->c.req->baton, buf, &len) != APR_SUCCESS
        || len > size * nitems) {
        x->c.aborted = 1;
        return CURL_READFUNC_ABORT;
    }
    return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    xfer_ctx *x = userdata;
    curl_off_t moved = dlnow + ulnow;
    apr_time_t now;

    if (zddc_up_cancelled(&x->c)) {
        x->c.aborted = 1;
        return 1;
    }
    /* curl's own low-speed check averages over several seconds, so a burst
     * then silence would outlive ZddcUpstreamTimeout; measure silence. */
    now = apr_time_now();
    if (moved != x->last_moved) {
        x->last_moved = moved;
        x->last_activity = now;
    }
    else if (now - x->last_activity > x->stall_limit) {
        x->stalled = 1;
        return 1;
    }
    return 0;
}

static apr_status_t map_result(CURLcode rc, xfer_ctx *x, int is_head)
{
    zddc_upstream_resp *resp = x->c.resp;

    switch (rc) {
    case CURLE_OK:
        if (resp->status == 0) {
            return ZDDC_UP_ECONNECT;
        }
        if (!x->c.head_done && resp->status >= 200
            && !zddc_up_headers_complete(&x->c)) {
            return ZDDC_UP_EABORT;
        }
        if (!is_head && resp->status != 304 && resp->status != 204
            && resp->content_length >= 0
            && !apr_table_get(resp->headers, "Transfer-Encoding")
            && resp->bytes < resp->content_length) {
            return ZDDC_UP_EBROKEN;
        }
        return APR_SUCCESS;
    case CURLE_OUT_OF_MEMORY:
        return APR_ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK:
        if (x->stalled) {
            return resp->status ? ZDDC_UP_ETIMEOUT : ZDDC_UP_ECONNECT;
        }
        return ZDDC_UP_EABORT;
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
        return ZDDC_UP_EABORT;
    case CURLE_OPERATION_TIMEDOUT:
        if (x->c.aborted) {
            return ZDDC_UP_EABORT;
        }
        return resp->status ? ZDDC_UP_ETIMEOUT : ZDDC_UP_ECONNECT;
    default:
        if (x->c.aborted) {
            return ZDDC_UP_EABORT;
        }
        return resp->status ? ZDDC_UP_EBROKEN : ZDDC_UP_ECONNECT;
    }
}

static apr_status_t upstream_perform(zddc_upstream *up, zddc_upstream_req *req,
                                     zddc_upstream_resp *resp, apr_pool_t *p)
{
    const char *method = req->method ? req->method : "GET";
    const char *path = req->path ? req->path : "/";
    const char *url;
    int is_head = strcmp(method, "HEAD") == 0;
    hdr_build hb = { NULL, 0, NULL, p };
    xfer_ctx x = { { req, resp, p, 0, 0 }, 0, up->stall, apr_time_now(), 0 };
    char errbuf[CURL_ERROR_SIZE];
    CURL *h;
    CURLcode rc;
    apr_status_t rv;

    resp->status = 0;
    resp->detail = NULL;
    resp->headers = apr_table_make(p, 16);
    resp->last_modified = 0;
    resp->content_length = -1;
    resp->no_store = 0;
    resp->bytes = 0;

    if (req->cancel && *req->cancel) {
        return ZDDC_UP_EABORT;
    }
    url = zddc_upstream_url(up, p, path);
    if (req->query && *req->query) {
        url = apr_pstrcat(p, url, "?", zddc_up_query(p, req->query), NULL);
    }
    if (zddc_up_has_crlf(url) || zddc_up_has_crlf(method)) {
        return APR_EINVAL;
    }
    /* libcurl's easy interface costs more per request than a whole proxied
     * request through mod_proxy_http (bench/PROFILE.md), so the requests
     * that dominate (conditional GETs, listings) take the plain transport. */
    if (up->plain && !req->read_body
        && (is_head || strcmp(method, "GET") == 0)) {
        return zddc_up_plain_perform(up, &x.c, method);
    }

    if (up->bearer) {
        hdr_add(&hb, apr_pstrcat(p, "Authorization: Bearer ", up->bearer, NULL));
    }
    if (req->accept && *req->accept && !zddc_up_has_crlf(req->accept)) {
        hdr_add(&hb, apr_pstrcat(p, "Accept: ", req->accept, NULL));
        hb.skip_accept = "Accept";
    }
    if (req->if_modified_since) {
        char date[APR_RFC822_DATE_LEN];
        apr_rfc822_date(date, req->if_modified_since);
        hdr_add(&hb, apr_pstrcat(p, "If-Modified-Since: ", date, NULL));
    }
    if (req->headers) {
        apr_table_do(hdr_add_extra, &hb, req->headers, NULL);
    }
    hdr_add(&hb, "Expect:");
    if (hb.failed) {
        curl_slist_free_all(hb.list);
        return APR_ENOMEM;
    }

    h = handle_take(up);
    if (!h) {
        curl_slist_free_all(hb.list);
        return APR_ENOMEM;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* the upstream is configured explicitly; environment proxies do not apply */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, up->connect_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, up->stall_sec);
    /* Bigger reads mean fewer trips through the pipeline's write-to-cache
     * and pass-to-client path on large files (benchmark P3). */
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, ZDDC_UP_BUFFER_SIZE);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (up->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, up->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, ZDDC_UP_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hb.list);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header_line);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);

    if (is_head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    else if (strcmp(method, "GET") != 0 || req->read_body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (req->read_body && !is_head) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_body);
        curl_easy_setopt(h, CURLOPT_READDATA, &x);
        if (req->body_length >= 0) {
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                             (curl_off_t)req->body_length);
        }
    }

    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    rc = curl_easy_perform(h);
    rv = map_result(rc, &x, is_head);
    if (rc != CURLE_OK) {
        resp->detail = apr_pstrdup(p, errbuf[0] ? errbuf
                                                : curl_easy_strerror(rc));
    }
    handle_give(up, h);
    curl_slist_free_all(hb.list);
    return rv;
}

void zddc_upstream_observe(zddc_upstream *up, zddc_upstream_observer_fn *fn,
                           void *baton)
{
    up->observer = fn;
    up->observer_baton = baton;
}

apr_status_t zddc_upstream_perform(zddc_upstream *up, zddc_upstream_req *req,
                                   zddc_upstream_resp *resp, apr_pool_t *p)
{
    apr_status_t rv = upstream_perform(up, req, resp, p);

    if (up->observer) {
        up->observer(up->observer_baton, rv, resp->status);
    }
    return rv;
}

typedef struct {
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t max;
    int too_big;
    apr_pool_t *p;
} get_buf;

static apr_status_t get_grow(get_buf *g, apr_size_t need)
{
    apr_size_t cap = g->cap ? g->cap : 4096;
    char *nb;

    while (cap < need) {
        cap = cap > APR_SIZE_MAX / 2 ? need : cap * 2;
    }
    nb = apr_palloc(g->p, cap);
    if (g->len) {
        memcpy(nb, g->buf, g->len);
    }
    g->buf = nb;
    g->cap = cap;
    return APR_SUCCESS;
}

static apr_status_t get_on_headers(void *baton, const zddc_upstream_resp *resp)
{
    get_buf *g = baton;

    if (resp->status == 304 || resp->status == 204) {
        return APR_SUCCESS;
    }
    if (resp->content_length > (apr_off_t)g->max) {
        g->too_big = 1;
        return ZDDC_UP_ETOOBIG;
    }
    if (resp->content_length > 0) {
        return get_grow(g, (apr_size_t)resp->content_length + 1);
    }
    return APR_SUCCESS;
}

static apr_status_t get_on_body(void *baton, const char *data, apr_size_t len)
{
    get_buf *g = baton;

    if (len > g->max - g->len) {
        g->too_big = 1;
        return ZDDC_UP_ETOOBIG;
    }
    if (g->len + len + 1 > g->cap) {
        get_grow(g, g->len + len + 1);
    }
    memcpy(g->buf + g->len, data, len);
    g->len += len;
    return APR_SUCCESS;
}

apr_status_t zddc_upstream_get(zddc_upstream *up, const char *path,
                               const char *accept, apr_time_t ims,
                               apr_size_t max, volatile apr_uint32_t *cancel,
                               zddc_upstream_resp *resp, char **body,
                               apr_size_t *len, apr_pool_t *p)
{
    zddc_upstream_req req;
    get_buf g;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    memset(&g, 0, sizeof(g));
    g.max = max;
    g.p = p;
    req.path = path;
    req.accept = accept;
    req.if_modified_since = ims;
    req.body_length = -1;
    req.on_headers = get_on_headers;
    req.on_body = get_on_body;
    req.baton = &g;
    req.cancel = cancel;

    *body = NULL;
    *len = 0;
    rv = zddc_upstream_perform(up, &req, resp, p);
    if (g.too_big) {
        return ZDDC_UP_ETOOBIG;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!g.buf) {
        get_grow(&g, 1);
    }
    g.buf[g.len] = '\0';
    *body = g.buf;
    *len = g.len;
    return APR_SUCCESS;
}

const char *zddc_upstream_strerror(apr_status_t rv, apr_pool_t *p)
{
    char buf[256];

    switch (rv) {
    case ZDDC_UP_ECONNECT:
        return "connection failed";
    case ZDDC_UP_ETIMEOUT:
        return "transfer stalled";
    case ZDDC_UP_EBROKEN:
        return "transfer broken";
    case ZDDC_UP_EABORT:
        return "aborted";
    case ZDDC_UP_ETOOBIG:
        return "response too large";
    default:
        return apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
    }
}

const char *zddc_upstream_describe(apr_status_t rv,
                                   const zddc_upstream_resp *resp,
                                   apr_pool_t *p)
{
    const char *what = zddc_upstream_strerror(rv, p);

    if (resp && resp->detail && *resp->detail) {
        return apr_pstrcat(p, what, ": ", resp->detail, NULL);
    }
    return what;
}
