/* The mirror scheduler: shared slots under a global mutex, the trigger that
 * claims a due subtree, each child's walker thread and queue (SPEC §6). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_shm.h>
#include <apr_global_mutex.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_atomic.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <util_mutex.h>
#include <ap_mpm.h>
#include <mpm_common.h>
#include <scoreboard.h>

#include "zddc_sched.h"
#include "zddc_walker.h"
#include "zddc_state.h"
#include "zddc_util.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

/* A claimed slot whose process still lives but has not reported an end
 * this long after its walk timeout is taken to be stuck (or a reused pid). */
#define ZDDC_STALE_GRACE apr_time_from_sec(60)

typedef struct {
    server_rec *s;
    zddc_server_conf *conf;
    int first;                  /* first slot */
    int count;                  /* one per subtree */
} sched_vhost;

/* Per server generation, set in post_config (pconf) and inherited by the
 * children; reset when pconf is cleared. */
static sched_vhost *sched_vhosts;
static int sched_nvhosts;
static int sched_nslots;
static apr_shm_t *sched_shm;
static zddc_sched_slot *sched_slots;
static apr_global_mutex_t *sched_mutex;

/* Per child process, set in child_init (pchild). */
typedef struct {
    apr_thread_mutex_t *mutex;  /* guards the queue and each job's busy */
    apr_thread_cond_t *cond;
    zddc_walk_job *jobs;        /* one per slot */
    zddc_walk_job *head, *tail;
    volatile apr_uint32_t stop; /* atomic: the process is going away */
    unsigned char *forced;      /* per slot: the queued walk was asked for
                                   (zddc_sched_walk_now) and ignores
                                   ZddcMirrorMinInterval */
    apr_thread_t *thread;
    server_rec *s;
} sched_child;

static sched_child *sched_proc;
/* The server generation this child belongs to (child_init). */
static int sched_my_generation;
static int sched_generation_known;

static apr_status_t sched_pconf_cleanup(void *data)
{
    sched_vhosts = NULL;
    sched_nvhosts = 0;
    sched_nslots = 0;
    sched_shm = NULL;
    sched_slots = NULL;
    sched_mutex = NULL;
    return APR_SUCCESS;
}

apr_status_t zddc_sched_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, ZDDC_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT,
                             0);
}

static int sched_lock(server_rec *s)
{
    apr_status_t rv = apr_global_mutex_lock(sched_mutex);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     ZDDC_LOGNO(01036) "zddc_mirror: cannot lock the " ZDDC_MUTEX_TYPE " mutex");
        return 0;
    }
    return 1;
}

static void sched_unlock(void)
{
    apr_global_mutex_unlock(sched_mutex);
}

/* Under prefork, SIGTERM and SIGHUP make the child exit from inside the
 * signal handler, pchild's cleanups included, on the very thread they
 * interrupted; sched_child_stop then waits for the walker. So a thread
 * that can take those signals holds the scheduler's locks only with them
 * blocked: the handler never finds a lock held by the thread it stopped. */
