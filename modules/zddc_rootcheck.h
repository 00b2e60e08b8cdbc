/* Start-up checks of cache roots (SPEC §3, §4): a root the server's User can
 * write, never adopted from someone else, and one scope per root. */
#ifndef ZDDC_ROOTCHECK_H
#define ZDDC_ROOTCHECK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_info.h>

/* One Cache/Mirror virtual host as the scope check sees it. */
typedef struct {
    const char *host;       /* "name:port", for messages */
    const char *root;       /* ZddcCacheRoot, absolute */
    const char *upstream;   /* ZddcUpstream, trailing '/' trimmed */
    const char *bearer;     /* the effective token, or NULL; never printed */
} zddc_root_scope;

/* NULL when root can serve as a cache root for a server whose children run
 * as uid/gid (user_name for its supplementary groups; uid -1 = this
 * process's own identity): an existing root must be a directory, empty or
 * marked, and writable and searchable by that user; a missing root must sit
 * under a directory that user can reach. Else a message naming the path. */
const char *zddc_rootcheck_usable(apr_pool_t *p, const char *root,
                                  const char *user_name, apr_uid_t uid,
                                  apr_gid_t gid);

/* NULL when every pair of hosts either uses unrelated roots or shares one
 * root with the same upstream and bearer; else a message naming both hosts.
 * A root inside another root is always refused. */
const char *zddc_rootcheck_scopes(apr_pool_t *p,
                                  const apr_array_header_t *scopes);

#endif
