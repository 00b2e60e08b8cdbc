/* The upstream client's policy (mod_md's md_http to our transport's
 * md_curl): URLs, request headers, reading and bounding the answer. */
#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_date.h>
#include <apr_atomic.h>
#include <apr_file_io.h>

#include "zddc_upstream_int.h"
#include "zddc_util.h"

#define ZDDC_UP_DEFAULT_TIMEOUT apr_time_from_sec(30)

void zddc_upstream_global_init(void)
{
    zddc_up_tr_global_init();
}

static int has_crlf(const char *s)
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

    if (zddc_upstream_check_url(base_url) || (bearer && has_crlf(bearer))) {
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
    up->timeout = timeout > 0 ? timeout : ZDDC_UP_DEFAULT_TIMEOUT;
    rv = zddc_up_tr_create(up, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *up_out = up;
    return APR_SUCCESS;
}

apr_status_t zddc_upstream_set_proxy(zddc_upstream *up, const char *proxy,
                                     const char *userpwd)
{
    if (proxy && strcasecmp(proxy, "none") != 0
        && (has_crlf(proxy) || !*proxy)) {
        return APR_EINVAL;
    }
    if (userpwd && (has_crlf(userpwd) || !strchr(userpwd, ':'))) {
        return APR_EINVAL;
    }
    up->proxy = !proxy ? NULL : strcasecmp(proxy, "none") == 0 ? ""
                : proxy;
    up->proxy_auth = userpwd;
    return APR_SUCCESS;
}

static apr_status_t read_pem(const char *path, const char **data,
                             apr_size_t *len, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_status_t rv;

    *data = NULL;
    *len = 0;
    if (!path || !*path) {
        return APR_SUCCESS;
    }
    rv = apr_file_open(&f, path, APR_READ | APR_BINARY, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && (fi.size <= 0 || fi.size > 1024 * 1024)) {
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS) {
        buf = apr_palloc(p, (apr_size_t)fi.size + 1);
        rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, len);
        buf[*len] = '\0';
        *data = buf;
    }
    apr_file_close(f);
    return rv;
}

apr_status_t zddc_upstream_set_client_cert(zddc_upstream *up,
                                           const char *cert, const char *key,
                                           apr_pool_t *p)
{
    apr_status_t rv = read_pem(cert, &up->client_cert, &up->client_cert_len,
                               p);

    if (rv == APR_SUCCESS) {
        rv = read_pem(key, &up->client_key, &up->client_key_len, p);
    }
    return rv;
}

const char *zddc_upstream_check_proxy(const char *url)
{
    static const char *const schemes[] = {
        "http://", "https://", "socks4://", "socks4a://", "socks5://",
        "socks5h://", NULL
    };
    const char *s = NULL, *c;
    int i;

    for (i = 0; schemes[i] && !s; i++) {
        if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0) {
            s = url + strlen(schemes[i]);
        }
    }
    if (!s) {
        return "must be 'none' or an http://, https:// or socks URL";
    }
    for (c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            return "must not contain spaces or control characters";
        }
    }
    if (strchr(s, '@')) {
        return "credentials belong in ZddcUpstreamProxyAuthFile, not the URL "
               "(mod_info would show them)";
    }
    if (!*s || *s == '/' || *s == ':') {
        return "has no host";
    }
    return NULL;
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

static const char *query_encode(apr_pool_t *p, const char *q)
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