static void sched_signals_block(sigset_t *saved)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, AP_SIG_GRACEFUL);
    pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void sched_signals_restore(const sigset_t *saved)
{
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

int zddc_sched_stopping(void)
{
    sched_child *c = sched_proc;
    int state = AP_MPMQ_RUNNING;

    if (c && apr_atomic_read32(&c->stop)) {
        return 1;
    }
    /* After a graceful restart an old child lives on while it serves a
     * long download; the new generation has its own slots and walks. */
    if (sched_generation_known && ap_scoreboard_image
        && ap_scoreboard_image->global
        && ap_scoreboard_image->global->running_generation
           != sched_my_generation) {
        return 1;
    }
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
           && state == AP_MPMQ_STOPPING;
}

static const char *vhost_name(server_rec *s, apr_pool_t *p)
{
    if (s->addrs && s->addrs->host_port) {
        return apr_psprintf(p, "%s:%u", s->server_hostname ? s->server_hostname
                            : "(unnamed)", (unsigned)s->addrs->host_port);
    }
    return s->server_hostname ? s->server_hostname : "(unnamed)";
}

/* Fill the vhost's slots from its state file and say what was found. */
static void sched_load_state(sched_vhost *v, apr_pool_t *ptemp)
{
    apr_hash_t *recs;
    const char *err = NULL;
    const char *path = zddc_state_describe(v->conf, ptemp);
    const char *name = vhost_name(v->s, ptemp);
    apr_status_t rv;
    int i;

    rv = zddc_state_load(v->conf, &recs, &err, ptemp);
    if (APR_STATUS_IS_ENOENT(rv)) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, v->s,
                     ZDDC_LOGNO(01037) "zddc_mirror: %s: no mirror state file %s yet: every "
                     "subtree counts as never walked", name, path);
        return;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v->s,
                     ZDDC_LOGNO(01038) "zddc_mirror: %s: mirror state file %s is unusable (%s): "
                     "every subtree counts as never walked; the file is "
                     "rewritten after the next walk", name, path,
                     err ? err : "unknown error");
        return;
    }
    for (i = 0; i < v->count; i++) {
        const char *sub = APR_ARRAY_IDX(v->conf->subtrees, i, const char *);
        zddc_state_rec *rec = apr_hash_get(recs, sub, APR_HASH_KEY_STRING);

        if (rec && rec->last_walk_at) {
            sched_slots[v->first + i].last = *rec;
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, v->s,
                         ZDDC_LOGNO(01039) "zddc_mirror: %s: subtree %s last walked at %s",
                         name, sub, zddc_rfc3339_format(ptemp,
                                                        rec->last_walk_at));
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, v->s,
                         ZDDC_LOGNO(01040) "zddc_mirror: %s: subtree %s never walked",
                         name, sub);
        }
    }
}

apr_status_t zddc_sched_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                    apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sv;
    apr_size_t size;
    apr_status_t rv;
    int n = 0, slots = 0, i;

    apr_pool_cleanup_register(pconf, NULL, sched_pconf_cleanup,
                              apr_pool_cleanup_null);
    sched_pconf_cleanup(NULL);

    for (sv = s; sv; sv = sv->next) {
        zddc_server_conf *conf = zddc_config_get(sv);

        if (!conf) {
            continue;
        }
        if (conf->mode != ZDDC_MODE_MIRROR) {
            conf->vhost_index = -1;
            continue;
        }
        if (!conf->subtrees || conf->subtrees->nelts == 0) {
            apr_array_header_t *def = apr_array_make(pconf, 1,
                                                     sizeof(const char *));
            APR_ARRAY_PUSH(def, const char *) = "/";
            conf->subtrees = def;
        }
        conf->vhost_index = n++;
        slots += conf->subtrees->nelts;
    }

    /* The first pass only checks the configuration; set up for real in the
     * second, whose pconf lives as long as the children. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || n == 0) {
        return APR_SUCCESS;
    }

    sched_vhosts = apr_pcalloc(pconf, n * sizeof(*sched_vhosts));
    for (sv = s, i = 0; sv; sv = sv->next) {
        zddc_server_conf *conf = zddc_config_get(sv);

        if (!conf || conf->mode != ZDDC_MODE_MIRROR) {
            continue;
        }
        sched_vhosts[i].s = sv;
        sched_vhosts[i].conf = conf;
        sched_vhosts[i].count = conf->subtrees->nelts;
        sched_vhosts[i].first = i ? sched_vhosts[i - 1].first
                                    + sched_vhosts[i - 1].count : 0;
        i++;
    }

    rv = ap_global_mutex_create(&sched_mutex, NULL, ZDDC_MUTEX_TYPE, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     ZDDC_LOGNO(01041) "zddc_mirror: cannot create the " ZDDC_MUTEX_TYPE
                     " mutex");
        sched_mutex = NULL;
        return rv;
    }

    size = APR_ALIGN_DEFAULT(sizeof(zddc_sched_shm_header))
           + (apr_size_t)slots * sizeof(zddc_sched_slot);
    rv = apr_shm_create(&sched_shm, size, NULL, pconf);
    if (APR_STATUS_IS_ENOTIMPL(rv)) {
        const char *fname = ap_runtime_dir_relative(pconf, "zddc-mirror.shm");

        apr_shm_remove(fname, pconf);
        rv = apr_shm_create(&sched_shm, size, fname, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     ZDDC_LOGNO(01042) "zddc_mirror: cannot create %" APR_SIZE_T_FMT " bytes of "
                     "shared memory for the mirror scheduler", size);
        sched_shm = NULL;
        sched_mutex = NULL;
        return rv;
    }
    {
        char *base = apr_shm_baseaddr_get(sched_shm);
        zddc_sched_shm_header *hdr = (zddc_sched_shm_header *)base;

        memset(base, 0, size);
        hdr->magic = ZDDC_SHM_MAGIC;
        hdr->nslots = (apr_uint32_t)slots;
        sched_slots = (zddc_sched_slot *)(base
                      + APR_ALIGN_DEFAULT(sizeof(zddc_sched_shm_header)));
    }
    sched_nvhosts = n;
    sched_nslots = slots;

    for (i = 0; i < n; i++) {
        sched_load_state(&sched_vhosts[i], ptemp);
    }
    return APR_SUCCESS;
}

static int pid_alive(pid_t pid)
{
    if (pid == getpid()) {
        return 1;
    }
    return kill(pid, 0) == 0 || errno != ESRCH;
}

int zddc_sched_slot_in_flight(const zddc_sched_slot *slot,
                              const zddc_server_conf *conf, apr_time_t now)
{
    if (slot->pid == 0 || !pid_alive(slot->pid)) {
        return 0;
    }
    if (conf->walk_timeout > 0 && slot->started_at
        && now - slot->started_at > conf->walk_timeout + 2 * conf->timeout
                                    + ZDDC_STALE_GRACE) {
        return 0;
    }
    return 1;
}

static int walk_due(const zddc_sched_slot *slot, const zddc_server_conf *conf,
                    apr_time_t now)
{
    return slot->last.last_walk_at == 0
           || now - slot->last.last_walk_at >= conf->min_interval;
}

static int job_owns_slot(const zddc_walk_job *job, const zddc_sched_slot *slot)
{
    return slot->pid == getpid() && slot->generation == job->generation;
}

/* Give a claimed slot back without a walk (unlocked on entry). */
static void sched_release(zddc_walk_job *job, server_rec *s)
{
    zddc_sched_slot *slot = &sched_slots[job->slot];

    if (!sched_lock(s)) {
        return;
    }
    if (job_owns_slot(job, slot)) {
        slot->pid = 0;
        slot->state = ZDDC_SLOT_IDLE;
    }
    sched_unlock();
}

