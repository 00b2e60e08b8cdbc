/* The walker: one walk of one subtree. Listings and files are fetched on a
 * thread pool bounded per walk; the walker thread keeps a stack of the
 * directories still to list and queues the work; purges are deferred to
 * the end (SPEC §6). */
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_thread_pool.h>

#include <httpd.h>
#include <http_log.h>

#include "zddc_walker.h"
#include "zddc_store.h"
#include "zddc_upstream.h"
#include "zddc_fill.h"
#include "zddc_json.h"
#include "zddc_util.h"
#include "zddc_cache_status.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

/* Live figures reach the shared slot at most this often. */
#define WALK_PUBLISH_EVERY apr_time_from_msec(250)
/* How often a waiting walker looks at its deadline and cancel flag. */
#define WALK_POLL apr_time_from_msec(250)
/* Files queued to the thread pool per allowed upstream request: enough to
 * keep every slot busy, few enough that a huge directory costs no memory. */
#define WALK_QUEUE_FACTOR 2
/* Requests a walk keeps handed over to its session beyond the
 * ZddcMirrorParallelism in flight (at most that many again): the session
 * starts one the moment an answer ends, while the walk's threads store
 * the answers (bench/PROFILE.md, P4). */
#define WALK_AHEAD_MAX 16
/* Files one thread-pool task asks for in a row: fewer hand-offs between
 * threads per file, while a directory still spreads over every slot. */
#define WALK_BATCH 4
/* How often a walk waiting for another writer of a file looks again. */
#define WALK_BUSY_POLL apr_time_from_msec(50)
/* Bytes a waiting walk reads per look at the other writer's download. */
#define WALK_BUSY_CHUNK (64 * 1024)
/* Skipped listing entries logged one by one per walk (SPEC §6.4). */
#define WALK_BAD_LOGGED 20
/* Freed memory the walk's task allocator keeps for the next tasks. */
#define WALK_POOL_MAX_FREE (2 * 1024 * 1024)
/* Directories listed ahead of their parent's listing at once, per
 * ZddcMirrorParallelism (a listed one waits, parsed, for its verdict). */
#define WALK_AHEAD_PER_SLOT 2

struct zddc_walker {
    apr_pool_t *pool;
    apr_thread_pool_t *walks;    /* one thread per walk in flight */
};

typedef enum {
    LISTING_OK,
    LISTING_GONE,       /* 403/404/410: purge the directory whole */
    LISTING_FAILED,     /* network, 5xx, bad JSON: leave it alone */
    LISTING_CANCELLED
} listing_e;

typedef struct walk_dir walk_dir;

/* A directory listed ahead (SPEC §6: a warm walk is bounded by its
 * requests, not by the depth of the tree times the round trip): the cache
 * holds it, so its listing is asked for beside its parent's. Nothing is
 * done with that listing (no file asked for, nothing purged, no
 * subdirectory pushed) until the parent's own listing names it as a
 * directory; otherwise it is dropped, with whatever was listed ahead
 * below it. */
typedef enum {
    AHEAD_QUEUED,        /* in ahead_pending */
    AHEAD_FLIGHT,        /* its listing is being fetched */
    AHEAD_PARKED         /* listed: d waits for the verdict */
} ahead_state;

typedef struct {
    char *url;           /* malloc'd, the key in walk_ctx.ahead */
    ahead_state state;
    int verdict;         /* 0 open, 1 its parent names it, -1 dropped */
    walk_dir *d;         /* AHEAD_PARKED */
} ahead_dir;

typedef struct {
    zddc_walk_job *job;
    zddc_server_conf *conf;
    const char *vhost;           /* for log lines: "name:port" */
    const zddc_store_provider *sp;
    zddc_store *st;
    apr_thread_pool_t *tp;       /* the walk's own threads, threads of them */
    server_rec *s;
    apr_pool_t *pool;            /* walker thread only */
    apr_pool_t *task_root;       /* parent of the task pools; its allocator
                                    is locked, so any thread may clear them */
    apr_time_t started;
    apr_time_t deadline;         /* 0 = none */
    apr_time_t last_publish;
    const char *root_failure;    /* why the subtree's own listing failed */
    int parallel;                /* requests in flight (the session's bound) */
    int threads;                 /* parallel and those asked for ahead */
    zddc_upstream_session *sess; /* the walk's requests in flight; NULL:
                                    each task's own request */
    zddc_walk_counts counts;     /* updated with apr_atomic_add64 only */
    volatile apr_uint32_t bad_entries; /* listing entries skipped */
    volatile apr_uint32_t answers;     /* upstream answers (not errors) */
    volatile apr_uint32_t stale_answers; /* of them, a tier's stale copy */

    /* Walker thread only. */
    apr_array_header_t *pending; /* char *: directories still to list, the
                                    next on top (malloc'd, freed once taken) */
    int dirs_held;               /* listings asked for, not yet walked */
    int root_sent;

    apr_thread_mutex_t *mutex;   /* guards everything below */
    apr_thread_cond_t *wake;     /* the walker: a task ended */
    int waiting;                 /* the walker waits on wake */
    apr_thread_cond_t *freed;    /* tasks: an upstream slot came free */
    int tokens;                  /* upstream requests that may be asked for
                                    now (threads of them) */
    int outstanding;             /* file batches pushed and not finished */
    walk_dir *done, *done_tail;  /* fetched listings waiting for the walker */
    apr_pool_t **spare;          /* cleared task pools, for the next task */
    int nspare, spare_max;
    apr_pool_t *plan_pool;       /* plan and report, under mutex */
    apr_array_header_t *plan;    /* url paths to purge when the walk ends */
    apr_hash_t *ahead;           /* url -> ahead_dir: listed ahead */
    apr_array_header_t *ahead_pending; /* ahead_dir *: to list, in
                                    plan_pool; after pending */
    int ahead_live, ahead_max;   /* ahead_dirs there are, may be */
    walk_dir *ready, *ready_tail; /* listed ahead, then named: to walk */
    apr_uint64_t plan_paths;     /* paths planned (plan may hold fewer) */
    apr_uint64_t plan_entries;   /* local entries below them */
    zddc_walk_report report;
} walk_ctx;

/* One directory, in a task pool of its own: on the thread pool its listing
 * is fetched and compared with the local directory (purges planned, files
 * that are current counted), then the walker thread queues the files left
 * to ask for and pushes the subdirectories. */
struct walk_dir {
    walk_ctx *w;
    apr_pool_t *pool;
    const char *url;             /* "/a/b/" */
    int is_root;
    listing_e got;
    apr_array_header_t *files;   /* file_task: the files to ask for */
    apr_array_header_t *subdirs; /* const char *: "/a/b/c/"; an entry is
                                    NULL once it was listed ahead
                                    (walk_ahead_verdicts) */
    walk_dir *next;              /* in the done or ready queue */
    ahead_dir *ahead;            /* listed ahead, verdict open */
    apr_array_header_t *kids;    /* ahead_dir *: what it listed ahead */
    int listed;                  /* the listing below is in */
    apr_pool_t *lp;              /* the listing, until compared */
    apr_array_header_t *entries, *skipped;
    int nskipped;
};

typedef struct {
    walk_ctx *w;
    apr_pool_t *pool;            /* a task pool, given back when it ends */
    const char *url;
    zddc_store_obj *obj;         /* made on demand, in pool */
    int have_local;
    apr_time_t ims;
    int busy;                    /* another writer held it at the first ask */
} file_task;

typedef struct {
    walk_ctx *w;
    apr_pool_t *pool;            /* a task pool, given back when it ends */
    int n;
    file_task files[WALK_BATCH];
} file_batch;


#define WALK_ADD(w, field, n) \
    apr_atomic_add64(&(w)->counts.field, (apr_uint64_t)(n))

static int walk_cancelled(walk_ctx *w)
{
    return apr_atomic_read32(&w->job->cancel) != 0;
}

/* Raise the cancel flag; true for the caller whose reason won. */
static int walk_cancel(walk_ctx *w, apr_uint32_t why)
{
    return apr_atomic_cas32(&w->job->cancel, why, 0) == 0;
}

/* Polled often: ends the walk on its timeout. (The scheduler raises the
 * flag when the process is going away or its generation is over.) */
/* Count an upstream answer, and whether a tier above served it from a
 * stale copy (its Cache-Status says so): a walk that saw nothing else
 * learnt nothing from the master (SPEC §5, §10). */
static void walk_note_answer(walk_ctx *w, const zddc_upstream_resp *resp)
{
    if (resp->status < 200 || resp->status >= 500) {
        return;
    }
    apr_atomic_inc32(&w->answers);
    if (resp->headers && zddc_cache_status_says_stale(
                             apr_table_get(resp->headers, "Cache-Status"))) {
        apr_atomic_inc32(&w->stale_answers);
    }
}

static int walk_check_deadline(walk_ctx *w)
{
    if (walk_cancelled(w)) {
        return 1;
    }
    if (w->deadline && apr_time_now() > w->deadline) {
        walk_cancel(w, ZDDC_CANCEL_TIMEOUT);
    }
    return walk_cancelled(w);
}

/* A listing entry that is skipped (SPEC §6.4): logged, control characters
 * escaped, at most WALK_BAD_LOGGED times per walk (the rest are counted
 * and reported in one line when the walk ends). */
