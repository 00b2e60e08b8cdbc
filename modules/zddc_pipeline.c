/* The request pipeline of Cache and Mirror modes (SPEC §5): cached files
 * and listing sidecars revalidated, refreshed, purged or served stale. */
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_core.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include "zddc_pipeline.h"
#include "zddc_config.h"
#include "zddc_respond.h"
#include "zddc_cache_status.h"
#include "zddc_forward.h"
#include "zddc_fill.h"
#include "zddc_json.h"
#include "zddc_listing.h"
#include "zddc_util.h"
#include "zddc_log.h"

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

/* The verdict an upstream answer earns: fresh, unless the upstream's own
 * Cache-Status says it served a stale copy (a higher tier whose master is
 * away); then ours is STALE too (SPEC §5, §10). Records the upstream's
 * field so our member follows it. */
static const char *upstream_verdict(request_rec *r,
                                    const zddc_upstream_resp *resp,
                                    const char *fresh)
{
    const char *cs = resp->headers
                     ? apr_table_get(resp->headers, "Cache-Status") : NULL;

    if (!cs) {
        return fresh;
    }
    apr_table_setn(r->notes, ZDDC_NOTE_UPSTREAM_CS, apr_pstrdup(r->pool, cs));
    return zddc_cache_status_says_stale(cs) ? ZDDC_STALE : fresh;
}

static int upstream_unauthorized(request_rec *r, zddc_server_conf *conf)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  ZDDC_LOGNO(01015) "upstream %s answered 401 for %s: the mirror's bearer "
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
    zddc_store_obj *o;
    apr_finfo_t fi;
    int count = 0;
    apr_status_t rv = APR_ENOENT;

    /* A "dir/" answer only purges a directory: "file.pdf/" must not cost
     * the mirror its file, nor "dir" (no slash) a directory. */
    if (sp->obj(conf->store, r->uri, ZDDC_OBJ_FILE, &o, r->pool) == APR_SUCCESS
        && sp->stat(o, &fi, r->pool) == APR_SUCCESS
        && (fi.filetype == APR_DIR) == is_dir_url) {
        rv = sp->purge(conf->store, r->uri, &count, r->pool);
    }
    if (rv == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      ZDDC_LOGNO(01016) "upstream answered %d for %s: purged %d local "
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
                      ZDDC_LOGNO(01017) "upstream redirected %s outside itself; refusing", r->uri);
        return HTTP_BAD_GATEWAY;
    }
    apr_table_setn(r->headers_out, "Location", local);
    return status;
}

/* Whether the cached copy at obj was stored without a validator. */
static int copy_no_validator(zddc_server_conf *conf, zddc_store_obj *obj,
                             apr_pool_t *p)
{
    zddc_store_meta meta;

    return store_of(conf)->meta_get(obj, &meta, p)
           == APR_SUCCESS && meta.no_validator;
}

/* A cached copy with what the store kept with it: whether it has a
 * validator, and the master's Content-Disposition and Content-Type (the
 * latter when mod_mime has none), as the MISS sent them. */
static int respond_copy_meta(request_rec *r, zddc_store_obj *obj,
                             const char *verdict, const zddc_store_meta *meta)
{
    if (!meta) {
        return zddc_respond_cached_ex(r, obj, NULL, verdict, 0);
    }
    if (meta->content_disposition) {
        apr_table_setn(r->headers_out, "Content-Disposition",
                       meta->content_disposition);
    }
    return zddc_respond_cached_ex(r, obj,
                                  r->content_type ? NULL : meta->content_type,
                                  verdict, meta->no_validator);
}

static int respond_copy(request_rec *r, zddc_server_conf *conf,
                        zddc_store_obj *obj, const char *verdict)
{
    zddc_store_meta meta;
    int have = store_of(conf)->meta_get(obj, &meta, r->pool) == APR_SUCCESS;

    return respond_copy_meta(r, obj, verdict, have ? &meta : NULL);
}

