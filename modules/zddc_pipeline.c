/* The request pipeline of Cache and Mirror modes (SPEC §5): cached files
 * and listing sidecars revalidated, refreshed, purged or served stale. */
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_core.h>
#include <apr_strings.h>
#include "zddc_pipeline.h"
#include "zddc_config.h"
#include "zddc_respond.h"
#include "zddc_forward.h"
#include "zddc_json.h"
#include "zddc_listing.h"
#include "zddc_util.h"

APLOG_USE_MODULE(zddc_mirror);

/* How often a follower looks at a download another request is making. */
#define ZDDC_FOLLOW_POLL     apr_time_from_msec(5)
/* A miss whose leader gave up is tried again at most this many times. */
#define ZDDC_MISS_ATTEMPTS   3

typedef enum {
    ZDDC_FETCH_NONE,      /* no final answer yet */
    ZDDC_FETCH_STORE,     /* 200: streamed to client and stored */
    ZDDC_FETCH_PASS,      /* 2xx not stored (no-store, or another writer) */
    ZDDC_FETCH_NOT_MODIFIED,
    ZDDC_FETCH_GONE,      /* 403/404/410 */
    ZDDC_FETCH_UNAUTHORIZED,
    ZDDC_FETCH_SERVER_ERROR,
    ZDDC_FETCH_REDIRECT,
    ZDDC_FETCH_OTHER      /* any other status: passed through */
} zddc_fetch_e;

typedef struct {
    request_rec *r;
    zddc_server_conf *conf;
    const char *fs_path;
    zddc_store_tmp *tmp;      /* held when we are the writer */
    int have_copy;            /* a cached copy existed before the request */
    zddc_fetch_e kind;
    int status;
    zddc_stream out;
    apr_status_t store_rv;    /* first error writing the temp file */
} zddc_fetch;

static const zddc_store_provider *store_of(zddc_server_conf *conf)
{
    return conf->store_provider;
}

static zddc_fetch_e classify(int status)
{
    if (status == HTTP_OK) {
        return ZDDC_FETCH_STORE;
    }
    if (status == HTTP_NOT_MODIFIED) {
        return ZDDC_FETCH_NOT_MODIFIED;
    }
    if (status == HTTP_FORBIDDEN || status == HTTP_NOT_FOUND
        || status == HTTP_GONE) {
        return ZDDC_FETCH_GONE;
    }
    if (status == HTTP_UNAUTHORIZED) {
        return ZDDC_FETCH_UNAUTHORIZED;
    }
    if (status >= 500) {
        return ZDDC_FETCH_SERVER_ERROR;
    }
    if (ap_is_HTTP_REDIRECT(status) && status != HTTP_NOT_MODIFIED) {
        return ZDDC_FETCH_REDIRECT;
    }
    return ZDDC_FETCH_OTHER;
}

static apr_status_t file_on_headers(void *baton, const zddc_upstream_resp *resp)
{
    zddc_fetch *f = baton;
    request_rec *r = f->r;
    const zddc_store_provider *sp = store_of(f->conf);

    f->status = resp->status;
    f->kind = classify(resp->status);
    if (f->kind == ZDDC_FETCH_STORE) {
        if (resp->no_store) {
            f->kind = ZDDC_FETCH_PASS;
        }
        else if (!f->tmp) {
            int leader = 0;
            zddc_store_tmp *tmp = NULL;
            if (sp->begin(f->conf->store, f->fs_path, &tmp, &leader, r->pool)
                    == APR_SUCCESS) {
                if (leader) {
                    f->tmp = tmp;
                }
                else {
                    sp->unfollow(tmp);
                }
            }
            if (!f->tmp) {
                f->kind = ZDDC_FETCH_PASS;
            }
        }
    }
    if (f->kind == ZDDC_FETCH_STORE || f->kind == ZDDC_FETCH_PASS
        || f->kind == ZDDC_FETCH_OTHER) {
        const char *mime = r->content_type;
        r->status = resp->status;
        zddc_respond_copy_headers(r, resp->headers, resp->content_length);
        /* mod_mime's answer from the file name beats a generic upstream type. */
        if (mime && f->kind != ZDDC_FETCH_OTHER) {
            ap_set_content_type(r, mime);
        }
        zddc_respond_verdict(r, ZDDC_MISS);
    }
    return APR_SUCCESS;
}

