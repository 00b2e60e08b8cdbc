/* Building client responses: the X-Zddc-Cache verdict, handing a cached
 * file through httpd's file buckets, streaming bodies, aborting broken ones. */
#include <httpd.h>
#include <ap_mmn.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_core.h>
#include <util_filter.h>
#include <apr_strings.h>
#include "zddc_cache_status.h"
#include "zddc_respond.h"
#include "zddc_metrics.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

/* Cached files below this size are read, not mapped, when sent. */
#define ZDDC_MMAP_MIN (256 * 1024)

void zddc_respond_verdict_info(request_rec *r, const char *verdict,
                               const zddc_verdict_info *vi)
{
    static const zddc_verdict_info none = { 0 };
    const char *member;

    if (!vi) {
        vi = &none;
    }
    apr_table_setn(r->err_headers_out, "X-Zddc-Cache", verdict);
    apr_table_setn(r->subprocess_env, "ZDDC_CACHE_STATUS", verdict);
    zddc_metrics_verdict(r, verdict);
    member = zddc_cache_status_member(r->pool, r->server->server_hostname,
                                      verdict, vi->stored,
                                      vi->detail ? vi->detail
                                      : apr_table_get(r->notes,
                                                      ZDDC_NOTE_STALE_DETAIL));
    apr_table_setn(r->err_headers_out, "Cache-Status",
                   zddc_cache_status_append(r->pool,
                       apr_table_get(r->notes, ZDDC_NOTE_UPSTREAM_CS),
                       member));
    if ((!strcmp(verdict, ZDDC_STALE) || !strcmp(verdict, ZDDC_UPDATING))
        && vi->verified_at > 0) {
        apr_time_t now = apr_time_now();
        char *date = apr_palloc(r->pool, APR_RFC822_DATE_LEN);

        apr_rfc822_date(date, vi->verified_at);
        apr_table_setn(r->err_headers_out, "X-Zddc-Verified-At", date);
        apr_table_setn(r->err_headers_out, "Age", apr_psprintf(r->pool,
                       "%" APR_TIME_T_FMT, now > vi->verified_at
                       ? apr_time_sec(now - vi->verified_at) : 0));
    }
}

void zddc_respond_verdict(request_rec *r, const char *verdict)
{
    zddc_respond_verdict_info(r, verdict, NULL);
}

int zddc_respond_cached(request_rec *r, zddc_store_obj *o,
                        const char *content_type, const char *verdict)
{
    return zddc_respond_cached_ex(r, o, content_type, verdict, 0);
}

int zddc_respond_cached_ex(request_rec *r, zddc_store_obj *o,
                           const char *content_type, const char *verdict,
                           int no_validator)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    zddc_server_conf *conf = zddc_config_get(r->server);
    const zddc_store_provider *sp = conf->store_provider;
    zddc_obj_kind kind = sp->kind(o);
    apr_int32_t flags = 0;
    apr_bucket_brigade *bb;
    apr_bucket *e;
    apr_file_t *fd;
    apr_status_t rv;
    int status;

    status = ap_discard_request_body(r);
    if (status != OK) {
        return status;
    }
    if (d->enable_sendfile == ENABLE_SENDFILE_ON) {
        flags |= APR_SENDFILE_ENABLED;
    }
    /* Size and times come from the open file, so a copy the walker
     * replaces meanwhile is served whole, old or new, never mixed. */
    rv = sp->open(o, flags, &fd, r->pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&r->finfo, APR_FINFO_MIN | APR_FINFO_INODE,
                               fd);
    }
    if (rv != APR_SUCCESS || r->finfo.filetype != APR_REG) {
        /* A purge between the pipeline's look and this open: the
         * upstream said the file is gone. */
        if (APR_STATUS_IS_ENOENT(rv)) {
            return HTTP_NOT_FOUND;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      ZDDC_LOGNO(01034) "cannot open the cached copy %s",
                      sp->describe(o, r->pool));
        return APR_STATUS_IS_EACCES(rv) ? HTTP_FORBIDDEN
                                        : HTTP_INTERNAL_SERVER_ERROR;
    }
    if (content_type) {
        ap_set_content_type(r, content_type);
    }
    {
        zddc_verdict_info vi = { 0 };

        vi.stored = 1;
        vi.verified_at = sp->validated_at(o, &r->finfo);
        zddc_respond_verdict_info(r, verdict, &vi);
    }

    ap_set_accept_ranges(r);
    ap_set_content_length(r, r->finfo.size);
    /* A copy without a validator has no date to offer nor to match. */
    if (!no_validator) {
        ap_update_mtime(r, r->finfo.mtime);
        ap_set_last_modified(r);
        if (kind == ZDDC_OBJ_LISTING_JSON || kind == ZDDC_OBJ_LISTING_HTML) {
            /* A listing keeps its directory's date, and a changed one
             * often its size: its inode (new at every rewrite) tells. */
            apr_table_setn(r->headers_out, "ETag", apr_psprintf(r->pool,
                           "\"%" APR_UINT64_T_HEX_FMT "-%" APR_UINT64_T_HEX_FMT
                           "-%" APR_UINT64_T_HEX_FMT "\"",
                           (apr_uint64_t)r->finfo.inode,
                           (apr_uint64_t)r->finfo.size,
                           (apr_uint64_t)r->finfo.mtime));
        }
        else {
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 101)
            ap_set_etag_fd(r, fd);  /* FileETag Digest hashes what is sent */
#else
            ap_set_etag(r);
#endif
        }
        status = ap_meets_conditions(r);
        if (status != OK) {
            apr_file_close(fd);
            return status;
        }
    }

    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    e = apr_brigade_insert_file(bb, fd, 0, r->finfo.size, r->pool);
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 97)
    if (d->read_buf_size) {
        apr_bucket_file_set_buf_size(e, d->read_buf_size);
    }