/* The headers of a download someone else is writing, as its writer
 * published them: every client gets Last-Modified and, when known,
 * Content-Length (SPEC §5). */
static void headers_from_head(request_rec *r, const zddc_store_head *h)
{
    r->status = HTTP_OK;
    if (h->last_modified) {
        char *date = apr_palloc(r->pool, APR_RFC822_DATE_LEN);

        apr_rfc822_date(date, h->last_modified);
        apr_table_setn(r->headers_out, "Last-Modified", date);
    }
    if (h->length >= 0) {
        ap_set_content_length(r, h->length);
    }
    if (!r->content_type && h->content_type) {
        ap_set_content_type(r, h->content_type);
    }
    if (h->content_disposition) {
        apr_table_setn(r->headers_out, "Content-Disposition",
                       h->content_disposition);
    }
}

/* Feed the client from what the download has stored, at the client's own
 * pace: the download runs at the upstream's (SPEC §5). fill is the
 * request's own fill (its headers are already set) or NULL for a download
 * someone else writes. Returns -1 when that writer gave up before any byte
 * reached the client (try again). */
static int stream_from_store(request_rec *r, zddc_server_conf *conf,
                             zddc_store_tmp *tmp, zddc_fill *fill)
{
    const zddc_store_provider *sp = store_of(conf);
    apr_size_t cap = 64 * 1024;
    char *buf = apr_palloc(r->pool, cap);
    apr_time_t last_progress = apr_time_now();
    apr_off_t stored = 0;
    apr_off_t length = fill ? zddc_fill_wait_head(fill)->resp.content_length
                            : -1;
    zddc_store_head head;
    int have_head = fill != NULL;
    zddc_stream out;

    memset(&head, 0, sizeof(head));
    head.length = -1;
    zddc_stream_init(&out, r);
    if (!fill) {
        zddc_verdict_info vi = { 0 };

        vi.stored = 1;      /* someone else's download into the cache */
        zddc_respond_verdict_info(r, ZDDC_MISS, &vi);
    }
    for (;;) {
        apr_size_t len = cap;
        zddc_follow_e st = sp->follow(tmp, buf, &len);

        if (!have_head && (st == ZDDC_FOLLOW_MORE
                           || st == ZDDC_FOLLOW_PUBLISHED)
            && sp->head_get(tmp, &head, r->pool) == APR_SUCCESS) {
            headers_from_head(r, &head);
            have_head = 1;
        }
        if (st == ZDDC_FOLLOW_MORE && len > 0) {
            if (!have_head) {
                have_head = 1;      /* no head published: body all the same */
                r->status = HTTP_OK;
            }
            /* The request's own download: its client gets the last byte
             * once the copy is published with its metadata, so what it
             * asks next finds them (t/cache_headers_kept.t). */
            if (fill && length >= 0 && out.sent + (apr_off_t)len >= length) {
                zddc_fill_wait_end(fill, conf->timeout);
            }
            zddc_stream_write(&out, buf, len);
            if (fill && out.sent == (apr_off_t)len) {
                zddc_fill_first_sent(fill);
            }
            last_progress = apr_time_now();
            if (out.client_gone) {
                sp->unfollow(tmp);
                return OK;          /* the download goes on for the cache */
            }
            continue;
        }
        if (st == ZDDC_FOLLOW_PUBLISHED) {
            sp->unfollow(tmp);
            if (!have_head) {
                r->status = HTTP_OK;
            }
            return zddc_stream_finish(&out);
        }
        if (st == ZDDC_FOLLOW_FAILED) {
            apr_off_t written = -1;
            int spooled;

            sp->unfollow(tmp);
            /* A no-store body is spooled and never published: complete
             * when every byte the writer had was read. */
            if (fill) {
                spooled = zddc_fill_ended(fill, &written)
                          && zddc_fill_wait_head(fill)->outcome
                             == ZDDC_FILL_NO_STORE
                          && written == out.sent;
            }
            else {
                spooled = have_head && head.no_store && head.length >= 0
                          && head.length == out.sent;
            }
            if (spooled) {
                return zddc_stream_finish(&out);
            }
            if (out.sent == 0 && !fill) {
                return -1;
            }
            if (out.sent == 0 && !r->sent_bodyct) {
                /* Nothing reached the client: a clean 502, not a closed
                 * connection (e.g. a master that never ends its trailers). */
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              ZDDC_LOGNO(01018) "download of %s broke before its first byte "
                              "reached the client", r->uri);
                r->status = HTTP_OK;
                apr_table_clear(r->headers_out);
                return HTTP_BAD_GATEWAY;
            }
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          ZDDC_LOGNO(01019) "download of %s broke; aborting client", r->uri);
            return zddc_stream_abort(&out);
        }
        if (apr_time_now() - last_progress > conf->timeout) {
            sp->unfollow(tmp);
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          ZDDC_LOGNO(01020) "download of %s stalled for %s", r->uri,
                          zddc_duration_format(r->pool, conf->timeout));
            if (out.sent == 0 && !r->sent_bodyct) {
                return HTTP_GATEWAY_TIME_OUT;
            }
            return zddc_stream_abort(&out);
        }
        /* The first bytes of the request's own fill are sent the moment
         * they are stored (a poll would add up to ZDDC_FOLLOW_POLL to the
         * time to first byte, P3); later, a client that has caught up
         * waits a poll, so it reads what arrived meanwhile in one go
         * rather than waking for every piece. */
        if (fill && out.sent == 0) {
            zddc_fill_wait_more(fill, &stored, ZDDC_FOLLOW_POLL);
        }
        else {
            apr_sleep(ZDDC_FOLLOW_POLL);
        }
    }
}

