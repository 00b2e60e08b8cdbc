/* Unit tests for the cJSON wrapper: ZDDC listing parse, mirror state
 * parse/serialize round trip, RFC 3339 times and JSON quoting. */
#include <apr_general.h>
#include <apr_strings.h>

#include "tap.h"
#include "zddc_json.h"

/* 2025-10-31T12:00:00Z */
#define T_2025_10_31 (1761912000LL * 1000000LL)

static apr_status_t parse(apr_pool_t *p, const char *json,
                          apr_array_header_t **entries, const char **err)
{
    *entries = NULL;
    *err = NULL;
    return zddc_listing_parse(json, strlen(json), entries, err, p);
}

static void listing_refused(apr_pool_t *p, const char *json,
                            const char *fragment, const char *name)
{
    apr_array_header_t *entries;
    const char *err;
    apr_status_t rv = parse(p, json, &entries, &err);

    is_int(rv, APR_EGENERAL, name);
    ok(err && strstr(err, fragment), name);
    printf("# err: %s\n", err ? err : "(null)");
}

static zddc_listing_entry *entry(apr_array_header_t *a, int i)
{
    return &APR_ARRAY_IDX(a, i, zddc_listing_entry);
}

static void test_listing(apr_pool_t *p)
{
    apr_array_header_t *e;
    const char *err;
    char *big;
    const char *json =
        "[\n"
        " {\"name\": \"123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf\","
        "  \"is_dir\": false, \"size\": 482133,"
        "  \"mod_time\": \"2025-10-31T12:00:00Z\", \"acl\": [\"x\"]},\n"
        " {\"name\": \"2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal/\","
        "  \"is_dir\": true, \"mod_time\": \"2025-10-31T13:00:00+01:00\"},\n"
        " {\"name\": \"Drawings/\"},\n"
        " {\"name\": \"\\u00dcberpr\\u00fcfung \\u00f1.pdf\", \"size\": 0,"
        "  \"mod_time\": \"yesterday\"},\n"
        " {\"name\": \"..\", \"is_dir\": true},\n"
        " {\"name\": \"a/b\", \"is_dir\": false, \"size\": -5}\n"
        "]\n";

    is_int(parse(p, json, &e, &err), APR_SUCCESS, "a ZDDC listing parses");
    is_str(err, NULL, "no error for a good listing");
    if (!e || e->nelts != 6) {
        ok(0, "six entries parsed");
        return;
    }
    ok(1, "six entries parsed");
    is_str(entry(e, 0)->name, "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf",
           "file name kept");
    is_int(entry(e, 0)->is_dir, 0, "file is not a directory");
    is_int(entry(e, 0)->size, 482133, "file size");
    is_int(entry(e, 0)->mod_time, T_2025_10_31, "file mod_time (Z)");
    is_str(entry(e, 1)->name,
           "2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal",
           "directory name loses its trailing '/'");
    is_int(entry(e, 1)->is_dir, 1, "directory is a directory");
    is_int(entry(e, 1)->size, -1, "absent size is -1");
    is_int(entry(e, 1)->mod_time, T_2025_10_31, "mod_time with +01:00 offset");
    is_str(entry(e, 2)->name, "Drawings", "is_dir-less name loses '/'");
    is_int(entry(e, 2)->is_dir, 1, "missing is_dir inferred from '/'");
    is_int(entry(e, 2)->mod_time, 0, "absent mod_time is 0");
    is_str(entry(e, 3)->name,
           "\xc3\x9c" "berpr\xc3\xbc" "fung \xc3\xb1.pdf",
           "\\u escapes decode to UTF-8");
    is_int(entry(e, 3)->is_dir, 0, "missing is_dir, no '/': a file");
    is_int(entry(e, 3)->size, 0, "size 0 kept");
    is_int(entry(e, 3)->mod_time, 0, "unparsable mod_time is 0");
    is_str(entry(e, 4)->name, "..", "hostile '..' is passed on for the "
           "caller to skip");
    is_str(entry(e, 5)->name, "a/b", "hostile 'a/b' is passed on");
    is_int(entry(e, 5)->size, -1, "negative size is -1");

    is_int(parse(p, "[]", &e, &err), APR_SUCCESS, "empty array parses");
    is_int(e ? e->nelts : -1, 0, "empty array has no entries");
    is_int(parse(p, " [ ] \n", &e, &err), APR_SUCCESS,
           "blanks around the array are fine");

    listing_refused(p, "{\"name\": \"a\", \"is_dir\": false}", "not a JSON "
                    "array", "an object at top level is refused");
    listing_refused(p, "\"a\"", "not a JSON array", "a string at top level "
                    "is refused");
    listing_refused(p, "[{\"name\": \"a\"}", "not valid JSON",
                    "truncated JSON is refused");
    listing_refused(p, "[] []", "not valid JSON",
                    "trailing garbage is refused");
    listing_refused(p, "", "not valid JSON", "empty input is refused");
    is_int(parse(p, "[{\"name\": \"back\\\\u0000slash\"}]", &e, &err),
           APR_SUCCESS, "an escaped backslash before u0000 is no NUL");
    is_str(e && e->nelts == 1 ? entry(e, 0)->name : NULL,
           "back\\u0000slash", "and the name keeps its backslash");

    ok(zddc_listing_parse("[] ", 2, &e, &err, p) == APR_SUCCESS,
       "only len bytes are read");
    ok(zddc_listing_parse("[]xx", 2, &e, &err, p) == APR_SUCCESS,
       "bytes past len are ignored");

    big = apr_palloc(p, ZDDC_LISTING_MAX + 2);
    memset(big, ' ', ZDDC_LISTING_MAX + 1);
    big[0] = '[';
    big[ZDDC_LISTING_MAX - 1] = ']';
    big[ZDDC_LISTING_MAX + 1] = '\0';
    ok(zddc_listing_parse(big, ZDDC_LISTING_MAX, &e, &err, p) == APR_SUCCESS,
       "a listing of exactly 16 MiB is accepted");
    ok(zddc_listing_parse(big, ZDDC_LISTING_MAX + 1, &e, &err, p)
       == APR_EGENERAL && err && strstr(err, "exceeds"),
       "a listing over 16 MiB is refused");
}

