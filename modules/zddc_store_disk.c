/* The disk storage provider (SPEC §4): the mirror tree under ZddcCacheRoot,
 * atomic publishing through temp files, one writer per target, safe purges. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_portable.h>

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "zddc_store_disk.h"
#include "zddc_util.h"

/* A temp file untouched this long, and not locked, belongs to a writer
 * that died. */
#define STALE_TMP_SECONDS   60
/* Attempts at creating or joining the per-target temp when it keeps being
 * published or cleared under us. */
#define BEGIN_ATTEMPTS      8
/* An empty, unlocked temp younger than this may belong to a leader between
 * its create and its lock: look again LOCK_WAIT_POLLS times, LOCK_WAIT_POLL
 * apart, before taking it for a leftover. */
#define FRESH_TMP_MSEC      2000
#define LOCK_WAIT_POLLS     20
#define LOCK_WAIT_POLL      apr_time_from_msec(5)
/* Temp names of put(): ".zddc-" is reserved, so no target of begin() (whose
 * temp is named after it) can produce one. */
#define PUT_TMP_TEMPLATE    ZDDC_TMP_PREFIX ".zddc-put-XXXXXX"

/* Cached content is not world-readable (SPEC §4): the server's User owns
 * it and its Group may read it. Directories above the root that start-up
 * creates stay searchable so User can reach the root. */
#define CONTENT_DIR_MODE   0750
#define CONTENT_FILE_MODE  0640
#define ABOVE_ROOT_PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE \
                          | APR_FPROT_GREAD | APR_FPROT_GEXECUTE \
                          | APR_FPROT_WREAD | APR_FPROT_WEXECUTE)

#define MARKER_TEXT "This directory is a mod_zddc_mirror cache root.\n"

/* The directory chain a thread verified last is taken as verified for
 * this long: a walk writes every file of a directory in a row, and each
 * check costs a stat per path segment. Purges never rely on it. */
#define DIR_TRUST_USEC      apr_time_from_msec(1000)
#define DIR_TRUST_MAX       1024

struct zddc_store {
    apr_pool_t *pool;
    const char *root;
    apr_size_t root_len;
    const char *access_file_name;
};

struct zddc_store_obj {
    zddc_store *st;
    zddc_obj_kind kind;
    const char *path;       /* where it lives under the root */
};

/* The head travels with the temp's inode as an extended attribute, so a
 * follower reads the head of the very download it follows; the commit
 * removes it. */
#define HEAD_XATTR "user.zddc.head"

struct zddc_store_tmp {
    zddc_store *st;
    apr_pool_t *pool;
    const char *path;       /* the temp file */
    const char *target;
    int fd;
    int leader;
    int leader_done;        /* follower: the leader released the temp */
    dev_t dev;
    ino_t ino;
    apr_off_t offset;       /* follower: bytes read so far */
};

static apr_status_t os_error(void)
{
    return APR_FROM_OS_ERROR(errno);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Only a leader ever locks its temp (an open file description write lock,
 * released by its close), and everyone else only probes: a probe can never
 * take another prober for a live writer. */
static int tmp_lock(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_OFD_SETLK, &fl);
}

/* 1 when a leader holds the temp open on fd, 0 when none does, -1 when the
 * probe itself failed. */
static int tmp_locked(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) {
        return -1;
    }
    return fl.l_type != F_UNLCK;
}

/* Unlink path if it still names the file sb describes. */
static void unlink_if_same(const char *path, const struct stat *sb)
{
    struct stat now;

    if (lstat(path, &now) == 0 && same_file(&now, sb)) {
        unlink(path);
    }
}

/* Whether path is the root or strictly below it with clean segments. */
static int path_in_root(zddc_store *st, const char *path)
{
    const char *s;

    if (strncmp(path, st->root, st->root_len)) {
        return 0;
    }
    s = path + st->root_len;
    if (*s == '\0') {
        return 1;
    }
    if (*s != '/') {
        return 0;
    }
    while (*s == '/') {
        const char *seg = ++s;
        apr_size_t n;

        while (*s && *s != '/') {
            s++;
        }
        n = (apr_size_t)(s - seg);
        if (n == 0 || (n == 1 && seg[0] == '.')
            || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            return 0;
        }
    }
    return 1;
}

/* Check that every component of dir below the root is a real directory
 * (never a symlink), creating the missing ones when create is set. */
static apr_status_t ensure_dirs_from(zddc_store *st, const char *dir,
                                     int create, apr_size_t from,
                                     apr_pool_t *p)
{
    char *buf;
    char *s;

    if (!path_in_root(st, dir)) {
        return APR_EINVAL;
    }
    buf = apr_pstrdup(p, dir);
    s = buf + from;
    while (*s == '/') {
        struct stat sb;
        char save;

        s++;
        while (*s && *s != '/') {
            s++;
        }
        save = *s;
        *s = '\0';
        if (lstat(buf, &sb) != 0) {
            if (errno != ENOENT) {
                return os_error();
            }
            if (!create) {
                return APR_ENOENT;
            }
            if (mkdir(buf, CONTENT_DIR_MODE) != 0 && errno != EEXIST) {
                return os_error();
            }
            if (lstat(buf, &sb) != 0) {
                return os_error();
            }
        }
        if (!S_ISDIR(sb.st_mode)) {
            return APR_ENOTDIR;
        }
        *s = save;
    }
    return APR_SUCCESS;
}

static apr_status_t ensure_dirs(zddc_store *st, const char *dir, int create,
                                apr_pool_t *p)
{
    return ensure_dirs_from(st, dir, create, st->root_len, p);
}

static __thread struct {
    const zddc_store *st;
    apr_time_t at;
    apr_size_t len;
    char dir[DIR_TRUST_MAX];
} dir_trust;

static void dir_trust_forget(void)
{
    dir_trust.st = NULL;
}

/* ensure_dirs, from where the chain this thread checked moments ago
 * parts from dir: nothing for the same directory, one segment for a
 * sibling. The check time stays that of the oldest segment trusted, so
 * every segment is looked at again at least once per DIR_TRUST_USEC. A
 * chain purged meanwhile shows as ENOENT on use: forget and redo. */
