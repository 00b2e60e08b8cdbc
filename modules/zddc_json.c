/* The one wrapper around cJSON: ZDDC listing parse, mirror state file
 * parse/serialize, RFC 3339 times and JSON string quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include <cjson/cJSON.h>

#include "zddc_json.h"

/* Largest double below 2^63 and 2^64: casts beyond these are undefined. */
#define DBL_INT64_LIMIT 9223372036854775807.0
#define DBL_UINT64_LIMIT 18446744073709551615.0

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_json_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* cJSON decodes the escape \u0000 into a NUL that silently truncates the
 * string, so a name "evil\u0000.pdf" would come back as "evil". Spot it in
 * the raw text (outside strings a backslash cannot occur in valid JSON). */
static int has_escaped_nul(const char *json, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (json[i] != '\\') {
            continue;
        }
        if (json[i + 1] == 'u' && i + 5 < len
            && !memcmp(json + i + 2, "0000", 4)) {
            return 1;
        }
        i++;    /* skip the escaped character */
    }
    return 0;
}

/* Parse len bytes; anything but blanks (or NUL padding) after the value
 * is malformed input. */
static cJSON *parse_all(const char *json, apr_size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);

    if (!root) {
        return NULL;
    }
    if (end) {
        while (end < json + len
               && (is_json_space((unsigned char)*end) || *end == '\0')) {
            end++;
        }
        if (end < json + len) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

static int hex_value(const char *s, unsigned *v)
{
    unsigned r = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int c = (unsigned char)s[i];

        r <<= 4;
        if (c >= '0' && c <= '9') {
            r |= (unsigned)(c - '0');
        }
        else if (c >= 'a' && c <= 'f') {
            r |= (unsigned)(c - 'a' + 10);
        }
        else if (c >= 'A' && c <= 'F') {
            r |= (unsigned)(c - 'A' + 10);
        }
        else {
            return 0;
        }
    }
    *v = r;
    return 1;
}

/* The escapes cJSON cannot take as they are, \u0000 (which it decodes into
 * a NUL that silently truncates the string) and an unpaired surrogate
 * (which fails the whole document), are replaced in a copy by \ufffd, the
 * same length: the string they were in parses, and the replacement
 * character marks it (the caller's bad_names). Outside strings a backslash
 * cannot occur in valid JSON. Returns json itself when nothing needed it. */
#define REPLACEMENT_ESC "\\ufffd"
#define REPLACEMENT_UTF8 "\xef\xbf\xbd"

static const char *mark_bad_escapes(const char *json, apr_size_t len,
                                    int *marked, apr_pool_t *p)
{
    char *copy = NULL;
    apr_size_t i;

    *marked = 0;
    for (i = 0; i + 1 < len; i++) {
        unsigned v, lo;
        int bad;

        if (json[i] != '\\') {
            continue;
        }
        if (json[i + 1] != 'u' || i + 5 >= len
            || !hex_value(json + i + 2, &v)) {
            i++;        /* skip the escaped character */
            continue;
        }
        bad = v == 0 || (v >= 0xdc00 && v <= 0xdfff);
        if (v >= 0xd800 && v <= 0xdbff) {
            if (i + 11 < len && json[i + 6] == '\\' && json[i + 7] == 'u'
                && hex_value(json + i + 8, &lo) && lo >= 0xdc00
                && lo <= 0xdfff) {
                i += 11;    /* a proper pair */
                continue;
            }
            bad = 1;
        }
        if (bad) {
            if (!copy) {
                copy = apr_pmemdup(p, json, len);
            }
            memcpy(copy + i, REPLACEMENT_ESC, 6);
            *marked = 1;
        }
        i += 5;
    }
    return copy ? copy : json;
}

static void listing_skip(apr_array_header_t *skipped, int *total, int idx,
                         const char *name, const char *why)
{
    zddc_listing_skip *sk;

    (*total)++;
    /* Nameless ones only for the log's first lines: a listing of
     * millions of them must not cost a record each. */
    if (!skipped || (!name && skipped->nelts >= ZDDC_LISTING_SKIP_KEPT)) {
        return;
    }
    sk = apr_array_push(skipped);
    sk->index = idx;
    sk->name = name ? apr_pstrdup(skipped->pool, name) : NULL;
    sk->why = why;
}

