/* Unit tests for zddc_duration_parse and zddc_duration_format: Go syntax,
 * plain seconds, and the values a configuration must refuse. */
#include <apr_general.h>
#include <apr_strings.h>

#include "tap.h"
#include "zddc_util.h"

#define SEC  1000000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

static void parses(const char *s, long long expected)
{
    apr_interval_time_t d = -12345;
    const char *err = zddc_duration_parse(s, &d);
    char name[160];

    snprintf(name, sizeof(name), "'%s' parses", s);
    is_str(err, NULL, name);
    snprintf(name, sizeof(name), "'%s' is %lld us", s, expected);
    is_int(d, expected, name);
}

static void refuses(const char *s, const char *fragment)
{
    apr_interval_time_t d = 777;
    const char *err = zddc_duration_parse(s, &d);
    char name[160];

    snprintf(name, sizeof(name), "'%s' is refused with a message naming "
             "'%s'", s ? s : "(null)", fragment);
    ok(err != NULL && strstr(err, fragment) != NULL, name);
    if (err) {
        printf("# message: %s\n", err);
    }
    snprintf(name, sizeof(name), "'%s' leaves the output untouched",
             s ? s : "(null)");
    is_int(d, 777, name);
}

static void formats(apr_pool_t *p, long long d, const char *expected)
{
    apr_interval_time_t back = -1;
    const char *s = zddc_duration_format(p, d);
    char name[160];

    snprintf(name, sizeof(name), "%lld us formats as '%s'", d, expected);
    is_str(s, expected, name);
    if (d >= 0) {
        snprintf(name, sizeof(name), "'%s' parses back to %lld us", s, d);
        ok(zddc_duration_parse(s, &back) == NULL && back == d, name);
    }
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);

    parses("90s", 90 * SEC);
    parses("30m", 30 * MIN);
    parses("1h", HOUR);
    parses("1h30m", HOUR + 30 * MIN);
    parses("500ms", 500000);
    parses("1.5h", HOUR + 30 * MIN);
    parses(".5s", SEC / 2);
    parses("2.s", 2 * SEC);
    parses("+45s", 45 * SEC);
    parses("250us", 250);
    parses("250\xc2\xb5s", 250);
    parses("250\xce\xbcs", 250);
    parses("1500ns", 1);
    parses("1h1m1s1ms1us", HOUR + MIN + SEC + 1000 + 1);
    parses("0", 0);
    parses("0s", 0);
    parses("30", 30 * SEC);
    parses("3600", HOUR);
    parses("2562047h", 2562047LL * HOUR);

    refuses("abc", "invalid duration 'abc' (use e.g. 90s, 30m, 1h30m, 500ms)");
    refuses("", "invalid duration ''");
    refuses(NULL, "missing duration");
    refuses("+", "invalid duration");
    refuses("-5s", "invalid duration '-5s': negative (use");
    refuses("-30", "negative");
    refuses("10x", "invalid duration '10x': unknown unit");
    refuses("1.5", "missing unit");
    refuses("1h30", "missing unit");
    refuses("1 h", "unknown unit");
    refuses("90s ", "unknown unit");
    refuses(".s", "invalid duration");
    refuses("1h-5m", "unknown unit");
    refuses("2562048h", "too large");
    refuses("99999999999999999999s", "too large");
    refuses("9999999999999999999", "too large");
    refuses("1e3s", "unknown unit");

    formats(p, 0, "0s");
    formats(p, 45 * SEC, "45s");
    formats(p, 90 * SEC, "1m30s");
    formats(p, HOUR + 30 * MIN, "1h30m");
    formats(p, 500000, "500ms");
    formats(p, 30 * MIN, "30m");
    formats(p, 26 * HOUR, "26h");
    formats(p, SEC + 500000, "1s500ms");
    formats(p, 7, "7us");
    formats(p, -90 * SEC, "-1m30s");

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