static apr_status_t ensure_dirs_trusted(zddc_store *st, const char *dir,
                                        int create, apr_pool_t *p)
{
    apr_size_t len = strlen(dir), k = st->root_len, i;
    apr_time_t now = apr_time_now(), at = now;
    apr_status_t rv;

    if (dir_trust.st == st && now >= dir_trust.at
        && now - dir_trust.at < DIR_TRUST_USEC) {
        for (i = st->root_len; i < len && i < dir_trust.len
             && dir[i] == dir_trust.dir[i]; i++) {
            if (dir[i] == '/') {
                k = i;
            }
        }
        if (i == len && i == dir_trust.len) {
            return APR_SUCCESS;
        }
        if ((i == len && dir_trust.dir[i] == '/')
            || (i == dir_trust.len && dir[i] == '/')) {
            k = i;
        }
        if (k > st->root_len) {
            at = dir_trust.at;
        }
    }
    rv = ensure_dirs_from(st, dir, create, k, p);
    if (rv == APR_SUCCESS && len < DIR_TRUST_MAX) {
        memcpy(dir_trust.dir, dir, len);
        dir_trust.len = len;
        dir_trust.at = at;
        dir_trust.st = st;
    }
    return rv;
}

static void split_path(apr_pool_t *p, const char *path, const char **dir,
                       const char **base)
{
    const char *slash = strrchr(path, '/');

    *dir = apr_pstrmemdup(p, path, (apr_size_t)(slash - path));
    *base = slash + 1;
}

static const char *meta_path(apr_pool_t *p, const char *fs_path);
static void validated_set_fd(int fd);
static int validated_on_fd(int fd);

static int is_tmp_name(const char *name)
{
    return !strncmp(name, ZDDC_TMP_PREFIX, sizeof(ZDDC_TMP_PREFIX) - 1);
}

/* The temp of the target named base (never a reserved name). Up to
 * NAME_MAX - 1 bytes it is the prefix and base itself, one to one; a longer
 * one is exactly NAME_MAX bytes: a hash of base, then its head, so the two
 * forms never meet. Two long names with equal hash and head still share a
 * temp; a follower's check of the published inode catches that, late. */
static const char *tmp_name(apr_pool_t *p, const char *base)
{
    apr_size_t n = strlen(base);
    const char *head;

    if (sizeof(ZDDC_TMP_PREFIX) - 1 + n < NAME_MAX) {
        return apr_pstrcat(p, ZDDC_TMP_PREFIX, base, NULL);
    }
    head = apr_psprintf(p, ZDDC_TMP_PREFIX "h%016" APR_UINT64_T_HEX_FMT "-",
                        zddc_hash64(base));
    return apr_pstrcat(p, head,
                       apr_pstrmemdup(p, base, NAME_MAX - strlen(head)),
                       NULL);
}

/* Remove the temp file name in dfd when it is old and no leader holds it. */
static void sweep_tmp(int dfd, const char *name, time_t now)
{
    struct stat sb, held;
    int fd;

    if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        return;
    }
    if (S_ISLNK(sb.st_mode)) {
        unlinkat(dfd, name, 0);
        return;
    }
    if (!S_ISREG(sb.st_mode) || now - sb.st_mtime < STALE_TMP_SECONDS) {
        return;
    }
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return;
    }
    if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode)
        && now - held.st_mtime >= STALE_TMP_SECONDS
        && tmp_locked(fd) == 0
        && fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0
        && same_file(&held, &sb)) {
        unlinkat(dfd, name, 0);
    }
    close(fd);
}

static void sweep_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    time_t now = time(NULL);

    if (!d) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (is_tmp_name(de->d_name)) {
            sweep_tmp(dirfd(d), de->d_name, now);
        }
    }
    closedir(d);
}

static apr_status_t dir_is_empty(const char *dir, int *empty)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d) {
        return os_error();
    }
    *empty = 1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            *empty = 0;
            break;
        }
    }
    closedir(d);
    return APR_SUCCESS;
}

/* Only root may give files away; an unprivileged server keeps its own. */
static apr_status_t give_to(const char *path, apr_uid_t uid, apr_gid_t gid)
{
    if (geteuid() != 0
        || (uid == (apr_uid_t)-1 && gid == (apr_gid_t)-1)) {
        return APR_SUCCESS;
    }
    if (lchown(path, uid, gid) != 0) {
        return os_error();
    }
    return APR_SUCCESS;
}

static apr_status_t write_all(int fd, const void *buf, apr_size_t len)
{
    const char *s = buf;

    while (len > 0) {
        ssize_t n = write(fd, s, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return os_error();
        }
        s += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

/* atime now, mtime as given (0 = now). */
static apr_status_t set_mtime(int fd, apr_time_t mtime)
{
    struct timespec ts[2];

    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_NOW;
    if (mtime <= 0) {
        ts[1].tv_sec = 0;
        ts[1].tv_nsec = UTIME_NOW;
    }
    else {
        ts[1].tv_sec = (time_t)apr_time_sec(mtime);
        ts[1].tv_nsec = (long)apr_time_usec(mtime) * 1000L;
    }
    if (futimens(fd, ts) != 0) {
        return os_error();
    }
    return APR_SUCCESS;
}

static apr_status_t disk_open(zddc_store **stp, const char *root,
                              const char *access_file_name, apr_uid_t uid,
                              apr_gid_t gid, const char **err, apr_pool_t *p)
{
    zddc_store *st;
    apr_size_t n;
    apr_finfo_t fi;
    apr_status_t rv;
    const char *marker;
    struct stat sb;
    int created = 0;

    *err = NULL;
    n = root ? strlen(root) : 0;
    while (n > 1 && root[n - 1] == '/') {
        n--;
    }
    if (n == 0 || (n == 1 && root[0] == '/')) {
        *err = "the cache root must be a directory other than /";
        return APR_EINVAL;
    }
    st = apr_pcalloc(p, sizeof(*st));
    st->pool = p;
    st->root = apr_pstrmemdup(p, root, n);
    st->root_len = n;
    st->access_file_name = access_file_name;

    rv = apr_stat(&fi, st->root, APR_FINFO_TYPE, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        char *parent = apr_pstrdup(p, st->root);
        *strrchr(parent, '/') = '\0';
        rv = *parent ? apr_dir_make_recursive(parent, ABOVE_ROOT_PERMS, p)
                     : APR_SUCCESS;
        if (rv == APR_SUCCESS && mkdir(st->root, CONTENT_DIR_MODE) != 0
            && errno != EEXIST) {
            rv = os_error();
        }
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(p, "cannot create cache root %s", st->root);
            return rv;
        }
        created = 1;
        rv = apr_stat(&fi, st->root, APR_FINFO_TYPE, p);
    }
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        *err = apr_psprintf(p, "cannot stat cache root %s", st->root);
        return rv;
    }
    if (fi.filetype != APR_DIR) {
        *err = apr_psprintf(p, "cache root %s is not a directory", st->root);
        return APR_ENOTDIR;
    }
    if (!created) {
        /* An empty directory made for us (e.g. by root) is adopted like a
         * new one: start-up gives it to User. */
        int empty = 0;
        created = dir_is_empty(st->root, &empty) == APR_SUCCESS && empty;
    }
    if (created && (rv = give_to(st->root, uid, gid)) != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot chown cache root %s", st->root);
        return rv;
    }
    /* Our own root made world-readable by hand or by an older version. */
    if (lstat(st->root, &sb) == 0 && (sb.st_mode & 07)
        && sb.st_uid == (uid == (apr_uid_t)-1 || geteuid() != 0
                         ? geteuid() : uid)
        && chmod(st->root, sb.st_mode & 07770) != 0) {
        rv = os_error();
        *err = apr_psprintf(p, "cannot chmod cache root %s", st->root);
        return rv;
    }

    marker = apr_pstrcat(p, st->root, "/", ZDDC_MARKER, NULL);
    if (lstat(marker, &sb) != 0) {
        int empty = 0;
        int fd;

        if (errno != ENOENT) {
            rv = os_error();
            *err = apr_psprintf(p, "cannot stat %s", marker);
            return rv;
        }
        if ((rv = dir_is_empty(st->root, &empty)) != APR_SUCCESS) {
            *err = apr_psprintf(p, "cannot read cache root %s", st->root);
            return rv;
        }
        if (!empty) {
            *err = apr_psprintf(p, "cache root %s is not empty and has no "
                                ZDDC_MARKER " marker; refusing to adopt it "
                                "(create the marker by hand if this really "
                                "is a mirror tree)", st->root);
            return APR_EEXIST;
        }
        fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  CONTENT_FILE_MODE);
        if (fd < 0) {
            rv = os_error();
            *err = apr_psprintf(p, "cannot create %s", marker);
            return rv;
        }
        rv = write_all(fd, MARKER_TEXT, sizeof(MARKER_TEXT) - 1);
        close(fd);
        if (rv == APR_SUCCESS) {
            rv = give_to(marker, uid, gid);
        }
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(p, "cannot write %s", marker);
            return rv;
        }
    }
    sweep_dir(st->root);
    *stp = st;
    return APR_SUCCESS;
}

