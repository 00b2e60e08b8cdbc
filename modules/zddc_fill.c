/* The fill engine: one upstream exchange for a file turned into the cache's
 * copy (validators, same-second dates, no-store), synchronous for the
 * walker, on a background thread for the request path (SPEC §5). */
#include <pthread.h>
#include <signal.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_thread_pool.h>

#include <httpd.h>
#include <http_log.h>

#include "zddc_fill.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

/* Background fills in flight in one process at most; more wait their
 * turn (each holds an upstream connection). */
#define FILL_THREADS_MAX 128

/* Fills through a walk's session: a body up to this size that arrives in
 * one piece is kept in memory and handed to the store, head first, by the
 * walk's thread once the answer is complete. The session's one loop
 * thread runs the callbacks of every transfer in flight, so file work
 * there holds up all of them. */
#define FILL_DEFER_MAX (64 * 1024)

/* Per child: the threads of background fills and the pool their own pools
 * hang from (its allocator locked: fills end on their own threads). */
static apr_thread_pool_t *fill_threads;
static apr_pool_t *fill_root;
/* Raised when the child goes away: every fill's transfer stops. */
static volatile apr_uint32_t fill_stop;

typedef struct {
    zddc_server_conf *conf;
    const zddc_store_provider *sp;
    const char *url;
    zddc_store_obj *obj;         /* the copy filled */
    zddc_store_tmp *tmp;         /* the leader's temp */
    int spool;                   /* keep a no-store body in the temp for the
                                    request that started the fill */
    int have;
    apr_off_t body_max;          /* > 0: a 200 whose body may be larger is
                                    not taken (ZDDC_FILL_BUSY) */
    apr_time_t ims;
    apr_time_t answered;         /* when the headers arrived */
    int confirmed;               /* a 304 confirmed the copy (touched) */
    volatile apr_uint32_t *cancel;
    zddc_upstream_session *session;
    zddc_fill_progress_fn *progress;
    void *baton;
    zddc_fill_result *res;
    zddc_fill *shared;           /* the background fill, or NULL */
    apr_status_t store_rv;
    apr_off_t stored;            /* body bytes written to the temp */
    apr_size_t defer_max;        /* > 0: keep the head, and a body of up to
                                    this many bytes in one piece, until
                                    fill_flush */
    int head_pending;            /* head (below) not given to the store */
    zddc_store_head head;
    char *held;                  /* a whole body not given to the store */
    apr_size_t held_len;
    apr_pool_t *p;
} fill_exchange;

struct zddc_fill {
    apr_pool_t *pool;
    apr_thread_mutex_t *m;
    apr_thread_cond_t *cv;
    int refs;
    int head_ready;
    int ended;
    int first_sent;              /* the requesting client sent its first
                                    bytes, or left (fill_signal) */
    apr_off_t written;
    zddc_fill_result res;
    fill_exchange x;
};

apr_time_t zddc_fill_store_mtime(apr_time_t lm, apr_time_t now)
{
    /* A date in the future is kept as it is: back-dated, it would never
     * match a listing and every walk would download the file again. */
    if (lm && lm <= now && apr_time_sec(lm) + 1 >= apr_time_sec(now)) {
        return lm - apr_time_from_sec(1);
    }
    return lm;
}

apr_time_t zddc_fill_ims(zddc_server_conf *conf, zddc_store_obj *obj,
                         const zddc_fill_copy *copy, apr_pool_t *p)
{
    zddc_store_meta meta;

    if (!copy || !copy->have) {
        return 0;
    }
    if (copy->has_validator) {
        return copy->mtime;
    }
    if (conf->store_provider->meta_get(obj, &meta, p)
        == APR_SUCCESS && meta.no_validator) {
        return 0;
    }
    return copy->mtime;
}

static zddc_fill_e fill_classify(int status)
{
    switch (status) {
    case 200:
        return ZDDC_FILL_STORED;
    case 304:
        return ZDDC_FILL_NOT_MODIFIED;
    case 401:
        return ZDDC_FILL_UNAUTHORIZED;
    case 403:
    case 404:
    case 410:
        return ZDDC_FILL_GONE;
    default:
        return ZDDC_FILL_OTHER;
    }
}

/* How long a download's writer waits for the client that asked for it
 * to send the first bytes it stored (fill_signal). */
#define FILL_FIRST_WAIT apr_time_from_msec(5)

