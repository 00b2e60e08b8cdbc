/* Per-server configuration: creation with nothing set, and the merge that
 * lets a virtual host inherit every directive it does not set (SPEC §3). */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include "zddc_config.h"

void *zddc_config_create(apr_pool_t *p, server_rec *s)
{
    zddc_server_conf *c = apr_pcalloc(p, sizeof(*c));

    c->mode = ZDDC_MODE_OFF;
    c->timeout = ZDDC_DEFAULT_TIMEOUT;
    c->freshness = ZDDC_DEFAULT_FRESHNESS;
    c->max_stale = ZDDC_UNLIMITED;
    c->max_file_size = ZDDC_UNLIMITED;
    c->subtrees = apr_array_make(p, 2, sizeof(const char *));
    c->min_interval = ZDDC_DEFAULT_MIN_INTERVAL;
    c->parallelism = ZDDC_DEFAULT_PARALLELISM;
    c->walk_timeout = ZDDC_DEFAULT_WALK_TIMEOUT;
    c->max_purge = ZDDC_UNLIMITED;
    c->vhost_index = -1;
    c->server = s;
    return c;
}

#define ZDDC_MERGE(field) do {                                  \
        c->field = add->field##_set ? add->field : base->field; \
        c->field##_set = add->field##_set || base->field##_set; \
    } while (0)

void *zddc_config_merge(apr_pool_t *p, void *basev, void *addv)
{
    zddc_server_conf *base = basev, *add = addv;
    zddc_server_conf *c = apr_pcalloc(p, sizeof(*c));

    ZDDC_MERGE(mode);
    ZDDC_MERGE(upstream);
    ZDDC_MERGE(bearer);
    ZDDC_MERGE(bearer_file);
    ZDDC_MERGE(ca_file);
    ZDDC_MERGE(proxy);
    ZDDC_MERGE(proxy_auth_file);
    ZDDC_MERGE(client_cert);
    ZDDC_MERGE(client_key);
    ZDDC_MERGE(timeout);
    ZDDC_MERGE(cache_root);
    ZDDC_MERGE(freshness);
    ZDDC_MERGE(swr);
    ZDDC_MERGE(max_stale);
    ZDDC_MERGE(max_file_size);
    ZDDC_MERGE(subtrees);
    ZDDC_MERGE(min_interval);
    ZDDC_MERGE(parallelism);
    ZDDC_MERGE(walk_timeout);
    ZDDC_MERGE(max_purge);
    ZDDC_MERGE(forward_writes);
    c->vhost_index = -1;
    c->server = add->server;
    return c;
}

void *zddc_dir_config_create(apr_pool_t *p, char *dir)
{
    return apr_pcalloc(p, sizeof(zddc_dir_conf));
}

void *zddc_dir_config_merge(apr_pool_t *p, void *basev, void *addv)
{
    zddc_dir_conf *base = basev, *add = addv;
    zddc_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    ZDDC_MERGE(off);
    return c;
}

const char *zddc_config_read_token(apr_pool_t *p, const char *path,
                                   const char **token)
{
    apr_file_t *f;
    char line[4096];
    apr_size_t n;
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_READ, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_gets(line, sizeof(line), f);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        char buf[128];
        return apr_psprintf(p, "cannot read '%s': %s", path,
                            apr_strerror(rv, buf, sizeof(buf)));
    }
    if (rv == APR_EOF) {
        line[0] = '\0';
    }
    n = strlen(line);
    while (n > 0 && apr_isspace(line[n - 1])) {
        line[--n] = '\0';
    }
    if (n == 0) {
        return apr_psprintf(p, "'%s' has no token on its first line", path);
    }
    *token = apr_pstrdup(p, line);
    return NULL;
}
