/* The walker (SPEC §6.1-6.5): one walk of one subtree - listings, files,
 * the deferred purge - on the process's walker thread and a thread pool. */
#ifndef ZDDC_WALKER_H
#define ZDDC_WALKER_H

#include <apr_pools.h>
#include "zddc_config.h"
#include "zddc_sched.h"

/* Why a walk's cancel flag was raised; any nonzero value stops transfers. */
#define ZDDC_CANCEL_STOP     1   /* the process is going away: aborted */
#define ZDDC_CANCEL_TIMEOUT  2   /* ZddcMirrorWalkTimeout */
#define ZDDC_CANCEL_AUTH     3   /* upstream answered 401 */

/* One subtree of one Mirror vhost; one per slot in each process, reused. */
struct zddc_walk_job {
    zddc_server_conf *conf;
    const char *subtree;             /* normalized, from conf->subtrees */
    const char *vhost;               /* "name:port", for log lines */
    int slot;                        /* index in the shared slots */
    apr_uint32_t generation;         /* the claim this job runs under */
    volatile apr_uint32_t cancel;    /* ZDDC_CANCEL_*, 0 while it runs */
    int busy;                        /* queued or running (scheduler mutex) */
    zddc_walk_job *next;             /* scheduler queue */
};

typedef struct zddc_walker zddc_walker;

/* The per-process walking machinery: a thread pool of max_parallel threads
 * shared by successive walks, each bounded by its ZddcMirrorParallelism. */
apr_status_t zddc_walker_create(zddc_walker **wk, int max_parallel,
                                apr_pool_t *p);
void zddc_walker_destroy(zddc_walker *wk);

/* Walk job->subtree to the end (completed, failed or aborted), then hand
 * the outcome to zddc_sched_record and log it. p is cleared by the caller. */
void zddc_walk_run(zddc_walker *wk, zddc_walk_job *job, apr_pool_t *p);

#endif
