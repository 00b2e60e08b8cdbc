/* Unit tests for entry-name safety, URL-path to cache-path mapping,
 * percent-encoding, URL joining and the temp-file name hash. */
#include <apr_general.h>
#include <apr_strings.h>

#include "tap.h"
#include "zddc_util.h"

#define ROOT "/var/cache/zddc"

static int safe(const char *name, const char *afn)
{
    return zddc_name_is_safe(name, strlen(name), afn);
}

static void maps(apr_pool_t *p, const char *url, const char *afn,
                 const char *expected)
{
    const char *fs = "untouched";
    apr_status_t rv = zddc_path_map(p, ROOT, url, afn, &fs);
    char name[256];

    snprintf(name, sizeof(name), "'%s' maps to '%s'", url, expected);
    is_int(rv, APR_SUCCESS, name);
    is_str(fs, expected, name);
}

static void refused(apr_pool_t *p, const char *url, const char *afn)
{
    const char *fs = "untouched";
    apr_status_t rv = zddc_path_map(p, ROOT, url, afn, &fs);
    char name[256];

    snprintf(name, sizeof(name), "'%s' is refused with APR_EINVAL", url);
    is_int(rv, APR_EINVAL, name);
    snprintf(name, sizeof(name), "'%s' refused leaves the output alone", url);
    is_str(fs, "untouched", name);
}

