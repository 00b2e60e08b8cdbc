/* The mirror state file (SPEC §4): when each subtree was last walked and
 * what that walk did, loaded at startup and saved after every walk. */
#ifndef ZDDC_STATE_H
#define ZDDC_STATE_H

#include <apr_pools.h>
#include <apr_hash.h>
#include "zddc_config.h"
#include "zddc_json.h"

/* A state file larger than this is treated as corrupt. */
#define ZDDC_STATE_MAX (4 * 1024 * 1024)

/* The state file as the store names it in log lines. */
const char *zddc_state_describe(const zddc_server_conf *conf, apr_pool_t *p);

/* Read the state file into *subtrees (subtree -> zddc_state_rec *), which is
 * always set, empty unless APR_SUCCESS. Returns APR_ENOENT when the file is
 * missing and APR_EGENERAL (or the read error) with *err set when it cannot
 * be used; both mean "never walked". Logs nothing: the caller knows whether
 * that is news. */
apr_status_t zddc_state_load(const zddc_server_conf *conf,
                             apr_hash_t **subtrees, const char **err,
                             apr_pool_t *p);

/* Merge known (subtree -> zddc_state_rec *) into the file and rewrite it
 * atomically through the store: entries of other subtrees are preserved, an
 * entry is replaced when known has a later last_walk_at. A corrupt file is
 * replaced by known. The caller serializes writers (the scheduler's mutex). */
apr_status_t zddc_state_save(const zddc_server_conf *conf, apr_hash_t *known,
                             apr_pool_t *p);

/* The last walk's change report of subtree (SPEC §6.8), kept in the
 * store beside the state (SPEC §4 names the file) so that any
 * process serving the status page can read it; written atomically through
 * the store. */
apr_status_t zddc_report_save(const zddc_server_conf *conf,
                              const char *subtree,
                              const zddc_walk_report *rep, apr_pool_t *p);
/* APR_ENOENT when the subtree has no report yet. */
apr_status_t zddc_report_load(const zddc_server_conf *conf,
                              const char *subtree, zddc_walk_report **rep,
                              apr_pool_t *p);

#endif
