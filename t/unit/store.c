/* Unit tests for the disk storage provider: adoption of the cache root,
 * path mapping, atomic writes, shared downloads, crashed writers' leftovers,
 * temp names, purges, listing and touch. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <apr_general.h>
#include <apr_strings.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "zddc_store_disk.h"
#include "zddc_util.h"

static const zddc_store_provider *sp = &zddc_store_disk_provider;

/* The provider's objects by where they live, for a test that looks at the
 * files themselves. */
#define AT(st, fs) zddc_store_disk_obj_at((st), (fs), pool)
#define map_path(st, url, kind, fsp) map_path_in((st), (url), (kind), (fsp), pool)

static apr_status_t map_path_in(zddc_store *st, const char *url,
                                zddc_obj_kind kind, const char **fs,
                                apr_pool_t *mp)
{
    zddc_store_obj *o = NULL;
    apr_status_t rv = sp->obj(st, url, kind, &o, mp);

    *fs = rv == APR_SUCCESS ? zddc_store_disk_path(o) : NULL;
    return rv;
}
static apr_pool_t *pool;
static char base[64];

static const char *at(const char *rel)
{
    return apr_pstrcat(pool, base, "/", rel, NULL);
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *read_file(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f) {
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void age(const char *path, int seconds)
{
    struct timeval tv[2];

    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= seconds;
    tv[1] = tv[0];
    utimes(path, tv);
}

static int count_tmps(const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int n = 0;

    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS) {
        return -1;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (!strncmp(fi.name, ZDDC_TMP_PREFIX, strlen(ZDDC_TMP_PREFIX))) {
            n++;
        }
    }
    apr_dir_close(d);
    return n;
}

/* The path of the one temp in dir, NULL when there is none. */
static const char *find_tmp(const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    const char *found = NULL;

    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS) {
        return NULL;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (!strncmp(fi.name, ZDDC_TMP_PREFIX, strlen(ZDDC_TMP_PREFIX))) {
            found = apr_pstrcat(pool, dir, "/", fi.name, NULL);
        }
    }
    apr_dir_close(d);
    return found;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static zddc_store *open_store(const char *root)
{
    zddc_store *st = NULL;
    const char *err = NULL;
    apr_status_t rv = sp->open_store(&st, root, ".htaccess", (apr_uid_t)-1,
                               (apr_gid_t)-1, &err, pool);

    if (rv != APR_SUCCESS) {
        printf("# open %s: %d %s\n", root, rv, err ? err : "");
        return NULL;
    }
    return st;
}

static void test_open(void)
{
    zddc_store *st = NULL;
    const char *err = NULL;
    apr_status_t rv;

    mkdir(at("busy"), 0755);
    write_file(at("busy/precious.txt"), "keep me");
    rv = sp->open_store(&st, at("busy"), NULL, (apr_uid_t)-1, (apr_gid_t)-1,
                  &err, pool);
    is_int(rv, APR_EEXIST, "non-empty root without marker is refused");
    ok(err && strstr(err, "is not empty and has no .zddc-cache marker")
       && strstr(err, "refusing to adopt it"), "refusal explains itself");
    ok(!exists(at("busy/.zddc-cache")), "refused root gets no marker");
    is_str(read_file(at("busy/precious.txt")), "keep me",
           "refused root is untouched");

    mkdir(at("empty"), 0755);
    st = open_store(at("empty"));
    ok(st != NULL, "empty root is adopted");
    ok(exists(at("empty/.zddc-cache")), "marker written in adopted root");

    st = open_store(at("new/deep/root/"));
    ok(st != NULL, "missing root is created");
    ok(exists(at("new/deep/root/.zddc-cache")), "marker written in new root");
    is_str(st ? zddc_store_disk_root(st) : NULL, at("new/deep/root"),
           "root() has no trailing slash");

    write_file(at("empty/.zddc-cache-tmp-old"), "x");
    age(at("empty/.zddc-cache-tmp-old"), 120);
    write_file(at("empty/.zddc-cache-tmp-young"), "x");
    write_file(at("empty/file"), "x");
    st = open_store(at("empty"));
    ok(st != NULL, "marked non-empty root is reopened");
    ok(!exists(at("empty/.zddc-cache-tmp-old")), "stale temp removed at open");
    ok(exists(at("empty/.zddc-cache-tmp-young")), "recent temp kept at open");
}

static void map_rejects(zddc_store *st, const char *url)
{
    const char *fs = NULL;
    char name[128];

    snprintf(name, sizeof(name), "map rejects '%s'", url);
    is_int(map_path(st, url, ZDDC_OBJ_FILE, &fs), APR_EINVAL, name);
}

static void test_map(zddc_store *st, const char *root)
{
    const char *fs = NULL;

    map_path(st, "/a/b c.pdf", ZDDC_OBJ_FILE, &fs);
    is_str(fs, apr_pstrcat(pool, root, "/a/b c.pdf", NULL), "map a file");
    map_path(st, "/", ZDDC_OBJ_DIR, &fs);
    is_str(fs, root, "map the root");
    map_path(st, "/d/", ZDDC_OBJ_LISTING_JSON, &fs);
    is_str(fs, apr_pstrcat(pool, root, "/d/.zddc-listing.json", NULL),
           "map a JSON sidecar");
    map_path(st, "/", ZDDC_OBJ_LISTING_HTML, &fs);
    is_str(fs, apr_pstrcat(pool, root, "/.zddc-listing.html", NULL),
           "map the root's HTML sidecar");
    map_rejects(st, "/../etc/passwd");
    map_rejects(st, "/a/../../b");
    map_rejects(st, "/.zddc-x");
    map_rejects(st, "/a/.zddc-listing.json");
    map_rejects(st, "/a/.htaccess");
}

static void test_put(zddc_store *st, const char *root)
{
    const char *fs;
    apr_finfo_t fi;
    apr_time_t mtime = apr_time_from_sec(1000000000);

    map_path(st, "/p/q/s.txt", ZDDC_OBJ_FILE, &fs);
    is_int(sp->put(AT(st, fs), "hello", 5, mtime, pool), APR_SUCCESS,
           "put creates parents and writes");
    is_str(read_file(fs), "hello", "put content");
    is_int(sp->stat(AT(st, fs), &fi, pool), APR_SUCCESS, "stat after put");
    is_int(fi.mtime, mtime, "put sets mtime");
    is_int(fi.size, 5, "stat size");
    is_int(count_tmps(apr_pstrcat(pool, root, "/p/q", NULL)), 0,
           "put leaves no temp");

    symlink(fs, apr_pstrcat(pool, root, "/p/q/link", NULL));
    is_int(sp->stat(AT(st, apr_pstrcat(pool, root, "/p/q/link", NULL)), &fi,
                    pool), APR_ENOENT, "stat of a symlink is ENOENT");

    /* A symlinked directory planted inside the root is not followed. */
    symlink("q", apr_pstrcat(pool, root, "/p/via", NULL));
    symlink("p", apr_pstrcat(pool, root, "/top", NULL));
    is_int(sp->stat(AT(st, apr_pstrcat(pool, root, "/p/via/s.txt", NULL)), &fi,
                    pool), APR_ENOENT,
           "stat through a symlinked directory is ENOENT");
    is_int(sp->stat(AT(st, apr_pstrcat(pool, root, "/top/q/s.txt", NULL)), &fi,
                    pool), APR_ENOENT,
           "stat through a symlinked top directory is ENOENT");
    is_int(sp->stat(AT(st, apr_pstrcat(pool, root, "/p/q", NULL)), &fi, pool),
           APR_SUCCESS, "stat of a real directory");
    is_int(sp->stat(AT(st, root), &fi, pool), APR_SUCCESS, "stat of the root");
    is_int(fi.filetype, APR_DIR, "the root is a directory");
    unlink(apr_pstrcat(pool, root, "/p/via", NULL));
    unlink(apr_pstrcat(pool, root, "/top", NULL));

    /* A directory removed behind the store's back moments after it was
     * checked is made again. */
    map_path(st, "/gone/a/s.txt", ZDDC_OBJ_FILE, &fs);
    sp->put(AT(st, fs), "one", 3, 0, pool);
    unlink(fs);
    rmdir(apr_pstrcat(pool, root, "/gone/a", NULL));
    is_int(sp->put(AT(st, fs), "two", 3, 0, pool), APR_SUCCESS,
           "put into a directory removed since it was checked");
    is_str(read_file(fs), "two", "... recreates it");
}

static void test_write(zddc_store *st, const char *root)
{
    const char *fs;
    zddc_store_tmp *t = NULL;
    int leader = -1;
    apr_finfo_t fi;
    apr_pool_t *sub;
    apr_array_header_t *arr;
    const char *dir = apr_pstrcat(pool, root, "/w", NULL);

    map_path(st, "/w/doc.pdf", ZDDC_OBJ_FILE, &fs);
    sp->put(AT(st, fs), "old", 3, 0, pool);

    is_int(sp->begin(AT(st, fs), &t, &leader, pool), APR_SUCCESS, "begin");
    is_int(leader, 1, "first writer leads");
    is_int(sp->write(t, "new ", 4), APR_SUCCESS, "write");
    sp->write(t, "data", 4);
    is_str(read_file(fs), "old", "target untouched before commit");
    is_int(count_tmps(dir), 1, "one temp while writing");
    is_int(sp->commit(t, apr_time_from_sec(1234567890)), APR_SUCCESS,
           "commit");
    is_str(read_file(fs), "new data", "commit publishes");
    sp->stat(AT(st, fs), &fi, pool);
    is_int(fi.mtime, apr_time_from_sec(1234567890), "commit sets mtime");
    is_int(count_tmps(dir), 0, "no temp after commit");

    sp->begin(AT(st, fs), &t, &leader, pool);
    sp->write(t, "junk", 4);
    sp->discard(t);
    is_str(read_file(fs), "new data", "discard keeps the previous file");
    is_int(count_tmps(dir), 0, "no temp after discard");

    apr_pool_create(&sub, pool);
    sp->begin(AT(st, fs), &t, &leader, sub);
    sp->write(t, "junk", 4);
    apr_pool_destroy(sub);
    is_str(read_file(fs), "new data", "pool death keeps the previous file");
    is_int(count_tmps(dir), 0, "pool death removes the temp");

    write_file(apr_pstrcat(pool, dir, "/.zddc-cache-tmp-crashed", NULL), "x");
    age(apr_pstrcat(pool, dir, "/.zddc-cache-tmp-crashed", NULL), 300);
    sp->begin(AT(st, fs), &t, &leader, pool);
    sp->discard(t);
    is_int(count_tmps(dir), 1, "begin does not sweep its directory");
    sp->list(st, "/w/", &arr, pool);
    is_int(count_tmps(dir), 0, "list sweeps the stale temp");

    is_int(sp->begin(AT(st, apr_pstrcat(pool, dir, "/.zddc-x", NULL)), &t,
                     &leader, pool), APR_EINVAL,
           "begin refuses a reserved name");

    symlink(base, apr_pstrcat(pool, root, "/escape", NULL));
    ok(sp->begin(AT(st, apr_pstrcat(pool, root, "/escape/x/y", NULL)), &t,
                 &leader, pool) != APR_SUCCESS,
       "begin refuses a symlinked parent");
    ok(!exists(at("x")), "nothing created through the symlink");
    unlink(apr_pstrcat(pool, root, "/escape", NULL));

    /* A directory removed behind the store's back (another thread's purge)
     * right after a write into it is created again by the next write. */
    map_path(st, "/gone/a.pdf", ZDDC_OBJ_FILE, &fs);
    sp->begin(AT(st, fs), &t, &leader, pool);
    sp->write(t, "a", 1);
    sp->commit(t, 0);
    unlink(fs);
    rmdir(apr_pstrcat(pool, root, "/gone", NULL));
    map_path(st, "/gone/b.pdf", ZDDC_OBJ_FILE, &fs);
    is_int(sp->begin(AT(st, fs), &t, &leader, pool), APR_SUCCESS,
           "begin right after its directory vanished");
    sp->write(t, "b", 1);
    is_int(sp->commit(t, 0), APR_SUCCESS, "... and publishes");
    is_str(read_file(fs), "b", "... into the recreated directory");

    /* Moving to a sibling directory checks the segment that differs. */
    map_path(st, "/sib/a/f.pdf", ZDDC_OBJ_FILE, &fs);
    sp->put(AT(st, fs), "a", 1, 0, pool);
    is_int(sp->stat(AT(st, fs), &fi, pool), APR_SUCCESS, "stat in /sib/a");
    symlink("a", apr_pstrcat(pool, root, "/sib/b", NULL));
    map_path(st, "/sib/b/f.pdf", ZDDC_OBJ_FILE, &fs);
    is_int(sp->stat(AT(st, fs), &fi, pool), APR_ENOENT,
           "stat through a symlinked sibling of a trusted directory: ENOENT");
    ok(sp->begin(AT(st, fs), &t, &leader, pool) != APR_SUCCESS,
       "begin through a symlinked sibling of a trusted directory refused");

    /* A directory chain checked moments ago may not hide a symlink planted
     * since, once the trust has lapsed. */
    map_path(st, "/lapse/a.pdf", ZDDC_OBJ_FILE, &fs);
    sp->put(AT(st, fs), "a", 1, 0, pool);
    is_int(sp->stat(AT(st, fs), &fi, pool), APR_SUCCESS, "stat in a real dir");
    rename(apr_pstrcat(pool, root, "/lapse", NULL),
           apr_pstrcat(pool, root, "/lapse.real", NULL));
    symlink("lapse.real", apr_pstrcat(pool, root, "/lapse", NULL));
    apr_sleep(apr_time_from_msec(1100));
    is_int(sp->stat(AT(st, fs), &fi, pool), APR_ENOENT,
           "stat through a symlink planted since the last check: ENOENT");
}

static zddc_follow_e follow_all(zddc_store_tmp *t, char *out, apr_size_t cap,
                                apr_size_t *got);

static void test_follow(zddc_store *st)
{
    const char *fs;
    zddc_store_tmp *a = NULL, *b = NULL;
    int la = -1, lb = -1;
    char buf[64];
    apr_size_t len;
    zddc_follow_e e;
    pid_t pid;
    int status = -1;

    map_path(st, "/f/shared.bin", ZDDC_OBJ_FILE, &fs);
    sp->begin(AT(st, fs), &a, &la, pool);
    is_int(la, 1, "first begin leads");
    sp->write(a, "abc", 3);
    is_int(sp->begin(AT(st, fs), &b, &lb, pool), APR_SUCCESS, "second begin");
    is_int(lb, 0, "second begin follows");

    len = sizeof(buf);
    e = sp->follow(b, buf, &len);
    is_int(e, ZDDC_FOLLOW_MORE, "follower sees bytes");
    is_int(len == 3 && !memcmp(buf, "abc", 3), 1, "follower reads 'abc'");
    len = sizeof(buf);
    is_int(sp->follow(b, buf, &len), ZDDC_FOLLOW_WAIT, "follower waits");

    pid = fork();
    if (pid == 0) {
        zddc_store_tmp *c = NULL;
        int lc = -1;
        apr_status_t rv = sp->begin(AT(st, fs), &c, &lc, pool);
        _exit(rv == APR_SUCCESS && lc == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "another process follows too");

    sp->write(a, "def", 3);
    sp->commit(a, 0);
    len = sizeof(buf);
    e = sp->follow(b, buf, &len);
    is_int(e, ZDDC_FOLLOW_MORE, "follower drains after commit");
    is_int(len == 3 && !memcmp(buf, "def", 3), 1, "follower reads 'def'");
    len = sizeof(buf);
    is_int(sp->follow(b, buf, &len), ZDDC_FOLLOW_PUBLISHED,
           "follower sees the publish");
    sp->unfollow(b);

    sp->begin(AT(st, fs), &a, &la, pool);
    sp->begin(AT(st, fs), &b, &lb, pool);
    is_int(la * 10 + lb, 10, "leader and follower again");
    sp->write(a, "xy", 2);
    sp->discard(a);
    len = sizeof(buf);
    sp->follow(b, buf, &len);
    len = sizeof(buf);
    is_int(sp->follow(b, buf, &len), ZDDC_FOLLOW_FAILED,
           "follower sees the discard");
    sp->unfollow(b);
    is_str(read_file(fs), "abcdef", "published file intact after discard");

    /* Published, then replaced by a newer download before the follower
     * looked again: it still read one whole, published revision. */
    sp->begin(AT(st, fs), &a, &la, pool);
    sp->begin(AT(st, fs), &b, &lb, pool);
    is_int(la * 10 + lb, 10, "leader and follower, a third time");
    sp->write(a, "rev1", 4);
    sp->commit(a, 0);
    sp->begin(AT(st, fs), &a, &la, pool);
    is_int(la, 1, "a newer download leads");
    sp->write(a, "rev2", 4);
    sp->commit(a, 0);
    {
        apr_size_t got = 0;

        is_int(follow_all(b, buf, sizeof(buf), &got), ZDDC_FOLLOW_PUBLISHED,
               "the follower of a replaced publish sees it published");
        is_str(buf, "rev1", "with the revision it followed");
    }
    sp->unfollow(b);
    is_str(read_file(fs), "rev2", "the newer revision is the copy");
}

/* Follow t until it stops moving or settles; the bytes go to out. */
static zddc_follow_e follow_all(zddc_store_tmp *t, char *out, apr_size_t cap,
                                apr_size_t *got)
{
    zddc_follow_e e = ZDDC_FOLLOW_FAILED;
    int waits;

    *got = 0;
    for (waits = 0; waits < 400; waits++) {
        apr_size_t len = cap - *got;

        e = sp->follow(t, out + *got, &len);
        if (e == ZDDC_FOLLOW_MORE) {
            *got += len;
            continue;
        }
        if (e != ZDDC_FOLLOW_WAIT) {
            break;
        }
        apr_sleep(apr_time_from_msec(5));
    }
    out[*got] = '\0';
    return e;
}

/* A leader SIGKILLed mid-download leaves a partial temp. The next request
 * must lead, even while someone else is looking at the leftover, and no
 * follower may ever see the leftover's bytes. */
static void test_dead_leader(zddc_store *st, const char *root)
{
    const char *fs = apr_pstrcat(pool, root, "/k/dead.bin", NULL);
    const char *tmp;
    zddc_store_tmp *a = NULL, *b = NULL;
    int la = -1, lb = -1, probe, status = -1;
    char buf[64];
    apr_size_t got;
    pid_t pid;

    pid = fork();
    if (pid == 0) {
        zddc_store_tmp *c = NULL;
        int lc = -1;

        if (sp->begin(AT(st, fs), &c, &lc, pool) == APR_SUCCESS && lc) {
            sp->write(c, "stale", 5);
        }
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status), "leader killed");
    tmp = find_tmp(apr_pstrcat(pool, root, "/k", NULL));
    if (!ok(tmp != NULL, "it left a temp")) {
        return;
    }
    is_str(read_file(tmp), "stale", "it left a partial temp");

    /* Someone holding the leftover open and locked (as probes once did). */
    probe = open(tmp, O_RDONLY);
    flock(probe, LOCK_SH);
    is_int(sp->begin(AT(st, fs), &a, &la, pool), APR_SUCCESS,
           "begin over a leftover");
    is_int(la, 1, "a leftover held by a prober is not a leader");
    close(probe);
    is_int(sp->begin(AT(st, fs), &b, &lb, pool), APR_SUCCESS, "second begin");
    is_int(lb, 0, "the second request follows the new leader");
    sp->write(a, "fresh", 5);
    sp->commit(a, 0);
    is_int(follow_all(b, buf, sizeof(buf), &got), ZDDC_FOLLOW_PUBLISHED,
           "follower sees the publish");
    is_str(buf, "fresh", "follower got the new bytes only");
    sp->unfollow(b);
    is_str(read_file(fs), "fresh", "published file is the new download");

    /* An unlocked leftover with bytes, nobody around: replaced at once. */
    write_file(tmp, "stale");
    sp->begin(AT(st, fs), &a, &la, pool);
    sp->begin(AT(st, fs), &b, &lb, pool);
    is_int(la * 10 + lb, 10, "leftover with bytes: lead, then follow");
    sp->write(a, "new", 3);
    sp->discard(a);
    is_int(follow_all(b, buf, sizeof(buf), &got), ZDDC_FOLLOW_FAILED,
           "follower sees the discard");
    is_str(buf, "new", "follower never saw the leftover");
    sp->unfollow(b);

    /* An empty leftover: an old one is taken over at once, a young one
     * after a short wait for a lock that never comes. */
    write_file(tmp, "");
    age(tmp, 10);
    sp->begin(AT(st, fs), &a, &la, pool);
    is_int(la, 1, "old empty leftover: lead");
    sp->discard(a);
    write_file(tmp, "");
    {
        apr_time_t t0 = apr_time_now();

        sp->begin(AT(st, fs), &a, &la, pool);
        is_int(la, 1, "young empty leftover: lead");
        ok(apr_time_now() - t0 >= apr_time_from_msec(50),
           "young empty leftover: after waiting for its lock");
        sp->discard(a);
    }
    is_int(count_tmps(apr_pstrcat(pool, root, "/k", NULL)), 0,
           "no temp left behind");
}

/* A leader that created its temp but has not locked it yet is followed,
 * not raced. */
static void test_leader_before_lock(zddc_store *st, const char *root)
{
    const char *fs = apr_pstrcat(pool, root, "/k/slow.bin", NULL);
    const char *tmp = apr_pstrcat(pool, root,
                                  "/k/" ZDDC_TMP_PREFIX "slow.bin", NULL);
    zddc_store_tmp *b = NULL;
    int lb = -1, ready[2], go[2], status = -1;
    char buf[64], c = 0;
    apr_size_t got;
    pid_t pid;

    if (pipe(ready) != 0 || pipe(go) != 0) {
        ok(0, "pipes");
        return;
    }
    pid = fork();
    if (pid == 0) {
        struct flock fl;
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644);

        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (write(ready[1], "r", 1) != 1) {
            _exit(1);
        }
        usleep(30000);
        if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl) != 0
            || write(fd, "live", 4) != 4 || read(go[0], &c, 1) != 1) {
            _exit(1);
        }
        _exit(0);
    }
    if (read(ready[0], &c, 1) != 1) {
        ok(0, "child ready");
    }
    is_int(sp->begin(AT(st, fs), &b, &lb, pool), APR_SUCCESS,
           "begin while a leader is between create and lock");
    is_int(lb, 0, "it follows that leader");
    {
        apr_size_t len = 0;
        int waits;

        got = 0;
        for (waits = 0; waits < 400 && got < 4; waits++) {
            len = sizeof(buf) - 1 - got;
            if (sp->follow(b, buf + got, &len) == ZDDC_FOLLOW_MORE) {
                got += len;
            }
            else {
                apr_sleep(apr_time_from_msec(5));
            }
        }
        buf[got] = '\0';
    }
    is_str(buf, "live", "follower reads the leader's bytes");
    if (write(go[1], "g", 1) != 1) {
        ok(0, "child told");
    }
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "leader ran as planned");
    is_int(follow_all(b, buf, sizeof(buf), &got), ZDDC_FOLLOW_FAILED,
           "leader gone without publishing: FAILED");
    sp->unfollow(b);
    unlink(tmp);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

