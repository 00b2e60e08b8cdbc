/* Live forwarding of what the cache never stores (SPEC §5): requests with a
 * query string and methods other than GET/HEAD, answered as BYPASS. */
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_core.h>
#include <apr_strings.h>
#include "zddc_forward.h"
#include "zddc_respond.h"
#include "zddc_util.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

typedef struct {
    request_rec *r;
    zddc_server_conf *conf;
    zddc_stream out;
    int status;
    int relayed;        /* the answer is being relayed to the client */
} zddc_live;

/* Request headers worth passing on; credentials and hop-by-hop never. */
static const char *const forwarded_headers[] = {
    "Content-Type", "Accept-Language", "If-Match", "If-None-Match",
    "If-Unmodified-Since", "Range", "If-Range", "Destination",
    "Overwrite", "Depth", NULL
};

/* Response headers a forwarded answer's status needs (SPEC §5), beside the
 * ones every relayed answer gets; WWW-Authenticate never: the master's
 * challenge is for the mirror's token, not for the local user. */
static const char *const relayed_headers[] = {
    "Content-Range", "Accept-Ranges", "Allow", "Vary", NULL
};

static apr_status_t live_read(void *baton, char *buf, apr_size_t *len)
{
    zddc_live *lv = baton;
    long n = ap_get_client_block(lv->r, buf, *len);

    if (n < 0) {
        *len = 0;
        return APR_EGENERAL;
    }
    *len = (apr_size_t)n;
    return APR_SUCCESS;
}

static void forget_local(request_rec *r, zddc_server_conf *conf);

/* Methods that change the master's tree; OPTIONS, PROPFIND, REPORT and the
 * like only read it and must not cost the mirror its copy. */
static int is_write(request_rec *r)
{
    switch (r->method_number) {
    case M_PUT: case M_POST: case M_DELETE: case M_PATCH: case M_MOVE:
    case M_COPY: case M_MKCOL: case M_PROPPATCH:
        return 1;
    default:
        return 0;
    }
}

static apr_status_t live_headers(void *baton, const zddc_upstream_resp *resp)
{
    zddc_live *lv = baton;
    request_rec *r = lv->r;
    int i;

    lv->status = resp->status;
    /* The upstream has done the write: drop the local copy before the
     * client can see the answer and read the old state back. */
    if (ap_is_HTTP_SUCCESS(resp->status) && is_write(r)) {
        forget_local(r, lv->conf);
    }
    if (resp->status == HTTP_UNAUTHORIZED || ap_is_HTTP_REDIRECT(resp->status)) {
        return APR_SUCCESS;     /* answered by the handler after the transfer */
    }
    lv->relayed = 1;
    r->status = resp->status;
    zddc_respond_copy_headers(r, resp->headers, resp->content_length);
    for (i = 0; relayed_headers[i]; i++) {
        const char *v = apr_table_get(resp->headers, relayed_headers[i]);
        if (v) {
            apr_table_setn(r->headers_out, relayed_headers[i], v);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t live_body(void *baton, const char *data, apr_size_t len)
{
    zddc_live *lv = baton;

    if (!lv->relayed) {
        return APR_SUCCESS;
    }
    return zddc_stream_write(&lv->out, data, len);
}

static void forget_local(request_rec *r, zddc_server_conf *conf)
{
    const zddc_store_provider *sp = conf->store_provider;
    apr_size_t n = strlen(r->uri);
    const char *parent = zddc_url_parent(r->pool, r->uri);

    if (n > 1 && r->uri[n - 1] == '/') {
        sp->drop_listing(conf->store, r->uri, r->pool);
    }
    else {
        sp->purge(conf->store, r->uri, NULL, r->pool);
    }
    if (parent) {
        sp->drop_listing(conf->store, parent, r->pool);
    }
}

int zddc_forward(request_rec *r, zddc_server_conf *conf)
{
    zddc_upstream_req req = { 0 };
    zddc_upstream_resp resp = { 0 };
    zddc_live lv = { 0 };
    apr_table_t *headers = apr_table_make(r->pool, 8);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_status_t rv;
    int i, rc;

    zddc_respond_verdict(r, ZDDC_BYPASS);
    for (i = 0; forwarded_headers[i]; i++) {
        const char *v = apr_table_get(r->headers_in, forwarded_headers[i]);
        if (v) {
            apr_table_setn(headers, forwarded_headers[i], v);
        }
    }
    lv.r = r;
    lv.conf = conf;
    zddc_stream_init(&lv.out, r);

    req.method = r->method;
    req.path = r->uri;
    req.query = r->args;
    req.accept = apr_table_get(r->headers_in, "Accept");
    req.headers = headers;
    req.body_length = -1;
    req.on_headers = live_headers;
    req.on_body = live_body;
    req.baton = &lv;
    if (r->method_number != M_GET) {
        rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
        if (rc != OK) {
            return rc;
        }
        if (ap_should_client_block(r)) {
            req.read_body = live_read;
            req.body_length = cl ? apr_atoi64(cl) : -1;
        }
    }
    rv = zddc_upstream_perform(conf->up, &req, &resp, r->pool);

    if (rv != APR_SUCCESS) {
        if (lv.out.sent > 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          ZDDC_LOGNO(01010) "forwarded %s %s broke: %s", r->method, r->uri,
                          zddc_upstream_describe(rv, &resp, r->pool));
            return zddc_stream_abort(&lv.out);
        }
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      ZDDC_LOGNO(01011) "forwarding %s %s failed: %s", r->method, r->uri,
                      zddc_upstream_describe(rv, &resp, r->pool));
        r->status = HTTP_OK;
        return resp.status == 0 ? HTTP_GATEWAY_TIME_OUT : HTTP_BAD_GATEWAY;
    }
    if (lv.status == HTTP_UNAUTHORIZED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      ZDDC_LOGNO(01012) "upstream %s answered 401 for %s %s: the mirror's "
                      "bearer token is missing or rejected", conf->upstream,
                      r->method, r->uri);
        return HTTP_BAD_GATEWAY;
    }
    if (ap_is_HTTP_REDIRECT(lv.status)) {
        const char *loc = apr_table_get(resp.headers, "Location");
        const char *local = loc ? zddc_respond_local_location(r, conf, loc)
                                : NULL;
        if (local) {
            apr_table_setn(r->headers_out, "Location", local);
        }
        return lv.status;
    }
    return zddc_stream_finish(&lv.out);
}

static void allow_methods(request_rec *r, zddc_server_conf *conf)
{
    ap_allow_methods(r, 1, "GET", "HEAD", "OPTIONS", NULL);
    if (conf->forward_writes) {
        ap_allow_methods(r, 0, "POST", "PUT", "DELETE", "PATCH", NULL);
    }
}

int zddc_forward_or_refuse(request_rec *r, zddc_server_conf *conf)
{
    if (r->method_number == M_GET) {
        return zddc_forward(r, conf);
    }
    allow_methods(r, conf);
    if (r->method_number == M_OPTIONS) {
        return ap_send_http_options(r);
    }
    if (r->method_number == M_TRACE || !conf->forward_writes) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      ZDDC_LOGNO(01013) "%s %s refused: the mirror forwards no writes "
                      "(ZddcForwardWrites Off)", r->method, r->uri);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    return zddc_forward(r, conf);
}
