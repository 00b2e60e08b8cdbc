/* A second storage provider, in memory and recording, through the disk
 * provider's contract and under zddc_state.c: the interface is enough. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "zddc_store.h"
#include "zddc_util.h"
/* The state file code under test, built into this program alone (it
 * needs httpd's headers for the server configuration, no httpd code). */
#include "../../modules/zddc_state.c"

static apr_pool_t *pool;

/* ---- the in-memory provider ------------------------------------------- */

typedef struct {
    char *data;
    apr_size_t len;
    apr_time_t mtime, validated;
    apr_uint64_t version;       /* metadata is bound to one version */
    int has_meta;
    apr_uint64_t meta_version;
    zddc_store_meta meta;
} mem_item;

struct zddc_store {
    apr_pool_t *pool;
    apr_hash_t *items;          /* key -> mem_item */
    apr_hash_t *writing;        /* key -> the leader's zddc_store_tmp */
    apr_hash_t *locked;         /* key -> its zddc_store_lock */
    apr_array_header_t *log;    /* "op kind url" of each call */
    apr_uint64_t versions;
};

struct zddc_store_obj {
    zddc_store *st;
    zddc_obj_kind kind;
    const char *url;
    const char *key;
};

struct zddc_store_tmp {
    zddc_store *st;
    const char *key;
    int leader, done, published, has_head;
    char *buf;
    apr_size_t len, cap;
    apr_size_t offset;          /* follower: bytes read */
    struct zddc_store_tmp *lead; /* follower: whom it follows */
    zddc_store_head head;
};

static const char *kind_name(zddc_obj_kind k)
{
    static const char *const names[] = { "file", "dir", "json", "html",
                                         "state", "report" };
    return names[k];
}

static void mem_log(zddc_store *st, const char *op, const zddc_store_obj *o)
{
    APR_ARRAY_PUSH(st->log, const char *) =
        apr_psprintf(st->pool, "%s %s %s", op, o ? kind_name(o->kind) : "-",
                     o && o->url ? o->url : "-");
}

static apr_status_t mem_open_store(zddc_store **stp, const char *root,
                                   const char *afn, apr_uid_t uid,
                                   apr_gid_t gid, const char **err,
                                   apr_pool_t *p)
{
    zddc_store *st = apr_pcalloc(p, sizeof(*st));

    *err = NULL;
    st->pool = p;
    st->items = apr_hash_make(p);
    st->writing = apr_hash_make(p);
    st->locked = apr_hash_make(p);
    st->log = apr_array_make(p, 16, sizeof(const char *));
    *stp = st;
    return APR_SUCCESS;
}

static apr_status_t mem_obj(zddc_store *st, const char *url,
                            zddc_obj_kind kind, zddc_store_obj **op,
                            apr_pool_t *p)
{
    zddc_store_obj *o;
    const char *fs;

    *op = NULL;
    if (kind != ZDDC_OBJ_STATE
        && (!url || zddc_path_map(p, "/mem", url, ".htaccess", &fs)
                    != APR_SUCCESS)) {
        return APR_EINVAL;
    }
    o = apr_pcalloc(p, sizeof(*o));
    o->st = st;
    o->kind = kind;
    o->url = kind == ZDDC_OBJ_STATE ? NULL : apr_pstrdup(p, url);
    /* Files and directories share one name space, as on disk. */
    o->key = apr_pstrcat(p, kind == ZDDC_OBJ_DIR ? kind_name(ZDDC_OBJ_FILE)
                         : kind_name(kind), ":",
                         kind == ZDDC_OBJ_STATE ? "" : fs + 4, NULL);
    mem_log(st, "obj", o);
    *op = o;
    return APR_SUCCESS;
}

static zddc_obj_kind mem_kind(const zddc_store_obj *o)
{
    return o->kind;
}

static const char *mem_describe(const zddc_store_obj *o, apr_pool_t *p)
{
    return apr_pstrcat(p, "memory ", o->key, NULL);
}

static mem_item *item_of(const zddc_store_obj *o)
{
    return apr_hash_get(o->st->items, o->key, APR_HASH_KEY_STRING);
}

