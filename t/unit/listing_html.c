/* Unit tests for the HTML listing rendered from a parsed JSON listing:
 * escaping, percent-encoded links, sort order, parent link. */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "tap.h"
#include "zddc_listing.h"

static int has(const char *html, const char *needle)
{
    return html && strstr(html, needle) != NULL;
}

static void add(apr_array_header_t *a, const char *name, int is_dir,
                apr_off_t size, apr_time_t mod_time)
{
    zddc_listing_entry *e = apr_array_push(a);

    e->name = name;
    e->is_dir = is_dir;
    e->size = size;
    e->mod_time = mod_time;
}

/* Position of needle in html, or a large number when absent. */
static long long pos(const char *html, const char *needle)
{
    const char *s = html ? strstr(html, needle) : NULL;

    return s ? (long long)(s - html) : 1LL << 40;
}

int main(void)
{
    apr_pool_t *p;
    apr_array_header_t *a, *none;
    const char *html;
    const char *parsed =
        "[{\"name\": \"Zeta.pdf\", \"is_dir\": false, \"size\": 1},"
        " {\"name\": \"Alpha/\", \"is_dir\": true}]";
    const char *err;

    setenv("TZ", "UTC", 1);
    apr_initialize();
    apr_pool_create(&p, NULL);

    is_str(zddc_html_escape(p, "<script>alert('x')</script> & \"q\""),
           "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
           "&amp; &quot;q&quot;",
           "all five HTML-significant characters are escaped");
    is_str(zddc_html_escape(p, "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"),
           "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf",
           "an ordinary name is unchanged");
    is_str(zddc_html_escape(p, ""), "", "empty stays empty");
    {
        /* Each '"' takes six bytes: a name of quotes must not overrun
         * (found by fuzz_listing: its copy overlapped the next allocation). */
        const char *q = "\"\"\"\"\"\"\"\"";
        const char *e = zddc_html_escape(p, q);
        const char *after = apr_pstrdup(p, "next allocation");
        is_str(e, "&quot;&quot;&quot;&quot;&quot;&quot;&quot;&quot;",
               "a name of eight quotes is escaped whole");
        is_str(after, "next allocation", "and the next allocation is intact");
    }

    a = apr_array_make(p, 8, sizeof(zddc_listing_entry));
    add(a, "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf", 0, 482133,
        1761912000LL * 1000000LL);
    add(a, "2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal", 1, -1, 0);
    add(a, "Rev #3 100% done?.pdf", 0, 10, 0);
    add(a, "\xc3\x9c" "berpr\xc3\xbc" "fung \xc3\xb1.pdf", 0, -1, 0);
    add(a, "<script>alert(1)<\\script>.pdf", 0, 5, 0);
    add(a, "A-Drawings", 1, -1, 0);
    add(a, "..", 1, -1, 0);
    add(a, ".", 1, -1, 0);
    add(a, "a/b", 0, 1, 0);
    add(a, ".zddc-listing.json", 0, 1, 0);

    html = zddc_listing_render_html(p, "/Projects/123456 & <Co>/", a);
    ok(html != NULL, "a page is rendered");
    ok(!strncmp(html ? html : "", "<!DOCTYPE html>", 15),
       "it starts with the HTML5 doctype");
    ok(has(html, "<meta charset=\"utf-8\">"), "it declares UTF-8");
    ok(has(html, "<title>Index of /Projects/123456 &amp; &lt;Co&gt;/</title>"),
       "the title names the directory, escaped");
    ok(has(html, "</html>"), "the page is complete");
    ok(has(html, "<a href=\"../\">"), "a parent link below the root");
    ok(has(html, "<a href=\"123456-EL-SPC-2623_A%20%28IFC%29%20-%20Pump%20"
               "Spec.pdf\">123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf</a>"),
       "a document link is percent-encoded, its text is the name");
    ok(has(html, "<a href=\"2025-10-31_123456-EL-TRN-0001%20%28IFR%29%20-%20"
               "Transmittal/\">2025-10-31_123456-EL-TRN-0001 (IFR) - "
               "Transmittal/</a>"),
       "a directory link and its text end in '/'");
    ok(has(html, "<a href=\"Rev%20%233%20100%25%20done%3F.pdf\">"),
       "'#', '%' and '?' in a name are encoded in the link");
    ok(has(html, "<a href=\"%C3%9Cberpr%C3%BCfung%20%C3%B1.pdf\">\xc3\x9c"
               "berpr\xc3\xbc" "fung \xc3\xb1.pdf</a>"),
       "a UTF-8 name is encoded in the link and shown as is");
    ok(has(html, "&lt;script&gt;alert(1)&lt;\\script&gt;.pdf</a>"),
       "a hostile name is escaped in the text");
    ok(has(html, "href=\"%3Cscript%3Ealert%281%29%3C%5Cscript%3E.pdf\""),
       "a hostile name is percent-encoded in the link");
    ok(!has(html, "<script>"), "no raw <script> anywhere");
    ok(has(html, "<td class=\"size\" title=\"482133 bytes\">471K</td>"),
       "the size is human-readable, exact bytes in its title");
    ok(has(html, "<time datetime=\"2025-10-31T12:00:00Z\">2025-10-31 12:00"
               "</time>"),
       "the modification time in local time (TZ=UTC here), RFC 3339 in "
       "its datetime");
    ok(has(html, ">Parent Directory</a>"), "the parent link is named as "
       "mod_autoindex names it");
    ok(!has(html, "class=\"zddc-stale\""), "no offline banner on a fresh listing");
    ok(!has(html, "href=\"../\">..</a>") && !has(html, "href=\"./\"")
       && !has(html, "href=\"a/b\"") && !has(html, "a%2Fb")
       && !has(html, ".zddc-listing.json"),
       "'..', '.', 'a/b' and reserved names get no row");
    ok(pos(html, "2025-10-31_123456") < pos(html, "A-Drawings/"),
       "directories sort by byte order ('2' before 'A')");
    ok(pos(html, "A-Drawings/") < pos(html, "123456-EL-SPC"),
       "directories come before files");
    ok(pos(html, "123456-EL-SPC") < pos(html, "&lt;script")
       && pos(html, "&lt;script") < pos(html, "Rev%20")
       && pos(html, "Rev%20") < pos(html, "%C3%9Cberpr"),
       "files sort in byte order ('1' < '<' < 'R' < UTF-8)");
    ok(pos(html, "href=\"../\"") < pos(html, "A-Drawings/"),
       "the parent link comes first");

    none = apr_array_make(p, 1, sizeof(zddc_listing_entry));
    html = zddc_listing_render_html(p, "/", none);
    ok(has(html, "<title>Index of /</title>"), "the root page has a title");
    ok(!has(html, "href=\"../\""), "no parent link at the root");
    ok(!has(html, "<a href"), "an empty root page has no links");

    ok(zddc_listing_parse(parsed, strlen(parsed), &a, &err, p) == APR_SUCCESS,
       "a JSON sidecar parses");
    html = zddc_listing_render_html(p, "/x/", a);
    ok(pos(html, "href=\"Alpha/\">Alpha/</a>") < pos(html, "Zeta.pdf"),
       "a parsed sidecar renders directory first, with its '/'");
    ok(has(html, "title=\"1 bytes\">1</td>"), "file size from the sidecar");

    {
        zddc_listing_view v = { 0 };
        v.stale = 1;
        v.confirmed_at = 1761912000LL * 1000000LL;
        v.now = v.confirmed_at + apr_time_from_sec(3 * 3600 + 5);
        html = zddc_listing_render_html_view(p, "/x/", a, &v);
        ok(has(html, "class=\"zddc-stale\""), "a stale listing has a banner");
        ok(has(html, "master could not be reached"),
           "saying the master could not be reached");
        ok(has(html, "last confirmed <time datetime=\"2025-10-31T12:00:00Z\">"
                     "2025-10-31 12:00</time> (3 h ago)"),
           "and when this copy was last confirmed");
        ok(pos(html, "class=\"zddc-stale\"") < pos(html, "<table>"),
           "above the table");
        v.confirmed_at = 0;
        html = zddc_listing_render_html_view(p, "/x/", a, &v);
        ok(has(html, "not known"), "an unknown confirmation time is said");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