/* The sweep leaves a live leader's temp alone however old it looks, and
 * removes an old leftover even while someone holds it open. */
static void test_sweep(zddc_store *st, const char *root)
{
    const char *fs = apr_pstrcat(pool, root, "/m/live.bin", NULL);
    const char *tmp;
    const char *old = apr_pstrcat(pool, root,
                                  "/m/" ZDDC_TMP_PREFIX "old.bin", NULL);
    zddc_store_tmp *a = NULL;
    apr_array_header_t *arr;
    int la = -1, probe;

    sp->begin(AT(st, fs), &a, &la, pool);
    sp->write(a, "slow", 4);
    tmp = find_tmp(apr_pstrcat(pool, root, "/m", NULL));
    if (!ok(tmp != NULL, "a live leader's temp")) {
        sp->discard(a);
        return;
    }
    age(tmp, 120);
    write_file(old, "x");
    age(old, 120);
    probe = open(old, O_RDONLY);
    flock(probe, LOCK_SH);
    sp->list(st, "/m/", &arr, pool);
    ok(exists(tmp), "sweep keeps a live leader's old temp");
    ok(!exists(old), "sweep removes an old leftover held open");
    close(probe);
    is_int(sp->commit(a, 0), APR_SUCCESS, "the slow leader publishes");
    is_str(read_file(fs), "slow", "its bytes");
}

