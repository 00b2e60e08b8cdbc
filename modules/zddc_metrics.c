/* The counters behind the status page's figures and its Prometheus text
 * (SPEC §7): one shared-memory slot per Cache/Mirror vhost, atomic adds. */
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>

#include "zddc_metrics.h"
#include "zddc_upstream.h"
#include "zddc_log.h"

APLOG_USE_MODULE(zddc_mirror);

/* A vhost's slot is found again after a restart by its name, port and
 * cache root, truncated to this many bytes. */
#define METRICS_KEY_MAX 512
/* Slots in a new segment: twice what is needed, at least this many, so a
 * restart that adds a virtual host or two reuses the segment. */
#define METRICS_MIN_SLOTS 16
#define METRICS_MAGIC 0x7a6d6574u
/* Where the segment is kept across restarts (s->process->pool). */
#define METRICS_USERDATA "zddc_mirror_metrics"
/* Request note holding the verdict until the request is logged. */
#define METRICS_NOTE "zddc-verdict"

const char *const zddc_verdict_names[ZDDC_NVERDICTS] = {
    "HIT", "REVALIDATED", "MISS", "STALE", "BYPASS", "UPDATING"
};

const char *const zddc_uperr_names[ZDDC_NUPERRS] = {
    "connect", "timeout", "5xx", "401", "broken"
};

/* One vhost's counters in shared memory. Only the parent writes key and
 * since (in post_config); children only add to the counters, atomically. */
typedef struct {
    char key[METRICS_KEY_MAX];
    apr_time_t since;
    volatile apr_uint64_t requests[ZDDC_NVERDICTS];
    volatile apr_uint64_t served_bytes;
    volatile apr_uint64_t upstream_requests;
    volatile apr_uint64_t upstream_errors[ZDDC_NUPERRS];
} metrics_slot;

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t capacity;
    apr_uint32_t used;
} metrics_header;

/* The segment, owned by the process pool: it outlives pconf, so counters
 * keep counting through graceful and hard restarts. */
typedef struct {
    apr_shm_t *shm;
    metrics_header *hdr;
    metrics_slot *slots;
} metrics_segment;

/* Per server generation (pconf): each vhost's slot, by its config. */
static apr_hash_t *metrics_by_conf;

static apr_status_t metrics_pconf_cleanup(void *data)
{
    metrics_by_conf = NULL;
    return APR_SUCCESS;
}

static const char *slot_key(server_rec *s, const zddc_server_conf *conf,
                            apr_pool_t *p)
{
    char *key = apr_psprintf(p, "%s:%u\n%s",
                             s->server_hostname ? s->server_hostname : "",
                             s->addrs ? (unsigned)s->addrs->host_port : 0u,
                             conf->cache_root ? conf->cache_root : "");

    if (strlen(key) >= METRICS_KEY_MAX) {
        key[METRICS_KEY_MAX - 1] = '\0';
    }
    return key;
}

static metrics_slot *segment_find(metrics_segment *seg, const char *key)
{
    apr_uint32_t i;

    if (!seg) {
        return NULL;
    }
    for (i = 0; i < seg->hdr->used; i++) {
        if (!strcmp(seg->slots[i].key, key)) {
            return &seg->slots[i];
        }
    }
    return NULL;
}

static metrics_slot *segment_claim(metrics_segment *seg, const char *key)
{
    metrics_slot *slot;

    if (seg->hdr->used >= seg->hdr->capacity) {
        return NULL;
    }
    slot = &seg->slots[seg->hdr->used++];
    memset(slot, 0, sizeof(*slot));
    apr_cpystrn(slot->key, key, sizeof(slot->key));
    slot->since = apr_time_now();
    return slot;
}

/* A new segment of capacity slots holding the slots of old named in keys
 * (a copy: children of an older generation go on adding to the old one). */