static void walk_bad_entry(walk_ctx *w, const char *url_dir, const char *name,
                           const char *why, apr_pool_t *p)
{
    if (apr_atomic_inc32(&w->bad_entries) >= WALK_BAD_LOGGED) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                 ZDDC_LOGNO(01053) "zddc_mirror: %s: walk of %s: skipping the entry \"%s\" of "
                 "%s: %s", w->vhost, w->job->subtree,
                 name ? name : "(no name)",
                 url_dir, why);
}

/* Walker thread only: the figures so far, for the scheduler to show. */
static void walk_publish(walk_ctx *w, int force)
{
    zddc_walk_counts *live = &w->job->live;
    apr_time_t now = apr_time_now();

    if (!force && now - w->last_publish < WALK_PUBLISH_EVERY) {
        return;
    }
    w->last_publish = now;
    apr_atomic_set64(&live->dirs, apr_atomic_read64(&w->counts.dirs));
    apr_atomic_set64(&live->files, apr_atomic_read64(&w->counts.files));
    apr_atomic_set64(&live->done, apr_atomic_read64(&w->counts.done));
    apr_atomic_set64(&live->fetched, apr_atomic_read64(&w->counts.fetched));
    apr_atomic_set64(&live->skipped, apr_atomic_read64(&w->counts.skipped));
    apr_atomic_set64(&live->purged, apr_atomic_read64(&w->counts.purged));
    apr_atomic_set64(&live->errors, apr_atomic_read64(&w->counts.errors));
    apr_atomic_set64(&live->bytes, apr_atomic_read64(&w->counts.bytes));
    apr_atomic_set64(&live->busy, apr_atomic_read64(&w->counts.busy));
}

/* A path for the change report (SPEC §6.8): the first
 * ZDDC_REPORT_MAX_PATHS of each list are kept, all are counted. */
static void walk_report_add(walk_ctx *w, apr_array_header_t *list,
                            apr_uint64_t *total, const char *url)
{
    apr_thread_mutex_lock(w->mutex);
    (*total)++;
    if (list->nelts < ZDDC_REPORT_MAX_PATHS) {
        APR_ARRAY_PUSH(list, const char *) = apr_pstrdup(w->plan_pool, url);
    }
    apr_thread_mutex_unlock(w->mutex);
}

/* Task pools: subpools of task_root, cleared when a task ends and kept for
 * the next one, so a walk creates a handful of pools whatever its size. */
static apr_pool_t *walk_pool_get(walk_ctx *w)
{
    apr_pool_t *p = NULL;

    apr_thread_mutex_lock(w->mutex);
    if (w->nspare > 0) {
        p = w->spare[--w->nspare];
    }
    apr_thread_mutex_unlock(w->mutex);
    if (!p) {
        apr_pool_create(&p, w->task_root);
        apr_pool_tag(p, "zddc_walk_task");
    }
    return p;
}

/* With the mutex held; p is cleared. */
static void walk_pool_put_locked(walk_ctx *w, apr_pool_t *p)
{
    if (w->nspare < w->spare_max) {
        w->spare[w->nspare++] = p;
    }
    else {
        apr_pool_destroy(p);
    }
}

static void walk_pool_put(walk_ctx *w, apr_pool_t *p)
{
    apr_pool_clear(p);
    apr_thread_mutex_lock(w->mutex);
    walk_pool_put_locked(w, p);
    apr_thread_mutex_unlock(w->mutex);
}

/* Walker thread, with the mutex held: wait until a listing is back or the
 * file queue is down to half (tasks signal only then), or WALK_POLL. */
static void walk_wait(walk_ctx *w)
{
    w->waiting = 1;
    apr_thread_cond_timedwait(w->wake, w->mutex, WALK_POLL);
    w->waiting = 0;
}

/* Take one of the walk's ZddcMirrorParallelism upstream slots; 0 when the
 * walk was cancelled meanwhile. */
static int walk_acquire(walk_ctx *w)
{
    for (;;) {
        apr_thread_mutex_lock(w->mutex);
        if (walk_cancelled(w)) {
            apr_thread_mutex_unlock(w->mutex);
            return 0;
        }
        if (w->tokens > 0) {
            w->tokens--;
            apr_thread_mutex_unlock(w->mutex);
            return 1;
        }
        apr_thread_cond_timedwait(w->freed, w->mutex, WALK_POLL);
        apr_thread_mutex_unlock(w->mutex);
        walk_check_deadline(w);
    }
}

static void walk_release(walk_ctx *w)
{
    apr_thread_mutex_lock(w->mutex);
    w->tokens++;
    apr_thread_cond_signal(w->freed);
    apr_thread_mutex_unlock(w->mutex);
}

static void walk_auth_failed(walk_ctx *w, const char *url, apr_pool_t *p)
{
    if (walk_cancel(w, ZDDC_CANCEL_AUTH)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->s,
                     ZDDC_LOGNO(01054) "zddc_mirror: %s: walk of %s: upstream answered 401 to %s: "
                     "the mirror's own credentials (ZddcUpstreamBearer) are "
                     "refused; walk stopped, nothing purged", w->vhost, w->job->subtree,
                     zddc_upstream_url(w->conf->up, p, url));
    }
}

static void walk_plan(walk_ctx *w, const char *url, apr_uint64_t entries)
{
    apr_int64_t max = w->conf->max_purge;

    apr_thread_mutex_lock(w->mutex);
    w->plan_entries += entries;
    w->plan_paths++;
    /* Past the limit nothing will be purged: keep only the paths the
     * change report shows. */
    if (max < 0 || w->plan_entries <= (apr_uint64_t)max
        || w->plan->nelts < ZDDC_REPORT_MAX_PATHS) {
        APR_ARRAY_PUSH(w->plan, const char *) = apr_pstrdup(w->plan_pool, url);
    }
    apr_thread_mutex_unlock(w->mutex);
}

/* Entries below local directory url (not counting it). */
static apr_uint64_t walk_count_local(walk_ctx *w, const char *url,
                                     apr_pool_t *parent)
{
    apr_array_header_t *list;
    apr_pool_t *p;
    apr_uint64_t n = 0;
    int i;

    apr_pool_create(&p, parent);
    if (w->sp->list(w->st, url, &list, p) == APR_SUCCESS) {
        for (i = 0; i < list->nelts; i++) {
            zddc_store_entry *e = &APR_ARRAY_IDX(list, i, zddc_store_entry);

            n++;
            if (e->is_dir) {
                n += walk_count_local(w, zddc_path_join(p, url, e->name), p);
            }
        }
    }
    apr_pool_destroy(p);
    return n;
}

static void walk_plan_local(walk_ctx *w, const char *url, int is_dir,
                            apr_pool_t *p)
{
    apr_uint64_t n = 1;

    if (is_dir && w->conf->max_purge >= 0) {
        n += walk_count_local(w, url, p);
    }
    walk_plan(w, url, n);
}

/* A directory whose listing answers 403/404/410 goes whole; the cache root
 * itself stays, everything in it goes. */
static void walk_plan_gone_dir(walk_ctx *w, const char *url_dir, apr_pool_t *p)
{
    apr_array_header_t *list;
    const char *url;
    zddc_store_obj *o;
    apr_finfo_t fi;
    int i;

    if (!strcmp(url_dir, "/")) {
        if (w->sp->list(w->st, "/", &list, p) != APR_SUCCESS) {
            return;
        }
        for (i = 0; i < list->nelts; i++) {
            zddc_store_entry *e = &APR_ARRAY_IDX(list, i, zddc_store_entry);

            if (zddc_name_is_safe(e->name, strlen(e->name),
                                  w->conf->access_file_name)) {
                walk_plan_local(w, zddc_path_join(p, "/", e->name), e->is_dir,
                                p);
            }
        }
        return;
    }
    url = apr_pstrndup(p, url_dir, strlen(url_dir) - 1);
    if (w->sp->obj(w->st, url, ZDDC_OBJ_DIR, &o, p) == APR_SUCCESS
        && w->sp->stat(o, &fi, p) == APR_SUCCESS) {
        walk_plan_local(w, url, fi.filetype == APR_DIR, p);
    }
}

/* A listing body collected in memory, at most ZDDC_LISTING_MAX bytes. */
typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
    int too_big;
} listing_buf;

static apr_status_t listing_on_headers(void *baton,
                                       const zddc_upstream_resp *resp)
{
    listing_buf *b = baton;

    if (resp->status != 200) {
        return APR_SUCCESS;
    }
    if (resp->content_length > ZDDC_LISTING_MAX) {
        b->too_big = 1;
        return ZDDC_UP_ETOOBIG;
    }
    b->cap = resp->content_length > 0
             ? (apr_size_t)resp->content_length + 1 : 16384;
    b->buf = apr_palloc(b->p, b->cap);
    return APR_SUCCESS;
}

