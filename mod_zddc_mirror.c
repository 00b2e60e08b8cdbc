/* mod_zddc_mirror: makes a virtual host a caching mirror of a ZDDC master.
 * This file wires directives and hooks; the logic lives in modules/. */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_status.h>
#include <unixd.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <unistd.h>

#include "zddc_config.h"
#include "zddc_fill.h"
#include "zddc_metrics.h"
#include "zddc_pipeline.h"
#include "zddc_rootcheck.h"
#include "zddc_sched.h"
#include "zddc_status.h"
#include "zddc_store.h"
#include "zddc_upstream.h"
#include "zddc_util.h"
#include "zddc_version.h"
#include "zddc_log.h"

/* AP_DECLARE_MODULE below also declares the log module index. */

/* ---- directives ---------------------------------------------------- */

static zddc_server_conf *cmd_conf(cmd_parms *cmd)
{
    return zddc_config_get(cmd->server);
}

static const char *set_mode(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);

    if (cmd->path) {
        zddc_dir_conf *dc = d;
        const char *err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY
                                                    | NOT_IN_FILES);
        if (err) {
            return apr_pstrcat(cmd->pool, "ZddcMode: ", err, NULL);
        }
        if (strcasecmp(v, "Off")) {
            return apr_psprintf(cmd->pool, "ZddcMode: only Off is valid "
                                "inside <Location>/<LocationMatch> (got "
                                "'%s')", v);
        }
        dc->off = 1;
        dc->off_set = 1;
        return NULL;
    }

    if (!strcasecmp(v, "Off")) {
        c->mode = ZDDC_MODE_OFF;
    }
    else if (!strcasecmp(v, "Cache")) {
        c->mode = ZDDC_MODE_CACHE;
    }
    else if (!strcasecmp(v, "Mirror")) {
        c->mode = ZDDC_MODE_MIRROR;
    }
    else {
        return apr_psprintf(cmd->pool, "ZddcMode: unknown mode '%s' "
                            "(expected Off, Cache or Mirror)", v);
    }
    c->mode_set = 1;
    return NULL;
}

static const char *set_forward_writes(cmd_parms *cmd, void *d, int on)
{
    zddc_server_conf *c = cmd_conf(cmd);

    c->forward_writes = on;
    c->forward_writes_set = 1;
    return NULL;
}

static const char *set_upstream(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    const char *err = zddc_upstream_check_url(v);

    if (err) {
        return apr_psprintf(cmd->pool, "ZddcUpstream: invalid URL '%s': %s",
                            v, err);
    }
    c->upstream = apr_pstrdup(cmd->pool, v);
    while (strlen(c->upstream) > 0
           && c->upstream[strlen(c->upstream) - 1] == '/') {
        ((char *)c->upstream)[strlen(c->upstream) - 1] = '\0';
    }
    c->upstream_set = 1;
    return NULL;
}

static const char *set_bearer(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);

    if (!*v) {
        return "ZddcUpstreamBearer: empty token";
    }
    c->bearer = v;
    c->bearer_set = 1;
    return NULL;
}

static const char *set_path(cmd_parms *cmd, const char *name, const char *v,
                            const char **field, int *set)
{
    const char *abs = ap_server_root_relative(cmd->pool, v);

    if (!abs || !*v) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", name, v);
    }
    *field = abs;
    *set = 1;
    return NULL;
}

static const char *set_bearer_file(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return set_path(cmd, "ZddcUpstreamBearerFile", v, &c->bearer_file,
                    &c->bearer_file_set);
}

static const char *set_ca_file(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return set_path(cmd, "ZddcUpstreamCAFile", v, &c->ca_file,
                    &c->ca_file_set);
}

static const char *set_proxy(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    const char *err = strcasecmp(v, "none") ? zddc_upstream_check_proxy(v)
                                            : NULL;

    if (err) {
        return apr_psprintf(cmd->pool, "ZddcUpstreamProxy: invalid proxy "
                            "'%s': %s", v, err);
    }
    c->proxy = v;
    c->proxy_set = 1;
    return NULL;
}

static const char *set_proxy_auth_file(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return set_path(cmd, "ZddcUpstreamProxyAuthFile", v, &c->proxy_auth_file,
                    &c->proxy_auth_file_set);
}