/* The master was not heard (connect error, timeout, 5xx): the cached copy
 * is served STALE unless it was last confirmed longer ago than
 * ZddcCacheMaxStale; then 504, verdict MISS, and the copy stays on disk
 * for when the master is back (SPEC §3, §5). */
static int serve_stale(request_rec *r, zddc_server_conf *conf,
                       zddc_store_obj *obj, const char *type,
                       apr_time_t confirmed, const char *detail)
{
    apr_interval_time_t age = apr_time_now() - confirmed;

    if (conf->max_stale >= 0 && age > conf->max_stale) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      ZDDC_LOGNO(01021) "%s: master unreachable and the cached copy was last "
                      "confirmed %" APR_TIME_T_FMT " s ago, longer than "
                      "ZddcCacheMaxStale; answering 504, copy kept", r->uri,
                      apr_time_sec(age));
        zddc_respond_verdict(r, ZDDC_MISS);
        return HTTP_GATEWAY_TIME_OUT;
    }
    apr_table_setn(r->notes, ZDDC_NOTE_STALE_DETAIL, detail);
    return zddc_respond_cached_ex(r, obj, type, ZDDC_STALE,
                                  copy_no_validator(conf, obj, r->pool));
}

/* The answer of a fill that did not store a body; confirmed is when the
 * copy (if any) was last confirmed by the master. */