static apr_status_t listing_on_body(void *baton, const char *data,
                                    apr_size_t len)
{
    listing_buf *b = baton;

    if (!b->buf) {
        return APR_SUCCESS;     /* not a 200: the body is not wanted */
    }
    if (len > ZDDC_LISTING_MAX - b->len) {
        b->too_big = 1;
        return ZDDC_UP_ETOOBIG;
    }
    if (b->len + len + 1 > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *nb;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        nb = apr_palloc(b->p, cap);
        memcpy(nb, b->buf, b->len);
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return APR_SUCCESS;
}

/* Keep a listing that parsed as the sidecar (the fill engine's rule). */
static void walk_store_listing(walk_ctx *w, const char *url_dir,
                               zddc_store_obj *side, int have_side,
                               const zddc_store_meta *old,
                               const char *body, apr_size_t len,
                               const zddc_upstream_resp *resp, apr_pool_t *p)
{
    apr_status_t rv = zddc_fill_listing_keep(w->conf, side, have_side, old,
                                             body, len, resp, p);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, w->s,
                     ZDDC_LOGNO(01055) "zddc_mirror: %s: walk of %s: cannot store the "
                     "listing of %s", w->vhost, w->job->subtree, url_dir);
    }
}

/* The JSON listing of url_dir ("/a/b/"). A directory's Last-Modified does
 * not move when a file in it is rewritten or its ACL changes, so the
 * request is never If-Modified-Since; it is If-None-Match when the master
 * gave the cached listing an ETag, and a 304 reuses the sidecar (SPEC
 * §6.1). The sidecar is rewritten only once a new listing parsed. */
static listing_e zddc_walk_fetch_listing(walk_ctx *w, const char *url_dir,
                                         apr_array_header_t **entries,
                                         apr_array_header_t **skipped,
                                         int *nskipped, apr_pool_t *p)
{
    zddc_store_obj *side = NULL;
    const char *err = NULL;
    zddc_store_meta meta;
    apr_finfo_t fi;
    apr_status_t rv;
    int have_side, attempt;

    if (w->sp->obj(w->st, url_dir, ZDDC_OBJ_LISTING_JSON, &side, p)
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                     ZDDC_LOGNO(01056) "zddc_mirror: %s: walk of %s: cannot map directory %s "
                     "into the cache", w->vhost, w->job->subtree,
                     url_dir);
        return LISTING_FAILED;
    }
    have_side = w->sp->stat(side, &fi, p) == APR_SUCCESS
                && fi.filetype == APR_REG;

    for (attempt = 0; attempt < 2; attempt++) {
        zddc_upstream_req req;
        zddc_upstream_resp resp;
        listing_buf lb;
        char *body = NULL;
        apr_size_t len = 0;

        memset(&req, 0, sizeof(req));
        memset(&resp, 0, sizeof(resp));
        memset(&lb, 0, sizeof(lb));
        lb.p = p;
        req.path = url_dir;
        req.accept = "application/json";
        req.body_length = -1;
        req.on_headers = listing_on_headers;
        req.on_body = listing_on_body;
        req.baton = &lb;
        req.cancel = &w->job->cancel;
        req.headers = zddc_fill_listing_conditions(w->conf, side, have_side,
                                                   &meta, p);
        if (!walk_acquire(w)) {
            return LISTING_CANCELLED;
        }
        req.session = w->sess;
        req.urgent = 1;         /* it feeds the walk: ahead of files */
        rv = zddc_upstream_perform(w->conf->up, &req, &resp, p);
        walk_release(w);
        if (walk_cancelled(w)) {
            return LISTING_CANCELLED;
        }
        if (rv == APR_SUCCESS) {
            walk_note_answer(w, &resp);
        }
        if (lb.too_big || rv == ZDDC_UP_ETOOBIG) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                         ZDDC_LOGNO(01057) "zddc_mirror: %s: walk of %s: listing %s is over "
                         "16 MiB; refused", w->vhost, w->job->subtree,
                         zddc_upstream_url(w->conf->up, p, url_dir));
            return LISTING_FAILED;
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                         ZDDC_LOGNO(01058) "zddc_mirror: %s: walk of %s: listing %s failed: %s",
                         w->vhost, w->job->subtree,
                         zddc_upstream_url(w->conf->up, p, url_dir),
                         zddc_upstream_strerror(rv, p));
            return LISTING_FAILED;
        }
        body = lb.buf ? lb.buf : "";
        len = lb.len;
        if (lb.buf) {
            lb.buf[lb.len] = '\0';
        }
        switch (resp.status) {
        case 200:
            if (zddc_listing_parse_ex(body, len, entries, skipped, nskipped, &err,
                                  p)
                != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                             ZDDC_LOGNO(01059) "zddc_mirror: %s: walk of %s: listing %s is not "
                             "a valid JSON listing (%s); directory left as is",
                             w->vhost, w->job->subtree,
                             zddc_upstream_url(w->conf->up, p, url_dir),
                             err ? err : "parse error");
                return LISTING_FAILED;
            }
            if (resp.no_store) {
                /* Not to be kept: a sidecar kept before would be served
                 * stale while the upstream is away. */
                if (have_side) {
                    w->sp->drop_listing(w->st, url_dir, p);
                }
                return LISTING_OK;
            }
            walk_store_listing(w, url_dir, side, have_side, &meta, body, len,
                               &resp, p);
            return LISTING_OK;
        case 304:
            if (have_side && req.headers
                && w->sp->get(side, ZDDC_LISTING_MAX, &body, &len, p)
                   == APR_SUCCESS
                && zddc_listing_parse_ex(body, len, entries, skipped,
                                         nskipped, &err, p) == APR_SUCCESS) {
                w->sp->touch(side);
                return LISTING_OK;
            }
            /* The cached copy is unusable: ask again, unconditionally. */
            have_side = 0;
            continue;
        case 401:
            walk_auth_failed(w, url_dir, p);
            return LISTING_CANCELLED;
        case 403:
        case 404:
        case 410:
            return LISTING_GONE;
        default:
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                         ZDDC_LOGNO(01060) "zddc_mirror: %s: walk of %s: listing %s answered "
                         "%d; directory left as is", w->vhost,
                         w->job->subtree,
                         zddc_upstream_url(w->conf->up, p, url_dir),
                         resp.status);
            return LISTING_FAILED;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                 ZDDC_LOGNO(01061) "zddc_mirror: %s: walk of %s: listing %s answered 304 to an "
                 "unconditional request", w->vhost, w->job->subtree,
                 zddc_upstream_url(w->conf->up, p, url_dir));
    return LISTING_FAILED;
}

/* Body bytes of a walk's fill: counted, and the walk's deadline kept. */
static apr_status_t walk_fill_progress(void *baton, apr_size_t len)
{
    walk_ctx *w = baton;

    WALK_ADD(w, bytes, len);
    return walk_check_deadline(w) ? APR_TIMEUP : APR_SUCCESS;
}

/* The store's object of t's file, made in t's pool (a task moves between
 * pools, so it carries its url); NULL when the url no longer maps. */
static zddc_store_obj *task_obj(walk_ctx *w, file_task *t)
{
    if (!t->obj && w->sp->obj(w->st, t->url, ZDDC_OBJ_FILE, &t->obj,
                              t->pool) != APR_SUCCESS) {
        t->obj = NULL;
    }
    return t->obj;
}

/* What a fill of t's file says, counted, reported and logged; 1 when
 * another writer held the file (nothing counted). */
static int walk_file_outcome(walk_ctx *w, file_task *t, zddc_fill_e got,
                             zddc_fill_result *res)
{
    if (got != ZDDC_FILL_BUSY && got != ZDDC_FILL_FAILED) {
        walk_note_answer(w, &res->resp);
    }

    switch (got) {
    case ZDDC_FILL_BUSY:
        return !walk_cancelled(w);
    case ZDDC_FILL_STORED:
        WALK_ADD(w, fetched, 1);
        walk_report_add(w, w->report.fetched, &w->report.fetched_total,
                        t->url);
        break;
    case ZDDC_FILL_NOT_MODIFIED:
        WALK_ADD(w, skipped, 1);
        break;
    case ZDDC_FILL_NO_STORE:
        if (res->purged) {
            WALK_ADD(w, purged, 1);
            walk_report_add(w, w->report.purged, &w->report.purged_total,
                            t->url);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, w->s,
                         ZDDC_LOGNO(01062) "zddc_mirror: %s: walk of %s: purged %s: the "
                         "upstream answered Cache-Control: no-store",
                         w->vhost, w->job->subtree,
                         t->url);
        }
        else {
            WALK_ADD(w, skipped, 1);
        }
        break;
    case ZDDC_FILL_UNAUTHORIZED:
        walk_auth_failed(w, t->url, t->pool);
        break;
    case ZDDC_FILL_GONE:
        if (t->have_local) {
            walk_plan(w, t->url, 1);
        }
        break;
    case ZDDC_FILL_OTHER:
        WALK_ADD(w, errors, 1);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                     ZDDC_LOGNO(01063) "zddc_mirror: %s: walk of %s: %s answered %d",
                     w->vhost, w->job->subtree,
                     zddc_upstream_url(w->conf->up, t->pool, t->url),
                     res->resp.status);
        break;
    case ZDDC_FILL_FAILED:
    default:
        if (walk_cancelled(w)) {
            break;
        }
        WALK_ADD(w, errors, 1);
        if (res->too_large) {
            break;      /* the fill engine logged it (ZddcCacheMaxFileSize) */
        }
        if (res->store_error) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                         ZDDC_LOGNO(01064) "zddc_mirror: %s: walk of %s: cannot store %s in "
                         "the cache: %s", w->vhost, w->job->subtree,
                         t->url, res->store_error);
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                         ZDDC_LOGNO(01065) "zddc_mirror: %s: walk of %s: %s failed: %s",
                         w->vhost, w->job->subtree,
                         zddc_upstream_url(w->conf->up, t->pool, t->url),
                         zddc_upstream_describe(res->rv, &res->resp, t->pool));
        }
        break;
    }
    return 0;
}