/* After the first bytes of a body with more to come, the writer lets the
 * client that asked for it send them before it takes the CPU back: on a
 * machine with few cores the writer and the master otherwise keep that
 * client's thread waiting for a CPU for milliseconds (P3, time to first
 * byte). Bounded, and only while that client is there: a client that
 * does not take them holds the download up no longer. */
static void fill_signal(fill_exchange *x, int head, apr_off_t written)
{
    zddc_fill *f = x->shared;
    int first;

    if (!f) {
        return;
    }
    apr_thread_mutex_lock(f->m);
    if (head) {
        f->head_ready = 1;
    }
    first = f->written == 0 && written > 0;
    f->written += written;
    apr_thread_cond_broadcast(f->cv);
    if (first && (x->res->resp.content_length < 0
                  || x->stored < x->res->resp.content_length)) {
        apr_time_t end = apr_time_now() + FILL_FIRST_WAIT;
        apr_time_t now;

        while (!f->first_sent && f->refs > 1
               && (now = apr_time_now()) < end) {
            apr_thread_cond_timedwait(f->cv, f->m, end - now);
        }
    }
    apr_thread_mutex_unlock(f->m);
}

/* ZddcCacheMaxFileSize: the download is stopped and its temp discarded
 * (followers see it fail, the previous copy stays); logged here, once per
 * fill, for the request path and the walker alike (the path as it is:
 * httpd escapes error log messages itself). */
static apr_status_t fill_too_large(fill_exchange *x, apr_off_t size,
                                   int announced)
{
    if (x->tmp) {
        x->sp->discard(x->tmp);
        x->tmp = NULL;
    }
    x->res->outcome = ZDDC_FILL_FAILED;
    x->res->too_large = 1;
    x->res->store_error = "larger than ZddcCacheMaxFileSize";
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, x->conf->server,
                 ZDDC_LOGNO(01076) "zddc_mirror: %s: %s %" APR_OFF_T_FMT
                 " bytes, over ZddcCacheMaxFileSize (%" APR_INT64_T_FMT
                 "): download stopped, nothing stored",
                 x->url,
                 announced ? "Content-Length of" : "body grew past",
                 size, x->conf->max_file_size);
    return ZDDC_UP_EABORT;
}

static apr_status_t fill_on_headers(void *baton, const zddc_upstream_resp *resp)
{
    fill_exchange *x = baton;
    zddc_store_head head;
    apr_status_t rv = APR_SUCCESS;

    x->answered = apr_time_now();
    x->res->outcome = fill_classify(resp->status);
    if (resp->status == 200) {
        if (resp->no_store) {
            x->res->outcome = ZDDC_FILL_NO_STORE;
        }
        if (resp->no_store && !x->spool) {
            if (x->tmp) {
                x->sp->discard(x->tmp);
                x->tmp = NULL;
            }
            rv = APR_EINCOMPLETE;    /* nothing to keep, nobody to feed */
        }
        else if (x->conf->max_file_size >= 0 && resp->content_length >= 0
                 && resp->content_length > x->conf->max_file_size) {
            rv = fill_too_large(x, resp->content_length, 1);
        }
        else if (x->body_max > 0 && (resp->content_length < 0
                                     || resp->content_length > x->body_max)) {
            x->res->outcome = ZDDC_FILL_BUSY;
            rv = ZDDC_UP_EABORT;
        }
        else if (!x->tmp) {
            int leader = 0;

            rv = x->sp->begin(x->obj, &x->tmp, &leader, x->p);
            if (rv == APR_SUCCESS && !leader) {
                x->sp->unfollow(x->tmp);
                x->tmp = NULL;
                rv = APR_EAGAIN;
            }
            if (rv != APR_SUCCESS) {
                x->tmp = NULL;
                x->res->outcome = APR_STATUS_IS_EAGAIN(rv) ? ZDDC_FILL_BUSY
                                                           : ZDDC_FILL_FAILED;
                x->store_rv = rv;
            }
        }
        if (x->tmp) {
            memset(&head, 0, sizeof(head));
            head.last_modified = resp->last_modified;
            head.length = resp->content_length;
            head.no_store = resp->no_store;
            head.content_type = apr_table_get(resp->headers, "Content-Type");
            head.content_disposition = apr_table_get(resp->headers,
                                                     "Content-Disposition");
            if (x->defer_max) {
                x->head = head;
                x->head_pending = 1;
            }
            else {
                /* Without it, followers lack only their headers. */
                x->sp->head_set(x->tmp, &head);
            }
        }
    }
    else if (x->tmp) {
        /* Nothing to write: followers see the writer gone at once. A 304
         * confirms the copy first, so whoever takes the file next sees it
         * confirmed and does not ask again. */
        if (resp->status == 304 && x->have) {
            x->sp->touch(x->obj);
            x->confirmed = 1;
        }
        x->sp->discard(x->tmp);
        x->tmp = NULL;
    }
    fill_signal(x, 1, 0);
    return rv;
}

