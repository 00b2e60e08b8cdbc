/* Unit tests for subtree normalization and longest-prefix matching on
 * segment boundaries (SPEC §3, §6). */
#include <apr_general.h>
#include <apr_tables.h>
#include <apr_strings.h>

#include "tap.h"
#include "zddc_util.h"

static apr_array_header_t *list(apr_pool_t *p, const char *const *s)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    for (; *s; s++) {
        APR_ARRAY_PUSH(a, const char *) = zddc_subtree_normalize(p, *s);
    }
    return a;
}

int main(void)
{
    apr_pool_t *p;
    const char *const mixed[] = {
        "/", "/Projects", "Projects/123456/", "/Vendors/ACME", NULL
    };
    const char *const no_root[] = { "/a", "/a/b", NULL };
    apr_array_header_t *m, *n, *empty;

    apr_initialize();
    apr_pool_create(&p, NULL);

    is_str(zddc_subtree_normalize(p, ""), "/", "empty means '/'");
    is_str(zddc_subtree_normalize(p, "/"), "/", "'/' stays '/'");
    is_str(zddc_subtree_normalize(p, "///"), "/", "'///' is '/'");
    is_str(zddc_subtree_normalize(p, "a"), "/a", "leading '/' added");
    is_str(zddc_subtree_normalize(p, "/a/"), "/a", "trailing '/' removed");
    is_str(zddc_subtree_normalize(p, "a/b//"), "/a/b", "both fixed");
    is_str(zddc_subtree_normalize(p, "/a//b"), "/a/b", "inner '//' folded");
    is_str(zddc_subtree_normalize(p, "  /Projects/ "), "/Projects",
           "surrounding blanks trimmed");
    is_str(zddc_subtree_normalize(p,
               "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal/"),
           "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal",
           "a ZDDC folder name is kept as is");
    is_str(zddc_subtree_normalize(p, NULL), "/", "NULL means '/'");

    m = list(p, mixed);
    n = list(p, no_root);
    empty = apr_array_make(p, 1, sizeof(const char *));

    is_str(zddc_subtree_match(m, "/Projects"), "/Projects",
           "exact subtree matches");
    is_str(zddc_subtree_match(m, "/Projects/"), "/Projects",
           "subtree with trailing '/' matches");
    is_str(zddc_subtree_match(m, "/Projects/x.pdf"), "/Projects",
           "a file under the subtree matches");
    is_str(zddc_subtree_match(m, "/Projects/123456/"
               "123456-EL-SPC-2623_A (IFC) - Pump Spec.pdf"),
           "/Projects/123456", "the longest subtree wins");
    is_str(zddc_subtree_match(m, "/Projects/1234567/a"), "/Projects",
           "'/Projects/123456' does not match '/Projects/1234567'");
    is_str(zddc_subtree_match(m, "/ProjectsX"), "/",
           "'/Projects' does not match '/ProjectsX'; '/' catches it");
    is_str(zddc_subtree_match(m, "/Vendors/ACME/doc.pdf"), "/Vendors/ACME",
           "another subtree matches");
    is_str(zddc_subtree_match(m, "/"), "/", "'/' matches the root");
    is_str(zddc_subtree_match(m, ""), "/", "empty URI is the root");

    is_str(zddc_subtree_match(n, "/a"), "/a", "'/a' matches '/a'");
    is_str(zddc_subtree_match(n, "/a/"), "/a", "'/a' matches '/a/'");
    is_str(zddc_subtree_match(n, "/a/x"), "/a", "'/a' matches '/a/x'");
    is_str(zddc_subtree_match(n, "/ab"), NULL, "'/a' does not match '/ab'");
    is_str(zddc_subtree_match(n, "/a/bc"), "/a", "'/a/b' does not match "
           "'/a/bc'");
    is_str(zddc_subtree_match(n, "/a/b/c"), "/a/b", "'/a/b' wins for '/a/b/c'");
    is_str(zddc_subtree_match(n, "/"), NULL, "root outside every subtree");
    is_str(zddc_subtree_match(n, "/b/a"), NULL, "'/b/a' is outside '/a'");
    is_str(zddc_subtree_match(empty, "/a"), NULL, "no subtrees, no match");
    is_str(zddc_subtree_match(NULL, "/a"), NULL, "NULL list, no match");

    {
        struct { const char *line; const char *want; } cases[] = {
            { "/Project 123456", "/Project 123456" },
            { "\"/Project 123456\", \"/Project 654321\"",
              "/Project 123456|/Project 654321" },
            { "/Project 123456, /Project 654321/",
              "/Project 123456|/Project 654321" },
            { "'/A, with comma', /B", "/A, with comma|/B" },
            { "  /a ,, /b  ", "/a|/b" },
            { "\"\"", "/" },
            { "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal",
              "/2025-10-31_123456-EL-TRN-0001 (IFR) - Transmittal" },
        };
        const char *bad[] = { "\"/a", "'/a\" ", "\"/a\" x", NULL };
        apr_size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            apr_array_header_t *out = apr_array_make(p, 2,
                                                     sizeof(const char *));
            const char *err = zddc_subtree_list_parse(p, cases[i].line, out);
            const char *got = err ? err : apr_array_pstrcat(p, out, '|');
            is_str(got, cases[i].want,
                   apr_psprintf(p, "subtree list '%s'", cases[i].line));
        }
        for (i = 0; bad[i]; i++) {
            apr_array_header_t *out = apr_array_make(p, 2,
                                                     sizeof(const char *));
            ok(zddc_subtree_list_parse(p, bad[i], out) != NULL,
               apr_psprintf(p, "subtree list '%s' is refused", bad[i]));
        }
    }

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