/* A report's name has a fixed length whatever its subtree's (FNV-1a). */
static const char *report_name(apr_pool_t *p, const char *subtree)
{
    apr_uint64_t h = APR_UINT64_C(1469598103934665603);
    const unsigned char *c;

    for (c = (const unsigned char *)subtree; *c; c++) {
        h ^= *c;
        h *= APR_UINT64_C(1099511628211);
    }
    return apr_psprintf(p, ZDDC_REPORT_PREFIX "%016" APR_UINT64_T_HEX_FMT
                        ".json", h);
}

static apr_status_t disk_obj(zddc_store *st, const char *url_path,
                             zddc_obj_kind kind, zddc_store_obj **op,
                             apr_pool_t *p)
{
    zddc_store_obj *o;
    const char *fs;
    apr_status_t rv;

    *op = NULL;
    if (kind == ZDDC_OBJ_STATE) {
        fs = apr_pstrcat(p, st->root, "/", ZDDC_STATE_FILE, NULL);
    }
    else if (kind == ZDDC_OBJ_REPORT) {
        if (!url_path) {
            return APR_EINVAL;
        }
        fs = apr_pstrcat(p, st->root, "/", report_name(p, url_path), NULL);
    }
    else {
        rv = zddc_path_map(p, st->root, url_path, st->access_file_name, &fs);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (kind == ZDDC_OBJ_LISTING_JSON) {
            fs = apr_pstrcat(p, fs, "/", ZDDC_SIDECAR_JSON, NULL);
        }
        else if (kind == ZDDC_OBJ_LISTING_HTML) {
            fs = apr_pstrcat(p, fs, "/", ZDDC_SIDECAR_HTML, NULL);
        }
    }
    o = apr_palloc(p, sizeof(*o));
    o->st = st;
    o->kind = kind;
    o->path = fs;
    *op = o;
    return APR_SUCCESS;
}

static zddc_obj_kind disk_kind(const zddc_store_obj *o)
{
    return o->kind;
}

static const char *disk_describe(const zddc_store_obj *o, apr_pool_t *p)
{
    return apr_pstrdup(p, o->path);
}

static apr_status_t stat_path(zddc_store *st, const char *fs_path,
                              apr_finfo_t *fi, apr_pool_t *p)
{
    apr_status_t rv;

    /* No directory on the way from the root may be a symlink either. */
    if (strcmp(fs_path, st->root)) {
        const char *dir, *base;

        if (!path_in_root(st, fs_path)) {
            return APR_EINVAL;
        }
        split_path(p, fs_path, &dir, &base);
        rv = ensure_dirs_trusted(st, dir, 0, p);
        if (rv == APR_ENOTDIR) {
            return APR_ENOENT;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    rv = apr_stat(fi, fs_path, APR_FINFO_LINK | APR_FINFO_MIN
                  | APR_FINFO_CTIME | APR_FINFO_INODE, p);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        return rv;
    }
    if (fi->filetype == APR_LNK) {
        return APR_ENOENT;
    }
    return APR_SUCCESS;
}

static apr_status_t disk_stat(zddc_store_obj *o, apr_finfo_t *fi,
                              apr_pool_t *p)
{
    apr_status_t rv = stat_path(o->st, o->path, fi, p);

    fi->fname = NULL;
    fi->name = NULL;
    return rv;
}

static apr_status_t disk_open_obj(zddc_store_obj *o, apr_int32_t flags,
                                  apr_file_t **f, apr_pool_t *p)
{
    *f = NULL;
    if (!path_in_root(o->st, o->path)) {
        return APR_EINVAL;
    }
    return apr_file_open(f, o->path, APR_READ | APR_BINARY | flags, 0, p);
}

/* Leader: unlink the temp if the path is still ours. Both: close, which
 * drops a leader's lock. */
static void tmp_release(zddc_store_tmp *t, int remove)
{
    struct stat sb;

    if (t->fd < 0) {
        return;
    }
    if (remove && t->leader && lstat(t->path, &sb) == 0
        && sb.st_dev == t->dev && sb.st_ino == t->ino) {
        unlink(t->path);
    }
    close(t->fd);
    t->fd = -1;
}

static apr_status_t tmp_cleanup(void *data)
{
    tmp_release(data, 1);
    return APR_SUCCESS;
}

static int tmp_is_fresh(const struct stat *sb)
{
    struct timespec now;
    long long ms;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        return 0;
    }
    ms = (long long)(now.tv_sec - sb->st_mtim.tv_sec) * 1000
         + (now.tv_nsec - sb->st_mtim.tv_nsec) / 1000000;
    return ms < FRESH_TMP_MSEC;
}