/* What the exchange holds back goes to the store: the head before any
 * body byte, as followers expect. */
static apr_status_t fill_flush(fill_exchange *x)
{
    apr_status_t rv = APR_SUCCESS;

    if (x->head_pending) {
        x->head_pending = 0;
        x->sp->head_set(x->tmp, &x->head);
    }
    if (x->held_len) {
        rv = x->sp->write(x->tmp, x->held, x->held_len);
        x->held_len = 0;
    }
    return rv;
}

/* Keep a body back only when this one piece is all of it: a follower of
 * a download still coming in is fed as its bytes arrive. */
static int fill_hold(fill_exchange *x, const char *data, apr_size_t len)
{
    if (!x->head_pending || x->held_len || len > x->defer_max
        || x->head.length != (apr_off_t)len) {
        return 0;
    }
    x->held = apr_pmemdup(x->p, data, len);
    x->held_len = len;
    return 1;
}

static apr_status_t fill_on_body(void *baton, const char *data, apr_size_t len)
{
    fill_exchange *x = baton;
    apr_status_t rv;

    if (!x->tmp) {
        return APR_SUCCESS;
    }
    if (x->conf->max_file_size >= 0
        && (apr_uint64_t)x->stored + len
           > (apr_uint64_t)x->conf->max_file_size) {
        return fill_too_large(x, x->stored + (apr_off_t)len, 0);
    }
    x->stored += (apr_off_t)len;
    if (fill_hold(x, data, len)) {
        rv = APR_SUCCESS;
    }
    else if ((rv = fill_flush(x)) == APR_SUCCESS) {
        rv = x->sp->write(x->tmp, data, len);
    }
    if (rv != APR_SUCCESS) {
        x->store_rv = rv;
        return rv;
    }
    if (x->progress && (rv = x->progress(x->baton, len)) != APR_SUCCESS) {
        return rv;
    }
    fill_signal(x, 0, (apr_off_t)len);
    return APR_SUCCESS;
}

/* The request of an exchange: x->tmp is already the leader's temp
 * (background fills, walks) or taken on a 200. */
static void fill_exchange_req(fill_exchange *x, zddc_upstream_req *req)
{
    memset(req, 0, sizeof(*req));
    req->path = x->url;
    req->if_modified_since = x->ims;
    req->body_length = -1;
    req->on_headers = fill_on_headers;
    req->on_body = fill_on_body;
    req->baton = x;
    req->cancel = x->cancel;
    req->session = x->session;
    x->res->outcome = ZDDC_FILL_FAILED;
}