static int header_allowed(const char *key, const char *val)
{
    return key && *key && val && !header_is_blocked(key)
           && !has_crlf(key) && !has_crlf(val)
           && !strchr(key, ':');
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

static int parse_status(const char *line, apr_size_t len)
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


/* ---- reading the answer ------------------------------------------------ */

int zddc_up_cancelled(const zddc_up_xfer *x)
{
    return x->req->cancel && apr_atomic_read32(x->req->cancel) != 0;
}

static int xfer_broken(zddc_up_xfer *x, const char *why)
{
    x->broken = why;
    return 0;
}

/* Content-Length as a transfer's framing: every value (repeated headers,
 * comma lists) must be the same number, else the answer is refused. */
typedef struct {
    apr_off_t n;
    int seen;
    int bad;
} cl_scan;

static int cl_value(void *baton, const char *key, const char *val)
{
    cl_scan *c = baton;

    while (val && *val) {
        const char *end = strchr(val, ',');
        apr_size_t len = end ? (apr_size_t)(end - val) : strlen(val);
        char buf[32];
        apr_off_t n;

        if (len >= sizeof(buf)) {
            c->bad = 1;
            return 0;
        }
        memcpy(buf, val, len);
        buf[len] = '\0';
        n = parse_length(buf);
        if (n < 0 || (c->seen && n != c->n)) {
            c->bad = 1;
            return 0;
        }
        c->n = n;
        c->seen = 1;
        val = end ? end + 1 : NULL;
    }
    return 1;
}

/* The only transfer coding we accept is a single "chunked": anything else
 * (unknown codings, lists, repeats) would leave the body framed in a way
 * the transport may not undo, and be stored with that framing. */
static int te_value(void *baton, const char *key, const char *val)
{
    int *count = baton;

    (*count)++;
    if (*count > 1 || strcasecmp(val, "chunked") != 0) {
        *count = -1000;
        return 0;
    }
    return 1;
}

static int headers_complete(zddc_up_xfer *x)
{
    zddc_upstream_resp *resp = x->resp;
    cl_scan cl = { 0, 0, 0 };
    const char *v;
    int no_store = 0, te = 0;

    x->head_done = 1;
    v = apr_table_get(resp->headers, "Last-Modified");
    resp->last_modified = 0;
    if (v) {
        apr_time_t t = apr_date_parse_http(v);
        resp->last_modified = t == APR_DATE_BAD ? 0 : t;
    }
    apr_table_do(te_value, &te, resp->headers, "Transfer-Encoding", NULL);
    if (te < 0) {
        return xfer_broken(x, "unsupported Transfer-Encoding in the answer");
    }
    apr_table_do(cl_value, &cl, resp->headers, "Content-Length", NULL);
    if (cl.bad && !te) {
        return xfer_broken(x, "invalid or conflicting Content-Length in "
                           "the answer");
    }
    /* with Transfer-Encoding the length is the framing's, not this */
    resp->content_length = (te || !cl.seen) ? -1 : cl.n;
    apr_table_do(cc_no_store, &no_store, resp->headers, "Cache-Control", NULL);
    resp->no_store = no_store;
    if (x->req->on_headers
        && x->req->on_headers(x->req->baton, resp) != APR_SUCCESS) {
        x->aborted = 1;
        return 0;
    }
    return 1;
}

static int is_framing(const char *name)
{
    return name && (strcasecmp(name, "Transfer-Encoding") == 0
                    || strcasecmp(name, "Content-Length") == 0);
}

/* Add one response header line (no CR/LF) to resp->headers, folding
 * obsolete continuation lines into the previous value; a folded framing
 * header is refused (the transport would read it unfolded). */
static int header_line(zddc_up_xfer *x, const char *data, apr_size_t len)
{
    zddc_upstream_resp *resp = x->resp;
    const char *colon;
    char *name, *val;
    apr_size_t vl;

    if (data[0] == ' ' || data[0] == '\t') {
        const apr_array_header_t *arr = apr_table_elts(resp->headers);
        if (is_framing(x->last_name)) {
            return xfer_broken(x, "folded framing header in the answer");
        }
        if (arr->nelts > 0) {
            apr_table_entry_t *e = &((apr_table_entry_t *)arr->elts)[arr->nelts - 1];
            apr_size_t s = 0;
            while (s < len && (data[s] == ' ' || data[s] == '\t')) {
                s++;
            }
            e->val = apr_pstrcat(x->p, e->val, " ",
                                 apr_pstrmemdup(x->p, data + s, len - s), NULL);
        }
        return 1;
    }
    x->last_name = NULL;
    colon = memchr(data, ':', len);
    if (!colon || colon == data) {
        return 1;
    }
    name = apr_pstrmemdup(x->p, data, colon - data);
    if (strpbrk(name, " \t")) {
        /* "Name : value" is malformed (RFC 9112 5.1); on a framing header
         * it is a request-smuggling classic */
        if (strncasecmp(name, "Transfer-Encoding", 17) == 0
            || strncasecmp(name, "Content-Length", 14) == 0) {
            return xfer_broken(x, "malformed framing header in the answer");
        }
        return 1;
    }
    val = apr_pstrmemdup(x->p, colon + 1, len - (colon + 1 - data));
    while (*val == ' ' || *val == '\t') {
        val++;
    }
    vl = strlen(val);
    while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t')) {
        val[--vl] = '\0';
    }
    apr_table_add(resp->headers, name, val);
    x->last_name = name;
    return 1;
}