/* Temps are named after their target: distinct names never share one. */
static void test_tmp_names(zddc_store *st, const char *root)
{
    const char *dir = apr_pstrcat(pool, root, "/n", NULL);
    zddc_store_tmp *a = NULL, *b = NULL;
    int la = -1, lb = -1;
    char l1[251], l2[251], s238[239], s239[240], forged[240];
    const char *name;

    sp->begin(AT(st, apr_pstrcat(pool, dir, "/a.bin", NULL)), &a, &la, pool);
    ok(exists(apr_pstrcat(pool, dir, "/" ZDDC_TMP_PREFIX "a.bin", NULL)),
       "the temp is named after its target");
    sp->discard(a);

    memset(s238, 's', sizeof(s238) - 1);
    s238[sizeof(s238) - 1] = '\0';
    sp->begin(AT(st, apr_pstrcat(pool, dir, "/", s238, NULL)), &a, &la, pool);
    ok(exists(apr_pstrcat(pool, dir, "/" ZDDC_TMP_PREFIX, s238, NULL)),
       "a 238-byte name keeps its own temp name");
    sp->discard(a);

    memset(s239, 't', sizeof(s239) - 1);
    s239[sizeof(s239) - 1] = '\0';
    sp->begin(AT(st, apr_pstrcat(pool, dir, "/", s239, NULL)), &a, &la, pool);
    is_int(la, 1, "a 239-byte name leads");
    name = find_tmp(dir);
    name = name ? name + strlen(dir) + 1 : NULL;
    is_int(name ? (long long)strlen(name) : -1, NAME_MAX,
           "a long name's temp is exactly NAME_MAX bytes");
    ok(name && !strncmp(name, ZDDC_TMP_PREFIX "h",
                        strlen(ZDDC_TMP_PREFIX) + 1),
       "a long name's temp carries its hash");
    sp->discard(a);

    /* Two long names alike in their first 240 bytes. */
    memset(l1, 'x', sizeof(l1) - 1);
    l1[sizeof(l1) - 1] = '\0';
    memcpy(l2, l1, sizeof(l1));
    l2[245] = 'y';
    sp->begin(AT(st, apr_pstrcat(pool, dir, "/", l1, NULL)), &a, &la, pool);
    sp->begin(AT(st, apr_pstrcat(pool, dir, "/", l2, NULL)), &b, &lb, pool);
    is_int(la * 10 + lb, 11, "two long names each lead");
    sp->write(a, "one", 3);
    sp->write(b, "two", 3);
    sp->commit(a, 0);
    sp->commit(b, 0);
    is_str(read_file(apr_pstrcat(pool, dir, "/", l1, NULL)), "one",
           "first long name has its bytes");
    is_str(read_file(apr_pstrcat(pool, dir, "/", l2, NULL)), "two",
           "second long name has its bytes");

    /* A name spelling out a long name's temp cannot share it. */
    snprintf(forged, sizeof(forged), "h%016" APR_UINT64_T_HEX_FMT "-%.*s",
             zddc_hash64(l1), 221, l1);
    sp->begin(AT(st, apr_pstrcat(pool, dir, "/", l1, NULL)), &a, &la, pool);
    sp->begin(AT(st, apr_pstrcat(pool, dir, "/", forged, NULL)), &b, &lb, pool);
    is_int(la * 10 + lb, 11, "a name forged after a long temp leads");
    sp->discard(a);
    sp->discard(b);
    is_int(count_tmps(dir), 0, "no temp left behind");
}