/* The answer (rv: the transport's verdict) into the cache. */
static zddc_fill_e fill_exchange_end(fill_exchange *x, apr_status_t rv)
{
    zddc_fill_result *res = x->res;
    zddc_store_meta meta;
    int count = 0, keep = 0;

    res->rv = rv;

    if (rv != APR_SUCCESS) {
        if (x->tmp) {
            x->sp->discard(x->tmp);
            x->tmp = NULL;
        }
        if (res->outcome == ZDDC_FILL_NO_STORE && !x->spool) {
            rv = APR_SUCCESS;           /* stopped on purpose */
        }
        else if (res->outcome != ZDDC_FILL_BUSY) {
            res->outcome = ZDDC_FILL_FAILED;
            if (x->store_rv != APR_SUCCESS) {
                char buf[120];

                res->store_error = apr_pstrdup(x->p, apr_strerror(x->store_rv,
                                                                  buf,
                                                                  sizeof(buf)));
            }
            return res->outcome;
        }
        else {
            return res->outcome;
        }
    }

    switch (res->outcome) {
    case ZDDC_FILL_STORED:
        if (!x->tmp) {
            res->outcome = ZDDC_FILL_FAILED;
            break;
        }
        /* Kept with the copy: no validator (never answered 304 on a
         * made-up date, fetched unconditionally next time), and the
         * headers the master chose for it, so a HIT sends what the MISS
         * sent. Only then: a metadata file per copy costs a walk. */
        memset(&meta, 0, sizeof(meta));
        meta.no_validator = !res->resp.last_modified;
        meta.content_disposition = apr_table_get(res->resp.headers,
                                                 "Content-Disposition");
        keep = meta.no_validator || meta.content_disposition;
        if (keep) {
            meta.validated_at = apr_time_now();
            meta.content_type = apr_table_get(res->resp.headers,
                                              "Content-Type");
        }
        rv = fill_flush(x);
        if (rv == APR_SUCCESS) {
            apr_time_t mtime = zddc_fill_store_mtime(res->resp.last_modified,
                                                     x->answered);

            /* published with its metadata: the MISS's client may ask
             * again the moment it has the body (t/cache_headers_kept.t) */
            if (keep && x->sp->commit_meta) {
                rv = x->sp->commit_meta(x->tmp, mtime, &meta);
                keep = 0;
            }
            else {
                rv = x->sp->commit(x->tmp, mtime);
            }
        }
        else {
            x->sp->discard(x->tmp);
        }
        x->tmp = NULL;
        if (rv != APR_SUCCESS) {
            char buf[120];

            res->outcome = ZDDC_FILL_FAILED;
            res->store_error = apr_pstrdup(x->p, apr_strerror(rv, buf,
                                                              sizeof(buf)));
            break;
        }
        res->published = 1;
        if (keep) {
            x->sp->meta_set(x->obj, &meta, x->p);
        }
        break;
    case ZDDC_FILL_NO_STORE:
        if (x->tmp) {
            x->sp->discard(x->tmp);     /* the spool goes with its reader */
            x->tmp = NULL;
        }
        /* The master no longer lets this be kept: a copy kept before
         * would be served stale later. */
        if (x->have
            && x->sp->purge(x->conf->store, x->url, &count, x->p)
               == APR_SUCCESS) {
            res->purged = 1;
        }
        break;
    case ZDDC_FILL_NOT_MODIFIED:
        if (x->have && !x->confirmed) {
            x->sp->touch(x->obj);
        }
        break;
    default:
        break;
    }
    if (x->tmp) {
        x->sp->discard(x->tmp);
        x->tmp = NULL;
    }
    return res->outcome;
}

/* The exchange itself, on whichever thread. */
static zddc_fill_e fill_exchange_run(fill_exchange *x)
{
    zddc_upstream_req req;

    fill_exchange_req(x, &req);
    return fill_exchange_end(x, zddc_upstream_perform(x->conf->up, &req,
                                                      &x->res->resp, x->p));
}

static void fill_exchange_init(fill_exchange *x, zddc_server_conf *conf,
                               const char *url, zddc_store_obj *obj,
                               const zddc_fill_copy *copy,
                               zddc_fill_result *res, apr_pool_t *p)
{
    memset(x, 0, sizeof(*x));
    memset(res, 0, sizeof(*res));
    x->conf = conf;
    x->sp = conf->store_provider;
    x->url = url;
    x->obj = obj;
    x->have = copy && copy->have;
    x->ims = zddc_fill_ims(conf, obj, copy, p);
    x->res = res;
    x->p = p;
}

/* A walk's file is taken for writing before its request, so the
 * session's loop thread does no file work; held by another writer, there
 * is nothing to ask for now. 0: x->res says why not. */
static int fill_take(fill_exchange *x)
{
    int leader = 0;
    apr_status_t rv = x->sp->begin(x->obj, &x->tmp, &leader, x->p);

    if (rv == APR_SUCCESS && !leader) {
        x->sp->unfollow(x->tmp);
        x->tmp = NULL;
        rv = APR_EAGAIN;
    }
    if (rv != APR_SUCCESS) {
        char buf[120];

        x->res->outcome = APR_STATUS_IS_EAGAIN(rv) ? ZDDC_FILL_BUSY
                                                   : ZDDC_FILL_FAILED;
        x->res->store_error = apr_pstrdup(x->p, apr_strerror(rv, buf,
                                                             sizeof(buf)));
        return 0;
    }
    x->defer_max = FILL_DEFER_MAX;
    return 1;
}

typedef struct {
    fill_exchange *x;
    zddc_fill_item *items;
    const int *asked;
    zddc_fill_done_fn *done;
    void *baton;
} fill_all;

