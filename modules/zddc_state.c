/* The mirror state file: read tolerantly (missing or corrupt means "never
 * walked"), rewritten atomically with a merge (SPEC §4, §6.5). */
#include <apr_strings.h>
#include <apr_file_io.h>
#include "zddc_state.h"

static const char *state_root(const zddc_server_conf *conf)
{
    if (conf->store_provider && conf->store) {
        return conf->store_provider->root(conf->store);
    }
    return conf->cache_root;
}

const char *zddc_state_path(const zddc_server_conf *conf, apr_pool_t *p)
{
    const char *root = state_root(conf);
    char *path = NULL;

    if (!root) {
        return NULL;
    }
    if (apr_filepath_merge(&path, root, ZDDC_STATE_FILE, APR_FILEPATH_NATIVE,
                           p) != APR_SUCCESS) {
        return apr_pstrcat(p, root, "/", ZDDC_STATE_FILE, NULL);
    }
    return path;
}

static apr_status_t read_whole(const char *path, char **data, apr_size_t *len,
                               const char **err, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t got = 0;
    char *buf;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        if (!APR_STATUS_IS_ENOENT(rv)) {
            char msg[120];
            *err = apr_pstrcat(p, "cannot open: ",
                               apr_strerror(rv, msg, sizeof(msg)), NULL);
        }
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
        *err = "not a regular file";
        rv = APR_EGENERAL;
    }
    else if (rv == APR_SUCCESS && fi.size > ZDDC_STATE_MAX) {
        *err = "larger than 4 MiB";
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        buf = apr_palloc(p, (apr_size_t)fi.size + 1);
        rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
        if (rv == APR_EOF && got == (apr_size_t)fi.size) {
            rv = APR_SUCCESS;
        }
        if (rv == APR_SUCCESS) {
            buf[got] = '\0';
            *data = buf;
            *len = got;
        }
        else {
            char msg[120];
            *err = apr_pstrcat(p, "cannot read: ",
                               apr_strerror(rv, msg, sizeof(msg)), NULL);
        }
    }
    apr_file_close(f);
    return rv;
}

apr_status_t zddc_state_load(const zddc_server_conf *conf,
                             apr_hash_t **subtrees, const char **err,
                             apr_pool_t *p)
{
    const char *path = zddc_state_path(conf, p);
    char *data = NULL;
    apr_size_t len = 0;
    apr_hash_t *parsed = NULL;
    apr_status_t rv;

    *subtrees = apr_hash_make(p);
    *err = NULL;
    if (!path) {
        *err = "no cache root";
        return APR_EINVAL;
    }
    rv = read_whole(path, &data, &len, err, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = zddc_state_parse(data, len, &parsed, err, p);
    if (rv != APR_SUCCESS || !parsed) {
        if (!*err) {
            *err = "not a mirror state document";
        }
        return APR_EGENERAL;
    }
    *subtrees = parsed;
    return APR_SUCCESS;
}

apr_status_t zddc_state_save(const zddc_server_conf *conf, apr_hash_t *known,
                             apr_pool_t *p)
{
    apr_hash_t *merged;
    apr_hash_index_t *hi;
    const char *err;
    const char *path;
    char *json;

    if (!conf->store_provider || !conf->store) {
        return APR_EINVAL;
    }
    path = zddc_state_path(conf, p);
    zddc_state_load(conf, &merged, &err, p);
    for (hi = apr_hash_first(p, known); hi; hi = apr_hash_next(hi)) {
        const void *key;
        apr_ssize_t klen;
        void *val;
        zddc_state_rec *mine, *disk;

        apr_hash_this(hi, &key, &klen, &val);
        mine = val;
        disk = apr_hash_get(merged, key, klen);
        if (!disk || disk->last_walk_at < mine->last_walk_at) {
            apr_hash_set(merged, key, klen, mine);
        }
    }
    json = zddc_state_serialize(merged, p);
    if (!json) {
        return APR_EGENERAL;
    }
    return conf->store_provider->put(conf->store, path, json, strlen(json), 0,
                                     p);
}

/* Reports are small: 3 x 1,000 paths of at most a few KiB each, bounded. */
#define ZDDC_REPORT_FILE_MAX (16 * 1024 * 1024)

static const char *report_path(const zddc_server_conf *conf,
                               const char *subtree, apr_pool_t *p)
{
    const char *root = state_root(conf);
    apr_uint64_t h = APR_UINT64_C(1469598103934665603);
    const unsigned char *c;

    if (!root) {
        return NULL;
    }
    /* FNV-1a: a fixed-length name whatever the subtree's length. */
    for (c = (const unsigned char *)subtree; *c; c++) {
        h ^= *c;
        h *= APR_UINT64_C(1099511628211);
    }
    return apr_psprintf(p, "%s/" ZDDC_REPORT_PREFIX "%016"
                        APR_UINT64_T_HEX_FMT ".json", root, h);
}

apr_status_t zddc_report_save(const zddc_server_conf *conf,
                              const char *subtree,
                              const zddc_walk_report *rep, apr_pool_t *p)
{
    const char *path = report_path(conf, subtree, p);
    char *json;

    if (!path || !conf->store_provider || !conf->store) {
        return APR_EINVAL;
    }
    json = zddc_report_serialize(subtree, rep, p);
    return conf->store_provider->put(conf->store, path, json, strlen(json), 0,
                                     p);
}

apr_status_t zddc_report_load(const zddc_server_conf *conf,
                              const char *subtree, zddc_walk_report **rep,
                              apr_pool_t *p)
{
    const char *path = report_path(conf, subtree, p);
    const char *err;
    char *data;
    apr_size_t len;
    apr_status_t rv;

    *rep = NULL;
    if (!path || !conf->store_provider || !conf->store) {
        return APR_EINVAL;
    }
    rv = conf->store_provider->get(conf->store, path, ZDDC_REPORT_FILE_MAX,
                                   &data, &len, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return zddc_report_parse(data, len, rep, &err, p);
}