/* What sched_enqueue did. */
#define SCHED_QUEUED       1
#define SCHED_NOT_DUE      0
#define SCHED_IN_FLIGHT    (-1)
#define SCHED_UNAVAILABLE  (-2)

/* The trigger's decision, under the process's and the server's mutexes
 * (signals blocked by the caller): claim the slot when the walk is due (or
 * forced) and in flight nowhere, and queue the job for this process's
 * walker. */
static int sched_enqueue(sched_child *c, zddc_walk_job *job,
                         zddc_sched_slot *slot, zddc_server_conf *conf,
                         server_rec *s, apr_time_t now, int force)
{
    int busy, stop, in_flight, claimed = 0;

    apr_thread_mutex_lock(c->mutex);
    stop = apr_atomic_read32(&c->stop);
    busy = job->busy;
    apr_thread_mutex_unlock(c->mutex);
    if (busy) {
        return SCHED_IN_FLIGHT;
    }
    if (stop || !sched_lock(s)) {
        return SCHED_UNAVAILABLE;
    }
    in_flight = zddc_sched_slot_in_flight(slot, conf, now);
    if (!in_flight && (force || walk_due(slot, conf, now))) {
        slot->pid = getpid();
        slot->state = ZDDC_SLOT_QUEUED;
        slot->generation++;
        slot->started_at = now;
        memset(&slot->live, 0, sizeof(slot->live));
        job->generation = slot->generation;
        claimed = 1;
    }
    sched_unlock();
    if (!claimed) {
        return in_flight ? SCHED_IN_FLIGHT : SCHED_NOT_DUE;
    }

    apr_thread_mutex_lock(c->mutex);
    if (apr_atomic_read32(&c->stop) || job->busy) {
        busy = job->busy;
        apr_thread_mutex_unlock(c->mutex);
        sched_release(job, s);
        return busy ? SCHED_IN_FLIGHT : SCHED_UNAVAILABLE;
    }
    job->busy = 1;
    c->forced[job->slot] = (unsigned char)force;
    apr_atomic_set32(&job->cancel, 0);
    job->next = NULL;
    if (c->tail) {
        c->tail->next = job;
    }
    else {
        c->head = job;
    }
    c->tail = job;
    apr_thread_cond_signal(c->cond);
    apr_thread_mutex_unlock(c->mutex);
    return SCHED_QUEUED;
}