static apr_status_t file_on_body(void *baton, const char *data, apr_size_t len)
{
    zddc_fetch *f = baton;

    switch (f->kind) {
    case ZDDC_FETCH_STORE:
        /* The client first: its first byte should not wait for a
         * buffer's worth of file system write (benchmark P3). */
        zddc_stream_write(&f->out, data, len);
        if (f->store_rv == APR_SUCCESS) {
            f->store_rv = store_of(f->conf)->write(f->tmp, data, len);
        }
        /* Keep downloading for the cache when the client left, unless the
         * cache cannot take the bytes either. */
        if (f->store_rv != APR_SUCCESS && f->out.client_gone) {
            return f->store_rv;
        }
        return APR_SUCCESS;
    case ZDDC_FETCH_PASS:
    case ZDDC_FETCH_OTHER:
        return zddc_stream_write(&f->out, data, len);
    default:
        return APR_SUCCESS;     /* error bodies are not relayed */
    }
}

static void release_tmp(zddc_fetch *f)
{
    if (f->tmp) {
        store_of(f->conf)->discard(f->tmp);
        f->tmp = NULL;
    }
}

static int upstream_unauthorized(request_rec *r, zddc_server_conf *conf)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "upstream %s answered 401 for %s: the mirror's bearer "
                  "token (ZddcUpstreamBearer) is missing or rejected",
                  conf->upstream, r->uri);
    zddc_respond_verdict(r, ZDDC_MISS);
    return HTTP_BAD_GATEWAY;
}

static int upstream_gone(request_rec *r, zddc_server_conf *conf, int status)
{
    const zddc_store_provider *sp = store_of(conf);
    apr_size_t n = strlen(r->uri);
    int is_dir_url = n > 0 && r->uri[n - 1] == '/';
    const char *fs;
    apr_finfo_t fi;
    int count = 0;
    apr_status_t rv = APR_ENOENT;

    /* A "dir/" answer only purges a directory: "file.pdf/" must not cost
     * the mirror its file, nor "dir" (no slash) a directory. */
    if (sp->map(conf->store, r->uri, ZDDC_OBJ_FILE, &fs, r->pool) == APR_SUCCESS
        && sp->stat(conf->store, fs, &fi, r->pool) == APR_SUCCESS
        && (fi.filetype == APR_DIR) == is_dir_url) {
        rv = sp->purge(conf->store, r->uri, &count, r->pool);
    }
    if (rv == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "upstream answered %d for %s: purged %d local "
                      "entr%s", status, r->uri, count, count == 1 ? "y" : "ies");
    }
    zddc_respond_verdict(r, ZDDC_MISS);
    return status;
}

static int redirect_to_local(request_rec *r, zddc_server_conf *conf, int status,
                             apr_table_t *headers)
{
    const char *loc = apr_table_get(headers, "Location");
    const char *local = loc ? zddc_respond_local_location(r, conf, loc) : NULL;

    zddc_respond_verdict(r, ZDDC_MISS);
    if (!local) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "upstream redirected %s outside itself; refusing", r->uri);
        return HTTP_BAD_GATEWAY;
    }
    apr_table_setn(r->headers_out, "Location", local);
    return status;
}

/* Follow a download another request (or process) is writing; returns -1
 * when the writer gave up before any byte reached our client (try again). */
static int follow_download(request_rec *r, zddc_server_conf *conf,
                           zddc_store_tmp *tmp)
{
    const zddc_store_provider *sp = store_of(conf);
    apr_size_t cap = 64 * 1024;
    char *buf = apr_palloc(r->pool, cap);
    apr_time_t last_progress = apr_time_now();
    zddc_stream out;

    zddc_stream_init(&out, r);
    zddc_respond_verdict(r, ZDDC_MISS);
    for (;;) {
        apr_size_t len = cap;
        zddc_follow_e st = sp->follow(tmp, buf, &len);

        if (st == ZDDC_FOLLOW_MORE && len > 0) {
            zddc_stream_write(&out, buf, len);
            last_progress = apr_time_now();
            if (out.client_gone) {
                sp->unfollow(tmp);
                return OK;
            }
            continue;
        }
        if (st == ZDDC_FOLLOW_PUBLISHED) {
            sp->unfollow(tmp);
            return zddc_stream_finish(&out);
        }
        if (st == ZDDC_FOLLOW_FAILED) {
            sp->unfollow(tmp);
            if (out.sent == 0) {
                return -1;
            }
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "shared download of %s broke; aborting client",
                          r->uri);
            return zddc_stream_abort(&out);
        }
        if (apr_time_now() - last_progress > conf->timeout) {
            sp->unfollow(tmp);
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "shared download of %s stalled for %s",
                          r->uri, zddc_duration_format(r->pool, conf->timeout));
            if (out.sent == 0) {
                return HTTP_GATEWAY_TIME_OUT;
            }
            return zddc_stream_abort(&out);
        }
        apr_sleep(ZDDC_FOLLOW_POLL);
    }
}