static int answer_fill(request_rec *r, zddc_server_conf *conf,
                       zddc_store_obj *obj, int have, apr_time_t confirmed,
                       const zddc_fill_result *res)
{
    int status = res->resp.status;

    switch (res->outcome) {
    case ZDDC_FILL_NOT_MODIFIED:
        if (have) {
            return respond_copy(r, conf, obj,
                                upstream_verdict(r, &res->resp,
                                                 ZDDC_REVALIDATED));
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      ZDDC_LOGNO(01022) "upstream answered 304 to an unconditional GET of %s",
                      r->uri);
        zddc_respond_verdict(r, ZDDC_MISS);
        return HTTP_BAD_GATEWAY;
    case ZDDC_FILL_GONE:
        return upstream_gone(r, conf, status);
    case ZDDC_FILL_UNAUTHORIZED:
        return upstream_unauthorized(r, conf);
    case ZDDC_FILL_OTHER:
        if (ap_is_HTTP_REDIRECT(status)) {
            return redirect_to_local(r, conf, status, res->resp.headers);
        }
        if (status >= 500) {
            if (have) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                              ZDDC_LOGNO(01023) "upstream answered %d for %s; serving the "
                              "cached copy", status, r->uri);
                return serve_stale(r, conf, obj, NULL, confirmed,
                                   apr_psprintf(r->pool, "stale: upstream "
                                                "answered %d", status));
            }
            zddc_respond_verdict(r, ZDDC_MISS);
            return HTTP_BAD_GATEWAY;
        }
        zddc_respond_verdict(r, ZDDC_MISS);
        if (ap_is_HTTP_SUCCESS(status)) {
            r->status = status;
            zddc_respond_copy_headers(r, res->resp.headers, 0);
            return OK;
        }
        return status;
    default:
        break;
    }
    /* Over ZddcCacheMaxFileSize (logged by the fill engine): the master
     * answered, with a body this cache will not keep; an older copy is no
     * answer to that and stays on disk. */
    if (res->too_large) {
        zddc_respond_verdict(r, ZDDC_MISS);
        return HTTP_BAD_GATEWAY;
    }
    /* No answer: the upstream is unreachable, or the store failed. */
    if (res->store_error) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      ZDDC_LOGNO(01024) "could not store %s: %s", r->uri, res->store_error);
    }
    if (have) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      ZDDC_LOGNO(01025) "upstream unreachable for %s (%s); serving the cached "
                      "copy", r->uri,
                      zddc_upstream_describe(res->rv, &res->resp, r->pool));
        return serve_stale(r, conf, obj, NULL, confirmed,
                           res->rv == ZDDC_UP_ETIMEOUT
                           ? "stale: upstream timed out"
                           : "stale: upstream unreachable");
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  ZDDC_LOGNO(01026) "upstream unreachable for %s (%s)", r->uri,
                  zddc_upstream_describe(res->rv, &res->resp, r->pool));
    zddc_respond_verdict(r, ZDDC_MISS);
    if (res->resp.status >= 500 || res->rv == ZDDC_UP_EBROKEN
        || res->store_error) {
        return HTTP_BAD_GATEWAY;
    }
    return HTTP_GATEWAY_TIME_OUT;
}

/* The request's own fill: its headers, then its body from the store. */
static int serve_own_fill(request_rec *r, zddc_server_conf *conf,
                          zddc_store_obj *obj, int have,
                          apr_time_t confirmed, zddc_fill *fill,
                          zddc_store_tmp *follow)
{
    const zddc_fill_result *res = zddc_fill_wait_head(fill);
    int rc;

    if (res->outcome == ZDDC_FILL_STORED
        || res->outcome == ZDDC_FILL_NO_STORE) {
        const char *mime = r->content_type;
        zddc_verdict_info vi = { 0 };

        r->status = HTTP_OK;
        zddc_respond_copy_headers(r, res->resp.headers,
                                  res->resp.content_length);
        /* mod_mime's answer from the file name beats a generic type. */
        if (mime) {
            ap_set_content_type(r, mime);
        }
        vi.stored = res->outcome == ZDDC_FILL_STORED;
        zddc_respond_verdict_info(r, upstream_verdict(r, &res->resp,
                                                      ZDDC_MISS), &vi);
        rc = stream_from_store(r, conf, follow, fill);
        zddc_fill_release(fill);
        return rc;
    }
    store_of(conf)->unfollow(follow);
    rc = answer_fill(r, conf, obj, have, confirmed, res);
    zddc_fill_release(fill);
    return rc;
}