/* We created the temp (O_EXCL, so it is fresh): lock it before any byte. */
static apr_status_t tmp_lead(zddc_store_tmp *t, int fd)
{
    struct stat sb;
    apr_status_t rv;

    if (tmp_lock(fd) == 0 && fstat(fd, &sb) == 0) {
        t->fd = fd;
        t->leader = 1;
        t->dev = sb.st_dev;
        t->ino = sb.st_ino;
        return APR_SUCCESS;
    }
    rv = os_error();
    if (fstat(fd, &sb) == 0) {
        unlink_if_same(t->path, &sb);
    }
    close(fd);
    return rv;
}

/* The temp exists: follow it when a leader holds it, else clear it when it
 * is a crashed writer's leftover. APR_SUCCESS with t->fd < 0 means "try
 * creating it again". A follower only ever reads an inode it saw locked,
 * so the bytes of a leftover never reach anyone. */
static apr_status_t tmp_join(zddc_store_tmp *t)
{
    struct stat named, held;
    apr_status_t rv;
    int fd, polls;

    if (lstat(t->path, &named) != 0) {
        return errno == ENOENT ? APR_SUCCESS : os_error();
    }
    if (!S_ISREG(named.st_mode)) {
        unlink_if_same(t->path, &named);
        return APR_SUCCESS;
    }
    fd = open(t->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return errno == ENOENT || errno == ELOOP ? APR_SUCCESS : os_error();
    }
    for (polls = 0;; polls++) {
        int locked = tmp_locked(fd);

        if (locked < 0 || fstat(fd, &held) != 0) {
            rv = os_error();
            close(fd);
            return rv;
        }
        if (locked) {
            t->fd = fd;
            t->dev = held.st_dev;
            t->ino = held.st_ino;
            return APR_SUCCESS;
        }
        /* Published or removed since we opened it: start over. */
        if (lstat(t->path, &named) != 0 || !same_file(&held, &named)
            || !S_ISREG(held.st_mode)) {
            close(fd);
            return APR_SUCCESS;
        }
        /* Leaders lock before writing: bytes without a lock, or an empty
         * temp left unlocked too long, are a dead writer's leftover. */
        if (held.st_size > 0 || !tmp_is_fresh(&held)
            || polls >= LOCK_WAIT_POLLS) {
            break;
        }
        apr_sleep(LOCK_WAIT_POLL);
    }
    unlink_if_same(t->path, &held);
    close(fd);
    return APR_SUCCESS;
}

static apr_status_t disk_begin(zddc_store_obj *o, zddc_store_tmp **tmpp,
                               int *leader, apr_pool_t *p)
{
    zddc_store *st = o->st;
    const char *fs_path = o->path;
    zddc_store_tmp *t;
    const char *dir, *base;
    apr_status_t rv;
    int attempt;

    *tmpp = NULL;
    *leader = 0;
    if (!path_in_root(st, fs_path) || !strcmp(fs_path, st->root)) {
        return APR_EINVAL;
    }
    split_path(p, fs_path, &dir, &base);
    if (zddc_name_is_reserved(base)) {
        return APR_EINVAL;
    }
    if ((rv = ensure_dirs_trusted(st, dir, 1, p)) != APR_SUCCESS) {
        return rv;
    }

    t = apr_pcalloc(p, sizeof(*t));
    t->st = st;
    t->pool = p;
    t->target = apr_pstrdup(p, fs_path);
    t->path = apr_pstrcat(p, dir, "/", tmp_name(p, base), NULL);
    t->fd = -1;

    for (attempt = 0; attempt < BEGIN_ATTEMPTS && t->fd < 0; attempt++) {
        int fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC
                      | O_NOFOLLOW, CONTENT_FILE_MODE);

        if (fd >= 0) {
            rv = tmp_lead(t, fd);
        }
        else if (errno == EEXIST) {
            rv = tmp_join(t);
        }
        else if (errno == ENOENT && attempt == 0) {
            dir_trust_forget();
            rv = ensure_dirs(st, dir, 1, p);
        }
        else {
            rv = os_error();
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (t->fd < 0) {
        return APR_EAGAIN;
    }
    apr_pool_cleanup_register(p, t, tmp_cleanup, apr_pool_cleanup_null);
    *tmpp = t;
    *leader = t->leader;
    return APR_SUCCESS;
}

static apr_status_t disk_write(zddc_store_tmp *t, const void *buf,
                               apr_size_t len)
{
    if (!t || !t->leader || t->fd < 0) {
        return APR_EINVAL;
    }
    return write_all(t->fd, buf, len);
}

static const char *meta_text(apr_pool_t *p, const struct stat *sb,
                             const zddc_store_meta *m);
static apr_status_t put_path(zddc_store *st, const char *fs_path,
                             const void *data, apr_size_t len,
                             apr_time_t mtime, apr_pool_t *p);

/* The copy's metadata file, bound to the temp's inode as it will be
 * published, written before the rename that publishes both. */
static apr_status_t commit_meta_file(zddc_store_tmp *t,
                                     const zddc_store_meta *m)
{
    struct stat sb;
    const char *text;

    if (fstat(t->fd, &sb) != 0) {
        return os_error();
    }
    text = meta_text(t->pool, &sb, m);
    return put_path(t->st, meta_path(t->pool, t->target), text,
                    strlen(text), 0, t->pool);
}

static apr_status_t disk_commit_meta(zddc_store_tmp *t, apr_time_t mtime,
                                     const zddc_store_meta *m)
{
    apr_status_t rv;
    struct stat sb;

    if (!t || !t->leader || t->fd < 0) {
        return APR_EINVAL;
    }
    rv = set_mtime(t->fd, mtime);
    if (rv == APR_SUCCESS && m) {
        rv = commit_meta_file(t, m);
    }
    if (rv == APR_SUCCESS) {
        /* The head was for followers of the download; the copy's mtime
         * and size say the same from now on (disk_head_get). Without it
         * "validated at" fits in the inode on ext4, where beside it it
         * took an xattr block, and a warm walk's lsetxattr of every
         * unchanged copy spent most of its time un-sharing that block. */
        fremovexattr(t->fd, HEAD_XATTR);
        validated_set_fd(t->fd);
        if (lstat(t->path, &sb) != 0) {
            rv = os_error();
        }
        else if (sb.st_dev != t->dev || sb.st_ino != t->ino) {
            rv = APR_ENOENT;    /* purged under us; another writer took over */
        }
        else if (rename(t->path, t->target) != 0) {
            rv = os_error();
        }
    }
    apr_pool_cleanup_kill(t->pool, t, tmp_cleanup);
    tmp_release(t, rv != APR_SUCCESS);
    return rv;
}

static apr_status_t disk_commit(zddc_store_tmp *t, apr_time_t mtime)
{
    return disk_commit_meta(t, mtime, NULL);
}

static void disk_discard(zddc_store_tmp *t)
{
    if (!t) {
        return;
    }
    apr_pool_cleanup_kill(t->pool, t, tmp_cleanup);
    tmp_release(t, 1);
}

static zddc_follow_e disk_follow(zddc_store_tmp *t, char *buf,
                                 apr_size_t *len)
{
    struct stat sb;
    ssize_t n;

    if (!t || t->fd < 0 || t->leader) {
        *len = 0;
        return ZDDC_FOLLOW_FAILED;
    }
    for (;;) {
        do {
            n = pread(t->fd, buf, *len, (off_t)t->offset);
        } while (n < 0 && errno == EINTR);
        if (n > 0) {
            t->offset += n;
            *len = (apr_size_t)n;
            return ZDDC_FOLLOW_MORE;
        }
        if (n < 0) {
            *len = 0;
            return ZDDC_FOLLOW_FAILED;
        }
        if (t->leader_done) {
            break;
        }
        /* The leader holds its lock until it has published or given up. */
        if (tmp_locked(t->fd) > 0) {
            *len = 0;
            return ZDDC_FOLLOW_WAIT;
        }
        t->leader_done = 1;
    }
    *len = 0;
    if (lstat(t->target, &sb) == 0 && sb.st_dev == t->dev
        && sb.st_ino == t->ino && S_ISREG(sb.st_mode)) {
        return ZDDC_FOLLOW_PUBLISHED;
    }
    /* Published, then already replaced by a newer download: the commit
     * marked it before its rename (a discarded temp is never marked). */
    if (validated_on_fd(t->fd)) {
        return ZDDC_FOLLOW_PUBLISHED;
    }
    return ZDDC_FOLLOW_FAILED;
}

static void disk_unfollow(zddc_store_tmp *t)
{
    if (!t) {
        return;
    }
    apr_pool_cleanup_kill(t->pool, t, tmp_cleanup);
    tmp_release(t, 0);
}

/* A put's temp when the pool goes first: a child ending mid-put (prefork
 * runs its pools' cleanups on SIGTERM) leaves no temp behind. */
static apr_status_t put_tmp_cleanup(void *data)
{
    unlink(data);
    return APR_SUCCESS;
}

static apr_status_t put_path(zddc_store *st, const char *fs_path,
                             const void *data, apr_size_t len,
                             apr_time_t mtime, apr_pool_t *p)
{
    const char *dir, *base;
    char *tmpl;
    apr_file_t *f;
    apr_os_file_t fd;
    apr_status_t rv;
    sigset_t stop, saved;

    if (!path_in_root(st, fs_path) || !strcmp(fs_path, st->root)) {
        return APR_EINVAL;
    }
    split_path(p, fs_path, &dir, &base);
    if ((rv = ensure_dirs_trusted(st, dir, 1, p)) != APR_SUCCESS) {
        return rv;
    }
    /* Under prefork a SIGTERM runs pchild's cleanups (put_tmp_cleanup among
     * them) from its handler, on this thread: it must not land between the
     * temp's creation and its cleanup's registration. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &saved);
    tmpl = apr_pstrcat(p, dir, "/" PUT_TMP_TEMPLATE, NULL);
    rv = apr_file_mktemp(&f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_READ
                         | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        /* purged since this thread checked it: check (and create) again */
        dir_trust_forget();
        rv = ensure_dirs(st, dir, 1, p);
        if (rv == APR_SUCCESS) {
            tmpl = apr_pstrcat(p, dir, "/" PUT_TMP_TEMPLATE, NULL);
            rv = apr_file_mktemp(&f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_READ
                                 | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p);
        }
    }
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(p, tmpl, put_tmp_cleanup,
                                  apr_pool_cleanup_null);
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_os_file_get(&fd, f);
    if (fchmod(fd, CONTENT_FILE_MODE) != 0) {
        rv = os_error();
    }
    if (rv == APR_SUCCESS) {
        rv = write_all(fd, data, len);
    }
    if (rv == APR_SUCCESS) {
        rv = set_mtime(fd, mtime);
    }
    if (rv == APR_SUCCESS) {
        validated_set_fd(fd);
    }
    apr_file_close(f);
    if (rv == APR_SUCCESS && rename(tmpl, fs_path) != 0) {
        rv = os_error();
    }
    if (rv != APR_SUCCESS) {
        unlink(tmpl);
    }
    apr_pool_cleanup_kill(p, tmpl, put_tmp_cleanup);
    return rv;
}

