/* Pure helpers with no httpd dependency: Go-syntax durations, Accept
 * negotiation, subtrees, entry-name safety, path mapping and encoding. */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "zddc_util.h"

#define NS_MAX ((apr_uint64_t)0x7fffffffffffffffULL)
#define DURATION_HINT "(use e.g. 90s, 30m, 1h30m, 500ms)"

/* The message names the offending value but the signature has no pool, so
 * it lives in a per-thread buffer valid until the next call on that thread. */
static __thread char duration_err[256];

static const char *duration_error(const char *why, const char *s)
{
    snprintf(duration_err, sizeof(duration_err),
             "invalid duration '%.100s'%s%s%s %s", s,
             strlen(s) > 100 ? "..." : "", why ? ": " : "", why ? why : "",
             DURATION_HINT);
    return duration_err;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
        || c == '\f';
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* ASCII case-insensitive: does s[0..n) equal the NUL-terminated lit? */
static int span_is(const char *s, apr_size_t n, const char *lit)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (!lit[i] || lower((unsigned char)s[i]) != lit[i]) {
            return 0;
        }
    }
    return lit[n] == '\0';
}

static apr_uint64_t duration_unit(const char *u, apr_size_t n)
{
    static const struct {
        const char *name;
        apr_uint64_t ns;
    } units[] = {
        { "ns", 1ULL },
        { "us", 1000ULL },
        { "\xc2\xb5s", 1000ULL },       /* U+00B5 micro sign */
        { "\xce\xbcs", 1000ULL },       /* U+03BC Greek small mu */
        { "ms", 1000000ULL },
        { "s", 1000000000ULL },
        { "m", 60ULL * 1000000000ULL },
        { "h", 3600ULL * 1000000000ULL },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == n && !memcmp(units[i].name, u, n)) {
            return units[i].ns;
        }
    }
    return 0;
}

const char *zddc_duration_parse(const char *s, apr_interval_time_t *out)
{
    const char *orig = s, *p;
    apr_uint64_t total = 0;

    if (!s) {
        return "missing duration " DURATION_HINT;
    }
    p = s;
    if (*p == '+') {
        p++;
    }
    else if (*p == '-') {
        return duration_error("negative", orig);
    }
    if (!*p) {
        return duration_error(NULL, orig);
    }

    /* A plain integer is seconds. */
    for (s = p; is_digit((unsigned char)*s); s++)
        ;
    if (!*s) {
        apr_uint64_t secs = 0;
        for (s = p; *s; s++) {
            secs = secs * 10 + (apr_uint64_t)(*s - '0');
            if (secs > NS_MAX / 1000000000ULL) {
                return duration_error("too large", orig);
            }
        }
        *out = (apr_interval_time_t)(secs * 1000000ULL);
        return NULL;
    }

    s = p;
    while (*s) {
        apr_uint64_t v = 0, f = 0, unit;
        double scale = 1.0;
        int have_int, have_frac = 0, frac_overflow = 0;
        const char *start = s, *u;

        if (!is_digit((unsigned char)*s) && *s != '.') {
            return duration_error(NULL, orig);
        }
        for (; is_digit((unsigned char)*s); s++) {
            if (v > (NS_MAX - 9) / 10) {
                return duration_error("too large", orig);
            }
            v = v * 10 + (apr_uint64_t)(*s - '0');
        }
        have_int = s != start;
        if (*s == '.') {
            s++;
            for (start = s; is_digit((unsigned char)*s); s++) {
                if (frac_overflow || f > (NS_MAX - 9) / 10) {
                    frac_overflow = 1;
                    continue;
                }
                f = f * 10 + (apr_uint64_t)(*s - '0');
                scale *= 10.0;
            }
            have_frac = s != start;
        }
        if (!have_int && !have_frac) {
            return duration_error(NULL, orig);
        }

        for (u = s; *s && *s != '.' && !is_digit((unsigned char)*s); s++)
            ;
        unit = duration_unit(u, (apr_size_t)(s - u));
        if (!unit) {
            return duration_error(u == s ? "missing unit" : "unknown unit",
                                  orig);
        }
        if (v > NS_MAX / unit) {
            return duration_error("too large", orig);
        }
        v *= unit;
        if (f > 0) {
            v += (apr_uint64_t)((double)f * ((double)unit / scale));
            if (v > NS_MAX) {
                return duration_error("too large", orig);
            }
        }
        total += v;
        if (total > NS_MAX) {
            return duration_error("too large", orig);
        }
    }
    *out = (apr_interval_time_t)(total / 1000ULL);
    return NULL;
}