/* The fill engine's view of t's file; 0 (an error counted) when its url
 * no longer maps. */
static int walk_file_item(walk_ctx *w, file_task *t, zddc_fill_item *it)
{
    memset(it, 0, sizeof(*it));
    if (!(it->obj = task_obj(w, t))) {
        WALK_ADD(w, errors, 1);
        return 0;
    }
    it->url = t->url;
    it->copy.have = t->have_local;
    it->copy.mtime = t->ims;
    return 1;
}

/* One file through the fill engine (the request path's rules): 304 nothing
 * but the copy confirmed, 200 replaced atomically, 200 no-store purged,
 * 403/404/410 purge planned. Returns 1, counting nothing, when another
 * writer holds the file. */
static int walk_fetch_file_once(walk_ctx *w, file_task *t)
{
    zddc_fill_item it;
    zddc_fill_e got;

    if (!walk_file_item(w, t, &it) || !walk_acquire(w)) {
        return 0;
    }
    got = zddc_fill_sync(w->conf, w->sess, t->url, it.obj, &it.copy,
                         &w->job->cancel, walk_fill_progress, w, &it.res,
                         t->pool);
    walk_release(w);
    return walk_file_outcome(w, t, got, &it.res);
}

/* A file of a batch is settled: counted and reported the moment its own
 * answer is stored; busy ones wait for the rest of the batch. */
static void walk_file_settled(void *baton, zddc_fill_item *it)
{
    walk_ctx *w = baton;
    file_task *t = it->user;

    t->busy = walk_file_outcome(w, t, it->outcome, &it->res);
    if (!t->busy) {
        WALK_ADD(w, done, 1);
    }
}

/* The files of a batch handed to the session together: one wake-up of
 * this thread for the answers that end together, while each file is
 * published as soon as its own answer is in (a slow neighbour holds back
 * neither its publication nor, should the child be killed, its temp:
 * t/mirror_prefork_sigkill.t). */
static void walk_fetch_files_together(walk_ctx *w, file_batch *b)
{
    zddc_fill_item it[WALK_BATCH];
    int i, m = 0, held;

    for (i = 0; i < b->n; i++) {
        b->files[i].busy = 0;
        if (walk_file_item(w, &b->files[i], &it[m])) {
            it[m++].user = &b->files[i];
        }
        else {
            WALK_ADD(w, done, 1);
        }
    }
    for (held = 0; held < m; held++) {
        if (!walk_acquire(w)) {
            break;
        }
    }
    if (held == m && m > 0) {
        zddc_fill_sync_all(w->conf, w->sess, it, m, &w->job->cancel,
                           walk_fill_progress, walk_file_settled, w,
                           b->pool);
    }
    else {
        WALK_ADD(w, done, m);   /* cancelled */
    }
    while (held-- > 0) {
        walk_release(w);
    }
}

/* Another writer holds the file: a client's download, or a walk of a
 * server generation that is ending. Wait while it makes progress, until it
 * has published or given up; 0 when the walk was cancelled or the writer
 * stalled longer than the upstream timeout (it is about to fail too). */
static int walk_wait_writer(walk_ctx *w, file_task *t)
{
    zddc_store_obj *o = task_obj(w, t);
    apr_time_t moved = apr_time_now();
    apr_pool_t *p;
    char *buf;
    int done = 0;

    apr_pool_create(&p, t->pool);
    buf = apr_palloc(p, WALK_BUSY_CHUNK);
    while (!done && !walk_check_deadline(w)
           && apr_time_now() - moved <= w->conf->timeout) {
        zddc_store_tmp *tmp = NULL;
        int leader = 0;
        apr_status_t rv = o ? w->sp->begin(o, &tmp, &leader, p)
                            : APR_EINVAL;

        if (rv != APR_SUCCESS) {
            /* Writers taking turns too fast to catch one: look again. */
            done = !APR_STATUS_IS_EAGAIN(rv);
        }
        else if (leader) {
            w->sp->discard(tmp);
            done = 1;
        }
        else {
            while (!walk_check_deadline(w)
                   && apr_time_now() - moved <= w->conf->timeout) {
                apr_size_t len = WALK_BUSY_CHUNK;
                zddc_follow_e st = w->sp->follow(tmp, buf, &len);

                if (st == ZDDC_FOLLOW_MORE) {
                    moved = apr_time_now();
                    continue;
                }
                if (st != ZDDC_FOLLOW_WAIT) {
                    done = 1;
                    break;
                }
                apr_sleep(WALK_BUSY_POLL);
            }
            w->sp->unfollow(tmp);
        }
        if (!done) {
            apr_sleep(WALK_BUSY_POLL);
        }
    }
    apr_pool_destroy(p);
    return done && !walk_cancelled(w);
}

/* A file another writer held at the first ask: wait for that writer and
 * ask once more, since its copy may be older than the listing or never be
 * published. A file still held then stays as it is: counted busy (and as
 * an error), so the walk does not pass it off as current. */
static void walk_fetch_busy_file(walk_ctx *w, file_task *t)
{
    apr_finfo_t fi;

    if (walk_wait_writer(w, t)) {
        zddc_store_obj *o = task_obj(w, t);

        t->have_local = o && w->sp->stat(o, &fi, t->pool) == APR_SUCCESS
                        && fi.filetype == APR_REG;
        t->ims = t->have_local ? fi.mtime : 0;
        if (!walk_fetch_file_once(w, t)) {
            return;
        }
    }
    if (walk_cancelled(w)) {
        return;
    }
    WALK_ADD(w, busy, 1);
    WALK_ADD(w, errors, 1);
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                 ZDDC_LOGNO(01066) "zddc_mirror: %s: walk of %s: %s is still being downloaded by "
                 "another request; left for the next walk (busy)",
                 w->vhost, w->job->subtree, t->url);
}

/* Thread pool task: a batch of files of one directory. Must not touch w
 * once outstanding is given back: the walker may be gone the moment it
 * sees zero. */
static void *APR_THREAD_FUNC zddc_walk_fetch_files(apr_thread_t *thd,
                                                   void *data)
{
    file_batch *b = data;
    walk_ctx *w = b->w;
    apr_pool_t *tp = b->pool;
    int i;

    if (!walk_cancelled(w)) {
        walk_fetch_files_together(w, b);
    }
    else {
        WALK_ADD(w, done, b->n);
    }
    /* Files held by another writer wait until the rest of the batch is
     * done, so one slow download does not hold up its neighbours. */
    for (i = 0; i < b->n; i++) {
        if (b->files[i].busy) {
            if (!walk_cancelled(w)) {
                walk_fetch_busy_file(w, &b->files[i]);
            }
            WALK_ADD(w, done, 1);
        }
    }
    apr_pool_clear(tp);
    apr_thread_mutex_lock(w->mutex);
    walk_pool_put_locked(w, tp);
    w->outstanding--;
    /* Half the queue gone: worth waking the walker to refill it. */
    if (w->waiting && w->outstanding <= w->threads) {
        apr_thread_cond_signal(w->wake);
    }
    apr_thread_mutex_unlock(w->mutex);
    return NULL;
}

/* One file entry, on a pool thread: no request when the listing's size
 * and mod_time match the local copy, else it joins d->files. When the
 * local directory was listed, le is its entry (NULL: not held locally) and
 * nothing needs a stat; local_known 0 means stat to find out. */
static void zddc_walk_file(walk_ctx *w, walk_dir *d, const char *url,
                           const zddc_listing_entry *e, int local_known,
                           const zddc_store_entry *le, apr_pool_t *p)
{
    zddc_store_obj *o;
    apr_finfo_t fi;
    file_task *t;
    int have;

    WALK_ADD(w, files, 1);
    if (w->sp->obj(w->st, url, ZDDC_OBJ_FILE, &o, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                     ZDDC_LOGNO(01067) "zddc_mirror: %s: walk of %s: cannot map %s into the cache",
                     w->vhost, w->job->subtree, url);
        WALK_ADD(w, errors, 1);
        WALK_ADD(w, done, 1);
        return;
    }
    if (local_known) {
        have = le && le->is_reg;
        if (have) {
            fi.size = le->size;
            fi.mtime = le->mtime;
        }
    }
    else {
        have = w->sp->stat(o, &fi, p) == APR_SUCCESS
               && fi.filetype == APR_REG;
    }
    if (have && e->size >= 0 && e->mod_time && fi.size == e->size
        && apr_time_sec(fi.mtime) == apr_time_sec(e->mod_time)) {
        /* The master just listed it unchanged: the copy is confirmed, so
         * ZddcCacheFreshness counts from this walk (SPEC §5). */
        if (w->conf->freshness > 0 || w->conf->swr > 0) {
            w->sp->touch(o);
        }
        WALK_ADD(w, skipped, 1);
        WALK_ADD(w, done, 1);
        return;
    }
    t = apr_array_push(d->files);
    memset(t, 0, sizeof(*t));
    t->url = apr_pstrdup(d->pool, url);
    t->have_local = have;
    t->ims = have ? fi.mtime : 0;
}