/* "Validated at" travels with the object as an extended attribute (usec,
 * decimal): a chmod, chown or a restore from backup leaves it alone, where
 * they reset ctime. Without extended attributes ctime stands in. */
#define VALIDATED_XATTR "user.zddc.validated"

static void validated_set_fd(int fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT,
                     (apr_int64_t)apr_time_now());

    fsetxattr(fd, VALIDATED_XATTR, buf, (size_t)n, 0);
}

/* Whether a commit marked the file on fd (validated_set_fd). */
static int validated_on_fd(int fd)
{
    char buf[32];

    return fgetxattr(fd, VALIDATED_XATTR, buf, sizeof(buf)) > 0;
}

static apr_status_t disk_put(zddc_store_obj *o, const void *data,
                             apr_size_t len, apr_time_t mtime, apr_pool_t *p)
{
    return put_path(o->st, o->path, data, len, mtime, p);
}

static apr_status_t disk_touch(zddc_store_obj *o)
{
    zddc_store *st = o->st;
    const char *fs_path = o->path;
    struct stat sb;
    struct timespec ts[2];
    char buf[32];
    int n;

    if (!path_in_root(st, fs_path)) {
        return APR_EINVAL;
    }
    /* A symlink takes no user xattr (EPERM), so a warm walk's touch of
     * each file it confirms is this one call; only a failure looks
     * further. */
    n = snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT,
                 (apr_int64_t)apr_time_now());
    if (lsetxattr(fs_path, VALIDATED_XATTR, buf, (size_t)n, 0) == 0) {
        return APR_SUCCESS;
    }
    if (lstat(fs_path, &sb) != 0) {
        return os_error();
    }
    if (S_ISLNK(sb.st_mode)) {
        return APR_ENOENT;
    }
    /* No extended attributes here: writing the mtime back unchanged bumps
     * ctime, which then stands for "validated at". */
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_NOW;
    ts[1] = sb.st_mtim;
    if (utimensat(AT_FDCWD, fs_path, ts, AT_SYMLINK_NOFOLLOW) != 0) {
        return os_error();
    }
    return APR_SUCCESS;
}

static apr_time_t disk_validated_at(zddc_store_obj *o,
                                    const apr_finfo_t *fi)
{
    const char *fs_path = o ? o->path : NULL;
    char buf[32];
    ssize_t n = fs_path ? lgetxattr(fs_path, VALIDATED_XATTR, buf,
                                    sizeof(buf) - 1) : -1;

    if (n > 0) {
        buf[n] = '\0';
        return (apr_time_t)apr_atoi64(buf);
    }
    return fi->ctime;
}

