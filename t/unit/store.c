/* Unit tests for the disk storage provider: adoption of the cache root,
 * path mapping, atomic writes, shared downloads, purges, listing and touch. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <apr_general.h>
#include <apr_strings.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "zddc_store.h"

static const zddc_store_provider *sp = &zddc_store_disk_provider;
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

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static zddc_store *open_store(const char *root)
{
    zddc_store *st = NULL;
    const char *err = NULL;
    apr_status_t rv = sp->open(&st, root, ".htaccess", (apr_uid_t)-1,
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
    rv = sp->open(&st, at("busy"), NULL, (apr_uid_t)-1, (apr_gid_t)-1,
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
    is_str(st ? sp->root(st) : NULL, at("new/deep/root"),
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
    is_int(sp->map(st, url, ZDDC_OBJ_FILE, &fs, pool), APR_EINVAL, name);
}

static void test_map(zddc_store *st, const char *root)
{
    const char *fs = NULL;

    sp->map(st, "/a/b c.pdf", ZDDC_OBJ_FILE, &fs, pool);
    is_str(fs, apr_pstrcat(pool, root, "/a/b c.pdf", NULL), "map a file");
    sp->map(st, "/", ZDDC_OBJ_DIR, &fs, pool);
    is_str(fs, root, "map the root");
    sp->map(st, "/d/", ZDDC_OBJ_LISTING_JSON, &fs, pool);
    is_str(fs, apr_pstrcat(pool, root, "/d/.zddc-listing.json", NULL),
           "map a JSON sidecar");
    sp->map(st, "/", ZDDC_OBJ_LISTING_HTML, &fs, pool);
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

    sp->map(st, "/p/q/s.txt", ZDDC_OBJ_FILE, &fs, pool);
    is_int(sp->put(st, fs, "hello", 5, mtime, pool), APR_SUCCESS,
           "put creates parents and writes");
    is_str(read_file(fs), "hello", "put content");
    is_int(sp->stat(st, fs, &fi, pool), APR_SUCCESS, "stat after put");
    is_int(fi.mtime, mtime, "put sets mtime");
    is_int(fi.size, 5, "stat size");
    is_int(count_tmps(apr_pstrcat(pool, root, "/p/q", NULL)), 0,
           "put leaves no temp");

    symlink(fs, apr_pstrcat(pool, root, "/p/q/link", NULL));
    is_int(sp->stat(st, apr_pstrcat(pool, root, "/p/q/link", NULL), &fi,
                    pool), APR_ENOENT, "stat of a symlink is ENOENT");
}

static void test_write(zddc_store *st, const char *root)
{
    const char *fs;
    zddc_store_tmp *t = NULL;
    int leader = -1;
    apr_finfo_t fi;
    apr_pool_t *sub;
    const char *dir = apr_pstrcat(pool, root, "/w", NULL);

    sp->map(st, "/w/doc.pdf", ZDDC_OBJ_FILE, &fs, pool);
    sp->put(st, fs, "old", 3, 0, pool);

    is_int(sp->begin(st, fs, &t, &leader, pool), APR_SUCCESS, "begin");
    is_int(leader, 1, "first writer leads");
    is_int(sp->write(t, "new ", 4), APR_SUCCESS, "write");
    sp->write(t, "data", 4);
    is_str(read_file(fs), "old", "target untouched before commit");
    is_int(count_tmps(dir), 1, "one temp while writing");
    is_int(sp->commit(t, apr_time_from_sec(1234567890)), APR_SUCCESS,
           "commit");
    is_str(read_file(fs), "new data", "commit publishes");
    sp->stat(st, fs, &fi, pool);
    is_int(fi.mtime, apr_time_from_sec(1234567890), "commit sets mtime");
    is_int(count_tmps(dir), 0, "no temp after commit");

    sp->begin(st, fs, &t, &leader, pool);
    sp->write(t, "junk", 4);
    sp->discard(t);
    is_str(read_file(fs), "new data", "discard keeps the previous file");
    is_int(count_tmps(dir), 0, "no temp after discard");

    apr_pool_create(&sub, pool);
    sp->begin(st, fs, &t, &leader, sub);
    sp->write(t, "junk", 4);
    apr_pool_destroy(sub);
    is_str(read_file(fs), "new data", "pool death keeps the previous file");
    is_int(count_tmps(dir), 0, "pool death removes the temp");

    write_file(apr_pstrcat(pool, dir, "/.zddc-cache-tmp-crashed", NULL), "x");
    age(apr_pstrcat(pool, dir, "/.zddc-cache-tmp-crashed", NULL), 300);
    sp->begin(st, fs, &t, &leader, pool);
    sp->discard(t);
    is_int(count_tmps(dir), 0, "begin removes stale temps in its directory");

    symlink(base, apr_pstrcat(pool, root, "/escape", NULL));
    ok(sp->begin(st, apr_pstrcat(pool, root, "/escape/x/y", NULL), &t,
                 &leader, pool) != APR_SUCCESS,
       "begin refuses a symlinked parent");
    ok(!exists(at("x")), "nothing created through the symlink");
    unlink(apr_pstrcat(pool, root, "/escape", NULL));
}

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

    sp->map(st, "/f/shared.bin", ZDDC_OBJ_FILE, &fs, pool);
    sp->begin(st, fs, &a, &la, pool);
    is_int(la, 1, "first begin leads");
    sp->write(a, "abc", 3);
    is_int(sp->begin(st, fs, &b, &lb, pool), APR_SUCCESS, "second begin");
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
        apr_status_t rv = sp->begin(st, fs, &c, &lc, pool);
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

    sp->begin(st, fs, &a, &la, pool);
    sp->begin(st, fs, &b, &lb, pool);
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

    sp->put(st, apr_pstrcat(pool, root, "/" ZDDC_STATE_FILE, NULL), "{}", 2,
            0, pool);
    sp->put(st, apr_pstrcat(pool, root, "/top.txt", NULL), "t", 1, 0, pool);
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

    sp->put(st, fs, "t", 1, mtime, pool);
    sp->stat(st, fs, &before, pool);
    apr_sleep(apr_time_from_msec(1100));
    is_int(sp->touch(st, fs), APR_SUCCESS, "touch");
    sp->stat(st, fs, &after, pool);
    is_int(after.mtime, mtime, "touch keeps mtime");
    ok(sp->validated_at(&after) > sp->validated_at(&before),
       "touch moves validated_at");
    is_int(sp->validated_at(&after), after.ctime, "validated_at is ctime");
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
    test_purge(st, root);
    test_list(st, root);
    test_touch(st, root);

    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    apr_pool_destroy(pool);
    return done();
}
