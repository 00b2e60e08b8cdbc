/* Pure helpers with no httpd dependency: durations, Accept negotiation,
 * subtree normalization and matching, names, paths and percent-encoding. */
#ifndef ZDDC_UTIL_H
#define ZDDC_UTIL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* Parse a Go-syntax duration ("90s", "1h30m", "500ms", "1.5h") or plain
 * seconds ("30"). Returns NULL on success, else a message naming the problem. */
const char *zddc_duration_parse(const char *s, apr_interval_time_t *out);

/* Render a duration back in Go syntax ("1h30m0s" style is not required:
 * "1h30m", "90ms", "0s"). */
const char *zddc_duration_format(apr_pool_t *p, apr_interval_time_t d);

/* True when the Accept header names application/json (or the application/ wildcard)
 * with a non-zero q, and that q is at least the q given to text/html. */
int zddc_accept_wants_json(const char *accept);

/* Leading "/" added, trailing "/" removed, empty or "/" -> "/". */
const char *zddc_subtree_normalize(apr_pool_t *p, const char *s);

/* Split a ZddcMirrorSubtree argument line into normalized subtrees pushed
 * onto out (const char *): items are separated by commas outside quotes,
 * each may be quoted with "" or '', and a space never splits a path. NULL,
 * or a message for an unbalanced quote or text after a closing quote. */
const char *zddc_subtree_list_parse(apr_pool_t *p, const char *line,
                                    apr_array_header_t *out);

/* Longest normalized subtree (array of const char *) that is a prefix of
 * uri on a segment boundary; "/" matches everything. NULL when none. */
const char *zddc_subtree_match(const apr_array_header_t *subtrees,
                               const char *uri);

/* SPEC §6.4: a listing entry name we may store. Rejects empty, ".", "..",
 * names containing '/' or NUL (len given), names beginning ".zddc-", and
 * access_file_name (may be NULL). */
int zddc_name_is_safe(const char *name, apr_size_t len,
                      const char *access_file_name);

/* True when name begins with ".zddc-" (reserved, SPEC §4). */
int zddc_name_is_reserved(const char *name);

/* Map a decoded URL path ("/a/b c.pdf", "/dir/") under root. Every segment
 * must pass zddc_name_is_safe (empty segments from "//" or a trailing "/"
 * are skipped). Returns APR_SUCCESS and the absolute path without trailing
 * "/" (root itself for "/"), or APR_EINVAL for anything unsafe. */
apr_status_t zddc_path_map(apr_pool_t *p, const char *root,
                           const char *url_path,
                           const char *access_file_name, const char **fs);

/* Percent-encode every byte of each segment except RFC 3986 unreserved
 * characters; '/' separators are kept. */
char *zddc_path_encode(apr_pool_t *p, const char *path);

/* The directory url whose listing names path: "/a/b" and "/a/b/" give
 * "/a/", "/a" gives "/"; NULL for "/" itself. */
const char *zddc_url_parent(apr_pool_t *p, const char *path);

/* Join a URL directory ("/a/", or "/a") and a child name into "/a/name". */
char *zddc_path_join(apr_pool_t *p, const char *dir, const char *name);

/* 64-bit FNV-1a, used to name per-target temp files. */
apr_uint64_t zddc_hash64(const char *s);

#endif