/* Remove everything in the directory dfd (consumed), never following a
 * symlink: each directory is opened relative to its parent, O_NOFOLLOW.
 * At the top of the tree, keep marker and state file and live temps. */
static apr_status_t purge_contents(int dfd, int top, int *count)
{
    DIR *d = fdopendir(dfd);
    struct dirent *de;
    apr_status_t rv = APR_SUCCESS;

    if (!d) {
        rv = os_error();
        close(dfd);
        return rv;
    }
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        struct stat sb;

        if (!strcmp(name, ".") || !strcmp(name, "..")) {
            continue;
        }
        if (top && (!strcmp(name, ZDDC_MARKER)
                    || !strcmp(name, ZDDC_STATE_FILE) || is_tmp_name(name)
                    || !strncmp(name, ZDDC_REPORT_PREFIX,
                                sizeof(ZDDC_REPORT_PREFIX) - 1))) {
            continue;
        }
        if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            int cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY
                             | O_NOFOLLOW | O_CLOEXEC);
            apr_status_t crv;

            if (cfd < 0) {
                rv = os_error();
                continue;
            }
            crv = purge_contents(cfd, 0, count);
            if (crv != APR_SUCCESS) {
                rv = crv;
            }
            if (unlinkat(dirfd(d), name, AT_REMOVEDIR) != 0) {
                rv = os_error();
                continue;
            }
        }
        else if (unlinkat(dirfd(d), name, 0) != 0) {
            rv = os_error();
            continue;
        }
        (*count)++;
    }
    closedir(d);
    return rv;
}

static apr_status_t disk_purge(zddc_store *st, const char *url_path,
                               int *count, apr_pool_t *p)
{
    const char *fs, *dir, *base;
    struct stat sb;
    apr_status_t rv;
    int removed = 0;
    int fd;

    dir_trust_forget();
    if (count) {
        *count = 0;
    }
    rv = zddc_path_map(p, st->root, url_path, st->access_file_name, &fs);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!strcmp(fs, st->root)) {
        fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            return os_error();
        }
        rv = purge_contents(fd, 1, &removed);
        if (count) {
            *count = removed;
        }
        return rv;
    }
    split_path(p, fs, &dir, &base);
    rv = ensure_dirs(st, dir, 0, p);
    if (rv == APR_ENOTDIR) {
        return APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (lstat(fs, &sb) != 0) {
        return os_error();
    }
    if (S_ISDIR(sb.st_mode)) {
        fd = open(fs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            return os_error();
        }
        rv = purge_contents(fd, 0, &removed);
        if (rmdir(fs) == 0) {
            removed++;
        }
        else if (rv == APR_SUCCESS) {
            rv = os_error();
        }
    }
    else if (unlink(fs) == 0) {
        removed++;
        unlink(meta_path(p, fs));
    }
    else {
        rv = os_error();
    }
    if (count) {
        *count = removed;
    }
    return rv;
}

static apr_status_t disk_drop_listing(zddc_store *st, const char *url_dir,
                                      apr_pool_t *p)
{
    static const char *const sidecars[] = {
        ZDDC_SIDECAR_JSON, ZDDC_SIDECAR_HTML
    };
    const char *fs;
    apr_status_t rv = zddc_path_map(p, st->root, url_dir,
                                    st->access_file_name, &fs);
    apr_size_t i;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = ensure_dirs(st, fs, 0, p);
    if (rv == APR_ENOENT || rv == APR_ENOTDIR) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
        const char *path = apr_pstrcat(p, fs, "/", sidecars[i], NULL);

        if (unlink(path) != 0 && errno != ENOENT) {
            rv = os_error();
        }
    }
    return rv;
}

static apr_status_t disk_list(zddc_store *st, const char *url_dir,
                              apr_array_header_t **entries, apr_pool_t *p)
{
    const char *fs;
    apr_array_header_t *arr;
    struct dirent *de;
    time_t now = time(NULL);
    DIR *d;
    int fd;
    apr_status_t rv = zddc_path_map(p, st->root, url_dir,
                                    st->access_file_name, &fs);

    *entries = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* a walk lists the directory it just stored the listing of; what it
     * plans to purge is checked again, untrusted, when purged */
    rv = ensure_dirs_trusted(st, fs, 0, p);
    if (rv == APR_ENOTDIR) {
        return APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    fd = open(fs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return os_error();
    }
    if ((d = fdopendir(fd)) == NULL) {
        rv = os_error();
        close(fd);
        return rv;
    }
    arr = apr_array_make(p, 16, sizeof(zddc_store_entry));
    while ((de = readdir(d)) != NULL) {
        zddc_store_entry *e;
        struct stat sb;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
            continue;
        }
        if (zddc_name_is_reserved(de->d_name)) {
            if (is_tmp_name(de->d_name)) {
                sweep_tmp(dirfd(d), de->d_name, now);
            }
            continue;
        }
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        e = apr_array_push(arr);
        e->name = apr_pstrdup(p, de->d_name);
        e->is_dir = S_ISDIR(sb.st_mode);
        e->is_reg = S_ISREG(sb.st_mode);
        e->size = (apr_off_t)sb.st_size;
        e->mtime = apr_time_from_sec(sb.st_mtim.tv_sec)
                   + sb.st_mtim.tv_nsec / 1000;
    }
    closedir(d);
    *entries = arr;
    return APR_SUCCESS;
}

static apr_status_t get_path(zddc_store *st, const char *fs_path,
                             apr_size_t max, char **data, apr_size_t *len,
                             apr_pool_t *p)
{
    struct stat sb;
    apr_status_t rv = APR_SUCCESS;
    apr_size_t got = 0;
    char *buf;
    int fd;

    *data = NULL;
    *len = 0;
    if (!path_in_root(st, fs_path)) {
        return APR_EINVAL;
    }
    fd = open(fs_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return os_error();
    }
    if (fstat(fd, &sb) != 0) {
        rv = os_error();
    }
    else if (!S_ISREG(sb.st_mode) || (apr_size_t)sb.st_size > max) {
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        buf = apr_palloc(p, (apr_size_t)sb.st_size + 1);
        while (got < (apr_size_t)sb.st_size) {
            ssize_t n = read(fd, buf + got, (apr_size_t)sb.st_size - got);

            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                rv = os_error();
                break;
            }
            if (n == 0) {
                break;
            }
            got += (apr_size_t)n;
        }
        if (rv == APR_SUCCESS) {
            buf[got] = '\0';
            *data = buf;
            *len = got;
        }
    }
    close(fd);
    return rv;
}