void zddc_sched_trigger(request_rec *r, zddc_server_conf *conf)
{
    sched_child *c = sched_proc;
    sched_vhost *v;
    zddc_sched_slot *slot;
    zddc_walk_job *job;
    const char *sub;
    sigset_t saved;
    apr_time_t now;
    int idx, queued;

    if (!c || !sched_slots || !conf || conf->mode != ZDDC_MODE_MIRROR
        || conf->vhost_index < 0 || conf->vhost_index >= sched_nvhosts) {
        return;
    }
    v = &sched_vhosts[conf->vhost_index];
    if (v->conf != conf || !r->uri) {
        return;
    }
    sub = zddc_subtree_match(conf->subtrees, r->uri);
    if (!sub) {
        return;
    }
    for (idx = 0; idx < v->count; idx++) {
        if (!strcmp(APR_ARRAY_IDX(conf->subtrees, idx, const char *), sub)) {
            break;
        }
    }
    if (idx == v->count) {
        return;
    }
    slot = &sched_slots[v->first + idx];
    job = &c->jobs[v->first + idx];
    now = apr_time_now();

    /* A first look without the mutex settles the common case, a subtree
     * walked recently; the decision itself is taken under the mutex. A
     * process whose generation is over leaves walks to the new one. */
    if (!walk_due(slot, conf, now) || zddc_sched_stopping()) {
        return;
    }

    sched_signals_block(&saved);
    queued = sched_enqueue(c, job, slot, conf, r->server, now, 0);
    sched_signals_restore(&saved);

    if (queued == SCHED_QUEUED) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      ZDDC_LOGNO(01043) "zddc_mirror: %s: walk of %s queued in process %"
                      APR_PID_T_FMT, job->vhost, sub, getpid());
    }
}

apr_status_t zddc_sched_walk_now(request_rec *r, zddc_server_conf *conf,
                                 const char *subtree)
{
    sched_child *c = sched_proc;
    sched_vhost *v;
    sigset_t saved;
    int idx, queued;

    if (!conf || conf->mode != ZDDC_MODE_MIRROR || conf->vhost_index < 0
        || conf->vhost_index >= sched_nvhosts
        || sched_vhosts[conf->vhost_index].conf != conf) {
        return APR_NOTFOUND;
    }
    v = &sched_vhosts[conf->vhost_index];
    for (idx = 0; idx < v->count; idx++) {
        if (!strcmp(APR_ARRAY_IDX(conf->subtrees, idx, const char *),
                    subtree)) {
            break;
        }
    }
    if (idx == v->count) {
        return APR_NOTFOUND;
    }
    if (!c || !sched_slots || zddc_sched_stopping()) {
        return APR_EGENERAL;
    }
    sched_signals_block(&saved);
    queued = sched_enqueue(c, &c->jobs[v->first + idx],
                           &sched_slots[v->first + idx], conf, r->server,
                           apr_time_now(), 1);
    sched_signals_restore(&saved);
    if (queued == SCHED_QUEUED) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      ZDDC_LOGNO(01044) "zddc_mirror: walk of %s queued in process %"
                      APR_PID_T_FMT " on request", subtree, getpid());
        return APR_SUCCESS;
    }
    return queued == SCHED_IN_FLIGHT ? APR_EBUSY : APR_EGENERAL;
}

/* Before running a claimed job: the claim must still be ours, and the walk
 * still due once the state file has had its say (another server generation
 * may have finished the same walk since this one started). */
static int sched_job_start(zddc_walk_job *job, apr_pool_t *p)
{
    zddc_sched_slot *slot = &sched_slots[job->slot];
    zddc_server_conf *conf = job->conf;
    apr_hash_t *recs;
    zddc_state_rec *rec;
    const char *err;
    apr_time_t now;
    int run = 0, forced = 0;

    if (zddc_sched_stopping()) {
        return 0;
    }
    zddc_state_load(conf, &recs, &err, p);
    rec = apr_hash_get(recs, job->subtree, APR_HASH_KEY_STRING);
    if (!sched_lock(conf->server)) {
        return 0;
    }
    if (job_owns_slot(job, slot)) {
        if (rec && rec->last_walk_at > slot->last.last_walk_at) {
            slot->last = *rec;
            slot->last_busy = 0;
            slot->last_failed = 0;
            slot->last_offline = 0;
            slot->last_error[0] = '\0';
        }
        now = apr_time_now();
        if (sched_proc) {
            apr_thread_mutex_lock(sched_proc->mutex);
            forced = sched_proc->forced[job->slot];
            sched_proc->forced[job->slot] = 0;
            apr_thread_mutex_unlock(sched_proc->mutex);
        }
        if (forced || walk_due(slot, conf, now)) {
            slot->state = ZDDC_SLOT_RUNNING;
            slot->started_at = now;
            run = 1;
        }
        else {
            slot->pid = 0;
            slot->state = ZDDC_SLOT_IDLE;
        }
    }
    sched_unlock();
    return run;
}

