/* The one wrapper around cJSON: listing parse, state file parse/serialize,
 * and JSON string quoting for the status page. Nothing else includes cJSON. */
#ifndef ZDDC_JSON_H
#define ZDDC_JSON_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_hash.h>

#define ZDDC_LISTING_MAX (16 * 1024 * 1024)
/* One entry (array element) of a listing at most: its parse tree is built
 * alone, so this bounds the parse's transient memory (see zddc_json.c). */
#define ZDDC_LISTING_ENTRY_MAX (64 * 1024)

typedef struct {
    const char *name;     /* trailing "/" of directory names stripped */
    int is_dir;
    apr_off_t size;       /* -1 when absent */
    apr_time_t mod_time;  /* 0 when absent or unparsable (RFC 3339) */
} zddc_listing_entry;

/* An entry of a listing that cannot be used (SPEC §6.4): not an object,
 * no string "name", a non-boolean "is_dir", a NUL or an unpaired surrogate
 * in its name. Its siblings are used as usual. */
typedef struct {
    int index;            /* position in the listing */
    const char *name;     /* the name as far as it is known (the bad
                             characters as U+FFFD), or NULL */
    const char *why;
} zddc_listing_skip;

/* Parse a ZDDC JSON listing (an array of objects with at least "name"
 * (string) and "is_dir" (bool); unknown fields ignored). A document that
 * is not a JSON array returns APR_EGENERAL with *err set; an entry that is
 * unusable is left out of *entries (an array of zddc_listing_entry),
 * counted in *nskipped (may be NULL) and, when skipped is not NULL,
 * described in *skipped (an array of zddc_listing_skip): every one with a
 * name, the first ZDDC_LISTING_SKIP_KEPT without. */
#define ZDDC_LISTING_SKIP_KEPT 20
apr_status_t zddc_listing_parse_ex(const char *json, apr_size_t len,
                                   apr_array_header_t **entries,
                                   apr_array_header_t **skipped,
                                   int *nskipped,
                                   const char **err, apr_pool_t *p);

/* The same, the unusable entries left out silently. */
apr_status_t zddc_listing_parse(const char *json, apr_size_t len,
                                apr_array_header_t **entries,
                                const char **err, apr_pool_t *p);

/* State file (SPEC §4): {"subtrees": {"/path": {"last_walk_at": RFC3339,...}}}
 * Parse into a hash subtree -> zddc_state_rec *. Corrupt -> APR_EGENERAL. */
typedef struct {
    apr_time_t last_walk_at;     /* 0 = never */
    apr_time_t last_success_at;  /* the last walk that succeeded; 0 = never */
    apr_interval_time_t duration;
    apr_uint64_t dirs, files, fetched, skipped, purged, errors, bytes;
} zddc_state_rec;

apr_status_t zddc_state_parse(const char *json, apr_size_t len,
                              apr_hash_t **subtrees, const char **err,
                              apr_pool_t *p);
/* Serialize (pretty, stable key order) the same structure. */
char *zddc_state_serialize(apr_hash_t *subtrees, apr_pool_t *p);

/* A walk's change report (SPEC §6.8): the paths it fetched, purged and,
 * when ZddcMirrorMaxPurge refused its purge, would have purged; the first
 * ZDDC_REPORT_MAX_PATHS of each (arrays of const char *), with totals. */
#define ZDDC_REPORT_MAX_PATHS 1000

typedef struct {
    apr_time_t ended_at;
    apr_array_header_t *fetched, *purged, *would_purge;
    apr_uint64_t fetched_total, purged_total, would_purge_total;
} zddc_walk_report;

char *zddc_report_serialize(const char *subtree, const zddc_walk_report *rep,
                            apr_pool_t *p);
apr_status_t zddc_report_parse(const char *json, apr_size_t len,
                               zddc_walk_report **rep, const char **err,
                               apr_pool_t *p);

/* RFC 3339 helpers (UTC, "2025-10-31T12:00:00Z"; parse accepts offsets and
 * fractional seconds). Parse returns 0 on failure. */
apr_time_t zddc_rfc3339_parse(const char *s);
const char *zddc_rfc3339_format(apr_pool_t *p, apr_time_t t);

/* A JSON string literal, quotes included. */
const char *zddc_json_quote(apr_pool_t *p, const char *s);

#endif