/* Bounded listing parse: a cJSON tree costs up to ~80 bytes of malloc per
 * JSON value, so a 16 MiB listing of tiny values ("[0,0,...]") would cost
 * about 1 GB as one tree. Instead a scan over the raw text finds each
 * top-level element of the array, and each is parsed, used and freed on its
 * own. Peak memory is then the largest element's tree (an element is at most
 * ZDDC_LISTING_ENTRY_MAX bytes: <= ~6 MiB) plus the result: at most
 * n / LISTING_ENTRY_MIN entries of 32 bytes and their names, about 4 bytes
 * per listing byte, all in the caller's pool. */
#define LISTING_ENTRY_MIN 11    /* {"name":""} */

typedef struct {
    const char *json;
    apr_size_t len;
    apr_size_t pos;         /* where the next element (or ']') starts */
    cJSON *item;            /* the element being looked at, owned */
    int done;
    int bad;                /* the text is not a JSON array */
} listing_scan;

static apr_size_t skip_space(const char *s, apr_size_t i, apr_size_t len)
{
    while (i < len && is_json_space((unsigned char)s[i])) {
        i++;
    }
    return i;
}

/* End of the element starting at i: the offset of the ',' or ']' that
 * closes it at depth 0, or len when there is none. Strings are skipped
 * with their escapes; bracket matching is left to cJSON. */
static apr_size_t element_end(const char *s, apr_size_t i, apr_size_t len)
{
    apr_size_t depth = 0;

    for (; i < len; i++) {
        char c = s[i];

        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\') {
                    i++;
                }
            }
        }
        else if (c == '[' || c == '{') {
            depth++;
        }
        else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
        else if ((c == ',' || c == ']') && depth == 0) {
            return i;
        }
    }
    return len;
}

/* Check the array's frame ('[', elements separated by ',', ']', then only
 * blanks or NULs) and count the elements that are objects, without parsing
 * them. */
static apr_status_t listing_prescan(const char *json, apr_size_t len,
                                    int *count, const char **err,
                                    apr_pool_t *p)
{
    apr_size_t i = skip_space(json, 0, len), end;
    int n = 0, idx = 0;

    if (i == len || json[i] != '[') {
        *err = i == len || json[i] == '\0' ? "listing is not valid JSON"
                                           : "listing is not a JSON array";
        return APR_EGENERAL;
    }
    i = skip_space(json, i + 1, len);
    if (i < len && json[i] == ']') {
        end = i;
    }
    else {
        for (;;) {
            end = element_end(json, i, len);
            if (end == len || end == i) {
                *err = "listing is not valid JSON";
                return APR_EGENERAL;
            }
            if (end - i > ZDDC_LISTING_ENTRY_MAX) {
                *err = apr_psprintf(p, "listing entry %d is larger than %d "
                                    "bytes", idx, ZDDC_LISTING_ENTRY_MAX);
                return APR_EGENERAL;
            }
            n += json[i] == '{';    /* only an object can be an entry */
            idx++;
            if (json[end] == ']') {
                break;
            }
            i = skip_space(json, end + 1, len);
        }
    }
    for (i = end + 1; i < len; i++) {
        if (!is_json_space((unsigned char)json[i]) && json[i] != '\0') {
            *err = "listing is not valid JSON";
            return APR_EGENERAL;
        }
    }
    *count = n;
    return APR_SUCCESS;
}

/* The next element of a prescanned listing as its own cJSON tree; the
 * previous one is freed. NULL at the end, or with sc->bad set when an
 * element is not valid JSON. */
static cJSON *listing_next(listing_scan *sc)
{
    apr_size_t start, end;

    cJSON_Delete(sc->item);
    sc->item = NULL;
    if (sc->done) {
        return NULL;
    }
    start = skip_space(sc->json, sc->pos, sc->len);
    if (sc->json[start] == ']') {
        sc->done = 1;
        return NULL;
    }
    end = element_end(sc->json, start, sc->len);
    /* parse_all allows NUL padding after a value, not inside the array. */
    sc->item = memchr(sc->json + start, '\0', end - start) ? NULL
               : parse_all(sc->json + start, end - start);
    if (!sc->item) {
        sc->bad = sc->done = 1;
        return NULL;
    }
    if (sc->json[end] == ']') {
        sc->done = 1;
    }
    sc->pos = end + 1;
    return sc->item;
}

