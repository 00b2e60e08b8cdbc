/* A tiny TAP emitter for the C unit tests: plan, ok, is_int, is_str, done.
 * Header-only; every function is static so each test program gets its own. */
#ifndef ZDDC_TAP_H
#define ZDDC_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_planned = -1;
static int tap_run = 0;
static int tap_failed = 0;

static inline void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}

static inline int ok(int cond, const char *name)
{
    tap_run++;
    if (!cond) {
        tap_failed++;
    }
    printf("%sok %d - %s\n", cond ? "" : "not ", tap_run, name);
    fflush(stdout);
    return cond;
}

static inline int is_int(long long got, long long expected,
                         const char *name)
{
    int r = ok(got == expected, name);

    if (!r) {
        printf("#          got: %lld\n#     expected: %lld\n", got, expected);
    }
    return r;
}

static inline int is_str(const char *got, const char *expected,
                         const char *name)
{
    int same = (got == NULL && expected == NULL)
               || (got && expected && !strcmp(got, expected));
    int r = ok(same, name);

    if (!r) {
        printf("#          got: %s%s%s\n", got ? "'" : "", got ? got : "NULL",
               got ? "'" : "");
        printf("#     expected: %s%s%s\n", expected ? "'" : "",
               expected ? expected : "NULL", expected ? "'" : "");
    }
    return r;
}

/* Call last, as "return done();": prints the plan when none was given. */
static inline int done(void)
{
    if (tap_planned < 0) {
        printf("1..%d\n", tap_run);
    }
    else if (tap_planned != tap_run) {
        printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
        return 1;
    }
    return tap_failed ? 1 : 0;
}

#endif