/* One unusable entry costs only itself (SPEC §6.4). */
static void skipped_alone(apr_pool_t *p, const char *bad, const char *why,
                          const char *name)
{
    apr_array_header_t *e = NULL, *sk = NULL;
    const char *err = NULL;
    const char *json = apr_pstrcat(p, "[{\"name\": \"before.pdf\", "
                                   "\"is_dir\": false}, ", bad,
                                   ", {\"name\": \"after/\", \"is_dir\": "
                                   "true}]", NULL);
    apr_status_t rv = zddc_listing_parse_ex(json, strlen(json), &e, &sk, NULL,
                                            &err, p);

    is_int(rv, APR_SUCCESS, apr_psprintf(p, "%s: the listing parses", name));
    ok(e && e->nelts == 2 && !strcmp(entry(e, 0)->name, "before.pdf")
       && !strcmp(entry(e, 1)->name, "after") && entry(e, 1)->is_dir,
       apr_psprintf(p, "%s: its siblings are kept", name));
    ok(sk && sk->nelts == 1
       && APR_ARRAY_IDX(sk, 0, zddc_listing_skip).index == 1
       && strstr(APR_ARRAY_IDX(sk, 0, zddc_listing_skip).why, why),
       apr_psprintf(p, "%s: it alone is skipped (%s)", name, why));
    if (sk && sk->nelts == 1) {
        printf("# why: %s\n", APR_ARRAY_IDX(sk, 0, zddc_listing_skip).why);
    }
    e = NULL;
    rv = zddc_listing_parse(json, strlen(json), &e, &err, p);
    ok(rv == APR_SUCCESS && e && e->nelts == 2,
       apr_psprintf(p, "%s: zddc_listing_parse keeps the siblings too",
                    name));
}

