/* Unit tests for the cache-root checks: one scope per root, no root inside
 * another, and a root the server's User can use (SPEC §4, issue 8). */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "zddc_rootcheck.h"

static apr_array_header_t *scopes(apr_pool_t *p)
{
    return apr_array_make(p, 4, sizeof(zddc_root_scope));
}

static void add(apr_array_header_t *a, const char *host, const char *root,
                const char *up, const char *bearer)
{
    zddc_root_scope *s = apr_array_push(a);
    s->host = host;
    s->root = root;
    s->upstream = up;
    s->bearer = bearer;
}

static int has(const char *msg, const char *what)
{
    return msg && strstr(msg, what) != NULL;
}

int main(void)
{
    apr_pool_t *p;
    apr_array_header_t *a;
    const char *e;
    char tmpl[] = "/tmp/zddc-rootcheck-XXXXXX";
    char *dir;
    FILE *f;

    apr_initialize();
    apr_pool_create(&p, NULL);

    a = scopes(p);
    add(a, "a:80", "/srv/cache/a", "https://m", "tokA");
    add(a, "b:80", "/srv/cache/b", "https://m", "tokB");
    ok(zddc_rootcheck_scopes(p, a) == NULL, "separate roots pass");

    a = scopes(p);
    add(a, "docs:80", "/srv/cache", "https://m", "tok");
    add(a, "docs:443", "/srv/cache", "https://m", "tok");
    ok(zddc_rootcheck_scopes(p, a) == NULL,
       "the :80/:443 pair of one site may share a root");

    a = scopes(p);
    add(a, "vendorA:80", "/srv/cache", "https://m", "tokA");
    add(a, "vendorB:80", "/srv/cache", "https://m", "tokB");
    e = zddc_rootcheck_scopes(p, a);
    ok(has(e, "vendorA:80") && has(e, "vendorB:80"),
       "a shared root with two tokens is refused naming both hosts");
    ok(has(e, "bearer") && !has(e, "tokA") && !has(e, "tokB"),
       "the message says 'bearer' and never shows a token");

    a = scopes(p);
    add(a, "a:80", "/srv/cache", "https://m1", "tok");
    add(a, "b:80", "/srv/cache", "https://m2", "tok");
    ok(has(zddc_rootcheck_scopes(p, a), "upstream"),
       "a shared root with two upstreams is refused");

    a = scopes(p);
    add(a, "a:80", "/srv/cache", "https://m", NULL);
    add(a, "b:80", "/srv/cache", "https://m", "tok");
    ok(zddc_rootcheck_scopes(p, a) != NULL,
       "a shared root with and without a token is refused");

    a = scopes(p);
    add(a, "outer:80", "/srv/cache", "https://m", "tok");
    add(a, "inner:80", "/srv/cache/inner", "https://m", "tok");
    e = zddc_rootcheck_scopes(p, a);
    ok(has(e, "outer:80") && has(e, "inner:80") && has(e, "inside"),
       "a root inside another is refused, even with the same scope");

    a = scopes(p);
    add(a, "a:80", "/srv/cache", "https://m", "tok");
    add(a, "b:80", "/srv/cache-b", "https://m", "tok2");
    ok(zddc_rootcheck_scopes(p, a) == NULL,
       "'/srv/cache-b' is not inside '/srv/cache'");

    dir = mkdtemp(tmpl);
    ok(dir != NULL, "temp dir");
    ok(zddc_rootcheck_usable(p, dir, NULL, (apr_uid_t)-1, (apr_gid_t)-1)
       == NULL, "an empty writable directory is usable");
    ok(zddc_rootcheck_usable(p, apr_pstrcat(p, dir, "/new/root", NULL), NULL,
                             (apr_uid_t)-1, (apr_gid_t)-1) == NULL,
       "a missing root under a reachable directory is usable");
    f = fopen(apr_pstrcat(p, dir, "/someone-elses.txt", NULL), "w");
    fclose(f);
    e = zddc_rootcheck_usable(p, dir, NULL, (apr_uid_t)-1, (apr_gid_t)-1);
    ok(has(e, "not empty") && has(e, ".zddc-cache"),
       "a non-empty root without the marker is refused");
    f = fopen(apr_pstrcat(p, dir, "/.zddc-cache", NULL), "w");
    fclose(f);
    ok(zddc_rootcheck_usable(p, dir, NULL, (apr_uid_t)-1, (apr_gid_t)-1)
       == NULL, "with the marker it is a mirror tree");
    e = zddc_rootcheck_usable(p, apr_pstrcat(p, dir, "/someone-elses.txt",
                                             NULL), NULL, (apr_uid_t)-1,
                              (apr_gid_t)-1);
    ok(has(e, "not a directory"), "a file is not a root");
    unlink(apr_pstrcat(p, dir, "/someone-elses.txt", NULL));
    if (geteuid() == 0) {
        chmod(dir, 0755);
        f = fopen(apr_pstrcat(p, dir, "/someone-elses.txt", NULL), "w");
        fclose(f);
        e = zddc_rootcheck_usable(p, dir, "nobody", 65534, 65534);
        ok(has(e, "cannot create files") && has(e, "nobody"),
           "a root-owned 0755 mirror tree is refused for User nobody");
        unlink(apr_pstrcat(p, dir, "/someone-elses.txt", NULL));
        unlink(apr_pstrcat(p, dir, "/.zddc-cache", NULL));
        ok(zddc_rootcheck_usable(p, dir, "nobody", 65534, 65534) == NULL,
           "an empty root-owned root is adopted (given to User at start)");
        chmod(dir, 0700);
        e = zddc_rootcheck_usable(p, apr_pstrcat(p, dir, "/sub", NULL),
                                  "nobody", 65534, 65534);
        ok(has(e, "cannot reach"),
           "a missing root under a 0700 root-owned directory is refused");
        ok(chown(dir, 65534, 65534) == 0
           && zddc_rootcheck_usable(p, dir, "nobody", 65534, 65534) == NULL,
           "once owned by nobody it is usable");
    }
    unlink(apr_pstrcat(p, dir, "/someone-elses.txt", NULL));
    unlink(apr_pstrcat(p, dir, "/.zddc-cache", NULL));
    rmdir(dir);

    apr_pool_destroy(p);
    apr_terminate();
    return done();
}
