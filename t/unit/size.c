/* Unit tests for zddc_size_parse (ZddcCacheMaxFileSize): bytes with K, M or
 * G suffixes, and the values a configuration must refuse. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>

#include "tap.h"
#include "zddc_util.h"

static void parses(const char *s, long long expected)
{
    apr_int64_t n = -12345;
    const char *err = zddc_size_parse(s, &n);
    char name[160];

    snprintf(name, sizeof(name), "'%s' parses", s);
    is_str(err, NULL, name);
    snprintf(name, sizeof(name), "'%s' is %lld bytes", s, expected);
    is_int(n, expected, name);
}

static void refuses(const char *s, const char *fragment)
{
    apr_int64_t n = 777;
    const char *err = zddc_size_parse(s, &n);
    char name[160];

    snprintf(name, sizeof(name), "'%s' is refused with a message naming "
             "'%s'", s ? s : "(null)", fragment);
    ok(err != NULL && strstr(err, fragment) != NULL, name);
    if (err) {
        printf("# message: %s\n", err);
    }
    snprintf(name, sizeof(name), "'%s' leaves the output untouched",
             s ? s : "(null)");
    is_int(n, 777, name);
}

int main(void)
{
    apr_initialize();

    parses("0", 0);
    parses("1", 1);
    parses("1048576", 1048576);
    parses("512K", 512LL * 1024);
    parses("512k", 512LL * 1024);
    parses("100M", 100LL * 1024 * 1024);
    parses("2g", 2LL * 1024 * 1024 * 1024);
    parses("9223372036854775807", 9223372036854775807LL);
    parses("8589934591G", 8589934591LL * 1024 * 1024 * 1024);

    refuses(NULL, "missing size");
    refuses("", "invalid size ''");
    refuses("-1", "invalid size '-1': not a number of bytes");
    refuses("+5", "not a number of bytes");
    refuses("K", "not a number of bytes");
    refuses("10x", "invalid size '10x'");
    refuses("10 M", "not a number of bytes");
    refuses("10MB", "not a number of bytes");
    refuses("1.5M", "not a number of bytes");
    refuses("10M ", "not a number of bytes");
    refuses("9223372036854775808", "too large");
    refuses("99999999999999999999", "too large");
    refuses("8589934592G", "too large");
    refuses("unlimited", "not a number of bytes");

    apr_terminate();
    return done();
}