#endif
#if APR_HAS_MMAP
    /* Mapping a small file costs more than reading it: munmap() in a
     * threaded child interrupts every CPU running one of its threads. */
    if (d->enable_mmap == ENABLE_MMAP_OFF || r->finfo.size < ZDDC_MMAP_MIN) {
        apr_bucket_file_enable_mmap(e, 0);
    }
#endif
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, bb);
    apr_brigade_cleanup(bb);
    if (rv != APR_SUCCESS && r->status == HTTP_OK && !r->connection->aborted) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                      ZDDC_LOGNO(01035) "sending cached copy %s",
                      sp->describe(o, r->pool));
        return AP_FILTER_ERROR;
    }
    return OK;
}

void zddc_stream_init(zddc_stream *st, request_rec *r)
{
    st->r = r;
    st->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    st->sent = 0;
    st->client_gone = 0;
}

apr_status_t zddc_stream_write(zddc_stream *st, const char *data,
                               apr_size_t len)
{
    apr_bucket_alloc_t *ba = st->r->connection->bucket_alloc;
    apr_status_t rv;

    if (st->client_gone || len == 0) {
        return APR_SUCCESS;
    }
    APR_BRIGADE_INSERT_TAIL(st->bb,
                            apr_bucket_transient_create(data, len, ba));
    if (st->sent == 0) {
        APR_BRIGADE_INSERT_TAIL(st->bb, apr_bucket_flush_create(ba));
    }
    rv = ap_pass_brigade(st->r->output_filters, st->bb);
    apr_brigade_cleanup(st->bb);
    if (rv != APR_SUCCESS || st->r->connection->aborted) {
        st->client_gone = 1;
        return rv != APR_SUCCESS ? rv : APR_ECONNABORTED;
    }
    st->sent += len;
    return APR_SUCCESS;
}

int zddc_stream_finish(zddc_stream *st)
{
    apr_bucket_alloc_t *ba = st->r->connection->bucket_alloc;

    if (st->client_gone) {
        return OK;
    }
    APR_BRIGADE_INSERT_TAIL(st->bb, apr_bucket_eos_create(ba));
    ap_pass_brigade(st->r->output_filters, st->bb);
    apr_brigade_cleanup(st->bb);
    return OK;
}

int zddc_stream_abort(zddc_stream *st)
{
    apr_bucket_alloc_t *ba = st->r->connection->bucket_alloc;

    st->r->connection->keepalive = AP_CONN_CLOSE;
    st->r->no_cache = 1;
    if (!st->client_gone) {
        APR_BRIGADE_INSERT_TAIL(st->bb,
            ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, st->r->pool, ba));
        APR_BRIGADE_INSERT_TAIL(st->bb, apr_bucket_eos_create(ba));
        ap_pass_brigade(st->r->output_filters, st->bb);
        apr_brigade_cleanup(st->bb);
    }
    st->r->connection->aborted = 1;
    return OK;
}

void zddc_respond_copy_headers(request_rec *r, apr_table_t *upstream,
                               apr_off_t content_length)
{
    static const char *const names[] = {
        "Last-Modified", "ETag", "Content-Disposition", "Content-Language",
        "Cache-Control", "Expires", NULL
    };
    const char *ct = apr_table_get(upstream, "Content-Type");
    int i;

    for (i = 0; names[i]; i++) {
        const char *v = apr_table_get(upstream, names[i]);
        if (v) {
            apr_table_setn(r->headers_out, names[i], v);
        }
    }
    if (ct) {
        ap_set_content_type(r, ct);
    }
    if (content_length >= 0) {
        ap_set_content_length(r, content_length);
    }
}

const char *zddc_respond_local_location(request_rec *r,
                                        const zddc_server_conf *conf,
                                        const char *location)
{
    const char *base = conf->upstream;
    apr_size_t blen = strlen(base);
    const char *path = NULL;
    const char *prefix;

    if (strncmp(location, base, blen) == 0
        && (location[blen] == '/' || location[blen] == '\0')) {
        path = location + blen;
    }
    else if (location[0] == '/') {
        /* A path-absolute Location: strip the upstream's own path prefix. */
        prefix = ap_strchr_c(ap_strstr_c(base, "://") + 3, '/');
        if (prefix && *prefix) {
            apr_size_t plen = strlen(prefix);
            if (strncmp(location, prefix, plen) != 0
                || (location[plen] != '/' && location[plen] != '\0')) {
                return NULL;
            }
            path = location + plen;
        }
        else {
            path = location;
        }
    }
    if (!path) {
        return NULL;
    }
    if (*path == '\0') {
        path = "/";
    }
    return ap_construct_url(r->pool, path, r);
}
