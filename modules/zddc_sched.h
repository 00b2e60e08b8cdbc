/* The mirror scheduler (SPEC §6): a shared-memory slot per (Mirror vhost,
 * subtree) under a global mutex, the trigger, each child's walker thread. */
#ifndef ZDDC_SCHED_H
#define ZDDC_SCHED_H

#include <string.h>
#include <sys/types.h>
#include <httpd.h>
#include <http_config.h>
#include "zddc_config.h"
#include "zddc_json.h"

/* The Mutex directive's name for the scheduler's global mutex. */
#define ZDDC_MUTEX_TYPE "zddc-mirror"

/* Figures of a walk as it goes. */
typedef struct {
    apr_uint64_t dirs;      /* listings asked for */
    apr_uint64_t files;     /* file entries seen */
    apr_uint64_t done;      /* of those, dealt with */
    apr_uint64_t fetched;   /* downloaded and stored */
    apr_uint64_t skipped;   /* already current: listing match or 304 */
    apr_uint64_t purged;    /* local entries removed */
    apr_uint64_t errors;
    apr_uint64_t bytes;     /* body bytes downloaded */
    apr_uint64_t busy;      /* left unverified: another writer (a client's
                               download) held the file past the walk's wait;
                               also counted in errors */
} zddc_walk_counts;

/* The figures a state record keeps, and back (a finished walk's "done" is
 * every file it saw). */
static APR_INLINE void zddc_walk_counts_to_rec(const zddc_walk_counts *c,
                                               zddc_state_rec *rec)
{
    rec->dirs = c->dirs;
    rec->files = c->files;
    rec->fetched = c->fetched;
    rec->skipped = c->skipped;
    rec->purged = c->purged;
    rec->errors = c->errors;
    rec->bytes = c->bytes;
}

static APR_INLINE void zddc_walk_counts_from_rec(const zddc_state_rec *rec,
                                                 apr_uint64_t busy,
                                                 zddc_walk_counts *c)
{
    memset(c, 0, sizeof(*c));
    c->dirs = rec->dirs;
    c->files = rec->files;
    c->done = rec->files;
    c->fetched = rec->fetched;
    c->skipped = rec->skipped;
    c->purged = rec->purged;
    c->errors = rec->errors;
    c->bytes = rec->bytes;
    c->busy = busy;
}

typedef enum {
    ZDDC_SLOT_IDLE = 0,
    ZDDC_SLOT_QUEUED,       /* claimed, waiting for the process's walker */
    ZDDC_SLOT_RUNNING
} zddc_slot_state_e;

#define ZDDC_SLOT_ERROR_MAX 160

/* One per (Mirror vhost, subtree), in shared memory; read and written only
 * under the global mutex (the trigger's first look excepted). */
typedef struct {
    pid_t pid;                /* process owning the walk in flight, 0 = none */
    int state;                /* zddc_slot_state_e */
    apr_uint32_t generation;  /* bumped at every claim */
    apr_time_t started_at;    /* claim, then start of the run */
    zddc_walk_counts live;    /* the walk in flight, published as it goes */
    zddc_state_rec last;      /* the last walk that ended: when, how long,
                                 figures */
    apr_uint64_t last_busy;   /* the last walk's busy figure (not persisted) */
    int last_failed;
    int last_offline;         /* it failed because the upstream served only
                                 stale copies (a tier above is cut off) */
    char last_error[ZDDC_SLOT_ERROR_MAX]; /* why it failed, purge refusal */
    volatile apr_uint32_t https_h1; /* an https master answered a walk
                                       over HTTP/1.x (apr_atomic; read by
                                       the next walk, in any process) */
} zddc_sched_slot;

/* The shared memory: this header, then the slots of every Mirror vhost in
 * server order, each vhost's in conf->subtrees order. */
#define ZDDC_SHM_MAGIC 0x7a646463u

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t nslots;
} zddc_sched_shm_header;

typedef struct zddc_walk_job zddc_walk_job;

/* pre_config: register the mutex type (`Mutex file:/path zddc-mirror`). */
apr_status_t zddc_sched_pre_config(apr_pool_t *pconf);

/* post_config (after the store and upstream of every vhost are set up):
 * numbers the Mirror vhosts, creates the mutex and shared memory and loads
 * each vhost's state file into its slots. Errors are logged. */
apr_status_t zddc_sched_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                    apr_pool_t *ptemp, server_rec *s);

/* child_init: attach the mutex and start this process's walker thread,
 * stopped again (walk aborted, slot released) when pchild goes away. */
void zddc_sched_child_init(apr_pool_t *pchild, server_rec *s);

/* fixups: start a walk of the subtree holding r->uri when it is due and
 * not in flight anywhere. Never blocks on the walk. */
void zddc_sched_trigger(request_rec *r, zddc_server_conf *conf);

/* The status page's "walk now": queue a walk of subtree (normalized, one of
 * conf->subtrees) ignoring ZddcMirrorMinInterval. APR_SUCCESS when queued,
 * APR_EBUSY when a walk of it is in flight, APR_NOTFOUND when conf is not
 * Mirror or has no such subtree, APR_EGENERAL when this process cannot
 * walk (stopping, no scheduler). Never blocks on the walk. */
apr_status_t zddc_sched_walk_now(request_rec *r, zddc_server_conf *conf,
                                 const char *subtree);

/* The status page's view: a copy of the vhost's slots, one per subtree in
 * conf->subtrees order, or NULL when the scheduler has none for it. */
zddc_sched_slot *zddc_sched_snapshot(const zddc_server_conf *conf,
                                     apr_pool_t *p);

/* A walk is in flight in the slot: claimed by a process that is alive and
 * has not overrun its walk timeout by far. */
int zddc_sched_slot_in_flight(const zddc_sched_slot *slot,
                              const zddc_server_conf *conf, apr_time_t now);

/* This process must end its walks now (child stopping, MPM stopping, or
 * the server generation it belongs to is over after a restart, so a newer
 * generation may already walk the subtree). */
int zddc_sched_stopping(void);

#endif
