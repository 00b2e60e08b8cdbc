/* The status page's two buttons (SPEC §7): POST action=walk (now, ignoring
 * the interval) and action=purge (the local copy only), same-origin only. */
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_network_io.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "zddc_status_int.h"
#include "zddc_json.h"
#include "zddc_util.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

/* Form fields: a few, short. */
#define ACTION_MAX_FIELDS 8
#define ACTION_MAX_BYTES  8192

typedef struct {
    request_rec *r;
    zddc_server_conf *conf;
    const char *action;         /* "walk", "purge" or what was sent */
    const char *target;         /* the subtree or path, as decoded */
    int json;                   /* the client asked for JSON */
} action_ctx;

/* host and port of a URL or of a Host header value (port 0: the scheme's
 * default, resolved by the caller). */
static int split_host_port(apr_pool_t *p, const char *hostport, char **host,
                           apr_port_t *port)
{
    char *scope = NULL;

    *host = NULL;
    *port = 0;
    return apr_parse_addr_port(host, &scope, port, hostport, p)
           == APR_SUCCESS && *host && !scope;
}

/* The request carries an Origin (or, without one, a Referer) naming the
 * host and port it was sent to: a form on another site cannot act here. */
static int same_origin(request_rec *r)
{
    const char *host_hdr = apr_table_get(r->headers_in, "Host");
    const char *src = apr_table_get(r->headers_in, "Origin");
    apr_port_t defport = apr_uri_port_of_scheme(ap_http_scheme(r));
    apr_uri_t uri;
    char *host;
    apr_port_t port, src_port;

    if (!src || !*src) {
        src = apr_table_get(r->headers_in, "Referer");
    }
    if (!host_hdr || !src || !*src
        || !split_host_port(r->pool, host_hdr, &host, &port)) {
        return 0;
    }
    if (apr_uri_parse(r->pool, src, &uri) != APR_SUCCESS || !uri.scheme
        || !uri.hostname || !*uri.hostname) {
        return 0;
    }
    src_port = uri.port_str && *uri.port_str ? uri.port
               : apr_uri_port_of_scheme(uri.scheme);
    return strcasecmp(uri.hostname, host) == 0
           && src_port == (port ? port : defport);
}

/* The form's fields into a table (values decoded, at most one each). */
static int read_form(request_rec *r, apr_table_t **fields)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_array_header_t *pairs = NULL;
    int i, rc;

    *fields = apr_table_make(r->pool, 4);
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)
        || (ct[33] && ct[33] != ';' && ct[33] != ' ')) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    rc = ap_parse_form_data(r, NULL, &pairs, ACTION_MAX_FIELDS,
                            ACTION_MAX_BYTES);
    if (rc != OK) {
        return rc;
    }
    for (i = 0; pairs && i < pairs->nelts; i++) {
        ap_form_pair_t *pair = &APR_ARRAY_IDX(pairs, i, ap_form_pair_t);
        apr_off_t len = 0;
        apr_size_t size;
        char *buf;

        apr_brigade_length(pair->value, 1, &len);
        if (len < 0 || len > ACTION_MAX_BYTES) {
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        size = (apr_size_t)len;
        buf = apr_palloc(r->pool, size + 1);
        apr_brigade_flatten(pair->value, buf, &size);
        buf[size] = '\0';
        if (strlen(buf) != size || apr_table_get(*fields, pair->name)) {
            return HTTP_BAD_REQUEST;   /* a NUL, or a field twice */
        }
        apr_table_setn(*fields, pair->name, buf);
    }
    return OK;
}

/* A local path a purge may name: absolute, no "." or ".." segment, no
 * reserved ".zddc-" name, not the cache root itself. Trailing '/' dropped. */
static const char *purge_path(apr_pool_t *p, const char *in)
{
    char *path, *seg, *state = NULL, *copy;
    apr_size_t n;

    if (!in || in[0] != '/') {
        return NULL;
    }
    path = apr_pstrdup(p, in);
    n = strlen(path);
    while (n > 1 && path[n - 1] == '/') {
        path[--n] = '\0';
    }
    if (!strcmp(path, "/")) {
        return NULL;
    }
    copy = apr_pstrdup(p, path);
    for (seg = apr_strtok(copy, "/", &state); seg;
         seg = apr_strtok(NULL, "/", &state)) {
        if (!strcmp(seg, ".") || !strcmp(seg, "..")
            || !strncmp(seg, ".zddc-", 6)) {
            return NULL;
        }
    }
    return path;
}

/* The answer: 303 back to the page for a browser when it worked, else the
 * status; JSON clients get {"action":..., "result"/"error": ...}. */