/* Walker thread: queue n files as one task, waiting while the pool already
 * has enough of them (a huge directory costs no memory). */
static void walk_queue_files(walk_ctx *w, const file_task *f, int n)
{
    apr_pool_t *tp;
    file_batch *b;
    int limit = w->threads * WALK_QUEUE_FACTOR, go, i;

    for (;;) {
        apr_thread_mutex_lock(w->mutex);
        go = !walk_cancelled(w) && w->outstanding < limit;
        if (go) {
            w->outstanding++;
        }
        else if (!walk_cancelled(w)) {
            walk_wait(w);
        }
        apr_thread_mutex_unlock(w->mutex);
        if (go) {
            break;
        }
        if (walk_check_deadline(w)) {
            return;
        }
        walk_publish(w, 0);
    }

    tp = walk_pool_get(w);
    b = apr_palloc(tp, sizeof(*b));
    b->w = w;
    b->pool = tp;
    b->n = n;
    for (i = 0; i < n; i++) {
        file_task *t = &b->files[i];
        *t = f[i];
        t->w = w;
        t->pool = tp;
        t->url = apr_pstrdup(tp, f[i].url);
        t->obj = NULL;
    }
    if (apr_thread_pool_push(w->tp, zddc_walk_fetch_files, b,
                             APR_THREAD_TASK_PRIORITY_NORMAL, w)
        != APR_SUCCESS) {
        zddc_walk_fetch_files(NULL, b);
    }
}

/* Plan the purge of local entries of url_dir the listing no longer names. */
static void zddc_walk_purge_orphans(walk_ctx *w, const char *url_dir,
                                    apr_hash_t *names,
                                    const apr_array_header_t *local,
                                    apr_pool_t *p)
{
    int i;

    for (i = 0; local && i < local->nelts; i++) {
        zddc_store_entry *le = &APR_ARRAY_IDX(local, i, zddc_store_entry);
        apr_size_t len = strlen(le->name);

        if (apr_hash_get(names, le->name, len)
            || !zddc_name_is_safe(le->name, len, w->conf->access_file_name)) {
            continue;
        }
        walk_plan_local(w, zddc_path_join(p, url_dir, le->name), le->is_dir,
                        p);
    }
}

/* The entries of a fetched listing against the local directory, on a pool
 * thread: files to ask for into d->files, safe subdirectories into
 * d->subdirs, purges planned. */
static void zddc_walk_entries(walk_ctx *w, walk_dir *d,
                              const apr_array_header_t *entries,
                              const apr_array_header_t *skipped,
                              apr_pool_t *p)
{
    apr_array_header_t *local = NULL;
    apr_hash_t *local_by_name = apr_hash_make(p);
    apr_hash_t *names = apr_hash_make(p);
    apr_status_t rv;
    int i, local_known;

    rv = w->sp->list(w->st, d->url, &local, p);
    if (rv == APR_SUCCESS) {
        for (i = 0; i < local->nelts; i++) {
            zddc_store_entry *le = &APR_ARRAY_IDX(local, i, zddc_store_entry);

            apr_hash_set(local_by_name, le->name, APR_HASH_KEY_STRING, le);
        }
    }
    else {
        local = NULL;
    }
    /* An entry the master lists in a form that cannot be used is skipped;
     * a local entry of the same name is left as it is, never purged. */
    for (i = 0; skipped && i < skipped->nelts; i++) {
        const zddc_listing_skip *sk = &APR_ARRAY_IDX(skipped, i,
                                                     zddc_listing_skip);

        walk_bad_entry(w, d->url, sk->name, sk->why, p);
        if (sk->name) {
            apr_size_t n = strlen(sk->name);

            if (n > 0 && sk->name[n - 1] == '/') {
                n--;
            }
            apr_hash_set(names, apr_pstrmemdup(p, sk->name, n), n, sk);
        }
    }
    /* The local directory's content is known (none when it is missing):
     * files it does not hold need no stat. */
    local_known = rv == APR_SUCCESS || APR_STATUS_IS_ENOENT(rv);

    for (i = 0; i < entries->nelts; i++) {
        const zddc_listing_entry *e = &APR_ARRAY_IDX(entries, i,
                                                     zddc_listing_entry);
        apr_size_t len = e->name ? strlen(e->name) : 0;
        zddc_store_entry *le;
        const char *url;

        if (walk_cancelled(w)) {
            return;
        }
        if (!e->name || !zddc_name_is_safe(e->name, len,
                                           w->conf->access_file_name)) {
            walk_bad_entry(w, d->url, e->name, "an unsafe name", p);
            continue;
        }
        apr_hash_set(names, e->name, len, e);
        url = zddc_path_join(p, d->url, e->name);
        le = apr_hash_get(local_by_name, e->name, len);
        if (le && le->is_dir != e->is_dir) {
            /* Changed between file and directory: the old one goes with the
             * purge, the new one arrives with the next walk. */
            walk_plan_local(w, url, le->is_dir, p);
            continue;
        }
        if (e->is_dir) {
            APR_ARRAY_PUSH(d->subdirs, const char *) = apr_pstrcat(d->pool,
                                                                   url, "/",
                                                                   NULL);
        }
        else {
            zddc_walk_file(w, d, url, e, local_known, le, p);
        }
    }
    zddc_walk_purge_orphans(w, d->url, names, local, p);
}

static void *APR_THREAD_FUNC zddc_walk_dir_task(apr_thread_t *thd,
                                                void *data);

/* The directories still to list: a stack of url strings, so a walk holds
 * the pending siblings along its current branch, never the whole tree.
 * With w->mutex held. */
static void walk_pending_push(walk_ctx *w, const char *url_dir)
{
    apr_size_t len = strlen(url_dir) + 1;
    char *copy = ap_malloc(len);

    memcpy(copy, url_dir, len);
    APR_ARRAY_PUSH(w->pending, char *) = copy;
}

/* With w->mutex held: d at the end of a queue (done, ready). */
static void walk_dir_append(walk_dir **head, walk_dir **tail, walk_dir *d)
{
    d->next = NULL;
    if (*tail) {
        (*tail)->next = d;
    }
    else {
        *head = d;
    }
    *tail = d;
}

/* With w->mutex held: an ahead_dir ends (its d, if any, is the
 * caller's). */
static void walk_ahead_free_locked(walk_ctx *w, ahead_dir *a)
{
    apr_hash_set(w->ahead, a->url, APR_HASH_KEY_STRING, NULL);
    free(a->url);
    free(a);
    w->ahead_live--;
}

/* What the walk still has to take: pending, listed ahead, named. With
 * w->mutex held. */
static int walk_pending_count(walk_ctx *w)
{
    return w->pending->nelts + w->ahead_pending->nelts + (w->ready != NULL);
}

/* With w->mutex held, when one more listing may be held (counted held):
 * a directory listed ahead and since named (*ready), else the next
 * pending directory (malloc'd), else the next to list ahead (*ahead set).
 * NULL and no *ready: nothing to take now. */
static char *walk_pending_take(walk_ctx *w, int *is_root, ahead_dir **ahead,
                               walk_dir **ready)
{
    *ahead = NULL;
    *ready = NULL;
    if (w->dirs_held >= w->threads) {
        return NULL;
    }
    if (w->ready) {
        *ready = w->ready;
        w->ready = w->ready->next;
        if (!w->ready) {
            w->ready_tail = NULL;
        }
        (*ready)->next = NULL;
        w->dirs_held++;
        return NULL;
    }
    if (w->pending->nelts > 0) {
        *is_root = !w->root_sent;
        w->root_sent = 1;
        w->dirs_held++;
        return *(char **)apr_array_pop(w->pending);
    }
    while (w->ahead_pending->nelts > 0) {
        ahead_dir *a = *(ahead_dir **)apr_array_pop(w->ahead_pending);

        if (a->verdict < 0) {
            walk_ahead_free_locked(w, a);
            continue;
        }
        a->state = AHEAD_FLIGHT;
        *ahead = a;
        *is_root = 0;
        w->dirs_held++;
        return strdup(a->url);
    }
    return NULL;
}

static walk_dir *walk_dir_make(walk_ctx *w, char *url, int is_root,
                               ahead_dir *ahead)
{
    apr_pool_t *p = walk_pool_get(w);
    walk_dir *d = apr_pcalloc(p, sizeof(*d));

    d->w = w;
    d->pool = p;
    d->url = apr_pstrdup(p, url);
    d->is_root = is_root;
    d->ahead = ahead;
    free(url);
    return d;
}

/* With w->mutex held: the next directory to walk on this thread, made
 * once the mutex is released (walk_take_made); 0 when there is none. */
typedef struct {
    char *url;
    int is_root;
    ahead_dir *ahead;
    walk_dir *ready;
} walk_take;

static int walk_take_locked(walk_ctx *w, walk_take *t)
{
    t->url = walk_pending_take(w, &t->is_root, &t->ahead, &t->ready);
    return t->url || t->ready;
}

static walk_dir *walk_take_made(walk_ctx *w, walk_take *t)
{
    return t->ready ? t->ready
                    : walk_dir_make(w, t->url, t->is_root, t->ahead);
}

/* Any thread: pending directories to the thread pool while listings may
 * be held; they go ahead of queued files, which they feed. */