static void fill_all_ended(void *baton, int k, apr_status_t rv)
{
    fill_all *a = baton;
    zddc_fill_item *it = &a->items[a->asked[k]];

    it->outcome = fill_exchange_end(&a->x[a->asked[k]], rv);
    if (a->done) {
        a->done(a->baton, it);
    }
}

void zddc_fill_sync_all(zddc_server_conf *conf,
                        zddc_upstream_session *session,
                        zddc_fill_item *items, int n,
                        volatile apr_uint32_t *cancel,
                        zddc_fill_progress_fn *progress,
                        zddc_fill_done_fn *done, void *baton,
                        apr_pool_t *p)
{
    fill_exchange x[ZDDC_UPSTREAM_ALL_MAX];
    zddc_upstream_req req[ZDDC_UPSTREAM_ALL_MAX];
    zddc_upstream_req *reqs[ZDDC_UPSTREAM_ALL_MAX];
    zddc_upstream_resp *resps[ZDDC_UPSTREAM_ALL_MAX];
    apr_status_t rvs[ZDDC_UPSTREAM_ALL_MAX];
    int asked[ZDDC_UPSTREAM_ALL_MAX];
    fill_all a = { x, items, asked, done, baton };
    int i, m = 0;

    n = n > ZDDC_UPSTREAM_ALL_MAX ? ZDDC_UPSTREAM_ALL_MAX : n;
    for (i = 0; i < n; i++) {
        zddc_fill_item *it = &items[i];
        apr_pool_t *ip = p;

        /* an answer is stored here while the loop writes the next ones */
        if (n > 1) {
            apr_pool_create(&ip, p);
        }
        fill_exchange_init(&x[i], conf, it->url, it->obj, &it->copy,
                           &it->res, ip);
        x[i].cancel = cancel;
        x[i].session = session;
        x[i].progress = progress;
        x[i].baton = baton;
        if (!fill_take(&x[i])) {
            it->outcome = it->res.outcome;
            if (done) {
                done(baton, it);
            }
            continue;
        }
        fill_exchange_req(&x[i], &req[m]);
        req[m].pool = ip;
        reqs[m] = &req[m];
        resps[m] = &it->res.resp;
        asked[m++] = i;
    }
    if (m > 0) {
        zddc_upstream_perform_all(conf->up, reqs, resps, rvs, m,
                                  fill_all_ended, &a, p);
    }
}

zddc_fill_e zddc_fill_sync(zddc_server_conf *conf,
                           zddc_upstream_session *session, const char *url,
                           zddc_store_obj *obj, const zddc_fill_copy *copy,
                           volatile apr_uint32_t *cancel,
                           zddc_fill_progress_fn *progress, void *baton,
                           zddc_fill_result *res, apr_pool_t *p)
{
    fill_exchange x;

    if (session) {
        zddc_fill_item it;

        memset(&it, 0, sizeof(it));
        it.url = url;
        it.obj = obj;
        it.copy = *copy;
        zddc_fill_sync_all(conf, session, &it, 1, cancel, progress, NULL,
                           baton, p);
        *res = it.res;
        return it.outcome;
    }
    fill_exchange_init(&x, conf, url, obj, copy, res, p);
    x.cancel = cancel;
    x.progress = progress;
    x.baton = baton;
    return fill_exchange_run(&x);
}

static void fill_note_upstream(zddc_server_conf *conf,
                               const zddc_fill_result *res);

zddc_fill_e zddc_fill_here(zddc_server_conf *conf, const char *url,
                           zddc_store_obj *obj, const zddc_fill_copy *copy,
                           apr_off_t body_max, zddc_fill_result *res,
                           apr_pool_t *p)
{
    fill_exchange x;
    zddc_fill_e got;

    fill_exchange_init(&x, conf, url, obj, copy, res, p);
    x.body_max = body_max;
    x.cancel = &fill_stop;
    got = fill_exchange_run(&x);
    fill_note_upstream(conf, res);
    return got;
}

static void fill_unref(zddc_fill *f)
{
    int last;

    apr_thread_mutex_lock(f->m);
    last = --f->refs == 0;
    apr_thread_mutex_unlock(f->m);
    if (last) {
        apr_pool_destroy(f->pool);
    }
}

/* What a background fill says of the master's reachability, for
 * ZddcCacheStaleWhileRevalidate's verdict (UPDATING or STALE). */
