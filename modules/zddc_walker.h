/* The walker (SPEC §6.1-6.8): one walk of one subtree - listings, files,
 * the purge - as a task of the process's pool of walks, side by side. */
#ifndef ZDDC_WALKER_H
#define ZDDC_WALKER_H

#include <apr_pools.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include "zddc_config.h"
#include "zddc_sched.h"

/* Why a walk's cancel flag was raised; any nonzero value stops transfers. */
#define ZDDC_CANCEL_STOP     1   /* the process is going away: aborted */
#define ZDDC_CANCEL_TIMEOUT  2   /* ZddcMirrorWalkTimeout */
#define ZDDC_CANCEL_AUTH     3   /* upstream answered 401 */

/* What a walk gives back to whoever started it. */
typedef struct {
    int aborted;                 /* stopped by a stop or restart: nothing to
                                    record */
    int failed;
    int purge_refused;           /* ZddcMirrorMaxPurge refused the purge */
    int upstream_offline;        /* failed: every answer was a tier's stale
                                    copy (SPEC §10) */
    const char *why;             /* why it failed or its purge was refused */
    zddc_state_rec rec;          /* ended at, duration, figures */
    apr_uint64_t busy;
    zddc_walk_report report;     /* paths fetched, purged, would purge */
} zddc_walk_result;

/* One subtree of one Mirror vhost; one per slot in each process, reused.
 * The scheduler owns it; a walk writes only cancel (to stop itself), live,
 * result and finished. */
struct zddc_walk_job {
    zddc_server_conf *conf;
    const char *subtree;             /* normalized, from conf->subtrees */
    const char *vhost;               /* "name:port", for log lines */
    int slot;                        /* index in the shared slots */
    volatile apr_uint32_t *https_h1; /* its slot's: the master's protocol
                                        as the last walk learnt it */
    apr_uint32_t generation;         /* the claim this job runs under */
    volatile apr_uint32_t cancel;    /* ZDDC_CANCEL_*, 0 while it runs */
    int busy;                        /* queued or running (scheduler mutex) */
    int running;                     /* started on the walker (scheduler
                                        thread only) */
    zddc_walk_job *next;             /* scheduler queue */
    apr_pool_t *pool;                /* the run's pool, the scheduler's */

    zddc_walk_counts live;           /* figures so far (apr_atomic64) */
    zddc_walk_result result;         /* valid once finished */
    volatile apr_uint32_t finished;  /* set, then notify broadcast under
                                        notify_mutex, when the walk ended */
    apr_thread_mutex_t *notify_mutex;
    apr_thread_cond_t *notify;
};

typedef struct zddc_walker zddc_walker;

/* The per-process walking machinery: a pool of up to max_walks threads,
 * one per walk in flight; each walk has its own threads for its upstream
 * requests, bounded by its ZddcMirrorParallelism. */
apr_status_t zddc_walker_create(zddc_walker **wk, int max_walks,
                                apr_pool_t *p);
/* Waits for the walks in flight (cancel them first to be quick). */
void zddc_walker_destroy(zddc_walker *wk);

/* Start job's walk (job->pool set by the caller, cleared when the caller
 * has read the result); returns at once. */
apr_status_t zddc_walk_start(zddc_walker *wk, zddc_walk_job *job);

/* Walk job->subtree to the end (completed, failed or aborted) on the
 * calling thread and fill *res. */
void zddc_walk_run(zddc_walk_job *job, zddc_walk_result *res, apr_pool_t *p);

/* The walk's one summary line (SPEC §6.5): info when it succeeded,
 * warning when it failed or its purge was refused. */
void zddc_walk_log(const zddc_walk_job *job, const zddc_walk_result *res,
                   apr_pool_t *p);

#endif