static void test_purge(zddc_store *st, const char *root)
{
    int count = -1;
    const char *x = apr_pstrcat(pool, root, "/x", NULL);

    mkdir(at("outside"), 0755);
    write_file(at("outside/keep"), "outside");
    mkdir(x, 0755);
    write_file(apr_pstrcat(pool, x, "/file", NULL), "1");
    mkdir(apr_pstrcat(pool, x, "/sub", NULL), 0755);
    write_file(apr_pstrcat(pool, x, "/sub/file", NULL), "2");
    symlink(at("outside"), apr_pstrcat(pool, x, "/sub/out", NULL));
    symlink(at("outside/keep"), apr_pstrcat(pool, x, "/filelink", NULL));

    is_int(sp->purge(st, "/x/", &count, pool), APR_SUCCESS, "purge a dir");
    is_int(count, 6, "purge counts every entry");
    ok(!exists(x), "purged dir is gone");
    is_str(read_file(at("outside/keep")), "outside",
           "symlink target outside the root survives");

    symlink(at("outside"), apr_pstrcat(pool, root, "/lnk", NULL));
    is_int(sp->purge(st, "/lnk/keep", &count, pool), APR_ENOENT,
           "purge through a symlinked dir finds nothing");
    ok(exists(at("outside/keep")), "file behind a symlinked dir survives");
    is_int(sp->purge(st, "/lnk", &count, pool), APR_SUCCESS,
           "purge a symlink");
    is_int(count, 1, "symlink counted once");
    ok(exists(at("outside/keep")), "symlink purge does not follow");

    is_int(sp->purge(st, "/nothing/here", &count, pool), APR_ENOENT,
           "purge of nothing is ENOENT");
    is_int(sp->purge(st, "/.zddc-cache", &count, pool), APR_EINVAL,
           "purge refuses reserved names");

    sp->put(AT(st, apr_pstrcat(pool, root, "/" ZDDC_STATE_FILE, NULL)), "{}", 2,
            0, pool);
    sp->put(AT(st, apr_pstrcat(pool, root, "/top.txt", NULL)), "t", 1, 0, pool);
    is_int(sp->purge(st, "/", &count, pool), APR_SUCCESS, "purge the root");
    ok(count > 0, "purge of the root removed entries");
    ok(exists(apr_pstrcat(pool, root, "/" ZDDC_MARKER, NULL)),
       "purge of the root keeps the marker");
    ok(exists(apr_pstrcat(pool, root, "/" ZDDC_STATE_FILE, NULL)),
       "purge of the root keeps the state file");
    ok(!exists(apr_pstrcat(pool, root, "/top.txt", NULL)),
       "purge of the root removes content");
    ok(exists(root), "root itself survives");
}