/* One upstream exchange for a file; returns the handler result. */
static int fetch_file(request_rec *r, zddc_server_conf *conf,
                      const char *fs_path, apr_finfo_t *fi, int have,
                      zddc_store_tmp *tmp)
{
    const zddc_store_provider *sp = store_of(conf);
    zddc_upstream_req req = { 0 };
    zddc_upstream_resp resp = { 0 };
    zddc_fetch f = { 0 };
    apr_status_t rv;

    f.r = r;
    f.conf = conf;
    f.fs_path = fs_path;
    f.tmp = tmp;
    f.have_copy = have;
    zddc_stream_init(&f.out, r);

    req.method = "GET";
    req.path = r->uri;
    req.if_modified_since = have ? fi->mtime : 0;
    req.body_length = -1;
    req.on_headers = file_on_headers;
    req.on_body = file_on_body;
    req.baton = &f;
    rv = zddc_upstream_perform(conf->up, &req, &resp, r->pool);

    if (rv == APR_SUCCESS && f.kind == ZDDC_FETCH_STORE) {
        if (f.store_rv == APR_SUCCESS) {
            rv = sp->commit(f.tmp, resp.last_modified);
            f.tmp = NULL;
            if (rv != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                              "could not publish %s", fs_path);
            }
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, f.store_rv, r,
                          "could not write the cached copy of %s; served "
                          "without storing", r->uri);
            release_tmp(&f);
        }
        return zddc_stream_finish(&f.out);
    }
    release_tmp(&f);

    if (rv == APR_SUCCESS) {
        switch (f.kind) {
        case ZDDC_FETCH_PASS:
            if (resp.no_store && have) {
                /* The master no longer lets this be kept. */
                sp->purge(conf->store, r->uri, NULL, r->pool);
            }
            return zddc_stream_finish(&f.out);
        case ZDDC_FETCH_OTHER:
            return zddc_stream_finish(&f.out);
        case ZDDC_FETCH_NOT_MODIFIED:
            if (have) {
                if (conf->freshness > 0) {
                    sp->touch(conf->store, fs_path);
                }
                return zddc_respond_cached(r, fs_path, NULL, ZDDC_REVALIDATED);
            }
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "upstream answered 304 to an unconditional GET "
                          "of %s", r->uri);
            zddc_respond_verdict(r, ZDDC_MISS);
            return HTTP_BAD_GATEWAY;
        case ZDDC_FETCH_GONE:
            return upstream_gone(r, conf, f.status);
        case ZDDC_FETCH_UNAUTHORIZED:
            return upstream_unauthorized(r, conf);
        case ZDDC_FETCH_REDIRECT:
            return redirect_to_local(r, conf, f.status, resp.headers);
        case ZDDC_FETCH_SERVER_ERROR:
        default:
            if (have) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                              "upstream answered %d for %s; serving the "
                              "cached copy", f.status, r->uri);
                return zddc_respond_cached(r, fs_path, NULL, ZDDC_STALE);
            }
            zddc_respond_verdict(r, ZDDC_MISS);
            return HTTP_BAD_GATEWAY;
        }
    }

    /* The transfer failed. */
    if (f.out.sent > 0 || (f.kind != ZDDC_FETCH_NONE && r->sent_bodyct)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "upstream transfer of %s broke after %" APR_OFF_T_FMT
                      " bytes (%s); aborting client, cached copy untouched",
                      r->uri, resp.bytes,
                      zddc_upstream_describe(rv, &resp, r->pool));
        return zddc_stream_abort(&f.out);
    }
    /* Nothing reached the client yet: the response can still be changed. */
    r->status = HTTP_OK;
    apr_table_clear(r->headers_out);
    if (have) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "upstream unreachable for %s (%s); serving the cached "
                      "copy", r->uri,
                      zddc_upstream_describe(rv, &resp, r->pool));
        return zddc_respond_cached(r, fs_path, NULL, ZDDC_STALE);
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "upstream unreachable for %s (%s)", r->uri,
                  zddc_upstream_describe(rv, &resp, r->pool));
    zddc_respond_verdict(r, ZDDC_MISS);
    if (resp.status >= 500 || rv == ZDDC_UP_EBROKEN) {
        return HTTP_BAD_GATEWAY;
    }
    return HTTP_GATEWAY_TIME_OUT;
}