static apr_status_t disk_get(zddc_store_obj *o, apr_size_t max, char **data,
                             apr_size_t *len, apr_pool_t *p)
{
    return get_path(o->st, o->path, max, data, len, p);
}

/* Metadata of <dir>/<name> lives in <dir>/.zddc-meta/<name>, bound to the
 * object by inode, size and mtime. A listing sidecar keeps its own (the
 * master's ETag) in an extended attribute instead, so a walk creates no
 * metadata directory and file per directory; the file form stays for
 * file systems without them and for sidecars written before. */
#define META_MAX 8192
#define META_XATTR "user.zddc.meta"

static int meta_in_xattr(const zddc_store_obj *o)
{
    return o->kind == ZDDC_OBJ_LISTING_JSON
           || o->kind == ZDDC_OBJ_LISTING_HTML;
}

static const char *meta_path(apr_pool_t *p, const char *fs_path)
{
    const char *dir, *base;

    split_path(p, fs_path, &dir, &base);
    return apr_pstrcat(p, dir, "/" ZDDC_META_DIR "/", base, NULL);
}

static const char *meta_binding(apr_pool_t *p, const struct stat *sb)
{
    return apr_psprintf(p, "%lu %lu %" APR_OFF_T_FMT " %" APR_INT64_T_FMT,
                        (unsigned long)sb->st_dev, (unsigned long)sb->st_ino,
                        (apr_off_t)sb->st_size,
                        (apr_int64_t)sb->st_mtim.tv_sec * APR_USEC_PER_SEC
                        + sb->st_mtim.tv_nsec / 1000);
}

/* A header value on one line. */
static const char *meta_clean(apr_pool_t *p, const char *v)
{
    char *c, *o;

    if (!v) {
        return NULL;
    }
    c = apr_pstrdup(p, v);
    for (o = c; *o; o++) {
        if (*o == '\r' || *o == '\n') {
            *o = ' ';
        }
    }
    return c;
}