static void fill_note_upstream(zddc_server_conf *conf,
                               const zddc_fill_result *res)
{
    int down = (res->outcome == ZDDC_FILL_FAILED
                && (res->rv == ZDDC_UP_ECONNECT || res->rv == ZDDC_UP_ETIMEOUT))
               || (res->outcome == ZDDC_FILL_OTHER && res->resp.status >= 500);

    if (down) {
        apr_atomic_cas64(&conf->upstream_down_since,
                         (apr_uint64_t)apr_time_now(), 0);
    }
    else if (res->outcome != ZDDC_FILL_FAILED
             && res->outcome != ZDDC_FILL_BUSY) {
        apr_atomic_set64(&conf->upstream_down_since, 0);
    }
}

static void *APR_THREAD_FUNC fill_task(apr_thread_t *thd, void *data)
{
    zddc_fill *f = data;

    fill_exchange_run(&f->x);
    fill_note_upstream(f->x.conf, &f->res);
    apr_thread_mutex_lock(f->m);
    f->head_ready = 1;
    f->ended = 1;
    apr_thread_cond_broadcast(f->cv);
    apr_thread_mutex_unlock(f->m);
    fill_unref(f);
    return NULL;
}

/* Under prefork a SIGTERM makes the child exit from inside the signal
 * handler, pchild's cleanups (fill_child_stop, which waits for the fill
 * threads) included, on whatever the request thread was doing. So the
 * request thread holds the fills' locks (a fill's mutex, the fills'
 * allocator, the thread pool's) only with those signals blocked. */
static void fill_signals_block(sigset_t *saved)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void fill_signals_restore(const sigset_t *saved)
{
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* Threads the pool starts for the task inherit the pusher's signal mask:
 * with every signal blocked, none of the MPM's signals lands on a fill
 * thread (under prefork a SIGTERM handled there would destroy the pool
 * from one of its own threads). */
static apr_status_t fill_push(zddc_fill *f)
{
    sigset_t all, saved;
    apr_status_t rv;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    rv = apr_thread_pool_push(fill_threads, fill_task, f,
                              APR_THREAD_TASK_PRIORITY_NORMAL, NULL);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rv;
}

static apr_status_t fill_start(zddc_server_conf *conf, const char *url,
                               zddc_store_obj *obj, const zddc_fill_copy *copy,
                               zddc_fill **fillp, zddc_store_tmp **follow,
                               apr_pool_t *p);

apr_status_t zddc_fill_start(zddc_server_conf *conf, const char *url,
                             zddc_store_obj *obj, const zddc_fill_copy *copy,
                             zddc_fill **fillp, zddc_store_tmp **follow,
                             apr_pool_t *p)
{
    sigset_t saved;
    apr_status_t rv;

    fill_signals_block(&saved);
    rv = fill_start(conf, url, obj, copy, fillp, follow, p);
    fill_signals_restore(&saved);
    return rv;
}

/* Whether obj was confirmed by the master after `seen`. */
static int fill_confirmed_since(const zddc_store_provider *sp,
                                zddc_store_obj *obj, apr_time_t seen,
                                apr_pool_t *p)
{
    apr_finfo_t fi;

    return sp->stat(obj, &fi, p) == APR_SUCCESS
           && sp->validated_at(obj, &fi) > seen;
}

static apr_status_t fill_start(zddc_server_conf *conf, const char *url,
                               zddc_store_obj *obj, const zddc_fill_copy *copy,
                               zddc_fill **fillp, zddc_store_tmp **follow,
                               apr_pool_t *p)
{
    const zddc_store_provider *sp = conf->store_provider;
    apr_status_t rv;
    int attempt;

    *fillp = NULL;
    *follow = NULL;
    if (!fill_threads || !fill_root) {
        return APR_ENOTIMPL;
    }
    for (attempt = 0; attempt < 3; attempt++) {
        zddc_fill *f;
        apr_pool_t *fp;
        int leader = 0;

        /* The writer's temp belongs to a fill of its own, which outlives
         * the request; the request follows it like anyone else. */
        apr_pool_create(&fp, fill_root);
        apr_pool_tag(fp, "zddc_fill");
        f = apr_pcalloc(fp, sizeof(*f));
        f->pool = fp;
        /* The fill outlives the caller's pool: its own handle on obj. */
        rv = sp->obj(conf->store, url, sp->kind(obj), &f->x.obj, fp);
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(fp);
            return rv;
        }
        rv = sp->begin(obj, &f->x.tmp, &leader, fp);
        if (rv != APR_SUCCESS || !leader) {
            apr_pool_destroy(fp);       /* closes a follower handle */
            if (rv != APR_SUCCESS) {
                return rv;
            }
            /* Someone else's download: follow it. */
            rv = sp->begin(obj, follow, &leader, p);
            if (rv != APR_SUCCESS) {
                *follow = NULL;
                return rv;
            }
            if (!leader) {
                return APR_SUCCESS;
            }
            sp->discard(*follow);       /* it ended meanwhile: start over */
            *follow = NULL;
            continue;
        }
        if (copy && copy->have && copy->confirmed
            && fill_confirmed_since(sp, f->x.obj, copy->confirmed, fp)) {
            /* Another fill confirmed it after the caller looked: one
             * request is enough for everyone who saw it stale. */
            sp->discard(f->x.tmp);
            apr_pool_destroy(fp);
            return APR_EEXIST;
        }
        rv = sp->begin(obj, follow, &leader, p);
        if (rv != APR_SUCCESS || leader) {
            if (rv == APR_SUCCESS) {
                sp->discard(*follow);
            }
            *follow = NULL;
            sp->discard(f->x.tmp);
            apr_pool_destroy(fp);
            return rv == APR_SUCCESS ? APR_EGENERAL : rv;
        }
        if (apr_thread_mutex_create(&f->m, APR_THREAD_MUTEX_DEFAULT, fp)
            != APR_SUCCESS
            || apr_thread_cond_create(&f->cv, fp) != APR_SUCCESS) {
            sp->unfollow(*follow);
            *follow = NULL;
            sp->discard(f->x.tmp);
            apr_pool_destroy(fp);
            return APR_ENOMEM;
        }
        f->refs = 2;
        f->x.conf = conf;
        f->x.sp = sp;
        f->x.url = apr_pstrdup(fp, url);
        f->x.spool = 1;
        f->x.have = copy && copy->have;
        f->x.ims = zddc_fill_ims(conf, obj, copy, fp);
        f->x.cancel = &fill_stop;
        f->x.res = &f->res;
        f->x.shared = f;
        f->x.p = fp;
        rv = fill_push(f);
        if (rv != APR_SUCCESS) {
            sp->unfollow(*follow);
            *follow = NULL;
            sp->discard(f->x.tmp);
            apr_pool_destroy(fp);
            return rv;
        }
        *fillp = f;
        return APR_SUCCESS;
    }
    return APR_EAGAIN;
}