/* The live figures of the walks this process runs, into their slots. */
static void sched_publish(zddc_walk_job *job)
{
    zddc_sched_slot *slot = &sched_slots[job->slot];
    zddc_walk_counts live;

    live.dirs = apr_atomic_read64(&job->live.dirs);
    live.files = apr_atomic_read64(&job->live.files);
    live.done = apr_atomic_read64(&job->live.done);
    live.fetched = apr_atomic_read64(&job->live.fetched);
    live.skipped = apr_atomic_read64(&job->live.skipped);
    live.purged = apr_atomic_read64(&job->live.purged);
    live.errors = apr_atomic_read64(&job->live.errors);
    live.bytes = apr_atomic_read64(&job->live.bytes);
    live.busy = apr_atomic_read64(&job->live.busy);
    if (!sched_lock(job->conf->server)) {
        return;
    }
    if (job_owns_slot(job, slot)) {
        slot->live = live;
    }
    sched_unlock();
}

/* A walk ended: unless it was aborted, record what it returned in the slot,
 * the state file and its change report; then release the slot. */
static void sched_record(zddc_walk_job *job, zddc_walk_result *res,
                         apr_pool_t *p)
{
    zddc_server_conf *conf = job->conf;
    sched_vhost *v = &sched_vhosts[conf->vhost_index];
    zddc_sched_slot *slot = &sched_slots[job->slot];
    apr_hash_t *known;
    apr_status_t rv = APR_SUCCESS, rrv = APR_SUCCESS;
    int i;

    if (!sched_lock(conf->server)) {
        return;
    }
    if (!job_owns_slot(job, slot)) {
        sched_unlock();
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, conf->server,
                     ZDDC_LOGNO(01045) "zddc_mirror: %s: walk of %s was taken over by another "
                     "process while it ran; its result is not recorded",
                     job->vhost, job->subtree);
        return;
    }
    if (!res->aborted) {
        res->rec.last_success_at = res->failed ? slot->last.last_success_at
                                               : res->rec.last_walk_at;
        slot->last = res->rec;
        slot->last_busy = res->busy;
        slot->last_failed = res->failed;
        slot->last_offline = res->upstream_offline;
        apr_cpystrn(slot->last_error, res->why ? res->why : "",
                    sizeof(slot->last_error));

        known = apr_hash_make(p);
        for (i = 0; i < v->count; i++) {
            zddc_sched_slot *sl = &sched_slots[v->first + i];

            if (sl->last.last_walk_at) {
                zddc_state_rec *copy = apr_pmemdup(p, &sl->last,
                                                   sizeof(*copy));

                apr_hash_set(known,
                             APR_ARRAY_IDX(conf->subtrees, i, const char *),
                             APR_HASH_KEY_STRING, copy);
            }
        }
        rv = zddc_state_save(conf, known, p);
        rrv = zddc_report_save(conf, job->subtree, &res->report, p);
    }
    slot->pid = 0;
    slot->state = ZDDC_SLOT_IDLE;
    sched_unlock();

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, conf->server,
                     ZDDC_LOGNO(01046) "zddc_mirror: %s: cannot write the mirror state file %s",
                     job->vhost, zddc_state_describe(conf, p));
    }
    if (rrv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rrv, conf->server,
                     ZDDC_LOGNO(01047) "zddc_mirror: %s: cannot write the change report of %s",
                     job->vhost, job->subtree);
    }
}