static void walk_send_dirs(walk_ctx *w)
{
    walk_take t;
    walk_dir *d;
    int got;

    for (;;) {
        apr_thread_mutex_lock(w->mutex);
        got = walk_take_locked(w, &t);
        apr_thread_mutex_unlock(w->mutex);
        if (!got) {
            return;
        }
        d = walk_take_made(w, &t);
        if (apr_thread_pool_push(w->tp, zddc_walk_dir_task, d,
                                 APR_THREAD_TASK_PRIORITY_HIGH, w)
            != APR_SUCCESS) {
            zddc_walk_dir_task(NULL, d);
        }
    }
}

/* With w->mutex held: a directory listed ahead will not be walked (its
 * parent does not name it, or was not listed), nor anything listed ahead
 * below it. A parked one's d goes on *trash for its pool. */
static void walk_ahead_drop_locked(walk_ctx *w, ahead_dir *a, walk_dir **trash)
{
    a->verdict = -1;
    if (a->state == AHEAD_PARKED) {
        walk_dir *d = a->d;
        int i;

        for (i = 0; d->kids && i < d->kids->nelts; i++) {
            ahead_dir *k = APR_ARRAY_IDX(d->kids, i, ahead_dir *);

            if (k->verdict == 0) {
                walk_ahead_drop_locked(w, k, trash);
            }
        }
        d->next = *trash;
        *trash = d;
        walk_ahead_free_locked(w, a);
    }
    /* queued: freed when taken; in flight: its task drops it */
}

/* The pools of dropped directories back, but keep's: that one's task
 * still runs in it (walk_dir_settle gives it back). */
static void walk_trash(walk_ctx *w, walk_dir *trash, const walk_dir *keep)
{
    while (trash) {
        walk_dir *next = trash->next;

        if (trash != keep) {
            walk_pool_put(w, trash->pool);
        }
        trash = next;
    }
}

/* The local subdirectories of d (a warm walk's cached tree), listed
 * ahead of d's own listing while the walk has room for them. */
static void walk_ahead_list(walk_ctx *w, walk_dir *d)
{
    apr_array_header_t *local;
    apr_pool_t *p;
    int i, any = 0;

    if (w->ahead_max == 0) {
        return;
    }
    apr_pool_create(&p, d->pool);
    if (w->sp->list(w->st, d->url, &local, p) == APR_SUCCESS) {
        apr_thread_mutex_lock(w->mutex);
        for (i = 0; i < local->nelts && w->ahead_live < w->ahead_max; i++) {
            zddc_store_entry *e = &APR_ARRAY_IDX(local, i, zddc_store_entry);
            const char *url;
            ahead_dir *a;

            if (!e->is_dir || !zddc_name_is_safe(e->name, strlen(e->name),
                                                 w->conf->access_file_name)) {
                continue;
            }
            url = apr_pstrcat(p, zddc_path_join(p, d->url, e->name), "/",
                              NULL);
            if (apr_hash_get(w->ahead, url, APR_HASH_KEY_STRING)) {
                continue;
            }
            a = ap_calloc(1, sizeof(*a));
            a->url = strdup(url);
            a->state = AHEAD_QUEUED;
            apr_hash_set(w->ahead, a->url, APR_HASH_KEY_STRING, a);
            APR_ARRAY_PUSH(w->ahead_pending, ahead_dir *) = a;
            APR_ARRAY_PUSH(d->kids, ahead_dir *) = a;
            w->ahead_live++;
            any = 1;
        }
        apr_thread_mutex_unlock(w->mutex);
    }
    apr_pool_destroy(p);
    if (any) {
        walk_send_dirs(w);
    }
}

/* What became of a directory a task took. */
typedef enum {
    DIR_WALKED,          /* compared: its files and subdirectories known */
    DIR_PARKED,          /* listed ahead, waiting: no longer the task's */
    DIR_DROPPED          /* listed ahead, not named: only its pool left */
} dir_fate;

/* A listing fetched ahead: DIR_WALKED when its parent named it meanwhile
 * (walk it now); else it is parked for the verdict, or dropped. Only the
 * parent decides: an ahead_dir is freed once it has a verdict, and the
 * parent's d->kids is read until then. */
static dir_fate walk_ahead_settle(walk_ctx *w, walk_dir *d)
{
    ahead_dir *a = d->ahead;
    walk_dir *trash = NULL;
    dir_fate fate;

    apr_thread_mutex_lock(w->mutex);
    a->state = AHEAD_PARKED;
    a->d = d;
    if (a->verdict > 0) {
        walk_ahead_free_locked(w, a);
        d->ahead = NULL;
        fate = DIR_WALKED;
    }
    else if (a->verdict < 0) {
        walk_ahead_drop_locked(w, a, &trash);
        fate = DIR_DROPPED;
    }
    else {
        fate = DIR_PARKED;      /* from here on, d is its parent's */
    }
    apr_thread_mutex_unlock(w->mutex);
    walk_trash(w, trash, d);
    return fate;
}

/* After d was compared: the subdirectories it names that were listed
 * ahead are walked from what was fetched (taken out of d->subdirs), and
 * what it listed ahead and does not name is dropped. */
static void walk_ahead_verdicts(walk_ctx *w, walk_dir *d)
{
    walk_dir *trash = NULL;
    int i, named = 0;

    if (!d->kids || d->kids->nelts == 0) {
        return;
    }
    apr_thread_mutex_lock(w->mutex);
    for (i = 0; i < d->subdirs->nelts; i++) {
        const char *url = APR_ARRAY_IDX(d->subdirs, i, const char *);
        ahead_dir *a = apr_hash_get(w->ahead, url, APR_HASH_KEY_STRING);

        if (a && a->verdict == 0) {
            a->verdict = 1;
            APR_ARRAY_IDX(d->subdirs, i, const char *) = NULL;
        }
    }
    for (i = 0; i < d->kids->nelts; i++) {
        ahead_dir *a = APR_ARRAY_IDX(d->kids, i, ahead_dir *);

        if (a->verdict == 0) {
            walk_ahead_drop_locked(w, a, &trash);
        }
        else if (a->verdict > 0 && a->state == AHEAD_PARKED) {
            a->d->ahead = NULL;
            walk_dir_append(&w->ready, &w->ready_tail, a->d);
            walk_ahead_free_locked(w, a);
            named = 1;
        }
    }
    apr_thread_mutex_unlock(w->mutex);
    walk_trash(w, trash, NULL);
    if (named) {
        walk_send_dirs(w);
    }
}

/* One directory's listing, compared with the local directory. The
 * listing itself goes once compared: only what the walker needs stays in
 * d->pool. */
static dir_fate walk_list_dir(walk_ctx *w, walk_dir *d)
{
    if (!d->listed) {
        d->files = apr_array_make(d->pool, 8, sizeof(file_task));
        d->subdirs = apr_array_make(d->pool, 8, sizeof(const char *));
        d->kids = apr_array_make(d->pool, 4, sizeof(ahead_dir *));
        apr_pool_create(&d->lp, d->pool);
        if (!walk_cancelled(w)) {
            walk_ahead_list(w, d);
        }
        d->got = walk_cancelled(w) ? LISTING_CANCELLED
                 : zddc_walk_fetch_listing(w, d->url, &d->entries,
                                           &d->skipped, &d->nskipped, d->lp);
        d->listed = 1;
        if (d->ahead) {
            dir_fate fate = walk_ahead_settle(w, d);

            if (fate != DIR_WALKED) {
                return fate;
            }
        }
    }
    WALK_ADD(w, dirs, 1);
    if (d->got == LISTING_OK) {
        zddc_walk_entries(w, d, d->entries, d->skipped, d->lp);
        /* Those not kept one by one are counted for the walk's total. */
        if (d->skipped && d->nskipped > d->skipped->nelts) {
            apr_atomic_add32(&w->bad_entries,
                             (apr_uint32_t)(d->nskipped - d->skipped->nelts));
        }
    }
    else if (d->got == LISTING_GONE) {
        walk_plan_gone_dir(w, d->url, d->lp);
    }
    walk_ahead_verdicts(w, d);
    apr_pool_destroy(d->lp);
    d->lp = NULL;
    return DIR_WALKED;
}

/* A listed directory with no file to ask for (a warm walk's usual case)
 * is settled on the task's own thread: its subdirectories pushed, last
 * first (depth first), and the next pending one taken to list here, so a
 * walk of current directories does not wait for the walker thread to
 * wake for each. Returns that next directory, or NULL once d went to the
 * walker (files to queue, a failed listing) or nothing more may be taken
 * here. */