static const char *set_client_cert(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return set_path(cmd, "ZddcUpstreamClientCert", v, &c->client_cert,
                    &c->client_cert_set);
}

static const char *set_client_key(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return set_path(cmd, "ZddcUpstreamClientKey", v, &c->client_key,
                    &c->client_key_set);
}

static const char *set_cache_root(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    const char *err = set_path(cmd, "ZddcCacheRoot", v, &c->cache_root,
                               &c->cache_root_set);
    char *root;
    apr_size_t n;

    if (err) {
        return err;
    }
    root = apr_pstrdup(cmd->pool, c->cache_root);
    n = strlen(root);
    while (n > 1 && root[n - 1] == '/') {
        root[--n] = '\0';
    }
    if (!strcmp(root, "/")) {
        return "ZddcCacheRoot: refusing '/' as a cache root";
    }
    c->cache_root = root;
    return NULL;
}

static const char *parse_duration(cmd_parms *cmd, const char *name,
                                  const char *v, apr_interval_time_t *out,
                                  int *set, int allow_zero)
{
    const char *err = zddc_duration_parse(v, out);

    if (err) {
        return apr_psprintf(cmd->pool, "%s: %s", name, err);
    }
    if (!allow_zero && *out <= 0) {
        return apr_psprintf(cmd->pool, "%s: duration '%s' must be greater "
                            "than zero", name, v);
    }
    *set = 1;
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return parse_duration(cmd, "ZddcUpstreamTimeout", v, &c->timeout,
                          &c->timeout_set, 0);
}

static const char *set_freshness(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return parse_duration(cmd, "ZddcCacheFreshness", v, &c->freshness,
                          &c->freshness_set, 1);
}

static const char *set_max_stale(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);

    if (!strcasecmp(v, "unlimited")) {
        c->max_stale = ZDDC_UNLIMITED;
        c->max_stale_set = 1;
        return NULL;
    }
    return parse_duration(cmd, "ZddcCacheMaxStale", v, &c->max_stale,
                          &c->max_stale_set, 1);
}

static const char *set_max_file_size(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    const char *err;

    if (!strcasecmp(v, "unlimited")) {
        c->max_file_size = ZDDC_UNLIMITED;
    }
    else if ((err = zddc_size_parse(v, &c->max_file_size))) {
        return apr_psprintf(cmd->pool, "ZddcCacheMaxFileSize: %s", err);
    }
    c->max_file_size_set = 1;
    return NULL;
}

static const char *set_swr(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return parse_duration(cmd, "ZddcCacheStaleWhileRevalidate", v, &c->swr,
                          &c->swr_set, 1);
}

static const char *set_min_interval(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return parse_duration(cmd, "ZddcMirrorMinInterval", v, &c->min_interval,
                          &c->min_interval_set, 1);
}

static const char *set_walk_timeout(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    return parse_duration(cmd, "ZddcMirrorWalkTimeout", v, &c->walk_timeout,
                          &c->walk_timeout_set, 0);
}

static int has_dot_segment(const char *path)
{
    const char *seg = path;

    while ((seg = ap_strchr_c(seg, '/')) != NULL) {
        seg++;
        if ((seg[0] == '.' && (seg[1] == '/' || !seg[1]))
            || (seg[0] == '.' && seg[1] == '.' && (seg[2] == '/' || !seg[2]))) {
            return 1;
        }
    }
    return 0;
}

static const char *set_subtree(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    apr_array_header_t *items = apr_array_make(cmd->pool, 2,
                                               sizeof(const char *));
    const char *err = zddc_subtree_list_parse(cmd->pool, v, items);
    int i;

    if (err) {
        return apr_psprintf(cmd->pool, "ZddcMirrorSubtree: %s", err);
    }
    if (!c->subtrees_set) {
        c->subtrees = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    for (i = 0; i < items->nelts; i++) {
        const char *norm = APR_ARRAY_IDX(items, i, const char *);
        if (has_dot_segment(norm)) {
            return apr_psprintf(cmd->pool, "ZddcMirrorSubtree: invalid "
                                "subtree '%s'", norm);
        }
        APR_ARRAY_PUSH(c->subtrees, const char *) = norm;
    }
    c->subtrees_set = 1;
    return NULL;
}

static const char *parse_count(cmd_parms *cmd, const char *name,
                               const char *v, apr_int64_t lo, apr_int64_t hi,
                               apr_int64_t *out)
{
    char *end;
    apr_int64_t n;

    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number "
                            "from %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT,
                            name, v, lo, hi);
    }
    *out = n;
    return NULL;
}

