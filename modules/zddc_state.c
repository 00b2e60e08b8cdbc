/* The mirror state file: read tolerantly (missing or corrupt means "never
 * walked"), rewritten atomically with a merge (SPEC §4, §6.5). */
#include <apr_strings.h>
#include <apr_file_io.h>
#include "zddc_state.h"

static apr_status_t store_obj(const zddc_server_conf *conf,
                              zddc_obj_kind kind, const char *url,
                              zddc_store_obj **o, apr_pool_t *p)
{
    *o = NULL;
    if (!conf->store_provider || !conf->store) {
        return APR_EINVAL;
    }
    return conf->store_provider->obj(conf->store, url, kind, o, p);
}

const char *zddc_state_describe(const zddc_server_conf *conf, apr_pool_t *p)
{
    zddc_store_obj *o;

    if (store_obj(conf, ZDDC_OBJ_STATE, NULL, &o, p) != APR_SUCCESS) {
        return apr_pstrcat(p, "of ", conf->cache_root ? conf->cache_root
                           : "(no cache root)", NULL);
    }
    return conf->store_provider->describe(o, p);
}

static apr_status_t read_whole(const zddc_server_conf *conf,
                               zddc_store_obj *o, char **data,
                               apr_size_t *len, const char **err,
                               apr_pool_t *p)
{
    const zddc_store_provider *sp = conf->store_provider;
    apr_finfo_t fi;
    apr_status_t rv;

    rv = sp->stat(o, &fi, p);
    if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
        *err = "not a regular file";
        return APR_EGENERAL;
    }
    if (rv == APR_SUCCESS && fi.size > ZDDC_STATE_MAX) {
        *err = "larger than 4 MiB";
        return APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        rv = sp->get(o, ZDDC_STATE_MAX, data, len, p);
    }
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
        char msg[120];
        *err = apr_pstrcat(p, "cannot read: ",
                           apr_strerror(rv, msg, sizeof(msg)), NULL);
    }
    return rv;
}

apr_status_t zddc_state_load(const zddc_server_conf *conf,
                             apr_hash_t **subtrees, const char **err,
                             apr_pool_t *p)
{
    zddc_store_obj *o;
    char *data = NULL;
    apr_size_t len = 0;
    apr_hash_t *parsed = NULL;
    apr_status_t rv;

    *subtrees = apr_hash_make(p);
    *err = NULL;
    if (store_obj(conf, ZDDC_OBJ_STATE, NULL, &o, p) != APR_SUCCESS) {
        *err = "no cache root";
        return APR_EINVAL;
    }
    rv = read_whole(conf, o, &data, &len, err, p);
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
    zddc_store_obj *o;
    char *json;

    if (store_obj(conf, ZDDC_OBJ_STATE, NULL, &o, p) != APR_SUCCESS) {
        return APR_EINVAL;
    }
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
    return conf->store_provider->put(o, json, strlen(json), 0, p);
}

/* Reports are small: 3 x 1,000 paths of at most a few KiB each, bounded. */
#define ZDDC_REPORT_FILE_MAX (16 * 1024 * 1024)

apr_status_t zddc_report_save(const zddc_server_conf *conf,
                              const char *subtree,
                              const zddc_walk_report *rep, apr_pool_t *p)
{
    zddc_store_obj *o;
    char *json;

    if (store_obj(conf, ZDDC_OBJ_REPORT, subtree, &o, p) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    json = zddc_report_serialize(subtree, rep, p);
    return conf->store_provider->put(o, json, strlen(json), 0, p);
}

apr_status_t zddc_report_load(const zddc_server_conf *conf,
                              const char *subtree, zddc_walk_report **rep,
                              apr_pool_t *p)
{
    zddc_store_obj *o;
    const char *err;
    char *data;
    apr_size_t len;
    apr_status_t rv;

    *rep = NULL;
    if (store_obj(conf, ZDDC_OBJ_REPORT, subtree, &o, p) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = conf->store_provider->get(o, ZDDC_REPORT_FILE_MAX, &data, &len, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return zddc_report_parse(data, len, rep, &err, p);
}