static apr_status_t disk_meta_get(zddc_store_obj *o, zddc_store_meta *m,
                                  apr_pool_t *p)
{
    zddc_store *st = o->st;
    const char *fs_path = o->path;
    struct stat sb;
    char *data, *line, *last;
    apr_size_t len;
    apr_status_t rv;
    int bound = 0;

    memset(m, 0, sizeof(*m));
    if (!path_in_root(st, fs_path) || !strcmp(fs_path, st->root)) {
        return APR_EINVAL;
    }
    rv = APR_ENOENT;
    if (meta_in_xattr(o)) {
        ssize_t n;

        data = apr_palloc(p, META_MAX + 1);
        n = lgetxattr(fs_path, META_XATTR, data, META_MAX);
        if (n >= 0) {
            data[n] = '\0';
            len = (apr_size_t)n;
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        /* Most copies have no metadata file: look for it first. */
        rv = get_path(st, meta_path(p, fs_path), META_MAX, &data, &len, p);
    }
    if (rv != APR_SUCCESS) {
        return APR_STATUS_IS_ENOENT(rv) ? rv : APR_ENOENT;
    }
    if (lstat(fs_path, &sb) != 0) {
        return os_error();
    }
    for (line = apr_strtok(data, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *val = strchr(line, ' ');

        if (!val) {
            continue;
        }
        *val++ = '\0';
        if (!strcmp(line, "object")) {
            bound = !strcmp(val, meta_binding(p, &sb));
        }
        else if (!strcmp(line, "validated")) {
            m->validated_at = (apr_time_t)apr_atoi64(val);
        }
        else if (!strcmp(line, "novalidator")) {
            m->no_validator = val[0] == '1';
        }
        else if (!strcmp(line, "etag")) {
            m->etag = val;
        }
        else if (!strcmp(line, "type")) {
            m->content_type = val;
        }
        else if (!strcmp(line, "disposition")) {
            m->content_disposition = val;
        }
    }
    if (!bound) {
        memset(m, 0, sizeof(*m));
        return APR_ENOENT;
    }
    return APR_SUCCESS;
}

/* m as kept for the object whose stat is sb (bound to it). */
static const char *meta_text(apr_pool_t *p, const struct stat *sb,
                             const zddc_store_meta *m)
{
    return apr_pstrcat(p, "object ", meta_binding(p, sb), "\n",
                       apr_psprintf(p, "validated %" APR_INT64_T_FMT "\n",
                                    (apr_int64_t)m->validated_at),
                       m->no_validator ? "novalidator 1\n" : "",
                       m->etag ? "etag " : "",
                       m->etag ? meta_clean(p, m->etag) : "",
                       m->etag ? "\n" : "",
                       m->content_type ? "type " : "",
                       m->content_type ? meta_clean(p, m->content_type) : "",
                       m->content_type ? "\n" : "",
                       m->content_disposition ? "disposition " : "",
                       m->content_disposition
                       ? meta_clean(p, m->content_disposition) : "",
                       m->content_disposition ? "\n" : "", NULL);
}

static apr_status_t disk_meta_set(zddc_store_obj *o, const zddc_store_meta *m,
                                  apr_pool_t *p)
{
    zddc_store *st = o->st;
    const char *fs_path = o->path;
    struct stat sb;
    const char *text;

    if (!path_in_root(st, fs_path) || !strcmp(fs_path, st->root)) {
        return APR_EINVAL;
    }
    if (lstat(fs_path, &sb) != 0) {
        return os_error();
    }
    if (!S_ISREG(sb.st_mode)) {
        return APR_EINVAL;
    }
    text = meta_text(p, &sb, m);
    if (meta_in_xattr(o)) {
        if (lsetxattr(fs_path, META_XATTR, text, strlen(text), 0) == 0) {
            return APR_SUCCESS;
        }
        /* An older one must not outrank the file written below. */
        lremovexattr(fs_path, META_XATTR);
    }
    return put_path(st, meta_path(p, fs_path), text, strlen(text), 0, p);
}

static apr_status_t disk_remove(zddc_store_obj *o, apr_pool_t *p)
{
    const char *dir, *base;
    struct stat sb;
    apr_status_t rv;

    if (!path_in_root(o->st, o->path) || !strcmp(o->path, o->st->root)) {
        return APR_EINVAL;
    }
    split_path(p, o->path, &dir, &base);
    rv = ensure_dirs(o->st, dir, 0, p);
    if (rv == APR_ENOTDIR) {
        return APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (lstat(o->path, &sb) != 0) {
        return os_error();
    }
    if (S_ISDIR(sb.st_mode)) {
        return APR_EINVAL;
    }
    if (unlink(o->path) != 0) {
        return os_error();
    }
    unlink(meta_path(p, o->path));
    return APR_SUCCESS;
}

#define HEAD_MAX 4096

static apr_status_t disk_head_set(zddc_store_tmp *t, const zddc_store_head *h)
{
    char buf[HEAD_MAX];
    int n;

    if (!t || !t->leader || t->fd < 0) {
        return APR_EINVAL;
    }
    n = snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT "\n%" APR_OFF_T_FMT
                 "\n%d\n%s\n%s\n", (apr_int64_t)h->last_modified, h->length,
                 h->no_store ? 1 : 0,
                 h->content_type ? h->content_type : "",
                 h->content_disposition ? h->content_disposition : "");
    if (n < 0 || n >= (int)sizeof(buf)) {
        n = snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT "\n%"
                     APR_OFF_T_FMT "\n%d\n\n\n",
                     (apr_int64_t)h->last_modified, h->length,
                     h->no_store ? 1 : 0);
    }
    if (fsetxattr(t->fd, HEAD_XATTR, buf, (size_t)n, 0) != 0) {
        return os_error();
    }
    return APR_SUCCESS;
}

/* A copy published with its metadata (commit_meta) and still the one at
 * its path: the master's headers come from that metadata. */
static void head_from_meta(zddc_store_tmp *t, const struct stat *sb,
                           zddc_store_head *h, apr_pool_t *p)
{
    zddc_store_obj o;
    zddc_store_meta m;
    struct stat at;

    if (lstat(t->target, &at) != 0 || !same_file(&at, sb)) {
        return;
    }
    o.st = t->st;
    o.kind = ZDDC_OBJ_FILE;
    o.path = t->target;
    if (disk_meta_get(&o, &m, p) == APR_SUCCESS) {
        h->content_type = m.content_type;
        h->content_disposition = m.content_disposition;
    }
}

static apr_status_t disk_head_get(zddc_store_tmp *t, zddc_store_head *h,
                                  apr_pool_t *p)
{
    char buf[HEAD_MAX + 1];
    char *line[5], *s;
    ssize_t n;
    int i;

    memset(h, 0, sizeof(*h));
    h->length = -1;
    if (!t || t->fd < 0) {
        return APR_EINVAL;
    }
    n = fgetxattr(t->fd, HEAD_XATTR, buf, HEAD_MAX);
    if (n < 0 && errno == ENODATA) {
        struct stat sb;

        /* A head goes before the first body byte and only a commit takes
         * it away: with bytes there (or the commit's mark), the copy's
         * mtime and size are its Last-Modified and length. */
        if (fstat(t->fd, &sb) == 0 && (sb.st_size > 0
                                       || validated_on_fd(t->fd))) {
            h->last_modified = apr_time_from_sec(sb.st_mtime)
                               + sb.st_mtim.tv_nsec / 1000;
            h->length = (apr_off_t)sb.st_size;
            head_from_meta(t, &sb, h, p);
            return APR_SUCCESS;
        }
        return APR_ENOENT;
    }
    if (n < 0) {
        return os_error();
    }
    buf[n] = '\0';
    for (i = 0, s = buf; i < 5; i++) {
        char *nl = strchr(s, '\n');

        if (!nl) {
            return APR_ENOENT;
        }
        *nl = '\0';
        line[i] = s;
        s = nl + 1;
    }
    h->last_modified = (apr_time_t)apr_atoi64(line[0]);
    h->length = (apr_off_t)apr_atoi64(line[1]);
    h->no_store = line[2][0] == '1';
    h->content_type = line[3][0] ? apr_pstrdup(p, line[3]) : NULL;
    h->content_disposition = line[4][0] ? apr_pstrdup(p, line[4]) : NULL;
    return APR_SUCCESS;
}

zddc_store_obj *zddc_store_disk_obj_at(zddc_store *st, const char *fs_path,
                                       apr_pool_t *p)
{
    zddc_store_obj *o = apr_palloc(p, sizeof(*o));
    const char *base = strrchr(fs_path, '/');

    base = base ? base + 1 : fs_path;
    o->st = st;
    o->kind = !strcmp(base, ZDDC_SIDECAR_JSON) ? ZDDC_OBJ_LISTING_JSON
              : !strcmp(base, ZDDC_SIDECAR_HTML) ? ZDDC_OBJ_LISTING_HTML
              : ZDDC_OBJ_FILE;
    o->path = apr_pstrdup(p, fs_path);
    return o;
}

const char *zddc_store_disk_path(const zddc_store_obj *o)
{
    return o->path;
}

const char *zddc_store_disk_root(zddc_store *st)
{
    return st->root;
}

struct zddc_store_lock {
    int fd;
};

static apr_status_t lock_cleanup(void *data)
{
    zddc_store_lock *l = data;

    if (l->fd >= 0) {
        close(l->fd);           /* drops the flock */
        l->fd = -1;
    }
    return APR_SUCCESS;
}

/* An flock on the copy itself: no file is created or removed for it, the
 * kernel drops it when its holder dies, and each open is a holder of its
 * own, so it parts threads as well as processes. */
static apr_status_t disk_try_lock(zddc_store_obj *o, zddc_store_lock **lp,
                                  apr_pool_t *p)
{
    zddc_store_lock *l;
    int fd;

    *lp = NULL;
    if (!path_in_root(o->st, o->path)) {
        return APR_EINVAL;
    }
    fd = open(o->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return errno == ELOOP ? APR_ENOENT : os_error();
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        apr_status_t rv = errno == EWOULDBLOCK ? APR_EBUSY : os_error();

        close(fd);
        return rv;
    }
    l = apr_palloc(p, sizeof(*l));
    l->fd = fd;
    apr_pool_cleanup_register(p, l, lock_cleanup, apr_pool_cleanup_null);
    *lp = l;
    return APR_SUCCESS;
}

static void disk_unlock(zddc_store_lock *l)
{
    if (l) {
        lock_cleanup(l);
    }
}

const zddc_store_provider zddc_store_disk_provider = {
    .open_store = disk_open,
    .obj = disk_obj,
    .kind = disk_kind,
    .describe = disk_describe,
    .stat = disk_stat,
    .open = disk_open_obj,
    .begin = disk_begin,
    .write = disk_write,
    .commit = disk_commit,
    .discard = disk_discard,
    .follow = disk_follow,
    .unfollow = disk_unfollow,
    .put = disk_put,
    .touch = disk_touch,
    .validated_at = disk_validated_at,
    .remove = disk_remove,
    .purge = disk_purge,
    .drop_listing = disk_drop_listing,
    .list = disk_list,
    .get = disk_get,
    .head_set = disk_head_set,
    .head_get = disk_head_get,
    .meta_get = disk_meta_get,
    .meta_set = disk_meta_set,
    .try_lock = disk_try_lock,
    .unlock = disk_unlock,
    .commit_meta = disk_commit_meta
};
