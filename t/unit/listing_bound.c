/* Unit tests for the listing parser's memory bound (zddc_json.c): peak RSS
 * of one parse, read from /proc/self/status, stays within 4 bytes per
 * listing byte plus 8 MiB, whatever the listing holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "tap.h"
#include "zddc_json.h"

#define MIB (1024L * 1024L)
#define BOUND(len) (4L * (long)(len) + 8L * MIB)
#define EITHER (-1)         /* a result not checked */

#if defined(__SANITIZE_ADDRESS__)
/* Freed memory parked in ASan's quarantine would count as the parser's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=0";
}
#endif

/* A field of /proc/self/status in bytes, -1 when unreadable. */
static long status_kib(const char *field)
{
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, field, n) && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10) * 1024L;
        }
    }
    fclose(f);
    return v;
}

/* Reset VmHWM to the current RSS (Linux >= 4.0). */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    int ok_ = f && fputs("5", f) >= 0;

    if (f) {
        ok_ = fclose(f) == 0 && ok_;
    }
    return ok_;
}

/* "[" + n copies of item separated by "," (+ "]"), padded with blanks to
 * exactly len bytes when len is given. */
static char *repeat(apr_pool_t *p, const char *head, const char *item,
                    const char *tail, apr_size_t len, apr_size_t *out_len)
{
    apr_size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
    apr_size_t n = (len - hl - tl + 1) / (il + 1), i, o = 0;
    char *s = apr_palloc(p, len + 1);

    memcpy(s, head, hl);
    o = hl;
    for (i = 0; i < n; i++) {
        if (i) {
            s[o++] = ',';
        }
        memcpy(s + o, item, il);
        o += il;
    }
    memcpy(s + o, tail, tl);
    o += tl;
    memset(s + o, ' ', len - o);
    s[len] = '\0';
    *out_len = len;
    return s;
}

static void bounded(const char *name, const char *json, apr_size_t len,
                    apr_status_t expect, int expect_entries)
{
    apr_pool_t *p;
    apr_array_header_t *e = NULL;
    const char *err = NULL;
    long base, peak;
    apr_status_t rv;
    char msg[256];

    apr_pool_create(&p, NULL);
    base = status_kib("VmRSS");
    ok(reset_peak(), "peak RSS can be reset");
    rv = zddc_listing_parse(json, len, &e, &err, p);
    peak = status_kib("VmHWM");
    if (expect != EITHER) {
        snprintf(msg, sizeof(msg), "%s: parse result", name);
        is_int(rv, expect, msg);
    }
    printf("# err: %s\n", err ? err : "(none)");
    if (expect_entries >= 0) {
        snprintf(msg, sizeof(msg), "%s: entries", name);
        is_int(rv == APR_SUCCESS && e ? e->nelts : -1, expect_entries, msg);
    }
    snprintf(msg, sizeof(msg), "%s: peak RSS +%ld KiB <= %ld KiB (4 x %lu "
             "bytes + 8 MiB)", name, (peak - base) / 1024,
             BOUND(len) / 1024, (unsigned long)len);
    ok(base > 0 && peak > 0 && peak - base <= BOUND(len), msg);
    apr_pool_destroy(p);
}

int main(void)
{
    apr_pool_t *p;
    apr_size_t len, n;
    char *json;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* The finding: 16 MiB of tiny values took ~920 MB. Refused or each
     * element skipped, the bound is what counts (EITHER). */
    json = repeat(p, "[", "0", "]", ZDDC_LISTING_MAX, &len);
    bounded("16 MiB of [0,0,...]", json, len, EITHER, -1);

    /* As many valid entries as fit: the result itself is the cost. */
    json = repeat(p, "[", "{\"name\":\"a\"}", "]", ZDDC_LISTING_MAX, &len);
    n = (ZDDC_LISTING_MAX - 1) / 13;
    bounded("16 MiB of {\"name\":\"a\"} entries", json, len, APR_SUCCESS,
            (int)n);

    /* Tiny values inside one entry's unknown field, at the entry limit. */
    json = repeat(p, "[{\"name\":\"a\",\"x\":[", "0", "]}]",
                  ZDDC_LISTING_ENTRY_MAX, &len);
    bounded("an entry of 64 KiB of tiny values", json, len, APR_SUCCESS, 1);

    /* And past it: the whole 16 MiB in one entry is refused unparsed. */
    json = repeat(p, "[{\"name\":\"a\",\"x\":[", "0", "]}]",
                  ZDDC_LISTING_MAX, &len);
    bounded("one entry of 16 MiB of tiny values", json, len, APR_EGENERAL,
            -1);

    /* Deep nesting inside the limit. */
    json = repeat(p, "[{\"name\":\"a\",\"x\":", "[", "]}]",
                  ZDDC_LISTING_ENTRY_MAX, &len);
    bounded("an entry of 64 KiB of '['", json, len, APR_EGENERAL, -1);

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