static int serve_file(request_rec *r, zddc_server_conf *conf)
{
    const zddc_store_provider *sp = store_of(conf);
    const char *fs_path;
    int attempt, solo = 0;

    if (sp->map(conf->store, r->uri, ZDDC_OBJ_FILE, &fs_path, r->pool)
            != APR_SUCCESS) {
        return HTTP_NOT_FOUND;
    }
    for (attempt = 0; attempt < ZDDC_MISS_ATTEMPTS; attempt++) {
        apr_finfo_t fi;
        int have = sp->stat(conf->store, fs_path, &fi, r->pool) == APR_SUCCESS;
        zddc_store_tmp *tmp = NULL;
        int leader = 0, rc;

        if (have && fi.filetype == APR_DIR) {
            const char *to = apr_pstrcat(r->pool,
                                         ap_escape_uri(r->pool, r->uri), "/",
                                         NULL);
            apr_table_setn(r->headers_out, "Location",
                           ap_construct_url(r->pool, to, r));
            return HTTP_MOVED_PERMANENTLY;
        }
        if (have && fi.filetype != APR_REG) {
            return HTTP_NOT_FOUND;
        }
        if (have && conf->freshness > 0
            && apr_time_now() - sp->validated_at(&fi) < conf->freshness) {
            return zddc_respond_cached(r, fs_path, NULL, ZDDC_HIT);
        }
        if (have || solo) {
            return fetch_file(r, conf, fs_path, &fi, have, NULL);
        }
        /* A miss: one writer per file, the others follow its bytes. */
        if (sp->begin(conf->store, fs_path, &tmp, &leader, r->pool)
                != APR_SUCCESS) {
            return fetch_file(r, conf, fs_path, &fi, 0, NULL);
        }
        if (!leader) {
            rc = follow_download(r, conf, tmp);
            if (rc != -1) {
                return rc;
            }
            /* The writer published nothing (404, no-store, ...): ask the
             * master ourselves rather than queue behind another writer. */
            solo = 1;
            continue;
        }
        if (sp->stat(conf->store, fs_path, &fi, r->pool) == APR_SUCCESS) {
            /* Published between our stat and our lock: revalidate it. */
            sp->discard(tmp);
            continue;
        }
        return fetch_file(r, conf, fs_path, &fi, 0, tmp);
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "could not take part in the download of %s after %d "
                  "attempts", r->uri, ZDDC_MISS_ATTEMPTS);
    zddc_respond_verdict(r, ZDDC_MISS);
    return HTTP_BAD_GATEWAY;
}

/* Serve a listing from memory (a no-store answer, or HTML rendered from
 * the JSON sidecar while the upstream is away). */
static int serve_listing_body(request_rec *r, const char *body, apr_size_t len,
                              const char *type, const char *verdict)
{
    zddc_stream out;

    zddc_respond_verdict(r, verdict);
    ap_set_content_type(r, type);
    ap_set_content_length(r, len);
    if (r->header_only) {
        return OK;
    }
    zddc_stream_init(&out, r);
    zddc_stream_write(&out, body, len);
    return zddc_stream_finish(&out);
}

static int offline_listing(request_rec *r, zddc_server_conf *conf,
                           const char *side, int have, int json,
                           int status_if_none)
{
    const zddc_store_provider *sp = store_of(conf);
    const char *json_side;
    apr_finfo_t fi;
    apr_file_t *fd;
    apr_array_header_t *entries;
    const char *err;
    char *buf;
    apr_size_t len;

    if (have) {
        return zddc_respond_cached(r, side, json ? "application/json"
                                   : "text/html; charset=utf-8", ZDDC_STALE);
    }
    if (!json
        && sp->map(conf->store, r->uri, ZDDC_OBJ_LISTING_JSON, &json_side,
                   r->pool) == APR_SUCCESS
        && sp->stat(conf->store, json_side, &fi, r->pool) == APR_SUCCESS
        && fi.size <= ZDDC_LISTING_MAX
        && apr_file_open(&fd, json_side, APR_READ, 0, r->pool) == APR_SUCCESS) {
        len = (apr_size_t)fi.size;
        buf = apr_palloc(r->pool, len + 1);
        if (apr_file_read_full(fd, buf, len, &len) == APR_SUCCESS
            && zddc_listing_parse(buf, len, &entries, &err, r->pool)
                == APR_SUCCESS) {
            const char *html;
            apr_file_close(fd);
            html = zddc_listing_render_html(r->pool, r->uri, entries);
            ap_update_mtime(r, fi.mtime);
            ap_set_last_modified(r);
            return serve_listing_body(r, html, strlen(html),
                                      "text/html; charset=utf-8", ZDDC_STALE);
        }
        apr_file_close(fd);
    }
    zddc_respond_verdict(r, ZDDC_MISS);
    return status_if_none;
}

