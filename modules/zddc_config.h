/* Per-server configuration (SPEC §3): the struct, its defaults and the
 * merge; each field has a _set flag so a virtual host inherits the rest. */
#ifndef ZDDC_CONFIG_H
#define ZDDC_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "zddc_store.h"
#include "zddc_upstream.h"

typedef enum {
    ZDDC_MODE_OFF = 0,
    ZDDC_MODE_CACHE,
    ZDDC_MODE_MIRROR
} zddc_mode_e;

#define ZDDC_DEFAULT_TIMEOUT       apr_time_from_sec(30)
#define ZDDC_DEFAULT_FRESHNESS     0
/* Active mirrors stay current via repeated visits; idle ones cost nothing. */
#define ZDDC_DEFAULT_MIN_INTERVAL  apr_time_from_sec(3600)
/* Per walk, not global; leaves room for interactive requests. */
#define ZDDC_DEFAULT_PARALLELISM   4
#define ZDDC_MAX_PARALLELISM       256
#define ZDDC_DEFAULT_WALK_TIMEOUT  apr_time_from_sec(30 * 60)
#define ZDDC_UNLIMITED             (-1)

typedef struct zddc_server_conf {
    zddc_mode_e mode;                     int mode_set;
    const char *upstream;                 int upstream_set;
    const char *bearer;                   int bearer_set;
    const char *bearer_file;              int bearer_file_set;
    const char *ca_file;                  int ca_file_set;
    const char *proxy;                    int proxy_set; /* URL or "none" */
    const char *proxy_auth_file;          int proxy_auth_file_set;
    const char *client_cert;              int client_cert_set;
    const char *client_key;               int client_key_set;
    apr_interval_time_t timeout;          int timeout_set;
    const char *cache_root;               int cache_root_set;
    apr_interval_time_t freshness;        int freshness_set;
    apr_interval_time_t swr;              int swr_set;
    apr_interval_time_t max_stale;        int max_stale_set; /* -1 = unlimited */
    apr_int64_t max_file_size;            int max_file_size_set; /* -1 = unlimited */
    apr_array_header_t *subtrees;         int subtrees_set; /* const char * */
    apr_interval_time_t min_interval;     int min_interval_set;
    int parallelism;                      int parallelism_set;
    apr_interval_time_t walk_timeout;     int walk_timeout_set;
    apr_int64_t max_purge;                int max_purge_set;
    int forward_writes;                   int forward_writes_set;

    /* Runtime, set in post_config; lives in pconf. */
    server_rec *server;
    const char *access_file_name;
    const zddc_store_provider *store_provider;
    zddc_store *store;
    zddc_upstream *up;
    const char *bearer_value;   /* from ZddcUpstreamBearer or the file */
    const char *proxy_auth;     /* "user:password" from the file; secret */
    /* When this process last saw the master fail a background fill
     * (connect error, timeout, 5xx); 0 once one succeeds. Read by
     * ZddcCacheStaleWhileRevalidate to tell UPDATING from STALE. */
    volatile apr_uint64_t upstream_down_since;
    int vhost_index;            /* index among Mirror hosts, -1 otherwise */
} zddc_server_conf;

/* Per-directory configuration: only `ZddcMode Off` inside <Location> or
 * <LocationMatch>, which leaves those URLs to the rest of Apache (SPEC §3). */
typedef struct zddc_dir_conf {
    int off;                              int off_set;
} zddc_dir_conf;

extern module AP_MODULE_DECLARE_DATA zddc_mirror_module;

void *zddc_config_create(apr_pool_t *p, server_rec *s);
void *zddc_config_merge(apr_pool_t *p, void *basev, void *addv);
/* The first line of path, trailing blanks removed, into *token (bearer and
 * proxy credential files, read at startup before privileges drop); NULL or
 * a message naming the file. Never logs the content. */
const char *zddc_config_read_token(apr_pool_t *p, const char *path,
                                   const char **token);
void *zddc_dir_config_create(apr_pool_t *p, char *dir);
void *zddc_dir_config_merge(apr_pool_t *p, void *basev, void *addv);

static APR_INLINE zddc_server_conf *zddc_config_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &zddc_mirror_module);
}

/* Off for this request's URL by a <Location>'s `ZddcMode Off`. */
static APR_INLINE int zddc_config_off_here(request_rec *r)
{
    const zddc_dir_conf *d = ap_get_module_config(r->per_dir_config,
                                                  &zddc_mirror_module);
    return d && d->off;
}

#endif