/* One fill on this thread when the background threads are missing. */
static int serve_sync_fill(request_rec *r, zddc_server_conf *conf,
                           zddc_store_obj *obj, const zddc_fill_copy *copy,
                           apr_time_t confirmed)
{
    zddc_fill_result res;
    zddc_fill_e got = zddc_fill_sync(conf, NULL, r->uri, obj, copy, NULL,
                                     NULL, NULL, &res, r->pool);

    if (got == ZDDC_FILL_STORED) {
        return respond_copy(r, conf, obj, ZDDC_MISS);
    }
    if (got == ZDDC_FILL_BUSY) {
        return -1;      /* another writer took it meanwhile: follow it */
    }
    if (got == ZDDC_FILL_NO_STORE) {
        /* Not kept, and the body was not spooled: ask once more, live. */
        return zddc_forward(r, conf);
    }
    return answer_fill(r, conf, obj, copy->have, confirmed, &res);
}

/* A copy due for revalidation, asked about on this thread with the other
 * requests for it (zddc_fill_revalidate); -1 when the usual fill is to
 * take over. */
static int serve_revalidation(request_rec *r, zddc_server_conf *conf,
                              zddc_store_obj *obj, const zddc_fill_copy *copy,
                              const zddc_store_meta *meta,
                              apr_time_t confirmed, apr_time_t asked)
{
    zddc_fill_result res;

    switch (zddc_fill_revalidate(conf, r->uri, obj, copy, asked, &res,
                                 r->pool)) {
    case ZDDC_FILL_BUSY:
        return -1;
    case ZDDC_FILL_NOT_MODIFIED:
        /* The copy as it was looked at, with what is kept with it. */
        return respond_copy_meta(r, obj, upstream_verdict(r, &res.resp,
                                                          ZDDC_REVALIDATED),
                                 meta);
    case ZDDC_FILL_STORED:
        return respond_copy(r, conf, obj,
                            upstream_verdict(r, &res.resp, ZDDC_MISS));
    case ZDDC_FILL_NO_STORE:
        /* Not kept (the old copy is purged): ask once more, live. */
        return zddc_forward(r, conf);
    default:
        return answer_fill(r, conf, obj, copy->have, confirmed, &res);
    }
}

/* RFC 5861 stale-while-revalidate (ZddcCacheStaleWhileRevalidate): the
 * copy is served at once and one background fill revalidates it (none when
 * another writer already has the file). While this process last saw the
 * master fail, the copy is served STALE instead of UPDATING, within
 * ZddcCacheMaxStale; -1 leaves the request to the usual path. */
static int serve_while_revalidating(request_rec *r, zddc_server_conf *conf,
                                    zddc_store_obj *obj,
                                    const apr_finfo_t *fi,
                                    apr_time_t confirmed)
{
    apr_uint64_t down = apr_atomic_read64(&conf->upstream_down_since);
    zddc_store_tmp *follow = NULL;
    zddc_fill *fill = NULL;
    zddc_fill_copy copy = { 0 };
    apr_status_t rv;

    if (down && conf->max_stale >= 0
        && apr_time_now() - confirmed > conf->max_stale) {
        return -1;
    }
    copy.have = 1;
    copy.mtime = fi->mtime;
    copy.confirmed = confirmed;
    rv = zddc_fill_start(conf, r->uri, obj, &copy, &fill, &follow,
                         r->pool);
    if (rv == APR_EEXIST) {
        return respond_copy(r, conf, obj, ZDDC_HIT);
    }
    if (rv == APR_SUCCESS) {
        if (follow) {
            store_of(conf)->unfollow(follow);
        }
        zddc_fill_release(fill);
    }
    else if (rv == APR_ENOTIMPL) {
        return -1;
    }
    if (down) {
        apr_table_setn(r->notes, ZDDC_NOTE_STALE_DETAIL,
                       "stale: upstream unreachable; revalidating in the "
                       "background");
        return respond_copy(r, conf, obj, ZDDC_STALE);
    }
    return respond_copy(r, conf, obj, ZDDC_UPDATING);
}

