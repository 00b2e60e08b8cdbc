/* Coalesced revalidation of a client's cached copy (SPEC §5): one upstream
 * request at a time per copy, on the request's own thread, shared by the
 * threads of a child (a table) and by other children (the store's lock). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

#include <httpd.h>

#include "zddc_fill.h"

/* A changed file up to this size is stored by the request that asked;
 * a larger one goes to a background fill, so its first client is fed
 * while it downloads. */
#define REVAL_BODY_MAX      (256 * 1024)
/* Another child's revalidation of the copy: looked at this often (the
 * interval doubles up to the maximum), for at most ZddcUpstreamTimeout. */
#define REVAL_POLL_MIN      apr_time_from_msec(1)
#define REVAL_POLL_MAX      apr_time_from_msec(8)
/* A follower's wait for a leader of its own child, in slices. */
#define REVAL_WAIT_SLICE    apr_time_from_msec(100)

/* One revalidation in flight in this child; malloc'd, since it is shared
 * by requests whose pools end in any order. */
typedef struct reval_entry {
    struct reval_entry *next;
    const zddc_store *store;
    char *url;
    int refs;
    int done;
    zddc_fill_e outcome;
    apr_status_t rv;
    int status;
    int too_large;
    char *cache_status;         /* the upstream's Cache-Status, or NULL */
} reval_entry;

static apr_thread_mutex_t *reval_m;
static apr_thread_cond_t *reval_cv;
static reval_entry *reval_list;

void zddc_fill_reval_child_init(apr_pool_t *pchild)
{
    reval_list = NULL;
    if (apr_thread_mutex_create(&reval_m, APR_THREAD_MUTEX_DEFAULT, pchild)
            != APR_SUCCESS
        || apr_thread_cond_create(&reval_cv, pchild) != APR_SUCCESS) {
        reval_m = NULL;         /* each request revalidates on its own */
    }
}

/* Under reval_m. */
static void reval_put(reval_entry *e)
{
    if (--e->refs == 0) {
        free(e->cache_status);
        free(e->url);
        free(e);
    }
}

/* Under reval_m: the entry for url, joined (refs), or a new one whose
 * leader the caller is (*lead); NULL when memory ran out. */
static reval_entry *reval_join(zddc_server_conf *conf, const char *url,
                               int *lead)
{
    reval_entry *e;

    for (e = reval_list; e; e = e->next) {
        if (e->store == conf->store && !strcmp(e->url, url)) {
            e->refs++;
            *lead = 0;
            return e;
        }
    }
    e = calloc(1, sizeof(*e));
    if (!e || !(e->url = strdup(url))) {
        free(e);
        return NULL;
    }
    e->store = conf->store;
    e->refs = 1;
    e->next = reval_list;
    reval_list = e;
    *lead = 1;
    return e;
}

/* Under reval_m: the leader's answer, for the requests that waited. Only
 * answers about the copy as it stands are shared; the others (a new body,
 * a purge, a redirect, ...) send each follower its own way. */
