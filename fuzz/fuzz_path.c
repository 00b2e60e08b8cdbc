/* libFuzzer target: URL path to cache path mapping, entry-name safety,
 * subtree normalization and matching, percent-encoding. Input fields, one
 * a line: url path, listing entry name, AccessFileName, subtree. */
#include "fuzz.h"
#include "zddc_util.h"

#define ROOT "/var/cache/zddc"

/* Every segment of a mapped path below the root is a safe name. */
static void check_mapped(const char *fs, const char *afn)
{
    const char *s;

    FUZZ_CHECK(!strncmp(fs, ROOT, strlen(ROOT)));
    s = fs + strlen(ROOT);
    FUZZ_CHECK(*s == '\0' || *s == '/');
    while (*s == '/') {
        const char *seg = ++s;
        while (*s && *s != '/') {
            s++;
        }
        FUZZ_CHECK(s > seg);
        FUZZ_CHECK(zddc_name_is_safe(seg, (apr_size_t)(s - seg), afn));
        FUZZ_CHECK(!zddc_name_is_reserved(seg));
    }
    FUZZ_CHECK(*s == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[4];
    const char *fs = NULL, *norm, *m;
    apr_array_header_t *subtrees;
    char *enc;

    fuzz_fields(fuzz_input(data, size), f, 4);

    if (zddc_path_map(fuzz_pool, ROOT, f[0], f[2], &fs) == APR_SUCCESS) {
        check_mapped(fs, f[2]);
    }
    if (zddc_name_is_safe(f[1], strlen(f[1]), f[2])) {
        FUZZ_CHECK(strcmp(f[1], ".") && strcmp(f[1], "..")
                   && !strchr(f[1], '/') && !zddc_name_is_reserved(f[1]));
        FUZZ_CHECK(zddc_path_map(fuzz_pool, ROOT,
                                 zddc_path_join(fuzz_pool, "/", f[1]),
                                 f[2], &fs) == APR_SUCCESS);
    }
    /* Percent-encoding leaves only unreserved characters, '/' and '%'. */
    enc = zddc_path_encode(fuzz_pool, f[0]);
    for (; *enc; enc++) {
        FUZZ_CHECK(apr_isalnum(*enc) || strchr("-._~/%", *enc));
    }

    norm = zddc_subtree_normalize(fuzz_pool, f[3]);
    FUZZ_CHECK(norm[0] == '/');
    FUZZ_CHECK(!strstr(norm, "//"));
    FUZZ_CHECK(!strcmp(norm, "/") || norm[strlen(norm) - 1] != '/');
    subtrees = apr_array_make(fuzz_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(subtrees, const char *) = norm;
    m = zddc_subtree_match(subtrees, f[0]);
    if (m && strcmp(m, "/")) {
        apr_size_t n = strlen(m);
        FUZZ_CHECK(!strncmp(f[0], m, n) && (f[0][n] == '\0'
                                            || f[0][n] == '/'));
    }
    return 0;
}