static void test_list(zddc_store *st, const char *root)
{
    apr_array_header_t *arr = NULL;
    const char *d = apr_pstrcat(pool, root, "/l", NULL);
    int i, seen_a = 0, seen_b = 0, seen_link = 0, reserved = 0;

    mkdir(d, 0755);
    write_file(apr_pstrcat(pool, d, "/a", NULL), "a");
    mkdir(apr_pstrcat(pool, d, "/b", NULL), 0755);
    symlink(apr_pstrcat(pool, d, "/b", NULL),
            apr_pstrcat(pool, d, "/link", NULL));
    write_file(apr_pstrcat(pool, d, "/" ZDDC_SIDECAR_JSON, NULL), "[]");
    write_file(apr_pstrcat(pool, d, "/.zddc-cache-tmp-stale", NULL), "x");
    age(apr_pstrcat(pool, d, "/.zddc-cache-tmp-stale", NULL), 120);

    is_int(sp->list(st, "/l/", &arr, pool), APR_SUCCESS, "list");
    for (i = 0; arr && i < arr->nelts; i++) {
        zddc_store_entry *e = &APR_ARRAY_IDX(arr, i, zddc_store_entry);

        if (!strcmp(e->name, "a")) {
            seen_a = !e->is_dir;
        }
        else if (!strcmp(e->name, "b")) {
            seen_b = e->is_dir;
        }
        else if (!strcmp(e->name, "link")) {
            seen_link = !e->is_dir;
        }
        else if (!strncmp(e->name, ".zddc-", 6)) {
            reserved++;
        }
    }
    is_int(arr ? arr->nelts : -1, 3, "list has three entries");
    ok(seen_a && seen_b && seen_link, "files, dirs and symlinks typed");
    is_int(reserved, 0, "list skips .zddc-* names");
    is_int(count_tmps(d), 0, "list removes stale temps");
    is_int(sp->list(st, "/missing/", &arr, pool), APR_ENOENT,
           "list of a missing dir is ENOENT");
    is_int(sp->list(st, "/l/link/", &arr, pool), APR_ENOENT,
           "list does not follow a symlinked dir");

    write_file(apr_pstrcat(pool, d, "/" ZDDC_SIDECAR_HTML, NULL), "<p>");
    is_int(sp->drop_listing(st, "/l/", pool), APR_SUCCESS, "drop_listing");
    ok(!exists(apr_pstrcat(pool, d, "/" ZDDC_SIDECAR_JSON, NULL))
       && !exists(apr_pstrcat(pool, d, "/" ZDDC_SIDECAR_HTML, NULL)),
       "both sidecars dropped");
}