/* Wait until *flag (one of f's, read under its mutex) is set, or until
 * end (0: no end). In slices, the lock never held while a signal can
 * land. */
static void fill_wait_flag(zddc_fill *f, const int *flag, apr_time_t end)
{
    sigset_t saved;
    int set = 0;

    while (!set && (!end || apr_time_now() < end)) {
        fill_signals_block(&saved);
        apr_thread_mutex_lock(f->m);
        if (!*flag) {
            apr_thread_cond_timedwait(f->cv, f->m, apr_time_from_msec(100));
        }
        set = *flag;
        apr_thread_mutex_unlock(f->m);
        fill_signals_restore(&saved);
    }
}

const zddc_fill_result *zddc_fill_wait_head(zddc_fill *f)
{
    fill_wait_flag(f, &f->head_ready, 0);
    return &f->res;
}

int zddc_fill_ended(zddc_fill *f, apr_off_t *written)
{
    sigset_t saved;
    int ended;

    fill_signals_block(&saved);
    apr_thread_mutex_lock(f->m);
    ended = f->ended;
    if (written) {
        *written = f->written;
    }
    apr_thread_mutex_unlock(f->m);
    fill_signals_restore(&saved);
    return ended;
}

void zddc_fill_wait_more(zddc_fill *f, apr_off_t *seen,
                         apr_interval_time_t max)
{
    sigset_t saved;

    fill_signals_block(&saved);
    apr_thread_mutex_lock(f->m);
    if (f->written == *seen && !f->ended) {
        apr_thread_cond_timedwait(f->cv, f->m, max);
    }
    *seen = f->written;
    apr_thread_mutex_unlock(f->m);
    fill_signals_restore(&saved);
}

void zddc_fill_wait_end(zddc_fill *f, apr_interval_time_t max)
{
    fill_wait_flag(f, &f->ended, apr_time_now() + max);
}