const char *zddc_duration_format(apr_pool_t *p, apr_interval_time_t d)
{
    static const struct {
        const char *name;
        apr_uint64_t us;
    } parts[] = {
        { "h", 3600ULL * 1000000ULL },
        { "m", 60ULL * 1000000ULL },
        { "s", 1000000ULL },
        { "ms", 1000ULL },
        { "us", 1ULL },
    };
    char buf[128];
    apr_size_t used = 0, i;
    apr_uint64_t rest;

    if (d == 0) {
        return "0s";
    }
    if (d < 0) {
        buf[used++] = '-';
        rest = (apr_uint64_t)(-(d + 1)) + 1;
    }
    else {
        rest = (apr_uint64_t)d;
    }
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        apr_uint64_t n = rest / parts[i].us;
        if (n) {
            used += (apr_size_t)snprintf(buf + used, sizeof(buf) - used,
                                         "%" APR_UINT64_T_FMT "%s", n,
                                         parts[i].name);
            rest -= n * parts[i].us;
        }
    }
    return apr_pstrmemdup(p, buf, used);
}

/* q value in thousandths; a malformed value counts as absent (1). */
static int accept_q(const char *v, apr_size_t n)
{
    int q, scale = 100;
    apr_size_t i = 1;

    while (n && is_space((unsigned char)v[n - 1])) {
        n--;
    }
    if (n == 0 || (v[0] != '0' && v[0] != '1')) {
        return 1000;
    }
    q = (v[0] - '0') * 1000;
    if (n > 1) {
        if (v[1] != '.') {
            return 1000;
        }
        for (i = 2; i < n; i++) {
            if (!is_digit((unsigned char)v[i]) || i > 4) {
                return 1000;
            }
            q += (v[i] - '0') * scale;
            scale /= 10;
        }
    }
    return q > 1000 ? 1000 : q;
}