static int action_reply(action_ctx *a, int status, const char *key,
                        const char *what, const char *extra)
{
    request_rec *r = a->r;

    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  ZDDC_LOGNO(01051) "zddc_mirror: status page action %s%s%s by %s: %s",
                  a->action ? a->action : "(none)",
                  a->target ? " of " : "",
                  a->target ? a->target : "",
                  r->user ? r->user
                          : "(no user)", what);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (a->json) {
        r->status = status;
        ap_set_content_type(r, "application/json");
        ap_rprintf(r, "{\"action\":%s,\"%s\":%s%s}\n",
                   a->action ? zddc_json_quote(r->pool, a->action) : "null",
                   key, zddc_json_quote(r->pool, what), extra ? extra : "");
        return OK;
    }
    if (status == HTTP_OK) {
        apr_table_setn(r->headers_out, "Location",
                       ap_construct_url(r->pool, r->uri, r));
        return HTTP_SEE_OTHER;
    }
    return status;
}

static int action_walk(action_ctx *a)
{
    const char *sub = zddc_subtree_normalize(a->r->pool, a->target);
    apr_status_t rv;

    if (a->conf->mode != ZDDC_MODE_MIRROR) {
        return action_reply(a, HTTP_NOT_FOUND, "error",
                            "this virtual host does not walk (not Mirror)",
                            NULL);
    }
    a->target = sub;
    rv = zddc_sched_walk_now(a->r, a->conf, sub);
    if (rv == APR_SUCCESS) {
        return action_reply(a, HTTP_OK, "result", "started",
                            apr_pstrcat(a->r->pool, ",\"subtree\":",
                                        zddc_json_quote(a->r->pool, sub),
                                        NULL));
    }
    if (rv == APR_EBUSY) {
        return action_reply(a, HTTP_CONFLICT, "error",
                            "a walk of it is in flight", NULL);
    }
    if (rv == APR_NOTFOUND) {
        return action_reply(a, HTTP_NOT_FOUND, "error",
                            "not a configured subtree", NULL);
    }
    return action_reply(a, HTTP_SERVICE_UNAVAILABLE, "error",
                        "this process cannot start walks now", NULL);
}

static int action_purge(action_ctx *a)
{
    const char *path = purge_path(a->r->pool, a->target);
    int count = 0;
    apr_status_t rv;

    if (!path) {
        return action_reply(a, HTTP_BAD_REQUEST, "error",
                            "refused: not a path under the cache root", NULL);
    }
    a->target = path;
    rv = a->conf->store_provider->purge(a->conf->store, path, &count,
                                        a->r->pool);
    if (rv == APR_SUCCESS) {
        /* The parent's cached listing names what was purged; a purge is
         * often of something that must not be seen here, name included. */
        a->conf->store_provider->drop_listing(a->conf->store,
                                              zddc_url_parent(a->r->pool,
                                                              path),
                                              a->r->pool);
        return action_reply(a, HTTP_OK, "result", "purged",
                            apr_psprintf(a->r->pool, ",\"path\":%s,"
                                         "\"removed\":%d",
                                         zddc_json_quote(a->r->pool, path),
                                         count));
    }
    if (APR_STATUS_IS_ENOENT(rv)) {
        return action_reply(a, HTTP_NOT_FOUND, "error",
                            "nothing is cached there", NULL);
    }
    if (rv == APR_EINVAL) {
        return action_reply(a, HTTP_BAD_REQUEST, "error",
                            "refused: not a path under the cache root", NULL);
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, a->r,
                  ZDDC_LOGNO(01052) "zddc_mirror: purge of %s failed",
                  path);
    return action_reply(a, HTTP_INTERNAL_SERVER_ERROR, "error",
                        "the purge failed (see the error log)", NULL);
}

int zddc_status_action(request_rec *r)
{
    action_ctx a;
    apr_table_t *fields;
    int rc;

    memset(&a, 0, sizeof(a));
    a.r = r;
    a.conf = zddc_config_get(r->server);
    a.json = zddc_accept_wants_json(apr_table_get(r->headers_in, "Accept"));

    if (!same_origin(r)) {
        ap_discard_request_body(r);
        return action_reply(&a, HTTP_FORBIDDEN, "error", "refused: the "
                            "request has no Origin or Referer of this host",
                            NULL);
    }
    if ((rc = read_form(r, &fields)) != OK) {
        return action_reply(&a, rc, "error", "refused: not a form this page "
                            "sent", NULL);
    }
    a.action = apr_table_get(fields, "action");
    if (!a.conf || (a.conf->mode != ZDDC_MODE_CACHE
                    && a.conf->mode != ZDDC_MODE_MIRROR) || !a.conf->store) {
        return action_reply(&a, HTTP_NOT_FOUND, "error", "this virtual host "
                            "is not in Cache or Mirror mode", NULL);
    }
    if (a.action && !strcmp(a.action, "walk")) {
        a.target = apr_table_get(fields, "subtree");
        if (!a.target) {
            return action_reply(&a, HTTP_BAD_REQUEST, "error",
                                "no subtree given", NULL);
        }
        return action_walk(&a);
    }
    if (a.action && !strcmp(a.action, "purge")) {
        a.target = apr_table_get(fields, "path");
        return action_purge(&a);
    }
    return action_reply(&a, HTTP_BAD_REQUEST, "error", "unknown action",
                        NULL);
}