static walk_dir *walk_dir_settle(walk_ctx *w, walk_dir *d, dir_fate fate)
{
    /* a parked d is its parent's now: not to be read here */
    apr_pool_t *p = fate == DIR_PARKED ? NULL : d->pool;
    walk_take next;
    int i, deadline = 0, got = 0;
    int own = fate != DIR_WALKED
              || (d->got == LISTING_OK && d->files->nelts == 0
                  && !walk_cancelled(w));

    if (own) {
        deadline = walk_check_deadline(w);
    }
    apr_thread_mutex_lock(w->mutex);
    if (own) {
        for (i = fate != DIR_WALKED ? -1 : d->subdirs->nelts - 1; i >= 0;
             i--) {
            const char *sub = APR_ARRAY_IDX(d->subdirs, i, const char *);

            if (sub) {
                walk_pending_push(w, sub);
            }
        }
        w->dirs_held--;
        if (!deadline) {
            got = walk_take_locked(w, &next);
        }
    }
    else {
        walk_dir_append(&w->done, &w->done_tail, d);
    }
    /* the walker: a directory to walk, or the walk may be at its end */
    if (w->waiting && (!own || (!got && w->dirs_held == 0))) {
        apr_thread_cond_signal(w->wake);
    }
    apr_thread_mutex_unlock(w->mutex);
    if (!own) {
        return NULL;
    }
    /* a parked directory keeps its pool (and listing) for its verdict */
    if (fate != DIR_PARKED) {
        apr_pool_clear(p);
        apr_thread_mutex_lock(w->mutex);
        walk_pool_put_locked(w, p);
        apr_thread_mutex_unlock(w->mutex);
    }
    if (!got) {
        return NULL;
    }
    /* what it pushed beyond the next one goes to idle threads */
    walk_send_dirs(w);
    return walk_take_made(w, &next);
}

/* Thread pool task: directories listed one after another, each compared
 * with the local directory; one with files to ask for goes back to the
 * walker, which waits for every directory held (dirs_held), so w stays
 * valid throughout. */
static void *APR_THREAD_FUNC zddc_walk_dir_task(apr_thread_t *thd,
                                                void *data)
{
    walk_dir *d = data;
    walk_ctx *w = d->w;

    while (d) {
        d = walk_dir_settle(w, d, walk_list_dir(w, d));
    }
    return NULL;
}

/* Walker thread: a directory back from the pool. Its files are queued,
 * its subdirectories pushed, last first so that the first is listed next
 * (depth first). */
static void zddc_walk_dir(walk_ctx *w, walk_dir *d)
{
    int i;

    if (d->got == LISTING_FAILED) {
        WALK_ADD(w, errors, 1);
        if (d->is_root) {
            w->root_failure = "its listing could not be fetched";
        }
    }
    else if (d->got == LISTING_OK) {
        int n = d->files->nelts;
        int per = (n + w->threads - 1) / w->threads;

        per = per < 1 ? 1 : per > WALK_BATCH ? WALK_BATCH : per;
        for (i = 0; i < n && !walk_cancelled(w); i += per) {
            walk_queue_files(w, &APR_ARRAY_IDX(d->files, i, file_task),
                             n - i < per ? n - i : per);
        }
        apr_thread_mutex_lock(w->mutex);
        for (i = d->subdirs->nelts - 1; i >= 0 && !walk_cancelled(w); i--) {
            const char *sub = APR_ARRAY_IDX(d->subdirs, i, const char *);

            if (sub) {          /* NULL: listed ahead (walk_ahead_verdicts) */
                walk_pending_push(w, sub);
            }
        }
        apr_thread_mutex_unlock(w->mutex);
    }
    apr_thread_mutex_lock(w->mutex);
    w->dirs_held--;
    apr_thread_mutex_unlock(w->mutex);
    walk_pool_put(w, d->pool);
}

/* The walker thread's loop: up to ZddcMirrorParallelism listings in
 * flight (sharing the upstream slots with the file tasks), each directory
 * walked as its listing arrives, until nothing is pending, in flight or
 * outstanding. */
/* A stopped walk leaves directories listed ahead without a verdict:
 * their pools go with the walk's, their records here. */
static void walk_ahead_end(walk_ctx *w)
{
    apr_hash_index_t *hi;
    apr_array_header_t *all = apr_array_make(w->pool, w->ahead_live + 1,
                                             sizeof(ahead_dir *));
    int i;

    for (hi = apr_hash_first(w->pool, w->ahead); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(all, ahead_dir *) = apr_hash_this_val(hi);
    }
    for (i = 0; i < all->nelts; i++) {
        walk_ahead_free_locked(w, APR_ARRAY_IDX(all, i, ahead_dir *));
    }
    w->ahead_pending->nelts = 0;
    w->ready = w->ready_tail = NULL;
}

static void zddc_walk_subtree(walk_ctx *w)
{
    const char *sub = w->job->subtree;
    walk_dir *d;
    int busy, held, npending, i;

    apr_thread_mutex_lock(w->mutex);
    walk_pending_push(w, strcmp(sub, "/") ? apr_pstrcat(w->pool, sub, "/",
                                                        NULL)
                                          : "/");
    apr_thread_mutex_unlock(w->mutex);
    for (;;) {
        if (!walk_check_deadline(w)) {
            walk_send_dirs(w);
        }
        apr_thread_mutex_lock(w->mutex);
        if (!w->done && (w->outstanding > 0 || w->dirs_held > 0)) {
            walk_wait(w);
        }
        d = w->done;
        if (d) {
            w->done = d->next;
            if (!w->done) {
                w->done_tail = NULL;
            }
        }
        busy = w->outstanding > 0;
        held = w->dirs_held;
        npending = walk_pending_count(w);
        apr_thread_mutex_unlock(w->mutex);

        if (d) {
            zddc_walk_dir(w, d);
        }
        else if (!busy && held == 0
                 && (walk_cancelled(w) || npending == 0)) {
            break;
        }
        walk_publish(w, 0);
    }
    for (i = 0; i < w->pending->nelts; i++) {
        free(APR_ARRAY_IDX(w->pending, i, char *));
    }
    w->pending->nelts = 0;
    walk_ahead_end(w);
}

/* Carry out the purge plan unless it exceeds ZddcMirrorMaxPurge; returns a
 * message when it was refused. */
static const char *walk_purge_run(walk_ctx *w, apr_pool_t *p)
{
    apr_int64_t max = w->conf->max_purge;
    int i;

    if (max >= 0 && w->plan_entries > (apr_uint64_t)max) {
        const char *msg = apr_psprintf(p, "purge refused: it would remove %"
                                       APR_UINT64_T_FMT " entries, more than "
                                       "ZddcMirrorMaxPurge %" APR_INT64_T_FMT,
                                       w->plan_entries, max);

        for (i = 0; i < w->plan->nelts && i < ZDDC_REPORT_MAX_PATHS; i++) {
            APR_ARRAY_PUSH(w->report.would_purge, const char *) =
                APR_ARRAY_IDX(w->plan, i, const char *);
        }
        w->report.would_purge_total = w->plan_paths;

        ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->s,
                     ZDDC_LOGNO(01068) "zddc_mirror: %s: walk of %s would purge %" APR_UINT64_T_FMT
                     " entries, more than ZddcMirrorMaxPurge %"
                     APR_INT64_T_FMT ": purged none", w->vhost, w->job->subtree,
                     w->plan_entries, max);
        return msg;
    }
    for (i = 0; i < w->plan->nelts; i++) {
        const char *url = APR_ARRAY_IDX(w->plan, i, const char *);
        int count = 0;
        apr_status_t rv = w->sp->purge(w->st, url, &count, p);

        if (rv == APR_SUCCESS) {
            w->counts.purged += (apr_uint64_t)(count > 0 ? count : 1);
            walk_report_add(w, w->report.purged, &w->report.purged_total,
                            url);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, w->s,
                         ZDDC_LOGNO(01069) "zddc_mirror: %s: walk of %s: purged %s (%d entries)",
                         w->vhost, w->job->subtree, url, count);
        }
        else if (!APR_STATUS_IS_ENOENT(rv)) {
            w->counts.errors++;
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, w->s,
                         ZDDC_LOGNO(01070) "zddc_mirror: %s: walk of %s: cannot purge %s",
                         w->vhost, w->job->subtree, url);
        }
    }
    return NULL;
}

/* Durations in log lines: milliseconds, or whole seconds past a minute. */
static const char *walk_duration(apr_pool_t *p, apr_interval_time_t d)
{
    if (d >= apr_time_from_sec(60)) {
        return zddc_duration_format(p, apr_time_from_sec(apr_time_sec(d)));
    }
    return zddc_duration_format(p, apr_time_from_msec(apr_time_as_msec(d)));
}

/* The parent of the walk's task pools: an allocator of its own, locked
 * since the pool threads clear the pools, keeping a little freed memory for
 * the next tasks. Destroyed when the walk ends (or with p). */
static apr_status_t walk_pools_create(walk_ctx *w, apr_pool_t *p)
{
    apr_allocator_t *alloc;
    apr_thread_mutex_t *m;
    apr_status_t rv;

    rv = apr_allocator_create(&alloc);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_thread_mutex_create(&m, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        apr_allocator_mutex_set(alloc, m);
        apr_allocator_max_free_set(alloc, WALK_POOL_MAX_FREE);
        rv = apr_pool_create_ex(&w->task_root, p, NULL, alloc);
    }
    if (rv != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return rv;
    }
    apr_allocator_owner_set(alloc, w->task_root);
    apr_pool_tag(w->task_root, "zddc_walk_tasks");
    /* Every task that can hold a pool at once: files queued, listings. */
    w->spare_max = w->threads * (WALK_QUEUE_FACTOR + 1) + 1;
    w->spare = apr_palloc(p, w->spare_max * sizeof(*w->spare));
    return APR_SUCCESS;
}