static void test_listing_skips(apr_pool_t *p)
{
    apr_array_header_t *e = NULL, *sk = NULL;
    const char *err = NULL;
    const char *pair = "[{\"name\": \"smile \\ud83d\\ude00.pdf\"}]";

    skipped_alone(p, "{\"name\": \"evil\\u0000.pdf\", \"is_dir\": false}",
                  "NUL", "a NUL in a name");
    skipped_alone(p, "\"a.pdf\"", "not an object", "a string entry");
    skipped_alone(p, "5", "not an object", "a number entry");
    skipped_alone(p, "null", "not an object", "a null entry");
    skipped_alone(p, "{\"is_dir\": true}", "no string", "a missing name");
    skipped_alone(p, "{\"name\": null}", "no string", "a null name");
    skipped_alone(p, "{\"name\": 12}", "no string", "a numeric name");
    skipped_alone(p, "{\"name\": \"a\", \"is_dir\": \"yes\"}",
                  "non-boolean", "a string is_dir");
    skipped_alone(p, "{\"name\": \"a\", \"is_dir\": 1}",
                  "non-boolean", "a numeric is_dir");
    skipped_alone(p, "{\"name\": \"lone \\ud800.pdf\"}", "surrogate",
                  "a lone high surrogate");
    skipped_alone(p, "{\"name\": \"lone \\udc00\"}", "surrogate",
                  "a lone low surrogate");
    skipped_alone(p, "{\"name\": \"x\\ud800\\u0041\"}", "surrogate",
                  "a high surrogate before a non-surrogate escape");

    is_int(zddc_listing_parse_ex(pair, strlen(pair), &e, &sk, NULL, &err, p),
           APR_SUCCESS, "a proper surrogate pair parses");
    is_str(e && e->nelts == 1 ? entry(e, 0)->name : NULL,
           "smile \xf0\x9f\x98\x80.pdf", "and decodes to one code point");
    is_int(sk ? sk->nelts : -1, 0, "nothing skipped for a proper pair");
}

static void test_rfc3339(apr_pool_t *p)
{
    is_int(zddc_rfc3339_parse("2025-10-31T12:00:00Z"), T_2025_10_31,
           "UTC 'Z' time");
    is_int(zddc_rfc3339_parse("2025-10-31t12:00:00z"), T_2025_10_31,
           "lowercase t and z");
    is_int(zddc_rfc3339_parse("2025-10-31T14:30:00+02:30"), T_2025_10_31,
           "positive offset");
    is_int(zddc_rfc3339_parse("2025-10-31T07:00:00-05:00"), T_2025_10_31,
           "negative offset");
    is_int(zddc_rfc3339_parse("2025-10-31T12:00:00.123456789Z"),
           T_2025_10_31 + 123456, "nanoseconds truncated to microseconds");
    is_int(zddc_rfc3339_parse("2025-10-31T13:00:00.5+01:00"),
           T_2025_10_31 + 500000, "fraction with offset");
    is_int(zddc_rfc3339_parse("1970-01-01T00:00:01Z"), 1000000LL,
           "one second after the epoch");
    is_int(zddc_rfc3339_parse("2024-02-29T00:00:00Z"),
           1709164800LL * 1000000LL, "leap day");
    is_int(zddc_rfc3339_parse("2000-03-01T00:00:00Z"),
           951868800LL * 1000000LL, "2000 is a leap year");
    is_int(zddc_rfc3339_parse("2025-02-29T00:00:00Z"), 0, "no Feb 29 in 2025");
    is_int(zddc_rfc3339_parse("1900-02-29T00:00:00Z"), 0,
           "1900 is not a leap year");
    is_int(zddc_rfc3339_parse("2025-13-01T00:00:00Z"), 0, "month 13");
    is_int(zddc_rfc3339_parse("2025-10-31T24:00:00Z"), 0, "hour 24");
    is_int(zddc_rfc3339_parse("2025-10-31T12:00:00"), 0, "missing zone");
    is_int(zddc_rfc3339_parse("2025-10-31T12:00:00Zjunk"), 0,
           "trailing garbage");
    is_int(zddc_rfc3339_parse("2025-10-31T12:00:00.Z"), 0, "empty fraction");
    is_int(zddc_rfc3339_parse("2025-10-31T12:00:00+0100"), 0,
           "offset without colon");
    is_int(zddc_rfc3339_parse("2025-10-31"), 0, "date only");
    is_int(zddc_rfc3339_parse("Fri, 31 Oct 2025 12:00:00 GMT"), 0,
           "HTTP date is not RFC 3339");
    is_int(zddc_rfc3339_parse(NULL), 0, "NULL");

    is_str(zddc_rfc3339_format(p, T_2025_10_31), "2025-10-31T12:00:00Z",
           "format in UTC with Z");
    is_str(zddc_rfc3339_format(p, T_2025_10_31 + 999999),
           "2025-10-31T12:00:00Z", "format drops sub-second precision");
    is_str(zddc_rfc3339_format(p, 0), "1970-01-01T00:00:00Z", "the epoch");
    is_int(zddc_rfc3339_parse(zddc_rfc3339_format(p, 1709164800LL * 1000000)),
           1709164800LL * 1000000, "format then parse round-trips");
}