static apr_status_t segment_create(metrics_segment **out,
                                   apr_uint32_t capacity,
                                   metrics_segment *old,
                                   apr_array_header_t *keys, server_rec *s,
                                   apr_pool_t *pproc, apr_pool_t *pconf)
{
    metrics_segment *seg = apr_pcalloc(pproc, sizeof(*seg));
    apr_size_t size = APR_ALIGN_DEFAULT(sizeof(metrics_header))
                      + (apr_size_t)capacity * sizeof(metrics_slot);
    apr_status_t rv;
    char *base;
    int i;

    rv = apr_shm_create(&seg->shm, size, NULL, pproc);
    if (APR_STATUS_IS_ENOTIMPL(rv)) {
        const char *fname = ap_runtime_dir_relative(pconf,
                                                    "zddc-metrics.shm");

        apr_shm_remove(fname, pconf);
        rv = apr_shm_create(&seg->shm, size, fname, pproc);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     ZDDC_LOGNO(01014) "zddc_mirror: cannot create %" APR_SIZE_T_FMT " bytes of "
                     "shared memory for the request counters", size);
        return rv;
    }
    base = apr_shm_baseaddr_get(seg->shm);
    memset(base, 0, size);
    seg->hdr = (metrics_header *)base;
    seg->hdr->magic = METRICS_MAGIC;
    seg->hdr->capacity = capacity;
    seg->slots = (metrics_slot *)(base
                 + APR_ALIGN_DEFAULT(sizeof(metrics_header)));
    for (i = 0; old && i < keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(keys, i, const char *);
        metrics_slot *from = segment_find(old, key);
        metrics_slot *to;
        int k;

        if (!from || segment_find(seg, key)) {
            continue;
        }
        to = segment_claim(seg, key);
        to->since = from->since;
        for (k = 0; k < ZDDC_NVERDICTS; k++) {
            to->requests[k] = apr_atomic_read64(&from->requests[k]);
        }
        to->served_bytes = apr_atomic_read64(&from->served_bytes);
        to->upstream_requests = apr_atomic_read64(&from->upstream_requests);
        for (k = 0; k < ZDDC_NUPERRS; k++) {
            to->upstream_errors[k] = apr_atomic_read64(
                                         &from->upstream_errors[k]);
        }
    }
    *out = seg;
    return APR_SUCCESS;
}

/* The upstream client's report of one request (any thread). */
static void metrics_upstream_done(void *baton, apr_status_t rv, int status)
{
    metrics_slot *slot = baton;
    int kind = -1;

    if (rv == ZDDC_UP_EABORT && status == 0) {
        return;                 /* stopped before anything was asked */
    }
    if (rv != APR_SUCCESS && rv != ZDDC_UP_ECONNECT && rv != ZDDC_UP_ETIMEOUT
        && rv != ZDDC_UP_EBROKEN && rv != ZDDC_UP_EABORT
        && rv != ZDDC_UP_ETOOBIG) {
        return;                 /* refused locally: nothing was sent */
    }
    apr_atomic_add64(&slot->upstream_requests, 1);
    if (rv == ZDDC_UP_ECONNECT) {
        kind = ZDDC_UPERR_CONNECT;
    }
    else if (rv == ZDDC_UP_ETIMEOUT) {
        kind = ZDDC_UPERR_TIMEOUT;
    }
    else if (rv == ZDDC_UP_EBROKEN) {
        kind = ZDDC_UPERR_BROKEN;
    }
    else if (status == 401) {
        kind = ZDDC_UPERR_401;
    }
    else if (status >= 500 && status <= 599) {
        kind = ZDDC_UPERR_5XX;
    }
    if (kind >= 0) {
        apr_atomic_add64(&slot->upstream_errors[kind], 1);
    }
}