static int serve_file(request_rec *r, zddc_server_conf *conf)
{
    const zddc_store_provider *sp = store_of(conf);
    zddc_store_obj *obj;
    apr_time_t asked = apr_time_now();
    int attempt, solo = 0;

    if (sp->obj(conf->store, r->uri, ZDDC_OBJ_FILE, &obj, r->pool)
            != APR_SUCCESS) {
        return HTTP_NOT_FOUND;
    }
    for (attempt = 0; attempt < ZDDC_MISS_ATTEMPTS; attempt++) {
        apr_finfo_t fi;
        int have = sp->stat(obj, &fi, r->pool) == APR_SUCCESS;
        zddc_store_tmp *follow = NULL;
        zddc_fill *fill = NULL;
        zddc_fill_copy copy = { 0 };
        zddc_store_meta meta;
        apr_time_t confirmed, at;
        int has_meta;
        apr_status_t rv;
        int rc;

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
        /* Read once: a background fill may confirm the copy between two
         * reads, and a stale verdict must not be paired with the newer
         * date (it would start a second revalidation at once). */
        at = have ? sp->validated_at(obj, &fi) : 0;
        if (have && conf->freshness > 0
            && apr_time_now() - at < conf->freshness) {
            return respond_copy(r, conf, obj, ZDDC_HIT);
        }
        if (have && conf->swr > 0 && attempt == 0) {
            if (apr_time_now() - at < conf->freshness + conf->swr
                && (rc = serve_while_revalidating(r, conf, obj, &fi,
                                                  at)) != -1) {
                return rc;
            }
        }
        /* The writer we followed asked the master and stored nothing:
         * a copy it confirmed meanwhile is current (one request for all). */
        if (attempt > 0 && have
            && sp->validated_at(obj, &fi) >= asked) {
            return respond_copy(r, conf, obj, ZDDC_REVALIDATED);
        }
        copy.have = have;
        copy.mtime = have ? fi.mtime : 0;
        copy.confirmed = 0;
        confirmed = at;
        has_meta = attempt == 0 && have
                   && sp->meta_get(obj, &meta, r->pool) == APR_SUCCESS;
        if (attempt == 0 && have && !(has_meta && meta.no_validator)) {
            copy.has_validator = 1;
            rc = serve_revalidation(r, conf, obj, &copy,
                                    has_meta ? &meta : NULL, confirmed,
                                    asked);
            if (rc != -1) {
                return rc;
            }
            /* Another writer has the file, or its new body is for a
             * background fill: a copy confirmed meanwhile is current. */
            have = sp->stat(obj, &fi, r->pool) == APR_SUCCESS
                   && fi.filetype == APR_REG;
            if (have && sp->validated_at(obj, &fi) >= asked) {
                return respond_copy(r, conf, obj, ZDDC_REVALIDATED);
            }
            copy.have = have;
            copy.mtime = have ? fi.mtime : 0;
            copy.has_validator = 0;
        }
        if (solo) {
            /* The writer we followed stored nothing (a 404, a no-store):
             * ask the master ourselves rather than queue behind another. */
            rc = serve_sync_fill(r, conf, obj, &copy, confirmed);
            if (rc != -1) {
                return rc;
            }
            solo = 0;       /* someone else writes it now: follow them */
            continue;
        }
        rv = zddc_fill_start(conf, r->uri, obj, &copy, &fill, &follow,
                             r->pool);
        if (rv == APR_ENOTIMPL) {
            rc = serve_sync_fill(r, conf, obj, &copy, confirmed);
            return rc == -1 ? HTTP_SERVICE_UNAVAILABLE : rc;
        }
        if (rv != APR_SUCCESS) {
            if (APR_STATUS_IS_EAGAIN(rv)) {
                continue;
            }
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          ZDDC_LOGNO(01027) "cannot write %s into the cache", r->uri);
            if (have) {
                return serve_stale(r, conf, obj, NULL, confirmed,
                                   "stale: the cache cannot be written");
            }
            zddc_respond_verdict(r, ZDDC_MISS);
            return HTTP_BAD_GATEWAY;
        }
        if (fill) {
            return serve_own_fill(r, conf, obj, have, confirmed, fill,
                                  follow);
        }
        rc = stream_from_store(r, conf, follow, NULL);
        if (rc != -1) {
            return rc;
        }
        /* The writer published nothing: see what it left, or ask. */
        solo = 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  ZDDC_LOGNO(01028) "could not take part in the download of %s after %d "
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
                           zddc_store_obj *side, int have, int json,
                           int status_if_none)
{
    const zddc_store_provider *sp = store_of(conf);
    zddc_store_obj *json_side;
    apr_finfo_t fi;
    apr_array_header_t *entries;
    const char *err;
    char *buf;
    apr_size_t len;

    if (have && sp->stat(side, &fi, r->pool) == APR_SUCCESS) {
        return serve_stale(r, conf, side, json ? "application/json"
                           : "text/html; charset=utf-8",
                           sp->validated_at(side, &fi),
                           "stale: upstream unreachable");
    }
    if (!json
        && sp->obj(conf->store, r->uri, ZDDC_OBJ_LISTING_JSON, &json_side,
                   r->pool) == APR_SUCCESS
        && sp->stat(json_side, &fi, r->pool) == APR_SUCCESS
        && fi.size <= ZDDC_LISTING_MAX
        && sp->get(json_side, ZDDC_LISTING_MAX, &buf, &len, r->pool)
           == APR_SUCCESS) {
        if (zddc_listing_parse(buf, len, &entries, &err, r->pool)
                == APR_SUCCESS) {
            zddc_listing_view view = { 0 };
            const char *html;
            view.stale = 1;
            view.confirmed_at = sp->validated_at(json_side,
                                                 &fi);
            if (conf->max_stale >= 0
                && apr_time_now() - view.confirmed_at > conf->max_stale) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              ZDDC_LOGNO(01029) "%s: master unreachable and the listing was "
                              "last confirmed longer ago than "
                              "ZddcCacheMaxStale; answering 504", r->uri);
                zddc_respond_verdict(r, ZDDC_MISS);
                return HTTP_GATEWAY_TIME_OUT;
            }
            apr_table_setn(r->notes, ZDDC_NOTE_STALE_DETAIL,
                           "stale: upstream unreachable");
            html = zddc_listing_render_html_view(r->pool, r->uri, entries,
                                                 &view);
            ap_update_mtime(r, fi.mtime);
            ap_set_last_modified(r);
            return serve_listing_body(r, html, strlen(html),
                                      "text/html; charset=utf-8", ZDDC_STALE);
        }
    }
    zddc_respond_verdict(r, ZDDC_MISS);
    return status_if_none;
}