static const char *set_parallelism(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    apr_int64_t n;
    const char *err = parse_count(cmd, "ZddcMirrorParallelism", v, 1,
                                  ZDDC_MAX_PARALLELISM, &n);
    if (err) {
        return err;
    }
    c->parallelism = (int)n;
    c->parallelism_set = 1;
    return NULL;
}

static const char *set_max_purge(cmd_parms *cmd, void *d, const char *v)
{
    zddc_server_conf *c = cmd_conf(cmd);
    const char *err;

    if (!strcasecmp(v, "unlimited")) {
        c->max_purge = ZDDC_UNLIMITED;
    }
    else if ((err = parse_count(cmd, "ZddcMirrorMaxPurge", v, 0,
                                APR_INT64_MAX, &c->max_purge))) {
        return err;
    }
    c->max_purge_set = 1;
    return NULL;
}

static const command_rec zddc_cmds[] = {
    AP_INIT_TAKE1("ZddcMode", set_mode, NULL, RSRC_CONF | ACCESS_CONF,
                  "Off, Cache or Mirror (only Off inside <Location>)"),
    AP_INIT_FLAG("ZddcForwardWrites", set_forward_writes, NULL, RSRC_CONF,
                 "forward methods other than GET/HEAD/OPTIONS upstream with "
                 "the mirror's bearer (default Off: 405)"),
    AP_INIT_TAKE1("ZddcUpstream", set_upstream, NULL, RSRC_CONF,
                  "base URL of the ZDDC master"),
    AP_INIT_TAKE1("ZddcUpstreamBearer", set_bearer, NULL, RSRC_CONF,
                  "bearer token sent upstream"),
    AP_INIT_TAKE1("ZddcUpstreamBearerFile", set_bearer_file, NULL, RSRC_CONF,
                  "file whose first line is the bearer token"),
    AP_INIT_TAKE1("ZddcUpstreamCAFile", set_ca_file, NULL, RSRC_CONF,
                  "CA bundle to verify an https upstream"),
    AP_INIT_TAKE1("ZddcUpstreamProxy", set_proxy, NULL, RSRC_CONF,
                  "outbound proxy URL, or 'none' to ignore the environment"),
    AP_INIT_TAKE1("ZddcUpstreamProxyAuthFile", set_proxy_auth_file, NULL,
                  RSRC_CONF, "file whose first line is user:password for "
                  "the proxy"),
    AP_INIT_TAKE1("ZddcUpstreamClientCert", set_client_cert, NULL, RSRC_CONF,
                  "client certificate (PEM) for an https upstream"),
    AP_INIT_TAKE1("ZddcUpstreamClientKey", set_client_key, NULL, RSRC_CONF,
                  "key (PEM) of ZddcUpstreamClientCert"),
    AP_INIT_TAKE1("ZddcUpstreamTimeout", set_timeout, NULL, RSRC_CONF,
                  "connect timeout and stall limit (e.g. 30s)"),
    AP_INIT_TAKE1("ZddcCacheRoot", set_cache_root, NULL, RSRC_CONF,
                  "directory holding the mirror tree"),
    AP_INIT_TAKE1("ZddcCacheMaxStale", set_max_stale, NULL, RSRC_CONF,
                  "with the master unreachable, do not serve a copy last "
                  "confirmed longer ago than this (or 'unlimited')"),
    AP_INIT_TAKE1("ZddcCacheMaxFileSize", set_max_file_size, NULL, RSRC_CONF,
                  "a file download growing past this many bytes (K, M, G "
                  "suffixes) is stopped and not stored (or 'unlimited')"),
    AP_INIT_TAKE1("ZddcCacheStaleWhileRevalidate", set_swr, NULL, RSRC_CONF,
                  "past freshness by less than this, serve the copy at once "
                  "and revalidate it in the background"),
    AP_INIT_TAKE1("ZddcCacheFreshness", set_freshness, NULL, RSRC_CONF,
                  "serve without revalidating when validated this recently"),
    AP_INIT_RAW_ARGS("ZddcMirrorSubtree", set_subtree, NULL, RSRC_CONF,
                     "subtrees the walker keeps (one comma-separated list; "
                     "spaces never split a path)"),
    AP_INIT_TAKE1("ZddcMirrorMinInterval", set_min_interval, NULL, RSRC_CONF,
                  "least time between walks of a subtree"),
    AP_INIT_TAKE1("ZddcMirrorParallelism", set_parallelism, NULL, RSRC_CONF,
                  "upstream requests of one walk in flight (1-256)"),
    AP_INIT_TAKE1("ZddcMirrorWalkTimeout", set_walk_timeout, NULL, RSRC_CONF,
                  "a walk that runs longer is stopped"),
    AP_INIT_TAKE1("ZddcMirrorMaxPurge", set_max_purge, NULL, RSRC_CONF,
                  "most entries one walk may purge (or 'unlimited')"),
    { NULL }
};