apr_status_t zddc_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pproc = s->process->pool;
    apr_array_header_t *keys = apr_array_make(pconf, 8, sizeof(const char *));
    apr_array_header_t *confs = apr_array_make(pconf, 8,
                                               sizeof(zddc_server_conf *));
    metrics_segment *seg = NULL;
    apr_uint32_t missing = 0;
    server_rec *sv;
    void *data = NULL;
    apr_status_t rv;
    int i;

    apr_pool_cleanup_register(pconf, NULL, metrics_pconf_cleanup,
                              apr_pool_cleanup_null);
    metrics_by_conf = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return APR_SUCCESS;
    }

    for (sv = s; sv; sv = sv->next) {
        zddc_server_conf *conf = zddc_config_get(sv);

        if (!conf || (conf->mode != ZDDC_MODE_CACHE
                      && conf->mode != ZDDC_MODE_MIRROR)) {
            continue;
        }
        APR_ARRAY_PUSH(keys, const char *) = slot_key(sv, conf, pconf);
        APR_ARRAY_PUSH(confs, zddc_server_conf *) = conf;
    }
    if (keys->nelts == 0) {
        return APR_SUCCESS;
    }

    apr_pool_userdata_get(&data, METRICS_USERDATA, pproc);
    seg = data;
    for (i = 0; i < keys->nelts; i++) {
        if (!segment_find(seg, APR_ARRAY_IDX(keys, i, const char *))) {
            missing++;
        }
    }
    if (!seg || seg->hdr->used + missing > seg->hdr->capacity) {
        metrics_segment *old = seg;
        apr_uint32_t cap = 2 * (apr_uint32_t)keys->nelts;

        if (cap < METRICS_MIN_SLOTS) {
            cap = METRICS_MIN_SLOTS;
        }
        rv = segment_create(&seg, cap, old, keys, s, pproc, pconf);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        apr_pool_userdata_set(seg, METRICS_USERDATA, apr_pool_cleanup_null,
                              pproc);
        if (old) {
            apr_shm_destroy(old->shm); /* older children keep their map */
        }
    }

    metrics_by_conf = apr_hash_make(pconf);
    for (i = 0; i < keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(keys, i, const char *);
        zddc_server_conf *conf = APR_ARRAY_IDX(confs, i, zddc_server_conf *);
        metrics_slot *slot = segment_find(seg, key);

        if (!slot) {
            slot = segment_claim(seg, key);
        }
        apr_hash_set(metrics_by_conf, apr_pmemdup(pconf, &conf, sizeof(conf)),
                     sizeof(conf), slot);
        if (conf->up) {
            zddc_upstream_observe(conf->up, metrics_upstream_done, slot);
        }
    }
    return APR_SUCCESS;
}

static metrics_slot *slot_of(const zddc_server_conf *conf)
{
    if (!metrics_by_conf || !conf) {
        return NULL;
    }
    return apr_hash_get(metrics_by_conf, &conf, sizeof(conf));
}

void zddc_metrics_verdict(request_rec *r, const char *verdict)
{
    apr_table_setn(r->notes, METRICS_NOTE, verdict);
}

int zddc_metrics_log_transaction(request_rec *r)
{
    const char *verdict = NULL;
    request_rec *rr, *last = r;
    metrics_slot *slot;
    int k;

    /* After an internal redirect the request that answered is the last
     * of the chain (as mod_log_config's %>s and %b see it). */
    for (rr = r; rr; rr = rr->next) {
        const char *v = apr_table_get(rr->notes, METRICS_NOTE);

        if (v) {
            verdict = v;
        }
        last = rr;
    }
    if (!verdict || !(slot = slot_of(zddc_config_get(last->server)))) {
        return DECLINED;
    }
    for (k = 0; k < ZDDC_NVERDICTS; k++) {
        if (!strcmp(verdict, zddc_verdict_names[k])) {
            apr_atomic_add64(&slot->requests[k], 1);
            break;
        }
    }
    if (last->bytes_sent > 0) {
        apr_atomic_add64(&slot->served_bytes, (apr_uint64_t)last->bytes_sent);
    }
    return DECLINED;
}

int zddc_metrics_get(const zddc_server_conf *conf, zddc_metrics_counts *out)
{
    metrics_slot *slot = slot_of(conf);
    int k;

    memset(out, 0, sizeof(*out));
    if (!slot) {
        return 0;
    }
    for (k = 0; k < ZDDC_NVERDICTS; k++) {
        out->requests[k] = apr_atomic_read64(&slot->requests[k]);
    }
    out->served_bytes = apr_atomic_read64(&slot->served_bytes);
    out->upstream_requests = apr_atomic_read64(&slot->upstream_requests);
    for (k = 0; k < ZDDC_NUPERRS; k++) {
        out->upstream_errors[k] = apr_atomic_read64(&slot->upstream_errors[k]);
    }
    out->since = slot->since;
    return 1;
}
