/* The CA certificates an https upstream is verified against: each CA file
 * parsed once per process into one X509_STORE that every connection shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/err.h>

#include "zddc_upstream_int.h"

typedef struct ca_entry {
    char *file;                 /* may be NULL */
    char *dir;                  /* hashed directory, may be NULL */
    X509_STORE *store;
    struct ca_entry *next;
} ca_entry;

/* The stores of this process, never freed: a handful (one per distinct
 * CA file), kept for the life of the process like the share handle. A
 * child does not use the parent's: it drops the list and loads its own. */
static pthread_mutex_t ca_lock = PTHREAD_MUTEX_INITIALIZER;
static ca_entry *ca_list;
static pid_t ca_pid;

int zddc_up_ca_available(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return OpenSSL_version_num() >= 0x30000000UL;
#else
    return 0;
#endif
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void ca_error(char *err, apr_size_t n, const char *what,
                     const char *path)
{
    /* the first error queued is the cause, the later ones wrap it */
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    char why[256];

    if (!e) {
        snprintf(why, sizeof(why), "no certificate found");
    }
    else if (ERR_GET_LIB(e) == ERR_LIB_SYS) {
        snprintf(why, sizeof(why), "%s", strerror(ERR_GET_REASON(e)));
    }
    else if (reason) {
        snprintf(why, sizeof(why), "%s", reason);
    }
    else {
        ERR_error_string_n(e, why, sizeof(why));
    }
    snprintf(err, n, "cannot load the CA certificates of %s %s: %s", what,
             path, why);
}

static X509_STORE *ca_load(const char *file, const char *dir, char *err,
                           apr_size_t n)
{
    X509_STORE *st = X509_STORE_new();
    int good = st != NULL;

    ERR_clear_error();
    if (!good) {
        snprintf(err, n, "cannot load CA certificates: out of memory");
    }
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    else if (file && !X509_STORE_load_file(st, file)) {
        ca_error(err, n, "file", file);
        good = 0;
    }
    else if (dir && !X509_STORE_load_path(st, dir)) {
        ca_error(err, n, "directory", dir);
        good = 0;
    }
#else
    else {
        snprintf(err, n, "cannot load CA certificates: OpenSSL before 3.0");
        good = 0;
    }
#endif
    ERR_clear_error();
    if (!good) {
        X509_STORE_free(st);
        return NULL;
    }
    /* what libcurl sets on a store it fills itself */
    X509_STORE_set_flags(st, X509_V_FLAG_TRUSTED_FIRST
                             | X509_V_FLAG_PARTIAL_CHAIN);
    return st;
}

/* This process's store for (file, dir), parsed on first use. A file that
 * fails is not remembered: the next connection tries it again. */
static X509_STORE *ca_store(const char *file, const char *dir, char *err,
                            apr_size_t n)
{
    pid_t me = getpid();
    X509_STORE *st = NULL;
    ca_entry *e;

    pthread_mutex_lock(&ca_lock);
    if (ca_pid != me) {
        ca_list = NULL;
        ca_pid = me;
    }
    for (e = ca_list; e; e = e->next) {
        if (same(e->file, file) && same(e->dir, dir)) {
            st = e->store;
            break;
        }
    }
    if (!st && (st = ca_load(file, dir, err, n))) {
        e = calloc(1, sizeof(*e));
        if (!e || (file && !(e->file = strdup(file)))
            || (dir && !(e->dir = strdup(dir)))) {
            if (e) {
                free(e->file);
                free(e->dir);
                free(e);
            }
            X509_STORE_free(st);
            st = NULL;
            snprintf(err, n, "cannot keep the CA store: out of memory");
        }
        else {
            e->store = st;
            e->next = ca_list;
            ca_list = e;
        }
    }
    pthread_mutex_unlock(&ca_lock);
    return st;
}

/* The connection verifies the master with the shared store: it becomes
 * the SSL_CTX's verify store (refcounted), which OpenSSL consults instead
 * of the context's own certificate store. libcurl still fills that one
 * (flags only, no CA file given), so the shared store is never written. */
int zddc_up_ca_attach(void *ssl_ctx, const char *file, const char *dir,
                      char *err, apr_size_t n)
{
    X509_STORE *st = ca_store(file, dir, err, n);

    if (!st) {
        return 0;
    }
    if (!SSL_CTX_set1_verify_cert_store((SSL_CTX *)ssl_ctx, st)) {
        snprintf(err, n, "cannot use the CA store for this connection");
        return 0;
    }
    return 1;
}