static void reval_finish(reval_entry *e, const zddc_fill_result *res)
{
    reval_entry **pp;
    const char *cs = res->resp.headers
                     ? apr_table_get(res->resp.headers, "Cache-Status") : NULL;

    e->done = 1;
    e->outcome = res->outcome;
    e->rv = res->rv;
    e->status = res->resp.status;
    e->too_large = res->too_large;
    e->cache_status = cs ? strdup(cs) : NULL;
    for (pp = &reval_list; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    apr_thread_cond_broadcast(reval_cv);
}

static zddc_fill_e reval_share(const reval_entry *e, zddc_fill_result *res,
                               apr_pool_t *p)
{
    int shared = e->outcome == ZDDC_FILL_NOT_MODIFIED
                 || e->outcome == ZDDC_FILL_FAILED
                 || e->outcome == ZDDC_FILL_UNAUTHORIZED
                 || (e->outcome == ZDDC_FILL_OTHER && e->status >= 500);

    if (!shared) {
        res->outcome = ZDDC_FILL_BUSY;
        return res->outcome;
    }
    res->outcome = e->outcome;
    res->rv = e->rv;
    res->too_large = e->too_large;
    res->resp.status = e->status;
    res->resp.headers = apr_table_make(p, 1);
    if (e->cache_status) {
        apr_table_set(res->resp.headers, "Cache-Status", e->cache_status);
    }
    return res->outcome;
}

/* The leader of this child: past the other children's revalidation of the
 * same copy (their lock), then one request unless one of them confirmed
 * the copy after the client asked. */
static zddc_fill_e reval_lead(zddc_server_conf *conf, const char *url,
                              zddc_store_obj *obj, const zddc_fill_copy *copy,
                              apr_time_t asked, zddc_fill_result *res,
                              apr_pool_t *p)
{
    const zddc_store_provider *sp = conf->store_provider;
    apr_time_t deadline = apr_time_now() + conf->timeout;
    apr_interval_time_t nap = REVAL_POLL_MIN;
    zddc_store_lock *lock = NULL;
    zddc_fill_e got;
    apr_finfo_t fi;
    apr_status_t rv;

    while ((rv = sp->try_lock(obj, &lock, p)) == APR_EBUSY
           && apr_time_now() + nap < deadline) {
        apr_sleep(nap);
        nap = nap * 2 > REVAL_POLL_MAX ? REVAL_POLL_MAX : nap * 2;
    }
    /* Held too long, or the copy went: the usual path sorts it out. A
     * store without locks only costs the coalescing across children. */
    if (rv == APR_EBUSY || APR_STATUS_IS_ENOENT(rv)) {
        res->outcome = ZDDC_FILL_BUSY;
        return res->outcome;
    }
    if (sp->stat(obj, &fi, p) != APR_SUCCESS || fi.filetype != APR_REG
        || fi.mtime != copy->mtime) {
        got = ZDDC_FILL_BUSY;               /* replaced meanwhile */
    }
    else if (sp->validated_at(obj, &fi) >= asked) {
        got = ZDDC_FILL_NOT_MODIFIED;       /* confirmed since it was due */
        res->resp.status = HTTP_NOT_MODIFIED;
    }
    else {
        got = zddc_fill_here(conf, url, obj, copy, REVAL_BODY_MAX, res, p);
    }
    sp->unlock(lock);
    res->outcome = got;
    return got;
}

zddc_fill_e zddc_fill_revalidate(zddc_server_conf *conf, const char *url,
                                 zddc_store_obj *obj,
                                 const zddc_fill_copy *copy, apr_time_t asked,
                                 zddc_fill_result *res, apr_pool_t *p)
{
    apr_time_t deadline;
    reval_entry *e;
    zddc_fill_e got;
    int lead = 0;

    memset(res, 0, sizeof(*res));
    if (!reval_m) {
        return reval_lead(conf, url, obj, copy, asked, res, p);
    }
    apr_thread_mutex_lock(reval_m);
    e = reval_join(conf, url, &lead);
    apr_thread_mutex_unlock(reval_m);
    if (!e) {
        return reval_lead(conf, url, obj, copy, asked, res, p);
    }
    if (lead) {
        got = reval_lead(conf, url, obj, copy, asked, res, p);
        apr_thread_mutex_lock(reval_m);
        reval_finish(e, res);
        reval_put(e);
        apr_thread_mutex_unlock(reval_m);
        return got;
    }
    /* The leader's wait for the lock and its request are each bounded by
     * ZddcUpstreamTimeout; past both, the usual path takes over. */
    deadline = apr_time_now() + 2 * conf->timeout + apr_time_from_sec(5);
    apr_thread_mutex_lock(reval_m);
    while (!e->done && apr_time_now() < deadline) {
        apr_thread_cond_timedwait(reval_cv, reval_m, REVAL_WAIT_SLICE);
    }
    if (e->done) {
        got = reval_share(e, res, p);
    }
    else {
        got = res->outcome = ZDDC_FILL_BUSY;
    }
    reval_put(e);
    apr_thread_mutex_unlock(reval_m);
    return got;
}