int zddc_up_head_line(zddc_up_xfer *x, const char *data, apr_size_t total)
{
    zddc_upstream_resp *resp = x->resp;
    apr_size_t len = total;

    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }
    if (zddc_up_cancelled(x)) {
        x->aborted = 1;
        return 0;
    }
    if (x->head_done) {
        /* trailers of a chunked body: bounded, then ignored */
        x->trailer_bytes += total;
        if (x->trailer_bytes > ZDDC_UP_MAX_TRAILER) {
            return xfer_broken(x, "endless trailers in the answer");
        }
        return 1;
    }
    x->head_bytes += total;
    if (x->head_bytes > ZDDC_UP_MAX_HEAD) {
        return xfer_broken(x, "response head over 64 KiB");
    }
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        if (resp->status >= 100 && resp->status < 200
            && ++x->interim > ZDDC_UP_MAX_INTERIM) {
            return xfer_broken(x, "too many interim (1xx) responses");
        }
        resp->status = parse_status(data, len);
        if (resp->status == 0) {
            return xfer_broken(x, "malformed status line");
        }
        apr_table_clear(resp->headers);
        x->last_name = NULL;
        return 1;
    }
    if (len == 0) {
        if (resp->status >= 200) {
            return headers_complete(x);
        }
        x->head_bytes = 0;      /* the next interim or final head */
        return 1;
    }
    return header_line(x, data, len);
}

int zddc_up_body(zddc_up_xfer *x, const char *data, apr_size_t len)
{
    if (zddc_up_cancelled(x)) {
        x->aborted = 1;
        return 0;
    }
    if (!x->head_done && !(x->resp->status >= 200 && headers_complete(x))) {
        return x->broken || x->aborted ? 0
               : xfer_broken(x, "body before the response head");
    }
    x->resp->bytes += (apr_off_t)len;
    if (len && x->req->on_body
        && x->req->on_body(x->req->baton, data, len) != APR_SUCCESS) {
        x->aborted = 1;
        return 0;
    }
    return 1;
}

int zddc_up_read(zddc_up_xfer *x, char *buf, apr_size_t *len)
{
    apr_size_t room = *len;

    if (zddc_up_cancelled(x)
        || x->req->read_body(x->req->baton, buf, len) != APR_SUCCESS
        || *len > room) {
        x->aborted = 1;
        return 0;
    }
    return 1;
}

