/* Unit test of zddc_upstream_ca.c: one parsed store per CA file per process,
 * shared by every SSL_CTX, failures reported with the file and not kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <apr_general.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tap.h"
#include "zddc_upstream_int.h"

static char dir[] = "/tmp/zddc-unit-ca-XXXXXX";

static const char *path_of(const char *name)
{
    static char buf[4][512];
    static int k;

    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int make_ca(const char *name)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=zddc-unit "
             "-keyout %s.key -out %s >/dev/null 2>&1", path_of(name),
             path_of(name));
    return system(cmd) == 0;
}

static X509_STORE *verify_store(SSL_CTX *ctx)
{
    X509_STORE *st = NULL;

    SSL_CTX_get0_verify_cert_store(ctx, &st);
    return st;
}

int main(void)
{
    char err[256];
    SSL_CTX *a, *b, *c, *d;
    X509_STORE *st;
    const char *ca, *bad;
    pid_t pid;
    int status = -1;

    apr_initialize();
    plan(16);
    if (!mkdtemp(dir) || !make_ca("ca.pem")) {
        printf("Bail out! cannot make a CA with the openssl tool in %s\n", dir);
        return 1;
    }
    ca = path_of("ca.pem");
    bad = path_of("bad.pem");
    ok(zddc_up_ca_available(), "OpenSSL 3 is linked");

    a = SSL_CTX_new(TLS_client_method());
    b = SSL_CTX_new(TLS_client_method());
    c = SSL_CTX_new(TLS_client_method());
    d = SSL_CTX_new(TLS_client_method());
    ok(zddc_up_ca_attach(a, ca, NULL, err, sizeof(err)), "attach: a CA file");
    ok(zddc_up_ca_attach(b, ca, NULL, err, sizeof(err)),
       "attach: the same file to a second context");
    st = verify_store(a);
    ok(st != NULL && st == verify_store(b),
       "both contexts verify with one store");
    is_int(st ? sk_X509_OBJECT_num(X509_STORE_get0_objects(st)) : -1, 1,
           "the store holds the file's one certificate");
    ok(st && (X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(st))
              & X509_V_FLAG_PARTIAL_CHAIN),
       "the store has libcurl's flags (partial chains)");

    /* parsed once: the file is not read again for the next context */
    write_file(ca, "no longer a certificate\n");
    ok(zddc_up_ca_attach(c, ca, NULL, err, sizeof(err))
       && verify_store(c) == st,
       "a later context gets the parsed store, the file is not read again");

    /* a child process parses for itself */
    pid = fork();
    if (pid == 0) {
        SSL_CTX *x = SSL_CTX_new(TLS_client_method());
        _exit(zddc_up_ca_attach(x, ca, NULL, err, sizeof(err)) ? 0 : 3);
    }
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 3,
       "a forked child loads its own store (and sees the file as it is now)");

    write_file(bad, "-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
               "-----END CERTIFICATE-----\n");
    err[0] = '\0';
    ok(!zddc_up_ca_attach(d, bad, NULL, err, sizeof(err)),
       "a file that is not PEM fails");
    ok(strstr(err, "cannot load the CA certificates of file") != NULL
       && strstr(err, bad) != NULL, "the error names the file");
    ok(verify_store(d) == NULL, "no store is set on failure");
    printf("# %s\n", err);

    err[0] = '\0';
    ok(!zddc_up_ca_attach(d, path_of("missing.pem"), NULL, err, sizeof(err)),
       "a missing file fails");
    ok(strstr(err, "missing.pem") != NULL
       && strstr(err, "No such file") != NULL,
       "the error names the file and says why");
    printf("# %s\n", err);

    /* failures are not remembered: a fixed file loads */
    ok(make_ca("bad.pem"), "the bad file is replaced by a CA");
    ok(zddc_up_ca_attach(d, bad, NULL, err, sizeof(err))
       && verify_store(d) != NULL && verify_store(d) != st,
       "the fixed file loads into a store of its own");
    ok(zddc_up_ca_attach(a, bad, "/nonexistent-dir", err, sizeof(err))
       && verify_store(a) != verify_store(d),
       "the same file with a directory is another store");

    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
    SSL_CTX_free(d);
    unlink(path_of("ca.pem"));
    unlink(path_of("ca.pem.key"));
    unlink(path_of("bad.pem"));
    unlink(path_of("bad.pem.key"));
    rmdir(dir);
    return done();
}