/* Whether anything is stored below the file key of o (a directory). */
static int mem_has_below(const zddc_store_obj *o)
{
    apr_hash_index_t *hi;
    const char *prefix = apr_pstrcat(pool, o->key, "/", NULL);

    if (!strcmp(o->key, "file:")) {
        return 1;                   /* the root */
    }
    for (hi = apr_hash_first(pool, o->st->items); hi; hi = apr_hash_next(hi)) {
        const char *k = apr_hash_this_key(hi);

        if (!strncmp(k, prefix, strlen(prefix))) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t mem_stat(zddc_store_obj *o, apr_finfo_t *fi,
                             apr_pool_t *p)
{
    mem_item *it = item_of(o);

    mem_log(o->st, "stat", o);
    memset(fi, 0, sizeof(*fi));
    if (it) {
        fi->filetype = APR_REG;
        fi->size = (apr_off_t)it->len;
        fi->mtime = it->mtime;
        fi->ctime = it->validated;
        fi->inode = (apr_ino_t)it->version;
        return APR_SUCCESS;
    }
    if (mem_has_below(o)) {
        fi->filetype = APR_DIR;
        return APR_SUCCESS;
    }
    return APR_ENOENT;
}

/* A file bucket needs a file: the bytes go to an unlinked temp file. */
static apr_status_t mem_open(zddc_store_obj *o, apr_int32_t flags,
                             apr_file_t **f, apr_pool_t *p)
{
    mem_item *it = item_of(o);
    char *tmpl = apr_pstrdup(p, "/tmp/zddc-mem-XXXXXX");
    apr_size_t n;
    apr_off_t at = 0;
    apr_status_t rv;

    mem_log(o->st, "open", o);
    *f = NULL;
    if (!it) {
        return APR_ENOENT;
    }
    rv = apr_file_mktemp(f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_READ
                         | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    unlink(tmpl);
    rv = apr_file_write_full(*f, it->data, it->len, &n);
    if (rv == APR_SUCCESS) {
        rv = apr_file_seek(*f, APR_SET, &at);
    }
    return rv;
}

static void mem_store(zddc_store *st, const char *key, const char *data,
                      apr_size_t len, apr_time_t mtime)
{
    mem_item *it = apr_pcalloc(st->pool, sizeof(*it));

    it->data = apr_pmemdup(st->pool, data, len + 1);
    it->data[len] = '\0';
    it->len = len;
    it->mtime = mtime ? mtime : apr_time_now();
    it->validated = apr_time_now();
    it->version = ++st->versions;
    apr_hash_set(st->items, apr_pstrdup(st->pool, key), APR_HASH_KEY_STRING,
                 it);
}

static apr_status_t mem_begin(zddc_store_obj *o, zddc_store_tmp **tp,
                              int *leader, apr_pool_t *p)
{
    zddc_store_tmp *lead = apr_hash_get(o->st->writing, o->key,
                                        APR_HASH_KEY_STRING);
    /* A leader outlives its caller's pool: followers read its bytes. */
    zddc_store_tmp *t = apr_pcalloc(lead ? p : o->st->pool, sizeof(*t));

    mem_log(o->st, "begin", o);
    t->st = o->st;
    t->key = apr_pstrdup(o->st->pool, o->key);
    if (lead) {
        t->lead = lead;
        *leader = 0;
    }
    else {
        t->leader = 1;
        t->cap = 64;
        t->buf = apr_palloc(o->st->pool, t->cap);
        apr_hash_set(o->st->writing, t->key, APR_HASH_KEY_STRING, t);
        *leader = 1;
    }
    *tp = t;
    return APR_SUCCESS;
}

static apr_status_t mem_write(zddc_store_tmp *t, const void *buf,
                              apr_size_t len)
{
    if (!t->leader || t->done) {
        return APR_EINVAL;
    }
    if (t->len + len > t->cap) {
        char *old = t->buf;

        while (t->len + len > t->cap) {
            t->cap *= 2;
        }
        t->buf = apr_palloc(t->st->pool, t->cap);
        memcpy(t->buf, old, t->len);
    }
    memcpy(t->buf + t->len, buf, len);
    t->len += len;
    return APR_SUCCESS;
}

static void mem_end(zddc_store_tmp *t, int publish, apr_time_t mtime)
{
    if (publish) {
        mem_store(t->st, t->key, t->buf, t->len, mtime);
    }
    t->done = 1;
    t->published = publish;
    apr_hash_set(t->st->writing, t->key, APR_HASH_KEY_STRING, NULL);
}

static apr_status_t mem_commit(zddc_store_tmp *t, apr_time_t mtime)
{
    if (!t->leader || t->done) {
        return APR_EINVAL;
    }
    mem_end(t, 1, mtime);
    return APR_SUCCESS;
}

static void mem_discard(zddc_store_tmp *t)
{
    if (t && t->leader && !t->done) {
        mem_end(t, 0, 0);
    }
}

/* A follower's leader lives as long as the store (its pool). */
static zddc_follow_e mem_follow(zddc_store_tmp *t, char *buf,
                                apr_size_t *len)
{
    zddc_store_tmp *l = t->lead;
    apr_size_t n;

    if (!l) {
        *len = 0;
        return ZDDC_FOLLOW_FAILED;
    }
    n = l->len - t->offset;
    if (n > 0) {
        n = n < *len ? n : *len;
        memcpy(buf, l->buf + t->offset, n);
        t->offset += n;
        *len = n;
        return ZDDC_FOLLOW_MORE;
    }
    *len = 0;
    if (!l->done) {
        return ZDDC_FOLLOW_WAIT;
    }
    return l->published ? ZDDC_FOLLOW_PUBLISHED : ZDDC_FOLLOW_FAILED;
}

static void mem_unfollow(zddc_store_tmp *t)
{
    t->lead = NULL;
}

static apr_status_t mem_put(zddc_store_obj *o, const void *data,
                            apr_size_t len, apr_time_t mtime, apr_pool_t *p)
{
    mem_log(o->st, "put", o);
    if (o->kind == ZDDC_OBJ_DIR) {
        return APR_EINVAL;
    }
    mem_store(o->st, o->key, data, len, mtime);
    return APR_SUCCESS;
}

static apr_status_t mem_touch(zddc_store_obj *o)
{
    mem_item *it = item_of(o);

    mem_log(o->st, "touch", o);
    if (!it) {
        return APR_ENOENT;
    }
    it->validated = apr_time_now();
    return APR_SUCCESS;
}

static apr_time_t mem_validated_at(zddc_store_obj *o, const apr_finfo_t *fi)
{
    mem_item *it = item_of(o);

    return it ? it->validated : fi->ctime;
}

static apr_status_t mem_remove(zddc_store_obj *o, apr_pool_t *p)
{
    mem_log(o->st, "remove", o);
    if (!item_of(o)) {
        return APR_ENOENT;
    }
    apr_hash_set(o->st->items, o->key, APR_HASH_KEY_STRING, NULL);
    return APR_SUCCESS;
}

/* Whether key is base or lies below it. */
static int at_or_below(const char *key, const char *base)
{
    apr_size_t n = strlen(base);

    return !strncmp(key, base, n) && (key[n] == '\0' || key[n] == '/');
}

/* Everything at or below url: its file, what lies below, its listings. */
static apr_status_t mem_purge(zddc_store *st, const char *url, int *count,
                              apr_pool_t *p)
{
    zddc_store_obj *o;
    apr_hash_index_t *hi;
    const char *json, *html;
    int n = 0;

    if (mem_obj(st, url, ZDDC_OBJ_FILE, &o, p) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    mem_log(st, "purge", o);
    json = apr_pstrcat(p, "json:", o->key + 5, NULL);
    html = apr_pstrcat(p, "html:", o->key + 5, NULL);
    for (hi = apr_hash_first(p, st->items); hi; hi = apr_hash_next(hi)) {
        const char *k = apr_hash_this_key(hi);

        if (at_or_below(k, o->key) || at_or_below(k, json)
            || at_or_below(k, html)) {
            apr_hash_set(st->items, k, APR_HASH_KEY_STRING, NULL);
            n++;
        }
    }
    if (count) {
        *count = n;
    }
    return n ? APR_SUCCESS : APR_ENOENT;
}

static apr_status_t mem_drop_listing(zddc_store *st, const char *url_dir,
                                     apr_pool_t *p)
{
    zddc_store_obj *j, *h;

    if (mem_obj(st, url_dir, ZDDC_OBJ_LISTING_JSON, &j, p) != APR_SUCCESS
        || mem_obj(st, url_dir, ZDDC_OBJ_LISTING_HTML, &h, p)
           != APR_SUCCESS) {
        return APR_EINVAL;
    }
    apr_hash_set(st->items, j->key, APR_HASH_KEY_STRING, NULL);
    apr_hash_set(st->items, h->key, APR_HASH_KEY_STRING, NULL);
    return APR_SUCCESS;
}

static apr_status_t mem_list(zddc_store *st, const char *url_dir,
                             apr_array_header_t **entries, apr_pool_t *p)
{
    zddc_store_obj *o;
    apr_hash_index_t *hi;
    apr_hash_t *seen = apr_hash_make(p);
    const char *prefix;

    *entries = apr_array_make(p, 4, sizeof(zddc_store_entry));
    if (mem_obj(st, url_dir, ZDDC_OBJ_DIR, &o, p) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    prefix = apr_pstrcat(p, o->key, "/", NULL);
    for (hi = apr_hash_first(p, st->items); hi; hi = apr_hash_next(hi)) {
        const char *k = apr_hash_this_key(hi);
        const mem_item *it = apr_hash_this_val(hi);
        const char *rest, *slash;
        zddc_store_entry *e;

        if (strncmp(k, prefix, strlen(prefix))) {
            continue;
        }
        rest = k + strlen(prefix);
        slash = strchr(rest, '/');
        rest = slash ? apr_pstrmemdup(p, rest, (apr_size_t)(slash - rest))
                     : rest;
        if (apr_hash_get(seen, rest, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, rest, APR_HASH_KEY_STRING, "");
        e = apr_array_push(*entries);
        e->name = rest;
        e->is_dir = slash != NULL;
        e->is_reg = slash == NULL;
        e->size = slash ? 0 : (apr_off_t)it->len;
        e->mtime = slash ? 0 : it->mtime;
    }
    return APR_SUCCESS;
}

static apr_status_t mem_get(zddc_store_obj *o, apr_size_t max, char **data,
                            apr_size_t *len, apr_pool_t *p)
{
    mem_item *it = item_of(o);

    mem_log(o->st, "get", o);
    *data = NULL;
    *len = 0;
    if (!it) {
        return APR_ENOENT;
    }
    if (it->len > max) {
        return APR_EGENERAL;
    }
    *data = apr_pmemdup(p, it->data, it->len + 1);
    *len = it->len;
    return APR_SUCCESS;
}

static apr_status_t mem_meta_get(zddc_store_obj *o, zddc_store_meta *m,
                                 apr_pool_t *p)
{
    mem_item *it = item_of(o);

    mem_log(o->st, "meta_get", o);
    memset(m, 0, sizeof(*m));
    if (!it) {
        return APR_ENOENT;
    }
    if (!it->has_meta || it->meta_version != it->version) {
        return APR_ENOENT;
    }
    *m = it->meta;
    return APR_SUCCESS;
}

static apr_status_t mem_meta_set(zddc_store_obj *o, const zddc_store_meta *m,
                                 apr_pool_t *p)
{
    mem_item *it = item_of(o);

    mem_log(o->st, "meta_set", o);
    if (!it) {
        return APR_ENOENT;
    }
    it->meta.validated_at = m->validated_at;
    it->meta.no_validator = m->no_validator;
    it->meta.etag = m->etag ? apr_pstrdup(o->st->pool, m->etag) : NULL;
    it->meta.content_type = m->content_type
                            ? apr_pstrdup(o->st->pool, m->content_type) : NULL;
    it->meta.content_disposition = m->content_disposition
        ? apr_pstrdup(o->st->pool, m->content_disposition) : NULL;
    it->has_meta = 1;
    it->meta_version = it->version;
    return APR_SUCCESS;
}

static apr_status_t mem_head_set(zddc_store_tmp *t, const zddc_store_head *h)
{
    if (!t->leader) {
        return APR_EINVAL;
    }
    t->head = *h;
    t->has_head = 1;
    return APR_SUCCESS;
}

static apr_status_t mem_head_get(zddc_store_tmp *t, zddc_store_head *h,
                                 apr_pool_t *p)
{
    const zddc_store_tmp *src = t->lead ? t->lead : t;

    if (!src->has_head) {
        return APR_ENOENT;
    }
    *h = src->head;
    return APR_SUCCESS;
}

struct zddc_store_lock {
    zddc_store *st;
    const char *key;
};

static apr_status_t mem_lock_cleanup(void *data)
{
    zddc_store_lock *l = data;

    if (l->key) {
        apr_hash_set(l->st->locked, l->key, APR_HASH_KEY_STRING, NULL);
        l->key = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t mem_try_lock(zddc_store_obj *o, zddc_store_lock **lp,
                                 apr_pool_t *p)
{
    zddc_store_lock *l;

    mem_log(o->st, "try_lock", o);
    *lp = NULL;
    if (!item_of(o)) {
        return APR_ENOENT;
    }
    if (apr_hash_get(o->st->locked, o->key, APR_HASH_KEY_STRING)) {
        return APR_EBUSY;
    }
    l = apr_pcalloc(p, sizeof(*l));
    l->st = o->st;
    l->key = apr_pstrdup(o->st->pool, o->key);
    apr_hash_set(o->st->locked, l->key, APR_HASH_KEY_STRING, l);
    apr_pool_cleanup_register(p, l, mem_lock_cleanup, apr_pool_cleanup_null);
    *lp = l;
    return APR_SUCCESS;
}

static void mem_unlock(zddc_store_lock *l)
{
    if (l) {
        mem_lock_cleanup(l);
    }
}

static const zddc_store_provider mem_provider = {
    .open_store = mem_open_store,
    .obj = mem_obj,
    .kind = mem_kind,
    .describe = mem_describe,
    .stat = mem_stat,
    .open = mem_open,
    .begin = mem_begin,
    .write = mem_write,
    .commit = mem_commit,
    .discard = mem_discard,
    .follow = mem_follow,
    .unfollow = mem_unfollow,
    .put = mem_put,
    .touch = mem_touch,
    .validated_at = mem_validated_at,
    .remove = mem_remove,
    .purge = mem_purge,
    .drop_listing = mem_drop_listing,
    .list = mem_list,
    .get = mem_get,
    .meta_get = mem_meta_get,
    .head_set = mem_head_set,
    .head_get = mem_head_get,
    .meta_set = mem_meta_set,
    .try_lock = mem_try_lock,
    .unlock = mem_unlock
};

/* ---- the contract, for any provider ------------------------------------ */

static zddc_store_obj *O(const zddc_store_provider *sp, zddc_store *st,
                         const char *url, zddc_obj_kind kind)
{
    zddc_store_obj *o = NULL;

    sp->obj(st, url, kind, &o, pool);
    return o;
}

static void contract(const char *who, const zddc_store_provider *sp,
                     zddc_store *st)
{
    zddc_store_obj *f = O(sp, st, "/c/doc.pdf", ZDDC_OBJ_FILE);
    zddc_store_obj *side = O(sp, st, "/c/", ZDDC_OBJ_LISTING_JSON);
    zddc_store_obj *o;
    zddc_store_tmp *lead = NULL, *fol = NULL;
    zddc_store_meta m, got;
    zddc_store_head h, hg;
    apr_array_header_t *list;
    apr_time_t t1 = apr_time_from_sec(1700000000);
    apr_finfo_t fi;
    apr_file_t *fd;
    apr_size_t len, n;
    char *data, buf[64];
    int leader = -1, count = 0, i, found = 0;

#define NAME(s) apr_psprintf(pool, "%s: %s", who, s)
    is_int(sp->obj(st, "/../etc/passwd", ZDDC_OBJ_FILE, &o, pool), APR_EINVAL,
           NAME("an unsafe url path has no object"));
    is_int(sp->obj(st, "/a/.zddc-x", ZDDC_OBJ_FILE, &o, pool), APR_EINVAL,
           NAME("nor a reserved name"));
    ok(f && side, NAME("objects from (url path, kind)"));
    is_int(sp->kind(side), ZDDC_OBJ_LISTING_JSON, NAME("an object's kind"));
    ok(sp->describe(f, pool) != NULL, NAME("an object is described"));
    is_int(sp->stat(f, &fi, pool), APR_ENOENT, NAME("nothing yet"));

    is_int(sp->begin(f, &lead, &leader, pool), APR_SUCCESS, NAME("begin"));
    is_int(leader, 1, NAME("the first writer leads"));
    is_int(sp->begin(f, &fol, &leader, pool), APR_SUCCESS,
           NAME("a second begin"));
    is_int(leader, 0, NAME("follows"));
    memset(&h, 0, sizeof(h));
    h.last_modified = t1;
    h.length = 9;
    h.content_type = "application/pdf";
    sp->head_set(lead, &h);
    ok(sp->head_get(fol, &hg, pool) == APR_SUCCESS && hg.length == 9
       && hg.last_modified == t1 && !strcmp(hg.content_type,
                                            "application/pdf"),
       NAME("the follower reads the leader's head"));
    sp->write(lead, "revision ", 9);
    len = sizeof(buf);
    ok(sp->follow(fol, buf, &len) == ZDDC_FOLLOW_MORE && len == 9
       && !memcmp(buf, "revision ", 9), NAME("the follower reads the bytes"));
    len = sizeof(buf);
    is_int(sp->follow(fol, buf, &len), ZDDC_FOLLOW_WAIT,
           NAME("then waits for more"));
    is_int(sp->commit(lead, t1), APR_SUCCESS, NAME("commit"));
    len = sizeof(buf);
    is_int(sp->follow(fol, buf, &len), ZDDC_FOLLOW_PUBLISHED,
           NAME("the follower sees it published"));
    sp->unfollow(fol);
    ok(sp->stat(f, &fi, pool) == APR_SUCCESS && fi.filetype == APR_REG
       && fi.size == 9 && fi.mtime == t1, NAME("stat: size and mtime"));
    ok(sp->validated_at(f, &fi) > t1, NAME("validated when written"));
    ok(sp->open(f, 0, &fd, pool) == APR_SUCCESS
       && apr_file_read_full(fd, buf, 9, &n) == APR_SUCCESS && n == 9
       && !memcmp(buf, "revision ", 9),
       NAME("open: a file with the bytes, for a file bucket"));
    {
        zddc_store_lock *l1 = NULL, *l2 = NULL;
        zddc_store_obj *none = O(sp, st, "/c/none.pdf", ZDDC_OBJ_FILE);

        is_int(sp->try_lock(f, &l1, pool), APR_SUCCESS,
               NAME("try_lock takes a copy's lock"));
        is_int(sp->try_lock(f, &l2, pool), APR_EBUSY,
               NAME("a second try_lock finds it busy"));
        sp->unlock(l1);
        is_int(sp->try_lock(f, &l2, pool), APR_SUCCESS,
               NAME("free again once unlocked"));
        sp->unlock(l2);
        is_int(sp->try_lock(none, &l1, pool), APR_ENOENT,
               NAME("no lock where no copy stands"));
    }

    memset(&m, 0, sizeof(m));
    m.validated_at = t1;
    m.etag = "\"e1\"";
    m.content_disposition = "attachment";
    is_int(sp->meta_set(f, &m, pool), APR_SUCCESS, NAME("meta_set"));
    ok(sp->meta_get(f, &got, pool) == APR_SUCCESS
       && got.validated_at == t1 && !strcmp(got.etag, "\"e1\"")
       && !strcmp(got.content_disposition, "attachment"),
       NAME("meta_get returns it"));
    sp->put(f, "other", 5, 0, pool);
    is_int(sp->meta_get(f, &got, pool), APR_ENOENT,
           NAME("metadata goes with the content it was kept for"));

    is_int(sp->put(side, "[]", 2, t1, pool), APR_SUCCESS, NAME("put"));
    ok(sp->get(side, 100, &data, &len, pool) == APR_SUCCESS && len == 2
       && !strcmp(data, "[]"), NAME("get"));
    is_int(sp->get(side, 1, &data, &len, pool), APR_EGENERAL,
           NAME("get refuses more than max"));
    is_int(sp->touch(side), APR_SUCCESS, NAME("touch"));

    is_int(sp->list(st, "/c", &list, pool), APR_SUCCESS, NAME("list"));
    for (i = 0; list && i < list->nelts; i++) {
        zddc_store_entry *e = &APR_ARRAY_IDX(list, i, zddc_store_entry);

        found += !strcmp(e->name, "doc.pdf") && e->is_reg && e->size == 5;
        found += 100 * (e->name[0] == '.');
    }
    is_int(found, 1, NAME("list: the file, no bookkeeping"));
    o = O(sp, st, "/c", ZDDC_OBJ_DIR);
    ok(sp->stat(o, &fi, pool) == APR_SUCCESS && fi.filetype == APR_DIR,
       NAME("a directory stats as one"));

    is_int(sp->remove(side, pool), APR_SUCCESS, NAME("remove one object"));
    is_int(sp->stat(side, &fi, pool), APR_ENOENT, NAME("it is gone"));
    is_int(sp->stat(f, &fi, pool), APR_SUCCESS, NAME("its neighbour stays"));
    is_int(sp->purge(st, "/c", &count, pool), APR_SUCCESS, NAME("purge"));
    ok(count >= 1 && sp->stat(f, &fi, pool) == APR_ENOENT,
       NAME("the tree is gone"));
#undef NAME
}

/* ---- the state file code over the in-memory store ---------------------- */

static void state_over(const zddc_store_provider *sp, zddc_store *st)
{
    zddc_server_conf conf;
    apr_hash_t *known = apr_hash_make(pool), *got;
    zddc_state_rec a, b;
    zddc_walk_report rep, *rgot = NULL;
    const char *err = NULL;
    int i, other = 0, state = 0, report = 0;

    memset(&conf, 0, sizeof(conf));
    conf.cache_root = "/nonexistent/zddc-mem-root";
    conf.store_provider = sp;
    conf.store = st;
    is_int(zddc_state_load(&conf, &got, &err, pool), APR_ENOENT,
           "state: none yet in the memory store");
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.last_walk_at = apr_time_from_sec(1700000000);
    a.last_success_at = a.last_walk_at;
    b.last_walk_at = apr_time_from_sec(1700000100);
    apr_hash_set(known, "/A", APR_HASH_KEY_STRING, &a);
    is_int(zddc_state_save(&conf, known, pool), APR_SUCCESS, "state: saved");
    known = apr_hash_make(pool);
    apr_hash_set(known, "/B", APR_HASH_KEY_STRING, &b);
    zddc_state_save(&conf, known, pool);
    ok(zddc_state_load(&conf, &got, &err, pool) == APR_SUCCESS
       && apr_hash_count(got) == 2
       && ((zddc_state_rec *)apr_hash_get(got, "/A", APR_HASH_KEY_STRING))
          ->last_success_at == a.last_success_at,
       "state: merged and read back through the provider");
    ok(strstr(zddc_state_describe(&conf, pool), "memory") != NULL,
       "state: log lines name it as the provider does");

    memset(&rep, 0, sizeof(rep));
    rep.ended_at = b.last_walk_at;
    rep.fetched = apr_array_make(pool, 1, sizeof(const char *));
    rep.purged = apr_array_make(pool, 1, sizeof(const char *));
    rep.would_purge = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(rep.fetched, const char *) = "/B/new.pdf";
    rep.fetched_total = 1;
    is_int(zddc_report_save(&conf, "/B", &rep, pool), APR_SUCCESS,
           "report: saved");
    ok(zddc_report_load(&conf, "/B", &rgot, pool) == APR_SUCCESS && rgot
       && rgot->fetched->nelts == 1
       && !strcmp(APR_ARRAY_IDX(rgot->fetched, 0, const char *),
                  "/B/new.pdf"), "report: read back");
    is_int(zddc_report_load(&conf, "/A", &rgot, pool), APR_ENOENT,
           "report: none for another subtree");

    for (i = 0; i < st->log->nelts; i++) {
        const char *line = APR_ARRAY_IDX(st->log, i, const char *);

        if (strstr(line, " state ")) {
            state++;
        }
        else if (strstr(line, " report ")) {
            report++;
        }
        else {
            other++;
        }
    }
    ok(state > 0 && report > 0 && other == 0,
       "the state code asked the provider for the state and report objects "
       "only");
    ok(access(conf.cache_root, F_OK) != 0,
       "and nothing was written to a file system");
}

int main(void)
{
    char dir[] = "/tmp/zddc-store-mem-XXXXXX";
    zddc_store *disk = NULL, *mem = NULL;
    const char *err = NULL;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (!mkdtemp(dir)) {
        return 1;
    }
    mem_provider.open_store(&mem, "unused", ".htaccess", (apr_uid_t)-1,
                            (apr_gid_t)-1, &err, pool);
    zddc_store_disk_provider.open_store(&disk,
                                        apr_pstrcat(pool, dir, "/root", NULL),
                                        ".htaccess", (apr_uid_t)-1,
                                        (apr_gid_t)-1, &err, pool);
    if (!ok(disk && mem, "both providers open")) {
        return done();
    }
    contract("disk", &zddc_store_disk_provider, disk);
    contract("memory", &mem_provider, mem);
    apr_array_clear(mem->log);
    state_over(&mem_provider, mem);
    if (system(apr_psprintf(pool, "rm -rf '%s'", dir)) != 0) {
        printf("# could not remove %s\n", dir);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return done();
}