apr_status_t zddc_up_finish(zddc_up_xfer *x, apr_status_t rv)
{
    zddc_upstream_resp *resp = x->resp;

    if (x->broken) {
        resp->detail = x->broken;   /* ours, not libcurl's "write error" */
        return x->aborted ? ZDDC_UP_EABORT : ZDDC_UP_EBROKEN;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (resp->status == 0) {
        return ZDDC_UP_ECONNECT;
    }
    if (!x->head_done && (resp->status < 200 || !headers_complete(x))) {
        if (x->broken) {
            resp->detail = x->broken;
            return ZDDC_UP_EBROKEN;
        }
        return x->aborted ? ZDDC_UP_EABORT : ZDDC_UP_EBROKEN;
    }
    if (!x->is_head && resp->status != 304 && resp->status != 204
        && resp->content_length >= 0 && resp->bytes < resp->content_length) {
        return ZDDC_UP_EBROKEN;
    }
    return APR_SUCCESS;
}

/* ---- asking ------------------------------------------------------------ */

static int add_extra(void *baton, const char *key, const char *val)
{
    zddc_up_wire *w = baton;

    if (!header_allowed(key, val)) {
        return 1;
    }
    if (strcasecmp(key, "Accept") == 0) {
        int i;
        for (i = 0; i < w->lines->nelts; i++) {
            if (strncasecmp(APR_ARRAY_IDX(w->lines, i, const char *),
                            "Accept:", 7) == 0) {
                return 1;       /* the caller's own Accept wins */
            }
        }
    }
    APR_ARRAY_PUSH(w->lines, const char *) =
        apr_pstrcat(w->lines->pool, key, ": ", val, NULL);
    return 1;
}

/* req on the wire (w) and its transfer's bookkeeping (x); anything but
 * APR_SUCCESS: it is not sent. */
static apr_status_t upstream_ask(zddc_upstream *up, zddc_upstream_req *req,
                                 zddc_upstream_resp *resp, zddc_up_wire *w,
                                 zddc_up_xfer *x, apr_pool_t *p)
{
    const char *path = req->path ? req->path : "/";
    resp->status = 0;
    resp->detail = NULL;
    resp->headers = apr_table_make(p, 16);
    resp->last_modified = 0;
    resp->content_length = -1;
    resp->no_store = 0;
    resp->bytes = 0;

    memset(x, 0, sizeof(*x));
    x->req = req;
    x->resp = resp;
    x->p = p;
    if (zddc_up_cancelled(x)) {
        return ZDDC_UP_EABORT;
    }
    w->method = req->method ? req->method : "GET";
    w->is_head = strcmp(w->method, "HEAD") == 0;
    x->is_head = w->is_head;
    w->url = zddc_upstream_url(up, p, path);
    if (req->query && *req->query) {
        w->url = apr_pstrcat(p, w->url, "?", query_encode(p, req->query), NULL);
    }
    if (has_crlf(w->url) || has_crlf(w->method)) {
        return APR_EINVAL;
    }
    w->lines = apr_array_make(p, 8, sizeof(const char *));
    if (up->bearer) {
        APR_ARRAY_PUSH(w->lines, const char *) =
            apr_pstrcat(p, "Authorization: Bearer ", up->bearer, NULL);
    }
    if (req->accept && *req->accept && !has_crlf(req->accept)) {
        APR_ARRAY_PUSH(w->lines, const char *) =
            apr_pstrcat(p, "Accept: ", req->accept, NULL);
    }
    if (req->if_modified_since) {
        char date[APR_RFC822_DATE_LEN];
        apr_rfc822_date(date, req->if_modified_since);
        APR_ARRAY_PUSH(w->lines, const char *) =
            apr_pstrcat(p, "If-Modified-Since: ", date, NULL);
    }
    if (req->headers) {
        apr_table_do(add_extra, w, req->headers, NULL);
    }
    return APR_SUCCESS;
}

void zddc_upstream_observe(zddc_upstream *up, zddc_upstream_observer_fn *fn,
                           void *baton)
{
    up->observer = fn;
    up->observer_baton = baton;
}

typedef struct {
    zddc_upstream *up;
    zddc_up_xfer *x;
    zddc_upstream_resp **resps;
    apr_status_t *rvs;
    const int *sent;
    zddc_upstream_done_fn *done;
    void *baton;
} upstream_all;

static void upstream_report(upstream_all *a, int i, apr_status_t rv)
{
    a->rvs[i] = rv;
    if (a->up->observer) {
        a->up->observer(a->up->observer_baton, rv, a->resps[i]->status);
    }
    if (a->done) {
        a->done(a->baton, i, rv);
    }
}

static void upstream_ended(void *baton, int k, apr_status_t trv)
{
    upstream_all *a = baton;
    int i = a->sent[k];

    upstream_report(a, i, zddc_up_finish(&a->x[i], trv));
}

void zddc_upstream_perform_all(zddc_upstream *up, zddc_upstream_req **reqs,
                               zddc_upstream_resp **resps, apr_status_t *rvs,
                               int n, zddc_upstream_done_fn *done,
                               void *baton, apr_pool_t *p)
{
    zddc_up_wire w[ZDDC_UPSTREAM_ALL_MAX];
    zddc_up_xfer x[ZDDC_UPSTREAM_ALL_MAX];
    const zddc_up_wire *wl[ZDDC_UPSTREAM_ALL_MAX];
    zddc_up_xfer *xl[ZDDC_UPSTREAM_ALL_MAX];
    int sent[ZDDC_UPSTREAM_ALL_MAX];
    upstream_all a = { up, x, resps, rvs, sent, done, baton };
    int i, m = 0;

    for (i = 0; i < n && i < ZDDC_UPSTREAM_ALL_MAX; i++) {
        apr_status_t rv = upstream_ask(up, reqs[i], resps[i], &w[i], &x[i],
                                       reqs[i]->pool ? reqs[i]->pool : p);

        if (rv == APR_SUCCESS) {
            wl[m] = &w[i];
            xl[m] = &x[i];
            sent[m++] = i;
        }
        else {
            upstream_report(&a, i, rv);
        }
    }
    for (; i < n; i++) {
        resps[i]->status = 0;
        upstream_report(&a, i, APR_EINVAL);
    }
    if (m > 0) {
        zddc_up_tr_perform_all(up, reqs[sent[0]]->session, wl, xl, m,
                               upstream_ended, &a, p);
    }
}

apr_status_t zddc_upstream_perform(zddc_upstream *up, zddc_upstream_req *req,
                                   zddc_upstream_resp *resp, apr_pool_t *p)
{
    apr_status_t rv;

    zddc_upstream_perform_all(up, &req, &resp, &rv, 1, NULL, NULL, p);
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

apr_status_t zddc_upstream_get_req(zddc_upstream *up, zddc_upstream_req *req,
                                   apr_size_t max, zddc_upstream_resp *resp,
                                   char **body, apr_size_t *len, apr_pool_t *p)
{
    get_buf g;
    apr_status_t rv;

    memset(&g, 0, sizeof(g));
    g.max = max;
    g.p = p;
    req->body_length = -1;
    req->on_headers = get_on_headers;
    req->on_body = get_on_body;
    req->baton = &g;

    *body = NULL;
    *len = 0;
    rv = zddc_upstream_perform(up, req, resp, p);
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

apr_status_t zddc_upstream_get_via(zddc_upstream *up,
                                   zddc_upstream_session *sess,
                                   const char *path, const char *accept,
                                   apr_time_t ims, apr_size_t max,
                                   volatile apr_uint32_t *cancel,
                                   zddc_upstream_resp *resp, char **body,
                                   apr_size_t *len, apr_pool_t *p)
{
    zddc_upstream_req req;

    memset(&req, 0, sizeof(req));
    req.path = path;
    req.accept = accept;
    req.if_modified_since = ims;
    req.cancel = cancel;
    req.session = sess;
    return zddc_upstream_get_req(up, &req, max, resp, body, len, p);
}

apr_status_t zddc_upstream_get(zddc_upstream *up, const char *path,
                               const char *accept, apr_time_t ims,
                               apr_size_t max, volatile apr_uint32_t *cancel,
                               zddc_upstream_resp *resp, char **body,
                               apr_size_t *len, apr_pool_t *p)
{
    return zddc_upstream_get_via(up, NULL, path, accept, ims, max, cancel,
                                 resp, body, len, p);
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