/* ---- start-up ------------------------------------------------------ */

/* The proxy credentials ("user:password" on the first line). */
static const char *read_proxy_auth(apr_pool_t *p, const char *path,
                                   const char **auth)
{
    const char *e = zddc_config_read_token(p, path, auth);

    if (e) {
        return apr_pstrcat(p, "ZddcUpstreamProxyAuthFile: ", e, NULL);
    }
    if (!strchr(*auth, ':')) {
        return apr_psprintf(p, "ZddcUpstreamProxyAuthFile: the first line "
                            "of '%s' is not user:password", path);
    }
    return NULL;
}

static const char *check_readable(apr_pool_t *p, const char *name,
                                  const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, path, APR_READ, 0, p);

    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE, f);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS || fi.filetype != APR_REG || fi.size == 0) {
        return apr_psprintf(p, "%s: cannot read '%s'", name, path);
    }
    return NULL;
}

/* The upstream's proxy and client-certificate files (SPEC §3). */
static const char *check_upstream_files(apr_pool_t *p, zddc_server_conf *c)
{
    const char *err = NULL, *auth;

    if (c->proxy_auth_file) {
        err = read_proxy_auth(p, c->proxy_auth_file, &auth);
    }
    if (!err && c->client_key && !c->client_cert) {
        err = "ZddcUpstreamClientKey needs ZddcUpstreamClientCert";
    }
    if (!err && c->client_cert) {
        err = check_readable(p, "ZddcUpstreamClientCert", c->client_cert);
    }
    if (!err && c->client_key) {
        err = check_readable(p, "ZddcUpstreamClientKey", c->client_key);
    }
    return err;
}

/* Validation that needs the merged configuration; runs for configtest too,
 * so everything checked here can never stop a graceful restart later. */
static int zddc_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *scopes = apr_array_make(ptemp, 4,
                                                sizeof(zddc_root_scope));
    apr_uid_t uid = geteuid() == 0 ? ap_unixd_config.user_id : (apr_uid_t)-1;
    apr_gid_t gid = ap_unixd_config.group_id;
    const char *err;
    int failed = 0;

    for (; s; s = s->next) {
        zddc_server_conf *c = zddc_config_get(s);
        const char *where = apr_psprintf(ptemp, "%s:%u",
                                         s->server_hostname
                                         ? s->server_hostname : "*",
                                         s->port);
        const char *token = c->bearer;
        apr_finfo_t fi;
        zddc_root_scope *scope;

        err = NULL;
        if (c->mode == ZDDC_MODE_OFF) {
            continue;
        }
        if (!c->upstream) {
            err = "ZddcUpstream is required when ZddcMode is Cache or Mirror";
        }
        else if (!c->cache_root) {
            err = "ZddcCacheRoot is required when ZddcMode is Cache or Mirror";
        }
        else if (c->bearer_file) {
            const char *e = zddc_config_read_token(ptemp, c->bearer_file,
                                                   &token);
            if (e) {
                err = apr_pstrcat(ptemp, "ZddcUpstreamBearerFile: ", e, NULL);
            }
        }
        if (!err && c->ca_file
            && (apr_stat(&fi, c->ca_file, APR_FINFO_TYPE, ptemp) != APR_SUCCESS
                || fi.filetype != APR_REG)) {
            err = apr_psprintf(ptemp, "ZddcUpstreamCAFile: cannot read '%s'",
                               c->ca_file);
        }
        if (!err) {
            err = check_upstream_files(ptemp, c);
        }
        if (!err) {
            const char *e = zddc_rootcheck_usable(ptemp, c->cache_root,
                                                  ap_unixd_config.user_name,
                                                  uid, gid);
            if (e) {
                err = apr_pstrcat(ptemp, "ZddcCacheRoot: ", e, NULL);
            }
        }
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         ZDDC_LOGNO(01001) "zddc_mirror (%s): %s", where, err);
            failed = 1;
            continue;
        }
        scope = apr_array_push(scopes);
        scope->host = where;
        scope->root = c->cache_root;
        scope->upstream = c->upstream;
        scope->bearer = token;
    }
    if (!failed && (err = zddc_rootcheck_scopes(ptemp, scopes)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     ZDDC_LOGNO(01002) "zddc_mirror: ZddcCacheRoot: %s", err);
        failed = 1;
    }
    return failed ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

