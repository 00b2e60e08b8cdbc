/* Unit test of the disk store under concurrent threads (run by `make tsan`
 * under ThreadSanitizer too): writers, followers, purges, sidecar puts and
 * listings on shared targets; afterwards every file is one whole version
 * and no temp file is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "zddc_store_disk.h"

#define NTHREADS 6
#define NITER 150
#define HDR 10                  /* "T01I0042:" + the fill character */
#define BODY 3000

static const zddc_store_provider *sp = &zddc_store_disk_provider;

/* The provider's objects by where they live, for a test that looks at the
 * files themselves. */
#define AT(st, fs) zddc_store_disk_obj_at((st), (fs), p)
#define map_path(st, url, kind, fsp) map_path_in((st), (url), (kind), (fsp), p)

static apr_status_t map_path_in(zddc_store *st, const char *url,
                                zddc_obj_kind kind, const char **fs,
                                apr_pool_t *mp)
{
    zddc_store_obj *o = NULL;
    apr_status_t rv = sp->obj(st, url, kind, &o, mp);

    *fs = rv == APR_SUCCESS ? zddc_store_disk_path(o) : NULL;
    return rv;
}
static zddc_store *st;
static char base[64];
static const char *const targets[] = {
    "/p/a/f0.pdf", "/p/a/f1.pdf", "/p/b/f2.pdf", "/p/b/sub/f3.pdf",
    "/q/f4.pdf", "/q/f5.pdf"
};
#define NTARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

typedef struct {
    int id;
    int bad_reads;      /* a follower saw bytes of no single version */
    int published;      /* versions this thread published */
    int followed;       /* downloads this thread followed to a publish */
} worker_t;

/* Version v of a file: a header naming it, then BODY copies of one byte. */
static void version(char *out, int id, int iter)
{
    snprintf(out, HDR + 1, "T%02dI%04d:", id, iter);
    out[HDR - 1] = (char)('a' + (id * 7 + iter) % 26);
    memset(out + HDR, out[HDR - 1], BODY);
}

static int is_version(const char *buf, apr_size_t len)
{
    apr_size_t i;

    if (len != HDR + BODY || buf[0] != 'T' || buf[3] != 'I') {
        return 0;
    }
    for (i = HDR; i < len; i++) {
        if (buf[i] != buf[HDR - 1]) {
            return 0;
        }
    }
    return 1;
}

static void fetch(worker_t *w, int iter, const char *url, apr_pool_t *p)
{
    const char *fs;
    zddc_store_tmp *t = NULL;
    int leader = -1, waits;
    char buf[HDR + BODY + 1];
    apr_size_t got = 0;

    if (map_path(st, url, ZDDC_OBJ_FILE, &fs) != APR_SUCCESS
        || sp->begin(AT(st, fs), &t, &leader, p) != APR_SUCCESS) {
        return;
    }
    if (leader) {
        version(buf, w->id, iter);
        /* In three pieces, so followers see partial downloads. */
        if (sp->write(t, buf, HDR) != APR_SUCCESS
            || (apr_sleep(300), sp->write(t, buf + HDR, BODY / 2))
               != APR_SUCCESS
            || sp->write(t, buf + HDR + BODY / 2, BODY - BODY / 2)
               != APR_SUCCESS) {
            sp->discard(t);
            return;
        }
        if (iter % 9 == 0) {
            sp->discard(t);
        }
        else if (sp->commit(t, 0) == APR_SUCCESS) {
            w->published++;
        }
        return;
    }
    for (waits = 0; waits < 4000; waits++) {
        apr_size_t len = sizeof(buf) - got;
        zddc_follow_e e = sp->follow(t, buf + got, &len);

        if (e == ZDDC_FOLLOW_MORE) {
            got += len;
            if (got > HDR + BODY) {
                break;
            }
            continue;
        }
        if (e == ZDDC_FOLLOW_WAIT) {
            apr_sleep(1000);
            continue;
        }
        if (e == ZDDC_FOLLOW_PUBLISHED) {
            w->followed++;
            w->bad_reads += !is_version(buf, got);
        }
        break;
    }
    sp->unfollow(t);
}

