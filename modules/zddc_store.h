/* The storage provider interface (SPEC §4), modelled on mod_cache's
 * cache_provider: a struct of operations registered as zddc_store/disk. */
#ifndef ZDDC_STORE_H
#define ZDDC_STORE_H

#include <apr_pools.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_tables.h>
#include <apr_time.h>

#define ZDDC_STORE_GROUP     "zddc_store"
#define ZDDC_STORE_VERSION   "3"

typedef struct zddc_store zddc_store;
typedef struct zddc_store_tmp zddc_store_tmp;
/* A held revalidation lock (try_lock). */
typedef struct zddc_store_lock zddc_store_lock;
/* One object of the store, named by what it is for: callers never learn
 * where (or whether) it lives in a file system. */
typedef struct zddc_store_obj zddc_store_obj;

typedef enum {
    ZDDC_OBJ_FILE,          /* url path: the copy of a file (or whatever
                               stands at that path: stat says) */
    ZDDC_OBJ_DIR,           /* url path: a directory */
    ZDDC_OBJ_LISTING_JSON,  /* url dir: its cached JSON listing */
    ZDDC_OBJ_LISTING_HTML,  /* url dir: its cached HTML listing */
    ZDDC_OBJ_STATE,         /* the mirror state (url path ignored) */
    ZDDC_OBJ_REPORT         /* url subtree: its last walk's change report */
} zddc_obj_kind;

typedef struct {
    const char *name;
    int is_dir;             /* a real directory (symlinks count as files) */
    int is_reg;             /* a regular file */
    apr_off_t size;
    apr_time_t mtime;
} zddc_store_entry;

/* What the store keeps with an object besides its bytes and mtime. It is
 * bound to the object it was written for: once the object is replaced by
 * other means, its old metadata is ignored (meta_get answers APR_ENOENT). */
typedef struct {
    apr_time_t validated_at;    /* last confirmed by the master; 0 unknown */
    int no_validator;           /* stored from a 200 without Last-Modified */
    const char *etag;           /* the master's ETag (listings), or NULL */
    const char *content_type;   /* the master's headers for the body */
    const char *content_disposition;
} zddc_store_meta;

/* What a writer learnt from the master before the body, published with its
 * temp so that every client following the download can send it too. */
typedef struct {
    apr_time_t last_modified;   /* the master's, 0 = none */
    apr_off_t length;           /* -1 = unknown */
    int no_store;               /* the body is not to be kept */
    const char *content_type;
    const char *content_disposition;
} zddc_store_head;

typedef enum {
    ZDDC_FOLLOW_MORE,       /* *len bytes returned; the download goes on */
    ZDDC_FOLLOW_WAIT,       /* nothing new yet; poll again shortly */
    ZDDC_FOLLOW_PUBLISHED,  /* leader finished and published; all bytes read */
    ZDDC_FOLLOW_FAILED      /* leader finished without publishing */
} zddc_follow_e;