apr_status_t zddc_listing_parse_ex(const char *json, apr_size_t len,
                                   apr_array_header_t **entries,
                                   apr_array_header_t **skipped,
                                   int *nskipped,
                                   const char **err, apr_pool_t *p)
{
    int total = 0;

    apr_array_header_t *arr, *skip = NULL;
    listing_scan sc = { 0 };
    cJSON *item;
    int idx = 0, count = 0, marked = 0;

    *err = NULL;
    if (skipped) {
        *skipped = skip = apr_array_make(p, 0, sizeof(zddc_listing_skip));
    }
    if (!json) {
        *err = "listing is empty";
        return APR_EGENERAL;
    }
    if (len > ZDDC_LISTING_MAX) {
        *err = apr_psprintf(p, "listing of %" APR_SIZE_T_FMT " bytes exceeds "
                            "the %d byte limit", len, ZDDC_LISTING_MAX);
        return APR_EGENERAL;
    }
    json = mark_bad_escapes(json, len, &marked, p);
    if (listing_prescan(json, len, &count, err, p) != APR_SUCCESS) {
        return APR_EGENERAL;
    }

    /* Room for every object, but never more than could each be an entry. */
    if ((apr_size_t)count > len / LISTING_ENTRY_MIN) {
        count = (int)(len / LISTING_ENTRY_MIN);
    }
    arr = apr_array_make(p, count + 1, sizeof(zddc_listing_entry));
    sc.json = json;
    sc.len = len;
    sc.pos = skip_space(json, 0, len) + 1;
    while ((item = listing_next(&sc))) {
        zddc_listing_entry *e;
        const cJSON *name, *is_dir, *size, *mtime;
        apr_size_t nlen;
        int slash = 0;

        idx++;
        if (!cJSON_IsObject(item)) {
            listing_skip(skip, &total, idx - 1, NULL, "not an object");
            continue;
        }
        name = cJSON_GetObjectItemCaseSensitive(item, "name");
        if (!cJSON_IsString(name) || !name->valuestring) {
            listing_skip(skip, &total, idx - 1, NULL, "no string \"name\"");
            continue;
        }
        is_dir = cJSON_GetObjectItemCaseSensitive(item, "is_dir");
        if (is_dir && !cJSON_IsBool(is_dir)) {
            listing_skip(skip, &total, idx - 1, name->valuestring,
                         "a non-boolean \"is_dir\"");
            continue;
        }
        if (marked && strstr(name->valuestring, REPLACEMENT_UTF8)) {
            /* A genuine U+FFFD in a name goes too: it cannot be told apart
             * from a NUL or unpaired surrogate replaced above. */
            listing_skip(skip, &total, idx - 1, name->valuestring,
                         "a NUL or an unpaired surrogate in \"name\"");
            continue;
        }

        e = apr_array_push(arr);
        nlen = strlen(name->valuestring);
        if (nlen > 0 && name->valuestring[nlen - 1] == '/') {
            nlen--;
            slash = 1;
        }
        e->name = apr_pstrmemdup(p, name->valuestring, nlen);
        e->is_dir = is_dir ? cJSON_IsTrue(is_dir) : slash;

        size = cJSON_GetObjectItemCaseSensitive(item, "size");
        e->size = -1;
        if (cJSON_IsNumber(size) && size->valuedouble >= 0
            && size->valuedouble < DBL_INT64_LIMIT) {
            e->size = (apr_off_t)size->valuedouble;
        }
        mtime = cJSON_GetObjectItemCaseSensitive(item, "mod_time");
        e->mod_time = cJSON_IsString(mtime)
                      ? zddc_rfc3339_parse(mtime->valuestring) : 0;
    }
    cJSON_Delete(sc.item);
    if (sc.bad) {
        *err = "listing is not valid JSON";
        return APR_EGENERAL;
    }
    if (nskipped) {
        *nskipped = total;
    }
    *entries = arr;
    return APR_SUCCESS;
}

apr_status_t zddc_listing_parse(const char *json, apr_size_t len,
                                apr_array_header_t **entries,
                                const char **err, apr_pool_t *p)
{
    return zddc_listing_parse_ex(json, len, entries, NULL, NULL, err, p);
}