static int serve_dir(request_rec *r, zddc_server_conf *conf)
{
    const zddc_store_provider *sp = store_of(conf);
    int json = zddc_accept_wants_json(apr_table_get(r->headers_in, "Accept"));
    const char *type = json ? "application/json" : "text/html; charset=utf-8";
    const char *side;
    apr_finfo_t fi;
    zddc_upstream_resp resp = { 0 };
    char *body = NULL;
    apr_size_t len = 0;
    apr_status_t rv;
    int have;

    apr_table_mergen(r->err_headers_out, "Vary", "Accept");
    if (sp->map(conf->store, r->uri, json ? ZDDC_OBJ_LISTING_JSON
                : ZDDC_OBJ_LISTING_HTML, &side, r->pool) != APR_SUCCESS) {
        return HTTP_NOT_FOUND;
    }
    have = sp->stat(conf->store, side, &fi, r->pool) == APR_SUCCESS
           && fi.filetype == APR_REG;
    if (have && conf->freshness > 0
        && apr_time_now() - sp->validated_at(&fi) < conf->freshness) {
        return zddc_respond_cached(r, side, type, ZDDC_HIT);
    }
    rv = zddc_upstream_get(conf->up, r->uri, json ? "application/json"
                           : "text/html", have ? fi.mtime : 0,
                           ZDDC_LISTING_MAX, NULL, &resp, &body, &len, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "listing %s: upstream %s", r->uri,
                      zddc_upstream_describe(rv, &resp, r->pool));
        return offline_listing(r, conf, side, have, json,
                               resp.status == 0 && rv != ZDDC_UP_ETOOBIG
                               ? HTTP_GATEWAY_TIME_OUT : HTTP_BAD_GATEWAY);
    }
    switch (classify(resp.status)) {
    case ZDDC_FETCH_STORE: {
        apr_array_header_t *entries;
        const char *err;
        if (json && zddc_listing_parse(body, len, &entries, &err, r->pool)
                != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "listing %s: upstream sent malformed JSON (%s); "
                          "not stored", r->uri, err);
            return offline_listing(r, conf, side, have, json,
                                   HTTP_BAD_GATEWAY);
        }
        if (resp.no_store) {
            if (have) {
                apr_file_remove(side, r->pool);
            }
            zddc_respond_copy_headers(r, resp.headers, -1);
            return serve_listing_body(r, body, len, type, ZDDC_MISS);
        }
        rv = sp->put(conf->store, side, body, len, resp.last_modified,
                     r->pool);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "could not store listing %s", side);
            return serve_listing_body(r, body, len, type, ZDDC_MISS);
        }
        return zddc_respond_cached(r, side, type, ZDDC_MISS);
    }
    case ZDDC_FETCH_NOT_MODIFIED:
        if (have) {
            if (conf->freshness > 0) {
                sp->touch(conf->store, side);
            }
            return zddc_respond_cached(r, side, type, ZDDC_REVALIDATED);
        }
        zddc_respond_verdict(r, ZDDC_MISS);
        return HTTP_BAD_GATEWAY;
    case ZDDC_FETCH_GONE:
        return upstream_gone(r, conf, resp.status);
    case ZDDC_FETCH_UNAUTHORIZED:
        return upstream_unauthorized(r, conf);
    case ZDDC_FETCH_REDIRECT:
        return redirect_to_local(r, conf, resp.status, resp.headers);
    case ZDDC_FETCH_SERVER_ERROR:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "listing %s: upstream answered %d", r->uri, resp.status);
        return offline_listing(r, conf, side, have, json, HTTP_BAD_GATEWAY);
    default:
        r->status = resp.status;
        zddc_respond_copy_headers(r, resp.headers, -1);
        return serve_listing_body(r, body, len,
                                  r->content_type ? r->content_type : type,
                                  ZDDC_MISS);
    }
}

int zddc_pipeline_handler(request_rec *r)
{
    zddc_server_conf *conf;

    if (!r->handler || strcmp(r->handler, ZDDC_HANDLER) != 0) {
        return DECLINED;
    }
    conf = zddc_config_get(r->server);
    if (conf->mode == ZDDC_MODE_OFF || !conf->store || !conf->up) {
        return DECLINED;
    }
    if (apr_table_get(r->notes, ZDDC_NOTE_UNSAFE)) {
        return HTTP_NOT_FOUND;
    }
    if (r->method_number != M_GET || r->args) {
        return zddc_forward_or_refuse(r, conf);
    }
    if (r->uri[strlen(r->uri) - 1] == '/') {
        return serve_dir(r, conf);
    }
    return serve_file(r, conf);
}