/* A JSON listing not to store nor pass on: not a JSON array, or one whose
 * entries are all unusable (the walker skips such entries one by one). */
static int listing_unusable(const char *body, apr_size_t len,
                            apr_array_header_t **entries, const char **err,
                            apr_pool_t *p)
{
    apr_array_header_t *skipped = NULL;
    int nskipped = 0;

    if (zddc_listing_parse_ex(body, len, entries, &skipped, &nskipped, err,
                              p) != APR_SUCCESS) {
        return 1;
    }
    if ((*entries)->nelts == 0 && nskipped > 0 && skipped->nelts > 0) {
        const zddc_listing_skip *sk = &APR_ARRAY_IDX(skipped, 0,
                                                     zddc_listing_skip);

        *err = apr_psprintf(p, "listing entry %d %s %s, and no entry is "
                            "usable", sk->index,
                            strncmp(sk->why, "not ", 4) ? "has" : "is",
                            sk->why);
        return 1;
    }
    return 0;
}

static int serve_dir(request_rec *r, zddc_server_conf *conf)
{
    const zddc_store_provider *sp = store_of(conf);
    int json = zddc_accept_wants_json(apr_table_get(r->headers_in, "Accept"));
    const char *type = json ? "application/json" : "text/html; charset=utf-8";
    zddc_store_obj *side;
    apr_finfo_t fi;
    zddc_upstream_req req;
    zddc_upstream_resp resp = { 0 };
    zddc_store_meta meta;
    char *body = NULL;
    apr_size_t len = 0;
    apr_status_t rv;
    int have;

    apr_table_mergen(r->err_headers_out, "Vary", "Accept");
    if (sp->obj(conf->store, r->uri, json ? ZDDC_OBJ_LISTING_JSON
                : ZDDC_OBJ_LISTING_HTML, &side, r->pool) != APR_SUCCESS) {
        return HTTP_NOT_FOUND;
    }
    have = sp->stat(side, &fi, r->pool) == APR_SUCCESS
           && fi.filetype == APR_REG;
    if (have && conf->freshness > 0
        && apr_time_now() - sp->validated_at(side, &fi)
           < conf->freshness) {
        return zddc_respond_cached(r, side, type, ZDDC_HIT);
    }
    /* Never If-Modified-Since: the walker's rule (SPEC §6.1). */
    memset(&req, 0, sizeof(req));
    req.path = r->uri;
    req.accept = json ? "application/json" : "text/html";
    req.headers = zddc_fill_listing_conditions(conf, side, have, &meta,
                                               r->pool);
    rv = zddc_upstream_get_req(conf->up, &req, ZDDC_LISTING_MAX, &resp,
                               &body, &len, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      ZDDC_LOGNO(01030) "listing %s: upstream %s", r->uri,
                      zddc_upstream_describe(rv, &resp, r->pool));
        return offline_listing(r, conf, side, have, json,
                               resp.status == 0 && rv != ZDDC_UP_ETOOBIG
                               ? HTTP_GATEWAY_TIME_OUT : HTTP_BAD_GATEWAY);
    }
    switch (classify(resp.status)) {
    case ZDDC_FETCH_STORE: {
        apr_array_header_t *entries;
        const char *err;
        if (json && listing_unusable(body, len, &entries, &err, r->pool)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          ZDDC_LOGNO(01031) "listing %s: upstream sent malformed JSON (%s); "
                          "not stored", r->uri, err);
            return offline_listing(r, conf, side, have, json,
                                   HTTP_BAD_GATEWAY);
        }
        if (resp.no_store) {
            if (have) {
                sp->remove(side, r->pool);
            }
            zddc_respond_copy_headers(r, resp.headers, -1);
            return serve_listing_body(r, body, len, type, ZDDC_MISS);
        }
        rv = zddc_fill_listing_keep(conf, side, have, &meta, body, len, &resp,
                                    r->pool);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          ZDDC_LOGNO(01032) "could not store listing %s",
                          sp->describe(side, r->pool));
            return serve_listing_body(r, body, len, type, ZDDC_MISS);
        }
        return zddc_respond_cached(r, side, type,
                                   upstream_verdict(r, &resp, ZDDC_MISS));
    }
    case ZDDC_FETCH_NOT_MODIFIED:
        if (have && req.headers) {
            const char *v = upstream_verdict(r, &resp, ZDDC_REVALIDATED);
            if (conf->freshness > 0 && strcmp(v, ZDDC_STALE)) {
                sp->touch(side);
            }
            return zddc_respond_cached(r, side, type, v);
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
                      ZDDC_LOGNO(01033) "listing %s: upstream answered %d", r->uri, resp.status);
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