static void test_touch(zddc_store *st, const char *root)
{
    const char *fs = apr_pstrcat(pool, root, "/t.txt", NULL);
    apr_time_t mtime = apr_time_from_sec(1500000000);
    apr_finfo_t before, after;
    apr_time_t v_before;

    sp->put(AT(st, fs), "t", 1, mtime, pool);
    sp->stat(AT(st, fs), &before, pool);
    v_before = sp->validated_at(AT(st, fs), &before);
    apr_sleep(apr_time_from_msec(1100));
    is_int(sp->touch(AT(st, fs)), APR_SUCCESS, "touch");
    sp->stat(AT(st, fs), &after, pool);
    is_int(after.mtime, mtime, "touch keeps mtime");
    ok(sp->validated_at(AT(st, fs), &after) > v_before,
       "touch moves validated_at");
    apr_sleep(apr_time_from_msec(20));
    chmod(fs, 0600);
    sp->stat(AT(st, fs), &before, pool);
    ok(before.ctime > after.ctime, "a chmod moves ctime");
    is_int(sp->validated_at(AT(st, fs), &before), sp->validated_at(AT(st, fs), &after),
           "but not validated_at, kept with the object");
}

/* Metadata kept with an object, bound to its content; the head a writer
 * publishes with its temp for followers; small objects read whole. */