typedef struct {
    /* Open (and create when missing, chowned to uid/gid when they are not -1)
     * the store at root. A non-empty root without the marker is refused with
     * APR_EEXIST and *err explaining it. Writes the marker, and removes
     * leftover temp files older than a minute at the top level. */
    apr_status_t (*open_store)(zddc_store **st, const char *root,
                         const char *access_file_name, apr_uid_t uid,
                         apr_gid_t gid, const char **err, apr_pool_t *p);

    /* The object of kind at url_path, in p; APR_EINVAL when the url path
     * is unsafe (outside the store, reserved or AccessFileName segment). */
    apr_status_t (*obj)(zddc_store *st, const char *url_path,
                        zddc_obj_kind kind, zddc_store_obj **o,
                        apr_pool_t *p);
    zddc_obj_kind (*kind)(const zddc_store_obj *o);
    /* How o is named to an operator in log lines (the disk provider: its
     * file). For reading only: nothing is ever opened by this name. */
    const char *(*describe)(const zddc_store_obj *o, apr_pool_t *p);

    /* What stands at o now (type, size, mtime, ctime, inode; no name): a
     * symlink is reported as APR_ENOENT (never followed). */
    apr_status_t (*stat)(zddc_store_obj *o, apr_finfo_t *fi, apr_pool_t *p);
    /* o opened for reading (flags beyond APR_READ | APR_BINARY, such as
     * APR_SENDFILE_ENABLED), for a file bucket: its size and times are
     * those of the open file, whatever replaces o meanwhile. */
    apr_status_t (*open)(zddc_store_obj *o, apr_int32_t flags,
                         apr_file_t **f, apr_pool_t *p);

    /* Begin writing o (a file). Parent directories are created. Exactly one
     * writer per target across threads and processes: *leader = 1 means the
     * caller writes (write/commit/discard); *leader = 0 means another writer
     * is in flight and tmp follows its bytes (follow). */
    apr_status_t (*begin)(zddc_store_obj *o, zddc_store_tmp **tmp, int *leader, apr_pool_t *p);
    apr_status_t (*write)(zddc_store_tmp *t, const void *buf, apr_size_t len);
    /* Set mtime (0 = now), rename over the target, release. */
    apr_status_t (*commit)(zddc_store_tmp *t, apr_time_t mtime);
    /* Remove the temp, release; the previous target stays. */
    void (*discard)(zddc_store_tmp *t);
    /* Follower: read up to *len new bytes. */
    zddc_follow_e (*follow)(zddc_store_tmp *t, char *buf, apr_size_t *len);
    /* Follower: stop following. */
    void (*unfollow)(zddc_store_tmp *t);

    /* Write a small object whole and atomically (listings, state, report):
     * mtime 0 = now. */
    apr_status_t (*put)(zddc_store_obj *o, const void *data, apr_size_t len,
                        apr_time_t mtime, apr_pool_t *p);
    /* Record that o was validated now (mtime unchanged). */
    apr_status_t (*touch)(zddc_store_obj *o);
    /* When o (whose stat is fi) was last validated or written: kept with
     * the object, so a chmod, chown or restore does not move it. */
    apr_time_t (*validated_at)(zddc_store_obj *o, const apr_finfo_t *fi);
    /* Remove the one object o (never a directory) and what is kept with
     * it; APR_ENOENT when nothing was there. */
    apr_status_t (*remove)(zddc_store_obj *o, apr_pool_t *p);

    /* Remove the object at url_path: a file, or a directory with all below
     * it. Never follows symlinks, never leaves the root, never removes the
     * root itself. APR_ENOENT when nothing was there. *count (may be NULL)
     * gets the number of entries removed. */
    apr_status_t (*purge)(zddc_store *st, const char *url_path, int *count,
                          apr_pool_t *p);
    /* Remove the listing sidecars of url dir. */
    apr_status_t (*drop_listing)(zddc_store *st, const char *url_dir,
                                 apr_pool_t *p);
    /* Entries of the local directory url_dir, without .zddc-* names. */
    apr_status_t (*list)(zddc_store *st, const char *url_dir,
                         apr_array_header_t **entries, apr_pool_t *p);

    /* Read a small object (listing, state, report) whole, at most max bytes
     * (else APR_EGENERAL, as for anything but a regular file),
     * NUL-terminated. */
    apr_status_t (*get)(zddc_store_obj *o, apr_size_t max, char **data,
                        apr_size_t *len, apr_pool_t *p);
    /* The metadata kept with o: APR_ENOENT (and *m zeroed) when there is
     * none for its current content. */
    apr_status_t (*meta_get)(zddc_store_obj *o, zddc_store_meta *m,
                             apr_pool_t *p);
    /* Leader: publish the head of the download in progress (before any
     * body byte). Follower: read it; APR_ENOENT while there is none. */
    apr_status_t (*head_set)(zddc_store_tmp *t, const zddc_store_head *h);
    apr_status_t (*head_get)(zddc_store_tmp *t, zddc_store_head *h,
                             apr_pool_t *p);
    /* Keep m with o as it is now (atomically). */
    apr_status_t (*meta_set)(zddc_store_obj *o, const zddc_store_meta *m,
                             apr_pool_t *p);

    /* Take o's revalidation lock without waiting: one holder at a time
     * across threads and processes, released by unlock, by clearing p, or
     * by the holder's death. APR_EBUSY while another holds it, APR_ENOENT
     * when no file stands at o. The lock is on the copy as it is now: a
     * copy replaced meanwhile has a lock of its own. */
    apr_status_t (*try_lock)(zddc_store_obj *o, zddc_store_lock **lock,
                             apr_pool_t *p);
    void (*unlock)(zddc_store_lock *lock);

    /* commit, with m kept with the published copy from its first moment
     * (meta_set after commit leaves a moment where a reader finds the
     * copy without it). NULL: the caller commits, then meta_set. */
    apr_status_t (*commit_meta)(zddc_store_tmp *t, apr_time_t mtime,
                                const zddc_store_meta *m);
} zddc_store_provider;

/* The disk provider; mod_zddc_mirror.c registers it with
 * ap_register_provider(p, ZDDC_STORE_GROUP, "disk", ZDDC_STORE_VERSION, ...).
 * It needs APR only, so the unit tests link it directly. */
extern const zddc_store_provider zddc_store_disk_provider;

#endif