static const char *const state_counters[] = {
    "dirs", "files", "fetched", "skipped", "purged", "errors", "bytes"
};

static apr_uint64_t *state_counter(zddc_state_rec *rec, int i)
{
    apr_uint64_t *fields[] = {
        &rec->dirs, &rec->files, &rec->fetched, &rec->skipped,
        &rec->purged, &rec->errors, &rec->bytes
    };
    return fields[i];
}

#define NCOUNTERS ((int)(sizeof(state_counters) / sizeof(state_counters[0])))

/* A present counter must be a non-negative number; absent means 0. */
static int state_number(const cJSON *obj, const char *key, apr_uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = 0;
    if (!v || cJSON_IsNull(v)) {
        return 1;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)
        || v->valuedouble >= DBL_UINT64_LIMIT) {
        return 0;
    }
    *out = (apr_uint64_t)v->valuedouble;
    return 1;
}

apr_status_t zddc_state_parse(const char *json, apr_size_t len,
                              apr_hash_t **subtrees, const char **err,
                              apr_pool_t *p)
{
    apr_hash_t *h;
    cJSON *root, *st;
    const cJSON *all;

    *err = NULL;
    if (!json || has_escaped_nul(json, len)) {
        *err = "state file is empty or holds a NUL character";
        return APR_EGENERAL;
    }
    root = parse_all(json, len);
    if (!root) {
        *err = "state file is not valid JSON";
        return APR_EGENERAL;
    }
    all = cJSON_IsObject(root)
          ? cJSON_GetObjectItemCaseSensitive(root, "subtrees") : NULL;
    if (!cJSON_IsObject(all)) {
        cJSON_Delete(root);
        *err = "state file has no \"subtrees\" object";
        return APR_EGENERAL;
    }

    h = apr_hash_make(p);
    cJSON_ArrayForEach(st, all) {
        zddc_state_rec *rec;
        const cJSON *at;
        apr_uint64_t ms;
        int i;

        if (!cJSON_IsObject(st) || !st->string) {
            *err = apr_psprintf(p, "state of subtree '%s' is not an object",
                                st->string ? st->string : "");
            break;
        }
        rec = apr_pcalloc(p, sizeof(*rec));
        at = cJSON_GetObjectItemCaseSensitive(st, "last_success_at");
        if (cJSON_IsString(at)) {
            rec->last_success_at = zddc_rfc3339_parse(at->valuestring);
            if (rec->last_success_at < 0) {
                rec->last_success_at = 0;
            }
        }
        at = cJSON_GetObjectItemCaseSensitive(st, "last_walk_at");
        if (at && !cJSON_IsNull(at)) {
            if (!cJSON_IsString(at)
                || !(rec->last_walk_at = zddc_rfc3339_parse(at->valuestring))) {
                *err = apr_psprintf(p, "state of subtree '%s' has an invalid "
                                    "\"last_walk_at\"", st->string);
                break;
            }
            if (rec->last_walk_at < 0) {
                rec->last_walk_at = 0;  /* Go's zero time: never walked */
            }
        }
        if (!state_number(st, "duration_ms", &ms)
            || ms > APR_INT64_MAX / 1000) {
            *err = apr_psprintf(p, "state of subtree '%s' has an invalid "
                                "\"duration_ms\"", st->string);
            break;
        }
        rec->duration = (apr_interval_time_t)(ms * 1000);
        for (i = 0; i < NCOUNTERS; i++) {
            if (!state_number(st, state_counters[i], state_counter(rec, i))) {
                *err = apr_psprintf(p, "state of subtree '%s' has an invalid "
                                    "\"%s\"", st->string, state_counters[i]);
                break;
            }
        }
        if (*err) {
            break;
        }
        apr_hash_set(h, apr_pstrdup(p, st->string), APR_HASH_KEY_STRING, rec);
    }
    cJSON_Delete(root);
    if (*err) {
        return APR_EGENERAL;
    }
    *subtrees = h;
    return APR_SUCCESS;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *zddc_state_serialize(apr_hash_t *subtrees, apr_pool_t *p)
{
    apr_array_header_t *keys = apr_array_make(p, 8, sizeof(const char *));
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(const char *));
    apr_hash_index_t *hi;
    int i, k;

    if (subtrees) {
        for (hi = apr_hash_first(p, subtrees); hi; hi = apr_hash_next(hi)) {
            APR_ARRAY_PUSH(keys, const char *) = apr_hash_this_key(hi);
        }
    }
    qsort(keys->elts, (size_t)keys->nelts, sizeof(const char *), cmp_str);

    APR_ARRAY_PUSH(out, const char *) = "{\n  \"subtrees\": {";
    for (i = 0; i < keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(keys, i, const char *);
        zddc_state_rec *rec = apr_hash_get(subtrees, key, APR_HASH_KEY_STRING);
        zddc_state_rec zero = { 0 };

        if (!rec) {
            rec = &zero;
        }
        APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
            "%s\n    %s: {", i ? "," : "", zddc_json_quote(p, key));
        if (rec->last_walk_at > 0) {
            APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
                "\n      \"last_walk_at\": \"%s\",",
                zddc_rfc3339_format(p, rec->last_walk_at));
        }
        if (rec->last_success_at > 0) {
            APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
                "\n      \"last_success_at\": \"%s\",",
                zddc_rfc3339_format(p, rec->last_success_at));
        }
        APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
            "\n      \"duration_ms\": %" APR_INT64_T_FMT,
            (apr_int64_t)(rec->duration > 0 ? rec->duration / 1000 : 0));
        for (k = 0; k < NCOUNTERS; k++) {
            APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
                ",\n      \"%s\": %" APR_UINT64_T_FMT, state_counters[k],
                *state_counter(rec, k));
        }
        APR_ARRAY_PUSH(out, const char *) = "\n    }";
    }
    APR_ARRAY_PUSH(out, const char *) = keys->nelts ? "\n  }\n}\n" : "}\n}\n";
    return apr_array_pstrcat(p, out, 0);
}