static void *APR_THREAD_FUNC work(apr_thread_t *thd, void *data)
{
    worker_t *w = data;
    apr_pool_t *p;
    unsigned int seed = (unsigned int)w->id * 2654435761u;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < NITER; i++) {
        int r = rand_r(&seed) % 20;
        const char *fs;
        apr_array_header_t *entries;

        apr_pool_clear(p);
        if (r < 14) {
            fetch(w, i, targets[rand_r(&seed) % NTARGETS], p);
        }
        else if (r < 16) {
            sp->purge(st, r == 14 ? "/p/b" : "/q", NULL, p);
        }
        else if (r < 18) {
            if (map_path(st, "/p/a/", ZDDC_OBJ_LISTING_JSON, &fs)
                == APR_SUCCESS) {
                sp->put(AT(st, fs), "[]", 2, 0, p);
            }
            sp->drop_listing(st, "/q/", p);
        }
        else {
            sp->list(st, r == 18 ? "/p/a" : "/p/b", &entries, p);
            if (map_path(st, "/p/a", ZDDC_OBJ_DIR, &fs) == APR_SUCCESS) {
                sp->touch(AT(st, fs));
            }
        }
    }
    apr_pool_destroy(p);
    return NULL;
}

static int files_bad, tmps_left, files_seen;

static int check_entry(const char *path, const struct stat *sb, int flag,
                       struct FTW *ftw)
{
    const char *name = path + ftw->base;
    char buf[HDR + BODY + 2];
    FILE *f;
    size_t n;

    if (!strncmp(name, ZDDC_TMP_PREFIX, strlen(ZDDC_TMP_PREFIX))) {
        tmps_left++;
        printf("# temp left: %s\n", path);
    }
    if (flag != FTW_F || !strncmp(name, ".zddc-", 6)) {
        return 0;
    }
    files_seen++;
    f = fopen(path, "rb");
    n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f) {
        fclose(f);
    }
    if (!is_version(buf, n)) {
        files_bad++;
        printf("# not one whole version: %s (%lu bytes)\n", path,
               (unsigned long)n);
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

int main(void)
{
    apr_pool_t *pool;
    apr_thread_t *thd[NTHREADS];
    worker_t w[NTHREADS];
    const char *err = NULL, *root;
    apr_status_t trv;
    int i, bad_reads = 0, published = 0, followed = 0;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    strcpy(base, "/tmp/zddc-store-threads-XXXXXX");
    if (!mkdtemp(base)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    root = apr_pstrcat(pool, base, "/cache", NULL);
    if (!ok(sp->open_store(&st, root, ".htaccess", (apr_uid_t)-1, (apr_gid_t)-1,
                     &err, pool) == APR_SUCCESS, "open the store")) {
        return done();
    }
    for (i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        w[i].bad_reads = w[i].published = w[i].followed = 0;
        apr_thread_create(&thd[i], NULL, work, &w[i], pool);
    }
    for (i = 0; i < NTHREADS; i++) {
        apr_thread_join(&trv, thd[i]);
        bad_reads += w[i].bad_reads;
        published += w[i].published;
        followed += w[i].followed;
    }
    printf("# %d versions published, %d followed\n", published, followed);
    ok(published > NTHREADS, "threads published versions");
    ok(followed > 0, "threads followed others' downloads");
    is_int(bad_reads, 0, "every follower that saw a publish read one whole "
           "version");
    nftw(root, check_entry, 16, FTW_PHYS);
    ok(files_seen > 0, "files are on disk");
    is_int(files_bad, 0, "every file on disk is one whole version");
    is_int(tmps_left, 0, "no temp file is left");

    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    apr_pool_destroy(pool);
    apr_terminate();
    return done();
}