void zddc_fill_first_sent(zddc_fill *f)
{
    sigset_t saved;

    fill_signals_block(&saved);
    apr_thread_mutex_lock(f->m);
    f->first_sent = 1;
    apr_thread_cond_broadcast(f->cv);
    apr_thread_mutex_unlock(f->m);
    fill_signals_restore(&saved);
}

void zddc_fill_release(zddc_fill *f)
{
    sigset_t saved;

    if (f) {
        zddc_fill_first_sent(f);
        fill_signals_block(&saved);
        fill_unref(f);
        fill_signals_restore(&saved);
    }
}

/* A pre-cleanup of pchild: transfers stop, the threads are joined before
 * the configuration they use goes. */
static apr_status_t fill_child_stop(void *data)
{
    apr_atomic_set32(&fill_stop, 1);
    if (fill_threads) {
        apr_thread_pool_destroy(fill_threads);
        fill_threads = NULL;
    }
    fill_root = NULL;
    return APR_SUCCESS;
}

void zddc_fill_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_allocator_t *alloc = NULL;
    apr_thread_mutex_t *m;
    apr_status_t rv;

    apr_atomic_set32(&fill_stop, 0);
    zddc_fill_reval_child_init(pchild);
    rv = apr_allocator_create(&alloc);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&m, APR_THREAD_MUTEX_DEFAULT, pchild);
    }
    if (rv == APR_SUCCESS) {
        apr_allocator_mutex_set(alloc, m);
        rv = apr_pool_create_ex(&fill_root, pchild, NULL, alloc);
    }
    if (rv == APR_SUCCESS) {
        apr_allocator_owner_set(alloc, fill_root);
        apr_pool_tag(fill_root, "zddc_fills");
        rv = apr_thread_pool_create(&fill_threads, 0, FILL_THREADS_MAX,
                                    pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     ZDDC_LOGNO(01009) "zddc_mirror: cannot start the threads that fill the "
                     "cache; requests will be answered without it");
        fill_threads = NULL;
        fill_root = NULL;
        return;
    }
    apr_thread_pool_idle_max_set(fill_threads, 8);
    apr_pool_pre_cleanup_register(pchild, NULL, fill_child_stop);
}

apr_table_t *zddc_fill_listing_conditions(zddc_server_conf *conf,
                                          zddc_store_obj *side, int have,
                                          zddc_store_meta *meta,
                                          apr_pool_t *p)
{
    apr_table_t *h;

    if (!have || conf->store_provider->meta_get(side, meta, p)
                 != APR_SUCCESS) {
        memset(meta, 0, sizeof(*meta));
    }
    if (!have || !meta->etag) {
        return NULL;
    }
    h = apr_table_make(p, 1);
    apr_table_setn(h, "If-None-Match", meta->etag);
    return h;
}

apr_status_t zddc_fill_listing_keep(zddc_server_conf *conf,
                                    zddc_store_obj *side, int have,
                                    const zddc_store_meta *old,
                                    const char *body, apr_size_t len,
                                    const zddc_upstream_resp *resp,
                                    apr_pool_t *p)
{
    const zddc_store_provider *sp = conf->store_provider;
    const char *etag = resp->headers ? apr_table_get(resp->headers, "ETag")
                                     : NULL;
    apr_time_t mtime = zddc_fill_store_mtime(resp->last_modified,
                                             apr_time_now());
    zddc_store_meta meta;
    char *cur = NULL;
    apr_size_t cur_len = 0;
    apr_finfo_t fi;
    apr_status_t rv;

    memset(&meta, 0, sizeof(meta));
    meta.validated_at = apr_time_now();
    meta.etag = etag;
    if (have
        && sp->stat(side, &fi, p) == APR_SUCCESS
        && fi.size == (apr_off_t)len
        && (!mtime || apr_time_sec(fi.mtime) == apr_time_sec(mtime))
        && sp->get(side, len, &cur, &cur_len, p) == APR_SUCCESS
        && cur_len == len && !memcmp(cur, body, len)) {
        sp->touch(side);
        if (etag && (!old || !old->etag || strcmp(old->etag, etag))) {
            sp->meta_set(side, &meta, p);
        }
        return APR_SUCCESS;
    }
    rv = sp->put(side, body, len, mtime, p);
    if (rv == APR_SUCCESS && etag) {
        sp->meta_set(side, &meta, p);
    }
    return rv;
}