static const char *report_list(apr_pool_t *p, const char *key,
                               const apr_array_header_t *a,
                               apr_uint64_t total)
{
    apr_array_header_t *out = apr_array_make(p, a ? a->nelts + 4 : 4,
                                             sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
        ",\n  \"%s_total\": %" APR_UINT64_T_FMT ",\n  \"%s\": [", key, total,
        key);
    for (i = 0; a && i < a->nelts; i++) {
        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, i ? ",\n    "
                                                        : "\n    ",
            zddc_json_quote(p, APR_ARRAY_IDX(a, i, const char *)), NULL);
    }
    APR_ARRAY_PUSH(out, const char *) = a && a->nelts ? "\n  ]" : "]";
    return apr_array_pstrcat(p, out, 0);
}

char *zddc_report_serialize(const char *subtree, const zddc_walk_report *rep,
                            apr_pool_t *p)
{
    return apr_pstrcat(p, "{\n  \"subtree\": ", zddc_json_quote(p, subtree),
                       ",\n  \"ended_at\": \"",
                       zddc_rfc3339_format(p, rep->ended_at), "\"",
                       report_list(p, "fetched", rep->fetched,
                                   rep->fetched_total),
                       report_list(p, "purged", rep->purged,
                                   rep->purged_total),
                       report_list(p, "would_purge", rep->would_purge,
                                   rep->would_purge_total),
                       "\n}\n", NULL);
}

static apr_array_header_t *report_paths(const cJSON *root, const char *key,
                                        apr_uint64_t *total, apr_pool_t *p)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    const cJSON *item;
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));

    cJSON_ArrayForEach(item, a) {
        if (cJSON_IsString(item) && out->nelts < ZDDC_REPORT_MAX_PATHS) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p,
                                                            item->valuestring);
        }
    }
    state_number(root, apr_pstrcat(p, key, "_total", NULL), total);
    if (*total < (apr_uint64_t)out->nelts) {
        *total = (apr_uint64_t)out->nelts;
    }
    return out;
}