int main(void)
{
    apr_pool_t *p;
    const char *fs = NULL;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* zddc_name_is_safe */
    ok(safe("123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf", ".htaccess"),
       "a ZDDC document name is safe");
    ok(safe("2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal", NULL),
       "a ZDDC transmittal folder name is safe");
    ok(safe("Rev #3 100% done?.pdf", NULL), "'#', '%', '?' are safe");
    ok(safe("\xc3\x9c" "berpr\xc3\xbc" "fung \xc3\xb1.pdf", NULL),
       "UTF-8 names are safe");
    ok(safe("...", NULL), "'...' is an ordinary name");
    ok(safe(".zddc", NULL), "'.zddc' without the dash is not reserved");
    ok(safe(".htaccess.pdf", ".htaccess"), "a name merely starting like "
       "AccessFileName is safe");
    ok(!safe("", NULL), "empty name is unsafe");
    ok(!safe(".", NULL), "'.' is unsafe");
    ok(!safe("..", NULL), "'..' is unsafe");
    ok(!safe("a/b", NULL), "a name with '/' is unsafe");
    ok(!safe("/etc", NULL), "a name with a leading '/' is unsafe");
    ok(!safe(".zddc-listing.json", NULL), "'.zddc-listing.json' is reserved");
    ok(!safe(".zddc-mirror-state.json", NULL), "the state file is reserved");
    ok(!safe(".htaccess", ".htaccess"), "AccessFileName is unsafe");
    ok(safe(".htaccess", NULL), "without AccessFileName '.htaccess' passes");
    ok(!safe(".acl", ".htaccess .acl"), "second of several AccessFileNames "
       "is unsafe");
    ok(!safe(".htaccess", "\".htaccess\""), "a quoted AccessFileName is "
       "unsafe");
    ok(!zddc_name_is_safe("evil\0.pdf", 9, NULL), "a name with NUL is unsafe");
    ok(zddc_name_is_safe("..x", 2, NULL) == 0, "the length bounds the name "
       "('..' of '..x')");
    ok(!zddc_name_is_safe(NULL, 0, NULL), "NULL name is unsafe");

    /* zddc_name_is_reserved */
    ok(zddc_name_is_reserved(".zddc-listing.html"), ".zddc-listing.html "
       "is reserved");
    ok(zddc_name_is_reserved(".zddc-cache-tmp-1234"), "temp files are "
       "reserved");
    ok(!zddc_name_is_reserved("zddc-listing.json"), "no leading dot, not "
       "reserved");
    ok(!zddc_name_is_reserved(".zddc"), "'.zddc' is not reserved");
    ok(!zddc_name_is_reserved(NULL), "NULL is not reserved");

    /* zddc_path_map */
    maps(p, "/", NULL, ROOT);
    maps(p, "//", NULL, ROOT);
    maps(p, "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf", ".htaccess",
         ROOT "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf");
    maps(p, "/Projects/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal/",
         NULL,
         ROOT "/Projects/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal");
    maps(p, "/a//b///c #1 100%?.pdf", NULL, ROOT "/a/b/c #1 100%?.pdf");
    maps(p, "/\xc3\x9c" "berpr\xc3\xbc" "fung \xc3\xb1.pdf", NULL,
         ROOT "/\xc3\x9c" "berpr\xc3\xbc" "fung \xc3\xb1.pdf");
    maps(p, "/...", NULL, ROOT "/...");
    refused(p, "/../etc/passwd", NULL);
    refused(p, "/a/../../etc", NULL);
    refused(p, "/a/..", NULL);
    refused(p, "/./a", NULL);
    refused(p, "/.zddc-mirror-state.json", NULL);
    refused(p, "/docs/.zddc-listing.json", NULL);
    refused(p, "/docs/.htaccess", ".htaccess");
    ok(zddc_path_map(p, "/", "/a/b", NULL, &fs) == APR_SUCCESS
       && !strcmp(fs, "/a/b"), "root '/' joins without a double slash");
    ok(zddc_path_map(p, ROOT "/", "/a", NULL, &fs) == APR_SUCCESS
       && !strcmp(fs, ROOT "/a"), "a root with a trailing '/' joins cleanly");
    ok(zddc_path_map(p, ROOT "/", "/", NULL, &fs) == APR_SUCCESS
       && !strcmp(fs, ROOT), "the root is returned without trailing '/'");
    ok(zddc_path_map(p, ROOT, NULL, NULL, &fs) == APR_EINVAL,
       "a NULL path is refused");

    /* zddc_path_encode */
    is_str(zddc_path_encode(p, "/123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"),
           "/123456-EL-SPC-2623_A%20%28IFC%29%20-%20Pump%20Spec.pdf",
           "spaces and parentheses are encoded, '/' kept");
    is_str(zddc_path_encode(p, "/a/Rev #3 100% done?.pdf"),
           "/a/Rev%20%233%20100%25%20done%3F.pdf",
           "'#', '%' and '?' are encoded");
    is_str(zddc_path_encode(p, "\xc3\x9c" "berpr\xc3\xbc" "fung \xc3\xb1.pdf"),
           "%C3%9Cberpr%C3%BCfung%20%C3%B1.pdf",
           "UTF-8 bytes are encoded one by one in uppercase hex");
    is_str(zddc_path_encode(p, "AZaz09-._~"), "AZaz09-._~",
           "unreserved characters are kept");
    is_str(zddc_path_encode(p, "a+b&c=d;e:f@g'h\"<>\\"),
           "a%2Bb%26c%3Dd%3Be%3Af%40g%27h%22%3C%3E%5C",
           "sub-delims and the rest are encoded");
    is_str(zddc_path_encode(p, ""), "", "empty stays empty");
    is_str(zddc_path_encode(p, NULL), "", "NULL gives empty");

    /* zddc_url_parent */
    is_str(zddc_url_parent(p, "/a/b.pdf"), "/a/", "parent of a file");
    is_str(zddc_url_parent(p, "/a/b/"), "/a/", "parent of a directory");
    is_str(zddc_url_parent(p, "/a/b//"), "/a/", "trailing slashes");
    is_str(zddc_url_parent(p, "/a"), "/", "parent of a top-level name");
    ok(zddc_url_parent(p, "/") == NULL, "the root has no parent");
    ok(zddc_url_parent(p, "") == NULL, "nor has an empty path");

    /* zddc_path_join */
    is_str(zddc_path_join(p, "/a/", "b c.pdf"), "/a/b c.pdf",
           "join onto a directory with trailing '/'");
    is_str(zddc_path_join(p, "/a", "b"), "/a/b",
           "join onto a directory without trailing '/'");
    is_str(zddc_path_join(p, "/", "x"), "/x", "join onto the root");
    is_str(zddc_path_join(p, "", "x"), "/x", "join onto an empty directory");

    /* zddc_hash64: FNV-1a 64 reference values */
    ok(zddc_hash64("") == 0xcbf29ce484222325ULL, "FNV-1a of '' is the offset "
       "basis");
    ok(zddc_hash64("a") == 0xaf63dc4c8601ec8cULL, "FNV-1a of 'a'");
    ok(zddc_hash64("foobar") == 0x85944171f73967e8ULL, "FNV-1a of 'foobar'");
    ok(zddc_hash64("/a/b.pdf") != zddc_hash64("/a/c.pdf"),
       "different paths hash differently");

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