zddc_sched_slot *zddc_sched_snapshot(const zddc_server_conf *conf,
                                     apr_pool_t *p)
{
    sched_vhost *v;
    zddc_sched_slot *copy;
    sigset_t saved;
    int locked;

    if (!sched_slots || !conf || conf->vhost_index < 0
        || conf->vhost_index >= sched_nvhosts) {
        return NULL;
    }
    v = &sched_vhosts[conf->vhost_index];
    if (v->conf != conf || v->count == 0) {
        return NULL;
    }
    copy = apr_palloc(p, v->count * sizeof(*copy));
    sched_signals_block(&saved);
    locked = sched_lock(conf->server);
    if (locked) {
        memcpy(copy, &sched_slots[v->first], v->count * sizeof(*copy));
        sched_unlock();
    }
    sched_signals_restore(&saved);
    return locked ? copy : NULL;
}

/* How often the scheduler thread publishes live figures and looks for a
 * server generation that is over. */
#define SCHED_TICK apr_time_from_msec(250)

/* Scheduler thread: a finished walk is recorded, logged, its pool freed. */
static void sched_collect(sched_child *c, int force)
{
    int i;

    for (i = 0; i < sched_nslots; i++) {
        zddc_walk_job *job = &c->jobs[i];

        if (!job->running || !(force || apr_atomic_read32(&job->finished))) {
            continue;
        }
        if (!job->result.aborted) {
            sched_publish(job);
        }
        sched_record(job, &job->result, job->pool);
        zddc_walk_log(job, &job->result, job->pool);
        apr_pool_destroy(job->pool);
        job->pool = NULL;
        job->running = 0;
        apr_thread_mutex_lock(c->mutex);
        job->busy = 0;
        apr_thread_mutex_unlock(c->mutex);
    }
}

/* Scheduler thread: a claimed job starts on the walker, beside any other
 * walk in flight (SPEC §6.7), or gives its claim back. */
static void sched_launch(sched_child *c, zddc_walker *wk, zddc_walk_job *job,
                         apr_pool_t *p)
{
    apr_pool_t *tmp;
    int run;

    apr_pool_create(&tmp, p);
    run = wk && sched_job_start(job, tmp);
    apr_pool_destroy(tmp);
    if (run) {
        apr_pool_create(&job->pool, p);
        apr_pool_tag(job->pool, "zddc_walk");
        job->notify_mutex = c->mutex;
        job->notify = c->cond;
        job->running = 1;
        if (zddc_walk_start(wk, job) == APR_SUCCESS) {
            return;
        }
        /* No thread for it: walk here, the others wait. */
        zddc_walk_run(job, &job->result, job->pool);
        apr_atomic_set32(&job->finished, 1);
        sched_collect(c, 0);
        return;
    }
    sched_release(job, job->conf->server);
    apr_thread_mutex_lock(c->mutex);
    job->busy = 0;
    apr_thread_mutex_unlock(c->mutex);
}

static void *APR_THREAD_FUNC sched_thread_main(apr_thread_t *thd, void *data)
{
    sched_child *c = data;
    zddc_walker *wk = NULL;
    zddc_walk_job *job, *queued;
    apr_pool_t *p;
    apr_status_t rv;
    int i, stopping = 0;

    /* Signals are the MPM's business: none may land on this thread or on
     * the pool threads it starts. */
    apr_setup_signal_thread();

    /* Under the global pool, whose allocator is locked: walks create and
     * destroy their own subpools of p on their own threads. */
    apr_pool_create(&p, NULL);
    rv = zddc_walker_create(&wk, sched_nslots, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, c->s,
                     ZDDC_LOGNO(01048) "zddc_mirror: cannot start the walker's thread pool; "
                     "this process will not walk");
        wk = NULL;
    }

    for (;;) {
        apr_thread_mutex_lock(c->mutex);
        if (!c->head && !apr_atomic_read32(&c->stop)) {
            apr_thread_cond_timedwait(c->cond, c->mutex, SCHED_TICK);
        }
        queued = NULL;
        if (!apr_atomic_read32(&c->stop)) {
            queued = c->head;
            c->head = c->tail = NULL;
        }
        apr_thread_mutex_unlock(c->mutex);

        sched_collect(c, 0);
        if (apr_atomic_read32(&c->stop)) {
            break;
        }
        while ((job = queued) != NULL) {
            queued = job->next;
            job->next = NULL;
            sched_launch(c, wk, job, p);
        }
        /* The walks report as they go; a generation that is over ends
         * them (the scheduler raises their flag, they never ask). */
        stopping = zddc_sched_stopping();
        for (i = 0; i < sched_nslots; i++) {
            job = &c->jobs[i];
            if (job->running && !apr_atomic_read32(&job->finished)) {
                if (stopping) {
                    apr_atomic_cas32(&job->cancel, ZDDC_CANCEL_STOP, 0);
                }
                sched_publish(job);
            }
        }
    }

    /* Stopping: the walks in flight were told to stop (sched_child_stop);
     * wait for them, then give every claim back. Walks queued here will
     * not run; other processes may. */
    if (wk) {
        zddc_walker_destroy(wk);
    }
    sched_collect(c, 0);
    apr_thread_mutex_lock(c->mutex);
    queued = c->head;
    c->head = c->tail = NULL;
    apr_thread_mutex_unlock(c->mutex);
    while ((job = queued) != NULL) {
        queued = job->next;
        job->next = NULL;
        sched_release(job, job->conf->server);
    }
    apr_pool_destroy(p);
    /* Returning rather than apr_thread_exit(): pthread_exit's unwinding
     * leaves the stack poisoned for AddressSanitizer. */
    return NULL;
}

