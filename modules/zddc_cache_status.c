/* RFC 9211 Cache-Status: building this cache's member and reading the last
 * member of an upstream's field (RFC 8941 list syntax, parsed strictly). */
#include <apr_strings.h>
#include <apr_lib.h>
#include <string.h>
#include <strings.h>

#include "zddc_cache_status.h"

static int is_tchar(int c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~:/", c));
}

static int is_sf_token(const char *s)
{
    if (!*s || !(apr_isalpha(*s) || *s == '*')) {
        return 0;
    }
    for (; *s; s++) {
        if (!is_tchar((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

/* An sf-string: printable ASCII only, '"' and '\' escaped; anything else
 * is replaced by '?' (a header must not carry it). */
static const char *sf_string(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *out = apr_palloc(p, 2 * n + 3), *o = out;

    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else {
            *o++ = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *zddc_cache_status_member(apr_pool_t *p, const char *name,
                                     const char *verdict, int stored,
                                     const char *detail)
{
    const char *item = (name && is_sf_token(name)) ? name
                       : sf_string(p, name ? name : "zddc-mirror");
    const char *params;

    if (!strcmp(verdict, "HIT")) {
        params = "; hit";
    }
    else if (!strcmp(verdict, "REVALIDATED")) {
        params = "; fwd=stale; fwd-status=304";
    }
    else if (!strcmp(verdict, "MISS")) {
        params = stored ? "; fwd=uri-miss; stored" : "; fwd=uri-miss";
    }
    else if (!strcmp(verdict, "BYPASS")) {
        params = "; fwd=bypass";
    }
    else if (!strcmp(verdict, "UPDATING")) {
        params = "; hit; detail=updating";
    }
    else if (!strcmp(verdict, "STALE")) {
        params = apr_pstrcat(p, "; hit; detail=",
                             sf_string(p, detail ? detail
                                       : "stale: upstream unreachable"),
                             NULL);
        detail = NULL;
    }
    else {
        params = "";
    }
    if (detail) {
        params = apr_pstrcat(p, params, "; detail=", sf_string(p, detail),
                             NULL);
    }
    return apr_pstrcat(p, item, params, NULL);
}

const char *zddc_cache_status_append(apr_pool_t *p, const char *upstream,
                                     const char *member)
{
    const char *s = upstream;

    while (s && (*s == ' ' || *s == '\t')) {
        s++;
    }
    if (!s || !*s) {
        return member;
    }
    return apr_pstrcat(p, s, ", ", member, NULL);
}

/* ---- a strict reader for what we need of RFC 8941 lists ---------------- */

typedef struct {
    const char *s;
    int bad;
} sf_cursor;

static void skip_ows(sf_cursor *c)
{
    while (*c->s == ' ' || *c->s == '\t') {
        c->s++;
    }
}

/* Reads a bare item; *str gets a string's or token's text (else NULL). */
static void read_bare_item(sf_cursor *c, apr_pool_t *p, const char **str)
{
    const char *start;

    *str = NULL;
    if (*c->s == '"') {
        char *out = apr_palloc(p, strlen(c->s) + 1), *o = out;
        c->s++;
        while (*c->s && *c->s != '"') {
            if (*c->s == '\\') {
                c->s++;
                if (*c->s != '"' && *c->s != '\\') {
                    c->bad = 1;
                    return;
                }
            }
            else if ((unsigned char)*c->s < 0x20
                     || (unsigned char)*c->s > 0x7e) {
                c->bad = 1;
                return;
            }
            *o++ = *c->s++;
        }
        if (*c->s != '"') {
            c->bad = 1;
            return;
        }
        c->s++;
        *o = '\0';
        *str = out;
        return;
    }
    start = c->s;
    if (apr_isalpha(*c->s) || *c->s == '*') {
        while (is_tchar((unsigned char)*c->s)) {
            c->s++;
        }
        *str = apr_pstrmemdup(p, start, (apr_size_t)(c->s - start));
        return;
    }
    if (*c->s == '?' && (c->s[1] == '0' || c->s[1] == '1')) {
        c->s += 2;
        return;
    }
    if (*c->s == '-' || apr_isdigit(*c->s)) {
        c->s++;
        while (apr_isdigit(*c->s) || *c->s == '.') {
            c->s++;
        }
        return;
    }
    if (*c->s == ':') {
        c->s++;
        while (apr_isalnum(*c->s) || *c->s == '+' || *c->s == '/'
               || *c->s == '=') {
            c->s++;
        }
        if (*c->s++ != ':') {
            c->bad = 1;
        }
        return;
    }
    c->bad = 1;
}

static int mentions_stale(const char *s)
{
    for (; *s; s++) {
        if (!strncasecmp(s, "stale", 5)) {
            return 1;
        }
    }
    return 0;
}

int zddc_cache_status_says_stale(const char *value)
{
    apr_pool_t *p;
    sf_cursor c;
    int stale = 0;

    if (!value || !*value || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    c.s = value;
    c.bad = 0;
    for (;;) {
        const char *item;
        int hit = 0, fwd_stale = 0, fwd_status = 0, detail_stale = 0;

        skip_ows(&c);
        read_bare_item(&c, p, &item);
        while (!c.bad && *c.s == ';') {
            const char *key, *val = NULL;

            c.s++;
            while (*c.s == ' ') {
                c.s++;
            }
            key = c.s;
            if (!(apr_islower(*key) || *key == '*')) {
                c.bad = 1;
                break;
            }
            c.s++;
            while (apr_islower(*c.s) || apr_isdigit(*c.s) || *c.s == '_'
                   || *c.s == '-' || *c.s == '.' || *c.s == '*') {
                c.s++;
            }
            key = apr_pstrmemdup(p, key, (apr_size_t)(c.s - key));
            if (*c.s == '=') {
                c.s++;
                read_bare_item(&c, p, &val);
            }
            if (!strcmp(key, "hit")) {
                hit = 1;
            }
            else if (!strcmp(key, "fwd")) {
                fwd_stale = val && !strcmp(val, "stale");
            }
            else if (!strcmp(key, "fwd-status")) {
                fwd_status = 1;
            }
            else if (!strcmp(key, "detail")) {
                detail_stale = val && mentions_stale(val);
            }
            skip_ows(&c);
        }
        if (c.bad) {
            stale = 0;
            break;
        }
        stale = (hit && detail_stale) || (fwd_stale && !fwd_status);
        skip_ows(&c);
        if (!*c.s) {
            break;
        }
        if (*c.s != ',') {
            stale = 0;
            break;
        }
        c.s++;
    }
    apr_pool_destroy(p);
    return stale;
}