apr_status_t zddc_report_parse(const char *json, apr_size_t len,
                               zddc_walk_report **repp, const char **err,
                               apr_pool_t *p)
{
    zddc_walk_report *rep;
    const cJSON *at;
    cJSON *root;

    *err = NULL;
    root = json && !has_escaped_nul(json, len) ? parse_all(json, len) : NULL;
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *err = "not a walk report";
        return APR_EGENERAL;
    }
    rep = apr_pcalloc(p, sizeof(*rep));
    at = cJSON_GetObjectItemCaseSensitive(root, "ended_at");
    rep->ended_at = cJSON_IsString(at) ? zddc_rfc3339_parse(at->valuestring)
                                       : 0;
    rep->fetched = report_paths(root, "fetched", &rep->fetched_total, p);
    rep->purged = report_paths(root, "purged", &rep->purged_total, p);
    rep->would_purge = report_paths(root, "would_purge",
                                    &rep->would_purge_total, p);
    cJSON_Delete(root);
    *repp = rep;
    return APR_SUCCESS;
}

static int read_digits(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i])) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, year >= 1. */
static apr_int64_t days_since_epoch(int y, int m, int d)
{
    static const int before[12] = {
        0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
    };
    apr_int64_t py = y - 1;
    apr_int64_t days = 365 * py + py / 4 - py / 100 + py / 400;

    days += before[m - 1] + (m > 2 && is_leap(y)) + (d - 1);
    return days - 719162;   /* days from 0001-01-01 to 1970-01-01 */
}

apr_time_t zddc_rfc3339_parse(const char *s)
{
    static const int mdays[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    apr_int64_t usec = 0, scale = 100000, secs;

    if (!s || strlen(s) < 20
        || !read_digits(s, 4, &y) || s[4] != '-'
        || !read_digits(s + 5, 2, &mo) || s[7] != '-'
        || !read_digits(s + 8, 2, &d)
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || !read_digits(s + 11, 2, &h) || s[13] != ':'
        || !read_digits(s + 14, 2, &mi) || s[16] != ':'
        || !read_digits(s + 17, 2, &sec)) {
        return 0;
    }
    if (y < 1 || mo < 1 || mo > 12 || d < 1
        || d > mdays[mo - 1] + (mo == 2 && is_leap(y))
        || h > 23 || mi > 59 || sec > 60) {
        return 0;
    }
    s += 19;
    if (*s == '.') {
        s++;
        if (!is_digit((unsigned char)*s)) {
            return 0;
        }
        for (; is_digit((unsigned char)*s); s++) {
            usec += (*s - '0') * scale;
            scale /= 10;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    }
    else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if (!read_digits(s + 1, 2, &oh) || s[3] != ':'
            || !read_digits(s + 4, 2, &om) || oh > 23 || om > 59) {
            return 0;
        }
        s += 6;
    }
    else {
        return 0;
    }
    if (*s) {
        return 0;
    }
    secs = days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
           - sign * (oh * 3600 + om * 60);
    /* An offset can carry the time out of years 1..9999 in UTC, which the
     * four-digit year of zddc_rfc3339_format cannot write back. */
    if (secs < days_since_epoch(1, 1, 1) * 86400
        || secs > days_since_epoch(9999, 12, 31) * 86400 + 86399) {
        return 0;
    }
    return (apr_time_t)(secs * APR_USEC_PER_SEC + usec);
}

const char *zddc_rfc3339_format(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;

    if (apr_time_exp_gmt(&tm, t) != APR_SUCCESS) {
        return "1970-01-01T00:00:00Z";
    }
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
}

const char *zddc_json_quote(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *c;
    char *out, *o;

    if (!s) {
        return "null";
    }
    out = o = apr_palloc(p, strlen(s) * 6 + 3);
    *o++ = '"';
    for (c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"':  *o++ = '\\'; *o++ = '"';  break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\b': *o++ = '\\'; *o++ = 'b';  break;
        case '\f': *o++ = '\\'; *o++ = 'f';  break;
        case '\n': *o++ = '\\'; *o++ = 'n';  break;
        case '\r': *o++ = '\\'; *o++ = 'r';  break;
        case '\t': *o++ = '\\'; *o++ = 't';  break;
        default:
            /* <, > and & too, so the text is safe inside an HTML page. */
            if (*c < 0x20 || *c == 0x7f || *c == '<' || *c == '>'
                || *c == '&') {
                memcpy(o, "\\u00", 4);
                o[4] = hex[*c >> 4];
                o[5] = hex[*c & 0x0f];
                o += 6;
            }
            else {
                *o++ = (char)*c;
            }
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