static void test_state(apr_pool_t *p)
{
    apr_hash_t *h = NULL, *back = NULL;
    zddc_state_rec *r, a = { 0 }, b = { 0 };
    const char *err = NULL;
    const char *json =
        "{\"subtrees\": {"
        " \"/Projects\": {\"last_walk_at\": \"2025-10-31T13:00:00.25+01:00\","
        "   \"duration_ms\": 1500, \"dirs\": 12, \"files\": 340,"
        "   \"fetched\": 7, \"skipped\": 2, \"purged\": 1, \"errors\": 0,"
        "   \"bytes\": 5368709120, \"future_field\": [1, 2]},"
        " \"/\": {\"last_walk_at\": \"2025-10-31T12:00:00Z\"}"
        "}, \"version\": 2}";
    char *out;

    is_int(zddc_state_parse(json, strlen(json), &h, &err, p), APR_SUCCESS,
           "a state file with extra fields parses");
    is_int(h ? (long long)apr_hash_count(h) : -1, 2, "two subtrees");
    r = h ? apr_hash_get(h, "/Projects", APR_HASH_KEY_STRING) : NULL;
    ok(r != NULL, "/Projects is present");
    if (r) {
        is_int(r->last_walk_at, T_2025_10_31 + 250000, "last_walk_at");
        is_int(r->duration, 1500000, "duration_ms becomes microseconds");
        is_int((long long)r->dirs, 12, "dirs");
        is_int((long long)r->files, 340, "files");
        is_int((long long)r->fetched, 7, "fetched");
        is_int((long long)r->skipped, 2, "skipped");
        is_int((long long)r->purged, 1, "purged");
        is_int((long long)r->errors, 0, "errors");
        is_int((long long)r->bytes, 5368709120LL, "bytes beyond 32 bits");
    }
    r = h ? apr_hash_get(h, "/", APR_HASH_KEY_STRING) : NULL;
    ok(r && r->last_walk_at == T_2025_10_31 && r->files == 0,
       "the Go master's minimal record parses, counters 0");

    /* Go's zero time means never. */
    json = "{\"subtrees\": {\"/a\": {\"last_walk_at\": "
           "\"0001-01-01T00:00:00Z\"}, \"/b\": {}}}";
    is_int(zddc_state_parse(json, strlen(json), &h, &err, p), APR_SUCCESS,
           "zero time and empty records parse");
    r = apr_hash_get(h, "/a", APR_HASH_KEY_STRING);
    is_int(r ? r->last_walk_at : -1, 0, "Go's zero time is never walked");
    r = apr_hash_get(h, "/b", APR_HASH_KEY_STRING);
    is_int(r ? r->last_walk_at : -1, 0, "missing last_walk_at is never");

    json = "{\"subtrees\": {}}";
    is_int(zddc_state_parse(json, strlen(json), &h, &err, p), APR_SUCCESS,
           "no subtrees yet parses");
    is_int(apr_hash_count(h), 0, "and is empty");

#define CORRUPT(j, why) \
    is_int(zddc_state_parse(j, strlen(j), &h, &err, p), APR_EGENERAL, \
           "corrupt: " why)
    CORRUPT("", "empty file");
    CORRUPT("{\"subtrees\": {\"/a\": {}}", "truncated");
    CORRUPT("[]", "array at top level");
    CORRUPT("{}", "missing subtrees");
    CORRUPT("{\"Subtrees\": {}}", "subtrees key is case-sensitive");
    CORRUPT("{\"subtrees\": []}", "subtrees is an array");
    CORRUPT("{\"subtrees\": {\"/a\": \"2025-10-31T12:00:00Z\"}}",
            "record is a string");
    CORRUPT("{\"subtrees\": {\"/a\": {\"last_walk_at\": 1761912000}}}",
            "last_walk_at is a number");
    CORRUPT("{\"subtrees\": {\"/a\": {\"last_walk_at\": \"today\"}}}",
            "last_walk_at unparsable");
    CORRUPT("{\"subtrees\": {\"/a\": {\"files\": \"3\"}}}",
            "a counter is a string");
    CORRUPT("{\"subtrees\": {\"/a\": {\"bytes\": -1}}}",
            "a counter is negative");
    CORRUPT("{\"subtrees\": {\"/a\": {\"duration_ms\": true}}}",
            "duration_ms is a boolean");
    CORRUPT("{\"subtrees\": {}} x", "trailing garbage");
    ok(err && strstr(err, "valid JSON"), "the error says why");

    /* Serialize and read back. */
    h = apr_hash_make(p);
    a.last_walk_at = T_2025_10_31;
    a.duration = 90 * 1000000LL + 250000;
    a.dirs = 3; a.files = 41; a.fetched = 5; a.skipped = 1;
    a.purged = 2; a.errors = 1; a.bytes = 18446744073709549568ULL;
    apr_hash_set(h, "/Projects/2025-10-31_123456-EL-TRN-0001 (IFR) - "
                 "Transmittal", APR_HASH_KEY_STRING, &a);
    apr_hash_set(h, "/Vendors/\"ACME\"\\", APR_HASH_KEY_STRING, &b);
    out = zddc_state_serialize(h, p);
    ok(strstr(out, "\"last_walk_at\": \"2025-10-31T12:00:00Z\"") != NULL,
       "serialized last_walk_at is RFC 3339 UTC");
    ok(strstr(out, "\"duration_ms\": 90250") != NULL,
       "serialized duration is milliseconds");
    ok(strstr(out, "/Vendors/\\\"ACME\\\"\\\\") != NULL,
       "subtree keys are JSON-escaped");
    ok(strstr(out, "\"/Projects") < strstr(out, "\"/Vendors"),
       "keys are in stable sorted order");
    is_int(zddc_state_parse(out, strlen(out), &back, &err, p), APR_SUCCESS,
           "serialized state parses back");
    r = back ? apr_hash_get(back, "/Projects/2025-10-31_123456-EL-TRN-0001 "
                            "(IFR) - Transmittal", APR_HASH_KEY_STRING) : NULL;
    ok(r && r->last_walk_at == a.last_walk_at && r->duration == 90250000
       && r->dirs == 3 && r->files == 41 && r->fetched == 5
       && r->skipped == 1 && r->purged == 2 && r->errors == 1
       && r->bytes == a.bytes,
       "the record survives the round trip");
    r = back ? apr_hash_get(back, "/Vendors/\"ACME\"\\", APR_HASH_KEY_STRING)
             : NULL;
    ok(r && r->last_walk_at == 0, "a never-walked record round-trips as 0");

    out = zddc_state_serialize(apr_hash_make(p), p);
    is_int(zddc_state_parse(out, strlen(out), &back, &err, p), APR_SUCCESS,
           "an empty state serializes to valid state");
    is_int(apr_hash_count(back), 0, "with no subtrees");
}

static void test_quote(apr_pool_t *p)
{
    is_str(zddc_json_quote(p, "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"),
           "\"123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf\"", "plain name");
    is_str(zddc_json_quote(p, "say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"",
           "quote and backslash escaped");
    is_str(zddc_json_quote(p, "a\nb\tc\rd\be\ff"),
           "\"a\\nb\\tc\\rd\\be\\ff\"", "short control escapes");
    is_str(zddc_json_quote(p, "\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"",
           "other control chars as \\u00XX");
    is_str(zddc_json_quote(p, "<script>&"), "\"\\u003cscript\\u003e\\u0026\"",
           "HTML-significant characters escaped");
    is_str(zddc_json_quote(p, "\xc3\x9c" "berpr\xc3\xbc" "fung"),
           "\"\xc3\x9c" "berpr\xc3\xbc" "fung\"", "UTF-8 passes through");
    is_str(zddc_json_quote(p, ""), "\"\"", "empty string");
    is_str(zddc_json_quote(p, NULL), "null", "NULL is null");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_listing(p);
    test_listing_skips(p);
    test_rfc3339(p);
    test_state(p);
    test_quote(p);
    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
