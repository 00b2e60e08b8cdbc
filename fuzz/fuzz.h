/* Shared by the libFuzzer targets: APR set up once, a pool cleared per
 * input, the input as a NUL-terminated copy, and a check that aborts. */
#ifndef ZDDC_FUZZ_H
#define ZDDC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_pools.h>
#include <apr_strings.h>

static apr_pool_t *fuzz_pool;

/* A property the code under test promises; a violation is a finding. */
#define FUZZ_CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                #cond); \
        abort(); \
    } \
} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_initialize();
    apr_pool_create(&fuzz_pool, NULL);
    return 0;
}

/* The input as a string in a pool cleared before each input; embedded NULs
 * end the string early, as they would in a header or directive. */
static inline char *fuzz_input(const uint8_t *data, size_t size)
{
    apr_pool_clear(fuzz_pool);
    return apr_pstrmemdup(fuzz_pool, (const char *)data, size);
}

/* Split the input at its first n-1 newlines into n fields (missing fields
 * are empty strings). */
static inline void fuzz_fields(char *s, char **fields, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        fields[i] = s;
        if (i < n - 1 && s) {
            char *nl = strchr(s, '\n');
            if (nl) {
                *nl = '\0';
                s = nl + 1;
            }
            else {
                s = s + strlen(s);
            }
        }
    }
}

#endif