static int zddc_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp)
{
    zddc_upstream_global_init();
    return zddc_sched_pre_config(pconf) == APR_SUCCESS
           ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* One -V style line per (re)start, not for the first dry-run pass. */
static void log_configured(server_rec *s)
{
    server_rec *vs;
    int n = 0;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return;
    }
    for (vs = s; vs; vs = vs->next) {
        n += zddc_config_get(vs)->mode != ZDDC_MODE_OFF;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, ZDDC_LOGNO(01003) "mod_zddc_mirror/%s "
                 "(libcurl/%s) configured -- %d virtual host%s in Cache or "
                 "Mirror mode", ZDDC_VERSION, zddc_upstream_client_version(),
                 n, n == 1 ? "" : "s");
}

static int zddc_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    server_rec *vs;
    apr_uid_t uid = (apr_uid_t)-1;
    apr_gid_t gid = (apr_gid_t)-1;

    if (geteuid() == 0) {
        uid = ap_unixd_config.user_id;
        gid = ap_unixd_config.group_id;
    }
    for (vs = s; vs; vs = vs->next) {
        zddc_server_conf *c = zddc_config_get(vs);
        core_server_config *core = ap_get_core_module_config(vs->module_config);
        const char *err = NULL;
        apr_status_t rv;

        c->server = vs;
        c->access_file_name = core->access_name;
        if (c->mode == ZDDC_MODE_OFF) {
            continue;
        }
        if (c->mode == ZDDC_MODE_MIRROR && c->subtrees->nelts == 0) {
            c->subtrees = apr_array_make(pconf, 1, sizeof(const char *));
            APR_ARRAY_PUSH(c->subtrees, const char *) = "/";
        }
        c->bearer_value = c->bearer;
        if (c->bearer_file
            && (err = zddc_config_read_token(pconf, c->bearer_file,
                                       &c->bearer_value))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs,
                         ZDDC_LOGNO(01004) "ZddcUpstreamBearerFile: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        c->store_provider = ap_lookup_provider(ZDDC_STORE_GROUP, "disk",
                                               ZDDC_STORE_VERSION);
        if (!c->store_provider) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs,
                         ZDDC_LOGNO(01005) "zddc_mirror: storage provider %s/disk missing",
                         ZDDC_STORE_GROUP);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        rv = c->store_provider->open_store(&c->store, c->cache_root,
                                     c->access_file_name, uid, gid, &err,
                                     pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, vs,
                         ZDDC_LOGNO(01006) "ZddcCacheRoot %s: %s", c->cache_root,
                         err ? err : "cannot open the cache root");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (c->proxy_auth_file
            && (err = read_proxy_auth(pconf, c->proxy_auth_file,
                                      &c->proxy_auth))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs, ZDDC_LOGNO(01007) "%s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        rv = zddc_upstream_create(&c->up, c->upstream, c->bearer_value,
                                  c->ca_file, c->timeout, pconf);
        if (rv == APR_SUCCESS) {
            rv = zddc_upstream_set_proxy(c->up, c->proxy, c->proxy_auth);
        }
        if (rv == APR_SUCCESS) {
            /* read now, before the server drops privileges */
            rv = zddc_upstream_set_client_cert(c->up, c->client_cert,
                                               c->client_key, pconf);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, vs,
                         ZDDC_LOGNO(01008) "ZddcUpstream %s: cannot set up the client",
                         c->upstream);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (zddc_sched_post_config(pconf, plog, ptemp, s) != APR_SUCCESS
        || zddc_metrics_post_config(pconf, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    log_configured(s);
    return OK;
}

static void zddc_child_init(apr_pool_t *pchild, server_rec *s)
{
    zddc_fill_child_init(pchild, s);
    zddc_sched_child_init(pchild, s);
}

/* ---- request hooks -------------------------------------------------- */

/* Own every URL of a host in Cache or Mirror mode that no other module
 * claimed first (Alias, Redirect, ProxyPass, mod_rewrite run before us) and
 * no <Location> turned Off. */
static int zddc_translate(request_rec *r)
{
    zddc_server_conf *c = zddc_config_get(r->server);
    zddc_store_obj *o;

    if (c->mode == ZDDC_MODE_OFF || !c->store || !r->uri
        || r->uri[0] != '/' || r->proxyreq || zddc_config_off_here(r)) {
        return DECLINED;
    }
    apr_table_setn(r->notes, ZDDC_NOTE_OWNED, "1");
    if (c->store_provider->obj(c->store, r->uri, ZDDC_OBJ_FILE, &o,
                               r->pool) != APR_SUCCESS) {
        apr_table_setn(r->notes, ZDDC_NOTE_UNSAFE, "1");
    }
    /* Not a file to open (the store keeps that to itself), a name for
     * httpd: mod_mime types it by its extension, as proxy: names do. */
    r->filename = apr_pstrcat(r->pool, "zddc:", r->uri, NULL);
    return OK;
}

/* Skip the directory walk: the cache root is never read for .htaccess
 * files and <Directory> sections do not apply to mirrored content. */
static int zddc_map_to_storage(request_rec *r)
{
    /* TRACE stays with core (TraceEnable); forwarding it upstream would let
     * a reflecting master echo the bearer back to the client. */
    if (r->method_number == M_TRACE) {
        return DECLINED;
    }
    return apr_table_get(r->notes, ZDDC_NOTE_OWNED) ? OK : DECLINED;
}

static int has_own_handler(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);

    return d->expr_handler != NULL
           && r->handler && strcasecmp(r->handler, "none") != 0
           && strcmp(r->handler, ZDDC_HANDLER) != 0;
}