int zddc_accept_wants_json(const char *accept)
{
    enum { JSON, APP_ANY, HTML, TEXT_ANY, ANY, NKINDS };
    static const char *const kinds[NKINDS] = {
        "application/json", "application/*", "text/html", "text/*", "*/*"
    };
    int q[NKINDS] = { -1, -1, -1, -1, -1 };
    int qjson, qhtml, k;
    const char *s = accept;

    if (!s) {
        return 0;
    }
    while (*s) {
        const char *type, *end;
        apr_size_t tlen;
        int mq = 1000;

        while (*s == ',' || is_space((unsigned char)*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        type = s;
        while (*s && *s != ',' && *s != ';') {
            s++;
        }
        end = s;
        while (end > type && is_space((unsigned char)end[-1])) {
            end--;
        }
        tlen = (apr_size_t)(end - type);
        while (*s == ';') {
            const char *name, *val;

            s++;
            while (is_space((unsigned char)*s)) {
                s++;
            }
            name = s;
            while (*s && *s != ',' && *s != ';' && *s != '=') {
                s++;
            }
            if (*s != '=') {
                continue;
            }
            end = s;
            while (end > name && is_space((unsigned char)end[-1])) {
                end--;
            }
            s++;
            while (is_space((unsigned char)*s)) {
                s++;
            }
            val = s;
            while (*s && *s != ',' && *s != ';') {
                s++;
            }
            if (span_is(name, (apr_size_t)(end - name), "q")) {
                mq = accept_q(val, (apr_size_t)(s - val));
            }
        }
        for (k = 0; k < NKINDS; k++) {
            if (span_is(type, tlen, kinds[k]) && mq > q[k]) {
                q[k] = mq;
            }
        }
    }

    qjson = q[JSON] >= 0 ? q[JSON] : q[APP_ANY];
    qhtml = q[HTML] >= 0 ? q[HTML] : q[TEXT_ANY] >= 0 ? q[TEXT_ANY] : q[ANY];
    return qjson > 0 && qjson >= qhtml;
}

const char *zddc_subtree_normalize(apr_pool_t *p, const char *s)
{
    const char *end;
    char *out;
    apr_size_t n = 0;

    if (!s) {
        return "/";
    }
    while (is_space((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && is_space((unsigned char)end[-1])) {
        end--;
    }
    out = apr_palloc(p, (apr_size_t)(end - s) + 2);
    out[n++] = '/';
    for (; s < end; s++) {
        if (*s == '/' && out[n - 1] == '/') {
            continue;
        }
        out[n++] = *s;
    }
    if (n > 1 && out[n - 1] == '/') {
        n--;
    }
    out[n] = '\0';
    return out;
}

const char *zddc_subtree_list_parse(apr_pool_t *p, const char *line,
                                    apr_array_header_t *out)
{
    const char *s = line ? line : "";

    for (;;) {
        const char *start, *end;
        char quote = 0;

        while (is_space((unsigned char)*s)) {
            s++;
        }
        if (*s == '"' || *s == '\'') {
            quote = *s++;
            start = s;
            while (*s && *s != quote) {
                s++;
            }
            if (!*s) {
                return apr_psprintf(p, "unbalanced %c in '%s'", quote, line);
            }
            end = s++;
            while (is_space((unsigned char)*s)) {
                s++;
            }
            if (*s && *s != ',') {
                return apr_psprintf(p, "text after a closing %c in '%s'",
                                    quote, line);
            }
        }
        else {
            start = s;
            while (*s && *s != ',') {
                s++;
            }
            end = s;
        }
        while (!quote && end > start && is_space((unsigned char)end[-1])) {
            end--;
        }
        if (quote || end > start) {
            APR_ARRAY_PUSH(out, const char *) = zddc_subtree_normalize(
                p, apr_pstrmemdup(p, start, (apr_size_t)(end - start)));
        }
        if (*s != ',') {
            return NULL;
        }
        s++;
    }
}

const char *zddc_subtree_match(const apr_array_header_t *subtrees,
                               const char *uri)
{
    const char *best = NULL;
    apr_size_t bestlen = 0;
    int i;

    if (!subtrees) {
        return NULL;
    }
    if (!uri || !*uri) {
        uri = "/";
    }
    for (i = 0; i < subtrees->nelts; i++) {
        const char *st = APR_ARRAY_IDX(subtrees, i, const char *);
        apr_size_t n;

        if (!st || !*st) {
            continue;
        }
        if (!strcmp(st, "/")) {
            if (!best) {
                best = st;
                bestlen = 1;
            }
            continue;
        }
        n = strlen(st);
        if (n > bestlen && !strncmp(uri, st, n)
            && (uri[n] == '\0' || uri[n] == '/')) {
            best = st;
            bestlen = n;
        }
    }
    return best;
}

/* AccessFileName may list several names separated by blanks, optionally
 * quoted, exactly as core keeps them. */
static int name_is_access_file(const char *name, apr_size_t len,
                               const char *afn)
{
    const char *s = afn;

    if (!s) {
        return 0;
    }
    while (*s) {
        const char *tok;
        char quote = 0;

        while (is_space((unsigned char)*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        if (*s == '"' || *s == '\'') {
            quote = *s++;
        }
        tok = s;
        while (*s && (quote ? *s != quote : !is_space((unsigned char)*s))) {
            s++;
        }
        if ((apr_size_t)(s - tok) == len && !memcmp(tok, name, len)) {
            return 1;
        }
        if (quote && *s) {
            s++;
        }
    }
    return 0;
}

int zddc_name_is_safe(const char *name, apr_size_t len,
                      const char *access_file_name)
{
    if (!name || len == 0) {
        return 0;
    }
    if ((len == 1 && name[0] == '.')
        || (len == 2 && name[0] == '.' && name[1] == '.')) {
        return 0;
    }
    if (memchr(name, '/', len) || memchr(name, '\0', len)) {
        return 0;
    }
    if (len >= 6 && !memcmp(name, ".zddc-", 6)) {
        return 0;
    }
    return !name_is_access_file(name, len, access_file_name);
}

int zddc_name_is_reserved(const char *name)
{
    return name && !strncmp(name, ".zddc-", 6);
}

apr_status_t zddc_path_map(apr_pool_t *p, const char *root,
                           const char *url_path,
                           const char *access_file_name, const char **fs)
{
    apr_size_t rlen, n;
    const char *s;
    char *out;

    if (!root || !*root || !url_path) {
        return APR_EINVAL;
    }
    rlen = strlen(root);
    while (rlen > 0 && root[rlen - 1] == '/') {
        rlen--;
    }
    out = apr_palloc(p, rlen + strlen(url_path) + 2);
    memcpy(out, root, rlen);
    n = rlen;

    s = url_path;
    while (*s) {
        const char *seg;
        apr_size_t slen;

        while (*s == '/') {
            s++;
        }
        seg = s;
        while (*s && *s != '/') {
            s++;
        }
        slen = (apr_size_t)(s - seg);
        if (slen == 0) {
            continue;
        }
        if (!zddc_name_is_safe(seg, slen, access_file_name)) {
            return APR_EINVAL;
        }
        out[n++] = '/';
        memcpy(out + n, seg, slen);
        n += slen;
    }
    if (n == 0) {
        out[n++] = '/';     /* the root is "/" and so is the path */
    }
    out[n] = '\0';
    *fs = out;
    return APR_SUCCESS;
}

char *zddc_path_encode(apr_pool_t *p, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;
    char *out, *o;

    if (!path) {
        return apr_pstrdup(p, "");
    }
    out = o = apr_palloc(p, strlen(path) * 3 + 1);
    for (s = (const unsigned char *)path; *s; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
            || is_digit(*s) || *s == '-' || *s == '.' || *s == '_'
            || *s == '~' || *s == '/') {
            *o++ = (char)*s;
        }
        else {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 0x0f];
        }
    }
    *o = '\0';
    return out;
}

char *zddc_path_join(apr_pool_t *p, const char *dir, const char *name)
{
    apr_size_t n;

    if (!dir || !*dir) {
        dir = "/";
    }
    if (!name) {
        name = "";
    }
    n = strlen(dir);
    if (dir[n - 1] == '/') {
        return apr_pstrcat(p, dir, name, NULL);
    }
    return apr_pstrcat(p, dir, "/", name, NULL);
}

apr_uint64_t zddc_hash64(const char *s)
{
    apr_uint64_t h = 14695981039346656037ULL;

    if (!s) {
        return h;
    }
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

const char *zddc_url_parent(apr_pool_t *p, const char *path)
{
    apr_size_t n = strlen(path);
    char *dir;

    while (n > 0 && path[n - 1] == '/') {
        n--;
    }
    if (n == 0) {
        return NULL;
    }
    while (n > 0 && path[n - 1] != '/') {
        n--;
    }
    if (n == 0) {
        return NULL;
    }
    dir = apr_pstrmemdup(p, path, n);
    return dir;
}