apr_status_t zddc_walker_create(zddc_walker **wkp, int max_walks,
                                apr_pool_t *p)
{
    zddc_walker *wk = apr_pcalloc(p, sizeof(*wk));
    apr_status_t rv;

    wk->pool = p;
    if (max_walks < 1) {
        max_walks = 1;
    }
    rv = apr_thread_pool_create(&wk->walks, 0, (apr_size_t)max_walks, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *wkp = wk;
    return APR_SUCCESS;
}

void zddc_walker_destroy(zddc_walker *wk)
{
    apr_thread_pool_destroy(wk->walks);
}

/* A task of the walker's pool: the whole walk, then the news. */
static void *APR_THREAD_FUNC walk_task(apr_thread_t *thd, void *data)
{
    zddc_walk_job *job = data;

    zddc_walk_run(job, &job->result, job->pool);
    apr_thread_mutex_lock(job->notify_mutex);
    apr_atomic_set32(&job->finished, 1);
    apr_thread_cond_broadcast(job->notify);
    apr_thread_mutex_unlock(job->notify_mutex);
    return NULL;
}

apr_status_t zddc_walk_start(zddc_walker *wk, zddc_walk_job *job)
{
    apr_atomic_set32(&job->finished, 0);
    memset(&job->live, 0, sizeof(job->live));
    memset(&job->result, 0, sizeof(job->result));
    return apr_thread_pool_push(wk->walks, walk_task, job,
                                APR_THREAD_TASK_PRIORITY_NORMAL, NULL);
}

void zddc_walk_run(zddc_walk_job *job, zddc_walk_result *res, apr_pool_t *p)
{
    walk_ctx *w = apr_pcalloc(p, sizeof(*w));
    zddc_server_conf *conf = job->conf;
    const char *why = NULL, *refused = NULL;
    apr_uint32_t cancel;
    apr_time_t ended;
    int aborted;

    memset(res, 0, sizeof(*res));
    w->job = job;
    w->conf = conf;
    w->vhost = job->vhost ? job->vhost : "(unnamed)";
    w->sp = conf->store_provider;
    w->st = conf->store;
    w->s = conf->server;
    w->pool = p;
    w->started = apr_time_now();
    w->deadline = conf->walk_timeout > 0 ? w->started + conf->walk_timeout : 0;
    w->parallel = conf->parallelism < 1 ? 1 : conf->parallelism;
    if (w->parallel > ZDDC_MAX_PARALLELISM) {
        w->parallel = ZDDC_MAX_PARALLELISM;
    }
    w->threads = w->parallel + (w->parallel < WALK_AHEAD_MAX ? w->parallel
                                                             : WALK_AHEAD_MAX);
    /* with a session, each thread may hand over a batch of files at once */
    w->tokens = w->threads * WALK_BATCH;
    apr_pool_create(&w->plan_pool, p);
    w->plan = apr_array_make(w->plan_pool, 16, sizeof(const char *));
    w->report.fetched = apr_array_make(w->plan_pool, 16, sizeof(const char *));
    w->report.purged = apr_array_make(w->plan_pool, 16, sizeof(const char *));
    w->report.would_purge = apr_array_make(w->plan_pool, 0,
                                           sizeof(const char *));
    w->pending = apr_array_make(p, 16, sizeof(char *));
    w->ahead = apr_hash_make(w->plan_pool);
    w->ahead_pending = apr_array_make(w->plan_pool, 16, sizeof(ahead_dir *));
    w->ahead_max = w->parallel > 1 ? w->parallel * WALK_AHEAD_PER_SLOT : 0;

    /* The walk's threads are all started here and kept (idle) until the
     * walk ends. Started on demand, apr makes one per task (it keeps no
     * idle thread beyond the initial ones), or, with idle ones kept, none
     * while one idle thread has yet to wake for the first of a burst of
     * tasks: the whole burst then runs on that one thread. */
    if (apr_thread_mutex_create(&w->mutex, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS
        || apr_thread_cond_create(&w->wake, p) != APR_SUCCESS
        || apr_thread_cond_create(&w->freed, p) != APR_SUCCESS
        || walk_pools_create(w, p) != APR_SUCCESS
        || apr_thread_pool_create(&w->tp, (apr_size_t)w->threads,
                                  (apr_size_t)w->threads, p)
           != APR_SUCCESS) {
        why = "cannot create the walk's mutex, pools or threads";
        w->tp = NULL;
    }
    else if (!w->sp || !w->st || !conf->up) {
        why = "the virtual host has no cache store or upstream";
    }
    else {

        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, w->s,
                     ZDDC_LOGNO(01071) "zddc_mirror: %s: walk of %s started (parallelism %d)",
                     w->vhost, job->subtree, w->parallel);
        if (zddc_upstream_session_create_ex(&w->sess, conf->up, w->parallel,
                                            &job->cancel, job->https_h1, p)
            != APR_SUCCESS) {
            /* no session to hold the in-flight bound: the tokens do */
            w->sess = NULL;
            w->threads = w->tokens = w->parallel;
            apr_thread_pool_thread_max_set(w->tp, (apr_size_t)w->threads);
        }
        zddc_walk_subtree(w);
        zddc_upstream_session_destroy(w->sess);
    }
    if (w->tp) {
        apr_thread_pool_destroy(w->tp);
        w->tp = NULL;
    }
    if (w->task_root) {
        apr_pool_destroy(w->task_root);
        w->task_root = NULL;
    }
    if (apr_atomic_read32(&w->bad_entries) > WALK_BAD_LOGGED) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                     ZDDC_LOGNO(01072) "zddc_mirror: %s: walk of %s: %u listing entries were "
                     "skipped in all; %u of them not logged one by one",
                     w->vhost, job->subtree,
                     apr_atomic_read32(&w->bad_entries),
                     apr_atomic_read32(&w->bad_entries) - WALK_BAD_LOGGED);
    }

    cancel = apr_atomic_read32(&job->cancel);
    aborted = cancel == ZDDC_CANCEL_STOP;
    if (!why) {
        if (cancel == ZDDC_CANCEL_TIMEOUT) {
            why = apr_psprintf(p, "it ran longer than ZddcMirrorWalkTimeout "
                               "%s", zddc_duration_format(p,
                                                          conf->walk_timeout));
        }
        else if (cancel == ZDDC_CANCEL_AUTH) {
            why = "the upstream refused the mirror's credentials (401)";
        }
        else if (w->root_failure) {
            why = apr_psprintf(p, "the listing of %s could not be fetched",
                               job->subtree);
        }
        else if (apr_atomic_read32(&w->answers)
                 && apr_atomic_read32(&w->stale_answers)
                    == apr_atomic_read32(&w->answers)) {
            res->upstream_offline = 1;
            why = apr_psprintf(p, "upstream offline: each of its %u answers "
                               "was a stale copy (Cache-Status)",
                               apr_atomic_read32(&w->answers));
        }
    }
    /* What the finished directories planned is purged, also after a
     * timeout (SPEC §6.6); never after a 401, a stop or a restart. */
    if (!aborted && cancel != ZDDC_CANCEL_AUTH) {
        refused = walk_purge_run(w, p);
    }
    else if (w->plan_paths) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s,
                     ZDDC_LOGNO(01073) "zddc_mirror: %s: walk of %s %s: none of the %"
                     APR_UINT64_T_FMT " entries it would purge was purged",
                     w->vhost, job->subtree,
                     aborted ? "aborted" : "stopped by a 401",
                     w->plan_entries);
    }

    ended = apr_time_now();
    res->aborted = aborted;
    res->failed = why != NULL;
    res->purge_refused = refused != NULL;
    res->why = why ? why : refused;
    res->rec.last_walk_at = ended;
    res->rec.duration = ended - w->started;
    zddc_walk_counts_to_rec(&w->counts, &res->rec);
    res->busy = w->counts.busy;
    res->report = w->report;
    res->report.ended_at = ended;
    walk_publish(w, 1);
}

void zddc_walk_log(const zddc_walk_job *job, const zddc_walk_result *res,
                   apr_pool_t *p)
{
    server_rec *s = job->conf->server;
    const char *dur = walk_duration(p, res->rec.duration);
    const char *vhost = job->vhost ? job->vhost : "(unnamed)";

    if (res->aborted) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     ZDDC_LOGNO(01074) "zddc_mirror: %s: walk of %s aborted after %s: the "
                     "server is stopping or restarting; last walk time "
                     "unchanged", vhost, job->subtree, dur);
        return;
    }
    ap_log_error(APLOG_MARK, res->failed || res->purge_refused
                 ? APLOG_WARNING : APLOG_INFO, 0, s,
                 ZDDC_LOGNO(01075) "zddc_mirror: %s: walk of %s %s %s%s%s: dirs=%"
                 APR_UINT64_T_FMT " files=%" APR_UINT64_T_FMT " fetched=%"
                 APR_UINT64_T_FMT " skipped=%" APR_UINT64_T_FMT " purged=%"
                 APR_UINT64_T_FMT " errors=%" APR_UINT64_T_FMT " bytes=%"
                 APR_UINT64_T_FMT " busy=%" APR_UINT64_T_FMT,
                 vhost, job->subtree,
                 res->failed ? "failed after" : "finished in", dur,
                 res->why ? ": " : "", res->why ? res->why : "",
                 res->rec.dirs, res->rec.files, res->rec.fetched,
                 res->rec.skipped, res->rec.purged, res->rec.errors,
                 res->rec.bytes, res->busy);
}
