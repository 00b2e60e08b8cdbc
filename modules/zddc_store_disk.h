/* The disk provider's names in a cache root (SPEC §4): only the provider,
 * the start-up check of the root itself and the provider's tests use them. */
#ifndef ZDDC_STORE_DISK_H
#define ZDDC_STORE_DISK_H

#include "zddc_store.h"

#define ZDDC_MARKER          ".zddc-cache"
#define ZDDC_TMP_PREFIX      ".zddc-cache-tmp-"
#define ZDDC_SIDECAR_JSON    ".zddc-listing.json"
#define ZDDC_SIDECAR_HTML    ".zddc-listing.html"
#define ZDDC_STATE_FILE      ".zddc-mirror-state.json"
/* At the root: each subtree's last change report (kept by a purge). */
#define ZDDC_REPORT_PREFIX   ".zddc-report-"
/* Per directory: the metadata of its objects, one small file per name. */
#define ZDDC_META_DIR        ".zddc-meta"

/* For the disk provider's own tests, which look at the files themselves:
 * the object at fs_path (its kind from its name), where an object lives,
 * and the root. Nothing in the module calls these. */
zddc_store_obj *zddc_store_disk_obj_at(zddc_store *st, const char *fs_path,
                                       apr_pool_t *p);
const char *zddc_store_disk_path(const zddc_store_obj *o);
const char *zddc_store_disk_root(zddc_store *st);

#endif