static int zddc_fixups(request_rec *r)
{
    zddc_server_conf *c = zddc_config_get(r->server);

    if (!apr_table_get(r->notes, ZDDC_NOTE_OWNED) || has_own_handler(r)) {
        return DECLINED;
    }
    /* Mirrored content is never a script or another module's input. */
    r->handler = ZDDC_HANDLER;
    if (c->mode == ZDDC_MODE_MIRROR && !r->main && !r->prev) {
        zddc_sched_trigger(r, c);
    }
    return DECLINED;
}

static void zddc_register_hooks(apr_pool_t *p)
{
    ap_register_provider(p, ZDDC_STORE_GROUP, "disk", ZDDC_STORE_VERSION,
                         &zddc_store_disk_provider);
    ap_hook_pre_config(zddc_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(zddc_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(zddc_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(zddc_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(zddc_translate, NULL, NULL, APR_HOOK_LAST);
    ap_hook_map_to_storage(zddc_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(zddc_fixups, NULL, NULL, APR_HOOK_LAST);
    ap_hook_handler(zddc_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(zddc_pipeline_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(zddc_metrics_log_transaction, NULL, NULL,
                            APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, zddc_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(zddc_mirror) = {
    STANDARD20_MODULE_STUFF,
    zddc_dir_config_create, /* per-directory config creator */
    zddc_dir_config_merge,  /* per-directory config merger */
    zddc_config_create,   /* per-server config creator */
    zddc_config_merge,    /* per-server config merger */
    zddc_cmds,            /* directives */
    zddc_register_hooks
};