/* A pre-cleanup: it must run (and join the thread) before pchild's
 * subpools, which the thread uses, are destroyed. Under prefork it may run
 * inside a SIGTERM/SIGHUP handler; the interrupted thread then holds none
 * of the scheduler's locks (sched_signals_block), and the walker, told by
 * the flags below without any lock, aborts its transfers at once. */
static apr_status_t sched_child_stop(void *data)
{
    sched_child *c = data;
    apr_status_t trv;
    int i;

    apr_atomic_set32(&c->stop, 1);
    for (i = 0; i < sched_nslots; i++) {
        apr_atomic_cas32(&c->jobs[i].cancel, ZDDC_CANCEL_STOP, 0);
    }
    apr_thread_mutex_lock(c->mutex);
    apr_thread_cond_broadcast(c->cond);
    apr_thread_mutex_unlock(c->mutex);

    apr_thread_join(&trv, c->thread);
    sched_proc = NULL;
    return APR_SUCCESS;
}

void zddc_sched_child_init(apr_pool_t *pchild, server_rec *s)
{
    sched_child *c;
    apr_threadattr_t *attr;
    apr_status_t rv;
    sigset_t all, saved;
    int i, j;

    sched_proc = NULL;
    if (!sched_mutex || !sched_slots || sched_nslots == 0) {
        return;
    }
    sched_generation_known = ap_mpm_query(AP_MPMQ_GENERATION,
                                          &sched_my_generation)
                             == APR_SUCCESS;
    rv = apr_global_mutex_child_init(&sched_mutex,
                                     apr_global_mutex_lockfile(sched_mutex),
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     ZDDC_LOGNO(01049) "zddc_mirror: cannot attach the " ZDDC_MUTEX_TYPE
                     " mutex in a child; this process will not walk");
        return;
    }

    c = apr_pcalloc(pchild, sizeof(*c));
    c->s = s;
    c->jobs = apr_pcalloc(pchild, sched_nslots * sizeof(*c->jobs));
    c->forced = apr_pcalloc(pchild, sched_nslots);
    for (i = 0; i < sched_nvhosts; i++) {
        sched_vhost *v = &sched_vhosts[i];

        for (j = 0; j < v->count; j++) {
            zddc_walk_job *job = &c->jobs[v->first + j];

            job->conf = v->conf;
            job->subtree = APR_ARRAY_IDX(v->conf->subtrees, j, const char *);
            job->slot = v->first + j;
            job->vhost = vhost_name(v->s, pchild);
            job->https_h1 = &sched_slots[v->first + j].https_h1;
        }
    }
    /* Every thread of the walker descends from this one and inherits its
     * signal mask: with all signals blocked there, a SIGTERM for a prefork
     * child always runs its handler (the child's exit) on the main
     * thread, never on a walk's thread in the middle of malloc or a
     * transfer. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    if ((rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT,
                                      pchild)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&c->cond, pchild)) != APR_SUCCESS
        || (rv = apr_threadattr_create(&attr, pchild)) != APR_SUCCESS
        || (rv = apr_threadattr_detach_set(attr, 0)) != APR_SUCCESS
        || (rv = apr_thread_create(&c->thread, attr, sched_thread_main, c,
                                   pchild)) != APR_SUCCESS) {
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     ZDDC_LOGNO(01050) "zddc_mirror: cannot start the walker thread; this "
                     "process will not walk");
        return;
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    apr_pool_pre_cleanup_register(pchild, c, sched_child_stop);
    sched_proc = c;
}