static void test_meta(zddc_store *st, const char *root)
{
    const char *fs, *meta_file;
    zddc_store_meta m, got;
    zddc_store_head h, hg;
    zddc_store_tmp *lead, *fol;
    char *data;
    apr_size_t len;
    int leader = 0;

    map_path(st, "/m/doc.pdf", ZDDC_OBJ_FILE, &fs);
    sp->put(AT(st, fs), "v1", 2, apr_time_from_sec(1000000000), pool);
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_ENOENT,
           "no metadata before any was kept");
    memset(&m, 0, sizeof(m));
    m.validated_at = apr_time_from_sec(1234);
    m.no_validator = 1;
    m.etag = "\"abc\"";
    m.content_type = "application/pdf";
    m.content_disposition = "attachment;\r\n filename=\"x.pdf\"";
    is_int(sp->meta_set(AT(st, fs), &m, pool), APR_SUCCESS, "meta_set");
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_SUCCESS, "meta_get");
    ok(got.validated_at == m.validated_at && got.no_validator
       && got.etag && !strcmp(got.etag, "\"abc\"")
       && got.content_type && !strcmp(got.content_type, "application/pdf"),
       "the metadata comes back as kept");
    ok(got.content_disposition && !strchr(got.content_disposition, '\n'),
       "a header value stays on one line");
    meta_file = apr_pstrcat(pool, root, "/m/" ZDDC_META_DIR "/doc.pdf", NULL);
    ok(access(meta_file, F_OK) == 0, "kept under the reserved .zddc-meta/");
    sp->put(AT(st, fs), "v2", 2, apr_time_from_sec(1000000500), pool);
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_ENOENT,
           "a replaced object does not inherit the old metadata");
    ok(!got.no_validator && !got.etag, "and reads as none");
    sp->meta_set(AT(st, fs), &m, pool);
    sp->purge(st, "/m/doc.pdf", NULL, pool);
    ok(access(meta_file, F_OK) != 0, "a purge takes the metadata along");

    map_path(st, "/m/small.txt", ZDDC_OBJ_FILE, &fs);
    sp->put(AT(st, fs), "hello", 5, 0, pool);
    is_int(sp->get(AT(st, fs), 100, &data, &len, pool), APR_SUCCESS,
           "get reads a small object");
    ok(len == 5 && !strcmp(data, "hello"), "whole and NUL-terminated");
    is_int(sp->get(AT(st, fs), 4, &data, &len, pool), APR_EGENERAL,
           "get refuses past max");

    map_path(st, "/m/dl.pdf", ZDDC_OBJ_FILE, &fs);
    is_int(sp->begin(AT(st, fs), &lead, &leader, pool), APR_SUCCESS, "begin");
    ok(leader, "the first writer leads");
    is_int(sp->begin(AT(st, fs), &fol, &leader, pool), APR_SUCCESS,
           "a second begin follows");
    is_int(sp->head_get(fol, &hg, pool), APR_ENOENT,
           "no head before the writer publishes one");
    memset(&h, 0, sizeof(h));
    h.last_modified = apr_time_from_sec(1700000000);
    h.length = 12345;
    h.content_type = "application/pdf";
    is_int(sp->head_set(lead, &h), APR_SUCCESS, "the leader publishes a head");
    is_int(sp->head_get(fol, &hg, pool), APR_SUCCESS,
           "the follower reads it");
    ok(hg.last_modified == h.last_modified && hg.length == 12345
       && !hg.no_store && hg.content_type
       && !strcmp(hg.content_type, "application/pdf")
       && !hg.content_disposition, "as published");
    sp->unfollow(fol);
    sp->discard(lead);

    /* The commit takes the head away (on ext4 "validated at" then fits in
     * the inode, not an xattr block a warm walk would rewrite for every
     * copy); a follower still reads Last-Modified and length from the
     * copy itself. */
    is_int(sp->begin(AT(st, fs), &lead, &leader, pool), APR_SUCCESS,
           "begin again");
    sp->begin(AT(st, fs), &fol, &leader, pool);
    sp->head_set(lead, &h);
    sp->write(lead, "0123456789", 10);
    is_int(sp->commit(lead, apr_time_from_sec(1700000000)), APR_SUCCESS,
           "commit");
    ok(getxattr(fs, "user.zddc.head", NULL, 0) < 0 && errno == ENODATA,
       "the published copy keeps no head");
    ok(getxattr(fs, "user.zddc.validated", NULL, 0) > 0,
       "... but its validated-at");
    memset(&hg, 0, sizeof(hg));
    is_int(sp->head_get(fol, &hg, pool), APR_SUCCESS,
           "a follower reads a head after the commit");
    ok(hg.last_modified == apr_time_from_sec(1700000000) && hg.length == 10
       && !hg.no_store, "from the copy's mtime and size");
    sp->unfollow(fol);

    /* commit_meta publishes the copy with its metadata: it is there and
     * bound to the copy the moment the copy is (a reader between a commit
     * and a meta_set found the copy without the master's headers). */
    is_int(sp->begin(AT(st, fs), &lead, &leader, pool), APR_SUCCESS,
           "begin for commit_meta");
    sp->begin(AT(st, fs), &fol, &leader, pool);
    sp->write(lead, "fresh", 5);
    memset(&m, 0, sizeof(m));
    m.content_disposition = "attachment; filename=\"dl.pdf\"";
    m.content_type = "application/pdf";
    ok(sp->commit_meta != NULL, "the disk provider has commit_meta");
    is_int(sp->commit_meta(lead, apr_time_from_sec(1700000000), &m),
           APR_SUCCESS, "commit_meta");
    /* A follower that asks for the head only after the commit took it
     * away still gets the master's headers, from the copy's metadata. */
    memset(&hg, 0, sizeof(hg));
    is_int(sp->head_get(fol, &hg, pool), APR_SUCCESS,
           "a follower reads a head after commit_meta");
    ok(hg.length == 5 && hg.content_type
       && !strcmp(hg.content_type, "application/pdf")
       && hg.content_disposition
       && !strcmp(hg.content_disposition, "attachment; filename=\"dl.pdf\""),
       "with the type and disposition committed with the copy");
    sp->unfollow(fol);
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_SUCCESS,
           "the published copy has its metadata");
    ok(got.content_disposition
       && !strcmp(got.content_disposition, "attachment; filename=\"dl.pdf\"")
       && got.content_type && !strcmp(got.content_type, "application/pdf"),
       "as committed");
    sp->put(AT(st, fs), "other", 5, apr_time_from_sec(1700000100), pool);
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_ENOENT,
           "a copy replaced after it does not inherit it");

    /* A listing keeps its metadata with it, no .zddc-meta file. */
    map_path(st, "/ml/", ZDDC_OBJ_LISTING_JSON, &fs);
    sp->put(AT(st, fs), "[]", 2, 0, pool);
    memset(&m, 0, sizeof(m));
    m.validated_at = apr_time_from_sec(4321);
    m.etag = "\"lst\"";
    is_int(sp->meta_set(AT(st, fs), &m, pool), APR_SUCCESS,
           "meta_set of a listing");
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_SUCCESS,
           "meta_get of a listing");
    ok(got.etag && !strcmp(got.etag, "\"lst\"")
       && got.validated_at == m.validated_at, "its ETag comes back");
    ok(!exists(apr_pstrcat(pool, root, "/ml/" ZDDC_META_DIR, NULL)),
       "no .zddc-meta directory for it");
    sp->put(AT(st, fs), "[ ]", 3, 0, pool);
    is_int(sp->meta_get(AT(st, fs), &got, pool), APR_ENOENT,
           "a rewritten listing does not inherit the old ETag");
}

int main(void)
{
    zddc_store *st;
    const char *root;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    strcpy(base, "/tmp/zddc-store-XXXXXX");
    if (!mkdtemp(base)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    test_open();
    root = at("cache");
    st = open_store(root);
    if (!ok(st != NULL, "open the test store")) {
        return done();
    }
    test_map(st, root);
    test_put(st, root);
    test_write(st, root);
    test_follow(st);
    test_dead_leader(st, root);
    test_leader_before_lock(st, root);
    test_sweep(st, root);
    test_tmp_names(st, root);
    test_purge(st, root);
    test_list(st, root);
    test_touch(st, root);
    test_meta(st, root);

    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    apr_pool_destroy(pool);
    return done();
}
